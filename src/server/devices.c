/* uptake-server: devices, their ECUs, assignments and signed manifests.
 * Pure request logic (no HTTP): each function takes the request body and
 * returns an upt_err code, a message, and for reads a JSON answer. */
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/manifest.h>

#include "alerts.h"
#include "evidence.h"
#include "jsonout.h"
#include "server.h"

struct work {
	unsigned char *mem;
	struct upt_arena a;
};

static int work_init(struct work *w, size_t input, struct upt_error *err)
{
	size_t cap = 32 * input + (1u << 20);
	if (!(w->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&w->a, w->mem, cap);
	return UPT_OK;
}

struct out {
	char *s;
	size_t len, cap;
	int rc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (o->rc != UPT_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (o->len + (size_t)n + 1 > o->cap) {
		size_t cap = (o->cap ? 2 * o->cap : 1024) + (size_t)n;
		char *s = realloc(o->s, cap);
		if (!s) {
			o->rc = UPT_ERR_NOMEM;
			return;
		}
		o->s = s;
		o->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(o, "\\%c", *p);
		else if (*p < 0x20)
			put(o, "\\u%04x", *p);
		else
			put(o, "%c", *p);
	}
	put(o, "\"");
}

static int finish(struct out *o, char **resp, struct upt_error *err)
{
	if (o->rc != UPT_OK) {
		free(o->s);
		return upt_error_set(err, o->rc, "out of memory");
	}
	*resp = o->s;
	return UPT_OK;
}

/* A device id or ECU serial: printable, no quotes or slashes. */
static bool valid_id(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\' ||
		    s[i] == '/')
			return false;
	return true;
}

static const char *json_str(const struct upt_json *obj, const char *key)
{
	const struct upt_json *v = upt_json_get(obj, key);
	if (!v || v->type != UPT_JSON_STRING || memchr(v->str, 0, v->len))
		return NULL;
	return v->str; /* strings are NUL-terminated in the arena */
}

/* ---- device-facing ------------------------------------------------------ */

int srv_dev_register(struct srv_store *st, const char *device, const uint8_t *body, size_t len,
		     struct upt_error *err)
{
	struct work w;
	struct upt_json *v;
	const struct upt_json *list;
	const char *primary;
	struct srv_ecu *ecus = NULL, *have = NULL;
	size_t n = 0, n_have = 0;
	bool primary_listed = false;
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	primary = rc == UPT_OK ? json_str(v, "primary_ecu_serial") : NULL;
	list = rc == UPT_OK ? upt_json_get(v, "ecus") : NULL;
	if (rc == UPT_OK && (!primary || !valid_id(primary, 127) || !list ||
			     list->type != UPT_JSON_ARRAY || list->n == 0 || list->n > 64))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "registration: needs primary_ecu_serial and 1-64 ecus");
	if (rc == UPT_OK && !(ecus = calloc(list->n, sizeof *ecus)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < list->n; i++) {
		const struct upt_json *e = list->items[i], *key = upt_json_get(e, "clientKey");
		const char *serial = json_str(e, "ecu_serial"),
			   *hw = json_str(e, "hardware_identifier");
		struct upt_key k;
		size_t klen = 0;
		if (!serial || !hw || !key || !valid_id(serial, 127) || !valid_id(hw, 127)) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "registration: ecus[%zu] needs ecu_serial, "
					   "hardware_identifier and clientKey",
					   i);
			break;
		}
		snprintf(ecus[i].serial, sizeof ecus[i].serial, "%s", serial);
		snprintf(ecus[i].hardware_id, sizeof ecus[i].hardware_id, "%s", hw);
		ecus[i].primary = strcmp(serial, primary) == 0;
		primary_listed |= ecus[i].primary;
		rc = upt_key_compute_keyid(ecus[i].keyid, key, &w.a, upt_openssl_crypto(), err);
		if (rc == UPT_OK)
			rc = upt_key_parse(&k, &w.a, ecus[i].keyid, key, upt_openssl_crypto(), err);
		if (rc == UPT_OK) {
			rc = upt_json_write((uint8_t *)ecus[i].public_key,
					    sizeof ecus[i].public_key - 1, &klen, key, err);
			ecus[i].public_key[rc == UPT_OK ? klen : 0] = 0;
		}
		if (rc != UPT_OK)
			upt_error_prefix(err, serial);
		n++;
	}
	if (rc == UPT_OK && !primary_listed)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "registration: the primary ECU is not among the ecus");
	if (rc == UPT_OK) {
		rc = st->ops->ecus_put(st, device, ecus, n, err);
		/* registering the same ECUs again is not an error */
		if (rc == UPT_ERR_STATE &&
		    st->ops->ecus_get(st, device, &have, &n_have, NULL) == UPT_OK && n_have == n) {
			bool same = true;
			for (size_t i = 0; i < n; i++) {
				bool found = false;
				for (size_t j = 0; j < n_have; j++)
					found |=
					    strcmp(have[j].serial, ecus[i].serial) == 0 &&
					    strcmp(have[j].keyid, ecus[i].keyid) == 0 &&
					    strcmp(have[j].hardware_id, ecus[i].hardware_id) == 0;
				same &= found;
			}
			if (same)
				rc = UPT_OK;
		}
		free(have);
	}
	if (rc == UPT_OK)
		srv_log(SRV_LOG_INFO, "device %s: %zu ECUs registered (primary %s)", device, n,
			primary);
	free(ecus);
	free(w.mem);
	return rc;
}

static int ecu_key(struct work *w, const struct srv_ecu *e, struct upt_key *k,
		   struct upt_error *err)
{
	struct upt_json *v;
	int rc = upt_json_parse(&v, &w->a, (const uint8_t *)e->public_key, strlen(e->public_key),
				NULL, err);
	return rc == UPT_OK ? upt_key_parse(k, &w->a, e->keyid, v, upt_openssl_crypto(), err) : rc;
}

/* How one ECU's report in a manifest is judged. */
enum verdict {
	V_REFUSED,  /* unknown ECU, bad signature: alert, nothing stored */
	V_FRESH,    /* counter above the stored one: new state */
	V_NEW,      /* no counter, content never seen: new state */
	V_CACHED,   /* the ECU's last accepted report again: unchanged */
	V_REPLAYED, /* an older report again: alert, nothing stored */
};

struct judged {
	const struct upt_ecu_report *r;
	struct srv_ecu *e; /* NULL: not registered */
	char digest[65];   /* sha256 of the report's canonical signed part */
	char before[65];   /* the image sha256 its previous accepted report named */
	enum verdict v;
	struct upt_error why; /* for V_REFUSED and V_REPLAYED */
};

