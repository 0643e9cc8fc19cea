/* uptake-agent: bootloader backends. The agent's view of the boot
 * environment (which slot is active, which was before, whether a new slot
 * is on trial, the boot count) is kept in bootloader variables:
 *
 *   uptake_slot=a|b  uptake_prev=a|b  upgrade_available=0|1  bootcount=N
 *   bootlimit=N
 *
 * U-Boot (through libubootenv, fw_env.config) counts boots itself when
 * upgrade_available=1 and runs altbootcmd past bootlimit; GRUB does the
 * same with the script in dist/grub.cfg.d/uptake.cfg over grubenv. The
 * simulated bootloader (config.c) keeps the same semantics in a file. */
#include <stddef.h> /* libuboot.h needs size_t */
#include <stdio.h>

#include <libuboot.h>
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "agent.h"

/* ---- U-Boot, libubootenv ------------------------------------------------ */

static int uboot_open(struct uboot_ctx **ctx, const struct agent_config *c, struct upt_error *err)
{
	if (libuboot_initialize(ctx, NULL) < 0)
		return upt_error_set(err, UPT_ERR_NOMEM, "libubootenv: cannot initialise");
	if (libuboot_read_config(*ctx, c->uboot_config) < 0) {
		libuboot_exit(*ctx);
		return upt_error_set(err, UPT_ERR_IO, "%s: not a usable fw_env.config",
				     c->uboot_config);
	}
	if (libuboot_open(*ctx) < 0) {
		libuboot_exit(*ctx);
		return upt_error_set(err, UPT_ERR_IO, "%s: cannot open the U-Boot environment",
				     c->uboot_config);
	}
	return UPT_OK;
}

static int uboot_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	struct uboot_ctx *ctx;
	char *v;
	int rc = uboot_open(&ctx, c, err);
	if (rc != UPT_OK)
		return rc;
	if ((v = libuboot_get_env(ctx, "uptake_slot")))
		b->active = v[0] == 'b';
	free(v);
	if ((v = libuboot_get_env(ctx, "uptake_prev")))
		b->previous = v[0] == 'b';
	free(v);
	if ((v = libuboot_get_env(ctx, "upgrade_available")))
		b->upgrade_available = v[0] == '1';
	free(v);
	if ((v = libuboot_get_env(ctx, "bootcount")))
		b->bootcount = (int)strtol(v, NULL, 10);
	free(v);
	if ((v = libuboot_get_env(ctx, "uptake_fell_back")))
		b->fell_back = v[0] == '1';
	free(v);
	libuboot_close(ctx);
	libuboot_exit(ctx);
	return UPT_OK;
}

static int uboot_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	struct uboot_ctx *ctx;
	char count[16], limit[16];
	int rc = uboot_open(&ctx, c, err);
	if (rc != UPT_OK)
		return rc;
	snprintf(count, sizeof count, "%d", b->bootcount);
	snprintf(limit, sizeof limit, "%d", c->boot_limit);
	if (libuboot_set_env(ctx, "uptake_slot", b->active ? "b" : "a") < 0 ||
	    libuboot_set_env(ctx, "uptake_prev", b->previous ? "b" : "a") < 0 ||
	    libuboot_set_env(ctx, "upgrade_available", b->upgrade_available ? "1" : "0") < 0 ||
	    libuboot_set_env(ctx, "bootcount", count) < 0 ||
	    libuboot_set_env(ctx, "bootlimit", limit) < 0 ||
	    libuboot_set_env(ctx, "uptake_fell_back", b->fell_back ? "1" : "0") < 0 ||
	    /* the redundant copy makes the store power-safe */
	    libuboot_env_store(ctx) < 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot write the U-Boot environment",
				   c->uboot_config);
	libuboot_close(ctx);
	libuboot_exit(ctx);
	return rc;
}

/* ---- GRUB environment block --------------------------------------------- */

#define GRUBENV_SIZE   1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"

/* Every variable of the block, NUL-separated "k=v" pairs, in `vars`. */
static int grub_read(const struct agent_config *c, char *vars, size_t cap, struct upt_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0, o = 0;
	int rc = host_read_file(c->grub_env, 64 * 1024, &data, &len, err);
	vars[0] = 0;
	if (rc == UPT_ERR_NOT_FOUND)
		return UPT_OK;
	if (rc != UPT_OK)
		return rc;
	if (len < strlen(GRUBENV_HEADER) || memcmp(data, GRUBENV_HEADER, strlen(GRUBENV_HEADER))) {
		free(data);
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: not a GRUB environment block",
				     c->grub_env);
	}
	/* "k=v" lines; other "#" lines are comments; the padding ends it */
	for (char *p = (char *)data + strlen(GRUBENV_HEADER), *nl;
	     p < (char *)data + len && (nl = memchr(p, '\n', (size_t)((char *)data + len - p)));
	     p = nl + 1) {
		size_t n = (size_t)(nl - p);
		if (*p == '#' || !memchr(p, '=', n))
			continue;
		if (o + n + 2 > cap) {
			free(data);
			return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: too many variables",
					     c->grub_env);
		}
		memcpy(vars + o, p, n);
		vars[o + n] = 0;
		o += n + 1;
		vars[o] = 0;
	}
	free(data);
	return UPT_OK;
}

