/* uptake-agent: first start. The trusted roots are copied into state_dir,
 * an ECU key is made here (it never leaves the device), and the ECU is
 * registered with the Director. With shared-credential provisioning the
 * device first gets its own certificate with the fleet credential
 * (aktualizr's POST /devices): the answer is a PKCS#12 bundle, checked
 * before anything of it is kept. */
#define _GNU_SOURCE
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "agent.h"

static char *pem_of_bio(BIO *b, size_t *len)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0 || !(out = malloc((size_t)n + 1)))
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = 0;
	*len = (size_t)n;
	return out;
}

/* Is the certificate's common name exactly `want`? */
static bool cn_is(X509 *cert, const char *want)
{
	char cn[256];
	X509_NAME *subject = X509_get_subject_name(cert);
	int n = subject ? X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn) : -1;
	return n >= 0 && (size_t)n == strlen(want) && memcmp(cn, want, (size_t)n) == 0;
}

int agent_p12_parse(const uint8_t *der, size_t len, const char *device_id, char **key_pem,
		    size_t *key_len, char **cert_pem, size_t *cert_len, struct upt_error *err)
{
	const unsigned char *p = der;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	BIO *kb = NULL, *cb = NULL;
	int rc = UPT_OK;
	*key_pem = *cert_pem = NULL;
	*key_len = *cert_len = 0;
	if (len == 0 || len > AGENT_REPLY_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "provisioning: a PKCS#12 bundle of %zu bytes (1 to %zu)", len,
				     AGENT_REPLY_MAX);
	if (!(p12 = d2i_PKCS12(NULL, &p, (long)len)) || p != der + len ||
	    PKCS12_parse(p12, "", &pkey, &cert, &ca) != 1 || !pkey || !cert)
		rc = upt_error_set(err, UPT_ERR_CRYPTO,
				   "provisioning: not a PKCS#12 bundle "
				   "(one key and its certificate, no password)");
	else if (X509_check_private_key(cert, pkey) != 1)
		rc = upt_error_set(err, UPT_ERR_CRYPTO,
				   "provisioning: the certificate is not for the key");
	else if (device_id && !cn_is(cert, device_id))
		rc = upt_error_set(err, UPT_ERR_CRYPTO,
				   "provisioning: the certificate is not for device %s", device_id);
	if (rc == UPT_OK &&
	    (!(kb = BIO_new(BIO_s_mem())) || !(cb = BIO_new(BIO_s_mem())) ||
	     PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	     PEM_write_bio_X509(cb, cert) != 1 || !(*key_pem = pem_of_bio(kb, key_len)) ||
	     !(*cert_pem = pem_of_bio(cb, cert_len)))) {
		if (*key_pem)
			upt_free_secret(*key_pem, *key_len);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
		rc = upt_error_set(err, UPT_ERR_NOMEM, "provisioning: cannot keep the key");
	}
	BIO_free(kb); /* OpenSSL clears a memory BIO's buffer when it frees it */
	BIO_free(cb);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	EVP_PKEY_free(pkey);
	PKCS12_free(p12);
	return rc;
}

/* Shared-credential provisioning: the fleet credential asks the server for
 * this device's certificate and key, kept as `cert` and `key` (0600). Done
 * once: afterwards the device's own certificate is used. */
