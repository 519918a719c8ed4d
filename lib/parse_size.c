/* Sizes with binary suffixes: see parse_size.h. */
#include "parse_size.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	case '\0': return 0;
	default: return -1;
	}
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9') /* no sign, no blanks: strtoull would take them */
		return -EINVAL;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	errno = 0;
	unsigned long long v = strtoull(s, &end, hex ? 16 : 10); /* never octal */
	if (end == s + (hex ? 2 : 0))
		return -EINVAL;
	int shift = suffix_shift(*end);
	if (errno || shift < 0)
		return -EINVAL;
	if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
