/* The Email class (MS-ASEMAIL, MS-ASAIRS bodies and attachments): a stored
 * message -> ApplicationData from its extra record (mail.c), and a
 * client's Change of Read, Flag and Categories. */
#include <glib.h>
#include <string.h>

#include "compose.h"
#include "conv-int.h"
#include "itip.h"
#include "mail-int.h"
#include "util.h"

static bool
pref_servable(const struct conv_body_pref *p, const struct conv_ctx *ctx,
	      const struct mail_info *mi)
{
	switch (p->type) {
	case 1:
	case 2:
		return true;
	case 4:
		return ctx->mime_support == 2 ||
		       (ctx->mime_support == 1 && mi->smime);
	default:
		return false;
	}
}

static void
add_email_body(struct arena *a, struct wbxml_node *appdata,
	       const struct conv_ctx *ctx, const struct store_item *item,
	       const struct mail_info *mi)
{
	struct conv_body_pref pref = {.type = 1};
	struct conv_ctx one;
	struct wbxml_node *body;
	const char *text;
	size_t len, cut;
	bool found = false, truncated;

	for (size_t i = 0; i < ctx->nprefs; i++) {
		if (pref_servable(&ctx->prefs[i], ctx, mi)) {
			pref = ctx->prefs[i];
			found = true;
			break;
		}
	}
	if (!found && ctx->nprefs > 0) {
		/* nothing we can serve in the asked form: plain text with
		 * the first preference's limits */
		pref = ctx->prefs[0];
		pref.type = 1;
	}
	if (pref.type != 4) {
		/* Pick the source for the asked type, then let the shared
		 * helper do truncation, AllOrNone and Preview. */
		if (pref.type == 2 && mi->html.present) {
			text = mail_body_text(a, item, &mi->html, &len);
		} else if (pref.type == 2) {
			const char *t =
				mail_body_text(a, item, &mi->text, &len);

			text = mail_plain_to_html(a, t, len, &len);
		} else {
			text = mail_plain_text(a, item, mi, &len);
		}
		one = *ctx;
		one.prefs[0] = pref;
		one.prefs[0].preview = 0;
		one.nprefs = 1;
		conv_add_body(a, appdata, &one, text, len, pref.type);
		body = appdata->last;
		/* our own Preview: it skips style and script content */
		if (pref.preview > 0 && ctx->version >= 140 && body != NULL &&
		    body->tag == EAS_AIRSYNCBASE_BODY) {
			if (pref.type != 1)
				text = mail_plain_text(a, item, mi, &len);
			wbxml_add_text(
				a, body, EAS_AIRSYNCBASE_PREVIEW,
				mail_preview(a, text, len, pref.preview));
		}
		return;
	}
	/* MIME (type 4): the whole stored message */
	text = item->data != NULL ? (const char *)item->data : "";
	len = item->data != NULL ? item->data_len : 0;
	truncated = pref.has_truncation && len > pref.truncation_size;
	body = wbxml_add(a, appdata, EAS_AIRSYNCBASE_BODY);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_TYPE, 4);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE, (int64_t)len);
	if (truncated)
		wbxml_add_int(a, body, EAS_AIRSYNCBASE_TRUNCATED, 1);
	cut = truncated ? (pref.all_or_none ? 0 : pref.truncation_size) : len;
	if (cut > 0) {
		/* 8-bit MIME that is not UTF-8 goes as OPAQUE (servers may
		 * send Data either way). */
		bool opaque = !mail_utf8_valid(text, cut);

		if (truncated) {
			char *copy = arena_alloc(a, cut + 1);

			memcpy(copy, text, cut);
			copy[cut] = '\0';
			text = copy;
		}
		wbxml_add_ref(a, body, EAS_AIRSYNCBASE_DATA, text, cut, opaque);
	}
	if (pref.preview > 0 && ctx->version >= 140) {
		const char *pt = mail_plain_text(a, item, mi, &len);

		wbxml_add_text(a, body, EAS_AIRSYNCBASE_PREVIEW,
			       mail_preview(a, pt, len, pref.preview));
	}
}

static void
add_flag(struct arena *a, struct wbxml_node *appdata,
	 const struct mail_info *mi)
{
	struct wbxml_node *flag = wbxml_add(a, appdata, EAS_EMAIL_FLAG);

	for (size_t i = 0; i < mi->nflag; i++)
		wbxml_add_text(a, flag, mi->flag[i].tag, mi->flag[i].value);
}

