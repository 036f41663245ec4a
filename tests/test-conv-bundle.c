/* Splitting an .ics for import and merging a calendar for export
 * (conv/bundle.c), and the time zones shared between calendars
 * (conv/ical.c): what `easctl import` and `export` make of a calendar
 * file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "ical.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

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

#define ZONE                                                                   \
	"BEGIN:VTIMEZONE\r\nTZID:Custom/Zone\r\nBEGIN:STANDARD\r\n"            \
	"DTSTART:16011028T030000\r\n"                                          \
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\n"    \
	"TZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"               \
	"DTSTART:16010325T020000\r\n"                                          \
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\n"     \
	"TZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"

/* Every object of an .ics, and the lines and reasons of those skipped. */
struct split {
	size_t n;
	struct bundle_obj objs[16];
	const char *errors[8];
	size_t nerrors;
};

static void
split(const char *ics, struct split *out)
{
	struct bundle_reader *r;
	const char *error = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	r = bundle_reader_new(A, BUNDLE_ICS, "t.ics", ics, strlen(ics), &error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	while ((rc = bundle_next(r, &out->objs[out->n], &error)) != 0) {
		if (rc < 0) {
			if (out->nerrors < N_ELEMENTS(out->errors))
				out->errors[out->nerrors++] = error;
			continue;
		}
		CU_ASSERT_FATAL(++out->n < N_ELEMENTS(out->objs));
	}
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* A changed occurrence that comes after other entries, even at the end of
 * the file, goes with its series (the UID folded across two lines there,
 * and the UID of an alarm inside an entry is no UID of the entry); one
 * whose series is not in the file comes alone; each object carries the
 * calendar's properties and zones. */
static void
test_overrides_anywhere(void)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
		"X-WR-CALNAME:Team\r\n" ZONE
		"BEGIN:VEVENT\r\nUID:series-1\r\nDTSTAMP:20240101T000000Z\r\n"
		"DTSTART;TZID=Custom/Zone:20240105T090000\r\n"
		"RRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Standup\r\n"
		"BEGIN:VALARM\r\nUID:alarm-1\r\nACTION:DISPLAY\r\n"
		"TRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
		"BEGIN:VTODO\r\nUID:task-1\r\nSUMMARY:A task\r\nEND:VTODO\r\n"
		"BEGIN:VEVENT\r\nUID:orphan\r\nDTSTAMP:20240101T000000Z\r\n"
		"RECURRENCE-ID:20240301T090000Z\r\n"
		"DTSTART:20240301T100000Z\r\nSUMMARY:Alone\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:seri\r\n "
		"es-1\r\nDTSTAMP:20240101T000000Z\r\n"
		"RECURRENCE-ID;TZID=Custom/Zone:20240107T090000\r\n"
		"DTSTART;TZID=Custom/Zone:20240107T100000\r\n"
		"SUMMARY:Moved standup\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:alarm-1\r\nDTSTAMP:20240101T000000Z\r\n"
		"RECURRENCE-ID:20240106T080000Z\r\n"
		"DTSTART:20240106T080000Z\r\nSUMMARY:Not the alarm's\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	struct split s;

	split(ics, &s);
	CU_ASSERT_EQUAL_FATAL(s.n, 4);
	CU_ASSERT_EQUAL(s.nerrors, 0);
	/* the series, with its moved occurrence */
	CU_ASSERT_EQUAL(s.objs[0].cls, STORE_CLASS_CALENDAR);
	CU_ASSERT_EQUAL(s.objs[0].line, 20);
	CU_ASSERT_EQUAL(count(s.objs[0].data, "BEGIN:VEVENT"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[0].data, "Moved standup"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[0].data, "X-WR-CALNAME:Team"));
	CU_ASSERT_EQUAL(count(s.objs[0].data, "BEGIN:VTIMEZONE"), 1);
	CU_ASSERT_EQUAL(count(s.objs[0].data, "BEGIN:VCALENDAR"), 1);
	CU_ASSERT_EQUAL(s.objs[1].cls, STORE_CLASS_TASKS);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[1].data, "A task"));
	/* the occurrences whose series is not in the file, alone */
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[2].data, "Alone"));
	CU_ASSERT_EQUAL(count(s.objs[2].data, "BEGIN:VEVENT"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[3].data, "Not the alarm's"));
	CU_ASSERT_EQUAL(count(s.objs[3].data, "BEGIN:VEVENT"), 1);
	for (size_t i = 0; i < s.n; i++)
		CU_ASSERT_PTR_NULL(s.objs[i].skip);
}

