#ifndef RETORT_FILTER_REPEAT_H
#define RETORT_FILTER_REPEAT_H
#include <stddef.h>
#include "filter/words.h"

/* Repetition measures over the chain of thought's words (see words.h).
 *
 * dup[k], n = 5 + k (k = 0..5): the duplicate n-gram character fraction of
 * Gopher (Rae et al. 2021) and NeMo Curator: characters of words covered by an
 * n-gram that already occurred earlier, over all word characters. Overlapping
 * repeats count each word once.
 * top[k], n = 2 + k (k = 0..2): characters covered by the most frequent
 * n-gram (count x its characters) over all word characters.
 * One hash-table pass per n, open addressing with generation stamps, so no
 * clearing and no allocation per trace once the table has grown. */
#define REP_DUP_N0 5
#define REP_DUP_NN 6
#define REP_TOP_N0 2
#define REP_TOP_NN 3

typedef struct rep_scratch rep_scratch;
rep_scratch *rep_scratch_new(void);
void rep_scratch_free(rep_scratch *s);
void rep_measure(rep_scratch *s, const word_t *w, size_t n, double dup[REP_DUP_NN], double top[REP_TOP_NN]);

/* Looping tail: the smallest period p such that the last L bytes of s equal
 * the L bytes p earlier, with L + p >= min_repeats * p and L + p >= min_chars
 * (the tail holds at least min_repeats copies of a p-byte block).
 * Candidates come from earlier occurrences of the final 32 bytes within the
 * last `window` bytes, each verified backwards; cost is linear in window.
 * Returns p, or 0 when the tail does not loop. */
size_t loop_period(const char *s, size_t n, size_t window, size_t min_chars, int min_repeats);

#endif
