/*
 * worker.c: infomorph-worker, the program that pulls trials from the
 * coordinator, trains them and reports back (the ZeroMQ guide's "Paranoid
 * Pirate" worker, adapted to the request/reply messages of protocol.h).
 *
 * Threads: the main thread owns the DEALER socket and runs one zmq_poll loop
 * whose timeout is the earliest deadline on the monotonic clock (next READY,
 * next HEARTBEAT, reply due, reconnect, shutdown). A training thread runs one
 * trial at a time through the backend; it never touches the socket: epoch
 * figures and the final result go through a mutex-protected queue, and a
 * byte on a pipe wakes the poll. Signal handlers only write a byte to a
 * self-pipe.
 *
 * Invariants:
 * - every message sent expects exactly one reply; the kinds of the requests
 *   in flight are kept in order, so each reply is matched to its request;
 * - at most one trial is held; READY is sent only when no trial is held, no
 *   result is unacknowledged and no request is in flight;
 * - a finished result is kept until the coordinator ACKs it and is sent
 *   again after every reconnect (the coordinator accepts a result once);
 * - silence (no reply for WK_REPLY_IVL_MS * WK_LIVENESS while one is due)
 *   closes the socket and opens a new one after an exponential back-off of
 *   0.5 s .. 30 s, reset by any message from the coordinator.
 *
 * All decoding goes through protocol.h; malformed messages are logged and
 * dropped, never trusted.
 */
#include "backend.h"
#include "im.h"
#include "log.h"
#include "protocol.h"
#include "sigpipe.h"
#include "spec_json.h"
#include "train.h"
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#ifdef IM_HAVE_OPENBLAS
void openblas_set_num_threads(int num_threads);
#endif

#define WK_REPLY_IVL_MS    1500 /* one liveness step while a reply is due ... */
#define WK_LIVENESS        4    /* ... and the steps of silence before reconnecting */
#define WK_BACKOFF_MIN_MS  500
#define WK_BACKOFF_MAX_MS  30000
#define WK_SHUTDOWN_ACK_MS 3000  /* how long a stopping worker waits for its ACK */
#define WK_SHUTDOWN_MAX_MS 60000 /* hard limit for stopping the training thread */
#define WK_MAX_INFLIGHT    16
/* The lease a JOB may set, as the coordinator's own --lease range allows
 * (0.1 s .. a day): a hostile or broken coordinator cannot make the worker
 * flood it with heartbeats, nor silence it for longer than a day. */
#define WK_LEASE_MIN_S      0.1
#define WK_LEASE_MAX_S      86400.0
#define WK_HEARTBEAT_MIN_MS 50.0 /* shortest interval between heartbeats */
#define WK_DEFAULT_CONNECT  "tcp://127.0.0.1:5555"

typedef enum { REQ_READY = 0, REQ_PROGRESS, REQ_HEARTBEAT, REQ_RESULT, REQ_BYE } req_kind;
static const char *req_names[] = {"READY", "PROGRESS", "HEARTBEAT", "RESULT", "BYE"};

/* An event from the training thread: an epoch's figures or the result. */
typedef struct wk_event {
    struct wk_event *next;
    int is_result;
    im_epoch_stats epoch; /* !is_result */
    double value;         /* !is_result: the objective at this epoch (exec), NAN if none */
    wk_result *result;    /* is_result: the backend's result, owned */
} wk_event;

typedef struct wk_job {
    int active; /* a trial is held and its result not yet built */
    int64_t trial;
    int attempt;
    char db[IM_WIRE_DB_MAX + 1]; /* the JOB's database identity, echoed; "" if it sent none */
    double lease_s;
    json_t *spec;   /* the thread's copy, owned by the thread while it runs */
    json_t *params; /* the JOB's params and user (copies or NULL), owned likewise */
    json_t *user;
    pthread_t thread;
    int thread_running; /* started and not yet joined */
    atomic_int stop;    /* set to stop training at the next batch */
    int interrupted;    /* stopped because this worker is shutting down */
    int discard;        /* STOP "lost" or "unknown": the coordinator wants no RESULT */
    char stop_reason[IM_WIRE_NAME_MAX + 1];
} wk_job;

typedef struct wk {
    /* options */
    const char *endpoint;
    const char *data_dir;
    int curve;                             /* CurveZMQ keys given */
    im_curve_key key;                      /* this worker's key pair, with curve */
    char server_key[IM_CURVE_KEY_Z85 + 1]; /* the coordinator's public key, with curve */
    char name[IM_WIRE_NAME_MAX + 1];
    char host[IM_WIRE_NAME_MAX + 1];
    int threads;
    int threads_set; /* --threads given: it overrides the spec's "threads" */
    long max_trials;
    char **exec_argv;          /* --exec split into words, or NULL: the built-in trainer */
    double trial_timeout_s;    /* --trial-timeout, 0 = none */
    const wk_backend *backend; /* the backend this worker runs */
    double max_memory_gb;      /* --max-memory; 0: half the machine's memory / share */
    long share;                /* --share: workers sharing this machine's memory (1) */

    void *ctx, *sock;
    int wake[2]; /* training thread -> main loop */
    pthread_mutex_t mu;
    wk_event *head, *tail; /* guarded by mu */

    req_kind inflight[WK_MAX_INFLIGHT]; /* requests awaiting a reply, oldest first */
    int n_inflight;
    double wait_start; /* since when the oldest outstanding reply is due */
    int result_inflight;

    double backoff_ms, reconnect_at; /* no socket: reconnect at reconnect_at */
    double next_ready_at;
    double last_job_send; /* last PROGRESS or HEARTBEAT of the held trial */

    wk_job job;
    json_t *pending; /* the RESULT message not yet acknowledged; owned */
    long trials_done;

    int warned_dataset_name; /* a folder's name the wire cannot carry was reported */

    int shutting;
    int bye; /* 0 not sent, 1 in flight, 2 answered */
    double shutdown_deadline, shutdown_hard;
} wk;

