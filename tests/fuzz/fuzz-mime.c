/* libFuzzer target for MIME parsing at delivery: the input is a message
 * as LMTP or easctl deliver would take it, converted for a device asking
 * for plain text (truncated), HTML and MIME, with its first attachments
 * read back as ItemOperations would, and with a Sender set as
 * send-on-behalf does; and read by the light reader and by GMime alone,
 * which must store the same whenever the light reader takes it. Built by
 * `make fuzz`. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "compose.h"
#include "conv.h"
#include "mail-int.h"
#include "mail.h"
#include "util.h"
#include "wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The light reader against GMime: a difference is a crash. */
static void
light_as_gmime(struct arena *a, const char *data, size_t size)
{
	struct store_item li, gi;
	const char *error = NULL;

	memset(&li, 0, sizeof(li));
	memset(&gi, 0, sizeof(gi));
	if (mail_item_parse(a, data, size, MAIL_PARSE_LIGHT, 1700000000, &li,
			    &error) != 0)
		return;
	if (mail_item_parse(a, data, size, MAIL_PARSE_GMIME, 1700000000, &gi,
			    &error) != 0 ||
	    li.extra_len != gi.extra_len ||
	    memcmp(li.extra, gi.extra, li.extra_len) != 0 ||
	    li.meta.date != gi.meta.date || li.meta.size != gi.meta.size ||
	    (li.meta.subject == NULL) != (gi.meta.subject == NULL) ||
	    (li.meta.subject != NULL &&
	     strcmp(li.meta.subject, gi.meta.subject) != 0) ||
	    (li.meta.message_id == NULL) != (gi.meta.message_id == NULL) ||
	    (li.meta.message_id != NULL &&
	     strcmp(li.meta.message_id, gi.meta.message_id) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = {1, 2, 4};
	struct arena *a = arena_new(0);
	struct store_item item;
	const char *error = NULL, *type, *name;
	const uint8_t *att;
	size_t len;

	/* send-on-behalf rewrites the header of what a client sends */
	mail_set_sender(a, (const char *)data, size, "Cy, \"the\" helper",
			"cy@example.org", &len);
	light_as_gmime(a, (const char *)data, size);
	if (mail_item_from_mime(a, (const char *)data, size, &item, &error) ==
	    0) {
		item.id = 1;
		item.server_id = "5:1";
		for (size_t i = 0; i < N_ELEMENTS(types); i++) {
			struct conv_ctx ctx;
			struct wbxml_node *app =
				wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);

			memset(&ctx, 0, sizeof(ctx));
			ctx.version = i == 1 ? 121 : 161;
			ctx.nprefs = 1;
			ctx.prefs[0].type = types[i];
			ctx.prefs[0].has_truncation = i == 0;
			ctx.prefs[0].truncation_size = 64;
			ctx.prefs[0].preview = i == 0 ? 32 : 0;
			ctx.mime_support = 2;
			ctx.item_server_id = item.server_id;
			conv_email_to_eas(a, &item, &ctx, app, &error);
		}
		/* each read parses the message again: the first few, then
		 * one past any there are */
		for (unsigned k = 0; k < 4; k++)
			if (mail_attachment_get(a, &item, k, &att, &len, &type,
						&name, &error) != 1)
				break;
		mail_attachment_get(a, &item, 100000, &att, &len, &type, &name,
				    &error);
	}
	arena_free(&a);
	return 0;
}
