#define _GNU_SOURCE
#include "flame_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
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

int flame_peer_credentials(int fd, uid_t *uid, pid_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    *pid = credentials.pid;
    return 0;
}

void flame_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}
