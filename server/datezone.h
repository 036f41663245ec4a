/* The zone of a device's date-only values (birthdays, all-day events
 * without a zone, task dates): clients send and expect the local midnight
 * of the date in UTC, so the server needs the device's zone. It is
 * learnt from the TimeZone of the calendar items the device creates (the
 * device blob "tz"), else it is the account's (the policy setting
 * CONV_ZONE_SETTING, `easctl user set USER --timezone Area/City`), else
 * the server's own zone. */
#ifndef EASD_DATEZONE_H
#define EASD_DATEZONE_H

#include "conv-tz.h"
#include "eas.h"

/* The zone for req's device, in req's arena; NULL = the server's (what
 * conv uses when conv_ctx.date_tz is NULL). */
const struct conv_tz *datezone_of(struct eas_req *req);

/* A calendar item the device added: when it carries a TimeZone, that is
 * the device's zone from now on. Store errors are logged, not returned:
 * the item itself is stored either way. */
void datezone_learn(struct eas_req *req, const struct wbxml_node *appdata);

#endif
