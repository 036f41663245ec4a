/* vCard text, lexically: a reader of content lines (RFC 2426 3.0, RFC 6350
 * 4.0 and the 2.1 forms phones still export: bare parameters, quoted-
 * printable with soft line breaks) and a writer that escapes and folds.
 * Nothing here knows EAS: conv-contact.c maps the lines to Contacts.
 *
 * Values point into the input (or into the arena when a line had to be
 * unfolded or decoded) and stay escaped; vcard_unescape() and
 * vcard_split() undo the RFC 2426 5.8.4 escapes. */
#ifndef EASD_VCARD_H
#define EASD_VCARD_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"

/* Parameters of one line kept for the caller; more are skipped. */
#define VCARD_MAX_PARAMS 16

struct vcard_param {
	const char *name; /* "TYPE", or the bare 2.1 form "WORK" */
	size_t nlen;
	const char *value; /* NULL for a bare parameter; quotes removed */
	size_t vlen;
};

struct vcard_line {
	const char *group; /* "item1" of item1.TEL; NULL when none */
	size_t glen;
	const char *name;
	size_t nlen;
	struct vcard_param params[VCARD_MAX_PARAMS];
	size_t nparams;
	bool b64;	   /* ENCODING=b / BASE64 (the value is left as is) */
	const char *value; /* raw (escaped), quoted-printable decoded */
	size_t vlen;
	const char *raw; /* the whole logical line, unfolded */
	size_t raw_len;
	const char *src; /* the line as it is in the input: folds, soft
			    breaks and the final line end included */
	size_t src_len;
};

struct vcard_reader {
	struct arena *a;
	const char *p, *end;
	size_t lines; /* content lines read so far */
};

void vcard_reader_init(struct vcard_reader *r, struct arena *a,
		       const char *data, size_t len);
/* The next non-empty content line. Returns 1 with *l filled, 0 at the
 * end of the input, -1 for a line without ':' (l->raw is set; the
 * caller decides whether that is fatal, reading may go on). */
int vcard_next(struct vcard_reader *r, struct vcard_line *l);

/* Case-insensitive comparison of a counted name with a literal. */
bool vcard_name_is(const char *s, size_t len, const char *lit);
/* Whether the line is NAME (case-insensitive). */
bool vcard_line_is(const struct vcard_line *l, const char *name);
/* The first parameter called name, or NULL. */
const struct vcard_param *vcard_param(const struct vcard_line *l,
				      const char *name);

/* Unescape a text value up to an unescaped stop character (';' or ',', 0
 * for none) into a new arena string; "\n" becomes CR LF unless lf (then
 * LF). Returns the number of input bytes used. */
size_t vcard_unescape(struct arena *a, const char *s, size_t len, char stop,
		      bool lf, const char **r, size_t *rlen);

struct vcard_str {
	const char *s;
	size_t len;
};
/* Split a structured value at sep into at most max unescaped parts;
 * returns the count. */
size_t vcard_split(struct arena *a, const char *value, size_t vlen, char sep,
		   bool lf, struct vcard_str *parts, size_t max);

/* --- writing --- */

struct vcard_writer {
	struct buf b;
	size_t line_start;
};

void vcard_writer_init(struct vcard_writer *w);
void vcard_writer_deinit(struct vcard_writer *w);
/* Start a line with its name (and any parameters the caller appends to
 * w->b before the ':'). */
void vcard_begin(struct vcard_writer *w, const char *name);
/* Append text escaped per RFC 2426 5.8.4 (CR LF and lone LF as "\n"). */
void vcard_put_text(struct vcard_writer *w, const char *s, size_t len);
/* The same escaping into any buffer. */
void vcard_escape(struct buf *b, const char *s, size_t len);
/* End the line: fold at 75 octets without splitting a UTF-8 sequence
 * (RFC 2426 2.6), then CR LF. */
void vcard_end(struct vcard_writer *w);
/* The text written so far, copied into the arena (NUL terminated). */
const char *vcard_writer_finish(struct vcard_writer *w, struct arena *a,
				size_t *len_r);

#endif
