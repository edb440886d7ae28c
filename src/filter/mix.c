#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>
#include <cjson/cJSON.h>
#include "filter/mix.h"
#include "filter/decontam.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/strbuf.h"

/* ---- the SQL guard ------------------------------------------------------ */

static int guard_auth(void *ud, int action, const char *a, const char *b, const char *c, const char *d) {
    (void)ud; (void)a; (void)c; (void)d;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        /* b is the function name */
        if (b && !strcasecmp(b, "load_extension")) return SQLITE_DENY;
        return SQLITE_OK;
    default:
        return SQLITE_DENY;
    }
}

int sql_prepare_readonly(sqlite3 *db, const char *sql, sqlite3_stmt **out) {
    *out = NULL;
    sqlite3_stmt *st = NULL, *next = NULL;
    const char *tail = NULL;
    sqlite3_set_authorizer(db, guard_auth, NULL);
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
        const char *e = sqlite3_errmsg(db);
        if ((rc & 0xff) == SQLITE_AUTH || strstr(e, "not authorized"))
            err_set("refused: only a read-only SELECT is allowed (%s)", e);
        else
            err_set("%s", e);
        goto fail;
    }
    if (!st) { err_set("empty query"); goto fail; }
    /* A second statement: prepare the tail; comments and semicolons prepare to NULL. */
    while (tail && *tail) {
        const char *t2 = NULL;
        rc = sqlite3_prepare_v2(db, tail, -1, &next, &t2);
        if (rc != SQLITE_OK || next) {
            err_set("refused: exactly one SQL statement is allowed (found more after '%.40s')", sql);
            goto fail;
        }
        if (t2 == tail) break;
        tail = t2;
    }
    if (!sqlite3_stmt_readonly(st) || sqlite3_stmt_isexplain(st)) {
        err_set("refused: only a read-only SELECT is allowed");
        goto fail;
    }
    if (sqlite3_column_count(st) < 1) { err_set("the query returns no columns"); goto fail; }
    sqlite3_set_authorizer(db, NULL, NULL);
    *out = st;
    return 0;
fail:
    sqlite3_finalize(next);
    sqlite3_finalize(st);
    sqlite3_set_authorizer(db, NULL, NULL);
    return -1;
}

/* ---- candidates ---------------------------------------------------------- */

typedef struct {
    int64_t trace_id, problem_id;
    uint64_t key;        /* random order: a function of (seed, trace id) */
    int64_t n_chars, n_tokens;   /* n_tokens < 0: unknown */
    int32_t group;       /* quota group */
    int16_t fam;
    int8_t reasoning;
    int8_t val;
} cand;

typedef struct {
    char **names;
    int n, cap;
} strtab;

static int strtab_id(strtab *t, const char *s) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->names[i], s)) return i;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->names = xrealloc(t->names, (size_t)t->cap * sizeof *t->names);
    }
    t->names[t->n] = xstrdup(s);
    return t->n++;
}

static void strtab_free(strtab *t) {
    for (int i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int in_sorted(const int64_t *v, size_t n, int64_t x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && v[lo] == x;
}

/* Collect the first column of a statement as sorted, unique int64s. */
static int collect_ids(sqlite3_stmt *st, const char *what, int64_t **out, size_t *n_out) {
    size_t n = 0, cap = 1024;
    int64_t *v = xmalloc(cap * sizeof *v);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
            err_set("%s: the first column must be an integer trace id (row %zu is not)", what, n + 1);
            free(v);
            return -1;
        }
        if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        err_set("%s: %s", what, sqlite3_errmsg(sqlite3_db_handle(st)));
        free(v);
        return -1;
    }
    qsort(v, n, sizeof *v, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    *out = v;
    *n_out = u;
    return 0;
}

static void funnel(cJSON *arr, const char *step, size_t n) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "step", step);
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddItemToArray(arr, o);
}

/* Keep the candidates for which keep[i] is set; returns the new count. */
static size_t compact(cand *c, size_t n, const unsigned char *keep) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) c[m++] = c[i];
    return m;
}

