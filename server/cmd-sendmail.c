/* SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
 * 2.2.1.19), in both forms: 14.0+ WBXML on the ComposeMail page, and the
 * 12.x query form with a message/rfc822 body. The message is completed
 * (conv/compose.c), then in one transaction: the ClientId recorded (a
 * repeat is answered 118 and sends nothing), local recipients delivered,
 * remote ones queued for the relay, the Sent Items copy stored and the
 * original marked replied or forwarded. Success is answered only after
 * that commit. */
#include <string.h>
#include <strings.h>

#include "autoreply.h"
#include "compose.h"
#include "log.h"
#include "mail.h"
#include "server.h"
#include "util.h"

/* MS-ASCMD 2.2.2 codes SendMail, SmartReply and SmartForward answer. */
#define SEND_INVALID_WBXML 102
#define SEND_INVALID_MIME 107
#define SEND_SERVER_ERROR 110
#define SEND_RETRY_LATER 111
#define SEND_QUOTA_EXCEEDED 115
#define SEND_RECIPIENT_UNRESOLVED 116
#define SEND_PREVIOUSLY_SENT 118
#define SEND_NO_RECIPIENT 119
#define SEND_TOO_LARGE 122
#define SEND_ACCESS_DENIED 130
#define SEND_ITEM_NOT_FOUND 150

/* Longest ClientId we keep (MS-ASCMD 2.2.3.27.1: up to 40 characters). */
#define SEND_CLIENTID_MAX 128

struct send_req {
	enum mail_compose_mode mode;
	const char *client_id; /* NULL in the 12.x form */
	bool save_in_sent;
	bool replace_mime;
	const char *mime;
	size_t mime_len;
	const char *folder_id, *item_id, *long_id;
};

static uint16_t
root_tag(enum mail_compose_mode mode)
{
	switch (mode) {
	case MAIL_COMPOSE_REPLY:
		return EAS_COMPOSEMAIL_SMARTREPLY;
	case MAIL_COMPOSE_FORWARD:
		return EAS_COMPOSEMAIL_SMARTFORWARD;
	case MAIL_COMPOSE_NEW:
		break;
	}
	return EAS_COMPOSEMAIL_SENDMAIL;
}

/* The failure answer: a Status element for 14.0+, an HTTP status for the
 * 12.x form (which has no body to carry one). */
static enum eas_cmd_result
send_fail(struct eas_req *req, const struct send_req *sr, int status,
	  struct wbxml_node **out_r)
{
	struct wbxml_node *root;

	req->eas_status = status;
	if (req->version < EAS_V140) {
		req->http_status = status == SEND_RETRY_LATER	  ? 503
				   : status == SEND_SERVER_ERROR  ? 500
				   : status == SEND_TOO_LARGE	  ? 413
				   : status == SEND_ACCESS_DENIED ? 403
								  : 400;
		if (status == SEND_RETRY_LATER)
			eas_req_add_header(req, "Retry-After", "30");
		return EAS_CMD_ERROR;
	}
	root = wbxml_new(req->arena, root_tag(sr->mode));
	wbxml_add_int(req->arena, root, EAS_COMPOSEMAIL_STATUS, status);
	*out_r = root;
	return EAS_CMD_OK;
}

/* The 14.0+ request: returns 0, or -1 when it is not what the command
 * takes. */
