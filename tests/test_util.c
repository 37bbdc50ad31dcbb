/*
 * test_util.c: the shared plumbing of the tests and benchmarks (see
 * test_util.h).
 */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const test_gamma3_names[19] = {
    "f_c_l",    "f_c",   "f_l",   "c_l",   "f_cl", "c_fl", "l_fc", "f",   "c",    "l",
    "fc_fl_cl", "fc_fl", "fc_cl", "fl_cl", "fc",   "fl",   "cl",   "fcl", "h_res"};

double test_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *tmp_parent(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

int test_mkdtemp(char *out, size_t size, const char *parent, const char *name)
{
    int n = snprintf(out, size, "%s/%s-XXXXXX", parent ? parent : tmp_parent(), name);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "unable to create a directory for '%s': path too long\n", name);
        return -1;
    }
    if (!mkdtemp(out)) {
        fprintf(stderr, "unable to create '%s': %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

int test_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[8192];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            test_rm_tree(sub);
        }
        if (d) closedir(d);
        return rmdir(path) == 0 ? 0 : -1;
    }
    return unlink(path) == 0 ? 0 : -1;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

void test_remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* In the child: make fd `to` read or write path. Exits 127 if it cannot. */
static void redirect(const char *path, int flags, int to)
{
    if (!path) return;
    int fd = open(path, flags, 0600);
    if (fd < 0 || dup2(fd, to) < 0) _exit(127);
    close(fd);
}

pid_t test_spawn(char *const argv[], const char *in_path, const char *out_path,
                 const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    redirect(in_path, O_RDONLY, 0);
    redirect(out_path, O_WRONLY | O_CREAT | O_TRUNC, 1);
    redirect(err_path, O_WRONLY | O_CREAT | O_TRUNC, 2);
    execv(argv[0], argv);
    fprintf(stderr, "unable to run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

pid_t test_spawn_coordinator(const char *prog, const char *db, const char *epfile,
                             const char *lease, const char *level, const char *err_path)
{
    unlink(epfile);
    char *argv[] = {(char *)prog,        "--db",
                    (char *)db,          "--workers-endpoint",
                    "tcp://127.0.0.1:*", "--clients-endpoint",
                    "tcp://127.0.0.1:*", "--endpoints-file",
                    (char *)epfile,      "--log-level",
                    (char *)level,       lease ? "--lease" : NULL,
                    (char *)lease,       NULL};
    return test_spawn(argv, NULL, NULL, err_path);
}

int test_wait_endpoints(pid_t *pid, const char *epfile, double timeout_s, char *wep, char *cep)
{
    double end = test_now_s() + timeout_s;
    while (*pid > 0) {
        FILE *f = fopen(epfile, "r");
        if (f) {
            int n = fscanf(f, "workers %255s clients %255s", wep, cep);
            fclose(f);
            if (n == 2) return 0;
        }
        int status;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            fprintf(stderr, "the coordinator exited early (status %d)\n", status);
            *pid = -1;
            return -1;
        }
        if (test_now_s() >= end) return -1;
        test_sleep_ms(10);
    }
    return -1;
}

long test_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
    fclose(f);
    return kib;
}

static int decode_status(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_wait(pid_t pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    return decode_status(status);
}

int test_wait_timeout(pid_t pid, double timeout_s)
{
    double end = test_now_s() + timeout_s;
    while (test_now_s() < end) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode_status(status);
        if (r < 0) return -1;
        test_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int test_run(char *const argv[], const char *in_path, char **out, char **err)
{
    char dir[4096], out_path[4200], err_path[4200];
    *out = *err = NULL;
    if (test_mkdtemp(dir, sizeof dir, NULL, "im-test-run") != 0) return -1;
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    int status = test_wait(test_spawn(argv, in_path ? in_path : "/dev/null", out_path, err_path));
    *out = test_read_file(out_path, NULL);
    *err = test_read_file(err_path, NULL);
    test_rm_tree(dir);
    return status;
}

int test_have_mnist10k(char *data_dir, size_t size)
{
    const char *root = getenv("IM_DATA_DIR");
    char probe[4200];
    struct stat st;
    if (!root) return 0;
    snprintf(probe, sizeof probe, "%s/mnist10k/train-images-idx3-ubyte", root);
    if (stat(probe, &st) != 0) return 0;
    snprintf(data_dir, size, "%s", root);
    return 1;
}
