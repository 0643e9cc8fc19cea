/* uptake-server: its own certificate authority for mutual TLS. At first
 * start it makes a CA (EC P-256), and a server certificate whose
 * subjectAltNames are the configured names; it issues one certificate per
 * device, whose common name is the device id. Files live in
 * data_dir/tls (keys 0600). */
#define _GNU_SOURCE
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../host/host.h"
#include "server.h"

#define DAY (24L * 3600L)

static EVP_PKEY *new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static char *pem_of_key(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = 0;
	}
	BIO_free(b);
	return out;
}

static char *pem_of_cert(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;
	if (b && PEM_write_bio_X509(b, c) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = 0;
	}
	BIO_free(b);
	return out;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

/* A certificate for `key` named `cn`, signed by issuer (self-signed when
 * issuer is NULL). `san` is a subjectAltName value or NULL. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long days,
		       bool ca, bool server, const char *san)
{
	X509 *c = X509_new();
	BIGNUM *serial = BN_new();
	bool ok = c && serial;
	if (ok)
		ok = BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		     BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c)) != NULL;
	if (ok) {
		X509_set_version(c, 2);
		X509_gmtime_adj(X509_getm_notBefore(c), -3600);
		X509_gmtime_adj(X509_getm_notAfter(c), days * DAY);
		X509_set_pubkey(c, key);
		ok = X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_UTF8,
						(const unsigned char *)cn, -1, -1, 0) == 1;
	}
	if (ok)
		ok = X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer)
						    : X509_get_subject_name(c)) == 1;
	if (ok)
		ok = add_ext(c, issuer ? issuer : c, NID_basic_constraints,
			     ca ? "critical,CA:TRUE" : "critical,CA:FALSE") == 0 &&
		     add_ext(c, issuer ? issuer : c, NID_key_usage,
			     ca ? "critical,keyCertSign,cRLSign"
				: "critical,digitalSignature,keyAgreement") == 0 &&
		     add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash") == 0;
	if (ok && !ca)
		ok = add_ext(c, issuer, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") ==
		     0;
	if (ok && san)
		ok = add_ext(c, issuer ? issuer : c, NID_subject_alt_name, san) == 0;
	if (ok)
		ok = X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	BN_free(serial);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static int write_pem(const char *dir, const char *name, const char *pem, struct upt_error *err)
{
	char path[1200];
	int rc;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	rc = host_write_file(path, pem, strlen(pem), err);
	if (rc == UPT_OK && strstr(name, ".key"))
		chmod(path, 0600);
	return rc;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return c;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k;
}

/* "DNS:localhost,IP:127.0.0.1" from "localhost,127.0.0.1". */
static void san_of(char *out, size_t cap, const char *names)
{
	size_t o = 0;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", names);
	out[0] = 0;
	for (char *save = NULL, *n = strtok_r(buf, ", ", &save); n;
	     n = strtok_r(NULL, ", ", &save)) {
		bool ip = strspn(n, "0123456789.") == strlen(n) || strchr(n, ':');
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s:%s", o ? "," : "",
				      ip ? "IP" : "DNS", n);
	}
}

