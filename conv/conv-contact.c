/* Contacts (MS-ASCNTC, pages Contacts and Contacts2) <-> vCard 3.0
 * (RFC 2426), with a small single-pass vCard reader and writer of our own:
 * the reader runs for every contact of an initial sync.
 *
 * Standard properties where they exist: N, FN, NICKNAME, ORG, TITLE,
 * TEL;TYPE=..., EMAIL, ADR;TYPE=WORK/HOME/OTHER, BDAY, URL, IMPP,
 * CATEGORIES, PHOTO;ENCODING=b, NOTE. Properties with several EAS slots
 * (phones, e-mail, IM) carry X-EAS-TYPE=<slot> so they come back in the
 * slot they came from. Birthday and anniversary are written as dates (the
 * local day) with the exact EAS value in X-EAS-UTC. Everything else is an
 * X- property (X-PHONETIC-*, X-SPOUSE, X-MANAGER, X-ASSISTANT, X-EAS-*);
 * elements we do not know at all are packed into X-EAS-NODES.
 *
 * Limits: a Picture may hold at most CONTACT_MAX_PICTURE decoded bytes
 * (MS-ASCNTC 2.2.2.54 allows 48 KB); a vCard at most CONTACT_MAX_LINES
 * lines. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "conv-int.h"
#include "util.h"
#include "vcard.h"

#define CONTACT_MAX_PICTURE (48 * 1024)
#define CONTACT_MAX_LINES 4096
#define CONTACT_MAX_LIST 300
#define CONTACT_MAX_UNKNOWN 64

enum ckind {
	CK_TEXT, /* PROP:value */
	CK_N,	 /* component sub of N */
	CK_ORG,	 /* component sub of ORG */
	CK_ADR,	 /* component sub of ADR of address group grp */
	CK_TEL,	 /* TEL with TYPE types and slot */
	CK_EMAIL,
	CK_IMPP,
	CK_DATE, /* BDAY / X-ANNIVERSARY */
};

struct cfield {
	uint16_t tag;
	enum ckind kind;
	const char *prop;  /* vCard property (CK_TEXT, CK_DATE) */
	int sub;	   /* structured component, or address group */
	const char *types; /* TEL TYPE parameter */
	const char *slot;  /* X-EAS-TYPE value */
};

