/* Mail intake with GMime: RFC 5322 message -> store item (mail_item_from_mime),
 * the extra-data format that spares Sync a MIME parse per message,
 * attachments by index, and the body texts (plain, HTML, preview). Nothing
 * here knows EAS; conv-mail.c builds the Email class from it.
 *
 * item.extra format, version 1 (all integers little-endian):
 *   "E" 0x01, then records: tag (1 byte), length (uint32), value bytes.
 *   Unknown tags are skipped, so newer writers stay readable.
 *   Immutable, written at delivery:
 *     F From, T To, C Cc, B Bcc (drafts), R Reply-To, S Subject,
 *     H ThreadTopic,
 *     D DisplayTo, M MessageClass, K ContentClass (decoded UTF-8 text)
 *     I Importance, P InternetCPID, N NativeBodyType, Z "1" if S/MIME
 *       (decimal text)
 *     V ConversationId (16 bytes), X ConversationIndex (22 bytes)
 *     b / h plain / HTML body: "offset length encoding utf8size charset"
 *       where offset/length locate the transfer-encoded content in data
 *       and encoding is a GMimeContentEncoding; charset may be empty
 *     A attachment: nested records p path ("1.2"), n name, t content
 *       type, c Content-ID, s decoded size, i "1" inline, m method
 *   Mutable, written by conv_email_change:
 *     g category (repeated), f flag child (2-byte big-endian tag + text),
 *     l LastVerbExecuted, L LastVerbExecutionTime */
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "itip.h"
#include "mail-int.h"
#include "log.h"
#include "util.h"

/* 2: the text/calendar part of invitations (record 'v') */
#define MAIL_EXTRA_VERSION 2
#define MAIL_MAX_DEPTH 32
#define MAIL_MAX_ATTACHMENTS 500
#define MAIL_EXTRA_LIMIT (4 * 1024 * 1024)
#define MAIL_HEADER_FIELD_MAX 32768

/* --- GMime setup --- */

static pthread_once_t mail_once = PTHREAD_ONCE_INIT;

static void
mail_init_once(void)
{
	g_mime_init();
}

void
mail_init(void)
{
	pthread_once(&mail_once, mail_init_once);
}

static void
mail_unref(void *p)
{
	g_object_unref(p);
}

/* --- small text helpers --- */

/* Eight bytes at a time (word_below_space: nonzero when one of them is
 * below 0x20). */
#define BYTES_01 0x0101010101010101ULL
#define BYTES_80 0x8080808080808080ULL

static inline uint64_t
word_below_space(uint64_t w)
{
	return (w - BYTES_01 * 0x20) & ~w & BYTES_80;
}

/* The length of the leading run of s that is ASCII without NUL: such
 * bytes are valid UTF-8 as they are, and mail text is mostly that, where
 * g_utf8_validate costs some ten instructions a byte. */
static size_t
ascii_prefix(const char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (((w | ((w - BYTES_01) & ~w)) & BYTES_80) != 0)
			break;
	}
	while (i < len && (unsigned char)s[i] - 1u < 0x7fu)
		i++;
	return i;
}

bool
mail_utf8_valid(const char *s, size_t len)
{
	size_t ascii = ascii_prefix(s, len);

	return ascii == len ||
	       g_utf8_validate(s + ascii, (gssize)(len - ascii), NULL);
}

/* Replace the C0 controls but TAB, CR and LF in out[0..n) by spaces. */
static void
blank_controls(char *out, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, out + i, 8);
		if (word_below_space(w) == 0)
			continue;
		for (size_t j = i; j < i + 8; j++)
			if ((unsigned char)out[j] < 0x20 && out[j] != '\t' &&
			    out[j] != '\r' && out[j] != '\n')
				out[j] = ' ';
	}
	for (; i < n; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != '\t' &&
		    out[i] != '\r' && out[i] != '\n')
			out[i] = ' ';
}

/* Copy the leading run of s that is ASCII without NUL to out, the C0
 * controls but TAB, CR and LF as spaces, eight bytes at a time; returns
 * its length. One pass where checking, copying and blanking took three. */
static size_t
copy_ascii_blanked(char *out, const char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, below, keep;

		memcpy(&w, s + i, 8);
		if (((w | ((w - BYTES_01) & ~w)) & BYTES_80) != 0)
			break; /* a byte >= 0x80 or a NUL */
		/* exact for ASCII: no carry crosses a byte */
		below = ~(w + BYTES_01 * 0x60) & BYTES_80;
		if (below != 0) {
			uint64_t t = w ^ (BYTES_01 * '\t'),
				 l = w ^ (BYTES_01 * '\n'),
				 r = w ^ (BYTES_01 * '\r');

			keep = (~(t + BYTES_01 * 0x7f) |
				~(l + BYTES_01 * 0x7f) |
				~(r + BYTES_01 * 0x7f)) &
			       BYTES_80;
			if ((below & ~keep) != 0)
				blank_controls((char *)&w, 8);
		}
		memcpy(out + i, &w, 8);
	}
	for (; i < len && (unsigned char)s[i] - 1u < 0x7fu; i++)
		out[i] = (unsigned char)s[i] < 0x20 && s[i] != '\t' &&
					 s[i] != '\r' && s[i] != '\n'
				 ? ' '
				 : s[i];
	return i;
}

/* Copy g-allocated or borrowed text into the arena as valid UTF-8 without
 * NUL or other C0 controls that WBXML strings cannot carry well. */
static const char *
utf8_clean(struct arena *a, const char *s, size_t len)
{
	gchar *valid;
	char *out;
	size_t n, ascii;

	if (s == NULL)
		return NULL;
	/* Mail is almost always valid already: one copy then, not three
	 * passes and two copies (a fifth of an initial Inbox sync). */
	out = arena_alloc(a, len + 1);
	ascii = copy_ascii_blanked(out, s, len);
	if (ascii == len ||
	    g_utf8_validate(s + ascii, (gssize)(len - ascii), NULL)) {
		memcpy(out + ascii, s + ascii, len - ascii);
		blank_controls(out + ascii, len - ascii);
		out[len] = '\0';
		return out;
	}
	valid = g_utf8_make_valid(s, (gssize)len);
	n = strlen(valid);
	out = arena_strndup(a, valid, n);
	g_free(valid);
	blank_controls(out, n);
	return out;
}

/* Same but for a header value: single line, capped. */
static const char *
header_clean(struct arena *a, const char *s)
{
	const char *r;
	char *w;

	if (s == NULL)
		return NULL;
	r = utf8_clean(a, s, strnlen(s, MAIL_HEADER_FIELD_MAX));
	w = (char *)r;
	for (; *w != '\0'; w++) {
		if (*w == '\r' || *w == '\n' || *w == '\t')
			*w = ' ';
	}
	return r;
}

static bool
is_utf8_charset(const char *cs)
{
	return cs == NULL || *cs == '\0' || str_ieq(cs, "utf-8") ||
	       str_ieq(cs, "utf8") || str_ieq(cs, "us-ascii") ||
	       str_ieq(cs, "ascii");
}

/* Convert bytes in charset to UTF-8: invalid bytes become U+FFFD, an
 * unknown charset is read as UTF-8 if it is valid, else as Latin-1. */
static char *
charset_to_utf8(struct arena *a, const char *p, size_t len, const char *charset,
		size_t *len_r)
{
	iconv_t cd = (iconv_t)-1;
	struct buf out;
	const char *res;
	char *ret;

	if (!is_utf8_charset(charset))
		cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		if (is_utf8_charset(charset) || mail_utf8_valid(p, len)) {
			res = utf8_clean(a, p, len);
			*len_r = strlen(res);
			return (char *)res;
		}
		/* Latin-1 maps every byte, so nothing is lost. */
		buf_init(&out, 0);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c < 0x80) {
				buf_putc(&out, c);
			} else {
				buf_putc(&out, 0xc0 | (c >> 6));
				buf_putc(&out, 0x80 | (c & 0x3f));
			}
		}
	} else {
		char *in = (char *)p;
		size_t inleft = len;

		buf_init(&out, 0);
		while (inleft > 0) {
			char *o = (char *)buf_reserve(&out, inleft * 4 + 16);
			size_t oleft = inleft * 4 + 16, before = oleft;
			size_t r = iconv(cd, &in, &inleft, &o, &oleft);

			out.len += before - oleft;
			if (r != (size_t)-1)
				break;
			if (errno == E2BIG)
				continue;
			/* EILSEQ or EINVAL: one bad byte becomes U+FFFD */
			buf_append(&out, "\xef\xbf\xbd", 3);
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
		g_mime_iconv_close(cd);
	}
	res = utf8_clean(a, out.len > 0 ? (const char *)out.data : "", out.len);
	buf_deinit(&out);
	ret = (char *)res;
	*len_r = strlen(ret);
	return ret;
}

