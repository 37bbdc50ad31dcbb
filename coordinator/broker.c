/*
 * broker.c: the zmq_poll loop, one handler per message type, leases and
 * worker liveness, the replies of a pass sent after its commit.
 *
 * Workload: a few messages per trial (READY -> JOB, PROGRESS -> CONTINUE
 * per epoch, RESULT -> ACK); each handler does O(1) work in memory plus a
 * few prepared-statement writes, so a pass over many messages costs one
 * commit. Lease expiry scans the running trials (at most one per worker).
 */
#include "broker.h"

#include "base64.h"
#include "campaign.h"
#include "lifecycle.h"
#include "log.h"
#include "protocol.h"
#include "sigpipe.h"
#include "store.h"
#include "transport.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define BATCH_WORKER_MSGS 512 /* messages read from the workers' socket per pass */
#define BATCH_CLIENT_MSGS 16  /* and from the clients' socket */
#define MAX_POLL_MS       1000
#define TOUCH_EVERY_S     10.0 /* write a worker's last_seen at most this often */

/* A worker known in this run: by name (READY) and routing identity. */
typedef struct worker_rec {
    char name[IM_WIRE_NAME_MAX + 1];
    unsigned char id[256]; /* the ROUTER identity of its latest connection */
    size_t id_len;
    double last_seen;  /* monotonic */
    double last_touch; /* monotonic time of the last write of last_seen */
    int registered;    /* its READY was recorded in this run (store_worker_seen) */
    json_t *datasets;  /* the datasets of its last READY (owned), NULL = any or not known */
    json_t *backends;  /* the backends of its last READY (owned), NULL = "builtin" */
    json_t *warned;    /* {dataset: true}: it was told once that it lacks these (owned) */
    int64_t memory;    /* the max_memory (bytes) of its last READY; -1 = no cap known */
    json_t *short_of;  /* {campaign id: true}: told once it offers too little memory (owned) */
    int busy;          /* scratch for workers_evict: it holds a running trial */
} worker_rec;

/* The most workers kept in memory. Beyond it the idle half seen longest ago
 * is forgotten in one sweep (workers_evict): a flood of READYs with new
 * names costs bounded memory and O(1) amortised time per READY. A forgotten
 * worker that speaks again is registered again by its next READY. */
#define BROKER_MAX_WORKERS 16384

/* A reply waiting for the pass's commit. */
typedef struct outmsg {
    void *sock;
    im_envelope env;
    char *data; /* encoded JSON, owned */
    size_t len;
} outmsg;

