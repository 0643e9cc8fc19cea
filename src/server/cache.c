/* uptake-server: a bounded, sharded in-memory cache. */
#include "cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS  64
#define BUCKETS 1024 /* per shard */

struct entry {
	struct entry *next;
	int64_t until_ms;
	size_t len;
	uint8_t *val;
	char key[]; /* NUL-terminated */
};

struct shard {
	pthread_mutex_t lock;
	struct entry *bucket[BUCKETS];
	size_t n;
};

struct srv_cache {
	size_t max_per_shard, max_value;
	struct shard shard[SHARDS];
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct srv_cache *srv_cache_new(size_t max_entries, size_t max_value)
{
	struct srv_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->max_per_shard = max_entries / SHARDS + 1;
	c->max_value = max_value;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&c->shard[i].lock, NULL);
	return c;
}

static void entry_free(struct entry *e)
{
	free(e->val);
	free(e);
}

void srv_cache_free(struct srv_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < SHARDS; i++) {
		for (int b = 0; b < BUCKETS; b++)
			for (struct entry *e = c->shard[i].bucket[b], *n; e; e = n) {
				n = e->next;
				entry_free(e);
			}
		pthread_mutex_destroy(&c->shard[i].lock);
	}
	free(c);
}

static struct shard *shard_of(struct srv_cache *c, uint64_t h)
{
	return &c->shard[h % SHARDS];
}

/* The entry's link in its bucket, or where it would go. */
static struct entry **find(struct shard *s, uint64_t h, const char *key)
{
	struct entry **p = &s->bucket[(h / SHARDS) % BUCKETS];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

bool srv_cache_get(struct srv_cache *c, const char *key, int64_t now_ms, uint8_t **val, size_t *len)
{
	uint64_t h = hash(key);
	struct shard *s = shard_of(c, h);
	struct entry *e;
	bool hit = false;
	pthread_mutex_lock(&s->lock);
	e = *find(s, h, key);
	if (e && now_ms < e->until_ms && (*val = malloc(e->len ? e->len : 1)) != NULL) {
		memcpy(*val, e->val, e->len);
		*len = e->len;
		hit = true;
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

bool srv_cache_has(struct srv_cache *c, const char *key, int64_t now_ms)
{
	uint64_t h = hash(key);
	struct shard *s = shard_of(c, h);
	struct entry *e;
	bool hit;
	pthread_mutex_lock(&s->lock);
	e = *find(s, h, key);
	hit = e && now_ms < e->until_ms;
	pthread_mutex_unlock(&s->lock);
	return hit;
}

/* Drop expired entries of a shard (called when it is full). */
static void sweep(struct shard *s, int64_t now_ms)
{
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry **p = &s->bucket[b]; *p;) {
			if ((*p)->until_ms <= now_ms) {
				struct entry *e = *p;
				*p = e->next;
				entry_free(e);
				s->n--;
			} else {
				p = &(*p)->next;
			}
		}
}

void srv_cache_put(struct srv_cache *c, const char *key, const uint8_t *val, size_t len,
		   int64_t until_ms, int64_t now_ms)
{
	uint64_t h = hash(key);
	struct shard *s = shard_of(c, h);
	size_t kl = strlen(key);
	struct entry *e, **p;
	if (len > c->max_value || kl > 1024 || until_ms <= now_ms)
		return;
	if (!(e = malloc(sizeof *e + kl + 1)) || !(e->val = malloc(len ? len : 1))) {
		free(e);
		return;
	}
	memcpy(e->key, key, kl + 1);
	memcpy(e->val, val, len);
	e->len = len;
	e->until_ms = until_ms;
	pthread_mutex_lock(&s->lock);
	p = find(s, h, key);
	if (*p) { /* replace */
		struct entry *old = *p;
		e->next = old->next;
		*p = e;
		entry_free(old);
	} else {
		if (s->n >= c->max_per_shard)
			sweep(s, now_ms);
		if (s->n >= c->max_per_shard) {
			pthread_mutex_unlock(&s->lock);
			entry_free(e);
			return;
		}
		e->next = NULL;
		*find(s, h, key) = e;
		s->n++;
	}
	pthread_mutex_unlock(&s->lock);
}

void srv_cache_drop(struct srv_cache *c, const char *key)
{
	uint64_t h = hash(key);
	struct shard *s = shard_of(c, h);
	struct entry **p, *e;
	pthread_mutex_lock(&s->lock);
	p = find(s, h, key);
	if ((e = *p) != NULL) {
		*p = e->next;
		entry_free(e);
		s->n--;
	}
	pthread_mutex_unlock(&s->lock);
}

void srv_cache_clear(struct srv_cache *c)
{
	for (int i = 0; c && i < SHARDS; i++) {
		struct shard *s = &c->shard[i];
		pthread_mutex_lock(&s->lock);
		for (int b = 0; b < BUCKETS; b++) {
			for (struct entry *e = s->bucket[b], *n; e; e = n) {
				n = e->next;
				entry_free(e);
			}
			s->bucket[b] = NULL;
		}
		s->n = 0;
		pthread_mutex_unlock(&s->lock);
	}
}
