/* Notes (MS-ASNOTE) <-> note text.
 *
 * Stored format: RFC 822 style header lines, a blank line, then the body:
 *   Subject: Shopping
 *   Message-Class: IPM.StickyNote
 *   Last-Modified: 2024-03-05T14:30:00.000Z
 *   Category: Home                  (one line per category)
 *   Body-Type: 2                    (only when the body is HTML)
 *   X-EAS-Nodes: <base64>           (elements we have no home for)
 *
 *   Milk, eggs
 * A value holding a line break, another control character or an outer
 * space is written as "<Name>-B64: <base64 of the UTF-8 value>". A text
 * without such a header (imported plain text) is all body, and its first
 * line is the subject. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv-int.h"
#include "util.h"

#define NOTE_MAX_CATEGORIES 300
#define NOTE_MAX_UNKNOWN 64

static void
put_header(struct arena *a, struct buf *b, const char *name, const char *v,
	   size_t len)
{
	bool plain = len == 0 || (v[0] != ' ' && v[len - 1] != ' ');

	for (size_t i = 0; plain && i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			plain = false;
	}
	if (plain) {
		buf_printf(b, "%s: ", name);
		buf_append(b, v, len);
	} else {
		char *enc = arena_alloc(a, base64_encoded_len(len) + 1);

		base64_encode(v, len, enc);
		buf_printf(b, "%s-B64: %s", name, enc);
	}
	buf_puts(b, "\n");
}

static const char *
node_text(const struct wbxml_node *n, size_t *len_r)
{
	*len_r = n->data != NULL ? n->len : 0;
	return wbxml_text(n);
}

static bool is_header_line(const char *p, const char *end);

/* The headers Notes maps (a -B64 form is the same header). */
static bool
note_mapped(const char *name, size_t len)
{
	static const char *const names[] = {"Subject",	     "Message-Class",
					    "Last-Modified", "Category",
					    "Body-Type",     "X-EAS-Nodes"};

	if (len > 4 && strncasecmp(name + len - 4, "-B64", 4) == 0)
		len -= 4;
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (len == strlen(names[i]) &&
		    strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

static void
keep_unmapped(struct buf *b, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	if (!is_header_line(p, end))
		return; /* a plain text note: no headers */
	while (p < end && *p != '\n' &&
	       !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		const char *colon = memchr(p, ':', (size_t)(next - p));

		if (colon != NULL && !note_mapped(p, (size_t)(colon - p)))
			buf_append(b, p, (size_t)(next - p));
		p = next;
	}
}

int
conv_note_from_eas(struct arena *a, const struct wbxml_node *appdata,
		   const struct conv_ctx *ctx, const struct store_item *old,
		   struct store_item *item_r, const char **error_r)
{
	const struct wbxml_node *n, *c, *unknown[NOTE_MAX_UNKNOWN];
	const char *body = "", *lm = NULL, *v;
	size_t body_len = 0, nunknown = 0, len, ncat = 0;
	int body_type = 1;
	int64_t t;
	struct buf b;
	char iso[32];
	struct store_item_meta meta;

	(void)ctx;
	/* item_r is only written on success: no partial output. */
	memset(&meta, 0, sizeof(meta));
	buf_init(&b, 0);
	/* A Change keeps the header lines of the stored note that Notes
	 * does not map, as they are. */
	if (old != NULL && old->data != NULL && old->cls == STORE_CLASS_NOTES)
		keep_unmapped(&b, (const char *)old->data, old->data_len);
	wbxml_foreach(appdata, n)
	{
		switch (n->tag) {
		case EAS_NOTES_SUBJECT:
			v = node_text(n, &len);
			put_header(a, &b, "Subject", v, len);
			meta.subject = arena_strndup(a, v, len);
			break;
		case EAS_NOTES_MESSAGECLASS:
			v = node_text(n, &len);
			put_header(a, &b, "Message-Class", v, len);
			break;
		case EAS_NOTES_LASTMODIFIEDDATE:
			lm = wbxml_text(n);
			if (conv_parse_time(lm, &t) < 0) {
				buf_deinit(&b);
				return conv_fail(
					a, error_r,
					"Notes: bad LastModifiedDate '%s'", lm);
			}
			put_header(a, &b, "Last-Modified", lm, strlen(lm));
			meta.date = t;
			break;
		case EAS_NOTES_CATEGORIES:
			wbxml_foreach(n, c)
			{
				if (++ncat > NOTE_MAX_CATEGORIES) {
					buf_deinit(&b);
					return conv_fail(
						a, error_r,
						"Notes: too many categories");
				}
				v = node_text(c, &len);
				put_header(a, &b, "Category", v, len);
			}
			break;
		case EAS_AIRSYNCBASE_BODY:
			conv_body_get(appdata, &body, &body_len, &body_type);
			break;
		case EAS_AIRSYNCBASE_NATIVEBODYTYPE:
			break;
		default:
			if (nunknown == NOTE_MAX_UNKNOWN) {
				buf_deinit(&b);
				return conv_fail(
					a, error_r,
					"Notes: too many unknown elements");
			}
			unknown[nunknown++] = n;
			break;
		}
	}
	if (lm == NULL) {
		/* The server keeps the modification time when the client
		 * does not send one. */
		meta.date = time_now();
		time_format_iso(meta.date, iso);
		put_header(a, &b, "Last-Modified", iso, strlen(iso));
	}
	if (body_type != 1)
		buf_printf(&b, "Body-Type: %d\n", body_type);
	if (nunknown > 0)
		buf_printf(&b, "X-EAS-Nodes: %s\n",
			   conv_nodes_pack(a, unknown, nunknown));
	buf_puts(&b, "\n");
	buf_append(&b, body, body_len);
	item_r->meta = meta;
	item_r->data = arena_memdup(a, b.data, b.len + 1);
	item_r->data_len = b.len;
	item_r->extra = NULL;
	item_r->extra_len = 0;
	buf_deinit(&b);
	return 0;
}

/* One parsed note: header values point into the arena. */
struct note {
	const char *subject, *mclass, *lm, *nodes;
	const char *cats[NOTE_MAX_CATEGORIES];
	size_t ncats;
	int body_type;
	const char *body;
	size_t body_len;
};

static int
note_value(struct arena *a, const char *v, size_t len, bool b64, const char **r)
{
	uint8_t *out;
	long n;

	if (!b64) {
		*r = arena_strndup(a, v, len);
		return 0;
	}
	out = arena_alloc(a, base64_decoded_max(len) + 1);
	n = base64_decode(v, len, out);
	if (n < 0)
		return -1;
	out[n] = '\0';
	*r = (const char *)out;
	return 0;
}

static bool
is_header_line(const char *p, const char *end)
{
	for (; p < end && *p != '\n'; p++) {
		if (*p == ':')
			return true;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	}
	return false;
}

static int
note_parse(struct arena *a, const char *data, size_t len, struct note *nt,
	   const char **error_r)
{
	const char *p = data, *end = data + len;

	memset(nt, 0, sizeof(*nt));
	nt->body_type = 1;
	if (!is_header_line(p, end)) {
		/* Plain text: the first line is the subject. */
		const char *eol = memchr(p, '\n', len);
		size_t sl = eol != NULL ? (size_t)(eol - p) : len;

		if (sl > 0 && p[sl - 1] == '\r')
			sl--;
		nt->subject = arena_strndup(a, p, EAS_MIN(sl, 255));
		nt->body = data;
		nt->body_len = len;
		return 0;
	}
	while (p < end && *p != '\n' &&
	       !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon, *v, *ve;
		size_t nl;
		bool b64;
		const char **dst = NULL;

		if (eol == NULL)
			eol = end;
		ve = eol;
		if (ve > p && ve[-1] == '\r')
			ve--;
		colon = memchr(p, ':', (size_t)(ve - p));
		if (colon == NULL)
			return conv_fail(a, error_r, "Notes: bad header line");
		nl = (size_t)(colon - p);
		b64 = nl > 4 && strncasecmp(colon - 4, "-B64", 4) == 0;
		if (b64)
			nl -= 4;
		v = colon + 1;
		if (v < ve && *v == ' ')
			v++;
#define HDR(s) (nl == sizeof(s) - 1 && strncasecmp(p, s, nl) == 0)
		if (HDR("Subject"))
			dst = &nt->subject;
		else if (HDR("Message-Class"))
			dst = &nt->mclass;
		else if (HDR("Last-Modified"))
			dst = &nt->lm;
		else if (HDR("X-EAS-Nodes"))
			dst = &nt->nodes;
		else if (HDR("Category")) {
			if (nt->ncats == NOTE_MAX_CATEGORIES)
				return conv_fail(a, error_r,
						 "Notes: too many categories");
			dst = &nt->cats[nt->ncats++];
		} else if (HDR("Body-Type"))
			nt->body_type = ve - v == 1 && *v == '2' ? 2 : 1;
#undef HDR
		if (dst != NULL &&
		    note_value(a, v, (size_t)(ve - v), b64, dst) < 0)
			return conv_fail(a, error_r, "Notes: bad base64 value");
		p = eol < end ? eol + 1 : end;
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end)
		p++;
	nt->body = p;
	nt->body_len = (size_t)(end - p);
	return 0;
}

int
conv_note_to_eas(struct arena *a, const struct store_item *item,
		 const struct conv_ctx *ctx, struct wbxml_node *appdata,
		 const char **error_r)
{
	struct note *nt = arena_alloc(a, sizeof(*nt));

	if (note_parse(a, (const char *)item->data, item->data_len, nt,
		       error_r) < 0)
		return -1;
	if (nt->subject != NULL)
		wbxml_add_text(a, appdata, EAS_NOTES_SUBJECT, nt->subject);
	if (nt->mclass != NULL)
		wbxml_add_text(a, appdata, EAS_NOTES_MESSAGECLASS, nt->mclass);
	if (nt->lm != NULL)
		wbxml_add_text(a, appdata, EAS_NOTES_LASTMODIFIEDDATE, nt->lm);
	if (nt->ncats > 0) {
		struct wbxml_node *cats =
			wbxml_add(a, appdata, EAS_NOTES_CATEGORIES);

		for (size_t i = 0; i < nt->ncats; i++)
			wbxml_add_text(a, cats, EAS_NOTES_CATEGORY,
				       nt->cats[i]);
	}
	conv_add_body(a, appdata, ctx, nt->body, nt->body_len, nt->body_type);
	if (nt->nodes != NULL &&
	    conv_nodes_unpack(a, nt->nodes, strlen(nt->nodes), appdata) < 0)
		return conv_fail(a, error_r, "Notes: bad X-EAS-Nodes");
	return 0;
}

int
conv_note_from_standard(struct arena *a, const char *data, size_t len,
			struct store_item *item_r, const char **error_r)
{
	struct note *nt = arena_alloc(a, sizeof(*nt));
	int64_t t;

	if (note_parse(a, data, len, nt, error_r) < 0)
		return -1;
	memset(&item_r->meta, 0, sizeof(item_r->meta));
	if (nt->lm != NULL && conv_parse_time(nt->lm, &t) == 0)
		item_r->meta.date = t;
	item_r->meta.subject = nt->subject;
	{
		char *copy = arena_alloc(a, len + 1);

		memcpy(copy, data, len);
		copy[len] = '\0';
		item_r->data = (const uint8_t *)copy;
	}
	item_r->data_len = len;
	item_r->extra = NULL;
	item_r->extra_len = 0;
	return 0;
}
