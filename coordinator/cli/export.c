/*
 * export.c: `infomorph export CAMPAIGN --format csv|json [-o FILE]`: a
 * campaign's trials for programs, fetched and written a page at a time.
 */
#include "cli.h"
#include "protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* 1 if the trials are an exec campaign's: their spec names backend "exec"
 * (the spec comes as an object or as its JSON text). */
static int trials_are_exec(const json_t *trials)
{
    const json_t *spec = json_object_get(json_array_get(trials, 0), "spec");
    json_t *parsed = json_is_string(spec) ? json_loads(json_string_value(spec), 0, NULL) : NULL;
    const json_t *b = json_object_get(parsed ? parsed : spec, "backend");
    int exec = json_is_string(b) && !strcmp(json_string_value(b), "exec");
    json_decref(parsed);
    return exec;
}

/* The CSV header: the fixed columns (and "value", the objective, for an
 * exec campaign), then one per gamma short name or parameter. */
static void csv_header(FILE *f, const json_t *names, int exec)
{
    static const char *fixed[] = {"trial",    "number", "status", "seed",    "val_acc",
                                  "test_acc", "wall_s", "worker", "attempts"};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        fprintf(f, "%s%s", k ? "," : "", fixed[k]);
    if (exec) fputs(",value", f);
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
static void csv_rows(FILE *f, const json_t *trials, const json_t *names, int exec)
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
        if (exec) {
            fputc(',', f);
            csv_value(f, json_object_get(t, "value"));
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

/* Where export_pages writes, and what it has written so far. */
typedef struct export_out {
    FILE *f;
    int csv;
    json_t *names; /* the CSV's gamma columns, from the first page */
    int exec;
    long long n; /* trials written */
} export_out;

/* One EXPORT page to o->f: CSV rows (after the header), or the trials of the
 * JSON document (after its start). */
static void export_page(const json_t *reply, long long from, void *user)
{
    export_out *o = user;
    FILE *f = o->f;
    json_t *trials = json_object_get(reply, "trials");
    if (o->csv) {
        if (!o->names) {
            o->names = cli_gamma_names(trials);
            o->exec = trials_are_exec(trials);
            csv_header(f, o->names, o->exec);
        }
        csv_rows(f, trials, o->names, o->exec);
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
            fputs(o->n + (long long)i ? ",\n    " : "\n    ", f);
            json_nested(f, t, 4);
        }
    }
    o->n += (long long)json_array_size(trials);
}

/* The campaign's trials, page by page (EXPORT with from/limit), to f as CSV
 * or JSON: memory and each request stay small however big the campaign. The
 * CSV's gamma columns are those of the first page (every trial of a
 * campaign has the same components). Returns 0 or the exit status (message
 * printed). */
static int export_pages(const cli_args *a, int csv, long page, FILE *f)
{
    export_out o = {.f = f, .csv = csv};
    int rc = cli_export_pages(a, page, export_page, &o);
    if (rc == CLI_OK && !csv) fputs(o.n ? "\n  ]\n}\n" : "]\n}\n", f);
    json_decref(o.names);
    return rc;
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
#define PAGE_MAX_TEXT STRINGIFY(IM_EXPORT_PAGE_MAX)

enum { OPT_FORMAT = CLI_OPT_LONG, OPT_PAGE };

/* What export was asked for besides the campaign. */
typedef struct export_opts {
    const char *format;   /* "csv" or "json" */
    const char *out_path; /* -o, or NULL: standard output */
    long page;            /* trials per request */
} export_opts;

/* export's own options into *(export_opts *)user. */
static int export_option(int c, int argc, char **argv, void *user)
{
    export_opts *o = user;
    char *end;
    (void)argc, (void)argv;
    switch (c) {
    case OPT_FORMAT: o->format = optarg; return CLI_CONTINUE;
    case 'o': o->out_path = optarg; return CLI_CONTINUE;
    default: /* OPT_PAGE */
        o->page = strtol(optarg, &end, 10);
        if (end != optarg && !*end && o->page >= 1 && o->page <= IM_EXPORT_PAGE_MAX)
            return CLI_CONTINUE;
        fprintf(stderr, "infomorph export: --page must be in 1..%d\n", IM_EXPORT_PAGE_MAX);
        return CLI_USAGE;
    }
}

/* The arguments of export. Returns CLI_CONTINUE, CLI_OK after --help or
 * CLI_USAGE (message printed). */
static int export_args(cli_args *a, export_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                             {"output", required_argument, NULL, 'o'},
                                             {"page", required_argument, NULL, OPT_PAGE},
                                             CLI_CLIENT_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    static const cli_syntax syntax = {
        .help = "usage: infomorph export CAMPAIGN --format csv|json [-o FILE] [--page N] "
                "[--connect ENDPOINT]\n\n"
                "Write a campaign's trials to FILE (default: standard output).\n"
                "  csv:  one row per trial: trial, number, status, seed, val_acc, test_acc,\n"
                "        wall_s, worker, attempts, then one column per gamma short name\n"
                "  json: everything: the campaign, and per trial its gamma, attempts,\n"
                "        learning curve and PID atoms\n"
                "The trials are fetched and written a page at a time.\n\n"
                "  --format FORMAT     csv or json (required)\n"
                "  -o, --output FILE   the file to write (removed again if the export fails)\n"
                "  --page N            trials per request, 1.." PAGE_MAX_TEXT " (default 200)\n",
        .optstring = CLI_CLIENT_SHORTOPTS "o:",
        .longopts = longopts,
        .option = export_option,
        .operands = 1,
        .missing = CLI_WHICH_CAMPAIGN};
    int rc = cli_parse(a, &syntax, argc, argv, o);
    if (rc != CLI_CONTINUE) return rc;
    if (!o->format || (strcmp(o->format, "csv") && strcmp(o->format, "json"))) {
        fprintf(stderr, "infomorph export: --format must be csv or json\n");
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_export_main(int argc, char **argv)
{
    cli_args a = {.verb = "export"};
    export_opts o = {.page = 200};
    int rc = export_args(&a, &o, argc, argv);
    if (rc != CLI_CONTINUE) return rc;
    const char *out_path = o.out_path;
    FILE *f = stdout;
    if (out_path && !(f = fopen(out_path, "w"))) {
        fprintf(stderr, "infomorph export: unable to open '%s': %s\n", out_path, strerror(errno));
        return CLI_ERROR;
    }
    rc = export_pages(&a, !strcmp(o.format, "csv"), o.page, f);
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
