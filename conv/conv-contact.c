/* Contacts (MS-ASCNTC, pages Contacts and Contacts2) <-> vCard (3.0, RFC
 * 2426; 4.0, RFC 6350, read and kept as 4.0), over vcard.c's reader and
 * writer: the reader runs for every contact of an initial sync.
 *
 * Standard properties where they exist: N, FN, NICKNAME, ORG, TITLE,
 * TEL;TYPE=..., EMAIL, ADR;TYPE=WORK/HOME/OTHER, BDAY, ANNIVERSARY (3.0:
 * X-ANNIVERSARY), URL, IMPP, CATEGORIES, PHOTO, NOTE. Properties with
 * several EAS slots (phones, e-mail, IM) carry X-EAS-TYPE=<slot> so they
 * come back in the slot they came from. Everything else is an X- property
 * (X-PHONETIC-*, X-SPOUSE, X-MANAGER, X-ASSISTANT, X-EAS-*); elements we
 * do not know at all are packed into X-EAS-NODES.
 *
 * The stored vCard is authoritative. Our markers beside a standard value
 * are used only while they provably stand for it: a phone's slot only
 * while the line's TYPE is the one that slot is written with, the other
 * markers (X-EAS-NL, X-EAS-COMPUTED, X-EAS-BODYTYPE) only while the hash
 * they carry is that of the line's value. Birthday and anniversary are
 * dates: sent as the local midnight of the device's zone, read back as
 * the device's local day (conv_date_to_eas / conv_date_from_eas).
 *
 * A Change from a device rewrites only the lines the Contacts mapping
 * reads, in place and in the stored vCard's version; everything else (PO
 * box and extended address of ADR, ORG units, labels, KIND, GEO, unknown
 * properties, a fourth e-mail address, a birthday without a year) is kept
 * byte for byte.
 *
 * Limits: a Picture may hold at most CONTACT_MAX_PICTURE decoded bytes
 * (MS-ASCNTC 2.2.2.54 allows 48 KB); a vCard at most CONTACT_MAX_LINES
 * lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	CK_DATE, /* BDAY / ANNIVERSARY */
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

/* ADR components (RFC 2426 3.2.1): 0 PO box, 1 extended address, 2
 * street, 3 city, 4 region, 5 postal code, 6 country; the table maps
 * street, city, state, postal, country. */
static const char *const adr_types[3] = {"WORK", "HOME", "OTHER"};

/* One contact between the two forms. */
struct contact {
	struct vcard_str f[NFIELDS];
	bool has[NFIELDS];
	int64_t date[NFIELDS]; /* CK_DATE: the date (midnight as UTC) */
	struct vcard_str cats[CONTACT_MAX_LIST];
	size_t ncats;
	struct vcard_str kids[CONTACT_MAX_LIST];
	size_t nkids;
	struct vcard_str body, picture, uid, fn, nodes;
	bool has_body, has_picture, fn_computed;
	int body_type;
};

/* --- what the reader takes from one line --- */

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

struct vline {
	const char *group, *name;
	size_t glen, nlen;
	unsigned types;
	struct vcard_str slot;
	bool b64, computed, lf, text_value;
	int body_type;
	const char *value; /* raw, still escaped */
	size_t vlen;
};

static unsigned
types_of(const char *v, size_t len)
{
	unsigned t = 0;

	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma != NULL ? (size_t)(comma - v) : len;

		for (size_t i = 0; i < N_ELEMENTS(type_names); i++) {
			if (vcard_name_is(v, n, type_names[i].name))
				t |= type_names[i].bit;
		}
		if (comma == NULL)
			break;
		len -= n + 1;
		v = comma + 1;
	}
	return t;
}

/* A marker "<value>.<hash>": whether its hash is that of the line's value
 * (only then does the marker stand for it); *v_r and *vl_r get the value
 * part. */
static bool
marker_ok(const struct vcard_line *v, const char *pv, size_t pvl,
	  const char **v_r, size_t *vl_r)
{
	const char *dot = pvl > 9 ? pv + pvl - 9 : NULL;

	if (dot == NULL || *dot != '.')
		return false;
	*v_r = pv;
	*vl_r = (size_t)(dot - pv);
	return conv_hash_ok(dot + 1, 8, v->value, v->vlen);
}

/* The parameters Contacts cares about: TYPE (and the bare 2.1 types),
 * PREF, VALUE=text, and our own X-EAS-* markers. */
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
		const char *pv = p->value, *mv;
		size_t pvl = p->vlen, mvl;

		if (pv == NULL) {
			if (!vcard_name_is(p->name, p->nlen,
					   "QUOTED-PRINTABLE") &&
			    !vcard_name_is(p->name, p->nlen, "BASE64"))
				l->types |= types_of(p->name, p->nlen);
		} else if (vcard_name_is(p->name, p->nlen, "TYPE")) {
			l->types |= types_of(pv, pvl);
		} else if (vcard_name_is(p->name, p->nlen, "VALUE")) {
			l->text_value = vcard_name_is(pv, pvl, "text");
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-TYPE")) {
			l->slot.s = pv;
			l->slot.len = pvl;
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-COMPUTED")) {
			l->computed = marker_ok(v, pv, pvl, &mv, &mvl);
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-NL")) {
			l->lf = marker_ok(v, pv, pvl, &mv, &mvl);
		} else if (vcard_name_is(p->name, p->nlen, "X-EAS-BODYTYPE")) {
			if (marker_ok(v, pv, pvl, &mv, &mvl) && mvl == 1 &&
			    *mv >= '1' && *mv <= '4')
				l->body_type = *mv - '0';
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

static bool
str_eq(const struct vcard_str *x, const struct vcard_str *y)
{
	return x->len == y->len &&
	       (x->len == 0 || memcmp(x->s, y->s, x->len) == 0);
}

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

static bool
any_of(const struct contact *c, enum ckind kind, int grp)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].kind == kind && fields[i].sub == grp && c->has[i])
			return true;
	}
	return false;
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

