/* Fuzz target: SBOM documents (upt_sbom_parse: CycloneDX 1.4-1.6 and
 * SPDX 2.3 JSON). An accepted document has a known format and spec
 * version, and every component a name, a version and a purl or CPE (what
 * the parser promises); a refused one leaves the output empty and says
 * why. */
#include <stdlib.h>
#include <string.h>
#include <uptake/sbom.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[32u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a;
	struct upt_sbom s;
	struct upt_error err = {0};
	char fmt[24];
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_sbom_parse(&s, &a, data, size, &err) != UPT_OK) {
		if (!err.msg[0] || s.n_components || s.components)
			abort();
		return 0;
	}
	if (s.format != UPT_SBOM_CYCLONEDX && s.format != UPT_SBOM_SPDX)
		abort();
	upt_sbom_format_name(&s, fmt, sizeof fmt);
	if (strcmp(fmt, "cyclonedx-1.4") != 0 && strcmp(fmt, "cyclonedx-1.5") != 0 &&
	    strcmp(fmt, "cyclonedx-1.6") != 0 && strcmp(fmt, "spdx-2.3") != 0)
		abort();
	if (!s.created || s.n_components > UPT_SBOM_MAX_COMPONENTS)
		abort();
	for (size_t i = 0; i < s.n_components; i++) {
		const struct upt_sbom_component *c = &s.components[i];
		if (!c->name[0] || !c->version[0] || (!c->purl[0] && !c->cpe[0]))
			abort();
		if (c->purl[0] && strncmp(c->purl, "pkg:", 4) != 0)
			abort();
	}
	return 0;
}
