/* uptake-agent: the signed version manifest. The primary's version report
 * (what the running slot holds, the report counter, attacks detected) is
 * signed by its ECU key; each secondary's last report goes in as that
 * secondary signed it; the installation reports say how each install
 * not yet reported went (the primary's, this cycle's secondaries'), one per
 * ECU; the primary signs the vehicle manifest around them. All of it is written through libuptake's
 * JSON writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/arena.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>
#include <uptake/manifest.h>

#include "../host/host.h"
#include "agent.h"

#define NO_IMAGE     "0000000000000000000000000000000000000000000000000000000000000000"
#define REPORT_ARENA ((size_t)256 << 10)

/* Sign JSON text with the ECU key (*doc upt_malloc'd). */
static int sign_json(char **doc, const char *text, struct upt_privkey *key,
		     enum upt_dialect dialect, struct upt_error *err)
{
	size_t len = 0;
	*doc = NULL;
	return upt_privkey_sign_document(doc, &len, text, &key, 1, dialect, err);
}

/* The dialect of the Director this device trusts (its newest trusted root,
 * else the root it was provisioned with): reports are spelt as the
 * repositories are, so that a server built for aktualizr reads them as
 * aktualizr's (signatures with a method, base64; the report counter as a
 * string of digits). */
static enum upt_dialect director_dialect(const struct agent_config *c)
{
	char path[AGENT_PATH + 32];
	uint8_t *text = NULL;
	size_t len = 0;
	enum upt_dialect d = UPT_DIALECT_TUF;
	void *mem = NULL;
	struct upt_arena a;
	struct upt_doc doc;
	state_path(path, sizeof path, c, "director/root.json");
	if (host_read_file(path, 1u << 20, &text, &len, NULL) != UPT_OK &&
	    host_read_file(c->director_root, 1u << 20, &text, &len, NULL) != UPT_OK)
		return d;
	if ((mem = malloc(32 * len + 65536)) != NULL) {
		upt_arena_init(&a, mem, 32 * len + 65536);
		if (upt_doc_parse(&doc, &a, text, len, 0, "root.json", NULL) == UPT_OK)
			d = doc.dialect;
	}
	free(mem);
	upt_free(text);
	return d;
}

/* The ECU version report's signed part. */
static int version_report(char **out, const struct agent_config *c, const struct slot_info *running,
			  const char *attack, int64_t counter, enum upt_dialect dialect,
			  struct upt_error *err)
{
	char digits[24];
	struct upt_json top, v[8], *items[4], *fileinfo[2], *hashes[1], *image[2];
	hashes[0] =
	    agent_json_str(&v[0], "sha256", running->sha256[0] ? running->sha256 : NO_IMAGE);
	fileinfo[0] = agent_json_obj(&v[1], "hashes", hashes, 1);
	fileinfo[1] = agent_json_int(&v[2], "length", running->length);
	image[0] = agent_json_obj(&v[3], "fileinfo", fileinfo, 2);
	image[1] = agent_json_str(&v[4], "filepath", running->name[0] ? running->name : "none");
	items[0] = agent_json_str(&v[5], "attacks_detected", attack ? attack : "");
	items[1] = agent_json_str(&v[6], "ecu_serial", c->primary_serial);
	items[2] = agent_json_obj(&v[7], "installed_image", image, 2);
	snprintf(digits, sizeof digits, "%lld", (long long)counter);
	items[3] = dialect == UPT_DIALECT_AKTUALIZR
		       ? agent_json_str(&top, "report_counter", digits)
		       : agent_json_int(&top, "report_counter", counter);
	{
		struct upt_json doc;
		return agent_json_text(out, agent_json_obj(&doc, NULL, items, 4), err);
	}
}

/* Text the agent writes into state and reports as it is. */
static bool plain_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