/* The output order of the EAS elements is the order of this table. */
static const struct cfield fields[] = {
	{EAS_CONTACTS_LASTNAME, CK_N, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_FIRSTNAME, CK_N, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_MIDDLENAME, CK_N, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_TITLE, CK_N, NULL, 3, NULL, NULL},
	{EAS_CONTACTS_SUFFIX, CK_N, NULL, 4, NULL, NULL},
	{EAS_CONTACTS_FILEAS, CK_TEXT, "X-EAS-FILEAS", 0, NULL, NULL},
	{EAS_CONTACTS2_NICKNAME, CK_TEXT, "NICKNAME", 0, NULL, NULL},
	{EAS_CONTACTS_COMPANYNAME, CK_ORG, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_DEPARTMENT, CK_ORG, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_JOBTITLE, CK_TEXT, "TITLE", 0, NULL, NULL},
	{EAS_CONTACTS_OFFICELOCATION, CK_TEXT, "X-EAS-OFFICELOCATION", 0, NULL,
	 NULL},
	{EAS_CONTACTS_YOMIFIRSTNAME, CK_TEXT, "X-PHONETIC-FIRST-NAME", 0, NULL,
	 NULL},
	{EAS_CONTACTS_YOMILASTNAME, CK_TEXT, "X-PHONETIC-LAST-NAME", 0, NULL,
	 NULL},
	{EAS_CONTACTS_YOMICOMPANYNAME, CK_TEXT, "X-PHONETIC-ORG", 0, NULL,
	 NULL},
	{EAS_CONTACTS_BUSINESSPHONENUMBER, CK_TEL, NULL, 0, "WORK,VOICE",
	 "Business"},
	{EAS_CONTACTS_BUSINESS2PHONENUMBER, CK_TEL, NULL, 0, "WORK,VOICE",
	 "Business2"},
	{EAS_CONTACTS_HOMEPHONENUMBER, CK_TEL, NULL, 0, "HOME,VOICE", "Home"},
	{EAS_CONTACTS_HOME2PHONENUMBER, CK_TEL, NULL, 0, "HOME,VOICE", "Home2"},
	{EAS_CONTACTS_MOBILEPHONENUMBER, CK_TEL, NULL, 0, "CELL,VOICE",
	 "Mobile"},
	{EAS_CONTACTS_CARPHONENUMBER, CK_TEL, NULL, 0, "CAR,VOICE", "Car"},
	{EAS_CONTACTS_RADIOPHONENUMBER, CK_TEL, NULL, 0, "X-RADIO", "Radio"},
	{EAS_CONTACTS_PAGERNUMBER, CK_TEL, NULL, 0, "PAGER", "Pager"},
	{EAS_CONTACTS_ASSISTANTPHONENUMBER, CK_TEL, NULL, 0, "X-ASSISTANT",
	 "Assistant"},
	{EAS_CONTACTS_BUSINESSFAXNUMBER, CK_TEL, NULL, 0, "WORK,FAX",
	 "BusinessFax"},
	{EAS_CONTACTS_HOMEFAXNUMBER, CK_TEL, NULL, 0, "HOME,FAX", "HomeFax"},
	{EAS_CONTACTS2_COMPANYMAINPHONE, CK_TEL, NULL, 0, "WORK,X-COMPANY-MAIN",
	 "CompanyMain"},
	{EAS_CONTACTS2_MMS, CK_TEL, NULL, 0, "MSG,X-MMS", "MMS"},
	{EAS_CONTACTS_EMAIL1ADDRESS, CK_EMAIL, NULL, 0, NULL, "Email1"},
	{EAS_CONTACTS_EMAIL2ADDRESS, CK_EMAIL, NULL, 0, NULL, "Email2"},
	{EAS_CONTACTS_EMAIL3ADDRESS, CK_EMAIL, NULL, 0, NULL, "Email3"},
	{EAS_CONTACTS2_IMADDRESS, CK_IMPP, NULL, 0, NULL, "IM1"},
	{EAS_CONTACTS2_IMADDRESS2, CK_IMPP, NULL, 0, NULL, "IM2"},
	{EAS_CONTACTS2_IMADDRESS3, CK_IMPP, NULL, 0, NULL, "IM3"},
	{EAS_CONTACTS_BUSINESSADDRESSSTREET, CK_ADR, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_BUSINESSADDRESSCITY, CK_ADR, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_BUSINESSADDRESSSTATE, CK_ADR, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_BUSINESSADDRESSPOSTALCODE, CK_ADR, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_BUSINESSADDRESSCOUNTRY, CK_ADR, NULL, 0, NULL, NULL},
	{EAS_CONTACTS_HOMEADDRESSSTREET, CK_ADR, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_HOMEADDRESSCITY, CK_ADR, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_HOMEADDRESSSTATE, CK_ADR, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_HOMEADDRESSPOSTALCODE, CK_ADR, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_HOMEADDRESSCOUNTRY, CK_ADR, NULL, 1, NULL, NULL},
	{EAS_CONTACTS_OTHERADDRESSSTREET, CK_ADR, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_OTHERADDRESSCITY, CK_ADR, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_OTHERADDRESSSTATE, CK_ADR, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_OTHERADDRESSPOSTALCODE, CK_ADR, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_OTHERADDRESSCOUNTRY, CK_ADR, NULL, 2, NULL, NULL},
	{EAS_CONTACTS_BIRTHDAY, CK_DATE, "BDAY", 0, NULL, NULL},
	{EAS_CONTACTS_ANNIVERSARY, CK_DATE, "X-ANNIVERSARY", 0, NULL, NULL},
	{EAS_CONTACTS_WEBPAGE, CK_TEXT, "URL", 0, NULL, NULL},
	{EAS_CONTACTS_SPOUSE, CK_TEXT, "X-SPOUSE", 0, NULL, NULL},
	{EAS_CONTACTS_ASSISTANTNAME, CK_TEXT, "X-ASSISTANT", 0, NULL, NULL},
	{EAS_CONTACTS2_MANAGERNAME, CK_TEXT, "X-MANAGER", 0, NULL, NULL},
	{EAS_CONTACTS2_CUSTOMERID, CK_TEXT, "X-EAS-CUSTOMERID", 0, NULL, NULL},
	{EAS_CONTACTS2_GOVERNMENTID, CK_TEXT, "X-EAS-GOVERNMENTID", 0, NULL,
	 NULL},
	{EAS_CONTACTS2_ACCOUNTNAME, CK_TEXT, "X-EAS-ACCOUNTNAME", 0, NULL,
	 NULL},
	{EAS_CONTACTS_ALIAS, CK_TEXT, "X-EAS-ALIAS", 0, NULL, NULL},
	{EAS_CONTACTS_WEIGHTEDRANK, CK_TEXT, "X-EAS-WEIGHTEDRANK", 0, NULL,
	 NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* ADR components (RFC 2426 3.2.1): 2 street, 3 city, 4 region, 5 postal
 * code, 6 country; the table lists street, city, state, postal, country. */
static const char *const adr_types[3] = {"WORK", "HOME", "OTHER"};

/* One contact between the two forms. */
struct contact {
	struct vcard_str f[NFIELDS];
	bool has[NFIELDS];
	struct vcard_str cats[CONTACT_MAX_LIST];
	size_t ncats;
	struct vcard_str kids[CONTACT_MAX_LIST];
	size_t nkids;
	struct vcard_str body, picture, uid, fn, nodes;
	bool has_body, has_picture, fn_computed;
	int body_type;
};

static int
field_index(uint16_t tag)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].tag == tag)
			return (int)i;
	}
	return -1;
}

static int
field_of(enum ckind kind, int sub_or_grp, int nth)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == kind && fields[i].sub == sub_or_grp &&
		    nth-- == 0)
			return (int)i;
	}
	return -1;
}

/* --- writing --- */

/* A value with a lone LF (no CR at all) is marked so the reader gives the
 * LF back instead of the CR LF EAS uses elsewhere. */
static bool
lf_only(const struct vcard_str *v)
{
	return memchr(v->s, '\n', v->len) != NULL &&
	       memchr(v->s, '\r', v->len) == NULL;
}

static void
vw_simple(struct vcard_writer *w, const char *name, const char *params,
	  const struct vcard_str *v)
{
	vcard_begin(w, name);
	if (params != NULL)
		buf_puts(&w->b, params);
	if (lf_only(v))
		buf_puts(&w->b, ";X-EAS-NL=LF");
	buf_putc(&w->b, ':');
	vcard_put_text(w, v->s, v->len);
	vcard_end(w);
}

static void
vw_compound(struct vcard_writer *w, const char *head, const struct contact *c,
	    const int *idx, size_t n, size_t skip)
{
	bool lf = false;

	for (size_t i = 0; i < n; i++)
		lf = lf ||
		     (idx[i] >= 0 && c->has[idx[i]] && lf_only(&c->f[idx[i]]));
	vcard_begin(w, head);
	if (lf)
		buf_puts(&w->b, ";X-EAS-NL=LF");
	buf_putc(&w->b, ':');
	for (size_t i = 0; i < skip; i++)
		buf_putc(&w->b, ';');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&w->b, ';');
		if (idx[i] >= 0 && c->has[idx[i]])
			vcard_put_text(w, c->f[idx[i]].s, c->f[idx[i]].len);
	}
	vcard_end(w);
}

