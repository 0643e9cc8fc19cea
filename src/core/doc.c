/* uptake core: signed documents: split, threshold verification, signing. */
#include <string.h>
#include <uptake/encode.h>

#include "fields.h"

static const struct {
	const char *name;
	enum upt_role role;
	enum upt_dialect dialect;
} role_types[] = {
    {"root", UPT_ROLE_ROOT, UPT_DIALECT_TUF},
    {"targets", UPT_ROLE_TARGETS, UPT_DIALECT_TUF},
    {"snapshot", UPT_ROLE_SNAPSHOT, UPT_DIALECT_TUF},
    {"timestamp", UPT_ROLE_TIMESTAMP, UPT_DIALECT_TUF},
    {"Root", UPT_ROLE_ROOT, UPT_DIALECT_AKTUALIZR},
    {"Targets", UPT_ROLE_TARGETS, UPT_DIALECT_AKTUALIZR},
    {"Snapshot", UPT_ROLE_SNAPSHOT, UPT_DIALECT_AKTUALIZR},
    {"Timestamp", UPT_ROLE_TIMESTAMP, UPT_DIALECT_AKTUALIZR},
};

static int doc_type(struct upt_doc *out, struct upt_fctx *f)
{
	const char *type;
	int rc = upt_field_str(&type, f, out->signed_json, "_type", true);
	if (rc != UPT_OK)
		return rc;
	for (size_t i = 0; i < sizeof role_types / sizeof role_types[0]; i++) {
		if (strcmp(type, role_types[i].name) == 0) {
			out->role = role_types[i].role;
			out->dialect = role_types[i].dialect;
			return UPT_OK;
		}
	}
	return upt_field_error(f, UPT_ERR_ROLE_TYPE, "_type: unknown role type");
}

/* Decode a signature value; a value that does not decode stays NULL and
 * will never count toward a threshold. */
static void sig_decode(struct upt_signature *s, struct upt_fctx *f, const char *text)
{
	size_t len = strlen(text), got = 0;
	uint8_t *buf = upt_arena_alloc(f->a, UPT_SIG_MAX);
	int rc;
	s->sig = NULL;
	s->sig_len = 0;
	if (!buf)
		return;
	if (s->method)
		rc = upt_base64_decode(buf, UPT_SIG_MAX, &got, text, len, false);
	else
		rc = upt_hex_decode(buf, UPT_SIG_MAX, &got, text, len);
	if (rc == UPT_OK && got > 0) {
		s->sig = buf;
		s->sig_len = got;
	}
}

static int sig_parse(struct upt_signature *s, struct upt_fctx *f, const struct upt_json *v)
{
	const char *text;
	int rc;
	if (v->type != UPT_JSON_OBJECT)
		return upt_field_error(f, UPT_ERR_SIGNATURE, "must be an object");
	for (size_t i = 0; i < v->n; i++) {
		const char *k = v->items[i]->key;
		if (strcmp(k, "keyid") && strcmp(k, "sig") && strcmp(k, "method"))
			return upt_field_error(f, UPT_ERR_SIGNATURE, "unknown field");
	}
	rc = upt_field_str(&s->keyid, f, v, "keyid", true);
	if (rc == UPT_OK)
		rc = upt_field_str(&s->method, f, v, "method", false);
	if (rc == UPT_OK)
		rc = upt_field_str(&text, f, v, "sig", true);
	if (rc != UPT_OK)
		return rc == UPT_ERR_NOMEM
			   ? rc
			   : upt_field_error(f, UPT_ERR_SIGNATURE, "malformed signature");
	sig_decode(s, f, text);
	return UPT_OK;
}

static int doc_sigs(struct upt_doc *out, struct upt_fctx *f)
{
	const struct upt_json *arr;
	int rc = upt_field_get(&arr, f, out->json, "signatures", UPT_JSON_ARRAY, true);
	if (rc != UPT_OK)
		return rc;
	if (arr->n > UPT_MAX_SIGNATURES)
		return upt_field_error(f, UPT_ERR_TOO_LARGE, "signatures: too many");
	out->sigs = upt_arena_calloc(f->a, arr->n ? arr->n : 1, sizeof *out->sigs);
	if (!out->sigs)
		return upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < arr->n; i++) {
		size_t mark = upt_path_push(&f->path, "signatures", 10);
		upt_path_push_index(&f->path, i);
		rc = sig_parse(&out->sigs[i], f, arr->items[i]);
		/* One signature per key id: a document that repeats one is
		 * refused outright rather than guessed at. */
		for (size_t j = 0; rc == UPT_OK && j < i; j++)
			if (strcmp(out->sigs[j].keyid, out->sigs[i].keyid) == 0)
				rc = upt_field_error(f, UPT_ERR_SIGNATURE, "key id signs twice");
		upt_path_pop(&f->path, mark);
		if (rc != UPT_OK)
			return rc;
	}
	out->n_sigs = arr->n;
	return UPT_OK;
}