/* The largest manifest a device with n registered ECUs needs. */
static size_t manifest_bound(const struct srv_policy *p, size_t n)
{
	return p->manifest_base_bytes + n * p->manifest_bytes_per_ecu;
}

static struct srv_ecu *ecu_find(struct srv_ecu *ecus, size_t n, const char *serial)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ecus[i].serial, serial) == 0)
			return &ecus[i];
	return NULL;
}

static void report_digest(char *out, const struct upt_doc *doc)
{
	uint8_t d[UPT_SHA512_LEN];
	const struct upt_crypto *c = upt_openssl_crypto();
	if (c->hash(c->ctx, UPT_HASH_SHA256, doc->canonical, doc->canonical_len, d) != UPT_OK)
		memset(d, 0, sizeof d);
	upt_hex_encode(out, d, UPT_SHA256_LEN);
}

/* Signature checks (no store access): the primary signs the manifest and
 * its own report, which must carry a counter; every other report is
 * verified by its own ECU's key, a failure refusing that report only. */
static int manifest_verify(struct work *w, const struct upt_manifest *m, struct srv_ecu *ecus,
			   size_t n, struct judged *j, size_t *primary_at, struct upt_error *err)
{
	struct srv_ecu *primary = NULL;
	struct upt_key k;
	int rc = UPT_OK;
	for (size_t i = 0; i < n; i++)
		if (ecus[i].primary)
			primary = &ecus[i];
	if (!primary || strcmp(primary->serial, m->primary_serial) != 0)
		return upt_error_set(err, UPT_ERR_UNKNOWN_ECU,
				     "manifest: primary %s is not this device's primary",
				     m->primary_serial);
	rc = ecu_key(w, primary, &k, err);
	if (rc == UPT_OK)
		rc = upt_doc_signed_by(&m->doc, &k, upt_openssl_crypto(), err);
	*primary_at = m->n_reports;
	for (size_t i = 0; rc == UPT_OK && i < m->n_reports; i++) {
		struct upt_error e2 = {0};
		j[i].r = &m->reports[i];
		j[i].e = ecu_find(ecus, n, m->reports[i].ecu_serial);
		j[i].v = V_FRESH;
		report_digest(j[i].digest, &m->reports[i].doc);
		if (j[i].e == primary)
			*primary_at = i;
		if (!j[i].e) {
			j[i].v = V_REFUSED;
			upt_error_set(&j[i].why, UPT_ERR_UNKNOWN_ECU,
				      "manifest: ECU %s is not registered for this device",
				      m->reports[i].ecu_serial);
			continue;
		}
		if (ecu_key(w, j[i].e, &k, &e2) != UPT_OK ||
		    upt_doc_signed_by(&m->reports[i].doc, &k, upt_openssl_crypto(), &e2) !=
			UPT_OK) {
			char where[160];
			snprintf(where, sizeof where, "manifest: ECU %s", j[i].e->serial);
			j[i].v = V_REFUSED;
			j[i].why = e2;
			upt_error_prefix(&j[i].why, where);
		}
	}
	if (rc != UPT_OK)
		return rc;
	if (*primary_at == m->n_reports)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "manifest: no report of the primary ECU %s (a manifest must "
				     "carry the primary's own report)",
				     primary->serial);
	if (j[*primary_at].v == V_REFUSED)
		return upt_error_set(err, j[*primary_at].why.code, "%s", j[*primary_at].why.msg);
	if (!m->reports[*primary_at].has_report_counter)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "manifest: ECU %s: report_counter missing (the primary's "
				     "report must carry one: it is the manifest's freshness)",
				     primary->serial);
	for (size_t r = 0; r < srv_installations(m); r++) {
		const struct upt_installation_report *ir = srv_installation(m, r);
		for (size_t i = 0; i < ir->n_items; i++)
			if (!ecu_find(ecus, n, ir->items[i].ecu))
				return upt_error_set(err, UPT_ERR_UNKNOWN_ECU,
						     "manifest: %s names ECU %s, which is not "
						     "registered for this device",
						     r ? "installation_reports"
						       : "installation_report",
						     ir->items[i].ecu);
	}
	return UPT_OK;
}

/* Inside the transaction, against the counters and digests read there:
 * fresh, new, cached or replayed. */
static int judge(struct srv_store *st, const char *device, struct judged *jd, bool primary,
		 struct upt_error *err)
{
	const struct upt_ecu_report *r = jd->r;
	const struct srv_ecu *e = jd->e;
	bool seen = false;
	int rc = UPT_OK;
	if (jd->v == V_REFUSED)
		return UPT_OK;
	if (r->has_report_counter && r->report_counter > e->report_counter)
		jd->v = V_FRESH;
	else if (!primary && strcmp(jd->digest, e->report_digest) == 0)
		jd->v = V_CACHED;
	else if (r->has_report_counter)
		jd->v = V_REPLAYED;
	else if ((rc = st->ops->report_seen(st, device, e->serial, jd->digest, &seen, err)) ==
		 UPT_OK)
		jd->v = seen ? V_REPLAYED : V_NEW;
	if (jd->v == V_REPLAYED && r->has_report_counter)
		upt_error_set(&jd->why, UPT_ERR_ROLLBACK,
			      "manifest: ECU %s: report counter %lld not above %lld (replayed "
			      "report?)",
			      e->serial, (long long)r->report_counter,
			      (long long)e->report_counter);
	else if (jd->v == V_REPLAYED)
		upt_error_set(&jd->why, UPT_ERR_ROLLBACK,
			      "manifest: ECU %s: an older report without a counter sent again "
			      "(replayed report?)",
			      e->serial);
	return rc;
}

static int report_write(struct srv_store *st, const char *device, struct judged *jd, int64_t now,
			struct upt_error *err)
{
	struct srv_ecu e = *jd->e;
	const struct upt_ecu_report *r = jd->r;
	bool fresh;
	e.seen_at = now;
	if (jd->v == V_CACHED) {
		snprintf(e.report_status, sizeof e.report_status, "cached");
		return st->ops->ecu_report(st, device, &e, false, false, err);
	}
	snprintf(e.installed, sizeof e.installed, "%s", r->filepath);
	e.installed_length = r->length;
	if (r->hashes.has_sha256)
		upt_hex_encode(e.installed_sha256, r->hashes.sha256, UPT_SHA256_LEN);
	else
		e.installed_sha256[0] = 0;
	if (jd->v == V_FRESH)
		e.report_counter = r->report_counter;
	e.reported_at = now;
	snprintf(e.report_status, sizeof e.report_status, "%s",
		 jd->v == V_FRESH ? "fresh" : "no_counter");
	snprintf(e.report_digest, sizeof e.report_digest, "%s", jd->digest);
	/* the guard makes the counter check and the write one step; jd->e
	 * holds the counter stored before. A report without a counter cuts
	 * its history back every time. */
	fresh = jd->v == V_FRESH;
	return st->ops->ecu_report(
	    st, device, &e, fresh,
	    !fresh || srv_prune_due(&st->policy, jd->e->report_counter, e.report_counter), err);
}

