/* Assertions, panics and small helpers shared by every module. */
#ifndef EASD_UTIL_H
#define EASD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define EAS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EAS_MAX(a, b) ((a) > (b) ? (a) : (b))

void eas_panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* Bugs abort with file:line; never for bad input. */
#define eas_panic(...) eas_panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define eas_assert(expr)                                                       \
	do {                                                                   \
		if (!(expr))                                                   \
			eas_panic("assertion failed: %s", #expr);              \
	} while (0)

/* Monotonic and wall clocks. */
uint64_t time_mono_ms(void);
int64_t time_now(void);

/* Parse a whole decimal string into *r. Returns 0 on success, -1 when the
 * string is empty, not a number, has trailing bytes or is out of range. */
int str_to_int64(const char *s, int64_t *r);
/* The value of one hex digit, or -1. Inline: PostgreSQL's bytea comes as
 * hex, a few hundred KB a Sync window, and a call a digit was 6 % of
 * easd's time in an initial sync. */
static inline int
str_hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
/* Percent-decode s[0..n) ('+' is a space, as in a query string or a
 * form) into out, which has room for n + 1 bytes; NUL-terminated. -1 when
 * an escape is malformed or decodes to NUL (no value carries one). */
int str_url_decode(char *out, const char *s, size_t n);
/* Put a line together in b (cap > 0 bytes, NUL included) without printf:
 * append s, or v in decimal, at offset o (cut at the end; b stays NUL
 * terminated) and return the new offset. For lines made on every
 * request, where printf would be most of their cost. */
size_t str_put(char *b, size_t o, size_t cap, const char *s);
size_t str_put_u(char *b, size_t o, size_t cap, unsigned long long v);
int str_to_uint32(const char *s, uint32_t *r);

/* ASCII case-insensitive comparison helpers. */
bool str_ieq(const char *a, const char *b);
bool str_has_iprefix(const char *s, const char *prefix);

/* Fill buf with n cryptographically random bytes (getrandom). */
void random_bytes(void *buf, size_t n);
/* A random non-zero 32-bit number. */
uint32_t random_u32_nonzero(void);

/* Base64 (RFC 4648, standard alphabet, with padding). encode writes a
 * string of base64_encoded_len(n) characters and its NUL: out must hold
 * base64_encoded_len(n) + 1 bytes. decode accepts padded or
 * unpadded input, ignores nothing else, and returns the decoded length or -1
 * on an invalid character or length; out must hold base64_decoded_max(n). */
size_t base64_encoded_len(size_t n);
void base64_encode(const void *in, size_t n, char *out);
size_t base64_decoded_max(size_t n);
long base64_decode(const char *in, size_t n, uint8_t *out);

/* ISO 8601 times as EAS writes them. Format into out (at least 32 bytes). */
void time_format_iso(int64_t t, char *out);	/* 2024-03-05T14:30:00.000Z */
void time_format_compact(int64_t t, char *out); /* 20240305T143000Z */
/* Parse either form (and a few lenient variants: no millis, no Z, date
 * only). Returns 0 and sets *t_r (UTC seconds), or -1. */
int time_parse(const char *s, int64_t *t_r);

#endif
