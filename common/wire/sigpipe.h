/*
 * sigpipe.h: the self-pipe through which SIGTERM and SIGINT reach a daemon's
 * poll loop. The handler only counts the signal and writes one byte to the
 * pipe; the loop polls the pipe's read end, drains it and looks at the count.
 * A full pipe drops the byte: a wake-up is pending anyway. POSIX only (no
 * ZeroMQ); one self-pipe per process.
 */
#ifndef IM_SIGPIPE_H
#define IM_SIGPIPE_H

/* Create a pipe with both ends non-blocking and close-on-exec, into fds.
 * Returns 0, or -1 with errno set (no descriptors left open). */
int im_pipe_open(int fds[2]);

/* Read and discard whatever is waiting on the non-blocking descriptor fd. */
void im_pipe_drain(int fd);

/* Create the self-pipe, route SIGTERM and SIGINT to it and ignore SIGPIPE.
 * Returns the read end for the poll loop, or -1 with errno set (no handler
 * installed). Not thread-safe: call once, from main(), before threads. */
int im_sigpipe_install(void);

/* How many SIGTERM or SIGINT arrived since im_sigpipe_install(). */
int im_sigpipe_count(void);

/* Route SIGHUP to the self-pipe as well (after im_sigpipe_install): it
 * wakes the loop without counting as a stop; im_sigpipe_hup_count() says
 * how many arrived. A daemon that re-reads something on SIGHUP calls this;
 * the others keep SIGHUP's default action. Not thread-safe: call once, from
 * main(). Returns 0, or -1 with errno set. */
int im_sigpipe_catch_hup(void);
int im_sigpipe_hup_count(void);

#endif /* IM_SIGPIPE_H */
