/* WBXML 1.3 as EAS uses it (MS-ASWBXML 2.1.2): decoder, encoder and the
 * tree API. The decoder is iterative with an explicit stack, so a hostile
 * nesting depth costs heap bounded by limits, never C stack. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wbxml.h"
#include "xalloc.h"

/* Generated from eas-codepages.tsv (build/gen/wbxml-table.c). */
extern const char *const wbxml_page_names[WBXML_MAX_PAGE + 1];
extern const char *const wbxml_tag_names[WBXML_MAX_PAGE + 1][64];

/* WBXML 1.3 section 7.1 global tokens. */
enum {
	WBXML_SWITCH_PAGE = 0x00,
	WBXML_END = 0x01,
	WBXML_ENTITY = 0x02,
	WBXML_STR_I = 0x03,
	WBXML_LITERAL = 0x04,
	WBXML_EXT_I_0 = 0x40,
	WBXML_EXT_I_1 = 0x41,
	WBXML_EXT_I_2 = 0x42,
	WBXML_PI = 0x43,
	WBXML_LITERAL_C = 0x44,
	WBXML_EXT_T_0 = 0x80,
	WBXML_EXT_T_1 = 0x81,
	WBXML_EXT_T_2 = 0x82,
	WBXML_STR_T = 0x83,
	WBXML_LITERAL_A = 0x84,
	WBXML_EXT_0 = 0xC0,
	WBXML_EXT_1 = 0xC1,
	WBXML_EXT_2 = 0xC2,
	WBXML_OPAQUE = 0xC3,
	WBXML_LITERAL_AC = 0xC4,
};

#define WBXML_CONTENT_BIT 0x40
#define WBXML_ATTR_BIT 0x80
/* MS-ASWBXML 2.1.2.1: version 1.3, public id 1, charset 106 (UTF-8). */
#define WBXML_VERSION 0x03
#define WBXML_PUBLIC_ID 1
#define WBXML_CHARSET_UTF8 106

const struct wbxml_limits wbxml_limits_default = {
	.max_depth = 64,
	.max_nodes = 200000,
	.max_data = 64 * 1024 * 1024,
};

/* --- decoder --- */

struct wbxml_decoder {
	struct arena *a;
	const uint8_t *p;
	size_t len, pos;
	const struct wbxml_limits *limits;
	const char *error;
	/* Text of the innermost open element when it came in several
	 * STR_I/OPAQUE pieces; grown geometrically in the arena so many small
	 * pieces cost linear, not quadratic, copying. */
	uint8_t *cat;
	size_t cat_cap;
	struct wbxml_node *cat_node;
};

