/* Tests for the contact, calendar, task and note conversions: every
 * property of a class survives ApplicationData -> stored text ->
 * ApplicationData, for protocol 14.1 and 16.1; imports of desktop exports;
 * bad input; ghosting; body truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "conv.h"
#include "test-main.h"
#include "util.h"

static struct arena *A;

static int
setup(void)
{
	A = arena_new(1 << 16);
	return 0;
}

static int
teardown(void)
{
	arena_free(&A);
	return 0;
}

static struct conv_ctx
ctx_for(unsigned version)
{
	struct conv_ctx c;

	memset(&c, 0, sizeof(c));
	c.version = version;
	return c;
}

/* --- tree comparison --- */

static bool node_eq(const struct wbxml_node *x, const struct wbxml_node *y);

/* Same children as a multiset (order-insensitive). */
static bool
children_eq(const struct wbxml_node *x, const struct wbxml_node *y)
{
	const struct wbxml_node *c, *d;
	bool used[512];
	size_t nx = wbxml_count_children(x), ny = wbxml_count_children(y);

	if (nx != ny || ny > 512)
		return false;
	memset(used, 0, sizeof(used));
	for (c = x->child; c != NULL; c = c->next) {
		size_t i = 0;
		bool found = false;

		for (d = y->child; d != NULL; d = d->next, i++) {
			if (!used[i] && node_eq(c, d)) {
				used[i] = true;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

static bool
node_eq(const struct wbxml_node *x, const struct wbxml_node *y)
{
	size_t lx = x->data != NULL ? x->len : 0;
	size_t ly = y->data != NULL ? y->len : 0;

	if (x->tag != y->tag || lx != ly ||
	    (lx > 0 && memcmp(x->data, y->data, lx) != 0))
		return false;
	return children_eq(x, y);
}

static void
dump(const char *what, const struct wbxml_node *n, int depth)
{
	const struct wbxml_node *c;

	fprintf(stderr, "%s%*s%s(0x%04x) '%s'\n", what, depth * 2, "",
		wbxml_tag_name(n->tag) ? wbxml_tag_name(n->tag) : "?", n->tag,
		n->data != NULL ? (const char *)n->data : "");
	for (c = n->child; c != NULL; c = c->next)
		dump(what, c, depth + 1);
}

/* Every element the client sent comes back with the same text and the
 * same children; the Body is compared by Type and Data. */
static void
assert_same(const struct wbxml_node *in, const struct wbxml_node *out)
{
	const struct wbxml_node *c, *d;
	size_t n_in = 0, n_out = 0;

	for (c = in->child; c != NULL; c = c->next) {
		bool found = false;

		n_in++;
		if (c->tag == EAS_AIRSYNCBASE_BODY) {
			d = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
			CU_ASSERT_PTR_NOT_NULL_FATAL(d);
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(c, EAS_AIRSYNCBASE_TYPE),
				wbxml_child_text(d, EAS_AIRSYNCBASE_TYPE));
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(c, EAS_AIRSYNCBASE_DATA),
				wbxml_child_text(d, EAS_AIRSYNCBASE_DATA));
			continue;
		}
		for (d = out->child; d != NULL; d = d->next) {
			if (node_eq(c, d)) {
				found = true;
				break;
			}
		}
		if (!found) {
			dump("missing: ", c, 0);
			dump("out: ", out, 0);
		}
		CU_ASSERT(found);
	}
	for (d = out->child; d != NULL; d = d->next) {
		if (d->tag != EAS_AIRSYNCBASE_NATIVEBODYTYPE)
			n_out++;
	}
	if (n_in != n_out)
		dump("extra? out: ", out, 0);
	CU_ASSERT_EQUAL(n_in, n_out);
}

/* Body type the round trips ask for (0: no preference, i.e. plain). */
static int rt_body_type;

static struct wbxml_node *
roundtrip(enum store_class cls, const struct wbxml_node *in, unsigned version,
	  struct store_item *item)
{
	struct conv_ctx ctx = ctx_for(version);

	if (rt_body_type != 0) {
		ctx.nprefs = 1;
		ctx.prefs[0].type = rt_body_type;
	}
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *err = NULL;

	memset(item, 0, sizeof(*item));
	if (conv_from_eas(A, cls, in, &ctx, NULL, item, &err) < 0) {
		fprintf(stderr, "from_eas: %s\n", err);
		CU_FAIL_FATAL("conv_from_eas failed");
	}
	CU_ASSERT_EQUAL(item->cls, cls);
	if (conv_to_eas(A, item, &ctx, out, &err) < 0) {
		fprintf(stderr, "to_eas: %s\n", err);
		CU_FAIL_FATAL("conv_to_eas failed");
	}
	return out;
}

static void
add_body(struct wbxml_node *app, const char *type, const char *text)
{
	struct wbxml_node *b = wbxml_add(A, app, EAS_AIRSYNCBASE_BODY);

	wbxml_add_text(A, b, EAS_AIRSYNCBASE_TYPE, type);
	wbxml_add_text(A, b, EAS_AIRSYNCBASE_DATA, text);
}

static void
add_list(struct wbxml_node *app, uint16_t list, uint16_t item,
	 const char *const *v)
{
	struct wbxml_node *l = wbxml_add(A, app, list);

	for (; *v != NULL; v++)
		wbxml_add_text(A, l, item, *v);
}

/* A tiny 1x1 JPEG-ish payload is enough: the converter checks base64 and
 * size, not the image. */
#define PICTURE "/9j/4AAQSkZJRgABAQEASABIAAD/2Q=="

static struct wbxml_node *
full_contact(void)
{
	static const struct { uint16_t tag; const char *v; } props[] = {
		{ EAS_CONTACTS_ANNIVERSARY, "2010-06-11T22:00:00.000Z" },
		{ EAS_CONTACTS_ASSISTANTNAME, "Ada Assistant" },
		{ EAS_CONTACTS_ASSISTANTPHONENUMBER, "+49 30 1000" },
		{ EAS_CONTACTS_BIRTHDAY, "1990-05-14T22:00:00.000Z" },
		{ EAS_CONTACTS_BUSINESS2PHONENUMBER, "+49 30 1001" },
		{ EAS_CONTACTS_BUSINESSADDRESSCITY, "Berlin" },
		{ EAS_CONTACTS_BUSINESSADDRESSCOUNTRY, "Germany" },
		{ EAS_CONTACTS_BUSINESSADDRESSPOSTALCODE, "10115" },
		{ EAS_CONTACTS_BUSINESSADDRESSSTATE, "BE" },
		{ EAS_CONTACTS_BUSINESSADDRESSSTREET,
		  "Hauptstr. 1\r\nHinterhaus; 3. OG" },
		{ EAS_CONTACTS_BUSINESSFAXNUMBER, "+49 30 1002" },
		{ EAS_CONTACTS_BUSINESSPHONENUMBER, "+49 30 1003" },
		{ EAS_CONTACTS_CARPHONENUMBER, "+49 170 1004" },
		{ EAS_CONTACTS_COMPANYNAME, "ACME, Inc." },
		{ EAS_CONTACTS_DEPARTMENT, "R&D" },
		{ EAS_CONTACTS_EMAIL1ADDRESS, "\"Max M\" <max@example.com>" },
		{ EAS_CONTACTS_EMAIL2ADDRESS, "max@home.example" },
		{ EAS_CONTACTS_EMAIL3ADDRESS, "m@x.example" },
		{ EAS_CONTACTS_FILEAS, "Mustermann, Max" },
		{ EAS_CONTACTS_FIRSTNAME, "Max" },
		{ EAS_CONTACTS_HOME2PHONENUMBER, "+49 30 1005" },
		{ EAS_CONTACTS_HOMEADDRESSCITY, "Köln" },
		{ EAS_CONTACTS_HOMEADDRESSCOUNTRY, "DE" },
		{ EAS_CONTACTS_HOMEADDRESSPOSTALCODE, "50667" },
		{ EAS_CONTACTS_HOMEADDRESSSTATE, "NRW" },
		{ EAS_CONTACTS_HOMEADDRESSSTREET, "Domplatz 2" },
		{ EAS_CONTACTS_HOMEFAXNUMBER, "+49 221 1006" },
		{ EAS_CONTACTS_HOMEPHONENUMBER, "+49 221 1007" },
		{ EAS_CONTACTS_JOBTITLE, "Chief \\ Tester" },
		{ EAS_CONTACTS_LASTNAME, "Mustermann" },
		{ EAS_CONTACTS_MIDDLENAME, "Maria" },
		{ EAS_CONTACTS_MOBILEPHONENUMBER, "+49 170 1008" },
		{ EAS_CONTACTS_OFFICELOCATION, "Room 4.12" },
		{ EAS_CONTACTS_OTHERADDRESSCITY, "Paris" },
		{ EAS_CONTACTS_OTHERADDRESSCOUNTRY, "France" },
		{ EAS_CONTACTS_OTHERADDRESSPOSTALCODE, "75001" },
		{ EAS_CONTACTS_OTHERADDRESSSTATE, "IDF" },
		{ EAS_CONTACTS_OTHERADDRESSSTREET, "1 Rue de Rivoli" },
		{ EAS_CONTACTS_PAGERNUMBER, "+49 30 1009" },
		{ EAS_CONTACTS_RADIOPHONENUMBER, "+49 30 1010" },
		{ EAS_CONTACTS_SPOUSE, "Erika" },
		{ EAS_CONTACTS_SUFFIX, "Jr." },
		{ EAS_CONTACTS_TITLE, "Dr." },
		{ EAS_CONTACTS_WEBPAGE, "https://example.com/max?a=1,b=2" },
		{ EAS_CONTACTS_YOMICOMPANYNAME, "アクメ" },
		{ EAS_CONTACTS_YOMIFIRSTNAME, "マックス" },
		{ EAS_CONTACTS_YOMILASTNAME, "ムスターマン" },
		{ EAS_CONTACTS_PICTURE, PICTURE },
		{ EAS_CONTACTS_ALIAS, "maxm" },
		{ EAS_CONTACTS_WEIGHTEDRANK, "42" },
		{ EAS_CONTACTS2_CUSTOMERID, "C-1" },
		{ EAS_CONTACTS2_GOVERNMENTID, "G-2" },
		{ EAS_CONTACTS2_IMADDRESS, "xmpp:max@example.com" },
		{ EAS_CONTACTS2_IMADDRESS2, "max@skype" },
		{ EAS_CONTACTS2_IMADDRESS3, "sip:max@example.com" },
		{ EAS_CONTACTS2_MANAGERNAME, "Boss" },
		{ EAS_CONTACTS2_COMPANYMAINPHONE, "+49 30 1011" },
		{ EAS_CONTACTS2_ACCOUNTNAME, "acct" },
		{ EAS_CONTACTS2_NICKNAME, "Maxi" },
		{ EAS_CONTACTS2_MMS, "+49 170 1012" },
	};
	static const char *const cats[] = { "Friends", "Work, Berlin", NULL };
	static const char *const kids[] = { "Anna", "Ben", NULL };
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	for (size_t i = 0; i < N_ELEMENTS(props); i++)
		wbxml_add_text(A, app, props[i].tag, props[i].v);
	add_list(app, EAS_CONTACTS_CATEGORIES, EAS_CONTACTS_CATEGORY, cats);
	add_list(app, EAS_CONTACTS_CHILDREN, EAS_CONTACTS_CHILD, kids);
	add_body(app, "1", "Met at the fair.\r\nLikes tea; not coffee.");
	return app;
}

static void
test_contact_roundtrip(void)
{
	static const unsigned versions[] = { 121, 141, 161 };

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct wbxml_node *in = full_contact(), *out;
		struct store_item item;

		out = roundtrip(STORE_CLASS_CONTACTS, in, versions[v], &item);
		assert_same(in, out);
		CU_ASSERT_STRING_EQUAL(item.meta.subject, "Mustermann, Max");
		CU_ASSERT_PTR_NOT_NULL(item.meta.uid);
		/* Folded at 75 octets, CRLF line ends. */
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
					      "BEGIN:VCARD\r\nVERSION:3.0\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
					      "\r\nN:Mustermann;Max;Maria;Dr.;Jr.\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
					      "ORG:ACME\\, Inc.;R&D\r\n"));
		for (const char *p = (const char *)item.data; *p != '\0';) {
			const char *e = strstr(p, "\r\n");

			CU_ASSERT_PTR_NOT_NULL_FATAL(e);
			CU_ASSERT(e - p <= 75);
			p = e + 2;
		}
	}
}

