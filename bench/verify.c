/* bench/verify: signed targets metadata, parse + canonicalize + verify,
 * for a ~1 KiB and a ~1 MiB targets.json. The baseline is the raw
 * signature verification of the same canonical bytes by the same OpenSSL
 * in the same run, so the ratio shows what libuptake adds on top of the
 * unavoidable cryptography. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/metadata.h>

#define MIN_SECONDS 1.0

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A targets `signed` object of about `size` bytes. */
static char *targets_text(size_t size, size_t *n_targets)
{
	size_t cap = size + 4096, off = 0, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		exit(1);
	off += (size_t)snprintf(buf, cap,
				"{\"_type\":\"targets\",\"spec_version\":\"1.0.31\",\"version\":7,"
				"\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{");
	do {
		off += (size_t)snprintf(
		    buf + off, cap - off,
		    "%s\"firmware/board-%04zu/image-%zu.bin\":{\"length\":%zu,\"hashes\":{"
		    "\"sha256\":\"%064zx\"},\"custom\":{\"hardwareIds\":[\"board-%04zu\"],"
		    "\"releaseCounter\":%zu}}",
		    n ? "," : "", n % 1000, n, 1000000 + n, n, n % 1000, n);
		n++;
	} while (off + 300 < size);
	snprintf(buf + off, cap - off, "}}");
	*n_targets = n;
	return buf;
}

struct fixture {
	char *doc;
	size_t doc_len;
	struct upt_privkey *key;
	char keyid[UPT_KEYID_MAX + 1];
	unsigned char *mem;
	size_t mem_len;
};

static void fixture_make(struct fixture *fx, size_t size, size_t *n_targets)
{
	struct upt_error err;
	struct upt_signer signer;
	struct upt_arena a;
	struct upt_json *v;
	char *text = targets_text(size, n_targets);
	size_t cap = strlen(text) + 4096;
	fx->mem_len = 64 * size + (1u << 20);
	fx->mem = malloc(fx->mem_len);
	fx->doc = malloc(cap);
	upt_arena_init(&a, fx->mem, fx->mem_len);
	if (!fx->mem || !fx->doc || upt_privkey_generate(&fx->key, UPT_KEY_ED25519, &err) ||
	    upt_privkey_keyid(fx->keyid, fx->key, UPT_DIALECT_TUF, &err) ||
	    upt_json_parse(&v, &a, (const uint8_t *)text, strlen(text), NULL, &err))
		exit(1);
	upt_privkey_signer(&signer, fx->key, fx->keyid);
	if (upt_doc_sign((uint8_t *)fx->doc, cap, &fx->doc_len, v, &signer, 1, UPT_DIALECT_TUF, &a,
			 &err) != UPT_OK) {
		fprintf(stderr, "sign: %s\n", err.msg);
		exit(1);
	}
	free(text);
}

/* One full pass: parse, canonicalize (inside upt_doc_parse), parse the
 * role, verify one signature. */
static int full_pass(struct fixture *fx, const struct upt_key *key,
		     const struct upt_role_keys *role)
{
	struct upt_arena a;
	struct upt_doc doc;
	struct upt_targets t;
	struct upt_error err;
	upt_arena_init(&a, fx->mem, fx->mem_len);
	if (upt_doc_parse(&doc, &a, (const uint8_t *)fx->doc, fx->doc_len, 0, "targets.json",
			  &err) ||
	    upt_targets_parse(&t, &a, &doc, NULL, &err) ||
	    upt_doc_verify(&doc, key, 1, role, upt_openssl_crypto(), NULL, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Raw OpenSSL verification of the same bytes (the baseline). */
static int raw_pass(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* The signing key as libuptake sees it, from its public key object. */
static void public_key(struct upt_key *key, struct upt_arena *ka, struct fixture *fx)
{
	struct upt_error err;
	struct upt_json *v;
	char *pub_json;
	size_t pub_len;
	if (upt_privkey_public_json(&pub_json, &pub_len, fx->key, UPT_DIALECT_TUF, &err) ||
	    upt_json_parse(&v, ka, (const uint8_t *)pub_json, pub_len, NULL, &err) ||
	    upt_key_parse(key, ka, fx->keyid, v, upt_openssl_crypto(), &err)) {
		fprintf(stderr, "bench: key: %s\n", err.msg);
		exit(1);
	}
	upt_free(pub_json);
}

static void bench_size(const char *label, size_t size)
{
	static unsigned char key_mem[65536];
	struct fixture fx;
	struct upt_arena a, ka;
	struct upt_doc doc;
	struct upt_error err;
	struct upt_key key;
	struct upt_role_keys role = {0};
	const char *ids[1];
	size_t n_targets, iters = 0, raw_iters = 0;
	double t0, t_full, t_raw;
	EVP_PKEY *pkey;
	uint8_t *canon, sig[64];
	size_t canon_len;
	fixture_make(&fx, size, &n_targets);
	upt_arena_init(&ka, key_mem, sizeof key_mem);
	public_key(&key, &ka, &fx);
	/* The canonical bytes and the signature, for the baseline. */
	upt_arena_init(&a, fx.mem, fx.mem_len);
	if (upt_doc_parse(&doc, &a, (const uint8_t *)fx.doc, fx.doc_len, 0, "t", &err) ||
	    doc.sigs[0].sig_len != 64)
		exit(1);
	canon_len = doc.canonical_len;
	canon = malloc(canon_len);
	if (!canon)
		exit(1);
	memcpy(canon, doc.canonical, canon_len);
	memcpy(sig, doc.sigs[0].sig, 64);
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key.pub, key.pub_len);
	ids[0] = fx.keyid;
	role.keyids = ids;
	role.n_keyids = 1;
	role.threshold = 1;

	t0 = now();
	do {
		if (raw_pass(pkey, canon, canon_len, sig))
			exit(1);
		raw_iters++;
	} while (now() - t0 < MIN_SECONDS);
	t_raw = (now() - t0) / (double)raw_iters;
	t0 = now();
	do {
		if (full_pass(&fx, &key, &role))
			exit(1);
		iters++;
	} while (now() - t0 < MIN_SECONDS);
	t_full = (now() - t0) / (double)iters;

	printf("%-6s targets.json: %8zu bytes, %6zu targets\n", label, fx.doc_len, n_targets);
	printf("  raw Ed25519 verify (baseline): %10.1f us  %9.1f MB/s\n", t_raw * 1e6,
	       (double)canon_len / t_raw / 1e6);
	printf("  parse+canonicalize+verify:     %10.1f us  %9.1f MB/s  ratio %.2fx baseline\n",
	       t_full * 1e6, (double)fx.doc_len / t_full / 1e6, t_full / t_raw);
	EVP_PKEY_free(pkey);
	upt_privkey_free(fx.key);
	free(canon);
	free(fx.doc);
	free(fx.mem);
}

int main(void)
{
	printf("bench/verify: libuptake metadata verification vs raw OpenSSL Ed25519 verify\n");
	bench_size("1KiB", 1024);
	bench_size("1MiB", 1024 * 1024);
	return 0;
}
