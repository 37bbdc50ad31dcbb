/*
 * train.c: `infomorph train [SPEC.json] [--set key=value ...]
 * [--data-dir DIR] [--json]`: train one network from a trial spec on this
 * machine, one progress line per epoch on stderr, a summary at the end, and
 * with --json the whole result as one JSON object on stdout.
 *
 * SIGINT (Ctrl-C) only sets an atomic flag; the run stops at the next batch
 * and what was done is still printed. A second Ctrl-C kills the process (the
 * handler is installed with SA_RESETHAND).
 */
#include "cli.h"

#include "spec_json.h"
#include "train.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, 1);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: infomorph train [SPEC.json] [--set key=value ...] [--data-dir DIR] [--json]\n"
            "\n"
            "Train one infomorphic network from a trial spec and report its learning curve.\n"
            "Every spec key is optional and defaults to the paper's setting (dataset mnist10k,\n"
            "setup trivariate, 100 hidden neurons, 10 epochs, batch 1024, seed 1, gamma\n"
            "paper-heuristic, ...).\n"
            "\n"
            "options:\n"
            "  SPEC.json          a trial spec (a JSON object); '-' reads standard input\n"
            "  --set key=value    set one spec key after the file (repeatable); the value is\n"
            "                     parsed as JSON if it parses, else taken as a string,\n"
            "                     e.g. --set hidden=50 --set gamma=paper-optimized\n"
            "  --data-dir DIR     the data directory (default: $INFOMORPH_DATA, else ./data)\n"
            "  --json             print the whole result as one JSON object on stdout\n"
            "  -h, --help         this text\n"
            "\n"
            "Progress goes to stderr, one line per epoch (epoch 0 is the untrained network).\n"
            "Ctrl-C stops after the current batch and prints what was done.\n"
            "Exit status: 0 trained, 1 error or interrupted, 2 bad arguments or spec.\n");
}

typedef struct progress {
    int epochs;     /* epochs after epoch 0 */
    double train_s; /* seconds of the training epochs so far */
} progress;

static int on_epoch(const im_epoch_stats *st, void *user)
{
    progress *p = user;
    int width = 2;
    for (int e = p->epochs; e >= 100; e /= 10) width++;
    if (st->epoch == 0) {
        fprintf(stderr, "epoch %*d/%d  train      -  val %.4f  test %.4f  %7.2f s\n", width,
                st->epoch, p->epochs, st->val_acc, st->test_acc, st->seconds);
    } else {
        p->train_s += st->seconds;
        double left = p->train_s / st->epoch * (p->epochs - st->epoch);
        char eta[32];
        cli_fmt_duration(eta, sizeof eta, left);
        fprintf(stderr, "epoch %*d/%d  train %.4f  val %.4f  test %.4f  %7.2f s  ~%s left\n", width,
                st->epoch, p->epochs, st->train_acc, st->val_acc, st->test_acc, st->seconds, eta);
    }
    return 0;
}

/* Load the spec from standard input over the defaults. 0 or an IM_E* code. */
static int load_spec_stdin(im_train_spec *spec, im_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return im_error_set(err, IM_EFORMAT, "<stdin>:%d:%d: %s", jerr.line, jerr.column,
                            jerr.text);
    int rc = im_train_spec_from_json(spec, obj, err);
    json_decref(obj);
    return rc;
}

/* What train was asked for besides the spec's keys. */
typedef struct train_args {
    const char *spec_path; /* NULL: the defaults; "-": standard input */
    const char *data_dir;  /* NULL: $INFOMORPH_DATA, else ./data */
    int json_output;
    const char **sets; /* the --set values in order, n_sets of them (caller frees) */
    int n_sets;
} train_args;

/* The arguments of train into *t. Returns CLI_CONTINUE, CLI_OK after --help
 * or CLI_USAGE (message printed). */
