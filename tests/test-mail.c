/* Unit tests of mail intake and the Email conversion (conv-mail.c) over the
 * corpus in tests/data/mail. Links conv, wbxml and common only. */
#include <dirent.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "buf.h"
#include "compose.h"
#include "conv.h"
#include "mail-int.h"
#include "mail.h"
#include "store.h"
#include "test-main.h"
#include "util.h"
#include "wbxml.h"

static const char *
data_dir(void)
{
	static char path[1024];
	const char *src = getenv("EASD_SRCDIR");

	snprintf(path, sizeof(path), "%s/tests/data/mail",
		 src != NULL ? src : ".");
	return path;
}

static char *
read_file(struct arena *a, const char *name, size_t *len_r)
{
	char path[1200];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = arena_alloc(a, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return buf;
}

static void
ctx_init(struct conv_ctx *ctx, unsigned version, int type, int64_t trunc,
	 int preview)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->version = version;
	ctx->nprefs = 1;
	ctx->prefs[0].type = type;
	ctx->prefs[0].has_truncation = trunc >= 0;
	ctx->prefs[0].truncation_size = trunc >= 0 ? (uint32_t)trunc : 0;
	ctx->prefs[0].preview = preview;
	ctx->item_server_id = "F1:3";
}

/* Load a corpus file, parse it and convert it with ctx. */
static struct wbxml_node *
convert(struct arena *a, const char *name, const struct conv_ctx *ctx,
	struct store_item *item_r)
{
	struct wbxml_node *app;
	const char *error = NULL;
	size_t len;
	char *data = read_file(a, name, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memset(item_r, 0, sizeof(*item_r));
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(a, data, len, item_r, &error),
			      0);
	item_r->server_id = "F1:3";
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL_FATAL(conv_email_to_eas(a, item_r, ctx, app, &error),
			      0);
	return app;
}

static const char *
text_of(const struct wbxml_node *n, uint16_t tag)
{
	return wbxml_child_text(n, tag);
}

static const struct wbxml_node *
body_of(const struct wbxml_node *app)
{
	return wbxml_child(app, EAS_AIRSYNCBASE_BODY);
}

/* --- corpus --- */

static void
test_corpus_never_crashes(void)
{
	static const unsigned versions[] = {121, 140, 141, 160, 161};
	DIR *d = opendir(data_dir());
	struct dirent *e;
	int files = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)) != NULL) {
		struct arena *a;
		struct store_item item;
		const char *error = NULL;
		size_t len;
		char *data;

		if (strstr(e->d_name, ".eml") == NULL)
			continue;
		a = arena_new(0);
		data = read_file(a, e->d_name, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(
			mail_item_from_mime(a, data, len, &item, &error), 0);
		CU_ASSERT_EQUAL(item.cls, STORE_CLASS_EMAIL);
		CU_ASSERT_EQUAL(item.data_len, len);
		CU_ASSERT(memcmp(item.data, data, len) == 0);
		CU_ASSERT_EQUAL(item.meta.size, (int64_t)len);
		CU_ASSERT(item.meta.date > 0);
		CU_ASSERT_FALSE(item.meta.read);
		CU_ASSERT_EQUAL(item.meta.flag_status, 0);
		CU_ASSERT_PTR_NOT_NULL(item.extra);
		if (item.meta.subject != NULL)
			CU_ASSERT(g_utf8_validate(item.meta.subject, -1, NULL));
		for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
			for (int type = 1; type <= 4; type++) {
				struct conv_ctx ctx;
				struct wbxml_node *app = wbxml_new(
					a, EAS_AIRSYNC_APPLICATIONDATA);
				const struct wbxml_node *n;

				ctx_init(&ctx, versions[v], type, 100, 40);
				ctx.mime_support = type == 4 ? 2 : 0;
				CU_ASSERT_EQUAL(conv_email_to_eas(a, &item,
								  &ctx, app,
								  &error),
						0);
				CU_ASSERT_PTR_NOT_NULL(body_of(app));
				CU_ASSERT_PTR_NOT_NULL(
					wbxml_child(app, EAS_EMAIL_IMPORTANCE));
				wbxml_foreach(app, n)
				{
					if (n->data != NULL && !n->opaque)
						CU_ASSERT(g_utf8_validate(
							(const char *)n->data,
							(gssize)n->len, NULL));
				}
			}
		}
		arena_free(&a);
		files++;
	}
	closedir(d);
	CU_ASSERT(files >= 13);
}

static void
test_not_a_message(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	const char *error = NULL;

	CU_ASSERT_EQUAL(mail_item_from_mime(a, "", 0, &item, &error), -1);
	CU_ASSERT_PTR_NOT_NULL(error);
	CU_ASSERT_EQUAL(mail_item_from_mime(a, "\x01\x02\x03 garbage", 11,
					    &item, &error),
			-1);
	arena_free(&a);
}

/* --- properties --- */

static void
test_plain_properties(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app, *body;
	int64_t est, trunc;

	ctx_init(&ctx, 141, 1, 20, 0);
	app = convert(a, "01-plain.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_SUBJECT),
			       "Lunch on Friday?");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_FROM),
			       "Alice Example <alice@example.com>");
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(app, EAS_EMAIL_TO), "bob@example.org"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(app, EAS_EMAIL_CC), "dave@example.net"));
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_DISPLAYTO),
			       "Bob; carol@example.org");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_DATERECEIVED),
			       "2024-03-05T14:30:00.000Z");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_IMPORTANCE), "1");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_READ), "0");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_MESSAGECLASS),
			       "IPM.Note");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_INTERNETCPID), "20127");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_AIRSYNCBASE_NATIVEBODYTYPE),
			       "1");
	CU_ASSERT_STRING_EQUAL(item.meta.message_id, "plain-1@example.com");
	/* truncated plain body */
	body = body_of(app);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(text_of(body, EAS_AIRSYNCBASE_TYPE), "1");
	CU_ASSERT_EQUAL(
		wbxml_child_int(body, EAS_AIRSYNCBASE_TRUNCATED, &trunc), 1);
	CU_ASSERT_EQUAL(trunc, 1);
	CU_ASSERT_EQUAL(
		wbxml_child_int(body, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE, &est),
		1);
	CU_ASSERT(est > 20);
	CU_ASSERT(strlen(text_of(body, EAS_AIRSYNCBASE_DATA)) <= 20);
	CU_ASSERT(strncmp(text_of(body, EAS_AIRSYNCBASE_DATA), "Hi Bob,", 7) ==
		  0);
	/* 14.1: conversation ids, no IsDraft */
	CU_ASSERT_EQUAL(wbxml_child(app, EAS_EMAIL2_CONVERSATIONID)->len, 16);
	CU_ASSERT_EQUAL(wbxml_child(app, EAS_EMAIL2_CONVERSATIONINDEX)->len,
			22);
	CU_ASSERT_PTR_NULL(wbxml_child(app, EAS_EMAIL2_ISDRAFT));
	/* empty Flag: never flagged */
	CU_ASSERT(wbxml_is_empty(wbxml_child(app, EAS_EMAIL_FLAG)));
	arena_free(&a);
}

static void
test_versions(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app;

	ctx_init(&ctx, 161, 2, -1, 0);
	app = convert(a, "01-plain.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL2_ISDRAFT), "0");
	/* plain wrapped as HTML for a type 2 request */
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TYPE),
			       "2");
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
		       "are you free for lunch"));
	ctx_init(&ctx, 121, 1, -1, 50);
	app = convert(a, "01-plain.eml", &ctx, &item);
	CU_ASSERT_PTR_NULL(wbxml_child(app, EAS_EMAIL2_CONVERSATIONID));
	CU_ASSERT_PTR_NULL(wbxml_child(body_of(app), EAS_AIRSYNCBASE_PREVIEW));
	arena_free(&a);
}

