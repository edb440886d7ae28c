/* The SFT training loop: packing, micro-batches with accumulation, AdamW with
 * warmup + cosine decay + clipping, validation, checkpoints and exact resume,
 * and the curve written to train_runs/train_log as it goes. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cblas.h>
#include <cjson/cJSON.h>
#include "distill/train.h"
#include "distill/ckpt.h"
#include "core/err.h"
#include "core/rng.h"
#include "core/db.h"
#include "core/sys.h"

void train_opts_default(train_opts *o) {
    *o = (train_opts){.seq_len = 1024, .batch = 4, .accum = 1, .epochs = 1, .lr = 1e-4, .min_lr_ratio = 0.0,
                      .warmup = 0.03, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01, .clip = 1.0,
                      .eval_every = 0, .save_every = 0, .seed = 1, .progress = 1};
}

/* ---- packing ---- */
static int cmp_len_desc(const void *a, const void *b, void *ctx) {
    const int *len = ctx, x = *(const int *)a, y = *(const int *)b;
    if (len[x] != len[y]) return len[y] - len[x];
    return x - y;
}

int pack_best_fit(const int *len, int n, int cap, int *row_of) {
    /* best-fit decreasing: longest first, each into the open row it fills most
     * tightly. Rows are bucketed by free space so the search is a short scan. */
    int *order = xmalloc(sizeof(int) * (n + 1));
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof(int), cmp_len_desc, (void *)len);
    int *head = xmalloc(sizeof(int) * (cap + 1)), *next = xmalloc(sizeof(int) * (n + 1)), *free_of = xmalloc(sizeof(int) * (n + 1));
    for (int r = 0; r <= cap; r++) head[r] = -1;
    int rows = 0;
    for (int k = 0; k < n; k++) {
        int i = order[k], l = len[i], r = l, row;
        while (r <= cap && head[r] < 0) r++;
        if (r <= cap) { /* unlink the row from bucket r */
            row = head[r];
            head[r] = next[row];
        } else row = rows++, r = cap;
        row_of[i] = row;
        int left = r - l;
        free_of[row] = left;
        if (left > 0) { next[row] = head[left]; head[left] = row; }
    }
    free(order); free(head); free(next); free(free_of);
    return rows;
}

/* Rows as lists of samples. */
typedef struct {
    int nrows;
    int *start, *samples;   /* row r holds samples[start[r] .. start[r+1]) */
    int *tokens;            /* [nrows] tokens in the row */
} packing;

/* Samples of one split packed into rows of cap tokens. A longer sample is left
 * out (a reasoning trace cut before its answer teaches the student to stop
 * mid-thought) unless truncate, which keeps its first cap tokens; *too_long
 * counts them either way. */
static void pack_split(const tokset_t *ts, int split, int cap, int truncate, packing *p, int *n_samples, int *too_long) {
    int n = 0;
    for (uint64_t i = 0; i < ts->n_samples; i++) n += ts->splits[i] == split;
    int *idx = xmalloc(sizeof(int) * (n + 1)), *len = xmalloc(sizeof(int) * (n + 1)), *row_of = xmalloc(sizeof(int) * (n + 1));
    int k = 0;
    *too_long = 0;
    for (uint64_t i = 0; i < ts->n_samples; i++)
        if (ts->splits[i] == split) {
            uint64_t l = ts->offsets[i + 1] - ts->offsets[i];
            if (l > (uint64_t)cap) {
                (*too_long)++;
                if (!truncate) continue;
                l = cap;
            }
            idx[k] = (int)i;
            len[k++] = (int)l;
        }
    n = k;
    *n_samples = n;
    p->nrows = n ? pack_best_fit(len, n, cap, row_of) : 0;
    p->start = xcalloc(p->nrows + 2, sizeof(int));
    p->samples = xmalloc(sizeof(int) * (n + 1));
    p->tokens = xcalloc(p->nrows + 1, sizeof(int));
    for (int i = 0; i < n; i++) p->start[row_of[i] + 1]++, p->tokens[row_of[i]] += len[i];
    for (int r = 0; r < p->nrows; r++) p->start[r + 1] += p->start[r];
    int *fill = xmalloc(sizeof(int) * (p->nrows + 1));
    memcpy(fill, p->start, sizeof(int) * (p->nrows + 1));
    for (int i = 0; i < n; i++) p->samples[fill[row_of[i]]++] = idx[i]; /* input order within a row */
    free(fill); free(idx); free(len); free(row_of);
}

