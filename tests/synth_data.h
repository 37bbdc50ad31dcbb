/*
 * synth_data.h: a small synthetic dataset in MNIST's IDX format, for tests and
 * benchmarks on machines without the fetched data. Ten classes of 28 x 28
 * images: class c lights rows 2c .. 2c+3 (80 % of their pixels) over a 8 %
 * background flicker, so a network can learn it but not trivially.
 * Deterministic for a given seed. Header-only (static inline functions).
 */
#ifndef IM_SYNTH_DATA_H
#define IM_SYNTH_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void synth_put_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* Write dir/PREFIX-images-idx3-ubyte and dir/PREFIX-labels-idx1-ubyte with n
 * samples. Returns 0 or -1 (a file could not be written). */
static inline int synth_write_part(const char *dir, const char *prefix, uint32_t n, uint64_t seed)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *fi = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fl = fopen(path, "wb");
    int bad = !fi || !fl;
    if (!bad) {
        uint64_t state = seed * 2654435761u + 1;
        synth_put_be32(fi, 0x803), synth_put_be32(fi, n);
        synth_put_be32(fi, 28), synth_put_be32(fi, 28);
        synth_put_be32(fl, 0x801), synth_put_be32(fl, n);
        for (uint32_t t = 0; t < n; t++) {
            unsigned char label = (unsigned char)(t % 10), px[784];
            for (int p = 0; p < 784; p++) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned r = (unsigned)(state >> 33) % 100;
                int row = p / 28, on = row >= 2 * label && row < 2 * label + 4;
                px[p] = (unsigned char)(on ? (r < 80 ? 220 : 0) : (r < 8 ? 180 : 0));
            }
            fwrite(px, 1, sizeof px, fi);
            fwrite(&label, 1, 1, fl);
        }
        bad = ferror(fi) || ferror(fl);
    }
    if (fi) bad |= fclose(fi) != 0;
    if (fl) bad |= fclose(fl) != 0;
    return bad ? -1 : 0;
}

/* root/name/ with train, val and test parts (root must exist). 0 or -1. */
static inline int synth_write_dataset(const char *root, const char *name, uint32_t n_train,
                                      uint32_t n_eval)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    if (mkdir(dir, 0700) != 0) return -1;
    return synth_write_part(dir, "train", n_train, 1) | synth_write_part(dir, "val", n_eval, 2) |
           synth_write_part(dir, "test", n_eval, 3);
}

#endif /* IM_SYNTH_DATA_H */