static void
test_html(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app;
	const char *data;

	ctx_init(&ctx, 141, 2, -1, 30);
	app = convert(a, "02-html.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_SUBJECT),
			       "Weekly news \xe2\x80\x93 \xc3\xa9"
			       "dition 12");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_IMPORTANCE), "2");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_AIRSYNCBASE_NATIVEBODYTYPE),
			       "2");
	data = text_of(body_of(app), EAS_AIRSYNCBASE_DATA);
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "<p>Hello &amp; welcome to the "
					    "\xc3\xa9"
					    "dition 12.</p>"));
	CU_ASSERT_PTR_NOT_NULL(text_of(body_of(app), EAS_AIRSYNCBASE_PREVIEW));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(body_of(app), EAS_AIRSYNCBASE_PREVIEW),
		       "Hello & welcome"));
	/* only HTML exists: a plain request gets it as text */
	ctx_init(&ctx, 141, 1, -1, 0);
	app = convert(a, "02-html.eml", &ctx, &item);
	data = text_of(body_of(app), EAS_AIRSYNCBASE_DATA);
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "Hello & welcome"));
	CU_ASSERT_PTR_NULL(strstr(data, "<p>"));
	CU_ASSERT_PTR_NULL(strstr(data, "color: red"));
	arena_free(&a);
}

static void
test_alternative_and_thread(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app, *app1, *id, *id1;

	ctx_init(&ctx, 141, 1, -1, 0);
	app = convert(a, "03-alternative.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_IMPORTANCE), "0");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_THREADTOPIC),
			       "Lunch on Friday?");
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
			       "Plain version: see you at noon.");
	app1 = convert(a, "01-plain.eml", &ctx, &item);
	id = wbxml_child(app, EAS_EMAIL2_CONVERSATIONID);
	id1 = wbxml_child(app1, EAS_EMAIL2_CONVERSATIONID);
	CU_ASSERT(id->opaque);
	CU_ASSERT(memcmp(id->data, id1->data, 16) == 0);
	ctx_init(&ctx, 141, 2, -1, 0);
	app = convert(a, "03-alternative.eml", &ctx, &item);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
		       "<b>see you at noon</b>"));
	arena_free(&a);
}

static void
test_charsets(void)
{
	static const struct {
		const char *file, *subject, *from, *body;
		const char *cpid;
	} cases[] = {
		{"05-latin1.eml",
		 "Gr\xc3\xbc\xc3\x9f"
		 "e aus K\xc3\xb6ln",
		 "Ren\xc3\xa9 M\xc3\xbcller <rene@example.de>",
		 "Liebe Gr\xc3\xbc\xc3\x9f"
		 "e aus K\xc3\xb6ln",
		 "28591"},
		{"06-shift-jis.eml",
		 "\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81\xae\xe3\x81\x8a\xe7\x9f"
		 "\xa5\xe3\x82\x89\xe3\x81\x9b",
		 "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e "
		 "<taro@example.jp>",
		 "\xe6\x98\x8e\xe6\x97\xa5\xe3\x81\xae\xe4\xbc\x9a\xe8\xad"
		 "\xb0",
		 "932"},
		{"07-koi8r.eml",
		 "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		 "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd <ivan@example.ru>",
		 "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, "
		 "\xd0\xba\xd0\xb0\xd0\xba",
		 "20866"},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct arena *a = arena_new(0);
		struct store_item item;
		struct conv_ctx ctx;
		const struct wbxml_node *app;

		ctx_init(&ctx, 141, 1, -1, 0);
		app = convert(a, cases[i].file, &ctx, &item);
		CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_SUBJECT),
				       cases[i].subject);
		CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_FROM),
				       cases[i].from);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
			       cases[i].body));
		CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_INTERNETCPID),
				       cases[i].cpid);
		arena_free(&a);
	}
}

static void
test_broken_input(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app;

	ctx_init(&ctx, 141, 1, -1, 0);
	app = convert(a, "08-8bit-unknown-headers.eml", &ctx, &item);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(app, EAS_EMAIL_SUBJECT), "Raw 8-bit"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
		       "in a charset nobody knows"));
	app = convert(a, "09-broken-boundary.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_SUBJECT),
			       "Broken multipart");
	app = convert(a, "10-missing-headers.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_SUBJECT),
			       "no other headers");
	CU_ASSERT_PTR_NULL(wbxml_child(app, EAS_EMAIL_FROM));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(app, EAS_EMAIL_DATERECEIVED));
	app = convert(a, "11-huge-headers.eml", &ctx, &item);
	CU_ASSERT(strlen(text_of(app, EAS_EMAIL_SUBJECT)) > 1000);
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
			       "Body after huge header lines.\n");
	arena_free(&a);
}

/* --- attachments --- */

static const char pdf_b64[] =
	"JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2Jq"
	"CnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==";
static const char png_b64[] =
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
	"hgGAWjR9awAAAABJRU5ErkJggg==";

static void
test_attachments(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app, *atts, *at;
	const char *names[4], *error = NULL;
	int64_t sizes[4], v;
	const uint8_t *data;
	size_t len, n = 0, pdf_len, png_len;
	const char *ctype, *name;
	guchar *pdf = g_base64_decode(pdf_b64, &pdf_len);
	guchar *png = g_base64_decode(png_b64, &png_len);

	ctx_init(&ctx, 141, 2, -1, 0);
	app = convert(a, "04-attachments.eml", &ctx, &item);
	atts = wbxml_child(app, EAS_AIRSYNCBASE_ATTACHMENTS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(atts);
	wbxml_foreach(atts, at)
	{
		if (n >= 4)
			break;
		names[n] = text_of(at, EAS_AIRSYNCBASE_DISPLAYNAME);
		wbxml_child_int(at, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE,
				&sizes[n]);
		n++;
	}
	CU_ASSERT_EQUAL_FATAL(n, 4);
	at = atts->child;
	CU_ASSERT_STRING_EQUAL(names[0], "logo.png");
	CU_ASSERT_STRING_EQUAL(text_of(at, EAS_AIRSYNCBASE_CONTENTID),
			       "logo@example.com");
	CU_ASSERT_STRING_EQUAL(text_of(at, EAS_AIRSYNCBASE_ISINLINE), "1");
	CU_ASSERT_STRING_EQUAL(text_of(at, EAS_AIRSYNCBASE_FILEREFERENCE),
			       "F1:3:0");
	CU_ASSERT_STRING_EQUAL(text_of(at, EAS_AIRSYNCBASE_CONTENTTYPE),
			       "image/png");
	CU_ASSERT_EQUAL(sizes[0], (int64_t)png_len);
	CU_ASSERT_STRING_EQUAL(names[1], "R\xc3\xa9sum\xc3\xa9 report.pdf");
	CU_ASSERT_EQUAL(sizes[1], (int64_t)pdf_len);
	CU_ASSERT_STRING_EQUAL(names[2], "Original question.eml");
	CU_ASSERT_EQUAL(
		wbxml_child_int(at->next->next, EAS_AIRSYNCBASE_METHOD, &v), 1);
	CU_ASSERT_EQUAL(v, 5);
	CU_ASSERT_STRING_EQUAL(names[3], "notes.txt");
	/* the HTML body is the related one, with the cid reference */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text_of(body_of(app), EAS_AIRSYNCBASE_DATA),
		       "cid:logo@example.com"));

	CU_ASSERT_EQUAL(mail_attachment_get(a, &item, 0, &data, &len, &ctype,
					    &name, &error),
			1);
	CU_ASSERT_EQUAL(len, png_len);
	CU_ASSERT(memcmp(data, png, png_len) == 0);
	CU_ASSERT_STRING_EQUAL(ctype, "image/png");
	CU_ASSERT_EQUAL(mail_attachment_get(a, &item, 1, &data, &len, &ctype,
					    &name, &error),
			1);
	CU_ASSERT_EQUAL(len, pdf_len);
	CU_ASSERT(memcmp(data, pdf, pdf_len) == 0);
	CU_ASSERT_STRING_EQUAL(ctype, "application/pdf");
	CU_ASSERT_EQUAL(mail_attachment_get(a, &item, 2, &data, &len, &ctype,
					    &name, &error),
			1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)data, "What was the budget?"));
	CU_ASSERT_EQUAL((int64_t)len, sizes[2]);
	CU_ASSERT_EQUAL(mail_attachment_get(a, &item, 3, &data, &len, &ctype,
					    &name, &error),
			1);
	CU_ASSERT_EQUAL(len, strlen("line one\nline two"));
	CU_ASSERT(memcmp(data, "line one\nline two", len) == 0);
	CU_ASSERT_EQUAL(mail_attachment_get(a, &item, 4, &data, &len, &ctype,
					    &name, &error),
			0);
	g_free(pdf);
	g_free(png);
	arena_free(&a);
}