static const char *grub_get(const char *vars, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = vars; *p; p += strlen(p) + 1)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return p + kl + 1;
	return NULL;
}

static int grub_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	char vars[GRUBENV_SIZE + 2];
	const char *v;
	int rc = grub_read(c, vars, sizeof vars, err);
	if (rc != UPT_OK)
		return rc;
	if ((v = grub_get(vars, "uptake_slot")))
		b->active = v[0] == 'b';
	if ((v = grub_get(vars, "uptake_prev")))
		b->previous = v[0] == 'b';
	if ((v = grub_get(vars, "upgrade_available")))
		b->upgrade_available = v[0] == '1';
	if ((v = grub_get(vars, "bootcount")))
		b->bootcount = (int)strtol(v, NULL, 10);
	if ((v = grub_get(vars, "uptake_fell_back")))
		b->fell_back = v[0] == '1';
	return UPT_OK;
}

/* Rewrite the block: our variables set, every other one kept, padded with
 * '#' to 1024 bytes as grub-editenv writes it; replaced atomically. */
static int grub_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	static const char *const ours[] = {"uptake_slot", "uptake_prev", "upgrade_available",
					   "bootcount",   "bootlimit",   "uptake_fell_back"};
	char vars[GRUBENV_SIZE + 2], block[GRUBENV_SIZE];
	size_t o;
	int rc = grub_read(c, vars, sizeof vars, err);
	if (rc != UPT_OK)
		return rc;
	o = (size_t)snprintf(block, sizeof block,
			     GRUBENV_HEADER "uptake_slot=%c\nuptake_prev=%c\nupgrade_available=%d\n"
					    "bootcount=%d\nbootlimit=%d\nuptake_fell_back=%d\n",
			     b->active ? 'b' : 'a', b->previous ? 'b' : 'a', b->upgrade_available,
			     b->bootcount, c->boot_limit, b->fell_back);
	for (const char *p = vars; *p; p += strlen(p) + 1) {
		bool mine = false;
		for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
			mine |=
			    strncmp(p, ours[i], strlen(ours[i])) == 0 && p[strlen(ours[i])] == '=';
		if (mine)
			continue;
		if (o + strlen(p) + 1 > sizeof block)
			return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: environment full",
					     c->grub_env);
		o += (size_t)snprintf(block + o, sizeof block - o, "%s\n", p);
	}
	memset(block + o, '#', sizeof block - o);
	return host_write_file(c->grub_env, block, sizeof block, err);
}

/* ---- dispatch ----------------------------------------------------------- */

int boot_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	memset(b, 0, sizeof *b);
	b->boot_limit = c->boot_limit;
	if (strcmp(c->bootloader, "uboot") == 0)
		return uboot_load(b, c, err);
	if (strcmp(c->bootloader, "grub") == 0)
		return grub_load(b, c, err);
	return sim_load(b, c, err);
}

int boot_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	if (strcmp(c->bootloader, "uboot") == 0)
		return uboot_save(b, c, err);
	if (strcmp(c->bootloader, "grub") == 0)
		return grub_save(b, c, err);
	return sim_save(b, c, err);
}

/* The bootloader's side at power-on, on whichever environment is
 * configured: count a try of a new slot, fall back when the count is
 * spent (what U-Boot's bootcount/altbootcmd and the GRUB script do). */
int boot_power_on(const struct agent_config *c, struct upt_error *err)
{
	struct bootenv b;
	int rc = boot_load(&b, c, err);
	if (rc != UPT_OK || !b.upgrade_available)
		return rc;
	b.bootcount++;
	if (b.bootcount > b.boot_limit) {
		/* altbootcmd: the new slot never proved itself */
		agent_log("bootloader: slot %c failed %d boots, back to slot %c",
			  b.active ? 'b' : 'a', b.boot_limit, b.previous ? 'b' : 'a');
		b.previous = b.active;
		b.active = b.active ? 0 : 1;
		b.upgrade_available = false;
		b.bootcount = 0;
		b.fell_back = true;
	} else {
		agent_log("bootloader: trying slot %c (boot %d of %d)", b.active ? 'b' : 'a',
			  b.bootcount, b.boot_limit);
	}
	return boot_save(&b, c, err);
}