static int
parse_wbxml(struct eas_req *req, struct send_req *sr,
	    const struct wbxml_node *in)
{
	const struct wbxml_node *n, *src;

	if (in == NULL || in->tag != root_tag(sr->mode))
		return -1;
	sr->client_id = wbxml_child_text(in, EAS_COMPOSEMAIL_CLIENTID);
	sr->save_in_sent =
		wbxml_child(in, EAS_COMPOSEMAIL_SAVEINSENTITEMS) != NULL;
	sr->replace_mime = wbxml_child(in, EAS_COMPOSEMAIL_REPLACEMIME) != NULL;
	/* Mime comes as OPAQUE (most clients) or as an inline string
	 * (TbSync): the node holds the bytes either way. */
	n = wbxml_child(in, EAS_COMPOSEMAIL_MIME);
	if (n == NULL || n->data == NULL)
		return -1;
	sr->mime = (const char *)n->data;
	sr->mime_len = n->len;
	if (sr->client_id == NULL || sr->client_id[0] == '\0' ||
	    strlen(sr->client_id) > SEND_CLIENTID_MAX)
		return -1;
	src = wbxml_child(in, EAS_COMPOSEMAIL_SOURCE);
	if (sr->mode != MAIL_COMPOSE_NEW) {
		if (src == NULL)
			return -1;
		sr->folder_id = wbxml_child_text(src, EAS_COMPOSEMAIL_FOLDERID);
		sr->item_id = wbxml_child_text(src, EAS_COMPOSEMAIL_ITEMID);
		sr->long_id = wbxml_child_text(src, EAS_COMPOSEMAIL_LONGID);
		if (sr->item_id == NULL && sr->long_id == NULL)
			return -1;
	}
	(void)req;
	return 0;
}

/* The original of a SmartReply/SmartForward: this account's email item.
 * Returns 1 found, 0 not (another account's is not found either), -1 on a
 * store error (*e_r). */
static int
find_original(struct eas_req *req, const struct send_req *sr,
	      struct store_item *item_r, enum store_error *e_r)
{
	/* Our LongIds (Search results) are the items' ServerIds. */
	const char *sid = sr->item_id != NULL ? sr->item_id : sr->long_id;
	struct store_folder f;

	*e_r = store_item_get(req->store, req->arena, req->account.id, sid,
			      true, item_r);
	if (*e_r == STORE_NOTFOUND) {
		*e_r = STORE_OK;
		return 0;
	}
	if (*e_r != STORE_OK)
		return -1;
	if (item_r->cls != STORE_CLASS_EMAIL)
		return 0;
	if (sr->folder_id != NULL && sr->item_id != NULL) {
		*e_r = store_folder_get(req->store, req->arena, req->account.id,
					sr->folder_id, &f);
		if (*e_r == STORE_NOTFOUND ||
		    (*e_r == STORE_OK && f.id != item_r->folder_id)) {
			*e_r = STORE_OK;
			return 0;
		}
		if (*e_r != STORE_OK)
			return -1;
	}
	return 1;
}

/* Whether the account may send as addr: its address or an alias (1,
 * *as_r 0), or another account's that granted it send-as (1) or
 * send-on-behalf (2), with *as_r that account; 0 when not. */
static int
owns_address(struct eas_req *req, const char *addr, int64_t *as_r,
	     enum store_error *e_r)
{
	struct store_account acc;
	int send = STORE_SEND_NONE;

	*as_r = 0;
	if (str_ieq(addr, req->account.email) ||
	    str_ieq(addr, req->account.login))
		return 1;
	*e_r = store_account_by_address(req->store, req->arena, addr, &acc);
	if (*e_r == STORE_NOTFOUND) {
		*e_r = STORE_OK;
		return 0;
	}
	if (*e_r != STORE_OK)
		return -1;
	if (acc.id == req->account.id)
		return 1;
	*e_r = store_share_send_right(req->store, req->account.id, acc.id,
				      &send);
	if (*e_r != STORE_OK)
		return -1;
	if (send == STORE_SEND_NONE)
		return 0;
	*as_r = acc.id;
	return send == STORE_SEND_AS ? 1 : 2;
}

struct rcpt_split {
	int64_t *local_ids; /* accounts of this server */
	size_t nlocal;
	const char **remote;
	size_t nremote;
	/* who the message is from: the account, or the one it sends as
	 * (send-as: the envelope and Sent Items are that account's) */
	int64_t sent_as;
	const char *envelope;
};

/* How the account signs a message it sends for another (Sender). */
static const char *
sender_name(const struct eas_req *req)
{
	return req->account.display_name != NULL &&
			       req->account.display_name[0] != '\0'
		       ? req->account.display_name
		       : req->account.login;
}

