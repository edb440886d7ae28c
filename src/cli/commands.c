#include <string.h>
#include "cli/commands.h"

/* Listed in pipeline order; `retort help` prints them in this order. */
const struct command commands[] = {
    {"init", cmd_init, "create or migrate a database"},
    {"generate", cmd_generate, "make problems with exact answers and sample teacher traces"},
    {"filter", cmd_filter, "judge traces: answer, format, language, repetition, length, dedup; keep per problem"},
    {"mix", cmd_mix, "build an immutable, ordered, decontaminated SFT mix from a filter's kept traces"},
    {"export", cmd_export, "write a mix as chat JSONL (messages, sharegpt, reasoning, prompt-completion)"},
    {"import", cmd_import, "bring external problems and traces (JSONL) into the database"},
    {"tokenizer", cmd_tokenizer, "encode, decode and train byte-level BPE tokenizers (tokenizer.json)"},
    {"tokenize", cmd_tokenize, "render a mix through a chat template into a token file"},
    {"distill", cmd_distill, "fine-tune a student on a mix (SFT) and write a Hugging Face checkpoint"},
    {"chat", cmd_chat, "talk to a student checkpoint: the reply streams to stdout"},
    {"eval", cmd_eval, "measure a student on held-out problems: pass@1, pass@k, maj@k, format, language"},
    {"model", cmd_model, "inspect a student checkpoint: shapes, logits, one training step"},
    {"stats", cmd_stats, "print counts by table, family, split, language and fault"},
    {0, 0, 0},
};

const struct command *command_find(const char *name) {
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}
