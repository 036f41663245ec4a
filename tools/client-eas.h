/* An EAS client library: what easclient, the end-to-end tests and the
 * benchmarks use to act as a phone. libcurl for HTTP, our codec for WBXML.
 *
 * Ownership: struct eas_client is heap (eas_client_new/_free); everything a
 * call returns (responses, trees, item lists, strings) lives in the arena
 * the caller passes. A client is used from one thread at a time. */
#ifndef EASD_CLIENT_EAS_H
#define EASD_CLIENT_EAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "wbxml.h"

/* Responses bigger than this are refused (a transport error). */
#define EAS_CLIENT_MAX_BODY (64u * 1024 * 1024)
/* Items one eas_client_sync() collects before giving up. */
#define EAS_CLIENT_MAX_ITEMS 1000000u

struct eas_folder {
	char *server_id;
	char *parent_id;
	char *name;
	int type; /* MS-ASCMD 2.2.3.186.3 Type */
};

struct eas_collection_key {
	char *collection_id;
	char *sync_key;
};

struct eas_client {
	char *url; /* scheme://host:port, no path */
	char *user, *password;
	char *device_id, *device_type;
	char *version; /* MS-ASProtocolVersion, default "16.1" */
	char *user_agent;
	uint32_t policy_key; /* 0 = none: X-MS-PolicyKey not sent */
	char *hierarchy_key; /* NULL = never synced ("0") */
	struct eas_folder *folders;
	size_t nfolders;
	struct eas_collection_key *keys;
	size_t nkeys;

	const char *cainfo;  /* CA bundle for https:// (not owned); NULL =
				the system's */
	bool trace;	     /* requests/responses as XML on stderr */
	bool auto_provision; /* flows provision again on 449/142-144 */
	long timeout_ms;     /* per request; 0 = none */
	bool wiped;	     /* the server asked for a wipe, and we
				acknowledged it */
	char *error;	     /* last error text (heap) */
	void *curl;	     /* CURL *, reused for keep-alive */
};

struct eas_http_header {
	struct eas_http_header *next;
	const char *name, *value;
};

struct eas_response {
	long http_status;	  /* 0 when the request never got an answer */
	const char *content_type; /* NULL when absent */
	/* headers of interest, NULL when absent */
	const char *ms_versions, *ms_commands, *ms_server;
	const char *x_ms_rp, *x_ms_location, *retry_after;
	const char *www_authenticate;
	struct eas_http_header *headers; /* all of them, in order */
	const uint8_t *body; /* raw bytes, NUL terminated; len 0 = none */
	size_t body_len;
	struct wbxml_node *tree;  /* decoded WBXML, NULL for an empty or
				     non-WBXML body */
	const char *decode_error; /* set when a WBXML body did not decode */
};

/* url may be "http://host:port" or end in /Microsoft-Server-ActiveSync.
 * device_type NULL = "easclient". */
struct eas_client *eas_client_new(const char *url, const char *user,
				  const char *password, const char *device_id,
				  const char *device_type);
void eas_client_free(struct eas_client **cp);
/* Copies the string. */
void eas_client_set_version(struct eas_client *c, const char *version);
void eas_client_set_user_agent(struct eas_client *c, const char *ua);
/* The last error of a call that returned -1 ("" when none). */
const char *eas_client_error(const struct eas_client *c);
/* Protocol version as EAS_V* number (161 for "16.1"). */
unsigned eas_client_version_num(const struct eas_client *c);

/* --- requests --- */

/* POST /Microsoft-Server-ActiveSync?Cmd=cmd&User=..&DeviceId=..&DeviceType=..
 * [&extra_query] with Basic auth, MS-ASProtocolVersion, X-MS-PolicyKey
 * (when non-zero) and the WBXML encoding of body (no body when NULL).
 * Returns 0 when an HTTP answer arrived (any status: see r->http_status),
 * -1 on a transport failure. */
int eas_client_post(struct eas_client *c, struct arena *a, const char *cmd,
		    const struct wbxml_node *body, const char *extra_query,
		    struct eas_response *r);

/* Anything: method ("POST", "OPTIONS", "GET"), the full query string
 * without '?' (NULL = none; e.g. a base64 form from eas_query_b64), extra
 * headers as "Name: value" strings (NULL terminated array, may be NULL),
 * body bytes (may be NULL). Authorization is added when the client has a
 * user unless a header array sets its own; MS-ASProtocolVersion and
 * X-MS-PolicyKey are NOT added. Returns as eas_client_post. path NULL =
 * /Microsoft-Server-ActiveSync. */
int eas_client_raw(struct eas_client *c, struct arena *a, const char *method,
		   const char *path, const char *query,
		   const char *const *headers, const void *body, size_t len,
		   struct eas_response *r);

/* OPTIONS: fills r (versions and commands headers). -1 unless 200. */
int eas_client_options(struct eas_client *c, struct arena *a,
		       struct eas_response *r);

