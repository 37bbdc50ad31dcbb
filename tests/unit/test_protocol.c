/*
 * test_protocol: every message type survives encode -> decode with its
 * fields; every malformed message in tests/data/protocol/bad/ (NAME.in, with
 * the expected error fragment in NAME.err) is refused with that message; and
 * the multipart transport keeps the routing envelope, refuses oversized
 * bodies and consumes a bad message whole.
 */
#include "log.h"
#include "protocol.h"
#include "test.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>
#include <zmq.h>

static int roundtrip(const im_msg *in, im_msg *out)
{
    im_error err = {0};
    size_t len;
    char *s = im_msg_encode(in, &len, &err);
    CHECK_MSG(s != NULL, "encode %s: %s", im_msg_type_name(in->type), err.msg);
    if (!s) return -1;
    int rc = im_msg_decode(out, s, len, &err);
    CHECK_MSG(rc == 0, "decode %s: %s (%s)", im_msg_type_name(in->type), err.msg, s);
    free(s);
    if (rc == 0) CHECK_INT(out->type, in->type);
    return rc;
}

static void test_roundtrips(void)
{
    {
        im_msg b = {.type = IM_MSG_BACKUP}, got;
        b.query.backup = 7;
        b.query.from = 8388608;
        b.query.limit = 1000;
        if (roundtrip(&b, &got) == 0) {
            CHECK_INT(got.type, IM_MSG_BACKUP);
            CHECK_INT(got.query.backup, 7);
            CHECK_INT(got.query.from, 8388608);
            CHECK_INT(got.query.limit, 1000);
            im_msg_release(&got);
        }
    }
    im_msg in, out;

    json_t *backends = json_pack("[s,s]", "builtin", "exec");
    json_t *datasets = json_pack("[s]", "mnist10k");
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_READY;
    in.ready.worker = "hostA:123";
    in.ready.host = "hostA";
    in.ready.version = "0.1.0";
    in.ready.pid = 123;
    in.ready.threads = 4;
    in.ready.backends = backends;
    in.ready.datasets = datasets;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.ready.worker, "hostA:123");
        CHECK_STR(out.ready.host, "hostA");
        CHECK_STR(out.ready.version, "0.1.0");
        CHECK_INT(out.ready.pid, 123);
        CHECK_INT(out.ready.threads, 4);
        CHECK(im_wire_list_has(out.ready.backends, "exec"));
        CHECK(!im_wire_list_has(out.ready.backends, "gpu"));
        CHECK(im_wire_list_has(out.ready.datasets, "mnist10k"));
        CHECK_INT(out.ready.has_max_memory, 0); /* absent: no cap known */
        im_msg_release(&out);
    }
    /* a memory cap in bytes, 0 included, and one beyond 32 bits */
    const int64_t caps[] = {0, 50000000, INT64_C(17179869184), INT64_MAX};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        in.ready.has_max_memory = 1;
        in.ready.max_memory = caps[i];
        if (roundtrip(&in, &out) == 0) {
            CHECK_INT(out.ready.has_max_memory, 1);
            CHECK_INT(out.ready.max_memory, caps[i]);
            im_msg_release(&out);
        }
    }
    json_decref(backends);
    json_decref(datasets);

    json_t *spec =
        json_pack("{s:s,s:i,s:[f,f]}", "dataset", "mnist10k", "seed", 3, "gamma", 0.5, -0.25);
    json_t *user = json_pack("{s:s}", "note", "x");
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_JOB;
    in.job.trial = 42;
    in.job.attempt = 2;
    in.job.lease_s = 60;
    in.job.campaign = "c1";
    in.job.number = 7;
    in.job.spec = spec;
    in.job.user = user;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.job.trial, 42);
        CHECK_INT(out.job.attempt, 2);
        CHECK_NEAR(out.job.lease_s, 60, 0);
        CHECK_STR(out.job.campaign, "c1");
        CHECK_INT(out.job.number, 7);
        CHECK(json_equal((json_t *)out.job.spec, spec));
        CHECK(json_equal((json_t *)out.job.user, user));
        CHECK(out.job.params == NULL);
        im_msg_release(&out);
    }
    json_decref(spec);
    json_decref(user);

    /* an exec trial's JOB: params by name, numbers and strings */
    spec = json_pack("{s:s, s:i, s:s}", "backend", "exec", "seed", 3, "objective", "loss");
    json_t *params = json_pack("{s:f, s:i, s:s}", "lr", 0.01, "layers", 2, "act", "tanh");
    in.job.spec = spec;
    in.job.user = NULL;
    in.job.params = params;
    if (roundtrip(&in, &out) == 0) {
        CHECK(json_equal((json_t *)out.job.params, params));
        CHECK(json_equal((json_t *)out.job.spec, spec));
        im_msg_release(&out);
    }
    in.job.params = NULL;
    json_decref(spec);
    json_decref(params);

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_NOJOB;
    in.nojob.retry_ms = 250;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.nojob.retry_ms, 250);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_PROGRESS;
    in.progress.trial = 5;
    in.progress.attempt = 1;
    in.progress.e = (im_epoch_stats){.epoch = 3,
                                     .train_acc = 0.9,
                                     .val_acc = 0.875,
                                     .test_acc = NAN,
                                     .goal_hidden = 0.1234567890123,
                                     .goal_out = INFINITY,
                                     .seconds = 1.5};
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.progress.trial, 5);
        CHECK_INT(out.progress.e.epoch, 3);
        CHECK_NEAR(out.progress.e.val_acc, 0.875, 0);
        CHECK_NEAR(out.progress.e.goal_hidden, 0.1234567890123, 0); /* 17 digits: exact */
        CHECK(isnan(out.progress.e.test_acc));
        CHECK(isnan(out.progress.e.goal_out)); /* non-finite travels as null */
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_HEARTBEAT;
    in.heartbeat.trial = 0; /* idle */
    in.heartbeat.attempt = 0;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.heartbeat.trial, 0);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_CONTINUE;
    in.cont.trial = 9;
    in.cont.attempt = 3;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.cont.trial, 9);
        CHECK_INT(out.cont.attempt, 3);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_STOP;
    in.stop.trial = 9;
    in.stop.attempt = 3;
    in.stop.reason = "cancelled";
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.stop.reason, "cancelled");
        im_msg_release(&out);
    }

    im_epoch_stats curve[2] = {{.epoch = 0, .val_acc = 0.1, .train_acc = NAN, .test_acc = 0.1},
                               {.epoch = 1, .val_acc = 0.8, .train_acc = 0.7, .test_acc = 0.79}};
    im_trial_atom atoms[3] = {
        {"hidden", "f_c", 0.25}, {"hidden", "h_res", 1.5}, {"output", "fc", -0.125}};
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_RESULT;
    in.result.trial = 11;
    in.result.attempt = 1;
    in.result.status = IM_RESULT_DONE;
    in.result.val_acc = 0.8;
    in.result.test_acc = 0.79;
    in.result.wall_s = 12.5;
    in.result.curve = curve;
    in.result.n_curve = 2;
    in.result.atoms = atoms;
    in.result.n_atoms = 3;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.result.trial, 11);
        CHECK_INT(out.result.status, IM_RESULT_DONE);
        CHECK_NEAR(out.result.val_acc, 0.8, 0);
        CHECK_NEAR(out.result.wall_s, 12.5, 0);
        CHECK(out.result.error == NULL);
        CHECK_INT(out.result.n_curve, 2);
        if (out.result.n_curve == 2) {
            CHECK_INT(out.result.curve[1].epoch, 1);
            CHECK_NEAR(out.result.curve[1].train_acc, 0.7, 0);
            CHECK(isnan(out.result.curve[0].train_acc));
        }
        CHECK_INT(out.result.n_atoms, 3);
        int seen = 0;
        for (size_t i = 0; i < out.result.n_atoms; i++) {
            const im_trial_atom *a = &out.result.atoms[i];
            if (!strcmp(a->layer, "output") && !strcmp(a->name, "fc")) {
                CHECK_NEAR(a->value, -0.125, 0);
                seen++;
            }
            if (!strcmp(a->layer, "hidden") && !strcmp(a->name, "h_res")) {
                CHECK_NEAR(a->value, 1.5, 0);
                seen++;
            }
        }
        CHECK_INT(seen, 2);
        CHECK(out.result.extra == NULL);                  /* no keys beyond RESULT's own */
        CHECK_INT(out.result.curve[0].n_terms_hidden, 0); /* no per-epoch atoms on the wire */
        im_msg_release(&out);
        im_msg_release(&out); /* twice is harmless */
    }

    /* a backend's extra keys travel in the result's opaque slot, both ways */
    json_t *keys = json_pack("{s:{s:i},s:s}", "exec", "exit_code", 0, "note", "fast");
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_RESULT;
    in.result.trial = 12;
    in.result.attempt = 1;
    in.result.status = IM_RESULT_DONE;
    in.result.val_acc = in.result.test_acc = in.result.wall_s = NAN;
    in.result.extra = keys;
    if (roundtrip(&in, &out) == 0) {
        CHECK(json_equal(out.result.extra, keys));
        CHECK(json_object_get(out.result.extra, "status") == NULL);
        im_msg_release(&out);
    }
    json_decref(keys);

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_RESULT;
    in.result.trial = 11;
    in.result.attempt = 2;
    in.result.status = IM_RESULT_FAILED;
    in.result.val_acc = NAN;
    in.result.test_acc = NAN;
    in.result.wall_s = NAN;
    in.result.error = "dataset 'x' not found";
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.result.status, IM_RESULT_FAILED);
        CHECK_STR(out.result.error, "dataset 'x' not found");
        CHECK(isnan(out.result.val_acc));
        CHECK_INT(out.result.n_curve, 0);
        CHECK_INT(out.result.n_atoms, 0);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_ACK;
    in.ack.trial = 11;
    in.ack.attempt = 2;
    in.ack.accepted = 0;
    in.ack.note = "duplicate";
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.ack.accepted, 0);
        CHECK_STR(out.ack.note, "duplicate");
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_BYE;
    in.bye.worker = "w1";
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.bye.worker, "w1");
        im_msg_release(&out);
    }

    json_t *camp = json_pack("{s:s,s:s}", "name", "c1", "kind", "fixed");
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_SUBMIT;
    in.submit.campaign = camp;
    if (roundtrip(&in, &out) == 0) {
        CHECK(json_equal((json_t *)out.submit.campaign, camp));
        im_msg_release(&out);
    }
    json_decref(camp);

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_BEST;
    in.query.campaign.id = 4;
    in.query.n = 3;
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.query.campaign.id, 4);
        CHECK(out.query.campaign.name == NULL);
        CHECK_INT(out.query.n, 3);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_CANCEL;
    in.query.campaign.name = "c1";
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.query.campaign.name, "c1");
        im_msg_release(&out);
    }

    /* STATUS without a campaign; BEST's n defaults to 10 */
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_STATUS;
    if (roundtrip(&in, &out) == 0) {
        CHECK(out.query.campaign.name == NULL && out.query.campaign.id == 0);
        im_msg_release(&out);
    }
    const char *best = "{\"type\":\"BEST\",\"v\":1}";
    if (im_msg_decode(&out, best, strlen(best), NULL) == 0) {
        CHECK_INT(out.query.n, 10);
        im_msg_release(&out);
    } else {
        CHECK(!"BEST without fields decodes");
    }

    /* a CANCEL without a campaign cannot be encoded */
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_CANCEL;
    im_error err = {0};
    CHECK(im_msg_encode(&in, NULL, &err) == NULL);
    CHECK_CONTAINS(err.msg, "CANCEL lacks a required field");

    json_t *payload = json_pack("{s:[i,i]}", "campaigns", 1, 2);
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_OK;
    in.ok.re = "LIST";
    in.body = payload;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.ok.re, "LIST");
        CHECK_INT(json_array_size(json_object_get(out.body, "campaigns")), 2);
        im_msg_release(&out);
    }
    json_decref(payload);

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_ERROR;
    in.error.re = "SUBMIT";
    in.error.message = "campaign: 'budget' must be an integer >= 1";
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.error.re, "SUBMIT");
        CHECK_STR(out.error.message, "campaign: 'budget' must be an integer >= 1");
        im_msg_release(&out);
    }

    /* TRIALS is paged like EXPORT */
    memset(&in, 0, sizeof in);
    in.type = IM_MSG_TRIALS;
    in.query.campaign.name = "alpha";
    in.query.from = 2000;
    in.query.limit = IM_TRIALS_PAGE_MAX;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.query.campaign.name, "alpha");
        CHECK_INT(out.query.from, 2000);
        CHECK_INT(out.query.limit, IM_TRIALS_PAGE_MAX);
        im_msg_release(&out);
    }

    /* unknown keys are ignored */
    const char *extra = "{\"type\":\"HEARTBEAT\",\"v\":1,\"trial\":2,\"attempt\":1,\"new\":[1]}";
    CHECK_INT(im_msg_decode(&out, extra, strlen(extra), NULL), 0);
    im_msg_release(&out);

    for (int t = 0; t < IM_MSG_COUNT_; t++) {
        im_msg_type back;
        CHECK_INT(im_msg_type_parse(im_msg_type_name((im_msg_type)t), &back), 0);
        CHECK_INT(back, t);
    }
    CHECK(im_msg_type_name(IM_MSG_COUNT_) == NULL);
}