static void
test_file_reference(void)
{
	struct arena *a = arena_new(0);
	const char *id;
	unsigned idx;

	CU_ASSERT_EQUAL(mail_file_reference_parse(a, "F1:3:2", &id, &idx), 0);
	CU_ASSERT_STRING_EQUAL(id, "F1:3");
	CU_ASSERT_EQUAL(idx, 2);
	CU_ASSERT_EQUAL(mail_file_reference_parse(a, "nocolon", &id, &idx), -1);
	CU_ASSERT_EQUAL(mail_file_reference_parse(a, "F1:3:x", &id, &idx), -1);
	arena_free(&a);
}

/* --- MIME bodies and classes --- */

static void
test_mime_support(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	struct conv_ctx ctx;
	const struct wbxml_node *app, *data;
	size_t len;
	char *raw;

	/* MIMESupport 1: S/MIME messages as MIME ... */
	ctx_init(&ctx, 141, 4, -1, 0);
	ctx.mime_support = 1;
	app = convert(a, "12-smime-signed.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_MESSAGECLASS),
			       "IPM.Note.SMIME.MultipartSigned");
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TYPE),
			       "4");
	CU_ASSERT_TRUE(mail_item_is_smime(&item));
	/* ... others as plain text */
	app = convert(a, "01-plain.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TYPE),
			       "1");
	/* MIMESupport 2: everything, the whole message */
	ctx.mime_support = 2;
	app = convert(a, "04-attachments.eml", &ctx, &item);
	raw = read_file(a, "04-attachments.eml", &len);
	data = wbxml_child(body_of(app), EAS_AIRSYNCBASE_DATA);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL(data->len, len);
	CU_ASSERT(memcmp(data->data, raw, len) == 0);
	/* MIMESupport 0: never */
	ctx.mime_support = 0;
	app = convert(a, "12-smime-signed.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TYPE),
			       "1");
	/* truncated MIME */
	ctx_init(&ctx, 161, 4, 100, 20);
	ctx.mime_support = 2;
	app = convert(a, "04-attachments.eml", &ctx, &item);
	CU_ASSERT_EQUAL(wbxml_child(body_of(app), EAS_AIRSYNCBASE_DATA)->len,
			100);
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TRUNCATED),
			       "1");
	CU_ASSERT_PTR_NOT_NULL(text_of(body_of(app), EAS_AIRSYNCBASE_PREVIEW));
	/* meeting request */
	ctx_init(&ctx, 141, 1, -1, 0);
	app = convert(a, "13-meeting-request.eml", &ctx, &item);
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_MESSAGECLASS),
			       "IPM.Schedule.Meeting.Request");
	CU_ASSERT_STRING_EQUAL(text_of(app, EAS_EMAIL_CONTENTCLASS),
			       "urn:content-classes:calendarmessage");
	arena_free(&a);
}

/* A message of almost 50 MB is accepted and synced truncated. */
static void
test_huge_message(void)
{
	static const char hdr[] = "From: big@example.com\r\nTo: bob@example"
				  ".org\r\nSubject: big\r\n\r\n";
	size_t len = MAIL_DEFAULT_MAX_SIZE - 1024, hl = sizeof(hdr) - 1;
	struct arena *a = arena_new(0);
	char *raw = malloc(len + 1);
	struct store_item item;
	struct wbxml_node *app;
	struct conv_ctx ctx;
	const char *error = NULL;
	int64_t est;

	memcpy(raw, hdr, hl);
	for (size_t i = hl; i < len; i++)
		raw[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
	raw[len] = '\0';
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(a, raw, len, &item, &error),
			      0);
	free(raw);
	ctx_init(&ctx, 141, 1, 5000, 0);
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_to_eas(a, &item, &ctx, app, &error), 0);
	CU_ASSERT_STRING_EQUAL(text_of(body_of(app), EAS_AIRSYNCBASE_TRUNCATED),
			       "1");
	CU_ASSERT(strlen(text_of(body_of(app), EAS_AIRSYNCBASE_DATA)) <= 5000);
	wbxml_child_int(body_of(app), EAS_AIRSYNCBASE_ESTIMATEDDATASIZE, &est);
	CU_ASSERT(est > 40 * 1024 * 1024);
	arena_free(&a);
}

/* --- client changes --- */

static void
test_change_round_trip(void)
{
	struct arena *a = arena_new(0);
	struct store_item item, changed, cleared;
	struct conv_ctx ctx;
	struct wbxml_node *in, *flag, *cats, *out;
	const struct wbxml_node *f, *c;
	const char *error = NULL;

	ctx_init(&ctx, 141, 1, -1, 0);
	convert(a, "01-plain.eml", &ctx, &item);
	in = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, in, EAS_EMAIL_READ, "1");
	wbxml_add_text(a, in, EAS_EMAIL_SUBJECT, "changed by client");
	flag = wbxml_add(a, in, EAS_EMAIL_FLAG);
	wbxml_add_text(a, flag, EAS_EMAIL_STATUS, "2");
	wbxml_add_text(a, flag, EAS_EMAIL_FLAGTYPE, "Flag for follow up");
	wbxml_add_text(a, flag, EAS_TASKS_STARTDATE,
		       "2024-03-06T00:00:00.000Z");
	wbxml_add_text(a, flag, EAS_TASKS_DUEDATE, "2024-03-08T00:00:00.000Z");
	cats = wbxml_add(a, in, EAS_EMAIL_CATEGORIES);
	wbxml_add_text(a, cats, EAS_EMAIL_CATEGORY, "Work");
	wbxml_add_text(a, cats, EAS_EMAIL_CATEGORY, "Blue");
	CU_ASSERT_EQUAL_FATAL(conv_email_change(a, in, &item, &changed, &error),
			      0);
	CU_ASSERT_TRUE(changed.meta.read);
	CU_ASSERT_EQUAL(changed.meta.flag_status, 2);
	CU_ASSERT_EQUAL(changed.data, item.data);

	out = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_flags_to_eas(a, &changed, &ctx, out, &error),
			0);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_EMAIL_READ), "1");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_EMAIL_SUBJECT));
	f = wbxml_child(out, EAS_EMAIL_FLAG);
	CU_ASSERT_STRING_EQUAL(text_of(f, EAS_EMAIL_STATUS), "2");
	CU_ASSERT_STRING_EQUAL(text_of(f, EAS_EMAIL_FLAGTYPE),
			       "Flag for follow up");
	CU_ASSERT_STRING_EQUAL(text_of(f, EAS_TASKS_DUEDATE),
			       "2024-03-08T00:00:00.000Z");
	c = wbxml_child(out, EAS_EMAIL_CATEGORIES);
	CU_ASSERT_EQUAL(wbxml_count_children(c), 2);
	CU_ASSERT_STRING_EQUAL(wbxml_text(c->child), "Work");

	/* the full item keeps the delivered properties */
	out = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_to_eas(a, &changed, &ctx, out, &error), 0);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_EMAIL_SUBJECT),
			       "Lunch on Friday?");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_EMAIL_READ), "1");

	/* empty Flag and Categories clear them; Read untouched */
	in = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add(a, in, EAS_EMAIL_FLAG);
	wbxml_add(a, in, EAS_EMAIL_CATEGORIES);
	CU_ASSERT_EQUAL_FATAL(
		conv_email_change(a, in, &changed, &cleared, &error), 0);
	CU_ASSERT_TRUE(cleared.meta.read);
	CU_ASSERT_EQUAL(cleared.meta.flag_status, 0);
	out = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_flags_to_eas(a, &cleared, &ctx, out, &error),
			0);
	CU_ASSERT(wbxml_is_empty(wbxml_child(out, EAS_EMAIL_FLAG)));
	CU_ASSERT(wbxml_is_empty(wbxml_child(out, EAS_EMAIL_CATEGORIES)));

	/* a reply recorded by SmartReply reaches 14.x clients */
	CU_ASSERT_EQUAL(mail_set_last_verb(a, &cleared, 1, 1709650000,
					   &cleared.extra, &cleared.extra_len,
					   &error),
			0);
	out = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_to_eas(a, &cleared, &ctx, out, &error), 0);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_EMAIL2_LASTVERBEXECUTED), "1");
	CU_ASSERT_PTR_NOT_NULL(text_of(out, EAS_EMAIL2_LASTVERBEXECUTIONTIME));

	/* bad values are refused */
	in = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, in, EAS_EMAIL_READ, "7");
	CU_ASSERT_EQUAL(conv_email_change(a, in, &item, &changed, &error), -1);
	arena_free(&a);
}

