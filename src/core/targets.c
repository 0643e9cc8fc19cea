/* uptake core: targets metadata (top-level and delegated), with Uptane's
 * custom target fields and TUF delegations. */
#include <string.h>

#include "fields.h"

#define MAX_TARGETS     1000000
#define MAX_DELEGATIONS 1024
#define MAX_PATHS       1024
#define MAX_HW_IDS      256
#define MAX_ECUS        1024

static int ecu_ids(struct upt_target *t, struct upt_fctx *f, const struct upt_json *custom)
{
	const struct upt_json *ids;
	int rc = upt_field_get(&ids, f, custom, "ecuIdentifiers", UPT_JSON_OBJECT, false);
	size_t mark;
	if (rc != UPT_OK || !ids)
		return rc;
	mark = upt_path_push(&f->path, "ecuIdentifiers", 14);
	if (ids->n > MAX_ECUS)
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "too many ECUs");
	else if (!(t->ecus = upt_arena_calloc(f->a, ids->n ? ids->n : 1, sizeof *t->ecus)))
		rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < ids->n; i++) {
		const struct upt_json *e = ids->items[i];
		size_t m2 = upt_path_push(&f->path, e->key, e->key_len);
		t->ecus[i].ecu_serial = upt_arena_strndup(f->a, e->key, e->key_len);
		if (!t->ecus[i].ecu_serial)
			rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
		else if (strlen(t->ecus[i].ecu_serial) != e->key_len || !e->key_len)
			rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "invalid ECU serial");
		else if (e->type != UPT_JSON_OBJECT)
			rc = upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
		else
			rc = upt_field_str(&t->ecus[i].hardware_id, f, e, "hardwareId", true);
		upt_path_pop(&f->path, m2);
	}
	if (rc == UPT_OK)
		t->n_ecus = ids->n;
	upt_path_pop(&f->path, mark);
	return rc;
}

static int target_custom(struct upt_target *t, struct upt_fctx *f, const struct upt_json *v)
{
	const struct upt_json *custom, *uri;
	size_t mark;
	int rc = upt_field_get(&custom, f, v, "custom", UPT_JSON_OBJECT, false);
	if (rc != UPT_OK || !custom)
		return rc;
	t->custom = custom;
	mark = upt_path_push(&f->path, "custom", 6);
	rc = upt_field_str_array(&t->hardware_ids, &t->n_hardware_ids, f, custom, "hardwareIds",
				 MAX_HW_IDS, false);
	if (rc == UPT_OK)
		rc = ecu_ids(t, f, custom);
	if (rc == UPT_OK)
		rc = upt_field_int(&t->release_counter, f, custom, "releaseCounter", 0, false,
				   &t->has_release_counter);
	/* aktualizr's Director writes "uri": null when there is none. */
	uri = upt_json_get(custom, "uri");
	if (rc == UPT_OK && uri && uri->type != UPT_JSON_NULL)
		rc = upt_field_str(&t->uri, f, custom, "uri", false);
	upt_path_pop(&f->path, mark);
	return rc;
}

static int target_entry(struct upt_target *t, struct upt_fctx *f, const struct upt_json *v)
{
	size_t mark = upt_path_push(&f->path, "targets", 7);
	int rc = UPT_OK;
	upt_path_push(&f->path, v->key, v->key_len);
	memset(t, 0, sizeof *t);
	if (v->type != UPT_JSON_OBJECT)
		rc = upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
	else if (!(t->name = upt_arena_strndup(f->a, v->key, v->key_len)))
		rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	else if (strlen(t->name) != v->key_len)
		rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "target name contains NUL");
	if (rc == UPT_OK)
		rc = upt_field_int(&t->length, f, v, "length", 0, true, NULL);
	if (rc == UPT_OK)
		rc = upt_field_hashes(&t->hashes, f, v, true);
	if (rc == UPT_OK)
		rc = target_custom(t, f, v);
	upt_path_pop(&f->path, mark);
	return rc;
}

static int targets_list(struct upt_targets *out, struct upt_fctx *f, const struct upt_json *s)
{
	const struct upt_json *tg;
	int rc = upt_field_get(&tg, f, s, "targets", UPT_JSON_OBJECT, true);
	if (rc != UPT_OK)
		return rc;
	if (tg->n > MAX_TARGETS)
		return upt_field_error(f, UPT_ERR_TOO_LARGE, "targets: too many targets");
	out->targets = upt_arena_calloc(f->a, tg->n ? tg->n : 1, sizeof *out->targets);
	if (!out->targets)
		return upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < tg->n; i++) {
		rc = target_entry(&out->targets[i], f, tg->items[i]);
		if (rc != UPT_OK)
			return rc;
	}
	out->n_targets = tg->n;
	return UPT_OK;
}

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int role_paths(struct upt_role_keys *r, struct upt_fctx *f, const struct upt_json *v)
{
	bool has_paths = upt_json_get(v, "paths") != NULL;
	bool has_prefixes = upt_json_get(v, "path_hash_prefixes") != NULL;
	int rc;
	if (has_paths == has_prefixes)
		return upt_field_error(f, UPT_ERR_FIELD_VALUE,
				       "needs exactly one of paths and path_hash_prefixes");
	if (has_paths)
		return upt_field_str_array(&r->paths, &r->n_paths, f, v, "paths", MAX_PATHS, true);
	rc = upt_field_str_array(&r->path_hash_prefixes, &r->n_path_hash_prefixes, f, v,
				 "path_hash_prefixes", MAX_PATHS, true);
	for (size_t i = 0; rc == UPT_OK && i < r->n_path_hash_prefixes; i++)
		if (!is_hex(r->path_hash_prefixes[i]) || strlen(r->path_hash_prefixes[i]) > 64)
			rc = upt_field_error(f, UPT_ERR_FIELD_VALUE,
					     "path_hash_prefixes: not a lower-case hex prefix");
	return rc;
}

