/* Provision (MS-ASPROV): the policy document and its two-phase key
 * exchange, DeviceInformation, and the delivery and acknowledgement of
 * remote wipes (full and, 16.1, account-only). */
#include <string.h>

#include "log.h"
#include "push.h"
#include "server.h"
#include "util.h"

#define POLICY_TYPE "MS-EAS-Provisioning-WBXML"

/* MS-ASPROV 2.2.2.54 Policy Status. */
#define PROV_POLICY_OK 1
#define PROV_POLICY_UNKNOWN_TYPE 3
#define PROV_POLICY_WRONG_KEY 5

/* The policy document in schema order (MS-ASPROV 2.2.2.27
 * EASProvisionDoc) with a permissive default for every setting; the
 * administrator's settings (easctl policy set) replace the defaults. An
 * empty default means "no limit" and is sent as an empty element. */
static const struct {
	const char *name;
	const char *def;
} policy_defaults[] = {
	{"DevicePasswordEnabled", "0"},
	{"AlphanumericDevicePasswordRequired", "0"},
	{"PasswordRecoveryEnabled", "0"},
	{"RequireStorageCardEncryption", "0"},
	{"AttachmentsEnabled", "1"},
	{"MinDevicePasswordLength", ""},
	{"MaxInactivityTimeDeviceLock", ""},
	{"MaxDevicePasswordFailedAttempts", ""},
	{"MaxAttachmentSize", ""},
	{"AllowSimpleDevicePassword", "1"},
	{"DevicePasswordExpiration", ""},
	{"DevicePasswordHistory", "0"},
	{"AllowStorageCard", "1"},
	{"AllowCamera", "1"},
	{"RequireDeviceEncryption", "0"},
	{"AllowUnsignedApplications", "1"},
	{"AllowUnsignedInstallationPackages", "1"},
	{"MinDevicePasswordComplexCharacters", "1"},
	{"AllowWiFi", "1"},
	{"AllowTextMessaging", "1"},
	{"AllowPOPIMAPEmail", "1"},
	{"AllowBluetooth", "2"},
	{"AllowIrDA", "1"},
	{"RequireManualSyncWhenRoaming", "0"},
	{"AllowDesktopSync", "1"},
	{"MaxCalendarAgeFilter", "0"},
	{"AllowHTMLEmail", "1"},
	{"MaxEmailAgeFilter", "0"},
	{"MaxEmailBodyTruncationSize", "-1"},
	{"MaxEmailHTMLBodyTruncationSize", "-1"},
	{"RequireSignedSMIMEMessages", "0"},
	{"RequireEncryptedSMIMEMessages", "0"},
	{"RequireSignedSMIMEAlgorithm", "0"},
	{"RequireEncryptionSMIMEAlgorithm", "0"},
	{"AllowSMIMEEncryptionAlgorithmNegotiation", "2"},
	{"AllowSMIMESoftCerts", "1"},
	{"AllowBrowser", "1"},
	{"AllowConsumerEmail", "1"},
	{"AllowRemoteDesktop", "1"},
	{"AllowInternetSharing", "1"},
};

static enum store_error
add_policy_doc(struct eas_req *req, struct wbxml_node *data)
{
	struct wbxml_node *doc =
		wbxml_add(req->arena, data, EAS_PROVISION_EASPROVISIONDOC);
	struct store_policy_kv *kv;
	size_t n;
	enum store_error e;

	e = store_policy_get(req->store, req->arena, req->account.id, &kv, &n);
	if (e != STORE_OK)
		return e;
	for (size_t i = 0; i < N_ELEMENTS(policy_defaults); i++) {
		const char *value = policy_defaults[i].def;
		uint16_t tag;

		for (size_t j = 0; j < n; j++)
			if (strcmp(kv[j].key, policy_defaults[i].name) == 0)
				value = kv[j].value;
		if (wbxml_tag_lookup("Provision", policy_defaults[i].name,
				     &tag) < 0)
			continue;
		/* 12.0 clients do not know the 12.1 feature gates; sending
		 * only what the version defines keeps them happy. */
		if (req->version < EAS_V121 && i >= 12)
			break;
		if (*value == '\0')
			wbxml_add(req->arena, doc, tag);
		else
			wbxml_add_text(req->arena, doc, tag, value);
	}
	return STORE_OK;
}

