/* The store: the only module that knows SQLite. Everything else speaks to
 * it through these functions and structs.
 *
 * Conventions
 * - A struct store is one database connection; use it from one thread at a
 *   time (the server keeps one per worker thread).
 * - Functions return enum store_error (STORE_OK is 0). Strings and blobs in
 *   results are copied into the arena the caller passes.
 * - Write functions run inside the caller's transaction when one is open
 *   (store_begin), else in their own. After a commit that changed anything,
 *   subscribers get one call with everything it changed (see "change
 *   notification").
 * - Modification sequences: one counter per account (accounts.modseq); every
 *   change to a folder or item of the account takes the next value. Changes
 *   for a device are "rows with modseq above what the device has seen".
 * - Deleted items and folders stay as tombstones until no device still
 *   holds them (store_gc). */
#ifndef EASD_STORE_H
#define EASD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum store_error {
	STORE_OK = 0,
	STORE_NOTFOUND, /* no such row, or it belongs to another account */
	STORE_EXISTS,	/* unique name/key taken */
	STORE_CONFLICT, /* the row changed under the caller */
	STORE_BUSY,	/* database locked past the busy timeout */
	STORE_CORRUPT,	/* database or stored value unreadable */
	STORE_INVALID,	/* the caller's arguments are not acceptable */
	STORE_INTERNAL, /* anything else; details are logged */
	STORE_DENIED,	/* a shared folder the account may read but not
			   change (or not administer) */
};

const char *store_error_str(enum store_error e);

struct store;

/* Open (creating and migrating as needed) the database at path. WAL mode,
 * foreign keys, busy timeout. Returns STORE_OK and *store_r, or an error
 * with *error_r (heap string in a static buffer; do not free).
 *
 * A path that is a PostgreSQL URL (store_is_url: postgresql://... or
 * postgres://..., libpq's connection URI) connects to that database
 * instead and migrates its own schema there, with mail and address list
 * search of PostgreSQL's own (search-pg.c) and the consistency check in
 * SQL (check-pg.c); store_backup answers STORE_INVALID there (easctl
 * backup runs pg_dump instead). */
bool store_is_url(const char *path);
/* The PostgreSQL connections of this process (per database URL): at most
 * max (1..STORE_PG_POOL_MAX, the default), shared by its threads, one
 * held per open transaction; a request that finds them all in use waits
 * up to wait_ms and is then answered busy. Plan max_connections for
 * nodes x (max + 1): each node also has a connection that LISTENs. */
#define STORE_PG_POOL_MAX 64
#define STORE_PG_POOL_DEFAULT STORE_PG_POOL_MAX
#define STORE_PG_POOL_WAIT_MS 2000
void store_pg_pool_set(int max, int wait_ms);
/* path as it may be shown (logs, errors, easctl's output): a password in
 * a URL's user part (postgresql://user:secret@host/db) or in a password=
 * parameter or keyword reads "***". Into buf (always terminated, cut to
 * size), which is returned. */
#define STORE_SHOWN_MAX 512
const char *store_path_shown(const char *path, char *buf, size_t size);
enum store_error store_open(const char *path, struct store **store_r,
			    const char **error_r);
void store_close(struct store **sp);
/* Read the database through a mapping of up to bytes of the file, not a
 * pread (and a copy) per page: for the server, whose threads read the
 * same pages all day (a tenth of an initial sync). The pages count in
 * the process's resident memory, so a one-off tool does without. */
void store_map_file(struct store *s, size_t bytes);
/* WAL checkpoints: by default the commit that grows the write-ahead log
 * past 1,000 pages copies it back into the database itself, fsync and
 * all, before its caller goes on (an LMTP batch, a Sync's answer). After
 * store_checkpoints_elsewhere(kick), the stores this process opens call
 * kick() from such a commit instead, and a thread of the caller's runs
 * store_checkpoint; past 8,000 pages (should that thread fall behind) a
 * commit still checkpoints itself, once every 1,000 pages the log grows.
 * kick must be cheap and may be called
 * from any thread at any commit. */
void store_checkpoints_elsewhere(void (*kick)(void));
/* Copy what it can of the WAL into the database (SQLite's PASSIVE
 * checkpoint: writers and readers go on meanwhile). */
enum store_error store_checkpoint(struct store *s);

/* Schema version the code writes (PRAGMA user_version). */
int store_schema_version(void);

/* --- change notification ---
 *
 * Every commit that changes something a parked request may wait for
 * publishes what it changed, and subscribers receive exactly that: in this
 * process right after the commit, and in the one process that subscribed
 * for other processes' changes (easd) whichever process committed (easctl,
 * a test). The store functions record their changes themselves; callers
 * never notify. */

enum store_change_what {
	STORE_CHANGED_FOLDER = 1, /* items of folder id (add, change, delete,
				     move in or out); account 0 = any folder
				     of any account (the notification lost
				     track: its connection was down) */
	STORE_CHANGED_HIERARCHY,  /* the account's folder tree */
	STORE_CHANGED_DEVICE,	  /* device row id: access, wipe, policy key,
				     sync state dropped, removed */
	STORE_CHANGED_ACCOUNT,	  /* the account: disabled, enabled, deleted,
				     password or policy changed; account 0 =
				     every account (a global policy) */
	STORE_CHANGED_OUTBOUND,	  /* the account queued mail, or the queue
				     was retried (account 0: the admin) */
	STORE_CHANGED_TRACE,	  /* debug tracing switched on or off */
	STORE_CHANGED_SEARCH,	  /* mail of the account waits to be
				     indexed (account 0: of anyone) */
	STORE_CHANGED_PARKED,	  /* not a commit: a request of device row
				     id parked in some process, so that
				     the device's older ones elsewhere end
				     (store_announce) */
};

struct store_change {
	enum store_change_what what;
	int64_t account_id;
	int64_t id; /* folder or device row; 0 for the others */
};

typedef void store_change_fn(void *ctx, const struct store_change *changes,
			     size_t count);

struct store_subscription;

/* Receive the changes committed to the database at path (as given to
 * store_open; compared by its canonical form): those of this process on
 * the committing thread, after the commit and outside any transaction,
 * and those of every other process on a thread of the store's, once one
 * subscription of this process has asked for them with others=true (then
 * every subscription of the process gets them). Only one process may
 * receive the others' changes at a time: STORE_EXISTS (with *error_r) when
 * one already does. The callback must not call store functions. */
enum store_error store_subscribe(const char *path, bool others,
				 store_change_fn *fn, void *ctx,
				 struct store_subscription **sub_r,
				 const char **error_r);
/* Hand c to every subscriber of every process, as a commit's changes
 * would be, without a transaction (STORE_CHANGED_PARKED): the process's
 * own subscriptions hear it before this returns. */
enum store_error store_announce(struct store *s, const struct store_change *c);
/* When this returns, fn runs no more and will not run again. */
void store_unsubscribe(struct store_subscription **subp);
/* Whether a change that another process committed has reached this
 * process but not yet sub's callback (or nothing in this process
 * receives the others' changes at all). A cache fed by the callback must
 * not answer while this is true: once the committing process's call has
 * returned, its change is either heard or makes this true. Changes of
 * this process are heard before their commit returns. Cheap (no lock
 * held across a system call; one ioctl). */
