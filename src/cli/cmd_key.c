/* uptake key: generate a key pair; print a public key's TUF key id. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>

#include "cli.h"

static const char key_help[] =
    "usage: uptake key generate [--type ed25519|ecdsa|rsa] --out PREFIX\n"
    "                           [--passphrase-env VAR] [--dialect tuf|aktualizr] [--json]\n"
    "       uptake key id PUBLIC_KEY.json\n"
    "       uptake key rotate root|targets|online [--director] [--dir DIR] (see --help)\n\n"
    "generate writes PREFIX.pem (PKCS#8 private key, mode 0600, encrypted with the\n"
    "passphrase in environment variable VAR when set) and PREFIX.pub.json (the public\n"
    "key object), and prints the key id. Existing files are never overwritten.\n";

static int parse_type(enum upt_key_type *t, const char *s)
{
	if (strcmp(s, "ed25519") == 0)
		*t = UPT_KEY_ED25519;
	else if (strcmp(s, "ecdsa") == 0)
		*t = UPT_KEY_ECDSA_P256;
	else if (strcmp(s, "rsa") == 0)
		*t = UPT_KEY_RSA;
	else
		return UPT_ERR_ARG;
	return UPT_OK;
}

struct gen_opts {
	enum upt_key_type type;
	enum upt_dialect dialect;
	const char *prefix;
	const char *pass_env;
	bool json;
};

static int write_pair(const struct gen_opts *o, struct upt_privkey *k, struct upt_error *err)
{
	char path[4096], pub_path[4096], id[UPT_KEYID_MAX + 1];
	const char *pass = o->pass_env ? getenv(o->pass_env) : NULL;
	char *pem = NULL, *pub = NULL;
	size_t pem_len = 0, pub_len = 0;
	int rc;
	if ((size_t)snprintf(path, sizeof path, "%s.pem", o->prefix) >= sizeof path ||
	    (size_t)snprintf(pub_path, sizeof pub_path, "%s.pub.json", o->prefix) >=
		sizeof pub_path)
		return upt_error_set(err, UPT_ERR_ARG, "--out: path too long");
	rc = upt_privkey_save_pem(&pem, &pem_len, k, pass && *pass ? pass : NULL, err);
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&pub, &pub_len, k, o->dialect, err);
	if (rc == UPT_OK)
		rc = upt_privkey_keyid(id, k, o->dialect, err);
	if (rc == UPT_OK && access(pub_path, F_OK) == 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: exists; not overwritten", pub_path);
	if (rc == UPT_OK)
		rc = cli_write_file(path, pem, pem_len, 0600, true, err);
	if (rc == UPT_OK &&
	    (rc = cli_write_file(pub_path, pub, pub_len, 0644, true, err)) != UPT_OK)
		unlink(path);
	if (rc == UPT_OK && o->json)
		printf(
		    "{\"keyid\":\"%s\",\"keytype\":\"%s\",\"private\":\"%s\",\"public\":\"%s\"}\n",
		    id, upt_key_type_name(o->type), path, pub_path);
	else if (rc == UPT_OK)
		printf("%s\n", id);
	if (pem)
		upt_free_secret(pem, pem_len);
	upt_free(pub);
	return rc;
}

static int key_generate(int argc, char **argv)
{
	static const struct option opts[] = {{"type", required_argument, NULL, 't'},
					     {"out", required_argument, NULL, 'o'},
					     {"passphrase-env", required_argument, NULL, 'p'},
					     {"dialect", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct gen_opts o = {UPT_KEY_ED25519, UPT_DIALECT_TUF, NULL, NULL, false};
	struct upt_privkey *k = NULL;
	struct upt_error err;
	int c, rc;
	while ((c = getopt_long(argc, argv, "t:o:p:d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_type(&o.type, optarg) != UPT_OK)
				goto usage;
			break;
		case 'd':
			if (cli_parse_dialect(&o.dialect, optarg) != UPT_OK)
				goto usage;
			break;
		case 'o':
			o.prefix = optarg;
			break;
		case 'p':
			o.pass_env = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			fputs(key_help, stdout);
			return CLI_OK;
		default:
			goto usage;
		}
	}
	if (!o.prefix || optind != argc)
		goto usage;
	rc = upt_privkey_generate(&k, o.type, &err);
	if (rc == UPT_OK)
		rc = write_pair(&o, k, &err);
	upt_privkey_free(k);
	if (rc != UPT_OK) {
		cli_err("key generate", "%s", err.msg);
		return rc == UPT_ERR_IO ? CLI_INPUT : cli_exit_code(rc);
	}
	return CLI_OK;
usage:
	fputs(key_help, stderr);
	return CLI_USAGE;
}

static int key_id(int argc, char **argv)
{
	struct cli_arena ca;
	struct upt_json *v;
	struct upt_key key;
	struct upt_error err;
	char id[UPT_KEYID_MAX + 1];
	int rc;
	if (argc != 2 || argv[1][0] == '-') {
		fputs(key_help, argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
	}
	if (cli_arena_init(&ca, 1 << 20) != UPT_OK)
		return CLI_INTERNAL;
	rc = cli_load_json(&v, &ca, argv[1], &err);
	if (rc == UPT_OK)
		rc = upt_key_compute_keyid(id, v, &ca.a, upt_openssl_crypto(), &err);
	if (rc == UPT_OK)
		rc = upt_key_parse(&key, &ca.a, id, v, upt_openssl_crypto(), &err);
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		cli_err("key id", "%s: %s", argv[1], err.msg);
		return CLI_INPUT;
	}
	printf("%s\n", id);
	return CLI_OK;
}

int cmd_key(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "generate") == 0)
		return key_generate(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "id") == 0)
		return key_id(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return key_rotate(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(key_help, stdout);
		return CLI_OK;
	}
	fputs(key_help, stderr);
	return CLI_USAGE;
}