/* An element the converter does not know comes back unchanged. */
static void
test_contact_unknown_kept(void)
{
	struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA), *out;
	struct store_item item;

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Solo");
	wbxml_add_text(A, in, EAS_CONTACTS_BODYSIZE, "12");
	wbxml_add_opaque(A, in, EAS_CONTACTS_COMPRESSEDRTF, "\x00\x01\x02", 3);
	out = roundtrip(STORE_CLASS_CONTACTS, in, 141, &item);
	assert_same(in, out);
	CU_ASSERT(wbxml_child(out, EAS_CONTACTS_COMPRESSEDRTF)->opaque);
}

static void
test_contact_bad_input(void)
{
	static const struct { uint16_t tag; const char *v; const char *why; } bad[] = {
		{ EAS_CONTACTS_BIRTHDAY, "yesterday", "date" },
		{ EAS_CONTACTS_ANNIVERSARY, "2024-13-01T00:00:00.000Z", "date" },
		{ EAS_CONTACTS_PICTURE, "not*base64!", "base64" },
	};
	struct conv_ctx ctx = ctx_for(141);

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct store_item item;
		const char *err = NULL;

		memset(&item, 0, sizeof(item));
		wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "X");
		wbxml_add_text(A, in, bad[i].tag, bad[i].v);
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_CONTACTS, in, &ctx,
					      NULL, &item, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err);
		CU_ASSERT_PTR_NULL(item.data);
	}
	/* A picture above the 48 KiB limit. */
	{
		size_t raw = 48 * 1024 + 1;
		uint8_t *bytes = arena_zalloc(A, raw);
		char *b64 = arena_alloc(A, base64_encoded_len(raw) + 1);
		struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct store_item item;
		const char *err = NULL;

		base64_encode(bytes, raw, b64);
		wbxml_add_text(A, in, EAS_CONTACTS_PICTURE, b64);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_CONTACTS, in, &ctx,
					      NULL, &item, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err);
	}
}

