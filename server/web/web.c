/* What every web page shares: the security headers, sessions in the store
 * with their cookie, the CSRF check, forms and queries, the page frame, and
 * the HTML escaping every value goes through. */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"
#include "version.h"
#include "web.h"

#define WEB_PAGE_MAX (8 * 1024 * 1024)
#define WEB_FIELDS_MAX 256

/* Nothing but our own stylesheet, icon and script (no inline script or
 * style), no frame, no form sent elsewhere. */
#define WEB_CSP                                                                \
	"default-src 'none'; style-src 'self'; img-src 'self'; "               \
	"script-src 'self'; form-action 'self'; frame-ancestors 'none'; "      \
	"base-uri 'none'"

static const char *
cookie_name(enum web_site site)
{
	return site == WEB_ADMIN ? "easd_admin" : "easd_self";
}

static const char *
site_kind(enum web_site site)
{
	return site == WEB_ADMIN ? "admin" : "self";
}

/* --- escaping and output --- */

void
web_escape(struct buf *out, const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_puts(out, "&amp;");
			break;
		case '<':
			buf_puts(out, "&lt;");
			break;
		case '>':
			buf_puts(out, "&gt;");
			break;
		case '"':
			buf_puts(out, "&quot;");
			break;
		case '\'':
			buf_puts(out, "&#39;");
			break;
		default:
			buf_putc(out, (uint8_t)*s);
		}
	}
}

void
web_printf(struct web *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p != '\0'; p++) {
		char spec[16], num[64];
		size_t n = 0;

		if (*p != '%') {
			buf_putc(&w->out, (uint8_t)*p);
			continue;
		}
		p++;
		if (*p == '%') {
			buf_putc(&w->out, '%');
			continue;
		}
		spec[n++] = '%';
		while (*p == 'l' || *p == 'z') {
			eas_assert(n < sizeof(spec) - 2);
			spec[n++] = *p++;
		}
		spec[n++] = *p;
		spec[n] = '\0';
		if (strcmp(spec, "%s") == 0)
			web_escape(&w->out, va_arg(ap, const char *));
		else if (strcmp(spec, "%d") == 0)
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
		else if (strcmp(spec, "%u") == 0)
			snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned));
		else if (strcmp(spec, "%ld") == 0)
			snprintf(num, sizeof(num), "%ld", va_arg(ap, long));
		else if (strcmp(spec, "%lld") == 0)
			snprintf(num, sizeof(num), "%lld",
				 va_arg(ap, long long));
		else if (strcmp(spec, "%llu") == 0)
			snprintf(num, sizeof(num), "%llu",
				 va_arg(ap, unsigned long long));
		else if (strcmp(spec, "%zu") == 0)
			snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t));
		else
			eas_panic("web_printf: unsupported conversion %s",
				  spec);
		if (strcmp(spec, "%s") != 0)
			buf_puts(&w->out, num);
	}
	va_end(ap);
}

const char *
web_url_encode(struct web *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = s != NULL ? strlen(s) : 0;
	char *r = arena_alloc(w->arena, n * 3 + 1), *o = r;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (g_ascii_isalnum(c) || strchr("-._~", c) != NULL) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return r;
}

/* --- forms and queries --- */

/* A malformed escape or a NUL (%00) makes the field unreadable: no
 * browser sends one. */
static char *
url_decode(struct arena *a, const char *s, size_t n)
{
	char *r = arena_alloc(a, n + 1);

	return str_url_decode(r, s, n) == 0 ? r : NULL;
}

/* application/x-www-form-urlencoded, as in a query string. */
static void
parse_fields(struct arena *a, const char *s, size_t len,
	     struct web_field **list_r, size_t *n_r)
{
	struct web_field *list = NULL;
	size_t n = 0, cap = 0;
	const char *end = s + len;

	while (s < end && n < WEB_FIELDS_MAX) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *stop = amp != NULL ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));

		const char *name = url_decode(
			a, s, (size_t)((eq != NULL ? eq : stop) - s));
		const char *value =
			eq != NULL
				? url_decode(a, eq + 1, (size_t)(stop - eq - 1))
				: "";

		if (stop > s && name != NULL && value != NULL) {
			list = arena_grow(a, list, n, &cap, sizeof(*list));
			list[n].name = name;
			list[n].value = value;
			n++;
		}
		s = stop + 1;
	}
	*list_r = list;
	*n_r = n;
}

static const char *
field(const struct web_field *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return list[i].value;
	return NULL;
}

const char *
web_query(struct web *w, const char *name)
{
	return field(w->query, w->nquery, name);
}

