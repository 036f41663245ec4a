/* MeetingResponse (MS-ASCMD 2.2.1.11): accept, tentatively accept or
 * decline a meeting, from its request in the Inbox or its calendar item.
 * The calendar changes here (conv/meeting.c); the answer to the organizer
 * is a REPLY sent by the server when a 16.x client asks for it
 * (SendResponse), and by the client itself with SendMail before 16.0. */
#include <string.h>

#include "itip.h"
#include "log.h"
#include "meeting.h"
#include "server.h"
#include "util.h"

/* MeetingResponse statuses (MS-ASCMD 2.2.3.177.9). */
#define MR_OK 1
#define MR_INVALID 2
#define MR_MAILBOX_ERROR 3

/* Requests answered in one command at most. */
#define MR_MAX_REQUESTS 100

struct mr_request {
	enum itip_answer answer;
	const char *collection_id, *request_id, *long_id;
	bool has_instance;
	int64_t instance;
	const char *instance_text;
	const struct wbxml_node *send; /* SendResponse, 16.x */
};

static const char *const answer_prefix[] = {
	[ITIP_ACCEPTED] = "Accepted",
	[ITIP_TENTATIVE] = "Tentative",
	[ITIP_DECLINED] = "Declined",
};

static int
mr_parse(struct eas_req *req, const struct wbxml_node *n, struct mr_request *r)
{
	const struct wbxml_node *c;
	int64_t v;

	memset(r, 0, sizeof(*r));
	if (wbxml_child_int(n, EAS_MEETINGRESPONSE_USERRESPONSE, &v) < 0 ||
	    v < ITIP_ACCEPTED || v > ITIP_DECLINED)
		return -1;
	r->answer = (enum itip_answer)v;
	r->collection_id =
		wbxml_child_text(n, EAS_MEETINGRESPONSE_COLLECTIONID);
	r->request_id = wbxml_child_text(n, EAS_MEETINGRESPONSE_REQUESTID);
	r->long_id = wbxml_child_text(n, EAS_SEARCH_LONGID);
	if (r->long_id == NULL && r->request_id == NULL)
		return -1;
	c = wbxml_child(n, EAS_MEETINGRESPONSE_INSTANCEID);
	if (c != NULL && req->version >= EAS_V141) {
		r->instance_text = wbxml_text(c);
		if (time_parse(r->instance_text, &r->instance) < 0)
			return -1;
		r->has_instance = true;
	}
	if (req->version >= EAS_V160)
		r->send = wbxml_child(n, EAS_MEETINGRESPONSE_SENDRESPONSE);
	return 0;
}

/* The item a request names, of this account, or of a folder shared with
 * it for writing (the answer changes the invitation and the calendar). */
static int
mr_item(struct eas_req *req, const struct mr_request *r,
	struct store_item *item)
{
	struct store_folder f;

	if (r->long_id != NULL)
		return store_item_get(req->store, req->arena, req->account.id,
				      r->long_id, true, item) == STORE_OK &&
				       store_folder_get_by_id(
					       req->store, req->arena,
					       req->account.id, item->folder_id,
					       &f) == STORE_OK &&
				       f.rights >= STORE_RIGHT_WRITE
			       ? 0
			       : -1;
	if (r->collection_id == NULL ||
	    store_folder_get(req->store, req->arena, req->account.id,
			     r->collection_id, &f) != STORE_OK ||
	    store_item_get(req->store, req->arena, req->account.id,
			   r->request_id, true, item) != STORE_OK ||
	    item->folder_id != f.id || f.rights < STORE_RIGHT_WRITE)
		return -1;
	return 0;
}

/* The answer to the organizer (16.x SendResponse): a REPLY, or a COUNTER
 * when the attendee proposes another time, with the attendee's note. */
static int
mr_send_reply(struct eas_req *req, const struct mr_request *r,
	      const struct meeting_result *res, enum store_error *e_r)
{
	const struct wbxml_node *body =
		wbxml_child(r->send, EAS_AIRSYNCBASE_BODY);
	struct itip_reply rep = {
		.attendee = res->self_addr,
		.attendee_name = res->self_name,
		.answer = r->answer,
		.has_rid = r->has_instance,
		.rid = r->instance,
	};
	const char *to[1] = {res->organizer};
	const char *to_names[1] = {res->organizer_name};
	const char *ps = wbxml_child_text(
		r->send, EAS_MEETINGRESPONSE_PROPOSEDSTARTTIME);
	const char *pe =
		wbxml_child_text(r->send, EAS_MEETINGRESPONSE_PROPOSEDENDTIME);
	struct itip_mail m;
	const char *ics, *mime;
	size_t ics_len, mime_len;

	if (body != NULL)
		rep.comment = wbxml_child_text(body, EAS_AIRSYNCBASE_DATA);
	if (r->answer != ITIP_DECLINED && ps != NULL && pe != NULL &&
	    time_parse(ps, &rep.proposed_start) == 0 &&
	    time_parse(pe, &rep.proposed_end) == 0 &&
	    rep.proposed_end > rep.proposed_start)
		rep.propose = true;
	ics = itip_build_reply(req->arena, res->cal, res->ev, &rep, &ics_len);
	memset(&m, 0, sizeof(m));
	m.from = arena_printf(req->arena, "%s <%s>", res->self_name,
			      req->account.email);
	m.to = to;
	m.to_names = to_names;
	m.nto = 1;
	m.subject = arena_printf(req->arena, "%s: %s",
				 rep.propose ? "New Time Proposed"
					     : answer_prefix[r->answer],
				 res->summary);
	m.note = rep.comment;
	m.ics = ics;
	m.ics_len = ics_len;
	m.method = rep.propose ? ITIP_COUNTER : ITIP_REPLY;
	mime = itip_mail_build(req->arena, &m, &mime_len);
	return eas_send_generated(req, mime, mime_len, true, e_r);
}

