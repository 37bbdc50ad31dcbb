/*
 * backend_exec.c: the external-command backend ("exec"). For each trial the
 * worker's command (split by wk_exec_split, run with posix_spawnp, never
 * through a shell) runs in a process group of its own with three pipes:
 *
 *   stdin   one JSON object: {"trial", "attempt", "seed", "params", "user"},
 *           then end of file;
 *   stdout  JSON lines: a line with "epoch" is progress (an epoch of the
 *           curve, sent on as PROGRESS); the last JSON line is the result
 *           and holds the objective (the spec's "objective", default
 *           "val_acc") as a finite number. Other lines are ignored and kept
 *           in a 4 KiB tail;
 *   stderr  kept as its last 4 KiB, for the error of a failed trial.
 *
 * One poll loop in the calling thread reads both pipes and writes stdin
 * without blocking (no deadlock whatever the command does first), with a
 * 100 ms tick to look at the stop flag, the timeout and the child's exit.
 * Ending a run: SIGTERM to the group, SIGKILL WK_EXEC_GRACE_MS later. When
 * the command has exited, whatever it left running in its group is killed
 * before the command is reaped (the unreaped leader keeps the group's id
 * from being reused), so no orphan outlives the trial and no zombie is
 * left. Workload: one process per trial; the overhead is the spawn, a few
 * ms.
 */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WK_EXEC_GRACE_MS 2000      /* SIGTERM .. SIGKILL */
#define WK_EXEC_DRAIN_MS 1000      /* reading what is left after the exit */
#define WK_EXEC_TICK_MS  100       /* stop flag, timeout and exit checks */
#define WK_EXEC_TAIL     4096      /* bytes of stderr (and of non-JSON stdout) kept */
#define WK_EXEC_LINE_MAX (1 << 20) /* a longer stdout line is dropped */
#define WK_EXEC_WORDS    4096      /* most words of a command */

/* ---------- splitting the command ---------- */

void wk_exec_argv_free(char ***argv)
{
    if (!argv || !*argv) return;
    for (char **p = *argv; *p; p++) free(*p);
    free(*argv);
    *argv = NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

int wk_exec_split(const char *line, char ***argv_out, im_error *err)
{
    *argv_out = NULL;
    size_t len = strlen(line);
    char **argv = im_xcalloc(WK_EXEC_WORDS + 1, sizeof *argv);
    char *word = im_xmalloc(len + 1);
    int n = 0, rc = 0;
    const char *p = line;
    for (;;) {
        while (is_blank(*p)) p++;
        if (!*p) break;
        size_t w = 0;
        while (*p && !is_blank(*p)) {
            if (*p == '\'') {
                const char *end = strchr(p + 1, '\'');
                if (!end) {
                    rc = im_error_set(err, IM_EFORMAT, "exec: unterminated ' in the command");
                    goto out;
                }
                memcpy(word + w, p + 1, (size_t)(end - p - 1));
                w += (size_t)(end - p - 1);
                p = end + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
                        if (p[1] != '\n') word[w++] = p[1]; /* backslash-newline: removed */
                        p += 2;
                    } else {
                        word[w++] = *p++;
                    }
                }
                if (*p != '"') {
                    rc = im_error_set(err, IM_EFORMAT, "exec: unterminated \" in the command");
                    goto out;
                }
                p++;
            } else if (*p == '\\') {
                if (!p[1]) {
                    rc = im_error_set(err, IM_EFORMAT, "exec: the command ends with a backslash");
                    goto out;
                }
                if (p[1] != '\n') word[w++] = p[1];
                p += 2;
            } else {
                word[w++] = *p++;
            }
        }
        if (n == WK_EXEC_WORDS) {
            rc = im_error_set(err, IM_EFORMAT, "exec: the command has more than %d words",
                              WK_EXEC_WORDS);
            goto out;
        }
        word[w] = '\0';
        argv[n++] = im_xstrdup(word);
    }
    if (n == 0) rc = im_error_set(err, IM_EFORMAT, "exec: the command is empty");
out:
    free(word);
    if (rc) {
        wk_exec_argv_free(&argv);
        return rc;
    }
    *argv_out = argv;
    return 0;
}

/* ---------- one run ---------- */

/* The last WK_EXEC_TAIL bytes written to it. */
typedef struct tail {
    char buf[2 * WK_EXEC_TAIL];
    size_t len;
} tail;

