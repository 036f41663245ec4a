/* FolderSync, FolderCreate, FolderUpdate and FolderDelete (MS-ASCMD
 * 2.2.1.5, 2.2.1.3, 2.2.1.6, 2.2.1.4): the folder hierarchy, one key
 * stream per device (sync state of folder 0). */
#include <string.h>

#include "log.h"
#include "loop.h"
#include "server.h"
#include "synckey.h"
#include "util.h"

/* FolderSync / Folder* statuses (MS-ASCMD 2.2.3.177.x). FolderUpdate
 * answers 2 for a special folder and keeps 3 for the recipient
 * information cache (2.2.3.177.6); FolderCreate and FolderDelete use 3
 * for special folders. */
#define FS_OK 1
#define FS_EXISTS 2
#define FS_SPECIAL 3
#define FS_UPDATE_SPECIAL 2
#define FS_UPDATE_RI_CACHE 3
#define FS_NOT_FOUND 4
#define FS_PARENT_NOT_FOUND 5
#define FS_SERVER_ERROR 6
#define FS_INVALID_KEY 9
#define FS_MALFORMED 10

static struct wbxml_node *
status_only(struct eas_req *req, uint16_t root_tag, int status)
{
	struct wbxml_node *root = wbxml_new(req->arena, root_tag);

	wbxml_add_int(req->arena, root, EAS_FOLDERHIERARCHY_STATUS, status);
	req->eas_status = status;
	return root;
}

static void
add_folder(struct eas_req *req, struct wbxml_node *changes, uint16_t tag,
	   const struct store_folder *f)
{
	struct wbxml_node *n = wbxml_add(req->arena, changes, tag);

	wbxml_add_text(req->arena, n, EAS_FOLDERHIERARCHY_SERVERID,
		       f->server_id);
	if (tag == EAS_FOLDERHIERARCHY_DELETE)
		return;
	wbxml_add_text(req->arena, n, EAS_FOLDERHIERARCHY_PARENTID,
		       f->parent_server_id != NULL ? f->parent_server_id : "0");
	wbxml_add_text(req->arena, n, EAS_FOLDERHIERARCHY_DISPLAYNAME, f->name);
	wbxml_add_int(req->arena, n, EAS_FOLDERHIERARCHY_TYPE, f->type);
}

static enum eas_cmd_result
replay(struct eas_req *req, const struct store_sync_state *st,
       struct wbxml_node **out_r)
{
	struct wbxml_node *root;
	const char *error;

	if (wbxml_decode(req->arena, st->response, st->response_len,
			 &wbxml_limits_default, &root, &error) < 0) {
		log_error("cached hierarchy answer unreadable: %s", error);
		*out_r = status_only(req, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				     FS_INVALID_KEY);
		return EAS_CMD_OK;
	}
	log_info("hierarchy key repeated: answering as before");
	req->eas_status = FS_OK;
	*out_r = root;
	return EAS_CMD_OK;
}

