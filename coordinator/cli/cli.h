/*
 * cli.h: the verbs of the `infomorph` command, one file per verb (VERB.c), and
 * what they share (cli_common.c): parsing arguments, and for the verbs that
 * talk to a coordinator, requests and printing replies. Each verb
 * has the signature of a main(): argv[0] is the verb. Exit status: 0 success,
 * 1 error (no coordinator, unknown campaign, I/O), 2 usage (bad arguments or
 * refused input). Verbs print their results on stdout and errors on stderr,
 * prefixed "infomorph VERB: ". Not thread-safe (the command has one thread).
 */
#ifndef IM_CLI_H
#define IM_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>

/* Exit statuses; CLI_CONTINUE: an argument parser's "go on with the verb". */
enum { CLI_CONTINUE = -1, CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

int cli_pid_main(int argc, char **argv);
/* pid.c's table reader: check a decoded table and fill k, shape[k] and *p
 * (caller frees; NULL on failure). Returns 0, or -1 with a message in msg.
 * Exposed for its fuzz target. */
int cli_pid_parse_table(json_t *root, int *k, int *shape, double **p, char *msg, size_t msg_size);
int cli_train_main(int argc, char **argv);
int cli_keygen_main(int argc, char **argv);

/* the verbs that talk to a running coordinator */
int cli_submit_main(int argc, char **argv);
int cli_status_main(int argc, char **argv);
int cli_ls_main(int argc, char **argv);
int cli_best_main(int argc, char **argv);
int cli_trials_main(int argc, char **argv);
int cli_cancel_main(int argc, char **argv);
int cli_export_main(int argc, char **argv);
int cli_report_main(int argc, char **argv);
int cli_workers_main(int argc, char **argv);
int cli_backup_main(int argc, char **argv);

/* ---------- cli_common.c: arguments ---------- */

/* Every verb parses its arguments with getopt_long (options and operands in
 * any order). Long options without a short form use values from
 * CLI_OPT_LONG up, so that they never stand for a short option. */
enum { CLI_OPT_CONNECT = 256, CLI_OPT_SERVER_KEY, CLI_OPT_CURVE_SECRET, CLI_OPT_LONG };

/* What every client verb accepts besides its own options: getopt_long's
 * short options (the start of the verb's optstring: its leading ':' makes a
 * missing value ':' rather than '?') and long options (the last ones of the
 * verb's table, before the {NULL, 0, NULL, 0} that ends it). */
#define CLI_CLIENT_SHORTOPTS ":h"
/* clang-format off */
#define CLI_CLIENT_LONGOPTS \
    {"connect", required_argument, NULL, CLI_OPT_CONNECT}, \
    {"server-key", required_argument, NULL, CLI_OPT_SERVER_KEY}, \
    {"curve-secret", required_argument, NULL, CLI_OPT_CURVE_SECRET}, \
    {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* The help lines of the options every client verb takes. */
extern const char *const cli_connect_help;

typedef struct cli_args {
    const char *verb;
    const char *connect;      /* --connect, or NULL: $INFOMORPH_CONNECT or the default */
    const char *server_key;   /* --server-key, or NULL: $INFOMORPH_SERVER_KEY */
    const char *curve_secret; /* --curve-secret, or NULL: $INFOMORPH_CURVE_SECRET */
    const char *pos[16];      /* operands */
    int n_pos;
} cli_args;

/* Make the next getopt_long call start over at argv[1], quietly: the verbs
 * print their own messages (cli_bad_option). */
void cli_getopt_reset(void);
/* The message for what getopt_long returned when it did not know an option
 * ('?') or missed its value (':'): "infomorph VERB: unknown option '-x'" or
 * "infomorph VERB: --x needs a value" on stderr ("infomorph: ..." if verb is
 * NULL). Returns CLI_USAGE. */
int cli_bad_option(const char *verb, int c, char **argv);
/* A client verb's own option c (its value in optarg; argc, argv as given to
 * getopt_long) into user. Returns CLI_CONTINUE or CLI_USAGE (message
 * printed). */
typedef int (*cli_option_fn)(int c, int argc, char **argv, void *user);

/* What a client verb's command line looks like. */
typedef struct cli_syntax {
    const char *help;              /* --help text, before cli_connect_help */
    const char *optstring;         /* CLI_CLIENT_SHORTOPTS "...", or NULL: no short options */
    const struct option *longopts; /* own ones, CLI_CLIENT_LONGOPTS; NULL: no own options */
    cli_option_fn option;          /* called for the own options, NULL if none */
    int operands;                  /* at most this many operands: a->pos */
    int min_operands;              /* with `missing`: at least this many (0: `operands`) */
    const char *missing;           /* NULL: fewer are fine; else the message for too few */
} cli_syntax;

#define CLI_WHICH_CAMPAIGN "which campaign? (a name or id; see infomorph ls)"

/* Parse the arguments of a client verb (argv[0] the verb): --connect into
 * a->connect, --help (printed with cli_connect_help), the verb's own options
 * through syn->option (with user), the operands into a->pos. Returns
 * CLI_CONTINUE, CLI_OK after --help or CLI_USAGE (message printed). */
int cli_parse(cli_args *a, const cli_syntax *syn, int argc, char **argv, void *user);

/* ---------- cli_common.c: requests ---------- */

/* One request of the given type with fields (stolen) to the verb's
 * coordinator; *reply is the OK message (caller owns it). On failure prints
 * "infomorph VERB: message" and returns the exit status (refused by the
 * coordinator: refused_status; else CLI_ERROR). */
int cli_call(const cli_args *a, const char *type, json_t *fields, json_t **reply,
             int refused_status);
/* The arguments of a verb with no options of its own (cli_parse), then one
 * request of the given type about its campaign if it was given one, else
 * about all. Returns CLI_CONTINUE and *reply (caller owns it), or the exit
 * status (CLI_OK after --help; message printed). */
int cli_parse_request(cli_args *a, const cli_syntax *syn, int argc, char **argv, const char *type,
                      json_t **reply);
/* What cli_export_pages does with one EXPORT reply (borrowed; from: the
 * page's first trial). */
typedef void (*cli_page_fn)(const json_t *reply, long long from, void *user);
/* The verb's campaign's trials a page at a time (EXPORT with from and
 * limit = page), each reply to fn with user, until the coordinator's "next"
 * says it was the last. Returns CLI_OK, or the exit status (message printed;
 * also for a "next" that does not follow the page). */
int cli_export_pages(const cli_args *a, long page, cli_page_fn fn, void *user);
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
/* o[key] as a string for the terminal, "-" if missing or not a string: the
 * string itself (borrowed), or when it holds control characters an escaped
 * copy (im_log_escape) in one of 8 static buffers reused in turn (not
 * thread-safe; at most 4095 bytes). */
const char *cli_str(const json_t *o, const char *key);
/* x with digits decimals, "-" for NAN, into buf (n bytes); returns buf. */
const char *cli_fmt_num(char *buf, size_t n, double x, int digits);

/* A parameter's value v (a number or a string, as BEST and STATUS give an
 * exec campaign's params) into buf: the string, or the number with 4
 * significant digits; "-" for anything else. Returns buf. */
const char *cli_fmt_param(char *buf, size_t n, const json_t *v);

/* 1 if a BEST row (or STATUS's "best") is of a campaign with backend
 * "exec": its values are named params and its objective is "value". */
int cli_is_exec(const json_t *row);
/* s seconds for people ("40 s", "12 min", "2.5 h", "unknown" for NAN or
 * negative), into buf (n bytes); returns buf. */
const char *cli_fmt_duration(char *buf, size_t n, double s);
/* The union of the gamma short names over trials (an array of {"gamma":
 * {...}} objects), in canonical order. Returns a new array of strings. */
json_t *cli_gamma_names(const json_t *trials);
/* Trials a campaign will run ("planned", in STATUS) or has created so far. */
long long cli_total_of(const json_t *c);

#endif /* IM_CLI_H */
