/* uptake-server's in-memory cache: copies in and out, expiry, replacement,
 * dropping, and a full cache that refuses rather than evicts live entries. */
#include <stdlib.h>
#include <string.h>

#include "../src/server/cache.h"
#include "harness.h"

static void test_put_get_copy(void)
{
	struct srv_cache *c = srv_cache_new(100, 64);
	uint8_t *v = NULL, buf[8] = "abcdefg";
	size_t n = 0;
	CHECK(c != NULL);
	CHECK(!srv_cache_get(c, "k", 0, &v, &n));
	srv_cache_put(c, "k", buf, 7, 1000, 0);
	buf[0] = 'X'; /* the cache holds its own copy */
	CHECK(srv_cache_get(c, "k", 10, &v, &n));
	CHECK(n == 7 && memcmp(v, "abcdefg", 7) == 0);
	free(v);
	CHECK(srv_cache_has(c, "k", 999));
	CHECK(!srv_cache_has(c, "k", 1000)); /* expired */
	CHECK(!srv_cache_get(c, "k", 1000, &v, &n));
	srv_cache_free(c);
}

static void test_replace_and_drop(void)
{
	struct srv_cache *c = srv_cache_new(100, 64);
	uint8_t *v = NULL;
	size_t n = 0;
	srv_cache_put(c, "dev-1\ntimestamp.json", (const uint8_t *)"v1", 2, 100, 0);
	srv_cache_put(c, "dev-1\ntimestamp.json", (const uint8_t *)"v2", 2, 100, 0);
	CHECK(srv_cache_get(c, "dev-1\ntimestamp.json", 0, &v, &n) && memcmp(v, "v2", 2) == 0);
	free(v);
	srv_cache_drop(c, "dev-1\ntimestamp.json");
	CHECK(!srv_cache_has(c, "dev-1\ntimestamp.json", 0));
	srv_cache_drop(c, "never-there");
	srv_cache_free(c);
}

static void test_bounds(void)
{
	struct srv_cache *c = srv_cache_new(64, 4);
	char key[32];
	size_t live = 0;
	/* too large a value, or already expired: not cached */
	srv_cache_put(c, "big", (const uint8_t *)"12345", 5, 100, 0);
	CHECK(!srv_cache_has(c, "big", 0));
	srv_cache_put(c, "old", (const uint8_t *)"1", 1, 5, 5);
	CHECK(!srv_cache_has(c, "old", 5));
	/* far more live entries than room: some are refused, none is wrong */
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		srv_cache_put(c, key, (const uint8_t *)key, strlen(key) > 4 ? 4 : strlen(key), 100,
			      0);
	}
	for (int i = 0; i < 10000; i++) {
		uint8_t *v;
		size_t n;
		snprintf(key, sizeof key, "k%d", i);
		if (srv_cache_get(c, key, 0, &v, &n)) {
			live++;
			CHECK(n == (strlen(key) > 4 ? 4 : strlen(key)) && memcmp(v, key, n) == 0);
			free(v);
		}
	}
	CHECK(live > 0 && live <= 64 + 64);
	/* once they expire, new entries take their place */
	srv_cache_put(c, "fresh", (const uint8_t *)"f", 1, 1000, 200);
	CHECK(srv_cache_has(c, "fresh", 300));
	srv_cache_free(c);
}

int main(void)
{
	RUN(test_put_get_copy);
	RUN(test_replace_and_drop);
	RUN(test_bounds);
	TEST_MAIN_END();
}
