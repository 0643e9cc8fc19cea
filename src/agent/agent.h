/* uptake-agent: the update client on a device's primary computer. One
 * module per concern:
 *   log.c        the log line
 *   config.c     the configuration file
 *   boot.c       the boot environment (U-Boot, GRUB, simulated)
 *   state.c      the files in state_dir (slot records, report counter...)
 *   request.c    requests to the server (registration, manifests)
 *   provision.c  first start: roots, ECU key, registration, fleet credential
 *   health.c     health checks and the install script
 *   report.c     the signed version manifest
 *   cycle.c      one update cycle, as steps per ECU
 *   secondary.c  the link to a secondary (IP-Uptane, aktualizr's protocol)
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/common.h>

#define AGENT_PATH  1024
#define EXIT_REBOOT 3
/* the server's answer to a registration, a manifest or provisioning (a
 * PKCS#12 bundle): small, and bounded so that its deadline is short */
#define AGENT_REPLY_MAX ((size_t)64 << 10)
/* dm-verity slots (verity.c): the salt, the tree's depth and size, and the
 * boot environment's value of a slot's parameters are bounded */
#define VERITY_SALT_MAX   64
#define VERITY_LEVELS_MAX 16
#define VERITY_TREE_MAX   ((int64_t)256 << 20)
#define VERITY_ENV_MAX    (64 + 2 * VERITY_SALT_MAX + 64)

/* A secondary ECU the primary updates over IP-Uptane (secondary.c): one
 * `secondary = ADDRESS PORT SERIAL HARDWARE_ID full|partial` line each. */
#define AGENT_SECONDARIES_MAX 32
struct agent_secondary {
	char address[256]; /* a host name or an IPv4/IPv6 address */
	int port;
	char serial[128], hardware_id[128];
	bool partial; /* partial verification: it gets the Director's metadata only */
};

struct agent_config {
	char server[512];
	char ca[AGENT_PATH], cert[AGENT_PATH], key[AGENT_PATH];
	char state_dir[AGENT_PATH];
	/* shared-credential provisioning: when cert and key do not exist yet,
	 * the fleet credential gets them for device_id (POST /devices) */
	char fleet_cert[AGENT_PATH], fleet_key[AGENT_PATH], device_id[128];
	char director_root[AGENT_PATH], image_root[AGENT_PATH];
	char primary_serial[128], hardware_id[128];
	char install[16];                /* "ab", "file" or "script" */
	char install_script[AGENT_PATH]; /* script: gets the verified image path */
	char slot[2][AGENT_PATH];        /* ab: the two slots; file: slot[0] is the target path */
	char bootloader[16];             /* "sim", "uboot" (libubootenv) or "grub" */
	char uboot_config[AGENT_PATH];   /* fw_env.config */
	char grub_env[AGENT_PATH];       /* the grubenv file */
	int boot_limit;
	char health_dir[AGENT_PATH];
	int health_timeout;   /* seconds per check */
	int interval, jitter; /* seconds */
	bool auto_update;
	int64_t postpone_until;    /* auto updates wait until then (0: no wait) */
	int64_t max_download_rate; /* bytes per second, 0: no limit */
	/* every request's total deadline: deadline_base seconds plus the bytes
	 * it may carry (a metadata file's bound, an image's trusted length)
	 * at min_download_rate bytes per second */
	int deadline_base;
	int64_t min_download_rate;
	struct agent_secondary secondary[AGENT_SECONDARIES_MAX];
	size_t n_secondaries;
	int secondary_timeout;         /* seconds: one exchange with a secondary */
	int secondary_install_timeout; /* seconds: an install's exchange */
	/* refuse a target without custom.verity (verity = required) */
	bool verity_required;
	/* CRA Art. 13(19): executables run when the signed support end is
	 * within support_notify_days days, and when it has passed */
	char notify_dir[AGENT_PATH];
	int support_notify_days;
};

#define AGENT_CONFIG_MAX ((size_t)1 << 20)

/* Parse the configuration text `data` (`name` is for messages): every
 * line `key = value` or a comment; unknown keys, bad values and a NUL byte
 * are refused with the line. *c is valid only on UPT_OK. */
int agent_config_parse(struct agent_config *c, const char *name, const uint8_t *data, size_t len,
		       struct upt_error *err);
int agent_config_load(struct agent_config *c, const char *path, struct upt_error *err);

/* ---- boot environment (boot.c) -------------------------------------------
 * The simulated bootloader: U-Boot's boot-count semantics in a file
 * (state_dir/bootenv). A new slot is tried boot_limit times; if it is not
 * committed by then, the next boot falls back to the previous slot. */
