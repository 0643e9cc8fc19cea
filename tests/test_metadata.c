/* Tests of signed documents, threshold verification, signing and the role
 * parsers (src/core/doc.c, sign.c, root.c, targets.c, snapshot.c,
 * meta_common.c, fields.c, time.c). */
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/metadata.h>

#include "harness.h"

#define ARENA_SIZE (4u * 1024 * 1024)

static unsigned char arena_mem[ARENA_SIZE];
static struct upt_arena arena;
static const struct upt_crypto *crypto;

struct tkey {
	struct upt_privkey *priv;
	char keyid[UPT_KEYID_MAX + 1];
	char *pub_json;
	size_t pub_len;
};

static struct tkey keys[5]; /* 0..3 ed25519, 4 rsa */

static void tkey_make(struct tkey *k, enum upt_key_type type, enum upt_dialect dialect)
{
	struct upt_error err;
	if (upt_privkey_generate(&k->priv, type, &err) != UPT_OK ||
	    upt_privkey_public_json(&k->pub_json, &k->pub_len, k->priv, dialect, &err) != UPT_OK ||
	    upt_privkey_keyid(k->keyid, k->priv, dialect, &err) != UPT_OK) {
		fprintf(stderr, "key generation failed: %s\n", err.msg);
		exit(1);
	}
}

static void reset(void)
{
	upt_arena_init(&arena, arena_mem, sizeof arena_mem);
}

/* Parse JSON text (tests only: aborts on failure). */
static struct upt_json *json(const char *text)
{
	struct upt_json *v;
	struct upt_error err;
	if (upt_json_parse(&v, &arena, (const uint8_t *)text, strlen(text), NULL, &err) != UPT_OK) {
		fprintf(stderr, "test JSON does not parse: %s\n%s\n", err.msg, text);
		exit(1);
	}
	return v;
}

/* Sign `signed_text` with the given keys (signer key id may be overridden)
 * into a malloc'd document. */
static char *sign_with(const char *signed_text, struct tkey **ks, const char **ids, size_t n,
		       enum upt_dialect dialect, size_t *out_len)
{
	struct upt_signer signers[8];
	struct upt_error err;
	size_t cap = strlen(signed_text) + 8192, len = 0;
	char *out = malloc(cap);
	for (size_t i = 0; i < n; i++)
		upt_privkey_signer(&signers[i], ks[i]->priv, ids && ids[i] ? ids[i] : ks[i]->keyid);
	if (!out || upt_doc_sign((uint8_t *)out, cap, &len, json(signed_text), signers, n, dialect,
				 &arena, &err) != UPT_OK) {
		fprintf(stderr, "signing failed: %s\n", err.msg);
		exit(1);
	}
	out[len] = 0;
	*out_len = len;
	return out;
}

/* A root's signed object: root role uses keys[r0..r0+nr) with threshold t;
 * the other roles use key 3. */
static char *root_text(size_t r0, size_t nr, unsigned t, const char *type, const char *extra)
{
	static char buf[65536];
	size_t off = 0;
	off += (size_t)snprintf(
	    buf + off, sizeof buf - off,
	    "{\"_type\":\"%s\",%s\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\","
	    "\"consistent_snapshot\":true,\"keys\":{",
	    type, extra);
	for (size_t i = 0; i < 4; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\"%s\":%s", i ? "," : "",
					keys[i].keyid, keys[i].pub_json);
	off += (size_t)snprintf(buf + off, sizeof buf - off, "},\"roles\":{\"root\":{\"keyids\":[");
	for (size_t i = r0; i < r0 + nr; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\"%s\"", i > r0 ? "," : "",
					keys[i].keyid);
	off += (size_t)snprintf(buf + off, sizeof buf - off, "],\"threshold\":%u}", t);
	static const char *const others[] = {"targets", "snapshot", "timestamp"};
	for (size_t i = 0; i < 3; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
					",\"%s\":{\"keyids\":[\"%s\"],\"threshold\":1}", others[i],
					keys[3].keyid);
	snprintf(buf + off, sizeof buf - off, "}}");
	return buf;
}

static int parse_doc(struct upt_doc *doc, const char *text, size_t len, struct upt_error *err)
{
	return upt_doc_parse(doc, &arena, (const uint8_t *)text, len, 0, "root.json", err);
}

