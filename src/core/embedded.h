#ifndef RETORT_EMBEDDED_H
#define RETORT_EMBEDDED_H
#include <stddef.h>

/* A file compiled into the binary by tools/embed.c. Arrays end with name == NULL. */
struct embedded_file {
    const char *name;
    const char *data;   /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
};

extern const struct embedded_file schema_files[];   /* schema/NNN_*.sql, sorted */
extern const struct embedded_file dataset_files[];  /* datasets/ * */

/* Find a dataset by basename; NULL when absent. */
const struct embedded_file *dataset_find(const char *name);

#endif