bool store_subscription_behind(struct store_subscription *sub);

/* easd --workers: several processes serving one database hear each
 * other's commits without a round trip through a third one. The parent
 * calls store_notify_group_new before it starts any worker: it binds the
 * socket other processes (easctl) send to, and one channel per worker.
 * A worker calls store_notify_group_join(i) after the fork and before it
 * subscribes: its commits then reach every other worker before they
 * return (as easctl's reach a single easd), its others=true subscription
 * reads its own channel, and store_subscription_behind also counts what
 * the parent has not handed on yet. On PostgreSQL there is nothing to
 * share (NOTIFY crosses processes): new and join only make each worker
 * its own sender. Not thread-safe; the parent is single-threaded. */
enum store_error store_notify_group_new(const char *path, unsigned workers,
					const char **error_r);
void store_notify_group_join(unsigned worker);
/* The parent: the socket to poll (-1 on PostgreSQL), and handing what
 * came on it to every worker. */
int store_notify_group_fd(void);
void store_notify_group_forward(void);
/* The parent, for a worker that is not running: what waits for it
 * concerns nobody (the next one starts with empty caches), and must not
 * fill its queue; the socket to poll for it (-1: none). */
void store_notify_group_drain(unsigned worker);
int store_notify_group_rx_fd(unsigned worker);
void store_notify_group_free(void);

/* --- transactions --- */

/* write=true takes the write lock at once (BEGIN IMMEDIATE). Nesting is a
 * bug. */
enum store_error store_begin(struct store *s, bool write);
enum store_error store_commit(struct store *s);
void store_rollback(struct store *s);

/* Whether a transaction (store_begin) is open on this connection. */
bool store_in_transaction(const struct store *s);

/* A part of the open transaction that can fail alone: a caller that goes
 * on after an expected error (a name taken, say) takes a savepoint
 * before the statements that may fail and ends it with their result.
 * store_savepoint_end keeps the part on STORE_OK and otherwise undoes
 * it, leaving the transaction usable (PostgreSQL aborts the whole
 * transaction at the first error; SQLite keeps what the failed statement
 * did not do): it returns e. Savepoints nest. */
enum store_error store_savepoint(struct store *s);
enum store_error store_savepoint_end(struct store *s, enum store_error e);

/* A transaction that is run again when the database gave it up for
 * another's sake: fn(s, ctx) runs between store_begin(s, write) and
 * store_commit, and when it (or the commit) fails because PostgreSQL
 * chose this transaction as the loser of a deadlock or of a
 * serialization conflict (SQLSTATE 40P01, 40001), everything is rolled
 * back and fn runs again, up to STORE_TXN_TRIES times in all; only then
 * does the caller see STORE_BUSY. Any other result of fn is rolled back
 * and returned. fn must be safe to run again: what it writes to ctx or
 * keeps in memory it sets anew at each run (allocations from an arena
 * may stay). On SQLite a lock wait is the busy timeout's, and BUSY is
 * returned at once. */
#define STORE_TXN_TRIES 5
typedef enum store_error store_txn_fn(struct store *s, void *ctx);
enum store_error store_txn(struct store *s, bool write, store_txn_fn *fn,
			   void *ctx);
/* Whether the last failure on s was one that a new run can get past (a
 * deadlock or serialization failure): what store_txn and the dispatcher
 * (which runs a whole command again) go by. */
bool store_retryable(const struct store *s);
/* The pause before the run-th run again (1, 2, ...): a few milliseconds,
 * growing, with a random part. */
void store_retry_pause(int run);
/* Testing aid: the next n write transactions of the process fail at
 * their commit as the loser of a deadlock does (rolled back, STORE_BUSY,
 * store_retryable). */
void store_lose_commits(int n);

/* A read snapshot for a whole request: every read until
 * store_snapshot_end() shares one read transaction (one round of file
 * locks instead of one per statement). Any write (store_begin or a write
 * function) ends the snapshot first, so writes never start from a stale
 * view. No-ops when a transaction or snapshot is already open / none is. */
enum store_error store_snapshot_begin(struct store *s);
void store_snapshot_end(struct store *s);

/* Testing aid: make the next n statements fail with STORE_BUSY. */
void store_inject_busy(struct store *s, int n);

/* --- accounts --- */

struct store_account {
	int64_t id;
	const char *login;
	const char *email;
	const char *display_name;
	bool enabled;
	int64_t created;
	/* Changes whenever the password does (the tail of its salted hash):
	 * lets a credential cache notice a password change. Never log it. */
	const char *password_stamp;
	bool admin; /* may use the admin pages (easctl user admin) */
};

/* Create an account with its default folders (Inbox, Drafts, Deleted
 * Items, Sent Items, Outbox, Junk E-mail, Contacts, Calendar, Tasks,
 * Notes). The password is hashed with yescrypt. STORE_EXISTS when the login
 * or email is taken. */
enum store_error store_account_add(struct store *s, const char *login,
				   const char *email, const char *display_name,
				   const char *password, int64_t *id_r);
/* Look up by login or by email address (case-insensitive). */
enum store_error store_account_get(struct store *s, struct arena *a,
				   const char *login_or_email,
				   struct store_account *r);
enum store_error store_account_get_by_id(struct store *s, struct arena *a,
					 int64_t id, struct store_account *r);
enum store_error store_account_list(struct store *s, struct arena *a,
				    struct store_account **list_r,
				    size_t *count_r);
/* Verify a password against the stored hash (slow on purpose). STORE_OK
 * when it matches, STORE_NOTFOUND when the account is unknown or the
 * password wrong (indistinguishable, in time too: an unknown name is
 * checked against a dummy hash). Takes no lock during hashing. */
enum store_error store_account_check_password(struct store *s, struct arena *a,
					      const char *login_or_email,
					      const char *password,
					      struct store_account *r);
enum store_error store_account_set_password(struct store *s, int64_t id,
					    const char *password);
enum store_error store_account_set_enabled(struct store *s, int64_t id,
					   bool enabled);
/* Mark the account as an administrator of the web pages, or not (which
 * ends its web sessions). */
enum store_error store_account_set_admin(struct store *s, int64_t id,
					 bool admin);
/* Remove the account and everything of it. */
enum store_error store_account_delete(struct store *s, int64_t id);

/* --- web sessions (server/web) ---
 *
 * A browser's login to the admin pages (kind "admin") or the self-service
 * pages ("self"). The key is what the server derives from the cookie (a
 * digest: the cookie itself is never stored); csrf is the token its forms
 * carry. A session ends when the account is deleted or disabled, its
 * password changes, or its admin mark is taken away. */
struct store_session {
	const char *key;
	int64_t account_id;
	const char *kind;
	const char *csrf;
	int64_t created, last_used;
};

enum store_error store_session_add(struct store *s,
				   const struct store_session *sess);
/* STORE_NOTFOUND when there is no such session. */
enum store_error store_session_get(struct store *s, struct arena *a,
				   const char *key, struct store_session *r);
enum store_error store_session_touch(struct store *s, const char *key,
				     int64_t when);
