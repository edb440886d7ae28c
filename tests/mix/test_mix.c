/* Mix, decontamination, export and import through the library calls the CLI
 * uses, on a database built with plain SQL (tests/mix/fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "test.h"
#include "mix/fixture.h"
#include "filter/mix.h"
#include "filter/decontam.h"
#include "filter/export.h"
#include "generate/import.h"
#include "core/utf8.h"

static char dir[256];

static const char *tmp(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long L = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)L + 1);
    size_t r = fread(s, 1, (size_t)L, f);
    s[r] = 0;
    fclose(f);
    if (n) *n = r;
    return s;
}

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static int same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int eq = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x); free(y);
    return eq;
}

static int64_t q1(sqlite3 *db, const char *sql) { return db_int(db, sql, -1); }

static mix_opts base_opts(const char *name) {
    return (mix_opts){.name = name, .filter_id = 1, .total = 400, .reasoning_share = 0.75, .ngram = 8, .seed = 7};
}

static int build(sqlite3 *db, mix_opts o, mix_result *r) {
    int rc = mix_build(db, &o, r);
    if (rc) fprintf(stderr, "  (mix_build: %s)\n", err_msg());
    return rc;
}

static void test_json_escape(void) {
    strbuf b; sb_init(&b);
    uint64_t bad = 0;
    const char in[] = "a\"b\\c\n\t\x01\x7f\xe4\xb8\xad\xff\xc0\x80z";
    json_put_string(&b, in, sizeof in - 1, &bad);
    CHECK_STR(b.s, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f\xe4\xb8\xad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"");
    CHECKF(bad == 3, "invalid bytes %llu", (unsigned long long)bad);
    cJSON *j = cJSON_Parse(b.s);
    CHECK(j && cJSON_IsString(j) && strncmp(j->valuestring, "a\"b\\c\n\t\x01", 8) == 0);
    cJSON_Delete(j);
    sb_free(&b);
    /* the DeepSeek split and its inverse */
    const char *cases[] = {"<think>\nabc\n</think>\n\nThe answer", "<think>\n\nx\n\n</think>\n<answer>\ny\n</answer>",
                           "no think", "<think>\nunclosed", "<think></think>C", ""};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *t = cases[i];
        size_t ra, rl, ca, cl, ra2, rl2, ca2, cl2;
        reasoning_split(t, strlen(t), &ra, &rl, &ca, &cl);
        strbuf j2; sb_init(&j2);
        reasoning_join(&j2, t + ra, rl, t + ca, cl);
        sb_putc(&j2, 0); j2.len--;
        reasoning_split(j2.s, j2.len, &ra2, &rl2, &ca2, &cl2);
        CHECKF(rl == rl2 && cl == cl2 && !memcmp(t + ra, j2.s + ra2, rl) && !memcmp(t + ca, j2.s + ca2, cl),
               "split(join(split(%s))) differs", t);
        sb_free(&j2);
    }
    size_t ra, rl, ca, cl;
    const char *t = "<think>\nabc\n</think>\n\nThe answer";
    reasoning_split(t, strlen(t), &ra, &rl, &ca, &cl);
    CHECK(rl == 3 && !memcmp(t + ra, "abc", 3) && cl == 10 && !memcmp(t + ca, "The answer", 10));
}

static void test_words(void) {
    decontam_t *d = decontam_new(8);
    const uint64_t *h; const size_t *s, *e;
    const char *t = "Héllo, WORLD! 3.5 x=7 问题：计算";
    size_t n = decontam_words(d, t, strlen(t), &h, &s, &e);
    /* héllo world 3 5 x 7 问 题 计 算 */
    CHECKF(n == 10, "words %zu", n);
    uint64_t first = n ? h[0] : 0;
    const char *u = "HÉLLO";
    decontam_words(d, u, strlen(u), &h, &s, &e);
    CHECK(h[0] == first);   /* lowercase, Unicode too */
    /* planted overlap, different case and punctuation */
    decontam_add(d, "Alice has seven red apples and gives three of them to Bob today.", 65, 42);
    int64_t ref = 0; size_t at = 0, len = 0;
    const char *q = "Story: ALICE has SEVEN red apples, and gives three of them away.";
    CHECK(decontam_find(d, q, strlen(q), &ref, &at, &len) == 1);
    CHECK(ref == 42);
    CHECK(len > 0 && strncmp(q + at, "ALICE has SEVEN red apples, and gives three", len) == 0);
    const char *q2 = "Alice has seven red apples and gives four of them to Bob.";
    CHECK(decontam_find(d, q2, strlen(q2), NULL, NULL, NULL) == 0);   /* 7 shared words only */
    decontam_add(d, "小明有七个红苹果给了小红三个还剩几个", strlen("小明有七个红苹果给了小红三个还剩几个"), 9);
    const char *z = "题目：小明有七个红苹果，给了小红两个。";
    CHECK(decontam_find(d, z, strlen(z), &ref, NULL, NULL) == 1 && ref == 9);
    decontam_free(d);
}

