/* The self-service home page (/account/): the user's own phones and
 * tablets, with a wipe, an account-only wipe and removal of each, and the
 * POST of those actions (/account/device). A device of another account is
 * "not found", whatever id the form carries. */
#include <string.h>

#include "log.h"
#include "web.h"

static void
button(struct web *w, const struct store_device *d, const char *action,
       const char *label, const char *cls)
{
	web_printf(w, "<form method=\"post\" action=\"/account/device\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<button type=\"submit\" name=\"action\" value=\"%s\" "
		   "class=\"%s\">%s</button></form>",
		   (long long)d->id, action, cls, label);
}

bool
web_self_may_cancel(struct web *w, const struct store_device *d)
{
	const char *origin = NULL;

	if (d->wipe != STORE_WIPE_REQUESTED &&
	    d->wipe != STORE_WIPE_ACCOUNT_REQUESTED)
		return false;
	(void)web_wipe_requested(w, d, &origin);
	return origin != NULL && strcmp(origin, web_origin(w)) == 0;
}

static void
list_page(struct web *w)
{
	struct store_device *list;
	size_t n;
	enum store_error e;

	e = store_device_list(w->store, w->arena, w->account.id, &list, &n);
	if (e != STORE_OK) {
		web_store_error(w, e, "listing devices");
		return;
	}
	web_page_begin(w, "My devices");
	web_printf(w, "<p>Signed in as %s (%s).</p>\n", w->account.login,
		   w->account.email);
	if (n == 0)
		web_printf(w, "<p>No phone or tablet has connected to this "
			      "account yet.</p>\n");
	for (size_t i = 0; i < n; i++) {
		const struct store_device *d = &list[i];
		const char *name =
			d->info.friendly_name != NULL &&
					d->info.friendly_name[0] != '\0'
				? d->info.friendly_name
			: d->info.model != NULL ? d->info.model
						: d->device_type;

		web_printf(w,
			   "<section class=\"card device\" id=\"dev-%lld\">"
			   "<h2>%s</h2><p>%s %s - %s</p>"
			   "<p>Last sync: %s</p><p>Wipe: %s</p>"
			   "<div class=\"actions\">",
			   (long long)d->id, name, d->device_type,
			   d->info.model, d->device_id,
			   web_time(w, d->last_seen), web_wipe_name(d->wipe));
		button(w, d, "wipe", "Wipe this device", "danger");
		/* only 16.1 devices know the account-only wipe */
		if (d->protocol_version != NULL &&
		    strcmp(d->protocol_version, "16.1") == 0)
			button(w, d, "account-wipe",
			       "Remove my account from it", "danger");
		if (web_self_may_cancel(w, d))
			button(w, d, "cancel-wipe", "Cancel the wipe", "");
		else if (d->wipe == STORE_WIPE_REQUESTED ||
			 d->wipe == STORE_WIPE_ACCOUNT_REQUESTED)
			web_printf(w, "<p class=\"note\">Your administrator "
				      "asked for this wipe.</p>");
		button(w, d, "remove", "Forget this device", "");
		web_printf(w, "</div></section>\n");
	}
	web_page_end(w);
}

void
web_self_devices(struct web *w)
{
	list_page(w);
}

/* POST /account/device: id, action (wipe, account-wipe, cancel-wipe,
 * remove), confirm. */
void
web_self_device(struct web *w)
{
	int64_t id = web_id(w, "id");
	const char *action = web_form(w, "action");
	struct store_device d;
	enum store_error e;

	if (!w->post) {
		web_redirect(w, "/");
		return;
	}
	e = id != 0 ? store_device_get_by_id(w->store, w->arena, id, &d)
		    : STORE_NOTFOUND;
	if (e == STORE_OK && d.account_id != w->account.id) {
		log_warn("web: self-service: user=%s asked for device row %lld "
			 "of another account: refused",
			 w->account.login, (long long)id);
		e = STORE_NOTFOUND;
	}
	if (e == STORE_NOTFOUND) {
		web_error(w, 404, "No such device.");
		return;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the device");
		return;
	}
	if (action != NULL && strcmp(action, "cancel-wipe") == 0 &&
	    !web_self_may_cancel(w, &d)) {
		web_error(w, 403,
			  "Only the administrator can cancel this wipe.");
		return;
	}
	if (action == NULL ||
	    (strcmp(action, "wipe") != 0 &&
	     strcmp(action, "account-wipe") != 0 &&
	     strcmp(action, "cancel-wipe") != 0 &&
	     strcmp(action, "remove") != 0) ||
	    web_device_action(w, &d, action, "/") < 0)
		web_error(w, 400, "Unknown action.");
}