struct broker {
    broker_options opt; /* strings borrowed from the caller, used in broker_new only */
    store *st;
    void *ctx, *workers, *clients;
    campaign_set cs;
    worker_rec *wk;
    size_t n_wk, cap_wk;
    /* Hash indexes into wk (slot = index + 1, 0 = empty; linear probing,
     * at most half full): by name and by the ROUTER identity of the latest
     * connection, so that a message finds its worker in O(1) however many
     * names have been seen. */
    size_t *by_name, *by_id;
    size_t cap_index; /* a power of two >= 2 * cap_wk */
    outmsg *out;
    size_t n_out, cap_out;
    double now;
    int retry_ms;
    double liveness_s;
    double next_hold;      /* when trials held after a restart are released, or INFINITY */
    double refused_log_at; /* when the last "refused" line was logged (monotonic) */
    long refused_quiet;    /* refused messages not logged since then */
    json_t *other_db;      /* {worker name: true}: told once about another database (owned) */
    int fatal;             /* a database failure in this pass */
    im_error fatal_err;
    im_zap *zap;                     /* CurveZMQ's ZAP handler, or NULL (plain TCP) */
    char *worker_keys, *client_keys; /* the key directories (owned), with zap */
    char *db_path;                   /* the database file (owned): named in a fatal error */
    int hup_seen;                    /* im_sigpipe_hup_count() at the last reload */
    /* BACKUP: one copy at a time (id 0: none), made between passes */
    store_backup *bk;      /* NULL until the first step */
    int64_t bk_id, bk_seq; /* the current backup's id; the last id given */
    int bk_ready;          /* the copy is complete */
    int bk_done, bk_total; /* pages copied, pages in all */
    double bk_touched;     /* when a client last asked about it */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- replies ---- */

static void reply(broker *b, void *sock, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    size_t len;
    char *data = im_msg_encode(m, &len, &err);
    if (!data) {
        /* NEVER: every reply built here has its required fields */
        im_log(IM_LOG_ERROR, "cannot encode a %s reply: %s", im_msg_type_name(m->type), err.msg);
        return;
    }
    if (b->n_out == b->cap_out) {
        b->cap_out = b->cap_out ? b->cap_out * 2 : 256;
        b->out = im_xrealloc(b->out, b->cap_out * sizeof *b->out);
    }
    outmsg *o = &b->out[b->n_out++];
    o->sock = sock;
    o->env = *env;
    o->data = data;
    o->len = len;
}

static void reply_error(broker *b, void *sock, const im_envelope *env, const char *re,
                        const char *message)
{
    im_msg m = {.type = IM_MSG_ERROR};
    m.error.re = re;
    m.error.message = message;
    reply(b, sock, env, &m);
}

static void reply_ok(broker *b, const im_envelope *env, const char *re, json_t *payload)
{
    im_msg m = {.type = IM_MSG_OK};
    m.ok.re = re;
    m.body = payload;
    reply(b, b->clients, env, &m);
    json_decref(payload);
}

static void flush_replies(broker *b)
{
    for (size_t i = 0; i < b->n_out; i++) {
        outmsg *o = &b->out[i];
        int ok = 1;
        for (int f = 0; ok && f < o->env.n; f++)
            ok = zmq_send(o->sock, o->env.frame[f], o->env.len[f], ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
        if (ok) ok = zmq_send(o->sock, o->data, o->len, ZMQ_DONTWAIT) >= 0;
        if (!ok && errno != EHOSTUNREACH)
            im_log(IM_LOG_WARN, "a reply was not sent: %s", zmq_strerror(errno));
        free(o->data);
    }
    b->n_out = 0;
}

static void drop_replies(broker *b)
{
    for (size_t i = 0; i < b->n_out; i++) free(b->out[i].data);
    b->n_out = 0;
}

/* Record a database failure: the pass is rolled back and the loop ends. */
static void set_fatal(broker *b, const im_error *err)
{
    if (!b->fatal) {
        b->fatal = 1;
        b->fatal_err = *err;
    }
}

/* Returns 1 (and marks the pass fatal) for IM_EDB. */
static int db_failed(broker *b, int rc, const im_error *err)
{
    if (rc == IM_EDB) {
        set_fatal(b, err);
        return 1;
    }
    return 0;
}

/* ---- workers ---- */

/* FNV-1a of n bytes. */
static size_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return (size_t)h;
}

/* The key of wk[i] in an index: its name (by_name) or its identity (by_id). */
static size_t worker_key_hash(const broker *b, const size_t *index, size_t i)
{
    const worker_rec *w = &b->wk[i];
    return index == b->by_name ? hash_bytes(w->name, strlen(w->name))
                               : hash_bytes(w->id, w->id_len);
}

/* The slot of `index` holding wk[i], or cap_index if none. */
static size_t index_slot_of(const broker *b, const size_t *index, size_t i)
{
    size_t mask = b->cap_index - 1;
    for (size_t s = worker_key_hash(b, index, i) & mask; index[s]; s = (s + 1) & mask)
        if (index[s] == i + 1) return s;
    return b->cap_index;
}

static void index_insert(broker *b, size_t *index, size_t i)
{
    size_t mask = b->cap_index - 1, s = worker_key_hash(b, index, i) & mask;
    while (index[s]) s = (s + 1) & mask;
    index[s] = i + 1;
}

/* Remove wk[i] from index (backward-shift deletion: no tombstones). */
static void index_delete(broker *b, size_t *index, size_t i)
{
    size_t mask = b->cap_index - 1, hole = index_slot_of(b, index, i);
    if (hole == b->cap_index) return;
    for (size_t j = (hole + 1) & mask; index[j]; j = (j + 1) & mask) {
        size_t home = worker_key_hash(b, index, index[j] - 1) & mask;
        /* the entry at j may fill the hole unless its home lies in (hole, j] */
        int in_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (in_between) continue;
        index[hole] = index[j];
        hole = j;
    }
    index[hole] = 0;
}

/* Rebuild both indexes for cap_wk workers. */
static void index_rebuild(broker *b)
{
    size_t cap = 16;
    while (cap < 2 * b->cap_wk) cap *= 2;
    free(b->by_name);
    free(b->by_id);
    b->cap_index = cap;
    b->by_name = im_xcalloc(cap, sizeof *b->by_name);
    b->by_id = im_xcalloc(cap, sizeof *b->by_id);
    for (size_t i = 0; i < b->n_wk; i++) {
        index_insert(b, b->by_name, i);
        if (b->wk[i].id_len) index_insert(b, b->by_id, i);
    }
}

static worker_rec *worker_by_name(broker *b, const char *name)
{
    if (!b->cap_index) return NULL;
    size_t mask = b->cap_index - 1;
    for (size_t s = hash_bytes(name, strlen(name)) & mask; b->by_name[s]; s = (s + 1) & mask)
        if (strcmp(b->wk[b->by_name[s] - 1].name, name) == 0) return &b->wk[b->by_name[s] - 1];
    return NULL;
}

static worker_rec *worker_by_id(broker *b, const im_envelope *env)
{
    if (env->n < 1 || !b->cap_index) return NULL;
    size_t mask = b->cap_index - 1;
    for (size_t s = hash_bytes(env->frame[0], env->len[0]) & mask; b->by_id[s];
         s = (s + 1) & mask) {
        worker_rec *w = &b->wk[b->by_id[s] - 1];
        if (w->id_len == env->len[0] && memcmp(w->id, env->frame[0], env->len[0]) == 0) return w;
    }
    return NULL;
}

static int by_last_seen(const void *pa, const void *pb)
{
    double a = (*(const worker_rec *const *)pa)->last_seen;
    double c = (*(const worker_rec *const *)pb)->last_seen;
    return (a > c) - (a < c);
}

/* Forget the idle half of the workers seen longest ago (not those holding a
 * running trial). O(n log n), once per BROKER_MAX_WORKERS / 2 new names. */
static void workers_evict(broker *b)
{
    for (size_t i = 0; i < b->n_wk; i++) b->wk[i].busy = 0;
    for (size_t i = 0; i < b->cs.n_running; i++) {
        worker_rec *w = worker_by_name(b, b->cs.running[i]->worker);
        if (w) w->busy = 1;
    }
    worker_rec **idle = im_xmalloc_array(b->n_wk ? b->n_wk : 1, sizeof *idle);
    size_t n_idle = 0;
    for (size_t i = 0; i < b->n_wk; i++)
        if (!b->wk[i].busy) idle[n_idle++] = &b->wk[i];
    qsort(idle, n_idle, sizeof *idle, by_last_seen);
    for (size_t i = 0; i < n_idle / 2; i++) {
        json_decref(idle[i]->datasets);
        json_decref(idle[i]->backends);
        json_decref(idle[i]->warned);
        json_decref(idle[i]->short_of);
        idle[i]->name[0] = '\0'; /* marked: dropped below */
    }
    free(idle);
    size_t kept = 0;
    for (size_t i = 0; i < b->n_wk; i++)
        if (b->wk[i].name[0]) b->wk[kept++] = b->wk[i];
    im_log(IM_LOG_WARN, "%zu workers known: forgot the %zu idle ones seen longest ago", b->n_wk,
           b->n_wk - kept);
    b->n_wk = kept;
    index_rebuild(b);
}

static worker_rec *worker_add(broker *b, const char *name)
{
    if (b->n_wk >= BROKER_MAX_WORKERS) workers_evict(b);
    if (b->n_wk == b->cap_wk) {
        b->cap_wk = b->cap_wk ? b->cap_wk * 2 : 64;
        b->wk = im_xrealloc(b->wk, b->cap_wk * sizeof *b->wk);
        index_rebuild(b);
    }
    worker_rec *w = &b->wk[b->n_wk++];
    memset(w, 0, sizeof *w);
    w->memory = -1;
    snprintf(w->name, sizeof w->name, "%s", name);
    w->last_seen = w->last_touch = b->now;
    index_insert(b, b->by_name, b->n_wk - 1);
    return w;
}

/* The connection env now speaks for w (and for no other worker). */
static void worker_bind(broker *b, worker_rec *w, const im_envelope *env)
{
    worker_rec *other = worker_by_id(b, env);
    if (other == w) return;
    if (other) {
        index_delete(b, b->by_id, (size_t)(other - b->wk));
        other->id_len = 0;
    }
    if (w->id_len) index_delete(b, b->by_id, (size_t)(w - b->wk));
    memcpy(w->id, env->frame[0], env->len[0]);
    w->id_len = env->len[0];
    index_insert(b, b->by_id, (size_t)(w - b->wk));
}

/* Forget w; the last worker moves into its place (pointers to it change). */
static void worker_remove(broker *b, worker_rec *w)
{
    json_decref(w->datasets);
    json_decref(w->backends);
    json_decref(w->warned);
    json_decref(w->short_of);
    size_t i = (size_t)(w - b->wk), last = b->n_wk - 1;
    index_delete(b, b->by_name, i);
    if (w->id_len) index_delete(b, b->by_id, i);
    if (i != last) {
        size_t s = index_slot_of(b, b->by_name, last);
        if (s < b->cap_index) b->by_name[s] = i + 1;
        if (b->wk[last].id_len && (s = index_slot_of(b, b->by_id, last)) < b->cap_index)
            b->by_id[s] = i + 1;
        b->wk[i] = b->wk[last];
    }
    b->n_wk--;
}

/* A message came from a known worker: it is alive. */
static void worker_heard(broker *b, worker_rec *w)
{
    if (!w) return;
    w->last_seen = b->now;
    if (b->now - w->last_touch >= TOUCH_EVERY_S) {
        im_error err = {0};
        int rc = store_worker_touch(b->st, w->name, &err);
        if (db_failed(b, rc, &err)) return;
        w->last_touch = b->now;
    }
}

/* ---- datasets ---- */

/* The datasets of w as "a, b" into buf ("none" for an empty list). */
static const char *datasets_text(const worker_rec *w, char *buf, size_t len)
{
    size_t i, used = 0;
    const json_t *x;
    buf[0] = '\0';
    json_array_foreach(w->datasets, i, x)
    {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", json_string_value(x));
        if (n < 0 || (size_t)n >= len - used) break;
        used += (size_t)n;
    }
    if (!buf[0]) snprintf(buf, len, "none");
    return buf;
}

/* w said READY and gets NOJOB: for each campaign with work whose dataset w
 * lacks, warn once per worker and dataset (log and event), so a campaign
 * that no worker can run is visible rather than silently stuck. */
static void note_missing_datasets(broker *b, worker_rec *w)
{
    if (!w->datasets) return;
    for (size_t i = 0; i < b->cs.n && !b->fatal; i++) {
        const campaign *c = b->cs.v[i];
        const char *ds = c->spec.train.dataset;
        if (!campaign_has_work(c) || !campaign_backend_fits(c, w->backends) ||
            c->spec.backend == IM_BACKEND_EXEC || campaign_runs_on(c, w->backends, w->datasets))
            continue;
        if (!w->warned) w->warned = json_object();
        if (json_object_get(w->warned, ds)) continue;
        json_object_set_new(w->warned, ds, json_true());
        char have[512], detail[800];
        datasets_text(w, have, sizeof have);
        snprintf(detail, sizeof detail, "worker %s lacks dataset '%s' (it has %s)", w->name, ds,
                 have);
        im_log(IM_LOG_WARN,
               "campaign %s: %s; its trials wait for a worker that has it (in its --data-dir)",
               c->name, detail);
        im_error err = {0};
        int rc = store_event(b->st, "dataset_missing", c->id, 0, w->name, detail, &err);
        if (db_failed(b, rc, &err)) return;
    }
}

/* ---- memory ---- */

/* w said READY and gets NOJOB: for each campaign with work that w could run
 * (backend, dataset) but whose trials need more memory than w offers, warn
 * once per worker and campaign (log and event "memory_short"). */
static void note_memory_short(broker *b, worker_rec *w)
{
    if (w->memory < 0) return;
    for (size_t i = 0; i < b->cs.n && !b->fatal; i++) {
        const campaign *c = b->cs.v[i];
        if (!campaign_has_work(c) || !campaign_runs_on(c, w->backends, w->datasets) ||
            campaign_fits_memory(c, w->memory))
            continue;
        char key[32], detail[600];
        snprintf(key, sizeof key, "%lld", (long long)c->id);
        if (!w->short_of) w->short_of = json_object();
        if (json_object_get(w->short_of, key)) continue;
        json_object_set_new(w->short_of, key, json_true());
        snprintf(detail, sizeof detail,
                 "worker %s offers %.1f GB of memory, a trial needs about %.1f GB (hidden %d, "
                 "batch %d)",
                 w->name, (double)w->memory / 1e9, (double)c->need_bytes / 1e9,
                 c->spec.train.hidden, c->spec.train.batch);
        im_log(IM_LOG_WARN,
               "campaign %s: %s; its trials wait for a worker with more (--max-memory, --share)",
               c->name, detail);
        im_error err = {0};
        int rc = store_event(b->st, "memory_short", c->id, 0, w->name, detail, &err);
        if (db_failed(b, rc, &err)) return;
    }
}

/* Why no connected worker with c's backend (and, with by_dataset, its
 * dataset) takes c's trials for memory: "needs N GB, the largest worker
 * offers M GB (w1)" into text, or "" when one of them has enough or none
 * is connected. */
static void memory_wait_text(broker *b, const campaign *c, int by_dataset, char *text, size_t len)
{
    const worker_rec *largest = NULL;
    text[0] = '\0';
    for (size_t i = 0; i < b->n_wk; i++) {
        const worker_rec *w = &b->wk[i];
        if (!w->registered || w->id_len == 0) continue; /* not connected in this run */
        if (by_dataset ? !campaign_runs_on(c, w->backends, w->datasets)
                       : !campaign_backend_fits(c, w->backends))
            continue;
        if (campaign_fits_memory(c, w->memory)) return;
        if (!largest || w->memory > largest->memory) largest = w;
    }
    if (largest)
        snprintf(text, len, "needs %.1f GB, the largest worker offers %.1f GB (%s)",
                 (double)c->need_bytes / 1e9, (double)largest->memory / 1e9, largest->name);
}

/* The backends of w as "a, b" into buf ("builtin" when it named none). */
static const char *backends_text(const worker_rec *w, char *buf, size_t len)
{
    size_t i, used = 0;
    const json_t *x;
    snprintf(buf, len, "%s", w->backends ? "none" : "builtin");
    json_array_foreach(w->backends, i, x)
    {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", json_string_value(x));
        if (n < 0 || (size_t)n >= len - used) break;
        used += (size_t)n;
    }
    return buf;
}

/* Why campaign c, with trials to hand out, gets no worker: a new string
 * "no connected worker has dataset 'x' (workers: w1 has a, b; w2 has c)"
 * or, for a campaign whose backend no worker runs, "no connected worker
 * runs backend 'exec' (workers: w1 runs builtin)", or, when the workers
 * with its dataset offer too little memory, "needs N GB, the largest worker
 * offers M GB (w1)" (after the dataset's text, "; " and that, when those
 * with its backend offer too little as well); NULL when some connected
 * worker may run it. */
static json_t *waiting_json(broker *b, const campaign *c)
{
    if (!campaign_has_work(c) && !c->n_held) return NULL;
    char text[1024], have[512], mem[256];
    memory_wait_text(b, c, 1, mem, sizeof mem);
    if (mem[0]) return json_string(mem);
    size_t used = 0;
    int by_backend = c->spec.backend != IM_BACKEND_BUILTIN;
    int n = by_backend ? snprintf(text, sizeof text, "no connected worker runs backend '%s' (",
                                  im_backend_name(c->spec.backend))
                       : snprintf(text, sizeof text, "no connected worker has dataset '%s' (",
                                  c->spec.train.dataset);
    used = (size_t)n;
    int listed = 0;
    for (size_t i = 0; i < b->n_wk; i++) {
        const worker_rec *w = &b->wk[i];
        if (!w->registered || w->id_len == 0) continue; /* not connected in this run */
        if (campaign_runs_on(c, w->backends, w->datasets)) return NULL;
        int other = by_backend || !campaign_backend_fits(c, w->backends);
        n = snprintf(text + used, sizeof text - used, "%s%s %s %s",
                     listed ? "; " : "workers: ", w->name, other ? "runs" : "has",
                     other ? backends_text(w, have, sizeof have)
                           : datasets_text(w, have, sizeof have));
        if (n > 0 && (size_t)n < sizeof text - used) used += (size_t)n;
        listed++;
    }
    memory_wait_text(b, c, 0, mem, sizeof mem);
    snprintf(text + used, sizeof text - used, "%s)%s%s", listed ? "" : "no worker is connected",
             mem[0] ? "; " : "", mem);
    return json_string(text);
}

/* ---- worker messages ---- */

static void on_ready(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    worker_rec *w = worker_by_name(b, m->ready.worker);
    if (!w) w = worker_add(b, m->ready.worker);
    if (!w->registered) {
        char backends[512] = "";
        size_t i;
        const json_t *x;
        json_array_foreach(m->ready.backends, i, x)
        {
            size_t used = strlen(backends);
            snprintf(backends + used, sizeof backends - used, "%s%s", used ? "," : "",
                     json_string_value(x));
        }
        store_worker_info info = {.name = w->name,
                                  .host = m->ready.host,
                                  .pid = m->ready.pid,
                                  .threads = m->ready.threads,
                                  .backends = backends[0] ? backends : NULL};
        int rc = store_worker_seen(b->st, &info, &err);
        if (db_failed(b, rc, &err)) return;
        w->last_touch = b->now;
        w->registered = 1;
        im_log(IM_LOG_INFO, "worker %s: ready (host %s, pid %lld, %d threads, version %s)", w->name,
               m->ready.host ? m->ready.host : "?", (long long)m->ready.pid, m->ready.threads,
               m->ready.version ? m->ready.version : "?");
    }
    if (!json_equal(w->datasets, m->ready.datasets) && (w->datasets || m->ready.datasets)) {
        json_decref(w->datasets);
        w->datasets = m->ready.datasets ? json_deep_copy(m->ready.datasets) : NULL;
    }
    int64_t cap = m->ready.has_max_memory ? m->ready.max_memory : -1;
    if (cap != w->memory) { /* a new cap: warn again about what it lacks */
        w->memory = cap;
        json_decref(w->short_of);
        w->short_of = NULL;
    }
    if (!json_equal(w->backends, m->ready.backends) && (w->backends || m->ready.backends)) {
        json_decref(w->backends);
        w->backends = m->ready.backends ? json_deep_copy(m->ready.backends) : NULL;
    }
    /* one connection speaks for one worker: the latest name it gave */
    worker_bind(b, w, env);
    worker_heard(b, w);
    if (b->fatal) return;

    trial *t = NULL;
    int rc = lifecycle_hand_out(&b->cs, b->st, w->name, m->ready.backends, m->ready.datasets,
                                w->memory, b->now, b->opt.lease_s, &t, &err);
    if (rc) {
        set_fatal(b, &err);
        return;
    }
    if (!t) {
        note_missing_datasets(b, w);
        if (!b->fatal) note_memory_short(b, w);
        if (b->fatal) return;
        im_msg r = {.type = IM_MSG_NOJOB};
        r.nojob.retry_ms = b->retry_ms;
        reply(b, b->workers, env, &r);
        return;
    }
    im_msg r = {.type = IM_MSG_JOB};
    r.job.trial = t->id;
    r.job.attempt = t->attempt;
    r.job.db = store_database_id(b->st);
    r.job.lease_s = b->opt.lease_s;
    r.job.campaign = t->c->name;
    r.job.number = t->number;
    r.job.spec = t->spec;
    r.job.user = t->c->spec.user;
    r.job.params = t->params;
    reply(b, b->workers, env, &r);
    im_log(IM_LOG_DEBUG, "trial %lld (campaign %s, number %d): attempt %d to worker %s",
           (long long)t->id, t->c->name, t->number, t->attempt, w->name);
}

/* The name of the worker that sent a trial message: the message's "worker"
 * (msg_worker, may be NULL), else the name of the connection's READY in this
 * run; NULL when neither is known. */
static const char *sender_name(broker *b, const im_envelope *env, const char *msg_worker)
{
    if (msg_worker) return msg_worker;
    worker_rec *w = worker_by_id(b, env);
    return w ? w->name : NULL;
}

/* The worker that sent env, or, when that connection is not known and the
 * sender calls itself t's worker (name), that worker, which now speaks on
 * it (it reconnected, or the coordinator restarted), so that it stays alive
 * through its trial's messages. */
static worker_rec *trial_sender(broker *b, const im_envelope *env, const trial *t, const char *name)
{
    worker_rec *w = worker_by_id(b, env);
    if (!w && name && t->worker[0] && strcmp(name, t->worker) == 0 &&
        (w = worker_by_name(b, t->worker))) {
        worker_bind(b, w, env);
        worker_heard(b, w);
    }
    return w;
}

/* 1 if attempt `attempt` of t was handed to the worker called name. */
static int attempt_is_of(broker *b, const trial *t, int attempt, const char *name)
{
    char holder[IM_WIRE_NAME_MAX + 1] = "";
    im_error err = {0};
    int rc = store_attempt_worker(b->st, t->id, attempt, holder, sizeof holder, &err);
    if (db_failed(b, rc, &err)) return 0;
    return rc == 0 && name && holder[0] && strcmp(holder, name) == 0;
}

/* The running trial a PROGRESS/HEARTBEAT/RESULT of (id, attempt) from the
 * worker msg_worker (the message's "worker", may be NULL) refers to, or NULL
 * and the STOP reason for the sender ("unknown", "lost"). An attempt that
 * was given up (lease expiry, coordinator restart) while no one else took
 * the trial is leased again to its sender rather than wasted, when the
 * sender is the worker that attempt was handed to. */
static trial *current_trial(broker *b, const im_envelope *env, int64_t id, int attempt,
                            const char *msg_worker, const char **why)
{
    trial *t = campaign_set_trial(&b->cs, id);
    if (!t) {
        *why = "unknown";
        return NULL;
    }
    const char *name = sender_name(b, env, msg_worker);
    lc_match match = lifecycle_match(t, attempt);
    if (match == LC_MATCH_CURRENT) {
        trial_sender(b, env, t, name);
        return t;
    }
    if (match == LC_MATCH_STALE) { /* another attempt runs, or not one t had */
        *why = "lost";
        return NULL;
    }
    if (!attempt_is_of(b, t, attempt, name)) {
        if (!b->fatal)
            im_log(IM_LOG_INFO,
                   "trial %lld attempt %d: not resumed for worker %s (not the worker it was "
                   "handed to)",
                   (long long)id, attempt, name ? name : "?");
        *why = "unknown";
        return NULL;
    }
    trial_sender(b, env, t, name);
    char who[IM_WIRE_NAME_MAX + 1];
    snprintf(who, sizeof who, "%s", name); /* t->worker is overwritten */
    im_error err = {0};
    int rc = lifecycle_relet(&b->cs, b->st, t, who, attempt, b->now, b->opt.lease_s, &err);
    if (rc) {
        if (rc == IM_EDB) set_fatal(b, &err);
        *why = "lost";
        return NULL;
    }
    return t;
}

static void reply_continue_or_stop(broker *b, const im_envelope *env, int64_t id, int attempt,
                                   const char *stop)
{
    im_msg r = {.type = stop ? IM_MSG_STOP : IM_MSG_CONTINUE};
    if (stop) {
        r.stop.trial = id;
        r.stop.attempt = attempt;
        r.stop.reason = stop;
    } else {
        r.cont.trial = id;
        r.cont.attempt = attempt;
    }
    reply(b, b->workers, env, &r);
}

/* The most worker names remembered as told about another database; beyond
 * it such refusals are no longer logged (the event log has them). */
#define OTHER_DB_NAMES_MAX 1024

/* 1 if a trial message's db (may be NULL: an older worker) is this
 * coordinator's database. Else 0: the message is about a trial of another
 * database (a coordinator that ran before on these endpoints with another
 * --db) or from a worker that does not send it, and must change nothing;
 * it is logged and recorded as an event "other_database" once per worker
 * name (msg_worker, or the connection's) in this run. */
static int db_is_ours(broker *b, const im_envelope *env, const char *db, const char *msg_worker,
                      const char *type, int64_t id, int attempt)
{
    const char *ours = store_database_id(b->st);
    if (db && strcmp(db, ours) == 0) return 1;
    const char *name = sender_name(b, env, msg_worker);
    const char *key = name ? name : "";
    if (!b->other_db) b->other_db = json_object();
    if (json_object_get(b->other_db, key) || json_object_size(b->other_db) >= OTHER_DB_NAMES_MAX)
        return 0;
    json_object_set_new(b->other_db, key, json_true());
    char detail[320];
    snprintf(detail, sizeof detail,
             "%s of trial %lld attempt %d for database %s, not this one (%s)", type, (long long)id,
             attempt, db ? db : "(none: the worker sends no \"db\")", ours);
    im_log(IM_LOG_WARN, "worker %s: refused: %s; said once per worker", name ? name : "?", detail);
    im_error err = {0};
    int rc = store_event(b->st, "other_database", 0, 0, name, detail, &err);
    db_failed(b, rc, &err);
    return 0;
}

/* A PROGRESS or HEARTBEAT about (id, attempt) of database db from worker
 * msg_worker (both may be NULL): the sender is alive, the trial's lease is
 * renewed. Returns the trial, or NULL when the reply (STOP) is already
 * queued or the pass failed. */
static trial *renew_lease(broker *b, const im_envelope *env, const im_msg *m, int64_t id,
                          int attempt, const char *db, const char *msg_worker)
{
    const char *why = NULL;
    worker_heard(b, worker_by_id(b, env));
    if (!db_is_ours(b, env, db, msg_worker, im_msg_type_name(m->type), id, attempt)) {
        if (!b->fatal) reply_continue_or_stop(b, env, id, attempt, "unknown");
        return NULL;
    }
    trial *t = current_trial(b, env, id, attempt, msg_worker, &why);
    if (b->fatal) return NULL;
    if (!t) {
        reply_continue_or_stop(b, env, id, attempt, why);
        return NULL;
    }
    lifecycle_renew(t, b->now, b->opt.lease_s);
    return t;
}

static void on_progress(broker *b, const im_envelope *env, const im_msg *m)
{
    trial *t = renew_lease(b, env, m, m->progress.trial, m->progress.attempt, m->progress.db,
                           m->progress.worker);
    if (!t) return;
    const im_epoch_stats *e = &m->progress.e;
    im_error err = {0};
    /* an exec trial's objective at this epoch, kept for a restart's pruner */
    double value = t->c->spec.backend == IM_BACKEND_EXEC ? m->progress.value : (double)NAN;
    int rc = store_epochs_insert_values(b->st, t->id, e, &value, 1, &err);
    if (db_failed(b, rc, &err)) return;
    lifecycle_progress(t, e->epoch, campaign_progress_score(t, e->val_acc, m->progress.value));
    reply_continue_or_stop(b, env, t->id, t->wire_attempt, lifecycle_stop_reason(t));
}

static void on_heartbeat(broker *b, const im_envelope *env, const im_msg *m)
{
    if (m->heartbeat.trial == 0) {
        worker_heard(b, worker_by_id(b, env));
        reply_continue_or_stop(b, env, 0, 0, NULL);
        return;
    }
    trial *t = renew_lease(b, env, m, m->heartbeat.trial, m->heartbeat.attempt, m->heartbeat.db,
                           m->heartbeat.worker);
    if (!t) return;
    reply_continue_or_stop(b, env, t->id, t->wire_attempt, lifecycle_stop_reason(t));
}

static void ack(broker *b, const im_envelope *env, int64_t trial_id, int attempt, int accepted,
                const char *note)
{
    im_msg r = {.type = IM_MSG_ACK};
    r.ack.trial = trial_id;
    r.ack.attempt = attempt;
    r.ack.accepted = accepted;
    r.ack.note = note;
    reply(b, b->workers, env, &r);
}

/* A RESULT's curve as the pruner's score by epoch (NAN where missing):
 * val_acc, or for an exec campaign its objective (curve_values) in its
 * direction; epochs beyond 10000 are left out. Caller frees; NULL when
 * empty. */
static double *curve_val_by_epoch(const trial *t, const im_msg *m, int *n_out)
{
    int n = 0;
    for (size_t i = 0; i < m->result.n_curve; i++)
        if (m->result.curve[i].epoch < 10000 && m->result.curve[i].epoch + 1 > n)
            n = m->result.curve[i].epoch + 1;
    *n_out = n;
    if (!n) return NULL;
    double *v = im_xmalloc_array((size_t)n, sizeof *v);
    for (int e = 0; e < n; e++) v[e] = NAN;
    for (size_t i = 0; i < m->result.n_curve; i++) {
        if (m->result.curve[i].epoch >= n) continue;
        v[m->result.curve[i].epoch] = campaign_progress_score(t, m->result.curve[i].val_acc,
                                                              im_result_curve_value(&m->result, i));
    }
    return v;
}

/* A RESULT for a trial that is not in memory: ended already (a duplicate:
 * nothing is written) or never existed. */
static void result_for_unknown(broker *b, const im_envelope *env, const im_msg *m, int64_t id,
                               int attempt, const worker_rec *w)
{
    im_error err = {0};
    store_trial_result probe = {
        .status = STORE_TRIAL_DONE, .val_acc = NAN, .test_acc = NAN, .wall_s = NAN};
    int rc = store_trial_finish(b->st, id, attempt, &probe, &err);
    if (rc == 0) {
        /* NEVER: memory says the trial is not running */
        err = (im_error){IM_EDB, "trial store and memory disagree about a running trial"};
        set_fatal(b, &err);
        return;
    }
    if (db_failed(b, rc, &err)) return;
    if (rc == IM_ENOTFOUND) {
        im_log(IM_LOG_WARN, "trial %lld: result for an unknown trial (worker %s)", (long long)id,
               w ? w->name : "?");
        rc = store_event(b->st, "result_unknown", 0, id, w ? w->name : NULL, NULL, &err);
        if (db_failed(b, rc, &err)) return;
        ack(b, env, id, attempt, 0, "unknown");
    } else {
        /* a resent result of the attempt that ended the trial is a
         * duplicate; one of an earlier attempt that another worker's
         * replaced, given up while its worker went on (a partition), is
         * recorded but not counted */
        int superseded = 0;
        rc = store_trial_late(b->st, id, attempt, &superseded, &err);
        if (db_failed(b, rc, &err)) return;
        if (rc == 0 && superseded) {
            char detail[160];
            snprintf(detail, sizeof detail,
                     "result of attempt %d (status %s) after the trial ended", attempt,
                     im_result_status_name(m->result.status));
            im_log(IM_LOG_INFO, "trial %lld: superseded result ignored: %s", (long long)id, detail);
            rc = store_event(b->st, "result_superseded", 0, id, w ? w->name : NULL, detail, &err);
            if (db_failed(b, rc, &err)) return;
            ack(b, env, id, attempt, 0, "superseded");
            return;
        }
        im_log(IM_LOG_DEBUG, "trial %lld attempt %d: duplicate result ignored", (long long)id,
               attempt);
        ack(b, env, id, attempt, 0, "duplicate");
    }
}

/* A RESULT for an attempt of t that is no longer current. */
static void result_superseded(broker *b, const im_envelope *env, trial *t, const im_msg *m,
                              const worker_rec *w)
{
    im_error err = {0};
    int64_t id = m->result.trial;
    int attempt = m->result.attempt;
    char detail[160];
    snprintf(detail, sizeof detail, "result of attempt %d (status %s); current attempt %d %s",
             attempt, im_result_status_name(m->result.status), t->attempt,
             lifecycle_deadline(t) < INFINITY ? "running" : "queued");
    im_log(IM_LOG_INFO, "trial %lld: superseded result ignored: %s", (long long)id, detail);
    int rc =
        store_event(b->st, "result_superseded", t->c->id, id, w ? w->name : NULL, detail, &err);
    if (db_failed(b, rc, &err)) return;
    ack(b, env, id, attempt, 0, "superseded");
}

/* The RESULT of t's current attempt: lifecycle.h decides what it means;
 * a result that ends t brings its curve and atoms. */
static void result_current(broker *b, const im_envelope *env, trial *t, const im_msg *m)
{
    im_error err = {0};
    int64_t id = m->result.trial;
    int attempt = m->result.attempt;
    store_trial_result r = {.val_acc = m->result.val_acc,
                            .test_acc = m->result.test_acc,
                            .wall_s = m->result.wall_s,
                            .error = m->result.error};
    char worker[IM_WIRE_NAME_MAX + 1];
    snprintf(worker, sizeof worker, "%s", t->worker[0] ? t->worker : "?"); /* t may be freed */
    lc_event event = lifecycle_result_event(t, m->result.status);
    int n_ep = 0;
    double *val_by_epoch = NULL;
    campaign_trial_take_result(t, &m->result);
    if (lifecycle_keeps_result(event)) {
        int rc = store_trial_data_insert(b->st, t->id, &m->result, &err);
        if (db_failed(b, rc, &err)) return;
        if (rc) /* the result itself still counts */
            im_log(IM_LOG_WARN, "trial %lld: curve or atoms refused: %s", (long long)id, err.msg);
        val_by_epoch = curve_val_by_epoch(t, m, &n_ep);
    }
    int rc = lifecycle_result(&b->cs, b->st, t, m->result.status, &r, val_by_epoch, n_ep, &err);
    free(val_by_epoch);
    if (rc) {
        set_fatal(b, &err);
        return;
    }
    if (event == LC_FAILED)
        im_log(IM_LOG_WARN, "trial %lld (worker %s): failed: %s", (long long)id, worker, r.error);
    else if (lifecycle_keeps_result(event))
        im_log(IM_LOG_DEBUG, "trial %lld (worker %s): %s, val_acc %.4f", (long long)id, worker,
               store_trial_status_name(r.status), r.val_acc);
    else if (m->result.status == IM_RESULT_INTERRUPTED)
        im_log(IM_LOG_INFO, "trial %lld (worker %s): interrupted, queued again", (long long)id,
               worker);
    ack(b, env, id, attempt, 1, "accepted");
}

static void on_result(broker *b, const im_envelope *env, const im_msg *m)
{
    int64_t id = m->result.trial;
    int attempt = m->result.attempt;
    worker_rec *w = worker_by_id(b, env);
    worker_heard(b, w);
    if (!db_is_ours(b, env, m->result.db, m->result.worker, "RESULT", id, attempt)) {
        if (!b->fatal) ack(b, env, id, attempt, 0, "other database");
        return;
    }
    trial *t = campaign_set_trial(&b->cs, id);
    if (!t) {
        result_for_unknown(b, env, m, id, attempt, w);
        return;
    }
    if (lifecycle_late_give_up(t, attempt, m->result.status)) {
        /* an attempt already given up, now given up by its worker too */
        ack(b, env, id, attempt, 1, "accepted");
        return;
    }
    const char *why = NULL;
    if (!current_trial(b, env, id, attempt, m->result.worker, &why)) {
        if (!b->fatal) result_superseded(b, env, t, m, w);
        return;
    }
    result_current(b, env, t, m);
}

static void on_bye(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    worker_rec *w = worker_by_name(b, m->bye.worker);
    /* its running trials are given up at once rather than at lease expiry */
    for (size_t i = b->cs.n_running; i-- > 0;) {
        trial *t = b->cs.running[i];
        if (strcmp(t->worker, m->bye.worker) != 0) continue;
        int rc = lifecycle_lost(&b->cs, b->st, t, "the worker shut down", 0, &err);
        if (rc) {
            set_fatal(b, &err);
            return;
        }
    }
    if (w) {
        int rc = store_worker_set_status(b->st, w->name, "gone", &err);
        if (db_failed(b, rc, &err)) return;
        im_log(IM_LOG_INFO, "worker %s: gone", w->name);
        worker_remove(b, w);
    }
    ack(b, env, 0, 0, 1, "accepted");
}

static void handle_worker_msg(broker *b, const im_envelope *env, const im_msg *m)
{
    switch (m->type) {
    case IM_MSG_READY: on_ready(b, env, m); return;
    case IM_MSG_PROGRESS: on_progress(b, env, m); return;
    case IM_MSG_HEARTBEAT: on_heartbeat(b, env, m); return;
    case IM_MSG_RESULT: on_result(b, env, m); return;
    case IM_MSG_BYE: on_bye(b, env, m); return;
    default: break;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s is not a message a worker sends to the coordinator",
             im_msg_type_name(m->type));
    reply_error(b, b->workers, env, im_msg_type_name(m->type), msg);
}

/* ---- client messages ---- */

/* Find a campaign by name or id in the store. Returns 0, IM_ENOTFOUND (err
 * says "no campaign 'x'"), IM_EDB. */
static int resolve(broker *b, const im_wire_campaign_ref *ref, store_campaign *out, im_error *err)
{
    int rc = ref->name ? store_campaign_find(b->st, ref->name, out, err)
                       : store_campaign_get(b->st, ref->id, out, err);
    if (rc == IM_ENOTFOUND) {
        if (ref->name)
            im_error_set(err, IM_ENOTFOUND, "no campaign '%s'", ref->name);
        else
            im_error_set(err, IM_ENOTFOUND, "no campaign with id %lld", (long long)ref->id);
    }
    return rc;
}

static void client_fail(broker *b, const im_envelope *env, const char *re, int rc,
                        const im_error *err)
{
    if (db_failed(b, rc, err)) return;
    reply_error(b, b->clients, env, re, err->msg[0] ? err->msg : im_strerror(rc));
}

/* A read for a client failed (a damaged page, an I/O error): that client
 * gets ERROR and the coordinator keeps serving. Only a failed write stops it
 * (db_failed): a read changes nothing, so nothing is left half done, and
 * stopping would turn repeated queries into a restart loop. */
static void client_read_fail(broker *b, const im_envelope *env, const char *re, const im_error *err)
{
    im_log(IM_LOG_ERROR, "%s: reading the database failed: %s", re,
           err->msg[0] ? err->msg : im_strerror(IM_EDB));
    /* the request wrote nothing since pass_checkpoint: start that part again */
    store_rollback(b->st);
    im_error berr = {0};
    if (store_begin(b->st, &berr) != 0) {
        b->fatal_err = berr;
        b->fatal = 1;
        return;
    }
    char text[IM_ERROR_MAX + 64];
    snprintf(text, sizeof text, "the coordinator could not read its database: %s",
             err->msg[0] ? err->msg : im_strerror(IM_EDB));
    reply_error(b, b->clients, env, re, text);
}

/* The id of the campaign a query names into *id (0 when it names none).
 * Returns 0, or -1 when the ERROR reply is queued (or the pass failed). */
static int query_campaign(broker *b, const im_envelope *env, const im_msg *m, int64_t *id)
{
    *id = 0;
    if (!m->query.campaign.name && !m->query.campaign.id) return 0;
    im_error err = {0};
    store_campaign sc;
    int rc = resolve(b, &m->query.campaign, &sc, &err);
    if (rc == IM_EDB) {
        client_read_fail(b, env, im_msg_type_name(m->type), &err);
        return -1;
    }
    if (rc) {
        client_fail(b, env, im_msg_type_name(m->type), rc, &err);
        return -1;
    }
    *id = sc.id;
    store_campaign_release(&sc);
    return 0;
}

static void on_submit(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    campaign *c = NULL;
    int existed = 0;
    int rc = campaign_submit_or_find(&b->cs, b->st, m->submit.campaign, &c, &existed, &err);
    if (rc) {
        im_log(IM_LOG_INFO, "submission refused: %s", err.msg);
        client_fail(b, env, "SUBMIT", rc, &err);
        return;
    }
    if (existed) {
        im_log(IM_LOG_INFO, "campaign %s: submitted again with the same spec (id %lld)", c->name,
               (long long)c->id);
        reply_ok(b, env, "SUBMIT",
                 json_pack("{s:I,s:s,s:I}", "campaign_id", (json_int_t)c->id, "name", c->name,
                           "planned", (json_int_t)campaign_planned(c)));
        return;
    }
    rc = store_event(b->st, "campaign_submitted", c->id, 0, NULL, c->name, &err);
    if (db_failed(b, rc, &err)) return;
    im_log(IM_LOG_INFO, "campaign %s: submitted (id %lld, %s, %lld trials planned, priority %d)",
           c->name, (long long)c->id, im_campaign_kind_name(c->spec.kind),
           (long long)campaign_planned(c), c->spec.priority);
    reply_ok(b, env, "SUBMIT",
             json_pack("{s:I,s:s,s:I}", "campaign_id", (json_int_t)c->id, "name", c->name,
                       "planned", (json_int_t)campaign_planned(c)));
}

/* A campaign waiting for another one (a chained ablation; its status in
 * the store is "waiting") gets "waiting_for": the other's name, in LIST and
 * STATUS. */
static void mark_waiting(broker *b, json_t *campaigns)
{
    size_t i;
    json_t *o;
    json_array_foreach(campaigns, i, o)
    {
        campaign *c = campaign_set_find(&b->cs, NULL, json_integer_value(json_object_get(o, "id")));
        const char *other = c && c->kind->waiting_for ? c->kind->waiting_for(c) : NULL;
        if (other) json_object_set_new(o, "waiting_for", json_string(other));
    }
}

static void on_list(broker *b, const im_envelope *env)
{
    im_error err = {0};
    json_t *v = store_progress_json(b->st, 0, &err);
    if (!v) {
        client_read_fail(b, env, "LIST", &err);
        return;
    }
    mark_waiting(b, v);
    reply_ok(b, env, "LIST", json_pack("{s:o}", "campaigns", v));
}

/* The WORKERS list: the store's rows plus this run's view of each. */
static json_t *workers_json(broker *b, im_error *err)
{
    json_t *v = store_workers_json(b->st, err);
    if (!v) return NULL;
    size_t i;
    json_t *o;
    json_array_foreach(v, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        worker_rec *w = name ? worker_by_name(b, name) : NULL;
        trial *busy = NULL;
        for (size_t k = 0; w && k < b->cs.n_running; k++)
            if (strcmp(b->cs.running[k]->worker, name) == 0) busy = b->cs.running[k];
        const char *state = busy ? "busy" : !w || w->id_len == 0 ? "away" : "idle";
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "trial", busy ? json_integer(busy->id) : json_null());
        json_object_set_new(o, "last_seen_s_ago",
                            w ? json_real(b->now - w->last_seen) : json_null());
        json_object_set_new(o, "datasets",
                            w && w->id_len && w->datasets ? json_deep_copy(w->datasets)
                                                          : json_null());
    }
    return v;
}