static int provision_tls(const struct agent_config *c, struct upt_error *err)
{
	char url[700], *body = NULL, *resp = NULL, *kd = NULL, *cd = NULL;
	struct upt_json v[2], doc, *items[2];
	struct host_request rq = {0};
	size_t rl = 0, kl = 0, cl = 0;
	long status = 0;
	int rc;
	if (access(c->cert, F_OK) == 0 && access(c->key, F_OK) == 0)
		return UPT_OK;
	if (!c->fleet_cert[0] || !c->fleet_key[0] || !c->device_id[0])
		return upt_error_set(
		    err, UPT_ERR_NOT_FOUND,
		    "%s: no device certificate, and no fleet credential to get one", c->cert);
	snprintf(url, sizeof url, "%s/devices", c->server);
	items[0] = agent_json_str(&v[0], "deviceId", c->device_id);
	items[1] = agent_json_int(&v[1], "ttl", 36000);
	rc = agent_json_text(&body, agent_json_obj(&doc, NULL, items, 2), err);
	if (rc != UPT_OK)
		return rc;
	rq.method = "POST";
	rq.url = url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	rq.ca_file = c->ca;
	rq.cert_file = c->fleet_cert;
	rq.key_file = c->fleet_key;
	host_set_tls(c->ca, NULL, NULL);
	rc = host_http_request(&rq, AGENT_REPLY_MAX, &resp, &rl, &status, err);
	host_set_tls(c->ca, c->cert, c->key);
	if (rc == UPT_OK && status != 200)
		rc = upt_error_set(err, UPT_ERR_IO, "provisioning: HTTP %lld: %.200s",
				   (long long)status, resp);
	if (rc == UPT_OK)
		rc = agent_p12_parse((const uint8_t *)resp, rl, c->device_id, &kd, &kl, &cd, &cl,
				     err);
	if (rc == UPT_OK) {
		rc = host_write_file(c->key, kd, kl, err);
		if (rc == UPT_OK)
			chmod(c->key, 0600);
		if (rc == UPT_OK)
			rc = host_write_file(c->cert, cd, cl, err);
	}
	if (rc == UPT_OK)
		agent_log("provisioned as %s with the fleet credential", c->device_id);
	if (kd)
		upt_free_secret(kd, kl);
	free(cd);
	free(resp);
	free(body);
	return rc;
}

/* A provisioned root: into REPO/root.json and kept by its version. */
static int copy_root(const struct agent_config *c, const char *from, const char *repo,
		     const char *to, struct upt_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = host_read_file(from, 1 << 20, &data, &len, err);
	if (rc == UPT_OK)
		rc = host_write_file(to, data, len, err);
	if (rc == UPT_OK)
		rc = agent_keep_root(c, repo, data, len, err);
	free(data);
	return rc;
}

/* The ECU key, made on first start (0600). */
static int make_ecu_key(const struct agent_config *c, struct upt_error *err)
{
	char path[AGENT_PATH + 64], *pem = NULL;
	struct upt_privkey *key = NULL;
	size_t len = 0;
	int rc;
	state_path(path, sizeof path, c, "ecu-key.pem");
	if (access(path, F_OK) == 0)
		return UPT_OK;
	rc = upt_privkey_generate(&key, UPT_KEY_ED25519, err);
	if (rc == UPT_OK)
		rc = upt_privkey_save_pem(&pem, &len, key, NULL, err);
	if (rc == UPT_OK)
		rc = host_write_file(path, pem, len, err);
	if (rc == UPT_OK)
		chmod(path, 0600);
	if (pem)
		upt_free_secret(pem, len);
	upt_privkey_free(key);
	return rc;
}

static int copy_roots(const struct agent_config *c, struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	int rc;
	state_path(path, sizeof path, c, "director");
	rc = host_mkdirs(path, err);
	state_path(path, sizeof path, c, "image");
	if (rc == UPT_OK)
		rc = host_mkdirs(path, err);
	state_path(path, sizeof path, c, "director/root.json");
	if (rc == UPT_OK && access(path, F_OK) != 0)
		rc = copy_root(c, c->director_root, "director", path, err);
	state_path(path, sizeof path, c, "image/root.json");
	if (rc == UPT_OK && access(path, F_OK) != 0)
		rc = copy_root(c, c->image_root, "image", path, err);
	return rc;
}

/* One ECU of the registration: its key object, serial and hardware id. */
static int ecu_entry(struct upt_json *ecu, struct upt_json *v, struct upt_json **items,
		     struct upt_arena *a, const char *pub, const char *serial, const char *hw,
		     struct upt_error *err)
{
	struct upt_json *key = NULL;
	int rc = upt_json_parse(&key, a, (const uint8_t *)pub, strlen(pub), NULL, err);
	if (rc != UPT_OK)
		return rc;
	key->key = "clientKey";
	key->key_len = strlen(key->key);
	/* keys in bytewise order: capitals first */
	items[0] = key;
	items[1] = agent_json_str(&v[0], "ecu_serial", serial);
	items[2] = agent_json_str(&v[1], "hardware_identifier", hw);
	agent_json_obj(ecu, NULL, items, 3);
	return UPT_OK;
}

/* POST /director/ecus: the primary and every secondary, each with its
 * public key as a key object. */
