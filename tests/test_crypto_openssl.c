/* Tests of the OpenSSL backend (src/crypto): RFC 8032 vectors, signatures
 * of every key type with a forgery at every byte, key storage, allocation
 * failures. */
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>

#include "harness.h"

struct vec {
	const char *seed, *pub, *msg, *sig;
};

/* RFC 8032 section 7.1, TEST 1, 2 and 3. */
static const struct vec rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	if (upt_hex_decode(out, cap, &n, hex, strlen(hex)) != UPT_OK)
		abort();
	return n;
}

/* A PKCS#8 PEM of an Ed25519 seed, to load the RFC's secret keys. */
static void seed_pem(char *pem, size_t cap, const uint8_t seed[32])
{
	static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					   0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
	uint8_t der[48];
	char b64[80];
	memcpy(der, prefix, 16);
	memcpy(der + 16, seed, 32);
	upt_base64_encode(b64, der, sizeof der);
	snprintf(pem, cap, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
}

static void test_rfc8032(void)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	for (size_t i = 0; i < sizeof rfc8032 / sizeof rfc8032[0]; i++) {
		uint8_t seed[32], pub[32], msg[8], sig[64], mine[UPT_SIG_MAX];
		size_t ml = unhex(msg, sizeof msg, rfc8032[i].msg), sl = 0;
		struct upt_privkey *k = NULL;
		struct upt_error err;
		char pem[256];
		unhex(seed, 32, rfc8032[i].seed);
		unhex(pub, 32, rfc8032[i].pub);
		unhex(sig, 64, rfc8032[i].sig);
		CHECK_EQ_INT(c->verify(NULL, UPT_SCHEME_ED25519, pub, 32, msg, ml, sig, 64),
			     UPT_OK);
		seed_pem(pem, sizeof pem, seed);
		CHECK_EQ_INT(upt_privkey_load_pem(&k, pem, strlen(pem), NULL, &err), UPT_OK);
		if (!k)
			continue;
		CHECK_EQ_INT(upt_privkey_sign(k, msg, ml, mine, sizeof mine, &sl), UPT_OK);
		CHECK(sl == 64 && memcmp(mine, sig, 64) == 0); /* deterministic: same bytes */
		upt_privkey_free(k);
	}
}

static struct upt_privkey *keys[3];
static const enum upt_key_type types[3] = {UPT_KEY_ED25519, UPT_KEY_ECDSA_P256, UPT_KEY_RSA};
static const enum upt_sig_scheme schemes[3] = {UPT_SCHEME_ED25519, UPT_SCHEME_ECDSA_SHA2_NISTP256,
					       UPT_SCHEME_RSASSA_PSS_SHA256};

/* The DER or raw public key of a key, via its key object. */
static size_t public_bytes(uint8_t *out, size_t cap, struct upt_privkey *k)
{
	char *json, *p, *q;
	size_t len, n = 0;
	struct upt_error err;
	char pem[2048];
	size_t pl = 0;
	if (upt_privkey_public_json(&json, &len, k, UPT_DIALECT_TUF, &err) != UPT_OK)
		abort();
	p = strstr(json, "\"public\":\"") + 10;
	q = strchr(p, '"');
	if (upt_privkey_type(k) == UPT_KEY_ED25519) {
		if (upt_hex_decode(out, cap, &n, p, (size_t)(q - p)) != UPT_OK)
			abort();
	} else {
		for (; p < q; p++) { /* undo JSON's \n */
			if (p[0] == '\\' && p[1] == 'n') {
				pem[pl++] = '\n';
				p++;
			} else {
				pem[pl++] = *p;
			}
		}
		if (upt_pem_decode(out, cap, &n, "PUBLIC KEY", pem, pl) != UPT_OK)
			abort();
	}
	upt_free(json);
	return n;
}

