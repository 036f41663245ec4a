/* ItemOperations (MS-ASCMD 2.2.1.10): Fetch of a whole item with body
 * preferences, Fetch of an attachment by FileReference (inline base64 or
 * multipart), and EmptyFolderContents. GetAttachment, its 12.x
 * predecessor, shares the attachment lookup. */
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "datezone.h"
#include "log.h"
#include "mail.h"
#include "quirks.h"
#include "server.h"
#include "util.h"

/* ItemOperations statuses (MS-ASCMD 2.2.3.177.8). */
#define IO_OK 1
#define IO_PROTOCOL_ERROR 2
#define IO_SERVER_ERROR 3
#define IO_ACCESS_DENIED 5
#define IO_NOT_FOUND 6
#define IO_BAD_RANGE 8
#define IO_STORE_UNKNOWN 9
#define IO_CONVERSION_FAILED 14
#define IO_BAD_ATTACHMENT 15

/* Multipart parts (MS-ASCMD 2.2.2.10.1): part 0 is the WBXML. */
struct io_parts {
	const uint8_t *data[64];
	size_t len[64];
	unsigned n;
};

/* Look up an attachment of this account by FileReference. Returns 1 found,
 * 0 not found (or another account's), -1 unreadable. */
static int
attachment_lookup(struct eas_req *req, const char *ref, const uint8_t **data_r,
		  size_t *len_r, const char **ctype_r, const char **name_r)
{
	struct store_item item;
	const char *item_sid, *error;
	unsigned index;
	enum store_error e;
	int r;

	if (mail_file_reference_parse(req->arena, ref, &item_sid, &index) < 0)
		return 0;
	e = store_item_get(req->store, req->arena, req->account.id, item_sid,
			   true, &item);
	if (e == STORE_NOTFOUND)
		return 0;
	if (e != STORE_OK) {
		log_error("attachment %s: %s", ref, store_error_str(e));
		return -1;
	}
	if (item.cls != STORE_CLASS_EMAIL)
		return 0;
	r = mail_attachment_get(req->arena, &item, index, data_r, len_r,
				ctype_r, name_r, &error);
	if (r < 0)
		log_error("attachment %s unreadable: %s", ref, error);
	return r;
}

/* Range "first-last", inclusive, zero based (MS-ASCMD 2.2.3.140). */
static int
parse_range(const char *s, size_t total, size_t *from_r, size_t *to_r)
{
	unsigned long long a, b;
	int used = 0;

	if (sscanf(s, "%llu-%llu%n", &a, &b, &used) != 2 ||
	    (size_t)used != strlen(s) || a > b || a >= total)
		return -1;
	*from_r = (size_t)a;
	*to_r = b >= total ? total - 1 : (size_t)b;
	return 0;
}

static void
fetch_attachment(struct eas_req *req, const struct wbxml_node *fetch,
		 const char *ref, struct wbxml_node *rf, struct io_parts *parts)
{
	const struct wbxml_node *opts =
		wbxml_child(fetch, EAS_ITEMOPERATIONS_OPTIONS);
	const char *range =
		opts != NULL ? wbxml_child_text(opts, EAS_ITEMOPERATIONS_RANGE)
			     : NULL;
	const uint8_t *data;
	const char *ctype, *name;
	size_t len, from = 0, to;
	struct wbxml_node *props;
	int r;

	r = attachment_lookup(req, ref, &data, &len, &ctype, &name);
	if (r <= 0) {
		wbxml_add_int(req->arena, rf, EAS_ITEMOPERATIONS_STATUS,
			      r == 0 ? IO_BAD_ATTACHMENT : IO_SERVER_ERROR);
		wbxml_add_text(req->arena, rf, EAS_AIRSYNCBASE_FILEREFERENCE,
			       ref);
		return;
	}
	to = len > 0 ? len - 1 : 0;
	if (range != NULL &&
	    (len == 0 || parse_range(range, len, &from, &to) < 0)) {
		wbxml_add_int(req->arena, rf, EAS_ITEMOPERATIONS_STATUS,
			      IO_BAD_RANGE);
		wbxml_add_text(req->arena, rf, EAS_AIRSYNCBASE_FILEREFERENCE,
			       ref);
		return;
	}
	wbxml_add_int(req->arena, rf, EAS_ITEMOPERATIONS_STATUS, IO_OK);
	wbxml_add_text(req->arena, rf, EAS_AIRSYNCBASE_FILEREFERENCE, ref);
	props = wbxml_add(req->arena, rf, EAS_ITEMOPERATIONS_PROPERTIES);
	wbxml_add_text(req->arena, props, EAS_AIRSYNCBASE_CONTENTTYPE, ctype);
	if (range != NULL) {
		wbxml_add_textf(req->arena, props, EAS_ITEMOPERATIONS_RANGE,
				"%zu-%zu", from, to);
		wbxml_add_int(req->arena, props, EAS_ITEMOPERATIONS_TOTAL,
			      (int64_t)len);
	}
	if (len == 0) {
		wbxml_add(req->arena, props, EAS_ITEMOPERATIONS_DATA);
	} else if (req->accept_multipart &&
		   parts->n < N_ELEMENTS(parts->data)) {
		parts->data[parts->n] = data + from;
		parts->len[parts->n] = to - from + 1;
		wbxml_add_int(req->arena, props, EAS_ITEMOPERATIONS_PART,
			      parts->n);
		parts->n++;
	} else {
		size_t n = to - from + 1;
		char *b64 = arena_alloc(req->arena, base64_encoded_len(n) + 1);

		base64_encode(data + from, n, b64);
		wbxml_add_ref(req->arena, props, EAS_ITEMOPERATIONS_DATA, b64,
			      strlen(b64), false);
	}
	log_info("attachment %s (%s, %zu bytes) fetched", ref, name, len);
}

