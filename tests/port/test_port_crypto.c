/* uptake tests: the port's own SHA-256, SHA-512 and Ed25519 against
 * OpenSSL: RFC 8032 and FIPS 180-4 vectors, strictness (S >= L,
 * non-canonical and small-order points), a forgery at every byte of a
 * signature, and random messages and keys on which both must agree.
 * UPT_PORT_AGREE=N sets the number of random Ed25519 cases (the long
 * mode); the default keeps the normal run to seconds. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_ed25519.h"
#include "port_sha2.h"

static int failures, checks;

#define CHECK(cond, ...)                                            \
	do {                                                        \
		checks++;                                           \
		if (!(cond)) {                                      \
			failures++;                                 \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                        \
			printf("\n");                               \
		}                                                   \
	} while (0)

static void unhex(uint8_t *out, const char *h)
{
	for (size_t i = 0; h[2 * i]; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = h[2 * i + k];
			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

static void rnd(uint8_t *p, size_t n)
{
	if (n && RAND_bytes(p, (int)n) != 1)
		abort();
}

/* ---- OpenSSL as the oracle ---------------------------------------------- */

static void ossl_pub(uint8_t pub[32], const uint8_t seed[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1)
		abort();
	EVP_PKEY_free(k);
}

static void ossl_sign(uint8_t sig[64], const uint8_t seed[32], const uint8_t *m, size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = 64;
	if (!k || !c || EVP_DigestSignInit(c, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(c, sig, &n, m, len) != 1)
		abort();
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
}

static bool ossl_verify(const uint8_t pub[32], const uint8_t *m, size_t len, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok;
	if (!c)
		abort();
	ok = k && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestVerify(c, sig, 64, m, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

static void ossl_hash(const char *alg, const uint8_t *m, size_t len, uint8_t *out)
{
	unsigned n = 0;
	if (EVP_Digest(m, len, out, &n, EVP_get_digestbyname(alg), NULL) != 1)
		abort();
}

/* ---- SHA-2 -------------------------------------------------------------- */

static void sha_vectors(void)
{
	/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA512.pdf") */
	static const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[64], w[64];
	upt_port_sha256(d, (const uint8_t *)"abc", 3);
	unhex(w, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(memcmp(d, w, 32) == 0, "sha256(abc)");
	upt_port_sha256(d, (const uint8_t *)two_block, strlen(two_block));
	unhex(w, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK(memcmp(d, w, 32) == 0, "sha256(two blocks)");
	upt_port_sha512(d, (const uint8_t *)"abc", 3);
	unhex(w, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	CHECK(memcmp(d, w, 64) == 0, "sha512(abc)");
}

/* Random messages of every length around the block boundaries, fed in
 * random pieces: the same digests as OpenSSL. */
static void sha_agree(int n)
{
	static uint8_t m[1200];
	for (int i = 0; i < n; i++) {
		size_t len = (size_t)(i % 300) + (i % 7 == 0 ? 900 : 0), off = 0;
		struct upt_port_sha256 c256;
		struct upt_port_sha512 c512;
		uint8_t a[64], b[64];
		rnd(m, len);
		upt_port_sha256_init(&c256);
		upt_port_sha512_init(&c512);
		while (off < len) {
			size_t piece = (size_t)(m[off] % 200) + 1;
			if (piece > len - off)
				piece = len - off;
			upt_port_sha256_update(&c256, m + off, piece);
			upt_port_sha512_update(&c512, m + off, piece);
			off += piece;
		}
		upt_port_sha256_final(&c256, a);
		ossl_hash("SHA256", m, len, b);
		CHECK(memcmp(a, b, 32) == 0, "sha256 differs at length %zu", len);
		upt_port_sha512_final(&c512, a);
		ossl_hash("SHA512", m, len, b);
		CHECK(memcmp(a, b, 64) == 0, "sha512 differs at length %zu", len);
		if (failures > 10)
			return;
	}
	printf("ok  SHA-256/512: %d random messages agree with OpenSSL\n", n);
}

/* ---- Ed25519 ------------------------------------------------------------ */

struct rfc_vector {
	const char *seed, *pub, *msg, *sig;
};

/* RFC 8032 section 7.1, TEST 1, 2, 3 and SHA(abc) */
static const struct rfc_vector rfc[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
     "f9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0"
     "f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f76098"
     "4dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3"
     "feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c664"
     "31e0303dca179c138ac17ad9bef1177331a704"},
};

static void rfc8032(void)
{
	for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		uint8_t seed[32], pub[32], sig[64], mine[64], m[64];
		size_t ml = strlen(rfc[i].msg) / 2;
		unhex(seed, rfc[i].seed);
		unhex(pub, rfc[i].pub);
		unhex(sig, rfc[i].sig);
		unhex(m, rfc[i].msg);
		CHECK(upt_port_ed25519_verify(pub, m, ml, sig), "RFC 8032 vector %zu", i + 1);
		upt_port_ed25519_public(mine, seed);
		CHECK(memcmp(mine, pub, 32) == 0, "RFC 8032 vector %zu: public key", i + 1);
		upt_port_ed25519_sign(mine, seed, pub, m, ml);
		CHECK(memcmp(mine, sig, 64) == 0, "RFC 8032 vector %zu: signature", i + 1);
	}
	printf("ok  RFC 8032 vectors\n");
}

/* little-endian 256-bit a += b, a -= b, a >= b */
static void add256(uint8_t *a, const uint8_t *b)
{
	unsigned c = 0;
	for (int i = 0; i < 32; i++) {
		c += (unsigned)a[i] + b[i];
		a[i] = (uint8_t)c;
		c >>= 8;
	}
}

static void sub256(uint8_t *a, const uint8_t *b)
{
	int c = 0;
	for (int i = 0; i < 32; i++) {
		int v = a[i] - b[i] - c;
		c = v < 0;
		a[i] = (uint8_t)(v + (c ? 256 : 0));
	}
}

static bool ge256(const uint8_t *a, const uint8_t *b)
{
	for (int i = 31; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] > b[i];
	return true;
}

static const char *L_HEX = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

static void strictness(void)
{
	uint8_t seed[32], pub[32], sig[64], bad[64], l[32], m[40], scalar[64], a[32];
	/* encodings of small-order points: the identity (y = 1), (0, -1),
	 * the two points of order 4 (y = 0), and two of order 8; and y = p,
	 * y = p + 1, non-canonical forms of the order-4 point and of the
	 * identity */
	static const char *small[] = {
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0000000000000000000000000000000000000000000000000000000000000080",
	    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	int openssl_accepted = 0;
	rnd(seed, 32);
	rnd(m, sizeof m);
	ossl_pub(pub, seed);
	ossl_sign(sig, seed, m, sizeof m);
	CHECK(upt_port_ed25519_verify(pub, m, sizeof m, sig), "valid signature refused");
	/* S + L is the same scalar, not canonical: refused (OpenSSL too) */
	unhex(l, L_HEX);
	memcpy(bad, sig, 64);
	add256(bad + 32, l);
	CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, bad), "S + L accepted");
	CHECK(!ossl_verify(pub, m, sizeof m, bad), "OpenSSL accepts S + L");
	memcpy(bad + 32, l, 32);
	CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, bad), "S = L accepted");
	memset(bad + 32, 0xff, 32);
	CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, bad), "S = 2^256 - 1 accepted");
	/* small-order and non-canonical public keys and R */
	for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
		uint8_t p[32];
		unhex(p, small[i]);
		CHECK(!upt_port_ed25519_verify(p, m, sizeof m, sig), "small-order A %zu accepted",
		      i);
		memcpy(bad, sig, 64);
		memcpy(bad, p, 32);
		CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, bad), "small-order R %zu accepted",
		      i);
	}
	/* The attack this stops: for the identity as public key, R = [S]B
	 * verifies under the cofactorless equation for every message. Take
	 * S = the secret scalar a of a key pair (a mod L), so R = A. */
	ossl_hash("SHA512", seed, 32, scalar);
	scalar[0] &= 248;
	scalar[31] &= 127;
	scalar[31] |= 64;
	memcpy(a, scalar, 32);
	while (ge256(a, l))
		sub256(a, l);
	memcpy(bad, pub, 32);
	memcpy(bad + 32, a, 32);
	{
		uint8_t id[32];
		unhex(id, small[0]);
		for (int k = 0; k < 4; k++) {
			m[0] = (uint8_t)k;
			openssl_accepted += ossl_verify(id, m, sizeof m, bad);
			CHECK(!upt_port_ed25519_verify(id, m, sizeof m, bad),
			      "identity-key forgery accepted");
		}
	}
	printf("ok  strictness: S >= L, small-order and non-canonical points refused (OpenSSL "
	       "accepts the identity-key forgery %d of 4 times)\n",
	       openssl_accepted);
}