static void test_root_roundtrip(void)
{
	struct tkey *ks[] = {&keys[0]};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len;
	char *d;
	reset();
	d = sign_with(root_text(0, 1, 1, "root", "\"spec_version\":\"1.0.31\","), ks, NULL, 1,
		      UPT_DIALECT_TUF, &len);
	CHECK_EQ_INT(parse_doc(&doc, d, len, &err), UPT_OK);
	CHECK_EQ_INT(doc.role, UPT_ROLE_ROOT);
	CHECK_EQ_INT(doc.dialect, UPT_DIALECT_TUF);
	CHECK_EQ_INT(upt_root_verify_self(&root, &arena, &doc, crypto, &err), UPT_OK);
	CHECK_EQ_INT(root.c.version, 1);
	CHECK_EQ_INT(root.c.expires, 1893456000);
	CHECK(root.consistent_snapshot);
	CHECK_EQ_INT(root.n_keys, 4);
	CHECK_EQ_INT(root.roles[UPT_ROLE_ROOT - 1].threshold, 1);
	CHECK(strcmp(root.roles[UPT_ROLE_TIMESTAMP - 1].keyids[0], keys[3].keyid) == 0);
	CHECK(upt_keys_find(root.keys, root.n_keys, keys[2].keyid) != NULL);
	CHECK(upt_keys_find(root.keys, root.n_keys, "00") == NULL);
	free(d);
}

/* Sign a 2-of-3 root with `n` signers and return verify's result. */
static int verify_root_signed_by(struct tkey **ks, const char **ids, size_t n, uint32_t *valid)
{
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len;
	int rc;
	char *d;
	reset();
	d = sign_with(root_text(0, 3, 2, "root", "\"spec_version\":\"1.0.0\","), ks, ids, n,
		      UPT_DIALECT_TUF, &len);
	rc = parse_doc(&doc, d, len, &err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&root, &arena, &doc, crypto, &err);
	if (rc == UPT_OK)
		rc = upt_doc_verify(&doc, root.keys, root.n_keys, &root.roles[0], crypto, valid,
				    &err);
	if (rc == UPT_ERR_THRESHOLD)
		CHECK(strstr(err.msg, "signature threshold") != NULL);
	free(d);
	return rc;
}

static void test_threshold(void)
{
	struct tkey *one[] = {&keys[0]};
	struct tkey *two[] = {&keys[0], &keys[1]};
	struct tkey *same[] = {&keys[0], &keys[0]};
	struct tkey *outsider[] = {&keys[0], &keys[3]};
	struct tkey *rsa[] = {&keys[4], &keys[1]};
	const char *fake_id[] = {NULL, "00112233"};
	uint32_t valid = 99;
	CHECK_EQ_INT(verify_root_signed_by(one, NULL, 1, &valid), UPT_ERR_THRESHOLD);
	CHECK_EQ_INT(valid, 1);
	CHECK_EQ_INT(verify_root_signed_by(two, NULL, 2, &valid), UPT_OK);
	CHECK_EQ_INT(valid, 2);
	/* the same key id signing twice: the document is refused */
	CHECK_EQ_INT(verify_root_signed_by(same, NULL, 2, &valid), UPT_ERR_SIGNATURE);
	/* a key that is in the root but not in the root role does not count */
	CHECK_EQ_INT(verify_root_signed_by(outsider, NULL, 2, &valid), UPT_ERR_THRESHOLD);
	/* a signature under an unknown key id does not count */
	CHECK_EQ_INT(verify_root_signed_by(two, fake_id, 2, &valid), UPT_ERR_THRESHOLD);
	/* a key not in the root at all (rsa) does not count */
	CHECK_EQ_INT(verify_root_signed_by(rsa, NULL, 2, &valid), UPT_ERR_THRESHOLD);
	CHECK_EQ_INT(valid, 1);
}

