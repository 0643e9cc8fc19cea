/* uptake sbom: the SBOM of a published image (the one whose hash the
 * targets key signed in its custom.sbom), and the SBOM half of
 * `uptake publish --sbom`: check the document, hash it, upload it, and
 * ask the server which known vulnerabilities it matches (the release
 * gate). */
#include <getopt.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/sbom.h>

#include "../host/host.h"
#include "workspace.h"

#define SBOM_MAX ((size_t)32 * 1024 * 1024)

static const char usage[] =
    "usage: uptake sbom show IMAGE [--dir DIR]\n"
    "       uptake sbom components IMAGE [--json] [--dir DIR]\n"
    "       uptake sbom check FILE [--profile tr-03183-2 [--strict]]\n\n"
    "show: the SBOM the server stores for target IMAGE (by the sha256 in the\n"
    "target's signed custom.sbom), as uploaded. components: its components\n"
    "(name, version, purl, CPE); --json the server's JSON. check: whether FILE\n"
    "is an SBOM uptake accepts (CycloneDX 1.4-1.6 or SPDX 2.3 JSON; each\n"
    "component with a name, a version and a purl or CPE). --profile tr-03183-2:\n"
    "also, field by field, what BSI TR-03183-2 (v2.0.0, sections 4, 5.2.1 and\n"
    "5.2.2) asks that the SBOM lacks: creator and timestamp of the SBOM; per\n"
    "component creator, name, version, licence, SHA-512 hash of the deployable\n"
    "component, dependencies, a unique identifier. Findings are warnings;\n"
    "--strict refuses the SBOM (exit 3) when there is any.\n"
    "Exit 0 ok, 2 usage, 3 input or server refusal.\n";

int sbom_prepare(struct publish_sbom *out, char **doc, size_t *len, const char *path,
		 struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_sbom s;
	uint8_t d256[32], d512[64];
	int rc = cli_read_file(path, SBOM_MAX, doc, len, err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, 32 * *len + (1u << 20));
	if (rc == UPT_OK &&
	    (rc = upt_sbom_parse(&s, &ca.a, (const uint8_t *)*doc, *len, err)) != UPT_OK)
		upt_error_prefix(err, path);
	if (rc == UPT_OK && (EVP_Digest(*doc, *len, d256, NULL, EVP_sha256(), NULL) != 1 ||
			     EVP_Digest(*doc, *len, d512, NULL, EVP_sha512(), NULL) != 1))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "%s: hashing failed", path);
	if (rc == UPT_OK) {
		upt_sbom_format_name(&s, out->format, sizeof out->format);
		out->length = (int64_t)*len;
		upt_hex_encode(out->sha256, d256, sizeof d256);
		upt_hex_encode(out->sha512, d512, sizeof d512);
		printf("sbom %s: %s, %zu components, sha256 %s\n", path, out->format,
		       s.n_components, out->sha256);
	}
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		upt_free(*doc);
		*doc = NULL;
	}
	return rc;
}

/* Upload the SBOM, then ask which vulnerabilities it matches. With `gate`,
 * one known to be exploited refuses the release (UPT_ERR_STATE). */
