/* Client quirks: the one place that knows which client does what the
 * specifications do not say (quirks.c has the table, each entry with the
 * client and the evidence). Handlers ask for a behaviour by its flag,
 * never by a client's name. */
#ifndef EASD_QUIRKS_H
#define EASD_QUIRKS_H

#include <stdbool.h>

#include "conv.h"
#include "eas.h"

enum quirk {
	/* A Sync with nothing to say is answered in full (every
	 * collection with its unchanged key and Status 1), never with the
	 * empty body MS-ASCMD 2.2.1.21.2 allows. */
	QUIRK_NO_EMPTY_SYNC = 1 << 0,
	/* Never WBXML OPAQUE: text goes as an inline string, binary that
	 * cannot be a string is left out. */
	QUIRK_NO_OPAQUE = 1 << 1,
	/* An empty contacts:Picture in a Change means "unchanged". */
	QUIRK_EMPTY_PICTURE_KEEPS = 1 << 2,
	/* Birthdays and other dates are the UTC day (00:00Z), not the local
	 * midnight of the device's zone. */
	QUIRK_DATES_AS_UTC = 1 << 3,
};

/* The quirks of a client by its DeviceType and User-Agent (either may be
 * NULL). */
unsigned quirks_of(const char *device_type, const char *user_agent);
/* The same for a request. */
unsigned quirks_of_req(const struct eas_req *req);
/* Comma-separated names of the flags ("" when none), in a, for logs. */
const char *quirks_names(struct arena *a, unsigned flags);

/* What the quirks change in how conv reads and writes items. */
void quirks_conv_ctx(unsigned flags, struct conv_ctx *ctx);
/* What they change in a response tree before it is encoded. */
void quirks_response(unsigned flags, struct wbxml_node *tree);

#endif
