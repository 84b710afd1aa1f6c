#ifndef CBLYTZ_SPAWN_H
#define CBLYTZ_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv`/`envp` in `cwd` (may be NULL), its stdout and stderr on `output_fd`,
/// stdin from /dev/null, in a process group of its own, with SIGKILL as its parent-death signal
/// (so no worker outlives the runner, even a runner killed with SIGKILL).
/// Returns the child's pid, or -errno when the fork failed. An exec failure exits the child with 127.
pid_t blytz_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd);

/// Sends `sig` to the process group led by `pid` (the worker and anything it started).
int blytz_kill_group(pid_t pid, int sig);

/// Waits for `pid` to exit and returns its raw wait status, or -errno.
int blytz_wait(pid_t pid);

/// Whether child `pid` has exited, without reaping it (its status stays for whoever waits on it):
/// 1 with `*status` its raw wait status, 0 while it runs, or -errno (-ECHILD once it was reaped).
int blytz_exited(pid_t pid, int *status);

/// The exit code of a wait status: the code itself, or 128 + the signal number.
int blytz_exit_code(int status);

#endif