/* ---------- signals: the handler only writes a byte to a pipe ---------- */

static int g_sig_fd = -1; /* the read end of the self-pipe (sigpipe.h) */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---------- the training thread ---------- */

/* Queue an epoch (s non-NULL, with its objective's value or NAN) or the
 * result (s NULL; res stolen) and wake the main loop. Called from the
 * training thread. */
static void queue_push(wk *w, const im_epoch_stats *s, double value, wk_result *res)
{
    wk_event *e = im_xcalloc(1, sizeof *e);
    e->is_result = s == NULL;
    e->result = res;
    e->value = value;
    if (s) e->epoch = *s;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    pthread_mutex_unlock(&w->mu);
    char c = 'e';
    if (write(w->wake[1], &c, 1) < 0) { /* full pipe: the main loop is already woken */
    }
}

static wk_event *queue_pop(wk *w)
{
    pthread_mutex_lock(&w->mu);
    wk_event *e = w->head;
    if (e) {
        w->head = e->next;
        if (!w->head) w->tail = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    return e;
}

static int on_epoch(const im_epoch_stats *s, void *user)
{
    wk *w = user;
    queue_push(w, s, NAN, NULL);
    return atomic_load(&w->job.stop) != 0;
}

static int on_epoch_value(const im_epoch_stats *s, double value, void *user)
{
    wk *w = user;
    queue_push(w, s, value, NULL);
    return atomic_load(&w->job.stop) != 0;
}

static void *train_thread(void *arg)
{
    wk *w = arg;
    wk_run_options opt = {.data_dir = w->data_dir,
                          .on_epoch = on_epoch,
                          .user = w,
                          .stop = &w->job.stop,
                          .trial = w->job.trial,
                          .attempt = w->job.attempt,
                          .params = w->job.params,
                          .campaign_user = w->job.user,
                          .exec_argv = w->exec_argv,
                          .trial_timeout_s = w->trial_timeout_s,
                          .on_epoch_value = on_epoch_value};
    wk_result *res = w->backend->run(w->job.spec, &opt);
    json_decref(w->job.spec);
    json_decref(w->job.params);
    json_decref(w->job.user);
    w->job.spec = w->job.params = w->job.user = NULL;
    queue_push(w, NULL, NAN, res);
    return NULL;
}

/* ---------- the data directory ---------- */

/* 1 if a folder's name can go in READY's "datasets" (protocol.h): at most
 * IM_WIRE_NAME_MAX bytes of UTF-8 without control characters. */
static int dataset_name_wireable(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > IM_WIRE_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) return 0;
    json_t *probe = json_string(name); /* NULL when not valid UTF-8 */
    json_decref(probe);
    return probe != NULL;
}

/* Names of the sub-folders of the data directory that hold a training set.
 * Read again for every READY, so data fetched later is announced. A name the
 * wire cannot carry is left out (one warning per worker run), so that one
 * odd folder does not make the coordinator refuse every READY. */
static json_t *list_datasets(wk *w)
{
    const char *data_dir = w->data_dir;
    json_t *names = json_array();
    DIR *d = opendir(data_dir);
    if (!d) return names;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (!dataset_name_wireable(de->d_name)) {
            if (!w->warned_dataset_name)
                im_log(IM_LOG_WARN,
                       "skipping a folder of the data directory '%s' whose name (%zu bytes) "
                       "is not a dataset name: at most %d bytes of UTF-8 without control "
                       "characters",
                       data_dir, strlen(de->d_name), IM_WIRE_NAME_MAX);
            w->warned_dataset_name = 1;
            continue;
        }
        static const char *probes[] = {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"};
        for (int i = 0; i < 2; i++) {
            char path[PATH_MAX];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s/%s", data_dir, de->d_name, probes[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                json_array_append_new(names, json_string(de->d_name));
                break;
            }
        }
    }
    closedir(d);
    return names;
}

/* ---------- the socket ---------- */

static int sock_open(wk *w)
{
    im_error err = {0};
    im_transport_opts o = {.curve = w->curve ? &w->key : NULL, .server_key = w->server_key};
    if (im_transport_connect_dealer(w->ctx, w->endpoint, &o, &w->sock, &err) != 0) {
        im_log(IM_LOG_ERROR, "%s", err.msg);
        return -1;
    }
    w->n_inflight = 0;
    w->result_inflight = 0;
    w->reconnect_at = 0;
    return 0;
}

static void sock_reconnect_later(wk *w, double now, const char *why)
{
    im_log(IM_LOG_WARN, "%s; reconnecting to %s in %.1f s", why, w->endpoint, w->backoff_ms / 1e3);
    im_transport_close(&w->sock);
    w->n_inflight = 0;
    w->result_inflight = 0;
    if (w->bye == 1) w->bye = 0;
    w->reconnect_at = now + w->backoff_ms;
    w->backoff_ms = w->backoff_ms * 2 > WK_BACKOFF_MAX_MS ? WK_BACKOFF_MAX_MS : w->backoff_ms * 2;
}

/* Send the JSON message msg (borrowed) as a request of the given kind.
 * Returns 0, or -1 when it could not be queued (no socket, too many in
 * flight, or a send error). Never blocks. */