static bool
any_of(const struct contact *c, enum ckind kind, int grp)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == kind && fields[i].sub == grp && c->has[i])
			return true;
	}
	return false;
}

/* Birthday and anniversary: the local day as the standard value (the EAS
 * value is local midnight in UTC, so adding 12 hours lands on the right
 * day in any zone from UTC-12 to UTC+12), the exact EAS text kept. */
static void
vw_date(struct arena *a, struct vcard_writer *w, const char *name,
	const struct vcard_str *v)
{
	int64_t t;
	char day[32];
	time_t tt;
	struct tm tm;

	(void)a;
	if (time_parse(v->s, &t) < 0)
		t = 0;
	tt = (time_t)(t + 12 * 3600);
	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	vcard_begin(w, name);
	buf_printf(&w->b, ";VALUE=DATE;X-EAS-UTC=\"%.*s\":%s", (int)v->len,
		   v->s, day);
	vcard_end(w);
}

static const char *
contact_write(struct arena *a, const struct contact *c, size_t *len_r)
{
	struct vcard_writer w;
	int idx[5];
	const char *out;

	vcard_writer_init(&w);
	buf_puts(&w.b, "BEGIN:VCARD\r\nVERSION:3.0\r\n");
	if (c->uid.s != NULL)
		vw_simple(&w, "UID", NULL, &c->uid);
	for (int i = 0; i < 5; i++)
		idx[i] = field_of(CK_N, i, 0);
	{
		/* N order: family; given; additional; prefix; suffix. */
		int n_idx[5] = {idx[0], idx[1], idx[2], idx[3], idx[4]};

		vw_compound(&w, "N", c, n_idx, 5, 0);
	}
	vw_simple(&w, "FN", c->fn_computed ? ";X-EAS-COMPUTED=1" : NULL,
		  &c->fn);
	if (any_of(c, CK_ORG, 0) || any_of(c, CK_ORG, 1)) {
		idx[0] = field_of(CK_ORG, 0, 0);
		idx[1] = field_of(CK_ORG, 1, 0);
		vw_compound(&w, "ORG", c, idx, 2, 0);
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct cfield *f = &fields[i];
		char params[96];

		if (!c->has[i])
			continue;
		switch (f->kind) {
		case CK_TEXT:
			if (f->tag == EAS_CONTACTS_FILEAS && !c->fn_computed)
				break; /* FN holds it */
			vw_simple(&w, f->prop, NULL, &c->f[i]);
			break;
		case CK_TEL:
			snprintf(params, sizeof(params),
				 ";TYPE=%s;X-EAS-TYPE=%s", f->types, f->slot);
			vw_simple(&w, "TEL", params, &c->f[i]);
			break;
		case CK_EMAIL:
			snprintf(params, sizeof(params),
				 ";TYPE=INTERNET;X-EAS-TYPE=%s", f->slot);
			vw_simple(&w, "EMAIL", params, &c->f[i]);
			break;
		case CK_IMPP:
			snprintf(params, sizeof(params), ";X-EAS-TYPE=%s",
				 f->slot);
			vw_simple(&w, "IMPP", params, &c->f[i]);
			break;
		case CK_DATE:
			vw_date(a, &w, f->prop, &c->f[i]);
			break;
		case CK_N:
		case CK_ORG:
		case CK_ADR:
			break;
		}
	}
	for (int g = 0; g < 3; g++) {
		char head[32];

		if (!any_of(c, CK_ADR, g))
			continue;
		for (int i = 0; i < 5; i++)
			idx[i] = field_of(CK_ADR, g, i);
		snprintf(head, sizeof(head), "ADR;TYPE=%s", adr_types[g]);
		vw_compound(&w, head, c, idx, 5, 2);
	}
	if (c->ncats > 0) {
		vcard_begin(&w, "CATEGORIES:");
		for (size_t i = 0; i < c->ncats; i++) {
			if (i > 0)
				buf_putc(&w.b, ',');
			vcard_put_text(&w, c->cats[i].s, c->cats[i].len);
		}
		vcard_end(&w);
	}
	for (size_t i = 0; i < c->nkids; i++)
		vw_simple(&w, "X-EAS-CHILD", NULL, &c->kids[i]);
	if (c->has_picture) {
		vcard_begin(&w, "PHOTO;ENCODING=b;TYPE=JPEG:");
		buf_append(&w.b, c->picture.s, c->picture.len);
		vcard_end(&w);
	}
	if (c->has_body)
		vw_simple(&w, "NOTE",
			  c->body_type == 2 ? ";X-EAS-BODYTYPE=2"
			  : c->body_type > 2
				  ? (c->body_type == 3 ? ";X-EAS-BODYTYPE=3"
						       : ";X-EAS-BODYTYPE=4")
				  : NULL,
			  &c->body);
	if (c->nodes.s != NULL) {
		vcard_begin(&w, "X-EAS-NODES:");
		buf_append(&w.b, c->nodes.s, c->nodes.len);
		vcard_end(&w);
	}
	buf_puts(&w.b, "END:VCARD\r\n");
	out = vcard_writer_finish(&w, a, len_r);
	vcard_writer_deinit(&w);
	return out;
}

static struct vcard_str
node_strv(const struct wbxml_node *n)
{
	struct vcard_str v = {wbxml_text(n), n->data != NULL ? n->len : 0};

	return v;
}

