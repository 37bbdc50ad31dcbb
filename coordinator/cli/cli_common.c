/*
 * cli_common.c: what the verbs share (cli.h): getopt_long with our own
 * messages; for the verbs that talk to a running coordinator, their common
 * options, one request with its error message and exit status, reading
 * replies defensively (a missing field prints as "-", never a crash) and
 * formatting numbers, durations and gamma names for people.
 */
#include "cli.h"
#include "client.h"
#include "im.h"
#include "lattice.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- arguments ---------- */

const char *const cli_connect_help =
    "  --connect ENDPOINT  the coordinator's client endpoint (default $INFOMORPH_CONNECT,\n"
    "                      else " CLI_DEFAULT_CONNECT "); also before the verb\n"
    "  --server-key FILE   the coordinator's CurveZMQ public key (default\n"
    "                      $INFOMORPH_SERVER_KEY)\n"
    "  --curve-secret FILE your secret key from infomorph keygen (default\n"
    "                      $INFOMORPH_CURVE_SECRET)\n"
    "  --help              this text\n";

void cli_getopt_reset(void)
{
    optind = 0; /* 0, not 1: glibc and musl then also forget the last scan's state */
    opterr = 0;
}

int cli_bad_option(const char *verb, int c, char **argv)
{
    /* getopt_long has moved optind past a long option it refused; a short
     * one is optopt (argv[optind - 1] may be a bundle like -xy) */
    const char *s = argv[optind - 1];
    fprintf(stderr, "infomorph%s%s: ", verb ? " " : "", verb ? verb : "");
    if (c == ':')
        fprintf(stderr, "%s needs a value\n", s);
    else if (optopt && strncmp(s, "--", 2))
        fprintf(stderr, "unknown option '-%c'\n", optopt);
    else
        fprintf(stderr, "unknown option '%s'\n", s);
    return CLI_USAGE;
}

/* The operands getopt_long left (argv[optind..argc-1]) into a->pos, as
 * syn says. Returns CLI_CONTINUE or CLI_USAGE (message printed). */
