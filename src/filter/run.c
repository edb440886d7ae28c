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
#include "core/sys.h"

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
    double wait_s;      /* seconds threads spent blocked on the queue */
    batch *pool;        /* written batches, kept for reuse: their arrays are
                           large enough that malloc would hand them back to the
                           kernel and fault fresh zeroed pages in every time */
} queue;

static batch *q_batch(queue *q) {
    pthread_mutex_lock(&q->mu);
    batch *b = q->pool;
    if (b) q->pool = b->next;
    pthread_mutex_unlock(&q->mu);
    if (!b) {
        b = xcalloc(1, sizeof *b);
        sb_init(&b->arena);
    }
    b->n = 0;
    b->next = NULL;
    sb_reset(&b->arena);
    return b;
}

static void q_recycle(queue *q, batch *b) {
    pthread_mutex_lock(&q->mu);
    b->next = q->pool;
    q->pool = b;
    pthread_mutex_unlock(&q->mu);
}


static void q_put(queue *q, batch *b) {
    pthread_mutex_lock(&q->mu);
    if (q->len >= q->cap) {
        double t = clock_now();
        while (q->len >= q->cap) pthread_cond_wait(&q->cv_put, &q->mu);
        q->wait_s += clock_now() - t;
    }
    b->next = NULL;
    if (q->tail) q->tail->next = b;
    else q->head = b;
    q->tail = b;
    q->len++;
    pthread_cond_signal(&q->cv_get);
    pthread_mutex_unlock(&q->mu);
}

/* Take the head batch (NULL when empty); the caller holds q->mu. */
static batch *q_pop_locked(queue *q) {
    batch *b = q->head;
    if (b) {
        q->head = b->next;
        if (!q->head) q->tail = NULL;
        q->len--;
        pthread_cond_signal(&q->cv_put);
    }
    return b;
}

