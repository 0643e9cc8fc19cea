/* Fuzz target: signed root metadata through upt_doc_parse and the root
 * parser (and, where the role carries keys, threshold verification). */
#include <stdlib.h>
#include <uptake/crypto_openssl.h>
#include <uptake/metadata.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[4u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct upt_crypto *crypto = upt_openssl_crypto();
	struct upt_arena a;
	struct upt_doc doc;
	struct upt_error err;
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_doc_parse(&doc, &a, data, size, 1u << 20, "root.json", &err) != UPT_OK)
		return 0;
	struct upt_root r;
	if (upt_root_parse(&r, &a, &doc, crypto, &err) == UPT_OK)
		if (upt_doc_verify(&doc, r.keys, r.n_keys, &r.roles[0], crypto, NULL, &err) ==
			UPT_OK &&
		    doc.n_sigs == 0)
			abort();
	return 0;
}