/* Testing aid and expiry: set both times of a session. */
enum store_error store_session_set_times(struct store *s, const char *key,
					 int64_t created, int64_t last_used);
enum store_error store_session_remove(struct store *s, const char *key);
/* Remove sessions unused since idle_before or created before
 * created_before; *removed_r may be NULL. */
enum store_error store_session_expire(struct store *s, int64_t idle_before,
				      int64_t created_before,
				      int64_t *removed_r);
/* The sessions of an account (account_id 0: every session). */
enum store_error store_session_count(struct store *s, int64_t account_id,
				     int64_t *count_r);

/* --- policies: key/value settings, global (account 0) or per account --- */

struct store_policy_kv {
	const char *key;
	const char *value;
};
/* Effective policy of an account: global values overlaid by the account's
 * own, sorted by key. With account_id 0, the global ones only. */
enum store_error store_policy_get(struct store *s, struct arena *a,
				  int64_t account_id,
				  struct store_policy_kv **kv_r,
				  size_t *count_r);
/* Set (value != NULL) or remove a setting. Bumps the policy version so
 * provisioned devices are asked to provision again. */
enum store_error store_policy_set(struct store *s, int64_t account_id,
				  const char *key, const char *value);
/* The settings easctl policy and the admin pages know (policy-names.c):
 * their names, and the check of one: 0 with the canonical key in *key_r
 * and the normalised value in *value_r (NULL when value is NULL: an
 * unset), or -1 with *error_r (in a) for an unknown key or a value out of
 * its range. */
size_t store_policy_names(const char *const **names_r);
int store_policy_check(struct arena *a, const char *key, const char *value,
		       const char **key_r, const char **value_r,
		       const char **error_r);
/* A number that changes whenever the account's effective policy does. */
enum store_error store_policy_version(struct store *s, int64_t account_id,
				      int64_t *version_r);

/* --- devices (partnerships of an account and a DeviceId) --- */

enum store_access {
	STORE_ACCESS_ALLOWED = 0,
	STORE_ACCESS_BLOCKED = 1,
	STORE_ACCESS_QUARANTINED = 2,
};
/* "allowed", "blocked", "quarantined": as easctl and the pages show it */
const char *store_access_name(enum store_access access);

enum store_wipe {
	STORE_WIPE_NONE = 0,
	STORE_WIPE_REQUESTED = 1, /* full remote wipe pending */
	STORE_WIPE_ACKNOWLEDGED = 2,
	STORE_WIPE_ACCOUNT_REQUESTED = 3, /* 16.1 account-only wipe pending */
	STORE_WIPE_ACCOUNT_ACKNOWLEDGED = 4,
};

struct store_device_info { /* Settings/Provision DeviceInformation */
	const char *model, *imei, *friendly_name, *os, *os_language;
	const char *phone_number, *mobile_operator, *user_agent;
};

struct store_device {
	int64_t id; /* row id */
	int64_t account_id;
	const char *device_id; /* as the client sends it */
	const char *device_type;
	const char *user_agent;
	struct store_device_info info;
	const char *protocol_version;
	const char *last_command;
	int64_t first_seen, last_seen;
	uint32_t policy_key;	  /* final key, 0 = not provisioned */
	uint32_t policy_key_temp; /* phase-1 key awaiting acknowledgement */
	int64_t policy_version;	  /* store_policy_version when provisioned */
	enum store_access access;
	enum store_wipe wipe;
};

/* DeviceIds compare case-insensitively. */
enum store_error store_device_get(struct store *s, struct arena *a,
				  int64_t account_id, const char *device_id,
				  struct store_device *r);
enum store_error store_device_get_by_id(struct store *s, struct arena *a,
					int64_t id, struct store_device *r);
/* Create the partnership (STORE_EXISTS if it is there already). */
enum store_error store_device_create(struct store *s, struct arena *a,
				     int64_t account_id, const char *device_id,
				     const char *device_type,
				     const char *user_agent,
				     struct store_device *r);
/* Record a request: last seen, last command, protocol version, UA. */
enum store_error store_device_seen(struct store *s, int64_t id,
				   const char *user_agent,
				   const char *protocol_version,
				   const char *command, int64_t when);
enum store_error store_device_set_info(struct store *s, int64_t id,
				       const struct store_device_info *info);
enum store_error store_device_set_policy(struct store *s, int64_t id,
					 uint32_t policy_key_temp,
					 uint32_t policy_key,
					 int64_t policy_version);
/* Access state and wipe state changes are recorded in the device's
 * history with their time and origin ("admin", "device", ...). */
enum store_error store_device_set_access(struct store *s, int64_t id,
					 enum store_access access,
					 const char *origin);
enum store_error store_device_set_wipe(struct store *s, int64_t id,
				       enum store_wipe wipe,
				       const char *origin);
/* account_id 0 lists every device. */
enum store_error store_device_list(struct store *s, struct arena *a,
				   int64_t account_id,
				   struct store_device **list_r,
				   size_t *count_r);

struct store_device_event {
	int64_t when;
	const char *what; /* "access blocked", "wipe requested", ... */
	const char *origin;
};
enum store_error store_device_history(struct store *s, struct arena *a,
				      int64_t id,
				      struct store_device_event **list_r,
				      size_t *count_r);
/* Remove the partnership and all its sync state. */
enum store_error store_device_remove(struct store *s, int64_t id);

/* Forget what loop detection found for the device (its LOOPSTATE_BLOB,
 * common/loopstate.h), in one transaction, and make what it isolated
 * pending again; *isolated_r says how many isolated items and folders. */
enum store_error store_device_clear_loops(struct store *s, struct arena *a,
					  int64_t device_row,
					  size_t *isolated_r);

/* Small named blobs per device: the cached last Sync request ("sync"),
 * last Ping ("ping"), ... A missing blob is STORE_NOTFOUND. */
enum store_error store_device_blob_get(struct store *s, struct arena *a,
				       int64_t id, const char *name,
				       uint8_t **data_r, size_t *len_r);
enum store_error store_device_blob_set(struct store *s, int64_t id,
				       const char *name, const void *data,
				       size_t len);

/* --- folders --- */

/* EAS folder types (MS-ASCMD 2.2.3.186.3 Type). */
enum eas_folder_type {
	EAS_FOLDER_GENERIC = 1,
	EAS_FOLDER_INBOX = 2,
	EAS_FOLDER_DRAFTS = 3,
	EAS_FOLDER_DELETED = 4,
	EAS_FOLDER_SENT = 5,
	EAS_FOLDER_OUTBOX = 6,
	EAS_FOLDER_TASKS = 7,
	EAS_FOLDER_CALENDAR = 8,
	EAS_FOLDER_CONTACTS = 9,
	EAS_FOLDER_NOTES = 10,
	EAS_FOLDER_JOURNAL = 11,
	EAS_FOLDER_USER_MAIL = 12,
	EAS_FOLDER_USER_CALENDAR = 13,
	EAS_FOLDER_USER_CONTACTS = 14,
	EAS_FOLDER_USER_TASKS = 15,
	EAS_FOLDER_USER_JOURNAL = 16,
	EAS_FOLDER_USER_NOTES = 17,
	EAS_FOLDER_UNKNOWN = 18,
	EAS_FOLDER_RI_CACHE = 19,
};

