/* uptake key rotate: replace the offline root or targets keys of the
 * workspace's Image repository. The next root (version N+1) lists the new
 * keys and is signed by the current root keys and, for a root rotation, by
 * the new ones too, as the TUF root chain requires. The server checks the
 * chain before it stores the root; only then does the workspace replace
 * its keys (old ones go to keys/retired/). */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "reconcile.h"

static const char usage[] =
    "usage: uptake key rotate root|targets|online [--director] [--dir DIR]\n"
    "                         [--expires ISO8601|+DAYSd] [--passphrase-env VAR]\n\n"
    "root, targets: makes new offline keys for the role (as many root keys as the\n"
    "current root has, with the same threshold), writes root version N+1 listing\n"
    "them, signed by the current root keys (and, for root, the new ones), uploads\n"
    "it, and for targets re-signs the current targets with the new key as the next\n"
    "version. Old keys are kept in DIR/keys/retired/.\n"
    "online: asks the server for new online keys (snapshot, timestamp and, for the\n"
    "Director, targets) and writes root N+1 listing them; the server switches to\n"
    "them when it accepts that root.\n"
    "--director works on the Director's root (root and online only).\n"
    "Exit 0 ok, 2 usage, 3 refusal.\n";

#define MAX_ROOT WS_MAX_KEYS

struct keyset {
	struct upt_privkey *k[MAX_ROOT];
	size_t n;
};

static void keyset_free(struct keyset *s)
{
	for (size_t i = 0; i < s->n; i++)
		upt_privkey_free(s->k[i]);
	s->n = 0;
}

static int load_root_keys(struct keyset *s, const struct ws *w, const char *prefix,
			  const char *pass_env, struct upt_error *err)
{
	int rc = ws_load_keys(s->k, &s->n, w, prefix, pass_env, err);
	if (rc == UPT_OK && !s->n)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s/keys: no %s keys", w->dir, prefix);
	return rc;
}

static int save_key(struct upt_privkey *k, const char *path, const char *pass,
		    struct upt_error *err)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = upt_privkey_save_pem(&pem, &len, k, pass, err);
	if (rc == UPT_OK)
		rc = cli_write_file(path, pem, len, 0600, false, err);
	if (pem)
		upt_free_secret(pem, len);
	return rc;
}

/* Key objects that replace a role's key ids in the next root. */
struct repl {
	const char *role;
	size_t n;
	char ids[MAX_ROOT][UPT_KEYID_MAX + 1];
	char *objs[MAX_ROOT]; /* JSON text, upt_malloc'd */
};

static void repl_free(struct repl *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r[i].n; k++)
			upt_free(r[i].objs[k]);
}

static int repl_from_keys(struct repl *r, const char *role, struct keyset *ks, enum upt_dialect d,
			  struct upt_error *err)
{
	size_t len;
	int rc = UPT_OK;
	r->role = role;
	r->n = 0;
	for (size_t i = 0; rc == UPT_OK && i < ks->n; i++) {
		rc = upt_privkey_keyid(r->ids[i], ks->k[i], d, err);
		if (rc == UPT_OK)
			rc = upt_privkey_public_json(&r->objs[i], &len, ks->k[i], d, err);
		if (rc == UPT_OK)
			r->n++;
	}
	return rc;
}

static const struct repl *replaced(const struct repl *r, size_t n, const char *role, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(r[i].role) == len && memcmp(r[i].role, role, len) == 0)
			return &r[i];
	return NULL;
}

/* The next root: the current signed root with the replaced roles' key ids
 * swapped (same thresholds), unused key objects dropped, a new version and
 * expiry. */