/* Autodiscover (digest section 9): POST the mobilesync request for email to
 * URL/autodiscover/autodiscover.xml and return the MobileSync server URL
 * in *url_r (arena). 0 or -1. */
int eas_client_autodiscover(struct eas_client *c, struct arena *a,
			    const char *email, const char **url_r);

/* --- flows (each returns 0 on success, -1 with eas_client_error) --- */

/* Provision phase 1 + phase 2 (MS-ASPROV 3.1.5.1); stores the final key in
 * c->policy_key. When the server asks for a (account-only) remote wipe,
 * acknowledges it, forgets all state, sets c->wiped and returns 1. The
 * phase-1 policy document is returned in *policy_r when not NULL. */
int eas_client_provision(struct eas_client *c, struct arena *a,
			 const struct wbxml_node **policy_r);

/* FolderSync from the stored hierarchy key (or 0); updates c->folders and
 * c->hierarchy_key. *status_r (may be NULL) gets the FolderSync Status;
 * status 9 (bad key) resets the key so the next call starts over. */
int eas_client_foldersync(struct eas_client *c, struct arena *a, int *status_r);
/* By ServerId, else by display name (case-insensitive), else NULL. */
const struct eas_folder *eas_client_folder_find(const struct eas_client *c,
						const char *id_or_name);
/* The default folder of a type (2 Inbox, 9 Contacts, ...), or NULL. */
const struct eas_folder *eas_client_folder_by_type(const struct eas_client *c,
						   int type);
/* "Email", "Contacts", "Calendar", "Tasks", "Notes" for a folder type. */
const char *eas_folder_class(int type);

/* The stored sync key of a collection ("0" when none), and setting it
 * (NULL forgets it). */
const char *eas_client_sync_key(const struct eas_client *c,
				const char *collection_id);
void eas_client_set_sync_key(struct eas_client *c, const char *collection_id,
			     const char *key);

enum eas_item_kind {
	EAS_ITEM_ADD = 1,
	EAS_ITEM_CHANGE,
	EAS_ITEM_DELETE,
	EAS_ITEM_SOFTDELETE,
};
const char *eas_item_kind_name(enum eas_item_kind k);

/* A server change from Sync Commands. */
struct eas_item {
	enum eas_item_kind kind;
	const char *server_id;
	const struct wbxml_node *appdata; /* NULL for deletes */
};

/* A Sync Responses entry for one of our commands. */
struct eas_reply {
	enum eas_item_kind kind; /* ADD, CHANGE, DELETE (or 0 for Fetch) */
	const char *client_id;	 /* Add only */
	const char *server_id;
	const char *instance_id; /* 16.x occurrence commands, else NULL */
	int status;
	/* what the server says of the item beyond that (16.x drafts: the
	 * FileReferences of added attachments); NULL when nothing */
	const struct wbxml_node *appdata;
};

struct eas_sync_opts {
	unsigned window_size; /* 0 = 100 */
	int filter_type;      /* -1 = not sent */
	int body_type;	      /* airsyncbase BodyPreference Type, 0 none */
	uint32_t truncation;  /* 0 = not sent */
	int mime_support;     /* -1 = not sent */
	bool conversation_mode;
};
/* window 100, no filter, body type 1 untruncated. */
void eas_sync_opts_init(struct eas_sync_opts *o);

struct eas_sync_result {
	int status;	      /* collection Status (or top-level) */
	const char *sync_key; /* the new key */
	struct eas_item *items;
	size_t count;
	struct eas_reply *replies;
	size_t nreplies;
	unsigned rounds;     /* Sync requests sent */
	bool empty_response; /* the last answer had no body */
};

/* Sync one collection: prime with SyncKey 0 when we hold no key, then
 * GetChanges with WindowSize until MoreAvailable stops. opts may be NULL.
 * Status 3 (invalid key) forgets the key. */
int eas_client_sync(struct eas_client *c, struct arena *a,
		    const char *collection_id, const struct eas_sync_opts *opts,
		    struct eas_sync_result *r);

/* Only the SyncKey 0 round: get a key without fetching items (for
 * GetItemEstimate and Ping on a fresh collection). */
int eas_client_sync_prime(struct eas_client *c, struct arena *a,
			  const char *collection_id);

/* A client change to send. */
struct eas_command {
	enum eas_item_kind kind;	  /* ADD, CHANGE, DELETE */
	const char *client_id;		  /* ADD: NULL = generated */
	const char *server_id;		  /* CHANGE, DELETE */
	const char *instance_id;	  /* CHANGE, DELETE of one occurrence
					     (16.x airsyncbase:InstanceId),
					     NULL for the whole item */
	const struct wbxml_node *appdata; /* ADD, CHANGE: the
					     ApplicationData element */
};
/* One Sync with Commands (and GetChanges 0, so server changes stay pending
 * for the next eas_client_sync). Primes the collection first when needed.
 * r->replies has the Responses. Returns -1 also when the collection Status
 * is not 1; per-item failures are only in the replies. */
