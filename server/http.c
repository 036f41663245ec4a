/* The HTTP layer: the only code that includes microhttpd.h. It binds the
 * listener, finds each request's route, reads the body, and calls the
 * route's handler with a struct http_request; a handler that parks gets
 * its connection suspended (no thread held) until http_resume(). One
 * access-log line per request. */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "xalloc.h"

struct http_server {
	struct http_config cfg;
	struct MHD_Daemon *daemon;
	int listen_fd;
	uint16_t port;
	char *tls_cert, *tls_key;
};

enum http_state {
	HTTP_ST_NEW = 0,
	HTTP_ST_BODY,
	HTTP_ST_PARKED,
	HTTP_ST_DONE,
};

/* One request: the public part handlers see, and ours. */
struct http_ctx {
	struct http_request req;
	struct http_server *srv;
	struct MHD_Connection *conn;
	const struct http_route *route;
	const char *uri; /* raw, with the query string */
	struct buf body;
	enum http_state state;
	bool too_large;
	uint64_t start_ms;
};

static atomic_uint_fast64_t request_counter;

#define CTX_OF(hr)                                                             \
	((struct http_ctx *)((char *)(hr)-offsetof(struct http_ctx, req)))

static const char *
remote_addr(struct arena *a, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN + 1] = "?";

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		socklen_t len = sa->sa_family == AF_INET6
					? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in);

		getnameinfo(sa, len, host, sizeof(host), NULL, 0,
			    NI_NUMERICHOST);
	}
	return arena_strdup(a, host);
}

static void *
uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	struct arena *a = arena_new(16 * 1024);
	struct http_ctx *ctx = arena_new_struct(a, struct http_ctx);
	const char *q;

	ctx->srv = srv;
	ctx->conn = conn;
	ctx->uri = arena_strdup(a, uri);
	ctx->start_ms = time_mono_ms();
	ctx->req.arena = a;
	ctx->req.ctx = srv->cfg.ctx;
	ctx->req.id = atomic_fetch_add(&request_counter, 1) + 1;
	ctx->req.status = 200;
	ctx->req.log_status = -1;
	q = strchr(ctx->uri, '?');
	ctx->req.query = q != NULL ? q + 1 : "";
	buf_init(&ctx->body, srv->cfg.max_body);
	return ctx;
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;
	struct arena *a;

	(void)cls;
	(void)conn;
	if (ctx == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    ctx->state != HTTP_ST_DONE)
		log_info("req=%llu connection ended before the response (%d)",
			 (unsigned long long)ctx->req.id, (int)toe);
	if (ctx->req.done_fn != NULL)
		ctx->req.done_fn(&ctx->req);
	buf_deinit(&ctx->body);
	a = ctx->req.arena;
	arena_free(&a);
	*con_cls = NULL;
}

const char *
http_header(struct http_request *hr, const char *name)
{
	return MHD_lookup_connection_value(CTX_OF(hr)->conn, MHD_HEADER_KIND,
					   name);
}

static void
wipe_password(void *p)
{
	explicit_bzero(p, strlen(p));
}

int
http_basic_auth(struct http_request *hr, const char **user_r,
		const char **password_r)
{
	char *pass = NULL;
	char *user =
		MHD_basic_auth_get_username_password(CTX_OF(hr)->conn, &pass);
	char *p;

	if (user == NULL || pass == NULL) {
		if (user != NULL)
			MHD_free(user);
		if (pass != NULL) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		return -1;
	}
	*user_r = arena_strdup(hr->arena, user);
	p = arena_strdup(hr->arena, pass);
	arena_add_cleanup(hr->arena, wipe_password, p);
	*password_r = p;
	explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return 0;
}

void
http_add_header(struct http_request *hr, const char *name, const char *value)
{
	struct http_header *h = arena_alloc(hr->arena, sizeof(*h));

	h->name = arena_strdup(hr->arena, name);
	h->value = arena_strdup(hr->arena, value);
	h->next = hr->headers;
	hr->headers = h;
}

