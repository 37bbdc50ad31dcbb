/*
 * bench_tpe: the TPE estimator's latency and quality, one thread.
 *
 * Latency: milliseconds per proposal (thread CPU time, mean over the
 * repetitions) with 100, 1,000 and 5,000 finished points in 18 dimensions
 * ([-1, 1] each, uniform history valued by the shifted sphere below), with
 * the default options and with the paper's (100 start-up points, 100
 * candidates).
 *
 * Quality: minimising on [-1, 1]^18, 200 sequential trials, seeds 0..S-1
 * (S = 10 by default, the figure Optuna's are compared with), the median and
 * the quartiles over seeds of the best value found, for multivariate TPE,
 * univariate TPE and random search (uniform draws of the same generator).
 * The shift: s_i = 0.6 (2 frac(0.5 + (i + 1) phi + k (sqrt 2 - 1)) - 1),
 * phi the golden ratio's fractional part, k = 0 for the sphere and 1 for
 * Rosenbrock. Sphere: f = sum (x_i - s_i)^2. Rosenbrock: z_i = 1 + 2.048
 * (x_i - s_i), f = sum over i = 0..16 of 100 (z_{i+1} - z_i^2)^2 +
 * (1 - z_i)^2. Optuna 3.1's medians over 10 seeds on the same problems are
 * printed beside (the multivariate ones are those of TPESampler(seed=s,
 * multivariate=True, constant_liar=True) with x0..x17 suggested in order),
 * and its multivariate medians over 30 seeds below the table.
 *
 * Prints tables; never fails on a threshold.
 *
 * usage: bench_tpe [--seeds S] [--reps R] [--no-latency]
 *   S seeds for the quality table (default 10), R repetitions at 1,000
 *   points for the latency table (default 50); a bare number is R.
 */
#include "rng.h"
#include "tpe.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DIM = 18, TRIALS = 200, MAX_SEEDS = 1000 };

static const double PHI = 0.6180339887498949;

/* CPU time of this thread: the figure does not depend on other load */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void shift(double *s, int k)
{
    for (int i = 0; i < DIM; i++) {
        double a = 0.5 + (i + 1) * PHI + k * (sqrt(2.0) - 1.0);
        s[i] = 0.6 * (2.0 * (a - floor(a)) - 1.0);
    }
}

static double sphere(const double *x)
{
    static double s[DIM];
    static int ready;
    if (!ready) shift(s, 0), ready = 1;
    double f = 0;
    for (int i = 0; i < DIM; i++) f += (x[i] - s[i]) * (x[i] - s[i]);
    return f;
}

static double rosenbrock(const double *x)
{
    static double s[DIM];
    static int ready;
    if (!ready) shift(s, 1), ready = 1;
    double z[DIM], f = 0;
    for (int i = 0; i < DIM; i++) z[i] = 1.0 + 2.048 * (x[i] - s[i]);
    for (int i = 0; i + 1 < DIM; i++)
        f += 100.0 * (z[i + 1] - z[i] * z[i]) * (z[i + 1] - z[i] * z[i]) +
             (1.0 - z[i]) * (1.0 - z[i]);
    return f;
}

static tpe_param params[DIM];
static const tpe_space space = {.n_params = DIM, .params = params};

