#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "generate/import.h"

int cmd_import(int argc, char **argv) {
    const char *db_path = "retort.db", *format = "messages", *source = NULL, *messages_field = NULL, *prompt_field = NULL,
               *response_field = NULL, *reasoning_field = NULL, *answer_field = NULL, *family = NULL, *task = NULL,
               *lang = NULL, *split = "train", *mix = NULL;
    long reasoning = 1;
    int from_boxed = 0, skip_bad = 0, replace = 0;
    char **args;
    int nargs;
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_CHOICE("format", &format, "messages|reasoning|problems", "what each line holds"),
        O_STR("source", &source, "NAME", "name of the source: problems.source, teacher 'import:NAME' (required)"),
        O_STR("messages-field", &messages_field, "KEY", "array of turns (default: 'messages', else 'conversations')"),
        O_STR("prompt-field", &prompt_field, "KEY", "string field holding the prompt (instead of the user turn)"),
        O_STR("response-field", &response_field, "KEY", "string field holding the response (instead of the assistant turn)"),
        O_STR("reasoning-field", &reasoning_field, "KEY", "reasoning format: the reasoning string (default 'reasoning_content')"),
        O_STR("answer-field", &answer_field, "KEY", "field holding the ground-truth answer (default 'answer')"),
        O_FLAG("answer-from-boxed", &from_boxed, "when a line has no answer field, take the response's last \\boxed{} as the answer"),
        O_STR("family", &family, "NAME", "problems.family of every problem (default 'import')"),
        O_STR("task", &task, "NAME", "problems.task of every problem (default 'import')"),
        O_STR("lang", &lang, "LANG", "problems.lang (default: zh when Han characters outnumber Latin words in prompt and response, else en)"),
        O_CHOICE("split", &split, "train|eval", "split of the imported problems (eval: a benchmark, for decontamination)"),
        O_INT("reasoning", &reasoning, "0|1", "problems.reasoning: 1 counts toward the reasoning share of a mix", 0, 1),
        O_FLAG("skip-bad", &skip_bad, "import the good lines and report the bad ones (default: a bad line imports nothing)"),
        O_STR("mix", &mix, "NAME", "also record the imported traces, in file order, as a mix (for re-export)"),
        O_FLAG("replace", &replace, "with --mix: rebuild an existing mix of that name"),
        O_END,
    };
    cmd_spec spec = {"import", "retort import --source NAME [options] FILE.jsonl",
                     "Bring external problems (with ground truth) and traces into the database.",
                     "Each line is one JSON object. messages: a user and an assistant turn ({role,content}\n"
                     "or ShareGPT {from,value}), or flat --prompt-field/--response-field strings.\n"
                     "reasoning: as messages, with the DeepSeek reasoning_content beside the content; the\n"
                     "trace becomes \"<think>\\nR\\n</think>\\n\\nC\". problems: a prompt and an answer only.\n"
                     "Ground truth comes from --answer-field; without it a chat line is bad unless\n"
                     "--answer-from-boxed says to trust the response's last \\boxed{}.\n"
                     "Prompts are stored verbatim with the template '{prompt}', so exporting an imported mix\n"
                     "reproduces the file. Importing a file again adds nothing. A bad line is reported as\n"
                     "FILE:LINE and nothing is imported (one transaction) unless --skip-bad.",
                     opts, 1, 1};
    CLI_PARSE(spec, argc, argv, &args, &nargs);
    if (!source || !*source) return opts_error(&spec, "--source is required");
    import_opts io = {.path = args[0], .source = source, .messages_field = messages_field, .prompt_field = prompt_field,
                      .response_field = response_field, .reasoning_field = reasoning_field,
                      .answer_field = answer_field, .answer_from_boxed = from_boxed, .family = family, .task = task,
                      .lang = lang, .split = split, .reasoning = (int)reasoning, .skip_bad = skip_bad, .mix = mix,
                      .replace = replace};
    import_format_parse(format, &io.format);
    if (mix && io.format == IMPORT_PROBLEMS) return opts_error(&spec, "--mix: the problems format imports no traces");
    sqlite3 *db;
    int rc = cli_open_db(db_path, DB_CREATE, &db);
    if (rc) return rc;
    int64_t run = cli_run_start(db, &spec);
    if (run < 0) { db_close(db); return EXIT_RUNTIME; }
    io.run_id = run;
    import_stats st;
    if (import_jsonl(db, &io, &st)) {
        err_print();
        run_finish(db, run, "failed", err_msg());
        import_stats_free(&st);
        db_close(db);
        return EXIT_RUNTIME;
    }
    if (st.bad) msg("skipped %llu bad line%s:\n%s%s", (unsigned long long)st.bad, st.bad == 1 ? "" : "s",
                    st.bad_report ? st.bad_report : "", st.bad > 20 ? "\n..." : "");
    msg("%s: %llu lines: %llu new problems (%llu already present), %llu new traces (%llu already present)%s",
        args[0], (unsigned long long)st.lines, (unsigned long long)st.problems_new, (unsigned long long)st.problems_seen,
        (unsigned long long)st.traces_new, (unsigned long long)st.traces_seen, "");
    if (st.system_dropped)
        msg("note: %llu system turns were not stored (pass --system to export)", (unsigned long long)st.system_dropped);
    if (mix) msg("mix '%s': %llu items%s", mix, (unsigned long long)st.mix_items, st.mix_items ? "" : " (unchanged)");
    run_finish(db, run, "ok", NULL);
    import_stats_free(&st);
    db_close(db);
    return EXIT_OK;
}
