/* uptake-agent: the update client on a device's primary computer. One
 * module per concern:
 *   log.c        the log line
 *   config.c     the configuration file
 *   boot.c       the boot environment (U-Boot, GRUB, simulated)
 *   state.c      the files in state_dir (slot records, report counter...)
 *   health.c     health checks and the install script
 * (log, boot, state and health are the install and bootloader backends,
 * library uptake_boot_lib, which uptake-secondary links too)
 *   request.c    requests to the server (registration, manifests)
 *   provision.c  first start: roots, ECU key, registration, fleet credential
 *   report.c     the signed version manifest
 *   cycle.c      one update cycle, as steps per ECU
 *   secondary.c  the link to a secondary (IP-Uptane, aktualizr's protocol)
 *   wait.c       start-up: secondaries that start late, on the wait port
 *   secondaries.c  a secondary's part of a cycle: its key and last report,
 *                metadata, image and install over the link
 *   json_out.c   JSON that leaves the agent, through libuptake's writer
 *   check.c      `uptake-agent check`: one verification, nothing installed
 *   support.c    the signed support end, and the notify_dir hooks
 *   status.c     `uptake-agent status`: the device's state
 * Every parser of bytes from outside (the configuration, the boot
 * environments, the state files, the PKCS#12 answer) has a parse-from-bytes
 * entry point, fuzzed in fuzz/fuzz_agent_*.c. */
#ifndef UPTAKE_AGENT_H
#define UPTAKE_AGENT_H

#include "backends.h"

#define AGENT_CONFIG_MAX ((size_t)1 << 20)

/* Parse the configuration text `data` (`name` is for messages): every
 * line `key = value` or a comment; unknown keys, bad values and a NUL byte
 * are refused with the line. *c is valid only on UPT_OK. */
int agent_config_parse(struct agent_config *c, const char *name, const uint8_t *data, size_t len,
		       struct upt_error *err);
int agent_config_load(struct agent_config *c, const char *path, struct upt_error *err);

/* ---- dm-verity slots (verity.c) ------------------------------------------- */
struct verity_params {
	bool present; /* the target has custom.verity */
	size_t data_block_size, hash_block_size;
	int64_t data_blocks, hash_offset;
	uint8_t root[32];
	uint8_t salt[VERITY_SALT_MAX];
	size_t salt_len;
};
/* A target's custom.verity (none: *p zeroed, UPT_OK), checked strictly
 * against the target's signed `length`. */
struct upt_json;
int verity_parse(struct verity_params *p, const struct upt_json *custom, int64_t length,
		 struct upt_error *err);
/* Bytes of the hash tree (every level), -1 when it has too many levels. */
int64_t verity_tree_size(const struct verity_params *p);
/* The tree rebuilt from the data blocks in `slot` equals the tree written
 * there and has the signed root hash. */
int verity_check(const char *slot, const struct verity_params *p, struct upt_error *err);
/* "ROOT,SALT,DATA_BLOCK,HASH_BLOCK,DATA_BLOCKS,HASH_OFFSET": what the boot
 * script passes to the initramfs (uptake_verity_a/b). */
int verity_env_value(char *out, size_t cap, const struct verity_params *p);

/* ---- requests to the server (request.c) ---------------------------------- */
/* METHOD server/PATH with a JSON body; a status outside 2xx is UPT_ERR_IO
 * with the status and the server's reason. */
int agent_request(const struct agent_config *c, const char *method, const char *path,
		  const char *body, struct upt_error *err);

/* ---- provisioning (provision.c) ------------------------------------------ */
/* The answer of shared-credential provisioning: a PKCS#12 bundle (DER, no
 * password) of this device's key and certificate. The certificate must be
 * for that key, and its common name `device_id` (when not NULL). On UPT_OK
 * *key_pem and *cert_pem are malloc'd PEM (the key wiped by the caller). */
int agent_p12_parse(const uint8_t *der, size_t len, const char *device_id, char **key_pem,
		    size_t *key_len, char **cert_pem, size_t *cert_len, struct upt_error *err);
/* First start: trusted roots, an ECU key made here (never sent), and the
 * ECU registered with the Director. Idempotent across restarts. */
int agent_provision(const struct agent_config *c, struct upt_error *err);
/* Keep a trusted root also by its version, as REPO/roots/N.root.json
 * (repo "director" or "image"): the chain handed to secondaries. */
int agent_keep_root(const struct agent_config *c, const char *repo, const uint8_t *data, size_t len,
		    struct upt_error *err);

