/* The HTTP front end: the only code that includes microhttpd.h. It turns
 * libmicrohttpd connections into struct eas_req, runs them through the
 * dispatcher, and parks (suspends) connections of long-polling commands so
 * a waiting Ping holds no thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

#define EAS_PATH "/Microsoft-Server-ActiveSync"
#define SERVER_VERSION "15.1"
#define PROTOCOL_VERSIONS "12.0,12.1,14.0,14.1,16.0,16.1"

struct http_server {
	struct MHD_Daemon *daemon;
	int listen_fd;
	char *tls_cert, *tls_key;
};

enum http_state {
	HTTP_ST_NEW = 0,
	HTTP_ST_BODY,
	HTTP_ST_PARKED,
	HTTP_ST_DONE,
};

struct http_ctx {
	struct eas_req req;
	struct MHD_Connection *conn;
	const char *uri; /* raw, with the query string */
	struct buf body;
	enum http_state state;
	bool too_large;
	uint64_t start_ms;
};

static atomic_uint_fast64_t request_counter;

void
eas_req_add_header(struct eas_req *req, const char *name, const char *value)
{
	struct eas_header *h = arena_alloc(req->arena, sizeof(*h));

	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	h->next = req->headers;
	req->headers = h;
}

static void *
uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct arena *a = arena_new(16 * 1024);
	struct http_ctx *ctx = arena_new_struct(a, struct http_ctx);

	ctx->req.arena = a;
	ctx->req.srv = cls;
	ctx->req.http_status = 200;
	ctx->conn = conn;
	ctx->uri = arena_strdup(a, uri);
	ctx->start_ms = time_mono_ms();
	ctx->req.id = atomic_fetch_add(&request_counter, 1) + 1;
	buf_init(&ctx->body, ((struct easd *)cls)->cfg.max_body);
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
	if (ctx->req.waiter != NULL)
		push_cancel(ctx->req.srv->push, ctx->req.waiter);
	buf_deinit(&ctx->body);
	a = ctx->req.arena;
	arena_free(&a);
	*con_cls = NULL;
}

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

static const char *
header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static void
log_request(struct http_ctx *ctx, const char *method, size_t bytes)
{
	struct eas_req *req = &ctx->req;

	log_info("%s %s user=%s device=%s type=%s cmd=%s v=%s http=%d "
		 "status=%d bytes=%zu ms=%llu",
		 req->remote_addr != NULL ? req->remote_addr : "?", method,
		 req->account.login != NULL
			 ? req->account.login
			 : (req->user != NULL ? req->user : "-"),
		 req->device_id != NULL ? req->device_id : "-",
		 req->device_type != NULL ? req->device_type : "-",
		 req->cmd != NULL ? req->cmd : "-",
		 req->version_str != NULL ? req->version_str : "-",
		 req->http_status, req->eas_status, bytes,
		 (unsigned long long)(time_mono_ms() - ctx->start_ms));
}

static enum MHD_Result
send_response(struct http_ctx *ctx, const char *method,
	      const struct wbxml_node *tree)
{
	struct eas_req *req = &ctx->req;
	struct MHD_Response *resp;
	struct buf out;
	const void *data = req->resp_body;
	size_t len = req->resp_len;
	const char *ctype = req->resp_content_type;
	enum MHD_Result r;

	buf_init(&out, 0);
	if (tree != NULL) {
		if (wbxml_encode(tree, &out) < 0) {
			log_error("response could not be encoded");
			req->http_status = 500;
			data = NULL;
			len = 0;
		} else {
			data = out.data;
			len = out.len;
			ctype = "application/vnd.ms-sync.wbxml";
			if (log_enabled(LOG_DEBUG)) {
				struct buf xml;

				buf_init(&xml, 64 * 1024);
				wbxml_to_xml(tree, &xml);
				log_debug("response:\n%.*s", (int)xml.len,
					  (const char *)xml.data);
				buf_deinit(&xml);
			}
		}
	}
	resp = MHD_create_response_from_buffer(len, (void *)data,
					       MHD_RESPMEM_MUST_COPY);
	buf_deinit(&out);
	if (resp == NULL) {
		log_error("cannot create response");
		return MHD_NO;
	}
	if (ctype != NULL && len > 0)
		MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "MS-Server-ActiveSync", SERVER_VERSION);
	MHD_add_response_header(resp, "Cache-Control", "private");
	for (struct eas_header *h = req->headers; h != NULL; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	r = MHD_queue_response(ctx->conn, (unsigned)req->http_status, resp);
	MHD_destroy_response(resp);
	ctx->state = HTTP_ST_DONE;
	log_request(ctx, method, len);
	log_ctx_set(NULL);
	return r;
}