static int cmp_problem_key(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->problem_id != y->problem_id) return x->problem_id < y->problem_id ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->trace_id > y->trace_id) - (x->trace_id < y->trace_id);
}

static int cmp_key(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->trace_id > y->trace_id) - (x->trace_id < y->trace_id);
}

/* ---- quotas --------------------------------------------------------------- */

typedef struct {
    int reasoning, fam;     /* fam < 0: the whole class */
    double weight;
    uint64_t quota, avail, taken;
} group;

static int parse_weights(const char *spec, strtab *fams, double **w_out, int *n_named) {
    /* weights indexed by family id; families not named weigh 1 */
    int cap = fams->n ? fams->n : 1;
    double *w = xmalloc((size_t)cap * sizeof *w);
    for (int i = 0; i < cap; i++) w[i] = -1;
    *n_named = 0;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[256];
        if (len == 0 || len >= sizeof item) { err_set("--family-weights: bad item in '%s'", spec); free(w); return -1; }
        memcpy(item, p, len); item[len] = 0;
        char *eq = strchr(item, '=');
        char *end;
        double x = eq ? strtod(eq + 1, &end) : 0;
        if (!eq || eq == item || end == eq + 1 || *end || !isfinite(x) || x < 0) {
            err_set("--family-weights: '%s' is not FAMILY=WEIGHT with a weight >= 0", item);
            free(w);
            return -1;
        }
        *eq = 0;
        int id = -1;
        for (int i = 0; i < fams->n; i++)
            if (!strcmp(fams->names[i], item)) id = i;
        if (id < 0) {
            strbuf b; sb_init(&b);
            for (int i = 0; i < fams->n; i++) sb_printf(&b, "%s%s", i ? ", " : "", fams->names[i]);
            err_set("--family-weights: family '%s' has no candidates (families with candidates: %s)", item,
                    b.len ? b.s : "none");
            sb_free(&b);
            free(w);
            return -1;
        }
        if (id < cap) w[id] = x;
        (*n_named)++;
        p += len + (comma ? 1 : 0);
    }
    for (int i = 0; i < cap; i++)
        if (w[i] < 0) w[i] = 1;
    *w_out = w;
    return 0;
}

/* Split Q over groups g[0..n) by weight, largest remainder; ties by index. */
static void apportion(group *g, int n, uint64_t Q) {
    double W = 0;
    for (int i = 0; i < n; i++) W += g[i].weight;
    if (W <= 0) {   /* nothing may be drawn: the whole quota is unmet */
        for (int i = 0; i < n; i++) g[i].quota = 0;
        return;
    }
    uint64_t sum = 0;
    double *rem = xmalloc((size_t)(n ? n : 1) * sizeof *rem);
    for (int i = 0; i < n; i++) {
        double exact = (double)Q * g[i].weight / W;
        g[i].quota = (uint64_t)floor(exact);
        rem[i] = exact - (double)g[i].quota;
        sum += g[i].quota;
    }
    while (sum < Q) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (g[i].weight > 0 && (best < 0 || rem[i] > rem[best])) best = i;
        g[best].quota++;
        rem[best] = -1;
        sum++;
    }
    free(rem);
}

/* ---- the build ------------------------------------------------------------- */

static const char *class_name(int r) { return r ? "reasoning" : "non-reasoning"; }