/* ---- the signed report (report.c) ---------------------------------------- */
/* Report what the running slot holds, with `attack` (may be NULL), every
 * secondary's last report, and every install outcome not yet reported, one installation
 * report per ECU with its correlation id: a pending install result of the primary
 * (state_dir/install.result, see agent_install_result, removed once the server took it) and
 * (secs, may be NULL) each secondary updated or tried this cycle. */
struct sec_cycle;
int agent_report(const struct agent_config *c, const struct slot_info *running, const char *attack,
		 const struct sec_cycle *secs, size_t n_secs, struct upt_error *err);
/* Record how the install under the Director's correlation id
 * (state_dir/install.cid, written at install) went, for the next report:
 * "CID\nok\n" or "CID\nfailed\nCODE\n". Nothing without a correlation id. */
int agent_install_result(const struct agent_config *c, bool success, const char *code,
			 struct upt_error *err);
/* The pending install result: the correlation id (at most 256 bytes, no
 * control bytes or quotes), success, and the code. */
struct install_result {
	char cid[257];
	bool success;
	bool downloaded; /* download only: fetched and verified, not installed (success too) */
	char code[64];
};
int agent_install_result_parse(struct install_result *r, const uint8_t *data, size_t len,
			       struct upt_error *err);

/* ---- one cycle (cycle.c) ------------------------------------------------- */
/* 0 done, 1 failed, EXIT_REBOOT a reboot is needed. */
int agent_cycle(const struct agent_config *c);

/* ---- the link to a secondary (secondary.c) --------------------------------
 * aktualizr's IP-Uptane protocol, version 2, as the primary: every call one
 * TCP connection, within secondary_timeout seconds (an install within
 * secondary_install_timeout). UPT_OK means the exchange happened: a
 * secondary's verdict is in its sec_result (code: enum upt_ipu_result_code,
 * UPT_IPU_RESULT_OK = 0). */
struct sec_info {
	char serial[128], hardware_id[128];
	char *key_json; /* its public key as a TUF key object (upt_malloc'd) */
};
struct sec_result {
	int32_t code;
	char description[256]; /* the secondary's, printable ASCII */
};
struct upt_ipu_put_meta_req2;
/* getInfo: the serial and hardware id must be the configured ones. */
int sec_get_info(struct sec_info *out, const struct agent_config *c,
		 const struct agent_secondary *s, struct upt_error *err);
/* The same on `fd`, a connection the secondary opened (the wait port);
 * -1: a connection of its own. */
int sec_get_info_on(struct sec_info *out, const struct agent_config *c,
		    const struct agent_secondary *s, int fd, struct upt_error *err);
void sec_info_dispose(struct sec_info *info);
/* Start-up (wait.c): a configured secondary that has no registered key
 * yet and does not answer is waited for on secondaries_wait_port, at
 * most secondaries_wait_timeout seconds: a connection from its configured
 * address and port is served getInfo (serial and hardware id checked),
 * then it is waited for at its own port. Those that do not come are left
 * to the cycle, which reports them down. */
void sec_wait(const struct agent_config *c);
/* version: the secondary must speak version 2. */
int sec_version(const struct agent_config *c, const struct agent_secondary *s,
		struct upt_error *err);
/* manifest: its signed version report (malloc'd, NUL-terminated). */
int sec_manifest(char **json, size_t *len, const struct agent_config *c,
		 const struct agent_secondary *s, struct upt_error *err);
/* rootVer: the version of the root it trusts (0: none). */
int sec_root_version(int64_t *version, const struct agent_config *c,
		     const struct agent_secondary *s, bool director, struct upt_error *err);
int sec_put_root(struct sec_result *r, const struct agent_config *c,
		 const struct agent_secondary *s, bool director, const uint8_t *json, size_t len,
		 struct upt_error *err);
int sec_put_meta(struct sec_result *r, const struct agent_config *c,
		 const struct agent_secondary *s, const struct upt_ipu_put_meta_req2 *meta,
		 struct upt_error *err);
/* uploadData: the file in 1024-byte chunks, `length` bytes; stops at the
 * first chunk whose result is not OK (r says which). */
int sec_upload(struct sec_result *r, const struct agent_config *c, const struct agent_secondary *s,
	       const char *path, int64_t length, struct upt_error *err);
/* install: `target` is the target's file name (aktualizr's field `hash`). */
int sec_install(struct sec_result *r, const struct agent_config *c, const struct agent_secondary *s,
		const char *target, struct upt_error *err);