/* Nothing new: the same key, no new state behind it. */
static struct wbxml_node *
nochange_answer(struct eas_req *req, const char *key)
{
	struct wbxml_node *root =
		wbxml_new(req->arena, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	struct wbxml_node *changes;

	wbxml_add_int(req->arena, root, EAS_FOLDERHIERARCHY_STATUS, FS_OK);
	req->eas_status = FS_OK;
	wbxml_add_text(req->arena, root, EAS_FOLDERHIERARCHY_SYNCKEY, key);
	changes = wbxml_add(req->arena, root, EAS_FOLDERHIERARCHY_CHANGES);
	wbxml_add_int(req->arena, changes, EAS_FOLDERHIERARCHY_COUNT, 0);
	return root;
}

/* Hierarchy changes for the device since st (everything for a new one),
 * built into a FolderSync answer; the state is saved with it. While the
 * hierarchy is probed (loop.h) an answer carries one folder (and the
 * deletes before it); isolate_first isolates the folder the answer would
 * have carried first. */
static enum eas_cmd_result
foldersync_answer(struct eas_req *req, struct store_sync_state *st, bool fresh,
		  struct loop_guard *g, bool isolate_first,
		  struct wbxml_node **out_r)
{
	struct store_folder_change *ch;
	struct wbxml_node *root, *changes;
	size_t n, shown = 0, folders = 0;
	int64_t hwm, consumed = 0;
	bool probe = false, as_new = fresh, stopped = false;
	enum store_error e;
	struct buf bytes;

	e = store_folder_changes(req->store, req->arena, req->account.id,
				 fresh ? 0 : st->hwm,
				 fresh ? 0 : req->device.id, &ch, &n, &hwm);
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "folder changes");
	if (!fresh && n == 0) {
		root = nochange_answer(req, st->cur_key);
		if (hwm > st->hwm) {
			/* Only the device's own changes happened: move the
			 * mark without a new key. */
			st->hwm = hwm;
			e = store_sync_save(req->store, st);
			if (e != STORE_OK)
				return eas_req_store_error(req, e, "state");
		}
		/* the same key gets the same answer until the folders
		 * change (server/standing.c) */
		standing_hierarchy_set(req->srv->standing, req->standing_gen,
				       req->account.id, req->device_id,
				       st->cur_key);
		*out_r = root;
		return EAS_CMD_OK;
	}
	root = wbxml_new(req->arena, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	wbxml_add_int(req->arena, root, EAS_FOLDERHIERARCHY_STATUS, FS_OK);
	req->eas_status = FS_OK;
	if (loop_concerns(g, 0)) {
		bool probe_fresh;

		if (!fresh)
			loop_advanced(g, 0);
		probe = loop_probing(g, 0, &probe_fresh);
		as_new = fresh || (probe && probe_fresh);
	}
	st->prev_key = fresh ? NULL : st->cur_key;
	st->cur_key = synckey_next(req->arena, fresh ? NULL : st->cur_key);
	wbxml_add_text(req->arena, root, EAS_FOLDERHIERARCHY_SYNCKEY,
		       st->cur_key);
	changes = wbxml_add(req->arena, root, EAS_FOLDERHIERARCHY_CHANGES);
	{
		struct wbxml_node *count = wbxml_add(req->arena, changes,
						     EAS_FOLDERHIERARCHY_COUNT);

		for (size_t i = 0; i < n; i++) {
			const struct store_folder *f = &ch[i].folder;
			bool gone = ch[i].kind == STORE_CHANGE_DELETE;
			uint16_t tag = ch[i].kind == STORE_CHANGE_ADD
					       ? EAS_FOLDERHIERARCHY_ADD
				       : gone ? EAS_FOLDERHIERARCHY_DELETE
					      : EAS_FOLDERHIERARCHY_UPDATE;

			/* A new device gets only live folders. */
			if (as_new && (gone || f->deleted)) {
				consumed = f->modseq;
				continue;
			}
			if (as_new)
				tag = EAS_FOLDERHIERARCHY_ADD;
			if (!gone && loop_concerns(g, 0)) {
				if (probe && folders > 0) {
					stopped = true; /* one an answer */
					break;
				}
				if (!loop_is_isolated(g, 0, f->id, f->modseq) &&
				    isolate_first) {
					loop_isolate(g, 0, f->id, f->modseq,
						     f->server_id);
					isolate_first = false;
				}
				if (loop_is_isolated(g, 0, f->id, f->modseq)) {
					consumed = f->modseq;
					continue;
				}
			}
			add_folder(req, changes, tag, f);
			shown++;
			folders += !gone;
			consumed = f->modseq;
		}
		count->data =
			(const uint8_t *)arena_printf(req->arena, "%zu", shown);
		count->len = strlen((const char *)count->data);
	}
	if (probe && !stopped)
		loop_probe_end(g, 0);
	buf_init(&bytes, 0);
	if (wbxml_encode(root, &bytes) < 0) {
		buf_deinit(&bytes);
		req->http_status = 500;
		return EAS_CMD_ERROR;
	}
	st->hwm = stopped ? consumed : hwm;
	st->response = arena_memdup(req->arena, bytes.data, bytes.len);
	st->response_len = bytes.len;
	buf_deinit(&bytes);
	e = store_sync_save(req->store, st);
	if (e == STORE_OK)
		e = loop_guard_save(g);
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "hierarchy state");
	*out_r = root;
	return EAS_CMD_OK;
}

/* The cached answer to key came loop_limit() times: with one folder in it,
 * that folder is isolated and the answer without it replaces the cached
 * one; with several, key gets a new answer and the hierarchy is probed. */
