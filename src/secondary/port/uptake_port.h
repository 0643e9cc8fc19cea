/* uptake port: Uptane partial verification for a microcontroller ECU.
 *
 * A secondary that cannot hold the Image repository checks what the
 * primary hands it against the Director alone (Uptane "partial
 * verification"): the Director's root chain from the root it was
 * provisioned with, then the Director's targets metadata (signatures,
 * version never below the last accepted one, expiry), then its own entry
 * (its serial, its hardware id, a release counter not below the installed
 * image's, an image that fits its bank). The image is hashed while it
 * streams in and activated only when its length and every hash match.
 * The ECU signs its own version report with its own key.
 *
 * The port is sans-I/O and heap-free: the caller passes bytes in and gets
 * a verdict and a signed report out; flash, clock and crypto are reached
 * through struct upt_port_platform; all memory is the struct upt_port the
 * caller owns plus the arena buffer it gives (static on a microcontroller).
 * The same code runs on a host, where a secondary daemon can drive it.
 *
 * Trusted state is one fixed-size record kept in two flash slots: a new
 * record goes to the slot not holding the current one, body first and the
 * header (sequence number, SHA-256 checksum) last, so that a power loss at
 * any moment leaves either the old or the new record readable.
 */
#ifndef UPTAKE_PORT_H
#define UPTAKE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/arena.h>
#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- crypto, shaped like the PSA Crypto API ------------------------------
 *
 * Each function mirrors its psa_* namesake (argument order, sizes in and
 * out) and returns 0 (PSA_SUCCESS) or a negative status. A platform with
 * Trusted Firmware-M or Mbed TLS fills the table with thin wrappers
 * (verify_message imports the public key, or looks it up by value, and
 * calls psa_verify_message; sign_message uses the ECU key's id); targets
 * without one use upt_port_crypto_builtin(). The algorithm values are
 * PSA's. */
#define UPT_PORT_ALG_SHA_256    0x02000009u /* PSA_ALG_SHA_256 */
#define UPT_PORT_ALG_SHA_512    0x0200000bu /* PSA_ALG_SHA_512 */
#define UPT_PORT_ALG_PURE_EDDSA 0x06000800u /* PSA_ALG_PURE_EDDSA */

/* A caller-allocated hash operation (psa_hash_operation_t). */
struct upt_port_hash_op {
	uint64_t opaque[32];
};

struct upt_port_crypto {
	void *ctx;
	int (*hash_compute)(void *ctx, uint32_t alg, const uint8_t *input, size_t input_length,
			    uint8_t *hash, size_t hash_size, size_t *hash_length);
	int (*hash_setup)(void *ctx, struct upt_port_hash_op *op, uint32_t alg);
	int (*hash_update)(void *ctx, struct upt_port_hash_op *op, const uint8_t *input,
			   size_t input_length);
	int (*hash_finish)(void *ctx, struct upt_port_hash_op *op, uint8_t *hash, size_t hash_size,
			   size_t *hash_length);
	/* 0 only when `signature` is valid for `input` under the public key
	 * `key` (Ed25519: 32 bytes). */
	int (*verify_message)(void *ctx, const uint8_t *key, size_t key_length, uint32_t alg,
			      const uint8_t *input, size_t input_length, const uint8_t *signature,
			      size_t signature_length);
	/* Sign with the ECU's own key, which never leaves the platform. May
	 * be NULL: then no version report can be made. */
	int (*sign_message)(void *ctx, uint32_t alg, const uint8_t *input, size_t input_length,
			    uint8_t *signature, size_t signature_size, size_t *signature_length);
	/* The ECU key's public half (Ed25519: 32 bytes). */
	int (*export_public_key)(void *ctx, uint8_t *data, size_t data_size, size_t *data_length);
};

/* The built-in backend: the port's own SHA-256, SHA-512 and Ed25519.
 * `seed` is the ECU's 32-byte Ed25519 private key (NULL: verify only);
 * it is copied into *b, which must outlive the returned table. */
struct upt_port_builtin {
	uint8_t seed[32];
	uint8_t pub[32];
	bool has_key;
	struct upt_port_crypto table;
};
const struct upt_port_crypto *upt_port_crypto_builtin(struct upt_port_builtin *b,
						      const uint8_t *seed);
/* Wipe the key. */
void upt_port_crypto_builtin_dispose(struct upt_port_builtin *b);

/* ---- the platform ------------------------------------------------------- */

/* Bytes of one trusted-state slot: a header and the Director root. */
#ifndef UPT_PORT_ROOT_MAX
#define UPT_PORT_ROOT_MAX 6144u
#endif
#define UPT_PORT_HEADER_SIZE 320u
#define UPT_PORT_SLOT_SIZE   (UPT_PORT_HEADER_SIZE + UPT_PORT_ROOT_MAX)
/* Longest image name kept for the version report. */
#define UPT_PORT_NAME_MAX 127u
/* Largest Director targets file accepted. */
#ifndef UPT_PORT_TARGETS_MAX
#define UPT_PORT_TARGETS_MAX 16384u
#endif

struct upt_port_platform {
	void *ctx;
	/* Trusted state: slots 0 and 1, UPT_PORT_SLOT_SIZE bytes each (map
	 * each onto its own erase sector). 0 on success. A slot never
	 * written reads as anything (erased flash, noise): the checksum
	 * decides. */
	int (*slot_read)(void *ctx, unsigned slot, size_t offset, uint8_t *buf, size_t len);
	int (*slot_erase)(void *ctx, unsigned slot);
	int (*slot_write)(void *ctx, unsigned slot, size_t offset, const uint8_t *buf, size_t len);
	/* The inactive image bank: begin (erase) for an image of `length`
	 * bytes, write in order, then activate (boot it next) or discard. The
	 * port calls activate only after every check passed. */
	int (*image_begin)(void *ctx, uint64_t length);
	int (*image_write)(void *ctx, uint64_t offset, const uint8_t *buf, size_t len);
	int (*image_activate)(void *ctx);
	int (*image_discard)(void *ctx);
	/* Seconds since the epoch from a clock the ECU trusts. */
	int64_t (*now)(void *ctx);
	const struct upt_port_crypto *crypto;
};

/* What the ECU is. */
struct upt_port_config {
	const char *ecu_serial;
	const char *hardware_id;
	uint64_t image_max; /* bytes of the image bank */
};

/* ---- state -------------------------------------------------------------- */

/* The trusted record (one slot). */
struct upt_port_record {
	uint32_t sequence;
	uint32_t root_len;
	int64_t targets_version; /* highest Director targets version accepted */
	bool has_installed;
	uint64_t installed_length;
	bool has_sha256, has_sha512;
	uint8_t installed_sha256[32];
	uint8_t installed_sha512[64];
	int64_t installed_release_counter; /* -1: none */
	uint64_t report_counter;
	char installed_name[UPT_PORT_NAME_MAX + 1];
};

/* What the Director's targets say for this ECU, after verification. */
struct upt_port_verdict {
	bool assigned;  /* an image is assigned to this ECU */
	bool installed; /* ...and it already runs it */
	char name[UPT_PORT_NAME_MAX + 1];
	uint64_t length;
	bool has_sha256, has_sha512;
	uint8_t sha256[32];
	uint8_t sha512[64];
	int64_t release_counter; /* -1: none */
};

/* Director metadata as the primary hands it over (IP-Uptane putMetaReq2
 * and putRootReq): the roots newer than the trusted one, in ascending
 * order from the version after it (none when the root did not change),
 * and the targets. The bytes stay the caller's; they are read during the call
 * only. */
struct upt_port_blob {
	const uint8_t *data;
	size_t len;
};
#define UPT_PORT_MAX_ROOTS 8
struct upt_port_metadata {
	struct upt_port_blob roots[UPT_PORT_MAX_ROOTS];
	size_t n_roots;
	struct upt_port_blob targets;
};

enum upt_port_phase {
	UPT_PORT_UNPROVISIONED = 0,
	UPT_PORT_IDLE,     /* trusted state loaded, nothing pending */
	UPT_PORT_VERIFIED, /* a new image is assigned and may stream in */
	UPT_PORT_RECEIVING,
};

struct upt_port {
	const struct upt_port_platform *pf;
	struct upt_port_config cfg;
	struct upt_arena arena;
	enum upt_port_phase phase;
	struct upt_port_record rec;
	unsigned slot; /* where rec lives */
	struct upt_port_verdict pending;
	uint64_t received;
	struct upt_port_hash_op h256, h512;
	char attack[UPT_ERROR_MSG_MAX]; /* last refusal, for the report */
};

/* ---- entry points ------------------------------------------------------- */

/* Set up `p` with `arena_mem` (cap bytes, about 26 KiB for the metadata
 * the tests use) and load the trusted record. UPT_OK with p->phase
 * UPT_PORT_UNPROVISIONED when neither slot holds a valid record. */
UPT_NODISCARD int upt_port_init(struct upt_port *p, const struct upt_port_platform *pf,
				const struct upt_port_config *cfg, void *arena_mem, size_t cap,
				struct upt_error *err);

/* Provisioning (factory): the Director root the ECU starts from, checked
 * against its own threshold, written as the first record with the factory
 * image (`factory`, may be NULL: nothing installed). Refused when a record
 * exists. */
UPT_NODISCARD int upt_port_provision(struct upt_port *p, const uint8_t *root, size_t len,
				     const struct upt_port_verdict *factory, struct upt_error *err);

/* Partial verification of `md` at the platform's time. On UPT_OK *out
 * says what is assigned; a new image moves the port to
 * UPT_PORT_VERIFIED. A newer root that verified is kept even when the
 * targets then fail. On error nothing is assigned and err names the check. */
UPT_NODISCARD int upt_port_verify_metadata(struct upt_port *p, const struct upt_port_metadata *md,
					   struct upt_port_verdict *out, struct upt_error *err);

/* Stream the assigned image: begin, write chunks in order, finish. Any
 * byte beyond the assigned length is refused at once. finish checks the
 * length and every hash and only then activates the image and records
 * it as installed. Any failure discards the staged image. */
UPT_NODISCARD int upt_port_image_begin(struct upt_port *p, struct upt_error *err);
UPT_NODISCARD int upt_port_image_write(struct upt_port *p, const uint8_t *data, size_t len,
				       struct upt_error *err);
UPT_NODISCARD int upt_port_image_finish(struct upt_port *p, struct upt_error *err);

/* The ECU's signed version report (Uptane 5.4.2.1, aktualizr's JSON
 * shape), with a report counter that goes up with every report (it is
 * recorded before the report is released). */
UPT_NODISCARD int upt_port_version_report(struct upt_port *p, uint8_t *out, size_t cap,
					  size_t *out_len, struct upt_error *err);

/* ---- the trusted record, for tests and tools ---------------------------- */

/* Parse one slot's bytes. UPT_OK only for a complete, checksummed record;
 * *root points into `slot`. */
UPT_NODISCARD int upt_port_record_parse(struct upt_port_record *out, const uint8_t **root,
					const uint8_t *slot, size_t len,
					const struct upt_port_crypto *crypto);

#ifdef __cplusplus
}
#endif
#endif
