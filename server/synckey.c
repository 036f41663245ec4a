/* Sync key generation (see synckey.h). */
#include <stdio.h>
#include <string.h>

#include "synckey.h"
#include "util.h"

const char *
synckey_next(struct arena *a, const char *old)
{
	unsigned prefix;
	unsigned long n;
	int used = 0;

	if (old != NULL && sscanf(old, "{%8x}%lu%n", &prefix, &n, &used) == 2 &&
	    (size_t)used == strlen(old) && n < 4000000000UL)
		return arena_printf(a, "{%08x}%lu", prefix, n + 1);
	return arena_printf(a, "{%08x}1", random_u32_nonzero());
}
