/* vCard content lines: unfolding, "group.NAME;params:value" splitting,
 * quoted-printable (2.1), escaping and folding. Single pass, no copy for a
 * line that was neither folded nor encoded: the reader runs for every
 * contact of an initial sync. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "vcard.h"
#include "xalloc.h"

bool
vcard_name_is(const char *s, size_t len, const char *lit)
{
	size_t l = strlen(lit);

	return len == l && strncasecmp(s, lit, l) == 0;
}

bool
vcard_line_is(const struct vcard_line *l, const char *name)
{
	return vcard_name_is(l->name, l->nlen, name);
}

const struct vcard_param *
vcard_param(const struct vcard_line *l, const char *name)
{
	for (size_t i = 0; i < l->nparams; i++) {
		if (vcard_name_is(l->params[i].name, l->params[i].nlen, name))
			return &l->params[i];
	}
	return NULL;
}

void
vcard_reader_init(struct vcard_reader *r, struct arena *a, const char *data,
		  size_t len)
{
	r->a = a;
	r->p = data;
	r->end = data + len;
	r->lines = 0;
}

/* One physical line [*pp, eol) without its CR LF; advances *pp. */
static void
next_physical(const char **pp, const char *end, const char **s_r, size_t *len_r)
{
	const char *p = *pp, *eol = memchr(p, '\n', (size_t)(end - p));
	const char *e = eol != NULL ? eol : end;

	*s_r = p;
	*len_r = (size_t)((e > p && e[-1] == '\r') ? e - 1 - p : e - p);
	*pp = eol != NULL ? eol + 1 : end;
}

/* One logical line with folds removed (RFC 2426 2.6). Points into the
 * input when the line was not folded. */
static void
next_logical(struct arena *a, const char **pp, const char *end,
	     const char **s_r, size_t *len_r)
{
	const char *s, *q;
	size_t len, l2, total;
	char *out;

	next_physical(pp, end, &s, &len);
	if (*pp >= end || (**pp != ' ' && **pp != '\t')) {
		*s_r = s;
		*len_r = len;
		return;
	}
	/* Folded: measure, then join. */
	total = len;
	q = *pp;
	while (q < end && (*q == ' ' || *q == '\t')) {
		const char *ps;

		next_physical(&q, end, &ps, &l2);
		total += l2 - 1;
	}
	out = arena_alloc(a, total + 1);
	memcpy(out, s, len);
	total = len;
	while (*pp < end && (**pp == ' ' || **pp == '\t')) {
		const char *ps;

		next_physical(pp, end, &ps, &l2);
		memcpy(out + total, ps + 1, l2 - 1);
		total += l2 - 1;
	}
	out[total] = '\0';
	*s_r = out;
	*len_r = total;
}

static void
add_param(struct vcard_line *l, const char *n, size_t nl, const char *v,
	  size_t vl)
{
	if (v == NULL) {
		/* vCard 2.1 bare encodings: TEL;QUOTED-PRINTABLE: */
		if (vcard_name_is(n, nl, "BASE64"))
			l->b64 = true;
	} else if (vcard_name_is(n, nl, "ENCODING") &&
		   (vcard_name_is(v, vl, "b") ||
		    vcard_name_is(v, vl, "BASE64"))) {
		l->b64 = true;
	}
	if (l->nparams == VCARD_MAX_PARAMS)
		return;
	l->params[l->nparams].name = n;
	l->params[l->nparams].nlen = nl;
	l->params[l->nparams].value = v;
	l->params[l->nparams].vlen = vl;
	l->nparams++;
}

static bool
is_qp(const struct vcard_line *l)
{
	for (size_t i = 0; i < l->nparams; i++) {
		const struct vcard_param *p = &l->params[i];

		if (p->value == NULL
			    ? vcard_name_is(p->name, p->nlen,
					    "QUOTED-PRINTABLE")
			    : vcard_name_is(p->name, p->nlen, "ENCODING") &&
				      vcard_name_is(p->value, p->vlen,
						    "QUOTED-PRINTABLE"))
			return true;
	}
	return false;
}

/* Split "group.NAME;params:value". Returns -1 when there is no colon. */
static int
parse_line(const char *s, size_t len, struct vcard_line *l)
{
	const char *end = s + len, *p = s;

	memset(l, 0, offsetof(struct vcard_line, params));
	l->nparams = 0;
	l->b64 = false;
	l->value = NULL;
	l->vlen = 0;
	l->raw = s;
	l->raw_len = len;
	l->name = s;
	while (p < end && *p != ';' && *p != ':') {
		if (*p == '.') {
			l->group = s;
			l->glen = (size_t)(p - s);
			l->name = p + 1;
		}
		p++;
	}
	l->nlen = (size_t)(p - l->name);
	while (p < end && *p == ';') {
		const char *pn = ++p, *pv = NULL;
		size_t pnl, pvl = 0;

		while (p < end && *p != '=' && *p != ';' && *p != ':')
			p++;
		pnl = (size_t)(p - pn);
		if (p < end && *p == '=') {
			p++;
			if (p < end && *p == '"') {
				pv = ++p;
				while (p < end && *p != '"')
					p++;
				pvl = (size_t)(p - pv);
				if (p < end)
					p++;
			} else {
				pv = p;
				while (p < end && *p != ';' && *p != ':')
					p++;
				pvl = (size_t)(p - pv);
			}
		}
		add_param(l, pn, pnl, pv, pvl);
	}
	if (p >= end || *p != ':')
		return -1;
	l->value = p + 1;
	l->vlen = (size_t)(end - p - 1);
	return 0;
}