/* Two calendars in one file: each object has its own calendar's zone and
 * properties, and a series is not joined by an occurrence of the other
 * calendar. An entry the file ends in the middle of is told. */
static void
test_two_calendars_and_truncation(void)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:One\r\n" ZONE
		"BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20240105T090000Z\r\n"
		"RRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:First\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n"
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Two\r\n"
		"BEGIN:VEVENT\r\nUID:u\r\nRECURRENCE-ID:20240106T090000Z\r\n"
		"DTSTART:20240106T100000Z\r\nSUMMARY:Second\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:cut\r\nDTSTART:20240106T100000Z\r\n"
		"SUMMARY:Cut";
	struct split s;

	split(ics, &s);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[0].data, "X-WR-CALNAME:One"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[0].data, "TZID:Custom/Zone"));
	CU_ASSERT_EQUAL(count(s.objs[0].data, "BEGIN:VEVENT"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[1].data, "X-WR-CALNAME:Two"));
	CU_ASSERT_PTR_NULL(strstr(s.objs[1].data, "X-WR-CALNAME:One"));
	CU_ASSERT_PTR_NULL(strstr(s.objs[1].data, "VTIMEZONE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.objs[1].data, "Second"));
	CU_ASSERT_PTR_NULL(s.objs[2].data);
	CU_ASSERT_EQUAL(s.objs[2].line, 35);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(s.objs[2].skip, "VEVENT: not terminated by END:VEVENT"));
}

/* An object is the file's own text, every line ended by CR LF even where
 * the file used LF alone. */
static void
test_text_as_in_file(void)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:lf\n"
		"DTSTART:20240101T090000Z\nX-ODD;X-P=\"a:b\":kept as is\n"
		"DESCRIPTION:a line\n  folded\nEND:VEVENT\nEND:VCALENDAR\n";
	struct split s;
	const char *d;

	split(ics, &s);
	CU_ASSERT_EQUAL_FATAL(s.n, 1);
	d = s.objs[0].data;
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\r\nUID:lf\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "X-ODD;X-P=\"a:b\":kept as is\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "DESCRIPTION:a line\r\n  folded\r\n"));
	for (const char *p = d; (p = strchr(p, '\n')) != NULL; p++)
		CU_ASSERT(p > d && p[-1] == '\r');
	CU_ASSERT_EQUAL(s.objs[0].len, strlen(d));
}

/* What is no calendar: a file that starts with no BEGIN line is refused
 * at once; one with BEGIN lines but no VCALENDAR, or a VCALENDAR with no
 * entry, says so. */
static void
test_not_a_calendar(void)
{
	const char *error = NULL;
	struct split s;

	CU_ASSERT_PTR_NULL(bundle_reader_new(A, BUNDLE_ICS, "t.ics",
					     "hello\r\n", 7, &error));
	CU_ASSERT_PTR_NOT_NULL(strstr(error, "not an iCalendar file"));
	split("BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", &s);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL_FATAL(s.nerrors, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.errors[0], "no VCALENDAR"));
	split("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", &s);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL_FATAL(s.nerrors, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.errors[0], "no VEVENT or VTODO"));
}

/* Export: one VCALENDAR, the properties of every item (each once) before
 * the first entry, a zone once however many items carry it. */
