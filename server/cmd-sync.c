/* Sync (MS-ASCMD 2.2.1.21): client commands applied and server changes
 * sent per collection, with the sync-key state machine of digest section 4
 * (current key, previous key answered from the cached response, anything
 * else Status 3), cached and partial requests, and hanging Syncs that park
 * on the push registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "datezone.h"
#include "log.h"
#include "mail.h"
#include "loop.h"
#include "push.h"
#include "quirks.h"
#include "server.h"
#include "util.h"

/* Collection Status values (MS-ASCMD 2.2.3.177.17). */
#define SYNC_ST_OK 1
#define SYNC_ST_INVALID_KEY 3
#define SYNC_ST_PROTOCOL 4
#define SYNC_ST_SERVER_ERROR 5
#define SYNC_ST_CONVERT 6
#define SYNC_ST_CONFLICT 7
#define SYNC_ST_NOT_FOUND 8
#define SYNC_ST_HIERARCHY 12
#define SYNC_ST_NO_CACHE 13
#define SYNC_ST_WAIT_RANGE 14
#define SYNC_ST_TOO_MANY 15
#define SYNC_ST_RETRY 16

#define SYNC_MAX_COLLECTIONS 100
#define SYNC_MAX_COMMANDS 5000 /* per collection and request */
#define SYNC_MAX_SUPPORTED 256
#define SYNC_WINDOW_DEFAULT 100
#define SYNC_OPTIONS_MAX (64 * 1024)
#define SYNC_RESPONSE_MAX (256u * 1024 * 1024)
#define SYNC_KEY_MAX 64
#define SYNC_CLIENTID_MAX 64
/* MS-ASCMD 2.2.3.198: Wait is in minutes, 1..59. */
#define SYNC_WAIT_MIN 1
#define SYNC_WAIT_MAX 59

/* The options a device set for a collection; persisted in st.options in a
 * canonical form so an unchanged request is recognised byte for byte. */
struct sync_opts {
	int filter_type; /* -1 = none */
	int conflict;	 /* 0 client wins, 1 server wins */
	int mime_support;
	int mime_truncation; /* -1 = none */
	struct conv_body_pref prefs[CONV_MAX_BODY_PREFS];
	size_t nprefs;
	struct conv_body_pref part_prefs[CONV_MAX_BODY_PREFS];
	size_t npart_prefs;
	uint16_t *supported;
	size_t nsupported;
	bool have_supported;
};

struct sync_coll {
	const struct wbxml_node *node; /* the request's Collection */
	const char *collection_id;
	const char *key; /* NULL when from_cache */
	bool from_cache; /* repeated from the cached request:
			    use the current key, no commands */
	/* resolved */
	struct store_folder folder;
	enum store_class cls;
	struct store_sync_state st;
	struct sync_opts opts;
	uint8_t *opts_blob;
	size_t opts_len;
	bool opts_changed;
	bool widened;
	struct store_sync_filter filter;
	int status;
	struct wbxml_node *resp; /* NULL: nothing to say */
	/* resp_doc_of as wbxml_encode wrote it for the cache: the answer's
	 * bytes while resp is still that tree */
	const struct wbxml_node *resp_doc_of;
	const uint8_t *resp_doc;
	size_t resp_doc_len;
	/* loop detection (loop.h) */
	bool loop_known; /* the device's loop state names the folder */
	bool probe;	 /* one item an answer */
	const struct wbxml_node *redo; /* the looping answer being sent
					  again: its Responses and deletes
					  go out once more */
};

struct sync_run {
	struct eas_req *req;
	struct sync_coll *colls;
	size_t ncolls;
	int64_t window_total; /* request-level WindowSize left,
				 -1 = none */
	unsigned wait_s;      /* hanging Sync, 0 = answer now */
	uint64_t deadline_ms;
	const uint8_t *cache; /* request to cache, NULL = none */
	size_t cache_len;
	struct loop_guard loop;
	/* a full request, encoded, that may be answered from memory next
	 * time (server/standing.c); NULL = not such a request */
	const uint8_t *request;
	size_t request_len;
	uint64_t token;	 /* standing_sync_begin() */
	bool need_write; /* the last pass wrote */
};

/* What resolving a collection found. */
enum coll_verdict {
	COLL_DONE = 0,	  /* resp (or nothing) is final */
	COLL_NEEDS_WRITE, /* only the write pass can answer */
	COLL_FAIL = -1,	  /* store failure: *e says which */
};

/* --- options --- */

static void
opts_init(struct sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->filter_type = -1;
	o->conflict = 1;
	o->mime_truncation = -1;
}

/* Options element (MS-ASCMD 2.2.3.125.6) -> o (Supported is separate).
 * Returns 0, or -1 for a malformed value (collection Status 4). */
static int
parse_options(const struct wbxml_node *opt, struct sync_opts *o)
{
	const struct wbxml_node *n;
	int64_t v;

	wbxml_foreach(opt, n)
	{
		switch (n->tag) {
		case EAS_AIRSYNC_FILTERTYPE:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 8)
				return -1;
			o->filter_type = (int)v;
			break;
		case EAS_AIRSYNC_CONFLICT:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 1)
				return -1;
			o->conflict = (int)v;
			break;
		case EAS_AIRSYNC_MIMESUPPORT:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 2)
				return -1;
			o->mime_support = (int)v;
			break;
		case EAS_AIRSYNC_MIMETRUNCATION:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 8)
				return -1;
			o->mime_truncation = (int)v;
			break;
		case EAS_AIRSYNCBASE_BODYPREFERENCE:
			if (o->nprefs < CONV_MAX_BODY_PREFS) {
				if (conv_body_pref_parse(
					    n, &o->prefs[o->nprefs]) < 0)
					return -1;
				o->nprefs++;
			}
			break;
		case EAS_AIRSYNCBASE_BODYPARTPREFERENCE:
			if (o->npart_prefs < CONV_MAX_BODY_PREFS) {
				if (conv_body_pref_parse(
					    n, &o->part_prefs[o->npart_prefs]) <
				    0)
					return -1;
				o->npart_prefs++;
			}
			break;
		default:
			/* Class, MaxItems, RightsManagementSupport, 2.5
			 * Truncation: nothing to keep */
			break;
		}
	}
	return 0;
}

/* Supported (MS-ASCMD 2.2.3.179): the property tags the client handles,
 * as empty elements. */
static void
parse_supported(struct arena *a, const struct wbxml_node *sup,
		struct sync_opts *o)
{
	const struct wbxml_node *n;
	size_t count = EAS_MIN(wbxml_count_children(sup), SYNC_MAX_SUPPORTED);

	o->supported = arena_alloc(a, sizeof(uint16_t) * (count + 1));
	o->nsupported = 0;
	o->have_supported = true;
	wbxml_foreach(sup, n)
	{
		if (o->nsupported >= count)
			break;
		o->supported[o->nsupported++] = n->tag;
	}
}

static void
add_body_pref(struct arena *a, struct wbxml_node *parent, uint16_t tag,
	      const struct conv_body_pref *p)
{
	struct wbxml_node *bp = wbxml_add(a, parent, tag);

	wbxml_add_int(a, bp, EAS_AIRSYNCBASE_TYPE, p->type);
	if (p->has_truncation)
		wbxml_add_int(a, bp, EAS_AIRSYNCBASE_TRUNCATIONSIZE,
			      p->truncation_size);
	if (p->all_or_none)
		wbxml_add_int(a, bp, EAS_AIRSYNCBASE_ALLORNONE, 1);
	if (p->preview > 0)
		wbxml_add_int(a, bp, EAS_AIRSYNCBASE_PREVIEW, p->preview);
}

/* The canonical serialization kept in st.options: an Options element
 * holding what we understood, Supported included. */
static int
opts_encode(struct arena *a, const struct sync_opts *o, uint8_t **blob_r,
	    size_t *len_r)
{
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_OPTIONS);
	struct buf b;
	int ret = -1;

	if (o->filter_type >= 0)
		wbxml_add_int(a, root, EAS_AIRSYNC_FILTERTYPE, o->filter_type);
	wbxml_add_int(a, root, EAS_AIRSYNC_CONFLICT, o->conflict);
	wbxml_add_int(a, root, EAS_AIRSYNC_MIMESUPPORT, o->mime_support);
	if (o->mime_truncation >= 0)
		wbxml_add_int(a, root, EAS_AIRSYNC_MIMETRUNCATION,
			      o->mime_truncation);
	for (size_t i = 0; i < o->nprefs; i++)
		add_body_pref(a, root, EAS_AIRSYNCBASE_BODYPREFERENCE,
			      &o->prefs[i]);
	for (size_t i = 0; i < o->npart_prefs; i++)
		add_body_pref(a, root, EAS_AIRSYNCBASE_BODYPARTPREFERENCE,
			      &o->part_prefs[i]);
	if (o->have_supported) {
		struct wbxml_node *sup =
			wbxml_add(a, root, EAS_AIRSYNC_SUPPORTED);

		for (size_t i = 0; i < o->nsupported; i++)
			wbxml_add(a, sup, o->supported[i]);
	}
	buf_init(&b, SYNC_OPTIONS_MAX);
	if (wbxml_encode(root, &b) < 0)
		goto out;
	*blob_r = arena_memdup(a, b.data, b.len);
	*len_r = b.len;
	ret = 0;
out:
	buf_deinit(&b);
	return ret;
}

static void
opts_decode(struct arena *a, const uint8_t *blob, size_t len,
	    struct sync_opts *o)
{
	struct wbxml_node *root;
	const struct wbxml_node *sup;
	const char *error;

	opts_init(o);
	if (blob == NULL || len == 0)
		return;
	if (wbxml_decode(a, blob, len, &wbxml_limits_default, &root, &error) <
		    0 ||
	    root->tag != EAS_AIRSYNC_OPTIONS) {
		log_warn("stored Sync options unreadable; using defaults");
		return;
	}
	if (parse_options(root, o) < 0)
		opts_init(o);
	sup = wbxml_child(root, EAS_AIRSYNC_SUPPORTED);
	if (sup != NULL)
		parse_supported(a, sup, o);
}

/* Window of a FilterType in days (MS-ASCMD 2.2.3.68.2); 0 = everything. */
static int64_t
filter_days(int filter_type)
{
	static const int64_t days[] = {0, 1, 3, 7, 14, 30, 90, 180};

	if (filter_type < 0 || filter_type >= (int)N_ELEMENTS(days))
		return 0;
	return days[filter_type];
}

/* The FilterType applies to email (1-5), calendar (4-7) and tasks (8);
 * contacts and notes ignore it. Values outside a class's table are
 * honoured as their plain window rather than refused: harmless, and some
 * clients send them. */
