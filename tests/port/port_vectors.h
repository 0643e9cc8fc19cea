/* uptake tests: Director metadata and images for the port's attack tests,
 * generated on the host by gen_vectors.c (repogen: real keys and
 * signatures) into a C file the host test and the target image embed. */
#ifndef UPTAKE_PORT_VECTORS_H
#define UPTAKE_PORT_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct pv_blob {
	const uint8_t *data;
	size_t len;
};

#define PV_BLOBS(X)                                                                           \
	X(root1)            /* the provisioned Director root, version 1 */                    \
	X(root2)            /* version 2: new root and targets keys, signed by old and new */ \
	X(root2_old_only)   /* version 2 signed by the old root key only */                   \
	X(t_old)            /* targets v1: image_a for mcu-1, release counter 5 */            \
	X(t_valid)          /* targets v2: image_a for mcu-1, release counter 5 */            \
	X(t_wrong_ecu)      /* v3: image_b for mcu-2 only */                                  \
	X(t_wrong_hwid)     /* v4: image_b for mcu-1 with hardware id "modem" */              \
	X(t_bad_sig)        /* v5: signed by a key the root does not list */                  \
	X(t_oversized)      /* v6: image_b said to be 1 MiB, beyond the bank */               \
	X(t_freeze)         /* v7: expired a day before PV_NOW */                             \
	X(t_counter_down)   /* v8: image_c with release counter 4 */                          \
	X(t_bad_hash)       /* v9: image_b with a wrong sha256 */                             \
	X(t_rotated)        /* v10: image_b, counter 6, signed by the new targets key */      \
	X(t_rotated_oldkey) /* v10 signed by the old targets key */                           \
	X(image_a)                                                                            \
	X(image_b)                                                                            \
	X(ecu_seed) /* the ECU's Ed25519 private key */                                       \
	X(ecu_pub)  /* its public key, as OpenSSL derives it */

#define PV_DECLARE(name) extern const struct pv_blob pv_##name;
PV_BLOBS(PV_DECLARE)
#undef PV_DECLARE

/* The tests' clock: 2030-01-01. */
#define PV_NOW       1893456000LL
#define PV_IMAGE_MAX 65536u

#endif