void
http_set_status(struct http_request *hr, int status)
{
	hr->status = status;
	hr->resp_body = NULL;
	hr->resp_len = 0;
}

static void
log_request(struct http_ctx *ctx, size_t bytes)
{
	struct http_request *hr = &ctx->req;
	char st[24] = "";

	if (hr->log_status >= 0)
		snprintf(st, sizeof(st), " status=%d", hr->log_status);
	log_info("%s %s %s http=%d%s bytes=%zu ms=%llu",
		 hr->remote_addr != NULL ? hr->remote_addr : "?", hr->method,
		 hr->log_fields != NULL ? hr->log_fields : hr->path, hr->status,
		 st, bytes,
		 (unsigned long long)(time_mono_ms() - ctx->start_ms));
}

static enum MHD_Result
send_response(struct http_ctx *ctx)
{
	struct http_request *hr = &ctx->req;
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(
		hr->resp_len, (void *)hr->resp_body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		log_error("cannot create response");
		return MHD_NO;
	}
	if (hr->content_type != NULL && hr->resp_len > 0)
		MHD_add_response_header(resp, "Content-Type", hr->content_type);
	/* The list was built by prepending: add it in the order handlers
	 * added it. */
	{
		struct http_header *rev = NULL, *h, *next;

		for (h = hr->headers; h != NULL; h = next) {
			next = h->next;
			h->next = rev;
			rev = h;
		}
		hr->headers = rev;
		for (h = hr->headers; h != NULL; h = h->next)
			MHD_add_response_header(resp, h->name, h->value);
	}
	r = MHD_queue_response(ctx->conn, (unsigned)hr->status, resp);
	MHD_destroy_response(resp);
	ctx->state = HTTP_ST_DONE;
	log_request(ctx, hr->resp_len);
	log_ctx_set(NULL);
	return r;
}

static enum MHD_Result
send_status(struct http_ctx *ctx, int status)
{
	http_set_status(&ctx->req, status);
	return send_response(ctx);
}

static const struct http_route *
route_find(const struct http_server *srv, const char *path)
{
	for (size_t i = 0; i < srv->cfg.nroutes; i++)
		if (str_ieq(srv->cfg.routes[i].path, path))
			return &srv->cfg.routes[i];
	return NULL;
}

/* Whether method is in the comma-separated list. */
static bool
method_allowed(const char *methods, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = methods; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, method, n) == 0)
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

/* Run the handler (or its resume_fn) and act on its answer. */
static enum MHD_Result
run(struct http_ctx *ctx, http_handler_fn *fn)
{
	struct http_request *hr = &ctx->req;

	hr->resume_fn = NULL;
	hr->park_fn = NULL;
	if (fn(hr) == HTTP_DONE)
		return send_response(ctx);
	if (hr->resume_fn == NULL) {
		log_error("req=%llu parked without a resume function",
			  (unsigned long long)hr->id);
		return send_status(ctx, 500);
	}
	ctx->state = HTTP_ST_PARKED;
	MHD_suspend_connection(ctx->conn);
	if (hr->park_fn != NULL)
		hr->park_fn(hr);
	log_ctx_set(NULL);
	return MHD_YES;
}

/* Headers are in: find the route, check the method and the announced
 * size. */
