/*
 * pid.c: `infomorph pid [--text] TABLE.json|-`, the I_sx PID atoms of a
 * joint distribution of k = 2 or 3 sources and a binary target T.
 *
 * The table is a JSON object with exactly the keys
 *   "sources": 2 or 3
 *   "shape":   [B1, B2, (B3,) 2]   bins per source, then T (index 0: T = -1, 1: T = +1)
 *   "p":       [...]               the probabilities, flat, row-major, T the last axis
 * Entries must be non-negative and sum to 1 within 1e-9. Anything else is
 * refused with exit status 2 and a message naming the problem; an unreadable
 * file is exit status 1.
 */
#include "cli.h"

#include "lattice.h"
#include "pid.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM_TOL 1e-9

static void usage(FILE *out)
{
    fprintf(out, "usage: infomorph pid [--text] TABLE.json    (TABLE.json may be - for stdin)\n\n"
                 "Prints the I_sx partial information decomposition of a joint distribution of\n"
                 "2 or 3 sources (F, C[, L]) and a binary target T, in bits, as one JSON object:\n"
                 "  {\"sources\": k, \"atoms\": {\"f_c\": ..., ...}, \"h_res\": ...,\n"
                 "   \"mutual_information\": ..., \"entropy\": ...}\n"
                 "with the atoms in canonical order. The table is a JSON object:\n"
                 "  {\"sources\": 2, \"shape\": [B1, B2, 2], \"p\": [...]}\n"
                 "(3 sources: \"shape\": [B1, B2, B3, 2]); p is flat, row-major, T the last axis\n"
                 "(index 0: T = -1, index 1: T = +1), entries >= 0 summing to 1.\n\n"
                 "options:\n"
                 "  --text    a table for people, with braced atom names\n"
                 "  --help    this text\n");
}

/* Read all of f into a NUL-terminated buffer (caller frees); NULL on a read error. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = im_xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = im_xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The table's keys and "sources" into *k. Returns 0, or -1 with a message
 * in msg. */
static int parse_keys(json_t *root, int *k, char *msg, size_t msg_size)
{
    if (!json_is_object(root)) {
        snprintf(msg, msg_size, "the table must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "sources") && strcmp(key, "shape") && strcmp(key, "p")) {
            snprintf(msg, msg_size, "unknown key '%s' (expected sources, shape, p)", key);
            return -1;
        }
    }
    static const char *const required[] = {"sources", "shape", "p"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(root, required[i])) {
            snprintf(msg, msg_size, "missing key '%s'", required[i]);
            return -1;
        }
    json_t *js = json_object_get(root, "sources");
    if (!json_is_integer(js) || (json_integer_value(js) != 2 && json_integer_value(js) != 3)) {
        snprintf(msg, msg_size, "sources must be 2 or 3");
        return -1;
    }
    *k = (int)json_integer_value(js);
    return 0;
}

/* "shape" of a table of k sources into shape[k] and the number of cells
 * (sources and T) into *cells. Returns 0, or -1 with a message in msg. */
static int parse_shape(json_t *jshape, int k, int *shape, size_t *cells, char *msg, size_t msg_size)
{
    if (!json_is_array(jshape) || json_array_size(jshape) != (size_t)k + 1) {
        snprintf(msg, msg_size, "shape must be an array of %d integers (%d sources, then T)", k + 1,
                 k);
        return -1;
    }
    *cells = 1;
    for (int i = 0; i <= k; i++) {
        json_t *e = json_array_get(jshape, (size_t)i);
        json_int_t b = json_is_integer(e) ? json_integer_value(e) : 0;
        if (b < 1 || b > 65535) {
            snprintf(msg, msg_size, "shape[%d] must be an integer in 1..65535", i);
            return -1;
        }
        if (i == k && b != 2) {
            snprintf(msg, msg_size, "shape[%d] (the target T) must be 2, not %lld", i,
                     (long long)b);
            return -1;
        }
        if (i < k) shape[i] = (int)b;
        if (im_size_mul(*cells, (size_t)b, cells) != 0 || *cells > ((size_t)1 << 28)) {
            snprintf(msg, msg_size, "shape: the table is too large");
            return -1;
        }
    }
    return 0;
}

/* "p", cells probabilities, into *p (caller frees). Returns 0, or -1 with a
 * message in msg. */
static int parse_p(json_t *jp, size_t cells, double **p, char *msg, size_t msg_size)
{
    if (!json_is_array(jp)) {
        snprintf(msg, msg_size, "p must be an array of numbers");
        return -1;
    }
    if (json_array_size(jp) != cells) {
        snprintf(msg, msg_size, "wrong length: p has %zu entries, shape needs %zu",
                 json_array_size(jp), cells);
        return -1;
    }
    double *x = im_xmalloc_array(cells, sizeof(double));
    double sum = 0.0;
    for (size_t i = 0; i < cells; i++) {
        json_t *e = json_array_get(jp, i);
        if (!json_is_number(e)) {
            snprintf(msg, msg_size, "p[%zu] is not a number", i);
            free(x);
            return -1;
        }
        x[i] = json_number_value(e);
        if (!(x[i] >= 0.0) || !isfinite(x[i])) {
            snprintf(msg, msg_size, "p[%zu] is negative (%g)", i, x[i]);
            free(x);
            return -1;
        }
        sum += x[i];
    }
    if (!(fabs(sum - 1.0) <= SUM_TOL)) {
        snprintf(msg, msg_size, "p sums to %.12g, not 1 (tolerance %g)", sum, SUM_TOL);
        free(x);
        return -1;
    }
    *p = x;
    return 0;
}

