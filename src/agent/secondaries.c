/* uptake-agent: a secondary's part of the cycle. What the primary keeps of
 * each secondary is in state_dir/secondaries/, named by the SHA-256 of its
 * serial:
 *   ID.key          its public key (a TUF key object), as registered
 *   ID.report       its last signed version report, as it signed it, kept
 *                   only once it verified with that key
 *   ID.image(.part) the image being handed to it, resumable
 * For a secondary with an assigned image the steps are those of aktualizr's
 * primary: getInfo (is it the configured ECU, with the registered key?),
 * version, the missing root versions of each repository it verifies, the
 * metadata (both repositories for full verification, the Director's for
 * partial), the image in chunks, install; then, every cycle, its report.
 * A step that fails ends that secondary's update, with the failure kept
 * for the manifest's installation report; it never touches the others. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/ipuptane.h>
#include <uptake/json.h>
#include <uptake/key.h>
#include <uptake/manifest.h>
#include <uptake/uptane.h>

#include "../host/host.h"
#include "agent.h"

#define META_MAX ((size_t)UPT_DEFAULT_TARGETS_MAX)

void sec_state_path(char *out, size_t cap, const struct agent_config *c,
		    const struct agent_secondary *s, const char *ext)
{
	uint8_t d[UPT_SHA512_LEN];
	char hex[2 * UPT_SHA256_LEN + 1];
	const struct upt_crypto *cr = upt_openssl_crypto();
	if (cr->hash(cr->ctx, UPT_HASH_SHA256, (const uint8_t *)s->serial, strlen(s->serial), d) !=
	    UPT_OK)
		memset(d, 0, sizeof d);
	upt_hex_encode(hex, d, UPT_SHA256_LEN);
	snprintf(out, cap, "%s/secondaries/%.32s.%s", c->state_dir, hex, ext);
}

/* The registered key of secondary `s`, parsed into `a`. */
static int registered_key(struct upt_key *k, struct upt_arena *a, const struct agent_config *c,
			  const struct agent_secondary *s, struct upt_error *err)
{
	char path[AGENT_PATH + 128];
	uint8_t *text = NULL;
	size_t len = 0;
	struct upt_json *v = NULL;
	int rc;
	sec_state_path(path, sizeof path, c, s, "key");
	rc = host_read_file(path, STATE_SMALL_MAX, &text, &len, err);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, a, text, len, NULL, err);
	if (rc == UPT_OK)
		rc = upt_key_parse(k, a, s->serial, v, upt_openssl_crypto(), err);
	if (rc != UPT_OK)
		upt_error_prefix(err, path);
	free(text);
	return rc;
}

/* Parse and verify a report of secondary `s` (by its registered key). */
static int report_check(struct upt_ecu_report *r, struct upt_arena *a, const struct agent_config *c,
			const struct agent_secondary *s, const uint8_t *json, size_t len,
			struct upt_error *err)
{
	struct upt_key k;
	int rc = registered_key(&k, a, c, s, err);
	if (rc == UPT_OK)
		rc = upt_ecu_report_parse(r, a, json, len, AGENT_REPLY_MAX, s->serial, err);
	if (rc == UPT_OK)
		rc = upt_doc_signed_by(&r->doc, &k, upt_openssl_crypto(), err);
	return rc;
}

static size_t arena_for(size_t len)
{
	return 32 * len + ((size_t)64 << 10);
}

int sec_keys(char **keys, const struct agent_config *c, struct upt_error *err)
{
	char dir[AGENT_PATH + 32], path[AGENT_PATH + 128];
	int rc;
	state_path(dir, sizeof dir, c, "secondaries");
	rc = host_mkdirs(dir, err);
	for (size_t i = 0; i < c->n_secondaries; i++)
		keys[i] = NULL;
	for (size_t i = 0; rc == UPT_OK && i < c->n_secondaries; i++) {
		struct sec_info info;
		const struct agent_secondary *s = &c->secondary[i];
		rc = sec_get_info(&info, c, s, err);
		if (rc != UPT_OK)
			break;
		sec_state_path(path, sizeof path, c, s, "key");
		rc = host_write_file(path, info.key_json, strlen(info.key_json), err);
		keys[i] = info.key_json;
		info.key_json = NULL;
		sec_info_dispose(&info);
	}
	if (rc != UPT_OK) {
		for (size_t i = 0; i < c->n_secondaries; i++) {
			upt_free(keys[i]);
			keys[i] = NULL;
		}
	}
	return rc;
}

