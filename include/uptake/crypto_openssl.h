/* uptake: OpenSSL 3 crypto backend for hosts, with key generation, key
 * storage and signing (used by the CLI and the server's online roles).
 */
#ifndef UPTAKE_CRYPTO_OPENSSL_H
#define UPTAKE_CRYPTO_OPENSSL_H

#include <uptake/crypto.h>
#include <uptake/metadata.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The backend table for libuptake core (static; thread-safe). */
UPT_API const struct upt_crypto *upt_openssl_crypto(void);

/* A private key (opaque, allocated by the library). */
struct upt_privkey;

UPT_NODISCARD UPT_API int upt_privkey_generate(struct upt_privkey **out, enum upt_key_type type,
					       struct upt_error *err);

/* Load a PKCS#8 PEM private key, encrypted when `passphrase` is non-NULL. */
UPT_NODISCARD UPT_API int upt_privkey_load_pem(struct upt_privkey **out, const char *pem,
					       size_t len, const char *passphrase,
					       struct upt_error *err);

/* Write the key as PKCS#8 PEM (AES-256-CBC, PBES2 with a PBKDF2-derived key, when
 * `passphrase` is non-NULL) into a buffer from upt_malloc. The caller wipes
 * and frees it with upt_free_secret(). */
UPT_NODISCARD UPT_API int upt_privkey_save_pem(char **out, size_t *out_len,
					       const struct upt_privkey *key,
					       const char *passphrase, struct upt_error *err);

/* The public key object as JSON text (upt_malloc'd, NUL-terminated) in the
 * given dialect, and its TUF key id (SHA-256 of its canonical form). */
UPT_NODISCARD UPT_API int upt_privkey_public_json(char **out, size_t *out_len,
						  const struct upt_privkey *key,
						  enum upt_dialect dialect, struct upt_error *err);
/* A parsed public key as a key object in the given dialect (JSON text,
 * upt_malloc'd, NUL-terminated): converts between the TUF and aktualizr
 * spellings. ECDSA keys have no aktualizr form (UPT_ERR_UNSUPPORTED). */
UPT_NODISCARD UPT_API int upt_pubkey_json(char **out, size_t *out_len, const struct upt_key *key,
					  enum upt_dialect dialect, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_privkey_keyid(char *out /* UPT_KEYID_MAX + 1 */,
					    const struct upt_privkey *key, enum upt_dialect dialect,
					    struct upt_error *err);

UPT_API enum upt_key_type upt_privkey_type(const struct upt_privkey *key);

/* Fill a signer for libuptake's signing helper. `keyid` must stay valid as
 * long as the signer is used. */
UPT_API void upt_privkey_signer(struct upt_signer *out, struct upt_privkey *key, const char *keyid);

/* Sign raw bytes (the signer's sign function). */
UPT_NODISCARD UPT_API int upt_privkey_sign(struct upt_privkey *key, const uint8_t *msg,
					   size_t msg_len, uint8_t *sig, size_t cap,
					   size_t *sig_len);

/* Sign the JSON object text `signed_json` with `keys` (each under its key
 * id in `dialect`) into a signed document {"signatures":[...],"signed":...}:
 * NUL-terminated, upt_malloc'd into *out. */
#define UPT_SIGN_MAX_KEYS 32
UPT_NODISCARD UPT_API int upt_privkey_sign_document(char **out, size_t *out_len,
						    const char *signed_json,
						    struct upt_privkey *const *keys, size_t n,
						    enum upt_dialect dialect,
						    struct upt_error *err);

/* Accepts NULL. */
UPT_API void upt_privkey_free(struct upt_privkey *key);

#ifdef __cplusplus
}
#endif
#endif
