/* easd: the ActiveSync server process. Parses the flags, opens (and
 * migrates) the database, starts push, the HTTP front end and LMTP, then
 * waits for SIGTERM/SIGINT and shuts down cleanly. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"
#include "http.h"
#include "lmtp.h"
#include "outbound.h"
#include "log.h"
#include "loop.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

/* Per-thread store connections, all closed at shutdown. */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t nstores;
/* How much of the database file a request thread reads through a
 * mapping (store_map_file). */
#define EASD_DB_MAP_BYTES ((size_t)256 * 1024 * 1024)

static _Thread_local struct store *thread_store;

struct store *
easd_thread_store(struct easd *srv)
{
	const char *error;

	if (thread_store != NULL)
		return thread_store;
	if (store_open(srv->cfg.db_path, &thread_store, &error) != STORE_OK) {
		log_error("cannot open %s: %s", srv->cfg.db_path, error);
		thread_store = NULL;
		return NULL;
	}
	store_map_file(thread_store, EASD_DB_MAP_BYTES);
	pthread_mutex_lock(&stores_lock);
	stores = xrealloc(stores, (nstores + 1) * sizeof(*stores));
	stores[nstores++] = thread_store;
	pthread_mutex_unlock(&stores_lock);
	return thread_store;
}

void
easd_stores_close(void)
{
	pthread_mutex_lock(&stores_lock);
	for (size_t i = 0; i < nstores; i++)
		store_close(&stores[i]);
	free(stores);
	stores = NULL;
	nstores = 0;
	pthread_mutex_unlock(&stores_lock);
}

void
easd_config_defaults(struct easd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = "./var";
	cfg->listen = "127.0.0.1:8080";
	cfg->max_body = 64 * 1024 * 1024;
	cfg->max_body_small = 1024 * 1024;
	cfg->max_connections = 20000;
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
}

static void
usage(FILE *f)
{
	fputs("usage: easd [options]\n"
	      "  --data DIR            data directory (default ./var; made "
	      "0700 if missing,\n"
	      "                        refused if other users can read it; "
	      "one easd each)\n"
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
	      "loop (default 3)\n",
	      f);
}

static int
parse_size(const char *s, size_t *r)
{
	int64_t v;

	if (str_to_int64(s, &v) < 0 || v <= 0)
		return -1;
	*r = (size_t)v;
	return 0;
}

