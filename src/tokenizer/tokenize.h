#ifndef RETORT_TOKENIZE_H
#define RETORT_TOKENIZE_H
#include <sqlite3.h>
#include "core/tokset.h"
#include "tokenizer/tokenizer.h"

/* Render every sample of mix (v_mix_samples, by position) with the chat
 * template and append it to out (split: train = 0, val = 1), with the
 * template's loss mask. out's vocab_size/bos/eos/pad are set from the
 * tokenizer and template. Token counts are written to token_counts and
 * traces.n_tokens in one transaction. system may be NULL (no system turn).
 * Returns 0, or -1 with err_msg(). */
int tokenize_mix(sqlite3 *db, const char *mix, tokenizer_t *t, const char *template_name, const char *system,
                 tokset_t *out);

#endif
