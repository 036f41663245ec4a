/* A read-mostly cache of what every request reads before its command:
 * the account (names, enabled, password stamp), its policy version and
 * the device partnership. A phone polls with the same account and device
 * all day long; without this each request paid a SQLite read transaction
 * (file locks included) for rows that change a few times a year.
 *
 * Entries are dropped by the store's change notifications (ACCOUNT and
 * DEVICE changes, in this process before the committing call returns).
 * Other processes' changes (easctl) reach this process through the
 * notification socket: while one is on its way the cache is not used at
 * all (store_subscription_behind), so that a request that comes after
 * `easctl user passwd` returns never sees the old state. A committer
 * waits for room when this process is behind (store/notify.c); should
 * this process not take a notification for seconds, it is lost, and so
 * entries also expire after a minute. A fill that raced with a change is not
 * kept: every change bumps a generation, and a request fills only with the
 * generation it took before its read snapshot began.
 *
 * A device entry also remembers the hierarchy key its last FolderSync was
 * answered "no change" with: until the account's folder tree changes
 * (HIERARCHY) or the device does, the same key gets the same answer
 * without a read. Likewise the Sync request its last Sync was answered "no
 * change" to (the whole request, encoded), with the folders it named: until
 * one of them changes (FOLDER, counted per folder), the folder tree does
 * or the device does, the same request gets the same empty answer. The
 * device's own Syncs move its sync state without a notification: every
 * Sync that is not answered this way forgets the request when it begins
 * and when it ends, and a Sync remembers only if no other one of the
 * device began since its own began (a token). */
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

#define STANDING_TTL_MS (60 * 1000)
/* Entries at most; past it the cache starts again empty. */
#define STANDING_MAX 100000
/* standing_gen() while another process's change is on its way: the
 * request reads the store. */
#define GEN_BYPASS UINT64_MAX

struct standing_account {
	struct store_account a; /* strings on the heap */
	bool have_policy;
	int64_t policy_version;
	uint64_t expires;
};

struct standing_device {
	struct store_device d; /* strings in the entry's allocation */
	const char *key;       /* the table's key, likewise */
	GHashTable *rows;      /* standing.device_rows, which names it */
	uint64_t expires;
	char *hier_key;	     /* FolderSync with it: no change; NULL = unknown */
	uint64_t sync_token; /* of the Sync of the device that began last */
	uint8_t *sync_req;   /* Sync request answered no change; NULL = none */
	size_t sync_req_len;
	size_t sync_nfolders;
	int64_t *sync_folders;	   /* the folders it named */
	uint64_t *sync_folder_gen; /* their change counts then */
};

struct standing_folder {
	int64_t id;
	uint64_t changes; /* FOLDER notifications seen */
};

