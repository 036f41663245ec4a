/* The two routes of the ActiveSync server: /Microsoft-Server-ActiveSync
 * (OPTIONS and the command POSTs, through the dispatcher) and Autodiscover.
 * Each checks the credentials when the headers arrive, before any of the
 * body is read, and sets the body limit of the command; then it turns the
 * http_request into the eas_req command handlers see, runs it inside one
 * read snapshot of this thread's store, and hands a parked request's
 * waiter to push once the HTTP layer has suspended it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "push.h"
#include "server.h"
#include "trace.h"
#include "util.h"

#define SERVER_VERSION "15.1"
#define PROTOCOL_VERSIONS "12.0,12.1,14.0,14.1,16.0,16.1"

void
eas_req_add_header(struct eas_req *req, const char *name, const char *value)
{
	struct eas_header *h = arena_alloc(req->arena, sizeof(*h));

	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	h->next = req->headers;
	req->headers = h;
}

/* The thread's scratch arena, lent to one request at a time and emptied
 * when it gives it back. Not one a request: a block freed as a Ping parks
 * is a hole between what the parked ones keep, which a 100,000-Ping storm
 * fills with holes that malloc can neither reuse nor give back. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void
scratch_free(void *p)
{
	struct arena *a = p;

	arena_free(&a);
}

static void
scratch_key_make(void)
{
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		eas_panic("cannot make the scratch arenas' key");
}

struct arena *
eas_req_scratch(struct eas_req *req)
{
	struct arena *a;

	if (req->scratch != NULL)
		return req->scratch;
	pthread_once(&scratch_once, scratch_key_make);
	a = pthread_getspecific(scratch_key);
	if (a == NULL) {
		a = arena_new_small(2 * 1024);
		pthread_setspecific(scratch_key, a);
	}
	req->scratch = a;
	return a;
}

void
eas_req_scratch_done(struct eas_req *req)
{
	if (req->scratch == NULL)
		return;
	arena_reset(req->scratch);
	req->scratch = NULL;
}

void
eas_req_park_small(struct eas_req *req)
{
	eas_req_scratch_done(req);
	http_release_body(req->http);
	req->body = NULL;
	req->body_len = 0;
}

static struct eas_req *
req_new(struct http_request *hr)
{
	struct eas_req *req = arena_new_struct(hr->arena, struct eas_req);

	req->arena = hr->arena;
	req->http = hr;
	req->srv = hr->ctx;
	req->id = hr->id;
	req->http_status = 200;
	req->remote_addr = hr->remote_addr;
	req->user_agent = http_header(hr, "User-Agent");
	req->host = hr->host;
	req->tls = strcmp(hr->scheme, "https") == 0;
	req->content_type = http_header(hr, "Content-Type");
	hr->handler_ctx = req;
	return req;
}

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

/* The eas_req's answer into the HTTP response: a tree is encoded as
 * WBXML, a raw body passes as it is. */
static enum http_result
respond(struct eas_req *req, const struct wbxml_node *tree)
{
	struct http_request *hr = req->http;
	struct buf out;

	hr->status = req->http_status;
	hr->resp_body = req->resp_body;
	hr->resp_len = req->resp_len;
	hr->content_type = req->resp_content_type;
	if (tree != NULL) {
		buf_init(&out, 0);
		if (wbxml_encode(tree, &out) < 0) {
			log_error("response could not be encoded");
			hr->status = 500;
			hr->resp_body = NULL;
			hr->resp_len = 0;
		} else {
			/* the encoded bytes are the request's from here */
			hr->resp_len = out.len;
			hr->resp_body = (const uint8_t *)"";
			if (out.len > 0) {
				hr->resp_body = buf_steal(&out, &hr->resp_len);
				arena_add_cleanup(req->arena, free,
						  (void *)hr->resp_body);
			}
			hr->content_type = "application/vnd.ms-sync.wbxml";
			trace_dump(req, "response", tree);
			if (log_enabled(LOG_DEBUG)) {
				struct buf xml;

				buf_init(&xml, 64 * 1024);
				wbxml_to_xml(tree, &xml);
				log_block(LOG_DEBUG, "response",
					  (const char *)xml.data, xml.len);
				buf_deinit(&xml);
			}
		}
		buf_deinit(&out);
	}
	http_add_header(hr, "MS-Server-ActiveSync", SERVER_VERSION);
	http_add_header(hr, "Cache-Control", "private");
	for (struct eas_header *h = req->headers; h != NULL; h = h->next)
		http_add_header(hr, h->name, h->value);
	if (log_access_enabled()) {
		static const char *const names[] = {
			"user=", " device=", " type=", " cmd=", " v="};
		const char *v[] = {req->account.login != NULL
					   ? req->account.login
					   : req->user,
				   req->device_id, req->device_type, req->cmd,
				   req->version_str};
		char line[768];
		size_t o = 0;

		for (size_t i = 0; i < N_ELEMENTS(v); i++) {
			o = str_put(line, o, sizeof(line), names[i]);
			o = str_put(line, o, sizeof(line),
				    v[i] != NULL ? v[i] : "-");
		}
		hr->log_fields = arena_strdup(req->arena, line);
	}
	hr->log_status = req->eas_status;
	return HTTP_DONE;
}

