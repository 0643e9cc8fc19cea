/* Fuzz target: signed snapshot metadata through upt_doc_parse and the snapshot
 * parser (and, where the role carries keys, threshold verification). */
#include <stdlib.h>
#include <uptake/crypto_openssl.h>
#include <uptake/metadata.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[4u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a;
	struct upt_doc doc;
	struct upt_error err;
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_doc_parse(&doc, &a, data, size, 1u << 20, "snapshot.json", &err) != UPT_OK)
		return 0;
	struct upt_snapshot s;
	if (upt_snapshot_parse(&s, &a, &doc, &err) == UPT_OK)
		for (size_t i = 0; i < s.n_meta; i++)
			if (upt_snapshot_find(&s, s.meta[i].name) != &s.meta[i])
				abort();
	return 0;
}
