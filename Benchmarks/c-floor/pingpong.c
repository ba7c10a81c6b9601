/* The floor: what the kernel allows between processes over Unix socketpairs, measured the
 * way flame-bench measures a call, so every flame figure has a same-run C counterpart.
 *
 *   pingpong rtt [ROUNDS]   one 64-byte frame there and back, one at a time: p50/p99 µs
 *   pingpong throughput     2 children, 64 frames in flight (32 each), 3 s: frames/s
 *   pingpong cold_boot      posix_spawn a child (this binary), it answers one frame: p50 ms
 *   pingpong payload        1 MiB there, 8 bytes back: p50 ms
 *   pingpong rss            a child waiting for work: its RSS in MB
 *   pingpong rtt_tcp, throughput_tcp   the same over a TCP loopback connection (TCP_NODELAY)
 * Each prints one JSON object. */
#define _GNU_SOURCE
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { FRAME = 64, PAYLOAD = 1 << 20 };

static int compare(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int full(int fd, char *buf, size_t n, int writing) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = writing ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

/* A worker: reads `in` bytes, answers `out` bytes, until EOF. */
static void serve(int fd, size_t in, size_t out) {
    char *buf = malloc(in > out ? in : out);
    memset(buf, 1, in > out ? in : out);
    while (full(fd, buf, in, 0) == 0 && full(fd, buf, out, 1) == 0) {}
    _exit(0);
}

static int use_tcp = 0;

/* A connected pair: a socketpair, or (use_tcp) both ends of a TCP loopback connection. */
static void connected_pair(int fds[2]) {
    if (!use_tcp) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) exit(1);
        return;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 1) ||
        getsockname(listener, (struct sockaddr *)&address, &length)) exit(1);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fds[0], (struct sockaddr *)&address, sizeof address)) exit(1);
    fds[1] = accept(listener, NULL, NULL);
    close(listener);
    setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static pid_t worker(int *fd, size_t in, size_t out) {
    int fds[2];
    connected_pair(fds);
    pid_t pid = fork();
    if (pid == 0) { /* keep only its own end: another worker's would hold that one open */
        for (int other = 3; other < 256; other++)
            if (other != fds[1]) close(other);
        serve(fds[1], in, out);
    }
    close(fds[1]);
    *fd = fds[0];
    return pid;
}

static void finish(int fd, pid_t pid) {
    close(fd);
    waitpid(pid, NULL, 0);
}

static double percentile(long *samples, int n, double p) {
    qsort(samples, n, sizeof(long), compare);
    int index = (int)(n * p);
    return samples[index < n ? index : n - 1];
}

static void rtt(int rounds) {
    int fd;
    pid_t pid = worker(&fd, FRAME, FRAME);
    char buf[FRAME];
    memset(buf, 1, sizeof buf);
    long *samples = malloc(sizeof(long) * rounds);
    for (int i = 0; i < 2000; i++) { full(fd, buf, FRAME, 1); full(fd, buf, FRAME, 0); }
    for (int i = 0; i < rounds; i++) {
        long start = now_ns();
        full(fd, buf, FRAME, 1);
        full(fd, buf, FRAME, 0);
        samples[i] = now_ns() - start;
    }
    finish(fd, pid);
    double p50 = percentile(samples, rounds, 0.5), p99 = percentile(samples, rounds, 0.99);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f}\n", p50 / 1000.0, p99 / 1000.0);
}

static void throughput(void) {
    int fds[2];
    pid_t pids[2];
    char buf[FRAME * 32];
    memset(buf, 1, sizeof buf);
    for (int w = 0; w < 2; w++) {
        pids[w] = worker(&fds[w], FRAME, FRAME);
        full(fds[w], buf, FRAME * 32, 1); /* 32 in flight on each */
    }
    long count = 0, deadline = now_ns() + 3000000000L;
    struct pollfd entries[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    while (now_ns() < deadline) {
        if (poll(entries, 2, 100) <= 0) continue;
        for (int w = 0; w < 2; w++) {
            if (!(entries[w].revents & POLLIN)) continue;
            ssize_t r = read(fds[w], buf, sizeof buf); /* whatever answers have arrived */
            if (r <= 0) continue;
            /* Only whole frames count; a partial one is completed before replying. */
            size_t rest = (size_t)r % FRAME;
            if (rest) full(fds[w], buf + r, FRAME - rest, 0);
            long frames = (r + FRAME - 1) / FRAME;
            count += frames;
            full(fds[w], buf, (size_t)frames * FRAME, 1);
        }
    }
    for (int w = 0; w < 2; w++) finish(fds[w], pids[w]);
    printf("{\"calls_per_s\": %.0f}\n", count / 3.0);
}

static void cold_boot(const char *self) {
    enum { ROUNDS = 30 };
    long samples[ROUNDS];
    char buf[FRAME];
    memset(buf, 1, sizeof buf);
    for (int i = 0; i < ROUNDS; i++) {
        long start = now_ns();
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) exit(1);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
        char *argv[] = {(char *)self, "serve", NULL};
        pid_t pid;
        if (posix_spawn(&pid, self, &actions, NULL, argv, environ) != 0) exit(1);
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        full(fds[0], buf, FRAME, 1);
        full(fds[0], buf, FRAME, 0);
        samples[i] = now_ns() - start;
        finish(fds[0], pid);
    }
    printf("{\"p50_ms\": %.3f}\n", percentile(samples, ROUNDS, 0.5) / 1e6);
}

static void payload(void) {
    enum { ROUNDS = 50 };
    int fd;
    pid_t pid = worker(&fd, PAYLOAD, 8);
    char *buf = malloc(PAYLOAD);
    memset(buf, 1, PAYLOAD);
    long samples[ROUNDS];
    for (int i = 0; i < ROUNDS + 5; i++) {
        long start = now_ns();
        full(fd, buf, PAYLOAD, 1);
        full(fd, buf, 8, 0);
        if (i >= 5) samples[i - 5] = now_ns() - start;
    }
    finish(fd, pid);
    printf("{\"p50_ms\": %.3f}\n", percentile(samples, ROUNDS, 0.5) / 1e6);
}

static void rss(void) {
    int fd;
    pid_t pid = worker(&fd, FRAME, FRAME);
    char buf[FRAME];
    memset(buf, 1, sizeof buf);
    full(fd, buf, FRAME, 1);
    full(fd, buf, FRAME, 0);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *status = fopen(path, "r");
    long kb = 0;
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (status) fclose(status);
    finish(fd, pid);
    printf("{\"mb\": %.2f}\n", kb / 1024.0);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "rtt";
    if (!strcmp(mode, "serve")) serve(3, FRAME, FRAME);
    else if (!strcmp(mode, "rtt")) rtt(argc > 2 ? atoi(argv[2]) : 20000);
    else if (!strcmp(mode, "throughput")) throughput();
    else if (!strcmp(mode, "cold_boot")) cold_boot("/proc/self/exe");
    else if (!strcmp(mode, "payload")) payload();
    else if (!strcmp(mode, "rss")) rss();
    else if (!strcmp(mode, "rtt_tcp")) { use_tcp = 1; rtt(argc > 2 ? atoi(argv[2]) : 20000); }
    else if (!strcmp(mode, "throughput_tcp")) { use_tcp = 1; throughput(); }
    else {
        fprintf(stderr, "usage: pingpong rtt [ROUNDS] | throughput | cold_boot | payload | rss | rtt_tcp [ROUNDS] | throughput_tcp\n");
        return 2;
    }
    return 0;
}