static void
test_writer(void)
{
	static const char one[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//a//EN\r\n" ZONE
		"BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n";
	static const char two[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//b//EN\r\n"
		"X-WR-CALNAME:Long name of a calendar that a writer has\r\n"
		" folded\r\n" ZONE
		"BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:B\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n";
	const char *texts[] = {one, two, two};
	struct bundle_writer w;
	const char *error = NULL, *out, *name;

	bundle_writer_init(&w, STORE_CLASS_CALENDAR);
	CU_ASSERT(bundle_writer_notes(&w));
	for (size_t i = 0; i < N_ELEMENTS(texts); i++)
		CU_ASSERT_EQUAL(bundle_writer_note(&w, texts[i],
						   strlen(texts[i]), &error),
				0);
	for (size_t i = 0; i < N_ELEMENTS(texts); i++)
		CU_ASSERT_EQUAL(bundle_writer_add(&w, A, texts[i],
						  strlen(texts[i]), &error),
				0);
	bundle_writer_finish(&w);
	buf_putc(&w.out, '\0');
	out = (const char *)w.out.data;
	CU_ASSERT_EQUAL(count(out, "BEGIN:VCALENDAR"), 1);
	CU_ASSERT_EQUAL(count(out, "END:VCALENDAR"), 1);
	CU_ASSERT_EQUAL(count(out, "BEGIN:VTIMEZONE"), 1);
	CU_ASSERT_EQUAL(count(out, "BEGIN:VEVENT"), 3);
	CU_ASSERT_EQUAL(count(out, "PRODID"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "PRODID:-//easd//easctl export"));
	name = strstr(out, "X-WR-CALNAME:Long name");
	CU_ASSERT_PTR_NOT_NULL_FATAL(name);
	CU_ASSERT(name < strstr(out, "BEGIN:VTIMEZONE"));
	CU_ASSERT_EQUAL(count(out, "X-WR-CALNAME"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "folded"));
	CU_ASSERT_EQUAL(bundle_writer_add(&w, A, "BEGIN:VCARD\r\n", 13, &error),
			-1);
	bundle_writer_deinit(&w);
}

static icalcomponent *
parse(const char *text)
{
	const char *error = NULL;
	icalcomponent *c = conv_ical_parse(A, text, strlen(text), &error);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* A zone defined in a calendar is made once for every calendar with the
 * same definition, gives the same answers, and outlives the calendar it
 * came from; another definition of the same TZID is another zone; a TZID
 * the calendar does not define is libical's own. */
static void
test_zone_cache(void)
{
	static const char cal[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" ZONE "END:VCALENDAR\r\n";
	char *other = xstrdup(cal);
	icaltimezone *z1, *z2, *z3;
	struct icaltimetype t = icaltime_from_string("20240701T120000");

	z1 = conv_ical_zone(parse(cal), "Custom/Zone");
	z2 = conv_ical_zone(parse(cal), "Custom/Zone");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z1);
	CU_ASSERT_PTR_EQUAL(z1, z2);
	/* summer time at +3 */
	memcpy(strstr(other, "+0200\r\nEND:DAYLIGHT"), "+0300", 5);
	z3 = conv_ical_zone(parse(other), "Custom/Zone");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z3);
	CU_ASSERT_PTR_NOT_EQUAL(z1, z3);
	arena_reset(A);
	/* July: summer time, +2 and +3 */
	CU_ASSERT_EQUAL(icaltime_as_timet_with_zone(t, z1),
			icaltime_as_timet(t) - 2 * 3600);
	CU_ASSERT_EQUAL(icaltime_as_timet_with_zone(t, z3),
			icaltime_as_timet(t) - 3 * 3600);
	CU_ASSERT_PTR_EQUAL(conv_ical_zone(parse(cal), "Europe/Berlin"),
			    icaltimezone_get_builtin_timezone("Europe/Berlin"));
	CU_ASSERT_PTR_NULL(conv_ical_zone(parse(cal), "Nowhere/None"));
	free(other);
}

static CU_TestInfo bundle_tests[] = {
	{"an occurrence anywhere in the file goes with its series",
	 test_overrides_anywhere},
	{"two calendars in a file, and a file cut short",
	 test_two_calendars_and_truncation},
	{"an object is the file's text, in CR LF lines", test_text_as_in_file},
	{"what is no calendar", test_not_a_calendar},
	{"export: one VCALENDAR, properties first, zones once", test_writer},
	{"a calendar's zones are made once", test_zone_cache},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"bundles", setup, teardown, NULL, NULL, bundle_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
