/* The request as command handlers see it, the handler contract, and the
 * protocol constants shared by the commands. Handlers never see HTTP
 * bytes or SQL: they read req and the decoded tree, call the store, and
 * return a response tree. */
#ifndef EASD_EAS_H
#define EASD_EAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"
#include "wbxml.h"

struct easd;
struct push_waiter;

/* Protocol versions times ten (MS-ASHTTP 2.2.1.1.2.1 encoding). */
#define EAS_V121 121
#define EAS_V140 140
#define EAS_V141 141
#define EAS_V160 160
#define EAS_V161 161

/* Global status codes (MS-ASCMD 2.2.2). */
#define EAS_STATUS_INVALID_CONTENT 101
#define EAS_STATUS_INVALID_WBXML 102
#define EAS_STATUS_INVALID_XML 103
#define EAS_STATUS_SERVER_ERROR 110
#define EAS_STATUS_SERVER_ERROR_RETRY 111
#define EAS_STATUS_USER_DISABLED 126
#define EAS_STATUS_DEVICE_BLOCKED 129
#define EAS_STATUS_ACCESS_DENIED 130
#define EAS_STATUS_ACCOUNT_DISABLED 131
#define EAS_STATUS_COMMAND_NOT_SUPPORTED 137
#define EAS_STATUS_VERSION_NOT_SUPPORTED 138
#define EAS_STATUS_REMOTE_WIPE_REQUESTED 140
#define EAS_STATUS_DEVICE_NOT_PROVISIONED 142
#define EAS_STATUS_POLICY_REFRESH 143
#define EAS_STATUS_INVALID_POLICY_KEY 144
#define EAS_STATUS_ITEM_NOT_FOUND 150
#define EAS_STATUS_MAXIMUM_DEVICES_REACHED 177

enum eas_cmd_result {
	EAS_CMD_OK = 0,	    /* *out_r is the body (NULL = empty 200) */
	EAS_CMD_ERROR = -1, /* req->http_status says what went wrong */
	EAS_CMD_PARKED = 1, /* a push waiter holds the request; resume_fn
			       builds the response later */
};

struct eas_req;

/* A command handler. in is the decoded body (NULL when the body was
 * empty). */
typedef enum eas_cmd_result eas_cmd_fn(struct eas_req *req,
				       const struct wbxml_node *in,
				       struct wbxml_node **out_r);

/* Called (on a server thread) when a parked request wakes up: build the
 * response as a handler would. */
typedef enum eas_cmd_result eas_resume_fn(struct eas_req *req,
					  struct wbxml_node **out_r);

struct eas_header {
	struct eas_header *next;
	const char *name, *value;
};

struct eas_req {
	struct arena *arena; /* lives until the response is sent */
	/* What a command that parks with little (Ping) needs only while it
	 * runs: the request tree, the store's answers. eas_req_scratch()
	 * lends it the thread's; it is given back (emptied) when the command
	 * returns, before its answer is encoded, and eas_req_park_small()
	 * lets the body go too when the command parks. */
	struct arena *scratch;
	struct http_request *http; /* the HTTP request it came as */
	struct easd *srv;
	struct store *store; /* this thread's connection */
	uint64_t id;	     /* request number, for logs */
	const char *remote_addr;
	const char *host; /* Host header, for Autodiscover */
	bool tls;	  /* the request came over HTTPS */

	/* who */
	struct store_account account;
	struct store_device device;
	bool have_device;
	bool trace, trace_bodies; /* easctl debug on: log the trees */

	/* the query (MS-ASHTTP 2.2.1.1.1) */
	const char *cmd;
	int cmd_code;		 /* base64 form code, -1 if unknown */
	unsigned version;	 /* EAS_V121 ... */
	const char *version_str; /* "14.1" */
	const char *user;
	const char *device_id;
	const char *device_type;
	const char *user_agent;
	bool policy_key_given;
	uint32_t policy_key;
	const char *collection_id, *item_id, *long_id, *occurrence;
	const char *attachment_name;
	bool save_in_sent;
	bool accept_multipart;

	const uint8_t *body;
	size_t body_len;
	const char *content_type;

	/* the response */
	int http_status;	       /* 200 unless a handler says otherwise */
	int eas_status;		       /* top-level status, for the log line */
	const char *resp_content_type; /* for a raw body */
	const uint8_t *resp_body;      /* raw body instead of a tree */
	size_t resp_len;
	struct eas_header *headers;
	/* a run of the command that loses its transaction to another is
	 * not the last (eas_dispatch runs it again) */
	bool may_run_again;

