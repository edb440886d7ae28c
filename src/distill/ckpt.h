#ifndef RETORT_CKPT_H
#define RETORT_CKPT_H
#include "distill/model.h"

/* Hugging Face checkpoint directories: config.json, model.safetensors (or shards
 * with model.safetensors.index.json), generation_config.json, and the tokenizer
 * files copied alongside. */

enum { CKPT_F32 = 0, CKPT_BF16 = 1 };

/* Load DIR into a new model (model_create + weights). F32, BF16 and F16 tensors
 * are converted to fp32. Every tensor the config implies must be present with
 * its exact shape; errors name the file and tensor. */
int ckpt_load(const char *dir, model_t *m);
/* Read only DIR/config.json. */
int ckpt_load_config(const char *dir, model_config *c);
/* Load into an existing model whose config matches (for resume). */
int ckpt_load_weights(const char *dir, model_t *m);
/* Write DIR (created if missing): config.json, model.safetensors,
 * generation_config.json; tokenizer.json/tokenizer_config.json copied from
 * tokenizer_dir when it is non-NULL and has them. */
int ckpt_save(const char *dir, const model_t *m, int dtype, const char *tokenizer_dir);
/* Same, split into model-0000i-of-0000n.safetensors shards of at most max_shard
 * bytes plus model.safetensors.index.json when it does not fit one (ckpt_save
 * uses 5 GiB, as Hugging Face does). */
int ckpt_save_sharded(const char *dir, const model_t *m, int dtype, const char *tokenizer_dir, size_t max_shard);

/* bf16 <-> fp32 with round-to-nearest-even, as torch does. */
uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t h);
float f16_to_f32(uint16_t h);

/* Read a whole file (NUL-terminated, malloc'd); NULL with err_msg on failure. */
char *read_file_text(const char *path, size_t *len);
int mkdir_p(const char *dir);

#endif
