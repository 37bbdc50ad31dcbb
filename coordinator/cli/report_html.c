/*
 * report_html.c: the report as one self-contained HTML page (report.h):
 * inline SVG plots drawn here, each beside a table of its numbers, no
 * script, nothing loaded from elsewhere (a Content-Security-Policy forbids
 * it). The page depends only on the model, never on the clock, so two
 * sources of the same campaign give the same bytes.
 *
 * Drawing: every plot is a `plot` (data ranges, pixel size, margins) with
 * linear axes, "nice" ticks (1, 2 or 5 times a power of ten) and labelled
 * units. Series use the Okabe-Ito colours, which colour-blind readers can
 * tell apart, each with its own marker, dash pattern and bar hatching, so
 * that a grey-scale print still reads. Every mark carries a class (pt,
 * bar, curve, pcline, band) by which the tests count them.
 *
 * Workload: a 10,000-trial campaign gives some 10^4 history markers and
 * 10^3 parallel-coordinate lines: a few MB written in one pass.
 */
#include "report.h"

#include <math.h>
#include <string.h>

#define N_STYLES   6
#define PLOT_MAX_W 1040 /* the page's width: wider plots would be scaled down, text and all */
static const char *const colour[N_STYLES] = {"#0072B2", "#D55E00", "#009E73",
                                             "#CC79A7", "#E69F00", "#000000"};
static const char *const dash[N_STYLES] = {"", "7 3", "2 2", "9 3 2 3", "4 4", "1 3"};

/* ---------- text ---------- */

/* s as HTML and XML text: markup characters escaped, control characters
 * (which XML 1.0 forbids) left out. */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n') fputc(*s, f);
        }
    }
}

/* A number for a table cell: digits decimals, "&#8211;" (en dash) when unknown. */
static void cell_num(FILE *f, double x, int digits)
{
    if (isnan(x))
        fputs("<td>&#8211;</td>", f);
    else
        fprintf(f, "<td>%.*f</td>", digits, x);
}

static double pct(double x)
{
    return 100 * x;
}

/* ---------- plots ---------- */

typedef struct plot {
    FILE *f;
    const char *id;
    double x0, x1, y0, y1; /* data ranges of the axes */
    int w, h;              /* pixels */
    int ml, mr, mt, mb;    /* margins */
} plot;

static double px(const plot *p, double x)
{
    return p->ml + (x - p->x0) / (p->x1 - p->x0) * (p->w - p->ml - p->mr);
}

static double py(const plot *p, double y)
{
    return p->h - p->mb - (y - p->y0) / (p->y1 - p->y0) * (p->h - p->mt - p->mb);
}

/* A tick step of 1, 2 or 5 times a power of ten for about n ticks over span. */
static double nice_step(double span, int n)
{
    double raw = span / n, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

/* Widen [*lo, *hi] to whole tick steps (and to a span if empty). */
static void nice_range(double *lo, double *hi, int n)
{
    if (!isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-9) *lo -= 0.5, *hi += 0.5;
    double s = nice_step(*hi - *lo, n);
    *lo = floor(*lo / s + 1e-9) * s;
    *hi = ceil(*hi / s - 1e-9) * s;
}

static void tick_label(char *buf, size_t n, double v, double step)
{
    int digits = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6) v = 0;
    snprintf(buf, n, "%.*f", digits, v);
}

/* The opening of a plot's SVG: title, frame, y ticks with grid lines and,
 * if xnumeric, x ticks; axis labels with units. */
