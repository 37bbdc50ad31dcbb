/*
 * report_model.c: the report's model from its document (report.h): the
 * trials in flat arrays, then what the plots need: ranks, parameter
 * importance, ablation stages, atom profiles, the summary. Everything is
 * deterministic (ties broken by trial number), so that two sources of the
 * same document give the same bytes.
 *
 * Parameter importance is the correlation ratio eta^2 of the validation
 * accuracy on each parameter taken alone: the done trials are sorted by the
 * parameter's value and cut into B quantile bins of (nearly) equal count,
 * equal values never split; eta^2 = sum over bins n_b (mean_b - mean)^2 /
 * sum over trials (y - mean)^2, the share of the variance the binned main
 * effect explains. A cheap relative of fANOVA's first-order terms that
 * ignores interactions; for independent noise its expectation is about
 * (B - 1) / (n - 1), which the report prints beside it.
 */
#include "report.h"
#include "lattice.h"
#include "train_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const report_statuses[REPORT_N_STATUSES] = {"queued", "running", "done",
                                                        "failed", "pruned",  "cancelled"};
const char *const report_layers[REPORT_LAYERS] = {"hidden", "output"};

static char *dup_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? im_xstrdup(s) : NULL;
}

static char *dup_or_empty(const json_t *o, const char *key)
{
    char *s = dup_str(o, key);
    return s ? s : im_xstrdup("");
}

/* ---------- names ---------- */

/* Braced name of a PID term by short name ("f_c" -> "{F}{C}"), or the name
 * itself (a parameter of another kind of campaign). Returns a new string. */
static char *braced_of(const im_lattice *lat, int ok, const char *name)
{
    int i = ok ? im_lattice_find(lat, name) : -1;
    return im_xstrdup(i >= 0 ? lat->braced[i] : name);
}

/* The union of the keys of every trial's obj[key] (per layer for atoms),
 * in canonical order, into *names / *labels. Returns the count. */
static int collect_names(const json_t *trials, const char *key, int layered, char ***names,
                         char ***labels, const im_lattice *lat, int lat_ok)
{
    json_t *tmp = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        json_t *v = json_object_get(t, key);
        if (!layered) {
            json_array_append_new(tmp, json_pack("{s:O}", "gamma", v ? v : json_null()));
            continue;
        }
        for (int l = 0; l < REPORT_LAYERS; l++) {
            json_t *lv = json_object_get(v, report_layers[l]);
            if (lv) json_array_append_new(tmp, json_pack("{s:O}", "gamma", lv));
        }
    }
    json_t *arr = cli_gamma_names(tmp);
    json_decref(tmp);
    int n = (int)json_array_size(arr);
    *names = im_xcalloc((size_t)n + 1, sizeof **names);
    *labels = im_xcalloc((size_t)n + 1, sizeof **labels);
    for (int j = 0; j < n; j++) {
        const char *s = json_string_value(json_array_get(arr, (size_t)j));
        (*names)[j] = im_xstrdup(s);
        (*labels)[j] = braced_of(lat, lat_ok, s);
    }
    json_decref(arr);
    return n;
}

