/* Files that hold many objects: .vcf (vCards), .ics (VCALENDARs with
 * VEVENTs and VTODOs), mbox (mboxrd) and a lone .eml. A reader splits one
 * for import, one object at a time; a writer merges items' standard text
 * into one file for export. Nothing here touches the store. */
#ifndef EASD_BUNDLE_H
#define EASD_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "store.h"

enum bundle_kind {
	BUNDLE_VCF,
	BUNDLE_ICS,
	BUNDLE_EML,
	BUNDLE_MBOX,
};

/* The kind of a file from its name, else from how its content starts. */
enum bundle_kind bundle_kind_of(const char *name, const char *data);

struct bundle_obj {
	enum store_class cls;
	const char *data; /* one standard object, NUL terminated */
	size_t len;
	unsigned line; /* where it starts in the file; 0 when not known */
	/* Set when the file holds something here that is no item easd
	 * imports (a VJOURNAL, a VFREEBUSY, a component libical found
	 * errors in): why, for the import's report. data is then NULL. */
	const char *skip;
};

struct bundle_reader;

/* A reader over data (NUL terminated, len bytes) of the given kind; name
 * is used in error texts ("name:line: ..."). Everything lives in a.
 * Returns NULL with *error_r when the file as a whole is unreadable (an
 * .ics that does not parse). */
struct bundle_reader *bundle_reader_new(struct arena *a, enum bundle_kind kind,
					const char *name, const char *data,
					size_t len, const char **error_r);
/* The next object: 1 with *obj_r (possibly a skipped one, see skip), 0
 * at the end, -1 with *error_r (in the arena, naming the file and line)
 * when the file is malformed there or holds no object at all. After -1
 * reading may go on: the reader has moved past the bad part (and returns
 * 0 once nothing can be read any more). */
int bundle_next(struct bundle_reader *r, struct bundle_obj *obj_r,
		const char **error_r);

/* Objects and error texts from bundle_next in a from now on (vcf and
 * mbox; an .ics is split when the reader is made): a caller that resets a
 * after each object reads a file of any size in bounded memory. */
void bundle_reader_objects_in(struct bundle_reader *r, struct arena *a);
/* Bytes of the file behind the reader (vcf and mbox; 0 for the others):
 * it never looks at them again. */
size_t bundle_reader_consumed(const struct bundle_reader *r);

/* Merging for export: vCards one after the other, one VCALENDAR with
 * every event or task (time zones once), mboxrd for mail, notes
 * separated by "-- " lines. */
struct bundle_writer {
	enum store_class cls;
	struct buf out; /* the file, complete after bundle_writer_finish */
	void *cal;	/* icalcomponent * for calendar and tasks */
	size_t count;	/* objects added */
};

void bundle_writer_init(struct bundle_writer *w, enum store_class cls);
/* Add one item's standard text. Returns 0, or -1 with *error_r (in a)
 * when a stored iCalendar object cannot be read. */
int bundle_writer_add(struct bundle_writer *w, struct arena *a,
		      const char *text, size_t len, const char **error_r);
void bundle_writer_finish(struct bundle_writer *w);
void bundle_writer_deinit(struct bundle_writer *w);

#endif
