/* Delivery: one message into one account's mail folder. LMTP, easctl
 * deliver and (later) local sending and automatic replies all come here,
 * so whatever a delivery implies is done once, in one place. */
#include "mail.h"

enum store_error
mail_deliver(struct store *s, struct arena *a, int64_t account_id,
	     int64_t folder_id, const struct store_item *parsed,
	     struct store_item *stored_r)
{
	struct store_folder folder;
	struct store_item item = *parsed;
	enum store_error e;

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
	/* Queued for the index in the item's transaction, and indexed by the
	 * indexer in batches (FTS5 writes a segment per commit: one per
	 * delivery would cost more than the delivery) or by the account's
	 * next search, whichever comes first. */
	e = store_item_add(s, a, account_id, folder.id, &item, 0);
	if (e == STORE_OK && stored_r != NULL)
		*stored_r = item;
	return e;
}
