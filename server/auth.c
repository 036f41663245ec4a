/* HTTP Basic authentication against the store, with a short-lived cache of
 * verified credentials (the stored hash is slow on purpose; a phone sends
 * its password with every request) and throttling of failed logins that
 * cannot be turned against the real user.
 *
 * Failures are counted per (account, client address) and per client
 * address. The account is the account the typed name resolves to (login,
 * address, DOMAIN\login alike; an unknown name counts by itself). After a
 * few failures a pair's failed answers are delayed, more and more; after
 * --auth-max-failures the pair is refused (503, Retry-After) for
 * --auth-lockout seconds. An attacker hammering an account from elsewhere
 * locks only their own pairs: the owner, from their own address, keeps
 * working. An address that fails across many accounts is refused as a
 * whole. A successful login resets its pair. The model is the one of
 * Exchange's smart lockout (familiar locations keep working) and of
 * fail2ban (per-address counting, with the log lines it needs). */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

#define AUTH_CACHE_SLOTS 1024
#define AUTH_CACHE_TTL_MS (60 * 1000)
/* Failures of a pair answered without delay (typing mistakes). */
#define AUTH_FREE_FAILURES 3
/* Entries kept at most; expired ones go first. */
#define THROTTLE_MAX_ENTRIES 200000

struct auth_cache_entry {
	char *user; /* normalized, lower case */
	int64_t account_id;
	uint8_t digest[32]; /* SHA-256(salt || password) */
	char stamp[24];	    /* store_account.password_stamp */
	uint64_t expires;
};

/* The failures of a pair ("#ID|ADDR" or "?name|ADDR") or an address. */
struct throttle_entry {
	unsigned failures;
	uint64_t last_ms;  /* of the last failure */
	uint64_t until_ms; /* refused until then */
};

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;
static struct auth_cache_entry cache[AUTH_CACHE_SLOTS];
static uint8_t cache_salt[32];
/* key (heap) -> struct throttle_entry (heap) */
static GHashTable *throttle;
static uint64_t hash_seed;

static unsigned
slot_of(const char *s, unsigned slots)
{
	return g_str_hash(s) % slots;
}

/* The throttle table's hash, keyed with a random seed so that names
 * cannot be chosen to collide. */
static guint
seeded_hash(gconstpointer key)
{
	uint64_t h = hash_seed ^ 1469598103934665603ULL;

	for (const unsigned char *p = key; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (guint)(h ^ (h >> 32));
}

static void
digest_password(const char *password, uint8_t out[32])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	gsize len = 32;

	g_checksum_update(c, cache_salt, sizeof(cache_salt));
	g_checksum_update(c, (const guchar *)password, strlen(password));
	g_checksum_get_digest(c, out, &len);
	g_checksum_free(c);
}