	/* what auth_check left for auth_finish: a cached credential whose
	 * account is read once the body is in (auth.c) */
	struct {
		int64_t cached_id; /* 0: nothing left */
		const char *name, *password, *stamp;
	} auth;
	/* standing_gen() before the request's read snapshot began: what
	 * it reads may fill the standing cache only if nothing changed
	 * since */
	uint64_t standing_gen;

	/* push: set by a handler that returns EAS_CMD_PARKED */
	struct push_waiter *waiter;
	bool announced; /* its parking was told to the other processes */
	eas_resume_fn *resume_fn;
	void *resume_ctx;
};

/* Add a response header (copied into the arena). */
void eas_req_add_header(struct eas_req *req, const char *name,
			const char *value);

/* The request's scratch arena: the thread's, until
 * eas_req_scratch_done(), which the front end calls when the command (or
 * its resume_fn) returned; nothing of the answer may be in it. */
struct arena *eas_req_scratch(struct eas_req *req);
void eas_req_scratch_done(struct eas_req *req);
/* Free the scratch arena and the request body: for a command that parks
 * having copied what it keeps into req->arena. */
void eas_req_park_small(struct eas_req *req);

/* Retry-After (seconds) of a 503: the database locked past its timeout,
 * and a store that failed (disk full, I/O error) or a database that
 * cannot be opened. */
#define EAS_RETRY_BUSY "5"
#define EAS_RETRY_STORE "60"
/* ... and of a Ping or Sync over the account's parked requests. */
#define EAS_RETRY_PARKED "300"

/* Map a store error to a response and log it: 503 with Retry-After when
 * the store failed (busy, disk full, I/O error, corrupt), 500 when it
 * refused the request (not found, exists, invalid). Returns
 * EAS_CMD_ERROR. */
enum eas_cmd_result eas_req_store_error(struct eas_req *req, enum store_error e,
					const char *what);

/* The command table (dispatch.c). */
#define CMD_F_NO_PROVISION 0x01 /* allowed before provisioning */
#define CMD_F_RAW_BODY 0x02	/* body is not WBXML (12.x SendMail...) */
#define CMD_F_LONGPOLL 0x04	/* may park */
#define CMD_F_SCRATCH_TREE 0x08 /* request tree in req->scratch */

struct eas_command {
	const char *name;
	int code; /* base64 query form command code */
	eas_cmd_fn *fn;
	unsigned flags;
};

/* NULL when unknown or not implemented. */
const struct eas_command *eas_command_find(const char *name);
const struct eas_command *eas_command_find_code(int code);
/* "Sync,FolderSync,..." of the implemented commands, for OPTIONS. */
const char *eas_command_list(void);

/* cmd-sendmail.c: send a stored 16.x draft (email2:Send in a Sync
 * Change) inside the caller's write transaction, and replace it with its
 * sent form in Sent Items. Returns 0 with *status_r 0 (sent) or a
 * ComposeMail status (nothing written, the draft stays), or -1 with *e_r
 * (the caller rolls back). */
int eas_send_draft(struct eas_req *req, const struct store_item *draft,
		   int *status_r, enum store_error *e_r);

/* cmd-sendmail.c: send a message the server composed for the account (a
 * meeting's REQUEST, CANCEL or REPLY) inside the caller's write
 * transaction, through the same path as SendMail: colleagues get it at
 * once, outside recipients through the queue (left out, with a log line,
 * when there is no relay), the recipients-per-hour limit applies, a copy
 * goes to Sent Items when save_in_sent. A message that cannot be sent is
 * logged and not sent; -1 with *e_r is a store failure (the caller rolls
 * back). */
int eas_send_generated(struct eas_req *req, const char *mime, size_t len,
		       bool save_in_sent, enum store_error *e_r);

/* cmd-meetingresponse.c: at 16.x the server, not the device, tells the
 * attendees of a meeting the account organizes: called inside Sync's
 * write transaction before a calendar item is added (old NULL), changed
 * or deleted (item NULL). Sends the REQUEST, update or CANCEL, and raises
 * the SEQUENCE in item->data when attendees see the change. Below 16.0
 * it does nothing (the device sends the invitations with SendMail).
 * Returns 0, or -1 with *e_r on a store failure. */
int eas_meeting_organizer(struct eas_req *req, const struct store_item *old,
			  struct store_item *item, enum store_error *e_r);

/* Command handlers, one cmd-<name>.c each. */
eas_cmd_fn cmd_provision, cmd_foldersync, cmd_foldercreate, cmd_folderupdate,
	cmd_folderdelete, cmd_sync, cmd_getitemestimate, cmd_ping, cmd_settings,
	cmd_itemoperations, cmd_moveitems, cmd_getattachment, cmd_sendmail,
	cmd_smartreply, cmd_smartforward, cmd_search, cmd_find,
	cmd_resolverecipients, cmd_meetingresponse;

#endif
