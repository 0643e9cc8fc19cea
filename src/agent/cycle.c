/* uptake-agent: one update cycle, as steps per ECU. A new slot on trial
 * proves itself first (health checks, or back to the previous slot); then
 * Uptane full verification of both repositories for every ECU of the
 * device; the primary's update is downloaded (resumable, verified while it
 * streams) into the inactive slot, read back, and the bootloader switched
 * to try it; each secondary with an assigned image gets its metadata, image
 * and install over the link (secondaries.c), a failure stopping that
 * secondary only; every secondary's new signed report is collected; last,
 * the signed manifest of what runs now. The report never holds up the
 * install: it comes after the switch, and a failed one is sent again next
 * cycle. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "../host/host.h"
#include "agent.h"

#define ARENA_SIZE ((size_t)64 << 20)

struct cycle {
	const struct agent_config *c;
	struct upt_error err;
	struct bootenv b;
	struct slot_info running;
	int slot;
	bool ab;
	char attack[300];
	struct sec_cycle sec[AGENT_SECONDARIES_MAX];
};

/* Test mode of a power cut at POINT (agent_test_pause_at): the signed
 * report of what runs goes out first (the test sees which slot came back
 * after the previous cut), then the agent stops there (unless the stop
 * is further down, in the U-Boot store's write). */
static void test_point(struct cycle *y, const char *point, bool stop)
{
	struct upt_error rerr = {0};
	if (!agent_test_pause_at(point))
		return;
	if (agent_report(y->c, &y->running, y->attack, NULL, 0, &rerr) != UPT_OK)
		agent_log("report failed: %s", rerr.msg);
	if (stop)
		agent_test_pause(point);
}

static bool attack_class(int code)
{
	switch (code) {
	case UPT_ERR_IO:
	case UPT_ERR_NOMEM:
	case UPT_ERR_NOT_FOUND:
		return false;
	default:
		return true;
	}
}

/* The bootloader gave up on a slot that never booted far enough (it sets
 * uptake_fell_back when it falls back): that image is not retried. */
static int after_fallback(struct cycle *y)
{
	struct slot_info dead;
	int gone = y->b.active ? 0 : 1;
	state_slot_load(y->c, gone, &dead);
	agent_log("the bootloader fell back from slot %c (%s): boot count spent", gone ? 'b' : 'a',
		  dead.name);
	y->b.fell_back = false;
	if (state_remember_failed(y->c, dead.sha256, &y->err) != UPT_OK ||
	    agent_install_result(y->c, false, "BOOT_FAILED", &y->err) != UPT_OK ||
	    boot_save(&y->b, y->c, &y->err) != UPT_OK)
		return -1;
	return 0;
}

/* A new slot on trial proves itself before anything else: 0 committed,
 * EXIT_REBOOT when it failed and the previous slot is restored, 1 error. */
static int trial(struct cycle *y)
{
	const struct agent_config *c = y->c;
	struct slot_info old;
	int rc;
	if (agent_healthy(c, y->slot, &y->running)) {
		if (agent_test_pause_at("commit"))
			agent_test_pause("commit");
		y->b.upgrade_available = false;
		y->b.bootcount = 0;
		agent_log("slot %c is good: %s committed", y->slot ? 'b' : 'a', y->running.name);
		if (agent_install_result(c, true, "OK", &y->err) != UPT_OK)
			return 1;
		return boot_save(&y->b, c, &y->err) == UPT_OK ? 0 : 1;
	}
	state_slot_load(c, y->b.previous, &old);
	agent_log("slot %c failed its health checks: back to slot %c (%s)", y->slot ? 'b' : 'a',
		  y->b.previous ? 'b' : 'a', old.name);
	y->b.active = y->b.previous;
	y->b.upgrade_available = false;
	y->b.bootcount = 0;
	rc = boot_save(&y->b, c, &y->err);
	/* not tried again automatically: a new image is needed */
	if (rc == UPT_OK)
		rc = state_remember_failed(c, y->running.sha256, &y->err);
	/* the signed installation report says so, with the correlation id */
	if (rc == UPT_OK)
		rc = agent_install_result(c, false, "HEALTH_CHECK_FAILED", &y->err);
	if (rc == UPT_OK) {
		struct upt_error rerr = {0};
		if (agent_report(c, &old, "", NULL, 0, &rerr) != UPT_OK)
			agent_log("report failed (sent again next cycle): %s", rerr.msg);
	}
	return rc == UPT_OK ? EXIT_REBOOT : 1;
}

