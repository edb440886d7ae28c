/* retort: a knowledge-distillation data factory and student trainer.
 * One binary, git-style subcommands; see `retort help`. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "core/err.h"
#include "distill/blas_arch.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: retort <command> [options]\n"
            "       retort help <command>     show a command's flags and their defaults\n"
            "       retort --version\n\n"
            "R1-style distillation: problems with exact answers -> teacher traces ->\n"
            "rule-based rejection sampling -> SFT mix -> a student trained in C.\n"
            "Every stage reads and writes one SQLite database (--db, default retort.db).\n\n"
            "commands:\n");
    for (const struct command *c = commands; c->name; c++) fprintf(out, "  %-12s %s\n", c->name, c->summary);
}

int main(int argc, char **argv) {
    blas_init(argv);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("retort %s\nopenblas kernels: %s\n", RETORT_VERSION, blas_kernels());
        return EXIT_OK;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) { usage(stdout); return EXIT_OK; }
        const struct command *c = command_find(argv[2]);
        if (!c) {
            fprintf(stderr, "retort: '%s' is not a command (see 'retort help')\n", argv[2]);
            return EXIT_USAGE;
        }
        char *hargv[] = {argv[2], "--help", NULL};
        return c->fn(2, hargv);
    }
    const struct command *c = command_find(name);
    if (!c) {
        fprintf(stderr, "retort: '%s' is not a command (see 'retort help')\n", name);
        return EXIT_USAGE;
    }
    return c->fn(argc - 1, argv + 1);
}
