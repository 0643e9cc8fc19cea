/* uptake port: Ed25519 from RFC 8032 section 5.1.
 *
 * Field elements mod p = 2^255 - 19 are ten signed limbs of alternately 26
 * and 25 bits (limb k weighs 2^ceil(25.5 k)), so that every product fits a
 * 32x32->64 multiply, which every Cortex-M has. Points are in extended
 * coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, with the addition and
 * doubling formulas of RFC 8032 5.1.4. Scalars mod the group order L are
 * reduced one bit at a time: slow next to a scalar multiplication, and
 * easy to see correct.
 */
#include <string.h>

#include "port_ed25519.h"
#include "port_sha2.h"

typedef int32_t fe[10];

struct ge {
	fe x, y, z, t;
};

static unsigned limb_bits(int k)
{
	return (k & 1) ? 25u : 26u;
}

/* ---- the field ---------------------------------------------------------- */

/* Bring 64-bit limbs (each below 2^62 in magnitude) back to about 2^25
 * each and store them: one carry pass, then once more from limb 0, which
 * took 19 times the carry out of limb 9 (2^255 = 19 mod p). */
static void fe_carry(fe out, int64_t h[10])
{
	int64_t c;
	for (int k = 0; k < 9; k += 2) {
		c = (h[k] + ((int64_t)1 << 25)) >> 26;
		h[k] -= c * ((int64_t)1 << 26);
		h[k + 1] += c;
		c = (h[k + 1] + ((int64_t)1 << 24)) >> 25;
		h[k + 1] -= c * ((int64_t)1 << 25);
		if (k + 2 < 10)
			h[k + 2] += c;
		else
			h[0] += 19 * c;
	}
	c = (h[0] + ((int64_t)1 << 25)) >> 26;
	h[0] -= c * ((int64_t)1 << 26);
	h[1] += c;
	for (int k = 0; k < 10; k++)
		out[k] = (int32_t)h[k];
}

static void fe_0(fe h)
{
	memset(h, 0, sizeof(fe));
}

static void fe_1(fe h)
{
	fe_0(h);
	h[0] = 1;
}

static void fe_copy(fe h, const fe f)
{
	memcpy(h, f, sizeof(fe));
}

static void fe_add(fe h, const fe f, const fe g)
{
	int64_t t[10];
	for (int k = 0; k < 10; k++)
		t[k] = (int64_t)f[k] + g[k];
	fe_carry(h, t);
}

static void fe_sub(fe h, const fe f, const fe g)
{
	int64_t t[10];
	for (int k = 0; k < 10; k++)
		t[k] = (int64_t)f[k] - g[k];
	fe_carry(h, t);
}

static void fe_neg(fe h, const fe f)
{
	fe z;
	fe_0(z);
	fe_sub(h, z, f);
}

/* Schoolbook product. Limb i times limb j lands on limb i+j, twice when
 * both are odd (their weights add up to one more bit), and on limb
 * i+j-10 times 19 when it wraps past 2^255. Written out so that compilers
 * for small targets need not unroll. */
