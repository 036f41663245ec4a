/* Find (16.1, MS-ASCMD 2.2.1.2): a mailbox query (FreeText, Class,
 * CollectionId, DeepTraversal) or a GAL query, with Range and Total, in
 * Find's own result shape: for mail a ServerId and CollectionId and a
 * short list of properties (subject, date, sender, recipients, preview,
 * attachments flag). Statuses of MS-ASCMD 2.2.3.177.2: 2 invalid request,
 * 3 FolderSync required (an unknown folder), 4 a Range not starting at
 * 0. */
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "log.h"
#include "search.h"
#include "server.h"
#include "util.h"

#define FIND_OK 1
#define FIND_INVALID 2
#define FIND_FOLDERSYNC 3
#define FIND_RANGE_NOT_ZERO 4

#define FIND_PREVIEW_CHARS 255

static int
find_range(const struct wbxml_node *opts, size_t *count_r)
{
	const char *range =
		opts != NULL ? wbxml_child_text(opts, EAS_FIND_RANGE) : NULL;
	size_t first;

	if (search_range_parse(range, &first, count_r) < 0)
		return FIND_INVALID;
	return first == 0 ? FIND_OK : FIND_RANGE_NOT_ZERO;
}

static int
find_gal(struct eas_req *req, const struct wbxml_node *crit,
	 struct wbxml_node *resp, struct wbxml_node *status)
{
	const struct wbxml_node *opts = wbxml_child(crit, EAS_FIND_OPTIONS);
	const char *query = wbxml_child_text(crit, EAS_FIND_QUERY);
	struct search_pictures pics = {0};
	struct store_gal_entry *list;
	size_t count, n;
	int64_t total, v;
	enum store_error e;
	int st;

	(void)status;
	if (query == NULL || query[0] == '\0' ||
	    strlen(query) > SEARCH_QUERY_MAX)
		return FIND_INVALID;
	if ((st = find_range(opts, &count)) != FIND_OK)
		return st;
	if (opts != NULL) {
		const struct wbxml_node *p =
			wbxml_child(opts, EAS_FIND_PICTURE);

		if (p != NULL) {
			pics.wanted = true;
			if (wbxml_child_int(p, EAS_FIND_MAXSIZE, &v) == 1 &&
			    v > 0)
				pics.max_size = (uint64_t)v;
			if (wbxml_child_int(p, EAS_FIND_MAXPICTURES, &v) == 1 &&
			    v > 0)
				pics.max_pictures = (uint64_t)v;
		}
	}
	e = store_gal_search(req->store, req->arena, query, 0, count,
			     pics.wanted, &list, &n, &total);
	if (e == STORE_INVALID)
		return FIND_INVALID;
	if (e != STORE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct wbxml_node *r =
			wbxml_add(req->arena, resp, EAS_FIND_RESULT);
		struct wbxml_node *props =
			wbxml_add(req->arena, r, EAS_FIND_PROPERTIES);

		search_add_gal_props(req, props, &list[i], &pics);
	}
	if (n > 0)
		wbxml_add_textf(req->arena, resp, EAS_FIND_RANGE, "0-%zu",
				n - 1);
	wbxml_add_int(req->arena, resp, EAS_FIND_TOTAL, total);
	return FIND_OK;
}

/* Copy the children with these tags from the Email tree conv built. */
static void
copy_props(struct eas_req *req, const struct wbxml_node *email,
	   struct wbxml_node *props)
{
	static const uint16_t tags[] = {
		EAS_EMAIL_SUBJECT,   EAS_EMAIL_DATERECEIVED,
		EAS_EMAIL_DISPLAYTO, EAS_EMAIL_IMPORTANCE,
		EAS_EMAIL_READ,	     EAS_EMAIL2_ISDRAFT,
		EAS_EMAIL_FROM,
	};
	const struct wbxml_node *n, *body, *cc;

