/* uptake port: SHA-256 and SHA-512 as FIPS 180-4 sections 5 and 6 define
 * them (padding 5.1, initial values 5.3, the compression functions 6.2.2
 * and 6.4.2), written for small code rather than speed. */
#include <string.h>

#include "port_sha2.h"

/* ---- SHA-256 ------------------------------------------------------------ */

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 6.2.2: one 512-bit block. The schedule W is kept as a rolling window of
 * 16 words. */
static void block256(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[16], v[8];
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(p + 4 * t);
	memcpy(v, h, sizeof v);
	for (int t = 0; t < 64; t++) {
		uint32_t wt, t1, t2;
		if (t < 16) {
			wt = w[t];
		} else {
			uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			uint32_t s0 = ror32(w15, 7) ^ ror32(w15, 18) ^ (w15 >> 3);
			uint32_t s1 = ror32(w2, 17) ^ ror32(w2, 19) ^ (w2 >> 10);
			wt = w[t & 15] = s1 + w[(t - 7) & 15] + s0 + w[t & 15];
		}
		t1 = v[7] + (ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + K256[t] + wt;
		t2 = (ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

void upt_port_sha256_init(struct upt_port_sha256 *c)
{
	/* 5.3.3 */
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->fill = 0;
}

void upt_port_sha256_update(struct upt_port_sha256 *c, const uint8_t *data, size_t len)
{
	c->bytes += len;
	while (len) {
		size_t n = 64 - c->fill;
		if (c->fill == 0 && len >= 64) {
			block256(c->h, data);
			data += 64;
			len -= 64;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(c->buf + c->fill, data, n);
		c->fill += n;
		data += n;
		len -= n;
		if (c->fill == 64) {
			block256(c->h, c->buf);
			c->fill = 0;
		}
	}
}

void upt_port_sha256_final(struct upt_port_sha256 *c, uint8_t out[UPT_PORT_SHA256_LEN])
{
	/* 5.1.1: a 1 bit, zeros, the 64-bit length in bits */
	uint64_t bits = c->bytes * 8;
	c->buf[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->buf + c->fill, 0, 64 - c->fill);
		block256(c->h, c->buf);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, 56 - c->fill);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	block256(c->h, c->buf);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	memset(c, 0, sizeof *c);
}

void upt_port_sha256(uint8_t out[UPT_PORT_SHA256_LEN], const uint8_t *data, size_t len)
{
	struct upt_port_sha256 c;
	upt_port_sha256_init(&c);
	upt_port_sha256_update(&c, data, len);
	upt_port_sha256_final(&c, out);
}

/* ---- SHA-512 ------------------------------------------------------------ */

/* FIPS 180-4 4.2.3: the first 64 bits of the fractional parts of the cube
 * roots of the first 80 primes. */
static const uint64_t K512[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817};

static uint64_t ror64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

/* 6.4.2: one 1024-bit block. */
static void block512(uint64_t h[8], const uint8_t *p)
{
	uint64_t w[16], v[8];
	for (int t = 0; t < 16; t++)
		w[t] = load_be64(p + 8 * t);
	memcpy(v, h, sizeof v);
	for (int t = 0; t < 80; t++) {
		uint64_t wt, t1, t2;
		if (t < 16) {
			wt = w[t];
		} else {
			uint64_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
			uint64_t s0 = ror64(w15, 1) ^ ror64(w15, 8) ^ (w15 >> 7);
			uint64_t s1 = ror64(w2, 19) ^ ror64(w2, 61) ^ (w2 >> 6);
			wt = w[t & 15] = s1 + w[(t - 7) & 15] + s0 + w[t & 15];
		}
		t1 = v[7] + (ror64(v[4], 14) ^ ror64(v[4], 18) ^ ror64(v[4], 41)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + K512[t] + wt;
		t2 = (ror64(v[0], 28) ^ ror64(v[0], 34) ^ ror64(v[0], 39)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

void upt_port_sha512_init(struct upt_port_sha512 *c)
{
	/* 5.3.5 */
	static const uint64_t iv[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
				       0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
				       0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->fill = 0;
}

void upt_port_sha512_update(struct upt_port_sha512 *c, const uint8_t *data, size_t len)
{
	c->bytes += len;
	while (len) {
		size_t n = 128 - c->fill;
		if (c->fill == 0 && len >= 128) {
			block512(c->h, data);
			data += 128;
			len -= 128;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(c->buf + c->fill, data, n);
		c->fill += n;
		data += n;
		len -= n;
		if (c->fill == 128) {
			block512(c->h, c->buf);
			c->fill = 0;
		}
	}
}

void upt_port_sha512_final(struct upt_port_sha512 *c, uint8_t out[UPT_PORT_SHA512_LEN])
{
	/* 5.1.2: a 1 bit, zeros, the 128-bit length in bits (the top 64 bits
	 * are the bits shifted out of the byte count) */
	uint64_t bits = c->bytes << 3, high = c->bytes >> 61;
	c->buf[c->fill++] = 0x80;
	if (c->fill > 112) {
		memset(c->buf + c->fill, 0, 128 - c->fill);
		block512(c->h, c->buf);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, 112 - c->fill);
	store_be64(c->buf + 112, high);
	store_be64(c->buf + 120, bits);
	block512(c->h, c->buf);
	for (int i = 0; i < 8; i++)
		store_be64(out + 8 * i, c->h[i]);
	memset(c, 0, sizeof *c);
}

void upt_port_sha512(uint8_t out[UPT_PORT_SHA512_LEN], const uint8_t *data, size_t len)
{
	struct upt_port_sha512 c;
	upt_port_sha512_init(&c);
	upt_port_sha512_update(&c, data, len);
	upt_port_sha512_final(&c, out);
}