static void
read_device_info(const struct wbxml_node *set, struct store_device_info *di)
{
	memset(di, 0, sizeof(*di));
	di->model = wbxml_child_text(set, EAS_SETTINGS_MODEL);
	di->imei = wbxml_child_text(set, EAS_SETTINGS_IMEI);
	di->friendly_name = wbxml_child_text(set, EAS_SETTINGS_FRIENDLYNAME);
	di->os = wbxml_child_text(set, EAS_SETTINGS_OS);
	di->os_language = wbxml_child_text(set, EAS_SETTINGS_OSLANGUAGE);
	di->phone_number = wbxml_child_text(set, EAS_SETTINGS_PHONENUMBER);
	di->mobile_operator =
		wbxml_child_text(set, EAS_SETTINGS_MOBILEOPERATOR);
	di->user_agent = wbxml_child_text(set, EAS_SETTINGS_USERAGENT);
}

/* DeviceInformation > Set, shared with the Settings command. Returns the
 * settings Status to report. */
int provision_store_device_info(struct eas_req *req,
				const struct wbxml_node *devinfo);
int
provision_store_device_info(struct eas_req *req,
			    const struct wbxml_node *devinfo)
{
	const struct wbxml_node *set = wbxml_child(devinfo, EAS_SETTINGS_SET);
	struct store_device_info di;
	enum store_error e;

	if (set == NULL)
		return 2;
	read_device_info(set, &di);
	e = store_device_set_info(req->store, req->device.id, &di);
	standing_forget_device(req->srv->standing, req->device.id);
	if (e != STORE_OK) {
		log_error("cannot store DeviceInformation: %s",
			  store_error_str(e));
		return 4;
	}
	return 1;
}

static struct wbxml_node *
top_status(struct eas_req *req, int status)
{
	struct wbxml_node *root =
		wbxml_new(req->arena, EAS_PROVISION_PROVISION);

	wbxml_add_int(req->arena, root, EAS_PROVISION_STATUS, status);
	req->eas_status = status;
	return root;
}

/* The device confirms a wipe: MS-ASPROV 3.2.5.1.2.1. */
static enum eas_cmd_result
wipe_ack(struct eas_req *req, const struct wbxml_node *ack, bool account_only,
	 struct wbxml_node **out_r)
{
	int64_t status;
	enum store_wipe pending = account_only ? STORE_WIPE_ACCOUNT_REQUESTED
					       : STORE_WIPE_REQUESTED;
	enum store_error e;

	if (wbxml_child_int(ack, EAS_PROVISION_STATUS, &status) != 1) {
		*out_r = top_status(req, 2);
		return EAS_CMD_OK;
	}
	if (req->device.wipe == pending) {
		e = store_device_set_wipe(
			req->store, req->device.id,
			account_only ? STORE_WIPE_ACCOUNT_ACKNOWLEDGED
				     : STORE_WIPE_ACKNOWLEDGED,
			status == 1 ? "device: wiped" : "device: wipe failed");
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "wipe ack");
		log_warn("device %s acknowledged the %sremote wipe (status "
			 "%lld)",
			 req->device_id, account_only ? "account-only " : "",
			 (long long)status);
	}
	*out_r = top_status(req, 1);
	return EAS_CMD_OK;
}

static enum eas_cmd_result
send_wipe(struct eas_req *req, struct wbxml_node **out_r)
{
	struct wbxml_node *root = top_status(req, 1);

	wbxml_add(req->arena, root,
		  req->device.wipe == STORE_WIPE_ACCOUNT_REQUESTED &&
				  req->version >= EAS_V161
			  ? EAS_PROVISION_ACCOUNTONLYREMOTEWIPE
			  : EAS_PROVISION_REMOTEWIPE);
	log_warn("sending %s to device %s",
		 req->device.wipe == STORE_WIPE_ACCOUNT_REQUESTED
			 ? "account-only remote wipe"
			 : "remote wipe",
		 req->device_id);
	*out_r = root;
	return EAS_CMD_OK;
}

enum eas_cmd_result
cmd_provision(struct eas_req *req, const struct wbxml_node *in,
	      struct wbxml_node **out_r)
{
	const struct wbxml_node *policies, *policy, *node, *devinfo;
	struct wbxml_node *root, *rpolicies, *rpolicy;
	const char *type, *key_text;
	int devinfo_status = 0;
	int64_t policy_version;
	enum store_error e;

