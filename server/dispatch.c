/* The command table and the steps every ActiveSync POST goes through
 * before its handler: version, identity, device partnership, access and
 * provisioning state, body decoding. */
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "quirks.h"
#include "server.h"
#include "trace.h"
#include "util.h"

/* Runs of a command that lost its transaction to another (the first
 * included): as many as store_txn gives a transaction. */
#define DISPATCH_RUNS STORE_TXN_TRIES

static const struct eas_command commands[] = {
	{"Sync", 0, cmd_sync, CMD_F_LONGPOLL},
	{"FolderSync", 9, cmd_foldersync, 0},
	{"FolderCreate", 10, cmd_foldercreate, 0},
	{"FolderDelete", 11, cmd_folderdelete, 0},
	{"FolderUpdate", 12, cmd_folderupdate, 0},
	{"GetItemEstimate", 14, cmd_getitemestimate, 0},
	{"Settings", 17, cmd_settings, CMD_F_NO_PROVISION},
	{"Ping", 18, cmd_ping, CMD_F_LONGPOLL | CMD_F_SCRATCH_TREE},
	{"Provision", 20, cmd_provision, CMD_F_NO_PROVISION},
	{"GetAttachment", 4, cmd_getattachment, CMD_F_RAW_BODY},
	/* WBXML from 14.0, message/rfc822 before: the handler decodes */
	{"SendMail", 1, cmd_sendmail, CMD_F_RAW_BODY},
	{"SmartForward", 2, cmd_smartforward, CMD_F_RAW_BODY},
	{"SmartReply", 3, cmd_smartreply, CMD_F_RAW_BODY},
	{"MoveItems", 13, cmd_moveitems, 0},
	{"ItemOperations", 19, cmd_itemoperations, 0},
	{"Search", 16, cmd_search, 0},
	{"ResolveRecipients", 21, cmd_resolverecipients, 0},
	{"Find", 23, cmd_find, 0},
	{"MeetingResponse", 15, cmd_meetingresponse, 0},
};

/* Response roots for top-level statuses (MS-ASCMD 2.2.2). */
static const struct {
	const char *cmd;
	uint16_t root;
	uint16_t status;
} roots[] = {
	{"Sync", EAS_AIRSYNC_SYNC, EAS_AIRSYNC_STATUS},
	{"FolderSync", EAS_FOLDERHIERARCHY_FOLDERSYNC,
	 EAS_FOLDERHIERARCHY_STATUS},
	{"FolderCreate", EAS_FOLDERHIERARCHY_FOLDERCREATE,
	 EAS_FOLDERHIERARCHY_STATUS},
	{"FolderDelete", EAS_FOLDERHIERARCHY_FOLDERDELETE,
	 EAS_FOLDERHIERARCHY_STATUS},
	{"FolderUpdate", EAS_FOLDERHIERARCHY_FOLDERUPDATE,
	 EAS_FOLDERHIERARCHY_STATUS},
	{"GetItemEstimate", EAS_GETITEMESTIMATE_GETITEMESTIMATE,
	 EAS_GETITEMESTIMATE_STATUS},
	{"Settings", EAS_SETTINGS_SETTINGS, EAS_SETTINGS_STATUS},
	{"Ping", EAS_PING_PING, EAS_PING_STATUS},
	{"Provision", EAS_PROVISION_PROVISION, EAS_PROVISION_STATUS},
	{"MoveItems", EAS_MOVE_MOVEITEMS, EAS_MOVE_STATUS},
	{"ItemOperations", EAS_ITEMOPERATIONS_ITEMOPERATIONS,
	 EAS_ITEMOPERATIONS_STATUS},
	{"SendMail", EAS_COMPOSEMAIL_SENDMAIL, EAS_COMPOSEMAIL_STATUS},
	{"SmartForward", EAS_COMPOSEMAIL_SMARTFORWARD, EAS_COMPOSEMAIL_STATUS},
	{"SmartReply", EAS_COMPOSEMAIL_SMARTREPLY, EAS_COMPOSEMAIL_STATUS},
	{"Search", EAS_SEARCH_SEARCH, EAS_SEARCH_STATUS},
	{"ResolveRecipients", EAS_RESOLVERECIPIENTS_RESOLVERECIPIENTS,
	 EAS_RESOLVERECIPIENTS_STATUS},
	{"Find", EAS_FIND_FIND, EAS_FIND_STATUS},
	{"MeetingResponse", EAS_MEETINGRESPONSE_MEETINGRESPONSE,
	 EAS_MEETINGRESPONSE_STATUS},
};