static int
parse_unsigned(const char *s, unsigned *r)
{
	uint32_t v;

	if (str_to_uint32(s, &v) < 0)
		return -1;
	*r = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct easd_config *cfg)
{
	enum {
		O_DATA = 256,
		O_LISTEN,
		O_CERT,
		O_KEY,
		O_TLS_PRIO,
		O_URL,
		O_LMTP,
		O_LMTP_SOCK,
		O_LOG,
		O_ACCESS_LOG,
		O_BODY,
		O_BODY_SMALL,
		O_CONNS,
		O_CONNS_ADDR,
		O_HEADER,
		O_IDLE,
		O_PROXY,
		O_MSG,
		O_THREADS,
		O_HBMIN,
		O_HBMAX,
		O_RELAY,
		O_INSECURE,
		O_CREDS,
		O_CAINFO,
		O_SENDSIZE,
		O_RCPTS,
		O_RETRY,
		O_PARKED,
		O_DEVICES,
		O_AUTH_MAX,
		O_AUTH_ADDR,
		O_AUTH_LOCK,
		O_AUTH_DELAY,
		O_LOOP,
		O_HELP
	};
	static const struct option opts[] = {
		{"data", required_argument, NULL, O_DATA},
		{"listen", required_argument, NULL, O_LISTEN},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"tls-priority", required_argument, NULL, O_TLS_PRIO},
		{"public-url", required_argument, NULL, O_URL},
		{"lmtp", required_argument, NULL, O_LMTP},
		{"lmtp-socket", required_argument, NULL, O_LMTP_SOCK},
		{"log-level", required_argument, NULL, O_LOG},
		{"access-log", required_argument, NULL, O_ACCESS_LOG},
		{"max-body", required_argument, NULL, O_BODY},
		{"max-body-small", required_argument, NULL, O_BODY_SMALL},
		{"max-connections", required_argument, NULL, O_CONNS},
		{"max-connections-per-addr", required_argument, NULL,
		 O_CONNS_ADDR},
		{"max-header-bytes", required_argument, NULL, O_HEADER},
		{"idle-timeout", required_argument, NULL, O_IDLE},
		{"trusted-proxy", required_argument, NULL, O_PROXY},
		{"max-message", required_argument, NULL, O_MSG},
		{"threads", required_argument, NULL, O_THREADS},
		{"heartbeat-min", required_argument, NULL, O_HBMIN},
		{"heartbeat-max", required_argument, NULL, O_HBMAX},
		{"smtp-relay", required_argument, NULL, O_RELAY},
		{"smtp-insecure", no_argument, NULL, O_INSECURE},
		{"smtp-credentials", required_argument, NULL, O_CREDS},
		{"smtp-cainfo", required_argument, NULL, O_CAINFO},
		{"max-send-size", required_argument, NULL, O_SENDSIZE},
		{"max-recipients-per-hour", required_argument, NULL, O_RCPTS},
		{"send-retry-time", required_argument, NULL, O_RETRY},
		{"max-parked-per-account", required_argument, NULL, O_PARKED},
		{"max-devices-per-account", required_argument, NULL, O_DEVICES},
		{"auth-max-failures", required_argument, NULL, O_AUTH_MAX},
		{"auth-max-failures-per-addr", required_argument, NULL,
		 O_AUTH_ADDR},
		{"auth-lockout", required_argument, NULL, O_AUTH_LOCK},
		{"auth-delay-max", required_argument, NULL, O_AUTH_DELAY},
		{"loop-repeats", required_argument, NULL, O_LOOP},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	enum log_level level;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			cfg->data_dir = optarg;
			break;
		case O_LISTEN:
			cfg->listen = optarg;
			break;
		case O_CERT:
			cfg->tls_cert = optarg;
			break;
		case O_KEY:
			cfg->tls_key = optarg;
			break;
		case O_TLS_PRIO:
			cfg->tls_priority = optarg;
			break;
		case O_URL:
			cfg->public_url = optarg;
			break;
		case O_LMTP:
			cfg->lmtp_listen = optarg;
			break;
		case O_LMTP_SOCK:
			cfg->lmtp_socket = optarg;
			break;
		case O_LOG:
			if (log_level_parse(optarg, &level) < 0)
				bad = fprintf(stderr,
					      "easd: bad --log-level "
					      "%s\n",
					      optarg);
			else
				log_set_level(level);
			break;
		case O_ACCESS_LOG:
			cfg->access_log = optarg;
			break;
		case O_BODY:
			if (parse_size(optarg, &cfg->max_body) < 0)
				bad = fprintf(stderr, "easd: bad --max-body\n");
			break;
		case O_BODY_SMALL:
			if (parse_size(optarg, &cfg->max_body_small) < 0)
				bad = fprintf(stderr,
					      "easd: bad --max-body-small\n");
			break;
		case O_CONNS:
			if (parse_unsigned(optarg, &cfg->max_connections) < 0 ||
			    cfg->max_connections == 0)
				bad = fprintf(stderr,
					      "easd: bad --max-connections\n");
			break;
		case O_CONNS_ADDR:
			if (parse_unsigned(optarg, &cfg->max_per_addr) < 0)
				bad = fprintf(stderr, "easd: bad "
						      "--max-connections-per-"
						      "addr\n");
			break;
		case O_HEADER:
			if (parse_size(optarg, &cfg->max_header) < 0 ||
			    cfg->max_header < 4096)
				bad = fprintf(stderr,
					      "easd: bad --max-header-bytes "
					      "(at least 4096)\n");
			break;
		case O_IDLE:
			if (parse_unsigned(optarg, &cfg->idle_timeout) < 0 ||
			    cfg->idle_timeout == 0)
				bad = fprintf(stderr,
					      "easd: bad --idle-timeout\n");
			break;
		case O_PROXY: {
			struct net_cidr cidr;

			if (net_cidr_parse(optarg, &cidr) < 0) {
				bad = fprintf(stderr,
					      "easd: bad --trusted-proxy %s "
					      "(want ADDR or ADDR/BITS)\n",
					      optarg);
				break;
			}
			cfg->trusted = xrealloc(cfg->trusted,
						(cfg->ntrusted + 1) *
							sizeof(*cfg->trusted));
			cfg->trusted[cfg->ntrusted++] = cidr;
			break;
		}
		case O_MSG:
			if (parse_size(optarg, &cfg->max_message) < 0)
				bad = fprintf(stderr,
					      "easd: bad --max-message\n");
			break;
		case O_THREADS:
			if (parse_unsigned(optarg, &cfg->threads) < 0)
				bad = fprintf(stderr, "easd: bad --threads\n");
			break;
		case O_HBMIN:
			if (parse_unsigned(optarg, &cfg->heartbeat_min) < 0)
				bad = fprintf(stderr,
					      "easd: bad --heartbeat-min\n");
			break;
		case O_HBMAX:
			if (parse_unsigned(optarg, &cfg->heartbeat_max) < 0)
				bad = fprintf(stderr,
					      "easd: bad --heartbeat-max\n");
			break;
		case O_RELAY:
			cfg->smtp_relay = optarg;
			break;
		case O_INSECURE:
			cfg->smtp_insecure = true;
			break;
		case O_CREDS:
			cfg->smtp_credentials = optarg;
			break;
		case O_CAINFO:
			cfg->smtp_cainfo = optarg;
			break;
		case O_SENDSIZE:
			if (parse_size(optarg, &cfg->max_send_size) < 0)
				bad = fprintf(stderr,
					      "easd: bad --max-send-size\n");
			break;
		case O_RCPTS:
			if (parse_unsigned(optarg, &cfg->max_rcpts_per_hour) <
			    0)
				bad = fprintf(stderr,
					      "easd: bad "
					      "--max-recipients-per-hour"
					      "\n");
			break;
		case O_RETRY:
			if (parse_unsigned(optarg, &cfg->send_retry_s) < 0 ||
			    cfg->send_retry_s == 0)
				bad = fprintf(stderr,
					      "easd: bad --send-retry-time\n");
			break;
		case O_PARKED:
			if (parse_unsigned(optarg,
					   &cfg->max_parked_per_account) < 0)
				bad = fprintf(stderr, "easd: bad "
						      "--max-parked-per-"
						      "account\n");
			break;
		case O_DEVICES:
			if (parse_unsigned(optarg,
					   &cfg->max_devices_per_account) < 0)
				bad = fprintf(stderr, "easd: bad "
						      "--max-devices-per-"
						      "account\n");
			break;
		case O_AUTH_MAX:
			if (parse_unsigned(optarg, &cfg->auth_max_failures) < 0)
				bad = fprintf(
					stderr,
					"easd: bad --auth-max-failures\n");
			break;
		case O_AUTH_ADDR:
			if (parse_unsigned(optarg,
					   &cfg->auth_addr_max_failures) < 0)
				bad = fprintf(stderr, "easd: bad "
						      "--auth-max-failures-per-"
						      "addr\n");
			break;
		case O_AUTH_LOCK:
			if (parse_unsigned(optarg, &cfg->auth_lockout) < 0 ||
			    cfg->auth_lockout == 0)
				bad = fprintf(stderr,
					      "easd: bad --auth-lockout\n");
			break;
		case O_AUTH_DELAY:
			if (parse_unsigned(optarg, &cfg->auth_delay_max) < 0)
				bad = fprintf(stderr,
					      "easd: bad --auth-delay-max\n");
			break;
		case O_LOOP:
			if (parse_unsigned(optarg, &cfg->loop_repeats) < 0 ||
			    cfg->loop_repeats < 2)
				bad = fprintf(stderr,
					      "easd: bad --loop-repeats (2 or "
					      "more)\n");
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			bad = 1;
		}
	}
	if (optind < argc)
		bad = fprintf(stderr, "easd: unexpected argument %s\n",
			      argv[optind]);
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		bad = fprintf(stderr, "easd: --tls-cert and --tls-key go "
				      "together\n");
	if (cfg->heartbeat_min > cfg->heartbeat_max)
		bad = fprintf(stderr, "easd: --heartbeat-min is above "
				      "--heartbeat-max\n");
	if (cfg->smtp_relay != NULL &&
	    !str_has_iprefix(cfg->smtp_relay, "smtp://") &&
	    !str_has_iprefix(cfg->smtp_relay, "smtps://"))
		bad = fprintf(stderr, "easd: --smtp-relay must be smtp://HOST:"
				      "PORT or smtps://HOST:PORT\n");
	if (cfg->smtp_relay == NULL &&
	    (cfg->smtp_credentials != NULL || cfg->smtp_insecure))
		bad = fprintf(stderr, "easd: --smtp-credentials and "
				      "--smtp-insecure need --smtp-relay\n");
	if (bad) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open-file limit: %s",
				 strerror(errno));
	}
}