static void on_status(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    int64_t id;
    if (query_campaign(b, env, m, &id)) return;
    json_t *v = store_progress_json(b->st, id, &err);
    json_t *workers = v ? workers_json(b, &err) : NULL;
    if (!v || !workers) {
        json_decref(v);
        client_read_fail(b, env, "STATUS", &err);
        return;
    }
    size_t i;
    json_t *o;
    json_array_foreach(v, i, o)
    {
        int64_t cid = json_integer_value(json_object_get(o, "id"));
        int64_t trials = json_integer_value(json_object_get(o, "trials"));
        int64_t ended = 0;
        static const char *const end_keys[] = {"done", "failed", "pruned", "cancelled"};
        for (int k = 0; k < 4; k++) ended += json_integer_value(json_object_get(o, end_keys[k]));
        campaign *c = campaign_set_find(&b->cs, NULL, cid);
        int64_t planned = c ? campaign_planned(c) : trials;
        json_object_set_new(o, "planned", json_integer(planned));
        json_t *best = store_best_json(b->st, cid, 1, &err);
        if (!best) {
            json_decref(v);
            json_decref(workers);
            client_read_fail(b, env, "STATUS", &err);
            return;
        }
        json_t *first = json_array_get(best, 0);
        json_object_set(o, "best", first ? first : json_null());
        json_decref(best);
        double rate = 0; /* per second */
        if (c && c->first_handout > 0 && c->ended_this_run > 0 && b->now > c->first_handout)
            rate = c->ended_this_run / (b->now - c->first_handout);
        json_object_set_new(o, "trials_per_hour", rate > 0 ? json_real(rate * 3600) : json_null());
        json_object_set_new(
            o, "eta_s", rate > 0 && c ? json_real((double)(planned - ended) / rate) : json_null());
        json_t *waiting = c ? waiting_json(b, c) : NULL;
        const char *other = c && c->kind->waiting_for ? c->kind->waiting_for(c) : NULL;
        if (other && !waiting) {
            char why[160];
            snprintf(why, sizeof why, "campaign '%s' must be done first", other);
            waiting = json_string(why);
        }
        json_object_set_new(o, "waiting", waiting ? waiting : json_null());
    }
    mark_waiting(b, v);
    reply_ok(b, env, "STATUS", json_pack("{s:o,s:o}", "campaigns", v, "workers", workers));
}