int rotate_next_root(struct cli_buf *out, enum upt_dialect d, const struct upt_json *signed_root,
		     int64_t version, int64_t expires, const struct repl *rp, size_t n_rp,
		     struct upt_error *err)
{
	const struct upt_json *keys = upt_json_get(signed_root, "keys");
	const struct upt_json *roles = upt_json_get(signed_root, "roles");
	const struct upt_json *cs = upt_json_get(signed_root, "consistent_snapshot");
	char when[32];
	bool first = true;
	int rc = upt_time_format(when, sizeof when, expires);
	if (!keys || !roles || keys->type != UPT_JSON_OBJECT || roles->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING, "root.json: no keys or roles");
	if (rc == UPT_OK)
		rc = ws_header(out, d, "root", version, when);
	if (rc == UPT_OK)
		rc = cli_buf_printf(out, "%s,\"keys\":{",
				    d == UPT_DIALECT_TUF ? (cs && cs->type == UPT_JSON_TRUE
								? ",\"consistent_snapshot\":true"
								: ",\"consistent_snapshot\":false")
							 : "");
	/* key objects still used by a role that is not replaced */
	for (size_t i = 0; rc == UPT_OK && i < keys->n; i++) {
		bool used = false;
		for (size_t r = 0; r < roles->n; r++) {
			const struct upt_json *kids = upt_json_get(roles->items[r], "keyids");
			if (replaced(rp, n_rp, roles->items[r]->key, roles->items[r]->key_len))
				continue;
			for (size_t k = 0; kids && k < kids->n; k++)
				used |= kids->items[k]->len == keys->items[i]->key_len &&
					memcmp(kids->items[k]->str, keys->items[i]->key,
					       keys->items[i]->key_len) == 0;
		}
		if (!used)
			continue;
		rc = cli_buf_printf(out, "%s\"%.*s\":", first ? "" : ",",
				    (int)keys->items[i]->key_len, keys->items[i]->key);
		if (rc == UPT_OK)
			rc = cli_buf_put_json(out, keys->items[i], err);
		first = false;
	}
	/* the new ones (a key listed for several roles once) */
	for (size_t r = 0; rc == UPT_OK && r < n_rp; r++)
		for (size_t k = 0; rc == UPT_OK && k < rp[r].n; k++) {
			bool dup = false;
			for (size_t r2 = 0; r2 <= r; r2++)
				for (size_t k2 = 0; k2 < (r2 == r ? k : rp[r2].n); k2++)
					dup |= strcmp(rp[r2].ids[k2], rp[r].ids[k]) == 0;
			if (dup)
				continue;
			rc = cli_buf_printf(out, "%s\"%s\":%s", first ? "" : ",", rp[r].ids[k],
					    rp[r].objs[k]);
			first = false;
		}
	if (rc == UPT_OK)
		rc = cli_buf_printf(out, "},\"roles\":{");
	for (size_t r = 0; rc == UPT_OK && r < roles->n; r++) {
		const struct upt_json *ro = roles->items[r];
		const struct upt_json *th = upt_json_get(ro, "threshold");
		const struct upt_json *kids = upt_json_get(ro, "keyids");
		const struct repl *mine = replaced(rp, n_rp, ro->key, ro->key_len);
		if (!th || th->type != UPT_JSON_INT || !kids || kids->type != UPT_JSON_ARRAY) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "root.json: bad role");
			break;
		}
		rc = cli_buf_printf(out, "%s\"%.*s\":{\"keyids\":[", r ? "," : "", (int)ro->key_len,
				    ro->key);
		if (mine)
			for (size_t i = 0; rc == UPT_OK && i < mine->n; i++)
				rc = cli_buf_printf(out, "%s\"%s\"", i ? "," : "", mine->ids[i]);
		else
			for (size_t i = 0; rc == UPT_OK && i < kids->n; i++)
				rc = cli_buf_printf(out, "%s\"%.*s\"", i ? "," : "",
						    (int)kids->items[i]->len, kids->items[i]->str);
		if (rc == UPT_OK)
			rc = cli_buf_printf(out, "],\"threshold\":%lld}", (long long)th->i);
	}
	if (rc == UPT_OK)
		rc = cli_buf_printf(out, "}}");
	return rc;
}

