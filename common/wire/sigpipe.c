/* sigpipe.c: the self-pipe for SIGTERM and SIGINT (see sigpipe.h). */
#include "sigpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int g_pipe[2] = {-1, -1};
static volatile sig_atomic_t g_count, g_hup;

int im_pipe_open(int fds[2])
{
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
            int saved = errno;
            close(fds[0]);
            close(fds[1]);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

void im_pipe_drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP)
        g_hup++;
    else
        g_count++;
    if (write(g_pipe[1], "s", 1) < 0) { /* the pipe is full: a wake-up is pending anyway */
    }
    errno = saved;
}

int im_sigpipe_install(void)
{
    if (im_pipe_open(g_pipe) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return g_pipe[0];
}

int im_sigpipe_count(void)
{
    return (int)g_count;
}

int im_sigpipe_catch_hup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGHUP, &sa, NULL);
}

int im_sigpipe_hup_count(void)
{
    return (int)g_hup;
}