int eas_client_sync_commands(struct eas_client *c, struct arena *a,
			     const char *collection_id,
			     const struct eas_command *cmds, size_t n,
			     struct eas_sync_result *r);
/* Single-item conveniences over eas_client_sync_commands; -1 also when the
 * item's Status is not 1 (the status is in *status_r when not NULL). */
int eas_client_add(struct eas_client *c, struct arena *a,
		   const char *collection_id, const struct wbxml_node *appdata,
		   const char **server_id_r, int *status_r);
int eas_client_change(struct eas_client *c, struct arena *a,
		      const char *collection_id, const char *server_id,
		      const struct wbxml_node *appdata, int *status_r);
int eas_client_delete(struct eas_client *c, struct arena *a,
		      const char *collection_id, const char *server_id,
		      int *status_r);
/* Change or delete (appdata NULL) one occurrence of a recurring event
 * (MS-ASAIRS 2.2.2.25 InstanceId, compact dateTime of its original
 * start). */
int eas_client_change_instance(struct eas_client *c, struct arena *a,
			       const char *collection_id, const char *server_id,
			       const char *instance_id,
			       const struct wbxml_node *appdata, int *status_r);

/* GetItemEstimate for one primed collection. */
int eas_client_estimate(struct eas_client *c, struct arena *a,
			const char *collection_id, int64_t *estimate_r,
			int *status_r);

/* Ping (MS-ASCMD 2.2.1.13) on the collections (NULL/0 = empty body: repeat
 * the last Ping). *status_r gets the Ping Status; with status 2,
 * *changed_r (arena array of folder ids) and *nchanged_r. */
int eas_client_ping(struct eas_client *c, struct arena *a, unsigned heartbeat,
		    const char *const *collection_ids, size_t n, int *status_r,
		    const char ***changed_r, size_t *nchanged_r);

/* ItemOperations Fetch of one item; *props_r is its Properties element. */
int eas_client_fetch(struct eas_client *c, struct arena *a,
		     const char *collection_id, const char *server_id,
		     const struct wbxml_node **props_r, int *status_r);

/* SendMail, SmartReply, SmartForward (MS-ASCMD 2.2.1.17/.20/.19). */
enum eas_send_kind {
	EAS_SEND_NEW = 0,
	EAS_SEND_REPLY,
	EAS_SEND_FORWARD,
};

struct eas_send {
	enum eas_send_kind kind;
	const char *mime; /* the RFC 5322 message */
	size_t mime_len;
	const char *client_id; /* 14.0+; NULL = generated */
	bool save_in_sent;
	bool replace_mime;     /* reply/forward: the MIME is complete */
	bool mime_as_string;   /* Mime as an inline string, not OPAQUE */
	const char *folder_id; /* reply/forward: the original */
	const char *item_id;
};

/* Send through the server: the 14.0+ WBXML form, or the 12.x query form
 * with a message/rfc822 body when the client speaks 12.x. Returns 0 when
 * an answer came: *status_r 0 for success (an empty 200), else the
 * ComposeMail Status (14.0+) or the HTTP status (12.x). -1 on a transport
 * failure. */
int eas_client_send(struct eas_client *c, struct arena *a,
		    const struct eas_send *s, int *status_r);

/* --- state file: successive processes act as one phone --- */

/* Load key=value lines (policy_key, hierarchy_key, folder=id\tparent\ttype
 * \tname, synckey=collection\tkey). A missing file is not an error. */
int eas_client_state_load(struct eas_client *c, const char *path);
/* Write atomically (temp file + rename). */
int eas_client_state_save(const struct eas_client *c, const char *path);
/* Forget keys and folders (after a wipe or a fresh start). */
void eas_client_state_reset(struct eas_client *c);

/* --- helpers for tests --- */

/* The base64 query form (MS-ASHTTP 2.2.1.1.1.1; digest 1.2). */
struct eas_b64_param {
	uint8_t tag; /* 0 AttachmentName ... 8 User */
	const void *value;
	size_t len;
};
struct eas_b64_query {
	uint8_t version; /* 141, 161, ... */
	uint8_t command; /* 0 Sync, 9 FolderSync, 20 Provision ... */
	uint16_t locale; /* 0x0409 */
	const void *device_id;
	size_t device_id_len; /* < 256 */
	bool has_policy_key;
	uint32_t policy_key;
	const char *device_type;
	const struct eas_b64_param *params;
	size_t nparams;
};
/* Standard base64 of the binary form (not URL-escaped: see
 * eas_url_escape). NULL when a length does not fit in its byte. */
const char *eas_query_b64(struct arena *a, const struct eas_b64_query *q);
/* Percent-encode everything but unreserved characters. */
const char *eas_url_escape(struct arena *a, const char *s);

/* XML rendering of a tree for messages ("" on failure). */
const char *eas_tree_xml(struct arena *a, const struct wbxml_node *n);

#endif