/* Every byte of the signature, the key and the message changed: refused
 * by both. */
static void forgery_every_byte(void)
{
	uint8_t seed[32], pub[32], sig[64], bad[64], m[48], pk[32];
	rnd(seed, 32);
	rnd(m, sizeof m);
	ossl_pub(pub, seed);
	ossl_sign(sig, seed, m, sizeof m);
	for (int i = 0; i < 64; i++)
		for (int bitv = 0; bitv < 8; bitv += 7) {
			memcpy(bad, sig, 64);
			bad[i] ^= (uint8_t)(1u << bitv);
			CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, bad),
			      "forgery at signature byte %d bit %d accepted", i, bitv);
			CHECK(!ossl_verify(pub, m, sizeof m, bad), "OpenSSL: forgery at byte %d",
			      i);
		}
	for (int i = 0; i < 32; i++) {
		memcpy(pk, pub, 32);
		pk[i] ^= 1;
		CHECK(!upt_port_ed25519_verify(pk, m, sizeof m, sig), "key byte %d changed", i);
	}
	for (size_t i = 0; i < sizeof m; i++) {
		m[i] ^= 0x80;
		CHECK(!upt_port_ed25519_verify(pub, m, sizeof m, sig), "message byte %zu changed",
		      i);
		m[i] ^= 0x80;
	}
	CHECK(!upt_port_ed25519_verify(pub, m, sizeof m - 1, sig), "truncated message accepted");
	printf("ok  forgery at every byte of signature, key and message refused\n");
}

