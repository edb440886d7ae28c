#ifndef RETORT_ERR_H
#define RETORT_ERR_H
#include <stdarg.h>

/* Exit statuses every command uses. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Library functions report failure as a return code plus one message kept in a
 * thread-local buffer (so worker threads don't trample each other). The CLI
 * prints it. Messages say what went wrong and where: file, line, row, flag. */
void err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_vset(const char *fmt, va_list ap);
/* Prefix the current message with "context: ". */
void err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
void err_clear(void);

/* Messages for the user go to stderr, prefixed with "retort: ". */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "retort: error: <msg>" to stderr. */
void err_print(void);

/* Abort with a message on an impossible state (out of memory, broken invariant). */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