static void fe_mul(fe h, const fe f, const fe g)
{
	int32_t f2[10], g19[10];
	int64_t t[10];
	for (int i = 0; i < 10; i++) {
		f2[i] = 2 * f[i];
		g19[i] = 19 * g[i];
	}
	t[0] = (int64_t)f[0] * g[0] + (int64_t)f2[1] * g19[9] + (int64_t)f[2] * g19[8] +
	       (int64_t)f2[3] * g19[7] + (int64_t)f[4] * g19[6] + (int64_t)f2[5] * g19[5] +
	       (int64_t)f[6] * g19[4] + (int64_t)f2[7] * g19[3] + (int64_t)f[8] * g19[2] +
	       (int64_t)f2[9] * g19[1];
	t[1] = (int64_t)f[0] * g[1] + (int64_t)f[1] * g[0] + (int64_t)f[2] * g19[9] +
	       (int64_t)f[3] * g19[8] + (int64_t)f[4] * g19[7] + (int64_t)f[5] * g19[6] +
	       (int64_t)f[6] * g19[5] + (int64_t)f[7] * g19[4] + (int64_t)f[8] * g19[3] +
	       (int64_t)f[9] * g19[2];
	t[2] = (int64_t)f[0] * g[2] + (int64_t)f2[1] * g[1] + (int64_t)f[2] * g[0] +
	       (int64_t)f2[3] * g19[9] + (int64_t)f[4] * g19[8] + (int64_t)f2[5] * g19[7] +
	       (int64_t)f[6] * g19[6] + (int64_t)f2[7] * g19[5] + (int64_t)f[8] * g19[4] +
	       (int64_t)f2[9] * g19[3];
	t[3] = (int64_t)f[0] * g[3] + (int64_t)f[1] * g[2] + (int64_t)f[2] * g[1] +
	       (int64_t)f[3] * g[0] + (int64_t)f[4] * g19[9] + (int64_t)f[5] * g19[8] +
	       (int64_t)f[6] * g19[7] + (int64_t)f[7] * g19[6] + (int64_t)f[8] * g19[5] +
	       (int64_t)f[9] * g19[4];
	t[4] = (int64_t)f[0] * g[4] + (int64_t)f2[1] * g[3] + (int64_t)f[2] * g[2] +
	       (int64_t)f2[3] * g[1] + (int64_t)f[4] * g[0] + (int64_t)f2[5] * g19[9] +
	       (int64_t)f[6] * g19[8] + (int64_t)f2[7] * g19[7] + (int64_t)f[8] * g19[6] +
	       (int64_t)f2[9] * g19[5];
	t[5] = (int64_t)f[0] * g[5] + (int64_t)f[1] * g[4] + (int64_t)f[2] * g[3] +
	       (int64_t)f[3] * g[2] + (int64_t)f[4] * g[1] + (int64_t)f[5] * g[0] +
	       (int64_t)f[6] * g19[9] + (int64_t)f[7] * g19[8] + (int64_t)f[8] * g19[7] +
	       (int64_t)f[9] * g19[6];
	t[6] = (int64_t)f[0] * g[6] + (int64_t)f2[1] * g[5] + (int64_t)f[2] * g[4] +
	       (int64_t)f2[3] * g[3] + (int64_t)f[4] * g[2] + (int64_t)f2[5] * g[1] +
	       (int64_t)f[6] * g[0] + (int64_t)f2[7] * g19[9] + (int64_t)f[8] * g19[8] +
	       (int64_t)f2[9] * g19[7];
	t[7] = (int64_t)f[0] * g[7] + (int64_t)f[1] * g[6] + (int64_t)f[2] * g[5] +
	       (int64_t)f[3] * g[4] + (int64_t)f[4] * g[3] + (int64_t)f[5] * g[2] +
	       (int64_t)f[6] * g[1] + (int64_t)f[7] * g[0] + (int64_t)f[8] * g19[9] +
	       (int64_t)f[9] * g19[8];
	t[8] = (int64_t)f[0] * g[8] + (int64_t)f2[1] * g[7] + (int64_t)f[2] * g[6] +
	       (int64_t)f2[3] * g[5] + (int64_t)f[4] * g[4] + (int64_t)f2[5] * g[3] +
	       (int64_t)f[6] * g[2] + (int64_t)f2[7] * g[1] + (int64_t)f[8] * g[0] +
	       (int64_t)f2[9] * g19[9];
	t[9] = (int64_t)f[0] * g[9] + (int64_t)f[1] * g[8] + (int64_t)f[2] * g[7] +
	       (int64_t)f[3] * g[6] + (int64_t)f[4] * g[5] + (int64_t)f[5] * g[4] +
	       (int64_t)f[6] * g[3] + (int64_t)f[7] * g[2] + (int64_t)f[8] * g[1] +
	       (int64_t)f[9] * g[0];
	fe_carry(h, t);
}