static enum MHD_Result
send_status(struct http_ctx *ctx, const char *method, int status)
{
	ctx->req.http_status = status;
	ctx->req.resp_body = NULL;
	ctx->req.resp_len = 0;
	return send_response(ctx, method, NULL);
}

/* Read the query: plain (Cmd=...&User=...) or base64 binary form
 * (MS-ASHTTP 2.2.1.1.1.1). */
int http_parse_query(struct eas_req *req, const char *query);

static void
set_log_ctx(struct eas_req *req)
{
	char ctx[256];

	snprintf(ctx, sizeof(ctx), "req=%llu user=%s dev=%s cmd=%s",
		 (unsigned long long)req->id,
		 req->account.login != NULL ? req->account.login : "-",
		 req->device_id != NULL ? req->device_id : "-",
		 req->cmd != NULL ? req->cmd : "-");
	log_ctx_set(ctx);
}

static int
authenticate(struct http_ctx *ctx)
{
	struct eas_req *req = &ctx->req;
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(ctx->conn, &pass);
	int r;

	if (user == NULL || pass == NULL) {
		if (user != NULL)
			MHD_free(user);
		if (pass != NULL)
			MHD_free(pass);
		return -1;
	}
	r = auth_check(req, user, pass);
	explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return r;
}

static enum MHD_Result
send_unauthorized(struct http_ctx *ctx, const char *method, int why)
{
	struct eas_req *req = &ctx->req;

	if (why == -2) {
		eas_req_add_header(req, "Retry-After", "60");
		return send_status(ctx, method, 503);
	}
	eas_req_add_header(req, "WWW-Authenticate",
			   "Basic realm=\"ActiveSync\", charset=\"UTF-8\"");
	return send_status(ctx, method, 401);
}

static enum MHD_Result
handle_options(struct http_ctx *ctx, const char *method)
{
	struct eas_req *req = &ctx->req;

	eas_req_add_header(req, "Allow", "OPTIONS,POST");
	eas_req_add_header(req, "Public", "OPTIONS,POST");
	eas_req_add_header(req, "MS-ASProtocolVersions", PROTOCOL_VERSIONS);
	eas_req_add_header(req, "MS-ASProtocolCommands", eas_command_list());
	return send_status(ctx, method, 200);
}

static enum MHD_Result
finish(struct http_ctx *ctx, const char *method, enum eas_cmd_result r,
       struct wbxml_node *out)
{
	switch (r) {
	case EAS_CMD_OK:
		return send_response(ctx, method, out);
	case EAS_CMD_PARKED:
		ctx->state = HTTP_ST_PARKED;
		MHD_suspend_connection(ctx->conn);
		/* Arming after the suspension: a wake-up can only resume a
		 * connection that is already suspended. */
		push_arm(ctx->req.srv->push, ctx->req.waiter);
		log_ctx_set(NULL);
		return MHD_YES;
	case EAS_CMD_ERROR:
		break;
	}
	if (ctx->req.http_status == 200)
		ctx->req.http_status = 500;
	return send_response(ctx, method, NULL);
}

