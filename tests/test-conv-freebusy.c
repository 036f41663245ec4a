/* Unit tests of the free/busy view: single events, weekly series with a
 * deleted and a moved occurrence, cancelled, declined, tentative, free,
 * out-of-office and all-day events, time zones, and the 30-minute
 * MergedFreeBusy digits (the highest status wins a slot). */
#include <stdio.h>
#include <string.h>

#include "freebusy.h"
#include "test-main.h"
#include "util.h"

/* 2030-01-07 (a Monday) 00:00:00 UTC */
#define MON 1893974400
#define H 3600

static const char *const self[] = {"ada@example.org", NULL};

static const char *
merged(const char *ical, int64_t from, int64_t to)
{
	static char out[4096];
	struct arena *a = arena_new(4096);
	struct freebusy_span *spans = NULL;
	size_t n = 0, cap = 0;
	const char *err = NULL;

	if (freebusy_item_spans(a, ical, strlen(ical), self, from, to, &spans,
				&n, &cap, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", err);
	} else {
		snprintf(out, sizeof(out), "%s",
			 freebusy_merge(a, spans, n, from, to, 1800));
	}
	arena_free(&a);
	return out;
}

#define CAL(body)                                                              \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body        \
	"END:VCALENDAR\r\n"

static void
test_single(void)
{
	/* 09:00-10:00 on Monday, asked 08:00-11:00: 2 slots free, 2 busy,
	 * 2 free */
	CU_ASSERT_STRING_EQUAL(merged(CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:"
					  "20300101T000000Z\r\n"
					  "DTSTART:20300107T090000Z\r\nDTEND:"
					  "20300107T100000Z\r\n"
					  "END:VEVENT\r\n"),
				      MON + 8 * H, MON + 11 * H),
			       "002200");
	/* 09:10-09:20: the whole slot is busy */
	CU_ASSERT_STRING_EQUAL(merged(CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:"
					  "20300101T000000Z\r\n"
					  "DTSTART:20300107T091000Z\r\nDTEND:"
					  "20300107T092000Z\r\n"
					  "END:VEVENT\r\n"),
				      MON + 9 * H, MON + 10 * H),
			       "20");
	/* Berlin 10:00 = 09:00 UTC in winter */
	CU_ASSERT_STRING_EQUAL(
		merged(CAL("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
			   "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
			   "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
			   "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
			   "END:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
			   "DTSTART:19700329T020000\r\n"
			   "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
			   "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
			   "END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
			   "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:"
			   "20300101T000000Z\r\n"
			   "DTSTART;TZID=Europe/Berlin:20300107T100000\r\n"
			   "DTEND;TZID=Europe/Berlin:20300107T103000\r\n"
			   "END:VEVENT\r\n"),
		       MON + 8 * H, MON + 10 * H),
		"0020");
}

static void
test_statuses(void)
{
	static const struct {
		const char *props;
		const char *want;
	} cases[] = {
		{"", "2"},
		{"X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n", "1"},
		{"X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n", "3"},
		{"X-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n", "0"},
		{"X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE\r\n", "0"},
		{"TRANSP:TRANSPARENT\r\n", "0"},
		{"STATUS:CANCELLED\r\n", "0"},
		{"X-EAS-MEETINGSTATUS:7\r\n", "0"},
		{"X-EAS-RESPONSETYPE:4\r\n", "0"},
		{"ATTENDEE;PARTSTAT=DECLINED:mailto:ADA@example.org\r\n", "0"},
		{"ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org\r\n", "2"},
		{"ATTENDEE;PARTSTAT=TENTATIVE:mailto:ada@example.org\r\n", "1"},
		{"ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@example.org\r\n", "2"},
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(buf, sizeof(buf),
			 CAL("BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20300101T000000Z"
			     "\r\nDTSTART:20300107T090000Z\r\n"
			     "DTEND:20300107T093000Z\r\n%sEND:VEVENT\r\n"),
			 cases[i].props);
		if (strcmp(merged(buf, MON + 9 * H, MON + 9 * H + 1800),
			   cases[i].want) != 0) {
			fprintf(stderr, "status case %zu (%s): got %s\n", i,
				cases[i].props,
				merged(buf, MON + 9 * H, MON + 9 * H + 1800));
			CU_FAIL("status mapping");
		}
	}
}

