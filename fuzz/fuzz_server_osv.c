/* Fuzz target: OSV vulnerability records as the server checks and
 * normalizes them (srv_osv_normalize), and the version rules they are
 * checked with. A record that is taken normalizes into JSON that parses
 * again, with the same id; every event version in it is valid for its
 * scheme and compares equal to itself. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "server/jsonout.h"
#include "server/versions.h"
#include "server/vulns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[16u << 20], mem2[16u << 20];

static enum srv_vscheme scheme(const char *s)
{
	return strcmp(s, "debian") == 0   ? SRV_VS_DEBIAN
	       : strcmp(s, "semver") == 0 ? SRV_VS_SEMVER
					  : SRV_VS_GENERIC;
}

static void check_normalized(const struct upt_json *n, const struct upt_json *rec)
{
	const struct upt_json *af = upt_json_get(n, "affected");
	if (!upt_json_get(n, "id") ||
	    strcmp(upt_json_get(n, "id")->str, upt_json_get(rec, "id")->str))
		abort();
	for (size_t i = 0; af && i < af->n; i++) {
		const struct upt_json *rs = upt_json_get(af->items[i], "ranges");
		for (size_t k = 0; rs && k < rs->n; k++) {
			const struct upt_json *ev = upt_json_get(rs->items[k], "events");
			enum srv_vscheme s = scheme(upt_json_get(rs->items[k], "scheme")->str);
			for (size_t e = 0; ev && e < ev->n; e++) {
				const char *v = ev->items[e]->items[0]->str;
				if (strcmp(v, "0") == 0 || strcmp(v, "*") == 0)
					continue;
				if (!srv_version_valid(s, v) || srv_version_cmp(s, v, v) != 0)
					abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a, b;
	struct upt_json *rec, *n;
	struct upt_error err = {0};
	struct srv_json o = {0};
	const char *skip = NULL;
	size_t git = 0;
	char *text = NULL;
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&rec, &a, data, size, NULL, &err) != UPT_OK)
		return 0;
	if (srv_osv_normalize(&o, rec, "fuzz.json", &skip, &git, &err) != UPT_OK) {
		srv_json_dispose(&o);
		if (!err.msg[0])
			abort();
		return 0;
	}
	if (srv_json_finish(&o, &text, &err) != UPT_OK)
		return 0;
	upt_arena_init(&b, mem2, sizeof mem2);
	if (upt_json_parse(&n, &b, (const uint8_t *)text, strlen(text), NULL, &err) != UPT_OK)
		abort();
	check_normalized(n, rec);
	free(text);
	return 0;
}