/* The public listener's routes: ActiveSync and Autodiscover (paths match
 * without regard to case). */
static const struct http_route public_routes[] = {
	{"/Microsoft-Server-ActiveSync", "OPTIONS,POST", eas_headers,
	 eas_endpoint},
	{"/autodiscover/autodiscover.xml", "POST", autodiscover_headers,
	 autodiscover_endpoint},
};

static int
http_glue_start(struct easd *srv, const char **error_r)
{
	struct http_config hc = {
		.listen = srv->cfg.listen,
		.tls_cert = srv->cfg.tls_cert,
		.tls_key = srv->cfg.tls_key,
		.tls_priority = srv->cfg.tls_priority,
		.threads = srv->cfg.threads,
		.max_body = srv->cfg.max_body,
		.max_connections = srv->cfg.max_connections,
		.max_per_addr = srv->cfg.max_per_addr,
		.max_header = srv->cfg.max_header,
		.idle_timeout = srv->cfg.idle_timeout,
		.trusted = srv->cfg.trusted,
		.ntrusted = srv->cfg.ntrusted,
		.routes = public_routes,
		.nroutes = N_ELEMENTS(public_routes),
		.ctx = srv,
	};

	srv->http = http_start(&hc, error_r);
	if (srv->http == NULL)
		return -1;
	srv->http_port = http_port(srv->http);
	return 0;
}