static void
contact_fill_fn(struct arena *a, struct contact *c)
{
	int fa = field_index(EAS_CONTACTS_FILEAS);
	int first = field_index(EAS_CONTACTS_FIRSTNAME);
	int middle = field_index(EAS_CONTACTS_MIDDLENAME);
	int last = field_index(EAS_CONTACTS_LASTNAME);
	int company = field_index(EAS_CONTACTS_COMPANYNAME);
	int email = field_index(EAS_CONTACTS_EMAIL1ADDRESS);
	char *s;

	if (c->has[fa]) {
		c->fn = c->f[fa];
		c->fn_computed = false;
		return;
	}
	c->fn_computed = true;
	if (c->has[first] || c->has[middle] || c->has[last]) {
		s = arena_printf(
			a, "%s%s%s%s%s", c->has[first] ? c->f[first].s : "",
			c->has[first] && c->f[first].len > 0 ? " " : "",
			c->has[middle] ? c->f[middle].s : "",
			c->has[middle] && c->f[middle].len > 0 ? " " : "",
			c->has[last] ? c->f[last].s : "");
		c->fn.s = s;
		c->fn.len = strlen(s);
		while (c->fn.len > 0 && s[c->fn.len - 1] == ' ')
			c->fn.len--;
	} else if (c->has[company]) {
		c->fn = c->f[company];
	} else if (c->has[email]) {
		c->fn = c->f[email];
	} else {
		c->fn.s = "";
		c->fn.len = 0;
	}
}

/* UID of a stored vCard without a full parse. */
static struct vcard_str
find_uid(const struct store_item *old)
{
	struct vcard_str v = {NULL, 0};
	const char *p, *e;

	if (old == NULL || old->data == NULL)
		return v;
	p = strstr((const char *)old->data, "\nUID:");
	if (p == NULL)
		return v;
	p += 5;
	e = strchr(p, '\r');
	if (e == NULL)
		e = strchr(p, '\n');
	if (e == NULL)
		return v;
	v.s = p;
	v.len = (size_t)(e - p);
	return v;
}

int
conv_contact_from_eas(struct arena *a, const struct wbxml_node *appdata,
		      const struct conv_ctx *ctx, const struct store_item *old,
		      struct store_item *item_r, const char **error_r)
{
	struct contact *c = arena_zalloc(a, sizeof(*c));
	const struct wbxml_node *n, *k, *unknown[CONTACT_MAX_UNKNOWN];
	size_t nunknown = 0;
	int i;
	int64_t t;

	(void)ctx;
	wbxml_foreach(appdata, n)
	{
		i = field_index(n->tag);
		if (i >= 0) {
			if (fields[i].kind == CK_DATE &&
			    time_parse(wbxml_text(n), &t) < 0)
				return conv_fail(
					a, error_r,
					"Contacts: bad date '%s' in %s",
					wbxml_text(n), wbxml_tag_name(n->tag));
			c->f[i] = node_strv(n);
			c->has[i] = true;
			continue;
		}
		switch (n->tag) {
		case EAS_CONTACTS_CATEGORIES:
		case EAS_CONTACTS_CHILDREN:
			wbxml_foreach(n, k)
			{
				bool cat = n->tag == EAS_CONTACTS_CATEGORIES;
				size_t *cnt = cat ? &c->ncats : &c->nkids;

				if (*cnt == CONTACT_MAX_LIST)
					return conv_fail(
						a, error_r,
						"Contacts: list too long");
				(cat ? c->cats : c->kids)[(*cnt)++] =
					node_strv(k);
			}
			break;
		case EAS_CONTACTS_PICTURE: {
			struct vcard_str v = node_strv(n);
			long dl;

			if (base64_decoded_max(v.len) > CONTACT_MAX_PICTURE * 2)
				return conv_fail(a, error_r,
						 "Contacts: Picture larger "
						 "than %d bytes",
						 CONTACT_MAX_PICTURE);
			dl = base64_decode(
				v.s, v.len,
				arena_alloc(a, base64_decoded_max(v.len)));
			if (dl < 0)
				return conv_fail(a, error_r,
						 "Contacts: Picture is not "
						 "valid base64");
			if (dl > CONTACT_MAX_PICTURE)
				return conv_fail(a, error_r,
						 "Contacts: Picture larger "
						 "than %d bytes",
						 CONTACT_MAX_PICTURE);
			c->picture = v;
			c->has_picture = true;
			break;
		}
		case EAS_AIRSYNCBASE_BODY:
			c->has_body =
				conv_body_get(appdata, &c->body.s, &c->body.len,
					      &c->body_type) == 1;
			break;
		case EAS_AIRSYNCBASE_NATIVEBODYTYPE:
			break;
		default:
			if (nunknown == CONTACT_MAX_UNKNOWN)
				return conv_fail(
					a, error_r,
					"Contacts: too many unknown elements");
			unknown[nunknown++] = n;
			break;
		}
	}
	if (nunknown > 0) {
		c->nodes.s = conv_nodes_pack(a, unknown, nunknown);
		c->nodes.len = strlen(c->nodes.s);
	}
	c->uid = find_uid(old);
	if (c->uid.s == NULL) {
		uint8_t rnd[16];
		char *u = arena_alloc(a, 33);

		random_bytes(rnd, sizeof(rnd));
		for (i = 0; i < 16; i++)
			snprintf(u + 2 * i, 3, "%02x", rnd[i]);
		c->uid.s = u;
		c->uid.len = 32;
	}
	contact_fill_fn(a, c);
	memset(&item_r->meta, 0, sizeof(item_r->meta));
	item_r->data = (const uint8_t *)contact_write(a, c, &item_r->data_len);
	item_r->extra = NULL;
	item_r->extra_len = 0;
	item_r->meta.uid = arena_strndup(a, c->uid.s, c->uid.len);
	item_r->meta.subject = arena_strndup(a, c->fn.s, c->fn.len);
	return 0;
}

/* --- reading --- */

