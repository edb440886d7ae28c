#include <stdio.h>
#include "cli/cli.h"
#include "cli/commands.h"

int cmd_init(int argc, char **argv) {
    const char *db_path = "retort.db";
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file to create or migrate"),
        O_END,
    };
    cmd_spec spec = {"init", "retort init [--db PATH]",
                     "Create the database, or bring an existing one up to this binary's schema.",
                     "Migrations are embedded from schema/ and only move forward; every command\n"
                     "applies them on open, so init is only needed to create an empty database.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    sqlite3 *db;
    int rc = cli_open_db(db_path, DB_CREATE, &db);
    if (rc) return rc;
    fprintf(stderr, "retort: %s is at schema version %d\n", db_path, (int)db_int(db, "PRAGMA user_version", 0));
    db_close(db);
    return EXIT_OK;
}
