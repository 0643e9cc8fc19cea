/* uptake-agent: the log line (stderr, UTC time first, then the program's
 * name: uptake-secondary logs through the same backends). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends.h"

static const char *log_name = "uptake-agent";

void agent_log_name(const char *name)
{
	log_name = name;
}

void agent_log(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s: ", when, log_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Test mode of a power cut (UPTAKE_AGENT_TEST_PAUSE=POINT, set by
 * tests/boot/boot.sh in the emulated device): at the named point of an
 * install the agent says so and waits for the power to go. */
bool agent_test_pause_at(const char *point)
{
	const char *p = getenv("UPTAKE_AGENT_TEST_PAUSE");
	return p && strcmp(p, point) == 0;
}

void agent_test_pause(const char *point)
{
	agent_log("TEST MODE: paused at %s, for a power cut", point);
	fflush(NULL);
	sync();
	for (;;)
		pause();
}