static int send_json(wk *w, req_kind kind, const json_t *msg)
{
    if (!w->sock || w->n_inflight >= WK_MAX_INFLIGHT) return -1;
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return -1;
    int rc = zmq_send(w->sock, text, strlen(text), ZMQ_DONTWAIT);
    free(text);
    if (rc < 0) {
        im_log(IM_LOG_DEBUG, "%s not sent: %s", req_names[kind], zmq_strerror(zmq_errno()));
        return -1;
    }
    if (w->n_inflight == 0) w->wait_start = now_ms();
    w->inflight[w->n_inflight++] = kind;
    return 0;
}

/* Encode m (protocol.h) and send it as a request; returns as send_json. */
static int send_request(wk *w, req_kind kind, const im_msg *m)
{
    im_error err = {0};
    json_t *o = im_msg_to_json(m, &err);
    if (!o) {
        im_log(IM_LOG_ERROR, "unable to encode %s: %s", req_names[kind], err.msg);
        return -1;
    }
    int rc = send_json(w, kind, o);
    json_decref(o);
    return rc;
}

static double memory_cap(const wk *w);

static void send_ready(wk *w)
{
    im_msg m = {.type = IM_MSG_READY};
    /* a worker that runs a command needs no data: it takes any trial of its backend */
    json_t *backends = wk_backend_names(w->exec_argv != NULL),
           *datasets = w->backend->needs_data ? list_datasets(w) : NULL;
    m.ready.worker = w->name;
    m.ready.host = w->host;
    m.ready.version = IM_VERSION;
    m.ready.pid = (int64_t)getpid();
    m.ready.threads = w->threads;
    m.ready.backends = backends;
    m.ready.datasets = datasets;
    /* the coordinator hands out only trials that fit; memory_refusal stays
     * as the safety net for a coordinator that does not know the cap */
    double cap = memory_cap(w);
    m.ready.has_max_memory = 1;
    m.ready.max_memory = cap < 9.2e18 ? (int64_t)cap : INT64_MAX;
    if (send_request(w, REQ_READY, &m) == 0) im_log(IM_LOG_DEBUG, "READY sent");
    json_decref(backends);
    json_decref(datasets);
}

static void send_progress(wk *w, const im_epoch_stats *e, double value)
{
    im_msg m = {.type = IM_MSG_PROGRESS};
    m.progress.trial = w->job.trial;
    m.progress.attempt = w->job.attempt;
    m.progress.db = w->job.db[0] ? w->job.db : NULL;
    m.progress.worker = w->name;
    m.progress.e = *e;
    m.progress.value = value;
    if (send_request(w, REQ_PROGRESS, &m) == 0) w->last_job_send = now_ms();
}

static void send_heartbeat(wk *w)
{
    im_msg m = {.type = IM_MSG_HEARTBEAT};
    m.heartbeat.trial = w->job.trial;
    m.heartbeat.attempt = w->job.attempt;
    m.heartbeat.db = w->job.db[0] ? w->job.db : NULL;
    m.heartbeat.worker = w->name;
    if (send_request(w, REQ_HEARTBEAT, &m) == 0) {
        w->last_job_send = now_ms();
        im_log(IM_LOG_DEBUG, "trial %" PRId64 ": HEARTBEAT sent", w->job.trial);
    }
}

static void send_bye(wk *w)
{
    im_msg m = {.type = IM_MSG_BYE};
    m.bye.worker = w->name;
    if (send_request(w, REQ_BYE, &m) == 0) w->bye = 1;
}

static void send_pending_result(wk *w, double now)
{
    if (!w->pending || w->result_inflight || !w->sock) return;
    if (send_json(w, REQ_RESULT, w->pending) == 0) {
        w->result_inflight = 1;
        if (w->shutting && w->shutdown_deadline < now + WK_SHUTDOWN_ACK_MS)
            w->shutdown_deadline = now + WK_SHUTDOWN_ACK_MS;
    }
}

/* ---------- trials ---------- */

/* Encode the result of the held trial (stolen) as its RESULT message, once,
 * and keep it until it is acknowledged (unless the coordinator wants none). */
static void finish_job(wk *w, wk_result *res)
{
    im_msg m = {.type = IM_MSG_RESULT};
    m.result = res->r;
    m.result.trial = w->job.trial;
    m.result.attempt = w->job.attempt;
    m.result.db = w->job.db[0] ? w->job.db : NULL;
    m.result.worker = w->name;
    /* a shutdown that came after the last epoch loses nothing: the trial is done */
    if (w->job.interrupted && m.result.status != IM_RESULT_DONE)
        m.result.status = IM_RESULT_INTERRUPTED;
    im_error err = {0};
    json_t *msg = im_msg_to_json(&m, &err);
    im_log(m.result.error ? IM_LOG_WARN : IM_LOG_INFO,
           "trial %" PRId64 " attempt %d: %s, val_acc %.4f%s%s", w->job.trial, w->job.attempt,
           im_result_status_name(m.result.status), m.result.val_acc, m.result.error ? ": " : "",
           m.result.error ? m.result.error : "");
    wk_result_free(&res); /* m pointed into it: not used below */
    w->job.active = 0;
    w->next_ready_at = now_ms();
    if (w->job.discard) {
        im_log(IM_LOG_INFO, "trial %" PRId64 ": result not sent (the attempt is %s)", w->job.trial,
               w->job.stop_reason);
        json_decref(msg);
        return;
    }
    if (!msg) {
        im_log(IM_LOG_ERROR, "unable to encode the result: %s", err.msg);
        return;
    }
    json_decref(w->pending);
    w->pending = msg;
}

/* 1 if name is a plain folder name (the spec's rule): 1..63 characters of
 * [A-Za-z0-9._-], not starting with '.'; so no '/', no "..". */
static int dataset_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63 || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The most memory (bytes) a trial may need on this worker: --max-memory, or
 * half of the machine's memory divided by --share. */