static void test_bad_folder(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/protocol/bad", test_data_dir());
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    int cases = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 4 || strcmp(de->d_name + nl - 3, ".in") != 0) continue;
        char in_path[1400], err_path[1400];
        snprintf(in_path, sizeof in_path, "%s/%s", dir, de->d_name);
        snprintf(err_path, sizeof err_path, "%s/%.*s.err", dir, (int)(nl - 3), de->d_name);
        size_t in_len, err_len;
        char *input = test_read_file(in_path, &in_len);
        char *want = test_read_file(err_path, &err_len);
        CHECK_MSG(input && want, "case %s: cannot read its .in or .err file", de->d_name);
        if (input && want) {
            while (err_len && (want[err_len - 1] == '\n' || want[err_len - 1] == '\r'))
                want[--err_len] = '\0';
            im_msg m;
            im_error err = {0};
            int rc = im_msg_decode(&m, input, in_len, &err);
            CHECK_MSG(rc == IM_EPROTO, "case %s: decoded (rc %d)", de->d_name, rc);
            CHECK_MSG(strstr(err.msg, want) != NULL, "case %s: error \"%s\" lacks \"%s\"",
                      de->d_name, err.msg, want);
            CHECK_MSG(m.body == NULL, "case %s: a refused message keeps a body", de->d_name);
            cases++;
        }
        free(input);
        free(want);
    }
    closedir(d);
    CHECK_MSG(cases >= 30, "only %d malformed cases found in %s", cases, dir);
}

