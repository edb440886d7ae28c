#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/hash.h"
#include "filter/repeat.h"

typedef struct { uint64_t key; uint32_t gen, count; } slot;

/* Cheap n-gram hash extension (the table index takes the high bits). */
static inline uint64_t comb(uint64_t a, uint64_t b) {
    uint64_t x = (a ^ b) * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 31);
}

struct rep_scratch {
    slot *tab;
    size_t cap;         /* power of two */
    uint32_t gen;
    uint64_t *gram;     /* rolling n-gram hashes, one per start position */
    uint32_t *pre;      /* prefix sums of word characters */
    size_t gcap;
};

rep_scratch *rep_scratch_new(void) { return xcalloc(1, sizeof(rep_scratch)); }

void rep_scratch_free(rep_scratch *s) {
    if (!s) return;
    free(s->tab);
    free(s->gram);
    free(s->pre);
    free(s);
}

/* Start a fresh table able to hold n keys at load <= 1/2. */
static void table_reset(rep_scratch *s, size_t n) {
    size_t want = 64;
    while (want < 2 * n) want <<= 1;
    if (want > s->cap) {
        free(s->tab);
        s->tab = xcalloc(want, sizeof *s->tab);
        s->cap = want;
        s->gen = 0;
    }
    if (++s->gen == 0) {   /* stamps wrapped: clear once every 2^32 uses */
        memset(s->tab, 0, s->cap * sizeof *s->tab);
        s->gen = 1;
    }
}

/* Insert key (within the first `mask + 1` slots); returns the new count. */
static inline uint32_t table_add(rep_scratch *s, size_t mask, uint64_t key) {
    size_t i = (size_t)(key >> 40) & mask;
    for (;;) {
        slot *e = &s->tab[i];
        if (e->gen != s->gen) { e->gen = s->gen; e->key = key; e->count = 1; return 1; }
        if (e->key == key) return ++e->count;
        i = (i + 1) & mask;
    }
}

static size_t mask_for(const rep_scratch *s, size_t n) {
    size_t m = 64;
    while (m < 2 * n) m <<= 1;
    (void)s;
    return m - 1;
}

void rep_measure(rep_scratch *s, const word_t *w, size_t n, double dup[REP_DUP_NN], double top[REP_TOP_NN]) {
    for (int k = 0; k < REP_DUP_NN; k++) dup[k] = 0;
    for (int k = 0; k < REP_TOP_NN; k++) top[k] = 0;
    if (n < 2) return;
    if (n + 1 > s->gcap) {
        s->gcap = (n + 1) * 2;
        s->gram = xrealloc(s->gram, s->gcap * sizeof *s->gram);
        s->pre = xrealloc(s->pre, s->gcap * sizeof *s->pre);
    }
    s->pre[0] = 0;
    for (size_t i = 0; i < n; i++) {
        s->pre[i + 1] = s->pre[i] + w[i].nchars;
        s->gram[i] = w[i].h;
    }
    double total = (double)s->pre[n];
    if (total <= 0) return;
    size_t mask = mask_for(s, n);
    /* gram[i] holds the hash of words i..i+len-1; extend by one word per n */
    for (size_t len = 2; len <= REP_DUP_N0 + REP_DUP_NN - 1 && len <= n; len++) {
        size_t m = n - len + 1;
        for (size_t i = 0; i < m; i++) s->gram[i] = comb(s->gram[i] * 31, w[i + len - 1].h);
        if (len >= REP_TOP_N0 && len < REP_TOP_N0 + REP_TOP_NN) {
            table_reset(s, n);
            uint64_t best = 0;
            for (size_t i = 0; i < m; i++) {
                uint32_t c = table_add(s, mask, s->gram[i]);
                uint64_t v = (uint64_t)c * (s->pre[i + len] - s->pre[i]);
                if (v > best) best = v;
            }
            double r = (double)best / total;   /* overlapping n-grams can exceed 1 */
            top[len - REP_TOP_N0] = r > 1.0 ? 1.0 : r;
        }
        if (len >= REP_DUP_N0) {
            table_reset(s, n);
            uint64_t dupc = 0;
            size_t covered = 0;   /* words [0, covered) already counted */
            for (size_t i = 0; i < m; i++) {
                if (table_add(s, mask, s->gram[i]) > 1) {
                    size_t from = i > covered ? i : covered;
                    if (i + len > from) dupc += s->pre[i + len] - s->pre[from];
                    covered = i + len;
                }
            }
            dup[len - REP_DUP_N0] = (double)dupc / total;
        }
    }
}

size_t loop_period(const char *s, size_t n, size_t window, size_t min_chars, int min_repeats) {
    const size_t K = 32;
    if (n < min_chars || n < 2 * K) return 0;
    size_t lo = n > window ? n - window : 0;
    const char *needle = s + n - K;
    /* scan occurrences of the final K bytes from the nearest backwards:
     * memrchr on the first byte, then memcmp */
    size_t end = n - K;   /* candidate starts are < end */
    int tries = 0;
    while (end > lo && tries < 64) {
        const char *f = memrchr(s + lo, needle[0], end - lo);
        if (!f) break;
        size_t j = (size_t)(f - s);
        end = j;
        if (memcmp(f, needle, K) != 0) continue;
        tries++;
        size_t p = n - K - j;
        if (p == 0) continue;
        /* verify: how far back does s[i] == s[i - p] hold? */
        size_t i = n;
        while (i > p && s[i - 1] == s[i - 1 - p]) i--;
        size_t L = n - i;
        /* L matching bytes at distance p: L + p bytes hold (L + p) / p copies */
        if (L + p >= min_chars && L + p >= (size_t)min_repeats * p) return p;
        /* the nearest occurrence gives the smallest period; a farther one
         * can only be a multiple or noise, but keep looking for a true loop */
    }
    return 0;
}
