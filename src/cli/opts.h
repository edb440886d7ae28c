#ifndef RETORT_OPTS_H
#define RETORT_OPTS_H
#include <stdio.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Declarative flags: each command lists its flags once, and parsing, --help
 * (with every default) and the JSON recorded in runs.args all come from that
 * one table, so they cannot drift apart. */
typedef enum {
    OPT_STR,    /* const char *        */
    OPT_INT,    /* long                */
    OPT_U64,    /* uint64_t            */
    OPT_DBL,    /* double              */
    OPT_FLAG,   /* int, set to 1; takes no value */
    OPT_RANGE,  /* long[2], "MIN:MAX"  */
} opt_type;

typedef struct {
    const char *name;     /* without the leading "--" */
    opt_type type;
    void *ptr;
    const char *metavar;  /* "PATH", "N", ... */
    const char *help;
    double min, max;      /* bounds for numbers (and both ends of ranges) when min < max */
    const char *choices;  /* for OPT_STR: "a|b|c", or NULL */
    /* filled in by opts_parse */
    int set;
    char defval[64];
} opt_def;

typedef struct {
    const char *name;        /* "generate" */
    const char *usage;       /* "retort generate [options]" */
    const char *summary;     /* one line */
    const char *description; /* paragraphs shown by --help; may be NULL */
    opt_def *opts;           /* terminated by {0} */
    int min_args, max_args;  /* positional arguments allowed */
} cmd_spec;

/* Table constructors (designated, so unset fields are zero without warnings). */
#define O_STR(n, p, meta, h) {.name = (n), .type = OPT_STR, .ptr = (p), .metavar = (meta), .help = (h)}
#define O_CHOICE(n, p, ch, h) {.name = (n), .type = OPT_STR, .ptr = (p), .metavar = "NAME", .help = (h), .choices = (ch)}
#define O_INT(n, p, meta, h, lo, hi) \
    {.name = (n), .type = OPT_INT, .ptr = (p), .metavar = (meta), .help = (h), .min = (lo), .max = (hi)}
#define O_U64(n, p, meta, h) {.name = (n), .type = OPT_U64, .ptr = (p), .metavar = (meta), .help = (h)}
#define O_DBL(n, p, meta, h, lo, hi) \
    {.name = (n), .type = OPT_DBL, .ptr = (p), .metavar = (meta), .help = (h), .min = (lo), .max = (hi)}
#define O_FLAG(n, p, h) {.name = (n), .type = OPT_FLAG, .ptr = (p), .help = (h)}
#define O_RANGE(n, p, h, lo, hi) \
    {.name = (n), .type = OPT_RANGE, .ptr = (p), .metavar = "MIN:MAX", .help = (h), .min = (lo), .max = (hi)}
#define O_END {.name = NULL}

/* Parse argv (argv[0] is the command name). Positional arguments are moved,
 * in order, to argv[1..*nargs] and *args points there (no allocation; argv's
 * other slots are left in an unspecified order). Returns 0 on success, EXIT_USAGE after printing
 * a one-line error naming the flag, or -1 when --help was printed (exit 0). */
int opts_parse(cmd_spec *spec, int argc, char **argv, char ***args, int *nargs);
void opts_help(const cmd_spec *spec, FILE *out);
/* The parsed flags as a JSON object, for runs.args. */
cJSON *opts_json(const cmd_spec *spec);
/* Report a usage error about one flag (prints and returns EXIT_USAGE). */
int opts_error(const cmd_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
opt_def *opts_find(cmd_spec *spec, const char *name);

#endif
