/*
 * test_cli_train.c: the `infomorph train` verb as a person uses it: the real
 * program ($IM_BUILD_DIR/infomorph) run on a tiny spec, its --json output
 * parsed and checked key by key, progress on stderr, bad specs and arguments
 * refused with exit status 2, missing data with 1, and Ctrl-C (SIGINT)
 * stopping a run cleanly with what was done on stdout.
 *
 * Data: mnist10k from $IM_DATA_DIR when fetched, else a synthetic dataset
 * written to a temporary directory.
 */
#include "synth_data.h"
#include "test.h"
#include "test_util.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static char program[4200], tmp_dir[4096], data_dir[4096], out_path[4300], err_path[4300];
static const char *in_path; /* standard input of the next start(), NULL: inherited */
static const char *dataset = "mnist10k";

/* Start the program with argv (NULL-terminated, argv[0] ignored), stdout and
 * stderr to files. Returns the child's pid or -1. */
static pid_t start(char **argv)
{
    argv[0] = program;
    return test_spawn(argv, in_path, out_path, err_path);
}

/* The text of a file; valid until the next call. */
static const char *slurp(const char *path)
{
    static char *text;
    free(text);
    text = test_read_file(path, NULL);
    return text;
}

/* Run to the end; returns the exit status. */
static int run(char **argv)
{
    return test_wait(start(argv));
}

#define ARGS(...) ((char *[]){"infomorph", "train", __VA_ARGS__, NULL})

static void test_help(void)
{
    CHECK_INT(run(ARGS("--help")), 0);
    CHECK_CONTAINS(slurp(out_path), "usage: infomorph train");
    CHECK_CONTAINS(slurp(out_path), "--data-dir");
}

static void test_json_run(void)
{
    char set_dataset[128];
    snprintf(set_dataset, sizeof set_dataset, "dataset=%s", dataset);
    int rc = run(ARGS("--set", "hidden=8", "--set", "epochs=1", "--set", "train_limit=512", "--set",
                      "eval_limit=128", "--set", "batch=128", "--set", set_dataset, "--data-dir",
                      data_dir, "--json"));
    CHECK_INT(rc, 0);
    const char *err_text = slurp(err_path);
    CHECK_CONTAINS(err_text, "epoch  0/1");
    CHECK_CONTAINS(err_text, "epoch  1/1");
    CHECK_CONTAINS(err_text, "val_acc");
    json_error_t jerr;
    json_t *j = json_loads(slurp(out_path), 0, &jerr);
    CHECK_MSG(j != NULL, "stdout is not one JSON object: %s", jerr.text);
    if (!j) return;
    json_t *spec = json_object_get(j, "spec");
    CHECK(json_is_object(spec));
    CHECK_INT(json_integer_value(json_object_get(spec, "hidden")), 8);
    CHECK_STR(json_string_value(json_object_get(spec, "setup")), "trivariate");
    CHECK_STR(json_string_value(json_object_get(spec, "dataset")), dataset);
    double val = json_real_value(json_object_get(j, "val_acc"));
    CHECK(json_is_real(json_object_get(j, "val_acc")) && val >= 0 && val <= 1);
    CHECK(json_is_real(json_object_get(j, "test_acc")));
    json_t *curve = json_object_get(j, "curve");
    CHECK_INT(json_array_size(curve), 2);
    json_t *last = json_array_get(curve, 1);
    CHECK(json_real_value(json_object_get(last, "val_acc")) == val);
    CHECK_INT(json_integer_value(json_object_get(last, "epoch")), 1);
    CHECK(json_is_object(json_object_get(last, "atoms_hidden")));
    json_t *atoms = json_object_get(j, "atoms");
    CHECK_INT(json_object_size(json_object_get(atoms, "hidden")), 19);
    CHECK_INT(json_object_size(json_object_get(atoms, "output")), 5);
    CHECK(json_is_real(json_object_get(json_object_get(atoms, "hidden"), "fcl")));
    json_t *timings = json_object_get(j, "timings");
    CHECK(json_is_real(json_object_get(timings, "wall_s")));
    CHECK(json_is_real(json_object_get(timings, "gemm_s")));
    CHECK(json_is_real(json_object_get(timings, "pid_s")));
    CHECK(json_is_true(json_object_get(j, "complete")));
    json_decref(j);
}

