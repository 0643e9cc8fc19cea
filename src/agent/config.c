/* uptake-agent: the configuration file (`key = value` lines). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../host/host.h"
#include "agent.h"

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static bool set_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return false;
	memcpy(dst, v, strlen(v) + 1);
	return true;
}

static bool set_int(int *dst, const char *v, long min, long max)
{
	char *end;
	long x;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < min || x > max)
		return false;
	*dst = (int)x;
	return true;
}

/* Text the agent puts into JSON and URLs as it is: no quote, backslash or
 * control byte. */
static bool plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

/* The next field of a `secondary` line (blank-separated), or NULL. */
static char *next_field(char **p)
{
	char *s = *p, *e;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	for (e = s; *e && *e != ' ' && *e != '\t'; e++)
		;
	if (*e)
		*e++ = 0;
	*p = e;
	return s;
}

static bool host_name_ok(const char *s)
{
	if (!*s || strlen(s) >= sizeof((struct agent_secondary *)0)->address)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == ':'))
			return false;
	return true;
}

/* `secondary = ADDRESS PORT SERIAL HARDWARE_ID full|partial`: each field
 * checked, the message naming the one that is wrong. */
static int parse_secondary(struct agent_config *c, char *v, const char *path, int line,
			   struct upt_error *err)
{
	static const char *const names[5] = {"address", "port", "serial", "hardware id",
					     "verification"};
	struct agent_secondary *s;
	char *f[5], *extra;
	if (c->n_secondaries == AGENT_SECONDARIES_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s:%d: secondary: more than %d", path,
				     line, AGENT_SECONDARIES_MAX);
	s = &c->secondary[c->n_secondaries];
	memset(s, 0, sizeof *s);
	for (int i = 0; i < 5; i++)
		if (!(f[i] = next_field(&v)))
			return upt_error_set(err, UPT_ERR_FIELD_MISSING,
					     "%s:%d: secondary: %s missing (ADDRESS PORT SERIAL "
					     "HARDWARE_ID full|partial)",
					     path, line, names[i]);
	if ((extra = next_field(&v)))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: '%.64s' after the verification kind", path,
				     line, extra);
	if (!host_name_ok(f[0]))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: address '%.64s': a host name or IP address",
				     path, line, f[0]);
	if (!set_int(&s->port, f[1], 1, 65535))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: port '%.64s': 1 to 65535", path, line,
				     f[1]);
	if (!plain(f[2]) || !set_str(s->serial, sizeof s->serial, f[2]))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: serial: at most %zu bytes, no quotes, "
				     "backslashes or control characters",
				     path, line, sizeof s->serial - 1);
	if (!plain(f[3]) || !set_str(s->hardware_id, sizeof s->hardware_id, f[3]))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: hardware id: at most %zu bytes, no quotes, "
				     "backslashes or control characters",
				     path, line, sizeof s->hardware_id - 1);
	if (strcmp(f[4], "full") != 0 && strcmp(f[4], "partial") != 0)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s:%d: secondary: verification '%.64s': full or partial",
				     path, line, f[4]);
	memcpy(s->address, f[0], strlen(f[0]) + 1);
	s->partial = strcmp(f[4], "partial") == 0;
	for (size_t i = 0; i < c->n_secondaries; i++)
		if (strcmp(c->secondary[i].serial, s->serial) == 0)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s:%d: secondary: serial %s listed twice", path, line,
					     s->serial);
	c->n_secondaries++;
	return UPT_OK;
}

static void defaults(struct agent_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->install, sizeof c->install, "ab");
	snprintf(c->bootloader, sizeof c->bootloader, "sim");
	c->boot_limit = 3;
	c->health_timeout = 60;
	c->interval = 3600;
	c->jitter = 600;
	c->auto_update = true;
	c->deadline_base = 60;
	c->min_download_rate = 4096;
	c->secondary_timeout = 10;
	c->secondary_install_timeout = 300;
	c->secondaries_wait_port = -1;
	c->secondaries_wait_timeout = 120;
	snprintf(c->secondaries_wait_address, sizeof c->secondaries_wait_address, "0.0.0.0");
	c->support_notify_days = 90;
}

