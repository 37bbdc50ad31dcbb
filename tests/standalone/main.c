/*
 * main.c of core_standalone (core_standalone.cmake): a program built from
 * the core's sources alone. It fills the default trial spec, checks it
 * against the core's rules, builds its lattice and applies the accuracy rule
 * of evaluation to two samples. Prints one line; exit status 0 when all
 * went well.
 */
#include "lattice.h"
#include "train.h"
#include "train_spec.h"

#include <stdio.h>

int main(void)
{
    im_train_spec s;
    im_error err;
    im_train_spec_default(&s);
    if (im_train_spec_validate(&s, "spec", &err)) {
        fprintf(stderr, "the default spec is refused: %s\n", err.msg);
        return 1;
    }
    im_lattice lat;
    if (im_lattice_init(&lat, im_setup_sources(s.setup), &err)) {
        fprintf(stderr, "no lattice: %s\n", err.msg);
        return 1;
    }
    /* two samples, two classes, no class inverted: both predicted right */
    const double theta[4] = {0.6, 0.1, 0.1, 0.6};
    const uint8_t labels[2] = {0, 1};
    double mean[2];
    double acc = im_train_accuracy(theta, labels, 2, 2, mean);
    if (acc != 1.0) {
        fprintf(stderr, "accuracy %g, expected 1\n", acc);
        return 1;
    }
    printf("setup %s, %d atoms + h_res, defaults valid\n", im_setup_name(s.setup), lat.n);
    return 0;
}
