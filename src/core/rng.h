#ifndef RETORT_RNG_H
#define RETORT_RNG_H
#include <stdint.h>

/* xoshiro256** seeded through splitmix64. Every random choice in retort flows
 * from an explicit seed, so runs are reproducible bit for bit. */
typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
/* Uniform integer in [lo, hi] (inclusive), unbiased. */
int64_t rng_range(rng_t *r, int64_t lo, int64_t hi);
/* Uniform double in [0, 1). */
double rng_uniform(rng_t *r);
/* 1 with probability p. */
int rng_chance(rng_t *r, double p);
/* Standard normal (Box-Muller). */
double rng_normal(rng_t *r);

#endif