/* --- outgoing mail (compose.c) --- */

static struct store_item
corpus_item(struct arena *a, const char *name)
{
	struct store_item item;
	const char *error = NULL;
	size_t len = 0;
	char *data = read_file(a, name, &len);

	memset(&item, 0, sizeof(item));
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(a, data, len, &item, &error),
			      0);
	return item;
}

static const char *
no_cr(struct arena *a, const uint8_t *d, size_t len)
{
	char *r = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (d[i] != '\r')
			r[n++] = (char)d[i];
	r[n] = '\0';
	return r;
}

static void
test_compose_new(void)
{
	struct arena *a = arena_new(0);
	struct mail_outgoing out;
	const char *error = NULL;
	static const char msg[] =
		"From: Ada <ada@example.org>\r\n"
		"To: Bob <bob@example.org>, carol@example.net\r\n"
		"Cc: Team: dave@example.net, BOB@example.org;\r\n"
		"Bcc: secret@example.com\r\n"
		"Subject: Plans\r\n\r\nHello.\r\n";

	CU_ASSERT_EQUAL_FATAL(mail_compose(a, msg, strlen(msg),
					   MAIL_COMPOSE_NEW, NULL, NULL, &out,
					   &error),
			      0);
	CU_ASSERT_STRING_EQUAL(out.from, "ada@example.org");
	/* To, Cc (the group's members), Bcc; bob only once */
	CU_ASSERT_EQUAL(out.nrcpts, 4);
	CU_ASSERT_STRING_EQUAL(out.rcpts[0], "bob@example.org");
	CU_ASSERT_STRING_EQUAL(out.rcpts[3], "secret@example.com");
	CU_ASSERT_STRING_EQUAL(out.subject, "Plans");
	/* what leaves has no Bcc; the Sent Items copy keeps it */
	CU_ASSERT_PTR_NULL(strstr(out.data, "secret@example.com"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.sent_data, "secret@example.com"));
	/* Date and Message-ID supplied, CR LF line ends */
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\r\nDate: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, out.message_id));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.message_id, "@example.org>"));
	CU_ASSERT_PTR_NULL(strstr(out.data, "o.\n"));

	/* an address that cannot go on an SMTP envelope is not used */
	static const char bad[] = "From: ada@example.org\r\n"
				  "To: \"x\" <a b@example.org>\r\n\r\nx\r\n";
	CU_ASSERT_EQUAL(mail_compose(a, bad, strlen(bad), MAIL_COMPOSE_NEW,
				     NULL, NULL, &out, &error),
			0);
	CU_ASSERT_EQUAL(out.nrcpts, 0);
	/* no From: the account's address goes in */
	static const char nofrom[] = "To: bob@example.org\r\n\r\nx\r\n";
	CU_ASSERT_EQUAL(mail_compose(a, nofrom, strlen(nofrom),
				     MAIL_COMPOSE_NEW, NULL,
				     "Ada <ada@example.org>", &out, &error),
			0);
	CU_ASSERT_STRING_EQUAL(out.from, "ada@example.org");
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "From: Ada <ada@example.org>"));
	CU_ASSERT_EQUAL(mail_compose(a, "", 0, MAIL_COMPOSE_NEW, NULL, NULL,
				     &out, &error),
			-1);
	arena_free(&a);
}

static void
test_compose_reply_forward(void)
{
	struct arena *a = arena_new(0);
	struct store_item orig = corpus_item(a, "03-alternative.eml");
	struct store_item with_atts = corpus_item(a, "04-attachments.eml");
	struct store_item sent;
	struct mail_outgoing out;
	const char *error = NULL;
	static const char plain_reply[] =
		"From: bob@example.org\r\nTo: alice@example.com\r\n"
		"Subject: Re: Lunch on Friday?\r\n\r\nNoon is fine.\r\n";
	static const char alt_reply[] =
		"From: bob@example.org\r\nTo: alice@example.com\r\n"
		"Subject: Re: Lunch\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"Fine.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
		"<html><body><p>Fine.</p></body></html>\r\n--b--\r\n";
	static const char fwd[] =
		"From: bob@example.org\r\nTo: carol@example.net\r\n"
		"Subject: Fwd: report\r\n\r\nSee below.\r\n";

	/* reply, plain: new text, then the original quoted */
	CU_ASSERT_EQUAL_FATAL(mail_compose(a, plain_reply, strlen(plain_reply),
					   MAIL_COMPOSE_REPLY, &orig, NULL,
					   &out, &error),
			      0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "Noon is fine."));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "wrote:"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out.data, "> Plain version: see you at noon."));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out.data, "In-Reply-To: <alt-3@example.com>"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out.data, "<plain-1@example.com> <alt-3@example.com>"));

	/* reply, alternative: the HTML part gets the original HTML */
	CU_ASSERT_EQUAL_FATAL(mail_compose(a, alt_reply, strlen(alt_reply),
					   MAIL_COMPOSE_REPLY, &orig, NULL,
					   &out, &error),
			      0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "<blockquote"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "<b>see you at noon</b>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "> Plain version"));

	/* forward: the original's text and its attachments come along */
	CU_ASSERT_EQUAL_FATAL(mail_compose(a, fwd, strlen(fwd),
					   MAIL_COMPOSE_FORWARD, &with_atts,
					   NULL, &out, &error),
			      0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "Forwarded message"));
	memset(&sent, 0, sizeof(sent));
	CU_ASSERT_EQUAL_FATAL(
		mail_item_from_mime(a, out.data, out.len, &sent, &error), 0);
	{
		const uint8_t *d1, *d2;
		size_t l1, l2;
		const char *ct, *name;

		for (unsigned i = 0;; i++) {
			int r1 = mail_attachment_get(a, &with_atts, i, &d1, &l1,
						     &ct, &name, &error);
			int r2 = mail_attachment_get(a, &sent, i, &d2, &l2, &ct,
						     &name, &error);

			CU_ASSERT_EQUAL(r1, r2);
			if (r1 != 1 || r2 != 1)
				break;
			/* text parts may be re-canonicalized to CR LF */
			CU_ASSERT_STRING_EQUAL(no_cr(a, d1, l1),
					       no_cr(a, d2, l2));
		}
	}
	arena_free(&a);
}

