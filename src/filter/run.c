#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "filter/run.h"
#include "filter/words.h"

/* ---- filters rows ---------------------------------------------------------- */
int filter_ensure(sqlite3 *db, const filter_config *cfg, int64_t run_id, int64_t *filter_id, int *created) {
    char *json = filter_config_json(cfg);
    char hash[33];
    sha256_hex(json, strlen(json), hash, 16);
    sqlite3_stmt *st;
    int rc = -1;
    *created = 0;
    if (db_prepare(db, "SELECT id FROM filters WHERE hash = ?", &st)) goto out;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *filter_id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        rc = 0;
        goto out;
    }
    sqlite3_finalize(st);
    if (db_prepare(db, "INSERT INTO filters(hash, config, run_id) VALUES (?, ?, ?)", &st)) goto out;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
    if (run_id > 0) sqlite3_bind_int64(st, 3, run_id);
    else sqlite3_bind_null(st, 3);
    if (sqlite3_step(st) != SQLITE_DONE) { err_set("storing filter: %s", sqlite3_errmsg(db)); sqlite3_finalize(st); goto out; }
    sqlite3_finalize(st);
    *filter_id = sqlite3_last_insert_rowid(db);
    *created = 1;
    rc = 0;
out:
    free(json);
    return rc;
}

int filter_load(sqlite3 *db, int64_t filter_id, filter_config *cfg) {
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT config FROM filters WHERE id = ?", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        filter_config_default(cfg);
        rc = j ? filter_config_from_json(cfg, j) : -1;
        if (!j) err_set("filter %lld: stored config is not JSON", (long long)filter_id);
        cJSON_Delete(j);
    } else {
        err_set("no filter with id %lld", (long long)filter_id);
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t filter_pending(sqlite3 *db, int64_t filter_id) {
    sqlite3_stmt *st;
    if (db_prepare(db, "SELECT count(*) FROM traces t WHERE NOT EXISTS "
                       "(SELECT 1 FROM verdicts v WHERE v.filter_id = ? AND v.trace_id = t.id)", &st)) return -1;
    sqlite3_bind_int64(st, 1, filter_id);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* ---- work items ---------------------------------------------------------- */
/* One verdict to insert, or a keep flag to update on an older verdict. Strings
 * live in the batch's arena. */
typedef struct {
    int64_t trace_id;
    int is_update;
    int pass, keep, correct;
    uint32_t reasons;
    const char *format_status;
    uint32_t ans_off, ans_len, norm_off, norm_len, meas_off, meas_len;
    double lang, dupx, topx;
    int64_t loop, n_chars, n_tokens;
    uint64_t hash;
} rec;

typedef struct batch {
    rec *r;
    size_t n, cap;
    strbuf arena;
    struct batch *next;
} batch;

static rec *batch_push(batch *b) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->r = xrealloc(b->r, b->cap * sizeof *b->r);
    }
    rec *r = &b->r[b->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static void batch_free(batch *b) {
    free(b->r);
    sb_free(&b->arena);
    free(b);
}

/* A bounded queue from workers to the writer. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv_put, cv_get;
    batch *head, *tail;
    int len, cap, producers;
} queue;

static void q_put(queue *q, batch *b) {
    pthread_mutex_lock(&q->mu);
    while (q->len >= q->cap) pthread_cond_wait(&q->cv_put, &q->mu);
    b->next = NULL;
    if (q->tail) q->tail->next = b;
    else q->head = b;
    q->tail = b;
    q->len++;
    pthread_cond_signal(&q->cv_get);
    pthread_mutex_unlock(&q->mu);
}

static batch *q_get(queue *q) {
    pthread_mutex_lock(&q->mu);
    while (!q->head && q->producers > 0) pthread_cond_wait(&q->cv_get, &q->mu);
    batch *b = q->head;
    if (b) {
        q->head = b->next;
        if (!q->head) q->tail = NULL;
        q->len--;
        pthread_cond_signal(&q->cv_put);
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

typedef struct {
    const char *db_path;
    int64_t filter_id;
    const filter_config *cfg;
    int64_t pmin, pmax, chunk;
    _Atomic int64_t next;
    int fresh;                  /* no verdict exists for this filter: skip the join */
    int64_t *teacher_fmt;       /* teacher id -> fmt_kind, -1 unknown */
    int64_t n_teachers;
    queue q;
    _Atomic int failed;
    char errbuf[512];
    pthread_mutex_t err_mu;
} shared;

/* One trace of the current problem group. */
typedef struct {
    int64_t trace_id;
    int is_new, pass, keep, old_keep;
    int64_t n_chars;
    uint64_t hash, order;
    size_t rec_index;           /* in the batch, for new ones */
} member;

static int cmp_shortest(const void *a, const void *b) {
    const member *x = *(member *const *)a, *y = *(member *const *)b;
    if (x->n_chars != y->n_chars) return x->n_chars < y->n_chars ? -1 : 1;
    return x->trace_id < y->trace_id ? -1 : x->trace_id > y->trace_id;
}

static int cmp_random(const void *a, const void *b) {
    const member *x = *(member *const *)a, *y = *(member *const *)b;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return x->trace_id < y->trace_id ? -1 : x->trace_id > y->trace_id;
}

/* Dedup and per-problem selection over one problem's members, then emit
 * keep flags into the batch (new rows) or update records (old rows). */
static void select_group(const filter_config *cfg, member *m, size_t n, member **tmp, batch *b) {
    int any_new = 0;
    for (size_t i = 0; i < n; i++) any_new |= m[i].is_new;
    if (!any_new) return;
    /* exact duplicates among passing traces: the first in order stays */
    for (size_t i = 0; i < n; i++) {
        if (!m[i].pass || !m[i].is_new) continue;
        for (size_t k = 0; k < n; k++) {
            if (k == i || !m[k].pass || m[k].hash != m[i].hash) continue;
            if (!m[k].is_new || k < i) {
                m[i].pass = 0;
                rec *r = &b->r[m[i].rec_index];
                r->pass = 0;
                r->reasons |= 1u << R_DUPLICATE;
                break;
            }
        }
    }
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        m[i].keep = 0;
        if (m[i].pass) tmp[np++] = &m[i];
    }
    size_t k = np;
    if (cfg->policy != POLICY_ALL && cfg->per_problem > 0 && (size_t)cfg->per_problem < np) {
        if (cfg->policy == POLICY_SHORTEST) qsort(tmp, np, sizeof *tmp, cmp_shortest);
        else {
            for (size_t i = 0; i < np; i++) tmp[i]->order = mix64(cfg->seed ^ mix64((uint64_t)tmp[i]->trace_id));
            qsort(tmp, np, sizeof *tmp, cmp_random);
        }
        k = (size_t)cfg->per_problem;
    }
    for (size_t i = 0; i < k; i++) tmp[i]->keep = 1;
    for (size_t i = 0; i < n; i++) {
        if (m[i].is_new) b->r[m[i].rec_index].keep = m[i].keep;
        else if (m[i].keep != m[i].old_keep) {
            rec *r = batch_push(b);
            r->is_update = 1;
            r->trace_id = m[i].trace_id;
            r->keep = m[i].keep;
        }
    }
}