static void test_sign_verify_forgery(void)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	static const uint8_t msg[] = "{\"signed\":\"canonical bytes\"}";
	for (size_t t = 0; t < 3; t++) {
		uint8_t pub[UPT_PUBKEY_MAX], sig[UPT_SIG_MAX], m2[sizeof msg];
		size_t pl = public_bytes(pub, sizeof pub, keys[t]), sl = 0, forged_ok = 0;
		CHECK_EQ_INT(upt_privkey_sign(keys[t], msg, sizeof msg - 1, sig, sizeof sig, &sl),
			     UPT_OK);
		CHECK_EQ_INT(c->verify(NULL, schemes[t], pub, pl, msg, sizeof msg - 1, sig, sl),
			     UPT_OK);
		for (size_t i = 0; i < sl; i++) {
			for (int bit = 0; bit < 8; bit += 3) {
				sig[i] ^= (uint8_t)(1u << bit);
				if (c->verify(NULL, schemes[t], pub, pl, msg, sizeof msg - 1, sig,
					      sl) == UPT_OK)
					forged_ok++;
				sig[i] ^= (uint8_t)(1u << bit);
			}
		}
		CHECK_EQ_INT(forged_ok, 0);
		memcpy(m2, msg, sizeof msg);
		for (size_t i = 0; i < sizeof msg - 1; i++) {
			m2[i] ^= 1;
			CHECK(c->verify(NULL, schemes[t], pub, pl, m2, sizeof msg - 1, sig, sl) !=
			      UPT_OK);
			m2[i] ^= 1;
		}
		/* truncated, oversized and empty signatures */
		CHECK(c->verify(NULL, schemes[t], pub, pl, msg, sizeof msg - 1, sig, sl - 1) !=
		      UPT_OK);
		CHECK(c->verify(NULL, schemes[t], pub, pl, msg, sizeof msg - 1, sig,
				UPT_SIG_MAX + 1) != UPT_OK);
		CHECK(c->verify(NULL, schemes[t], pub, pl, msg, sizeof msg - 1, sig, 0) != UPT_OK);
		/* the wrong key and the wrong scheme */
		CHECK(c->verify(NULL, schemes[(t + 1) % 3], pub, pl, msg, sizeof msg - 1, sig,
				sl) != UPT_OK);
		CHECK_EQ_INT(c->check_key(NULL, types[t], pub, pl), UPT_OK);
		CHECK(c->check_key(NULL, types[(t + 1) % 3], pub, pl) != UPT_OK);
		CHECK(c->check_key(NULL, types[t], pub, pl - 1) != UPT_OK);
	}
}

static void test_wrong_key(void)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	struct upt_privkey *other;
	struct upt_error err;
	uint8_t pub[64], sig[64];
	size_t sl;
	CHECK_EQ_INT(upt_privkey_generate(&other, UPT_KEY_ED25519, &err), UPT_OK);
	CHECK_EQ_INT(upt_privkey_sign(keys[0], (const uint8_t *)"m", 1, sig, sizeof sig, &sl),
		     UPT_OK);
	CHECK_EQ_INT(public_bytes(pub, sizeof pub, other), 32);
	CHECK_EQ_INT(c->verify(NULL, UPT_SCHEME_ED25519, pub, 32, (const uint8_t *)"m", 1, sig, sl),
		     UPT_ERR_BAD_SIGNATURE);
	upt_privkey_free(other);
}

/* Key objects are kept by their bytes (a table of 1024): with many more
 * keys than that, alternating, each signature verifies under its own key
 * only, whatever the table held before. */
#define KEPT_KEYS 1500
static void test_kept_keys(void)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	static uint8_t pub[KEPT_KEYS][32], sig[KEPT_KEYS][64];
	struct upt_error err;
	size_t sl;
	int good = 0, crossed = 0;
	for (int i = 0; i < KEPT_KEYS; i++) {
		struct upt_privkey *k;
		uint8_t m[8];
		memcpy(m, &i, sizeof i);
		memcpy(m + 4, "key", 4);
		CHECK_EQ_INT(upt_privkey_generate(&k, UPT_KEY_ED25519, &err), UPT_OK);
		CHECK_EQ_INT(upt_privkey_sign(k, m, sizeof m, sig[i], 64, &sl), UPT_OK);
		CHECK_EQ_INT(public_bytes(pub[i], 32, k), 32);
		upt_privkey_free(k);
	}
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < KEPT_KEYS; i++) {
			uint8_t m[8];
			int j = (i + 1) % KEPT_KEYS;
			memcpy(m, &i, sizeof i);
			memcpy(m + 4, "key", 4);
			good += c->verify(NULL, UPT_SCHEME_ED25519, pub[i], 32, m, sizeof m, sig[i],
					  64) == UPT_OK;
			crossed += c->verify(NULL, UPT_SCHEME_ED25519, pub[j], 32, m, sizeof m,
					     sig[i], 64) == UPT_OK;
		}
	CHECK_EQ_INT(good, 2 * KEPT_KEYS);
	CHECK_EQ_INT(crossed, 0);
	/* the same bytes as another type are another key */
	CHECK(c->verify(NULL, UPT_SCHEME_ECDSA_SHA2_NISTP256, pub[0], 32, (const uint8_t *)"m", 1,
			sig[0], 64) != UPT_OK);
}