static double memory_cap(const wk *w)
{
    if (w->max_memory_gb > 0) return w->max_memory_gb * 1e9;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    double machine = pages > 0 && page > 0 ? (double)pages * (double)page : 8e9;
    return machine / 2 / (double)(w->share > 0 ? w->share : 1);
}

/* NULL if the builtin trainer's trial spec fits this worker's memory cap,
 * else why not (into buf). Linux overcommits, so an allocation that
 * succeeds may still not fit: the trial is refused before anything is
 * allocated, and fails with this message instead of killing the worker. */
static const char *memory_refusal(const wk *w, const json_t *spec, char *buf, size_t n)
{
    im_train_spec s;
    im_train_spec_default(&s);
    if (im_train_spec_from_json(&s, spec, NULL) != 0) return NULL; /* the backend says why */
    double need = (double)im_train_spec_memory_bytes(&s, IM_MEMORY_N_IN, IM_MEMORY_N_CLASSES,
                                                     IM_MEMORY_N_SAMPLES);
    double cap = memory_cap(w);
    if (need <= cap) return NULL;
    snprintf(buf, n,
             "the trial needs about %.1f GB of memory (hidden %d, batch %d), more than the "
             "%.1f GB worker %s offers (--max-memory, --share)",
             need / 1e9, s.hidden, s.batch, cap / 1e9, w->name);
    return buf;
}

static void start_job(wk *w, const im_msg *msg)
{
    const json_t *spec = msg->job.spec;
    memset(&w->job, 0, sizeof w->job);
    w->job.active = 1;
    w->job.trial = msg->job.trial;
    w->job.attempt = msg->job.attempt;
    if (msg->job.db) snprintf(w->job.db, sizeof w->job.db, "%s", msg->job.db);
    w->job.lease_s = msg->job.lease_s > 0 ? msg->job.lease_s : 60;
    if (w->job.lease_s < WK_LEASE_MIN_S) w->job.lease_s = WK_LEASE_MIN_S;
    if (w->job.lease_s > WK_LEASE_MAX_S) w->job.lease_s = WK_LEASE_MAX_S;
    atomic_store(&w->job.stop, 0);
    w->last_job_send = now_ms();

    if (w->shutting) { /* a JOB that crossed our shutdown: hand it back at once */
        w->job.interrupted = 1;
        finish_job(w, wk_result_failed("the worker is shutting down", 0));
        return;
    }
    /* A trial for another backend, or for a dataset this worker lacks, is a
     * clear failure, never a hang. */
    const wk_backend *backend = wk_backend_for(spec);
    if (backend != w->backend) {
        const json_t *bn = json_object_get(spec, "backend");
        char text[512];
        snprintf(text, sizeof text, "worker %s runs backend '%s', not '%.64s'", w->name,
                 w->backend->name,
                 backend              ? backend->name
                 : json_is_string(bn) ? json_string_value(bn)
                                      : "?");
        finish_job(w, wk_result_failed(text, 0));
        return;
    }
    json_t *ds = json_object_get(spec, "dataset");
    const char *dataset = json_is_string(ds) ? json_string_value(ds) : ds ? NULL : "mnist10k";
    if (dataset && !dataset_name_ok(dataset)) {
        /* the worker opens nothing outside its data directory */
        char text[256];
        snprintf(text, sizeof text,
                 "dataset '%.64s' refused: 'dataset' must be a folder name of 1..63 characters "
                 "[A-Za-z0-9._-], not starting with '.', inside the worker's data directory",
                 dataset);
        finish_job(w, wk_result_failed(text, 0));
        return;
    }
    if (dataset && w->backend->needs_data) {
        json_t *have = list_datasets(w);
        if (!im_wire_list_has(have, dataset)) {
            char *list = json_dumps(have, JSON_COMPACT);
            char text[1024];
            snprintf(text, sizeof text,
                     "dataset '%.64s' not found in the data directory '%.512s' of worker %s "
                     "(it has %.200s)",
                     dataset, w->data_dir, w->name, list ? list : "[]");
            free(list);
            json_decref(have);
            finish_job(w, wk_result_failed(text, 0));
            return;
        }
        json_decref(have);
    }
    char why[512];
    if (w->backend->needs_data && memory_refusal(w, spec, why, sizeof why)) {
        finish_job(w, wk_result_failed(why, 0));
        return;
    }
    w->job.spec = json_deep_copy(spec);
    w->job.params = msg->job.params ? json_deep_copy(msg->job.params) : NULL;
    w->job.user = msg->job.user ? json_deep_copy(msg->job.user) : NULL;
    if (w->threads_set) json_object_set_new(w->job.spec, "threads", json_integer(w->threads));
    im_log(IM_LOG_INFO, "trial %" PRId64 " attempt %d: training (lease %g s)", w->job.trial,
           w->job.attempt, w->job.lease_s);
    if (pthread_create(&w->job.thread, NULL, train_thread, w) != 0) {
        json_decref(w->job.spec);
        json_decref(w->job.params);
        json_decref(w->job.user);
        w->job.spec = w->job.params = w->job.user = NULL;
        finish_job(w, wk_result_failed("unable to start the training thread", 0));
        return;
    }
    w->job.thread_running = 1;
}

/* Everything the training thread has queued: PROGRESS for epochs, the RESULT. */
static void drain_events(wk *w)
{
    im_pipe_drain(w->wake[0]);
    wk_event *e;
    while ((e = queue_pop(w))) {
        if (e->is_result) {
            pthread_join(w->job.thread, NULL);
            w->job.thread_running = 0;
            finish_job(w, e->result);
        } else {
            im_log(IM_LOG_INFO, "trial %" PRId64 " epoch %d: val_acc %.4f", w->job.trial,
                   e->epoch.epoch, e->epoch.val_acc);
            /* While disconnected, figures are dropped: the RESULT carries the curve. */
            if (w->job.active && !atomic_load(&w->job.stop)) send_progress(w, &e->epoch, e->value);
        }
        free(e);
    }
}