static void tail_add(tail *t, const char *s, size_t n)
{
    if (n >= WK_EXEC_TAIL) {
        s += n - WK_EXEC_TAIL;
        n = WK_EXEC_TAIL;
    }
    if (t->len + n > sizeof t->buf) {
        size_t drop = t->len + n - WK_EXEC_TAIL;
        memmove(t->buf, t->buf + drop, t->len - drop);
        t->len -= drop;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

/* The tail as text (at most WK_EXEC_TAIL bytes, trailing newlines off). */
static const char *tail_text(tail *t)
{
    size_t off = t->len > WK_EXEC_TAIL ? t->len - WK_EXEC_TAIL : 0;
    size_t n = t->len - off;
    while (n && (t->buf[off + n - 1] == '\n' || t->buf[off + n - 1] == '\r')) n--;
    memmove(t->buf, t->buf + off, n);
    t->len = n;
    t->buf[n] = '\0';
    return t->buf;
}

typedef struct run {
    const wk_run_options *opt;
    const char *objective;
    pid_t pid;
    int fd_in, fd_out, fd_err; /* -1 once closed */
    const char *input;         /* stdin's text */
    size_t input_len, input_off;
    char *line; /* the stdout line being read */
    size_t line_len, line_cap;
    int line_dropped;      /* the current line is too long: skip to its end */
    json_t *last;          /* the last JSON object line, owned */
    int last_bad;          /* the last line that looked like JSON did not parse */
    char bad_msg[160];     /* why */
    im_epoch_stats *curve; /* [n_curve], the progress lines */
    double *curve_values;  /* [n_curve], their objective (NAN: none) */
    size_t n_curve, cap_curve;
    tail err_tail, out_tail;
    int stop_asked; /* the stop flag or the callback */
    int timed_out;  /* the limit ran out */
    double term_at; /* SIGTERM sent at (ms), 0 = not yet */
    int killed;     /* SIGKILL sent */
} run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* A fraction in [0, 1] from key of o, else NAN. */
static double fraction(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    return x >= 0 && x <= 1 ? x : NAN;
}

/* A progress line: an epoch of the curve, and the callback. */
static void on_progress(run *r, const json_t *o, json_int_t epoch)
{
    im_epoch_stats e;
    memset(&e, 0, sizeof e);
    e.epoch = epoch > INT32_MAX ? INT32_MAX : (int)epoch;
    e.train_acc = fraction(o, "train_acc");
    e.val_acc = fraction(o, "val_acc");
    e.test_acc = fraction(o, "test_acc");
    e.goal_hidden = e.goal_out = NAN;
    const json_t *s = json_object_get(o, "seconds");
    e.seconds = json_is_number(s) && json_number_value(s) >= 0 ? json_number_value(s) : NAN;
    const json_t *ov = json_object_get(o, r->objective);
    double value =
        json_is_number(ov) && isfinite(json_number_value(ov)) ? json_number_value(ov) : NAN;
    if (r->n_curve == r->cap_curve) {
        r->cap_curve = r->cap_curve ? 2 * r->cap_curve : 16;
        r->curve = im_xrealloc(r->curve, r->cap_curve * sizeof *r->curve);
        r->curve_values = im_xrealloc(r->curve_values, r->cap_curve * sizeof *r->curve_values);
    }
    r->curve_values[r->n_curve] = value;
    r->curve[r->n_curve++] = e;
    int stop = r->opt->on_epoch_value ? r->opt->on_epoch_value(&e, value, r->opt->user)
               : r->opt->on_epoch     ? r->opt->on_epoch(&e, r->opt->user)
                                      : 0;
    if (stop) r->stop_asked = 1;
}

/* One complete stdout line (NUL-terminated, newline removed). */
static void on_line(run *r, char *line, size_t len)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '{') {
        tail_add(&r->out_tail, line, len);
        tail_add(&r->out_tail, "\n", 1);
        return;
    }
    json_error_t jerr;
    json_t *o = json_loads(p, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        r->last_bad = 1;
        snprintf(r->bad_msg, sizeof r->bad_msg, "%.120s", jerr.text);
        tail_add(&r->out_tail, line, len);
        tail_add(&r->out_tail, "\n", 1);
        return;
    }
    r->last_bad = 0;
    json_decref(r->last);
    r->last = o;
    const json_t *ep = json_object_get(o, "epoch");
    if (json_is_integer(ep) && json_integer_value(ep) >= 0)
        on_progress(r, o, json_integer_value(ep));
}

