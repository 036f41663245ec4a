/* Outgoing mail with GMime: the envelope recipients of a client's message,
 * Bcc kept out of what leaves, Date and Message-ID supplied, and for
 * SmartReply/SmartForward the original completed into the new message
 * (quoted text, In-Reply-To/References, forwarded attachments). Also the
 * non-delivery report put into a sender's Inbox. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "compose.h"
#include "mail-int.h"
#include "util.h"

static void
unref_cb(void *p)
{
	g_object_unref(p);
}

/* An addr-spec we may put on an SMTP envelope: local@domain, printable
 * ASCII or UTF-8, no spaces, brackets or controls (RFC 5321 4.1.2 with
 * RFC 6531 addresses). */
static bool
addr_ok(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) > 320)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' ||
		    *p == ',' || *p == ';')
			return false;
	return true;
}

struct rcpt_list {
	struct arena *a;
	const char **v;
	size_t n, cap;
	bool bad;
	const char *bad_addr;
};

static void
rcpt_add(struct rcpt_list *l, const char *addr)
{
	if (!addr_ok(addr)) {
		l->bad = true;
		l->bad_addr = arena_strdup(l->a, addr);
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], addr) == 0)
			return;
	if (l->n >= MAIL_MAX_RECIPIENTS) {
		l->bad = true;
		l->bad_addr = "too many recipients";
		return;
	}
	l->v = arena_grow(l->a, l->v, l->n, &l->cap, sizeof(*l->v));
	l->v[l->n++] = arena_strdup(l->a, addr);
}

static void
rcpt_collect(struct rcpt_list *l, InternetAddressList *list, unsigned depth)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && depth < 4; i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			rcpt_add(l, internet_address_mailbox_get_addr(
					    INTERNET_ADDRESS_MAILBOX(ia)));
		else if (INTERNET_ADDRESS_IS_GROUP(ia))
			rcpt_collect(l,
				     internet_address_group_get_members(
					     INTERNET_ADDRESS_GROUP(ia)),
				     depth + 1);
	}
}

static const char *
first_mailbox(struct arena *a, InternetAddressList *list)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return arena_strdup(
				a, internet_address_mailbox_get_addr(
					   INTERNET_ADDRESS_MAILBOX(ia)));
	}
	return NULL;
}

static const char *
to_text(struct arena *a, GMimeObject *obj)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	char *s;
	const char *r;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	s = g_mime_object_to_string(obj, fo);
	r = arena_strdup(a, s != NULL ? s : "");
	g_free(s);
	g_mime_format_options_free(fo);
	return r;
}

static const char *
new_message_id(struct arena *a, const char *from)
{
	const char *at = from != NULL ? strrchr(from, '@') : NULL;
	uint8_t r[12];
	char hex[25];

	random_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return arena_printf(a, "%s.easd@%s", hex,
			    at != NULL ? at + 1 : "easd.invalid");
}

/* --- completing replies and forwards --- */

struct body_parts {
	GMimeTextPart *plain, *html;
};

/* The message's own body parts: the first text/plain and text/html that
 * are not attachments, looking into multipart/alternative and the first
 * part of multipart/mixed or related. */
static void
find_bodies(GMimeObject *obj, struct body_parts *b, unsigned depth)
{
	if (obj == NULL || depth > 8)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		int n = g_mime_multipart_get_count(mp);
		bool alt = g_mime_content_type_is_type(ct, "multipart",
						       "alternative");

		for (int i = 0; i < n; i++) {
			find_bodies(g_mime_multipart_get_part(mp, i), b,
				    depth + 1);
			if (!alt)
				break;
		}
		return;
	}
	if (GMIME_IS_TEXT_PART(obj) &&
	    !g_mime_part_is_attachment(GMIME_PART(obj))) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (b->plain == NULL &&
		    g_mime_content_type_is_type(ct, "text", "plain"))
			b->plain = GMIME_TEXT_PART(obj);
		else if (b->html == NULL &&
			 g_mime_content_type_is_type(ct, "text", "html"))
			b->html = GMIME_TEXT_PART(obj);
	}
}

static const char *
part_text(struct arena *a, GMimeTextPart *p)
{
	char *t = g_mime_text_part_get_text(p);
	const char *r = arena_strdup(a, t != NULL ? t : "");

	g_free(t);
	return r;
}

