#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include "core/db.h"
#include "core/err.h"
#include "core/embedded.h"

int db_schema_version(void) {
    int n = 0;
    while (schema_files[n].name) n++;
    return n;
}

int db_exec(sqlite3 *db, const char *sql) {
    char *e = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK) {
        err_set("%s", e ? e : sqlite3_errmsg(db));
        sqlite3_free(e);
        return -1;
    }
    return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        err_set("%s (in: %.80s)", sqlite3_errmsg(db), sql);
        return -1;
    }
    return 0;
}

int db_begin(sqlite3 *db) { return db_exec(db, "BEGIN IMMEDIATE"); }
int db_commit(sqlite3 *db) { return db_exec(db, "COMMIT"); }
void db_rollback(sqlite3 *db) {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int64_t db_int(sqlite3 *db, const char *sql, int64_t def) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return def;
    int64_t v = def;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Check the 16-byte magic ourselves: SQLite opens any file lazily and we must
 * never let a WAL switch or a migration write into something that isn't ours. */
static int check_header(const char *path, int *exists) {
    struct stat sb;
    *exists = 0;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return 0;
        err_set("%s: %s", path, strerror(errno));
        return -1;
    }
    *exists = 1;
    if (S_ISDIR(sb.st_mode)) { err_set("%s: is a directory, not a database file", path); return -1; }
    if (sb.st_size == 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("%s: %s", path, strerror(errno)); return -1; }
    char magic[16] = {0};
    size_t n = fread(magic, 1, 16, f);
    fclose(f);
    if (n < 16 || memcmp(magic, "SQLite format 3", 16) != 0) {
        err_set("%s: not a SQLite database (the file was left untouched)", path);
        return -1;
    }
    return 0;
}

static int migrate(sqlite3 *db, const char *path) {
    int have = (int)db_int(db, "PRAGMA user_version", -1);
    int want = db_schema_version();
    if (have < 0) { err_set("%s: cannot read schema version: %s", path, sqlite3_errmsg(db)); return -1; }
    if (have > want) {
        err_set("%s: schema version %d is newer than this retort knows (%d); upgrade retort", path, have, want);
        return -1;
    }
    for (int i = have; i < want; i++) {
        if (db_begin(db)) { err_prefix("%s: migration %s", path, schema_files[i].name); return -1; }
        /* Re-check under the write lock: another process may have migrated. */
        if ((int)db_int(db, "PRAGMA user_version", -1) > i) { db_rollback(db); continue; }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", i + 1);
        if (db_exec(db, schema_files[i].data) || db_exec(db, pragma) || db_commit(db)) {
            err_prefix("%s: migration %s", path, schema_files[i].name);
            db_rollback(db);
            return -1;
        }
    }
    return 0;
}

int db_open(const char *path, int flags, sqlite3 **out) {
    int exists;
    static int configured;
    if (!configured) {
        /* Memory statistics take a global mutex on every allocation; nothing reads them. */
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        configured = 1;
    }
    *out = NULL;
    if (check_header(path, &exists)) return -1;
    if (!exists && !(flags & DB_CREATE)) {
        err_set("%s: no such database (run 'retort init --db %s' first)", path, path);
        return -1;
    }
    sqlite3 *db;
    int oflags = (flags & DB_READONLY) ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    oflags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, oflags, NULL) != SQLITE_OK) {
        err_set("%s: cannot open database: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_extended_result_codes(db, 1);
    if (db_exec(db, "PRAGMA foreign_keys = ON")) goto fail;
    if (!(flags & DB_READONLY)) {
        if (db_exec(db, "PRAGMA journal_mode = WAL") || db_exec(db, "PRAGMA synchronous = NORMAL")) goto fail;
        /* Bulk stages write millions of rows: a 64 MB page cache keeps the unique
         * indexes in memory, and checkpointing every 64 MB of WAL instead of 4 MB
         * copies each page to the database file far less often. */
        if (db_exec(db, "PRAGMA cache_size = -65536") || db_exec(db, "PRAGMA wal_autocheckpoint = 16384")) goto fail;
        if (migrate(db, path)) { sqlite3_close(db); return -1; }
    } else {
        int have = (int)db_int(db, "PRAGMA user_version", -1);
        if (have != db_schema_version()) {
            err_set("%s: schema version %d, this retort needs %d (open it once read-write to migrate)",
                    path, have, db_schema_version());
            sqlite3_close(db);
            return -1;
        }
    }
    *out = db;
    return 0;
fail:
    err_prefix("%s", path);
    sqlite3_close(db);
    return -1;
}

void db_close(sqlite3 *db) {
    if (!db) return;
    sqlite3_stmt *st;
    while ((st = sqlite3_next_stmt(db, NULL))) sqlite3_finalize(st);
    sqlite3_close(db);
}

int64_t run_start(sqlite3 *db, const char *command, const char *args_json) {
    sqlite3_stmt *st;
    if (db_prepare(db, "INSERT INTO runs(command, args, version) VALUES (?,?,?)", &st)) return -1;
    sqlite3_bind_text(st, 1, command, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, args_json ? args_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, RETORT_VERSION, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { err_set("recording run: %s", sqlite3_errmsg(db)); return -1; }
    return sqlite3_last_insert_rowid(db);
}

int run_finish(sqlite3 *db, int64_t run_id, const char *status, const char *message) {
    sqlite3_stmt *st;
    if (db_prepare(db, "UPDATE runs SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), status = ?, message = ? "
                       "WHERE id = ?", &st)) return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, run_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