static void make_space(void)
{
    for (int i = 0; i < DIM; i++)
        params[i] = (tpe_param){.type = TPE_FLOAT, .low = -1.0, .high = 1.0};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ms per proposal with n finished points */
static double latency(int n, int reps, const tpe_options *opt)
{
    double *xs = malloc((size_t)n * DIM * sizeof *xs);
    tpe_obs *hist = malloc((size_t)n * sizeof *hist);
    im_rng r;
    im_rng_seed(&r, 42, (uint64_t)n);
    for (int t = 0; t < n; t++) {
        double *x = xs + (size_t)t * DIM;
        for (int i = 0; i < DIM; i++) x[i] = im_rng_range(&r, -1.0, 1.0);
        hist[t] = (tpe_obs){.x = x, .value = sphere(x), .state = TPE_COMPLETE};
    }
    double out[DIM], t0 = now_ms();
    for (int k = 0; k < reps; k++) {
        im_error err = {0};
        if (tpe_suggest(&space, opt, hist, n, NULL, 0, (uint64_t)k, out, &err)) {
            fprintf(stderr, "bench_tpe: %s\n", err.msg);
            exit(1);
        }
    }
    double ms = (now_ms() - t0) / reps;
    free(hist);
    free(xs);
    return ms;
}

/* best value of one run of TRIALS sequential proposals */
static double run_once(const tpe_options *opt, double (*f)(const double *))
{
    static double xs[TRIALS * DIM];
    static tpe_obs hist[TRIALS];
    double best = INFINITY;
    for (int t = 0; t < TRIALS; t++) {
        double *x = xs + (size_t)t * DIM;
        im_error err = {0};
        if (tpe_suggest(&space, opt, hist, t, NULL, 0, (uint64_t)t, x, &err)) {
            fprintf(stderr, "bench_tpe: %s\n", err.msg);
            exit(1);
        }
        hist[t] = (tpe_obs){.x = x, .value = f(x), .state = TPE_COMPLETE};
        if (hist[t].value < best) best = hist[t].value;
    }
    return best;
}

/* The p-quantile of sorted v[n], interpolated linearly between ranks
 * (numpy's default): the median of 10 values is the mean of the 5th and 6th. */
static double quantile(const double *v, int n, double p)
{
    double pos = p * (n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

/* Best values of seeds 0..n_seeds-1, sorted, into best[n_seeds]. */
static void best_over_seeds(const tpe_options *base, double (*f)(const double *), int n_seeds,
                            double *best)
{
    for (int s = 0; s < n_seeds; s++) {
        tpe_options o = *base;
        o.seed = (uint64_t)s;
        best[s] = run_once(&o, f);
    }
    qsort(best, (size_t)n_seeds, sizeof *best, cmp_double);
}

static void quality_row(const char *fn, const char *name, const tpe_options *o,
                        double (*f)(const double *), int n_seeds, const char *optuna)
{
    static double best[MAX_SEEDS];
    best_over_seeds(o, f, n_seeds, best);
    int prec = f == sphere ? 3 : 1;
    printf("  %-11s %-15s %10.*f %10.*f %10.*f %10.*f %10.*f %9s\n", fn, name, prec,
           quantile(best, n_seeds, 0.5), prec, quantile(best, n_seeds, 0.25), prec,
           quantile(best, n_seeds, 0.75), prec, best[0], prec, best[n_seeds - 1], optuna);
    fflush(stdout);
}

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: bench_tpe [--seeds S] [--reps R] [--no-latency]\n\n"
                "Milliseconds per TPE proposal with 100, 1,000 and 5,000 finished points\n"
                "(R proposals at 1,000, default 50), then the best values found in 200\n"
                "trials on the shifted sphere and Rosenbrock functions over seeds\n"
                "0..S-1 (default 10, at most 1000) beside Optuna 3.1's figures.\n"
                "A bare number is R.\n");
    return code;
}

int main(int argc, char **argv)
{
    int reps = 50, n_seeds = 10, do_latency = 1;
    for (int a = 1; a < argc; a++) {
        const char *v = argv[a];
        if (!strcmp(v, "--help") || !strcmp(v, "-h")) return usage(stdout, 0);
        if (!strcmp(v, "--no-latency")) {
            do_latency = 0;
            continue;
        }
        int *into = &reps;
        if (!strcmp(v, "--seeds") || !strcmp(v, "--reps")) {
            if (a + 1 == argc) return usage(stderr, 2);
            into = v[2] == 's' ? &n_seeds : &reps;
            v = argv[++a];
        }
        char *end;
        long n = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n < 1 || n > (into == &n_seeds ? MAX_SEEDS : INT_MAX))
            return usage(stderr, 2);
        *into = (int)n;
    }
    make_space();

    tpe_options def, paper;
    tpe_options_default(&def);
    paper = def;
    paper.n_startup_trials = 100;
    paper.n_ei_candidates = 100;

    if (do_latency) {
        printf("latency, ms per proposal, %d dimensions, one thread (Optuna multivariate TPE)\n",
               DIM);
        printf("  %-8s %12s %12s %12s\n", "points", "default", "paper", "Optuna");
        static const int ns[3] = {100, 1000, 5000};
        static const char *optuna[3] = {"51", "196", "-"};
        for (int i = 0; i < 3; i++) {
            int r = ns[i] <= 100 ? reps * 4 : ns[i] <= 1000 ? reps : reps / 5 + 1;
            printf("  %-8d %12.3f %12.3f %12s\n", ns[i], latency(ns[i], r, &def),
                   latency(ns[i], r, &paper), optuna[i]);
        }
        printf("  (Optuna: 220 ms at 2,000 points; 602 ms at 1,000 with the paper's settings)\n\n");
    }

    tpe_options uni = def, rnd = def;
    uni.multivariate = 0;
    rnd.n_startup_trials = INT_MAX;
    printf("quality: best of %d trials, [-1, 1]^%d, minimised, over seeds 0..%d\n", TRIALS, DIM,
           n_seeds - 1);
    printf("  %-11s %-15s %10s %10s %10s %10s %10s %9s\n", "function", "sampler", "median", "q1",
           "q3", "min", "max", "Optuna3.1");
    quality_row("sphere", "TPE multivar.", &def, sphere, n_seeds, "0.779");
    quality_row("sphere", "TPE univariate", &uni, sphere, n_seeds, "1.162");
    quality_row("sphere", "random", &rnd, sphere, n_seeds, "3.096");
    quality_row("rosenbrock", "TPE multivar.", &def, rosenbrock, n_seeds, "487.6");
    quality_row("rosenbrock", "TPE univariate", &uni, rosenbrock, n_seeds, "747.3");
    quality_row("rosenbrock", "random", &rnd, rosenbrock, n_seeds, "5785");
    printf("  (Optuna 3.1: medians over seeds 0..9; its multivariate TPE over seeds 0..29:\n"
           "  sphere 0.843, Rosenbrock 594.1)\n");
    return 0;
}