const struct eas_command *
eas_command_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		if (str_ieq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

const struct eas_command *
eas_command_find_code(int code)
{
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		if (commands[i].code == code)
			return &commands[i];
	return NULL;
}

static char command_list[512];
static pthread_once_t command_list_once = PTHREAD_ONCE_INIT;

static void
command_list_build(void)
{
	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		if (i > 0)
			strcat(command_list, ",");
		strcat(command_list, commands[i].name);
	}
}

const char *
eas_command_list(void)
{
	/* Built once; worker threads may ask at the same time. */
	pthread_once(&command_list_once, command_list_build);
	return command_list;
}

uint16_t
eas_command_root(const char *cmd)
{
	for (size_t i = 0; i < N_ELEMENTS(roots); i++)
		if (str_ieq(roots[i].cmd, cmd))
			return roots[i].root;
	return 0;
}

/* A response that is only a top-level Status. */
static enum eas_cmd_result
status_response(struct eas_req *req, int status, struct wbxml_node **out_r)
{
	for (size_t i = 0; i < N_ELEMENTS(roots); i++) {
		if (str_ieq(roots[i].cmd, req->cmd)) {
			struct wbxml_node *root =
				wbxml_new(req->arena, roots[i].root);

			wbxml_add_int(req->arena, root, roots[i].status,
				      status);
			req->eas_status = status;
			*out_r = root;
			return EAS_CMD_OK;
		}
	}
	req->http_status = 400;
	return EAS_CMD_ERROR;
}

enum eas_cmd_result
eas_req_store_error(struct eas_req *req, enum store_error e, const char *what)
{
	const char *retry;

	switch (e) {
	case STORE_BUSY:
		retry = EAS_RETRY_BUSY;
		break;
	case STORE_INTERNAL: /* disk full, I/O error, ... (logged by the
				store with SQLite's reason) */
	case STORE_CORRUPT:
		retry = EAS_RETRY_STORE;
		break;
	default:
		/* A request the store refused: retrying will not help. */
		log_error("%s: %s", what, store_error_str(e));
		req->http_status = 500;
		return EAS_CMD_ERROR;
	}
	/* MS-ASHTTP 2.2.2.1: 503 with Retry-After makes the device back
	 * off instead of retrying at once as it does after a 500. */
	if (e == STORE_BUSY && req->may_run_again && req->store != NULL &&
	    store_retryable(req->store))
		log_info("%s: lost to another transaction", what);
	else
		log_error("%s: %s: answered 503, Retry-After %s s", what,
			  store_error_str(e), retry);
	req->http_status = 503;
	eas_req_add_header(req, "Retry-After", retry);
	return EAS_CMD_ERROR;
}

static bool
version_supported(const char *v, unsigned *r)
{
	static const struct {
		const char *s;
		unsigned v;
	} versions[] = {
		{"12.0", 120},	    {"12.1", EAS_V121}, {"14.0", EAS_V140},
		{"14.1", EAS_V141}, {"16.0", EAS_V160}, {"16.1", EAS_V161},
	};

	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		if (v != NULL && strcmp(v, versions[i].s) == 0) {
			*r = versions[i].v;
			return true;
		}
	}
	return false;
}

/* The User parameter must name the authenticated account (by login, by
 * DOMAIN\login or by its address). */
static bool
user_matches(struct eas_req *req)
{
	const char *u;

	if (req->user == NULL)
		return true; /* the base64 form may leave it out */
	u = auth_normalize_user(req->arena, req->user);
	return str_ieq(u, req->account.login) ||
	       (req->account.email != NULL && str_ieq(u, req->account.email));
}

/* A new device of an account that has --max-devices-per-account
 * already: MS-ASCMD 2.2.2 status 177 (MaximumDevicesReached) for 14.0+,
 * 403 for older clients and commands without a top-level status. */
static enum eas_cmd_result
too_many_devices(struct eas_req *req, size_t n, struct wbxml_node **out_r)
{
	log_warn("account %s has %zu devices (--max-devices-per-account): "
		 "device %s refused",
		 req->account.login, n, req->device_id);
	if (req->version >= EAS_V140 && eas_command_root(req->cmd) != 0)
		return status_response(req, EAS_STATUS_MAXIMUM_DEVICES_REACHED,
				       out_r);
	req->http_status = 403;
	return EAS_CMD_ERROR;
}

