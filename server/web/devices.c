/* The admin pages of devices: every device of every account with what it
 * told the server, and one device with its folders, history and actions
 * (allow, block, quarantine, remote wipe, account-only wipe, remove,
 * resync, clear the loops found). The actions themselves are shared with the
 * self-service page (web_device_action), which may only use them on its own
 * devices. */
#include <string.h>

#include "log.h"
#include "loopstate.h"
#include "util.h"
#include "web.h"

static const char *
policy_state(const struct store_device *d)
{
	if (d->policy_key == 0)
		return d->policy_key_temp != 0 ? "provisioning"
					       : "not provisioned";
	return "provisioned";
}

int64_t
web_wipe_requested(struct web *w, const struct store_device *d,
		   const char **origin_r)
{
	struct store_device_event *ev;
	size_t n;
	int64_t at = 0;

	if (origin_r != NULL)
		*origin_r = NULL;
	if (store_device_history(w->store, w->arena, d->id, &ev, &n) !=
	    STORE_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strstr(ev[i].what, "wipe") != NULL &&
		    strstr(ev[i].what, "request") != NULL && ev[i].when >= at) {
			at = ev[i].when;
			if (origin_r != NULL)
				*origin_r = ev[i].origin;
		}
	return at;
}

/* When the device was last told of a pending wipe: the server answers
 * every request of a device with a pending wipe with the wipe, so a
 * request after the wipe was asked for means it was delivered. */
static int64_t
wipe_requested_at(struct web *w, const struct store_device *d)
{
	return web_wipe_requested(w, d, NULL);
}

/* The wipe's state for people: requested, delivered, acknowledged. */
static const char *
wipe_state(struct web *w, const struct store_device *d)
{
	int64_t at;

	if (d->wipe != STORE_WIPE_REQUESTED &&
	    d->wipe != STORE_WIPE_ACCOUNT_REQUESTED)
		return web_wipe_name(d->wipe);
	at = wipe_requested_at(w, d);
	if (at > 0 && d->last_seen >= at)
		return arena_printf(w->arena,
				    "%s, delivered %s (waiting "
				    "for the device to confirm)",
				    web_wipe_name(d->wipe),
				    web_time(w, d->last_seen));
	return arena_printf(w->arena, "%s %s, not yet delivered",
			    web_wipe_name(d->wipe), web_time(w, at));
}

static const char *
device_name(const struct store_device *d)
{
	if (d->info.friendly_name != NULL && d->info.friendly_name[0] != '\0')
		return d->info.friendly_name;
	if (d->info.model != NULL && d->info.model[0] != '\0')
		return d->info.model;
	return d->device_type;
}

void
web_devices(struct web *w)
{
	const char *q = web_query(w, "q");
	struct store_device *list;
	struct store_account *accs;
	size_t n, nacc, shown = 0;
	enum store_error e;

	e = store_device_list(w->store, w->arena, 0, &list, &n);
	if (e == STORE_OK)
		e = store_account_list(w->store, w->arena, &accs, &nacc);
	if (e != STORE_OK) {
		web_store_error(w, e, "listing devices");
		return;
	}
	web_page_begin(w, "Devices");
	web_printf(w,
		   "<form method=\"get\" action=\"/devices\" class=\"search\">"
		   "<input name=\"q\" placeholder=\"user, device, model\" "
		   "value=\"%s\"><button type=\"submit\">Search</button>"
		   "</form>\n",
		   q != NULL ? q : "");
	web_printf(w,
		   "<div class=\"scroll\"><table class=\"filter\"><thead><tr>"
		   "<th>User</th><th>Device</th><th>Type</th><th>Model</th>"
		   "<th>OS</th><th>Protocol</th><th>Last sync</th>"
		   "<th>Policy</th><th>Access</th><th>Wipe</th>"
		   "</tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct store_device *d = &list[i];
		const char *login = "?";

		for (size_t k = 0; k < nacc; k++)
			if (accs[k].id == d->account_id)
				login = accs[k].login;
		if (q != NULL && q[0] != '\0' && strcasestr(login, q) == NULL &&
		    strcasestr(d->device_id, q) == NULL &&
		    (d->info.model == NULL ||
		     strcasestr(d->info.model, q) == NULL) &&
		    strcasestr(d->device_type, q) == NULL)
			continue;
		shown++;
		web_printf(w,
			   "<tr><td>%s</td><td><a href=\"/device?id=%lld\" "
			   "class=\"device\">%s</a></td><td>%s</td>"
			   "<td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			   "<td>%s</td><td class=\"%s\">%s</td>"
			   "<td>%s</td></tr>\n",
			   login, (long long)d->id, d->device_id,
			   d->device_type, d->info.model, d->info.os,
			   d->protocol_version, web_time(w, d->last_seen),
			   policy_state(d), store_access_name(d->access),
			   store_access_name(d->access),
			   web_wipe_name(d->wipe));
	}
	web_printf(w, "</tbody></table></div>\n<p>%zu of %zu devices.</p>\n",
		   shown, n);
	web_page_end(w);
}