static void test_quotas(sqlite3 *db) {
    mix_result r;
    mix_opts o = base_opts("q1");
    o.family_weights = "arith=2,word=1";
    CHECK(build(db, o, &r) == 0);
    CHECK(r.n_train == 400 && r.n_val == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q1' AND reasoning = 1") == 300);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q1' AND family = 'arith'") == 200);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q1' AND family = 'word'") == 100);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q1' AND family = 'general'") == 100);
    /* positions 0..n-1, distinct traces, nothing the filter did not keep, no eval problem */
    CHECK(q1(db, "SELECT count(*) = max(position) + 1 AND min(position) = 0 FROM mix_items mi JOIN mixes m ON m.id = mi.mix_id WHERE m.name = 'q1'") == 1);
    CHECK(q1(db, "SELECT count(DISTINCT trace_id) FROM v_mix_samples WHERE mix = 'q1'") == 400);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples s JOIN verdicts v ON v.trace_id = s.trace_id AND v.filter_id = 1 "
                 "WHERE s.mix = 'q1' AND v.keep = 0") == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples s JOIN problems p ON p.id = s.problem_id WHERE s.mix = 'q1' AND p.split = 'eval'") == 0);
    mix_result_free(&r);

    /* an odd total and share still sum exactly */
    o = base_opts("q2");
    o.total = 333; o.reasoning_share = 0.6; o.family_weights = "arith=1,word=1"; o.per_problem = 1; o.val_share = 0.1;
    CHECK(build(db, o, &r) == 0);
    CHECK(r.n_train + r.n_val == 333);
    CHECK(r.n_val == 33);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q2' AND reasoning = 1") == 200);
    CHECK(q1(db, "SELECT max(c) FROM (SELECT count(*) c FROM v_mix_samples WHERE mix = 'q2' GROUP BY problem_id)") == 1);
    /* val is whole problems, after all train positions */
    CHECK(q1(db, "SELECT count(*) FROM (SELECT problem_id FROM v_mix_samples WHERE mix = 'q2' GROUP BY problem_id "
                 "HAVING count(DISTINCT split) > 1)") == 0);
    CHECK(q1(db, "SELECT min(position) FROM v_mix_samples WHERE mix = 'q2' AND split = 'val'") == (int64_t)r.n_train);
    mix_result_free(&r);

    /* too much asked: an error naming what is available per quota, nothing written */
    o = base_opts("q3");
    o.total = 100000; o.family_weights = "arith=2,word=1";
    CHECK(mix_build(db, &o, &r) != 0);
    CHECKF(strstr(err_msg(), "reasoning/arith: need 50000, available") && strstr(err_msg(), "non-reasoning/general: need 25000, available"),
           "%s", err_msg());
    CHECK(q1(db, "SELECT count(*) FROM mixes WHERE name = 'q3'") == 0);
    o.allow_short = 1;
    CHECK(build(db, o, &r) == 0);
    int64_t avail = q1(db, "SELECT count(*) FROM v_candidates WHERE filter_id = 1");
    CHECKF((int64_t)r.n_train == avail && r.n_train > 0, "short mix %llu of %lld", (unsigned long long)r.n_train, (long long)avail);
    mix_result_free(&r);

    /* total 0: everything the filter kept on train problems (less contamination: none here) */
    o = base_opts("all");
    o.total = 0;
    CHECK(build(db, o, &r) == 0);
    CHECKF((int64_t)r.n_train == avail, "%llu vs %lld", (unsigned long long)r.n_train, (long long)avail);
    mix_result_free(&r);

    /* an existing name needs --replace; mixes are immutable */
    o = base_opts("q1");
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "--replace"));
    o.replace = 1; o.total = 50;
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q1'") == 50);
    mix_result_free(&r);
    CHECK(db_exec(db, "UPDATE mix_items SET trace_id = 1") != 0);
    CHECK(db_exec(db, "UPDATE mixes SET n_train = 1") != 0);

    /* unknown family in the weights, missing token counts, pass rate, where */
    o = base_opts("q4");
    o.family_weights = "nope=1";
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "'nope' has no candidates"));
    o = base_opts("q4");
    o.max_tokens = 100;
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "no token count"));
    o = base_opts("q4");
    o.total = 0; o.has_pass_rate = 1; o.pass_min = 1.0; o.pass_max = 1.0;
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples s JOIN v_problem_pass_rate pr ON pr.problem_id = s.problem_id "
                 "AND pr.filter_id = 1 WHERE s.mix = 'q4' AND pr.pass_rate < 1") == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q4'") > 0);
    mix_result_free(&r);
    o = base_opts("q5");
    o.total = 0; o.where = "lang = 'zh' AND n_chars < 400";
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q5' AND lang <> 'zh'") == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'q5'") == (int64_t)r.n_train && r.n_train > 0);
    mix_result_free(&r);
    o = base_opts("q6");
    o.total = 0; o.max_chars = 120;
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples s JOIN verdicts v ON v.trace_id = s.trace_id WHERE s.mix = 'q6' AND v.n_chars > 120") == 0);
    mix_result_free(&r);
}

