/*
 * store_backup.c: a consistent copy of the trial database in memory, made
 * with SQLite's online backup a few pages at a time so that the
 * coordinator's loop goes on between steps (see store.h). Writes the
 * coordinator makes on its own connection while a copy is under way are
 * carried into the copy by SQLite, so the finished copy is the database as
 * of the last step. Nothing is written to disk.
 */
#include "store.h"
#include "store_internal.h"

#include <sqlite3.h>
#include <stdlib.h>

struct store_backup {
    sqlite3 *mem;         /* the destination: an in-memory database */
    sqlite3_backup *copy; /* NULL once complete */
    unsigned char *image; /* the serialised copy (sqlite3_malloc'd), once complete */
    sqlite3_int64 size;
};

int store_backup_begin(store *s, store_backup **out, im_error *err)
{
    *out = NULL;
    if (s->depth > 0)
        return im_error_set(err, IM_EINVAL, "a backup cannot start inside a transaction");
    store_backup *b = im_xcalloc(1, sizeof *b);
    int rc = sqlite3_open(":memory:", &b->mem);
    if (rc == SQLITE_OK) {
        b->copy = sqlite3_backup_init(b->mem, "main", s->db, "main");
        if (!b->copy) rc = sqlite3_errcode(b->mem);
    }
    if (rc != SQLITE_OK) {
        im_error_set(err, IM_EDB, "unable to start a backup: %s",
                     b->mem ? sqlite3_errmsg(b->mem) : sqlite3_errstr(rc));
        store_backup_free(&b);
        return IM_EDB;
    }
    *out = b;
    return 0;
}

int store_backup_step(store_backup *b, int n_pages, int *done, int *total, im_error *err)
{
    if (!b->copy) return 1;
    int rc = sqlite3_backup_step(b->copy, n_pages > 0 ? n_pages : 1);
    int remaining = sqlite3_backup_remaining(b->copy), count = sqlite3_backup_pagecount(b->copy);
    if (done) *done = count - remaining;
    if (total) *total = count;
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return 0;
    int fin = sqlite3_backup_finish(b->copy);
    b->copy = NULL;
    if (rc != SQLITE_DONE || fin != SQLITE_OK)
        return im_error_set(err, IM_EDB, "the backup failed: %s",
                            sqlite3_errstr(rc != SQLITE_DONE ? rc : fin));
    b->image = sqlite3_serialize(b->mem, "main", &b->size, 0);
    if (!b->image) return im_error_set(err, IM_EDB, "unable to serialise the backup");
    sqlite3_close(b->mem);
    b->mem = NULL;
    return 1;
}

const unsigned char *store_backup_image(const store_backup *b, size_t *size)
{
    *size = b && b->image ? (size_t)b->size : 0;
    return b ? b->image : NULL;
}

void store_backup_free(store_backup **bp)
{
    if (!bp || !*bp) return;
    store_backup *b = *bp;
    if (b->copy) sqlite3_backup_finish(b->copy);
    sqlite3_free(b->image);
    if (b->mem) sqlite3_close(b->mem);
    free(b);
    *bp = NULL;
}
