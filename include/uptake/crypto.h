/* uptake: the crypto interface libuptake core calls.
 *
 * Core does no cryptography of its own: the caller hands it a table of
 * functions (OpenSSL 3 on hosts, see uptake/crypto_openssl.h; a small
 * library on microcontrollers). Public keys reach the backend as raw bytes:
 * 32 bytes for Ed25519, DER SubjectPublicKeyInfo for ECDSA P-256 and RSA.
 */
#ifndef UPTAKE_CRYPTO_H
#define UPTAKE_CRYPTO_H

#include <stdbool.h>
#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum upt_hash_alg {
	UPT_HASH_SHA256 = 1,
	UPT_HASH_SHA512 = 2,
};
#define UPT_SHA256_LEN 32
#define UPT_SHA512_LEN 64

enum upt_key_type {
	UPT_KEY_ED25519 = 1,
	UPT_KEY_ECDSA_P256 = 2,
	UPT_KEY_RSA = 3,
};

enum upt_sig_scheme {
	UPT_SCHEME_ED25519 = 1,
	UPT_SCHEME_ECDSA_SHA2_NISTP256 = 2,
	UPT_SCHEME_RSASSA_PSS_SHA256 = 3,
};

/* Largest signature any supported scheme produces (RSA 4096 = 512 bytes). */
#define UPT_SIG_MAX 512
/* Largest public key accepted (DER of RSA 4096 is about 550 bytes). */
#define UPT_PUBKEY_MAX 1024

struct upt_crypto {
	void *ctx;
	/* digest must hold UPT_SHA512_LEN bytes. */
	int (*hash)(void *ctx, enum upt_hash_alg alg, const uint8_t *data, size_t len,
		    uint8_t *digest);
	/* UPT_OK only when `sig` is a valid signature of `msg` by `pub`
	 * under `scheme`; UPT_ERR_BAD_SIGNATURE when it is not; another
	 * negative code when the key cannot be used. */
	int (*verify)(void *ctx, enum upt_sig_scheme scheme, const uint8_t *pub, size_t pub_len,
		      const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);
	/* UPT_OK when `pub` is a well-formed public key of `type`
	 * (RSA: at least 2048 bits). May be NULL (then keys are checked only
	 * when used). */
	int (*check_key)(void *ctx, enum upt_key_type type, const uint8_t *pub, size_t pub_len);
};

/* A signer used by the signing helper. `sign` writes at most `cap` bytes
 * of raw signature (Ed25519: 64 bytes; ECDSA: DER; RSA-PSS: modulus size). */
struct upt_signer {
	const char *keyid; /* hex key id as it appears in metadata */
	enum upt_sig_scheme scheme;
	void *ctx;
	int (*sign)(void *ctx, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t cap,
		    size_t *sig_len);
};

#ifdef __cplusplus
}
#endif
#endif
