/* uptake-agent: the small files in state_dir, each replaced atomically:
 *   slot-a.info, slot-b.info  what each slot holds ("NAME LENGTH SHA256")
 *   counter                   the last report counter sent
 *   failed-images             sha256 of images that failed (one per line)
 *   download.for              which image and slot download.part is for
 *   ecu-key.pem               the ECU key, made on the device (0600)
 * What is read back is parsed strictly: a record that does not parse is no
 * record. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>

#include "../host/host.h"
#include "backends.h"

void state_path(char *out, size_t cap, const struct agent_config *c, const char *name)
{
	snprintf(out, cap, "%s/%s", c->state_dir, name);
}

int state_read(const struct agent_config *c, const char *name, char *out, size_t cap)
{
	char path[AGENT_PATH + 64];
	uint8_t *t = NULL;
	size_t len = 0;
	struct upt_error e;
	state_path(path, sizeof path, c, name);
	out[0] = 0;
	if (host_read_file(path, cap - 1, &t, &len, &e) != UPT_OK)
		return e.code == UPT_ERR_NOT_FOUND ? -1 : -2;
	memcpy(out, t, len);
	out[len] = 0;
	free(t);
	return 0;
}

int state_write(const struct agent_config *c, const char *name, const char *text,
		struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	state_path(path, sizeof path, c, name);
	return host_write_file(path, text, strlen(text), err);
}

static bool is_hex64(const uint8_t *p, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* Decimal digits only, at most 19, no leading zero but "0". */
static bool parse_decimal(int64_t *out, const uint8_t *p, size_t n)
{
	int64_t v = 0;
	if (n == 0 || n > 19 || (n > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		if (v > (INT64_MAX - (p[i] - '0')) / 10)
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

int state_parse_slot(struct slot_info *s, const uint8_t *data, size_t len, struct upt_error *err)
{
	const uint8_t *sp1, *sp2, *end;
	size_t nl;
	memset(s, 0, sizeof *s);
	if (len == 0 || data[len - 1] != '\n')
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "slot record: no end of line");
	end = data + len - 1;
	/* from the end: the sha256, the length, and the name (spaces allowed) */
	for (sp2 = end; sp2 > data && sp2[-1] != ' '; sp2--)
		;
	for (sp1 = sp2 > data ? sp2 - 1 : data; sp1 > data && sp1[-1] != ' '; sp1--)
		;
	if (sp2 == data || sp1 <= data + 1)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "slot record: expected NAME LENGTH SHA256");
	nl = (size_t)(sp1 - 1 - data);
	if (nl >= sizeof s->name)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "slot record: name too long");
	for (size_t i = 0; i < nl; i++)
		if (data[i] < 0x20 || data[i] == 0x7f)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "slot record: a control byte in the name");
	if (!parse_decimal(&s->length, sp1, (size_t)(sp2 - 1 - sp1)))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "slot record: bad length");
	if (!is_hex64(sp2, (size_t)(end - sp2))) {
		s->length = 0;
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "slot record: bad sha256");
	}
	memcpy(s->name, data, nl);
	s->name[nl] = 0;
	memcpy(s->sha256, sp2, 64);
	s->sha256[64] = 0;
	return UPT_OK;
}

int state_format_slot(char *out, size_t cap, const struct slot_info *s, struct upt_error *err)
{
	size_t nl = strlen(s->name);
	int n;
	for (size_t i = 0; i < nl; i++)
		if ((unsigned char)s->name[i] < 0x20 || s->name[i] == 0x7f)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "image name: a control byte");
	if (nl == 0 || s->length < 0 || !is_hex64((const uint8_t *)s->sha256, strlen(s->sha256)))
		return upt_error_set(err, UPT_ERR_ARG, "slot record: incomplete");
	n = snprintf(out, cap, "%s %lld %s\n", s->name, (long long)s->length, s->sha256);
	if (n < 0 || (size_t)n >= cap)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "slot record: too long");
	return UPT_OK;
}

void state_slot_load(const struct agent_config *c, int slot, struct slot_info *s)
{
	char text[512], name[16];
	struct upt_error e;
	snprintf(name, sizeof name, "slot-%c.info", slot ? 'b' : 'a');
	memset(s, 0, sizeof *s);
	if (state_read(c, name, text, sizeof text) != 0)
		return;
	if (state_parse_slot(s, (const uint8_t *)text, strlen(text), &e) != UPT_OK)
		agent_log("%s/%s: %s: taken as empty", c->state_dir, name, e.msg);
}

int state_slot_save(const struct agent_config *c, int slot, const struct slot_info *s,
		    struct upt_error *err)
{
	char text[512], name[16];
	int rc = state_format_slot(text, sizeof text, s, err);
	snprintf(name, sizeof name, "slot-%c.info", slot ? 'b' : 'a');
	return rc == UPT_OK ? state_write(c, name, text, err) : rc;
}

int state_parse_counter(int64_t *counter, const uint8_t *data, size_t len, struct upt_error *err)
{
	*counter = 0;
	if (len == 0 || data[len - 1] != '\n' || !parse_decimal(counter, data, len - 1) ||
	    *counter == INT64_MAX) {
		*counter = 0;
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "report counter: not a decimal number and a newline");
	}
	return UPT_OK;
}

bool state_list_has(const uint8_t *data, size_t len, const char *sha256)
{
	size_t sl = strlen(sha256);
	if (!is_hex64((const uint8_t *)sha256, sl))
		return false;
	for (const uint8_t *p = data, *end = data + len, *nl; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if ((size_t)(nl - p) == sl && memcmp(p, sha256, sl) == 0)
			return true;
	}
	return false;
}

bool state_failed_before(const struct agent_config *c, const char *sha256)
{
	char text[STATE_SMALL_MAX];
	return sha256[0] && state_read(c, "failed-images", text, sizeof text) == 0 &&
	       state_list_has((const uint8_t *)text, strlen(text), sha256);
}

int state_remember_failed(const struct agent_config *c, const char *sha256, struct upt_error *err)
{
	char text[STATE_SMALL_MAX];
	size_t n;
	if (state_read(c, "failed-images", text, sizeof text) != 0)
		text[0] = 0;
	n = strlen(text);
	if (n + 66 >= sizeof text) /* keep the newest */
		n = 0;
	snprintf(text + n, sizeof text - n, "%s\n", sha256);
	return state_write(c, "failed-images", text, err);
}

int state_ecu_key(const struct agent_config *c, struct upt_privkey **key, char *keyid,
		  struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;
	state_path(path, sizeof path, c, "ecu-key.pem");
	rc = host_read_file(path, 65536, &pem, &len, err);
	if (rc == UPT_OK)
		rc = upt_privkey_load_pem(key, (char *)pem, len, NULL, err);
	if (rc == UPT_OK)
		rc = upt_privkey_keyid(keyid, *key, UPT_DIALECT_TUF, err);
	if (pem)
		upt_free_secret(pem, len);
	return rc;
}
