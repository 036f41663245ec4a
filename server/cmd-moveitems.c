/* MoveItems (MS-ASCMD 2.2.1.12): move items between folders of the
 * account. The moving device learns the new ServerId here and is not sent
 * the move again as a Delete and an Add. */
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"

/* MoveItems statuses (MS-ASCMD 2.2.3.177.9); success is 3. */
#define MV_INVALID_SOURCE 1
#define MV_INVALID_DEST 2
#define MV_OK 3
#define MV_SAME_FOLDER 4
#define MV_FAILED 5

/* What the device holds moves with the item, so neither folder's next
 * Sync echoes the move. */
static enum store_error
move_device_state(struct eas_req *req, int64_t src_folder, int64_t dst_folder,
		  int64_t old_id, const struct store_item *moved)
{
	struct store_sync_state st;
	enum store_error e;

	e = store_sync_get(req->store, req->arena, req->device.id, src_folder,
			   &st);
	if (e == STORE_OK)
		e = store_sync_mark(req->store, st.id, old_id, 0, false);
	if (e != STORE_OK && e != STORE_NOTFOUND)
		return e;
	e = store_sync_get(req->store, req->arena, req->device.id, dst_folder,
			   &st);
	if (e == STORE_OK)
		e = store_sync_mark(req->store, st.id, moved->id, moved->modseq,
				    true);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

static int
move_one(struct eas_req *req, const struct wbxml_node *mv,
	 const char **dst_id_r)
{
	const char *src_msg = wbxml_child_text(mv, EAS_MOVE_SRCMSGID);
	const char *src_fld = wbxml_child_text(mv, EAS_MOVE_SRCFLDID);
	const char *dst_fld = wbxml_child_text(mv, EAS_MOVE_DSTFLDID);
	struct store_folder src, dst;
	struct store_item item, moved;
	enum store_error e;

	if (src_msg == NULL || src_fld == NULL ||
	    store_folder_get(req->store, req->arena, req->account.id, src_fld,
			     &src) != STORE_OK ||
	    store_item_get(req->store, req->arena, req->account.id, src_msg,
			   false, &item) != STORE_OK ||
	    item.folder_id != src.id)
		return MV_INVALID_SOURCE;
	if (dst_fld == NULL ||
	    store_folder_get(req->store, req->arena, req->account.id, dst_fld,
			     &dst) != STORE_OK ||
	    store_class_of_folder_type(dst.type) !=
		    store_class_of_folder_type(src.type))
		return MV_INVALID_DEST;
	if (src.id == dst.id)
		return MV_SAME_FOLDER;
	/* a move deletes in the source and adds in the destination: both
	 * need the right to write when shared (the store checks again) */
	if (src.rights < STORE_RIGHT_WRITE) {
		log_info("MoveItems: %s is shared read-only", src_fld);
		return MV_INVALID_SOURCE;
	}
	if (dst.rights < STORE_RIGHT_WRITE) {
		log_info("MoveItems: %s is shared read-only", dst_fld);
		return MV_INVALID_DEST;
	}
	if ((e = store_begin(req->store, true)) != STORE_OK)
		goto fail;
	e = store_item_move(req->store, req->arena, req->account.id, item.id,
			    dst.id, req->device.id, &moved);
	if (e == STORE_OK)
		e = move_device_state(req, src.id, dst.id, item.id, &moved);
	if (e == STORE_OK)
		e = store_commit(req->store);
	else
		store_rollback(req->store);
	if (e != STORE_OK)
		goto fail;
	*dst_id_r = moved.server_id;
	return MV_OK;
fail:
	log_error("move of %s failed: %s", src_msg, store_error_str(e));
	return MV_FAILED;
}

enum eas_cmd_result
cmd_moveitems(struct eas_req *req, const struct wbxml_node *in,
	      struct wbxml_node **out_r)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_MOVE_MOVEITEMS);
	const struct wbxml_node *mv;
	size_t moves = 0;

	*out_r = root;
	if (in == NULL || in->tag != EAS_MOVE_MOVEITEMS) {
		req->http_status = 400;
		log_info("MoveItems without a MoveItems body");
		return EAS_CMD_ERROR;
	}
	wbxml_foreach(in, mv)
	{
		struct wbxml_node *r;
		const char *src_msg, *dst_id = NULL;
		int status;

		if (mv->tag != EAS_MOVE_MOVE)
			continue;
		if (++moves > 1000) {
			log_info("MoveItems: more than 1000 moves, rest "
				 "ignored");
			break;
		}
		src_msg = wbxml_child_text(mv, EAS_MOVE_SRCMSGID);
		status = move_one(req, mv, &dst_id);
		r = wbxml_add(req->arena, root, EAS_MOVE_RESPONSE);
		wbxml_add_text(req->arena, r, EAS_MOVE_SRCMSGID,
			       src_msg != NULL ? src_msg : "");
		wbxml_add_int(req->arena, r, EAS_MOVE_STATUS, status);
		if (dst_id != NULL)
			wbxml_add_text(req->arena, r, EAS_MOVE_DSTMSGID,
				       dst_id);
		req->eas_status = status;
	}
	return EAS_CMD_OK;
}
