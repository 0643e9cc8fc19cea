/* uptake-secondary: an Uptane secondary with full verification, served
 * over aktualizr's IP-Uptane protocol (version 2) on TCP. One module per
 * concern:
 *   main.c    options, provisioning, the listening loop
 *   serve.c   one connection: messages in, a table of handlers, answers out
 *   meta.c    metadata from the primary, verified with libuptake (both
 *             repositories, from the roots it was provisioned with)
 *   image.c   the image in chunks, hashed while it streams; the install
 *   ab.c      A/B slots through uptake-agent's bootloader backends (boot
 *             counting, health checks, rollback to the previous image)
 *   report.c  the ECU key and the signed version report
 * Everything the primary sends is judged here again: the primary is not
 * trusted more than the network. */
#ifndef UPTAKE_SECONDARY_H
#define UPTAKE_SECONDARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/common.h>
#include <uptake/ipuptane.h>
#include <uptake/metadata.h>

#include "../../agent/backends.h"

#define SEC_PATH 1024
/* the default bound of one message: metadata of both repositories */
#define SEC_MESSAGE_MAX ((size_t)8 << 20)

struct sec_config {
	char state_dir[SEC_PATH];
	char serial[128], hardware_id[128];
	char director_root[SEC_PATH], image_root[SEC_PATH]; /* provisioning */
	char slot[SEC_PATH]; /* the file the image is installed to (A/B: slot a) */
	/* A/B (--slot-b): the agent's backends, configured from the options:
	 * boot.slot[0..1], bootloader, uboot_config, grub_env, boot_limit,
	 * health_dir, health_timeout, state_dir */
	bool ab;
	struct agent_config boot;
	char listen[256];
	uint16_t port;
	/* the primary's wait port, connected to at start-up (empty: none) */
	char primary[256];
	uint16_t primary_port;
	int timeout_ms;     /* per message, and a connection's idle time */
	size_t max_message; /* bytes of one message */
	bool once;          /* serve one connection, then exit (tests) */
};

/* What the slot holds (empty name: nothing known). */
struct sec_image {
	char name[256];
	int64_t length;
	char sha256[65];
	bool has_release_counter;
	int64_t release_counter;
};

struct upt_privkey;
struct sec_upload;

struct secondary {
	const struct sec_config *c;
	struct upt_privkey *key;
	char key_hex[129]; /* the public key as aktualizr sends it: hex */
	struct sec_image installed;
	/* the verified target the Director assigns (after putMetaReq2) */
	bool has_pending;
	struct sec_image pending;
	struct upt_hashes pending_hashes;
	struct sec_upload *upload; /* the image being received */
	char attack[300];          /* the last refusal, in the next report */
	/* A/B: the boot environment as of the last boot, and a reboot the
	 * real bootloader is to do once the install's connection is done */
	struct bootenv b;
	bool reboot;
};

/* main.c */
void sec_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sec_state_path(char *out, size_t cap, const struct sec_config *c, const char *name);

/* serve.c: answer messages on `fd` until the peer closes it or sends
 * something that is not a valid request (then the connection is closed,
 * with the reason logged). */
void sec_serve(struct secondary *s, int fd);

/* meta.c */
/* First start: the roots this secondary trusts, checked and stored. */
int sec_provision_roots(const struct sec_config *c, struct upt_error *err);
/* The trusted root version of `repo` (enum upt_ipu_repo). */
int sec_root_version(const struct secondary *s, int repo, int64_t *version, struct upt_error *err);
/* putRootReq: `json` must be the next root of `repo`, signed by the
 * trusted one and by itself. */
int sec_put_root(struct secondary *s, int repo, const uint8_t *json, size_t len,
		 struct upt_error *err);
/* putMetaReq2: full verification; on UPT_OK s->pending is the image the
 * Director assigns this ECU (has_pending false when it runs it already). */
int sec_put_meta(struct secondary *s, const struct upt_ipu_put_meta_req2 *m, struct upt_error *err);

/* image.c */
int sec_upload_chunk(struct secondary *s, const uint8_t *data, size_t len, struct upt_error *err);
/* installReq: on UPT_OK *code is UPT_IPU_RESULT_OK, or (A/B with a real
 * bootloader) UPT_IPU_RESULT_NEED_COMPLETION: active after the reboot.
 * UPT_ERR_STATE with *code UPT_IPU_RESULT_INSTALL_FAILED: installed, but
 * it failed its health check and the previous image is back. */
int sec_install(struct secondary *s, const uint8_t *name, size_t len, int32_t *code,
		struct upt_error *err);
void sec_upload_reset(struct secondary *s);
/* The installed-image record: "LENGTH SHA256 RELEASE_COUNTER NAME" in
 * state_dir/installed (A/B: installed-a, installed-b, one per slot); the
 * running one becomes s->installed. */
void sec_installed_load(struct secondary *s);
int sec_installed_save(struct secondary *s, int slot, const struct sec_image *img,
		       struct upt_error *err);
int sec_installed_read(struct secondary *s, int slot, struct sec_image *img);

/* ab.c */
/* The slot an image is received into: the inactive one (A/B), else --slot. */
const char *sec_target_slot(const struct secondary *s);
/* Start-up (a boot): the simulated bootloader counts it; a fallback of
 * the bootloader, or a slot on trial that fails its health checks, goes
 * back to the previous image, which is remembered as failed and reported
 * (installation_result). UPT_OK, or an error of the boot environment.
 * *reboot: a real bootloader must boot the previous slot now. */
int sec_boot(struct secondary *s, bool *reboot, struct upt_error *err);
/* After an image is in the inactive slot: switch the boot environment to
 * try it. The simulated bootloader boots it at once (sec_boot), the
 * outcome in *code and err; with U-Boot or GRUB the reboot comes after the
 * answer (s->reboot), *code NEED_COMPLETION. */
int sec_ab_switch(struct secondary *s, const struct sec_image *img, int32_t *code,
		  struct upt_error *err);
/* The image failed its health check before: not installed again. */
bool sec_failed_before(const struct secondary *s, const char *sha256);
/* The last install's outcome (state_dir/install.result), for the report:
 * false when there is none. */
struct sec_install_result {
	bool success;
	char code[32], image[256], description[300];
};
bool sec_install_result_load(const struct secondary *s, struct sec_install_result *r);
int sec_install_result_save(const struct secondary *s, const struct sec_install_result *r,
			    struct upt_error *err);

/* report.c */
int sec_key_load(struct secondary *s, struct upt_error *err);
/* The signed version report (malloc'd); the counter goes up first. */
int sec_version_report(struct secondary *s, char **out, size_t *len, struct upt_error *err);
/* Remember a refusal for the next report (kept across restarts). */
void sec_attack(struct secondary *s, int code, const char *msg);

#endif
