/* A growable byte buffer with a hard cap: every buffer that grows from
 * input has one, and hitting it is an ordinary error, not a crash. */
#ifndef EASD_BUF_H
#define EASD_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct buf {
	uint8_t *data; /* heap, always NUL terminated past len */
	size_t len;
	size_t cap;
	size_t limit; /* 0 = no limit */
	int overflow; /* set once an append was refused */
};

void buf_init(struct buf *b, size_t limit);
void buf_deinit(struct buf *b);
void buf_reset(struct buf *b);

/* Append; returns 0, or -1 (and sets overflow) when limit would be passed. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, uint8_t c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Make room for n more bytes and return where they go (len unchanged). */
uint8_t *buf_reserve(struct buf *b, size_t n);
/* Append the whole file at path ("-" is standard input). Returns 0, or -1
 * with *error_r (a static text of this thread) when it cannot be opened or
 * read, or would pass the limit. */
int buf_read_path(struct buf *b, const char *path, const char **error_r);
/* The whole file at path ("-" is standard input), at most limit bytes
 * (0: no limit), copied into the arena and NUL terminated. Returns 0, or
 * -1 with *error_r as buf_read_path. */
int arena_read_path(struct arena *a, const char *path, size_t limit,
		    char **data_r, size_t *len_r, const char **error_r);
/* Take ownership of the data; the buffer is left empty. */
uint8_t *buf_steal(struct buf *b, size_t *len_r);

#endif