enum {
	T_WORK = 1 << 0,
	T_HOME = 1 << 1,
	T_CELL = 1 << 2,
	T_FAX = 1 << 3,
	T_VOICE = 1 << 4,
	T_PAGER = 1 << 5,
	T_CAR = 1 << 6,
	T_PREF = 1 << 7,
	T_OTHER = 1 << 8,
	T_MSG = 1 << 9,
	T_ASSIST = 1 << 10,
	T_RADIO = 1 << 11,
	T_MMS = 1 << 12,
	T_MAIN = 1 << 13,
};

static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{"WORK", T_WORK},   {"HOME", T_HOME},		{"CELL", T_CELL},
	{"IPHONE", T_CELL}, {"MOBILE", T_CELL},		{"FAX", T_FAX},
	{"VOICE", T_VOICE}, {"PAGER", T_PAGER},		{"CAR", T_CAR},
	{"PREF", T_PREF},   {"OTHER", T_OTHER},		{"X-OTHER", T_OTHER},
	{"MSG", T_MSG},	    {"X-ASSISTANT", T_ASSIST},	{"X-RADIO", T_RADIO},
	{"X-MMS", T_MMS},   {"X-COMPANY-MAIN", T_MAIN}, {"MAIN", T_MAIN},
};

/* What the Contacts mapping takes from one vCard line. */
struct vline {
	const char *group, *name;
	size_t glen, nlen;
	unsigned types;
	struct vcard_str slot, utc;
	bool b64, computed, lf;
	int body_type;
	const char *value; /* raw, still escaped */
	size_t vlen;
};

static void
param_types(struct vline *l, const char *v, size_t len)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma != NULL ? (size_t)(comma - v) : len;

		for (size_t i = 0; i < N_ELEMENTS(type_names); i++) {
			if (vcard_name_is(v, n, type_names[i].name))
				l->types |= type_names[i].bit;
		}
		if (comma == NULL)
			break;
		len -= n + 1;
		v = comma + 1;
	}
}

/* The parameters Contacts cares about: TYPE (and the bare 2.1 types),
 * PREF, and our own X-EAS-* markers. */
static void
vline_from(const struct vcard_line *v, struct vline *l)
{
	memset(l, 0, sizeof(*l));
	l->group = v->group;
	l->glen = v->glen;
	l->name = v->name;
	l->nlen = v->nlen;
	l->b64 = v->b64;
	l->value = v->value;
	l->vlen = v->vlen;
	for (size_t i = 0; i < v->nparams; i++) {
		const struct vcard_param *p = &v->params[i];
		const char *pv = p->value;
		size_t pvl = p->vlen;

		if (pv == NULL) {
			if (!vcard_name_is(p->name, p->nlen,
					   "QUOTED-PRINTABLE") &&
			    !vcard_name_is(p->name, p->nlen, "BASE64"))
				param_types(l, p->name, p->nlen);
		} else if (vcard_name_is(p->name, p->nlen, "TYPE")) {
			param_types(l, pv, pvl);
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-TYPE")) {
			l->slot.s = pv;
			l->slot.len = pvl;
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-UTC")) {
			l->utc.s = pv;
			l->utc.len = pvl;
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-COMPUTED")) {
			l->computed = true;
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-NL")) {
			l->lf = true;
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-BODYTYPE")) {
			l->body_type = pvl == 1 && *pv >= '1' && *pv <= '4'
					       ? *pv - '0'
					       : 1;
		} else if (vcard_name_is(p->name, p->nlen, "PREF")) {
			l->types |= T_PREF;
		}
	}
}

/* Unescape one whole text value of a line. */
static void
unescape(struct arena *a, const char *s, size_t len, bool lf,
	 struct vcard_str *r)
{
	vcard_unescape(a, s, len, 0, lf, &r->s, &r->len);
}

static int
field_by_prop(const char *name, size_t len)
{
	static const struct {
		const char *alias;
		uint16_t tag;
	} aliases[] = {
		{"X-EVOLUTION-SPOUSE", EAS_CONTACTS_SPOUSE},
		{"X-EVOLUTION-ASSISTANT", EAS_CONTACTS_ASSISTANTNAME},
		{"X-EVOLUTION-MANAGER", EAS_CONTACTS2_MANAGERNAME},
		{"X-EVOLUTION-FILE-AS", EAS_CONTACTS_FILEAS},
		{"ANNIVERSARY", EAS_CONTACTS_ANNIVERSARY},
		{"X-EVOLUTION-ANNIVERSARY", EAS_CONTACTS_ANNIVERSARY},
		{"X-MS-MANAGER", EAS_CONTACTS2_MANAGERNAME},
		{"X-MS-ASSISTANT", EAS_CONTACTS_ASSISTANTNAME},
		{"X-MS-SPOUSE", EAS_CONTACTS_SPOUSE},
	};

	for (size_t i = 0; i < NFIELDS; i++) {
		if ((fields[i].kind == CK_TEXT || fields[i].kind == CK_DATE) &&
		    vcard_name_is(name, len, fields[i].prop))
			return (int)i;
	}
	for (size_t i = 0; i < N_ELEMENTS(aliases); i++) {
		if (vcard_name_is(name, len, aliases[i].alias))
			return field_index(aliases[i].tag);
	}
	return -1;
}

static int
field_by_slot(enum ckind kind, const struct vcard_str *slot)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == kind &&
		    vcard_name_is(slot->s, slot->len, fields[i].slot))
			return (int)i;
	}
	return -1;
}

static void
set_field(struct contact *c, int i, const struct vcard_str *v)
{
	if (i >= 0 && !c->has[i]) {
		c->f[i] = *v;
		c->has[i] = true;
	}
}

/* The first free slot among the tags given, in order. */
static int
free_slot(const struct contact *c, const uint16_t *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int k = field_index(tags[i]);

		if (k >= 0 && !c->has[k])
			return k;
	}
	return -1;
}