struct standing {
	pthread_mutex_t mu;
	GHashTable *accounts;	 /* int64 id -> struct standing_account */
	GHashTable *devices;	 /* "account|deviceid" (lower case) -> ... */
	GHashTable *device_rows; /* int64 row id -> the same entries */
	GHashTable *folders;	 /* int64 id -> struct standing_folder */
	uint64_t gen;		 /* bumped by every change */
	uint64_t sync_tokens;	 /* the last token given out */
	struct store_subscription *sub;
	uint64_t hits, misses;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static const char *
arena_dup_or_null(struct arena *a, const char *s)
{
	return s != NULL ? arena_strdup(a, s) : NULL;
}

static void
account_free(gpointer p)
{
	struct standing_account *e = p;

	free((char *)e->a.login);
	free((char *)e->a.email);
	free((char *)e->a.display_name);
	free((char *)e->a.password_stamp);
	free(e);
}

#define DEVICE_STRINGS(X)                                                      \
	X(device_id)                                                           \
	X(device_type)                                                         \
	X(user_agent)                                                          \
	X(info.model)                                                          \
	X(info.imei)                                                           \
	X(info.friendly_name)                                                  \
	X(info.os)                                                             \
	X(info.os_language)                                                    \
	X(info.phone_number)                                                   \
	X(info.mobile_operator)                                                \
	X(info.user_agent)                                                     \
	X(protocol_version)                                                    \
	X(last_command)

/* An entry, its strings and its key are one allocation: there is one per
 * device that was seen in the last minute, up to 100,000 of them. */
static struct standing_device *
device_new(const struct store_device *d, const char *key)
{
	struct standing_device *e;
	size_t len = strlen(key) + 1;
	char *p;

#define LEN_ONE(f) len += d->f != NULL ? strlen(d->f) + 1 : 0;
	DEVICE_STRINGS(LEN_ONE)
#undef LEN_ONE
	e = xcalloc(1, sizeof(*e) + len);
	e->d = *d;
	p = (char *)(e + 1);
#define PUT_ONE(f)                                                             \
	if (d->f != NULL) {                                                    \
		size_t n = strlen(d->f) + 1;                                   \
                                                                               \
		e->d.f = memcpy(p, d->f, n);                                   \
		p += n;                                                        \
	}
	DEVICE_STRINGS(PUT_ONE)
#undef PUT_ONE
	e->key = strcpy(p, key);
	return e;
}

static void
device_free(gpointer p)
{
	struct standing_device *e = p;

	if (g_hash_table_lookup(e->rows, &e->d.id) == e)
		g_hash_table_remove(e->rows, &e->d.id);
	free(e->hier_key);
	free(e->sync_req);
	free(e->sync_folders);
	free(e->sync_folder_gen);
	free(e);
}

static void
sync_forget(struct standing_device *e)
{
	free(e->sync_req);
	free(e->sync_folders);
	free(e->sync_folder_gen);
	e->sync_req = NULL;
	e->sync_req_len = 0;
	e->sync_folders = NULL;
	e->sync_folder_gen = NULL;
	e->sync_nfolders = 0;
}

/* With c->mu held: the FOLDER notifications seen for folder id. */
static uint64_t
folder_changes(struct standing *c, int64_t id)
{
	struct standing_folder *f = g_hash_table_lookup(c->folders, &id);

	return f != NULL ? f->changes : 0;
}

static char *
device_key(int64_t account_id, const char *device_id)
{
	char *lower = g_ascii_strdown(device_id, -1);
	char *key = xasprintf("%lld|%s", (long long)account_id, lower);

	g_free(lower);
	return key;
}

static gboolean
device_of_account(gpointer key, gpointer value, gpointer data)
{
	const struct standing_device *e = value;
	const int64_t *account_id = data;

	(void)key;
	return e->d.account_id == *account_id;
}

static void
forget_hierarchy(gpointer key, gpointer value, gpointer data)
{
	struct standing_device *e = value;
	const int64_t *account_id = data;

	(void)key;
	if (e->d.account_id == *account_id) {
		free(e->hier_key);
		e->hier_key = NULL;
		sync_forget(e);
	}
}

/* With c->mu held. */
static void
folder_changed(struct standing *c, int64_t id)
{
	struct standing_folder *f = g_hash_table_lookup(c->folders, &id);

	if (f == NULL) {
		/* past the bound all entries go, and with them every
		 * remembered request that could read the counts */
		if (g_hash_table_size(c->folders) >= STANDING_MAX) {
			g_hash_table_remove_all(c->devices);
			g_hash_table_remove_all(c->folders);
		}
		f = xcalloc(1, sizeof(*f));
		f->id = id;
		g_hash_table_insert(c->folders, &f->id, f);
	}
	f->changes++;
}

/* With c->mu held. */
static void
forget(struct standing *c, const struct store_change *ch)
{
	int64_t id;

	switch (ch->what) {
	case STORE_CHANGED_FOLDER:
		if (ch->account_id == 0) {
			/* any folder: every remembered request and count */
			g_hash_table_remove_all(c->devices);
			g_hash_table_remove_all(c->folders);
			break;
		}
		folder_changed(c, ch->id);
		break;
	case STORE_CHANGED_HIERARCHY:
		id = ch->account_id;
		g_hash_table_foreach(c->devices, forget_hierarchy, &id);
		break;
	case STORE_CHANGED_ACCOUNT:
		if (ch->account_id == 0) {
			g_hash_table_remove_all(c->accounts);
			g_hash_table_remove_all(c->devices);
			break;
		}
		id = ch->account_id;
		g_hash_table_remove(c->accounts, &id);
		g_hash_table_foreach_remove(c->devices, device_of_account, &id);
		break;
	case STORE_CHANGED_DEVICE: {
		/* one lookup: every device's first request in a minute
		 * changes it, and every process hears of it */
		struct standing_device *e;

		id = ch->id;
		e = g_hash_table_lookup(c->device_rows, &id);
		if (e != NULL)
			g_hash_table_remove(c->devices, e->key);
		break;
	}
	default:
		return;
	}
	c->gen++;
}

static void
changed(void *ctx, const struct store_change *changes, size_t count)
{
	struct standing *c = ctx;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < count; i++)
		forget(c, &changes[i]);
	pthread_mutex_unlock(&c->mu);
}