static void test_guard(sqlite3 *db) {
    const char *refused[] = {
        "DELETE FROM traces",
        "SELECT 1; DELETE FROM traces",
        "SELECT trace_id FROM verdicts; SELECT 2",
        "ATTACH ':memory:' AS other",
        "DETACH main",
        "PRAGMA user_version = 99",
        "PRAGMA journal_mode = DELETE",
        "WITH x AS (SELECT 1) INSERT INTO runs(command, version) SELECT 'x', 'y' FROM x",
        "INSERT INTO runs(command, version) VALUES ('x', 'y') RETURNING id",
        "UPDATE traces SET text = '' RETURNING id",
        "SELECT load_extension('/tmp/x')",
        "BEGIN",
        "CREATE TEMP TABLE t AS SELECT 1",
        "EXPLAIN SELECT 1",
        "VACUUM",
        "",
    };
    int64_t before = q1(db, "SELECT count(*) FROM traces");
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sql_prepare_readonly(db, refused[i], &st);
        CHECKF(rc != 0 && st == NULL, "guard let through: %s", refused[i]);
        if (st) sqlite3_finalize(st);
    }
    CHECK(q1(db, "PRAGMA user_version") == db_schema_version());
    const char *allowed[] = {
        "SELECT trace_id FROM v_candidates WHERE filter_id = 1",
        "SELECT trace_id FROM v_candidates WHERE filter_id = 1; -- a comment",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sql_prepare_readonly(db, allowed[i], &st);
        CHECKF(rc == 0 && st, "guard refused: %s (%s)", allowed[i], err_msg());
        sqlite3_finalize(st);
    }
    /* the guard in mix: --query and an injected --where */
    mix_result r;
    mix_opts o = base_opts("g1");
    o.total = 0;
    o.query = "SELECT trace_id FROM v_candidates WHERE filter_id = 1; DELETE FROM traces";
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "refused"));
    o.query = NULL;
    o.where = "1) ; DELETE FROM traces; --";
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "refused"));
    o.where = "1) UNION SELECT 1; UPDATE traces SET text = 'x'; SELECT (1";
    CHECK(mix_build(db, &o, &r) != 0);
    CHECK(q1(db, "SELECT count(*) FROM traces") == before);
    CHECK(q1(db, "SELECT count(*) FROM traces WHERE text = 'x'") == 0);
    CHECK(q1(db, "SELECT count(*) FROM mixes WHERE name = 'g1'") == 0);
    /* a good query: the shortest kept trace of each problem */
    o.where = NULL;
    o.query = "SELECT trace_id FROM (SELECT trace_id, row_number() OVER (PARTITION BY problem_id ORDER BY n_chars, trace_id) rk "
              "FROM v_candidates WHERE filter_id = 1) WHERE rk = 1";
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT max(c) FROM (SELECT count(*) c FROM v_mix_samples WHERE mix = 'g1' GROUP BY problem_id)") == 1);
    CHECK((int64_t)r.n_train == q1(db, "SELECT count(DISTINCT problem_id) FROM v_candidates WHERE filter_id = 1"));
    mix_result_free(&r);
    o.query = "SELECT 'abc'";
    o.replace = 1;
    CHECK(mix_build(db, &o, &r) != 0 && strstr(err_msg(), "integer"));
}

