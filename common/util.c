/* Panics, clocks, number parsing, base64 and EAS date formats. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "util.h"

void
eas_panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	/* the lines before the panic first, in order */
	log_flush();
	fprintf(stderr, "PANIC %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

uint64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
time_now(void)
{
	return (int64_t)time(NULL);
}

int
str_to_int64(const char *s, int64_t *r)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*r = v;
	return 0;
}

int
str_to_uint32(const char *s, uint32_t *r)
{
	int64_t v;

	if (s == NULL || *s == '-' || str_to_int64(s, &v) < 0 || v < 0 ||
	    v > UINT32_MAX)
		return -1;
	*r = (uint32_t)v;
	return 0;
}

bool
str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool
str_has_iprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

void
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			eas_panic("getrandom failed: %s", strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
}

uint32_t
random_u32_nonzero(void)
{
	uint32_t v;

	do
		random_bytes(&v, sizeof(v));
	while (v == 0);
	return v;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void
base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = b64_alphabet[p[i] >> 2];
		*out++ = b64_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*out++ = b64_alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*out++ = b64_alphabet[p[i + 2] & 63];
	}
	if (i < n) {
		*out++ = b64_alphabet[p[i] >> 2];
		if (i + 1 < n) {
			*out++ = b64_alphabet[((p[i] & 3) << 4) |
					      (p[i + 1] >> 4)];
			*out++ = b64_alphabet[(p[i + 1] & 15) << 2];
		} else {
			*out++ = b64_alphabet[(p[i] & 3) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = '\0';
}

size_t
base64_decoded_max(size_t n)
{
	return (n + 3) / 4 * 3 + 1;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long
base64_decode(const char *in, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	size_t i, bits = 0, len = 0;

	while (n > 0 && in[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	/* A single leftover character cannot encode a byte. */
	if (n % 4 == 1)
		return -1;
	return (long)len;
}

void
time_format_iso(int64_t t, char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void
time_format_compact(int64_t t, char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}

static int
digits(const char **sp, int n, int *v)
{
	const char *s = *sp;
	int r = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		r = r * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*v = r;
	return 0;
}

int
time_parse(const char *s, int64_t *t_r)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	bool sep;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (digits(&s, 4, &y) < 0)
		return -1;
	sep = *s == '-';
	if (sep)
		s++;
	if (digits(&s, 2, &mo) < 0)
		return -1;
	if (sep && *s++ != '-')
		return -1;
	if (digits(&s, 2, &d) < 0)
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) < 0)
			return -1;
		if (*s == ':')
			s++;
		if (digits(&s, 2, &mi) < 0)
			return -1;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)*s) && digits(&s, 2, &sec) < 0)
			return -1;
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	if (*s != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 ||
	    sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*t_r = (int64_t)t;
	return 0;
}

int
str_url_decode(char *out, const char *s, size_t n)
{
	char *p = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = str_hex_val((unsigned char)s[i + 1]);
			l = str_hex_val((unsigned char)s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*p++ = (char)(h * 16 + l);
			i += 2;
		} else if (s[i] == '+') {
			*p++ = ' ';
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return 0;
}

size_t
str_put(char *b, size_t o, size_t cap, const char *s)
{
	size_t n = EAS_MIN(strlen(s), cap - 1 - o);

	memcpy(b + o, s, n);
	b[o + n] = '\0';
	return o + n;
}

size_t
str_put_u(char *b, size_t o, size_t cap, unsigned long long v)
{
	char d[24];
	size_t i = sizeof(d) - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return str_put(b, o, cap, d + i);
}
