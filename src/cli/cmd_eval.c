/* retort eval: a student on held-out problems, judged by the filter's verifier. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "distill/eval.h"

int cmd_eval(int argc, char **argv) {
    eval_opts o;
    eval_opts_default(&o);
    const char *db_path = "retort.db", *model = NULL, *tmpl = NULL, *family = NULL;
    long limit = 0, samples = 0, k = 0, top_k = 0, max_new = o.max_new, batch = o.batch, threads = 0, show = 0;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database holding the problems; results go to eval_runs/eval_items/eval_problems"),
        O_STR("model", &model, "DIR", "student checkpoint directory with tokenizer.json (required)"),
        O_STR("template", &tmpl, "NAME", "chat template r1|chatml|llama3 (default: the one the tokenizer carries)"),
        O_STR("user-template", &o.user_template, "TEXT",
              "user turn with {prompt} where the problem goes (default: R1's math prompt, as the synthetic teacher uses)"),
        O_CHOICE("split", &o.split, "train|eval", "which problems"),
        O_STR("family", &family, "NAME", "only this family (default: all)"),
        O_INT("limit", &limit, "N", "at most N problems, by id (0: all)", 0, 1e12),
        O_INT("samples", &samples, "K", "sampled outputs per problem for pass@k and maj@k (0: greedy only)", 0, 1024),
        O_INT("k", &k, "K", "k of pass@k, estimated without bias from --samples outputs (0: = --samples)", 0, 1024),
        O_DBL("temperature", &o.sample.temperature, "T", "temperature of the samples (pass@1 is always greedy)", 0, 100),
        O_DBL("top-p", &o.sample.top_p, "P", "nucleus sampling for the samples", 0, 1),
        O_INT("top-k", &top_k, "K", "top-k sampling for the samples (0: off)", 0, 1 << 30),
        O_INT("max-new-tokens", &max_new, "N", "length limit per output (finish_reason=length beyond it)", 1, 1 << 24),
        O_INT("batch", &batch, "N", "sequences decoded together", 1, 4096),
        O_U64("seed", &o.seed, "S", "sampling seed"),
        O_INT("threads", &threads, "N", "threads (OpenBLAS; 0: all cores)", 0, 1024),
        O_INT("show", &show, "ID", "print the table of eval run ID and exit", 0, 1e18),
        O_FLAG("quiet", &o.quiet, "no progress messages"),
        O_END,
    };
    cmd_spec spec = {
        "eval", "retort eval --model DIR [--db D] [--split eval] [--limit N] [--samples K --temperature T] [--family F]",
        "Measure a student on held-out problems and store the results.",
        "Each problem is rendered through the user template and the chat template, as\n"
        "the training traces were, and decoded greedily (pass@1). With --samples K, K more\n"
        "outputs are sampled (seeded) for pass@k (the unbiased estimator of Chen et al.\n"
        "2021) and maj@k (majority vote over the normalized extracted answers).\n"
        "Every output is judged by the filter's verifier with its default configuration:\n"
        "correct means the extracted answer equals the ground truth exactly and the\n"
        "output ended on its own (not at --max-new-tokens); format is the share of\n"
        "well-formed outputs, lang the share whose chain of thought stays in the\n"
        "problem's language (ratio >= 0.9), tokens the mean output length.\n"
        "Rows: eval_runs, eval_items (one per output), eval_problems (one per problem);\n"
        "the printed table is the view v_eval_summary plus an overall row.\n\n"
        "examples:\n"
        "  retort eval --model student --db retort.db --split eval --limit 200\n"
        "  retort eval --model student --samples 8 --temperature 0.6 --family arith",
        opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    sqlite3 *db;
    if (show) {
        int rc = cli_open_db(db_path, 0, &db);
        if (rc) return rc;
        rc = eval_print(db, show, stdout);
        if (rc) err_print();
        db_close(db);
        return rc ? EXIT_RUNTIME : EXIT_OK;
    }
    if (!model) return opts_error(&spec, "--model: required");
    if (k > samples) return opts_error(&spec, "--k: %ld exceeds --samples %ld", k, samples);
    o.family = family;
    o.limit = limit;
    o.samples = (int)samples;
    o.k = (int)k;
    o.sample.top_k = (int)top_k;
    o.max_new = (int)max_new;
    o.batch = (int)batch;
    o.model_dir = model;
    model_set_threads((int)threads);
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) return rc;
    student_t s;
    if (student_load(&s, model, tmpl)) { err_print(); db_close(db); return EXIT_RUNTIME; }
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { student_free(&s); db_close(db); return EXIT_RUNTIME; }
    eval_result res;
    if (eval_run(db, &s, &o, run, &res)) {
        err_print();
        run_finish(db, run, "failed", err_msg());
        student_free(&s);
        db_close(db);
        return EXIT_RUNTIME;
    }
    char m[256];
    snprintf(m, sizeof m, "eval run %lld: %ld problems, pass@1 %.4f", (long long)res.eval_run_id, res.problems, res.pass1);
    run_finish(db, run, "ok", m);
    eval_print(db, res.eval_run_id, stdout);
    fprintf(stderr, "retort: eval: %ld outputs in %.1f s (%.0f decoded tokens/s)\n", res.outputs, res.seconds,
            res.tokens_per_s);
    student_free(&s);
    db_close(db);
    return EXIT_OK;
}