/* Random keys and messages, signed by OpenSSL; a third of the cases are
 * changed in one random byte. Both must agree on each; every tenth the
 * port signs too and must produce OpenSSL's signature. */
static void ed25519_agree(long n)
{
	static uint8_t m[300];
	long valid = 0, refused = 0;
	for (long i = 0; i < n && failures < 10; i++) {
		uint8_t seed[32], pub[32], sig[64], r[4];
		size_t len;
		bool mine, theirs;
		rnd(seed, 32);
		rnd(r, 4);
		len = (size_t)(r[0] | r[1] << 8) % sizeof m;
		rnd(m, len);
		ossl_pub(pub, seed);
		ossl_sign(sig, seed, m, len);
		if (i % 10 == 0) {
			uint8_t s2[64], p2[32];
			upt_port_ed25519_public(p2, seed);
			upt_port_ed25519_sign(s2, seed, p2, m, len);
			CHECK(memcmp(p2, pub, 32) == 0 && memcmp(s2, sig, 64) == 0,
			      "port signature differs from OpenSSL's (case %ld)", i);
		}
		switch (r[2] % 6) {
		case 0:
			sig[r[3] % 64] ^= (uint8_t)(1u << (r[2] % 8));
			break;
		case 1:
			if (len)
				m[r[3] % len] ^= 1;
			else
				sig[0] ^= 1;
			break;
		default:
			break;
		}
		mine = upt_port_ed25519_verify(pub, m, len, sig);
		theirs = ossl_verify(pub, m, len, sig);
		CHECK(mine == theirs, "case %ld: port %d, OpenSSL %d", i, mine, theirs);
		valid += mine;
		refused += !mine;
	}
	CHECK(valid > 0 && refused > 0, "agreement cases all of one kind");
	printf("ok  Ed25519: %ld random keys and messages agree with OpenSSL (%ld valid, %ld "
	       "refused)\n",
	       n, valid, refused);
}

int main(void)
{
	const char *env = getenv("UPT_PORT_AGREE");
	/* Each case costs an OpenSSL key, signature and verification plus
	 * ours; sanitizer builds are ten times slower. */
#if defined(__SANITIZE_ADDRESS__)
	long n = 1000;
#else
	long n = 5000;
#endif
	if (env && *env)
		n = strtol(env, NULL, 10);
	sha_vectors();
	sha_agree(100000);
	rfc8032();
	strictness();
	forgery_every_byte();
	ed25519_agree(n);
	printf("port crypto: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