int agent_install_result_parse(struct install_result *r, const uint8_t *data, size_t len,
			       struct upt_error *err)
{
	char text[STATE_SMALL_MAX], *lines[4] = {0};
	size_t n = 0;
	memset(r, 0, sizeof *r);
	if (len >= sizeof text || memchr(data, 0, len) || !len || data[len - 1] != '\n')
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "install.result: not lines of text");
	memcpy(text, data, len);
	text[len] = 0;
	for (char *p = text; *p && n < 4;) {
		char *nl = strchr(p, '\n');
		*nl = 0;
		lines[n++] = p;
		p = nl + 1;
	}
	if (n < 2 || n > 3 || !lines[0][0] || strlen(lines[0]) >= sizeof r->cid ||
	    !plain_text(lines[0]) ||
	    (strcmp(lines[1], "ok") != 0 && strcmp(lines[1], "failed") != 0 &&
	     strcmp(lines[1], "downloaded") != 0) ||
	    (n == 3 && (strlen(lines[2]) >= sizeof r->code || !plain_text(lines[2]))))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "install.result: expected CID, ok, failed or downloaded, and "
				     "a code");
	snprintf(r->cid, sizeof r->cid, "%s", lines[0]);
	r->downloaded = strcmp(lines[1], "downloaded") == 0;
	r->success = r->downloaded || strcmp(lines[1], "ok") == 0;
	snprintf(r->code, sizeof r->code, "%s", n == 3 ? lines[2] : r->success ? "OK" : "FAILED");
	return UPT_OK;
}

int agent_install_result(const struct agent_config *c, bool success, const char *code,
			 struct upt_error *err)
{
	char cid[300], text[400];
	if (state_read(c, "install.cid", cid, sizeof cid) != 0)
		return UPT_OK; /* the Director gave no correlation id */
	cid[strcspn(cid, "\n")] = 0;
	if (!cid[0] || strlen(cid) > 256 || !plain_text(cid) || !plain_text(code))
		return UPT_OK;
	snprintf(text, sizeof text, "%s\n%s\n%s\n", cid, success ? "ok" : "failed", code);
	return state_write(c, "install.result", text, err);
}

/* aktualizr's installation report, for one ECU: how the install under
 * the correlation id went. */
struct ir_nodes {
	struct upt_json v[16];
	struct upt_json *res[3], *res2[3], *item[2], *items[1], *rep[4], *outer[2];
};

static struct upt_json *one_report(struct ir_nodes *t, const char *key, const char *cid,
				   const char *ecu, bool success, const char *code,
				   const char *description, const char *raw)
{
	struct upt_json *v = t->v, **res = t->res, **res2 = t->res2, **item = t->item,
			**items = t->items, **rep = t->rep, **outer = t->outer;
	res[0] = agent_json_str(&v[0], "code", code);
	res[1] = agent_json_str(&v[1], "description", description);
	res[2] = agent_json_bool(&v[2], "success", success);
	item[0] = agent_json_str(&v[3], "ecu", ecu);
	item[1] = agent_json_obj(&v[4], "result", res, 3);
	items[0] = agent_json_obj(&v[5], NULL, item, 2);
	res2[0] = agent_json_str(&v[6], "code", code);
	res2[1] = agent_json_str(&v[7], "description", description);
	res2[2] = agent_json_bool(&v[8], "success", success);
	rep[0] = agent_json_str(&v[9], "correlation_id", cid);
	rep[1] = agent_json_arr(&v[10], "items", items, 1);
	rep[2] = agent_json_str(&v[11], "raw_report", raw);
	rep[3] = agent_json_obj(&v[12], "result", res2, 3);
	outer[0] = agent_json_str(&v[13], "content_type", UPT_INSTALLATION_REPORT_TYPE);
	outer[1] = agent_json_obj(&v[14], "report", rep, 4);
	return agent_json_obj(&v[15], key, outer, 2);
}

/* Every install outcome not yet reported, one report per ECU with that
 * ECU's correlation id: the primary's pending result first, then each
 * secondary updated or tried this cycle. The first goes into
 * `installation_report` (aktualizr's single field), the others into
 * `installation_reports`, so that none is lost when several finish in one
 * cycle. */
