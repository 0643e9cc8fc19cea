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
 * simulated bootloader keeps the same semantics in state_dir/bootenv.
 *
 * What the environment says is checked strictly: a bad value of one of our
 * variables is an error naming it, never a guess. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h> /* libuboot.h needs size_t */
#include <stdio.h>

#include <libuboot.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../host/host.h"
#include "backends.h"

/* ---- the variables ------------------------------------------------------ */

static bool parse_slot(int *out, const char *v)
{
	if ((v[0] != 'a' && v[0] != 'b') || v[1])
		return false;
	*out = v[0] == 'b';
	return true;
}

static bool parse_flag(bool *out, const char *v)
{
	if ((v[0] != '0' && v[0] != '1') || v[1])
		return false;
	*out = v[0] == '1';
	return true;
}

static bool parse_count(int *out, const char *v)
{
	long n = 0;
	if (!*v)
		return false;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (*p - '0');
		if (n > BOOTENV_COUNT_MAX)
			return false;
	}
	*out = (int)n;
	return true;
}

/* dm-verity parameters as verity_env_value writes them: hex digits,
 * decimal numbers and commas, bounded */
static bool parse_verity(char *out, const char *v)
{
	size_t n = strlen(v);
	if (n >= VERITY_ENV_MAX || strspn(v, "0123456789abcdef,") != n)
		return false;
	memcpy(out, v, n + 1);
	return true;
}

int bootenv_set(struct bootenv *b, bool sim, const char *key, const char *value,
		struct upt_error *err)
{
	bool ok, known = true;
	if (strcmp(key, sim ? "active" : "uptake_slot") == 0)
		ok = parse_slot(&b->active, value);
	else if (strcmp(key, sim ? "previous" : "uptake_prev") == 0)
		ok = parse_slot(&b->previous, value);
	else if (strcmp(key, "upgrade_available") == 0)
		ok = parse_flag(&b->upgrade_available, value);
	else if (strcmp(key, "bootcount") == 0)
		ok = parse_count(&b->bootcount, value);
	else if (strcmp(key, "uptake_fell_back") == 0)
		ok = parse_flag(&b->fell_back, value);
	else if (!sim &&
		 (strcmp(key, "uptake_verity_a") == 0 || strcmp(key, "uptake_verity_b") == 0))
		ok = parse_verity(b->verity[key[14] == 'b'], value);
	else
		ok = true, known = false;
	if (!ok)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "boot environment: %s: bad value '%.40s'", key, value);
	if (!known && sim)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "boot environment: unknown variable '%.40s'", key);
	return UPT_OK;
}

/* ---- U-Boot, libubootenv ------------------------------------------------ */

static int uboot_open(struct uboot_ctx **ctx, const struct agent_config *c, struct upt_error *err)
{
	*ctx = NULL;
	if (libuboot_initialize(ctx, NULL) < 0) {
		*ctx = NULL;
		return upt_error_set(err, UPT_ERR_NOMEM, "libubootenv: cannot initialise");
	}
	if (libuboot_read_config(*ctx, c->uboot_config) < 0) {
		libuboot_exit(*ctx);
		*ctx = NULL;
		return upt_error_set(err, UPT_ERR_IO, "%s: not a usable fw_env.config",
				     c->uboot_config);
	}
	if (libuboot_open(*ctx) < 0) {
		libuboot_exit(*ctx);
		*ctx = NULL;
		return upt_error_set(err, UPT_ERR_IO, "%s: cannot open the U-Boot environment",
				     c->uboot_config);
	}
	return UPT_OK;
}

static int uboot_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	static const char *const ours[] = {
	    "uptake_slot",      "uptake_prev",     "upgrade_available", "bootcount",
	    "uptake_fell_back", "uptake_verity_a", "uptake_verity_b"};
	struct uboot_ctx *ctx;
	int rc = uboot_open(&ctx, c, err);
	for (size_t i = 0; rc == UPT_OK && i < sizeof ours / sizeof ours[0]; i++) {
		char *v = libuboot_get_env(ctx, ours[i]);
		if (v && (rc = bootenv_set(b, false, ours[i], v, err)) != UPT_OK)
			upt_error_prefix(err, c->uboot_config);
		free(v);
	}
	if (ctx) {
		libuboot_close(ctx);
		libuboot_exit(ctx);
	}
	return rc;
}

/* Test mode "saveenv" (agent_test_pause_at): a power cut in the middle of
 * the store's write. The regions fw_env.config names (device, offset,
 * size) are read before the write; after it, each region that changed
 * gets its old second half back, so that the medium holds the first half
 * of the new copy and the rest of the old one, as when the power goes
 * half-way; then the agent stops. */
#define TORN_REGIONS 2
#define TORN_MAX     (1 << 20)
struct torn {
	char dev[256];
	long long off, size;
	uint8_t *old;
};

