/* uptake-server: fleet reports from signed evidence (see reports.h). */
#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "server.h"

/* An open-addressing table from a key "sha256\nhardware id" to an index. */
struct table {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof *t);
}

static size_t *table_find(const struct table *t, const char *key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = fnv(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->keys[i])
			return NULL;
		if (strcmp(t->keys[i], key) == 0)
			return &t->vals[i];
	}
}

/* Add key -> val unless the key is there; UPT_ERR_NOMEM on failure. */
static int table_add(struct table *t, const char *key, size_t val)
{
	size_t i;
	if (table_find(t, key))
		return UPT_OK;
	if (2 * (t->n + 1) > t->cap) {
		struct table g = {0};
		g.cap = t->cap ? 2 * t->cap : 64;
		g.keys = calloc(g.cap, sizeof *g.keys);
		g.vals = calloc(g.cap, sizeof *g.vals);
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return UPT_ERR_NOMEM;
		}
		for (size_t k = 0; k < t->cap; k++)
			if (t->keys[k]) {
				for (i = fnv(t->keys[k]) & (g.cap - 1); g.keys[i];
				     i = (i + 1) & (g.cap - 1))
					;
				g.keys[i] = t->keys[k];
				g.vals[i] = t->vals[k];
			}
		g.n = t->n;
		free(t->keys);
		free(t->vals);
		*t = g;
	}
	for (i = fnv(key) & (t->cap - 1); t->keys[i]; i = (i + 1) & (t->cap - 1))
		;
	if (!(t->keys[i] = strdup(key)))
		return UPT_ERR_NOMEM;
	t->vals[i] = val;
	t->n++;
	return UPT_OK;
}

static void key_of(char out[200], const char *sha256, const char *hwid)
{
	snprintf(out, 200, "%s\n%s", sha256, hwid);
}

/* Whether comma-separated `list` names `id`. */
bool srv_list_has(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && memcmp(p, id, n) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

/* Index the published targets by (sha256, each hardware id); a target
 * without hardware ids counts for every hardware id (key "sha256\n"). */
static int index_published(const struct srv_published *p, size_t n, struct table *t)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = p[i].hardware_ids;
		char id[129], key[200];
		if (!p[i].sha256[0])
			continue;
		if (!*s) {
			key_of(key, p[i].sha256, "");
			if (table_add(t, key, i) != UPT_OK)
				return UPT_ERR_NOMEM;
		}
		while (*s) {
			const char *c = strchr(s, ',');
			size_t len = c ? (size_t)(c - s) : strlen(s);
			snprintf(id, sizeof id, "%.*s", (int)(len < 128 ? len : 128), s);
			key_of(key, p[i].sha256, id);
			if (table_add(t, key, i) != UPT_OK)
				return UPT_ERR_NOMEM;
			s += len + (c ? 1 : 0);
		}
	}
	return UPT_OK;
}

/* The published target for this hash on this hardware id, or NULL. */
static const struct srv_published *published_for(const struct srv_published *p,
						 const struct table *t, const char *sha256,
						 const char *hwid)
{
	char key[200];
	size_t *v;
	key_of(key, sha256, hwid);
	if (!(v = table_find(t, key))) {
		key_of(key, sha256, "");
		v = table_find(t, key);
	}
	return v ? &p[*v] : NULL;
}

/* Whether a report names no image: nothing reported yet, or the all-zero
 * hash that Uptane primaries (uptake-agent, aktualizr) report for an
 * empty ECU. */
static bool no_image(const char *sha256)
{
	if (!*sha256)
		return true;
	for (; *sha256; sha256++)
		if (*sha256 != '0')
			return false;
	return true;
}

/* ---- inventory ---------------------------------------------------------- */

struct inv_entry {
	char sha256[65];
	char hardware_id[128];
	char installed[512]; /* the name the first report gave */
	size_t ecus, devices;
	char last_device[128];
	const struct srv_published *target;
};

struct inv_ctx {
	const struct srv_published *pub;
	struct table pub_index, seen;
	struct inv_entry *e;
	size_t n, cap, ecus, no_image;
};

