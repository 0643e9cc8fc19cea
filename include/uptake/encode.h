/* uptake: hex, base64 and PEM codecs, and constant-time comparison. */
#ifndef UPTAKE_ENCODE_H
#define UPTAKE_ENCODE_H

#include <stdbool.h>
#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lower-case hex of `len` bytes into out (2*len+1 bytes with NUL). */
UPT_API void upt_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decode hex (either case, even length) into out[0..cap). */
UPT_NODISCARD UPT_API int upt_hex_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in,
					 size_t len);

/* Standard base64 with padding (RFC 4648 section 4). out needs
 * 4*((len+2)/3)+1 bytes. */
UPT_API void upt_base64_encode(char *out, const uint8_t *in, size_t len);

/* Decode standard base64 with canonical padding. With `skip_ws`, line
 * breaks and spaces are ignored (PEM bodies). */
UPT_NODISCARD UPT_API int upt_base64_decode(uint8_t *out, size_t cap, size_t *out_len,
					    const char *in, size_t len, bool skip_ws);

/* Extract the DER body of a PEM block labelled `label` (e.g. "PUBLIC KEY").
 * Exactly one block; only white space around it. */
UPT_NODISCARD UPT_API int upt_pem_decode(uint8_t *out, size_t cap, size_t *out_len,
					 const char *label, const char *in, size_t len);

/* Constant-time equality of two byte strings of length `len`. */
UPT_API bool upt_ct_equal(const uint8_t *a, const uint8_t *b, size_t len);

#ifdef __cplusplus
}
#endif
#endif