struct standing *
standing_new(const char *db_path, const char **error_r)
{
	struct standing *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->accounts = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					    account_free);
	c->devices = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					   device_free);
	c->device_rows = g_hash_table_new(g_int64_hash, g_int64_equal);
	c->folders =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, free);
	if (store_subscribe(db_path, false, changed, c, &c->sub, error_r) !=
	    STORE_OK) {
		standing_free(&c);
		return NULL;
	}
	return c;
}

void
standing_free(struct standing **cp)
{
	struct standing *c = *cp;

	if (c == NULL)
		return;
	store_unsubscribe(&c->sub);
	g_hash_table_destroy(c->accounts);
	g_hash_table_destroy(c->devices);
	g_hash_table_destroy(c->device_rows);
	g_hash_table_destroy(c->folders);
	pthread_mutex_destroy(&c->mu);
	free(c);
	*cp = NULL;
}

uint64_t
standing_gen(struct standing *c)
{
	uint64_t g;

	if (c == NULL)
		return GEN_BYPASS;
	/* Checked once, when the request begins: whatever another process
	 * committed before is heard by then, or this says so. */
	if (store_subscription_behind(c->sub))
		return GEN_BYPASS;
	pthread_mutex_lock(&c->mu);
	g = c->gen;
	pthread_mutex_unlock(&c->mu);
	return g;
}

/* Whether the cache may answer a request that began at gen. */
static bool
usable(struct standing *c, uint64_t gen)
{
	return c != NULL && gen != GEN_BYPASS;
}

/* With c->mu held: room for one more entry. */
static void
make_room(struct standing *c)
{
	if (g_hash_table_size(c->accounts) + g_hash_table_size(c->devices) >=
	    STANDING_MAX) {
		g_hash_table_remove_all(c->accounts);
		g_hash_table_remove_all(c->devices);
	}
}

static void
account_copy_out(struct arena *a, const struct store_account *from,
		 struct store_account *r)
{
	*r = *from;
	r->login = arena_dup_or_null(a, from->login);
	r->email = arena_dup_or_null(a, from->email);
	r->display_name = arena_dup_or_null(a, from->display_name);
	r->password_stamp = arena_dup_or_null(a, from->password_stamp);
}

/* With c->mu held: the live entry of account id, or NULL. */
static struct standing_account *
account_entry(struct standing *c, int64_t id, uint64_t now)
{
	struct standing_account *e = g_hash_table_lookup(c->accounts, &id);

	if (e != NULL && e->expires <= now) {
		g_hash_table_remove(c->accounts, &id);
		e = NULL;
	}
	return e;
}

enum store_error
standing_account(struct standing *c, struct store *s, struct arena *a,
		 uint64_t gen, int64_t id, struct store_account *r)
{
	struct standing_account *e;
	uint64_t now = time_mono_ms();
	enum store_error err;
	bool use = usable(c, gen);

	if (use) {
		pthread_mutex_lock(&c->mu);
		e = account_entry(c, id, now);
		if (e != NULL) {
			account_copy_out(a, &e->a, r);
			c->hits++;
			pthread_mutex_unlock(&c->mu);
			return STORE_OK;
		}
		c->misses++;
		pthread_mutex_unlock(&c->mu);
	}
	err = store_account_get_by_id(s, a, id, r);
	if (err != STORE_OK || !use)
		return err;
	pthread_mutex_lock(&c->mu);
	if (c->gen == gen && account_entry(c, id, now) == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->a = *r;
		e->a.login = dup_or_null(r->login);
		e->a.email = dup_or_null(r->email);
		e->a.display_name = dup_or_null(r->display_name);
		e->a.password_stamp = dup_or_null(r->password_stamp);
		e->expires = now + STANDING_TTL_MS;
		make_room(c);
		g_hash_table_insert(c->accounts, &e->a.id, e);
	}
	pthread_mutex_unlock(&c->mu);
	return STORE_OK;
}

