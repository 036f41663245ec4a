/* Ping (MS-ASCMD 2.2.1.13): park until a watched folder has changes for
 * the device, its hierarchy changes, or the heartbeat runs out. The
 * parameters of the last Ping are kept per device ("ping" blob) so an empty
 * Ping repeats them. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "push.h"
#include "server.h"
#include "util.h"

/* MS-ASCMD 2.2.3.177.11: Ping Status. */
#define PING_EXPIRED 1	     /* heartbeat ran out, no changes */
#define PING_CHANGES 2	     /* Folders lists the changed folders */
#define PING_MISSING 3	     /* parameters missing, nothing cached */
#define PING_SYNTAX 4	     /* request not understood */
#define PING_BAD_HEARTBEAT 5 /* HeartbeatInterval carries the bound */
#define PING_TOO_MANY 6	     /* MaxFolders carries the limit */
#define PING_FOLDERSYNC 7    /* hierarchy changed or unknown folder */
#define PING_SERVER_ERROR 8

/* Longest folder ServerId we accept (ours are short). */
#define PING_MAX_ID_LEN 256

struct ping_ctx {
	unsigned heartbeat;
	const char **server_ids; /* per watched folder */
	int64_t *folders;	 /* row ids */
	size_t n;
};

static struct wbxml_node *
ping_response(struct eas_req *req, int status)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_PING_PING);

	wbxml_add_int(req->arena, root, EAS_PING_STATUS, status);
	req->eas_status = status;
	return root;
}

static enum eas_cmd_result
ping_answer(struct eas_req *req, int status, struct wbxml_node **out_r)
{
	*out_r = ping_response(req, status);
	return EAS_CMD_OK;
}

/* Cached parameters: "heartbeat\nid\nid\n...". */
static void
cache_serialize(struct buf *b, unsigned heartbeat, const char *const *ids,
		size_t n)
{
	buf_printf(b, "%u\n", heartbeat);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s\n", ids[i]);
}

/* Returns 1 with the cached values, 0 when there are none or they are
 * unreadable, -1 on a store error (*err_r). */
static int
cache_load(struct eas_req *req, unsigned *heartbeat_r, const char ***ids_r,
	   size_t *n_r, uint8_t **raw_r, size_t *raw_len_r,
	   enum store_error *err_r)
{
	uint8_t *data;
	size_t len, n = 0, count = 0, max = req->srv->cfg.max_ping_folders;
	const char **ids;
	char *p, *p0, *end, *nl;
	int64_t hb;

	*err_r = store_device_blob_get(req->store, eas_req_scratch(req),
				       req->device.id, "ping", &data, &len);
	if (*err_r == STORE_NOTFOUND)
		return 0;
	if (*err_r != STORE_OK)
		return -1;
	*raw_r = data;
	*raw_len_r = len;
	p = arena_strndup(eas_req_scratch(req), (const char *)data, len);
	end = p + strlen(p);
	nl = strchr(p, '\n');
	if (nl == NULL)
		return 0;
	*nl = '\0';
	p0 = nl;
	if (str_to_int64(p, &hb) < 0 || hb <= 0 || hb > 100000)
		return 0;
	/* Room for the ids there are, not for max: a parked Ping keeps its
	 * arena, and max_ping_folders pointers would double it. */
	for (p = nl + 1; p < end && count < max; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (nl > p)
			count++;
	}
	ids = arena_alloc(eas_req_scratch(req), (count + 1) * sizeof(*ids));
	nl = p0;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (*p == '\0')
			continue;
		if (n == count)
			break;
		ids[n++] = p;
	}
	*heartbeat_r = (unsigned)hb;
	*ids_r = ids;
	*n_r = n;
	return 1;
}

/* Whether the device has unseen changes in the folder. A folder it never
 * synced has no state and so nothing "pending" for it. */
static enum store_error
folder_pending(struct eas_req *req, int64_t folder_id, bool *pending_r)
{
	struct store_sync_state st;
	struct store_sync_filter filter;
	enum store_error e;

	*pending_r = false;
	e = store_sync_get(req->store, eas_req_scratch(req), req->device.id,
			   folder_id, &st);
	if (e == STORE_NOTFOUND)
		return STORE_OK;
	if (e != STORE_OK)
		return e;
	memset(&filter, 0, sizeof(filter));
	filter.since = st.filter_since;
	return store_sync_pending(req->store, &st, &filter, pending_r);
}

/* Answer Status 2 with the folders (of those with check[i], or all when
 * check is NULL) that really have changes. Returns 1 when it answered, 0
 * when nothing is pending, -1 on a store error. */
static int
check_pending(struct eas_req *req, const struct ping_ctx *pc, const bool *check,
	      struct wbxml_node **out_r)
{
	struct wbxml_node *folders = NULL, *root = NULL;

