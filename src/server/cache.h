/* uptake-server: a bounded in-memory cache of byte strings by key, with an
 * expiry per entry, split into shards with a lock each, so that readers of
 * different keys rarely wait on one another. A value is copied in and out.
 * A full shard takes a new entry only in place of an expired one: a full
 * cache makes callers take their slow path, never serve something wrong. */
#ifndef UPTAKE_SERVER_CACHE_H
#define UPTAKE_SERVER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv_cache;

/* At most `max_entries` entries of at most `max_value` bytes each. */
struct srv_cache *srv_cache_new(size_t max_entries, size_t max_value);
void srv_cache_free(struct srv_cache *c);
/* A malloc'd copy of the value of `key` while now_ms < its expiry. */
bool srv_cache_get(struct srv_cache *c, const char *key, int64_t now_ms, uint8_t **val,
		   size_t *len);
/* Is `key` there (and not expired)? */
bool srv_cache_has(struct srv_cache *c, const char *key, int64_t now_ms);
/* Set `key` to `val` until until_ms (silently not cached when it does not
 * fit). */
void srv_cache_put(struct srv_cache *c, const char *key, const uint8_t *val, size_t len,
		   int64_t until_ms, int64_t now_ms);
void srv_cache_drop(struct srv_cache *c, const char *key);
/* Drop every entry (accepts NULL). */
void srv_cache_clear(struct srv_cache *c);

#endif
