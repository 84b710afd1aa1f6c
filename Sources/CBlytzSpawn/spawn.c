#define _GNU_SOURCE
#include "CBlytzSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t blytz_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid > 0) {
        return pid;
    }
    /* Child: only async-signal-safe calls from here to execve. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
    }
    if (output_fd >= 0) {
        dup2(output_fd, 1);
        dup2(output_fd, 2);
    }
    /* Close every other descriptor so workers hold no listening sockets or pipes of the runner. */
    for (int fd = 3; fd < 1024; fd++) {
        close(fd);
    }
    if (cwd != NULL && chdir(cwd) != 0) {
        _exit(127);
    }
    execve(path, argv, envp);
    _exit(127);
}

int blytz_kill_group(pid_t pid, int sig) {
    if (kill(-pid, sig) == 0) {
        return 0;
    }
    return kill(pid, sig) == 0 ? 0 : -errno;
}

int blytz_wait(pid_t pid) {
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, 0);
        if (r == pid) {
            return status;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

int blytz_exited(pid_t pid, int *status) {
    siginfo_t info;
    info.si_pid = 0;
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
            break;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
    if (info.si_pid != pid) {
        return 0;
    }
    *status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
    return 1;
}

int blytz_exit_code(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}
