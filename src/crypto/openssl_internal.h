/* uptake host (private): helpers shared by the OpenSSL backend files. */
#ifndef UPTAKE_OPENSSL_INTERNAL_H
#define UPTAKE_OPENSSL_INTERNAL_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <uptake/crypto.h>

bool upt_ossl_key_is(EVP_PKEY *pkey, enum upt_key_type type);
/* A public key from libuptake's encoding (raw Ed25519, DER SPKI), checked
 * to be of `type`; NULL otherwise. */
EVP_PKEY *upt_ossl_public(enum upt_key_type type, const uint8_t *pub, size_t len);
enum upt_key_type upt_ossl_scheme_type(enum upt_sig_scheme scheme);
int upt_ossl_digest_init(EVP_MD_CTX *ctx, EVP_PKEY *pkey, enum upt_sig_scheme scheme, bool sign);

#endif