/* Truncations of a valid RESULT at every byte never decode and never crash. */
static void test_truncations(void)
{
    const char *s = "{\"type\":\"RESULT\",\"v\":1,\"trial\":3,\"attempt\":1,\"status\":\"done\","
                    "\"curve\":[{\"epoch\":0,\"val_acc\":0.1}],\"atoms\":{\"hidden\":{\"f\":1}}}";
    size_t n = strlen(s);
    int refused = 0;
    for (size_t i = 0; i < n; i++) {
        im_msg m;
        char *copy = malloc(i ? i : 1);
        memcpy(copy, s, i);
        if (im_msg_decode(&m, copy, i, NULL) == IM_EPROTO)
            refused++;
        else
            im_msg_release(&m);
        free(copy);
    }
    CHECK_INT(refused, n);
    im_msg m;
    CHECK_INT(im_msg_decode(&m, s, n, NULL), 0);
    im_msg_release(&m);
}

/* Random mutations of valid messages (bytes flipped, inserted, cut) decode or
 * are refused, never crash (run under the sanitizers by tests/run.sh). */
static void test_mutations(void)
{
    static const char *const seeds[] = {
        "{\"type\":\"RESULT\",\"v\":1,\"trial\":3,\"attempt\":1,\"status\":\"done\","
        "\"val_acc\":0.5,\"curve\":[{\"epoch\":0,\"val_acc\":0.1},{\"epoch\":1}],"
        "\"atoms\":{\"hidden\":{\"f\":1,\"h_res\":2},\"output\":{\"c\":0.5}},\"error\":null}",
        "{\"type\":\"READY\",\"v\":1,\"worker\":\"w\",\"backends\":[\"builtin\"],"
        "\"datasets\":[\"mnist10k\"],\"pid\":5,\"threads\":2}",
        "{\"type\":\"JOB\",\"v\":1,\"trial\":1,\"attempt\":1,\"lease_s\":60,"
        "\"spec\":{\"gamma\":[1,2]},\"user\":{}}",
        "{\"type\":\"SUBMIT\",\"v\":1,\"campaign\":{\"name\":\"x\",\"points\":[1]}}",
        "{\"type\":\"BEST\",\"v\":1,\"campaign\":\"x\",\"n\":3}",
    };
    static const char noise[] = "{}[]\",:0123456789.-eE\\u\x01\xff tnr";
    uint64_t x = 88172645463325252ull;
    int decoded = 0, refused = 0;
    char buf[1024];
    for (int it = 0; it < 20000; it++) {
        const char *src = seeds[it % 5];
        size_t n = strlen(src);
        memcpy(buf, src, n);
        int edits = 1 + it % 4;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pos = (size_t)(x % (n + 1));
            char c = noise[(x >> 20) % (sizeof noise - 1)];
            switch ((x >> 40) % 3) {
            case 0:
                if (pos < n) buf[pos] = c;
                break;
            case 1:
                if (n + 1 < sizeof buf) {
                    memmove(buf + pos + 1, buf + pos, n - pos);
                    buf[pos] = c;
                    n++;
                }
                break;
            default: n = pos; break;
            }
        }
        im_msg m;
        im_error err = {0};
        if (im_msg_decode(&m, buf, n, &err) == 0) {
            decoded++;
            char *again = im_msg_encode(&m, NULL, NULL);
            free(again);
            im_msg_release(&m);
        } else {
            refused++;
            if (!err.msg[0]) CHECK(!"a refusal without a message");
        }
    }
    CHECK(refused > 1000);
    CHECK_INT(decoded + refused, 20000);
}

