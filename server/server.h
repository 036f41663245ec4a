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
	const char *db_path;	/* data_dir/easd.db, or store_url */
	const char *store_url;	/* --store postgresql://...; NULL = SQLite */
	const char *listen;	/* 127.0.0.1:8080 */
	const char *public_url; /* for Autodiscover; NULL = derive */
	const char *tls_cert, *tls_key;
	const char *tls_priority; /* NULL = HTTP_TLS_PRIORITY */
	const char *lmtp_listen;  /* NULL = no LMTP over TCP */
	const char *lmtp_socket;
	const char *access_log; /* "stderr" (NULL), "off" or a file */
	size_t max_body;	/* body limit of Sync, SendMail, SmartReply,
				   SmartForward (413 past it) */
	size_t max_body_small;	/* of every other request */
	/* the front end's limits (http_config) */
	unsigned max_connections, max_per_addr, idle_timeout;
	size_t max_header;
	struct net_cidr *trusted; /* --trusted-proxy, ntrusted of them */
	const char **trusted_src; /* as written, for --check-config */
	size_t ntrusted;
	const char *admin_listen; /* /healthz and /metrics; NULL = none */
	int log_level;		  /* enum log_level */
	const char *log_file;	  /* NULL = stderr */
	bool syslog;		  /* log to syslog instead of stderr */
	char **owned;		  /* strings read from a config file */
	size_t nowned;
	size_t max_message;  /* LMTP / deliver limit */
	unsigned threads;    /* 0 = one per core */
	unsigned store_pool; /* PostgreSQL connections, 0 = the default */
	unsigned workers;    /* serving processes (workers.c); 1 = this one */
	unsigned heartbeat_min, heartbeat_max; /* Ping/Sync bounds, s */
	unsigned max_ping_folders;
	unsigned max_parked_per_account; /* 0 = no limit */
	/* failed logins (auth.c) */
	unsigned auth_max_failures;	  /* per account and address */
	unsigned auth_addr_max_failures;  /* per address, all accounts */
	unsigned auth_lockout;		  /* s a locked pair is refused */
	unsigned auth_delay_max;	  /* s, the longest delay of a 401 */
	unsigned max_devices_per_account; /* 0 = no limit */
	unsigned sync_window_max;	  /* 512 */
	/* sending: without a relay, remote recipients are refused */
	const char *smtp_relay;	      /* smtp://host:587, smtps://host:465 */
	bool smtp_insecure;	      /* smtp:// without STARTTLS allowed */
	const char *smtp_credentials; /* file holding user:password */
	const char *smtp_cainfo;      /* CA bundle for the relay */
	struct smtp_relay *relay;     /* made from the above at start */
	bool have_relay;
	size_t max_send_size;	     /* largest message a device sends */
	unsigned max_rcpts_per_hour; /* per account; 0 = no limit */
	unsigned send_retry_s;	     /* how long the queue retries */
	/* the web pages (server/web): a session's idle and absolute
	 * expiry, s */
	unsigned web_session_idle, web_session_max;
	bool no_self_service;  /* no /account/ pages */
	unsigned loop_repeats; /* answers repeated from the cache that
				  make a loop (loop.h) */
};

void easd_config_defaults(struct easd_config *cfg);

struct http_server;
struct push;
struct lmtp_server;
struct outbound;
struct smtp_relay;
struct store_subscription;

struct easd {
	struct easd_config cfg;
	struct http_server *http;
	struct http_server *admin; /* --admin-listen, else NULL */
	struct push *push;
	struct lmtp_server *lmtp;
	struct outbound *outbound;	      /* NULL without a relay */
	struct store_subscription *queue_sub; /* kicks the outbound runner */
	struct standing *standing;	      /* accounts and devices */
	struct indexer *indexer;	      /* NULL without the index */
	struct store_subscription *index_sub; /* kicks the indexer */
	uint16_t http_port;		      /* bound port */
	/* --workers: which one this process is (0 runs what must run once:
	 * workers.h), the listening socket it inherited and the pipe that
	 * tells the parent it serves; -1, -1, -1 in a single process */
	int worker, listen_fd, ready_fd;
	char *base_url; /* http(s)://host:port */
};

