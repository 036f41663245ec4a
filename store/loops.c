/* Forgetting a device's loops (easctl device clearloop, the admin device
 * page): the facts loop detection keeps in the device's LOOPSTATE_BLOB
 * (common/loopstate.h) go, and what was isolated is sent again. */
#include "loopstate.h"
#include "store-int.h"

/* An isolated item becomes pending again: the modseq walk of its folder
 * goes back to before it, and a version the device holds is held as
 * older; an isolated folder the same way in the hierarchy. */
enum store_error
store_device_clear_loops(struct store *s, struct arena *a, int64_t device_row,
			 size_t *isolated_r)
{
	struct loopstate ls;
	enum store_error e;
	uint8_t *data;
	size_t len, isolated = 0;

	*isolated_r = 0;
	if ((e = store_begin(s, true)) != STORE_OK)
		return e;
	e = store_device_blob_get(s, a, device_row, LOOPSTATE_BLOB, &data,
				  &len);
	if (e == STORE_NOTFOUND) {
		data = NULL;
		len = 0;
		e = STORE_OK;
	}
	loopstate_parse(a, data, len, &ls);
	for (size_t i = 0; i < ls.n && e == STORE_OK; i++) {
		const struct loopstate_fact *f = &ls.v[i];
		struct store_sync_state st;
		int64_t held;

		if (f->kind != LOOPSTATE_ISOLATED)
			continue;
		e = store_sync_get(s, a, device_row, f->folder, &st);
		if (e == STORE_NOTFOUND) {
			e = STORE_OK; /* no state: it all comes again */
			continue;
		}
		if (e != STORE_OK)
			break;
		if (f->folder != 0 &&
		    store_sync_held(s, st.id, f->id, &held) == STORE_OK &&
		    held >= f->modseq)
			e = store_sync_mark(s, st.id, f->id, f->modseq - 1,
					    true);
		st.hwm = st.hwm < f->modseq - 1 ? st.hwm : f->modseq - 1;
		if (e == STORE_OK)
			e = store_sync_save(s, &st);
		isolated++;
	}
	if (e == STORE_OK)
		e = store_device_blob_set(s, device_row, LOOPSTATE_BLOB, NULL,
					  0);
	/* a running server forgets the no-change answers it remembers for
	 * the device (server/standing.c) */
	if (e == STORE_OK)
		e = store_touch_device(s, device_row);
	if (e == STORE_OK)
		e = store_commit(s);
	if (e != STORE_OK) {
		store_rollback(s);
		return e;
	}
	*isolated_r = isolated;
	return STORE_OK;
}