static int torn_read(struct torn *t, const struct agent_config *c)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int n = 0;
	struct upt_error e;
	if (host_read_file(c->uboot_config, 4096, &text, &len, &e) != UPT_OK)
		return 0;
	for (char *p = (char *)text, *end = p + len, *nl; p < end && n < TORN_REGIONS; p = nl + 1) {
		char *q, *r;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = 0;
		if (*p == '#' || !(q = strchr(p, ' ')) || (size_t)(q - p) >= sizeof t[n].dev)
			continue;
		memcpy(t[n].dev, p, (size_t)(q - p));
		t[n].dev[q - p] = 0;
		t[n].off = strtoll(q, &r, 0);
		t[n].size = strtoll(r, NULL, 0);
		if (t[n].off < 0 || t[n].size <= 0 || t[n].size > TORN_MAX ||
		    !(t[n].old = malloc((size_t)t[n].size)))
			continue;
		{
			int fd = open(t[n].dev, O_RDONLY | O_CLOEXEC);
			if (fd < 0 ||
			    pread(fd, t[n].old, (size_t)t[n].size, t[n].off) != t[n].size) {
				free(t[n].old);
				t[n].old = NULL;
			}
			if (fd >= 0)
				close(fd);
		}
		if (t[n].old)
			n++;
	}
	free(text);
	return n;
}

static void torn_write(struct torn *t, int n)
{
	for (int i = 0; i < n; i++) {
		long long first = 0, last = t[i].size - 1, half;
		uint8_t *now = malloc((size_t)t[i].size);
		int fd = open(t[i].dev, O_RDWR | O_CLOEXEC);
		if (now && fd >= 0 && pread(fd, now, (size_t)t[i].size, t[i].off) == t[i].size &&
		    memcmp(now, t[i].old, (size_t)t[i].size) != 0) {
			while (now[first] == t[i].old[first])
				first++;
			while (now[last] == t[i].old[last])
				last--;
			half = first + (last - first + 1) / 2;
			if (pwrite(fd, t[i].old + half, (size_t)(t[i].size - half),
				   t[i].off + half) == t[i].size - half)
				agent_log(
				    "TEST MODE: %s at %lld: the new store written half (%lld of "
				    "%lld changed bytes)",
				    t[i].dev, t[i].off, half - first, last - first + 1);
			fsync(fd);
		}
		if (fd >= 0)
			close(fd);
		free(now);
		free(t[i].old);
	}
}

static int uboot_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	struct uboot_ctx *ctx;
	char count[16], limit[16];
	struct torn torn[TORN_REGIONS];
	int n_torn, rc = uboot_open(&ctx, c, err);
	if (rc != UPT_OK)
		return rc;
	n_torn = agent_test_pause_at("saveenv") ? torn_read(torn, c) : 0;
	snprintf(count, sizeof count, "%d", b->bootcount);
	snprintf(limit, sizeof limit, "%d", c->boot_limit);
	if (libuboot_set_env(ctx, "uptake_slot", b->active ? "b" : "a") < 0 ||
	    libuboot_set_env(ctx, "uptake_prev", b->previous ? "b" : "a") < 0 ||
	    libuboot_set_env(ctx, "upgrade_available", b->upgrade_available ? "1" : "0") < 0 ||
	    libuboot_set_env(ctx, "bootcount", count) < 0 ||
	    libuboot_set_env(ctx, "bootlimit", limit) < 0 ||
	    libuboot_set_env(ctx, "uptake_fell_back", b->fell_back ? "1" : "0") < 0 ||
	    libuboot_set_env(ctx, "uptake_verity_a", b->verity[0][0] ? b->verity[0] : NULL) < 0 ||
	    libuboot_set_env(ctx, "uptake_verity_b", b->verity[1][0] ? b->verity[1] : NULL) < 0 ||
	    /* with two copies in fw_env.config the store is written to the
	     * older one: a power cut during the write leaves the other */
	    libuboot_env_store(ctx) < 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot write the U-Boot environment",
				   c->uboot_config);
	libuboot_close(ctx);
	libuboot_exit(ctx);
	if (n_torn) {
		torn_write(torn, n_torn);
		agent_test_pause("saveenv");
	}
	return rc;
}

/* ---- GRUB environment block --------------------------------------------- */

#define GRUBENV_SIZE   1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"

