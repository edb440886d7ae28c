#ifndef RETORT_DECONTAM_H
#define RETORT_DECONTAM_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Decontamination by shared word n-grams (open-r1 uses lowercase word 8-grams,
 * NeMo 13-grams). Reference texts (eval problems, a JSONL file of benchmark
 * prompts) go into a hash set of 64-bit n-gram hashes; a candidate prompt is
 * contaminated when any of its n-grams is in the set.
 *
 * Words: a maximal run of letters, marks and digits (any script), lowercased
 * (ASCII directly, the rest with utf8proc). Han ideographs and kana are each a
 * word of their own, since Chinese and Japanese write no spaces between words:
 * an 8-gram of Chinese text is 8 consecutive characters (punctuation between
 * them is skipped, as it is between Latin words). Everything else (spaces,
 * punctuation, symbols such as + = ×) only separates words. A text with fewer
 * than n words has no n-grams and can neither match nor be matched. */
typedef struct decontam decontam_t;

decontam_t *decontam_new(int ngram);
void decontam_free(decontam_t *d);
int decontam_ngram(const decontam_t *d);
/* Template text: an n-gram that occurs in `common` or more distinct reference
 * prompts ("If the result is not an integer, give ...", "Express your answer
 * as a common fraction") says nothing about any one eval problem, and with
 * templated data it would flag every train prompt built from the same
 * template. Such n-grams are ignored by decontam_find; 0 (the default) keeps
 * them all. */
void decontam_set_common(decontam_t *d, uint32_t common);
size_t decontam_common_count(const decontam_t *d);
/* Number of distinct n-grams in the reference set. */
size_t decontam_size(const decontam_t *d);

/* Add every n-gram of text to the set, tagged with ref: the caller's id of the
 * reference (an eval problem id, or a negative file line number). The first
 * reference of an n-gram wins. */
void decontam_add(decontam_t *d, const char *text, size_t n, int64_t ref);
/* 1 when text shares an n-gram with the set; then *ref is that reference and
 * text[*at .. *at + *len) is the matching span (original text, first word to
 * last word). 0 when clean. */
int decontam_find(decontam_t *d, const char *text, size_t n, int64_t *ref, size_t *at, size_t *len);

/* The words of text as 64-bit hashes with their byte spans; returns the count.
 * The arrays belong to d and are valid until the next call. Exposed for tests. */
size_t decontam_words(decontam_t *d, const char *text, size_t n, const uint64_t **hashes,
                      const size_t **starts, const size_t **ends);

/* The prompt of one JSONL record: a string field 'prompt', 'problem' or
 * 'question', else the first user/human turn of 'messages' or 'conversations'
 * (role/content or from/value). NULL when there is none. */
const char *jsonl_prompt(const cJSON *obj);

/* Add the prompt of every line of a JSONL file, tagged with -line. Blank lines
 * are skipped. A line that is not a JSON object with a prompt is an error
 * naming FILE:LINE (every bad line is counted; up to 5 are named); nothing is
 * trusted from a file with bad lines, so the call fails. */
int decontam_add_jsonl(decontam_t *d, const char *path, size_t *n_prompts);

#endif
