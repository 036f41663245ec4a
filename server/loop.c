/* The facts of loop detection for one request (see loop.h). */
#include <string.h>

#include "log.h"
#include "loop.h"
#include "server.h"
#include "util.h"

void
loop_guard_init(struct loop_guard *g, struct eas_req *req)
{
	memset(g, 0, sizeof(*g));
	g->req = req;
}

static struct loopstate *
state(struct loop_guard *g)
{
	struct eas_req *req = g->req;
	uint8_t *data = NULL;
	size_t len = 0;
	enum store_error e;

	if (g->loaded)
		return &g->st;
	g->loaded = true;
	if (!req->have_device) {
		memset(&g->st, 0, sizeof(g->st));
		return &g->st;
	}
	e = store_device_blob_get(req->store, req->arena, req->device.id,
				  LOOPSTATE_BLOB, &data, &len);
	if (e != STORE_OK && e != STORE_NOTFOUND)
		log_warn("loop state of device %s unreadable: %s",
			 req->device.device_id, store_error_str(e));
	loopstate_parse(req->arena, e == STORE_OK ? data : NULL, len, &g->st);
	return &g->st;
}

enum store_error
loop_guard_save(struct loop_guard *g)
{
	struct eas_req *req = g->req;
	size_t len;
	char *text;
	enum store_error e;

	if (!g->dirty || !req->have_device)
		return STORE_OK;
	text = loopstate_format(req->arena, &g->st, &len);
	e = store_device_blob_set(req->store, req->device.id, LOOPSTATE_BLOB,
				  text, len);
	if (e == STORE_OK)
		g->dirty = false;
	return e;
}

unsigned
loop_limit(const struct eas_req *req)
{
	unsigned n = req->srv != NULL ? req->srv->cfg.loop_repeats : 0;

	return n >= 2 ? n : LOOP_REPEATS_DEFAULT;
}

int64_t
loop_repeated(struct loop_guard *g, int64_t folder, const char *key)
{
	struct loopstate *s = state(g);
	struct loopstate_fact *f =
		loopstate_find(s, LOOPSTATE_REPEAT, folder, NULL);

	if (f != NULL && strcmp(f->key, key) != 0) {
		f->dropped = true;
		f = NULL;
	}
	if (f == NULL) {
		f = loopstate_add(g->req->arena, s, LOOPSTATE_REPEAT, folder);
		f->key = arena_strdup(g->req->arena, key);
	}
	f->count++;
	g->dirty = true;
	return f->count;
}

void
loop_advanced(struct loop_guard *g, int64_t folder)
{
	if (loopstate_drop(state(g), LOOPSTATE_REPEAT, folder) > 0)
		g->dirty = true;
}

void
loop_hierarchy_taken(struct loop_guard *g)
{
	struct loopstate_fact *f =
		loopstate_find(state(g), LOOPSTATE_REPEAT, 0, NULL);

	if (f != NULL && strcmp(f->key, "0") == 0) {
		f->dropped = true;
		g->dirty = true;
	}
}

void
loop_found(struct loop_guard *g, int64_t folder, const char *what,
	   const char *key, int64_t repeats)
{
	struct loopstate *s = state(g);
	struct loopstate_fact *f =
		loopstate_find(s, LOOPSTATE_LOOPS, folder, NULL);

	log_warn("device %s of %s repeats %s with key %s (%lld times): a "
		 "loop",
		 g->req->device.device_id, g->req->account.login, what, key,
		 (long long)repeats);
	if (f == NULL)
		f = loopstate_add(g->req->arena, s, LOOPSTATE_LOOPS, folder);
	f->count++;
	f->time = time_now();
	loopstate_drop(s, LOOPSTATE_REPEAT, folder);
	g->dirty = true;
}

bool
loop_concerns(struct loop_guard *g, int64_t folder)
{
	return loopstate_has(state(g), folder);
}

bool
loop_is_isolated(struct loop_guard *g, int64_t folder, int64_t id,
		 int64_t modseq)
{
	struct loopstate *s = state(g);

	for (size_t i = 0; i < s->n; i++) {
		const struct loopstate_fact *f = &s->v[i];

		if (!f->dropped && f->kind == LOOPSTATE_ISOLATED &&
		    f->folder == folder && f->id == id && f->modseq == modseq)
			return true;
	}
	return false;
}

void
loop_isolate(struct loop_guard *g, int64_t folder, int64_t id, int64_t modseq,
	     const char *server_id)
{
	struct loopstate *s = state(g);
	struct loopstate_fact *f;

	log_warn("device %s of %s: %s %s isolated (not sent to it until it "
		 "changes or `easctl device clearloop`)",
		 g->req->device.device_id, g->req->account.login,
		 folder == 0 ? "folder" : "item", server_id);
	f = loopstate_find(s, LOOPSTATE_ISOLATED, folder, server_id);
	if (f == NULL) {
		f = loopstate_add(g->req->arena, s, LOOPSTATE_ISOLATED, folder);
		f->server_id = arena_strdup(g->req->arena, server_id);
	}
	f->id = id;
	f->modseq = modseq;
	f->time = time_now();
	loop_probe_sent(g, folder, server_id);
	g->dirty = true;
}

void
loop_probe_start(struct loop_guard *g, int64_t folder, bool fresh,
		 const char *const *server_ids, size_t n)
{
	struct loopstate *s = state(g);
	struct loopstate_fact *f;

	loop_probe_end(g, folder);
	f = loopstate_add(g->req->arena, s, LOOPSTATE_PROBE, folder);
	f->fresh = fresh;
	for (size_t i = 0; i < n; i++) {
		f = loopstate_add(g->req->arena, s, LOOPSTATE_SUSPECT, folder);
		f->server_id = arena_strdup(g->req->arena, server_ids[i]);
	}
	log_info("device %s: folder %lld is sent one item an answer until "
		 "%zu suspects went out",
		 g->req->device.device_id, (long long)folder, n);
	g->dirty = true;
}

bool
loop_probing(struct loop_guard *g, int64_t folder, bool *fresh_r)
{
	struct loopstate_fact *f =
		loopstate_find(state(g), LOOPSTATE_PROBE, folder, NULL);

	if (fresh_r != NULL)
		*fresh_r = f != NULL && f->fresh;
	return f != NULL;
}

void
loop_probe_sent(struct loop_guard *g, int64_t folder, const char *server_id)
{
	struct loopstate *s = state(g);
	struct loopstate_fact *f =
		loopstate_find(s, LOOPSTATE_SUSPECT, folder, server_id);

	if (f == NULL)
		return;
	f->dropped = true;
	g->dirty = true;
	if (loopstate_find(s, LOOPSTATE_SUSPECT, folder, NULL) == NULL)
		loop_probe_end(g, folder);
}

void
loop_probe_end(struct loop_guard *g, int64_t folder)
{
	struct loopstate *s = state(g);

	if (loopstate_drop(s, LOOPSTATE_PROBE, folder) +
		    loopstate_drop(s, LOOPSTATE_SUSPECT, folder) >
	    0)
		g->dirty = true;
}