/* The server's new online keys as replacements. */
static int repl_from_server(struct repl *rp, size_t *n, const char *json, struct upt_error *err)
{
	static const char *const roles[3] = {"snapshot", "timestamp", "targets"};
	struct cli_arena ca;
	struct upt_json *v;
	int rc;
	*n = 0;
	if (cli_arena_init(&ca, 1 << 20) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	for (int i = 0; rc == UPT_OK && i < 3; i++) {
		const struct upt_json *k = upt_json_get(v, roles[i]);
		struct upt_key key;
		size_t len = 0;
		if (!k)
			continue;
		rp[*n].role = roles[i];
		rp[*n].n = 0;
		rc = upt_key_compute_keyid(rp[*n].ids[0], k, &ca.a, upt_openssl_crypto(), err);
		if (rc == UPT_OK)
			rc =
			    upt_key_parse(&key, &ca.a, rp[*n].ids[0], k, upt_openssl_crypto(), err);
		if (rc == UPT_OK) {
			rc = upt_json_write(NULL, 0, &len, k, err);
			if (rc == UPT_ERR_NOMEM)
				rc = UPT_OK;
		}
		if (rc == UPT_OK && !(rp[*n].objs[0] = upt_malloc(len + 1)))
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		if (rc == UPT_OK) {
			rc = upt_json_write((uint8_t *)rp[*n].objs[0], len, &len, k, err);
			rp[*n].objs[0][len] = 0;
			rp[*n].n = 1;
			(*n)++;
		}
	}
	cli_arena_dispose(&ca);
	return rc;
}

int key_rotate(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"expires", required_argument, NULL, 'e'},
					      {"passphrase-env", required_argument, NULL, 'p'},
					      {"director", no_argument, NULL, 'D'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *pass_env = NULL, *role, *pass;
	const char *key_prefix = "root", *root_file = "root.json", *api = "repo";
	int64_t expires = (int64_t)time(NULL) + 365 * 86400;
	struct ws w;
	struct cli_arena ca = {0};
	struct upt_doc doc;
	struct upt_root cur;
	struct keyset old = {0}, fresh = {0}, signers = {0};
	struct repl rp[3];
	size_t n_rp = 0;
	struct cli_buf text, signed_root = {0};
	struct upt_error err = {0};
	char path[WS_PATH_MAX + 64], to[WS_PATH_MAX + 96], apipath[64];
	char *resp = NULL;
	bool director = false, is_root, is_online;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'p')
			pass_env = optarg;
		else if (c == 'D')
			director = true;
		else if (c == 'e') {
			if (cli_parse_time(&expires, optarg) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
		} else if (c == 'h')
			return fputs(usage, stdout), CLI_OK;
		else
			return fputs(usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1)
		return fputs(usage, stderr), CLI_USAGE;
	role = argv[optind];
	is_root = strcmp(role, "root") == 0;
	is_online = strcmp(role, "online") == 0;
	if ((!is_root && !is_online && strcmp(role, "targets") != 0) ||
	    (director && !is_root && !is_online))
		return fputs(usage, stderr), CLI_USAGE;
	if (director) {
		key_prefix = "director-root";
		root_file = "director-root.json";
		api = "director";
	}
	pass = pass_env ? getenv(pass_env) : NULL;
	cli_buf_init(&text, 1 << 20);
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	/* first the server's newer roots and keys (a lost reply), so that new
	 * keys a root on the server lists are never overwritten */
	if (rc == UPT_OK)
		rc = ws_reconcile(&w, "key rotate", pass_env, &err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	snprintf(path, sizeof path, "%s/metadata/%s", dir, root_file);
	if (rc == UPT_OK)
		rc = cli_load_doc(&doc, &ca, path, &err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&cur, &ca.a, &doc, upt_openssl_crypto(), &err);
	if (rc == UPT_OK)
		rc = load_root_keys(&old, &w, key_prefix, pass_env, &err);
	/* what replaces what */
	if (rc == UPT_OK && is_online) {
		snprintf(apipath, sizeof apipath, "%s/online-keys/rotate%s", api,
			 doc.dialect == UPT_DIALECT_AKTUALIZR ? "?dialect=aktualizr" : "");
		rc = ws_http(&w, "POST", apipath, NULL, NULL, 0, NULL, false, &resp, &err);
		if (rc == UPT_OK)
			rc = repl_from_server(rp, &n_rp, resp, &err);
		free(resp);
		resp = NULL;
	} else if (rc == UPT_OK) {
		fresh.n = is_root ? old.n : 1;
		for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++)
			rc = upt_privkey_generate(&fresh.k[i], upt_privkey_type(old.k[0]), &err);
		if (rc == UPT_OK)
			rc = repl_from_keys(&rp[0], role, &fresh, doc.dialect, &err);
		n_rp = rc == UPT_OK ? 1 : 0;
	}
	if (rc == UPT_OK && cur.c.version >= INT64_MAX - 1)
		rc = upt_error_set(&err, UPT_ERR_VERSION, "%s: version %lld has no successor",
				   root_file, (long long)cur.c.version);
	if (rc == UPT_OK)
		rc = rotate_next_root(&text, doc.dialect, doc.signed_json, cur.c.version + 1,
				      expires, rp, n_rp, &err);
	/* signed by the current root keys, and for root by the new ones */
	for (size_t i = 0; i < old.n; i++)
		signers.k[signers.n++] = old.k[i];
	for (size_t i = 0; is_root && i < fresh.n; i++)
		signers.k[signers.n++] = fresh.k[i];
	if (rc == UPT_OK)
		rc = ws_sign(&signed_root, text.p, signers.k, signers.n, doc.dialect, &err);
	/* the new keys are on disk before the server knows them */
	for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++) {
		snprintf(path, sizeof path, "%s/keys/new-%s-%zu.pem", dir, key_prefix, i + 1);
		rc = save_key(fresh.k[i], path, pass, &err);
	}
	snprintf(apipath, sizeof apipath, "%s/root", api);
	if (rc == UPT_OK)
		rc = ws_put_signed(&w, apipath, root_file, signed_root.p, signed_root.len, &err);
	/* refused: the new keys are of no use. No answer: the server may list
	 * them now; they stay for the next command to reconcile. */
	if (rc != UPT_OK && ws_pending(&w, root_file))
		cli_err("key rotate",
			"no answer from the server: the new keys stay in %s/keys/new-*; "
			"the next command reconciles with the server",
			dir);
	else if (rc != UPT_OK)
		for (size_t i = 0; i < fresh.n; i++) {
			snprintf(path, sizeof path, "%s/keys/new-%s-%zu.pem", dir, key_prefix,
				 i + 1);
			unlink(path);
		}
	/* accepted: retire the old keys, put the new ones in their place */
	snprintf(path, sizeof path, "%s/keys/retired", dir);
	if (rc == UPT_OK && fresh.n)
		rc = host_mkdirs(path, &err);
	for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++) {
		char cur_path[WS_PATH_MAX + 64], new_path[WS_PATH_MAX + 64];
		if (is_root) {
			snprintf(cur_path, sizeof cur_path, "%s/keys/%s-%zu.pem", dir, key_prefix,
				 i + 1);
			snprintf(to, sizeof to, "%s/keys/retired/%s-v%lld-%zu.pem", dir, key_prefix,
				 (long long)cur.c.version, i + 1);
		} else {
			snprintf(cur_path, sizeof cur_path, "%s/keys/targets.pem", dir);
			snprintf(to, sizeof to, "%s/keys/retired/targets-v%lld.pem", dir,
				 (long long)cur.c.version);
		}
		snprintf(new_path, sizeof new_path, "%s/keys/new-%s-%zu.pem", dir, key_prefix,
			 i + 1);
		if (rename(cur_path, to) != 0 || rename(new_path, cur_path) != 0)
			rc = upt_error_set(&err, UPT_ERR_IO,
					   "%s: cannot put the new key in place (it is in %s)",
					   cur_path, new_path);
	}
	/* targets: the current content, next version, signed by the new key */
	if (rc == UPT_OK && !is_root && !is_online) {
		int64_t tv = 0;
		rc = ws_resign_targets(&w, fresh.k[0], expires, &tv, &err);
	}
	repl_free(rp, n_rp);
	cli_buf_free(&text);
	cli_buf_free(&signed_root);
	keyset_free(&old);
	keyset_free(&fresh);
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		cli_err("key rotate", "%s", err.msg);
		return cli_exit_code(rc);
	}
	printf("%s%s keys rotated: %s version %lld\n", director ? "Director " : "", role, root_file,
	       (long long)cur.c.version + 1);
	return CLI_OK;
}
