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
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "datadir.h"
#include "checkpointer.h"
#include "config.h"
#include "http.h"
#include "indexer.h"
#include "lmtp.h"
#include "outbound.h"
#include "log.h"
#include "metrics.h"
#include "log-sink.h"
#include "push.h"
#include "server.h"
#include "trace.h"
#include "util.h"
#include "version.h"
#include "web.h"
#include "workers.h"
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
		char shown[STORE_SHOWN_MAX];

		log_error("cannot open %s: %s",
			  store_path_shown(srv->cfg.db_path, shown,
					   sizeof(shown)),
			  error);
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

/* --check-config: the settings are valid (parsing said so); the files
 * they name can be read; print the effective values. */
static int
check_config(const struct easd_config *cfg, const char *file)
{
	const char *files[] = {cfg->tls_cert, cfg->tls_key,
			       cfg->smtp_credentials, cfg->smtp_cainfo};
	int rc = 0;

	for (size_t i = 0; i < N_ELEMENTS(files); i++)
		if (files[i] != NULL && access(files[i], R_OK) < 0) {
			fprintf(stderr, "easd: cannot read %s: %s\n", files[i],
				strerror(errno));
			rc = 1;
		}
	if (rc != 0)
		return rc;
	printf("# easd %s: the effective settings%s%s\n", EASD_VERSION,
	       file != NULL ? " from " : "", file != NULL ? file : "");
	config_print(stdout, cfg);
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

/* The table of the listener: the routes above and the self-service pages
 * (server/web). */
static struct http_route *all_public_routes;

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
		.nroutes = N_ELEMENTS(public_routes) +
			   (srv->cfg.no_self_service ? 0 : web_self_nroutes),
		.ctx = srv,
		.on_response = metrics_on_response,
		.inherit_listen = srv->listen_fd >= 0,
		.listen_fd = srv->listen_fd,
	};
	static char tag[48];

	/* EASD_WORKER_HEADER (undocumented; for the tests of --workers):
	 * every answer says which worker process gave it */
	if (getenv("EASD_WORKER_HEADER") != NULL) {
		snprintf(tag, sizeof(tag), "%d:%ld", srv->worker,
			 (long)getpid());
		hc.worker_tag = tag;
	}

	all_public_routes = xcalloc(hc.nroutes, sizeof(*all_public_routes));
	memcpy(all_public_routes, public_routes, sizeof(public_routes));
	if (!srv->cfg.no_self_service)
		memcpy(all_public_routes + N_ELEMENTS(public_routes),
		       web_self_routes,
		       web_self_nroutes * sizeof(*all_public_routes));
	hc.routes = all_public_routes;
	srv->http = http_start(&hc, error_r);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd); /* the server holds its own */
		srv->listen_fd = -1;
	}
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

/* The search indexer, kicked by every commit that queues mail for the
 * index (deliveries here or through easctl, drafts, reindexing). The
 * benchmark's reference server runs without the index at all
 * (EASD_BENCH_NO_INDEX, undocumented: it measures what the index costs;
 * main() turns the store's indexing off before anything opens it). */
static bool
bench_no_index(void)
{
	const char *off = getenv("EASD_BENCH_NO_INDEX");

	return off != NULL && off[0] != '\0';
}

static void
index_changed(void *ctx, const struct store_change *c, size_t n)
{
	struct easd *srv = ctx;

	for (size_t i = 0; i < n; i++)
		if (c[i].what == STORE_CHANGED_SEARCH) {
			indexer_kick(srv->indexer);
			return;
		}
}

static int
indexer_glue_start(struct easd *srv, const char **error_r)
{
	if (bench_no_index())
		return 0;
	srv->indexer = indexer_start(srv->cfg.db_path, error_r);
	if (srv->indexer == NULL)
		return -1;
	if (store_subscribe(srv->cfg.db_path, false, index_changed, srv,
			    &srv->index_sub, error_r) != STORE_OK)
		return -1;
	return 0;
}