static void fail_shared(shared *S, const char *what) {
    pthread_mutex_lock(&S->err_mu);
    if (!atomic_load(&S->failed)) snprintf(S->errbuf, sizeof S->errbuf, "%s: %s", what, err_msg());
    atomic_store(&S->failed, 1);
    pthread_mutex_unlock(&S->err_mu);
}

static int knob_percent(const char *knobs) {
    /* the knobs JSON is tiny; look before parsing */
    if (!knobs || !strstr(knobs, "\"percent\"")) return 0;
    cJSON *j = cJSON_Parse(knobs);
    int p = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "percent"));
    cJSON_Delete(j);
    return p;
}

static void *worker(void *arg) {
    shared *S = arg;
    sqlite3 *db = NULL;
    judge_ctx *J = NULL;
    sqlite3_stmt *st = NULL;
    member *mem = NULL;
    member **tmp = NULL;
    size_t mcap = 0;
    ans_truth truth;
    ans_truth_init(&truth);
    verdict_t v;
    verdict_init(&v);
    if (db_open(S->db_path, DB_READONLY, &db)) { fail_shared(S, "worker"); goto done; }
    J = judge_new(S->cfg);
    if (!J) { fail_shared(S, "worker"); goto done; }
    const char *sql_fresh =
        "SELECT t.id, t.problem_id, t.teacher_id, t.text, t.finish_reason, t.think_prefilled, t.n_tokens,"
        " p.answer, p.answer_type, p.lang, p.knobs, NULL, NULL, NULL"
        " FROM traces t JOIN problems p ON p.id = t.problem_id"
        " WHERE t.problem_id BETWEEN ?1 AND ?2 ORDER BY t.problem_id";
    const char *sql_join =
        "SELECT t.id, t.problem_id, t.teacher_id, CASE WHEN v.trace_id IS NULL THEN t.text END, t.finish_reason,"
        " t.think_prefilled, t.n_tokens, p.answer, p.answer_type, p.lang, p.knobs, v.pass, v.keep, v.text_hash"
        " FROM traces t JOIN problems p ON p.id = t.problem_id"
        " LEFT JOIN verdicts v ON v.filter_id = ?3 AND v.trace_id = t.id"
        " WHERE t.problem_id BETWEEN ?1 AND ?2 ORDER BY t.problem_id";
    if (db_prepare(db, S->fresh ? sql_fresh : sql_join, &st)) { fail_shared(S, "worker"); goto done; }
    strbuf meas;
    sb_init(&meas);
    for (;;) {
        if (atomic_load(&S->failed)) break;
        int64_t lo = atomic_fetch_add(&S->next, S->chunk);
        if (lo > S->pmax) break;
        int64_t hi = lo + S->chunk - 1;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, lo);
        sqlite3_bind_int64(st, 2, hi);
        if (!S->fresh) sqlite3_bind_int64(st, 3, S->filter_id);
        batch *b = xcalloc(1, sizeof *b);
        sb_init(&b->arena);
        int64_t cur = -1;
        size_t nm = 0;
        int rc;
        int percent = 0;
        while (1) {
            rc = sqlite3_step(st);
            int64_t pid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : -2;
            if (pid != cur) {
                if (nm) {
                    if (nm > mcap) {}
                    select_group(S->cfg, mem, nm, tmp, b);
                }
                nm = 0;
                cur = pid;
                if (rc == SQLITE_ROW) {
                    const char *answer = (const char *)sqlite3_column_text(st, 7);
                    const char *atype = (const char *)sqlite3_column_text(st, 8);
                    ans_truth_set(judge_ans_scratch(J), &truth, answer, atype && !strcmp(atype, "text"));
                    percent = knob_percent((const char *)sqlite3_column_text(st, 10));
                }
            }
            if (rc != SQLITE_ROW) break;
            if (nm == mcap) {
                mcap = mcap ? mcap * 2 : 64;
                mem = xrealloc(mem, mcap * sizeof *mem);
                tmp = xrealloc(tmp, mcap * sizeof *tmp);
            }
            member *m = &mem[nm++];
            memset(m, 0, sizeof *m);
            m->trace_id = sqlite3_column_int64(st, 0);
            if (!S->fresh && sqlite3_column_type(st, 11) != SQLITE_NULL) {
                m->is_new = 0;
                m->pass = sqlite3_column_int(st, 11);
                m->old_keep = sqlite3_column_int(st, 12);
                m->hash = (uint64_t)sqlite3_column_int64(st, 13);
                continue;
            }
            m->is_new = 1;
            int64_t tid = sqlite3_column_int64(st, 2);
            const char *fr = (const char *)sqlite3_column_text(st, 4);
            const char *lang = (const char *)sqlite3_column_text(st, 9);
            judge_input in = {
                .text = (const char *)sqlite3_column_blob(st, 3),
                .len = (size_t)sqlite3_column_bytes(st, 3),
                .format = (tid >= 0 && tid < S->n_teachers && S->teacher_fmt[tid] == FMT_TAGGED) ? FMT_TAGGED : FMT_R1,
                .prefilled = sqlite3_column_int(st, 5),
                .finish = fr && fr[0] == 'l' ? FINISH_LENGTH : fr && fr[0] == 'e' ? FINISH_ERROR : FINISH_STOP,
                .n_tokens = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6),
                .lang_scripts = lang_scripts(lang),
                .truth = &truth,
                .percent = percent,
            };
            judge_trace(J, &in, &v);
            m->rec_index = b->n;
            m->pass = v.pass;
            m->n_chars = v.n_chars;
            m->hash = v.text_hash;
            rec *r = batch_push(b);
            r->trace_id = m->trace_id;
            r->pass = v.pass;
            r->reasons = v.reasons;
            r->format_status = v.format_status;
            r->correct = v.correct;
            r->lang = v.lang_ratio;
            r->dupx = v.dup_excess;
            r->topx = v.top_excess;
            r->loop = v.loop_period;
            r->n_chars = v.n_chars;
            r->n_tokens = in.n_tokens;
            r->hash = v.text_hash;
            r->ans_off = (uint32_t)b->arena.len;
            r->ans_len = v.answer ? (uint32_t)v.answer_len : UINT32_MAX;
            if (v.answer) sb_putn(&b->arena, v.answer, v.answer_len);
            r->norm_off = (uint32_t)b->arena.len;
            r->norm_len = (uint32_t)v.answer_norm.len;
            sb_putn(&b->arena, v.answer_norm.s ? v.answer_norm.s : "", v.answer_norm.len);
            r->meas_off = (uint32_t)b->arena.len;
            size_t before = b->arena.len;
            verdict_measures(&v, &b->arena);
            r->meas_len = (uint32_t)(b->arena.len - before);
        }
        if (rc != SQLITE_DONE) {
            err_set("reading traces: %s", sqlite3_errmsg(db));
            fail_shared(S, "worker");
            batch_free(b);
            break;
        }
        if (b->n) q_put(&S->q, b);
        else batch_free(b);
    }
    sb_free(&meas);
