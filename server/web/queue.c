/* The admin page of the outbound queue: every recipient waiting to be
 * relayed, with a retry now and a delete of each. */
#include <string.h>

#include "log.h"
#include "util.h"
#include "web.h"

static void
page(struct web *w, const char *kind, const char *message)
{
	struct store_outbound *list;
	size_t n;
	enum store_error e;

	e = store_outbound_list(w->store, w->arena, 0, &list, &n);
	if (e != STORE_OK) {
		web_store_error(w, e, "listing the queue");
		return;
	}
	web_page_begin(w, "Outbound queue");
	if (message != NULL)
		web_notice(w, kind, message);
	if (n == 0) {
		web_printf(w, "<p>The queue is empty.</p>\n");
		web_page_end(w);
		return;
	}
	web_printf(w, "<div class=\"scroll\"><table><thead><tr><th>From</th>"
		      "<th>To</th><th>Queued</th><th>Attempts</th><th>Next "
		      "attempt</th><th>Gives up</th><th>Last reply</th><th>"
		      "</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct store_outbound *o = &list[i];

		web_printf(w,
			   "<tr><td>%s</td><td>%s</td><td>%s</td><td>%d</td>"
			   "<td>%s</td><td>%s</td><td>%s</td><td><form "
			   "method=\"post\" action=\"/queue\">",
			   o->envelope_from, o->rcpt, web_time(w, o->created),
			   o->attempts, web_time(w, o->next_attempt),
			   web_time(w, o->expires), o->last_reply);
		web_csrf_field(w);
		web_printf(
			w,
			"<input type=\"hidden\" name=\"id\" value=\"%lld\">"
			"<button type=\"submit\" name=\"action\" "
			"value=\"retry\">Retry</button> <button "
			"type=\"submit\" name=\"action\" value=\"delete\" "
			"class=\"danger\">Delete</button></form></td></tr>\n",
			(long long)o->id);
	}
	web_printf(w, "</tbody></table></div>\n");
	web_page_end(w);
}

void
web_queue(struct web *w)
{
	int64_t id = web_id(w, "id");
	const char *action = web_form(w, "action");
	enum store_error e;

	if (!w->post) {
		page(w, NULL, NULL);
		return;
	}
	if (id == 0 || action == NULL) {
		web_error(w, 400, "Unknown action.");
		return;
	}
	if (strcmp(action, "retry") == 0)
		e = store_outbound_retry(w->store, id, time_now());
	else if (strcmp(action, "delete") == 0)
		e = store_outbound_remove(w->store, id);
	else {
		web_error(w, 400, "Unknown action.");
		return;
	}
	if (e != STORE_OK) {
		web_store_error(w, e, "changing the queue");
		return;
	}
	log_info("web: admin action: queue entry %lld %s by %s from %s",
		 (long long)id, action, w->account.login, w->hr->remote_addr);
	page(w, "ok", strcmp(action, "retry") == 0 ? "Retried." : "Deleted.");
}