struct bootenv {
	int active; /* 0: slot a, 1: slot b */
	int previous;
	bool upgrade_available;
	int bootcount;
	int boot_limit;
	bool fell_back; /* set by the bootloader when it abandoned a slot */
	/* uboot: each slot's dm-verity parameters (empty: opened without) */
	char verity[2][VERITY_ENV_MAX];
};
#define BOOTENV_COUNT_MAX 100000 /* a bootcount above this is not believed */
/* One variable of the boot environment: ours are checked strictly (a slot
 * is "a" or "b", a flag "0" or "1", a count decimal), others are ignored.
 * `sim`: the simulated file's names (active, previous) instead of the
 * bootloaders' (uptake_slot, uptake_prev). */
int bootenv_set(struct bootenv *b, bool sim, const char *key, const char *value,
		struct upt_error *err);
/* The simulated environment file: "key=value" lines, our keys only. */
int bootenv_parse_sim(struct bootenv *b, const uint8_t *data, size_t len, struct upt_error *err);
/* A GRUB environment block: the header line, "key=value" lines and '#'
 * lines; `vars` gets the variables as NUL-separated "k=v" strings (ending
 * in an empty one), at most `cap` bytes. */
int bootenv_parse_grub(char *vars, size_t cap, const uint8_t *data, size_t len, const char *name,
		       struct upt_error *err);
int bootenv_from_grub_vars(struct bootenv *b, const char *vars, struct upt_error *err);
/* The boot environment through the configured bootloader backend. */
int boot_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err);
int boot_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err);
/* Power-on: count the try, fall back when the count is spent. */
int boot_power_on(const struct agent_config *c, struct upt_error *err);

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

/* ---- state_dir (state.c) ------------------------------------------------- */
struct slot_info {
	char name[256];
	int64_t length;
	char sha256[65];
};
#define STATE_SMALL_MAX 8192 /* every small state file is at most this long */

void state_path(char *out, size_t cap, const struct agent_config *c, const char *name);
/* Read state_dir/name (at most cap - 1 bytes, NUL-terminated): 0, -1
 * when it is missing, -2 when it is too long or cannot be read. */
int state_read(const struct agent_config *c, const char *name, char *out, size_t cap);
int state_write(const struct agent_config *c, const char *name, const char *text,
		struct upt_error *err);
/* A slot record: "NAME LENGTH SHA256\n" (the name may hold spaces, no
 * control bytes; the length decimal; the sha256 64 lower-case hex). */
int state_parse_slot(struct slot_info *s, const uint8_t *data, size_t len, struct upt_error *err);
int state_format_slot(char *out, size_t cap, const struct slot_info *s, struct upt_error *err);
/* What slot `slot` holds (empty when it has no valid record). */
void state_slot_load(const struct agent_config *c, int slot, struct slot_info *s);
int state_slot_save(const struct agent_config *c, int slot, const struct slot_info *s,
		    struct upt_error *err);
/* The report counter: 1 to 19 decimal digits and a newline, below INT64_MAX. */
int state_parse_counter(int64_t *counter, const uint8_t *data, size_t len, struct upt_error *err);
/* The failed-images list: one sha256 per line. Is `sha256` in it? */
bool state_list_has(const uint8_t *data, size_t len, const char *sha256);
bool state_failed_before(const struct agent_config *c, const char *sha256);
int state_remember_failed(const struct agent_config *c, const char *sha256, struct upt_error *err);
/* The ECU key (state_dir/ecu-key.pem) and its key id. */
struct upt_privkey;
int state_ecu_key(const struct agent_config *c, struct upt_privkey **key, char *keyid,
		  struct upt_error *err);

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

/* ---- health checks and programs (health.c) ------------------------------- */
/* Run `exe` with UPTAKE_SLOT, UPTAKE_SLOT_PATH and UPTAKE_IMAGE, at most
 * health_timeout seconds: its exit status, or -1. */
int agent_run(const struct agent_config *c, const char *exe, const char *slot_path,
	      const char *slot_name, const char *image);
/* Every executable in health_dir, in name order, must exit 0. */
bool agent_healthy(const struct agent_config *c, int slot, const struct slot_info *s);

/* ---- the signed report (report.c) ---------------------------------------- */
/* Report what the running slot holds, with `attack` (may be NULL), every
 * secondary's last report, and (secs, may be NULL) the outcome of this
 * cycle's secondary updates as the installation report; without secondary updates, a pending
 * install result of the primary (state_dir/install.result, see agent_install_result), removed once
 * the server took it. */
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
void sec_info_dispose(struct sec_info *info);
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

void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Test mode of a power cut (UPTAKE_AGENT_TEST_PAUSE=POINT): is POINT the
 * one named; stop there for good, saying so (log.c). The points:
 * image-write, tree-write (half of the image's data or of its hash tree
 * written to the slot and flushed), switch (the slot written and checked,
 * the boot not switched), saveenv (the new U-Boot store half written over
 * the old), commit (the new slot's health checks passed, not committed). */
bool agent_test_pause_at(const char *point);
void agent_test_pause(const char *point) __attribute__((noreturn));

#endif
