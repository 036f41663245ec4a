/* Capped growable byte buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

void
buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void
buf_deinit(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
buf_grow(struct buf *b, size_t n)
{
	size_t need = b->len + n + 1, cap;

	if (need < n || (b->limit != 0 && b->len + n > b->limit)) {
		b->overflow = 1;
		return -1;
	}
	if (need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

uint8_t *
buf_reserve(struct buf *b, size_t n)
{
	if (buf_grow(b, n) < 0)
		return NULL;
	return b->data + b->len;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_putc(struct buf *b, uint8_t c)
{
	if (b->len + 1 < b->cap && (b->limit == 0 || b->len < b->limit)) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_append(b, &c, 1);
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

uint8_t *
buf_steal(struct buf *b, size_t *len_r)
{
	uint8_t *p = b->data;

	if (p == NULL)
		p = xcalloc(1, 1);
	*len_r = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int
buf_read_path(struct buf *b, const char *path, const char **error_r)
{
	static _Thread_local char err[512];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;
	int ret = 0;

	if (f == NULL) {
		snprintf(err, sizeof(err), "cannot read %s: %s", path,
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(b, chunk, n) < 0) {
			snprintf(err, sizeof(err), "%s: larger than %zu bytes",
				 path, b->limit);
			ret = -1;
			break;
		}
	}
	if (ret == 0 && ferror(f)) {
		snprintf(err, sizeof(err), "cannot read %s: %s", path,
			 strerror(errno));
		ret = -1;
	}
	if (f != stdin)
		fclose(f);
	if (ret < 0)
		*error_r = err;
	return ret;
}

int
arena_read_path(struct arena *a, const char *path, size_t limit, char **data_r,
		size_t *len_r, const char **error_r)
{
	struct buf b;
	int ret;

	buf_init(&b, limit);
	ret = buf_read_path(&b, path, error_r);
	if (ret == 0) {
		*data_r = arena_memdup(a, b.len > 0 ? b.data : (uint8_t *)"",
				       b.len);
		*len_r = b.len;
	}
	buf_deinit(&b);
	return ret;
}