/* "> " before every line of text; CR LF line ends. */
static void
quote_plain(struct buf *b, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\r\n");

		buf_puts(b, n > 0 && p[0] == '>' ? ">" : "> ");
		buf_append(b, p, n);
		buf_puts(b, "\r\n");
		p += n;
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
	}
}

/* What is between <body ...> and </body>, or the whole text. */
static const char *
html_inner(struct arena *a, const char *html)
{
	const char *p = html, *start = html, *end = html + strlen(html);

	for (; *p != '\0'; p++) {
		if (*p == '<' && strncasecmp(p, "<body", 5) == 0) {
			const char *gt = strchr(p, '>');

			if (gt != NULL)
				start = gt + 1;
			break;
		}
	}
	for (p = start; *p != '\0'; p++) {
		if (*p == '<' && strncasecmp(p, "</body", 6) == 0) {
			end = p;
			break;
		}
	}
	return arena_strndup(a, start, (size_t)(end - start));
}

/* Insert extra before </body> (or at the end). */
static const char *
html_append(struct arena *a, const char *html, const char *extra)
{
	for (const char *p = html; *p != '\0'; p++)
		if (*p == '<' && strncasecmp(p, "</body", 6) == 0)
			return arena_printf(a, "%.*s%s%s", (int)(p - html),
					    html, extra, p);
	return arena_printf(a, "%s%s", html, extra);
}

static const char *
html_escape(struct arena *a, const char *s)
{
	size_t len;

	return html_inner(a, mail_plain_to_html(a, s, strlen(s), &len));
}

struct original {
	GMimeMessage *msg;
	struct mail_info mi;
	const char *plain, *html; /* html NULL when it has none */
	const char *from, *to, *date, *subject;
};

static int
original_load(struct arena *a, const struct store_item *item,
	      struct original *o, const char **error_r)
{
	size_t len;

	memset(o, 0, sizeof(*o));
	if (item->data == NULL || mail_info_get(a, item, &o->mi, error_r) < 0) {
		*error_r = "the original message cannot be read";
		return -1;
	}
	o->msg = mail_mime_parse(a, (const char *)item->data, item->data_len);
	if (o->msg == NULL) {
		*error_r = "the original message cannot be parsed";
		return -1;
	}
	o->plain = mail_plain_text(a, item, &o->mi, &len);
	if (o->mi.html.present)
		o->html = mail_body_text(a, item, &o->mi.html, &len);
	o->from = o->mi.from != NULL ? o->mi.from : "";
	o->to = o->mi.to != NULL ? o->mi.to : "";
	o->subject = o->mi.subject != NULL ? o->mi.subject : "";
	{
		GDateTime *dt = g_mime_message_get_date(o->msg);
		char *d =
			dt != NULL ? g_mime_utils_header_format_date(dt) : NULL;

		o->date = arena_strdup(a, d != NULL ? d : "");
		g_free(d);
	}
	return 0;
}

static void
complete_bodies(struct arena *a, struct body_parts *b,
		enum mail_compose_mode mode, const struct original *o)
{
	struct buf t;

	if (b->plain != NULL) {
		buf_init(&t, 0);
		buf_puts(&t, part_text(a, b->plain));
		if (mode == MAIL_COMPOSE_REPLY) {
			buf_printf(&t, "\r\n\r\nOn %s, %s wrote:\r\n", o->date,
				   o->from);
			quote_plain(&t, o->plain);
		} else {
			buf_printf(&t,
				   "\r\n\r\n---------- Forwarded message "
				   "----------\r\nFrom: %s\r\nDate: %s\r\n"
				   "Subject: %s\r\nTo: %s\r\n\r\n",
				   o->from, o->date, o->subject, o->to);
			buf_puts(&t, o->plain);
		}
		g_mime_text_part_set_text(b->plain, (const char *)t.data);
		buf_deinit(&t);
	}
	if (b->html != NULL) {
		const char *orig = o->html != NULL ? html_inner(a, o->html)
						   : html_escape(a, o->plain);
		const char *extra;

		if (mode == MAIL_COMPOSE_REPLY)
			extra = arena_printf(
				a,
				"<div class=\"easd-quote\"><p>On %s, %s "
				"wrote:</p><blockquote style=\"margin:0 0 0 "
				".8ex;border-left:1px solid #ccc;"
				"padding-left:1ex\">%s</blockquote></div>",
				html_escape(a, o->date),
				html_escape(a, o->from), orig);
		else
			extra = arena_printf(
				a,
				"<div class=\"easd-forward\"><p>---------- "
				"Forwarded message ----------<br>From: %s<br>"
				"Date: %s<br>Subject: %s<br>To: %s</p>%s</div>",
				html_escape(a, o->from),
				html_escape(a, o->date),
				html_escape(a, o->subject),
				html_escape(a, o->to), orig);
		g_mime_text_part_set_text(
			b->html, html_append(a, part_text(a, b->html), extra));
	}
}

