/*
 * cli_client.c: the verbs of `infomorph` that talk to a running coordinator:
 * submit, status, ls, best, trials, cancel, export, workers. Each verb parses
 * its arguments, sends one request (client.h) and prints the reply for people
 * (tables) or for programs (export: CSV or JSON).
 *
 * Exit status: 0 success; 1 error (no coordinator, unknown campaign, I/O);
 * 2 usage (bad arguments, a campaign file that is not JSON or that the
 * coordinator refuses). Replies are read defensively: a missing field prints
 * as "-", never a crash.
 */
#include "cli.h"
#include "client.h"
#include "im.h"
#include "lattice.h"
#include "protocol.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------- arguments ---------- */

#define CLI_BEST_MAX 1000 /* most trials in one BEST reply (protocol.h) */

typedef struct cli_args {
    const char *verb;
    const char *connect;
    const char *pos[4]; /* positional arguments */
    int n_pos;
} cli_args;

/* Options every verb accepts. Returns 1 if argv[*i] was one of them, 0 if
 * not, -1 on a usage error (message printed). */
static int common_option(cli_args *a, int argc, char **argv, int *i)
{
    const char *s = argv[*i];
    if (!strcmp(s, "--connect")) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "infomorph %s: --connect needs an endpoint\n", a->verb);
            return -1;
        }
        a->connect = argv[++*i];
        return 1;
    }
    if (!strncmp(s, "--connect=", 10)) {
        a->connect = s + 10;
        return 1;
    }
    return 0;
}

static int add_positional(cli_args *a, const char *s, int max)
{
    if (s[0] == '-' && s[1] != '\0') {
        fprintf(stderr, "infomorph %s: unknown option '%s'\n", a->verb, s);
        return -1;
    }
    if (a->n_pos >= max || a->n_pos < 0 || a->n_pos >= (int)(sizeof a->pos / sizeof a->pos[0])) {
        fprintf(stderr, "infomorph %s: unexpected argument '%s'\n", a->verb, s);
        return -1;
    }
    a->pos[a->n_pos++] = s;
    return 0;
}

static int is_help(const char *s)
{
    return !strcmp(s, "--help") || !strcmp(s, "-h");
}

static const char *connect_help =
    "  --connect ENDPOINT  the coordinator's client endpoint (default $INFOMORPH_CONNECT,\n"
    "                      else " CLI_DEFAULT_CONNECT ")\n"
    "  --help              this text\n";

/* The arguments of a verb with no options of its own but --connect (and -n
 * when n is non-NULL) and with a campaign (want_campaign) or nothing as its
 * positional argument. Returns 0; -1 after --help (printed); CLI_USAGE
 * (message printed). */
static int verb_args(cli_args *a, int argc, char **argv, int want_campaign, long *n,
                     const char *usage_text)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            printf("%s\n%s", usage_text, connect_help);
            return -1;
        }
        if (n && (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--number"))) {
            /* the wire's range for BEST (protocol.h): beyond it the
             * coordinator would refuse, and that is a usage error, not 1 */
            char *end;
            if (i + 1 >= argc ||
                (errno = 0, *n = strtol(argv[i + 1], &end, 10),
                 errno || end == argv[i + 1] || *end || *n < 1 || *n > CLI_BEST_MAX)) {
                fprintf(stderr, "infomorph %s: -n needs an integer in 1..%d\n", a->verb,
                        CLI_BEST_MAX);
                return CLI_USAGE;
            }
            i++;
            continue;
        }
        int c = common_option(a, argc, argv, &i);
        if (c < 0 || (c == 0 && add_positional(a, argv[i], want_campaign) < 0)) return CLI_USAGE;
    }
    if (a->n_pos != want_campaign) {
        fprintf(stderr, "infomorph %s: which campaign? (a name or id; see infomorph ls)\n",
                a->verb);
        return CLI_USAGE;
    }
    return 0;
}

/* ---------- requests ---------- */

/* One request; on failure prints "infomorph VERB: message" and returns the
 * exit status (refused: refused_status). */