/* aktualizr's name of a result code ("OK", "VERIFICATION_FAILED"...). */
const char *sec_result_name(int32_t code);

/* ---- a secondary's part of the cycle (secondaries.c) --------------------- */
struct upt_update;
struct sec_cycle {
	const struct agent_secondary *s;
	bool has_report;            /* a verified report of it is kept */
	bool fresh;                 /* ... collected this cycle */
	struct slot_info installed; /* what that report says it runs */
	/* this cycle's update, for the manifest's installation report */
	bool attempted, success;
	char target[256], correlation_id[257], code[32], description[512];
};
/* state_dir/secondaries/ID.EXT, ID from the serial's SHA-256. */
void sec_state_path(char *out, size_t cap, const struct agent_config *c,
		    const struct agent_secondary *s, const char *ext);
/* Registration: getInfo from every secondary, each key kept; keys[i]
 * (upt_malloc'd TUF key objects) on UPT_OK. */
int sec_keys(char **keys, const struct agent_config *c, struct upt_error *err);
/* What is known of `s` at the start of a cycle (its kept report). */
void sec_load(struct sec_cycle *e, const struct agent_config *c, const struct agent_secondary *s);
/* Hand the verified update `u` to the secondary: its metadata, the bytes
 * of `bytes` (u->image; another image only in the test mode of a
 * compromised primary), install u's target. The outcome lands in *e.
 * director_root and image_root: the primary's trusted root versions. */
struct upt_target;
void sec_update(struct sec_cycle *e, const struct agent_config *c, const struct upt_update *u,
		const struct upt_target *bytes, int64_t director_root, int64_t image_root);
/* Its new signed report, kept once it verified. */
void sec_collect(struct sec_cycle *e, const struct agent_config *c);

/* ---- JSON out (json_out.c) ---------------------------------------------- */
/* Fill node `v` (member `key` of an object, or NULL) and return it. An
 * object's items must come in bytewise key order. A NULL string is null. */
struct upt_json;
struct upt_json *agent_json_str(struct upt_json *v, const char *key, const char *s);
struct upt_json *agent_json_int(struct upt_json *v, const char *key, int64_t i);
struct upt_json *agent_json_bool(struct upt_json *v, const char *key, bool b);
struct upt_json *agent_json_obj(struct upt_json *v, const char *key, struct upt_json **items,
				size_t n);
struct upt_json *agent_json_arr(struct upt_json *v, const char *key, struct upt_json **items,
				size_t n);
/* The tree as JSON text (libuptake's writer), malloc'd and NUL-terminated. */
int agent_json_text(char **out, const struct upt_json *v, struct upt_error *err);

/* ---- support end and notification (support.c) ----------------------------
 * state_dir/support: "YYYY-MM-DD\nPRODUCT\n" as the Director's verified
 * targets said (empty: no support end). state_dir/notified: "EVENT END"
 * lines, the events whose hooks all ran. */
struct agent_support {
	char end[11]; /* "" when the Director names none */
	char product[128];
	int64_t end_day; /* days since the epoch */
};
/* A date YYYY-MM-DD that exists: its day number. */
int agent_date_parse(const char *s, int64_t *day);
int agent_support_parse(struct agent_support *s, const uint8_t *data, size_t len,
			struct upt_error *err);
void agent_support_load(const struct agent_config *c, struct agent_support *s);
/* After full verification: take signed.custom.support_end and .product
 * from the Director targets just verified (`version`) into state_dir. */
int agent_support_learn(const struct agent_config *c, int64_t version, struct upt_error *err);
/* "unknown", "in-support", "ending" (within support_notify_days) or
 * "ended" (the end day has come), as of `now`; *days_left till the end. */
const char *agent_support_status(const struct agent_config *c, const struct agent_support *s,
				 int64_t now, int64_t *days_left);
/* Run every executable in notify_dir (name order, health_timeout each)
 * with UPTAKE_EVENT=support-ending|support-ended, UPTAKE_SUPPORT_END,
 * UPTAKE_SUPPORT_DAYS_LEFT, UPTAKE_PRODUCT, UPTAKE_PRIMARY_SERIAL, once per
 * event and support end: remembered when every hook exited 0 (a failing
 * one makes the next cycle try again). 0 done or nothing due, -1 failed. */
int agent_support_notify(const struct agent_config *c, int64_t now);

/* ---- status (status.c) --------------------------------------------------- */
int agent_status(const struct agent_config *c, bool json);

/* ---- check (check.c) ----------------------------------------------------- */
int agent_check_main(int argc, char **argv);

#endif
