#ifndef FLAME_CNCURSES_SHIM_H
#define FLAME_CNCURSES_SHIM_H

// SwiftPM drops pkg-config's -D flags, and without these the wide-character API is not
// declared (seen with Swift 6.3.1 and Debian 12's ncurses 6.4: no get_wch, no cchar_t).
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <ncursesw/curses.h>

// Globals and macros Swift 6 cannot read or import, as functions.
static inline WINDOW *flame_stdscr(void) { return stdscr; }
static inline int flame_lines(void) { return LINES; }
static inline int flame_cols(void) { return COLS; }
static inline int flame_colors(void) { return COLORS; }
/// Whether the terminal takes colours as 24-bit RGB numbers (terminfo's RGB flag).
static inline int flame_direct_color(void) { return tigetflag("RGB") > 0 || COLORS >= 0x1000000; }
static inline int flame_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t flame_a_bold(void) { return A_BOLD; }
static inline attr_t flame_a_dim(void) { return A_DIM; }
static inline attr_t flame_a_reverse(void) { return A_REVERSE; }
static inline attr_t flame_a_underline(void) { return A_UNDERLINE; }
static inline int flame_key_resize(void) { return KEY_RESIZE; }
static inline int flame_key_mouse(void) { return KEY_MOUSE; }

/// Reports button-1 clicks as KEY_MOUSE (no drag or motion events).
static inline void flame_enable_mouse(void) {
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    mouseinterval(0);
}

/// After KEY_MOUSE: the cell of a button-1 click or press; 0 when it was something else.
static inline int flame_read_click(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    if (!(event.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))) return 0;
    *x = event.x;
    *y = event.y;
    return 1;
}

/// Sets the locale from the environment and says whether it is UTF-8.
static inline int flame_setlocale_utf8(void) {
    setlocale(LC_ALL, "");
    const char *codeset = nl_langinfo(CODESET);
    return codeset && (codeset[0] == 'U' || codeset[0] == 'u') && (codeset[1] == 'T' || codeset[1] == 't');
}

/// Draws one character (a UTF-8 string of one grapheme) with attributes and a colour pair.
static inline void flame_put(int y, int x, const char *utf8, attr_t attributes, short pair) {
    wchar_t wide[8] = {0};
    mbstowcs(wide, utf8, 7);
    cchar_t cell;
    setcchar(&cell, wide, attributes, pair, NULL);
    mvadd_wch(y, x, &cell);
}

#endif
