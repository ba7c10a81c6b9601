#ifndef FLAME_SHIMS_H
#define FLAME_SHIMS_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/epoll.h>  /* ProcessReaper: Glibc's module map leaves epoll out */

/// Asks the kernel to send `signal` to this process when the thread that spawned it exits.
/// Returns 0 on success, -1 with errno set.
int flame_set_parent_death_signal(int signal);

/// Names the calling thread (prctl PR_SET_NAME; at most 15 bytes are kept), as `top -H`,
/// `ps -L` and /proc/self/task/N/comm show it. Returns 0 or -1 with errno.
int flame_set_thread_name(const char *name);

/// pidfd_open(2): a file descriptor that becomes readable when `pid` exits. -1 with errno.
int flame_pidfd_open(pid_t pid);

/// pipe2(fds, O_CLOEXEC). Returns 0 or -1 with errno.
int flame_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+, hidden from Swift without _GNU_SOURCE):
/// the spawned child starts in `path`. Returns 0 or an error number.
int flame_file_actions_addchdir(void *actions, const char *path);

/// The process environment (the C global `environ`, which Swift 6 cannot read directly).
char *const *flame_environ(void);

/// posix_spawn with the child's signal mask emptied, every signal reset to its default
/// disposition, the child placed in its own process group, and `count` (from, to) pairs of
/// file descriptors duplicated into the child. Returns 0 or an errno value.
int flame_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                const int *fd_from, const int *fd_to, int count);

/// Makes stdout line-buffered (it is a pipe in a runner, so block-buffered by default, and
/// lines would reach the parent late or only at exit).
void flame_line_buffer_stdout(void);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC).
int flame_accept_cloexec(int fd);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).
int flame_eventfd(void);


/// `struct ucred`, the uid and pid of a Unix socket's peer (SO_PEERCRED's value), under a
/// name Swift sees without _GNU_SOURCE: for swift-nio's `unsafeGetSocketOption`, which reads
/// the option into a value of this type (the layout is checked in flame_shims.c).
typedef struct flame_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} flame_ucred;

/// Sets process `pid`'s soft limit on open descriptors (prlimit(2), RLIMIT_NOFILE), keeping
/// its hard limit. Returns 0 or -1 with errno.
int flame_set_descriptor_soft_limit(pid_t pid, unsigned long long soft);

/// The GNU build ID (NT_GNU_BUILD_ID note) of this process's main executable, read from its
/// loaded image (no file I/O: right even when the file was replaced since). Copies at most
/// `capacity` bytes to `out`; returns the ID's length, or -1 when the image has none.
int flame_own_build_id(unsigned char *out, int capacity);

/// The GNU build ID of the ELF executable at `path` (its PT_NOTE segments). Returns the
/// length (at most `capacity` bytes copied) or -1 when the file is unreadable, not an ELF
/// executable of this machine's class, or has no build ID.
int flame_file_build_id(const char *path, unsigned char *out, int capacity);

#endif
