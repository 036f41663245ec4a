/* easd's settings table, shared by the command line and the configuration
 * file, and --check-config's listing of the effective values. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "net.h"
#include "util.h"
#include "version.h"
#include "xalloc.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_FILE_MAX_LINES 10000

enum cfg_kind {
	K_STR,	 /* const char * */
	K_SIZE,	 /* size_t, bytes; K, M, G suffixes */
	K_UINT,	 /* unsigned */
	K_FLAG,	 /* bool; no argument on the command line */
	K_LEVEL, /* enum log_level */
	K_CIDR,	 /* appended to the trusted proxies */
};

struct cfg_option {
	const char *name;
	enum cfg_kind kind;
	size_t offset; /* into struct easd_config */
	uint64_t min;  /* K_SIZE, K_UINT: the smallest value accepted */
};

#define OPT(name, kind, field, min)                                            \
	{                                                                      \
		name, kind, offsetof(struct easd_config, field), min           \
	}

/* Every setting. The order is --check-config's. */
static const struct cfg_option options[] = {
	OPT("data", K_STR, data_dir, 0),
	OPT("store", K_STR, store_url, 0),
	OPT("store-pool", K_UINT, store_pool, 0),
	OPT("listen", K_STR, listen, 0),
	OPT("public-url", K_STR, public_url, 0),
	OPT("tls-cert", K_STR, tls_cert, 0),
	OPT("tls-key", K_STR, tls_key, 0),
	OPT("tls-priority", K_STR, tls_priority, 0),
	OPT("trusted-proxy", K_CIDR, trusted, 0),
	OPT("admin-listen", K_STR, admin_listen, 0),
	OPT("lmtp", K_STR, lmtp_listen, 0),
	OPT("lmtp-socket", K_STR, lmtp_socket, 0),
	OPT("log-level", K_LEVEL, log_level, 0),
	OPT("log-file", K_STR, log_file, 0),
	OPT("access-log", K_STR, access_log, 0),
	OPT("syslog", K_FLAG, syslog, 0),
	OPT("threads", K_UINT, threads, 0),
	OPT("workers", K_UINT, workers, 1),
	OPT("max-body", K_SIZE, max_body, 1),
	OPT("max-body-small", K_SIZE, max_body_small, 1),
	OPT("max-connections", K_UINT, max_connections, 1),
	OPT("max-connections-per-addr", K_UINT, max_per_addr, 0),
	OPT("max-header-bytes", K_SIZE, max_header, 4096),
	OPT("idle-timeout", K_UINT, idle_timeout, 1),
	OPT("max-message", K_SIZE, max_message, 1),
	OPT("heartbeat-min", K_UINT, heartbeat_min, 0),
	OPT("heartbeat-max", K_UINT, heartbeat_max, 0),
	OPT("max-parked-per-account", K_UINT, max_parked_per_account, 0),
	OPT("max-devices-per-account", K_UINT, max_devices_per_account, 0),
	OPT("loop-repeats", K_UINT, loop_repeats, 2),
	OPT("auth-max-failures", K_UINT, auth_max_failures, 0),
	OPT("auth-max-failures-per-addr", K_UINT, auth_addr_max_failures, 0),
	OPT("auth-lockout", K_UINT, auth_lockout, 1),
	OPT("auth-delay-max", K_UINT, auth_delay_max, 0),
	OPT("smtp-relay", K_STR, smtp_relay, 0),
	OPT("smtp-insecure", K_FLAG, smtp_insecure, 0),
	OPT("smtp-credentials", K_STR, smtp_credentials, 0),
	OPT("smtp-cainfo", K_STR, smtp_cainfo, 0),
	OPT("max-send-size", K_SIZE, max_send_size, 1),
	OPT("max-recipients-per-hour", K_UINT, max_rcpts_per_hour, 0),
	OPT("send-retry-time", K_UINT, send_retry_s, 1),
	OPT("web-session-idle", K_UINT, web_session_idle, 1),
	OPT("web-session-max", K_UINT, web_session_max, 1),
	OPT("no-self-service", K_FLAG, no_self_service, 0),
};

