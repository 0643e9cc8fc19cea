/* uptake core: TUF key objects, key ids, single-signature verification. */
#include <string.h>
#include <uptake/encode.h>
#include <uptake/key.h>

struct key_spelling {
	const char *keytype;
	enum upt_key_type type;
	enum upt_sig_scheme scheme;
	bool scheme_required; /* TUF spellings name their scheme */
	bool pem;             /* public key as PEM, else 64 hex digits */
	/* in the aktualizr dialect the scheme may be left out (aktualizr's own
	 * Uptane test vectors write lower-case ed25519 keys without one) */
	bool scheme_optional_aktualizr;
};

static const struct key_spelling spellings[] = {
    {"ed25519", UPT_KEY_ED25519, UPT_SCHEME_ED25519, true, false, true},
    {"ecdsa", UPT_KEY_ECDSA_P256, UPT_SCHEME_ECDSA_SHA2_NISTP256, true, true, false},
    {"ecdsa-sha2-nistp256", UPT_KEY_ECDSA_P256, UPT_SCHEME_ECDSA_SHA2_NISTP256, true, true, false},
    {"rsa", UPT_KEY_RSA, UPT_SCHEME_RSASSA_PSS_SHA256, true, true, false},
    {"ED25519", UPT_KEY_ED25519, UPT_SCHEME_ED25519, false, false, true},
    {"RSA", UPT_KEY_RSA, UPT_SCHEME_RSASSA_PSS_SHA256, false, true, true},
};

const char *upt_key_type_name(enum upt_key_type type)
{
	switch (type) {
	case UPT_KEY_ED25519:
		return "ed25519";
	case UPT_KEY_ECDSA_P256:
		return "ecdsa";
	case UPT_KEY_RSA:
		return "rsa";
	}
	return "unknown";
}

const char *upt_scheme_name(enum upt_sig_scheme scheme)
{
	switch (scheme) {
	case UPT_SCHEME_ED25519:
		return "ed25519";
	case UPT_SCHEME_ECDSA_SHA2_NISTP256:
		return "ecdsa-sha2-nistp256";
	case UPT_SCHEME_RSASSA_PSS_SHA256:
		return "rsassa-pss-sha256";
	}
	return "unknown";
}