static enum eas_cmd_result
load_device(struct eas_req *req, struct wbxml_node **out_r)
{
	enum store_error e;
	int64_t now = time_now();
	unsigned max = req->srv->cfg.max_devices_per_account;

	e = standing_device(req->srv->standing, req->store, req->arena,
			    req->standing_gen, req->account.id, req->device_id,
			    &req->device);
	if (e == STORE_NOTFOUND && max > 0) {
		struct store_device *list;
		size_t n;

		e = store_device_list(req->store, req->arena, req->account.id,
				      &list, &n);
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "device count");
		if (n >= max)
			return too_many_devices(req, n, out_r);
		e = STORE_NOTFOUND;
	}
	if (e == STORE_NOTFOUND) {
		e = store_device_create(req->store, req->arena, req->account.id,
					req->device_id, req->device_type,
					req->user_agent, &req->device);
		if (e == STORE_EXISTS)
			e = store_device_get(req->store, req->arena,
					     req->account.id, req->device_id,
					     &req->device);
		if (e == STORE_OK)
			log_info("new device %s (%s) for %s", req->device_id,
				 req->device_type, req->account.login);
	}
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "device lookup");
	req->have_device = true;
	/* Writing on every request would serialize all of them on the
	 * database lock: refresh "last seen" once a minute or when the
	 * command or version changes. */
	if (now - req->device.last_seen >= 60 ||
	    req->device.last_command == NULL ||
	    strcmp(req->device.last_command, req->cmd) != 0 ||
	    req->device.protocol_version == NULL ||
	    strcmp(req->device.protocol_version, req->version_str) != 0) {
		e = store_device_seen(req->store, req->device.id,
				      req->user_agent, req->version_str,
				      req->cmd, now);
		standing_forget_device(req->srv->standing, req->device.id);
		if (e != STORE_OK)
			log_warn("cannot record device activity: %s",
				 store_error_str(e));
	}
	return EAS_CMD_OK;
}

/* MS-ASPROV 3.2.5.1.2: a command from a device that has not acknowledged
 * the current policy gets 449 (12.x) or status 142/143/144 (14.0+). A
 * pending wipe sends it back to Provision too. Returns 0 when the command
 * may run. */
static int
provisioning_status(struct eas_req *req)
{
	int64_t version;
	enum store_error e;

	if (req->device.wipe == STORE_WIPE_REQUESTED ||
	    req->device.wipe == STORE_WIPE_ACCOUNT_REQUESTED)
		return EAS_STATUS_REMOTE_WIPE_REQUESTED;
	if (!req->policy_key_given || req->policy_key == 0 ||
	    req->device.policy_key == 0)
		return EAS_STATUS_DEVICE_NOT_PROVISIONED;
	if (req->policy_key != req->device.policy_key)
		return EAS_STATUS_INVALID_POLICY_KEY;
	e = standing_policy_version(req->srv->standing, req->store,
				    req->standing_gen, req->account.id,
				    &version);
	if (e == STORE_OK && version != req->device.policy_version)
		return EAS_STATUS_POLICY_REFRESH;
	return 0;
}

