/* Search (MS-ASCMD 2.2.1.16): the GAL (word prefixes of names and
 * addresses, with 14.1 pictures) and the Mailbox (an And/Or tree of
 * FreeText, CollectionId, ConversationId and DateReceived bounds over the
 * user's own mail), each with Range and Total. Mailbox results carry a
 * LongId, which is the item's ServerId: ItemOperations, SmartReply and
 * SmartForward look it up in the requesting account only. */
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "log.h"
#include "mail.h"
#include "search.h"
#include "server.h"
#include "util.h"

/* Store statuses (MS-ASCMD 2.2.3.177.13). */
#define SEARCH_OK 1
#define SEARCH_INVALID 2
#define SEARCH_SERVER_ERROR 3
#define SEARCH_TOO_COMPLEX 8
#define SEARCH_FOLDERSYNC 11
#define SEARCH_END_OF_RANGE 12
/* gal:Picture statuses (MS-ASCMD 2.2.2, global codes). */
#define PICTURE_NONE 173
#define PICTURE_TOO_LARGE 174
#define PICTURE_LIMIT 175

#define CATCH_UP_BATCH 2000

int
search_range_parse(const char *s, size_t *first_r, size_t *count_r)
{
	unsigned long long a, b;
	int used = 0;

	if (s == NULL) {
		*first_r = 0;
		*count_r = SEARCH_RANGE_MAX;
		return 0;
	}
	if (sscanf(s, "%llu-%llu%n", &a, &b, &used) != 2 ||
	    (size_t)used != strlen(s) || a > b || a > 1000000000ULL)
		return -1;
	*first_r = (size_t)a;
	*count_r = b - a + 1 > SEARCH_RANGE_MAX ? SEARCH_RANGE_MAX
						: (size_t)(b - a + 1);
	return 0;
}

void
search_add_picture(struct eas_req *req, struct wbxml_node *parent,
		   uint16_t picture_tag, uint16_t status_tag, uint16_t data_tag,
		   const struct store_gal_entry *g,
		   struct search_pictures *pics)
{
	struct wbxml_node *pic;
	char *b64;

	if (!pics->wanted)
		return;
	pic = wbxml_add(req->arena, parent, picture_tag);
	if (g->photo_len == 0) {
		wbxml_add_int(req->arena, pic, status_tag, PICTURE_NONE);
		return;
	}
	if (pics->max_size > 0 && g->photo_len > pics->max_size) {
		wbxml_add_int(req->arena, pic, status_tag, PICTURE_TOO_LARGE);
		return;
	}
	if (pics->max_pictures > 0 && pics->sent >= pics->max_pictures) {
		wbxml_add_int(req->arena, pic, status_tag, PICTURE_LIMIT);
		return;
	}
	pics->sent++;
	wbxml_add_int(req->arena, pic, status_tag, 1);
	b64 = arena_alloc(req->arena, base64_encoded_len(g->photo_len) + 1);
	base64_encode(g->photo, g->photo_len, b64);
	wbxml_add_ref(req->arena, pic, data_tag, b64, strlen(b64), false);
}

static void
add_opt(struct eas_req *req, struct wbxml_node *props, uint16_t tag,
	const char *v)
{
	if (v != NULL && v[0] != '\0')
		wbxml_add_text(req->arena, props, tag, v);
}

/* First and last name of an account without the properties: the display
 * name split at its last space. */
static void
split_name(struct arena *a, const char *display, const char **first_r,
	   const char **last_r)
{
	const char *sp = display != NULL ? strrchr(display, ' ') : NULL;

	if (sp == NULL) {
		*first_r = display;
		*last_r = NULL;
		return;
	}
	*first_r = arena_strndup(a, display, (size_t)(sp - display));
	*last_r = sp + 1;
}

void
search_add_gal_props(struct eas_req *req, struct wbxml_node *props,
		     const struct store_gal_entry *g,
		     struct search_pictures *pics)
{
	const char *first = g->first_name, *last = g->last_name;