static int dec_fail(struct wbxml_decoder *d, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
dec_fail(struct wbxml_decoder *d, size_t off, const char *fmt, ...)
{
	va_list ap;
	char *reason;

	va_start(ap, fmt);
	reason = arena_vprintf(d->a, fmt, ap);
	va_end(ap);
	d->error = arena_printf(d->a, "WBXML error at byte offset %zu: %s", off,
				reason);
	return -1;
}

/* WBXML 1.3 section 5.1: mb_u_int32, at most 5 bytes and 32 bits. */
static int
dec_mb_u_int32(struct wbxml_decoder *d, const char *what, uint32_t *r)
{
	size_t start = d->pos;
	uint64_t v = 0;

	for (int i = 0; i < 5; i++) {
		uint8_t c;

		if (d->pos >= d->len)
			return dec_fail(d, start, "truncated %s (mb_u_int32)",
					what);
		c = d->p[d->pos++];
		v = (v << 7) | (c & 0x7f);
		if (v > UINT32_MAX)
			return dec_fail(d, start,
					"%s (mb_u_int32) exceeds 32 bits",
					what);
		if ((c & 0x80) == 0) {
			*r = (uint32_t)v;
			return 0;
		}
	}
	return dec_fail(d, start, "%s (mb_u_int32) longer than 5 bytes", what);
}

static int
dec_header(struct wbxml_decoder *d)
{
	uint32_t v;

	if (d->len < 1)
		return dec_fail(d, 0, "empty document");
	if (d->p[0] != WBXML_VERSION)
		return dec_fail(d, 0, "version 0x%02x, expected 0x03 (1.3)",
				d->p[0]);
	d->pos = 1;
	if (dec_mb_u_int32(d, "public identifier", &v) < 0)
		return -1;
	if (v != WBXML_PUBLIC_ID)
		return dec_fail(d, 1, "public identifier %u, expected 1", v);
	if (dec_mb_u_int32(d, "charset", &v) < 0)
		return -1;
	if (v != WBXML_CHARSET_UTF8)
		return dec_fail(d, d->pos - 1,
				"charset %u, expected 106 (UTF-8)", v);
	if (dec_mb_u_int32(d, "string table length", &v) < 0)
		return -1;
	if (v != 0)
		return dec_fail(d, d->pos - 1,
				"string table length %u, expected 0", v);
	return 0;
}

/* Add one STR_I or OPAQUE piece to n's text. */
static int
dec_add_data(struct wbxml_decoder *d, size_t off, struct wbxml_node *n,
	     const uint8_t *data, size_t len, bool opaque)
{
	size_t total;

	if (n->child != NULL)
		return dec_fail(d, off,
				"text after child elements (mixed "
				"content)");
	if (opaque)
		n->opaque = true;
	if (n->data == NULL) {
		if (opaque)
			data = arena_memdup(d->a, data, len);
		n->data = data;
		n->len = len;
		return 0;
	}
	total = n->len + len;
	if (total > d->limits->max_data)
		return dec_fail(d, off, "element data longer than %zu bytes",
				d->limits->max_data);
	if (d->cat_node != n || total + 1 > d->cat_cap) {
		size_t cap = d->cat_node == n ? d->cat_cap * 2 : 64;
		uint8_t *q;

		while (cap < total + 1)
			cap *= 2;
		q = arena_alloc(d->a, cap);
		memcpy(q, n->data, n->len);
		d->cat = q;
		d->cat_cap = cap;
		d->cat_node = n;
	}
	memcpy(d->cat + n->len, data, len);
	d->cat[total] = '\0';
	n->data = d->cat;
	n->len = total;
	return 0;
}

/* Nesting the decoder tracks without an allocation. */
#define DEC_LOCAL_DEPTH 64

static int
dec_body(struct wbxml_decoder *d, bool fragment, struct wbxml_node **first_r)
{
	const struct wbxml_limits *lim = d->limits;
	const uint8_t *p = d->p;
	size_t len = d->len, pos = d->pos, nodes = 0;
	unsigned page = 0, depth = 0, stack_cap;
	struct wbxml_node *local[DEC_LOCAL_DEPTH + 1];
	struct wbxml_node **stack = local, *first = NULL, *last_top = NULL;
	bool done = false;

	/* Depth can exceed neither the limit nor the number of bytes. The
	 * stack is needed only here: on the C stack when it fits, so that
	 * the arena (which a parked request keeps) holds only the tree. */
	stack_cap = lim->max_depth;
	if (stack_cap > len)
		stack_cap = (unsigned)len;
	if (stack_cap > DEC_LOCAL_DEPTH)
		stack = arena_alloc(d->a, (stack_cap + 1) * sizeof(*stack));

	while (pos < len) {
		size_t off = pos;
		uint8_t t = p[pos++];
		struct wbxml_node *n, *parent;
		uint32_t v;

		if (done && !fragment)
			return dec_fail(d, off,
					"trailing bytes after the "
					"root element");
		switch (t) {
		case WBXML_SWITCH_PAGE:
			if (pos >= len)
				return dec_fail(d, off,
						"truncated SWITCH_PAGE");
			if (p[pos] > WBXML_MAX_PAGE)
				return dec_fail(d, off, "unknown code page %u",
						p[pos]);
			page = p[pos++];
			continue;
		case WBXML_END:
			if (depth == 0)
				return dec_fail(d, off,
						"END with no open "
						"element");
			depth--;
			if (depth == 0)
				done = true;
			continue;
		case WBXML_STR_I: {
			const uint8_t *s = p + pos, *z;

			if (depth == 0)
				return dec_fail(d, off,
						"text outside any "
						"element");
			z = memchr(s, 0, len - pos);
			if (z == NULL)
				return dec_fail(d, off,
						"truncated STR_I (no "
						"NUL terminator)");
			if ((size_t)(z - s) > lim->max_data)
				return dec_fail(d, off,
						"string longer than "
						"%zu bytes",
						lim->max_data);
			pos += (size_t)(z - s) + 1;
			if (dec_add_data(d, off, stack[depth - 1], s,
					 (size_t)(z - s), false) < 0)
				return -1;
			continue;
		}
		case WBXML_OPAQUE:
			if (depth == 0)
				return dec_fail(d, off,
						"opaque data outside "
						"any element");
			d->pos = pos;
			if (dec_mb_u_int32(d, "OPAQUE length", &v) < 0)
				return -1;
			pos = d->pos;
			if (v > lim->max_data)
				return dec_fail(d, off,
						"opaque data longer "
						"than %zu bytes",
						lim->max_data);
			if (v > len - pos)
				return dec_fail(d, off,
						"OPAQUE length %u "
						"runs past the end",
						v);
			if (dec_add_data(d, off, stack[depth - 1], p + pos, v,
					 true) < 0)
				return -1;
			pos += v;
			continue;
		case WBXML_ENTITY:
		case WBXML_LITERAL:
		case WBXML_LITERAL_C:
		case WBXML_LITERAL_A:
		case WBXML_LITERAL_AC:
			return dec_fail(d, off,
					"LITERAL/ENTITY token 0x%02x "
					"not used by EAS",
					t);
		case WBXML_EXT_I_0:
		case WBXML_EXT_I_1:
		case WBXML_EXT_I_2:
		case WBXML_EXT_T_0:
		case WBXML_EXT_T_1:
		case WBXML_EXT_T_2:
		case WBXML_EXT_0:
		case WBXML_EXT_1:
		case WBXML_EXT_2:
			return dec_fail(d, off,
					"extension token 0x%02x not "
					"used by EAS",
					t);
		case WBXML_PI:
			return dec_fail(d, off,
					"processing instruction not "
					"used by EAS");
		case WBXML_STR_T:
			return dec_fail(d, off,
					"STR_T not allowed (EAS has no "
					"string table)");
		default:
			break;
		}
		/* A tag. */
		if (t & WBXML_ATTR_BIT)
			return dec_fail(d, off,
					"tag 0x%02x has the attribute "
					"bit (EAS has no attributes)",
					t);
		if (wbxml_tag_names[page][t & 0x3f] == NULL)
			return dec_fail(d, off,
					"token 0x%02x is not in code "
					"page %u (%s)",
					t & 0x3f, page, wbxml_page_names[page]);
		if (depth >= lim->max_depth || depth >= stack_cap)
			return dec_fail(d, off, "nesting deeper than %u",
					lim->max_depth);
		if (++nodes > lim->max_nodes)
			return dec_fail(d, off, "more than %zu elements",
					lim->max_nodes);
		n = arena_alloc(d->a, sizeof(*n));
		n->next = n->child = n->last = NULL;
		n->data = NULL;
		n->len = 0;
		n->tag = WBXML_TAG(page, t & 0x3f);
		n->opaque = false;
		if (depth == 0) {
			if (first == NULL)
				first = n;
			else
				last_top->next = n;
			last_top = n;
		} else {
			parent = stack[depth - 1];
			if (parent->data != NULL)
				return dec_fail(d, off,
						"child element after "
						"text (mixed content)");
			if (parent->last == NULL)
				parent->child = n;
			else
				parent->last->next = n;
			parent->last = n;
		}
		if (t & WBXML_CONTENT_BIT)
			stack[depth++] = n;
		else if (depth == 0)
			done = true;
	}
	if (depth > 0)
		return dec_fail(d, pos, "truncated: %u element%s still open",
				depth, depth == 1 ? "" : "s");
	if (first == NULL)
		return dec_fail(d, pos, "no element");
	d->pos = pos;
	*first_r = first;
	return 0;
}

static int
wbxml_decode_common(struct arena *a, const uint8_t *p, size_t len,
		    const struct wbxml_limits *limits, bool fragment,
		    struct wbxml_node **root_r, const char **error_r)
{
	struct wbxml_decoder d;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.p = p;
	d.len = len;
	d.limits = limits != NULL ? limits : &wbxml_limits_default;
	*root_r = NULL;
	if (!fragment && dec_header(&d) < 0)
		goto out;
	if (dec_body(&d, fragment, root_r) < 0)
		goto out;
	return 0;
out:
	*root_r = NULL;
	*error_r = d.error;
	return -1;
}

int
wbxml_decode(struct arena *a, const uint8_t *p, size_t len,
	     const struct wbxml_limits *limits, struct wbxml_node **root_r,
	     const char **error_r)
{
	return wbxml_decode_common(a, p, len, limits, false, root_r, error_r);
}

int
wbxml_decode_fragment(struct arena *a, const uint8_t *p, size_t len,
		      const struct wbxml_limits *limits,
		      struct wbxml_node **first_r, const char **error_r)
{
	return wbxml_decode_common(a, p, len, limits, true, first_r, error_r);
}

/* --- encoder --- */

static size_t
enc_mb_u_int32(uint8_t *q, uint32_t v)
{
	uint8_t tmp[5];
	size_t n = 0, i;

	do {
		tmp[n++] = v & 0x7f;
		v >>= 7;
	} while (v != 0);
	for (i = 0; i < n; i++)
		q[i] = tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
	return n;
}

int
wbxml_encode_wrap(const uint16_t *tags, size_t n, const uint8_t *inner,
		  size_t inner_len, struct buf *out)
{
	static const uint8_t header[4] = {WBXML_VERSION, WBXML_PUBLIC_ID,
					  WBXML_CHARSET_UTF8, 0};
	uint8_t *q;

	if (inner_len <= sizeof(header) ||
	    memcmp(inner, header, sizeof(header)) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (WBXML_PAGE(tags[i]) != 0)
			return -1;
	q = buf_reserve(out, sizeof(header) + 2 * n + inner_len);
	if (q == NULL)
		return -1;
	memcpy(q, header, sizeof(header));
	q += sizeof(header);
	for (size_t i = 0; i < n; i++)
		*q++ = (uint8_t)(WBXML_TOKEN(tags[i]) | WBXML_CONTENT_BIT);
	memcpy(q, inner + sizeof(header), inner_len - sizeof(header));
	q += inner_len - sizeof(header);
	for (size_t i = 0; i < n; i++)
		*q++ = WBXML_END;
	out->len = (size_t)(q - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int
wbxml_encode(const struct wbxml_node *root, struct buf *out)
{
	static const uint8_t header[4] = {WBXML_VERSION, WBXML_PUBLIC_ID,
					  WBXML_CHARSET_UTF8, 0};
	const struct wbxml_node *local[64], **stack = local;
	const struct wbxml_node *n = root;
	size_t depth = 0, cap = N_ELEMENTS(local);
	unsigned page = 0;
	int ret = -1;

	if (buf_append(out, header, sizeof(header)) < 0)
		return -1;
	while (n != NULL) {
		bool text = n->len > 0;
		bool opaque = false;
		size_t need;
		uint8_t *q;

		/* An element with text is sent as OPAQUE when asked, or when
		 * the text holds a NUL that STR_I cannot carry. */
		if (text)
			opaque = n->opaque || n->len > UINT32_MAX - 1 ||
				 memchr(n->data, 0, n->len) != NULL;
		if (text && opaque && n->len > UINT32_MAX)
			goto out;
		/* switch (2) + tag + STR_I/OPAQUE + len (5) + data + NUL +
		 * END */
		need = 2 + 1 + (text ? 1 + 5 + n->len + 1 + 1 : 0);
		if ((q = buf_reserve(out, need)) == NULL)
			goto out;
		if (WBXML_PAGE(n->tag) != page) {
			page = WBXML_PAGE(n->tag);
			*q++ = WBXML_SWITCH_PAGE;
			*q++ = (uint8_t)page;
		}
		if (text) {
			*q++ = (uint8_t)(WBXML_TOKEN(n->tag) |
					 WBXML_CONTENT_BIT);
			if (opaque) {
				*q++ = WBXML_OPAQUE;
				q += enc_mb_u_int32(q, (uint32_t)n->len);
				memcpy(q, n->data, n->len);
				q += n->len;
			} else {
				*q++ = WBXML_STR_I;
				memcpy(q, n->data, n->len);
				q += n->len;
				*q++ = 0;
			}
			*q++ = WBXML_END;
		} else if (n->child != NULL) {
			*q++ = (uint8_t)(WBXML_TOKEN(n->tag) |
					 WBXML_CONTENT_BIT);
		} else {
			*q++ = (uint8_t)WBXML_TOKEN(n->tag);
		}
		out->len = (size_t)(q - out->data);
		out->data[out->len] = '\0';

		if (!text && n->child != NULL) {
			if (depth == cap) {
				size_t ncap = cap * 2;

				if (stack == local) {
					stack = xmalloc(ncap * sizeof(*stack));
					memcpy(stack, local, sizeof(local));
				} else {
					stack = xrealloc(stack,
							 ncap * sizeof(*stack));
				}
				cap = ncap;
			}
			stack[depth++] = n;
			n = n->child;
			continue;
		}
		/* Close finished parents until one has a next sibling. */
		while (n != root && n->next == NULL && depth > 0) {
			if (buf_putc(out, WBXML_END) < 0)
				goto out;
			n = stack[--depth];
		}
		n = n == root ? NULL : n->next;
	}
	ret = 0;
out:
	if (stack != local)
		free(stack);
	return ret;
}

/* --- reading a tree --- */

const struct wbxml_node *
wbxml_child(const struct wbxml_node *n, uint16_t tag)
{
	const struct wbxml_node *c;

	if (n == NULL)
		return NULL;
	for (c = n->child; c != NULL; c = c->next) {
		if (c->tag == tag)
			return c;
	}
	return NULL;
}

const struct wbxml_node *
wbxml_next_same(const struct wbxml_node *n)
{
	const struct wbxml_node *c;

	for (c = n->next; c != NULL; c = c->next) {
		if (c->tag == n->tag)
			return c;
	}
	return NULL;
}

const char *
wbxml_text(const struct wbxml_node *n)
{
	return n == NULL || n->data == NULL ? "" : (const char *)n->data;
}

const char *
wbxml_child_text(const struct wbxml_node *n, uint16_t tag)
{
	const struct wbxml_node *c = wbxml_child(n, tag);

	return c == NULL ? NULL : wbxml_text(c);
}

int
wbxml_child_int(const struct wbxml_node *n, uint16_t tag, int64_t *r)
{
	const struct wbxml_node *c = wbxml_child(n, tag);

	if (c == NULL)
		return 0;
	/* A text with an embedded NUL is not a number. */
	if (c->data == NULL || strlen((const char *)c->data) != c->len)
		return -1;
	return str_to_int64((const char *)c->data, r) < 0 ? -1 : 1;
}

bool
wbxml_is_empty(const struct wbxml_node *n)
{
	return n->child == NULL && n->len == 0;
}

size_t
wbxml_count_children(const struct wbxml_node *n)
{
	const struct wbxml_node *c;
	size_t count = 0;

	for (c = n->child; c != NULL; c = c->next)
		count++;
	return count;
}

/* --- building a tree --- */

struct wbxml_node *
wbxml_new(struct arena *a, uint16_t tag)
{
	struct wbxml_node *n = arena_new_struct(a, struct wbxml_node);

	n->tag = tag;
	return n;
}

void
wbxml_append(struct wbxml_node *parent, struct wbxml_node *child)
{
	if (parent->last == NULL)
		parent->child = child;
	else
		parent->last->next = child;
	parent->last = child;
}

struct wbxml_node *
wbxml_add(struct arena *a, struct wbxml_node *parent, uint16_t tag)
{
	struct wbxml_node *n = wbxml_new(a, tag);

	if (parent != NULL)
		wbxml_append(parent, n);
	return n;
}

struct wbxml_node *
wbxml_add_textn(struct arena *a, struct wbxml_node *parent, uint16_t tag,
		const char *text, size_t len)
{
	struct wbxml_node *n = wbxml_add(a, parent, tag);

	n->data = arena_memdup(a, text, len);
	n->len = len;
	return n;
}

struct wbxml_node *
wbxml_add_text(struct arena *a, struct wbxml_node *parent, uint16_t tag,
	       const char *text)
{
	return wbxml_add_textn(a, parent, tag, text, strlen(text));
}

struct wbxml_node *
wbxml_add_textf(struct arena *a, struct wbxml_node *parent, uint16_t tag,
		const char *fmt, ...)
{
	struct wbxml_node *n = wbxml_add(a, parent, tag);
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	n->data = (const uint8_t *)s;
	n->len = strlen(s);
	return n;
}

struct wbxml_node *
wbxml_add_int(struct arena *a, struct wbxml_node *parent, uint16_t tag,
	      int64_t value)
{
	/* By hand: through printf (twice, to size it) this was a tenth of
	 * converting a mail for Sync, with five numbers each. */
	struct wbxml_node *n = wbxml_add(a, parent, tag);
	uint64_t u = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
	char tmp[24], *p = tmp + sizeof(tmp), *s;
	size_t len;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (value < 0)
		*--p = '-';
	len = (size_t)(tmp + sizeof(tmp) - p);
	s = arena_alloc(a, len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	n->data = (const uint8_t *)s;
	n->len = len;
	return n;
}

struct wbxml_node *
wbxml_add_opaque(struct arena *a, struct wbxml_node *parent, uint16_t tag,
		 const void *p, size_t len)
{
	struct wbxml_node *n = wbxml_add(a, parent, tag);

	n->data = arena_memdup(a, p, len);
	n->len = len;
	n->opaque = true;
	return n;
}

struct wbxml_node *
wbxml_add_ref(struct arena *a, struct wbxml_node *parent, uint16_t tag,
	      const void *data, size_t len, bool opaque)
{
	struct wbxml_node *n = wbxml_add(a, parent, tag);

	n->data = data;
	n->len = len;
	n->opaque = opaque;
	return n;
}

struct wbxml_node *
wbxml_clone(struct arena *a, const struct wbxml_node *n)
{
	const struct wbxml_node *src_local[64], **src = src_local;
	struct wbxml_node *dst_local[64], **dst = dst_local;
	size_t depth = 0, cap = N_ELEMENTS(src_local);
	struct wbxml_node *root = NULL;
	const struct wbxml_node *s = n;

	/* Iterative pre-order walk; dst[i] is the copy of src[i]. */
	while (s != NULL) {
		struct wbxml_node *c = wbxml_new(a, s->tag);

		if (s->data != NULL)
			c->data = arena_memdup(a, s->data, s->len);
		c->len = s->len;
		c->opaque = s->opaque;
		if (root == NULL)
			root = c;
		else
			wbxml_append(dst[depth - 1], c);
		if (s->child != NULL) {
			if (depth == cap) {
				size_t ncap = cap * 2;

				if (src == src_local) {
					src = xmalloc(ncap * sizeof(*src));
					dst = xmalloc(ncap * sizeof(*dst));
					memcpy(src, src_local,
					       sizeof(src_local));
					memcpy(dst, dst_local,
					       sizeof(dst_local));
				} else {
					src = xrealloc(src,
						       ncap * sizeof(*src));
					dst = xrealloc(dst,
						       ncap * sizeof(*dst));
				}
				cap = ncap;
			}
			src[depth] = s;
			dst[depth] = c;
			depth++;
			s = s->child;
			continue;
		}
		while (s != n && s->next == NULL && depth > 0)
			s = src[--depth];
		s = s == n ? NULL : s->next;
	}
	if (src != src_local) {
		free(src);
		free(dst);
	}
	return root;
}

/* --- names --- */

const char *
wbxml_tag_name(uint16_t tag)
{
	unsigned page = WBXML_PAGE(tag), tok = WBXML_TOKEN(tag);

	if (page > WBXML_MAX_PAGE || tok >= 64)
		return NULL;
	return wbxml_tag_names[page][tok];
}

const char *
wbxml_page_name(unsigned page)
{
	return page > WBXML_MAX_PAGE ? NULL : wbxml_page_names[page];
}

int
wbxml_tag_lookup(const char *page_name, const char *tag_name, uint16_t *tag_r)
{
	for (unsigned p = 0; p <= WBXML_MAX_PAGE; p++) {
		if (strcmp(wbxml_page_names[p], page_name) != 0)
			continue;
		for (unsigned t = 5; t < 64; t++) {
			const char *name = wbxml_tag_names[p][t];

			if (name != NULL && strcmp(name, tag_name) == 0) {
				*tag_r = WBXML_TAG(p, t);
				return 0;
			}
		}
		return -1;
	}
	return -1;
}