/* The original's attachments join the new message, under a
 * multipart/mixed (made when the new message is not one). */
static void
forward_attachments(struct arena *a, GMimeMessage *msg,
		    const struct original *o)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeObject *orig_top = g_mime_message_get_mime_part(o->msg);
	GMimeMultipart *mixed = NULL;

	if (o->mi.natts == 0 || top == NULL || orig_top == NULL)
		return;
	if (GMIME_IS_MULTIPART(top) &&
	    g_mime_content_type_is_type(g_mime_object_get_content_type(top),
					"multipart", "mixed"))
		mixed = GMIME_MULTIPART(top);
	for (size_t i = 0; i < o->mi.natts; i++) {
		GMimeObject *part = mail_part_by_path(
			orig_top,
			o->mi.atts[i].path != NULL ? o->mi.atts[i].path : "");

		if (part == NULL || part == orig_top)
			continue;
		if (mixed == NULL) {
			mixed = g_mime_multipart_new_with_subtype("mixed");
			arena_add_cleanup(a, unref_cb, mixed);
			g_mime_multipart_add(mixed, top);
			g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
		}
		g_mime_multipart_add(mixed, part);
	}
}

static void
set_thread_headers(struct arena *a, GMimeMessage *msg, const struct original *o)
{
	const char *mid = g_mime_message_get_message_id(o->msg);
	const char *refs =
		g_mime_object_get_header(GMIME_OBJECT(o->msg), "References");
	const char *mine;
	char *ir;

	if (mid == NULL)
		return;
	ir = arena_printf(a, "<%s>", mid);
	g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", ir, NULL);
	mine = refs != NULL ? arena_printf(a, "%s %s", refs, ir) : ir;
	g_mime_object_set_header(GMIME_OBJECT(msg), "References", mine, NULL);
}