static int parse_lines(struct agent_config *c, const char *path, char *text, struct upt_error *err)
{
	int rc = UPT_OK, line = 0;
	for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		char *k, *v, *eq, *hash;
		bool ok = true;
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		line++;
		if ((hash = strchr(p, '#')))
			*hash = 0;
		k = trim(p);
		if (!*k)
			continue;
		if (!(eq = strchr(k, '='))) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: expected key = value",
					   path, line);
			break;
		}
		*eq = 0;
		v = trim(eq + 1);
		k = trim(k);
#define S(name, field) else if (strcmp(k, name) == 0) ok = set_str(c->field, sizeof c->field, v)
		if (0)
			;
		S("server", server);
		S("ca", ca);
		S("cert", cert);
		S("key", key);
		S("state_dir", state_dir);
		S("director_root", director_root);
		S("image_root", image_root);
		S("primary_serial", primary_serial);
		S("hardware_id", hardware_id);
		S("install", install);
		S("slot_a", slot[0]);
		S("slot_b", slot[1]);
		S("target_file", slot[0]);
		S("bootloader", bootloader);
		S("health_dir", health_dir);
		S("install_script", install_script);
		S("fleet_cert", fleet_cert);
		S("fleet_key", fleet_key);
		S("device_id", device_id);
		S("uboot_config", uboot_config);
		S("grub_env", grub_env);
		S("notify_dir", notify_dir);
		S("secondaries_wait_address", secondaries_wait_address);
		S("secondaries_wait_port_file", secondaries_wait_port_file);
		else if (strcmp(k, "boot_limit") == 0) ok = set_int(&c->boot_limit, v, 1, 100);
		else if (strcmp(k, "health_timeout") == 0) ok =
		    set_int(&c->health_timeout, v, 1, 3600);
		else if (strcmp(k, "interval") == 0) ok = set_int(&c->interval, v, 1, 7 * 86400);
		else if (strcmp(k, "jitter") == 0) ok = set_int(&c->jitter, v, 0, 86400);
		else if (strcmp(k, "auto_update") == 0)
		{
			ok = strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
			c->auto_update = strcmp(v, "true") == 0;
		}
		else if (strcmp(k, "postpone_until") == 0)
		{
			ok = upt_time_parse(&c->postpone_until, v, strlen(v)) == UPT_OK;
		}
		else if (strcmp(k, "max_download_rate") == 0)
		{
			int r = 0;
			ok = set_int(&r, v, 0, 1 << 30);
			c->max_download_rate = r;
		}
		else if (strcmp(k, "secondary") == 0)
		{
			if ((rc = parse_secondary(c, v, path, line, err)) != UPT_OK)
				break;
		}
		else if (strcmp(k, "secondary_timeout") == 0) ok =
		    set_int(&c->secondary_timeout, v, 1, 600);
		else if (strcmp(k, "secondary_install_timeout") == 0) ok =
		    set_int(&c->secondary_install_timeout, v, 1, 86400);
		else if (strcmp(k, "secondaries_wait_port") == 0) ok =
		    set_int(&c->secondaries_wait_port, v, 0, 65535);
		else if (strcmp(k, "secondaries_wait_timeout") == 0) ok =
		    set_int(&c->secondaries_wait_timeout, v, 1, 86400);
		else if (strcmp(k, "verity") == 0)
		{
			ok = strcmp(v, "required") == 0 || strcmp(v, "optional") == 0;
			c->verity_required = strcmp(v, "required") == 0;
		}
		else if (strcmp(k, "support_notify_days") == 0) ok =
		    set_int(&c->support_notify_days, v, 0, 3650);
		else if (strcmp(k, "deadline_base") == 0) ok =
		    set_int(&c->deadline_base, v, 1, 86400);
		else if (strcmp(k, "min_download_rate") == 0)
		{
			int r = 0;
			ok = set_int(&r, v, 1, 1 << 30);
			c->min_download_rate = r;
		}
		else
		{
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: unknown key '%s'",
					   path, line, k);
			break;
		}