/* Undo quoted-printable (vCard 2.1) into a fresh arena string. */
static void
qp_decode(struct arena *a, struct vcard_line *l)
{
	char *out = arena_alloc(a, l->vlen + 1);
	size_t o = 0;

	for (size_t i = 0; i < l->vlen; i++) {
		if (l->value[i] == '=' && i + 2 < l->vlen &&
		    str_hex_val(l->value[i + 1]) >= 0 &&
		    str_hex_val(l->value[i + 2]) >= 0) {
			out[o++] = (char)(str_hex_val(l->value[i + 1]) * 16 +
					  str_hex_val(l->value[i + 2]));
			i += 2;
		} else if (l->value[i] == '=' && i + 1 == l->vlen) {
			break;
		} else {
			out[o++] = l->value[i];
		}
	}
	out[o] = '\0';
	l->value = out;
	l->vlen = o;
}

int
vcard_next(struct vcard_reader *r, struct vcard_line *l)
{
	const char *s, *start;
	size_t slen;
	int ret = 1;

	do {
		if (r->p >= r->end)
			return 0;
		start = r->p;
		next_logical(r->a, &r->p, r->end, &s, &slen);
	} while (slen == 0);
	r->lines++;
	if (parse_line(s, slen, l) < 0) {
		ret = -1;
		goto out;
	}
	if (is_qp(l)) {
		/* 2.1 soft line breaks: "=" ends a line that goes on in the
		 * next one, unindented. */
		while (l->vlen > 0 && l->value[l->vlen - 1] == '=' &&
		       r->p < r->end) {
			const char *s2;
			size_t l2;
			char *j;

			next_physical(&r->p, r->end, &s2, &l2);
			j = arena_alloc(r->a, l->vlen + l2);
			memcpy(j, l->value, l->vlen - 1);
			memcpy(j + l->vlen - 1, s2, l2);
			j[l->vlen - 1 + l2] = '\0';
			l->value = j;
			l->vlen = l->vlen - 1 + l2;
		}
		qp_decode(r->a, l);
	}
out:
	l->src = start;
	l->src_len = (size_t)(r->p - start);
	return ret;
}

size_t
vcard_unescape(struct arena *a, const char *s, size_t len, char stop, bool lf,
	       const char **r, size_t *rlen)
{
	char *out = arena_alloc(a, 2 * len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == stop)
			break;
		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			if (c == 'n' || c == 'N') {
				if (!lf)
					out[o++] = '\r';
				out[o++] = '\n';
			} else if (c == 'r') {
				out[o++] = '\r';
			} else {
				out[o++] = c;
			}
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	*r = out;
	*rlen = o;
	return i;
}

size_t
vcard_split(struct arena *a, const char *value, size_t vlen, char sep, bool lf,
	    struct vcard_str *parts, size_t max)
{
	size_t pos = 0, n = 0;

	while (n < max) {
		pos += vcard_unescape(a, value + pos, vlen - pos, sep, lf,
				      &parts[n].s, &parts[n].len);
		n++;
		if (pos >= vlen)
			break;
		pos++; /* the separator */
	}
	return n;
}

/* --- writing --- */

void
vcard_writer_init(struct vcard_writer *w)
{
	buf_init(&w->b, 0);
	w->line_start = 0;
}

void
vcard_writer_deinit(struct vcard_writer *w)
{
	buf_deinit(&w->b);
}

void
vcard_begin(struct vcard_writer *w, const char *name)
{
	w->line_start = w->b.len;
	buf_puts(&w->b, name);
}

void
vcard_put_text(struct vcard_writer *w, const char *s, size_t len)
{
	vcard_escape(&w->b, s, len);
}

void
vcard_escape(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		switch (c) {
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case ',':
			buf_append(b, "\\,", 2);
			break;
		case ';':
			buf_append(b, "\\;", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			if (i + 1 < len && s[i + 1] == '\n') {
				buf_append(b, "\\n", 2);
				i++;
			} else {
				buf_append(b, "\\r", 2);
			}
			break;
		default:
			buf_putc(b, (uint8_t)c);
			break;
		}
	}
}

void
vcard_end(struct vcard_writer *w)
{
	size_t len = w->b.len - w->line_start, pos = 0, width = 75;
	const uint8_t *src;
	uint8_t *tmp;

	if (len > 75) {
		tmp = xmalloc(len);
		memcpy(tmp, w->b.data + w->line_start, len);
		w->b.len = w->line_start;
		src = tmp;
		while (pos < len) {
			size_t n = EAS_MIN(width, len - pos);

			while (pos + n < len && n > 1 &&
			       (src[pos + n] & 0xc0) == 0x80)
				n--;
			if (pos > 0)
				buf_append(&w->b, "\r\n ", 3);
			buf_append(&w->b, src + pos, n);
			pos += n;
			width = 74;
		}
		free(tmp);
	}
	buf_append(&w->b, "\r\n", 2);
	w->line_start = w->b.len;
}

const char *
vcard_writer_finish(struct vcard_writer *w, struct arena *a, size_t *len_r)
{
	char *out = arena_alloc(a, w->b.len + 1);

	memcpy(out, w->b.len > 0 ? (const char *)w->b.data : "", w->b.len);
	out[w->b.len] = '\0';
	*len_r = w->b.len;
	return out;
}