static int find_name(char **names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

static int status_index(const char *s)
{
    for (int i = 0; s && i < REPORT_N_STATUSES; i++)
        if (!strcmp(s, report_statuses[i])) return i;
    return -1;
}

/* ---------- trials ---------- */

static double num_or_nan(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Whether the trial's gamma equals the preset "paper-optimized" (k = 3) in
 * every one of its 19 terms: p[19] the preset in lattice order. Exact, as
 * the campaign wrote the numbers (JSON keeps a double bit for bit). */
static int is_paper(const report *r, const report_trial *t, const im_lattice *lat, const double *p)
{
    for (int i = 0; i < lat->n + 1; i++) {
        int j = find_name(r->param, r->n_params, lat->short_name[i]);
        if (j < 0 || t->param[j] != p[i]) return 0;
    }
    return 1;
}

static void trial_fill(report *r, report_trial *t, const json_t *o)
{
    t->id = cli_int(o, "trial", -1);
    t->number = cli_int(o, "number", -1);
    t->point = cli_int(o, "point", -1);
    t->seed = cli_int(o, "seed", 0);
    t->status = status_index(json_string_value(json_object_get(o, "status")));
    t->label = dup_str(o, "label");
    t->stage = dup_str(o, "stage");
    t->worker = dup_str(o, "worker");
    t->val = num_or_nan(o, "val_acc");
    t->test = num_or_nan(o, "test_acc");
    t->wall_s = num_or_nan(o, "wall_s");
    const char *g = json_string_value(json_object_get(json_object_get(o, "spec"), "gamma"));
    t->paper = g && !strcmp(g, "paper-optimized");

    t->param = im_xmalloc_array((size_t)r->n_params + 1, sizeof *t->param);
    json_t *gamma = json_object_get(o, "gamma");
    for (int p = 0; p < r->n_params; p++) t->param[p] = num_or_nan(gamma, r->param[p]);

    size_t na = (size_t)REPORT_LAYERS * (size_t)r->n_atoms;
    t->atoms = im_xmalloc_array(na + 1, sizeof *t->atoms);
    json_t *atoms = json_object_get(o, "atoms");
    for (int l = 0; l < REPORT_LAYERS; l++) {
        json_t *lv = json_object_get(atoms, report_layers[l]);
        for (int a = 0; a < r->n_atoms; a++)
            t->atoms[l * r->n_atoms + a] = num_or_nan(lv, r->atom[a]);
    }

    json_t *epochs = json_object_get(o, "epochs"), *e;
    size_t i;
    long long max = -1;
    json_array_foreach(epochs, i, e)
    {
        long long k = cli_int(e, "epoch", -1);
        if (k > max && k < 100000) max = k;
    }
    t->n_epochs = (int)(max + 1);
    t->epoch_val = im_xmalloc_array((size_t)t->n_epochs + 1, sizeof *t->epoch_val);
    for (int k = 0; k < t->n_epochs; k++) t->epoch_val[k] = NAN;
    json_array_foreach(epochs, i, e)
    {
        long long k = cli_int(e, "epoch", -1);
        if (k >= 0 && k <= max) t->epoch_val[k] = num_or_nan(e, "val_acc");
    }
    if (max > r->max_epoch) r->max_epoch = max;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct workers of the trials and their attempts, sorted. */
static void collect_workers(report *r, const json_t *trials)
{
    size_t cap = 16, n = 0, i, j;
    char **w = im_xmalloc_array(cap, sizeof *w);
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        json_t *names[2] = {json_object_get(t, "worker"), NULL};
        json_t *atts = json_object_get(t, "attempts");
        for (size_t k = 0; k <= json_array_size(atts); k++) {
            json_t *v = k == 0 ? names[0] : json_object_get(json_array_get(atts, k - 1), "worker");
            const char *s = json_string_value(v);
            if (!s) continue;
            int seen = 0;
            for (j = n; j-- > 0 && !seen;) seen = !strcmp(w[j], s);
            if (seen) continue;
            if (n == cap) w = im_xrealloc(w, (cap *= 2) * sizeof *w);
            w[n++] = im_xstrdup(s);
        }
    }
    qsort(w, n, sizeof *w, cmp_str);
    r->workers = w;
    r->n_workers = (int)n;
}

/* ---------- ranks ---------- */

/* A done trial's sort key: val desc, test desc (unknown last), number. */
typedef struct rank_key {
    double val, test;
    long long number;
    size_t index;
} rank_key;

static int by_rank(const void *pa, const void *pb)
{
    const rank_key *a = pa, *b = pb;
    if (a->val != b->val) return a->val > b->val ? -1 : 1;
    int na = isnan(a->test), nb = isnan(b->test);
    if (na != nb) return na - nb;
    if (!na && a->test != b->test) return a->test > b->test ? -1 : 1;
    return (a->number > b->number) - (a->number < b->number);
}

static void rank_trials(report *r)
{
    rank_key *keys = im_xmalloc_array(r->n_trials + 1, sizeof *keys);
    size_t n = 0;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (t->status == REPORT_DONE && !isnan(t->val))
            keys[n++] = (rank_key){t->val, t->test, t->number, i};
    }
    qsort(keys, n, sizeof *keys, by_rank);
    r->ranked = im_xmalloc_array(n + 1, sizeof *r->ranked);
    for (size_t i = 0; i < n; i++) r->ranked[i] = keys[i].index;
    r->n_ranked = n;
    free(keys);
}

/* ---------- importance ---------- */

typedef struct xy {
    double x, y;
    size_t k;
} xy;

static int by_x(const void *pa, const void *pb)
{
    const xy *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* eta^2 of y on the quantile bins of x (pts sorted by x), NAN if n < 2. */
static double eta2_binned(const xy *pts, size_t n, int bins)
{
    double mean = 0, total = 0, between = 0;
    for (size_t i = 0; i < n; i++) mean += pts[i].y;
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) total += (pts[i].y - mean) * (pts[i].y - mean);
    if (total <= 0 || pts[0].x == pts[n - 1].x) return 0;
    size_t lo = 0;
    for (int b = 0; b < bins && lo < n; b++) {
        size_t hi = b == bins - 1 ? n : (size_t)(b + 1) * n / (size_t)bins;
        if (hi <= lo) hi = lo + 1;
        while (hi < n && pts[hi].x == pts[hi - 1].x) hi++; /* equal values share a bin */
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += pts[i].y;
        double m = s / (double)(hi - lo);
        between += (double)(hi - lo) * (m - mean) * (m - mean);
        lo = hi;
    }
    return between / total;
}

static void importance(report *r)
{
    r->eta2 = im_xmalloc_array((size_t)r->n_params + 1, sizeof *r->eta2);
    r->imp = im_xmalloc_array((size_t)r->n_params + 1, sizeof *r->imp);
    for (int p = 0; p < r->n_params; p++) r->eta2[p] = r->imp[p] = NAN;
    if (r->n_ranked < REPORT_IMP_MIN || r->n_params == 0) return;
    size_t n = r->n_ranked;
    int bins = (int)(n / 5 < REPORT_IMP_BINS ? n / 5 : REPORT_IMP_BINS);
    if (bins < 2) bins = 2;
    xy *pts = im_xmalloc_array(n, sizeof *pts);
    double sum = 0;
    for (int p = 0; p < r->n_params; p++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const report_trial *t = &r->trials[r->ranked[i]];
            if (isnan(t->param[p])) continue;
            pts[m++] = (xy){t->param[p], t->val, (size_t)t->number};
        }
        if (m < REPORT_IMP_MIN) continue;
        qsort(pts, m, sizeof *pts, by_x);
        r->eta2[p] = eta2_binned(pts, m, bins);
        sum += r->eta2[p];
    }
    free(pts);
    for (int p = 0; p < r->n_params; p++)
        if (!isnan(r->eta2[p])) r->imp[p] = sum > 0 ? r->eta2[p] / sum : 0;
    r->imp_n = n;
    r->imp_bins = bins;
}