static enum http_result
respond_status(struct eas_req *req, int status)
{
	req->http_status = status;
	req->resp_body = NULL;
	req->resp_len = 0;
	return respond(req, NULL);
}

/* The database cannot be opened (logged by easd_thread_store): the
 * device is asked to come back later. */
static enum http_result
store_unavailable(struct eas_req *req)
{
	eas_req_add_header(req, "Retry-After", EAS_RETRY_STORE);
	return respond_status(req, 503);
}

/* Basic credentials against the store: 0, -1 (401 after *wait_ms_r), -2
 * (throttled for *wait_ms_r). */
static int
authenticate(struct eas_req *req, uint64_t *wait_ms_r)
{
	const char *user, *pass;

	*wait_ms_r = 0;
	if (http_basic_auth(req->http, &user, &pass) < 0)
		return -1;
	return auth_check(req, user, pass, wait_ms_r);
}

static enum http_result
answer_now(struct http_request *hr)
{
	(void)hr;
	return HTTP_DONE; /* the response was set before the delay */
}

/* 401 (delayed for a pair that keeps failing: the connection is parked,
 * no thread waits), or 503 with Retry-After while it is locked. */
static enum http_result
unauthorized(struct eas_req *req, int why, uint64_t wait_ms)
{
	struct http_request *hr = req->http;
	enum http_result r;

	if (why == -2) {
		char s[24];

		snprintf(s, sizeof(s), "%llu",
			 (unsigned long long)(wait_ms + 999) / 1000);
		eas_req_add_header(req, "Retry-After", s);
		return respond_status(req, 503);
	}
	eas_req_add_header(req, "WWW-Authenticate",
			   "Basic realm=\"ActiveSync\", charset=\"UTF-8\"");
	r = respond_status(req, 401);
	if (wait_ms == 0)
		return r;
	hr->park_ms = wait_ms;
	hr->resume_fn = answer_now;
	return HTTP_PARKED;
}

/* --- parking (push) --- */

static void
park_hook(struct http_request *hr)
{
	struct eas_req *req = hr->handler_ctx;

	/* The device's older parked request in another process (worker or
	 * node) ends; here push_arm ends it. Once: a request parked again
	 * after a wake-up that did not concern it is not newer. */
	if (!req->announced && req->store != NULL) {
		struct store_change c = {
			.what = STORE_CHANGED_PARKED,
			.account_id = req->account.id,
			.id = req->device.id,
		};

		req->announced = true;
		if (store_announce(req->store, &c) != STORE_OK)
			log_warn("cannot tell the other processes that "
				 "device %s parked",
				 req->device_id);
	}
	/* Arming after the suspension: a wake-up can only resume a
	 * connection that is already suspended. */
	push_arm(req->srv->push, req->waiter);
}

static void
done_hook(struct http_request *hr)
{
	struct eas_req *req = hr->handler_ctx;

	if (req != NULL && req->waiter != NULL)
		push_cancel(req->srv->push, req->waiter);
}

static enum http_result eas_resume(struct http_request *hr);