/* The same key material listed under two key ids counts once. */
static void test_same_key_two_ids(void)
{
	char text[65536], alias[UPT_KEYID_MAX + 1];
	struct tkey *ks[] = {&keys[0], &keys[0]};
	const char *ids[] = {NULL, alias};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	uint32_t valid = 0;
	size_t len;
	char *d;
	reset();
	memcpy(alias, keys[0].keyid, sizeof alias);
	alias[0] = alias[0] == 'a' ? 'b' : 'a';
	snprintf(text, sizeof text,
		 "{\"_type\":\"root\",\"spec_version\":\"1.0.0\",\"version\":1,"
		 "\"expires\":\"2030-01-01T00:00:00Z\",\"keys\":{\"%s\":%s,\"%s\":%s},"
		 "\"roles\":{\"root\":{\"keyids\":[\"%s\",\"%s\"],\"threshold\":2},"
		 "\"targets\":{\"keyids\":[\"%s\"],\"threshold\":1},"
		 "\"snapshot\":{\"keyids\":[\"%s\"],\"threshold\":1},"
		 "\"timestamp\":{\"keyids\":[\"%s\"],\"threshold\":1}}}",
		 keys[0].keyid, keys[0].pub_json, alias, keys[0].pub_json, keys[0].keyid, alias,
		 alias, alias, alias);
	d = sign_with(text, ks, ids, 2, UPT_DIALECT_TUF, &len);
	CHECK_EQ_INT(parse_doc(&doc, d, len, &err), UPT_OK);
	CHECK_EQ_INT(upt_root_parse(&root, &arena, &doc, crypto, &err), UPT_OK);
	CHECK_EQ_INT(
	    upt_doc_verify(&doc, root.keys, root.n_keys, &root.roles[0], crypto, &valid, &err),
	    UPT_ERR_THRESHOLD);
	CHECK_EQ_INT(valid, 1);
	free(d);
}

/* Change every character of the signature value, one at a time, to another
 * valid digit: no altered signature may verify. */
static void forge_every_position(enum upt_dialect dialect, struct tkey *k)
{
	struct tkey *ks[] = {k};
	const char *type = dialect == UPT_DIALECT_TUF ? "root" : "Root";
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len, start, end, failures = 0, tried = 0;
	char *d, *p;
	reset();
	d = sign_with(root_text(0, 1, 1, type,
				dialect == UPT_DIALECT_TUF ? "\"spec_version\":\"1.0.0\"," : ""),
		      ks, NULL, 1, dialect, &len);
	p = strstr(d, "\"sig\":\"");
	CHECK(p != NULL);
	if (!p)
		return;
	start = (size_t)(p - d) + 7;
	end = (size_t)(strchr(d + start, '"') - d);
	for (size_t i = start; i < end; i++) {
		char orig = d[i];
		if (orig == '=')
			continue;
		d[i] = orig == 'a' ? 'b' : 'a';
		reset();
		tried++;
		if (parse_doc(&doc, d, len, &err) != UPT_OK ||
		    upt_root_verify_self(&root, &arena, &doc, crypto, &err) != UPT_OK)
			failures++;
		d[i] = orig;
	}
	CHECK(tried > 60);
	CHECK_EQ_INT(failures, tried);
	/* the untouched document still verifies */
	reset();
	CHECK_EQ_INT(parse_doc(&doc, d, len, &err), UPT_OK);
	CHECK_EQ_INT(upt_root_verify_self(&root, &arena, &doc, crypto, &err), UPT_OK);
	free(d);
}

static void test_forgery_tuf(void)
{
	forge_every_position(UPT_DIALECT_TUF, &keys[0]);
}

static void test_forgery_aktualizr(void)
{
	forge_every_position(UPT_DIALECT_AKTUALIZR, &keys[0]);
}

/* Any change to the signed bytes breaks the signature. */
static void test_tampered_content(void)
{
	struct tkey *ks[] = {&keys[0]};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len;
	char *d, *p;
	reset();
	d = sign_with(root_text(0, 1, 1, "root", "\"spec_version\":\"1.0.0\","), ks, NULL, 1,
		      UPT_DIALECT_TUF, &len);
	p = strstr(d, "2030-01-01");
	CHECK(p != NULL);
	if (p)
		p[3] = '9'; /* 2039 */
	reset();
	CHECK_EQ_INT(parse_doc(&doc, d, len, &err), UPT_OK);
	CHECK_EQ_INT(upt_root_verify_self(&root, &arena, &doc, crypto, &err), UPT_ERR_THRESHOLD);
	free(d);
}

/* Every truncation of a valid document is rejected without a crash. */
static void test_truncation(void)
{
	struct tkey *ks[] = {&keys[0]};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len, rejected = 0;
	char *d;
	reset();
	d = sign_with(root_text(0, 1, 1, "root", "\"spec_version\":\"1.0.0\","), ks, NULL, 1,
		      UPT_DIALECT_TUF, &len);
	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, d, n);
		reset();
		if (upt_doc_parse(&doc, &arena, (const uint8_t *)copy, n, 0, "root.json", &err) !=
			UPT_OK ||
		    upt_root_verify_self(&root, &arena, &doc, crypto, &err) != UPT_OK)
			rejected++;
		free(copy);
	}
	CHECK_EQ_INT(rejected, len);
	free(d);
}

