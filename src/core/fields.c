/* uptake core: typed field access for the metadata parsers. */
#include <string.h>
#include <uptake/encode.h>

#include "fields.h"

void upt_path_init(struct upt_path *p)
{
	p->len = 0;
	p->buf[0] = 0;
}

static void path_put(struct upt_path *p, const char *s, size_t n)
{
	const size_t room = sizeof p->buf - 4; /* keep space for "..." */
	for (size_t i = 0; i < n; i++) {
		if (p->len >= room) {
			memcpy(p->buf + p->len, "...", 4);
			return;
		}
		p->buf[p->len++] = ((unsigned char)s[i] < 0x20) ? '?' : s[i];
	}
	p->buf[p->len] = 0;
}

size_t upt_path_push(struct upt_path *p, const char *name, size_t name_len)
{
	size_t old = p->len;
	if (p->len)
		path_put(p, ".", 1);
	path_put(p, name, name_len);
	return old;
}

size_t upt_path_push_index(struct upt_path *p, size_t i)
{
	char tmp[24];
	size_t n = 0, old = p->len;
	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	path_put(p, "[", 1);
	path_put(p, tmp + sizeof tmp - n, n);
	path_put(p, "]", 1);
	return old;
}

int upt_field_error(struct upt_fctx *f, int code, const char *what)
{
	if (f->path.len)
		return upt_error_set(f->err, code, "%s: %s: %s", f->doc, f->path.buf, what);
	return upt_error_set(f->err, code, "%s: %s", f->doc, what);
}

static const char *type_name(enum upt_json_type t)
{
	switch (t) {
	case UPT_JSON_INT:
		return "must be an integer";
	case UPT_JSON_STRING:
		return "must be a string";
	case UPT_JSON_ARRAY:
		return "must be an array";
	case UPT_JSON_OBJECT:
		return "must be an object";
	case UPT_JSON_TRUE:
	case UPT_JSON_FALSE:
		return "must be a boolean";
	default:
		return "has the wrong type";
	}
}

static bool type_ok(const struct upt_json *v, enum upt_json_type t)
{
	if (t == UPT_JSON_TRUE || t == UPT_JSON_FALSE)
		return v->type == UPT_JSON_TRUE || v->type == UPT_JSON_FALSE;
	return v->type == t;
}

int upt_field_get(const struct upt_json **out, struct upt_fctx *f, const struct upt_json *obj,
		  const char *key, enum upt_json_type type, bool required)
{
	const struct upt_json *v = upt_json_get(obj, key);
	int rc = UPT_OK;
	size_t mark = upt_path_push(&f->path, key, strlen(key));
	*out = NULL;
	if (!v) {
		if (required)
			rc = upt_field_error(f, UPT_ERR_FIELD_MISSING, "missing");
	} else if (!type_ok(v, type)) {
		rc = upt_field_error(f, UPT_ERR_FIELD_TYPE, type_name(type));
	} else {
		*out = v;
	}
	upt_path_pop(&f->path, mark);
	return rc;
}

int upt_field_int(int64_t *out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		  int64_t min, bool required, bool *present)
{
	const struct upt_json *v;
	int rc = upt_field_get(&v, f, obj, key, UPT_JSON_INT, required);
	if (present)
		*present = v != NULL;
	if (rc != UPT_OK || !v)
		return rc;
	if (v->i < min) {
		size_t mark = upt_path_push(&f->path, key, strlen(key));
		rc = upt_field_error(f, UPT_ERR_FIELD_VALUE,
				     min == 0 ? "must not be negative" : "must be at least 1");
		upt_path_pop(&f->path, mark);
		return rc;
	}
	*out = v->i;
	return UPT_OK;
}

int upt_field_cstr(const char **out, struct upt_fctx *f, const struct upt_json *v)
{
	if (v->type != UPT_JSON_STRING)
		return upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be a string");
	if (memchr(v->str, 0, v->len))
		return upt_field_error(f, UPT_ERR_FIELD_VALUE, "must not contain NUL");
	*out = v->str; /* the parser NUL-terminates strings */
	return UPT_OK;
}

int upt_field_str(const char **out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		  bool required)
{
	const struct upt_json *v;
	int rc = upt_field_get(&v, f, obj, key, UPT_JSON_STRING, required);
	size_t mark;
	*out = NULL;
	if (rc != UPT_OK || !v)
		return rc;
	mark = upt_path_push(&f->path, key, strlen(key));
	rc = upt_field_cstr(out, f, v);
	upt_path_pop(&f->path, mark);
	return rc;
}

int upt_field_bool(bool *out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		   bool required)
{
	const struct upt_json *v;
	int rc = upt_field_get(&v, f, obj, key, UPT_JSON_TRUE, required);
	if (rc == UPT_OK && v)
		*out = v->type == UPT_JSON_TRUE;
	return rc;
}

static int str_array_items(const char **arr, struct upt_fctx *f, const struct upt_json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = upt_path_push_index(&f->path, i);
		int rc = upt_field_cstr(&arr[i], f, v->items[i]);
		for (size_t j = 0; rc == UPT_OK && j < i; j++)
			if (strcmp(arr[i], arr[j]) == 0)
				rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "listed twice");
		upt_path_pop(&f->path, mark);
		if (rc != UPT_OK)
			return rc;
	}
	return UPT_OK;
}

int upt_field_str_array(const char ***out, size_t *n, struct upt_fctx *f,
			const struct upt_json *obj, const char *key, size_t max, bool required)
{
	const struct upt_json *v;
	const char **arr;
	size_t mark;
	int rc = upt_field_get(&v, f, obj, key, UPT_JSON_ARRAY, required);
	*out = NULL;
	*n = 0;
	if (rc != UPT_OK || !v)
		return rc;
	mark = upt_path_push(&f->path, key, strlen(key));
	if (v->n > max) {
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "too many entries");
	} else if (!(arr = upt_arena_calloc(f->a, v->n ? v->n : 1, sizeof *arr))) {
		rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	} else if ((rc = str_array_items(arr, f, v)) == UPT_OK) {
		*out = arr;
		*n = v->n;
	}
	upt_path_pop(&f->path, mark);
	return rc;
}