static void test_transport(void)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CHECK_INT(zmq_bind(router, "inproc://proto"), 0);
    CHECK_INT(zmq_connect(dealer, "inproc://proto"), 0);

    /* nothing waiting: transport error with EAGAIN */
    im_envelope env;
    im_msg m;
    im_error err = {0};
    CHECK_INT(im_wire_recv(router, ZMQ_DONTWAIT, IM_MSG_MAX_BYTES, &env, &m, &err), IM_ENET);
    CHECK_INT(errno, EAGAIN);

    im_msg hb = {.type = IM_MSG_HEARTBEAT};
    hb.heartbeat.trial = 7;
    hb.heartbeat.attempt = 1;
    CHECK_INT(im_wire_send(dealer, NULL, &hb, &err), 0);
    CHECK_INT(im_wire_recv(router, 0, IM_MSG_MAX_BYTES, &env, &m, &err), 0);
    CHECK_INT(env.n, 1); /* the identity */
    CHECK_INT(m.type, IM_MSG_HEARTBEAT);
    CHECK_INT(m.heartbeat.trial, 7);
    im_msg_release(&m);

    /* the reply goes back through the envelope */
    im_msg cont = {.type = IM_MSG_CONTINUE};
    cont.cont.trial = 7;
    cont.cont.attempt = 1;
    CHECK_INT(im_wire_send(router, &env, &cont, &err), 0);
    CHECK_INT(im_wire_recv(dealer, 0, IM_MSG_MAX_BYTES, NULL, &m, &err), 0);
    CHECK_INT(m.type, IM_MSG_CONTINUE);
    im_msg_release(&m);

    /* oversized: refused, envelope kept so the sender can be told */
    const char *big = "{\"type\":\"LIST\",\"v\":1,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
    zmq_send(dealer, big, strlen(big), 0);
    CHECK_INT(im_wire_recv(router, 0, 32, &env, &m, &err), IM_EPROTO);
    CHECK_INT(env.n, 1);
    CHECK_CONTAINS(err.msg, "more than the limit of 32");
    CHECK_INT(im_wire_send_error(router, &env, NULL, err.msg), 0);
    CHECK_INT(im_wire_recv(dealer, 0, IM_MSG_MAX_BYTES, NULL, &m, &err), 0);
    CHECK_INT(m.type, IM_MSG_ERROR);
    CHECK_CONTAINS(m.error.message, "more than the limit");
    im_msg_release(&m);

    /* too many routing frames: consumed whole, no reply possible */
    for (int i = 0; i < 6; i++) zmq_send(dealer, "x", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "{}", 2, 0);
    CHECK_INT(im_wire_recv(router, 0, IM_MSG_MAX_BYTES, &env, &m, &err), IM_EPROTO);
    CHECK_INT(env.n, -1);
    /* and the next message is read normally */
    CHECK_INT(im_wire_send(dealer, NULL, &hb, &err), 0);
    CHECK_INT(im_wire_recv(router, 0, IM_MSG_MAX_BYTES, &env, &m, &err), 0);
    CHECK_INT(m.type, IM_MSG_HEARTBEAT);
    im_msg_release(&m);

    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

