/* Self-service: change one's own password (the current one first). Every
 * other session of the account ends (the store drops them with the old
 * password); this browser gets a new one. */
#include <string.h>

#include "log.h"
#include "web.h"

#define PASSWORD_MIN 8

static void
form(struct web *w, const char *kind, const char *message)
{
	web_page_begin(w, "Change your password");
	if (message != NULL)
		web_notice(w, kind, message);
	web_printf(w, "<p>The new password is the one your phones and mail "
		      "programs use too: they will ask for it.</p>\n"
		      "<form method=\"post\" action=\"/account/password\" "
		      "class=\"stack\">");
	web_csrf_field(w);
	web_printf(
		w,
		"<label>Current password<input type=\"password\" "
		"name=\"current\" autocomplete=\"current-password\" "
		"required></label>"
		"<label>New password (at least %d characters)<input "
		"type=\"password\" name=\"new\" autocomplete=\"new-password\" "
		"required minlength=\"%d\"></label>"
		"<label>New password again<input type=\"password\" "
		"name=\"again\" autocomplete=\"new-password\" required>"
		"</label><button type=\"submit\" name=\"change\">Change "
		"the password</button></form>\n",
		PASSWORD_MIN, PASSWORD_MIN);
	web_page_end(w);
}

void
web_self_password(struct web *w)
{
	const char *cur = web_form(w, "current"), *pw = web_form(w, "new");
	const char *again = web_form(w, "again");
	struct store_account acc = w->account;
	enum store_error e;

	if (!w->post) {
		form(w, NULL,
		     web_query(w, "done") != NULL ? "Your password was changed."
						  : NULL);
		return;
	}
	if (cur == NULL || pw == NULL || again == NULL) {
		w->hr->status = 400;
		form(w, "error", "Fill in every field.");
		return;
	}
	if (strcmp(pw, again) != 0) {
		w->hr->status = 400;
		form(w, "error", "The two new passwords differ.");
		return;
	}
	if (strlen(pw) < PASSWORD_MIN || strlen(pw) > 1024) {
		w->hr->status = 400;
		form(w, "error", "The new password is too short.");
		return;
	}
	e = store_account_check_password(w->store, w->arena, acc.login, cur,
					 NULL);
	if (e == STORE_NOTFOUND) {
		w->hr->status = 403;
		log_warn("web: self-service: user=%s gave a wrong current "
			 "password (client=%s)",
			 acc.login, w->hr->remote_addr);
		form(w, "error", "The current password is wrong.");
		return;
	}
	if (e == STORE_OK)
		e = store_account_set_password(w->store, acc.id, pw);
	if (e != STORE_OK) {
		web_store_error(w, e, "changing the password");
		return;
	}
	auth_cache_forget(acc.id);
	log_info("web: self-service: user=%s changed their password "
		 "(client=%s)",
		 acc.login, w->hr->remote_addr);
	w->logged_in = false;
	if (web_session_start(w, &acc) < 0)
		return;
	web_redirect(w, "/password?done=1");
}
