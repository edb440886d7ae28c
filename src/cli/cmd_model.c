/* retort model info|logits|step: inspect a student checkpoint and run it one
 * step at a time, so other implementations (PyTorch, transformers) can be
 * checked against ours number by number. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "distill/ckpt.h"
#include "distill/model.h"
#include "core/sys.h"

/* "1,2,3" -> malloc'd array; returns count or -1. */
static long parse_list(const char *s, long **out) {
    long n = 0, cap = 16, *v = xmalloc(cap * sizeof *v);
    const char *p = s;
    while (*p) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p) { free(v); return -1; }
        if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = x;
        p = end;
        if (*p == ',') p++;
        else if (*p) { free(v); return -1; }
    }
    *out = v;
    return n;
}

static void print_info(const model_config *c, const model_t *m) {
    printf("architecture   %s\n", c->arch == ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    printf("vocab_size     %d\nhidden_size    %d\nintermediate   %d\nlayers         %d\n", c->V, c->H, c->I, c->L);
    printf("heads          %d (kv %d, head_dim %d)\n", c->nh, c->nkv, c->hd);
    printf("rope_theta     %g%s\n", c->theta, c->rope_llama3 ? " (llama3 scaling)" : "");
    if (c->rope_llama3)
        printf("rope_scaling   factor %g low %g high %g original %d\n", c->rs_factor, c->rs_low, c->rs_high, c->rs_orig);
    printf("rms_norm_eps   %g\ntied           %s\nqkv_bias       %s\n", c->eps, c->tied ? "yes" : "no",
           c->qkv_bias ? "yes" : "no");
    size_t P = model_param_count(c);
    printf("parameters     %zu (%.2fM; %.2fM without embeddings)\n", P, P / 1e6,
           (P - (size_t)c->V * c->H * (c->tied ? 1 : 2)) / 1e6);
    printf("memory         fp32 weights %.2f GiB; training (weights+grads+AdamW, 4096 tokens) %.2f GiB\n",
           P * 4.0 / 1073741824.0, model_mem_estimate(c, 4096, 1024, 1, 1) / 1073741824.0);
    if (m)
        for (int i = 0; i < m->ntensors; i++) {
            const model_tensor *t = &m->tensors[i];
            if (t->ndim == 2) printf("  %-48s [%d, %d]\n", t->name, t->shape[0], t->shape[1]);
            else printf("  %-48s [%d]\n", t->name, t->shape[0]);
        }
}

static double peak_rss_gib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1048576.0;
}