/* Item classes. */
enum store_class {
	STORE_CLASS_NONE = 0,
	STORE_CLASS_EMAIL = 1,
	STORE_CLASS_CONTACTS = 2,
	STORE_CLASS_CALENDAR = 3,
	STORE_CLASS_TASKS = 4,
	STORE_CLASS_NOTES = 5,
};
/* "Email", "Contacts", ... and back; the class a folder type holds. */
const char *store_class_name(enum store_class c);
enum store_class store_class_parse(const char *name);
enum store_class store_class_of_folder_type(int type);
/* Whether the type is one of the default folders (2-11, 19). */
bool store_folder_type_is_special(int type);

struct store_folder {
	int64_t id;
	int64_t account_id;
	int64_t parent_id;	      /* 0 = top level */
	const char *server_id;	      /* stable, short, URL-safe */
	const char *parent_server_id; /* "0" for top level */
	const char *name;
	int type;	/* enum eas_folder_type */
	int64_t modseq; /* of its last change */
	int64_t created_modseq;
	bool deleted;
	/* enum store_right: STORE_RIGHT_OWNER for the account's own
	 * folders, what was granted for a shared one (see "sharing") */
	int rights;
};

enum store_error store_folder_list(struct store *s, struct arena *a,
				   int64_t account_id,
				   struct store_folder **list_r,
				   size_t *count_r);
/* By ServerId; another account's folder is STORE_NOTFOUND unless it is
 * shared with the account: then it is the owner's folder (id, account_id,
 * modseq) as the grantee sees it (server_id, parent_server_id, type, name,
 * rights). This and store_folder_get_by_id are the one resolution of a
 * folder every command goes through. */
enum store_error store_folder_get(struct store *s, struct arena *a,
				  int64_t account_id, const char *server_id,
				  struct store_folder *r);
enum store_error store_folder_get_by_id(struct store *s, struct arena *a,
					int64_t account_id, int64_t id,
					struct store_folder *r);
/* The default folder of a type (Inbox, Contacts, ...). */
enum store_error store_folder_get_by_type(struct store *s, struct arena *a,
					  int64_t account_id, int type,
					  struct store_folder *r);
/* Also matches the name case-insensitively, for easctl --folder. */
enum store_error store_folder_find(struct store *s, struct arena *a,
				   int64_t account_id, const char *name,
				   struct store_folder *r);
/* STORE_NOTFOUND parent missing, STORE_EXISTS name taken under parent.
 * origin_device is the device row making the change (0 = admin/system), so
 * it is not echoed back to that device. */
enum store_error store_folder_create(struct store *s, struct arena *a,
				     int64_t account_id, int64_t parent_id,
				     const char *name, int type,
				     int64_t origin_device,
				     struct store_folder *r);
/* Rename and/or move; STORE_INVALID for special folders or a move under
 * itself. A folder shared with the account needs the owner right
 * (STORE_DENIED) and moves only within its owner's tree;
 * STORE_FOLDER_SAME_PARENT keeps it where it is. */
#define STORE_FOLDER_SAME_PARENT (-1)
enum store_error store_folder_update(struct store *s, int64_t account_id,
				     int64_t folder_id, int64_t parent_id,
				     const char *name, int64_t origin_device);
/* Delete with its subfolders and items (tombstones). STORE_INVALID for
 * special folders; a shared folder needs the owner right (STORE_DENIED). */
enum store_error store_folder_delete(struct store *s, int64_t account_id,
				     int64_t folder_id, int64_t origin_device);

enum store_change_kind {
	STORE_CHANGE_ADD = 1,
	STORE_CHANGE_CHANGE = 2,
	STORE_CHANGE_DELETE = 3,
	STORE_CHANGE_SOFTDELETE = 4,
};

struct store_folder_change {
	enum store_change_kind kind;
	struct store_folder folder;
};
/* Hierarchy changes with modseq > since, skipping those made by
 * exclude_device; Add for folders created after since, Change for others,
 * Delete for tombstones of folders that existed at since. *hwm_r is the
 * account's current modseq. */
enum store_error store_folder_changes(struct store *s, struct arena *a,
				      int64_t account_id, int64_t since,
				      int64_t exclude_device,
				      struct store_folder_change **list_r,
				      size_t *count_r, int64_t *hwm_r);
/* The account's current modseq (cheap). */
enum store_error store_account_modseq(struct store *s, int64_t account_id,
				      int64_t *modseq_r);

/* --- sharing ---
 *
 * An account (the owner) grants another (the grantee) a right on one of
 * its folders or on the whole mailbox (folder_id 0). The grantee sees each
 * shared folder in its own hierarchy under a folder named after the owner
 * (ServerId "s<owner>"), as "s<owner>.<owner's ServerId>" with the
 * user-created type of its class; item functions called with the
 * grantee's account id reach the owner's items within the right (reading
 * needs READ, changing WRITE: STORE_DENIED otherwise), and changes take
 * the owner's modseq, so every member sees one copy. A change of a shared
 * folder is also published for each grantee (store_change account_id the
 * grantee, id the owner's folder row), a grant change as the grantee's
 * hierarchy. A shared mailbox is an account without a password whose
 * members hold OWNER on the whole mailbox and may send as it. */
enum store_right {
	STORE_RIGHT_NONE = 0,
	STORE_RIGHT_READ = 1,  /* see the items */
	STORE_RIGHT_WRITE = 2, /* add, change, delete items */
	STORE_RIGHT_OWNER = 3, /* also rename, delete, grant */
};
enum store_send_right {
	STORE_SEND_NONE = 0,
	STORE_SEND_ON_BEHALF = 1, /* From the owner, Sender the grantee */
	STORE_SEND_AS = 2,	  /* From the owner */
};
const char *store_right_name(int right);
/* "read", "write", "owner", "none"; -1 for anything else */
int store_right_parse(const char *name);

struct store_share {
	int64_t owner_id;
	int64_t folder_id; /* 0: the whole mailbox */
	int64_t grantee_id;
	int rights;	   /* enum store_right */
	int send;	   /* enum store_send_right */
	const char *owner; /* e-mail addresses, for listings */
	const char *grantee;
	const char *folder; /* the folder's name; NULL for the mailbox */
};
/* Grant (or change the grant of) rights and send on folder_id of owner
 * (0: the whole mailbox; a folder must be the owner's) to grantee.
 * rights NONE and send NONE removes the grant. STORE_INVALID for a grant
 * to oneself or a send right on a single folder. */
enum store_error store_share_set(struct store *s, int64_t owner_id,
				 int64_t folder_id, int64_t grantee_id,
				 int rights, int send);
/* STORE_NOTFOUND when there is no such grant. */
enum store_error store_share_remove(struct store *s, int64_t owner_id,
				    int64_t folder_id, int64_t grantee_id);
/* The grants account_id gives or holds (0: every grant), by owner. */
enum store_error store_share_list(struct store *s, struct arena *a,
				  int64_t account_id,
				  struct store_share **list_r, size_t *count_r);
/* What account_id may send as owner_id (enum store_send_right; the
 * account itself: STORE_SEND_AS). */