int sbom_upload_and_gate(const struct ws *w, const struct publish_sbom *sb, const char *doc,
			 size_t len, const char *target, bool gate, struct upt_error *err)
{
	char api[1900], qt[1700], *resp = NULL;
	struct cli_arena ca = {0};
	struct upt_json *v;
	const struct upt_json *vs;
	size_t exploited = 0;
	int rc;
	snprintf(api, sizeof api, "sboms/%s", sb->sha256);
	rc = ws_http(w, "PUT", api, "application/json", doc, len, NULL, false, &resp, err);
	free(resp);
	resp = NULL;
	if (rc == UPT_OK && host_url_quote(qt, sizeof qt, target, false) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_ARG, "%s: name too long", target);
	snprintf(api, sizeof api, "sboms/%s/vulns?target=%s", sb->sha256, qt);
	if (rc == UPT_OK)
		rc = ws_http(w, "GET", api, NULL, NULL, 0, NULL, false, &resp, err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, 16 * strlen(resp) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)resp, strlen(resp), NULL, err);
	vs = rc == UPT_OK ? upt_json_get(v, "vulnerabilities") : NULL;
	if (rc == UPT_OK && (!vs || vs->type != UPT_JSON_ARRAY))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "server: no vulnerabilities list");
	for (size_t i = 0; rc == UPT_OK && i < vs->n; i++) {
		const struct upt_json *x = vs->items[i], *cs = upt_json_get(x, "components");
		const struct upt_json *id = upt_json_get(x, "id"),
				      *sev = upt_json_get(x, "severity");
		bool ex = upt_json_get(x, "exploited") &&
			  upt_json_get(x, "exploited")->type == UPT_JSON_TRUE;
		bool vex = upt_json_get(x, "vex") && upt_json_get(x, "vex")->type != UPT_JSON_NULL;
		fprintf(stderr, "uptake publish: warning: %s: %s%s%s%s affects", target,
			id && id->type == UPT_JSON_STRING ? id->str : "?",
			sev && sev->type == UPT_JSON_STRING && sev->len ? " (" : "",
			sev && sev->type == UPT_JSON_STRING ? sev->str : "",
			sev && sev->type == UPT_JSON_STRING && sev->len ? ")" : "");
		for (size_t k = 0; cs && cs->type == UPT_JSON_ARRAY && k < cs->n; k++) {
			const struct upt_json *n = upt_json_get(cs->items[k], "name");
			const struct upt_json *ve = upt_json_get(cs->items[k], "version");
			fprintf(stderr, " %s@%s", n && n->type == UPT_JSON_STRING ? n->str : "?",
				ve && ve->type == UPT_JSON_STRING ? ve->str : "?");
		}
		if (vex) {
			const struct upt_json *vx = upt_json_get(x, "vex");
			const struct upt_json *st = upt_json_get(vx, "status"),
					      *ju = upt_json_get(vx, "justification");
			fprintf(stderr, "; VEX: %s%s%s\n",
				st && st->type == UPT_JSON_STRING ? st->str : "?",
				ju && ju->type == UPT_JSON_STRING && ju->len ? ", " : "",
				ju && ju->type == UPT_JSON_STRING ? ju->str : "");
		} else {
			fprintf(stderr, "%s\n", ex ? "; ACTIVELY EXPLOITED, no VEX statement" : "");
		}
		exploited += ex && !vex;
	}
	if (rc == UPT_OK && gate && exploited)
		rc = upt_error_set(err, UPT_ERR_STATE,
				   "%s: refused by --gate: its SBOM matches %zu actively exploited "
				   "vulnerabilit%s without a VEX statement",
				   target, exploited, exploited == 1 ? "y" : "ies");
	cli_arena_dispose(&ca);
	free(resp);
	return rc;
}

/* The sha256 of target `image`'s SBOM in the workspace's signed targets. */
static int sbom_of_target(const char *dir, const char *image, char sha256[65],
			  struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_doc doc;
	char path[WS_PATH_MAX + 64];
	const struct upt_json *ts, *t, *sb, *h;
	int rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	snprintf(path, sizeof path, "%s/metadata/targets.json", dir);
	if (rc == UPT_OK)
		rc = cli_load_doc(&doc, &ca, path, err);
	ts = rc == UPT_OK ? upt_json_get(doc.signed_json, "targets") : NULL;
	t = upt_json_get(ts, image);
	sb = upt_json_get(upt_json_get(t, "custom"), "sbom");
	h = upt_json_get(sb, "sha256");
	if (rc == UPT_OK && !t)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: no target %s", path, image);
	else if (rc == UPT_OK && (!h || h->type != UPT_JSON_STRING || h->len != 64))
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND,
				   "%s: target %s was published without an SBOM", path, image);
	if (rc == UPT_OK)
		memcpy(sha256, h->str, 65);
	cli_arena_dispose(&ca);
	return rc;
}