void
easd_config_defaults(struct easd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = "./var";
	cfg->listen = "127.0.0.1:8080";
	cfg->max_body = 64 * 1024 * 1024;
	cfg->max_body_small = 1024 * 1024;
	cfg->max_connections = 20000;
	cfg->workers = 1;
	cfg->max_per_addr = 256;
	cfg->max_header = 32 * 1024;
	cfg->idle_timeout = 30;
	cfg->max_message = 50 * 1024 * 1024;
	cfg->heartbeat_min = 60;
	cfg->heartbeat_max = 3540;
	cfg->max_ping_folders = 300;
	cfg->max_parked_per_account = 20;
	cfg->auth_max_failures = 10;
	cfg->auth_addr_max_failures = 100;
	cfg->auth_lockout = 900;
	cfg->auth_delay_max = 15;
	cfg->max_devices_per_account = 100;
	cfg->sync_window_max = 512;
	cfg->max_send_size = 25 * 1024 * 1024;
	cfg->max_rcpts_per_hour = 500;
	cfg->send_retry_s = 5 * 24 * 3600;
	cfg->loop_repeats = LOOP_REPEATS_DEFAULT;
	cfg->web_session_idle = 30 * 60;
	cfg->web_session_max = 12 * 3600;
	cfg->log_level = LOG_INFO;
}

void
easd_usage(FILE *f)
{
	fputs("usage: easd [options]\n"
	      "  --data DIR            data directory (default ./var; made "
	      "0700 if missing,\n"
	      "                        refused if other users can read it; "
	      "one easd each)\n"
	      "  --store URL           the store in PostgreSQL "
	      "(postgresql://...) instead of\n"
	      "                        DIR/easd.db; several easd may share "
	      "it\n"
	      "  --store-pool N        at most N PostgreSQL connections "
	      "(1..64, default 64),\n"
	      "                        one per open transaction; then a "
	      "2 s wait, then 503\n"
	      "  --listen ADDR:PORT    HTTP listen address (default "
	      "127.0.0.1:8080; port 0 = any)\n"
	      "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
	      "  --tls-priority STR    GnuTLS priority string (default: TLS "
	      "1.2+, forward-\n"
	      "                        secret AEAD ciphers only)\n"
	      "  --public-url URL      URL Autodiscover answers "
	      "(default: from the request)\n"
	      "  --lmtp ADDR:PORT      accept mail over LMTP on TCP\n"
	      "  --lmtp-socket PATH    accept mail over LMTP on a UNIX socket\n"
	      "  --log-level LEVEL     error, warn, info (default), debug\n"
	      "  --access-log WHERE    the line per request: stderr "
	      "(default), off, or a\n"
	      "                        file of its own (appended to)\n"
	      "  --max-body BYTES      largest body of Sync, SendMail, "
	      "SmartReply and\n"
	      "                        SmartForward (default 64 MiB)\n"
	      "  --max-body-small BYTES  largest body of any other request "
	      "(default 1 MiB)\n"
	      "  --max-connections N   open connections at most (default "
	      "20000)\n"
	      "  --max-connections-per-addr N  from one client address "
	      "(default 256;\n"
	      "                        0 = no limit; trusted proxies are "
	      "exempt)\n"
	      "  --max-header-bytes N  request line and headers at most "
	      "(default 32768)\n"
	      "  --idle-timeout S      close a connection idle this long, "
	      "also before its\n"
	      "                        first byte (default 30; parked "
	      "requests are exempt)\n"
	      "  --trusted-proxy CIDR  believe X-Forwarded-For/-Proto/-Host "
	      "from these\n"
	      "                        peers (repeatable; IPv4 or IPv6, "
	      "e.g. 127.0.0.1/32)\n"
	      "  --max-message BYTES   largest delivered message "
	      "(default 50 MiB)\n"
	      "  --threads N           HTTP worker threads (default: cores)\n"
	      "  --workers N           serving processes sharing the listener "
	      "(default 1)\n"
	      "  --heartbeat-min S --heartbeat-max S   Ping/Sync bounds "
	      "(default 60..3540)\n"
	      "sending (without a relay only local recipients are served):\n"
	      "  --smtp-relay URL      smtp://HOST:587 (STARTTLS required) or\n"
	      "                        smtps://HOST:465\n"
	      "  --smtp-insecure       allow smtp:// without STARTTLS\n"
	      "  --smtp-credentials FILE   user:password for the relay\n"
	      "  --smtp-cainfo FILE    CA bundle for the relay's certificate\n"
	      "  --max-send-size BYTES largest message a device sends "
	      "(default 25 MiB)\n"
	      "  --max-recipients-per-hour N   per account (default 500; 0 = "
	      "no limit)\n"
	      "  --send-retry-time S   how long the queue retries "
	      "(default 432000, 5 days)\n"
	      "  --max-parked-per-account N   waiting Pings and Syncs of "
	      "an account\n"
	      "                        (default 20; 0 = no limit; past it "
	      "503)\n"
	      "  --auth-max-failures N  failed logins of an account from one "
	      "address before\n"
	      "                        that pair is refused (default 10; 0 "
	      "= never)\n"
	      "  --auth-max-failures-per-addr N  failed logins from one "
	      "address, any\n"
	      "                        account, before it is refused "
	      "(default 100; 0 = never)\n"
	      "  --auth-lockout S      how long they are refused, and "
	      "failures remembered\n"
	      "                        (default 900)\n"
	      "  --auth-delay-max S    failed answers of a pair are delayed "
	      "1, 2, 4... s\n"
	      "                        after 3 failures, up to S (default "
	      "15; 0 = none)\n"
	      "  --max-devices-per-account N  devices of an account "
	      "(default 100; 0 = no\n"
	      "                        limit; past it status 177, 403 for "
	      "12.x)\n"
	      "  --loop-repeats N      the same answer asked for N times is a "
	      "loop (default 3)\n"
	      "administration:\n"
	      "  --config FILE         read settings from FILE first "
	      "(key = value, keys\n"
	      "                        named like these options; the "
	      "command line wins)\n"
	      "  --check-config        check the settings, print the "
	      "effective ones, exit\n"
	      "  --admin-listen ADDR:PORT  /healthz and /metrics "
	      "(Prometheus); off by default\n"
	      "                        and the admin pages (/) for "
	      "accounts marked admin\n"
	      "  --web-session-idle S  a web page login ends after S idle "
	      "(default 1800)\n"
	      "  --web-session-max S   and S after it began (default "
	      "43200)\n"
	      "  --no-self-service     no /account/ pages on the public "
	      "listener\n"
	      "  --log-file FILE       log to FILE (reopened on SIGHUP) "
	      "instead of stderr\n"
	      "  --syslog              log to syslog (daemon facility)\n"
	      "  --version             print the version and exit\n",
	      f);
}