int bootenv_parse_grub(char *vars, size_t cap, const uint8_t *data, size_t len, const char *name,
		       struct upt_error *err)
{
	const size_t hl = strlen(GRUBENV_HEADER);
	size_t o = 0;
	if (cap < 2)
		return upt_error_set(err, UPT_ERR_ARG, "%s: no room", name);
	vars[0] = vars[1] = 0;
	if (len < hl || memcmp(data, GRUBENV_HEADER, hl) != 0 || memchr(data, 0, len))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: not a GRUB environment block",
				     name);
	/* "k=v" lines; other "#" lines are comments; the padding ends it */
	for (const uint8_t *p = data + hl, *end = data + len, *nl;
	     p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		size_t n = (size_t)(nl - p);
		if (*p == '#' || n == 0)
			continue;
		if (!memchr(p, '=', n) || *p == '=')
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: a line that is not key=value", name);
		if (o + n + 2 > cap)
			return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: too many variables",
					     name);
		memcpy(vars + o, p, n);
		vars[o + n] = 0;
		o += n + 1;
		vars[o] = 0;
	}
	return UPT_OK;
}

/* Every variable of the block (none when the file is missing). */
static int grub_read(const struct agent_config *c, char *vars, size_t cap, struct upt_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = host_read_file(c->grub_env, 64 * 1024, &data, &len, err);
	vars[0] = 0;
	if (rc == UPT_ERR_NOT_FOUND)
		return UPT_OK;
	if (rc == UPT_OK)
		rc = bootenv_parse_grub(vars, cap, data, len, c->grub_env, err);
	free(data);
	return rc;
}

int bootenv_from_grub_vars(struct bootenv *b, const char *vars, struct upt_error *err)
{
	int rc = UPT_OK;
	for (const char *p = vars; rc == UPT_OK && *p; p += strlen(p) + 1) {
		char key[64];
		const char *eq = strchr(p, '=');
		size_t kl = eq ? (size_t)(eq - p) : 0;
		if (!eq || kl >= sizeof key)
			continue; /* not ours: ours are short */
		memcpy(key, p, kl);
		key[kl] = 0;
		rc = bootenv_set(b, false, key, eq + 1, err);
	}
	return rc;
}

static int grub_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	char vars[GRUBENV_SIZE * 64 + 2];
	int rc = grub_read(c, vars, sizeof vars, err);
	if (rc == UPT_OK)
		rc = bootenv_from_grub_vars(b, vars, err);
	if (rc != UPT_OK && c->grub_env[0])
		upt_error_prefix(err, c->grub_env);
	return rc;
}

/* Rewrite the block: our variables set, every other one kept, padded with
 * '#' to 1024 bytes as grub-editenv writes it; replaced atomically. */
static int grub_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	static const char *const ours[] = {"uptake_slot", "uptake_prev", "upgrade_available",
					   "bootcount",   "bootlimit",   "uptake_fell_back"};
	char vars[GRUBENV_SIZE * 64 + 2], block[GRUBENV_SIZE];
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

/* ---- the simulated bootloader: state_dir/bootenv -------------------------- */

int bootenv_parse_sim(struct bootenv *b, const uint8_t *data, size_t len, struct upt_error *err)
{
	size_t line = 0;
	for (const uint8_t *p = data, *end = data + len, *nl; p < end; p = nl + 1) {
		char key[32], value[32];
		const uint8_t *eq;
		int rc;
		line++;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "bootenv: line %zu: no end of line", line);
		eq = memchr(p, '=', (size_t)(nl - p));
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof key ||
		    (size_t)(nl - eq - 1) >= sizeof value || memchr(p, 0, (size_t)(nl - p)))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "bootenv: line %zu: not key=value", line);
		memcpy(key, p, (size_t)(eq - p));
		key[eq - p] = 0;
		memcpy(value, eq + 1, (size_t)(nl - eq - 1));
		value[nl - eq - 1] = 0;
		if ((rc = bootenv_set(b, true, key, value, err)) != UPT_OK)
			return rc;
	}
	return UPT_OK;
}

static void sim_path(char *out, size_t cap, const struct agent_config *c)
{
	snprintf(out, cap, "%s/bootenv", c->state_dir);
}

static int sim_load(struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	char path[AGENT_PATH + 16];
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;
	sim_path(path, sizeof path, c);
	rc = host_read_file(path, 4096, &text, &len, err);
	if (rc == UPT_ERR_NOT_FOUND)
		return UPT_OK; /* factory state: slot a, committed */
	if (rc == UPT_OK)
		rc = bootenv_parse_sim(b, text, len, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, path);
	free(text);
	return rc;
}

static int sim_save(const struct bootenv *b, const struct agent_config *c, struct upt_error *err)
{
	char path[AGENT_PATH + 16], text[160];
	int n = snprintf(
	    text, sizeof text,
	    "active=%c\nprevious=%c\nupgrade_available=%d\nbootcount=%d\nuptake_fell_back=%d\n",
	    b->active ? 'b' : 'a', b->previous ? 'b' : 'a', b->upgrade_available, b->bootcount,
	    b->fell_back);
	sim_path(path, sizeof path, c);
	return host_write_file(path, text, (size_t)n, err);
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