/* Texts from peers (a RESULT's error, a refused message) reach the log and
 * the command's output escaped: a newline cannot forge a log line, an ESC
 * sequence cannot reach the operator's terminal. */
static void test_log_escape(void)
{
    char out[64];
    CHECK_INT(im_log_escape(out, sizeof out, "a\nb\x1b[31mc\td\x7f"), 20);
    CHECK_STR(out, "a\\nb\\x1b[31mc\\td\\x7f");
    CHECK_INT(im_log_escape(out, 6, "x\ny\nz"), 4); /* truncated, never an escape cut */
    CHECK_STR(out, "x\\ny");
    CHECK_INT(im_log_escape(out, sizeof out, "plain"), 5);

    /* one im_log call is one line, whatever the text holds */
    char path[] = "/tmp/test_protocol_log.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    im_log(IM_LOG_ERROR, "trial 3: failed: %s",
           "boom\n2026-01-01T00:00:00.000Z INFO  forged\x1b]0;x\x07");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    char *text = test_read_file(path, &len);
    close(fd);
    unlink(path);
    CHECK(text != NULL);
    if (!text) return;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    CHECK_INT(lines, 1);
    CHECK(memchr(text, 0x1b, len) == NULL && memchr(text, 0x07, len) == NULL);
    CHECK_CONTAINS(text, "boom\\n2026-01-01");
    free(text);
}

