/* Helpers shared by the conv-*.c files (not part of the conv API). */
#ifndef EASD_CONV_INT_H
#define EASD_CONV_INT_H

#include "conv.h"

/* Set *error_r to the formatted text (in the arena) and return -1. */
int conv_fail(struct arena *a, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Pack a list of nodes (their subtrees included) into a base64 string, so
 * elements we have no home for survive in an X-EAS-NODES property. */
char *conv_nodes_pack(struct arena *a, const struct wbxml_node *const *nodes,
		      size_t count);
/* Append the nodes packed by conv_nodes_pack to parent. Returns 0, or -1
 * when the text is not a valid packing. */
int conv_nodes_unpack(struct arena *a, const char *b64, size_t len,
		      struct wbxml_node *parent);

/* The airsyncbase:Body of a client item: text and type (1 plain, 2 HTML;
 * others are kept as sent). Returns 1 when present, 0 when absent. */
int conv_body_get(const struct wbxml_node *appdata, const char **text_r,
		  size_t *len_r, int *type_r);

/* An EAS ISO dateTime (or the compact form) -> UTC seconds. */
int conv_parse_time(const char *s, int64_t *t_r);

/* Body type 0 in a preference means "the native type" (used internally when
 * reading the old item for ghosting). */
#define CONV_BODY_NATIVE 0

/* Standard text -> item, per class. Calendar and tasks share the iCalendar
 * reader (conv-calendar.c / conv-task.c register through cls). */
int conv_contact_from_standard(struct arena *a, const char *data, size_t len,
			       struct store_item *item_r, const char **error_r);
int conv_ical_from_standard(struct arena *a, enum store_class cls,
			    const char *data, size_t len,
			    struct store_item *item_r, const char **error_r);
int conv_note_from_standard(struct arena *a, const char *data, size_t len,
			    struct store_item *item_r, const char **error_r);
/* In conv-mail.c (a weak fallback in conv.c returns -1 until it exists). */
int conv_email_from_standard(struct arena *a, const char *data, size_t len,
			     struct store_item *item_r, const char **error_r);

#endif