static enum http_result
finish(struct eas_req *req, enum eas_cmd_result r, struct wbxml_node *out)
{
	struct http_request *hr = req->http;

	switch (r) {
	case EAS_CMD_OK:
		return respond(req, out);
	case EAS_CMD_PARKED:
		hr->resume_fn = eas_resume;
		hr->park_fn = park_hook;
		return HTTP_PARKED;
	case EAS_CMD_ERROR:
		break;
	}
	if (req->http_status == 200)
		req->http_status = 500;
	return respond(req, NULL);
}

/* Resumed: the waiter fired (change, timeout, superseded or shutdown).
 * Build the answer on this thread. */
static enum http_result
eas_resume(struct http_request *hr)
{
	struct eas_req *req = hr->handler_ctx;
	struct push_waiter *fired = req->waiter;
	struct wbxml_node *out = NULL;
	enum eas_cmd_result r;

	req->store = easd_thread_store(req->srv);
	set_log_ctx(req);
	if (fired != NULL && fired->reason == PUSH_LIMIT) {
		/* MS-ASHTTP 503: the device waits and pings again; the
		 * account's other devices keep their push. */
		push_cancel(req->srv->push, fired);
		req->waiter = NULL;
		log_warn("account %s already has %u parked requests "
			 "(--max-parked-per-account): answered 503",
			 req->account.login,
			 req->srv->cfg.max_parked_per_account);
		eas_req_add_header(req, "Retry-After", EAS_RETRY_PARKED);
		return respond_status(req, 503);
	}
	if (req->store == NULL)
		return store_unavailable(req);
	req->standing_gen = standing_gen(req->srv->standing);
	store_snapshot_begin(req->store);
	r = req->resume_fn(req, &out);
	eas_req_scratch_done(req);
	store_snapshot_end(req->store);
	/* The fired waiter is answered here, unless it is parked again (a
	 * wake-up that did not concern this device): push_arm() then takes
	 * it back. */
	if (fired != NULL && (r != EAS_CMD_PARKED || req->waiter != fired))
		push_cancel(req->srv->push, fired);
	if (r != EAS_CMD_PARKED) {
		if (req->waiter != NULL && req->waiter != fired)
			push_cancel(req->srv->push, req->waiter);
		req->waiter = NULL;
	} else if (req->waiter == NULL) {
		log_error("handler parked without a waiter");
		r = EAS_CMD_ERROR;
	}
	return finish(req, r, out);
}

/* --- the ActiveSync endpoint --- */

static enum http_result
options(struct eas_req *req)
{
	eas_req_add_header(req, "Allow", "OPTIONS,POST");
	eas_req_add_header(req, "Public", "OPTIONS,POST");
	eas_req_add_header(req, "MS-ASProtocolVersions", PROTOCOL_VERSIONS);
	eas_req_add_header(req, "MS-ASProtocolCommands", eas_command_list());
	return respond_status(req, 200);
}

/* The parts of the request that come in headers rather than the query
 * (MS-ASHTTP 2.2.1.1.2). */
static void
read_headers(struct eas_req *req)
{
	struct http_request *hr = req->http;

	if (req->version_str == NULL)
		req->version_str = http_header(hr, "MS-ASProtocolVersion");
	if (!req->policy_key_given) {
		const char *pk = http_header(hr, "X-MS-PolicyKey");

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
		const char *mp = http_header(hr, "MS-ASAcceptMultiPart");

		req->accept_multipart = mp != NULL && str_ieq(mp, "T");
	}
}

/* Commands whose bodies are large by nature (items with pictures and
 * attachments, a whole mail); every other body is small. */
static bool
large_body_command(const char *cmd)
{
	static const char *const large[] = {"Sync", "SendMail", "SmartReply",
					    "SmartForward"};

	for (size_t i = 0; cmd != NULL && i < N_ELEMENTS(large); i++)
		if (str_ieq(cmd, large[i]))
			return true;
	return false;
}

static size_t
small_body_limit(const struct easd_config *cfg)
{
	return EAS_MIN(cfg->max_body_small, cfg->max_body);
}

/* When the headers are in, before any of the body is read: the query,
 * the credentials, and the body limit of the command. A request that is
 * refused here never has its body read (http.h: the headers hook). */
