/* Fuzz target: CSAF 2.0 VEX documents as the server imports them
 * (srv_admin_vex_import, against an in-memory SQLite store with one
 * published target "fw-1.0"), then the vulnerability report that honours
 * the statements. An accepted document answers JSON that parses; so does
 * the report; a refused one says why. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "server/vulns.h"
#include "server_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[4u << 20];

static void must_parse(const char *text)
{
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err = {0};
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&v, &a, (const uint8_t *)text, strlen(text), NULL, &err) != UPT_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool seeded;
	struct srv_store *st = fixture_store();
	struct upt_error err = {0};
	char *resp = NULL;
	if (!seeded) {
		struct srv_published p = {.name = "fw-1.0", .length = 1, .release_counter = 1};
		memset(p.sha256, 'a', 64);
		snprintf(p.hardware_ids, sizeof p.hardware_ids, "board-a");
		if (st->ops->published_put(st, &p, 1, &err) != UPT_OK)
			abort();
		seeded = true;
	}
	if (size > (1u << 20))
		return 0;
	if (srv_admin_vex_import(st, data, size, 1800000000, &resp, &err) != UPT_OK) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	must_parse(resp);
	free(resp);
	resp = NULL;
	if (srv_report_vulns(st, 1800000000, &resp, &err) != UPT_OK)
		abort();
	must_parse(resp);
	free(resp);
	return 0;
}
