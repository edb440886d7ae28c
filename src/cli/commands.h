#ifndef RETORT_COMMANDS_H
#define RETORT_COMMANDS_H

/* Every subcommand: parse flags (cli/opts.h), call library functions, map
 * failures to exit statuses (core/err.h). No pipeline logic lives here. */
typedef int (*cmd_fn)(int argc, char **argv);

struct command {
    const char *name;
    cmd_fn fn;
    const char *summary;
};

extern const struct command commands[];   /* terminated by {0} */
const struct command *command_find(const char *name);

int cmd_init(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_mix(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif
