/* uptake-server: fleet reports from signed evidence (see reports.h). */
#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uptake/metadata.h>

#include "campaigns.h"
#include "jsonout.h"
#include "lifecycle.h"

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

/* ---- streams ------------------------------------------------------------ */

/* Each call of next() adds rows until the chunk holds this much. */
#define CHUNK (16u << 10)

struct srv_report_stream {
	struct srv_store *st;
	struct srv_report_args a;
	int (*next)(struct srv_report_stream *r, struct srv_json *o, struct upt_error *err);
	int stage; /* 0 before the head, then per report */
	struct srv_cursor *cur;
	struct srv_published *pub;
	size_t npub;
	struct table pub_index;
	size_t rows, n1, n2, n3; /* rows written; report-specific counts */
	/* support */
	struct srv_product *prod;
	size_t nprod;
	struct prod_sum {
		size_t units, dated;
		int64_t last;
	} * sum;
	/* patch-status */
	struct release *rel;
	size_t nrel, at;
	struct srv_campaign *camps;
	size_t ncamps;
};

/* A CSV field: quoted when it holds a comma or a quote. */
static void csv_field(struct srv_json *o, const char *s)
{
	if (!strpbrk(s, ",\"")) {
		srv_json_raw(o, "%s", s);
		return;
	}
	srv_json_raw(o, "\"");
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1)
		srv_json_raw(o, "%.*s\"\"", (int)(q - s), s);
	srv_json_raw(o, "%s\"", s);
}

/* A time as the CLI prints it ("-" for none). */
static void csv_time(struct srv_json *o, int64_t t)
{
	char out[32];
	if (t <= 0 || upt_time_format(out, sizeof out, t) != UPT_OK)
		snprintf(out, sizeof out, "-");
	srv_json_raw(o, "%s", out);
}

static void csv_bool(struct srv_json *o, bool b)
{
	srv_json_raw(o, "%s", b ? "true" : "false");
}

/* The cursor's next row: 1, 0 at the end (the cursor closed), or an error. */
static int next_row(struct srv_report_stream *r, void *row, struct upt_error *err)
{
	int rc = r->st->ops->cursor_next(r->cur, row, err);
	if (rc == 0) {
		r->st->ops->cursor_close(r->cur);
		r->cur = NULL;
	}
	return rc;
}

/* ---- inventory ---------------------------------------------------------- */

static void inv_put(struct srv_report_stream *r, struct srv_json *o, const struct srv_image_row *m,
		    const struct srv_published *t)
{
	if (r->a.csv) {
		csv_field(o, m->sha256);
		srv_json_raw(o, ",");
		csv_field(o, m->hardware_id);
		srv_json_raw(o, ",");
		csv_field(o, m->installed);
		srv_json_raw(o, ",%lld,%lld,", (long long)m->ecus, (long long)m->devices);
		csv_bool(o, t != NULL);
		srv_json_raw(o, ",");
		csv_field(o, t ? t->name : "");
		srv_json_raw(o, "\n");
		return;
	}
	srv_json_raw(o, "%s{\"sha256\":", r->rows ? "," : "");
	srv_json_str(o, m->sha256);
	srv_json_raw(o, ",\"hardware_id\":");
	srv_json_str(o, m->hardware_id);
	srv_json_raw(o, ",\"installed\":");
	srv_json_str(o, m->installed);
	srv_json_raw(o, ",\"ecus\":%lld,\"devices\":%lld,\"published\":%s,\"target\":",
		     (long long)m->ecus, (long long)m->devices, t ? "true" : "false");
	if (t)
		srv_json_str(o, t->name);
	else
		srv_json_raw(o, "null");
	srv_json_raw(o, "}");
}

/* n1 ECUs, n2 without an image, n3 images never published */
static int inv_next(struct srv_report_stream *r, struct srv_json *o, struct upt_error *err)
{
	struct srv_image_row m;
	int rc = 1;
	if (r->stage == 0) {
		srv_json_raw(o, r->a.csv ? "sha256,hardware_id,installed,ecus,devices,published,"
					   "target\n"
					 : "{\"images\":[");
		r->stage = 1;
	}
	const size_t from = o->len; /* o may hold earlier chunks (srv_report) */
	while (o->len - from < CHUNK && (rc = next_row(r, &m, err)) == 1) {
		const struct srv_published *t;
		r->n1 += (size_t)m.ecus;
		if (no_image(m.sha256)) {
			r->n2 += (size_t)m.ecus;
			continue;
		}
		t = published_for(r->pub, &r->pub_index, m.sha256, m.hardware_id);
		r->n3 += !t;
		inv_put(r, o, &m, t);
		r->rows++;
	}
	if (rc == 0 && !r->a.csv)
		srv_json_raw(o,
			     "],\"ecus\":%zu,\"no_image_ecus\":%zu,\"unpublished_images\":%zu}\n",
			     r->n1, r->n2, r->n3);
	return rc;
}

/* ---- opt-out ------------------------------------------------------------ */

/* n1 devices, rows opted out */
static int opt_next(struct srv_report_stream *r, struct srv_json *o, struct upt_error *err)
{
	struct srv_device d;
	int rc = 1;
	if (r->stage == 0) {
		srv_json_raw(o,
			     r->a.csv ? "device,product,since,last_manifest\n" : "{\"devices\":[");
		r->stage = 1;
	}
	const size_t from = o->len; /* o may hold earlier chunks (srv_report) */
	while (o->len - from < CHUNK && (rc = next_row(r, &d, err)) == 1) {
		r->n1++;
		if (d.auto_update || !d.last_manifest)
			continue;
		if (r->a.csv) {
			csv_field(o, d.id);
			srv_json_raw(o, ",");
			csv_field(o, d.product);
			srv_json_raw(o, ",");
			csv_time(o, d.auto_update_since);
			srv_json_raw(o, ",");
			csv_time(o, d.last_manifest);
			srv_json_raw(o, "\n");
		} else {
			srv_json_raw(o, "%s{\"id\":", r->rows ? "," : "");
			srv_json_str(o, d.id);
			srv_json_raw(o, ",\"product\":");
			srv_json_str(o, d.product);
			srv_json_raw(o, ",\"since\":%lld,\"last_manifest\":%lld}",
				     (long long)d.auto_update_since, (long long)d.last_manifest);
		}
		r->rows++;
	}
	if (rc == 0 && !r->a.csv)
		srv_json_raw(o, "],\"opted_out\":%zu,\"devices_total\":%zu}\n", r->rows, r->n1);
	return rc;
}

/* ---- support ------------------------------------------------------------ */

static void support_put(struct srv_report_stream *r, struct srv_json *o, const struct srv_device *d)
{
	const struct srv_product *dp = NULL;
	struct prod_sum *sum = NULL;
	char end[11];
	int64_t e = 0, at = r->a.at_day, within = r->a.within;
	const char *status = "unknown";
	bool dated;
	for (size_t j = 0; j < r->nprod; j++)
		if (strcmp(r->prod[j].name, d->product) == 0) {
			dp = &r->prod[j];
			sum = &r->sum[j];
		}
	srv_support_end(d, dp, end);
	dated = end[0] && srv_date_parse(end, &e) == UPT_OK;
	if (dated)
		status = e <= at ? "ended" : e - at <= within ? "ending" : "in-support";
	if (sum) {
		sum->units++;
		if (dated) {
			sum->dated++;
			sum->last = e > sum->last ? e : sum->last;
		}
	}
	if (r->a.csv) {
		const char *f[] = {d->id, d->product, d->manufactured, d->placed_on_market,
				   end,   status};
		for (size_t k = 0; k < 6; k++) {
			csv_field(o, f[k]);
			srv_json_raw(o, ",");
		}
		if (end[0])
			srv_json_raw(o, "%lld", (long long)(e > at ? e - at : 0));
		srv_json_raw(o, ",%lld,%s\n", (long long)d->last_manifest,
			     d->auto_update ? "true" : "false");
		return;
	}
	srv_json_raw(o, "%s", r->rows ? "," : "");
	srv_put_lifecycle(o, d, dp);
	srv_json_raw(o, ",\"status\":\"%s\"", status);
	if (end[0])
		srv_json_raw(o, ",\"days_left\":%lld", (long long)(e > at ? e - at : 0));
	srv_json_raw(o, ",\"last_manifest\":%lld,\"auto_update\":%s}", (long long)d->last_manifest,
		     d->auto_update ? "true" : "false");
}

static void support_products(struct srv_report_stream *r, struct srv_json *o)
{
	char day[11];
	srv_json_raw(o, "],\"products\":[");
	for (size_t j = 0; j < r->nprod; j++) {
		const struct prod_sum *s = &r->sum[j];
		srv_json_raw(o, "%s{\"name\":", j ? "," : "");
		srv_json_str(o, r->prod[j].name);
		srv_json_raw(o, ",\"support_years\":%lld,\"devices\":%zu,\"devices_dated\":%zu",
			     (long long)r->prod[j].support_years, s->units, s->dated);
		if (s->last >= 0) {
			srv_date_format(s->last, day);
			srv_json_raw(o, ",\"last_obligation_ends\":\"%s\"", day);
		} else {
			srv_json_raw(o, ",\"last_obligation_ends\":null");
		}
		srv_json_raw(o, "}");
	}
	srv_json_raw(o, "]}\n");
}

static int support_next(struct srv_report_stream *r, struct srv_json *o, struct upt_error *err)
{
	struct srv_device d;
	int rc = 1;
	if (r->stage == 0) {
		char day[11];
		srv_date_format(r->a.at_day, day);
		if (r->a.csv)
			srv_json_raw(o, "device,product,manufactured,placed_on_market,support_end,"
					"status,days_left,last_manifest,auto_update\n");
		else
			srv_json_raw(o, "{\"at\":\"%s\",\"within_days\":%lld,\"devices\":[", day,
				     (long long)r->a.within);
		r->stage = 1;
	}
	const size_t from = o->len; /* o may hold earlier chunks (srv_report) */
	while (o->len - from < CHUNK && (rc = next_row(r, &d, err)) == 1) {
		support_put(r, o, &d);
		r->rows++;
	}
	if (rc == 0 && !r->a.csv)
		support_products(r, o);
	return rc;
}

/* ---- patch status ------------------------------------------------------- */

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

struct release {
	const struct srv_published *t;
	bool due;
	size_t ecus, patched;
};

/* What `row` is for release `t`: -1 not of its hardware, 1 patched (runs
 * it or a higher release counter), 0 lacking. */
static int patch_judge(const struct srv_report_stream *r, const struct srv_published *t,
		       const struct srv_ecu_row *row)
{
	const struct srv_published *now = NULL;
	bool empty = no_image(row->installed_sha256);
	if (!srv_list_has(t->hardware_ids, row->hardware_id))
		return -1;
	if (!empty)
		now = published_for(r->pub, &r->pub_index, row->installed_sha256, row->hardware_id);
	return (!empty && strcmp(row->installed_sha256, t->sha256) == 0) ||
	       (now && now->release_counter >= 0 && t->release_counter >= 0 &&
		now->release_counter > t->release_counter);
}

/* The counts of every release: one pass before anything is written. */
static int patch_count(struct srv_report_stream *r, struct upt_error *err)
{
	struct srv_ecu_row row;
	int rc;
	while ((rc = next_row(r, &row, err)) == 1)
		for (size_t i = 0; i < r->nrel; i++) {
			int v = patch_judge(r, r->rel[i].t, &row);
			r->rel[i].ecus += v >= 0;
			r->rel[i].patched += v == 1;
		}
	return rc;
}

static void patch_head(struct srv_report_stream *r, struct srv_json *o, const struct release *x)
{
	const char *h = x->t->hardware_ids;
	int64_t days = r->a.days;
	srv_json_raw(o, "%s{\"target\":", r->at ? "," : "");
	srv_json_str(o, x->t->name);
	srv_json_raw(o, ",\"sha256\":\"%s\",\"hardware_ids\":[", x->t->sha256);
	for (bool first = true; *h; first = false) {
		const char *comma = strchr(h, ',');
		size_t len = comma ? (size_t)(comma - h) : strlen(h);
		char id[129];
		snprintf(id, sizeof id, "%.*s", (int)(len < 128 ? len : 128), h);
		srv_json_raw(o, "%s", first ? "" : ",");
		srv_json_str(o, id);
		h += len + (comma ? 1 : 0);
	}
	srv_json_raw(o,
		     "],\"release_counter\":%lld,\"published\":%lld,\"due\":%lld,"
		     "\"overdue\":%s,\"ecus\":%zu,\"patched\":%zu,\"lacking\":[",
		     (long long)x->t->release_counter, (long long)x->t->published,
		     (long long)(x->t->published + days * 86400), x->due ? "true" : "false",
		     x->ecus, x->patched);
}

static void patch_lack(struct srv_report_stream *r, struct srv_json *o, const struct release *x,
		       const struct srv_ecu_row *row)
{
	bool empty = no_image(row->installed_sha256);
	long long missing = (long long)((r->a.now - x->t->published) / 86400);
	if (r->a.csv) {
		csv_field(o, x->t->name);
		srv_json_raw(o, ",%s,", x->t->sha256);
		csv_time(o, x->t->published);
		srv_json_raw(o, ",%s,", x->due ? "true" : "false");
		csv_field(o, row->device);
		srv_json_raw(o, ",");
		csv_field(o, row->serial);
		srv_json_raw(o, ",");
		csv_field(o, row->hardware_id);
		srv_json_raw(o, ",");
		csv_field(o, empty ? "" : row->installed);
		srv_json_raw(o, ",");
		csv_field(o, empty ? "" : row->installed_sha256);
		srv_json_raw(o, ",%lld\n", missing);
		return;
	}
	srv_json_raw(o, "%s{\"device\":", r->rows ? "," : "");
	srv_json_str(o, row->device);
	srv_json_raw(o, ",\"ecu\":");
	srv_json_str(o, row->serial);
	srv_json_raw(o, ",\"hardware_id\":");
	srv_json_str(o, row->hardware_id);
	srv_json_raw(o, ",\"installed\":");
	srv_json_str(o, empty ? "" : row->installed);
	srv_json_raw(o, ",\"installed_sha256\":\"%s\",\"missing_days\":%lld}",
		     empty ? "" : row->installed_sha256, missing);
}

/* stage 1: a release's head next; 2: its lacking ECUs (a cursor when due) */
static int patch_next(struct srv_report_stream *r, struct srv_json *o, struct upt_error *err)
{
	struct srv_ecu_row row;
	int rc = 1;
	if (r->stage == 0) {
		if ((rc = patch_count(r, err)) != 0)
			return rc;
		if (r->a.csv)
			srv_json_raw(o, "release,sha256,published,overdue,device,ecu,hardware_id,"
					"installed,installed_sha256,missing_days\n");
		else
			srv_json_raw(o, "{\"at\":%lld,\"days\":%lld,\"releases\":[",
				     (long long)r->a.now, (long long)r->a.days);
		r->stage = 1;
	}
	const size_t from = o->len; /* o may hold earlier chunks (srv_report) */
	while (o->len - from < CHUNK && r->at < r->nrel) {
		struct release *x = &r->rel[r->at];
		if (r->stage == 1) {
			if (!r->a.csv)
				patch_head(r, o, x);
			r->rows = 0;
			r->stage = 2;
			if (x->due && (rc = r->st->ops->cursor_open(r->st, SRV_SCAN_ECUS, NULL,
								    &r->cur, err)) != UPT_OK)
				return rc;
			continue;
		}
		if (r->cur && (rc = next_row(r, &row, err)) == 1) {
			if (patch_judge(r, x->t, &row) == 0) {
				patch_lack(r, o, x, &row);
				r->rows++;
			}
			continue;
		}
		if (rc < 0)
			return rc;
		if (!r->a.csv) {
			srv_json_raw(o, "]");
			put_campaigns(o, r->st, x->t->sha256, r->camps, r->ncamps);
			srv_json_raw(o, "}");
		}
		r->at++;
		r->stage = 1;
	}
	if (r->at < r->nrel)
		return 1;
	if (!r->a.csv)
		srv_json_raw(o, "]}\n");
	return 0;
}

/* ---- open, next, close -------------------------------------------------- */

void srv_report_close(struct srv_report_stream *r)
{
	if (!r)
		return;
	r->st->ops->cursor_close(r->cur);
	table_free(&r->pub_index);
	free(r->pub);
	free(r->prod);
	free(r->sum);
	free(r->rel);
	srv_campaigns_free(r->camps, r->ncamps);
	free(r);
}

