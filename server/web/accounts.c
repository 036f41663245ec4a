/* The admin page of accounts: the list with a search and each account's
 * last activity; adding one; and for one account its aliases, its address
 * list properties, enabling and disabling, a new password, the admin mark,
 * and deleting it after a confirmation that says what goes with it. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "web.h"

static const char *
new_password(struct web *w)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t raw[16];
	char *p = arena_alloc(w->arena, sizeof(raw) + 1);

	random_bytes(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		p[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	p[sizeof(raw)] = '\0';
	return p;
}

static void
list_page(struct web *w, const char *kind, const char *message)
{
	const char *q = web_query(w, "q");
	struct store_account *list;
	struct store_device *devs;
	size_t n, ndevs;
	enum store_error e;

	e = store_account_list(w->store, w->arena, &list, &n);
	if (e == STORE_OK)
		e = store_device_list(w->store, w->arena, 0, &devs, &ndevs);
	if (e != STORE_OK) {
		web_store_error(w, e, "listing accounts");
		return;
	}
	web_page_begin(w, "Accounts");
	if (message != NULL)
		web_notice(w, kind, message);
	web_printf(w,
		   "<form method=\"get\" action=\"/accounts\" class=\"search\">"
		   "<input name=\"q\" placeholder=\"login, address, name\" "
		   "value=\"%s\"><button type=\"submit\">Search</button>"
		   "</form>\n<div class=\"scroll\"><table "
		   "class=\"filter\"><thead><tr>"
		   "<th>Login</th><th>Address</th><th>Name</th><th>State</th>"
		   "<th>Devices</th><th>Last activity</th></tr></thead>"
		   "<tbody>\n",
		   q != NULL ? q : "");
	for (size_t i = 0; i < n; i++) {
		const struct store_account *a = &list[i];
		int64_t last = 0, count = 0;

		if (q != NULL && q[0] != '\0' &&
		    strcasestr(a->login, q) == NULL &&
		    strcasestr(a->email, q) == NULL &&
		    (a->display_name == NULL ||
		     strcasestr(a->display_name, q) == NULL))
			continue;
		for (size_t k = 0; k < ndevs; k++)
			if (devs[k].account_id == a->id) {
				count++;
				if (devs[k].last_seen > last)
					last = devs[k].last_seen;
			}
		web_printf(w,
			   "<tr><td><a href=\"/accounts?id=%lld\">%s</a></td>"
			   "<td>%s</td><td>%s</td><td>%s</td><td>%lld</td>"
			   "<td>%s</td></tr>\n",
			   (long long)a->id, a->login, a->email,
			   a->display_name,
			   !a->enabled ? "disabled"
			   : a->admin  ? "enabled, admin"
				       : "enabled",
			   (long long)count, web_time(w, last));
	}
	web_printf(w, "</tbody></table></div>\n<h2>Add an account</h2>"
		      "<form method=\"post\" action=\"/accounts\" "
		      "class=\"stack\">");
	web_csrf_field(w);
	web_printf(w, "<input type=\"hidden\" name=\"action\" value=\"add\">"
		      "<label>Login<input name=\"login\" required></label>"
		      "<label>Address (empty: LOGIN@localhost, or the login "
		      "when it is an address)<input name=\"email\" "
		      "type=\"email\"></label>"
		      "<label>Display name<input name=\"name\"></label>"
		      "<label>Password (empty: one is made and shown once)"
		      "<input name=\"password\" type=\"password\" "
		      "autocomplete=\"new-password\"></label>"
		      "<button type=\"submit\">Add</button></form>\n");
	web_page_end(w);
}

static void
form_button(struct web *w, int64_t id, const char *action, const char *label,
	    const char *cls)
{
	web_printf(w, "<form method=\"post\" action=\"/accounts\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<button type=\"submit\" name=\"action\" value=\"%s\" "
		   "class=\"%s\">%s</button></form>",
		   (long long)id, action, cls, label);
}

/* The address list's properties an administrator sets (easctl user
 * set), in enum store_gal_field order. */
static const struct {
	const char *name, *label;
} props[STORE_GAL_NFIELDS] = {
	{"first_name", "First name"}, {"last_name", "Last name"},
	{"phone", "Phone"},	      {"mobile", "Mobile"},
	{"home_phone", "Home phone"}, {"office", "Office"},
	{"title", "Title"},	      {"company", "Company"},
	{"department", "Department"},
};

static const char *
prop_value(const struct store_gal_entry *e, size_t i)
{
	const char *const v[STORE_GAL_NFIELDS] = {
		e->first_name, e->last_name,  e->phone,
		e->mobile,     e->home_phone, e->office,
		e->title,      e->company,    e->department,
	};

	return v[i] != NULL ? v[i] : "";
}