	for (size_t i = 0; i < pc->n; i++) {
		bool pending;
		enum store_error e;

		if (check != NULL && !check[i])
			continue;
		e = folder_pending(req, pc->folders[i], &pending);
		if (e != STORE_OK) {
			log_error("Ping: pending changes of folder %s: %s",
				  pc->server_ids[i], store_error_str(e));
			return -1;
		}
		if (!pending)
			continue;
		if (root == NULL) {
			root = ping_response(req, PING_CHANGES);
			folders = wbxml_add(req->arena, root, EAS_PING_FOLDERS);
		}
		wbxml_add_text(req->arena, folders, EAS_PING_FOLDER,
			       pc->server_ids[i]);
	}
	if (root == NULL)
		return 0;
	*out_r = root;
	return 1;
}

/* Answer slightly before the heartbeat ends so the reply beats the
 * client's and proxies' own timeouts (digest 5.5). */
static uint64_t
ping_deadline(unsigned heartbeat)
{
	uint64_t ms = (uint64_t)heartbeat * 1000;

	return time_mono_ms() + ms - EAS_MIN(ms / 10, 5000);
}

static enum eas_cmd_result ping_resume(struct eas_req *req,
				       struct wbxml_node **out_r);

/* What a parked Ping keeps is in req->arena; the request tree, the body
 * and what the store answered go (a parked Ping's memory is what 100,000
 * devices cost). */
static enum eas_cmd_result
ping_park(struct eas_req *req, struct push_waiter *w, uint64_t seq)
{
	eas_req_park_small(req);
	w->seq = seq;
	w->reason = PUSH_NONE;
	memset(w->folder_changed, 0, w->nfolders * sizeof(bool));
	req->waiter = w;
	req->resume_fn = ping_resume;
	return EAS_CMD_PARKED;
}

static enum eas_cmd_result
ping_resume(struct eas_req *req, struct wbxml_node **out_r)
{
	struct ping_ctx *pc = req->resume_ctx;
	struct push_waiter *w = req->waiter;
	uint64_t seq;
	int r;

	switch (w->reason) {
	case PUSH_CHANGE:
	case PUSH_DEVICE:
		/* Read the counter first, then the store in a fresh snapshot:
		 * a change committed while we look fires the re-parked waiter
		 * at once. */
		store_snapshot_end(req->store);
		seq = push_seq(req->srv->push, req->account.id);
		/* Access, wipe or provisioning changed: Status 1 sends the
		 * device straight back, and the dispatcher answers its next
		 * request with the blocked / wipe / provisioning status
		 * (MS-ASCMD 2.2.2), which a Ping Status cannot carry. */
		if (eas_req_standing_changed(req))
			return ping_answer(req, PING_EXPIRED, out_r);
		if (w->reason == PUSH_CHANGE) {
			r = check_pending(req, pc, w->folder_changed, out_r);
			if (r < 0)
				return ping_answer(req, PING_SERVER_ERROR,
						   out_r);
			if (r > 0)
				return EAS_CMD_OK;
		}
		/* The change was the device's own, outside its filter, or
		 * changed nothing that matters to it: keep waiting. */
		if (time_mono_ms() + 100 >= w->deadline_ms)
			return ping_answer(req, PING_EXPIRED, out_r);
		return ping_park(req, w, seq);
	case PUSH_HIERARCHY:
		return ping_answer(req, PING_FOLDERSYNC, out_r);
	case PUSH_TIMEOUT:
	case PUSH_SUPERSEDED: /* the older Ping ends without changes */
	case PUSH_SHUTDOWN:   /* the client pings again, elsewhere */
	case PUSH_LIMIT:      /* answered by the front end */
	case PUSH_NONE:
		break;
	}
	return ping_answer(req, PING_EXPIRED, out_r);
}

enum eas_cmd_result
cmd_ping(struct eas_req *req, const struct wbxml_node *in,
	 struct wbxml_node **out_r)
{
	const struct easd_config *cfg = &req->srv->cfg;
	const struct wbxml_node *folders_n = NULL, *f;
	struct ping_ctx *pc = arena_new_struct(req->arena, struct ping_ctx);
	struct push_waiter *w;
	const char **ids = NULL, **cached_ids = NULL;
	size_t n = 0, cached_n = 0;
	unsigned heartbeat = 0, cached_hb = 0;
	bool have_hb = false, have_folders = false;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	struct buf b;
	enum store_error e;
	uint64_t seq;
	int64_t v;
	int r;

