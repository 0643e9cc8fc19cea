/* uptake: a minimal test harness. Each test program calls its cases with
 * RUN(); CHECK() records a failure with file and line and goes on. The
 * program prints "N passed, N failed" and exits non-zero on any failure. */
#ifndef UPTAKE_TEST_HARNESS_H
#define UPTAKE_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int upt_t_failed;
static int upt_t_checks_failed;
static int upt_t_passed;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			upt_t_checks_failed++;                                                   \
		}                                                                                \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                    \
	do {                                                                                  \
		long long upt_t_a = (long long)(a), upt_t_b = (long long)(b);                 \
		if (upt_t_a != upt_t_b) {                                                     \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, upt_t_a, #b, upt_t_b);                          \
			upt_t_checks_failed++;                                                \
		}                                                                             \
	} while (0)

#define RUN(fn)                                            \
	do {                                               \
		int upt_t_before = upt_t_checks_failed;    \
		fn();                                      \
		if (upt_t_checks_failed == upt_t_before) { \
			upt_t_passed++;                    \
			printf("ok   %s\n", #fn);          \
		} else {                                   \
			upt_t_failed++;                    \
			printf("FAIL %s\n", #fn);          \
		}                                          \
	} while (0)

#define TEST_MAIN_END()                                                       \
	do {                                                                  \
		printf("%d passed, %d failed\n", upt_t_passed, upt_t_failed); \
		return upt_t_failed ? 1 : 0;                                  \
	} while (0)

/* Read a whole file into a malloc'd buffer (tests only). */
static inline unsigned char *upt_t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

#endif