/* Installation report k of the manifest as stored: its canonical JSON. */
static int install_store(struct srv_store *st, const char *device, const struct upt_manifest *m,
			 size_t k, int64_t now, struct upt_error *err)
{
	struct srv_install_report ir = {0};
	const struct upt_installation_report *in = srv_installation(m, k);
	const struct upt_json *v = upt_json_get(m->doc.signed_json, "installation_report");
	size_t len = 0;
	char *copy;
	int rc;
	if (k) {
		v = upt_json_get(m->doc.signed_json, "installation_reports");
		v = v && k - 1 < v->n ? v->items[k - 1] : NULL;
	}
	if (!v)
		return upt_error_set(err, UPT_ERR_STATE, "manifest: installation report %zu", k);
	/* compact JSON with control characters escaped: valid in any answer */
	rc = upt_json_write(NULL, 0, &len, v, NULL); /* measures */
	if (!(copy = malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_write((uint8_t *)copy, len + 1, &len, v, err);
	if (rc != UPT_OK) {
		free(copy);
		return rc;
	}
	copy[len] = 0;
	ir.at = now;
	snprintf(ir.correlation_id, sizeof ir.correlation_id, "%s", in->correlation_id);
	ir.success = in->result.success;
	ir.report = copy;
	rc = st->ops->install_put(st, device, &ir, err);
	free(copy);
	return rc;
}

struct commit_ctx {
	const char *device;
	const struct upt_manifest *m;
	const uint8_t *body;
	size_t len;
	struct judged *j;
	size_t primary_at;
	int64_t now;
};

/* The manifest's transaction: the ECUs are read (and locked) inside it,
 * so the counter check and the write are one step for concurrent
 * manifests. */
static int manifest_write(struct srv_store *st, void *p, struct upt_error *err)
{
	const struct commit_ctx *c = p;
	const struct upt_manifest *m = c->m;
	struct judged *j = c->j;
	struct srv_ecu *fresh = NULL;
	char *accepted = NULL;
	size_t n = 0;
	const struct upt_json *au = upt_json_get(m->doc.signed_json, "auto_update");
	int rc = st->ops->ecus_lock(st, c->device, &fresh, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < m->n_reports; i++) {
		if (j[i].v == V_REFUSED)
			continue;
		if (!(j[i].e = ecu_find(fresh, n, j[i].r->ecu_serial)))
			rc =
			    upt_error_set(err, UPT_ERR_STATE, "device %s: ECUs changed", c->device);
		else
			rc = judge(st, c->device, &j[i], i == c->primary_at, err);
		if (rc == UPT_OK)
			snprintf(j[i].before, sizeof j[i].before, "%s", j[i].e->installed_sha256);
	}
	if (rc == UPT_OK && j[c->primary_at].v != V_FRESH)
		rc = upt_error_set(err, UPT_ERR_ROLLBACK, "%s", j[c->primary_at].why.msg);
	/* each accepted report is written, and its ECU kept with the manifest
	 * (a serial and a newline each) */
	if (rc == UPT_OK && !(accepted = malloc(m->n_reports * sizeof j->e->serial + 1)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0, at = 0; rc == UPT_OK && i < m->n_reports; i++) {
		accepted[at] = 0;
		if (j[i].v != V_REFUSED && j[i].v != V_REPLAYED &&
		    (rc = report_write(st, c->device, &j[i], c->now, err)) == UPT_OK)
			at += (size_t)snprintf(accepted + at, sizeof j->e->serial + 1, "%s\n",
					       j[i].e->serial);
	}
	/* the primary's report is fresh: its counter rose */
	if (rc == UPT_OK)
		rc = st->ops->manifest_put(st, c->device, c->now, !au || au->type != UPT_JSON_FALSE,
					   c->body, c->len, accepted,
					   srv_prune_due(&st->policy,
							 j[c->primary_at].e->report_counter,
							 j[c->primary_at].r->report_counter),
					   err);
	free(accepted);
	for (size_t k = 0; rc == UPT_OK && k < srv_installations(m); k++)
		rc = install_store(st, c->device, m, k, c->now, err);
	/* the locked copies go: the ECUs read before the transaction stand in */
	for (size_t i = 0; i < m->n_reports; i++)
		if (j[i].v != V_REFUSED)
			j[i].e = NULL;
	free(fresh);
	return rc;
}

/* "manifest sha256:HEX": what an alert about a manifest points at. */
static void manifest_evidence(char *out, size_t cap, const uint8_t *body, size_t len)
{
	uint8_t d[UPT_SHA256_LEN];
	char hex[2 * UPT_SHA256_LEN + 1];
	if (upt_openssl_crypto()->hash(NULL, UPT_HASH_SHA256, body, len, d) != UPT_OK) {
		snprintf(out, cap, "manifest");
		return;
	}
	upt_hex_encode(hex, d, sizeof d);
	snprintf(out, cap, "manifest sha256:%s", hex);
}

/* A manifest on its way: checked and verified (prepare), written in a
 * group's commit, then what its reports prove (finish). */
struct srv_manifest_run {
	struct srv_store *st;
	char *device;
	const uint8_t *body;
	size_t len;
	int64_t now;
	struct work w;
	struct upt_manifest m;
	struct srv_ecu *ecus;
	size_t n;
	struct judged *j;
	size_t primary_at;
	struct commit_ctx c;
	/* its commit's result (grouped_async) */
	int rc;
	struct upt_error err;
	srv_manifest_committed_fn committed;
	void *committed_ctx;
};

static void run_free(struct srv_manifest_run *run)
{
	free(run->j);
	free(run->ecus);
	free(run->w.mem);
	free(run->device);
	free(run);
}

/* The refused manifest: an alert, never inventory (the store's own
 * failures are not the device's). */
static void manifest_refused(struct srv_store *st, const char *device, const uint8_t *body,
			     size_t len, int rc, const struct upt_error *err)
{
	char evidence[96];
	if (rc == UPT_ERR_NOMEM || rc == UPT_ERR_IO)
		return;
	manifest_evidence(evidence, sizeof evidence, body, len);
	srv_alert(st, device, "", "manifest-refused", err ? err->msg : "", evidence);
	srv_log(SRV_LOG_WARN, "device %s: manifest refused: %s", device, err ? err->msg : "");
}

/* Check a manifest against the device's registered ECUs and verify its
 * signatures; nothing is written yet. */
int srv_dev_manifest_prepare(struct srv_store *st, const char *device, const uint8_t *body,
			     size_t len, int64_t now, struct srv_manifest_run **out,
			     struct upt_error *err)
{
	struct srv_manifest_run *run = calloc(1, sizeof *run);
	size_t bound = 0;
	int rc;
	*out = NULL;
	if (!run || !(run->device = strdup(device))) {
		free(run);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	/* its commit is on its way: a group may wait for it (-1 when it is
	 * queued, committed in place or refused) */
	srv_store_expect(st, 1);
	run->st = st;
	run->body = body;
	run->len = len;
	run->now = now;
	rc = st->ops->ecus_get(st, device, &run->ecus, &run->n, err);
	if (rc == UPT_OK && run->n == 0)
		rc = upt_error_set(err, UPT_ERR_STATE, "device %s has not registered its ECUs",
				   device);
	if (rc == UPT_OK && len > (bound = manifest_bound(&st->policy, run->n)))
		rc = upt_error_set(err, UPT_ERR_TOO_LARGE,
				   "manifest: %zu bytes, more than the %zu a device with %zu "
				   "registered ECUs may send",
				   len, bound, run->n);
	if (rc == UPT_OK)
		rc = work_init(&run->w, len, err);
	if (rc == UPT_OK)
		rc = upt_manifest_parse(&run->m, &run->w.a, body, len, bound, err);
	if (rc == UPT_OK &&
	    !(run->j = calloc(run->m.n_reports ? run->m.n_reports : 1, sizeof *run->j)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK)
		rc = manifest_verify(&run->w, &run->m, run->ecus, run->n, run->j, &run->primary_at,
				     err);
	if (rc != UPT_OK) {
		srv_store_expect(st, -1);
		manifest_refused(st, device, body, len, rc, err);
		run_free(run);
		return rc;
	}
	run->c = (struct commit_ctx){run->device, &run->m, body, len, run->j, run->primary_at, now};
	*out = run;
	return UPT_OK;
}

/* After the commit: the alerts the reports raise, and what they prove
 * against the releases and assignments. */
static void manifest_after(struct srv_manifest_run *run)
{
	struct srv_store *st = run->st;
	const char *device = run->device;
	const struct upt_manifest *m = &run->m;
	const struct judged *j = run->j;
	char evidence[96];
	manifest_evidence(evidence, sizeof evidence, run->body, run->len);
	for (size_t i = 0; i < m->n_reports; i++) {
		const struct upt_ecu_report *r = &m->reports[i];
		if (j[i].v == V_REFUSED || j[i].v == V_REPLAYED) {
			srv_log(SRV_LOG_WARN, "device %s: report refused: %s", device,
				j[i].why.msg);
			srv_alert(st, device, r->ecu_serial,
				  j[i].v == V_REFUSED ? "report-refused" : "report-replayed",
				  j[i].why.msg, evidence);
		} else if (r->attacks_detected[0] && j[i].v != V_CACHED) {
			srv_log(SRV_LOG_WARN, "device %s: ECU %s reports an attack: %s", device,
				r->ecu_serial, r->attacks_detected);
			srv_alert(st, device, r->ecu_serial, "attack-reported", r->attacks_detected,
				  evidence);
		}
	}
	{
		struct srv_proved *p = calloc(m->n_reports ? m->n_reports : 1, sizeof *p);
		size_t np = 0;
		char sha[UPT_MANIFEST_MAX_ECUS][65];
		for (size_t i = 0; p && i < m->n_reports && i < UPT_MANIFEST_MAX_ECUS; i++) {
			const struct upt_ecu_report *r = &m->reports[i];
			const struct srv_ecu *e = ecu_find(run->ecus, run->n, r->ecu_serial);
			if (!e || (j[i].v != V_FRESH && j[i].v != V_NEW) || !r->hashes.has_sha256)
				continue;
			upt_hex_encode(sha[i], r->hashes.sha256, UPT_SHA256_LEN);
			p[np].serial = e->serial;
			p[np].hardware_id = e->hardware_id;
			p[np].name = r->filepath;
			p[np].sha256 = sha[i];
			p[np].before = j[i].before;
			np++;
		}
		if (p)
			srv_evidence_alerts(st, device, p, np, m, evidence);
		free(p);
	}
	/* a registered ECU that the manifest does not name */
	for (size_t e = 0; e < run->n; e++) {
		bool named = false;
		for (size_t i = 0; i < m->n_reports; i++)
			named |= strcmp(m->reports[i].ecu_serial, run->ecus[e].serial) == 0;
		if (!named)
			srv_alert(st, device, run->ecus[e].serial, "ecu-missing",
				  "a registered ECU is not in the manifest", evidence);
	}
}

int srv_dev_manifest_finish(struct srv_manifest_run *run, struct upt_error *err)
{
	int rc = run->rc;
	if (rc == UPT_OK) {
		manifest_after(run);
		srv_log(SRV_LOG_INFO, "device %s: manifest verified", run->device);
	} else {
		manifest_refused(run->st, run->device, run->body, run->len, rc, &run->err);
		if (err)
			*err = run->err;
	}
	run_free(run);
	return rc;
}

static void manifest_written(void *ctx, int rc, const struct upt_error *err)
{
	struct srv_manifest_run *run = ctx;
	run->rc = rc;
	if (rc != UPT_OK)
		run->err = *err;
	run->committed(run->committed_ctx, run);
}

/* Manifests arriving together share one commit. */
void srv_dev_manifest_queue(struct srv_manifest_run *run, srv_manifest_committed_fn committed,
			    void *ctx)
{
	struct srv_store *st = run->st; /* run may be told and gone on return */
	run->committed = committed;
	run->committed_ctx = ctx;
	st->ops->grouped_async(st, manifest_write, &run->c, manifest_written, run);
	srv_store_expect(st, -1);
}

int srv_dev_manifest_commit(struct srv_manifest_run *run, struct upt_error *err)
{
	srv_store_expect(run->st, -1);
	run->rc = srv_store_grouped(run->st, manifest_write, &run->c, &run->err);
	return srv_dev_manifest_finish(run, err);
}

int srv_dev_manifest(struct srv_store *st, const char *device, const uint8_t *body, size_t len,
		     int64_t now, struct upt_error *err)
{
	struct srv_manifest_run *run;
	int rc = srv_dev_manifest_prepare(st, device, body, len, now, &run, err);
	return rc == UPT_OK ? srv_dev_manifest_commit(run, err) : rc;
}

int srv_dev_info(struct srv_store *st, const char *device, const char *kind, bool json,
		 const uint8_t *body, size_t len, struct upt_error *err)
{
	if (len > st->policy.report_max_bytes)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "%s: %zu bytes, more than the %zu kept", kind, len,
				     st->policy.report_max_bytes);
	if (json) {
		struct work w;
		struct upt_json *v;
		int rc = work_init(&w, len, err);
		if (rc == UPT_OK)
			rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
		free(w.mem);
		if (rc != UPT_OK) {
			upt_error_prefix(err, kind);
			return rc;
		}
	} else {
		for (size_t i = 0; i < len; i++)
			if (body[i] == 0)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: not text",
						     kind);
	}
	return st->ops->info_put(st, device, kind, body, len, err);
}

int srv_dev_provision(struct srv_store *st, struct srv_ca *ca, const char *fleet,
		      const uint8_t *body, size_t len, uint8_t **p12, size_t *p12_len,
		      struct upt_error *err)
{
	struct work w;
	struct upt_json *v;
	const char *id = NULL;
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	if (rc == UPT_OK && (!(id = json_str(v, "deviceId")) || !valid_id(id, 127) ||
			     strncmp(id, "fleet:", 6) == 0))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "provisioning: needs a deviceId");
	if (rc == UPT_OK)
		rc = srv_ca_issue_p12(ca, id, p12, p12_len, err);
	if (rc == UPT_OK) {
		rc = st->ops->device_add(st, id, err);
		if (rc != UPT_OK) {
			free(*p12);
			*p12 = NULL;
		}
	}
	if (rc == UPT_OK)
		srv_log(SRV_LOG_INFO, "device %s: provisioned by fleet credential %s", id, fleet);
	free(w.mem);
	return rc;
}

int srv_admin_fleet_credential(struct srv_ca *ca, const uint8_t *body, size_t len, char **resp,
			       struct upt_error *err)
{
	struct work w;
	struct upt_json *v;
	const char *name = NULL;
	char cn[160], *cert = NULL, *key = NULL;
	struct out o = {0};
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	if (rc == UPT_OK && (!(name = json_str(v, "name")) || !valid_id(name, 120)))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "fleet credential: needs a name");
	if (rc == UPT_OK) {
		snprintf(cn, sizeof cn, "fleet:%s", name);
		rc = srv_ca_issue(ca, cn, NULL, &cert, &key, err);
	}
	if (rc == UPT_OK) {
		put(&o, "{\"name\":");
		put_str(&o, cn);
		put(&o, ",\"certificate\":");
		put_str(&o, cert);
		put(&o, ",\"key\":");
		put_str(&o, key);
		put(&o, ",\"ca\":");
		put_str(&o, ca->ca_pem);
		put(&o, "}\n");
		rc = finish(&o, resp, err);
	}
	free(cert);
	free(key);
	free(w.mem);
	return rc;
}

/* ---- admin -------------------------------------------------------------- */

int srv_admin_device_add(struct srv_store *st, struct srv_ca *ca, const uint8_t *body, size_t len,
			 char **resp, struct upt_error *err)
{
	struct work w;
	struct upt_json *v;
	const char *id = NULL, *pub = NULL;
	char *cert = NULL, *key = NULL;
	struct out o = {0};
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	if (rc == UPT_OK) {
		id = json_str(v, "id");
		pub = json_str(v, "public_key");
		if (!id || !valid_id(id, 127) || strncmp(id, "fleet:", 6) == 0 ||
		    (upt_json_get(v, "public_key") && !pub))
			rc = upt_error_set(
			    err, UPT_ERR_FIELD_VALUE,
			    "device: needs an id (printable, no quotes or slashes) and "
			    "optionally a public_key (PEM)");
	}
	if (rc == UPT_OK)
		rc = srv_ca_issue(ca, id, pub, &cert, pub ? NULL : &key, err);
	if (rc == UPT_OK)
		rc = st->ops->device_add(st, id, err);
	if (rc == UPT_OK) {
		put(&o, "{\"id\":");
		put_str(&o, id);
		put(&o, ",\"certificate\":");
		put_str(&o, cert);
		if (key) {
			put(&o, ",\"key\":");
			put_str(&o, key);
		}
		put(&o, ",\"ca\":");
		put_str(&o, ca->ca_pem);
		put(&o, "}\n");
		rc = finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "device %s: added, certificate issued", id);
	}
	free(cert);
	free(key);
	free(w.mem);
	return rc;
}