/* Undo the transfer encoding of p and convert to UTF-8. */
static char *
text_decode(struct arena *a, const char *p, size_t len, int encoding,
	    const char *charset, size_t *len_r)
{
	GMimeEncoding st;
	char *tmp, *res;
	size_t n;

	if (encoding != GMIME_CONTENT_ENCODING_BASE64 &&
	    encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	    encoding != GMIME_CONTENT_ENCODING_UUENCODE)
		return charset_to_utf8(a, p, len, charset, len_r);
	g_mime_encoding_init_decode(&st, (GMimeContentEncoding)encoding);
	tmp = g_malloc(g_mime_encoding_outlen(&st, len) + 16);
	n = g_mime_encoding_flush(&st, p, len, tmp);
	res = charset_to_utf8(a, tmp, n, charset, len_r);
	g_free(tmp);
	return res;
}

/* The length text_decode would give, without the copy when the bytes are
 * UTF-8 already and need no decoding (most mail): they come out as they
 * are, controls blanked in place. */
static size_t
text_utf8_size(struct arena *a, const char *p, size_t len, int encoding,
	       const char *charset)
{
	size_t n;

	if (encoding != GMIME_CONTENT_ENCODING_BASE64 &&
	    encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	    encoding != GMIME_CONTENT_ENCODING_UUENCODE &&
	    is_utf8_charset(charset) && mail_utf8_valid(p, len))
		return len;
	text_decode(a, p, len, encoding, charset, &n);
	return n;
}

/* --- extra serialization --- */

static void
rec_put(struct buf *b, char tag, const void *p, size_t len)
{
	uint8_t hdr[5];

	hdr[0] = (uint8_t)tag;
	hdr[1] = (uint8_t)len;
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)(len >> 16);
	hdr[4] = (uint8_t)(len >> 24);
	buf_append(b, hdr, sizeof(hdr));
	buf_append(b, p, len);
}

static void
rec_str(struct buf *b, char tag, const char *s)
{
	if (s != NULL)
		rec_put(b, tag, s, strlen(s));
}

static void
rec_int(struct buf *b, char tag, int64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	rec_str(b, tag, tmp);
}

static void
rec_body(struct buf *b, char tag, const struct mail_body_loc *loc)
{
	char tmp[256];

	if (!loc->present)
		return;
	snprintf(tmp, sizeof(tmp), "%lld %lld %d %lld %.160s",
		 (long long)loc->off, (long long)loc->len, loc->encoding,
		 (long long)loc->utf8_size,
		 loc->charset != NULL ? loc->charset : "");
	rec_str(b, tag, tmp);
}

/* Serialize info into a (extra). */
void
mail_info_write(struct arena *a, const struct mail_info *mi,
		const uint8_t **extra_r, size_t *len_r)
{
	struct buf b, sub;

	buf_init(&b, 0);
	buf_putc(&b, 'E');
	buf_putc(&b, MAIL_EXTRA_VERSION);
	rec_str(&b, 'F', mi->from);
	rec_str(&b, 'T', mi->to);
	rec_str(&b, 'C', mi->cc);
	rec_str(&b, 'R', mi->reply_to);
	rec_str(&b, 'B', mi->bcc);
	rec_str(&b, 'S', mi->subject);
	rec_str(&b, 'H', mi->thread_topic);
	rec_str(&b, 'D', mi->display_to);
	rec_str(&b, 'M', mi->message_class);
	rec_str(&b, 'K', mi->content_class);
	rec_int(&b, 'I', mi->importance);
	rec_int(&b, 'P', mi->cpid);
	rec_int(&b, 'N', mi->native_type);
	if (mi->smime)
		rec_str(&b, 'Z', "1");
	if (mi->has_conv_id)
		rec_put(&b, 'V', mi->conv_id, sizeof(mi->conv_id));
	if (mi->has_conv_index)
		rec_put(&b, 'X', mi->conv_index, sizeof(mi->conv_index));
	rec_body(&b, 'b', &mi->text);
	rec_body(&b, 'h', &mi->html);
	rec_body(&b, 'v', &mi->cal);
	for (size_t i = 0; i < mi->natts; i++) {
		const struct mail_att *at = &mi->atts[i];

		buf_init(&sub, 0);
		rec_str(&sub, 'p', at->path);
		rec_str(&sub, 'n', at->name);
		rec_str(&sub, 't', at->ctype);
		rec_str(&sub, 'c', at->cid);
		rec_int(&sub, 's', at->size);
		if (at->is_inline)
			rec_str(&sub, 'i', "1");
		rec_int(&sub, 'm', at->method);
		rec_put(&b, 'A', sub.data, sub.len);
		buf_deinit(&sub);
	}
	for (size_t i = 0; i < mi->ncategories; i++)
		rec_str(&b, 'g', mi->categories[i]);
	for (size_t i = 0; i < mi->nflag; i++) {
		size_t vl = strlen(mi->flag[i].value);
		uint8_t *tmp = arena_alloc(a, vl + 2);

		tmp[0] = (uint8_t)(mi->flag[i].tag >> 8);
		tmp[1] = (uint8_t)mi->flag[i].tag;
		memcpy(tmp + 2, mi->flag[i].value, vl);
		rec_put(&b, 'f', tmp, vl + 2);
	}
	if (mi->last_verb > 0) {
		rec_int(&b, 'l', mi->last_verb);
		rec_str(&b, 'L', mi->last_verb_time);
	}
	*extra_r = arena_memdup(a, b.data, b.len + 1);
	*len_r = b.len;
	buf_deinit(&b);
}

struct rec_reader {
	const uint8_t *p, *end;
};

/* Next record: 1 and its tag/value, 0 at the end, -1 when truncated. */
static int
rec_next(struct rec_reader *r, char *tag_r, const uint8_t **v_r, size_t *len_r)
{
	size_t len;

	if (r->p == r->end)
		return 0;
	if (r->end - r->p < 5)
		return -1;
	len = (size_t)r->p[1] | (size_t)r->p[2] << 8 | (size_t)r->p[3] << 16 |
	      (size_t)r->p[4] << 24;
	if ((size_t)(r->end - r->p - 5) < len)
		return -1;
	*tag_r = (char)r->p[0];
	*v_r = r->p + 5;
	*len_r = len;
	r->p += 5 + len;
	return 1;
}

static int64_t
num_of(const uint8_t *v, size_t len)
{
	char tmp[32];
	int64_t r = 0;

	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	if (str_to_int64(tmp, &r) < 0)
		return 0;
	return r;
}

static void
body_of(struct arena *a, const uint8_t *v, size_t len,
	struct mail_body_loc *loc)
{
	char *s = arena_strndup(a, (const char *)v, len);
	long long off, blen, usize;
	int enc, used = 0;

	if (sscanf(s, "%lld %lld %d %lld %n", &off, &blen, &enc, &usize,
		   &used) < 4 ||
	    off < 0 || blen < 0)
		return;
	loc->present = true;
	loc->off = off;
	loc->len = blen;
	loc->encoding = enc;
	loc->utf8_size = usize;
	loc->charset = s[used] != '\0' ? s + used : NULL;
}

static void
att_push(struct arena *a, struct mail_info *mi, const struct mail_att *at)
{
	if (mi->natts == mi->atts_cap) {
		size_t cap = mi->atts_cap == 0 ? 8 : mi->atts_cap * 2;
		struct mail_att *n = arena_alloc(a, cap * sizeof(*n));

		if (mi->natts > 0)
			memcpy(n, mi->atts, mi->natts * sizeof(*n));
		mi->atts = n;
		mi->atts_cap = cap;
	}
	mi->atts[mi->natts++] = *at;
}

/* Parse extra; returns 0 or -1 when it is not ours or damaged. */
static int
info_read(struct arena *a, const uint8_t *extra, size_t len,
	  struct mail_info *mi)
{
	struct rec_reader r, sub;
	const uint8_t *v, *sv;
	size_t vl, svl, ncat = 0, nflag = 0;
	char tag, stag;
	int ret;

