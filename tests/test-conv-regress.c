/* Inputs the fuzzers (tests/fuzz/) found, each kept as a test of what
 * went wrong: conv and MIME intake must take any bytes. The inputs
 * themselves are in tests/data/fuzz/TARGET/ and go through the very
 * target that found them (included here under another name). Links only
 * libconv, libwbxml and libcommon. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "conv-tz.h"
#include "conv.h"
#include "mail.h"
#include "test-main.h"
#include "util.h"

#define LLVMFuzzerTestOneInput fuzz_vcard_one
#include "fuzz/fuzz-vcard.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_ical_one
#include "fuzz/fuzz-ical.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mime_one
#include "fuzz/fuzz-mime.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_itip_one
#include "fuzz/fuzz-itip.c"
#undef LLVMFuzzerTestOneInput

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

/* The bytes in a heap block of exactly their size, so that ASan sees a
 * read past them (input is (data, len), not a string). */
static char *
exact(const char *s, size_t *len_r)
{
	size_t len = strlen(s);
	char *p = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, s, len);
	*len_r = len;
	return p;
}

/* fuzz-mime: mail_item_from_mime copied len + 1 bytes of its input for
 * the NUL it adds. */
static void
test_mime_not_a_string(void)
{
	size_t len;
	char *msg =
		exact("From: a@example.org\r\nSubject: s\r\n\r\nbody", &len);
	struct store_item item;
	const char *error = NULL;

	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(A, msg, len, &item, &error),
			      0);
	CU_ASSERT_EQUAL(item.data_len, len);
	CU_ASSERT(memcmp(item.data, msg, len) == 0);
	CU_ASSERT_EQUAL(item.data[len], '\0');
	free(msg);
}

/* fuzz-ical: an event in the year 6022 in a zone of its own made libical
 * expand the zone's rules for every year up to it, some four hundred
 * times: seconds per item. The rules of 2200 stand in now; the event
 * still carries its zone. */
static void
test_far_future_zone(void)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
		"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
		"DTSTART:19700329T020000\r\n"
		"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
		"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
		"DTSTART:19701025T030000\r\n"
		"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
		"END:VTIMEZONE\r\n"
		"BEGIN:VEVENT\r\nUID:far@example.org\r\n"
		"DTSTAMP:20240601T080000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:60220627T120000\r\n"
		"DTEND;TZID=Europe/Berlin:60220627T130000\r\n"
		"RRULE:FREQ=WEEKLY;BYDAY=TH\r\nSUMMARY:far\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	struct conv_ctx ctx;
	struct store_item item;
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *error = NULL, *blob;
	struct conv_tz tz;

	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 161;
	CU_ASSERT_EQUAL_FATAL(conv_from_standard(A, STORE_CLASS_CALENDAR, ics,
						 strlen(ics), &item, &error),
			      0);
	item.server_id = "2:1";
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, app, &error), 0);
	blob = wbxml_child_text(app, EAS_CALENDAR_TIMEZONE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(blob);
	CU_ASSERT_EQUAL_FATAL(
		conv_tz_decode(A, blob, strlen(blob), &tz, &error), 0);
	CU_ASSERT_EQUAL(tz.bias, -60);
	CU_ASSERT_EQUAL(tz.dst_bias, -60);
	CU_ASSERT_EQUAL(tz.dst_date.month, 3);
	CU_ASSERT_EQUAL(tz.std_date.month, 10);
}

/* Found with fuzz-vcard's X-EAS-NODES finding (see replay): a .vcf or
 * mbox object holding a NUL byte was copied up to the NUL while its
 * length stayed the whole object's. */
static void
test_bundle_nul(void)
{
	static const char vcf[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\0B\r\n"
				  "END:VCARD\r\n";
	struct bundle_reader *r;
	struct bundle_obj obj;
	const char *error = NULL;

	r = bundle_reader_new(A, BUNDLE_VCF, "nul.vcf", vcf, sizeof(vcf) - 1,
			      &error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(bundle_next(r, &obj, &error), 1);
	CU_ASSERT_EQUAL(obj.len, sizeof(vcf) - 1);
	CU_ASSERT(memcmp(obj.data, vcf, obj.len) == 0);
	CU_ASSERT_EQUAL(obj.data[obj.len], '\0');
}

/* Each file of tests/data/fuzz/NAME/ through fn, in a heap block of
 * exactly its size as libFuzzer hands it over. */
static size_t
replay_dir(const char *name, int (*fn)(const uint8_t *, size_t))
{
	const char *src = getenv("EASD_SRCDIR");
	char dir[512];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/data/fuzz/%s",
		 src != NULL ? src : ".", name);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		char path[1024];
		uint8_t *data;
		long len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		data = malloc(len > 0 ? (size_t)len : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		CU_ASSERT_EQUAL(fread(data, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		CU_ASSERT_EQUAL(fn(data, (size_t)len), 0);
		free(data);
		n++;
	}
	closedir(d);
	return n;
}

/* fuzz-vcard found X-EAS-NODES copied up to a NUL byte in its value while
 * it kept the value's length (the base64 decoder read past the copy);
 * fuzz-mime and fuzz-ical found what the tests above show. */
static void
test_replay(void)
{
	CU_ASSERT(replay_dir("vcard", fuzz_vcard_one) > 0);
	CU_ASSERT(replay_dir("ical", fuzz_ical_one) > 0);
	CU_ASSERT(replay_dir("mime", fuzz_mime_one) > 0);
	/* fuzz-itip: the GlobalObjId's base64 had no room for its NUL */
	CU_ASSERT(replay_dir("itip", fuzz_itip_one) > 0);
}

static CU_TestInfo regress_tests[] = {
	{"MIME intake: the input is not a string", test_mime_not_a_string},
	{"iCalendar: an event in 6022 with its own zone", test_far_future_zone},
	{"every input the fuzzers found, through their targets", test_replay},
	{"bundles: objects keep NUL bytes and their length", test_bundle_nul},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"fuzzer findings", setup, teardown, NULL, NULL, regress_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
