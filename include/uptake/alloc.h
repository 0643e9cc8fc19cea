/* uptake: host allocation (not used by core).
 *
 * Host code allocates through these so that tests can make the Nth
 * allocation fail and check that every path cleans up.
 */
#ifndef UPTAKE_ALLOC_H
#define UPTAKE_ALLOC_H

#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

UPT_API void *upt_malloc(size_t size);
UPT_API void *upt_calloc(size_t n, size_t size);
UPT_API void *upt_realloc(void *p, size_t size);
UPT_API void upt_free(void *p);
/* Wipe `len` bytes then free. Accepts NULL. */
UPT_API void upt_free_secret(void *p, size_t len);
/* Wipe memory in a way the compiler keeps. */
UPT_API void upt_wipe(void *p, size_t len);

/* Testing: make allocation number `n` (1-based, counted from this call)
 * and every later one fail; 0 turns failure injection off. */
UPT_API void upt_alloc_fail_after(unsigned long n);

#ifdef __cplusplus
}
#endif
#endif
