#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include "cli/opts.h"
#include "core/err.h"

static void fmt_value(const opt_def *o, char *buf, size_t n) {
    switch (o->type) {
    case OPT_STR: snprintf(buf, n, "%s", *(const char **)o->ptr ? *(const char **)o->ptr : "(none)"); break;
    case OPT_INT: snprintf(buf, n, "%ld", *(long *)o->ptr); break;
    case OPT_U64: snprintf(buf, n, "%llu", (unsigned long long)*(uint64_t *)o->ptr); break;
    case OPT_DBL: snprintf(buf, n, "%g", *(double *)o->ptr); break;
    case OPT_FLAG: snprintf(buf, n, "%s", *(int *)o->ptr ? "on" : "off"); break;
    case OPT_RANGE: snprintf(buf, n, "%ld:%ld", ((long *)o->ptr)[0], ((long *)o->ptr)[1]); break;
    }
}

int opts_error(const cmd_spec *spec, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "retort %s: ", spec->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'retort %s --help')\n", spec->name);
    return EXIT_USAGE;
}

opt_def *opts_find(cmd_spec *spec, const char *name) {
    for (opt_def *o = spec->opts; o && o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

static int parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int in_bounds(const opt_def *o, double v) { return !(o->min < o->max) || (v >= o->min && v <= o->max); }

static int set_value(cmd_spec *spec, opt_def *o, const char *v) {
    switch (o->type) {
    case OPT_STR:
        if (o->choices) {
            size_t n = strlen(v);
            const char *c = o->choices;
            int ok = 0;
            while (*c) {
                const char *bar = strchr(c, '|');
                size_t len = bar ? (size_t)(bar - c) : strlen(c);
                if (len == n && strncmp(c, v, n) == 0) { ok = 1; break; }
                c += len + (bar ? 1 : 0);
            }
            if (!ok) return opts_error(spec, "--%s: '%s' is not one of %s", o->name, v, o->choices);
        }
        *(const char **)o->ptr = v;
        break;
    case OPT_INT: {
        long x;
        if (parse_long(v, &x)) return opts_error(spec, "--%s: '%s' is not an integer", o->name, v);
        if (!in_bounds(o, (double)x))
            return opts_error(spec, "--%s: %ld is out of range [%g, %g]", o->name, x, o->min, o->max);
        *(long *)o->ptr = x;
        break;
    }
    case OPT_U64: {
        char *end;
        errno = 0;
        if (*v == '-') return opts_error(spec, "--%s: '%s' must not be negative", o->name, v);
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end) return opts_error(spec, "--%s: '%s' is not a non-negative integer", o->name, v);
        *(uint64_t *)o->ptr = x;
        break;
    }
    case OPT_DBL: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x)) return opts_error(spec, "--%s: '%s' is not a number", o->name, v);
        if (!in_bounds(o, x)) return opts_error(spec, "--%s: %g is out of range [%g, %g]", o->name, x, o->min, o->max);
        *(double *)o->ptr = x;
        break;
    }
    case OPT_RANGE: {
        const char *colon = strchr(v, ':');
        long a, b;
        char tmp[64];
        if (!colon) {
            if (parse_long(v, &a)) return opts_error(spec, "--%s: '%s' is not MIN:MAX", o->name, v);
            b = a;
        } else {
            size_t n = (size_t)(colon - v);
            if (n >= sizeof tmp) return opts_error(spec, "--%s: '%s' is not MIN:MAX", o->name, v);
            memcpy(tmp, v, n); tmp[n] = 0;
            if (parse_long(tmp, &a) || parse_long(colon + 1, &b))
                return opts_error(spec, "--%s: '%s' is not MIN:MAX with integers", o->name, v);
        }
        if (a > b) return opts_error(spec, "--%s: MIN %ld is greater than MAX %ld", o->name, a, b);
        if (!in_bounds(o, (double)a) || !in_bounds(o, (double)b))
            return opts_error(spec, "--%s: '%s' is out of range [%g, %g]", o->name, v, o->min, o->max);
        ((long *)o->ptr)[0] = a; ((long *)o->ptr)[1] = b;
        break;
    }
    case OPT_FLAG: *(int *)o->ptr = 1; break;
    }
    o->set = 1;
    return 0;
}