static batch *q_get(queue *q) {
    pthread_mutex_lock(&q->mu);
    if (!q->head && q->producers > 0) {
        double t = clock_now();
        while (!q->head && q->producers > 0) pthread_cond_wait(&q->cv_get, &q->mu);
        q->wait_s += clock_now() - t;
    }
    batch *b = q_pop_locked(q);
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

/* One judging thread's state: its read-only connection, prepared statement,
 * judge scratch and the members of the problem being grouped. The writer
 * thread has one too: it judges chunks between writes. */
typedef struct {
    sqlite3 *db;
    judge_ctx *J;
    sqlite3_stmt *st;           /* traces of a chunk, in problem order */
    sqlite3_stmt *pst;          /* the chunk's problems, in id order: merged, not joined per trace */
    member *mem;
    member **tmp;
    size_t mcap;
    ans_truth truth;
    verdict_t v;
} judger;

static void judger_free(judger *W) {
    if (W->st) sqlite3_finalize(W->st);
    if (W->pst) sqlite3_finalize(W->pst);
    free(W->mem);
    free(W->tmp);
    verdict_free(&W->v);
    ans_truth_free(&W->truth);
    judge_free(W->J);
    db_close(W->db);
    memset(W, 0, sizeof *W);
}

static int judger_init(judger *W, shared *S) {
    memset(W, 0, sizeof *W);
    ans_truth_init(&W->truth);
    verdict_init(&W->v);
    if (db_open(S->db_path, DB_READONLY, &W->db)) return -1;
    W->J = judge_new(S->cfg);
    if (!W->J) return -1;
    /* Read the traces through a memory map instead of a pread and a copy per
     * page (read-only connection: nothing is written through the map). */
    db_exec(W->db, "PRAGMA mmap_size = 1099511627776");
    /* Traces of a chunk in problem order, and the chunk's problems read
     * alongside in id order (a merge): one problem row per problem instead
     * of a problem lookup and four problem columns per trace. */
    const char *sql_fresh =
        "SELECT t.id, t.problem_id, t.teacher_id, t.text, t.finish_reason, t.think_prefilled, t.n_tokens,"
        " NULL, NULL, NULL FROM traces t"
        " WHERE t.problem_id BETWEEN ?1 AND ?2 ORDER BY t.problem_id";
    const char *sql_join =
        "SELECT t.id, t.problem_id, t.teacher_id, CASE WHEN v.trace_id IS NULL THEN t.text END, t.finish_reason,"
        " t.think_prefilled, t.n_tokens, v.pass, v.keep, v.text_hash FROM traces t"
        " LEFT JOIN verdicts v ON v.filter_id = ?3 AND v.trace_id = t.id"
        " WHERE t.problem_id BETWEEN ?1 AND ?2 ORDER BY t.problem_id";
    if (db_prepare(W->db, "SELECT id, answer, answer_type, lang, knobs FROM problems WHERE id BETWEEN ?1 AND ?2"
                          " ORDER BY id", &W->pst)) return -1;
    return db_prepare(W->db, S->fresh ? sql_fresh : sql_join, &W->st);
}

/* Judge the next chunk of problems. Returns its batch (NULL when it held no
 * trace), and sets *done when no chunk is left or on error (S->failed). */
static batch *judger_next(judger *W, shared *S, int *done) {
    *done = 0;
    if (atomic_load(&S->failed)) { *done = 1; return NULL; }
    int64_t lo = atomic_fetch_add(&S->next, S->chunk);
    if (lo > S->pmax) { *done = 1; return NULL; }
    int64_t hi = lo + S->chunk - 1;
    sqlite3_stmt *st = W->st;
    judge_ctx *J = W->J;
    verdict_t *v = &W->v;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    if (!S->fresh) sqlite3_bind_int64(st, 3, S->filter_id);
    sqlite3_stmt *pst = W->pst;
    sqlite3_reset(pst);
    sqlite3_bind_int64(pst, 1, lo);
    sqlite3_bind_int64(pst, 2, hi);
    int64_t at_pid = lo - 1;    /* the problem row pst is on */
    int prc = SQLITE_ROW;       /* pst's last step */
    int have_problem = 0;
    unsigned scripts = 0;
    batch *b = q_batch(&S->q);
    int64_t cur = -1;
    size_t nm = 0;
    int rc;
    int percent = 0;
    while (1) {
        rc = sqlite3_step(st);
        int64_t pid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : -2;
        if (pid != cur) {
            if (nm) select_group(S->cfg, W->mem, nm, W->tmp, b);
            nm = 0;
            cur = pid;
            if (rc == SQLITE_ROW) {
                while (prc == SQLITE_ROW && at_pid < pid) {
                    prc = sqlite3_step(pst);
                    if (prc == SQLITE_ROW) at_pid = sqlite3_column_int64(pst, 0);
                }
                if (prc != SQLITE_ROW && prc != SQLITE_DONE) { rc = prc; break; }
                /* a trace whose problem row is missing is left unjudged, as an inner join would */
                have_problem = prc == SQLITE_ROW && at_pid == pid;
                if (have_problem) {
                    const char *answer = (const char *)sqlite3_column_text(pst, 1);
                    const char *atype = (const char *)sqlite3_column_text(pst, 2);
                    ans_truth_set(judge_ans_scratch(J), &W->truth, answer, atype && !strcmp(atype, "text"));
                    scripts = lang_scripts((const char *)sqlite3_column_text(pst, 3));
                    percent = knobs_percent((const char *)sqlite3_column_text(pst, 4));
                }
            }
        }
        if (rc != SQLITE_ROW) break;
        if (!have_problem) continue;
        if (nm == W->mcap) {
            W->mcap = W->mcap ? W->mcap * 2 : 64;
            W->mem = xrealloc(W->mem, W->mcap * sizeof *W->mem);
            W->tmp = xrealloc(W->tmp, W->mcap * sizeof *W->tmp);
        }
        member *m = &W->mem[nm++];
        memset(m, 0, sizeof *m);
        m->trace_id = sqlite3_column_int64(st, 0);
        if (!S->fresh && sqlite3_column_type(st, 7) != SQLITE_NULL) {
            m->is_new = 0;
            m->pass = sqlite3_column_int(st, 7);
            m->old_keep = sqlite3_column_int(st, 8);
            m->hash = (uint64_t)sqlite3_column_int64(st, 9);
            continue;
        }
        m->is_new = 1;
        int64_t tid = sqlite3_column_int64(st, 2);
        const char *fr = (const char *)sqlite3_column_text(st, 4);
        judge_input in = {
            .text = (const char *)sqlite3_column_blob(st, 3),
            .len = (size_t)sqlite3_column_bytes(st, 3),
            .format = (tid >= 0 && tid < S->n_teachers && S->teacher_fmt[tid] == FMT_TAGGED) ? FMT_TAGGED : FMT_R1,
            .prefilled = sqlite3_column_int(st, 5),
            .finish = fr && fr[0] == 'l' ? FINISH_LENGTH : fr && fr[0] == 'e' ? FINISH_ERROR : FINISH_STOP,
            .n_tokens = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6),
            .lang_scripts = scripts,
            .truth = &W->truth,
            .percent = percent,
        };
        judge_trace(J, &in, v);
        m->rec_index = b->n;
        m->pass = v->pass;
        m->n_chars = v->n_chars;
        m->hash = v->text_hash;
        rec *r = batch_push(b);
        r->trace_id = m->trace_id;
        r->pass = v->pass;
        r->reasons = v->reasons;
        r->format_status = v->format_status;
        r->correct = v->correct;
        r->lang = v->lang_ratio;
        r->dupx = v->dup_excess;
        r->topx = v->top_excess;
        r->loop = v->loop_period;
        r->n_chars = v->n_chars;
        r->n_tokens = in.n_tokens;
        r->hash = v->text_hash;
        r->ans_off = (uint32_t)b->arena.len;
        r->ans_len = v->answer ? (uint32_t)v->answer_len : UINT32_MAX;
        if (v->answer) sb_putn(&b->arena, v->answer, v->answer_len);
        r->norm_off = (uint32_t)b->arena.len;
        r->norm_len = (uint32_t)v->answer_norm.len;
        sb_putn(&b->arena, v->answer_norm.s ? v->answer_norm.s : "", v->answer_norm.len);
        r->meas_off = (uint32_t)b->arena.len;
        size_t before = b->arena.len;
        verdict_measures(v, &b->arena);
        r->meas_len = (uint32_t)(b->arena.len - before);
    }
    sqlite3_reset(pst);   /* end the read transaction with the chunk */
    if (rc != SQLITE_DONE) {
        err_set("reading traces: %s", sqlite3_errmsg(W->db));
        fail_shared(S, "worker");
        q_recycle(&S->q, b);
        *done = 1;
        return NULL;
    }
    if (!b->n) { q_recycle(&S->q, b); return NULL; }
    return b;
}

