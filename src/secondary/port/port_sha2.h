/* uptake port: SHA-256 and SHA-512 (FIPS 180-4), streaming, for targets
 * without a crypto library. No heap, no tables beyond the round constants;
 * the context is the caller's. */
#ifndef UPTAKE_PORT_SHA2_H
#define UPTAKE_PORT_SHA2_H

#include <stddef.h>
#include <stdint.h>

#define UPT_PORT_SHA256_LEN 32
#define UPT_PORT_SHA512_LEN 64

struct upt_port_sha256 {
	uint32_t h[8];
	uint64_t bytes; /* message length so far */
	uint8_t buf[64];
	size_t fill;
};

struct upt_port_sha512 {
	uint64_t h[8];
	uint64_t bytes; /* message length so far (inputs stay below 2^64 bytes) */
	uint8_t buf[128];
	size_t fill;
};

void upt_port_sha256_init(struct upt_port_sha256 *c);
void upt_port_sha256_update(struct upt_port_sha256 *c, const uint8_t *data, size_t len);
/* Writes 32 bytes and wipes the context. */
void upt_port_sha256_final(struct upt_port_sha256 *c, uint8_t out[UPT_PORT_SHA256_LEN]);
void upt_port_sha256(uint8_t out[UPT_PORT_SHA256_LEN], const uint8_t *data, size_t len);

void upt_port_sha512_init(struct upt_port_sha512 *c);
void upt_port_sha512_update(struct upt_port_sha512 *c, const uint8_t *data, size_t len);
/* Writes 64 bytes and wipes the context. */
void upt_port_sha512_final(struct upt_port_sha512 *c, uint8_t out[UPT_PORT_SHA512_LEN]);
void upt_port_sha512(uint8_t out[UPT_PORT_SHA512_LEN], const uint8_t *data, size_t len);

#endif