void sec_load(struct sec_cycle *e, const struct agent_config *c, const struct agent_secondary *s)
{
	char path[AGENT_PATH + 128];
	uint8_t *text = NULL;
	size_t len = 0;
	void *mem = NULL;
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	memset(e, 0, sizeof *e);
	e->s = s;
	sec_state_path(path, sizeof path, c, s, "report");
	if (host_read_file(path, AGENT_REPLY_MAX, &text, &len, &err) != UPT_OK)
		return;
	if ((mem = malloc(arena_for(len)))) {
		upt_arena_init(&a, mem, arena_for(len));
		/* what was kept verified; it is checked again all the same */
		if (report_check(&r, &a, c, s, text, len, &err) == UPT_OK &&
		    strlen(r.filepath) < sizeof e->installed.name) {
			e->has_report = true;
			snprintf(e->installed.name, sizeof e->installed.name, "%s", r.filepath);
			e->installed.length = r.length;
			if (r.hashes.has_sha256)
				upt_hex_encode(e->installed.sha256, r.hashes.sha256,
					       UPT_SHA256_LEN);
		} else {
			agent_log("secondary %s: the kept report is not used: %s", s->serial,
				  err.msg);
		}
	}
	free(mem);
	free(text);
}

/* The outcome of this cycle's update of `e`, for the installation report. */
static void outcome(struct sec_cycle *e, bool success, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void outcome(struct sec_cycle *e, bool success, const char *code, const char *fmt, ...)
{
	va_list ap;
	e->attempted = true;
	e->success = success;
	snprintf(e->code, sizeof e->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->description, sizeof e->description, fmt, ap);
	va_end(ap);
	agent_log("secondary %s: %s: %s", e->s->serial, success ? "done" : code, e->description);
}

/* A trusted metadata file of the primary (state_dir/REPO/NAME). */
static int meta_file(uint8_t **data, size_t *len, const struct agent_config *c, const char *repo,
		     const char *name, struct upt_error *err)
{
	char path[AGENT_PATH + 128];
	snprintf(path, sizeof path, "%s/%s/%s", c->state_dir, repo, name);
	return host_read_file(path, META_MAX, data, len, err);
}

/* Bring the secondary's root of one repository up to the primary's: each
 * missing version in turn, as the primary verified and kept it, but the
 * latest, which travels in putMetaReq2 with the rest of the metadata (as
 * aktualizr's primary does it: aktualizr-secondary takes the chain's end
 * from there). A secondary with no root (rootVer 0) that refuses version
 * 1 is one that takes its first root from putMetaReq2 (aktualizr-secondary
 * does, uptake-secondary refuses any it was not provisioned with): what
 * it trusts is its own verification's business, so the update goes on. */
static int roots(struct sec_cycle *e, const struct agent_config *c, bool director, int64_t ours,
		 struct upt_error *err)
{
	const char *repo = director ? "director" : "image";
	int64_t theirs = 0;
	int rc = sec_root_version(&theirs, c, e->s, director, err);
	if (rc == UPT_OK && theirs > ours)
		rc = upt_error_set(err, UPT_ERR_ROLLBACK,
				   "secondary %s: trusts %s root version %lld, the primary %lld",
				   e->s->serial, repo, (long long)theirs, (long long)ours);
	for (int64_t v = theirs + 1; rc == UPT_OK && v < ours; v++) {
		char name[48];
		uint8_t *data = NULL;
		size_t len = 0;
		struct sec_result r = {0};
		snprintf(name, sizeof name, "roots/%lld.root.json", (long long)v);
		rc = meta_file(&data, &len, c, repo, name, err);
		if (rc == UPT_OK)
			rc = sec_put_root(&r, c, e->s, director, data, len, err);
		if (rc == UPT_OK && r.code == UPT_IPU_RESULT_OK)
			agent_log("secondary %s: %s root version %lld sent", e->s->serial, repo,
				  (long long)v);
		if (rc == UPT_OK && r.code != UPT_IPU_RESULT_OK && theirs == 0 && v == 1) {
			agent_log("secondary %s: has no %s root and refuses version 1 (%s): the "
				  "roots go in putMetaReq2",
				  e->s->serial, repo, r.description);
			free(data);
			break;
		}
		if (rc == UPT_OK && r.code != UPT_IPU_RESULT_OK)
			rc = upt_error_set(err, UPT_ERR_THRESHOLD,
					   "secondary %s: putRoot %s version %lld: %s: %s",
					   e->s->serial, repo, (long long)v,
					   sec_result_name(r.code), r.description);
		free(data);
	}
	return rc;
}

struct bundle {
	uint8_t *data[6];
	size_t n;
};

static int add_meta(struct upt_ipu_collection *col, struct bundle *b, const struct agent_config *c,
		    const char *repo, const char *role, struct upt_error *err)
{
	char name[32];
	size_t len = 0;
	int rc;
	snprintf(name, sizeof name, "%s.json", role);
	rc = meta_file(&b->data[b->n], &len, c, repo, name, err);
	if (rc != UPT_OK)
		return rc;
	col->items[col->count].role.data = (const uint8_t *)role;
	col->items[col->count].role.len = strlen(role);
	col->items[col->count].json.data = b->data[b->n];
	col->items[col->count].json.len = len;
	col->count++;
	b->n++;
	return UPT_OK;
}

/* putMetaReq2: the Director's root and targets, and for full verification
 * the Image repository's root, timestamp, snapshot and targets (what
 * aktualizr's primary sends). */
static int metadata(struct sec_cycle *e, const struct agent_config *c, struct upt_error *err)
{
	static const char *const image_roles[] = {"root", "timestamp", "snapshot", "targets"};
	struct upt_ipu_put_meta_req2 m;
	struct bundle b = {{0}, 0};
	struct sec_result r = {0};
	int rc;
	memset(&m, 0, sizeof m);
	rc = add_meta(&m.director_repo, &b, c, "director", "root", err);
	if (rc == UPT_OK)
		rc = add_meta(&m.director_repo, &b, c, "director", "targets", err);
	for (size_t i = 0; rc == UPT_OK && !e->s->partial && i < 4; i++)
		rc = add_meta(&m.image_repo, &b, c, "image", image_roles[i], err);
	if (rc == UPT_OK)
		rc = sec_put_meta(&r, c, e->s, &m, err);
	if (rc == UPT_OK && r.code != UPT_IPU_RESULT_OK)
		rc = upt_error_set(err, UPT_ERR_THRESHOLD, "secondary %s: putMetadata: %s: %s",
				   e->s->serial, sec_result_name(r.code), r.description);
	for (size_t i = 0; i < b.n; i++)
		free(b.data[i]);
	return rc;
}

/* The image, verified against the primary's metadata while it streams in
 * (resumable: a cut download continues next cycle). */
static int fetch_image(char *path, size_t cap, const struct agent_config *c,
		       const struct agent_secondary *s, const struct upt_target *image,
		       struct upt_error *err)
{
	char url[1600], q[1024], part[AGENT_PATH + 128], forp[AGENT_PATH + 128], want[80];
	uint8_t *have = NULL;
	size_t hl = 0;
	int64_t at = 0;
	int rc = UPT_OK;
	sec_state_path(path, cap, c, s, "image");
	sec_state_path(part, sizeof part, c, s, "image.part");
	sec_state_path(forp, sizeof forp, c, s, "image.for");
	if (host_file_matches(path, image->length, &image->hashes))
		return UPT_OK;
	if (host_url_quote(q, sizeof q, image->name, true) != UPT_OK)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "image name too long");
	snprintf(url, sizeof url, "%s/repo/targets/%s", c->server, q);
	upt_hex_encode(want, image->hashes.sha256, UPT_SHA256_LEN);
	want[64] = '\n';
	want[65] = 0;
	if (host_read_file(forp, 128, &have, &hl, NULL) != UPT_OK || hl != 65 ||
	    memcmp(have, want, 65) != 0) {
		unlink(part);
		rc = host_write_file(forp, want, 65, err);
	}
	free(have);
	if (rc == UPT_OK)
		rc = host_http_resume_verified(url, part, path, image->length, &image->hashes, &at,
					       err);
	if (at > 0)
		agent_log("secondary %s: resumed the download at %lld of %lld bytes", s->serial,
			  (long long)at, (long long)image->length);
	return rc;
}

