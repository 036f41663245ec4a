/* Settings (MS-ASCMD 2.2.1.18): DeviceInformation, UserInformation, and
 * Oof Get. Out-of-office replies are not kept by this server yet: Get says
 * "off", Set is refused as denied by policy rather than silently dropped. */
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"

#define SET_OK 1
#define SET_PROTOCOL_ERROR 2
#define SET_DENIED_BY_POLICY 7

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

static void
oof(struct eas_req *req, const struct wbxml_node *n, struct wbxml_node *root)
{
	struct wbxml_node *r = wbxml_add(req->arena, root, EAS_SETTINGS_OOF);

	if (wbxml_child(n, EAS_SETTINGS_GET) != NULL) {
		struct wbxml_node *get;

		wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS, SET_OK);
		get = wbxml_add(req->arena, r, EAS_SETTINGS_GET);
		wbxml_add_int(req->arena, get, EAS_SETTINGS_OOFSTATE, 0);
	} else {
		log_info("Oof Set refused: out-of-office is not supported");
		wbxml_add_int(req->arena, r, EAS_SETTINGS_STATUS,
			      SET_DENIED_BY_POLICY);
	}
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
