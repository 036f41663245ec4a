/* Shared by Search, Find and ResolveRecipients (cmd-search.c): ranges,
 * GAL results with pictures, and the account's mail index made current
 * before a mailbox query. */
#ifndef EASD_SERVER_SEARCH_H
#define EASD_SERVER_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas.h"

/* Results one response carries at most (Range wider than this is cut). */
#define SEARCH_RANGE_MAX 100
/* Longest Query/FreeText/To accepted (MS-ASCMD caps To at 256). */
#define SEARCH_QUERY_MAX 256

/* Range "first-last" (MS-ASCMD 2.2.3.143), zero based, inclusive; NULL
 * is 0-(SEARCH_RANGE_MAX - 1). Returns 0, or -1 when malformed or out of
 * order. The count is capped at SEARCH_RANGE_MAX. */
int search_range_parse(const char *s, size_t *first_r, size_t *count_r);

/* Picture options (MaxSize bytes, MaxPictures) and how many were sent. */
struct search_pictures {
	bool wanted;
	uint64_t max_size;     /* 0 = no limit */
	uint64_t max_pictures; /* 0 = no limit */
	uint64_t sent;
};

/* gal:Picture of an entry: Status 1 and Data, or 173 (no photo), 174
 * (over MaxSize), 175 (MaxPictures reached); MS-ASCMD 2.2.3.177.13. */
void search_add_picture(struct eas_req *req, struct wbxml_node *parent,
			uint16_t picture_tag, uint16_t status_tag,
			uint16_t data_tag, const struct store_gal_entry *g,
			struct search_pictures *pics);

/* The gal: properties of an entry under props (MS-ASCMD 2.2.3.139). */
void search_add_gal_props(struct eas_req *req, struct wbxml_node *props,
			  const struct store_gal_entry *g,
			  struct search_pictures *pics);

/* Index what the store queued for the account (a bounded batch), so a
 * mailbox query sees older and draft mail too. */
void search_catch_up(struct eas_req *req);

#endif