static enum MHD_Result
process(struct http_ctx *ctx, const char *url, const char *method)
{
	struct eas_req *req = &ctx->req;
	const char *q = strchr(ctx->uri, '?');
	struct wbxml_node *out = NULL;
	enum eas_cmd_result r;
	int a;

	req->remote_addr = remote_addr(req->arena, ctx->conn);
	req->user_agent = header(ctx->conn, "User-Agent");
	req->host = header(ctx->conn, "Host");
	req->tls = req->srv->cfg.tls_cert != NULL;
	req->content_type = header(ctx->conn, "Content-Type");
	req->body = ctx->body.data;
	req->body_len = ctx->body.len;

	if (str_has_iprefix(url, "/autodiscover/autodiscover.xml") &&
	    strlen(url) == strlen("/autodiscover/autodiscover.xml")) {
		if (strcmp(method, "POST") != 0)
			return send_status(ctx, method, 405);
		a = authenticate(ctx);
		if (a < 0)
			return send_unauthorized(ctx, method, a);
		req->cmd = "Autodiscover";
		set_log_ctx(req);
		autodiscover_handle(req);
		return send_response(ctx, method, NULL);
	}
	if (!str_ieq(url, EAS_PATH)) {
		log_info("unknown path %s", url);
		return send_status(ctx, method, 404);
	}
	if (strcmp(method, "OPTIONS") == 0) {
		a = authenticate(ctx);
		if (a < 0)
			return send_unauthorized(ctx, method, a);
		return handle_options(ctx, method);
	}
	if (strcmp(method, "POST") != 0) {
		eas_req_add_header(req, "Allow", "OPTIONS,POST");
		return send_status(ctx, method, 405);
	}
	if (http_parse_query(req, q != NULL ? q + 1 : "") < 0)
		return send_status(ctx, method, 400);
	if (req->version_str == NULL)
		req->version_str = header(ctx->conn, "MS-ASProtocolVersion");
	if (!req->policy_key_given) {
		const char *pk = header(ctx->conn, "X-MS-PolicyKey");

		if (pk != NULL && *pk != '\0') {
			req->policy_key_given =
				str_to_uint32(pk, &req->policy_key) == 0;
			if (!req->policy_key_given) {
				log_info("malformed X-MS-PolicyKey");
				req->policy_key_given = true;
				req->policy_key = 0;
			}
		}
	}
	if (!req->accept_multipart) {
		const char *mp = header(ctx->conn, "MS-ASAcceptMultiPart");

		req->accept_multipart = mp != NULL && str_ieq(mp, "T");
	}
	a = authenticate(ctx);
	if (a < 0)
		return send_unauthorized(ctx, method, a);
	set_log_ctx(req);
	r = eas_dispatch(req, &out);
	return finish(ctx, method, r, out);
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct http_ctx *ctx = *con_cls;
	struct easd *srv = cls;

	(void)version;
	if (ctx == NULL)
		return MHD_NO;
	switch (ctx->state) {
	case HTTP_ST_NEW: {
		const char *cl = header(conn, "Content-Length");
		int64_t n;

		ctx->state = HTTP_ST_BODY;
		if (cl != NULL && str_to_int64(cl, &n) == 0 &&
		    (uint64_t)n > srv->cfg.max_body) {
			log_info("req=%llu body of %s bytes over the limit "
				 "of %zu",
				 (unsigned long long)ctx->req.id, cl,
				 srv->cfg.max_body);
			return send_status(ctx, method, 413);
		}
		return MHD_YES;
	}
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
				 srv->cfg.max_body);
			return send_status(ctx, method, 413);
		}
		ctx->req.store = easd_thread_store(srv);
		if (ctx->req.store == NULL)
			return send_status(ctx, method, 503);
		{
			enum MHD_Result ret;

			/* One read transaction for the request's reads (auth,
			 * device, policy, a no-change answer); any write ends
			 * it first. */
			store_snapshot_begin(ctx->req.store);
			ret = process(ctx, url, method);
			store_snapshot_end(ctx->req.store);
			return ret;
		}
	case HTTP_ST_PARKED: {
		struct wbxml_node *out = NULL;
		struct push_waiter *fired;
		enum eas_cmd_result r;

		/* Resumed: the waiter fired (change, timeout, superseded or
		 * shutdown). Build the answer on this thread. */
		ctx->req.store = easd_thread_store(srv);
		set_log_ctx(&ctx->req);
		if (ctx->req.store == NULL)
			return send_status(ctx, method, 503);
		fired = ctx->req.waiter;
		store_snapshot_begin(ctx->req.store);
		r = ctx->req.resume_fn(&ctx->req, &out);
		store_snapshot_end(ctx->req.store);
		/* The fired waiter is answered here, unless it is parked again
		 * (a wake-up that did not concern this device): push_arm()
		 * then takes it back. */
		if (fired != NULL &&
		    (r != EAS_CMD_PARKED || ctx->req.waiter != fired))
			push_cancel(srv->push, fired);
		if (r != EAS_CMD_PARKED) {
			if (ctx->req.waiter != NULL && ctx->req.waiter != fired)
				push_cancel(srv->push, ctx->req.waiter);
			ctx->req.waiter = NULL;
		} else if (ctx->req.waiter == NULL) {
			log_error("handler parked without a waiter");
			r = EAS_CMD_ERROR;
		}
		return finish(ctx, method, r, out);
	}
	case HTTP_ST_DONE:
		return MHD_YES;
	}
	return MHD_NO;
}