/* A helper thread: judge chunks and hand their batches to the writer. */
static void *worker(void *arg) {
    shared *S = arg;
    judger W;
    if (judger_init(&W, S)) fail_shared(S, "worker");
    else
        for (int done = 0; !done;) {
            batch *b = judger_next(&W, S, &done);
            if (b) q_put(&S->q, b);
        }
    judger_free(&W);
    pthread_mutex_lock(&S->q.mu);
    S->q.producers--;
    pthread_cond_broadcast(&S->q.cv_get);
    pthread_mutex_unlock(&S->q.mu);
    return NULL;
}

/* A batch from the queue without waiting, or NULL. */
static batch *q_try_get(queue *q) {
    pthread_mutex_lock(&q->mu);
    batch *b = q_pop_locked(q);
    pthread_mutex_unlock(&q->mu);
    return b;
}

/* The writer's side: one connection, two prepared statements, large
 * transactions committed only between batches (a batch holds whole problems,
 * so a kill never leaves a problem half judged). */
typedef struct {
    sqlite3 *db;
    int64_t filter_id;
    sqlite3_stmt *ins, *upd;
    strbuf reasons;
    int in_tx, rc;
    int64_t since_commit;
    filter_stats *stats;
} writer;

#define COMMIT_ROWS 50000

static void writer_put(writer *Wr, shared *S, batch *b) {
    sqlite3 *db = Wr->db;
    sqlite3_stmt *ins = Wr->ins, *upd = Wr->upd;
    filter_stats *stats = Wr->stats;
    int64_t filter_id = Wr->filter_id;
    int rc = Wr->rc;
    if (rc == 0 && !Wr->in_tx) {
        if (db_begin(db)) rc = -1;
        else Wr->in_tx = 1;
    }
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
        strbuf *reasons = &Wr->reasons;
        sb_reset(reasons);
        reasons_put(reasons, r->reasons);
        sqlite3_bind_int64(ins, 1, filter_id);
        sqlite3_bind_int64(ins, 2, r->trace_id);
        sqlite3_bind_int(ins, 3, r->pass);
        sqlite3_bind_int(ins, 4, r->keep);
        sqlite3_bind_text(ins, 5, reasons->s ? reasons->s : "", (int)reasons->len, SQLITE_STATIC);
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
    Wr->since_commit += (int64_t)b->n;
    if (rc == 0 && Wr->since_commit >= COMMIT_ROWS) {
        if (db_commit(db)) rc = -1;
        Wr->in_tx = 0;
        Wr->since_commit = 0;
    }
    if (rc && !Wr->rc) {
        Wr->rc = rc;
        fail_shared(S, "writer");
    }
    q_recycle(&S->q, b);
}