static int request(const cli_args *a, const char *type, json_t *fields, json_t **reply,
                   int refused_status)
{
    char err[1024];
    int rc =
        cli_request(cli_endpoint(a->connect), type, fields, CLI_TIMEOUT_MS, reply, err, sizeof err);
    json_decref(fields);
    if (rc == 0) return CLI_OK;
    fprintf(stderr, "infomorph %s: %s\n", a->verb, err);
    return rc == IM_EREFUSED ? refused_status : CLI_ERROR;
}

/* A campaign given by name or by number: numbers are sent as integers. */
static json_t *campaign_ref(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && *s && !*end && v > 0) return json_integer(v);
    return json_string(s);
}

/* The fields of a request about the campaign a verb was given: a new object. */
static json_t *campaign_fields(const cli_args *a)
{
    json_t *fields = json_object();
    json_object_set_new(fields, "campaign", campaign_ref(a->pos[0]));
    return fields;
}

/* ---------- printing helpers ---------- */

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static long long integer(const json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

/* "%.4f" or "-" for a missing number, into buf. */
static const char *fmt_num(char *buf, size_t n, double x, int digits)
{
    if (isnan(x))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*f", digits, x);
    return buf;
}

static const char *fmt_duration(char *buf, size_t n, double s)
{
    if (isnan(s) || s < 0)
        snprintf(buf, n, "unknown");
    else if (s < 90)
        snprintf(buf, n, "%.0f s", s);
    else if (s < 5400)
        snprintf(buf, n, "%.0f min", s / 60);
    else
        snprintf(buf, n, "%.1f h", s / 3600);
    return buf;
}

/* Position of a gamma short name in the canonical order of three sources
 * (f_c_l, f_c, ..., h_res; INFOMORPHIC.md), or a large number if unknown. */
static int canonical_rank(const char *name)
{
    static im_lattice lat;
    static int ready = -1;
    if (ready < 0) ready = im_lattice_init(&lat, 3, NULL) == 0;
    int i = ready ? im_lattice_find(&lat, name) : -1;
    return i >= 0 ? i : 1000;
}

static int by_canonical_rank(const void *a, const void *b)
{
    const char *x = json_string_value(*(json_t *const *)a);
    const char *y = json_string_value(*(json_t *const *)b);
    int rx = canonical_rank(x), ry = canonical_rank(y);
    return rx != ry ? (rx > ry) - (rx < ry) : strcmp(x, y);
}

/* The union of the gamma short names over trials (an array of {"gamma":
 * {...}} objects), in canonical order. Returns a new array of strings. */
static json_t *gamma_names(const json_t *trials)
{
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(t, "gamma"), k, v)
            json_object_set_new(seen, k, json_true());
    }
    size_t n = json_object_size(seen), j = 0;
    json_t **list = im_xmalloc_array(n ? n : 1, sizeof *list);
    const char *k;
    json_t *v;
    json_object_foreach(seen, k, v) list[j++] = json_string(k);
    qsort(list, n, sizeof *list, by_canonical_rank);
    json_t *names = json_array();
    for (j = 0; j < n; j++) json_array_append_new(names, list[j]);
    free(list);
    json_decref(seen);
    return names;
}

/* Trials a campaign will run ("planned", in STATUS) or has created so far. */
static long long total_of(const json_t *c)
{
    long long planned = integer(c, "planned", -1);
    return planned >= 0 ? planned : integer(c, "trials", 0);
}

/* ---------- submit ---------- */