/* A phone without our slot marker (an imported vCard): pick the EAS slot
 * from its TYPE. */
static int
tel_slot(const struct contact *c, unsigned t)
{
	static const uint16_t fax[] = {EAS_CONTACTS_BUSINESSFAXNUMBER,
				       EAS_CONTACTS_HOMEFAXNUMBER};
	static const uint16_t hfax[] = {EAS_CONTACTS_HOMEFAXNUMBER,
					EAS_CONTACTS_BUSINESSFAXNUMBER};
	static const uint16_t cell[] = {EAS_CONTACTS_MOBILEPHONENUMBER,
					EAS_CONTACTS2_MMS};
	static const uint16_t work[] = {EAS_CONTACTS_BUSINESSPHONENUMBER,
					EAS_CONTACTS_BUSINESS2PHONENUMBER};
	static const uint16_t home[] = {EAS_CONTACTS_HOMEPHONENUMBER,
					EAS_CONTACTS_HOME2PHONENUMBER};
	static const uint16_t any[] = {EAS_CONTACTS_HOMEPHONENUMBER,
				       EAS_CONTACTS_HOME2PHONENUMBER,
				       EAS_CONTACTS_BUSINESS2PHONENUMBER,
				       EAS_CONTACTS_BUSINESSPHONENUMBER,
				       EAS_CONTACTS_CARPHONENUMBER,
				       EAS_CONTACTS_RADIOPHONENUMBER};
	static const uint16_t pager[] = {EAS_CONTACTS_PAGERNUMBER};
	static const uint16_t car[] = {EAS_CONTACTS_CARPHONENUMBER};
	static const uint16_t assist[] = {EAS_CONTACTS_ASSISTANTPHONENUMBER};
	static const uint16_t radio[] = {EAS_CONTACTS_RADIOPHONENUMBER};
	static const uint16_t mms[] = {EAS_CONTACTS2_MMS};
	static const uint16_t mainp[] = {EAS_CONTACTS2_COMPANYMAINPHONE};
	int k = -1;

#define TRY(arr)                                                               \
	do {                                                                   \
		if (k < 0)                                                     \
			k = free_slot(c, arr, N_ELEMENTS(arr));                \
	} while (0)
	if (t & T_FAX) {
		if (t & T_HOME)
			TRY(hfax);
		TRY(fax);
	} else if (t & T_PAGER) {
		TRY(pager);
	} else if (t & T_ASSIST) {
		TRY(assist);
	} else if (t & T_RADIO) {
		TRY(radio);
	} else if (t & T_MMS) {
		TRY(mms);
	} else if (t & T_MAIN) {
		TRY(mainp);
	} else if (t & T_CAR) {
		TRY(car);
	} else if (t & T_CELL) {
		TRY(cell);
	} else if (t & T_WORK) {
		TRY(work);
	} else if (t & T_HOME) {
		TRY(home);
	}
	TRY(any);
#undef TRY
	return k;
}

static int
slot_in_order(const struct contact *c, enum ckind kind, const struct vline *l)
{
	int k;

	if (l->slot.s != NULL) {
		k = field_by_slot(kind, &l->slot);
		if (k >= 0 && !c->has[k])
			return k;
	}
	for (int n = 0; (k = field_of(kind, 0, n)) >= 0; n++) {
		if (!c->has[k])
			return k;
	}
	return -1;
}

/* A date property: our exact EAS text when we wrote it, else the date
 * (or date-time) of an imported vCard as noon UTC of that day, which is
 * the same day in every zone from UTC-11 to UTC+11. */
static int
parse_date(struct arena *a, const struct vline *l, struct vcard_str *r)
{
	int64_t t;
	char iso[32], *s;
	struct vcard_str v;

	if (l->utc.s != NULL) {
		r->s = arena_strndup(a, l->utc.s, l->utc.len);
		r->len = l->utc.len;
		return time_parse(r->s, &t);
	}
	unescape(a, l->value, l->vlen, false, &v);
	s = (char *)v.s;
	if (v.len >= 8 && (v.len == 8 || v.len == 10)) {
		if (time_parse(s, &t) < 0)
			return -1;
		t += 12 * 3600;
	} else if (time_parse(s, &t) < 0) {
		return -1;
	}
	time_format_iso(t, iso);
	r->s = arena_strdup(a, iso);
	r->len = strlen(iso);
	return 0;
}

/* Apple Contacts writes related names and custom dates as grouped items
 * with an X-ABLabel line: item2.X-ABRELATEDNAMES + item2.X-ABLabel. */
struct grouped {
	struct vline l;
};

static const char *
label_of(const struct vline *labels, size_t nlabels, const struct vline *l)
{
	for (size_t i = 0; i < nlabels; i++) {
		if (labels[i].glen == l->glen &&
		    strncasecmp(labels[i].group, l->group, l->glen) == 0)
			return labels[i].value;
	}
	return "";
}

#define MAX_GROUPED 32

