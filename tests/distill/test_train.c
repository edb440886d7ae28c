/* The SFT trainer: best-fit packing, loss falls, accumulation normalization,
 * bit-for-bit resume, and the curve in train_log. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "test.h"
#include "core/db.h"
#include "core/err.h"
#include "core/rng.h"
#include "core/tokset.h"
#include "distill/ckpt.h"
#include "distill/model.h"
#include "distill/train.h"
#include "distill/blas_arch.h"

/* A learnable task: BOS a b c SEP c b a EOS, loss on the reversed part. */
enum { V = 48, BOS = 1, SEP = 2, EOS = 3 };
static void make_data(tokset_t *ts, int n, uint64_t seed) {
    tokset_init(ts);
    ts->vocab_size = V; ts->bos_id = BOS; ts->eos_id = EOS;
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int k = (int)rng_range(&r, 2, 6);
        uint32_t ids[32];
        uint8_t mask[32];
        int t = 0;
        ids[t] = BOS; mask[t++] = 0;
        uint32_t x[8];
        for (int j = 0; j < k; j++) { x[j] = (uint32_t)rng_range(&r, 4, V - 1); ids[t] = x[j]; mask[t++] = 0; }
        ids[t] = SEP; mask[t++] = 0;
        for (int j = k - 1; j >= 0; j--) { ids[t] = x[j]; mask[t++] = 1; }
        ids[t] = EOS; mask[t++] = 1;
        tokset_push(ts, i + 1, i % 10 == 9, ids, mask, t);
    }
}

static void test_packing(void) {
    rng_t r;
    rng_seed(&r, 5);
    int n = 500, cap = 64, len[500], row_of[500];
    long sum = 0;
    for (int i = 0; i < n; i++) sum += (len[i] = (int)rng_range(&r, 1, cap));
    int rows = pack_best_fit(len, n, cap, row_of);
    int *fill = calloc(rows, sizeof(int));
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (row_of[i] < 0 || row_of[i] >= rows) ok = 0;
        else fill[row_of[i]] += len[i];
    }
    for (int k = 0; k < rows; k++) ok &= fill[k] <= cap && fill[k] > 0;
    CHECK(ok);
    long lower = (sum + cap - 1) / cap;
    CHECKF(rows <= lower * 105 / 100 + 1, "best fit used %d rows, lower bound %ld", rows, lower);
    free(fill);
}

static model_config cfg(void) {
    model_config c;
    model_preset("tiny", &c);
    c.V = V; c.H = 32; c.I = 64; c.nh = 4; c.nkv = 2; c.hd = 8;
    return c;
}

static void opts(train_opts *o, const char *out) {
    train_opts_default(o);
    o->seq_len = 64; o->batch = 4; o->accum = 2; o->lr = 3e-3; o->warmup = 5; o->progress = 0;
    o->out_dir = out; o->save_dtype = CKPT_F32; o->init = "test";
}

