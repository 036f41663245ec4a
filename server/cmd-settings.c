/* Settings (MS-ASCMD 2.2.1.18): DeviceInformation, UserInformation, and
 * Oof Get and Set (the automatic replies themselves go out at delivery,
 * conv/autoreply.c). */
#include <string.h>

#include "conv.h"
#include "log.h"
#include "server.h"
#include "util.h"

/* MS-ASCMD 2.2.3.177.15 */
#define SET_OK 1
#define SET_PROTOCOL_ERROR 2
#define SET_SERVER_UNAVAILABLE 4
#define SET_INVALID_ARGUMENTS 5
#define SET_CONFLICTING_ARGUMENTS 6
#define SET_DENIED_BY_POLICY 7

/* The largest reply message a client may set. */
#define OOF_MESSAGE_MAX (64 * 1024)

int provision_store_device_info(struct eas_req *req,
				const struct wbxml_node *devinfo);

static void
user_information(struct eas_req *req, struct wbxml_node *root)
{
	struct wbxml_node *ui =
		wbxml_add(req->arena, root, EAS_SETTINGS_USERINFORMATION);
	struct wbxml_node *get, *addrs;
	const char *email = req->account.email != NULL ? req->account.email
						       : req->account.login;

	wbxml_add_int(req->arena, ui, EAS_SETTINGS_STATUS, SET_OK);
	get = wbxml_add(req->arena, ui, EAS_SETTINGS_GET);
	if (req->version >= EAS_V141) {
		struct wbxml_node *accounts =
			wbxml_add(req->arena, get, EAS_SETTINGS_ACCOUNTS);
		struct wbxml_node *acct =
			wbxml_add(req->arena, accounts, EAS_SETTINGS_ACCOUNT);

		if (req->account.display_name != NULL)
			wbxml_add_text(req->arena, acct,
				       EAS_SETTINGS_USERDISPLAYNAME,
				       req->account.display_name);
		addrs = wbxml_add(req->arena, acct,
				  EAS_SETTINGS_EMAILADDRESSES);
		wbxml_add_text(req->arena, addrs,
			       EAS_SETTINGS_PRIMARYSMTPADDRESS, email);
	} else {
		addrs = wbxml_add(req->arena, get, EAS_SETTINGS_EMAILADDRESSES);
		wbxml_add_text(req->arena, addrs, EAS_SETTINGS_SMTPADDRESS,
			       email);
	}
}

/* --- Oof (MS-ASCMD 2.2.3.122) --- */

static const uint16_t applies_tags[3] = {
	EAS_SETTINGS_APPLIESTOINTERNAL,
	EAS_SETTINGS_APPLIESTOEXTERNALKNOWN,
	EAS_SETTINGS_APPLIESTOEXTERNALUNKNOWN,
};

/* BodyType "Text" or "HTML" (either case): 0 text, 1 HTML, -1 neither. */
static int
body_type(const struct wbxml_node *n)
{
	const char *t = n != NULL ? wbxml_text(n) : "Text";

	if (str_ieq(t, "Text"))
		return 0;
	if (str_ieq(t, "HTML"))
		return 1;
	return -1;
}

static void
oof_get(struct eas_req *req, const struct wbxml_node *get, struct wbxml_node *r)
{
	struct arena *a = req->arena;
	struct store_oof oof;
	struct wbxml_node *g;
	enum store_error e;
	int want = body_type(wbxml_child(get, EAS_SETTINGS_BODYTYPE));
	char t[32];

	e = store_oof_get(req->store, a, req->account.id, &oof);
	if (e != STORE_OK) {
		log_error("Oof Get: %s", store_error_str(e));
		wbxml_add_int(a, r, EAS_SETTINGS_STATUS,
			      SET_SERVER_UNAVAILABLE);
		return;
	}
	if (want < 0)
		want = 0;
	wbxml_add_int(a, r, EAS_SETTINGS_STATUS, SET_OK);
	g = wbxml_add(a, r, EAS_SETTINGS_GET);
	wbxml_add_int(a, g, EAS_SETTINGS_OOFSTATE, oof.state);
	if (oof.start != 0 || oof.end != 0) {
		time_format_iso(oof.start, t);
		wbxml_add_text(a, g, EAS_SETTINGS_STARTTIME, t);
		time_format_iso(oof.end, t);
		wbxml_add_text(a, g, EAS_SETTINGS_ENDTIME, t);
	}
	for (int i = 0; i < 3; i++) {
		struct wbxml_node *m = wbxml_add(a, g, EAS_SETTINGS_OOFMESSAGE);

		wbxml_add(a, m, applies_tags[i]);
		wbxml_add_int(a, m, EAS_SETTINGS_ENABLED,
			      oof.msg[i].enabled ? 1 : 0);
		if (oof.msg[i].text != NULL) {
			wbxml_add_text(a, m, EAS_SETTINGS_REPLYMESSAGE,
				       conv_text_as(a, oof.msg[i].text,
						    oof.msg[i].html,
						    want == 1));
			wbxml_add_text(a, m, EAS_SETTINGS_BODYTYPE,
				       want == 1 ? "HTML" : "Text");
		}
	}
}

/* Set: what the request names replaces what is stored; an audience it
 * does not name keeps its message. Returns the Oof Status. */
