#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "generate/generate.h"
#include <cblas.h>
#include "distill/model.h"

int cmd_generate(int argc, char **argv) {
    generate_opts o;
    generate_opts_default(&o);
    const char *db_path = "retort.db";
    long operands[2] = {o.family.arith.operands_min, o.family.arith.operands_max};
    long digits[2] = {o.family.arith.digits_min, o.family.arith.digits_max};
    int prefill = 0;
    const char *cot = "brief";
    long top_k = o.model.top_k, max_new = o.model.max_new, limit = 0, decode_batch = o.model.decode_batch, threads = 0;
    long concurrency = o.http.concurrency, retries = o.http.retries;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_CHOICE("family", &o.family.family, "arith|word|general", "task family"),
        O_INT("count", &o.count, "N", "number of distinct problems", 1, 1e9),
        O_INT("samples", &o.samples, "N", "traces sampled per problem", 1, 256),
        O_U64("seed", &o.seed, "S", "seed: the same seed and flags give identical problems and traces"),
        O_CHOICE("lang", &o.family.lang, "en|zh", "language of problems and traces"),
        O_CHOICE("format", &o.synth.format, "r1|tagged",
                 "output format: R1's <think>...</think> + \\boxed{}, or the tagged cold-start template"),
        O_FLAG("think-prefill", &prefill, "the prompt template prefills '<think>\\n'; traces start inside it"),
        O_CHOICE("cot", &cot, "brief|written",
                 "synthetic: each operation in one step, or written out digit by digit (columns, long × and ÷)"),
        O_STR("teacher", &o.teacher, "NAME",
              "who samples the traces: synthetic, model:DIR (a student checkpoint) or openai:URL (an endpoint)"),
        O_DBL("temperature", &o.model.temperature, "T", "model/openai teacher: sampling temperature (0: greedy)", 0, 100),
        O_DBL("top-p", &o.model.top_p, "P", "model/openai teacher: nucleus sampling", 0, 1),
        O_INT("top-k", &top_k, "K", "model/openai teacher: top-k sampling (0: off)", 0, 1 << 30),
        O_INT("max-new-tokens", &max_new, "N", "model/openai teacher: length limit per trace (finish_reason=length)", 1, 1 << 24),
        O_STR("template", &o.model.chat_template, "NAME", "model teacher: chat template (default: the tokenizer's)"),
        O_CHOICE("split", &o.model.split, "train|eval", "model/openai teacher without --count: sample stored problems of this split"),
        O_INT("limit", &limit, "N", "model/openai teacher without --count: at most N stored problems, by id (0: all)", 0, 1e12),
        O_INT("decode-batch", &decode_batch, "N", "model teacher: sequences decoded together", 1, 4096),
        O_INT("threads", &threads, "N", "model teacher: threads (OpenBLAS; 0: all cores)", 0, 1024),
        O_STR("api-model", &o.http.api_model, "NAME", "openai teacher: the request's model (required)"),
        O_STR("api-key-env", &o.http.api_key_env, "VAR",
              "openai teacher: environment variable holding the API key (unset or empty: no Authorization)"),
        O_INT("concurrency", &concurrency, "N", "openai teacher: requests in flight", 1, 1024),
        O_DBL("timeout", &o.http.timeout_s, "S", "openai teacher: seconds allowed per request", 0.001, 86400),
        O_INT("retries", &retries, "N", "openai teacher: retries per sample on 429, 5xx, time-outs, lost connections", 0, 100),
        O_RANGE("operands", operands, "arith: operands per expression", 2, EXPR_MAX_OPERANDS),
        O_RANGE("digits", digits, "arith: digits per operand", 1, 9),
        O_DBL("parens", &o.family.arith.paren_share, "P", "arith: share of expressions built as trees (parentheses)", 0, 1),
        O_DBL("negatives", &o.family.arith.negative_share, "P", "arith: chance that an operand is negative", 0, 1),
        O_DBL("fractions", &o.family.arith.fraction_share, "P",
              "arith: share of problems whose divisions may leave a reduced fraction (else exact)", 0, 1),
        O_DBL("eval-share", &o.eval_share, "P", "share of problems held out as the eval split (by content hash)", 0, 1),
        O_DBL("fault-wrong-step", &o.synth.faults.wrong_step, "P", "synthetic: rate of a wrong step (wrong answer)", 0, 1),
        O_DBL("fault-lang-mix", &o.synth.faults.lang_mix, "P", "synthetic: rate of language mixing in the CoT", 0, 1),
        O_DBL("fault-bad-tags", &o.synth.faults.bad_tags, "P", "synthetic: rate of broken/missing/duplicated tags", 0, 1),
        O_DBL("fault-loop", &o.synth.faults.loop, "P", "synthetic: rate of an endless loop cut at --max-chars", 0, 1),
        O_DBL("fault-truncate", &o.synth.faults.truncate, "P", "synthetic: rate of truncation inside the CoT", 0, 1),
        O_INT("max-chars", &o.synth.max_chars, "N", "synthetic: output length limit where a loop is cut", 200, 1e8),
        O_INT("batch", &o.batch, "N", "problems per transaction (a kill loses at most one batch)", 1, 1e7),
        O_FLAG("quiet", &o.quiet, "no progress line"),
        O_END,
    };
    cmd_spec spec = {
        "generate", "retort generate [--family arith|word|general] [--count N] [--samples N] [--seed S] [options]",
        "Make problems with exact ground truth and sample teacher traces for each into the database.",
        "Ground truth is computed with exact rationals (GMP). Problems are stored once by\n"
        "content hash; a share of them (--eval-share) is held out as the eval split, chosen\n"
        "by that hash, so a problem always lands in the same split.\n\n"
        "The synthetic teacher works each problem step by step in its language and plants a\n"
        "real teacher's failures at the --fault-* rates, recording them in traces.injected so\n"
        "the filter can be measured. Set every --fault-* to 0 for clean traces.\n\n"
        "--cot written makes it work every operation of integers the way it is done on\n"
        "paper: column addition and subtraction with carries and borrows, long\n"
        "multiplication and division, each column ending with the digits so far:\n"
        "  37 + 45: 7 + 5 = 12, carry 1 → 2; 3 + 4 + 1 = 8 → 82. So 37 + 45 = 82.\n"
        "Traces get two to three times longer, and every token is a one-digit fact or a copy of\n"
        "nearby digits, where the brief style asks a student to know every two-digit product.\n"
        "Fractions are still stated in one step.\n\n"
        "Deterministic and resumable: the same flags and --seed give the same rows, running\n"
        "again adds only what is missing, and a killed run loses at most one --batch.\n\n"
        "examples:\n"
        "  retort generate --family arith --count 5000 --samples 4 --operands 2:3 --digits 1:2\n"
        "  retort generate --family word --lang zh --count 2000 --format tagged\n"
        "  retort generate --family general --count 1000 --samples 2\n"
        "  retort generate --family arith --count 20000 --operands 2:3 --cot written\n\n"
        "The model teacher (--teacher model:DIR) samples a student checkpoint with\n"
        "--temperature/--top-p/--top-k (R1's 0.6/0.95 by default) through its chat template\n"
        "and R1's math prompt; traces record the prefilled '<think>\\n', the finish\n"
        "reason, the token count and the latency, and the teacher row the model's content\n"
        "hash and sampling parameters. With --count it makes problems exactly as the\n"
        "synthetic path does; without it, it samples the stored problems of --split\n"
        "(and --family when given), up to --limit. Resume is per sample.\n"
        "  retort generate --teacher model:student --count 500 --seed 2 --samples 8\n"
        "  retort generate --teacher model:student --split train --limit 100 --samples 4\n\n"
        "The openai teacher (--teacher openai:URL) asks an OpenAI-compatible chat completions\n"
        "endpoint (the DeepSeek API, vLLM, SGLang, llama.cpp's server) with the same prompt,\n"
        "sampling flags (--max-new-tokens is max_tokens) and problems as the model teacher, one\n"
        "request per sample with its own seed, --concurrency in flight. A separate reasoning\n"
        "field (reasoning_content) becomes R1's <think> block; content that closes a think block\n"
        "it never opened is recorded as think-prefilled. The API key comes from the\n"
        "environment (--api-key-env, OPENAI_API_KEY by default) and is never stored. 429, 5xx\n"
        "and lost connections are retried with backoff; any other HTTP error stops the run.\n"
        "A sample that fails all its retries is not stored: the run reports it and exits 1,\n"
        "and the same command run again requests only the missing samples.\n"
        "  retort generate --teacher openai:http://localhost:8000/v1 --api-model deepseek-r1 \\\n"
        "      --count 1000 --samples 4 --concurrency 32 --max-new-tokens 8192",
        opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    o.family.arith.operands_min = (int)operands[0];
    o.family.arith.operands_max = (int)operands[1];
    o.family.arith.digits_min = (int)digits[0];
    o.family.arith.digits_max = (int)digits[1];
    o.synth.think_prefill = prefill;
    o.synth.written = strcmp(cot, "written") == 0;
    int is_model = strncmp(o.teacher, "model:", 6) == 0, is_http = strncmp(o.teacher, "openai:", 7) == 0;
    if (strcmp(o.teacher, "synthetic") != 0 && !is_model && !is_http)
        return opts_error(&spec, "--teacher: '%s' is not 'synthetic', 'model:DIR' or 'openai:URL'", o.teacher);
    if (is_model && !o.teacher[6]) return opts_error(&spec, "--teacher: model: needs a directory (model:DIR)");
    if (is_http) {
        const char *u = o.teacher + 7;
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return opts_error(&spec, "--teacher: openai: needs an http:// or https:// base URL (openai:http://host:8000/v1)");
        if (!o.http.api_model || !*o.http.api_model)
            return opts_error(&spec, "--api-model is required with --teacher openai:URL (the model name the endpoint serves)");
        o.http.concurrency = (int)concurrency;
        o.http.retries = (int)retries;
    }
    if (is_model || is_http) {
        o.model.top_k = (int)top_k;
        o.model.max_new = (int)max_new;
        o.model.limit = limit;
        o.model.decode_batch = (int)decode_batch;
        o.model.make_problems = opts_find(&spec, "count")->set;
        o.model.family = opts_find(&spec, "family")->set ? o.family.family : NULL;
        if (is_model) model_set_threads((int)threads);
    }

    sqlite3 *db;
    int rc = cli_open_db(db_path, DB_CREATE, &db);
    if (rc) return rc;
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { db_close(db); return EXIT_RUNTIME; }
    generate_result res;
    if (generate_run(db, &o, run, &res)) {
        err_print();
        run_finish(db, run, "failed", err_msg());
        db_close(db);
        return EXIT_RUNTIME;
    }
    char m[256];
    snprintf(m, sizeof m, "%ld new problems (%ld eval), %ld already present; %ld new traces, %ld already present",
             res.problems_new, res.problems_eval, res.problems_existing, res.traces_new, res.traces_existing);
    run_finish(db, run, "ok", m);
    db_close(db);
    printf("problems_new=%ld problems_existing=%ld problems_eval=%ld traces_new=%ld traces_existing=%ld seconds=%.3f\n",
           res.problems_new, res.problems_existing, res.problems_eval, res.traces_new, res.traces_existing, res.seconds);
    fprintf(stderr, "retort: generate: %s in %.2fs (%.0f traces/s)\n", m, res.seconds,
            res.seconds > 0 ? res.traces_new / res.seconds : 0.0);
    return EXIT_OK;
}
