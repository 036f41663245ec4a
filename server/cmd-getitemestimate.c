/* GetItemEstimate (MS-ASCMD 2.2.1.9): how many changes a Sync of each
 * collection would bring now. Read-only: the key never advances. */
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"

/* Response Status values (MS-ASCMD 2.2.3.177.6). */
#define GIE_ST_OK 1
#define GIE_ST_INVALID_COLLECTION 2
#define GIE_ST_NOT_PRIMED 3
#define GIE_ST_INVALID_KEY 4
#define GIE_ST_PROTOCOL 2 /* malformed request: top-level */

#define GIE_MAX_COLLECTIONS 100

static int64_t
filter_days(int64_t filter_type)
{
	static const int64_t days[] = {0, 1, 3, 7, 14, 30, 90, 180};

	if (filter_type < 0 || filter_type >= (int64_t)N_ELEMENTS(days))
		return 0;
	return days[filter_type];
}

/* The same window rules as Sync (digest 5.2 FilterType table). */
static void
filter_for(enum store_class cls, int64_t filter_type,
	   struct store_sync_filter *f)
{
	memset(f, 0, sizeof(*f));
	if ((cls == STORE_CLASS_EMAIL || cls == STORE_CLASS_CALENDAR) &&
	    filter_days(filter_type) > 0)
		f->since = time_now() - filter_days(filter_type) * 86400;
	else if (cls == STORE_CLASS_TASKS)
		f->incomplete_only = filter_type == 8;
}

/* FilterType from the request (14.0+: inside airsync:Options matching the
 * class; 12.1: directly in Collection), else -1 = use what Sync stored. */
static int64_t
request_filter(const struct wbxml_node *coll, enum store_class cls)
{
	const struct wbxml_node *n;
	int64_t v;

	if (wbxml_child_int(coll, EAS_AIRSYNC_FILTERTYPE, &v) == 1)
		return v;
	wbxml_foreach(coll, n)
	{
		const char *oc;

		if (n->tag != EAS_AIRSYNC_OPTIONS)
			continue;
		oc = wbxml_child_text(n, EAS_AIRSYNC_CLASS);
		if (oc != NULL && store_class_parse(oc) != cls)
			continue;
		if (wbxml_child_int(n, EAS_AIRSYNC_FILTERTYPE, &v) == 1)
			return v;
	}
	return -1;
}

/* FilterType kept by Sync in the options blob (an airsync:Options
 * element). */
static int64_t
stored_filter(struct arena *a, const struct store_sync_state *st)
{
	struct wbxml_node *root;
	const char *error;
	int64_t v;

	if (st->options == NULL || st->options_len == 0 ||
	    wbxml_decode(a, st->options, st->options_len, &wbxml_limits_default,
			 &root, &error) < 0)
		return -1;
	if (wbxml_child_int(root, EAS_AIRSYNC_FILTERTYPE, &v) == 1)
		return v;
	return -1;
}

/* One collection: its Status and, on success, the estimate. */
static int
estimate_one(struct eas_req *req, const struct wbxml_node *coll,
	     const char *cid, int64_t *estimate_r, enum store_error *e)
{
	struct store_folder folder;
	struct store_sync_state st;
	struct store_sync_filter filter;
	enum store_class cls;
	const char *key = wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY);
	int64_t ft;

	*e = STORE_OK;
	*estimate_r = 0;
	if (cid == NULL)
		return GIE_ST_INVALID_COLLECTION;
	*e = store_folder_get(req->store, req->arena, req->account.id, cid,
			      &folder);
	if (*e == STORE_NOTFOUND || (*e == STORE_OK && folder.deleted)) {
		*e = STORE_OK;
		return GIE_ST_INVALID_COLLECTION;
	}
	if (*e != STORE_OK)
		return -1;
	cls = store_class_of_folder_type(folder.type);
	if (cls == STORE_CLASS_NONE)
		return GIE_ST_INVALID_COLLECTION;
	if (key == NULL || strcmp(key, "0") == 0)
		return GIE_ST_NOT_PRIMED;
	*e = store_sync_get(req->store, req->arena, req->device.id, folder.id,
			    &st);
	if (*e == STORE_NOTFOUND) {
		*e = STORE_OK;
		return GIE_ST_NOT_PRIMED;
	}
	if (*e != STORE_OK)
		return -1;
	/* The current key, or the previous one (the client may not have
	 * seen our last Sync answer yet). */
	if (st.cur_key == NULL ||
	    (strcmp(key, st.cur_key) != 0 &&
	     (st.prev_key == NULL || strcmp(key, st.prev_key) != 0)))
		return GIE_ST_INVALID_KEY;
	ft = request_filter(coll, cls);
	if (ft < 0)
		ft = stored_filter(req->arena, &st);
	filter_for(cls, ft, &filter);
	*e = store_sync_count(req->store, &st, &filter, estimate_r);
	if (*e != STORE_OK)
		return -1;
	return GIE_ST_OK;
}

enum eas_cmd_result
cmd_getitemestimate(struct eas_req *req, const struct wbxml_node *in,
		    struct wbxml_node **out_r)
{
	struct arena *a = req->arena;
	const struct wbxml_node *colls, *c;
	struct wbxml_node *root;
	enum store_error e;
	size_t n = 0;

	*out_r = NULL;
	root = wbxml_new(a, EAS_GETITEMESTIMATE_GETITEMESTIMATE);
	colls = in != NULL && in->tag == EAS_GETITEMESTIMATE_GETITEMESTIMATE
			? wbxml_child(in, EAS_GETITEMESTIMATE_COLLECTIONS)
			: NULL;
	if (colls == NULL ||
	    wbxml_count_children(colls) > GIE_MAX_COLLECTIONS) {
		/* MS-ASCMD 2.2.3.177.6: a request we cannot read has no
		 * collection to answer for; status 2 at the top. */
		wbxml_add_int(a, root, EAS_GETITEMESTIMATE_STATUS,
			      GIE_ST_PROTOCOL);
		req->eas_status = GIE_ST_PROTOCOL;
		*out_r = root;
		return EAS_CMD_OK;
	}
	if ((e = store_begin(req->store, false)) != STORE_OK)
		return eas_req_store_error(req, e, "GetItemEstimate");
	wbxml_foreach(colls, c)
	{
		const char *cid =
			wbxml_child_text(c, EAS_GETITEMESTIMATE_COLLECTIONID);
		struct wbxml_node *resp, *rc;
		int64_t estimate;
		int status;

		if (c->tag != EAS_GETITEMESTIMATE_COLLECTION)
			continue;
		status = estimate_one(req, c, cid, &estimate, &e);
		if (status < 0) {
			store_rollback(req->store);
			return eas_req_store_error(req, e, "GetItemEstimate");
		}
		resp = wbxml_add(a, root, EAS_GETITEMESTIMATE_RESPONSE);
		wbxml_add_int(a, resp, EAS_GETITEMESTIMATE_STATUS, status);
		rc = wbxml_add(a, resp, EAS_GETITEMESTIMATE_COLLECTION);
		if (cid != NULL)
			wbxml_add_text(a, rc, EAS_GETITEMESTIMATE_COLLECTIONID,
				       cid);
		if (status == GIE_ST_OK)
			wbxml_add_int(a, rc, EAS_GETITEMESTIMATE_ESTIMATE,
				      estimate);
		n++;
	}
	store_rollback(req->store); /* read only */
	log_debug("estimated %zu collections", n);
	*out_r = root;
	return EAS_CMD_OK;
}
