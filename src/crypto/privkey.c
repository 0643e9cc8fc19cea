/* uptake host: private keys (generate, PKCS#8 PEM load/save, sign) and
 * their public key objects and key ids. */
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>

#include "openssl_internal.h"

#define PEM_MAX (64 * 1024)

struct upt_privkey {
	EVP_PKEY *pkey;
	enum upt_key_type type;
};

static int ossl_fail(struct upt_error *err, int code, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char detail[128] = "";
	if (e)
		ERR_error_string_n(e, detail, sizeof detail);
	ERR_clear_error();
	return upt_error_set(err, code, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

static int wrap(struct upt_privkey **out, EVP_PKEY *pkey, enum upt_key_type type,
		struct upt_error *err)
{
	struct upt_privkey *k = upt_calloc(1, sizeof *k);
	if (!k) {
		EVP_PKEY_free(pkey);
		return upt_error_set(err, UPT_ERR_NOMEM, "private key: out of memory");
	}
	k->pkey = pkey;
	k->type = type;
	*out = k;
	return UPT_OK;
}

int upt_privkey_generate(struct upt_privkey **out, enum upt_key_type type, struct upt_error *err)
{
	EVP_PKEY *pkey = NULL;
	if (!out)
		return upt_error_set(err, UPT_ERR_ARG, "key generation: missing argument");
	*out = NULL;
	switch (type) {
	case UPT_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case UPT_KEY_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case UPT_KEY_RSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	default:
		return upt_error_set(err, UPT_ERR_UNSUPPORTED, "key generation: unknown key type");
	}
	if (!pkey)
		return ossl_fail(err, UPT_ERR_CRYPTO, "key generation failed");
	return wrap(out, pkey, type, err);
}

/* Passphrase callback: the passphrase given, or none (never a prompt). */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	size_t n = u ? strlen(u) : 0;
	(void)rwflag;
	if (!u || n == 0 || n > (size_t)size)
		return -1;
	memcpy(buf, u, n);
	return (int)n;
}

static bool detect_type(EVP_PKEY *pkey, enum upt_key_type *type)
{
	static const enum upt_key_type types[] = {UPT_KEY_ED25519, UPT_KEY_ECDSA_P256, UPT_KEY_RSA};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (upt_ossl_key_is(pkey, types[i])) {
			*type = types[i];
			return true;
		}
	}
	return false;
}

/* OpenSSL's pairwise consistency check of a loaded key pair. */
static bool key_pair_matches(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = c ? EVP_PKEY_pairwise_check(c) : 0;
	EVP_PKEY_CTX_free(c);
	return ok == 1;
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

static enum upt_sig_scheme scheme_of(enum upt_key_type type)
{
	switch (type) {
	case UPT_KEY_ECDSA_P256:
		return UPT_SCHEME_ECDSA_SHA2_NISTP256;
	case UPT_KEY_RSA:
		return UPT_SCHEME_RSASSA_PSS_SHA256;
	default:
		return UPT_SCHEME_ED25519;
	}
}

int upt_privkey_load_pem(struct upt_privkey **out, const char *pem, size_t len,
			 const char *passphrase, struct upt_error *err)
{
	BIO *bio;
	EVP_PKEY *pkey;
	enum upt_key_type type;
	bool encrypted;
	if (!out || !pem || len == 0 || len > PEM_MAX)
		return upt_error_set(err, UPT_ERR_ARG, "private key: no PEM or PEM too large");
	*out = NULL;
	encrypted = contains(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----");
	if (!(bio = BIO_new_mem_buf(pem, (int)len)))
		return ossl_fail(err, UPT_ERR_NOMEM, "private key");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)(uintptr_t)passphrase);
	BIO_free(bio);
	if (!pkey) {
		if (encrypted)
			return ossl_fail(err, UPT_ERR_PASSPHRASE,
					 passphrase ? "private key: wrong passphrase"
						    : "private key: encrypted, passphrase needed");
		return ossl_fail(err, UPT_ERR_DECODE, "private key: not a PEM private key");
	}
	if (!detect_type(pkey, &type)) {
		EVP_PKEY_free(pkey);
		return upt_error_set(err, UPT_ERR_KEY,
				     "private key: not Ed25519, ECDSA P-256 or RSA >= 2048 bits");
	}
	/* the public half it carries must be the private key's: else it would
	 * sign what its own key object never verifies */
	if (!key_pair_matches(pkey)) {
		EVP_PKEY_free(pkey);
		return ossl_fail(err, UPT_ERR_KEY,
				 "private key: its public key does not match the private key");
	}
	return wrap(out, pkey, type, err);
}

