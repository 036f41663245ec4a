/* Store benchmark: bulk insert rate, and the cost of a Sync window at the
 * start versus the end of a 100,000-item folder (it must not grow with the
 * position: store_sync_changes walks indexes, not the folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "store.h"

#define ITEMS 100000
#define BATCH 1000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
median10(const double *v)
{
	double c[10];

	memcpy(c, v, sizeof(c));
	qsort(c, 10, sizeof(double), cmp_double);
	return (c[4] + c[5]) / 2;
}

static void
fail(const char *what, enum store_error e)
{
	fprintf(stderr, "bench-store: %s: %s\n", what, store_error_str(e));
	exit(1);
}

/* A fresh device walks the whole folder in windows of `window` items, one
 * write transaction per window, as Sync does. */
static void
walk(struct store *s, int64_t account, int64_t folder, const char *devid,
     size_t window)
{
	struct arena *a = arena_new(1 << 20);
	struct store_device dev;
	struct store_sync_state st;
	double *times;
	size_t nwin = 0, total = 0, cap = ITEMS / window + 16;
	enum store_error e;
	bool more = true;

	times = calloc(cap, sizeof(*times));
	if ((e = store_device_create(s, a, account, devid, "Bench", "bench",
				     &dev)) != STORE_OK)
		fail("device", e);
	memset(&st, 0, sizeof(st));
	st.device_id = dev.id;
	st.folder_id = folder;
	st.cur_key = "1";
	st.backfill_after = -1;
	if ((e = store_sync_save(s, &st)) != STORE_OK)
		fail("sync save", e);
	while (more && nwin < cap) {
		struct store_sync_change *list;
		size_t n;
		double t0 = now_ms();

		arena_reset(a);
		if ((e = store_begin(s, true)) != STORE_OK)
			fail("begin", e);
		e = store_sync_changes(s, a, &st, NULL, window, true, &list, &n,
				       &more);
		if (e != STORE_OK)
			fail("sync changes", e);
		for (size_t i = 0; i < n; i++) {
			e = store_sync_mark(s, st.id, list[i].item.id,
					    list[i].item.modseq, true);
			if (e != STORE_OK)
				fail("sync mark", e);
		}
		st.cur_key = arena_printf(a, "%zu", nwin + 2);
		if ((e = store_sync_save(s, &st)) != STORE_OK)
			fail("sync save", e);
		if ((e = store_commit(s)) != STORE_OK)
			fail("commit", e);
		times[nwin++] = now_ms() - t0;
		total += n;
	}
	if (total != ITEMS || nwin < 20) {
		fprintf(stderr,
			"bench-store: walk saw %zu items in %zu windows\n",
			total, nwin);
		exit(1);
	}
	/* 2 ms for 100 items, in proportion for larger windows */
	printf("bench-store: window%zu-first10-median %.3f ms (target < "
	       "%.0f)\n",
	       window, median10(times), 2.0 * (double)window / 100);
	printf("bench-store: window%zu-last10-median %.3f ms (target < "
	       "%.0f)\n",
	       window, median10(times + nwin - 10), 2.0 * (double)window / 100);
	free(times);
	arena_free(&a);
}

int
main(void)
{
	char dir[] = "/tmp/easd-bench-store-XXXXXX";
	char path[96], p2[112];
	struct arena *a = arena_new(1 << 16);
	struct store_folder contacts;
	struct store *s = NULL;
	const char *err = NULL;
	enum store_error e;
	int64_t account;
	double t0, secs;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/easd.db", dir);
	if ((e = store_open(path, &s, &err)) != STORE_OK) {
		fprintf(stderr, "bench-store: %s\n", err);
		return 1;
	}
	if ((e = store_account_add(s, "bench", "bench@example.org", "Bench",
				   "bench", &account)) != STORE_OK)
		fail("account", e);
	if ((e = store_folder_get_by_type(s, a, account, EAS_FOLDER_CONTACTS,
					  &contacts)) != STORE_OK)
		fail("contacts", e);

	t0 = now_ms();
	for (int b = 0; b < ITEMS / BATCH; b++) {
		if ((e = store_begin(s, true)) != STORE_OK)
			fail("begin", e);
		for (int i = 0; i < BATCH; i++) {
			char card[256];
			struct store_item it;
			int n = b * BATCH + i;

			snprintf(card, sizeof(card),
				 "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c%d\r\n"
				 "FN:Contact %d\r\nN:%d;Contact;;;\r\n"
				 "EMAIL:c%d@example.org\r\n"
				 "TEL:+1555%07d\r\nEND:VCARD\r\n",
				 n, n, n, n, n);
			memset(&it, 0, sizeof(it));
			it.data = (const uint8_t *)card;
			it.data_len = strlen(card);
			it.meta.subject = "Contact";
			e = store_item_add(s, a, account, contacts.id, &it, 0);
			if (e != STORE_OK)
				fail("insert", e);
		}
		if ((e = store_commit(s)) != STORE_OK)
			fail("commit", e);
		arena_reset(a);
	}
	secs = (now_ms() - t0) / 1e3;
	printf("bench-store: contact-inserts %.0f inserts/s (target >= "
	       "20000)\n",
	       ITEMS / secs);

	walk(s, account, contacts.id, "benchdev100", 100);
	walk(s, account, contacts.id, "benchdev512", 512);

	store_close(&s);
	arena_free(&a);
	unlink(path);
	snprintf(p2, sizeof(p2), "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof(p2), "%s-shm", path);
	unlink(p2);
	rmdir(dir);
	return 0;
}