/* Class and Properties of a fetched item, converted as a Sync would
 * (the device's zone and quirks, the folder's type, the Options' body
 * preferences). Returns the ItemOperations status. */
static int
fetch_properties(struct eas_req *req, const struct wbxml_node *fetch,
		 const struct store_item *item, int folder_type, const char *id,
		 struct wbxml_node *rf)
{
	struct conv_ctx ctx;
	struct wbxml_node *props;
	const char *error;

	memset(&ctx, 0, sizeof(ctx));
	ctx.version = req->version;
	ctx.item_server_id = item->server_id;
	ctx.folder_type = folder_type;
	ctx.date_tz = datezone_of(req);
	quirks_conv_ctx(quirks_of_req(req), &ctx);
	conv_body_prefs_from_options(
		wbxml_child(fetch, EAS_ITEMOPERATIONS_OPTIONS), &ctx);
	wbxml_add_text(req->arena, rf, EAS_AIRSYNC_CLASS,
		       store_class_name(item->cls));
	props = wbxml_add(req->arena, rf, EAS_ITEMOPERATIONS_PROPERTIES);
	if (conv_to_eas(req->arena, item, &ctx, props, &error) < 0) {
		log_error("item %s cannot be converted: %s", id, error);
		props->child = props->last = NULL;
		return IO_CONVERSION_FAILED;
	}
	return IO_OK;
}

static void
set_status(struct eas_req *req, struct wbxml_node *status, int st)
{
	status->data = (const uint8_t *)arena_printf(req->arena, "%d", st);
	status->len = strlen((const char *)status->data);
}

static void
fetch_item(struct eas_req *req, const struct wbxml_node *fetch, const char *cid,
	   const char *sid, struct wbxml_node *rf)
{
	struct store_folder f;
	struct store_item item;
	struct wbxml_node *status;
	enum store_error e;

	status = wbxml_add(req->arena, rf, EAS_ITEMOPERATIONS_STATUS);
	wbxml_add_text(req->arena, rf, EAS_AIRSYNC_COLLECTIONID, cid);
	wbxml_add_text(req->arena, rf, EAS_AIRSYNC_SERVERID, sid);
	e = store_folder_get(req->store, req->arena, req->account.id, cid, &f);
	if (e == STORE_OK)
		e = store_item_get(req->store, req->arena, req->account.id, sid,
				   true, &item);
	if (e == STORE_OK && item.folder_id != f.id)
		e = STORE_NOTFOUND;
	if (e != STORE_OK)
		set_status(req, status,
			   e == STORE_NOTFOUND ? IO_NOT_FOUND
					       : IO_SERVER_ERROR);
	else
		set_status(
			req, status,
			fetch_properties(req, fetch, &item, f.type, sid, rf));
}

/* Fetch by search:LongId (a Search result): our LongIds are the items'
 * ServerIds, looked up in the requesting account only, so another
 * account's LongId is "not found" (MS-ASCMD 2.2.3.177.8 Status 6). */
static void
fetch_long_id(struct eas_req *req, const struct wbxml_node *fetch,
	      const char *long_id, struct wbxml_node *rf)
{
	struct store_item item;
	struct store_folder f;
	struct wbxml_node *status;
	enum store_error e;
	int type = 0;

	status = wbxml_add(req->arena, rf, EAS_ITEMOPERATIONS_STATUS);
	wbxml_add_text(req->arena, rf, EAS_SEARCH_LONGID, long_id);
	e = store_item_get(req->store, req->arena, req->account.id, long_id,
			   true, &item);
	if (e != STORE_OK) {
		set_status(req, status,
			   e == STORE_NOTFOUND ? IO_NOT_FOUND
					       : IO_SERVER_ERROR);
		return;
	}
	if (store_folder_get_by_id(req->store, req->arena, req->account.id,
				   item.folder_id, &f) == STORE_OK)
		type = f.type;
	set_status(req, status,
		   fetch_properties(req, fetch, &item, type, long_id, rf));
}