static int
oof_set(struct eas_req *req, const struct wbxml_node *set)
{
	struct arena *a = req->arena;
	const struct wbxml_node *n, *m;
	struct store_oof oof;
	enum store_error e;
	int64_t v;

	e = store_oof_get(req->store, a, req->account.id, &oof);
	if (e != STORE_OK) {
		log_error("Oof Set: %s", store_error_str(e));
		return SET_SERVER_UNAVAILABLE;
	}
	if ((n = wbxml_child(set, EAS_SETTINGS_OOFSTATE)) != NULL) {
		if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 || v > 2) {
			log_info("Oof Set: bad OofState '%s'", wbxml_text(n));
			return SET_INVALID_ARGUMENTS;
		}
		oof.state = (int)v;
	}
	if ((n = wbxml_child(set, EAS_SETTINGS_STARTTIME)) != NULL &&
	    time_parse(wbxml_text(n), &oof.start) < 0) {
		log_info("Oof Set: bad StartTime");
		return SET_INVALID_ARGUMENTS;
	}
	if ((n = wbxml_child(set, EAS_SETTINGS_ENDTIME)) != NULL &&
	    time_parse(wbxml_text(n), &oof.end) < 0) {
		log_info("Oof Set: bad EndTime");
		return SET_INVALID_ARGUMENTS;
	}
	if (oof.state == 2 && (oof.start == 0 || oof.end == 0)) {
		log_info("Oof Set: OofState 2 without StartTime and EndTime");
		return SET_INVALID_ARGUMENTS;
	}
	if (oof.state == 2 && oof.end <= oof.start) {
		log_info("Oof Set: the window ends before it starts");
		return SET_CONFLICTING_ARGUMENTS;
	}
	wbxml_foreach(set, m)
	{
		int i, html;

		if (m->tag != EAS_SETTINGS_OOFMESSAGE)
			continue;
		for (i = 0; i < 3; i++)
			if (wbxml_child(m, applies_tags[i]) != NULL)
				break;
		if (i == 3) {
			log_info("Oof Set: OofMessage without AppliesTo*");
			return SET_INVALID_ARGUMENTS;
		}
		if ((n = wbxml_child(m, EAS_SETTINGS_ENABLED)) != NULL) {
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 1)
				return SET_INVALID_ARGUMENTS;
			oof.msg[i].enabled = v == 1;
		}
		html = body_type(wbxml_child(m, EAS_SETTINGS_BODYTYPE));
		if (html < 0) {
			log_info("Oof Set: BodyType is neither Text nor HTML");
			return SET_INVALID_ARGUMENTS;
		}
		if ((n = wbxml_child(m, EAS_SETTINGS_REPLYMESSAGE)) != NULL) {
			if (n->len > OOF_MESSAGE_MAX) {
				log_info("Oof Set: a reply of %zu bytes",
					 n->len);
				return SET_INVALID_ARGUMENTS;
			}
			/* stored and sent as given (HTML included): the
			 * server never renders it */
			oof.msg[i].text = wbxml_text(n);
			oof.msg[i].html = html == 1;
		}
	}
	e = store_oof_set(req->store, req->account.id, &oof);
	if (e != STORE_OK) {
		log_error("Oof Set: %s", store_error_str(e));
		return e == STORE_INVALID ? SET_INVALID_ARGUMENTS
					  : SET_SERVER_UNAVAILABLE;
	}
	log_info("Oof Set: state %d", oof.state);
	return SET_OK;
}

static void
oof(struct eas_req *req, const struct wbxml_node *n, struct wbxml_node *root)
{
	struct wbxml_node *r = wbxml_add(req->arena, root, EAS_SETTINGS_OOF);
	const struct wbxml_node *sub;

	if ((sub = wbxml_child(n, EAS_SETTINGS_GET)) != NULL)
		oof_get(req, sub, r);
	else if ((sub = wbxml_child(n, EAS_SETTINGS_SET)) != NULL)
		wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
			      oof_set(req, sub));
	else
		wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
			      SET_PROTOCOL_ERROR);
}

enum eas_cmd_result
cmd_settings(struct eas_req *req, const struct wbxml_node *in,
	     struct wbxml_node **out_r)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_SETTINGS_SETTINGS);
	const struct wbxml_node *n;

	*out_r = root;
	if (in == NULL || in->tag != EAS_SETTINGS_SETTINGS) {
		wbxml_add_int(req->arena, root, EAS_SETTINGS_STATUS,
			      SET_PROTOCOL_ERROR);
		req->eas_status = SET_PROTOCOL_ERROR;
		return EAS_CMD_OK;
	}
	wbxml_add_int(req->arena, root, EAS_SETTINGS_STATUS, SET_OK);
	req->eas_status = SET_OK;
	wbxml_foreach(in, n)
	{
		struct wbxml_node *r;

		switch (n->tag) {
		case EAS_SETTINGS_DEVICEINFORMATION:
			r = wbxml_add(req->arena, root,
				      EAS_SETTINGS_DEVICEINFORMATION);
			wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
				      provision_store_device_info(req, n));
			break;
		case EAS_SETTINGS_USERINFORMATION:
			user_information(req, root);
			break;
		case EAS_SETTINGS_OOF:
			oof(req, n, root);
			break;
		case EAS_SETTINGS_DEVICEPASSWORD:
			r = wbxml_add(req->arena, root,
				      EAS_SETTINGS_DEVICEPASSWORD);
			wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
				      SET_DENIED_BY_POLICY);
			break;
		default:
			log_info("Settings: %s not supported",
				 wbxml_tag_name(n->tag) != NULL
					 ? wbxml_tag_name(n->tag)
					 : "?");
			r = wbxml_add(req->arena, root, n->tag);
			wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
				      SET_PROTOCOL_ERROR);
			break;
		}
	}
	return EAS_CMD_OK;
}
