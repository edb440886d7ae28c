/* What the sampling teachers (a model checkpoint, an OpenAI-compatible
 * endpoint) share: the problems they work on, their teachers row, and the
 * samples still missing, each with its seed and its user message. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "generate/generate.h"
#include "core/db.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/strbuf.h"

int teacher_problem_ids(sqlite3 *db, const generate_opts *o, int64_t run_id, generate_result *res, int64_t **ids_out,
                        long *n_out) {
    int64_t *ids = NULL;
    long nids = 0;
    *ids_out = NULL;
    *n_out = 0;
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
    *ids_out = ids;
    *n_out = nids;
    return 0;
}

int64_t teacher_record(sqlite3 *db, const char *name, const char *params, const char *template_name,
                       const char *template_text, int think_prefill, char key[65]) {
    strbuf k;
    sb_init(&k);
    sb_printf(&k, "%s\n%s\n%s\n%s\n%d", name, params, template_name, template_text, think_prefill);
    sha256_hex(k.s, k.len, key, 32);
    sb_free(&k);
    sqlite3_stmt *up;
    int64_t id = -1;
    if (db_prepare(db, "INSERT INTO teachers(key, name, params, template, template_text, think_prefill) VALUES (?,?,?,?,?,?) "
                       "ON CONFLICT(key) DO UPDATE SET key = excluded.key RETURNING id", &up))
        return -1;
    sqlite3_bind_text(up, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 3, params, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 4, template_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 5, template_text, -1, SQLITE_STATIC);
    sqlite3_bind_int(up, 6, think_prefill);
    if (sqlite3_step(up) == SQLITE_ROW) id = sqlite3_column_int64(up, 0);
    else err_set("recording teacher: %s", sqlite3_errmsg(db));
    sqlite3_finalize(up);
    return id;
}

void teacher_work_free(teacher_work *w) {
    for (long i = 0; i < w->nprompts; i++) free(w->prompts[i]);
    free(w->prompts);
    free(w->todo);
    memset(w, 0, sizeof *w);
}

int teacher_work_scan(sqlite3 *db, const int64_t *ids, long nids, int64_t teacher_id, const char *tkey, uint64_t seed,
                      long samples, const char *user_tpl, teacher_work *w, long *existing) {
    memset(w, 0, sizeof *w);
    *existing = 0;
    sqlite3_stmt *getp = NULL, *have = NULL;
    if (db_prepare(db, "SELECT prompt, hash FROM problems WHERE id = ?", &getp) ||
        db_prepare(db, "SELECT sample_index FROM traces WHERE problem_id = ? AND teacher_id = ?", &have)) {
        sqlite3_finalize(getp);
        return -1;
    }
    const char *at = strstr(user_tpl, "{prompt}");
    assert(at != NULL);
    uint64_t tk = hash64(tkey, strlen(tkey), 0);
    w->todo = xmalloc(sizeof *w->todo * (size_t)nids * (size_t)samples);
    w->prompts = xcalloc((size_t)nids, sizeof *w->prompts);
    unsigned char *got = xmalloc((size_t)samples);
    int rc = 0;
    for (long i = 0; i < nids; i++) {
        memset(got, 0, (size_t)samples);
        long n_have = 0;
        sqlite3_bind_int64(have, 1, ids[i]);
        sqlite3_bind_int64(have, 2, teacher_id);
        while (sqlite3_step(have) == SQLITE_ROW) {
            int64_t si = sqlite3_column_int64(have, 0);
            if (si >= 0 && si < samples) { got[si] = 1; n_have++; }
        }
        sqlite3_reset(have);
        *existing += n_have;
        if (n_have == samples) continue;
        sqlite3_bind_int64(getp, 1, ids[i]);
        if (sqlite3_step(getp) != SQLITE_ROW) {
            sqlite3_reset(getp);
            err_set("problem %lld vanished", (long long)ids[i]);
            rc = -1;
            break;
        }
        const char *prompt = (const char *)sqlite3_column_text(getp, 0);
        const char *hash = (const char *)sqlite3_column_text(getp, 1);
        /* a sample's seed: the problem, the teacher and the index, nothing else */
        uint64_t pseed = mix64(seed ^ hash64(hash, strlen(hash), tk));
        strbuf u;
        sb_init(&u);
        sb_putn(&u, user_tpl, (size_t)(at - user_tpl));
        sb_puts(&u, prompt);
        sb_puts(&u, at + 8);
        sqlite3_reset(getp);
        for (long j = 0; j < samples; j++)
            if (!got[j])
                w->todo[w->ntodo++] = (teacher_todo){.pid = ids[i], .sample = (int)j,
                                                     .seed = mix64(pseed + (uint64_t)j * 0x632be59bd9b4e019ULL),
                                                     .prompt = w->nprompts};
        w->prompts[w->nprompts++] = sb_steal(&u);
    }
    free(got);
    sqlite3_finalize(getp);
    sqlite3_finalize(have);
    if (rc) teacher_work_free(w);
    return rc;
}
