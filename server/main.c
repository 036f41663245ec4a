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

#include "http.h"
#include "lmtp.h"
#include "outbound.h"
#include "log.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "version.h"
#include "xalloc.h"

/* Per-thread store connections, all closed at shutdown. */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store **stores;
static size_t nstores;
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
	cfg->max_message = 50 * 1024 * 1024;
	cfg->heartbeat_min = 60;
	cfg->heartbeat_max = 3540;
	cfg->max_ping_folders = 300;
	cfg->sync_window_max = 512;
	cfg->max_send_size = 25 * 1024 * 1024;
	cfg->max_rcpts_per_hour = 500;
	cfg->send_retry_s = 5 * 24 * 3600;
}

static void
usage(FILE *f)
{
	fputs("usage: easd [options]\n"
	      "  --data DIR            data directory (default ./var)\n"
	      "  --listen ADDR:PORT    HTTP listen address (default "
	      "127.0.0.1:8080; port 0 = any)\n"
	      "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
	      "  --public-url URL      URL Autodiscover answers "
	      "(default: from the request)\n"
	      "  --lmtp ADDR:PORT      accept mail over LMTP on TCP\n"
	      "  --lmtp-socket PATH    accept mail over LMTP on a UNIX socket\n"
	      "  --log-level LEVEL     error, warn, info (default), debug\n"
	      "  --max-body BYTES      largest request body (default 64 MiB)\n"
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
	      "  --version             print the version and exit\n",
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
		O_URL,
		O_LMTP,
		O_LMTP_SOCK,
		O_LOG,
		O_BODY,
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
		O_HELP,
		O_VERSION
	};
	static const struct option opts[] = {
		{"data", required_argument, NULL, O_DATA},
		{"listen", required_argument, NULL, O_LISTEN},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"public-url", required_argument, NULL, O_URL},
		{"lmtp", required_argument, NULL, O_LMTP},
		{"lmtp-socket", required_argument, NULL, O_LMTP_SOCK},
		{"log-level", required_argument, NULL, O_LOG},
		{"max-body", required_argument, NULL, O_BODY},
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
		{"help", no_argument, NULL, O_HELP},
		{"version", no_argument, NULL, O_VERSION},
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
		case O_BODY:
			if (parse_size(optarg, &cfg->max_body) < 0)
				bad = fprintf(stderr, "easd: bad --max-body\n");
			break;
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
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("easd %s\n", EASD_VERSION);
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
	{"/Microsoft-Server-ActiveSync", "OPTIONS,POST", eas_endpoint},
	{"/autodiscover/autodiscover.xml", "POST", autodiscover_endpoint},
};

static int
http_glue_start(struct easd *srv, const char **error_r)
{
	struct http_config hc = {
		.listen = srv->cfg.listen,
		.tls_cert = srv->cfg.tls_cert,
		.tls_key = srv->cfg.tls_key,
		.threads = srv->cfg.threads,
		.max_body = srv->cfg.max_body,
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
	sigset_t sigs;
	int sig, rc = 1;

	memset(&srv, 0, sizeof(srv));
	easd_config_defaults(&srv.cfg);
	if (parse_args(argc, argv, &srv.cfg) < 0)
		return 2;
	if (mkdir(srv.cfg.data_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "easd: cannot create %s: %s\n",
			srv.cfg.data_dir, strerror(errno));
		return 1;
	}
	srv.cfg.db_path = xasprintf("%s/easd.db", srv.cfg.data_dir);
	raise_fd_limit();

	/* Signals are taken by sigwait() below; every thread inherits the
	 * mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (store_open(srv.cfg.db_path, &s, &error) != STORE_OK) {
		fprintf(stderr, "easd: cannot open %s: %s\n", srv.cfg.db_path,
			error);
		goto out;
	}
	store_close(&s);
	srv.push = push_new(&srv, &error);
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
	push_free(&srv.push);
	easd_stores_close();
	free((char *)srv.cfg.db_path);
	log_info("stopped");
	return rc;
}
