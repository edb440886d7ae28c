#ifndef RETORT_FILTER_WORDS_H
#define RETORT_FILTER_WORDS_H
#include <stddef.h>
#include <stdint.h>

/* One pass over the chain of thought that feeds both the language check and
 * the repetition measures. Stripped before counting: tags (<...>), LaTeX
 * commands (\frac, \times), $...$ math, numbers, single letters and letters
 * glued to digits (variables: x, 3x, x2), punctuation and symbols.
 * A word is a run of letters of one script; every Han character is a word of
 * its own (Chinese has no spaces, and this is how the R1 paper counts). */
enum {
    SCRIPT_LATIN = 1, SCRIPT_HAN = 2, SCRIPT_KANA = 4, SCRIPT_HANGUL = 8,
    SCRIPT_CYRILLIC = 16, SCRIPT_OTHER = 32,
};

/* Scripts that count as "the problem's language"; 0 when the language is
 * unknown (the ratio is then not measured). */
unsigned lang_scripts(const char *lang);

typedef struct {
    uint64_t h;        /* hash of the lowercased word */
    uint32_t nchars;   /* length in characters */
    uint32_t script;
} word_t;

typedef struct {
    word_t *w;         /* grows, reused across traces */
    size_t n, cap;
    uint64_t n_target, n_other;
} cot_words;

void cot_words_free(cot_words *c);
void cot_scan(const char *s, size_t n, unsigned target, cot_words *out);
/* n_target / (n_target + n_other); -1 when there are no words. */
double lang_ratio(const cot_words *c);

#endif