/* Copy a memory BIO's contents into a NUL-terminated upt_malloc buffer. */
static int bio_take(char **out, size_t *out_len, BIO *bio, struct upt_error *err)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *buf;
	if (n <= 0 || !data)
		return ossl_fail(err, UPT_ERR_CRYPTO, "PEM encoding failed");
	if (!(buf = upt_malloc((size_t)n + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "PEM encoding: out of memory");
	memcpy(buf, data, (size_t)n);
	buf[n] = 0;
	*out = buf;
	*out_len = (size_t)n;
	return UPT_OK;
}

int upt_privkey_save_pem(char **out, size_t *out_len, const struct upt_privkey *key,
			 const char *passphrase, struct upt_error *err)
{
	const EVP_CIPHER *cipher = passphrase && *passphrase ? EVP_aes_256_cbc() : NULL;
	BIO *bio;
	int rc;
	if (!out || !out_len || !key)
		return upt_error_set(err, UPT_ERR_ARG, "private key: missing argument");
	if (!(bio = BIO_new(BIO_s_secmem())))
		return ossl_fail(err, UPT_ERR_NOMEM, "private key");
	if (PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, cipher, NULL, 0, NULL,
					  cipher ? (void *)(uintptr_t)passphrase : NULL) != 1)
		rc = ossl_fail(err, UPT_ERR_CRYPTO, "private key: PEM encoding failed");
	else
		rc = bio_take(out, out_len, bio, err);
	BIO_free(bio);
	return rc;
}

static int public_text(char **out, size_t *len, const struct upt_privkey *key,
		       struct upt_error *err)
{
	uint8_t raw[32];
	size_t raw_len = sizeof raw;
	BIO *bio;
	int rc;
	if (key->type == UPT_KEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &raw_len) != 1 || raw_len != 32)
			return ossl_fail(err, UPT_ERR_CRYPTO, "public key");
		if (!(*out = upt_malloc(65)))
			return upt_error_set(err, UPT_ERR_NOMEM, "public key: out of memory");
		upt_hex_encode(*out, raw, 32);
		*len = 64;
		return UPT_OK;
	}
	if (!(bio = BIO_new(BIO_s_mem())))
		return ossl_fail(err, UPT_ERR_NOMEM, "public key");
	if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1)
		rc = ossl_fail(err, UPT_ERR_CRYPTO, "public key: PEM encoding failed");
	else
		rc = bio_take(out, len, bio, err);
	BIO_free(bio);
	return rc;
}

/* The key object with keys sorted and no white space: as JSON text (PEM
 * newlines escaped as \n) or, with `canonical`, in the canonical form TUF
 * hashes for key ids (newlines raw). */