enum store_error
standing_policy_version(struct standing *c, struct store *s, uint64_t gen,
			int64_t account_id, int64_t *version_r)
{
	struct standing_account *e;
	uint64_t now = time_mono_ms();
	enum store_error err;
	bool use = usable(c, gen);

	if (use) {
		pthread_mutex_lock(&c->mu);
		e = account_entry(c, account_id, now);
		if (e != NULL && e->have_policy) {
			*version_r = e->policy_version;
			c->hits++;
			pthread_mutex_unlock(&c->mu);
			return STORE_OK;
		}
		c->misses++;
		pthread_mutex_unlock(&c->mu);
	}
	err = store_policy_version(s, account_id, version_r);
	if (err != STORE_OK || !use)
		return err;
	/* kept with the account's entry (made by standing_account) */
	pthread_mutex_lock(&c->mu);
	e = account_entry(c, account_id, now);
	if (c->gen == gen && e != NULL) {
		e->have_policy = true;
		e->policy_version = *version_r;
	}
	pthread_mutex_unlock(&c->mu);
	return STORE_OK;
}

static void
device_copy_out(struct arena *a, const struct store_device *from,
		struct store_device *r)
{
	*r = *from;
#define COPY_ONE(f) r->f = arena_dup_or_null(a, from->f);
	DEVICE_STRINGS(COPY_ONE)
#undef COPY_ONE
}

enum store_error
standing_device(struct standing *c, struct store *s, struct arena *a,
		uint64_t gen, int64_t account_id, const char *device_id,
		struct store_device *r)
{
	struct standing_device *e;
	uint64_t now = time_mono_ms();
	enum store_error err;
	bool use = usable(c, gen) && device_id != NULL;
	char *key = use ? device_key(account_id, device_id) : NULL;

	if (use) {
		pthread_mutex_lock(&c->mu);
		e = g_hash_table_lookup(c->devices, key);
		if (e != NULL && e->expires <= now) {
			g_hash_table_remove(c->devices, key);
			e = NULL;
		}
		if (e != NULL) {
			device_copy_out(a, &e->d, r);
			c->hits++;
			pthread_mutex_unlock(&c->mu);
			free(key);
			return STORE_OK;
		}
		c->misses++;
		pthread_mutex_unlock(&c->mu);
	}
	err = store_device_get(s, a, account_id, device_id, r);
	if (err != STORE_OK || !use) {
		free(key);
		return err;
	}
	pthread_mutex_lock(&c->mu);
	if (c->gen == gen && g_hash_table_lookup(c->devices, key) == NULL) {
		struct standing_device *alias =
			g_hash_table_lookup(c->device_rows, &r->id);

		/* One entry a row: the database may match a DeviceId this
		 * key does not (PostgreSQL's collation folds more than ASCII
		 * case), and a change of the row must drop what is cached of
		 * it under any name. */
		if (alias != NULL)
			g_hash_table_remove(c->devices, alias->key);
		e = device_new(r, key);
		e->expires = now + STANDING_TTL_MS;
		e->rows = c->device_rows;
		make_room(c);
		g_hash_table_insert(c->devices, (char *)e->key, e);
		g_hash_table_insert(c->device_rows, &e->d.id, e);
	}
	pthread_mutex_unlock(&c->mu);
	free(key);
	return STORE_OK;
}

void
standing_forget_device(struct standing *c, int64_t device_row)
{
	struct store_change ch = {
		.what = STORE_CHANGED_DEVICE,
		.id = device_row,
	};

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	forget(c, &ch);
	pthread_mutex_unlock(&c->mu);
}

/* With c->mu held: the live entry of the device, or NULL. */
static struct standing_device *
device_entry(struct standing *c, const char *key, uint64_t now)
{
	struct standing_device *e = g_hash_table_lookup(c->devices, key);

	if (e != NULL && e->expires <= now) {
		g_hash_table_remove(c->devices, key);
		e = NULL;
	}
	return e;
}

