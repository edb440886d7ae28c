/* The model teacher: a student checkpoint (a directory written by distill, or
 * any Hugging Face Qwen2/Llama checkpoint with tokenizer.json) samples traces
 * into the same traces table as the synthetic teacher. This closes R1's
 * rejection-sampling loop: a trained student makes the next round's data.
 *
 * Problems: with make_problems (the CLI's --count) they are made exactly as the
 * synthetic path makes them (same seed, same knobs, same problems), without
 * synthetic traces; otherwise the stored problems of a split (and family) are
 * used, by id, up to a limit.
 *
 * Resume is per sample: (problem, teacher, sample_index) that already exist are
 * skipped; the rest are decoded in chunks with continuous batching and each
 * chunk is committed in one transaction, so a kill loses at most one chunk.
 * A sample's seed depends on the problem, the teacher key and its index only,
 * so a resumed run writes what an uninterrupted one would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "generate/generate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "distill/eval.h"
#include "tokenizer/chat.h"
#include "core/sys.h"

typedef struct {
    int64_t pid;
    int sample;
    uint64_t seed;
    int prompt;      /* index into the prompt table */
} pending;

#define CHUNK 256

int teacher_model_run(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = clock_now();
    const char *dir = o->teacher + 6;
    if (!*dir) { err_set("teacher 'model:' needs a directory: model:DIR"); return -1; }
    if (o->samples < 1 || o->samples > 4096) { err_set("--samples must be 1..4096"); return -1; }

    /* the problems */
    int64_t *ids = NULL;
    long nids = 0;
    if (o->model.make_problems) {
        generate_opts po = *o;
        po.problems_only = 1;
        po.teacher = "synthetic";
        generate_result pr;
        if (generate_run(db, &po, run_id, &pr)) { free(pr.problem_ids); return -1; }
        ids = pr.problem_ids;
        nids = pr.n_problem_ids;
        res->problems_new = pr.problems_new;
        res->problems_existing = pr.problems_existing;
        res->problems_eval = pr.problems_eval;
    } else {
        sqlite3_stmt *st;
        if (db_prepare(db, "SELECT id FROM problems WHERE split = ?1 AND (?2 IS NULL OR family = ?2) ORDER BY id LIMIT ?3", &st))
            return -1;
        sqlite3_bind_text(st, 1, o->model.split ? o->model.split : "train", -1, SQLITE_STATIC);
        if (o->model.family) sqlite3_bind_text(st, 2, o->model.family, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
        sqlite3_bind_int64(st, 3, o->model.limit > 0 ? o->model.limit : -1);
        long cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (nids == cap) { cap = cap ? 2 * cap : 1024; ids = xrealloc(ids, sizeof *ids * cap); }
            ids[nids++] = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        res->problems_existing = nids;
    }
    if (nids == 0) {
        err_set("teacher %s: no problems to sample (make some with --count, or check --split/--family)", o->teacher);
        free(ids);
        return -1;
    }

    student_t s;
    if (student_load(&s, dir, o->model.chat_template)) { free(ids); return -1; }
    /* the teacher's identity: model content, sampling, templates */
    const char *user_tpl = synth_template("r1", "en");
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "generator", "retort-model-1");
    cJSON_AddStringToObject(params, "model_dir", dir);
    cJSON_AddStringToObject(params, "model_hash", s.hash);
    cJSON_AddNumberToObject(params, "temperature", o->model.temperature);
    cJSON_AddNumberToObject(params, "top_p", o->model.top_p);
    cJSON_AddNumberToObject(params, "top_k", o->model.top_k);
    cJSON_AddNumberToObject(params, "max_new_tokens", o->model.max_new);
    /* the seed is not identity (as for the synthetic teacher): another --seed adds
     * samples from the same teacher, and resume skips what exists */
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    const char *tname = chat_template_name(s.tmpl);
    strbuf k;
    sb_init(&k);
    sb_printf(&k, "%s\n%s\n%s\n%s\n%d", o->teacher, pj, tname, user_tpl, s.think_prefill);
    char tkey[65];
    sha256_hex(k.s, k.len, tkey, 32);
    sb_free(&k);

    int rc = -1;
    int64_t teacher_id = -1;
    sqlite3_stmt *up = NULL, *getp = NULL, *have = NULL, *ins = NULL;
    pending *todo = NULL;
    tok_ids *prompts = NULL;
    long ntodo = 0, nprompts = 0;
    if (db_prepare(db, "INSERT INTO teachers(key, name, params, template, template_text, think_prefill) VALUES (?,?,?,?,?,?) "
                       "ON CONFLICT(key) DO UPDATE SET key = excluded.key RETURNING id", &up))
        goto out;
    sqlite3_bind_text(up, 1, tkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 2, o->teacher, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 3, pj, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 4, tname, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 5, user_tpl, -1, SQLITE_STATIC);
    sqlite3_bind_int(up, 6, s.think_prefill);
    if (sqlite3_step(up) == SQLITE_ROW) teacher_id = sqlite3_column_int64(up, 0);
    sqlite3_finalize(up);
    if (teacher_id < 0) { err_set("recording teacher: %s", sqlite3_errmsg(db)); goto out; }

    /* what is missing, sample by sample */
    if (db_prepare(db, "SELECT prompt, hash FROM problems WHERE id = ?", &getp) ||
        db_prepare(db, "SELECT sample_index FROM traces WHERE problem_id = ? AND teacher_id = ?", &have) ||
        db_prepare(db, "INSERT OR IGNORE INTO traces(problem_id, teacher_id, sample_index, text, finish_reason, "
                       "think_prefilled, n_tokens, latency_ms, injected, run_id) VALUES (?,?,?,?,?,?,?,?,'',?)", &ins))
        goto out;
    uint64_t tk = hash64(tkey, strlen(tkey), 0);
    todo = xmalloc(sizeof *todo * (size_t)nids * o->samples);
    prompts = xcalloc(nids, sizeof *prompts);
    unsigned char *got = xmalloc(o->samples);
    for (long i = 0; i < nids; i++) {
        memset(got, 0, o->samples);
        long n_have = 0;
        sqlite3_bind_int64(have, 1, ids[i]);
        sqlite3_bind_int64(have, 2, teacher_id);
        while (sqlite3_step(have) == SQLITE_ROW) {
            int64_t si = sqlite3_column_int64(have, 0);
            if (si >= 0 && si < o->samples) { got[si] = 1; n_have++; }
        }
        sqlite3_reset(have);
        res->traces_existing += n_have;
        if (n_have == o->samples) continue;
        sqlite3_bind_int64(getp, 1, ids[i]);
        if (sqlite3_step(getp) != SQLITE_ROW) { sqlite3_reset(getp); err_set("problem %lld vanished", (long long)ids[i]); free(got); goto out; }
        const char *prompt = (const char *)sqlite3_column_text(getp, 0);
        const char *hash = (const char *)sqlite3_column_text(getp, 1);
        uint64_t pseed = mix64(o->seed ^ hash64(hash, strlen(hash), tk));
        strbuf u;
        sb_init(&u);
        const char *at = strstr(user_tpl, "{prompt}");
        sb_putn(&u, user_tpl, (size_t)(at - user_tpl));
        sb_puts(&u, prompt);
        sb_puts(&u, at + 8);
        sqlite3_reset(getp);
        int e = student_prompt(&s, NULL, u.s, &prompts[nprompts]);
        sb_free(&u);
        if (e) { free(got); goto out; }
        for (int j = 0; j < o->samples; j++)
            if (!got[j])
                todo[ntodo++] = (pending){.pid = ids[i], .sample = j,
                                          .seed = mix64(pseed + (uint64_t)j * 0x632be59bd9b4e019ULL), .prompt = (int)nprompts};
        nprompts++;
    }
    free(got);

    gen_opts go = {.sample = {.temperature = o->model.temperature, .top_k = o->model.top_k, .top_p = o->model.top_p},
                   .max_new = o->model.max_new, .stop = s.stop, .nstop = s.nstop, .batch = o->model.decode_batch};
    gen_seq q[CHUNK];
    long tokens = 0;
    double tgen = clock_now();
    for (long c0 = 0; c0 < ntodo; c0 += CHUNK) {
        int n = ntodo - c0 < CHUNK ? (int)(ntodo - c0) : CHUNK;
        for (int i = 0; i < n; i++) {
            pending *p = &todo[c0 + i];
            q[i] = (gen_seq){.prompt = prompts[p->prompt].v, .prompt_len = (int)prompts[p->prompt].n, .seed = p->seed};
        }
        long nt = 0;
        if (infer_generate(&s.m, q, n, &go, &nt)) goto out;
        tokens += nt;
        if (db_begin(db)) goto out;
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            pending *p = &todo[c0 + i];
            char *text = student_decode(&s, q[i].out, q[i].n_out);
            if (!text) { ok = 0; break; }
            sqlite3_bind_int64(ins, 1, p->pid);
            sqlite3_bind_int64(ins, 2, teacher_id);
            sqlite3_bind_int(ins, 3, p->sample);
            sqlite3_bind_text(ins, 4, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 5, q[i].finish == GEN_STOP ? "stop" : "length", -1, SQLITE_STATIC);
            sqlite3_bind_int(ins, 6, s.think_prefill);
            sqlite3_bind_int(ins, 7, q[i].n_out);
            sqlite3_bind_double(ins, 8, q[i].seconds * 1000.0);
            if (run_id > 0) sqlite3_bind_int64(ins, 9, run_id); else sqlite3_bind_null(ins, 9);
            if (sqlite3_step(ins) != SQLITE_DONE) { err_set("inserting trace: %s", sqlite3_errmsg(db)); ok = 0; }
            else res->traces_new += sqlite3_changes(db);
            sqlite3_reset(ins);
            free(text);
        }
        for (int i = 0; i < n; i++) gen_seq_free(&q[i]);
        if (!ok || db_commit(db)) { db_rollback(db); goto out; }
        if (!o->quiet) {
            double el = clock_now() - tgen;
            fprintf(stderr, "\rretort: generate: %s: %ld/%ld samples, %.0f tokens/s", o->teacher, c0 + n, ntodo,
                    el > 0 ? tokens / el : 0.0);
        }
    }
    if (!o->quiet && ntodo) fputc('\n', stderr);
    rc = 0;
out:
    sqlite3_finalize(getp); sqlite3_finalize(have); sqlite3_finalize(ins);
    for (long i = 0; i < nprompts; i++) tok_ids_free(&prompts[i]);
    free(prompts);
    free(todo);
    free(pj);
    free(ids);
    student_free(&s);
    res->seconds = clock_now() - t0;
    return rc;
}
