/*
 * cli.h: the verbs of the `infomorph` command, one file per verb (VERB.c), and
 * what the verbs that talk to a coordinator share (cli_common.c). Each verb
 * has the signature of a main(): argv[0] is the verb. Exit status: 0 success,
 * 1 error (no coordinator, unknown campaign, I/O), 2 usage (bad arguments or
 * refused input). Verbs print their results on stdout and errors on stderr,
 * prefixed "infomorph VERB: ". Not thread-safe (the command has one thread).
 */
#ifndef IM_CLI_H
#define IM_CLI_H

#include <jansson.h>
#include <stddef.h>

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

int cli_pid_main(int argc, char **argv);
int cli_train_main(int argc, char **argv);

/* the verbs that talk to a running coordinator */
int cli_submit_main(int argc, char **argv);
int cli_status_main(int argc, char **argv);
int cli_ls_main(int argc, char **argv);
int cli_best_main(int argc, char **argv);
int cli_trials_main(int argc, char **argv);
int cli_cancel_main(int argc, char **argv);
int cli_export_main(int argc, char **argv);
int cli_workers_main(int argc, char **argv);

/* ---------- cli_common.c: arguments ---------- */

#define CLI_BEST_MAX 1000 /* most trials in one BEST reply (protocol.h) */

typedef struct cli_args {
    const char *verb;
    const char *connect;
    const char *pos[4]; /* positional arguments */
    int n_pos;
} cli_args;

/* The help lines of the options every client verb takes. */
extern const char *const cli_connect_help;

int cli_common_option(cli_args *a, int argc, char **argv, int *i);
int cli_add_positional(cli_args *a, const char *s, int max);
int cli_is_help(const char *s);
int cli_verb_args(cli_args *a, int argc, char **argv, int want_campaign, long *n,
                  const char *usage_text);

/* ---------- cli_common.c: requests ---------- */

/* One request of the given type with fields (stolen) to the verb's
 * coordinator; *reply is the OK message (caller owns it). On failure prints
 * "infomorph VERB: message" and returns the exit status (refused by the
 * coordinator: refused_status; else CLI_ERROR). */
int cli_call(const cli_args *a, const char *type, json_t *fields, json_t **reply,
             int refused_status);
/* A campaign given by name or by number (numbers are sent as integers): a
 * new reference. */
json_t *cli_campaign_ref(const char *s);
/* {"campaign": ...} for the campaign a verb was given: a new object. */
json_t *cli_campaign_fields(const cli_args *a);

/* ---------- cli_common.c: reading replies, printing ---------- */

/* o[key] as a number, NAN if missing or not a number. */
double cli_num(const json_t *o, const char *key);
/* o[key] as an integer, dflt if missing or not an integer. */
long long cli_int(const json_t *o, const char *key, long long dflt);
/* o[key] as a string (borrowed), "-" if missing or not a string. */
const char *cli_str(const json_t *o, const char *key);
/* x with digits decimals, "-" for NAN, into buf (n bytes); returns buf. */
const char *cli_fmt_num(char *buf, size_t n, double x, int digits);
/* s seconds for people ("40 s", "12 min", "2.5 h", "unknown" for NAN or
 * negative), into buf (n bytes); returns buf. */
const char *cli_fmt_duration(char *buf, size_t n, double s);
/* The union of the gamma short names over trials (an array of {"gamma":
 * {...}} objects), in canonical order. Returns a new array of strings. */
json_t *cli_gamma_names(const json_t *trials);
/* Trials a campaign will run ("planned", in STATUS) or has created so far. */
long long cli_total_of(const json_t *c);

#endif /* IM_CLI_H */