/* ---------- replies ---------- */

static void handle_reply(wk *w, const im_msg *m, double now)
{
    if (w->n_inflight == 0) {
        im_log(IM_LOG_WARN, "unexpected %s (no request in flight) ignored",
               im_msg_type_name(m->type));
        return;
    }
    req_kind kind = w->inflight[0];
    memmove(w->inflight, w->inflight + 1, (size_t)(w->n_inflight - 1) * sizeof w->inflight[0]);
    w->n_inflight--;
    w->wait_start = now;
    if (kind == REQ_RESULT) w->result_inflight = 0;
    if (kind == REQ_BYE) w->bye = 2;

    switch (m->type) {
    case IM_MSG_ERROR:
        im_log(IM_LOG_ERROR, "the coordinator refused %s: %s", req_names[kind], m->error.message);
        if (kind == REQ_RESULT) { /* it will be refused again: give it up */
            im_log(IM_LOG_ERROR, "dropping the refused result");
            json_decref(w->pending);
            w->pending = NULL;
            w->next_ready_at = now;
        } else if (kind == REQ_READY) {
            w->next_ready_at = now + 5000;
        }
        return;
    case IM_MSG_JOB:
        if (kind != REQ_READY || w->job.active) break;
        start_job(w, m);
        return;
    case IM_MSG_NOJOB:
        if (kind != REQ_READY) break;
        w->next_ready_at = now + (m->nojob.retry_ms < 50      ? 50
                                  : m->nojob.retry_ms > 30000 ? 30000
                                                              : m->nojob.retry_ms);
        return;
    case IM_MSG_CONTINUE:
        if (kind != REQ_PROGRESS && kind != REQ_HEARTBEAT) break;
        return;
    case IM_MSG_STOP:
        if (kind != REQ_PROGRESS && kind != REQ_HEARTBEAT) break;
        if (w->job.active && m->stop.trial == w->job.trial && m->stop.attempt == w->job.attempt &&
            !atomic_load(&w->job.stop)) {
            snprintf(w->job.stop_reason, sizeof w->job.stop_reason, "%s", m->stop.reason);
            w->job.discard = !strcmp(m->stop.reason, "lost") || !strcmp(m->stop.reason, "unknown");
            im_log(IM_LOG_INFO, "trial %" PRId64 ": told to stop (%s)", w->job.trial,
                   w->job.stop_reason);
            atomic_store(&w->job.stop, 1);
        }
        return;
    case IM_MSG_ACK:
        if (kind == REQ_BYE) return;
        if (kind != REQ_RESULT) break;
        if (w->pending &&
            m->ack.trial == json_integer_value(json_object_get(w->pending, "trial")) &&
            m->ack.attempt == json_integer_value(json_object_get(w->pending, "attempt"))) {
            /* "other database": the coordinator now serves another database
             * than the one the trial came from; the result is dropped */
            int other = m->ack.note && strcmp(m->ack.note, "other database") == 0;
            im_log(other ? IM_LOG_WARN : IM_LOG_DEBUG,
                   "result of trial %" PRId64 " acknowledged (%s)%s", m->ack.trial,
                   m->ack.note ? m->ack.note : "-", other ? ": not recorded, dropped" : "");
            json_decref(w->pending);
            w->pending = NULL;
            w->trials_done++;
            w->next_ready_at = now;
        } else {
            im_log(IM_LOG_WARN, "ACK for trial %" PRId64 " (not the result held) ignored",
                   m->ack.trial);
        }
        return;
    default: break;
    }
    im_log(IM_LOG_WARN, "unexpected %s in reply to %s ignored", im_msg_type_name(m->type),
           req_names[kind]);
    if (kind == REQ_READY) w->next_ready_at = now + 1000;
}

static void read_socket(wk *w)
{
    while (w->sock) {
        im_msg m;
        im_error err = {0};
        int rc = im_wire_recv(w->sock, ZMQ_DONTWAIT, IM_MSG_MAX_BYTES, NULL, &m, &err);
        if (rc == IM_ENET) return; /* nothing more to read */
        double now = now_ms();
        w->backoff_ms = WK_BACKOFF_MIN_MS;
        if (rc == IM_EPROTO) {
            /* It still answers our oldest request: count it, keep what we hold. */
            im_log(IM_LOG_WARN, "malformed reply ignored: %s", err.msg);
            if (w->n_inflight > 0) {
                req_kind kind = w->inflight[0];
                memmove(w->inflight, w->inflight + 1,
                        (size_t)(w->n_inflight - 1) * sizeof w->inflight[0]);
                w->n_inflight--;
                if (kind == REQ_RESULT) w->result_inflight = 0;
                if (kind == REQ_READY) w->next_ready_at = now + 1000;
            }
            w->wait_start = now;
            continue;
        }
        handle_reply(w, &m, now);
        im_msg_release(&m);
    }
}

/* ---------- the loop ---------- */

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

/* A READY may be sent now (when next_ready_at has come). */
static int ready_may_go(const wk *w)
{
    return w->sock && !w->shutting && !w->job.active && !w->pending && w->n_inflight == 0 &&
           (w->max_trials <= 0 || w->trials_done < w->max_trials);
}

/* A HEARTBEAT may be sent now (when heartbeat_due has come); it is held
 * back while many requests are unanswered. */