/* Sending: the relay and the queue runner, kicked by every commit that
 * queues or retries mail (from this process or easctl). */
static void
queue_changed(void *ctx, const struct store_change *c, size_t n)
{
	struct easd *srv = ctx;

	for (size_t i = 0; i < n; i++)
		if (c[i].what == STORE_CHANGED_OUTBOUND) {
			outbound_kick(srv->outbound);
			return;
		}
}

static struct smtp_relay relay;

static int
outbound_glue_start(struct easd *srv, const char **error_r)
{
	if (srv->cfg.smtp_relay == NULL)
		return 0;
	relay.url = srv->cfg.smtp_relay;
	relay.insecure = srv->cfg.smtp_insecure;
	relay.cainfo = srv->cfg.smtp_cainfo;
	if (srv->cfg.smtp_credentials != NULL &&
	    smtp_relay_credentials(&relay, srv->cfg.smtp_credentials, error_r) <
		    0)
		return -1;
	srv->cfg.relay = &relay;
	srv->cfg.have_relay = true;
	srv->outbound = outbound_start(srv, error_r);
	if (srv->outbound == NULL)
		return -1;
	if (store_subscribe(srv->cfg.db_path, false, queue_changed, srv,
			    &srv->queue_sub, error_r) != STORE_OK)
		return -1;
	printf("easd: relaying through %s\n", srv->cfg.smtp_relay);
	return 0;
}

static void
outbound_glue_stop(struct easd *srv)
{
	store_unsubscribe(&srv->queue_sub);
	outbound_stop(&srv->outbound);
	smtp_relay_deinit(&relay);
}

/* LMTP intake: its own threads and store connections. */
static int
lmtp_glue_start(struct easd *srv, const char **error_r)
{
	struct lmtp_config lc;

	if (srv->cfg.lmtp_listen == NULL && srv->cfg.lmtp_socket == NULL)
		return 0;
	memset(&lc, 0, sizeof(lc));
	lc.listen = srv->cfg.lmtp_listen;
	lc.unix_path = srv->cfg.lmtp_socket;
	lc.db_path = srv->cfg.db_path;
	lc.max_size = srv->cfg.max_message;
	lc.autoreply.can_queue = srv->cfg.have_relay;
	lc.autoreply.retry_s = srv->cfg.send_retry_s;
	srv->lmtp = lmtp_start(&lc, error_r);
	if (srv->lmtp == NULL)
		return -1;
	if (srv->cfg.lmtp_listen != NULL) {
		const char *colon = strrchr(srv->cfg.lmtp_listen, ':');
		int host_len =
			colon != NULL ? (int)(colon - srv->cfg.lmtp_listen) : 0;

		printf("easd: lmtp on %.*s:%d\n", host_len,
		       srv->cfg.lmtp_listen, lmtp_port(srv->lmtp));
	}
	if (srv->cfg.lmtp_socket != NULL)
		printf("easd: lmtp on unix:%s\n", srv->cfg.lmtp_socket);
	return 0;
}

static void
lmtp_glue_stop(struct easd *srv)
{
	if (srv->lmtp != NULL)
		lmtp_stop(&srv->lmtp);
}