/* BEST: a store read for one campaign or all. */
static void on_best(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    int64_t id;
    if (query_campaign(b, env, m, &id)) return;
    json_t *v = store_best_json(b->st, id, m->query.n, &err);
    if (!v) {
        client_read_fail(b, env, "BEST", &err);
        return;
    }
    reply_ok(b, env, "BEST", json_pack("{s:o}", "trials", v));
}

/* A paged request without "limit" whose campaign does not fit in the
 * default page: refused, never answered with a silently short list. */
static void refuse_unpaged(broker *b, const im_envelope *env, const char *re, int page)
{
    char msg[256];
    snprintf(msg, sizeof msg,
             "the campaign has more than %d trials and %s is paged ('from', 'limit' and "
             "the reply's 'next'): use an infomorph command of this version",
             page, re);
    reply_error(b, b->clients, env, re, msg);
}

/* TRIALS: one page of a campaign's trials, with the cursor of the next (the
 * work is bounded by the page, so a big campaign never holds up the loop). */
static void on_trials(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    int64_t id, next = -1;
    if (query_campaign(b, env, m, &id)) return;
    int limit = m->query.limit ? m->query.limit : IM_TRIALS_PAGE_DEFAULT;
    json_t *trials = store_trials_page_json(b->st, id, m->query.from, limit, &next, &err);
    if (!trials) {
        client_read_fail(b, env, "TRIALS", &err);
        return;
    }
    if (!m->query.limit && next >= 0) {
        json_decref(trials);
        refuse_unpaged(b, env, "TRIALS", IM_TRIALS_PAGE_DEFAULT);
        return;
    }
    reply_ok(b, env, "TRIALS",
             json_pack("{s:o,s:o}", "trials", trials, "next",
                       next >= 0 ? json_integer(next) : json_null()));
}

