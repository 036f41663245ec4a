/* The admin page of policies: the global settings and one account's, set
 * and unset with the same check as easctl policy set
 * (store_policy_check). Devices are asked to provision again. */
#include <string.h>

#include "log.h"
#include "web.h"

static void
page(struct web *w, int64_t account_id, const char *kind, const char *message)
{
	struct store_policy_kv *kv;
	struct store_account acc = {.login = NULL};
	const char *const *names;
	size_t n, nn = store_policy_names(&names);
	enum store_error e;

	if (account_id != 0) {
		e = store_account_get_by_id(w->store, w->arena, account_id,
					    &acc);
		if (e != STORE_OK) {
			web_store_error(w, e, "reading the account");
			return;
		}
	}
	e = store_policy_get(w->store, w->arena, account_id, &kv, &n);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the policy");
		return;
	}
	web_page_begin(
		w, account_id != 0
			   ? arena_printf(w->arena, "Policy of %s", acc.login)
			   : "Global policy");
	if (message != NULL)
		web_notice(w, kind, message);
	web_printf(w, "<form method=\"get\" action=\"/policies\" "
		      "class=\"search\"><input name=\"user\" "
		      "placeholder=\"an account's login\"><button "
		      "type=\"submit\">Show its policy</button></form>\n");
	if (n == 0)
		web_printf(w, "<p>No settings: the permissive default policy "
			      "applies.</p>\n");
	else
		web_printf(w, "<table><thead><tr><th>Setting</th><th>Value"
			      "</th><th></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		web_printf(w,
			   "<tr><td>%s</td><td>%s</td><td><form "
			   "method=\"post\" action=\"/policies\">",
			   kv[i].key, kv[i].value);
		web_csrf_field(w);
		web_printf(
			w,
			"<input type=\"hidden\" name=\"account\" "
			"value=\"%lld\"><input type=\"hidden\" name=\"key\" "
			"value=\"%s\"><button type=\"submit\" name=\"action\" "
			"value=\"unset\">Unset</button></form></td></tr>\n",
			(long long)account_id, kv[i].key);
	}
	if (n > 0)
		web_printf(w, "</tbody></table>\n");
	web_printf(w, "<h2>Set</h2><form method=\"post\" action=\"/policies\" "
		      "class=\"stack\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"account\" value=\"%lld\">"
		   "<label>Setting<select name=\"key\">",
		   (long long)account_id);
	for (size_t i = 0; i < nn; i++)
		web_printf(w, "<option>%s</option>", names[i]);
	web_printf(w, "</select></label><label>Value (0/1 for yes/no "
		      "settings, a number, or a comma-separated list)<input "
		      "name=\"value\" required></label><button type=\"submit\" "
		      "name=\"action\" value=\"set\">Set</button></form>\n");
	web_page_end(w);
}

void
web_policies(struct web *w)
{
	const char *user = web_query(w, "user");
	int64_t account_id = web_id(w, "account");
	const char *action, *key, *value, *error;
	enum store_error e;

	if (!w->post) {
		if (user != NULL && user[0] != '\0') {
			struct store_account acc;

			e = store_account_get(w->store, w->arena, user, &acc);
			if (e != STORE_OK) {
				web_store_error(w, e, "finding the account");
				return;
			}
			account_id = acc.id;
		}
		page(w, account_id, NULL, NULL);
		return;
	}
	action = web_form(w, "action");
	if (action == NULL ||
	    (strcmp(action, "set") != 0 && strcmp(action, "unset") != 0)) {
		web_error(w, 400, "Unknown action.");
		return;
	}
	if (store_policy_check(w->arena, web_form(w, "key"),
			       strcmp(action, "set") == 0
				       ? (web_form(w, "value") != NULL
						  ? web_form(w, "value")
						  : "")
				       : NULL,
			       &key, &value, &error) < 0) {
		w->hr->status = 400;
		page(w, account_id, "error", error);
		return;
	}
	e = store_policy_set(w->store, account_id, key, value);
	if (e != STORE_OK) {
		web_store_error(w, e, "changing the policy");
		return;
	}
	log_info("web: admin action: policy %s %s=%s (account %lld) by %s "
		 "from %s",
		 action, key, value != NULL ? value : "-",
		 (long long)account_id, w->account.login, w->hr->remote_addr);
	page(w, account_id, "ok",
	     value != NULL ? arena_printf(w->arena, "%s=%s set.", key, value)
			   : arena_printf(w->arena, "%s unset.", key));
}