void
http_wake(struct eas_req *req)
{
	struct http_ctx *ctx = (struct http_ctx *)req;

	MHD_resume_connection(ctx->conn);
}

static int
parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len_r)
{
	char host[256];
	const char *colon;
	struct addrinfo hints, *res = NULL;
	int r;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec - 1) >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(host[0] != '\0' ? host : NULL, colon + 1, &hints, &res);
	if (r != 0 || res == NULL)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len_r = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Bind the listening socket ourselves, so that port 0 works and the bound
 * port can be reported. */
int http_listen_socket(const char *spec, uint16_t *port_r,
		       const char **error_r);
int
http_listen_socket(const char *spec, uint16_t *port_r, const char **error_r)
{
	static _Thread_local char err[256];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_listen(spec, &ss, &len) < 0) {
		snprintf(err, sizeof(err),
			 "bad listen address '%s' "
			 "(want ADDR:PORT or [ADDR]:PORT)",
			 spec);
		*error_r = err;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		close(fd);
		goto fail;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port_r = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	snprintf(err, sizeof(err), "cannot listen on %s: %s", spec,
		 strerror(errno));
	*error_r = err;
	return -1;
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

int
http_start(struct easd *srv, const char **error_r)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned threads = srv->cfg.threads;

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	h->listen_fd =
		http_listen_socket(srv->cfg.listen, &srv->http_port, error_r);
	if (h->listen_fd < 0) {
		free(h);
		return -1;
	}
	if (srv->cfg.tls_cert != NULL) {
		h->tls_cert = read_file(srv->cfg.tls_cert);
		h->tls_key = read_file(srv->cfg.tls_key);
		if (h->tls_cert == NULL || h->tls_key == NULL) {
			*error_r = "cannot read --tls-cert/--tls-key";
			close(h->listen_fd);
			free(h->tls_cert);
			free(h->tls_key);
			free(h);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	if (h->tls_cert != NULL)
		h->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, access_handler, srv,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
			MHD_OPTION_THREAD_POOL_SIZE, threads,
			MHD_OPTION_URI_LOG_CALLBACK, uri_logger, srv,
			MHD_OPTION_NOTIFY_COMPLETED, request_completed, srv,
			MHD_OPTION_CONNECTION_TIMEOUT, 600u,
			MHD_OPTION_CONNECTION_LIMIT, 60000u,
			MHD_OPTION_HTTPS_MEM_CERT, h->tls_cert,
			MHD_OPTION_HTTPS_MEM_KEY, h->tls_key, MHD_OPTION_END);
	else
		h->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, access_handler, srv,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
			MHD_OPTION_THREAD_POOL_SIZE, threads,
			MHD_OPTION_URI_LOG_CALLBACK, uri_logger, srv,
			MHD_OPTION_NOTIFY_COMPLETED, request_completed, srv,
			MHD_OPTION_CONNECTION_TIMEOUT, 600u,
			MHD_OPTION_CONNECTION_LIMIT, 60000u, MHD_OPTION_END);
	if (h->daemon == NULL) {
		*error_r = "libmicrohttpd could not start";
		close(h->listen_fd);
		free(h->tls_cert);
		free(h->tls_key);
		free(h);
		return -1;
	}
	srv->http = h;
	return 0;
}

void
http_stop(struct easd *srv)
{
	struct http_server *h = srv->http;

	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	close(h->listen_fd);
	free(h->tls_cert);
	free(h->tls_key);
	free(h);
	srv->http = NULL;
}