	memset(mi, 0, sizeof(*mi));
	mi->importance = 1;
	mi->native_type = 1;
	if (extra == NULL || len < 2 || extra[0] != 'E' ||
	    extra[1] != MAIL_EXTRA_VERSION)
		return -1;
	/* count repeated records first so the arrays are sized once */
	r.p = extra + 2;
	r.end = extra + len;
	while ((ret = rec_next(&r, &tag, &v, &vl)) > 0) {
		if (tag == 'g')
			ncat++;
		else if (tag == 'f')
			nflag++;
	}
	if (ret < 0)
		return -1;
	mi->categories = arena_alloc(a, (ncat + 1) * sizeof(char *));
	mi->flag = arena_alloc(a, (nflag + 1) * sizeof(*mi->flag));
	r.p = extra + 2;
	while (rec_next(&r, &tag, &v, &vl) > 0) {
		const char *s = NULL;

		if (strchr("FTCBRSHDMKgL", tag) != NULL)
			s = arena_strndup(a, (const char *)v, vl);
		switch (tag) {
		case 'F':
			mi->from = s;
			break;
		case 'T':
			mi->to = s;
			break;
		case 'C':
			mi->cc = s;
			break;
		case 'B':
			mi->bcc = s;
			break;
		case 'R':
			mi->reply_to = s;
			break;
		case 'S':
			mi->subject = s;
			break;
		case 'H':
			mi->thread_topic = s;
			break;
		case 'D':
			mi->display_to = s;
			break;
		case 'M':
			mi->message_class = s;
			break;
		case 'K':
			mi->content_class = s;
			break;
		case 'L':
			mi->last_verb_time = s;
			break;
		case 'g':
			mi->categories[mi->ncategories++] = s;
			break;
		case 'I':
			mi->importance = (int)num_of(v, vl);
			break;
		case 'P':
			mi->cpid = (int)num_of(v, vl);
			break;
		case 'N':
			mi->native_type = (int)num_of(v, vl);
			break;
		case 'l':
			mi->last_verb = (int)num_of(v, vl);
			break;
		case 'Z':
			mi->smime = true;
			break;
		case 'V':
			if (vl == sizeof(mi->conv_id)) {
				memcpy(mi->conv_id, v, vl);
				mi->has_conv_id = true;
			}
			break;
		case 'X':
			if (vl == sizeof(mi->conv_index)) {
				memcpy(mi->conv_index, v, vl);
				mi->has_conv_index = true;
			}
			break;
		case 'b':
			body_of(a, v, vl, &mi->text);
			break;
		case 'h':
			body_of(a, v, vl, &mi->html);
			break;
		case 'v':
			body_of(a, v, vl, &mi->cal);
			break;
		case 'f':
			if (vl >= 2) {
				mi->flag[mi->nflag].tag =
					(uint16_t)(v[0] << 8 | v[1]);
				mi->flag[mi->nflag].value = arena_strndup(
					a, (const char *)v + 2, vl - 2);
				mi->nflag++;
			}
			break;
		case 'A': {
			struct mail_att at = {.method = 1};

			sub.p = v;
			sub.end = v + vl;
			while (rec_next(&sub, &stag, &sv, &svl) > 0) {
				const char *ss =
					arena_strndup(a, (const char *)sv, svl);

				switch (stag) {
				case 'p':
					at.path = ss;
					break;
				case 'n':
					at.name = ss;
					break;
				case 't':
					at.ctype = ss;
					break;
				case 'c':
					at.cid = ss;
					break;
				case 's':
					at.size = num_of(sv, svl);
					break;
				case 'i':
					at.is_inline = true;
					break;
				case 'm':
					at.method = (int)num_of(sv, svl);
					break;
				default:
					break;
				}
			}
			att_push(a, mi, &at);
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

/* --- intake --- */

/* What internet_address_list_to_string(list, NULL, FALSE) writes, for a
 * list of mailboxes whose names need no quoting and whose addresses are
 * plain ASCII with a lower-case domain, or NULL for any other list. GMime
 * passes every domain through libidn2 to write it, a sixth of taking in a
 * small message; such a domain comes out as it went in. The list stays
 * short enough that GMime would not fold it. */
#define ADDR_PLAIN_MAX 76

static bool
addr_plain_name(const char *s)
{
	if (*s == ' ')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!g_ascii_isalnum(c) && c != '-' && c != '_' &&
		    !(c == ' ' && s[1] != ' ' && s[1] != '\0'))
			return false;
	}
	return true;
}

static bool
addr_plain_spec(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
	    strstr(at, "xn--") != NULL)
		return false;
	for (const char *p = s; p < at; p++)
		if (!g_ascii_isalnum(*p) && strchr(".-_+", *p) == NULL)
			return false;
	for (const char *p = at + 1; *p != '\0'; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '.' &&
		    *p != '-')
			return false;
	return at[1] != '.' && s[0] != '.' && at[-1] != '.';
}

static const char *
addr_list_plain(struct arena *a, InternetAddressList *list)
{
	char out[ADDR_PLAIN_MAX + 1];
	size_t len = 0;
	int n = internet_address_list_length(list);

	for (int i = 0; i < n; i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);
		const char *name, *addr;
		int w;

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			return NULL;
		name = internet_address_get_name(ia);
		addr = internet_address_mailbox_get_addr(
			INTERNET_ADDRESS_MAILBOX(ia));
		if (addr == NULL || !addr_plain_spec(addr) ||
		    (name != NULL && !addr_plain_name(name)))
			return NULL;
		if (name != NULL && *name != '\0')
			w = snprintf(out + len, sizeof(out) - len, "%s%s <%s>",
				     i > 0 ? ", " : "", name, addr);
		else
			w = snprintf(out + len, sizeof(out) - len, "%s%s",
				     i > 0 ? ", " : "", addr);
		if (w < 0 || (size_t)w >= sizeof(out) - len)
			return NULL;
		len += (size_t)w;
	}
	return arena_strndup(a, out, len);
}

static const char *
addr_list_str(struct arena *a, InternetAddressList *list)
{
	char *s;
	const char *r;

	if (list == NULL || internet_address_list_length(list) == 0)
		return NULL;
	if ((r = addr_list_plain(a, list)) != NULL)
		return r;
	s = internet_address_list_to_string(list, NULL, FALSE);
	r = header_clean(a, s);
	g_free(s);
	return r;
}

/* Display names of the To recipients, "; " separated (MS-ASEMAIL
 * 2.2.2.25 DisplayTo). */
static const char *
display_to(struct arena *a, InternetAddressList *list)
{
	struct buf b;
	const char *r;
	int n;

	if (list == NULL || (n = internet_address_list_length(list)) == 0)
		return NULL;
	buf_init(&b, MAIL_HEADER_FIELD_MAX);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);
		const char *name = internet_address_get_name(ia);

		if ((name == NULL || *name == '\0') &&
		    INTERNET_ADDRESS_IS_MAILBOX(ia))
			name = internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia));
		if (name == NULL || *name == '\0')
			continue;
		if (b.len > 0)
			buf_puts(&b, "; ");
		buf_puts(&b, name);
	}
	r = b.len > 0 ? header_clean(a, (const char *)b.data) : NULL;
	buf_deinit(&b);
	return r;
}

static const char *
decoded_header(struct arena *a, GMimeObject *obj, const char *name)
{
	const char *raw = g_mime_object_get_header(obj, name);
	char *dec;
	const char *r;

	if (raw == NULL)
		return NULL;
	dec = g_mime_utils_header_decode_text(NULL, raw);
	r = header_clean(a, dec != NULL ? dec : raw);
	g_free(dec);
	return r;
}

/* MS-ASEMAIL 2.2.2.39 Importance: 0 low, 1 normal, 2 high, from the
 * values of the Importance, X-Priority and Priority headers (NULL when
 * absent). */
static int
importance_from(const char *imp, const char *prio, const char *p2)
{
	while (imp != NULL && *imp == ' ')
		imp++;
	if (imp != NULL && str_has_iprefix(imp, "high"))
		return 2;
	if (imp != NULL && str_has_iprefix(imp, "low"))
		return 0;
	while (prio != NULL && (*prio == ' ' || *prio == '\t'))
		prio++;
	if (prio != NULL && (*prio == '1' || *prio == '2'))
		return 2;
	if (prio != NULL && (*prio == '4' || *prio == '5'))
		return 0;
	while (p2 != NULL && *p2 == ' ')
		p2++;
	if (p2 != NULL && str_has_iprefix(p2, "urgent"))
		return 2;
	if (p2 != NULL && str_has_iprefix(p2, "non-urgent"))
		return 0;
	return 1;
}

static int
importance_of(GMimeObject *msg)
{
	return importance_from(g_mime_object_get_header(msg, "Importance"),
			       g_mime_object_get_header(msg, "X-Priority"),
			       g_mime_object_get_header(msg, "Priority"));
}

/* Windows code page numbers of the charsets we meet (InternetCPID). */
static int
cpid_of(const char *charset)
{
	static const struct {
		const char *name;
		int cpid;
	} map[] = {
		{"utf-8", 65001},	{"us-ascii", 20127},
		{"iso-8859-1", 28591},	{"iso-8859-2", 28592},
		{"iso-8859-5", 28595},	{"iso-8859-7", 28597},
		{"iso-8859-9", 28599},	{"iso-8859-15", 28605},
		{"windows-1250", 1250}, {"windows-1251", 1251},
		{"windows-1252", 1252}, {"koi8-r", 20866},
		{"koi8-u", 21866},	{"shift_jis", 932},
		{"iso-2022-jp", 50220}, {"euc-jp", 51932},
		{"gb2312", 936},	{"gbk", 936},
		{"gb18030", 54936},	{"big5", 950},
		{"euc-kr", 51949},	{"ks_c_5601-1987", 949},
		{"utf-16", 1200},
	};

	if (charset == NULL || *charset == '\0')
		return 20127;
	for (size_t i = 0; i < N_ELEMENTS(map); i++) {
		if (str_ieq(charset, map[i].name))
			return map[i].cpid;
	}
	if (str_ieq(charset, "utf8"))
		return 65001;
	if (str_ieq(charset, "sjis") || str_ieq(charset, "x-sjis"))
		return 932;
	return 65001;
}

struct walk_ctx {
	struct arena *a;
	struct mail_info *mi;
	const char *data;
	size_t len;
	const char *body_charset;
	bool report;
	size_t nparts;
};