static int print_components(const char *json, struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	const struct upt_json *cs, *f;
	int rc = cli_arena_init(&ca, 16 * strlen(json) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	cs = rc == UPT_OK ? upt_json_get(v, "components") : NULL;
	f = rc == UPT_OK ? upt_json_get(v, "format") : NULL;
	if (rc == UPT_OK && (!cs || cs->type != UPT_JSON_ARRAY))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "server: no components");
	if (rc == UPT_OK) {
		printf("%-32s %-24s %s\n", "NAME", "VERSION", "PURL / CPE");
		for (size_t i = 0; i < cs->n; i++) {
			const struct upt_json *c = cs->items[i];
			const struct upt_json *n = upt_json_get(c, "name"),
					      *ve = upt_json_get(c, "version"),
					      *p = upt_json_get(c, "purl"),
					      *cpe = upt_json_get(c, "cpe");
			printf("%-32s %-24s %s\n", n && n->type == UPT_JSON_STRING ? n->str : "?",
			       ve && ve->type == UPT_JSON_STRING ? ve->str : "?",
			       p && p->type == UPT_JSON_STRING && p->len ? p->str
			       : cpe && cpe->type == UPT_JSON_STRING     ? cpe->str
									 : "-");
		}
		printf("\n%zu components (%s)\n", cs->n,
		       f && f->type == UPT_JSON_STRING ? f->str : "?");
	}
	cli_arena_dispose(&ca);
	return rc;
}

int cmd_sbom(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"dir", required_argument, NULL, 'd'},     {"json", no_argument, NULL, 'j'},
	    {"profile", required_argument, NULL, 'p'}, {"strict", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
	const char *dir = ".", *sub, *image, *profile = NULL;
	bool json = false, strict = false;
	struct ws w;
	struct upt_error err = {0};
	char sha[65], api[128], *resp = NULL;
	size_t rlen = 0;
	long status = 0;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'p')
			profile = optarg;
		else if (c == 's')
			strict = true;
		else if (c == 'h')
			return fputs(usage, stdout), CLI_OK;
		else
			return fputs(usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 2)
		return fputs(usage, stderr), CLI_USAGE;
	sub = argv[optind];
	image = argv[optind + 1];
	if (strcmp(sub, "check") == 0) {
		struct publish_sbom sb;
		char *doc = NULL;
		size_t len;
		size_t findings = 0;
		if (json || (profile && strcmp(profile, "tr-03183-2") != 0) || (strict && !profile))
			return fputs(usage, stderr), CLI_USAGE;
		rc = sbom_prepare(&sb, &doc, &len, image, &err);
		if (rc == UPT_OK && profile)
			rc = sbom_check_tr03183(doc, len, &findings, &err);
		if (rc == UPT_OK && strict && findings)
			rc = upt_error_set(&err, UPT_ERR_FIELD_MISSING,
					   "%s: refused by --strict: %zu finding%s of profile "
					   "tr-03183-2",
					   image, findings, findings == 1 ? "" : "s");
		upt_free(doc);
		if (rc != UPT_OK) {
			cli_err("sbom", "%s", err.msg);
			return cli_input_exit_code(rc);
		}
		return CLI_OK;
	}
	if ((strcmp(sub, "show") != 0 && strcmp(sub, "components") != 0) || profile || strict ||
	    (json && strcmp(sub, "show") == 0))
		return fputs(usage, stderr), CLI_USAGE;
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = sbom_of_target(dir, image, sha, &err);
	snprintf(api, sizeof api, "api/v1/sboms/%s%s", sha,
		 strcmp(sub, "components") == 0 ? "/components" : "");
	if (rc == UPT_OK)
		rc = ws_http_status(&w, "GET", api, w.token, NULL, NULL, 0, NULL, false, &status,
				    &resp, &rlen, &err);
	if (rc == UPT_OK && status != 200)
		rc = upt_error_set(&err, status == 404 ? UPT_ERR_NOT_FOUND : UPT_ERR_IO,
				   "server: %ld: %.300s", status, resp ? resp : "");
	if (rc == UPT_OK && (json || strcmp(sub, "show") == 0))
		fwrite(resp, 1, rlen, stdout);
	else if (rc == UPT_OK)
		rc = print_components(resp, &err);
	free(resp);
	if (rc != UPT_OK) {
		cli_err("sbom", "%s", err.msg);
		return cli_input_exit_code(rc);
	}
	return CLI_OK;
}
