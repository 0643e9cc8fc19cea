/* uptake port: the built-in crypto backend, behind the PSA-shaped table
 * (SHA-256, SHA-512, Ed25519 from port_sha2.c and port_ed25519.c). */
#include <string.h>

#include "port_ed25519.h"
#include "port_sha2.h"
#include "uptake_port.h"

#define ERR_NOT_SUPPORTED     (-134) /* PSA_ERROR_NOT_SUPPORTED */
#define ERR_INVALID_ARGUMENT  (-135) /* PSA_ERROR_INVALID_ARGUMENT */
#define ERR_BUFFER_TOO_SMALL  (-138) /* PSA_ERROR_BUFFER_TOO_SMALL */
#define ERR_BAD_STATE         (-137) /* PSA_ERROR_BAD_STATE */
#define ERR_INVALID_SIGNATURE (-149) /* PSA_ERROR_INVALID_SIGNATURE */

/* The operation holds the algorithm in its first word and the context,
 * copied in and out, after it. */
union hash_ctx {
	struct upt_port_sha256 s256;
	struct upt_port_sha512 s512;
};
_Static_assert(sizeof(union hash_ctx) + sizeof(uint64_t) <= sizeof(struct upt_port_hash_op),
	       "hash operation too small");

static int hash_setup(void *ctx, struct upt_port_hash_op *op, uint32_t alg)
{
	union hash_ctx c;
	(void)ctx;
	if (alg == UPT_PORT_ALG_SHA_256)
		upt_port_sha256_init(&c.s256);
	else if (alg == UPT_PORT_ALG_SHA_512)
		upt_port_sha512_init(&c.s512);
	else
		return ERR_NOT_SUPPORTED;
	op->opaque[0] = alg;
	memcpy(&op->opaque[1], &c, sizeof c);
	return 0;
}

static int hash_update(void *ctx, struct upt_port_hash_op *op, const uint8_t *in, size_t len)
{
	union hash_ctx c;
	(void)ctx;
	if (!in && len)
		return ERR_INVALID_ARGUMENT;
	memcpy(&c, &op->opaque[1], sizeof c);
	if (op->opaque[0] == UPT_PORT_ALG_SHA_256)
		upt_port_sha256_update(&c.s256, in, len);
	else if (op->opaque[0] == UPT_PORT_ALG_SHA_512)
		upt_port_sha512_update(&c.s512, in, len);
	else
		return ERR_BAD_STATE;
	memcpy(&op->opaque[1], &c, sizeof c);
	return 0;
}

static int hash_finish(void *ctx, struct upt_port_hash_op *op, uint8_t *hash, size_t size,
		       size_t *out_len)
{
	union hash_ctx c;
	size_t n = op->opaque[0] == UPT_PORT_ALG_SHA_256   ? UPT_PORT_SHA256_LEN
		   : op->opaque[0] == UPT_PORT_ALG_SHA_512 ? UPT_PORT_SHA512_LEN
							   : 0;
	(void)ctx;
	if (!n)
		return ERR_BAD_STATE;
	if (size < n)
		return ERR_BUFFER_TOO_SMALL;
	memcpy(&c, &op->opaque[1], sizeof c);
	if (n == UPT_PORT_SHA256_LEN)
		upt_port_sha256_final(&c.s256, hash);
	else
		upt_port_sha512_final(&c.s512, hash);
	memset(op, 0, sizeof *op);
	*out_len = n;
	return 0;
}

static int hash_compute(void *ctx, uint32_t alg, const uint8_t *in, size_t len, uint8_t *hash,
			size_t size, size_t *out_len)
{
	struct upt_port_hash_op op;
	int rc = hash_setup(ctx, &op, alg);
	if (rc == 0)
		rc = hash_update(ctx, &op, in, len);
	if (rc == 0)
		rc = hash_finish(ctx, &op, hash, size, out_len);
	return rc;
}

static int verify_message(void *ctx, const uint8_t *key, size_t key_len, uint32_t alg,
			  const uint8_t *in, size_t len, const uint8_t *sig, size_t sig_len)
{
	(void)ctx;
	if (alg != UPT_PORT_ALG_PURE_EDDSA)
		return ERR_NOT_SUPPORTED;
	if (key_len != UPT_PORT_ED25519_PUB_LEN || sig_len != UPT_PORT_ED25519_SIG_LEN)
		return ERR_INVALID_SIGNATURE;
	return upt_port_ed25519_verify(key, in, len, sig) ? 0 : ERR_INVALID_SIGNATURE;
}

static int sign_message(void *ctx, uint32_t alg, const uint8_t *in, size_t len, uint8_t *sig,
			size_t size, size_t *sig_len)
{
	struct upt_port_builtin *b = ctx;
	if (alg != UPT_PORT_ALG_PURE_EDDSA)
		return ERR_NOT_SUPPORTED;
	if (!b->has_key)
		return ERR_BAD_STATE;
	if (size < UPT_PORT_ED25519_SIG_LEN)
		return ERR_BUFFER_TOO_SMALL;
	upt_port_ed25519_sign(sig, b->seed, b->pub, in, len);
	*sig_len = UPT_PORT_ED25519_SIG_LEN;
	return 0;
}

static int export_public_key(void *ctx, uint8_t *data, size_t size, size_t *len)
{
	struct upt_port_builtin *b = ctx;
	if (!b->has_key)
		return ERR_BAD_STATE;
	if (size < UPT_PORT_ED25519_PUB_LEN)
		return ERR_BUFFER_TOO_SMALL;
	memcpy(data, b->pub, UPT_PORT_ED25519_PUB_LEN);
	*len = UPT_PORT_ED25519_PUB_LEN;
	return 0;
}

const struct upt_port_crypto *upt_port_crypto_builtin(struct upt_port_builtin *b,
						      const uint8_t *seed)
{
	memset(b, 0, sizeof *b);
	if (seed) {
		memcpy(b->seed, seed, sizeof b->seed);
		upt_port_ed25519_public(b->pub, b->seed);
		b->has_key = true;
	}
	b->table.ctx = b;
	b->table.hash_compute = hash_compute;
	b->table.hash_setup = hash_setup;
	b->table.hash_update = hash_update;
	b->table.hash_finish = hash_finish;
	b->table.verify_message = verify_message;
	b->table.sign_message = sign_message;
	b->table.export_public_key = export_public_key;
	return &b->table;
}

void upt_port_crypto_builtin_dispose(struct upt_port_builtin *b)
{
	if (!b)
		return;
	/* volatile so that the wipe is not optimised away */
	volatile uint8_t *s = b->seed;
	for (size_t i = 0; i < sizeof b->seed; i++)
		s[i] = 0;
	b->has_key = false;
}
