#define _DEFAULT_SOURCE
/* uptake init: a release engineer's workspace bound to an uptake server:
 * offline root and targets keys, the first root (listing the server's
 * online snapshot and timestamp keys) and an empty targets, uploaded. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char usage[] =
    "usage: uptake init --server URL --token-file FILE [--ca-file PEM] [--dir DIR]\n"
    "                   [--dialect tuf|aktualizr]\n"
    "                   [--type ed25519|ecdsa|rsa] [--root-keys N] [--root-threshold T]\n"
    "                   [--expires ISO8601|+DAYSd] [--passphrase-env VAR]\n\n"
    "Creates the workspace DIR (default .): for the Image repository N offline\n"
    "root keys (default 1) with threshold T (default N), an offline targets key,\n"
    "the first root (listing the server's online snapshot and timestamp keys,\n"
    "consistent snapshots on) and an empty targets; for the Director N offline\n"
    "root keys and its first root (online targets, snapshot and timestamp). All\n"
    "is signed offline and uploaded; metadata/director-root.json is the root\n"
    "devices are provisioned with. Private keys stay in DIR/keys (mode 0600; encrypted when VAR is "
    "set).\n"
    "--ca-file is the server's CA (its data_dir/tls/ca.pem) when the system's\n"
    "trust store does not vouch for the server.\n"
    "Exit 0 ok, 2 usage, 3 input or server refusal, 4 internal error.\n";

static int gen_key(struct upt_privkey **k, enum upt_key_type type, const char *path,
		   const char *pass, struct upt_error *err)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = upt_privkey_generate(k, type, err);
	if (rc == UPT_OK)
		rc = upt_privkey_save_pem(&pem, &len, *k, pass, err);
	if (rc == UPT_OK)
		rc = cli_write_file(path, pem, len, 0600, true, err);
	if (pem)
		upt_free_secret(pem, len);
	return rc;
}

/* The online keys from the server (snapshot, timestamp and, for the
 * Director, targets): key objects appended to `keys`, ids in ids[]. */
static int online_keys(struct cli_buf *keys, char ids[3][UPT_KEYID_MAX + 1], const char *json,
		       int n_roles, struct upt_error *err)
{
	static const char *const roles[3] = {"snapshot", "timestamp", "targets"};
	struct cli_arena ca;
	struct upt_json *v;
	int rc;
	if (cli_arena_init(&ca, 1 << 20) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	for (int i = 0; rc == UPT_OK && i < n_roles; i++) {
		const struct upt_json *k = upt_json_get(v, roles[i]);
		struct upt_key key;
		uint8_t text[8192];
		size_t len = 0;
		bool dup = false;
		if (!k)
			rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "server: no online %s key",
					   roles[i]);
		if (rc == UPT_OK)
			rc = upt_key_compute_keyid(ids[i], k, &ca.a, upt_openssl_crypto(), err);
		if (rc == UPT_OK)
			rc = upt_key_parse(&key, &ca.a, ids[i], k, upt_openssl_crypto(), err);
		if (rc == UPT_OK)
			rc = upt_json_write(text, sizeof text, &len, k, err);
		for (int j = 0; j < i; j++)
			dup |= strcmp(ids[i], ids[j]) == 0;
		if (rc == UPT_OK && !dup)
			rc = cli_buf_printf(keys, ",\"%s\":%.*s", ids[i], (int)len, text);
	}
	cli_arena_dispose(&ca);
	return rc;
}

/* Root version 1: offline root keys (threshold), targets offline (`targets`)
 * or online (targets == NULL: the server's key), snapshot and timestamp
 * online. */
static int root_text(struct cli_buf *text, enum upt_dialect d, const char *when,
		     struct upt_privkey **root, int64_t n_root, int64_t threshold,
		     struct upt_privkey *targets, const char *online, struct upt_error *err)
{
	char root_ids[WS_MAX_KEYS][UPT_KEYID_MAX + 1], targets_id[UPT_KEYID_MAX + 1];
	char online_ids[3][UPT_KEYID_MAX + 1];
	/* aktualizr's repositories are not consistent snapshots */
	int rc = ws_header(text, d, "root", 1, when);
	if (rc == UPT_OK)
		rc = cli_buf_printf(text, "%s,\"keys\":{",
				    d == UPT_DIALECT_TUF ? ",\"consistent_snapshot\":true" : "");
	for (int64_t i = 0; rc == UPT_OK && i < n_root; i++) {
		if (i)
			rc = cli_buf_printf(text, ",");
		if (rc == UPT_OK)
			rc = ws_key_object(text, root[i], root_ids[i], d, err);
	}
	if (rc == UPT_OK && targets) {
		rc = cli_buf_printf(text, ",");
		if (rc == UPT_OK)
			rc = ws_key_object(text, targets, targets_id, d, err);
	}
	if (rc == UPT_OK)
		rc = online_keys(text, online_ids, online, targets ? 2 : 3, err);
	if (rc == UPT_OK && !targets)
		memcpy(targets_id, online_ids[2], sizeof targets_id);
	if (rc == UPT_OK)
		rc = cli_buf_printf(text, "},\"roles\":{\"root\":{\"keyids\":[");
	for (int64_t i = 0; rc == UPT_OK && i < n_root; i++)
		rc = cli_buf_printf(text, "%s\"%s\"", i ? "," : "", root_ids[i]);
	if (rc == UPT_OK)
		rc = cli_buf_printf(
		    text,
		    "],\"threshold\":%lld},\"targets\":{\"keyids\":[\"%s\"],"
		    "\"threshold\":1},\"snapshot\":{\"keyids\":[\"%s\"],\"threshold\":"
		    "1},\"timestamp\":{\"keyids\":[\"%s\"],\"threshold\":1}}}",
		    (long long)threshold, targets_id, online_ids[0], online_ids[1]);
	return rc;
}