static const char *
ctype_str(struct arena *a, GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *t =
		ct != NULL ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *s =
		ct != NULL ? g_mime_content_type_get_media_subtype(ct) : NULL;
	char *r;

	r = arena_printf(a, "%s/%s", t != NULL ? t : "application",
			 s != NULL ? s : "octet-stream");
	for (char *p = r; *p != '\0'; p++)
		*p = (char)g_ascii_tolower(*p);
	return header_clean(a, r);
}

/* Bytes of the part's content once decoded (what the client downloads). */
static int64_t
decoded_size(GMimeObject *obj)
{
	GMimeStream *null = g_mime_stream_null_new();
	int64_t n = 0;

	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		if (w != NULL)
			g_mime_data_wrapper_write_to_stream(w, null);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));

		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL,
						      null);
	}
	n = (int64_t)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	return n;
}

static bool
body_locate(struct walk_ctx *w, GMimePart *part, struct mail_body_loc *loc)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *st;
	const char *cs;
	size_t n;
	int64_t end;

	if (dw == NULL)
		return false;
	st = g_mime_data_wrapper_get_stream(dw);
	if (st == NULL)
		return false;
	end = st->bound_end < 0 ? (int64_t)w->len : st->bound_end;
	if (st->bound_start < 0 || end < st->bound_start ||
	    end > (int64_t)w->len)
		return false;
	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
						      "charset");
	loc->present = true;
	loc->off = st->bound_start;
	loc->len = end - st->bound_start;
	loc->encoding = g_mime_data_wrapper_get_encoding(dw);
	loc->charset = cs != NULL ? header_clean(w->a, cs) : NULL;
	if (loc->charset != NULL && strlen(loc->charset) > 100)
		loc->charset = NULL;
	n = text_utf8_size(w->a, w->data + loc->off, (size_t)loc->len,
			   loc->encoding, loc->charset);
	loc->utf8_size = (int64_t)n;
	if (w->body_charset == NULL)
		w->body_charset = loc->charset != NULL ? loc->charset : "";
	return true;
}

static const char *
default_name(struct walk_ctx *w, const char *ctype, size_t idx)
{
	const char *sub = strchr(ctype, '/');
	const char *ext = sub != NULL ? sub + 1 : "bin";

	if (str_ieq(ctype, "text/plain"))
		ext = "txt";
	else if (str_ieq(ctype, "text/calendar"))
		ext = "ics";
	else if (str_ieq(ctype, "application/pkcs7-signature") ||
		 str_ieq(ctype, "application/x-pkcs7-signature"))
		return "smime.p7s";
	else if (str_ieq(ctype, "application/pkcs7-mime") ||
		 str_ieq(ctype, "application/x-pkcs7-mime"))
		return "smime.p7m";
	else if (strlen(ext) > 10 || strchr(ext, '.') != NULL)
		ext = "bin";
	return arena_printf(w->a, "attachment-%zu.%s", idx + 1, ext);
}

static void
add_attachment(struct walk_ctx *w, GMimeObject *obj, const char *path,
	       const char *ctype)
{
	struct mail_att at = {.path = path, .ctype = ctype, .method = 1};
	const char *disp = g_mime_object_get_disposition(obj);
	const char *name = NULL;

	if (w->mi->natts >= MAIL_MAX_ATTACHMENTS)
		return;
	if (GMIME_IS_PART(obj)) {
		const char *cid = g_mime_part_get_content_id(GMIME_PART(obj));

		name = g_mime_part_get_filename(GMIME_PART(obj));
		at.cid = header_clean(w->a, cid);
		at.is_inline = (disp != NULL && str_ieq(disp, "inline")) ||
			       (disp == NULL && cid != NULL);
	}
	at.name =
		name != NULL && *name != '\0' ? header_clean(w->a, name) : NULL;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));
		const char *subj =
			m != NULL ? g_mime_message_get_subject(m) : NULL;
		size_t nl;

		/* MS-ASAIRS 2.2.2.30 Method 5: embedded message; clients
		 * only open it with an .eml name. */
		at.method = 5;
		if (at.name == NULL && subj != NULL && *subj != '\0')
			at.name = header_clean(w->a, subj);
		if (at.name == NULL)
			at.name = "message";
		nl = strlen(at.name);
		if (nl < 4 || !str_ieq(at.name + nl - 4, ".eml"))
			at.name = arena_printf(w->a, "%s.eml", at.name);
	}
	if (at.name == NULL)
		at.name = default_name(w, ctype, w->mi->natts);
	at.size = decoded_size(obj);
	att_push(w->a, w->mi, &at);
}

static void
walk(struct walk_ctx *w, GMimeObject *obj, const char *path, unsigned depth)
{
	const char *ctype;

	if (obj == NULL || depth > MAIL_MAX_DEPTH || ++w->nparts > 10000)
		return;
	ctype = ctype_str(w->a, obj);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		if (str_ieq(ctype, "multipart/report"))
			w->report = true;
		for (int i = 0; i < n; i++) {
			const char *sub =
				*path == '\0' ? arena_printf(w->a, "%d", i + 1)
					      : arena_printf(w->a, "%s.%d",
							     path, i + 1);

			walk(w, g_mime_multipart_get_part(mp, i), sub,
			     depth + 1);
		}
		return;
	}
	if (GMIME_IS_PART(obj)) {
		GMimePart *part = GMIME_PART(obj);
		bool att = g_mime_part_is_attachment(part);

		if (!att && str_ieq(ctype, "text/plain") &&
		    !w->mi->text.present && body_locate(w, part, &w->mi->text))
			return;
		if (!att && str_ieq(ctype, "text/html") &&
		    !w->mi->html.present && body_locate(w, part, &w->mi->html))
			return;
		/* the invitation of a meeting message: the first
		 * text/calendar, wherever it is (its attachment stays) */
		if (str_ieq(ctype, "text/calendar") && !w->mi->cal.present) {
			const char *cs = w->body_charset;

			body_locate(w, part, &w->mi->cal);
			w->body_charset = cs;
		}
	}
	add_attachment(w, obj, *path == '\0' ? "1" : path, ctype);
}

/* A meeting message (MS-ASEMAIL 2.2.2.49): the class follows the iTIP
 * method and, for a reply, the answer in it. An invitation that cannot
 * be read stays plain mail with the part as an attachment. */
static void
meeting_class(struct walk_ctx *w)
{
	struct mail_info *mi = w->mi;
	struct store_item tmp = {.data = (const uint8_t *)w->data,
				 .data_len = w->len};
	struct itip it;
	const char *ics, *error;
	size_t len;

	if (mi->cal.utf8_size > (int64_t)ITIP_MAX_SIZE) {
		mi->cal.present = false;
		return;
	}
	ics = mail_body_text(w->a, &tmp, &mi->cal, &len);
	if (itip_parse(w->a, ics, len, &it, &error) < 0) {
		mi->cal.present = false;
		return;
	}
	switch (it.method) {
	case ITIP_REQUEST:
	case ITIP_ADD:
	case ITIP_PUBLISH:
		mi->message_class = "IPM.Schedule.Meeting.Request";
		break;
	case ITIP_CANCEL:
		mi->message_class = "IPM.Schedule.Meeting.Canceled";
		break;
	case ITIP_REPLY:
	case ITIP_COUNTER: {
		icalproperty *att = icalcomponent_get_first_property(
			it.ev, ICAL_ATTENDEE_PROPERTY);
		enum itip_answer ans =
			att != NULL ? itip_answer_of(att) : ITIP_NO_ANSWER;

		mi->message_class =
			ans == ITIP_DECLINED ? "IPM.Schedule.Meeting.Resp.Neg"
			: ans == ITIP_TENTATIVE || it.method == ITIP_COUNTER
				? "IPM.Schedule.Meeting.Resp.Tent"
				: "IPM.Schedule.Meeting.Resp.Pos";
		break;
	}
	default:
		mi->cal.present = false;
		return;
	}
	mi->content_class = "urn:content-classes:calendarmessage";
}

/* The message class (MS-ASEMAIL 2.2.2.49) from the top-level structure. */
static void
classify(struct walk_ctx *w, GMimeObject *top, const char *ctype)
{
	struct mail_info *mi = w->mi;
	const char *proto =
		g_mime_object_get_content_type_parameter(top, "protocol");

	mi->message_class = "IPM.Note";
	mi->content_class = "urn:content-classes:message";
	if (str_ieq(ctype, "multipart/signed") && proto != NULL &&
	    (str_ieq(proto, "application/pkcs7-signature") ||
	     str_ieq(proto, "application/x-pkcs7-signature"))) {
		mi->message_class = "IPM.Note.SMIME.MultipartSigned";
		mi->smime = true;
	} else if (str_ieq(ctype, "application/pkcs7-mime") ||
		   str_ieq(ctype, "application/x-pkcs7-mime")) {
		mi->message_class = "IPM.Note.SMIME";
		mi->smime = true;
	} else if (w->report) {
		mi->message_class = "REPORT.IPM.Note.NDR";
	} else if (w->mi->cal.present) {
		meeting_class(w);
	}
}