const char *
auth_normalize_user(struct arena *a, const char *user)
{
	const char *bs = strrchr(user, '\\');
	char *r = arena_strdup(a, bs != NULL ? bs + 1 : user);

	for (char *p = r; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	return r;
}

void
auth_cache_forget(int64_t account_id)
{
	pthread_mutex_lock(&auth_lock);
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		if (cache[i].account_id == account_id)
			cache[i].expires = 0;
	pthread_mutex_unlock(&auth_lock);
}

/* --- throttling (all with auth_lock held) --- */

static void
auth_init(void)
{
	random_bytes(cache_salt, sizeof(cache_salt));
	random_bytes(&hash_seed, sizeof(hash_seed));
	throttle =
		g_hash_table_new_full(seeded_hash, g_str_equal, g_free, g_free);
}

static const char *
pair_key_of(struct arena *a, int64_t account_id, const char *name,
	    const char *addr)
{
	if (account_id != 0)
		return arena_printf(a, "#%lld|%s", (long long)account_id, addr);
	return arena_printf(a, "?%s|%s", name, addr);
}

/* Whether e may be forgotten: refused no more, and its failures are
 * older than the lockout. */
static bool
expired(const struct throttle_entry *e, uint64_t now, uint64_t lockout_ms)
{
	return e->until_ms <= now && now - e->last_ms >= lockout_ms;
}

static gboolean
prune_one(gpointer key, gpointer value, gpointer data)
{
	const uint64_t *args = data;

	(void)key;
	return expired(value, args[0], args[1]);
}

static struct throttle_entry *
entry_get(const char *key, bool create, uint64_t now, uint64_t lockout_ms)
{
	struct throttle_entry *e = g_hash_table_lookup(throttle, key);

	if (e != NULL && expired(e, now, lockout_ms)) {
		/* Old failures are forgiven. */
		e->failures = 0;
	}
	if (e != NULL || !create)
		return e;
	if (g_hash_table_size(throttle) >= THROTTLE_MAX_ENTRIES) {
		uint64_t args[2] = {now, lockout_ms};

		g_hash_table_foreach_remove(throttle, prune_one, args);
		if (g_hash_table_size(throttle) >= THROTTLE_MAX_ENTRIES)
			return NULL; /* the address entry still counts */
	}
	e = g_new0(struct throttle_entry, 1);
	g_hash_table_insert(throttle, g_strdup(key), e);
	return e;
}

/* The delay of a pair's failed answer after its nth failure: none for
 * the first few, then doubling up to delay_max. */
static uint64_t
failure_delay_ms(unsigned n, unsigned delay_max_s)
{
	unsigned k;

	if (n <= AUTH_FREE_FAILURES || delay_max_s == 0)
		return 0;
	k = n - AUTH_FREE_FAILURES - 1;
	if (k >= 16)
		return (uint64_t)delay_max_s * 1000;
	return EAS_MIN((uint64_t)1000 << k, (uint64_t)delay_max_s * 1000);
}

/* Not yet decided: the time a refused pair or address has to wait. */
static uint64_t
refused_for(const char *pair_key, const char *addr_key, uint64_t now,
	    uint64_t lockout_ms)
{
	struct throttle_entry *p = entry_get(pair_key, false, now, lockout_ms);
	struct throttle_entry *a = entry_get(addr_key, false, now, lockout_ms);
	uint64_t until = 0;

	if (p != NULL && p->until_ms > now)
		until = p->until_ms;
	if (a != NULL && a->until_ms > now && a->until_ms > until)
		until = a->until_ms;
	return until > now ? until - now : 0;
}

/* The slow check against the stored hash, and what its answer does to
 * the cache and the throttle. 0 or -1 (401 after *wait_ms_r). */
static int
verify(struct eas_req *req, const char *name, const char *password,
       const char *pair_key, const char *addr_key, uint64_t *wait_ms_r)
{
	const struct easd_config *cfg = &req->srv->cfg;
	const char *addr = req->remote_addr != NULL ? req->remote_addr : "?";
	uint64_t lockout_ms = (uint64_t)cfg->auth_lockout * 1000, now;
	struct throttle_entry *p, *a;
	uint8_t digest[32];
	enum store_error e;
	unsigned fails = 0;
	bool locked = false, addr_locked = false;

	e = store_account_check_password(req->store, req->arena, name, password,
					 &req->account);
	now = time_mono_ms();
	pthread_mutex_lock(&auth_lock);
	if (e == STORE_OK) {
		struct auth_cache_entry *c =
			&cache[slot_of(name, AUTH_CACHE_SLOTS)];

		digest_password(password, digest);
		free(c->user);
		c->user = xstrdup(name);
		c->account_id = req->account.id;
		memcpy(c->digest, digest, sizeof(digest));
		snprintf(c->stamp, sizeof(c->stamp), "%s",
			 req->account.password_stamp != NULL
				 ? req->account.password_stamp
				 : "");
		c->expires = now + AUTH_CACHE_TTL_MS;
		/* A success resets its pair, not the address. */
		g_hash_table_remove(throttle, pair_key);
		pthread_mutex_unlock(&auth_lock);
		return 0;
	}
	if (e != STORE_NOTFOUND) {
		pthread_mutex_unlock(&auth_lock);
		log_error("auth: checking '%s' failed: %s", name,
			  store_error_str(e));
		return -1;
	}
	p = entry_get(pair_key, true, now, lockout_ms);
	a = entry_get(addr_key, true, now, lockout_ms);
	if (p != NULL) {
		fails = ++p->failures;
		p->last_ms = now;
		if (cfg->auth_max_failures > 0 &&
		    fails >= cfg->auth_max_failures) {
			p->until_ms = now + lockout_ms;
			locked = true;
		} else {
			*wait_ms_r =
				failure_delay_ms(fails, cfg->auth_delay_max);
			/* Tries in parallel are refused meanwhile. */
			p->until_ms = now + *wait_ms_r;
		}
	}
	if (a != NULL) {
		a->failures++;
		a->last_ms = now;
		if (cfg->auth_addr_max_failures > 0 &&
		    a->failures >= cfg->auth_addr_max_failures &&
		    a->until_ms <= now) {
			a->until_ms = now + lockout_ms;
			addr_locked = true;
		}
	}
	pthread_mutex_unlock(&auth_lock);
	/* The client address comes before anything the client typed, so a
	 * fail2ban filter anchored on it cannot be fooled. */
	log_warn("auth: login failed: client=%s account='%s' failures=%u "
		 "delay=%llu ms",
		 addr, name, fails, (unsigned long long)*wait_ms_r);
	if (locked)
		log_warn("auth: login locked: client=%s account='%s' for %u s "
			 "after %u failures",
			 addr, name, cfg->auth_lockout, fails);
	if (addr_locked)
		log_warn("auth: address locked: client=%s for %u s after %u "
			 "failures (all accounts)",
			 addr, cfg->auth_lockout, cfg->auth_addr_max_failures);
	return -1;
}

int
auth_check(struct eas_req *req, const char *user, const char *password,
	   uint64_t *wait_ms_r)
{
	const struct easd_config *cfg = &req->srv->cfg;
	const char *name = auth_normalize_user(req->arena, user);
	const char *addr = req->remote_addr != NULL ? req->remote_addr : "?";
	const char *pair_key = NULL, *addr_key = NULL;
	uint64_t lockout_ms = (uint64_t)cfg->auth_lockout * 1000;
	uint8_t digest[32];
	char cached_stamp[24] = "";
	uint64_t now = time_mono_ms(), wait = 0;
	int64_t cached_id = 0;
	struct store_account known;

	*wait_ms_r = 0;
	req->auth.cached_id = 0;
	pthread_once(&auth_once, auth_init);
	digest_password(password, digest);
	pthread_mutex_lock(&auth_lock);
	{
		struct auth_cache_entry *c =
			&cache[slot_of(name, AUTH_CACHE_SLOTS)];

		if (c->user != NULL && strcmp(c->user, name) == 0 &&
		    c->expires > now &&
		    memcmp(c->digest, digest, sizeof(digest)) == 0) {
			cached_id = c->account_id;
			memcpy(cached_stamp, c->stamp, sizeof(cached_stamp));
		}
	}
	/* The common case, a phone that sent the same password a moment
	 * ago while nobody fails: one lock, no read. */
	if (cached_id != 0 && g_hash_table_size(throttle) > 0) {
		pair_key = pair_key_of(req->arena, cached_id, name, addr);
		addr_key = arena_printf(req->arena, "@%s", addr);
		wait = refused_for(pair_key, addr_key, now, lockout_ms);
		if (wait == 0)
			g_hash_table_remove(throttle, pair_key);
	}
	pthread_mutex_unlock(&auth_lock);

	if (cached_id == 0) {
		/* The pair is keyed on the account, whatever form of its name
		 * was typed. */
		if (store_account_get(req->store, req->arena, name, &known) !=
		    STORE_OK)
			known.id = 0;
		pair_key = pair_key_of(req->arena, known.id, name, addr);
		addr_key = arena_printf(req->arena, "@%s", addr);
		pthread_mutex_lock(&auth_lock);
		wait = refused_for(pair_key, addr_key, now, lockout_ms);
		pthread_mutex_unlock(&auth_lock);
	}
	if (wait > 0) {
		log_warn("auth: login refused: client=%s account='%s' "
			 "retry in %llu s",
			 addr, name, (unsigned long long)(wait + 999) / 1000);
		*wait_ms_r = wait;
		return -2;
	}
	if (cached_id != 0) {
		/* Verified within the last minute: the account is read (and
		 * its password stamp compared) by auth_finish, in the
		 * snapshot of the command, so that a request costs one read
		 * transaction as before. */
		req->auth.cached_id = cached_id;
		req->auth.name = name;
		req->auth.password = password;
		req->auth.stamp = arena_strdup(req->arena, cached_stamp);
		return 0;
	}
	return verify(req, name, password, pair_key, addr_key, wait_ms_r);
}

int
auth_finish(struct eas_req *req, uint64_t *wait_ms_r)
{
	enum store_error e;
	int64_t id = req->auth.cached_id;

	*wait_ms_r = 0;
	if (id == 0)
		return 0;
	req->auth.cached_id = 0;
	/* The password may have changed (easctl user passwd) since it was
	 * verified: only the same stored hash keeps the entry. */
	e = standing_account(req->srv->standing, req->store, req->arena,
			     req->standing_gen, id, &req->account);
	if (e == STORE_OK && req->account.password_stamp != NULL &&
	    strcmp(req->account.password_stamp, req->auth.stamp) == 0)
		return 0;
	memset(&req->account, 0, sizeof(req->account));
	return verify(
		req, req->auth.name, req->auth.password,
		pair_key_of(req->arena, id, req->auth.name,
			    req->remote_addr != NULL ? req->remote_addr : "?"),
		arena_printf(req->arena, "@%s",
			     req->remote_addr != NULL ? req->remote_addr : "?"),
		wait_ms_r);
}