int cmd_init(int argc, char **argv)
{
	static const struct option longs[] = {{"server", required_argument, NULL, 's'},
					      {"token-file", required_argument, NULL, 't'},
					      {"ca-file", required_argument, NULL, 'a'},
					      {"dir", required_argument, NULL, 'd'},
					      {"type", required_argument, NULL, 'y'},
					      {"root-keys", required_argument, NULL, 'n'},
					      {"root-threshold", required_argument, NULL, 'r'},
					      {"expires", required_argument, NULL, 'e'},
					      {"passphrase-env", required_argument, NULL, 'p'},
					      {"dialect", required_argument, NULL, 'D'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	struct ws w = {0};
	const char *dir = ".", *server = NULL, *token_file = NULL, *pass_env = NULL,
		   *ca_file = NULL;
	enum upt_key_type type = UPT_KEY_ED25519;
	enum upt_dialect dialect = UPT_DIALECT_TUF;
	int64_t n_root = 1, threshold = 0, expires = (int64_t)time(NULL) + 365 * 86400;
	struct upt_privkey *root[WS_MAX_KEYS] = {0}, *targets = NULL;
	struct upt_privkey *droot[WS_MAX_KEYS] = {0};
	char path[WS_PATH_MAX + 64], when[32];
	struct cli_buf text, signed_root = {0}, signed_targets = {0}, director_root = {0};
	struct upt_error err = {0};
	const char *pass;
	char *resp = NULL;
	int c, rc = UPT_OK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'a':
			ca_file = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			pass_env = optarg;
			break;
		case 'y':
			if (strcmp(optarg, "ed25519") == 0)
				type = UPT_KEY_ED25519;
			else if (strcmp(optarg, "ecdsa") == 0)
				type = UPT_KEY_ECDSA_P256;
			else if (strcmp(optarg, "rsa") == 0)
				type = UPT_KEY_RSA;
			else
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'n':
			if (cli_parse_int(&n_root, optarg, 1, WS_MAX_KEYS) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'r':
			if (cli_parse_int(&threshold, optarg, 1, WS_MAX_KEYS) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'e':
			if (cli_parse_time(&expires, optarg) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'D':
			if (cli_parse_dialect(&dialect, optarg) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return CLI_OK;
		default:
			fputs(usage, stderr);
			return CLI_USAGE;
		}
	}
	if (!server || !token_file || optind != argc || threshold > n_root)
		return fputs(usage, stderr), CLI_USAGE;
	if (!threshold)
		threshold = n_root;
	pass = pass_env ? getenv(pass_env) : NULL;
	snprintf(w.dir, sizeof w.dir, "%s", dir);
	snprintf(w.server, sizeof w.server, "%s", server);
	w.dialect = dialect;
	snprintf(w.token_file, sizeof w.token_file, "%s", token_file);
	{
		/* the workspace keeps absolute paths */
		char abs[PATH_MAX];
		if (ca_file && (!realpath(ca_file, abs) || strlen(abs) >= sizeof w.ca_file)) {
			cli_err("init", "%s: cannot be read", ca_file);
			return CLI_INPUT;
		}
		if (ca_file)
			memcpy(w.ca_file, abs, strlen(abs) + 1);
		if (!realpath(token_file, abs) || strlen(abs) >= sizeof w.token_file) {
			cli_err("init", "%s: cannot be read", token_file);
			return CLI_INPUT;
		}
		memcpy(w.token_file, abs, strlen(abs) + 1);
	}
	if (ws_path(path, sizeof path, &w, "uptake-workspace.json") == UPT_OK &&
	    access(path, F_OK) == 0) {
		cli_err("init", "%s: a workspace exists already", dir);
		return CLI_INPUT;
	}
	snprintf(path, sizeof path, "%s/keys", dir);
	rc = host_mkdirs(path, &err);
	snprintf(path, sizeof path, "%s/metadata", dir);
	if (rc == UPT_OK)
		rc = host_mkdirs(path, &err);
	if (rc == UPT_OK)
		rc = ws_save(&w, &err);
	if (rc == UPT_OK)
		rc = ws_load(&w, dir, &err); /* reads the token */
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, "GET",
			     w.dialect == UPT_DIALECT_AKTUALIZR
				 ? "repo/online-keys?dialect=aktualizr"
				 : "repo/online-keys",
			     NULL, NULL, 0, NULL, false, &resp, &err);
	for (int64_t i = 0; rc == UPT_OK && i < n_root; i++) {
		snprintf(path, sizeof path, "%s/keys/root-%lld.pem", dir, (long long)i + 1);
		rc = gen_key(&root[i], type, path, pass, &err);
	}
	snprintf(path, sizeof path, "%s/keys/targets.pem", dir);
	if (rc == UPT_OK)
		rc = gen_key(&targets, type, path, pass, &err);
	/* root */
	cli_buf_init(&text, 1 << 20);
	if (rc == UPT_OK)
		rc = upt_time_format(when, sizeof when, expires);
	if (rc == UPT_OK)
		rc =
		    root_text(&text, w.dialect, when, root, n_root, threshold, targets, resp, &err);
	if (rc == UPT_OK)
		rc = ws_sign(&signed_root, text.p, root, (size_t)n_root, w.dialect, &err);
	free(resp);
	resp = NULL;
	if (rc == UPT_OK)
		rc = ws_http(&w, "PUT", "repo/root", "application/json", signed_root.p,
			     signed_root.len, NULL, false, &resp, &err);
	snprintf(path, sizeof path, "%s/metadata/root.json", dir);
	if (rc == UPT_OK)
		rc = cli_write_file(path, signed_root.p, signed_root.len, 0644, false, &err);
	/* an empty targets, so clients can refresh at once */
	text.len = 0;
	if (rc == UPT_OK)
		rc = ws_header(&text, w.dialect, "targets", 1, when);
	if (rc == UPT_OK)
		rc = cli_buf_printf(&text, ",\"targets\":{}}");
	if (rc == UPT_OK)
		rc = ws_sign(&signed_targets, text.p, &targets, 1, w.dialect, &err);
	free(resp);
	resp = NULL;
	if (rc == UPT_OK)
		rc = ws_http(&w, "PUT", "repo/metadata/targets", "application/json",
			     signed_targets.p, signed_targets.len, NULL, false, &resp, &err);
	snprintf(path, sizeof path, "%s/metadata/targets.json", dir);
	if (rc == UPT_OK)
		rc = cli_write_file(path, signed_targets.p, signed_targets.len, 0644, false, &err);
	/* the Director's root: its own offline root keys, online targets */
	for (int64_t i = 0; rc == UPT_OK && i < n_root; i++) {
		snprintf(path, sizeof path, "%s/keys/director-root-%lld.pem", dir,
			 (long long)i + 1);
		rc = gen_key(&droot[i], type, path, pass, &err);
	}
	free(resp);
	resp = NULL;
	if (rc == UPT_OK)
		rc = ws_http(&w, "GET",
			     w.dialect == UPT_DIALECT_AKTUALIZR
				 ? "director/online-keys?dialect=aktualizr"
				 : "director/online-keys",
			     NULL, NULL, 0, NULL, false, &resp, &err);
	text.len = 0;
	if (rc == UPT_OK)
		rc = root_text(&text, w.dialect, when, droot, n_root, threshold, NULL, resp, &err);
	if (rc == UPT_OK)
		rc = ws_sign(&director_root, text.p, droot, (size_t)n_root, w.dialect, &err);
	free(resp);
	resp = NULL;
	if (rc == UPT_OK)
		rc = ws_http(&w, "PUT", "director/root", "application/json", director_root.p,
			     director_root.len, NULL, false, &resp, &err);
	snprintf(path, sizeof path, "%s/metadata/director-root.json", dir);
	if (rc == UPT_OK)
		rc = cli_write_file(path, director_root.p, director_root.len, 0644, false, &err);
	free(resp);
	cli_buf_free(&text);
	cli_buf_free(&director_root);
	for (int64_t i = 0; i < n_root; i++)
		upt_privkey_free(droot[i]);
	cli_buf_free(&signed_root);
	cli_buf_free(&signed_targets);
	for (int64_t i = 0; i < n_root; i++)
		upt_privkey_free(root[i]);
	upt_privkey_free(targets);
	if (rc != UPT_OK) {
		cli_err("init", "%s", err.msg);
		return cli_exit_code(rc);
	}
	printf("workspace %s: Image repository root version 1 (%lld of %lld offline keys), targets "
	       "version 1, Director root version 1, server %s\n",
	       dir, (long long)threshold, (long long)n_root, w.server);
	return CLI_OK;
}
