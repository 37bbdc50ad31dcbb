/*
 * test_backend_exec.c: the external-command backend with real processes
 * (the commands are the scripts of tests/data/exec): the command line
 * splitter; a well-behaved command (stdin, progress, result, the lines that
 * are not JSON); a non-zero exit, garbage, no result, a bad accuracy, a
 * signal, a missing program; the timeout, the stop flag and the callback
 * (pruning), a command that ignores SIGTERM. After each run no child is
 * left (no zombie) and no process of the command's group survives.
 */
#include "backend.h"
#include "test.h"
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[1024], g_tmp[1024];

static void check_split(const char *line, int n, const char *const *words)
{
    char **argv = NULL;
    im_error err = {0};
    int rc = wk_exec_split(line, &argv, &err);
    CHECK_MSG(rc == 0, "split '%s': %s", line, err.msg);
    if (rc) return;
    int i = 0;
    for (; argv[i]; i++)
        if (i < n) CHECK_STR(argv[i], words[i]);
    CHECK_INT(i, n);
    wk_exec_argv_free(&argv);
    CHECK(argv == NULL);
}

static void test_split(void)
{
    check_split("python3 train.py", 2, (const char *const[]){"python3", "train.py"});
    check_split("  a\t'b c'  \"d \\\"e\\\" $HOME\" f\\ g ''", 5,
                (const char *const[]){"a", "b c", "d \"e\" $HOME", "f g", ""});
    check_split("x'y'\"z\"w", 1, (const char *const[]){"xyzw"});
    check_split("'$(rm -rf /)' `ls` *", 3, (const char *const[]){"$(rm -rf /)", "`ls`", "*"});
    static const char *bad[] = {"", "   ", "'open", "\"open", "trailing\\"};
    for (int i = 0; i < 5; i++) {
        char **argv = (char **)1;
        im_error err = {0};
        CHECK_INT(wk_exec_split(bad[i], &argv, &err), IM_EFORMAT);
        CHECK(argv == NULL);
        CHECK_CONTAINS(err.msg, "exec: ");
    }
}

typedef struct counter {
    int epochs;
    int stop_after; /* the callback asks to stop after this many; 0 = never */
} counter;

static int on_epoch(const im_epoch_stats *s, void *user)
{
    counter *c = user;
    (void)s;
    c->epochs++;
    return c->stop_after > 0 && c->epochs >= c->stop_after;
}

/* Run script (with one argument, or none) with the spec text; no child may
 * be left afterwards. */
static wk_result *run_script(const char *script, const char *arg, const char *spec_text,
                             double timeout_s, counter *cnt, const atomic_int *stop)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_dir, script);
    char *argv[] = {path, (char *)arg, NULL};
    json_t *spec = json_loads(spec_text, 0, NULL);
    json_t *params = json_pack("{s:f, s:i, s:s}", "x", 0.5, "layers", 2, "act", "relu");
    json_t *user = json_pack("{s:s}", "note", "hi");
    wk_run_options opt = {.on_epoch = cnt ? on_epoch : NULL,
                          .user = cnt,
                          .stop = stop,
                          .trial = 42,
                          .attempt = 3,
                          .params = params,
                          .campaign_user = user,
                          .exec_argv = argv,
                          .trial_timeout_s = timeout_s};
    wk_result *res = wk_exec_run(spec, &opt);
    json_decref(spec);
    json_decref(params);
    json_decref(user);
    errno = 0;
    CHECK_MSG(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "%s left a child process behind",
              script);
    return res;
}

/* 1 if pid is a process that has not ended: a zombie has ended (init, its
 * new parent, reaps it when it gets to it). */
static int process_running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return kill(pid, 0) == 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* The pid in file path is no longer a process. */
static void check_gone(const char *path)
{
    char *text = test_read_file(path, NULL);
    CHECK_MSG(text != NULL, "no pid file %s", path);
    if (!text) return;
    pid_t pid = (pid_t)atol(text);
    free(text);
    CHECK(pid > 1);
    int alive = 1;
    for (int i = 0; i < 50 && alive; i++) {
        alive = process_running(pid);
        if (alive) test_sleep_ms(20);
    }
    CHECK_MSG(!alive, "process %d of the command's group survived", (int)pid);
    unlink(path);
}