static void plot_begin(plot *p, const char *title, const char *xlabel, const char *ylabel,
                       int xnumeric)
{
    FILE *f = p->f;
    char b[32];
    if (!(p->x1 > p->x0)) p->x1 = p->x0 + 1; /* never a zero span (a malformed document) */
    if (!(p->y1 > p->y0)) p->y1 = p->y0 + 1;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"%s-t\">\n<title id=\"%s-t\">",
            p->id, p->w, p->h, p->w, p->h, p->id, p->id);
    esc(f, title);
    fprintf(f, "</title>\n<g class=\"axes\">\n");
    double ys = nice_step(p->y1 - p->y0, 5);
    for (double y = ceil(p->y0 / ys - 1e-9) * ys; y <= p->y1 + ys * 1e-6; y += ys) {
        tick_label(b, sizeof b, y, ys);
        fprintf(f,
                "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                p->ml, p->w - p->mr, py(p, y), py(p, y), p->ml - 5, py(p, y) + 4, b);
    }
    if (xnumeric) {
        double xs = nice_step(p->x1 - p->x0, 8);
        if (xnumeric == 2 && xs < 1) xs = 1; /* integer axis */
        for (double x = ceil(p->x0 / xs - 1e-9) * xs; x <= p->x1 + xs * 1e-6; x += xs) {
            tick_label(b, sizeof b, x, xs);
            fprintf(f,
                    "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                    px(p, x), px(p, x), p->h - p->mb, p->h - p->mb + 5, px(p, x), p->h - p->mb + 18,
                    b);
        }
    }
    fprintf(f,
            "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n"
            "<text class=\"label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
            p->ml, p->mt, p->w - p->ml - p->mr, p->h - p->mt - p->mb, (p->ml + p->w - p->mr) / 2.0,
            p->h - 6);
    esc(f, xlabel);
    fprintf(f,
            "</text>\n<text class=\"label\" transform=\"translate(14 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            (p->mt + p->h - p->mb) / 2.0);
    esc(f, ylabel);
    fprintf(f, "</text>\n</g>\n");
}

static void plot_end(plot *p)
{
    fputs("</svg>\n", p->f);
}

/* Category labels under slots 0..n-1 of a bar plot (x range 0..n),
 * rotated when many. */
static void category_labels(plot *p, char **labels, int n)
{
    int rot = n > 6;
    for (int i = 0; i < n; i++) {
        double x = px(p, i + 0.5);
        if (rot)
            fprintf(p->f,
                    "<text class=\"cat\" transform=\"translate(%.1f %d) rotate(-45)\" "
                    "text-anchor=\"end\">",
                    x + 4, p->h - p->mb + 12);
        else
            fprintf(p->f, "<text class=\"cat\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x,
                    p->h - p->mb + 16);
        esc(p->f, labels[i]);
        fputs("</text>\n", p->f);
    }
}

/* Hatch patterns s of plot p: solid, diagonal, horizontal, cross, dots,
 * vertical, each on its colour, so bars differ in grey-scale too. */
static void hatch_defs(plot *p, int n)
{
    static const char *const marks[N_STYLES] = {
        "",
        "<path d=\"M0 8L8 0\" stroke=\"#fff\" stroke-width=\"2\"/>",
        "<path d=\"M0 4H8\" stroke=\"#fff\" stroke-width=\"2\"/>",
        "<path d=\"M0 8L8 0M0 0L8 8\" stroke=\"#fff\" stroke-width=\"1.5\"/>",
        "<circle cx=\"4\" cy=\"4\" r=\"1.6\" fill=\"#fff\"/>",
        "<path d=\"M4 0V8\" stroke=\"#fff\" stroke-width=\"2\"/>"};
    fputs("<defs>", p->f);
    for (int s = 0; s < n && s < N_STYLES; s++)
        fprintf(p->f,
                "<pattern id=\"%s-h%d\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
                "<rect width=\"8\" height=\"8\" fill=\"%s\"/>%s</pattern>",
                p->id, s, colour[s], marks[s]);
    fputs("</defs>\n", p->f);
}

/* Marker s at (x, y) pixels with class cls. */
static void marker(FILE *f, int s, double x, double y, const char *cls, const char *fill)
{
    switch (s % 5) {
    case 0:
        fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>", cls, x,
                y, fill);
        break;
    case 1:
        fprintf(f,
                "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" fill=\"%s\"/>",
                cls, x - 3.5, y - 3.5, fill);
        break;
    case 2:
        fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fl4 7h-8z\" fill=\"%s\"/>", cls, x, y - 4.5,
                fill);
        break;
    case 3:
        fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fl4 4.5l-4 4.5l-4 -4.5z\" fill=\"%s\"/>", cls,
                x, y - 4.5, fill);
        break;
    default:
        fprintf(f,
                "<path class=\"%s\" d=\"M%.1f %.1fl7 7m0 -7l-7 7\" stroke=\"%s\" "
                "stroke-width=\"2\" fill=\"none\"/>",
                cls, x - 3.5, y - 3.5, fill);
    }
}

/* A legend of n series in the right margin (LEGEND_W wide): marker (or
 * hatched swatch if bars), dash, name. */
#define LEGEND_W 200
static void legend(plot *p, char **names, int n, int bars)
{
    for (int s = 0; s < n; s++) {
        double x = p->w - p->mr + 16, y = p->mt + 12 + 18 * s;
        if (bars) {
            fprintf(p->f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"url(#%s-h%d)\" "
                    "stroke=\"#000\" stroke-width=\"0.5\"/>",
                    x, y - 8, p->id, s % N_STYLES);
        } else {
            fprintf(p->f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\" stroke-dasharray=\"%s\"/>",
                    x - 4, x + 18, y - 3, y - 3, colour[s % N_STYLES], dash[s % N_STYLES]);
            marker(p->f, s, x + 7, y - 3, "key", colour[s % N_STYLES]);
        }
        fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\">", x + 24, y + 1);
        esc(p->f, names[s]);
        fputs("</text>\n", p->f);
    }
}

/* Grouped bars: n_cat categories (labels), n_ser series (names); values
 * v[ser * n_cat + cat] (NAN: no bar); ylabel with its unit. */