int
mail_compose(struct arena *a, const char *data, size_t len,
	     enum mail_compose_mode mode, const struct store_item *original,
	     const char *default_from, struct mail_outgoing *out,
	     const char **error_r)
{
	struct rcpt_list rl = {.a = a};
	GMimeMessage *msg;
	const char *mid;

	memset(out, 0, sizeof(*out));
	if (len == 0 || data == NULL) {
		*error_r = "empty message";
		return -1;
	}
	msg = mail_mime_parse(a, data, len);
	if (msg == NULL || g_mime_message_get_mime_part(msg) == NULL) {
		*error_r = "the MIME message cannot be parsed";
		return -1;
	}
	out->from = first_mailbox(a, g_mime_message_get_from(msg));
	if (out->from == NULL && default_from != NULL) {
		g_mime_object_set_header(GMIME_OBJECT(msg), "From",
					 default_from, "utf-8");
		out->from = first_mailbox(a, g_mime_message_get_from(msg));
	}
	rcpt_collect(&rl,
		     g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
		     0);
	rcpt_collect(&rl,
		     g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC),
		     0);
	rcpt_collect(&rl,
		     g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC),
		     0);
	if (rl.bad) {
		*error_r = arena_printf(a, "unusable recipient address: %s",
					rl.bad_addr);
		return -1;
	}
	out->rcpts = rl.v;
	out->nrcpts = rl.n;
	if (mode != MAIL_COMPOSE_NEW && original != NULL) {
		struct original o;
		struct body_parts b = {NULL, NULL};

		if (original_load(a, original, &o, error_r) < 0)
			return -1;
		find_bodies(g_mime_message_get_mime_part(msg), &b, 0);
		if (b.plain == NULL && b.html == NULL) {
			/* nothing to put the original below: a plain part */
			GMimeTextPart *tp =
				g_mime_text_part_new_with_subtype("plain");

			arena_add_cleanup(a, unref_cb, tp);
			g_mime_text_part_set_text(tp, "");
			if (g_mime_message_get_mime_part(msg) != NULL &&
			    GMIME_IS_MULTIPART(
				    g_mime_message_get_mime_part(msg)))
				g_mime_multipart_insert(
					GMIME_MULTIPART(
						g_mime_message_get_mime_part(
							msg)),
					0, GMIME_OBJECT(tp));
			else
				g_mime_message_set_mime_part(msg,
							     GMIME_OBJECT(tp));
			b.plain = tp;
		}
		complete_bodies(a, &b, mode, &o);
		if (mode == MAIL_COMPOSE_REPLY)
			set_thread_headers(a, msg, &o);
		else
			forward_attachments(a, msg, &o);
	}
	if (g_mime_message_get_date(msg) == NULL) {
		GDateTime *now = g_date_time_new_now_utc();

		g_mime_message_set_date(msg, now);
		g_date_time_unref(now);
	}
	mid = g_mime_message_get_message_id(msg);
	if (mid == NULL || *mid == '\0') {
		g_mime_message_set_message_id(msg,
					      new_message_id(a, out->from));
		mid = g_mime_message_get_message_id(msg);
	}
	out->message_id = arena_printf(a, "<%s>", mid);
	out->subject = arena_strdup(a, g_mime_message_get_subject(msg) != NULL
					       ? g_mime_message_get_subject(msg)
					       : "");
	out->sent_data = to_text(a, GMIME_OBJECT(msg));
	out->sent_len = strlen(out->sent_data);
	/* MS-ASCMD: recipients in Bcc get the message, nobody sees them */
	g_mime_object_remove_header(GMIME_OBJECT(msg), "Bcc");
	out->data = to_text(a, GMIME_OBJECT(msg));
	out->len = strlen(out->data);
	return 0;
}

/* --- drafts --- */

static const char *
draft_header(struct arena *a, GMimeMessage *old, const char *name)
{
	const char *v =
		old != NULL ? g_mime_object_get_header(GMIME_OBJECT(old), name)
			    : NULL;

	return v != NULL ? arena_strdup(a, v) : NULL;
}

static void
set_addr_header(GMimeMessage *msg, const char *name, const char *value)
{
	if (value != NULL && *value != '\0')
		g_mime_object_set_header(GMIME_OBJECT(msg), name, value,
					 "utf-8");
}

static bool
index_dropped(const struct mail_draft *d, unsigned i)
{
	for (size_t k = 0; k < d->ndel; k++)
		if (d->del[k] == i)
			return true;
	return false;
}