/* This thread's store connection, opened on first use; all of them are
 * closed by easd_stores_close() at shutdown. NULL (and logged) if the
 * database cannot be opened. */
struct store *easd_thread_store(struct easd *srv);
void easd_stores_close(void);

/* endpoint.c: the routes of the public listener (see http.h): the hooks
 * that authenticate when the headers are in, and the handlers. */
struct http_request;
enum http_result eas_headers(struct http_request *hr);
enum http_result eas_endpoint(struct http_request *hr);
enum http_result autodiscover_headers(struct http_request *hr);
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
 * success; -1 (401) on bad credentials, to be answered after *wait_ms_r
 * (the growing delay of a pair that keeps failing); -2 when the account
 * is locked from this address, or the address for every account, for
 * *wait_ms_r more (503 with Retry-After). */
int auth_check(struct eas_req *req, const char *user, const char *password,
	       uint64_t *wait_ms_r);
/* Finish what auth_check left for a credential it had verified recently
 * (the account is read and its password stamp compared, in the snapshot
 * of the command): 0, or -1 (401 after *wait_ms_r) when the password
 * changed meanwhile. Call once the body is in, before using
 * req->account. */
int auth_finish(struct eas_req *req, uint64_t *wait_ms_r);
/* Strip DOMAIN\ and keep user@domain as is. */
const char *auth_normalize_user(struct arena *a, const char *user);
/* Forget cached credentials of an account (password change, disable). */
void auth_cache_forget(int64_t account_id);

/* standing.c: a read-mostly cache of accounts (with their policy
 * version) and devices, which every request reads before its command,
 * kept current by the store's change notifications and never used while
 * another process's change is on its way (see the file). NULL c: every
 * call reads the store. */
struct standing;
/* Subscribes to the changes of the database at db_path; NULL with
 * *error_r when it cannot. */
struct standing *standing_new(const char *db_path, const char **error_r);
void standing_free(struct standing **cp);
/* The generation to take before a request's read snapshot begins and to
 * pass to the calls below. */
uint64_t standing_gen(struct standing *c);
/* Like store_account_get_by_id, store_policy_version and
 * store_device_get, answered from memory when possible; strings in a. */
enum store_error standing_account(struct standing *c, struct store *s,
				  struct arena *a, uint64_t gen, int64_t id,
				  struct store_account *r);
enum store_error standing_policy_version(struct standing *c, struct store *s,
					 uint64_t gen, int64_t account_id,
					 int64_t *version_r);
enum store_error standing_device(struct standing *c, struct store *s,
				 struct arena *a, uint64_t gen,
				 int64_t account_id, const char *device_id,
				 struct store_device *r);
/* After a write to the device row that notifies nobody (last seen,
 * device information). */
void standing_forget_device(struct standing *c, int64_t device_row);
/* Whether the device's last FolderSync with this hierarchy key was
 * answered "no change" and neither the account's folders nor the device
 * changed since; standing_hierarchy_set() remembers such an answer (key
 * NULL: forget it). */
bool standing_hierarchy_unchanged(struct standing *c, uint64_t gen,
				  int64_t account_id, const char *device_id,
				  const char *key);
void standing_hierarchy_set(struct standing *c, uint64_t gen,
			    int64_t account_id, const char *device_id,
			    const char *key);
/* The same for Sync: whether the device's last Sync with exactly this
 * (encoded, full) request was answered with no change and none of its
 * folders, the folder tree nor the device changed since. A Sync not
 * answered so calls standing_sync_begin() when it begins (and when it
 * ends): that forgets the request and returns the token that
 * standing_sync_set() needs to remember a no-change answer. */
bool standing_sync_unchanged(struct standing *c, uint64_t gen,
			     int64_t account_id, const char *device_id,
			     const uint8_t *request, size_t len);
uint64_t standing_sync_begin(struct standing *c, int64_t account_id,
			     const char *device_id);
void standing_sync_set(struct standing *c, uint64_t gen, uint64_t token,
		       int64_t account_id, const char *device_id,
		       const uint8_t *request, size_t len,
		       const int64_t *folders, size_t nfolders);

/* autodiscover.c: answer a mobilesync Autodiscover request body. */
int autodiscover_handle(struct eas_req *req);

#endif
