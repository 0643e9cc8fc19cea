/* uptake core (private): typed field access for metadata parsers, with
 * error messages that name the document and the field's path. */
#ifndef UPTAKE_CORE_FIELDS_H
#define UPTAKE_CORE_FIELDS_H

#include <uptake/metadata.h>

/* A field path such as `delegations.roles[2].threshold`, built on the stack
 * while descending; truncated (with "...") if it grows too long. */
struct upt_path {
	char buf[160];
	size_t len;
};

/* Parser context: where memory comes from, which document, where errors go. */
struct upt_fctx {
	struct upt_arena *a;
	const char *doc;
	struct upt_error *err;
	struct upt_path path;
	const struct upt_crypto *crypto; /* for key checks; may be NULL */
	enum upt_dialect dialect;        /* of the document (0: TUF) */
};

void upt_path_init(struct upt_path *p);
/* Append ".name" (or "name" at the start); returns the previous length. */
size_t upt_path_push(struct upt_path *p, const char *name, size_t name_len);
/* Append "[i]"; returns the previous length. */
size_t upt_path_push_index(struct upt_path *p, size_t i);
static inline void upt_path_pop(struct upt_path *p, size_t len)
{
	p->len = len;
	p->buf[len] = 0;
}

/* Set err to "<doc>: <path>: <what>" (path omitted when empty). */
int upt_field_error(struct upt_fctx *f, int code, const char *what);

/* Member `key` of object `obj` of type `type`. A missing required member is
 * UPT_ERR_FIELD_MISSING; a present member of another type is
 * UPT_ERR_FIELD_TYPE; a missing optional member leaves *out NULL. Pushes
 * `key` onto the path for the error message only. */
int upt_field_get(const struct upt_json **out, struct upt_fctx *f, const struct upt_json *obj,
		  const char *key, enum upt_json_type type, bool required);
int upt_field_int(int64_t *out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		  int64_t min, bool required, bool *present);
int upt_field_str(const char **out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		  bool required);
int upt_field_bool(bool *out, struct upt_fctx *f, const struct upt_json *obj, const char *key,
		   bool required);
/* A string value without NUL bytes, copied as a C string. */
int upt_field_cstr(const char **out, struct upt_fctx *f, const struct upt_json *v);
/* An array of distinct strings (at most max) as a C string array. */
int upt_field_str_array(const char ***out, size_t *n, struct upt_fctx *f,
			const struct upt_json *obj, const char *key, size_t max, bool required);
/* A "hashes" object: sha256 and/or sha512 in hex; at least one. */
int upt_field_hashes(struct upt_hashes *out, struct upt_fctx *f, const struct upt_json *obj,
		     bool required);
/* The common header: _type, spec_version, version, expires. */
int upt_field_common(struct upt_meta_common *out, struct upt_fctx *f, const struct upt_doc *doc,
		     enum upt_role role);
/* A "keys" object keyid -> key, sorted by keyid. */
int upt_field_keys(struct upt_key **out, size_t *n, struct upt_fctx *f, const struct upt_json *obj,
		   const struct upt_crypto *crypto);
/* keyids + threshold of a role; every keyid must be in keys. */
int upt_field_role_keys(struct upt_role_keys *out, struct upt_fctx *f, const struct upt_json *role,
			const struct upt_key *keys, size_t n_keys);

#endif
