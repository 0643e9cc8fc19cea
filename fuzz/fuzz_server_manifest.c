/* Fuzz target: uptake-server's manifest handling (srv_dev_manifest): the
 * manifest parser, signature checks against the registered ECU keys, the
 * per-ECU judgement and the store. Each input is up to three manifests
 * separated by "\n--\n", sent in order by a freshly registered fixture
 * device (two ECUs). Whatever they hold: every answer is UPT_OK or a
 * negative code with a message, an accepted manifest raises the primary's
 * stored counter, no counter ever goes down, and the admin view stays
 * valid JSON. */
#include <stdio.h>

#include "server_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void counters(struct srv_store *st, const char *id, int64_t out[2])
{
	struct srv_ecu *e = NULL;
	size_t n = 0;
	struct upt_error err = {0};
	if (st->ops->ecus_get(st, id, &e, &n, &err) != UPT_OK || n != 2 || !e[0].primary)
		abort();
	out[0] = e[0].report_counter;
	out[1] = e[1].report_counter;
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[32];
	struct srv_store *st = fixture_device(id);
	const uint8_t *p = data, *end = data + size;
	int64_t before[2], after[2];
	counters(st, id, before);
	for (int i = 0; i < 3 && p <= end; i++) {
		const uint8_t *sep = NULL;
		struct upt_error err = {0};
		int rc;
		for (const uint8_t *q = p; q + 4 <= end && !sep; q++)
			if (memcmp(q, "\n--\n", 4) == 0)
				sep = q;
		rc = srv_dev_manifest(st, id, p, (size_t)((sep ? sep : end) - p), 1000 + i, &err);
		if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
			abort();
		if (getenv("UPTAKE_FUZZ_VERBOSE"))
			fprintf(stderr, "manifest %d: %s %s\n", i, upt_err_name(rc), err.msg);
		counters(st, id, after);
		if (after[0] < before[0] || after[1] < before[1] ||
		    (rc == UPT_OK && after[0] <= before[0]))
			abort();
		memcpy(before, after, sizeof before);
		if (!sep)
			break;
		p = sep + 4;
	}
	fixture_check_show(st, id);
	return 0;
}