static void test_decontam(sqlite3 *db) {
    /* plant: eval problems that share an 8-gram (other case and punctuation) with train problems 1 and 5 */
    db_exec(db, "INSERT INTO problems(hash, family, task, lang, prompt, answer, split) VALUES "
                "('plant1', 'arith', 'expr', 'en', 'BENCHMARK: what IS 1 plus 4; times 3 -- minus 12, asked again', '0', 'eval'),"
                "('plant2', 'arith', 'expr', 'zh', '旧题：问题5：5加16，乘7，减另一个数', '0', 'eval')");
    int64_t p1 = q1(db, "SELECT id FROM problems WHERE hash = 'plant1'");
    /* and a file with a prompt matching train problem 2 (on line 3) */
    const char *file = tmp("bench.jsonl");
    spit(file, "{\"prompt\": \"unrelated words only here for sure\"}\n\n"
               "{\"messages\": [{\"role\": \"user\", \"content\": \"Q: p2. what is 2 plus 7, times 4, minus 19? (old)\"}]}\n");
    mix_result r;
    mix_opts o = base_opts("d1");
    o.total = 0;
    o.decontam_file = file;
    CHECK(build(db, o, &r) == 0);
    for (int pid = 1; pid <= 5; pid++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM v_mix_samples WHERE mix = 'd1' AND problem_id = %d", pid);
        int64_t n = q1(db, sql);
        if (pid == 1 || pid == 2 || pid == 5) CHECKF(n == 0, "problem %d contaminated but in the mix", pid);
        else if (pid != 4) CHECKF(n > 0, "problem %d clean but missing", pid);   /* 4: nothing kept? */
    }
    cJSON *rep = cJSON_Parse(r.report_json);
    cJSON *dj = cJSON_GetObjectItem(rep, "decontamination");
    CHECK(dj && cJSON_GetObjectItem(dj, "problems_dropped")->valuedouble == 3);
    CHECK(cJSON_GetObjectItem(dj, "problems_dropped_by_file")->valuedouble == 1);
    CHECK(cJSON_GetObjectItem(dj, "traces_dropped")->valuedouble >= 3);
    cJSON *ex = cJSON_GetObjectItem(dj, "examples");
    int saw_eval = 0, saw_file = 0, saw_zh = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, ex) {
        cJSON *ev = cJSON_GetObjectItem(e, "eval_problem_id"), *fl = cJSON_GetObjectItem(e, "file_line");
        const char *g = cJSON_GetObjectItem(e, "ngram")->valuestring;
        if (ev && ev->valuedouble == (double)p1) saw_eval = strstr(g, "plus 4, times 3, minus") != NULL;
        if (fl && !strcmp(fl->valuestring, "line 3")) saw_file = 1;
        if (strstr(g, "加16")) saw_zh = 1;
    }
    CHECK(saw_eval && saw_file && saw_zh);
    cJSON_Delete(rep);
    mix_result_free(&r);
    /* a bad line in the file is named, and the mix is not built */
    spit(file, "{\"prompt\": \"fine\"}\n{\"prompt\": 3}\nnot json\n");
    o.name = "d2";
    CHECK(mix_build(db, &o, &r) != 0);
    CHECKF(strstr(err_msg(), "bench.jsonl:2") && strstr(err_msg(), "bench.jsonl:3"), "%s", err_msg());
    /* with n = 13 the planted 8-gram overlaps no longer count */
    o.decontam_file = NULL; o.ngram = 13; o.name = "d3";
    CHECK(build(db, o, &r) == 0);
    CHECK(q1(db, "SELECT count(*) FROM v_mix_samples WHERE mix = 'd3' AND problem_id = 1") > 0);
    mix_result_free(&r);
    db_exec(db, "DELETE FROM problems WHERE hash IN ('plant1', 'plant2')");
}