static const char *
strip_reply_prefixes(const char *s)
{
	static const char *const pfx[] = {
		"re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:"};
	bool again = true;

	while (s != NULL && again) {
		again = false;
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < N_ELEMENTS(pfx); i++) {
			if (str_has_iprefix(s, pfx[i])) {
				s += strlen(pfx[i]);
				again = true;
			}
		}
	}
	return s;
}

/* MS-ASEMAIL 2.2.2.16 ConversationId: the same 16 bytes for every message
 * of a thread, so we hash the thread root's Message-ID (the first
 * References entry, else In-Reply-To, else the message's own id). */
static void
conversation_ids(struct walk_ctx *w, const char *references,
		 const char *in_reply_to, const char *message_id, int64_t date)
{
	struct mail_info *mi = w->mi;
	const char *root = NULL;
	GMimeReferences *refs = NULL;
	GChecksum *ck;
	gsize dlen = 16;
	uint64_t ft;

	if (references != NULL)
		refs = g_mime_references_parse(NULL, references);
	if (refs == NULL || g_mime_references_length(refs) == 0) {
		if (refs != NULL)
			g_mime_references_free(refs);
		refs = NULL;
		if (in_reply_to != NULL)
			refs = g_mime_references_parse(NULL, in_reply_to);
	}
	if (refs != NULL && g_mime_references_length(refs) > 0)
		root = arena_strdup(w->a,
				    g_mime_references_get_message_id(refs, 0));
	if (refs != NULL)
		g_mime_references_free(refs);
	if (root == NULL)
		root = message_id;
	if (root == NULL)
		root = arena_printf(w->a, "subject:%s",
				    strip_reply_prefixes(mi->subject != NULL
								 ? mi->subject
								 : ""));
	ck = g_checksum_new(G_CHECKSUM_MD5);
	g_checksum_update(ck, (const guchar *)root, (gssize)strlen(root));
	g_checksum_get_digest(ck, mi->conv_id, &dlen);
	g_checksum_free(ck);
	mi->has_conv_id = true;
	/* MS-ASEMAIL 2.2.2.17 ConversationIndex header block: reserved 0x01,
	 * the 5 high bytes of the FILETIME, then the 16-byte id. */
	ft = (uint64_t)(date + 11644473600LL) * 10000000ULL;
	mi->conv_index[0] = 0x01;
	for (int i = 0; i < 5; i++)
		mi->conv_index[1 + i] = (uint8_t)(ft >> (56 - 8 * i));
	memcpy(mi->conv_index + 6, mi->conv_id, 16);
	mi->has_conv_index = true;
}

/* Parse data into a GMimeMessage owned by the arena, or NULL. */
GMimeMessage *
mail_mime_parse(struct arena *a, const char *data, size_t len)
{
	GMimeStream *st;
	GMimeParser *parser;
	GMimeMessage *msg;

	mail_init();
	st = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(st);
	if (msg != NULL)
		arena_add_cleanup(a, mail_unref, msg);
	return msg;
}

/* Whether the bytes look like a message at all: some header line first. */
static bool
looks_like_message(const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && (data[i] == '\r' || data[i] == '\n'))
		i++;
	for (; i < len && i < 1000; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == ':')
			return i > 0;
		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return false;
}

/* --- the light reader --- */

/* Most delivered mail is one text/plain part, or a multipart/alternative
 * of text/plain and text/html, under a plain ASCII header: for that the
 * fields are read here without GMime's parser and object tree (two thirds
 * of the instructions of a delivery went to building and freeing it),
 * with the same GMime functions on each header value (or none, for the
 * plainest values), so that what is stored is the same. Anything else (a
 * folded or 8-bit header line, a field given twice, another content type,
 * a disposition, no body, boundaries that are not plain) is left to
 * GMime. test-mail and fuzz-mime hold the two to the same bytes. */

enum light_field {
	LF_FROM,
	LF_TO,
	LF_CC,
	LF_REPLY_TO,
	LF_BCC,
	LF_SUBJECT,
	LF_DATE,
	LF_MESSAGE_ID,
	LF_REFERENCES,
	LF_IN_REPLY_TO,
	LF_IMPORTANCE,
	LF_X_PRIORITY,
	LF_PRIORITY,
	LF_CONTENT_TYPE,
	LF_CTE,
	LF_COUNT,
	LF_DECLINE = LF_COUNT, /* a field only GMime reads */
	LF_OTHER
};

static const char *const light_names[] = {
	[LF_FROM] = "From",
	[LF_TO] = "To",
	[LF_CC] = "Cc",
	[LF_REPLY_TO] = "Reply-To",
	[LF_BCC] = "Bcc",
	[LF_SUBJECT] = "Subject",
	[LF_DATE] = "Date",
	[LF_MESSAGE_ID] = "Message-Id",
	[LF_REFERENCES] = "References",
	[LF_IN_REPLY_TO] = "In-Reply-To",
	[LF_IMPORTANCE] = "Importance",
	[LF_X_PRIORITY] = "X-Priority",
	[LF_PRIORITY] = "Priority",
	[LF_CONTENT_TYPE] = "Content-Type",
	[LF_CTE] = "Content-Transfer-Encoding",
};

/* fields whose presence sends the message to GMime */
static const char *const light_decline[] = {
	"Thread-Topic", "Content-Disposition", "Resent-From", "Sender",
	"Resent-To",	"Resent-Cc",	       "Resent-Bcc",  "Resent-Date",
};

static enum light_field
light_field_of(const char *name, size_t n)
{
	/* a name of the table that is not n long differs in its first n
	 * bytes or has no NUL after them: no strlen a line */
	for (size_t i = 0; i < LF_COUNT; i++)
		if (g_ascii_strncasecmp(name, light_names[i], n) == 0 &&
		    light_names[i][n] == '\0')
			return (enum light_field)i;
	for (size_t i = 0; i < N_ELEMENTS(light_decline); i++)
		if (g_ascii_strncasecmp(name, light_decline[i], n) == 0 &&
		    light_decline[i][n] == '\0')
			return LF_DECLINE;
	/* anything else MIME-ish at the top is GMime's to judge */
	if (n >= 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0)
		return LF_DECLINE;
	return LF_OTHER;
}

/* The header block: each known field's value (trimmed, in a) and where
 * the body starts. false when the message is not for the light reader. */
