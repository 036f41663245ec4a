/* The web pages against a real easd over HTTP: the security headers of
 * every page, logins (admin only on the admin site, throttled), sessions
 * (cookie attributes, idle and absolute expiry), CSRF and cross-site
 * refusals, every admin page and action, the self-service pages, that a
 * user never reaches another account's devices, and that a page's wipe
 * wakes the device's parked Ping and reaches the device. */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "harness.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define WAIT_MS 30000 /* safety bound of every wait for an event */

struct resp {
	long status;
	struct buf headers, body;
};

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	buf_append(ctx, p, size * n);
	return size * n;
}

/* GET (form NULL) or POST form to url with cookie (may be NULL) and extra
 * headers (NULL terminated, may be NULL). */
static void
request(const char *url, const char *cookie, const char *form,
	const char *const *extra, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;

	buf_init(&r->headers, 0);
	buf_init(&r->body, 0);
	r->status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
	if (cookie != NULL)
		curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		hl = curl_slist_append(hl, extra[i]);
	if (hl != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
}

static void
resp_free(struct resp *r)
{
	buf_deinit(&r->headers);
	buf_deinit(&r->body);
}

static const char *
body(const struct resp *r)
{
	return r->body.len > 0 ? (const char *)r->body.data : "";
}

/* The value of a response header (heap), or NULL. */
static char *
header(const struct resp *r, const char *name)
{
	const char *p = r->headers.len > 0 ? (const char *)r->headers.data : "";
	size_t n = strlen(name);

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	return NULL;
}

/* What the page's forms carry as csrf (heap), or NULL. */
static char *
csrf_of(const struct resp *r)
{
	const char *p = strstr(body(r), "name=\"csrf\" value=\"");
	const char *end;

	if (p == NULL)
		return NULL;
	p += strlen("name=\"csrf\" value=\"");
	end = strchr(p, '"');
	return end != NULL && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/* A logged-in browser: its site's base URL, its cookie, its token. */
struct browser {
	char *base; /* http://127.0.0.1:PORT or .../account */
	char *cookie, *token;
	char *cookie_header; /* the whole Set-Cookie of the login */
};

static void
browser_free(struct browser *b)
{
	free(b->base);
	free(b->cookie);
	free(b->token);
	free(b->cookie_header);
	memset(b, 0, sizeof(*b));
}

static char *
url(const struct browser *b, const char *path)
{
	return xasprintf("%s%s", b->base, path);
}

/* Log in; the HTTP status of the login's answer (303 when it worked). */
static long
login(struct browser *b, const char *base, const char *user,
      const char *password)
{
	struct resp r;
	char *form = xasprintf("user=%s&password=%s", user, password);
	char *u, *sc;
	long status;

	memset(b, 0, sizeof(*b));
	b->base = xstrdup(base);
	u = url(b, "/login");
	request(u, NULL, form, NULL, &r);
	free(u);
	free(form);
	status = r.status;
	sc = header(&r, "Set-Cookie");
	if (sc != NULL) {
		b->cookie_header = xstrdup(sc);
		b->cookie = xstrndup(sc, strcspn(sc, ";"));
		free(sc);
	}
	resp_free(&r);
	if (status == 303 && b->cookie != NULL) {
		u = url(b, "/");
		request(u, b->cookie, NULL, NULL, &r);
		free(u);
		b->token = csrf_of(&r);
		resp_free(&r);
	}
	return status;
}

static void
get(const struct browser *b, const char *path, struct resp *r)
{
	char *u = url(b, path);

	request(u, b->cookie, NULL, NULL, r);
	free(u);
}

/* POST form (without the token) with the browser's token. */
static void
post(const struct browser *b, const char *path, const char *form,
     struct resp *r)
{
	char *u = url(b, path);
	char *f =
		xasprintf("%s&csrf=%s", form, b->token != NULL ? b->token : "");

	request(u, b->cookie, f, NULL, r);
	free(f);
	free(u);
}

static char *
admin_base(const struct easd_proc *p)
{
	return xasprintf("http://127.0.0.1:%d", p->admin_port);
}

static char *
self_base(const struct easd_proc *p)
{
	return xasprintf("%s/account", p->url);
}

static const char *const server_args[] = {"--admin-listen",
					  "127.0.0.1:0",
					  "--web-session-idle",
					  "600",
					  "--web-session-max",
					  "3600",
					  "--auth-delay-max",
					  "0",
					  "--auth-max-failures",
					  "4",
					  NULL};

static struct easd_proc *
start(void)
{
	struct easd_proc *p = easd_start(server_args);
	struct store *s;

	if (p == NULL)
		return NULL;
	s = easd_store(p);
	if (s != NULL) {
		CU_ASSERT_EQUAL(store_account_set_admin(s, p->ada_id, true),
				STORE_OK);
		store_close(&s);
	}
	return p;
}

static struct store_device
device_of(const struct easd_proc *p, int64_t account, const char *id)
{
	struct store *s = easd_store(p);
	struct arena *a = arena_new(0);
	struct store_device d;

	memset(&d, 0, sizeof(d));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(store_device_get(s, a, account, id, &d), STORE_OK);
	/* the strings are not kept: only the numbers are used */
	d.device_id = d.device_type = d.user_agent = NULL;
	memset(&d.info, 0, sizeof(d.info));
	d.protocol_version = d.last_command = NULL;
	arena_free(&a);
	store_close(&s);
	return d;
}

static void
check_security_headers(const struct resp *r)
{
	char *csp = header(r, "Content-Security-Policy");
	char *xfo = header(r, "X-Frame-Options");
	char *rp = header(r, "Referrer-Policy");

	CU_ASSERT_PTR_NOT_NULL(csp);
	if (csp != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(csp, "default-src 'none'"));
		CU_ASSERT_PTR_NOT_NULL(strstr(csp, "frame-ancestors 'none'"));
		CU_ASSERT_PTR_NULL(strstr(csp, "unsafe"));
	}
	CU_ASSERT(xfo != NULL && strcmp(xfo, "DENY") == 0);
	CU_ASSERT(rp != NULL && strcmp(rp, "same-origin") == 0);
	free(csp);
	free(xfo);
	free(rp);
}

/* Every page, logged in or not, sends the headers; the stylesheet is
 * served; nothing but the login page without a session. */
static void
test_headers_and_login_required(void)
{
	struct easd_proc *p = start();
	static const char *const admin_pages[] = {"/",	       "/accounts",
						  "/devices",  "/device?id=1",
						  "/policies", "/queue"};
	struct browser b;
	struct resp r;
	char *base, *u, *loc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = admin_base(p);
	for (size_t i = 0; i < N_ELEMENTS(admin_pages); i++) {
		u = xasprintf("%s%s", base, admin_pages[i]);
		request(u, NULL, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		loc = header(&r, "Location");
		CU_ASSERT(loc != NULL && strcmp(loc, "/login") == 0);
		check_security_headers(&r);
		free(loc);
		free(u);
		resp_free(&r);
	}
	u = xasprintf("%s/login", base);
	request(u, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	check_security_headers(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "name=\"password\""));
	free(u);
	resp_free(&r);
	u = xasprintf("%s/style.css", base);
	request(u, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	loc = header(&r, "Content-Type");
	CU_ASSERT(loc != NULL && strncmp(loc, "text/css", 8) == 0);
	free(loc);
	free(u);
	resp_free(&r);
	free(base);

	/* self-service */
	base = self_base(p);
	u = xasprintf("%s/", base);
	request(u, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	loc = header(&r, "Location");
	CU_ASSERT(loc != NULL && strcmp(loc, "/account/login") == 0);
	check_security_headers(&r);
	free(loc);
	free(u);
	resp_free(&r);
	/* a form is small: a large body is refused before it is read */
	{
		char *big = xmalloc(128 * 1024 + 1);

		memset(big, 'a', 128 * 1024);
		big[128 * 1024] = '\0';
		u = xasprintf("%s/login", base);
		request(u, NULL, big, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 413);
		resp_free(&r);
		free(u);
		free(big);
	}
	CU_ASSERT_EQUAL(login(&b, base, HARNESS_BOB, HARNESS_PASSWORD), 303);
	get(&b, "/", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	check_security_headers(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "My devices"));
	resp_free(&r);
	browser_free(&b);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* Only admins on the admin site; the cookie's attributes; Secure when a
 * trusted proxy says https; logout ends the session. */
static void
test_login_and_cookie(void)
{
	static const char *const args[] = {"--admin-listen", "127.0.0.1:0",
					   "--trusted-proxy", "127.0.0.1/32",
					   NULL};
	struct easd_proc *p = start();
	struct browser b;
	struct resp r;
	char *base = NULL, *u, *sc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = admin_base(p);
	/* bob's password is right, but bob is no admin */
	CU_ASSERT_EQUAL(login(&b, base, HARNESS_BOB, HARNESS_PASSWORD), 401);
	CU_ASSERT_PTR_NULL(b.cookie);
	browser_free(&b);
	CU_ASSERT_EQUAL(login(&b, base, HARNESS_ADA, "wrong"), 401);
	browser_free(&b);
	CU_ASSERT_EQUAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD), 303);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.cookie_header);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.cookie_header, "HttpOnly"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.cookie_header, "SameSite=Strict"));
	CU_ASSERT_PTR_NULL(strstr(b.cookie_header, "Secure"));
	CU_ASSERT_PTR_NOT_NULL(b.token);
	harness_wait_log(p, "web: admin login: user=ada", 1, WAIT_MS);
	/* the self-service cookie is no admin session, nor the reverse */
	{
		struct browser s;
		char *sb = self_base(p);

		CU_ASSERT_EQUAL(login(&s, sb, HARNESS_ADA, HARNESS_PASSWORD),
				303);
		u = xasprintf("%s/devices", base);
		request(u, s.cookie, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		resp_free(&r);
		free(u);
		browser_free(&s);
		free(sb);
	}
	/* logout */
	post(&b, "/logout", "x=1", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	get(&b, "/devices", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	browser_free(&b);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);

	/* behind a proxy that says https */
	p = easd_start(args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = self_base(p);
	u = xasprintf("%s/login", base);
	{
		static const char *const hdrs[] = {"X-Forwarded-Proto: https",
						   "X-Forwarded-For: 192.0.2.7",
						   NULL};

		request(u, NULL, "user=bob&password=" HARNESS_PASSWORD, hdrs,
			&r);
	}
	CU_ASSERT_EQUAL(r.status, 303);
	sc = header(&r, "Set-Cookie");
	CU_ASSERT(sc != NULL && strstr(sc, "; Secure") != NULL);
	free(sc);
	resp_free(&r);
	free(u);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* Failed logins are throttled like Basic auth: after
 * --auth-max-failures the pair is refused with 503, even with the right
 * password. */
static void
test_login_throttled(void)
{
	struct easd_proc *p = start();
	struct browser b;
	char *base;
	long st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = self_base(p);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(login(&b, base, HARNESS_BOB, "nope"), 401);
		browser_free(&b);
	}
	st = login(&b, base, HARNESS_BOB, HARNESS_PASSWORD);
	CU_ASSERT_EQUAL(st, 503);
	browser_free(&b);
	CU_ASSERT(harness_log_count(p, "auth: login locked: client=127.0.0.1 "
				       "account='bob'") >= 1);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* A failed login past the free few is answered late, like a 401 of
 * Basic auth, without holding a thread (the request is parked). */
static void
test_login_delayed(void)
{
	static const char *const args[] = {"--auth-delay-max", "1", NULL};
	struct easd_proc *p = easd_start(args);
	struct browser b;
	char *base;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = self_base(p);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(login(&b, base, HARNESS_BOB, "nope"), 401);
		browser_free(&b);
	}
	CU_ASSERT_EQUAL(harness_log_count(p, "account='bob' failures=4 "
					     "delay=1000 ms"),
			1);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* --no-self-service: the public listener has no /account/ pages; the
 * admin pages and ActiveSync stay. */
static void
test_no_self_service(void)
{
	static const char *const args[] = {"--admin-listen", "127.0.0.1:0",
					   "--no-self-service", NULL};
	struct easd_proc *p = easd_start(args);
	struct browser b;
	struct resp r;
	char *base, *u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = self_base(p);
	u = xasprintf("%s/login", base);
	request(u, NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	resp_free(&r);
	CU_ASSERT_EQUAL(login(&b, base, HARNESS_BOB, HARNESS_PASSWORD), 404);
	browser_free(&b);
	free(u);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* A state-changing form without the session's token, with another one,
 * or from another site, changes nothing. */
static void
test_csrf_refused(void)
{
	struct easd_proc *p = start();
	struct eas_client *c;
	struct store_device d;
	struct browser b;
	struct resp r;
	char *base, *form, *u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = harness_client(p, HARNESS_BOB, "CSRF1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	d = device_of(p, p->bob_id, "CSRF1");
	base = admin_base(p);
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	form = xasprintf("id=%lld&action=block", (long long)d.id);
	u = url(&b, "/device");
	request(u, b.cookie, form, NULL, &r); /* no token */
	CU_ASSERT_EQUAL(r.status, 403);
	resp_free(&r);
	{
		char *f = xasprintf("%s&csrf=0123456789abcdef0123456789abcdef",
				    form);

		request(u, b.cookie, f, NULL, &r); /* a wrong one */
		CU_ASSERT_EQUAL(r.status, 403);
		resp_free(&r);
		free(f);
	}
	{
		static const char *const hdrs[] = {
			"Origin: http://evil.example", NULL};
		char *f = xasprintf("%s&csrf=%s", form, b.token);

		request(u, b.cookie, f, hdrs,
			&r); /* the right one, elsewhere */
		CU_ASSERT_EQUAL(r.status, 403);
		resp_free(&r);
		free(f);
	}
	CU_ASSERT_EQUAL(device_of(p, p->bob_id, "CSRF1").access,
			STORE_ACCESS_ALLOWED);
	CU_ASSERT(harness_log_count(p, "refused: bad CSRF token") >= 2);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	CU_ASSERT_EQUAL(device_of(p, p->bob_id, "CSRF1").access,
			STORE_ACCESS_BLOCKED);
	free(u);
	free(form);
	browser_free(&b);
	free(base);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* The session key the store keeps for a cookie "name=TOKEN". */
static char *
key_of(const char *cookie)
{
	const char *token = strchr(cookie, '=') + 1;
	gchar *hex =
		g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
	char *r = xstrdup(hex);

	g_free(hex);
	return r;
}

/* Idle and absolute expiry (--web-session-idle 600, --web-session-max
 * 3600): the session's times are moved back in the store instead of
 * waiting. */
static void
test_session_expiry(void)
{
	struct easd_proc *p = start();
	struct browser b;
	struct resp r;
	struct store *s;
	char *base, *key, *loc;
	int64_t now = time_now(), n = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = admin_base(p);
	s = easd_store(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);

	/* idle: 599 s is still fine, 601 s is not */
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	key = key_of(b.cookie);
	CU_ASSERT_EQUAL(store_session_set_times(s, key, now - 700, now - 599),
			STORE_OK);
	get(&b, "/devices", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	CU_ASSERT_EQUAL(store_session_set_times(s, key, now - 700, now - 601),
			STORE_OK);
	get(&b, "/devices", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	loc = header(&r, "Location");
	CU_ASSERT(loc != NULL && strcmp(loc, "/login?expired=1") == 0);
	free(loc);
	resp_free(&r);
	get(&b, "/devices", &r); /* and it is gone */
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(key);
	browser_free(&b);

	/* absolute: in use a moment ago, but begun over an hour ago */
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	key = key_of(b.cookie);
	CU_ASSERT_EQUAL(store_session_set_times(s, key, now - 3601, now),
			STORE_OK);
	get(&b, "/", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(key);
	browser_free(&b);

	/* the admin mark taken away ends its sessions */
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	CU_ASSERT_EQUAL(store_session_count(s, p->ada_id, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(store_account_set_admin(s, p->ada_id, false), STORE_OK);
	get(&b, "/", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	CU_ASSERT_EQUAL(store_session_count(s, p->ada_id, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
	browser_free(&b);
	store_close(&s);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

struct ping_job {
	struct eas_client *c;
	const char *folder;
	int rc, status;
	pthread_t thread;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;
	struct arena *a = arena_new(0);
	const char *ids[1] = {j->folder};
	const char **changed = NULL;
	size_t n = 0;

	j->c->timeout_ms = WAIT_MS * 2;
	j->rc = eas_client_ping(j->c, a, 900, ids, 1, &j->status, &changed, &n);
	arena_free(&a);
	return NULL;
}

/* A provisioned client with its folders, parked in a Ping on its Inbox. */
static void
park(const struct easd_proc *p, struct ping_job *j, const char *user,
     const char *device)
{
	struct arena *a = arena_new(0);
	const struct eas_folder *f;
	char *needle;
	int status;

	memset(j, 0, sizeof(*j));
	j->c = harness_client(p, user, device);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j->c);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(j->c, a, &status), 0);
	f = eas_client_folder_by_type(j->c, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	j->folder = f->server_id;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&j->thread, NULL, ping_thread, j),
			      0);
	needle = xasprintf("push: parked %s (", device);
	CU_ASSERT(harness_wait_log(p, needle, 1, WAIT_MS) >= 1);
	free(needle);
	arena_free(&a);
}

/* The admin wipes a device from its page: a confirmation first, then the
 * wipe, which answers the device's parked Ping at once; the device's
 * next request gets the wipe, and the page shows it acknowledged. */
static void
test_admin_wipe_wakes_ping(void)
{
	struct easd_proc *p = start();
	struct ping_job j;
	struct store_device d;
	struct browser b;
	struct resp r;
	struct arena *a;
	char *base, *form, *path;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	park(p, &j, HARNESS_BOB, "WIPE1");
	d = device_of(p, p->bob_id, "WIPE1");
	base = admin_base(p);
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	get(&b, "/devices", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), ">WIPE1</a>"));
	resp_free(&r);
	path = xasprintf("/device?id=%lld", (long long)d.id);
	get(&b, path, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "value=\"wipe\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "Protocol version"));
	resp_free(&r);
	/* without confirm=yes: the warning, nothing done */
	form = xasprintf("id=%lld&action=wipe", (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "erases EVERYTHING"));
	resp_free(&r);
	CU_ASSERT_EQUAL(device_of(p, p->bob_id, "WIPE1").wipe, STORE_WIPE_NONE);
	free(form);
	form = xasprintf("id=%lld&action=wipe&confirm=yes", (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	/* the Ping is answered now (status 1, so that the device's next
	 * request meets the wipe), not after its 900 s: the client's own
	 * timeout is 60 s */
	CU_ASSERT(harness_wait_log(p, "push: waking WIPE1 ", 1, WAIT_MS) >= 1);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.status, 1);
	CU_ASSERT(harness_log_count(p, "by ada from") >= 1);
	get(&b, path, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "wipe requested"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "web-admin:ada"));
	resp_free(&r);
	/* the device's next contact: the wipe, acknowledged */
	a = arena_new(0);
	CU_ASSERT_EQUAL(eas_client_provision(j.c, a, NULL), 1);
	CU_ASSERT(j.c->wiped);
	arena_free(&a);
	CU_ASSERT_EQUAL(device_of(p, p->bob_id, "WIPE1").wipe,
			STORE_WIPE_ACKNOWLEDGED);
	get(&b, path, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "wiped (acknowledged)"));
	resp_free(&r);
	free(path);
	free(form);
	browser_free(&b);
	free(base);
	eas_client_free(&j.c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* The other device actions of the admin page, each seen in the store. */
static void
test_admin_device_actions(void)
{
	static const struct {
		const char *action;
		int access;
	} acts[] = {
		{"block", STORE_ACCESS_BLOCKED},
		{"quarantine", STORE_ACCESS_QUARANTINED},
		{"allow", STORE_ACCESS_ALLOWED},
	};
	struct easd_proc *p = start();
	struct eas_client *c;
	struct store_device d;
	struct browser b;
	struct resp r;
	char *base, *form;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = harness_client(p, HARNESS_ADA, "ACT1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	d = device_of(p, p->ada_id, "ACT1");
	base = admin_base(p);
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	for (size_t i = 0; i < N_ELEMENTS(acts); i++) {
		form = xasprintf("id=%lld&action=%s", (long long)d.id,
				 acts[i].action);
		post(&b, "/device", form, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		resp_free(&r);
		CU_ASSERT_EQUAL((int)device_of(p, p->ada_id, "ACT1").access,
				acts[i].access);
		free(form);
	}
	/* account-only wipe, then cancelled */
	form = xasprintf("id=%lld&action=account-wipe&confirm=yes",
			 (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(device_of(p, p->ada_id, "ACT1").wipe,
			STORE_WIPE_ACCOUNT_REQUESTED);
	form = xasprintf("id=%lld&action=cancel-wipe", (long long)d.id);
	post(&b, "/device", form, &r);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(device_of(p, p->ada_id, "ACT1").wipe, STORE_WIPE_NONE);
	/* resync drops the sync state: the client's next FolderSync must
	 * start over */
	form = xasprintf("id=%lld&action=resync", (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(form);
	/* loops: shown, and cleared through the store like easctl's */
	{
		static const char blob[] = "loops 0 3 1700000000\n";
		struct store *s = easd_store(p);

		CU_ASSERT_EQUAL(store_device_blob_set(s, d.id, "loop", blob,
						      strlen(blob)),
				STORE_OK);
		form = xasprintf("/device?id=%lld", (long long)d.id);
		get(&b, form, &r);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(body(&r), "folder list: 3 loops"));
		CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "value=\"clearloop\""));
		resp_free(&r);
		free(form);
		form = xasprintf("id=%lld&action=clearloop", (long long)d.id);
		post(&b, "/device", form, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		resp_free(&r);
		free(form);
		{
			struct arena *a = arena_new(0);
			uint8_t *data;
			size_t len = 1;

			if (store_device_blob_get(s, a, d.id, "loop", &data,
						  &len) == STORE_OK)
				CU_ASSERT_EQUAL(len, 0);
			arena_free(&a);
		}
		store_close(&s);
	}
	/* an unknown action */
	form = xasprintf("id=%lld&action=explode", (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);
	free(form);
	/* remove, confirmed */
	form = xasprintf("id=%lld&action=remove&confirm=yes", (long long)d.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(form);
	{
		struct store *s = easd_store(p);
		struct arena *a = arena_new(0);
		struct store_device x;

		CU_ASSERT_EQUAL(store_device_get(s, a, p->ada_id, "ACT1", &x),
				STORE_NOTFOUND);
		arena_free(&a);
		store_close(&s);
	}
	browser_free(&b);
	free(base);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* Accounts, policies and the queue: each page and its actions. */
static void
test_admin_pages(void)
{
	struct easd_proc *p = start();
	struct browser b;
	struct resp r;
	struct store *s;
	struct arena *a = arena_new(0);
	struct store_account acc;
	char *base, *form, *path;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	base = admin_base(p);
	s = easd_store(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(login(&b, base, HARNESS_ADA, HARNESS_PASSWORD),
			      303);
	get(&b, "/", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "<svg"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "accounts</div>"));
	resp_free(&r);

	/* add an account whose name is markup: it is shown escaped */
	post(&b, "/accounts",
	     "action=add&login=carol&name=%3Cscript%3Ex%3C%2Fscript%3E", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "shown once: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "&lt;script&gt;x"));
	CU_ASSERT_PTR_NULL(strstr(body(&r), "<script>"));
	resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(store_account_get(s, a, "carol", &acc), STORE_OK);
	get(&b, "/accounts?q=car", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), ">carol</a>"));
	CU_ASSERT_PTR_NULL(strstr(body(&r), ">bob</a>"));
	resp_free(&r);
	post(&b, "/accounts", "action=add&login=carol", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);

	form = xasprintf("id=%lld&action=disable", (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acc), STORE_OK);
	CU_ASSERT(!acc.enabled);
	form = xasprintf("id=%lld&action=enable", (long long)acc.id);
	post(&b, "/accounts", form, &r);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acc), STORE_OK);
	CU_ASSERT(acc.enabled);
	form = xasprintf("id=%lld&action=passwd", (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "New password, shown once"));
	resp_free(&r);
	free(form);
	form = xasprintf("id=%lld&action=alias-add&alias=c%%40example.org",
			 (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "c@example.org"));
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_by_address(s, a, "c@example.org", &acc),
			STORE_OK);
	form = xasprintf("id=%lld&action=alias-remove&alias=c%%40example.org",
			 (long long)acc.id);
	post(&b, "/accounts", form, &r);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_by_address(s, a, "c@example.org", &acc),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acc), STORE_OK);
	form = xasprintf("id=%lld&action=props&title=Chief+%%3Ci%%3E&phone="
			 "%%2B1+555",
			 (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "value=\"Chief &lt;i&gt;\""));
	resp_free(&r);
	free(form);
	{
		struct store_gal_entry g;

		CU_ASSERT_EQUAL(store_gal_account(s, a, acc.id, false, &g),
				STORE_OK);
		CU_ASSERT(g.title != NULL && strcmp(g.title, "Chief <i>") == 0);
		CU_ASSERT(g.phone != NULL && strcmp(g.phone, "+1 555") == 0);
	}
	form = xasprintf("id=%lld&action=delete", (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "cannot be undone"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "0 device"));
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acc), STORE_OK);
	form = xasprintf("id=%lld&action=delete&confirm=yes",
			 (long long)acc.id);
	post(&b, "/accounts", form, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "carol deleted"));
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acc), STORE_NOTFOUND);
	CU_ASSERT(harness_log_count(p, "account carol deleted by ada") == 1);

	/* policies: the same check as easctl */
	post(&b, "/policies",
	     "action=set&account=0&key=DevicePasswordEnabled"
	     "&value=true",
	     &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "DevicePasswordEnabled=1 set"));
	resp_free(&r);
	post(&b, "/policies",
	     "action=set&account=0&key=MaxDevicePasswordFailedAttempts"
	     "&value=99",
	     &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "takes a number from 4 to 16"));
	resp_free(&r);
	path = xasprintf("action=set&account=%lld&key=AllowCamera&value=0",
			 (long long)p->bob_id);
	post(&b, "/policies", path, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	free(path);
	{
		struct store_policy_kv *kv;
		size_t n;
		bool cam = false, pw = false;

		CU_ASSERT_EQUAL(store_policy_get(s, a, p->bob_id, &kv, &n),
				STORE_OK);
		for (size_t i = 0; i < n; i++) {
			cam |= strcmp(kv[i].key, "AllowCamera") == 0 &&
			       strcmp(kv[i].value, "0") == 0;
			pw |= strcmp(kv[i].key, "DevicePasswordEnabled") == 0;
		}
		CU_ASSERT(cam);
		CU_ASSERT(pw);
	}
	get(&b, "/policies?user=bob", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "Policy of bob"));
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "AllowCamera"));
	resp_free(&r);
	post(&b, "/policies",
	     "action=unset&account=0&key=DevicePasswordEnabled", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "DevicePasswordEnabled unset"));
	resp_free(&r);

	/* the queue: an entry, retried and deleted */
	{
		const char *rcpts[1] = {"x@remote.example"};
		struct store_outbound *list;
		size_t n;

		CU_ASSERT_EQUAL(store_outbound_add(s, p->ada_id,
						   HARNESS_ADA_EMAIL, "<m@x>",
						   "Subject: q\r\n\r\nhi\r\n",
						   18, rcpts, 1, time_now(),
						   time_now() + 3600),
				STORE_OK);
		CU_ASSERT_EQUAL(store_outbound_list(s, a, 0, &list, &n),
				STORE_OK);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		get(&b, "/queue", &r);
		CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "x@remote.example"));
		resp_free(&r);
		form = xasprintf("id=%lld&action=retry", (long long)list[0].id);
		post(&b, "/queue", form, &r);
		CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "Retried."));
		resp_free(&r);
		free(form);
		form = xasprintf("id=%lld&action=delete",
				 (long long)list[0].id);
		post(&b, "/queue", form, &r);
		CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "queue is empty"));
		resp_free(&r);
		free(form);
	}
	browser_free(&b);
	store_close(&s);
	arena_free(&a);
	free(base);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* Self-service: bob sees his devices only, cannot act on ada's whatever
 * id he sends, wipes his own (which wakes its Ping), and sets automatic
 * replies and his password. */
