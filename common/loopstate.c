/* The loop-detection blob of a device (see loopstate.h). */
#include <string.h>

#include "buf.h"
#include "loopstate.h"
#include "util.h"

#define LOOPSTATE_WORDS 7

static const char *const kind_names[] = {
	[LOOPSTATE_REPEAT] = "repeat",	 [LOOPSTATE_PROBE] = "probe",
	[LOOPSTATE_SUSPECT] = "suspect", [LOOPSTATE_ISOLATED] = "isolated",
	[LOOPSTATE_LOOPS] = "loops",
};

/* Split a line into at most max words (in a); returns the count. */
static size_t
split(struct arena *a, const char *p, size_t len, const char **w, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		size_t start;

		while (i < len && p[i] == ' ')
			i++;
		start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i > start)
			w[n++] = arena_strndup(a, p + start, i - start);
	}
	return n;
}

static bool
num(const char *s, int64_t *r)
{
	return str_to_int64(s, r) == 0;
}

static bool
parse_line(struct arena *a, const char *p, size_t len, struct loopstate *s)
{
	const char *w[LOOPSTATE_WORDS];
	size_t n = split(a, p, len, w, LOOPSTATE_WORDS);
	struct loopstate_fact f;
	size_t k;

	memset(&f, 0, sizeof(f));
	if (n < 2 || !num(w[1], &f.folder))
		return false;
	for (k = 0; k < N_ELEMENTS(kind_names); k++)
		if (strcmp(w[0], kind_names[k]) == 0)
			break;
	f.kind = (enum loopstate_kind)k;
	switch (k) {
	case LOOPSTATE_REPEAT:
		if (n != 4 || !num(w[2], &f.count))
			return false;
		f.key = w[3];
		break;
	case LOOPSTATE_PROBE:
		if (n != 3)
			return false;
		f.fresh = strcmp(w[2], "fresh") == 0;
		break;
	case LOOPSTATE_SUSPECT:
		if (n != 3)
			return false;
		f.server_id = w[2];
		break;
	case LOOPSTATE_ISOLATED:
		if (n != 6 || !num(w[2], &f.modseq) || !num(w[3], &f.id) ||
		    !num(w[4], &f.time))
			return false;
		f.server_id = w[5];
		break;
	case LOOPSTATE_LOOPS:
		if (n != 4 || !num(w[2], &f.count) || !num(w[3], &f.time))
			return false;
		break;
	default:
		return false;
	}
	*loopstate_add(a, s, f.kind, f.folder) = f;
	return true;
}

void
loopstate_parse(struct arena *a, const uint8_t *data, size_t len,
		struct loopstate *r)
{
	const char *p = (const char *)data;

	memset(r, 0, sizeof(*r));
	while (data != NULL && len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t l = nl != NULL ? (size_t)(nl - p) : len;

		parse_line(a, p, l, r);
		if (nl == NULL)
			break;
		len -= l + 1;
		p = nl + 1;
	}
}

char *
loopstate_format(struct arena *a, const struct loopstate *s, size_t *len_r)
{
	struct buf b;
	char *r;

	buf_init(&b, 0);
	for (size_t i = 0; i < s->n; i++) {
		const struct loopstate_fact *f = &s->v[i];
		const char *name = kind_names[f->kind];
		long long folder = (long long)f->folder;

		if (f->dropped)
			continue;
		switch (f->kind) {
		case LOOPSTATE_REPEAT:
			buf_printf(&b, "%s %lld %lld %s\n", name, folder,
				   (long long)f->count, f->key);
			break;
		case LOOPSTATE_PROBE:
			buf_printf(&b, "%s %lld %s\n", name, folder,
				   f->fresh ? "fresh" : "log");
			break;
		case LOOPSTATE_SUSPECT:
			buf_printf(&b, "%s %lld %s\n", name, folder,
				   f->server_id);
			break;
		case LOOPSTATE_ISOLATED:
			buf_printf(&b, "%s %lld %lld %lld %lld %s\n", name,
				   folder, (long long)f->modseq,
				   (long long)f->id, (long long)f->time,
				   f->server_id);
			break;
		case LOOPSTATE_LOOPS:
			buf_printf(&b, "%s %lld %lld %lld\n", name, folder,
				   (long long)f->count, (long long)f->time);
			break;
		}
	}
	*len_r = b.len;
	r = arena_alloc(a, b.len + 1);
	if (b.len > 0)
		memcpy(r, b.data, b.len);
	r[b.len] = '\0';
	buf_deinit(&b);
	return r;
}

struct loopstate_fact *
loopstate_find(struct loopstate *s, enum loopstate_kind kind, int64_t folder,
	       const char *server_id)
{
	for (size_t i = 0; i < s->n; i++) {
		struct loopstate_fact *f = &s->v[i];

		if (!f->dropped && f->kind == kind && f->folder == folder &&
		    (server_id == NULL ||
		     (f->server_id != NULL &&
		      strcmp(f->server_id, server_id) == 0)))
			return f;
	}
	return NULL;
}

struct loopstate_fact *
loopstate_add(struct arena *a, struct loopstate *s, enum loopstate_kind kind,
	      int64_t folder)
{
	struct loopstate_fact *f;

	s->v = arena_grow(a, s->v, s->n, &s->cap, sizeof(*s->v));
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->folder = folder;
	return f;
}

size_t
loopstate_drop(struct loopstate *s, enum loopstate_kind kind, int64_t folder)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].dropped && s->v[i].kind == kind &&
		    s->v[i].folder == folder) {
			s->v[i].dropped = true;
			n++;
		}
	return n;
}

bool
loopstate_has(const struct loopstate *s, int64_t folder)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].dropped && s->v[i].folder == folder)
			return true;
	return false;
}