static bool
light_header(struct arena *a, const char *data, size_t len,
	     const char *v[LF_COUNT], size_t *body_r)
{
	size_t i = 0;
	/* the field of the line before: a line folded onto a field the
	 * light reader ignores (Received, DKIM-Signature, ...) goes with it,
	 * as it goes with it in GMime; one folded onto a field it reads, the
	 * first line, or a blank one is GMime's */
	enum light_field prev = LF_DECLINE;

	memset(v, 0, sizeof(*v) * LF_COUNT);
	while (i < len) {
		const char *line = data + i, *nl, *colon;
		size_t n, end;
		enum light_field f;
		bool folded;

		nl = memchr(line, '\n', len - i);
		if (nl == NULL)
			return false; /* no body */
		n = (size_t)(nl - line);
		end = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
		i += n + 1;
		if (end == 0) {
			*body_r = i;
			return i < len;
		}
		folded = line[0] == ' ' || line[0] == '\t';
		if (folded && prev != LF_OTHER)
			return false;
		for (size_t k = 0; k < end; k++) {
			unsigned char c = (unsigned char)line[k];

			if ((c < 0x20 && c != '\t') || c > 0x7e)
				return false;
		}
		if (folded) {
			size_t k = 0;

			while (k < end && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (k == end)
				return false;
			continue;
		}
		colon = memchr(line, ':', end);
		if (colon == NULL || colon == line)
			return false;
		for (const char *p = line; p < colon; p++)
			if (*p == ' ' || *p == '\t')
				return false;
		f = light_field_of(line, (size_t)(colon - line));
		prev = f;
		if (f == LF_DECLINE)
			return false;
		if (f == LF_OTHER)
			continue;
		if (v[f] != NULL)
			return false; /* given twice */
		{
			const char *p = colon + 1, *e = line + end;

			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			v[f] = arena_strndup(a, p, (size_t)(e - p));
		}
	}
	return false;
}

/* One mailbox written "addr", "<addr>" or "Name <addr>" with a name and
 * an address that addr_list_plain writes as they are: what it writes
 * (and the DisplayTo part) without GMime's list, or false. */
static bool
light_mailbox(struct arena *a, const char *value, const char **r,
	      const char **display_r)
{
	const char *lt = strchr(value, '<'), *gt;
	char *name = NULL, *addr;

	if (lt == NULL) {
		addr = arena_strdup(a, value);
	} else {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0' || strchr(lt + 1, '<') != NULL)
			return false;
		addr = arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
		if (lt > value) {
			if (lt[-1] != ' ' || lt - 1 == value)
				return false;
			name = arena_strndup(a, value,
					     (size_t)(lt - 1 - value));
		}
	}
	/* GMime drops a trailing dot and may mend a double one */
	if (!addr_plain_spec(addr) ||
	    (name != NULL && !addr_plain_name(name)) ||
	    addr[strlen(addr) - 1] == '.' || strstr(addr, "..") != NULL)
		return false;
	*r = name != NULL ? arena_printf(a, "%s <%s>", name, addr) : addr;
	if (strlen(*r) > ADDR_PLAIN_MAX)
		return false;
	if (display_r != NULL)
		*display_r = name != NULL ? name : addr;
	return true;
}

/* An address field into *r (NULL when absent). false when GMime's
 * list parser gives up on it: what the message parser makes of such a
 * value (it keeps the addresses before the bad part) is GMime's to say. */
static bool
light_addr(struct arena *a, const char *value, const char **r,
	   const char **display_r)
{
	InternetAddressList *list;

	*r = NULL;
	if (value == NULL || light_mailbox(a, value, r, display_r))
		return true;
	list = internet_address_list_parse(NULL, value);
	if (list == NULL)
		return false;
	*r = addr_list_str(a, list);
	if (display_r != NULL)
		*display_r = display_to(a, list);
	g_object_unref(list);
	return true;
}

/* Whether value is type ("text/plain") alone or with one charset
 * parameter, a plain token or one in quotes without escapes: *charset_r
 * (in a) is then what GMime reads of it, NULL without one. Anything else
 * goes to g_mime_content_type_parse. */
static bool
light_text(struct arena *a, const char *value, const char *type,
	   const char **charset_r)
{
	const char *p = value, *cs;
	size_t n = strlen(type);
	bool quoted;

	*charset_r = NULL;
	if (g_ascii_strncasecmp(p, type, n) != 0)
		return false;
	p += n;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	p++;
	while (*p == ' ')
		p++;
	if (g_ascii_strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	quoted = *p == '"';
	p += quoted;
	cs = p;
	while (g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.' ||
	       *p == ':')
		p++;
	n = (size_t)(p - cs);
	if (n == 0 || (quoted && *p++ != '"') || *p != '\0')
		return false;
	*charset_r = arena_strndup(a, cs, n);
	return true;
}

/* One part of a multipart/alternative from p to end: a header of only
 * Content-Type (of type) and Content-Transfer-Encoding, a body; into loc.
 * false when it is not that simple. */
static bool
light_alt_part(struct arena *a, const char *data, size_t p, size_t end,
	       const char *type, bool crlf, struct mail_body_loc *loc)
{
	const char *ctv = NULL, *ctev = NULL, *cs;

	while (p < end) {
		const char *line = data + p, *nl = memchr(line, '\n', end - p);
		size_t n, e;

		if (nl == NULL)
			return false;
		n = (size_t)(nl - line);
		e = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
		p += n + 1;
		if ((e != n) != crlf)
			return false; /* line ends mixed */
		if (e == 0)
			break;
		for (size_t k = 0; k < e; k++)
			if ((unsigned char)line[k] < 0x20 ||
			    (unsigned char)line[k] > 0x7e)
				return false;
		if (e > 13 &&
		    g_ascii_strncasecmp(line, "Content-Type:", 13) == 0 &&
		    ctv == NULL) {
			const char *v = line + 13, *ve = line + e;

			while (v < ve && *v == ' ')
				v++;
			ctv = arena_strndup(a, v, (size_t)(ve - v));
		} else if (e > 26 &&
			   g_ascii_strncasecmp(
				   line, "Content-Transfer-Encoding:", 26) ==
				   0 &&
			   ctev == NULL) {
			const char *v = line + 26, *ve = line + e;

			while (v < ve && *v == ' ')
				v++;
			while (ve > v && ve[-1] == ' ')
				ve--;
			ctev = arena_strndup(a, v, (size_t)(ve - v));
		} else {
			return false;
		}
	}
	if (ctv == NULL || p >= end || !light_text(a, ctv, type, &cs))
		return false;
	loc->present = true;
	loc->off = (int64_t)p;
	loc->len = (int64_t)(end - p);
	loc->encoding = ctev != NULL
				? (int)g_mime_content_encoding_from_string(ctev)
				: GMIME_CONTENT_ENCODING_DEFAULT;
	loc->charset = cs != NULL && strlen(cs) <= 100 ? cs : NULL;
	loc->utf8_size = (int64_t)text_utf8_size(a, data + p, end - p,
						 loc->encoding, loc->charset);
	return true;
}

/* A multipart/alternative body of a text/plain part then a text/html one,
 * between boundary lines that are exactly "--boundary" and, last,
 * "--boundary--". */
static bool
light_alternative(struct arena *a, const char *data, size_t len, size_t body,
		  const char *boundary, struct mail_info *mi)
{
	size_t blen = strlen(boundary), i = body, starts[3], ends[3];
	unsigned nb = 0;
	bool closed = false, crlf = false;

	if (blen == 0 || blen > 70)
		return false;
	while (i < len) {
		const char *line = data + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - i, e;

		e = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
		if (closed) {
			if (e != 0)
				return false; /* an epilogue */
		} else if (e >= 2 + blen && line[0] == '-' && line[1] == '-' &&
			   memcmp(line + 2, boundary, blen) == 0) {
			bool last = e == 4 + blen && line[2 + blen] == '-' &&
				    line[3 + blen] == '-';

			if ((e != 2 + blen && !last) || nl == NULL)
				return false;
			/* one kind of line end throughout */
			if (nb == 0)
				crlf = e != n;
			if ((e != n) != crlf)
				return false;
			if (nb > 0) {
				/* the part ends before the line break that
				 * precedes the boundary */
				if (i < 2 || data[i - 1] != '\n' ||
				    (data[i - 2] == '\r') != crlf)
					return false;
				ends[nb - 1] = i - (crlf ? 2 : 1);
			}
			if (last) {
				closed = true;
			} else {
				if (nb == 3)
					return false;
				starts[nb++] = i + n + (nl != NULL);
			}
		} else if (e >= 2 && line[0] == '-' && line[1] == '-' &&
			   nb == 0) {
			return false; /* a preamble that looks like one */
		}
		i += n + (nl != NULL);
	}
	if (!closed || nb != 2)
		return false;
	return light_alt_part(a, data, starts[0], ends[0], "text/plain", crlf,
			      &mi->text) &&
	       light_alt_part(a, data, starts[1], ends[1], "text/html", crlf,
			      &mi->html);
}

/* 1 read, 0 not a message for the light reader. */
static int
light_parse(struct arena *a, const char *data, size_t len, struct mail_info *mi,
	    struct store_item_meta *meta, int64_t now)
{
	struct walk_ctx w = {.a = a, .mi = mi, .data = data, .len = len};
	const char *v[LF_COUNT], *cs = NULL, *msgid = NULL;
	GMimeContentType *ct = NULL;
	size_t body, n;
	bool alt = false;
	char *tmp;

	if (!light_header(a, data, len, v, &body))
		return 0;
	if (v[LF_CONTENT_TYPE] != NULL &&
	    light_text(a, v[LF_CONTENT_TYPE], "text/plain", &cs)) {
		/* read as GMime would */
	} else if (v[LF_CONTENT_TYPE] != NULL) {
		const char *t, *st;

		ct = g_mime_content_type_parse(NULL, v[LF_CONTENT_TYPE]);
		t = ct != NULL ? g_mime_content_type_get_media_type(ct) : NULL;
		st = ct != NULL ? g_mime_content_type_get_media_subtype(ct)
				: NULL;
		if (t != NULL && st != NULL && str_ieq(t, "multipart") &&
		    str_ieq(st, "alternative")) {
			const char *bd = g_mime_content_type_get_parameter(
				ct, "boundary");

			alt = bd != NULL &&
			      light_alternative(a, data, len, body, bd, mi);
			g_object_unref(ct);
			if (!alt)
				return 0;
		} else if (t == NULL || st == NULL || !str_ieq(t, "text") ||
			   !str_ieq(st, "plain")) {
			if (ct != NULL)
				g_object_unref(ct);
			return 0;
		} else {
			cs = g_mime_content_type_get_parameter(ct, "charset");
			cs = cs != NULL ? header_clean(a, cs) : NULL;
			g_object_unref(ct);
		}
	}
	if (!light_addr(a, v[LF_FROM], &mi->from, NULL) ||
	    !light_addr(a, v[LF_TO], &mi->to, &mi->display_to) ||
	    !light_addr(a, v[LF_CC], &mi->cc, NULL) ||
	    !light_addr(a, v[LF_REPLY_TO], &mi->reply_to, NULL) ||
	    !light_addr(a, v[LF_BCC], &mi->bcc, NULL))
		return 0;
	if (v[LF_SUBJECT] != NULL) {
		tmp = g_mime_utils_header_decode_text(NULL, v[LF_SUBJECT]);
		mi->subject = header_clean(a, tmp);
		g_free(tmp);
	}
	if (mi->subject != NULL)
		mi->thread_topic = strip_reply_prefixes(mi->subject);
	mi->importance = importance_from(v[LF_IMPORTANCE], v[LF_X_PRIORITY],
					 v[LF_PRIORITY]);
	meta->date = 0;
	if (v[LF_DATE] != NULL) {
		GDateTime *dt = g_mime_utils_header_decode_date(v[LF_DATE]);

		if (dt != NULL) {
			meta->date = g_date_time_to_unix(dt);
			g_date_time_unref(dt);
		}
	}
	if (meta->date <= 0)
		meta->date = now;
	meta->size = (int64_t)len;
	meta->subject = mi->subject;
	if (v[LF_MESSAGE_ID] != NULL) {
		tmp = g_mime_utils_decode_message_id(v[LF_MESSAGE_ID]);
		msgid = tmp != NULL ? arena_strdup(a, tmp) : NULL;
		g_free(tmp);
	}
	meta->message_id = header_clean(a, msgid);

	if (!alt) {
		/* the one text/plain part: the body after the header */
		mi->text.present = true;
		mi->text.off = (int64_t)body;
		mi->text.len = (int64_t)(len - body);
		mi->text.encoding =
			v[LF_CTE] != NULL
				? (int)g_mime_content_encoding_from_string(
					  v[LF_CTE])
				: GMIME_CONTENT_ENCODING_DEFAULT;
		mi->text.charset = cs != NULL && strlen(cs) <= 100 ? cs : NULL;
		n = text_utf8_size(a, data + body, len - body,
				   mi->text.encoding, mi->text.charset);
		mi->text.utf8_size = (int64_t)n;
	}
	w.body_charset = mi->text.charset != NULL ? mi->text.charset : "";
	mi->message_class = "IPM.Note";
	mi->content_class = "urn:content-classes:message";
	mi->native_type = mi->html.present ? 2 : 1;
	mi->cpid = cpid_of(w.body_charset);
	conversation_ids(&w, v[LF_REFERENCES], v[LF_IN_REPLY_TO], msgid,
			 meta->date);
	return 1;
}

static int
gmime_parse(struct arena *a, const char *data, size_t len, struct mail_info *mi,
	    struct store_item_meta *meta, int64_t now, const char **error_r)
{
	struct walk_ctx w = {.a = a, .mi = mi, .data = data, .len = len};
	GMimeMessage *msg;
	GMimeObject *top;
	GDateTime *dt;
	const char *ctype;

	msg = mail_mime_parse(a, data, len);
	if (msg == NULL) {
		*error_r = "unparsable message";
		return -1;
	}
	mi->from = addr_list_str(a, g_mime_message_get_from(msg));
	mi->to = addr_list_str(a, g_mime_message_get_to(msg));
	mi->cc = addr_list_str(a, g_mime_message_get_cc(msg));
	mi->reply_to = addr_list_str(a, g_mime_message_get_reply_to(msg));
	mi->bcc = addr_list_str(a, g_mime_message_get_bcc(msg));
	mi->display_to = display_to(a, g_mime_message_get_to(msg));
	mi->subject = header_clean(a, g_mime_message_get_subject(msg));
	mi->thread_topic = decoded_header(a, GMIME_OBJECT(msg), "Thread-Topic");
	if (mi->thread_topic == NULL && mi->subject != NULL)
		mi->thread_topic = strip_reply_prefixes(mi->subject);
	mi->importance = importance_of(GMIME_OBJECT(msg));

	dt = g_mime_message_get_date(msg);
	meta->date = dt != NULL ? g_date_time_to_unix(dt) : 0;
	if (meta->date <= 0)
		meta->date = now;
	meta->size = (int64_t)len;
	meta->subject = mi->subject;
	meta->message_id = header_clean(a, g_mime_message_get_message_id(msg));

	top = g_mime_message_get_mime_part(msg);
	ctype = top != NULL ? ctype_str(a, top) : "text/plain";
	if (top != NULL)
		walk(&w, top, "", 0);
	classify(&w, top != NULL ? top : GMIME_OBJECT(msg), ctype);
	mi->native_type = mi->html.present ? 2 : 1;
	mi->cpid = cpid_of(w.body_charset);
	conversation_ids(
		&w, g_mime_object_get_header(GMIME_OBJECT(msg), "References"),
		g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
		g_mime_message_get_message_id(msg), meta->date);
	return 0;
}

/* 0, -1 with *error_r, or 1 when how is MAIL_PARSE_LIGHT and the light
 * reader leaves the message to GMime. */
static int
parse_info(struct arena *a, const char *data, size_t len, enum mail_parser how,
	   int64_t now, struct mail_info *mi, struct store_item_meta *meta,
	   const char **error_r)
{
	memset(mi, 0, sizeof(*mi));
	memset(meta, 0, sizeof(*meta));
	if (len == 0 || !looks_like_message(data, len)) {
		*error_r = "not an RFC 5322 message (no header)";
		return -1;
	}
	mail_init();
	if (how != MAIL_PARSE_GMIME) {
		if (light_parse(a, data, len, mi, meta, now) == 1)
			return 0;
		memset(mi, 0, sizeof(*mi));
		memset(meta, 0, sizeof(*meta));
		if (how == MAIL_PARSE_LIGHT)
			return 1;
	}
	return gmime_parse(a, data, len, mi, meta, now, error_r);
}

static int
mail_parse_info(struct arena *a, const char *data, size_t len,
		struct mail_info *mi, struct store_item_meta *meta,
		const char **error_r)
{
	return parse_info(a, data, len, MAIL_PARSE_ANY, time_now(), mi, meta,
			  error_r);
}

int
mail_item_parse(struct arena *a, const char *data, size_t len,
		enum mail_parser how, int64_t now, struct store_item *item_r,
		const char **error_r)
{
	struct mail_info mi;
	struct store_item_meta meta;
	uint8_t *copy;
	int r = parse_info(a, data, len, how, now, &mi, &meta, error_r);

	if (r != 0)
		return r;
	item_r->cls = STORE_CLASS_EMAIL;
	/* data is len bytes, not a string: the NUL is ours */
	copy = arena_alloc(a, len + 1);
	if (len > 0)
		memcpy(copy, data, len);
	copy[len] = '\0';
	item_r->data = copy;
	item_r->data_len = len;
	mail_info_write(a, &mi, &item_r->extra, &item_r->extra_len);
	item_r->meta = meta;
	return 0;
}

int
mail_item_from_mime(struct arena *a, const char *data, size_t len,
		    struct store_item *item_r, const char **error_r)
{
	return mail_item_parse(a, data, len, MAIL_PARSE_ANY, time_now(), item_r,
			       error_r);
}

/* The item's info from extra, re-parsing the message when extra is
 * missing or from another format version. */
int
mail_info_get(struct arena *a, const struct store_item *item,
	      struct mail_info *mi, const char **error_r)
{
	struct store_item_meta meta;

	if (info_read(a, item->extra, item->extra_len, mi) == 0)
		return 0;
	if (item->data == NULL) {
		*error_r = "email item without data";
		return -1;
	}
	return mail_parse_info(a, (const char *)item->data, item->data_len, mi,
			       &meta, error_r);
}

bool
mail_item_is_smime(const struct store_item *item)
{
	struct arena *a = arena_new(1024);
	struct mail_info mi;
	const char *error;
	bool r;

	r = mail_info_get(a, item, &mi, &error) == 0 && mi.smime;
	arena_free(&a);
	return r;
}

int
mail_set_last_verb(struct arena *a, const struct store_item *item, int verb,
		   int64_t when, const uint8_t **extra_r, size_t *extra_len_r,
		   const char **error_r)
{
	struct mail_info mi;
	char iso[32];

	if (verb < 1 || verb > 3) {
		*error_r = "LastVerbExecuted must be 1, 2 or 3";
		return -1;
	}
	if (mail_info_get(a, item, &mi, error_r) < 0)
		return -1;
	time_format_iso(when, iso);
	mi.last_verb = verb;
	mi.last_verb_time = arena_strdup(a, iso);
	mail_info_write(a, &mi, extra_r, extra_len_r);
	return 0;
}

/* --- attachments --- */

GMimeObject *
mail_part_by_path(GMimeObject *obj, const char *path)
{
	while (obj != NULL && *path != '\0') {
		char *end;
		long idx = strtol(path, &end, 10);

		if (end == path || idx < 1)
			return NULL;
		if (GMIME_IS_MULTIPART(obj)) {
			GMimeMultipart *mp = GMIME_MULTIPART(obj);

			if (idx > g_mime_multipart_get_count(mp))
				return NULL;
			obj = g_mime_multipart_get_part(mp, (int)idx - 1);
		} else if (idx != 1) {
			return NULL;
		}
		path = *end == '.' ? end + 1 : end;
		if (*end != '\0' && *end != '.')
			return NULL;
	}
	return obj;
}

int
mail_attachment_get(struct arena *a, const struct store_item *item,
		    unsigned index, const uint8_t **data_r, size_t *len_r,
		    const char **content_type_r, const char **name_r,
		    const char **error_r)
{
	struct mail_info mi;
	const struct mail_att *at;
	GMimeMessage *msg;
	GMimeObject *obj;
	GMimeStream *mem;
	GByteArray *ba;

	if (mail_info_get(a, item, &mi, error_r) < 0)
		return -1;
	if (index >= mi.natts)
		return 0;
	at = &mi.atts[index];
	if (item->data == NULL) {
		*error_r = "email item without data";
		return -1;
	}
	msg = mail_mime_parse(a, (const char *)item->data, item->data_len);
	if (msg == NULL) {
		*error_r = "stored message unparsable";
		return -1;
	}
	obj = mail_part_by_path(g_mime_message_get_mime_part(msg),
				at->path != NULL ? at->path : "");
	if (obj == NULL)
		return 0;
	mem = g_mime_stream_mem_new();
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		if (w != NULL)
			g_mime_data_wrapper_write_to_stream(w, mem);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));

		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL,
						      mem);
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	*len_r = ba->len;
	/* ba holds exactly len bytes (no terminator): copy those and add
	 * the NUL ourselves. */
	{
		uint8_t *copy = arena_alloc(a, ba->len + 1);

		if (ba->len > 0)
			memcpy(copy, ba->data, ba->len);
		copy[ba->len] = '\0';
		*data_r = copy;
	}
	g_object_unref(mem);
	*content_type_r =
		at->ctype != NULL ? at->ctype : "application/octet-stream";
	*name_r = at->name != NULL ? at->name : "attachment";
	return 1;
}

