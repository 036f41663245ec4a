/* Splitting .vcf/.ics/mbox files into objects and merging objects into
 * them. vCards split at BEGIN:VCARD / END:VCARD lines (RFC 6350 3.1);
 * every VEVENT/VTODO of an .ics becomes its own VCALENDAR with the time
 * zones, a recurring series and its RECURRENCE-ID overrides kept together
 * (RFC 5545 3.8.4.4; see "--- .ics ---" for how a file of any size is
 * read), and journal and free/busy entries are reported, not dropped; mbox
 * messages start at "From " separator lines (the first line or after an empty
 * one, with a date) and ">From " lines lose one '>' (mboxrd; for mboxo the
 * same, as ">>From" never comes from quoting). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libical/ical.h>

#include "bundle.h"
#include "util.h"
#include "xalloc.h"

/* Largest message of an mbox (the whole file is already in memory). */
#define BUNDLE_MAX_MESSAGE (256u * 1024 * 1024)
/* How often the first pass over an .ics tells how far it has read. */
#define BUNDLE_READ_STEP (1024u * 1024)

struct bundle_reader {
	struct arena *a;
	struct arena *obj_a; /* what bundle_next returns: a unless told */
	const char *data;    /* the file */
	enum bundle_kind kind;
	const char *name;
	const char *p, *end; /* vcf, mbox, the .ics's first pass: the rest */
	unsigned lineno;
	size_t found;
	/* ics: where its parts are, found by the first bundle_next */
	struct ics_index *ics;
	size_t next, consumed;
	bool indexed;
	void (*on_read)(void *ctx, size_t upto);
	void *on_read_ctx;
	bool eml_done, done;
};

/* n bytes and a NUL: an object's text keeps its length even when it
 * holds NUL bytes (arena_strndup would stop at the first). */
static char *
bytes_dup(struct arena *a, const char *p, size_t n)
{
	char *r = arena_alloc(a, n + 1);

	if (n > 0)
		memcpy(r, p, n);
	r[n] = '\0';
	return r;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *
skip_bom_ws(const char *p)
{
	if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
	    (unsigned char)p[2] == 0xbf)
		p += 3;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

enum bundle_kind
bundle_kind_of(const char *name, const char *data)
{
	const char *p = skip_bom_ws(data);

	if (has_suffix(name, ".vcf") || has_suffix(name, ".vcard"))
		return BUNDLE_VCF;
	if (has_suffix(name, ".ics") || has_suffix(name, ".ical"))
		return BUNDLE_ICS;
	if (has_suffix(name, ".mbox"))
		return BUNDLE_MBOX;
	if (has_suffix(name, ".eml"))
		return BUNDLE_EML;
	if (str_has_iprefix(p, "BEGIN:VCARD"))
		return BUNDLE_VCF;
	if (str_has_iprefix(p, "BEGIN:VCALENDAR"))
		return BUNDLE_ICS;
	if (strncmp(data, "From ", 5) == 0)
		return BUNDLE_MBOX;
	return BUNDLE_EML;
}

/* A line without its end-of-line, trimmed of trailing blanks. */
static bool
line_is(const char *line, size_t len, const char *what)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
			   line[len - 1] == '\r'))
		len--;
	return len == strlen(what) && strncasecmp(line, what, len) == 0;
}

static int
fail(struct bundle_reader *r, const char **error_r, const char *what)
{
	*error_r =
		arena_printf(r->obj_a, "%s:%u: %s", r->name, r->lineno, what);
	return -1;
}

static int
none_found(struct bundle_reader *r, const char **error_r, const char *what)
{
	*error_r = arena_printf(r->obj_a, "%s: no %s found", r->name, what);
	return -1;
}

/* One physical line of the rest: [*line, *next), its length without
 * the end-of-line in *llen_r. */
static bool
next_line(struct bundle_reader *r, const char **line_r, const char **next_r,
	  size_t *llen_r)
{
	const char *nl;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	*line_r = r->p;
	*next_r = nl != NULL ? nl + 1 : r->end;
	*llen_r = (size_t)((nl != NULL ? nl : r->end) - r->p);
	r->lineno++;
	return true;
}