const char *
web_form(struct web *w, const char *name)
{
	return field(w->form, w->nform, name);
}

int64_t
web_id(struct web *w, const char *name)
{
	const char *v = w->post ? web_form(w, name) : NULL;
	int64_t id;

	if (v == NULL)
		v = web_query(w, name);
	if (v == NULL || str_to_int64(v, &id) < 0 || id <= 0)
		return 0;
	return id;
}

/* --- answers --- */

void
web_redirect(struct web *w, const char *path)
{
	w->hr->status = 303;
	http_add_header(w->hr, "Location",
			arena_printf(w->arena, "%s%s", w->base, path));
	buf_reset(&w->out);
	w->page_open = false;
}

void
web_error(struct web *w, int status, const char *text)
{
	buf_reset(&w->out);
	w->page_open = false;
	w->hr->status = status;
	web_page_begin(w, status == 404	  ? "Not found"
			  : status == 403 ? "Refused"
					  : "Error");
	web_notice(w, "error", text);
	web_page_end(w);
}

void
web_store_error(struct web *w, enum store_error e, const char *what)
{
	log_error("web: %s: %s", what, store_error_str(e));
	if (e == STORE_NOTFOUND) {
		web_error(w, 404, "No such thing (any more).");
		return;
	}
	web_error(w,
		  e == STORE_BUSY || e == STORE_CORRUPT || e == STORE_INTERNAL
			  ? 503
			  : 500,
		  "The database could not do that now; try again.");
	if (w->hr->status == 503)
		http_add_header(w->hr, "Retry-After", EAS_RETRY_BUSY);
}

void
web_notice(struct web *w, const char *kind, const char *text)
{
	web_printf(w, "<p class=\"notice %s\">%s</p>\n", kind, text);
}

void
web_csrf_field(struct web *w)
{
	web_printf(w, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
		   w->logged_in ? w->session.csrf : "");
}

void
web_page_begin(struct web *w, const char *title)
{
	w->page_open = true;
	web_printf(w,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		   "<meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, "
		   "initial-scale=1\">"
		   "<title>%s - easd</title>"
		   "<link rel=\"stylesheet\" href=\"%s/style.css\">"
		   "<link rel=\"icon\" href=\"%s/favicon.svg\" "
		   "type=\"image/svg+xml\">"
		   "<script src=\"%s/web.js\" defer></script>"
		   "</head><body>\n<header><span class=\"brand\">easd%s</span>",
		   title, w->base, w->base, w->base,
		   w->site == WEB_ADMIN ? " admin" : "");
	if (w->logged_in) {
		web_printf(w, "<nav>");
		if (w->site == WEB_ADMIN)
			web_printf(w, "<a href=\"/\">Dashboard</a>"
				      "<a href=\"/accounts\">Accounts</a>"
				      "<a href=\"/devices\">Devices</a>"
				      "<a href=\"/policies\">Policies</a>"
				      "<a href=\"/queue\">Queue</a>");
		else
			web_printf(
				w,
				"<a href=\"/account/\">My devices</a>"
				"<a href=\"/account/oof\">Automatic "
				"replies</a>"
				"<a href=\"/account/password\">Password</a>");
		web_printf(w,
			   "<form method=\"post\" action=\"%s/logout\" "
			   "class=\"logout\">",
			   w->base);
		web_csrf_field(w);
		web_printf(w,
			   "<button type=\"submit\">Log out %s</button>"
			   "</form></nav>",
			   w->account.login);
	}
	web_printf(w, "</header>\n<main>\n<h1>%s</h1>\n", title);
}

void
web_page_end(struct web *w)
{
	web_printf(w, "</main>\n<footer>easd %s</footer>\n</body></html>\n",
		   EASD_VERSION);
}

const char *
web_time(struct web *w, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char s[64];

	if (t <= 0)
		return "never";
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm);
	return arena_strdup(w->arena, s);
}

const char *
web_wipe_name(enum store_wipe wipe)
{
	switch (wipe) {
	case STORE_WIPE_NONE:
		return "none";
	case STORE_WIPE_REQUESTED:
		return "wipe requested";
	case STORE_WIPE_ACKNOWLEDGED:
		return "wiped (acknowledged)";
	case STORE_WIPE_ACCOUNT_REQUESTED:
		return "account-only wipe requested";
	case STORE_WIPE_ACCOUNT_ACKNOWLEDGED:
		return "account wiped (acknowledged)";
	}
	return "?";
}

const char *
web_origin(struct web *w)
{
	return arena_printf(w->arena, "web%s:%s",
			    w->site == WEB_ADMIN ? "-admin" : "-self",
			    w->account.login);
}