static enum store_error
split_recipients(struct eas_req *req, const struct mail_outgoing *out,
		 struct rcpt_split *rs)
{
	rs->local_ids = arena_alloc(req->arena,
				    (out->nrcpts + 1) * sizeof(*rs->local_ids));
	rs->remote = arena_alloc(req->arena,
				 (out->nrcpts + 1) * sizeof(*rs->remote));
	rs->nlocal = rs->nremote = 0;
	for (size_t i = 0; i < out->nrcpts; i++) {
		struct store_account acc;
		enum store_error e = store_account_by_address(
			req->store, req->arena, out->rcpts[i], &acc);
		bool dup = false;

		if (e == STORE_NOTFOUND || (e == STORE_OK && !acc.enabled)) {
			rs->remote[rs->nremote++] = out->rcpts[i];
			continue;
		}
		if (e != STORE_OK)
			return e;
		/* two addresses of one account: one copy */
		for (size_t k = 0; k < rs->nlocal; k++)
			dup = dup || rs->local_ids[k] == acc.id;
		if (!dup)
			rs->local_ids[rs->nlocal++] = acc.id;
	}
	return STORE_OK;
}

static enum store_error
save_sent_copy(struct eas_req *req, const struct mail_outgoing *out,
	       const struct rcpt_split *rs)
{
	struct store_folder sent;
	struct store_item item;
	const char *error = NULL;
	enum store_error e;

	/* send-as: the shared mailbox's Sent Items, where its members
	 * look for what was sent as it */
	int64_t owner = rs->sent_as != 0 ? rs->sent_as : req->account.id;

	e = store_folder_get_by_type(req->store, req->arena, owner,
				     EAS_FOLDER_SENT, &sent);
	if (e != STORE_OK)
		return e;
	memset(&item, 0, sizeof(item));
	if (mail_item_from_mime(req->arena, out->sent_data, out->sent_len,
				&item, &error) < 0) {
		log_error("send: the Sent Items copy cannot be stored: %s",
			  error);
		return STORE_INVALID;
	}
	item.meta.read = true;
	return mail_deliver(req->store, req->arena, owner, sent.id, &item, NULL,
			    NULL);
}

/* LastVerbExecuted on the original (MS-ASEMAIL 2.2.2.46): 1 replied, 3
 * forwarded. */
static enum store_error
mark_original(struct eas_req *req, const struct store_item *orig,
	      enum mail_compose_mode mode)
{
	const uint8_t *extra;
	size_t extra_len;
	const char *error = NULL;
	enum store_error e;

	if (mail_set_last_verb(req->arena, orig,
			       mode == MAIL_COMPOSE_REPLY ? 1 : 3, time_now(),
			       &extra, &extra_len, &error) < 0) {
		log_warn("send: cannot mark %s: %s", orig->server_id, error);
		return STORE_OK;
	}
	e = store_item_update_meta(req->store, req->account.id, orig->id, extra,
				   extra_len, &orig->meta, req->device.id);
	if (e == STORE_DENIED) {
		/* a reply from a folder shared read-only: sent, unmarked */
		log_info("send: %s is in a read-only shared folder, not marked",
			 orig->server_id);
		e = STORE_OK;
	}
	return e;
}

/* The writes of a send, inside the caller's write transaction. A status
 * for the client (*status_r) is decided before anything is written, so
 * the caller may go on with its transaction; -1 with *e_r is a store
 * failure (the caller rolls back). */
static int
send_store(struct eas_req *req, const char *client_id,
	   const struct mail_outgoing *out, const struct rcpt_split *rs,
	   bool save_in_sent, const struct store_item *orig,
	   enum mail_compose_mode mode, int *status_r, enum store_error *e_r)
{
	const struct easd_config *cfg = &req->srv->cfg;
	struct store *s = req->store;
	struct store_item parsed;
	const char *error = NULL;
	int64_t now = time_now(), recent = 0;
	enum store_error e;

