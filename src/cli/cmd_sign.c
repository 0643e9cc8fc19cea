/* uptake sign: sign metadata offline, one holder after another (threshold
 * signing), or merge the signatures of several signed copies. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>

#include "cli.h"

static const char sign_help[] =
    "usage: uptake sign --key PRIVATE.pem [--key ...] [--passphrase-env VAR]\n"
    "                   [--dialect tuf|aktualizr] [--out OUT] IN\n"
    "       uptake sign --merge [--out OUT] SIGNED.json SIGNED.json...\n\n"
    "IN is a bare `signed` object (from `uptake metadata`) or a signed document whose\n"
    "signatures are kept: a new signature by the same key replaces the old one. Each\n"
    "new signature is verified before anything is written. --merge combines the\n"
    "signatures of copies whose signed content is byte-for-byte the same. The dialect\n"
    "defaults to the document's own (capitalised _type: aktualizr).\n";

#define MAX_KEYS 32

struct sign_opts {
	const char *keys[MAX_KEYS];
	size_t n_keys;
	const char *pass_env;
	const char *out;
	bool dialect_set;
	enum upt_dialect dialect;
	bool merge;
};

struct signer_set {
	struct upt_privkey *priv[MAX_KEYS];
	char ids[MAX_KEYS][UPT_KEYID_MAX + 1];
	struct upt_signer signers[MAX_KEYS];
	size_t n;
};

static void signers_free(struct signer_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		upt_privkey_free(s->priv[i]);
	s->n = 0;
}

static int signers_load(struct signer_set *s, const struct sign_opts *o, enum upt_dialect d,
			struct upt_error *err)
{
	for (size_t i = 0; i < o->n_keys; i++) {
		int rc = cli_load_privkey(&s->priv[i], o->keys[i], o->pass_env, err);
		if (rc == UPT_OK)
			rc = upt_privkey_keyid(s->ids[i], s->priv[i], d, err);
		if (rc != UPT_OK)
			return rc;
		upt_privkey_signer(&s->signers[i], s->priv[i], s->ids[i]);
		s->n = i + 1;
	}
	return UPT_OK;
}

#define MAX_SIGS 256

/* Key ids already written, so that each key signs once. */
struct seen {
	const char *ids[MAX_SIGS];
	size_t n;
};

static bool seen_has(const struct seen *s, const struct upt_json *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (upt_json_is_str(id, s->ids[i]))
			return true;
	return false;
}

/* Append the signature objects of `doc` by keys not written yet. */
static int put_sigs(struct cli_buf *b, const struct upt_json *doc, struct seen *seen,
		    struct upt_error *err)
{
	const struct upt_json *sigs = upt_json_get(doc, "signatures");
	for (size_t i = 0; sigs && i < sigs->n; i++) {
		const struct upt_json *id = upt_json_get(sigs->items[i], "keyid");
		size_t len = 0;
		char tmp[4096];
		if (!id || id->type != UPT_JSON_STRING || seen_has(seen, id))
			continue;
		if (seen->n == MAX_SIGS)
			return upt_error_set(err, UPT_ERR_TOO_LARGE, "too many signatures");
		if (upt_json_write((uint8_t *)tmp, sizeof tmp, &len, sigs->items[i], err) != UPT_OK)
			return UPT_ERR_TOO_LARGE;
		if (cli_buf_put(b, ",", seen->n ? 1 : 0) || cli_buf_put(b, tmp, len))
			return UPT_ERR_TOO_LARGE;
		seen->ids[seen->n++] = id->str;
	}
	return UPT_OK;
}

