/* libFuzzer target for the WBXML decoder: decode, re-encode, decode the
 * re-encoding and check the two trees agree; the fragment decoder too.
 * Built by `make fuzz` without libxml2. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "util.h"
#include "wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_tree(const struct wbxml_node *a, const struct wbxml_node *b)
{
	const struct wbxml_node *ca, *cb;

	/* Deep inputs are capped by the limits below, so recursion is
	 * bounded by max_depth. */
	if (a->tag != b->tag || a->len != b->len ||
	    (a->len > 0 && memcmp(a->data, b->data, a->len) != 0))
		return false;
	for (ca = a->child, cb = b->child; ca != NULL && cb != NULL;
	     ca = ca->next, cb = cb->next) {
		if (!same_tree(ca, cb))
			return false;
	}
	return ca == NULL && cb == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wbxml_limits limits = {32, 10000, 1 << 20};
	struct arena *a = arena_new(0);
	struct wbxml_node *root, *again;
	const char *error = NULL;
	struct buf out;

	buf_init(&out, 4 << 20);
	if (wbxml_decode(a, data, size, &limits, &root, &error) == 0) {
		eas_assert(root != NULL);
		/* Text always ends in NUL, even opaque and concatenated. */
		eas_assert(root->len == 0 || root->data[root->len] == '\0');
		if (wbxml_encode(root, &out) == 0) {
			if (wbxml_decode(a, out.data, out.len, &limits, &again,
					 &error) != 0)
				eas_panic("re-encoding does not decode: %s",
					  error);
			eas_assert(same_tree(root, again));
		}
	} else {
		eas_assert(error != NULL && strstr(error, "offset") != NULL);
	}
	if (wbxml_decode_fragment(a, data, size, &limits, &root, &error) == 0)
		eas_assert(root != NULL);
	buf_deinit(&out);
	arena_free(&a);
	return 0;
}
