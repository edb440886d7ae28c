/* retort distill: SFT of a student on a mix (or a token file from
 * `retort tokenize`), writing a Hugging Face checkpoint and the training curve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/tokset.h"
#include "distill/ckpt.h"
#include "distill/model.h"
#include "distill/train.h"
#include "tokenizer/tokenize.h"
#include "core/sys.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int cmd_distill(int argc, char **argv) {
    const char *db_path = "retort.db", *mix = NULL, *tokenizer = NULL, *data = NULL, *init = "small", *out = NULL;
    const char *save_dtype = "bf16", *template_name = "r1", *system_prompt = NULL;
    const char *long_policy = "drop";
    long seq_len = 1024, batch = 4, accum = 1, steps = 0, eval_every = 0, save_every = 0, threads = 0;
    double epochs = 1, lr = 1e-4, min_lr_ratio = 0, warmup = 0.03, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, wd = 0.01,
           clip = 1.0;
    uint64_t seed = 1;
    int resume = 0, quiet = 0;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database: train_runs/train_log rows are written here"),
        O_STR("mix", &mix, "NAME", "the mix to train on (tokenized with --tokenizer)"),
        O_STR("tokenizer", &tokenizer, "DIR", "tokenizer directory (tokenizer.json); copied into the checkpoint"),
        O_CHOICE("template", &template_name, "r1|chatml|llama3", "chat template that renders --mix samples"),
        O_STR("system", &system_prompt, "TEXT", "system turn for --mix (default: none, as R1 recommends)"),
        O_STR("data", &data, "FILE", "instead of --mix: a token file written by `retort tokenize`"),
        O_STR("init", &init, "PRESET|DIR", "start from a preset (random init) or a checkpoint directory"),
        O_STR("out", &out, "DIR", "output checkpoint directory (checkpoint-N/ subdirectories for --save-every)"),
        O_INT("seq-len", &seq_len, "N", "tokens per packed row", 8, 1 << 20),
        O_CHOICE("long", &long_policy, "drop|truncate",
                 "a sample longer than --seq-len: left out, or cut to its first --seq-len tokens"),
        O_INT("batch", &batch, "N", "rows per micro-batch", 1, 1 << 16),
        O_INT("accum", &accum, "N", "micro-batches per optimizer step (gradient accumulation)", 1, 1 << 16),
        O_DBL("epochs", &epochs, "X", "passes over the training rows (when --steps is 0)", 0, 1e6),
        O_INT("steps", &steps, "N", "optimizer steps in all (0: from --epochs)", 0, 1 << 30),
        O_DBL("lr", &lr, "X", "peak learning rate", 0, 10),
        O_DBL("min-lr-ratio", &min_lr_ratio, "X", "cosine decay ends at lr * this", 0, 1),
        O_DBL("warmup", &warmup, "X", "linear warmup: steps if >= 1, else a fraction of all steps", 0, 1e9),
        O_DBL("beta1", &beta1, "X", "AdamW beta1", 0, 1),
        O_DBL("beta2", &beta2, "X", "AdamW beta2", 0, 1),
        O_DBL("eps", &eps, "X", "AdamW epsilon", 0, 1),
        O_DBL("weight-decay", &wd, "X", "AdamW weight decay (matrices and embeddings, not norms or biases)", 0, 10),
        O_DBL("clip", &clip, "X", "clip the gradient norm to this (0: off)", 0, 1e9),
        O_INT("eval-every", &eval_every, "N", "validation loss every N steps (and at the end)", 0, 1 << 30),
        O_INT("save-every", &save_every, "N", "checkpoint with optimizer state every N steps", 0, 1 << 30),
        O_U64("seed", &seed, "N", "seed for the init and the data order"),
        O_CHOICE("save-dtype", &save_dtype, "f32|bf16", "dtype of the final checkpoint's weights"),
        O_FLAG("resume", &resume, "continue from the newest --out/checkpoint-N, bit for bit"),
        O_INT("threads", &threads, "N", "threads (OpenBLAS; 0: all cores)", 0, 1024),
        O_FLAG("quiet", &quiet, "no progress line"),
        O_END,
    };
    cmd_spec spec = {"distill", "retort distill --mix NAME --tokenizer DIR | --data FILE --init PRESET|DIR --out DIR [options]",
                     "Fine-tune a student (SFT) on a mix and write a Hugging Face checkpoint.",
                     "Samples are packed best-fit into rows of --seq-len; no sample attends across another\n"
                     "and positions restart per sample. The loss covers only assistant tokens (the token\n"
                     "file's mask), normalized over the masked-in tokens of the whole accumulated batch.\n"
                     "AdamW with linear warmup, cosine decay and gradient clipping. Each step is logged to\n"
                     "train_log; validation loss (the mix's val split) every --eval-every steps.\n"
                     "Presets: tiny, small, qwen2.5-0.5b, qwen2.5-1.5b, r1-distill-qwen-1.5b, qwen2.5-7b,\n"
                     "llama-3.1-8b (tiny and small take the vocab size from the data).",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!out) return opts_error(&spec, "--out is required");
    if (!data && !mix) return opts_error(&spec, "give --mix NAME (with --tokenizer) or --data FILE");
    if (data && mix) return opts_error(&spec, "--mix and --data exclude each other");
    if (mix && !tokenizer) return opts_error(&spec, "--mix needs --tokenizer DIR");
    model_set_threads((int)threads);

    tokset_t ts;
    if (data) {
        if (tokset_read(data, &ts)) { err_print(); return EXIT_RUNTIME; }
    } else {
        sqlite3 *tdb;
        int orc = cli_open_db(db_path, 0, &tdb);
        if (orc) return orc;
        tokenizer_t *tok = tokenizer_load(tokenizer);
        tokset_init(&ts);
        if (!tok || tokenize_mix(tdb, mix, tok, template_name, system_prompt, &ts)) {
            err_print();
            if (tok) tokenizer_free(tok);
            tokset_free(&ts);
            db_close(tdb);
            return EXIT_RUNTIME;
        }
        tokenizer_free(tok);
        db_close(tdb);
        fprintf(stderr, "retort: tokenized mix %s: %llu samples, %llu tokens\n", mix, (unsigned long long)ts.n_samples,
                (unsigned long long)ts.n_tokens);
    }

    model_t m;
    model_config c;
    /* refuse before allocating anything when training this shape cannot fit */
    {
        model_config e;
        int have = is_dir(init) ? ckpt_load_config(init, &e) == 0 : model_preset(init, &e) == 0;
        if (have) {
            if (!is_dir(init) && (!strcmp(init, "tiny") || !strcmp(init, "small")) && ts.vocab_size) e.V = (int)ts.vocab_size;
            size_t need = model_mem_estimate(&e, (int)(batch * seq_len), (int)seq_len, 1, 1);
            size_t kb = mem_available_bytes() / 1024;
            fprintf(stderr, "retort: %s: %.1fM parameters; training with %ld tokens per micro-batch needs about %.2f GiB "
                            "(fp32 weights, grads, AdamW m+v, activations); %.2f GiB available\n",
                    init, model_param_count(&e) / 1e6, batch * seq_len, need / 1073741824.0, kb / 1048576.0);
            if (kb && need > kb * 1024) {
                fprintf(stderr, "retort: error: %s does not fit: about %.2f GiB needed, %.2f GiB available; use a smaller "
                                "preset, --batch or --seq-len\n", init, need / 1073741824.0, kb / 1048576.0);
                tokset_free(&ts);
                return EXIT_RUNTIME;
            }
        }
    }
    if (is_dir(init)) {
        if (ckpt_load(init, &m)) { err_print(); tokset_free(&ts); return EXIT_RUNTIME; }
    } else {
        if (model_preset(init, &c)) {
            tokset_free(&ts);
            return opts_error(&spec, "--init: '%s' is neither a directory nor a preset (%s)", init, model_preset_names());
        }
        if ((!strcmp(init, "tiny") || !strcmp(init, "small")) && ts.vocab_size) c.V = (int)ts.vocab_size;
        if (ts.bos_id != TOKSET_NONE) c.bos = (int)ts.bos_id;
        if (ts.eos_id != TOKSET_NONE) c.eos = (int)ts.eos_id;
        if (model_create(&m, &c)) { err_print(); tokset_free(&ts); return EXIT_RUNTIME; }
        model_init_random(&m, seed);
    }

    sqlite3 *db;
    int rc = cli_open_db(db_path, DB_CREATE, &db);
    if (rc) { model_free(&m); tokset_free(&ts); return rc; }
    int64_t run = cli_run_start(db, &spec);

    train_opts o;
    train_opts_default(&o);
    o.seq_len = (int)seq_len;
    o.truncate_long = strcmp(long_policy, "truncate") == 0; o.batch = (int)batch; o.accum = (int)accum; o.epochs = epochs; o.steps = (int)steps;
    o.lr = lr; o.min_lr_ratio = min_lr_ratio; o.warmup = warmup; o.beta1 = beta1; o.beta2 = beta2; o.eps = eps;
    o.weight_decay = wd; o.clip = clip; o.eval_every = (int)eval_every; o.save_every = (int)save_every; o.seed = seed;
    o.out_dir = out; o.save_dtype = strcmp(save_dtype, "bf16") == 0 ? CKPT_BF16 : CKPT_F32;
    o.tokenizer_dir = tokenizer ? tokenizer : (is_dir(init) ? init : NULL);
    o.resume = resume; o.db = db; o.run_id = run; o.mix = mix; o.data = data; o.init = init; o.progress = !quiet;
    if (distill_train(&m, &ts, &o)) {
        err_print();
        if (run > 0) run_finish(db, run, "failed", err_msg());
        rc = EXIT_RUNTIME;
    } else {
        fprintf(stderr, "retort: trained %d steps: loss %.4f, val loss %.4f; wrote %s\n", o.steps_done, o.final_loss,
                o.final_val_loss, out);
        if (run > 0) run_finish(db, run, "ok", NULL);
    }
    db_close(db);
    model_free(&m);
    tokset_free(&ts);
    return rc;
}
