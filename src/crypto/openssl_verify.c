/* uptake host: the OpenSSL 3 backend of libuptake's crypto interface:
 * SHA-256/512, Ed25519, ECDSA P-256 (DER signatures, SHA-256) and
 * RSASSA-PSS (SHA-256, MGF1-SHA256, any salt length) verification. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/crypto_openssl.h>

#include "openssl_internal.h"

static int ossl_hash(void *ctx, enum upt_hash_alg alg, const uint8_t *data, size_t len,
		     uint8_t *digest)
{
	const EVP_MD *md = alg == UPT_HASH_SHA256   ? EVP_sha256()
			   : alg == UPT_HASH_SHA512 ? EVP_sha512()
						    : NULL;
	(void)ctx;
	if (!md)
		return UPT_ERR_UNSUPPORTED;
	if (EVP_Digest(data, len, digest, NULL, md, NULL) != 1) {
		ERR_clear_error();
		return UPT_ERR_CRYPTO;
	}
	return UPT_OK;
}

/* True when pkey is of `type` (EC keys on P-256 only; RSA >= 2048 bits). */
bool upt_ossl_key_is(EVP_PKEY *pkey, enum upt_key_type type)
{
	char group[32];
	size_t glen = 0;
	switch (type) {
	case UPT_KEY_ED25519:
		return EVP_PKEY_is_a(pkey, "ED25519");
	case UPT_KEY_ECDSA_P256:
		return EVP_PKEY_is_a(pkey, "EC") &&
		       EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						      sizeof group, &glen) == 1 &&
		       (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
	case UPT_KEY_RSA:
		return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
	}
	return false;
}

EVP_PKEY *upt_ossl_public(enum upt_key_type type, const uint8_t *pub, size_t len)
{
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = pub;
	if (!pub || len == 0 || len > UPT_PUBKEY_MAX)
		return NULL;
	if (type == UPT_KEY_ED25519) {
		if (len == 32)
			pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, len);
	} else {
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		if (pkey && p != pub + len) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	if (pkey && !upt_ossl_key_is(pkey, type)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_clear_error();
	return pkey;
}

enum upt_key_type upt_ossl_scheme_type(enum upt_sig_scheme scheme)
{
	switch (scheme) {
	case UPT_SCHEME_ED25519:
		return UPT_KEY_ED25519;
	case UPT_SCHEME_ECDSA_SHA2_NISTP256:
		return UPT_KEY_ECDSA_P256;
	case UPT_SCHEME_RSASSA_PSS_SHA256:
		return UPT_KEY_RSA;
	}
	return (enum upt_key_type)0;
}

/* Set up ctx for `scheme` (sign or verify). */
int upt_ossl_digest_init(EVP_MD_CTX *ctx, EVP_PKEY *pkey, enum upt_sig_scheme scheme, bool sign)
{
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = scheme == UPT_SCHEME_ED25519 ? NULL : EVP_sha256();
	int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey)
		      : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
	if (ok == 1 && scheme == UPT_SCHEME_RSASSA_PSS_SHA256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sign ? RSA_PSS_SALTLEN_DIGEST
								 : RSA_PSS_SALTLEN_AUTO) == 1;
	return ok == 1 ? UPT_OK : UPT_ERR_CRYPTO;
}

/* Key objects kept for the public keys verified with most recently: a
 * server verifies each device's few keys again and again, and building
 * the object (a provider lookup under OpenSSL's locks) costs about 5% of
 * an Ed25519 verification. A slot is found by a hash of the key's type
 * and bytes and holds the key's exact bytes: a key is only ever used for
 * the bytes it was built from. Slots are replaced, never freed: what is
 * kept stays bounded by the table (KEY_SLOTS keys of at most
 * UPT_PUBKEY_MAX bytes). Objects are shared between threads only for
 * verification, which does not change them. */
#define KEY_SLOTS 1024

static struct key_slot {
	EVP_PKEY *pkey;
	enum upt_key_type type;
	size_t len;
	uint8_t *bytes;
} key_slots[KEY_SLOTS];
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t key_slot_of(enum upt_key_type type, const uint8_t *pub, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)type; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ pub[i]) * 1099511628211ull;
	return (size_t)(h % KEY_SLOTS);
}

/* The key object for these bytes (a reference of the caller's own, for
 * EVP_PKEY_free), from the table or built and kept there. */
static EVP_PKEY *public_kept(enum upt_key_type type, const uint8_t *pub, size_t len)
{
	struct key_slot *k;
	EVP_PKEY *pkey = NULL, *old = NULL;
	uint8_t *copy, *old_bytes = NULL;
	if (!pub || len == 0 || len > UPT_PUBKEY_MAX)
		return NULL;
	k = &key_slots[key_slot_of(type, pub, len)];
	pthread_mutex_lock(&key_lock);
	if (k->pkey && k->type == type && k->len == len && memcmp(k->bytes, pub, len) == 0 &&
	    EVP_PKEY_up_ref(k->pkey) == 1)
		pkey = k->pkey;
	pthread_mutex_unlock(&key_lock);
	if (pkey || !(pkey = upt_ossl_public(type, pub, len)))
		return pkey;
	if (!(copy = malloc(len)) || EVP_PKEY_up_ref(pkey) != 1) {
		free(copy);
		return pkey; /* not kept */
	}
	memcpy(copy, pub, len);
	pthread_mutex_lock(&key_lock);
	old = k->pkey;
	old_bytes = k->bytes;
	k->pkey = pkey;
	k->type = type;
	k->len = len;
	k->bytes = copy;
	pthread_mutex_unlock(&key_lock);
	EVP_PKEY_free(old);
	free(old_bytes);
	return pkey;
}

static int ossl_verify(void *ctx, enum upt_sig_scheme scheme, const uint8_t *pub, size_t pub_len,
		       const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = public_kept(upt_ossl_scheme_type(scheme), pub, pub_len);
	EVP_MD_CTX *md = NULL;
	int rc = UPT_ERR_BAD_SIGNATURE;
	(void)ctx;
	if (!pkey)
		return UPT_ERR_KEY;
	if (!sig || sig_len == 0 || sig_len > UPT_SIG_MAX ||
	    (scheme == UPT_SCHEME_ED25519 && sig_len != 64))
		goto out;
	if (!(md = EVP_MD_CTX_new()) || upt_ossl_digest_init(md, pkey, scheme, false) != UPT_OK) {
		rc = UPT_ERR_CRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1)
		rc = UPT_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

static int ossl_check_key(void *ctx, enum upt_key_type type, const uint8_t *pub, size_t pub_len)
{
	EVP_PKEY *pkey;
	(void)ctx;
	/* OpenSSL takes any 32 bytes as an Ed25519 public key (the point is
	 * decoded when a signature is verified): a key object built here
	 * would prove the length only, at the cost of a provider lookup for
	 * every key parsed (each ECU key of each manifest) */
	if (type == UPT_KEY_ED25519)
		return pub && pub_len == 32 ? UPT_OK : UPT_ERR_KEY;
	pkey = upt_ossl_public(type, pub, pub_len);
	if (!pkey)
		return UPT_ERR_KEY;
	EVP_PKEY_free(pkey);
	return UPT_OK;
}

static const struct upt_crypto ossl_crypto = {
    NULL,
    ossl_hash,
    ossl_verify,
    ossl_check_key,
};

const struct upt_crypto *upt_openssl_crypto(void)
{
	return &ossl_crypto;
}