/* EXPORT: one page of a campaign's trials (the work is bounded by the page,
 * so a big campaign never holds up the loop), with the cursor of the next. */
static void on_export(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    int64_t id, next = -1;
    if (query_campaign(b, env, m, &id)) return;
    int limit = m->query.limit ? m->query.limit : IM_EXPORT_PAGE_DEFAULT;
    json_t *trials = store_export_page_json(b->st, id, m->query.from, limit, &next, &err);
    if (!trials) {
        client_read_fail(b, env, "EXPORT", &err);
        return;
    }
    if (!m->query.limit && next >= 0) {
        json_decref(trials);
        refuse_unpaged(b, env, "EXPORT", IM_EXPORT_PAGE_DEFAULT);
        return;
    }
    size_t n = json_array_size(trials);
    json_t *payload = json_pack("{s:o,s:o}", "trials", trials, "next",
                                next >= 0 ? json_integer(next) : json_null());
    if (m->query.from == 0) {
        json_t *p = store_progress_json(b->st, id, &err);
        if (!p) {
            json_decref(payload);
            client_read_fail(b, env, "EXPORT", &err);
            return;
        }
        json_t *first = json_array_get(p, 0);
        json_object_set(payload, "campaign", first ? first : json_null());
        json_decref(p);
    }
    im_log(IM_LOG_DEBUG, "export of campaign %lld: %zu trials from number %lld, next %lld",
           (long long)id, n, (long long)m->query.from, (long long)next);
    reply_ok(b, env, "EXPORT", payload);
}