static char *
read_data(const char *name, size_t *len_r)
{
	const char *dir = getenv("EASD_SRCDIR");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/conv/%s",
		 dir != NULL ? dir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = arena_alloc(A, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return buf;
}

static const char *
out_text(const struct wbxml_node *app, uint16_t tag)
{
	const char *t = wbxml_child_text(app, tag);

	return t != NULL ? t : "(absent)";
}

static struct wbxml_node *
import(enum store_class cls, const char *file, struct store_item *item)
{
	struct conv_ctx ctx = ctx_for(161);
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *err = NULL, *data;
	size_t len = 0;

	data = read_data(file, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memset(item, 0, sizeof(*item));
	if (conv_from_standard(A, cls, data, len, item, &err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		CU_FAIL_FATAL("import failed");
	}
	if (conv_to_eas(A, item, &ctx, out, &err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		CU_FAIL_FATAL("to_eas failed");
	}
	return out;
}

static void
test_contact_import_apple(void)
{
	struct store_item item;
	struct wbxml_node *o = import(STORE_CLASS_CONTACTS, "apple.vcf", &item);

	CU_ASSERT_STRING_EQUAL(item.meta.subject, "John Appleseed");
	CU_ASSERT_STRING_EQUAL(item.meta.uid,
			       "410FE041-5C4E-48DA-B4DE-04C15EA3DBAC");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_FIRSTNAME), "John");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Appleseed");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_MOBILEPHONENUMBER),
			       "(888) 555-5512");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEPHONENUMBER),
			       "(888) 555-1212");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL1ADDRESS),
			       "John-Appleseed@mac.com");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL2ADDRESS),
			       "john@work.example");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSADDRESSSTREET),
			       "3494 Kuhl Avenue");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSADDRESSCITY),
			       "Atlanta");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSSTREET),
			       "1234 Laurel Street");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BIRTHDAY),
			       "1980-06-22T12:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_ANNIVERSARY),
			       "2005-09-03T12:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_SPOUSE), "Jane");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_COMPANYNAME),
			       "Apple Inc.");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_JOBTITLE), "Engineer");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(o, EAS_CONTACTS_PICTURE));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(o, EAS_AIRSYNCBASE_BODY));
}

