/* Fuzz target: the server's calendar dates (YYYY-MM-DD) and support-end
 * arithmetic. A date that parses formats back to the same text; adding N
 * years lands N years later on the same day, or on 1 March for 29
 * February, never earlier than N * 365 days. Input: DATE, then one byte of
 * years. */
#include <stdlib.h>
#include <string.h>

#include "server/lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[32], back[11];
	int64_t days, later, years;
	size_t n = size > 1 ? size - 1 : size;
	if (n >= sizeof s)
		return 0;
	memcpy(s, data, n);
	s[n] = 0;
	years = size > 1 ? data[size - 1] % 60 : 5;
	if (srv_date_parse(s, &days) != UPT_OK)
		return 0;
	srv_date_format(days, back);
	if (strcmp(back, s) != 0)
		abort();
	later = srv_date_add_years(days, years);
	srv_date_format(later, back);
	if (later < days + years * 365 || later > days + years * 366 + 1)
		abort();
	if (strncmp(back + 4, s + 4, 6) != 0 &&
	    !(strcmp(s + 4, "-02-29") == 0 && strcmp(back + 4, "-03-01") == 0))
		abort();
	return 0;
}
