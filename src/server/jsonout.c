/* uptake-server: a growing JSON text for answers. */
#include "jsonout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct srv_json *o, size_t more)
{
	size_t need, cap;
	char *s;
	if (__builtin_add_overflow(o->len, more + 1, &need) || need > SRV_JSON_MAX)
		return o->rc = UPT_ERR_TOO_LARGE;
	if (need <= o->cap)
		return UPT_OK;
	cap = o->cap ? o->cap : 1024;
	while (cap < need)
		cap *= 2;
	if (!(s = realloc(o->s, cap)))
		return o->rc = UPT_ERR_NOMEM;
	o->s = s;
	o->cap = cap;
	return UPT_OK;
}

void srv_json_raw(struct srv_json *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (o->rc != UPT_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(o, (size_t)n) != UPT_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void srv_json_str(struct srv_json *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	if (o->rc != UPT_OK || grow(o, 6 * n + 2) != UPT_OK)
		return;
	o->s[o->len++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			o->s[o->len++] = '\\';
			o->s[o->len++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(o->s + o->len, "\\u00", 4);
			o->s[o->len + 4] = hex[*p >> 4];
			o->s[o->len + 5] = hex[*p & 15];
			o->len += 6;
		} else {
			o->s[o->len++] = (char)*p;
		}
	}
	o->s[o->len++] = '"';
	o->s[o->len] = 0;
}

int srv_json_finish(struct srv_json *o, char **out, struct upt_error *err)
{
	if (o->rc == UPT_OK && !o->s)
		grow(o, 0);
	if (o->rc != UPT_OK) {
		int rc = o->rc;
		srv_json_dispose(o);
		return upt_error_set(err, rc,
				     rc == UPT_ERR_NOMEM ? "out of memory" : "answer too large");
	}
	*out = o->s;
	o->s = NULL;
	return UPT_OK;
}

void srv_json_dispose(struct srv_json *o)
{
	free(o->s);
	o->s = NULL;
	o->len = o->cap = 0;
}
