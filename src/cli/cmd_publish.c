/* uptake publish: add an image to the Image repository. Hashes the image
 * (sha256, sha512), writes the next targets version with the new target,
 * signs it offline with the workspace's targets key, uploads the image,
 * then the metadata; the workspace keeps the metadata only once the server
 * has accepted it, and first reconciles with the server (reconcile.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "reconcile.h"

static const char usage[] =
    "usage: uptake publish IMAGE --name NAME --version VERSION --hardware-id HWID\n"
    "                      [--hardware-id HWID]... [--release-counter N] [--dir DIR]\n"
    "                      [--security] [--verity] [--sbom FILE [--gate]]\n"
    "                      [--expires ISO8601|+DAYSd] [--passphrase-env VAR]\n\n"
    "Publishes IMAGE as target NAME-VERSION (custom: name, version, hardwareIds,\n"
    "releaseCounter) in the workspace DIR's Image repository: hashes it, signs the\n"
    "next targets version offline, uploads the image (with a progress bar on a\n"
    "terminal) and the metadata. --security marks it a security update\n"
    "(custom.security: true, signed with it; see uptake report patch-status).\n"
    "--verity: IMAGE (whole 4096-byte blocks) gets its dm-verity hash tree\n"
    "appended (veritysetup format, no superblock) and custom.verity says how to\n"
    "open it (root hash, salt, block sizes, data blocks, hash offset).\n"
    "--sbom FILE checks the image's SBOM (CycloneDX 1.4-1.6 or SPDX 2.3 JSON,\n"
    "each component with a name, a version and a purl or CPE), signs its format,\n"
    "length, sha256 and sha512 with the image (custom.sbom), uploads it, and\n"
    "warns of the known vulnerabilities it matches; --gate refuses the release\n"
    "when one of them is actively exploited and has no VEX statement.\n"
    "Exit 0 ok, 2 usage, 3 input or server refusal.\n";

#define MAX_HWIDS 16

static int hash_file(const char *path, int64_t *len, char *h256, char *h512, struct upt_error *err)
{
	EVP_MD_CTX *a = EVP_MD_CTX_new(), *b = EVP_MD_CTX_new();
	uint8_t buf[65536], d256[UPT_SHA256_LEN], d512[UPT_SHA512_LEN];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = UPT_OK;
	*len = 0;
	if (!f)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot open", path);
	else if (!a || !b || EVP_DigestInit_ex(a, EVP_sha256(), NULL) != 1 ||
		 EVP_DigestInit_ex(b, EVP_sha512(), NULL) != 1)
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "hashing");
	while (rc == UPT_OK && (n = fread(buf, 1, sizeof buf, f)) > 0) {
		EVP_DigestUpdate(a, buf, n);
		EVP_DigestUpdate(b, buf, n);
		*len += (int64_t)n;
	}
	if (rc == UPT_OK && ferror(f))
		rc = upt_error_set(err, UPT_ERR_IO, "%s: read error", path);
	if (rc == UPT_OK &&
	    (EVP_DigestFinal_ex(a, d256, NULL) != 1 || EVP_DigestFinal_ex(b, d512, NULL) != 1))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "hashing");
	if (rc == UPT_OK) {
		upt_hex_encode(h256, d256, sizeof d256);
		upt_hex_encode(h512, d512, sizeof d512);
	}
	if (f)
		fclose(f);
	EVP_MD_CTX_free(a);
	EVP_MD_CTX_free(b);
	return rc;
}

static int copy_file(const char *from, const char *to, struct upt_error *err)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[65536];
	size_t n;
	int rc = UPT_OK;
	if (!in || !out)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", in ? to : from, strerror(errno));
	while (rc == UPT_OK && (n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", to, strerror(errno));
	if (rc == UPT_OK && ferror(in))
		rc = upt_error_set(err, UPT_ERR_IO, "%s: read error", from);
	if (out && fclose(out) != 0 && rc == UPT_OK)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", to, strerror(errno));
	if (in)
		fclose(in);
	return rc;
}

/* Copy `image` to a temporary file and append its dm-verity hash tree
 * there with Debian's veritysetup (format 1, sha256, 4096-byte blocks, no
 * superblock, the tree right after the data); `json` gets custom.verity. */
