/* uptake host: allocation with failure injection for tests. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <uptake/alloc.h>

static unsigned long fail_after; /* 0: never fail */
static unsigned long count;

static int should_fail(void)
{
	if (!fail_after)
		return 0;
	return ++count >= fail_after;
}

void upt_alloc_fail_after(unsigned long n)
{
	fail_after = n;
	count = 0;
}

void *upt_malloc(size_t size)
{
	return should_fail() ? NULL : malloc(size ? size : 1);
}

void *upt_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *upt_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : realloc(p, size ? size : 1);
}

void upt_free(void *p)
{
	free(p);
}

void upt_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

void upt_free_secret(void *p, size_t len)
{
	upt_wipe(p, len);
	free(p);
}