/* Download the verified image into `slot` (a slot, or the download area
 * of a device without A/B slots; `letter` names it): resumable (a partial
 * download for the same image and slot is continued with Range), and read
 * back: what is in the slot is what was verified. A slot that holds the
 * verified image already (downloaded for a download-only assignment) is
 * not fetched again; a download area that holds it is moved in. `cut`:
 * test mode, where a power cut stops the write to a block device (-1:
 * none). */
static int download_into(struct cycle *y, const struct upt_target *image, const char *slot,
			 char letter, int64_t cut)
{
	const struct agent_config *c = y->c;
	char url[1600], q[1024], part[AGENT_PATH + 16], dest[AGENT_PATH + 16], want[128], have[128];
	char staged[AGENT_PATH + 16];
	struct stat st;
	bool blockdev = stat(slot, &st) == 0 && S_ISBLK(st.st_mode);
	int64_t at = 0;
	int rc = UPT_OK;
	/* sha256 while downloading, sha512 on the read-back of the slot (one
	 * hash twice when the metadata gives one) */
	struct upt_hashes first = image->hashes, later = image->hashes;
	if (first.has_sha256 && first.has_sha512) {
		first.has_sha512 = false;
		later.has_sha256 = false;
	}
	if (blockdev ? host_prefix_matches(slot, image->length, &image->hashes)
		     : host_file_matches(slot, image->length, &image->hashes)) {
		agent_log("slot %c holds %s already (downloaded before)", letter, image->name);
		return UPT_OK;
	}
	state_path(staged, sizeof staged, c, "staged.img");
	if (strcmp(staged, slot) != 0 && !blockdev &&
	    host_file_matches(staged, image->length, &image->hashes) && rename(staged, slot) == 0) {
		agent_log("%s: taken from the download area", image->name);
		if (host_file_matches(slot, image->length, &image->hashes))
			return UPT_OK;
		return upt_error_set(&y->err, UPT_ERR_HASH_MISMATCH,
				     "slot %c: read-back does not match", letter);
	}
	if (host_url_quote(q, sizeof q, image->name, true) != UPT_OK)
		return upt_error_set(&y->err, UPT_ERR_TOO_LARGE, "image name too long");
	snprintf(url, sizeof url, "%s/repo/targets/%s", c->server, q);
	upt_hex_encode(want, image->hashes.sha256, UPT_SHA256_LEN);
	snprintf(want + 64, sizeof want - 64, " %c\n", letter);
	/* a file slot is replaced by rename; a block device gets the verified
	 * image copied in from the state directory */
	if (blockdev) {
		state_path(part, sizeof part, c, "download.part");
		state_path(dest, sizeof dest, c, "download.img");
	} else {
		snprintf(part, sizeof part, "%s.part", slot);
		snprintf(dest, sizeof dest, "%s", slot);
	}
	if (state_read(c, "download.for", have, sizeof have) != 0 || strcmp(have, want) != 0) {
		unlink(part);
		if (blockdev)
			unlink(dest);
		rc = state_write(c, "download.for", want, &y->err);
	}
	/* a verified copy left by a power cut during the write to the slot is
	 * written again (checked against the signed hashes), not fetched again
	 * next to itself */
	if (rc == UPT_OK && blockdev && host_file_matches(dest, image->length, &image->hashes))
		agent_log("the verified download is still here: written to slot %c again", letter);
	else if (rc == UPT_OK) {
		if (blockdev)
			unlink(dest);
		rc =
		    host_http_resume_verified(url, part, dest, image->length, &first, &at, &y->err);
	}
	if (at > 0)
		agent_log("resumed the download at %lld of %lld bytes", (long long)at,
			  (long long)image->length);
	if (rc == UPT_OK && blockdev && cut >= 0) {
		/* test mode: a power cut in the middle of the write */
		rc = host_copy_to_device(dest, slot, cut, &y->err);
		test_point(y, "image-write", true);
		test_point(y, "tree-write", true);
	}
	if (rc == UPT_OK && blockdev) {
		rc = host_copy_to_device(dest, slot, -1, &y->err);
		unlink(dest);
	}
	/* the read-back checks the hash the download did not: every signed
	 * hash holds before the slot is used, each computed once */
	if (rc == UPT_OK && !(blockdev ? host_prefix_matches(slot, image->length, &later)
				       : host_file_matches(slot, image->length, &later)))
		rc = upt_error_set(&y->err, UPT_ERR_HASH_MISMATCH,
				   "slot %c: read-back does not match", letter);
	return rc;
}