static enum eas_cmd_result
hierarchy_loop(struct eas_req *req, struct store_sync_state *st,
	       struct loop_guard *g, const char *key, int64_t repeats,
	       struct wbxml_node **out_r)
{
	struct wbxml_node *root;
	const struct wbxml_node *changes, *n, *one = NULL;
	int64_t min_modseq = INT64_MAX;
	size_t nfolders = 0;
	const char *error;
	enum store_error e;

	loop_found(g, 0, "FolderSync", key, repeats);
	if (wbxml_decode(req->arena, st->response, st->response_len,
			 &wbxml_limits_default, &root, &error) < 0)
		return replay(req, st, out_r);
	changes = wbxml_child(root, EAS_FOLDERHIERARCHY_CHANGES);
	if (changes != NULL)
		wbxml_foreach(changes, n)
		{
			const char *sid = wbxml_child_text(
				n, EAS_FOLDERHIERARCHY_SERVERID);
			struct store_folder f;

			if ((n->tag != EAS_FOLDERHIERARCHY_ADD &&
			     n->tag != EAS_FOLDERHIERARCHY_UPDATE) ||
			    sid == NULL)
				continue;
			nfolders++;
			one = n;
			if (store_folder_get(req->store, req->arena,
					     req->account.id, sid,
					     &f) == STORE_OK)
				min_modseq = EAS_MIN(min_modseq, f.modseq);
		}
	if (nfolders > 1 && min_modseq != INT64_MAX) {
		st->hwm = EAS_MIN(st->hwm, min_modseq - 1);
		loop_probe_start(g, 0, false, NULL, 0);
		st->cur_key = key;
		st->prev_key = NULL;
		return foldersync_answer(req, st, false, g, false, out_r);
	}
	if (nfolders == 1) {
		const char *sid =
			wbxml_child_text(one, EAS_FOLDERHIERARCHY_SERVERID);
		struct wbxml_node *old = root, *kept;
		const struct wbxml_node *k;
		struct store_folder f;
		size_t shown = 0;
		struct buf bytes;

		if (store_folder_get(req->store, req->arena, req->account.id,
				     sid, &f) == STORE_OK)
			loop_isolate(g, 0, f.id, f.modseq, sid);
		/* the same answer without that folder */
		root = wbxml_new(req->arena, old->tag);
		wbxml_foreach(old, n)
		{
			if (n != changes) {
				wbxml_append(root, wbxml_clone(req->arena, n));
				continue;
			}
			kept = wbxml_add(req->arena, root, n->tag);
			wbxml_foreach(changes, k) shown +=
				k != one && k->tag != EAS_FOLDERHIERARCHY_COUNT;
			wbxml_add_textf(req->arena, kept,
					EAS_FOLDERHIERARCHY_COUNT, "%zu",
					shown);
			wbxml_foreach(changes,
				      k) if (k != one &&
					     k->tag !=
						     EAS_FOLDERHIERARCHY_COUNT)
				wbxml_append(kept, wbxml_clone(req->arena, k));
		}
		buf_init(&bytes, 0);
		if (wbxml_encode(root, &bytes) < 0) {
			buf_deinit(&bytes);
			req->http_status = 500;
			return EAS_CMD_ERROR;
		}
		st->response = arena_memdup(req->arena, bytes.data, bytes.len);
		st->response_len = bytes.len;
		buf_deinit(&bytes);
	}
	e = store_sync_save(req->store, st);
	if (e == STORE_OK)
		e = loop_guard_save(g);
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "hierarchy state");
	req->eas_status = FS_OK;
	*out_r = root;
	return EAS_CMD_OK;
}

/* Key 0 came more than loop_limit() times in a row: the hierarchy goes
 * one folder an answer, and if that already was so, the folder it
 * carried is isolated. */
static enum eas_cmd_result
hierarchy_loop_fresh(struct eas_req *req, struct store_sync_state *st,
		     struct loop_guard *g, int64_t repeats,
		     struct wbxml_node **out_r)
{
	bool probing = loop_probing(g, 0, NULL);

	loop_found(g, 0, "FolderSync", "0", repeats);
	if (!probing)
		loop_probe_start(g, 0, true, NULL, 0);
	return foldersync_answer(req, st, true, g, probing, out_r);
}