static int inv_row(void *ctx, const struct srv_ecu_row *row)
{
	struct inv_ctx *c = ctx;
	struct inv_entry *e;
	char key[200];
	size_t *at;
	c->ecus++;
	if (no_image(row->installed_sha256)) {
		c->no_image++;
		return UPT_OK;
	}
	key_of(key, row->installed_sha256, row->hardware_id);
	if ((at = table_find(&c->seen, key))) {
		e = &c->e[*at];
	} else {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 32;
			struct inv_entry *more = realloc(c->e, cap * sizeof *more);
			if (!more)
				return UPT_ERR_NOMEM;
			c->e = more;
			c->cap = cap;
		}
		if (table_add(&c->seen, key, c->n) != UPT_OK)
			return UPT_ERR_NOMEM;
		e = &c->e[c->n++];
		memset(e, 0, sizeof *e);
		snprintf(e->sha256, sizeof e->sha256, "%s", row->installed_sha256);
		snprintf(e->hardware_id, sizeof e->hardware_id, "%s", row->hardware_id);
		snprintf(e->installed, sizeof e->installed, "%s", row->installed);
		e->target =
		    published_for(c->pub, &c->pub_index, row->installed_sha256, row->hardware_id);
	}
	e->ecus++;
	/* rows come ordered by device: a device is counted once per image */
	if (strcmp(e->last_device, row->device) != 0) {
		e->devices++;
		snprintf(e->last_device, sizeof e->last_device, "%s", row->device);
	}
	return UPT_OK;
}

static int inv_cmp(const void *a, const void *b)
{
	const struct inv_entry *x = a, *y = b;
	int c = strcmp(x->sha256, y->sha256);
	return c ? c : strcmp(x->hardware_id, y->hardware_id);
}

int srv_report_inventory(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct inv_ctx c = {0};
	struct srv_published *pub = NULL;
	size_t npub = 0, unpublished = 0;
	struct srv_json o = {0};
	int rc = st->ops->published_list(st, &pub, &npub, err);
	c.pub = pub;
	if (rc == UPT_OK && index_published(pub, npub, &c.pub_index) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		rc = st->ops->ecu_scan(st, inv_row, &c, err);
		if (rc == UPT_ERR_NOMEM)
			upt_error_set(err, rc, "out of memory");
	}
	if (rc != UPT_OK)
		goto done;
	qsort(c.e, c.n, sizeof *c.e, inv_cmp);
	srv_json_raw(&o, "{\"images\":[");
	for (size_t i = 0; i < c.n; i++) {
		const struct inv_entry *e = &c.e[i];
		srv_json_raw(&o, "%s{\"sha256\":\"%s\",\"hardware_id\":", i ? "," : "", e->sha256);
		srv_json_str(&o, e->hardware_id);
		srv_json_raw(&o, ",\"installed\":");
		srv_json_str(&o, e->installed);
		srv_json_raw(&o,
			     ",\"ecus\":%zu,\"devices\":%zu,\"published\":%s,\"target\":", e->ecus,
			     e->devices, e->target ? "true" : "false");
		if (e->target)
			srv_json_str(&o, e->target->name);
		else
			srv_json_raw(&o, "null");
		srv_json_raw(&o, "}");
		unpublished += !e->target;
	}
	srv_json_raw(&o, "],\"ecus\":%zu,\"no_image_ecus\":%zu,\"unpublished_images\":%zu}\n",
		     c.ecus, c.no_image, unpublished);
	rc = srv_json_finish(&o, resp, err);
done:
	table_free(&c.pub_index);
	table_free(&c.seen);
	free(c.e);
	free(pub);
	return rc;
}

/* ---- patch status ------------------------------------------------------- */

struct lack {
	char device[128], serial[128], hardware_id[128], installed[512], sha256[65];
};

struct release {
	const struct srv_published *t;
	bool due;
	size_t ecus, patched, n, cap;
	struct lack *lacking;
};

struct patch_ctx {
	const struct srv_published *pub;
	struct table pub_index;
	struct release *r;
	size_t n;
};