	if (first == NULL && last == NULL)
		split_name(req->arena, g->display_name, &first, &last);
	add_opt(req, props, EAS_GAL_DISPLAYNAME,
		g->display_name != NULL && g->display_name[0] != '\0'
			? g->display_name
			: g->email);
	add_opt(req, props, EAS_GAL_PHONE, g->phone);
	add_opt(req, props, EAS_GAL_OFFICE, g->office);
	add_opt(req, props, EAS_GAL_TITLE, g->title);
	add_opt(req, props, EAS_GAL_COMPANY, g->company);
	add_opt(req, props, EAS_GAL_ALIAS, g->alias);
	add_opt(req, props, EAS_GAL_FIRSTNAME, first);
	add_opt(req, props, EAS_GAL_LASTNAME, last);
	add_opt(req, props, EAS_GAL_HOMEPHONE, g->home_phone);
	add_opt(req, props, EAS_GAL_MOBILEPHONE, g->mobile);
	add_opt(req, props, EAS_GAL_EMAILADDRESS, g->email);
	search_add_picture(req, props, EAS_GAL_PICTURE, EAS_GAL_STATUS,
			   EAS_GAL_DATA, g, pics);
}

void
search_catch_up(struct eas_req *req)
{
	enum store_error e;
	size_t done = 0;

	e = mail_search_index_pending(req->store, req->account.id,
				      CATCH_UP_BATCH, true, &done);
	if (e != STORE_OK)
		log_warn("search: indexing queued mail: %s",
			 store_error_str(e));
	else if (done > 0)
		log_info("search: indexed %zu queued messages", done);
}

/* --- GAL --- */

static int
search_gal(struct eas_req *req, const struct wbxml_node *store,
	   struct wbxml_node *out)
{
	const struct wbxml_node *opts = wbxml_child(store, EAS_SEARCH_OPTIONS);
	const char *query = wbxml_child_text(store, EAS_SEARCH_QUERY);
	const char *range =
		opts != NULL ? wbxml_child_text(opts, EAS_SEARCH_RANGE) : NULL;
	struct search_pictures pics = {0};
	struct store_gal_entry *list;
	size_t first, count, n;
	int64_t total, v;
	enum store_error e;

	if (query == NULL || query[0] == '\0' ||
	    search_range_parse(range, &first, &count) < 0)
		return SEARCH_INVALID;
	if (strlen(query) > SEARCH_QUERY_MAX)
		return SEARCH_TOO_COMPLEX;
	if (opts != NULL && req->version >= EAS_V141) {
		const struct wbxml_node *p =
			wbxml_child(opts, EAS_SEARCH_PICTURE);

		if (p != NULL) {
			pics.wanted = true;
			if (wbxml_child_int(p, EAS_SEARCH_MAXSIZE, &v) == 1 &&
			    v > 0)
				pics.max_size = (uint64_t)v;
			if (wbxml_child_int(p, EAS_SEARCH_MAXPICTURES, &v) ==
				    1 &&
			    v > 0)
				pics.max_pictures = (uint64_t)v;
		}
	}
	e = store_gal_search(req->store, req->arena, query, first, count,
			     pics.wanted, &list, &n, &total);
	if (e == STORE_INVALID)
		return SEARCH_INVALID;
	if (e != STORE_OK) {
		log_error("GAL search: %s", store_error_str(e));
		return SEARCH_SERVER_ERROR;
	}
	if (first > 0 && first >= (size_t)total) {
		wbxml_add_int(req->arena, out, EAS_SEARCH_TOTAL, total);
		return SEARCH_END_OF_RANGE;
	}
	for (size_t i = 0; i < n; i++) {
		struct wbxml_node *r =
			wbxml_add(req->arena, out, EAS_SEARCH_RESULT);
		struct wbxml_node *props =
			wbxml_add(req->arena, r, EAS_SEARCH_PROPERTIES);

		search_add_gal_props(req, props, &list[i], &pics);
	}
	if (n == 0)
		wbxml_add(req->arena, out, EAS_SEARCH_RESULT);
	wbxml_add_textf(req->arena, out, EAS_SEARCH_RANGE, "%zu-%zu", first,
			n > 0 ? first + n - 1 : first);
	wbxml_add_int(req->arena, out, EAS_SEARCH_TOTAL, total);
	log_info("GAL search: %lld match, %zu sent", (long long)total, n);
	return SEARCH_OK;
}

/* --- Mailbox --- */

struct mq_ctx {
	struct eas_req *req;
	bool deep;
	int status; /* set on the first failure */
	int nodes;
};

static struct store_search_cond *
mq_node(struct mq_ctx *c, enum store_search_kind kind)
{
	struct store_search_cond *n = arena_zalloc(c->req->arena, sizeof(*n));

	n->kind = kind;
	c->nodes++;
	return n;
}

static struct store_search_cond *
mq_build(struct mq_ctx *c, const struct wbxml_node *n, int depth);