static void grouped_bars(FILE *f, const char *id, const char *title, const char *xlabel,
                         const char *ylabel, char **labels, int n_cat, char **names, int n_ser,
                         const double *v)
{
    double lo = 0, hi = 0;
    for (int i = 0; i < n_cat * n_ser; i++)
        if (!isnan(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    nice_range(&lo, &hi, 5);
    int mr = n_ser > 1 ? LEGEND_W : 20;
    int w = 84 + mr + n_cat * (12 * n_ser + 14);
    w = w < 560 ? 560 : w > PLOT_MAX_W ? PLOT_MAX_W : w; /* thinner bars rather than tiny text */
    plot p = {f, id, 0, n_cat, lo, hi, w, 360, 64, mr, 16, n_cat > 6 ? 96 : 48};
    plot_begin(&p, title, xlabel, ylabel, 0);
    hatch_defs(&p, n_ser);
    double slot = (px(&p, 1) - px(&p, 0)), bw = slot * 0.8 / n_ser;
    for (int s = 0; s < n_ser; s++)
        for (int c = 0; c < n_cat; c++) {
            double x = v[s * n_cat + c];
            if (isnan(x)) continue;
            double y0 = py(&p, 0), y1 = py(&p, x);
            fprintf(f,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"url(#%s-h%d)\" stroke=\"#000\" stroke-width=\"0.5\"/>\n",
                    px(&p, c) + slot * 0.1 + s * bw, fmin(y0, y1), bw, fabs(y1 - y0), id,
                    s % N_STYLES);
        }
    fprintf(f, "<line class=\"zero\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n", p.ml,
            p.w - p.mr, py(&p, 0), py(&p, 0));
    category_labels(&p, labels, n_cat);
    if (n_ser > 1) legend(&p, names, n_ser, 1);
    plot_end(&p);
}

/* ---------- sections ---------- */

static void section(FILE *f, const char *id, const char *title)
{
    fprintf(f, "<section id=\"%s\">\n<h2>", id);
    esc(f, title);
    fputs("</h2>\n", f);
}

static void summary(FILE *f, const report *r)
{
    char b[64];
    section(f, "summary", "Summary");
    fputs("<table class=\"kv\">\n<tr><th scope=\"row\">campaign</th><td>", f);
    esc(f, r->name);
    fprintf(f, " (id %lld)</td></tr>\n<tr><th scope=\"row\">kind, status</th><td>", r->id);
    esc(f, r->kind);
    fputs(", ", f);
    esc(f, r->status);
    fputs("</td></tr>\n", f);
    if (*r->dataset) {
        fputs("<tr><th scope=\"row\">training</th><td>dataset ", f);
        esc(f, r->dataset);
        fputs(", setup ", f);
        esc(f, *r->setup ? r->setup : "-");
        fprintf(f, ", %lld hidden neurons, %lld epochs</td></tr>\n", r->hidden, r->epochs);
    }
    if (r->budget >= 0)
        fprintf(f, "<tr><th scope=\"row\">budget</th><td>%lld points &#215; %lld seeds</td></tr>\n",
                r->budget, r->seeds_per_point);
    fprintf(f, "<tr><th scope=\"row\">trials</th><td>%zu", r->n_trials);
    for (int s = 0; s < REPORT_N_STATUSES; s++)
        fprintf(f, "; %s %lld", report_statuses[s], r->count[s]);
    fprintf(f,
            "</td></tr>\n<tr><th scope=\"row\">compute</th><td>%s of training (%.0f s)</td></tr>\n",
            cli_fmt_duration(b, sizeof b, r->compute_s), r->compute_s);
    fprintf(f, "<tr><th scope=\"row\">workers</th><td>%d", r->n_workers);
    for (int w = 0; w < r->n_workers; w++) {
        fputs(w ? ", " : ": ", f);
        esc(f, r->workers[w]);
    }
    fputs("</td></tr>\n<tr><th scope=\"row\">time span</th><td>created ", f);
    esc(f, *r->created_at ? r->created_at : "-");
    fputs(", started ", f);
    esc(f, *r->started_at ? r->started_at : "-");
    fputs(", finished ", f);
    esc(f, *r->finished_at ? r->finished_at : "-");
    fputs("</td></tr>\n</table>\n</section>\n", f);
}

/* Validation accuracy of every trial in number order, the running best;
 * pruned and failed trials marked. */
static void history(FILE *f, const report *r)
{
    section(f, "history", "Optimisation history");
    if (!r->n_trials) {
        fputs("<p>No trials yet.</p>\n</section>\n", f);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->n_trials; i++)
        if (!isnan(r->trials[i].val))
            lo = fmin(lo, pct(r->trials[i].val)), hi = fmax(hi, pct(r->trials[i].val));
    nice_range(&lo, &hi, 5);
    double xmax = (double)r->trials[r->n_trials - 1].number;
    plot p = {f, "plot-history", -0.5, xmax + 0.5, lo, hi, 960, 380, 64, LEGEND_W, 16, 48};
    plot_begin(&p, "Optimisation history: validation accuracy of every trial", "trial number",
               "validation accuracy (%)", 2);
    double radius = r->n_trials > 2000 ? 1.5 : r->n_trials > 300 ? 2.2 : 3, best = NAN;
    int started = 0;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        double x = px(&p, (double)t->number);
        if (t->status == REPORT_DONE && !isnan(t->val))
            fprintf(f, "<circle class=\"pt done\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>\n", x,
                    py(&p, pct(t->val)), radius);
        else if (t->status == REPORT_PRUNED) /* pruned: at its last accuracy, else on the floor */
            marker(f, 2, x, isnan(t->val) ? py(&p, lo) - 5 : py(&p, pct(t->val)), "pt pruned",
                   "#E69F00");
        else if (t->status == REPORT_FAILED)
            marker(f, 4, x, py(&p, lo) - 5, "pt failed", "#000000");
    }
    /* running best as a step line */
    fputs("<path class=\"curve best\" fill=\"none\" stroke=\"#D55E00\" stroke-width=\"2\" d=\"", f);
    best = NAN;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (t->status != REPORT_DONE || isnan(t->val)) continue;
        if (!isnan(best) && t->val <= best) continue;
        double x = px(&p, (double)t->number);
        best = t->val;
        if (started)
            fprintf(f, "H%.1fV%.1f", x, py(&p, pct(best)));
        else
            fprintf(f, "M%.1f %.1f", x, py(&p, pct(best)));
        started = 1;
    }
    if (started) fprintf(f, "H%.1f", px(&p, xmax + 0.5));
    fputs("\"/>\n", f);
    char *names[] = {"done trial", "running best", "pruned", "failed (no accuracy)"};
    double lx = p.w - p.mr + 22, ly = p.mt + 10;
    fprintf(f,
            "<g class=\"legend\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"key\" "
            "fill=\"#0072B2\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>"
            "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#D55E00\" "
            "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>",
            lx, ly, lx + 12, ly + 4, names[0], lx - 6, lx + 6, ly + 16, ly + 16, lx + 12, ly + 20,
            names[1]);
    marker(f, 2, lx, ly + 32, "key", "#E69F00");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", lx + 12, ly + 36, names[2]);
    marker(f, 4, lx, ly + 48, "key", "#000000");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", lx + 12, ly + 52, names[3]);
    plot_end(&p);
    fputs("<details><summary>The numbers: every trial</summary>\n<table>\n<thead><tr><th "
          "scope=\"col\">trial</th><th scope=\"col\">status</th><th scope=\"col\">validation "
          "accuracy (%)</th><th scope=\"col\">running best (%)</th></tr></thead>\n<tbody>\n",
          f);
    best = NAN;
    for (size_t i = 0; i < r->n_trials; i++) {
        const report_trial *t = &r->trials[i];
        if (t->status == REPORT_DONE && !isnan(t->val) && (isnan(best) || t->val > best))
            best = t->val;
        fprintf(f, "<tr><td>%lld</td><td>%s</td>", t->number,
                t->status >= 0 ? report_statuses[t->status] : "?");
        cell_num(f, pct(t->val), 2);
        cell_num(f, pct(best), 2);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></details>\n</section>\n", f);
}

/* Up to REPORT_TOP best trials (as indices into trials) that pass keep
 * (called with arg), best first. */
static int top_trials(const report *r, size_t *out, int (*keep)(const report *, size_t, int),
                      int arg)
{
    int n = 0;
    for (size_t i = 0; i < r->n_ranked && n < REPORT_TOP; i++)
        if (!keep || keep(r, r->ranked[i], arg)) out[n++] = r->ranked[i];
    return n;
}

static void trial_name(char *buf, size_t n, const report *r, size_t i, int rank)
{
    snprintf(buf, n, "#%d: trial %lld (%.2f %%)", rank, r->trials[i].number, pct(r->trials[i].val));
}

static void table_head(FILE *f, const char *first, char **cols, int n)
{
    fprintf(f, "<table>\n<thead><tr><th scope=\"col\">%s</th>", first);
    for (int i = 0; i < n; i++) {
        fputs("<th scope=\"col\">", f);
        esc(f, cols[i]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
}

/* The gammas of the top trials as grouped bars, and parallel coordinates
 * of the gammas of the top 10 %. */
static void best_goals(FILE *f, const report *r)
{
    section(f, "goals", "The best goals");
    if (!r->n_ranked || !r->n_params) {
        fputs(r->n_params ? "<p>No finished trials yet.</p>\n</section>\n"
                          : "<p>The trials record no goal parameters.</p>\n</section>\n",
              f);
        return;
    }
    size_t top[REPORT_TOP];
    int n = top_trials(r, top, NULL, 0);
    char names[REPORT_TOP][64], *np[REPORT_TOP];
    double *v = im_xmalloc_array((size_t)n * (size_t)r->n_params, sizeof *v);
    for (int s = 0; s < n; s++) {
        trial_name(names[s], sizeof names[s], r, top[s], s + 1);
        np[s] = names[s];
        for (int c = 0; c < r->n_params; c++) v[s * r->n_params + c] = r->trials[top[s]].param[c];
    }
    fprintf(f, "<p>The goal parameters &#947; of the %d best trials, by PID atom.</p>\n", n);
    grouped_bars(f, "plot-goals", "Gamma of the best trials", "goal component (PID atom)",
                 "gamma (dimensionless)", r->param_label, r->n_params, np, n, v);
    table_head(f, "component", np, n);
    for (int c = 0; c < r->n_params; c++) {
        fputs("<tr><th scope=\"row\">", f);
        esc(f, r->param_label[c]);
        fputs("</th>", f);
        for (int s = 0; s < n; s++) cell_num(f, v[s * r->n_params + c], 3);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    free(v);

    /* parallel coordinates */
    size_t m = (r->n_ranked + 9) / 10;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < m; i++)
        for (int c = 0; c < r->n_params; c++) {
            double x = r->trials[r->ranked[i]].param[c];
            if (!isnan(x)) lo = fmin(lo, x), hi = fmax(hi, x);
        }
    nice_range(&lo, &hi, 5);
    int w = 120 + 56 * r->n_params;
    plot p = {f,  "plot-parallel",          0, r->n_params, lo, hi, w < 560 ? 560 : w, 380, 64, 20,
              16, r->n_params > 6 ? 96 : 48};
    fprintf(f,
            "<p>Parallel coordinates of the best 10 %% (%zu of %zu finished trials), the "
            "best in black, the others lighter the lower they rank.</p>\n",
            m, r->n_ranked);
    plot_begin(&p, "Parallel coordinates of the gamma of the best 10 % of trials",
               "goal component (PID atom)", "gamma (dimensionless)", 0);
    for (int c = 0; c < r->n_params; c++)
        fprintf(f, "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>\n",
                px(&p, c + 0.5), px(&p, c + 0.5), p.mt, p.h - p.mb);
    for (size_t i = m; i-- > 0;) {
        const report_trial *t = &r->trials[r->ranked[i]];
        /* fainter when many lines overlap */
        double base = m > 100 ? 0.04 : m > 20 ? 0.12 : 0.25;
        double op = i == 0 ? 1 : base + 2 * base * (double)(m - i) / (double)m;
        fprintf(f,
                "<polyline class=\"pcline\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
                "stroke-opacity=\"%.2f\" points=\"",
                i == 0 ? "#000000" : "#0072B2", i == 0 ? "2.5" : "1", op);
        for (int c = 0; c < r->n_params; c++)
            if (!isnan(t->param[c]))
                fprintf(f, "%s%.1f,%.1f", c ? " " : "", px(&p, c + 0.5), py(&p, t->param[c]));
        fputs("\"/>\n", f);
    }
    category_labels(&p, r->param_label, r->n_params);
    plot_end(&p);
    fputs("<details><summary>The numbers: the best 10 %</summary>\n", f);
    table_head(f, "rank (trial, validation accuracy %)", r->param_label, r->n_params);
    for (size_t i = 0; i < m; i++) {
        const report_trial *t = &r->trials[r->ranked[i]];
        fprintf(f, "<tr><th scope=\"row\">%zu (%lld, %.2f)</th>", i + 1, t->number, pct(t->val));
        for (int c = 0; c < r->n_params; c++) cell_num(f, t->param[c], 3);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></details>\n</section>\n", f);
}

static void importance(FILE *f, const report *r)
{
    if (!strcmp(r->kind, "ablation")) return; /* its points differ by one zero: see the stages */
    section(f, "importance", "Parameter importance");
    if (!r->imp_n) {
        fprintf(f, "<p>Needs at least %d finished trials.</p>\n</section>\n", REPORT_IMP_MIN);
        return;
    }
    double chance = (double)(r->imp_bins - 1) / (double)(r->imp_n - 1);
    fprintf(f,
            "<p>Method: the correlation ratio &#951;&#178; of the validation accuracy on each "
            "parameter alone. The %zu finished trials are sorted by the parameter and cut into "
            "%d bins of equal count; &#951;&#178; is the share of the variance of the accuracy "
            "explained by the bins' mean accuracies (a first-order, fANOVA-like main effect that "
            "ignores interactions). Bars show each parameter's share of the summed &#951;&#178;. "
            "Noise alone gives &#951;&#178; of about %.3f.</p>\n",
            r->imp_n, r->imp_bins, chance);
    double *v = im_xmalloc_array((size_t)r->n_params + 1, sizeof *v);
    for (int c = 0; c < r->n_params; c++) v[c] = r->imp[c];
    char *name[] = {"share of explained variance"};
    grouped_bars(f, "plot-importance", "Parameter importance (share of eta squared)",
                 "parameter (PID atom)", "importance (share, 0-1)", r->param_label, r->n_params,
                 name, 1, v);
    free(v);
    char *cols[] = {"short name", "eta squared", "share"};
    table_head(f, "parameter", cols, 3);
    for (int c = 0; c < r->n_params; c++) {
        fputs("<tr><th scope=\"row\">", f);
        esc(f, r->param_label[c]);
        fputs("</th><td>", f);
        esc(f, r->param[c]);
        fputs("</td>", f);
        cell_num(f, r->eta2[c], 4);
        cell_num(f, r->imp[c], 4);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static int has_curve(const report *r, size_t i, int unused)
{
    (void)unused;
    return r->trials[i].n_epochs > 0;
}

static void curves(FILE *f, const report *r)
{
    size_t top[REPORT_TOP];
    int n = top_trials(r, top, has_curve, 0);
    if (!n) return;
    section(f, "curves", "Learning curves of the best trials");
    double lo = INFINITY, hi = -INFINITY;
    int emax = 0;
    for (int s = 0; s < n; s++) {
        const report_trial *t = &r->trials[top[s]];
        for (int e = 0; e < t->n_epochs; e++)
            if (!isnan(t->epoch_val[e]))
                lo = fmin(lo, pct(t->epoch_val[e])), hi = fmax(hi, pct(t->epoch_val[e]));
        if (t->n_epochs - 1 > emax) emax = t->n_epochs - 1;
    }
    nice_range(&lo, &hi, 5);
    plot p = {f, "plot-curves", -0.2, emax + 0.2, lo, hi, 760, 380, 64, LEGEND_W, 16, 48};
    plot_begin(&p, "Learning curves: validation accuracy per epoch", "epoch (0 = untrained)",
               "validation accuracy (%)", 2);
    char names[REPORT_TOP][64], *np[REPORT_TOP];
    for (int s = 0; s < n; s++) {
        const report_trial *t = &r->trials[top[s]];
        trial_name(names[s], sizeof names[s], r, top[s], s + 1);
        np[s] = names[s];
        fprintf(f,
                "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-dasharray=\"%s\" points=\"",
                colour[s], dash[s]);
        int first = 1;
        for (int e = 0; e < t->n_epochs; e++)
            if (!isnan(t->epoch_val[e])) {
                fprintf(f, "%s%.1f,%.1f", first ? "" : " ", px(&p, e),
                        py(&p, pct(t->epoch_val[e])));
                first = 0;
            }
        fputs("\"/>\n", f);
        for (int e = 0; e < t->n_epochs; e++)
            if (!isnan(t->epoch_val[e]))
                marker(f, s, px(&p, e), py(&p, pct(t->epoch_val[e])), "pt", colour[s]);
        fputc('\n', f);
    }
    legend(&p, np, n, 0);
    plot_end(&p);
    table_head(f, "epoch", np, n);
    for (int e = 0; e <= emax; e++) {
        fprintf(f, "<tr><th scope=\"row\">%d</th>", e);
        for (int s = 0; s < n; s++) {
            const report_trial *t = &r->trials[top[s]];
            cell_num(f, e < t->n_epochs ? pct(t->epoch_val[e]) : NAN, 2);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

/* Whether trial i has any atom of layer l. */
static int has_atoms(const report *r, size_t i, int l)
{
    const double *a = r->trials[i].atoms + l * r->n_atoms;
    for (int k = 0; k < r->n_atoms; k++)
        if (!isnan(a[k])) return 1;
    return 0;
}

/* One layer's atoms of the n best trials top[] (and the paper-optimized mean):
 * bars without H_res, then the table of every atom the layer has. */
static void atoms_layer(FILE *f, const report *r, int l, const size_t *top, int n)
{
    int ns = n + (r->n_paper > 0);
    char names[REPORT_TOP + 1][64], *np[REPORT_TOP + 1];
    double *v = im_xmalloc_array((size_t)ns * (size_t)r->n_atoms, sizeof *v);
    for (int s = 0; s < n; s++) {
        trial_name(names[s], sizeof names[s], r, top[s], s + 1);
        np[s] = names[s];
        memcpy(v + s * r->n_atoms, r->trials[top[s]].atoms + l * r->n_atoms,
               (size_t)r->n_atoms * sizeof *v);
    }
    if (r->n_paper) {
        snprintf(names[n], sizeof names[n], "paper-optimized (n=%d)", r->n_paper);
        np[n] = names[n];
        memcpy(v + n * r->n_atoms, r->paper_atoms + l * r->n_atoms, (size_t)r->n_atoms * sizeof *v);
    }
    /* the atoms this layer has; the bars leave out H_res, which dwarfs the rest */
    int na = r->n_atoms, nk = 0, nb = 0;
    int *keep = im_xmalloc_array((size_t)na, sizeof *keep);
    char **bar_label = im_xmalloc_array((size_t)na, sizeof *bar_label);
    double *bars = im_xmalloc_array((size_t)ns * (size_t)na, sizeof *bars);
    double hres = NAN;
    for (int a = 0; a < na; a++) {
        int any = 0;
        for (int s = 0; s < ns; s++) any |= !isnan(v[s * na + a]);
        if (any) keep[nk++] = a;
        if (!any) continue;
        if (!strcmp(r->atom[a], "h_res")) {
            hres = v[a];
            continue;
        }
        bar_label[nb] = r->atom_label[a];
        for (int s = 0; s < ns; s++) bars[s * na + nb] = v[s * na + a];
        nb++;
    }
    /* grouped_bars reads bars[s * nb + c]: pack the rows */
    for (int s = 1; s < ns; s++) memmove(bars + s * nb, bars + s * na, (size_t)nb * sizeof *bars);
    char id[32], title[96];
    snprintf(id, sizeof id, "plot-atoms-%s", report_layers[l]);
    snprintf(title, sizeof title, "PID atoms of the %s layer", report_layers[l]);
    fprintf(f, "<h3>%s layer</h3>\n", report_layers[l]);
    if (!isnan(hres))
        fprintf(f,
                "<p>H_res, the output entropy the sources leave unexplained (%.3f bits for "
                "the best trial), is left out of the bars; the table has it.</p>\n",
                hres);
    if (nb) grouped_bars(f, id, title, "PID atom", "mean atom (bits)", bar_label, nb, np, ns, bars);
    table_head(f, "atom", np, ns);
    for (int k = 0; k < nk; k++) {
        int a = keep[k];
        fputs("<tr><th scope=\"row\">", f);
        esc(f, r->atom_label[a]);
        fputs("</th>", f);
        for (int s = 0; s < ns; s++) cell_num(f, v[s * na + a], 4);
        fputs("</tr>\n", f);
    }
    free(keep), free(bar_label), free(bars);
    fputs("</tbody></table>\n", f);
    free(v);
}

/* The mean PID atoms of the best trials' networks per layer, beside the
 * paper-optimized goal's when the campaign ran it. */
static void atoms(FILE *f, const report *r)
{
    if (!r->n_atoms) return;
    int opened = 0;
    for (int l = 0; l < REPORT_LAYERS; l++) {
        size_t top[REPORT_TOP];
        int n = top_trials(r, top, has_atoms, l);
        if (!n) continue;
        if (!opened) {
            section(f, "atoms", "PID atoms of the trained networks");
            fputs("<p>The PID atoms (bits, mean over the layer's neurons) of the best trials' "
                  "trained networks",
                  f);
            if (r->n_paper)
                fprintf(f, ", beside the mean over the campaign's %d paper-optimized trial%s",
                        r->n_paper, r->n_paper == 1 ? "" : "s");
            fputs(".</p>\n", f);
            opened = 1;
        }
        atoms_layer(f, r, l, top, n);
    }
    if (opened) fputs("</section>\n", f);
}

/* Stage 1's plot: the mean change per ablated component as a bar, with
 * +-sd whiskers over the seeds. */
static void ablation_stage1_plot(FILE *f, const report *r, char **labels)
{
    int n = r->n_ablations;
    double lo = 0, hi = 0;
    for (int g = 0; g < n; g++) {
        const report_ablation *a = &r->ablations[g];
        double sd = isnan(a->sd) ? 0 : a->sd;
        lo = fmin(lo, pct(a->mean - sd)), hi = fmax(hi, pct(a->mean + sd));
    }
    nice_range(&lo, &hi, 5);
    int w = 120 + 40 * n;
    plot p = {f,  "plot-ablation", 0, n, lo, hi, w < 560 ? 560 : w, 360, 64, 20,
              16, n > 6 ? 96 : 48};
    plot_begin(&p, "Ablation stage 1: change of accuracy per ablated component",
               "ablated component (PID atom)", "change of validation accuracy (points of %)", 0);
    hatch_defs(&p, 1);
    double slot = px(&p, 1) - px(&p, 0);
    for (int g = 0; g < n; g++) {
        const report_ablation *a = &r->ablations[g];
        double y0 = py(&p, 0), y1 = py(&p, pct(a->mean)), xc = px(&p, g + 0.5);
        fprintf(f,
                "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"url(#plot-ablation-h0)\" stroke=\"#000\" stroke-width=\"0.5\"/>",
                xc - slot * 0.35, fmin(y0, y1), slot * 0.7, fabs(y1 - y0));
        if (!isnan(a->sd))
            fprintf(f,
                    "<path class=\"whisker\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh8M%.1f %.1fh8\" "
                    "stroke=\"#000\" stroke-width=\"1.2\"/>",
                    xc, py(&p, pct(a->mean - a->sd)), py(&p, pct(a->mean + a->sd)), xc - 4,
                    py(&p, pct(a->mean - a->sd)), xc - 4, py(&p, pct(a->mean + a->sd)));
        fputc('\n', f);
    }
    fprintf(f, "<line class=\"zero\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n", p.ml,
            p.w - p.mr, py(&p, 0), py(&p, 0));
    category_labels(&p, labels, n);
    plot_end(&p);
}

/* Stage 1's table: one row per ablated component. */
static void ablation_stage1_table(FILE *f, const report *r, char **labels)
{
    int n = r->n_ablations;
    char *cols[] = {"short name", "mean change (points of %)", "sd", "min", "max", "n"};
    table_head(f, "ablated component", cols, 6);
    for (int g = 0; g < n; g++) {
        const report_ablation *a = &r->ablations[g];
        fputs("<tr><th scope=\"row\">", f);
        esc(f, labels[g]);
        fputs("</th><td>", f);
        esc(f, a->label);
        fputs("</td>", f);
        cell_num(f, pct(a->mean), 2);
        cell_num(f, pct(a->sd), 2);
        cell_num(f, pct(a->min), 2);
        cell_num(f, pct(a->max), 2);
        fprintf(f, "<td>%d</td></tr>\n", a->n);
    }
    fputs("</tbody></table>\n", f);
}

/* Stage 2's plot: the mean accuracy as components are removed cumulatively,
 * in a min-max band. */
static void ablation_stage2_plot(FILE *f, const report *r)
{
    /* step 0 is the base */
    double lo = INFINITY, hi = -INFINITY;
    int kmax = 0;
    for (int s = 0; s < r->n_steps; s++) {
        lo = fmin(lo, pct(r->steps[s].min)), hi = fmax(hi, pct(r->steps[s].max));
        if (r->steps[s].removed > kmax) kmax = r->steps[s].removed;
    }
    lo = fmin(lo, pct(r->base_mean)), hi = fmax(hi, pct(r->base_mean));
    nice_range(&lo, &hi, 5);
    plot p = {f, "plot-successive", -0.3, kmax + 0.3, lo, hi, 700, 360, 64, 20, 16, 48};
    fputs("<p>Stage 2 removes the components one after another, the least harmful first; "
          "the line is the mean validation accuracy, the band spans the minimum and "
          "maximum over the seeds.</p>\n",
          f);
    plot_begin(&p, "Ablation stage 2: accuracy as components are removed cumulatively",
               "components removed", "validation accuracy (%)", 2);
    fputs("<path class=\"band\" fill=\"#56B4E9\" fill-opacity=\"0.35\" d=\"", f);
    for (int s = 0; s < r->n_steps; s++)
        fprintf(f, "%s%.1f %.1f", s ? "L" : "M", px(&p, r->steps[s].removed),
                py(&p, pct(r->steps[s].max)));
    for (int s = r->n_steps; s-- > 0;)
        fprintf(f, "L%.1f %.1f", px(&p, r->steps[s].removed), py(&p, pct(r->steps[s].min)));
    fputs("Z\"/>\n<polyline class=\"curve\" fill=\"none\" stroke=\"#0072B2\" "
          "stroke-width=\"2\" points=\"",
          f);
    fprintf(f, "%.1f,%.1f", px(&p, 0), py(&p, pct(r->base_mean)));
    for (int s = 0; s < r->n_steps; s++)
        fprintf(f, " %.1f,%.1f", px(&p, r->steps[s].removed), py(&p, pct(r->steps[s].mean)));
    fputs("\"/>\n", f);
    marker(f, 1, px(&p, 0), py(&p, pct(r->base_mean)), "pt base", "#000000");
    for (int s = 0; s < r->n_steps; s++)
        marker(f, 0, px(&p, r->steps[s].removed), py(&p, pct(r->steps[s].mean)), "pt", "#0072B2");
    plot_end(&p);
}

/* Stage 2's table: the base, then one row per step. */
static void ablation_stage2_table(FILE *f, const report *r)
{
    char *cols[] = {"which (short names)", "mean (%)", "min (%)", "max (%)", "n"};
    table_head(f, "components removed", cols, 5);
    fprintf(f, "<tr><th scope=\"row\">0</th><td>base</td>");
    cell_num(f, pct(r->base_mean), 2);
    fprintf(f, "<td>&#8211;</td><td>&#8211;</td><td>%d</td></tr>\n", r->base_n);
    for (int s = 0; s < r->n_steps; s++) {
        const report_step *st = &r->steps[s];
        fprintf(f, "<tr><th scope=\"row\">%d</th><td>", st->removed);
        esc(f, st->label);
        fputs("</td>", f);
        cell_num(f, pct(st->mean), 2);
        cell_num(f, pct(st->min), 2);
        cell_num(f, pct(st->max), 2);
        fprintf(f, "<td>%d</td></tr>\n", st->n);
    }
    fputs("</tbody></table>\n", f);
}

/* Stage 1 as bars with +-sd whiskers; stage 2 as a curve with a min-max band. */
static void ablation(FILE *f, const report *r)
{
    if (strcmp(r->kind, "ablation")) return;
    section(f, "ablation", "Ablation");
    if (!r->base_n) {
        fputs("<p>No finished base trials yet.</p>\n</section>\n", f);
        return;
    }
    fprintf(f,
            "<p>Base: validation accuracy %.2f %% (mean of %d trial%s). Stage 1 sets one goal "
            "component to zero at a time; bars show the mean change of validation accuracy "
            "against the base, whiskers one standard deviation over the seeds.</p>\n",
            pct(r->base_mean), r->base_n, r->base_n == 1 ? "" : "s");
    int n = r->n_ablations;
    if (n) {
        char **labels = im_xmalloc_array((size_t)n, sizeof *labels);
        for (int g = 0; g < n; g++) labels[g] = (char *)r->ablations[g].braced;
        ablation_stage1_plot(f, r, labels);
        ablation_stage1_table(f, r, labels);
        free(labels);
    }
    if (r->n_steps) {
        ablation_stage2_plot(f, r);
        ablation_stage2_table(f, r);
    }
    fputs("</section>\n", f);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#111;max-width:1100px;margin:1em auto;"
    "padding:0 1em}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:2em}\n"
    "svg{display:block;margin:.6em 0;max-width:100%;height:auto}\n"
    "svg text{font:12px system-ui,sans-serif;fill:#111}svg .label{font-size:13px}\n"
    "svg .grid{stroke:#ddd}svg .tick{stroke:#999}svg .frame{fill:none;stroke:#444}\n"
    "svg .zero{stroke:#000;stroke-width:1}svg .pt.done{fill:#0072B2;fill-opacity:.75}\n"
    "table{border-collapse:collapse;margin:.5em 0;font-size:13px}\n"
    "th,td{border:1px solid #bbb;padding:2px 8px;text-align:right}\n"
    "table.kv th,table.kv td{text-align:left}thead th{background:#eee}\n"
    "details{margin:.5em 0}summary{cursor:pointer}\n"
    "@media print{details{display:block}}\n";

int report_html(FILE *f, const report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    esc(f, r->name);
    fprintf(f, ": infomorph report</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    esc(f, r->name);
    fputs("<small> &#8212; infomorph report</small></h1>\n", f);
    summary(f, r);
    history(f, r);
    best_goals(f, r);
    importance(f, r);
    curves(f, r);
    atoms(f, r);
    ablation(f, r);
    fputs("</body>\n</html>\n", f);
    return ferror(f) ? IM_EIO : 0;
}
