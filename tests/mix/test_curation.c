/* Runs every worked query of the README's "Curating with SQL" section (its
 * ```sql blocks, read from README.md itself so the documentation cannot drift)
 * against a populated database: each must pass the read-only guard and return
 * at least one row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "mix/fixture.h"
#include "filter/mix.h"

int main(void) {
    const char *src = getenv("SRCDIR");
    char path[1024], dbp[256];
    snprintf(path, sizeof path, "%s/README.md", src ? src : ".");
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return 1; }
    static char readme[1 << 20], sql[1 << 16];
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    readme[n] = 0;
    fclose(f);
    /* the ```sql blocks between "## Curating with SQL" and the next "## " heading */
    char *sec = strstr(readme, "\n## Curating with SQL");
    CHECK(sec != NULL);
    if (!sec) return test_report("test_curation");
    char *end = strstr(sec + 1, "\n## ");
    if (end) *end = 0;
    size_t used = 0;
    for (char *q = strstr(sec, "```sql\n"); q; q = strstr(q, "```sql\n")) {
        q += 7;
        char *e = strstr(q, "```");
        if (!e) break;
        /* drop the markdown indentation of list items */
        for (char *line = q; line < e;) {
            char *nl = memchr(line, '\n', (size_t)(e - line));
            size_t len = nl ? (size_t)(nl - line) + 1 : (size_t)(e - line);
            char *t = line;
            while (t < line + len && *t == ' ') t++;
            size_t keep = len - (size_t)(t - line);
            if (used + keep + 2 < sizeof sql) { memcpy(sql + used, t, keep); used += keep; }
            line += len;
        }
        q = e + 3;
    }
    sql[used] = 0;
    snprintf(dbp, sizeof dbp, "/tmp/retort-test-curation-%d.db", (int)getpid());
    sqlite3 *db = fixture_build(dbp, 400);
    mix_opts o = {.name = "demo", .filter_id = 1, .total = 300, .reasoning_share = 0.75, .ngram = 8, .seed = 1,
                  .val_share = 0.1, .spec_json = "{\"seed\":1}"};
    mix_result r;
    CHECK(mix_build(db, &o, &r) == 0);
    mix_result_free(&r);
    const char *p = sql;
    int count = 0;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail;
        if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
            CHECKF(0, "query %d does not prepare: %s", count + 1, sqlite3_errmsg(db));
            break;
        }
        if (!st) break;   /* only comments left */
        sqlite3_finalize(st);
        size_t len = (size_t)(tail - p);
        char *one = malloc(len + 1);
        memcpy(one, p, len);
        one[len] = 0;
        count++;
        CHECKF(sql_prepare_readonly(db, one, &st) == 0, "query %d refused by the guard: %s", count, err_msg());
        int rows = 0, rc;
        while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) rows++;
        CHECKF(st && rc == SQLITE_DONE, "query %d failed: %s", count, sqlite3_errmsg(db));
        CHECKF(rows > 0, "query %d returned no rows:\n%s", count, one);
        fprintf(stderr, "query %d: %d rows\n", count, rows);
        sqlite3_finalize(st);
        free(one);
        p = tail;
    }
    CHECKF(count >= 5, "only %d queries", count);
    db_close(db);
    unlink(dbp);
    char w[300];
    snprintf(w, sizeof w, "%s-wal", dbp); unlink(w);
    snprintf(w, sizeof w, "%s-shm", dbp); unlink(w);
    return test_report("test_curation");
}
