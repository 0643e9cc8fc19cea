/* uptake core: fields shared by every role: the header (_type,
 * spec_version, version, expires), hashes, key tables and role key sets. */
#include <string.h>
#include <uptake/encode.h>

#include "fields.h"

static int hash_value(uint8_t *out, size_t want, struct upt_fctx *f, const struct upt_json *v)
{
	size_t got = 0;
	if (v->type != UPT_JSON_STRING)
		return upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be a string");
	if (v->len != 2 * want || upt_hex_decode(out, want, &got, v->str, v->len) != UPT_OK ||
	    got != want)
		return upt_field_error(f, UPT_ERR_FIELD_VALUE,
				       "not a hex digest of the right length");
	return UPT_OK;
}

static int hash_member(struct upt_hashes *out, struct upt_fctx *f, const struct upt_json *v)
{
	if (v->key_len == 6 && memcmp(v->key, "sha256", 6) == 0) {
		out->has_sha256 = true;
		return hash_value(out->sha256, UPT_SHA256_LEN, f, v);
	}
	if (v->key_len == 6 && memcmp(v->key, "sha512", 6) == 0) {
		out->has_sha512 = true;
		return hash_value(out->sha512, UPT_SHA512_LEN, f, v);
	}
	return upt_field_error(f, UPT_ERR_UNSUPPORTED, "unsupported hash algorithm");
}

int upt_field_hashes(struct upt_hashes *out, struct upt_fctx *f, const struct upt_json *obj,
		     bool required)
{
	const struct upt_json *h;
	size_t mark;
	int rc = upt_field_get(&h, f, obj, "hashes", UPT_JSON_OBJECT, required);
	memset(out, 0, sizeof *out);
	if (rc != UPT_OK || !h)
		return rc;
	mark = upt_path_push(&f->path, "hashes", 6);
	if (h->n == 0)
		rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "lists no hash");
	for (size_t i = 0; rc == UPT_OK && i < h->n; i++) {
		size_t m2 = upt_path_push(&f->path, h->items[i]->key, h->items[i]->key_len);
		rc = hash_member(out, f, h->items[i]);
		upt_path_pop(&f->path, m2);
	}
	upt_path_pop(&f->path, mark);
	return rc;
}

/* "MAJOR.MINOR" or "MAJOR.MINOR.PATCH", decimal parts. */
static int check_spec_version(struct upt_fctx *f, const char *s)
{
	size_t parts = 1, digits = 0;
	long major = 0;
	bool in_major = true;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (!digits)
				break;
			parts++;
			digits = 0;
			in_major = false;
		} else if (*p >= '0' && *p <= '9' && digits < 9) {
			if (in_major)
				major = major * 10 + (*p - '0');
			digits++;
		} else {
			digits = 0;
			break;
		}
	}
	if (!digits || parts < 2 || parts > 3)
		return upt_field_error(f, UPT_ERR_SPEC_VERSION, "not a version number");
	if (major != UPT_SPEC_MAJOR)
		return upt_field_error(f, UPT_ERR_SPEC_VERSION, "unsupported major version");
	return UPT_OK;
}

int upt_field_common(struct upt_meta_common *out, struct upt_fctx *f, const struct upt_doc *doc,
		     enum upt_role role)
{
	const struct upt_json *s = doc->signed_json;
	const char *expires;
	size_t mark;
	int rc;
	memset(out, 0, sizeof *out);
	if (doc->role != role) {
		upt_error_set(f->err, UPT_ERR_ROLE_TYPE, "%s: _type: expected %s, found %s", f->doc,
			      upt_role_name(role), upt_role_name(doc->role));
		return UPT_ERR_ROLE_TYPE;
	}
	out->role = role;
	out->dialect = doc->dialect;
	rc = upt_field_str(&out->spec_version, f, s, "spec_version",
			   doc->dialect == UPT_DIALECT_TUF);
	if (rc == UPT_OK && out->spec_version) {
		mark = upt_path_push(&f->path, "spec_version", 12);
		rc = check_spec_version(f, out->spec_version);
		upt_path_pop(&f->path, mark);
	}
	if (rc == UPT_OK)
		rc = upt_field_int(&out->version, f, s, "version", 1, true, NULL);
	if (rc == UPT_OK)
		rc = upt_field_str(&expires, f, s, "expires", true);
	if (rc == UPT_OK && upt_time_parse(&out->expires, expires, strlen(expires)) != UPT_OK) {
		mark = upt_path_push(&f->path, "expires", 7);
		rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "not YYYY-MM-DDTHH:MM:SSZ");
		upt_path_pop(&f->path, mark);
	}
	return rc;
}