static void
test_compose_ndr(void)
{
	struct arena *a = arena_new(0);
	struct store_item item;
	const char *data, *error = NULL;
	size_t len;
	static const char orig[] = "From: ada@example.org\r\n"
				   "To: nobody@example.net\r\n"
				   "Subject: Hello\r\n\r\nsecret body\r\n";

	mail_compose_ndr(a, "ada@example.org", "nobody@example.net",
			 "relay.example.net", "550 5.1.1 no such user\r\nx",
			 orig, strlen(orig), &data, &len);
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(a, data, len, &item, &error),
			      0);
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "nobody@example.net"));
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "550 5.1.1 no such user x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(data, "Subject: Hello"));
	/* the headers only: never the body */
	CU_ASSERT_PTR_NULL(strstr(data, "secret body"));
	CU_ASSERT_PTR_NOT_NULL(strstr(item.meta.subject, "Undeliverable"));
	arena_free(&a);
}

/* 16.x drafts: Add with an attachment, Change that drops it and adds
 * another, and the draft as a 16.1 client sees it (IsDraft, Bcc). */
static void
test_draft(void)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	struct wbxml_node *body, *atts, *add, *out;
	struct store_item item, changed;
	struct conv_ctx ctx;
	const char **added, *error = NULL, *name, *ct;
	const uint8_t *d;
	size_t nadded, l;
	bool send;

	wbxml_add_text(a, app, EAS_EMAIL_TO, "Bob <bob@example.org>");
	wbxml_add_text(a, app, EAS_EMAIL2_BCC, "hidden@example.net");
	wbxml_add_text(a, app, EAS_EMAIL_SUBJECT, "Draft plans");
	body = wbxml_add(a, app, EAS_AIRSYNCBASE_BODY);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_add_text(a, body, EAS_AIRSYNCBASE_DATA, "First words.");
	atts = wbxml_add(a, app, EAS_AIRSYNCBASE_ATTACHMENTS);
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_ADD);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_CLIENTID, "att-1");
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_DISPLAYNAME, "a.txt");
	wbxml_add_int(a, add, EAS_AIRSYNCBASE_METHOD, 1);
	wbxml_add_opaque(a, add, EAS_AIRSYNCBASE_CONTENT, "0123456789abcdef",
			 16);
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(
		conv_draft_from_eas(a, app, "Ada <ada@example.org>", NULL,
				    &item, &added, &nadded, &send, &error),
		0);
	CU_ASSERT_EQUAL(nadded, 1);
	CU_ASSERT_STRING_EQUAL(added[0], "att-1");
	CU_ASSERT_FALSE(send);
	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Draft plans");
	CU_ASSERT(item.meta.read);
	CU_ASSERT_EQUAL(
		mail_attachment_get(a, &item, 0, &d, &l, &ct, &name, &error),
		1);
	CU_ASSERT(l == 16 && memcmp(d, "0123456789abcdef", 16) == 0);
	item.server_id = "D1:5";

	/* Change: subject kept, attachment 0 deleted, another added, Send */
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	atts = wbxml_add(a, app, EAS_AIRSYNCBASE_ATTACHMENTS);
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_DELETE);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_FILEREFERENCE, "D1:5:0");
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_ADD);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_CLIENTID, "att-2");
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_DISPLAYNAME, "b.bin");
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_CONTENTTYPE, "image/png");
	wbxml_add_int(a, add, EAS_AIRSYNCBASE_METHOD, 1);
	wbxml_add_opaque(a, add, EAS_AIRSYNCBASE_CONTENT, "\x89PNG\0\1", 6);
	wbxml_add(a, app, EAS_EMAIL2_SEND);
	memset(&changed, 0, sizeof(changed));
	CU_ASSERT_EQUAL_FATAL(
		conv_draft_from_eas(a, app, "Ada <ada@example.org>", &item,
				    &changed, &added, &nadded, &send, &error),
		0);
	CU_ASSERT(send);
	CU_ASSERT_STRING_EQUAL(changed.meta.subject, "Draft plans");
	CU_ASSERT_EQUAL(
		mail_attachment_get(a, &changed, 0, &d, &l, &ct, &name, &error),
		1);
	CU_ASSERT(l == 6 && memcmp(d, "\x89PNG\0\1", 6) == 0);
	CU_ASSERT_STRING_EQUAL(ct, "image/png");
	CU_ASSERT_EQUAL(
		mail_attachment_get(a, &changed, 1, &d, &l, &ct, &name, &error),
		0);

	/* a 16.1 client sees a draft with its Bcc */
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 161;
	ctx.folder_type = EAS_FOLDER_DRAFTS;
	out = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL(conv_email_to_eas(a, &changed, &ctx, out, &error), 0);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(out, EAS_EMAIL2_ISDRAFT), "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(out, EAS_EMAIL2_BCC),
			       "hidden@example.net");
	CU_ASSERT_PTR_NOT_NULL(
		strstr(wbxml_child_text(out, EAS_EMAIL_TO), "bob@example.org"));
	arena_free(&a);
}

/* The From and To of intake read as GMime writes them, whether the
 * addresses take the short way (plain names and ASCII addresses with a
 * lower-case domain) or GMime's. */
static void
test_address_lists(void)
{
	static const char *const lists[] = {
		"Sender 1 <sender1@example.net>",
		"sender1@example.net",
		"<sender1@example.net>",
		"\"Sender 1\" <sender1@example.net>",
		"Ada Lovelace <ada@example.org>, bob@example.com",
		"Carol-Ann_X <c.a+tag@mail.example.co.uk>, 123 <9@x9.example>",
		"Name  With   Spaces <x@example.com>",
		"Sender <Sender@Example.NET>",
		"John Q. Public <jqp@example.com>",
		"O'Brien <ob@example.ie>",
		"=?utf-8?q?J=C3=B6rg?= <j@example.de>",
		"J\xc3\xb6rg <j@example.de>",
		"Team: a@example.com, d@example.org;",
		"a@xn--bcher-kva.example",
		"a@[192.0.2.1]",
		"Somebody With A Long Name "
		"<somebody.with.a.long.name@example.com>, "
		"Another One <another.one@example.com>",
	};
	struct arena *a = arena_new(0);

	for (size_t i = 0; i < N_ELEMENTS(lists); i++) {
		InternetAddressList *l =
			internet_address_list_parse(NULL, lists[i]);
		char *want = internet_address_list_to_string(l, NULL, FALSE);
		char *msg =
			arena_printf(a,
				     "From: %s\r\nTo: %s\r\nSubject: x\r\n\r\n"
				     "body\r\n",
				     lists[i], lists[i]);
		struct store_item item;
		struct mail_info mi;
		const char *error;

		CU_ASSERT_EQUAL_FATAL(
			mail_item_from_mime(a, msg, strlen(msg), &item, &error),
			0);
		CU_ASSERT_EQUAL_FATAL(mail_info_get(a, &item, &mi, &error), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mi.from);
		CU_ASSERT_STRING_EQUAL(mi.from, want);
		CU_ASSERT_STRING_EQUAL(mi.to, want);
		if (strcmp(mi.from, want) != 0)
			fprintf(stderr, "%s: %s, GMime %s\n", lists[i], mi.from,
				want);
		g_free(want);
		g_object_unref(l);
	}
	arena_free(&a);
}