static int download(struct cycle *y, const struct upt_target *image, int to, int64_t cut)
{
	return download_into(y, image, y->c->slot[to], to ? 'b' : 'a', cut);
}

/* An image refused for its dm-verity parameters or hash tree: nothing is
 * switched, the reason goes into the report, and the image is not tried
 * again (a new target is needed). */
static int refuse(struct cycle *y, const char *image, const char *sha256, int rc)
{
	struct upt_error ferr;
	upt_error_prefix(&y->err, image);
	agent_log("install refused: %s", y->err.msg);
	snprintf(y->attack, sizeof y->attack, "%s: %s", upt_err_name(rc), y->err.msg);
	if (state_remember_failed(y->c, sha256, &ferr) != UPT_OK)
		agent_log("%s", ferr.msg);
	return rc;
}

/* The Director's correlation id for this install (custom.correlationId of
 * its verified target), for the installation report that says how it went. */
static int remember_cid(struct cycle *y, const struct upt_update *u)
{
	const struct upt_json *cid = upt_json_get(u->director->custom, "correlationId");
	char text[300], path[AGENT_PATH + 32];
	bool plain = cid && cid->type == UPT_JSON_STRING && cid->len > 0 && cid->len <= 256;
	for (size_t i = 0; plain && i < cid->len; i++)
		plain = (unsigned char)cid->str[i] >= 0x20 && cid->str[i] != 0x7f &&
			cid->str[i] != '"' && cid->str[i] != '\\';
	state_path(path, sizeof path, y->c, "install.result");
	unlink(path); /* a result of an earlier install is stale now */
	if (!plain) {
		state_path(path, sizeof path, y->c, "install.cid");
		unlink(path);
		return UPT_OK;
	}
	snprintf(text, sizeof text, "%s\n", cid->str);
	return state_write(y->c, "install.cid", text, &y->err);
}

/* Test mode: where the write of the image into the slot is cut (-1: not):
 * half-way through its data, or through its dm-verity hash tree. */
static int64_t test_cut(const struct upt_target *image, const struct verity_params *vp)
{
	int64_t data = vp->present ? vp->hash_offset : image->length;
	if (agent_test_pause_at("image-write"))
		return data / 2 / 4096 * 4096;
	if (agent_test_pause_at("tree-write") && vp->present)
		return data + (image->length - data) / 2 / 4096 * 4096;
	return -1;
}

/* Install a verified update: into the slot, through the script when that
 * is the backend, then the slot record and the boot switch. */
