#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/commands.h"

/* Print a query's rows as aligned columns under a title. */
static int print_table(sqlite3 *db, const char *title, const char *sql) {
    sqlite3_stmt *st;
    if (db_prepare(db, sql, &st)) return -1;
    int nc = sqlite3_column_count(st);
    printf("\n%s\n", title);
    for (int c = 0; c < nc; c++) printf("%s%-16s", c ? " " : "  ", sqlite3_column_name(st, c));
    printf("\n");
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < nc; c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            printf("%s%-16s", c ? " " : "  ", v ? (const char *)v : "");
        }
        printf("\n");
        rows++;
    }
    if (!rows) printf("  (none)\n");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { err_set("%s", sqlite3_errmsg(db)); return -1; }
    return 0;
}

int cmd_stats(int argc, char **argv) {
    const char *db_path = "retort.db";
    opt_def opts[] = {
        O_STR("db", &db_path, "PATH", "database file"),
        O_END,
    };
    cmd_spec spec = {"stats", "retort stats [--db PATH]",
                     "Print counts by table, family, split, language and injected fault.",
                     "Read-only. Everything printed here is a plain SQL query over the database;\n"
                     "see README 'Curating with SQL' for more.",
                     opts, 0, 0};
    CLI_PARSE(spec, argc, argv, NULL, NULL);
    sqlite3 *db;
    int rc = cli_open_db(db_path, DB_READONLY, &db);
    if (rc) return rc;
    printf("database %s (schema version %d)\n", db_path, (int)db_int(db, "PRAGMA user_version", 0));
    int bad =
        print_table(db, "tables",
                    "SELECT 'runs' AS tbl, count(*) AS rows FROM runs UNION ALL "
                    "SELECT 'problems', count(*) FROM problems UNION ALL "
                    "SELECT 'teachers', count(*) FROM teachers UNION ALL "
                    "SELECT 'traces', count(*) FROM traces UNION ALL "
                    "SELECT 'filters', count(*) FROM filters UNION ALL "
                    "SELECT 'verdicts', count(*) FROM verdicts UNION ALL "
                    "SELECT 'mixes', count(*) FROM mixes UNION ALL "
                    "SELECT 'mix_items', count(*) FROM mix_items") ||
        print_table(db, "problems by family, split and language",
                    "SELECT family, split, lang, count(*) AS problems FROM problems GROUP BY 1,2,3 ORDER BY 1,2,3") ||
        print_table(db, "traces by family, language and finish reason",
                    "SELECT p.family, p.lang, t.finish_reason, count(*) AS traces FROM traces t "
                    "JOIN problems p ON p.id = t.problem_id GROUP BY 1,2,3 ORDER BY 1,2,3") ||
        print_table(db, "traces by injected fault (synthetic teacher; a trace can carry several)",
                    "WITH RECURSIVE split(id, rest, fault) AS ("
                    "  SELECT id, injected || ',', NULL FROM traces"
                    "  UNION ALL SELECT id, substr(rest, instr(rest, ',') + 1), substr(rest, 1, instr(rest, ',') - 1)"
                    "  FROM split WHERE rest <> '') "
                    "SELECT CASE WHEN fault = '' THEN '(clean)' ELSE fault END AS fault, count(*) AS traces "
                    "FROM split WHERE fault IS NOT NULL GROUP BY 1 ORDER BY 2 DESC") ||
        print_table(db, "teachers",
                    "SELECT tc.id, tc.name, tc.template, tc.think_prefill AS prefill, count(t.id) AS traces "
                    "FROM teachers tc LEFT JOIN traces t ON t.teacher_id = tc.id GROUP BY tc.id ORDER BY tc.id");
    db_close(db);
    if (bad) { err_print(); return EXIT_RUNTIME; }
    return EXIT_OK;
}
