/* uptake: strict JSON (RFC 8259) parser and canonical JSON encoder.
 *
 * The parser builds a tree in an arena. It rejects duplicate keys, invalid
 * UTF-8 (overlong forms, surrogates, code points above U+10FFFF), lone
 * surrogate escapes, unescaped control characters in strings, leading
 * zeros, trailing bytes, nesting deeper than the bound, and integers outside
 * int64. Numbers with a fraction or exponent are kept as UPT_JSON_NUMBER
 * (raw text) so that a caller can reject them by field; they have no
 * canonical form.
 *
 * The canonical encoder produces the exact bytes TUF signs (OLPC canonical
 * JSON as securesystemslib's encode_canonical writes it): object keys
 * sorted by code point, no white space, integers in decimal, strings in raw
 * UTF-8 with only '"' and '\\' escaped.
 */
#ifndef UPTAKE_JSON_H
#define UPTAKE_JSON_H

#include <stdbool.h>
#include <uptake/arena.h>
#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum upt_json_type {
	UPT_JSON_NULL = 0,
	UPT_JSON_FALSE,
	UPT_JSON_TRUE,
	UPT_JSON_INT,    /* integer within int64: u.i */
	UPT_JSON_NUMBER, /* fraction or exponent: raw text in str/len */
	UPT_JSON_STRING, /* decoded UTF-8 in str/len, NUL-terminated */
	UPT_JSON_ARRAY,  /* items[0..n) in document order */
	UPT_JSON_OBJECT, /* items[0..n) sorted by key (bytewise) */
};

struct upt_json {
	enum upt_json_type type;
	size_t offset;           /* byte offset of the value in the input */
	int64_t i;               /* UPT_JSON_INT */
	const char *str;         /* UPT_JSON_STRING, UPT_JSON_NUMBER */
	size_t len;              /* length of str in bytes */
	struct upt_json **items; /* UPT_JSON_ARRAY, UPT_JSON_OBJECT */
	size_t n;                /* number of items */
	const char *key;         /* set when this value is an object member */
	size_t key_len;
	struct upt_json *next; /* internal: parse-time sibling link */
};

/* Bounds applied while parsing. Zero fields take the default. */
struct upt_json_limits {
	size_t max_input;  /* bytes of input; default 16 MiB */
	size_t max_depth;  /* nesting depth; default 32 */
	size_t max_string; /* bytes of one string; default 1 MiB */
	size_t max_items;  /* items in one array or object; default 1,000,000 */
};

#define UPT_JSON_DEFAULT_MAX_INPUT  ((size_t)16 * 1024 * 1024)
#define UPT_JSON_DEFAULT_MAX_DEPTH  32
#define UPT_JSON_DEFAULT_MAX_STRING ((size_t)1024 * 1024)
#define UPT_JSON_DEFAULT_MAX_ITEMS  ((size_t)1000000)

/* Parse `len` bytes at `in` into a tree allocated in `a`. `limits` may be
 * NULL for the defaults. On error, err->offset is the byte offset of the
 * fault and nothing useful is left in *out. */
UPT_NODISCARD UPT_API int upt_json_parse(struct upt_json **out, struct upt_arena *a,
					 const uint8_t *in, size_t len,
					 const struct upt_json_limits *limits,
					 struct upt_error *err);

/* Look up a member of an object by key (binary search). Returns NULL when
 * `obj` is not an object or has no such key. */
UPT_API const struct upt_json *upt_json_get(const struct upt_json *obj, const char *key);

/* True when `v` is a string equal to the NUL-terminated `s`. */
UPT_API bool upt_json_is_str(const struct upt_json *v, const char *s);

/* Write the canonical form of `v` into out[0..cap). *out_len receives the
 * full canonical length even when it does not fit (then UPT_ERR_NOMEM is
 * returned and out holds a prefix); `out` may be NULL with cap 0 to measure.
 * Fails with UPT_ERR_CANONICAL on UPT_JSON_NUMBER values. */
UPT_NODISCARD UPT_API int upt_json_canonical(uint8_t *out, size_t cap, size_t *out_len,
					     const struct upt_json *v, struct upt_error *err);

/* Write `v` as compact JSON text with sorted keys: the canonical form,
 * except that control characters in strings are escaped (\n, \t, \r,
 * \u00XX) and non-integer numbers are kept, so the output is always valid
 * JSON. Signed files are written this way: their `signed` part parses back
 * to a tree whose canonical form is exactly what was signed (PEM keys hold
 * newlines, which canonical JSON writes raw). Same buffer rules as
 * upt_json_canonical. */
UPT_NODISCARD UPT_API int upt_json_write(uint8_t *out, size_t cap, size_t *out_len,
					 const struct upt_json *v, struct upt_error *err);

/* Canonicalize `v` into memory allocated from `a`. */
UPT_NODISCARD UPT_API int upt_json_canonical_arena(const uint8_t **out, size_t *out_len,
						   struct upt_arena *a, const struct upt_json *v,
						   struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
