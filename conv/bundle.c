/* Splitting .vcf/.ics/mbox files into objects and merging objects into
 * them. vCards split at BEGIN:VCARD / END:VCARD lines (RFC 6350 3.1);
 * every VEVENT/VTODO of an .ics becomes its own VCALENDAR with the time
 * zones, a recurring series and its RECURRENCE-ID overrides kept together
 * (RFC 5545 3.8.4.4), and journal and free/busy entries are reported, not
 * dropped; mbox messages start at "From " separator lines (the first line
 * or after an empty one, with a date) and ">From " lines lose one '>'
 * (mboxrd; for mboxo the same, as ">>From" never comes from quoting). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "bundle.h"
#include "util.h"

/* Largest message of an mbox (the whole file is already in memory). */
#define BUNDLE_MAX_MESSAGE (256u * 1024 * 1024)

struct bundle_reader {
	struct arena *a;
	struct arena *obj_a; /* what bundle_next returns: a unless told */
	const char *data;    /* the file */
	enum bundle_kind kind;
	const char *name;
	const char *p, *end; /* vcf, mbox: the rest of the file */
	unsigned lineno;
	size_t found;
	/* ics: the objects, made when the reader is created */
	struct bundle_obj *objs;
	size_t nobjs, next;
	unsigned *comp_lines; /* where each top-level component begins */
	size_t ncomp_lines, comp_next;
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

static bool
is_override(icalcomponent *c)
{
	return icalcomponent_get_first_property(
		       c, ICAL_RECURRENCEID_PROPERTY) != NULL;
}

static bool
same_uid(icalcomponent *x, icalcomponent *y)
{
	const char *u = icalcomponent_get_uid(x), *v = icalcomponent_get_uid(y);

	return u != NULL && v != NULL && strcmp(u, v) == 0;
}

static void
push_obj(struct bundle_reader *r, size_t *cap, enum store_class cls,
	 const char *text, unsigned line, const char *skip)
{
	r->objs = arena_grow(r->a, r->objs, r->nobjs, cap, sizeof(*r->objs));
	r->objs[r->nobjs].cls = cls;
	r->objs[r->nobjs].data = text != NULL ? arena_strdup(r->a, text) : NULL;
	r->objs[r->nobjs].len = text != NULL ? strlen(text) : 0;
	r->objs[r->nobjs].line = line;
	r->objs[r->nobjs].skip = skip;
	r->nobjs++;
}

/* The kinds of component that are entries of a calendar (what a line
 * number is kept for). */
static bool
is_entry(icalcomponent_kind k)
{
	return k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT ||
	       k == ICAL_VJOURNAL_COMPONENT || k == ICAL_VFREEBUSY_COMPONENT;
}

/* Where each entry begins, in the order libical gives them (the order
 * of the file): BEGIN:VEVENT, VTODO, VJOURNAL, VFREEBUSY lines. */
static void
entry_lines(struct bundle_reader *r, const char *data)
{
	static const char *const begins[] = {"BEGIN:VEVENT", "BEGIN:VTODO",
					     "BEGIN:VJOURNAL",
					     "BEGIN:VFREEBUSY"};
	size_t cap = 0;
	unsigned lineno = 0;

	for (const char *p = data; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		lineno++;
		for (size_t i = 0; i < N_ELEMENTS(begins); i++)
			if (line_is(p, len, begins[i])) {
				r->comp_lines = arena_grow(
					r->a, r->comp_lines, r->ncomp_lines,
					&cap, sizeof(*r->comp_lines));
				r->comp_lines[r->ncomp_lines++] = lineno;
			}
		p = nl != NULL ? nl + 1 : p + len;
	}
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
			return arena_printf(r->a, "malformed iCalendar: %s", t);
	}
	return "malformed iCalendar";
}

/* The calendar's own properties but VERSION and PRODID (CALSCALE,
 * METHOD, X-WR-CALNAME...) go with each of its objects, once. */
