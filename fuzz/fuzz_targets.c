/* Fuzz target: signed targets metadata through upt_doc_parse and the targets
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
	if (upt_doc_parse(&doc, &a, data, size, 1u << 20, "targets.json", &err) != UPT_OK)
		return 0;
	struct upt_targets t;
	if (upt_targets_parse(&t, &a, &doc, crypto, &err) == UPT_OK) {
		for (size_t i = 0; i < t.n_targets; i++)
			if (upt_targets_find(&t, t.targets[i].name) != &t.targets[i])
				abort();
		for (size_t i = 0; i < t.n_roles; i++)
			if (upt_doc_verify(&doc, t.keys, t.n_keys, &t.roles[i], crypto, NULL,
					   &err) == UPT_OK &&
			    doc.n_sigs == 0)
				abort();
	}
	return 0;
}