static int registration(char **out, const struct agent_config *c, const char *pub,
			char *const *keys, struct upt_error *err)
{
	enum { N = AGENT_SECONDARIES_MAX + 1 };
	struct upt_json v[2 * N + 1], ecu[N], top, arr, *items[2], *ecu_items[N][3], *ecus[N];
	struct upt_arena a;
	size_t n = c->n_secondaries + 1;
	void *mem = malloc((size_t)N << 14);
	int rc;
	if (!mem)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&a, mem, (size_t)N << 14);
	rc = ecu_entry(&ecu[0], &v[0], ecu_items[0], &a, pub, c->primary_serial, c->hardware_id,
		       err);
	for (size_t i = 1; rc == UPT_OK && i < n; i++)
		rc = ecu_entry(&ecu[i], &v[2 * i], ecu_items[i], &a, keys[i - 1],
			       c->secondary[i - 1].serial, c->secondary[i - 1].hardware_id, err);
	for (size_t i = 0; i < n; i++)
		ecus[i] = &ecu[i];
	if (rc == UPT_OK) {
		items[0] = agent_json_arr(&arr, "ecus", ecus, n);
		items[1] = agent_json_str(&v[2 * N], "primary_ecu_serial", c->primary_serial);
		rc = agent_json_text(out, agent_json_obj(&top, NULL, items, 2), err);
	}
	free(mem);
	return rc;
}

/* Roots as they are trusted are also kept by version (REPO/roots/N.root.json):
 * a secondary is brought up to date along the same chain. */
int agent_keep_root(const struct agent_config *c, const char *repo, const uint8_t *data, size_t len,
		    struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	struct upt_json *v = NULL;
	const struct upt_json *sig, *ver;
	struct upt_arena a;
	size_t cap = 32 * len + 65536;
	void *mem = malloc(cap);
	int rc;
	if (!mem)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&a, mem, cap);
	rc = upt_json_parse(&v, &a, data, len, NULL, err);
	sig = rc == UPT_OK ? upt_json_get(v, "signed") : NULL;
	ver = sig ? upt_json_get(sig, "version") : NULL;
	if (rc == UPT_OK && (!ver || ver->type != UPT_JSON_INT || ver->i < 1))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s root: no version", repo);
	if (rc == UPT_OK) {
		snprintf(path, sizeof path, "%s/%s/roots", c->state_dir, repo);
		rc = host_mkdirs(path, err);
	}
	if (rc == UPT_OK) {
		snprintf(path, sizeof path, "%s/%s/roots/%lld.root.json", c->state_dir, repo,
			 (long long)ver->i);
		rc = host_write_file(path, data, len, err);
	}
	free(mem);
	return rc;
}

int agent_provision(const struct agent_config *c, struct upt_error *err)
{
	char flag[8], keyid[UPT_KEYID_MAX + 1], *pub = NULL, *body = NULL;
	char *keys[AGENT_SECONDARIES_MAX] = {NULL};
	struct upt_privkey *key = NULL;
	size_t pl = 0;
	int rc;
	if (state_read(c, "registered", flag, sizeof flag) == 0)
		return UPT_OK;
	rc = host_mkdirs(c->state_dir, err);
	if (rc == UPT_OK)
		rc = provision_tls(c, err);
	if (rc == UPT_OK)
		rc = copy_roots(c, err);
	if (rc == UPT_OK)
		rc = make_ecu_key(c, err);
	if (rc == UPT_OK)
		rc = state_ecu_key(c, &key, keyid, err);
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&pub, &pl, key, UPT_DIALECT_TUF, err);
	/* every ECU is registered at once: each secondary must answer */
	if (rc == UPT_OK)
		rc = sec_keys(keys, c, err);
	if (rc == UPT_OK)
		rc = registration(&body, c, pub, keys, err);
	if (rc == UPT_OK)
		rc = agent_request(c, "POST", "/director/ecus", body, err);
	if (rc == UPT_OK)
		rc = state_write(c, "registered", "1\n", err);
	if (rc == UPT_OK)
		agent_log("provisioned: ECU %s (%s) registered, with %zu secondaries",
			  c->primary_serial, c->hardware_id, c->n_secondaries);
	for (size_t i = 0; i < c->n_secondaries; i++)
		upt_free(keys[i]);
	upt_free(pub);
	free(body);
	upt_privkey_free(key);
	return rc;
}
