/* uptake: arena allocator over caller-given memory.
 *
 * libuptake core never calls malloc: every parse and verification works in
 * an arena the caller provides (a heap block on a host, a static array on a
 * microcontroller). Allocation is a pointer bump; freeing is resetting the
 * arena, or rolling it back to a mark.
 */
#ifndef UPTAKE_ARENA_H
#define UPTAKE_ARENA_H

#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct upt_arena {
	unsigned char *base;
	size_t cap;
	size_t used;
};

/* Use `cap` bytes at `buf` as the arena's memory. */
UPT_API void upt_arena_init(struct upt_arena *a, void *buf, size_t cap);

/* Allocate `size` bytes aligned for any object. Returns NULL when the arena
 * is exhausted (or on size overflow); the arena is then unchanged. The
 * memory is not zeroed. */
UPT_API void *upt_arena_alloc(struct upt_arena *a, size_t size);

/* Same, zero-filled. */
UPT_API void *upt_arena_zalloc(struct upt_arena *a, size_t size);

/* Same as upt_arena_zalloc for `n` elements of `size` bytes, overflow-checked. */
UPT_API void *upt_arena_calloc(struct upt_arena *a, size_t n, size_t size);

/* Copy `len` bytes into the arena and add a NUL terminator. */
UPT_API char *upt_arena_strndup(struct upt_arena *a, const char *s, size_t len);

/* A mark is the arena's fill level; rolling back frees everything
 * allocated since. */
static inline size_t upt_arena_mark(const struct upt_arena *a)
{
	return a->used;
}
static inline void upt_arena_rollback(struct upt_arena *a, size_t mark)
{
	if (mark <= a->used)
		a->used = mark;
}

#ifdef __cplusplus
}
#endif
#endif
