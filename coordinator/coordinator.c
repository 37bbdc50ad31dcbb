/*
 * coordinator.c: `infomorph-coordinator`, the daemon: options, logging,
 * signals (SIGTERM and SIGINT write to a self-pipe that the loop polls), then
 * broker_run until told to stop. Exit status: 0 after a clean stop, 1 on a
 * failure (database, network), 2 for bad options.
 */
#include "broker.h"
#include "log.h"
#include "protocol.h"
#include "sigpipe.h"
#include "transport.h"

#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: infomorph-coordinator [options]\n"
        "\n"
        "Keeps every campaign and trial in an SQLite database and hands trials to\n"
        "workers (infomorph-worker) that pull them over ZeroMQ. Stop it with SIGTERM\n"
        "or SIGINT; a restart on the same database resumes every campaign.\n"
        "\n"
        "options:\n"
        "  --db FILE                 the trial database (default ./infomorph.db)\n"
        "  --workers-endpoint EP     where workers connect (default tcp://127.0.0.1:5555)\n"
        "  --clients-endpoint EP     where `infomorph` connects (default tcp://127.0.0.1:5556)\n"
        "  --lease SECONDS           a trial's lease: a worker silent that long loses it\n"
        "                            and the trial is queued again (default 60)\n"
        "  --log-level LEVEL         debug, info, warn or error (default info)\n"
        "  --curve-secret FILE       the coordinator's CurveZMQ secret key (infomorph\n"
        "                            keygen): encrypt both endpoints and accept only the\n"
        "                            keys below; then any address may be bound\n"
        "  --worker-keys DIR         the workers' public keys (*.pub) that may connect\n"
        "  --client-keys DIR         the clients' public keys (*.pub) that may connect\n"
        "                            (may be the same directory; SIGHUP re-reads both)\n"
        "  --insecure                allow binding to non-loopback addresses without\n"
        "                            authentication (only on a trusted network)\n"
        "  --endpoints-file FILE     write the bound endpoints to FILE once serving\n"
        "                            (\"workers EP\" and \"clients EP\" lines; handy with\n"
        "                            port *, which picks a free port)\n"
        "  --sync-full               fsync every commit (survives power loss; slower)\n"
        "  --max-trial-memory GB     refuse campaigns whose trials would need more memory\n"
        "                            than GB gigabytes (default 16)\n"
        "  --help                    this text\n"
        "\n"
        "Wire protocol version %d.\n",
        IM_PROTOCOL_VERSION);
}

/* What the command line says. */
typedef struct cmdline {
    broker_options opt;
    im_log_level level;
    const char *curve_secret; /* --curve-secret FILE, or NULL */
    im_curve_key key;         /* read from it; opt.curve points here */
} cmdline;

/* A usage error: "--opt must be what, not 'arg'". Returns 2. */
static int bad_value(const char *opt, const char *what, const char *arg)
{
    fprintf(stderr, "infomorph-coordinator: --%s must be %s, not '%s'\n", opt, what, arg);
    return 2;
}

/* arg as a number in [lo, hi] into *out. Returns 0, or -1 (*out untouched). */
static int parse_number(const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(arg, &end);
    if (errno || end == arg || *end || !(x >= lo && x <= hi)) return -1;
    *out = x;
    return 0;
}

