/* Fuzz target: the key files given on the CLI's command line. Byte 0
 * picks how the rest is read:
 *   0  a private key PEM (`--key`, keys/NAME.pem), no passphrase
 *   1  the same with the passphrase "fuzz" (an encrypted PKCS#8 key)
 *   2  a public key file (`metadata root --root-key PUB.json`) written into
 *      TUF-dialect metadata
 *   3  the same into aktualizr-dialect metadata
 * Whatever the bytes: a clear error, or a key that works: a loaded private
 * key signs and its signature verifies with its own public key object; a
 * public key object, converted or not, parses again with the same key id. */
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cli_arena ca;

static void refuse_silence(int rc, const struct upt_error *err)
{
	if (rc > 0 || (rc != UPT_OK && err->msg[0] == 0))
		abort();
}

static void private_key(const uint8_t *data, size_t size, const char *pass)
{
	static const uint8_t msg[] = "uptake fuzz message";
	struct upt_privkey *k = NULL;
	struct upt_error err = {0};
	struct upt_json *obj;
	struct upt_key key;
	uint8_t sig[1024];
	size_t sig_len = 0, pl = 0;
	char *pub = NULL, id[UPT_KEYID_MAX + 1];
	int rc = upt_privkey_load_pem(&k, (const char *)data, size, pass, &err);
	refuse_silence(rc, &err);
	if (rc != UPT_OK)
		return;
	if (upt_privkey_keyid(id, k, UPT_DIALECT_TUF, &err) != UPT_OK ||
	    upt_privkey_public_json(&pub, &pl, k, UPT_DIALECT_TUF, &err) != UPT_OK ||
	    upt_json_parse(&obj, &ca.a, (const uint8_t *)pub, pl, NULL, &err) != UPT_OK ||
	    upt_key_parse(&key, &ca.a, id, obj, upt_openssl_crypto(), &err) != UPT_OK ||
	    upt_privkey_sign(k, msg, sizeof msg, sig, sizeof sig, &sig_len) != UPT_OK ||
	    upt_key_verify(&key, upt_openssl_crypto(), msg, sizeof msg, sig, sig_len) != UPT_OK)
		abort();
	upt_free(pub);
	upt_privkey_free(k);
}

static void public_key(const uint8_t *data, size_t size, enum upt_dialect d)
{
	struct cli_pubkey k, again;
	struct upt_error err = {0};
	uint8_t text[65536];
	size_t len = 0;
	int rc = cli_pubkey_parse(&k, &ca, "pub.json", data, size, d, &err);
	refuse_silence(rc, &err);
	if (rc != UPT_OK)
		return;
	/* what goes into the metadata reads back as the same key */
	if (upt_json_write(text, sizeof text, &len, k.obj, &err) != UPT_OK ||
	    cli_pubkey_parse(&again, &ca, "again", text, len, d, &err) != UPT_OK ||
	    strcmp(again.id, k.id) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ca.mem && cli_arena_init(&ca, 16u << 20) != UPT_OK)
		abort();
	upt_arena_init(&ca.a, ca.mem, 16u << 20);
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		private_key(data + 1, size - 1, NULL);
		break;
	case 1:
		private_key(data + 1, size - 1, "fuzz");
		break;
	case 2:
		public_key(data + 1, size - 1, UPT_DIALECT_TUF);
		break;
	default:
		public_key(data + 1, size - 1, UPT_DIALECT_AKTUALIZR);
		break;
	}
	return 0;
}
