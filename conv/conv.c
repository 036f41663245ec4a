/* The class dispatchers behind conv.h, ghosting of unsupported properties
 * on a Change (MS-ASCMD 2.2.3.168 Supported), and small helpers shared by
 * the per-class converters. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conv-int.h"
#include "conv-tz.h"
#include "util.h"

static const struct conv_tz *date_zone(const struct conv_ctx *ctx);

int
conv_fail(struct arena *a, const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*error_r = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return -1;
}

int
conv_parse_time(const char *s, int64_t *t_r)
{
	return s == NULL ? -1 : time_parse(s, t_r);
}

static int64_t
day_floor(int64_t t)
{
	return (t >= 0 ? t / 86400 : (t - 86399) / 86400) * 86400;
}

const struct conv_tz *
conv_date_zone(const struct conv_ctx *ctx)
{
	static const struct conv_tz utc;

	if (ctx != NULL && ctx->dates_as_utc)
		return &utc;
	return date_zone(ctx);
}

static const struct conv_tz *
date_zone(const struct conv_ctx *ctx)
{
	if (ctx != NULL && ctx->date_tz != NULL)
		return ctx->date_tz;
	return conv_tz_system();
}

int64_t
conv_local_to_utc(const struct conv_ctx *ctx, int64_t local)
{
	return conv_tz_local_to_utc(date_zone(ctx), local);
}

int64_t
conv_utc_to_local(const struct conv_ctx *ctx, int64_t t)
{
	return conv_tz_utc_to_local(date_zone(ctx), t);
}

int64_t
conv_date_to_eas(const struct conv_ctx *ctx, int64_t date)
{
	if (ctx != NULL && ctx->dates_as_utc)
		return date;
	return conv_tz_local_to_utc(date_zone(ctx), date);
}

int64_t
conv_date_from_eas(const struct conv_ctx *ctx, int64_t t)
{
	if (ctx != NULL && ctx->dates_as_utc)
		return day_floor(t + 3 * 3600);
	return day_floor(conv_tz_utc_to_local(date_zone(ctx), t) + 3 * 3600);
}

void
conv_hash_init(struct conv_hash *h)
{
	h->h = 2166136261u;
}

void
conv_hash_feed(struct conv_hash *h, const void *s, size_t len)
{
	const uint8_t *p = s;

	for (size_t i = 0; i < len; i++) {
		h->h ^= p[i];
		h->h *= 16777619u;
	}
}

void
conv_hash_final(const struct conv_hash *h, char out[9])
{
	static const char hex[] = "0123456789abcdef";
	uint32_t v = h->h;

	for (int i = 7; i >= 0; i--) {
		out[i] = hex[v & 15];
		v >>= 4;
	}
	out[8] = '\0';
}

void
conv_hash_hex(const void *s, size_t len, char out[9])
{
	struct conv_hash h;

	conv_hash_init(&h);
	conv_hash_feed(&h, s, len);
	conv_hash_final(&h, out);
}

bool
conv_hash_ok(const char *hex, size_t hexlen, const void *s, size_t len)
{
	char h[9];

	if (hex == NULL || hexlen != 8)
		return false;
	conv_hash_hex(s, len, h);
	return memcmp(h, hex, 8) == 0;
}

int
conv_body_get(const struct wbxml_node *appdata, const char **text_r,
	      size_t *len_r, int *type_r)
{
	const struct wbxml_node *body, *data;
	int64_t type = 1;

	body = wbxml_child(appdata, EAS_AIRSYNCBASE_BODY);
	if (body == NULL)
		return 0;
	if (wbxml_child_int(body, EAS_AIRSYNCBASE_TYPE, &type) < 0 ||
	    type < 1 || type > 4)
		type = 1;
	data = wbxml_child(body, EAS_AIRSYNCBASE_DATA);
	*text_r = data != NULL ? wbxml_text(data) : "";
	*len_r = data != NULL && data->data != NULL ? data->len : 0;
	*type_r = (int)type;
	return 1;
}

/* --- packing of nodes without a home --- */

#define PACK_MAX_DEPTH 16
#define PACK_MAX_NODES 4096

static void
pack_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_append(b, x, 4);
}

