/* easd's settings: one table of options, read from the command line and
 * from a configuration file whose keys are the long option names
 * ("max-body = 64M"). The command line wins over the file. */
#ifndef EASD_CONFIG_H
#define EASD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "server.h"

/* What main() is asked to do besides serving. */
struct config_cli {
	const char *config_file; /* --config FILE, NULL = none */
	bool check_config;	 /* --check-config */
};

/* Parse argv into cfg (defaults already set): first the file named by
 * --config, then every other option, so the command line wins (a list
 * such as trusted-proxy given on the command line replaces the file's).
 * Then the checks that involve several settings. --help and --version
 * print and exit(0). Returns 0, or -1 after printing what was wrong
 * ("FILE:LINE: ..." for the file) and the usage. */
int config_parse_args(int argc, char **argv, struct easd_config *cfg,
		      struct config_cli *cli);

/* Read one configuration file into cfg: "key = value" lines, '#'
 * comments, blank lines; a flag takes yes/no, true/false, on/off, 1/0.
 * Unknown keys and bad values are errors. Returns 0, or -1 with the
 * first error ("FILE:LINE: unknown key 'x'") in err. */
int config_read_file(const char *path, struct easd_config *cfg, char *err,
		     size_t errlen);

/* Apply one setting by its name (as in the file). Returns 0, or -1 with
 * a message in err. */
int config_set(struct easd_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen);

/* Write the effective settings, one "key = value" line for each key in
 * the table (unset ones as "# key ="), for --check-config. */
void config_print(FILE *f, const struct easd_config *cfg);

/* The value of one key as config_print writes it, into buf; -1 for an
 * unknown key. */
int config_format(const struct easd_config *cfg, const char *key, char *buf,
		  size_t size);

/* The names of every key, NULL terminated (for tests and the manual). */
const char *const *config_keys(void);

/* The usage text (main.c). */
void easd_usage(FILE *f);

/* Release what parsing allocated (strings from the file, lists). */
void config_release(struct easd_config *cfg);

#endif