/* getInfo: the configured ECU, with the key it registered. */
static int same_ecu(struct sec_cycle *e, const struct agent_config *c, struct upt_error *err)
{
	struct sec_info info;
	char path[AGENT_PATH + 128];
	uint8_t *kept = NULL;
	size_t kl = 0;
	int rc = sec_get_info(&info, c, e->s, err);
	if (rc != UPT_OK)
		return rc;
	sec_state_path(path, sizeof path, c, e->s, "key");
	rc = host_read_file(path, STATE_SMALL_MAX, &kept, &kl, err);
	if (rc == UPT_OK && (kl != strlen(info.key_json) || memcmp(kept, info.key_json, kl) != 0))
		rc = upt_error_set(err, UPT_ERR_KEY,
				   "secondary %s: getInfo: a key other than the registered one",
				   e->s->serial);
	free(kept);
	sec_info_dispose(&info);
	return rc;
}

static const char *failure_code(int rc)
{
	switch (rc) {
	case UPT_ERR_IO:
		return "INTERNAL_ERROR";
	case UPT_ERR_HASH_MISMATCH:
	case UPT_ERR_TOO_LARGE:
	case UPT_ERR_NOT_FOUND:
		return "DOWNLOAD_FAILED";
	default:
		return "VERIFICATION_FAILED";
	}
}