static void test_pem_roundtrip(void)
{
	for (size_t t = 0; t < 3; t++) {
		char *pem = NULL;
		size_t len = 0;
		struct upt_privkey *back = NULL;
		struct upt_error err;
		char id1[UPT_KEYID_MAX + 1], id2[UPT_KEYID_MAX + 1];
		CHECK_EQ_INT(upt_privkey_keyid(id1, keys[t], UPT_DIALECT_TUF, &err), UPT_OK);
		/* plain */
		CHECK_EQ_INT(upt_privkey_save_pem(&pem, &len, keys[t], NULL, &err), UPT_OK);
		CHECK(strstr(pem, "BEGIN PRIVATE KEY") != NULL);
		CHECK_EQ_INT(upt_privkey_load_pem(&back, pem, len, NULL, &err), UPT_OK);
		CHECK_EQ_INT(upt_privkey_keyid(id2, back, UPT_DIALECT_TUF, &err), UPT_OK);
		CHECK(strcmp(id1, id2) == 0);
		upt_privkey_free(back);
		upt_free_secret(pem, len);
		/* encrypted */
		CHECK_EQ_INT(upt_privkey_save_pem(&pem, &len, keys[t], "correct horse", &err),
			     UPT_OK);
		CHECK(strstr(pem, "ENCRYPTED PRIVATE KEY") != NULL);
		CHECK_EQ_INT(upt_privkey_load_pem(&back, pem, len, "wrong", &err),
			     UPT_ERR_PASSPHRASE);
		CHECK(back == NULL);
		CHECK_EQ_INT(upt_privkey_load_pem(&back, pem, len, NULL, &err), UPT_ERR_PASSPHRASE);
		CHECK_EQ_INT(upt_privkey_load_pem(&back, pem, len, "correct horse", &err), UPT_OK);
		CHECK_EQ_INT(upt_privkey_keyid(id2, back, UPT_DIALECT_TUF, &err), UPT_OK);
		CHECK(strcmp(id1, id2) == 0);
		upt_privkey_free(back);
		upt_free_secret(pem, len);
	}
	{
		struct upt_privkey *k = NULL;
		struct upt_error err;
		CHECK_EQ_INT(upt_privkey_load_pem(&k, "garbage", 7, NULL, &err), UPT_ERR_DECODE);
		CHECK(k == NULL);
	}
	{
		/* a P-256 key whose embedded public point is not its private
		 * key's (found by fuzz_cli_keyfile): it would sign what its own
		 * key object never verifies */
		static const char bad[] =
		    "-----BEGIN PRIVATE KEY-----\n"
		    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg47rZxGlljYjgkcqu\n"
		    "+JKsOpdQsgEfce4pTqOLDYxY9lihRANCAAQDR6cEhktNzTXtDJP7tykJR3JmRg9j\n"
		    "Tsar+kCJrvthAECaTIrN+0wx4xoVMuN5bJ7/xzAfDW8/jf/8tQcXtib2\n"
		    "-----END PRIVATE KEY-----\n";
		struct upt_privkey *k = NULL;
		struct upt_error err;
		CHECK_EQ_INT(upt_privkey_load_pem(&k, bad, sizeof bad - 1, NULL, &err),
			     UPT_ERR_KEY);
		CHECK(k == NULL);
		CHECK(strstr(err.msg, "does not match") != NULL);
	}
}

static void test_public_json_forms(void)
{
	struct upt_error err;
	char *json;
	size_t len;
	CHECK_EQ_INT(upt_privkey_public_json(&json, &len, keys[0], UPT_DIALECT_TUF, &err), UPT_OK);
	CHECK(strncmp(json, "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"", 41) == 0);
	CHECK(strstr(json, "\"scheme\":\"ed25519\"}") != NULL);
	upt_free(json);
	CHECK_EQ_INT(upt_privkey_public_json(&json, &len, keys[2], UPT_DIALECT_AKTUALIZR, &err),
		     UPT_OK);
	CHECK(strncmp(json, "{\"keytype\":\"RSA\",\"keyval\":{\"public\":\"-----BEGIN PUBLIC KEY",
		      58) == 0);
	CHECK(strstr(json, "scheme") == NULL);
	upt_free(json);
	CHECK_EQ_INT(upt_privkey_public_json(&json, &len, keys[1], UPT_DIALECT_AKTUALIZR, &err),
		     UPT_ERR_UNSUPPORTED);
}

/* Fail each allocation in turn: every failing call reports an error and
 * leaks nothing (LeakSanitizer checks the latter in the sanitizer run). */
static void test_allocation_failures(void)
{
	for (unsigned long n = 1; n < 50; n++) {
		struct upt_error err;
		char *pem = NULL, *json = NULL;
		size_t len;
		struct upt_privkey *k = NULL;
		int rc;
		upt_alloc_fail_after(n);
		rc = upt_privkey_save_pem(&pem, &len, keys[1], "pw", &err);
		if (rc == UPT_OK)
			rc = upt_privkey_load_pem(&k, pem, len, "pw", &err);
		if (rc == UPT_OK)
			rc = upt_privkey_public_json(&json, &len, k, UPT_DIALECT_TUF, &err);
		upt_alloc_fail_after(0);
		upt_free(json);
		upt_privkey_free(k);
		if (pem)
			upt_free_secret(pem, strlen(pem));
		if (rc == UPT_OK)
			return;
		CHECK(rc == UPT_ERR_NOMEM);
	}
	CHECK(0); /* never succeeded */
}

int main(void)
{
	struct upt_error err;
	for (size_t t = 0; t < 3; t++)
		if (upt_privkey_generate(&keys[t], types[t], &err) != UPT_OK)
			return 1;
	RUN(test_rfc8032);
	RUN(test_sign_verify_forgery);
	RUN(test_wrong_key);
	RUN(test_kept_keys);
	RUN(test_pem_roundtrip);
	RUN(test_public_json_forms);
	RUN(test_allocation_failures);
	for (size_t t = 0; t < 3; t++)
		upt_privkey_free(keys[t]);
	TEST_MAIN_END();
}
