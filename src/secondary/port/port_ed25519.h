/* uptake port: compact Ed25519 (RFC 8032, section 5.1) for targets
 * without a crypto library.
 *
 * Verification is strict: S must be below the group order L, the public
 * key A and the point R must be canonical encodings (y < p, no "negative
 * zero" x) of points on the curve, and neither may be of small order.
 * The check is the cofactorless [S]B == R + [k]A (R compared by its
 * encoding), as OpenSSL does.
 *
 * Signing is for the ECU's own version reports; it works in constant time
 * on targets whose multiplier is constant time (see docs/secondary-port.md
 * on the Cortex-M3).
 */
#ifndef UPTAKE_PORT_ED25519_H
#define UPTAKE_PORT_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPT_PORT_ED25519_PUB_LEN  32
#define UPT_PORT_ED25519_SEED_LEN 32
#define UPT_PORT_ED25519_SIG_LEN  64

/* true only when `sig` is a valid signature of msg[0..len) by `pub`. */
bool upt_port_ed25519_verify(const uint8_t pub[UPT_PORT_ED25519_PUB_LEN], const uint8_t *msg,
			     size_t len, const uint8_t sig[UPT_PORT_ED25519_SIG_LEN]);

/* The public key of a 32-byte private key (RFC 8032 5.1.5). */
void upt_port_ed25519_public(uint8_t pub[UPT_PORT_ED25519_PUB_LEN],
			     const uint8_t seed[UPT_PORT_ED25519_SEED_LEN]);

/* Sign msg[0..len) (RFC 8032 5.1.6) with the private key `seed` whose
 * public key is `pub`. */
void upt_port_ed25519_sign(uint8_t sig[UPT_PORT_ED25519_SIG_LEN],
			   const uint8_t seed[UPT_PORT_ED25519_SEED_LEN],
			   const uint8_t pub[UPT_PORT_ED25519_PUB_LEN], const uint8_t *msg,
			   size_t len);

#endif