/* ---------- ablation ---------- */

static int is_base(const report_trial *t)
{
    return t->label && !strcmp(t->label, "base") && (!t->stage || !strcmp(t->stage, "base"));
}

static int is_individual(const report_trial *t)
{
    if (!t->label || !strcmp(t->label, "base")) return 0;
    if (t->stage) return !strcmp(t->stage, "individual");
    return !strchr(t->label, ',');
}

static int by_effect(const void *pa, const void *pb)
{
    const report_ablation *a = pa, *b = pb;
    if (a->mean != b->mean) return a->mean < b->mean ? -1 : 1;
    return strcmp(a->label, b->label);
}

static int by_point(const void *pa, const void *pb)
{
    const report_step *a = pa, *b = pb;
    return (a->point > b->point) - (a->point < b->point);
}

/* Stage 2 sets components to 0 cumulatively, one step (point) after the
 * other, each labelled with the component it adds: step k has removed k,
 * the labels of steps 1..k. */
static void steps_cumulate(report *r)
{
    qsort(r->steps, (size_t)r->n_steps, sizeof *r->steps, by_point);
    size_t len = 1;
    for (int g = 0; g < r->n_steps; g++) {
        report_step *st = &r->steps[g];
        st->mean /= st->n;
        st->removed = g + 1;
        len += strlen(st->last) + 1;
        st->label = im_xmalloc(len);
        snprintf(st->label, len, "%s%s%s", g ? r->steps[g - 1].label : "", g ? "," : "", st->last);
    }
}