/* Each new signature must verify over the signed bytes before we write. */
static int check_new_sigs(struct cli_arena *ca, const struct cli_buf *b, struct signer_set *s,
			  struct upt_error *err)
{
	struct upt_doc doc;
	int rc = upt_doc_parse(&doc, &ca->a, (const uint8_t *)b->p, b->len, 0, "output", err);
	for (size_t k = 0; rc == UPT_OK && k < s->n; k++) {
		char *pub = NULL;
		size_t len = 0;
		struct upt_json *v;
		struct upt_key key;
		bool ok = false;
		rc = upt_privkey_public_json(&pub, &len, s->priv[k], UPT_DIALECT_TUF, err);
		rc = rc ? rc : upt_json_parse(&v, &ca->a, (const uint8_t *)pub, len, NULL, err);
		rc = rc ? rc : upt_key_parse(&key, &ca->a, s->ids[k], v, upt_openssl_crypto(), err);
		for (size_t i = 0; rc == UPT_OK && i < doc.n_sigs; i++)
			ok |= doc.sigs[i].sig && strcmp(doc.sigs[i].keyid, s->ids[k]) == 0 &&
			      upt_key_verify(&key, upt_openssl_crypto(), doc.canonical,
					     doc.canonical_len, doc.sigs[i].sig,
					     doc.sigs[i].sig_len) == UPT_OK;
		upt_free(pub);
		if (rc == UPT_OK && !ok)
			rc = upt_error_set(err, UPT_ERR_CRYPTO,
					   "new signature by %s does not verify", s->ids[k]);
	}
	return rc;
}

/* {"signatures":[old..., new...],"signed":...} */
static int assemble(struct cli_buf *b, const struct upt_json *old_doc,
		    const struct upt_json *signed_json, struct signer_set *s, enum upt_dialect d,
		    struct cli_arena *ca, struct upt_error *err)
{
	struct upt_json *fresh;
	size_t cap = CLI_MAX_FILE, len = 0;
	char *tmp = upt_malloc(cap);
	struct seen seen = {{0}, 0};
	int rc = tmp ? UPT_OK : UPT_ERR_NOMEM;
	rc = rc ? rc
		: upt_doc_sign((uint8_t *)tmp, cap, &len, signed_json, s->signers, s->n, d, &ca->a,
			       err);
	rc = rc ? rc : upt_json_parse(&fresh, &ca->a, (const uint8_t *)tmp, len, NULL, err);
	rc = rc ? rc : cli_buf_printf(b, "{\"signatures\":[");
	/* new signatures first: an old one by the same key is replaced */
	rc = rc ? rc : put_sigs(b, fresh, &seen, err);
	if (rc == UPT_OK && old_doc)
		rc = put_sigs(b, old_doc, &seen, err);
	if (rc == UPT_OK && upt_json_write((uint8_t *)tmp, cap, &len, signed_json, err) != UPT_OK)
		rc = UPT_ERR_TOO_LARGE;
	rc = rc ? rc : cli_buf_printf(b, "],\"signed\":");
	rc = rc ? rc : cli_buf_put(b, tmp, len);
	rc = rc ? rc : cli_buf_put(b, "}\n", 2);
	upt_free(tmp);
	return rc;
}

static bool is_envelope(const struct upt_json *v)
{
	return v->type == UPT_JSON_OBJECT && v->n == 2 && upt_json_get(v, "signatures") &&
	       upt_json_get(v, "signed");
}

static int sign_file(const struct sign_opts *o, const char *in, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *signed_json, *type;
	struct signer_set s = {0};
	struct cli_buf b;
	enum upt_dialect d;
	int rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	cli_buf_init(&b, CLI_MAX_FILE);
	rc = rc ? rc : cli_load_json(&v, &ca, in, err);
	if (rc == UPT_OK) {
		signed_json = is_envelope(v) ? upt_json_get(v, "signed") : v;
		type = upt_json_get(signed_json, "_type");
		d = o->dialect_set ? o->dialect
		    : type && type->type == UPT_JSON_STRING && type->len && type->str[0] >= 'A' &&
			    type->str[0] <= 'Z'
			? UPT_DIALECT_AKTUALIZR
			: UPT_DIALECT_TUF;
		rc = signers_load(&s, o, d, err);
	}
	rc = rc ? rc : assemble(&b, is_envelope(v) ? v : NULL, signed_json, &s, d, &ca, err);
	rc = rc ? rc : check_new_sigs(&ca, &b, &s, err);
	rc = rc ? rc : cli_write_file(o->out ? o->out : "-", b.p, b.len, 0644, false, err);
	signers_free(&s);
	cli_buf_free(&b);
	cli_arena_dispose(&ca);
	return rc;
}

