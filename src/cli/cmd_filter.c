#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/hash.h"
#include "filter/run.h"

static int parse_list(const char *s, double *out, int n) {
    char *end;
    for (int k = 0; k < n; k++) {
        out[k] = strtod(s, &end);
        if (end == s || !(out[k] >= 0 && out[k] <= 1)) return -1;
        s = end;
        if (k < n - 1) { if (*s != ',') return -1; s++; }
    }
    return *s ? -1 : 0;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    strbuf b;
    sb_init(&b);
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) sb_putn(&b, buf, k);
    fclose(f);
    return sb_steal(&b);
}

int cmd_filter(int argc, char **argv) {
    const char *db_path = "retort.db", *config = NULL, *policy = "all", *dup = NULL, *top = NULL;
    long min_chars = 0, max_chars = 0, min_tokens = 0, max_tokens = 0, rep_min_words = 0, loop_min_chars = 0,
         loop_min_repeats = 0, per_problem = 0, threads = 2, report = 0;
    double lang_ratio = 0;
    uint64_t seed = 0;
    int keep_length = 0;
    filter_config def;
    filter_config_default(&def);
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_STR("config", &config, "FILE", "filter configuration as a JSON object (keys as in README); flags override it"),
        O_INT("min-chars", &min_chars, "N", "reject traces shorter than N characters [16]", 0, 1e12),
        O_INT("max-chars", &max_chars, "N", "reject traces longer than N characters [131072]", 1, 1e12),
        O_INT("min-tokens", &min_tokens, "N", "reject traces with fewer tokens (when traces.n_tokens is known) [0]", 0, 1e12),
        O_INT("max-tokens", &max_tokens, "N", "reject traces with more tokens (when known) [32768]", 1, 1e12),
        O_DBL("lang-ratio", &lang_ratio, "X", "minimum share of CoT words in the problem's language [0.9]", 0, 1),
        O_STR("dup-ngram", &dup, "LIST", "duplicate n-gram char fraction limits for n=5..10 [0.15,0.14,0.13,0.12,0.11,0.10]"),
        O_STR("top-ngram", &top, "LIST", "top n-gram char ratio limits for n=2..4 [0.20,0.18,0.16]"),
        O_INT("rep-min-words", &rep_min_words, "N", "apply the n-gram rules from N CoT words on [100]", 0, 1e12),
        O_INT("loop-min-chars", &loop_min_chars, "N", "a looping tail must span at least N bytes [200]", 33, 1e9),
        O_INT("loop-min-repeats", &loop_min_repeats, "N", "and hold at least N copies of its block [4]", 2, 1e6),
        O_FLAG("keep-length", &keep_length, "do not reject finish_reason=length by itself"),
        O_INT("per-problem", &per_problem, "K", "keep at most K passing traces per problem (0: no limit) [0]", 0, 1e9),
        O_CHOICE("policy", &policy, "all|shortest|random", "which passing traces to keep when K is set"),
        O_U64("seed", &seed, "S", "seed for --policy random [0]"),
        O_INT("threads", &threads, "N", "worker threads judging in parallel (one more thread writes)", 1, 256),
        O_INT("report", &report, "ID", "print the report of filter ID (reasons, confusion matrix) and exit", 1, 1e18),
        O_END,
    };
    cmd_spec spec = {"filter", "retort filter [--db PATH] [--config FILE.json] [thresholds] [--per-problem K --policy P]",
                     "Judge every trace not yet judged under a filter configuration; print the filter id.",
                     "Each trace gets one verdict per filter: pass (every check passed), keep (pass and\n"
                     "chosen by the per-problem policy), reason codes and every measured value. The\n"
                     "configuration is stored as canonical JSON with its hash: the same configuration\n"
                     "again is a no-op; a changed threshold is a new filter. Traces are never modified.\n"
                     "Interrupted runs resume: stored verdicts are skipped.\n"
                     "`retort filter --report ID` prints counts by reason and the confusion matrix\n"
                     "against the faults the synthetic teacher injected.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);

    sqlite3 *db;
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) return rc;
    if (opts_find(&spec, "report")->set) {
        if (filter_report_print(db, report, stdout)) { err_print(); db_close(db); return EXIT_RUNTIME; }
        db_close(db);
        return EXIT_OK;
    }

    filter_config cfg = def;
    if (config) {
        char *text = read_file(config);
        if (!text) { db_close(db); return opts_error(&spec, "--config: cannot read %s", config); }
        cJSON *j = cJSON_Parse(text);
        free(text);
        if (!j) { db_close(db); return opts_error(&spec, "--config: %s is not valid JSON", config); }
        int bad = filter_config_from_json(&cfg, j);
        cJSON_Delete(j);
        if (bad) { db_close(db); return opts_error(&spec, "--config: %s: %s", config, err_msg()); }
    }
    if (opts_find(&spec, "min-chars")->set) cfg.min_chars = min_chars;
    if (opts_find(&spec, "max-chars")->set) cfg.max_chars = max_chars;
    if (opts_find(&spec, "min-tokens")->set) cfg.min_tokens = min_tokens;
    if (opts_find(&spec, "max-tokens")->set) cfg.max_tokens = max_tokens;
    if (opts_find(&spec, "lang-ratio")->set) cfg.lang_min_ratio = lang_ratio;
    if (opts_find(&spec, "rep-min-words")->set) cfg.rep_min_words = rep_min_words;
    if (opts_find(&spec, "loop-min-chars")->set) cfg.loop_min_chars = loop_min_chars;
    if (opts_find(&spec, "loop-min-repeats")->set) cfg.loop_min_repeats = loop_min_repeats;
    if (keep_length) cfg.reject_finish_length = 0;
    if (opts_find(&spec, "per-problem")->set) cfg.per_problem = per_problem;
    if (opts_find(&spec, "seed")->set) cfg.seed = seed;
    if (opts_find(&spec, "policy")->set)
        cfg.policy = !strcmp(policy, "shortest") ? POLICY_SHORTEST : !strcmp(policy, "random") ? POLICY_RANDOM : POLICY_ALL;
    if (dup && parse_list(dup, cfg.dup_ngram, REP_DUP_NN)) { db_close(db); return opts_error(&spec, "--dup-ngram: expected 6 comma-separated numbers in [0,1]"); }
    if (top && parse_list(top, cfg.top_ngram, REP_TOP_NN)) { db_close(db); return opts_error(&spec, "--top-ngram: expected 3 comma-separated numbers in [0,1]"); }
    if (cfg.policy != POLICY_ALL && cfg.per_problem == 0) { db_close(db); return opts_error(&spec, "--policy %s needs --per-problem K", policy_name(cfg.policy)); }
    if (filter_config_validate(&cfg)) { db_close(db); return opts_error(&spec, "%s", err_msg()); }

    /* Same configuration with nothing left to judge: a no-op, nothing written. */
    int64_t fid = 0;
    {
        char *json = filter_config_json(&cfg);
        char hash[33];
        sha256_hex(json, strlen(json), hash, 16);
        free(json);
        sqlite3_stmt *st;
        if (db_prepare(db, "SELECT id FROM filters WHERE hash = ?", &st) == 0) {
            sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) fid = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    if (fid && filter_pending(db, fid) == 0) {
        msg("filter %lld: every trace already judged", (long long)fid);
        printf("%lld\n", (long long)fid);
        db_close(db);
        return EXIT_OK;
    }
    int64_t run_id = cli_run_start(db, &spec);
    if (run_id < 0) { db_close(db); return EXIT_RUNTIME; }
    int created;
    if (filter_ensure(db, &cfg, run_id, &fid, &created)) goto fail;
    filter_stats st;
    if (filter_run(db_path, db, fid, &cfg, (int)threads, &st)) goto fail;
    msg("filter %lld: judged %lld traces in %.2f s (%.0f traces/s, %ld threads): %lld pass, %lld kept%s",
        (long long)fid, (long long)st.judged, st.seconds, st.seconds > 0 ? st.judged / st.seconds : 0.0, threads,
        (long long)st.passed, (long long)st.kept, created ? "" : " (resumed)");
    run_finish(db, run_id, "ok", NULL);
    printf("%lld\n", (long long)fid);
    db_close(db);
    return EXIT_OK;
fail:
    err_print();
    run_finish(db, run_id, "failed", err_msg());
    db_close(db);
    return EXIT_RUNTIME;
}
