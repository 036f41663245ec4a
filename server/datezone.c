/* Which zone a device's date-only values are in: what its own calendar
 * items say, else its account's setting, else the server's. */
#include <string.h>

#include "conv.h"
#include "datezone.h"
#include "log.h"
#include "util.h"

#define DATEZONE_BLOB "tz"

const struct conv_tz *
datezone_of(struct eas_req *req)
{
	struct conv_tz *tz = arena_new_struct(req->arena, struct conv_tz);
	struct store_policy_kv *kv;
	const char *error;
	uint8_t *data;
	size_t len, n;

	if (req->have_device &&
	    store_device_blob_get(req->store, req->arena, req->device.id,
				  DATEZONE_BLOB, &data, &len) == STORE_OK &&
	    conv_tz_decode(req->arena, (const char *)data, len, tz, &error) ==
		    0)
		return tz;
	if (store_policy_get(req->store, req->arena, req->account.id, &kv,
			     &n) != STORE_OK)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, CONV_ZONE_SETTING) == 0 &&
		    conv_tz_from_name(kv[i].value, time_now(), tz) == 0)
			return tz;
	return NULL;
}

void
datezone_learn(struct eas_req *req, const struct wbxml_node *appdata)
{
	const struct wbxml_node *n =
		wbxml_child(appdata, EAS_CALENDAR_TIMEZONE);
	struct conv_tz tz;
	const char *error;
	uint8_t *old;
	size_t len;
	enum store_error e;

	if (n == NULL || n->len == 0 || !req->have_device ||
	    conv_tz_decode(req->arena, wbxml_text(n), n->len, &tz, &error) < 0)
		return;
	if (store_device_blob_get(req->store, req->arena, req->device.id,
				  DATEZONE_BLOB, &old, &len) == STORE_OK &&
	    len == n->len && memcmp(old, n->data, len) == 0)
		return;
	e = store_device_blob_set(req->store, req->device.id, DATEZONE_BLOB,
				  n->data, n->len);
	if (e != STORE_OK)
		log_warn("cannot keep the device's zone: %s",
			 store_error_str(e));
	else
		log_info("device zone learnt from a calendar item (UTC%+d "
			 "min)",
			 -tz.bias);
}