static const struct cfg_option *
find_option(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(options); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

const char *const *
config_keys(void)
{
	static const char *keys[N_ELEMENTS(options) + 1];

	for (size_t i = 0; i < N_ELEMENTS(options); i++)
		keys[i] = options[i].name;
	keys[N_ELEMENTS(options)] = NULL;
	return keys;
}

/* A whole decimal number with an optional K, M or G (powers of 1024). */
static int
parse_number(const char *s, bool suffix, uint64_t max, uint64_t *r)
{
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (suffix && *p != '\0' && p[1] == '\0') {
		switch (*p) {
		case 'k':
		case 'K':
			mult = 1024;
			break;
		case 'm':
		case 'M':
			mult = 1024 * 1024;
			break;
		case 'g':
		case 'G':
			mult = 1024 * 1024 * 1024;
			break;
		default:
			return -1;
		}
		p++;
	}
	if (*p != '\0' || v > max / mult)
		return -1;
	*r = v * mult;
	return 0;
}

static int
parse_flag(const char *s, bool *r)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < N_ELEMENTS(yes); i++) {
		if (str_ieq(s, yes[i])) {
			*r = true;
			return 0;
		}
		if (str_ieq(s, no[i])) {
			*r = false;
			return 0;
		}
	}
	return -1;
}

static void
trusted_clear(struct easd_config *cfg)
{
	free(cfg->trusted);
	free(cfg->trusted_src);
	cfg->trusted = NULL;
	cfg->trusted_src = NULL;
	cfg->ntrusted = 0;
}

static int
apply(struct easd_config *cfg, const struct cfg_option *o, const char *value,
      char *err, size_t errlen)
{
	void *field = (char *)cfg + o->offset;
	uint64_t v;

	switch (o->kind) {
	case K_STR:
		if (value[0] == '\0') {
			snprintf(err, errlen, "empty value for %s", o->name);
			return -1;
		}
		*(const char **)field = value;
		return 0;
	case K_SIZE:
		if (parse_number(value, true, SIZE_MAX, &v) < 0 || v < o->min) {
			snprintf(err, errlen,
				 "bad value for %s: '%s' (want bytes, or a "
				 "number with K, M or G; at least %llu)",
				 o->name, value, (unsigned long long)o->min);
			return -1;
		}
		*(size_t *)field = (size_t)v;
		return 0;
	case K_UINT:
		if (parse_number(value, false, UINT32_MAX, &v) < 0 ||
		    v < o->min) {
			char least[32] = "";

			if (o->min > 0)
				snprintf(least, sizeof(least),
					 ", at least %llu",
					 (unsigned long long)o->min);
			snprintf(err, errlen,
				 "bad value for %s: '%s' (want a whole "
				 "number%s)",
				 o->name, value, least);
			return -1;
		}
		*(unsigned *)field = (unsigned)v;
		return 0;
	case K_FLAG:
		if (parse_flag(value, (bool *)field) < 0) {
			snprintf(err, errlen,
				 "bad value for %s: '%s' (want yes or no)",
				 o->name, value);
			return -1;
		}
		return 0;
	case K_LEVEL: {
		enum log_level level;

		if (log_level_parse(value, &level) < 0) {
			snprintf(err, errlen,
				 "bad value for %s: '%s' (want error, warn, "
				 "info or debug)",
				 o->name, value);
			return -1;
		}
		*(enum log_level *)field = level;
		return 0;
	}
	case K_CIDR: {
		struct net_cidr cidr;

		if (net_cidr_parse(value, &cidr) < 0) {
			snprintf(err, errlen,
				 "bad value for %s: '%s' (want ADDR or "
				 "ADDR/BITS)",
				 o->name, value);
			return -1;
		}
		cfg->trusted =
			xrealloc(cfg->trusted,
				 (cfg->ntrusted + 1) * sizeof(*cfg->trusted));
		cfg->trusted_src = xrealloc(cfg->trusted_src,
					    (cfg->ntrusted + 1) *
						    sizeof(*cfg->trusted_src));
		cfg->trusted[cfg->ntrusted] = cidr;
		cfg->trusted_src[cfg->ntrusted++] = value;
		return 0;
	}
	}
	eas_panic("option kind %d", (int)o->kind);
}

