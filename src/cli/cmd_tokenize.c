#include <stdio.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/tokset.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenize.h"

int cmd_tokenize(int argc, char **argv) {
    const char *db_path = "retort.db", *mix = NULL, *tok_path = NULL, *tmpl = "r1", *out = NULL, *system = NULL;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database holding the mix"),
        O_STR("mix", &mix, "NAME", "mix to tokenize (required)"),
        O_STR("tokenizer", &tok_path, "PATH", "tokenizer.json or a model directory holding one (required)"),
        O_CHOICE("template", &tmpl, CHAT_TEMPLATE_CHOICES, "chat template that renders each sample"),
        O_STR("system", &system, "TEXT", "system prompt for every sample (default: none, as DeepSeek-R1 advises)"),
        O_STR("out", &out, "FILE", "token file to write (required)"),
        O_END,
    };
    cmd_spec spec = {"tokenize", "retort tokenize --db D --mix NAME --tokenizer DIR --template T --out FILE",
                     "Render a mix through a chat template into a token file for distill.",
                     "Each sample is (user: the problem through its teacher's template,\n"
                     "assistant: the trace). The loss mask is 1 on the assistant's tokens and its\n"
                     "end token, taken from the template's spans. The file layout is in\n"
                     "src/core/tokset.h (README: \"Training files\"). Token counts go to the\n"
                     "token_counts table and traces.n_tokens.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!mix) return opts_error(&spec, "--mix is required");
    if (!tok_path) return opts_error(&spec, "--tokenizer is required");
    if (!out) return opts_error(&spec, "--out is required");
    tokenizer_t *t = tokenizer_load(tok_path);
    if (!t) { err_print(); return EXIT_RUNTIME; }
    sqlite3 *db;
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) { tokenizer_free(t); return rc; }
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { tokenizer_free(t); db_close(db); return EXIT_RUNTIME; }
    tokset_t ts;
    tokset_init(&ts);
    rc = tokenize_mix(db, mix, t, tmpl, system, &ts) || tokset_write(&ts, out);
    if (rc) err_print();
    else {
        uint64_t target = 0;
        for (uint64_t i = 0; i < ts.n_tokens; i++) target += ts.mask[i];
        fprintf(stderr, "retort: tokenize: %llu samples, %llu tokens (%llu in the loss) -> %s\n",
                (unsigned long long)ts.n_samples, (unsigned long long)ts.n_tokens, (unsigned long long)target, out);
    }
    run_finish(db, run, rc ? "failed" : "ok", rc ? err_msg() : NULL);
    tokset_free(&ts);
    tokenizer_free(t);
    db_close(db);
    return rc ? EXIT_RUNTIME : EXIT_OK;
}