static enum MHD_Result
begin(struct http_ctx *ctx, const char *url, const char *method)
{
	struct http_request *hr = &ctx->req;
	const char *cl = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
						     "Content-Length");
	int64_t n;

	hr->method = arena_strdup(hr->arena, method);
	hr->path = arena_strdup(hr->arena, url);
	hr->remote_addr = remote_addr(hr->arena, ctx->conn);
	hr->tls = ctx->srv->tls_cert != NULL;
	ctx->state = HTTP_ST_BODY;
	ctx->route = route_find(ctx->srv, url);
	if (ctx->route == NULL) {
		log_info("unknown path %s", url);
		return send_status(ctx, 404);
	}
	if (!method_allowed(ctx->route->methods, method)) {
		http_add_header(hr, "Allow", ctx->route->methods);
		return send_status(ctx, 405);
	}
	if (cl != NULL && str_to_int64(cl, &n) == 0 &&
	    (uint64_t)n > ctx->srv->cfg.max_body) {
		log_info("req=%llu body of %s bytes over the limit of %zu",
			 (unsigned long long)hr->id, cl,
			 ctx->srv->cfg.max_body);
		return send_status(ctx, 413);
	}
	return MHD_YES;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct http_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)version;
	if (ctx == NULL)
		return MHD_NO;
	switch (ctx->state) {
	case HTTP_ST_NEW:
		return begin(ctx, url, method);
	case HTTP_ST_BODY:
		if (*upload_data_size > 0) {
			if (!ctx->too_large &&
			    buf_append(&ctx->body, upload_data,
				       *upload_data_size) < 0) {
				ctx->too_large = true;
				buf_deinit(&ctx->body);
			}
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (ctx->too_large) {
			log_info("req=%llu body over the limit of %zu bytes",
				 (unsigned long long)ctx->req.id,
				 ctx->srv->cfg.max_body);
			return send_status(ctx, 413);
		}
		ctx->req.body = ctx->body.data;
		ctx->req.body_len = ctx->body.len;
		return run(ctx, ctx->route->handler);
	case HTTP_ST_PARKED:
		return run(ctx, ctx->req.resume_fn);
	case HTTP_ST_DONE:
		return MHD_YES;
	}
	return MHD_NO;
}

void
http_resume(struct http_request *hr)
{
	MHD_resume_connection(CTX_OF(hr)->conn);
}

static char *
read_file(const char *path)
{
	const char *error;
	struct buf b;
	size_t len;

	buf_init(&b, 1024 * 1024);
	if (buf_read_path(&b, path, &error) < 0) {
		log_error("%s", error);
		buf_deinit(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, &len);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

static void
server_free(struct http_server *h)
{
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	free(h->tls_cert);
	free(h->tls_key);
	free(h);
}

struct http_server *
http_start(const struct http_config *cfg, const char **error_r)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads;

	h->cfg = *cfg;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	h->listen_fd = net_listen(cfg->listen, 1024, &h->port, error_r);
	if (h->listen_fd < 0) {
		server_free(h);
		return NULL;
	}
	if (cfg->tls_cert != NULL) {
		h->tls_cert = read_file(cfg->tls_cert);
		h->tls_key = read_file(cfg->tls_key);
		if (h->tls_cert == NULL || h->tls_key == NULL) {
			*error_r = "cannot read --tls-cert/--tls-key";
			server_free(h);
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}
	if (h->tls_cert != NULL)
		h->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, access_handler, h,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
			MHD_OPTION_THREAD_POOL_SIZE, threads,
			MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h,
			MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
			MHD_OPTION_CONNECTION_TIMEOUT, 600u,
			MHD_OPTION_CONNECTION_LIMIT, 60000u,
			MHD_OPTION_HTTPS_MEM_CERT, h->tls_cert,
			MHD_OPTION_HTTPS_MEM_KEY, h->tls_key,
			MHD_OPTION_HTTPS_PRIORITIES,
			cfg->tls_priority != NULL ? cfg->tls_priority
						  : HTTP_TLS_PRIORITY,
			MHD_OPTION_END);
	else
		h->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, access_handler, h,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
			MHD_OPTION_THREAD_POOL_SIZE, threads,
			MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h,
			MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
			MHD_OPTION_CONNECTION_TIMEOUT, 600u,
			MHD_OPTION_CONNECTION_LIMIT, 60000u, MHD_OPTION_END);
	if (h->daemon == NULL) {
		*error_r = h->tls_cert != NULL
				   ? "libmicrohttpd could not start (is "
				     "--tls-priority a valid GnuTLS priority "
				     "string?)"
				   : "libmicrohttpd could not start";
		server_free(h);
		return NULL;
	}
	return h;
}

uint16_t
http_port(const struct http_server *h)
{
	return h != NULL ? h->port : 0;
}

void
http_stop(struct http_server **hp)
{
	struct http_server *h = *hp;

	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	server_free(h);
	*hp = NULL;
}
