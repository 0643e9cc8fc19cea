/* uptake-server's fleet reports as one document (srv_report): a report
 * longer than one streamed chunk (about 16 KiB) comes out whole, every
 * device once, in JSON and in CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/server/reports.h"
#include "../src/server/store.h"
#include "harness.h"

#define DEVICES 600 /* about 100 bytes or more each: several chunks */

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void test_support_whole(void)
{
	char dir[512], db[600], p[700];
	const char *t = getenv("TMPDIR");
	struct srv_store *st = NULL;
	struct upt_error err = {0};
	int64_t now = (int64_t)time(NULL);
	struct srv_report_args json = {now, now / 86400, 90, 30, false}, csv = json;
	char *out = NULL;
	csv.csv = true;
	snprintf(dir, sizeof dir, "%s/report-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof db, "%s/db", dir);
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st)
		return;
	for (int i = 0; i < DEVICES; i++) {
		char id[32];
		snprintf(id, sizeof id, "unit-%04d", i);
		CHECK_EQ_INT(st->ops->device_add(st, id, &err), UPT_OK);
	}
	CHECK_EQ_INT(srv_report(st, SRV_REPORT_SUPPORT, &json, &out, &err), UPT_OK);
	CHECK(out != NULL && strlen(out) > (16u << 10));
	CHECK(out != NULL && count(out, "\"id\":\"unit-") == DEVICES);
	CHECK(out != NULL && strstr(out, "\"unit-0599\"") && strstr(out, "],\"products\":["));
	free(out);
	out = NULL;
	CHECK_EQ_INT(srv_report(st, SRV_REPORT_SUPPORT, &csv, &out, &err), UPT_OK);
	CHECK(out != NULL && count(out, "\nunit-") == DEVICES);
	free(out);
	st->ops->close(st);
	for (int i = 0; i < 3; i++) {
		static const char *const suffix[] = {"", "-wal", "-shm"};
		snprintf(p, sizeof p, "%s%s", db, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	RUN(test_support_whole);
	TEST_MAIN_END();
}
