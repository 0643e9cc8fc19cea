/* uptake-agent: the update client on a device's primary computer. */
#ifndef UPTAKE_AGENT_H
#define UPTAKE_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uptake/common.h>

#define AGENT_PATH 1024

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
};

int agent_config_load(struct agent_config *c, const char *path, struct upt_error *err);

/* The simulated bootloader: U-Boot's boot-count semantics in a file
 * (state_dir/bootenv). A new slot is tried boot_limit times; if it is not
 * committed by then, the next boot falls back to the previous slot. */
struct bootenv {
	int active; /* 0: slot a, 1: slot b */
	int previous;
	bool upgrade_available;
	int bootcount;
	int boot_limit;
	bool fell_back; /* set by the bootloader when it abandoned a slot */
};
/* The boot environment through the configured bootloader backend. */
int boot_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err);
int boot_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err);
int sim_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err);
int sim_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err);
/* Power-on: count the try, fall back when the count is spent. */
int boot_power_on(const struct agent_config *c, struct upt_error *err);

void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
