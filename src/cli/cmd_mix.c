#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "filter/mix.h"

static int parse_rate_range(const char *s, double *lo, double *hi) {
    char *end;
    *lo = strtod(s, &end);
    if (end == s || *end != ':') return -1;
    const char *b = end + 1;
    *hi = strtod(b, &end);
    if (end == b || *end) return -1;
    if (!isfinite(*lo) || !isfinite(*hi) || *lo < 0 || *hi > 1 || *lo > *hi) return -1;
    return 0;
}

int cmd_mix(int argc, char **argv) {
    const char *db_path = "retort.db", *name = NULL, *weights = NULL, *pass_rate = NULL, *where = NULL, *query = NULL,
               *against = NULL;
    long filter_id = 0, per_problem = 0, max_chars = 0, max_tokens = 0, ngram = 8, ngram_common = 0;
    uint64_t total = 800000, seed = 0;
    double share = 0.75, val_share = 0.0;
    int replace = 0, allow_short = 0;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_STR("name", &name, "NAME", "name of the mix (required)"),
        O_INT("filter", &filter_id, "ID", "filter whose kept traces (verdicts.keep = 1) are drawn from (required)", 1, 9e18),
        O_U64("total", &total, "N", "number of items; 0 takes every candidate and ignores shares and weights"),
        O_DBL("reasoning-share", &share, "X", "share of items from reasoning problems (problems.reasoning = 1)", 0, 1),
        O_INT("per-problem", &per_problem, "K", "at most K traces per problem (0: no cap)", 0, 1e9),
        O_STR("family-weights", &weights, "F=W,...", "split each class's quota over families by weight, e.g. arith=2,word=1 "
              "(families not named weigh 1; =0 leaves one out)"),
        O_INT("max-chars", &max_chars, "N", "only traces of at most N characters (0: no limit)", 0, 9e18),
        O_INT("max-tokens", &max_tokens, "N", "only traces of at most N tokens; needs token counts (0: no limit)", 0, 9e18),
        O_STR("pass-rate", &pass_rate, "MIN:MAX", "only problems whose v_problem_pass_rate.pass_rate is in [MIN, MAX], e.g. 0.2:0.8"),
        O_STR("where", &where, "PRED", "SQL predicate over v_candidates, e.g. \"lang = 'zh' AND n_chars < 2000\""),
        O_STR("query", &query, "SQL", "read-only SELECT whose first column is trace ids; intersected with the candidates"),
        O_DBL("val-share", &val_share, "X", "share of items set aside as the val split (whole problems)", 0, 0.999),
        O_U64("seed", &seed, "S", "seed of the shuffle and of every choice"),
        O_FLAG("replace", &replace, "rebuild a mix that already exists under this name"),
        O_FLAG("allow-short", &allow_short, "take what is available when a quota cannot be met, instead of failing"),
        O_INT("ngram", &ngram, "N", "decontamination: drop problems sharing a lowercase word N-gram with an eval prompt", 1, 64),
        O_INT("ngram-common", &ngram_common, "N", "relax decontamination: ignore n-grams found in N or more distinct "
              "eval/file prompts, i.e. template wording shared by many problems (0: strict, ignore none)", 0, 1e9),
        O_STR("decontaminate-against", &against, "FILE", "JSONL of more prompts to decontaminate against "
              "('prompt'/'problem'/'question' field or the user turn of 'messages')"),
        O_END,
    };
    cmd_spec spec = {"mix", "retort mix --name NAME --filter ID [options]",
                     "Build an immutable, ordered SFT mix from the traces a filter kept.",
                     "Candidates are the traces with verdicts.keep = 1 under --filter on train-split\n"
                     "problems (eval-split problems never enter a mix); the view v_candidates shows them.\n"
                     "They are narrowed by --max-chars/--max-tokens/--pass-rate/--where/--query, then every\n"
                     "problem whose prompt shares a word n-gram (--ngram) with an eval-split problem or a\n"
                     "--decontaminate-against prompt is dropped, then --per-problem caps each problem.\n"
                     "Quotas: round(total * reasoning-share) reasoning items, the rest non-reasoning, each\n"
                     "split over families by --family-weights. When a quota cannot be met the command\n"
                     "fails and lists what is available per quota (or takes it with --allow-short).\n"
                     "The seeded shuffle orders the mix (mix_items.position); --val-share sets whole\n"
                     "problems aside as 'val'. The report (JSON, printed and stored in mixes.report)\n"
                     "gives the funnel, quotas and decontamination matches. One transaction.\n\n"
                     "example: retort mix --name r1-800k --filter 1 --total 800000 --seed 7 \\\n"
                     "           --where \"lang_ratio >= 0.99\" --val-share 0.01",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!name || !*name) return opts_error(&spec, "--name is required");
    if (!opts_find(&spec, "filter")->set) return opts_error(&spec, "--filter is required (see SELECT id, created_at FROM filters)");
    mix_opts mo = {.name = name, .filter_id = filter_id, .total = total, .reasoning_share = share,
                   .per_problem = per_problem, .family_weights = weights, .max_chars = max_chars,
                   .max_tokens = max_tokens, .where = where, .query = query, .val_share = val_share, .seed = seed,
                   .replace = replace, .allow_short = allow_short, .ngram = (int)ngram, .ngram_common = ngram_common,
                   .decontam_file = against};
    if (pass_rate) {
        if (parse_rate_range(pass_rate, &mo.pass_min, &mo.pass_max))
            return opts_error(&spec, "--pass-rate: '%s' is not MIN:MAX with 0 <= MIN <= MAX <= 1", pass_rate);
        mo.has_pass_rate = 1;
    }
    sqlite3 *db;
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) return rc;
    cJSON *sj = opts_json(&spec);
    char *specs = cJSON_PrintUnformatted(sj);
    cJSON_Delete(sj);
    mo.spec_json = specs;
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { free(specs); db_close(db); return EXIT_RUNTIME; }
    mo.run_id = run;
    mix_result res;
    if (mix_build(db, &mo, &res)) {
        err_print();
        run_finish(db, run, "failed", err_msg());
        free(specs);
        db_close(db);
        return EXIT_RUNTIME;
    }
    cJSON *rj = cJSON_Parse(res.report_json);
    char *pretty = cJSON_Print(rj);
    printf("%s\n", pretty);
    free(pretty);
    cJSON_Delete(rj);
    msg("mix '%s' (id %lld): %llu train + %llu val items", name, (long long)res.mix_id,
        (unsigned long long)res.n_train, (unsigned long long)res.n_val);
    run_finish(db, run, "ok", NULL);
    mix_result_free(&res);
    free(specs);
    db_close(db);
    return EXIT_OK;
}