struct inst {
	struct ir_nodes r[1 + AGENT_SECONDARIES_MAX];
	struct upt_json *more[AGENT_SECONDARIES_MAX], arr;
	char raw[1 + AGENT_SECONDARIES_MAX][UPT_INSTALL_TEXT_MAX];
};

/* items[] gets the report fields (at most 2); their number. */
static size_t installation(struct upt_json **items, struct inst *w, const struct agent_config *c,
			   const struct install_result *pir, const struct sec_cycle *secs, size_t n)
{
	struct upt_json *first = NULL;
	size_t k = 0, nr = 0;
	if (pir)
		first = one_report(&w->r[nr++], "installation_report", pir->cid, c->primary_serial,
				   pir->success, pir->code,
				   pir->downloaded
				       ? "downloaded and verified; not installed (download only)"
				   : pir->success ? "installed and healthy"
						  : pir->code,
				   "");
	for (size_t i = 0; secs && i < n && k < AGENT_SECONDARIES_MAX; i++) {
		const struct sec_cycle *e = &secs[i];
		struct upt_json *r;
		if (!e->attempted)
			continue;
		snprintf(w->raw[nr], sizeof w->raw[nr], "%s: %s: %s", e->s->serial, e->code,
			 e->description);
		r = one_report(&w->r[nr], first ? NULL : "installation_report", e->correlation_id,
			       e->s->serial, e->success, e->code, e->description, w->raw[nr]);
		nr++;
		if (!first)
			first = r;
		else
			w->more[k++] = r;
	}
	if (!first)
		return 0;
	items[0] = first;
	if (k == 0)
		return 1;
	items[1] = agent_json_arr(&w->arr, "installation_reports", w->more, k);
	return 2;
}

