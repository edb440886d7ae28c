#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "generate/generate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/sys.h"

void generate_opts_default(generate_opts *o) {
    fault_rates f = FAULT_RATES_DEFAULT;
    *o = (generate_opts){
        .family = {.family = "arith", .lang = "en",
                   .arith = {.operands_min = 2, .operands_max = 4, .digits_min = 1, .digits_max = 2,
                             .paren_share = 0.3, .negative_share = 0.1, .fraction_share = 0.2}},
        .count = 1000, .samples = 4, .seed = 1, .eval_share = 0.02, .teacher = "synthetic",
        .synth = {.format = "r1", .think_prefill = 0, .faults = f, .max_chars = 4000},
        .batch = 2000,
        .model = {.temperature = 0.6, .top_p = 0.95, .top_k = 0, .max_new = 512, .decode_batch = 16, .split = "train"},
        .http = {.api_key_env = "OPENAI_API_KEY", .concurrency = 8, .timeout_s = 600, .retries = 5},
    };
}

void problem_hash(const problem_t *p, char out[33]) {
    sha256_ctx c;
    unsigned char d[32];
    static const char hx[] = "0123456789abcdef";
    sha256_init(&c);
    /* family, language, prompt and answer: the problem as a learner sees it */
    sha256_update(&c, p->family, strlen(p->family) + 1);
    sha256_update(&c, p->lang, strlen(p->lang) + 1);
    sha256_update(&c, p->prompt.s, p->prompt.len + 1);
    sha256_update(&c, p->answer.s, p->answer.len + 1);
    sha256_final(&c, d);
    for (int i = 0; i < 16; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[32] = 0;
}

const char *problem_split(const char *hash, double eval_share) {
    uint32_t x = (uint32_t)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0}, NULL, 16);
    return (double)x < eval_share * 4294967296.0 ? "eval" : "train";
}