/* Read what stdout has; 1 at end of file or error, else 0. */
static int read_out(run *r)
{
    char buf[65536];
    ssize_t n = read(r->fd_out, buf, sizeof buf);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    if (n == 0) {
        if (r->line_len && !r->line_dropped) { /* a last line without a newline */
            r->line[r->line_len] = '\0';
            on_line(r, r->line, r->line_len);
        }
        r->line_len = 0;
        return 1;
    }
    for (ssize_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n') {
            if (!r->line_dropped) {
                r->line[r->line_len] = '\0';
                on_line(r, r->line, r->line_len);
            }
            r->line_len = 0;
            r->line_dropped = 0;
            continue;
        }
        if (r->line_dropped) continue;
        if (r->line_len + 1 >= WK_EXEC_LINE_MAX) {
            r->line_dropped = 1;
            r->line_len = 0;
            tail_add(&r->out_tail, "[a line longer than 1 MiB dropped]\n", 35);
            continue;
        }
        if (r->line_len + 2 > r->line_cap) {
            r->line_cap = r->line_cap ? 2 * r->line_cap : 4096;
            r->line = im_xrealloc(r->line, r->line_cap);
        }
        r->line[r->line_len++] = c;
    }
    return 0;
}

static int read_err(run *r)
{
    char buf[8192];
    ssize_t n = read(r->fd_err, buf, sizeof buf);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    if (n == 0) return 1;
    tail_add(&r->err_tail, buf, (size_t)n);
    return 0;
}

static void write_in(run *r)
{
    ssize_t n = write(r->fd_in, r->input + r->input_off, r->input_len - r->input_off);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) close_fd(&r->fd_in); /* EPIPE: it does not read */
        return;
    }
    r->input_off += (size_t)n;
    if (r->input_off == r->input_len) close_fd(&r->fd_in);
}

/* Ask the group to end (SIGTERM), once. */
static void terminate(run *r, double now)
{
    if (r->term_at > 0) return;
    kill(-r->pid, SIGTERM);
    r->term_at = now;
}

/* The stdin text of the trial. Caller frees. */
static char *trial_input(const json_t *spec, const wk_run_options *opt)
{
    json_t *in = json_object();
    json_object_set_new(in, "trial", json_integer(opt->trial));
    json_object_set_new(in, "attempt", json_integer(opt->attempt));
    const json_t *seed = json_object_get(spec, "seed");
    json_object_set_new(in, "seed",
                        json_is_integer(seed) ? json_incref((json_t *)seed) : json_integer(0));
    json_object_set_new(in, "params", opt->params ? json_deep_copy(opt->params) : json_object());
    json_object_set_new(in, "user",
                        opt->campaign_user ? json_deep_copy(opt->campaign_user) : json_object());
    char *text = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    size_t n = strlen(text);
    text = im_xrealloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    return text;
}

/* A pipe whose ends are closed on exec (the spawn dup2s the child's ends
 * onto 0, 1 and 2, which clears the flag there). 0 or -1 (errno set). */
