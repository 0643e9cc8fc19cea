/* uptake: TUF and Uptane metadata: signed envelopes, the four top-level
 * roles and delegated targets, threshold verification and signing.
 *
 * Parse, then verify, then use: upt_doc_parse() splits a document into
 * its signatures and the canonical bytes of `signed`; upt_doc_verify()
 * checks a role's threshold over those bytes; the role parsers turn
 * `signed` into the structs below. Unknown fields inside `signed` are
 * covered by the signature but otherwise ignored; known fields of the wrong
 * type are errors naming the field's path.
 *
 * Two dialects are read: TUF 1.0 (lower-case _type, spec_version, keys with
 * a scheme, hex signatures {keyid, sig}) and the aktualizr dialect
 * (capitalised _type, signatures {keyid, method, sig} in base64, keytypes
 * ED25519/RSA). Checks are equally strict in both.
 */
#ifndef UPTAKE_METADATA_H
#define UPTAKE_METADATA_H

#include <stdbool.h>
#include <uptake/key.h>

#ifdef __cplusplus
extern "C" {
#endif

enum upt_role {
	UPT_ROLE_ROOT = 1,
	UPT_ROLE_TARGETS = 2,
	UPT_ROLE_SNAPSHOT = 3,
	UPT_ROLE_TIMESTAMP = 4,
};

/* Highest spec_version major understood. */
#define UPT_SPEC_MAJOR 1
/* Default bounds on what a role may contain. */
#define UPT_MAX_KEYS       1024
#define UPT_MAX_SIGNATURES 1024

struct upt_signature {
	const char *keyid;
	const uint8_t *sig; /* decoded bytes; NULL when malformed */
	size_t sig_len;
	const char *method; /* aktualizr dialect: "ed25519", "rsassa-pss"... */
};

/* A parsed, not yet verified, signed document. */
struct upt_doc {
	const char *name; /* for messages, e.g. "director targets.json" */
	const struct upt_json *json;
	const struct upt_json *signed_json;
	const uint8_t *canonical; /* canonical JSON of `signed` */
	size_t canonical_len;
	struct upt_signature *sigs;
	size_t n_sigs;
	enum upt_role role; /* from signed._type */
	enum upt_dialect dialect;
};

/* A role's signing rule: the key ids that may sign and how many must. For
 * delegated roles also the paths it is trusted for. */
struct upt_role_keys {
	const char *name;
	const char **keyids;
	size_t n_keyids;
	uint32_t threshold;
	bool terminating;
	const char **paths; /* NULL when path_hash_prefixes are used */
	size_t n_paths;
	const char **path_hash_prefixes;
	size_t n_path_hash_prefixes;
};

struct upt_hashes {
	bool has_sha256;
	bool has_sha512;
	uint8_t sha256[UPT_SHA256_LEN];
	uint8_t sha512[UPT_SHA512_LEN];
};

struct upt_meta_common {
	enum upt_role role;
	enum upt_dialect dialect;
	const char *spec_version; /* NULL when absent (aktualizr dialect) */
	int64_t version;
	int64_t expires; /* seconds since the epoch, UTC */
};

struct upt_root {
	struct upt_meta_common c;
	bool consistent_snapshot;
	struct upt_key *keys; /* sorted by keyid */
	size_t n_keys;
	/* indexed by enum upt_role - 1. An aktualizr-dialect root may define
	 * only root and targets (aktualizr's Director): then the snapshot and
	 * timestamp entries have threshold 0 and sign nothing. */
	struct upt_role_keys roles[4];
};

struct upt_ecu_target {
	const char *ecu_serial;
	const char *hardware_id;
};

struct upt_target {
	const char *name;
	int64_t length;
	struct upt_hashes hashes;
	/* Uptane custom fields, from "custom" (all optional). */
	const char **hardware_ids; /* custom.hardwareIds */
	size_t n_hardware_ids;
	struct upt_ecu_target *ecus; /* custom.ecuIdentifiers */
	size_t n_ecus;
	bool has_release_counter;
	int64_t release_counter; /* custom.releaseCounter */
	const char *uri;         /* custom.uri */
	const struct upt_json *custom;
};

struct upt_targets {
	struct upt_meta_common c;
	struct upt_target *targets; /* sorted by name */
	size_t n_targets;
	bool has_delegations;
	struct upt_key *keys; /* delegations.keys, sorted by keyid */
	size_t n_keys;
	struct upt_role_keys *roles; /* delegations.roles, in priority order */
	size_t n_roles;
};

struct upt_meta_file {
	const char *name; /* e.g. "targets.json" */
	int64_t version;
	int64_t length; /* -1 when absent */
	struct upt_hashes hashes;
};

struct upt_snapshot {
	struct upt_meta_common c;
	struct upt_meta_file *meta; /* sorted by name */
	size_t n_meta;
};

struct upt_timestamp {
	struct upt_meta_common c;
	struct upt_meta_file snapshot; /* meta["snapshot.json"] */
};

/* Split a signed document. `max_len` bounds the input (0: the JSON
 * default). `name` is used in error messages and kept in out->name. */
UPT_NODISCARD UPT_API int upt_doc_parse(struct upt_doc *out, struct upt_arena *a, const uint8_t *in,
					size_t len, size_t max_len, const char *name,
					struct upt_error *err);

/* The same envelope checks for a signed document that is not TUF metadata
 * (an ECU version report, a vehicle version manifest), already parsed:
 * doc->role stays 0. */
UPT_NODISCARD UPT_API int upt_doc_from_json(struct upt_doc *out, struct upt_arena *a,
					    const struct upt_json *json, const char *name,
					    struct upt_error *err);

/* Count the valid signatures of `role`'s keys over doc->canonical. Each
 * key (by key id and by key material) counts once; signatures by unknown
 * keys, malformed signatures and signatures that do not verify never
 * count. Returns UPT_OK only when at least role->threshold verified;
 * *n_valid (may be NULL) receives the count. */
UPT_NODISCARD UPT_API int upt_doc_verify(const struct upt_doc *doc, const struct upt_key *keys,
					 size_t n_keys, const struct upt_role_keys *role,
					 const struct upt_crypto *crypto, uint32_t *n_valid,
					 struct upt_error *err);

/* Role parsers: read doc->signed_json into out (memory from `a`). They
 * check _type, spec_version (major UPT_SPEC_MAJOR), version >= 1 and
 * expires syntax, not signatures or time. */
UPT_NODISCARD UPT_API int upt_root_parse(struct upt_root *out, struct upt_arena *a,
					 const struct upt_doc *doc, const struct upt_crypto *crypto,
					 struct upt_error *err);
UPT_NODISCARD UPT_API int upt_targets_parse(struct upt_targets *out, struct upt_arena *a,
					    const struct upt_doc *doc,
					    const struct upt_crypto *crypto, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_snapshot_parse(struct upt_snapshot *out, struct upt_arena *a,
					     const struct upt_doc *doc, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_timestamp_parse(struct upt_timestamp *out, struct upt_arena *a,
					      const struct upt_doc *doc, struct upt_error *err);

/* Parse root metadata and verify it is signed by its own root threshold
 * (the check made on a trusted or a newly rotated root). */
UPT_NODISCARD UPT_API int upt_root_verify_self(struct upt_root *out, struct upt_arena *a,
					       const struct upt_doc *doc,
					       const struct upt_crypto *crypto,
					       struct upt_error *err);

/* Look-ups (binary search). NULL when absent. */
UPT_API const struct upt_target *upt_targets_find(const struct upt_targets *t, const char *name);
UPT_API const struct upt_meta_file *upt_snapshot_find(const struct upt_snapshot *s,
						      const char *name);
UPT_API const struct upt_key *upt_keys_find(const struct upt_key *keys, size_t n,
					    const char *keyid);

/* ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" <-> seconds since the epoch. */
UPT_NODISCARD UPT_API int upt_time_parse(int64_t *out, const char *s, size_t len);
/* out holds at least 21 bytes. */
UPT_NODISCARD UPT_API int upt_time_format(char *out, size_t cap, int64_t t);

/* Role names: "root", "targets", ... (TUF dialect spelling). */
UPT_API const char *upt_role_name(enum upt_role role);

/* Sign the object `signed_json` with every signer and write the document
 * {"signatures":[...],"signed":{...}} in canonical JSON to out[0..cap).
 * The aktualizr dialect writes {keyid, method, sig} with base64 sig; TUF
 * writes {keyid, sig} with hex sig. `scratch` holds temporary buffers. */
UPT_NODISCARD UPT_API int upt_doc_sign(uint8_t *out, size_t cap, size_t *out_len,
				       const struct upt_json *signed_json,
				       const struct upt_signer *signers, size_t n_signers,
				       enum upt_dialect dialect, struct upt_arena *scratch,
				       struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