bool
standing_hierarchy_unchanged(struct standing *c, uint64_t gen,
			     int64_t account_id, const char *device_id,
			     const char *key)
{
	struct standing_device *e;
	char *k;
	bool same;

	if (!usable(c, gen) || device_id == NULL || key == NULL)
		return false;
	k = device_key(account_id, device_id);
	pthread_mutex_lock(&c->mu);
	e = device_entry(c, k, time_mono_ms());
	same = e != NULL && e->hier_key != NULL &&
	       strcmp(e->hier_key, key) == 0;
	if (same)
		c->hits++;
	pthread_mutex_unlock(&c->mu);
	free(k);
	return same;
}

void
standing_hierarchy_set(struct standing *c, uint64_t gen, int64_t account_id,
		       const char *device_id, const char *key)
{
	struct standing_device *e;
	char *k;

	if (!usable(c, gen) || device_id == NULL)
		return;
	k = device_key(account_id, device_id);
	pthread_mutex_lock(&c->mu);
	e = device_entry(c, k, time_mono_ms());
	if (e != NULL) {
		free(e->hier_key);
		/* only if nothing changed since the request's snapshot */
		e->hier_key =
			key != NULL && c->gen == gen ? xstrdup(key) : NULL;
	}
	pthread_mutex_unlock(&c->mu);
	free(k);
}

bool
standing_sync_unchanged(struct standing *c, uint64_t gen, int64_t account_id,
			const char *device_id, const uint8_t *request,
			size_t len)
{
	struct standing_device *e;
	char *k;
	bool same;

	if (!usable(c, gen) || device_id == NULL || request == NULL)
		return false;
	k = device_key(account_id, device_id);
	pthread_mutex_lock(&c->mu);
	e = device_entry(c, k, time_mono_ms());
	same = e != NULL && e->sync_req != NULL && e->sync_req_len == len &&
	       memcmp(e->sync_req, request, len) == 0;
	for (size_t i = 0; same && i < e->sync_nfolders; i++)
		same = folder_changes(c, e->sync_folders[i]) ==
		       e->sync_folder_gen[i];
	if (same)
		c->hits++;
	pthread_mutex_unlock(&c->mu);
	free(k);
	return same;
}

uint64_t
standing_sync_begin(struct standing *c, int64_t account_id,
		    const char *device_id)
{
	struct standing_device *e;
	uint64_t token;
	char *k;

	if (c == NULL || device_id == NULL)
		return 0;
	k = device_key(account_id, device_id);
	pthread_mutex_lock(&c->mu);
	token = ++c->sync_tokens;
	e = g_hash_table_lookup(c->devices, k);
	if (e != NULL) {
		sync_forget(e);
		e->sync_token = token;
	}
	pthread_mutex_unlock(&c->mu);
	free(k);
	return token;
}

void
standing_sync_set(struct standing *c, uint64_t gen, uint64_t token,
		  int64_t account_id, const char *device_id,
		  const uint8_t *request, size_t len, const int64_t *folders,
		  size_t nfolders)
{
	struct standing_device *e;
	char *k;

	if (!usable(c, gen) || device_id == NULL || request == NULL ||
	    token == 0)
		return;
	k = device_key(account_id, device_id);
	pthread_mutex_lock(&c->mu);
	e = device_entry(c, k, time_mono_ms());
	/* only if nothing changed since the request's snapshot and no other
	 * Sync of the device began since this one */
	if (e != NULL && c->gen == gen && e->sync_token == token) {
		sync_forget(e);
		e->sync_req = xmalloc(len > 0 ? len : 1);
		memcpy(e->sync_req, request, len);
		e->sync_req_len = len;
		e->sync_folders = xcalloc(nfolders + 1, sizeof(int64_t));
		e->sync_folder_gen = xcalloc(nfolders + 1, sizeof(uint64_t));
		for (size_t i = 0; i < nfolders; i++) {
			e->sync_folders[i] = folders[i];
			e->sync_folder_gen[i] = folder_changes(c, folders[i]);
		}
		e->sync_nfolders = nfolders;
	}
	pthread_mutex_unlock(&c->mu);
	free(k);
}