int filter_run(const char *db_path, sqlite3 *db, int64_t filter_id, const filter_config *cfg, int threads, filter_stats *stats) {
    double t0 = clock_now();
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

    /* The writer: the calling thread stores every verdict and also judges
     * chunks itself; threads - 1 helper threads only judge. So --threads N
     * is N busy threads in all, and --threads 1 judges and writes on one. */
    writer Wr = {.db = db, .filter_id = filter_id, .stats = stats};
    sb_init(&Wr.reasons);
    if (db_prepare(db, "INSERT INTO verdicts(filter_id, trace_id, pass, keep, reasons, answer, answer_norm, correct,"
                       " format_status, lang_ratio, dup_ngram_frac, top_ngram_frac, loop_period, n_chars, n_tokens,"
                       " measures, text_hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)", &Wr.ins) ||
        db_prepare(db, "UPDATE verdicts SET keep = ?2 WHERE filter_id = ?1 AND trace_id = ?3", &Wr.upd)) {
        if (Wr.ins) sqlite3_finalize(Wr.ins);
        sb_free(&Wr.reasons);
        free(S.teacher_fmt);
        return -1;
    }
    judger W0;
    if (judger_init(&W0, &S)) {
        judger_free(&W0);
        sqlite3_finalize(Wr.ins);
        sqlite3_finalize(Wr.upd);
        sb_free(&Wr.reasons);
        free(S.teacher_fmt);
        return -1;
    }
    /* A big page cache for the verdict B-trees, and no WAL checkpoint in the
     * middle of the run (the WAL is checkpointed once at the end). */
    db_exec(db, "PRAGMA cache_size = -262144");
    db_exec(db, "PRAGMA wal_autocheckpoint = 0");
    /* Foreign-key enforcement costs a lookup into traces (a separate page
     * cache from the readers') and into filters for every verdict: about 30%
     * of the CPU of a whole run. Both keys hold by construction here: the
     * filter row exists, and every trace id was just read from this
     * database's traces table, which no retort command deletes from. So the
     * insert runs without it; it is switched back on after the run. */
    int fk_was_on = db_int(db, "PRAGMA foreign_keys", 0) == 1;
    db_exec(db, "PRAGMA foreign_keys = OFF");

    pthread_mutex_init(&S.q.mu, NULL);
    pthread_cond_init(&S.q.cv_put, NULL);
    pthread_cond_init(&S.q.cv_get, NULL);
    int helpers = threads - 1;
    S.q.cap = 4 * threads + 4;
    S.q.producers = helpers;
    pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
    for (int i = 0; i < helpers; i++) pthread_create(&tids[i], NULL, worker, &S);

    /* Writing comes first (helpers wait on a full queue); between writes this
     * thread judges a chunk of its own until none is left, then it drains
     * the queue until every helper is done. */
    int own_done = 0;
    batch *b;
    for (;;) {
        while ((b = q_try_get(&S.q))) writer_put(&Wr, &S, b);
        if (!own_done) {
            b = judger_next(&W0, &S, &own_done);
            if (b) writer_put(&Wr, &S, b);
            continue;
        }
        if (!(b = q_get(&S.q))) break;
        writer_put(&Wr, &S, b);
    }
    for (int i = 0; i < helpers; i++) pthread_join(tids[i], NULL);
    judger_free(&W0);
    while ((b = S.q.pool)) {
        S.q.pool = b->next;
        batch_free(b);
    }
    int rc = Wr.rc;
    if (rc == 0 && atomic_load(&S.failed)) {
        err_set("%s", S.errbuf);
        rc = -1;
    }
    if (Wr.in_tx) {
        if (rc == 0) { if (db_commit(db)) rc = -1; }
        else db_rollback(db);
    }
    if (fk_was_on) db_exec(db, "PRAGMA foreign_keys = ON");
    db_exec(db, "PRAGMA wal_autocheckpoint = 16384");   /* db_open's setting */
    db_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    sb_free(&Wr.reasons);
    sqlite3_finalize(Wr.ins);
    sqlite3_finalize(Wr.upd);
    free(tids);
    free(S.teacher_fmt);
    stats->wait_seconds = S.q.wait_s;
    stats->seconds = clock_now() - t0;
    return rc;
}
