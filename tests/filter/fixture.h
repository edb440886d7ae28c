#ifndef RETORT_TEST_FILTER_FIXTURE_H
#define RETORT_TEST_FILTER_FIXTURE_H
#include <sqlite3.h>
#include <stdint.h>
/* A stand-in for the synthetic teacher while it is not in main: problems and
 * traces written as /work/trace-format.md describes (r1 and tagged, en and
 * zh, prefilled or not, numeric and text answers), with faults injected at
 * the given rate and recorded in traces.injected. Deterministic in seed. */
int fixture_fill(sqlite3 *db, int n_problems, int samples, double fault_rate, uint64_t seed);
#endif
