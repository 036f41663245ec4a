/* The settings: every key of the table through a configuration file, the
 * errors with their line numbers, the command line over the file, and
 * easd --check-config itself. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

static char path[] = "/tmp/easd-config-XXXXXX";
static int fd = -1;

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* A value every key of its kind accepts, and what --check-config then
 * prints; the first that config_set takes is the one used. */
static const char *const samples[] = {"127.0.0.1/8", "debug", "yes", "5000"};

static const char *
sample_for(const char *key)
{
	struct easd_config cfg;
	char err[512];

	for (size_t i = 0; i < N_ELEMENTS(samples); i++) {
		easd_config_defaults(&cfg);
		if (config_set(&cfg, key, samples[i], err, sizeof(err)) == 0) {
			config_release(&cfg);
			return samples[i];
		}
		config_release(&cfg);
	}
	return NULL;
}

/* Every key set from one file: each takes its value and prints it back,
 * and none of them is left at its default. */
static void
test_every_key(void)
{
	const char *const *keys = config_keys();
	struct easd_config cfg, dflt;
	char err[512], *text = xstrdup("# every key\n\n");
	size_t n = 0;

	for (; keys[n] != NULL; n++) {
		const char *v = sample_for(keys[n]);
		char *t;

		CU_ASSERT_PTR_NOT_NULL(v);
		if (v == NULL)
			continue;
		t = xasprintf("%s%s = %s\n", text, keys[n], v);
		free(text);
		text = t;
	}
	CU_ASSERT(n >= 30);
	write_file(text);
	free(text);
	easd_config_defaults(&cfg);
	easd_config_defaults(&dflt);
	CU_ASSERT_EQUAL_FATAL(config_read_file(path, &cfg, err, sizeof(err)),
			      0);
	for (size_t i = 0; keys[i] != NULL; i++) {
		char got[512], was[512];
		const char *want = sample_for(keys[i]);

		CU_ASSERT_EQUAL(config_format(&cfg, keys[i], got, sizeof(got)),
				0);
		CU_ASSERT_EQUAL(config_format(&dflt, keys[i], was, sizeof(was)),
				0);
		if (want == NULL || strcmp(got, want) != 0 ||
		    strcmp(got, was) == 0)
			fprintf(stderr,
				"key %s: got '%s', want '%s', default "
				"'%s'\n",
				keys[i], got, want ? want : "?", was);
		CU_ASSERT_STRING_EQUAL(got, want != NULL ? want : "");
		CU_ASSERT(strcmp(got, was) != 0);
	}
	config_release(&cfg);
}

struct bad_case {
	const char *text;
	const char *want; /* in the error */
};

