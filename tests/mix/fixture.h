/* A populated database built with plain SQL, standing in for generate and
 * filter: problems of three families (arith and word: reasoning; general: not)
 * in English and Chinese, a tenth of them eval-split; three traces each from
 * two teachers (one with a prefilled <think>); one filter whose verdicts keep
 * about three traces in four. Texts carry quotes, backslashes, tabs, control
 * characters and CJK so that export and import see the awkward cases. */
#ifndef RETORT_TEST_MIX_FIXTURE_H
#define RETORT_TEST_MIX_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/db.h"
#include "core/err.h"
#include "core/strbuf.h"

/* 002's v_problem_pass_rate belongs to the filter stage; until it lands in
 * this branch the fixture defines the same view (a no-op once it exists). */
static const char *fixture_views =
    "CREATE VIEW IF NOT EXISTS v_problem_pass_rate AS "
    "SELECT v.filter_id, t.problem_id, count(*) AS n_judged, sum(v.pass) AS n_pass, "
    "sum(coalesce(v.correct, 0)) AS n_correct, sum(v.keep) AS n_keep, "
    "avg(v.pass) AS pass_rate, avg(coalesce(v.correct, 0)) AS correct_rate "
    "FROM verdicts v JOIN traces t ON t.id = v.trace_id GROUP BY v.filter_id, t.problem_id;"
    "CREATE VIEW IF NOT EXISTS v_reject_reasons AS "
    "WITH RECURSIVE split(filter_id, reason, rest) AS ("
    "  SELECT filter_id, '', reasons || ',' FROM verdicts WHERE reasons <> '' "
    "  UNION ALL SELECT filter_id, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1) "
    "  FROM split WHERE rest <> '') "
    "SELECT filter_id, reason, count(*) AS n FROM split WHERE reason <> '' GROUP BY filter_id, reason;";

static sqlite3 *fixture_open(const char *path) {
    remove(path);
    char w[512];
    snprintf(w, sizeof w, "%s-wal", path); remove(w);
    snprintf(w, sizeof w, "%s-shm", path); remove(w);
    sqlite3 *db;
    if (db_open(path, DB_CREATE, &db)) { fprintf(stderr, "fixture: %s\n", err_msg()); exit(2); }
    if (db_exec(db, fixture_views)) { fprintf(stderr, "fixture: %s\n", err_msg()); exit(2); }
    return db;
}

static void fixture_exec(sqlite3 *db, const char *sql) {
    if (db_exec(db, sql)) { fprintf(stderr, "fixture: %s\n  in: %.200s\n", err_msg(), sql); exit(2); }
}