done:
    if (st) sqlite3_finalize(st);
    free(mem);
    free(tmp);
    verdict_free(&v);
    ans_truth_free(&truth);
    judge_free(J);
    db_close(db);
    pthread_mutex_lock(&S->q.mu);
    S->q.producers--;
    pthread_cond_broadcast(&S->q.cv_get);
    pthread_mutex_unlock(&S->q.mu);
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define COMMIT_ROWS 50000

int filter_run(const char *db_path, sqlite3 *db, int64_t filter_id, const filter_config *cfg, int threads, filter_stats *stats) {
    double t0 = now_s();
    memset(stats, 0, sizeof *stats);
    if (threads < 1) threads = 1;
    shared S = {.db_path = db_path, .filter_id = filter_id, .cfg = cfg, .chunk = 256};
    pthread_mutex_init(&S.err_mu, NULL);
    S.pmin = db_int(db, "SELECT min(problem_id) FROM traces", 1);
    S.pmax = db_int(db, "SELECT max(problem_id) FROM traces", 0);
    atomic_store(&S.next, S.pmin);
    {
        sqlite3_stmt *st;
        if (db_prepare(db, "SELECT EXISTS (SELECT 1 FROM verdicts WHERE filter_id = ?)", &st)) return -1;
        sqlite3_bind_int64(st, 1, filter_id);
        S.fresh = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
        sqlite3_finalize(st);
    }
    S.n_teachers = db_int(db, "SELECT max(id) FROM teachers", 0) + 1;
    S.teacher_fmt = xcalloc((size_t)S.n_teachers, sizeof *S.teacher_fmt);
    {
        sqlite3_stmt *st;
        if (db_prepare(db, "SELECT id, template FROM teachers", &st)) { free(S.teacher_fmt); return -1; }
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            const char *t = (const char *)sqlite3_column_text(st, 1);
            if (id >= 0 && id < S.n_teachers) S.teacher_fmt[id] = t && !strcmp(t, "tagged") ? FMT_TAGGED : FMT_R1;
        }
        sqlite3_finalize(st);
    }
    /* Make sure the workers can run (JIT available) before starting them. */
    judge_ctx *probe = judge_new(cfg);
    if (!probe) { free(S.teacher_fmt); return -1; }
    judge_free(probe);

    pthread_mutex_init(&S.q.mu, NULL);
    pthread_cond_init(&S.q.cv_put, NULL);
    pthread_cond_init(&S.q.cv_get, NULL);
    S.q.cap = 4 * threads + 4;
    S.q.producers = threads;
    pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, worker, &S);

    /* The writer: this thread. */
    sqlite3_stmt *ins = NULL, *upd = NULL;
    int rc = 0;
    if (db_prepare(db, "INSERT INTO verdicts(filter_id, trace_id, pass, keep, reasons, answer, answer_norm, correct,"
                       " format_status, lang_ratio, dup_ngram_frac, top_ngram_frac, loop_period, n_chars, n_tokens,"
                       " measures, text_hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)", &ins) ||
        db_prepare(db, "UPDATE verdicts SET keep = ?2 WHERE filter_id = ?1 AND trace_id = ?3", &upd)) {
        rc = -1;
        atomic_store(&S.failed, 1);
    }
    /* A big page cache for the verdict B-trees, and no WAL checkpoint in the
     * middle of the run (the WAL is checkpointed once at the end). */
    db_exec(db, "PRAGMA cache_size = -262144");
    db_exec(db, "PRAGMA wal_autocheckpoint = 0");
    int in_tx = 0;
    int64_t since_commit = 0;
    strbuf reasons;
    sb_init(&reasons);
    batch *b;
    while ((b = q_get(&S.q))) {
        if (rc == 0) {
            if (!in_tx) { if (db_begin(db)) { rc = -1; atomic_store(&S.failed, 1); } else in_tx = 1; }
            for (size_t i = 0; rc == 0 && i < b->n; i++) {
                rec *r = &b->r[i];
                if (r->is_update) {
                    sqlite3_bind_int64(upd, 1, filter_id);
                    sqlite3_bind_int(upd, 2, r->keep);
                    sqlite3_bind_int64(upd, 3, r->trace_id);
                    if (sqlite3_step(upd) != SQLITE_DONE) { err_set("updating verdicts: %s", sqlite3_errmsg(db)); rc = -1; }
                    sqlite3_reset(upd);
                    stats->updated++;
                    continue;
                }
                sb_reset(&reasons);
                reasons_put(&reasons, r->reasons);
                sqlite3_bind_int64(ins, 1, filter_id);
                sqlite3_bind_int64(ins, 2, r->trace_id);
                sqlite3_bind_int(ins, 3, r->pass);
                sqlite3_bind_int(ins, 4, r->keep);
                sqlite3_bind_text(ins, 5, reasons.s ? reasons.s : "", (int)reasons.len, SQLITE_STATIC);
                if (r->ans_len == UINT32_MAX) sqlite3_bind_null(ins, 6);
                else sqlite3_bind_text(ins, 6, b->arena.s + r->ans_off, (int)r->ans_len, SQLITE_STATIC);
                if (r->norm_len) sqlite3_bind_text(ins, 7, b->arena.s + r->norm_off, (int)r->norm_len, SQLITE_STATIC);
                else sqlite3_bind_null(ins, 7);
                if (r->correct < 0) sqlite3_bind_null(ins, 8);
                else sqlite3_bind_int(ins, 8, r->correct);
                sqlite3_bind_text(ins, 9, r->format_status, -1, SQLITE_STATIC);
                if (r->lang < 0) sqlite3_bind_null(ins, 10);
                else sqlite3_bind_double(ins, 10, r->lang);
                if (isnan(r->dupx)) sqlite3_bind_null(ins, 11);
                else sqlite3_bind_double(ins, 11, r->dupx);
                if (isnan(r->topx)) sqlite3_bind_null(ins, 12);
                else sqlite3_bind_double(ins, 12, r->topx);
                sqlite3_bind_int64(ins, 13, r->loop);
                sqlite3_bind_int64(ins, 14, r->n_chars);
                if (r->n_tokens < 0) sqlite3_bind_null(ins, 15);
                else sqlite3_bind_int64(ins, 15, r->n_tokens);
                sqlite3_bind_text(ins, 16, b->arena.s + r->meas_off, (int)r->meas_len, SQLITE_STATIC);
                if (r->hash) sqlite3_bind_int64(ins, 17, (int64_t)r->hash);
                else sqlite3_bind_null(ins, 17);
                if (sqlite3_step(ins) != SQLITE_DONE) { err_set("storing verdicts: %s", sqlite3_errmsg(db)); rc = -1; }
                sqlite3_reset(ins);
                stats->judged++;
                stats->passed += r->pass;
                stats->kept += r->keep;
            }
            since_commit += (int64_t)b->n;
            /* commit only between batches: a batch holds whole problems */
            if (rc == 0 && since_commit >= COMMIT_ROWS) {
                if (db_commit(db)) rc = -1;
                in_tx = 0;
                since_commit = 0;
            }
            if (rc) atomic_store(&S.failed, 1);
        }
        batch_free(b);
    }
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    if (rc == 0 && atomic_load(&S.failed)) {
        err_set("%s", S.errbuf);
        rc = -1;
    }
    if (in_tx) {
        if (rc == 0) { if (db_commit(db)) rc = -1; }
        else db_rollback(db);
    }
    db_exec(db, "PRAGMA wal_autocheckpoint = 1000");
    db_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    sb_free(&reasons);
    if (ins) sqlite3_finalize(ins);
    if (upd) sqlite3_finalize(upd);
    free(tids);
    free(S.teacher_fmt);
    stats->seconds = now_s() - t0;
    return rc;
}