/* The children of an And/Or (or of Query itself, an implicit And). */
static struct store_search_cond *
mq_list(struct mq_ctx *c, const struct wbxml_node *parent,
	enum store_search_kind kind, int depth)
{
	struct store_search_cond *r = mq_node(c, kind), *last = NULL;
	const struct wbxml_node *k;

	if (depth > STORE_SEARCH_DEPTH_MAX ||
	    c->nodes > STORE_SEARCH_NODES_MAX) {
		c->status = SEARCH_TOO_COMPLEX;
		return r;
	}
	wbxml_foreach(parent, k)
	{
		struct store_search_cond *x = mq_build(c, k, depth + 1);

		if (c->status != 0)
			return r;
		if (x == NULL)
			continue;
		if (last == NULL)
			r->child = x;
		else
			last->next = x;
		last = x;
	}
	return r;
}

/* GreaterThan/LessThan: email:DateReceived and a Value. */
static struct store_search_cond *
mq_date(struct mq_ctx *c, const struct wbxml_node *n, bool after)
{
	const char *v = wbxml_child_text(n, EAS_SEARCH_VALUE);
	struct store_search_cond *r;
	int64_t t;

	if (wbxml_child(n, EAS_EMAIL_DATERECEIVED) == NULL || v == NULL ||
	    time_parse(v, &t) < 0) {
		c->status = SEARCH_INVALID;
		return NULL;
	}
	r = mq_node(c, after ? STORE_SEARCH_AFTER : STORE_SEARCH_BEFORE);
	r->value = t;
	return r;
}

static struct store_search_cond *
mq_build(struct mq_ctx *c, const struct wbxml_node *n, int depth)
{
	struct store_search_cond *r;
	struct store_folder f;
	enum store_error e;
	const char *t;

	switch (n->tag) {
	case EAS_SEARCH_AND:
		return mq_list(c, n, STORE_SEARCH_AND, depth);
	case EAS_SEARCH_OR:
		return mq_list(c, n, STORE_SEARCH_OR, depth);
	case EAS_AIRSYNC_CLASS:
		/* only mail is searched: another class matches nothing */
		return str_ieq(wbxml_text(n), "Email")
			       ? NULL
			       : mq_node(c, STORE_SEARCH_NOTHING);
	case EAS_AIRSYNC_COLLECTIONID:
		e = store_folder_get(c->req->store, c->req->arena,
				     c->req->account.id, wbxml_text(n), &f);
		if (e != STORE_OK) {
			/* unknown, deleted or another account's folder */
			c->status = e == STORE_NOTFOUND ? SEARCH_FOLDERSYNC
							: SEARCH_SERVER_ERROR;
			return NULL;
		}
		r = mq_node(c, STORE_SEARCH_FOLDER);
		r->value = f.id;
		r->deep = c->deep;
		return r;
	case EAS_SEARCH_FREETEXT:
		t = wbxml_text(n);
		if (t[0] == '\0') {
			c->status = SEARCH_INVALID;
			return NULL;
		}
		if (strlen(t) > SEARCH_QUERY_MAX) {
			c->status = SEARCH_TOO_COMPLEX;
			return NULL;
		}
		r = mq_node(c, STORE_SEARCH_TEXT);
		r->text = t;
		return r;
	case EAS_SEARCH_CONVERSATIONID: {
		char *hex;

		if (n->len == 0 || n->len > 64) {
			c->status = SEARCH_INVALID;
			return NULL;
		}
		hex = arena_alloc(c->req->arena, n->len * 2 + 1);
		for (size_t i = 0; i < n->len; i++)
			snprintf(hex + 2 * i, 3, "%02x", n->data[i]);
		r = mq_node(c, STORE_SEARCH_CONVERSATION);
		r->text = hex;
		return r;
	}
	case EAS_SEARCH_GREATERTHAN:
		return mq_date(c, n, true);
	case EAS_SEARCH_LESSTHAN:
		return mq_date(c, n, false);
	default:
		/* EqualTo (document libraries) and anything else */
		c->status = SEARCH_INVALID;
		return NULL;
	}
}

