/* Delivery: one message into one account's mail folder. LMTP, easctl
 * deliver and (later) local sending and automatic replies all come here,
 * so whatever a delivery implies is done once, in one place. */
#include <string.h>

#include "log.h"
#include "mail-int.h"
#include "mail.h"
#include "meeting.h"

#define MAIL_MAX_PATH 998 /* RFC 5321 4.5.3.1.3 is 256; lines are 998 */

/* RFC 5321 4.4: the delivering server records the envelope sender in a
 * Return-Path line at the beginning of the message. The body offsets in
 * the item's extra move with it. */
static int
add_return_path(struct arena *a, struct store_item *item, const char *path)
{
	const char *d = (const char *)item->data;
	const char *nl = memchr(d, '\n', item->data_len);
	bool crlf = nl == NULL || (nl > d && nl[-1] == '\r');
	struct mail_info mi;
	const char *prefix, *error;
	size_t plen;
	uint8_t *data;

	if (strlen(path) > MAIL_MAX_PATH || strpbrk(path, "\r\n") != NULL)
		return -1;
	if (mail_info_get(a, item, &mi, &error) < 0)
		return -1;
	prefix = arena_printf(a, "Return-Path: <%s>%s", path,
			      crlf ? "\r\n" : "\n");
	plen = strlen(prefix);
	data = arena_alloc(a, plen + item->data_len + 1);
	memcpy(data, prefix, plen);
	memcpy(data + plen, item->data, item->data_len);
	data[plen + item->data_len] = '\0';
	if (mi.text.present)
		mi.text.off += (int64_t)plen;
	if (mi.html.present)
		mi.html.off += (int64_t)plen;
	if (mi.cal.present)
		mi.cal.off += (int64_t)plen;
	mail_info_write(a, &mi, &item->extra, &item->extra_len);
	item->data = data;
	item->data_len += plen;
	item->meta.size = (int64_t)item->data_len;
	return 0;
}

enum store_error
mail_deliver(struct store *s, struct arena *a, int64_t account_id,
	     int64_t folder_id, const struct store_item *parsed,
	     const char *return_path, struct store_item *stored_r)
{
	struct store_folder folder;
	struct store_item item = *parsed;
	const char *what = NULL;
	enum store_error e;
	bool own;

	if (folder_id == 0)
		e = store_folder_get_by_type(s, a, account_id, EAS_FOLDER_INBOX,
					     &folder);
	else
		e = store_folder_get_by_id(s, a, account_id, folder_id,
					   &folder);
	if (e != STORE_OK)
		return e;
	if (store_class_of_folder_type(folder.type) != STORE_CLASS_EMAIL)
		return STORE_INVALID;
	item.cls = STORE_CLASS_EMAIL;
	if (return_path != NULL && add_return_path(a, &item, return_path) < 0)
		return STORE_INVALID;
	/* Queued for the index in the item's transaction, and indexed by the
	 * indexer in batches (FTS5 writes a segment per commit: one per
	 * delivery would cost more than the delivery) or by the account's
	 * next search, whichever comes first. */
	if (folder.type != EAS_FOLDER_INBOX || !mail_has_calendar(a, &item)) {
		e = store_item_add(s, a, account_id, folder.id, &item, 0);
		if (e == STORE_OK && stored_r != NULL)
			*stored_r = item;
		return e;
	}
	/* a meeting message and what it does to the calendar: one commit */
	own = !store_in_transaction(s);
	if (own && (e = store_begin(s, true)) != STORE_OK)
		return e;
	e = store_item_add(s, a, account_id, folder.id, &item, 0);
	if (e == STORE_OK) {
		e = meeting_delivered(s, a, account_id, &item, &what);
		if (e == STORE_INVALID) {
			log_info("meeting: %s: the calendar is left as it is",
				 item.server_id);
			e = STORE_OK;
		} else if (e == STORE_OK) {
			log_debug("meeting: %s: %s", item.server_id, what);
		}
	}
	if (own)
		e = e == STORE_OK ? store_commit(s) : (store_rollback(s), e);
	if (e == STORE_OK && stored_r != NULL)
		*stored_r = item;
	return e;
}
