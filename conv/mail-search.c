/* What the search index gets of a message: subject, addresses, plain body
 * text, attachment names and the ConversationId, from the extra record
 * and the stored bytes (no MIME parse when the record is current). Used at
 * delivery and to index what the store queued. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mail-int.h"
#include "mail.h"

/* Messages per transaction, and the most of their bytes read at once.
 * FTS5's flush at commit costs per distinct term of the batch, so per
 * message it falls as batches grow (the indexer's CPU per message in
 * bench-search: some 55 us in batches of 128-256, 45-65 us at the
 * 600-700 a 250 ms pause gathered, 36-55 us at the few thousand of a
 * second); the write lock is held while the batch is tokenized (some
 * 30 ms for 1,000 small messages), so a delivery may wait that long. */
#define INDEX_BATCH 4000
#define INDEX_BATCH_BYTES (32 * 1024 * 1024)

static void
put_field(struct buf *b, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	if (b->len > 0)
		buf_putc(b, ' ');
	buf_puts(b, s);
}

int
mail_search_text(struct arena *a, const struct store_item *item,
		 struct store_item_text *t, const char **error_r)
{
	struct mail_info mi;
	struct buf b;
	size_t len;

	memset(t, 0, sizeof(*t));
	if (mail_info_get(a, item, &mi, error_r) < 0)
		return -1;
	t->subject = mi.subject;
	buf_init(&b, 0);
	put_field(&b, mi.from);
	put_field(&b, mi.to);
	put_field(&b, mi.cc);
	t->addresses =
		arena_strndup(a, b.len > 0 ? (const char *)b.data : "", b.len);
	b.len = 0;
	for (size_t i = 0; i < mi.natts; i++)
		put_field(&b, mi.atts[i].name);
	t->attachments =
		arena_strndup(a, b.len > 0 ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	t->body = mail_plain_text(a, item, &mi, &len);
	if (mi.has_conv_id) {
		char *hex = arena_alloc(a, sizeof(mi.conv_id) * 2 + 1);

		for (size_t i = 0; i < sizeof(mi.conv_id); i++)
			snprintf(hex + 2 * i, 3, "%02x", mi.conv_id[i]);
		t->conversation = hex;
	}
	return 0;
}

enum store_error
mail_search_index_pending(struct store *s, int64_t account_id, size_t max,
			  bool newest_first, size_t *done_r)
{
	enum store_error e = STORE_OK;
	size_t done = 0;

	while (done < max) {
		struct arena *a = arena_new(64 * 1024);
		struct store_item_text *texts;
		struct store_item *items;
		size_t n, want = max - done < INDEX_BATCH ? max - done
							  : INDEX_BATCH;

		e = store_search_pending(s, a, account_id, want,
					 INDEX_BATCH_BYTES, newest_first,
					 &items, &n);
		if (e != STORE_OK || n == 0) {
			arena_free(&a);
			break;
		}
		/* The text first, outside the write lock; an item changed
		 * since (its modseq) stays queued for the next pass. */
		texts = arena_alloc(a, n * sizeof(*texts));
		for (size_t i = 0; i < n; i++) {
			const char *error;

			/* An unreadable message is indexed by what is left
			 * (its subject), so it leaves the queue all the
			 * same. */
			if (mail_search_text(a, &items[i], &texts[i], &error) <
			    0) {
				log_warn("search: item %lld: %s",
					 (long long)items[i].id, error);
				memset(&texts[i], 0, sizeof(texts[i]));
				texts[i].subject = items[i].meta.subject;
			}
		}
		e = store_begin(s, true);
		for (size_t i = 0; e == STORE_OK && i < n; i++) {
			e = store_search_index(s, items[i].account_id,
					       items[i].id, items[i].modseq,
					       &texts[i]);
			if (e == STORE_NOTFOUND || e == STORE_CONFLICT)
				e = STORE_OK;
		}
		if (e == STORE_OK)
			e = store_commit(s);
		if (e != STORE_OK)
			store_rollback(s);
		arena_free(&a);
		if (e != STORE_OK)
			break;
		done += n;
	}
	if (done_r != NULL)
		*done_r = done;
	return e;
}
