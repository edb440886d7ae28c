#include <string.h>
#include "core/embedded.h"

const struct embedded_file *dataset_find(const char *name) {
    for (const struct embedded_file *f = dataset_files; f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}