static void
add_categories(struct arena *a, struct wbxml_node *appdata,
	       const struct mail_info *mi, bool always)
{
	struct wbxml_node *cats;

	if (mi->ncategories == 0 && !always)
		return;
	cats = wbxml_add(a, appdata, EAS_EMAIL_CATEGORIES);
	for (size_t i = 0; i < mi->ncategories; i++)
		wbxml_add_text(a, cats, EAS_EMAIL_CATEGORY, mi->categories[i]);
}

static void
add_attachments(struct arena *a, struct wbxml_node *appdata,
		const struct conv_ctx *ctx, const struct mail_info *mi)
{
	struct wbxml_node *atts;

	if (mi->natts == 0)
		return;
	atts = wbxml_add(a, appdata, EAS_AIRSYNCBASE_ATTACHMENTS);
	for (size_t i = 0; i < mi->natts; i++) {
		const struct mail_att *at = &mi->atts[i];
		struct wbxml_node *n =
			wbxml_add(a, atts, EAS_AIRSYNCBASE_ATTACHMENT);

		wbxml_add_text(a, n, EAS_AIRSYNCBASE_DISPLAYNAME,
			       at->name != NULL ? at->name : "attachment");
		wbxml_add_textf(
			a, n, EAS_AIRSYNCBASE_FILEREFERENCE, "%s:%zu",
			ctx->item_server_id != NULL ? ctx->item_server_id : "0",
			i);
		wbxml_add_int(a, n, EAS_AIRSYNCBASE_METHOD, at->method);
		wbxml_add_int(a, n, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE,
			      at->size);
		if (at->cid != NULL && *at->cid != '\0')
			wbxml_add_text(a, n, EAS_AIRSYNCBASE_CONTENTID,
				       at->cid);
		if (at->is_inline)
			wbxml_add_int(a, n, EAS_AIRSYNCBASE_ISINLINE, 1);
		/* MS-ASAIRS 2.2.2.13 ContentType: not in 12.1 */
		if (ctx->version >= 140 && at->ctype != NULL)
			wbxml_add_text(a, n, EAS_AIRSYNCBASE_CONTENTTYPE,
				       at->ctype);
	}
}

/* --- Email:MeetingRequest (MS-ASEMAIL 2.2.2.48) --- */

/* Calendar tags and their Email MeetingRequest equivalents. */
static const struct {
	uint16_t cal, mail;
	bool iso; /* compact dateTime in the calendar, ISO here */
} meeting_map[] = {
	{EAS_CALENDAR_ALLDAYEVENT, EAS_EMAIL_ALLDAYEVENT, false},
	{EAS_CALENDAR_STARTTIME, EAS_EMAIL_STARTTIME, true},
	{EAS_CALENDAR_DTSTAMP, EAS_EMAIL_DTSTAMP, true},
	{EAS_CALENDAR_ENDTIME, EAS_EMAIL_ENDTIME, true},
};

static const struct {
	uint16_t cal, mail;
} recurrence_map[] = {
	{EAS_CALENDAR_TYPE, EAS_EMAIL_TYPE},
	{EAS_CALENDAR_INTERVAL, EAS_EMAIL_INTERVAL},
	{EAS_CALENDAR_UNTIL, EAS_EMAIL_UNTIL},
	{EAS_CALENDAR_OCCURRENCES, EAS_EMAIL_OCCURRENCES},
	{EAS_CALENDAR_DAYOFWEEK, EAS_EMAIL_DAYOFWEEK},
	{EAS_CALENDAR_DAYOFMONTH, EAS_EMAIL_DAYOFMONTH},
	{EAS_CALENDAR_WEEKOFMONTH, EAS_EMAIL_WEEKOFMONTH},
	{EAS_CALENDAR_MONTHOFYEAR, EAS_EMAIL_MONTHOFYEAR},
	{EAS_CALENDAR_CALENDARTYPE, EAS_EMAIL2_CALENDARTYPE},
	{EAS_CALENDAR_ISLEAPMONTH, EAS_EMAIL2_ISLEAPMONTH},
	{EAS_CALENDAR_FIRSTDAYOFWEEK, EAS_EMAIL2_FIRSTDAYOFWEEK},
};

static const struct wbxml_node *
child_of(const struct wbxml_node *n, uint16_t tag)
{
	for (const struct wbxml_node *c = n->child; c != NULL; c = c->next)
		if (c->tag == tag)
			return c;
	return NULL;
}