static void test_ok(void)
{
    counter cnt = {0};
    wk_result *res =
        run_script("ok.py", NULL, "{\"backend\": \"exec\", \"seed\": 7}", 0, &cnt, NULL);
    CHECK_INT(res->r.status, IM_RESULT_DONE);
    CHECK(res->r.error == NULL);
    CHECK_NEAR(res->r.val_acc, 0.5, 1e-12);
    CHECK_NEAR(res->r.test_acc, 0.25, 1e-12);
    CHECK_INT(cnt.epochs, 3);
    CHECK_INT((long long)res->r.n_curve, 3);
    if (res->r.n_curve == 3) {
        CHECK_INT(res->r.curve[2].epoch, 2);
        CHECK_NEAR(res->r.curve[2].val_acc, 0.3, 1e-12);
        CHECK(isnan(res->r.curve[2].train_acc));
    }
    CHECK(res->r.wall_s > 0);
    CHECK_NEAR(json_real_value(json_object_get(res->r.extra, "value")), 0.5, 1e-12);
    const json_t *out = json_object_get(res->r.extra, "output");
    CHECK_INT(json_integer_value(json_object_get(out, "seed")), 7);
    CHECK_INT(json_integer_value(json_object_get(out, "trial")), 42);
    const json_t *p = json_object_get(out, "params");
    CHECK_NEAR(json_number_value(json_object_get(p, "x")), 0.5, 1e-12);
    CHECK_INT(json_integer_value(json_object_get(p, "layers")), 2);
    CHECK_STR(json_string_value(json_object_get(p, "act")), "relu");
    CHECK_STR(json_string_value(json_object_get(json_object_get(out, "user"), "note")), "hi");
    wk_result_free(&res);

    /* another objective: any range, any sign */
    res = run_script("ok.py", NULL, "{\"backend\": \"exec\", \"seed\": 1, \"objective\": \"loss\"}",
                     0, NULL, NULL);
    CHECK_INT(res->r.status, IM_RESULT_DONE);
    CHECK_NEAR(json_real_value(json_object_get(res->r.extra, "value")), 0.04 - 7.0, 1e-12);
    const json_t *cv = json_object_get(res->r.extra, "curve_values");
    CHECK_INT((long long)json_array_size(cv), 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_NEAR(json_number_value(json_array_get(cv, i)), 3.0 - (double)i, 0);
    wk_result_free(&res);
    res = run_script("ok.py", NULL, "{\"backend\": \"exec\", \"objective\": \"nope\"}", 0, NULL,
                     NULL);
    CHECK_INT(res->r.status, IM_RESULT_FAILED);
    CHECK_CONTAINS(res->r.error, "no finite number 'nope'");
    wk_result_free(&res);
}

static void check_failed(const char *script, const char *arg, double timeout_s, const char *why,
                         const char *detail)
{
    double t0 = test_now_s();
    wk_result *res = run_script(script, arg, "{\"backend\": \"exec\"}", timeout_s, NULL, NULL);
    CHECK_INT(res->r.status, IM_RESULT_FAILED);
    CHECK_MSG(res->r.error && strstr(res->r.error, why), "%s: error '%s', expected '%s'", script,
              res->r.error ? res->r.error : "(null)", why);
    if (detail)
        CHECK_MSG(res->r.error && strstr(res->r.error, detail), "%s: error '%s', expected '%s'",
                  script, res->r.error ? res->r.error : "(null)", detail);
    CHECK(isnan(res->r.val_acc));
    CHECK_MSG(test_now_s() - t0 < 10, "%s took %.1f s", script, test_now_s() - t0);
    wk_result_free(&res);
}

static void test_failures(void)
{
    check_failed("fail.sh", NULL, 0, "exited with status 1", "stderr: boom: the model diverged");
    check_failed("garbage.sh", NULL, 0, "not valid JSON", "output: hello");
    check_failed("noresult.sh", NULL, 0, "printed no result line", NULL);
    check_failed("badacc.sh", NULL, 0, "'val_acc' in the result line must be a fraction", NULL);
    check_failed("killed.sh", NULL, 0, "killed by signal 9 (SIGKILL)", "about to die");
    check_failed("no-such-script.sh", NULL, 0, "unable to run", NULL);

    char pidfile[1100];
    snprintf(pidfile, sizeof pidfile, "%s/hang.pid", g_tmp);
    check_failed("hang.sh", pidfile, 0.5, "timed out after 0.5 s", NULL);
    check_gone(pidfile);

    /* the command exits, its background child is killed, the result stands */
    snprintf(pidfile, sizeof pidfile, "%s/orphan.pid", g_tmp);
    double t0 = test_now_s();
    wk_result *res = run_script("orphan.sh", pidfile, "{\"backend\": \"exec\"}", 0, NULL, NULL);
    CHECK_INT(res->r.status, IM_RESULT_DONE);
    CHECK_NEAR(res->r.val_acc, 0.75, 1e-12);
    CHECK(test_now_s() - t0 < 5);
    wk_result_free(&res);
    check_gone(pidfile);

    /* no command at all */
    json_t *spec = json_pack("{s:s}", "backend", "exec");
    wk_run_options opt = {0};
    res = wk_exec_run(spec, &opt);
    CHECK_INT(res->r.status, IM_RESULT_FAILED);
    CHECK_CONTAINS(res->r.error, "--exec");
    wk_result_free(&res);
    json_decref(spec);
}

typedef struct stopper {
    atomic_int *flag;
    int after_ms;
} stopper;

static void *stop_later(void *arg)
{
    stopper *s = arg;
    test_sleep_ms(s->after_ms);
    atomic_store(s->flag, 1);
    return NULL;
}

static void test_stop(void)
{
    /* pruned through the callback after 3 epochs */
    counter cnt = {.stop_after = 3};
    double t0 = test_now_s();
    wk_result *res = run_script("progress.sh", NULL, "{\"backend\": \"exec\"}", 0, &cnt, NULL);
    CHECK_INT(res->r.status, IM_RESULT_STOPPED);
    CHECK(res->r.n_curve >= 3 && res->r.n_curve < 100);
    CHECK_NEAR(res->r.val_acc, 0.1, 1e-12);
    CHECK(test_now_s() - t0 < 5);
    /* the objective so far (val_acc, the default): by epoch, and the last,
     * which values a pruned point */
    const json_t *cv = json_object_get(res->r.extra, "curve_values");
    CHECK_INT(json_array_size(cv), res->r.n_curve);
    CHECK_NEAR(json_number_value(json_array_get(cv, 0)), 0.1, 1e-12);
    CHECK_NEAR(json_number_value(json_object_get(res->r.extra, "value")), 0.1, 1e-12);
    wk_result_free(&res);

    /* the stop flag (STOP or SIGTERM in the worker), also for a command
     * that ignores SIGTERM (SIGKILL after the grace period) */
    static const char *scripts[] = {"progress.sh", "stubborn.sh"};
    for (int i = 0; i < 2; i++) {
        atomic_int flag = 0;
        stopper s = {&flag, 300};
        pthread_t th;
        pthread_create(&th, NULL, stop_later, &s);
        t0 = test_now_s();
        res = run_script(scripts[i], NULL, "{\"backend\": \"exec\"}", 0, NULL, &flag);
        pthread_join(th, NULL);
        double took = test_now_s() - t0;
        CHECK_INT(res->r.status, IM_RESULT_STOPPED);
        CHECK_MSG(took >= 0.25 && took < (i == 0 ? 2.0 : 4.5), "%s stopped in %.2f s", scripts[i],
                  took);
        wk_result_free(&res);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *data = getenv("IM_TEST_DATA");
    snprintf(g_dir, sizeof g_dir, "%s/exec", data ? data : "tests/data");
    if (test_mkdtemp(g_tmp, sizeof g_tmp, NULL, "backend_exec") != 0) {
        fprintf(stderr, "unable to make a temporary directory\n");
        return 1;
    }
    test_split();
    test_ok();
    test_failures();
    test_stop();
    test_rm_tree(g_tmp);
    return TEST_END();
}