/* The document is bounded by max_len before parsing. */
static void test_oversized(void)
{
	struct upt_doc doc;
	struct upt_error err;
	const char *text = "{\"signatures\":[],\"signed\":{\"_type\":\"root\"}}";
	reset();
	CHECK_EQ_INT(
	    upt_doc_parse(&doc, &arena, (const uint8_t *)text, strlen(text), 10, "x", &err),
	    UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(upt_doc_parse(&doc, &arena, (const uint8_t *)text, strlen(text), 0, "x", &err),
		     UPT_OK);
}

/* Parsing and verifying with every arena size below the need fails
 * cleanly; some size succeeds. */
static void test_arena_exhaustion(void)
{
	struct tkey *ks[] = {&keys[0]};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	struct upt_arena small;
	size_t len, need = 0;
	unsigned char *mem;
	char *d;
	reset();
	d = sign_with(root_text(0, 1, 1, "root", "\"spec_version\":\"1.0.0\","), ks, NULL, 1,
		      UPT_DIALECT_TUF, &len);
	mem = malloc(256 * 1024);
	for (size_t cap = 0; cap <= 256 * 1024; cap += cap < 4096 ? 61 : 997) {
		int rc;
		upt_arena_init(&small, mem, cap);
		rc = upt_doc_parse(&doc, &small, (const uint8_t *)d, len, 0, "root.json", &err);
		if (rc == UPT_OK)
			rc = upt_root_verify_self(&root, &small, &doc, crypto, &err);
		if (rc == UPT_OK) {
			need = cap;
			break;
		}
		CHECK_EQ_INT(rc, UPT_ERR_NOMEM);
	}
	CHECK(need > 0);
	free(mem);
	free(d);
}

/* A root whose keys are PEM (RSA): the written document is valid JSON (the
 * PEM newlines escaped) and its signature covers the canonical bytes (the
 * newlines raw). */
static void test_pem_key_root(void)
{
	char text[65536];
	struct tkey *ks[] = {&keys[4]};
	struct upt_doc doc;
	struct upt_root root;
	struct upt_error err;
	size_t len;
	char *d;
	reset();
	snprintf(text, sizeof text,
		 "{\"_type\":\"root\",\"spec_version\":\"1.0.0\",\"version\":1,"
		 "\"expires\":\"2030-01-01T00:00:00Z\",\"keys\":{\"%s\":%s},"
		 "\"roles\":{\"root\":{\"keyids\":[\"%s\"],\"threshold\":1},"
		 "\"targets\":{\"keyids\":[\"%s\"],\"threshold\":1},"
		 "\"snapshot\":{\"keyids\":[\"%s\"],\"threshold\":1},"
		 "\"timestamp\":{\"keyids\":[\"%s\"],\"threshold\":1}}}",
		 keys[4].keyid, keys[4].pub_json, keys[4].keyid, keys[4].keyid, keys[4].keyid,
		 keys[4].keyid);
	d = sign_with(text, ks, NULL, 1, UPT_DIALECT_TUF, &len);
	CHECK(memchr(d, '\n', len) == NULL); /* escaped in the file */
	CHECK(strstr(d, "-----BEGIN PUBLIC KEY-----\\n") != NULL);
	reset();
	CHECK_EQ_INT(parse_doc(&doc, d, len, &err), UPT_OK);
	CHECK(memchr(doc.canonical, '\n', doc.canonical_len) != NULL); /* raw when signed */
	CHECK_EQ_INT(upt_root_verify_self(&root, &arena, &doc, crypto, &err), UPT_OK);
	CHECK_EQ_INT(root.keys[0].type, UPT_KEY_RSA);
	free(d);
}

int main(void)
{
	crypto = upt_openssl_crypto();
	for (int i = 0; i < 4; i++)
		tkey_make(&keys[i], UPT_KEY_ED25519, UPT_DIALECT_TUF);
	tkey_make(&keys[4], UPT_KEY_RSA, UPT_DIALECT_TUF);
	RUN(test_root_roundtrip);
	RUN(test_threshold);
	RUN(test_same_key_two_ids);
	RUN(test_forgery_tuf);
	RUN(test_tampered_content);
	RUN(test_truncation);
	RUN(test_oversized);
	RUN(test_arena_exhaustion);
	RUN(test_forgery_aktualizr);
	RUN(test_pem_key_root);
	for (int i = 0; i < 5; i++) {
		upt_privkey_free(keys[i].priv);
		upt_free(keys[i].pub_json);
	}
	TEST_MAIN_END();
}
