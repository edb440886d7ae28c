#ifndef RETORT_TRAIN_H
#define RETORT_TRAIN_H
#include <stdint.h>
#include <sqlite3.h>
#include "core/tokset.h"
#include "distill/model.h"

/* Supervised fine-tuning of a student on a tokenized mix (tokset_t), with the
 * semantics ARCHITECTURE §5 asks for:
 *  - samples are packed best-fit into rows of seq_len tokens; no sample attends
 *    across another's boundary and positions restart at each sample;
 *  - the loss covers only masked-in tokens (mask[i+1] == 1 for the prediction at
 *    i), and the LM head runs only there;
 *  - with gradient accumulation the loss is normalized over the masked-in tokens
 *    of the whole accumulated batch;
 *  - AdamW (PyTorch semantics), linear warmup then cosine decay, grad-norm clipping;
 *  - validation loss over split == 1 samples every eval_every steps;
 *  - checkpoints with optimizer state every save_every steps; resume continues
 *    bit for bit (the data order is a pure function of seed and epoch). */
typedef struct {
    int seq_len;          /* tokens per packed row */
    int truncate_long;    /* a sample longer than seq_len: 0 leaves it out, 1 trains on its first seq_len tokens */
    int batch;            /* rows per micro-batch */
    int accum;            /* micro-batches per optimizer step */
    double epochs;        /* used when steps == 0 */
    int steps;            /* optimizer steps in all (0: from epochs) */
    double lr, min_lr_ratio, warmup;   /* warmup: steps if >= 1, else a fraction of all steps */
    double beta1, beta2, eps, weight_decay, clip;
    int eval_every, save_every;        /* 0: never (eval still runs at the end) */
    uint64_t seed;
    const char *out_dir;  /* final checkpoint; checkpoint-STEP/ subdirectories */
    int save_dtype;       /* CKPT_F32 | CKPT_BF16 for the final save */
    const char *tokenizer_dir;  /* tokenizer files copied into checkpoints (may be NULL) */
    int resume;           /* continue from the newest out_dir/checkpoint-N */
    sqlite3 *db;          /* may be NULL: no train_runs/train_log rows */
    int64_t run_id;       /* runs.id, or 0 */
    const char *mix, *data, *init;   /* provenance for train_runs */
    int progress;         /* progress line on stderr */
    /* filled by distill_train */
    double final_loss, final_val_loss;
    int steps_done;
    int64_t train_run_id;
} train_opts;

void train_opts_default(train_opts *o);

/* Train m (already created/loaded) on ts. Returns 0, or -1 with err_msg(). */
int distill_train(model_t *m, const tokset_t *ts, train_opts *o);

/* Best-fit packing (exposed for tests): sample lengths len[n] into rows of at
 * most cap tokens (longer samples must be truncated by the caller). Writes
 * row_of[i] for each sample and returns the number of rows. Samples keep their
 * input order within a row. */
int pack_best_fit(const int *len, int n, int cap, int *row_of);

/* Learning rate at optimizer step (0-based) of total. */
double train_lr(const train_opts *o, int step, int total);

#endif