static void
copy_cal_props(icalcomponent *from, icalcomponent *to)
{
	icalproperty *p, *q;

	for (p = icalcomponent_get_first_property(from, ICAL_ANY_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(from, ICAL_ANY_PROPERTY)) {
		icalproperty_kind k = icalproperty_isa(p);
		const char *v = icalproperty_get_value_as_string(p);
		bool have = false;

		if (k == ICAL_VERSION_PROPERTY || k == ICAL_PRODID_PROPERTY)
			continue;
		for (q = icalcomponent_get_first_property(to, k);
		     q != NULL && !have;
		     q = icalcomponent_get_next_property(to, k)) {
			const char *w = icalproperty_get_value_as_string(q);

			have = v != NULL && w != NULL && strcmp(v, w) == 0;
		}
		if (!have)
			icalcomponent_add_property(to,
						   icalproperty_new_clone(p));
	}
}

static int
split_ics_cal(struct bundle_reader *r, icalcomponent *cal, size_t *objcap,
	      const char **error_r)
{
	icalcomponent **comps, *c;
	unsigned *lines;
	size_t n = 0, cap = 0;

	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT))
		cap++;
	comps = arena_alloc(r->a, (cap + 1) * sizeof(*comps));
	lines = arena_alloc(r->a, (cap + 1) * sizeof(*lines));
	for (c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (!is_entry(icalcomponent_isa(c)))
			continue;
		lines[n] = r->comp_next < r->ncomp_lines
				   ? r->comp_lines[r->comp_next++]
				   : 0;
		comps[n++] = c;
	}
	for (size_t i = 0; i < n; i++) {
		icalcomponent *one, *tz;
		icalcomponent_kind kind = icalcomponent_isa(comps[i]);
		bool has_master = false;
		const char *bad = component_error(r, comps[i]);
		char *text;

		if (kind == ICAL_VJOURNAL_COMPONENT) {
			push_obj(r, objcap, STORE_CLASS_NONE, NULL, lines[i],
				 "VJOURNAL: journal entries are not "
				 "imported (no EAS class holds them)");
			continue;
		}
		if (kind == ICAL_VFREEBUSY_COMPONENT) {
			push_obj(r, objcap, STORE_CLASS_NONE, NULL, lines[i],
				 "VFREEBUSY: free/busy information is not "
				 "imported");
			continue;
		}
		if (is_override(comps[i])) {
			/* Goes with its master when there is one. */
			for (size_t j = 0; j < n; j++)
				if (icalcomponent_isa(comps[j]) == kind &&
				    !is_override(comps[j]) &&
				    same_uid(comps[i], comps[j]))
					has_master = true;
			if (has_master)
				continue;
		} else {
			for (size_t j = 0; j < n && bad == NULL; j++)
				if (j != i && is_override(comps[j]) &&
				    same_uid(comps[i], comps[j]))
					bad = component_error(r, comps[j]);
		}
		if (bad != NULL) {
			push_obj(r, objcap,
				 kind == ICAL_VEVENT_COMPONENT
					 ? STORE_CLASS_CALENDAR
					 : STORE_CLASS_TASKS,
				 NULL, lines[i],
				 arena_printf(r->a, "%s: %s",
					      kind == ICAL_VEVENT_COMPONENT
						      ? "VEVENT"
						      : "VTODO",
					      bad));
			continue;
		}
		one = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
		arena_add_cleanup(r->a, ical_free_cb, one);
		icalcomponent_add_property(one,
					   icalproperty_new_version("2.0"));
		icalcomponent_add_property(
			one,
			icalproperty_new_prodid("-//easd//easctl import//EN"));
		copy_cal_props(cal, one);
		for (tz = icalcomponent_get_first_component(
			     cal, ICAL_VTIMEZONE_COMPONENT);
		     tz != NULL; tz = icalcomponent_get_next_component(
					 cal, ICAL_VTIMEZONE_COMPONENT))
			icalcomponent_add_component(
				one, icalcomponent_new_clone(tz));
		icalcomponent_add_component(one,
					    icalcomponent_new_clone(comps[i]));
		if (!is_override(comps[i]))
			for (size_t j = 0; j < n; j++)
				if (j != i && is_override(comps[j]) &&
				    same_uid(comps[i], comps[j]))
					icalcomponent_add_component(
						one, icalcomponent_new_clone(
							     comps[j]));
		text = icalcomponent_as_ical_string_r(one);
		if (text == NULL) {
			*error_r = arena_printf(r->a,
						"%s: cannot serialize a "
						"component",
						r->name);
			return -1;
		}
		push_obj(r, objcap,
			 kind == ICAL_VEVENT_COMPONENT ? STORE_CLASS_CALENDAR
						       : STORE_CLASS_TASKS,
			 text, lines[i], NULL);
		free(text);
	}
	return 0;
}