static int do_export(sqlite3 *db, const char *mix, export_format f, const char *out, const char *system, export_stats *st) {
    export_opts eo = {.mix = mix, .format = f, .out = out, .system = system, .split = "train"};
    int rc = export_mix(db, &eo, st);
    if (rc) fprintf(stderr, "  (export: %s)\n", err_msg());
    return rc;
}

static void test_determinism_and_export(sqlite3 *db) {
    mix_result r;
    mix_opts o = base_opts("s7a");
    o.val_share = 0.05;
    CHECK(build(db, o, &r) == 0); mix_result_free(&r);
    o.name = "s7b";
    CHECK(build(db, o, &r) == 0); mix_result_free(&r);
    o.name = "s8"; o.seed = 8;
    CHECK(build(db, o, &r) == 0); mix_result_free(&r);
    export_stats st;
    CHECK(do_export(db, "s7a", EXPORT_MESSAGES, tmp("a.jsonl"), NULL, &st) == 0);
    CHECK(st.lines == 380);
    CHECK(do_export(db, "s7b", EXPORT_MESSAGES, tmp("b.jsonl"), NULL, &st) == 0);
    CHECK(do_export(db, "s8", EXPORT_MESSAGES, tmp("c.jsonl"), NULL, &st) == 0);
    CHECK(same_file(tmp("a.jsonl"), tmp("b.jsonl")));
    CHECK(!same_file(tmp("a.jsonl"), tmp("c.jsonl")));
    CHECK(access(tmp("a.jsonl.tmp"), F_OK) != 0);
    /* every line parses, with the right shape; the prefilled <think> is back */
    size_t n;
    char *text = slurp(tmp("a.jsonl"), &n);
    CHECK(utf8_invalid_at(text, n) == (size_t)-1);
    int lines = 0, ok = 0, think = 0;
    for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = 0;
        lines++;
        cJSON *j = cJSON_Parse(p);
        cJSON *m = cJSON_GetObjectItem(j, "messages");
        if (cJSON_GetArraySize(m) == 2 && !strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 0), "role")->valuestring, "user") &&
            !strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1), "role")->valuestring, "assistant"))
            ok++;
        const char *a = cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1), "content")->valuestring;
        think += strncmp(a, "<think>\n", 8) == 0;
        cJSON_Delete(j);
    }
    CHECK(lines == 380 && ok == 380 && think == 380);
    free(text);
    /* val split, system prompt, the other formats parse */
    export_opts eo = {.mix = "s7a", .format = EXPORT_SHAREGPT, .out = tmp("v.jsonl"), .system = "Be brief.", .split = "val"};
    CHECK(export_mix(db, &eo, &st) == 0 && st.lines == 20);
    text = slurp(tmp("v.jsonl"), &n);
    CHECK(strncmp(text, "{\"conversations\":[{\"from\":\"system\",\"value\":\"Be brief.\"},{\"from\":\"human\",\"value\":", 76) == 0);
    free(text);
    eo.format = EXPORT_PROMPT_COMPLETION;
    CHECK(export_mix(db, &eo, &st) != 0);   /* no place for a system prompt */
    eo.system = NULL;
    CHECK(export_mix(db, &eo, &st) == 0);
    eo.mix = "nope";
    CHECK(export_mix(db, &eo, &st) != 0 && strstr(err_msg(), "no mix named"));
    /* invalid UTF-8 in stored text becomes U+FFFD, counted */
    db_exec(db, "INSERT INTO problems(id, hash, family, task, lang, prompt, answer, split) VALUES "
                "(90001, 'bad-utf8', 'arith', 'expr', 'en', CAST(X'6f6b20ff20c3' AS TEXT), '1', 'train');"
                "INSERT INTO traces(id, problem_id, teacher_id, sample_index, text, finish_reason) VALUES "
                "(90001, 90001, 1, 0, CAST(X'3c7468696e6b3e0a80810a3c2f7468696e6b3e0a0a5c626f7865647b317d' AS TEXT), 'stop');"
                "INSERT INTO verdicts(filter_id, trace_id, pass, keep, n_chars) VALUES (1, 90001, 1, 1, 20);");
    o = base_opts("u8");
    o.query = "SELECT 90001";
    o.total = 0;
    CHECK(build(db, o, &r) == 0); mix_result_free(&r);
    CHECK(do_export(db, "u8", EXPORT_REASONING, tmp("u8.jsonl"), NULL, &st) == 0);
    CHECK(st.invalid_bytes == 4);
    text = slurp(tmp("u8.jsonl"), &n);
    CHECK(utf8_invalid_at(text, n) == (size_t)-1);
    CHECK(strstr(text, "\"reasoning_content\":\"\xef\xbf\xbd\xef\xbf\xbd\",\"content\":\"\\\\boxed{1}\"") != NULL);
    free(text);
}

