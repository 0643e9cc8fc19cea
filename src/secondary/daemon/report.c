/* uptake-secondary: the ECU key (made on first start, never sent) and the
 * signed version report, in the shape uptake-agent's ECU version reports
 * have: attacks_detected, ecu_serial, installed_image (fileinfo with
 * hashes and length, filepath), report_counter; with A/B slots also
 * installation_result (code, description, image, success): how the last
 * install went, a rollback to the previous image included. The counter
 * goes up with every report, and is stored before the report leaves. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>

#include "../../host/host.h"
#include "secondary.h"

#define NO_IMAGE "0000000000000000000000000000000000000000000000000000000000000000"

/* The public key as aktualizr sends an Ed25519 key: hex. */
static int public_hex(struct secondary *s, struct upt_error *err)
{
	char *pub = NULL;
	size_t pl = 0;
	uint8_t mem[16384];
	struct upt_arena a;
	struct upt_json *j = NULL;
	int rc = upt_privkey_public_json(&pub, &pl, s->key, UPT_DIALECT_TUF, err);
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, sizeof mem);
		rc = upt_json_parse(&j, &a, (const uint8_t *)pub, pl, NULL, err);
	}
	if (rc == UPT_OK) {
		const struct upt_json *kv = upt_json_get(j, "keyval");
		const struct upt_json *p = kv ? upt_json_get(kv, "public") : NULL;
		if (!p || p->type != UPT_JSON_STRING || p->len >= sizeof s->key_hex)
			rc = upt_error_set(err, UPT_ERR_KEY, "ECU key: no public value");
		else
			memcpy(s->key_hex, p->str, p->len + 1);
	}
	upt_free(pub);
	return rc;
}

int sec_key_load(struct secondary *s, struct upt_error *err)
{
	char path[SEC_PATH + 16], *pem = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = UPT_OK;
	sec_state_path(path, sizeof path, s->c, "ecu-key.pem");
	if (access(path, F_OK) != 0) {
		struct upt_privkey *k = NULL;
		rc = upt_privkey_generate(&k, UPT_KEY_ED25519, err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &len, k, NULL, err);
		if (rc == UPT_OK)
			rc = host_write_file(path, pem, len, err);
		if (rc == UPT_OK)
			chmod(path, 0600);
		if (pem)
			upt_free_secret(pem, len);
		upt_privkey_free(k);
	}
	if (rc == UPT_OK)
		rc = host_read_file(path, 65536, &data, &len, err);
	if (rc == UPT_OK)
		rc = upt_privkey_load_pem(&s->key, (const char *)data, len, NULL, err);
	if (data)
		upt_free_secret(data, len);
	if (rc == UPT_OK)
		rc = public_hex(s, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, path);
	return rc;
}

void sec_attack(struct secondary *s, int code, const char *msg)
{
	char path[SEC_PATH + 16];
	struct upt_error e;
	sec_state_path(path, sizeof path, s->c, "attack");
	if (code == UPT_OK) {
		s->attack[0] = 0;
		unlink(path);
		return;
	}
	/* a link that failed is no attack */
	if (code == UPT_ERR_IO || code == UPT_ERR_NOMEM)
		return;
	snprintf(s->attack, sizeof s->attack, "%s: %s", upt_err_name(code), msg ? msg : "");
	if (host_write_file(path, s->attack, strlen(s->attack), &e) != UPT_OK)
		sec_log("%s", e.msg);
}

static void load_attack(struct secondary *s)
{
	char path[SEC_PATH + 16];
	uint8_t *data = NULL;
	size_t len = 0;
	if (s->attack[0])
		return;
	sec_state_path(path, sizeof path, s->c, "attack");
	if (host_read_file(path, sizeof s->attack - 1, &data, &len, NULL) == UPT_OK) {
		memcpy(s->attack, data, len);
		s->attack[len] = 0;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s->attack[i] < 0x20)
				s->attack[i] = '?';
	}
	upt_free(data);
}

/* The next report counter: one more than the stored one. */
static int next_counter(struct secondary *s, int64_t *out, struct upt_error *err)
{
	char path[SEC_PATH + 16], text[32];
	uint8_t *data = NULL;
	size_t len = 0;
	int64_t n = 0;
	sec_state_path(path, sizeof path, s->c, "counter");
	int rc = host_read_file(path, 24, &data, &len, err);
	if (rc == UPT_ERR_NOT_FOUND) {
		rc = UPT_OK;
	} else if (rc == UPT_OK) {
		char *end;
		errno = 0;
		long long v = strtoll((const char *)data, &end, 10);
		/* a counter that does not parse is not guessed at */
		if (errno || end == (char *)data || *end != '\n' || end[1] || v < 0 ||
		    v >= INT64_MAX - 1)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: not a report counter",
					   path);
		n = v;
	}
	upt_free(data);
	if (rc != UPT_OK)
		return rc;
	n++;
	snprintf(text, sizeof text, "%lld\n", (long long)n);
	rc = host_write_file(path, text, strlen(text), err);
	*out = n;
	return rc;
}