/* Declared in cli.h. */
int cli_pid_parse_table(json_t *root, int *k, int *shape, double **p, char *msg, size_t msg_size)
{
    size_t cells;
    *p = NULL;
    if (parse_keys(root, k, msg, msg_size) ||
        parse_shape(json_object_get(root, "shape"), *k, shape, &cells, msg, msg_size))
        return -1;
    return parse_p(json_object_get(root, "p"), cells, p, msg, msg_size);
}

static void print_json(const im_lattice *lat, const double *terms, double mi, double h)
{
    json_t *root = json_object(), *atoms = json_object();
    json_object_set_new(root, "sources", json_integer(lat->k));
    for (int a = 0; a < lat->n; a++)
        json_object_set_new(atoms, lat->short_name[a], json_real(terms[a]));
    json_object_set_new(root, "atoms", atoms);
    json_object_set_new(root, "h_res", json_real(terms[lat->n]));
    json_object_set_new(root, "mutual_information", json_real(mi));
    json_object_set_new(root, "entropy", json_real(h));
    char *s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (s) printf("%s\n", s);
    free(s);
    json_decref(root);
}

static void print_text(const im_lattice *lat, const double *terms, double mi, double h)
{
    printf("I_sx partial information decomposition, %d sources (%s), bits\n\n", lat->k,
           lat->k == 2 ? "F, C" : "F, C, L");
    printf("  %-14s %-10s %14s\n", "atom", "short", "bits");
    for (int a = 0; a <= lat->n; a++)
        printf("  %-14s %-10s %14.9f\n", lat->braced[a], lat->short_name[a], terms[a]);
    printf("\n  %-25s %14.9f\n", "I(T; sources)", mi);
    printf("  %-25s %14.9f\n", "H(T)", h);
}

/* The arguments of pid: *text for --text, *path the table. Returns
 * CLI_CONTINUE, CLI_OK after --help or CLI_USAGE (message printed). */
static int pid_args(int argc, char **argv, int *text, const char **path)
{
    static const struct option longopts[] = {
        {"text", no_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 't') {
            *text = 1;
        } else if (c == 'h') {
            usage(stdout);
            return CLI_OK;
        } else {
            cli_bad_option("pid", c, argv);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "infomorph pid: no table given\n");
        usage(stderr);
        return CLI_USAGE;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "infomorph pid: more than one table given\n");
        return CLI_USAGE;
    }
    *path = argv[optind];
    return CLI_CONTINUE;
}

/* The JSON document in the file path ("-": standard input, shown as
 * <stdin>). Returns CLI_CONTINUE and *root (caller owns it), or the exit
 * status (message printed). */
static int load_json(const char *path, const char *shown, json_t **root)
{
    const int from_stdin = !strcmp(path, "-");
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "infomorph pid: unable to open '%s': %s\n", path, strerror(errno));
        return CLI_ERROR;
    }
    size_t len = 0;
    char *buf = read_all(f, &len);
    int read_errno = errno;
    if (!from_stdin) fclose(f);
    if (!buf) {
        fprintf(stderr, "infomorph pid: unable to read '%s': %s\n", shown, strerror(read_errno));
        return CLI_ERROR;
    }
    json_error_t jerr;
    *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!*root) {
        fprintf(stderr, "infomorph pid: '%s' is not valid JSON: %s (line %d, column %d)\n", shown,
                jerr.text, jerr.line, jerr.column);
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_pid_main(int argc, char **argv)
{
    int text = 0;
    const char *path = NULL;
    json_t *root;
    int rc = pid_args(argc, argv, &text, &path);
    if (rc != CLI_CONTINUE) return rc;
    const char *shown = strcmp(path, "-") ? path : "<stdin>";
    if ((rc = load_json(path, shown, &root)) != CLI_CONTINUE) return rc;
    int k = 0, shape[IM_MAX_SOURCES];
    double *p = NULL;
    char msg[256];
    int bad = cli_pid_parse_table(root, &k, shape, &p, msg, sizeof msg);
    json_decref(root);
    if (bad) {
        fprintf(stderr, "infomorph pid: '%s': %s\n", shown, msg);
        return CLI_USAGE;
    }

    im_lattice lat;
    im_error err = {0};
    double terms[IM_MAX_TERMS];
    if (im_lattice_init(&lat, k, &err) != 0 ||
        im_pid_table(k, shape, p, NULL, terms, NULL, NULL, &err) != 0) {
        fprintf(stderr, "infomorph pid: '%s': %s\n", shown, err.msg);
        free(p);
        return err.code == IM_ENUMERIC ? CLI_ERROR : CLI_USAGE;
    }
    free(p);
    double mi = 0.0;
    for (int a = 0; a < lat.n; a++) mi += terms[a];
    const double h = mi + terms[lat.n];
    if (text)
        print_text(&lat, terms, mi, h);
    else
        print_json(&lat, terms, mi, h);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "infomorph pid: unable to write the result: %s\n", strerror(errno));
        return CLI_ERROR;
    }
    return CLI_OK;
}