/* The envelope checks shared by typed metadata and untyped documents. */
static int envelope(struct upt_doc *out, struct upt_fctx *f, const struct upt_json *json,
		    bool typed)
{
	int rc;
	if (json->type != UPT_JSON_OBJECT)
		return upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
	if (json->n != 2)
		return upt_field_error(f, UPT_ERR_FIELD_VALUE,
				       "must have exactly the members signatures and signed");
	out->json = json;
	rc = upt_field_get(&out->signed_json, f, json, "signed", UPT_JSON_OBJECT, true);
	if (rc == UPT_OK && typed)
		rc = doc_type(out, f);
	if (rc == UPT_OK)
		rc = doc_sigs(out, f);
	if (rc == UPT_OK) {
		rc = upt_json_canonical_arena(&out->canonical, &out->canonical_len, f->a,
					      out->signed_json, f->err);
		if (rc != UPT_OK)
			upt_error_prefix(f->err, f->doc);
	}
	return rc;
}

int upt_doc_parse(struct upt_doc *out, struct upt_arena *a, const uint8_t *in, size_t len,
		  size_t max_len, const char *name, struct upt_error *err)
{
	struct upt_json_limits lim = {0};
	struct upt_json *json;
	struct upt_fctx f = {a, name ? name : "metadata", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	int rc;
	memset(out, 0, sizeof *out);
	out->name = f.doc;
	lim.max_input = max_len;
	if (max_len && len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "%s: %zu bytes, more than the %zu allowed", f.doc, len,
				     max_len);
	rc = upt_json_parse(&json, a, in, len, &lim, err);
	if (rc != UPT_OK) {
		upt_error_prefix(err, f.doc);
		return rc;
	}
	return envelope(out, &f, json, true);
}

int upt_doc_from_json(struct upt_doc *out, struct upt_arena *a, const struct upt_json *json,
		      const char *name, struct upt_error *err)
{
	struct upt_fctx f = {a, name ? name : "document", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	int rc;
	memset(out, 0, sizeof *out);
	out->name = f.doc;
	if (!json)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s: missing", f.doc);
	rc = envelope(out, &f, json, false);
	if (rc == UPT_OK)
		out->dialect =
		    out->n_sigs && out->sigs[0].method ? UPT_DIALECT_AKTUALIZR : UPT_DIALECT_TUF;
	return rc;
}

/* The aktualizr dialect names the scheme in each signature; it must agree
 * with the key's. */
static bool method_matches(const char *method, enum upt_sig_scheme scheme)
{
	if (!method)
		return true;
	switch (scheme) {
	case UPT_SCHEME_ED25519:
		return strcmp(method, "ed25519") == 0;
	case UPT_SCHEME_RSASSA_PSS_SHA256:
		return strcmp(method, "rsassa-pss") == 0 ||
		       strcmp(method, "rsassa-pss-sha256") == 0;
	case UPT_SCHEME_ECDSA_SHA2_NISTP256:
		return strcmp(method, "ecdsa-sha2-nistp256") == 0;
	}
	return false;
}

/* True when an earlier key id of the role names the same key material. */
static bool same_key_earlier(const struct upt_key *keys, size_t n_keys,
			     const struct upt_role_keys *role, size_t idx,
			     const struct upt_key *key)
{
	for (size_t j = 0; j < idx; j++) {
		const struct upt_key *k = upt_keys_find(keys, n_keys, role->keyids[j]);
		if (k && k->type == key->type && k->pub_len == key->pub_len &&
		    memcmp(k->pub, key->pub, key->pub_len) == 0)
			return true;
	}
	return false;
}

/* Does some signature by `key` (under its key id) verify? Several entries
 * may carry the same key id; any one valid entry counts once. */
static bool key_signed(const struct upt_doc *doc, const struct upt_key *key,
		       const struct upt_crypto *crypto)
{
	for (size_t i = 0; i < doc->n_sigs; i++) {
		const struct upt_signature *s = &doc->sigs[i];
		if (!s->sig || strcmp(s->keyid, key->keyid) != 0 ||
		    !method_matches(s->method, key->scheme))
			continue;
		if (upt_key_verify(key, crypto, doc->canonical, doc->canonical_len, s->sig,
				   s->sig_len) == UPT_OK)
			return true;
	}
	return false;
}

int upt_doc_verify(const struct upt_doc *doc, const struct upt_key *keys, size_t n_keys,
		   const struct upt_role_keys *role, const struct upt_crypto *crypto,
		   uint32_t *n_valid, struct upt_error *err)
{
	uint32_t valid = 0;
	if (n_valid)
		*n_valid = 0;
	if (!doc || !doc->canonical || !role || !crypto || (!keys && n_keys))
		return upt_error_set(err, UPT_ERR_ARG, "verify: missing argument");
	for (size_t i = 0; i < role->n_keyids && valid < role->threshold; i++) {
		const struct upt_key *key = upt_keys_find(keys, n_keys, role->keyids[i]);
		if (!key || same_key_earlier(keys, n_keys, role, i, key))
			continue;
		if (key_signed(doc, key, crypto))
			valid++;
	}
	if (n_valid)
		*n_valid = valid;
	if (role->threshold == 0 || valid < role->threshold)
		return upt_error_set(err, UPT_ERR_THRESHOLD, "%s: signature threshold %u of %u",
				     doc->name, valid, role->threshold);
	return UPT_OK;
}
