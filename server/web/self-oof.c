/* Self-service: automatic replies (the same settings a phone sets with
 * Settings Oof): off, on, or on between two times; one message for
 * colleagues and one for everybody else. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "web.h"

#define OOF_TEXT_MAX (16 * 1024)

/* "2026-03-05T14:30" (datetime-local, taken as UTC) to unix time. */
static int
parse_local(const char *s, int64_t *t_r)
{
	struct tm tm;
	int y, mo, d, h, mi;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d", &y, &mo, &d, &h, &mi) != 5)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	*t_r = (int64_t)timegm(&tm);
	return 0;
}

static const char *
format_local(struct web *w, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char s[32];

	if (t <= 0)
		return "";
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M", &tm);
	return arena_strdup(w->arena, s);
}

static void
form(struct web *w, const struct store_oof *oof, const char *kind,
     const char *message)
{
	const char *internal = oof->msg[STORE_OOF_INTERNAL].text;
	const char *external = oof->msg[STORE_OOF_EXTERNAL].text;

	web_page_begin(w, "Automatic replies");
	if (message != NULL)
		web_notice(w, kind, message);
	web_printf(w, "<form method=\"post\" action=\"/account/oof\" "
		      "class=\"stack\">");
	web_csrf_field(w);
	web_printf(w,
		   "<label><span><input type=\"radio\" name=\"state\" "
		   "value=\"0\"%s> Off</span></label>"
		   "<label><span><input type=\"radio\" name=\"state\" "
		   "value=\"1\"%s> On</span></label>"
		   "<label><span><input type=\"radio\" name=\"state\" "
		   "value=\"2\"%s> On between (UTC)</span></label>"
		   "<label>From<input type=\"datetime-local\" name=\"start\" "
		   "value=\"%s\"></label>"
		   "<label>Until<input type=\"datetime-local\" name=\"end\" "
		   "value=\"%s\"></label>"
		   "<label>Reply to colleagues<textarea name=\"internal\" "
		   "rows=\"4\">%s</textarea></label>"
		   "<label>Reply to everybody else (empty: none)<textarea "
		   "name=\"external\" rows=\"4\">%s</textarea></label>"
		   "<button type=\"submit\" name=\"save\">Save</button>"
		   "</form>\n",
		   oof->state == 0 ? " checked" : "",
		   oof->state == 1 ? " checked" : "",
		   oof->state == 2 ? " checked" : "",
		   format_local(w, oof->start), format_local(w, oof->end),
		   internal != NULL ? internal : "",
		   external != NULL ? external : "");
	web_page_end(w);
}

void
web_self_oof(struct web *w)
{
	struct store_oof oof;
	const char *state, *internal, *external;
	enum store_error e;

	e = store_oof_get(w->store, w->arena, w->account.id, &oof);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the automatic replies");
		return;
	}
	if (!w->post) {
		form(w, &oof, "ok",
		     web_query(w, "saved") != NULL ? "Saved." : NULL);
		return;
	}
	state = web_form(w, "state");
	internal = web_form(w, "internal");
	external = web_form(w, "external");
	memset(&oof, 0, sizeof(oof));
	if (state == NULL || strlen(state) != 1 || state[0] < '0' ||
	    state[0] > '2') {
		w->hr->status = 400;
		form(w, &oof, "error", "Choose off, on, or on between.");
		return;
	}
	oof.state = state[0] - '0';
	if (oof.state == 2 &&
	    (parse_local(web_form(w, "start"), &oof.start) < 0 ||
	     parse_local(web_form(w, "end"), &oof.end) < 0 ||
	     oof.end <= oof.start)) {
		w->hr->status = 400;
		form(w, &oof, "error",
		     "Give a start and an end after it for a scheduled "
		     "reply.");
		return;
	}
	if ((internal != NULL && strlen(internal) > OOF_TEXT_MAX) ||
	    (external != NULL && strlen(external) > OOF_TEXT_MAX)) {
		w->hr->status = 400;
		form(w, &oof, "error", "The message is too long.");
		return;
	}
	oof.msg[STORE_OOF_INTERNAL] = (struct store_oof_message){
		internal != NULL && internal[0] != '\0', internal, false};
	oof.msg[STORE_OOF_KNOWN] = (struct store_oof_message){
		external != NULL && external[0] != '\0', external, false};
	oof.msg[STORE_OOF_EXTERNAL] = oof.msg[STORE_OOF_KNOWN];
	e = store_oof_set(w->store, w->account.id, &oof);
	if (e != STORE_OK) {
		web_store_error(w, e, "saving the automatic replies");
		return;
	}
	log_info("web: self-service: user=%s set automatic replies (state "
		 "%d)",
		 w->account.login, oof.state);
	web_redirect(w, "/oof?saved=1");
}