static void
filter_for(enum store_class cls, const struct sync_opts *o, int64_t now,
	   struct store_sync_filter *f)
{
	memset(f, 0, sizeof(*f));
	switch (cls) {
	case STORE_CLASS_EMAIL:
	case STORE_CLASS_CALENDAR:
		if (filter_days(o->filter_type) > 0)
			f->since = now - filter_days(o->filter_type) * 86400;
		break;
	case STORE_CLASS_TASKS:
		f->incomplete_only = o->filter_type == 8;
		break;
	default:
		break;
	}
}

/* Whether moving from old to new options lets items into the window that
 * were kept out (so the backfill has to run). */
static bool
filter_widened(enum store_class cls, const struct sync_opts *old,
	       const struct sync_opts *new)
{
	int64_t o, n;

	if (cls == STORE_CLASS_TASKS)
		return old->filter_type == 8 && new->filter_type != 8;
	if (cls != STORE_CLASS_EMAIL && cls != STORE_CLASS_CALENDAR)
		return false;
	o = filter_days(old->filter_type);
	n = filter_days(new->filter_type);
	if (o == 0)
		return false;
	return n == 0 || n > o;
}

/* --- keys: "{8 hex}N", the prefix new on every reset --- */

static const char *
key_new(struct arena *a)
{
	uint8_t r[4];

	random_bytes(r, sizeof(r));
	return arena_printf(a, "{%02x%02x%02x%02x}1", r[0], r[1], r[2], r[3]);
}

static const char *
key_next(struct arena *a, const char *cur)
{
	const char *close = cur != NULL ? strchr(cur, '}') : NULL;
	int64_t n;

	if (close == NULL || str_to_int64(close + 1, &n) < 0 || n < 0 ||
	    n >= INT64_MAX - 1)
		return key_new(a);
	return arena_printf(a, "%.*s%lld", (int)(close + 1 - cur), cur,
			    (long long)(n + 1));
}

/* --- the cached request (MS-ASCMD 3.1.5.4.1: empty and partial Sync) --- */

/* A copy of a Collection without what belongs to one request only. */
static struct wbxml_node *
strip_collection(struct arena *a, const struct wbxml_node *c)
{
	struct wbxml_node *copy = wbxml_new(a, EAS_AIRSYNC_COLLECTION);
	const struct wbxml_node *n;

	wbxml_foreach(c, n)
	{
		if (n->tag == EAS_AIRSYNC_SYNCKEY ||
		    n->tag == EAS_AIRSYNC_COMMANDS ||
		    n->tag == EAS_AIRSYNC_SUPPORTED)
			continue;
		wbxml_append(copy, wbxml_clone(a, n));
	}
	return copy;
}

static const uint16_t toplevel_cached[] = {
	EAS_AIRSYNC_WAIT,
	EAS_AIRSYNC_HEARTBEATINTERVAL,
	EAS_AIRSYNC_WINDOWSIZE,
};

/* The request to cache: top-level settings and stripped collections. */
static struct wbxml_node *
cache_tree(struct arena *a, const struct wbxml_node *req,
	   const struct wbxml_node *const *colls, size_t n)
{
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs;

	for (size_t i = 0; i < N_ELEMENTS(toplevel_cached); i++) {
		const struct wbxml_node *t =
			wbxml_child(req, toplevel_cached[i]);

		if (t != NULL)
			wbxml_append(root, wbxml_clone(a, t));
	}
	cs = wbxml_add(a, root, EAS_AIRSYNC_COLLECTIONS);
	for (size_t i = 0; i < n; i++)
		wbxml_append(cs, strip_collection(a, colls[i]));
	return root;
}

static enum store_error
cache_load(struct eas_req *req, struct wbxml_node **tree_r)
{
	uint8_t *data;
	size_t len;
	const char *error;
	enum store_error e;

	*tree_r = NULL;
	e = store_device_blob_get(req->store, req->arena, req->device.id,
				  "sync", &data, &len);
	if (e != STORE_OK)
		return e;
	if (wbxml_decode(req->arena, data, len, &wbxml_limits_default, tree_r,
			 &error) < 0 ||
	    (*tree_r)->tag != EAS_AIRSYNC_SYNC) {
		log_warn("cached Sync request unreadable: %s",
			 *tree_r == NULL ? error : "wrong root");
		*tree_r = NULL;
		return STORE_NOTFOUND;
	}
	return STORE_OK;
}

/* The bytes to cache for a request; NULL when too large. */
static uint8_t *
cache_encode(struct eas_req *req, const struct wbxml_node *tree, size_t *len_r)
{
	struct buf b;
	uint8_t *r = NULL;

	buf_init(&b, SYNC_OPTIONS_MAX * 16);
	if (wbxml_encode(tree, &b) == 0) {
		r = arena_memdup(req->arena, b.data, b.len);
		*len_r = b.len;
	} else {
		log_warn("Sync request too large to cache");
	}
	buf_deinit(&b);
	return r;
}

/* Whether the cached request differs from bytes (read inside the caller's
 * read transaction: a device repeating its Sync takes no write lock). */
static bool
cache_differs(struct eas_req *req, const uint8_t *bytes, size_t len)
{
	uint8_t *old;
	size_t old_len;

	return store_device_blob_get(req->store, req->arena, req->device.id,
				     "sync", &old, &old_len) != STORE_OK ||
	       old_len != len || memcmp(old, bytes, len) != 0;
}

/* --- response pieces --- */

static struct wbxml_node *
coll_status_resp(struct eas_req *req, struct sync_coll *c, const char *key,
		 int status)
{
	struct wbxml_node *r = wbxml_new(req->arena, EAS_AIRSYNC_COLLECTION);

	if (req->version < EAS_V140 && c->cls != STORE_CLASS_NONE)
		wbxml_add_text(req->arena, r, EAS_AIRSYNC_CLASS,
			       store_class_name(c->cls));
	wbxml_add_text(req->arena, r, EAS_AIRSYNC_SYNCKEY,
		       key != NULL ? key : "0");
	if (c->collection_id != NULL)
		wbxml_add_text(req->arena, r, EAS_AIRSYNC_COLLECTIONID,
			       c->collection_id);
	wbxml_add_int(req->arena, r, EAS_AIRSYNC_STATUS, status);
	c->status = status;
	return r;
}

static void
ctx_init(struct eas_req *req, const struct sync_coll *c, struct conv_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->version = req->version;
	ctx->date_tz = datezone_of(req);
	quirks_conv_ctx(quirks_of_req(req), ctx);
	memcpy(ctx->prefs, c->opts.prefs, sizeof(ctx->prefs));
	ctx->nprefs = c->opts.nprefs;
	memcpy(ctx->part_prefs, c->opts.part_prefs, sizeof(ctx->part_prefs));
	ctx->npart_prefs = c->opts.npart_prefs;
	ctx->mime_support = c->opts.mime_support;
	ctx->folder_type = c->folder.type;
	if (c->opts.have_supported) {
		ctx->supported = c->opts.supported;
		ctx->nsupported = c->opts.nsupported;
	}
}

/* --- resolving a collection: folder, state, key, options --- */

static const struct wbxml_node *
matching_options(const struct wbxml_node *coll, enum store_class cls)
{
	const struct wbxml_node *n;

	wbxml_foreach(coll, n)
	{
		const char *oc;

		if (n->tag != EAS_AIRSYNC_OPTIONS)
			continue;
		/* 14.0+: one Options per Class (Email and SMS); the ones for
		 * classes we do not store are skipped. */
		oc = wbxml_child_text(n, EAS_AIRSYNC_CLASS);
		if (oc == NULL || store_class_parse(oc) == cls)
			return n;
	}
	return NULL;
}

/* Folder and class; 0 or a collection Status. */
static int
coll_folder(struct sync_run *run, struct sync_coll *c, enum store_error *e)
{
	struct eas_req *req = run->req;
	const char *cls_name;

	*e = store_folder_get(req->store, req->arena, req->account.id,
			      c->collection_id, &c->folder);
	if (*e == STORE_NOTFOUND || (*e == STORE_OK && c->folder.deleted)) {
		*e = STORE_OK;
		/* MS-ASCMD 2.2.3.177.17: 12 = the hierarchy changed, the
		 * client runs FolderSync first. */
		return SYNC_ST_HIERARCHY;
	}
	if (*e != STORE_OK)
		return -1;
	c->cls = store_class_of_folder_type(c->folder.type);
	cls_name = wbxml_child_text(c->node, EAS_AIRSYNC_CLASS);
	if (req->version < EAS_V140 && cls_name != NULL &&
	    store_class_parse(cls_name) != STORE_CLASS_NONE &&
	    store_class_parse(cls_name) != c->cls)
		return SYNC_ST_PROTOCOL;
	if (c->cls == STORE_CLASS_NONE)
		return SYNC_ST_PROTOCOL;
	return 0;
}

/* Merge request Options/Supported over the stored ones and encode them.
 * 0 or a collection Status. */
static int
coll_options(struct sync_run *run, struct sync_coll *c)
{
	struct eas_req *req = run->req;
	const struct wbxml_node *opt, *sup;
	struct sync_opts old;
	int64_t now = time_now();

	opts_decode(req->arena, c->st.options, c->st.options_len, &old);
	c->opts = old;
	opt = matching_options(c->node, c->cls);
	if (opt != NULL) {
		/* New Options replace the old ones, Supported aside. */
		opts_init(&c->opts);
		c->opts.supported = old.supported;
		c->opts.nsupported = old.nsupported;
		c->opts.have_supported = old.have_supported;
		if (parse_options(opt, &c->opts) < 0)
			return SYNC_ST_PROTOCOL;
	}
	sup = wbxml_child(c->node, EAS_AIRSYNC_SUPPORTED);
	if (sup != NULL && !c->from_cache)
		parse_supported(req->arena, sup, &c->opts);
	if (opts_encode(req->arena, &c->opts, &c->opts_blob, &c->opts_len) < 0)
		return SYNC_ST_PROTOCOL;
	c->opts_changed =
		c->opts_len != c->st.options_len ||
		(c->opts_len > 0 &&
		 memcmp(c->opts_blob, c->st.options, c->opts_len) != 0);
	c->widened =
		c->st.options != NULL && filter_widened(c->cls, &old, &c->opts);
	filter_for(c->cls, &c->opts, now, &c->filter);
	return 0;
}

