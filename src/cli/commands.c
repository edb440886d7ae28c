#include <string.h>
#include "cli/commands.h"

/* Listed in pipeline order; `retort help` prints them in this order. */
const struct command commands[] = {
    {"init", cmd_init, "create or migrate a database"},
    {"generate", cmd_generate, "make problems with exact answers and sample teacher traces"},
    {"mix", cmd_mix, "build an immutable, ordered, decontaminated SFT mix from a filter's kept traces"},
    {"export", cmd_export, "write a mix as chat JSONL (messages, sharegpt, reasoning, prompt-completion)"},
    {"import", cmd_import, "bring external problems and traces (JSONL) into the database"},
    {"stats", cmd_stats, "print counts by table, family, split, language and fault"},
    {0, 0, 0},
};

const struct command *command_find(const char *name) {
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}