static void
pack_node(struct buf *b, const struct wbxml_node *n)
{
	const struct wbxml_node *c;
	uint8_t flags = (n->opaque ? 1 : 0) | (n->data != NULL ? 2 : 0);
	uint32_t count = 0;

	for (c = n->child; c != NULL; c = c->next)
		count++;
	buf_putc(b, (uint8_t)(n->tag >> 8));
	buf_putc(b, (uint8_t)n->tag);
	buf_putc(b, flags);
	if (n->data != NULL) {
		pack_u32(b, (uint32_t)n->len);
		buf_append(b, n->data, n->len);
	}
	pack_u32(b, count);
	for (c = n->child; c != NULL; c = c->next)
		pack_node(b, c);
}

char *
conv_nodes_pack(struct arena *a, const struct wbxml_node *const *nodes,
		size_t count)
{
	struct buf b;
	char *out;

	buf_init(&b, 0);
	pack_u32(&b, (uint32_t)count);
	for (size_t i = 0; i < count; i++)
		pack_node(&b, nodes[i]);
	out = arena_alloc(a, base64_encoded_len(b.len) + 1);
	base64_encode(b.data, b.len, out);
	buf_deinit(&b);
	return out;
}

struct unpack {
	const uint8_t *p, *end;
	size_t nodes;
};

static int
unpack_u32(struct unpack *u, uint32_t *v)
{
	if (u->end - u->p < 4)
		return -1;
	*v = (uint32_t)u->p[0] << 24 | (uint32_t)u->p[1] << 16 |
	     (uint32_t)u->p[2] << 8 | u->p[3];
	u->p += 4;
	return 0;
}

static int unpack_list(struct arena *a, struct unpack *u,
		       struct wbxml_node *parent, unsigned depth);

static int
unpack_node(struct arena *a, struct unpack *u, struct wbxml_node *parent,
	    unsigned depth)
{
	struct wbxml_node *n;
	uint16_t tag;
	uint8_t flags;
	uint32_t len;

	if (u->end - u->p < 3 || ++u->nodes > PACK_MAX_NODES)
		return -1;
	tag = (uint16_t)(u->p[0] << 8 | u->p[1]);
	flags = u->p[2];
	u->p += 3;
	n = wbxml_add(a, parent, tag);
	if ((flags & 2) != 0) {
		if (unpack_u32(u, &len) < 0 || (size_t)(u->end - u->p) < len)
			return -1;
		{
			uint8_t *d = arena_alloc(a, len + 1);

			memcpy(d, u->p, len);
			d[len] = '\0';
			n->data = d;
		}
		n->len = len;
		n->opaque = (flags & 1) != 0;
		u->p += len;
	}
	return unpack_list(a, u, n, depth + 1);
}

static int
unpack_list(struct arena *a, struct unpack *u, struct wbxml_node *parent,
	    unsigned depth)
{
	uint32_t count;

	if (depth > PACK_MAX_DEPTH || unpack_u32(u, &count) < 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		if (unpack_node(a, u, parent, depth) < 0)
			return -1;
	}
	return 0;
}

int
conv_nodes_unpack(struct arena *a, const char *b64, size_t len,
		  struct wbxml_node *parent)
{
	uint8_t *bytes = arena_alloc(a, base64_decoded_max(len));
	struct unpack u;
	long n = base64_decode(b64, len, bytes);

	if (n < 0)
		return -1;
	u.p = bytes;
	u.end = bytes + n;
	u.nodes = 0;
	if (unpack_list(a, &u, parent, 0) < 0 || u.p != u.end)
		return -1;
	return 0;
}

/* --- dispatchers --- */

/* Email is converted in conv-mail.c. */

static bool
tag_supported(const struct conv_ctx *ctx, uint16_t tag)
{
	for (size_t i = 0; i < ctx->nsupported; i++) {
		if (ctx->supported[i] == tag)
			return true;
	}
	return false;
}

/* MS-ASCMD 2.2.3.168: on a Change, properties the client did not list in
 * Supported are ghosted: the client does not know them, so their absence
 * means "unchanged", not "deleted". Build the effective ApplicationData:
 * the client's elements plus the old item's elements for unlisted tags. */
