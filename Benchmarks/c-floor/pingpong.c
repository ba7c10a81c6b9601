/* The floor: what the kernel allows for one round trip of a small frame between two
 * processes over a Unix socketpair, measured the same way flame-bench measures a call. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    int size = 64;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;
    pid_t pid = fork();
    char buf[64];
    memset(buf, 1, sizeof buf);
    if (pid == 0) {
        close(fds[0]);
        while (full(fds[1], buf, size, 0) == 0 && full(fds[1], buf, size, 1) == 0) {}
        _exit(0);
    }
    close(fds[1]);
    long *samples = malloc(sizeof(long) * rounds);
    for (int i = 0; i < 2000; i++) { full(fds[0], buf, size, 1); full(fds[0], buf, size, 0); }
    for (int i = 0; i < rounds; i++) {
        long start = now_ns();
        full(fds[0], buf, size, 1);
        full(fds[0], buf, size, 0);
        samples[i] = now_ns() - start;
    }
    close(fds[0]);
    waitpid(pid, NULL, 0);
    qsort(samples, rounds, sizeof(long), compare);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f}\n", samples[rounds / 2] / 1000.0, samples[rounds * 99 / 100] / 1000.0);
    return 0;
}