	for (size_t i = 0; i < N_ELEMENTS(tags); i++) {
		n = wbxml_child(email, tags[i]);
		if (n != NULL)
			wbxml_append(props, wbxml_clone(req->arena, n));
	}
	cc = wbxml_child(email, EAS_EMAIL_CC);
	if (cc != NULL && !wbxml_is_empty(cc))
		wbxml_add_text(req->arena, props, EAS_FIND_DISPLAYCC,
			       wbxml_text(cc));
	body = wbxml_child(email, EAS_AIRSYNCBASE_BODY);
	n = body != NULL ? wbxml_child(body, EAS_AIRSYNCBASE_PREVIEW) : NULL;
	if (n != NULL)
		wbxml_add_text(req->arena, props, EAS_FIND_PREVIEW,
			       wbxml_text(n));
	n = wbxml_child(email, EAS_AIRSYNCBASE_ATTACHMENTS);
	wbxml_add_int(req->arena, props, EAS_FIND_HASATTACHMENTS,
		      n != NULL && n->child != NULL ? 1 : 0);
}

static int
find_mailbox(struct eas_req *req, const struct wbxml_node *crit,
	     struct wbxml_node *resp)
{
	const struct wbxml_node *opts = wbxml_child(crit, EAS_FIND_OPTIONS);
	const struct wbxml_node *query = wbxml_child(crit, EAS_FIND_QUERY);
	const char *text, *cid, *cls;
	struct store_search_cond *and, *last = NULL;
	struct store_item *items;
	struct conv_ctx ctx;
	size_t count, n;
	int64_t total;
	enum store_error e;
	int st;

	if (query == NULL)
		return FIND_INVALID;
	if ((st = find_range(opts, &count)) != FIND_OK)
		return st;
	text = wbxml_child_text(query, EAS_FIND_FREETEXT);
	cid = wbxml_child_text(query, EAS_AIRSYNC_COLLECTIONID);
	cls = wbxml_child_text(query, EAS_AIRSYNC_CLASS);
	if (text == NULL || text[0] == '\0' || strlen(text) > SEARCH_QUERY_MAX)
		return FIND_INVALID;
	and = arena_zalloc(req->arena, sizeof(*and));
	and->kind = STORE_SEARCH_AND;
#define FIND_PUSH(x)                                                           \
	do {                                                                   \
		if (last == NULL)                                              \
			and->child = (x);                                      \
		else                                                           \
			last->next = (x);                                      \
		last = (x);                                                    \
	} while (0)
	{
		struct store_search_cond *t =
			arena_zalloc(req->arena, sizeof(*t));

		t->kind = STORE_SEARCH_TEXT;
		t->text = text;
		FIND_PUSH(t);
	}
	if (cls != NULL && !str_ieq(cls, "Email")) {
		struct store_search_cond *x =
			arena_zalloc(req->arena, sizeof(*x));

		x->kind = STORE_SEARCH_NOTHING;
		FIND_PUSH(x);
	}
	if (cid != NULL) {
		struct store_search_cond *x =
			arena_zalloc(req->arena, sizeof(*x));
		struct store_folder f;

		e = store_folder_get(req->store, req->arena, req->account.id,
				     cid, &f);
		if (e == STORE_NOTFOUND)
			return -FIND_FOLDERSYNC;
		if (e != STORE_OK)
			return -1;
		x->kind = STORE_SEARCH_FOLDER;
		x->value = f.id;
		x->deep = opts != NULL &&
			  wbxml_child(opts, EAS_FIND_DEEPTRAVERSAL) != NULL;
		FIND_PUSH(x);
	}
#undef FIND_PUSH
	search_catch_up(req);
	e = store_search_mail(req->store, req->arena, req->account.id, and, 0,
			      count, true, &items, &n, &total);
	if (e == STORE_INVALID)
		return FIND_INVALID;
	if (e != STORE_OK)
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = req->version;
	ctx.nprefs = 1;
	ctx.prefs[0].type = 1;
	ctx.prefs[0].has_truncation = true;
	ctx.prefs[0].truncation_size = 0;
	ctx.prefs[0].preview = FIND_PREVIEW_CHARS;
	for (size_t i = 0; i < n; i++) {
		struct wbxml_node *r =
			wbxml_add(req->arena, resp, EAS_FIND_RESULT);
		struct wbxml_node *email = wbxml_new(req->arena, 0);
		struct store_folder f;
		const char *error;

		memset(&f, 0, sizeof(f));
		store_folder_get_by_id(req->store, req->arena, req->account.id,
				       items[i].folder_id, &f);
		wbxml_add_text(req->arena, r, EAS_AIRSYNC_CLASS, "Email");
		wbxml_add_text(req->arena, r, EAS_AIRSYNC_SERVERID,
			       items[i].server_id);
		if (f.server_id != NULL)
			wbxml_add_text(req->arena, r, EAS_AIRSYNC_COLLECTIONID,
				       f.server_id);
		ctx.item_server_id = items[i].server_id;
		ctx.folder_type = f.type;
		if (conv_to_eas(req->arena, &items[i], &ctx, email, &error) < 0)
			log_warn("find: item %s: %s", items[i].server_id,
				 error);
		copy_props(req, email,
			   wbxml_add(req->arena, r, EAS_FIND_PROPERTIES));
	}
	if (n > 0)
		wbxml_add_textf(req->arena, resp, EAS_FIND_RANGE, "0-%zu",
				n - 1);
	wbxml_add_int(req->arena, resp, EAS_FIND_TOTAL, total);
	log_info("find: %lld match, %zu sent", (long long)total, n);
	return FIND_OK;
}

