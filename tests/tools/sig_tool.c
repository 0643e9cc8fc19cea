/* sig_tool: drives uptake's keys and signatures for the oracle tests.
 *   sig_tool keygen ed25519|ecdsa|rsa PRIV_OUT   prints public key JSON, key id
 *   sig_tool sign PRIV_PEM MSG_FILE               prints the hex signature
 *   sig_tool verify KEY_JSON_FILE MSG_FILE HEX    exit 0 when it verifies
 *   sig_tool keyid KEY_JSON_FILE                  prints the TUF key id */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>

static unsigned char mem[1 << 20];

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "rb");
	if (!f)
		exit(3);
	*len = fread(buf, 1, sizeof buf - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static int keygen(const char *type, const char *out)
{
	enum upt_key_type t = strcmp(type, "ed25519") == 0 ? UPT_KEY_ED25519
			      : strcmp(type, "ecdsa") == 0 ? UPT_KEY_ECDSA_P256
							   : UPT_KEY_RSA;
	struct upt_privkey *k;
	struct upt_error err;
	char *pem, *json, id[UPT_KEYID_MAX + 1];
	size_t pl, jl;
	FILE *f;
	if (upt_privkey_generate(&k, t, &err) || upt_privkey_save_pem(&pem, &pl, k, NULL, &err) ||
	    upt_privkey_public_json(&json, &jl, k, UPT_DIALECT_TUF, &err) ||
	    upt_privkey_keyid(id, k, UPT_DIALECT_TUF, &err) || !(f = fopen(out, "wb"))) {
		fprintf(stderr, "sig_tool: %s\n", err.msg);
		return 4;
	}
	fwrite(pem, 1, pl, f);
	fclose(f);
	printf("%s\n%s\n", json, id);
	upt_free_secret(pem, pl);
	upt_free(json);
	upt_privkey_free(k);
	return 0;
}

static int sign(const char *priv, const char *msg_path)
{
	struct upt_privkey *k;
	struct upt_error err;
	size_t pl, ml, sl;
	char *pem = slurp(priv, &pl), hex[2 * UPT_SIG_MAX + 1];
	uint8_t sig[UPT_SIG_MAX];
	if (upt_privkey_load_pem(&k, pem, pl, NULL, &err))
		return 4;
	char *msg = slurp(msg_path, &ml);
	if (upt_privkey_sign(k, (const uint8_t *)msg, ml, sig, sizeof sig, &sl))
		return 4;
	upt_hex_encode(hex, sig, sl);
	printf("%s\n", hex);
	upt_privkey_free(k);
	return 0;
}

static int parse_key_file(struct upt_key *k, struct upt_arena *a, const char *path, char *keyid_out)
{
	struct upt_json *v;
	struct upt_error err;
	size_t len;
	const char *text = slurp(path, &len);
	if (upt_json_parse(&v, a, (const uint8_t *)text, len, NULL, &err) ||
	    upt_key_compute_keyid(keyid_out, v, a, upt_openssl_crypto(), &err) ||
	    (k && upt_key_parse(k, a, keyid_out, v, upt_openssl_crypto(), &err))) {
		fprintf(stderr, "sig_tool: %s\n", err.msg);
		return 3;
	}
	return 0;
}

static int verify(const char *key_path, const char *msg_path, const char *hex)
{
	struct upt_arena a;
	struct upt_key k;
	char id[UPT_KEYID_MAX + 1];
	uint8_t sig[UPT_SIG_MAX];
	size_t sl, ml;
	int rc;
	upt_arena_init(&a, mem, sizeof mem);
	if ((rc = parse_key_file(&k, &a, key_path, id)) != 0)
		return rc;
	if (upt_hex_decode(sig, sizeof sig, &sl, hex, strlen(hex)))
		return 1;
	const char *msg = slurp(msg_path, &ml);
	return upt_key_verify(&k, upt_openssl_crypto(), (const uint8_t *)msg, ml, sig, sl) == UPT_OK
		   ? 0
		   : 1;
}

int main(int argc, char **argv)
{
	char id[UPT_KEYID_MAX + 1];
	struct upt_arena a;
	if (argc == 4 && strcmp(argv[1], "keygen") == 0)
		return keygen(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "sign") == 0)
		return sign(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "keyid") == 0) {
		upt_arena_init(&a, mem, sizeof mem);
		if (parse_key_file(NULL, &a, argv[2], id))
			return 3;
		printf("%s\n", id);
		return 0;
	}
	fprintf(stderr, "usage: sig_tool keygen|sign|verify|keyid ...\n");
	return 2;
}
