#ifndef RETORT_DB_H
#define RETORT_DB_H
#include <stdint.h>
#include <sqlite3.h>

/* The database is the contract between stages. db_open applies every embedded
 * migration from schema/ that the file lacks (tracked by PRAGMA user_version),
 * then sets WAL, foreign keys and a busy timeout. A file that is not SQLite is
 * refused before SQLite touches it. */
enum { DB_CREATE = 1, DB_READONLY = 2 };

int db_open(const char *path, int flags, sqlite3 **out);
void db_close(sqlite3 *db);
int db_schema_version(void);   /* the newest migration this binary knows */

/* Helpers that set err_msg() on failure and return nonzero. */
int db_exec(sqlite3 *db, const char *sql);
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
int db_begin(sqlite3 *db);      /* BEGIN IMMEDIATE: take the write lock up front */
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* Run a query returning one integer (first column of the first row); def if none. */
int64_t db_int(sqlite3 *db, const char *sql, int64_t def);

/* runs table: one row per writing command. */
int64_t run_start(sqlite3 *db, const char *command, const char *args_json);
int run_finish(sqlite3 *db, int64_t run_id, const char *status, const char *message);

#endif