static int parse_args(train_args *t, int argc, char **argv)
{
    static const struct option longopts[] = {{"set", required_argument, NULL, 's'},
                                             {"data-dir", required_argument, NULL, 'd'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    t->sets = im_xmalloc_array((size_t)argc, sizeof *t->sets);
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 's') {
            t->sets[t->n_sets++] = optarg;
        } else if (c == 'd') {
            t->data_dir = optarg;
        } else if (c == 'j') {
            t->json_output = 1;
        } else if (c == 'h') {
            usage(stdout);
            return CLI_OK;
        } else {
            cli_bad_option("train", c, argv);
            if (c != ':') usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) t->spec_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "infomorph train: more than one spec file ('%s', '%s')\n", t->spec_path,
                argv[optind]);
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

/* The spec: the defaults, then the file if any, then every --set together
 * (later ones win). Returns CLI_CONTINUE or the exit status (message
 * printed). */
static int make_spec(im_train_spec *spec, const train_args *t)
{
    im_error err = {0};
    im_train_spec_default(spec);
    if (t->spec_path) {
        int rc = strcmp(t->spec_path, "-") ? im_train_spec_load_file(spec, t->spec_path, &err)
                                           : load_spec_stdin(spec, &err);
        if (rc) {
            fprintf(stderr, "infomorph train: %s\n", err.msg);
            return rc == IM_EIO ? CLI_ERROR : CLI_USAGE;
        }
    }
    if (t->n_sets && im_train_spec_set_many(spec, t->n_sets, t->sets, &err)) {
        fprintf(stderr, "infomorph train: --set: %s\n", err.msg);
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

/* Train on spec, report; the exit status. */
static int train(const im_train_spec *spec, const char *data_dir, int json_output)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    progress prog = {.epochs = spec->epochs};
    im_train_options opt = {
        .data_dir = data_dir, .on_epoch = on_epoch, .user = &prog, .stop = &stop_requested};
    im_train_result res;
    im_error err = {0};
    fprintf(stderr,
            "infomorph train: %s, setup %s, %d hidden, %d epochs, batch %d, seed %llu, "
            "gamma %s\n",
            spec->dataset, im_setup_name(spec->setup), spec->hidden, spec->epochs, spec->batch,
            (unsigned long long)spec->seed,
            spec->gamma_preset[0] ? spec->gamma_preset : "(custom)");
    int rc = im_train_run(spec, &opt, &res, &err);
    int status = CLI_OK;
    if (rc && rc != IM_ESTOPPED) {
        fprintf(stderr, "infomorph train: %s\n", err.msg[0] ? err.msg : im_strerror(rc));
        status = CLI_ERROR;
        if (res.n_epochs == 0) {
            im_train_result_release(&res);
            return status;
        }
    }
    if (rc == IM_ESTOPPED) {
        fprintf(stderr, "infomorph train: interrupted after %d of %d epochs\n",
                res.n_epochs > 0 ? res.n_epochs - 1 : 0, spec->epochs);
        status = CLI_ERROR;
    }
    if (res.n_epochs > 0) {
        fprintf(stderr,
                "infomorph train: val_acc %.4f  test_acc %.4f  (epoch %d)  %.2f s "
                "(matrix products %.2f s, PID %.2f s)\n",
                res.val_acc, res.test_acc, res.curve[res.n_epochs - 1].epoch, res.wall_s,
                res.gemm_s, res.pid_s);
    }
    if (json_output) {
        json_t *j = im_train_result_to_json(spec, &res);
        if (!j || json_dumpf(j, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF) {
            fprintf(stderr, "infomorph train: unable to write the result\n");
            status = CLI_ERROR;
        }
        json_decref(j);
    }
    im_train_result_release(&res);
    return status;
}

int cli_train_main(int argc, char **argv)
{
    train_args t = {0};
    im_train_spec spec;
    int rc = parse_args(&t, argc, argv);
    if (rc == CLI_CONTINUE) rc = make_spec(&spec, &t);
    free(t.sets);
    if (rc != CLI_CONTINUE) return rc;
    const char *data_dir = t.data_dir;
    if (!data_dir) data_dir = getenv("INFOMORPH_DATA");
    if (!data_dir || !*data_dir) data_dir = "data";
    return train(&spec, data_dir, t.json_output);
}
