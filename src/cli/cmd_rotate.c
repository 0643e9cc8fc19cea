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
#include "workspace.h"

static const char usage[] =
    "usage: uptake key rotate root|targets [--dir DIR] [--expires ISO8601|+DAYSd]\n"
    "                         [--passphrase-env VAR]\n\n"
    "Makes new offline keys for the role (as many root keys as the current root\n"
    "has, with the same threshold), writes root version N+1 listing them, signed\n"
    "by the current root keys (and, for root, the new ones), uploads it, and for\n"
    "targets re-signs the current targets with the new key as the next version.\n"
    "Old keys are kept in DIR/keys/retired/. Exit 0 ok, 2 usage, 3 refusal.\n";

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

static int load_root_keys(struct keyset *s, const char *dir, const char *pass_env,
			  struct upt_error *err)
{
	char path[WS_PATH_MAX + 64];
	s->n = 0;
	for (size_t i = 1; i <= MAX_ROOT; i++) {
		snprintf(path, sizeof path, "%s/keys/root-%zu.pem", dir, i);
		if (access(path, F_OK) != 0)
			break;
		if (cli_load_privkey(&s->k[s->n], path, pass_env, err) != UPT_OK)
			return err->code;
		s->n++;
	}
	return s->n ? UPT_OK : upt_error_set(err, UPT_ERR_NOT_FOUND, "%s/keys: no root keys", dir);
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

/* The next root: the current signed root with `role`'s key ids replaced by
 * those of `fresh` (same threshold), new version and expiry. */
static int next_root(struct cli_buf *out, const struct upt_json *signed_root, int64_t version,
		     int64_t expires, const char *role, struct keyset *fresh, struct upt_error *err)
{
	const struct upt_json *keys = upt_json_get(signed_root, "keys");
	const struct upt_json *roles = upt_json_get(signed_root, "roles");
	char ids[MAX_ROOT][UPT_KEYID_MAX + 1], when[32];
	struct cli_buf kb;
	int rc = upt_time_format(when, sizeof when, expires);
	if (!keys || !roles)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING, "root.json: no keys or roles");
	cli_buf_init(&kb, 1 << 20);
	for (size_t i = 0; rc == UPT_OK && i < fresh->n; i++) {
		rc = cli_buf_printf(&kb, ",");
		if (rc == UPT_OK)
			rc = ws_key_object(&kb, fresh->k[i], ids[i], err);
	}
	if (rc == UPT_OK)
		rc = cli_buf_printf(
		    out,
		    "{\"_type\":\"root\",\"spec_version\":\"1.0.31\",\"version\":%lld,"
		    "\"expires\":\"%s\",\"consistent_snapshot\":true,\"keys\":{",
		    (long long)version, when);
	/* keep the key objects still used by another role */
	for (size_t i = 0; rc == UPT_OK && i < keys->n; i++) {
		bool used = false;
		for (size_t r = 0; r < roles->n; r++) {
			const struct upt_json *kids = upt_json_get(roles->items[r], "keyids");
			if (roles->items[r]->key_len == strlen(role) &&
			    memcmp(roles->items[r]->key, role, strlen(role)) == 0)
				continue;
			for (size_t k = 0; kids && k < kids->n; k++)
				used |= kids->items[k]->len == keys->items[i]->key_len &&
					memcmp(kids->items[k]->str, keys->items[i]->key,
					       keys->items[i]->key_len) == 0;
		}
		if (!used)
			continue;
		{
			size_t len = 0;
			char *tmp;
			rc = upt_json_write(NULL, 0, &len, keys->items[i], err);
			if (rc == UPT_ERR_NOMEM)
				rc = UPT_OK;
			if (rc == UPT_OK && !(tmp = upt_malloc(len + 1)))
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			if (rc == UPT_OK) {
				rc = upt_json_write((uint8_t *)tmp, len, &len, keys->items[i], err);
				if (rc == UPT_OK)
					rc = cli_buf_printf(out, "%s\"%.*s\":%.*s",
							    out->p[out->len - 1] == '{' ? "" : ",",
							    (int)keys->items[i]->key_len,
							    keys->items[i]->key, (int)len, tmp);
				upt_free(tmp);
			}
		}
	}
	if (rc == UPT_OK)
		rc = cli_buf_printf(out, "%s%s},\"roles\":{",
				    out->p[out->len - 1] == '{' ? "" : ",", kb.p + 1);
	for (size_t r = 0; rc == UPT_OK && r < roles->n; r++) {
		const struct upt_json *ro = roles->items[r];
		const struct upt_json *th = upt_json_get(ro, "threshold");
		const struct upt_json *kids = upt_json_get(ro, "keyids");
		bool mine = ro->key_len == strlen(role) && memcmp(ro->key, role, ro->key_len) == 0;
		if (!th || th->type != UPT_JSON_INT || !kids) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "root.json: bad role");
			break;
		}
		rc = cli_buf_printf(out, "%s\"%.*s\":{\"keyids\":[", r ? "," : "", (int)ro->key_len,
				    ro->key);
		if (mine)
			for (size_t i = 0; rc == UPT_OK && i < fresh->n; i++)
				rc = cli_buf_printf(out, "%s\"%s\"", i ? "," : "", ids[i]);
		else
			for (size_t i = 0; rc == UPT_OK && i < kids->n; i++)
				rc = cli_buf_printf(out, "%s\"%.*s\"", i ? "," : "",
						    (int)kids->items[i]->len, kids->items[i]->str);
		if (rc == UPT_OK)
			rc = cli_buf_printf(out, "],\"threshold\":%lld}", (long long)th->i);
	}
	if (rc == UPT_OK)
		rc = cli_buf_printf(out, "}}");
	cli_buf_free(&kb);
	return rc;
}