#undef S
		if (!ok) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: bad value for %s",
					   path, line, k);
			break;
		}
	}
	return rc;
}

/* What the lines left: every required key, one install and one
 * bootloader backend with what they need. */
static int check(struct agent_config *c, const char *path, struct upt_error *err)
{
	if (!c->server[0] || !c->ca[0] || !c->cert[0] || !c->key[0] || !c->state_dir[0] ||
	    !c->director_root[0] || !c->image_root[0] || !c->primary_serial[0] ||
	    !c->hardware_id[0])
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s: server, ca, cert, key, state_dir, director_root, "
				     "image_root, primary_serial and hardware_id are required",
				     path);
	if (!plain(c->primary_serial) || !plain(c->hardware_id) || !plain(c->device_id) ||
	    !plain(c->server))
		return upt_error_set(
		    err, UPT_ERR_FIELD_VALUE,
		    "%s: server, primary_serial, hardware_id and device_id may not "
		    "hold quotes, backslashes or control characters",
		    path);
	for (size_t i = 0; i < c->n_secondaries; i++)
		if (strcmp(c->secondary[i].serial, c->primary_serial) == 0)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: secondary %s: the primary's own serial", path,
					     c->primary_serial);
	if (strcmp(c->install, "script") == 0 && c->install_script[0] &&
	    strlen(c->state_dir) + 12 < sizeof c->slot[0]) {
		size_t n = strlen(c->state_dir);
		memcpy(c->slot[0], c->state_dir, n);
		memcpy(c->slot[0] + n, "/image.bin", 11);
	}
	{
		bool ab = strcmp(c->install, "ab") == 0;
		bool one = strcmp(c->install, "file") == 0 || strcmp(c->install, "script") == 0;
		if (ab ? !c->slot[0][0] || !c->slot[1][0] : !one || !c->slot[0][0])
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: install = ab needs slot_a and slot_b; file needs "
					     "target_file; script needs install_script",
					     path);
	}
	if (c->postpone_until > (int64_t)time(NULL) + 30 * 86400)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: postpone_until: at most 30 days ahead (updates are "
				     "automatic; postponing is bounded)",
				     path);
	if (strcmp(c->bootloader, "sim") != 0 && strcmp(c->bootloader, "uboot") != 0 &&
	    strcmp(c->bootloader, "grub") != 0)
		return upt_error_set(err, UPT_ERR_UNSUPPORTED,
				     "%s: bootloader %s: sim, uboot or grub", path, c->bootloader);
	if (strcmp(c->bootloader, "uboot") == 0 && !c->uboot_config[0])
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s: bootloader = uboot needs uboot_config (fw_env.config)",
				     path);
	if (strcmp(c->bootloader, "grub") == 0 && !c->grub_env[0])
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s: bootloader = grub needs grub_env (the grubenv file)",
				     path);
	return UPT_OK;
}

int agent_config_parse(struct agent_config *c, const char *name, const uint8_t *data, size_t len,
		       struct upt_error *err)
{
	char *text;
	int rc;
	defaults(c);
	if (len > AGENT_CONFIG_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %zu bytes", name,
				     AGENT_CONFIG_MAX);
	if (len && memchr(data, 0, len))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: a NUL byte", name);
	if (!(text = malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", name);
	memcpy(text, data, len);
	text[len] = 0;
	rc = parse_lines(c, name, text, err);
	free(text);
	if (rc == UPT_OK)
		rc = check(c, name, err);
	if (rc != UPT_OK)
		defaults(c);
	return rc;
}

int agent_config_load(struct agent_config *c, const char *path, struct upt_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc = host_read_file(path, AGENT_CONFIG_MAX, &text, &len, err);
	if (rc == UPT_OK)
		rc = agent_config_parse(c, path, text, len, err);
	free(text);
	return rc;
}
