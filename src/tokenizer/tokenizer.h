#ifndef RETORT_TOKENIZER_H
#define RETORT_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

/* A Hugging Face byte-level BPE tokenizer loaded from tokenizer.json
 * (Qwen2/2.5/3, DeepSeek-V3/R1, Llama 3, and what `retort tokenizer train`
 * writes). Pipeline, in the order tokenizer.json defines it:
 *   invalid UTF-8 -> U+FFFD (WHATWG "maximal subpart" rule, as TextDecoder)
 *   -> added tokens split out first (longest match, left to right)
 *   -> normalizer (NFC/NFKC/NFD/NFKD via utf8proc, or none)
 *   -> pre-tokenizer (Split regexes from the file, run by PCRE2 UTF+UCP+JIT;
 *      ByteLevel) -> BPE merges by rank -> ids.
 * Ids match the transformers.js reference (@lenml/tokenizers) exactly.
 *
 * Encoding keeps a per-word cache inside the tokenizer, so one tokenizer_t
 * must not be used for encoding by two threads at once. */
typedef struct tokenizer tokenizer_t;

/* A growable id array that encode appends to (reuse it: no per-call malloc). */
typedef struct {
    uint32_t *v;
    size_t n, cap;
} tok_ids;

void tok_ids_push(tok_ids *a, uint32_t id);
void tok_ids_free(tok_ids *a);

/* Load PATH: a tokenizer.json file, or a directory holding one. Returns NULL
 * with err_msg() naming the file and the problem. */
tokenizer_t *tokenizer_load(const char *path);
/* Load from the JSON text itself; origin names it in error messages. */
tokenizer_t *tokenizer_from_json(const char *json, size_t len, const char *origin);
void tokenizer_free(tokenizer_t *t);

/* Append the ids of text[0..len) to out. Added/special tokens that occur in
 * the text are matched as such. Never fails on any byte string. */
void tokenizer_encode(tokenizer_t *t, const char *text, size_t len, tok_ids *out);
/* Append the bytes of ids to the caller's growable buffer (buf, len, cap;
 * realloc'ed as needed, kept NUL-terminated). Added tokens decode
 * to their content; skip_special drops tokens marked special. Returns 0, or
 * -1 with err_msg() for an id outside the vocabulary. */
int tokenizer_decode(const tokenizer_t *t, const uint32_t *ids, size_t n, int skip_special,
                     char **buf, size_t *len, size_t *cap);

/* Id of a token string (vocab entry in byte-level form, or an added token's
 * content); -1 if absent. */
int64_t tokenizer_token_to_id(const tokenizer_t *t, const char *token);
/* Vocabulary form of id (byte-level string, or an added token's content);
 * NULL for an unknown id. */
const char *tokenizer_id_to_token(const tokenizer_t *t, uint32_t id);
/* One more than the largest id (vocab and added tokens together). */
uint32_t tokenizer_vocab_size(const tokenizer_t *t);
/* 1 if id is an added token marked special. */
int tokenizer_is_special(const tokenizer_t *t, uint32_t id);
/* Hex SHA-256/128 of the tokenizer.json bytes: identifies it in the database. */
const char *tokenizer_hash(const tokenizer_t *t);
/* BOS/EOS/PAD ids from tokenizer_config.json beside the tokenizer.json
 * (UINT32_MAX when absent). */
uint32_t tokenizer_bos_id(const tokenizer_t *t);
uint32_t tokenizer_eos_id(const tokenizer_t *t);
uint32_t tokenizer_pad_id(const tokenizer_t *t);

/* Replace invalid UTF-8 with U+FFFD exactly as the WHATWG decoder
 * (TextDecoder, Node's Buffer.toString) does: one U+FFFD per maximal subpart
 * of an ill-formed sequence. Writes to *out (malloc'ed, NUL-terminated) and
 * returns its length. */
size_t utf8_sanitize(const char *s, size_t n, char **out);

/* GPT-2's byte <-> printable code point mapping used by ByteLevel. */
uint32_t bytelevel_cp(uint8_t b);

#endif