enum eas_cmd_result
cmd_foldersync(struct eas_req *req, const struct wbxml_node *in,
	       struct wbxml_node **out_r)
{
	struct store_sync_state st;
	struct loop_guard g;
	const char *key;
	int64_t repeats;
	enum store_error e;

	if (in == NULL || in->tag != EAS_FOLDERHIERARCHY_FOLDERSYNC ||
	    (key = wbxml_child_text(in, EAS_FOLDERHIERARCHY_SYNCKEY)) == NULL) {
		*out_r = status_only(req, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				     FS_MALFORMED);
		return EAS_CMD_OK;
	}
	/* The key that got "no change" last time, and neither the folders
	 * nor the device changed since: the same answer, without a read. */
	if (standing_hierarchy_unchanged(req->srv->standing, req->standing_gen,
					 req->account.id, req->device_id,
					 key)) {
		*out_r = nochange_answer(req, key);
		return EAS_CMD_OK;
	}
	/* any other answer may move the state */
	standing_hierarchy_set(req->srv->standing, req->standing_gen,
			       req->account.id, req->device_id, NULL);
	loop_guard_init(&g, req);
	if (strcmp(key, "0") == 0) {
		e = store_sync_reset(req->store, req->device.id, 0);
		if (e != STORE_OK && e != STORE_NOTFOUND)
			return eas_req_store_error(req, e, "hierarchy reset");
		memset(&st, 0, sizeof(st));
		st.device_id = req->device.id;
		st.folder_id = 0;
		st.backfill_after = -1;
		e = store_sync_get(req->store, req->arena, req->device.id, 0,
				   &st);
		if (e != STORE_OK && e != STORE_NOTFOUND)
			return eas_req_store_error(req, e, "hierarchy state");
		/* the first key 0 is no repeat */
		repeats = loop_repeated(&g, 0, "0") - 1;
		if (repeats >= (int64_t)loop_limit(req))
			return hierarchy_loop_fresh(req, &st, &g, repeats,
						    out_r);
		return foldersync_answer(req, &st, true, &g, false, out_r);
	}
	e = store_sync_get(req->store, req->arena, req->device.id, 0, &st);
	if (e == STORE_NOTFOUND) {
		log_info("unknown hierarchy key %s", key);
		*out_r = status_only(req, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				     FS_INVALID_KEY);
		return EAS_CMD_OK;
	}
	if (e != STORE_OK)
		return eas_req_store_error(req, e, "hierarchy state");
	if (st.prev_key != NULL && strcmp(key, st.prev_key) == 0 &&
	    st.response_len > 0) {
		e = store_sync_response(req->store, req->arena, &st);
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "hierarchy answer");
		repeats = loop_repeated(&g, 0, key);
		if (repeats >= (int64_t)loop_limit(req))
			return hierarchy_loop(req, &st, &g, key, repeats,
					      out_r);
		if ((e = loop_guard_save(&g)) != STORE_OK)
			return eas_req_store_error(req, e, "loop state");
		return replay(req, &st, out_r);
	}
	if (st.cur_key == NULL || strcmp(key, st.cur_key) != 0) {
		log_info("unknown hierarchy key %s", key);
		*out_r = status_only(req, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				     FS_INVALID_KEY);
		return EAS_CMD_OK;
	}
	return foldersync_answer(req, &st, false, &g, false, out_r);
}

/* Check the key of a folder command; on success *st holds the state. */
static int
folder_cmd_key(struct eas_req *req, const struct wbxml_node *in,
	       struct store_sync_state *st)
{
	const char *key = wbxml_child_text(in, EAS_FOLDERHIERARCHY_SYNCKEY);
	enum store_error e;

	if (key == NULL)
		return FS_MALFORMED;
	e = store_sync_get(req->store, req->arena, req->device.id, 0, st);
	if (e == STORE_NOTFOUND ||
	    (e == STORE_OK &&
	     (st->cur_key == NULL || strcmp(st->cur_key, key) != 0))) {
		log_info("folder command with an unknown hierarchy key");
		return FS_INVALID_KEY;
	}
	return e == STORE_OK ? FS_OK : FS_SERVER_ERROR;
}

/* After a folder command: a new key, not echoed back (the change carries
 * this device as its origin). A repeated older key after this point means
 * a full FolderSync. */