int cli_submit_main(int argc, char **argv)
{
    cli_args a = {.verb = "submit"};
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            printf("usage: infomorph submit FILE [--connect ENDPOINT]\n\n"
                   "Queue the campaign described by the JSON file FILE (see the README's\n"
                   "campaign keys). Prints the new campaign's id and name. A file that is not\n"
                   "JSON or that the coordinator refuses exits with status 2 and names the\n"
                   "offending field.\n\n%s",
                   connect_help);
            return CLI_OK;
        }
        int c = common_option(&a, argc, argv, &i);
        if (c < 0 || (c == 0 && add_positional(&a, argv[i], 1) < 0)) return CLI_USAGE;
    }
    if (a.n_pos != 1) {
        fprintf(stderr, "infomorph submit: which campaign file? usage: infomorph submit FILE\n");
        return CLI_USAGE;
    }
    json_error_t jerr;
    json_t *campaign = json_load_file(a.pos[0], JSON_REJECT_DUPLICATES, &jerr);
    if (!campaign) {
        if (access(a.pos[0], R_OK) != 0) {
            fprintf(stderr, "infomorph submit: unable to read '%s': %s\n", a.pos[0],
                    strerror(errno));
            return CLI_ERROR;
        }
        fprintf(stderr, "infomorph submit: %s:%d:%d: %s\n", a.pos[0], jerr.line, jerr.column,
                jerr.text);
        return CLI_USAGE;
    }
    if (!json_is_object(campaign)) {
        fprintf(stderr, "infomorph submit: %s: a campaign file holds one JSON object\n", a.pos[0]);
        json_decref(campaign);
        return CLI_USAGE;
    }
    json_t *fields = json_object();
    json_object_set_new(fields, "campaign", campaign);
    json_t *reply;
    int rc = request(&a, "SUBMIT", fields, &reply, CLI_USAGE);
    if (rc) return rc;
    printf("submitted campaign %s (id %lld, %lld trials planned)\n", str(reply, "name"),
           integer(reply, "campaign_id", -1), integer(reply, "planned", 0));
    json_decref(reply);
    return CLI_OK;
}

/* ---------- ls ---------- */

int cli_ls_main(int argc, char **argv)
{
    cli_args a = {.verb = "ls"};
    int rc = verb_args(&a, argc, argv, 0, NULL,
                       "usage: infomorph ls [--connect ENDPOINT]\n\n"
                       "List every campaign: id, name, kind, status, priority, trials done of the\n"
                       "total, running and failed trials, best validation accuracy.\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    json_t *reply;
    if ((rc = request(&a, "LIST", json_object(), &reply, CLI_ERROR))) return rc;
    json_t *list = json_object_get(reply, "campaigns");
    if (!json_array_size(list)) {
        printf("no campaigns\n");
    } else {
        printf("%-5s %-24s %-9s %-10s %5s %11s %8s %7s %9s\n", "ID", "NAME", "KIND", "STATUS",
               "PRIO", "DONE/TOTAL", "RUNNING", "FAILED", "BEST VAL");
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            char done[32], best[32];
            snprintf(done, sizeof done, "%lld/%lld", integer(c, "done", 0), total_of(c));
            printf("%-5lld %-24s %-9s %-10s %5lld %11s %8lld %7lld %9s\n", integer(c, "id", -1),
                   str(c, "name"), str(c, "kind"), str(c, "status"), integer(c, "priority", 0),
                   done, integer(c, "running", 0), integer(c, "failed", 0),
                   fmt_num(best, sizeof best, num(c, "best_val_acc"), 4));
        }
    }
    json_decref(reply);
    return CLI_OK;
}

/* ---------- status ---------- */

static void print_gamma(const json_t *gamma, const char *indent)
{
    json_t *one = json_pack("[{s:O}]", "gamma", gamma);
    json_t *names = gamma_names(one);
    size_t i;
    json_t *nm;
    int col = 0;
    json_array_foreach(names, i, nm)
    {
        if (col == 6) {
            printf("\n%s", indent);
            col = 0;
        }
        printf("%s%s=%+.3f", col ? "  " : "", json_string_value(nm),
               num(gamma, json_string_value(nm)));
        col++;
    }
    printf("\n");
    json_decref(names);
    json_decref(one);
}

static int campaign_active(const json_t *c)
{
    const char *s = str(c, "status");
    return !strcmp(s, "queued") || !strcmp(s, "running");
}