void sec_update(struct sec_cycle *e, const struct agent_config *c, const struct upt_update *u,
		const struct upt_target *bytes, int64_t director_root, int64_t image_root)
{
	struct upt_error err = {0};
	struct sec_result r = {0};
	char image[AGENT_PATH + 128];
	int rc;
	const char *name = u->director->name;
	if (u->director->custom) {
		const struct upt_json *cid = upt_json_get(u->director->custom, "correlationId");
		if (cid && cid->type == UPT_JSON_STRING && cid->len < sizeof e->correlation_id)
			snprintf(e->correlation_id, sizeof e->correlation_id, "%s", cid->str);
	}
	snprintf(e->target, sizeof e->target, "%s", name);
	agent_log("secondary %s: updating to %s", e->s->serial, name);
	rc = same_ecu(e, c, &err);
	if (rc == UPT_OK)
		rc = sec_version(c, e->s, &err);
	if (rc == UPT_OK)
		rc = roots(e, c, true, director_root, &err);
	if (rc == UPT_OK && !e->s->partial)
		rc = roots(e, c, false, image_root, &err);
	if (rc == UPT_OK)
		rc = metadata(e, c, &err);
	if (rc == UPT_OK)
		rc = fetch_image(image, sizeof image, c, e->s, bytes, &err);
	if (rc == UPT_OK)
		rc = sec_upload(&r, c, e->s, image, bytes->length, &err);
	if (rc == UPT_OK && r.code != UPT_IPU_RESULT_OK) {
		outcome(e, false, sec_result_name(r.code), "%s: uploadData: %s", name,
			r.description);
		return;
	}
	if (rc == UPT_OK)
		rc = sec_install(&r, c, e->s, name, &err);
	if (rc != UPT_OK) {
		outcome(e, false, failure_code(rc), "%s: %s: %s", name, upt_err_name(rc), err.msg);
		return;
	}
	/* NEED_COMPLETION: installed, active after the secondary's reboot */
	if (r.code == UPT_IPU_RESULT_OK || r.code == UPT_IPU_RESULT_NEED_COMPLETION) {
		unlink(image);
		outcome(e, true, sec_result_name(r.code), "%s installed%s%s", name,
			r.description[0] ? ": " : "", r.description);
	} else {
		outcome(e, false, sec_result_name(r.code), "%s: install: %s", name, r.description);
	}
}

void sec_collect(struct sec_cycle *e, const struct agent_config *c)
{
	char path[AGENT_PATH + 128], *json = NULL;
	size_t len = 0;
	void *mem = NULL;
	struct upt_ecu_report r;
	struct upt_arena a;
	struct upt_error err = {0};
	int rc = sec_manifest(&json, &len, c, e->s, &err);
	if (rc == UPT_OK && !(mem = malloc(arena_for(len))))
		rc = upt_error_set(&err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, arena_for(len));
		rc = report_check(&r, &a, c, e->s, (const uint8_t *)json, len, &err);
		if (rc != UPT_OK)
			upt_error_prefix(&err, "its report");
	}
	if (rc == UPT_OK) {
		sec_state_path(path, sizeof path, c, e->s, "report");
		rc = host_write_file(path, json, len, &err);
	}
	if (rc == UPT_OK) {
		e->has_report = true;
		e->fresh = true;
	} else {
		agent_log("secondary %s: no new report (%s: %s); the manifest carries its last",
			  e->s->serial, upt_err_name(rc), err.msg);
	}
	free(mem);
	free(json);
}