int main(int argc, char **argv) {
    (void)argc;
    blas_init(argv);
    openblas_set_num_threads(1);
    char tmp[] = "/tmp/retort-train-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    char out1[256], out2[256], dbp[256];
    snprintf(out1, sizeof out1, "%s/a", tmp);
    snprintf(out2, sizeof out2, "%s/b", tmp);
    snprintf(dbp, sizeof dbp, "%s/t.db", tmp);
    test_packing();

    tokset_t ts;
    make_data(&ts, 3000, 3);
    sqlite3 *db;
    CHECK(db_open(dbp, DB_CREATE, &db) == 0);
    model_config c = cfg();

    /* loss falls, val loss is logged */
    model_t m;
    model_create(&m, &c);
    model_init_random(&m, 1);
    train_opts o;
    opts(&o, out1);
    o.steps = 300; o.lr = 1e-2; o.eval_every = 100; o.db = db;
    CHECK(distill_train(&m, &ts, &o) == 0);
    double first = 0;
    sqlite3_stmt *st;
    db_prepare(db, "SELECT loss FROM train_log WHERE train_run_id=? AND step=1", &st);
    sqlite3_bind_int64(st, 1, o.train_run_id);
    if (sqlite3_step(st) == SQLITE_ROW) first = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    CHECKF(first > 3.0 && o.final_loss < first - 1.0 && o.final_val_loss < first - 1.0,
           "loss %.3f -> %.3f (val %.3f)", first, o.final_loss, o.final_val_loss);
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM train_log WHERE train_run_id=%lld", (long long)o.train_run_id);
    CHECK(db_int(db, q, 0) == 300);
    snprintf(q, sizeof q, "SELECT count(*) FROM train_log WHERE train_run_id=%lld AND val_loss IS NOT NULL", (long long)o.train_run_id);
    CHECK(db_int(db, q, 0) == 3);
    snprintf(q, sizeof q, "SELECT count(*) FROM train_runs WHERE id=%lld AND status='ok' AND n_train=2700 AND n_val=300", (long long)o.train_run_id);
    CHECK(db_int(db, q, 0) == 1);
    /* the written checkpoint is the trained model */
    model_t back;
    CHECK(ckpt_load(out1, &back) == 0);
    CHECK(back.nparams == m.nparams && memcmp(back.params, m.params, m.nparams * 4) == 0);
    model_free(&back);
    model_free(&m);

    /* accumulation: batch 4 x accum 2 equals batch 8 x accum 1 (same rows, same normalization) */
    model_t a, b;
    model_create(&a, &c); model_init_random(&a, 2);
    model_create(&b, &c); model_init_random(&b, 2);
    train_opts oa, ob;
    opts(&oa, out2); oa.steps = 1; oa.batch = 4; oa.accum = 2; oa.warmup = 0; oa.clip = 0;
    opts(&ob, out2); ob.steps = 1; ob.batch = 8; ob.accum = 1; ob.warmup = 0; ob.clip = 0;
    CHECK(distill_train(&a, &ts, &oa) == 0);
    CHECK(distill_train(&b, &ts, &ob) == 0);
    double worst = 0;
    for (size_t i = 0; i < a.nparams; i++) worst = fmax(worst, fabs(a.grads[i] - b.grads[i]));
    CHECKF(worst < 1e-6 && fabs(oa.final_loss - ob.final_loss) < 1e-5, "accumulated grads differ by %.3g, loss %.6f vs %.6f",
           worst, oa.final_loss, ob.final_loss);
    model_free(&a); model_free(&b);

    /* resume: 12 steps straight vs 6 + resume; the loss curves are equal bit for bit */
    model_t u, r1, r2;
    train_opts ou, o1, o2;
    snprintf(out1, sizeof out1, "%s/straight", tmp);
    snprintf(out2, sizeof out2, "%s/resumed", tmp);
    model_create(&u, &c); model_init_random(&u, 4);
    opts(&ou, out1); ou.steps = 12; ou.db = db; ou.eval_every = 4;
    CHECK(distill_train(&u, &ts, &ou) == 0);
    /* interrupted run: the same 12-step schedule, stopped after the step-6 checkpoint */
    model_create(&r1, &c); model_init_random(&r1, 4);
    opts(&o1, out2); o1.steps = 12; o1.save_every = 6; o1.db = db; o1.eval_every = 4;
    CHECK(distill_train(&r1, &ts, &o1) == 0);
    model_create(&r2, &c); model_init_random(&r2, 99); /* resume must overwrite everything */
    opts(&o2, out2); o2.steps = 12; o2.save_every = 6; o2.resume = 1; o2.db = db; o2.eval_every = 4;
    CHECK(distill_train(&r2, &ts, &o2) == 0);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM train_log x JOIN train_log y ON x.step = y.step "
             "WHERE x.train_run_id=%lld AND y.train_run_id=%lld AND x.loss = y.loss AND x.grad_norm = y.grad_norm "
             "AND x.lr = y.lr AND x.val_loss IS y.val_loss",
             (long long)ou.train_run_id, (long long)o2.train_run_id);
    CHECKF(db_int(db, q, 0) == 6, "resumed steps 7..12 equal to the straight run: %lld of 6", (long long)db_int(db, q, 0));
    CHECK(memcmp(u.params, r2.params, u.nparams * 4) == 0);
    snprintf(q, sizeof q, "SELECT min(step) FROM train_log WHERE train_run_id=%lld", (long long)o2.train_run_id);
    CHECK(db_int(db, q, 0) == 7);
    model_free(&u); model_free(&r1); model_free(&r2);

    db_close(db);
    tokset_free(&ts);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    return test_report("test_train");
}