/* The slot named by X-EAS-TYPE, when the marker still stands for the
 * line: for a phone, its TYPE must be the one that slot is written with
 * (a TYPE edited elsewhere wins). */
static int
field_by_slot(enum ckind kind, const struct vline *l)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].kind != kind ||
		    !vcard_name_is(l->slot.s, l->slot.len, fields[i].slot))
			continue;
		if (kind == CK_TEL &&
		    (l->types & ~T_PREF) !=
			    types_of(fields[i].types, strlen(fields[i].types)))
			return -1;
		return (int)i;
	}
	return -1;
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

/* A phone without a slot marker that stands (an imported vCard, or one
 * edited elsewhere): pick the EAS slot from its TYPE. */
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
		k = field_by_slot(kind, l);
		if (k >= 0 && !c->has[k])
			return k;
	}
	for (int n = 0; (k = field_of(kind, 0, n)) >= 0; n++) {
		if (!c->has[k])
			return k;
	}
	return -1;
}

/* --- reading: which line gave what --- */

/* What a line of the stored vCard is to the mapping. */
enum crole {
	CR_KEEP = 0, /* not read: kept as it is */
	CR_FIELD,    /* field .field */
	CR_DATE_RAW, /* a BDAY/ANNIVERSARY that is no date (VALUE=text) */
	CR_N,
	CR_ORG,
	CR_ADR, /* address group .field */
	CR_FN,
	CR_CATS,
	CR_CHILD,
	CR_PHOTO,
	CR_NOTE,
	CR_NODES,
	CR_VERSION,
	CR_END,
};

struct cline {
	struct vcard_line vl; /* value raw (escaped) */
	enum crole role;
	int field;
	bool pobox_street; /* CR_ADR: its street came from the PO box */
	bool tel_uri;	   /* CR_FIELD TEL: the value is a tel: URI */
};

/* Filled by contact_parse when asked: every line and its role, for a
 * Change that rewrites only what it maps. */
struct ctrack {
	struct cline *lines;
	size_t n, cap;
	bool v4; /* VERSION:4.0 */
};

struct cparse {
	bool strict;
	const struct conv_ctx *ctx;
	struct ctrack *tr;
};

static void
track(struct ctrack *tr, enum crole role, int field)
{
	if (tr != NULL && tr->n > 0) {
		tr->lines[tr->n - 1].role = role;
		tr->lines[tr->n - 1].field = field;
	}
}

static bool
set_field(struct contact *c, int i, const struct vcard_str *v)
{
	if (i >= 0 && !c->has[i]) {
		c->f[i] = *v;
		c->has[i] = true;
		return true;
	}
	return false;
}

static bool
set_tracked(struct contact *c, struct ctrack *tr, int i,
	    const struct vcard_str *v)
{
	if (!set_field(c, i, v))
		return false;
	track(tr, CR_FIELD, i);
	return true;
}

/* A date property (RFC 6350 4.3.1, RFC 2426 3.1.5: 1990-05-15,
 * 19900515, or a date-time whose date part is taken): 1 with the date in
 * *date_r (midnight, seconds as if UTC), 0 when the value is no full date
 * (VALUE=text, a date without a year), -1 when it is malformed. */
static int
parse_date(struct arena *a, const struct vline *l, int64_t *date_r)
{
	struct vcard_str v;
	char d[16];
	size_t n = 0;

	if (l->text_value)
		return 0;
	unescape(a, l->value, l->vlen, false, &v);
	if (v.len >= 2 && v.s[0] == '-' && v.s[1] == '-')
		return 0; /* --MMDD: no year, no EAS form */
	for (size_t i = 0; i < v.len && n < sizeof(d) - 1; i++) {
		if (v.s[i] == 'T' || v.s[i] == 't')
			break;
		d[n++] = v.s[i];
	}
	d[n] = '\0';
	if ((n != 8 && n != 10) || time_parse(d, date_r) < 0)
		return -1;
	return 1;
}

/* The EAS form of a date for the device (ISO dateTime of its local
 * midnight in UTC). */
static struct vcard_str
date_eas(struct arena *a, const struct conv_ctx *ctx, int64_t date)
{
	struct vcard_str r;
	char iso[32];

	time_format_iso(conv_date_to_eas(ctx, date), iso);
	r.s = arena_strdup(a, iso);
	r.len = strlen(iso);
	return r;
}

/* Apple Contacts writes related names and custom dates as grouped items
 * with an X-ABLabel line: item2.X-ABRELATEDNAMES + item2.X-ABLabel. */
static const char *
label_of(struct arena *a, const struct vline *labels, size_t nlabels,
	 const struct vline *l)
{
	for (size_t i = 0; i < nlabels; i++) {
		if (labels[i].glen == l->glen &&
		    strncasecmp(labels[i].group, l->group, l->glen) == 0)
			return arena_strndup(a, labels[i].value,
					     labels[i].vlen);
	}
	return "";
}

#define MAX_GROUPED 32

static bool
is_im_prop(const struct vline *l)
{
	static const char *const names[] = {
		"IMPP",	 "X-JABBER", "X-AIM",	"X-SKYPE",
		"X-MSN", "X-ICQ",    "X-YAHOO", "X-GOOGLE-TALK",
	};

	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (vcard_name_is(l->name, l->nlen, names[i]))
			return true;
	return false;
}

