/* Tests of TUF key objects and key ids (src/core/key.c). */
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/key.h>

#include "harness.h"

static unsigned char mem[1 << 20];
static struct upt_arena arena;

#define ED "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"

static int parse_key(const char *keyid, const char *text, struct upt_key *k, struct upt_error *err)
{
	struct upt_json *v;
	upt_arena_init(&arena, mem, sizeof mem);
	if (upt_json_parse(&v, &arena, (const uint8_t *)text, strlen(text), NULL, err) != UPT_OK)
		return -1000;
	return upt_key_parse(k, &arena, keyid, v, upt_openssl_crypto(), err);
}

static int parse_key_dialect(const char *text, enum upt_dialect d, struct upt_key *k,
			     struct upt_error *err)
{
	struct upt_json *v;
	upt_arena_init(&arena, mem, sizeof mem);
	if (upt_json_parse(&v, &arena, (const uint8_t *)text, strlen(text), NULL, err) != UPT_OK)
		return -1000;
	return upt_key_parse_dialect(k, &arena, "ab", v, d, upt_openssl_crypto(), err);
}

/* aktualizr's test vectors spell Ed25519 keys in lower case without a
 * scheme: read in the aktualizr dialect only. */
static void test_scheme_by_dialect(void)
{
	static const char *const no_scheme = "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":"
					     "\"" ED "\"}}";
	struct upt_key k;
	struct upt_error err;
	CHECK_EQ_INT(parse_key_dialect(no_scheme, UPT_DIALECT_AKTUALIZR, &k, &err), UPT_OK);
	CHECK(k.type == UPT_KEY_ED25519 && k.scheme == UPT_SCHEME_ED25519 && k.pub_len == 32);
	CHECK_EQ_INT(parse_key_dialect(no_scheme, UPT_DIALECT_TUF, &k, &err), UPT_ERR_KEY);
	CHECK(strstr(err.msg, "scheme") != NULL);
	CHECK_EQ_INT(parse_key("ab", no_scheme, &k, &err), UPT_ERR_KEY); /* upt_key_parse: TUF */
	/* a scheme, when given, must still be the keytype's */
	CHECK_EQ_INT(parse_key_dialect("{\"keytype\":\"ed25519\",\"scheme\":\"rsassa-pss-sha256\","
				       "\"keyval\":{\"public\":\"" ED "\"}}",
				       UPT_DIALECT_AKTUALIZR, &k, &err),
		     UPT_ERR_KEY);
	/* only Ed25519: lower-case rsa and ecdsa keep requiring their scheme */
	CHECK_EQ_INT(parse_key_dialect("{\"keytype\":\"rsa\",\"keyval\":{\"public\":\"x\"}}",
				       UPT_DIALECT_AKTUALIZR, &k, &err),
		     UPT_ERR_KEY);
	CHECK(strstr(err.msg, "scheme") != NULL);
	CHECK_EQ_INT(parse_key_dialect("{\"keytype\":\"ecdsa\",\"keyval\":{\"public\":\"x\"}}",
				       UPT_DIALECT_AKTUALIZR, &k, &err),
		     UPT_ERR_KEY);
	/* the public value is checked as strictly */
	CHECK_EQ_INT(parse_key_dialect("{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"00\"}}",
				       UPT_DIALECT_AKTUALIZR, &k, &err),
		     UPT_ERR_KEY);
}

static void test_accepted_spellings(void)
{
	struct upt_key k;
	struct upt_error err;
	CHECK_EQ_INT(parse_key("ab",
			       "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\","
			       "\"keyval\":{\"public\":\"" ED "\"}}",
			       &k, &err),
		     UPT_OK);
	CHECK(k.type == UPT_KEY_ED25519 && k.scheme == UPT_SCHEME_ED25519 && k.pub_len == 32);
	CHECK(strcmp(k.keyid, "ab") == 0);
	/* aktualizr: upper-case keytype, no scheme, upper-case hex */
	CHECK_EQ_INT(
	    parse_key("ab",
		      "{\"keytype\":\"ED25519\",\"keyval\":{\"public\":"
		      "\"3D4017C3E843895A92B70AA74D1B7EBC9C982CCF2EC4968CC0CD55F12AF4660C\"}}",
		      &k, &err),
	    UPT_OK);
	CHECK_EQ_INT(k.pub[0], 0x3d);
	/* unknown extra members are ignored */
	CHECK_EQ_INT(parse_key("ab",
			       "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"x\":1,"
			       "\"keyid_hash_algorithms\":[\"sha256\"],"
			       "\"keyval\":{\"public\":\"" ED "\"}}",
			       &k, &err),
		     UPT_OK);
}