/* EmptyFolderContents: every item of the folder, and with
 * DeleteSubFolders its subfolders too, in one transaction. */
static int
empty_folder(struct eas_req *req, const struct wbxml_node *efc)
{
	const char *cid = wbxml_child_text(efc, EAS_AIRSYNC_COLLECTIONID);
	const struct wbxml_node *opts =
		wbxml_child(efc, EAS_ITEMOPERATIONS_OPTIONS);
	bool subfolders =
		opts != NULL &&
		wbxml_child(opts, EAS_ITEMOPERATIONS_DELETESUBFOLDERS) != NULL;
	struct store_folder f;
	enum store_error e;
	int64_t after = 0, removed = 0;

	if (cid == NULL)
		return IO_PROTOCOL_ERROR;
	if (store_folder_get(req->store, req->arena, req->account.id, cid,
			     &f) != STORE_OK)
		return IO_NOT_FOUND;
	/* MS-ASCMD 2.2.3.177.8 Status 5 (access denied): a shared folder
	 * the account may only read; subfolders only of its own folders */
	if (f.rights < STORE_RIGHT_WRITE ||
	    (subfolders && f.account_id != req->account.id)) {
		log_info("EmptyFolderContents of %s refused: shared read-only",
			 cid);
		return IO_ACCESS_DENIED;
	}
	if ((e = store_begin(req->store, true)) != STORE_OK)
		return IO_SERVER_ERROR;
	for (;;) {
		struct store_item *items;
		size_t n;

		e = store_item_list(req->store, req->arena, req->account.id,
				    f.id, after, 500, false, &items, &n);
		if (e != STORE_OK || n == 0)
			break;
		for (size_t i = 0; i < n && e == STORE_OK; i++) {
			e = store_item_delete(req->store, req->account.id,
					      items[i].id, 0);
			removed++;
		}
		if (e != STORE_OK)
			break;
		after = items[n - 1].id;
	}
	if (e == STORE_OK && subfolders) {
		struct store_folder *list;
		size_t n;

		e = store_folder_list(req->store, req->arena, req->account.id,
				      &list, &n);
		for (size_t i = 0; e == STORE_OK && i < n; i++)
			if (list[i].parent_id == f.id && !list[i].deleted)
				e = store_folder_delete(req->store,
							req->account.id,
							list[i].id, 0);
	}
	if (e != STORE_OK) {
		store_rollback(req->store);
		log_error("EmptyFolderContents of %s: %s", cid,
			  store_error_str(e));
		return IO_SERVER_ERROR;
	}
	if (store_commit(req->store) != STORE_OK)
		return IO_SERVER_ERROR;
	log_info("folder %s emptied (%lld items%s)", cid, (long long)removed,
		 subfolders ? ", subfolders too" : "");
	return IO_OK;
}

/* Wrap the WBXML and the parts in the multipart layout: a count, then
 * (offset, length) per part, all little-endian int32. */
static void
multipart_body(struct eas_req *req, const struct wbxml_node *root,
	       struct io_parts *parts)
{
	struct buf wb, out;
	size_t header, off;

	buf_init(&wb, 0);
	wbxml_encode(root, &wb);
	parts->data[0] = wb.data;
	parts->len[0] = wb.len;
	header = 4 + 8 * (size_t)parts->n;
	buf_init(&out, 0);
#define PUT32(v)                                                               \
	do {                                                                   \
		uint32_t x_ = (uint32_t)(v);                                   \
		uint8_t b_[4] = {(uint8_t)x_, (uint8_t)(x_ >> 8),              \
				 (uint8_t)(x_ >> 16), (uint8_t)(x_ >> 24)};    \
		buf_append(&out, b_, 4);                                       \
	} while (0)
	PUT32(parts->n);
	off = header;
	for (unsigned i = 0; i < parts->n; i++) {
		PUT32(off);
		PUT32(parts->len[i]);
		off += parts->len[i];
	}
#undef PUT32
	for (unsigned i = 0; i < parts->n; i++)
		buf_append(&out, parts->data[i], parts->len[i]);
	req->resp_body = arena_memdup(req->arena, out.data, out.len);
	req->resp_len = out.len;
	req->resp_content_type = "application/vnd.ms-sync.multipart";
	buf_deinit(&out);
	buf_deinit(&wb);
}

