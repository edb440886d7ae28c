/* Write the SQL-built fixture database (tests/mix/fixture.h) to argv[1], for the CLI test. */
#include "mix/fixture.h"
int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: make_fixture DB N_PROBLEMS\n"); return 2; }
    sqlite3 *db = fixture_build(argv[1], atoi(argv[2]));
    db_close(db);
    return 0;
}