/* The confirmation of a destructive action: what it does, and the form
 * that does it. */
static void
confirm_page(struct web *w, const struct store_device *dev, const char *action,
	     const char *back)
{
	const char *title, *warning, *button;

	if (strcmp(action, "wipe") == 0) {
		title = "Wipe this device?";
		warning = "A remote wipe erases EVERYTHING on the device: it "
			  "is reset to its factory settings the next time it "
			  "connects, with all its apps, photos and data, not "
			  "only mail. This cannot be undone. Use it for a "
			  "lost or stolen device.";
		button = "Wipe the whole device";
	} else if (strcmp(action, "account-wipe") == 0) {
		title = "Remove this account from the device?";
		warning = "An account-only wipe removes this account's mail, "
			  "contacts and calendar from the device the next "
			  "time it connects, and leaves the rest of the "
			  "device alone. Only devices that speak ActiveSync "
			  "16.1 do this; older ones ignore it.";
		button = "Remove the account's data";
	} else {
		title = "Remove this device?";
		warning = "The device's partnership and sync state are "
			  "forgotten: if it connects again it starts over as "
			  "a new device. Nothing on the device is erased.";
		button = "Remove the device";
	}
	web_page_begin(w, title);
	web_printf(w, "<p class=\"what\">%s (%s, %s) - last contact %s</p>\n",
		   device_name(dev), dev->device_id, dev->device_type,
		   web_time(w, dev->last_seen));
	web_notice(w, "warn", warning);
	web_printf(w, "<form method=\"post\" class=\"confirm\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<input type=\"hidden\" name=\"action\" value=\"%s\">"
		   "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
		   "<button type=\"submit\" class=\"danger\" "
		   "name=\"do\">%s</button> <a href=\"%s%s\">Cancel</a>"
		   "</form>\n",
		   (long long)dev->id, action, button, w->base, back);
	web_page_end(w);
}

