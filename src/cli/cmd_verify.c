/* uptake verify: check a metadata file (and optionally target files)
 * against a trusted root, as a client would. */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/encode.h>

#include "cli.h"

static const char verify_help[] =
    "usage: uptake verify --root TRUSTED_ROOT.json [--role ROLE] [--at ISO8601|now]\n"
    "                     [--target-file NAME=FILE]... [--json] FILE\n\n"
    "The trusted root must be signed by its own root threshold. FILE must be signed by\n"
    "the threshold of its role's keys in the trusted root (a new root: by the trusted\n"
    "root's root threshold and by its own, with version = trusted + 1), parse as its\n"
    "role and not be expired at --at (default now). With --target-file (targets only),\n"
    "FILE's entry NAME must match the file's length and every listed hash.\n"
    "Prints 'FILE: OK: ...' or 'FILE: REJECTED: ...'; exit 0, 1 when rejected, 3 when\n"
    "the trusted root cannot be read or is not signed by its own threshold, or FILE\n"
    "cannot be read.\n";

#define MAX_TARGET_FILES 32

struct verify_opts {
	const char *root;
	int role; /* 0: any */
	int64_t at;
	bool json;
	const char *target_files[MAX_TARGET_FILES];
	size_t n_target_files;
};

union parsed {
	struct upt_root r;
	struct upt_targets t;
	struct upt_snapshot s;
	struct upt_timestamp ts;
};

static const struct upt_meta_common *parse_any(union parsed *u, struct cli_arena *ca,
					       const struct upt_doc *doc, struct upt_error *err)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	switch (doc->role) {
	case UPT_ROLE_ROOT:
		return upt_root_parse(&u->r, &ca->a, doc, c, err) ? NULL : &u->r.c;
	case UPT_ROLE_TARGETS:
		return upt_targets_parse(&u->t, &ca->a, doc, c, err) ? NULL : &u->t.c;
	case UPT_ROLE_SNAPSHOT:
		return upt_snapshot_parse(&u->s, &ca->a, doc, err) ? NULL : &u->s.c;
	case UPT_ROLE_TIMESTAMP:
		return upt_timestamp_parse(&u->ts, &ca->a, doc, err) ? NULL : &u->ts.c;
	}
	return NULL;
}