static int patch_row(void *ctx, const struct srv_ecu_row *row)
{
	struct patch_ctx *c = ctx;
	const struct srv_published *now = NULL;
	bool empty = no_image(row->installed_sha256);
	if (!empty)
		now = published_for(c->pub, &c->pub_index, row->installed_sha256, row->hardware_id);
	for (size_t i = 0; i < c->n; i++) {
		struct release *r = &c->r[i];
		struct lack *l;
		if (!srv_list_has(r->t->hardware_ids, row->hardware_id))
			continue;
		r->ecus++;
		if ((!empty && strcmp(row->installed_sha256, r->t->sha256) == 0) ||
		    (now && now->release_counter >= 0 && r->t->release_counter >= 0 &&
		     now->release_counter > r->t->release_counter)) {
			r->patched++;
			continue;
		}
		if (!r->due)
			continue;
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			struct lack *more = realloc(r->lacking, cap * sizeof *more);
			if (!more)
				return UPT_ERR_NOMEM;
			r->lacking = more;
			r->cap = cap;
		}
		l = &r->lacking[r->n++];
		snprintf(l->device, sizeof l->device, "%s", row->device);
		snprintf(l->serial, sizeof l->serial, "%s", row->serial);
		snprintf(l->hardware_id, sizeof l->hardware_id, "%s", row->hardware_id);
		snprintf(l->installed, sizeof l->installed, "%s", empty ? "" : row->installed);
		snprintf(l->sha256, sizeof l->sha256, "%s", empty ? "" : row->installed_sha256);
	}
	return UPT_OK;
}

/* The ECUs lacking a release (empty until it is overdue). */
static void put_lacking(struct srv_json *o, const struct release *r, int64_t now)
{
	srv_json_raw(o, ",\"lacking\":[");
	for (size_t j = 0; j < r->n; j++) {
		const struct lack *l = &r->lacking[j];
		srv_json_raw(o, "%s{\"device\":", j ? "," : "");
		srv_json_str(o, l->device);
		srv_json_raw(o, ",\"ecu\":");
		srv_json_str(o, l->serial);
		srv_json_raw(o, ",\"hardware_id\":");
		srv_json_str(o, l->hardware_id);
		srv_json_raw(o, ",\"installed\":");
		srv_json_str(o, l->installed);
		srv_json_raw(o, ",\"installed_sha256\":\"%s\",\"missing_days\":%lld}", l->sha256,
			     (long long)((now - r->t->published) / 86400));
	}
	srv_json_raw(o, "]");
}

/* The campaigns that roll the release out, and how far they are. */
static void put_campaigns(struct srv_json *o, struct srv_store *st, const char *sha256,
			  const struct srv_campaign *c, size_t n)
{
	char needle[96];
	bool first = true;
	snprintf(needle, sizeof needle, "\"sha256\":\"%s\"", sha256);
	srv_json_raw(o, ",\"campaigns\":[");
	for (size_t i = 0; i < n; i++) {
		struct srv_member_count *cnt = NULL;
		size_t nc = 0;
		int64_t ecus = 0, ok = 0, failed = 0;
		if (!strstr(c[i].spec, needle) ||
		    st->ops->member_counts(st, c[i].id, &cnt, &nc, NULL) != UPT_OK)
			continue;
		for (size_t k = 0; k < nc; k++) {
			ecus += cnt[k].n;
			ok += strcmp(cnt[k].state, "succeeded") == 0 ||
				      strcmp(cnt[k].state, "already_installed") == 0
				  ? cnt[k].n
				  : 0;
			failed += strcmp(cnt[k].state, "failed") == 0 ||
					  strcmp(cnt[k].state, "rolled_back") == 0
				      ? cnt[k].n
				      : 0;
		}
		free(cnt);
		srv_json_raw(o, "%s{\"id\":%lld,\"name\":", first ? "" : ",", (long long)c[i].id);
		srv_json_str(o, c[i].name);
		srv_json_raw(o,
			     ",\"status\":\"%s\",\"ecus\":%lld,\"succeeded\":%lld,\"failed\":%lld}",
			     c[i].status, (long long)ecus, (long long)ok, (long long)failed);
		first = false;
	}
	srv_json_raw(o, "]");
}

