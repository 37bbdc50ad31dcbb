/*
 * cli_train.c: `infomorph train [SPEC.json] [--set key=value ...]
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
        if (left < 90)
            snprintf(eta, sizeof eta, "%.0f s", left);
        else if (left < 5400)
            snprintf(eta, sizeof eta, "%.0f min", left / 60);
        else
            snprintf(eta, sizeof eta, "%.1f h", left / 3600);
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

int cli_train_main(int argc, char **argv)
{
    const char *spec_path = NULL, *data_dir = NULL;
    int json_output = 0;
    im_error err = {0};
    im_train_spec spec;
    im_train_spec_default(&spec);

    /* First pass: options that do not depend on the spec, and the file. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json_output = 1;
        } else if (!strcmp(a, "--data-dir") || !strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "infomorph train: %s needs a value\n", a);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--data-dir")) data_dir = argv[i + 1];
            i++;
        } else if (!strncmp(a, "--data-dir=", 11)) {
            data_dir = a + 11;
        } else if (!strncmp(a, "--set=", 6)) {
            /* applied in the second pass */
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "infomorph train: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else if (spec_path) {
            fprintf(stderr, "infomorph train: more than one spec file ('%s', '%s')\n", spec_path,
                    a);
            return CLI_USAGE;
        } else {
            spec_path = a;
        }
    }
    if (spec_path) {
        int rc = strcmp(spec_path, "-") ? im_train_spec_load_file(&spec, spec_path, &err)
                                        : load_spec_stdin(&spec, &err);
        if (rc) {
            fprintf(stderr, "infomorph train: %s\n", err.msg);
            return rc == IM_EIO ? CLI_ERROR : CLI_USAGE;
        }
    }
    /* Second pass: every --set, applied together over the file (later ones win). */
    const char **sets = calloc((size_t)argc, sizeof *sets);
    int n_sets = 0;
    if (!sets) {
        fprintf(stderr, "infomorph train: out of memory\n");
        return CLI_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data-dir"))
            i++;
        else if (!strcmp(argv[i], "--set"))
            sets[n_sets++] = argv[++i];
        else if (!strncmp(argv[i], "--set=", 6))
            sets[n_sets++] = argv[i] + 6;
    }
    int set_rc = n_sets ? im_train_spec_set_many(&spec, n_sets, sets, &err) : 0;
    free(sets);
    if (set_rc) {
        fprintf(stderr, "infomorph train: --set: %s\n", err.msg);
        return CLI_USAGE;
    }
    if (!data_dir) data_dir = getenv("INFOMORPH_DATA");
    if (!data_dir || !*data_dir) data_dir = "data";

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    progress prog = {.epochs = spec.epochs};
    im_train_options opt = {
        .data_dir = data_dir, .on_epoch = on_epoch, .user = &prog, .stop = &stop_requested};
    im_train_result res;
    fprintf(stderr,
            "infomorph train: %s, setup %s, %d hidden, %d epochs, batch %d, seed %llu, "
            "gamma %s\n",
            spec.dataset, im_setup_name(spec.setup), spec.hidden, spec.epochs, spec.batch,
            (unsigned long long)spec.seed, spec.gamma_preset[0] ? spec.gamma_preset : "(custom)");
    int rc = im_train_run(&spec, &opt, &res, &err);
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
                res.n_epochs > 0 ? res.n_epochs - 1 : 0, spec.epochs);
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
        json_t *j = im_train_result_to_json(&spec, &res);
        if (!j || json_dumpf(j, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF) {
            fprintf(stderr, "infomorph train: unable to write the result\n");
            status = CLI_ERROR;
        }
        json_decref(j);
    }
    im_train_result_release(&res);
    return status;
}