int
mail_draft_build(struct arena *a, const struct mail_draft *d,
		 const struct store_item *old, const char **data_r,
		 size_t *len_r, const char **error_r)
{
	GMimeMessage *msg = g_mime_message_new(TRUE), *oldmsg = NULL;
	struct mail_info mi;
	GMimeTextPart *body;
	GMimeMultipart *mixed = NULL;
	const char *to, *cc, *bcc, *subject, *text = "";
	int type = 1, importance = 1;
	GDateTime *now;

	arena_add_cleanup(a, unref_cb, msg);
	memset(&mi, 0, sizeof(mi));
	if (old != NULL && old->data != NULL) {
		oldmsg = mail_mime_parse(a, (const char *)old->data,
					 old->data_len);
		if (oldmsg == NULL || mail_info_get(a, old, &mi, error_r) < 0) {
			*error_r = "the stored draft cannot be read";
			return -1;
		}
		importance = mi.importance;
	}
	to = d->to != NULL ? d->to : draft_header(a, oldmsg, "To");
	cc = d->cc != NULL ? d->cc : draft_header(a, oldmsg, "Cc");
	bcc = d->bcc != NULL ? d->bcc : draft_header(a, oldmsg, "Bcc");
	subject = d->subject != NULL ? d->subject
				     : (mi.subject != NULL ? mi.subject : "");
	if (d->importance >= 0 && d->importance <= 2)
		importance = d->importance;
	if (d->have_body) {
		text = arena_strndup(a, d->body != NULL ? d->body : "",
				     d->body_len);
		type = d->body_type == 2 ? 2 : 1;
	} else if (old != NULL) {
		size_t len;

		if (mi.html.present) {
			text = mail_body_text(a, old, &mi.html, &len);
			type = 2;
		} else {
			text = mail_body_text(a, old, &mi.text, &len);
		}
	}
	set_addr_header(msg, "From", d->from);
	set_addr_header(msg, "To", to);
	set_addr_header(msg, "Cc", cc);
	set_addr_header(msg, "Bcc", bcc);
	g_mime_message_set_subject(msg, subject, "utf-8");
	if (importance != 1)
		g_mime_object_set_header(GMIME_OBJECT(msg), "Importance",
					 importance == 2 ? "high" : "low",
					 NULL);
	now = g_date_time_new_now_utc();
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	body = g_mime_text_part_new_with_subtype(type == 2 ? "html" : "plain");
	arena_add_cleanup(a, unref_cb, body);
	g_mime_text_part_set_text(body, text);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(body));
	for (size_t i = 0; i < mi.natts + d->nadd; i++) {
		GMimeObject *part = NULL;

		if (i < mi.natts) {
			if (index_dropped(d, (unsigned)i))
				continue;
			part = mail_part_by_path(
				g_mime_message_get_mime_part(oldmsg),
				mi.atts[i].path != NULL ? mi.atts[i].path : "");
			if (part == NULL)
				continue;
			g_object_ref(part);
		} else {
			const struct mail_draft_att *at = &d->add[i - mi.natts];
			GMimePart *p = g_mime_part_new_with_type(
				"application", "octet-stream");
			GMimeStream *st = g_mime_stream_mem_new_with_buffer(
				(const char *)at->data, at->len);
			GMimeDataWrapper *w =
				g_mime_data_wrapper_new_with_stream(
					st, GMIME_CONTENT_ENCODING_DEFAULT);

			if (at->ctype != NULL &&
			    strchr(at->ctype, '/') != NULL) {
				GMimeContentType *ct =
					g_mime_content_type_parse(NULL,
								  at->ctype);

				if (ct != NULL) {
					g_mime_object_set_content_type(
						GMIME_OBJECT(p), ct);
					g_object_unref(ct);
				}
			}
			g_mime_part_set_content(p, w);
			g_mime_part_set_content_encoding(
				p, GMIME_CONTENT_ENCODING_BASE64);
			g_mime_part_set_filename(
				p, at->name != NULL ? at->name : "attachment");
			g_mime_object_set_disposition(
				GMIME_OBJECT(p),
				at->is_inline ? "inline" : "attachment");
			if (at->content_id != NULL && *at->content_id != '\0')
				g_mime_part_set_content_id(p, at->content_id);
			g_object_unref(w);
			g_object_unref(st);
			part = GMIME_OBJECT(p);
		}
		if (mixed == NULL) {
			mixed = g_mime_multipart_new_with_subtype("mixed");
			arena_add_cleanup(a, unref_cb, mixed);
			g_mime_multipart_add(mixed, GMIME_OBJECT(body));
			g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
		}
		g_mime_multipart_add(mixed, part);
		g_object_unref(part);
	}
	if (oldmsg != NULL && g_mime_message_get_message_id(oldmsg) != NULL)
		g_mime_message_set_message_id(
			msg, g_mime_message_get_message_id(oldmsg));
	else
		g_mime_message_set_message_id(
			msg,
			new_message_id(
				a, first_mailbox(
					   a, g_mime_message_get_from(msg))));
	*data_r = to_text(a, GMIME_OBJECT(msg));
	*len_r = strlen(*data_r);
	return 0;
}

/* --- non-delivery reports --- */

/* A relay's reply may span lines: one line, controls as spaces. */
static const char *
one_line(struct arena *a, const char *s)
{
	const char *p = s != NULL ? s : "";
	char *r = arena_alloc(a, strlen(p) + 1), *q = r;
	bool space = false;

	for (; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			space = q > r;
			continue;
		}
		if (space)
			*q++ = ' ';
		space = false;
		*q++ = *p;
	}
	*q = '\0';
	return r;
}