enum http_result
eas_headers(struct http_request *hr)
{
	struct eas_req *req = req_new(hr);
	uint64_t wait_ms;
	int a;

	hr->done_fn = done_hook;
	req->store = easd_thread_store(req->srv);
	if (req->store == NULL)
		return store_unavailable(req);
	if (strcmp(hr->method, "OPTIONS") != 0 &&
	    eas_parse_query(req, hr->query) < 0)
		return respond_status(req, 400);
	if (strcmp(hr->method, "OPTIONS") == 0) {
		hr->metric_name = "OPTIONS";
	} else {
		const struct eas_command *c = eas_command_find(req->cmd);

		/* the table's own string: clients cannot add names */
		hr->metric_name = c != NULL ? c->name : NULL;
	}
	log_ctx_set(arena_printf(req->arena, "req=%llu",
				 (unsigned long long)req->id));
	/* Without a snapshot: a credential verified recently needs no read
	 * here (auth_finish does it in the command's snapshot). */
	a = authenticate(req, &wait_ms);
	if (a < 0)
		return unauthorized(req, a, wait_ms);
	hr->max_body = large_body_command(req->cmd)
			       ? req->srv->cfg.max_body
			       : small_body_limit(&req->srv->cfg);
	return HTTP_CONTINUE;
}

/* The body is in; the request was authenticated by eas_headers. */
enum http_result
eas_endpoint(struct http_request *hr)
{
	struct eas_req *req = hr->handler_ctx;
	struct wbxml_node *out = NULL;
	enum eas_cmd_result cr;
	enum http_result r;
	uint64_t wait_ms;

	req->body = hr->body;
	req->body_len = hr->body_len;
	req->store = easd_thread_store(req->srv);
	if (req->store == NULL)
		return store_unavailable(req);
	/* One read transaction for the request's reads (account, device,
	 * policy, a no-change answer); any write ends it first. */
	req->standing_gen = standing_gen(req->srv->standing);
	store_snapshot_begin(req->store);
	if (auth_finish(req, &wait_ms) < 0) {
		r = unauthorized(req, -1, wait_ms);
	} else if (strcmp(hr->method, "OPTIONS") == 0) {
		r = options(req);
	} else {
		read_headers(req);
		set_log_ctx(req);
		cr = eas_dispatch(req, &out);
		/* the answer is in req->arena: the thread's scratch goes back
		 * before the thread takes another request */
		eas_req_scratch_done(req);
		r = finish(req, cr, out);
	}
	store_snapshot_end(req->store);
	return r;
}

enum http_result
autodiscover_headers(struct http_request *hr)
{
	struct eas_req *req = req_new(hr);
	uint64_t wait_ms;
	int a;

	hr->metric_name = "Autodiscover";
	req->store = easd_thread_store(req->srv);
	if (req->store == NULL)
		return store_unavailable(req);
	log_ctx_set(arena_printf(req->arena, "req=%llu",
				 (unsigned long long)req->id));
	/* Without a snapshot: a credential verified recently needs no read
	 * here (auth_finish does it in the command's snapshot). */
	a = authenticate(req, &wait_ms);
	if (a < 0)
		return unauthorized(req, a, wait_ms);
	hr->max_body = small_body_limit(&req->srv->cfg);
	return HTTP_CONTINUE;
}

enum http_result
autodiscover_endpoint(struct http_request *hr)
{
	struct eas_req *req = hr->handler_ctx;
	enum http_result r;
	uint64_t wait_ms;

	req->body = hr->body;
	req->body_len = hr->body_len;
	req->store = easd_thread_store(req->srv);
	if (req->store == NULL)
		return store_unavailable(req);
	req->standing_gen = standing_gen(req->srv->standing);
	store_snapshot_begin(req->store);
	if (auth_finish(req, &wait_ms) < 0) {
		r = unauthorized(req, -1, wait_ms);
	} else {
		req->cmd = "Autodiscover";
		set_log_ctx(req);
		autodiscover_handle(req);
		r = respond(req, NULL);
	}
	store_snapshot_end(req->store);
	return r;
}
