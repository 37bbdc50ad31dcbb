/*
 * cli.h: the verbs of the `infomorph` command. Each verb lives in its own
 * cli_<verb>.c and has the signature of a main(): argv[0] is the verb. Exit
 * status: 0 success, 1 error, 2 usage (bad arguments or refused input).
 * Verbs print their results on stdout and errors on stderr, prefixed
 * "infomorph VERB: ".
 */
#ifndef IM_CLI_H
#define IM_CLI_H

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

int cli_pid_main(int argc, char **argv);
int cli_train_main(int argc, char **argv);

/* cli_client.c: the verbs that talk to a running coordinator */
int cli_submit_main(int argc, char **argv);
int cli_status_main(int argc, char **argv);
int cli_ls_main(int argc, char **argv);
int cli_best_main(int argc, char **argv);
int cli_trials_main(int argc, char **argv);
int cli_cancel_main(int argc, char **argv);
int cli_export_main(int argc, char **argv);
int cli_workers_main(int argc, char **argv);

#endif /* IM_CLI_H */