static int done(const report_trial *t)
{
    return t->status == REPORT_DONE && !isnan(t->val);
}

static void ablation(report *r, const im_lattice *lat, int lat_ok)
{
    r->base_mean = r->base_sd = NAN;
    if (strcmp(r->kind, "ablation")) return;
    double s = 0, ss = 0;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (done(t) && is_base(t)) s += t->val, r->base_n++;
    }
    if (!r->base_n) return;
    r->base_mean = s / r->base_n;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (done(t) && is_base(t)) ss += (t->val - r->base_mean) * (t->val - r->base_mean);
    }
    r->base_sd = r->base_n > 1 ? sqrt(ss / (r->base_n - 1)) : NAN;

    /* stage 1 and stage 2 groups, by label in order of first appearance */
    r->ablations = im_xcalloc(r->n_trials + 1, sizeof *r->ablations);
    r->steps = im_xcalloc(r->n_trials + 1, sizeof *r->steps);
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (!done(t)) continue;
        if (is_individual(t)) {
            int g = 0;
            while (g < r->n_ablations && strcmp(r->ablations[g].label, t->label)) g++;
            report_ablation *a = &r->ablations[g];
            if (g == r->n_ablations) {
                r->n_ablations++;
                a->label = t->label;
                a->param = find_name(r->param, r->n_params, t->label);
                int k = lat_ok ? im_lattice_find(lat, t->label) : -1;
                snprintf(a->braced, sizeof a->braced, "%s", k >= 0 ? lat->braced[k] : t->label);
                a->min = INFINITY, a->max = -INFINITY;
            }
            double d = t->val - r->base_mean;
            a->mean += d; /* a sum until the end */
            a->min = fmin(a->min, d), a->max = fmax(a->max, d);
            a->n++;
        } else if (t->stage && !strcmp(t->stage, "successive") && t->label) {
            int g = 0;
            while (g < r->n_steps && r->steps[g].point != t->point) g++;
            report_step *st = &r->steps[g];
            if (g == r->n_steps) {
                r->n_steps++;
                st->point = t->point;
                st->last = t->label;
                st->min = INFINITY, st->max = -INFINITY;
            }
            st->mean += t->val;
            st->min = fmin(st->min, t->val), st->max = fmax(st->max, t->val);
            st->n++;
        }
    }
    for (int g = 0; g < r->n_ablations; g++) {
        report_ablation *a = &r->ablations[g];
        a->mean /= a->n;
        double q = 0;
        for (size_t i = 0; i < r->n_trials; i++) {
            const report_trial *t = &r->trials[i];
            if (done(t) && is_individual(t) && !strcmp(t->label, a->label)) {
                double d = t->val - r->base_mean - a->mean;
                q += d * d;
            }
        }
        a->sd = a->n > 1 ? sqrt(q / (a->n - 1)) : NAN;
    }
    qsort(r->ablations, (size_t)r->n_ablations, sizeof *r->ablations, by_effect);
    steps_cumulate(r);
}

/* ---------- the model ---------- */