static void
props_form(struct web *w, int64_t id)
{
	struct store_gal_entry e;

	memset(&e, 0, sizeof(e));
	/* a disabled account is not in the address list: empty fields */
	(void)store_gal_account(w->store, w->arena, id, false, &e);
	web_printf(w, "<h2>Address list</h2><form method=\"post\" "
		      "action=\"/accounts\" class=\"stack\">");
	web_csrf_field(w);
	web_printf(w, "<input type=\"hidden\" name=\"id\" value=\"%lld\">",
		   (long long)id);
	for (size_t i = 0; i < STORE_GAL_NFIELDS; i++)
		web_printf(w,
			   "<label>%s<input name=\"%s\" value=\"%s\">"
			   "</label>",
			   props[i].label, props[i].name, prop_value(&e, i));
	web_printf(w, "<button type=\"submit\" name=\"action\" "
		      "value=\"props\">Save</button></form>\n");
}

static void
account_page(struct web *w, int64_t id, const char *kind, const char *message)
{
	struct store_account a;
	const char **aliases;
	struct store_device *devs;
	size_t nal, ndev;
	enum store_error e;

	e = store_account_get_by_id(w->store, w->arena, id, &a);
	if (e == STORE_OK)
		e = store_alias_list(w->store, w->arena, id, &aliases, &nal);
	if (e == STORE_OK)
		e = store_device_list(w->store, w->arena, id, &devs, &ndev);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the account");
		return;
	}
	web_page_begin(w, arena_printf(w->arena, "Account %s", a.login));
	if (message != NULL)
		web_notice(w, kind, message);
	web_printf(w,
		   "<table class=\"kv\"><tr><th>Address</th><td>%s</td></tr>"
		   "<tr><th>Name</th><td>%s</td></tr><tr><th>State</th>"
		   "<td>%s</td></tr><tr><th>Created</th><td>%s</td></tr>"
		   "<tr><th>Devices</th><td>%zu</td></tr></table>\n"
		   "<div class=\"actions\">",
		   a.email, a.display_name,
		   !a.enabled ? "disabled"
		   : a.admin  ? "enabled, admin"
			      : "enabled",
		   web_time(w, a.created), ndev);
	form_button(w, id, a.enabled ? "disable" : "enable",
		    a.enabled ? "Disable" : "Enable", "");
	form_button(w, id, "passwd", "Reset the password", "");
	form_button(w, id, a.admin ? "admin-off" : "admin-on",
		    a.admin ? "Take the admin mark" : "Make admin", "");
	form_button(w, id, "delete", "Delete", "danger");
	web_printf(w, "</div>\n<h2>Aliases</h2><ul>");
	for (size_t i = 0; i < nal; i++) {
		web_printf(w,
			   "<li>%s <form method=\"post\" "
			   "action=\"/accounts\" class=\"inline\">",
			   aliases[i]);
		web_csrf_field(w);
		web_printf(w,
			   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
			   "<input type=\"hidden\" name=\"alias\" value=\"%s\">"
			   "<button type=\"submit\" name=\"action\" "
			   "value=\"alias-remove\">Remove</button></form></li>",
			   (long long)id, aliases[i]);
	}
	web_printf(w, "</ul><form method=\"post\" action=\"/accounts\" "
		      "class=\"search\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<input name=\"alias\" type=\"email\" placeholder=\"another "
		   "address\" required><button type=\"submit\" name=\"action\" "
		   "value=\"alias-add\">Add the alias</button></form>\n",
		   (long long)id);
	props_form(w, id);
	web_page_end(w);
}

static void
confirm_delete(struct web *w, int64_t id)
{
	struct store_account a;
	struct store_device *devs;
	struct store_folder *folders;
	size_t ndev, nf;
	int64_t items = 0;
	enum store_error e;

	e = store_account_get_by_id(w->store, w->arena, id, &a);
	if (e == STORE_OK)
		e = store_device_list(w->store, w->arena, id, &devs, &ndev);
	if (e == STORE_OK)
		e = store_folder_list(w->store, w->arena, id, &folders, &nf);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the account");
		return;
	}
	for (size_t i = 0; i < nf; i++) {
		int64_t c = 0;

		if (!folders[i].deleted &&
		    store_item_count(w->store, folders[i].id, &c) == STORE_OK)
			items += c;
	}
	web_page_begin(w, arena_printf(w->arena, "Delete %s?", a.login));
	web_notice(w, "warn",
		   arena_printf(w->arena,
				"Deleting %s removes the account, its %lld "
				"items in %zu folders (mail, contacts, "
				"calendar, tasks, notes), its %zu device "
				"partnerships, its aliases and its settings. "
				"This cannot be undone.",
				a.login, (long long)items, nf, ndev));
	web_printf(w, "<form method=\"post\" action=\"/accounts\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
		   "<button type=\"submit\" name=\"action\" value=\"delete\" "
		   "class=\"danger\">Delete %s</button> <a "
		   "href=\"/accounts?id=%lld\">Cancel</a></form>\n",
		   (long long)id, a.login, (long long)id);
	web_page_end(w);
}