static int verity_image(char *tmp, size_t tcap, char *json, size_t jcap, const char *image,
			struct upt_error *err)
{
	char off[64], blocks[64], line[512], root[65] = "", salt[129] = "";
	struct stat st;
	int fd, rc = UPT_OK;
	FILE *p = NULL;
	if (stat(image, &st) != 0 || !S_ISREG(st.st_mode))
		return upt_error_set(err, UPT_ERR_IO, "%s: not a regular file", image);
	if (st.st_size == 0 || st.st_size % 4096)
		return upt_error_set(err, UPT_ERR_DECODE,
				     "%s: --verity needs an image of whole 4096-byte blocks (%lld "
				     "bytes)",
				     image, (long long)st.st_size);
	snprintf(tmp, tcap, "%s/uptake-verity-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if ((fd = mkstemp(tmp)) < 0) {
		tmp[0] = 0;
		return upt_error_set(err, UPT_ERR_IO, "a temporary file: %s", strerror(errno));
	}
	close(fd);
	rc = copy_file(image, tmp, err);
	snprintf(off, sizeof off, "--hash-offset=%lld", (long long)st.st_size);
	snprintf(blocks, sizeof blocks, "--data-blocks=%lld", (long long)st.st_size / 4096);
	if (rc == UPT_OK) {
		/* the arguments are ours and the path is quoted: no shell word from
		 * outside is interpreted */
		char cmd[3 * WS_PATH_MAX + 300];
		if (strchr(tmp, '\'') ||
		    (size_t)snprintf(cmd, sizeof cmd,
				     "veritysetup format --no-superblock "
				     "--hash=sha256 --data-block-size=4096 "
				     "--hash-block-size=4096 %s %s '%s' '%s' 2>&1",
				     off, blocks, tmp, tmp) >= sizeof cmd)
			rc = upt_error_set(err, UPT_ERR_ARG, "%s: path not usable", tmp);
		else if (!(p = popen(cmd, "r")))
			rc = upt_error_set(err, UPT_ERR_IO, "cannot run veritysetup");
	}
	while (p && fgets(line, sizeof line, p)) {
		char *v = strchr(line, ':');
		size_t n;
		if (!v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		n = strspn(v, "0123456789abcdef");
		if (strncmp(line, "Root hash:", 10) == 0 && n == 64)
			snprintf(root, sizeof root, "%.*s", (int)n, v);
		else if (strncmp(line, "Salt:", 5) == 0 && n < sizeof salt)
			snprintf(salt, sizeof salt, "%.*s", (int)n, v);
	}
	if (p && pclose(p) != 0 && rc == UPT_OK)
		rc = upt_error_set(err, UPT_ERR_IO,
				   "veritysetup format failed on %s (is cryptsetup-bin installed?)",
				   image);
	if (rc == UPT_OK && !root[0])
		rc = upt_error_set(err, UPT_ERR_IO, "veritysetup printed no root hash");
	if (rc == UPT_OK)
		snprintf(json, jcap,
			 "{\"data_block_size\":4096,\"data_blocks\":%lld,\"hash_algorithm\":"
			 "\"sha256\",\"hash_block_size\":4096,\"hash_offset\":%lld,"
			 "\"root_hash\":\"%s\",\"salt\":\"%s\"}",
			 (long long)st.st_size / 4096, (long long)st.st_size, root, salt);
	return rc;
}

int publish_next_targets(struct cli_buf *text, const struct upt_doc *doc,
			 const struct upt_targets *cur, const struct publish_target *pt,
			 struct upt_error *err)
{
	const struct upt_json *ts = upt_json_get(doc->signed_json, "targets");
	const struct upt_json *d = upt_json_get(doc->signed_json, "delegations");
	char when[32];
	int rc = UPT_OK;
	if (cur->c.version >= INT64_MAX - 1)
		return upt_error_set(err, UPT_ERR_VERSION, "targets: version %lld has no successor",
				     (long long)cur->c.version);
	if (upt_time_format(when, sizeof when, pt->expires) != UPT_OK)
		return upt_error_set(err, UPT_ERR_ARG, "expiry out of range");
	rc = ws_header(text, doc->dialect, "targets", cur->c.version + 1, when);
	rc = rc ? rc : cli_buf_printf(text, ",\"targets\":{");
	for (size_t i = 0; rc == UPT_OK && ts && i < ts->n; i++) {
		const struct upt_json *t = ts->items[i];
		if (t->key_len == strlen(pt->target) && memcmp(t->key, pt->target, t->key_len) == 0)
			continue;
		rc = cli_buf_json_strn(text, t->key, t->key_len);
		rc = rc ? rc : cli_buf_printf(text, ":");
		rc = rc ? rc : cli_buf_put_json(text, t, err);
		rc = rc ? rc : cli_buf_printf(text, ",");
	}
	rc = rc ? rc : cli_buf_json_str(text, pt->target);
	rc = rc ? rc : cli_buf_printf(text, ":{\"custom\":{\"hardwareIds\":[");
	for (size_t i = 0; rc == UPT_OK && i < pt->n_hw; i++) {
		rc = i ? cli_buf_printf(text, ",") : UPT_OK;
		rc = rc ? rc : cli_buf_json_str(text, pt->hwids[i]);
	}
	rc = rc ? rc : cli_buf_printf(text, "],\"name\":");
	rc = rc ? rc : cli_buf_json_str(text, pt->name);
	rc = rc ? rc : cli_buf_printf(text, ",\"version\":");
	rc = rc ? rc : cli_buf_json_str(text, pt->version);
	if (rc == UPT_OK && pt->counter >= 0)
		rc = cli_buf_printf(text, ",\"releaseCounter\":%lld", (long long)pt->counter);
	if (rc == UPT_OK && pt->sbom)
		rc =
		    cli_buf_printf(text,
				   ",\"sbom\":{\"format\":\"%s\",\"length\":%lld,\"sha256\":\"%s\","
				   "\"sha512\":\"%s\"}",
				   pt->sbom->format, (long long)pt->sbom->length, pt->sbom->sha256,
				   pt->sbom->sha512);
	if (rc == UPT_OK && pt->security)
		rc = cli_buf_printf(text, ",\"security\":true");
	if (rc == UPT_OK && pt->verity)
		rc = cli_buf_printf(text, ",\"verity\":%s", pt->verity);
	rc = rc ? rc
		: cli_buf_printf(text,
				 "},\"hashes\":{\"sha256\":\"%s\",\"sha512\":\"%s\"},"
				 "\"length\":%lld}}",
				 pt->sha256, pt->sha512, (long long)pt->length);
	if (rc == UPT_OK && d) {
		rc = cli_buf_printf(text, ",\"delegations\":");
		rc = rc ? rc : cli_buf_put_json(text, d, err);
	}
	rc = rc ? rc : cli_buf_printf(text, "}");
	if (rc != UPT_OK && !err->msg[0])
		upt_error_set(err, rc, "targets: the next version does not fit");
	return rc;
}

int cmd_publish(int argc, char **argv)
{
	static const struct option longs[] = {{"name", required_argument, NULL, 'n'},
					      {"version", required_argument, NULL, 'v'},
					      {"hardware-id", required_argument, NULL, 'w'},
					      {"release-counter", required_argument, NULL, 'r'},
					      {"dir", required_argument, NULL, 'd'},
					      {"expires", required_argument, NULL, 'e'},
					      {"passphrase-env", required_argument, NULL, 'p'},
					      {"security", no_argument, NULL, 's'},
					      {"verity", no_argument, NULL, 'V'},
					      {"sbom", required_argument, NULL, 'S'},
					      {"gate", no_argument, NULL, 'g'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *name = NULL, *version = NULL, *dir = ".", *pass_env = NULL, *image;
	const char *sbom_path = NULL;
	struct publish_sbom sbom = {0};
	char *sbom_doc = NULL;
	size_t sbom_len = 0;
	bool gate = false, sbom_refused = false;
	const char *hwids[MAX_HWIDS];
	size_t n_hw = 0;
	int64_t counter = -1, expires = (int64_t)time(NULL) + 365 * 86400, length = 0;
	char target[600], h256[2 * UPT_SHA256_LEN + 1], h512[2 * UPT_SHA512_LEN + 1];
	char path[WS_PATH_MAX + 64], api[1900], qname[1800];
	struct ws w;
	struct cli_arena ca = {0};
	struct upt_doc doc;
	struct upt_targets cur;
	struct upt_privkey *key = NULL;
	struct cli_buf text, out = {0};
	struct upt_error err = {0};
	char *resp = NULL;
	bool security = false, verity = false;
	char vtmp[WS_PATH_MAX + 64] = "", vjson[400] = "";
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			security = true;
			break;
		case 'V':
			verity = true;
			break;
		case 'S':
			sbom_path = optarg;
			break;
		case 'g':
			gate = true;
			break;
		case 'n':
			name = optarg;
			break;
		case 'v':
			version = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			pass_env = optarg;
			break;
		case 'w':
			if (n_hw == MAX_HWIDS)
				return fputs(usage, stderr), CLI_USAGE;
			hwids[n_hw++] = optarg;
			break;
		case 'r':
			if (cli_parse_int(&counter, optarg, 0, INT64_MAX) != UPT_OK)
				return fputs(usage, stderr), CLI_USAGE;
			break;
		case 'e':
			if (cli_parse_time(&expires, optarg) != UPT_OK)
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
	if (optind != argc - 1 || !name || !version || !n_hw || !*name || !*version ||
	    strchr(name, '"') || strchr(version, '"') || strchr(name, '\\') ||
	    strchr(version, '\\') || (gate && !sbom_path))
		return fputs(usage, stderr), CLI_USAGE;
	image = argv[optind];
	if ((size_t)snprintf(target, sizeof target, "%s-%s", name, version) >= sizeof target)
		return fputs(usage, stderr), CLI_USAGE;
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK && sbom_path &&
	    (rc = sbom_prepare(&sbom, &sbom_doc, &sbom_len, sbom_path, &err)) != UPT_OK)
		sbom_refused = true;
	if (rc == UPT_OK)
		rc = ws_reconcile(&w, "publish", pass_env, &err);
	/* --verity: the target is the image with its hash tree appended */
	if (rc == UPT_OK && verity) {
		rc = verity_image(vtmp, sizeof vtmp, vjson, sizeof vjson, image, &err);
		if (rc == UPT_OK)
			image = vtmp;
	}
	/* the SBOM first: the gate decides before anything is signed */
	if (rc == UPT_OK && sbom_path &&
	    (rc = sbom_upload_and_gate(&w, &sbom, sbom_doc, sbom_len, target, gate, &err)) !=
		UPT_OK)
		sbom_refused = true;
	if (rc == UPT_OK)
		rc = hash_file(image, &length, h256, h512, &err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	snprintf(path, sizeof path, "%s/metadata/targets.json", dir);
	if (rc == UPT_OK)
		rc = cli_load_doc(&doc, &ca, path, &err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&cur, &ca.a, &doc, upt_openssl_crypto(), &err);
	snprintf(path, sizeof path, "%s/keys/targets.pem", dir);
	if (rc == UPT_OK)
		rc = cli_load_privkey(&key, path, pass_env, &err);
	/* the next targets: every other entry kept as it was, the new one */
	cli_buf_init(&text, CLI_MAX_FILE);
	{
		struct publish_target pt = {target,
					    name,
					    version,
					    hwids,
					    n_hw,
					    counter,
					    length,
					    h256,
					    h512,
					    expires,
					    security,
					    verity ? vjson : NULL,
					    sbom_path ? &sbom : NULL};
		if (rc == UPT_OK)
			rc = publish_next_targets(&text, &doc, &cur, &pt, &err);
	}
	if (rc == UPT_OK)
		rc = ws_sign(&out, text.p, &key, 1, doc.dialect, &err);
	/* upload the image, then the metadata */
	if (rc == UPT_OK && host_url_quote(qname, sizeof qname, target, true) != UPT_OK)
		rc = upt_error_set(&err, UPT_ERR_ARG, "name too long");
	snprintf(api, sizeof api, "images/%s", qname);
	if (rc == UPT_OK) {
		printf("uploading %s (%lld bytes, sha256 %s)\n", target, (long long)length, h256);
		fflush(stdout);
		rc = ws_http(&w, "PUT", api, "application/octet-stream", NULL, 0, image,
			     isatty(2) != 0, &resp, &err);
		free(resp);
		resp = NULL;
	}
	if (rc == UPT_OK)
		rc = ws_put_signed(&w, "repo/metadata/targets", "targets.json", out.p, out.len,
				   &err);
	if (vtmp[0])
		unlink(vtmp);
	cli_buf_free(&text);
	cli_buf_free(&out);
	upt_free(sbom_doc);
	upt_privkey_free(key);
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		cli_err("publish", "%s", err.msg);
		return sbom_refused ? cli_input_exit_code(rc) : cli_exit_code(rc);
	}
	printf("published %s%s%s in targets version %lld\n", target,
	       security ? " (security update)" : "", verity ? " (dm-verity)" : "",
	       (long long)cur.c.version + 1);
	return CLI_OK;
}