int mix_build(sqlite3 *db, const mix_opts *o, mix_result *res) {
    memset(res, 0, sizeof *res);
    if (!o->name || !*o->name) { err_set("--name: a mix needs a name"); return -1; }
    if (o->reasoning_share < 0 || o->reasoning_share > 1) { err_set("--reasoning-share must be in [0, 1]"); return -1; }
    if (o->val_share < 0 || o->val_share >= 1) { err_set("--val-share must be in [0, 1)"); return -1; }

    int rc = -1;
    cand *c = NULL;
    unsigned char *keep = NULL;
    int64_t *ids = NULL;
    strtab fams = {0};
    double *weights = NULL;
    group *groups = NULL;
    decontam_t *dc = NULL;
    sqlite3_stmt *st = NULL;
    cJSON *rep = cJSON_CreateObject();
    cJSON *fun = cJSON_CreateArray();
    size_t n = 0, cap = 0;
    int ngroups = 0;
    char step[512];
    int64_t old_mix = 0;

    if (db_begin(db)) return -1;

    /* The filter, and an existing mix of that name. */
    if (db_prepare(db, "SELECT count(*) FROM filters WHERE id = ?", &st)) goto out;
    sqlite3_bind_int64(st, 1, o->filter_id);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) == 0) {
        err_set("--filter %lld: no such filter (see SELECT id, created_at FROM filters)", (long long)o->filter_id);
        goto out;
    }
    sqlite3_finalize(st); st = NULL;
    if (db_prepare(db, "SELECT id, created_at FROM mixes WHERE name = ?", &st)) goto out;
    sqlite3_bind_text(st, 1, o->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        old_mix = sqlite3_column_int64(st, 0);
        if (!o->replace) {
            err_set("mix '%s' already exists (built %s); mixes are immutable: pass --replace to rebuild it",
                    o->name, (const char *)sqlite3_column_text(st, 1));
            goto out;
        }
    }
    sqlite3_finalize(st); st = NULL;

    cJSON_AddNumberToObject(rep, "filter_id", (double)o->filter_id);
    cJSON_AddNumberToObject(rep, "seed", (double)o->seed);

    /* 1. What the filter kept, on train problems. */
    if (db_prepare(db,
                   "SELECT v.trace_id, t.problem_id, p.family, p.reasoning, v.n_chars, coalesce(v.n_tokens, t.n_tokens) "
                   "FROM verdicts v JOIN traces t ON t.id = v.trace_id JOIN problems p ON p.id = t.problem_id "
                   "WHERE v.filter_id = ?1 AND v.keep = 1 AND p.split = 'train' ORDER BY v.trace_id", &st)) goto out;
    sqlite3_bind_int64(st, 1, o->filter_id);
    uint64_t seedmix = mix64(o->seed ^ 0x6d69787365656421ULL);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            c = xrealloc(c, cap * sizeof *c);
        }
        cand *x = &c[n++];
        x->trace_id = sqlite3_column_int64(st, 0);
        x->problem_id = sqlite3_column_int64(st, 1);
        x->fam = (int16_t)strtab_id(&fams, (const char *)sqlite3_column_text(st, 2));
        x->reasoning = sqlite3_column_int(st, 3) ? 1 : 0;
        x->n_chars = sqlite3_column_int64(st, 4);
        x->n_tokens = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
        x->key = mix64(seedmix + (uint64_t)x->trace_id * 0x9e3779b97f4a7c15ULL);
        x->group = -1;
        x->val = 0;
    }
    if (rc != SQLITE_DONE) { err_set("reading candidates: %s", sqlite3_errmsg(db)); rc = -1; goto out; }
    rc = -1;
    sqlite3_finalize(st); st = NULL;
    if (fams.n > 30000) { err_set("too many families (%d)", fams.n); goto out; }
    funnel(fun, "kept by the filter, train split", n);
    {
        sqlite3_stmt *q;
        if (db_prepare(db, "SELECT count(*) FROM verdicts v JOIN traces t ON t.id = v.trace_id "
                           "JOIN problems p ON p.id = t.problem_id "
                           "WHERE v.filter_id = ? AND v.keep = 1 AND p.split = 'eval'", &q)) goto out;
        sqlite3_bind_int64(q, 1, o->filter_id);
        int64_t ne = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_finalize(q);
        cJSON_AddNumberToObject(rep, "eval_split_excluded", (double)ne);
    }
    keep = xmalloc(n ? n : 1);

    /* 2. Limits and SQL curation. */
    if (o->max_chars > 0) {
        for (size_t i = 0; i < n; i++) keep[i] = c[i].n_chars <= o->max_chars;
        n = compact(c, n, keep);
        snprintf(step, sizeof step, "--max-chars %ld", o->max_chars);
        funnel(fun, step, n);
    }
    if (o->max_tokens > 0) {
        size_t missing = 0;
        for (size_t i = 0; i < n; i++) missing += c[i].n_tokens < 0;
        if (missing) {
            err_set("--max-tokens: %zu of %zu candidates have no token count (traces.n_tokens and verdicts.n_tokens "
                    "are NULL); count tokens first (retort tokenize) or use --max-chars", missing, n);
            goto out;
        }
        for (size_t i = 0; i < n; i++) keep[i] = c[i].n_tokens <= o->max_tokens;
        n = compact(c, n, keep);
        snprintf(step, sizeof step, "--max-tokens %ld", o->max_tokens);
        funnel(fun, step, n);
    }
    if (o->has_pass_rate) {
        size_t nid;
        if (db_prepare(db, "SELECT problem_id FROM v_problem_pass_rate WHERE filter_id = ?1 "
                           "AND pass_rate >= ?2 AND pass_rate <= ?3", &st)) { err_prefix("--pass-rate"); goto out; }
        sqlite3_bind_int64(st, 1, o->filter_id);
        sqlite3_bind_double(st, 2, o->pass_min);
        sqlite3_bind_double(st, 3, o->pass_max);
        if (collect_ids(st, "--pass-rate", &ids, &nid)) goto out;
        sqlite3_finalize(st); st = NULL;
        for (size_t i = 0; i < n; i++) keep[i] = (unsigned char)in_sorted(ids, nid, c[i].problem_id);
        n = compact(c, n, keep);
        free(ids); ids = NULL;
        snprintf(step, sizeof step, "--pass-rate %g:%g", o->pass_min, o->pass_max);
        funnel(fun, step, n);
    }
    if (o->where) {
        size_t nid;
        strbuf q; sb_init(&q);
        sb_printf(&q, "SELECT trace_id FROM v_candidates WHERE filter_id = %lld AND (%s\n)", (long long)o->filter_id, o->where);
        int e = sql_prepare_readonly(db, q.s, &st);
        sb_free(&q);
        if (e) { err_prefix("--where"); goto out; }
        if (collect_ids(st, "--where", &ids, &nid)) goto out;
        sqlite3_finalize(st); st = NULL;
        for (size_t i = 0; i < n; i++) keep[i] = (unsigned char)in_sorted(ids, nid, c[i].trace_id);
        n = compact(c, n, keep);
        free(ids); ids = NULL;
        snprintf(step, sizeof step, "--where %.400s", o->where);
        funnel(fun, step, n);
    }
    if (o->query) {
        size_t nid;
        if (sql_prepare_readonly(db, o->query, &st)) { err_prefix("--query"); goto out; }
        if (collect_ids(st, "--query", &ids, &nid)) goto out;
        sqlite3_finalize(st); st = NULL;
        for (size_t i = 0; i < n; i++) keep[i] = (unsigned char)in_sorted(ids, nid, c[i].trace_id);
        size_t before = n;
        n = compact(c, n, keep);
        cJSON_AddNumberToObject(rep, "query_rows", (double)nid);
        cJSON_AddNumberToObject(rep, "query_rows_not_candidates", (double)(nid - n));
        (void)before;
        free(ids); ids = NULL;
        snprintf(step, sizeof step, "--query %.400s", o->query);
        funnel(fun, step, n);
    }

    /* 3. Decontamination, per problem. */
    {
        cJSON *dj = cJSON_AddObjectToObject(rep, "decontamination");
        cJSON *ex = cJSON_CreateArray();
        dc = decontam_new(o->ngram);
        cJSON_AddNumberToObject(dj, "ngram", o->ngram);
        size_t n_eval = 0, n_file = 0;
        if (db_prepare(db, "SELECT id, prompt FROM problems WHERE split = 'eval'", &st)) goto out;
        while (sqlite3_step(st) == SQLITE_ROW) {
            decontam_add(dc, (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                         sqlite3_column_int64(st, 0));
            n_eval++;
        }
        sqlite3_finalize(st); st = NULL;
        if (o->decontam_file && decontam_add_jsonl(dc, o->decontam_file, &n_file)) {
            err_prefix("--decontaminate-against");
            cJSON_Delete(ex);
            goto out;
        }
        cJSON_AddNumberToObject(dj, "eval_problems", (double)n_eval);
        if (o->decontam_file) {
            cJSON_AddStringToObject(dj, "file", o->decontam_file);
            cJSON_AddNumberToObject(dj, "file_prompts", (double)n_file);
        }
        cJSON_AddNumberToObject(dj, "reference_ngrams", (double)decontam_size(dc));
        if (o->ngram_common > 0) {
            decontam_set_common(dc, (uint32_t)o->ngram_common);
            cJSON_AddNumberToObject(dj, "common_min_prompts", (double)o->ngram_common);
            cJSON_AddNumberToObject(dj, "common_ngrams_ignored", (double)decontam_common_count(dc));
        }
        size_t checked = 0, bad_problems = 0, bad_traces = 0, by_eval = 0, by_file = 0;
        if (decontam_size(dc) && n) {
            /* Distinct candidate problems, then one ordered pass over their prompts. */
            ids = xmalloc(n * sizeof *ids);
            for (size_t i = 0; i < n; i++) ids[i] = c[i].problem_id;
            qsort(ids, n, sizeof *ids, cmp_i64);
            size_t np = 0;
            for (size_t i = 0; i < n; i++)
                if (!np || ids[np - 1] != ids[i]) ids[np++] = ids[i];
            int64_t *bad = xmalloc(np * sizeof *bad);
            size_t nbad = 0;
            if (db_prepare(db, "SELECT id, prompt FROM problems WHERE id >= ?1 AND id <= ?2 ORDER BY id", &st)) {
                free(bad); cJSON_Delete(ex); goto out;
            }
            sqlite3_bind_int64(st, 1, ids[0]);
            sqlite3_bind_int64(st, 2, ids[np - 1]);
            size_t k = 0;
            while (k < np && sqlite3_step(st) == SQLITE_ROW) {
                int64_t pid = sqlite3_column_int64(st, 0);
                while (k < np && ids[k] < pid) k++;
                if (k == np || ids[k] != pid) continue;
                const char *pr = (const char *)sqlite3_column_text(st, 1);
                size_t len = (size_t)sqlite3_column_bytes(st, 1);
                int64_t ref;
                size_t at, mlen;
                checked++;
                if (decontam_find(dc, pr, len, &ref, &at, &mlen)) {
                    bad[nbad++] = pid;
                    if (ref < 0) by_file++; else by_eval++;
                    if (cJSON_GetArraySize(ex) < 10) {
                        cJSON *e = cJSON_CreateObject();
                        cJSON_AddNumberToObject(e, "problem_id", (double)pid);
                        if (ref < 0) {
                            char where[64];
                            snprintf(where, sizeof where, "line %lld", (long long)-ref);
                            cJSON_AddStringToObject(e, "file_line", where);
                        } else {
                            cJSON_AddNumberToObject(e, "eval_problem_id", (double)ref);
                        }
                        char *g = xmalloc(mlen + 1);
                        memcpy(g, pr + at, mlen); g[mlen] = 0;
                        cJSON_AddStringToObject(e, "ngram", g);
                        free(g);
                        cJSON_AddItemToArray(ex, e);
                    }
                }
                k++;
            }
            sqlite3_finalize(st); st = NULL;
            bad_problems = nbad;
            for (size_t i = 0; i < n; i++) {
                keep[i] = (unsigned char)!in_sorted(bad, nbad, c[i].problem_id);
                bad_traces += !keep[i];
            }
            /* example items: count traces dropped per example problem */
            cJSON *e;
            cJSON_ArrayForEach(e, ex) {
                int64_t pid = (int64_t)cJSON_GetObjectItem(e, "problem_id")->valuedouble;
                size_t t = 0;
                for (size_t i = 0; i < n; i++) t += c[i].problem_id == pid;
                cJSON_AddNumberToObject(e, "traces_dropped", (double)t);
            }
            n = compact(c, n, keep);
            free(bad);
            free(ids); ids = NULL;
        }
        cJSON_AddNumberToObject(dj, "problems_checked", (double)checked);
        cJSON_AddNumberToObject(dj, "problems_dropped", (double)bad_problems);
        cJSON_AddNumberToObject(dj, "problems_dropped_by_eval", (double)by_eval);
        cJSON_AddNumberToObject(dj, "problems_dropped_by_file", (double)by_file);
        cJSON_AddNumberToObject(dj, "traces_dropped", (double)bad_traces);
        cJSON_AddItemToObject(dj, "examples", ex);
        snprintf(step, sizeof step, "decontamination (%d-grams)", o->ngram);
        funnel(fun, step, n);
    }

    /* 4. At most K per problem, chosen by the seeded key. */
    if (o->per_problem > 0 && n) {
        qsort(c, n, sizeof *c, cmp_problem_key);
        long run = 0;
        for (size_t i = 0; i < n; i++) {
            run = (i && c[i].problem_id == c[i - 1].problem_id) ? run + 1 : 0;
            keep[i] = run < o->per_problem;
        }
        n = compact(c, n, keep);
        snprintf(step, sizeof step, "--per-problem %ld", o->per_problem);
        funnel(fun, step, n);
    }

    /* 5. The shuffle, then quotas. */
    qsort(c, n, sizeof *c, cmp_key);
    if (o->total == 0) {
        ngroups = 2;
        groups = xcalloc(2, sizeof *groups);
        for (int r = 0; r < 2; r++) groups[r] = (group){.reasoning = r, .fam = -1, .weight = 1};
        for (size_t i = 0; i < n; i++) { c[i].group = c[i].reasoning; groups[c[i].reasoning].avail++; }
        for (int r = 0; r < 2; r++) groups[r].quota = groups[r].avail;
    } else {
        uint64_t q_r = (uint64_t)llround((double)o->total * o->reasoning_share);
        if (q_r > o->total) q_r = o->total;
        uint64_t q_class[2] = {o->total - q_r, q_r};
        int n_named = 0;
        if (o->family_weights && *o->family_weights) {
            if (parse_weights(o->family_weights, &fams, &weights, &n_named)) goto out;
        }
        if (weights) {
            /* one group per (class, family) present, in family-name order */
            int *order = xmalloc((size_t)(fams.n ? fams.n : 1) * sizeof *order);
            for (int i = 0; i < fams.n; i++) order[i] = i;
            for (int i = 1; i < fams.n; i++)
                for (int j = i; j > 0 && strcmp(fams.names[order[j - 1]], fams.names[order[j]]) > 0; j--) {
                    int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
                }
            unsigned char *present = xcalloc((size_t)fams.n * 2 + 2, 1);
            for (size_t i = 0; i < n; i++) present[c[i].fam * 2 + c[i].reasoning] = 1;
            groups = xcalloc((size_t)fams.n * 2 + 2, sizeof *groups);
            int *gid = xmalloc(((size_t)fams.n * 2 + 2) * sizeof *gid);
            for (int r = 1; r >= 0; r--) {
                int first = ngroups;
                for (int k = 0; k < fams.n; k++) {
                    int f = order[k];
                    if (!present[f * 2 + r]) continue;
                    gid[f * 2 + r] = ngroups;
                    groups[ngroups++] = (group){.reasoning = r, .fam = f, .weight = weights[f]};
                }
                if (ngroups == first && q_class[r]) {   /* nothing of this class: one empty group shows it */
                    groups[ngroups++] = (group){.reasoning = r, .fam = -1, .weight = 1, .quota = q_class[r]};
                } else {
                    apportion(groups + first, ngroups - first, q_class[r]);
                    double W = 0;
                    for (int g = first; g < ngroups; g++) W += groups[g].weight;
                    if (W <= 0 && q_class[r]) {
                        groups[ngroups++] = (group){.reasoning = r, .fam = -1, .weight = 0, .quota = q_class[r]};
                    }
                }
            }
            for (size_t i = 0; i < n; i++) {
                c[i].group = gid[c[i].fam * 2 + c[i].reasoning];
                groups[c[i].group].avail++;
            }
            free(order); free(present); free(gid);
        } else {
            ngroups = 2;
            groups = xcalloc(2, sizeof *groups);
            for (int r = 0; r < 2; r++) groups[r] = (group){.reasoning = r, .fam = -1, .weight = 1, .quota = q_class[r]};
            for (size_t i = 0; i < n; i++) { c[i].group = c[i].reasoning; groups[c[i].reasoning].avail++; }
        }
        /* Can every quota be met? */
        strbuf why; sb_init(&why);
        int short_any = 0;
        for (int g = 0; g < ngroups; g++)
            if (groups[g].avail < groups[g].quota) short_any = 1;
        if (short_any) {
            sb_reset(&why);
            for (int g = 0; g < ngroups; g++) {
                group *G = &groups[g];
                sb_printf(&why, "%s%s%s%s: need %llu, available %llu", g ? "; " : "", class_name(G->reasoning),
                          G->fam >= 0 ? "/" : "", G->fam >= 0 ? fams.names[G->fam] : "",
                          (unsigned long long)G->quota, (unsigned long long)G->avail);
            }
            if (!o->allow_short) {
                err_set("quotas cannot be met (pass --allow-short to take what is available): %s", why.s);
                sb_free(&why);
                goto out;
            }
            msg("warning: quotas not met, taking what is available: %s", why.s);
        }
        sb_free(&why);
    }
    size_t n_sel = 0;
    for (size_t i = 0; i < n; i++) {
        group *G = &groups[c[i].group];
        keep[i] = G->taken < G->quota;
        if (keep[i]) { G->taken++; n_sel++; }
    }
    n = compact(c, n, keep);
    snprintf(step, sizeof step, "quotas (--total %llu)", (unsigned long long)o->total);
    funnel(fun, step, n);

    /* 6. Validation split: whole problems, in shuffled order of first appearance. */
    uint64_t n_val_target = (uint64_t)llround((double)n * o->val_share), n_val = 0;
    if (n_val_target) {
        cand *byp = xmalloc(n * sizeof *byp);
        size_t *pos = xmalloc(n * sizeof *pos);
        for (size_t i = 0; i < n; i++) { byp[i] = c[i]; byp[i].key = i; } /* key: shuffled position */
        qsort(byp, n, sizeof *byp, cmp_problem_key);
        /* per problem: first position, size; then order problems by first position */
        size_t np = 0;
        int64_t *pp = xmalloc(n * 2 * sizeof *pp);   /* pairs (first position, size) */
        int64_t *pid = xmalloc(n * sizeof *pid);
        for (size_t i = 0; i < n; i++) {
            if (i && byp[i].problem_id == byp[i - 1].problem_id) { pp[2 * (np - 1) + 1]++; continue; }
            pp[2 * np] = (int64_t)byp[i].key;
            pp[2 * np + 1] = 1;
            pid[np] = byp[i].problem_id;
            np++;
        }
        /* walk problems in order of their first shuffled position */
        for (size_t i = 0; i < np; i++) pos[i] = i;
        /* sort indices by pp first position (simple: fill an array indexed by position) */
        int64_t *at = xmalloc(n * sizeof *at);
        for (size_t i = 0; i < n; i++) at[i] = -1;
        for (size_t i = 0; i < np; i++) at[pp[2 * i]] = (int64_t)i;
        int64_t *valp = xmalloc(np * sizeof *valp);
        size_t nvp = 0;
        for (size_t s = 0; s < n && n_val < n_val_target; s++) {
            if (at[s] < 0) continue;
            size_t i = (size_t)at[s];
            if (n_val + (uint64_t)pp[2 * i + 1] > n_val_target) continue;
            n_val += (uint64_t)pp[2 * i + 1];
            valp[nvp++] = pid[i];
        }
        qsort(valp, nvp, sizeof *valp, cmp_i64);
        for (size_t i = 0; i < n; i++) c[i].val = (int8_t)in_sorted(valp, nvp, c[i].problem_id);
        free(byp); free(pos); free(pp); free(pid); free(at); free(valp);
    }
    res->n_train = n - n_val;
    res->n_val = n_val;

    /* The report. */
    cJSON_AddItemToObject(rep, "funnel", fun);
    fun = NULL;
    {
        cJSON *qa = cJSON_AddArrayToObject(rep, "quotas");
        for (int g = 0; g < ngroups; g++) {
            group *G = &groups[g];
            if (o->total == 0 && !G->avail) continue;
            cJSON *q = cJSON_CreateObject();
            cJSON_AddStringToObject(q, "class", class_name(G->reasoning));
            if (G->fam >= 0) {
                cJSON_AddStringToObject(q, "family", fams.names[G->fam]);
                cJSON_AddNumberToObject(q, "weight", G->weight);
            }
            cJSON_AddNumberToObject(q, "quota", (double)G->quota);
            cJSON_AddNumberToObject(q, "available", (double)G->avail);
            cJSON_AddNumberToObject(q, "taken", (double)G->taken);
            cJSON_AddItemToArray(qa, q);
        }
        uint64_t nr = 0;
        for (size_t i = 0; i < n; i++) nr += (uint64_t)c[i].reasoning;
        cJSON_AddNumberToObject(rep, "n_train", (double)res->n_train);
        cJSON_AddNumberToObject(rep, "n_val", (double)res->n_val);
        cJSON_AddNumberToObject(rep, "reasoning_share", n ? (double)nr / (double)n : 0.0);
    }
    res->report_json = cJSON_PrintUnformatted(rep);

    /* 7. Write: replace the old mix, then the new rows, positions train then val. */
    if (old_mix) {
        sqlite3_stmt *d;
        if (db_prepare(db, "DELETE FROM mix_items WHERE mix_id = ?", &d)) goto out;
        sqlite3_bind_int64(d, 1, old_mix);
        int e = sqlite3_step(d);
        sqlite3_finalize(d);
        if (e != SQLITE_DONE) { err_set("deleting the old mix: %s", sqlite3_errmsg(db)); goto out; }
        if (db_prepare(db, "DELETE FROM mixes WHERE id = ?", &d)) goto out;
        sqlite3_bind_int64(d, 1, old_mix);
        e = sqlite3_step(d);
        sqlite3_finalize(d);
        if (e != SQLITE_DONE) { err_set("deleting the old mix: %s", sqlite3_errmsg(db)); goto out; }
    }
    if (db_prepare(db, "INSERT INTO mixes(name, filter_id, spec, report, n_train, n_val, run_id) "
                       "VALUES (?,?,?,?,?,?,?)", &st)) goto out;
    sqlite3_bind_text(st, 1, o->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, o->filter_id);
    sqlite3_bind_text(st, 3, o->spec_json ? o->spec_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, res->report_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)res->n_train);
    sqlite3_bind_int64(st, 6, (int64_t)res->n_val);
    if (o->run_id > 0) sqlite3_bind_int64(st, 7, o->run_id); else sqlite3_bind_null(st, 7);
    if (sqlite3_step(st) != SQLITE_DONE) { err_set("inserting the mix: %s", sqlite3_errmsg(db)); goto out; }
    sqlite3_finalize(st); st = NULL;
    res->mix_id = sqlite3_last_insert_rowid(db);
    if (db_prepare(db, "INSERT INTO mix_items(mix_id, position, trace_id, split) VALUES (?,?,?,?)", &st)) goto out;
    int64_t position = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (c[i].val != pass) continue;
            sqlite3_bind_int64(st, 1, res->mix_id);
            sqlite3_bind_int64(st, 2, position++);
            sqlite3_bind_int64(st, 3, c[i].trace_id);
            sqlite3_bind_text(st, 4, pass ? "val" : "train", -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) { err_set("inserting mix items: %s", sqlite3_errmsg(db)); goto out; }
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st); st = NULL;
    if (db_commit(db)) goto out;
    (void)n_sel;
    rc = 0;
out:
    if (st) sqlite3_finalize(st);
    if (rc) {
        db_rollback(db);
        free(res->report_json);
        res->report_json = NULL;
    }
    cJSON_Delete(fun);
    cJSON_Delete(rep);
    decontam_free(dc);
    free(c); free(keep); free(ids); free(weights); free(groups);
    strtab_free(&fams);
    return rc;
}

void mix_result_free(mix_result *r) {
    free(r->report_json);
    r->report_json = NULL;
}