static void
indexer_glue_stop(struct easd *srv)
{
	store_unsubscribe(&srv->index_sub);
	indexer_stop(&srv->indexer);
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

/* SIGHUP: the log file is opened again by its name (after a rotation),
 * the TLS certificate read again (after a renewal). Parked requests and
 * open connections are not touched. */
static void
reload(struct easd *srv)
{
	char err[512];
	int r;

	(void)srv;
	const char *terr;
	int t;

	sd_notify(0, "RELOADING=1");
	r = log_sink_reopen(err, sizeof(err));
	if (r < 0)
		log_error("SIGHUP: %s; logging goes on to the old file", err);
	t = http_reload_tls(srv->http, &terr);
	if (t < 0)
		log_error("SIGHUP: %s: %s; the old certificate stays",
			  srv->cfg.tls_cert, terr);
	log_info("SIGHUP: reloaded%s%s", r > 0 ? ", log file reopened" : "",
		 t > 0 ? ", TLS certificate reloaded" : "");
	sd_notify(0, "READY=1");
}

int
main(int argc, char **argv)
{
	struct easd srv;
	struct config_cli cli;
	struct store *s = NULL;
	const char *error;
	char err[1024];
	sigset_t sigs;
	long holder;
	int sig, rc = 1, lock_fd;

	memset(&srv, 0, sizeof(srv));
	srv.worker = srv.listen_fd = srv.ready_fd = -1;
	easd_config_defaults(&srv.cfg);
	if (config_parse_args(argc, argv, &srv.cfg, &cli) < 0) {
		config_release(&srv.cfg);
		return 2;
	}
	if (cli.check_config) {
		rc = check_config(&srv.cfg, cli.config_file);
		config_release(&srv.cfg);
		return rc;
	}
	/* Whatever the caller's umask, what we create is ours alone: the
	 * database holds password hashes and mail. */
	umask(077);
	if (srv.cfg.log_file != NULL &&
	    log_sink_use_file(srv.cfg.log_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "easd: %s\n", err);
		goto early;
	}
	if (srv.cfg.syslog)
		log_sink_use_syslog("easd");
	if (datadir_check(srv.cfg.data_dir, true, err, sizeof(err)) != 0) {
		fprintf(stderr, "easd: %s\n", err);
		goto early;
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
		goto early;
	}
	if (lock_fd < 0) {
		fprintf(stderr, "easd: %s\n", err);
		goto early;
	}
	datadir_tighten(srv.cfg.data_dir);
	if (srv.cfg.store_url != NULL && !store_is_url(srv.cfg.store_url)) {
		fprintf(stderr,
			"easd: --store takes a postgresql:// URL, not '%s' "
			"(an SQLite store is --data DIR)\n",
			srv.cfg.store_url);
		goto early;
	}
	srv.cfg.db_path = srv.cfg.store_url != NULL
				  ? xstrdup(srv.cfg.store_url)
				  : xasprintf("%s/easd.db", srv.cfg.data_dir);
	raise_fd_limit();

	/* Signals are taken by sigwait() below; every thread inherits the
	 * mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (srv.cfg.access_log != NULL &&
	    log_access_set(srv.cfg.access_log, &error) < 0) {
		fprintf(stderr, "easd: --access-log %s: %s\n",
			srv.cfg.access_log, error);
		goto out;
	}
	if (bench_no_index())
		store_search_set_indexing(false);
	if (srv.cfg.store_pool > STORE_PG_POOL_MAX) {
		fprintf(stderr, "easd: --store-pool is at most %d\n",
			STORE_PG_POOL_MAX);
		goto out;
	}
	store_pg_pool_set((int)srv.cfg.store_pool, -1);
	if (srv.cfg.workers > 1) {
		int wr;

		/* An SQLite file is migrated once, here, before any worker
		 * opens it; the parent starts no thread (it forks). Not a
		 * PostgreSQL store: the connection would stay in the pool
		 * and every worker would inherit the one socket; each
		 * worker migrates under the advisory lock instead
		 * (driver-pg.c), and a bad URL stops the group when worker
		 * 0 fails before serving. */
		if (!store_is_url(srv.cfg.db_path) &&
		    store_open(srv.cfg.db_path, &s, &error) != STORE_OK) {
			char shown[STORE_SHOWN_MAX];

			fprintf(stderr, "easd: cannot open %s: %s\n",
				store_path_shown(srv.cfg.db_path, shown,
						 sizeof(shown)),
				error);
			goto parent_out;
		}
		if (s != NULL)
			store_close(&s);
		wr = workers_run(&srv, &rc, &error);
		if (wr < 0)
			fprintf(stderr, "easd: workers: %s\n", error);
		if (wr != 0)
			goto parent_out;
	}
	/* From here on lines are written off the request path (after the
	 * signal mask: the writer thread must not take SIGTERM or SIGHUP). */
	log_writer_start();

	if (store_open(srv.cfg.db_path, &s, &error) != STORE_OK) {
		char shown[STORE_SHOWN_MAX];

		fprintf(stderr, "easd: cannot open %s: %s\n",
			store_path_shown(srv.cfg.db_path, shown, sizeof(shown)),
			error);
		goto out;
	}
	store_close(&s);
	/* before the stores of requests, deliveries and the indexer open */
	if (checkpointer_start(srv.cfg.db_path, &error) < 0) {
		fprintf(stderr, "easd: checkpointer: %s\n", error);
		goto out;
	}
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
	if (trace_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: tracing: %s\n", error);
		goto out;
	}
	if (http_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: %s\n", error);
		goto out;
	}
	if (srv.worker < 0) {
		const char *colon = strrchr(srv.cfg.listen, ':');

		printf("easd: listening on %.*s:%u\n",
		       (int)(colon - srv.cfg.listen), srv.cfg.listen,
		       srv.http_port);
		if (srv.cfg.tls_cert != NULL)
			printf("easd: https with %s\n", srv.cfg.tls_cert);
	}
	/* What must run once runs in worker 0 (workers.c says why). */
	if (workers_runs_once(&srv) && admin_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: admin listener: %s\n", error);
		goto out;
	}
	if (workers_runs_once(&srv) && outbound_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: sending: %s\n", error);
		goto out;
	}
	/* easctl deliver answers outside senders only when easd relays */
	if (workers_runs_once(&srv)) {
		struct store *ms = easd_thread_store(&srv);

		if (ms == NULL ||
		    store_meta_set(ms, "relay", srv.cfg.have_relay) != STORE_OK)
			log_warn("cannot record whether a relay is configured");
	}
	if (workers_runs_once(&srv) && indexer_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: search indexer: %s\n", error);
		goto out;
	}
	if (workers_runs_once(&srv) && lmtp_glue_start(&srv, &error) < 0) {
		fprintf(stderr, "easd: lmtp: %s\n", error);
		goto out;
	}
	if (srv.worker >= 0) {
		/* the parent says ready once every worker serves */
		log_info("worker %d ready: http port %u", srv.worker,
			 srv.http_port);
		workers_ready(&srv);
	} else {
		printf("easd: ready\n");
		fflush(stdout);
		log_info("easd ready: data %s, http %s port %u",
			 srv.cfg.data_dir, srv.cfg.listen, srv.http_port);
		/* systemd (Type=notify) learns that we serve; nothing
		 * without it */
		sd_notify(0, "READY=1");
	}
	do {
		if (sigwait(&sigs, &sig) != 0)
			break;
		if (sig == SIGHUP)
			reload(&srv);
	} while (sig != SIGINT && sig != SIGTERM);
	sd_notify(0, "STOPPING=1");
	log_info("signal %d: shutting down", sig);
	rc = 0;
out:
	if (srv.push != NULL)
		push_shutdown(srv.push);
	lmtp_glue_stop(&srv);
	admin_stop(&srv);
	http_stop(&srv.http);
	indexer_glue_stop(&srv);
	free(all_public_routes);
	trace_stop(&srv);
	outbound_glue_stop(&srv);
	standing_free(&srv.standing);
	push_free(&srv.push);
	easd_stores_close();
	checkpointer_stop();
	log_info("stopped");
	log_writer_stop();
parent_out:
	free((char *)srv.cfg.db_path);
	close(lock_fd);
early:
	log_sink_close();
	config_release(&srv.cfg);
	return rc;
}
