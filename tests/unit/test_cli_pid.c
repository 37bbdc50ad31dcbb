/*
 * test_cli_pid: `infomorph pid`, run as a program on the tables of
 * tests/data/pid_tables/. Each NAME.json there comes with NAME.expect, lines of
 *   # comment
 *   args ARG...        extra arguments before the table (split on spaces)
 *   stdin              pass the table on standard input as "-"
 *   exit N             the expected exit status
 *   stdout TEXT        TEXT must occur in standard output
 *   stderr TEXT        TEXT must occur in standard error
 *   atom NAME VALUE    the JSON output's atoms.NAME equals VALUE (1e-9 bits)
 *   value KEY VALUE    the JSON output's KEY equals VALUE (1e-9)
 * Every successful JSON output is also checked for its shape: the atoms in
 * canonical order, entropy = mutual information + h_res. The program is
 * $IM_BUILD_DIR/infomorph.
 */
#include "lattice.h"
#include "test.h"
#include "test_util.h"

#include <dirent.h>
#include <jansson.h>
#include <unistd.h>

#define MAX_ARGS 8

static char program[1024]; /* the program */

/* Run `infomorph pid ARGS...` with stdin from in_path (or /dev/null); stdout
 * and stderr are returned (caller frees). Returns the exit status, 128 + the
 * signal if the program was killed. */
static int run(char **args, int nargs, const char *in_path, char **out, char **errout)
{
    char *argv[MAX_ARGS + 4];
    int n = 0;
    argv[n++] = program;
    argv[n++] = "pid";
    for (int i = 0; i < nargs; i++) argv[n++] = args[i];
    argv[n] = NULL;
    return test_run(argv, in_path, out, errout);
}

/* The shape of a successful JSON answer. */
static void check_json_shape(const char *name, json_t *root)
{
    json_t *atoms = json_object_get(root, "atoms");
    int k = (int)json_integer_value(json_object_get(root, "sources"));
    im_lattice lat;
    CHECK_MSG(im_lattice_init(&lat, k, NULL) == 0, "%s: sources %d", name, k);
    CHECK_MSG(json_is_object(atoms) && json_object_size(atoms) == (size_t)lat.n, "%s: %zu atoms",
              name, json_object_size(atoms));
    int a = 0;
    const char *key;
    json_t *val;
    double mi = 0;
    json_object_foreach(atoms, key, val)
    {
        CHECK_MSG(a < lat.n && !strcmp(key, lat.short_name[a]), "%s: atom %d is '%s'", name, a,
                  key);
        mi += json_number_value(val);
        a++;
    }
    double h_res = json_number_value(json_object_get(root, "h_res"));
    double mi_out = json_number_value(json_object_get(root, "mutual_information"));
    double h = json_number_value(json_object_get(root, "entropy"));
    CHECK_MSG(fabs(mi - mi_out) <= 1e-12 && fabs(mi_out + h_res - h) <= 1e-12,
              "%s: atoms sum %.17g, mutual information %.17g, h_res %.17g, entropy %.17g", name, mi,
              mi_out, h_res, h);
    CHECK_MSG(json_object_size(root) == 5, "%s: %zu keys", name, json_object_size(root));
}

