/* uptake: common definitions (error codes, attributes, error reports).
 *
 * Every fallible function of libuptake returns an `int` that is UPT_OK (0)
 * on success or a negative `enum upt_err`. A verification returns UPT_OK
 * only when it verified; nothing else means yes. Outputs are valid only on
 * UPT_OK.
 */
#ifndef UPTAKE_COMMON_H
#define UPTAKE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define UPT_NODISCARD    __attribute__((warn_unused_result))
#define UPT_API          __attribute__((visibility("default")))
#define UPT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define UPT_NODISCARD
#define UPT_API
#define UPT_PRINTF(f, a)
#endif

/* Error codes. Never renumbered; new codes are appended. */
enum upt_err {
	UPT_OK = 0,
	UPT_ERR_ARG = -1,              /* invalid argument from the caller */
	UPT_ERR_NOMEM = -2,            /* arena or allocation exhausted */
	UPT_ERR_TOO_LARGE = -3,        /* input exceeds a configured bound */
	UPT_ERR_JSON_SYNTAX = -4,      /* not RFC 8259 JSON */
	UPT_ERR_JSON_DUPKEY = -5,      /* duplicate key in an object */
	UPT_ERR_JSON_UTF8 = -6,        /* invalid UTF-8 or escape */
	UPT_ERR_JSON_DEPTH = -7,       /* nesting deeper than the bound */
	UPT_ERR_JSON_NUMBER = -8,      /* integer outside int64 */
	UPT_ERR_JSON_TRAILING = -9,    /* bytes after the JSON value */
	UPT_ERR_CANONICAL = -10,       /* value has no canonical form */
	UPT_ERR_FIELD_MISSING = -11,   /* required field absent */
	UPT_ERR_FIELD_TYPE = -12,      /* field of the wrong JSON type */
	UPT_ERR_FIELD_VALUE = -13,     /* field has an invalid value */
	UPT_ERR_ROLE_TYPE = -14,       /* _type is not the expected role */
	UPT_ERR_SPEC_VERSION = -15,    /* unsupported spec_version */
	UPT_ERR_KEY = -16,             /* unsupported or malformed key */
	UPT_ERR_SIGNATURE = -17,       /* malformed signature object */
	UPT_ERR_THRESHOLD = -18,       /* not enough valid signatures */
	UPT_ERR_CRYPTO = -19,          /* crypto backend failure */
	UPT_ERR_EXPIRED = -20,         /* metadata expired (freeze attack) */
	UPT_ERR_ROLLBACK = -21,        /* version went down (rollback attack) */
	UPT_ERR_IO = -22,              /* host I/O failure */
	UPT_ERR_NOT_FOUND = -23,       /* no such item */
	UPT_ERR_BAD_SIGNATURE = -24,   /* a signature did not verify */
	UPT_ERR_UNSUPPORTED = -25,     /* feature or algorithm not supported */
	UPT_ERR_DECODE = -26,          /* bad hex, base64 or PEM */
	UPT_ERR_HASH_MISMATCH = -27,   /* hash or length does not match */
	UPT_ERR_PASSPHRASE = -28,      /* wrong or missing passphrase */
	UPT_ERR_VERSION = -29,         /* version differs from what the referencing metadata says */
	UPT_ERR_DELEGATION = -30,      /* delegation limit reached or role not trusted for a path */
	UPT_ERR_UNKNOWN_ECU = -31,     /* Director names an ECU this device does not have */
	UPT_ERR_HARDWARE_ID = -32,     /* target is not for the ECU's hardware */
	UPT_ERR_IMAGE_MISMATCH = -33,  /* Director and Image repository disagree on an image */
	UPT_ERR_RELEASE_COUNTER = -34, /* release counter lower than the installed image's */
	UPT_ERR_STATE = -35,           /* call out of order (e.g. targets before snapshot) */
};

/* An error report: the code, where in the input (byte offset, or
 * SIZE_MAX when not applicable), and a one-line message naming the input
 * and the field. */
#define UPT_ERROR_MSG_MAX 256
struct upt_error {
	int code;
	size_t offset;
	char msg[UPT_ERROR_MSG_MAX];
};

/* Reset an error report to "no error". Accepts NULL. */
UPT_API void upt_error_clear(struct upt_error *err);

/* Record an error and return its code. `fmt` supports %s, %.*s, %d, %u,
 * %zu, %lld (int64 via (long long)), %c and %%. The message is truncated to
 * fit. Accepts err == NULL (then only returns code). */
UPT_API int upt_error_set(struct upt_error *err, int code, const char *fmt, ...) UPT_PRINTF(3, 4);

/* Prefix an existing message with "prefix: " (used to name the input as an
 * error travels outward). Accepts NULL. */
UPT_API void upt_error_prefix(struct upt_error *err, const char *prefix);

/* Stable short name of an error code, e.g. "UPT_ERR_THRESHOLD". */
UPT_API const char *upt_err_name(int code);

#ifdef __cplusplus
}
#endif
#endif
