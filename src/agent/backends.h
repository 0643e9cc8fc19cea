/* The install and bootloader backends that uptake-agent and
 * uptake-secondary share (library uptake_boot_lib): the configuration
 * they read (struct agent_config: slots, bootloader, boot limit, health
 * checks, state_dir), the boot environments (boot.c: simulated, U-Boot,
 * GRUB; boot counting and fallback), the state files (state.c: slot
 * records, the failed-images list, the ECU key), health checks (health.c)
 * and the log line (log.c). */
#ifndef UPTAKE_AGENT_BACKENDS_H
#define UPTAKE_AGENT_BACKENDS_H

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
	/* aktualizr's wait port: where secondaries that start late connect
	 * (-1: none; 0: any free port, written to secondaries_wait_port_file) */
	int secondaries_wait_port;
	int secondaries_wait_timeout; /* seconds */
	char secondaries_wait_address[256];
	char secondaries_wait_port_file[AGENT_PATH];
	/* refuse a target without custom.verity (verity = required) */
	bool verity_required;
	/* CRA Art. 13(19): executables run when the signed support end is
	 * within support_notify_days days, and when it has passed */
	char notify_dir[AGENT_PATH];
	int support_notify_days;
};

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

/* ---- health checks and programs (health.c) ------------------------------- */
/* Run `exe` with UPTAKE_SLOT, UPTAKE_SLOT_PATH and UPTAKE_IMAGE, at most
 * health_timeout seconds: its exit status, or -1. */
int agent_run(const struct agent_config *c, const char *exe, const char *slot_path,
	      const char *slot_name, const char *image);
/* Every executable in health_dir, in name order, must exit 0. */
bool agent_healthy(const struct agent_config *c, int slot, const struct slot_info *s);

void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The program named in each log line (default "uptake-agent"). */
void agent_log_name(const char *name);
/* Test mode of a power cut (UPTAKE_AGENT_TEST_PAUSE=POINT): is POINT the
 * one named; stop there for good, saying so (log.c). The points:
 * image-write, tree-write (half of the image's data or of its hash tree
 * written to the slot and flushed), switch (the slot written and checked,
 * the boot not switched), saveenv (the new U-Boot store half written over
 * the old), commit (the new slot's health checks passed, not committed). */
bool agent_test_pause_at(const char *point);
void agent_test_pause(const char *point) __attribute__((noreturn));

#endif
