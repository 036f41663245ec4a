/* The free/busy view of one account from the store: its calendar items in
 * the window through freebusy_item_spans. Apart from freebusy.c so that
 * the expansion links (and is unit tested) without the store. */
#include <stdlib.h>

#include "freebusy.h"
#include "log.h"

#define FREEBUSY_MAX_ITEMS 10000

static int
span_cmp(const void *x, const void *y)
{
	const struct freebusy_span *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

enum store_error
freebusy_account(struct store *s, struct arena *a, int64_t account_id,
		 int64_t from, int64_t to, struct freebusy_span **spans_r,
		 size_t *n_r)
{
	struct store_account acc;
	struct store_item *items;
	struct freebusy_span *spans = NULL;
	const char **self;
	const char **aliases;
	size_t nitems, nal = 0, n = 0, cap = 0, k = 0;
	enum store_error e;
	bool more;

	*spans_r = NULL;
	*n_r = 0;
	e = store_account_get_by_id(s, a, account_id, &acc);
	if (e != STORE_OK)
		return e;
	e = store_alias_list(s, a, account_id, &aliases, &nal);
	if (e != STORE_OK)
		return e;
	self = arena_alloc(a, (nal + 3) * sizeof(*self));
	self[k++] = acc.email;
	self[k++] = acc.login;
	for (size_t i = 0; i < nal; i++)
		self[k++] = aliases[i];
	self[k] = NULL;
	e = store_item_list_range(s, a, account_id, STORE_CLASS_CALENDAR, from,
				  to, FREEBUSY_MAX_ITEMS, &items, &nitems,
				  &more);
	if (e != STORE_OK)
		return e;
	if (more)
		log_warn("free/busy: more than %d events in the window",
			 FREEBUSY_MAX_ITEMS);
	for (size_t i = 0; i < nitems; i++) {
		const char *error;

		if (freebusy_item_spans(a, (const char *)items[i].data,
					items[i].data_len, self, from, to,
					&spans, &n, &cap, &error) < 0)
			log_warn("free/busy: item %s: %s", items[i].server_id,
				 error);
	}
	if (n > 1)
		qsort(spans, n, sizeof(*spans), span_cmp);
	*spans_r = spans;
	*n_r = n;
	return STORE_OK;
}