/* One forward+backward on a random sequence: the "can this shape train here" check. */
static int model_bench(const char *dir, const char *preset, int T, int with_opt, uint64_t seed) {
    model_config c;
    if (preset) {
        if (model_preset(preset, &c)) { err_print(); return EXIT_USAGE; }
    } else if (dir) {
        if (ckpt_load_config(dir, &c)) { err_print(); return EXIT_RUNTIME; }
    } else {
        fprintf(stderr, "retort model: bench needs --preset NAME or --model DIR\n");
        return EXIT_USAGE;
    }
    size_t need = model_mem_estimate(&c, T, T, 1, with_opt);
    size_t kb = mem_available_bytes() / 1024;
    printf("%s: %.1fM parameters; estimate for forward+backward of %d tokens%s: %.2f GiB "
           "(fp32 weights %.2f, grads %.2f%s, activations %.2f); %.2f GiB available\n",
           preset ? preset : dir, model_param_count(&c) / 1e6, T, with_opt ? " + AdamW" : "", need / 1073741824.0,
           model_param_count(&c) * 4 / 1073741824.0, model_param_count(&c) * 4 / 1073741824.0,
           with_opt ? ", AdamW m+v x2" : "",
           (need - model_param_count(&c) * 4.0 * (with_opt ? 4 : 2)) / 1073741824.0, kb / 1048576.0);
    fflush(stdout);
    if (kb && need > kb * 1024) {
        fprintf(stderr, "retort: error: %s needs about %.2f GiB but only %.2f GiB is available; refusing to allocate\n",
                preset ? preset : dir, need / 1073741824.0, kb / 1048576.0);
        return EXIT_RUNTIME;
    }
    model_t m;
    double t0 = clock_now();
    if (preset) {
        if (model_create(&m, &c)) { err_print(); return EXIT_RUNTIME; }
        model_init_random(&m, seed);
    } else if (ckpt_load(dir, &m)) { err_print(); return EXIT_RUNTIME; }
    double t_init = clock_now() - t0;
    model_alloc_train(&m, with_opt);
    uint32_t *ids = xmalloc(sizeof(uint32_t) * T);
    int32_t *tgt = xmalloc(sizeof(int32_t) * T);
    for (int i = 0; i < T; i++) ids[i] = (uint32_t)((i * 7919u + 13u) % (unsigned)c.V);
    for (int i = 0; i < T; i++) tgt[i] = i + 1 < T ? (int32_t)ids[i + 1] : -1;
    int M;
    t0 = clock_now();
    double loss = model_forward(&m, ids, T, &T, 1, tgt, &M, NULL);
    double t_fwd = clock_now() - t0;
    t0 = clock_now();
    model_backward(&m, 1.0f / M);
    double t_bwd = clock_now() - t0, t_opt = 0;
    if (with_opt) {
        t0 = clock_now();
        model_adamw(&m, 1e-5f, 0.9f, 0.999f, 1e-8f, 0.01f, 0);
        t_opt = clock_now() - t0;
    }
    printf("init %.1f s; forward %.2f s (loss %.4f), backward %.2f s%s; %.0f tokens/s; grad norm %.4g; peak RSS %.2f GiB\n",
           t_init, t_fwd, loss / M, t_bwd, with_opt ? "" : "", T / (t_fwd + t_bwd), model_grad_norm(&m), peak_rss_gib());
    if (with_opt) printf("AdamW step %.2f s\n", t_opt);
    free(ids);
    free(tgt);
    model_free(&m);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv) {
    const char *model_dir = NULL, *preset = NULL, *ids_s = NULL, *mask_s = NULL, *out = NULL, *save_dtype = "f32";
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, wd = 0.01;
    long threads = 0, vocab = 0, tokens = 256;
    int with_opt = 0;
    uint64_t seed = 1;
    double init_std = 0;
    opt_def opts[] = {
        O_STR("model", &model_dir, "DIR", "checkpoint directory (config.json + model.safetensors)"),
        O_STR("preset", &preset, "NAME", "instead of --model: a preset shape (info only)"),
        O_STR("ids", &ids_s, "LIST", "token ids, comma-separated (logits, step)"),
        O_STR("mask", &mask_s, "LIST", "step: 1 where the token is a loss target (default: all but the first)"),
        O_DBL("lr", &lr, "X", "step: learning rate", 0, 10),
        O_DBL("beta1", &beta1, "X", "step: AdamW beta1", 0, 1),
        O_DBL("beta2", &beta2, "X", "step: AdamW beta2", 0, 1),
        O_DBL("eps", &eps, "X", "step: AdamW epsilon", 0, 1),
        O_DBL("weight-decay", &wd, "X", "step: AdamW weight decay (applied to every tensor, as torch.optim.AdamW)", 0, 10),
        O_STR("out", &out, "DIR", "step: where to write the updated checkpoint"),
        O_CHOICE("save-dtype", &save_dtype, "f32|bf16", "step: dtype of the written weights"),
        O_U64("seed", &seed, "N", "init: random seed"),
        O_DBL("init-std", &init_std, "X", "init: std of the normal init (0: the config's initializer_range)", 0, 10),
        O_INT("vocab", &vocab, "N", "init: override the preset's vocab size (0: keep)", 0, 1 << 30),
        O_INT("tokens", &tokens, "N", "bench: sequence length", 2, 1 << 20),
        O_FLAG("optimizer", &with_opt, "bench: also allocate AdamW state and take a step"),
        O_INT("threads", &threads, "N", "OpenBLAS threads (0: all cores)", 0, 1024),
        O_END,
    };
    cmd_spec spec = {"model", "retort model info|init|logits|step|bench --model DIR [options]",
                     "Inspect a student checkpoint: shapes, logits, one training step.",
                     "  info    print the config, the tensors and the parameter count\n"
                     "          (--preset NAME prints a preset's shape without allocating it)\n"
                     "  init    write a randomly initialized checkpoint to --out from --preset NAME or\n"
                     "          --model DIR (whose config.json is used, weights ignored)\n"
                     "  logits  print the logits for --ids as JSON: one array of vocab logits per position\n"
                     "  step    one AdamW step on --ids; the loss is the mean cross-entropy of predicting\n"
                     "          token i+1 at position i over the i where mask[i+1] is 1; prints\n"
                     "          {\"loss\":..,\"grad_norm\":..} and writes the checkpoint to --out\n"
                     "  bench   one forward+backward on --tokens random ids of --preset NAME (random init)\n"
                     "          or --model DIR: prints the memory estimate first (refusing when it exceeds\n"
                     "          MemAvailable), then seconds and peak RSS",
                     opts, 1, 1};
    char **args;
    int nargs;
    CLI_PARSE(spec, argc, argv, &args, &nargs);
    const char *sub = args[0];
    int is_init = strcmp(sub, "init") == 0;
    int is_info = strcmp(sub, "info") == 0, is_logits = strcmp(sub, "logits") == 0, is_step = strcmp(sub, "step") == 0;
    if (is_init) {
        if (!out) return opts_error(&spec, "--out is required for init");
        model_config c;
        if (preset) {
            if (model_preset(preset, &c)) { err_print(); return EXIT_USAGE; }
        } else if (model_dir) {
            if (ckpt_load_config(model_dir, &c)) { err_print(); return EXIT_RUNTIME; }
        } else return opts_error(&spec, "init needs --preset NAME or --model DIR");
        if (vocab) c.V = (int)vocab;
        if (init_std > 0) c.init_std = init_std;
        model_t m;
        if (model_create(&m, &c)) { err_print(); return EXIT_RUNTIME; }
        model_init_random(&m, seed);
        int rc = ckpt_save(out, &m, strcmp(save_dtype, "bf16") == 0 ? CKPT_BF16 : CKPT_F32, NULL);
        if (rc) err_print();
        else fprintf(stderr, "retort: wrote %s (%zu parameters)\n", out, m.nparams);
        model_free(&m);
        return rc ? EXIT_RUNTIME : EXIT_OK;
    }
    if (strcmp(sub, "bench") == 0) return model_bench(model_dir, preset, (int)tokens, with_opt, seed);
    if (!is_info && !is_logits && !is_step) return opts_error(&spec, "unknown subcommand '%s' (info, logits or step)", sub);
    model_set_threads((int)threads);
    if (is_info && preset && !model_dir) {
        model_config c;
        if (model_preset(preset, &c)) { err_print(); return EXIT_USAGE; }
        print_info(&c, NULL);
        return EXIT_OK;
    }
    if (!model_dir) return opts_error(&spec, "--model is required");
    if (is_step && !out) return opts_error(&spec, "--out is required for step");
    long *ids = NULL, *mask = NULL, n = 0;
    if (!is_info) {
        if (!ids_s) return opts_error(&spec, "--ids is required for %s", sub);
        n = parse_list(ids_s, &ids);
        if (n < 1) return opts_error(&spec, "--ids: '%s' is not a comma-separated list of integers", ids_s);
        if (mask_s) {
            long nm = parse_list(mask_s, &mask);
            if (nm != n) { free(ids); free(mask); return opts_error(&spec, "--mask: needs %ld values of 0 or 1", n); }
        }
    }
    model_t m;
    if (ckpt_load(model_dir, &m)) { err_print(); free(ids); free(mask); return EXIT_RUNTIME; }
    int rc = EXIT_OK;
    if (is_info) {
        print_info(&m.c, &m);
        goto done;
    }
    uint32_t *tok = xmalloc(n * sizeof *tok);
    int32_t *tgt = xmalloc(n * sizeof *tgt);
    for (long i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m.c.V) {
            fprintf(stderr, "retort model: --ids: id %ld at position %ld is outside the vocab [0, %d)\n", ids[i], i, m.c.V);
            rc = EXIT_USAGE;
            goto done2;
        }
        tok[i] = (uint32_t)ids[i];
    }
    int doc = (int)n, M;
    if (is_logits) {
        for (long i = 0; i < n; i++) tgt[i] = 0;
        float *lg = xmalloc(sizeof(float) * n * m.c.V);
        model_forward(&m, tok, (int)n, &doc, 1, tgt, &M, lg);
        putchar('[');
        for (long i = 0; i < n; i++) {
            putchar(i ? ',' : '[');
            if (i) putchar('[');
            for (int j = 0; j < m.c.V; j++) printf(j ? ",%.9g" : "%.9g", lg[(size_t)i * m.c.V + j]);
            putchar(']');
        }
        printf("]\n");
        free(lg);
    } else {
        for (long i = 0; i < n; i++) {
            int want = i + 1 < n && (mask ? mask[i + 1] == 1 : 1);
            tgt[i] = want ? (int32_t)tok[i + 1] : -1;
        }
        model_alloc_train(&m, 1);
        double loss = model_forward(&m, tok, (int)n, &doc, 1, tgt, &M, NULL);
        if (M == 0) {
            fprintf(stderr, "retort model: --mask selects no target (mask[i+1] must be 1 for some i)\n");
            rc = EXIT_USAGE;
            goto done2;
        }
        model_backward(&m, 1.0f / M);
        double gn = model_grad_norm(&m);
        model_adamw(&m, (float)lr, (float)beta1, (float)beta2, (float)eps, (float)wd, 1);
        printf("{\"loss\":%.9g,\"grad_norm\":%.9g,\"targets\":%d}\n", loss / M, gn, M);
        if (ckpt_save(out, &m, strcmp(save_dtype, "bf16") == 0 ? CKPT_BF16 : CKPT_F32, model_dir)) {
            err_print();
            rc = EXIT_RUNTIME;
        }
    }
done2:
    free(tok);
    free(tgt);
done:
    free(ids);
    free(mask);
    model_free(&m);
    return rc;
}