int
web_device_action(struct web *w, const struct store_device *dev,
		  const char *action, const char *back)
{
	const char *origin = web_origin(w);
	const char *confirm = web_form(w, "confirm");
	bool confirmed = confirm != NULL && strcmp(confirm, "yes") == 0;
	enum store_error e;
	const char *done;

	if ((strcmp(action, "wipe") == 0 ||
	     strcmp(action, "account-wipe") == 0 ||
	     strcmp(action, "remove") == 0) &&
	    !confirmed) {
		confirm_page(w, dev, action, back);
		return 0;
	}
	if (strcmp(action, "wipe") == 0) {
		e = store_device_set_wipe(w->store, dev->id,
					  STORE_WIPE_REQUESTED, origin);
		done = "remote wipe requested";
	} else if (strcmp(action, "account-wipe") == 0) {
		e = store_device_set_wipe(w->store, dev->id,
					  STORE_WIPE_ACCOUNT_REQUESTED, origin);
		done = "account-only wipe requested";
	} else if (strcmp(action, "cancel-wipe") == 0) {
		if (dev->wipe != STORE_WIPE_REQUESTED &&
		    dev->wipe != STORE_WIPE_ACCOUNT_REQUESTED) {
			web_redirect(w, back);
			return 0;
		}
		e = store_device_set_wipe(w->store, dev->id, STORE_WIPE_NONE,
					  origin);
		done = "wipe cancelled";
	} else if (strcmp(action, "remove") == 0) {
		e = store_device_remove(w->store, dev->id);
		done = "removed";
	} else if (strcmp(action, "resync") == 0) {
		e = store_sync_delete(w->store, dev->id, -1);
		if (e == STORE_NOTFOUND)
			e = STORE_OK;
		done = "sync state dropped (full resync)";
	} else if (w->site == WEB_ADMIN && strcmp(action, "clearloop") == 0) {
		size_t isolated = 0;

		e = store_device_clear_loops(w->store, w->arena, dev->id,
					     &isolated);
		done = arena_printf(w->arena,
				    "loop state cleared (%zu isolated sent "
				    "again)",
				    isolated);
	} else if (w->site == WEB_ADMIN && strcmp(action, "allow") == 0) {
		e = store_device_set_access(w->store, dev->id,
					    STORE_ACCESS_ALLOWED, origin);
		done = "allowed";
	} else if (w->site == WEB_ADMIN && strcmp(action, "block") == 0) {
		e = store_device_set_access(w->store, dev->id,
					    STORE_ACCESS_BLOCKED, origin);
		done = "blocked";
	} else if (w->site == WEB_ADMIN && strcmp(action, "quarantine") == 0) {
		e = store_device_set_access(w->store, dev->id,
					    STORE_ACCESS_QUARANTINED, origin);
		done = "quarantined";
	} else {
		return -1;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "changing the device");
		return 0;
	}
	/* Who did it, for the record (the device's history has it too). */
	log_info("web: %s: device %s (row %lld, account %lld) %s by %s from "
		 "%s",
		 w->site == WEB_ADMIN ? "admin action" : "self-service",
		 dev->device_id, (long long)dev->id, (long long)dev->account_id,
		 done, w->account.login, w->hr->remote_addr);
	web_redirect(w, back);
	return 0;
}

static void
action_button(struct web *w, const struct store_device *d, const char *action,
	      const char *label, const char *cls)
{
	web_printf(w, "<form method=\"post\" action=\"/device\">");
	web_csrf_field(w);
	web_printf(w,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		   "<button type=\"submit\" name=\"action\" value=\"%s\" "
		   "class=\"%s\">%s</button></form>",
		   (long long)d->id, action, cls, label);
}

/* What loop detection found (common/loopstate.h); false when nothing. */
static bool
loops_section(struct web *w, const struct store_device *d, bool print)
{
	struct loopstate ls;
	uint8_t *data;
	size_t len;
	bool any = false;

	if (store_device_blob_get(w->store, w->arena, d->id, LOOPSTATE_BLOB,
				  &data, &len) != STORE_OK)
		return false;
	loopstate_parse(w->arena, data, len, &ls);
	for (size_t i = 0; i < ls.n; i++) {
		const struct loopstate_fact *f = &ls.v[i];
		struct store_folder fo;
		const char *folder =
			f->folder == 0 ? "folder list"
			: store_folder_get_by_id(w->store, w->arena,
						 d->account_id, f->folder,
						 &fo) == STORE_OK
				? fo.name
				: "a removed folder";

		if (f->kind == LOOPSTATE_SUSPECT)
			continue;
		if (!any && print)
			web_printf(w, "<h2>Loops</h2><ul>");
		any = true;
		if (!print)
			continue;
		switch (f->kind) {
		case LOOPSTATE_LOOPS:
			web_printf(w, "<li>%s: %lld loops, the last %s</li>",
				   folder, (long long)f->count,
				   web_time(w, f->time));
			break;
		case LOOPSTATE_ISOLATED:
			web_printf(w, "<li>%s: %s isolated since %s</li>",
				   folder, f->server_id, web_time(w, f->time));
			break;
		case LOOPSTATE_PROBE:
			web_printf(w,
				   "<li>%s: probing, one item an "
				   "answer</li>",
				   folder);
			break;
		case LOOPSTATE_REPEAT:
			web_printf(w, "<li>%s: key %s repeated %lld times</li>",
				   folder, f->key, (long long)f->count);
			break;
		case LOOPSTATE_SUSPECT:
			break;
		}
	}
	if (any && print)
		web_printf(w, "</ul>\n");
	return any;
}

static void
row(struct web *w, const char *name, const char *value)
{
	web_printf(w, "<tr><th>%s</th><td>%s</td></tr>\n", name,
		   value != NULL && value[0] != '\0' ? value : "-");
}