static void
test_errors_name_the_line(void)
{
	static const struct bad_case cases[] = {
		{"listen = 127.0.0.1:1\nbogus = 1\n",
		 ":2: unknown key 'bogus'"},
		{"# c\n\nmax-body = lots\n", ":3: bad value for max-body"},
		{"max-body = 12Q\n", ":1: bad value for max-body"},
		{"max-header-bytes = 100\n", ":1: bad value for max-header"},
		{"idle-timeout = 0\n", ":1: bad value for idle-timeout"},
		{"loop-repeats = 1\n",
		 ":1: bad value for loop-repeats: '1' (want a whole number, at "
		 "least 2)"},
		{"threads = -1\n", ":1: bad value for threads"},
		{"syslog = maybe\n", ":1: bad value for syslog"},
		{"log-level = loud\n", ":1: bad value for log-level"},
		{"trusted-proxy = 1.2.3.4/99\n", ":1: bad value for trusted"},
		{"listen\n", ":1: want 'key = value'"},
		{"listen =\n", ":1: empty value for listen"},
		{"max-body = 99999999999999999999999\n", ":1: bad value"},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct easd_config cfg;
		char err[512] = "";

		write_file(cases[i].text);
		easd_config_defaults(&cfg);
		CU_ASSERT_EQUAL(config_read_file(path, &cfg, err, sizeof(err)),
				-1);
		if (strstr(err, cases[i].want) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
		CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
		config_release(&cfg);
	}
}

static void
test_values(void)
{
	struct easd_config cfg;
	char err[512], got[256];

	write_file("  max-body =  2M  \r\n"
		   "max-message = 3k\n"
		   "max-send-size = 1G\n"
		   "smtp-insecure = On\n"
		   "syslog = off\n"
		   "\t# indented comment\n");
	easd_config_defaults(&cfg);
	CU_ASSERT_EQUAL_FATAL(config_read_file(path, &cfg, err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL(cfg.max_body, 2u * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg.max_message, 3u * 1024);
	CU_ASSERT_EQUAL(cfg.max_send_size, 1024u * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg.smtp_insecure, true);
	CU_ASSERT_EQUAL(cfg.syslog, false);
	CU_ASSERT_EQUAL(config_format(&cfg, "nosuch", got, sizeof(got)), -1);
	config_release(&cfg);
	CU_ASSERT_EQUAL(config_read_file("/nonexistent/easd.conf", &cfg, err,
					 sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read"));
}

/* A writable copy of a NULL-terminated argv; *argc_r its length. */
static char **
argv_copy(const char *const *v, int *argc_r)
{
	size_t n = 0;
	char **r;

	while (v[n] != NULL)
		n++;
	r = xcalloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	*argc_r = (int)n;
	return r;
}

static void
argv_free(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The command line wins over the file, a list included. */
static void
test_command_line_wins(void)
{
	const char *args[] = {
		"easd",	      "--config",    path,
		"--listen",   "127.0.0.1:2", "--trusted-proxy",
		"10.0.0.0/8", "--syslog",    NULL,
	};
	struct easd_config cfg;
	struct config_cli cli;
	char got[256];
	int argc;
	char **argv = argv_copy(args, &argc);

	write_file("listen = 127.0.0.1:1\n"
		   "lmtp = 127.0.0.1:3\n"
		   "trusted-proxy = 127.0.0.1\n"
		   "trusted-proxy = ::1\n"
		   "log-level = warn\n");
	easd_config_defaults(&cfg);
	CU_ASSERT_EQUAL_FATAL(config_parse_args(argc, argv, &cfg, &cli), 0);
	CU_ASSERT_STRING_EQUAL(cli.config_file, path);
	CU_ASSERT_EQUAL(cli.check_config, false);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:2");
	CU_ASSERT_STRING_EQUAL(cfg.lmtp_listen, "127.0.0.1:3");
	CU_ASSERT_EQUAL(cfg.ntrusted, 1);
	config_format(&cfg, "trusted-proxy", got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "10.0.0.0/8");
	CU_ASSERT_EQUAL(cfg.syslog, true);
	CU_ASSERT_EQUAL(cfg.log_level, LOG_WARN);
	config_release(&cfg);
	argv_free(argv);
	log_set_level(LOG_INFO);
}

static void
test_combinations(void)
{
	static const char *const cases[][5] = {
		{"easd", "--tls-cert", "/x.pem", NULL},
		{"easd", "--log-file", "/x.log", "--syslog", NULL},
		{"easd", "--heartbeat-min", "100", "--heartbeat-max", "90"},
		{"easd", "--smtp-insecure", NULL},
		{"easd", "--max-body", "1X", NULL},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const char *args[6] = {NULL};
		struct easd_config cfg;
		struct config_cli cli;
		char **argv;
		int argc;

		memcpy(args, cases[i], sizeof(cases[i]));
		argv = argv_copy(args, &argc);
		easd_config_defaults(&cfg);
		CU_ASSERT_EQUAL(config_parse_args(argc, argv, &cfg, &cli), -1);
		config_release(&cfg);
		argv_free(argv);
	}
}

/* The program: --check-config prints the effective settings and exits 0,
 * or names the line and exits 2. */
static void
test_check_config_program(void)
{
	const char *bin = getenv("EASD_BIN");
	char *cmd, buf[8192];
	size_t n;
	FILE *p;

	if (bin == NULL)
		bin = "build/asan/easd";
	write_file("listen = 127.0.0.1:4443\nmax-body = 1M\n");
	cmd = xasprintf("'%s' --config %s --check-config --max-body 2M 2>&1",
			bin, path);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	CU_ASSERT_EQUAL(pclose(p), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nlisten = 127.0.0.1:4443\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nmax-body = 2097152\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n# tls-cert =\n"));
	free(cmd);

	write_file("listen = 127.0.0.1:4443\n\nmax-bodyy = 1M\n");
	cmd = xasprintf("'%s' --config %s --check-config 2>&1", bin, path);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	CU_ASSERT_EQUAL(WEXITSTATUS(pclose(p)), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ":3: unknown key 'max-bodyy'"));
	free(cmd);
}

static int
suite_init(void)
{
	fd = mkstemp(path);
	return fd < 0 ? -1 : 0;
}

static int
suite_clean(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return 0;
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo config_tests[] = {
	T(test_every_key),    T(test_errors_name_the_line),
	T(test_values),	      T(test_command_line_wins),
	T(test_combinations), T(test_check_config_program),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"config", suite_init, suite_clean, NULL, NULL, config_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
