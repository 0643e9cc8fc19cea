/* uptake-tuf-client: a plain TUF client over libuptake, with the command
 * line of the TUF conformance suite (CLIENT-CLI.md):
 *
 *   uptake-tuf-client --metadata-dir D init ROOT
 *   uptake-tuf-client --metadata-dir D --metadata-url U refresh
 *   uptake-tuf-client --metadata-dir D --metadata-url U --target-name T
 *                     --target-base-url B --target-dir O download
 *
 * Exit 0 on success, 1 when anything failed (the conformance suite's
 * codes), 2 on a usage error.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/client.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>

#include "../host/host.h"

#define ARENA_SIZE ((size_t)256 << 20)

static const char usage[] =
    "usage: uptake-tuf-client --metadata-dir DIR init TRUSTED_ROOT\n"
    "       uptake-tuf-client --metadata-dir DIR --metadata-url URL refresh\n"
    "       uptake-tuf-client --metadata-dir DIR --metadata-url URL --target-name PATH\n"
    "                         --target-base-url URL --target-dir DIR download\n\n"
    "A TUF 1.0 client (the TUF specification's client workflow, as libuptake\n"
    "implements it). init trusts TRUSTED_ROOT (which must be signed by its own\n"
    "root threshold); refresh updates root, timestamp, snapshot and targets;\n"
    "download refreshes, finds PATH through delegations and fetches it, bounded\n"
    "by its length and kept only when every hash matches. Trusted metadata is\n"
    "kept in DIR as ROLE.json; a downloaded target is kept in the target\n"
    "directory under its quoted path and is not fetched again while it matches.\n"
    "Exit 0 on success, 1 on any failure, 2 on a usage error.\n";

struct opts {
	const char *metadata_dir, *metadata_url, *target_name, *target_base_url, *target_dir;
	const char *command, *arg;
};

static int fail(const struct upt_error *err)
{
	fprintf(stderr, "uptake-tuf-client: %s: %s\n", upt_err_name(err->code), err->msg);
	return 1;
}

static int cmd_init(const struct opts *o)
{
	struct upt_error err = {0};
	struct host_repo_io h = {"", o->metadata_dir, 0};
	struct upt_repo_io io;
	struct upt_repo r;
	struct upt_arena a;
	uint8_t *data = NULL;
	size_t len = 0;
	void *mem = malloc(UPT_DEFAULT_ROOT_MAX * 8);
	int rc;
	if (!mem)
		return fprintf(stderr, "uptake-tuf-client: out of memory\n"), 1;
	upt_arena_init(&a, mem, UPT_DEFAULT_ROOT_MAX * 8);
	host_repo_io(&io, &h);
	upt_repo_init(&r, "trusted root", &io, upt_openssl_crypto(), &a, NULL);
	rc = host_mkdirs(o->metadata_dir, &err);
	if (rc == UPT_OK)
		rc = host_read_file(o->arg, UPT_DEFAULT_ROOT_MAX, &data, &len, &err);
	if (rc == UPT_OK)
		rc = upt_repo_bootstrap(&r, data, len, &err);
	free(data);
	free(mem);
	return rc == UPT_OK ? 0 : fail(&err);
}

/* Refresh; with `target`, also find it and download it. */
static int cmd_refresh(const struct opts *o, bool download)
{
	struct upt_error err = {0};
	struct host_repo_io h = {o->metadata_url, o->metadata_dir, 0};
	struct upt_repo_io io;
	struct upt_repo r;
	struct upt_arena a;
	const struct upt_target *t = NULL;
	void *mem = malloc(ARENA_SIZE);
	int rc;
	if (!mem)
		return fprintf(stderr, "uptake-tuf-client: out of memory\n"), 1;
	upt_arena_init(&a, mem, ARENA_SIZE);
	host_repo_io(&io, &h);
	upt_repo_init(&r, "repository", &io, upt_openssl_crypto(), &a, NULL);
	rc = upt_repo_refresh(&r, (int64_t)time(NULL), &err);
	if (rc == UPT_OK && download)
		rc = upt_repo_find_target(&r, o->target_name, &t, &err);
	if (rc == UPT_OK && download) {
		char local[PATH_MAX], q[1024], url[4096], hash[2 * UPT_SHA512_LEN + 1];
		const char *base = strrchr(t->name, '/');
		const char *sep =
		    o->target_base_url[strlen(o->target_base_url) - 1] == '/' ? "" : "/";
		int dir_len = base ? (int)(base - t->name + 1) : 0;
		rc = host_url_quote(q, sizeof q, t->name, false);
		if (rc == UPT_OK && (size_t)snprintf(local, sizeof local, "%s/%s", o->target_dir,
						     q) >= sizeof local)
			rc = UPT_ERR_TOO_LARGE;
		if (rc != UPT_OK)
			rc = upt_error_set(&err, UPT_ERR_TOO_LARGE, "target name too long");
		/* URL: with consistent snapshots DIR/HASH.NAME, else the path */
		if (rc == UPT_OK) {
			const char *name = base ? base + 1 : t->name;
			char dir[1024], qdir[3072], qname[3072];
			if (t->hashes.has_sha256)
				upt_hex_encode(hash, t->hashes.sha256, UPT_SHA256_LEN);
			else
				upt_hex_encode(hash, t->hashes.sha512, UPT_SHA512_LEN);
			snprintf(dir, sizeof dir, "%.*s", dir_len, t->name);
			if (host_url_quote(qdir, sizeof qdir, dir, true) != UPT_OK ||
			    host_url_quote(qname, sizeof qname, name, false) != UPT_OK ||
			    (size_t)snprintf(url, sizeof url, "%s%s%s%s%s%s", o->target_base_url,
					     sep, qdir, r.root.consistent_snapshot ? hash : "",
					     r.root.consistent_snapshot ? "." : "",
					     qname) >= sizeof url)
				rc = upt_error_set(&err, UPT_ERR_TOO_LARGE, "target URL too long");
		}
		if (rc == UPT_OK)
			rc = host_mkdirs(o->target_dir, &err);
		if (rc == UPT_OK && !host_file_matches(local, t->length, &t->hashes))
			rc = host_http_get_verified(url, local, t->length, &t->hashes, &err);
	}
	free(mem);
	return rc == UPT_OK ? 0 : fail(&err);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"metadata-dir", required_argument, NULL, 'm'},
					      {"metadata-url", required_argument, NULL, 'u'},
					      {"target-name", required_argument, NULL, 'n'},
					      {"target-base-url", required_argument, NULL, 'b'},
					      {"target-dir", required_argument, NULL, 't'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	struct opts o = {0};
	struct upt_error err = {0};
	int c, rc;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.metadata_dir = optarg;
			break;
		case 'u':
			o.metadata_url = optarg;
			break;
		case 'n':
			o.target_name = optarg;
			break;
		case 'b':
			o.target_base_url = optarg;
			break;
		case 't':
			o.target_dir = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		o.command = argv[optind++];
	if (optind < argc)
		o.arg = argv[optind++];
	if (!o.command || !o.metadata_dir || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(o.command, "init") == 0 && o.arg)
		return cmd_init(&o);
	if (o.arg || !o.metadata_url || !o.metadata_url[0]) {
		fputs(usage, stderr);
		return 2;
	}
	if ((rc = host_init(&err)) != UPT_OK)
		return fail(&err);
	if (strcmp(o.command, "refresh") == 0)
		return cmd_refresh(&o, false);
	if (strcmp(o.command, "download") == 0 && o.target_name && o.target_base_url &&
	    o.target_base_url[0] && o.target_dir)
		return cmd_refresh(&o, true);
	fputs(usage, stderr);
	return 2;
}