static int
next_vcf(struct bundle_reader *r, struct bundle_obj *obj, const char **error_r)
{
	const char *line, *next, *start = NULL;
	unsigned start_line = 0;
	size_t llen;

	while (next_line(r, &line, &next, &llen)) {
		if (line_is(line, llen, "BEGIN:VCARD") && start != NULL) {
			/* the next call starts at this BEGIN */
			r->lineno--;
			*error_r = arena_printf(r->obj_a,
						"%s:%u: vCard not terminated "
						"by END:VCARD (a BEGIN:VCARD "
						"follows at line %u)",
						r->name, start_line,
						r->lineno + 1);
			return -1;
		}
		r->p = next;
		if (line_is(line, llen, "BEGIN:VCARD")) {
			start = line;
			start_line = r->lineno;
		} else if (line_is(line, llen, "END:VCARD")) {
			if (start == NULL)
				return fail(r, error_r,
					    "END:VCARD without BEGIN");
			obj->cls = STORE_CLASS_CONTACTS;
			obj->skip = NULL;
			obj->len = (size_t)(next - start);
			obj->data = bytes_dup(r->obj_a, start, obj->len);
			obj->line = start_line;
			return 1;
		} else if (start == NULL && !line_is(line, llen, "")) {
			/* one report up to the next vCard */
			unsigned first = r->lineno, last = r->lineno;

			while (next_line(r, &line, &next, &llen)) {
				if (line_is(line, llen, "BEGIN:VCARD")) {
					r->lineno--;
					break;
				}
				r->p = next;
				if (!line_is(line, llen, ""))
					last = r->lineno;
			}
			*error_r = arena_printf(
				r->obj_a,
				last > first ? "%s:%u-%u: text outside "
					       "BEGIN:VCARD/END:VCARD"
					     : "%s:%u: text outside "
					       "BEGIN:VCARD/END:VCARD",
				r->name, first, last);
			return -1;
		}
	}
	r->done = true;
	if (start != NULL) {
		r->lineno = start_line;
		return fail(r, error_r, "vCard not terminated by END:VCARD");
	}
	return r->found == 0 ? none_found(r, error_r, "vCard") : 0;
}

/* Whether a line is an mbox separator: "From " with an address and a
 * ctime date (RFC 4155), e.g. "From a@b Mon Mar  4 10:00:00 2024". */
static bool
mbox_separator(const char *line, size_t len)
{
	bool colon = false, year = false;
	size_t digits = 0;

	if (len < 5 || strncmp(line, "From ", 5) != 0)
		return false;
	for (size_t i = 5; i < len; i++) {
		char c = line[i];

		if (c >= '0' && c <= '9') {
			digits++;
			if (digits == 4 &&
			    (i + 1 == len || line[i + 1] == ' ' ||
			     line[i + 1] == '\r' || line[i + 1] == '\n'))
				year = true;
		} else {
			if (c == ':' && digits >= 1 && digits <= 2 &&
			    i + 2 < len && line[i + 1] >= '0' &&
			    line[i + 1] <= '9')
				colon = true;
			digits = 0;
		}
	}
	return colon && year;
}

/* One message: from its "From " line to the next one (not consumed). */
static int
next_mbox(struct bundle_reader *r, struct bundle_obj *obj, const char **error_r)
{
	const char *line, *next, *q, *save;
	unsigned start = 0, save_line;
	size_t llen;
	struct buf msg;
	bool in_msg = false, after_blank = true;

	buf_init(&msg, BUNDLE_MAX_MESSAGE);
	for (;;) {
		save = r->p;
		save_line = r->lineno;
		if (!next_line(r, &line, &next, &llen)) {
			if (in_msg && msg.len > 0)
				break;
			buf_deinit(&msg);
			r->done = true;
			return r->found == 0 ? none_found(r, error_r, "message")
					     : 0;
		}
		r->p = next;
		if ((!in_msg || after_blank) && mbox_separator(line, llen)) {
			if (in_msg && msg.len > 0) {
				/* The next message: read it next time. The
				 * blank line before "From " separates
				 * messages; it is not part of this one. */
				r->p = save;
				r->lineno = save_line;
				if (msg.len >= 2 &&
				    msg.data[msg.len - 1] == '\n' &&
				    msg.data[msg.len - 2] == '\n')
					msg.len--;
				break;
			}
			in_msg = true;
			start = r->lineno;
			continue;
		}
		if (!in_msg) {
			if (!line_is(line, llen, "")) {
				buf_deinit(&msg);
				r->p = r->end;
				r->done = true;
				return fail(r, error_r,
					    "mbox does not start with a "
					    "'From ' line");
			}
			continue;
		}
		after_blank = line_is(line, llen, "");
		for (q = line; q < next && *q == '>'; q++)
			;
		if (q > line && next - q >= 5 && strncmp(q, "From ", 5) == 0)
			line++;
		buf_append(&msg, line, (size_t)(next - line));
	}
	obj->cls = STORE_CLASS_EMAIL;
	obj->skip = NULL;
	obj->data = bytes_dup(r->obj_a, (const char *)msg.data, msg.len);
	obj->len = msg.len;
	obj->line = start;
	buf_deinit(&msg);
	return 1;
}

static void
ical_free_cb(void *p)
{
	icalcomponent_free(p);
}

