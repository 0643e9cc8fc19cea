/* uptake-server: route matching and the response helpers handlers use. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- matching ----------------------------------------------------------- */

/* Does `path` match `pattern`? Named segments are recorded as (start,
 * length) in path. `{x+}` takes one or more remaining segments. */
static bool match(const char *pattern, const char *path, size_t at[SRV_MAX_PARAMS],
		  size_t len[SRV_MAX_PARAMS])
{
	const char *p = pattern, *s = path;
	unsigned n = 0;
	while (*p == '/' && *s == '/') {
		const char *pe = strchr(++p, '/'), *se = strchr(++s, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		size_t sl = se ? (size_t)(se - s) : strlen(s);
		if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (n >= SRV_MAX_PARAMS || sl == 0)
				return false;
			at[n] = (size_t)(s - path);
			if (p[pl - 2] == '+') { /* the rest of the path, whatever it holds */
				len[n] = strlen(s);
				return !pe;
			}
			len[n++] = sl;
		} else if (pl != sl || strncmp(p, s, pl) != 0) {
			return false;
		}
		p += pl;
		s += sl;
	}
	return *p == 0 && *s == 0;
}

static bool method_fits(const char *row, const char *method)
{
	return strcmp(row, method) == 0 || (strcmp(row, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void allow_add(char *allow, size_t cap, const char *m)
{
	size_t n = strlen(allow);
	/* each method once, in table order */
	for (const char *a = allow; (a = strstr(a, m)) != NULL; a++)
		if ((a == allow || a[-1] == ' ') && (a[strlen(m)] == 0 || a[strlen(m)] == ','))
			return;
	snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", m);
}

int srv_route_match(const char *method, const char *path, char *buf, size_t cap,
		    const struct srv_route **route, const char *params[SRV_MAX_PARAMS], char *allow,
		    size_t allow_cap)
{
	size_t len = strlen(path);
	bool path_known = false;
	if (allow_cap)
		allow[0] = 0;
	if (len + SRV_MAX_PARAMS >= cap)
		return UPT_ERR_NOT_FOUND;
	for (size_t i = 0; i < srv_n_routes; i++) {
		const struct srv_route *rt = &srv_routes[i];
		size_t at[SRV_MAX_PARAMS] = {0}, pl[SRV_MAX_PARAMS] = {0}, o = 0;
		if (!match(rt->pattern, path, at, pl))
			continue;
		if (method_fits(rt->method, method)) {
			/* the named segments, each NUL-terminated, in buf */
			for (unsigned k = 0; k < SRV_MAX_PARAMS; k++) {
				params[k] = NULL;
				if (!pl[k])
					continue;
				memcpy(buf + o, path + at[k], pl[k]);
				buf[o + pl[k]] = 0;
				params[k] = buf + o;
				o += pl[k] + 1;
			}
			*route = rt;
			return UPT_OK;
		}
		path_known = true;
		allow_add(allow, allow_cap, rt->method);
		if (strcmp(rt->method, "GET") == 0)
			allow_add(allow, allow_cap, "HEAD");
	}
	return path_known ? UPT_ERR_STATE : UPT_ERR_NOT_FOUND;
}

uint64_t srv_route_limit(const struct srv_route *rt, const struct srv_config *cfg)
{
	if (rt->limit == SRV_LIMIT_METADATA)
		return cfg->max_metadata_bytes;
	if (rt->limit == SRV_LIMIT_IMAGE)
		return cfg->max_image_bytes;
	return rt->limit;
}

/* ---- responses ---------------------------------------------------------- */

void srv_resp_init(struct srv_resp *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->log_level = (enum srv_log_level) - 1;
}

void srv_resp_dispose(struct srv_resp *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->stream.next && r->stream.done)
		r->stream.done(r->stream.ctx);
	memset(&r->stream, 0, sizeof r->stream);
}

static void reset_body(struct srv_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->stream.next && r->stream.done)
		r->stream.done(r->stream.ctx);
	memset(&r->stream, 0, sizeof r->stream);
}

void srv_resp_json(struct srv_resp *r, char *json)
{
	reset_body(r);
	r->status = 200;
	r->type = "application/json";
	r->body = (uint8_t *)json;
	r->len = json ? strlen(json) : 0;
}

void srv_resp_result(struct srv_resp *r, int rc, char *json, const struct upt_error *err)
{
	if (rc == UPT_OK)
		srv_resp_json(r, json);
	else
		srv_resp_upt_error(r, err);
}

void srv_resp_bytes(struct srv_resp *r, unsigned status, const char *type, const void *data,
		    size_t len)
{
	reset_body(r);
	r->status = status;
	r->type = type;
	if (len && (r->body = malloc(len)) != NULL) {
		memcpy(r->body, data, len);
		r->len = len;
	} else if (len) {
		srv_resp_error(r, 500, UPT_ERR_NOMEM, "out of memory");
	}
}

static size_t json_escape(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = 0;
	return o;
}

void srv_resp_error(struct srv_resp *r, unsigned status, int code, const char *msg)
{
	char esc[6 * UPT_ERROR_MSG_MAX + 8];
	char *body;
	size_t cap;
	reset_body(r);
	r->status = status;
	r->type = "application/json";
	r->code = code;
	snprintf(r->msg, sizeof r->msg, "%s", msg);
	json_escape(esc, sizeof esc, msg);
	cap = strlen(esc) + 128;
	if ((body = malloc(cap)) != NULL) {
		snprintf(body, cap, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
			 upt_err_name(code), esc);
		r->body = (uint8_t *)body;
		r->len = strlen(body);
	}
}

unsigned srv_status_of(int code)
{
	switch (code) {
	case UPT_ERR_NOT_FOUND:
		return 404;
	case UPT_ERR_TOO_LARGE:
		return 413;
	case UPT_ERR_ROLLBACK:
	case UPT_ERR_VERSION:
	case UPT_ERR_STATE:
		return 409;
	case UPT_ERR_IO:
	case UPT_ERR_NOMEM:
	case UPT_ERR_CRYPTO:
		return 500;
	default:
		return 400;
	}
}

void srv_resp_upt_error(struct srv_resp *r, const struct upt_error *err)
{
	srv_resp_error(r, srv_status_of(err->code), err->code, err->msg);
}

void srv_resp_header(struct srv_resp *r, const char *name, const char *value)
{
	if (r->n_headers >= SRV_RESP_HEADERS)
		return;
	r->header[r->n_headers].name = name;
	snprintf(r->header[r->n_headers].value, sizeof r->header[0].value, "%s", value);
	r->n_headers++;
}

/* ---- shared checks ------------------------------------------------------ */

int srv_parse_range(const char *v, uint64_t size, uint64_t *from, uint64_t *to)
{
	uint64_t a = 0, b = 0;
	const char *p;
	if (strncmp(v, "bytes=", 6) != 0 || v[6] < '0' || v[6] > '9')
		return -1;
	for (p = v + 6; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(a, 10, &a) || __builtin_add_overflow(a, *p - '0', &a))
			return -1;
	if (*p != '-' || a >= size)
		return -1;
	p++;
	if (*p == 0) {
		b = size - 1;
	} else {
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++)
			if (__builtin_mul_overflow(b, 10, &b) ||
			    __builtin_add_overflow(b, *p - '0', &b))
				return -1;
		if (*p != 0 || b < a)
			return -1;
		if (b >= size)
			b = size - 1;
	}
	*from = a;
	*to = b;
	return 0;
}

bool srv_valid_image_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len >= 500 || n[0] == '/' || strstr(n, "//"))
		return false;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '"')
			return false;
	/* no "." or ".." segments */
	for (const char *s = n; s;) {
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s = e ? e + 1 : NULL;
	}
	return true;
}
