/* Arena allocator: a chain of blocks; big requests get a block of their
 * own so a large OPAQUE payload does not waste the tail of a small one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"
#include "xalloc.h"

#define ARENA_ALIGN 16
#define ARENA_MIN_BLOCK 4096

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	arena_cleanup_fn *fn;
	void *ptr;
};

struct arena {
	struct arena_block *head;  /* current block; older ones follow */
	struct arena_block *first; /* kept by arena_reset */
	struct arena_cleanup *cleanups;
	size_t total;
};

static struct arena_block *
block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

/* The arena and its first block are one allocation. */
#define ARENA_HEAD                                                             \
	((sizeof(struct arena) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct arena *
arena_new_small(size_t size)
{
	struct arena *a;

	if (size < 1024)
		size = 1024;
	a = xmalloc(ARENA_HEAD + sizeof(struct arena_block) + size);
	memset(a, 0, sizeof(*a));
	a->first = a->head = (struct arena_block *)((char *)a + ARENA_HEAD);
	a->first->next = NULL;
	a->first->size = size;
	a->first->used = 0;
	return a;
}

struct arena *
arena_new(size_t initial_size)
{
	return arena_new_small(initial_size < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK
							      : initial_size);
}

static void
run_cleanups(struct arena *a)
{
	while (a->cleanups != NULL) {
		struct arena_cleanup *c = a->cleanups;

		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

static void
free_blocks_except_first(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		if (b != a->first)
			free(b);
	}
	a->first->next = NULL;
	a->first->used = 0;
	a->head = a->first;
	a->total = 0;
}

void
arena_reset(struct arena *a)
{
	run_cleanups(a);
	free_blocks_except_first(a);
}

void
arena_free(struct arena **ap)
{
	struct arena *a = *ap;

	if (a == NULL)
		return;
	arena_reset(a);
	free(a);
	*ap = NULL;
}

/* n bytes at a multiple of align (a power of two up to ARENA_ALIGN). */
static void *
take(struct arena *a, size_t n, size_t align)
{
	struct arena_block *b = a->head;
	size_t off = (b->used + align - 1) & ~(align - 1);
	void *p;

	if (n > SIZE_MAX - sizeof(struct arena_block) - ARENA_ALIGN)
		eas_panic("arena allocation of %zu bytes overflows", n);
	if (off > b->size || b->size - off < n) {
		/* A small first block is followed by one of its size
		 * before they double: a request that parks (and keeps its
		 * arena) with a little more than the first block holds
		 * should not keep three times as much. */
		size_t size = b == a->first && b->size < ARENA_MIN_BLOCK
				      ? b->size
				      : b->size * 2;

		if (n > size / 4) {
			/* A large piece gets its own block behind the current
			 * one, so the current block keeps serving small ones.
			 */
			struct arena_block *big = block_new(n);

			big->used = n;
			big->next = b->next;
			b->next = big;
			a->total += n;
			return big->data;
		}
		if (size > 1024 * 1024)
			size = 1024 * 1024;
		b = block_new(size);
		b->next = a->head;
		a->head = b;
		off = 0;
	}
	p = b->data + off;
	b->used = off + n;
	a->total += n;
	return p;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	return take(a, n, ARENA_ALIGN);
}

void *
arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	/* strings need no alignment: many short ones per request */
	char *p = take(a, len + 1, 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

void *
arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n + 1);

	memcpy(q, p, n);
	((char *)q)[n] = '\0';
	return q;
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	int n;
	char *p;

	/* Most strings are short: one formatting pass into the stack and a
	 * copy, a second pass only for the long ones. */
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	eas_assert(n >= 0);
	p = take(a, (size_t)n + 1, 1);
	if ((size_t)n < sizeof(small))
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void *
arena_grow(struct arena *a, void *p, size_t count, size_t *cap, size_t elem)
{
	void *n;

	if (count < *cap)
		return p;
	*cap = *cap == 0 ? 8 : *cap * 2;
	if (*cap > SIZE_MAX / elem)
		eas_panic("arena array of %zu elements overflows", *cap);
	n = arena_alloc(a, *cap * elem);
	if (count > 0)
		memcpy(n, p, count * elem);
	return n;
}

void
arena_add_cleanup(struct arena *a, arena_cleanup_fn *fn, void *ptr)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t
arena_used(const struct arena *a)
{
	return a->total;
}
