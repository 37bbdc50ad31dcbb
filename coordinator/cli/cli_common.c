/*
 * cli_common.c: what the verbs that talk to a running coordinator share (cli.h):
 * their common options, one request with its error message and exit status,
 * reading replies defensively (a missing field prints as "-", never a crash)
 * and formatting numbers, durations and gamma names for people.
 */
#include "cli.h"
#include "client.h"
#include "im.h"
#include "lattice.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- arguments ---------- */

/* Options every verb accepts. Returns 1 if argv[*i] was one of them, 0 if
 * not, -1 on a usage error (message printed). */
int cli_common_option(cli_args *a, int argc, char **argv, int *i)
{
    const char *s = argv[*i];
    if (!strcmp(s, "--connect")) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "infomorph %s: --connect needs an endpoint\n", a->verb);
            return -1;
        }
        a->connect = argv[++*i];
        return 1;
    }
    if (!strncmp(s, "--connect=", 10)) {
        a->connect = s + 10;
        return 1;
    }
    return 0;
}

int cli_add_positional(cli_args *a, const char *s, int max)
{
    if (s[0] == '-' && s[1] != '\0') {
        fprintf(stderr, "infomorph %s: unknown option '%s'\n", a->verb, s);
        return -1;
    }
    if (a->n_pos >= max || a->n_pos < 0 || a->n_pos >= (int)(sizeof a->pos / sizeof a->pos[0])) {
        fprintf(stderr, "infomorph %s: unexpected argument '%s'\n", a->verb, s);
        return -1;
    }
    a->pos[a->n_pos++] = s;
    return 0;
}

int cli_is_help(const char *s)
{
    return !strcmp(s, "--help") || !strcmp(s, "-h");
}

const char *const cli_connect_help =
    "  --connect ENDPOINT  the coordinator's client endpoint (default $INFOMORPH_CONNECT,\n"
    "                      else " CLI_DEFAULT_CONNECT ")\n"
    "  --help              this text\n";

/* The arguments of a verb with no options of its own but --connect (and -n
 * when n is non-NULL) and with a campaign (want_campaign) or nothing as its
 * positional argument. Returns 0; -1 after --help (printed); CLI_USAGE
 * (message printed). */
int cli_verb_args(cli_args *a, int argc, char **argv, int want_campaign, long *n,
                  const char *usage_text)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("%s\n%s", usage_text, cli_connect_help);
            return -1;
        }
        if (n && (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--number"))) {
            /* the wire's range for BEST (protocol.h): beyond it the
             * coordinator would refuse, and that is a usage error, not 1 */
            char *end;
            if (i + 1 >= argc ||
                (errno = 0, *n = strtol(argv[i + 1], &end, 10),
                 errno || end == argv[i + 1] || *end || *n < 1 || *n > CLI_BEST_MAX)) {
                fprintf(stderr, "infomorph %s: -n needs an integer in 1..%d\n", a->verb,
                        CLI_BEST_MAX);
                return CLI_USAGE;
            }
            i++;
            continue;
        }
        int c = cli_common_option(a, argc, argv, &i);
        if (c < 0 || (c == 0 && cli_add_positional(a, argv[i], want_campaign) < 0))
            return CLI_USAGE;
    }
    if (a->n_pos != want_campaign) {
        fprintf(stderr, "infomorph %s: which campaign? (a name or id; see infomorph ls)\n",
                a->verb);
        return CLI_USAGE;
    }
    return 0;
}

/* ---------- requests ---------- */

/* One request; on failure prints "infomorph VERB: message" and returns the
 * exit status (refused: refused_status). */
int cli_call(const cli_args *a, const char *type, json_t *fields, json_t **reply,
             int refused_status)
{
    char err[1024];
    int rc =
        cli_request(cli_endpoint(a->connect), type, fields, CLI_TIMEOUT_MS, reply, err, sizeof err);
    json_decref(fields);
    if (rc == 0) return CLI_OK;
    fprintf(stderr, "infomorph %s: %s\n", a->verb, err);
    return rc == CLI_REQ_REFUSED ? refused_status : CLI_ERROR;
}

/* A campaign given by name or by number: numbers are sent as integers. */
json_t *cli_campaign_ref(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && *s && !*end && v > 0) return json_integer(v);
    return json_string(s);
}

/* The fields of a request about the campaign a verb was given: a new object. */
json_t *cli_campaign_fields(const cli_args *a)
{
    json_t *fields = json_object();
    json_object_set_new(fields, "campaign", cli_campaign_ref(a->pos[0]));
    return fields;
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
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
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