int opts_parse(cmd_spec *spec, int argc, char **argv, char ***args, int *nargs) {
    for (opt_def *o = spec->opts; o && o->name; o++) fmt_value(o, o->defval, sizeof o->defval);
    /* Positional arguments are gathered in place at argv[1..np]: the slot
     * written is never one still to be read (np < i), and option values keep
     * pointing at their strings, which do not move. Nothing to free. */
    char **pos = argv + 1;
    int np = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == 0) { pos[np++] = argv[i]; continue; }
        if (strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            opts_help(spec, stdout);
            return -1;
        }
        if (a[1] != '-') { return opts_error(spec, "unknown option '%s'", a); }
        char name[128];
        const char *eq = strchr(a + 2, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof name) { return opts_error(spec, "unknown option '%s'", a); }
        memcpy(name, a + 2, n); name[n] = 0;
        opt_def *o = opts_find(spec, name);
        if (!o) { return opts_error(spec, "unknown option '--%s'", name); }
        const char *val = NULL;
        if (o->type == OPT_FLAG) {
            if (eq) { return opts_error(spec, "--%s takes no value", name); }
        } else if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) { return opts_error(spec, "--%s needs a value (%s)", name, o->metavar ? o->metavar : "VALUE"); }
            val = argv[++i];
        }
        int rc = set_value(spec, o, val);
        if (rc) { return rc; }
    }
    if (np < spec->min_args || np > spec->max_args) {
        int rc;
        if (np < spec->min_args) rc = opts_error(spec, "missing argument; usage: %s", spec->usage);
        else rc = opts_error(spec, "unexpected argument '%s'", pos[spec->max_args]);
        return rc;
    }
    if (args) *args = pos;
    if (nargs) *nargs = np;
    return 0;
}

void opts_help(const cmd_spec *spec, FILE *out) {
    fprintf(out, "usage: %s\n\n%s\n", spec->usage, spec->summary);
    if (spec->description) fprintf(out, "\n%s\n", spec->description);
    fprintf(out, "\noptions:\n");
    for (const opt_def *o = spec->opts; o && o->name; o++) {
        char left[96];
        if (o->type == OPT_FLAG) snprintf(left, sizeof left, "--%s", o->name);
        else snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
        char def[64];
        fmt_value(o, def, sizeof def);
        fprintf(out, "  %-28s %s", left, o->help);
        if (o->choices) fprintf(out, " (%s)", o->choices);
        fprintf(out, " [default: %s]\n", o->defval[0] ? o->defval : def);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help and exit");
}

cJSON *opts_json(const cmd_spec *spec) {
    cJSON *j = cJSON_CreateObject();
    for (const opt_def *o = spec->opts; o && o->name; o++) {
        switch (o->type) {
        case OPT_STR:
            if (*(const char **)o->ptr) cJSON_AddStringToObject(j, o->name, *(const char **)o->ptr);
            else cJSON_AddNullToObject(j, o->name);
            break;
        case OPT_INT: cJSON_AddNumberToObject(j, o->name, (double)*(long *)o->ptr); break;
        case OPT_U64: cJSON_AddNumberToObject(j, o->name, (double)*(uint64_t *)o->ptr); break;
        case OPT_DBL: cJSON_AddNumberToObject(j, o->name, *(double *)o->ptr); break;
        case OPT_FLAG: cJSON_AddBoolToObject(j, o->name, *(int *)o->ptr); break;
        case OPT_RANGE: {
            cJSON *a = cJSON_AddArrayToObject(j, o->name);
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)((long *)o->ptr)[0]));
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)((long *)o->ptr)[1]));
            break;
        }
        }
    }
    return j;
}