	*status_r = 0;
	memset(&parsed, 0, sizeof(parsed));
	if (rs->nlocal > 0 &&
	    mail_item_from_mime(req->arena, out->data, out->len, &parsed,
				&error) < 0) {
		*status_r = SEND_INVALID_MIME;
		return 0;
	}
	e = store_submission_recipients(s, req->account.id, now - 3600,
					&recent);
	if (e != STORE_OK)
		goto fail;
	if (cfg->max_rcpts_per_hour > 0 &&
	    recent + (int64_t)out->nrcpts > (int64_t)cfg->max_rcpts_per_hour) {
		log_warn("send: %s is over %u recipients per hour (%lld + %zu)",
			 req->account.login, cfg->max_rcpts_per_hour,
			 (long long)recent, out->nrcpts);
		*status_r = SEND_QUOTA_EXCEEDED;
		return 0;
	}
	e = store_submission_add(s, req->account.id, client_id, now,
				 (int)out->nrcpts);
	if (e == STORE_EXISTS) {
		*status_r = SEND_PREVIOUSLY_SENT;
		return 0;
	}
	if (e != STORE_OK)
		goto fail;
	for (size_t i = 0; i < rs->nlocal; i++) {
		struct mail_autoreply_opts ao = {
			.can_queue = cfg->have_relay,
			.retry_s = (int64_t)cfg->send_retry_s,
		};
		const char *why;

		e = mail_deliver(s, req->arena, rs->local_ids[i], 0, &parsed,
				 rs->envelope, NULL);
		if (e != STORE_OK)
			goto fail;
		/* a colleague on holiday answers, in this transaction */
		if (mail_autoreply(s, req->arena, rs->local_ids[i], &parsed,
				   rs->envelope, &ao, &why) < 0) {
			e = STORE_INTERNAL;
			goto fail;
		}
	}
	if (rs->nremote > 0) {
		e = store_outbound_add(s, req->account.id, rs->envelope,
				       out->message_id, out->data, out->len,
				       rs->remote, rs->nremote, now,
				       now + (int64_t)cfg->send_retry_s);
		if (e != STORE_OK)
			goto fail;
	}
	if (save_in_sent && (e = save_sent_copy(req, out, rs)) != STORE_OK)
		goto fail;
	if (orig != NULL && (e = mark_original(req, orig, mode)) != STORE_OK)
		goto fail;
	return 0;
fail:
	*e_r = e;
	return -1;
}

/* Everything before the writes: the message completed, its From checked,
 * its recipients split. Returns 0 with *status_r 0, a status for the
 * client, or -1 with *e_r. */
static int
send_prepare(struct eas_req *req, const char *mime, size_t mime_len,
	     enum mail_compose_mode mode, const struct store_item *orig,
	     struct mail_outgoing *out, struct rcpt_split *rs, int *status_r,
	     enum store_error *e_r)
{
	const char *error = NULL, *default_from;
	int r;

	*status_r = 0;
	default_from = arena_printf(
		req->arena, "%s <%s>",
		req->account.display_name != NULL &&
				req->account.display_name[0] != '\0'
			? req->account.display_name
			: req->account.login,
		req->account.email);
	if (mail_compose(req->arena, mime, mime_len, mode, orig, default_from,
			 out, &error) < 0) {
		log_info("send: %s", error);
		*status_r = SEND_INVALID_MIME;
		return 0;
	}
	if (out->nrcpts == 0) {
		log_info("send: %s has no recipients", out->message_id);
		*status_r = SEND_NO_RECIPIENT;
		return 0;
	}
	/* A user sends only as one of their own addresses, or as an
	 * account that granted it send-as or send-on-behalf. */
	r = owns_address(req, out->from, &rs->sent_as, e_r);
	if (r < 0)
		return -1;
	if (r == 0) {
		log_warn("send: %s may not send as %s", req->account.login,
			 out->from);
		*status_r = SEND_ACCESS_DENIED;
		return 0;
	}
	rs->envelope = req->account.email;
	if (r == 1 && rs->sent_as != 0) {
		rs->envelope = out->from;
		log_info("send: %s sends as %s", req->account.login, out->from);
	} else if (r == 2) {
		log_info("send: %s sends on behalf of %s", req->account.login,
			 out->from);
		rs->sent_as = 0;
		out->data = mail_set_sender(req->arena, out->data, out->len,
					    sender_name(req),
					    req->account.email, &out->len);
		out->sent_data = mail_set_sender(
			req->arena, out->sent_data, out->sent_len,
			sender_name(req), req->account.email, &out->sent_len);
	}
	if ((*e_r = split_recipients(req, out, rs)) != STORE_OK)
		return -1;
	if (rs->nremote > 0 && !req->srv->cfg.have_relay) {
		log_info("send: %s names %zu outside recipient(s) and no relay "
			 "is configured",
			 out->message_id, rs->nremote);
		*status_r = SEND_RECIPIENT_UNRESOLVED;
	}
	return 0;
}