static int
search_mailbox(struct eas_req *req, const struct wbxml_node *store,
	       struct wbxml_node *out)
{
	const struct wbxml_node *opts = wbxml_child(store, EAS_SEARCH_OPTIONS);
	const struct wbxml_node *query = wbxml_child(store, EAS_SEARCH_QUERY);
	const char *range =
		opts != NULL ? wbxml_child_text(opts, EAS_SEARCH_RANGE) : NULL;
	struct mq_ctx c = {.req = req};
	struct store_search_cond *cond;
	struct store_item *items;
	struct conv_ctx ctx;
	size_t first, count, n;
	int64_t total;
	enum store_error e;

	if (query == NULL || query->child == NULL ||
	    search_range_parse(range, &first, &count) < 0)
		return SEARCH_INVALID;
	c.deep = opts != NULL &&
		 wbxml_child(opts, EAS_SEARCH_DEEPTRAVERSAL) != NULL;
	cond = mq_list(&c, query, STORE_SEARCH_AND, 0);
	if (c.status != 0)
		return c.status;
	search_catch_up(req);
	e = store_search_mail(req->store, req->arena, req->account.id, cond,
			      first, count, true, &items, &n, &total);
	if (e == STORE_INVALID)
		return SEARCH_INVALID;
	if (e != STORE_OK) {
		log_error("mailbox search: %s", store_error_str(e));
		return SEARCH_SERVER_ERROR;
	}
	if (first > 0 && first >= (size_t)total) {
		wbxml_add_int(req->arena, out, EAS_SEARCH_TOTAL, total);
		return SEARCH_END_OF_RANGE;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = req->version;
	conv_body_prefs_from_options(opts, &ctx);
	for (size_t i = 0; i < n; i++) {
		struct wbxml_node *r =
			wbxml_add(req->arena, out, EAS_SEARCH_RESULT);
		struct wbxml_node *props;
		struct store_folder f;
		const char *error;

		wbxml_add_text(req->arena, r, EAS_AIRSYNC_CLASS, "Email");
		wbxml_add_text(req->arena, r, EAS_SEARCH_LONGID,
			       items[i].server_id);
		if (store_folder_get_by_id(req->store, req->arena,
					   req->account.id, items[i].folder_id,
					   &f) == STORE_OK)
			wbxml_add_text(req->arena, r, EAS_AIRSYNC_COLLECTIONID,
				       f.server_id);
		props = wbxml_add(req->arena, r, EAS_SEARCH_PROPERTIES);
		ctx.item_server_id = items[i].server_id;
		ctx.folder_type = f.type;
		if (conv_to_eas(req->arena, &items[i], &ctx, props, &error) <
		    0) {
			log_warn("search: item %s: %s", items[i].server_id,
				 error);
			props->child = props->last = NULL;
		}
	}
	if (n == 0)
		wbxml_add(req->arena, out, EAS_SEARCH_RESULT);
	wbxml_add_textf(req->arena, out, EAS_SEARCH_RANGE, "%zu-%zu", first,
			n > 0 ? first + n - 1 : first);
	wbxml_add_int(req->arena, out, EAS_SEARCH_TOTAL, total);
	log_info("mailbox search: %lld match, %zu sent", (long long)total, n);
	return SEARCH_OK;
}

enum eas_cmd_result
cmd_search(struct eas_req *req, const struct wbxml_node *in,
	   struct wbxml_node **out_r)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_SEARCH_SEARCH);
	struct wbxml_node *resp, *store, *status;
	const struct wbxml_node *sin;
	const char *name;
	int st;

	*out_r = root;
	wbxml_add_int(req->arena, root, EAS_SEARCH_STATUS, SEARCH_OK);
	resp = wbxml_add(req->arena, root, EAS_SEARCH_RESPONSE);
	store = wbxml_add(req->arena, resp, EAS_SEARCH_STORE);
	status = wbxml_add(req->arena, store, EAS_SEARCH_STATUS);
	sin = in != NULL && in->tag == EAS_SEARCH_SEARCH
		      ? wbxml_child(in, EAS_SEARCH_STORE)
		      : NULL;
	name = sin != NULL ? wbxml_child_text(sin, EAS_SEARCH_NAME) : NULL;
	if (name != NULL && str_ieq(name, "GAL"))
		st = search_gal(req, sin, store);
	else if (name != NULL && str_ieq(name, "Mailbox"))
		st = search_mailbox(req, sin, store);
	else
		st = SEARCH_INVALID; /* no Store, or DocumentLibrary and
					anything else we do not have */
	status->data = (const uint8_t *)arena_printf(req->arena, "%d", st);
	status->len = strlen((const char *)status->data);
	req->eas_status = st;
	return EAS_CMD_OK;
}