static int heartbeat_may_go(const wk *w)
{
    return w->sock && w->job.active && w->job.thread_running && w->n_inflight < WK_MAX_INFLIGHT / 2;
}

/* Every lease/3 of silence about the held trial, never more often than
 * every WK_HEARTBEAT_MIN_MS. */
static double heartbeat_due(const wk *w)
{
    double every = w->job.lease_s * 1e3 / 3;
    return w->last_job_send + (every > WK_HEARTBEAT_MIN_MS ? every : WK_HEARTBEAT_MIN_MS);
}

/* Begin a clean stop after SIGTERM or SIGINT. */
static void begin_shutdown(wk *w, double now)
{
    w->shutting = 1;
    /* idle: wait only briefly for the reply to a READY (a JOB crossing the
     * signal is handed back at once); a result gets WK_SHUTDOWN_ACK_MS */
    w->shutdown_deadline = now + (w->job.active || w->pending ? WK_SHUTDOWN_ACK_MS : 1000);
    w->shutdown_hard = now + WK_SHUTDOWN_MAX_MS;
    if (w->job.active) {
        im_log(IM_LOG_INFO, "stopping: interrupting trial %" PRId64, w->job.trial);
        w->job.interrupted = 1;
        atomic_store(&w->job.stop, 1);
    } else {
        im_log(IM_LOG_INFO, "stopping");
    }
}

/* Log where this worker connects and which datasets it offers. */
static void announce(wk *w)
{
    json_t *datasets = list_datasets(w);
    char *names = json_dumps(datasets, JSON_COMPACT);
    im_log(IM_LOG_INFO, "worker %s connecting to %s%s (data %s: %s)", w->name, w->endpoint,
           w->curve ? " with CurveZMQ" : "", w->data_dir, names ? names : "?");
    if (w->exec_argv)
        im_log(IM_LOG_INFO, "running the command '%s' (%s) for every trial", w->exec_argv[0],
               w->trial_timeout_s > 0 ? "with a time limit" : "no time limit");
    else if (json_array_size(datasets) == 0)
        im_log(IM_LOG_WARN,
               "no dataset in the data directory '%s' (deploy/fetch-datasets.sh fetches them): "
               "the coordinator hands this worker nothing until one appears",
               w->data_dir);
    free(names);
    json_decref(datasets);
}

/* 1 when the loop should end: stopping and settled (a BYE is sent on the
 * way), past the hard limit, or --max-trials reached with nothing held. */
static int loop_done(wk *w, double now)
{
    if (w->shutting) {
        if (im_sigpipe_count() > 1 || now > w->shutdown_hard) return 1;
        if (!w->job.active) {
            int settled = (!w->pending && w->n_inflight == 0) || now > w->shutdown_deadline;
            if (settled && (w->bye == 2 || !w->sock || now > w->shutdown_deadline)) return 1;
            if (settled && w->bye == 0 && w->n_inflight == 0) send_bye(w);
        }
    } else if (w->max_trials > 0 && w->trials_done >= w->max_trials && !w->job.active &&
               !w->pending && w->n_inflight == 0) {
        im_log(IM_LOG_INFO, "%ld trials done; exiting", w->trials_done);
        return 1;
    }
    return 0;
}

static void reconnect_if_due(wk *w, double now)
{
    if (w->sock || now < w->reconnect_at) return;
    if (sock_open(w) != 0) {
        w->reconnect_at = now + w->backoff_ms;
    } else {
        im_log(IM_LOG_INFO, "reconnected to %s", w->endpoint);
        w->last_job_send = 0; /* renew the lease at once */
        w->next_ready_at = now;
    }
}

/* Send what is due: the unacknowledged result, a HEARTBEAT, a READY. */
static void send_due(wk *w, double now)
{
    if (!w->sock) return;
    send_pending_result(w, now);
    if (heartbeat_may_go(w) && now >= heartbeat_due(w)) send_heartbeat(w);
    if (ready_may_go(w) && now >= w->next_ready_at) send_ready(w);
}

/* Too long without a reply: drop the socket and reconnect later. */
static void check_silence(wk *w, double now)
{
    if (!w->sock || w->n_inflight == 0 ||
        now - w->wait_start <= (double)WK_REPLY_IVL_MS * WK_LIVENESS)
        return;
    char why[256];
    snprintf(why, sizeof why, "no reply to %s for %.1f s%s", req_names[w->inflight[0]],
             (now - w->wait_start) / 1e3,
             w->curve ? " (with CurveZMQ: is this worker's public key among the "
                        "coordinator's --worker-keys, and --server-key its key?)"
                      : "");
    sock_reconnect_later(w, now, why);
}

/* Milliseconds until the earliest deadline of something that will happen
 * then (a deadline of an action that cannot go now would spin); at most 1 s. */
static long poll_timeout(const wk *w, double now)
{
    double until = now + 1000;
    if (!w->sock) until = min_d(until, w->reconnect_at);
    if (w->sock && w->n_inflight > 0)
        until = min_d(until, w->wait_start + (double)WK_REPLY_IVL_MS * WK_LIVENESS);
    if (ready_may_go(w)) until = min_d(until, w->next_ready_at);
    if (heartbeat_may_go(w)) until = min_d(until, heartbeat_due(w));
    if (w->shutting && now < w->shutdown_deadline) until = min_d(until, w->shutdown_deadline);
    long timeout = (long)ceil(until - now);
    return timeout < 0 ? 0 : timeout;
}

/* Wait up to timeout ms for the training thread, a signal or the socket,
 * and read what came. Returns 0, or -1 when the poll itself failed. */
