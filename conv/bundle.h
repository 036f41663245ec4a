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
 * .ics that does not start with a BEGIN line). */
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

/* Objects and error texts from bundle_next in a from now on: a caller
 * that resets a after each object reads a file of any size in bounded
 * memory. */
void bundle_reader_objects_in(struct bundle_reader *r, struct arena *a);
/* How far the reader is in the file: it needs nothing before that
 * offset for now, so a caller that mapped the file may hand those pages
 * back. (An .ics reader may come back for a recurrence override further
 * up, which a mapping reads again from the file.) 0 for an .eml. */
size_t bundle_reader_consumed(const struct bundle_reader *r);
/* fn(ctx, upto) is called every megabyte of an .ics's first pass, which
 * reads the whole file in one bundle_next: the same as consumed. */
void bundle_reader_on_read(struct bundle_reader *r,
			   void (*fn)(void *ctx, size_t upto), void *ctx);

/* Merging for export: vCards one after the other, one VCALENDAR with
 * every event or task (time zones once), mboxrd for mail, notes
 * separated by "-- " lines. out holds what is written so far: a caller
 * may write it out and reset it after every add, and so export a folder
 * of any size in bounded memory. */
struct bundle_writer {
	enum store_class cls;
	struct buf out;
	void *cal;   /* icalcomponent *: the header of calendar and tasks */
	void *zones; /* GHashTable *: the TZIDs written */
	bool started;
	size_t count; /* objects added */
};

void bundle_writer_init(struct bundle_writer *w, enum store_class cls);
/* Whether the writer wants every item's text through bundle_writer_note
 * before the first add (a calendar, whose properties come first). */
bool bundle_writer_notes(const struct bundle_writer *w);
/* A first look at one item's standard text: what the file's header needs
 * of it. Returns 0, or -1 with *error_r (static) when a stored iCalendar
 * object is no VCALENDAR. */
int bundle_writer_note(struct bundle_writer *w, const char *text, size_t len,
		       const char **error_r);
/* Add one item's standard text. Returns 0, or -1 with *error_r (static)
 * when a stored iCalendar object is no VCALENDAR. */
int bundle_writer_add(struct bundle_writer *w, struct arena *a,
		      const char *text, size_t len, const char **error_r);
/* The end of the file (a calendar's END:VCALENDAR) into out. */
void bundle_writer_finish(struct bundle_writer *w);
void bundle_writer_deinit(struct bundle_writer *w);

#endif