/* n_problems problems; returns the open database. */
static sqlite3 *fixture_build(const char *path, int n_problems) {
    sqlite3 *db = fixture_open(path);
    fixture_exec(db, "BEGIN");
    fixture_exec(db,
        "INSERT INTO teachers(id, key, name, params, template, template_text, think_prefill) VALUES "
        "(1, 'k-r1', 'synthetic', '{}', 'r1', '{prompt}\nPlease reason step by step, and put your final answer within \\boxed{}.', 0),"
        "(2, 'k-tag', 'synthetic', '{}', 'tagged', 'Solve the problem below. \"Think\" first.\n\nProblem: {prompt}', 1);"
        "INSERT INTO filters(id, hash, config) VALUES (1, 'f1', '{}');");
    sqlite3_stmt *ip, *it, *iv;
    if (db_prepare(db, "INSERT INTO problems(id, hash, family, task, lang, prompt, answer, reasoning, split, difficulty) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?)", &ip) ||
        db_prepare(db, "INSERT INTO traces(id, problem_id, teacher_id, sample_index, text, finish_reason, think_prefilled) "
                       "VALUES (?,?,?,?,?,?,?)", &it) ||
        db_prepare(db, "INSERT INTO verdicts(filter_id, trace_id, pass, keep, reasons, correct, lang_ratio, n_chars) "
                       "VALUES (1,?,?,?,?,?,?,?)", &iv)) {
        fprintf(stderr, "fixture: %s\n", err_msg());
        exit(2);
    }
    strbuf prompt, text, ans, hash;
    sb_init(&prompt); sb_init(&text); sb_init(&ans); sb_init(&hash);
    int64_t tid = 1;
    for (int i = 1; i <= n_problems; i++) {
        const char *family = i % 4 == 3 ? "general" : i % 4 == 2 ? "word" : "arith";
        int zh = i % 5 == 0;
        int eval = i % 10 == 9;
        long a = i, b = 3L * i + 1, c = i % 13 + 2, d = 7L * i + 5;
        sb_reset(&prompt); sb_reset(&ans); sb_reset(&hash);
        if (zh) sb_printf(&prompt, "问题%d：%ld加%ld，乘%ld，减%ld，结果是多少？", i, a, b, c, d);
        else sb_printf(&prompt, "P%d. What is %ld plus %ld, times %ld, minus %ld?", i, a, b, c, d);
        long v = (a + b) * c - d;
        if (i % 7 == 0) sb_printf(&ans, "%ld/3", v * 3 + 1);  /* a fraction now and then */
        else sb_printf(&ans, "%ld", v);
        sb_printf(&hash, "h%d", i);
        sqlite3_bind_int(ip, 1, i);
        sqlite3_bind_text(ip, 2, hash.s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ip, 3, family, -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 4, "expr", -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 5, zh ? "zh" : "en", -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 6, prompt.s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ip, 7, ans.s, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ip, 8, strcmp(family, "general") != 0);
        sqlite3_bind_text(ip, 9, eval ? "eval" : "train", -1, SQLITE_STATIC);
        sqlite3_bind_int(ip, 10, i % 3);
        if (sqlite3_step(ip) != SQLITE_DONE) { fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db)); exit(2); }
        sqlite3_reset(ip);
        for (int s = 0; s < 3; s++, tid++) {
            int teacher = s == 2 && i % 2 ? 2 : 1;
            int prefilled = teacher == 2;
            sb_reset(&text);
            if (!prefilled) sb_puts(&text, "<think>\n");
            if (zh) sb_printf(&text, "先算%ld加%ld。\n再乘以%ld。\n", a, b, c);
            else sb_printf(&text, "First %ld + %ld = %ld.\nThen \"times\" %ld\tand a \\ backslash.\n", a, b, a + b, c);
            if (s == 1) sb_puts(&text, "A control char \x01 and a bell \x07 here.\n");
            sb_puts(&text, "</think>\n");
            const char *an = ans.s;
            char fr[64];
            if (strchr(ans.s, '/')) {   /* write fractions as \frac */
                long num = atol(ans.s);
                snprintf(fr, sizeof fr, "\\frac{%ld}{3}", num);
                an = fr;
            }
            if (teacher == 2) sb_printf(&text, "<answer>\nSo it is \\boxed{%s}\n</answer>", an);
            else sb_printf(&text, "\n%s \\boxed{%s}.", zh ? "最终答案是" : "The final answer is", an);
            sqlite3_bind_int64(it, 1, tid);
            sqlite3_bind_int(it, 2, i);
            sqlite3_bind_int(it, 3, teacher);
            sqlite3_bind_int(it, 4, s);
            sqlite3_bind_text(it, 5, text.s, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(it, 6, "stop", -1, SQLITE_STATIC);
            sqlite3_bind_int(it, 7, prefilled);
            if (sqlite3_step(it) != SQLITE_DONE) { fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db)); exit(2); }
            sqlite3_reset(it);
            int pass = (i + s) % 4 != 0;
            sqlite3_bind_int64(iv, 1, tid);
            sqlite3_bind_int(iv, 2, pass);
            sqlite3_bind_int(iv, 3, pass);
            sqlite3_bind_text(iv, 4, pass ? "" : (s % 2 ? "wrong_answer" : "wrong_answer,lang_mix"), -1, SQLITE_STATIC);
            sqlite3_bind_int(iv, 5, pass);
            sqlite3_bind_double(iv, 6, pass ? 1.0 : 0.7);
            sqlite3_bind_int64(iv, 7, (int64_t)text.len);
            if (sqlite3_step(iv) != SQLITE_DONE) { fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db)); exit(2); }
            sqlite3_reset(iv);
        }
    }
    sqlite3_finalize(ip); sqlite3_finalize(it); sqlite3_finalize(iv);
    sb_free(&prompt); sb_free(&text); sb_free(&ans); sb_free(&hash);
    fixture_exec(db, "COMMIT");
    return db;
}

#endif