static enum eas_cmd_result
dispatch_once(struct eas_req *req, struct wbxml_node **out_r)
{
	const struct eas_command *cmd;
	const struct wbxml_node *in = NULL;
	enum eas_cmd_result r;
	int status;

	*out_r = NULL;
	if (req->cmd == NULL) {
		log_info("request without Cmd");
		req->http_status = 400;
		return EAS_CMD_ERROR;
	}
	if (req->device_id == NULL || req->device_id[0] == '\0' ||
	    strlen(req->device_id) > 64 || req->device_type == NULL ||
	    req->device_type[0] == '\0' || strlen(req->device_type) > 64) {
		log_info("missing or invalid DeviceId/DeviceType");
		req->http_status = 400;
		return EAS_CMD_ERROR;
	}
	if (!version_supported(req->version_str, &req->version)) {
		log_info("unsupported protocol version %s",
			 req->version_str != NULL ? req->version_str
						  : "(none)");
		req->http_status = 400;
		return EAS_CMD_ERROR;
	}
	if (!user_matches(req)) {
		log_warn("User=%s does not match the authenticated account %s",
			 req->user, req->account.login);
		req->http_status = 403;
		return EAS_CMD_ERROR;
	}
	if (!req->account.enabled) {
		log_info("account %s is disabled", req->account.login);
		req->http_status = 403;
		return EAS_CMD_ERROR;
	}
	cmd = eas_command_find(req->cmd);
	if (cmd == NULL) {
		log_info("command %s is not implemented", req->cmd);
		req->http_status = 501;
		return EAS_CMD_ERROR;
	}
	req->cmd = cmd->name;
	req->trace = trace_match(req->account.id, req->device_id,
				 &req->trace_bodies);
	r = load_device(req, out_r);
	if (r != EAS_CMD_OK || *out_r != NULL)
		return r;

	if (req->device.access != STORE_ACCESS_ALLOWED &&
	    strcmp(cmd->name, "Provision") != 0) {
		log_info("device is %s",
			 req->device.access == STORE_ACCESS_BLOCKED
				 ? "blocked"
				 : "quarantined");
		if (req->version < EAS_V140) {
			req->http_status = 403;
			return EAS_CMD_ERROR;
		}
		return status_response(req, EAS_STATUS_DEVICE_BLOCKED, out_r);
	}
	if ((cmd->flags & CMD_F_NO_PROVISION) == 0 &&
	    (status = provisioning_status(req)) != 0) {
		log_info("device must provision (status %d)", status);
		if (req->version < EAS_V140) {
			req->http_status = 449;
			return EAS_CMD_ERROR;
		}
		return status_response(req, status, out_r);
	}

	if ((cmd->flags & CMD_F_RAW_BODY) == 0 && req->body_len > 0) {
		struct arena *ta = (cmd->flags & CMD_F_SCRATCH_TREE) != 0
					   ? eas_req_scratch(req)
					   : req->arena;
		struct wbxml_node *root;
		const char *error;

		if (wbxml_decode(ta, req->body, req->body_len,
				 &wbxml_limits_default, &root, &error) < 0) {
			log_info("malformed WBXML: %s", error);
			if (req->version < EAS_V140) {
				req->http_status = 400;
				return EAS_CMD_ERROR;
			}
			return status_response(req, EAS_STATUS_INVALID_WBXML,
					       out_r);
		}
		if (log_enabled(LOG_DEBUG)) {
			struct buf xml;

			buf_init(&xml, 64 * 1024);
			wbxml_to_xml(root, &xml);
			log_block(LOG_DEBUG, "request", (const char *)xml.data,
				  xml.len);
			buf_deinit(&xml);
		}
		trace_dump(req, "request", root);
		in = root;
	}
	r = cmd->fn(req, in, out_r);
	/* client quirks on the way out (a parked request's answer gets them
	 * where it is built) */
	if (r == EAS_CMD_OK && *out_r != NULL)
		quirks_response(quirks_of_req(req), *out_r);
	return r;
}

enum eas_cmd_result
eas_dispatch(struct eas_req *req, struct wbxml_node **out_r)
{
	struct eas_header *headers = req->headers;
	enum eas_cmd_result r;

	for (int run = 1;; run++) {
		req->may_run_again = run < DISPATCH_RUNS;
		r = dispatch_once(req, out_r);
		if (r != EAS_CMD_ERROR || req->http_status != 503 ||
		    req->store == NULL || !store_retryable(req->store) ||
		    run == DISPATCH_RUNS)
			return r;
		/* PostgreSQL gave a transaction up for another's sake (a
		 * deadlock, a serialization failure) and the command gave
		 * up with it: what it wrote was rolled back, and it runs
		 * again as the device would after the 503, only sooner. */
		log_info("%s run again after a deadlock or serialization "
			 "failure (%d)",
			 req->cmd, run + 1);
		store_retry_pause(run);
		eas_req_scratch_done(req); /* the run's tree and reads */
		req->headers = headers;
		req->http_status = 200;
		req->eas_status = 0;
		req->resp_body = NULL;
		req->resp_len = 0;
		req->resp_content_type = NULL;
	}
}

bool
eas_req_standing_changed(struct eas_req *req)
{
	struct store_account acct;
	struct store_device dev;

	if (store_account_get_by_id(req->store, req->arena, req->account.id,
				    &acct) != STORE_OK ||
	    !acct.enabled)
		return true;
	if (!req->have_device)
		return false;
	if (store_device_get_by_id(req->store, req->arena, req->device.id,
				   &dev) != STORE_OK)
		return true;
	return dev.access != STORE_ACCESS_ALLOWED ||
	       dev.wipe == STORE_WIPE_REQUESTED ||
	       dev.wipe == STORE_WIPE_ACCOUNT_REQUESTED ||
	       dev.policy_key != req->device.policy_key;
}
