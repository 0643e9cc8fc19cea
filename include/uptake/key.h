/* uptake: TUF key objects, key IDs and single-signature verification.
 *
 * Accepted key objects (TUF 1.0 and the aktualizr dialect):
 *   {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":HEX64}}
 *   {"keytype":"ecdsa"|"ecdsa-sha2-nistp256","scheme":"ecdsa-sha2-nistp256",
 *    "keyval":{"public":PEM}}
 *   {"keytype":"rsa","scheme":"rsassa-pss-sha256","keyval":{"public":PEM}}
 *   {"keytype":"ED25519","keyval":{"public":HEX64}}     (aktualizr)
 *   {"keytype":"RSA","keyval":{"public":PEM}}           (aktualizr)
 * and, in aktualizr-dialect metadata only (upt_key_parse_dialect),
 *   {"keytype":"ed25519","keyval":{"public":HEX64}}     (no scheme)
 * Anything else is rejected with UPT_ERR_KEY.
 */
#ifndef UPTAKE_KEY_H
#define UPTAKE_KEY_H

#include <uptake/arena.h>
#include <uptake/crypto.h>
#include <uptake/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The two metadata dialects (see uptake/metadata.h). */
enum upt_dialect {
	UPT_DIALECT_TUF = 1,       /* TUF 1.0: "_type":"root", hex signatures */
	UPT_DIALECT_AKTUALIZR = 2, /* "_type":"Root", base64 signatures */
};

/* Key IDs are at most this many characters (SHA-256 hex is 64). */
#define UPT_KEYID_MAX 64

struct upt_key {
	const char *keyid; /* as named by the metadata that lists the key */
	enum upt_key_type type;
	enum upt_sig_scheme scheme;
	const uint8_t *pub; /* Ed25519: 32 raw bytes; others: DER SPKI */
	size_t pub_len;
};

/* Parse a key object. `keyid` is the id the metadata gives it (copied into
 * the arena). With a non-NULL crypto->check_key the key material is
 * checked too. */
UPT_NODISCARD UPT_API int upt_key_parse(struct upt_key *out, struct upt_arena *a, const char *keyid,
					const struct upt_json *obj, const struct upt_crypto *crypto,
					struct upt_error *err);

/* The same for a key object listed by metadata of `dialect`
 * `dialect`: the aktualizr dialect also takes a lower-case
 * ed25519 key without "scheme"; the TUF dialect keeps requiring it.
 * upt_key_parse is this with the TUF dialect. */
UPT_NODISCARD UPT_API int upt_key_parse_dialect(struct upt_key *out, struct upt_arena *a,
						const char *keyid, const struct upt_json *obj,
						enum upt_dialect dialect,
						const struct upt_crypto *crypto,
						struct upt_error *err);

/* The TUF key id of a key object: lower-case hex SHA-256 of its canonical
 * JSON. out holds UPT_KEYID_MAX + 1 bytes. */
UPT_NODISCARD UPT_API int upt_key_compute_keyid(char *out, const struct upt_json *obj,
						struct upt_arena *scratch,
						const struct upt_crypto *crypto,
						struct upt_error *err);

/* Verify one raw signature with `key`. UPT_OK only when it verified. */
UPT_NODISCARD UPT_API int upt_key_verify(const struct upt_key *key, const struct upt_crypto *crypto,
					 const uint8_t *msg, size_t msg_len, const uint8_t *sig,
					 size_t sig_len);

/* Names used in metadata. */
UPT_API const char *upt_key_type_name(enum upt_key_type type);
UPT_API const char *upt_scheme_name(enum upt_sig_scheme scheme);

#ifdef __cplusplus
}
#endif
#endif