static void put_ecu(struct out *o, const struct srv_ecu *e)
{
	put(o, "{\"serial\":");
	put_str(o, e->serial);
	put(o, ",\"hardware_id\":");
	put_str(o, e->hardware_id);
	put(o, ",\"primary\":%s,\"keyid\":\"%s\"", e->primary ? "true" : "false", e->keyid);
	if (e->installed[0]) {
		put(o, ",\"installed\":{\"name\":");
		put_str(o, e->installed);
		put(o,
		    ",\"length\":%lld,\"sha256\":\"%s\"},\"report_counter\":%lld,\"reported_at\":%"
		    "lld",
		    (long long)e->installed_length, e->installed_sha256,
		    (long long)e->report_counter, (long long)e->reported_at);
	}
	/* how its last report was judged: fresh, cached or no_counter */
	if (e->report_status[0])
		put(o, ",\"last_report\":{\"status\":\"%s\",\"at\":%lld}", e->report_status,
		    (long long)e->seen_at);
	put(o, "}");
}

int srv_admin_device_list(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	struct out o = {0};
	int rc = st->ops->device_list(st, &d, &n, err);
	if (rc != UPT_OK)
		return rc;
	put(&o, "{\"devices\":[");
	for (size_t i = 0; i < n; i++) {
		struct srv_ecu *e = NULL;
		size_t ne = 0;
		put(&o, "%s{\"id\":", i ? "," : "");
		put_str(&o, d[i].id);
		put(&o, ",\"created\":%lld,\"last_manifest\":%lld,\"auto_update\":%s,\"ecus\":[",
		    (long long)d[i].created, (long long)d[i].last_manifest,
		    d[i].auto_update ? "true" : "false");
		if (st->ops->ecus_get(st, d[i].id, &e, &ne, NULL) == UPT_OK)
			for (size_t j = 0; j < ne; j++) {
				if (j)
					put(&o, ",");
				put_ecu(&o, &e[j]);
			}
		free(e);
		put(&o, "]}");
	}
	put(&o, "]}\n");
	free(d);
	return finish(&o, resp, err);
}

