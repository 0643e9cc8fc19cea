/* uptake core: root metadata. */
#include <string.h>

#include "fields.h"

static const char *const top_roles[4] = {"root", "targets", "snapshot", "timestamp"};

static int root_roles(struct upt_root *out, struct upt_fctx *f, const struct upt_json *s)
{
	const struct upt_json *roles, *r;
	int rc = upt_field_get(&roles, f, s, "roles", UPT_JSON_OBJECT, true);
	if (rc != UPT_OK)
		return rc;
	for (size_t i = 0; i < roles->n; i++) {
		bool known = false;
		for (size_t j = 0; j < 4; j++)
			known |= strcmp(roles->items[i]->key, top_roles[j]) == 0;
		if (!known) {
			size_t mark = upt_path_push(&f->path, "roles", 5);
			upt_path_push(&f->path, roles->items[i]->key, roles->items[i]->key_len);
			rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "unknown role");
			upt_path_pop(&f->path, mark);
			return rc;
		}
	}
	/* aktualizr's Director: a root of root and targets only, in its dialect */
	bool two_roles = f->dialect == UPT_DIALECT_AKTUALIZR && !upt_json_get(roles, "snapshot") &&
			 !upt_json_get(roles, "timestamp");
	for (size_t j = 0; j < (two_roles ? 2 : 4); j++) {
		size_t mark = upt_path_push(&f->path, "roles", 5);
		rc = upt_field_get(&r, f, roles, top_roles[j], UPT_JSON_OBJECT, true);
		if (rc == UPT_OK) {
			upt_path_push(&f->path, top_roles[j], strlen(top_roles[j]));
			rc = upt_field_role_keys(&out->roles[j], f, r, out->keys, out->n_keys);
			out->roles[j].name = top_roles[j];
		}
		upt_path_pop(&f->path, mark);
		if (rc != UPT_OK)
			return rc;
	}
	return UPT_OK;
}

int upt_root_parse(struct upt_root *out, struct upt_arena *a, const struct upt_doc *doc,
		   const struct upt_crypto *crypto, struct upt_error *err)
{
	struct upt_fctx f = {a, doc ? doc->name : "root", err, {{0}, 0}, crypto, UPT_DIALECT_TUF};
	int rc;
	if (!out || !a || !doc || !doc->signed_json)
		return upt_error_set(err, UPT_ERR_ARG, "root: missing argument");
	memset(out, 0, sizeof *out);
	f.dialect = doc->dialect;
	rc = upt_field_common(&out->c, &f, doc, UPT_ROLE_ROOT);
	if (rc == UPT_OK)
		rc = upt_field_bool(&out->consistent_snapshot, &f, doc->signed_json,
				    "consistent_snapshot", false);
	if (rc == UPT_OK)
		rc = upt_field_keys(&out->keys, &out->n_keys, &f, doc->signed_json, crypto);
	if (rc == UPT_OK)
		rc = root_roles(out, &f, doc->signed_json);
	if (rc != UPT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

int upt_root_verify_self(struct upt_root *out, struct upt_arena *a, const struct upt_doc *doc,
			 const struct upt_crypto *crypto, struct upt_error *err)
{
	struct upt_root root;
	int rc = upt_root_parse(&root, a, doc, crypto, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_doc_verify(doc, root.keys, root.n_keys, &root.roles[UPT_ROLE_ROOT - 1], crypto,
			    NULL, err);
	if (rc != UPT_OK)
		return rc;
	*out = root;
	return UPT_OK;
}