static int
folder_cmd_advance(struct eas_req *req, struct store_sync_state *st,
		   struct wbxml_node *root)
{
	enum store_error e;

	st->prev_key = NULL;
	st->response = NULL;
	st->response_len = 0;
	st->cur_key = synckey_next(req->arena, st->cur_key);
	e = store_sync_save(req->store, st);
	if (e != STORE_OK)
		return -1;
	wbxml_add_text(req->arena, root, EAS_FOLDERHIERARCHY_SYNCKEY,
		       st->cur_key);
	return 0;
}

static int
folder_status_of(enum store_error e, int invalid_status)
{
	switch (e) {
	case STORE_OK:
		return FS_OK;
	case STORE_EXISTS:
		return FS_EXISTS;
	case STORE_NOTFOUND:
		return FS_NOT_FOUND;
	case STORE_INVALID:
		return invalid_status;
	default:
		return FS_SERVER_ERROR;
	}
}

/* Parent "0" is the top level; others must be this account's folders. */
static int
resolve_parent(struct eas_req *req, const char *parent, int64_t *id_r)
{
	struct store_folder f;

	if (parent == NULL || strcmp(parent, "0") == 0) {
		*id_r = 0;
		return 0;
	}
	/* only under the account's own folders */
	if (store_folder_get(req->store, req->arena, req->account.id, parent,
			     &f) != STORE_OK ||
	    f.account_id != req->account.id)
		return -1;
	*id_r = f.id;
	return 0;
}

static enum eas_cmd_result
folder_cmd_done(struct eas_req *req, uint16_t root_tag,
		struct store_sync_state *st, int status, bool began,
		const char *server_id, struct wbxml_node **out_r)
{
	struct wbxml_node *root = status_only(req, root_tag, status);

	if (status == FS_OK) {
		if (folder_cmd_advance(req, st, root) < 0) {
			store_rollback(req->store);
			*out_r = status_only(req, root_tag, FS_SERVER_ERROR);
			return EAS_CMD_OK;
		}
		if (server_id != NULL)
			wbxml_add_text(req->arena, root,
				       EAS_FOLDERHIERARCHY_SERVERID, server_id);
		if (began && store_commit(req->store) != STORE_OK) {
			*out_r = status_only(req, root_tag, FS_SERVER_ERROR);
			return EAS_CMD_OK;
		}
	} else if (began) {
		store_rollback(req->store);
	}
	*out_r = root;
	return EAS_CMD_OK;
}

enum eas_cmd_result
cmd_foldercreate(struct eas_req *req, const struct wbxml_node *in,
		 struct wbxml_node **out_r)
{
	const uint16_t root_tag = EAS_FOLDERHIERARCHY_FOLDERCREATE;
	struct store_sync_state st;
	struct store_folder f;
	const char *name;
	int64_t type, parent;
	int status;
	enum store_error e;

	if (in == NULL || in->tag != root_tag ||
	    (name = wbxml_child_text(in, EAS_FOLDERHIERARCHY_DISPLAYNAME)) ==
		    NULL ||
	    *name == '\0' || strlen(name) > 256 ||
	    wbxml_child_int(in, EAS_FOLDERHIERARCHY_TYPE, &type) != 1 ||
	    type < EAS_FOLDER_GENERIC || type > EAS_FOLDER_USER_NOTES ||
	    (type > EAS_FOLDER_GENERIC && type < EAS_FOLDER_USER_MAIL)) {
		*out_r = status_only(req, root_tag, FS_MALFORMED);
		return EAS_CMD_OK;
	}
	if ((e = store_begin(req->store, true)) != STORE_OK)
		return eas_req_store_error(req, e, "begin");
	status = folder_cmd_key(req, in, &st);
	if (status == FS_OK &&
	    resolve_parent(req,
			   wbxml_child_text(in, EAS_FOLDERHIERARCHY_PARENTID),
			   &parent) < 0)
		status = FS_PARENT_NOT_FOUND;
	if (status == FS_OK) {
		e = store_folder_create(req->store, req->arena, req->account.id,
					parent, name, (int)type, req->device.id,
					&f);
		status = e == STORE_NOTFOUND ? FS_PARENT_NOT_FOUND
					     : folder_status_of(e, FS_SPECIAL);
	}
	if (status == FS_OK)
		log_info("folder '%s' created as %s", name, f.server_id);
	return folder_cmd_done(req, root_tag, &st, status, true,
			       status == FS_OK ? f.server_id : NULL, out_r);
}

