/* uptake-secondary: A/B slots through uptake-agent's install and
 * bootloader backends (src/agent/boot.c, health.c, state.c: library
 * uptake_boot_lib). A verified image goes into the inactive slot; the boot
 * environment (simulated, U-Boot or GRUB, the same variables and boot
 * counting as the agent's) is switched to try it; after the boot the
 * health checks (every executable in --health-dir, with UPTAKE_SLOT,
 * UPTAKE_SLOT_PATH and UPTAKE_IMAGE) decide: commit, or back to the
 * previous slot, whose image then runs again. A slot the bootloader
 * abandoned (boot count spent) is the same failure. A failed image is
 * remembered (state_dir/failed-images) and not installed again, and the
 * outcome goes into the signed version report as installation_result.
 *
 * The simulated bootloader's boot is done here, right after the switch,
 * and at every start of the daemon; with U-Boot or GRUB the daemon exits
 * with status 3 once the install's connection is over (the ECU is to
 * reboot), and the trial runs when it starts again. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/ipuptane.h>

#include "../../host/host.h"
#include "secondary.h"

static bool simulated(const struct secondary *s)
{
	return strcmp(s->c->boot.bootloader, "sim") == 0;
}

const char *sec_target_slot(const struct secondary *s)
{
	if (!s->c->ab)
		return s->c->slot;
	return s->c->boot.slot[s->b.active ? 0 : 1];
}

bool sec_failed_before(const struct secondary *s, const char *sha256)
{
	return s->c->ab && state_failed_before(&s->c->boot, sha256);
}

/* ---- the install result: "ok|failed\nCODE\nIMAGE\nDESCRIPTION\n" ------------ */

static bool plain(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* The next line of `*p` (at most cap - 1 printable bytes) into out. */
static bool line(char *out, size_t cap, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : 0;
	if (!nl || n >= cap || !plain(*p, n))
		return false;
	memcpy(out, *p, n);
	out[n] = 0;
	*p = nl + 1;
	return true;
}

bool sec_install_result_load(const struct secondary *s, struct sec_install_result *r)
{
	char path[SEC_PATH + 32], ok[8];
	uint8_t *data = NULL;
	size_t len = 0;
	bool good = false;
	memset(r, 0, sizeof *r);
	sec_state_path(path, sizeof path, s->c, "install.result");
	if (host_read_file(path, 1024, &data, &len, NULL) != UPT_OK)
		return false;
	const char *p = (const char *)data, *end = p + len;
	good = line(ok, sizeof ok, &p, end) &&
	       (strcmp(ok, "ok") == 0 || strcmp(ok, "failed") == 0) &&
	       line(r->code, sizeof r->code, &p, end) && r->code[0] &&
	       line(r->image, sizeof r->image, &p, end) &&
	       line(r->description, sizeof r->description, &p, end) && p == end;
	r->success = good && strcmp(ok, "ok") == 0;
	if (!good) {
		sec_log("%s: not an install result; none is reported", path);
		memset(r, 0, sizeof *r);
	}
	upt_free(data);
	return good;
}

int sec_install_result_save(const struct secondary *s, const struct sec_install_result *r,
			    struct upt_error *err)
{
	char path[SEC_PATH + 32], text[1024];
	int n = snprintf(text, sizeof text, "%s\n%s\n%s\n%s\n", r->success ? "ok" : "failed",
			 r->code, r->image, r->description);
	if (n < 0 || (size_t)n >= sizeof text || !plain(r->code, strlen(r->code)) ||
	    !plain(r->image, strlen(r->image)) || !plain(r->description, strlen(r->description)))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "install result: not printable");
	sec_state_path(path, sizeof path, s->c, "install.result");
	return host_write_file(path, text, (size_t)n, err);
}

static int result(struct secondary *s, bool success, const char *code, const char *image,
		  const char *description, struct upt_error *err)
{
	struct sec_install_result r = {.success = success};
	snprintf(r.code, sizeof r.code, "%s", code);
	snprintf(r.image, sizeof r.image, "%s", image);
	/* a long description is cut to the field */
	snprintf(r.description, sizeof r.description, "%.*s", (int)sizeof r.description - 1,
		 description);
	return sec_install_result_save(s, &r, err);
}

/* ---- boot and trial -------------------------------------------------------- */

static char slot_letter(int slot)
{
	return slot ? 'b' : 'a';
}