static void
log_sent(const struct mail_outgoing *out, const struct rcpt_split *rs,
	 const char *what)
{
	log_info("send: %s rcpts=%zu local=%zu queued=%zu%s", out->message_id,
		 out->nrcpts, rs->nlocal, rs->nremote, what);
}

int
eas_send_generated(struct eas_req *req, const char *mime, size_t len,
		   bool save_in_sent, enum store_error *e_r)
{
	struct mail_outgoing out;
	struct rcpt_split rs;
	int status = 0;

	if (send_prepare(req, mime, len, MAIL_COMPOSE_NEW, NULL, &out, &rs,
			 &status, e_r) < 0)
		return -1;
	if (status == SEND_RECIPIENT_UNRESOLVED) {
		/* no relay: the colleagues still get it */
		log_warn("send: %s: %zu outside recipient(s) dropped, no relay",
			 out.message_id, rs.nremote);
		rs.nremote = 0;
		status = rs.nlocal > 0 ? 0 : status;
	}
	if (status == 0 && send_store(req, NULL, &out, &rs, save_in_sent, NULL,
				      MAIL_COMPOSE_NEW, &status, e_r) < 0)
		return -1;
	if (status != 0) {
		log_warn("send: %s not sent (status %d)", out.message_id,
			 status);
		return 0;
	}
	log_sent(&out, &rs, " (generated)");
	return 0;
}

int
eas_send_draft(struct eas_req *req, const struct store_item *draft,
	       int *status_r, enum store_error *e_r)
{
	struct mail_outgoing out;
	struct rcpt_split rs;

	if (send_prepare(req, (const char *)draft->data, draft->data_len,
			 MAIL_COMPOSE_NEW, NULL, &out, &rs, status_r, e_r) < 0)
		return -1;
	if (*status_r != 0)
		return 0;
	if (send_store(req, NULL, &out, &rs, false, NULL, MAIL_COMPOSE_NEW,
		       status_r, e_r) < 0)
		return -1;
	if (*status_r != 0)
		return 0;
	/* The draft becomes the sent message: gone from Drafts (for this
	 * device too), its sent form in Sent Items. */
	if ((*e_r = store_item_delete(req->store, req->account.id, draft->id,
				      0)) != STORE_OK ||
	    (*e_r = save_sent_copy(req, &out, &rs)) != STORE_OK)
		return -1;
	log_sent(&out, &rs, " draft");
	return 0;
}

