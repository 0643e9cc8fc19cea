/* Tests of the strict JSON parser and the canonical encoder
 * (src/core/json.c, src/core/canonical.c). */
#include <uptake/json.h>

#include "harness.h"

static unsigned char mem[1 << 20];

static int parse(const char *text, size_t len, struct upt_json **v, struct upt_error *err)
{
	struct upt_arena a;
	upt_arena_init(&a, mem, sizeof mem);
	return upt_json_parse(v, &a, (const uint8_t *)text, len, NULL, err);
}

static int parse_s(const char *text, struct upt_json **v, struct upt_error *err)
{
	return parse(text, strlen(text), v, err);
}

/* Canonical form of `text` must equal `want`. */
static void check_canon(const char *text, const char *want)
{
	struct upt_json *v;
	struct upt_error err;
	uint8_t out[4096];
	size_t len = 0;
	int rc = parse_s(text, &v, &err);
	CHECK_EQ_INT(rc, UPT_OK);
	if (rc != UPT_OK)
		return;
	CHECK_EQ_INT(upt_json_canonical(out, sizeof out, &len, v, &err), UPT_OK);
	if (len != strlen(want) || memcmp(out, want, len) != 0) {
		fprintf(stderr, "canonical of %s: got %.*s want %s\n", text, (int)len, out, want);
		CHECK(0);
	}
}