static bool
coll_get_changes(const struct sync_coll *c)
{
	const struct wbxml_node *g =
		wbxml_child(c->node, EAS_AIRSYNC_GETCHANGES);

	/* MS-ASCMD 2.2.3.84: empty or 1 = yes, 0 = no; absent = yes unless
	 * the key is 0. */
	if (g == NULL || c->from_cache)
		return true;
	return wbxml_is_empty(g) || strcmp(wbxml_text(g), "0") != 0;
}

static unsigned
coll_window(struct sync_run *run, const struct sync_coll *c)
{
	unsigned max = run->req->srv->cfg.sync_window_max;
	int64_t v;

	if (c->probe)
		return 1;
	if (max == 0)
		max = 512;
	if (wbxml_child_int(c->node, EAS_AIRSYNC_WINDOWSIZE, &v) != 1 || v <= 0)
		return EAS_MIN(SYNC_WINDOW_DEFAULT, max);
	return v > (int64_t)max ? max : (unsigned)v;
}

/* --- the write pass: key 0, client commands, server changes --- */

struct coll_work {
	struct sync_run *run;
	struct sync_coll *c;
	struct conv_ctx ctx;
	struct wbxml_node *responses; /* Responses, lazily */
	struct wbxml_node *commands;  /* Commands, lazily */
	bool applied;
	size_t sent;
	int64_t *conflicts; /* items sent as conflict losers */
	size_t nconflicts;
};

static struct wbxml_node *
work_responses(struct coll_work *w)
{
	if (w->responses == NULL)
		w->responses =
			wbxml_new(w->run->req->arena, EAS_AIRSYNC_RESPONSES);
	return w->responses;
}

static struct wbxml_node *
work_commands(struct coll_work *w)
{
	if (w->commands == NULL)
		w->commands =
			wbxml_new(w->run->req->arena, EAS_AIRSYNC_COMMANDS);
	return w->commands;
}

static struct wbxml_node *
reply(struct coll_work *w, uint16_t tag, const char *client_id,
      const char *server_id, int status)
{
	struct arena *a = w->run->req->arena;
	struct wbxml_node *n = wbxml_add(a, work_responses(w), tag);

	if (client_id != NULL)
		wbxml_add_text(a, n, EAS_AIRSYNC_CLIENTID, client_id);
	if (server_id != NULL)
		wbxml_add_text(a, n, EAS_AIRSYNC_SERVERID, server_id);
	wbxml_add_int(a, n, EAS_AIRSYNC_STATUS, status);
	return n;
}

/* --- 16.x drafts (MS-ASEMAIL IsDraft): email a client writes in Drafts */

static bool
is_draft_collection(const struct coll_work *w)
{
	return w->c->cls == STORE_CLASS_EMAIL &&
	       w->c->folder.type == EAS_FOLDER_DRAFTS &&
	       w->run->req->version >= EAS_V160;
}

static const char *
account_from(struct eas_req *req)
{
	return arena_printf(req->arena, "%s <%s>",
			    req->account.display_name != NULL &&
					    req->account.display_name[0] != '\0'
				    ? req->account.display_name
				    : req->account.login,
			    req->account.email);
}

/* MS-ASAIRS 2.2.2.14: the response names each added attachment's
 * FileReference beside its ClientId. */
static void
reply_attachments(struct coll_work *w, struct wbxml_node *resp,
		  const struct store_item *item, const char **added,
		  size_t nadded)
{
	struct arena *a = w->run->req->arena;
	struct store_item full;
	struct wbxml_node *app, *atts;
	const char *error = NULL;
	unsigned total = 0;
	const uint8_t *d;
	size_t l;
	const char *ct, *name;

	if (nadded == 0)
		return;
	full = *item;
	while (mail_attachment_get(a, &full, total, &d, &l, &ct, &name,
				   &error) == 1)
		total++;
	app = wbxml_add(a, resp, EAS_AIRSYNC_APPLICATIONDATA);
	atts = wbxml_add(a, app, EAS_AIRSYNCBASE_ATTACHMENTS);
	for (size_t k = 0; k < nadded && nadded <= total; k++) {
		struct wbxml_node *at =
			wbxml_add(a, atts, EAS_AIRSYNCBASE_ATTACHMENT);

		wbxml_add_text(a, at, EAS_AIRSYNCBASE_CLIENTID, added[k]);
		wbxml_add_textf(a, at, EAS_AIRSYNCBASE_FILEREFERENCE, "%s:%zu",
				item->server_id, (size_t)(total - nadded + k));
	}
}

/* A reply for a command on one occurrence: ServerId, InstanceId (always
 * the compact form, MS-ASAIRS 2.2.2.25) and Status; the server includes
 * InstanceId with ServerId in its response to such a command. */
static void
reply_instance(struct coll_work *w, uint16_t tag, const char *server_id,
	       int64_t instance, int status)
{
	struct arena *a = w->run->req->arena;
	struct wbxml_node *n = wbxml_add(a, work_responses(w), tag);
	char buf[32];

	wbxml_add_text(a, n, EAS_AIRSYNC_SERVERID, server_id);
	time_format_compact(instance, buf);
	wbxml_add_text(a, n, EAS_AIRSYNCBASE_INSTANCEID, buf);
	wbxml_add_int(a, n, EAS_AIRSYNC_STATUS, status);
}

/* Server item -> Commands/Add or Change with ApplicationData. Returns 0,
 * or -1 when the stored data could not be converted (logged, skipped). */
static int
send_item(struct coll_work *w, uint16_t tag, const struct store_item *item)
{
	struct arena *a = w->run->req->arena;
	struct wbxml_node *n = wbxml_new(a, tag);
	struct wbxml_node *appdata;
	const char *error = NULL;
	int r;

	wbxml_add_text(a, n, EAS_AIRSYNC_SERVERID, item->server_id);
	appdata = wbxml_add(a, n, EAS_AIRSYNC_APPLICATIONDATA);
	w->ctx.item_server_id = item->server_id;
	if (tag == EAS_AIRSYNC_CHANGE && item->cls == STORE_CLASS_EMAIL)
		r = conv_email_flags_to_eas(a, item, &w->ctx, appdata, &error);
	else
		r = conv_to_eas(a, item, &w->ctx, appdata, &error);
	w->ctx.item_server_id = NULL;
	if (r < 0) {
		log_error("item %s cannot be sent: %s", item->server_id,
			  error != NULL ? error : "conversion failed");
		return -1;
	}
	wbxml_append(work_commands(w), n);
	w->sent++;
	return 0;
}

static bool
item_in_collection(const struct coll_work *w, const struct store_item *item)
{
	return item->folder_id == w->c->folder.id;
}

/* A store failure that ends the request (everything rolled back). */
#define FATAL(expr)                                                            \
	do {                                                                   \
		if ((*e = (expr)) != STORE_OK)                                 \
			return -1;                                             \
	} while (0)

/* A Change or Delete in a folder shared with the account for reading
 * only: refused with Status 6 (the documented "error in client/server
 * conversion" of the item), and the server's version goes back to the
 * device (a Change; an Add for a deleted one) so it shows the item as it
 * still is. */
static int
refuse_read_only(struct coll_work *w, uint16_t tag, const char *sid,
		 const struct store_item *old, enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	struct store_item full;

	log_info("Sync %s of %s refused: %s is shared read-only",
		 tag == EAS_AIRSYNC_DELETE ? "Delete" : "Change", sid,
		 c->folder.server_id);
	*e = store_item_get_by_id(req->store, req->arena, req->account.id,
				  old->id, true, &full);
	if (*e != STORE_OK)
		return -1;
	if (send_item(w,
		      tag == EAS_AIRSYNC_DELETE ? EAS_AIRSYNC_ADD
						: EAS_AIRSYNC_CHANGE,
		      &full) == 0) {
		*e = store_sync_mark(req->store, c->st.id, full.id, full.modseq,
				     true);
		if (*e != STORE_OK)
			return -1;
		w->conflicts[w->nconflicts++] = full.id;
	}
	reply(w, tag, NULL, sid, SYNC_ST_CONVERT);
	return 0;
}

static int
cmd_add(struct coll_work *w, const struct wbxml_node *cmd, enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	const char *client_id = wbxml_child_text(cmd, EAS_AIRSYNC_CLIENTID);
	const struct wbxml_node *appdata =
		wbxml_child(cmd, EAS_AIRSYNC_APPLICATIONDATA);
	struct store_item item;
	const char *error = NULL;

	if (client_id == NULL || client_id[0] == '\0' ||
	    strlen(client_id) > SYNC_CLIENTID_MAX || appdata == NULL) {
		log_info("Sync Add without ClientId or ApplicationData");
		reply(w, EAS_AIRSYNC_ADD, client_id, NULL, SYNC_ST_PROTOCOL);
		return 0;
	}
	if (c->folder.rights < STORE_RIGHT_WRITE) {
		log_info("Sync Add %s refused: %s is shared read-only",
			 client_id, c->folder.server_id);
		reply(w, EAS_AIRSYNC_ADD, client_id, NULL, SYNC_ST_CONVERT);
		return 0;
	}
	memset(&item, 0, sizeof(item));
	if (is_draft_collection(w)) {
		const char **added;
		size_t nadded;
		bool send;

		if (conv_draft_from_eas(req->arena, appdata, account_from(req),
					NULL, &item, &added, &nadded, &send,
					&error) < 0) {
			log_info("Sync Add %s: draft refused: %s", client_id,
				 error);
			reply(w, EAS_AIRSYNC_ADD, client_id, NULL,
			      SYNC_ST_CONVERT);
			return 0;
		}
		FATAL(store_item_add(req->store, req->arena, req->account.id,
				     c->folder.id, &item, req->device.id));
		FATAL(store_sync_mark(req->store, c->st.id, item.id,
				      item.modseq, true));
		w->applied = true;
		reply_attachments(w,
				  reply(w, EAS_AIRSYNC_ADD, client_id,
					item.server_id, SYNC_ST_OK),
				  &item, added, nadded);
		return 0;
	}
	if (conv_from_eas(req->arena, c->cls, appdata, &w->ctx, NULL, &item,
			  &error) < 0) {
		log_info("Sync Add %s refused: %s", client_id,
			 error != NULL ? error : "conversion failed");
		reply(w, EAS_AIRSYNC_ADD, client_id, NULL, SYNC_ST_CONVERT);
		return 0;
	}
	item.cls = c->cls;
	if (c->cls == STORE_CLASS_CALENDAR) {
		datezone_learn(req, appdata);
		if (eas_meeting_organizer(req, NULL, &item, e) < 0)
			return -1;
	}
	*e = store_item_add(req->store, req->arena, req->account.id,
			    c->folder.id, &item, req->device.id);
	if (*e == STORE_INVALID) {
		log_info("Sync Add %s refused by the store", client_id);
		reply(w, EAS_AIRSYNC_ADD, client_id, NULL, SYNC_ST_CONVERT);
		*e = STORE_OK;
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	FATAL(store_sync_mark(req->store, c->st.id, item.id, item.modseq,
			      true));
	w->applied = true;
	reply(w, EAS_AIRSYNC_ADD, client_id, item.server_id, SYNC_ST_OK);
	return 0;
}

/* A Change of a draft: its new message, and with email2:Send the draft
 * is sent and becomes its sent form in Sent Items. A send the server
 * refuses leaves the changed draft where it is (Status 6, logged). */
static int
draft_change(struct coll_work *w, const char *sid,
	     const struct wbxml_node *appdata, const struct store_item *old,
	     enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	struct store_item item, now;
	const char **added, *error = NULL;
	size_t nadded;
	bool send;
	int status = 0;

	memset(&item, 0, sizeof(item));
	if (conv_draft_from_eas(req->arena, appdata, account_from(req), old,
				&item, &added, &nadded, &send, &error) < 0) {
		log_info("Sync Change %s: draft refused: %s", sid, error);
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_CONVERT);
		return 0;
	}
	FATAL(store_item_update(req->store, req->account.id, old->id, &item,
				req->device.id));
	FATAL(store_item_get_by_id(req->store, req->arena, req->account.id,
				   old->id, true, &now));
	w->applied = true;
	if (send) {
		if (eas_send_draft(req, &now, &status, e) < 0)
			return -1;
		if (status == 0) {
			FATAL(store_sync_mark(req->store, c->st.id, now.id,
					      now.modseq, true));
			return 0;
		}
		log_info("Sync Change %s: the draft was not sent (status %d)",
			 sid, status);
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_CONVERT);
	}
	FATAL(store_sync_mark(req->store, c->st.id, now.id, now.modseq, true));
	if (nadded > 0 && status == 0)
		reply_attachments(
			w, reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_OK),
			&now, added, nadded);
	return 0;
}

