/*
 * backup.c: `infomorph backup FILE`: a consistent copy of the coordinator's
 * database, streamed to this machine (protocol.h, BACKUP) and written to
 * FILE atomically: into FILE.tmp, synced, then renamed over FILE, so FILE is
 * either the old file or the whole copy. Nothing is written on the
 * coordinator's side. The copy is an SQLite database: open it with sqlite3,
 * or start a coordinator on it to restore.
 */
#include "cli.h"
#include "base64.h"
#include "client.h"
#include "im.h"
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 100

static long long g_chunk; /* --chunk, 0: the coordinator's default */

static int backup_option(int c, int argc, char **argv, void *user)
{
    (void)argc;
    (void)argv;
    (void)user;
    char *end;
    errno = 0;
    long long v = strtoll(optarg, &end, 10);
    if (c != CLI_OPT_LONG || errno || *end || v < 1 || v > (long long)IM_BACKUP_CHUNK) {
        fprintf(stderr, "infomorph backup: --chunk must be a number of bytes in 1..%u\n",
                IM_BACKUP_CHUNK);
        return CLI_USAGE;
    }
    g_chunk = v;
    return CLI_CONTINUE;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Write n bytes to fd. Returns 0 or -1 (errno set). */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Fetch the chunks of backup id into fd, starting with the reply in hand.
 * Returns CLI_OK and *total, or an exit status (message printed). */
static int fetch(const cli_args *a, json_t *reply, int64_t id, int fd, long long *total)
{
    long long expect = 0, size = -1;
    for (;;) {
        const char *data = json_string_value(json_object_get(reply, "data"));
        long long from = cli_int(reply, "from", -1), sz = cli_int(reply, "size", -1);
        json_t *next = json_object_get(reply, "next");
        if (!data || from != expect || sz < 0 || (size >= 0 && sz != size) ||
            !(json_is_null(next) || json_is_integer(next))) {
            fprintf(stderr, "infomorph backup: a malformed chunk at offset %lld\n", expect);
            json_decref(reply);
            return CLI_ERROR;
        }
        size = sz;
        size_t len = strlen(data);
        unsigned char *bytes = im_xmalloc(len / 4 * 3 + 3);
        long n = im_base64_decode(data, len, bytes);
        if (n < 0 || from + n > size ||
            (json_is_integer(next) && json_integer_value(next) != from + n)) {
            fprintf(stderr, "infomorph backup: a malformed chunk at offset %lld\n", expect);
            free(bytes);
            json_decref(reply);
            return CLI_ERROR;
        }
        int werr = write_all(fd, bytes, (size_t)n);
        free(bytes);
        expect = from + n;
        int last = json_is_null(next);
        json_decref(reply);
        if (werr) {
            fprintf(stderr, "infomorph backup: unable to write: %s\n", strerror(errno));
            return CLI_ERROR;
        }
        if (last) break;
        json_t *fields =
            json_pack("{s:I,s:I}", "backup", (json_int_t)id, "from", (json_int_t)expect);
        int rc = cli_call(a, "BACKUP", fields, &reply, CLI_ERROR);
        if (rc != CLI_OK) return rc;
    }
    if (expect != size) {
        fprintf(stderr, "infomorph backup: got %lld of %lld bytes\n", expect, size);
        return CLI_ERROR;
    }
    *total = size;
    return CLI_OK;
}

int cli_backup_main(int argc, char **argv)
{
    cli_args a = {.verb = "backup"};
    static const struct option longopts[] = {
        {"chunk", required_argument, NULL, CLI_OPT_LONG}, CLI_CLIENT_LONGOPTS, {NULL, 0, NULL, 0}};
    static const cli_syntax syntax = {
        .help = "usage: infomorph backup FILE [--chunk BYTES] [--connect ENDPOINT]\n\n"
                "Write a consistent copy of the coordinator's database to FILE on this\n"
                "machine (atomically: FILE is replaced only by a complete copy). The\n"
                "coordinator copies it in memory while it goes on serving, and writes\n"
                "nothing. Restore: start infomorph-coordinator --db FILE.\n\n"
                "options:\n"
                "  --chunk BYTES       the most bytes per reply (default and most: 4 MiB)\n",
        .optstring = CLI_CLIENT_SHORTOPTS,
        .longopts = longopts,
        .option = backup_option,
        .operands = 1,
        .missing = "where to? (infomorph backup FILE)"};
    g_chunk = 0;
    int rc = cli_parse(&a, &syntax, argc, argv, NULL);
    if (rc != CLI_CONTINUE) return rc;
    const char *path = a.pos[0];

    json_t *reply = NULL;
    json_t *first = json_object();
    if (g_chunk) json_object_set_new(first, "limit", json_integer(g_chunk));
    if ((rc = cli_call(&a, "BACKUP", first, &reply, CLI_ERROR)) != CLI_OK) return rc;
    int64_t id = cli_int(reply, "backup", 0);
    while (id > 0 && !json_is_true(json_object_get(reply, "ready"))) {
        json_decref(reply);
        sleep_ms(POLL_MS);
        rc =
            cli_call(&a, "BACKUP", json_pack("{s:I}", "backup", (json_int_t)id), &reply, CLI_ERROR);
        if (rc != CLI_OK) return rc;
    }
    if (id <= 0) {
        fprintf(stderr, "infomorph backup: the coordinator gave no backup id\n");
        json_decref(reply);
        return CLI_ERROR;
    }

    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "infomorph backup: the name '%s' is too long\n", path);
        json_decref(reply);
        return CLI_USAGE;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "infomorph backup: unable to create '%s': %s\n", tmp, strerror(errno));
        json_decref(reply);
        return CLI_ERROR;
    }
    long long total = 0;
    rc = fetch(&a, reply, id, fd, &total);
    if (rc == CLI_OK && fsync(fd) != 0) {
        fprintf(stderr, "infomorph backup: unable to sync '%s': %s\n", tmp, strerror(errno));
        rc = CLI_ERROR;
    }
    if (close(fd) != 0 && rc == CLI_OK) {
        fprintf(stderr, "infomorph backup: unable to write '%s': %s\n", tmp, strerror(errno));
        rc = CLI_ERROR;
    }
    if (rc == CLI_OK && rename(tmp, path) != 0) {
        fprintf(stderr, "infomorph backup: unable to rename '%s' to '%s': %s\n", tmp, path,
                strerror(errno));
        rc = CLI_ERROR;
    }
    if (rc != CLI_OK) {
        unlink(tmp);
        return rc;
    }
    printf("wrote %s: %lld bytes, a consistent copy of the coordinator's database\n", path, total);
    return CLI_OK;
}