static void
add_iso(struct arena *a, struct wbxml_node *parent, uint16_t tag, int64_t t)
{
	char buf[32];

	time_format_iso(t, buf);
	wbxml_add_text(a, parent, tag, buf);
}

/* Whether the organizer asked for answers: yes unless every attendee
 * says RSVP=FALSE. */
static bool
rsvp_requested(icalcomponent *ev)
{
	bool any = false;

	for (icalproperty *p = icalcomponent_get_first_property(
		     ev, ICAL_ATTENDEE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		icalparameter *r = icalproperty_get_first_parameter(
			p, ICAL_RSVP_PARAMETER);

		any = true;
		if (r == NULL || icalparameter_get_rsvp(r) == ICAL_RSVP_TRUE)
			return true;
	}
	return !any;
}

/* The MeetingRequest container of an invitation or a cancellation: the
 * meeting as the calendar class reads it, in the Email namespace. */
static void
add_meeting_request(struct arena *a, struct wbxml_node *appdata,
		    const struct conv_ctx *ctx, const struct store_item *item,
		    const struct mail_info *mi)
{
	struct store_item tmp;
	struct wbxml_node *cal_app, *mr;
	const struct wbxml_node *n;
	struct itip it;
	const char *ics, *text, *error, *v;
	icalproperty *p;
	size_t len;
	bool recurring;

	if (strcmp(mi->message_class, "IPM.Schedule.Meeting.Request") != 0 &&
	    strcmp(mi->message_class, "IPM.Schedule.Meeting.Canceled") != 0)
		return;
	ics = mail_body_text(a, item, &mi->cal, &len);
	if (itip_parse(a, ics, len, &it, &error) < 0)
		return;
	/* one occurrence of a series: shown as the meeting it is */
	if (it.has_rid)
		while ((p = icalcomponent_get_first_property(
				it.ev, ICAL_RECURRENCEID_PROPERTY)) != NULL) {
			icalcomponent_remove_property(it.ev, p);
			icalproperty_free(p);
		}
	text = conv_ical_text(a, it.cal, &len);
	memset(&tmp, 0, sizeof(tmp));
	tmp.cls = STORE_CLASS_CALENDAR;
	tmp.data = (const uint8_t *)text;
	tmp.data_len = len;
	cal_app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	if (conv_calendar_to_eas(a, &tmp, ctx, cal_app, &error) < 0)
		return;
	recurring = child_of(cal_app, EAS_CALENDAR_RECURRENCE) != NULL;
	mr = wbxml_add(a, appdata, EAS_EMAIL_MEETINGREQUEST);
	for (size_t i = 0; i < N_ELEMENTS(meeting_map); i++) {
		n = child_of(cal_app, meeting_map[i].cal);
		if (n == NULL && meeting_map[i].mail == EAS_EMAIL_DTSTAMP) {
			add_iso(a, mr, EAS_EMAIL_DTSTAMP, item->meta.date);
			continue;
		}
		if (n == NULL)
			continue;
		if (meeting_map[i].iso) {
			int64_t t;

			if (time_parse(wbxml_text(n), &t) == 0)
				add_iso(a, mr, meeting_map[i].mail, t);
		} else {
			wbxml_add_text(a, mr, meeting_map[i].mail,
				       wbxml_text(n));
		}
	}
	wbxml_add_int(a, mr, EAS_EMAIL_INSTANCETYPE,
		      it.has_rid  ? 3
		      : recurring ? 1
				  : 0);
	if ((n = child_of(cal_app, EAS_AIRSYNCBASE_LOCATION)) != NULL)
		wbxml_append(mr, wbxml_clone(a, n));
	else if ((n = child_of(cal_app, EAS_CALENDAR_LOCATION)) != NULL)
		wbxml_add_text(a, mr, EAS_EMAIL_LOCATION, wbxml_text(n));
	if (it.organizer != NULL)
		wbxml_add_text(a, mr, EAS_EMAIL_ORGANIZER,
			       it.organizer_name != NULL
				       ? arena_printf(a, "\"%s\" <%s>",
						      it.organizer_name,
						      it.organizer)
				       : it.organizer);
	if (it.has_rid)
		add_iso(a, mr, EAS_EMAIL_RECURRENCEID, it.rid);
	if ((n = child_of(cal_app, EAS_CALENDAR_REMINDER)) != NULL) {
		int64_t m;

		/* minutes in the calendar, seconds here */
		if (str_to_int64(wbxml_text(n), &m) == 0)
			wbxml_add_int(a, mr, EAS_EMAIL_REMINDER, m * 60);
	}
	wbxml_add_int(a, mr, EAS_EMAIL_RESPONSEREQUESTED,
		      rsvp_requested(it.ev) ? 1 : 0);
	if ((n = child_of(cal_app, EAS_CALENDAR_RECURRENCE)) != NULL) {
		struct wbxml_node *rs = wbxml_add(a, mr, EAS_EMAIL_RECURRENCES);
		struct wbxml_node *r = wbxml_add(a, rs, EAS_EMAIL_RECURRENCE);

		for (size_t i = 0; i < N_ELEMENTS(recurrence_map); i++) {
			const struct wbxml_node *c =
				child_of(n, recurrence_map[i].cal);

			if (c == NULL || (recurrence_map[i].mail >> 8 == 0x16 &&
					  ctx->version < 140))
				continue;
			wbxml_add_text(a, r, recurrence_map[i].mail,
				       wbxml_text(c));
		}
	}
	if ((n = child_of(cal_app, EAS_CALENDAR_SENSITIVITY)) != NULL)
		wbxml_add_text(a, mr, EAS_EMAIL_SENSITIVITY, wbxml_text(n));
	/* the time as the organizer means it, not as it shows until
	 * answered */
	v = conv_ical_get_x(a, it.ev, "X-MICROSOFT-CDO-INTENDEDSTATUS");
	if (v != NULL) {
		static const char *const busy[] = {"FREE", "TENTATIVE", "BUSY",
						   "OOF", "WORKINGELSEWHERE"};

		for (size_t i = 0; i < N_ELEMENTS(busy); i++)
			if (str_ieq(v, busy[i]))
				wbxml_add_int(a, mr, EAS_EMAIL_BUSYSTATUS,
					      (int64_t)i);
	} else if ((n = child_of(cal_app, EAS_CALENDAR_BUSYSTATUS)) != NULL) {
		wbxml_add_text(a, mr, EAS_EMAIL_BUSYSTATUS, wbxml_text(n));
	}
	if ((n = child_of(cal_app, EAS_CALENDAR_TIMEZONE)) != NULL)
		wbxml_add_text(a, mr, EAS_EMAIL_TIMEZONE, wbxml_text(n));
	if (ctx->version < 160)
		wbxml_add_text(a, mr, EAS_EMAIL_GLOBALOBJID,
			       itip_global_obj_id(a, it.uid, it.rid));
	if (ctx->version >= 140) {
		v = conv_ical_get_x(a, it.ev, "X-MICROSOFT-DISALLOW-COUNTER");
		wbxml_add_int(a, mr, EAS_EMAIL_DISALLOWNEWTIMEPROPOSAL,
			      v != NULL && str_ieq(v, "TRUE") ? 1 : 0);
	}
	if (ctx->version >= 141)
		wbxml_add_int(a, mr, EAS_EMAIL2_MEETINGMESSAGETYPE,
			      it.method == ITIP_CANCEL ? 0
			      : it.sequence > 0	       ? 2
						       : 1);
	if (ctx->version >= 160)
		wbxml_add_text(a, mr, EAS_CALENDAR_UID, it.uid);
}

int
conv_email_to_eas(struct arena *a, const struct store_item *item,
		  const struct conv_ctx *ctx, struct wbxml_node *appdata,
		  const char **error_r)
{
	struct mail_info mi;
	char date[32];

	if (mail_info_get(a, item, &mi, error_r) < 0)
		return -1;
	if (mi.to != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_TO, mi.to);
	if (mi.cc != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_CC, mi.cc);
	if (mi.from != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_FROM, mi.from);
	wbxml_add_text(a, appdata, EAS_EMAIL_SUBJECT,
		       mi.subject != NULL ? mi.subject : "");
	if (mi.reply_to != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_REPLYTO, mi.reply_to);
	time_format_iso(item->meta.date, date);
	wbxml_add_text(a, appdata, EAS_EMAIL_DATERECEIVED, date);
	if (mi.display_to != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_DISPLAYTO, mi.display_to);
	if (mi.thread_topic != NULL)
		wbxml_add_text(a, appdata, EAS_EMAIL_THREADTOPIC,
			       mi.thread_topic);
	/* always: an old Android client reads a missing Importance as low */
	wbxml_add_int(a, appdata, EAS_EMAIL_IMPORTANCE, mi.importance);
	wbxml_add_int(a, appdata, EAS_EMAIL_READ, item->meta.read ? 1 : 0);
	add_attachments(a, appdata, ctx, &mi);
	add_email_body(a, appdata, ctx, item, &mi);
	wbxml_add_text(a, appdata, EAS_EMAIL_MESSAGECLASS,
		       mi.message_class != NULL ? mi.message_class
						: "IPM.Note");
	if (mi.cal.present && mi.message_class != NULL)
		add_meeting_request(a, appdata, ctx, item, &mi);
	wbxml_add_int(a, appdata, EAS_EMAIL_INTERNETCPID,
		      mi.cpid > 0 ? mi.cpid : 65001);
	add_flag(a, appdata, &mi);
	wbxml_add_text(a, appdata, EAS_EMAIL_CONTENTCLASS,
		       mi.content_class != NULL
			       ? mi.content_class
			       : "urn:content-classes:message");
	wbxml_add_int(a, appdata, EAS_AIRSYNCBASE_NATIVEBODYTYPE,
		      mi.native_type);
	if (ctx->version >= 140) {
		if (mi.has_conv_id)
			wbxml_add_opaque(a, appdata, EAS_EMAIL2_CONVERSATIONID,
					 mi.conv_id, sizeof(mi.conv_id));
		if (mi.has_conv_index)
			wbxml_add_opaque(a, appdata,
					 EAS_EMAIL2_CONVERSATIONINDEX,
					 mi.conv_index, sizeof(mi.conv_index));
		if (mi.last_verb > 0) {
			wbxml_add_int(a, appdata, EAS_EMAIL2_LASTVERBEXECUTED,
				      mi.last_verb);
			if (mi.last_verb_time != NULL)
				wbxml_add_text(a, appdata,
					       EAS_EMAIL2_LASTVERBEXECUTIONTIME,
					       mi.last_verb_time);
		}
		add_categories(a, appdata, &mi, false);
	}
	if (ctx->version >= 160) {
		bool draft = ctx->folder_type == EAS_FOLDER_DRAFTS;

		wbxml_add_int(a, appdata, EAS_EMAIL2_ISDRAFT, draft ? 1 : 0);
		if (draft && mi.bcc != NULL)
			wbxml_add_text(a, appdata, EAS_EMAIL2_BCC, mi.bcc);
	}
	return 0;
}

int
conv_email_flags_to_eas(struct arena *a, const struct store_item *item,
			const struct conv_ctx *ctx, struct wbxml_node *appdata,
			const char **error_r)
{
	struct mail_info mi;

	if (mail_info_get(a, item, &mi, error_r) < 0)
		return -1;
	wbxml_add_int(a, appdata, EAS_EMAIL_READ, item->meta.read ? 1 : 0);
	add_flag(a, appdata, &mi);
	if (ctx->version >= 140) {
		add_categories(a, appdata, &mi, true);
		/* replied or forwarded on another device (SmartReply) */
		if (mi.last_verb > 0) {
			wbxml_add_int(a, appdata, EAS_EMAIL2_LASTVERBEXECUTED,
				      mi.last_verb);
			if (mi.last_verb_time != NULL)
				wbxml_add_text(a, appdata,
					       EAS_EMAIL2_LASTVERBEXECUTIONTIME,
					       mi.last_verb_time);
		}
	}
	return 0;
}

/* The Flag children a client may set (MS-ASEMAIL 2.2.2.34). */
static bool
flag_tag_allowed(uint16_t tag)
{
	static const uint16_t tags[] = {
		EAS_EMAIL_STATUS,	  EAS_EMAIL_FLAGTYPE,
		EAS_EMAIL_COMPLETETIME,	  EAS_TASKS_STARTDATE,
		EAS_TASKS_UTCSTARTDATE,	  EAS_TASKS_DUEDATE,
		EAS_TASKS_UTCDUEDATE,	  EAS_TASKS_DATECOMPLETED,
		EAS_TASKS_REMINDERSET,	  EAS_TASKS_REMINDERTIME,
		EAS_TASKS_SUBJECT,	  EAS_TASKS_ORDINALDATE,
		EAS_TASKS_SUBORDINALDATE,
	};

	for (size_t i = 0; i < N_ELEMENTS(tags); i++) {
		if (tags[i] == tag)
			return true;
	}
	return false;
}

int
conv_email_change(struct arena *a, const struct wbxml_node *appdata,
		  const struct store_item *old, struct store_item *item_r,
		  const char **error_r)
{
	struct mail_info mi;
	const struct wbxml_node *n, *c;
	int64_t v;

	if (old == NULL) {
		*error_r = "email items cannot be added by a client";
		return -1;
	}
	if (mail_info_get(a, old, &mi, error_r) < 0)
		return -1;
	*item_r = *old;
	wbxml_foreach(appdata, n)
	{
		switch (n->tag) {
		case EAS_EMAIL_READ:
			if (str_to_int64(wbxml_text(n), &v) < 0 ||
			    (v != 0 && v != 1)) {
				*error_r = "Read is not 0 or 1";
				return -1;
			}
			item_r->meta.read = v == 1;
			break;
		case EAS_EMAIL_FLAG:
			mi.nflag = 0;
			item_r->meta.flag_status = 0;
			mi.flag = arena_alloc(a, MAIL_MAX_FLAG_FIELDS *
							 sizeof(*mi.flag));
			wbxml_foreach(n, c)
			{
				const char *t = wbxml_text(c);

				if (!flag_tag_allowed(c->tag) ||
				    mi.nflag >= MAIL_MAX_FLAG_FIELDS)
					continue;
				if (strlen(t) > MAIL_MAX_FIELD) {
					*error_r = "Flag value too long";
					return -1;
				}
				if (c->tag == EAS_EMAIL_STATUS) {
					if (str_to_int64(t, &v) < 0 || v < 0 ||
					    v > 2) {
						*error_r = "bad Flag Status";
						return -1;
					}
					item_r->meta.flag_status = (int)v;
				}
				mi.flag[mi.nflag].tag = c->tag;
				mi.flag[mi.nflag].value = arena_strdup(a, t);
				mi.nflag++;
			}
			/* a Flag without Status clears it */
			if (item_r->meta.flag_status == 0)
				mi.nflag = 0;
			break;
		case EAS_EMAIL_CATEGORIES:
			mi.ncategories = 0;
			mi.categories = arena_alloc(a, MAIL_MAX_CATEGORIES *
							       sizeof(char *));
			wbxml_foreach(n, c)
			{
				const char *t = wbxml_text(c);

				if (c->tag != EAS_EMAIL_CATEGORY)
					continue;
				if (mi.ncategories >= MAIL_MAX_CATEGORIES ||
				    strlen(t) > MAIL_MAX_FIELD) {
					*error_r = "too many or too long "
						   "categories";
					return -1;
				}
				mi.categories[mi.ncategories++] =
					arena_strdup(a, t);
			}
			break;
		default:
			/* MS-ASEMAIL: other properties are read-only;
			 * ignored */
			break;
		}
	}
	mail_info_write(a, &mi, &item_r->extra, &item_r->extra_len);
	return 0;
}

const char *
conv_text_as(struct arena *a, const char *text, bool is_html, bool want_html)
{
	size_t len;

	if (text == NULL)
		return "";
	if (is_html == want_html)
		return text;
	if (want_html)
		return mail_plain_to_html(a, text, strlen(text), &len);
	return mail_html_to_text(a, text, strlen(text), &len);
}

/* --- drafts (16.x) --- */

#define DRAFT_MAX_ATTACHMENTS 100

/* airsyncbase:Content: OPAQUE bytes, or base64 text when a client sends
 * a string. */
static int
draft_content(struct arena *a, const struct wbxml_node *n,
	      const uint8_t **data_r, size_t *len_r)
{
	long dl;
	uint8_t *out;

	if (n == NULL || n->data == NULL) {
		*data_r = (const uint8_t *)"";
		*len_r = 0;
		return 0;
	}
	if (n->opaque) {
		*data_r = n->data;
		*len_r = n->len;
		return 0;
	}
	out = arena_alloc(a, base64_decoded_max(n->len) + 1);
	dl = base64_decode((const char *)n->data, n->len, out);
	if (dl < 0)
		return -1;
	*data_r = out;
	*len_r = (size_t)dl;
	return 0;
}

static int
draft_attachments(struct arena *a, const struct wbxml_node *atts,
		  struct mail_draft *d, const char ***added_r, size_t *nadded_r,
		  const char **error_r)
{
	const struct wbxml_node *n;
	struct mail_draft_att *add =
		arena_zalloc(a, DRAFT_MAX_ATTACHMENTS * sizeof(*add));
	unsigned *del = arena_alloc(a, DRAFT_MAX_ATTACHMENTS * sizeof(*del));
	const char **ids = arena_alloc(a, DRAFT_MAX_ATTACHMENTS * sizeof(*ids));

	wbxml_foreach(atts, n)
	{
		if (n->tag == EAS_AIRSYNCBASE_ADD) {
			struct mail_draft_att *at = &add[d->nadd];
			const char *cid =
				wbxml_child_text(n, EAS_AIRSYNCBASE_CLIENTID);
			int64_t v = 0;

			if (d->nadd == DRAFT_MAX_ATTACHMENTS || cid == NULL)
				return conv_fail(a, error_r,
						 "draft: attachment without "
						 "ClientId, or too many");
			if (draft_content(
				    a, wbxml_child(n, EAS_AIRSYNCBASE_CONTENT),
				    &at->data, &at->len) < 0)
				return conv_fail(a, error_r,
						 "draft: Content is not "
						 "base64");
			at->name = wbxml_child_text(
				n, EAS_AIRSYNCBASE_DISPLAYNAME);
			at->ctype = wbxml_child_text(
				n, EAS_AIRSYNCBASE_CONTENTTYPE);
			at->content_id =
				wbxml_child_text(n, EAS_AIRSYNCBASE_CONTENTID);
			at->is_inline =
				wbxml_child_int(n, EAS_AIRSYNCBASE_ISINLINE,
						&v) > 0 &&
				v == 1;
			ids[d->nadd++] = cid;
		} else if (n->tag == EAS_AIRSYNCBASE_DELETE) {
			const char *ref = wbxml_child_text(
				n, EAS_AIRSYNCBASE_FILEREFERENCE);
			const char *sid;
			unsigned idx;

			if (ref == NULL ||
			    mail_file_reference_parse(a, ref, &sid, &idx) < 0)
				return conv_fail(a, error_r,
						 "draft: bad FileReference");
			if (d->ndel < DRAFT_MAX_ATTACHMENTS)
				del[d->ndel++] = idx;
		}
	}
	d->add = add;
	d->del = del;
	*added_r = ids;
	*nadded_r = d->nadd;
	return 0;
}

int
conv_draft_from_eas(struct arena *a, const struct wbxml_node *appdata,
		    const char *from, const struct store_item *old,
		    struct store_item *item_r, const char ***added_r,
		    size_t *nadded_r, bool *send_r, const char **error_r)
{
	struct mail_draft d;
	const struct wbxml_node *n;
	const char *data;
	size_t len;
	int64_t v;

	memset(&d, 0, sizeof(d));
	d.from = from;
	d.importance = -1;
	*added_r = NULL;
	*nadded_r = 0;
	*send_r = false;
	wbxml_foreach(appdata, n)
	{
		switch (n->tag) {
		case EAS_EMAIL_TO:
			d.to = wbxml_text(n);
			break;
		case EAS_EMAIL_CC:
			d.cc = wbxml_text(n);
			break;
		case EAS_EMAIL2_BCC:
			d.bcc = wbxml_text(n);
			break;
		case EAS_EMAIL_SUBJECT:
			d.subject = wbxml_text(n);
			break;
		case EAS_EMAIL_IMPORTANCE:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 2)
				return conv_fail(a, error_r,
						 "draft: bad Importance");
			d.importance = (int)v;
			break;
		case EAS_AIRSYNCBASE_BODY:
			d.have_body =
				conv_body_get(appdata, &d.body, &d.body_len,
					      &d.body_type) == 1;
			break;
		case EAS_AIRSYNCBASE_ATTACHMENTS:
			if (draft_attachments(a, n, &d, added_r, nadded_r,
					      error_r) < 0)
				return -1;
			break;
		case EAS_EMAIL2_SEND:
			*send_r = true;
			break;
		default:
			break;
		}
	}
	if (mail_draft_build(a, &d, old, &data, &len, error_r) < 0 ||
	    mail_item_from_mime(a, data, len, item_r, error_r) < 0)
		return -1;
	item_r->meta.read = true;
	return 0;
}

int
conv_email_from_standard(struct arena *a, const char *data, size_t len,
			 struct store_item *item_r, const char **error_r)
{
	return mail_item_from_mime(a, data, len, item_r, error_r);
}