int key_rotate(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"expires", required_argument, NULL, 'e'},
					      {"passphrase-env", required_argument, NULL, 'p'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *pass_env = NULL, *role;
	int64_t expires = (int64_t)time(NULL) + 365 * 86400;
	struct ws w;
	struct cli_arena ca = {0};
	struct upt_doc doc;
	struct upt_root cur;
	struct keyset old = {0}, fresh = {0}, signers = {0};
	struct cli_buf text, signed_root = {0}, tt, signed_targets = {0};
	struct upt_error err = {0};
	char path[WS_PATH_MAX + 64], to[WS_PATH_MAX + 96];
	const char *pass;
	char *resp = NULL;
	bool is_root;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'p')
			pass_env = optarg;
		else if (c == 'e') {
			if (cli_parse_time(&expires, optarg) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
		} else if (c == 'h')
			return fputs(usage, stdout), CLI_OK;
		else
			return fputs(usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1 ||
	    (strcmp(argv[optind], "root") != 0 && strcmp(argv[optind], "targets") != 0))
		return fputs(usage, stderr), CLI_USAGE;
	role = argv[optind];
	is_root = strcmp(role, "root") == 0;
	pass = pass_env ? getenv(pass_env) : NULL;
	cli_buf_init(&text, 1 << 20);
	cli_buf_init(&tt, CLI_MAX_FILE);
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	snprintf(path, sizeof path, "%s/metadata/root.json", dir);
	if (rc == UPT_OK)
		rc = cli_load_doc(&doc, &ca, path, &err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&cur, &ca.a, &doc, upt_openssl_crypto(), &err);
	if (rc == UPT_OK)
		rc = load_root_keys(&old, dir, pass_env, &err);
	fresh.n = is_root ? old.n : 1;
	for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++)
		rc = upt_privkey_generate(&fresh.k[i], upt_privkey_type(old.k[0]), &err);
	if (rc == UPT_OK)
		rc = next_root(&text, doc.signed_json, cur.c.version + 1, expires, role, &fresh,
			       &err);
	/* signed by the current root keys, and for root by the new ones */
	for (size_t i = 0; i < old.n; i++)
		signers.k[signers.n++] = old.k[i];
	for (size_t i = 0; is_root && i < fresh.n; i++)
		signers.k[signers.n++] = fresh.k[i];
	if (rc == UPT_OK)
		rc = ws_sign(&signed_root, text.p, signers.k, signers.n, &err);
	/* the new keys are on disk before the server knows them */
	for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++) {
		snprintf(path, sizeof path, "%s/keys/new-%s-%zu.pem", dir, role, i + 1);
		rc = save_key(fresh.k[i], path, pass, &err);
	}
	if (rc == UPT_OK)
		rc = ws_http(&w, "PUT", "repo/root", "application/json", signed_root.p,
			     signed_root.len, NULL, false, &resp, &err);
	free(resp);
	resp = NULL;
	if (rc != UPT_OK)
		for (size_t i = 0; i < fresh.n; i++) {
			snprintf(path, sizeof path, "%s/keys/new-%s-%zu.pem", dir, role, i + 1);
			unlink(path);
		}
	/* accepted: retire the old keys, put the new ones in their place */
	snprintf(path, sizeof path, "%s/keys/retired", dir);
	if (rc == UPT_OK)
		rc = host_mkdirs(path, &err);
	for (size_t i = 0; rc == UPT_OK && i < fresh.n; i++) {
		char cur_path[WS_PATH_MAX + 64], new_path[WS_PATH_MAX + 64];
		if (is_root) {
			snprintf(cur_path, sizeof cur_path, "%s/keys/root-%zu.pem", dir, i + 1);
			snprintf(to, sizeof to, "%s/keys/retired/root-v%lld-%zu.pem", dir,
				 (long long)cur.c.version, i + 1);
		} else {
			snprintf(cur_path, sizeof cur_path, "%s/keys/targets.pem", dir);
			snprintf(to, sizeof to, "%s/keys/retired/targets-v%lld.pem", dir,
				 (long long)cur.c.version);
		}
		snprintf(new_path, sizeof new_path, "%s/keys/new-%s-%zu.pem", dir, role, i + 1);
		if (rename(cur_path, to) != 0 || rename(new_path, cur_path) != 0)
			rc = upt_error_set(&err, UPT_ERR_IO,
					   "%s: cannot put the new key in place "
					   "(it is in %s)",
					   cur_path, new_path);
	}
	snprintf(path, sizeof path, "%s/metadata/root.json", dir);
	if (rc == UPT_OK)
		rc = cli_write_file(path, signed_root.p, signed_root.len, 0644, false, &err);
	/* targets: the current content, next version, signed by the new key */
	if (rc == UPT_OK && !is_root) {
		struct upt_doc td;
		struct upt_targets t;
		const struct upt_json *tg, *dl;
		char when[32];
		snprintf(path, sizeof path, "%s/metadata/targets.json", dir);
		rc = cli_load_doc(&td, &ca, path, &err);
		if (rc == UPT_OK)
			rc = upt_targets_parse(&t, &ca.a, &td, upt_openssl_crypto(), &err);
		tg = upt_json_get(td.signed_json, "targets");
		dl = upt_json_get(td.signed_json, "delegations");
		if (rc == UPT_OK)
			rc = upt_time_format(when, sizeof when, expires);
		if (rc == UPT_OK)
			rc = cli_buf_printf(&tt,
					    "{\"_type\":\"targets\",\"spec_version\":\"1.0.31\","
					    "\"version\":%lld,\"expires\":\"%s\",\"targets\":",
					    (long long)t.c.version + 1, when);
		for (int part = 0; rc == UPT_OK && part < 2; part++) {
			const struct upt_json *v = part ? dl : tg;
			size_t len = 0;
			char *tmp;
			if (!v)
				continue;
			if (part)
				rc = cli_buf_printf(&tt, ",\"delegations\":");
			if (rc == UPT_OK) {
				rc = upt_json_write(NULL, 0, &len, v, &err);
				if (rc == UPT_ERR_NOMEM)
					rc = UPT_OK;
			}
			if (rc == UPT_OK && !(tmp = upt_malloc(len + 1)))
				rc = upt_error_set(&err, UPT_ERR_NOMEM, "out of memory");
			if (rc == UPT_OK) {
				rc = upt_json_write((uint8_t *)tmp, len, &len, v, &err);
				if (rc == UPT_OK)
					rc = cli_buf_put(&tt, tmp, len);
				upt_free(tmp);
			}
		}
		if (rc == UPT_OK)
			rc = cli_buf_printf(&tt, "}");
		if (rc == UPT_OK)
			rc = ws_sign(&signed_targets, tt.p, &fresh.k[0], 1, &err);
		if (rc == UPT_OK)
			rc =
			    ws_http(&w, "PUT", "repo/metadata/targets", "application/json",
				    signed_targets.p, signed_targets.len, NULL, false, &resp, &err);
		free(resp);
		if (rc == UPT_OK)
			rc = cli_write_file(path, signed_targets.p, signed_targets.len, 0644, false,
					    &err);
	}
	cli_buf_free(&text);
	cli_buf_free(&tt);
	cli_buf_free(&signed_root);
	cli_buf_free(&signed_targets);
	keyset_free(&old);
	keyset_free(&fresh);
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		cli_err("key rotate", "%s", err.msg);
		return cli_exit_code(rc);
	}
	printf("%s keys rotated: root version %lld\n", role, (long long)cur.c.version + 1);
	return CLI_OK;
}