static void
test_contact_import_thunderbird(void)
{
	struct store_item item;
	struct wbxml_node *o = import(STORE_CLASS_CONTACTS, "thunderbird.vcf",
				      &item);

	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Jürgen Müller");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_FIRSTNAME), "Jürgen");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Müller");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSPHONENUMBER),
			       "+49 89 123");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEPHONENUMBER),
			       "+49 89 456");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_MOBILEPHONENUMBER),
			       "+49 171 789");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSFAXNUMBER),
			       "+49 89 999");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL1ADDRESS),
			       "juergen@example.de");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSCITY),
			       "München");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_WEBPAGE),
			       "https://example.de");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS2_NICKNAME), "Jü");
	{
		const struct wbxml_node *b =
			wbxml_child(o, EAS_AIRSYNCBASE_BODY);

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
				       "Zeile eins\r\nZeile zwei, mit Komma");
	}
}

/* vCard 2.1 with quoted-printable and bare type parameters. */
static void
test_contact_import_v21(void)
{
	struct store_item item;
	struct wbxml_node *o = import(STORE_CLASS_CONTACTS, "v21-qp.vcf", &item);

	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Größe");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSPHONENUMBER),
			       "+1 555 0100");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSSTREET),
			       "Long street name that goes on and on 12");
}