enum store_error store_share_send_right(struct store *s, int64_t account_id,
					int64_t owner_id, int *send_r);
/* The accounts with a right on the owner's folder (folder_id 0: on its
 * whole mailbox), in a. */
enum store_error store_share_grantees(struct store *s, struct arena *a,
				      int64_t owner_id, int64_t folder_id,
				      int64_t **ids_r, size_t *count_r);
/* Mark the account as a shared mailbox: no password of its own (nobody
 * logs in as it), shown as such in the address list. */
enum store_error store_account_set_shared(struct store *s, int64_t id,
					  bool shared);
enum store_error store_account_is_shared(struct store *s, int64_t id,
					 bool *shared_r);

/* --- items --- */

struct store_item_text;

/* Columns extracted once so items can be filtered, sorted and listed
 * without parsing the stored format. */
struct store_item_meta {
	int64_t date;	  /* email received, event start, task due, note
			     modified; 0 = none */
	int64_t date_end; /* event end (INT64_MAX for endless recurrence);
			     the FilterType window tests date_end >= since */
	bool read;	  /* email */
	int flag_status;  /* email flag: 0 cleared, 1 complete, 2 active */
	bool complete;	  /* tasks */
	int64_t size;	  /* bytes of the stored data */
	const char *subject;
	const char *message_id; /* email Message-ID */
	const char *uid;	/* iCalendar UID / vCard UID */
};

struct store_item {
	int64_t id;
	int64_t account_id;
	int64_t folder_id;
	const char *server_id; /* "<folder server id>:<n>", URL-safe */
	enum store_class cls;
	const uint8_t *data; /* the standard format: MIME, vCard,
				iCalendar, note text; NUL terminated */
	size_t data_len;
	const uint8_t *extra; /* class-specific side data (flags,
				 categories, properties without a standard
				 home); may be NULL */
	size_t extra_len;
	struct store_item_meta meta;
	int64_t modseq;
	int64_t origin_device; /* device row of the last change, 0 admin */
	bool deleted;
};

/* Add an item; fills item->id, server_id (in a), modseq. The folder must
 * belong to the account (STORE_NOTFOUND otherwise). */
enum store_error store_item_add(struct store *s, struct arena *a,
				int64_t account_id, int64_t folder_id,
				struct store_item *item, int64_t origin_device);
/* The same for an email item with what the search index gets of it (see
 * "mailbox search"), written in the same transaction (one FTS5 segment per
 * commit: for a single message, batches from the queue cost less).
 * store_item_add queues email for later indexing instead (text NULL does
 * too). */
enum store_error store_item_add_with_text(struct store *s, struct arena *a,
					  int64_t account_id, int64_t folder_id,
					  struct store_item *item,
					  int64_t origin_device,
					  const struct store_item_text *text);
/* Replace data, extra and meta of an existing item (email: its index
 * entry is queued to be made again). */
enum store_error store_item_update(struct store *s, int64_t account_id,
				   int64_t item_id,
				   const struct store_item *item,
				   int64_t origin_device);
/* Change only extra and meta (email flags, read state, categories). */
enum store_error store_item_update_meta(struct store *s, int64_t account_id,
					int64_t item_id, const void *extra,
					size_t extra_len,
					const struct store_item_meta *meta,
					int64_t origin_device);
/* Leave a tombstone. */
enum store_error store_item_delete(struct store *s, int64_t account_id,
				   int64_t item_id, int64_t origin_device);
/* Move to another folder of the same account; the item gets a new id and
 * ServerId in the destination (*new_r, in a) and a tombstone in the
 * source. */
enum store_error store_item_move(struct store *s, struct arena *a,
				 int64_t account_id, int64_t item_id,
				 int64_t dst_folder_id, int64_t origin_device,
				 struct store_item *new_r);
/* By ServerId; another account's item is STORE_NOTFOUND. with_data=false
 * skips loading data (meta only). Tombstones are STORE_NOTFOUND. */
enum store_error store_item_get(struct store *s, struct arena *a,
				int64_t account_id, const char *server_id,
				bool with_data, struct store_item *r);
enum store_error store_item_get_by_id(struct store *s, struct arena *a,
				      int64_t account_id, int64_t id,
				      bool with_data, struct store_item *r);
/* The live item of class cls with that iCalendar/vCard UID in any
 * folder of the account (the oldest when there are several), with data;
 * STORE_NOTFOUND when none. */
enum store_error store_item_by_uid(struct store *s, struct arena *a,
				   int64_t account_id, enum store_class cls,
				   const char *uid, struct store_item *r);
/* Items of a folder in id order after after_id, at most max (export,
 * EmptyFolderContents, easctl). */
enum store_error store_item_list(struct store *s, struct arena *a,
				 int64_t account_id, int64_t folder_id,
				 int64_t after_id, size_t max, bool with_data,
				 struct store_item **list_r, size_t *count_r);
/* Count of live items in a folder. */
enum store_error store_item_count(struct store *s, int64_t folder_id,
				  int64_t *count_r);

/* --- per-device sync state --- */

/* One row per (device, folder); folder_id 0 is the hierarchy. It keeps the
 * current key and the previous one with the response that answered it, so
 * a repeated previous key is answered byte for byte the same. */
struct store_sync_state {
	int64_t id; /* 0 until saved */
	int64_t device_id;
	int64_t folder_id;
	const char *cur_key;
	const char *prev_key;	 /* NULL when none */
	int64_t hwm;		 /* highest modseq the device was sent */
	int64_t filter_since;	 /* FilterType window of the last sync */
	int64_t backfill_after;	 /* item id cursor after the window widened;
				    -1 = no backfill running */
	const uint8_t *response; /* cached answer for prev_key -> cur_key;
				    NULL after store_sync_get (see
				    store_sync_response) */
	size_t response_len;	 /* its stored length even when not
				    loaded */
	const uint8_t *options;	 /* the device's last Options, serialized */
	size_t options_len;
};

enum store_error store_sync_get(struct store *s, struct arena *a,
				int64_t device_id, int64_t folder_id,
				struct store_sync_state *r);
/* Load the cached response into r (r->id must be set). */
enum store_error store_sync_response(struct store *s, struct arena *a,
				     struct store_sync_state *r);
/* Insert or update the row (all fields). A response left NULL with a
 * non-zero response_len (not loaded) keeps the stored one; set both to
 * NULL/0 to drop it. */
enum store_error store_sync_save(struct store *s, struct store_sync_state *st);
/* What a device's sync states say, for administrators: one entry per
 * folder it syncs (folder_id 0: the folder hierarchy, name NULL), with when
 * its state last advanced. */
struct store_sync_info {
	int64_t folder_id;
	const char *folder_name; /* NULL for the hierarchy or a gone folder */
	int folder_type;	 /* enum eas_folder_type, 0 when unknown */
	int64_t synced;		 /* 0 = before easd recorded it */
	const char *key;	 /* the current SyncKey */
};
enum store_error store_sync_list(struct store *s, struct arena *a,
				 int64_t device_id,
				 struct store_sync_info **list_r,
				 size_t *count_r);
/* Start over: forget what the device holds in the folder. */
enum store_error store_sync_reset(struct store *s, int64_t device_id,
				  int64_t folder_id);