static void
test_self_service(void)
{
	struct easd_proc *p = start();
	struct eas_client *ada;
	struct store_device ad, bd;
	struct ping_job j;
	struct browser b, other;
	struct resp r;
	struct arena *a = arena_new(0);
	char *base, *form;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ada = harness_client(p, HARNESS_ADA, "ADAPHONE");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ada);
	park(p, &j, HARNESS_BOB, "BOBPHONE");
	ad = device_of(p, p->ada_id, "ADAPHONE");
	bd = device_of(p, p->bob_id, "BOBPHONE");
	base = self_base(p);
	CU_ASSERT_EQUAL_FATAL(
		login(&b, base, HARNESS_BOB_EMAIL, HARNESS_PASSWORD), 303);
	get(&b, "/", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "BOBPHONE"));
	CU_ASSERT_PTR_NULL(strstr(body(&r), "ADAPHONE"));
	resp_free(&r);

	/* ada's device, by its row: not found, and nothing changes */
	form = xasprintf("id=%lld&action=wipe&confirm=yes", (long long)ad.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	resp_free(&r);
	free(form);
	form = xasprintf("id=%lld&action=remove&confirm=yes", (long long)ad.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	resp_free(&r);
	free(form);
	CU_ASSERT_EQUAL(device_of(p, p->ada_id, "ADAPHONE").wipe,
			STORE_WIPE_NONE);
	CU_ASSERT(harness_log_count(p, "of another account: refused") == 2);
	/* the admin-only actions are not for the self-service page */
	form = xasprintf("id=%lld&action=allow", (long long)bd.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);
	free(form);

	/* his own: the warning, then the wipe, which wakes the Ping */
	form = xasprintf("id=%lld&action=wipe", (long long)bd.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "erases EVERYTHING"));
	resp_free(&r);
	free(form);
	form = xasprintf("id=%lld&action=wipe&confirm=yes", (long long)bd.id);
	post(&b, "/device", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	free(form);
	CU_ASSERT(harness_wait_log(p, "push: waking BOBPHONE ", 1, WAIT_MS) >=
		  1);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.status, 1);
	CU_ASSERT_EQUAL(eas_client_provision(j.c, a, NULL), 1);
	CU_ASSERT_EQUAL(device_of(p, p->bob_id, "BOBPHONE").wipe,
			STORE_WIPE_ACKNOWLEDGED);

	/* a wipe he asked for he may cancel; an administrator's he may not */
	{
		struct eas_client *tab =
			harness_client(p, HARNESS_BOB, "BOBTAB");
		struct store_device td = device_of(p, p->bob_id, "BOBTAB");
		struct store *s = easd_store(p);

		CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
		form = xasprintf("id=%lld&action=wipe&confirm=yes",
				 (long long)td.id);
		post(&b, "/device", form, &r);
		resp_free(&r);
		free(form);
		get(&b, "/", &r);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(body(&r), "value=\"cancel-wipe\""));
		resp_free(&r);
		form = xasprintf("id=%lld&action=cancel-wipe",
				 (long long)td.id);
		post(&b, "/device", form, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		resp_free(&r);
		CU_ASSERT_EQUAL(device_of(p, p->bob_id, "BOBTAB").wipe,
				STORE_WIPE_NONE);
		CU_ASSERT_EQUAL(store_device_set_wipe(s, td.id,
						      STORE_WIPE_REQUESTED,
						      "admin:root"),
				STORE_OK);
		get(&b, "/", &r);
		CU_ASSERT_PTR_NULL(strstr(body(&r), "value=\"cancel-wipe\""));
		CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "administrator asked"));
		resp_free(&r);
		post(&b, "/device", form, &r);
		CU_ASSERT_EQUAL(r.status, 403);
		resp_free(&r);
		free(form);
		CU_ASSERT_EQUAL(device_of(p, p->bob_id, "BOBTAB").wipe,
				STORE_WIPE_REQUESTED);
		store_close(&s);
		eas_client_free(&tab);
	}

	/* automatic replies */
	get(&b, "/oof", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	post(&b, "/oof", "state=1&internal=Away+%3Cb%3E&external=", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	{
		struct store *s = easd_store(p);
		struct store_oof oof;

		CU_ASSERT_EQUAL(store_oof_get(s, a, p->bob_id, &oof), STORE_OK);
		CU_ASSERT_EQUAL(oof.state, 1);
		CU_ASSERT(oof.msg[STORE_OOF_INTERNAL].enabled);
		CU_ASSERT_STRING_EQUAL(oof.msg[STORE_OOF_INTERNAL].text,
				       "Away <b>");
		CU_ASSERT(!oof.msg[STORE_OOF_EXTERNAL].enabled);
		store_close(&s);
	}
	get(&b, "/oof", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "Away &lt;b&gt;"));
	resp_free(&r);
	post(&b, "/oof",
	     "state=2&start=2030-01-02T10%3A00&end=2030-01-01T10"
	     "%3A00",
	     &r);
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);

	/* the password: another browser's session ends, this one goes on */
	CU_ASSERT_EQUAL_FATAL(
		login(&other, base, HARNESS_BOB, HARNESS_PASSWORD), 303);
	post(&b, "/password", "current=wrong&new=new-pass-1&again=new-pass-1",
	     &r);
	CU_ASSERT_EQUAL(r.status, 403);
	resp_free(&r);
	post(&b, "/password",
	     "current=" HARNESS_PASSWORD "&new=new-pass-1&again=new-pass-1",
	     &r);
	CU_ASSERT_EQUAL(r.status, 303);
	{
		char *sc = header(&r, "Set-Cookie");

		CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
		free(b.cookie);
		b.cookie = xstrndup(sc, strcspn(sc, ";"));
		free(sc);
	}
	resp_free(&r);
	get(&b, "/password?done=1", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(body(&r), "password was changed"));
	resp_free(&r);
	get(&other, "/", &r);
	CU_ASSERT_EQUAL(r.status, 303);
	resp_free(&r);
	browser_free(&other);
	CU_ASSERT_EQUAL(login(&other, base, HARNESS_BOB, "new-pass-1"), 303);
	browser_free(&other);

	browser_free(&b);
	free(base);
	arena_free(&a);
	eas_client_free(&j.c);
	eas_client_free(&ada);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo web_tests[] = {
	T(test_headers_and_login_required),
	T(test_login_and_cookie),
	T(test_login_throttled),
	T(test_login_delayed),
	T(test_csrf_refused),
	T(test_session_expiry),
	T(test_admin_wipe_wakes_ping),
	T(test_admin_device_actions),
	T(test_admin_pages),
	T(test_self_service),
	T(test_no_self_service),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"web", NULL, NULL, NULL, NULL, web_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = test_main(suites);
	curl_global_cleanup();
	return rc;
}
