/* Delivery: one message into one account's mail folder. LMTP, easctl
 * deliver and (later) local sending and automatic replies all come here,
 * so whatever a delivery implies is done once, in one place. */
#include "log.h"
#include "mail.h"
#include "meeting.h"

enum store_error
mail_deliver(struct store *s, struct arena *a, int64_t account_id,
	     int64_t folder_id, const struct store_item *parsed,
	     struct store_item *stored_r)
{
	struct store_folder folder;
	struct store_item item = *parsed;
	const char *what = NULL;
	struct store_item_text text;
	const char *error;
	enum store_error e;
	bool own, have_text;

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
	/* The index is written with the item, in its transaction; a message
	 * whose text cannot be read is queued for later instead. */
	have_text = mail_search_text(a, &item, &text, &error) == 0;
	if (folder.type != EAS_FOLDER_INBOX ||
	    mail_calendar_text(a, &item, &(size_t){0}) == NULL) {
		e = store_item_add_with_text(s, a, account_id, folder.id, &item,
					     0, have_text ? &text : NULL);
		if (e == STORE_OK && stored_r != NULL)
			*stored_r = item;
		return e;
	}
	/* a meeting message and what it does to the calendar: one commit */
	own = !store_in_transaction(s);
	if (own && (e = store_begin(s, true)) != STORE_OK)
		return e;
	e = store_item_add_with_text(s, a, account_id, folder.id, &item, 0,
				     have_text ? &text : NULL);
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