/* f^2: the products of fe_mul with each pair i < j counted twice. */
static void fe_sq(fe h, const fe f)
{
	int64_t t[10];
	t[0] = (int64_t)f[0] * f[0] + (int64_t)f[1] * f[9] * 76 + (int64_t)f[2] * f[8] * 38 +
	       (int64_t)f[3] * f[7] * 76 + (int64_t)f[4] * f[6] * 38 + (int64_t)f[5] * f[5] * 38;
	t[1] = (int64_t)f[0] * f[1] * 2 + (int64_t)f[2] * f[9] * 38 + (int64_t)f[3] * f[8] * 38 +
	       (int64_t)f[4] * f[7] * 38 + (int64_t)f[5] * f[6] * 38;
	t[2] = (int64_t)f[0] * f[2] * 2 + (int64_t)f[1] * f[1] * 2 + (int64_t)f[3] * f[9] * 76 +
	       (int64_t)f[4] * f[8] * 38 + (int64_t)f[5] * f[7] * 76 + (int64_t)f[6] * f[6] * 19;
	t[3] = (int64_t)f[0] * f[3] * 2 + (int64_t)f[1] * f[2] * 2 + (int64_t)f[4] * f[9] * 38 +
	       (int64_t)f[5] * f[8] * 38 + (int64_t)f[6] * f[7] * 38;
	t[4] = (int64_t)f[0] * f[4] * 2 + (int64_t)f[1] * f[3] * 4 + (int64_t)f[2] * f[2] +
	       (int64_t)f[5] * f[9] * 76 + (int64_t)f[6] * f[8] * 38 + (int64_t)f[7] * f[7] * 38;
	t[5] = (int64_t)f[0] * f[5] * 2 + (int64_t)f[1] * f[4] * 2 + (int64_t)f[2] * f[3] * 2 +
	       (int64_t)f[6] * f[9] * 38 + (int64_t)f[7] * f[8] * 38;
	t[6] = (int64_t)f[0] * f[6] * 2 + (int64_t)f[1] * f[5] * 4 + (int64_t)f[2] * f[4] * 2 +
	       (int64_t)f[3] * f[3] * 2 + (int64_t)f[7] * f[9] * 76 + (int64_t)f[8] * f[8] * 19;
	t[7] = (int64_t)f[0] * f[7] * 2 + (int64_t)f[1] * f[6] * 2 + (int64_t)f[2] * f[5] * 2 +
	       (int64_t)f[3] * f[4] * 2 + (int64_t)f[8] * f[9] * 38;
	t[8] = (int64_t)f[0] * f[8] * 2 + (int64_t)f[1] * f[7] * 4 + (int64_t)f[2] * f[6] * 2 +
	       (int64_t)f[3] * f[5] * 4 + (int64_t)f[4] * f[4] + (int64_t)f[9] * f[9] * 38;
	t[9] = (int64_t)f[0] * f[9] * 2 + (int64_t)f[1] * f[8] * 2 + (int64_t)f[2] * f[7] * 2 +
	       (int64_t)f[3] * f[6] * 2 + (int64_t)f[4] * f[5] * 2;
	fe_carry(h, t);
}

