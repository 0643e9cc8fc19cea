/* bench: the microcontroller port's Ed25519 and SHA-256 on the host,
 * against OpenSSL in the same run. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uptake/crypto_openssl.h>

#include "port_ed25519.h"
#include "port_sha2.h"

static double secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	static uint8_t big[1 << 20];
	const struct upt_crypto *c = upt_openssl_crypto();
	uint8_t seed[32], pub[32], sig[64], msg[256], d[64];
	size_t n = 32;
	const int rounds = 2000;
	double t0, port_v, ossl_v, port_s, port_h, ossl_h;
	int ok = 0;
	EVP_PKEY *k;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (RAND_bytes(seed, 32) != 1 || RAND_bytes(msg, sizeof msg) != 1 || !m)
		return 1;
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	n = 64;
	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &(size_t){32}) != 1 ||
	    EVP_DigestSignInit(m, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(m, sig, &n, msg, sizeof msg) != 1)
		return 1;
	t0 = secs();
	for (int i = 0; i < rounds; i++)
		ok += upt_port_ed25519_verify(pub, msg, sizeof msg, sig);
	port_v = (secs() - t0) / rounds;
	t0 = secs();
	for (int i = 0; i < rounds; i++)
		ok += c->verify(c->ctx, UPT_SCHEME_ED25519, pub, 32, msg, sizeof msg, sig, 64) == 0;
	ossl_v = (secs() - t0) / rounds;
	t0 = secs();
	for (int i = 0; i < rounds / 4; i++)
		upt_port_ed25519_sign(sig, seed, pub, msg, sizeof msg);
	port_s = (secs() - t0) / (rounds / 4);
	t0 = secs();
	for (int i = 0; i < 64; i++)
		upt_port_sha256(d, big, sizeof big);
	port_h = (secs() - t0) / 64;
	t0 = secs();
	for (int i = 0; i < 64; i++)
		(void)c->hash(c->ctx, UPT_HASH_SHA256, big, sizeof big, d);
	ossl_h = (secs() - t0) / 64;
	if (ok != 2 * rounds)
		return 1;
	printf("Ed25519 verify: port %.1f us, OpenSSL %.1f us (%.2fx)\n", port_v * 1e6,
	       ossl_v * 1e6, port_v / ossl_v);
	printf("Ed25519 sign (constant time): port %.1f us\n", port_s * 1e6);
	printf("SHA-256 of 1 MiB: port %.2f ms, OpenSSL %.2f ms (%.2fx)\n", port_h * 1e3,
	       ossl_h * 1e3, port_h / ossl_h);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(k);
	return 0;
}