static int install(struct cycle *y, const struct upt_update *u)
{
	const struct agent_config *c = y->c;
	struct slot_info target;
	int to = y->ab ? 1 - y->slot : 0;
	char h[65];
	int rc;
	struct verity_params vp;
	upt_hex_encode(h, u->image->hashes.sha256, UPT_SHA256_LEN);
	/* a dm-verity slot: its signed parameters, checked before anything
	 * is written; a device that requires them refuses a target without */
	rc = verity_parse(&vp, u->image->custom, u->image->length, &y->err);
	if (rc == UPT_OK && y->ab && c->verity_required && !vp.present)
		rc = upt_error_set(&y->err, UPT_ERR_FIELD_VALUE,
				   "no custom.verity, and this device requires dm-verity slots "
				   "(verity = required)");
	if (rc != UPT_OK)
		return refuse(y, u->image->name, h, rc);
	agent_log("installing %s into slot %c%s", u->image->name, to ? 'b' : 'a',
		  vp.present ? " (dm-verity)" : "");
	rc = remember_cid(y, u);
	if (rc == UPT_OK)
		rc = download(y, u->image, to, test_cut(u->image, &vp));
	/* the hash tree in the slot is the data's, with the signed root */
	if (rc == UPT_OK && vp.present && y->ab) {
		rc = verity_check(c->slot[to], &vp, &y->err);
		if (rc != UPT_OK) {
			upt_error_prefix(&y->err, c->slot[to]);
			return refuse(y, u->image->name, h, rc);
		}
		agent_log("slot %c: the dm-verity hash tree matches the signed root hash",
			  to ? 'b' : 'a');
	}
	/* script: the verified image is handed to the installer */
	if (rc == UPT_OK && strcmp(c->install, "script") == 0) {
		int src = agent_run(c, c->install_script, c->slot[0], "-", u->image->name);
		if (src != 0) {
			struct upt_error ferr;
			rc = upt_error_set(&y->err, UPT_ERR_IO, "install script exited %d", src);
			if (state_remember_failed(c, h, &ferr) != UPT_OK)
				agent_log("%s", ferr.msg);
		}
	}
	if (rc == UPT_OK) {
		memset(&target, 0, sizeof target);
		snprintf(target.name, sizeof target.name, "%s", u->image->name);
		target.length = u->image->length;
		memcpy(target.sha256, h, sizeof target.sha256);
		rc = state_slot_save(c, to, &target, &y->err);
	}
	if (rc == UPT_OK && y->ab) {
		y->b.previous = y->slot;
		y->b.active = to;
		y->b.upgrade_available = true;
		y->b.bootcount = 0;
		y->b.fell_back = false;
		y->b.verity[to][0] = 0;
		if (vp.present && verity_env_value(y->b.verity[to], sizeof y->b.verity[to], &vp))
			rc =
			    upt_error_set(&y->err, UPT_ERR_TOO_LARGE, "verity parameters too long");
		test_point(y, "switch", true);
		test_point(y, "saveenv", false); /* boot_save stops half-way */
		if (rc == UPT_OK)
			rc = boot_save(&y->b, c, &y->err);
		if (rc == UPT_OK)
			agent_log("bootloader set to try slot %c; reboot needed", to ? 'b' : 'a');
	}
	if (rc != UPT_OK) {
		agent_log("install failed: %s", y->err.msg);
		/* bytes that do not match signed metadata: reported */
		if (rc == UPT_ERR_HASH_MISMATCH || rc == UPT_ERR_TOO_LARGE)
			snprintf(y->attack, sizeof y->attack, "%s: %s", upt_err_name(rc),
				 y->err.msg);
	} else if (!y->ab) {
		y->running = target;
	}
	return rc;
}

/* Whether the Director signed the update as download only
 * (custom.uptake.download_only: true): 1 yes, 0 no, -1 a custom.uptake
 * this agent does not understand (nothing is done with the update). */
static int download_only(const struct upt_update *u)
{
	const struct upt_json *up = upt_json_get(u->director->custom, "uptake"), *d;
	if (!up)
		return 0;
	d = up->type == UPT_JSON_OBJECT ? upt_json_get(up, "download_only") : NULL;
	if (!d || up->n != 1 || (d->type != UPT_JSON_TRUE && d->type != UPT_JSON_FALSE)) {
		agent_log("update %s: custom.uptake of the Director's target is not understood "
			  "(only {\"download_only\": true|false}): not installed",
			  u->director->name);
		return -1;
	}
	return d->type == UPT_JSON_TRUE;
}

/* A download-only update: the image downloaded and verified into the
 * inactive slot (a device without A/B slots: its download area), read
 * back, nothing switched; the installation report says DOWNLOADED, once.
 * The install follows when the Director's targets drop the marker. */
static int download_ahead(struct cycle *y, const struct upt_update *u)
{
	const struct agent_config *c = y->c;
	char h[65], want[400], have[400], staged[AGENT_PATH + 16], text[400], cid[300];
	const struct upt_json *id = upt_json_get(u->director->custom, "correlationId");
	int to = y->ab ? 1 - y->slot : 0;
	char letter = y->ab ? (to ? 'b' : 'a') : 's';
	const char *slot = c->slot[to];
	int rc;
	upt_hex_encode(h, u->image->hashes.sha256, UPT_SHA256_LEN);
	/* the image, the slot and the assignment (a new correlation id, after
	 * an emergency stop and resume, is reported again) */
	snprintf(want, sizeof want, "%s %c %.*s\n", h, letter,
		 id && id->type == UPT_JSON_STRING && id->len <= 256 ? (int)id->len : 0,
		 id && id->type == UPT_JSON_STRING ? id->str : "");
	if (!y->ab) {
		state_path(staged, sizeof staged, c, "staged.img");
		slot = staged;
	}
	if (state_read(c, "downloaded", have, sizeof have) == 0 && strcmp(have, want) == 0 &&
	    host_file_matches(slot, u->image->length, &u->image->hashes)) {
		agent_log("update %s: downloaded, waits for the Director to release its install",
			  u->director->name);
		return UPT_OK;
	}
	agent_log("update %s is download only: downloading into %s%c, not installing",
		  u->director->name, y->ab ? "slot " : "the download area ", y->ab ? letter : ' ');
	rc = remember_cid(y, u);
	if (rc == UPT_OK)
		rc = download_into(y, u->image, slot, letter, -1);
	if (rc == UPT_OK)
		rc = state_write(c, "downloaded", want, &y->err);
	if (rc == UPT_OK && state_read(c, "install.cid", cid, sizeof cid) == 0) {
		cid[strcspn(cid, "\n")] = 0;
		snprintf(text, sizeof text, "%s\ndownloaded\nDOWNLOADED\n", cid);
		rc = state_write(c, "install.result", text, &y->err);
	}
	if (rc == UPT_OK)
		agent_log("%s downloaded and verified: not installed (download only)",
			  u->image->name);
	else {
		agent_log("download failed: %s", y->err.msg);
		if (rc == UPT_ERR_HASH_MISMATCH || rc == UPT_ERR_TOO_LARGE)
			snprintf(y->attack, sizeof y->attack, "%s: %s", upt_err_name(rc),
				 y->err.msg);
	}
	return rc;
}