static void test_rejected(void)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"keyval\":{\"public\":\"" ED "\"}}",
	    "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"" ED "\"}}", /* no scheme */
	    "{\"keytype\":\"ed25519\",\"scheme\":\"rsassa-pss-sha256\",\"keyval\":{\"public\":\"" ED
	    "\"}}",
	    "{\"keytype\":\"ED25519\",\"scheme\":\"ecdsa-sha2-nistp256\",\"keyval\":{\"public\":"
	    "\"" ED "\"}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"abcd\"}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"" ED "00\"}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":"
	    "\"zz4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\"}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"" ED
	    "\",\"private\":\"" ED "\"}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":5}}",
	    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":\"" ED "\"}",
	    "{\"keytype\":\"dsa\",\"scheme\":\"dsa\",\"keyval\":{\"public\":\"" ED "\"}}",
	    "{\"keytype\":\"rsa\",\"scheme\":\"rsassa-pss-sha256\",\"keyval\":{\"public\":\"" ED
	    "\"}}",
	    "{\"keytype\":\"rsa\",\"scheme\":\"rsassa-pss-sha256\",\"keyval\":{\"public\":"
	    "\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"}}",
	    /* RSA-1024 is too small */
	    "{\"keytype\":\"rsa\",\"scheme\":\"rsassa-pss-sha256\",\"keyval\":{\"public\":"
	    "\"-----BEGIN PUBLIC KEY-----\\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDVYt6cHFTN4plwZ/7"
	    "UdkE0bbAs\\nHIn7hoJPbOy8/u7lSaz60oshdiXfFbGlvg37mQ9vnobgXkOjZjsM1N6Q3J9owuPe\\n3JQV"
	    "ecnCI7ev0p/1t4+x7zqPFpLmC9w7zFoS3dLi1pf1G5LBTs9u5Ug46LNdNUkU\\nwO5j5gvt1D0BvWN1Ks+"
	    "JIwIDAQAB\\n-----END PUBLIC KEY-----\\n\"}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct upt_key k;
		struct upt_error err;
		int rc = parse_key("ab", bad[i], &k, &err);
		if (rc != UPT_ERR_KEY || strncmp(err.msg, "key ab: ", 8) != 0) {
			fprintf(stderr, "key case %zu: %s %s\n", i, upt_err_name(rc), err.msg);
			CHECK(0);
		}
	}
	{
		struct upt_key k;
		struct upt_error err;
		const char *good = "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\","
				   "\"keyval\":{\"public\":\"" ED "\"}}";
		CHECK_EQ_INT(parse_key("", good, &k, &err), UPT_ERR_KEY);
		CHECK_EQ_INT(parse_key("a\"b", good, &k, &err), UPT_ERR_KEY);
		CHECK_EQ_INT(
		    parse_key("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			      good, &k, &err),
		    UPT_ERR_KEY);
	}
}

/* The key id computed from the key object equals the generator's, for
 * every key type, and the parsed key verifies the key's signatures. */
static void test_keyid_and_verify(void)
{
	static const enum upt_key_type types[] = {UPT_KEY_ED25519, UPT_KEY_ECDSA_P256, UPT_KEY_RSA};
	for (size_t t = 0; t < 3; t++) {
		struct upt_privkey *priv;
		struct upt_error err;
		struct upt_json *v;
		struct upt_key k;
		char *json, want[UPT_KEYID_MAX + 1], got[UPT_KEYID_MAX + 1];
		uint8_t sig[UPT_SIG_MAX];
		size_t len, sl;
		CHECK_EQ_INT(upt_privkey_generate(&priv, types[t], &err), UPT_OK);
		CHECK_EQ_INT(upt_privkey_public_json(&json, &len, priv, UPT_DIALECT_TUF, &err),
			     UPT_OK);
		CHECK_EQ_INT(upt_privkey_keyid(want, priv, UPT_DIALECT_TUF, &err), UPT_OK);
		upt_arena_init(&arena, mem, sizeof mem);
		CHECK_EQ_INT(upt_json_parse(&v, &arena, (const uint8_t *)json, len, NULL, &err),
			     UPT_OK);
		CHECK_EQ_INT(upt_key_compute_keyid(got, v, &arena, upt_openssl_crypto(), &err),
			     UPT_OK);
		CHECK(strcmp(want, got) == 0);
		CHECK_EQ_INT(upt_key_parse(&k, &arena, got, v, upt_openssl_crypto(), &err), UPT_OK);
		CHECK_EQ_INT(k.type, types[t]);
		CHECK_EQ_INT(
		    upt_privkey_sign(priv, (const uint8_t *)"msg", 3, sig, sizeof sig, &sl),
		    UPT_OK);
		CHECK_EQ_INT(
		    upt_key_verify(&k, upt_openssl_crypto(), (const uint8_t *)"msg", 3, sig, sl),
		    UPT_OK);
		CHECK_EQ_INT(
		    upt_key_verify(&k, upt_openssl_crypto(), (const uint8_t *)"msG", 3, sig, sl),
		    UPT_ERR_BAD_SIGNATURE);
		upt_free(json);
		upt_privkey_free(priv);
	}
}

int main(void)
{
	RUN(test_accepted_spellings);
	RUN(test_rejected);
	RUN(test_keyid_and_verify);
	RUN(test_scheme_by_dialect);
	TEST_MAIN_END();
}