static void
test_recurrence(void)
{
	/* Every weekday 09:00-09:30 from Monday; Tuesday deleted (EXDATE),
	 * Wednesday moved to 10:00 (override), Thursday's override
	 * cancelled. Asked Mon-Fri 09:00-10:30 each day: read the day
	 * strings out of one window. */
	const char *ical =
		CAL("BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20300101T000000Z\r\n"
		    "DTSTART:20300107T090000Z\r\nDTEND:20300107T093000Z\r\n"
		    "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10\r\n"
		    "EXDATE:20300108T090000Z\r\nEND:VEVENT\r\n"
		    "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20300101T000000Z\r\n"
		    "RECURRENCE-ID:20300109T090000Z\r\n"
		    "DTSTART:20300109T100000Z\r\nDTEND:20300109T103000Z\r\n"
		    "END:VEVENT\r\n"
		    "BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20300101T000000Z\r\n"
		    "RECURRENCE-ID:20300110T090000Z\r\n"
		    "DTSTART:20300110T090000Z\r\nDTEND:20300110T093000Z\r\n"
		    "STATUS:CANCELLED\r\nEND:VEVENT\r\n");
	const char *want[] = {"200", "000", "002", "000", "200"};

	for (int d = 0; d < 5; d++) {
		int64_t from = MON + d * 24 * H + 9 * H;

		if (strcmp(merged(ical, from, from + 3 * 1800), want[d]) != 0) {
			fprintf(stderr, "day %d: got %s want %s\n", d,
				merged(ical, from, from + 3 * 1800), want[d]);
			CU_FAIL("recurrence");
		}
	}
	/* the next week still has it (COUNT=10 weekdays) and the week after
	 * not */
	CU_ASSERT_STRING_EQUAL(merged(ical, MON + 7 * 24 * H + 9 * H,
				      MON + 7 * 24 * H + 10 * H),
			       "20");
	CU_ASSERT_STRING_EQUAL(merged(ical, MON + 14 * 24 * H + 9 * H,
				      MON + 14 * 24 * H + 10 * H),
			       "00");
	/* an endless daily series started years before the window */
	CU_ASSERT_STRING_EQUAL(
		merged(CAL("BEGIN:VEVENT\r\nUID:e\r\nDTSTAMP:20100101T000000Z"
			   "\r\nDTSTART:20100101T090000Z\r\n"
			   "DTEND:20100101T100000Z\r\nRRULE:FREQ=DAILY\r\n"
			   "END:VEVENT\r\n"),
		       MON + 8 * H, MON + 10 * H),
		"0022");
}

static void
test_merge(void)
{
	struct arena *a = arena_new(1024);
	struct freebusy_span spans[] = {
		{MON, MON + 3600, FREEBUSY_TENTATIVE, NULL},
		{MON + 1800, MON + 2700, FREEBUSY_OOF, NULL},
		{MON + 3000, MON + 5400, FREEBUSY_BUSY, NULL},
	};

	CU_ASSERT_STRING_EQUAL(
		freebusy_merge(a, spans, 3, MON, MON + 7200, 1800), "1320");
	/* a partial last slot still gets its digit (rounded up) */
	CU_ASSERT_STRING_EQUAL(
		freebusy_merge(a, spans, 0, MON, MON + 1801, 1800), "00");
	CU_ASSERT_STRING_EQUAL(freebusy_merge(a, spans, 3, MON, MON, 1800), "");
	/* not iCalendar */
	CU_ASSERT(strncmp(merged("garbage", MON, MON + 1800), "error", 5) == 0);
	arena_free(&a);
}

static CU_TestInfo tests[] = {
	{"single events and time zones", test_single},
	{"busy status, cancelled, declined, tentative", test_statuses},
	{"recurrence with EXDATE and overrides", test_recurrence},
	{"MergedFreeBusy digits", test_merge},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"freebusy", NULL, NULL, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