	if (in != NULL) {
		if (in->tag != EAS_PING_PING)
			return ping_answer(req, PING_SYNTAX, out_r);
		r = wbxml_child_int(in, EAS_PING_HEARTBEATINTERVAL, &v);
		if (r < 0)
			return ping_answer(req, PING_SYNTAX, out_r);
		if (r > 0) {
			struct wbxml_node *root;

			/* MS-ASCMD 2.2.3.88.1: out of range -> Status 5
			 * with the bound that was crossed. */
			if (v < (int64_t)cfg->heartbeat_min ||
			    v > (int64_t)cfg->heartbeat_max) {
				root = ping_response(req, PING_BAD_HEARTBEAT);
				wbxml_add_int(req->arena, root,
					      EAS_PING_HEARTBEATINTERVAL,
					      v < (int64_t)cfg->heartbeat_min
						      ? cfg->heartbeat_min
						      : cfg->heartbeat_max);
				*out_r = root;
				return EAS_CMD_OK;
			}
			heartbeat = (unsigned)v;
			have_hb = true;
		}
		folders_n = wbxml_child(in, EAS_PING_FOLDERS);
	}
	if (folders_n != NULL) {
		size_t count = 0;

		wbxml_foreach(folders_n, f) count++;
		if (count > cfg->max_ping_folders) {
			struct wbxml_node *root =
				ping_response(req, PING_TOO_MANY);

			wbxml_add_int(req->arena, root, EAS_PING_MAXFOLDERS,
				      cfg->max_ping_folders);
			*out_r = root;
			return EAS_CMD_OK;
		}
		ids = arena_alloc(eas_req_scratch(req),
				  (count + 1) * sizeof(*ids));
		wbxml_foreach(folders_n, f)
		{
			const char *id;

			if (f->tag != EAS_PING_FOLDER)
				return ping_answer(req, PING_SYNTAX, out_r);
			id = wbxml_child_text(f, EAS_PING_ID);
			if (id == NULL || *id == '\0' ||
			    strlen(id) > PING_MAX_ID_LEN ||
			    strchr(id, '\n') != NULL)
				return ping_answer(req, PING_SYNTAX, out_r);
			ids[n++] = id;
		}
		have_folders = n > 0;
	}

	/* MS-ASCMD 2.2.3.88.1 / 2.2.3.72: missing parts come from the
	 * device's previous Ping. */
	r = cache_load(req, &cached_hb, &cached_ids, &cached_n, &raw, &raw_len,
		       &e);
	if (r < 0) {
		log_error("Ping: cached parameters: %s", store_error_str(e));
		return ping_answer(req, PING_SERVER_ERROR, out_r);
	}
	if (!have_hb || !have_folders) {
		if (r == 0 || (!have_folders && cached_n == 0))
			return ping_answer(req, PING_MISSING, out_r);
		if (!have_hb)
			heartbeat = cached_hb;
		if (!have_folders) {
			ids = cached_ids;
			n = cached_n;
		}
	}
	/* The limits may have changed since the cache was written. */
	heartbeat = EAS_MAX(heartbeat, cfg->heartbeat_min);
	heartbeat = EAS_MIN(heartbeat, cfg->heartbeat_max);

	pc->heartbeat = heartbeat;
	pc->server_ids = ids;
	pc->n = n;
	pc->folders = arena_alloc(req->arena, (n + 1) * sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		struct store_folder folder;

		e = store_folder_get(req->store, eas_req_scratch(req),
				     req->account.id, ids[i], &folder);
		if (e == STORE_NOTFOUND || (e == STORE_OK && folder.deleted)) {
			log_info("Ping: unknown folder %s", ids[i]);
			return ping_answer(req, PING_FOLDERSYNC, out_r);
		}
		if (e != STORE_OK) {
			log_error("Ping: folder %s: %s", ids[i],
				  store_error_str(e));
			return ping_answer(req, PING_SERVER_ERROR, out_r);
		}
		pc->folders[i] = folder.id;
	}

	/* Remember the parameters when they differ from the cached ones
	 * (usually they do not, and a Ping then writes nothing). */
	buf_init(&b, 64 * 1024);
	cache_serialize(&b, heartbeat, ids, n);
	if (b.overflow) {
		buf_deinit(&b);
		return ping_answer(req, PING_SYNTAX, out_r);
	}
	if (raw == NULL || raw_len != b.len || memcmp(raw, b.data, b.len)) {
		e = store_device_blob_set(req->store, req->device.id, "ping",
					  b.data, b.len);
		if (e != STORE_OK) {
			buf_deinit(&b);
			log_error("Ping: saving parameters: %s",
				  store_error_str(e));
			return ping_answer(req, PING_SERVER_ERROR, out_r);
		}
	}
	buf_deinit(&b);

	/* The counter is read before the store is checked, so a change
	 * committed in between fires the waiter as soon as it is armed. */
	eas_assert(req->srv->push != NULL);
	/* The store is read after the counter, in a fresh snapshot, so a
	 * change in between is either seen or fires the waiter. */
	store_snapshot_end(req->store);
	seq = push_seq(req->srv->push, req->account.id);
	r = check_pending(req, pc, NULL, out_r);
	if (r < 0)
		return ping_answer(req, PING_SERVER_ERROR, out_r);
	if (r > 0)
		return EAS_CMD_OK;

	/* The ids are the request tree's or the cached parameters': both
	 * go when it parks. */
	pc->server_ids = arena_alloc(req->arena, (n + 1) * sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		pc->server_ids[i] = arena_strdup(req->arena, ids[i]);
	w = arena_new_struct(req->arena, struct push_waiter);
	w->req = req;
	w->account_id = req->account.id;
	w->device_row = req->device.id;
	w->folders = pc->folders;
	w->nfolders = n;
	w->folder_changed = arena_zalloc(req->arena, (n + 1) * sizeof(bool));
	w->deadline_ms = ping_deadline(heartbeat);
	req->resume_ctx = pc;
	return ping_park(req, w, seq);
}