static int merge_files(const struct sign_opts *o, int n, char **files, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_doc first_doc, doc;
	struct cli_buf b;
	static struct seen seen;
	int rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	cli_buf_init(&b, CLI_MAX_FILE);
	rc = rc ? rc : cli_load_doc(&first_doc, &ca, files[0], err);
	rc = rc ? rc : cli_buf_printf(&b, "{\"signatures\":[");
	for (int i = 0; rc == UPT_OK && i < n; i++) {
		rc = i ? cli_load_doc(&doc, &ca, files[i], err) : UPT_OK;
		if (rc == UPT_OK && i &&
		    (doc.canonical_len != first_doc.canonical_len ||
		     memcmp(doc.canonical, first_doc.canonical, doc.canonical_len)))
			rc =
			    upt_error_set(err, UPT_ERR_FIELD_VALUE,
					  "%s: signed content differs from %s", files[i], files[0]);
		rc = rc ? rc : put_sigs(&b, (i ? doc : first_doc).json, &seen, err);
	}
	rc = rc ? rc : cli_buf_printf(&b, "],\"signed\":");
	if (rc == UPT_OK) {
		char *tmp = upt_malloc(CLI_MAX_FILE);
		size_t len = 0;
		rc = tmp ? upt_json_write((uint8_t *)tmp, CLI_MAX_FILE, &len, first_doc.signed_json,
					  err)
			 : UPT_ERR_NOMEM;
		rc = rc ? rc : cli_buf_put(&b, tmp, len);
		rc = rc ? rc : cli_buf_put(&b, "}\n", 2);
		upt_free(tmp);
	}
	rc = rc ? rc : cli_write_file(o->out ? o->out : "-", b.p, b.len, 0644, false, err);
	cli_buf_free(&b);
	cli_arena_dispose(&ca);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {"passphrase-env", required_argument, NULL, 'p'},
					     {"out", required_argument, NULL, 'o'},
					     {"dialect", required_argument, NULL, 'd'},
					     {"merge", no_argument, NULL, 'm'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static struct sign_opts o;
	struct upt_error err;
	int c, rc;
	upt_error_clear(&err);
	while ((c = getopt_long(argc, argv, "k:p:o:d:mh", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(sign_help, stdout);
			return CLI_OK;
		}
		if (c == 'k' && o.n_keys < MAX_KEYS)
			o.keys[o.n_keys++] = optarg;
		else if (c == 'p')
			o.pass_env = optarg;
		else if (c == 'o')
			o.out = optarg;
		else if (c == 'm')
			o.merge = true;
		else if (c == 'd' && cli_parse_dialect(&o.dialect, optarg) == UPT_OK)
			o.dialect_set = true;
		else
			goto usage;
	}
	if (o.merge ? (o.n_keys || argc - optind < 2) : (!o.n_keys || argc - optind != 1))
		goto usage;
	rc = o.merge ? merge_files(&o, argc - optind, argv + optind, &err)
		     : sign_file(&o, argv[optind], &err);
	if (rc != UPT_OK) {
		cli_err("sign", "%s", err.msg[0] ? err.msg : upt_err_name(rc));
		return rc == UPT_ERR_IO || rc == UPT_ERR_PASSPHRASE  ? CLI_INPUT
		       : rc == UPT_ERR_CRYPTO || rc == UPT_ERR_NOMEM ? CLI_INTERNAL
								     : CLI_INPUT;
	}
	return CLI_OK;
usage:
	fputs(sign_help, stderr);
	return CLI_USAGE;
}
