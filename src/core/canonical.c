/* uptake core: canonical JSON, byte-identical to what TUF signs
 * (securesystemslib encode_canonical): keys sorted by code point, no white
 * space, integers in decimal, strings as raw UTF-8 with only '"' and '\\'
 * escaped. Numbers with a fraction or exponent have no canonical form. */
#include <string.h>
#include <uptake/json.h>

#define CANON_MAX_DEPTH 64

struct cw {
	uint8_t *out;
	size_t cap;
	size_t len;
	struct upt_error *err;
	bool json; /* valid JSON text: control characters escaped, numbers kept */
};

static void put(struct cw *w, const void *s, size_t n)
{
	if (w->len < w->cap && n)
		memcpy(w->out + w->len, s, n <= w->cap - w->len ? n : w->cap - w->len);
	w->len = (w->len > SIZE_MAX - n) ? SIZE_MAX : w->len + n;
}

static void put_int(struct cw *w, int64_t v)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[sizeof tmp - 1 - n++] = '-';
	put(w, tmp + sizeof tmp - n, n);
}

/* A control character as JSON escapes it (JSON text mode only). */
static void put_ctl(struct cw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
	const char *short_esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
	if (short_esc)
		put(w, short_esc, 2);
	else
		put(w, esc, sizeof esc);
}

static void put_string(struct cw *w, const char *s, size_t n)
{
	size_t run = 0;
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			put(w, s + run, i - run);
			put(w, "\\", 1);
			run = i;
		} else if (w->json && (unsigned char)s[i] < 0x20) {
			put(w, s + run, i - run);
			put_ctl(w, (unsigned char)s[i]);
			run = i + 1;
		}
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

static int encode(struct cw *w, const struct upt_json *v, size_t depth)
{
	int rc;
	if (depth > CANON_MAX_DEPTH)
		return upt_error_set(w->err, UPT_ERR_JSON_DEPTH,
				     "canonical JSON: nesting too deep");
	switch (v->type) {
	case UPT_JSON_NULL:
		put(w, "null", 4);
		return UPT_OK;
	case UPT_JSON_TRUE:
		put(w, "true", 4);
		return UPT_OK;
	case UPT_JSON_FALSE:
		put(w, "false", 5);
		return UPT_OK;
	case UPT_JSON_INT:
		put_int(w, v->i);
		return UPT_OK;
	case UPT_JSON_STRING:
		put_string(w, v->str, v->len);
		return UPT_OK;
	case UPT_JSON_ARRAY:
	case UPT_JSON_OBJECT:
		put(w, v->type == UPT_JSON_ARRAY ? "[" : "{", 1);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				put(w, ",", 1);
			if (v->type == UPT_JSON_OBJECT) {
				put_string(w, v->items[i]->key, v->items[i]->key_len);
				put(w, ":", 1);
			}
			if ((rc = encode(w, v->items[i], depth + 1)) != UPT_OK)
				return rc;
		}
		put(w, v->type == UPT_JSON_ARRAY ? "]" : "}", 1);
		return UPT_OK;
	case UPT_JSON_NUMBER:
		if (w->json) {
			put(w, v->str, v->len);
			return UPT_OK;
		}
		break;
	}
	rc = upt_error_set(w->err, UPT_ERR_CANONICAL,
			   "canonical JSON: the number at byte %zu is not an integer", v->offset);
	if (w->err)
		w->err->offset = v->offset;
	return rc;
}

static int write_tree(uint8_t *out, size_t cap, size_t *out_len, const struct upt_json *v,
		      bool json, struct upt_error *err)
{
	struct cw w = {out, out ? cap : 0, 0, err, json};
	int rc;
	if (!v || !out_len)
		return upt_error_set(err, UPT_ERR_ARG, "canonical JSON: missing argument");
	rc = encode(&w, v, 0);
	if (rc != UPT_OK)
		return rc;
	*out_len = w.len;
	if (w.len > w.cap)
		return upt_error_set(err, UPT_ERR_NOMEM, "JSON output: needs %zu bytes", w.len);
	return UPT_OK;
}

int upt_json_canonical(uint8_t *out, size_t cap, size_t *out_len, const struct upt_json *v,
		       struct upt_error *err)
{
	return write_tree(out, cap, out_len, v, false, err);
}

int upt_json_write(uint8_t *out, size_t cap, size_t *out_len, const struct upt_json *v,
		   struct upt_error *err)
{
	return write_tree(out, cap, out_len, v, true, err);
}

int upt_json_canonical_arena(const uint8_t **out, size_t *out_len, struct upt_arena *a,
			     const struct upt_json *v, struct upt_error *err)
{
	size_t need = 0;
	uint8_t *buf;
	int rc = upt_json_canonical(NULL, 0, &need, v, err);
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM)
		return rc;
	if (!(buf = upt_arena_alloc(a, need ? need : 1)))
		return upt_error_set(err, UPT_ERR_NOMEM,
				     "canonical JSON: out of memory (%zu bytes)", need);
	rc = upt_json_canonical(buf, need, out_len, v, err);
	if (rc == UPT_OK)
		*out = buf;
	return rc;
}