static int by_key(const void *a, const void *b)
{
	const struct upt_json *x = *(const struct upt_json *const *)a;
	const struct upt_json *y = *(const struct upt_json *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int d = memcmp(x->key, y->key, n);
	return d ? d : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Every secondary's last report as it signed it (texts[i] NULL when none
 * is kept); *total their length. */
static void kept_reports(uint8_t **texts, size_t *lens, size_t *total, const struct agent_config *c)
{
	*total = 0;
	for (size_t i = 0; i < c->n_secondaries; i++) {
		char path[AGENT_PATH + 128];
		texts[i] = NULL;
		lens[i] = 0;
		sec_state_path(path, sizeof path, c, &c->secondary[i], "report");
		if (host_read_file(path, AGENT_REPLY_MAX, &texts[i], &lens[i], NULL) != UPT_OK)
			texts[i] = NULL;
		*total += lens[i];
	}
}

/* The vehicle manifest's signed part: the primary's signed report and each
 * secondary's last one, untouched (the writer gives back the same canonical
 * form each signature covers), and the installation report. */
static int vehicle_manifest(char **out, const struct agent_config *c, const char *ecu_doc,
			    const struct sec_cycle *secs, size_t n_secs,
			    const struct install_result *pir, struct upt_error *err)
{
	struct upt_json v[4], doc, *items[5], *ecus[AGENT_SECONDARIES_MAX + 1], *report = NULL;
	uint8_t *texts[AGENT_SECONDARIES_MAX];
	size_t lens[AGENT_SECONDARIES_MAX], total = 0, n = 0, k = 0, cap;
	struct inst *w = calloc(1, sizeof *w);
	struct upt_arena a;
	void *mem = NULL;
	int rc = UPT_OK;
	*out = NULL;
	kept_reports(texts, lens, &total, c);
	cap = REPORT_ARENA + 32 * total;
	if (!w || !(mem = malloc(cap)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, cap);
		rc = upt_json_parse(&report, &a, (const uint8_t *)ecu_doc, strlen(ecu_doc), NULL,
				    err);
	}
	if (rc == UPT_OK) {
		report->key = c->primary_serial;
		report->key_len = strlen(c->primary_serial);
		ecus[n++] = report;
		for (size_t i = 0; i < c->n_secondaries; i++) {
			if (!texts[i] ||
			    upt_json_parse(&ecus[n], &a, texts[i], lens[i], NULL, NULL) != UPT_OK)
				continue;
			ecus[n]->key = c->secondary[i].serial;
			ecus[n]->key_len = strlen(c->secondary[i].serial);
			n++;
		}
		qsort(ecus, n, sizeof *ecus, by_key);
		items[k++] = agent_json_bool(&v[0], "auto_update", c->auto_update);
		items[k++] = agent_json_obj(&v[1], "ecu_version_manifests", ecus, n);
		k += installation(&items[k], w, c, pir, secs, n_secs);
		items[k++] = agent_json_str(&v[2], "primary_ecu_serial", c->primary_serial);
		rc = agent_json_text(out, agent_json_obj(&doc, NULL, items, k), err);
	}
	for (size_t i = 0; i < c->n_secondaries; i++)
		free(texts[i]);
	free(mem);
	free(w);
	return rc;
}

/* Report what the running slot holds: success is only ever reported from
 * the slot that booted and passed its health checks. */
int agent_report(const struct agent_config *c, const struct slot_info *running, const char *attack,
		 const struct sec_cycle *secs, size_t n_secs, struct upt_error *err)
{
	struct upt_privkey *key = NULL;
	char keyid[UPT_KEYID_MAX + 1], counter_text[32];
	char *text = NULL, *ecu = NULL, *body = NULL, *manifest = NULL;
	int64_t counter = 0;
	enum upt_dialect dialect = director_dialect(c);
	struct install_result ir;
	char ir_text[STATE_SMALL_MAX] = "";
	bool has_ir = false;
	int rc = state_ecu_key(c, &key, keyid, err);
	if (state_read(c, "install.result", ir_text, sizeof ir_text) == 0) {
		struct upt_error e2 = {0};
		has_ir = agent_install_result_parse(&ir, (const uint8_t *)ir_text, strlen(ir_text),
						    &e2) == UPT_OK;
		if (!has_ir)
			agent_log("%s/%s (not reported)", c->state_dir, e2.msg);
	}
	/* a counter file that does not parse is not guessed at: a counter too
	 * low would be refused as a replay, one too high skips ahead */
	if (rc == UPT_OK) {
		int got = state_read(c, "counter", counter_text, sizeof counter_text);
		if (got == -2)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "%s/counter: too long or unreadable", c->state_dir);
		else if (got == 0)
			rc = state_parse_counter(&counter, (const uint8_t *)counter_text,
						 strlen(counter_text), err);
		if (rc != UPT_OK && got == 0)
			upt_error_prefix(err, c->state_dir);
	}
	counter++;
	if (rc == UPT_OK)
		rc = version_report(&text, c, running, attack, counter, dialect, err);
	if (rc == UPT_OK)
		rc = sign_json(&ecu, text, key, dialect, err);
	if (rc == UPT_OK)
		rc = vehicle_manifest(&body, c, ecu, secs, n_secs, has_ir ? &ir : NULL, err);
	if (rc == UPT_OK)
		rc = sign_json(&manifest, body, key, dialect, err);
	/* the counter moves before sending: a lost answer never reuses one */
	snprintf(counter_text, sizeof counter_text, "%lld\n", (long long)counter);
	if (rc == UPT_OK)
		rc = state_write(c, "counter", counter_text, err);
	if (rc == UPT_OK)
		rc = agent_request(c, "PUT", "/director/manifest", manifest, err);
	if (rc == UPT_OK)
		agent_log("report sent: %s runs %s", c->primary_serial,
			  running->name[0] ? running->name : "nothing yet");
	if (rc == UPT_OK && (has_ir || ir_text[0])) {
		char path[AGENT_PATH + 32];
		state_path(path, sizeof path, c, "install.result");
		unlink(path); /* taken: not reported twice */
	}
	free(text);
	upt_free(ecu); /* the signed documents are upt_malloc'd */
	free(body);
	upt_free(manifest);
	upt_privkey_free(key);
	return rc;
}