static bool
is_tel_uri(const struct vcard_str *v)
{
	return v->len >= 4 && strncasecmp(v->s, "tel:", 4) == 0;
}

/* PHOTO: the base64 text, from ENCODING=b (3.0) or a data: URI (4.0). */
static bool
photo_of(struct arena *a, const struct vline *l, struct vcard_str *r)
{
	const char *b = l->value, *comma;
	size_t bl = l->vlen, o = 0;
	char *clean;
	long dl;

	if (!l->b64) {
		if (bl < 5 || strncasecmp(b, "data:", 5) != 0 ||
		    (comma = memchr(b, ',', bl)) == NULL)
			return false;
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
		return false;
	dl = base64_decode(clean, o, arena_alloc(a, base64_decoded_max(o)));
	if (dl < 0 || dl > CONTACT_MAX_PICTURE)
		return false;
	r->s = clean;
	r->len = o;
	return true;
}

static int
contact_parse(struct arena *a, const char *data, size_t len, struct contact *c,
	      const struct cparse *o, const char **error_r)
{
	struct vcard_reader rd;
	struct vcard_line vl;
	struct ctrack *tr = o->tr;
	size_t nlabels = 0, ngrouped = 0, grouped_line[MAX_GROUPED];
	struct vline l, labels[MAX_GROUPED], grouped[MAX_GROUPED];
	bool begun = false, ended = false, seen_n = false;
	struct vcard_str parts[7], v;
	int k, r;

	memset(c, 0, sizeof(*c));
	c->body_type = 1;
	vcard_reader_init(&rd, a, data, len);
	while (!ended && (r = vcard_next(&rd, &vl)) != 0) {
		if (rd.lines > CONTACT_MAX_LINES)
			return conv_fail(a, error_r, "vCard: too many lines");
		if (tr != NULL) {
			tr->lines = arena_grow(a, tr->lines, tr->n, &tr->cap,
					       sizeof(*tr->lines));
			memset(&tr->lines[tr->n], 0, sizeof(tr->lines[0]));
			tr->lines[tr->n].vl = vl;
			tr->n++;
		}
		if (r < 0) {
			if (o->strict)
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
			track(tr, CR_END, 0);
			continue;
		}
		if (vcard_name_is(l.name, l.nlen, "VERSION")) {
			if (tr != NULL)
				tr->v4 = l.vlen >= 1 && l.value[0] == '4';
			track(tr, CR_VERSION, 0);
		} else if (vcard_name_is(l.name, l.nlen, "N")) {
			size_t n;

			if (seen_n)
				continue;
			seen_n = true;
			n = vcard_split(a, l.value, l.vlen, ';', l.lf, parts,
					5);
			for (size_t i = 0; i < n; i++) {
				if (parts[i].len > 0)
					set_field(c, field_of(CK_N, (int)i, 0),
						  &parts[i]);
			}
			track(tr, CR_N, 0);
		} else if (vcard_name_is(l.name, l.nlen, "FN")) {
			unescape(a, l.value, l.vlen, l.lf, &c->fn);
			c->fn_computed = l.computed;
			track(tr, CR_FN, 0);
		} else if (vcard_name_is(l.name, l.nlen, "UID")) {
			unescape(a, l.value, l.vlen, false, &c->uid);
		} else if (vcard_name_is(l.name, l.nlen, "ORG")) {
			size_t n = vcard_split(a, l.value, l.vlen, ';', l.lf,
					       parts, 2);
			bool any = false;

			if (any_of(c, CK_ORG, 0) || any_of(c, CK_ORG, 1))
				continue;
			for (size_t i = 0; i < n; i++) {
				if (parts[i].len > 0)
					any |= set_field(
						c, field_of(CK_ORG, (int)i, 0),
						&parts[i]);
			}
			if (any)
				track(tr, CR_ORG, 0);
		} else if (vcard_name_is(l.name, l.nlen, "TEL")) {
			k = -1;
			if (l.slot.s != NULL)
				k = field_by_slot(CK_TEL, &l);
			if (k < 0 || c->has[k])
				k = tel_slot(c, l.types);
			unescape(a, l.value, l.vlen, l.lf, &v);
			/* RFC 6350 6.4.1: a tel: URI shows as its number */
			if (is_tel_uri(&v)) {
				v.s += 4;
				v.len -= 4;
				if (set_tracked(c, tr, k, &v) && tr != NULL)
					tr->lines[tr->n - 1].tel_uri = true;
			} else {
				set_tracked(c, tr, k, &v);
			}
		} else if (vcard_name_is(l.name, l.nlen, "EMAIL")) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_tracked(c, tr, slot_in_order(c, CK_EMAIL, &l), &v);
		} else if (is_im_prop(&l)) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_tracked(c, tr, slot_in_order(c, CK_IMPP, &l), &v);
		} else if (vcard_name_is(l.name, l.nlen, "ADR")) {
			int g = (l.types & T_WORK)   ? 0
				: (l.types & T_HOME) ? 1
						     : 2;
			size_t n;
			bool any = false;

			if (any_of(c, CK_ADR, g))
				g = !any_of(c, CK_ADR, 2) ? 2 : -1;
			if (g < 0)
				continue;
			n = vcard_split(a, l.value, l.vlen, ';', l.lf, parts,
					7);
			for (size_t i = 2; i < n; i++) {
				if (parts[i].len > 0)
					any |= set_field(
						c,
						field_of(CK_ADR, g, (int)i - 2),
						&parts[i]);
			}
			if (n > 2 && parts[2].len == 0 && parts[0].len > 0 &&
			    set_field(c, field_of(CK_ADR, g, 0), &parts[0])) {
				any = true;
				if (tr != NULL)
					tr->lines[tr->n - 1].pobox_street =
						true;
			}
			if (any)
				track(tr, CR_ADR, g);
		} else if (vcard_name_is(l.name, l.nlen, "BDAY") ||
			   vcard_name_is(l.name, l.nlen, "X-ANNIVERSARY") ||
			   vcard_name_is(l.name, l.nlen, "ANNIVERSARY") ||
			   vcard_name_is(l.name, l.nlen,
					 "X-EVOLUTION-ANNIVERSARY")) {
			int64_t date;

			k = field_by_prop(l.name, l.nlen);
			r = parse_date(a, &l, &date);
			if (r < 0 && o->strict)
				return conv_fail(
					a, error_r, "%.*s: not a date: '%.*s'",
					(int)l.nlen, l.name,
					(int)EAS_MIN(l.vlen, 40), l.value);
			if (r <= 0) {
				/* kept as it is; a birthday the phone sets
				 * replaces it */
				if (!c->has[k])
					track(tr, CR_DATE_RAW, k);
				continue;
			}
			v = date_eas(a, o->ctx, date);
			if (set_tracked(c, tr, k, &v))
				c->date[k] = date;
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
			track(tr, CR_CATS, 0);
		} else if (vcard_name_is(l.name, l.nlen, "X-EAS-CHILD")) {
			if (c->nkids < CONTACT_MAX_LIST) {
				unescape(a, l.value, l.vlen, l.lf,
					 &c->kids[c->nkids++]);
				track(tr, CR_CHILD, 0);
			}
		} else if (vcard_name_is(l.name, l.nlen, "PHOTO")) {
			if (!c->has_picture && photo_of(a, &l, &c->picture)) {
				c->has_picture = true;
				track(tr, CR_PHOTO, 0);
			}
		} else if (vcard_name_is(l.name, l.nlen, "NOTE")) {
			if (!c->has_body) {
				unescape(a, l.value, l.vlen, l.lf, &c->body);
				c->has_body = true;
				c->body_type =
					l.body_type > 0 ? l.body_type : 1;
				track(tr, CR_NOTE, 0);
			}
		} else if (vcard_name_is(l.name, l.nlen, "URL")) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_tracked(c, tr, field_index(EAS_CONTACTS_WEBPAGE),
				    &v);
		} else if (vcard_name_is(l.name, l.nlen, "X-EAS-NODES")) {
			/* up to a NUL, which base64 cannot hold anyway */
			c->nodes.s = arena_strndup(a, l.value, l.vlen);
			c->nodes.len = strlen(c->nodes.s);
			track(tr, CR_NODES, 0);
		} else if (vcard_name_is(l.name, l.nlen, "X-ABLABEL")) {
			if (nlabels < MAX_GROUPED && l.group != NULL)
				labels[nlabels++] = l;
		} else if (vcard_name_is(l.name, l.nlen, "X-ABRELATEDNAMES") ||
			   vcard_name_is(l.name, l.nlen, "X-ABDATE")) {
			if (ngrouped < MAX_GROUPED && l.group != NULL) {
				grouped_line[ngrouped] =
					tr != NULL ? tr->n - 1 : 0;
				grouped[ngrouped++] = l;
			}
		} else if ((k = field_by_prop(l.name, l.nlen)) >= 0) {
			unescape(a, l.value, l.vlen, l.lf, &v);
			set_tracked(c, tr, k, &v);
		}
	}
	if (o->strict && (!begun || !ended))
		return conv_fail(a, error_r, "not a vCard (BEGIN/END:VCARD)");
	for (size_t i = 0; i < ngrouped; i++) {
		const char *lab = label_of(a, labels, nlabels, &grouped[i]);
		struct cline *cl =
			tr != NULL ? &tr->lines[grouped_line[i]] : NULL;
		uint16_t tag = 0;

		if (vcard_name_is(grouped[i].name, grouped[i].nlen,
				  "X-ABDATE")) {
			int64_t date;

			k = field_index(EAS_CONTACTS_ANNIVERSARY);
			if (strstr(lab, "nniversary") != NULL &&
			    parse_date(a, &grouped[i], &date) == 1) {
				v = date_eas(a, o->ctx, date);
				if (set_field(c, k, &v)) {
					c->date[k] = date;
					if (cl != NULL) {
						cl->role = CR_FIELD;
						cl->field = k;
					}
				}
			}
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
			 c->nkids < CONTACT_MAX_LIST) {
			c->kids[c->nkids++] = v;
			if (cl != NULL)
				cl->role = CR_CHILD;
		}
		if (tag != 0 && set_field(c, field_index(tag), &v) &&
		    cl != NULL) {
			cl->role = CR_FIELD;
			cl->field = field_index(tag);
		}
	}
	/* An FN we did not compute ourselves is the display name: FileAs. */
	if (c->fn.s != NULL && !c->fn_computed && c->fn.len > 0)
		set_field(c, field_index(EAS_CONTACTS_FILEAS), &c->fn);
	return 0;
}