static void test_spec_file(void)
{
    char spec_path[4300];
    snprintf(spec_path, sizeof spec_path, "%s/spec.json", tmp_dir);
    FILE *f = fopen(spec_path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f,
            "{\"dataset\": \"%s\", \"setup\": \"bivariate-context\", \"hidden\": 6, "
            "\"epochs\": 1, \"batch\": 64, \"train_limit\": 256, \"eval_limit\": 64}\n",
            dataset);
    fclose(f);
    /* --set wins over the file */
    CHECK_INT(run(ARGS(spec_path, "--set", "seed=5", "--data-dir", data_dir, "--json")), 0);
    json_t *j = json_loads(slurp(out_path), 0, NULL);
    CHECK(j != NULL);
    json_t *spec = json_object_get(j, "spec");
    CHECK_STR(json_string_value(json_object_get(spec, "setup")), "bivariate-context");
    CHECK_INT(json_integer_value(json_object_get(spec, "seed")), 5);
    CHECK_INT(json_object_size(json_object_get(json_object_get(j, "atoms"), "hidden")), 5);
    json_decref(j);

    /* the same spec from standard input */
    in_path = spec_path;
    CHECK_INT(run(ARGS("-", "--data-dir", data_dir, "--json")), 0);
    in_path = NULL;
    j = json_loads(slurp(out_path), 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "spec"), "setup")),
              "bivariate-context");
    json_decref(j);

    /* refused specs: exit 2 and a message naming the problem */
    fprintf(stderr, "(refused specs follow)\n");
    f = fopen(spec_path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"hiden\": 6}\n");
    fclose(f);
    CHECK_INT(run(ARGS(spec_path, "--data-dir", data_dir)), 2);
    CHECK_CONTAINS(slurp(err_path), "hiden");
    f = fopen(spec_path, "w");
    if (!f) return;
    fprintf(f, "{\"hidden\": 6,\n");
    fclose(f);
    CHECK_INT(run(ARGS(spec_path, "--data-dir", data_dir)), 2);
    f = fopen(spec_path, "w");
    if (!f) return;
    fprintf(f, "{\"hidden\": \"many\"}\n");
    fclose(f);
    CHECK_INT(run(ARGS(spec_path, "--data-dir", data_dir)), 2);
    CHECK_CONTAINS(slurp(err_path), "hidden");
    unlink(spec_path);
}

static void test_refused(void)
{
    CHECK_INT(run(ARGS("--set", "hidden=0")), 2);
    CHECK_CONTAINS(slurp(err_path), "hidden");
    CHECK_INT(run(ARGS("--set", "setup=quadrivariate")), 2);
    CHECK_INT(run(ARGS("--set", "gamma=[1,2,3]")), 2);
    CHECK_INT(run(ARGS("--set", "no_such_key=1")), 2);
    CHECK_INT(run(ARGS("--set=hidden=0")), 2);
    CHECK_CONTAINS(slurp(err_path), "hidden");
    CHECK_INT(run(ARGS("--set")), 2);
    CHECK_CONTAINS(slurp(err_path), "infomorph train: --set needs a value");
    CHECK_INT(run(ARGS("--json", "--data-dir")), 2);
    CHECK_CONTAINS(slurp(err_path), "--data-dir needs a value");
    CHECK_INT(run(ARGS("--bogus")), 2);
    CHECK_CONTAINS(slurp(err_path), "unknown option '--bogus'");
    CHECK_INT(run(ARGS("a.json", "b.json")), 2);
    /* missing data: an error, not a usage problem */
    char nowhere[4300];
    snprintf(nowhere, sizeof nowhere, "%s/no-data-here", tmp_dir);
    CHECK_INT(run(ARGS("--set", "epochs=1", "--data-dir", nowhere)), 1);
    CHECK_CONTAINS(slurp(err_path), "not found");
}

/* SIGINT stops a run; what was done is still printed as JSON. */
static void test_sigint(void)
{
    char set_dataset[128];
    snprintf(set_dataset, sizeof set_dataset, "dataset=%s", dataset);
    pid_t pid = start(ARGS("--set", "hidden=8", "--set", "epochs=100000", "--set",
                           "train_limit=256", "--set", "eval_limit=64", "--set", "batch=64",
                           "--set", set_dataset, "--data-dir", data_dir, "--json"));
    CHECK(pid > 0);
    if (pid <= 0) return;
    /* wait until epoch 1 is reported (at most 60 s) */
    int seen = 0;
    for (int i = 0; i < 1200 && !seen; i++) {
        const char *e = slurp(err_path);
        seen = e && strstr(e, "epoch      1/");
        if (!seen) test_sleep_ms(50);
    }
    CHECK_MSG(seen, "no progress line for epoch 1: %s", slurp(err_path));
    kill(pid, SIGINT);
    CHECK_INT(test_wait(pid), 1);
    CHECK_CONTAINS(slurp(err_path), "interrupted");
    json_t *j = json_loads(slurp(out_path), 0, NULL);
    CHECK_MSG(j != NULL, "no JSON after SIGINT: %s", slurp(out_path));
    if (!j) return;
    CHECK(json_is_false(json_object_get(j, "complete")));
    json_int_t done = json_integer_value(json_object_get(j, "epochs_done"));
    CHECK(done >= 1 && done < 100000);
    CHECK_INT(json_array_size(json_object_get(j, "curve")), done + 1);
    json_decref(j);
}

int main(void)
{
    const char *build = getenv("IM_BUILD_DIR");
    snprintf(program, sizeof program, "%s/infomorph", build ? build : ".");
    if (test_mkdtemp(tmp_dir, sizeof tmp_dir, NULL, "im-test-cli-train") != 0) return 1;
    snprintf(out_path, sizeof out_path, "%s/stdout", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmp_dir);

    if (!test_have_mnist10k(data_dir, sizeof data_dir)) {
        snprintf(data_dir, sizeof data_dir, "%s", tmp_dir);
        CHECK(synth_write_dataset(data_dir, "synthetic", 600, 200) == 0);
        dataset = "synthetic";
        fprintf(stderr, "NOTICE: mnist10k is absent; using a synthetic dataset\n");
    }

    test_help();
    test_json_run();
    test_spec_file();
    test_refused();
    test_sigint();

    test_rm_tree(tmp_dir);
    return TEST_END();
}
