/* The client quirk table (issue 12): clients keyed by DeviceType and/or
 * User-Agent patterns (shell globs, case-insensitive), each entry with the
 * client, what it does and where that is shown. Everything a quirk
 * changes happens through the flags of quirks.h. */
#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

#include "quirks.h"
#include "util.h"

struct quirk_entry {
	const char *device_type; /* glob, NULL = any */
	const char *user_agent;	 /* glob, NULL = any */
	unsigned flags;
};

static const struct quirk_entry table[] = {
	/* pyactivesync (monperrus/pyactivesync, DeviceType "pyactivesync",
	 * User-Agent python-requests/...): Client.sync_folder() hands
	 * every Sync response body to its WBXML reader and fails on the
	 * empty body a server may send when nothing changed (MS-ASCMD
	 * 2.2.1.21.2). It gets the full form instead: the collections with
	 * their unchanged keys and Status 1. */
	{"pyactivesync", NULL, QUIRK_NO_EMPTY_SYNC},
	/* Thunderbird's EAS add-on, EAS-4-TbSync (DeviceType "TbSync",
	 * User-Agent "Thunderbird ActiveSync"): wbxmltools.js
	 * convert2xml() masks each token with 0x3F before it looks at it,
	 * so OPAQUE (0xC3) is read as an inline string (0x03) that runs to
	 * the next NUL, and its own OPAQUE branch is never reached. */
	{"TbSync", NULL, QUIRK_NO_OPAQUE},
	{NULL, "Thunderbird ActiveSync*", QUIRK_NO_OPAQUE},
	/* iOS and iPadOS Mail (DeviceType iPhone/iPad/iPod, User-Agent
	 * Apple-...): sends an empty contacts:Picture on every edit of a
	 * contact whose picture did not come from the device (Horde
	 * ActiveSync, Horde_ActiveSync_Device::
	 * QUIRK_INCORRECTLY_SENDS_EMPTY_PICTURE_TAG, iOS 8.2 and later).
	 * With "an empty element clears" every such edit would delete the
	 * picture. */
	{"iPhone*", NULL, QUIRK_EMPTY_PICTURE_KEEPS},
	{"iPad*", NULL, QUIRK_EMPTY_PICTURE_KEEPS},
	{"iPod*", NULL, QUIRK_EMPTY_PICTURE_KEEPS},
	/* Gmail for Android (User-Agent Android-Mail/...): sends birthdays
	 * at 12:00 UTC of the date and shows what it gets as the UTC date;
	 * Samsung's own Contacts (DeviceType SAMSUNG...) sends and expects
	 * 00:00 UTC (Horde ActiveSync, Horde_ActiveSync_Device::
	 * normalizePoomContactsDates()). The device's local midnight would
	 * show a day early east of UTC. */
	{NULL, "*Android-Mail*", QUIRK_DATES_AS_UTC},
	{"SAMSUNG*", NULL, QUIRK_DATES_AS_UTC},
};

static bool
matches(const char *pattern, const char *s)
{
	return pattern == NULL ||
	       (s != NULL && fnmatch(pattern, s, FNM_CASEFOLD) == 0);
}

unsigned
quirks_of(const char *device_type, const char *user_agent)
{
	unsigned flags = 0;

	for (size_t i = 0; i < N_ELEMENTS(table); i++)
		if (matches(table[i].device_type, device_type) &&
		    matches(table[i].user_agent, user_agent))
			flags |= table[i].flags;
	return flags;
}

unsigned
quirks_of_req(const struct eas_req *req)
{
	return quirks_of(req->device_type, req->user_agent);
}

const char *
quirks_names(struct arena *a, unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {
		{QUIRK_NO_EMPTY_SYNC, "no-empty-sync"},
		{QUIRK_NO_OPAQUE, "no-opaque"},
		{QUIRK_EMPTY_PICTURE_KEEPS, "empty-picture-keeps"},
		{QUIRK_DATES_AS_UTC, "dates-as-utc"},
	};
	const char *r = "";

	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (flags & names[i].flag)
			r = arena_printf(a, "%s%s%s", r, *r != '\0' ? "," : "",
					 names[i].name);
	return r;
}

void
quirks_conv_ctx(unsigned flags, struct conv_ctx *ctx)
{
	ctx->empty_picture_kept = (flags & QUIRK_EMPTY_PICTURE_KEEPS) != 0;
	ctx->dates_as_utc = (flags & QUIRK_DATES_AS_UTC) != 0;
}

/* Whether bytes can go as an inline string: UTF-8 without NUL. */
static bool
is_string(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint8_t c = p[i];
		size_t n = c < 0x80   ? 1
			   : c < 0xc2 ? 0
			   : c < 0xe0 ? 2
			   : c < 0xf0 ? 3
			   : c < 0xf5 ? 4
				      : 0;

		if (c == 0 || n == 0 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static void
no_opaque(struct wbxml_node *n, unsigned depth)
{
	struct wbxml_node **pp = &n->child;

	n->last = NULL;
	while (*pp != NULL) {
		struct wbxml_node *c = *pp;

		if (c->opaque && c->data != NULL &&
		    !is_string(c->data, c->len)) {
			*pp = c->next; /* no string can carry it */
			continue;
		}
		c->opaque = false;
		if (depth < 64)
			no_opaque(c, depth + 1);
		n->last = c;
		pp = &c->next;
	}
}

void
quirks_response(unsigned flags, struct wbxml_node *tree)
{
	if (tree != NULL && (flags & QUIRK_NO_OPAQUE))
		no_opaque(tree, 0);
}