static void fe_sqn(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* The canonical 32-byte little-endian encoding (value in [0, p)). */
static void fe_tobytes(uint8_t s[32], const fe f)
{
	int64_t h[10], q;
	uint64_t acc = 0;
	unsigned nbits = 0, o = 0;
	for (int k = 0; k < 10; k++)
		h[k] = f[k];
	/* q = floor(h / p), in {-1, 0, 1} for carried limbs */
	q = (19 * h[9] + ((int64_t)1 << 24)) >> 25;
	for (int k = 0; k < 10; k++)
		q = (h[k] + q) >> limb_bits(k);
	/* h - q p = h + 19 q - q 2^255; the last carry drops q 2^255 */
	h[0] += 19 * q;
	for (int k = 0; k < 10; k++) {
		unsigned w = limb_bits(k);
		int64_t c = h[k] >> w;
		h[k] -= c * ((int64_t)1 << w);
		if (k < 9)
			h[k + 1] += c;
	}
	for (int k = 0; k < 10; k++) {
		acc |= (uint64_t)h[k] << nbits;
		nbits += limb_bits(k);
		while (nbits >= 8 && o < 32) {
			s[o++] = (uint8_t)acc;
			acc >>= 8;
			nbits -= 8;
		}
	}
	while (o < 32) {
		s[o++] = (uint8_t)acc;
		acc >>= 8;
	}
}

/* Bits [pos, pos + w) of the little-endian number s[0..32). */
static uint32_t bits_at(const uint8_t s[32], unsigned pos, unsigned w)
{
	uint64_t v = 0;
	unsigned first = pos / 8;
	for (unsigned i = 0; i < 5 && first + i < 32; i++)
		v |= (uint64_t)s[first + i] << (8 * i);
	return (uint32_t)((v >> (pos % 8)) & (((uint64_t)1 << w) - 1));
}

/* The low 255 bits of s (the top bit is the caller's). */
static void fe_frombytes(fe h, const uint8_t s[32])
{
	unsigned pos = 0;
	for (int k = 0; k < 10; k++) {
		h[k] = (int32_t)bits_at(s, pos, limb_bits(k));
		pos += limb_bits(k);
	}
}

static bool fe_eq(const fe f, const fe g)
{
	uint8_t a[32], b[32];
	uint8_t d = 0;
	fe_tobytes(a, f);
	fe_tobytes(b, g);
	for (int i = 0; i < 32; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static bool fe_iszero(const fe f)
{
	fe z;
	fe_0(z);
	return fe_eq(f, z);
}

static int fe_parity(const fe f)
{
	uint8_t s[32];
	fe_tobytes(s, f);
	return s[0] & 1;
}

/* z^(2^250 - 1) and z^11, the common part of both exponentiations. */
static void fe_pow_2_250_1(fe out, fe z11, const fe z)
{
	fe z2, z9, a, b, c;
	fe_sq(z2, z);
	fe_sqn(a, z2, 2);
	fe_mul(z9, a, z);    /* z^9 */
	fe_mul(z11, z9, z2); /* z^11 */
	fe_sq(a, z11);       /* z^22 */
	fe_mul(a, a, z9);    /* z^(2^5 - 1) */
	fe_sqn(b, a, 5);
	fe_mul(b, b, a); /* 2^10 - 1 */
	fe_sqn(c, b, 10);
	fe_mul(c, c, b); /* 2^20 - 1 */
	fe_sqn(out, c, 20);
	fe_mul(out, out, c); /* 2^40 - 1 */
	fe_sqn(out, out, 10);
	fe_mul(a, out, b); /* 2^50 - 1 */
	fe_sqn(b, a, 50);
	fe_mul(b, b, a); /* 2^100 - 1 */
	fe_sqn(c, b, 100);
	fe_mul(c, c, b); /* 2^200 - 1 */
	fe_sqn(c, c, 50);
	fe_mul(out, c, a); /* 2^250 - 1 */
}

/* 1/z = z^(p - 2) = z^(2^255 - 21). */
static void fe_invert(fe out, const fe z)
{
	fe t, z11;
	fe_pow_2_250_1(t, z11, z);
	fe_sqn(t, t, 5);
	fe_mul(out, t, z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3), for square roots. */
static void fe_pow_p58(fe out, const fe z)
{
	fe t, z11;
	fe_pow_2_250_1(t, z11, z);
	fe_sqn(t, t, 2);
	fe_mul(out, t, z);
}

/* ---- constants ---------------------------------------------------------- */

/* d = -121665/121666 mod p; sqrt(-1) = 2^((p-1)/4) mod p; the base point
 * B (y = 4/5, x even) in its encoding; the group order L. Little-endian. */
static const uint8_t D_BYTES[32] = {
    0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
    0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52};
static const uint8_t SQRTM1_BYTES[32] = {
    0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
    0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
static const uint8_t B_BYTES[32] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
static const uint8_t L_BYTES[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

/* ---- points ------------------------------------------------------------- */

static void ge_identity(struct ge *p)
{
	fe_0(p->x);
	fe_1(p->y);
	fe_1(p->z);
	fe_0(p->t);
}

/* RFC 8032 5.1.4, a = -1: complete, valid for doubling too. */
static void ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, e, f, g, h, t, d2;
	fe_sub(a, p->y, p->x);
	fe_sub(t, q->y, q->x);
	fe_mul(a, a, t);
	fe_add(b, p->y, p->x);
	fe_add(t, q->y, q->x);
	fe_mul(b, b, t);
	fe_frombytes(d2, D_BYTES);
	fe_add(d2, d2, d2);
	fe_mul(c, p->t, q->t);
	fe_mul(c, c, d2);
	fe_mul(d, p->z, q->z);
	fe_add(d, d, d);
	fe_sub(e, b, a);
	fe_sub(f, d, c);
	fe_add(g, d, c);
	fe_add(h, b, a);
	fe_mul(r->x, e, f);
	fe_mul(r->y, g, h);
	fe_mul(r->t, e, h);
	fe_mul(r->z, f, g);
}

static void ge_double(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h, t;
	fe_sq(a, p->x);
	fe_sq(b, p->y);
	fe_sq(c, p->z);
	fe_add(c, c, c);
	fe_add(h, a, b);
	fe_add(t, p->x, p->y);
	fe_sq(t, t);
	fe_sub(e, h, t);
	fe_sub(g, a, b);
	fe_add(f, c, g);
	fe_mul(r->x, e, f);
	fe_mul(r->y, g, h);
	fe_mul(r->t, e, h);
	fe_mul(r->z, f, g);
}

static void ge_neg(struct ge *r, const struct ge *p)
{
	fe_neg(r->x, p->x);
	fe_copy(r->y, p->y);
	fe_copy(r->z, p->z);
	fe_neg(r->t, p->t);
}

/* y < p for the low 255 bits of s. */
static bool y_canonical(const uint8_t s[32])
{
	/* p = 0x7fff...ffed: y >= p only when bits 8..254 are all ones and
	 * the low byte is at least 0xed */
	if ((s[31] & 0x7f) != 0x7f)
		return true;
	for (int i = 30; i > 0; i--)
		if (s[i] != 0xff)
			return true;
	return s[0] < 0xed;
}

/* RFC 8032 5.1.3, refusing non-canonical encodings. */
static bool ge_decode(struct ge *p, const uint8_t s[32])
{
	fe u, v, v3, vx2, t, d;
	int sign = s[31] >> 7;
	if (!y_canonical(s))
		return false;
	fe_frombytes(p->y, s);
	fe_1(p->z);
	fe_frombytes(d, D_BYTES);
	fe_sq(u, p->y);
	fe_mul(v, u, d);
	fe_sub(u, u, p->z); /* u = y^2 - 1 */
	fe_add(v, v, p->z); /* v = d y^2 + 1 */
	/* x = u v^3 (u v^7)^((p-5)/8) */
	fe_sq(v3, v);
	fe_mul(v3, v3, v);
	fe_sq(t, v3);
	fe_mul(t, t, v);
	fe_mul(t, t, u);
	fe_pow_p58(t, t);
	fe_mul(t, t, v3);
	fe_mul(p->x, t, u);
	fe_sq(vx2, p->x);
	fe_mul(vx2, vx2, v);
	if (!fe_eq(vx2, u)) {
		fe_neg(t, u);
		if (!fe_eq(vx2, t))
			return false; /* no square root: not on the curve */
		fe_frombytes(t, SQRTM1_BYTES);
		fe_mul(p->x, p->x, t);
	}
	if (fe_iszero(p->x) && sign)
		return false; /* "negative zero" */
	if (fe_parity(p->x) != sign)
		fe_neg(p->x, p->x);
	fe_mul(p->t, p->x, p->y);
	return true;
}

static void ge_encode(uint8_t s[32], const struct ge *p)
{
	fe zi, x, y;
	fe_invert(zi, p->z);
	fe_mul(x, p->x, zi);
	fe_mul(y, p->y, zi);
	fe_tobytes(s, y);
	s[31] |= (uint8_t)(fe_parity(x) << 7);
}

/* [8]P is the identity: P is one of the eight points of small order. */
static bool ge_small_order(const struct ge *p)
{
	struct ge q;
	ge_double(&q, p);
	ge_double(&q, &q);
	ge_double(&q, &q);
	return fe_iszero(q.x) && fe_eq(q.y, q.z);
}

static int bit(const uint8_t s[32], int i)
{
	return (s[i >> 3] >> (i & 7)) & 1;
}

/* [a]P + [b]Q, variable time (public inputs only): Straus' method with
 * the joint table {P, Q, P+Q}. */
static void ge_double_mul(struct ge *r, const uint8_t a[32], const struct ge *p,
			  const uint8_t b[32], const struct ge *q)
{
	struct ge tab[3];
	tab[0] = *p;
	tab[1] = *q;
	ge_add(&tab[2], p, q);
	ge_identity(r);
	for (int i = 255; i >= 0; i--) {
		int idx = bit(a, i) | bit(b, i) << 1;
		ge_double(r, r);
		if (idx)
			ge_add(r, r, &tab[idx - 1]);
	}
}

/* Constant-time select: r = flag ? q : r, for flag in {0, 1}. */
static void ge_cmov(struct ge *r, const struct ge *q, int flag)
{
	int32_t mask = -(int32_t)flag;
	int32_t *rp = &r->x[0];
	const int32_t *qp = &q->x[0];
	for (int i = 0; i < 40; i++)
		rp[i] ^= mask & (rp[i] ^ qp[i]);
}

/* [a]B for a secret a: the same operations whatever its bits. */
static void ge_base_mul_ct(struct ge *r, const uint8_t a[32])
{
	struct ge b, sum;
	if (!ge_decode(&b, B_BYTES))
		ge_identity(&b); /* not reached: B decodes */
	ge_identity(r);
	for (int i = 255; i >= 0; i--) {
		ge_double(r, r);
		ge_add(&sum, r, &b);
		ge_cmov(r, &sum, bit(a, i));
	}
	memset(&sum, 0, sizeof sum);
}

/* ---- scalars mod L ------------------------------------------------------ */

/* s < L, for 32-byte little-endian s. */
static bool sc_canonical(const uint8_t s[32])
{
	for (int i = 31; i >= 0; i--) {
		if (s[i] < L_BYTES[i])
			return true;
		if (s[i] > L_BYTES[i])
			return false;
	}
	return false; /* s == L */
}

/* out = x mod L for an n-byte little-endian x, one bit at a time: r = 2r
 * + bit, minus L when r >= L. r < 2L < 2^254 fits 8 limbs of 32 bits. */
static void sc_reduce(uint8_t out[32], const uint8_t *x, size_t n)
{
	uint32_t r[8] = {0}, l[8];
	for (int i = 0; i < 8; i++)
		l[i] = (uint32_t)L_BYTES[4 * i] | (uint32_t)L_BYTES[4 * i + 1] << 8 |
		       (uint32_t)L_BYTES[4 * i + 2] << 16 | (uint32_t)L_BYTES[4 * i + 3] << 24;
	for (size_t i = n * 8; i-- > 0;) {
		uint32_t borrow = 0, d[8], ge;
		for (int k = 7; k > 0; k--)
			r[k] = r[k] << 1 | r[k - 1] >> 31;
		r[0] = r[0] << 1 | ((x[i >> 3] >> (i & 7)) & 1);
		for (int k = 0; k < 8; k++) {
			uint64_t t = (uint64_t)r[k] - l[k] - borrow;
			d[k] = (uint32_t)t;
			borrow = (uint32_t)(t >> 63);
		}
		ge = borrow ^ 1; /* no borrow: r >= L */
		for (int k = 0; k < 8; k++)
			r[k] ^= (uint32_t)(-(int32_t)ge) & (r[k] ^ d[k]);
	}
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)r[i];
		out[4 * i + 1] = (uint8_t)(r[i] >> 8);
		out[4 * i + 2] = (uint8_t)(r[i] >> 16);
		out[4 * i + 3] = (uint8_t)(r[i] >> 24);
	}
}

/* out = (c + a b) mod L for 32-byte a, b, c. */
static void sc_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32],
		      const uint8_t c[32])
{
	uint32_t prod[17] = {0};
	uint8_t wide[68];
	for (int i = 0; i < 8; i++) {
		uint64_t carry = 0;
		uint32_t ai = (uint32_t)a[4 * i] | (uint32_t)a[4 * i + 1] << 8 |
			      (uint32_t)a[4 * i + 2] << 16 | (uint32_t)a[4 * i + 3] << 24;
		for (int j = 0; j < 8; j++) {
			uint32_t bj = (uint32_t)b[4 * j] | (uint32_t)b[4 * j + 1] << 8 |
				      (uint32_t)b[4 * j + 2] << 16 | (uint32_t)b[4 * j + 3] << 24;
			uint64_t t = (uint64_t)ai * bj + prod[i + j] + carry;
			prod[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		prod[i + 8] = (uint32_t)carry;
	}
	{
		uint64_t carry = 0;
		for (int k = 0; k < 17; k++) {
			uint32_t ck =
			    k < 8 ? ((uint32_t)c[4 * k] | (uint32_t)c[4 * k + 1] << 8 |
				     (uint32_t)c[4 * k + 2] << 16 | (uint32_t)c[4 * k + 3] << 24)
				  : 0;
			uint64_t t = (uint64_t)prod[k] + ck + carry;
			prod[k] = (uint32_t)t;
			carry = t >> 32;
		}
	}
	for (int k = 0; k < 17; k++) {
		wide[4 * k] = (uint8_t)prod[k];
		wide[4 * k + 1] = (uint8_t)(prod[k] >> 8);
		wide[4 * k + 2] = (uint8_t)(prod[k] >> 16);
		wide[4 * k + 3] = (uint8_t)(prod[k] >> 24);
	}
	sc_reduce(out, wide, sizeof wide);
	memset(prod, 0, sizeof prod);
	memset(wide, 0, sizeof wide);
}

/* ---- Ed25519 ------------------------------------------------------------ */

/* k = SHA-512(R || A || M) mod L */
static void challenge(uint8_t k[32], const uint8_t r[32], const uint8_t pub[32], const uint8_t *msg,
		      size_t len)
{
	struct upt_port_sha512 h;
	uint8_t d[64];
	upt_port_sha512_init(&h);
	upt_port_sha512_update(&h, r, 32);
	upt_port_sha512_update(&h, pub, 32);
	upt_port_sha512_update(&h, msg, len);
	upt_port_sha512_final(&h, d);
	sc_reduce(k, d, sizeof d);
}

bool upt_port_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
			     const uint8_t sig[64])
{
	struct ge a, r, b, check;
	uint8_t k[32], enc[32], diff = 0;
	if (!pub || !sig || (!msg && len))
		return false;
	/* 5.1.7 step 1: S < L, A and R decode (canonically), and (beyond
	 * RFC 8032) neither is of small order */
	if (!sc_canonical(sig + 32))
		return false;
	if (!ge_decode(&a, pub) || ge_small_order(&a))
		return false;
	if (!ge_decode(&r, sig) || ge_small_order(&r))
		return false;
	if (!ge_decode(&b, B_BYTES))
		return false;
	/* step 2 */
	challenge(k, sig, pub, msg, len);
	/* step 3: [S]B - [k]A == R */
	ge_neg(&a, &a);
	ge_double_mul(&check, sig + 32, &b, k, &a);
	ge_encode(enc, &check);
	for (int i = 0; i < 32; i++)
		diff |= enc[i] ^ sig[i];
	return diff == 0;
}

/* 5.1.5: s = clamp(SHA-512(seed)[0..32]); the prefix is the second half. */
static void expand(uint8_t s[32], uint8_t prefix[32], const uint8_t seed[32])
{
	uint8_t h[64];
	upt_port_sha512(h, seed, 32);
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
	memcpy(s, h, 32);
	if (prefix)
		memcpy(prefix, h + 32, 32);
	memset(h, 0, sizeof h);
}

void upt_port_ed25519_public(uint8_t pub[32], const uint8_t seed[32])
{
	struct ge a;
	uint8_t s[32];
	expand(s, NULL, seed);
	ge_base_mul_ct(&a, s);
	ge_encode(pub, &a);
	memset(s, 0, sizeof s);
	memset(&a, 0, sizeof a);
}

void upt_port_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const uint8_t pub[32],
			   const uint8_t *msg, size_t len)
{
	struct upt_port_sha512 h;
	struct ge rp;
	uint8_t s[32], prefix[32], d[64], r[32], k[32];
	expand(s, prefix, seed);
	/* r = SHA-512(prefix || M) mod L; R = [r]B */
	upt_port_sha512_init(&h);
	upt_port_sha512_update(&h, prefix, 32);
	upt_port_sha512_update(&h, msg, len);
	upt_port_sha512_final(&h, d);
	sc_reduce(r, d, sizeof d);
	ge_base_mul_ct(&rp, r);
	ge_encode(sig, &rp);
	/* S = (r + k s) mod L */
	challenge(k, sig, pub, msg, len);
	sc_muladd(sig + 32, k, s, r);
	memset(s, 0, sizeof s);
	memset(prefix, 0, sizeof prefix);
	memset(d, 0, sizeof d);
	memset(r, 0, sizeof r);
	memset(&rp, 0, sizeof rp);
}
