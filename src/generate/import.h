#ifndef RETORT_IMPORT_H
#define RETORT_IMPORT_H
#include <stdint.h>
#include <sqlite3.h>

/* Import external JSONL (a public R1 distillation set, an eval benchmark, our
 * own export) into problems, teachers and traces, so that filter, mix and
 * export work on it as on generated data.
 *
 * Formats:
 *   messages   a chat: user turn = the problem's prompt, assistant turn = the
 *              trace text as is. Turns are {"role","content"} or ShareGPT's
 *              {"from","value"} (human/gpt), in --messages-field (default
 *              "messages", else "conversations"); or flat string fields with
 *              --prompt-field and --response-field (prompt-completion files).
 *   reasoning  as messages, but the assistant turn has the DeepSeek API split:
 *              the trace is "<think>\n" REASONING "\n</think>\n\n" CONTENT
 *              (just CONTENT when the reasoning is empty). The reasoning is the
 *              assistant turn's --reasoning-field (default "reasoning_content"),
 *              or a top-level field of that name.
 *   problems   problems only: --prompt-field (default: the first of "prompt",
 *              "problem", "question") and the answer.
 *
 * Ground truth: the answer comes from --answer-field (default "answer", a
 * string or a number). A chat line without one is an error unless
 * --answer-from-boxed is given; then the last \boxed{...} of the response is
 * the answer, which trusts the response to be right (the filter then only
 * checks the trace against itself): an explicit choice, never a default.
 * Answers are canonicalized like generated ones: "1,234" -> "1234",
 * "\frac{-7}{3}" and "-7/3" -> "-7/3", "0.5" -> "1/2", "25\%" -> "25"; what is
 * not a number is a text answer, lowercased.
 *
 * Imported prompts are stored as they are, with the template "{prompt}" (a
 * passthrough), so exporting them renders the same user text; teachers are
 * named "import:SOURCE" (one per trace format: 'r1' or 'tagged'). System turns
 * are not stored (counted; export takes --system). Multi-turn chats are bad lines.
 *
 * Idempotent: problems are keyed by their content hash, traces by (problem,
 * teacher, text), so importing a file twice adds nothing. One transaction: a
 * bad line (not JSON, invalid UTF-8, missing field) is reported as FILE:LINE
 * and nothing is imported, unless skip_bad is set. */
typedef enum { IMPORT_MESSAGES, IMPORT_REASONING, IMPORT_PROBLEMS } import_format;

typedef struct {
    const char *path;
    const char *source;            /* NAME: problems.source, teacher 'import:NAME' */
    import_format format;
    const char *messages_field;    /* NULL: "messages", then "conversations" */
    const char *prompt_field;      /* flat prompt string, or NULL */
    const char *response_field;    /* flat response string, or NULL */
    const char *reasoning_field;   /* NULL: "reasoning_content" */
    const char *answer_field;      /* NULL: "answer" */
    int answer_from_boxed;
    const char *family;            /* NULL: "import" */
    const char *task;              /* NULL: "import" */
    const char *lang;              /* NULL: per line, zh when Han characters outnumber Latin words */
    const char *split;             /* NULL: "train" */
    int reasoning;                 /* problems.reasoning */
    int skip_bad;
    const char *mix;               /* also record the imported traces, in file order, as this mix */
    int replace;
    int64_t run_id;
} import_opts;

typedef struct {
    uint64_t lines, blank, bad;
    uint64_t problems_new, problems_seen, traces_new, traces_seen, system_dropped;
    uint64_t mix_items;
    char *bad_report;              /* owned: the first bad lines, "FILE:LINE: why" joined by newlines */
} import_stats;

int import_format_parse(const char *s, import_format *f);
int import_jsonl(sqlite3 *db, const import_opts *o, import_stats *stats);
void import_stats_free(import_stats *s);

/* Canonical answer text: returns 1 for a number (out holds "42", "-7/3"), 0 for text. */
int import_canon_answer(const char *in, char **out);

#endif