int srv_report_patch_status(struct srv_store *st, int64_t now, int64_t days, char **resp,
			    struct upt_error *err)
{
	struct patch_ctx c = {0};
	struct srv_published *pub = NULL;
	size_t npub = 0;
	struct srv_json o = {0};
	struct srv_campaign *camps = NULL;
	size_t ncamps = 0;
	int rc = st->ops->published_list(st, &pub, &npub, err);
	c.pub = pub;
	if (rc == UPT_OK && index_published(pub, npub, &c.pub_index) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK && !(c.r = calloc(npub ? npub : 1, sizeof *c.r)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < npub; i++)
		if (pub[i].security) {
			c.r[c.n].t = &pub[i];
			c.r[c.n++].due = now - pub[i].published >= days * 86400;
		}
	if (rc == UPT_OK) {
		rc = st->ops->ecu_scan(st, patch_row, &c, err);
		if (rc == UPT_ERR_NOMEM)
			upt_error_set(err, rc, "out of memory");
	}
	if (rc == UPT_OK)
		rc = st->ops->campaign_list(st, &camps, &ncamps, err);
	if (rc != UPT_OK)
		goto done;
	srv_json_raw(&o, "{\"at\":%lld,\"days\":%lld,\"releases\":[", (long long)now,
		     (long long)days);
	for (size_t i = 0; i < c.n; i++) {
		const struct release *r = &c.r[i];
		const char *h = r->t->hardware_ids;
		srv_json_raw(&o, "%s{\"target\":", i ? "," : "");
		srv_json_str(&o, r->t->name);
		srv_json_raw(&o, ",\"sha256\":\"%s\",\"hardware_ids\":[", r->t->sha256);
		for (bool first = true; *h; first = false) {
			const char *comma = strchr(h, ',');
			size_t len = comma ? (size_t)(comma - h) : strlen(h);
			char id[129];
			snprintf(id, sizeof id, "%.*s", (int)(len < 128 ? len : 128), h);
			srv_json_raw(&o, "%s", first ? "" : ",");
			srv_json_str(&o, id);
			h += len + (comma ? 1 : 0);
		}
		srv_json_raw(&o,
			     "],\"release_counter\":%lld,\"published\":%lld,\"due\":%lld,"
			     "\"overdue\":%s,\"ecus\":%zu,\"patched\":%zu",
			     (long long)r->t->release_counter, (long long)r->t->published,
			     (long long)(r->t->published + days * 86400), r->due ? "true" : "false",
			     r->ecus, r->patched);
		put_lacking(&o, r, now);
		put_campaigns(&o, st, r->t->sha256, camps, ncamps);
		srv_json_raw(&o, "}");
	}
	srv_json_raw(&o, "]}\n");
	rc = srv_json_finish(&o, resp, err);
done:
	for (size_t i = 0; c.r && i < c.n; i++)
		free(c.r[i].lacking);
	free(c.r);
	table_free(&c.pub_index);
	srv_campaigns_free(camps, ncamps);
	free(pub);
	return rc;
}

/* ---- opt-out ------------------------------------------------------------ */

int srv_report_opt_out(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct srv_device *d = NULL;
	size_t nd = 0, k = 0;
	struct srv_json o = {0};
	int rc = st->ops->device_list(st, &d, &nd, err);
	if (rc != UPT_OK)
		return rc;
	srv_json_raw(&o, "{\"devices\":[");
	for (size_t i = 0; i < nd; i++) {
		if (d[i].auto_update || !d[i].last_manifest)
			continue;
		srv_json_raw(&o, "%s{\"id\":", k++ ? "," : "");
		srv_json_str(&o, d[i].id);
		srv_json_raw(&o, ",\"product\":");
		srv_json_str(&o, d[i].product);
		srv_json_raw(&o, ",\"since\":%lld,\"last_manifest\":%lld}",
			     (long long)d[i].auto_update_since, (long long)d[i].last_manifest);
	}
	srv_json_raw(&o, "],\"opted_out\":%zu,\"devices_total\":%zu}\n", k, nd);
	free(d);
	return srv_json_finish(&o, resp, err);
}

/* ---- adoption of the security releases over time ------------------------- */

struct ad_ecu {
	char device[128], serial[128], hardware_id[128];
};

struct ad_event {
	size_t ecu;
	int64_t at;
	char sha256[65], digest[65];
};

struct adoption {
	struct ad_ecu *e;
	size_t ne, cap_e;
	struct table ecu_index; /* "device\nserial" -> e[] */
	size_t *last;           /* per ECU: its last event + 1 (0: none yet) */
	struct ad_event *ev;
	size_t nev, cap_ev;
	const char *device; /* the manifest being scanned */
	int64_t at;
};

static int ad_ecu_row(void *ctx, const struct srv_ecu_row *row)
{
	struct adoption *a = ctx;
	char key[260];
	if (a->ne == a->cap_e) {
		size_t cap = a->cap_e ? 2 * a->cap_e : 64;
		struct ad_ecu *more = realloc(a->e, cap * sizeof *more);
		if (!more)
			return UPT_ERR_NOMEM;
		a->e = more;
		a->cap_e = cap;
	}
	snprintf(a->e[a->ne].device, sizeof a->e[0].device, "%s", row->device);
	snprintf(a->e[a->ne].serial, sizeof a->e[0].serial, "%s", row->serial);
	snprintf(a->e[a->ne].hardware_id, sizeof a->e[0].hardware_id, "%s", row->hardware_id);
	snprintf(key, sizeof key, "%s\n%s", row->device, row->serial);
	if (table_add(&a->ecu_index, key, a->ne) != UPT_OK)
		return UPT_ERR_NOMEM;
	a->ne++;
	return UPT_OK;
}

/* One ECU report of a kept manifest: an event when it names another image
 * than the ECU's previous one. */
static int ad_report(void *ctx, const struct srv_kept_report *k)
{
	struct adoption *a = ctx;
	char key[260];
	size_t *i;
	snprintf(key, sizeof key, "%s\n%s", a->device, k->serial);
	if (!(i = table_find(&a->ecu_index, key)))
		return UPT_OK; /* not registered: the report was refused */
	if (a->last[*i] && strcmp(a->ev[a->last[*i] - 1].sha256, k->sha256) == 0)
		return UPT_OK;
	if (a->nev == a->cap_ev) {
		size_t cap = a->cap_ev ? 2 * a->cap_ev : 256;
		struct ad_event *more = realloc(a->ev, cap * sizeof *more);
		if (!more)
			return UPT_ERR_NOMEM;
		a->ev = more;
		a->cap_ev = cap;
	}
	a->ev[a->nev].ecu = *i;
	a->ev[a->nev].at = a->at;
	snprintf(a->ev[a->nev].sha256, sizeof a->ev[0].sha256, "%s", k->sha256);
	snprintf(a->ev[a->nev].digest, sizeof a->ev[0].digest, "%s", k->digest);
	a->last[*i] = ++a->nev;
	return UPT_OK;
}

static int ad_manifest(void *ctx, const char *device, int64_t received, const uint8_t *body,
		       size_t len)
{
	struct adoption *a = ctx;
	struct upt_error e = {0};
	int rc;
	a->device = device;
	a->at = received;
	rc = srv_manifest_reports(body, len, ad_report, a, &e);
	/* a kept manifest parsed when it arrived; one that no longer does is skipped */
	return rc == UPT_ERR_NOMEM ? rc : UPT_OK;
}

struct step {
	int64_t at;
	int delta;
};

static int step_cmp(const void *x, const void *y)
{
	const struct step *a = x, *b = y;
	return a->at < b->at ? -1 : a->at > b->at;
}

/* Whether `sha256` (run on an ECU of `hwid`) is release r or later. */
static bool ad_patched(const struct srv_published *r, const struct srv_published *pub,
		       const struct table *pub_index, const char *sha256, const char *hwid)
{
	const struct srv_published *now;
	if (no_image(sha256))
		return false;
	if (strcmp(sha256, r->sha256) == 0)
		return true;
	now = published_for(pub, pub_index, sha256, hwid);
	return now && now->release_counter >= 0 && r->release_counter >= 0 &&
	       now->release_counter > r->release_counter;
}

int srv_report_adoption(struct srv_store *st, int64_t now, char **resp, struct upt_error *err)
{
	struct adoption a = {0};
	struct srv_published *pub = NULL;
	struct table pub_index = {0};
	struct step *steps = NULL;
	bool *ok = NULL;
	size_t npub = 0, k = 0;
	struct srv_json o = {0};
	int rc = st->ops->published_list(st, &pub, &npub, err);
	if (rc == UPT_OK && index_published(pub, npub, &pub_index) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK && (rc = st->ops->ecu_scan(st, ad_ecu_row, &a, err)) == UPT_ERR_NOMEM)
		upt_error_set(err, rc, "out of memory");
	if (rc == UPT_OK && !(a.last = calloc(a.ne ? a.ne : 1, sizeof *a.last)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK &&
	    (rc = st->ops->manifest_scan(st, NULL, ad_manifest, &a, err)) == UPT_ERR_NOMEM)
		upt_error_set(err, rc, "out of memory");
	/* only what the server accepted counts: the report is in its ECU's history */
	if (rc == UPT_OK && !(ok = calloc(a.nev ? a.nev : 1, sizeof *ok)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < a.nev; i++) {
		const struct ad_ecu *e = &a.e[a.ev[i].ecu];
		rc = st->ops->report_seen(st, e->device, e->serial, a.ev[i].digest, &ok[i], err);
	}
	if (rc == UPT_OK && !(steps = calloc(a.nev + 1, sizeof *steps)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc != UPT_OK)
		goto done;
	srv_json_raw(&o, "{\"at\":%lld,\"releases\":[", (long long)now);
	for (size_t r = 0; r < npub; r++) {
		const struct srv_published *rel = &pub[r];
		size_t ns = 0, ecus = 0, np = 0;
		long patched = 0;
		if (!rel->security)
			continue;
		for (size_t e = 0; e < a.ne; e++)
			if (srv_list_has(rel->hardware_ids, a.e[e].hardware_id))
				ecus++;
		memset(a.last, 0, a.ne * sizeof *a.last); /* per ECU: 1 while patched */
		for (size_t i = 0; i < a.nev; i++) {
			const struct ad_ecu *e = &a.e[a.ev[i].ecu];
			bool p;
			if (!ok[i] || !srv_list_has(rel->hardware_ids, e->hardware_id))
				continue;
			p = ad_patched(rel, pub, &pub_index, a.ev[i].sha256, e->hardware_id);
			if (p != (a.last[a.ev[i].ecu] != 0)) {
				a.last[a.ev[i].ecu] = p;
				steps[ns].at = a.ev[i].at;
				steps[ns++].delta = p ? 1 : -1;
			}
		}
		qsort(steps, ns, sizeof *steps, step_cmp);
		srv_json_raw(&o, "%s{\"target\":", k++ ? "," : "");
		srv_json_str(&o, rel->name);
		srv_json_raw(&o,
			     ",\"sha256\":\"%s\",\"release_counter\":%lld,\"published\":%lld,"
			     "\"ecus\":%zu,\"points\":[",
			     rel->sha256, (long long)rel->release_counter,
			     (long long)rel->published, ecus);
		for (size_t i = 0; i < ns; i++) {
			patched += steps[i].delta;
			if (i + 1 < ns && steps[i + 1].at == steps[i].at)
				continue;
			srv_json_raw(&o, "%s{\"at\":%lld,\"patched\":%ld}", np++ ? "," : "",
				     (long long)steps[i].at, patched);
		}
		srv_json_raw(&o, "],\"patched\":%ld}", patched);
	}
	srv_json_raw(&o, "]}\n");
	rc = srv_json_finish(&o, resp, err);
done:
	free(steps);
	free(ok);
	free(a.ev);
	free(a.last);
	free(a.e);
	table_free(&a.ecu_index);
	table_free(&pub_index);
	free(pub);
	return rc;
}
