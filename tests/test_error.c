/* Tests of the error reports and their formatter (src/core/error.c): every
 * conversion the code uses, string precision (bounded reads), untrusted
 * text made printable, the message bound, and that an unknown conversion
 * takes no argument. */
#include <limits.h>
#include <uptake/common.h>

#include "harness.h"

static struct upt_error e;

static void test_plain_conversions(void)
{
	CHECK_EQ_INT(upt_error_set(&e, UPT_ERR_IO, "x"), UPT_ERR_IO);
	CHECK_EQ_INT(e.code, UPT_ERR_IO);
	upt_error_set(&e, UPT_ERR_IO, "%s|%d|%u|%zu|%lld|%c|%%", "a", -7, 7u, (size_t)12,
		      (long long)LLONG_MIN, 'z');
	CHECK(strcmp(e.msg, "a|-7|7|12|-9223372036854775808|z|%") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%ld %lu %llu", -5L, ULONG_MAX, 18446744073709551615ULL);
	/* long is 32 bits on armhf */
	char want[80];
	snprintf(want, sizeof want, "-5 %lu 18446744073709551615", ULONG_MAX);
	CHECK(strcmp(e.msg, want) == 0);
}

static void test_string_precision(void)
{
	char longer[400];
	const char unterminated[4] = {'a', 'b', 'c', 'd'};
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = 0;
	upt_error_set(&e, UPT_ERR_IO, "%.3s", "abcdef");
	CHECK(strcmp(e.msg, "abc") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%.3s", "ab");
	CHECK(strcmp(e.msg, "ab") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%.0s|", "ab");
	CHECK(strcmp(e.msg, "|") == 0);
	/* what the agent prints for a refusal: status and the server's reason */
	upt_error_set(&e, UPT_ERR_IO, "HTTP %lld: %.150s", 409LL, longer);
	CHECK_EQ_INT(strlen(e.msg), 10 + 150);
	CHECK(strncmp(e.msg, "HTTP 409: xxx", 13) == 0);
	/* the bytes after the precision are never read (ASan sees an overread) */
	upt_error_set(&e, UPT_ERR_IO, "%.4s", unterminated);
	CHECK(strcmp(e.msg, "abcd") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%.*s", 2, unterminated);
	CHECK(strcmp(e.msg, "ab") == 0);
	upt_error_set(&e, UPT_ERR_IO, "[%.*s]", -1, unterminated);
	CHECK(strcmp(e.msg, "[]") == 0);
}

static void test_arguments_after_precision(void)
{
	/* before precision was known, "%.150s" printed "?150s" and took no
	 * argument, so every later argument went to the wrong conversion */
	upt_error_set(&e, UPT_ERR_IO, "%.2s-%d-%s-%.*s-%lld", "xyz", 42, "end", 1, "qr",
		      (long long)-3);
	CHECK(strcmp(e.msg, "xy-42-end-q--3") == 0);
}

static void test_untrusted_text(void)
{
	upt_error_set(&e, UPT_ERR_IO, "%s",
		      "a\nb\x01\x7f"
		      "c");
	CHECK(strcmp(e.msg, "a?b??c") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%.3s", "\n\n\nzz");
	CHECK(strcmp(e.msg, "???") == 0);
}

static void test_bounded(void)
{
	char big[2000];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = 0;
	upt_error_set(&e, UPT_ERR_IO, "%s%s%.1999s", big, big, big);
	CHECK_EQ_INT(strlen(e.msg), UPT_ERROR_MSG_MAX - 1);
	upt_error_set(&e, UPT_ERR_IO, "%s", "short");
	upt_error_prefix(&e, big);
	CHECK_EQ_INT(strlen(e.msg), UPT_ERROR_MSG_MAX - 1);
	upt_error_set(&e, UPT_ERR_IO, "inner");
	upt_error_prefix(&e, "outer");
	CHECK(strcmp(e.msg, "outer: inner") == 0);
	CHECK_EQ_INT(upt_error_set(NULL, UPT_ERR_ARG, "%s", "no error struct"), UPT_ERR_ARG);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"
static void test_unknown_conversions(void)
{
	/* what the compiler warns about still has a defined outcome: an absurd
	 * precision is clamped, not overflowed; NULL is "(null)" */
	upt_error_set(&e, UPT_ERR_IO, "%.99999999999999999999999s!", "ab");
	CHECK(strcmp(e.msg, "ab!") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%s", (const char *)NULL);
	CHECK(strcmp(e.msg, "(null)") == 0);
	/* an unknown conversion is '?', and nothing after it takes an
	 * argument: its arguments cannot be skipped safely */
	upt_error_set(&e, UPT_ERR_IO, "a %x b %s c", 1, "s");
	CHECK(strcmp(e.msg, "a ? b ? c") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%.5d %s", 1, "s");
	CHECK(strcmp(e.msg, "? ?") == 0);
	upt_error_set(&e, UPT_ERR_IO, "%ls", L"w");
	CHECK(strcmp(e.msg, "?") == 0);
	upt_error_set(&e, UPT_ERR_IO, "end %");
	CHECK(strcmp(e.msg, "end ?") == 0);
	upt_error_set(&e, UPT_ERR_IO, "end %.");
	CHECK(strcmp(e.msg, "end ?") == 0);
	upt_error_set(&e, UPT_ERR_IO, "end %.12");
	CHECK(strcmp(e.msg, "end ?") == 0);
}
#pragma GCC diagnostic pop

static void test_names(void)
{
	CHECK(strcmp(upt_err_name(UPT_OK), "UPT_OK") == 0);
	CHECK(strcmp(upt_err_name(UPT_ERR_EXPIRED), "UPT_ERR_EXPIRED") == 0);
	CHECK(strcmp(upt_err_name(1), "UPT_ERR_UNKNOWN") == 0);
	CHECK(strcmp(upt_err_name(-100000), "UPT_ERR_UNKNOWN") == 0);
}

int main(void)
{
	RUN(test_plain_conversions);
	RUN(test_string_precision);
	RUN(test_arguments_after_precision);
	RUN(test_untrusted_text);
	RUN(test_bounded);
	RUN(test_unknown_conversions);
	RUN(test_names);
	TEST_MAIN_END();
}