int
config_set(struct easd_config *cfg, const char *key, const char *value,
	   char *err, size_t errlen)
{
	const struct cfg_option *o = find_option(key);

	if (o == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return apply(cfg, o, value, err, errlen);
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int
config_read_file(const char *path, struct easd_config *cfg, char *err,
		 size_t errlen)
{
	char line[CONFIG_LINE_MAX + 2], why[512];
	bool file_trusted = false;
	FILE *f = fopen(path, "r");
	int lineno = 0, ret = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *value, *eq;
		const struct cfg_option *o;

		if (++lineno > CONFIG_FILE_MAX_LINES ||
		    (strchr(line, '\n') == NULL && !feof(f))) {
			snprintf(err, errlen, "%s:%d: line too long", path,
				 lineno);
			ret = -1;
			break;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: want 'key = value'", path,
				 lineno);
			ret = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		o = find_option(key);
		if (o == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path,
				 lineno, key);
			ret = -1;
			break;
		}
		/* a list in the file replaces the defaults' (none today) */
		if (o->kind == K_CIDR && !file_trusted) {
			trusted_clear(cfg);
			file_trusted = true;
		}
		cfg->owned = xrealloc(cfg->owned,
				      (cfg->nowned + 1) * sizeof(*cfg->owned));
		cfg->owned[cfg->nowned] = xstrdup(value);
		if (apply(cfg, o, cfg->owned[cfg->nowned++], why, sizeof(why)) <
		    0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			ret = -1;
			break;
		}
	}
	if (ret == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		ret = -1;
	}
	fclose(f);
	return ret;
}

