/* Fuzz target: the strict JSON parser and the canonical encoder. A value
 * that parses and has a canonical form must re-parse from that form and
 * canonicalize to the very same bytes, unless one of its strings holds a
 * control character: canonical JSON (as TUF signs it) writes those raw,
 * and strict JSON refuses raw control characters. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[8u << 20];

static int has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return 1;
	return 0;
}

static int tree_has_ctl(const struct upt_json *v)
{
	if (v->key && has_ctl(v->key, v->key_len))
		return 1;
	if (v->type == UPT_JSON_STRING && has_ctl(v->str, v->len))
		return 1;
	for (size_t i = 0; i < v->n; i++)
		if (tree_has_ctl(v->items[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a;
	struct upt_json *v, *v2;
	struct upt_error err;
	const uint8_t *c1, *c2;
	size_t l1, l2;
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&v, &a, data, size, NULL, &err) != UPT_OK)
		return 0;
	if (upt_json_canonical_arena(&c1, &l1, &a, v, &err) != UPT_OK)
		return 0;
	if (upt_json_parse(&v2, &a, c1, l1, NULL, &err) != UPT_OK) {
		if (tree_has_ctl(v))
			return 0;
		abort();
	}
	if (upt_json_canonical_arena(&c2, &l2, &a, v2, &err) != UPT_OK)
		abort();
	if (l1 != l2 || memcmp(c1, c2, l1) != 0)
		abort();
	return 0;
}
