/* WBXML codec throughput: a ~1 MiB Sync response with 1,000 email items,
 * decoded and encoded many times; prints the median MB/s of several runs.
 * Targets: decode >= 200 MB/s, encode >= 200 MB/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "util.h"
#include "wbxml.h"

#define BENCH_ITEMS 1000
#define BENCH_RUNS 7
#define BENCH_MIN_SECONDS 0.3

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* MS-ASCMD 2.2.3.166 Sync response with Add commands, MS-ASEMAIL items. */
static struct wbxml_node *
build_sync_response(struct arena *a)
{
	static const char words[] =
		"lorem ipsum dolor sit amet consectetur "
		"adipiscing elit sed do eiusmod tempor incididunt ut labore "
		"et dolore magna aliqua ";
	struct wbxml_node *sync = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *coll, *cmds;
	char body[900];

	for (size_t i = 0; i + 1 < sizeof(body); i++)
		body[i] = words[i % (sizeof(words) - 1)];
	body[sizeof(body) - 1] = '\0';
	coll = wbxml_add(a, wbxml_add(a, sync, EAS_AIRSYNC_COLLECTIONS),
			 EAS_AIRSYNC_COLLECTION);
	wbxml_add_text(a, coll, EAS_AIRSYNC_SYNCKEY,
		       "{8c1f0b6e-3d52-4f7a-9b10-5e2d7c4a9f01}42");
	wbxml_add_text(a, coll, EAS_AIRSYNC_COLLECTIONID, "1");
	wbxml_add_text(a, coll, EAS_AIRSYNC_STATUS, "1");
	cmds = wbxml_add(a, coll, EAS_AIRSYNC_COMMANDS);
	for (int i = 0; i < BENCH_ITEMS; i++) {
		struct wbxml_node *add = wbxml_add(a, cmds, EAS_AIRSYNC_ADD);
		struct wbxml_node *ad, *b;
		uint8_t conv[16];

		for (size_t k = 0; k < sizeof(conv); k++)
			conv[k] = (uint8_t)(i * 7 + k);
		wbxml_add_textf(a, add, EAS_AIRSYNC_SERVERID, "1:%d", i + 1);
		ad = wbxml_add(a, add, EAS_AIRSYNC_APPLICATIONDATA);
		wbxml_add_text(a, ad, EAS_EMAIL_TO,
			       "\"Ada Lovelace\" <ada@example.org>");
		wbxml_add_text(a, ad, EAS_EMAIL_FROM,
			       "\"Charles Babbage\" <charles@example.org>");
		wbxml_add_textf(a, ad, EAS_EMAIL_SUBJECT,
				"Analytical engine, note %d", i);
		wbxml_add_text(a, ad, EAS_EMAIL_DATERECEIVED,
			       "2024-03-05T14:30:00.000Z");
		wbxml_add_text(a, ad, EAS_EMAIL_DISPLAYTO, "Ada Lovelace");
		wbxml_add_text(a, ad, EAS_EMAIL_IMPORTANCE, "1");
		wbxml_add_text(a, ad, EAS_EMAIL_READ, i % 2 ? "1" : "0");
		b = wbxml_add(a, ad, EAS_AIRSYNCBASE_BODY);
		wbxml_add_text(a, b, EAS_AIRSYNCBASE_TYPE, "1");
		wbxml_add_int(a, b, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE,
			      (int64_t)strlen(body));
		wbxml_add_text(a, b, EAS_AIRSYNCBASE_DATA, body);
		wbxml_add_text(a, ad, EAS_EMAIL_MESSAGECLASS, "IPM.Note");
		wbxml_add_text(a, ad, EAS_EMAIL_INTERNETCPID, "65001");
		wbxml_add(a, ad, EAS_EMAIL_FLAG);
		wbxml_add_text(a, ad, EAS_EMAIL_CONTENTCLASS,
			       "urn:content-classes:message");
		wbxml_add_text(a, ad, EAS_AIRSYNCBASE_NATIVEBODYTYPE, "1");
		wbxml_add_opaque(a, ad, EAS_EMAIL2_CONVERSATIONID, conv,
				 sizeof(conv));
		wbxml_add_opaque(a, ad, EAS_EMAIL2_CONVERSATIONINDEX, conv, 5);
	}
	return sync;
}

int
main(void)
{
	struct arena *build = arena_new(0), *work = arena_new(4 << 20);
	struct wbxml_node *tree = build_sync_response(build), *root;
	struct buf doc, out;
	double dec[BENCH_RUNS], enc[BENCH_RUNS];
	const char *error = NULL;

	buf_init(&doc, 0);
	buf_init(&out, 0);
	if (wbxml_encode(tree, &doc) < 0)
		eas_panic("encode failed");
	if (wbxml_decode(work, doc.data, doc.len, &wbxml_limits_default, &root,
			 &error) < 0)
		eas_panic("decode failed: %s", error);
	fprintf(stderr, "document: %zu bytes, %d items\n", doc.len,
		BENCH_ITEMS);

	for (int r = 0; r < BENCH_RUNS; r++) {
		double t0 = now_s(), t;
		long iters = 0;

		do {
			arena_reset(work);
			if (wbxml_decode(work, doc.data, doc.len,
					 &wbxml_limits_default, &root,
					 &error) < 0)
				eas_panic("decode failed: %s", error);
			iters++;
		} while ((t = now_s() - t0) < BENCH_MIN_SECONDS);
		dec[r] = (double)doc.len * (double)iters / t / 1e6;

		t0 = now_s();
		iters = 0;
		do {
			buf_reset(&out);
			if (wbxml_encode(root, &out) < 0)
				eas_panic("encode failed");
			iters++;
		} while ((t = now_s() - t0) < BENCH_MIN_SECONDS);
		enc[r] = (double)doc.len * (double)iters / t / 1e6;
		if (out.len != doc.len || memcmp(out.data, doc.data, doc.len))
			eas_panic("re-encoding differs");
	}
	qsort(dec, BENCH_RUNS, sizeof(*dec), cmp_double);
	qsort(enc, BENCH_RUNS, sizeof(*enc), cmp_double);
	printf("bench-wbxml: decode_sync_1000_emails %.0f MB/s (target 200)\n",
	       dec[BENCH_RUNS / 2]);
	printf("bench-wbxml: encode_sync_1000_emails %.0f MB/s (target 200)\n",
	       enc[BENCH_RUNS / 2]);
	buf_deinit(&doc);
	buf_deinit(&out);
	arena_free(&build);
	arena_free(&work);
	return 0;
}