/* The Image repository signed it as a security update (custom.security). */
static bool security(const struct upt_update *u)
{
	const struct upt_json *custom = u->image ? u->image->custom : NULL;
	const struct upt_json *sec = custom ? upt_json_get(custom, "security") : NULL;
	return sec && sec->type == UPT_JSON_TRUE;
}

/* Which verified update ECU `ecu` (0: the primary) is to install (NULL:
 * none, or not now). */
static const struct upt_update *choose(struct cycle *y, const struct upt_verified *v, size_t ecu)
{
	const struct agent_config *c = y->c;
	const struct upt_update *u = NULL;
	for (size_t i = 0; i < v->n_updates; i++) {
		char h[65];
		if (v->updates[i].installed || v->updates[i].ecu != ecu)
			continue;
		upt_hex_encode(h, v->updates[i].image->hashes.sha256, UPT_SHA256_LEN);
		if (ecu == 0 && state_failed_before(c, h)) {
			agent_log("not installing %s again: it failed its health checks",
				  v->updates[i].image->name);
			continue;
		}
		u = &v->updates[i];
	}
	/* a security update is not postponed (CRA Annex I: security updates
	 * without delay); turning automatic updates off still holds it */
	if (u && c->auto_update && (int64_t)time(NULL) < c->postpone_until && security(u))
		agent_log("update %s is a security update: not postponed", u->director->name);
	else if (u && (!c->auto_update || (int64_t)time(NULL) < c->postpone_until)) {
		agent_log("update %s available; not installed: %s", u->director->name,
			  c->auto_update ? "postponed" : "automatic updates are off");
		u = NULL;
	}
	return u;
}

/* The host's repository I/O, with every root it stores also kept by
 * version (the chain handed to secondaries). */
struct keeping_io {
	struct host_repo_io h;
	struct upt_repo_io inner;
	const struct agent_config *c;
	const char *repo;
};

static int keep_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
		      struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct keeping_io *k = ctx;
	return k->inner.fetch(k->inner.ctx, role, version, max_len, a, data, len, err);
}

static int keep_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		     const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct keeping_io *k = ctx;
	return k->inner.load(k->inner.ctx, role, max_len, a, data, len, err);
}

static int keep_store(void *ctx, const char *role, const uint8_t *data, size_t len,
		      struct upt_error *err)
{
	struct keeping_io *k = ctx;
	int rc = k->inner.store(k->inner.ctx, role, data, len, err);
	if (rc == UPT_OK && strcmp(role, "root") == 0)
		rc = agent_keep_root(k->c, k->repo, data, len, err);
	return rc;
}

static void keeping_io(struct upt_repo_io *io, struct keeping_io *k, const struct agent_config *c,
		       const char *repo, const char *url, const char *dir)
{
	k->h.base_url = url;
	k->h.dir = dir;
	k->h.fetches = 0;
	k->c = c;
	k->repo = repo;
	host_repo_io(&k->inner, &k->h);
	io->ctx = k;
	io->fetch = keep_fetch;
	io->load = keep_load;
	io->store = keep_store;
}