static int key_object(char **out, size_t *out_len, enum upt_key_type key_type, const char *pub,
		      size_t pub_len, enum upt_dialect dialect, bool canonical,
		      struct upt_error *err)
{
	static const char *const tuf_type[] = {"", "ed25519", "ecdsa", "rsa"};
	static const char *const akt_type[] = {"", "ED25519", NULL, "RSA"};
	const char *type =
	    dialect == UPT_DIALECT_AKTUALIZR ? akt_type[key_type] : tuf_type[key_type];
	const char *scheme = upt_scheme_name(scheme_of(key_type));
	size_t cap = 2 * pub_len + 128, n = 0;
	char *buf;
	if (!type)
		return upt_error_set(err, UPT_ERR_UNSUPPORTED,
				     "public key: ECDSA has no aktualizr-dialect form");
	if (!(buf = upt_malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "public key: out of memory");
	n += (size_t)snprintf(buf, cap, "{\"keytype\":\"%s\",\"keyval\":{\"public\":\"", type);
	for (size_t i = 0; i < pub_len; i++) {
		if (pub[i] == '\n' && !canonical) {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = pub[i];
		}
	}
	if (dialect == UPT_DIALECT_AKTUALIZR)
		n += (size_t)snprintf(buf + n, cap - n, "\"}}");
	else
		n += (size_t)snprintf(buf + n, cap - n, "\"},\"scheme\":\"%s\"}", scheme);
	*out = buf;
	*out_len = n;
	return UPT_OK;
}

static int public_object(char **out, size_t *out_len, const struct upt_privkey *key,
			 enum upt_dialect dialect, bool canonical, struct upt_error *err)
{
	char *pub = NULL;
	size_t pub_len = 0;
	int rc;
	if (!out || !out_len || !key)
		return upt_error_set(err, UPT_ERR_ARG, "public key: missing argument");
	rc = public_text(&pub, &pub_len, key, err);
	if (rc == UPT_OK)
		rc = key_object(out, out_len, key->type, pub, pub_len, dialect, canonical, err);
	upt_free(pub);
	return rc;
}

int upt_privkey_public_json(char **out, size_t *out_len, const struct upt_privkey *key,
			    enum upt_dialect dialect, struct upt_error *err)
{
	return public_object(out, out_len, key, dialect, false, err);
}

int upt_pubkey_json(char **out, size_t *out_len, const struct upt_key *key,
		    enum upt_dialect dialect, struct upt_error *err)
{
	const unsigned char *p;
	EVP_PKEY *pkey;
	char *pub = NULL;
	size_t pub_len = 0;
	BIO *bio;
	int rc;
	if (!out || !out_len || !key || !key->pub || key->type < UPT_KEY_ED25519 ||
	    key->type > UPT_KEY_RSA)
		return upt_error_set(err, UPT_ERR_ARG, "public key: missing argument");
	if (key->type == UPT_KEY_ED25519) {
		if (key->pub_len != 32)
			return upt_error_set(err, UPT_ERR_KEY, "public key: bad Ed25519 length");
		if (!(pub = upt_malloc(65)))
			return upt_error_set(err, UPT_ERR_NOMEM, "public key: out of memory");
		upt_hex_encode(pub, key->pub, 32);
		pub_len = 64;
	} else {
		if (key->pub_len > LONG_MAX)
			return upt_error_set(err, UPT_ERR_KEY, "public key: too large");
		p = key->pub;
		if (!(pkey = d2i_PUBKEY(NULL, &p, (long)key->pub_len)))
			return ossl_fail(err, UPT_ERR_KEY, "public key: bad DER");
		if (!(bio = BIO_new(BIO_s_mem()))) {
			EVP_PKEY_free(pkey);
			return ossl_fail(err, UPT_ERR_NOMEM, "public key");
		}
		if (PEM_write_bio_PUBKEY(bio, pkey) != 1)
			rc = ossl_fail(err, UPT_ERR_CRYPTO, "public key: PEM encoding failed");
		else
			rc = bio_take(&pub, &pub_len, bio, err);
		BIO_free(bio);
		EVP_PKEY_free(pkey);
		if (rc != UPT_OK)
			return rc;
	}
	rc = key_object(out, out_len, key->type, pub, pub_len, dialect, false, err);
	upt_free(pub);
	return rc;
}

int upt_privkey_keyid(char *out, const struct upt_privkey *key, enum upt_dialect dialect,
		      struct upt_error *err)
{
	uint8_t digest[UPT_SHA256_LEN];
	char *json = NULL;
	size_t len = 0;
	int rc = public_object(&json, &len, key, dialect, true, err);
	if (rc != UPT_OK)
		return rc;
	if (EVP_Digest(json, len, digest, NULL, EVP_sha256(), NULL) != 1)
		rc = ossl_fail(err, UPT_ERR_CRYPTO, "key id");
	else
		upt_hex_encode(out, digest, sizeof digest);
	upt_free(json);
	return rc;
}

enum upt_key_type upt_privkey_type(const struct upt_privkey *key)
{
	return key->type;
}

int upt_privkey_sign(struct upt_privkey *key, const uint8_t *msg, size_t msg_len, uint8_t *sig,
		     size_t cap, size_t *sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t need = 0;
	int rc = UPT_ERR_CRYPTO;
	enum upt_sig_scheme scheme = scheme_of(key->type);
	if (md && upt_ossl_digest_init(md, key->pkey, scheme, true) == UPT_OK &&
	    EVP_DigestSign(md, NULL, &need, msg, msg_len) == 1) {
		if (need > cap)
			rc = UPT_ERR_TOO_LARGE;
		else if (EVP_DigestSign(md, sig, &need, msg, msg_len) == 1)
			rc = UPT_OK;
	}
	if (rc == UPT_OK)
		*sig_len = need;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

static int signer_sign(void *ctx, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t cap,
		       size_t *sig_len)
{
	return upt_privkey_sign(ctx, msg, msg_len, sig, cap, sig_len);
}

void upt_privkey_signer(struct upt_signer *out, struct upt_privkey *key, const char *keyid)
{
	out->keyid = keyid;
	out->scheme = scheme_of(key->type);
	out->ctx = key;
	out->sign = signer_sign;
}

void upt_privkey_free(struct upt_privkey *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	upt_free(key);
}

int upt_privkey_sign_document(char **out, size_t *out_len, const char *signed_json,
			      struct upt_privkey *const *keys, size_t n, enum upt_dialect dialect,
			      struct upt_error *err)
{
	struct upt_signer signers[UPT_SIGN_MAX_KEYS];
	char ids[UPT_SIGN_MAX_KEYS][UPT_KEYID_MAX + 1];
	size_t tlen, acap, cap, len = 0;
	unsigned char *mem;
	char *buf;
	struct upt_arena a;
	struct upt_json *v;
	int rc = UPT_OK;
	if (!out || !out_len || !signed_json || !keys || n == 0 || n > UPT_SIGN_MAX_KEYS)
		return upt_error_set(err, UPT_ERR_ARG, "sign: missing argument or too many keys");
	tlen = strlen(signed_json);
	if (tlen > ((size_t)1 << 28))
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "sign: document too large");
	acap = 16 * tlen + 65536;
	cap = 2 * tlen + 4096 + n * (UPT_SIG_MAX * 2 + 2 * UPT_KEYID_MAX + 64);
	mem = upt_malloc(acap);
	buf = upt_malloc(cap + 1);
	if (!mem || !buf)
		rc = upt_error_set(err, UPT_ERR_NOMEM, "sign: out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, acap);
		rc = upt_json_parse(&v, &a, (const uint8_t *)signed_json, tlen, NULL, err);
	}
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		rc = upt_privkey_keyid(ids[i], keys[i], dialect, err);
		upt_privkey_signer(&signers[i], keys[i], ids[i]);
	}
	if (rc == UPT_OK)
		rc = upt_doc_sign((uint8_t *)buf, cap, &len, v, signers, n, dialect, &a, err);
	upt_free(mem);
	if (rc != UPT_OK) {
		upt_free(buf);
		return rc;
	}
	buf[len] = 0;
	*out = buf;
	*out_len = len;
	return UPT_OK;
}