int
mail_file_reference_parse(struct arena *a, const char *ref,
			  const char **item_server_id_r, unsigned *index_r)
{
	const char *colon = ref != NULL ? strrchr(ref, ':') : NULL;

	if (colon == NULL || colon == ref ||
	    str_to_uint32(colon + 1, index_r) < 0)
		return -1;
	*item_server_id_r = arena_strndup(a, ref, (size_t)(colon - ref));
	return 0;
}

/* --- bodies --- */

static void
buf_html_escape(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\r':
			break;
		case '\n':
			buf_puts(b, "<br>\r\n");
			break;
		default:
			buf_putc(b, (uint8_t)s[i]);
			break;
		}
	}
}

char *
mail_plain_to_html(struct arena *a, const char *s, size_t len, size_t *len_r)
{
	struct buf b;
	char *r;

	buf_init(&b, 0);
	buf_puts(&b, "<html><head><meta http-equiv=\"Content-Type\" "
		     "content=\"text/html; charset=utf-8\"></head><body>");
	buf_html_escape(&b, s, len);
	buf_puts(&b, "</body></html>");
	r = arena_memdup(a, b.data, b.len + 1);
	*len_r = b.len;
	buf_deinit(&b);
	return r;
}

static void
entity_decode(struct buf *b, const char *s, size_t len, size_t *used_r)
{
	static const struct {
		const char *name;
		const char *utf8;
	} ents[] = {
		{"amp;", "&"},	       {"lt;", "<"},
		{"gt;", ">"},	       {"quot;", "\""},
		{"apos;", "'"},	       {"nbsp;", " "},
		{"copy;", "\xc2\xa9"}, {"euro;", "\xe2\x82\xac"},
	};

	*used_r = 1;
	if (len > 2 && s[1] == '#') {
		size_t i = 2;
		unsigned long cp = 0;
		int base = 10;
		char tmp[8];

		if (i < len && (s[i] == 'x' || s[i] == 'X')) {
			base = 16;
			i++;
		}
		for (; i < len && i < 12 && g_ascii_isxdigit(s[i]); i++) {
			if (base == 10 && !g_ascii_isdigit(s[i]))
				break;
			cp = cp * (unsigned)base +
			     (unsigned)g_ascii_xdigit_value(s[i]);
		}
		if (i < len && s[i] == ';' && cp > 0 && cp < 0x110000 &&
		    !(cp >= 0xd800 && cp < 0xe000)) {
			int n = g_unichar_to_utf8((gunichar)cp, tmp);

			buf_append(b, tmp, (size_t)n);
			*used_r = i + 1;
			return;
		}
	}
	for (size_t i = 0; i < N_ELEMENTS(ents); i++) {
		size_t n = strlen(ents[i].name);

		if (len > n && strncmp(s + 1, ents[i].name, n) == 0) {
			buf_puts(b, ents[i].utf8);
			*used_r = n + 1;
			return;
		}
	}
	buf_putc(b, '&');
}