static void on_cancel(broker *b, const im_envelope *env, const im_msg *m)
{
    im_error err = {0};
    store_campaign sc;
    int rc = resolve(b, &m->query.campaign, &sc, &err);
    if (rc) {
        client_fail(b, env, "CANCEL", rc, &err);
        return;
    }
    campaign *c = campaign_set_find(&b->cs, NULL, sc.id);
    if (!c || !campaign_is_active(c)) {
        char msg[200];
        snprintf(msg, sizeof msg, "campaign '%s' is already %s", sc.name,
                 store_campaign_status_name(c ? c->status : sc.status));
        store_campaign_release(&sc);
        reply_error(b, b->clients, env, "CANCEL", msg);
        return;
    }
    store_campaign_release(&sc);
    int64_t n = 0;
    char name[IM_CAMPAIGN_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", c->name);
    rc = lifecycle_cancel(&b->cs, b->st, c, &n, &err); /* may free c */
    if (rc) {
        set_fatal(b, &err);
        return;
    }
    reply_ok(b, env, "CANCEL",
             json_pack("{s:s,s:I}", "campaign", name, "cancelled", (json_int_t)n));
}

static void on_workers(broker *b, const im_envelope *env)
{
    im_error err = {0};
    json_t *v = workers_json(b, &err);
    if (!v) {
        client_read_fail(b, env, "WORKERS", &err);
        return;
    }
    reply_ok(b, env, "WORKERS", json_pack("{s:o}", "workers", v));
}

/* ---- BACKUP ---- */

#define BACKUP_PAGES_PER_PASS 256 /* about 1 MiB of 4 KiB pages between two polls */

static void backup_drop(broker *b, const char *why)
{
    if (!b->bk_id) return;
    if (why) im_log(IM_LOG_WARN, "backup %lld dropped: %s", (long long)b->bk_id, why);
    store_backup_free(&b->bk);
    b->bk_id = 0;
    b->bk_ready = 0;
}

/* One step of the current copy, outside the pass's transaction. */
static void backup_step(broker *b)
{
    if (!b->bk_id) return;
    if (b->now - b->bk_touched > IM_BACKUP_IDLE_S) {
        backup_drop(b, "no client asked about it for a while");
        return;
    }
    if (b->bk_ready) return;
    im_error err = {0};
    int rc = b->bk ? 0 : store_backup_begin(b->st, &b->bk, &err);
    if (rc == 0)
        rc = store_backup_step(b->bk, BACKUP_PAGES_PER_PASS, &b->bk_done, &b->bk_total, &err);
    if (rc < 0) {
        backup_drop(b, err.msg);
    } else if (rc == 1) {
        size_t size;
        store_backup_image(b->bk, &size);
        b->bk_ready = 1;
        im_log(IM_LOG_INFO, "backup %lld: copied, %zu bytes (%d pages)", (long long)b->bk_id, size,
               b->bk_total);
    }
}

static void on_backup(broker *b, const im_envelope *env, const im_msg *m)
{
    char msg[160];
    if (m->query.backup == 0) {
        if (b->bk_id) {
            snprintf(msg, sizeof msg, "another backup (%lld) is running; try again later",
                     (long long)b->bk_id);
            reply_error(b, b->clients, env, "BACKUP", msg);
            return;
        }
        b->bk_id = ++b->bk_seq;
        b->bk_ready = 0;
        b->bk_done = b->bk_total = 0;
        im_log(IM_LOG_INFO, "backup %lld: started", (long long)b->bk_id);
    } else if (m->query.backup != b->bk_id) {
        snprintf(msg, sizeof msg, "no backup %lld: it ended or was dropped; start again",
                 (long long)m->query.backup);
        reply_error(b, b->clients, env, "BACKUP", msg);
        return;
    }
    b->bk_touched = b->now;
    if (!b->bk_ready) {
        reply_ok(b, env, "BACKUP",
                 json_pack("{s:I,s:b,s:i,s:i}", "backup", (json_int_t)b->bk_id, "ready", 0,
                           "pages_done", b->bk_done, "pages_total", b->bk_total));
        return;
    }
    size_t size;
    const unsigned char *image = store_backup_image(b->bk, &size);
    if ((uint64_t)m->query.from > size) {
        snprintf(msg, sizeof msg, "offset %lld is beyond the end of the backup (%zu bytes)",
                 (long long)m->query.from, size);
        reply_error(b, b->clients, env, "BACKUP", msg);
        return;
    }
    size_t from = (size_t)m->query.from, n = size - from;
    size_t limit = m->query.limit > 0 ? (size_t)m->query.limit : IM_BACKUP_CHUNK;
    if (n > limit) n = limit;
    char *data = im_xmalloc(im_base64_encoded_size(n));
    im_base64_encode(image + from, n, data);
    int last = from + n == size;
    json_t *payload =
        json_pack("{s:I,s:b,s:I,s:I,s:s,s:o}", "backup", (json_int_t)b->bk_id, "ready", 1, "size",
                  (json_int_t)size, "from", (json_int_t)from, "data", data, "next",
                  last ? json_null() : json_integer((json_int_t)(from + n)));
    free(data);
    reply_ok(b, env, "BACKUP", payload);
    if (last) {
        im_log(IM_LOG_INFO, "backup %lld: sent", (long long)b->bk_id);
        backup_drop(b, NULL);
    }
}

/* Commit what the pass has written so far and begin again, before a
 * client's request: a read that hits a damaged page leaves SQLite's write
 * transaction unable to commit, so client_read_fail rolls back to here and
 * no earlier write of the pass (results already acknowledged in the queued
 * replies) is lost with it. Returns 0, or -1 when the commit failed (fatal). */
static int pass_checkpoint(broker *b)
{
    if (store_commit(b->st, &b->fatal_err) != 0 || store_begin(b->st, &b->fatal_err) != 0) {
        b->fatal = 1;
        return -1;
    }
    return 0;
}

static void handle_client_msg(broker *b, const im_envelope *env, const im_msg *m)
{
    if (pass_checkpoint(b)) return;
    switch (m->type) {
    case IM_MSG_SUBMIT: on_submit(b, env, m); return;
    case IM_MSG_LIST: on_list(b, env); return;
    case IM_MSG_STATUS: on_status(b, env, m); return;
    case IM_MSG_BEST: on_best(b, env, m); return;
    case IM_MSG_TRIALS: on_trials(b, env, m); return;
    case IM_MSG_EXPORT: on_export(b, env, m); return;
    case IM_MSG_CANCEL: on_cancel(b, env, m); return;
    case IM_MSG_WORKERS: on_workers(b, env); return;
    case IM_MSG_BACKUP: on_backup(b, env, m); return;
    default: break;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s is not a client request", im_msg_type_name(m->type));
    reply_error(b, b->clients, env, im_msg_type_name(m->type), msg);
}

/* ---- the loop ---- */

/* Read up to max messages from sock without waiting; handle each. */
static void drain(broker *b, void *sock, int max, int is_workers)
{
    for (int k = 0; k < max && !b->fatal; k++) {
        im_envelope env;
        im_msg m;
        im_error err = {0};
        int rc = im_wire_recv(sock, ZMQ_DONTWAIT, IM_MSG_MAX_BYTES, &env, &m, &err);
        if (rc == IM_ENET) {
            if (errno != EAGAIN && errno != EINTR)
                im_log(IM_LOG_WARN, "receive on the %s socket: %s",
                       is_workers ? "workers'" : "clients'", zmq_strerror(errno));
            return;
        }
        if (rc == IM_EPROTO) {
            worker_rec *w = is_workers && env.n > 0 ? worker_by_id(b, &env) : NULL;
            /* one line a second at most: a flood of bad messages (or of
             * envelopes that allow no reply) is visible but cannot fill the
             * disk with log lines */
            if (b->now - b->refused_log_at >= 1.0) {
                im_log(IM_LOG_WARN, "%s %s: refused: %s%s", is_workers ? "worker" : "client",
                       w ? w->name : "?", err.msg, env.n < 0 ? " (no reply possible)" : "");
                if (b->refused_quiet)
                    im_log(IM_LOG_WARN, "%ld more messages refused in the last second, not logged",
                           b->refused_quiet);
                b->refused_log_at = b->now;
                b->refused_quiet = 0;
            } else {
                b->refused_quiet++;
            }
            if (env.n >= 1) reply_error(b, sock, &env, NULL, err.msg);
            continue;
        }
        if (env.n < 1) { /* NEVER on a ROUTER */
            im_msg_release(&m);
            continue;
        }
        if (is_workers)
            handle_worker_msg(b, &env, &m);
        else
            handle_client_msg(b, &env, &m);
        im_msg_release(&m);
    }
}

static void expire(broker *b)
{
    im_error err = {0};
    b->next_hold = campaign_set_release_holds(&b->cs, b->now);
    for (size_t i = b->cs.n_running; i-- > 0 && !b->fatal;) {
        trial *t = b->cs.running[i];
        if (!lifecycle_expired(t, b->now)) continue;
        char reason[256];
        snprintf(reason, sizeof reason,
                 "lease expired: no progress or heartbeat for %g s from worker %s", b->opt.lease_s,
                 t->worker);
        im_log(IM_LOG_WARN, "trial %lld attempt %d (campaign %s): %s", (long long)t->id, t->attempt,
               t->c->name, reason);
        int rc = lifecycle_lost(&b->cs, b->st, t, reason, 1, &err);
        if (rc) set_fatal(b, &err);
    }
    for (size_t i = b->n_wk; i-- > 0 && !b->fatal;) {
        worker_rec *w = &b->wk[i];
        if (w->last_seen + b->liveness_s > b->now) continue;
        int rc = store_worker_set_status(b->st, w->name, "lost", &err);
        if (db_failed(b, rc, &err)) return;
        im_log(IM_LOG_WARN, "worker %s: silent for %.0f s, forgotten", w->name,
               b->now - w->last_seen);
        worker_remove(b, w);
    }
}

/* Milliseconds until the earliest deadline, within [0, MAX_POLL_MS]. */
static long poll_timeout_ms(broker *b)
{
    double next = b->now + MAX_POLL_MS / 1000.0;
    for (size_t i = 0; i < b->cs.n_running; i++)
        if (lifecycle_deadline(b->cs.running[i]) < next)
            next = lifecycle_deadline(b->cs.running[i]);
    for (size_t i = 0; i < b->n_wk; i++)
        if (b->wk[i].last_seen + b->liveness_s < next) next = b->wk[i].last_seen + b->liveness_s;
    if (b->next_hold < next) next = b->next_hold;
    if (b->bk_id && !b->bk_ready) next = b->now; /* a copy under way: go on with it */
    double ms = ceil((next - b->now) * 1000.0);
    return ms < 0 ? 0 : ms > MAX_POLL_MS ? MAX_POLL_MS : (long)ms;
}

/* One directory of allowed keys into the ZAP handler's domain. */
static void load_keys(broker *b, const char *domain, const char *dir)
{
    im_error e = {0};
    int n = 0;
    if (im_zap_load_dir(b->zap, domain, dir, &n, &e) != 0)
        im_log(IM_LOG_ERROR, "%s keys: %s (the previous list stays)", domain, e.msg);
    else
        im_log(n ? IM_LOG_INFO : IM_LOG_WARN, "%s keys: %d allowed (from %s)", domain, n, dir);
}

void broker_reload_keys(broker *b)
{
    if (!b->zap) return;
    load_keys(b, "workers", b->worker_keys);
    load_keys(b, "clients", b->client_keys);
}

/* A database failure as the caller sees it: SQLite's reason ("database or
 * disk is full") after the database file, which it does not name. Returns
 * rc. */
static int name_db(const broker *b, int rc, im_error *err)
{
    if (!err) return rc;
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    im_error_set(err, rc, "database '%s': %s", b->db_path, why);
    return rc;
}

int broker_run(broker *b, int stop_fd, im_error *err)
{
    int stopping = 0;
    b->hup_seen = im_sigpipe_hup_count();
    while (!stopping) {
        b->now = mono_now();
        /* the stop pipe last: without it n_items - 1 is the ZAP handler */
        zmq_pollitem_t items[4] = {{b->workers, 0, ZMQ_POLLIN, 0}, {b->clients, 0, ZMQ_POLLIN, 0}};
        int n_items = 2, i_zap = -1, i_stop = -1;
        if (b->zap) {
            items[n_items] = (zmq_pollitem_t){im_zap_socket(b->zap), 0, ZMQ_POLLIN, 0};
            i_zap = n_items++;
        }
        if (stop_fd >= 0) {
            items[n_items] = (zmq_pollitem_t){NULL, stop_fd, ZMQ_POLLIN, 0};
            i_stop = n_items++;
        }
        if (zmq_poll(items, n_items, poll_timeout_ms(b)) < 0) {
            if (errno == EINTR) continue; /* a signal: the pipe says whether to stop */
            return im_error_set(err, IM_ENET, "zmq_poll failed: %s", zmq_strerror(errno));
        }
        if (i_zap >= 0 && (items[i_zap].revents & ZMQ_POLLIN)) im_zap_handle(b->zap);
        if (i_stop >= 0 && (items[i_stop].revents & ZMQ_POLLIN)) {
            im_pipe_drain(stop_fd);
            int hup = im_sigpipe_hup_count();
            if (hup != b->hup_seen && im_sigpipe_count() == 0) {
                /* SIGHUP alone: re-read the keys and go on */
                b->hup_seen = hup;
                im_log(IM_LOG_INFO, "SIGHUP: re-reading the allowed keys");
                broker_reload_keys(b);
            } else {
                stopping = 1;
            }
        }
        b->now = mono_now();
        int rc = store_begin(b->st, err);
        if (rc) return rc;
        if (items[0].revents & ZMQ_POLLIN) drain(b, b->workers, BATCH_WORKER_MSGS, 1);
        if (!b->fatal && (items[1].revents & ZMQ_POLLIN))
            drain(b, b->clients, BATCH_CLIENT_MSGS, 0);
        if (!b->fatal) expire(b);
        if (!b->fatal && store_commit(b->st, &b->fatal_err) != 0) b->fatal = 1;
        if (b->fatal) {
            store_rollback(b->st);
            drop_replies(b);
            /* name the file: "database or disk is full" alone does not say
             * which disk */
            *err = b->fatal_err;
            name_db(b, IM_EDB, err);
            im_log(IM_LOG_ERROR, "database failure, stopping (a restart resumes): %s", err->msg);
            return IM_EDB;
        }
        flush_replies(b);
        backup_step(b); /* outside the transaction, as SQLite's backup needs */
    }
    im_log(IM_LOG_INFO,
           "stopping: %zu trials running stay recorded and are queued again at the "
           "next start",
           b->cs.n_running);
    return 0;
}

/* ---- set-up ---- */

static int bind_socket(broker *b, void **sock, const char *ep, char *bound, size_t bound_len,
                       im_error *err)
{
    /* a message somewhat over IM_MSG_MAX_BYTES arrives and gets ERROR;
     * far beyond, the transport disconnects the sender */
    im_transport_opts o = {.max_msg_bytes = IM_TRANSPORT_ROUTER_MAX,
                           .linger_ms = 1000,
                           .hwm = 100000,
                           .allow_remote = b->opt.insecure,
                           .curve = b->opt.curve,
                           .zap = b->zap,
                           .zap_domain = sock == &b->workers ? "workers" : "clients"};
    return im_transport_bind_router(b->ctx, ep, &o, sock, bound, bound_len, err);
}

static int write_endpoints(const char *path, const char *w, const char *c, im_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return im_error_set(err, IM_EIO, "unable to write '%s': %s", tmp, strerror(errno));
    fprintf(f, "workers %s\nclients %s\n", w, c);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return im_error_set(err, IM_EIO, "unable to write '%s': %s", path, strerror(errno));
    return 0;
}

/* Open the database and resume its campaigns: running attempts are marked
 * interrupted and their trials queued again, held for their workers. */
static int open_and_resume(broker *b, im_error *err)
{
    const broker_options *opt = &b->opt;
    store_options so = {.sync = opt->sync_full ? STORE_SYNC_FULL : STORE_SYNC_NORMAL};
    int rc = store_open(&b->st, opt->db_path, &so, err);
    if (rc) return rc;
    int64_t n_requeued = 0;
    if ((rc = store_begin(b->st, err))) return name_db(b, rc, err);
    rc = campaign_set_resume(&b->cs, b->st, b->now, opt->lease_s, &n_requeued, err);
    if (rc == 0 && n_requeued > 0)
        rc = store_event(b->st, "coordinator_restarted", 0, 0, NULL,
                         "running attempts marked interrupted and their trials queued again", err);
    if (rc == 0) rc = store_commit(b->st, err);
    if (rc) {
        store_rollback(b->st);
        return name_db(b, rc, err);
    }
    b->next_hold = campaign_set_release_holds(&b->cs, b->now);
    if (n_requeued)
        im_log(IM_LOG_INFO,
               "resume: %lld trials that were running are queued again, held %g s for their "
               "workers to resume them",
               (long long)n_requeued, opt->lease_s);
    return 0;
}

/* Workers alive at the last run: known by name until they are silent for
 * the liveness time, then recorded as lost. */
static int add_known_workers(broker *b, im_error *err)
{
    json_t *ws = store_workers_json(b->st, err);
    if (!ws) return name_db(b, IM_EDB, err);
    size_t wi;
    json_t *wo;
    json_array_foreach(ws, wi, wo)
    {
        const char *status = json_string_value(json_object_get(wo, "status"));
        const char *name = json_string_value(json_object_get(wo, "name"));
        if (name && status && strcmp(status, "alive") == 0 && !worker_by_name(b, name))
            worker_add(b, name);
    }
    json_decref(ws);
    return 0;
}

/* With CurveZMQ: the ZAP handler and the allowed keys of both sides. */
static int start_zap(broker *b, im_error *err)
{
    const broker_options *opt = &b->opt;
    if (!opt->worker_keys || !opt->client_keys)
        return im_error_set(err, IM_EINVAL, "CurveZMQ needs both key directories");
    int rc = im_zap_new(&b->zap, b->ctx, err);
    if (rc) return rc;
    b->worker_keys = im_xstrdup(opt->worker_keys);
    b->client_keys = im_xstrdup(opt->client_keys);
    /* at the start an unreadable directory is an error, not a warning */
    int n = 0;
    if ((rc = im_zap_load_dir(b->zap, "workers", b->worker_keys, &n, err))) return rc;
    im_log(n ? IM_LOG_INFO : IM_LOG_WARN, "workers keys: %d allowed (from %s)", n, b->worker_keys);
    if ((rc = im_zap_load_dir(b->zap, "clients", b->client_keys, &n, err))) return rc;
    im_log(n ? IM_LOG_INFO : IM_LOG_WARN, "clients keys: %d allowed (from %s)", n, b->client_keys);
    return 0;
}

/* The ZeroMQ context, ZAP when asked for, both sockets bound and the
 * endpoints file written. */
static int start_sockets(broker *b, im_error *err)
{
    const broker_options *opt = &b->opt;
    int rc;
    b->ctx = zmq_ctx_new();
    if (!b->ctx)
        return im_error_set(err, IM_ENET, "cannot create a ZeroMQ context: %s",
                            zmq_strerror(errno));
    if (opt->curve && (rc = start_zap(b, err))) return rc;
    char wb[512], cb[512];
    if ((rc = bind_socket(b, &b->workers, opt->workers_endpoint, wb, sizeof wb, err))) return rc;
    if ((rc = bind_socket(b, &b->clients, opt->clients_endpoint, cb, sizeof cb, err))) return rc;
    im_log(IM_LOG_INFO, "serving workers on %s and clients on %s (database %s, lease %g s, %s)", wb,
           cb, opt->db_path, opt->lease_s,
           b->zap ? "CurveZMQ: encrypted, allowed keys only" : "plain TCP, no authentication");
    if (opt->endpoints_file && (rc = write_endpoints(opt->endpoints_file, wb, cb, err))) return rc;
    return 0;
}

int broker_new(broker **out, const broker_options *opt, im_error *err)
{
    *out = NULL;
    if (!opt->db_path || !opt->workers_endpoint || !opt->clients_endpoint || !(opt->lease_s > 0) ||
        !isfinite(opt->lease_s))
        return im_error_set(err, IM_EINVAL, "broker: a database, two endpoints and a lease > 0");
    broker *b = im_xcalloc(1, sizeof *b);
    b->opt = *opt;
    b->db_path = im_xstrdup(opt->db_path);
    b->retry_ms = opt->retry_ms > 0 ? opt->retry_ms
                                    : (int)fmin(1000.0, fmax(10.0, opt->lease_s * 1000.0 / 3));
    b->liveness_s = fmax(3 * opt->lease_s, 3.0);
    campaign_set_init(&b->cs);
    b->cs.max_trial_bytes =
        (uint64_t)((opt->max_trial_memory_gb > 0 ? opt->max_trial_memory_gb : 16.0) * 1e9);
    b->now = mono_now();
    int rc = open_and_resume(b, err);
    if (!rc) rc = add_known_workers(b, err);
    if (!rc) rc = start_sockets(b, err);
    if (rc) {
        broker_free(&b);
        return rc;
    }
    *out = b;
    return 0;
}

void broker_free(broker **bp)
{
    if (!bp || !*bp) return;
    broker *b = *bp;
    drop_replies(b);
    free(b->out);
    store_backup_free(&b->bk);
    im_transport_close(&b->workers);
    im_transport_close(&b->clients);
    im_zap_free(&b->zap);
    free(b->worker_keys);
    free(b->client_keys);
    free(b->db_path);
    if (b->ctx) zmq_ctx_term(b->ctx);
    campaign_set_release(&b->cs);
    store_close(&b->st);
    for (size_t i = 0; i < b->n_wk; i++) {
        json_decref(b->wk[i].datasets);
        json_decref(b->wk[i].backends);
        json_decref(b->wk[i].warned);
        json_decref(b->wk[i].short_of);
    }
    json_decref(b->other_db);
    free(b->wk);
    free(b->by_name);
    free(b->by_id);
    free(b);
    *bp = NULL;
}