/* folder_id < 0: every folder of the device. */
enum store_error store_sync_delete(struct store *s, int64_t device_id,
				   int64_t folder_id);

struct store_sync_filter {
	int64_t since;	      /* items with date_end < since are out of
				 the window; 0 = no window */
	bool incomplete_only; /* tasks FilterType 8 */
};

struct store_sync_change {
	enum store_change_kind kind;
	struct store_item item; /* with data for ADD/CHANGE */
};

/* The next server changes for a device in a folder, at most max:
 *  - items with modseq > st->hwm, not last changed by the device itself:
 *    ADD when the device does not hold the item, CHANGE when it does,
 *    DELETE for tombstones it holds (others are skipped);
 *  - SOFTDELETE for held items that fell out of the filter window;
 *  - ADD for items inside the window that the device does not hold when
 *    st->backfill_after >= 0 (the window widened).
 * Items outside the filter are never added. Costs O(max), not O(folder).
 * *more_r says whether more changes remain. st->hwm and
 * st->backfill_after are advanced in place (the caller saves st), and so is
 * st->filter_since (to filter->since once the soft deletes it implies are
 * all sent), so callers leave filter_since to this function after the
 * first save. Order: changes by modseq, then SOFTDELETEs, then backfill
 * ADDs. STORE_NOTFOUND when the folder is gone. */
enum store_error store_sync_changes(struct store *s, struct arena *a,
				    struct store_sync_state *st,
				    const struct store_sync_filter *filter,
				    size_t max, bool with_data,
				    struct store_sync_change **list_r,
				    size_t *count_r, bool *more_r);
/* Number of changes store_sync_changes would return without a limit. */
enum store_error store_sync_count(struct store *s,
				  const struct store_sync_state *st,
				  const struct store_sync_filter *filter,
				  int64_t *count_r);
/* Whether any change is pending (cheap; for no-change syncs and Ping). */
enum store_error store_sync_pending(struct store *s,
				    const struct store_sync_state *st,
				    const struct store_sync_filter *filter,
				    bool *pending_r);
/* Record what the device now holds: present=true at modseq, false when it
 * no longer holds the item. Called for every change sent and every client
 * command applied. */
enum store_error store_sync_mark(struct store *s, int64_t state_id,
				 int64_t item_id, int64_t modseq, bool present);
/* The modseq at which the device holds the item; STORE_NOTFOUND if it
 * does not hold it (conflict detection). */
enum store_error store_sync_held(struct store *s, int64_t state_id,
				 int64_t item_id, int64_t *modseq_r);

/* --- addresses: what an account receives as and sends as --- */

/* The account an address belongs to: its login, its e-mail address or one
 * of its aliases (case-insensitive; an account's own address wins over
 * another's alias). STORE_NOTFOUND when none. */
enum store_error store_account_by_address(struct store *s, struct arena *a,
					  const char *address,
					  struct store_account *r);
/* STORE_EXISTS when the address is an account's login, e-mail address or
 * alias already; STORE_INVALID when it is not an address. */
enum store_error store_alias_add(struct store *s, int64_t account_id,
				 const char *address);
/* STORE_NOTFOUND when the account has no such alias. */
enum store_error store_alias_remove(struct store *s, int64_t account_id,
				    const char *address);
/* The account's aliases, sorted (in a). */
enum store_error store_alias_list(struct store *s, struct arena *a,
				  int64_t account_id, const char ***list_r,
				  size_t *count_r);

/* --- sending --- */

/* How long a submission's ClientId is remembered (store_gc). */
#define STORE_SUBMISSION_KEEP_S (7 * 24 * 3600)

/* Record a submission (SendMail, SmartReply, SmartForward, a draft sent)
 * of `recipients` recipients. client_id NULL: none (12.x). STORE_EXISTS
 * when the account submitted that ClientId before (MS-ASCMD status 118:
 * the message was sent already). */
enum store_error store_submission_add(struct store *s, int64_t account_id,
				      const char *client_id, int64_t when,
				      int recipients);
/* Recipients the account submitted since `since` (the sending limit). */
enum store_error store_submission_recipients(struct store *s,
					     int64_t account_id, int64_t since,
					     int64_t *count_r);

/* The outbound queue: a message for remote recipients, one entry per
 * recipient. */
struct store_outbound {
	int64_t id;	    /* the recipient's entry */
	int64_t message_id; /* the message's row */
	int64_t account_id;
	const char *envelope_from;
	const char *message_ident; /* its Message-ID, for logs */
	const char *rcpt;
	const uint8_t *data; /* the message (store_outbound_claim only) */
	size_t len;
	int64_t created, next_attempt, expires;
	int attempts;
	const char *last_reply; /* NULL before the first attempt */
};

/* Queue a message for rcpts (n at least 1), first attempt now, given up
 * at expires. */
enum store_error store_outbound_add(struct store *s, int64_t account_id,
				    const char *envelope_from,
				    const char *message_ident, const char *data,
				    size_t len, const char *const *rcpts,
				    size_t n, int64_t now, int64_t expires);
/* The entries due at now (at most max, oldest first), with their message,
 * and claim them: they are not due again before lease_until, so a runner
 * that dies mid-submission leaves them to be tried again. */
enum store_error store_outbound_claim(struct store *s, struct arena *a,
				      int64_t now, int64_t lease_until,
				      size_t max,
				      struct store_outbound **list_r,
				      size_t *count_r);
/* The earliest next attempt; STORE_NOTFOUND when the queue is empty. */
enum store_error store_outbound_next_due(struct store *s, int64_t *when_r);
/* An attempt failed for now: try again at next_attempt. */
enum store_error store_outbound_defer(struct store *s, int64_t id,
				      int64_t next_attempt, const char *reply);
/* The entry is done (relayed, or given up and reported); the message goes
 * with its last entry. */
enum store_error store_outbound_remove(struct store *s, int64_t id);
/* The queue for easctl (account 0: everybody's), without message data. */
enum store_error store_outbound_list(struct store *s, struct arena *a,
				     int64_t account_id,
				     struct store_outbound **list_r,
				     size_t *count_r);
/* Make an entry (0: every entry) due at now. STORE_NOTFOUND when there
 * is no such entry. */
enum store_error store_outbound_retry(struct store *s, int64_t id, int64_t now);
/* Entries queued (easctl stats). */
enum store_error store_outbound_count(struct store *s, int64_t *count_r);

/* --- out of office (MS-ASCMD 2.2.3.122 Oof) --- */

enum store_oof_audience {
	STORE_OOF_INTERNAL = 0, /* accounts of this server */
	STORE_OOF_KNOWN = 1,	/* outside, in the user's contacts */
	STORE_OOF_EXTERNAL = 2, /* anyone else */
};

struct store_oof_message {
	bool enabled;
	const char *text; /* NULL when none */
	bool html;	  /* text is HTML (BodyType HTML) */
};

struct store_oof {
	int state;	    /* 0 off, 1 on, 2 on from start to end */
	int64_t start, end; /* OofState 2 */
	struct store_oof_message msg[3]; /* by enum store_oof_audience */
	int64_t changed;		 /* when it was last set; 0 never */
};