static int role_name_check(const struct upt_role_keys *r, struct upt_fctx *f,
			   const struct upt_targets *out, size_t idx)
{
	static const char *const reserved[] = {"root", "targets", "snapshot", "timestamp"};
	if (!r->name[0])
		return upt_field_error(f, UPT_ERR_FIELD_VALUE, "empty");
	for (size_t i = 0; i < 4; i++)
		if (strcmp(r->name, reserved[i]) == 0)
			return upt_field_error(f, UPT_ERR_FIELD_VALUE, "a top-level role name");
	for (size_t i = 0; i < idx; i++)
		if (strcmp(r->name, out->roles[i].name) == 0)
			return upt_field_error(f, UPT_ERR_FIELD_VALUE, "listed twice");
	return UPT_OK;
}

static int role_name(struct upt_role_keys *r, struct upt_fctx *f, const struct upt_json *v,
		     const struct upt_targets *out, size_t idx)
{
	int rc = upt_field_str(&r->name, f, v, "name", true);
	size_t mark;
	if (rc != UPT_OK)
		return rc;
	mark = upt_path_push(&f->path, "name", 4);
	rc = role_name_check(r, f, out, idx);
	upt_path_pop(&f->path, mark);
	return rc;
}

static int delegated_role(struct upt_targets *out, struct upt_fctx *f, const struct upt_json *v,
			  size_t idx)
{
	struct upt_role_keys *r = &out->roles[idx];
	int rc;
	if (v->type != UPT_JSON_OBJECT)
		return upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
	rc = role_name(r, f, v, out, idx);
	if (rc == UPT_OK)
		rc = upt_field_role_keys(r, f, v, out->keys, out->n_keys);
	if (rc == UPT_OK)
		rc = upt_field_bool(&r->terminating, f, v, "terminating", true);
	if (rc == UPT_OK)
		rc = role_paths(r, f, v);
	return rc;
}

static int delegations(struct upt_targets *out, struct upt_fctx *f, const struct upt_json *s)
{
	const struct upt_json *d, *roles;
	size_t mark;
	int rc = upt_field_get(&d, f, s, "delegations", UPT_JSON_OBJECT, false);
	if (rc != UPT_OK || !d)
		return rc;
	out->has_delegations = true;
	mark = upt_path_push(&f->path, "delegations", 11);
	if (upt_json_get(d, "succinct_roles"))
		rc = upt_field_error(f, UPT_ERR_UNSUPPORTED, "succinct_roles: not supported");
	if (rc == UPT_OK)
		rc = upt_field_keys(&out->keys, &out->n_keys, f, d, f->crypto);
	if (rc == UPT_OK)
		rc = upt_field_get(&roles, f, d, "roles", UPT_JSON_ARRAY, true);
	if (rc == UPT_OK && roles->n > MAX_DELEGATIONS)
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "roles: too many");
	if (rc == UPT_OK &&
	    !(out->roles = upt_arena_calloc(f->a, roles->n ? roles->n : 1, sizeof *out->roles)))
		rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < roles->n; i++) {
		size_t m2 = upt_path_push(&f->path, "roles", 5);
		upt_path_push_index(&f->path, i);
		rc = delegated_role(out, f, roles->items[i], i);
		upt_path_pop(&f->path, m2);
	}
	if (rc == UPT_OK)
		out->n_roles = roles->n;
	upt_path_pop(&f->path, mark);
	return rc;
}

int upt_targets_parse(struct upt_targets *out, struct upt_arena *a, const struct upt_doc *doc,
		      const struct upt_crypto *crypto, struct upt_error *err)
{
	struct upt_fctx f = {
	    a, doc ? doc->name : "targets", err, {{0}, 0}, crypto, UPT_DIALECT_TUF};
	int rc;
	if (!out || !a || !doc || !doc->signed_json)
		return upt_error_set(err, UPT_ERR_ARG, "targets: missing argument");
	memset(out, 0, sizeof *out);
	f.dialect = doc->dialect;
	rc = upt_field_common(&out->c, &f, doc, UPT_ROLE_TARGETS);
	if (rc == UPT_OK)
		rc = targets_list(out, &f, doc->signed_json);
	if (rc == UPT_OK)
		rc = delegations(out, &f, doc->signed_json);
	if (rc != UPT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

const struct upt_target *upt_targets_find(const struct upt_targets *t, const char *name)
{
	size_t lo = 0, hi = t ? t->n_targets : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->targets[mid].name, name);
		if (c == 0)
			return &t->targets[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