int
main(int argc, char **argv)
{
	struct easd srv;
	struct store *s = NULL;
	const char *error;
	char err[1024];
	sigset_t sigs;
	long holder;
	int sig, rc = 1, lock_fd;

	memset(&srv, 0, sizeof(srv));
	easd_config_defaults(&srv.cfg);
	if (parse_args(argc, argv, &srv.cfg) < 0) {
		free(srv.cfg.trusted);
		return 2;
	}
	/* Whatever the caller's umask, what we create is ours alone: the
	 * database holds password hashes and mail. */
	umask(077);
	if (datadir_check(srv.cfg.data_dir, true, err, sizeof(err)) != 0) {
		fprintf(stderr, "easd: %s\n", err);
		return 1;
	}
	/* Before anything in the directory is touched: a second easd on the
	 * same data leaves it exactly as it is. */
	lock_fd = datadir_lock(srv.cfg.data_dir, &holder, err, sizeof(err));
	if (lock_fd == -2) {
		if (holder > 0)
			fprintf(stderr,
				"easd: %s is already served by pid %ld\n",
				srv.cfg.data_dir, holder);
		else
			fprintf(stderr,
				"easd: %s is already served by another "
				"easd\n",
				srv.cfg.data_dir);
		return 1;
	}
	if (lock_fd < 0) {
		fprintf(stderr, "easd: %s\n", err);
		return 1;
	}
	datadir_tighten(srv.cfg.data_dir);
	srv.cfg.db_path = xasprintf("%s/easd.db", srv.cfg.data_dir);
	raise_fd_limit();

	/* Signals are taken by sigwait() below; every thread inherits the
	 * mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (srv.cfg.access_log != NULL &&
	    log_access_set(srv.cfg.access_log, &error) < 0) {
		fprintf(stderr, "easd: --access-log %s: %s\n",
			srv.cfg.access_log, error);
		goto out;
	}
	/* From here on lines are written off the request path (after the
	 * signal mask: the writer thread must not take SIGTERM). */
	log_writer_start();

	if (store_open(srv.cfg.db_path, &s, &error) != STORE_OK) {
		fprintf(stderr, "easd: cannot open %s: %s\n", srv.cfg.db_path,
			error);
		goto out;
	}
	store_close(&s);
	srv.push = push_new(&srv, &error);
	/* after push, whose subscription receives the other processes'
	 * changes for every subscription of this process */
	if (srv.push != NULL &&
	    (srv.standing = standing_new(srv.cfg.db_path, &error)) == NULL) {
		fprintf(stderr, "easd: cache: %s\n", error);
		goto out;
	}
	if (srv.push == NULL) {
		fprintf(stderr, "easd: push: %s\n", error);
		goto out;
	}
	if (http_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: %s\n", error);
		goto out;
	}
	{
		const char *colon = strrchr(srv.cfg.listen, ':');

		printf("easd: listening on %.*s:%u\n",
		       (int)(colon - srv.cfg.listen), srv.cfg.listen,
		       srv.http_port);
		if (srv.cfg.tls_cert != NULL)
			printf("easd: https with %s\n", srv.cfg.tls_cert);
	}
	if (outbound_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: sending: %s\n", error);
		goto out;
	}
	/* easctl deliver answers outside senders only when easd relays */
	{
		struct store *ms = easd_thread_store(&srv);

		if (ms == NULL ||
		    store_meta_set(ms, "relay", srv.cfg.have_relay) != STORE_OK)
			log_warn("cannot record whether a relay is configured");
	}
	if (lmtp_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: lmtp: %s\n", error);
		goto out;
	}
	printf("easd: ready\n");
	fflush(stdout);
	log_info("easd ready: data %s, http %s port %u", srv.cfg.data_dir,
		 srv.cfg.listen, srv.http_port);

	do {
		if (sigwait(&sigs, &sig) != 0)
			break;
	} while (sig != SIGINT && sig != SIGTERM);
	log_info("signal %d: shutting down", sig);
	rc = 0;
out:
	if (srv.push != NULL)
		push_shutdown(srv.push);
	lmtp_glue_stop(&srv);
	http_stop(&srv.http);
	outbound_glue_stop(&srv);
	standing_free(&srv.standing);
	push_free(&srv.push);
	easd_stores_close();
	free((char *)srv.cfg.db_path);
	free(srv.cfg.trusted);
	log_info("stopped");
	log_writer_stop();
	close(lock_fd);
	return rc;
}