static void test_roundtrip(sqlite3 *db) {
    const export_format fmts[] = {EXPORT_MESSAGES, EXPORT_REASONING, EXPORT_SHAREGPT, EXPORT_PROMPT_COMPLETION};
    const char *names[] = {"messages", "reasoning", "sharegpt", "prompt-completion"};
    for (int k = 0; k < 4; k++) {
        export_stats st;
        const char *a = tmp("rt-a.jsonl"), *b = tmp("rt-b.jsonl");
        CHECK(do_export(db, "s7a", fmts[k], a, NULL, &st) == 0);
        sqlite3 *fresh = fixture_open(tmp("rt.db"));
        import_opts io = {.path = a, .source = "rt", .format = fmts[k] == EXPORT_REASONING ? IMPORT_REASONING : IMPORT_MESSAGES,
                          .answer_from_boxed = 1, .reasoning = 1, .mix = "rt"};
        if (fmts[k] == EXPORT_PROMPT_COMPLETION) { io.prompt_field = "prompt"; io.response_field = "completion"; }
        import_stats is;
        int rc = import_jsonl(fresh, &io, &is);
        CHECKF(rc == 0, "%s import: %s", names[k], err_msg());
        CHECKF(is.traces_new == st.lines && is.bad == 0, "%s: %llu new traces of %llu lines", names[k],
               (unsigned long long)is.traces_new, (unsigned long long)st.lines);
        import_stats_free(&is);
        CHECK(do_export(fresh, "rt", fmts[k], b, NULL, &st) == 0);
        CHECKF(same_file(a, b), "round trip of %s differs", names[k]);
        /* importing again adds nothing, and the mix stays as it was */
        CHECK(import_jsonl(fresh, &io, &is) == 0);
        CHECKF(is.problems_new == 0 && is.traces_new == 0 && is.mix_items == 0, "%s re-import added %llu/%llu", names[k],
               (unsigned long long)is.problems_new, (unsigned long long)is.traces_new);
        import_stats_free(&is);
        if (k == 0) {
            /* ground truth came from \boxed, canonicalized: \frac{N}{3} -> N/3 */
            CHECK(q1(fresh, "SELECT count(*) FROM problems WHERE answer LIKE '%\\frac%'") == 0);
            CHECK(q1(fresh, "SELECT count(*) FROM problems WHERE answer LIKE '%/3'") > 0);
            CHECK(q1(fresh, "SELECT count(*) FROM teachers WHERE name = 'import:rt' AND template_text = '{prompt}'") == 2);
            CHECK(q1(fresh, "SELECT count(*) FROM problems WHERE lang = 'zh'") > 0);
        }
        db_close(fresh);
    }
}