static int poll_once(wk *w, long timeout)
{
    zmq_pollitem_t items[3] = {{.socket = NULL, .fd = w->wake[0], .events = ZMQ_POLLIN},
                               {.socket = NULL, .fd = g_sig_fd, .events = ZMQ_POLLIN},
                               {.socket = w->sock, .fd = -1, .events = ZMQ_POLLIN}};
    int n_items = w->sock ? 3 : 2;
    if (zmq_poll(items, n_items, timeout) < 0 && zmq_errno() != EINTR) {
        im_log(IM_LOG_ERROR, "poll failed: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    if (items[1].revents & ZMQ_POLLIN) im_pipe_drain(g_sig_fd);
    if (w->sock && (items[2].revents & ZMQ_POLLIN)) read_socket(w);
    return 0;
}

static int run(wk *w)
{
    w->backoff_ms = WK_BACKOFF_MIN_MS;
    if (sock_open(w) != 0) return 1;
    announce(w);
    w->next_ready_at = 0;

    for (;;) {
        double now = now_ms();
        if (im_sigpipe_count() && !w->shutting) begin_shutdown(w, now);
        drain_events(w);
        now = now_ms();
        if (loop_done(w, now)) break;
        reconnect_if_due(w, now);
        send_due(w, now);
        check_silence(w, now);
        if (poll_once(w, poll_timeout(w, now)) != 0) return 1;
    }

    if (w->job.thread_running) { /* only after a second signal or the hard limit */
        atomic_store(&w->job.stop, 1);
        pthread_join(w->job.thread, NULL);
        w->job.thread_running = 0;
    }
    if (w->pending)
        im_log(IM_LOG_WARN,
               "exiting with the result of trial %" JSON_INTEGER_FORMAT
               " unacknowledged (the coordinator re-queues it when its lease runs out)",
               json_integer_value(json_object_get(w->pending, "trial")));
    return 0;
}

/* ---------- main ---------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: infomorph-worker [options]\n\n"
            "Pulls trials from an infomorph coordinator, trains them and reports the results.\n\n"
            "options:\n"
            "  --connect ENDPOINT  the coordinator's worker endpoint (default %s)\n"
            "  --data-dir DIR      the data directory (default $INFOMORPH_DATA, else ./data)\n"
            "  --threads N         BLAS threads for every trial (default: the trial spec's)\n"
            "  --name NAME         this worker's name (default HOST-PID)\n"
            "  --max-trials N      exit after N trials (default: run until stopped)\n"
            "  --exec 'CMD ARGS'   run this command for every trial instead of the built-in\n"
            "                      trainer (default $INFOMORPH_EXEC): split into words as a\n"
            "                      shell would (quotes and backslashes), never run through a\n"
            "                      shell; the trial comes as one JSON object on its stdin\n"
            "                      ({trial, attempt, seed, params, user}), it prints JSON\n"
            "                      lines: {\"epoch\": E, \"val_acc\": X, ...} for progress, the\n"
            "                      last one the result with the campaign's objective\n"
            "  --trial-timeout S   fail a command's trial after S seconds (default\n"
            "                      $INFOMORPH_TRIAL_TIMEOUT, else none)\n"
            "  --max-memory GB     fail trials that would need more memory than GB\n"
            "                      gigabytes (default: half the machine's memory / share)\n"
            "  --share N           workers sharing this machine's memory (default 1)\n"
            "  --log-level LEVEL   debug, info, warn or error (default info)\n"
            "  --server-key FILE   the coordinator's CurveZMQ public key (default\n"
            "                      $INFOMORPH_SERVER_KEY); with --curve-secret: encrypted,\n"
            "                      authenticated connection\n"
            "  --curve-secret FILE this worker's secret key (infomorph keygen; default\n"
            "                      $INFOMORPH_CURVE_SECRET)\n"
            "  --help              this text\n\n"
            "SIGTERM or SIGINT stops the running trial (a command's whole process group gets\n"
            "SIGTERM, then SIGKILL), reports it as interrupted (so the coordinator re-queues\n"
            "it at once) and exits 0.\n",
            WK_DEFAULT_CONNECT);
}

/* The command of --exec (NULL: none) and --trial-timeout (NULL: none) into
 * w, and w's backend. Returns 0, or 2 with a message on stderr. */
static int set_exec(wk *w, const char *exec_line, const char *timeout_text)
{
    if (timeout_text) {
        char *end;
        errno = 0;
        w->trial_timeout_s = strtod(timeout_text, &end);
        if (errno || end == timeout_text || *end || !(w->trial_timeout_s > 0) ||
            w->trial_timeout_s > 1e9) {
            fprintf(stderr,
                    "infomorph-worker: --trial-timeout must be a number of seconds > 0 "
                    "(got '%s')\n",
                    timeout_text);
            return 2;
        }
    }
    if (exec_line) {
        im_error err = {0};
        if (wk_exec_split(exec_line, &w->exec_argv, &err) != 0) {
            fprintf(stderr, "infomorph-worker: --%s\n", err.msg);
            return 2;
        }
    }
    w->backend = wk_backend_of_worker(w->exec_argv != NULL);
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* The value arg of the numeric option c (--threads, --max-trials,
 * --max-memory, --share, --log-level) into *w or *level. Returns 0, or 2
 * with a message on stderr. */
static int set_numeric_option(wk *w, int c, const char *arg, im_log_level *level)
{
    long v;
    switch (c) {
    case 't':
        if (parse_long(arg, 1, 1024, &v) != 0) {
            fprintf(stderr, "infomorph-worker: --threads must be an integer in 1..1024\n");
            return 2;
        }
        w->threads = (int)v;
        w->threads_set = 1;
        break;
    case 'm':
        if (parse_long(arg, 1, LONG_MAX, &v) != 0) {
            fprintf(stderr, "infomorph-worker: --max-trials must be a positive integer\n");
            return 2;
        }
        w->max_trials = v;
        break;
    case 'M': {
        char *end;
        double gb = strtod(arg, &end);
        if (end == arg || *end || !(gb >= 0.01 && gb <= 1e6)) {
            fprintf(stderr, "infomorph-worker: --max-memory must be gigabytes in [0.01, 1e6]\n");
            return 2;
        }
        w->max_memory_gb = gb;
        break;
    }
    case 's':
        if (parse_long(arg, 1, 4096, &v) != 0) {
            fprintf(stderr, "infomorph-worker: --share must be an integer in 1..4096\n");
            return 2;
        }
        w->share = v;
        break;
    case 'l':
        if (im_log_parse_level(arg, level) != 0) {
            fprintf(stderr, "infomorph-worker: --log-level must be debug, info, warn or "
                            "error\n");
            return 2;
        }
        break;
    }
    return 0;
}

/* After the options: no operands, the exec backend and the CURVE keys.
 * Returns -1 to go on, or 2. */
static int finish_args(wk *w, int argc, char **argv, const char *exec_line,
                       const char *timeout_text, const char *server_key, const char *curve_secret)
{
    if (optind < argc) {
        fprintf(stderr, "infomorph-worker: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (set_exec(w, exec_line, timeout_text) != 0) return 2;
    im_error kerr = {0};
    if (im_curve_client_keys(server_key, curve_secret, &w->key, w->server_key, &w->curve, &kerr) !=
        0) {
        fprintf(stderr, "infomorph-worker: %s\n", kerr.msg);
        return 2;
    }
    return -1;
}

/* The command line into *w, *level and *name. Returns -1 to go on, or the exit
 * status (0 after --help, 2 for a bad option). */
static int parse_args(wk *w, int argc, char **argv, im_log_level *level, const char **name)
{
    static const struct option opts[] = {{"connect", required_argument, NULL, 'c'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"max-trials", required_argument, NULL, 'm'},
                                         {"max-memory", required_argument, NULL, 'M'},
                                         {"share", required_argument, NULL, 's'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"exec", required_argument, NULL, 'x'},
                                         {"trial-timeout", required_argument, NULL, 'T'},
                                         {"server-key", required_argument, NULL, 'S'},
                                         {"curve-secret", required_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *server_key = NULL, *curve_secret = NULL;
    const char *exec_line = getenv("INFOMORPH_EXEC");
    const char *timeout_text = getenv("INFOMORPH_TRIAL_TIMEOUT");
    if (exec_line && !*exec_line) exec_line = NULL;
    if (timeout_text && !*timeout_text) timeout_text = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': w->endpoint = optarg; break;
        case 'd': w->data_dir = optarg; break;
        case 't':
        case 'm':
        case 'M':
        case 's':
        case 'l':
            if (set_numeric_option(w, c, optarg, level) != 0) return 2;
            break;
        case 'n': *name = optarg; break;
        case 'x': exec_line = optarg; break;
        case 'T': timeout_text = optarg; break;
        case 'S': server_key = optarg; break;
        case 'K': curve_secret = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    return finish_args(w, argc, argv, exec_line, timeout_text, server_key, curve_secret);
}

/* w->host, and w->name from --name (NULL: HOST-PID). Returns 0, or 2 for a
 * name of the wrong length. */
static int set_names(wk *w, const char *name)
{
    if (gethostname(w->host, sizeof w->host) != 0) snprintf(w->host, sizeof w->host, "unknown");
    w->host[sizeof w->host - 1] = '\0';
    if (name && (!*name || strlen(name) >= sizeof w->name)) {
        fprintf(stderr, "infomorph-worker: --name must be 1..%zu characters\n", sizeof w->name - 1);
        return 2;
    }
    if (name)
        snprintf(w->name, sizeof w->name, "%s", name);
    else
        snprintf(w->name, sizeof w->name, "%.100s-%ld", w->host, (long)getpid());
    return 0;
}

/* Close the socket and the context, free what is still queued or held. */
static void release(wk *w)
{
    im_transport_close(&w->sock);
    zmq_ctx_term(w->ctx);
    json_decref(w->pending);
    wk_event *e;
    while ((e = queue_pop(w))) {
        wk_result_free(&e->result);
        free(e);
    }
    pthread_mutex_destroy(&w->mu);
    wk_exec_argv_free(&w->exec_argv);
}

int main(int argc, char **argv)
{
    static wk w;
    w.endpoint = WK_DEFAULT_CONNECT;
    w.data_dir =
        getenv("INFOMORPH_DATA") && *getenv("INFOMORPH_DATA") ? getenv("INFOMORPH_DATA") : "./data";
    w.threads = 1;
    im_log_level level = IM_LOG_INFO;
    const char *name = NULL;
    int rc = parse_args(&w, argc, argv, &level, &name);
    if (rc >= 0) return rc;
    if (set_names(&w, name) != 0) return 2;

    im_log_setup(level, "worker");
#ifdef IM_HAVE_OPENBLAS
    openblas_set_num_threads(w.threads);
#endif

    if (im_pipe_open(w.wake) != 0 || (g_sig_fd = im_sigpipe_install()) < 0) {
        im_log(IM_LOG_ERROR, "unable to create a pipe: %s", strerror(errno));
        return 1;
    }
    pthread_mutex_init(&w.mu, NULL);

    w.ctx = zmq_ctx_new();
    if (!w.ctx) {
        im_log(IM_LOG_ERROR, "unable to create a ZeroMQ context");
        return 1;
    }
    rc = run(&w);
    release(&w);
    im_log(IM_LOG_INFO, "worker %s stopped after %ld trials", w.name, w.trials_done);
    return rc;
}