static void
test_contact_import_bad(void)
{
	static const char *const bad[] = {
		"not a vcard at all",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:x\r\n",
		"BEGIN:VCARD\r\nBDAY:someday\r\nEND:VCARD\r\n",
	};

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct store_item item;
		const char *err = NULL;

		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_standard(A, STORE_CLASS_CONTACTS,
						   bad[i], strlen(bad[i]),
						   &item, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(err);
	}
}

/* --- notes --- */

static struct wbxml_node *
full_note(const char *type, const char *body)
{
	static const char *const cats[] = { "Home", "Ideas", NULL };
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	wbxml_add_text(A, app, EAS_NOTES_SUBJECT, "Shopping\r\nlist");
	wbxml_add_text(A, app, EAS_NOTES_MESSAGECLASS, "IPM.StickyNote");
	wbxml_add_text(A, app, EAS_NOTES_LASTMODIFIEDDATE,
		       "2024-03-05T14:30:00.000Z");
	add_list(app, EAS_NOTES_CATEGORIES, EAS_NOTES_CATEGORY, cats);
	add_body(app, type, body);
	return app;
}

static void
test_note_roundtrip(void)
{
	static const unsigned versions[] = { 141, 161 };

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct store_item item;
		struct wbxml_node *in = full_note("1", "Milk\r\nEggs\r\n\r\nX:y");
		struct wbxml_node *out = roundtrip(STORE_CLASS_NOTES, in,
						   versions[v], &item);

		assert_same(in, out);
		if (getenv("CONV_DEBUG") != NULL)
			fprintf(stderr, "%s\n", (const char *)item.data);
		CU_ASSERT_EQUAL(item.meta.date, 1709649000);
		CU_ASSERT_STRING_EQUAL(item.meta.subject, "Shopping\r\nlist");
	}
	{
		struct store_item item;
		struct wbxml_node *in = full_note("2", "<p>Hi &amp; bye</p>");
		struct conv_ctx ctx = ctx_for(161);
		struct wbxml_node *out;
		const struct wbxml_node *b;

		rt_body_type = 2;
		out = roundtrip(STORE_CLASS_NOTES, in, 161, &item);
		rt_body_type = 0;
		assert_same(in, out);
		/* A client that only takes plain text gets it converted. */
		ctx.nprefs = 1;
		ctx.prefs[0].type = 1;
		out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		CU_ASSERT_EQUAL(conv_to_eas(A, &item, &ctx, out, &(const char *){ NULL }), 0);
		b = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_TYPE), "1");
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
				       "Hi & bye\r\n");
	}
}