/* mail_utf8_valid answers as g_utf8_validate does, for ASCII runs of
 * every length with a NUL, a control, a character of two, three or four
 * bytes, a truncated or overlong one, a surrogate or a bad byte at every
 * position (its ASCII fast path reads eight bytes at a time). */
static void
test_utf8_valid(void)
{
	static const char *const pieces[] = {
		"",
		"\x01",
		"\t",
		"\x7f",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9f\x98\x80",
		"\xc3",
		"\xff",
		"\xed\xa0\x80",
		"\xc0\xaf",
		"\xf4\x90\x80\x80",
	};
	char buf[64];

	for (size_t len = 0; len < 40; len++) {
		for (size_t pos = 0; pos <= len; pos++) {
			for (size_t k = 0; k < N_ELEMENTS(pieces); k++) {
				size_t pl = strlen(pieces[k]);

				memset(buf, 'a', sizeof(buf));
				memcpy(buf + pos, pieces[k], pl);
				CU_ASSERT_EQUAL(
					mail_utf8_valid(buf, len + pl),
					(bool)g_utf8_validate(
						buf, (gssize)(len + pl), NULL));
			}
			if (pos < len) {
				memset(buf, 'a', sizeof(buf));
				buf[pos] = '\0';
				CU_ASSERT_FALSE(mail_utf8_valid(buf, len));
			}
		}
	}
}

/* Every C0 control but TAB, CR and LF becomes a space in a body's text,
 * wherever it falls in the eight-byte words it is checked in. */
static void
test_controls_blanked(void)
{
	struct arena *a = arena_new(0);

	for (unsigned c = 1; c < 0x20; c++) {
		for (size_t pos = 0; pos < 24; pos++) {
			char msg[256], want[64];
			struct store_item item;
			struct mail_info mi;
			const char *error, *text;
			size_t hl, len;

			hl = (size_t)snprintf(msg, sizeof(msg),
					      "From: a@example.org\r\n"
					      "Subject: c\r\n\r\n");
			memset(want, 'x', 40);
			want[40] = '\0';
			want[pos] = (char)c;
			memcpy(msg + hl, want, 41);
			if (c != '\t' && c != '\r' && c != '\n')
				want[pos] = ' ';
			memset(&item, 0, sizeof(item));
			CU_ASSERT_EQUAL_FATAL(
				mail_item_from_mime(a, msg, hl + 40, &item,
						    &error),
				0);
			CU_ASSERT_EQUAL_FATAL(
				mail_info_get(a, &item, &mi, &error), 0);
			text = mail_body_text(a, &item, &mi.text, &len);
			CU_ASSERT_EQUAL(len, 40);
			CU_ASSERT_EQUAL(memcmp(text, want, 40), 0);
		}
	}
	arena_free(&a);
}

/* --- the light reader against GMime --- */

/* Both readers on one message, at the same "now": whatever the light one
 * takes must be stored exactly as GMime's would be. Returns whether the
 * light reader took it. */
static bool
same_both_ways(const char *what, const char *data, size_t len)
{
	struct arena *a = arena_new(0);
	struct store_item li, gi;
	const char *error = NULL;
	int lr, gr;
	bool same;

	memset(&li, 0, sizeof(li));
	memset(&gi, 0, sizeof(gi));
	lr = mail_item_parse(a, data, len, MAIL_PARSE_LIGHT, 1700000000, &li,
			     &error);
	gr = mail_item_parse(a, data, len, MAIL_PARSE_GMIME, 1700000000, &gi,
			     &error);
	if (lr == 1) {
		arena_free(&a);
		return false;
	}
	CU_ASSERT_EQUAL(lr, gr);
	if (lr != 0 || gr != 0) {
		arena_free(&a);
		return false;
	}
	same = li.extra_len == gi.extra_len &&
	       memcmp(li.extra, gi.extra, li.extra_len) == 0 &&
	       li.meta.date == gi.meta.date && li.meta.size == gi.meta.size &&
	       g_strcmp0(li.meta.subject, gi.meta.subject) == 0 &&
	       g_strcmp0(li.meta.message_id, gi.meta.message_id) == 0 &&
	       li.data_len == gi.data_len &&
	       memcmp(li.data, gi.data, li.data_len) == 0;
	if (!same)
		fprintf(stderr,
			"\nlight reader differs on %s: subject [%s]/[%s] "
			"id [%s]/[%s] date %lld/%lld extra %zu/%zu\n",
			what, li.meta.subject ? li.meta.subject : "(null)",
			gi.meta.subject ? gi.meta.subject : "(null)",
			li.meta.message_id ? li.meta.message_id : "(null)",
			gi.meta.message_id ? gi.meta.message_id : "(null)",
			(long long)li.meta.date, (long long)gi.meta.date,
			li.extra_len, gi.extra_len);
	CU_ASSERT_TRUE(same);
	arena_free(&a);
	return true;
}

/* What an MTA hands over: folded Received and DKIM-Signature lines, which
 * the light reader passes over as GMime does, so that it still takes the
 * message; a fold onto a field it reads stays GMime's. */
static void
test_light_reader_folded_trace(void)
{
	static const char mail[] =
		"Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n"
		"\tby mail.example.org (Postfix) with ESMTPS id 4AB12\r\n"
		"\tfor <ann@example.org>; Mon, 23 Nov 2026 10:00:01 +0100\r\n"
		"DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n"
		" s=s1; h=from:to:subject; bh=abc=;\r\n b=def=\r\n"
		"From: Sender <s@example.net>\r\nTo: <ann@example.org>\r\n"
		"Subject: traced\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
		"Message-ID: <t1@example.net>\r\n\r\nHello.\r\n";
	static const char onto_subject[] =
		"From: Sender <s@example.net>\r\nSubject: folded\r\n onto "
		"it\r\n"
		"\r\nHello.\r\n";

	CU_ASSERT_TRUE(same_both_ways("traced", mail, sizeof(mail) - 1));
	CU_ASSERT_FALSE(same_both_ways("onto subject", onto_subject,
				       sizeof(onto_subject) - 1));
}

/* Messages that are nearly simple: each header line below over a plain
 * body, and the whole of each special case. */