static enum eas_cmd_result
send_run(struct eas_req *req, struct send_req *sr, struct wbxml_node **out_r)
{
	const struct easd_config *cfg = &req->srv->cfg;
	struct store_item orig_item, *orig = NULL;
	struct mail_outgoing out;
	struct rcpt_split rs;
	enum store_error e = STORE_OK;
	int r, status;

	if (sr->mime_len > cfg->max_send_size) {
		log_info("send: message of %zu bytes over the limit of %zu",
			 sr->mime_len, cfg->max_send_size);
		return send_fail(req, sr, SEND_TOO_LARGE, out_r);
	}
	if (sr->mode != MAIL_COMPOSE_NEW) {
		r = find_original(req, sr, &orig_item, &e);
		if (r < 0)
			return eas_req_store_error(req, e, "send: original");
		if (r == 0) {
			log_info("send: source item %s not found",
				 sr->item_id != NULL ? sr->item_id
						     : sr->long_id);
			return send_fail(req, sr, SEND_ITEM_NOT_FOUND, out_r);
		}
		orig = &orig_item;
	}
	if (send_prepare(req, sr->mime, sr->mime_len, sr->mode,
			 sr->replace_mime ? NULL : orig, &out, &rs, &status,
			 &e) < 0)
		return eas_req_store_error(req, e, "send: recipients");
	if (status != 0)
		return send_fail(req, sr, status, out_r);
	/* one transaction: everything or nothing */
	if ((e = store_begin(req->store, true)) != STORE_OK)
		goto fail;
	if (send_store(req, sr->client_id, &out, &rs, sr->save_in_sent, orig,
		       sr->mode, &status, &e) < 0)
		goto fail;
	if (status != 0) {
		store_rollback(req->store);
		if (status == SEND_PREVIOUSLY_SENT)
			log_info("send: ClientId %s was sent before",
				 sr->client_id);
		return send_fail(req, sr, status, out_r);
	}
	if ((e = store_commit(req->store)) != STORE_OK)
		goto fail;
	log_sent(&out, &rs, sr->save_in_sent ? " saved" : "");
	/* MS-ASCMD 2.2.1.17: success is an empty response */
	*out_r = NULL;
	return EAS_CMD_OK;
fail:
	store_rollback(req->store);
	log_error("send: storing %s: %s", out.message_id, store_error_str(e));
	return send_fail(req, sr,
			 e == STORE_BUSY ? SEND_RETRY_LATER : SEND_SERVER_ERROR,
			 out_r);
}

static enum eas_cmd_result
send_cmd(struct eas_req *req, enum mail_compose_mode mode,
	 struct wbxml_node **out_r)
{
	struct send_req sr;
	bool raw = req->content_type != NULL &&
		   str_has_iprefix(req->content_type, "message/rfc822");

	memset(&sr, 0, sizeof(sr));
	sr.mode = mode;
	*out_r = NULL;
	if (raw || req->version < EAS_V140) {
		/* 12.x: the message is the body; the rest in the query */
		sr.mime = (const char *)req->body;
		sr.mime_len = req->body_len;
		sr.save_in_sent = req->save_in_sent;
		sr.folder_id = req->collection_id;
		sr.item_id = req->item_id;
		sr.long_id = req->long_id;
		if (sr.mime_len == 0 ||
		    (mode != MAIL_COMPOSE_NEW && sr.item_id == NULL &&
		     sr.long_id == NULL)) {
			req->http_status = 400;
			return EAS_CMD_ERROR;
		}
	} else {
		struct wbxml_node *root = NULL;
		const char *error = NULL;

		if (req->body_len == 0 ||
		    wbxml_decode(req->arena, req->body, req->body_len,
				 &wbxml_limits_default, &root, &error) < 0) {
			log_info("send: malformed WBXML: %s",
				 error != NULL ? error : "empty body");
			return send_fail(req, &sr, SEND_INVALID_WBXML, out_r);
		}
		if (parse_wbxml(req, &sr, root) < 0) {
			log_info("send: request without ClientId, Mime or "
				 "Source");
			return send_fail(req, &sr, SEND_INVALID_WBXML, out_r);
		}
	}
	return send_run(req, &sr, out_r);
}

enum eas_cmd_result
cmd_sendmail(struct eas_req *req, const struct wbxml_node *in,
	     struct wbxml_node **out_r)
{
	(void)in;
	return send_cmd(req, MAIL_COMPOSE_NEW, out_r);
}

enum eas_cmd_result
cmd_smartreply(struct eas_req *req, const struct wbxml_node *in,
	       struct wbxml_node **out_r)
{
	(void)in;
	return send_cmd(req, MAIL_COMPOSE_REPLY, out_r);
}

enum eas_cmd_result
cmd_smartforward(struct eas_req *req, const struct wbxml_node *in,
		 struct wbxml_node **out_r)
{
	(void)in;
	return send_cmd(req, MAIL_COMPOSE_FORWARD, out_r);
}