static void
test_note_bad_input(void)
{
	struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item;
	const char *err = NULL;

	wbxml_add_text(A, in, EAS_NOTES_LASTMODIFIEDDATE, "32/13/2024");
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_NOTES, in, &ctx, NULL,
				      &item, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(err);
}

static void
test_note_import_plain(void)
{
	static const char text[] = "Call Bob\nabout the roof\n";
	struct store_item item;
	const char *err = NULL;
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	struct conv_ctx ctx = ctx_for(141);

	CU_ASSERT_EQUAL_FATAL(conv_from_standard(A, STORE_CLASS_NOTES, text,
						 strlen(text), &item, &err), 0);
	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Call Bob");
	CU_ASSERT_EQUAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_NOTES_SUBJECT), "Call Bob");
}

/* --- body --- */

static void
test_body_truncation(void)
{
	/* "Grüße" and more: the cut must not split the two-byte ü or ß. */
	static const char text[] = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln";
	struct conv_ctx ctx = ctx_for(141);
	size_t full = strlen(text);

	for (uint32_t cut = 0; cut <= full + 1; cut++) {
		struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		const struct wbxml_node *b, *d;

		ctx.nprefs = 1;
		memset(&ctx.prefs[0], 0, sizeof(ctx.prefs[0]));
		ctx.prefs[0].type = 1;
		ctx.prefs[0].has_truncation = true;
		ctx.prefs[0].truncation_size = cut;
		conv_add_body(A, app, &ctx, text, full, 1);
		b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_EQUAL(atoi(wbxml_child_text(b,
			EAS_AIRSYNCBASE_ESTIMATEDDATASIZE)), (int)full);
		d = wbxml_child(b, EAS_AIRSYNCBASE_DATA);
		if (cut >= full) {
			CU_ASSERT_PTR_NULL(wbxml_child(b, EAS_AIRSYNCBASE_TRUNCATED));
			CU_ASSERT_STRING_EQUAL(wbxml_text(d), text);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(b,
			EAS_AIRSYNCBASE_TRUNCATED), "1");
		if (d == NULL) {
			CU_ASSERT(cut <= 2);
			continue;
		}
		CU_ASSERT(d->len <= cut);
		CU_ASSERT(memcmp(d->data, text, d->len) == 0);
		/* Never ends inside a multi-byte sequence. */
		CU_ASSERT((text[d->len] & 0xc0) != 0x80);
	}
	/* cut 3 lands inside ü: only "Gr" is sent. */
	{
		struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

		ctx.prefs[0].truncation_size = 3;
		conv_add_body(A, app, &ctx, text, full, 1);
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(wbxml_child(app,
			EAS_AIRSYNCBASE_BODY), EAS_AIRSYNCBASE_DATA), "Gr");
	}
}