int srv_ca_open(struct srv_ca *ca, const char *dir, const char *names, struct upt_error *err)
{
	char p_ca[1200], p_cak[1200], p_srv[1200], p_srvk[1200], san[1024];
	int rc;
	memset(ca, 0, sizeof *ca);
	snprintf(ca->dir, sizeof ca->dir, "%s", dir);
	rc = host_mkdirs(dir, err);
	if (rc != UPT_OK)
		return rc;
	chmod(dir, 0700);
	snprintf(p_ca, sizeof p_ca, "%s/ca.pem", dir);
	snprintf(p_cak, sizeof p_cak, "%s/ca.key", dir);
	snprintf(p_srv, sizeof p_srv, "%s/server.pem", dir);
	snprintf(p_srvk, sizeof p_srvk, "%s/server.key", dir);
	ca->cert = read_cert(p_ca);
	ca->key = read_key(p_cak);
	if (!ca->cert || !ca->key) {
		char *kp, *cp;
		X509_free(ca->cert);
		EVP_PKEY_free(ca->key);
		ca->key = new_key();
		ca->cert = ca->key ? make_cert(ca->key, "uptake device CA", NULL, NULL, 20 * 365,
					       true, false, NULL)
				   : NULL;
		kp = ca->key ? pem_of_key(ca->key) : NULL;
		cp = ca->cert ? pem_of_cert(ca->cert) : NULL;
		rc = kp && cp ? write_pem(dir, "ca.key", kp, err)
			      : upt_error_set(err, UPT_ERR_CRYPTO, "cannot make the CA");
		if (rc == UPT_OK)
			rc = write_pem(dir, "ca.pem", cp, err);
		free(kp);
		free(cp);
		if (rc != UPT_OK)
			return rc;
		srv_log(SRV_LOG_INFO, "tls: new device CA in %s/ca.pem", dir);
	}
	{
		X509 *srv = read_cert(p_srv);
		EVP_PKEY *k = read_key(p_srvk);
		if (!srv || !k) {
			char *kp, *cp;
			EVP_PKEY_free(k);
			X509_free(srv);
			san_of(san, sizeof san, names);
			k = new_key();
			srv = k ? make_cert(k, "uptake-server", ca->cert, ca->key, 2 * 365, false,
					    true, san)
				: NULL;
			kp = k ? pem_of_key(k) : NULL;
			cp = srv ? pem_of_cert(srv) : NULL;
			rc = kp && cp ? write_pem(dir, "server.key", kp, err)
				      : upt_error_set(err, UPT_ERR_CRYPTO,
						      "cannot make the server certificate");
			if (rc == UPT_OK)
				rc = write_pem(dir, "server.pem", cp, err);
			free(kp);
			free(cp);
			srv_log(SRV_LOG_INFO, "tls: new server certificate for %s", san);
		}
		if (rc == UPT_OK) {
			ca->server_cert_pem = pem_of_cert(srv);
			ca->server_key_pem = pem_of_key(k);
			ca->ca_pem = pem_of_cert(ca->cert);
			if (!ca->server_cert_pem || !ca->server_key_pem || !ca->ca_pem)
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		}
		X509_free(srv);
		EVP_PKEY_free(k);
	}
	return rc;
}

int srv_ca_issue(struct srv_ca *ca, const char *device_id, const char *pubkey_pem, char **cert_pem,
		 char **key_pem, struct upt_error *err)
{
	EVP_PKEY *k = NULL;
	X509 *c;
	*cert_pem = NULL;
	if (key_pem)
		*key_pem = NULL;
	if (pubkey_pem) {
		BIO *b = BIO_new_mem_buf(pubkey_pem, -1);
		k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (!k)
			return upt_error_set(err, UPT_ERR_KEY, "not a PEM public key");
	} else if (!(k = new_key())) {
		return upt_error_set(err, UPT_ERR_CRYPTO, "key generation failed");
	}
	c = make_cert(k, device_id, ca->cert, ca->key, 15 * 365, false, false, NULL);
	if (c)
		*cert_pem = pem_of_cert(c);
	if (c && !pubkey_pem && key_pem)
		*key_pem = pem_of_key(k);
	X509_free(c);
	EVP_PKEY_free(k);
	if (!*cert_pem || (!pubkey_pem && key_pem && !*key_pem)) {
		free(*cert_pem);
		*cert_pem = NULL;
		return upt_error_set(err, UPT_ERR_CRYPTO, "cannot issue a certificate");
	}
	return UPT_OK;
}

int srv_ca_issue_p12(struct srv_ca *ca, const char *device_id, uint8_t **der, size_t *len,
		     struct upt_error *err)
{
	EVP_PKEY *k = new_key();
	X509 *c =
	    k ? make_cert(k, device_id, ca->cert, ca->key, 15 * 365, false, false, NULL) : NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	unsigned char *out = NULL;
	int n = -1;
	if (c && chain && sk_X509_push(chain, ca->cert) > 0)
		p12 = PKCS12_create("", "uptake device", k, c, chain, 0, 0, 0, 0, 0);
	if (p12)
		n = i2d_PKCS12(p12, &out);
	PKCS12_free(p12);
	sk_X509_free(chain);
	X509_free(c);
	EVP_PKEY_free(k);
	if (n <= 0)
		return upt_error_set(err, UPT_ERR_CRYPTO,
				     "cannot make the device's PKCS#12 bundle");
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(out);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	memcpy(*der, out, (size_t)n);
	OPENSSL_clear_free(out, (size_t)n);
	*len = (size_t)n;
	return UPT_OK;
}

void srv_ca_close(struct srv_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->server_cert_pem);
	if (ca->server_key_pem) {
		OPENSSL_cleanse(ca->server_key_pem, strlen(ca->server_key_pem));
		free(ca->server_key_pem);
	}
	free(ca->ca_pem);
	memset(ca, 0, sizeof *ca);
}