/* What ECU `e` is known to run, for the verification. */
static void ecu_installed(struct upt_ecu *e, const struct slot_info *s)
{
	size_t got = 0;
	if (!s->name[0])
		return;
	e->has_installed = true;
	e->installed_length = s->length;
	e->installed_hashes.has_sha256 = upt_hex_decode(e->installed_hashes.sha256, UPT_SHA256_LEN,
							&got, s->sha256, 64) == UPT_OK;
}

struct verified {
	struct upt_repo dr, ir;
	struct upt_arena da, ia;
	struct keeping_io dk, ik;
	struct upt_ecu ecus[AGENT_SECONDARIES_MAX + 1];
	struct upt_verified v;
	char durl[600], iurl[600], ddir[AGENT_PATH + 16], idir[AGENT_PATH + 16];
};

/* Uptane full verification of both repositories for every ECU of the
 * device (the primary and each secondary, with what each is known to run). */
static int verify(struct cycle *y, struct verified *w, void *dm, void *im)
{
	const struct agent_config *c = y->c;
	struct upt_repo_io dio, iio;
	struct upt_device dev = {w->ecus, c->n_secondaries + 1};
	int rc;
	snprintf(w->durl, sizeof w->durl, "%s/director", c->server);
	snprintf(w->iurl, sizeof w->iurl, "%s/repo", c->server);
	state_path(w->ddir, sizeof w->ddir, c, "director");
	state_path(w->idir, sizeof w->idir, c, "image");
	keeping_io(&dio, &w->dk, c, "director", w->durl, w->ddir);
	keeping_io(&iio, &w->ik, c, "image", w->iurl, w->idir);
	upt_arena_init(&w->da, dm, ARENA_SIZE);
	upt_arena_init(&w->ia, im, ARENA_SIZE);
	upt_repo_init(&w->dr, "director", &dio, upt_openssl_crypto(), &w->da, NULL);
	upt_repo_init(&w->ir, "image repository", &iio, upt_openssl_crypto(), &w->ia, NULL);
	w->ecus[0].serial = c->primary_serial;
	w->ecus[0].hardware_id = c->hardware_id;
	ecu_installed(&w->ecus[0], &y->running);
	for (size_t i = 0; i < c->n_secondaries; i++) {
		w->ecus[i + 1].serial = c->secondary[i].serial;
		w->ecus[i + 1].hardware_id = c->secondary[i].hardware_id;
		ecu_installed(&w->ecus[i + 1], &y->sec[i].installed);
	}
	rc = upt_uptane_full_verify(&w->dr, &w->ir, &dev, (int64_t)time(NULL), &w->v, &y->err);
	if (rc != UPT_OK) {
		agent_log("verification failed: %s: %s", upt_err_name(rc), y->err.msg);
		if (attack_class(rc))
			snprintf(y->attack, sizeof y->attack, "%s: %s", upt_err_name(rc),
				 y->err.msg);
	}
	if (rc == UPT_OK) {
		struct upt_error serr = {0};
		if (agent_support_learn(c, w->dr.targets.c.version, &serr) != UPT_OK)
			agent_log("support end not taken: %s", serr.msg);
	}
	return rc;
}

/* The primary's own update: 0, 1 or EXIT_REBOOT. */
static int primary_step(struct cycle *y, const struct upt_verified *v)
{
	const struct upt_update *u = choose(y, v, 0);
	int only = u ? download_only(u) : 0;
	if (only != 0)
		return only > 0 && download_ahead(y, u) == UPT_OK ? 0 : 1;
	if (u && install(y, u) != UPT_OK)
		return 1;
	return u && y->ab ? EXIT_REBOOT : 0;
}

/* Test mode of a compromised primary (UPTAKE_AGENT_TEST_MISDIRECT=SERIAL):
 * secondary SERIAL is handed the image the Director assigned to an ECU of
 * other hardware, as an attacker on the primary would: in place of its own
 * new image when it has one (its metadata, the other image's bytes, its
 * own target installed), else under the other image's name. The
 * secondary's own verification must refuse it. */
static const struct upt_update *misdirect(const struct verified *w, size_t ecu)
{
	const char *serial = getenv("UPTAKE_AGENT_TEST_MISDIRECT");
	if (!serial || strcmp(serial, w->ecus[ecu].serial) != 0)
		return NULL;
	/* a new assignment first, else any */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < w->v.n_updates; i++) {
			const struct upt_update *u = &w->v.updates[i];
			if (u->ecu == ecu || !u->image || (pass == 0 && u->installed) ||
			    strcmp(w->ecus[u->ecu].hardware_id, w->ecus[ecu].hardware_id) == 0)
				continue;
			agent_log("TEST MODE: handing secondary %s the image %s of ECU %s", serial,
				  u->director->name, w->ecus[u->ecu].serial);
			return u;
		}
	return NULL;
}

