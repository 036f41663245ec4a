/* libFuzzer target for the iCalendar and time-zone conversions: the input
 * is one VCALENDAR imported as an event and as a task, each sent to a
 * device (16.1 or 14.1), sent back as a Change (merged into the stored
 * object) and sent again; an occurrence of the event is deleted as a 16.1
 * device would; the input is split as an .ics file for import and its
 * objects merged as for export; and the input is read as an EAS TimeZone
 * blob. Built by `make fuzz`. */
#include <string.h>

#include "arena.h"
#include "bundle.h"
#include "conv-tz.h"
#include "conv.h"
#include "util.h"
#include "wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(struct arena *a, enum store_class cls, const char *data, size_t size,
	   const struct conv_ctx *ctx)
{
	struct store_item item, back, one;
	struct wbxml_node *app, *again;
	const char *error = NULL, *text;
	int64_t instance;
	size_t len;

	if (conv_from_standard(a, cls, data, size, &item, &error) != 0)
		return;
	item.id = 1;
	item.server_id = "1:1";
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	if (conv_to_eas(a, &item, ctx, app, &error) == 0 &&
	    conv_from_eas(a, cls, app, ctx, &item, &back, &error) == 0) {
		again = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		back.server_id = item.server_id;
		conv_to_eas(a, &back, ctx, again, &error);
	}
	if (cls == STORE_CLASS_CALENDAR &&
	    conv_instance_from_eas(a, cls, "20240102T090000Z", NULL, ctx, &item,
				   &one, &instance, &error) == 0) {
		app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		one.server_id = item.server_id;
		conv_to_eas(a, &one, ctx, app, &error);
	}
	conv_to_standard(a, &item, &text, &len, &error);
}

/* The input as an .ics file for `easctl import`: split, each object
 * merged into an export as `easctl export` does. */
static void
split_merge(struct arena *a, const uint8_t *data, size_t size)
{
	char *copy = arena_alloc(a, size + 1);
	struct bundle_reader *r;
	struct bundle_writer w;
	struct bundle_obj obj;
	const char *error = NULL;
	int rc;

	memcpy(copy, data, size);
	copy[size] = '\0';
	r = bundle_reader_new(a, BUNDLE_ICS, "fuzz.ics", copy, size, &error);
	if (r == NULL)
		return;
	bundle_writer_init(&w, STORE_CLASS_CALENDAR);
	while ((rc = bundle_next(r, &obj, &error)) != 0) {
		if (rc < 0 || obj.data == NULL)
			continue;
		eas_assert(strlen(obj.data) == obj.len);
		if (bundle_writer_note(&w, obj.data, obj.len, &error) == 0)
			eas_assert(bundle_writer_add(&w, a, obj.data, obj.len,
						     &error) == 0);
	}
	bundle_writer_finish(&w);
	bundle_writer_deinit(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	static struct conv_tz zone; /* UTC-3:30 */
	static bool have_zone;
	struct conv_ctx ctx;
	struct conv_tz tz;
	const char *error = NULL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.version = size % 2 == 0 ? 161 : 141;
	if (!have_zone)
		have_zone =
			conv_tz_from_name("America/St_Johns", 0, &zone) == 0;
	if (size % 3 == 0 && have_zone)
		ctx.date_tz = &zone;
	round_trip(a, STORE_CLASS_CALENDAR, (const char *)data, size, &ctx);
	round_trip(a, STORE_CLASS_TASKS, (const char *)data, size, &ctx);
	split_merge(a, data, size);
	if (conv_tz_decode(a, (const char *)data, size, &tz, &error) == 0) {
		/* a blob that decodes encodes and converts */
		eas_assert(conv_tz_encode(a, &tz) != NULL);
		conv_tz_utc_to_local(&tz, 1700000000);
		conv_tz_offset_at(&tz, 1700000000);
	}
	arena_free(&a);
	return 0;
}