/* The dialect of the trusted Director root: reports are spelt as the
 * repositories are. */
static enum upt_dialect director_dialect(const struct secondary *s)
{
	char path[SEC_PATH + 32];
	uint8_t *text = NULL;
	size_t len = 0;
	enum upt_dialect d = UPT_DIALECT_TUF;
	sec_state_path(path, sizeof path, s->c, "director/root.json");
	if (host_read_file(path, UPT_DEFAULT_ROOT_MAX, &text, &len, NULL) != UPT_OK)
		return d;
	size_t cap = 32 * len + 65536;
	void *mem = upt_malloc(cap);
	struct upt_arena a;
	struct upt_doc doc;
	if (mem) {
		upt_arena_init(&a, mem, cap);
		if (upt_doc_parse(&doc, &a, text, len, 0, "root.json", NULL) == UPT_OK)
			d = doc.dialect;
	}
	upt_free(mem);
	upt_free(text);
	return d;
}

static struct upt_json *str(struct upt_json *v, const char *key, const char *s)
{
	memset(v, 0, sizeof *v);
	v->key = key;
	v->key_len = strlen(key);
	v->type = UPT_JSON_STRING;
	v->str = s;
	v->len = strlen(s);
	return v;
}

static struct upt_json *integer(struct upt_json *v, const char *key, int64_t i)
{
	str(v, key, "");
	v->type = UPT_JSON_INT;
	v->i = i;
	return v;
}

static struct upt_json *obj(struct upt_json *v, const char *key, struct upt_json **items, size_t n)
{
	memset(v, 0, sizeof *v);
	v->key = key;
	v->key_len = key ? strlen(key) : 0;
	v->type = UPT_JSON_OBJECT;
	v->items = items;
	v->n = n;
	return v;
}

static int json_text(char **out, const struct upt_json *v, struct upt_error *err)
{
	size_t len = 0;
	int rc = upt_json_write(NULL, 0, &len, v, err);
	*out = NULL;
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM)
		return rc;
	if (!(*out = upt_malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_write((uint8_t *)*out, len + 1, &len, v, err);
	if (rc != UPT_OK) {
		upt_free(*out);
		*out = NULL;
		return rc;
	}
	(*out)[len] = 0;
	return UPT_OK;
}

static struct upt_json *boolean(struct upt_json *v, const char *key, bool b)
{
	str(v, key, "");
	v->type = b ? UPT_JSON_TRUE : UPT_JSON_FALSE;
	return v;
}

int sec_version_report(struct secondary *s, char **out, size_t *out_len, struct upt_error *err)
{
	const struct sec_image *img = &s->installed;
	struct upt_json v[14], *items[5], *fileinfo[2], *hashes[1], *image[2], *res[4];
	struct sec_install_result ir;
	char digits[24], *text = NULL;
	int64_t counter = 0;
	size_t n = 0;
	enum upt_dialect dialect = director_dialect(s);
	int rc = next_counter(s, &counter, err);
	*out = NULL;
	if (rc != UPT_OK)
		return rc;
	load_attack(s);
	hashes[0] = str(&v[0], "sha256", img->name[0] ? img->sha256 : NO_IMAGE);
	fileinfo[0] = obj(&v[1], "hashes", hashes, 1);
	fileinfo[1] = integer(&v[2], "length", img->name[0] ? img->length : 0);
	image[0] = obj(&v[3], "fileinfo", fileinfo, 2);
	image[1] = str(&v[4], "filepath", img->name[0] ? img->name : "none");
	items[n++] = str(&v[5], "attacks_detected", s->attack);
	items[n++] = str(&v[6], "ecu_serial", s->c->serial);
	if (s->c->ab && sec_install_result_load(s, &ir)) {
		res[0] = str(&v[9], "code", ir.code);
		res[1] = str(&v[10], "description", ir.description);
		res[2] = str(&v[11], "image", ir.image);
		res[3] = boolean(&v[12], "success", ir.success);
		items[n++] = obj(&v[13], "installation_result", res, 4);
	}
	items[n++] = obj(&v[7], "installed_image", image, 2);
	snprintf(digits, sizeof digits, "%lld", (long long)counter);
	items[n++] = dialect == UPT_DIALECT_AKTUALIZR ? str(&v[8], "report_counter", digits)
						      : integer(&v[8], "report_counter", counter);
	struct upt_json doc;
	rc = json_text(&text, obj(&doc, NULL, items, n), err);
	if (rc == UPT_OK)
		rc = upt_privkey_sign_document(out, out_len, text, &s->key, 1, dialect, err);
	upt_free(text);
	return rc;
}