static void print_status(const json_t *c)
{
    char b1[32], b2[32], b3[32];
    printf("campaign %s (id %lld, %s, %s, priority %lld)\n", str(c, "name"), integer(c, "id", -1),
           str(c, "kind"), str(c, "status"), integer(c, "priority", 0));
    long long done = integer(c, "done", 0), running = integer(c, "running", 0),
              queued = integer(c, "queued", 0), failed = integer(c, "failed", 0),
              pruned = integer(c, "pruned", 0), cancelled = integer(c, "cancelled", 0),
              total = total_of(c);
    /* the coordinator creates a search's trials as it hands them out: the
     * planned ones not created yet are waiting too */
    long long ended = done + running + failed + pruned + cancelled;
    if (campaign_active(c) && total - ended > queued) queued = total - ended;
    printf("  trials:  %lld done, %lld running, %lld queued, %lld failed, %lld pruned, %lld "
           "cancelled (of %lld)\n",
           done, running, queued, failed, pruned, cancelled, total);
    const char *waiting = json_string_value(json_object_get(c, "waiting"));
    if (waiting) printf("  waiting: %s\n", waiting);
    json_t *best = json_object_get(c, "best");
    if (json_is_object(best)) {
        printf("  best:    trial %lld, val %s, test %s\n", integer(best, "trial", -1),
               fmt_num(b1, sizeof b1, num(best, "val_acc"), 4),
               fmt_num(b2, sizeof b2, num(best, "test_acc"), 4));
        if (json_object_size(json_object_get(best, "gamma"))) {
            printf("  gamma:   ");
            print_gamma(json_object_get(best, "gamma"), "           ");
        }
    } else {
        printf("  best:    none yet\n");
    }
    double rate = num(c, "trials_per_hour"), eta = num(c, "eta_s");
    if (isnan(rate) && !campaign_active(c)) return;
    if (isnan(rate))
        printf("  rate:    not known yet");
    else
        printf("  rate:    %s trials/hour", fmt_num(b3, sizeof b3, rate, 1));
    if (campaign_active(c) && !isnan(eta))
        printf(", about %s left\n", fmt_duration(b1, sizeof b1, eta));
    else if (campaign_active(c))
        printf(", time left not known yet\n");
    else
        printf("\n");
}

static volatile sig_atomic_t g_interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

int cli_status_main(int argc, char **argv)
{
    cli_args a = {.verb = "status"};
    int watch = 0;
    double every = 2;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            printf("usage: infomorph status [CAMPAIGN] [--watch [SECONDS]] [--connect ENDPOINT]\n\n"
                   "Progress of one campaign (by name or id) or of all: trials by state, the best\n"
                   "trial so far with its gamma, trials per hour and an estimate of the time\n"
                   "left.\n\n"
                   "  --watch [SECONDS]   refresh every SECONDS (default 2) until the campaign\n"
                   "                      (or every campaign) has ended, or Ctrl-C\n%s",
                   connect_help);
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--watch")) {
            watch = 1;
            char *end;
            if (i + 1 < argc) {
                double s = strtod(argv[i + 1], &end);
                if (end != argv[i + 1] && !*end) {
                    if (!(s >= 0.1 && s <= 3600)) {
                        fprintf(stderr, "infomorph status: --watch SECONDS must be in 0.1..3600\n");
                        return CLI_USAGE;
                    }
                    every = s;
                    i++;
                }
            }
            continue;
        }
        int c = common_option(&a, argc, argv, &i);
        if (c < 0 || (c == 0 && add_positional(&a, argv[i], 1) < 0)) return CLI_USAGE;
    }
    if (watch) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_interrupt;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    int tty = isatty(STDOUT_FILENO);
    for (int round = 0;; round++) {
        json_t *fields = json_object();
        if (a.n_pos) json_object_set_new(fields, "campaign", campaign_ref(a.pos[0]));
        json_t *reply;
        int rc = request(&a, "STATUS", fields, &reply, CLI_ERROR);
        if (rc) return rc;
        json_t *list = json_object_get(reply, "campaigns");
        int active = 0;
        if (watch && tty) printf("\033[H\033[J"); /* home, clear: refresh in place */
        if (watch) {
            time_t t = time(NULL);
            struct tm tm;
            char when[32];
            localtime_r(&t, &tm);
            strftime(when, sizeof when, "%H:%M:%S", &tm);
            printf("infomorph status at %s (every %g s, Ctrl-C to stop watching)\n\n", when, every);
        }
        if (!json_array_size(list)) printf("no campaigns\n");
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            if (i) printf("\n");
            print_status(c);
            active |= campaign_active(c);
        }
        json_t *workers = json_object_get(reply, "workers");
        if (json_is_array(workers)) {
            int busy = 0, idle = 0;
            json_t *w;
            json_array_foreach(workers, i, w)
            {
                busy += !strcmp(str(w, "state"), "busy");
                idle += !strcmp(str(w, "state"), "idle");
            }
            printf("\nworkers: %d busy, %d idle\n", busy, idle);
        }
        json_decref(reply);
        fflush(stdout);
        if (!watch || !active) break;
        if (!tty) printf("\n");
        for (double slept = 0; slept < every && !g_interrupted; slept += 0.1) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (g_interrupted) break;
    }
    return CLI_OK;
}

