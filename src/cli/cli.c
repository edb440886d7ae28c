#include <stdlib.h>
#include "cli/cli.h"

int cli_open_db(const char *path, int flags, sqlite3 **db) {
    if (db_open(path, flags, db)) {
        err_print();
        return EXIT_RUNTIME;
    }
    return 0;
}

int64_t cli_run_start(sqlite3 *db, const cmd_spec *spec) {
    cJSON *j = opts_json(spec);
    char *s = cJSON_PrintUnformatted(j);
    int64_t id = run_start(db, spec->name, s);
    free(s);
    cJSON_Delete(j);
    if (id < 0) err_print();
    return id;
}