static void test_canonical_known_answers(void)
{
	check_canon("{\"b\":1,\"a\":[true,null,\"x\\\"y\\\\z\"]}",
		    "{\"a\":[true,null,\"x\\\"y\\\\z\"],\"b\":1}");
	check_canon(" { \"z\" : [ ] , \"\" : { } } ", "{\"\":{},\"z\":[]}");
	check_canon("\"\\u0041\\n\\t\\/\"", "\"A\n\t/\"");
	check_canon("-0", "0");
	check_canon("[9223372036854775807,-9223372036854775808]",
		    "[9223372036854775807,-9223372036854775808]");
	check_canon("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
	/* code point order: U+FFFF sorts before U+10000 (UTF-16 order differs) */
	check_canon("{\"\\ud800\\udc00\":1,\"\\uffff\":2}",
		    "{\"\xef\xbf\xbf\":2,\"\xf0\x90\x80\x80\":1}");
	check_canon("{\"ab\":1,\"a\":2,\"b\":3}", "{\"a\":2,\"ab\":1,\"b\":3}");
}

struct bad {
	const char *text;
	size_t len; /* 0: strlen */
	int code;
	size_t offset;
};

static void test_rejections(void)
{
	static const struct bad cases[] = {
	    {"", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"{\"a\":1,\"a\":2}", 0, UPT_ERR_JSON_DUPKEY, 7},
	    {"{\"a\":{},\"b\":1,\"a\":[]}", 0, UPT_ERR_JSON_DUPKEY, 14},
	    {"[1,]", 0, UPT_ERR_JSON_SYNTAX, 3},
	    {"01", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"-", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"+1", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {".5", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"1.", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"1e", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"NaN", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"Infinity", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"9223372036854775808", 0, UPT_ERR_JSON_NUMBER, 0},
	    {"-9223372036854775809", 0, UPT_ERR_JSON_NUMBER, 0},
	    {"[1] x", 0, UPT_ERR_JSON_TRAILING, 4},
	    {"{} {}", 0, UPT_ERR_JSON_TRAILING, 3},
	    {"\"a\tb\"", 0, UPT_ERR_JSON_SYNTAX, 2},
	    {"\"\\x\"", 0, UPT_ERR_JSON_SYNTAX, 1},
	    {"\"\\ud800\"", 0, UPT_ERR_JSON_UTF8, 1},
	    {"\"\\udc00\"", 0, UPT_ERR_JSON_UTF8, 1},
	    {"\"\\ud800\\u0041\"", 0, UPT_ERR_JSON_UTF8, 1},
	    {"\"\xc0\x80\"", 0, UPT_ERR_JSON_UTF8, 1},         /* overlong NUL */
	    {"\"\xe0\x80\xaf\"", 0, UPT_ERR_JSON_UTF8, 1},     /* overlong */
	    {"\"\xed\xa0\x80\"", 0, UPT_ERR_JSON_UTF8, 1},     /* encoded surrogate */
	    {"\"\xf4\x90\x80\x80\"", 0, UPT_ERR_JSON_UTF8, 1}, /* above U+10FFFF */
	    {"\"\xe2\x82\"", 0, UPT_ERR_JSON_UTF8, 1},         /* truncated */
	    {"\"\xff\"", 0, UPT_ERR_JSON_UTF8, 1},
	    {"\xef\xbb\xbf{}", 0, UPT_ERR_JSON_SYNTAX, 0}, /* BOM */
	    {"{\"a\" 1}", 0, UPT_ERR_JSON_SYNTAX, 5},
	    {"{1:2}", 0, UPT_ERR_JSON_SYNTAX, 1},
	    {"[\"a\"\"b\"]", 0, UPT_ERR_JSON_SYNTAX, 4},
	    {"tru", 0, UPT_ERR_JSON_SYNTAX, 0},
	    {"[\v]", 0, UPT_ERR_JSON_SYNTAX, 1},
	    {"[1]\0", 4, UPT_ERR_JSON_TRAILING, 3},
	    {"\"abc", 0, UPT_ERR_JSON_SYNTAX, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct upt_json *v = (struct upt_json *)1;
		struct upt_error err;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		int rc = parse(cases[i].text, len, &v, &err);
		if (rc != cases[i].code || err.offset != cases[i].offset || v != NULL) {
			fprintf(stderr, "case %zu: got %s at %zu (%s), want %s at %zu\n", i,
				upt_err_name(rc), err.offset, err.msg, upt_err_name(cases[i].code),
				cases[i].offset);
			CHECK(0);
		}
	}
}

static void test_values(void)
{
	struct upt_json *v;
	struct upt_error err;
	const struct upt_json *x;
	CHECK_EQ_INT(parse_s("{\"s\":\"a\\u0000b\",\"i\":-42,\"f\":1.5e3,\"n\":null,\"t\":true,"
			     "\"arr\":[1,2,3]}",
			     &v, &err),
		     UPT_OK);
	x = upt_json_get(v, "s");
	CHECK(x && x->type == UPT_JSON_STRING && x->len == 3 && memcmp(x->str, "a\0b", 3) == 0);
	CHECK(!upt_json_is_str(x, "a"));
	x = upt_json_get(v, "i");
	CHECK(x && x->type == UPT_JSON_INT && x->i == -42);
	x = upt_json_get(v, "f");
	CHECK(x && x->type == UPT_JSON_NUMBER && x->len == 5 && memcmp(x->str, "1.5e3", 5) == 0);
	x = upt_json_get(v, "arr");
	CHECK(x && x->type == UPT_JSON_ARRAY && x->n == 3 && x->items[2]->i == 3);
	CHECK(upt_json_get(v, "missing") == NULL);
	CHECK(upt_json_get(x, "0") == NULL); /* not an object */
	CHECK(upt_json_get(v, "t")->type == UPT_JSON_TRUE);
	CHECK(upt_json_get(v, "n")->type == UPT_JSON_NULL);
}

static void test_depth_bound(void)
{
	char deep[256];
	struct upt_json *v;
	struct upt_error err;
	for (size_t depth = UPT_JSON_DEFAULT_MAX_DEPTH; depth <= UPT_JSON_DEFAULT_MAX_DEPTH + 1;
	     depth++) {
		memset(deep, '[', depth);
		memset(deep + depth, ']', depth);
		deep[2 * depth] = 0;
		CHECK_EQ_INT(parse_s(deep, &v, &err),
			     depth <= UPT_JSON_DEFAULT_MAX_DEPTH ? UPT_OK : UPT_ERR_JSON_DEPTH);
	}
}

static void test_limits(void)
{
	struct upt_json_limits lim = {8, 0, 3, 2};
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err;
	upt_arena_init(&a, mem, sizeof mem);
	CHECK_EQ_INT(upt_json_parse(&v, &a, (const uint8_t *)"[1,2,3,4,5]", 11, &lim, &err),
		     UPT_ERR_TOO_LARGE);
	lim.max_input = 0;
	CHECK_EQ_INT(upt_json_parse(&v, &a, (const uint8_t *)"[1,2,3]", 7, &lim, &err),
		     UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(upt_json_parse(&v, &a, (const uint8_t *)"\"abcd\"", 6, &lim, &err),
		     UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(upt_json_parse(&v, &a, (const uint8_t *)"[\"abc\"]", 7, &lim, &err), UPT_OK);
}

/* Every strict prefix of a valid document is rejected. */
static void test_truncation(void)
{
	static const char doc[] = "{\"signed\":{\"a\":[1,-2,{\"x\":\"\\u00e9\\n\"}],\"b\":true},"
				  "\"z\":null}";
	for (size_t n = 0; n < sizeof doc - 1; n++) {
		struct upt_json *v;
		struct upt_error err;
		char *copy = malloc(n ? n : 1);
		memcpy(copy, doc, n);
		CHECK(parse(copy, n, &v, &err) != UPT_OK);
		free(copy);
	}
}

/* Every arena size below the need fails with UPT_ERR_NOMEM; then it fits. */
static void test_arena_exhaustion(void)
{
	static const char doc[] =
	    "{\"b\":[1,2,{\"c\":\"dd\"}],\"a\":{\"x\":null,\"y\":\"\\u00e9\"}}";
	static unsigned char small[8192];
	size_t cap;
	for (cap = 0; cap < sizeof small; cap++) {
		struct upt_arena a;
		struct upt_json *v;
		struct upt_error err;
		int rc;
		upt_arena_init(&a, small, cap);
		rc = upt_json_parse(&v, &a, (const uint8_t *)doc, sizeof doc - 1, NULL, &err);
		if (rc == UPT_OK)
			break;
		CHECK_EQ_INT(rc, UPT_ERR_NOMEM);
		CHECK_EQ_INT(a.used, 0); /* rolled back */
	}
	CHECK(cap < sizeof small);
}

static void test_canonical_measure_and_small_buffer(void)
{
	struct upt_json *v;
	struct upt_error err;
	uint8_t out[8];
	size_t len = 0;
	CHECK_EQ_INT(parse_s("{\"key\":\"value\"}", &v, &err), UPT_OK);
	CHECK_EQ_INT(upt_json_canonical(NULL, 0, &len, v, &err), UPT_ERR_NOMEM);
	CHECK_EQ_INT(len, 15);
	CHECK_EQ_INT(upt_json_canonical(out, sizeof out, &len, v, &err), UPT_ERR_NOMEM);
	CHECK_EQ_INT(len, 15);
	CHECK(memcmp(out, "{\"key\":\"", 8) == 0);
	CHECK_EQ_INT(parse_s("[1,2.5]", &v, &err), UPT_OK);
	CHECK_EQ_INT(upt_json_canonical(NULL, 0, &len, v, &err), UPT_ERR_CANONICAL);
	CHECK_EQ_INT(err.offset, 3);
}

/* A large object (100,000 members) parses in O(n log n) and stays sorted. */
static void test_large_object(void)
{
	static unsigned char big[64u << 20];
	size_t n = 100000, cap = n * 24 + 16, off = 0;
	char *text = malloc(cap);
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err;
	text[off++] = '{';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s\"k%zu\":%zu", i ? "," : "",
					(i * 7919) % n, i);
	text[off++] = '}';
	upt_arena_init(&a, big, sizeof big);
	CHECK_EQ_INT(upt_json_parse(&v, &a, (const uint8_t *)text, off, NULL, &err), UPT_OK);
	CHECK_EQ_INT(v->n, n);
	for (size_t i = 1; i < v->n; i++)
		if (strcmp(v->items[i - 1]->key, v->items[i]->key) >= 0) {
			CHECK(0);
			break;
		}
	CHECK(upt_json_get(v, "k99999") != NULL);
	free(text);
}

/* JSON text mode escapes control characters and keeps non-integers, so
 * its output parses back; its canonical form is the original's. */
static void test_json_write(void)
{
	static const char text[] = "{\"z\":1.5,\"a\":\"l1\\nl2\\t\\u0001\\\"\"}";
	static const char want[] = "{\"a\":\"l1\\nl2\\t\\u0001\\\"\",\"z\":1.5}";
	struct upt_json *v;
	struct upt_error err;
	uint8_t out[128];
	size_t len = 0;
	CHECK_EQ_INT(parse_s(text, &v, &err), UPT_OK);
	CHECK_EQ_INT(upt_json_write(out, sizeof out, &len, v, &err), UPT_OK);
	CHECK(len == sizeof want - 1 && memcmp(out, want, len) == 0);
	if (len != sizeof want - 1 || memcmp(out, want, len) != 0)
		fprintf(stderr, "got %.*s\n", (int)len, out);
}

int main(void)
{
	RUN(test_canonical_known_answers);
	RUN(test_rejections);
	RUN(test_values);
	RUN(test_depth_bound);
	RUN(test_limits);
	RUN(test_truncation);
	RUN(test_arena_exhaustion);
	RUN(test_canonical_measure_and_small_buffer);
	RUN(test_large_object);
	RUN(test_json_write);
	TEST_MAIN_END();
}