static bool keyid_ok(const char *keyid)
{
	size_t n = keyid ? strlen(keyid) : 0;
	if (n == 0 || n > UPT_KEYID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (keyid[i] <= 0x20 || keyid[i] >= 0x7f || keyid[i] == '"' || keyid[i] == '\\')
			return false;
	return true;
}

static const struct key_spelling *find_spelling(const struct upt_json *keytype)
{
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
		if (upt_json_is_str(keytype, spellings[i].keytype))
			return &spellings[i];
	return NULL;
}

static int key_fail(struct upt_error *err, int code, const char *keyid, const char *what)
{
	return upt_error_set(err, code, "key %s: %s", keyid, what);
}

/* The key's public value into arena memory (raw Ed25519 or DER). */
static int public_value(struct upt_key *out, struct upt_arena *a, const struct key_spelling *sp,
			const struct upt_json *pub, const char *keyid, struct upt_error *err)
{
	uint8_t *buf = upt_arena_alloc(a, UPT_PUBKEY_MAX);
	size_t len = 0;
	if (!buf)
		return key_fail(err, UPT_ERR_NOMEM, keyid, "out of memory");
	if (!sp->pem) {
		if (pub->len != 64 || upt_hex_decode(buf, 32, &len, pub->str, 64) != UPT_OK)
			return key_fail(err, UPT_ERR_KEY, keyid,
					"keyval.public: not 64 hex characters");
	} else if (upt_pem_decode(buf, UPT_PUBKEY_MAX, &len, "PUBLIC KEY", pub->str, pub->len) !=
		   UPT_OK) {
		return key_fail(err, UPT_ERR_KEY, keyid, "keyval.public: not a PEM public key");
	}
	out->pub = buf;
	out->pub_len = len;
	return UPT_OK;
}

int upt_key_parse(struct upt_key *out, struct upt_arena *a, const char *keyid,
		  const struct upt_json *obj, const struct upt_crypto *crypto,
		  struct upt_error *err)
{
	return upt_key_parse_dialect(out, a, keyid, obj, UPT_DIALECT_TUF, crypto, err);
}

int upt_key_parse_dialect(struct upt_key *out, struct upt_arena *a, const char *keyid,
			  const struct upt_json *obj, enum upt_dialect dialect,
			  const struct upt_crypto *crypto, struct upt_error *err)
{
	bool need_scheme;
	const struct upt_json *keytype, *scheme, *keyval, *pub;
	const struct key_spelling *sp;
	int rc;
	if (!out || !a)
		return upt_error_set(err, UPT_ERR_ARG, "key: missing argument");
	memset(out, 0, sizeof *out);
	if (!keyid_ok(keyid))
		return upt_error_set(err, UPT_ERR_KEY, "key id is not 1-%d printable characters",
				     UPT_KEYID_MAX);
	if (!obj || obj->type != UPT_JSON_OBJECT)
		return key_fail(err, UPT_ERR_KEY, keyid, "must be an object");
	keytype = upt_json_get(obj, "keytype");
	scheme = upt_json_get(obj, "scheme");
	keyval = upt_json_get(obj, "keyval");
	pub = upt_json_get(keyval, "public");
	if (!(sp = find_spelling(keytype)))
		return key_fail(err, UPT_ERR_KEY, keyid, "keytype: missing or unsupported");
	need_scheme = sp->scheme_required &&
		      !(dialect == UPT_DIALECT_AKTUALIZR && sp->scheme_optional_aktualizr);
	if (scheme ? !upt_json_is_str(scheme, upt_scheme_name(sp->scheme)) : need_scheme)
		return key_fail(err, UPT_ERR_KEY, keyid, "scheme: missing or not the keytype's");
	if (!pub || pub->type != UPT_JSON_STRING)
		return key_fail(err, UPT_ERR_KEY, keyid, "keyval.public: missing or not a string");
	if (upt_json_get(keyval, "private"))
		return key_fail(err, UPT_ERR_KEY, keyid, "keyval.private: private key in metadata");
	if (!(out->keyid = upt_arena_strndup(a, keyid, strlen(keyid))))
		return key_fail(err, UPT_ERR_NOMEM, keyid, "out of memory");
	out->type = sp->type;
	out->scheme = sp->scheme;
	if ((rc = public_value(out, a, sp, pub, keyid, err)) != UPT_OK)
		return rc;
	if (crypto && crypto->check_key &&
	    crypto->check_key(crypto->ctx, out->type, out->pub, out->pub_len) != UPT_OK)
		return key_fail(err, UPT_ERR_KEY, keyid, "keyval.public: not a usable key");
	return UPT_OK;
}

int upt_key_compute_keyid(char *out, const struct upt_json *obj, struct upt_arena *scratch,
			  const struct upt_crypto *crypto, struct upt_error *err)
{
	uint8_t digest[UPT_SHA512_LEN];
	const uint8_t *canon;
	size_t len, mark;
	int rc;
	if (!out || !obj || !scratch || !crypto || !crypto->hash)
		return upt_error_set(err, UPT_ERR_ARG, "key id: missing argument");
	mark = upt_arena_mark(scratch);
	rc = upt_json_canonical_arena(&canon, &len, scratch, obj, err);
	if (rc == UPT_OK &&
	    crypto->hash(crypto->ctx, UPT_HASH_SHA256, canon, len, digest) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "key id: hashing failed");
	if (rc == UPT_OK)
		upt_hex_encode(out, digest, UPT_SHA256_LEN);
	upt_arena_rollback(scratch, mark);
	return rc;
}

int upt_key_verify(const struct upt_key *key, const struct upt_crypto *crypto, const uint8_t *msg,
		   size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	int rc;
	if (!key || !crypto || !crypto->verify || !sig)
		return UPT_ERR_ARG;
	rc = crypto->verify(crypto->ctx, key->scheme, key->pub, key->pub_len, msg, msg_len, sig,
			    sig_len);
	return rc == UPT_OK ? UPT_OK : (rc < 0 ? rc : UPT_ERR_BAD_SIGNATURE);
}
