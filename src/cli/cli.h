#ifndef RETORT_CLI_H
#define RETORT_CLI_H
#include <sqlite3.h>
#include "cli/opts.h"
#include "core/db.h"
#include "core/err.h"

/* Parse flags; on --help or a usage error returns from the calling command. */
#define CLI_PARSE(spec, argc, argv, args, nargs)                       \
    do {                                                               \
        int rc_ = opts_parse(&(spec), (argc), (argv), (args), (nargs)); \
        if (rc_ == -1) return EXIT_OK;                                 \
        if (rc_) return rc_;                                           \
    } while (0)

/* Open the database for a command; prints the error. Returns 0 or EXIT_RUNTIME. */
int cli_open_db(const char *path, int flags, sqlite3 **db);
/* Record the start of a writing command in runs; returns the run id or -1. */
int64_t cli_run_start(sqlite3 *db, const cmd_spec *spec);

#endif