/* --- writing --- */

struct cwriter {
	struct vcard_writer w;
	struct arena *a;
	bool v4;
	struct buf val; /* one escaped value, before it is written */
};

/* A value with a lone LF (no CR at all) is marked so the reader gives the
 * LF back instead of the CR LF EAS uses elsewhere. */
static bool
lf_only(const struct vcard_str *v)
{
	if (v->len == 0)
		return false;
	return memchr(v->s, '\n', v->len) != NULL &&
	       memchr(v->s, '\r', v->len) == NULL;
}

static bool
param_needs_quotes(const char *v, size_t len)
{
	return memchr(v, ':', len) != NULL || memchr(v, ';', len) != NULL;
}

/* Start a line: the old line's group, name and parameters (without ours
 * and without those in drop), or just name for a new line. */
static void
line_begin(struct cwriter *cw, const struct vcard_line *old, const char *name,
	   const char *const *drop)
{
	vcard_begin(&cw->w, "");
	if (old == NULL) {
		buf_puts(&cw->w.b, name);
		return;
	}
	if (old->group != NULL) {
		buf_append(&cw->w.b, old->group, old->glen);
		buf_putc(&cw->w.b, '.');
	}
	buf_append(&cw->w.b, old->name, old->nlen);
	for (size_t i = 0; i < old->nparams; i++) {
		const struct vcard_param *p = &old->params[i];
		bool skip =
			p->nlen > 6 && strncasecmp(p->name, "X-EAS-", 6) == 0;

		for (size_t j = 0; drop != NULL && drop[j] != NULL && !skip;
		     j++)
			skip = vcard_name_is(p->name, p->nlen, drop[j]);
		if (skip)
			continue;
		buf_putc(&cw->w.b, ';');
		buf_append(&cw->w.b, p->name, p->nlen);
		if (p->value == NULL)
			continue;
		buf_putc(&cw->w.b, '=');
		if (param_needs_quotes(p->value, p->vlen)) {
			buf_putc(&cw->w.b, '"');
			buf_append(&cw->w.b, p->value, p->vlen);
			buf_putc(&cw->w.b, '"');
		} else {
			buf_append(&cw->w.b, p->value, p->vlen);
		}
	}
}