static void
do_add(struct web *w)
{
	const char *login = web_form(w, "login"), *email = web_form(w, "email");
	const char *name = web_form(w, "name"), *pw = web_form(w, "password");
	bool made = false;
	int64_t id;
	enum store_error e;

	if (login == NULL || login[0] == '\0') {
		w->hr->status = 400;
		list_page(w, "error", "Give a login.");
		return;
	}
	if (email == NULL || email[0] == '\0')
		email = strchr(login, '@') != NULL
				? login
				: arena_printf(w->arena, "%s@localhost", login);
	if (name != NULL && name[0] == '\0')
		name = NULL;
	if (pw == NULL || pw[0] == '\0') {
		pw = new_password(w);
		made = true;
	}
	e = store_account_add(w->store, login, email, name, pw, &id);
	if (e == STORE_EXISTS || e == STORE_INVALID) {
		w->hr->status = 400;
		list_page(w, "error",
			  e == STORE_EXISTS
				  ? "That login or address is taken."
				  : "Invalid login, address or password.");
		return;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "adding the account");
		return;
	}
	log_info("web: admin action: account %s added by %s from %s", login,
		 w->account.login, w->hr->remote_addr);
	account_page(w, id, "ok",
		     made ? arena_printf(w->arena,
					 "Account added. Its password, shown "
					 "once: %s",
					 pw)
			  : "Account added.");
}

static void
do_action(struct web *w, int64_t id, const char *action)
{
	const char *alias = web_form(w, "alias");
	const char *confirm = web_form(w, "confirm");
	const char *message = NULL, *pw = NULL;
	struct store_account a;
	enum store_error e;

	e = store_account_get_by_id(w->store, w->arena, id, &a);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the account");
		return;
	}
	if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
		e = store_account_set_enabled(w->store, id,
					      strcmp(action, "enable") == 0);
		auth_cache_forget(id);
		message = strcmp(action, "enable") == 0 ? "Enabled."
							: "Disabled.";
	} else if (strcmp(action, "passwd") == 0) {
		pw = new_password(w);
		e = store_account_set_password(w->store, id, pw);
		auth_cache_forget(id);
		message = arena_printf(w->arena, "New password, shown once: %s",
				       pw);
	} else if (strcmp(action, "admin-on") == 0 ||
		   strcmp(action, "admin-off") == 0) {
		e = store_account_set_admin(w->store, id,
					    strcmp(action, "admin-on") == 0);
		message = "Changed.";
	} else if (strcmp(action, "alias-add") == 0) {
		e = alias != NULL ? store_alias_add(w->store, id, alias)
				  : STORE_INVALID;
		if (e == STORE_EXISTS || e == STORE_INVALID) {
			w->hr->status = 400;
			account_page(w, id, "error",
				     e == STORE_EXISTS
					     ? "That address is taken."
					     : "That is not an address.");
			return;
		}
		message = "Alias added.";
	} else if (strcmp(action, "alias-remove") == 0) {
		e = alias != NULL ? store_alias_remove(w->store, id, alias)
				  : STORE_NOTFOUND;
		message = "Alias removed.";
	} else if (strcmp(action, "props") == 0) {
		e = STORE_OK;
		for (size_t i = 0; i < STORE_GAL_NFIELDS && e == STORE_OK;
		     i++) {
			const char *v = web_form(w, props[i].name);

			if (v != NULL)
				e = store_account_set_prop(
					w->store, id, (enum store_gal_field)i,
					v[0] != '\0' ? v : NULL);
		}
		if (e == STORE_INVALID) {
			w->hr->status = 400;
			account_page(w, id, "error",
				     "A value is too long or holds control "
				     "characters.");
			return;
		}
		message = "Saved.";
	} else if (strcmp(action, "delete") == 0) {
		if (confirm == NULL || strcmp(confirm, "yes") != 0) {
			confirm_delete(w, id);
			return;
		}
		e = store_account_delete(w->store, id);
		auth_cache_forget(id);
		if (e == STORE_OK) {
			log_info("web: admin action: account %s deleted by %s "
				 "from %s",
				 a.login, w->account.login, w->hr->remote_addr);
			list_page(
				w, "ok",
				arena_printf(w->arena, "%s deleted.", a.login));
			return;
		}
	} else {
		web_error(w, 400, "Unknown action.");
		return;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "changing the account");
		return;
	}
	log_info("web: admin action: account %s: %s%s%s by %s from %s", a.login,
		 action, alias != NULL ? " " : "", alias != NULL ? alias : "",
		 w->account.login, w->hr->remote_addr);
	account_page(w, id, "ok", message);
}

void
web_accounts(struct web *w)
{
	int64_t id = web_id(w, "id");
	const char *action = web_form(w, "action");

	if (w->post && action != NULL && strcmp(action, "add") == 0)
		do_add(w);
	else if (w->post && id != 0 && action != NULL)
		do_action(w, id, action);
	else if (w->post)
		web_error(w, 400, "Unknown action.");
	else if (id != 0)
		account_page(w, id, NULL, NULL);
	else
		list_page(w, NULL, NULL);
}