/* What libical said is wrong in a component (its X-LIC-ERROR), or NULL
 * when nothing is. */
static const char *
component_error(struct bundle_reader *r, icalcomponent *c)
{
	icalproperty *p;

	if (icalcomponent_count_errors(c) == 0)
		return NULL;
	for (p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
		const char *t = icalproperty_get_xlicerror(p);

		if (t != NULL)
			return arena_printf(r->obj_a, "malformed iCalendar: %s",
					    t);
	}
	return "malformed iCalendar";
}

/* --- .ics --- */

/* An .ics is read in two passes over the file, so that one of any size
 * is imported in memory that grows by a few dozen bytes an entry, not by
 * the file: the first notes where each calendar's properties, time zones
 * and entries are (and each entry's UID, as a hash); the second puts
 * each entry together with what it needs into a VCALENDAR of its own,
 * which libical then reads. An override (RECURRENCE-ID, RFC 5545
 * 3.8.4.4) goes with its series wherever in the calendar it is, which is
 * why the whole file is looked through first. */

enum ics_kind {
	ICS_EVENT,
	ICS_TODO,
	ICS_JOURNAL,
	ICS_FREEBUSY,
	ICS_ZONE,
	ICS_OTHER, /* a component easd neither imports nor reports */
};

static const char *const ics_kind_name[] = {
	[ICS_EVENT] = "VEVENT",	    [ICS_TODO] = "VTODO",
	[ICS_JOURNAL] = "VJOURNAL", [ICS_FREEBUSY] = "VFREEBUSY",
	[ICS_ZONE] = "VTIMEZONE",   [ICS_OTHER] = "",
};

/* Where something of the file is: an entry, a time zone or a property
 * line of its calendar (with its continuation lines). */
struct ics_span {
	size_t off, len;
	uint64_t uid_hash; /* entries: of the UID's value; 0 without one */
	size_t uid_off;	   /* the UID in ics_index.uids */
	size_t uid_len;
	unsigned line;
	unsigned cal; /* which VCALENDAR of the file, from 0 */
	unsigned char kind;
	bool override; /* has a RECURRENCE-ID */
	bool open;     /* the file ended before its END line */
};

struct ics_index {
	struct ics_span *entries, *zones, *props;
	size_t nentries, nzones, nprops;
	size_t entries_cap, zones_cap, props_cap;
	/* entries sorted by (cal, kind, uid_hash): overrides, and series */
	uint32_t *overrides, *series;
	size_t noverrides, nseries;
	unsigned ncals;
	size_t zone_next, prop_next; /* first of the current calendar's */
	/* the entries' UIDs one after the other: the second pass compares
	 * them without going back to the file */
	struct buf uids;
};

static void
ics_index_free(void *p)
{
	struct ics_index *x = p;

	free(x->entries);
	free(x->zones);
	free(x->props);
	free(x->overrides);
	free(x->series);
	buf_deinit(&x->uids);
}

static struct ics_span *
ics_push(struct ics_span **v, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

static enum ics_kind
ics_kind_of(const char *name, size_t len)
{
	for (size_t k = ICS_EVENT; k < ICS_OTHER; k++)
		if (line_is(name, len, ics_kind_name[k]))
			return (enum ics_kind)k;
	return ICS_OTHER;
}

/* Whether line (len bytes, no end-of-line) is "WHAT:..." in any case;
 * *name_r, *nlen_r: what follows the colon, trimmed. */
static bool
ics_begin_end(const char *line, size_t len, const char *what,
	      const char **name_r, size_t *nlen_r)
{
	size_t w = strlen(what);

	if (len <= w || strncasecmp(line, what, w) != 0)
		return false;
	*name_r = line + w;
	*nlen_r = len - w;
	return true;
}

/* Whether a content line is property name's ("NAME:" or "NAME;"). */
static bool
ics_is_prop(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 &&
	       (line[n] == ':' || line[n] == ';');
}

/* The unfolded value of property name among the entry's own lines (not
 * those of a VALARM in it), into b; false when it has none. */
static bool
ics_entry_prop(const char *p, size_t len, const char *name, struct buf *b)
{
	const char *end = p + len;
	int depth = 0;

	buf_reset(b);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t llen = (size_t)((nl != NULL ? nl : end) - p);
		const char *v;
		bool quoted = false;

		if (llen >= 6 && strncasecmp(p, "BEGIN:", 6) == 0)
			depth++;
		else if (llen >= 4 && strncasecmp(p, "END:", 4) == 0)
			depth--;
		else if (depth == 1 && ics_is_prop(p, llen, name)) {
			/* the value starts after the first colon outside a
			 * quoted parameter value */
			for (v = p + strlen(name); v < p + llen; v++) {
				if (*v == '"')
					quoted = !quoted;
				else if (*v == ':' && !quoted)
					break;
			}
			if (v >= p + llen)
				return false;
			v++;
			for (;;) {
				size_t n = (size_t)(p + llen - v);

				if (n > 0 && v[n - 1] == '\r')
					n--;
				buf_append(b, v, n);
				p = next;
				if (p >= end || (*p != ' ' && *p != '\t'))
					break;
				nl = memchr(p, '\n', (size_t)(end - p));
				next = nl != NULL ? nl + 1 : end;
				llen = (size_t)((nl != NULL ? nl : end) - p);
				v = p + 1;
			}
			return true;
		}
		p = next;
	}
	return false;
}