enum eas_cmd_result
cmd_folderupdate(struct eas_req *req, const struct wbxml_node *in,
		 struct wbxml_node **out_r)
{
	const uint16_t root_tag = EAS_FOLDERHIERARCHY_FOLDERUPDATE;
	struct store_sync_state st;
	struct store_folder f;
	const char *name, *sid, *pid;
	int64_t parent;
	int status;
	enum store_error e;

	if (in == NULL || in->tag != root_tag ||
	    (sid = wbxml_child_text(in, EAS_FOLDERHIERARCHY_SERVERID)) ==
		    NULL ||
	    (name = wbxml_child_text(in, EAS_FOLDERHIERARCHY_DISPLAYNAME)) ==
		    NULL ||
	    *name == '\0' || strlen(name) > 256) {
		*out_r = status_only(req, root_tag, FS_MALFORMED);
		return EAS_CMD_OK;
	}
	if ((e = store_begin(req->store, true)) != STORE_OK)
		return eas_req_store_error(req, e, "begin");
	status = folder_cmd_key(req, in, &st);
	if (status == FS_OK &&
	    store_folder_get(req->store, req->arena, req->account.id, sid,
			     &f) != STORE_OK)
		status = FS_NOT_FOUND;
	pid = wbxml_child_text(in, EAS_FOLDERHIERARCHY_PARENTID);
	if (status == FS_OK && f.account_id != req->account.id && pid != NULL &&
	    f.parent_server_id != NULL && strcmp(pid, f.parent_server_id) == 0)
		/* a shared folder renamed where it is (its parent as the
		 * grantee sees it is not the owner's) */
		parent = STORE_FOLDER_SAME_PARENT;
	else if (status == FS_OK && resolve_parent(req, pid, &parent) < 0)
		status = FS_PARENT_NOT_FOUND;
	if (status == FS_OK && f.type == EAS_FOLDER_RI_CACHE)
		status = FS_UPDATE_RI_CACHE;
	else if (status == FS_OK && (store_folder_type_is_special(f.type) ||
				     f.rights < STORE_RIGHT_OWNER))
		/* another mailbox's folder: renamed with the owner right */
		status = FS_UPDATE_SPECIAL;
	if (status == FS_OK) {
		e = store_folder_update(req->store, req->account.id, f.id,
					parent, name, req->device.id);
		status = folder_status_of(e, FS_UPDATE_SPECIAL);
	}
	return folder_cmd_done(req, root_tag, &st, status, true, NULL, out_r);
}

enum eas_cmd_result
cmd_folderdelete(struct eas_req *req, const struct wbxml_node *in,
		 struct wbxml_node **out_r)
{
	const uint16_t root_tag = EAS_FOLDERHIERARCHY_FOLDERDELETE;
	struct store_sync_state st;
	struct store_folder f;
	const char *sid;
	int status;
	enum store_error e;

	if (in == NULL || in->tag != root_tag ||
	    (sid = wbxml_child_text(in, EAS_FOLDERHIERARCHY_SERVERID)) ==
		    NULL) {
		*out_r = status_only(req, root_tag, FS_MALFORMED);
		return EAS_CMD_OK;
	}
	if ((e = store_begin(req->store, true)) != STORE_OK)
		return eas_req_store_error(req, e, "begin");
	status = folder_cmd_key(req, in, &st);
	if (status == FS_OK &&
	    store_folder_get(req->store, req->arena, req->account.id, sid,
			     &f) != STORE_OK)
		status = FS_NOT_FOUND;
	if (status == FS_OK && (store_folder_type_is_special(f.type) ||
				f.rights < STORE_RIGHT_OWNER))
		status = FS_SPECIAL;
	if (status == FS_OK) {
		e = store_folder_delete(req->store, req->account.id, f.id,
					req->device.id);
		status = folder_status_of(e, FS_SPECIAL);
	}
	if (status == FS_OK)
		log_info("folder %s deleted", sid);
	return folder_cmd_done(req, root_tag, &st, status, true, NULL, out_r);
}