/* The events a device sent for one correlation id (aktualizr's form:
 * [{"id", "deviceTime", "eventType": {"id", "version"}, "event":
 * {"correlationId", "ecu", "success"}}]), from its kept event uploads. */
static void put_events(struct out *o, char **bodies, size_t n, const char *cid)
{
	bool first = true;
	put(o, ",\"events\":[");
	for (size_t i = 0; cid[0] && i < n; i++) {
		struct work w;
		struct upt_json *v;
		size_t len = strlen(bodies[i]);
		if (work_init(&w, len, NULL) != UPT_OK)
			break;
		if (upt_json_parse(&v, &w.a, (const uint8_t *)bodies[i], len, NULL, NULL) ==
			UPT_OK &&
		    v->type == UPT_JSON_ARRAY)
			for (size_t k = 0; k < v->n; k++) {
				const struct upt_json *ev = upt_json_get(v->items[k], "event"),
						      *type =
							  upt_json_get(v->items[k], "eventType"),
						      *ok = upt_json_get(ev, "success");
				const char *c = json_str(ev, "correlationId"),
					   *id = json_str(type, "id"), *ecu = json_str(ev, "ecu"),
					   *when = json_str(v->items[k], "deviceTime");
				if (!c || strcmp(c, cid) != 0 || !id)
					continue;
				put(o, "%s{\"type\":", first ? "" : ",");
				put_str(o, id);
				if (ecu) {
					put(o, ",\"ecu\":");
					put_str(o, ecu);
				}
				if (when) {
					put(o, ",\"device_time\":");
					put_str(o, when);
				}
				if (ok && (ok->type == UPT_JSON_TRUE || ok->type == UPT_JSON_FALSE))
					put(o, ",\"success\":%s",
					    ok->type == UPT_JSON_TRUE ? "true" : "false");
				put(o, "}");
				first = false;
			}
		free(w.mem);
	}
	put(o, "]");
}