static int
contact_parse(struct arena *a, const char *data, size_t len, struct contact *c,
	      bool strict, const char **error_r)
{
	struct vcard_reader rd;
	struct vcard_line vl;
	size_t nlabels = 0, ngrouped = 0;
	struct vline l, labels[MAX_GROUPED], grouped[MAX_GROUPED];
	bool begun = false, ended = false;
	struct vcard_str parts[7], v;
	int k, r;

	memset(c, 0, sizeof(*c));
	c->body_type = 1;
	vcard_reader_init(&rd, a, data, len);
	while (!ended && (r = vcard_next(&rd, &vl)) != 0) {
		if (rd.lines > CONTACT_MAX_LINES)
			return conv_fail(a, error_r, "vCard: too many lines");
		if (r < 0) {
			if (strict)
				return conv_fail(a, error_r,
						 "vCard: line without ':'");
			continue;
		}
		vline_from(&vl, &l);
		if (vcard_name_is(l.name, l.nlen, "BEGIN")) {
			begun = vcard_name_is(l.value, l.vlen, "VCARD");
			continue;
		}
		if (!begun)
			continue;
		if (vcard_name_is(l.name, l.nlen, "END")) {
			ended = true;
			continue;
		}
		if (vcard_name_is(l.name, l.nlen, "N")) {
			size_t n = vcard_split(a, l.value, l.vlen, ';', l.lf,
					       parts, 5);

			for (size_t i = 0; i < n; i++) {
				if (parts[i].len > 0)
					set_field(c, field_of(CK_N, (int)i, 0),
						  &parts[i]);
			}
		} else if (vcard_name_is(l.name, l.nlen, "FN")) {
			unescape(a, l.value, l.vlen, l.lf, &c->fn);
			c->fn_computed = l.computed;
		} else if (vcard_name_is(l.name, l.nlen, "UID")) {
			unescape(a, l.value, l.vlen, false, &c->uid);
		} else if (vcard_name_is(l.name, l.nlen, "ORG")) {
			size_t n = vcard_split(a, l.value, l.vlen, ';', l.lf,
					       parts, 2);

			for (size_t i = 0; i < n; i++) {
				if (parts[i].len > 0)
					set_field(c,
						  field_of(CK_ORG, (int)i, 0),
						  &parts[i]);
			}
		} else if (vcard_name_is(l.name, l.nlen, "TEL")) {
			k = -1;
			if (l.slot.s != NULL)
				k = field_by_slot(CK_TEL, &l.slot);
			if (k < 0 || c->has[k])
				k = tel_slot(c, l.types);
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_field(c, k, &v);
		} else if (vcard_name_is(l.name, l.nlen, "EMAIL")) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_field(c, slot_in_order(c, CK_EMAIL, &l), &v);
		} else if (vcard_name_is(l.name, l.nlen, "IMPP") ||
			   vcard_name_is(l.name, l.nlen, "X-JABBER") ||
			   vcard_name_is(l.name, l.nlen, "X-AIM") ||
			   vcard_name_is(l.name, l.nlen, "X-SKYPE") ||
			   vcard_name_is(l.name, l.nlen, "X-MSN") ||
			   vcard_name_is(l.name, l.nlen, "X-ICQ") ||
			   vcard_name_is(l.name, l.nlen, "X-YAHOO") ||
			   vcard_name_is(l.name, l.nlen, "X-GOOGLE-TALK")) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_field(c, slot_in_order(c, CK_IMPP, &l), &v);
		} else if (vcard_name_is(l.name, l.nlen, "ADR")) {
			int g = (l.types & T_WORK)   ? 0
				: (l.types & T_HOME) ? 1
						     : 2;
			size_t n;

			if (any_of(c, CK_ADR, g))
				g = !any_of(c, CK_ADR, 2) ? 2 : -1;
			if (g < 0)
				continue;
			n = vcard_split(a, l.value, l.vlen, ';', l.lf, parts,
					7);
			for (size_t i = 2; i < n; i++) {
				if (parts[i].len > 0)
					set_field(
						c,
						field_of(CK_ADR, g, (int)i - 2),
						&parts[i]);
			}
			if (n > 2 && parts[2].len == 0 && parts[0].len > 0)
				set_field(c, field_of(CK_ADR, g, 0), &parts[0]);
		} else if (vcard_name_is(l.name, l.nlen, "BDAY") ||
			   vcard_name_is(l.name, l.nlen, "X-ANNIVERSARY") ||
			   vcard_name_is(l.name, l.nlen, "ANNIVERSARY") ||
			   vcard_name_is(l.name, l.nlen,
					 "X-EVOLUTION-ANNIVERSARY")) {
			k = field_by_prop(l.name, l.nlen);
			if (parse_date(a, &l, &v) < 0) {
				if (strict)
					return conv_fail(
						a, error_r,
						"vCard: bad date in %.*s",
						(int)l.nlen, l.name);
				continue;
			}
			set_field(c, k, &v);
		} else if (vcard_name_is(l.name, l.nlen, "CATEGORIES")) {
			size_t pos = 0;

			while (pos < l.vlen && c->ncats < CONTACT_MAX_LIST) {
				pos += vcard_unescape(a, l.value + pos,
						      l.vlen - pos, ',', l.lf,
						      &c->cats[c->ncats].s,
						      &c->cats[c->ncats].len);
				c->ncats++;
				pos++;
			}
		} else if (vcard_name_is(l.name, l.nlen, "X-EAS-CHILD")) {
			if (c->nkids < CONTACT_MAX_LIST)
				unescape(a, l.value, l.vlen, l.lf,
					 &c->kids[c->nkids++]);
		} else if (vcard_name_is(l.name, l.nlen, "PHOTO")) {
			const char *b = l.value;
			size_t bl = l.vlen;
			const char *comma;
			char *clean;
			size_t o = 0;
			long dl;

			if (!l.b64) {
				/* vCard 4: data:image/jpeg;base64,... */
				if (bl < 5 || strncasecmp(b, "data:", 5) != 0 ||
				    (comma = memchr(b, ',', bl)) == NULL)
					continue;
				bl -= (size_t)(comma + 1 - b);
				b = comma + 1;
			}
			clean = arena_alloc(a, bl + 1);
			for (size_t i = 0; i < bl; i++) {
				if (b[i] != ' ' && b[i] != '\t')
					clean[o++] = b[i];
			}
			clean[o] = '\0';
			if (base64_decoded_max(o) > 2 * CONTACT_MAX_PICTURE)
				continue;
			dl = base64_decode(
				clean, o,
				arena_alloc(a, base64_decoded_max(o)));
			if (dl < 0 || dl > CONTACT_MAX_PICTURE)
				continue;
			c->picture.s = clean;
			c->picture.len = o;
			c->has_picture = true;
		} else if (vcard_name_is(l.name, l.nlen, "NOTE")) {
			unescape(a, l.value, l.vlen, l.lf, &c->body);
			c->has_body = true;
			c->body_type = l.body_type > 0 ? l.body_type : 1;
		} else if (vcard_name_is(l.name, l.nlen, "URL")) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_field(c, field_index(EAS_CONTACTS_WEBPAGE), &v);
		} else if (vcard_name_is(l.name, l.nlen, "X-EAS-NODES")) {
			c->nodes.s = arena_strndup(a, l.value, l.vlen);
			c->nodes.len = l.vlen;
		} else if (vcard_name_is(l.name, l.nlen, "X-ABLABEL")) {
			if (nlabels < MAX_GROUPED && l.group != NULL)
				labels[nlabels++] = l;
		} else if (vcard_name_is(l.name, l.nlen, "X-ABRELATEDNAMES") ||
			   vcard_name_is(l.name, l.nlen, "X-ABDATE")) {
			if (ngrouped < MAX_GROUPED && l.group != NULL)
				grouped[ngrouped++] = l;
		} else if ((k = field_by_prop(l.name, l.nlen)) >= 0) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_field(c, k, &v);
		}
	}
	if (strict && (!begun || !ended))
		return conv_fail(a, error_r, "not a vCard (BEGIN/END:VCARD)");
	for (size_t i = 0; i < ngrouped; i++) {
		const char *lab = label_of(labels, nlabels, &grouped[i]);
		uint16_t tag = 0;

		if (vcard_name_is(grouped[i].name, grouped[i].nlen,
				  "X-ABDATE")) {
			if (strstr(lab, "nniversary") != NULL &&
			    parse_date(a, &grouped[i], &v) == 0)
				set_field(c,
					  field_index(EAS_CONTACTS_ANNIVERSARY),
					  &v);
			continue;
		}
		unescape(a, grouped[i].value, grouped[i].vlen, false, &v);
		if (strstr(lab, "Spouse") != NULL || strstr(lab, "Partner"))
			tag = EAS_CONTACTS_SPOUSE;
		else if (strstr(lab, "Assistant") != NULL)
			tag = EAS_CONTACTS_ASSISTANTNAME;
		else if (strstr(lab, "Manager") != NULL)
			tag = EAS_CONTACTS2_MANAGERNAME;
		else if (strstr(lab, "Child") != NULL &&
			 c->nkids < CONTACT_MAX_LIST)
			c->kids[c->nkids++] = v;
		if (tag != 0)
			set_field(c, field_index(tag), &v);
	}
	/* An FN we did not compute ourselves is the display name: FileAs. */
	if (c->fn.s != NULL && !c->fn_computed && c->fn.len > 0)
		set_field(c, field_index(EAS_CONTACTS_FILEAS), &c->fn);
	return 0;
}