/* Each secondary with an assigned image, one after the other: a failure
 * ends that secondary's update only. 0 when every one that had something
 * to do succeeded, else 1. */
static int secondary_steps(struct cycle *y, const struct verified *w)
{
	int rc = 0;
	if (!w->v.image_repo_checked)
		return 0;
	for (size_t i = 0; i < y->c->n_secondaries; i++) {
		const struct upt_update *wrong = misdirect(w, i + 1);
		const struct upt_update *u = choose(y, &w->v, i + 1);
		if (!u && !wrong)
			continue;
		if (u && !wrong && download_only(u) != 0) {
			agent_log("secondary %s: %s is download only: not sent until the Director "
				  "releases its install",
				  y->c->secondary[i].serial, u->director->name);
			continue;
		}
		if (!u)
			u = wrong;
		sec_update(&y->sec[i], y->c, u, wrong ? wrong->image : u->image,
			   w->dr.root.c.version, w->ir.root.c.version);
		if (!y->sec[i].success)
			rc = 1;
	}
	return rc;
}

int agent_cycle(const struct agent_config *c)
{
	struct cycle *y = calloc(1, sizeof *y);
	struct verified *w = calloc(1, sizeof *w);
	void *dm = malloc(ARENA_SIZE), *im = malloc(ARENA_SIZE);
	int rc = 1;
	if (!y || !w || !dm || !im) {
		agent_log("out of memory");
		goto done;
	}
	y->c = c;
	y->ab = strcmp(c->install, "ab") == 0;
	if (agent_provision(c, &y->err) != UPT_OK) {
		agent_log("%s: %s", upt_err_name(y->err.code), y->err.msg);
		goto done;
	}
	if (boot_load(&y->b, c, &y->err) != UPT_OK) {
		/* a boot environment the agent (and so the boot script) cannot
		 * read: nothing is installed or switched, and the signed report
		 * says why; what runs is slot a's image, the one the boot script
		 * boots from a store it cannot read */
		struct upt_error rerr = {0};
		agent_log("%s: %s", upt_err_name(y->err.code), y->err.msg);
		snprintf(y->attack, sizeof y->attack, "%s: %s", upt_err_name(y->err.code),
			 y->err.msg);
		state_slot_load(c, 0, &y->running);
		if (agent_report(c, &y->running, y->attack, NULL, 0, &rerr) != UPT_OK)
			agent_log("report failed (sent again next cycle): %s", rerr.msg);
		goto done;
	}
	y->slot = y->ab ? y->b.active : 0;
	state_slot_load(c, y->slot, &y->running);
	if (y->b.fell_back && after_fallback(y) != 0) {
		agent_log("%s", y->err.msg);
		goto done;
	}
	if (y->b.upgrade_available) {
		rc = trial(y);
		if (rc == 1)
			agent_log("%s", y->err.msg);
		if (rc != 0)
			goto done;
	}
	for (size_t i = 0; i < c->n_secondaries; i++)
		sec_load(&y->sec[i], c, &c->secondary[i]);
	/* the steps: verification for every ECU, the primary's update, each
	 * secondary's, then every secondary's new report */
	rc = verify(y, w, dm, im) == UPT_OK ? primary_step(y, &w->v) : 1;
	if (w->v.updates && secondary_steps(y, w) != 0 && rc == 0)
		rc = 1;
	for (size_t i = 0; i < c->n_secondaries; i++)
		sec_collect(&y->sec[i], c);
	/* the report: what runs now (the old slot until the new one proves
	 * itself after the reboot). A failed or stalled report never holds up
	 * the install: the slot is switched already, and the next cycle
	 * reports again */
	{
		struct upt_error rerr = {0};
		if (agent_report(c, &y->running, y->attack, y->sec, c->n_secondaries, &rerr) !=
		    UPT_OK)
			agent_log("report failed (sent again next cycle): %s", rerr.msg);
	}
	/* CRA Art. 13(19): tell the user when support ends (the signed end
	 * last learned; also when the server cannot be reached) */
	agent_support_notify(c, (int64_t)time(NULL));
done:
	free(dm);
	free(im);
	free(w);
	free(y);
	return rc;
}