/* Conflict (MS-ASCMD 2.2.3.34): somebody else changed the item after
 * the version this device holds. With server-wins the server's version
 * goes back to the device and 1 is returned (the caller answers Status 7);
 * 0 when the device's command applies; -1 on a store error (*e). */
static int
server_wins(struct coll_work *w, const struct store_item *old,
	    enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	int64_t held;

	*e = store_sync_held(req->store, c->st.id, old->id, &held);
	if (*e == STORE_NOTFOUND) {
		held = old->modseq;
		*e = STORE_OK;
	}
	if (*e != STORE_OK)
		return -1;
	if (old->modseq <= held || old->origin_device == req->device.id ||
	    c->opts.conflict == 0)
		return 0;
	if (send_item(w, EAS_AIRSYNC_CHANGE, old) == 0) {
		FATAL(store_sync_mark(req->store, c->st.id, old->id,
				      old->modseq, true));
		w->conflicts[w->nconflicts++] = old->id;
	}
	return 1;
}

/* Change or Delete of one occurrence (16.x, airsyncbase:InstanceId as a
 * child of the command, MS-ASAIRS 2.2.2.25): the series is updated, not
 * replaced or deleted. */
static int
cmd_instance(struct coll_work *w, const struct wbxml_node *cmd,
	     enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
	const char *iid = wbxml_child_text(cmd, EAS_AIRSYNCBASE_INSTANCEID);
	const struct wbxml_node *appdata =
		cmd->tag == EAS_AIRSYNC_CHANGE
			? wbxml_child(cmd, EAS_AIRSYNC_APPLICATIONDATA)
			: NULL;
	struct store_item old, item, now;
	const char *error = NULL;
	int64_t instance = 0;

	*e = store_item_get(req->store, req->arena, req->account.id, sid, true,
			    &old);
	if (*e == STORE_NOTFOUND ||
	    (*e == STORE_OK && !item_in_collection(w, &old))) {
		*e = STORE_OK;
		if (time_parse(iid, &instance) < 0)
			reply(w, cmd->tag, NULL, sid, SYNC_ST_NOT_FOUND);
		else
			reply_instance(w, cmd->tag, sid, instance,
				       SYNC_ST_NOT_FOUND);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	if (c->folder.rights < STORE_RIGHT_WRITE)
		return refuse_read_only(w, cmd->tag, sid, &old, e);
	switch (server_wins(w, &old, e)) {
	case -1:
		return -1;
	case 1:
		/* the series changed elsewhere, as for the whole item */
		if (time_parse(iid, &instance) < 0)
			instance = 0;
		reply_instance(w, cmd->tag, sid, instance, SYNC_ST_CONFLICT);
		return 0;
	}
	if (conv_instance_from_eas(req->arena, c->cls, iid, appdata, &w->ctx,
				   &old, &item, &instance, &error) < 0) {
		log_info("Sync %s of %s at %s refused: %s",
			 cmd->tag == EAS_AIRSYNC_CHANGE ? "Change" : "Delete",
			 sid, iid != NULL ? iid : "?",
			 error != NULL ? error : "conversion failed");
		if (time_parse(iid, &instance) < 0)
			reply(w, cmd->tag, NULL, sid, SYNC_ST_CONVERT);
		else
			reply_instance(w, cmd->tag, sid, instance,
				       SYNC_ST_CONVERT);
		return 0;
	}
	/* an organizer's change of one occurrence goes to the attendees */
	if (c->cls == STORE_CLASS_CALENDAR &&
	    eas_meeting_organizer(req, &old, &item, e) < 0)
		return -1;
	*e = store_item_update(req->store, req->account.id, old.id, &item,
			       req->device.id);
	if (*e == STORE_INVALID) {
		*e = STORE_OK;
		reply_instance(w, cmd->tag, sid, instance, SYNC_ST_CONVERT);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	FATAL(store_item_get_by_id(req->store, req->arena, req->account.id,
				   old.id, false, &now));
	FATAL(store_sync_mark(req->store, c->st.id, old.id, now.modseq, true));
	w->applied = true;
	reply_instance(w, cmd->tag, sid, instance, SYNC_ST_OK);
	return 0;
}

static int
cmd_change(struct coll_work *w, const struct wbxml_node *cmd,
	   enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
	const struct wbxml_node *appdata =
		wbxml_child(cmd, EAS_AIRSYNC_APPLICATIONDATA);
	struct store_item old, item, now;
	const char *error = NULL;
	int r;

	if (sid == NULL || appdata == NULL) {
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_PROTOCOL);
		return 0;
	}
	if (wbxml_child(cmd, EAS_AIRSYNCBASE_INSTANCEID) != NULL)
		return cmd_instance(w, cmd, e);
	*e = store_item_get(req->store, req->arena, req->account.id, sid, true,
			    &old);
	if (*e == STORE_NOTFOUND ||
	    (*e == STORE_OK && !item_in_collection(w, &old))) {
		*e = STORE_OK;
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_NOT_FOUND);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	if (c->folder.rights < STORE_RIGHT_WRITE)
		return refuse_read_only(w, EAS_AIRSYNC_CHANGE, sid, &old, e);

	switch (server_wins(w, &old, e)) {
	case -1:
		return -1;
	case 1:
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_CONFLICT);
		return 0;
	}

	item = old;
	if (is_draft_collection(w))
		return draft_change(w, sid, appdata, &old, e);
	if (c->cls == STORE_CLASS_EMAIL)
		r = conv_email_change(req->arena, appdata, &old, &item, &error);
	else
		r = conv_from_eas(req->arena, c->cls, appdata, &w->ctx, &old,
				  &item, &error);
	if (r < 0) {
		log_info("Sync Change %s refused: %s", sid,
			 error != NULL ? error : "conversion failed");
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_CONVERT);
		return 0;
	}
	if (c->cls == STORE_CLASS_CALENDAR &&
	    eas_meeting_organizer(req, &old, &item, e) < 0)
		return -1;
	if (c->cls == STORE_CLASS_EMAIL)
		*e = store_item_update_meta(req->store, req->account.id, old.id,
					    item.extra, item.extra_len,
					    &item.meta, req->device.id);
	else
		*e = store_item_update(req->store, req->account.id, old.id,
				       &item, req->device.id);
	if (*e == STORE_INVALID) {
		*e = STORE_OK;
		reply(w, EAS_AIRSYNC_CHANGE, NULL, sid, SYNC_ST_CONVERT);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	FATAL(store_item_get_by_id(req->store, req->arena, req->account.id,
				   old.id, false, &now));
	FATAL(store_sync_mark(req->store, c->st.id, old.id, now.modseq, true));
	w->applied = true;
	return 0;
}

/* Whether the shared folder is its owner's Deleted Items (a folder of
 * a shared view has the user type of its class, not the owner's). */
static bool
is_owner_trash(struct eas_req *req, const struct store_folder *f)
{
	struct store_folder trash;

	return store_folder_get_by_type(req->store, req->arena, f->account_id,
					EAS_FOLDER_DELETED,
					&trash) == STORE_OK &&
	       trash.id == f->id;
}