	if (in == NULL || in->tag != EAS_PROVISION_PROVISION) {
		*out_r = top_status(req, 2);
		return EAS_CMD_OK;
	}
	if ((node = wbxml_child(in, EAS_PROVISION_REMOTEWIPE)) != NULL)
		return wipe_ack(req, node, false, out_r);
	if ((node = wbxml_child(in, EAS_PROVISION_ACCOUNTONLYREMOTEWIPE)) !=
	    NULL)
		return wipe_ack(req, node, true, out_r);
	if (req->device.wipe == STORE_WIPE_REQUESTED ||
	    req->device.wipe == STORE_WIPE_ACCOUNT_REQUESTED)
		return send_wipe(req, out_r);

	devinfo = wbxml_child(in, EAS_SETTINGS_DEVICEINFORMATION);
	if (devinfo != NULL)
		devinfo_status = provision_store_device_info(req, devinfo);
	policies = wbxml_child(in, EAS_PROVISION_POLICIES);
	policy = policies != NULL ? wbxml_child(policies, EAS_PROVISION_POLICY)
				  : NULL;
	if (policy == NULL) {
		*out_r = top_status(req, 2);
		return EAS_CMD_OK;
	}
	type = wbxml_child_text(policy, EAS_PROVISION_POLICYTYPE);
	key_text = wbxml_child_text(policy, EAS_PROVISION_POLICYKEY);

	root = top_status(req, 1);
	if (devinfo != NULL) {
		struct wbxml_node *di = wbxml_add(
			req->arena, root, EAS_SETTINGS_DEVICEINFORMATION);

		wbxml_add_int(req->arena, di, EAS_SETTINGS_STATUS,
			      devinfo_status);
	}
	rpolicies = wbxml_add(req->arena, root, EAS_PROVISION_POLICIES);
	rpolicy = wbxml_add(req->arena, rpolicies, EAS_PROVISION_POLICY);
	wbxml_add_text(req->arena, rpolicy, EAS_PROVISION_POLICYTYPE,
		       type != NULL ? type : "");
	if (type == NULL || strcmp(type, POLICY_TYPE) != 0) {
		log_info("unknown PolicyType %s", type != NULL ? type : "-");
		wbxml_add_int(req->arena, rpolicy, EAS_PROVISION_STATUS,
			      PROV_POLICY_UNKNOWN_TYPE);
		*out_r = root;
		return EAS_CMD_OK;
	}
	e = store_policy_version(req->store, req->account.id, &policy_version);
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "policy version");

	if (key_text == NULL) {
		/* Phase 1: the policy and a temporary key. */
		uint32_t temp = random_u32_nonzero();

		e = store_device_set_policy(req->store, req->device.id, temp,
					    req->device.policy_key,
					    req->device.policy_version);
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "policy key");
		wbxml_add_int(req->arena, rpolicy, EAS_PROVISION_STATUS,
			      PROV_POLICY_OK);
		wbxml_add_textf(req->arena, rpolicy, EAS_PROVISION_POLICYKEY,
				"%u", temp);
		e = add_policy_doc(req, wbxml_add(req->arena, rpolicy,
						  EAS_PROVISION_DATA));
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "policy");
		log_info("provisioning phase 1: temporary key issued");
	} else {
		/* Phase 2: the device acknowledges the temporary key. */
		uint32_t key = 0, final;
		int64_t client_status = 1;

		wbxml_child_int(policy, EAS_PROVISION_STATUS, &client_status);
		if (str_to_uint32(key_text, &key) < 0 || key == 0 ||
		    key != req->device.policy_key_temp) {
			log_info("provisioning phase 2 with a wrong key");
			wbxml_add_int(req->arena, rpolicy, EAS_PROVISION_STATUS,
				      PROV_POLICY_WRONG_KEY);
			*out_r = root;
			return EAS_CMD_OK;
		}
		if (client_status != 1)
			log_warn("device applied the policy only partly "
				 "(status %lld); allowed",
				 (long long)client_status);
		final = random_u32_nonzero();
		e = store_device_set_policy(req->store, req->device.id, 0,
					    final, policy_version);
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "policy key");
		wbxml_add_int(req->arena, rpolicy, EAS_PROVISION_STATUS,
			      PROV_POLICY_OK);
		wbxml_add_textf(req->arena, rpolicy, EAS_PROVISION_POLICYKEY,
				"%u", final);
		log_info("provisioning phase 2: device provisioned");
	}
	*out_r = root;
	return EAS_CMD_OK;
}
