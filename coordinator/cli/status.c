/*
 * status.c: `infomorph status [CAMPAIGN] [--watch [SECONDS]]`: progress of one
 * campaign or of all, refreshed until the campaigns end with --watch.
 */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_gamma(const json_t *gamma, const char *indent)
{
    json_t *one = json_pack("[{s:O}]", "gamma", gamma);
    json_t *names = cli_gamma_names(one);
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
               cli_num(gamma, json_string_value(nm)));
        col++;
    }
    printf("\n");
    json_decref(names);
    json_decref(one);
}

static int campaign_active(const json_t *c)
{
    const char *s = cli_str(c, "status");
    return !strcmp(s, "queued") || !strcmp(s, "running");
}

static void print_status(const json_t *c)
{
    char b1[32], b2[32], b3[32];
    printf("campaign %s (id %lld, %s, %s, priority %lld)\n", cli_str(c, "name"),
           cli_int(c, "id", -1), cli_str(c, "kind"), cli_str(c, "status"),
           cli_int(c, "priority", 0));
    long long done = cli_int(c, "done", 0), running = cli_int(c, "running", 0),
              queued = cli_int(c, "queued", 0), failed = cli_int(c, "failed", 0),
              pruned = cli_int(c, "pruned", 0), cancelled = cli_int(c, "cancelled", 0),
              total = cli_total_of(c);
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
    if (json_is_object(best) && cli_is_exec(best)) {
        printf("  best:    trial %lld, %s %s (%s), val %s, test %s\n", cli_int(best, "trial", -1),
               json_string_value(json_object_get(best, "objective")),
               cli_fmt_param(b3, sizeof b3, json_object_get(best, "value")),
               json_string_value(json_object_get(best, "direction")),
               cli_fmt_num(b1, sizeof b1, cli_num(best, "val_acc"), 4),
               cli_fmt_num(b2, sizeof b2, cli_num(best, "test_acc"), 4));
        const char *name;
        json_t *v;
        int col = 0;
        printf("  params: ");
        json_object_foreach(json_object_get(best, "gamma"), name, v)
        {
            printf("%s%s=%s", col++ ? "  " : " ", name, cli_fmt_param(b1, sizeof b1, v));
        }
        printf("\n");
    } else if (json_is_object(best)) {
        printf("  best:    trial %lld, val %s, test %s\n", cli_int(best, "trial", -1),
               cli_fmt_num(b1, sizeof b1, cli_num(best, "val_acc"), 4),
               cli_fmt_num(b2, sizeof b2, cli_num(best, "test_acc"), 4));
        if (json_object_size(json_object_get(best, "gamma"))) {
            printf("  gamma:   ");
            print_gamma(json_object_get(best, "gamma"), "           ");
        }
    } else {
        printf("  best:    none yet\n");
    }
    double rate = cli_num(c, "trials_per_hour"), eta = cli_num(c, "eta_s");
    if (isnan(rate) && !campaign_active(c)) return;
    if (isnan(rate))
        printf("  rate:    not known yet");
    else
        printf("  rate:    %s trials/hour", cli_fmt_num(b3, sizeof b3, rate, 1));
    if (campaign_active(c) && !isnan(eta))
        printf(", about %s left\n", cli_fmt_duration(b1, sizeof b1, eta));
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

static int is_number(const char *s)
{
    char *end;
    strtod(s, &end);
    return end != s && !*end;
}

/* --watch's SECONDS: 0 and *every set, CLI_USAGE (message printed). */
static int watch_seconds(const char *text, double *every)
{
    char *end;
    double s = strtod(text, &end);
    if (end == text || *end || !(s >= 0.1 && s <= 3600)) {
        fprintf(stderr, "infomorph status: --watch SECONDS must be in 0.1..3600\n");
        return CLI_USAGE;
    }
    *every = s;
    return 0;
}

/* What status was asked for besides the campaign. */
typedef struct status_opts {
    int watch;    /* --watch given */
    double every; /* seconds between refreshes */
} status_opts;

/* --watch [SECONDS]: SECONDS as --watch=SECONDS, or as the next argument if
 * it is a number (taking it moves optind past it, and getopt_long keeps it
 * out of the operands). */
static int status_option(int c, int argc, char **argv, void *user)
{
    status_opts *o = user;
    const char *seconds = optarg;
    (void)c;
    o->watch = 1;
    if (!seconds && optind < argc && is_number(argv[optind])) seconds = argv[optind++];
    return seconds && watch_seconds(seconds, &o->every) ? CLI_USAGE : CLI_CONTINUE;
}

/* One STATUS request, printed; *active: a campaign has not ended yet.
 * Returns CLI_OK or the exit status (message printed). */
static int status_once(const cli_args *a, int watch, double every, int tty, int *active)
{
    json_t *fields = json_object();
    if (a->n_pos) json_object_set_new(fields, "campaign", cli_campaign_ref(a->pos[0]));
    json_t *reply;
    int rc = cli_call(a, "STATUS", fields, &reply, CLI_ERROR);
    if (rc) return rc;
    json_t *list = json_object_get(reply, "campaigns");
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
        *active |= campaign_active(c);
    }
    json_t *workers = json_object_get(reply, "workers");
    if (json_is_array(workers)) {
        int busy = 0, idle = 0;
        json_t *w;
        json_array_foreach(workers, i, w)
        {
            busy += !strcmp(cli_str(w, "state"), "busy");
            idle += !strcmp(cli_str(w, "state"), "idle");
        }
        printf("\nworkers: %d busy, %d idle\n", busy, idle);
    }
    json_decref(reply);
    fflush(stdout);
    return CLI_OK;
}

int cli_status_main(int argc, char **argv)
{
    cli_args a = {.verb = "status"};
    status_opts o = {.every = 2};
    static const struct option longopts[] = {
        {"watch", optional_argument, NULL, 'w'}, CLI_CLIENT_LONGOPTS, {NULL, 0, NULL, 0}};
    static const cli_syntax syntax = {
        .help = "usage: infomorph status [CAMPAIGN] [--watch [SECONDS]] [--connect ENDPOINT]\n\n"
                "Progress of one campaign (by name or id) or of all: trials by state, the best\n"
                "trial so far with its gamma, trials per hour and an estimate of the time\n"
                "left.\n\n"
                "  --watch [SECONDS]   refresh every SECONDS (default 2) until the campaign\n"
                "                      (or every campaign) has ended, or Ctrl-C\n",
        .longopts = longopts,
        .option = status_option,
        .operands = 1};
    int rc = cli_parse(&a, &syntax, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;
    if (o.watch) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_interrupt;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    int tty = isatty(STDOUT_FILENO);
    for (;;) {
        int active = 0;
        if ((rc = status_once(&a, o.watch, o.every, tty, &active))) return rc;
        if (!o.watch || !active) break;
        if (!tty) printf("\n");
        for (double slept = 0; slept < o.every && !g_interrupted; slept += 0.1) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (g_interrupted) break;
    }
    return CLI_OK;
}
