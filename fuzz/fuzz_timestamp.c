/* Fuzz target: signed timestamp metadata through upt_doc_parse and the timestamp
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
	if (upt_doc_parse(&doc, &a, data, size, 1u << 20, "timestamp.json", &err) != UPT_OK)
		return 0;
	struct upt_timestamp t;
	if (upt_timestamp_parse(&t, &a, &doc, &err) == UPT_OK && t.snapshot.version < 1)
		abort();
	return 0;
}