static void
test_light_reader_tricky(void)
{
	static const char *const headers[] = {
		"Subject: plain words",
		"Subject:   spaced   out   ",
		"Subject:",
		"Subject: =?utf-8?q?caf=C3=A9?= au lait",
		"Subject: =?iso-8859-1?b?Y2Fm6Q==?=",
		"Subject: =?bogus?q?x?= and =?utf-8?q?broken",
		"Subject: Re: Fwd: RE: thread",
		"Subject: tab\there",
		"Subject: caf\xc3\xa9 8-bit",
		"Subject: folded\r\n continued",
		"Received: from a\r\n\tby b\r\n\tfor <c@example.org>; Sun, 22 "
		"Nov "
		"2026 04:05:06 +0000",
		"Received: from a\r\n  \r\nSubject: after a blank fold",
		"X-Long: one\r\n two\r\nSubject: after a folded field",
		"X-Long: one\r\n\tcaf\xc3\xa9 8-bit fold",
		"DKIM-Signature: v=1; a=rsa-sha256;\r\n d=example.org; "
		"s=s1;\r\n "
		"b=abc\r\nFrom: Ann <ann@example.org>",
		"To: a@example.org,\r\n b@example.org",
		"Content-Type: text/plain;\r\n charset=utf-8",
		"Date: Sun, 22 Nov 2026 04:05:06 +0000",
		"Date: 22 Nov 2026 04:05:06 -0500",
		"Date: Sun, 22 Nov 26 04:05 EST",
		"Date: yesterday",
		"Date:",
		"Date: Thu, 01 Jan 1970 00:00:00 +0000",
		"From: Ann Example <ann@example.org>",
		"From: \"Doe, John\" <john@example.org>",
		"From: ann@example.org (Ann)",
		"From: <ANN@EXAMPLE.ORG>",
		"From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>",
		"From: not an address",
		"From:",
		"From: a@b.c, d@e.f",
		"To: undisclosed-recipients:;",
		"To: Team: a@example.org, b@example.org;",
		"To: A One <a@example.org>, B Two <b@example.org>, C Three "
		"<c@example.org>, D Four <d@example.org>",
		"To: x@xn--caf-dma.example",
		"Cc: , , a@example.org",
		"To: Name<a@example.org>",
		"To:   <a@example.org>",
		"To: a@example.org>",
		"To: <a@example.org> x",
		"To: A  B <a@example.org>",
		"To: -x- _y_ <a@example.org>",
		"To: <.a@example.org>",
		"To: a@example.org.",
		"To: a..b@example..org",
		"To: a@example.org-",
		"To: a-@-example.org",
		"To: <>",
		"To: <a@b@example.org>",
		"To: Sender 12 <sender12@example.net>",
		"To: Averyveryverylongdisplaynamethatgoeson andonandon "
		"<averyverylongaddress@example.org>",
		"Content-Type: text/plain; charset=\"utf-8\"",
		"Content-Type: text/plain;charset=utf-8",
		"Content-Type: text/plain; charset=\"utf-8",
		"Content-Type: Text/Plain; CHARSET=UTF-8",
		"Content-Type: text/plain; charset=",
		"Content-Type: text/plain; charset=\"\"",
		"Content-Type: text/plainx",
		"Content-Type: text/plain; charset=utf-8 (comment)",
		"Reply-To: Help Desk <help@example.org>",
		"Bcc: hidden@example.org",
		"Message-ID: <abc@example.org>",
		"Message-ID: abc@example.org",
		"Message-ID: <abc@example.org>   ",
		"Message-ID: <a b@example.org> trailing",
		"Message-Id:",
		"References: <r1@x> <r2@x> <r3@x>",
		"References: garbage",
		"In-Reply-To: <parent@x>",
		"In-Reply-To: Your message of Tuesday <p@x>",
		"Importance: High",
		"Importance: low",
		"X-Priority: 1 (Highest)",
		"X-Priority: 5",
		"Priority: urgent",
		"Priority: non-urgent",
		"Content-Type: text/plain",
		"Content-Type: TEXT/PLAIN; charset=\"ISO-8859-1\"",
		"Content-Type: text/plain; format=flowed; charset=us-ascii",
		"Content-Type: text/plain; charset*=utf-8''%E2%82%AC",
		"Content-Type: text/plain; charset=x-unknown",
		"Content-Type: text/plain; name=\"note.txt\"",
		"Content-Type: text/html",
		"Content-Type: bogus",
		"Content-Type:",
		"Content-Transfer-Encoding: quoted-printable",
		"Content-Transfer-Encoding: BASE64",
		"Content-Transfer-Encoding: 8bit",
		"Content-Transfer-Encoding: x-unknown",
		"Content-Disposition: attachment; filename=a.txt",
		"Thread-Topic: the topic",
		"MIME-Version: 1.0",
		"X-Mailer: something",
		"subject: lower case name",
		"SUBJECT: upper case name",
		"Subject : space before colon",
		"NoColonHere",
	};
	static const char *const bodies[] = {
		"Hello.\r\n",
		"caf=E9 au lait=\r\n and more\r\n",
		"SGVsbG8sIHdvcmxkIQ==\r\n",
		"8-bit caf\xc3\xa9 and Latin-1 caf\xe9\r\n",
		"controls \x01\x02 and a NUL \0 inside\r\n",
		"\r\n",
	};
	static const char *const whole[] = {
		"From: a@example.org\r\nTo: b@example.org\r\n"
		"To: c@example.org\r\n\r\nduplicate To\r\n",
		"From: a@example.org\r\nSubject: no body\r\n",
		"From: a@example.org\r\nSubject: empty body\r\n\r\n",
		"From: a@example.org\nSubject: LF only\n\nbody\n",
		"\r\nFrom: a@example.org\r\n\r\nleading blank line\r\n",
		"From: a@example.org\r\nSubject: bare\rCR\r\n\r\nbody\r\n",
		"From: a@example.org\nSubject: LF, then CR LF\n\r\nbody\n",
		"From: a@example.org\r\nSubject: CR LF, then LF\r\n\nbody\n",
		"From: a@example.org\r\nSubject: CR CR LF\r\r\n\r\nbody\n",
		"From: a@example.org\r\n\r\n",
		"From: a@example.org\r\n\r\n\r\n",
		"From: a@example.org\r\n\r\n.\r\n",
	};
	struct buf b;
	size_t light = 0;

	buf_init(&b, 0);
	for (size_t i = 0; i < N_ELEMENTS(headers); i++) {
		for (size_t j = 0; j < N_ELEMENTS(bodies); j++) {
			size_t blen = j == 4 ? 32 : strlen(bodies[j]);

			buf_reset(&b);
			buf_printf(&b,
				   "From: Sender <s@example.net>\r\n"
				   "To: <r@example.org>\r\n%s\r\n"
				   "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
				   "\r\n",
				   headers[i]);
			buf_append(&b, bodies[j], blen);
			light += same_both_ways(headers[i],
						(const char *)b.data, b.len);
			/* the same alone, without the fields around it */
			buf_reset(&b);
			buf_printf(&b, "%s\n\n", headers[i]);
			buf_append(&b, bodies[j], blen);
			light += same_both_ways(headers[i],
						(const char *)b.data, b.len);
		}
	}
	for (size_t i = 0; i < N_ELEMENTS(whole); i++)
		light += same_both_ways(whole[i], whole[i], strlen(whole[i]));
	buf_deinit(&b);
	/* most of them are the light reader's */
	CU_ASSERT_TRUE(light > N_ELEMENTS(headers) * N_ELEMENTS(bodies));
}

/* multipart/alternative: the simple ones are the light reader's, and
 * each variation below is stored as GMime stores it. */