static void packing_free(packing *p) { free(p->start); free(p->samples); free(p->tokens); }

/* Flatten rows into a model batch: ids, document lengths, targets. */
typedef struct {
    uint32_t *ids;
    int32_t *tgt;
    int *docs;
    int N, ndocs, M;
} flat;

static void flatten(const tokset_t *ts, const packing *p, const int *rows, int nr, int cap, flat *f) {
    f->N = f->ndocs = f->M = 0;
    for (int a = 0; a < nr; a++) {
        int r = rows[a];
        for (int j = p->start[r]; j < p->start[r + 1]; j++) {
            int s = p->samples[j];
            uint64_t o = ts->offsets[s];
            int l = (int)(ts->offsets[s + 1] - o);
            if (l > cap) l = cap;
            for (int t = 0; t < l; t++) {
                f->ids[f->N + t] = ts->ids[o + t];
                int want = t + 1 < l && ts->mask[o + t + 1];
                f->tgt[f->N + t] = want ? (int32_t)ts->ids[o + t + 1] : -1;
                f->M += want;
            }
            f->docs[f->ndocs++] = l;
            f->N += l;
        }
    }
}

static int count_targets(const tokset_t *ts, const packing *p, const int *rows, int nr, int cap) {
    int M = 0;
    for (int a = 0; a < nr; a++)
        for (int j = p->start[rows[a]]; j < p->start[rows[a] + 1]; j++) {
            int s = p->samples[j];
            uint64_t o = ts->offsets[s];
            int l = (int)(ts->offsets[s + 1] - o);
            if (l > cap) l = cap;
            for (int t = 1; t < l; t++) M += ts->mask[o + t];
        }
    return M;
}

/* Row order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch) alone,
 * so any step's data can be recomputed on resume. */