/* --- sessions --- */

/* The store keeps a digest of the cookie, so that a copy of the database
 * holds no usable session. */
static const char *
session_key(struct arena *a, const char *token)
{
	gchar *hex =
		g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
	const char *r = arena_strdup(a, hex);

	g_free(hex);
	return r;
}

static const char *
random_hex(struct arena *a, size_t bytes)
{
	uint8_t raw[32];
	char *r = arena_alloc(a, bytes * 2 + 1);

	eas_assert(bytes <= sizeof(raw));
	random_bytes(raw, bytes);
	for (size_t i = 0; i < bytes; i++)
		snprintf(r + 2 * i, 3, "%02x", raw[i]);
	return r;
}

static bool
secure(struct web *w)
{
	return strcmp(w->hr->scheme, "https") == 0;
}

static void
set_cookie(struct web *w, const char *value, bool clear)
{
	http_add_header(
		w->hr, "Set-Cookie",
		arena_printf(w->arena,
			     "%s=%s; Path=%s/; HttpOnly; SameSite=Strict%s%s",
			     cookie_name(w->site), value, w->base,
			     secure(w) ? "; Secure" : "",
			     clear ? "; Max-Age=0" : ""));
}

/* The value of our cookie in the request, or NULL. */
static const char *
cookie_value(struct web *w)
{
	const char *h = http_header(w->hr, "Cookie");
	const char *name = cookie_name(w->site);
	size_t nlen = strlen(name);

	while (h != NULL && *h != '\0') {
		const char *end;

		while (*h == ' ' || *h == ';')
			h++;
		end = strchr(h, ';');
		if (end == NULL)
			end = h + strlen(h);
		if ((size_t)(end - h) > nlen && strncmp(h, name, nlen) == 0 &&
		    h[nlen] == '=')
			return arena_strndup(w->arena, h + nlen + 1,
					     (size_t)(end - h) - nlen - 1);
		h = end;
	}
	return NULL;
}

int
web_session_start(struct web *w, const struct store_account *account)
{
	const char *token = random_hex(w->arena, 32);
	struct store_session sess = {
		.key = session_key(w->arena, token),
		.account_id = account->id,
		.kind = site_kind(w->site),
		.csrf = random_hex(w->arena, 16),
		.created = time_now(),
		.last_used = time_now(),
	};
	enum store_error e = store_session_add(w->store, &sess);

	if (e != STORE_OK) {
		web_store_error(w, e, "starting a session");
		return -1;
	}
	/* Housekeeping: sessions past their time go at each login. */
	(void)store_session_expire(
		w->store, time_now() - (int64_t)w->srv->cfg.web_session_idle,
		time_now() - (int64_t)w->srv->cfg.web_session_max, NULL);
	set_cookie(w, token, false);
	w->session = sess;
	w->account = *account;
	w->logged_in = true;
	return 0;
}

void
web_session_end(struct web *w)
{
	if (w->logged_in)
		(void)store_session_remove(w->store, w->session.key);
	w->logged_in = false;
	set_cookie(w, "", true);
}

/* The request's session: 1 when valid (w filled in), 0 when there is
 * none or it expired (*why_r says which), -1 on a store failure. */
static int
session_load(struct web *w, const char **why_r)
{
	const char *token = cookie_value(w);
	const struct easd_config *cfg = &w->srv->cfg;
	struct store_session sess;
	struct store_account acc;
	enum store_error e;
	int64_t now = time_now();

	*why_r = NULL;
	if (token == NULL || token[0] == '\0')
		return 0;
	e = store_session_get(w->store, w->arena, session_key(w->arena, token),
			      &sess);
	if (e == STORE_NOTFOUND) {
		*why_r = "Your session ended; please log in again.";
		return 0;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the session");
		return -1;
	}
	if (strcmp(sess.kind, site_kind(w->site)) != 0)
		return 0;
	if (now - sess.last_used > (int64_t)cfg->web_session_idle ||
	    now - sess.created > (int64_t)cfg->web_session_max) {
		(void)store_session_remove(w->store, sess.key);
		*why_r = "Your session expired; please log in again.";
		return 0;
	}
	e = store_account_get_by_id(w->store, w->arena, sess.account_id, &acc);
	if (e == STORE_NOTFOUND || (e == STORE_OK && !acc.enabled) ||
	    (e == STORE_OK && w->site == WEB_ADMIN && !acc.admin)) {
		(void)store_session_remove(w->store, sess.key);
		*why_r = "Your session ended; please log in again.";
		return 0;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the account");
		return -1;
	}
	if (sess.last_used != now)
		(void)store_session_touch(w->store, sess.key, now);
	w->session = sess;
	w->account = acc;
	w->logged_in = true;
	return 1;
}