static int
ghost_merge(struct arena *a, const struct wbxml_node *appdata,
	    const struct conv_ctx *ctx, const struct store_item *old,
	    const struct wbxml_node **merged_r, const char **error_r)
{
	struct conv_ctx full = *ctx;
	struct wbxml_node *old_app, *merged;
	const struct wbxml_node *n;

	full.supported = NULL;
	full.nsupported = 0;
	full.nprefs = 1;
	memset(&full.prefs[0], 0, sizeof(full.prefs[0]));
	full.prefs[0].type = CONV_BODY_NATIVE;
	old_app = wbxml_new(a, appdata->tag);
	if (conv_to_eas(a, old, &full, old_app, error_r) < 0)
		return -1;
	merged = wbxml_new(a, appdata->tag);
	wbxml_foreach(appdata, n) wbxml_append(merged, wbxml_clone(a, n));
	wbxml_foreach(old_app, n)
	{
		if (n->tag == EAS_AIRSYNCBASE_NATIVEBODYTYPE)
			continue;
		if (!tag_supported(ctx, n->tag) &&
		    wbxml_child(appdata, n->tag) == NULL)
			wbxml_append(merged, wbxml_clone(a, n));
	}
	*merged_r = merged;
	return 0;
}

/* A client that sends an empty contacts:Picture for "unchanged" (the
 * quirk table says which): the stored picture stands in for it. */
static int
keep_empty_picture(struct arena *a, const struct wbxml_node **in,
		   const struct conv_ctx *ctx, const struct store_item *old,
		   const char **error_r)
{
	const struct wbxml_node *pic = wbxml_child(*in, EAS_CONTACTS_PICTURE);
	struct wbxml_node *old_app, *merged;
	const struct wbxml_node *n, *kept;
	struct conv_ctx full = *ctx;

	if (pic == NULL || (pic->data != NULL && pic->len > 0))
		return 0;
	full.supported = NULL;
	full.nsupported = 0;
	full.nprefs = 0;
	old_app = wbxml_new(a, (*in)->tag);
	if (conv_to_eas(a, old, &full, old_app, error_r) < 0)
		return -1;
	kept = wbxml_child(old_app, EAS_CONTACTS_PICTURE);
	merged = wbxml_new(a, (*in)->tag);
	wbxml_foreach(*in, n)
	{
		if (n->tag != EAS_CONTACTS_PICTURE)
			wbxml_append(merged, wbxml_clone(a, n));
		else if (kept != NULL)
			wbxml_append(merged, wbxml_clone(a, kept));
	}
	*in = merged;
	return 0;
}

/* Digest 5.16 (MS-ASCAL and MS-ASCNTC allow them): real clients send an
 * empty element to mean "no value" (<calendar:Reminder/>,
 * <contacts:Birthday/>, an empty <calendar:Exceptions/> or
 * <contacts:Categories/>). After ghosting, where its presence kept the old
 * value out, it is dropped, so on an Add the property is not set and on a
 * Change it is cleared, for every property of every class. A container
 * left empty goes too, and so does a Body without Data. */
static struct wbxml_node *
drop_empty(struct arena *a, const struct wbxml_node *n, unsigned depth)
{
	struct wbxml_node *copy;
	const struct wbxml_node *c;

	if (n->child == NULL)
		return n->data != NULL && n->len > 0 ? wbxml_clone(a, n) : NULL;
	if (depth > 32)
		return wbxml_clone(a, n);
	copy = wbxml_new(a, n->tag);
	wbxml_foreach(n, c)
	{
		struct wbxml_node *k = drop_empty(a, c, depth + 1);

		if (k != NULL)
			wbxml_append(copy, k);
	}
	if (copy->child == NULL)
		return NULL;
	if (n->tag == EAS_AIRSYNCBASE_BODY &&
	    wbxml_child(copy, EAS_AIRSYNCBASE_DATA) == NULL)
		return NULL;
	return copy;
}

int
conv_from_eas(struct arena *a, enum store_class cls,
	      const struct wbxml_node *appdata, const struct conv_ctx *ctx,
	      const struct store_item *old, struct store_item *item_r,
	      const char **error_r)
{
	const struct wbxml_node *in = appdata;
	int ret;

	if (cls == STORE_CLASS_EMAIL)
		return conv_email_change(a, appdata, old, item_r, error_r);
	if (old != NULL && ctx->supported != NULL && old->cls == cls &&
	    ghost_merge(a, appdata, ctx, old, &in, error_r) < 0)
		return -1;
	if (old != NULL && ctx->empty_picture_kept &&
	    cls == STORE_CLASS_CONTACTS && old->cls == cls &&
	    keep_empty_picture(a, &in, ctx, old, error_r) < 0)
		return -1;
	{
		struct wbxml_node *clean = drop_empty(a, in, 0);

		in = clean != NULL ? clean : wbxml_new(a, appdata->tag);
	}
	switch (cls) {
	case STORE_CLASS_CONTACTS:
		ret = conv_contact_from_eas(a, in, ctx, old, item_r, error_r);
		break;
	case STORE_CLASS_CALENDAR:
		ret = conv_calendar_from_eas(a, in, ctx, old, item_r, error_r);
		break;
	case STORE_CLASS_TASKS:
		ret = conv_task_from_eas(a, in, ctx, old, item_r, error_r);
		break;
	case STORE_CLASS_NOTES:
		ret = conv_note_from_eas(a, in, ctx, old, item_r, error_r);
		break;
	default:
		return conv_fail(a, error_r, "unsupported class %d", (int)cls);
	}
	if (ret == 0) {
		item_r->cls = cls;
		item_r->meta.size = (int64_t)item_r->data_len;
	}
	return ret;
}