int upt_field_keys(struct upt_key **out, size_t *n, struct upt_fctx *f, const struct upt_json *obj,
		   const struct upt_crypto *crypto)
{
	const struct upt_json *k;
	struct upt_key *keys;
	int rc = upt_field_get(&k, f, obj, "keys", UPT_JSON_OBJECT, true);
	*out = NULL;
	*n = 0;
	if (rc != UPT_OK)
		return rc;
	if (k->n > UPT_MAX_KEYS)
		return upt_field_error(f, UPT_ERR_TOO_LARGE, "keys: too many keys");
	keys = upt_arena_calloc(f->a, k->n ? k->n : 1, sizeof *keys);
	if (!keys)
		return upt_field_error(f, UPT_ERR_NOMEM, "keys: out of memory");
	for (size_t i = 0; i < k->n; i++) {
		const struct upt_json *v = k->items[i];
		const char *keyid = upt_arena_strndup(f->a, v->key, v->key_len);
		if (!keyid)
			return upt_field_error(f, UPT_ERR_NOMEM, "keys: out of memory");
		if (strlen(keyid) != v->key_len)
			return upt_field_error(f, UPT_ERR_KEY, "keys: key id contains NUL");
		rc = upt_key_parse_dialect(&keys[i], f->a, keyid, v,
					   f->dialect ? f->dialect : UPT_DIALECT_TUF, crypto,
					   f->err);
		if (rc != UPT_OK) {
			upt_error_prefix(f->err, f->doc);
			return rc;
		}
	}
	*out = keys;
	*n = k->n;
	return UPT_OK;
}

int upt_field_role_keys(struct upt_role_keys *out, struct upt_fctx *f, const struct upt_json *role,
			const struct upt_key *keys, size_t n_keys)
{
	int64_t threshold = 0;
	int rc = upt_field_str_array(&out->keyids, &out->n_keyids, f, role, "keyids", UPT_MAX_KEYS,
				     true);
	if (rc == UPT_OK)
		rc = upt_field_int(&threshold, f, role, "threshold", 1, true, NULL);
	if (rc != UPT_OK)
		return rc;
	/* A threshold above the number of key ids is valid TUF (the role
	 * can then never sign anything); only bound it. */
	if (threshold > UPT_MAX_KEYS)
		return upt_field_error(f, UPT_ERR_FIELD_VALUE,
				       "threshold: larger than the key limit");
	out->threshold = (uint32_t)threshold;
	for (size_t i = 0; i < out->n_keyids; i++) {
		if (!upt_keys_find(keys, n_keys, out->keyids[i])) {
			size_t mark = upt_path_push(&f->path, "keyids", 6);
			upt_path_push_index(&f->path, i);
			rc = upt_field_error(f, UPT_ERR_KEY, "key id not listed in keys");
			upt_path_pop(&f->path, mark);
			return rc;
		}
	}
	return UPT_OK;
}

const struct upt_key *upt_keys_find(const struct upt_key *keys, size_t n, const char *keyid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(keys[mid].keyid, keyid);
		if (c == 0)
			return &keys[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *upt_role_name(enum upt_role role)
{
	switch (role) {
	case UPT_ROLE_ROOT:
		return "root";
	case UPT_ROLE_TARGETS:
		return "targets";
	case UPT_ROLE_SNAPSHOT:
		return "snapshot";
	case UPT_ROLE_TIMESTAMP:
		return "timestamp";
	}
	return "unknown";
}