static void
test_body_all_or_none_preview(void)
{
	static const char text[] = "Hello   world,\r\nthis is long";
	struct conv_ctx ctx = ctx_for(141);
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const struct wbxml_node *b;

	ctx.nprefs = 1;
	ctx.prefs[0].type = 1;
	ctx.prefs[0].has_truncation = true;
	ctx.prefs[0].truncation_size = 5;
	ctx.prefs[0].all_or_none = true;
	ctx.prefs[0].preview = 11;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_PTR_NULL(wbxml_child(b, EAS_AIRSYNCBASE_DATA));
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_TRUNCATED), "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_PREVIEW),
			       "Hello world");
	/* Fits: sent whole. */
	app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.prefs[0].truncation_size = 1000;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA), text);
	/* No preferences: plain, whole. */
	app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.nprefs = 0;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_TYPE), "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA), text);
}

/* --- ghosting --- */

static void
test_ghosting(void)
{
	static const uint16_t supported[] = {
		EAS_CONTACTS_FIRSTNAME, EAS_CONTACTS_LASTNAME,
		EAS_CONTACTS_MOBILEPHONENUMBER,
	};
	struct wbxml_node *in = full_contact(), *change, *out;
	struct store_item old, item;
	struct conv_ctx ctx = ctx_for(141);
	const char *err = NULL;

	out = roundtrip(STORE_CLASS_CONTACTS, in, 141, &old);
	/* The device knows only three properties: it changes the first
	 * name, deletes the mobile number (omits it) and says nothing of
	 * the rest, which must survive. */
	change = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(A, change, EAS_CONTACTS_FIRSTNAME, "Moritz");
	wbxml_add_text(A, change, EAS_CONTACTS_LASTNAME, "Mustermann");
	ctx.supported = supported;
	ctx.nsupported = N_ELEMENTS(supported);
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(conv_from_eas(A, STORE_CLASS_CONTACTS, change,
					    &ctx, &old, &item, &err), 0);
	out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.supported = NULL;
	ctx.nsupported = 0;
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS_FIRSTNAME), "Moritz");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_MOBILEPHONENUMBER));
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS_HOMEADDRESSCITY), "Köln");
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS2_NICKNAME), "Maxi");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CONTACTS_PICTURE));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CONTACTS_CATEGORIES));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
	/* The UID stays the same across the change. */
	CU_ASSERT_STRING_EQUAL(item.meta.uid, old.meta.uid);
	/* Without Supported, a Change replaces everything. */
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(conv_from_eas(A, STORE_CLASS_CONTACTS, change,
					    &ctx, &old, &item, &err), 0);
	out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS2_NICKNAME));
}


static CU_TestInfo contact_tests[] = {
	{ "contact round trip, every property", test_contact_roundtrip },
	{ "unknown elements kept", test_contact_unknown_kept },
	{ "bad contact input", test_contact_bad_input },
	{ "import Apple Contacts vCard", test_contact_import_apple },
	{ "import Thunderbird vCard", test_contact_import_thunderbird },
	{ "import vCard 2.1 quoted-printable", test_contact_import_v21 },
	{ "bad vCards rejected", test_contact_import_bad },
	{ "ghosting keeps unsupported properties", test_ghosting },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo note_body_tests[] = {
	{ "note round trip", test_note_roundtrip },
	{ "bad note input", test_note_bad_input },
	{ "plain text note import", test_note_import_plain },
	{ "body truncation at UTF-8 boundary", test_body_truncation },
	{ "AllOrNone and Preview", test_body_all_or_none_preview },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "contacts", setup, teardown, NULL, NULL, contact_tests },
	{ "notes and body", setup, teardown, NULL, NULL, note_body_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