static int
split_ics(struct bundle_reader *r, const char *data, const char **error_r)
{
	icalcomponent *root, *cal;
	size_t cap = 0;

	root = icalparser_parse_string(data);
	if (root == NULL) {
		*error_r = arena_printf(r->a, "%s: not an iCalendar file",
					r->name);
		return -1;
	}
	arena_add_cleanup(r->a, ical_free_cb, root);
	if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT &&
	    icalcomponent_isa(root) != ICAL_XROOT_COMPONENT) {
		*error_r = arena_printf(r->a, "%s: no VCALENDAR", r->name);
		return -1;
	}
	/* errors are told per entry: a bad one does not spoil the rest */
	entry_lines(r, data);
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT)
		return split_ics_cal(r, root, &cap, error_r);
	for (cal = icalcomponent_get_first_component(root,
						     ICAL_VCALENDAR_COMPONENT);
	     cal != NULL; cal = icalcomponent_get_next_component(
				  root, ICAL_VCALENDAR_COMPONENT))
		if (split_ics_cal(r, cal, &cap, error_r) < 0)
			return -1;
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
	if (kind == BUNDLE_ICS && split_ics(r, data, error_r) < 0)
		return NULL;
	return r;
}

void
bundle_reader_objects_in(struct bundle_reader *r, struct arena *a)
{
	r->obj_a = a;
}

size_t
bundle_reader_consumed(const struct bundle_reader *r)
{
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
		if (r->next < r->nobjs) {
			*obj_r = r->objs[r->next++];
			ret = 1;
		} else if (r->found == 0 && !r->done) {
			r->done = true;
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
	}
}

/* Whether out already has a VTIMEZONE with tzid. */
static bool
has_zone(icalcomponent *out, const char *tzid)
{
	icalcomponent *t;

	for (t = icalcomponent_get_first_component(out,
						   ICAL_VTIMEZONE_COMPONENT);
	     t != NULL; t = icalcomponent_get_next_component(
				out, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *tp =
			icalcomponent_get_first_property(t, ICAL_TZID_PROPERTY);

		if (tp != NULL && strcmp(icalproperty_get_tzid(tp), tzid) == 0)
			return true;
	}
	return false;
}

static int
ics_merge(struct arena *a, const char *text, icalcomponent *out,
	  const char **error_r)
{
	icalcomponent *in = icalparser_parse_string(text), *c, *next;

	if (in == NULL) {
		*error_r = "stored iCalendar unreadable";
		return -1;
	}
	arena_add_cleanup(a, ical_free_cb, in);
	if (icalcomponent_isa(in) != ICAL_VCALENDAR_COMPONENT) {
		*error_r = "stored data is not a VCALENDAR";
		return -1;
	}
	copy_cal_props(in, out);
	for (c = icalcomponent_get_first_component(in, ICAL_ANY_COMPONENT);
	     c != NULL; c = next) {
		next = icalcomponent_get_next_component(in, ICAL_ANY_COMPONENT);
		if (icalcomponent_isa(c) == ICAL_VTIMEZONE_COMPONENT) {
			icalproperty *p = icalcomponent_get_first_property(
				c, ICAL_TZID_PROPERTY);
			const char *tzid =
				p != NULL ? icalproperty_get_tzid(p) : NULL;

			if (tzid != NULL && has_zone(out, tzid))
				continue;
		}
		icalcomponent_add_component(out, icalcomponent_new_clone(c));
	}
	return 0;
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
	w->count++;
	switch (w->cls) {
	case STORE_CLASS_CONTACTS:
		buf_append(&w->out, text, len);
		if (len > 0 && text[len - 1] != '\n')
			buf_puts(&w->out, "\r\n");
		break;
	case STORE_CLASS_CALENDAR:
	case STORE_CLASS_TASKS:
		return ics_merge(a, arena_strndup(a, text, len), w->cal,
				 error_r);
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
	char *text;

	if (w->cal == NULL)
		return;
	text = icalcomponent_as_ical_string_r(w->cal);
	if (text != NULL) {
		buf_puts(&w->out, text);
		free(text);
	}
}

void
bundle_writer_deinit(struct bundle_writer *w)
{
	if (w->cal != NULL)
		icalcomponent_free(w->cal);
	w->cal = NULL;
	buf_deinit(&w->out);
}