int
config_format(const struct easd_config *cfg, const char *key, char *buf,
	      size_t size)
{
	const struct cfg_option *o = find_option(key);
	const void *field;

	if (o == NULL)
		return -1;
	field = (const char *)cfg + o->offset;
	buf[0] = '\0';
	switch (o->kind) {
	case K_STR: {
		const char *v = *(const char *const *)field;

		snprintf(buf, size, "%s", v != NULL ? v : "");
		break;
	}
	case K_SIZE:
		snprintf(buf, size, "%zu", *(const size_t *)field);
		break;
	case K_UINT:
		snprintf(buf, size, "%u", *(const unsigned *)field);
		break;
	case K_FLAG:
		snprintf(buf, size, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case K_LEVEL: {
		static const char *const names[] = {"error", "warn", "info",
						    "debug"};
		unsigned l = (unsigned)*(const enum log_level *)field;

		snprintf(buf, size, "%s",
			 l < N_ELEMENTS(names) ? names[l] : "?");
		break;
	}
	case K_CIDR: {
		size_t used = 0;

		for (size_t i = 0; i < cfg->ntrusted && used < size; i++)
			used += (size_t)snprintf(buf + used, size - used,
						 "%s%s", i > 0 ? " " : "",
						 cfg->trusted_src[i]);
		break;
	}
	}
	return 0;
}

void
config_print(FILE *f, const struct easd_config *cfg)
{
	char buf[4096];

	for (size_t i = 0; i < N_ELEMENTS(options); i++) {
		const struct cfg_option *o = &options[i];

		config_format(cfg, o->name, buf, sizeof(buf));
		if (o->kind == K_CIDR && cfg->ntrusted > 0) {
			for (size_t k = 0; k < cfg->ntrusted; k++)
				fprintf(f, "%s = %s\n", o->name,
					cfg->trusted_src[k]);
			continue;
		}
		if (buf[0] == '\0')
			fprintf(f, "# %s =\n", o->name);
		else
			fprintf(f, "%s = %s\n", o->name, buf);
	}
}

void
config_release(struct easd_config *cfg)
{
	trusted_clear(cfg);
	for (size_t i = 0; i < cfg->nowned; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	cfg->owned = NULL;
	cfg->nowned = 0;
}

/* --- the command line --- */

enum {
	O_TABLE = 1000, /* + index into options[] */
	O_CONFIG = 256,
	O_CHECK,
	O_HELP,
	O_VERSION,
};

static struct option *
long_options(void)
{
	static struct option opts[N_ELEMENTS(options) + 5];
	size_t n = 0;

	for (size_t i = 0; i < N_ELEMENTS(options); i++)
		opts[n++] = (struct option){options[i].name,
					    options[i].kind == K_FLAG
						    ? no_argument
						    : required_argument,
					    NULL, O_TABLE + (int)i};
	opts[n++] =
		(struct option){"config", required_argument, NULL, O_CONFIG};
	opts[n++] = (struct option){"check-config", no_argument, NULL, O_CHECK};
	opts[n++] = (struct option){"help", no_argument, NULL, O_HELP};
	opts[n++] = (struct option){"version", no_argument, NULL, O_VERSION};
	opts[n] = (struct option){NULL, 0, NULL, 0};
	return opts;
}

/* The checks that involve more than one setting. */
static int
check_combinations(const struct easd_config *cfg)
{
	int bad = 0;

	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		bad = fprintf(stderr, "easd: tls-cert and tls-key go "
				      "together\n");
	if (cfg->workers > 64)
		bad = fprintf(stderr, "easd: workers is at most 64\n");
	if (cfg->heartbeat_min > cfg->heartbeat_max)
		bad = fprintf(stderr, "easd: heartbeat-min is above "
				      "heartbeat-max\n");
	if (cfg->smtp_relay != NULL &&
	    !str_has_iprefix(cfg->smtp_relay, "smtp://") &&
	    !str_has_iprefix(cfg->smtp_relay, "smtps://"))
		bad = fprintf(stderr, "easd: smtp-relay must be smtp://HOST:"
				      "PORT or smtps://HOST:PORT\n");
	if (cfg->smtp_relay == NULL &&
	    (cfg->smtp_credentials != NULL || cfg->smtp_insecure))
		bad = fprintf(stderr, "easd: smtp-credentials and "
				      "smtp-insecure need smtp-relay\n");
	if (cfg->log_file != NULL && cfg->syslog)
		bad = fprintf(stderr, "easd: log-file and syslog exclude "
				      "each other\n");
	return bad ? -1 : 0;
}

int
config_parse_args(int argc, char **argv, struct easd_config *cfg,
		  struct config_cli *cli)
{
	const struct option *opts = long_options();
	bool cli_trusted = false;
	char err[1024];
	int c, bad = 0, unknown = 0;

	memset(cli, 0, sizeof(*cli));
	/* First pass: only --config, so that its settings come first. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == O_CONFIG)
			cli->config_file = optarg;
	if (cli->config_file != NULL &&
	    config_read_file(cli->config_file, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "easd: %s\n", err);
		return -1;
	}
	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const struct cfg_option *o;

		switch (c) {
		case O_CONFIG:
			break;
		case O_CHECK:
			cli->check_config = true;
			break;
		case O_HELP:
			easd_usage(stdout);
			exit(0);
		case O_VERSION:
			printf("easd %s\n", EASD_VERSION);
			exit(0);
		default:
			if (c < O_TABLE ||
			    c >= O_TABLE + (int)N_ELEMENTS(options)) {
				bad = unknown = 1;
				break;
			}
			o = &options[c - O_TABLE];
			if (o->kind == K_CIDR && !cli_trusted) {
				trusted_clear(cfg);
				cli_trusted = true;
			}
			if (apply(cfg, o, o->kind == K_FLAG ? "yes" : optarg,
				  err, sizeof(err)) < 0)
				bad = fprintf(stderr, "easd: %s\n", err);
		}
	}
	if (optind < argc)
		bad = fprintf(stderr, "easd: unexpected argument %s\n",
			      argv[optind]);
	if (!bad && check_combinations(cfg) < 0)
		bad = 1;
	if (unknown)
		easd_usage(stderr);
	if (bad)
		return -1;
	log_set_level(cfg->log_level);
	return 0;
}