/* The value collected in cw->val, with the LF marker when lf: ":value",
 * end of line. */
static void
line_value(struct cwriter *cw, bool lf)
{
	if (lf) {
		char h[9];

		conv_hash_hex(cw->val.data, cw->val.len, h);
		buf_printf(&cw->w.b, ";X-EAS-NL=LF.%s", h);
	}
	buf_putc(&cw->w.b, ':');
	buf_append(&cw->w.b, cw->val.data, cw->val.len);
	cw->val.len = 0;
	vcard_end(&cw->w);
}

static void
val_text(struct cwriter *cw, const struct vcard_str *v)
{
	vcard_escape(&cw->val, v->s, v->len);
}

static void
put_simple(struct cwriter *cw, const struct vcard_line *old, const char *name,
	   const char *params, const struct vcard_str *v)
{
	line_begin(cw, old, name, NULL);
	if (params != NULL)
		buf_puts(&cw->w.b, params);
	val_text(cw, v);
	line_value(cw, lf_only(v));
}

/* A number as a tel: URI (RFC 3966): spaces become the "-" separator. */
static void
val_tel_uri(struct cwriter *cw, const struct vcard_str *v)
{
	buf_puts(&cw->val, "tel:");
	for (size_t i = 0; i < v->len; i++)
		buf_putc(&cw->val, v->s[i] == ' ' ? '-' : (uint8_t)v->s[i]);
}

static void
lower_into(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_putc(b, (uint8_t)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s));
}

/* A slotted property (TEL, EMAIL, IMPP) of field i. */
static void
put_slotted(struct cwriter *cw, const struct cline *old, size_t i,
	    const struct vcard_str *v)
{
	const struct cfield *f = &fields[i];
	static const char *const name[] = {
		[CK_TEL] = "TEL", [CK_EMAIL] = "EMAIL", [CK_IMPP] = "IMPP"};

	line_begin(cw, old != NULL ? &old->vl : NULL, name[f->kind], NULL);
	if (old == NULL && f->kind == CK_TEL) {
		buf_puts(&cw->w.b, ";TYPE=");
		if (cw->v4)
			lower_into(&cw->w.b, f->types);
		else
			buf_puts(&cw->w.b, f->types);
	} else if (old == NULL && f->kind == CK_EMAIL && !cw->v4) {
		buf_puts(&cw->w.b, ";TYPE=INTERNET");
	}
	buf_printf(&cw->w.b, ";X-EAS-TYPE=%s", f->slot);
	if (old != NULL && old->tel_uri) {
		val_tel_uri(cw, v);
		line_value(cw, false);
		return;
	}
	val_text(cw, v);
	line_value(cw, lf_only(v));
}

/* A date: 4.0 and the basic form "19900515" where the old line had it,
 * else "1990-05-15" with VALUE=DATE (3.0). */
static void
put_date(struct cwriter *cw, const struct cline *old, size_t i, int64_t date)
{
	static const char *const drop[] = {"VALUE", NULL};
	bool basic = cw->v4;
	time_t t = (time_t)date;
	struct tm tm;
	char d[16];

	if (old != NULL && old->role == CR_FIELD) {
		const char *v = old->vl.value;

		basic = old->vl.vlen >= 8 && v[4] != '-';
	}
	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), basic ? "%Y%m%d" : "%Y-%m-%d", &tm);
	if (old != NULL) {
		line_begin(cw, &old->vl, NULL, drop);
		if (!cw->v4 && !basic)
			buf_puts(&cw->w.b, ";VALUE=DATE");
	} else if (cw->v4) {
		line_begin(cw, NULL,
			   fields[i].tag == EAS_CONTACTS_BIRTHDAY
				   ? "BDAY"
				   : "ANNIVERSARY",
			   NULL);
	} else {
		line_begin(cw, NULL, fields[i].prop, NULL);
		buf_puts(&cw->w.b, ";VALUE=DATE");
	}
	buf_puts(&cw->val, d);
	line_value(cw, false);
}

/* Components of a structured value: n of them, each either the new
 * field idx[k] (when >= 0) or the old component old[k]. */