static void
set_int(struct eas_req *req, struct wbxml_node *n, int v)
{
	n->data = (const uint8_t *)arena_printf(req->arena, "%d", v);
	n->len = strlen((const char *)n->data);
}

enum eas_cmd_result
cmd_find(struct eas_req *req, const struct wbxml_node *in,
	 struct wbxml_node **out_r)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_FIND_FIND);
	struct wbxml_node *top = wbxml_add(req->arena, root, EAS_FIND_STATUS);
	const struct wbxml_node *exec, *mb = NULL, *gal = NULL;
	struct wbxml_node *resp, *status;
	int st;

	*out_r = root;
	exec = in != NULL && in->tag == EAS_FIND_FIND
		       ? wbxml_child(in, EAS_FIND_EXECUTESEARCH)
		       : NULL;
	if (exec != NULL) {
		mb = wbxml_child(exec, EAS_FIND_MAILBOXSEARCHCRITERION);
		gal = wbxml_child(exec, EAS_FIND_GALSEARCHCRITERION);
	}
	if (exec == NULL || (mb == NULL) == (gal == NULL)) {
		set_int(req, top, FIND_INVALID);
		req->eas_status = FIND_INVALID;
		return EAS_CMD_OK;
	}
	resp = wbxml_add(req->arena, root, EAS_FIND_RESPONSE);
	wbxml_add_text(req->arena, resp, EAS_ITEMOPERATIONS_STORE,
		       mb != NULL ? "Mailbox" : "GAL");
	status = wbxml_add(req->arena, resp, EAS_FIND_STATUS);
	st = mb != NULL ? find_mailbox(req, mb, resp)
			: find_gal(req, gal, resp, status);
	if (st == -1)
		return eas_req_store_error(req, STORE_INTERNAL, "find");
	if (st < 0) {
		/* a status of the whole command: no Response */
		root->child = root->last = top;
		top->next = NULL;
		set_int(req, top, -st);
		req->eas_status = -st;
		return EAS_CMD_OK;
	}
	set_int(req, top, st == FIND_RANGE_NOT_ZERO ? FIND_OK : st);
	set_int(req, status, st);
	req->eas_status = st;
	return EAS_CMD_OK;
}
