#define _GNU_SOURCE
#include "flame_shims.h"

#include <elf.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int flame_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

int flame_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

int flame_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int flame_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int flame_file_actions_addchdir(void *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np((posix_spawn_file_actions_t *)actions, path);
}

char *const *flame_environ(void) {
    return environ;
}

int flame_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                const int *fd_from, const int *fd_to, int count) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return result;
    }
    int lowest_unmapped = 3;
    for (int i = 0; i < count && result == 0; i++) {
        result = posix_spawn_file_actions_adddup2(&actions, fd_from[i], fd_to[i]);
        if (fd_to[i] + 1 > lowest_unmapped) lowest_unmapped = fd_to[i] + 1;
    }
    /* Nothing but the mapped descriptors: swift-nio accepts connections without
     * SOCK_CLOEXEC, so without this every runner inherited the parent's accepted runner
     * connections (and held them open after the parent closed them). */
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, lowest_unmapped);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &empty);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &all);
    if (result == 0) result = posix_spawnattr_setpgroup(&attributes, 0);
    if (result == 0) {
        result = posix_spawnattr_setflags(
            &attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    }
    if (result == 0) result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return result;
}

int flame_accept_cloexec(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

int flame_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

_Static_assert(sizeof(flame_ucred) == sizeof(struct ucred), "flame_ucred must be struct ucred's layout");
_Static_assert(offsetof(flame_ucred, uid) == offsetof(struct ucred, uid), "flame_ucred must be struct ucred's layout");


void flame_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

int flame_set_descriptor_soft_limit(pid_t pid, unsigned long long soft) {
    struct rlimit limit;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &limit) != 0) return -1;
    limit.rlim_cur = (rlim_t)soft;
    return prlimit(pid, RLIMIT_NOFILE, &limit, NULL);
}

/* ---- ELF build ID (NT_GNU_BUILD_ID) ---------------------------------------------------- */

#if __SIZEOF_POINTER__ == 8
#define FLAME_ELF_CLASS ELFCLASS64
#else
#define FLAME_ELF_CLASS ELFCLASS32
#endif

/* Copies the descriptor of the first GNU build-ID note in [notes, notes + size) (a PT_NOTE
   segment whose notes are padded to `align`: 4, or 8 for some) to `out`. Returns its length
   (at most `capacity` bytes are copied) or -1 when there is none. */
static int flame_find_build_id(const unsigned char *notes, size_t size, size_t align, unsigned char *out, int capacity) {
    size_t pad = align == 8 ? 7 : 3;
    size_t offset = 0;
    while (offset + sizeof(ElfW(Nhdr)) <= size) {
        ElfW(Nhdr) header;
        memcpy(&header, notes + offset, sizeof header);
        const ElfW(Nhdr) *note = &header;
        if (note->n_namesz > size || note->n_descsz > size) return -1;  /* also keeps the sums below from wrapping */
        size_t name_size = ((size_t)note->n_namesz + pad) & ~pad;
        size_t desc_size = ((size_t)note->n_descsz + pad) & ~pad;
        size_t name_at = offset + sizeof(ElfW(Nhdr));
        size_t desc_at = name_at + name_size;
        if (desc_at > size || note->n_descsz > size - desc_at) return -1;
        if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(notes + name_at, "GNU", 4) == 0) {
            int length = (int)note->n_descsz;
            memcpy(out, notes + desc_at, (size_t)(length < capacity ? length : capacity));
            return length;
        }
        offset = desc_at + desc_size;
    }
    return -1;
}

struct flame_build_id_search { unsigned char *out; int capacity; int length; };

static int flame_build_id_of_main_image(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct flame_build_id_search *search = data;
    if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') return 0; /* not the main program: go on */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_NOTE) continue;
        const unsigned char *notes = (const unsigned char *)(info->dlpi_addr + header->p_vaddr);
        search->length = flame_find_build_id(notes, header->p_memsz, header->p_align, search->out, search->capacity);
        if (search->length >= 0) break;
    }
    return 1; /* the main program (glibc reports it first, named ""): stop there */
}

int flame_own_build_id(unsigned char *out, int capacity) {
    struct flame_build_id_search search = { out, capacity, -1 };
    dl_iterate_phdr(flame_build_id_of_main_image, &search);
    return search.length;
}

int flame_file_build_id(const char *path, unsigned char *out, int capacity) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int length = -1;
    ElfW(Ehdr) header;
    if (pread(fd, &header, sizeof header, 0) == (ssize_t)sizeof header
        && memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == FLAME_ELF_CLASS
        && header.e_phentsize == sizeof(ElfW(Phdr)) && header.e_phnum > 0 && header.e_phnum < 4096) {
        for (int i = 0; i < header.e_phnum && length < 0; i++) {
            ElfW(Phdr) program;
            off_t at = (off_t)header.e_phoff + (off_t)i * (off_t)sizeof program;
            if (pread(fd, &program, sizeof program, at) != (ssize_t)sizeof program) break;
            if (program.p_type != PT_NOTE || program.p_filesz == 0 || program.p_filesz > 65536) continue;
            unsigned char *notes = malloc(program.p_filesz);
            if (notes == NULL) break;
            if (pread(fd, notes, program.p_filesz, (off_t)program.p_offset) == (ssize_t)program.p_filesz) {
                length = flame_find_build_id(notes, program.p_filesz, program.p_align, out, capacity);
            }
            free(notes);
        }
    }
    close(fd);
    return length;
}