static int file_matches(const struct upt_target *t, const char *path, struct upt_error *err)
{
	EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c512 = EVP_MD_CTX_new();
	unsigned char buf[65536], d256[UPT_SHA256_LEN], d512[UPT_SHA512_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = UPT_OK;
	int64_t total = 0;
	ssize_t n = 0;
	if (fd < 0 || !c256 || !c512 || !EVP_DigestInit_ex(c256, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(c512, EVP_sha512(), NULL))
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot read", path);
	/* never read past the length the metadata allows (endless data) */
	while (rc == UPT_OK && total <= t->length && (n = read(fd, buf, sizeof buf)) > 0) {
		EVP_DigestUpdate(c256, buf, (size_t)n);
		EVP_DigestUpdate(c512, buf, (size_t)n);
		total += n;
	}
	if (rc == UPT_OK && n < 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: read failed", path);
	if (rc == UPT_OK) {
		EVP_DigestFinal_ex(c256, d256, NULL);
		EVP_DigestFinal_ex(c512, d512, NULL);
		if (total != t->length ||
		    (t->hashes.has_sha256 && !upt_ct_equal(d256, t->hashes.sha256, sizeof d256)) ||
		    (t->hashes.has_sha512 && !upt_ct_equal(d512, t->hashes.sha512, sizeof d512)))
			rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH,
					   "target %s: %s does not match its length and hashes",
					   t->name, path);
	}
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c256);
	EVP_MD_CTX_free(c512);
	return rc;
}

static int check_targets_files(const struct verify_opts *o, const struct upt_targets *t,
			       struct upt_error *err)
{
	for (size_t i = 0; i < o->n_target_files; i++) {
		char name[1024];
		const char *eq = strchr(o->target_files[i], '=');
		const struct upt_target *tg;
		int rc;
		if (!eq || (size_t)(eq - o->target_files[i]) >= sizeof name)
			return upt_error_set(err, UPT_ERR_ARG, "--target-file: expected NAME=FILE");
		memcpy(name, o->target_files[i], (size_t)(eq - o->target_files[i]));
		name[eq - o->target_files[i]] = 0;
		if (!(tg = upt_targets_find(t, name)))
			return upt_error_set(err, UPT_ERR_NOT_FOUND,
					     "target %s: not in the metadata", name);
		if ((rc = file_matches(tg, eq + 1, err)) != UPT_OK)
			return rc;
	}
	return UPT_OK;
}

/* A new root: signed by the trusted root's root threshold and its own,
 * version exactly trusted + 1 (or the very same document). */
static int check_root(const struct upt_root *trusted, const struct upt_doc *trusted_doc,
		      const struct upt_doc *doc, struct cli_arena *ca, struct upt_error *err)
{
	struct upt_root next;
	int rc = upt_doc_verify(doc, trusted->keys, trusted->n_keys, &trusted->roles[0],
				upt_openssl_crypto(), NULL, err);
	rc = rc ? rc : upt_root_verify_self(&next, &ca->a, doc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && next.c.version != trusted->c.version + 1 &&
	    !(doc->canonical_len == trusted_doc->canonical_len &&
	      memcmp(doc->canonical, trusted_doc->canonical, doc->canonical_len) == 0))
		rc = upt_error_set(err,
				   next.c.version <= trusted->c.version ? UPT_ERR_ROLLBACK
									: UPT_ERR_FIELD_VALUE,
				   "%s: version %lld, trusted root is version %lld", doc->name,
				   (long long)next.c.version, (long long)trusted->c.version);
	return rc;
}

static void report(const struct verify_opts *o, const char *file, int rc,
		   const struct upt_error *err, const struct upt_doc *doc,
		   const struct upt_meta_common *c)
{
	char exp[32] = "";
	if (c && upt_time_format(exp, sizeof exp, c->expires) != UPT_OK)
		exp[0] = 0;
	if (o->json) {
		struct cli_buf b;
		cli_buf_init(&b, 1 << 16);
		if (!cli_buf_printf(&b, "{\"file\":") && !cli_buf_json_str(&b, file) &&
		    !cli_buf_printf(&b,
				    ",\"ok\":%s,\"role\":\"%s\",\"version\":%lld,\"error\":\"%s\","
				    "\"message\":",
				    rc ? "false" : "true",
				    upt_role_name(doc ? doc->role : (enum upt_role)0),
				    (long long)(c ? c->version : 0), rc ? upt_err_name(rc) : "") &&
		    !cli_buf_json_str(&b, rc ? err->msg : ""))
			printf("%s}\n", b.p);
		cli_buf_free(&b);
	} else if (rc == UPT_OK) {
		printf("%s: OK: %s version %lld, expires %s\n", file, upt_role_name(doc->role),
		       (long long)c->version, exp);
	} else {
		printf("%s: REJECTED: %s: %s\n", file, upt_err_name(rc), err->msg);
	}
}

static int verify_file(const struct verify_opts *o, const char *file)
{
	struct cli_arena ca;
	struct upt_doc tdoc, doc;
	struct upt_root trusted;
	union parsed u;
	const struct upt_meta_common *c = NULL;
	struct upt_error err;
	int rc;
	upt_error_clear(&err);
	if (cli_arena_init(&ca, CLI_ARENA_SIZE) != UPT_OK)
		return CLI_INTERNAL;
	rc = cli_load_doc(&tdoc, &ca, o->root, &err);
	rc = rc ? rc : upt_root_verify_self(&trusted, &ca.a, &tdoc, upt_openssl_crypto(), &err);
	if (rc != UPT_OK) {
		cli_err("verify", "trusted root %s: %s", o->root, err.msg);
		cli_arena_dispose(&ca);
		return CLI_INPUT;
	}
	rc = cli_load_doc(&doc, &ca, file, &err);
	if (rc == UPT_ERR_IO || rc == UPT_ERR_TOO_LARGE) {
		cli_err("verify", "%s", err.msg);
		cli_arena_dispose(&ca);
		return CLI_INPUT;
	}
	if (rc == UPT_OK && o->role && (int)doc.role != o->role)
		rc = upt_error_set(&err, UPT_ERR_ROLE_TYPE, "%s: is %s metadata, not %s", file,
				   upt_role_name(doc.role), upt_role_name((enum upt_role)o->role));
	if (rc == UPT_OK)
		rc = doc.role == UPT_ROLE_ROOT ? check_root(&trusted, &tdoc, &doc, &ca, &err)
					       : upt_doc_verify(&doc, trusted.keys, trusted.n_keys,
								&trusted.roles[doc.role - 1],
								upt_openssl_crypto(), NULL, &err);
	if (rc == UPT_OK && !(c = parse_any(&u, &ca, &doc, &err)))
		rc = err.code ? err.code : UPT_ERR_FIELD_VALUE;
	if (rc == UPT_OK && c->expires <= o->at)
		rc = upt_error_set(&err, UPT_ERR_EXPIRED, "%s: expired", file);
	if (rc == UPT_OK && o->n_target_files)
		rc = doc.role != UPT_ROLE_TARGETS
			 ? upt_error_set(&err, UPT_ERR_ARG, "--target-file needs targets metadata")
			 : check_targets_files(o, &u.t, &err);
	report(o, file, rc, &err, rc == UPT_OK || doc.json ? &doc : NULL, c);
	cli_arena_dispose(&ca);
	return rc == UPT_OK ? CLI_OK : rc == UPT_ERR_IO ? CLI_INPUT : CLI_REJECTED;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
					     {"role", required_argument, NULL, 'R'},
					     {"at", required_argument, NULL, 'a'},
					     {"json", no_argument, NULL, 'j'},
					     {"target-file", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static const char *const roles[] = {"root", "targets", "snapshot", "timestamp"};
	static struct verify_opts o;
	int c;
	o.at = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "r:R:a:jt:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(verify_help, stdout);
			return CLI_OK;
		}
		if (c == 'r') {
			o.root = optarg;
		} else if (c == 'R') {
			for (int i = 0; i < 4; i++)
				if (strcmp(optarg, roles[i]) == 0)
					o.role = i + 1;
			if (!o.role)
				goto usage;
		} else if (c == 'a') {
			if (cli_parse_time(&o.at, optarg) != UPT_OK)
				goto usage;
		} else if (c == 'j') {
			o.json = true;
		} else if (c == 't' && o.n_target_files < MAX_TARGET_FILES) {
			o.target_files[o.n_target_files++] = optarg;
		} else {
			goto usage;
		}
	}
	if (!o.root || argc - optind != 1)
		goto usage;
	return verify_file(&o, argv[optind]);
usage:
	fputs(verify_help, stderr);
	return CLI_USAGE;
}
