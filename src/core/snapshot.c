/* uptake core: snapshot and timestamp metadata. */
#include <string.h>

#include "fields.h"

#define MAX_META_FILES 100000

static int meta_file(struct upt_meta_file *out, struct upt_fctx *f, const struct upt_json *v)
{
	bool has_len = false;
	int rc;
	memset(out, 0, sizeof *out);
	if (v->type != UPT_JSON_OBJECT)
		return upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
	out->name = upt_arena_strndup(f->a, v->key, v->key_len);
	if (!out->name)
		return upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	if (strlen(out->name) != v->key_len)
		return upt_field_error(f, UPT_ERR_FIELD_VALUE, "name contains NUL");
	rc = upt_field_int(&out->version, f, v, "version", 1, true, NULL);
	if (rc == UPT_OK)
		rc = upt_field_int(&out->length, f, v, "length", 1, false, &has_len);
	if (rc == UPT_OK && !has_len)
		out->length = -1;
	if (rc == UPT_OK)
		rc = upt_field_hashes(&out->hashes, f, v, false);
	return rc;
}

static int meta_object(const struct upt_json **out, struct upt_fctx *f, const struct upt_doc *doc)
{
	int rc = upt_field_get(out, f, doc->signed_json, "meta", UPT_JSON_OBJECT, true);
	if (rc == UPT_OK && (*out)->n > MAX_META_FILES)
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "meta: too many entries");
	return rc;
}

static int meta_entry(struct upt_meta_file *out, struct upt_fctx *f, const struct upt_json *v)
{
	size_t mark = upt_path_push(&f->path, "meta", 4);
	int rc;
	upt_path_push(&f->path, v->key, v->key_len);
	rc = meta_file(out, f, v);
	upt_path_pop(&f->path, mark);
	return rc;
}

int upt_snapshot_parse(struct upt_snapshot *out, struct upt_arena *a, const struct upt_doc *doc,
		       struct upt_error *err)
{
	struct upt_fctx f = {a, doc ? doc->name : "snapshot", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	const struct upt_json *meta = NULL;
	int rc;
	if (!out || !a || !doc || !doc->signed_json)
		return upt_error_set(err, UPT_ERR_ARG, "snapshot: missing argument");
	memset(out, 0, sizeof *out);
	rc = upt_field_common(&out->c, &f, doc, UPT_ROLE_SNAPSHOT);
	if (rc == UPT_OK)
		rc = meta_object(&meta, &f, doc);
	if (rc == UPT_OK &&
	    !(out->meta = upt_arena_calloc(a, meta->n ? meta->n : 1, sizeof *out->meta)))
		rc = upt_field_error(&f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < meta->n; i++)
		rc = meta_entry(&out->meta[i], &f, meta->items[i]);
	if (rc == UPT_OK)
		out->n_meta = meta->n;
	else
		memset(out, 0, sizeof *out);
	return rc;
}

int upt_timestamp_parse(struct upt_timestamp *out, struct upt_arena *a, const struct upt_doc *doc,
			struct upt_error *err)
{
	struct upt_fctx f = {
	    a, doc ? doc->name : "timestamp", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	const struct upt_json *meta = NULL;
	int rc;
	if (!out || !a || !doc || !doc->signed_json)
		return upt_error_set(err, UPT_ERR_ARG, "timestamp: missing argument");
	memset(out, 0, sizeof *out);
	rc = upt_field_common(&out->c, &f, doc, UPT_ROLE_TIMESTAMP);
	if (rc == UPT_OK)
		rc = meta_object(&meta, &f, doc);
	if (rc == UPT_OK && (meta->n != 1 || !upt_json_get(meta, "snapshot.json")))
		rc = upt_field_error(&f, UPT_ERR_FIELD_VALUE,
				     "meta: must list exactly snapshot.json");
	if (rc == UPT_OK)
		rc = meta_entry(&out->snapshot, &f, meta->items[0]);
	if (rc != UPT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

const struct upt_meta_file *upt_snapshot_find(const struct upt_snapshot *s, const char *name)
{
	size_t lo = 0, hi = s ? s->n_meta : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->meta[mid].name, name);
		if (c == 0)
			return &s->meta[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
