#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"
#include "filter/export.h"

int cmd_export(int argc, char **argv) {
    const char *db_path = "retort.db", *mix = NULL, *format = "messages", *out = NULL, *system = NULL, *split = "train";
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_STR("mix", &mix, "NAME", "the mix to export (required)"),
        O_CHOICE("format", &format, "messages|sharegpt|reasoning|prompt-completion", "output format"),
        O_STR("out", &out, "FILE", "output JSONL; written to FILE.tmp, then renamed; '-' for stdout (required)"),
        O_STR("system", &system, "TEXT", "a system prompt, as the first turn"),
        O_CHOICE("split", &split, "train|val|all", "which items of the mix"),
        O_END,
    };
    cmd_spec spec = {"export", "retort export --mix NAME --out FILE.jsonl [options]",
                     "Write a mix as chat JSONL, one sample per line, in mix order.",
                     "formats:\n"
                     "  messages           {\"messages\":[{\"role\":\"user\",\"content\":U},{\"role\":\"assistant\",\"content\":A}]}\n"
                     "                     (TRL SFTTrainer, axolotl chat_template, LLaMA-Factory openai style)\n"
                     "  sharegpt           {\"conversations\":[{\"from\":\"human\",\"value\":U},{\"from\":\"gpt\",\"value\":A}]}\n"
                     "  reasoning          as messages, the assistant turn split as the DeepSeek API does:\n"
                     "                     {\"role\":\"assistant\",\"reasoning_content\":R,\"content\":C}\n"
                     "  prompt-completion  {\"prompt\":U,\"completion\":A}\n"
                     "U is the problem through its teacher's prompt template; A is the whole trace,\n"
                     "with a prefilled <think> restored. Output is valid UTF-8: stored bytes that are\n"
                     "not UTF-8 become U+FFFD (counted on stderr). Streams in constant memory.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    if (!mix) return opts_error(&spec, "--mix is required");
    if (!out) return opts_error(&spec, "--out is required");
    export_opts eo = {.mix = mix, .out = out, .system = system, .split = split};
    export_format_parse(format, &eo.format);
    if (system && eo.format == EXPORT_PROMPT_COMPLETION)
        return opts_error(&spec, "--system: the prompt-completion format has no place for a system prompt");
    sqlite3 *db;
    int rc = cli_open_db(db_path, 0, &db);
    if (rc) return rc;
    export_stats stats;
    if (export_mix(db, &eo, &stats)) {
        err_print();
        db_close(db);
        return EXIT_RUNTIME;
    }
    msg("exported %llu lines (%llu bytes) of mix '%s' (%s split) to %s", (unsigned long long)stats.lines,
        (unsigned long long)stats.bytes, mix, split, out);
    if (stats.invalid_bytes)
        msg("warning: %llu bytes of stored text were not valid UTF-8 and were written as U+FFFD",
            (unsigned long long)stats.invalid_bytes);
    db_close(db);
    return EXIT_OK;
}
