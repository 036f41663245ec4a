/* The admin listener (--admin-listen): /healthz and /metrics in the
 * Prometheus text format, with the gauges read at each scrape, and the
 * admin pages (server/web). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http.h"
#include "metrics.h"
#include "push.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "version.h"
#include "web.h"
#include "xalloc.h"

static void
help(struct buf *out, const char *name, const char *type, const char *text)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static long long
file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

void
metrics_render(struct easd *srv, struct buf *out)
{
	struct store *s = easd_thread_store(srv);
	int64_t devices = -1, queue = -1;

	help(out, "easd_build_info", "gauge", "The running version.");
	buf_printf(out, "easd_build_info{version=\"%s\"} 1\n", EASD_VERSION);
	metrics_render_counters(out);

	help(out, "easd_parked_requests", "gauge",
	     "Pings and Syncs waiting for a change now.");
	buf_printf(out, "easd_parked_requests %zu\n", metrics_parked_now());
	if (s != NULL && store_devices_seen_since(s, time_now() - 3600,
						  &devices) != STORE_OK)
		devices = -1;
	if (s != NULL && store_outbound_count(s, &queue) != STORE_OK)
		queue = -1;
	help(out, "easd_devices_active", "gauge",
	     "Devices that made a request in the last hour.");
	if (devices >= 0)
		buf_printf(out, "easd_devices_active %lld\n",
			   (long long)devices);
	help(out, "easd_outbound_queue", "gauge",
	     "Recipients waiting in the outbound queue.");
	if (queue >= 0)
		buf_printf(out, "easd_outbound_queue %lld\n", (long long)queue);
	help(out, "easd_store_errors_total", "counter",
	     "Database statements that failed (not busy, not an answer).");
	buf_printf(out, "easd_store_errors_total %llu\n",
		   (unsigned long long)store_error_count());
	help(out, "easd_database_bytes", "gauge",
	     "Size of the database file and its write-ahead log.");
	{
		char wal[4096];

		snprintf(wal, sizeof(wal), "%s-wal", srv->cfg.db_path);
		buf_printf(out, "easd_database_bytes %lld\n",
			   file_bytes(srv->cfg.db_path) + file_bytes(wal));
	}
}

static enum http_result
healthz(struct http_request *hr)
{
	struct easd *srv = hr->ctx;
	struct store *s = easd_thread_store(srv);
	int64_t v;
	bool ok = s != NULL && store_meta_get(s, "relay", &v) == STORE_OK;

	hr->status = ok ? 200 : 503;
	hr->content_type = "text/plain";
	hr->resp_body = (const uint8_t *)(ok ? "ok\n" : "store unavailable\n");
	hr->resp_len = strlen((const char *)hr->resp_body);
	return HTTP_DONE;
}

static enum http_result
metrics(struct http_request *hr)
{
	struct easd *srv = hr->ctx;
	struct buf out;

	buf_init(&out, 4 * 1024 * 1024);
	metrics_render(srv, &out);
	hr->status = 200;
	hr->content_type = "text/plain; version=0.0.4";
	hr->resp_body = (const uint8_t *)arena_strndup(
		hr->arena, (const char *)out.data, out.len);
	hr->resp_len = out.len;
	buf_deinit(&out);
	return HTTP_DONE;
}

/* /parked: one line per waiting request, "LOGIN DEVICE CMD SECONDS-LEFT",
 * after a first line "parked TOTAL" (at most 1000 are listed). */
static enum http_result
parked(struct http_request *hr)
{
	struct easd *srv = hr->ctx;
	struct push_parked *list = NULL;
	size_t n = 0, total = 0;
	struct buf out;

	if (srv->push != NULL)
		push_list(srv->push, hr->arena, 1000, &list, &n, &total);
	buf_init(&out, 4 * 1024 * 1024);
	buf_printf(&out, "parked %zu\n", total);
	for (size_t i = 0; i < n; i++)
		buf_printf(&out, "%s %s %s %llu\n", list[i].login,
			   list[i].device_id, list[i].cmd,
			   (unsigned long long)(list[i].remaining_ms / 1000));
	hr->status = 200;
	hr->content_type = "text/plain";
	hr->resp_body = (const uint8_t *)arena_strndup(
		hr->arena, (const char *)out.data, out.len);
	hr->resp_len = out.len;
	buf_deinit(&out);
	return HTTP_DONE;
}

static const struct http_route admin_routes[] = {
	{"/healthz", "GET", NULL, healthz},
	{"/metrics", "GET", NULL, metrics},
	{"/parked", "GET", NULL, parked},
};

/* The listener's table: the routes above, then the admin pages. */
static struct http_route *all_routes;

int
admin_start(struct easd *srv, const char **error_r)
{
	struct http_config hc = {
		.listen = srv->cfg.admin_listen,
		.threads = 2,
		.max_body = 64 * 1024, /* the admin pages' forms */
		.max_connections = 64,
		.max_per_addr = 0,
		.max_header = 16 * 1024,
		.idle_timeout = 30,
		.trusted = srv->cfg.trusted,
		.ntrusted = srv->cfg.ntrusted,
		.nroutes = N_ELEMENTS(admin_routes) + web_admin_nroutes,
		.ctx = srv,
	};

	if (srv->cfg.admin_listen == NULL)
		return 0;
	all_routes = xcalloc(hc.nroutes, sizeof(*all_routes));
	memcpy(all_routes, admin_routes, sizeof(admin_routes));
	memcpy(all_routes + N_ELEMENTS(admin_routes), web_admin_routes,
	       web_admin_nroutes * sizeof(*all_routes));
	hc.routes = all_routes;
	srv->admin = http_start(&hc, error_r);
	if (srv->admin == NULL)
		return -1;
	{
		const char *colon = strrchr(srv->cfg.admin_listen, ':');

		printf("easd: admin on %.*s:%u\n",
		       (int)(colon - srv->cfg.admin_listen),
		       srv->cfg.admin_listen, http_port(srv->admin));
	}
	return 0;
}

void
admin_stop(struct easd *srv)
{
	http_stop(&srv->admin);
	free(all_routes);
	all_routes = NULL;
}