int64_t teacher_upsert(sqlite3 *db, const generate_opts *o, char key_out[65]) {
    const char *tpl = synth_template(o->synth.format, o->family.lang);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "generator", "retort-synthetic-1");
    cJSON *f = cJSON_AddObjectToObject(params, "faults");
    cJSON_AddNumberToObject(f, "wrong_step", o->synth.faults.wrong_step);
    cJSON_AddNumberToObject(f, "lang_mix", o->synth.faults.lang_mix);
    cJSON_AddNumberToObject(f, "bad_tags", o->synth.faults.bad_tags);
    cJSON_AddNumberToObject(f, "loop", o->synth.faults.loop);
    cJSON_AddNumberToObject(f, "truncate", o->synth.faults.truncate);
    cJSON_AddNumberToObject(params, "max_chars", (double)o->synth.max_chars);
    /* only when set, so the brief teacher keeps the key it always had */
    if (o->synth.written) cJSON_AddStringToObject(params, "cot", "written");
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    strbuf k;
    sb_init(&k);
    sb_printf(&k, "%s\n%s\n%s\n%s\n%d", o->teacher, pj, o->synth.format, tpl, o->synth.think_prefill);
    sha256_hex(k.s, k.len, key_out, 32);
    sb_free(&k);
    int64_t id = -1;
    sqlite3_stmt *st;
    if (db_prepare(db, "INSERT INTO teachers(key, name, params, template, template_text, think_prefill) "
                       "VALUES (?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET key = excluded.key RETURNING id", &st) == 0) {
        sqlite3_bind_text(st, 1, key_out, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->teacher, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pj, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->synth.format, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, tpl, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, o->synth.think_prefill);
        if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
        else err_set("recording teacher: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    free(pj);
    return id;
}

/* An open-addressing set of 128-bit hashes (the first 16 hex digits twice):
 * dedups problems within a run without asking the database. */
typedef struct { uint64_t *k; size_t cap, n; } hashset;

static int hashset_add(hashset *h, uint64_t key) {
    if (key == 0) key = 1;
    if ((h->n + 1) * 2 > h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 1024;
        uint64_t *nk = xcalloc(nc, sizeof *nk);
        for (size_t i = 0; i < h->cap; i++)
            if (h->k[i]) {
                size_t j = mix64(h->k[i]) & (nc - 1);
                while (nk[j]) j = (j + 1) & (nc - 1);
                nk[j] = h->k[i];
            }
        free(h->k);
        h->k = nk;
        h->cap = nc;
    }
    size_t j = mix64(key) & (h->cap - 1);
    while (h->k[j]) {
        if (h->k[j] == key) return 0;
        j = (j + 1) & (h->cap - 1);
    }
    h->k[j] = key;
    h->n++;
    return 1;
}

#define MAX_SAMPLES 256

int generate_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = clock_now();
    if (strncmp(o->teacher, "model:", 6) == 0 && !o->problems_only) return teacher_model_run(db, o, run_id, res);
    if (strncmp(o->teacher, "openai:", 7) == 0 && !o->problems_only) return teacher_http_run(db, o, run_id, res);
    if (strcmp(o->teacher, "synthetic") != 0 && !o->problems_only) {
        err_set("teacher '%s' is not available; use 'synthetic', 'model:DIR' or 'openai:URL'", o->teacher);
        return -1;
    }
    if (o->samples < 1 || o->samples > MAX_SAMPLES) { err_set("--samples must be 1..%d", MAX_SAMPLES); return -1; }
    if (family_load()) return -1;
    char tkey[65];
    int64_t teacher_id = o->problems_only ? 0 : teacher_upsert(db, o, tkey);
    if (teacher_id < 0) return -1;
    uint64_t tkey_hash = hash64(tkey, strlen(tkey), 0);

    sqlite3_stmt *ins_p = NULL, *get_p = NULL, *ins_t = NULL, *have_t = NULL;
    if (db_prepare(db, "INSERT OR IGNORE INTO problems(hash, family, task, lang, prompt, answer, answer_type, knobs, "
                       "difficulty, reasoning, split, source, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,'synthetic',?)", &ins_p) ||
        db_prepare(db, "SELECT id FROM problems WHERE hash = ?", &get_p) ||
        db_prepare(db, "INSERT OR IGNORE INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, "
                       "think_prefilled, latency_ms, injected, run_id) VALUES (?,?,?,?,?,?,?,?,?)", &ins_t) ||
        db_prepare(db, "SELECT sample_index FROM traces WHERE problem_id = ? AND teacher_id = ?", &have_t))
        goto fail;

    if (db_begin(db)) goto fail;
    problem_t p;
    problem_init(&p);
    synth_trace tr[MAX_SAMPLES];
    for (long s = 0; s < o->samples; s++) synth_trace_init(&tr[s]);
    hashset seen = {0};
    uint64_t fam_seed = hash64(o->family.family, strlen(o->family.family), o->seed) ^
                        hash64(o->family.lang, strlen(o->family.lang), 7);
    long made = 0, in_batch = 0, misses = 0;
    int rc = 0;
    for (uint64_t i = 0; made < o->count; i++) {
        rng_t rng;
        rng_seed(&rng, mix64(fam_seed + i * 0x9e3779b97f4a7c15ULL));
        if (family_make(&p, &o->family, &rng)) { rc = -1; break; }
        char hash[33];
        problem_hash(&p, hash);
        char prefix[17];
        memcpy(prefix, hash, 16);
        prefix[16] = 0;
        if (!hashset_add(&seen, strtoull(prefix, NULL, 16))) {
            /* the same problem again: small knob spaces run out of distinct problems */
            if (++misses > 1000 + 50 * made) {
                err_set("only %ld distinct problems found for these knobs (asked for %ld); widen --digits or --operands",
                        made, o->count);
                rc = -1;
                break;
            }
            continue;
        }
        made++;
        const char *split = problem_split(hash, o->eval_share);
        sqlite3_bind_text(ins_p, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 2, p.family, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 3, p.task, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 4, p.lang, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 5, p.prompt.s, (int)p.prompt.len, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 6, p.answer.s, (int)p.answer.len, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 7, p.answer_is_text ? "text" : "number", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins_p, 8, p.knobs.s, (int)p.knobs.len, SQLITE_STATIC);
        sqlite3_bind_int(ins_p, 9, p.difficulty);
        sqlite3_bind_int(ins_p, 10, p.reasoning);
        sqlite3_bind_text(ins_p, 11, split, -1, SQLITE_STATIC);
        if (run_id > 0) sqlite3_bind_int64(ins_p, 12, run_id); else sqlite3_bind_null(ins_p, 12);
        if (sqlite3_step(ins_p) != SQLITE_DONE) { err_set("inserting problem: %s", sqlite3_errmsg(db)); rc = -1; break; }
        sqlite3_reset(ins_p);
        int64_t pid;
        unsigned char have[MAX_SAMPLES] = {0};
        long nhave = 0;
        if (sqlite3_changes(db) == 1) {
            pid = sqlite3_last_insert_rowid(db);
            res->problems_new++;
            if (split[0] == 'e') res->problems_eval++;
        } else {
            res->problems_existing++;
            sqlite3_bind_text(get_p, 1, hash, 32, SQLITE_STATIC);
            if (sqlite3_step(get_p) != SQLITE_ROW) { err_set("problem %s vanished", hash); rc = -1; break; }
            pid = sqlite3_column_int64(get_p, 0);
            sqlite3_reset(get_p);
            sqlite3_bind_int64(have_t, 1, pid);
            sqlite3_bind_int64(have_t, 2, teacher_id);
            while (sqlite3_step(have_t) == SQLITE_ROW) {
                int64_t s = sqlite3_column_int64(have_t, 0);
                if (s >= 0 && s < o->samples) { have[s] = 1; nhave++; }
            }
            sqlite3_reset(have_t);
            if (nhave == o->samples) { res->traces_existing += nhave; goto next; }
        }
        if (o->problems_only) {
            /* capacity doubles when the count reaches 2^j - 1 */
            if ((res->n_problem_ids & (res->n_problem_ids + 1)) == 0)
                res->problem_ids = xrealloc(res->problem_ids, sizeof(int64_t) * 2 * (res->n_problem_ids + 1));
            res->problem_ids[res->n_problem_ids++] = pid;
            goto next;
        }
        /* All samples are made, even those already stored, because a sample is
         * re-drawn when its text repeats an earlier sample of the same problem. */
        uint64_t pseed = mix64(o->seed ^ hash64(hash, 32, tkey_hash));
        for (long s = 0; s < o->samples; s++) {
            double ts = clock_now();
            for (uint64_t attempt = 0;; attempt++) {
                if (synth_sample(&p, &o->synth, mix64(pseed + (uint64_t)s * 0x632be59bd9b4e019ULL + attempt * 0x9e37ULL), &tr[s])) {
                    rc = -1;
                    break;
                }
                int dup = 0;
                for (long q = 0; q < s && !dup; q++)
                    dup = tr[q].text.len == tr[s].text.len && memcmp(tr[q].text.s, tr[s].text.s, tr[s].text.len) == 0;
                if (!dup || attempt >= 64) break;
            }
            if (rc) break;
            if (have[s]) { res->traces_existing++; continue; }
            sqlite3_bind_int64(ins_t, 1, pid);
            sqlite3_bind_int64(ins_t, 2, teacher_id);
            sqlite3_bind_int64(ins_t, 3, s);
            sqlite3_bind_text(ins_t, 4, tr[s].text.s, (int)tr[s].text.len, SQLITE_STATIC);
            sqlite3_bind_text(ins_t, 5, tr[s].finish_reason, -1, SQLITE_STATIC);
            sqlite3_bind_int(ins_t, 6, o->synth.think_prefill);
            sqlite3_bind_double(ins_t, 7, (clock_now() - ts) * 1000.0);
            sqlite3_bind_text(ins_t, 8, tr[s].injected.s ? tr[s].injected.s : "", (int)tr[s].injected.len, SQLITE_STATIC);
            if (run_id > 0) sqlite3_bind_int64(ins_t, 9, run_id); else sqlite3_bind_null(ins_t, 9);
            if (sqlite3_step(ins_t) != SQLITE_DONE) { err_set("inserting trace: %s", sqlite3_errmsg(db)); rc = -1; break; }
            sqlite3_reset(ins_t);
            res->traces_new++;
        }
        if (rc) break;
    next:
        if (++in_batch >= o->batch) {
            if (db_commit(db) || db_begin(db)) { rc = -1; break; }
            in_batch = 0;
            if (!o->quiet)
                fprintf(stderr, "\rretort: generate: %ld/%ld problems, %ld new traces", made, o->count, res->traces_new);
        }
    }
    if (rc == 0 && db_commit(db)) rc = -1;
    if (rc) db_rollback(db);
    if (!o->quiet && made >= o->batch) fputc('\n', stderr);
    problem_free(&p);
    for (long s = 0; s < o->samples; s++) synth_trace_free(&tr[s]);
    free(seen.k);
    sqlite3_finalize(ins_p); sqlite3_finalize(get_p); sqlite3_finalize(ins_t); sqlite3_finalize(have_t);
    res->seconds = clock_now() - t0;
    return rc;
fail:
    sqlite3_finalize(ins_p); sqlite3_finalize(get_p); sqlite3_finalize(ins_t); sqlite3_finalize(have_t);
    return -1;
}
