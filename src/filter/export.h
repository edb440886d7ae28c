#ifndef RETORT_EXPORT_H
#define RETORT_EXPORT_H
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/strbuf.h"

/* Export a mix as chat JSONL for the trainers people use (TRL, LLaMA-Factory,
 * axolotl) and for our own tokenizer. One JSON object per line, in mix order,
 * streamed from SQLite (constant memory), written to OUT.tmp and renamed.
 *
 *   messages           {"messages":[{"role":"user","content":U},{"role":"assistant","content":A}]}
 *   sharegpt           {"conversations":[{"from":"human","value":U},{"from":"gpt","value":A}]}
 *   reasoning          {"messages":[{"role":"user","content":U},
 *                       {"role":"assistant","reasoning_content":R,"content":C}]}  (DeepSeek API)
 *   prompt-completion  {"prompt":U,"completion":A}
 *
 * U is the problem rendered through its teacher's template, A the whole trace
 * (a prefilled "<think>\n" restored; see v_mix_samples). --system puts a system
 * turn first (role "system" / from "system"); prompt-completion has no place
 * for one. The output is valid UTF-8: each byte of stored text that does not
 * begin a valid UTF-8 sequence becomes U+FFFD and is counted. */
typedef enum { EXPORT_MESSAGES, EXPORT_SHAREGPT, EXPORT_REASONING, EXPORT_PROMPT_COMPLETION } export_format;

typedef struct {
    const char *mix;
    export_format format;
    const char *out;      /* path; "-" writes to stdout */
    const char *system;   /* or NULL */
    const char *split;    /* "train", "val" or "all" */
} export_opts;

typedef struct {
    uint64_t lines, bytes, invalid_bytes;
} export_stats;

int export_format_parse(const char *s, export_format *f);
int export_mix(sqlite3 *db, const export_opts *o, export_stats *stats);

/* Append s[0..n) as a quoted JSON string. Escapes '"', '\\' and control
 * characters; keeps valid UTF-8 as is; replaces each byte that does not begin
 * a valid sequence with U+FFFD and adds 1 to *n_invalid (when not NULL). */
void json_put_string(strbuf *b, const char *s, size_t n, uint64_t *n_invalid);

/* The DeepSeek split of an assistant text. When text starts with "<think>"
 * and has a "</think>", the reasoning is what lies between them, less one
 * newline just inside each tag, and the content is what follows "</think>",
 * less leading whitespace. Otherwise the reasoning is empty and the content is
 * the whole text. reasoning_join is its inverse on what it returns:
 * "<think>\n" R "\n</think>\n\n" C, or C alone when R is empty, so
 * split(join(split(x))) == split(x). */
void reasoning_split(const char *t, size_t n, size_t *r_at, size_t *r_len, size_t *c_at, size_t *c_len);
void reasoning_join(strbuf *b, const char *r, size_t rn, const char *c, size_t cn);

#endif
