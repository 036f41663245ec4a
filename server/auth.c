/* HTTP Basic authentication against the store, with a short-lived cache of
 * verified credentials (the stored hash is slow on purpose; a phone sends
 * its password with every request) and throttling of failed logins per
 * account and per remote address. */
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
#define THROTTLE_SLOTS 1024
#define THROTTLE_WINDOW_MS (5 * 60 * 1000)
/* An account locks after a few failures; an address only after many, so
 * that one misconfigured phone behind a shared NAT does not lock out its
 * neighbours. */
#define THROTTLE_MAX_USER_FAILURES 10
#define THROTTLE_MAX_ADDR_FAILURES 50

struct auth_cache_entry {
	char *user; /* normalized, lower case */
	int64_t account_id;
	uint8_t digest[32]; /* SHA-256(salt || password) */
	char stamp[24];	    /* store_account.password_stamp */
	uint64_t expires;
};

struct throttle_entry {
	char key[128]; /* "u:name" or "a:address" */
	unsigned failures;
	uint64_t window_start;
};

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct auth_cache_entry cache[AUTH_CACHE_SLOTS];
static struct throttle_entry throttle[THROTTLE_SLOTS];
static uint8_t cache_salt[32];
static bool cache_salt_set;

static unsigned
slot_of(const char *s, unsigned slots)
{
	return g_str_hash(s) % slots;
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

/* Returns true when key has too many recent failures. */
static bool
throttled(const char *key, uint64_t now, unsigned max_failures)
{
	struct throttle_entry *e = &throttle[slot_of(key, THROTTLE_SLOTS)];

	return strcmp(e->key, key) == 0 &&
	       now - e->window_start < THROTTLE_WINDOW_MS &&
	       e->failures >= max_failures;
}

static unsigned
record_failure(const char *key, uint64_t now)
{
	struct throttle_entry *e = &throttle[slot_of(key, THROTTLE_SLOTS)];

	if (strcmp(e->key, key) != 0 ||
	    now - e->window_start >= THROTTLE_WINDOW_MS) {
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->failures = 0;
		e->window_start = now;
	}
	return ++e->failures;
}

static void
clear_failures(const char *key)
{
	struct throttle_entry *e = &throttle[slot_of(key, THROTTLE_SLOTS)];

	if (strcmp(e->key, key) == 0)
		e->failures = 0;
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

int
auth_check(struct eas_req *req, const char *user, const char *password)
{
	const char *name = auth_normalize_user(req->arena, user);
	char ukey[128], akey[128];
	uint8_t digest[32];
	char cached_stamp[24] = "";
	uint64_t now = time_mono_ms();
	int64_t cached_id = 0;
	enum store_error e;
	unsigned fails;

	snprintf(ukey, sizeof(ukey), "u:%s", name);
	snprintf(akey, sizeof(akey), "a:%s",
		 req->remote_addr != NULL ? req->remote_addr : "?");
	pthread_mutex_lock(&auth_lock);
	if (!cache_salt_set) {
		random_bytes(cache_salt, sizeof(cache_salt));
		cache_salt_set = true;
	}
	if (throttled(ukey, now, THROTTLE_MAX_USER_FAILURES) ||
	    throttled(akey, now, THROTTLE_MAX_ADDR_FAILURES)) {
		pthread_mutex_unlock(&auth_lock);
		log_warn("login of '%s' from %s refused: too many failed "
			 "attempts, try again later",
			 name,
			 req->remote_addr != NULL ? req->remote_addr : "?");
		return -2;
	}
	digest_password(password, digest);
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
	pthread_mutex_unlock(&auth_lock);

	if (cached_id != 0) {
		/* The password may have changed (easctl user passwd) since it
		 * was verified: only the same stored hash keeps the entry. */
		e = store_account_get_by_id(req->store, req->arena, cached_id,
					    &req->account);
		if (e == STORE_OK && req->account.password_stamp != NULL &&
		    strcmp(req->account.password_stamp, cached_stamp) == 0)
			return 0;
	}
	e = store_account_check_password(req->store, req->arena, name, password,
					 &req->account);
	pthread_mutex_lock(&auth_lock);
	if (e == STORE_OK) {
		struct auth_cache_entry *c =
			&cache[slot_of(name, AUTH_CACHE_SLOTS)];

		free(c->user);
		c->user = xstrdup(name);
		c->account_id = req->account.id;
		memcpy(c->digest, digest, sizeof(digest));
		snprintf(c->stamp, sizeof(c->stamp), "%s",
			 req->account.password_stamp != NULL
				 ? req->account.password_stamp
				 : "");
		c->expires = now + AUTH_CACHE_TTL_MS;
		clear_failures(ukey);
		pthread_mutex_unlock(&auth_lock);
		return 0;
	}
	fails = record_failure(ukey, now);
	record_failure(akey, now);
	pthread_mutex_unlock(&auth_lock);
	if (e == STORE_NOTFOUND)
		log_warn("authentication failed for '%s' from %s "
			 "(%u recent failures)",
			 name,
			 req->remote_addr != NULL ? req->remote_addr : "?",
			 fails);
	else
		log_error("authentication of '%s' failed: %s", name,
			  store_error_str(e));
	return -1;
}
