/* Arena allocator: one per HTTP request (or any other unit of work). Every
 * allocation lives until arena_free(); non-memory resources hang on the
 * arena's cleanup list and are released in reverse order. */
#ifndef EASD_ARENA_H
#define EASD_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

typedef void arena_cleanup_fn(void *ptr);

/* A new arena whose first block holds about initial_size bytes. */
struct arena *arena_new(size_t initial_size);
/* The same with a first block of size bytes (at least 1 KiB) below the
 * usual minimum, for the arenas of requests that many wait at once (a
 * parked Ping keeps its arena: its first block is most of what it
 * costs). */
struct arena *arena_new_small(size_t size);
/* Run the cleanups, free every block and set *ap to NULL. */
void arena_free(struct arena **ap);
/* Forget everything allocated but keep the first block for reuse. */
void arena_reset(struct arena *a);

/* Uninitialised / zeroed memory aligned for any type. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
#define arena_new_struct(a, type) ((type *)arena_zalloc((a), sizeof(type)))

char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Room for element number `count` (zero-based) of an array in the arena:
 * returns p itself while *cap allows, else a copy with *cap doubled
 * (first 8). Elements are elem bytes. */
void *arena_grow(struct arena *a, void *p, size_t count, size_t *cap,
		 size_t elem);

/* Call fn(ptr) when the arena is freed or reset. */
void arena_add_cleanup(struct arena *a, arena_cleanup_fn *fn, void *ptr);

/* Bytes handed out so far (for limits and statistics). */
size_t arena_used(const struct arena *a);

#endif