static uint64_t
ics_hash(const struct buf *b)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	for (size_t i = 0; i < b->len; i++)
		h = (h ^ b->data[i]) * 1099511628211u;
	return h == 0 ? 1 : h;
}

/* An entry just ended: its UID and whether it is an override. */
static void
ics_entry_done(struct ics_index *x, struct ics_span *e, const char *data,
	       struct buf *scratch)
{
	const char *p = data + e->off;

	if (e->kind != ICS_EVENT && e->kind != ICS_TODO)
		return;
	if (ics_entry_prop(p, e->len, "UID", scratch)) {
		e->uid_hash = ics_hash(scratch);
		e->uid_off = x->uids.len;
		e->uid_len = scratch->len;
		buf_append(&x->uids, scratch->data, scratch->len);
	}
	e->override = ics_entry_prop(p, e->len, "RECURRENCE-ID", scratch);
}

/* qsort_r's order of entry indices: by (calendar, kind, UID hash). */
static int
ics_key_cmp(const void *a, const void *b, void *ctx)
{
	const struct ics_index *ix = ctx;
	const struct ics_span *x = &ix->entries[*(const uint32_t *)a];
	const struct ics_span *y = &ix->entries[*(const uint32_t *)b];

	if (x->cal != y->cal)
		return x->cal < y->cal ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->uid_hash != y->uid_hash)
		return x->uid_hash < y->uid_hash ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* The first pass: every line once. */
static int
ics_index(struct bundle_reader *r, const char **error_r)
{
	struct ics_index *x = r->ics;
	struct ics_span *cur = NULL, *prop = NULL;
	const char *line, *next, *name;
	size_t llen, nlen;
	int depth = 0; /* 1 in a VCALENDAR, 2 in one of its components */
	bool in_cal = false;
	struct buf scratch;

	buf_init(&scratch, 0);
	while (next_line(r, &line, &next, &llen)) {
		size_t off = (size_t)(line - r->data);

		r->p = next;
		if (r->on_read != NULL &&
		    off / BUNDLE_READ_STEP !=
			    (size_t)(next - r->data) / BUNDLE_READ_STEP)
			r->on_read(r->on_read_ctx, (size_t)(next - r->data));
		if (prop != NULL && llen > 0 &&
		    (*line == ' ' || *line == '\t')) {
			prop->len = (size_t)(next - r->data) - prop->off;
			continue;
		}
		prop = NULL;
		if (ics_begin_end(line, llen, "BEGIN:", &name, &nlen)) {
			if (depth == 0 && line_is(name, nlen, "VCALENDAR")) {
				in_cal = true;
				x->zone_next = x->nzones;
				x->prop_next = x->nprops;
			} else if (depth == 1 && in_cal) {
				enum ics_kind k = ics_kind_of(name, nlen);

				cur = k == ICS_ZONE
					      ? ics_push(&x->zones, &x->nzones,
							 &x->zones_cap)
					      : ics_push(&x->entries,
							 &x->nentries,
							 &x->entries_cap);
				cur->off = off;
				cur->line = r->lineno;
				cur->cal = x->ncals;
				cur->kind = (unsigned char)k;
			}
			depth++;
		} else if (ics_begin_end(line, llen, "END:", &name, &nlen)) {
			if (depth > 0)
				depth--;
			if (depth == 1 && cur != NULL) {
				cur->len = (size_t)(next - r->data) - cur->off;
				ics_entry_done(x, cur, r->data, &scratch);
				cur = NULL;
			} else if (depth == 0 && in_cal) {
				in_cal = false;
				x->ncals++;
			}
		} else if (depth == 1 && in_cal &&
			   !ics_is_prop(line, llen, "VERSION") &&
			   !ics_is_prop(line, llen, "PRODID") &&
			   !line_is(line, llen, "")) {
			prop = ics_push(&x->props, &x->nprops, &x->props_cap);
			prop->off = off;
			prop->len = (size_t)(next - r->data) - off;
			prop->cal = x->ncals;
		}
	}
	if (cur != NULL) {
		cur->len = (size_t)(r->end - r->data) - cur->off;
		cur->open = true;
		if (cur->kind == ICS_ZONE)
			x->nzones--;
	}
	if (in_cal)
		x->ncals++;
	buf_deinit(&scratch);
	if (x->ncals == 0) {
		*error_r = arena_printf(r->obj_a, "%s: no VCALENDAR", r->name);
		return -1;
	}
	x->overrides = xmalloc((x->nentries + 1) * sizeof(*x->overrides));
	x->series = xmalloc((x->nentries + 1) * sizeof(*x->series));
	for (size_t i = 0; i < x->nentries; i++) {
		const struct ics_span *e = &x->entries[i];

		if ((e->kind != ICS_EVENT && e->kind != ICS_TODO) || e->open ||
		    e->uid_hash == 0)
			continue;
		if (e->override)
			x->overrides[x->noverrides++] = (uint32_t)i;
		else
			x->series[x->nseries++] = (uint32_t)i;
	}
	qsort_r(x->overrides, x->noverrides, sizeof(uint32_t), ics_key_cmp, x);
	qsort_r(x->series, x->nseries, sizeof(uint32_t), ics_key_cmp, x);
	return 0;
}

