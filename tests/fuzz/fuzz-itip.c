/* libFuzzer target for meetings in mail: the input is a message delivered
 * (its text/calendar part found and read as iTIP), shown to a 14.1 and a
 * 16.1 device with Email:MeetingRequest, answered (REPLY, COUNTER for one
 * occurrence), and also taken as a stored meeting the organizer sends
 * (REQUEST, CANCEL) and as a bare iTIP object. Built by `make fuzz`. */
#include <string.h>

#include "arena.h"
#include "conv.h"
#include "itip.h"
#include "mail.h"
#include "util.h"
#include "wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
answer(struct arena *a, const char *ics, size_t len)
{
	struct itip it;
	const char *error = NULL, *out;
	size_t n;
	struct itip_reply r = {.attendee = "ada@example.org",
			       .attendee_name = "Ada",
			       .answer = ITIP_ACCEPTED,
			       .comment = "ok"};
	const char *only[] = {"bob@example.org"};

	if (itip_parse(a, ics, len, &it, &error) != 0)
		return;
	out = itip_build_reply(a, it.cal, it.ev, &r, &n);
	itip_parse(a, out, n, &it, &error);
	if (itip_parse(a, ics, len, &it, &error) != 0)
		return;
	r.answer = ITIP_TENTATIVE;
	r.has_rid = true;
	r.rid = 1797325200;
	r.propose = true;
	r.proposed_start = 1797328800;
	r.proposed_end = 1797332400;
	itip_build_reply(a, it.cal, it.ev, &r, &n);
	itip_global_obj_id(a, it.uid, it.rid);
	itip_build_organizer(a, ics, len, ITIP_REQUEST, "ada@example.org",
			     "Ada", NULL, 0, &n, &error);
	itip_build_organizer(a, ics, len, ITIP_CANCEL, "ada@example.org", "Ada",
			     only, 1, &n, &error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	const char *error = NULL, *ics;
	size_t len;
	unsigned versions[] = {141, 161};

	memset(&item, 0, sizeof(item));
	if (mail_item_from_mime(a, (const char *)data, size, &item, &error) ==
	    0) {
		item.id = 1;
		item.server_id = "1:1";
		for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
			struct conv_ctx ctx;
			struct wbxml_node *app =
				wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);

			memset(&ctx, 0, sizeof(ctx));
			ctx.version = versions[i];
			conv_to_eas(a, &item, &ctx, app, &error);
		}
		ics = mail_calendar_text(a, &item, &len);
		if (ics != NULL)
			answer(a, ics, len);
	}
	answer(a, (const char *)data, size);
	arena_free(&a);
	return 0;
}