/* ---------- best and trials ---------- */

int cli_best_main(int argc, char **argv)
{
    cli_args a = {.verb = "best"};
    long n = 10;
    int rc = verb_args(&a, argc, argv, 1, &n,
                       "usage: infomorph best CAMPAIGN [-n N] [--connect ENDPOINT]\n\n"
                       "The N best trials of a campaign (default 10) by validation\n"
                       "accuracy: rank, trial, val, test, seed and the gamma by short\n"
                       "name.\n\n"
                       "  -n N                how many trials to show (1..1000)\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    json_t *fields = campaign_fields(&a);
    json_object_set_new(fields, "n", json_integer(n));
    json_t *reply;
    if ((rc = request(&a, "BEST", fields, &reply, CLI_ERROR))) return rc;
    json_t *trials = json_object_get(reply, "trials");
    if (!json_array_size(trials)) {
        printf("no finished trials yet\n");
        json_decref(reply);
        return CLI_OK;
    }
    json_t *names = gamma_names(trials);
    printf("%-5s %-7s %-7s %-7s %-5s", "RANK", "TRIAL", "VAL", "TEST", "SEED");
    size_t i, j;
    json_t *t, *nm;
    json_array_foreach(names, j, nm) printf(" %7s", json_string_value(nm));
    printf("\n");
    json_array_foreach(trials, i, t)
    {
        char b1[32], b2[32];
        printf("%-5lld %-7lld %-7s %-7s %-5lld", integer(t, "rank", (long long)i + 1),
               integer(t, "trial", -1), fmt_num(b1, sizeof b1, num(t, "val_acc"), 4),
               fmt_num(b2, sizeof b2, num(t, "test_acc"), 4), integer(t, "seed", -1));
        json_t *gamma = json_object_get(t, "gamma");
        json_array_foreach(names, j, nm)
        {
            printf(" %7s", fmt_num(b1, sizeof b1, num(gamma, json_string_value(nm)), 3));
        }
        printf("\n");
    }
    json_decref(names);
    json_decref(reply);
    return CLI_OK;
}

int cli_trials_main(int argc, char **argv)
{
    cli_args a = {.verb = "trials"};
    int rc = verb_args(&a, argc, argv, 1, NULL,
                       "usage: infomorph trials CAMPAIGN [--connect ENDPOINT]\n\n"
                       "Every trial of a campaign in order: id, number, status, val and\n"
                       "test accuracy, seed, wall time and the worker that ran it.\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    /* page by page (TRIALS with from/limit): each request stays small */
    long long from = 0, n = 0;
    for (;;) {
        json_t *fields = campaign_fields(&a), *reply;
        json_object_set_new(fields, "from", json_integer(from));
        json_object_set_new(fields, "limit", json_integer(IM_TRIALS_PAGE_DEFAULT));
        if ((rc = request(&a, "TRIALS", fields, &reply, CLI_ERROR))) return rc;
        json_t *trials = json_object_get(reply, "trials");
        if (from == 0)
            printf("%-7s %-6s %-10s %-7s %-7s %-5s %8s  %s\n", "TRIAL", "NUMBER", "STATUS", "VAL",
                   "TEST", "SEED", "WALL_S", "WORKER");
        size_t i;
        json_t *t;
        json_array_foreach(trials, i, t)
        {
            char b1[32], b2[32], b3[32];
            printf("%-7lld %-6lld %-10s %-7s %-7s %-5lld %8s  %s\n", integer(t, "trial", -1),
                   integer(t, "number", -1), str(t, "status"),
                   fmt_num(b1, sizeof b1, num(t, "val_acc"), 4),
                   fmt_num(b2, sizeof b2, num(t, "test_acc"), 4), integer(t, "seed", -1),
                   fmt_num(b3, sizeof b3, num(t, "wall_s"), 1), str(t, "worker"));
        }
        n += (long long)json_array_size(trials);
        json_t *next = json_object_get(reply, "next");
        long long to = json_is_integer(next) ? (long long)json_integer_value(next) : -1;
        json_decref(reply);
        if (to < 0) break; /* the last page (or a coordinator that sends one) */
        if (to <= from) {
            fprintf(stderr,
                    "infomorph trials: the coordinator's next page (%lld) does not follow "
                    "page %lld\n",
                    to, from);
            return CLI_ERROR;
        }
        from = to;
    }
    printf("%lld trials\n", n);
    return CLI_OK;
}

/* ---------- cancel ---------- */

int cli_cancel_main(int argc, char **argv)
{
    cli_args a = {.verb = "cancel"};
    int rc = verb_args(&a, argc, argv, 1, NULL,
                       "usage: infomorph cancel CAMPAIGN [--connect ENDPOINT]\n\n"
                       "Cancel a campaign: its queued trials are cancelled and its\n"
                       "running trials are stopped at their next progress report.\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    json_t *reply;
    if ((rc = request(&a, "CANCEL", campaign_fields(&a), &reply, CLI_ERROR))) return rc;
    printf("cancelled campaign %s: %lld queued trials cancelled\n", a.pos[0],
           integer(reply, "cancelled", 0));
    json_decref(reply);
    return CLI_OK;
}

/* ---------- export ---------- */

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_string(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_value(FILE *f, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%.12g", json_real_value(v));
    else if (json_is_string(v))
        csv_string(f, json_string_value(v));
    /* null and anything else: an empty field */
}

/* The CSV header: the fixed columns, then one per gamma short name. */
static void csv_header(FILE *f, const json_t *names)
{
    static const char *fixed[] = {"trial",    "number", "status", "seed",    "val_acc",
                                  "test_acc", "wall_s", "worker", "attempts"};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        fprintf(f, "%s%s", k ? "," : "", fixed[k]);
    size_t j;
    json_t *nm;
    json_array_foreach(names, j, nm)
    {
        fputc(',', f);
        csv_string(f, json_string_value(nm));
    }
    fputc('\n', f);
}

/* One CSV row per trial, the columns of csv_header. */
static void csv_rows(FILE *f, const json_t *trials, const json_t *names)
{
    static const char *keys[] = {"trial",    "number", "status", "seed",    "val_acc",
                                 "test_acc", "wall_s", "worker", "attempts"};
    size_t i, j;
    json_t *t, *nm;
    json_array_foreach(trials, i, t)
    {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            if (k) fputc(',', f);
            json_t *v = json_object_get(t, keys[k]);
            if (json_is_array(v)) /* attempts as a list: write how many */
                fprintf(f, "%zu", json_array_size(v));
            else
                csv_value(f, v);
        }
        json_t *gamma = json_object_get(t, "gamma");
        json_array_foreach(names, j, nm)
        {
            fputc(',', f);
            csv_value(f, json_object_get(gamma, json_string_value(nm)));
        }
        fputc('\n', f);
    }
}

/* v as indented JSON whose lines after the first are indented by `indent`
 * more spaces: a member of a document written piece by piece. */
static void json_nested(FILE *f, const json_t *v, int indent)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    for (const char *p = text ? text : "null"; *p; p++) {
        fputc(*p, f);
        if (*p == '\n') fprintf(f, "%*s", indent, "");
    }
    free(text);
}

/* The campaign's trials, page by page (EXPORT with from/limit), to f as CSV
 * or JSON: memory and each request stay small however big the campaign. The
 * CSV's gamma columns are those of the first page (every trial of a
 * campaign has the same components). Returns 0 or the exit status (message
 * printed). */
static int export_pages(const cli_args *a, int csv, long page, FILE *f)
{
    json_t *names = NULL;
    long long from = 0, n = 0;
    int rc = CLI_OK;
    for (;;) {
        json_t *fields = campaign_fields(a);
        json_object_set_new(fields, "from", json_integer(from));
        json_object_set_new(fields, "limit", json_integer(page));
        json_t *reply;
        if ((rc = request(a, "EXPORT", fields, &reply, CLI_ERROR))) break;
        json_t *trials = json_object_get(reply, "trials");
        if (csv) {
            if (!names) {
                names = gamma_names(trials);
                csv_header(f, names);
            }
            csv_rows(f, trials, names);
        } else {
            if (from == 0) {
                fputs("{\n  \"campaign\": ", f);
                json_nested(f, json_object_get(reply, "campaign"), 2);
                fputs(",\n  \"trials\": [", f);
            }
            size_t i;
            json_t *t;
            json_array_foreach(trials, i, t)
            {
                fputs(n + (long long)i ? ",\n    " : "\n    ", f);
                json_nested(f, t, 4);
            }
        }
        n += (long long)json_array_size(trials);
        json_t *next = json_object_get(reply, "next");
        long long to = json_is_integer(next) ? (long long)json_integer_value(next) : -1;
        json_decref(reply);
        if (to < 0) break; /* the last page (or a coordinator that sends one) */
        if (to <= from) {
            fprintf(stderr,
                    "infomorph export: the coordinator's next page (%lld) does not "
                    "follow page %lld\n",
                    to, from);
            rc = CLI_ERROR;
            break;
        }
        from = to;
    }
    if (rc == CLI_OK && !csv) fputs(n ? "\n  ]\n}\n" : "]\n}\n", f);
    json_decref(names);
    return rc;
}

int cli_export_main(int argc, char **argv)
{
    cli_args a = {.verb = "export"};
    const char *format = NULL, *out_path = NULL;
    long page = 200;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            printf("usage: infomorph export CAMPAIGN --format csv|json [-o FILE] [--page N] "
                   "[--connect ENDPOINT]\n\n"
                   "Write a campaign's trials to FILE (default: standard output).\n"
                   "  csv:  one row per trial: trial, number, status, seed, val_acc, test_acc,\n"
                   "        wall_s, worker, attempts, then one column per gamma short name\n"
                   "  json: everything: the campaign, and per trial its gamma, attempts,\n"
                   "        learning curve and PID atoms\n"
                   "The trials are fetched and written a page at a time.\n\n"
                   "  --format FORMAT     csv or json (required)\n"
                   "  -o, --output FILE   the file to write (removed again if the export fails)\n"
                   "  --page N            trials per request, 1..%d (default 200)\n%s",
                   IM_EXPORT_PAGE_MAX, connect_help);
            return CLI_OK;
        }
        const char *s = argv[i];
        if (!strcmp(s, "--format") || !strcmp(s, "-o") || !strcmp(s, "--output") ||
            !strcmp(s, "--page")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "infomorph export: %s needs a value\n", s);
                return CLI_USAGE;
            }
            if (!strcmp(s, "--format")) {
                format = argv[++i];
            } else if (!strcmp(s, "--page")) {
                char *end;
                page = strtol(argv[++i], &end, 10);
                if (*end || page < 1 || page > IM_EXPORT_PAGE_MAX) {
                    fprintf(stderr, "infomorph export: --page must be in 1..%d\n",
                            IM_EXPORT_PAGE_MAX);
                    return CLI_USAGE;
                }
            } else {
                out_path = argv[++i];
            }
            continue;
        }
        if (!strncmp(s, "--format=", 9)) {
            format = s + 9;
            continue;
        }
        int c = common_option(&a, argc, argv, &i);
        if (c < 0 || (c == 0 && add_positional(&a, s, 1) < 0)) return CLI_USAGE;
    }
    if (a.n_pos != 1) {
        fprintf(stderr, "infomorph export: which campaign? (a name or id; see infomorph ls)\n");
        return CLI_USAGE;
    }
    if (!format || (strcmp(format, "csv") && strcmp(format, "json"))) {
        fprintf(stderr, "infomorph export: --format must be csv or json\n");
        return CLI_USAGE;
    }
    FILE *f = stdout;
    if (out_path && !(f = fopen(out_path, "w"))) {
        fprintf(stderr, "infomorph export: unable to open '%s': %s\n", out_path, strerror(errno));
        return CLI_ERROR;
    }
    int rc = export_pages(&a, !strcmp(format, "csv"), page, f);
    int failed = ferror(f);
    if (f != stdout && fclose(f) != 0)
        failed = 1;
    else if (f == stdout && fflush(f) != 0)
        failed = 1;
    if (rc == CLI_OK && failed) {
        fprintf(stderr, "infomorph export: unable to write '%s'\n",
                out_path ? out_path : "standard output");
        rc = CLI_ERROR;
    }
    if (rc != CLI_OK && out_path) remove(out_path); /* no partial file that looks complete */
    return rc;
}

