/* The server instance: configuration and the parts every request can
 * reach (HTTP front end, push registry, per-thread store connections). */
#ifndef EASD_SERVER_H
#define EASD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas.h"
#include "http.h"
#include "store.h"

struct easd_config {
	const char *data_dir;	/* ./var */
	const char *db_path;	/* data_dir/easd.db */
	const char *listen;	/* 127.0.0.1:8080 */
	const char *public_url; /* for Autodiscover; NULL = derive */
	const char *tls_cert, *tls_key;
	const char *lmtp_listen; /* NULL = no LMTP over TCP */
	const char *lmtp_socket;
	size_t max_body;    /* request body limit (413 past it) */
	size_t max_message; /* LMTP / deliver limit */
	unsigned threads;   /* 0 = one per core */
	unsigned heartbeat_min, heartbeat_max; /* Ping/Sync bounds, s */
	unsigned max_ping_folders;
	unsigned sync_window_max; /* 512 */
	unsigned loop_repeats;	  /* answers repeated from the cache that
				     make a loop (loop.h) */
};

void easd_config_defaults(struct easd_config *cfg);

struct http_server;
struct push;
struct lmtp_server;

struct easd {
	struct easd_config cfg;
	struct http_server *http;
	struct push *push;
	struct lmtp_server *lmtp;
	uint16_t http_port; /* bound port */
	char *base_url;	    /* http(s)://host:port */
};

/* This thread's store connection, opened on first use; all of them are
 * closed by easd_stores_close() at shutdown. NULL (and logged) if the
 * database cannot be opened. */
struct store *easd_thread_store(struct easd *srv);
void easd_stores_close(void);

/* endpoint.c: the routes of the public listener (see http.h). */
struct http_request;
enum http_result eas_endpoint(struct http_request *hr);
enum http_result autodiscover_endpoint(struct http_request *hr);

/* query.c: read the query (plain Cmd=...&User=... or the base64 binary
 * form, MS-ASHTTP 2.2.1.1.1.1) into req. 0, or -1 when malformed. */
int eas_parse_query(struct eas_req *req, const char *query);

/* dispatch.c: run one ActiveSync request whose query, auth and body are
 * filled in; sets req's response fields. */
enum eas_cmd_result eas_dispatch(struct eas_req *req,
				 struct wbxml_node **out_r);
/* For a parked request that woke up: whether the account was disabled or
 * removed, or the device blocked, quarantined, sent a wipe or asked to
 * provision again since the request came in. Such a request is answered
 * at once so that the device's next request meets the new state. */
bool eas_req_standing_changed(struct eas_req *req);
/* The root element of a command's response, for top-level statuses. */
uint16_t eas_command_root(const char *cmd);

/* auth.c: verify Basic credentials; fills req->account. Returns 0 on
 * success, -1 (401) on bad credentials, -2 when throttled. */
int auth_check(struct eas_req *req, const char *user, const char *password);
/* Strip DOMAIN\ and keep user@domain as is. */
const char *auth_normalize_user(struct arena *a, const char *user);
/* Forget cached credentials of an account (password change, disable). */
void auth_cache_forget(int64_t account_id);

/* autodiscover.c: answer a mobilesync Autodiscover request body. */
int autodiscover_handle(struct eas_req *req);

#endif