/* Whether two entries have the same UID: the same hash, and the same
 * text once unfolded. */
static bool
ics_same_uid(struct bundle_reader *r, const struct ics_span *e,
	     const struct ics_span *f)
{
	const uint8_t *uids = r->ics->uids.data;

	return e->uid_hash == f->uid_hash && e->uid_hash != 0 &&
	       e->uid_len == f->uid_len &&
	       (e->uid_len == 0 ||
		memcmp(uids + e->uid_off, uids + f->uid_off, e->uid_len) == 0);
}

/* The first of v (sorted) whose key is e's, or n. */
static size_t
ics_first_of(struct bundle_reader *r, const uint32_t *v, size_t n,
	     const struct ics_span *e)
{
	const struct ics_index *x = r->ics;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ics_span *m = &x->entries[v[mid]];
		int c = m->cal != e->cal     ? (m->cal < e->cal ? -1 : 1)
			: m->kind != e->kind ? (m->kind < e->kind ? -1 : 1)
			: m->uid_hash != e->uid_hash
				? (m->uid_hash < e->uid_hash ? -1 : 1)
				: 0;

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
ics_key_is(const struct ics_span *m, const struct ics_span *e)
{
	return m->cal == e->cal && m->kind == e->kind &&
	       m->uid_hash == e->uid_hash;
}

/* A span of the file, each line ended by CR LF whatever the file used
 * (RFC 5545 3.1). */
static void
ics_put(struct buf *b, const char *data, const struct ics_span *s)
{
	const char *p = data + s->off, *end = p + s->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t n = (size_t)((nl != NULL ? nl : end) - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		buf_append(b, p, n);
		buf_append(b, "\r\n", 2);
		p = next;
	}
}

/* The VCALENDAR of entry e: the calendar's properties (each once), its
 * time zones, e, and e's overrides when e is a series. */
static void
ics_assemble(struct bundle_reader *r, const struct ics_span *e, struct buf *b)
{
	const struct ics_index *x = r->ics;
	static const char head[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
				   "PRODID:-//easd//easctl import//EN\r\n";

	buf_append(b, head, sizeof(head) - 1);
	for (size_t i = 0; i < x->nprops; i++) {
		const struct ics_span *p = &x->props[i];
		bool again = false;

		if (p->cal != e->cal)
			continue;
		for (size_t j = 0; j < i && !again; j++)
			again = x->props[j].cal == p->cal &&
				x->props[j].len == p->len &&
				memcmp(r->data + x->props[j].off,
				       r->data + p->off, p->len) == 0;
		if (!again)
			ics_put(b, r->data, p);
	}
	for (size_t i = 0; i < x->nzones; i++)
		if (x->zones[i].cal == e->cal)
			ics_put(b, r->data, &x->zones[i]);
	ics_put(b, r->data, e);
	if (!e->override && e->uid_hash != 0)
		for (size_t i = ics_first_of(r, x->overrides, x->noverrides, e);
		     i < x->noverrides &&
		     ics_key_is(&x->entries[x->overrides[i]], e);
		     i++) {
			const struct ics_span *o = &x->entries[x->overrides[i]];

			if (ics_same_uid(r, e, o))
				ics_put(b, r->data, o);
		}
	buf_append(b, "END:VCALENDAR\r\n", 15);
}

/* Whether override e goes with a series of the calendar. */
static bool
ics_has_series(struct bundle_reader *r, const struct ics_span *e)
{
	const struct ics_index *x = r->ics;

	for (size_t i = ics_first_of(r, x->series, x->nseries, e);
	     i < x->nseries && ics_key_is(&x->entries[x->series[i]], e); i++)
		if (ics_same_uid(r, e, &x->entries[x->series[i]]))
			return true;
	return false;
}

static int
ics_skip(struct bundle_obj *obj, enum store_class cls, unsigned line,
	 const char *why)
{
	obj->cls = cls;
	obj->data = NULL;
	obj->len = 0;
	obj->line = line;
	obj->skip = why;
	return 1;
}

/* The second pass: the next entry as an object of its own. */
static int
next_ics(struct bundle_reader *r, struct bundle_obj *obj, const char **error_r)
{
	struct ics_index *x = r->ics;

	if (!r->indexed) {
		r->indexed = true;
		if (ics_index(r, error_r) < 0) {
			r->done = true;
			return -1;
		}
	}
	while (r->next < x->nentries) {
		const struct ics_span *e = &x->entries[r->next++];
		enum store_class cls = e->kind == ICS_EVENT
					       ? STORE_CLASS_CALENDAR
					       : STORE_CLASS_TASKS;
		icalcomponent *cal, *c;
		const char *bad = NULL;
		struct buf b;

		r->consumed = e->off;
		if (e->kind == ICS_JOURNAL)
			return ics_skip(obj, STORE_CLASS_NONE, e->line,
					"VJOURNAL: journal entries are not "
					"imported (no EAS class holds them)");
		if (e->kind == ICS_FREEBUSY)
			return ics_skip(obj, STORE_CLASS_NONE, e->line,
					"VFREEBUSY: free/busy information is "
					"not imported");
		if (e->kind == ICS_OTHER)
			continue;
		if (e->open)
			return ics_skip(
				obj, cls, e->line,
				arena_printf(r->obj_a,
					     "%s: not terminated by END:%s",
					     ics_kind_name[e->kind],
					     ics_kind_name[e->kind]));
		if (e->override && ics_has_series(r, e))
			continue; /* it went with its series */
		buf_init(&b, 0);
		ics_assemble(r, e, &b);
		/* libical reads it to tell what is wrong in it; what is
		 * imported is the text as the file has it */
		if (memchr(b.data, '\0', b.len) != NULL) {
			buf_deinit(&b);
			return ics_skip(obj, cls, e->line,
					arena_printf(r->obj_a,
						     "%s: a NUL byte in it",
						     ics_kind_name[e->kind]));
		}
		cal = icalparser_parse_string((const char *)b.data);
		if (cal != NULL)
			arena_add_cleanup(r->obj_a, ical_free_cb, cal);
		if (cal == NULL ||
		    icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
			bad = "malformed iCalendar";
		for (c = cal != NULL ? icalcomponent_get_first_component(
					       cal, ICAL_ANY_COMPONENT)
				     : NULL;
		     c != NULL && bad == NULL;
		     c = icalcomponent_get_next_component(cal,
							  ICAL_ANY_COMPONENT))
			if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT ||
			    icalcomponent_isa(c) == ICAL_VTODO_COMPONENT)
				bad = component_error(r, c);
		if (bad != NULL) {
			buf_deinit(&b);
			return ics_skip(obj, cls, e->line,
					arena_printf(r->obj_a, "%s: %s",
						     ics_kind_name[e->kind],
						     bad));
		}
		obj->cls = cls;
		obj->len = b.len;
		obj->data = bytes_dup(r->obj_a, (const char *)b.data, b.len);
		obj->line = e->line;
		obj->skip = NULL;
		buf_deinit(&b);
		return 1;
	}
	r->consumed = (size_t)(r->end - r->data);
	return 0;
}

struct bundle_reader *
bundle_reader_new(struct arena *a, enum bundle_kind kind, const char *name,
		  const char *data, size_t len, const char **error_r)
{
	struct bundle_reader *r = arena_new_struct(a, struct bundle_reader);

	r->a = a;
	r->obj_a = a;
	r->data = data;
	r->kind = kind;
	r->name = arena_strdup(a, name);
	r->p = data;
	r->end = data + len;
	if (kind == BUNDLE_VCF && len >= 3 && (unsigned char)data[0] == 0xef &&
	    (unsigned char)data[1] == 0xbb && (unsigned char)data[2] == 0xbf)
		r->p += 3;
	if (kind == BUNDLE_ICS) {
		if (!str_has_iprefix(skip_bom_ws(data), "BEGIN:")) {
			*error_r = arena_printf(a, "%s: not an iCalendar file",
						name);
			return NULL;
		}
		r->ics = arena_new_struct(a, struct ics_index);
		arena_add_cleanup(a, ics_index_free, r->ics);
	}
	return r;
}

void
bundle_reader_objects_in(struct bundle_reader *r, struct arena *a)
{
	r->obj_a = a;
}

void
bundle_reader_on_read(struct bundle_reader *r,
		      void (*fn)(void *ctx, size_t upto), void *ctx)
{
	r->on_read = fn;
	r->on_read_ctx = ctx;
}

size_t
bundle_reader_consumed(const struct bundle_reader *r)
{
	if (r->kind == BUNDLE_ICS)
		return r->consumed;
	if (r->kind != BUNDLE_VCF && r->kind != BUNDLE_MBOX)
		return 0;
	return (size_t)(r->p - r->data);
}

int
bundle_next(struct bundle_reader *r, struct bundle_obj *obj_r,
	    const char **error_r)
{
	int ret = 0;

	if (r->done && (r->kind == BUNDLE_VCF || r->kind == BUNDLE_MBOX))
		return 0;
	switch (r->kind) {
	case BUNDLE_VCF:
		ret = next_vcf(r, obj_r, error_r);
		break;
	case BUNDLE_MBOX:
		ret = next_mbox(r, obj_r, error_r);
		break;
	case BUNDLE_ICS:
		if (r->done)
			break;
		ret = next_ics(r, obj_r, error_r);
		if (ret == 0) {
			r->done = true;
			if (r->found == 0)
				ret = none_found(r, error_r, "VEVENT or VTODO");
		}
		break;
	case BUNDLE_EML:
		if (r->eml_done)
			break;
		r->eml_done = true;
		if (r->p == r->end) {
			*error_r =
				arena_printf(r->a, "%s: empty file", r->name);
			return -1;
		}
		obj_r->cls = STORE_CLASS_EMAIL;
		obj_r->data = r->p;
		obj_r->len = (size_t)(r->end - r->p);
		obj_r->line = 1;
		obj_r->skip = NULL;
		ret = 1;
		break;
	}
	if (ret > 0)
		r->found++;
	return ret;
}

/* --- writing --- */

void
bundle_writer_init(struct bundle_writer *w, enum store_class cls)
{
	memset(w, 0, sizeof(*w));
	w->cls = cls;
	buf_init(&w->out, 0);
	if (cls == STORE_CLASS_CALENDAR || cls == STORE_CLASS_TASKS) {
		icalcomponent *cal =
			icalcomponent_new(ICAL_VCALENDAR_COMPONENT);

		icalcomponent_add_property(cal,
					   icalproperty_new_version("2.0"));
		icalcomponent_add_property(
			cal,
			icalproperty_new_prodid("-//easd//easctl export//EN"));
		w->cal = cal;
		w->zones = g_hash_table_new_full(g_str_hash, g_str_equal, free,
						 NULL);
	}
}

/* The parts of a stored VCALENDAR at its top level, in order: each
 * property line (with its continuation lines) and each component (BEGIN
 * to END). -1 when text is no VCALENDAR. */
static int
cal_parts(const char *text, size_t len,
	  void (*fn)(void *ctx, bool comp, const char *p, size_t n), void *ctx)
{
	const char *p = text, *end = text + len, *start = NULL;
	int depth = 0;

	if (!str_has_iprefix(skip_bom_ws(text), "BEGIN:VCALENDAR"))
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t llen = (size_t)((nl != NULL ? nl : end) - p);

		if (llen >= 6 && strncasecmp(p, "BEGIN:", 6) == 0) {
			if (++depth == 2)
				start = p;
		} else if (llen >= 4 && strncasecmp(p, "END:", 4) == 0) {
			if (depth-- == 2 && start != NULL)
				fn(ctx, true, start, (size_t)(next - start));
		} else if (depth == 1 && llen > 0 && *p != ' ' && *p != '\t') {
			const char *q = next;

			while (q < end && (*q == ' ' || *q == '\t')) {
				nl = memchr(q, '\n', (size_t)(end - q));
				q = nl != NULL ? nl + 1 : end;
			}
			fn(ctx, false, p, (size_t)(q - p));
			next = q;
		}
		p = next;
	}
	return 0;
}

/* A property line of a calendar noted for the export's header: each
 * kind and value once, VERSION and PRODID being the export's own. */
static void
note_cb(void *ctx, bool comp, const char *p, size_t n)
{
	icalcomponent *cal = ctx;
	struct buf line;
	icalproperty *prop, *q;
	const char *v;

	if (comp)
		return;
	buf_init(&line, 0);
	for (const char *end = p + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t k = (size_t)((nl != NULL ? nl : end) - p);

		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (line.len > 0 && k > 0) /* a continuation: its blank goes */
			buf_append(&line, p + 1, k - 1);
		else
			buf_append(&line, p, k);
		p = next;
	}
	prop = line.len > 0 ? icalproperty_new_from_string((char *)line.data)
			    : NULL;
	buf_deinit(&line);
	if (prop == NULL)
		return;
	v = icalproperty_get_value_as_string(prop);
	for (q = icalcomponent_get_first_property(cal, icalproperty_isa(prop));
	     q != NULL;
	     q = icalcomponent_get_next_property(cal, icalproperty_isa(prop))) {
		const char *w = icalproperty_get_value_as_string(q);

		if (icalproperty_isa(prop) == ICAL_VERSION_PROPERTY ||
		    icalproperty_isa(prop) == ICAL_PRODID_PROPERTY ||
		    (v != NULL && w != NULL && strcmp(v, w) == 0)) {
			icalproperty_free(prop);
			return;
		}
	}
	icalcomponent_add_property(cal, prop);
}

int
bundle_writer_note(struct bundle_writer *w, const char *text, size_t len,
		   const char **error_r)
{
	if (w->cal == NULL)
		return 0;
	if (cal_parts(text, len, note_cb, w->cal) < 0) {
		*error_r = "stored data is not a VCALENDAR";
		return -1;
	}
	return 0;
}

bool
bundle_writer_notes(const struct bundle_writer *w)
{
	return w->cal != NULL;
}

/* The header, once: BEGIN:VCALENDAR and the noted properties. */
static void
cal_start(struct bundle_writer *w)
{
	char *text;
	const char *end;

	if (w->started)
		return;
	w->started = true;
	text = icalcomponent_as_ical_string_r(w->cal);
	if (text == NULL)
		return;
	/* all but its END line */
	end = strstr(text, "END:VCALENDAR");
	buf_append(&w->out, text,
		   end != NULL ? (size_t)(end - text) : strlen(text));
	free(text);
}

/* A component of a stored calendar into the export; a VTIMEZONE once a
 * TZID. */
static void
add_cb(void *ctx, bool comp, const char *p, size_t n)
{
	struct bundle_writer *w = ctx;

	if (!comp)
		return;
	if (n >= 15 && strncasecmp(p, "BEGIN:VTIMEZONE", 15) == 0) {
		struct buf tzid;

		buf_init(&tzid, 0);
		if (ics_entry_prop(p, n, "TZID", &tzid)) {
			char *id = xstrndup((const char *)tzid.data, tzid.len);

			if (g_hash_table_contains(w->zones, id)) {
				free(id);
				buf_deinit(&tzid);
				return;
			}
			g_hash_table_add(w->zones, id);
		}
		buf_deinit(&tzid);
	}
	buf_append(&w->out, p, n);
	if (n == 0 || p[n - 1] != '\n')
		buf_append(&w->out, "\r\n", 2);
}

static void
mbox_write(struct buf *b, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	buf_puts(b, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		const char *q = p;

		while (q < next && *q == '>')
			q++;
		if (next - q >= 5 && strncmp(q, "From ", 5) == 0)
			buf_putc(b, '>');
		buf_append(b, p, (size_t)(next - p));
		p = next;
	}
	if (len == 0 || data[len - 1] != '\n')
		buf_putc(b, '\n');
	buf_putc(b, '\n');
}

int
bundle_writer_add(struct bundle_writer *w, struct arena *a, const char *text,
		  size_t len, const char **error_r)
{
	(void)a;
	w->count++;
	switch (w->cls) {
	case STORE_CLASS_CONTACTS:
		buf_append(&w->out, text, len);
		if (len > 0 && text[len - 1] != '\n')
			buf_puts(&w->out, "\r\n");
		break;
	case STORE_CLASS_CALENDAR:
	case STORE_CLASS_TASKS:
		cal_start(w);
		if (cal_parts(text, len, add_cb, w) < 0) {
			*error_r = "stored data is not a VCALENDAR";
			return -1;
		}
		break;
	case STORE_CLASS_NOTES:
		if (w->count > 1)
			buf_puts(&w->out, "-- \n");
		buf_append(&w->out, text, len);
		if (len > 0 && text[len - 1] != '\n')
			buf_putc(&w->out, '\n');
		break;
	default:
		mbox_write(&w->out, text, len);
		break;
	}
	return 0;
}

void
bundle_writer_finish(struct bundle_writer *w)
{
	if (w->cal == NULL)
		return;
	cal_start(w);
	buf_puts(&w->out, "END:VCALENDAR\r\n");
}

void
bundle_writer_deinit(struct bundle_writer *w)
{
	if (w->cal != NULL)
		icalcomponent_free(w->cal);
	if (w->zones != NULL)
		g_hash_table_destroy(w->zones);
	w->cal = NULL;
	w->zones = NULL;
	buf_deinit(&w->out);
}
