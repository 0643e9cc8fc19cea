/* Fuzz target: the server's request routing (route table matching with
 * named segments), Range headers and image names. Input: METHOD\nPATH\nRANGE
 * (missing lines are empty). Invariants: a match names a row of the table
 * whose method fits, its parameters are pieces of the path without a
 * slash (but for a trailing {x+}); a refused method lists the allowed ones;
 * a parsed range lies inside the image; a valid image name has no "." or
 * ".." segment, no "//", no control character. */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void split(const uint8_t **p, size_t *n, char *out, size_t cap)
{
	size_t i = 0;
	while (*n && **p != '\n') {
		if (i + 1 < cap)
			out[i++] = (char)**p;
		(*p)++;
		(*n)--;
	}
	if (*n) {
		(*p)++;
		(*n)--;
	}
	out[i] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[16], path[1024], range[128], buf[1200], allow[64];
	const struct srv_route *rt = NULL;
	const char *params[SRV_MAX_PARAMS] = {NULL, NULL};
	uint64_t from, to, len = 1 + (size % 100000);
	int rc;
	split(&data, &size, method, sizeof method);
	split(&data, &size, path, sizeof path);
	split(&data, &size, range, sizeof range);
	rc = srv_route_match(method, path, buf, sizeof buf, &rt, params, allow, sizeof allow);
	if (rc == UPT_OK) {
		if (!rt || rt < srv_routes || rt >= srv_routes + srv_n_routes)
			abort();
		if (strcmp(rt->method, method) != 0 &&
		    !(strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0))
			abort();
		for (int i = 0; i < SRV_MAX_PARAMS; i++) {
			if (!params[i])
				continue;
			if (!params[i][0] || !strstr(path, params[i]))
				abort();
			if (strchr(params[i], '/') && !strstr(rt->pattern, "+}"))
				abort();
		}
	} else if (rc == UPT_ERR_STATE) {
		if (!allow[0])
			abort();
	} else if (rc != UPT_ERR_NOT_FOUND) {
		abort();
	}
	if (srv_parse_range(range, len, &from, &to) == 0 && (from > to || to >= len))
		abort();
	if (srv_valid_image_name(path)) {
		if (strstr(path, "//") || path[0] == '/' || !strcmp(path, "..") ||
		    !strncmp(path, "../", 3) || strstr(path, "/../") || strstr(path, "/./"))
			abort();
		for (const char *p = path; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
	}
	return 0;
}