static void
put_compound(struct cwriter *cw, const struct vcard_line *oldl,
	     const char *name, const struct contact *c, const int *idx,
	     const struct vcard_str *oldparts, size_t n)
{
	bool lf = false;

	line_begin(cw, oldl, name, NULL);
	for (size_t k = 0; k < n; k++) {
		const struct vcard_str *v =
			idx[k] >= 0 ? (c->has[idx[k]] ? &c->f[idx[k]] : NULL)
				    : &oldparts[k];

		if (k > 0)
			buf_putc(&cw->val, ';');
		if (v != NULL) {
			val_text(cw, v);
			lf = lf || lf_only(v);
		}
	}
	line_value(cw, lf);
}

static void
put_fn(struct cwriter *cw, const struct vcard_line *old,
       const struct contact *c)
{
	line_begin(cw, old, "FN", NULL);
	val_text(cw, &c->fn);
	if (c->fn_computed) {
		char h[9];

		conv_hash_hex(cw->val.data, cw->val.len, h);
		buf_printf(&cw->w.b, ";X-EAS-COMPUTED=1.%s", h);
	}
	line_value(cw, lf_only(&c->fn));
}

static void
put_list(struct cwriter *cw, const struct vcard_line *old, const char *name,
	 const struct vcard_str *v, size_t n)
{
	line_begin(cw, old, name, NULL);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&cw->val, ',');
		val_text(cw, &v[i]);
	}
	line_value(cw, false);
}

static const char *
picture_type(const struct vcard_str *p)
{
	if (p->len >= 5 && memcmp(p->s, "iVBOR", 5) == 0)
		return "PNG";
	if (p->len >= 6 && memcmp(p->s, "R0lGOD", 6) == 0)
		return "GIF";
	return "JPEG";
}

static void
put_photo(struct cwriter *cw, const struct vcard_line *old,
	  const struct contact *c)
{
	static const char *const drop[] = {"ENCODING",	"TYPE",	  "VALUE",
					   "MEDIATYPE", "BASE64", NULL};
	const char *type = picture_type(&c->picture);

	line_begin(cw, old, "PHOTO", drop);
	if (cw->v4) {
		buf_putc(&cw->w.b, ':');
		buf_puts(&cw->w.b, "data:image/");
		lower_into(&cw->w.b, type);
		buf_puts(&cw->w.b, ";base64,");
	} else {
		buf_printf(&cw->w.b, ";ENCODING=b;TYPE=%s:", type);
	}
	buf_append(&cw->w.b, c->picture.s, c->picture.len);
	vcard_end(&cw->w);
}

static void
put_note(struct cwriter *cw, const struct vcard_line *old,
	 const struct contact *c)
{
	line_begin(cw, old, "NOTE", NULL);
	val_text(cw, &c->body);
	if (c->body_type != 1) {
		char h[9];

		conv_hash_hex(cw->val.data, cw->val.len, h);
		buf_printf(&cw->w.b, ";X-EAS-BODYTYPE=%d.%s", c->body_type, h);
	}
	line_value(cw, lf_only(&c->body));
}

static void
put_nodes(struct cwriter *cw, const struct contact *c)
{
	vcard_begin(&cw->w, "X-EAS-NODES:");
	buf_append(&cw->w.b, c->nodes.s, c->nodes.len);
	vcard_end(&cw->w);
}

static bool
lists_eq(const struct vcard_str *x, size_t nx, const struct vcard_str *y,
	 size_t ny)
{
	if (nx != ny)
		return false;
	for (size_t i = 0; i < nx; i++)
		if (!str_eq(&x[i], &y[i]))
			return false;
	return true;
}

static void
copy_line(struct cwriter *cw, const struct vcard_line *l)
{
	buf_append(&cw->w.b, l->src, l->src_len);
	/* the last line of a file may lack its line end */
	if (l->src_len > 0 && l->src[l->src_len - 1] != '\n')
		buf_puts(&cw->w.b, "\r\n");
	cw->w.line_start = cw->w.b.len;
}

/* The vCard of nc: the stored one (tr, read into oc) with only what the
 * mapping reads rewritten, or a new 3.0 vCard when tr is NULL. */