static int operands(cli_args *a, const cli_syntax *syn, int argc, char **argv)
{
    int max = syn->operands;
    for (int i = optind; i < argc; i++) {
        if (a->n_pos >= max || a->n_pos >= (int)(sizeof a->pos / sizeof a->pos[0])) {
            fprintf(stderr, "infomorph %s: unexpected argument '%s'\n", a->verb, argv[i]);
            return CLI_USAGE;
        }
        a->pos[a->n_pos++] = argv[i];
    }
    if (syn->missing && a->n_pos < (syn->min_operands > 0 ? syn->min_operands : max)) {
        fprintf(stderr, "infomorph %s: %s\n", a->verb, syn->missing);
        return CLI_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_parse(cli_args *a, const cli_syntax *syn, int argc, char **argv, void *user)
{
    static const struct option client_longopts[] = {CLI_CLIENT_LONGOPTS, {NULL, 0, NULL, 0}};
    const char *optstring = syn->optstring ? syn->optstring : CLI_CLIENT_SHORTOPTS;
    const struct option *longopts = syn->longopts ? syn->longopts : client_longopts;
    int c, rc;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        if (c == CLI_OPT_CONNECT || c == CLI_OPT_SERVER_KEY || c == CLI_OPT_CURVE_SECRET) {
            *(c == CLI_OPT_CONNECT      ? &a->connect
              : c == CLI_OPT_SERVER_KEY ? &a->server_key
                                        : &a->curve_secret) = optarg;
            rc = CLI_CONTINUE;
        } else if (c == 'h') {
            printf("%s%s", syn->help, cli_connect_help);
            rc = CLI_OK;
        } else if (c == '?' || c == ':' || !syn->option) {
            rc = cli_bad_option(a->verb, c, argv);
        } else {
            rc = syn->option(c, argc, argv, user);
        }
        if (rc != CLI_CONTINUE) return rc;
    }
    return operands(a, syn, argc, argv);
}

/* ---------- requests ---------- */

int cli_call(const cli_args *a, const char *type, json_t *fields, json_t **reply,
             int refused_status)
{
    char err[1024];
    cli_set_curve_files(a->server_key, a->curve_secret);
    int rc =
        cli_request(cli_endpoint(a->connect), type, fields, CLI_TIMEOUT_MS, reply, err, sizeof err);
    json_decref(fields);
    if (rc == 0) return CLI_OK;
    char shown[sizeof err * 4];
    im_log_escape(shown, sizeof shown, err);
    fprintf(stderr, "infomorph %s: %s\n", a->verb, shown);
    return rc == IM_EREFUSED ? refused_status : CLI_ERROR;
}

int cli_parse_request(cli_args *a, const cli_syntax *syn, int argc, char **argv, const char *type,
                      json_t **reply)
{
    int rc = cli_parse(a, syn, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    json_t *fields = a->n_pos ? cli_campaign_fields(a) : json_object();
    rc = cli_call(a, type, fields, reply, CLI_ERROR);
    return rc == CLI_OK ? CLI_CONTINUE : rc;
}

json_t *cli_campaign_ref(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && *s && !*end && v > 0) return json_integer(v);
    return json_string(s);
}

json_t *cli_campaign_fields(const cli_args *a)
{
    json_t *fields = json_object();
    json_object_set_new(fields, "campaign", cli_campaign_ref(a->pos[0]));
    return fields;
}

int cli_export_pages(const cli_args *a, long page, cli_page_fn fn, void *user)
{
    long long from = 0;
    for (;;) {
        json_t *fields = cli_campaign_fields(a);
        json_object_set_new(fields, "from", json_integer(from));
        json_object_set_new(fields, "limit", json_integer(page));
        json_t *reply;
        int rc = cli_call(a, "EXPORT", fields, &reply, CLI_ERROR);
        if (rc) return rc;
        fn(reply, from, user);
        json_t *next = json_object_get(reply, "next");
        long long to = json_is_integer(next) ? (long long)json_integer_value(next) : -1;
        json_decref(reply);
        if (to < 0) return CLI_OK; /* the last page (or a coordinator that sends one) */
        if (to <= from) {
            fprintf(stderr,
                    "infomorph %s: the coordinator's next page (%lld) does not follow page "
                    "%lld\n",
                    a->verb, to, from);
            return CLI_ERROR;
        }
        from = to;
    }
}

/* ---------- printing helpers ---------- */

double cli_num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

long long cli_int(const json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

const char *cli_str(const json_t *o, const char *key)
{
    /* a ring of buffers, so that one printf can show several fields */
    static char ring[8][4096];
    static int next;
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) return "-";
    const char *p = s;
    while (*p && (unsigned char)*p >= 0x20 && *p != 0x7f) p++;
    if (!*p) return s;
    char *buf = ring[next];
    next = (next + 1) % 8;
    im_log_escape(buf, sizeof ring[0], s);
    return buf;
}

/* "%.4f" or "-" for a missing number, into buf. */
const char *cli_fmt_num(char *buf, size_t n, double x, int digits)
{
    if (isnan(x))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*f", digits, x);
    return buf;
}

const char *cli_fmt_param(char *buf, size_t n, const json_t *v)
{
    if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else if (json_is_number(v))
        snprintf(buf, n, "%.4g", json_number_value(v));
    else
        snprintf(buf, n, "-");
    return buf;
}

int cli_is_exec(const json_t *row)
{
    const char *b = json_string_value(json_object_get(row, "backend"));
    return b && !strcmp(b, "exec");
}

const char *cli_fmt_duration(char *buf, size_t n, double s)
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
json_t *cli_gamma_names(const json_t *trials)
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
long long cli_total_of(const json_t *c)
{
    long long planned = cli_int(c, "planned", -1);
    return planned >= 0 ? planned : cli_int(c, "trials", 0);
}
