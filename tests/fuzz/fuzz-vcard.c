/* libFuzzer target for the vCard reader and the Contacts mapping: the
 * input is one vCard (import), sent to a device at 16.1 or 14.1, sent back
 * by it as a Change (merged into the stored vCard), sent again, and
 * exported. Built by `make fuzz`. */
#include <string.h>

#include "arena.h"
#include "conv-tz.h"
#include "conv.h"
#include "util.h"
#include "wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct store_item item, back;
	static struct conv_tz tz; /* UTC+14 */
	static bool have_tz;
	struct conv_ctx ctx;
	struct wbxml_node *app, *again;
	const char *error = NULL, *text;
	size_t len;

	memset(&ctx, 0, sizeof(ctx));
	/* the input's length picks the version and the device's zone, so
	 * every input exercises one fixed path */
	ctx.version = size % 2 == 0 ? 161 : 141;
	if (!have_tz)
		have_tz = conv_tz_from_name("Pacific/Kiritimati", 0, &tz) == 0;
	if (size % 3 == 0 && have_tz)
		ctx.date_tz = &tz;
	ctx.dates_as_utc = size % 5 == 0;
	if (conv_from_standard(a, STORE_CLASS_CONTACTS, (const char *)data,
			       size, &item, &error) == 0) {
		item.id = 1;
		item.server_id = "1:1";
		app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		if (conv_to_eas(a, &item, &ctx, app, &error) == 0 &&
		    conv_from_eas(a, STORE_CLASS_CONTACTS, app, &ctx, &item,
				  &back, &error) == 0) {
			again = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
			back.server_id = item.server_id;
			eas_assert(conv_to_eas(a, &back, &ctx, again, &error) ==
				   0);
		}
		conv_to_standard(a, &item, &text, &len, &error);
	}
	arena_free(&a);
	return 0;
}