static const char *
contact_emit(struct arena *a, const struct ctrack *tr, const struct contact *oc,
	     const struct contact *nc, size_t *len_r)
{
	struct cwriter cw;
	bool written[NFIELDS], adr_done[3] = {false, false, false};
	bool n_done = false, fn_done = false, org_done = false,
	     cats_done = false, kids_done = false, photo_done = false,
	     note_done = false, nodes_done = false, uid_seen = false;
	int idx[7];
	struct vcard_str parts[16];
	const char *out;
	size_t end_at = tr != NULL ? tr->n : 0;

	memset(written, 0, sizeof(written));
	memset(&cw, 0, sizeof(cw));
	vcard_writer_init(&cw.w);
	buf_init(&cw.val, 0);
	cw.a = a;
	cw.v4 = tr != NULL && tr->v4;
	if (tr == NULL)
		buf_puts(&cw.w.b, "BEGIN:VCARD\r\nVERSION:3.0\r\n");
	for (size_t li = 0; tr != NULL && li < tr->n; li++) {
		const struct cline *cl = &tr->lines[li];
		const struct vcard_line *vl = &cl->vl;
		size_t i = (size_t)cl->field;

		if (cl->role == CR_END) {
			end_at = li;
			break;
		}
		if (vl->name != NULL &&
		    vcard_name_is(vl->name, vl->nlen, "UID"))
			uid_seen = true;
		switch (cl->role) {
		case CR_KEEP:
		case CR_VERSION:
			copy_line(&cw, vl);
			break;
		case CR_FIELD:
			if (!nc->has[i] || written[i])
				break;
			written[i] = true;
			if (fields[i].kind == CK_DATE) {
				if (oc->has[i] && oc->date[i] == nc->date[i])
					copy_line(&cw, vl);
				else
					put_date(&cw, cl, i, nc->date[i]);
			} else if (oc->has[i] && str_eq(&oc->f[i], &nc->f[i])) {
				copy_line(&cw, vl);
			} else if (fields[i].kind == CK_TEXT) {
				put_simple(&cw, vl, NULL, NULL, &nc->f[i]);
			} else {
				put_slotted(&cw, cl, i, &nc->f[i]);
			}
			break;
		case CR_DATE_RAW:
			/* a date the phone never saw: replaced only by one
			 * it sets */
			if (!nc->has[i] || written[i]) {
				copy_line(&cw, vl);
				break;
			}
			written[i] = true;
			put_date(&cw, cl, i, nc->date[i]);
			break;
		case CR_N: {
			bool same = true;

			if (n_done)
				break;
			n_done = true;
			for (int k = 0; k < 5; k++) {
				int f = field_of(CK_N, k, 0);

				idx[k] = f;
				same = same && oc->has[f] == nc->has[f] &&
				       (!nc->has[f] ||
					str_eq(&oc->f[f], &nc->f[f]));
			}
			if (same)
				copy_line(&cw, vl);
			else
				put_compound(&cw, vl, "N", nc, idx, parts, 5);
			break;
		}
		case CR_ORG: {
			int oidx[16];
			size_t n, total;
			bool same = true, any = false;

			if (org_done)
				break;
			org_done = true;
			n = vcard_split(a, vl->value, vl->vlen, ';', false,
					parts, N_ELEMENTS(parts));
			for (size_t k = n; k < 2; k++) {
				parts[k].s = "";
				parts[k].len = 0;
			}
			total = EAS_MAX(n, 2);
			for (size_t k = 0; k < total; k++) {
				int f = k < 2 ? field_of(CK_ORG, (int)k, 0)
					      : -1;

				oidx[k] = f;
				if (f >= 0) {
					same = same &&
					       oc->has[f] == nc->has[f] &&
					       (!nc->has[f] ||
						str_eq(&oc->f[f], &nc->f[f]));
					any = any || nc->has[f];
				} else {
					any = any || parts[k].len > 0;
				}
			}
			if (same)
				copy_line(&cw, vl);
			else if (any)
				put_compound(&cw, vl, "ORG", nc, oidx, parts,
					     total);
			break;
		}
		case CR_ADR: {
			int g = cl->field;
			size_t n;
			bool same = true, any = false;

			if (adr_done[g])
				break;
			adr_done[g] = true;
			n = vcard_split(a, vl->value, vl->vlen, ';', false,
					parts, 7);
			for (size_t k = n; k < 7; k++) {
				parts[k].s = "";
				parts[k].len = 0;
			}
			for (int k = 0; k < 7; k++)
				idx[k] = -1;
			for (int k = 0; k < 5; k++) {
				int f = field_of(CK_ADR, g, k);

				idx[k + 2] = f;
				same = same && oc->has[f] == nc->has[f] &&
				       (!nc->has[f] ||
					str_eq(&oc->f[f], &nc->f[f]));
				any = any || nc->has[f];
			}
			if (cl->pobox_street) {
				/* the street was read from the PO box */
				idx[0] = idx[2];
				idx[2] = -1;
			} else {
				any = any || parts[0].len > 0;
			}
			any = any || parts[1].len > 0;
			if (same)
				copy_line(&cw, vl);
			else if (any)
				put_compound(&cw, vl, "ADR", nc, idx, parts, 7);
			break;
		}
		case CR_FN:
			if (fn_done)
				break;
			fn_done = true;
			if (str_eq(&oc->fn, &nc->fn) &&
			    oc->fn_computed == nc->fn_computed)
				copy_line(&cw, vl);
			else
				put_fn(&cw, vl, nc);
			break;
		case CR_CATS:
			if (lists_eq(oc->cats, oc->ncats, nc->cats,
				     nc->ncats)) {
				copy_line(&cw, vl);
			} else if (!cats_done && nc->ncats > 0) {
				put_list(&cw, vl, "CATEGORIES", nc->cats,
					 nc->ncats);
			}
			cats_done = true;
			break;
		case CR_CHILD:
			if (lists_eq(oc->kids, oc->nkids, nc->kids,
				     nc->nkids)) {
				copy_line(&cw, vl);
			} else if (!kids_done) {
				for (size_t k = 0; k < nc->nkids; k++)
					put_simple(&cw, NULL, "X-EAS-CHILD",
						   NULL, &nc->kids[k]);
			}
			kids_done = true;
			break;
		case CR_PHOTO:
			if (photo_done)
				break;
			photo_done = true;
			if (!nc->has_picture)
				break;
			if (oc->has_picture &&
			    str_eq(&oc->picture, &nc->picture))
				copy_line(&cw, vl);
			else
				put_photo(&cw, vl, nc);
			break;
		case CR_NOTE:
			if (note_done)
				break;
			note_done = true;
			if (!nc->has_body)
				break;
			if (oc->has_body && str_eq(&oc->body, &nc->body) &&
			    oc->body_type == nc->body_type)
				copy_line(&cw, vl);
			else
				put_note(&cw, vl, nc);
			break;
		case CR_NODES:
			if (nodes_done)
				break;
			nodes_done = true;
			if (nc->nodes.s != NULL)
				put_nodes(&cw, nc);
			break;
		case CR_END:
			break;
		}
	}
	/* What the stored vCard had no line for, before its END. */
	if (!uid_seen && nc->uid.s != NULL)
		put_simple(&cw, NULL, "UID", NULL, &nc->uid);
	if (!n_done) {
		for (int k = 0; k < 5; k++)
			idx[k] = field_of(CK_N, k, 0);
		if (!cw.v4 || any_of(nc, CK_N, 0) || any_of(nc, CK_N, 1) ||
		    any_of(nc, CK_N, 2) || any_of(nc, CK_N, 3) ||
		    any_of(nc, CK_N, 4))
			put_compound(&cw, NULL, "N", nc, idx, parts, 5);
	}
	if (!fn_done)
		put_fn(&cw, NULL, nc);
	if (!org_done && (any_of(nc, CK_ORG, 0) || any_of(nc, CK_ORG, 1))) {
		idx[0] = field_of(CK_ORG, 0, 0);
		idx[1] = field_of(CK_ORG, 1, 0);
		put_compound(&cw, NULL, "ORG", nc, idx, parts, 2);
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct cfield *f = &fields[i];

		if (!nc->has[i] || written[i])
			continue;
		switch (f->kind) {
		case CK_TEXT:
			if (f->tag == EAS_CONTACTS_FILEAS && !nc->fn_computed)
				break; /* FN holds it */
			put_simple(&cw, NULL, f->prop, NULL, &nc->f[i]);
			break;
		case CK_TEL:
		case CK_EMAIL:
		case CK_IMPP:
			put_slotted(&cw, NULL, i, &nc->f[i]);
			break;
		case CK_DATE:
			put_date(&cw, NULL, i, nc->date[i]);
			break;
		case CK_N:
		case CK_ORG:
		case CK_ADR:
			break;
		}
	}
	for (int g = 0; g < 3; g++) {
		char head[32];

		if (adr_done[g] || !any_of(nc, CK_ADR, g))
			continue;
		for (int k = 0; k < 7; k++)
			idx[k] = k < 2 ? -1 : field_of(CK_ADR, g, k - 2);
		parts[0].len = parts[1].len = 0;
		snprintf(head, sizeof(head), "ADR;TYPE=%s",
			 cw.v4 ? (g == 0   ? "work"
				  : g == 1 ? "home"
					   : "other")
			       : adr_types[g]);
		put_compound(&cw, NULL, head, nc, idx, parts, 7);
	}
	if (!cats_done && nc->ncats > 0)
		put_list(&cw, NULL, "CATEGORIES", nc->cats, nc->ncats);
	if (!kids_done)
		for (size_t k = 0; k < nc->nkids; k++)
			put_simple(&cw, NULL, "X-EAS-CHILD", NULL,
				   &nc->kids[k]);
	if (!photo_done && nc->has_picture)
		put_photo(&cw, NULL, nc);
	if (!note_done && nc->has_body)
		put_note(&cw, NULL, nc);
	if (!nodes_done && nc->nodes.s != NULL)
		put_nodes(&cw, nc);
	if (tr == NULL || end_at >= tr->n)
		buf_puts(&cw.w.b, "END:VCARD\r\n");
	for (size_t li = end_at; tr != NULL && li < tr->n; li++)
		copy_line(&cw, &tr->lines[li].vl);
	out = vcard_writer_finish(&cw.w, a, len_r);
	vcard_writer_deinit(&cw.w);
	buf_deinit(&cw.val);
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

int
conv_contact_from_eas(struct arena *a, const struct wbxml_node *appdata,
		      const struct conv_ctx *ctx, const struct store_item *old,
		      struct store_item *item_r, const char **error_r)
{
	struct contact *c = arena_zalloc(a, sizeof(*c)), *oc = NULL;
	const struct wbxml_node *n, *k, *unknown[CONTACT_MAX_UNKNOWN];
	struct ctrack *tr = NULL;
	size_t nunknown = 0;
	int i;
	int64_t t;

	c->body_type = 1;
	wbxml_foreach(appdata, n)
	{
		i = field_index(n->tag);
		if (i >= 0) {
			if (fields[i].kind == CK_DATE) {
				if (time_parse(wbxml_text(n), &t) < 0)
					return conv_fail(
						a, error_r,
						"Contacts: bad date '%s' in %s",
						wbxml_text(n),
						wbxml_tag_name(n->tag));
				c->date[i] = conv_date_from_eas(ctx, t);
			}
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
	/* A Change rewrites the stored vCard where the mapping reads it. */
	if (old != NULL && old->data != NULL) {
		struct cparse o = {false, ctx, NULL};
		const char *err = NULL;

		tr = arena_zalloc(a, sizeof(*tr));
		oc = arena_alloc(a, sizeof(*oc));
		o.tr = tr;
		if (contact_parse(a, (const char *)old->data, old->data_len, oc,
				  &o, &err) < 0) {
			tr = NULL;
			oc = NULL;
		} else {
			c->uid = oc->uid;
		}
	}
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
	item_r->data =
		(const uint8_t *)contact_emit(a, tr, oc, c, &item_r->data_len);
	item_r->extra = NULL;
	item_r->extra_len = 0;
	item_r->meta.uid = arena_strndup(a, c->uid.s, c->uid.len);
	item_r->meta.subject = arena_strndup(a, c->fn.s, c->fn.len);
	return 0;
}

int
conv_contact_to_eas(struct arena *a, const struct store_item *item,
		    const struct conv_ctx *ctx, struct wbxml_node *appdata,
		    const char **error_r)
{
	struct contact *c = arena_alloc(a, sizeof(*c));
	struct cparse o = {false, ctx, NULL};
	struct wbxml_node *list;

	if (item->data == NULL)
		return conv_fail(a, error_r, "contact without data");
	if (contact_parse(a, (const char *)item->data, item->data_len, c, &o,
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
	struct cparse o = {true, NULL, NULL};
	char *copy;

	if (contact_parse(a, data, len, c, &o, error_r) < 0)
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