/* ---------- workers ---------- */

int cli_workers_main(int argc, char **argv)
{
    cli_args a = {.verb = "workers"};
    int rc = verb_args(&a, argc, argv, 0, NULL,
                       "usage: infomorph workers [--connect ENDPOINT]\n\n"
                       "The workers the coordinator knows: name, host, pid, BLAS threads, status\n"
                       "(alive, lost or gone), state (idle, busy, or away: not connected to this\n"
                       "coordinator run), the trial it runs, seconds since it was last heard, the\n"
                       "trials it has finished and the datasets it has (\"any\": it did not say;\n"
                       "\"-\": not known while it is away).\n");
    if (rc) return rc < 0 ? CLI_OK : rc;
    json_t *reply;
    if ((rc = request(&a, "WORKERS", json_object(), &reply, CLI_ERROR))) return rc;
    json_t *list = json_object_get(reply, "workers");
    if (!json_array_size(list)) {
        printf("no workers\n");
    } else {
        printf("%-24s %-16s %7s %7s %-6s %-5s %7s %9s %5s  %s\n", "NAME", "HOST", "PID", "THREADS",
               "STATUS", "STATE", "TRIAL", "LAST_SEEN", "DONE", "DATASETS");
        size_t i;
        json_t *w;
        json_array_foreach(list, i, w)
        {
            char trial[32], seen[32];
            long long t = integer(w, "trial", -1);
            if (t >= 0)
                snprintf(trial, sizeof trial, "%lld", t);
            else
                snprintf(trial, sizeof trial, "-");
            fmt_num(seen, sizeof seen, num(w, "last_seen_s_ago"), 0);
            char datasets[512] = "";
            json_t *ds = json_object_get(w, "datasets"), *d;
            size_t k;
            json_array_foreach(ds, k, d)
            {
                size_t used = strlen(datasets);
                snprintf(datasets + used, sizeof datasets - used, "%s%s", k ? "," : "",
                         json_string_value(d) ? json_string_value(d) : "?");
            }
            if (!json_is_array(ds))
                snprintf(datasets, sizeof datasets, "%s",
                         strcmp(str(w, "state"), "away") ? "any" : "-");
            else if (!json_array_size(ds))
                snprintf(datasets, sizeof datasets, "none");
            printf("%-24s %-16s %7lld %7lld %-6s %-5s %7s %8ss %5lld  %s\n", str(w, "name"),
                   str(w, "host"), integer(w, "pid", -1), integer(w, "threads", -1),
                   str(w, "status"), str(w, "state"), trial, seen, integer(w, "trials_done", 0),
                   datasets);
        }
    }
    json_decref(reply);
    return CLI_OK;
}