/* Equal in time independent of where they differ. */
static bool
token_eq(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char d = 0;

	if (n != strlen(b) || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* A POST must come from our own pages: the browser's Origin (when sent)
 * names this host, and a cross-site fetch is refused whatever it
 * carries. */
static bool
same_origin(struct web *w)
{
	const char *origin = http_header(w->hr, "Origin");
	const char *site = http_header(w->hr, "Sec-Fetch-Site");

	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return false;
	if (origin == NULL)
		return true;
	if (w->hr->host == NULL)
		return false;
	return strcmp(origin, arena_printf(w->arena, "%s://%s", w->hr->scheme,
					   w->hr->host)) == 0;
}

/* Referrer-Policy same-origin, not no-referrer: with no-referrer a
 * browser sends "Origin: null" with our own forms, and the origin check
 * could not tell them from a forged one. Nothing goes to other sites. */
static void
security_headers(struct http_request *hr)
{
	http_add_header(hr, "Content-Security-Policy", WEB_CSP);
	http_add_header(hr, "X-Frame-Options", "DENY");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	http_add_header(hr, "Referrer-Policy", "same-origin");
	http_add_header(hr, "Cache-Control", "no-store");
	http_add_header(hr, "Cross-Origin-Opener-Policy", "same-origin");
}

static void
finish(struct web *w)
{
	struct http_request *hr = w->hr;

	if (hr->status != 303 && w->out.len > 0) {
		hr->content_type = "text/html; charset=utf-8";
		hr->resp_body = arena_memdup(w->arena, w->out.data, w->out.len);
		hr->resp_len = w->out.len;
	}
	buf_deinit(&w->out);
}

static enum http_result
answer_later(struct http_request *hr)
{
	(void)hr;
	return HTTP_DONE;
}

enum http_result
web_serve(struct http_request *hr, enum web_site site, unsigned flags,
	  web_page_fn *fn)
{
	struct web *w = arena_new_struct(hr->arena, struct web);
	const char *why = NULL;
	int r;

	w->hr = hr;
	w->srv = hr->ctx;
	w->arena = hr->arena;
	w->site = site;
	w->base = site == WEB_ADMIN ? "" : "/account";
	w->post = strcmp(hr->method, "POST") == 0;
	buf_init(&w->out, WEB_PAGE_MAX);
	hr->status = 200;
	security_headers(hr);
	hr->log_fields = arena_printf(hr->arena, "web %s", hr->path);
	w->store = easd_thread_store(w->srv);
	if (w->store == NULL) {
		web_error(w, 503, "The database is not available.");
		http_add_header(hr, "Retry-After", EAS_RETRY_STORE);
		goto out;
	}
	parse_fields(w->arena, hr->query, strlen(hr->query), &w->query,
		     &w->nquery);
	if (w->post)
		parse_fields(w->arena, (const char *)hr->body, hr->body_len,
			     &w->form, &w->nform);
	r = session_load(w, &why);
	if (r < 0)
		goto out;
	if (w->post && !same_origin(w)) {
		log_warn("web: %s %s refused: cross-site request (client=%s)",
			 hr->method, hr->path, hr->remote_addr);
		web_error(w, 403, "This form was sent from another site.");
		goto out;
	}
	if (r == 0 && (flags & WEB_F_PUBLIC) == 0) {
		if (why != NULL)
			set_cookie(w, "", true);
		web_redirect(w, why != NULL ? "/login?expired=1" : "/login");
		goto out;
	}
	if (w->post && r == 1 && (flags & WEB_F_PUBLIC) == 0) {
		const char *token = web_form(w, "csrf");

		if (token == NULL || !token_eq(token, w->session.csrf)) {
			log_warn("web: %s %s refused: bad CSRF token "
				 "(user=%s client=%s)",
				 hr->method, hr->path, w->account.login,
				 hr->remote_addr);
			web_error(w, 403,
				  "This form is stale or was not sent from "
				  "this page. Reload the page and try again.");
			goto out;
		}
	}
	hr->log_fields = arena_printf(hr->arena, "web %s user=%s", hr->path,
				      w->logged_in ? w->account.login : "-");
	fn(w);
out:
	finish(w);
	if (w->delay_ms > 0) {
		/* A failed login is answered later, like EAS Basic auth's
		 * 401, without holding a thread. */
		hr->park_ms = w->delay_ms;
		hr->resume_fn = answer_later;
		return HTTP_PARKED;
	}
	return HTTP_DONE;
}