enum eas_cmd_result
cmd_itemoperations(struct eas_req *req, const struct wbxml_node *in,
		   struct wbxml_node **out_r)
{
	struct wbxml_node *root =
		wbxml_new(req->arena, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
	struct wbxml_node *resp;
	const struct wbxml_node *op;
	struct io_parts parts = {.n = 1};

	*out_r = root;
	if (in == NULL || in->tag != EAS_ITEMOPERATIONS_ITEMOPERATIONS ||
	    in->child == NULL) {
		wbxml_add_int(req->arena, root, EAS_ITEMOPERATIONS_STATUS,
			      IO_PROTOCOL_ERROR);
		req->eas_status = IO_PROTOCOL_ERROR;
		return EAS_CMD_OK;
	}
	wbxml_add_int(req->arena, root, EAS_ITEMOPERATIONS_STATUS, IO_OK);
	req->eas_status = IO_OK;
	resp = wbxml_add(req->arena, root, EAS_ITEMOPERATIONS_RESPONSE);
	wbxml_foreach(in, op)
	{
		struct wbxml_node *r;

		if (op->tag == EAS_ITEMOPERATIONS_FETCH) {
			const char *store_name =
				wbxml_child_text(op, EAS_ITEMOPERATIONS_STORE);
			const char *ref = wbxml_child_text(
				op, EAS_AIRSYNCBASE_FILEREFERENCE);
			const char *cid =
				wbxml_child_text(op, EAS_AIRSYNC_COLLECTIONID);
			const char *sid =
				wbxml_child_text(op, EAS_AIRSYNC_SERVERID);
			const char *long_id =
				wbxml_child_text(op, EAS_SEARCH_LONGID);

			r = wbxml_add(req->arena, resp,
				      EAS_ITEMOPERATIONS_FETCH);
			if (store_name != NULL &&
			    !str_ieq(store_name, "Mailbox"))
				wbxml_add_int(req->arena, r,
					      EAS_ITEMOPERATIONS_STATUS,
					      IO_STORE_UNKNOWN);
			else if (ref != NULL)
				fetch_attachment(req, op, ref, r, &parts);
			else if (cid != NULL && sid != NULL)
				fetch_item(req, op, cid, sid, r);
			else if (long_id != NULL)
				fetch_long_id(req, op, long_id, r);
			else
				wbxml_add_int(req->arena, r,
					      EAS_ITEMOPERATIONS_STATUS,
					      IO_PROTOCOL_ERROR);
		} else if (op->tag == EAS_ITEMOPERATIONS_EMPTYFOLDERCONTENTS) {
			const char *cid =
				wbxml_child_text(op, EAS_AIRSYNC_COLLECTIONID);

			r = wbxml_add(req->arena, resp,
				      EAS_ITEMOPERATIONS_EMPTYFOLDERCONTENTS);
			wbxml_add_int(req->arena, r, EAS_ITEMOPERATIONS_STATUS,
				      empty_folder(req, op));
			if (cid != NULL)
				wbxml_add_text(req->arena, r,
					       EAS_AIRSYNC_COLLECTIONID, cid);
		} else {
			log_info("ItemOperations: %s not supported",
				 wbxml_tag_name(op->tag) != NULL
					 ? wbxml_tag_name(op->tag)
					 : "?");
			r = wbxml_add(req->arena, resp, op->tag);
			wbxml_add_int(req->arena, r, EAS_ITEMOPERATIONS_STATUS,
				      IO_PROTOCOL_ERROR);
		}
	}
	if (req->accept_multipart && parts.n > 1) {
		multipart_body(req, root, &parts);
		*out_r = NULL;
	}
	return EAS_CMD_OK;
}

/* GetAttachment (12.x, MS-ASCMD 2.2.1.9): the raw bytes of the
 * attachment named by AttachmentName. */
enum eas_cmd_result
cmd_getattachment(struct eas_req *req, const struct wbxml_node *in,
		  struct wbxml_node **out_r)
{
	const uint8_t *data;
	const char *ctype, *name;
	size_t len;
	int r;

	(void)in;
	*out_r = NULL;
	if (req->attachment_name == NULL) {
		req->http_status = 400;
		return EAS_CMD_ERROR;
	}
	r = attachment_lookup(req, req->attachment_name, &data, &len, &ctype,
			      &name);
	if (r <= 0) {
		/* Exchange answers a missing attachment with 500. */
		log_info("GetAttachment %s: %s", req->attachment_name,
			 r == 0 ? "not found" : "unreadable");
		req->http_status = 500;
		return EAS_CMD_ERROR;
	}
	req->resp_body = data;
	req->resp_len = len;
	req->resp_content_type =
		ctype != NULL ? ctype : "application/octet-stream";
	return EAS_CMD_OK;
}
