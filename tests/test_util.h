/*
 * test_util.h: the plumbing the tests and benchmarks share: a monotonic
 * clock, scratch directories (created under $TMPDIR and removed with all
 * they hold), the names of a k = 3 gamma, reading a whole file, an SQLite file with its -wal and
 * -shm companions, and running a program with its standard streams redirected. No checks in here
 * (those are in test.h); failures are return values, with a message on stderr where the caller
 * could not tell why. Not thread-safe (none of the tests need it to be).
 */
#ifndef IM_TEST_UTIL_H
#define IM_TEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* The 19 components of a gamma for three sources: the 18 atoms of the
 * lattice in canonical order, then h_res (the names the store and the wire
 * use). */
extern const char *const test_gamma3_names[19];

/* Seconds on the monotonic clock. */
double test_now_s(void);

/* Sleep for ms milliseconds. */
void test_sleep_ms(int ms);

/* Create a fresh directory parent/NAME-XXXXXX into out (size bytes), parent
 * NULL meaning $TMPDIR, or /tmp when that is unset or empty. Returns 0, or
 * -1 with a message on stderr. */
int test_mkdtemp(char *out, size_t size, const char *parent, const char *name);

/* Remove path and, if it is a directory, everything below it (links are
 * removed, not followed). Returns 0 if path is gone afterwards, else -1. */
int test_rm_tree(const char *path);

/* The whole file, NUL-terminated, in a new buffer the caller frees; its
 * length (without the NUL) in *len when len is not NULL. NULL if the file
 * cannot be read. */
char *test_read_file(const char *path, size_t *len);

/* Remove an SQLite database file and its -wal and -shm files. Missing files
 * are no error. */
void test_remove_db(const char *path);

/* Start argv[0] with argv (NULL-terminated) in a child process, its
 * standard input, output and error from and to the given files (NULL: keep
 * this process's). Returns the child's pid, or -1 if fork failed; a child
 * that cannot redirect or exec exits with status 127. */
pid_t test_spawn(char *const argv[], const char *in_path, const char *out_path,
                 const char *err_path);

/* Wait for pid to end: its exit status, 128 + the signal that ended it, or
 * -1 (pid < 0 or not a child). */
int test_wait(pid_t pid);

/* The same, giving up after timeout_s seconds: then the child is killed
 * (SIGKILL), reaped, and -1 returned. */
int test_wait_timeout(pid_t pid, double timeout_s);

/* Run argv as test_spawn does, with standard input from in_path (NULL:
 * /dev/null), and wait for it. Its standard output and error are returned
 * in *out and *err (new strings the caller frees; NULL if they could not be
 * caught). Returns what test_wait returns, or -1 if it could not start. */
int test_run(char *const argv[], const char *in_path, char **out, char **err);

/* Start the coordinator prog on db, both sides on tcp://127.0.0.1:* and
 * their endpoints written to epfile (removed first), with --lease lease
 * (NULL: its default) and --log-level level, its standard error to err_path
 * (NULL: this process's). Returns its pid, or -1 if fork failed. */
pid_t test_spawn_coordinator(const char *prog, const char *db, const char *epfile,
                             const char *lease, const char *level, const char *err_path);

/* Wait up to timeout_s seconds for the coordinator *pid to write epfile;
 * its endpoints into wep and cep (256 bytes each). Returns 0, or -1: timed
 * out (the coordinator left running), or it exited (then reaped, said on
 * stderr, and *pid set to -1). */
int test_wait_endpoints(pid_t *pid, const char *epfile, double timeout_s, char *wep, char *cep);

/* The resident memory of pid in KiB (VmRSS), -1 if unknown. */
long test_rss_kib(pid_t pid);

/* Whether $IM_DATA_DIR holds the fetched mnist10k (its training images);
 * if so, 1 with that directory copied into data_dir, else 0. */
int test_have_mnist10k(char *data_dir, size_t size);

#endif /* IM_TEST_UTIL_H */