static int open_patch(struct srv_report_stream *r, struct upt_error *err)
{
	int rc = r->st->ops->campaign_list(r->st, &r->camps, &r->ncamps, err);
	if (rc == UPT_OK && !(r->rel = calloc(r->npub ? r->npub : 1, sizeof *r->rel)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < r->npub; i++)
		if (r->pub[i].security) {
			r->rel[r->nrel].t = &r->pub[i];
			r->rel[r->nrel++].due = r->a.now - r->pub[i].published >= r->a.days * 86400;
		}
	return rc;
}

static int open_support(struct srv_report_stream *r, struct upt_error *err)
{
	int rc = r->st->ops->product_list(r->st, &r->prod, &r->nprod, err);
	if (rc == UPT_OK && !(r->sum = calloc(r->nprod ? r->nprod : 1, sizeof *r->sum)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t j = 0; rc == UPT_OK && j < r->nprod; j++)
		r->sum[j].last = -1;
	return rc;
}

int srv_report_open(struct srv_report_stream **out, struct srv_store *st, enum srv_report kind,
		    const struct srv_report_args *a, struct upt_error *err)
{
	static const enum srv_scan scan[] = {
	    [SRV_REPORT_INVENTORY] = SRV_SCAN_IMAGES,
	    [SRV_REPORT_SUPPORT] = SRV_SCAN_DEVICES,
	    [SRV_REPORT_PATCH_STATUS] = SRV_SCAN_ECUS,
	    [SRV_REPORT_OPT_OUT] = SRV_SCAN_DEVICES,
	};
	static int (*const next[])(struct srv_report_stream *, struct srv_json *,
				   struct upt_error *) = {
	    [SRV_REPORT_INVENTORY] = inv_next,
	    [SRV_REPORT_SUPPORT] = support_next,
	    [SRV_REPORT_PATCH_STATUS] = patch_next,
	    [SRV_REPORT_OPT_OUT] = opt_next,
	};
	struct srv_report_stream *r = calloc(1, sizeof *r);
	int rc = UPT_OK;
	*out = NULL;
	if (!r)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	r->st = st;
	r->a = *a;
	r->next = next[kind];
	if (kind == SRV_REPORT_INVENTORY || kind == SRV_REPORT_PATCH_STATUS) {
		rc = st->ops->published_list(st, &r->pub, &r->npub, err);
		if (rc == UPT_OK && index_published(r->pub, r->npub, &r->pub_index) != UPT_OK)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	if (rc == UPT_OK && kind == SRV_REPORT_PATCH_STATUS)
		rc = open_patch(r, err);
	if (rc == UPT_OK && kind == SRV_REPORT_SUPPORT)
		rc = open_support(r, err);
	if (rc == UPT_OK)
		rc = st->ops->cursor_open(st, scan[kind], NULL, &r->cur, err);
	if (rc != UPT_OK) {
		srv_report_close(r);
		return rc;
	}
	*out = r;
	return UPT_OK;
}

int srv_report_next(struct srv_report_stream *r, struct srv_json *out, struct upt_error *err)
{
	int rc = r->next(r, out, err);
	if (rc >= 0 && out->rc != UPT_OK)
		rc = upt_error_set(err, out->rc, "report: out of memory");
	return rc;
}

int srv_report(struct srv_store *st, enum srv_report kind, const struct srv_report_args *a,
	       char **resp, struct upt_error *err)
{
	struct srv_report_stream *r = NULL;
	struct srv_json o = {0};
	int rc = srv_report_open(&r, st, kind, a, err);
	while (rc == UPT_OK && (rc = srv_report_next(r, &o, err)) == 1)
		rc = UPT_OK;
	srv_report_close(r);
	if (rc != UPT_OK) {
		srv_json_dispose(&o);
		return rc;
	}
	return srv_json_finish(&o, resp, err);
}
/* ---- adoption of the security releases over time ------------------------- */

struct ad_ecu {
	char device[128], serial[128], hardware_id[128];
};

struct ad_event {
	size_t ecu;
	int64_t at;
	int accepted; /* 1 or 0 as the manifest records; -1: not recorded (the
		       * ECU's report history tells) */
	char sha256[65], digest[65];
};

struct adoption {
	struct ad_ecu *e;
	size_t ne, cap_e;
	struct table ecu_index; /* "device\nserial" -> e[] */
	size_t *last;           /* per ECU: its last event + 1 (0: none yet) */
	struct ad_event *ev;
	size_t nev, cap_ev;
	const char *device;   /* the manifest being scanned */
	const char *accepted; /* its accepted ECUs (NULL: look them up) */
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
	a->ev[a->nev].accepted = a->accepted ? srv_accepted_has(a->accepted, k->serial) : -1;
	snprintf(a->ev[a->nev].sha256, sizeof a->ev[0].sha256, "%s", k->sha256);
	snprintf(a->ev[a->nev].digest, sizeof a->ev[0].digest, "%s", k->digest);
	a->last[*i] = ++a->nev;
	return UPT_OK;
}

static int ad_manifest(void *ctx, const char *device, int64_t received, const uint8_t *body,
		       size_t len, const char *accepted)
{
	struct adoption *a = ctx;
	struct upt_error e = {0};
	int rc;
	a->device = device;
	a->accepted = accepted;
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
		ok[i] = a.ev[i].accepted == 1;
		if (a.ev[i].accepted < 0)
			rc = st->ops->report_seen(st, e->device, e->serial, a.ev[i].digest, &ok[i],
						  err);
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
