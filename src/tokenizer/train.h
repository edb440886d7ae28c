#ifndef RETORT_TOKENIZER_TRAIN_H
#define RETORT_TOKENIZER_TRAIN_H
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

/* Byte-level BPE training (the Hugging Face BpeTrainer's algorithm: count
 * words once, then repeatedly merge the most frequent adjacent pair, with
 * pair counts updated incrementally from the words that contain the pair). */
typedef struct {
    uint32_t vocab_size;         /* total, special tokens and 256 bytes included */
    const char *template_name;   /* chat template for tokenizer_config.json: r1, chatml, llama3 */
    int verbose;                 /* progress to stderr */
} bpe_train_opts;

typedef struct bpe_trainer bpe_trainer;

bpe_trainer *bpe_trainer_new(void);
/* Feed one text (pre-tokenized with the Qwen2 regex after NFC; special
 * tokens written in it are not learned from). */
void bpe_trainer_feed(bpe_trainer *tr, const char *text, size_t len);
/* Learn merges and write DIR/tokenizer.json and DIR/tokenizer_config.json.
 * Returns 0 or -1 with err_msg(). */
int bpe_trainer_finish(bpe_trainer *tr, const bpe_train_opts *o, const char *dir);
void bpe_trainer_free(bpe_trainer *tr);

/* Train on the user and assistant texts of mix (view v_mix_samples). */
int bpe_train_mix(sqlite3 *db, const char *mix, const bpe_train_opts *o, const char *dir);

#endif