static void put_install(struct out *o, const struct srv_install_report *r)
{
	put(o, "{\"at\":%lld,\"correlation_id\":", (long long)r->at);
	put_str(o, r->correlation_id);
	put(o, ",\"success\":%s,\"report\":%s}", r->success ? "true" : "false", r->report);
}

static void put_assignments(struct out *o, const struct srv_assignment *a, size_t na,
			    const struct srv_ecu *e, size_t ne, const struct srv_install_report *ir,
			    size_t nir, char **events, size_t nev)
{
	put(o, "],\"assignments\":[");
	for (size_t j = 0; j < na; j++) {
		bool installed = false;
		put(o, "%s{\"ecu\":", j ? "," : "");
		put_str(o, a[j].ecu_serial);
		put(o, ",\"target\":");
		put_str(o, a[j].target);
		for (size_t k = 0; k < ne; k++)
			installed |= strcmp(e[k].serial, a[j].ecu_serial) == 0 &&
				     strcmp(e[k].installed_sha256, a[j].sha256) == 0;
		put(o, ",\"sha256\":\"%s\",\"installed\":%s,\"correlation_id\":", a[j].sha256,
		    installed ? "true" : "false");
		put_str(o, a[j].correlation_id);
		/* the device's signed statement of how it went, newest first:
		 * the one that names the ECU, else one for the whole */
		{
			const struct srv_install_report *best = NULL;
			char needle[160];
			snprintf(needle, sizeof needle, "\"ecu\":\"%s\"", a[j].ecu_serial);
			for (size_t k = 0; a[j].correlation_id[0] && k < nir; k++)
				if (strcmp(ir[k].correlation_id, a[j].correlation_id) == 0) {
					if (strstr(ir[k].report, needle)) {
						best = &ir[k];
						break;
					}
					if (!best)
						best = &ir[k];
				}
			if (best) {
				put(o, ",\"installation_report\":");
				put_install(o, best);
			}
		}
		put_events(o, events, nev, a[j].correlation_id);
		put(o, "}");
	}
}

int srv_admin_device_show(struct srv_store *st, const char *id, char **resp, struct upt_error *err)
{
	struct srv_device d;
	struct srv_ecu *e = NULL;
	struct srv_assignment *a = NULL;
	struct srv_install_report *ir = NULL;
	char **events = NULL;
	size_t ne = 0, na = 0, nir = 0, nev = 0;
	int64_t alerts = 0;
	struct out o = {0};
	int rc = st->ops->device_get(st, id, &d, err);
	if (rc == UPT_OK)
		rc = st->ops->ecus_get(st, id, &e, &ne, err);
	if (rc == UPT_OK)
		rc = st->ops->assign_list(st, id, &a, &na, err);
	if (rc == UPT_OK)
		rc = st->ops->alert_count(st, id, &alerts, err);
	if (rc == UPT_OK)
		rc = st->ops->install_list(st, id, &ir, &nir, err);
	if (rc == UPT_OK)
		rc = st->ops->info_list(st, id, "events", &events, &nev, err);
	if (rc == UPT_OK) {
		put(&o, "{\"id\":");
		put_str(&o, d.id);
		put(&o,
		    ",\"created\":%lld,\"last_manifest\":%lld,\"auto_update\":%s,\"alerts\":%lld,"
		    "\"ecus\":[",
		    (long long)d.created, (long long)d.last_manifest,
		    d.auto_update ? "true" : "false", (long long)alerts);
		for (size_t j = 0; j < ne; j++) {
			if (j)
				put(&o, ",");
			put_ecu(&o, &e[j]);
		}
		put_assignments(&o, a, na, e, ne, ir, nir, events, nev);
		put(&o, "],\"installation_reports\":[");
		for (size_t j = 0; j < nir && j < 10; j++) {
			put(&o, "%s", j ? "," : "");
			put_install(&o, &ir[j]);
		}
		put(&o, "]}\n");
		rc = finish(&o, resp, err);
	}
	srv_install_reports_free(ir, nir);
	srv_blobs_free(events, nev);
	free(e);
	free(a);
	return rc;
}

/* The Image repository's entry for `name`: top-level targets, then the
 * delegated roles stored. */