void
web_device(struct web *w)
{
	int64_t id = web_id(w, "id");
	struct store_device d;
	struct store_account acc;
	struct store_sync_info *syncs;
	struct store_device_event *ev;
	size_t nsync, nev;
	enum store_error e;

	if (id == 0) {
		web_error(w, 404, "No such device.");
		return;
	}
	e = store_device_get_by_id(w->store, w->arena, id, &d);
	if (e == STORE_OK)
		e = store_account_get_by_id(w->store, w->arena, d.account_id,
					    &acc);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the device");
		return;
	}
	if (w->post) {
		const char *action = web_form(w, "action");

		if (action == NULL ||
		    web_device_action(
			    w, &d, action,
			    strcmp(action, "remove") == 0
				    ? "/devices"
				    : arena_printf(w->arena, "/device?id=%lld",
						   (long long)id)) < 0)
			web_error(w, 400, "Unknown action.");
		return;
	}
	web_page_begin(w, arena_printf(w->arena, "Device %s", d.device_id));
	web_printf(w, "<div class=\"actions\">");
	action_button(w, &d, "allow", "Allow", "");
	action_button(w, &d, "block", "Block", "");
	action_button(w, &d, "quarantine", "Quarantine", "");
	action_button(w, &d, "resync", "Resync", "");
	action_button(w, &d, "wipe", "Remote wipe", "danger");
	action_button(w, &d, "account-wipe", "Account-only wipe", "danger");
	if (d.wipe == STORE_WIPE_REQUESTED ||
	    d.wipe == STORE_WIPE_ACCOUNT_REQUESTED)
		action_button(w, &d, "cancel-wipe", "Cancel the wipe", "");
	if (loops_section(w, &d, false))
		action_button(w, &d, "clearloop", "Clear the loops", "");
	action_button(w, &d, "remove", "Remove", "danger");
	web_printf(w, "</div>\n<table class=\"kv\">\n");
	row(w, "User", acc.login);
	row(w, "Device ID", d.device_id);
	row(w, "Type", d.device_type);
	row(w, "Model", d.info.model);
	row(w, "Name", d.info.friendly_name);
	row(w, "OS", d.info.os);
	row(w, "OS language", d.info.os_language);
	row(w, "IMEI", d.info.imei);
	row(w, "Phone number", d.info.phone_number);
	row(w, "Operator", d.info.mobile_operator);
	row(w, "User agent", d.user_agent);
	row(w, "Protocol version", d.protocol_version);
	row(w, "Last command", d.last_command);
	row(w, "First seen", web_time(w, d.first_seen));
	row(w, "Last seen", web_time(w, d.last_seen));
	row(w, "Policy", policy_state(&d));
	row(w, "Access", store_access_name(d.access));
	row(w, "Wipe", wipe_state(w, &d));
	web_printf(w, "</table>\n");
	if (store_sync_list(w->store, w->arena, d.id, &syncs, &nsync) ==
	    STORE_OK) {
		web_printf(w, "<h2>Folders</h2><div class=\"scroll\"><table>"
			      "<thead><tr><th>Folder</th><th>Last sync</th>"
			      "<th>SyncKey</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < nsync; i++)
			web_printf(w,
				   "<tr><td>%s</td><td>%s</td><td>%s</td>"
				   "</tr>\n",
				   syncs[i].folder_id == 0 ? "(folder list)"
				   : syncs[i].folder_name != NULL
					   ? syncs[i].folder_name
					   : "(removed folder)",
				   web_time(w, syncs[i].synced), syncs[i].key);
		web_printf(w, "</tbody></table></div>\n");
	}
	loops_section(w, &d, true);
	if (store_device_history(w->store, w->arena, d.id, &ev, &nev) ==
	    STORE_OK) {
		web_printf(w, "<h2>History</h2><div class=\"scroll\"><table>"
			      "<thead><tr><th>When</th><th>What</th>"
			      "<th>By</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < nev; i++)
			web_printf(w,
				   "<tr><td>%s</td><td>%s</td><td>%s</td>"
				   "</tr>\n",
				   web_time(w, ev[i].when), ev[i].what,
				   ev[i].origin);
		web_printf(w, "</tbody></table></div>\n");
	}
	web_page_end(w);
}