/* The account's settings; off (all zero) when never set. */
enum store_error store_oof_get(struct store *s, struct arena *a,
			       int64_t account_id, struct store_oof *r);
/* Replace them (changed is set to now), and forget whom the account has
 * answered: new settings answer everybody once again. A change wakes no
 * device. */
enum store_error store_oof_set(struct store *s, int64_t account_id,
			       const struct store_oof *oof);
/* One automatic reply per sender per period: true in *claimed_r (and the
 * reply recorded at now) when the account answered sender not since
 * now - period. */
enum store_error store_oof_claim(struct store *s, int64_t account_id,
				 const char *sender, int64_t now,
				 int64_t period, bool *claimed_r);
/* Whether one of the account's contacts carries address. */
enum store_error store_contacts_have_address(struct store *s,
					     int64_t account_id,
					     const char *address,
					     bool *found_r);

/* Small settings of the installation (a running easd tells easctl): "relay"
 * 1 when easd has a relay for outside mail. 0 when never set. */
enum store_error store_meta_get(struct store *s, const char *key,
				int64_t *value_r);
enum store_error store_meta_set(struct store *s, const char *key,
				int64_t value);

/* --- housekeeping and statistics --- */

/* Drop tombstones no device holds any more. */
enum store_error store_gc(struct store *s, int64_t *removed_r);

struct store_stats {
	int64_t accounts, devices, folders;
	int64_t items[6]; /* indexed by enum store_class */
	int64_t db_bytes;
};
enum store_error store_stats(struct store *s, struct store_stats *r);

/* How many statements of this process failed with an error that was not
 * an answer (not found, exists, conflict) or contention (busy): corrupt
 * or unreadable files, I/O, full disks. */
uint64_t store_error_count(void);
/* Devices whose last request was at or after since. */
enum store_error store_devices_seen_since(struct store *s, int64_t since,
					  int64_t *count_r);

/* PRAGMA integrity_check == ok. */
enum store_error store_check(struct store *s);

/* --- per-device debug tracing (trace.c) --- */

/* easctl debug on USER [DEVICE]: the server logs that device's requests
 * and responses. device_id "" traces every device of the account. */
struct store_trace {
	int64_t account_id;
	const char *login;
	const char *device_id; /* "" = every device */
	bool bodies;	       /* bodies and MIME are logged, not elided */
	int64_t since;
};
/* Switch tracing on (again, with these options) or off (NULL device:
 * every entry of the account); STORE_NOTFOUND when off found none. */
enum store_error store_trace_on(struct store *s, int64_t account_id,
				const char *device_id, bool bodies);
enum store_error store_trace_off(struct store *s, int64_t account_id,
				 const char *device_id);
enum store_error store_trace_list(struct store *s, struct arena *a,
				  struct store_trace **list_r, size_t *count_r);

/* --- backup and restore (backup.c) --- */

/* Copy every row of src into dst, an empty store of any backend (easctl
 * migrate: an SQLite data directory into PostgreSQL), ids, sync states and
 * cached answers as they are, so that devices go on with the keys they
 * hold; then compare each table's row count. One snapshot of src, one
 * transaction in dst: on failure dst stays empty. progress (may be NULL)
 * hears each table with the rows copied. STORE_EXISTS when dst already
 * holds accounts; *error_r (static) says what failed. Neither connection
 * may have a transaction open. */
typedef void store_copy_progress_fn(void *ctx, const char *table, int64_t rows);
enum store_error store_copy(struct store *src, struct store *dst,
			    store_copy_progress_fn *progress, void *ctx,
			    const char **error_r);

/* Write a consistent copy of the database (everything committed, the WAL
 * included) to path while other connections go on writing: one snapshot
 * through SQLite's online backup API, written to path.tmp, checked,
 * synced and renamed over path. The copy is one self-contained file
 * (rollback-journal mode). The connection must have no open transaction.
 * *error_r (static) says what failed. */
enum store_error store_backup(struct store *s, const char *path,
			      const char **error_r);
/* Check a database file without changing it (opened read-only, not
 * migrated): *version_r is its schema version, *msgs_r (NULL terminated,
 * in a) the problems of the integrity and foreign-key checks, *n_r how
 * many (0: sound; at most 100 are listed). STORE_NOTFOUND when it cannot
 * be opened, STORE_CORRUPT when it is no easd database, with *error_r. */
enum store_error store_file_check(const char *path, struct arena *a,
				  int *version_r, const char ***msgs_r,
				  size_t *n_r, const char **error_r);
/* The same checks on an open connection's database; on PostgreSQL the
 * store's own invariants in SQL (check-pg.c). */
enum store_error store_check_report(struct store *s, struct arena *a,
				    const char ***msgs_r, size_t *n_r);
/* Replace the database at db_path with a copy of the backup file, which
 * must pass the checks and not be newer than this code (it is migrated
 * when next opened). The current database, with its WAL, is moved to
 * keep_path (NULL: removed). No process may have db_path open: the caller
 * makes sure (the data directory's lock). */
enum store_error store_restore(const char *backup, const char *db_path,
			       const char *keep_path, const char **error_r);

/* --- testing aids --- */

/* Like store_open, but migrate only up to schema version `version` (at most
 * store_schema_version()), to build files as an older easd left them. */
enum store_error store_open_at_version(const char *path, int version,
				       struct store **store_r,
				       const char **error_r);
/* The schema version of the open database file (PRAGMA user_version). */
enum store_error store_db_version(struct store *s, int *version_r);

/* --- mailbox search (search.c) ---
 *
 * A full-text index of every live email item: subject, addresses, body
 * text and attachment names. Moves and deletes keep it current in their
 * own transaction. The text comes from the caller as plain strings (conv
 * extracts it): the store parses no MIME. Items added without text (every
 * delivery, 16.x drafts from Sync, mailboxes older than the index) wait in
 * a queue, written in the item's transaction, until someone indexes them
 * in batches: easd's indexer thread, or a search of the account first. */

struct store_item_text {
	const char *subject;
	const char *addresses;	  /* From, To, Cc: names and addresses */
	const char *body;	  /* plain text; the store indexes at most
				     STORE_SEARCH_BODY_MAX bytes of it */
	const char *attachments;  /* attachment file names */
	const char *conversation; /* ConversationId in hex, or NULL */
};

#define STORE_SEARCH_BODY_MAX (256 * 1024)
/* Limits of one query: longer or larger ones are STORE_INVALID. */
#define STORE_SEARCH_TEXT_MAX 1024
#define STORE_SEARCH_WORDS_MAX 32
#define STORE_SEARCH_NODES_MAX 64
#define STORE_SEARCH_DEPTH_MAX 8

/* A query: a tree of conditions (MS-ASCMD 2.2.3.142.2 Query). */
enum store_search_kind {
	STORE_SEARCH_AND = 1, /* every child; none = true */
	STORE_SEARCH_OR,      /* any child; none = false */
	STORE_SEARCH_TEXT,    /* every word of text, in any indexed field */
	STORE_SEARCH_FOLDER,  /* in folder row `value` (deep: or below) */
	STORE_SEARCH_CONVERSATION, /* ConversationId, text in hex */
	STORE_SEARCH_AFTER,	   /* received after `value` (unix time) */
	STORE_SEARCH_BEFORE,	   /* received before `value` */
	STORE_SEARCH_NOTHING,	   /* matches nothing (another class) */
};