/* A readable plain text of an HTML body: tags dropped, script and style
 * content skipped, block ends as line breaks, entities decoded. */
char *
mail_html_to_text(struct arena *a, const char *s, size_t len, size_t *len_r)
{
	struct buf b;
	char *r;
	size_t i = 0;
	bool space = false;

	buf_init(&b, 0);
	while (i < len) {
		if (s[i] == '<') {
			const char *end = memchr(s + i, '>', len - i);
			size_t tl = end != NULL ? (size_t)(end - (s + i)) + 1
						: len - i;
			const char *t = s + i + 1;

			if (str_has_iprefix(t, "script") ||
			    str_has_iprefix(t, "style")) {
				const char *close = str_has_iprefix(t, "script")
							    ? "</script"
							    : "</style";
				size_t j = i + tl;

				while (j < len &&
				       !str_has_iprefix(s + j, close))
					j++;
				tl = j - i;
			} else if (str_has_iprefix(t, "br") ||
				   str_has_iprefix(t, "/p") ||
				   str_has_iprefix(t, "/div") ||
				   str_has_iprefix(t, "/tr") ||
				   str_has_iprefix(t, "/li") ||
				   str_has_iprefix(t, "/h")) {
				buf_puts(&b, "\r\n");
				space = false;
			}
			i += tl;
			continue;
		}
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\t' ||
		    s[i] == ' ') {
			space = true;
			i++;
			continue;
		}
		if (space && b.len > 0 && b.data[b.len - 1] != '\n')
			buf_putc(&b, ' ');
		space = false;
		if (s[i] == '&') {
			size_t used;

			entity_decode(&b, s + i, len - i, &used);
			i += used;
		} else {
			buf_putc(&b, (uint8_t)s[i++]);
		}
	}
	r = arena_memdup(a, b.len > 0 ? (const char *)b.data : "", b.len + 1);
	*len_r = b.len;
	buf_deinit(&b);
	return r;
}

/* Preview (MS-ASAIRS 2.2.2.37): up to n characters of plain text, white
 * space collapsed. */
const char *
mail_preview(struct arena *a, const char *text, size_t len, int n)
{
	struct buf b;
	const char *r;
	int chars = 0;
	bool space = false;

	buf_init(&b, 0);
	for (size_t i = 0; i < len && chars < n;) {
		unsigned char c = (unsigned char)text[i];
		size_t cl = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
			space = b.len > 0;
			i++;
			continue;
		}
		if (space) {
			buf_putc(&b, ' ');
			chars++;
			space = false;
			if (chars >= n)
				break;
		}
		if (i + cl > len)
			break;
		buf_append(&b, text + i, cl);
		i += cl;
		chars++;
	}
	r = arena_strndup(a, b.len > 0 ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

const char *
mail_body_text(struct arena *a, const struct store_item *item,
	       const struct mail_body_loc *loc, size_t *len_r)
{
	if (!loc->present || item->data == NULL ||
	    loc->off + loc->len > (int64_t)item->data_len) {
		*len_r = 0;
		return "";
	}
	return text_decode(a, (const char *)item->data + loc->off,
			   (size_t)loc->len, loc->encoding, loc->charset,
			   len_r);
}

/* Plain text of the message: the text part, else the HTML one as text. */
const char *
mail_plain_text(struct arena *a, const struct store_item *item,
		const struct mail_info *mi, size_t *len_r)
{
	const char *html;
	size_t hl;

	if (mi->text.present || !mi->html.present)
		return mail_body_text(a, item, &mi->text, len_r);
	html = mail_body_text(a, item, &mi->html, &hl);
	return mail_html_to_text(a, html, hl, len_r);
}

bool
mail_has_calendar(struct arena *a, const struct store_item *item)
{
	struct mail_info mi;
	const char *error;

	return item->cls == STORE_CLASS_EMAIL &&
	       mail_info_get(a, item, &mi, &error) == 0 && mi.cal.present;
}

const char *
mail_calendar_text(struct arena *a, const struct store_item *item,
		   size_t *len_r)
{
	struct mail_info mi;
	const char *error;

	if (item->cls != STORE_CLASS_EMAIL ||
	    mail_info_get(a, item, &mi, &error) < 0 || !mi.cal.present)
		return NULL;
	return mail_body_text(a, item, &mi.cal, len_r);
}

bool
mail_from_is(struct arena *a, const struct store_item *item, const char *addr)
{
	struct mail_info mi;
	InternetAddressList *list;
	const char *error;
	bool found = false;

	if (addr == NULL || mail_info_get(a, item, &mi, &error) < 0 ||
	    mi.from == NULL)
		return false;
	mail_init();
	list = internet_address_list_parse(NULL, mi.from);
	for (int i = 0; list != NULL && i < internet_address_list_length(list);
	     i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
		    str_ieq(internet_address_mailbox_get_addr(
				    INTERNET_ADDRESS_MAILBOX(ia)),
			    addr))
			found = true;
	}
	if (list != NULL)
		g_object_unref(list);
	return found;
}