static int
mr_one(struct eas_req *req, const struct meeting_self *me,
       const struct mr_request *r, const char **calendar_id_r)
{
	struct meeting_answer ans = {
		.answer = r->answer,
		.has_instance = r->has_instance,
		.instance = r->instance,
	};
	struct meeting_result res;
	struct store_item item;
	enum store_error e;

	if ((e = store_begin(req->store, true)) != STORE_OK)
		goto fail;
	if (mr_item(req, r, &item) < 0) {
		store_rollback(req->store);
		log_info("MeetingResponse: %s: no such item of %s",
			 r->long_id != NULL ? r->long_id : r->request_id,
			 req->account.login);
		return MR_INVALID;
	}
	e = meeting_respond(req->store, req->arena, me, &item, &ans, &res);
	if (e != STORE_OK)
		goto rollback;
	if (res.status != MR_OK) {
		store_rollback(req->store);
		log_info("MeetingResponse: %s: %s", item.server_id, res.why);
		return MR_INVALID;
	}
	if (r->send != NULL && res.organizer != NULL &&
	    !meeting_is_self(me, res.organizer) &&
	    mr_send_reply(req, r, &res, &e) < 0)
		goto rollback;
	if ((e = store_commit(req->store)) != STORE_OK)
		goto fail;
	log_info("MeetingResponse: %s %s %s%s", req->account.login,
		 answer_prefix[r->answer], item.server_id,
		 r->send != NULL ? ", reply sent" : "");
	*calendar_id_r = r->answer != ITIP_DECLINED ? res.calendar_id : NULL;
	return MR_OK;
rollback:
	store_rollback(req->store);
fail:
	log_error("MeetingResponse: %s", store_error_str(e));
	return MR_MAILBOX_ERROR;
}

enum eas_cmd_result
cmd_meetingresponse(struct eas_req *req, const struct wbxml_node *in,
		    struct wbxml_node **out_r)
{
	struct wbxml_node *root =
		wbxml_new(req->arena, EAS_MEETINGRESPONSE_MEETINGRESPONSE);
	const struct wbxml_node *n;
	struct meeting_self me;
	enum store_error e;
	size_t count = 0;

	*out_r = root;
	if (in == NULL || in->tag != EAS_MEETINGRESPONSE_MEETINGRESPONSE) {
		req->http_status = 400;
		log_info("MeetingResponse without a MeetingResponse body");
		return EAS_CMD_ERROR;
	}
	e = meeting_self_get(req->store, req->arena, req->account.id, &me);
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "MeetingResponse");
	wbxml_foreach(in, n)
	{
		struct mr_request r;
		struct wbxml_node *res;
		const char *cal_id = NULL;
		int status;

		if (n->tag != EAS_MEETINGRESPONSE_REQUEST)
			continue;
		if (++count > MR_MAX_REQUESTS) {
			log_info("MeetingResponse: more than %d requests, "
				 "rest ignored",
				 MR_MAX_REQUESTS);
			break;
		}
		status = mr_parse(req, n, &r) < 0
				 ? MR_INVALID
				 : mr_one(req, &me, &r, &cal_id);
		res = wbxml_add(req->arena, root, EAS_MEETINGRESPONSE_RESULT);
		if (r.request_id != NULL)
			wbxml_add_text(req->arena, res,
				       EAS_MEETINGRESPONSE_REQUESTID,
				       r.request_id);
		else if (r.long_id != NULL)
			wbxml_add_text(req->arena, res, EAS_SEARCH_LONGID,
				       r.long_id);
		wbxml_add_int(req->arena, res, EAS_MEETINGRESPONSE_STATUS,
			      status);
		if (cal_id != NULL)
			wbxml_add_text(req->arena, res,
				       EAS_MEETINGRESPONSE_CALENDARID, cal_id);
		if (status == MR_OK && r.has_instance)
			wbxml_add_text(req->arena, res,
				       EAS_MEETINGRESPONSE_INSTANCEID,
				       r.instance_text);
		req->eas_status = status;
	}
	return EAS_CMD_OK;
}

int
eas_meeting_organizer(struct eas_req *req, const struct store_item *old,
		      struct store_item *item, enum store_error *e_r)
{
	struct meeting_self me;
	struct meeting_message *msgs;
	size_t n;
	const char *error = NULL;

	if (req->version < EAS_V160)
		return 0;
	if ((*e_r = meeting_self_get(req->store, req->arena, req->account.id,
				     &me)) != STORE_OK)
		return -1;
	if (meeting_organizer_change(req->arena, &me, old, item, &msgs, &n,
				     &error) < 0) {
		log_info("meeting: %s: nothing sent: %s",
			 old != NULL ? old->server_id : "new item", error);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct itip_mail m = {
			.from = arena_printf(req->arena, "%s <%s>", me.name,
					     me.email),
			.to = msgs[i].to,
			.to_names = msgs[i].to_names,
			.nto = msgs[i].nto,
			.subject = msgs[i].subject,
			.ics = msgs[i].ics,
			.ics_len = msgs[i].ics_len,
			.method = msgs[i].method,
		};
		size_t len;
		const char *mime = itip_mail_build(req->arena, &m, &len);

		log_info("meeting: %s sends %s to %zu attendee(s)",
			 req->account.login, itip_method_name(m.method), m.nto);
		if (eas_send_generated(req, mime, len, true, e_r) < 0)
			return -1;
	}
	return 0;
}
