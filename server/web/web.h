/* The web pages: the admin pages on the admin listener and the
 * self-service pages under /account/ on the public listener. Server-side
 * HTML, one file per page; this header is what the pages share (web.c):
 * the request, sessions, CSRF tokens, forms, and the one function through
 * which every value written into HTML goes (web_printf's %s). */
#ifndef EASD_WEB_H
#define EASD_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "server.h"
#include "store.h"

enum web_site {
	WEB_ADMIN, /* the admin listener: accounts marked admin */
	WEB_SELF,  /* /account/ on the public listener: every account */
};

struct web_field {
	const char *name, *value;
};

struct web {
	struct http_request *hr;
	struct easd *srv;
	struct store *store;
	struct arena *arena;
	enum web_site site;
	const char *base; /* "" (admin) or "/account" (self) */
	bool post;
	/* the session, when logged in */
	bool logged_in;
	struct store_session session;
	struct store_account account;
	/* the query and, for POST, the form */
	struct web_field *query, *form;
	size_t nquery, nform;
	/* the page */
	struct buf out;
	bool page_open;
	uint64_t delay_ms; /* answer this much later (a failed login) */
};

/* A page: reads w (query, form, account) and writes w->out, or sets a
 * redirect or an error. */
typedef void web_page_fn(struct web *w);

/* Flags of web_serve. */
#define WEB_F_PUBLIC 0x01 /* no session needed (the login page) */

/* Serve a request of a page: the security headers, the session (a
 * request without a valid one is sent to the login page), the form, and
 * for POST the CSRF token and the origin (refused with 403 when they do
 * not match), then fn. */
enum http_result web_serve(struct http_request *hr, enum web_site site,
			   unsigned flags, web_page_fn *fn);

/* Append to the page: fmt is trusted markup (a string literal), every %s
 * argument is a value and is HTML-escaped (NULL writes nothing); %d %u
 * %ld %lld %llu %zu are numbers. */
void web_printf(struct web *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The escaping itself (& < > " '), for values only. */
void web_escape(struct buf *out, const char *s);
/* s percent-encoded for a URL's query (in the arena). */
const char *web_url_encode(struct web *w, const char *s);

/* The page's frame: the document head, the navigation of the site and a
 * heading; web_page_end closes it. */
void web_page_begin(struct web *w, const char *title);
void web_page_end(struct web *w);
/* The hidden CSRF field every state-changing form carries. */
void web_csrf_field(struct web *w);
/* A message box: kind "ok", "warn" or "error". */
void web_notice(struct web *w, const char *kind, const char *text);

/* A field of the query or of the form; NULL when absent. */
const char *web_query(struct web *w, const char *name);
const char *web_form(struct web *w, const char *name);
/* A positive id from the form or the query; 0 when absent or not one. */
int64_t web_id(struct web *w, const char *name);

/* Answer with 303 See Other to path (under the site's base). */
void web_redirect(struct web *w, const char *path);
/* Answer with an error page (404, 403, 500...). */
void web_error(struct web *w, int status, const char *text);
/* Answer for a store error: 503 for a busy or failed store, else 500. */
void web_store_error(struct web *w, enum store_error e, const char *what);

/* Time as "2026-03-05 14:30 UTC" ("never" for 0), in the arena. */
const char *web_time(struct web *w, int64_t t);
/* "requested", "acknowledged"... of a device's wipe state. */
const char *web_wipe_name(enum store_wipe wipe);
/* Who a change is recorded as in the device's history: "web:LOGIN". */
const char *web_origin(struct web *w);

/* Sessions and logins (web.c). Start a session for account after a
 * successful login: the cookie is set on the response. */
int web_session_start(struct web *w, const struct store_account *account);
/* End the current session and clear its cookie. */
void web_session_end(struct web *w);

/* The login form and its POST (login.c), shared by both sites. */
void web_login_page(struct web *w);
void web_logout(struct web *w);

/* The stylesheet and the icon (style.c). */
enum http_result web_style(struct http_request *hr);
enum http_result web_icon(struct http_request *hr);
enum http_result web_script(struct http_request *hr);

/* The routes of the admin pages (added to the admin listener's table) and
 * of the self-service pages (the public listener's). */
extern const struct http_route web_admin_routes[];
extern const size_t web_admin_nroutes;
extern const struct http_route web_self_routes[];
extern const size_t web_self_nroutes;

/* Pages (one file each). */
void web_dashboard(struct web *w);     /* dashboard.c */
void web_accounts(struct web *w);      /* accounts.c */
void web_devices(struct web *w);       /* devices.c: the list */
void web_device(struct web *w);	       /* devices.c: one, and actions */
void web_policies(struct web *w);      /* policies.c */
void web_queue(struct web *w);	       /* queue.c */
void web_self_devices(struct web *w);  /* self-devices.c */
void web_self_device(struct web *w);   /* self-devices.c: actions */
void web_self_oof(struct web *w);      /* self-oof.c */
void web_self_password(struct web *w); /* self-password.c */

/* When the device's pending (or last) wipe was asked for, and by whom
 * (*origin_r, may be NULL: "web-admin:ada", "admin:root"...); 0 when
 * never. */
int64_t web_wipe_requested(struct web *w, const struct store_device *d,
			   const char **origin_r);
/* Whether the user may cancel the device's pending wipe on the
 * self-service page: only one they asked for there themselves, never an
 * administrator's (a thief who knows the password must not undo it). */
bool web_self_may_cancel(struct web *w, const struct store_device *d);

/* A device action shared by the admin and self-service pages (devices.c):
 * "wipe", "account-wipe", "cancel-wipe", "remove", "allow", "block",
 * "quarantine", "resync" on dev. Writes a confirmation page for wipe,
 * account-wipe and remove without confirm=yes; else acts, logs who did
 * it, and redirects to back. Returns 0, or -1 for an unknown action. */
int web_device_action(struct web *w, const struct store_device *dev,
		      const char *action, const char *back);

#endif