static void
test_light_reader_alternative(void)
{
	static const char *const head =
		"From: Ann <ann@example.org>\r\nTo: bob@example.org\r\n"
		"Subject: alt\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
		"MIME-Version: 1.0\r\n";
	static const char *const bodies[] = {
		/* 0: the simple one */
		"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"plain\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
		"\r\n<p>html</p>\r\n--b1--\r\n",
		/* LF only, a preamble, encodings */
		"Content-Type: multipart/alternative; boundary=b2\n\n"
		"This is a message in MIME format.\n--b2\n"
		"Content-Type: text/plain; charset=\"iso-8859-1\"\n"
		"Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n--b2\n"
		"Content-Type: text/html\nContent-Transfer-Encoding: base64\n"
		"\nPHA+aGk8L3A+\n--b2--\n",
		/* no line break after the end */
		"Content-Type: multipart/alternative; boundary=b3\r\n\r\n"
		"--b3\r\nContent-Type: text/plain\r\n\r\nx\r\n--b3\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--b3--",
		/* blank lines after the end */
		"Content-Type: multipart/alternative; boundary=bh\r\n\r\n"
		"--bh\r\nContent-Type: text/plain\r\n\r\nx\r\n--bh\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--bh--\r\n\r\n\r\n",
		/* an epilogue */
		"Content-Type: multipart/alternative; boundary=b4\r\n\r\n"
		"--b4\r\nContent-Type: text/plain\r\n\r\nx\r\n--b4\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--b4--\r\nafter\r\n",
		/* no end boundary */
		"Content-Type: multipart/alternative; boundary=b5\r\n\r\n"
		"--b5\r\nContent-Type: text/plain\r\n\r\nx\r\n--b5\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n",
		/* html first, one part, three parts */
		"Content-Type: multipart/alternative; boundary=b6\r\n\r\n"
		"--b6\r\nContent-Type: text/html\r\n\r\ny\r\n--b6\r\n"
		"Content-Type: text/plain\r\n\r\nx\r\n--b6--\r\n",
		"Content-Type: multipart/alternative; boundary=b7\r\n\r\n"
		"--b7\r\nContent-Type: text/plain\r\n\r\nx\r\n--b7--\r\n",
		"Content-Type: multipart/alternative; boundary=b8\r\n\r\n"
		"--b8\r\nContent-Type: text/plain\r\n\r\nx\r\n--b8\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--b8\r\n"
		"Content-Type: text/html\r\n\r\nz\r\n--b8--\r\n",
		/* a boundary line with more after it, a part without type */
		"Content-Type: multipart/alternative; boundary=b9\r\n\r\n"
		"--b9 \r\nContent-Type: text/plain\r\n\r\nx\r\n--b9\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--b9--\r\n",
		"Content-Type: multipart/alternative; boundary=ba\r\n\r\n"
		"--ba\r\n\r\nx\r\n--ba\r\nContent-Type: text/html\r\n\r\ny\r\n"
		"--ba--\r\n",
		/* empty parts, a disposition, a content line like a boundary */
		"Content-Type: multipart/alternative; boundary=bb\r\n\r\n"
		"--bb\r\nContent-Type: text/plain\r\n\r\n\r\n--bb\r\n"
		"Content-Type: text/html\r\n\r\n\r\n--bb--\r\n",
		"Content-Type: multipart/alternative; boundary=bc\r\n\r\n"
		"--bc\r\nContent-Type: text/plain\r\n"
		"Content-Disposition: inline\r\n\r\nx\r\n--bc\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--bc--\r\n",
		"Content-Type: multipart/alternative; boundary=bd\r\n\r\n"
		"--bd\r\nContent-Type: text/plain\r\n\r\n--bdx\r\n-- sig\r\n"
		"--bd\r\nContent-Type: text/html\r\n\r\ny\r\n--bd--\r\n",
		/* a boundary in quotes with spaces, a long one, none */
		"Content-Type: multipart/alternative; boundary=\"a b c\"\r\n"
		"\r\n--a b c\r\nContent-Type: text/plain\r\n\r\nx\r\n--a b "
		"c\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--a b c--\r\n",
		"Content-Type: multipart/alternative\r\n\r\n--\r\n"
		"Content-Type: text/plain\r\n\r\nx\r\n----\r\n",
		/* the other multiparts */
		"Content-Type: multipart/mixed; boundary=be\r\n\r\n"
		"--be\r\nContent-Type: text/plain\r\n\r\nx\r\n--be\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--be--\r\n",
		"Content-Type: multipart/related; boundary=bf\r\n\r\n"
		"--bf\r\nContent-Type: text/plain\r\n\r\nx\r\n--bf\r\n"
		"Content-Type: text/html\r\n\r\ny\r\n--bf--\r\n",
		/* CR LF and LF mixed at a boundary */
		"Content-Type: multipart/alternative; boundary=bg\r\n\r\n"
		"--bg\nContent-Type: text/plain\r\n\r\nx\n--bg\r\n"
		"Content-Type: text/html\n\ny\r\n\r\n--bg--\r\n",
	};
	struct buf b;
	size_t light = 0;

	buf_init(&b, 0);
	for (size_t i = 0; i < N_ELEMENTS(bodies); i++) {
		bool l;

		buf_reset(&b);
		buf_printf(&b, "%s%s", head, bodies[i]);
		l = same_both_ways(bodies[i], (const char *)b.data, b.len);
		if (i == 0)
			CU_ASSERT_TRUE(l);
		light += l;
	}
	buf_deinit(&b);
	CU_ASSERT_TRUE(light >= 3);
}

/* The corpus, and the messages of the captured SendMail requests in
 * ../shared when it is there. */
static void
test_light_reader_corpus(void)
{
	static const char *const shared_mail[] = {
		"eas4tbsync-5.3.4-eas2.5/009-SendMail.wbxml",
		"eas4tbsync-5.3.4-eas14.0/009-SendMail.wbxml",
		"eas4tbsync-5.3.4-eas16.1/009-SendMail.wbxml",
		"pyactivesync-eas16.1/012-SendMail.wbxml",
	};
	struct arena *a = arena_new(0);
	const char *shared = test_shared_dir();
	DIR *d = opendir(data_dir());
	struct dirent *de;
	size_t n = 0, nshared = 0, nlight = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t len;
		char *data;

		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		data = read_file(a, de->d_name, &len);
		CU_ASSERT_PTR_NOT_NULL(data);
		if (data != NULL)
			n += same_both_ways(de->d_name, data, len);
	}
	closedir(d);
	CU_ASSERT_TRUE(n >= 1); /* 01-plain.eml at least */
	if (shared == NULL) {
		fprintf(stderr, "(no ../shared: captured mail skipped) ");
		arena_free(&a);
		return;
	}
	for (size_t i = 0; i < N_ELEMENTS(shared_mail); i++) {
		char path[512];
		struct buf raw;
		struct wbxml_node *root;
		const struct wbxml_node *mime;
		const char *error;

		snprintf(path, sizeof(path), "%s/fixtures/client-requests/%s",
			 shared, shared_mail[i]);
		buf_init(&raw, 0);
		if (buf_read_path(&raw, path, &error) < 0) {
			buf_deinit(&raw);
			continue;
		}
		if (wbxml_decode(a, raw.data, raw.len, &wbxml_limits_default,
				 &root, &error) == 0 &&
		    (mime = wbxml_child(root, EAS_COMPOSEMAIL_MIME)) != NULL) {
			nshared++;
			nlight += same_both_ways(shared_mail[i],
						 (const char *)mime->data,
						 mime->len);
		}
		buf_deinit(&raw);
	}
	/* the captured clients' plain messages are the light reader's */
	CU_ASSERT_TRUE(nshared == 0 || nlight > 0);
	arena_free(&a);
}

static CU_TestInfo corpus_tests[] = {
	{"every corpus file parses and converts", test_corpus_never_crashes},
	{"non-messages are refused", test_not_a_message},
	{"plain message properties", test_plain_properties},
	{"12.1 and 16.1 differences", test_versions},
	{"HTML body and decoded subject", test_html},
	{"alternative and conversation ids", test_alternative_and_thread},
	{"non-UTF-8 charsets", test_charsets},
	{"broken input", test_broken_input},
	{"attachments and their bytes", test_attachments},
	{"FileReference parsing", test_file_reference},
	{"MIME bodies and message classes", test_mime_support},
	{"50 MB message", test_huge_message},
	{"Read/Flag/Categories round trip", test_change_round_trip},
	{"compose: recipients, Bcc, Date, Message-ID", test_compose_new},
	{"compose: reply quotes, forward attaches", test_compose_reply_forward},
	{"compose: non-delivery report", test_compose_ndr},
	{"drafts: add, change attachments, IsDraft and Bcc", test_draft},
	{"UTF-8 check as GLib's", test_utf8_valid},
	{"address lists as GMime writes them", test_address_lists},
	{"controls blanked in a body's text", test_controls_blanked},
	{"light reader as GMime: tricky headers", test_light_reader_tricky},
	{"light reader: folded trace lines of an MTA",
	 test_light_reader_folded_trace},
	{"light reader as GMime: multipart/alternative",
	 test_light_reader_alternative},
	{"light reader as GMime: corpus and captures",
	 test_light_reader_corpus},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"mail", NULL, NULL, NULL, NULL, corpus_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