/* `dead` (in the slot left) failed: remembered, and the result says which
 * image runs again. */
static int went_back(struct secondary *s, const struct sec_image *dead, const char *code,
		     const char *why, struct upt_error *err)
{
	struct sec_image back;
	char text[640];
	int rc = UPT_OK;
	sec_installed_read(s, s->b.active, &back);
	snprintf(text, sizeof text, "%.120s %s: rolled back to %.120s (slot %c)",
		 dead->name[0] ? dead->name : "the new image", why,
		 back.name[0] ? back.name : "the previous image", slot_letter(s->b.active));
	sec_log("%s", text);
	if (dead->sha256[0])
		rc = state_remember_failed(&s->c->boot, dead->sha256, err);
	if (rc == UPT_OK)
		rc = result(s, false, code, dead->name, text, err);
	return rc;
}

int sec_boot(struct secondary *s, bool *reboot, struct upt_error *err)
{
	const struct agent_config *bc = &s->c->boot;
	int rc = UPT_OK;
	*reboot = false;
	if (!s->c->ab) {
		sec_installed_load(s);
		return UPT_OK;
	}
	if (simulated(s))
		rc = boot_power_on(bc, err);
	if (rc == UPT_OK)
		rc = boot_load(&s->b, bc, err);
	if (rc != UPT_OK)
		return rc;
	if (s->b.fell_back) {
		/* the bootloader gave up on the slot it was trying */
		struct sec_image dead;
		sec_installed_read(s, s->b.active ? 0 : 1, &dead);
		s->b.fell_back = false;
		rc = went_back(s, &dead, "BOOT_FAILED", "did not boot (boot count spent)", err);
		if (rc == UPT_OK)
			rc = boot_save(&s->b, bc, err);
	} else if (s->b.upgrade_available) {
		struct sec_image trying;
		struct slot_info si = {0};
		sec_installed_read(s, s->b.active, &trying);
		snprintf(si.name, sizeof si.name, "%s", trying.name);
		si.length = trying.length;
		memcpy(si.sha256, trying.sha256, sizeof si.sha256);
		s->b.upgrade_available = false;
		s->b.bootcount = 0;
		if (trying.name[0] && agent_healthy(bc, s->b.active, &si)) {
			char text[300];
			snprintf(text, sizeof text, "%.200s installed in slot %c and healthy",
				 trying.name, slot_letter(s->b.active));
			sec_log("slot %c is good: %s committed", slot_letter(s->b.active),
				trying.name);
			rc = boot_save(&s->b, bc, err);
			if (rc == UPT_OK)
				rc = result(s, true, "OK", trying.name, text, err);
		} else {
			s->b.active = s->b.previous;
			rc = boot_save(&s->b, bc, err);
			if (rc == UPT_OK)
				rc = went_back(s, &trying, "HEALTH_CHECK_FAILED",
					       "failed its health checks", err);
			*reboot = !simulated(s);
		}
	}
	sec_installed_load(s);
	return rc;
}

int sec_ab_switch(struct secondary *s, const struct sec_image *img, int32_t *code,
		  struct upt_error *err)
{
	const struct agent_config *bc = &s->c->boot;
	int to = s->b.active ? 0 : 1;
	bool reboot = false;
	s->b.previous = s->b.active;
	s->b.active = to;
	s->b.upgrade_available = true;
	s->b.bootcount = 0;
	s->b.fell_back = false;
	int rc = boot_save(&s->b, bc, err);
	if (rc != UPT_OK)
		return rc;
	sec_log("%s in slot %c; the bootloader tries it next boot", img->name, slot_letter(to));
	if (!simulated(s)) {
		*code = UPT_IPU_RESULT_NEED_COMPLETION;
		s->reboot = true;
		return result(s, true, "NEED_COMPLETION", img->name,
			      "installed; active after the ECU reboots", err);
	}
	/* the simulated bootloader: the boot now */
	rc = sec_boot(s, &reboot, err);
	if (rc != UPT_OK)
		return rc;
	struct sec_install_result r;
	if (s->b.active == to && !s->b.upgrade_available) {
		*code = UPT_IPU_RESULT_OK;
		return UPT_OK;
	}
	*code = UPT_IPU_RESULT_INSTALL_FAILED;
	sec_install_result_load(s, &r);
	return upt_error_set(err, UPT_ERR_STATE, "%s", r.description);
}