int
conv_instance_from_eas(struct arena *a, enum store_class cls,
		       const char *instance_id,
		       const struct wbxml_node *appdata,
		       const struct conv_ctx *ctx, const struct store_item *old,
		       struct store_item *item_r, int64_t *instance_r,
		       const char **error_r)
{
	const struct wbxml_node *clean = NULL;

	if (cls != STORE_CLASS_CALENDAR || old == NULL ||
	    old->cls != STORE_CLASS_CALENDAR)
		return conv_fail(a, error_r,
				 "InstanceId on an item that is not an event");
	if (conv_parse_time(instance_id, instance_r) < 0)
		return conv_fail(a, error_r, "bad InstanceId '%s'",
				 instance_id != NULL ? instance_id : "");
	if (appdata != NULL) {
		clean = drop_empty(a, appdata, 0);
		if (clean == NULL)
			clean = wbxml_new(a, appdata->tag);
	}
	return conv_calendar_instance(a, old, *instance_r, appdata, clean, ctx,
				      item_r, error_r);
}

int
conv_to_eas(struct arena *a, const struct store_item *item,
	    const struct conv_ctx *ctx, struct wbxml_node *appdata,
	    const char **error_r)
{
	switch (item->cls) {
	case STORE_CLASS_EMAIL:
		return conv_email_to_eas(a, item, ctx, appdata, error_r);
	case STORE_CLASS_CONTACTS:
		return conv_contact_to_eas(a, item, ctx, appdata, error_r);
	case STORE_CLASS_CALENDAR:
		return conv_calendar_to_eas(a, item, ctx, appdata, error_r);
	case STORE_CLASS_TASKS:
		return conv_task_to_eas(a, item, ctx, appdata, error_r);
	case STORE_CLASS_NOTES:
		return conv_note_to_eas(a, item, ctx, appdata, error_r);
	default:
		return conv_fail(a, error_r, "unsupported class %d",
				 (int)item->cls);
	}
}

int
conv_from_standard(struct arena *a, enum store_class cls, const char *data,
		   size_t len, struct store_item *item_r, const char **error_r)
{
	int ret;

	switch (cls) {
	case STORE_CLASS_EMAIL:
		return conv_email_from_standard(a, data, len, item_r, error_r);
	case STORE_CLASS_CONTACTS:
		ret = conv_contact_from_standard(a, data, len, item_r, error_r);
		break;
	case STORE_CLASS_CALENDAR:
		ret = conv_ical_from_standard(a, STORE_CLASS_CALENDAR, data,
					      len, item_r, error_r);
		break;
	case STORE_CLASS_TASKS:
		ret = conv_ical_from_standard(a, STORE_CLASS_TASKS, data, len,
					      item_r, error_r);
		break;
	case STORE_CLASS_NOTES:
		ret = conv_note_from_standard(a, data, len, item_r, error_r);
		break;
	default:
		return conv_fail(a, error_r, "unsupported class %d", (int)cls);
	}
	if (ret == 0) {
		item_r->cls = cls;
		item_r->meta.size = (int64_t)item_r->data_len;
	}
	return ret;
}

/* Everything, the properties without a standard home included, is kept in
 * the stored text as X- properties, so the export is the stored data. */
int
conv_to_standard(struct arena *a, const struct store_item *item,
		 const char **data_r, size_t *len_r, const char **error_r)
{
	if (item->data == NULL)
		return conv_fail(a, error_r, "item has no data");
	*data_r = (const char *)item->data;
	*len_r = item->data_len;
	return 0;
}