static void run_case(const char *dir, const char *name)
{
    char table[1024], expect_path[1024];
    if (snprintf(table, sizeof table, "%s/%s.json", dir, name) >= (int)sizeof table ||
        snprintf(expect_path, sizeof expect_path, "%s/%s.expect", dir, name) >=
            (int)sizeof expect_path) {
        CHECK_MSG(0, "%s: path too long", name);
        return;
    }
    char *expect = test_read_file(expect_path, NULL);
    CHECK_MSG(expect != NULL, "%s: no .expect file", name);
    if (!expect) return;

    /* pass 1: how to run it */
    char *args[MAX_ARGS + 1];
    int nargs = 0, use_stdin = 0, want_exit = -1;
    char *copy = strdup(expect), *save = NULL, *save2 = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strcmp(line, "stdin")) use_stdin = 1;
        if (!strncmp(line, "exit ", 5)) want_exit = atoi(line + 5);
        if (!strncmp(line, "args ", 5))
            for (char *a = strtok_r(line + 5, " ", &save2); a && nargs < MAX_ARGS - 1;
                 a = strtok_r(NULL, " ", &save2))
                args[nargs++] = strdup(a);
    }
    free(copy);
    args[nargs++] = use_stdin ? strdup("-") : strdup(table);
    CHECK_MSG(want_exit >= 0, "%s: no exit line", name);

    char *out = NULL, *err = NULL;
    int rc = run(args, nargs, use_stdin ? table : NULL, &out, &err);
    CHECK_MSG(rc == want_exit, "%s: exit %d, expected %d; stderr: %s", name, rc, want_exit,
              err ? err : "");
    json_t *root = NULL;
    int text_mode = 0;
    for (int i = 0; i < nargs; i++)
        if (!strcmp(args[i], "--text")) text_mode = 1;
    if (rc == 0 && !text_mode) {
        json_error_t jerr;
        root = json_loads(out ? out : "", 0, &jerr);
        CHECK_MSG(root != NULL, "%s: output is not JSON: %s", name, jerr.text);
        if (root) check_json_shape(name, root);
        CHECK_MSG(out && strchr(out, '\n') == out + strlen(out) - 1, "%s: not one line", name);
    }
    if (rc != 0) CHECK_MSG(out && !*out, "%s: output on failure: %s", name, out ? out : "");

    /* pass 2: the expectations */
    copy = strdup(expect);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[64];
        double v;
        if (!strncmp(line, "stdout ", 7)) {
            CHECK_MSG(out && strstr(out, line + 7), "%s: stdout lacks \"%s\": %s", name, line + 7,
                      out ? out : "");
        } else if (!strncmp(line, "stderr ", 7)) {
            CHECK_MSG(err && strstr(err, line + 7), "%s: stderr lacks \"%s\": %s", name, line + 7,
                      err ? err : "");
        } else if (sscanf(line, "atom %63s %lf", key, &v) == 2) {
            json_t *x = root ? json_object_get(json_object_get(root, "atoms"), key) : NULL;
            CHECK_MSG(x && fabs(json_number_value(x) - v) <= 1e-9, "%s: atom %s = %.17g, not %.17g",
                      name, key, x ? json_number_value(x) : NAN, v);
        } else if (sscanf(line, "value %63s %lf", key, &v) == 2) {
            json_t *x = root ? json_object_get(root, key) : NULL;
            CHECK_MSG(x && fabs(json_number_value(x) - v) <= 1e-9, "%s: %s = %.17g, not %.17g",
                      name, key, x ? json_number_value(x) : NAN, v);
        } else {
            CHECK_MSG(line[0] == '#' || !strncmp(line, "args ", 5) || !strcmp(line, "stdin") ||
                          !strncmp(line, "exit ", 5),
                      "%s: unknown expectation \"%s\"", name, line);
        }
    }
    free(copy);
    json_decref(root);
    for (int i = 0; i < nargs; i++) free(args[i]);
    free(out);
    free(err);
    free(expect);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Exit status and a stderr fragment of a run without a table file. */
static void check_run(char **args, int nargs, int want_exit, const char *where, const char *frag)
{
    char *out = NULL, *err = NULL;
    int rc = run(args, nargs, NULL, &out, &err);
    CHECK_MSG(rc == want_exit, "%s %s: exit %d, expected %d", args[0], nargs > 1 ? args[1] : "", rc,
              want_exit);
    const char *text = !strcmp(where, "stdout") ? out : err;
    CHECK_MSG(text && strstr(text, frag), "%s: %s lacks \"%s\": %s", args[0], where, frag,
              text ? text : "(null)");
    free(out);
    free(err);
}

int main(void)
{
    const char *bd = getenv("IM_BUILD_DIR");
    snprintf(program, sizeof program, "%s/infomorph", bd ? bd : ".");
    CHECK_MSG(access(program, X_OK) == 0, "no program %s", program);

    char dir[1024];
    snprintf(dir, sizeof dir, "%s/pid_tables", test_data_dir());
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "no directory %s", dir);
    char *names[256];
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json") && n < 256)
            names[n++] = strndup(e->d_name, len - 5);
    }
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int good = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        run_case(dir, names[i]);
        if (!strncmp(names[i], "good-", 5)) good++;
        if (!strncmp(names[i], "bad-", 4)) bad++;
        free(names[i]);
    }
    CHECK(good >= 5);
    CHECK(bad >= 10);

    char a_help[] = "--help", a_text[] = "--text", a_bogus[] = "--bogus";
    char a_missing[] = "/nonexistent/table.json", a_one[] = "x.json", a_two[] = "y.json";
    char *help[] = {a_help}, *none[] = {a_text}, *bogus[] = {a_bogus, a_one};
    char *missing[] = {a_missing}, *two[] = {a_one, a_two}, *text_after[] = {a_missing, a_text};
    check_run(help, 1, 0, "stdout", "usage: infomorph pid");
    check_run(none, 1, 2, "stderr", "no table given");
    check_run(bogus, 2, 2, "stderr", "unknown option '--bogus'");
    check_run(missing, 1, 1, "stderr", "unable to open '/nonexistent/table.json'");
    check_run(two, 2, 2, "stderr", "more than one table");
    /* options may follow the table */
    check_run(text_after, 2, 1, "stderr", "unable to open '/nonexistent/table.json'");
    return TEST_END();
}