void
mail_compose_ndr(struct arena *a, const char *to, const char *rcpt,
		 const char *reporter, const char *reason, const char *original,
		 size_t original_len, const char **data_r, size_t *len_r)
{
	char boundary[40], date[64];
	uint8_t r[8];
	size_t hlen = 0;
	struct buf b;
	time_t now = time(NULL);
	struct tm tm;

	reason = one_line(a, reason);
	reporter = one_line(a, reporter);
	random_bytes(r, sizeof(r));
	snprintf(boundary, sizeof(boundary),
		 "=_easd_%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7]);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* the original's header block: up to its first empty line */
	while (hlen < original_len) {
		const char *nl =
			memchr(original + hlen, '\n', original_len - hlen);

		if (nl == NULL) {
			hlen = original_len;
			break;
		}
		if (nl == original + hlen ||
		    (nl == original + hlen + 1 && original[hlen] == '\r')) {
			break;
		}
		hlen = (size_t)(nl - original) + 1;
	}
	buf_init(&b, 0);
	buf_printf(
		&b,
		"From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		"To: <%s>\r\n"
		"Subject: Undeliverable: a message to %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%s>\r\n"
		"Auto-Submitted: auto-replied\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; report-type=delivery-status;"
		" boundary=\"%s\"\r\n\r\n",
		reporter, to, rcpt, date, new_message_id(a, to), boundary);
	buf_printf(&b,
		   "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		   "Your message could not be delivered to %s.\r\n\r\n"
		   "%s answered:\r\n    %s\r\n\r\n"
		   "The headers of your message follow.\r\n\r\n",
		   boundary, rcpt, reporter, reason);
	buf_printf(&b,
		   "--%s\r\nContent-Type: message/delivery-status\r\n\r\n"
		   "Reporting-MTA: dns; %s\r\n\r\n"
		   "Final-Recipient: rfc822; %s\r\nAction: failed\r\n"
		   "Status: 5.0.0\r\nDiagnostic-Code: smtp; %s\r\n\r\n",
		   boundary, reporter, rcpt, reason);
	buf_printf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
		   boundary);
	buf_append(&b, original, hlen);
	buf_printf(&b, "\r\n--%s--\r\n", boundary);
	*data_r = arena_strndup(a, (const char *)b.data, b.len);
	*len_r = b.len;
	buf_deinit(&b);
}

/* Send-on-behalf (RFC 5322 3.6.2): a Sender field at the top of the
 * header says who sent the message for the From's owner; one the client
 * wrote is dropped (with its folded lines), since the server knows who
 * sends. A name with specials goes in quotes. */
const char *
mail_set_sender(struct arena *a, const char *data, size_t len, const char *name,
		const char *addr, size_t *len_r)
{
	size_t end = len, i = 0;
	struct buf b;
	char *r;

	/* the header ends at the first empty line */
	for (size_t k = 0; k + 1 < len; k++) {
		if (data[k] == '\n' &&
		    (data[k + 1] == '\r' || data[k + 1] == '\n')) {
			end = k + 1;
			break;
		}
	}
	buf_init(&b, 0);
	buf_append(&b, "Sender: ", 8);
	if (strpbrk(name, "()<>[]:;@\\,.\"") != NULL) {
		buf_append(&b, "\"", 1);
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(&b, "\\", 1);
			if (*p != '\r' && *p != '\n')
				buf_append(&b, p, 1);
		}
		buf_append(&b, "\"", 1);
	} else {
		for (const char *p = name; *p != '\0'; p++)
			if (*p != '\r' && *p != '\n')
				buf_append(&b, p, 1);
	}
	buf_append(&b, " <", 2);
	buf_append(&b, addr, strlen(addr));
	buf_append(&b, ">\r\n", 3);
	while (i < end) {
		size_t j = i;

		while (j < end && data[j] != '\n')
			j++;
		j = j < end ? j + 1 : end;
		if (j - i >= 7 && strncasecmp(data + i, "Sender:", 7) == 0) {
			i = j;
			while (i < end && (data[i] == ' ' || data[i] == '\t')) {
				while (i < end && data[i] != '\n')
					i++;
				i = i < end ? i + 1 : end;
			}
			continue;
		}
		buf_append(&b, data + i, j - i);
		i = j;
	}
	buf_append(&b, data + end, len - end);
	r = arena_alloc(a, b.len + 1);
	if (b.len > 0)
		memcpy(r, b.data, b.len);
	r[b.len] = '\0';
	*len_r = b.len;
	buf_deinit(&b);
	return r;
}