/* The options; each long only but --help, which is also -h. */
enum {
    OPT_DB = 1,
    OPT_WEP,
    OPT_CEP,
    OPT_LEASE,
    OPT_LOG,
    OPT_INSECURE,
    OPT_EPFILE,
    OPT_SYNC,
    OPT_CURVE_SECRET,
    OPT_WORKER_KEYS,
    OPT_CLIENT_KEYS,
    OPT_MAXMEM,
    OPT_HELP
};
static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"workers-endpoint", required_argument, NULL, OPT_WEP},
    {"clients-endpoint", required_argument, NULL, OPT_CEP},
    {"lease", required_argument, NULL, OPT_LEASE},
    {"log-level", required_argument, NULL, OPT_LOG},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"endpoints-file", required_argument, NULL, OPT_EPFILE},
    {"sync-full", no_argument, NULL, OPT_SYNC},
    {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
    {"worker-keys", required_argument, NULL, OPT_WORKER_KEYS},
    {"client-keys", required_argument, NULL, OPT_CLIENT_KEYS},
    {"max-trial-memory", required_argument, NULL, OPT_MAXMEM},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* Read the options into cl. Returns -1 to go on, or the exit status (0
 * after --help, 2 for a usage error). */
static int parse_cmdline(int argc, char **argv, cmdline *cl)
{
    broker_options *opt = &cl->opt;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: opt->db_path = optarg; break;
        case OPT_WEP: opt->workers_endpoint = optarg; break;
        case OPT_CEP: opt->clients_endpoint = optarg; break;
        case OPT_LEASE:
            if (parse_number(optarg, 0.1, 86400 * 7, &opt->lease_s))
                return bad_value("lease", "a number of seconds in [0.1, 604800]", optarg);
            break;
        case OPT_LOG:
            if (im_log_parse_level(optarg, &cl->level) != 0)
                return bad_value("log-level", "debug, info, warn or error", optarg);
            break;
        case OPT_INSECURE: opt->insecure = 1; break;
        case OPT_EPFILE: opt->endpoints_file = optarg; break;
        case OPT_SYNC: opt->sync_full = 1; break;
        case OPT_CURVE_SECRET: cl->curve_secret = optarg; break;
        case OPT_WORKER_KEYS: opt->worker_keys = optarg; break;
        case OPT_CLIENT_KEYS: opt->client_keys = optarg; break;
        case OPT_MAXMEM:
            if (parse_number(optarg, 0.01, 1e6, &opt->max_trial_memory_gb))
                return bad_value("max-trial-memory", "a number of gigabytes in [0.01, 1e6]",
                                 optarg);
            break;
        case OPT_HELP:
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "infomorph-coordinator: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The keys: all three options or none; the secret key read into cl->key.
 * Returns 0 or 2 (a usage error, said on stderr). */
static int check_keys(cmdline *cl)
{
    broker_options *opt = &cl->opt;
    if (!cl->curve_secret != (!opt->worker_keys && !opt->client_keys) ||
        (cl->curve_secret && (!opt->worker_keys || !opt->client_keys))) {
        fprintf(stderr, "infomorph-coordinator: --curve-secret, --worker-keys and --client-keys "
                        "go together (the key directories may be the same)\n");
        return 2;
    }
    if (!cl->curve_secret) return 0;
    im_error kerr = {0};
    if (im_curve_key_read(&cl->key, cl->curve_secret, 1, &kerr) != 0) {
        fprintf(stderr, "infomorph-coordinator: %s\n", kerr.msg);
        return 2;
    }
    opt->curve = &cl->key;
    if (opt->insecure) {
        fprintf(stderr, "infomorph-coordinator: --insecure and --curve-secret exclude each "
                        "other\n");
        return 2;
    }
    return 0;
}

/* Refuse non-loopback endpoints unless keys or --insecure, and host names,
 * which ZeroMQ cannot bind (it binds interfaces and addresses:
 * "tcp://localhost:P" passed the loopback check and then failed to bind).
 * Returns 0 or 2. */
static int check_endpoints(const cmdline *cl)
{
    const char *eps[2] = {cl->opt.workers_endpoint, cl->opt.clients_endpoint};
    for (int i = 0; i < 2; i++)
        if (eps[i] && !strncmp(eps[i], "tcp://localhost:", 16)) {
            fprintf(stderr,
                    "infomorph-coordinator: cannot bind '%s': ZeroMQ binds addresses, not host "
                    "names; use tcp://127.0.0.1:%s (workers and clients may still connect to "
                    "localhost)\n",
                    eps[i], eps[i] + 16);
            return 2;
        }
    for (int i = 0; i < 2; i++)
        if (!cl->opt.curve && !cl->opt.insecure && !im_transport_is_loopback(eps[i])) {
            fprintf(stderr,
                    "infomorph-coordinator: refusing to bind '%s': it is not a loopback "
                    "address and no keys authenticate the peers. Give --curve-secret, "
                    "--worker-keys and --client-keys (infomorph keygen makes the keys), or "
                    "--insecure to bind anyway, on a trusted network only.\n",
                    eps[i]);
            return 2;
        }
    return 0;
}

/* Run the broker until a signal. Returns the exit status, 0 or 1. */
static int serve(cmdline *cl)
{
    int stop_fd = im_sigpipe_install();
    if (stop_fd < 0 || im_sigpipe_catch_hup() != 0) {
        im_log(IM_LOG_ERROR, "cannot create the signal pipe: %s", strerror(errno));
        return 1;
    }
    im_error err = {0};
    broker *b = NULL;
    int rc = broker_new(&b, &cl->opt, &err);
    if (rc) {
        im_log(IM_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    rc = broker_run(b, stop_fd, &err);
    broker_free(&b);
    explicit_bzero(&cl->key, sizeof cl->key);
    if (rc) {
        im_log(IM_LOG_ERROR, "%s", err.msg);
        return 1;
    }
    im_log(IM_LOG_INFO, "stopped cleanly");
    return 0;
}

int main(int argc, char **argv)
{
    cmdline cl = {.opt = {.db_path = "infomorph.db",
                          .workers_endpoint = "tcp://127.0.0.1:5555",
                          .clients_endpoint = "tcp://127.0.0.1:5556",
                          .lease_s = 60},
                  .level = IM_LOG_INFO};
    int status = parse_cmdline(argc, argv, &cl);
    if (status >= 0) return status;
    if ((status = check_keys(&cl)) || (status = check_endpoints(&cl))) return status;
    im_log_setup(cl.level, "coordinator");
#ifdef __GLIBC__
    /* Each pass of the loop allocates and frees the JSON of hundreds of
     * messages; with glibc's default trim threshold (128 KiB) every pass
     * gave that memory back to the kernel and faulted it in again, which
     * cost about a third of the throughput. Keep up to 64 MiB. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    if (cl.opt.insecure)
        im_log(IM_LOG_WARN, "--insecure: peers are not authenticated; anyone who reaches the "
                            "endpoints can submit campaigns and report results");
    return serve(&cl);
}