static int image_target(struct srv_repo *image, struct work *w, const char *name,
			const struct upt_target **out, struct upt_error *err)
{
	char *roles = NULL;
	int rc = image->store->ops->meta_roles(image->store, image->name, &roles, err);
	if (rc != UPT_OK)
		return rc;
	for (char *p = NULL, *next = roles;; p = next) {
		struct srv_meta m;
		struct upt_doc doc;
		struct upt_targets *t;
		uint8_t *copy;
		if (p) {
			char *nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = 0;
			next = nl + 1;
		}
		if (image->store->ops->meta_get(image->store, image->name, p ? p : "targets", 0, &m,
						NULL) != UPT_OK)
			continue;
		copy = upt_arena_alloc(&w->a, m.len ? m.len : 1);
		t = upt_arena_alloc(&w->a, sizeof *t);
		if (copy && t) {
			memcpy(copy, m.data, m.len);
			if (upt_doc_parse(&doc, &w->a, copy, m.len, 0, "targets", NULL) == UPT_OK &&
			    upt_targets_parse(t, &w->a, &doc, upt_openssl_crypto(), NULL) ==
				UPT_OK &&
			    (*out = upt_targets_find(t, name))) {
				srv_meta_free(&m);
				free(roles);
				return UPT_OK;
			}
		}
		srv_meta_free(&m);
	}
	free(roles);
	return upt_error_set(err, UPT_ERR_NOT_FOUND, "target %s: not in the Image repository",
			     name);
}

static int assign_check(const struct srv_ecu *e, const struct upt_target *t, struct upt_error *err)
{
	bool hw_ok = t->n_hardware_ids == 0;
	for (size_t i = 0; i < t->n_hardware_ids; i++)
		hw_ok |= strcmp(t->hardware_ids[i], e->hardware_id) == 0;
	if (!hw_ok)
		return upt_error_set(err, UPT_ERR_HARDWARE_ID,
				     "target %s is not for hardware %s (ECU %s)", t->name,
				     e->hardware_id, e->serial);
	if (!t->hashes.has_sha256 || !t->hashes.has_sha512)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "target %s: the Image repository lists no sha256 and sha512",
				     t->name);
	return UPT_OK;
}

/* A new correlation id: urn:uptake:assignment:UUID (random, version 4). */
int srv_correlation_id(char *out, size_t cap, struct upt_error *err)
{
	uint8_t b[16];
	char hex[33];
	if (RAND_bytes(b, sizeof b) != 1)
		return upt_error_set(err, UPT_ERR_CRYPTO, "no random bytes for a correlation id");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	upt_hex_encode(hex, b, sizeof b);
	snprintf(out, cap, "urn:uptake:assignment:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
	return UPT_OK;
}

static int assign_one(struct srv_store *st, const char *device, const struct srv_ecu *e,
		      const struct upt_target *t, const char *cid, struct upt_error *err)
{
	struct srv_assignment a = {0};
	snprintf(a.correlation_id, sizeof a.correlation_id, "%s", cid);
	snprintf(a.ecu_serial, sizeof a.ecu_serial, "%s", e->serial);
	snprintf(a.hardware_id, sizeof a.hardware_id, "%s", e->hardware_id);
	snprintf(a.target, sizeof a.target, "%s", t->name);
	a.length = t->length;
	upt_hex_encode(a.sha256, t->hashes.sha256, UPT_SHA256_LEN);
	upt_hex_encode(a.sha512, t->hashes.sha512, UPT_SHA512_LEN);
	a.release_counter = t->has_release_counter ? t->release_counter : -1;
	return st->ops->assign_put(st, device, &a, err);
}

int srv_image_target_lookup(struct srv_repo *image, const char *name, const char *hardware_id,
			    struct srv_assignment *out, struct upt_error *err)
{
	struct work w;
	const struct upt_target *t = NULL;
	struct srv_ecu e = {0};
	int rc = work_init(&w, 256u << 10, err);
	if (rc != UPT_OK)
		return rc;
	rc = image_target(image, &w, name, &t, err);
	snprintf(e.serial, sizeof e.serial, "(any)");
	snprintf(e.hardware_id, sizeof e.hardware_id, "%s", hardware_id);
	if (rc == UPT_OK)
		rc = assign_check(&e, t, err);
	if (rc == UPT_OK) {
		memset(out, 0, sizeof *out);
		snprintf(out->hardware_id, sizeof out->hardware_id, "%s", hardware_id);
		snprintf(out->target, sizeof out->target, "%s", t->name);
		out->length = t->length;
		upt_hex_encode(out->sha256, t->hashes.sha256, UPT_SHA256_LEN);
		upt_hex_encode(out->sha512, t->hashes.sha512, UPT_SHA512_LEN);
		out->release_counter = t->has_release_counter ? t->release_counter : -1;
	}
	free(w.mem);
	return rc;
}

int srv_admin_assign(struct srv_repo *image, struct srv_repo *director, const uint8_t *body,
		     size_t len, int64_t now, char **resp, struct upt_error *err)
{
	struct srv_store *st = image->store;
	struct work w;
	struct upt_json *v;
	const struct upt_json *devs;
	const struct upt_target *t = NULL;
	const char *target = NULL, *ecu = NULL, *hw = NULL;
	size_t assigned = 0;
	struct out o = {0};
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	devs = rc == UPT_OK ? upt_json_get(v, "devices") : NULL;
	if (rc == UPT_OK) {
		target = json_str(v, "target");
		ecu = json_str(v, "ecu");
		hw = json_str(v, "hardware_id");
		if (!target || !devs || devs->type != UPT_JSON_ARRAY || devs->n == 0 ||
		    devs->n > 100000 || (!ecu == !hw) || (ecu && devs->n != 1))
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "assign: needs target, devices (a list) and either ecu "
					   "(one device) or hardware_id");
	}
	if (rc == UPT_OK)
		rc = image_target(image, &w, target, &t, err);
	/* first check every device and ECU, then assign: all or nothing */
	for (int pass = 0; rc == UPT_OK && pass < 2; pass++) {
		for (size_t i = 0; rc == UPT_OK && i < devs->n; i++) {
			const struct upt_json *d = devs->items[i];
			struct srv_ecu *e = NULL;
			size_t n = 0, matched = 0;
			char cid[64] = "";
			if (d->type != UPT_JSON_STRING || !valid_id(d->str, 127)) {
				rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
						   "assign: devices[%zu]: bad id", i);
				break;
			}
			rc = st->ops->ecus_get(st, d->str, &e, &n, err);
			/* one correlation id per assignment request and device */
			if (rc == UPT_OK && pass == 1)
				rc = srv_correlation_id(cid, sizeof cid, err);
			if (rc == UPT_OK && n == 0)
				rc = upt_error_set(err, UPT_ERR_NOT_FOUND,
						   "device %s: unknown or no ECUs registered",
						   d->str);
			for (size_t j = 0; rc == UPT_OK && j < n; j++) {
				if (ecu ? strcmp(e[j].serial, ecu) != 0
					: strcmp(e[j].hardware_id, hw) != 0)
					continue;
				matched++;
				if (pass == 0)
					rc = assign_check(&e[j], t, err);
				else
					rc = assign_one(st, d->str, &e[j], t, cid, err);
			}
			if (rc == UPT_OK && ecu && !matched)
				rc = upt_error_set(err, UPT_ERR_NOT_FOUND,
						   "device %s has no ECU %s", d->str, ecu);
			if (rc == UPT_OK && pass == 1 && matched) {
				assigned += matched;
				rc = srv_director_publish(director, d->str, now, err);
			}
			free(e);
		}
	}
	if (rc == UPT_OK) {
		put(&o, "{\"target\":");
		put_str(&o, target);
		put(&o, ",\"assigned\":%zu}\n", assigned);
		rc = finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "assigned %s to %zu ECUs", target, assigned);
	}
	free(w.mem);
	return rc;
}

