/* uptake core: arena allocator over caller-given memory. */
#include <string.h>
#include <uptake/arena.h>

#define ARENA_ALIGN 16u

void upt_arena_init(struct upt_arena *a, void *buf, size_t cap)
{
	uintptr_t p = (uintptr_t)buf;
	size_t skip = (size_t)((ARENA_ALIGN - (p % ARENA_ALIGN)) % ARENA_ALIGN);
	if (!buf || cap < skip) {
		a->base = NULL;
		a->cap = 0;
	} else {
		a->base = (unsigned char *)buf + skip;
		a->cap = cap - skip;
	}
	a->used = 0;
}

void *upt_arena_alloc(struct upt_arena *a, size_t size)
{
	size_t start = a->used, end;
	if (start % ARENA_ALIGN)
		start += ARENA_ALIGN - start % ARENA_ALIGN;
	if (start > a->cap || __builtin_add_overflow(start, size, &end) || end > a->cap)
		return NULL;
	a->used = end;
	return a->base + start;
}

void *upt_arena_zalloc(struct upt_arena *a, size_t size)
{
	void *p = upt_arena_alloc(a, size);
	if (p && size)
		memset(p, 0, size);
	return p;
}

void *upt_arena_calloc(struct upt_arena *a, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return upt_arena_zalloc(a, total ? total : 1);
}

char *upt_arena_strndup(struct upt_arena *a, const char *s, size_t len)
{
	size_t total;
	char *p;
	if (__builtin_add_overflow(len, 1, &total))
		return NULL;
	p = upt_arena_alloc(a, total);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = 0;
	return p;
}
