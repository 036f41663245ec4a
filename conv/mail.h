/* Mail intake: RFC 5322 messages -> store items of class Email, and the
 * small readers the Email conversion and ItemOperations need. The message
 * is stored whole and untouched in item.data; what Sync needs is extracted
 * once, at delivery, into item.meta and item.extra (format in conv-mail.c). */
#ifndef EASD_MAIL_H
#define EASD_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

/* Default cap on a delivered message (LMTP SIZE, easctl deliver). */
#define MAIL_DEFAULT_MAX_SIZE ((size_t)50 * 1024 * 1024)

/* Initialise GMime once for the process (thread-safe, idempotent). Every
 * function below calls it; callers need not. */
void mail_init(void);

/* Parse an RFC 5322 message and fill item_r: cls = STORE_CLASS_EMAIL,
 * data = a copy of the raw bytes (NUL terminated, in a), meta (date from
 * the Date header or now, read=false, flag_status=0, size, subject,
 * message_id) and extra (see conv-mail.c). Malformed MIME is accepted with
 * whatever could be parsed. Returns 0, or -1 with *error_r (in a) when the
 * input is not a message at all (empty, or binary garbage). */
int mail_item_from_mime(struct arena *a, const char *data, size_t len,
			struct store_item *item_r, const char **error_r);

/* The decoded bytes of attachment `index` (as numbered in the item's
 * Attachments and FileReferences) for ItemOperations/GetAttachment:
 * byte-identical to what was attached (a message/rfc822 attachment is the
 * embedded message). *data_r, *content_type_r and *name_r live in a.
 * Returns 1 found, 0 no such attachment, -1 with *error_r when the item
 * cannot be read. */
int mail_attachment_get(struct arena *a, const struct store_item *item,
			unsigned index, const uint8_t **data_r, size_t *len_r,
			const char **content_type_r, const char **name_r,
			const char **error_r);

/* Parse "<item server id>:<index>" (the FileReference the Email
 * conversion writes). *item_server_id_r is in a. Returns 0 or -1. */
int mail_file_reference_parse(struct arena *a, const char *ref,
			      const char **item_server_id_r, unsigned *index_r);

/* Record a reply/forward on the original (email2:LastVerbExecuted, 1 reply
 * to sender, 2 reply to all, 3 forward; MS-ASEMAIL 2.2.2.46): *extra_r
 * (in a) is the item's new extra, to store with store_item_update_meta.
 * Returns 0, or -1 with *error_r. */
int mail_set_last_verb(struct arena *a, const struct store_item *item, int verb,
		       int64_t when, const uint8_t **extra_r,
		       size_t *extra_len_r, const char **error_r);

/* Store a parsed message (from mail_item_from_mime) in a mail folder of
 * the account: folder_id 0 is its Inbox. return_path is the envelope
 * sender (LMTP MAIL FROM, "" for the null sender <>), recorded as the
 * message's first line "Return-Path: <...>" (RFC 5321 4.4); NULL when
 * there is none. One commit; the store's change notification wakes the
 * account's devices. *stored_r (may be NULL) gets the new item (ServerId
 * in a). STORE_NOTFOUND when the account or folder does not exist,
 * STORE_INVALID when the folder does not hold mail or the return path is
 * not one, else the store's error. Every way mail enters a mailbox goes
 * through here: LMTP, easctl deliver, local sending, automatic replies. */
enum store_error mail_deliver(struct store *s, struct arena *a,
			      int64_t account_id, int64_t folder_id,
			      const struct store_item *parsed,
			      const char *return_path,
			      struct store_item *stored_r);

/* The iCalendar text (UTF-8, in a) of a meeting message: an invitation,
 * a reply or a cancellation that could be read at delivery. NULL for
 * any other message. */
/* Whether the message carries a text/calendar part (read from the
 * item's extra, without decoding the part). */
bool mail_has_calendar(struct arena *a, const struct store_item *item);
const char *mail_calendar_text(struct arena *a, const struct store_item *item,
			       size_t *len_r);
/* What the search index gets of a stored message (strings in a):
 * subject, From/To/Cc, the plain text of the body, attachment names, the
 * ConversationId in hex. mail_deliver adds it to every delivery. Returns 0,
 * or -1 with *error_r when the item cannot be read. */
int mail_search_text(struct arena *a, const struct store_item *item,
		     struct store_item_text *t, const char **error_r);
/* Index up to max of the items the store queued (account_id 0: anyone's),
 * oldest or newest first, in batches of one transaction each (the text is
 * taken before the transaction); *done_r (may be NULL) gets how many were
 * looked at. */
enum store_error mail_search_index_pending(struct store *s, int64_t account_id,
					   size_t max, bool newest_first,
					   size_t *done_r);

/* Whether addr is the (or a) From address of the stored message. */
bool mail_from_is(struct arena *a, const struct store_item *item,
		  const char *addr);

/* Whether the stored item is an S/MIME message (signed or encrypted); for
 * MIMESupport 1. */
bool mail_item_is_smime(const struct store_item *item);

#endif