int report_build(report *r, const json_t *campaign, const json_t *trials, im_error *err)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(campaign) || !json_is_array(trials))
        return im_error_set(err, IM_EFORMAT,
                            "the campaign document is not "
                            "{campaign: {...}, trials: [...]}");
    im_lattice lat;
    int lat_ok = im_lattice_init(&lat, 3, NULL) == 0;
    r->id = cli_int(campaign, "id", -1);
    r->budget = cli_int(campaign, "budget", -1);
    r->seeds_per_point = cli_int(campaign, "seeds_per_point", 1);
    r->name = dup_or_empty(campaign, "name");
    r->kind = dup_or_empty(campaign, "kind");
    r->status = dup_or_empty(campaign, "status");
    r->created_at = dup_or_empty(campaign, "created_at");
    r->started_at = dup_or_empty(campaign, "started_at");
    r->finished_at = dup_or_empty(campaign, "finished_at");
    json_t *spec = json_object_get(json_array_get(trials, 0), "spec");
    r->dataset = dup_or_empty(spec, "dataset");
    r->setup = dup_or_empty(spec, "setup");
    r->hidden = cli_int(spec, "hidden", -1);
    r->epochs = cli_int(spec, "epochs", -1);

    r->n_params = collect_names(trials, "gamma", 0, &r->param, &r->param_label, &lat, lat_ok);
    r->n_atoms = collect_names(trials, "atoms", 1, &r->atom, &r->atom_label, &lat, lat_ok);
    r->max_epoch = -1;
    r->n_trials = json_array_size(trials);
    r->trials = im_xcalloc(r->n_trials + 1, sizeof *r->trials);
    double paper[IM_MAX_TERMS];
    int paper_ok = lat_ok && im_gamma_preset("paper-optimized", 3, paper) == 0;
    for (size_t i = 0; i < r->n_trials; i++) {
        report_trial *t = &r->trials[i];
        trial_fill(r, t, json_array_get(trials, i));
        if (!t->paper && paper_ok) t->paper = is_paper(r, t, &lat, paper);
        if (t->status >= 0) r->count[t->status]++;
        if (!isnan(t->wall_s)) r->compute_s += t->wall_s;
        if (t->stage) r->has_stage = 1;
    }
    collect_workers(r, trials);
    rank_trials(r);
    importance(r);

    size_t na = (size_t)REPORT_LAYERS * (size_t)r->n_atoms;
    r->paper_atoms = im_xcalloc(na + 1, sizeof *r->paper_atoms);
    int *cnt = im_xcalloc(na + 1, sizeof *cnt);
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (!t->paper || !done(t)) continue;
        r->n_paper++;
        for (size_t a = 0; a < na; a++)
            if (!isnan(t->atoms[a])) r->paper_atoms[a] += t->atoms[a], cnt[a]++;
    }
    for (size_t a = 0; a < na; a++) r->paper_atoms[a] = cnt[a] ? r->paper_atoms[a] / cnt[a] : NAN;
    free(cnt);
    ablation(r, &lat, lat_ok);
    return 0;
}

static void free_names(char **v, int n)
{
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

void report_release(report *r)
{
    for (size_t i = 0; i < r->n_trials; i++) {
        report_trial *t = &r->trials[i];
        free(t->label), free(t->stage), free(t->worker);
        free(t->param), free(t->atoms), free(t->epoch_val);
    }
    free(r->trials);
    free(r->name), free(r->kind), free(r->status);
    free(r->created_at), free(r->started_at), free(r->finished_at);
    free(r->dataset), free(r->setup);
    free_names(r->param, r->n_params);
    free_names(r->param_label, r->n_params);
    free_names(r->atom, r->n_atoms);
    free_names(r->atom_label, r->n_atoms);
    free_names(r->workers, r->n_workers);
    free(r->ranked), free(r->eta2), free(r->imp), free(r->paper_atoms);
    for (int g = 0; r->steps && g < r->n_steps; g++) free(r->steps[g].label);
    free(r->ablations), free(r->steps);
    memset(r, 0, sizeof *r);
}