/* The database's identity ("db") of JOB, echoed with the sender's name
 * ("worker") in PROGRESS, HEARTBEAT and RESULT; absent, they decode as
 * NULL, and they never land in a RESULT's extra keys. */
static void test_db_fields(void)
{
    static const char *const db = "0123456789abcdef0123456789abcdef";
    json_t *spec = json_pack("{s:s}", "dataset", "mnist10k");
    im_msg in = {.type = IM_MSG_JOB}, out;
    in.job.trial = 9;
    in.job.attempt = 1;
    in.job.lease_s = 30;
    in.job.db = db;
    in.job.spec = spec;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.job.db, db);
        im_msg_release(&out);
    }
    in.job.db = NULL;
    if (roundtrip(&in, &out) == 0) {
        CHECK(out.job.db == NULL);
        im_msg_release(&out);
    }
    json_decref(spec);

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_PROGRESS;
    in.progress.trial = 9;
    in.progress.attempt = 1;
    in.progress.db = db;
    in.progress.worker = "host:12";
    in.progress.value = NAN;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.progress.db, db);
        CHECK_STR(out.progress.worker, "host:12");
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_HEARTBEAT;
    in.heartbeat.trial = 9;
    in.heartbeat.attempt = 1;
    in.heartbeat.db = db;
    in.heartbeat.worker = "host:12";
    if (roundtrip(&in, &out) == 0) {
        CHECK_INT(out.heartbeat.trial, 9);
        CHECK_STR(out.heartbeat.db, db);
        CHECK_STR(out.heartbeat.worker, "host:12");
        im_msg_release(&out);
    }
    in.heartbeat.trial = 0; /* idle: no db */
    in.heartbeat.attempt = 0;
    in.heartbeat.db = in.heartbeat.worker = NULL;
    if (roundtrip(&in, &out) == 0) {
        CHECK(out.heartbeat.db == NULL && out.heartbeat.worker == NULL);
        im_msg_release(&out);
    }

    memset(&in, 0, sizeof in);
    in.type = IM_MSG_RESULT;
    in.result.trial = 9;
    in.result.attempt = 1;
    in.result.db = db;
    in.result.worker = "host:12";
    in.result.status = IM_RESULT_DONE;
    in.result.val_acc = in.result.test_acc = in.result.wall_s = NAN;
    if (roundtrip(&in, &out) == 0) {
        CHECK_STR(out.result.db, db);
        CHECK_STR(out.result.worker, "host:12");
        CHECK(out.result.extra == NULL);
        im_msg_release(&out);
    }
    in.result.db = in.result.worker = NULL;
    if (roundtrip(&in, &out) == 0) {
        CHECK(out.result.db == NULL && out.result.worker == NULL);
        im_msg_release(&out);
    }
}

/* An exec result's objective by curve entry: a number, else NAN (null, a
 * string, past the end, no list, no extra). */
static void test_curve_value(void)
{
    im_trial_result r = {0};
    CHECK(isnan(im_result_curve_value(&r, 0)));
    r.extra = json_pack("{s:[f, n, s]}", "curve_values", 1.5, "x");
    CHECK_NEAR(im_result_curve_value(&r, 0), 1.5, 0);
    CHECK(isnan(im_result_curve_value(&r, 1)));
    CHECK(isnan(im_result_curve_value(&r, 2)));
    CHECK(isnan(im_result_curve_value(&r, 3)));
    json_decref(r.extra);
    r.extra = json_pack("{s:f}", "curve_values", 2.0);
    CHECK(isnan(im_result_curve_value(&r, 0)));
    json_decref(r.extra);
}

int main(void)
{
    test_curve_value();
    test_log_escape();
    test_roundtrips();
    test_db_fields();
    test_bad_folder();
    test_truncations();
    test_mutations();
    test_transport();
    return TEST_END();
}