static int
cmd_delete(struct coll_work *w, const struct wbxml_node *cmd,
	   enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
	const struct wbxml_node *dam =
		wbxml_child(c->node, EAS_AIRSYNC_DELETESASMOVES);
	bool as_move = dam == NULL || wbxml_is_empty(dam) ||
		       strcmp(wbxml_text(dam), "0") != 0;
	struct store_item item;

	if (sid == NULL) {
		reply(w, EAS_AIRSYNC_DELETE, NULL, sid, SYNC_ST_PROTOCOL);
		return 0;
	}
	if (wbxml_child(cmd, EAS_AIRSYNCBASE_INSTANCEID) != NULL)
		return cmd_instance(w, cmd, e);
	*e = store_item_get(req->store, req->arena, req->account.id, sid,
			    c->cls == STORE_CLASS_CALENDAR, &item);
	if (*e == STORE_NOTFOUND ||
	    (*e == STORE_OK && !item_in_collection(w, &item))) {
		*e = STORE_OK;
		reply(w, EAS_AIRSYNC_DELETE, NULL, sid, SYNC_ST_NOT_FOUND);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	if (c->folder.rights < STORE_RIGHT_WRITE)
		return refuse_read_only(w, EAS_AIRSYNC_DELETE, sid, &item, e);
	if (c->cls == STORE_CLASS_CALENDAR &&
	    eas_meeting_organizer(req, &item, NULL, e) < 0)
		return -1;
	/* MS-ASCMD 2.2.3.43 DeletesAsMoves (default 1): email goes to
	 * Deleted Items, unless it is deleted from there; the Deleted Items
	 * of the folder's owner, for a shared one (deleted where it is when
	 * the grantee may not write there). */
	if (as_move && c->cls == STORE_CLASS_EMAIL &&
	    c->folder.type != EAS_FOLDER_DELETED &&
	    (c->folder.account_id == req->account.id ||
	     !is_owner_trash(req, &c->folder))) {
		struct store_folder trash;
		struct store_item moved;

		*e = store_folder_get_by_type(req->store, req->arena,
					      c->folder.account_id,
					      EAS_FOLDER_DELETED, &trash);
		if (*e == STORE_OK)
			*e = store_item_move(req->store, req->arena,
					     req->account.id, item.id, trash.id,
					     req->device.id, &moved);
		if (*e == STORE_NOTFOUND || *e == STORE_DENIED)
			*e = store_item_delete(req->store, req->account.id,
					       item.id, req->device.id);
	} else {
		*e = store_item_delete(req->store, req->account.id, item.id,
				       req->device.id);
	}
	if (*e == STORE_NOTFOUND) {
		*e = STORE_OK;
		reply(w, EAS_AIRSYNC_DELETE, NULL, sid, SYNC_ST_NOT_FOUND);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	FATAL(store_sync_mark(req->store, c->st.id, item.id, item.modseq,
			      false));
	w->applied = true;
	return 0;
}

static int
cmd_fetch(struct coll_work *w, const struct wbxml_node *cmd,
	  enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct arena *a = req->arena;
	const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
	struct store_item item;
	struct wbxml_node *n, *appdata;
	const char *error = NULL;

	if (sid == NULL) {
		reply(w, EAS_AIRSYNC_FETCH, NULL, NULL, SYNC_ST_PROTOCOL);
		return 0;
	}
	*e = store_item_get(req->store, a, req->account.id, sid, true, &item);
	if (*e == STORE_NOTFOUND ||
	    (*e == STORE_OK && !item_in_collection(w, &item))) {
		*e = STORE_OK;
		reply(w, EAS_AIRSYNC_FETCH, NULL, sid, SYNC_ST_NOT_FOUND);
		return 0;
	}
	if (*e != STORE_OK)
		return -1;
	n = wbxml_new(a, EAS_AIRSYNC_FETCH);
	wbxml_add_text(a, n, EAS_AIRSYNC_SERVERID, sid);
	wbxml_add_int(a, n, EAS_AIRSYNC_STATUS, SYNC_ST_OK);
	appdata = wbxml_add(a, n, EAS_AIRSYNC_APPLICATIONDATA);
	w->ctx.item_server_id = sid;
	if (conv_to_eas(a, &item, &w->ctx, appdata, &error) < 0) {
		log_error("item %s cannot be fetched: %s", sid,
			  error != NULL ? error : "conversion failed");
		reply(w, EAS_AIRSYNC_FETCH, NULL, sid, SYNC_ST_SERVER_ERROR);
	} else {
		wbxml_append(work_responses(w), n);
	}
	w->ctx.item_server_id = NULL;
	return 0;
}

static int
apply_commands(struct coll_work *w, const struct wbxml_node *cmds,
	       enum store_error *e)
{
	const struct wbxml_node *n;
	int r = 0;

	wbxml_foreach(cmds, n)
	{
		switch (n->tag) {
		case EAS_AIRSYNC_ADD:
			r = cmd_add(w, n, e);
			break;
		case EAS_AIRSYNC_CHANGE:
			r = cmd_change(w, n, e);
			break;
		case EAS_AIRSYNC_DELETE:
			r = cmd_delete(w, n, e);
			break;
		case EAS_AIRSYNC_FETCH:
			r = cmd_fetch(w, n, e);
			break;
		default:
			break;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static bool
was_conflict(const struct coll_work *w, int64_t id)
{
	for (size_t i = 0; i < w->nconflicts; i++)
		if (w->conflicts[i] == id)
			return true;
	return false;
}

/* Server changes into Commands, within the collection's and the request's
 * window. */
static int
get_changes(struct coll_work *w, bool *more_r, enum store_error *e)
{
	struct eas_req *req = w->run->req;
	struct sync_coll *c = w->c;
	struct store_sync_change *list;
	size_t n, max = coll_window(w->run, c);

	*more_r = false;
	if (w->run->window_total >= 0)
		max = EAS_MIN(max, (size_t)w->run->window_total);
	if (max == 0) {
		/* the request's window is used up by earlier collections */
		FATAL(store_sync_pending(req->store, &c->st, &c->filter,
					 more_r));
		return 0;
	}
	FATAL(store_sync_changes(req->store, req->arena, &c->st, &c->filter,
				 max, true, &list, &n, more_r));
	for (size_t i = 0; i < n; i++) {
		struct store_sync_change *ch = &list[i];
		const struct store_item *item = &ch->item;
		uint16_t tag;

		if (was_conflict(w, item->id))
			continue;
		if (c->loop_known &&
		    loop_is_isolated(&w->run->loop, c->folder.id, item->id,
				     item->modseq))
			continue; /* hwm moves past it, unsent and unheld */
		if (c->probe)
			loop_probe_sent(&w->run->loop, c->folder.id,
					item->server_id);
		switch (ch->kind) {
		case STORE_CHANGE_ADD:
		case STORE_CHANGE_CHANGE:
			tag = ch->kind == STORE_CHANGE_ADD ? EAS_AIRSYNC_ADD
							   : EAS_AIRSYNC_CHANGE;
			if (send_item(w, tag, item) < 0)
				continue;
			FATAL(store_sync_mark(req->store, c->st.id, item->id,
					      item->modseq, true));
			break;
		case STORE_CHANGE_DELETE:
		case STORE_CHANGE_SOFTDELETE: {
			struct wbxml_node *d =
				wbxml_add(req->arena, work_commands(w),
					  ch->kind == STORE_CHANGE_DELETE
						  ? EAS_AIRSYNC_DELETE
						  : EAS_AIRSYNC_SOFTDELETE);

			wbxml_add_text(req->arena, d, EAS_AIRSYNC_SERVERID,
				       item->server_id);
			w->sent++;
			FATAL(store_sync_mark(req->store, c->st.id, item->id,
					      item->modseq, false));
			break;
		}
		}
	}
	if (w->run->window_total >= 0)
		w->run->window_total -=
			EAS_MIN(w->run->window_total, (int64_t)n);
	return 0;
}

/* Encode the Collection element as the cached answer for a replay. */
static int
encode_resp(const struct wbxml_node *resp, struct arena *a, uint8_t **r,
	    size_t *len_r)
{
	struct buf b;

	buf_init(&b, SYNC_RESPONSE_MAX);
	if (wbxml_encode(resp, &b) < 0) {
		buf_deinit(&b);
		return -1;
	}
	/* the buffer goes with the arena: a window of mail is about a
	 * megabyte, not worth another copy */
	arena_add_cleanup(a, free, b.data);
	*r = b.data;
	*len_r = b.len;
	return 0;
}

/* Key 0 (digest section 4 step 1): drop the old state, start a new key
 * stream; the answer carries no items. */
static enum coll_verdict
coll_prime(struct sync_run *run, struct sync_coll *c, enum store_error *e)
{
	struct eas_req *req = run->req;
	struct store_sync_state st;

	*e = store_sync_reset(req->store, req->device.id, c->folder.id);
	if (*e != STORE_OK && *e != STORE_NOTFOUND)
		return COLL_FAIL;
	*e = store_sync_get(req->store, req->arena, req->device.id,
			    c->folder.id, &st);
	if (*e == STORE_NOTFOUND) {
		memset(&st, 0, sizeof(st));
		st.device_id = req->device.id;
		st.folder_id = c->folder.id;
	} else if (*e != STORE_OK) {
		return COLL_FAIL;
	}
	/* The first windows come from the backfill walk (every in-window
	 * item the device does not hold, in id order) rather than from the
	 * change log: unlike the log it also brings back the items this
	 * device created before it started over, which echo suppression
	 * would skip. */
	/* the modseq of the folder's owner: a shared folder's changes are
	 * the owner's */
	*e = store_account_modseq(req->store, c->folder.account_id, &st.hwm);
	if (*e != STORE_OK)
		return COLL_FAIL;
	st.cur_key = key_new(req->arena);
	st.prev_key = NULL;
	st.backfill_after = 0;
	st.filter_since = c->filter.since;
	st.options = c->opts_blob;
	st.options_len = c->opts_len;
	c->resp = coll_status_resp(req, c, st.cur_key, SYNC_ST_OK);
	st.response = NULL;
	st.response_len = 0;
	*e = store_sync_save(req->store, &st);
	if (*e != STORE_OK)
		return COLL_FAIL;
	c->st = st;
	return COLL_DONE;
}

/* A looping answer sent again item by item: what it said besides items
 * (the replies to the client's commands, deletes) goes out again with the
 * first of them. */
static void
redo_extras(struct coll_work *w, const struct wbxml_node *looping)
{
	struct arena *a = w->run->req->arena;
	const struct wbxml_node *cmds =
		wbxml_child(looping, EAS_AIRSYNC_COMMANDS);
	const struct wbxml_node *resps =
		wbxml_child(looping, EAS_AIRSYNC_RESPONSES);
	const struct wbxml_node *n;

	w->applied = true; /* a new key either way */
	if (cmds != NULL)
		wbxml_foreach(cmds, n)
		{
			if (n->tag == EAS_AIRSYNC_DELETE ||
			    n->tag == EAS_AIRSYNC_SOFTDELETE) {
				wbxml_append(work_commands(w),
					     wbxml_clone(a, n));
				w->sent++;
			}
		}
	if (resps != NULL)
		wbxml_foreach(resps, n)
			wbxml_append(work_responses(w), wbxml_clone(a, n));
}

static enum coll_verdict
coll_write(struct sync_run *run, struct sync_coll *c, enum store_error *e)
{
	struct eas_req *req = run->req;
	const struct wbxml_node *cmds =
		c->from_cache || c->redo != NULL
			? NULL
			: wbxml_child(c->node, EAS_AIRSYNC_COMMANDS);
	struct coll_work w;
	bool more = false;
	int64_t hwm0 = c->st.hwm, backfill0;
	const char *key;

	memset(&w, 0, sizeof(w));
	w.run = run;
	w.c = c;
	ctx_init(req, c, &w.ctx);
	if (cmds != NULL && wbxml_count_children(cmds) > SYNC_MAX_COMMANDS) {
		log_info("Sync with %zu commands refused",
			 wbxml_count_children(cmds));
		c->resp = coll_status_resp(req, c, c->key, SYNC_ST_PROTOCOL);
		return COLL_DONE;
	}
	w.conflicts = arena_alloc(
		req->arena,
		sizeof(int64_t) *
			(cmds != NULL ? wbxml_count_children(cmds) + 1 : 1));
	if (c->widened)
		c->st.backfill_after = 0;
	backfill0 = c->st.backfill_after;
	loop_hierarchy_taken(&run->loop);
	c->loop_known = loop_concerns(&run->loop, c->folder.id);
	if (c->loop_known) {
		if (c->redo == NULL)
			loop_advanced(&run->loop, c->folder.id);
		c->probe = loop_probing(&run->loop, c->folder.id, NULL);
	}
	if (c->st.id == 0) {
		/* marks need the row id */
		if ((*e = store_sync_save(req->store, &c->st)) != STORE_OK)
			return COLL_FAIL;
	}
	if (cmds != NULL && apply_commands(&w, cmds, e) < 0)
		return COLL_FAIL;
	if (coll_get_changes(c) && get_changes(&w, &more, e) < 0)
		return COLL_FAIL;
	if (c->probe && !more)
		loop_probe_end(&run->loop, c->folder.id);
	if (c->redo != NULL)
		redo_extras(&w, c->redo);

	/* A new key only with persisted state behind it (digest 4 step 6). */
	key = c->st.cur_key;
	if (w.applied || w.sent > 0)
		key = key_next(req->arena, c->st.cur_key);
	if (w.responses == NULL && w.commands == NULL && !more &&
	    key == c->st.cur_key) {
		c->resp = NULL;
	} else {
		c->resp = coll_status_resp(req, c, key, SYNC_ST_OK);
		/* MS-ASCMD 2.2.3.29.2 response order: Class, SyncKey,
		 * CollectionId, Status, MoreAvailable, Commands,
		 * Responses. */
		if (more)
			wbxml_add(req->arena, c->resp,
				  EAS_AIRSYNC_MOREAVAILABLE);
		if (w.commands != NULL)
			wbxml_append(c->resp, w.commands);
		if (w.responses != NULL)
			wbxml_append(c->resp, w.responses);
	}
	c->st.options = c->opts_blob;
	c->st.options_len = c->opts_len;
	if (key != c->st.cur_key) {
		uint8_t *bytes;
		size_t len;

		if (encode_resp(c->resp, req->arena, &bytes, &len) < 0) {
			log_error("Sync response too large to cache");
			*e = STORE_INTERNAL;
			return COLL_FAIL;
		}
		c->st.prev_key = c->st.cur_key;
		c->st.cur_key = key;
		c->st.response = bytes;
		c->st.response_len = len;
		c->resp_doc_of = c->resp;
		c->resp_doc = bytes;
		c->resp_doc_len = len;
	} else if (!c->opts_changed && c->st.hwm == hwm0 &&
		   c->st.backfill_after == backfill0 && !c->widened) {
		return COLL_DONE; /* nothing to persist */
	}
	if ((*e = store_sync_save(req->store, &c->st)) != STORE_OK)
		return COLL_FAIL;
	return COLL_DONE;
}

/* --- loops (loop.h) --- */

/* The answer without one of its commands. */
static struct wbxml_node *
resp_without(struct arena *a, const struct wbxml_node *resp,
	     const struct wbxml_node *skip)
{
	struct wbxml_node *r = wbxml_new(a, resp->tag);
	const struct wbxml_node *n, *k;

	wbxml_foreach(resp, n)
	{
		struct wbxml_node *cmds;

		if (n->tag != EAS_AIRSYNC_COMMANDS) {
			wbxml_append(r, wbxml_clone(a, n));
			continue;
		}
		cmds = wbxml_new(a, n->tag);
		wbxml_foreach(n, k) if (k != skip)
			wbxml_append(cmds, wbxml_clone(a, k));
		if (cmds->child != NULL)
			wbxml_append(r, cmds);
	}
	return r;
}

/* The looping answer had one item: that version of it is isolated, and
 * the answer without it replaces the cached one (same key). */
static enum coll_verdict
coll_isolate(struct sync_run *run, struct sync_coll *c,
	     const struct wbxml_node *looping, const struct wbxml_node *cmd,
	     enum store_error *e)
{
	struct eas_req *req = run->req;
	const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
	struct store_item item;
	int64_t held;
	uint8_t *bytes;
	size_t len;

	*e = store_item_get(req->store, req->arena, req->account.id, sid, false,
			    &item);
	if (*e == STORE_OK && item.folder_id != c->folder.id)
		*e = STORE_NOTFOUND;
	if (*e == STORE_OK) {
		*e = store_sync_held(req->store, c->st.id, item.id, &held);
		if (*e == STORE_NOTFOUND)
			held = item.modseq;
		else if (*e != STORE_OK)
			return COLL_FAIL;
		/* an Add leaves the item unheld: it comes as an Add again
		 * once it changes or the loop is cleared */
		if (cmd->tag == EAS_AIRSYNC_ADD &&
		    (*e = store_sync_mark(req->store, c->st.id, item.id, 0,
					  false)) != STORE_OK)
			return COLL_FAIL;
		loop_isolate(&run->loop, c->folder.id, item.id, held, sid);
	} else if (*e != STORE_NOTFOUND) {
		return COLL_FAIL;
	}
	*e = STORE_OK;
	c->resp = resp_without(req->arena, looping, cmd);
	if (encode_resp(c->resp, req->arena, &bytes, &len) < 0) {
		*e = STORE_INTERNAL;
		return COLL_FAIL;
	}
	c->st.response = bytes;
	c->st.response_len = len;
	*e = store_sync_save(req->store, &c->st);
	return *e == STORE_OK ? COLL_DONE : COLL_FAIL;
}

/* The looping answer had several items: make them pending again and
 * answer the repeated key anew, one item an answer until each of them went
 * out alone. Adds become unheld (the id walk brings them back), Changes
 * held below their version (the modseq walk does). */
static enum coll_verdict
coll_probe(struct sync_run *run, struct sync_coll *c,
	   const struct wbxml_node *looping, const char *key,
	   enum store_error *e)
{
	struct eas_req *req = run->req;
	const struct wbxml_node *cmds =
		wbxml_child(looping, EAS_AIRSYNC_COMMANDS);
	size_t n = wbxml_count_children(cmds), ns = 0;
	const char **sids = arena_alloc(req->arena, sizeof(char *) * (n + 1));
	int64_t min_add = INT64_MAX, min_change = INT64_MAX;
	const struct wbxml_node *cmd;

	wbxml_foreach(cmds, cmd)
	{
		const char *sid = wbxml_child_text(cmd, EAS_AIRSYNC_SERVERID);
		struct store_item item;

		if ((cmd->tag != EAS_AIRSYNC_ADD &&
		     cmd->tag != EAS_AIRSYNC_CHANGE) ||
		    sid == NULL)
			continue;
		*e = store_item_get(req->store, req->arena, req->account.id,
				    sid, false, &item);
		if (*e == STORE_NOTFOUND || item.folder_id != c->folder.id)
			continue; /* gone since: its delete is pending */
		if (*e != STORE_OK)
			return COLL_FAIL;
		if (cmd->tag == EAS_AIRSYNC_ADD) {
			*e = store_sync_mark(req->store, c->st.id, item.id, 0,
					     false);
			min_add = EAS_MIN(min_add, item.id);
		} else {
			*e = store_sync_mark(req->store, c->st.id, item.id,
					     item.modseq - 1, true);
			min_change = EAS_MIN(min_change, item.modseq);
		}
		if (*e != STORE_OK)
			return COLL_FAIL;
		sids[ns++] = sid;
	}
	*e = STORE_OK;
	if (min_change != INT64_MAX)
		c->st.hwm = EAS_MIN(c->st.hwm, min_change - 1);
	if (min_add != INT64_MAX)
		c->st.backfill_after =
			c->st.backfill_after < 0
				? min_add - 1
				: EAS_MIN(c->st.backfill_after, min_add - 1);
	loop_probe_start(&run->loop, c->folder.id, false, sids, ns);
	/* the repeated key is current again; the answer it gets now
	 * replaces the looping one */
	c->st.cur_key = key;
	c->st.prev_key = NULL;
	c->redo = looping;
	return coll_write(run, c, e);
}

/* key was answered from the cache `repeats` times: a loop. */
static enum coll_verdict
coll_loop(struct sync_run *run, struct sync_coll *c,
	  const struct wbxml_node *looping, int64_t repeats,
	  enum store_error *e)
{
	const struct wbxml_node *cmds =
		wbxml_child(looping, EAS_AIRSYNC_COMMANDS);
	const struct wbxml_node *cmd, *item = NULL;
	size_t nitems = 0;
	const char *what =
		arena_printf(run->req->arena, "Sync of %s", c->collection_id);

	loop_found(&run->loop, c->folder.id, what, c->key, repeats);
	if (cmds != NULL)
		wbxml_foreach(cmds, cmd)
		{
			if ((cmd->tag == EAS_AIRSYNC_ADD ||
			     cmd->tag == EAS_AIRSYNC_CHANGE) &&
			    wbxml_child(cmd, EAS_AIRSYNC_SERVERID) != NULL) {
				item = cmd;
				nitems++;
			}
		}
	if (nitems == 0) {
		/* nothing of ours to blame: the same answer again */
		c->resp = (struct wbxml_node *)looping;
		return COLL_DONE;
	}
	if (nitems == 1)
		return coll_isolate(run, c, looping, item, e);
	return coll_probe(run, c, looping, c->key, e);
}

/* Everything about one collection. With write=false only reads happen and
 * COLL_NEEDS_WRITE says the write pass must run. */
static enum coll_verdict
coll_resolve(struct sync_run *run, struct sync_coll *c, bool write,
	     enum store_error *e)
{
	struct eas_req *req = run->req;
	const char *key;
	int status;
	bool pending;

	*e = STORE_OK;
	c->resp = NULL;
	c->status = SYNC_ST_OK;
	c->cls = STORE_CLASS_NONE;
	if (c->collection_id == NULL || c->collection_id[0] == '\0' ||
	    (c->key == NULL && !c->from_cache) ||
	    (c->key != NULL && strlen(c->key) > SYNC_KEY_MAX)) {
		c->resp = coll_status_resp(req, c, c->key, SYNC_ST_PROTOCOL);
		return COLL_DONE;
	}
	status = coll_folder(run, c, e);
	if (status < 0)
		return COLL_FAIL;
	if (status > 0) {
		c->resp = coll_status_resp(req, c, c->key, status);
		return COLL_DONE;
	}

	if (c->key != NULL && strcmp(c->key, "0") == 0) {
		/* Clients must not send Commands with key 0. */
		if (wbxml_child(c->node, EAS_AIRSYNC_COMMANDS) != NULL) {
			c->resp = coll_status_resp(req, c, c->key,
						   SYNC_ST_PROTOCOL);
			return COLL_DONE;
		}
		memset(&c->st, 0, sizeof(c->st));
		status = coll_options(run, c);
		if (status > 0) {
			c->resp = coll_status_resp(req, c, c->key, status);
			return COLL_DONE;
		}
		if (!write)
			return COLL_NEEDS_WRITE;
		return coll_prime(run, c, e);
	}

	*e = store_sync_get(req->store, req->arena, req->device.id,
			    c->folder.id, &c->st);
	if (*e == STORE_NOTFOUND) {
		*e = STORE_OK;
		c->resp = coll_status_resp(req, c, "0", SYNC_ST_INVALID_KEY);
		return COLL_DONE;
	}
	if (*e != STORE_OK)
		return COLL_FAIL;
	key = c->from_cache ? c->st.cur_key : c->key;
	if (key == NULL || c->st.cur_key == NULL) {
		c->resp = coll_status_resp(req, c, "0", SYNC_ST_INVALID_KEY);
		return COLL_DONE;
	}

	if (c->st.prev_key != NULL && strcmp(key, c->st.prev_key) == 0 &&
	    strcmp(key, c->st.cur_key) != 0) {
		/* Replay (digest 4 step 3): the client lost our answer;
		 * send the same bytes, apply nothing; counted (in the write
		 * pass) for loop detection. */
		struct wbxml_node *cached;
		const char *error;
		int64_t repeats;

		if (!write)
			return COLL_NEEDS_WRITE;
		if (c->st.response_len == 0 ||
		    store_sync_response(req->store, req->arena, &c->st) !=
			    STORE_OK ||
		    c->st.response == NULL ||
		    wbxml_decode(req->arena, c->st.response, c->st.response_len,
				 &wbxml_limits_default, &cached, &error) < 0) {
			c->resp = coll_status_resp(req, c, "0",
						   SYNC_ST_INVALID_KEY);
			return COLL_DONE;
		}
		repeats = loop_repeated(&run->loop, c->folder.id, key);
		if (repeats < (int64_t)loop_limit(req)) {
			c->resp = cached;
			return COLL_DONE;
		}
		c->key = key;
		if (coll_options(run, c) > 0) {
			c->resp = cached;
			return COLL_DONE;
		}
		return coll_loop(run, c, cached, repeats, e);
	}
	if (strcmp(key, c->st.cur_key) != 0) {
		log_info("collection %s: unknown SyncKey %s", c->collection_id,
			 key);
		c->resp = coll_status_resp(req, c, "0", SYNC_ST_INVALID_KEY);
		return COLL_DONE;
	}
	c->key = key;

	status = coll_options(run, c);
	if (status > 0) {
		c->resp = coll_status_resp(req, c, key, status);
		return COLL_DONE;
	}
	if (write)
		return coll_write(run, c, e);

	if (!c->from_cache &&
	    wbxml_child(c->node, EAS_AIRSYNC_COMMANDS) != NULL)
		return COLL_NEEDS_WRITE;
	if (c->opts_changed || c->widened)
		return COLL_NEEDS_WRITE;
	if (!coll_get_changes(c))
		return COLL_DONE;
	*e = store_sync_pending(req->store, &c->st, &c->filter, &pending);
	if (*e != STORE_OK)
		return COLL_FAIL;
	return pending ? COLL_NEEDS_WRITE : COLL_DONE;
}

/* --- the request --- */

static struct wbxml_node *
top_status(struct eas_req *req, int status)
{
	struct wbxml_node *root = wbxml_new(req->arena, EAS_AIRSYNC_SYNC);

	wbxml_add_int(req->arena, root, EAS_AIRSYNC_STATUS, status);
	req->eas_status = status;
	return root;
}

static enum eas_cmd_result sync_resume(struct eas_req *req,
				       struct wbxml_node **out_r);

/* A Sync with nothing to say: no body (MS-ASCMD 2.2.1.21.2), unless the
 * client cannot take that (quirks.h); then every collection with its
 * unchanged key and Status 1. */
static struct wbxml_node *
no_change_answer(struct sync_run *run)
{
	struct eas_req *req = run->req;
	struct wbxml_node *root, *colls;

	if ((quirks_of_req(req) & QUIRK_NO_EMPTY_SYNC) == 0)
		return NULL;
	root = wbxml_new(req->arena, EAS_AIRSYNC_SYNC);
	colls = wbxml_add(req->arena, root, EAS_AIRSYNC_COLLECTIONS);
	for (size_t i = 0; i < run->ncolls; i++) {
		struct sync_coll *c = &run->colls[i];
		const char *key =
			c->st.cur_key != NULL ? c->st.cur_key : c->key;

		wbxml_append(colls, c->resp != NULL
					    ? c->resp
					    : coll_status_resp(req, c, key,
							       SYNC_ST_OK));
	}
	return root;
}

/* Park the request until a collection changes (MS-ASCMD 2.2.3.198 Wait,
 * 2.2.3.88.2 HeartbeatInterval). */
static enum eas_cmd_result
sync_park(struct sync_run *run, uint64_t seq)
{
	struct eas_req *req = run->req;
	struct push_waiter *w =
		arena_new_struct(req->arena, struct push_waiter);
	int64_t *folders =
		arena_alloc(req->arena, sizeof(int64_t) * (run->ncolls + 1));
	size_t n = 0;

	for (size_t i = 0; i < run->ncolls; i++)
		if (run->colls[i].folder.id != 0)
			folders[n++] = run->colls[i].folder.id;
	w->req = req;
	w->account_id = req->account.id;
	w->device_row = req->device.id;
	w->folders = folders;
	w->nfolders = n;
	w->folder_changed = arena_zalloc(req->arena, sizeof(bool) * (n + 1));
	w->deadline_ms = run->deadline_ms;
	w->seq = seq;
	req->waiter = w;
	req->resume_fn = sync_resume;
	req->resume_ctx = run;
	return EAS_CMD_PARKED;
}

/* The answer as raw bytes when it is one collection whose answer was just
 * encoded for the cache: those bytes wrapped in Sync and Collections, the
 * same that encoding the whole tree again would give. Not when the tree
 * is still to be shown (a trace, the debug log) or changed (a client
 * quirk). */
static bool
answer_from_cache(struct sync_run *run)
{
	static const uint16_t wrap[] = {EAS_AIRSYNC_SYNC,
					EAS_AIRSYNC_COLLECTIONS};
	struct eas_req *req = run->req;
	const struct sync_coll *one = NULL;
	struct buf b;

	if (req->trace || log_enabled(LOG_DEBUG) ||
	    (quirks_of_req(req) & QUIRK_NO_OPAQUE) != 0)
		return false;
	for (size_t i = 0; i < run->ncolls; i++) {
		if (run->colls[i].resp == NULL)
			continue;
		if (one != NULL)
			return false;
		one = &run->colls[i];
	}
	if (one == NULL || one->resp_doc == NULL ||
	    one->resp_doc_of != one->resp)
		return false;
	buf_init(&b, 0);
	if (wbxml_encode_wrap(wrap, N_ELEMENTS(wrap), one->resp_doc,
			      one->resp_doc_len, &b) < 0) {
		buf_deinit(&b);
		return false;
	}
	arena_add_cleanup(req->arena, free, b.data);
	req->resp_body = b.data;
	req->resp_len = b.len;
	req->resp_content_type = "application/vnd.ms-sync.wbxml";
	return true;
}

/* One pass over the collections: read-only first, the write transaction
 * only when something has to change. */
static enum eas_cmd_result
sync_pass(struct sync_run *run, struct wbxml_node **out_r)
{
	struct eas_req *req = run->req;
	struct wbxml_node *root, *colls;
	enum store_error e;
	bool need_write = false, any = false;
	uint64_t seq = 0;
	bool can_park = run->wait_s > 0 && req->srv->push != NULL;
	int64_t window_total = run->window_total;

	*out_r = NULL;
	run->need_write = false;
	loop_guard_init(&run->loop, req);
	/* Read the push counter before looking at the store (in a fresh
	 * snapshot), so a change committed in between fires the waiter. */
	if (can_park) {
		store_snapshot_end(req->store);
		seq = push_seq(req->srv->push, req->account.id);
	}

	if ((e = store_begin(req->store, false)) != STORE_OK)
		return eas_req_store_error(req, e, "Sync read");
	for (size_t i = 0; i < run->ncolls; i++) {
		enum coll_verdict v =
			coll_resolve(run, &run->colls[i], false, &e);

		if (v == COLL_FAIL) {
			store_rollback(req->store);
			return eas_req_store_error(req, e, "Sync read");
		}
		if (v == COLL_NEEDS_WRITE)
			need_write = true;
	}
	if (run->cache != NULL &&
	    !cache_differs(req, run->cache, run->cache_len))
		run->cache = NULL;
	store_rollback(req->store); /* read only: nothing to keep */
	if (run->cache != NULL) {
		/* MS-ASCMD 2.2.3.131: a full request replaces the cache */
		e = store_device_blob_set(req->store, req->device.id, "sync",
					  run->cache, run->cache_len);
		if (e != STORE_OK)
			log_warn("cannot cache the Sync request: %s",
				 store_error_str(e));
		run->cache = NULL;
	}

	run->need_write = need_write;
	if (need_write) {
		run->window_total = window_total;
		if ((e = store_begin(req->store, true)) != STORE_OK)
			return eas_req_store_error(req, e, "Sync");
		for (size_t i = 0; i < run->ncolls; i++) {
			if (coll_resolve(run, &run->colls[i], true, &e) ==
			    COLL_FAIL) {
				store_rollback(req->store);
				return eas_req_store_error(req, e, "Sync");
			}
		}
		if ((e = loop_guard_save(&run->loop)) != STORE_OK ||
		    (e = store_commit(req->store)) != STORE_OK) {
			store_rollback(req->store);
			return eas_req_store_error(req, e, "Sync commit");
		}
	}

	root = wbxml_new(req->arena, EAS_AIRSYNC_SYNC);
	colls = wbxml_add(req->arena, root, EAS_AIRSYNC_COLLECTIONS);
	for (size_t i = 0; i < run->ncolls; i++) {
		if (run->colls[i].resp != NULL) {
			wbxml_append(colls, run->colls[i].resp);
			any = true;
		}
	}
	if (any) {
		if (!answer_from_cache(run))
			*out_r = root;
		return EAS_CMD_OK;
	}
	/* Nothing to say: wait for a change, or an empty 200 (MS-ASCMD
	 * 3.2.5.1.x; the client keeps its keys). */
	if (can_park && time_mono_ms() < run->deadline_ms)
		return sync_park(run, seq);
	*out_r = no_change_answer(run);
	return EAS_CMD_OK;
}

/* Whether the answer to run, just made by sync_pass, is one a repeat of
 * the same request may get from memory: nothing to say, nothing written,
 * and nothing in it that time alone changes (a FilterType window). */
static bool
sync_rememberable(const struct sync_run *run, enum eas_cmd_result r,
		  const struct wbxml_node *out)
{
	if (run->request == NULL || r != EAS_CMD_OK || out != NULL ||
	    run->wait_s > 0 || run->need_write)
		return false;
	for (size_t i = 0; i < run->ncolls; i++) {
		const struct sync_coll *c = &run->colls[i];

		if (c->resp != NULL || c->folder.id == 0 ||
		    c->filter.since != 0)
			return false;
	}
	return true;
}

static enum eas_cmd_result
sync_execute(struct sync_run *run, struct wbxml_node **out_r)
{
	struct eas_req *req = run->req;
	struct standing *sc = req->srv->standing;
	enum eas_cmd_result r = sync_pass(run, out_r);
	int64_t *folders;

	if (!sync_rememberable(run, r, *out_r)) {
		/* whatever it did to the device's sync state */
		standing_sync_begin(sc, req->account.id, req->device_id);
		return r;
	}
	folders = arena_alloc(req->arena, sizeof(int64_t) * run->ncolls);
	for (size_t i = 0; i < run->ncolls; i++)
		folders[i] = run->colls[i].folder.id;
	standing_sync_set(sc, req->standing_gen, run->token, req->account.id,
			  req->device_id, run->request, run->request_len,
			  folders, run->ncolls);
	return r;
}

static enum eas_cmd_result
sync_resume(struct eas_req *req, struct wbxml_node **out_r)
{
	struct sync_run *run = req->resume_ctx;
	enum push_reason reason =
		req->waiter != NULL ? req->waiter->reason : PUSH_TIMEOUT;

	enum eas_cmd_result r;

	*out_r = NULL;
	run->req = req;
	if (reason != PUSH_CHANGE && reason != PUSH_HIERARCHY &&
	    reason != PUSH_DEVICE) {
		/* timeout, superseded, shutdown */
		*out_r = no_change_answer(run);
		return EAS_CMD_OK;
	}
	if (eas_req_standing_changed(req))
		return EAS_CMD_OK; /* the next request meets the new state */
	/* Still nothing for this device (its own change, or another
	 * folder's): sync_execute parks again until the same deadline. */
	r = sync_execute(run, out_r);
	if (r == EAS_CMD_OK)
		quirks_response(quirks_of_req(req), *out_r);
	return r;
}

/* Wait / HeartbeatInterval: 0 and the hanging time in seconds, or a
 * Status 14 response in *out_r. */
static int
parse_wait(struct eas_req *req, const struct wbxml_node *sync, unsigned *wait_r,
	   struct wbxml_node **out_r)
{
	int64_t v;
	int rw, rh;
	unsigned hmin = req->srv->cfg.heartbeat_min,
		 hmax = req->srv->cfg.heartbeat_max;
	int64_t limit = -1;

	if (hmin == 0)
		hmin = 60;
	if (hmax == 0)
		hmax = 3540;
	*wait_r = 0;
	rw = wbxml_child_int(sync, EAS_AIRSYNC_WAIT, &v);
	if (rw == 1) {
		if (v < SYNC_WAIT_MIN)
			limit = SYNC_WAIT_MIN;
		else if (v > SYNC_WAIT_MAX)
			limit = SYNC_WAIT_MAX;
		else
			*wait_r = (unsigned)v * 60;
	}
	rh = wbxml_child_int(sync, EAS_AIRSYNC_HEARTBEATINTERVAL, &v);
	if (rh == 1) {
		if (v < hmin)
			limit = hmin;
		else if (v > hmax)
			limit = hmax;
		else
			*wait_r = (unsigned)v;
	}
	if (rw < 0 || rh < 0 || (rw == 1 && rh == 1)) {
		*out_r = top_status(req, SYNC_ST_PROTOCOL);
		return -1;
	}
	if (limit >= 0) {
		/* MS-ASCMD 2.2.3.97 Limit: the bound that was violated. */
		*out_r = top_status(req, SYNC_ST_WAIT_RANGE);
		wbxml_add_int(req->arena, *out_r, EAS_AIRSYNC_LIMIT, limit);
		return -1;
	}
	return 0;
}

static void
collect(const struct wbxml_node *sync, const struct wbxml_node **list,
	size_t *n, size_t cap)
{
	const struct wbxml_node *cs =
		wbxml_child(sync, EAS_AIRSYNC_COLLECTIONS);
	const struct wbxml_node *c;

	if (cs == NULL)
		return;
	wbxml_foreach(cs, c)
	{
		if (c->tag != EAS_AIRSYNC_COLLECTION)
			continue;
		if (*n < cap)
			list[*n] = c;
		(*n)++;
	}
}

enum eas_cmd_result
cmd_sync(struct eas_req *req, const struct wbxml_node *in,
	 struct wbxml_node **out_r)
{
	struct arena *a = req->arena;
	struct wbxml_node *cached = NULL;
	const struct wbxml_node *settings = in;
	const struct wbxml_node **list, **cached_list;
	bool *from_cache;
	size_t n = 0, ncached = 0, cap = SYNC_MAX_COLLECTIONS + 1;
	struct sync_run *run;
	enum store_error e;
	int64_t v;
	bool partial;

	*out_r = NULL;
	if (in != NULL && in->tag != EAS_AIRSYNC_SYNC) {
		*out_r = top_status(req, SYNC_ST_PROTOCOL);
		return EAS_CMD_OK;
	}
	list = arena_zalloc(a, sizeof(*list) * cap);
	cached_list = arena_zalloc(a, sizeof(*cached_list) * cap);
	from_cache = arena_zalloc(a, sizeof(bool) * cap);
	partial = in != NULL && wbxml_child(in, EAS_AIRSYNC_PARTIAL) != NULL;
	if (in != NULL)
		collect(in, list, &n, cap);

	if (in == NULL || partial || n == 0) {
		/* Empty or partial request (MS-ASCMD 2.2.3.131, digest 5.3):
		 * the cached request fills in what is not listed. */
		e = cache_load(req, &cached);
		if (e == STORE_NOTFOUND) {
			*out_r = top_status(req, SYNC_ST_NO_CACHE);
			return EAS_CMD_OK;
		}
		if (e != STORE_OK)
			return eas_req_store_error(req, e, "Sync cache");
		collect(cached, cached_list, &ncached, cap);
		for (size_t i = 0; i < ncached && i < cap; i++) {
			const char *id = wbxml_child_text(
				cached_list[i], EAS_AIRSYNC_COLLECTIONID);
			bool listed = false;

			for (size_t j = 0; j < n && j < cap && id != NULL;
			     j++) {
				const char *lid = wbxml_child_text(
					list[j], EAS_AIRSYNC_COLLECTIONID);

				if (lid != NULL && strcmp(lid, id) == 0)
					listed = true;
			}
			if (listed)
				continue;
			if (n < cap) {
				list[n] = cached_list[i];
				from_cache[n] = true;
			}
			n++;
		}
	}
	if (n > SYNC_MAX_COLLECTIONS) {
		*out_r = top_status(req, SYNC_ST_TOO_MANY);
		return EAS_CMD_OK;
	}
	if (n == 0) {
		*out_r = top_status(req, SYNC_ST_NO_CACHE);
		return EAS_CMD_OK;
	}
	/* Top-level settings: this request's, else the cached ones. */
	if (in == NULL ||
	    (wbxml_child(in, EAS_AIRSYNC_WAIT) == NULL &&
	     wbxml_child(in, EAS_AIRSYNC_HEARTBEATINTERVAL) == NULL &&
	     wbxml_child(in, EAS_AIRSYNC_WINDOWSIZE) == NULL && cached != NULL))
		settings = cached;

	run = arena_new_struct(a, struct sync_run);
	run->req = req;
	if (parse_wait(req, settings, &run->wait_s, out_r) < 0)
		return EAS_CMD_OK;
	run->window_total = -1;
	if (wbxml_child_int(settings, EAS_AIRSYNC_WINDOWSIZE, &v) == 1 && v > 0)
		run->window_total = v > 100000 ? 100000 : v;
	run->deadline_ms = time_mono_ms() + (uint64_t)run->wait_s * 1000;
	run->ncolls = n;
	run->colls = arena_zalloc(a, sizeof(struct sync_coll) * n);
	for (size_t i = 0; i < n; i++) {
		struct sync_coll *c = &run->colls[i];

		c->node = list[i];
		c->from_cache = from_cache[i];
		c->collection_id =
			wbxml_child_text(list[i], EAS_AIRSYNC_COLLECTIONID);
		c->key = c->from_cache ? NULL
				       : wbxml_child_text(list[i],
							  EAS_AIRSYNC_SYNCKEY);
		for (size_t j = 0; j < i; j++) {
			if (c->collection_id != NULL &&
			    run->colls[j].collection_id != NULL &&
			    strcmp(c->collection_id,
				   run->colls[j].collection_id) == 0) {
				*out_r = top_status(req, SYNC_ST_PROTOCOL);
				return EAS_CMD_OK;
			}
		}
	}

	/* Remember the request for later empty/partial ones (a full
	 * request replaces the cache). */
	if (in != NULL && n > 0)
		run->cache = cache_encode(req, cache_tree(a, settings, list, n),
					  &run->cache_len);
	/* A full request that got "no change" last time, and nothing it
	 * names changed since: the same empty answer, without a read. */
	if (run->cache != NULL && !partial && ncached == 0 &&
	    run->wait_s == 0 &&
	    (quirks_of_req(req) & QUIRK_NO_EMPTY_SYNC) == 0) {
		run->request = run->cache;
		run->request_len = run->cache_len;
		if (standing_sync_unchanged(req->srv->standing,
					    req->standing_gen, req->account.id,
					    req->device_id, run->request,
					    run->request_len)) {
			log_debug("Sync of device %s: no change, from memory",
				  req->device_id);
			return EAS_CMD_OK;
		}
	}
	run->token = standing_sync_begin(req->srv->standing, req->account.id,
					 req->device_id);
	return sync_execute(run, out_r);
}