static void test_bad_lines(void) {
    const char *file = tmp("bad.jsonl");
    spit(file,
         "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 1+1?\"},{\"role\":\"assistant\",\"content\":\"<think>\\nx\\n</think>\\n\\n2\"}],\"answer\":\"2\"}\n"
         "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"},{\"role\":\"assistant\",\"content\":\"4\"}]\n"
         "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 3+3?\"},{\"role\":\"assistant\",\"content\":\"6\"}]}\n"
         "\n"
         "{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff byte\"},{\"role\":\"assistant\",\"content\":\"x\"}],\"answer\":1}\n"
         "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}],\"answer\":1}\n"
         "{\"conversations\":[{\"from\":\"system\",\"value\":\"S\"},{\"from\":\"human\",\"value\":\"What is 5+5?\"},{\"from\":\"gpt\",\"value\":\"so \\\\boxed{10}\"}],\"answer\":10}\n"
         "[1, 2]\n");
    sqlite3 *db = fixture_open(tmp("bad.db"));
    import_opts io = {.path = file, .source = "ext", .format = IMPORT_MESSAGES, .reasoning = 1};
    import_stats is;
    CHECK(import_jsonl(db, &io, &is) != 0);
    const char *e = err_msg();
    CHECKF(strstr(e, "5 bad lines") && strstr(e, "bad.jsonl:2: not valid JSON") && strstr(e, "bad.jsonl:3: no answer") &&
           strstr(e, "bad.jsonl:5: invalid UTF-8") && strstr(e, "bad.jsonl:6: more than one user turn") && strstr(e, "bad.jsonl:8: not a JSON object"),
           "%s", e);
    CHECK(q1(db, "SELECT count(*) FROM problems") == 0 && q1(db, "SELECT count(*) FROM traces") == 0);
    import_stats_free(&is);
    io.skip_bad = 1;
    CHECK(import_jsonl(db, &io, &is) == 0);
    CHECK(is.bad == 5 && is.blank == 1 && is.traces_new == 2 && is.system_dropped == 1);
    CHECK(is.bad_report && strstr(is.bad_report, "bad.jsonl:6"));
    import_stats_free(&is);
    CHECK(q1(db, "SELECT count(*) FROM problems") == 2 && q1(db, "SELECT count(*) FROM traces") == 2);
    CHECK(q1(db, "SELECT count(*) FROM problems WHERE answer = '10' AND source = 'ext' AND family = 'import'") == 1);
    /* --answer-from-boxed rescues line 3? no boxed there: still bad; 7 has an answer already */
    io.answer_from_boxed = 1;
    CHECK(import_jsonl(db, &io, &is) == 0 && is.bad == 5 && is.traces_new == 0);
    import_stats_free(&is);
    /* problems format, eval split, field mapping */
    spit(file, "{\"question\":\"Compute 6 times 7 now please ok\",\"final\":\"42\"}\n"
               "{\"question\":\"How many, in words?\",\"final\":\"Forty  Two\"}\n"
               "{\"question\":\"Big one\",\"final\":\"1,234,567\"}\n");
    import_opts po = {.path = file, .source = "bench", .format = IMPORT_PROBLEMS, .answer_field = "final", .split = "eval"};
    CHECK(import_jsonl(db, &po, &is) == 0 && is.problems_new == 3);
    import_stats_free(&is);
    CHECK(q1(db, "SELECT count(*) FROM problems WHERE split = 'eval' AND answer = '42' AND answer_type = 'number'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM problems WHERE answer = 'forty two' AND answer_type = 'text'") == 1);
    CHECK(q1(db, "SELECT count(*) FROM problems WHERE answer = '1234567'") == 1);
    db_close(db);
    /* answers */
    const char *in[] = {"\\frac{-7}{3}", "-\\frac{7}{3}", "\\dfrac{14}{6}", "0.5", "25\\%", " 1,234 ", "$42$", "Three"};
    const char *want[] = {"-7/3", "-7/3", "7/3", "1/2", "25", "1234", "42", "three"};
    for (int i = 0; i < 8; i++) {
        char *out;
        import_canon_answer(in[i], &out);
        CHECK_STR(out, want[i]);
        free(out);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/retort-test-mix-%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd)) return 2;
    test_json_escape();
    test_words();
    sqlite3 *db = fixture_build(tmp("mix.db"), 1200);
    test_quotas(db);
    test_guard(db);
    test_decontam(db);
    test_determinism_and_export(db);
    test_roundtrip(db);
    db_close(db);
    test_bad_lines();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (!test_failures && system(cmd)) return 2;
    return test_report("test_mix");
}