static void epoch_order(int *perm, int nrows, uint64_t seed, int epoch) {
    rng_t r;
    rng_seed(&r, seed * 0x9e3779b97f4a7c15ULL + (uint64_t)epoch + 1);
    for (int i = 0; i < nrows; i++) perm[i] = i;
    for (int i = nrows - 1; i > 0; i--) {
        int j = (int)rng_range(&r, 0, i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

double train_lr(const train_opts *o, int step, int total) {
    int warm = o->warmup >= 1 ? (int)o->warmup : (int)ceil(o->warmup * total);
    if (step < warm) return o->lr * (step + 1) / warm;
    double prog = total > warm ? (double)(step - warm) / (total - warm) : 1.0;
    if (prog > 1) prog = 1;
    double minlr = o->lr * o->min_lr_ratio;
    return minlr + (o->lr - minlr) * 0.5 * (1.0 + cos(M_PI * prog));
}

static double eval_loss(model_t *m, const tokset_t *ts, const packing *val, int batch, int cap, flat *f) {
    double sum = 0;
    long tg = 0;
    int *rows = xmalloc(sizeof(int) * batch);
    for (int r0 = 0; r0 < val->nrows; r0 += batch) {
        int nr = val->nrows - r0 < batch ? val->nrows - r0 : batch;
        for (int i = 0; i < nr; i++) rows[i] = r0 + i;
        flatten(ts, val, rows, nr, cap, f);
        if (!f->M) continue;
        int M;
        sum += model_forward(m, f->ids, f->N, f->docs, f->ndocs, f->tgt, &M, NULL);
        tg += M;
    }
    free(rows);
    return tg ? sum / tg : NAN;
}

/* ---- checkpoints with optimizer state ---- */
static int save_state(const char *dir, const model_t *m, const train_opts *o, int step, int total, int nrows) {
    if (ckpt_save(dir, m, CKPT_F32, o->tokenizer_dir)) return -1;
    char path[8192];
    snprintf(path, sizeof path, "%s/optimizer.bin", dir);
    FILE *f = fopen(path, "wb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return -1; }
    uint64_t hdr[3] = {0x504f54524f544552ULL /* "RETORTOP" */, m->nparams, (uint64_t)m->adam_t};
    int ok = fwrite(hdr, 8, 3, f) == 3 && fwrite(m->m, 4, m->nparams, f) == m->nparams &&
             fwrite(m->v, 4, m->nparams, f) == m->nparams;
    if (fclose(f) || !ok) { err_set("%s: write failed", path); return -1; }
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "step", step);
    cJSON_AddNumberToObject(s, "total_steps", total);
    cJSON_AddNumberToObject(s, "rows_per_epoch", nrows);
    cJSON_AddNumberToObject(s, "seq_len", o->seq_len);
    cJSON_AddNumberToObject(s, "batch", o->batch);
    cJSON_AddNumberToObject(s, "accum", o->accum);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(s, "seed", seed);
    cJSON_AddNumberToObject(s, "lr", o->lr);
    char *txt = cJSON_Print(s);
    cJSON_Delete(s);
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    f = fopen(path, "w");
    ok = f && fputs(txt, f) >= 0;
    if (f && fclose(f)) ok = 0;
    free(txt);
    if (!ok) { err_set("%s: write failed", path); return -1; }
    return 0;
}

/* Newest out_dir/checkpoint-N; returns N or 0. */
static int newest_checkpoint(const char *out, char *dir, size_t n) {
    DIR *d = opendir(out);
    if (!d) return 0;
    int best = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int k;
        char tail;
        if (sscanf(e->d_name, "checkpoint-%d%c", &k, &tail) == 1 && k > best) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s/trainer_state.json", out, e->d_name);
            if (access(p, R_OK) == 0) best = k;
        }
    }
    closedir(d);
    if (best) snprintf(dir, n, "%s/checkpoint-%d", out, best);
    return best;
}

static int load_state(const char *dir, model_t *m, const train_opts *o, int total, int nrows) {
    char path[4096];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    char *txt = read_file_text(path, NULL);
    if (!txt) return -1;
    cJSON *s = cJSON_Parse(txt);
    free(txt);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    struct { const char *k; double want; } chk[] = {{"total_steps", total}, {"rows_per_epoch", nrows},
        {"seq_len", o->seq_len}, {"batch", o->batch}, {"accum", o->accum}, {"lr", o->lr}};
    for (size_t i = 0; i < sizeof chk / sizeof *chk; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, chk[i].k);
        if (!cJSON_IsNumber(v) || v->valuedouble != chk[i].want) {
            err_set("%s: %s was %g, this run has %g; resume needs the same data and settings", path, chk[i].k,
                    cJSON_IsNumber(v) ? v->valuedouble : NAN, chk[i].want);
            cJSON_Delete(s);
            return -1;
        }
    }
    const char *sv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "seed"));
    if (!sv || strcmp(sv, seed) != 0) { err_set("%s: seed differs from --seed %s", path, seed); cJSON_Delete(s); return -1; }
    cJSON_Delete(s);
    model_config c;
    if (ckpt_load_config(dir, &c)) return -1;
    if (model_param_count(&c) != m->nparams || c.V != m->c.V || c.H != m->c.H || c.L != m->c.L) {
        err_set("%s: the checkpoint's shape differs from --init's", dir);
        return -1;
    }
    if (ckpt_load_weights(dir, m)) return -1;
    snprintf(path, sizeof path, "%s/optimizer.bin", dir);
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return -1; }
    uint64_t hdr[3];
    int ok = fread(hdr, 8, 3, f) == 3 && hdr[0] == 0x504f54524f544552ULL && hdr[1] == m->nparams &&
             fread(m->m, 4, m->nparams, f) == m->nparams && fread(m->v, 4, m->nparams, f) == m->nparams;
    fclose(f);
    if (!ok) { err_set("%s: not an optimizer state for this model", path); return -1; }
    m->adam_t = (int64_t)hdr[2];
    return 0;
}