/* ---- the history of verified manifests ---------------------------------- */

int srv_manifest_reports(const uint8_t *body, size_t len, srv_kept_report_fn fn, void *ctx,
			 struct upt_error *err)
{
	struct work w = {0};
	struct upt_manifest m;
	int rc = work_init(&w, len, err);
	if (rc == UPT_OK)
		rc = upt_manifest_parse(&m, &w.a, body, len, len, err);
	for (size_t i = 0; rc == UPT_OK && i < m.n_reports; i++) {
		const struct upt_ecu_report *r = &m.reports[i];
		struct srv_kept_report k = {0};
		k.serial = r->ecu_serial;
		k.filepath = r->filepath;
		k.length = r->length;
		if (r->hashes.has_sha256)
			upt_hex_encode(k.sha256, r->hashes.sha256, UPT_SHA256_LEN);
		k.has_counter = r->has_report_counter;
		k.counter = r->report_counter;
		report_digest(k.digest, &r->doc);
		rc = fn(ctx, &k);
	}
	free(w.mem);
	return rc;
}

struct kept {
	int64_t received;
	uint8_t *body;
	size_t len;
	char *accepted; /* NULL: stored before acceptance was kept with it */
};

struct history {
	struct kept *k;
	size_t n, cap;
};

static int history_row(void *ctx, const char *device, int64_t received, const uint8_t *body,
		       size_t len, const char *accepted)
{
	struct history *h = ctx;
	(void)device;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 32;
		struct kept *more = realloc(h->k, cap * sizeof *more);
		if (!more)
			return UPT_ERR_NOMEM;
		h->k = more;
		h->cap = cap;
	}
	h->k[h->n].accepted = NULL;
	if (accepted && !(h->k[h->n].accepted = strdup(accepted)))
		return UPT_ERR_NOMEM;
	if (!(h->k[h->n].body = malloc(len ? len : 1))) {
		free(h->k[h->n].accepted);
		return UPT_ERR_NOMEM;
	}
	memcpy(h->k[h->n].body, body, len);
	h->k[h->n].len = len;
	h->k[h->n++].received = received;
	return UPT_OK;
}

struct history_out {
	struct srv_store *st;
	const char *device;
	const char *accepted;
	struct srv_json *o;
	bool first;
	struct upt_error *err;
};

static int history_report(void *ctx, const struct srv_kept_report *k)
{
	struct history_out *h = ctx;
	bool seen = h->accepted && srv_accepted_has(h->accepted, k->serial);
	int rc = h->accepted ? UPT_OK
			     : h->st->ops->report_seen(h->st, h->device, k->serial, k->digest,
						       &seen, h->err);
	if (rc != UPT_OK)
		return rc;
	srv_json_raw(h->o, "%s{\"ecu\":", h->first ? "" : ",");
	srv_json_str(h->o, k->serial);
	srv_json_raw(h->o, ",\"image\":");
	srv_json_str(h->o, k->filepath ? k->filepath : "");
	srv_json_raw(h->o,
		     ",\"length\":%lld,\"sha256\":\"%s\",\"report_counter\":", (long long)k->length,
		     k->sha256);
	if (k->has_counter)
		srv_json_raw(h->o, "%lld", (long long)k->counter);
	else
		srv_json_raw(h->o, "null");
	srv_json_raw(h->o, ",\"report_sha256\":\"%s\",\"accepted\":%s}", k->digest,
		     seen ? "true" : "false");
	h->first = false;
	return UPT_OK;
}

int srv_admin_device_manifests(struct srv_store *st, const char *id, char **resp,
			       struct upt_error *err)
{
	struct srv_device d;
	struct history h = {0};
	struct srv_json o = {0};
	int rc = st->ops->device_get(st, id, &d, err);
	if (rc == UPT_OK) {
		rc = st->ops->manifest_scan(st, id, history_row, &h, err);
		if (rc == UPT_ERR_NOMEM)
			upt_error_set(err, rc, "out of memory");
	}
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"device\":");
		srv_json_str(&o, id);
		srv_json_raw(&o, ",\"manifests\":[");
	}
	/* newest first */
	for (size_t i = h.n; rc == UPT_OK && i-- > 0;) {
		struct history_out ho = {st, id, h.k[i].accepted, &o, true, err};
		uint8_t dg[UPT_SHA256_LEN];
		char hex[65];
		const struct upt_crypto *c = upt_openssl_crypto();
		if (c->hash(c->ctx, UPT_HASH_SHA256, h.k[i].body, h.k[i].len, dg) != UPT_OK)
			memset(dg, 0, sizeof dg);
		upt_hex_encode(hex, dg, UPT_SHA256_LEN);
		srv_json_raw(&o, "%s{\"received\":%lld,\"sha256\":\"%s\",\"reports\":[",
			     i + 1 == h.n ? "" : ",", (long long)h.k[i].received, hex);
		rc = srv_manifest_reports(h.k[i].body, h.k[i].len, history_report, &ho, err);
		srv_json_raw(&o, "]}");
	}
	if (rc == UPT_OK) {
		srv_json_raw(&o, "]}\n");
		rc = srv_json_finish(&o, resp, err);
	} else {
		srv_json_dispose(&o);
	}
	for (size_t i = 0; i < h.n; i++) {
		free(h.k[i].body);
		free(h.k[i].accepted);
	}
	free(h.k);
	return rc;
}
