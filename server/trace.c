/* Per-device tracing: the list of traced devices lives in the store
 * (debug_traces) and in memory here, reloaded when easctl changes it (a
 * STORE_CHANGED_TRACE notification). A request asks trace_match once;
 * with nothing traced that is one atomic read. */
#include "trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "eas.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "wbxml-tags.h"
#include "wbxml.h"
#include "xalloc.h"

#define TRACE_MAX 256

struct entry {
	int64_t account_id;
	char device_id[65]; /* "" = every device */
	bool bodies;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry entries[TRACE_MAX];
static size_t nentries;
static atomic_size_t nactive;
static atomic_bool stale; /* reload before the next match */
static struct store_subscription *sub;
static struct easd *server;

static void
reload(void)
{
	struct store *s = easd_thread_store(server);
	struct arena *a;
	struct store_trace *list;
	size_t n = 0;

	if (s == NULL)
		return;
	a = arena_new(0);
	if (store_trace_list(s, a, &list, &n) != STORE_OK) {
		log_warn("trace: cannot read the list of traced devices");
		arena_free(&a);
		return;
	}
	pthread_mutex_lock(&lock);
	nentries = 0;
	for (size_t i = 0; i < n && nentries < TRACE_MAX; i++) {
		struct entry *e = &entries[nentries++];

		e->account_id = list[i].account_id;
		snprintf(e->device_id, sizeof(e->device_id), "%s",
			 list[i].device_id);
		e->bodies = list[i].bodies;
	}
	atomic_store(&nactive, nentries);
	pthread_mutex_unlock(&lock);
	arena_free(&a);
	log_info("trace: %zu device%s traced", n, n == 1 ? "" : " entries");
}

/* The callback must not use the store: mark the list stale. */
static void
changed(void *ctx, const struct store_change *c, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		if (c[i].what == STORE_CHANGED_TRACE)
			atomic_store(&stale, true);
}

int
trace_start(struct easd *srv, const char **error_r)
{
	server = srv;
	if (store_subscribe(srv->cfg.db_path, false, changed, NULL, &sub,
			    error_r) != STORE_OK)
		return -1;
	atomic_store(&stale, true);
	return 0;
}

void
trace_stop(struct easd *srv)
{
	(void)srv;
	store_unsubscribe(&sub);
	server = NULL;
}

bool
trace_match(int64_t account_id, const char *device_id, bool *bodies_r)
{
	bool found = false;

	*bodies_r = false;
	if (atomic_load(&stale) && server != NULL &&
	    atomic_exchange(&stale, false))
		reload();
	if (atomic_load(&nactive) == 0 || device_id == NULL)
		return false;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];

		if (e->account_id == account_id &&
		    (e->device_id[0] == '\0' ||
		     str_ieq(e->device_id, device_id))) {
			found = true;
			*bodies_r = *bodies_r || e->bodies;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

/* Message content: the body, MIME, attachment data. */
static bool
is_body(uint16_t tag)
{
	switch (tag) {
	case EAS_AIRSYNCBASE_DATA:
	case EAS_COMPOSEMAIL_MIME:
	case EAS_EMAIL_BODY:
	case EAS_EMAIL_MIMEDATA:
	case EAS_ITEMOPERATIONS_DATA:
		return true;
	default:
		return false;
	}
}

static void
elide(struct arena *a, struct wbxml_node *n)
{
	for (; n != NULL; n = n->next) {
		if (is_body(n->tag) && n->data != NULL) {
			const char *t =
				arena_printf(a, "[%zu bytes elided]", n->len);

			n->data = (const uint8_t *)t;
			n->len = strlen(t);
			n->opaque = false;
		}
		elide(a, n->child);
	}
}

void
trace_dump(struct eas_req *req, const char *title,
	   const struct wbxml_node *tree)
{
	const struct wbxml_node *dump = tree;
	struct buf xml;

	if (!req->trace || tree == NULL)
		return;
	if (!req->trace_bodies) {
		struct wbxml_node *copy = wbxml_clone(req->arena, tree);

		elide(req->arena, copy);
		dump = copy;
	}
	buf_init(&xml, 1024 * 1024);
	wbxml_to_xml(dump, &xml);
	log_block(LOG_INFO, arena_printf(req->arena, "trace %s", title),
		  (const char *)xml.data, xml.len);
	buf_deinit(&xml);
}