static int cloexec_pipe(int fd[2])
{
    if (pipe(fd) != 0) return -1;
    for (int i = 0; i < 2; i++) fcntl(fd[i], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Spawn the command in a new process group with the three pipes. Returns
 * 0, or an errno value. */
static int spawn(run *r, char *const *argv)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
    if (cloexec_pipe(in) || cloexec_pipe(out) || cloexec_pipe(er)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0) close(in[i]);
            if (out[i] >= 0) close(out[i]);
            if (er[i] >= 0) close(er[i]);
        }
        return e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, er[1], 2);
    posix_spawnattr_init(&at);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(&r->pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    close(er[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        close(er[0]);
        return rc;
    }
    r->fd_in = in[1];
    r->fd_out = out[0];
    r->fd_err = er[0];
    fcntl(r->fd_in, F_SETFL, fcntl(r->fd_in, F_GETFL) | O_NONBLOCK);
    fcntl(r->fd_out, F_SETFL, fcntl(r->fd_out, F_GETFL) | O_NONBLOCK);
    fcntl(r->fd_err, F_SETFL, fcntl(r->fd_err, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Poll the pipes until the command has exited and its output is read (or
 * WK_EXEC_DRAIN_MS after the exit); the stop flag and the timeout end it.
 * Returns the wait status. */
static int supervise(run *r, double start)
{
    double exited_at = 0;
    for (;;) {
        double now = now_ms();
        if (!exited_at) {
            if (!r->stop_asked && r->opt->stop && atomic_load(r->opt->stop)) r->stop_asked = 1;
            if (!r->timed_out && r->opt->trial_timeout_s > 0 &&
                now - start > r->opt->trial_timeout_s * 1e3)
                r->timed_out = 1;
            if (r->stop_asked || r->timed_out) terminate(r, now);
            if (r->term_at > 0 && !r->killed && now - r->term_at > WK_EXEC_GRACE_MS) {
                kill(-r->pid, SIGKILL);
                r->killed = 1;
            }
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == r->pid) {
                /* the leader is a zombie now, so its group id is still ours */
                kill(-r->pid, SIGKILL);
                exited_at = now;
                close_fd(&r->fd_in);
            }
        }
        if (exited_at && ((r->fd_out < 0 && r->fd_err < 0) || now - exited_at > WK_EXEC_DRAIN_MS))
            break;

        struct pollfd fds[3];
        int nfds = 0, i_in = -1, i_out = -1, i_err = -1;
        if (r->fd_in >= 0) i_in = nfds, fds[nfds++] = (struct pollfd){r->fd_in, POLLOUT, 0};
        if (r->fd_out >= 0) i_out = nfds, fds[nfds++] = (struct pollfd){r->fd_out, POLLIN, 0};
        if (r->fd_err >= 0) i_err = nfds, fds[nfds++] = (struct pollfd){r->fd_err, POLLIN, 0};
        /* the pipes are closed, the exit is a moment away: look again soon */
        int n = poll(fds, (nfds_t)nfds, nfds ? WK_EXEC_TICK_MS : 2);
        if (n < 0 && errno != EINTR) {
            terminate(r, now_ms());
            continue;
        }
        if (n <= 0) continue;
        if (i_in >= 0 && fds[i_in].revents) {
            if (fds[i_in].revents & (POLLERR | POLLHUP))
                close_fd(&r->fd_in);
            else
                write_in(r);
        }
        if (i_out >= 0 && fds[i_out].revents && read_out(r)) close_fd(&r->fd_out);
        if (i_err >= 0 && fds[i_err].revents && read_err(r)) close_fd(&r->fd_err);
    }
    int status = 0;
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR) {
    }
    close_fd(&r->fd_in);
    close_fd(&r->fd_out);
    close_fd(&r->fd_err);
    return status;
}

/* A failed result: why, and the tail of stderr (else of the other output). */
static wk_result *failed(run *r, double wall_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static wk_result *failed(run *r, double wall_s, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const char *err = tail_text(&r->err_tail), *out = tail_text(&r->out_tail);
    size_t cap = sizeof why + 2 * WK_EXEC_TAIL + 64;
    char *text = im_xmalloc(cap);
    if (*err)
        snprintf(text, cap, "%s; stderr: %s", why, err);
    else if (*out)
        snprintf(text, cap, "%s; output: %s", why, out);
    else
        snprintf(text, cap, "%s", why);
    wk_result *res = wk_result_failed(text, wall_s);
    free(text);
    return res;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGKILL: return " (SIGKILL)";
    case SIGTERM: return " (SIGTERM)";
    case SIGSEGV: return " (SIGSEGV)";
    case SIGABRT: return " (SIGABRT)";
    case SIGINT: return " (SIGINT)";
    case SIGBUS: return " (SIGBUS)";
    case SIGFPE: return " (SIGFPE)";
    case SIGPIPE: return " (SIGPIPE)";
    default: return "";
    }
}

/* The objective by curve entry as a JSON list (null where not given), and
 * into *last the last finite one (NAN if none). */
static json_t *values_json(const run *r, double *last)
{
    json_t *values = json_array();
    *last = NAN;
    for (size_t i = 0; i < r->n_curve; i++) {
        double v = r->curve_values[i];
        json_array_append_new(values, isfinite(v) ? json_real(v) : json_null());
        if (isfinite(v)) *last = v;
    }
    return values;
}

/* The outcome of a run whose command has ended with status. */
static wk_result *outcome(run *r, int status, double wall_s)
{
    if (r->stop_asked) {
        /* stopped (pruned or cancelled): the curve so far, and the last
         * objective it reported, which values a pruned point */
        wk_result *res = im_xcalloc(1, sizeof *res);
        res->r.status = IM_RESULT_STOPPED;
        res->r.val_acc = r->n_curve ? r->curve[r->n_curve - 1].val_acc : NAN;
        res->r.test_acc = r->n_curve ? r->curve[r->n_curve - 1].test_acc : NAN;
        res->r.wall_s = wall_s;
        double last;
        json_t *values = values_json(r, &last);
        res->r.extra = isfinite(last)
                           ? json_pack("{s:f, s:o}", "value", last, "curve_values", values)
                           : json_pack("{s:o}", "curve_values", values);
        res->r.curve = r->curve;
        res->r.n_curve = r->n_curve;
        r->curve = NULL;
        r->n_curve = 0;
        return res;
    }
    if (r->timed_out)
        return failed(r, wall_s, "exec: timed out after %g s", r->opt->trial_timeout_s);
    if (WIFSIGNALED(status))
        return failed(r, wall_s, "exec: the command was killed by signal %d%s", WTERMSIG(status),
                      signal_name(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return failed(r, wall_s, "exec: the command exited with status %d",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (r->last_bad)
        return failed(r, wall_s, "exec: the last result line is not valid JSON (%s)", r->bad_msg);
    if (!r->last)
        return failed(r, wall_s, "exec: the command printed no result line (a JSON object)");
    const json_t *v = json_object_get(r->last, r->objective);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return failed(r, wall_s, "exec: the result line has no finite number '%.64s'",
                      r->objective);
    static const char *const fractions[] = {"val_acc", "test_acc"};
    double acc[2];
    for (int i = 0; i < 2; i++) {
        const json_t *a = json_object_get(r->last, fractions[i]);
        acc[i] = NAN;
        if (!a || json_is_null(a)) continue;
        if (!json_is_number(a) || !(json_number_value(a) >= 0 && json_number_value(a) <= 1))
            return failed(r, wall_s, "exec: '%s' in the result line must be a fraction in [0, 1]",
                          fractions[i]);
        acc[i] = json_number_value(a);
    }
    wk_result *res = im_xcalloc(1, sizeof *res);
    res->r.status = IM_RESULT_DONE;
    res->r.val_acc = acc[0];
    res->r.test_acc = acc[1];
    res->r.wall_s = wall_s;
    double last;
    json_t *values = values_json(r, &last);
    res->r.extra = json_pack("{s:f, s:O, s:o}", "value", json_number_value(v), "output", r->last,
                             "curve_values", values);
    res->r.curve = r->curve;
    res->r.n_curve = r->n_curve;
    r->curve = NULL;
    r->n_curve = 0;
    return res;
}

wk_result *wk_exec_run(const json_t *spec, const wk_run_options *opt)
{
    if (!opt->exec_argv || !opt->exec_argv[0])
        return wk_result_failed("exec: this worker runs no command (start it with --exec)", 0);
    const json_t *obj = json_object_get(spec, "objective");
    if (obj && !json_is_string(obj))
        return wk_result_failed("exec: the spec's 'objective' must be a string", 0);
    run r;
    memset(&r, 0, sizeof r);
    r.opt = opt;
    r.objective = obj ? json_string_value(obj) : "val_acc";
    r.fd_in = r.fd_out = r.fd_err = -1;
    char *input = trial_input(spec, opt);
    r.input = input;
    r.input_len = strlen(input);

    double start = now_ms();
    int e = spawn(&r, opt->exec_argv);
    wk_result *res;
    if (e != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "exec: unable to run '%.200s': %s", opt->exec_argv[0],
                 strerror(e));
        res = wk_result_failed(msg, 0);
    } else {
        int status = supervise(&r, start);
        res = outcome(&r, status, (now_ms() - start) / 1e3);
    }
    free(input);
    free(r.line);
    free(r.curve);
    free(r.curve_values);
    json_decref(r.last);
    return res;
}

const wk_backend wk_backend_exec = {
    .name = "exec", .needs_command = 1, .needs_data = 0, .run = wk_exec_run};