struct store_search_cond {
	enum store_search_kind kind;
	const char *text;
	int64_t value;
	bool deep;
	struct store_search_cond *child, *next;
};

/* The account's live email items matching cond, newest first (by the
 * received date, then id), items [offset, offset + max) of them in
 * *items_r (in a; with data when with_data) and how many match in all in
 * *total_r. STORE_INVALID when the query is beyond the limits above or a
 * text condition holds no word to search for. Only the account's own
 * items are ever considered. */
enum store_error store_search_mail(struct store *s, struct arena *a,
				   int64_t account_id,
				   const struct store_search_cond *cond,
				   size_t offset, size_t max, bool with_data,
				   struct store_item **items_r, size_t *count_r,
				   int64_t *total_r);

/* The FTS5 query string for the user's words (in a): each word a quoted
 * FTS5 string, so nothing the user types is query syntax; CJK characters
 * become one token each and a run of them a phrase (see search.c). Words
 * with nothing to search for (only punctuation) are dropped. Returns the
 * number of words kept, or -1 when text is longer than
 * STORE_SEARCH_TEXT_MAX or has more than STORE_SEARCH_WORDS_MAX words.
 * prefix: the last token of every word matches as a prefix (the GAL). */
int store_search_fts_query(struct arena *a, const char *text, bool prefix,
			   const char **query_r);
/* The text as the index sees it (in a): CJK characters spaced apart. */
const char *store_search_segment(struct arena *a, const char *text);

/* Items waiting to be indexed: up to max of the account's (account_id 0:
 * anybody's), with data, oldest first (newest first when asked: a search
 * takes the mail that just came before what an old mailbox queued), and
 * no more once their data passes max_bytes (0: no limit; one item comes
 * whatever its size). */
enum store_error store_search_pending(struct store *s, struct arena *a,
				      int64_t account_id, size_t max,
				      size_t max_bytes, bool newest_first,
				      struct store_item **items_r,
				      size_t *count_r);
/* How many wait (account_id 0: in all). */
enum store_error store_search_pending_count(struct store *s, int64_t account_id,
					    int64_t *count_r);
/* Index (or re-index) one live email item with text and take it off the
 * queue. STORE_NOTFOUND when the item is gone (it leaves the queue);
 * STORE_CONFLICT when modseq (not 0) is no longer the item's, so the text
 * may be stale (it stays queued). */
enum store_error store_search_index(struct store *s, int64_t account_id,
				    int64_t item_id, int64_t modseq,
				    const struct store_item_text *text);
/* Queue every live email item of the account (0: of everyone) again:
 * easctl search reindex. */
enum store_error store_search_requeue(struct store *s, int64_t account_id,
				      int64_t *queued_r);
/* Off: mail is neither indexed nor queued, as on a server without the
 * index. Only for the benchmark's reference run; call before any store is
 * opened. */
void store_search_set_indexing(bool on);
/* Whether this store searches mail (and the address list): SQLite's FTS5
 * and PostgreSQL's own full-text search (search-pg.c) both do. */
bool store_search_available(struct store *s);

/* --- the address list (gal.c) ---
 *
 * Every enabled account (display name, login, e-mail address and aliases,
 * and the properties an administrator sets) and the shared contacts an
 * administrator publishes. Nothing else of an account is ever read here:
 * no password hash, no mail. */

struct store_gal_entry {
	int64_t account_id; /* 0 for a published contact */
	int64_t entry_id;   /* the published contact's row, 0 for accounts */
	const char *display_name, *first_name, *last_name;
	const char *email, *alias; /* alias: the login for accounts */
	const char *phone, *mobile, *home_phone;
	const char *office, *title, *company, *department;
	const uint8_t *photo; /* JPEG; only when asked for */
	size_t photo_len;
	const char *uid; /* published contacts: the vCard UID */
};

/* Entries whose names or addresses start with every word of query (word
 * prefixes, accents ignored), by display name; entries [offset, offset +
 * max) in *list_r (in a), the count of all in *total_r. STORE_INVALID
 * when the query has no word or too many. */
enum store_error store_gal_search(struct store *s, struct arena *a,
				  const char *query, size_t offset, size_t max,
				  bool with_photo,
				  struct store_gal_entry **list_r,
				  size_t *count_r, int64_t *total_r);
/* The GAL entry of an enabled account (STORE_NOTFOUND otherwise). */
enum store_error store_gal_account(struct store *s, struct arena *a,
				   int64_t account_id, bool with_photo,
				   struct store_gal_entry *r);

/* Administrator-set properties of an account. */
enum store_gal_field {
	STORE_GAL_FIRST_NAME = 0,
	STORE_GAL_LAST_NAME,
	STORE_GAL_PHONE,
	STORE_GAL_MOBILE,
	STORE_GAL_HOME_PHONE,
	STORE_GAL_OFFICE,
	STORE_GAL_TITLE,
	STORE_GAL_COMPANY,
	STORE_GAL_DEPARTMENT,
	STORE_GAL_NFIELDS,
};
/* Set (value non-NULL, non-empty) or clear a property. STORE_INVALID for
 * a value with control characters or over 256 bytes. */
enum store_error store_account_set_prop(struct store *s, int64_t account_id,
					enum store_gal_field field,
					const char *value);
/* Set (len > 0) or clear the account's photo (at most
 * STORE_GAL_PHOTO_MAX bytes). */
#define STORE_GAL_PHOTO_MAX (256 * 1024)
enum store_error store_account_set_photo(struct store *s, int64_t account_id,
					 const void *data, size_t len);
/* Publish a shared contact; one with the same uid (or, without a uid, the
 * same e-mail address) is replaced. *id_r (may be NULL) gets its row. */
enum store_error store_gal_entry_put(struct store *s,
				     const struct store_gal_entry *e,
				     int64_t *id_r);
/* Remove a published contact (id 0: all of them); *removed_r may be
 * NULL. */
enum store_error store_gal_entry_remove(struct store *s, int64_t id,
					int64_t *removed_r);
/* The published contacts, by display name. */
enum store_error store_gal_entry_list(struct store *s, struct arena *a,
				      struct store_gal_entry **list_r,
				      size_t *count_r);

/* --- items for free/busy and recipient resolution --- */

/* The account's live items of class cls whose [date, date_end] overlaps
 * [from, to) (calendar: every event and series that may have an
 * occurrence then), with data, at most max (then *more_r). */
enum store_error store_item_list_range(struct store *s, struct arena *a,
				       int64_t account_id, enum store_class cls,
				       int64_t from, int64_t to, size_t max,
				       struct store_item **list_r,
				       size_t *count_r, bool *more_r);
/* The account's live items of class cls whose subject or stored data
 * contains text (ASCII case ignored), with data, at most max: candidates
 * for the caller to check (ResolveRecipients against Contacts). */
enum store_error store_item_find_text(struct store *s, struct arena *a,
				      int64_t account_id, enum store_class cls,
				      const char *text, size_t max,
				      struct store_item **list_r,
				      size_t *count_r);

#endif
