/* The login page of both sites, and logging out. A login is checked like
 * EAS Basic auth (auth.c): the same password check, the same throttle of
 * failures per account and address, the same growing delay and lockout.
 * The admin site takes only accounts marked admin, and says no more about
 * a refused login than about a wrong password. */
#include <string.h>

#include "log.h"
#include "util.h"
#include "web.h"

static void
form(struct web *w, const char *user, const char *message, const char *kind)
{
	web_page_begin(w, w->site == WEB_ADMIN ? "Administrator login"
					       : "Log in to your account");
	if (message != NULL)
		web_notice(w, kind, message);
	if (w->site == WEB_SELF)
		web_printf(w, "<p>Log in with your mail address and "
			      "password to see your phones and tablets, "
			      "wipe a lost one, set automatic replies or "
			      "change your password.</p>\n");
	web_printf(w,
		   "<form method=\"post\" action=\"%s/login\" class=\"login\">"
		   "<label>User name or address<input name=\"user\" "
		   "autocomplete=\"username\" required value=\"%s\"></label>"
		   "<label>Password<input type=\"password\" name=\"password\" "
		   "autocomplete=\"current-password\" required></label>"
		   "<button type=\"submit\" name=\"login\">Log in</button>"
		   "</form>\n",
		   w->base, user);
	web_page_end(w);
}

static void
do_login(struct web *w)
{
	const char *user = web_form(w, "user");
	const char *password = web_form(w, "password");
	struct eas_req req = {0};
	uint64_t wait_ms = 0;
	int r;

	if (user == NULL || password == NULL || user[0] == '\0' ||
	    password[0] == '\0' || strlen(user) > 320 ||
	    strlen(password) > 1024) {
		w->hr->status = 400;
		form(w, "", "Enter your user name and password.", "error");
		return;
	}
	req.arena = w->arena;
	req.srv = w->srv;
	req.store = w->store;
	req.id = w->hr->id;
	req.remote_addr = w->hr->remote_addr;
	r = auth_check(&req, user, password, &wait_ms);
	if (r == 0)
		r = auth_finish(&req, &wait_ms);
	if (r == -2) {
		w->hr->status = 503;
		http_add_header(
			w->hr, "Retry-After",
			arena_printf(w->arena, "%llu",
				     (unsigned long long)(wait_ms + 999) /
					     1000));
		form(w, user, "Too many failed logins: try again later.",
		     "error");
		return;
	}
	if (r == 0 && !req.account.enabled)
		r = -1;
	if (r == 0 && w->site == WEB_ADMIN && !req.account.admin) {
		log_warn("web: admin login refused: client=%s account='%s' is "
			 "not an administrator",
			 w->hr->remote_addr, req.account.login);
		r = -1;
	}
	if (r < 0) {
		w->hr->status = 401;
		w->delay_ms = wait_ms;
		form(w, user, "Wrong user name or password.", "error");
		return;
	}
	if (web_session_start(w, &req.account) < 0)
		return;
	log_info("web: %s login: user=%s client=%s",
		 w->site == WEB_ADMIN ? "admin" : "self-service",
		 req.account.login, w->hr->remote_addr);
	web_redirect(w, "/");
}

void
web_login_page(struct web *w)
{
	if (w->post) {
		do_login(w);
		return;
	}
	if (w->logged_in) {
		web_redirect(w, "/");
		return;
	}
	if (web_query(w, "expired") != NULL)
		w->hr->status = 200;
	form(w, "",
	     web_query(w, "expired") != NULL
		     ? "Your session expired; please log in again."
		     : NULL,
	     "warn");
}

void
web_logout(struct web *w)
{
	if (!w->post) {
		web_redirect(w, "/");
		return;
	}
	log_info("web: logout: user=%s", w->account.login);
	web_session_end(w);
	web_redirect(w, "/login");
}