int
conv_contact_to_eas(struct arena *a, const struct store_item *item,
		    const struct conv_ctx *ctx, struct wbxml_node *appdata,
		    const char **error_r)
{
	struct contact *c = arena_alloc(a, sizeof(*c));
	struct wbxml_node *list;

	if (item->data == NULL)
		return conv_fail(a, error_r, "contact without data");
	if (contact_parse(a, (const char *)item->data, item->data_len, c, false,
			  error_r) < 0)
		return -1;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (c->has[i])
			wbxml_add_ref(a, appdata, fields[i].tag, c->f[i].s,
				      c->f[i].len, false);
	}
	if (c->ncats > 0) {
		list = wbxml_add(a, appdata, EAS_CONTACTS_CATEGORIES);
		for (size_t i = 0; i < c->ncats; i++)
			wbxml_add_ref(a, list, EAS_CONTACTS_CATEGORY,
				      c->cats[i].s, c->cats[i].len, false);
	}
	if (c->nkids > 0) {
		list = wbxml_add(a, appdata, EAS_CONTACTS_CHILDREN);
		for (size_t i = 0; i < c->nkids; i++)
			wbxml_add_ref(a, list, EAS_CONTACTS_CHILD, c->kids[i].s,
				      c->kids[i].len, false);
	}
	if (c->has_picture)
		wbxml_add_ref(a, appdata, EAS_CONTACTS_PICTURE, c->picture.s,
			      c->picture.len, false);
	if (c->has_body)
		conv_add_body(a, appdata, ctx, c->body.s, c->body.len,
			      c->body_type);
	if (c->nodes.s != NULL &&
	    conv_nodes_unpack(a, c->nodes.s, c->nodes.len, appdata) < 0)
		return conv_fail(a, error_r, "vCard: bad X-EAS-NODES");
	return 0;
}

int
conv_contact_from_standard(struct arena *a, const char *data, size_t len,
			   struct store_item *item_r, const char **error_r)
{
	struct contact *c = arena_alloc(a, sizeof(*c));
	char *copy;

	if (contact_parse(a, data, len, c, true, error_r) < 0)
		return -1;
	memset(&item_r->meta, 0, sizeof(item_r->meta));
	copy = arena_alloc(a, len + 1);
	memcpy(copy, data, len);
	copy[len] = '\0';
	item_r->data = (const uint8_t *)copy;
	item_r->data_len = len;
	item_r->extra = NULL;
	item_r->extra_len = 0;
	if (c->uid.s != NULL)
		item_r->meta.uid = c->uid.s;
	if (c->fn.s != NULL)
		item_r->meta.subject = c->fn.s;
	return 0;
}