static void fmt_dur(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e7) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

int distill_train(model_t *m, const tokset_t *ts, train_opts *o) {
    const int cap = o->seq_len;
    if (ts->vocab_size && ts->vocab_size > (uint32_t)m->c.V) {
        err_set("the token file's vocab (%u) is larger than the model's (%d)", ts->vocab_size, m->c.V);
        return -1;
    }
    for (uint64_t j = 0; j < ts->n_tokens; j++)
        if (ts->ids[j] >= (uint32_t)m->c.V) {
            err_set("token %llu: id %u is outside the model's vocab of %d", (unsigned long long)j, ts->ids[j], m->c.V);
            return -1;
        }
    packing tr, val;
    int n_train, n_val, trunc_t, trunc_v;
    pack_split(ts, 0, cap, o->truncate_long, &tr, &n_train, &trunc_t);
    pack_split(ts, 1, cap, o->truncate_long, &val, &n_val, &trunc_v);
    if (tr.nrows == 0) {
        if (trunc_t) err_set("all %d training samples are longer than --seq-len %d; raise it or use --long truncate", trunc_t, cap);
        else err_set("no training samples (split 0) to train on");
        packing_free(&tr); packing_free(&val);
        return -1;
    }
    if (trunc_t + trunc_v)
        msg("%d samples are longer than --seq-len %d and were %s", trunc_t + trunc_v, cap,
            o->truncate_long ? "truncated to it" : "left out (--long truncate keeps their beginning)");
    long tok_rows = 0;
    for (int r = 0; r < tr.nrows; r++) tok_rows += tr.tokens[r];
    int rps = o->batch * o->accum;
    int spe = (tr.nrows + rps - 1) / rps;   /* steps per epoch; the last one may be short */
    int total = o->steps > 0 ? o->steps : (int)ceil(o->epochs * spe);
    if (total < 1) total = 1;
    msg("packed %d training samples into %d rows of %d (%.1f%% filled), %d validation samples into %d rows; "
        "%d steps of %d rows", n_train, tr.nrows, cap, 100.0 * tok_rows / ((double)tr.nrows * cap), n_val, val.nrows,
        total, rps);

    /* memory: activations for one micro-batch, on top of the weights we hold */
    size_t need = model_mem_estimate(&m->c, o->batch * cap, cap, 1, 1) - m->nparams * sizeof(float);
    {
        size_t kb = mem_available_bytes() / 1024;
        msg("training needs about %.2f GiB more (gradients, AdamW state, activations for %d tokens); %.2f GiB available",
            need / 1073741824.0, o->batch * cap, kb / 1048576.0);
        if (kb && need > kb * 1024) {
            err_set("training needs about %.2f GiB but only %.2f GiB is available; lower --batch or --seq-len or use a "
                    "smaller model", need / 1073741824.0, kb / 1048576.0);
            packing_free(&tr); packing_free(&val);
            return -1;
        }
    }
    model_alloc_train(m, 1);
    model_reserve(m, o->batch * cap, cap);

    int start = 0;
    char resumed[4096] = "";
    if (o->resume) {
        start = newest_checkpoint(o->out_dir, resumed, sizeof resumed);
        if (start) {
            if (load_state(resumed, m, o, total, tr.nrows)) { packing_free(&tr); packing_free(&val); return -1; }
            msg("resuming from %s (step %d of %d)", resumed, start, total);
        } else msg("--resume: no checkpoint under %s; starting from step 0", o->out_dir);
    }

    sqlite3_stmt *ins = NULL;
    o->train_run_id = 0;
    if (o->db) {
        sqlite3_stmt *st;
        char *cfg = model_config_json(&m->c, "float32");
        cJSON *hp = cJSON_CreateObject();
        cJSON_AddNumberToObject(hp, "seq_len", cap);
        cJSON_AddNumberToObject(hp, "batch", o->batch);
        cJSON_AddNumberToObject(hp, "accum", o->accum);
        cJSON_AddNumberToObject(hp, "steps", total);
        cJSON_AddNumberToObject(hp, "lr", o->lr);
        cJSON_AddNumberToObject(hp, "min_lr_ratio", o->min_lr_ratio);
        cJSON_AddNumberToObject(hp, "warmup", o->warmup);
        cJSON_AddNumberToObject(hp, "beta1", o->beta1);
        cJSON_AddNumberToObject(hp, "beta2", o->beta2);
        cJSON_AddNumberToObject(hp, "eps", o->eps);
        cJSON_AddNumberToObject(hp, "weight_decay", o->weight_decay);
        cJSON_AddNumberToObject(hp, "clip", o->clip);
        cJSON_AddNumberToObject(hp, "seed", (double)o->seed);
        char *hps = cJSON_PrintUnformatted(hp);
        cJSON_Delete(hp);
        if (db_prepare(o->db, "INSERT INTO train_runs(run_id, mix, data, init, out_dir, config, hparams, n_params, "
                              "n_train, n_val, n_rows, total_steps, resumed_from) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", &st) == 0) {
            if (o->run_id > 0) sqlite3_bind_int64(st, 1, o->run_id);
            sqlite3_bind_text(st, 2, o->mix, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, o->data, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, o->init ? o->init : "?", -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 5, o->out_dir, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 6, cfg, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 7, hps, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 8, (int64_t)m->nparams);
            sqlite3_bind_int(st, 9, n_train);
            sqlite3_bind_int(st, 10, n_val);
            sqlite3_bind_int(st, 11, tr.nrows);
            sqlite3_bind_int(st, 12, total);
            if (start) sqlite3_bind_text(st, 13, resumed, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_DONE) o->train_run_id = sqlite3_last_insert_rowid(o->db);
            else msg("train_runs: %s", sqlite3_errmsg(o->db));
            sqlite3_finalize(st);
        }
        free(cfg);
        free(hps);
        if (db_prepare(o->db, "INSERT OR REPLACE INTO train_log(train_run_id, step, epoch, loss, val_loss, lr, grad_norm, "
                              "tokens, target_tokens, tokens_per_s, elapsed_s) VALUES(?,?,?,?,?,?,?,?,?,?,?)", &ins))
            ins = NULL;
    }

    flat f = {.ids = xmalloc(sizeof(uint32_t) * o->batch * cap), .tgt = xmalloc(sizeof(int32_t) * o->batch * cap),
              .docs = xmalloc(sizeof(int) * o->batch * cap)};
    int *perm = xmalloc(sizeof(int) * tr.nrows);
    int perm_epoch = -1, rc = 0, tty = isatty(2);
    double t0 = clock_now(), loss = NAN, val_loss = NAN;
    long tokens_done = 0;
    for (int step = start; step < total; step++) {
        double ts0 = clock_now();
        int epoch = step / spe, k = step % spe;
        if (epoch != perm_epoch) { epoch_order(perm, tr.nrows, o->seed, epoch); perm_epoch = epoch; }
        int r0 = k * rps, r1 = r0 + rps < tr.nrows ? r0 + rps : tr.nrows;
        int targets = count_targets(ts, &tr, perm + r0, r1 - r0, cap);
        model_zero_grad(m);
        double lsum = 0;
        long step_tokens = 0;
        for (int mb = r0; mb < r1; mb += o->batch) {
            int nr = r1 - mb < o->batch ? r1 - mb : o->batch;
            flatten(ts, &tr, perm + mb, nr, cap, &f);
            step_tokens += f.N;
            if (!f.M) continue;
            int M;
            lsum += model_forward(m, f.ids, f.N, f.docs, f.ndocs, f.tgt, &M, NULL);
            model_backward(m, 1.0f / (float)targets);  /* normalized over the whole accumulated batch */
        }
        loss = targets ? lsum / targets : NAN;
        double gn = model_grad_norm(m);
        if (o->clip > 0 && gn > o->clip) model_scale_grads(m, (float)(o->clip / (gn + 1e-6)));
        double lr = train_lr(o, step, total);
        if (targets) model_adamw(m, (float)lr, (float)o->beta1, (float)o->beta2, (float)o->eps, (float)o->weight_decay, 0);
        double dt = clock_now() - ts0;
        tokens_done += step_tokens;
        int done = step + 1;
        int do_eval = val.nrows && ((o->eval_every > 0 && done % o->eval_every == 0) || done == total);
        val_loss = NAN;
        if (do_eval) val_loss = eval_loss(m, ts, &val, o->batch, cap, &f);
        double el = clock_now() - t0, tps = step_tokens / (dt > 0 ? dt : 1e-9);
        if (ins) {
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, o->train_run_id);
            sqlite3_bind_int(ins, 2, done);
            sqlite3_bind_double(ins, 3, (double)done / spe);
            if (isnan(loss)) sqlite3_bind_double(ins, 4, 0.0);
            else sqlite3_bind_double(ins, 4, loss);
            if (do_eval && !isnan(val_loss)) sqlite3_bind_double(ins, 5, val_loss);
            else sqlite3_bind_null(ins, 5);
            sqlite3_bind_double(ins, 6, lr);
            sqlite3_bind_double(ins, 7, gn);
            sqlite3_bind_int64(ins, 8, step_tokens);
            sqlite3_bind_int(ins, 9, targets);
            sqlite3_bind_double(ins, 10, tps);
            sqlite3_bind_double(ins, 11, el);
            if (sqlite3_step(ins) != SQLITE_DONE) msg("train_log: %s", sqlite3_errmsg(o->db));
        }
        /* on a terminal the line rewrites itself every step; in a log, about 50 lines a run */
        int every = total / 50 > 1 ? total / 50 : 1;
        if (o->progress && (tty || do_eval || done % every == 0 || done == total)) {
            char eta[32];
            double avg = tokens_done / (el > 0 ? el : 1e-9);
            fmt_dur(el / (done - start) * (total - done), eta, sizeof eta);
            char vl[48] = "";
            if (do_eval) snprintf(vl, sizeof vl, " val %.4f", val_loss);
            fprintf(stderr, "%sstep %d/%d  loss %.4f%s  lr %.2e  |g| %.3f  %.0f tok/s  ETA %s%s", tty ? "\r\033[K" : "",
                    done, total, loss, vl, lr, gn, avg, eta, (tty && !do_eval && done != total) ? "" : "\n");
            fflush(stderr);
        }
        if (o->save_every > 0 && done % o->save_every == 0 && done != total) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/checkpoint-%d", o->out_dir, done);
            if (save_state(dir, m, o, done, total, tr.nrows)) { rc = -1; break; }
        }
    }
    o->steps_done = total;
    o->final_loss = loss;
    o->final_val_loss = val_loss;
    if (!rc && ckpt_save(o->out_dir, m, o->save_dtype, o->tokenizer_dir)) rc = -1;
    if (o->db && o->train_run_id) {
        sqlite3_stmt *st;
        if (db_prepare(o->db, "UPDATE train_runs SET status=?, final_loss=?, final_val_loss=?, "
                              "ended_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id=?", &st) == 0) {
            sqlite3_bind_text(st, 1, rc ? "failed" : "ok", -1, SQLITE_STATIC);
            if (!isnan(loss)) sqlite3_bind_double(st, 2, loss);
            if (!isnan(val_loss)) sqlite3_bind_double(st, 3, val_loss);
            sqlite3_bind_int64(st, 4, o->train_run_id);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    }
    sqlite3_finalize(ins);
    free(f.ids); free(f.tgt); free(f.docs); free(perm);
    packing_free(&tr); packing_free(&val);
    return rc;
}
