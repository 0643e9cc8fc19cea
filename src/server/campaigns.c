/* uptake-server: update campaigns (see campaigns.h). */
#define _GNU_SOURCE
#include "campaigns.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/json.h>

#include "alerts.h"
#include "jsonout.h"
#include "lifecycle.h"

/* ---- the campaign as specified ------------------------------------------ */

struct c_target {
	struct srv_assignment a; /* hardware_id, target, length, hashes, release counter */
	bool security;           /* a security release (custom.security) */
};

struct c_stage {
	int64_t percent, count; /* one of them is set */
	int64_t success, error; /* thresholds, percent of the stage's ECUs */
	int64_t soak;           /* seconds after the success threshold */
};

struct c_filter {
	char product[128], hardware_id[128], installed[512];
	char tags[8][64];
	size_t n_tags;
	bool in_support;
};

struct spec {
	char name[128];
	struct c_target t[SRV_CAMPAIGN_MAX_TARGETS];
	size_t nt;
	struct c_stage s[SRV_CAMPAIGN_MAX_STAGES];
	size_t ns;
	bool explicit_devices;
	struct c_filter f;
	int64_t start_at;
	bool has_window;
	int64_t win_start, win_end; /* minutes of the device's local day */
	bool approval, fast_path, join_new, security;
	bool download_only; /* installs wait for `install` (the campaign's release) */
};

struct work {
	unsigned char *mem;
	struct upt_arena a;
};

static int parse(struct work *w, const uint8_t *body, size_t len, struct upt_json **v,
		 struct upt_error *err)
{
	size_t cap = 32 * len + (64u << 10);
	if (!(w->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&w->a, w->mem, cap);
	return upt_json_parse(v, &w->a, body, len, NULL, err);
}

static bool is_key(const struct upt_json *m, const char *k)
{
	return strlen(k) == m->key_len && memcmp(k, m->key, m->key_len) == 0;
}

static int only(const struct upt_json *v, const char *what, const char *const *allowed,
		struct upt_error *err)
{
	if (!v || v->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: must be an object", what);
	for (size_t i = 0; i < v->n; i++) {
		bool known = false;
		for (const char *const *a = allowed; *a; a++)
			known |= is_key(v->items[i], *a);
		if (!known)
			return upt_error_set(
			    err, UPT_ERR_FIELD_VALUE, "%s: unknown member '%.*s'", what,
			    (int)(v->items[i]->key_len > 60 ? 60 : v->items[i]->key_len),
			    v->items[i]->key);
	}
	return UPT_OK;
}

/* Printable, no quotes, backslashes or commas (tags are kept
 * comma-separated), 1 to max bytes. */
static bool valid_text(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\' ||
		    s[i] == ',')
			return false;
	return true;
}

static int get_str(const struct upt_json *obj, const char *key, const char *what, char *out,
		   size_t cap, bool required, struct upt_error *err)
{
	const struct upt_json *v = upt_json_get(obj, key);
	if (!v) {
		if (required)
			return upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s: %s missing", what,
					     key);
		return UPT_OK;
	}
	if (v->type != UPT_JSON_STRING || !valid_text(v->str, v->len, cap - 1))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: %s must be a string of 1-%zu printable characters", what,
				     key, cap - 1);
	memcpy(out, v->str, v->len);
	out[v->len] = 0;
	return UPT_OK;
}

static int get_int(const struct upt_json *obj, const char *key, const char *what, int64_t lo,
		   int64_t hi, int64_t *out, struct upt_error *err)
{
	const struct upt_json *v = upt_json_get(obj, key);
	if (!v)
		return UPT_OK;
	if (v->type != UPT_JSON_INT || v->i < lo || v->i > hi)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: %s must be an integer from %lld to %lld", what, key,
				     (long long)lo, (long long)hi);
	*out = v->i;
	return UPT_OK;
}

static int get_bool(const struct upt_json *obj, const char *key, const char *what, bool *out,
		    struct upt_error *err)
{
	const struct upt_json *v = upt_json_get(obj, key);
	if (!v)
		return UPT_OK;
	if (v->type != UPT_JSON_TRUE && v->type != UPT_JSON_FALSE)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: %s must be true or false", what,
				     key);
	*out = v->type == UPT_JSON_TRUE;
	return UPT_OK;
}

/* "HH:MM" -> minutes of the day. */
static int hhmm(const struct upt_json *obj, const char *key, int64_t *out, struct upt_error *err)
{
	const struct upt_json *v = upt_json_get(obj, key);
	const char *s = v && v->type == UPT_JSON_STRING ? v->str : NULL;
	if (!s || v->len != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9' ||
	    (s[0] - '0') * 10 + (s[1] - '0') > 23)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "campaign: window: %s must be a time HH:MM (00:00-23:59)",
				     key);
	*out = ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
	return UPT_OK;
}

static int stage_parse(struct c_stage *s, const struct upt_json *v, size_t i, struct upt_error *err)
{
	static const char *const allowed[] = {"percent", "count", "success", "error", "soak", NULL};
	char what[48];
	int rc;
	snprintf(what, sizeof what, "campaign: stages[%zu]", i);
	*s = (struct c_stage){0, 0, 100, 10, 0};
	rc = only(v, what, allowed, err);
	if (rc == UPT_OK && !upt_json_get(v, "percent") == !upt_json_get(v, "count"))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: needs percent or count (one)",
				   what);
	if (rc == UPT_OK)
		rc = get_int(v, "percent", what, 1, 100, &s->percent, err);
	if (rc == UPT_OK)
		rc = get_int(v, "count", what, 1, SRV_CAMPAIGN_MAX_DEVICES, &s->count, err);
	if (rc == UPT_OK)
		rc = get_int(v, "success", what, 0, 100, &s->success, err);
	if (rc == UPT_OK)
		rc = get_int(v, "error", what, 0, 100, &s->error, err);
	if (rc == UPT_OK)
		rc = get_int(v, "soak", what, 0, SRV_CAMPAIGN_MAX_SOAK, &s->soak, err);
	return rc;
}

static int filter_parse(struct c_filter *f, const struct upt_json *v, struct upt_error *err)
{
	static const char *const allowed[] = {"product",    "hardware_id", "installed",
					      "in_support", "tags",        NULL};
	const struct upt_json *tags = upt_json_get(v, "tags");
	int rc = only(v, "campaign: filter", allowed, err);
	if (rc == UPT_OK && v->n == 0)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: filter: needs at least one of product, hardware_id, "
				   "installed, in_support, tags");
	if (rc == UPT_OK)
		rc = get_str(v, "product", "campaign: filter", f->product, sizeof f->product, false,
			     err);
	if (rc == UPT_OK)
		rc = get_str(v, "hardware_id", "campaign: filter", f->hardware_id,
			     sizeof f->hardware_id, false, err);
	if (rc == UPT_OK)
		rc = get_str(v, "installed", "campaign: filter", f->installed, sizeof f->installed,
			     false, err);
	if (rc == UPT_OK)
		rc = get_bool(v, "in_support", "campaign: filter", &f->in_support, err);
	if (rc == UPT_OK && upt_json_get(v, "in_support") && !f->in_support)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: filter: in_support can only be true (devices out of "
				   "support get no updates by campaign)");
	if (rc == UPT_OK && tags && (tags->type != UPT_JSON_ARRAY || tags->n == 0 || tags->n > 8))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: filter: tags must be a list of 1-8 tags");
	for (size_t i = 0; rc == UPT_OK && tags && i < tags->n; i++) {
		const struct upt_json *t = tags->items[i];
		if (t->type != UPT_JSON_STRING || !valid_text(t->str, t->len, 63))
			rc =
			    upt_error_set(err, UPT_ERR_FIELD_VALUE,
					  "campaign: filter: tags[%zu]: 1-63 printable characters, "
					  "no comma",
					  i);
		else
			snprintf(f->tags[f->n_tags++], sizeof f->tags[0], "%s", t->str);
	}
	return rc;
}

/* The targets: {"HWID": "TARGET", ...} in a request, or the resolved list
 * of a stored spec. */
static int targets_parse(struct spec *sp, const struct upt_json *v, bool stored,
			 struct upt_error *err)
{
	if (!v || (stored ? v->type != UPT_JSON_ARRAY : v->type != UPT_JSON_OBJECT) || v->n == 0 ||
	    v->n > SRV_CAMPAIGN_MAX_TARGETS)
		return upt_error_set(
		    err, UPT_ERR_FIELD_VALUE,
		    "campaign: targets must map 1-%d hardware ids to a target each",
		    SRV_CAMPAIGN_MAX_TARGETS);
	for (size_t i = 0; i < v->n; i++) {
		const struct upt_json *x = v->items[i];
		struct c_target *t = &sp->t[sp->nt++];
		int rc = UPT_OK;
		if (!stored) {
			if (!valid_text(x->key, x->key_len, sizeof t->a.hardware_id - 1) ||
			    x->type != UPT_JSON_STRING ||
			    !valid_text(x->str, x->len, sizeof t->a.target - 1))
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "campaign: targets: each hardware id names a "
						     "target (strings)");
			memcpy(t->a.hardware_id, x->key, x->key_len);
			t->a.hardware_id[x->key_len] = 0;
			memcpy(t->a.target, x->str, x->len);
			t->a.target[x->len] = 0;
			continue;
		}
		rc = get_str(x, "hardware_id", "spec", t->a.hardware_id, sizeof t->a.hardware_id,
			     true, err);
		if (rc == UPT_OK)
			rc = get_str(x, "target", "spec", t->a.target, sizeof t->a.target, true,
				     err);
		if (rc == UPT_OK)
			rc = get_str(x, "sha256", "spec", t->a.sha256, sizeof t->a.sha256, true,
				     err);
		if (rc == UPT_OK)
			rc = get_str(x, "sha512", "spec", t->a.sha512, sizeof t->a.sha512, true,
				     err);
		if (rc == UPT_OK)
			rc = get_int(x, "length", "spec", 0, INT64_MAX, &t->a.length, err);
		if (rc == UPT_OK)
			rc = get_int(x, "release_counter", "spec", -1, INT64_MAX,
				     &t->a.release_counter, err);
		if (rc == UPT_OK)
			rc = get_bool(x, "security", "spec", &t->security, err);
		if (rc != UPT_OK)
			return rc;
	}
	return UPT_OK;
}

/* A request (stored = false) or the spec the server stored. */
static int spec_parse(struct spec *sp, const struct upt_json *v, bool stored, struct upt_error *err)
{
	static const char *const req[] = {
	    "name",          "targets", "devices",  "filter",   "stages",
	    "start_at",      "window",  "approval", "join_new", "security_fast_path",
	    "download_only", NULL};
	static const char *const sto[] = {
	    "name",     "targets",  "explicit",  "filter",   "stages",        "start_at", "window",
	    "approval", "join_new", "fast_path", "security", "download_only", NULL};
	const struct upt_json *stages, *win, *filter;
	int rc;
	memset(sp, 0, sizeof *sp);
	sp->fast_path = true;
	rc = only(v, "campaign", stored ? sto : req, err);
	if (rc == UPT_OK)
		rc = get_str(v, "name", "campaign", sp->name, sizeof sp->name, true, err);
	if (rc == UPT_OK)
		rc = targets_parse(sp, upt_json_get(v, "targets"), stored, err);
	stages = rc == UPT_OK ? upt_json_get(v, "stages") : NULL;
	if (rc == UPT_OK && stages &&
	    (stages->type != UPT_JSON_ARRAY || stages->n == 0 ||
	     stages->n > SRV_CAMPAIGN_MAX_STAGES))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: stages must be a list of 1-%d stages",
				   SRV_CAMPAIGN_MAX_STAGES);
	for (size_t i = 0; rc == UPT_OK && stages && i < stages->n; i++)
		rc = stage_parse(&sp->s[sp->ns++], stages->items[i], i, err);
	if (rc == UPT_OK && !stages) /* one stage: everyone */
		sp->s[sp->ns++] = (struct c_stage){100, 0, 100, 10, 0};
	filter = rc == UPT_OK ? upt_json_get(v, "filter") : NULL;
	if (rc == UPT_OK && !stored && !upt_json_get(v, "devices") == !filter)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: needs either devices (a list) or a filter, not both");
	if (rc == UPT_OK && filter)
		rc = filter_parse(&sp->f, filter, err);
	if (rc == UPT_OK)
		sp->explicit_devices = stored ? upt_json_get(v, "explicit") != NULL
					      : upt_json_get(v, "devices") != NULL;
	if (rc == UPT_OK)
		rc = get_int(v, "start_at", "campaign", 0, INT64_MAX / 2, &sp->start_at, err);
	win = rc == UPT_OK ? upt_json_get(v, "window") : NULL;
	if (win) {
		static const char *const allowed[] = {"start", "end", NULL};
		rc = only(win, "campaign: window", allowed, err);
		if (rc == UPT_OK)
			rc = hhmm(win, "start", &sp->win_start, err);
		if (rc == UPT_OK)
			rc = hhmm(win, "end", &sp->win_end, err);
		if (rc == UPT_OK && sp->win_start == sp->win_end)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "campaign: window: start and end are the same time");
		sp->has_window = true;
	}
	if (rc == UPT_OK)
		rc = get_bool(v, "approval", "campaign", &sp->approval, err);
	if (rc == UPT_OK)
		rc = get_bool(v, "join_new", "campaign", &sp->join_new, err);
	if (rc == UPT_OK)
		rc = get_bool(v, stored ? "fast_path" : "security_fast_path", "campaign",
			      &sp->fast_path, err);
	if (rc == UPT_OK && stored)
		rc = get_bool(v, "security", "campaign", &sp->security, err);
	if (rc == UPT_OK)
		rc = get_bool(v, "download_only", "campaign", &sp->download_only, err);
	if (rc == UPT_OK && sp->join_new && sp->explicit_devices)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: join_new needs a filter (an explicit device list "
				   "takes no new devices)");
	return rc;
}

static void spec_write(struct srv_json *o, const struct spec *sp)
{
	srv_json_raw(o, "{\"name\":");
	srv_json_str(o, sp->name);
	srv_json_raw(o, ",\"targets\":[");
	for (size_t i = 0; i < sp->nt; i++) {
		const struct srv_assignment *a = &sp->t[i].a;
		srv_json_raw(o, "%s{\"hardware_id\":", i ? "," : "");
		srv_json_str(o, a->hardware_id);
		srv_json_raw(o, ",\"target\":");
		srv_json_str(o, a->target);
		srv_json_raw(o,
			     ",\"length\":%lld,\"sha256\":\"%s\",\"sha512\":\"%s\","
			     "\"release_counter\":%lld,\"security\":%s}",
			     (long long)a->length, a->sha256, a->sha512,
			     (long long)a->release_counter, sp->t[i].security ? "true" : "false");
	}
	srv_json_raw(o, "],\"stages\":[");
	for (size_t i = 0; i < sp->ns; i++) {
		const struct c_stage *s = &sp->s[i];
		srv_json_raw(o, "%s{\"%s\":%lld,\"success\":%lld,\"error\":%lld,\"soak\":%lld}",
			     i ? "," : "", s->count ? "count" : "percent",
			     (long long)(s->count ? s->count : s->percent), (long long)s->success,
			     (long long)s->error, (long long)s->soak);
	}
	srv_json_raw(o, "]");
	if (sp->explicit_devices)
		srv_json_raw(o, ",\"explicit\":true");
	else {
		const struct c_filter *f = &sp->f;
		bool first = true;
		srv_json_raw(o, ",\"filter\":{");
		if (f->product[0]) {
			srv_json_raw(o, "\"product\":");
			srv_json_str(o, f->product);
			first = false;
		}
		if (f->hardware_id[0]) {
			srv_json_raw(o, "%s\"hardware_id\":", first ? "" : ",");
			srv_json_str(o, f->hardware_id);
			first = false;
		}
		if (f->installed[0]) {
			srv_json_raw(o, "%s\"installed\":", first ? "" : ",");
			srv_json_str(o, f->installed);
			first = false;
		}
		if (f->in_support) {
			srv_json_raw(o, "%s\"in_support\":true", first ? "" : ",");
			first = false;
		}
		if (f->n_tags) {
			srv_json_raw(o, "%s\"tags\":[", first ? "" : ",");
			for (size_t i = 0; i < f->n_tags; i++) {
				srv_json_raw(o, "%s", i ? "," : "");
				srv_json_str(o, f->tags[i]);
			}
			srv_json_raw(o, "]");
		}
		srv_json_raw(o, "}");
	}
	if (sp->start_at)
		srv_json_raw(o, ",\"start_at\":%lld", (long long)sp->start_at);
	if (sp->has_window)
		srv_json_raw(o, ",\"window\":{\"start\":\"%02d:%02d\",\"end\":\"%02d:%02d\"}",
			     (int)(sp->win_start / 60), (int)(sp->win_start % 60),
			     (int)(sp->win_end / 60), (int)(sp->win_end % 60));
	srv_json_raw(o,
		     ",\"approval\":%s,\"join_new\":%s,\"fast_path\":%s,\"security\":%s,"
		     "\"download_only\":%s}",
		     sp->approval ? "true" : "false", sp->join_new ? "true" : "false",
		     sp->fast_path ? "true" : "false", sp->security ? "true" : "false",
		     sp->download_only ? "true" : "false");
}

static int spec_read(struct spec *sp, const char *text, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	int rc = parse(&w, (const uint8_t *)text, strlen(text), &v, err);
	if (rc == UPT_OK)
		rc = spec_parse(sp, v, true, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, "stored campaign");
	free(w.mem);
	return rc;
}

static const struct c_target *target_for(const struct spec *sp, const char *hw)
{
	for (size_t i = 0; i < sp->nt; i++)
		if (strcmp(sp->t[i].a.hardware_id, hw) == 0)
			return &sp->t[i];
	return NULL;
}

/* ---- the clock ------------------------------------------------------------ */

int64_t srv_campaign_clock(int64_t now)
{
	const char *path = getenv("UPTAKE_TEST_CLOCK_FILE");
	char buf[32] = {0};
	FILE *f;
	char *end;
	long long t;
	if (!path || !*path || !(f = fopen(path, "r")))
		return now;
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	t = strtoll(buf, &end, 10);
	return end != buf && t > 0 ? (int64_t)t : now;
}

/* ---- states ----------------------------------------------------------------- */

static bool final_state(const char *s)
{
	return strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 ||
	       strcmp(s, "rolled_back") == 0 || strcmp(s, "already_installed") == 0 ||
	       strcmp(s, "cancelled") == 0;
}

static bool ok_state(const char *s)
{
	return strcmp(s, "succeeded") == 0 || strcmp(s, "already_installed") == 0;
}

static bool failed_state(const char *s)
{
	return strcmp(s, "failed") == 0 || strcmp(s, "rolled_back") == 0;
}

/* In progress: the Director hands the image out. */
static bool assigned_state(const char *s)
{
	return strcmp(s, "assigned") == 0 || strcmp(s, "downloading") == 0 ||
	       strcmp(s, "downloaded") == 0 || strcmp(s, "installing") == 0 ||
	       strcmp(s, "awaiting_reboot") == 0;
}

/* A download-only campaign before its release: what a stage is for is
 * the download (the image fetched and verified, nothing installed). */
static bool holding(const struct spec *sp, const struct srv_campaign *c)
{
	return sp->download_only && c->released == 0;
}

/* What counts towards a stage's success threshold. */
static bool stage_ok(const struct spec *sp, const struct srv_campaign *c, const char *s)
{
	return ok_state(s) || (holding(sp, c) && strcmp(s, "downloaded") == 0);
}

/* The security fast path for this ECU: a campaign of security releases
 * that keeps its fast path (the default), and a device whose product
 * allows it (products allow it unless set otherwise): the product's "off"
 * wins over the campaign. */
static bool fast_for(const struct spec *sp, const struct srv_member *m)
{
	return sp->security && sp->fast_path && m->fast_path_ok;
}

static const char *const state_names[] = {
    "pending",   "assigned", "downloading", "downloaded",        "installing", "awaiting_reboot",
    "succeeded", "failed",   "rolled_back", "already_installed", "cancelled",
};
#define N_STATES (sizeof state_names / sizeof state_names[0])

static bool ended(const char *status)
{
	return strcmp(status, "cancelled") == 0 || strcmp(status, "finished") == 0;
}

static void logf_(struct srv_store *st, int64_t id, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void logf_(struct srv_store *st, int64_t id, int64_t now, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (st->ops->campaign_log(st, id, now, text, NULL) != UPT_OK)
		srv_log(SRV_LOG_ERROR, "campaign %lld: log entry lost: %s", (long long)id, text);
	srv_log(SRV_LOG_INFO, "campaign %lld: %s", (long long)id, text);
}

/* ---- who is in it ----------------------------------------------------------- */

struct pick {
	struct srv_member *m;
	size_t n, cap;
	size_t n_devices;
	size_t *first; /* per device: its first member */
};

static int pick_add(struct pick *p, const char *device, const struct srv_ecu *e,
		    const struct c_target *t, struct upt_error *err)
{
	struct srv_member *m;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct srv_member *more = realloc(p->m, cap * sizeof *more);
		if (!more)
			return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		p->m = more;
		p->cap = cap;
	}
	m = &p->m[p->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->device, sizeof m->device, "%s", device);
	snprintf(m->ecu, sizeof m->ecu, "%s", e->serial);
	snprintf(m->hardware_id, sizeof m->hardware_id, "%s", e->hardware_id);
	snprintf(m->state, sizeof m->state, "pending");
	snprintf(m->sha256, sizeof m->sha256, "%s", t->a.sha256);
	m->active = true;
	return UPT_OK;
}

static bool has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);
	for (const char *p = tags; *p;) {
		size_t l = strcspn(p, ",");
		if (l == n && memcmp(p, tag, n) == 0)
			return true;
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Whether a device passes the filter's device-level criteria. */
static bool device_matches(struct srv_store *st, const struct c_filter *f,
			   const struct srv_device *d, int64_t today)
{
	if (f->product[0] && strcmp(d->product, f->product) != 0)
		return false;
	for (size_t i = 0; i < f->n_tags; i++)
		if (!has_tag(d->tags, f->tags[i]))
			return false;
	if (f->in_support) {
		struct srv_product p;
		char end[11];
		int64_t day;
		bool has_p =
		    d->product[0] && st->ops->product_get(st, d->product, &p, NULL) == UPT_OK;
		srv_support_end(d, has_p ? &p : NULL, end);
		if (!end[0] || srv_date_parse(end, &day) != UPT_OK || day < today)
			return false;
	}
	return true;
}

/* The device's ECUs that the campaign updates (none: *n unchanged). */
static int pick_ecus(struct srv_store *st, const struct spec *sp, const char *device, bool strict,
		     struct pick *p, struct upt_error *err)
{
	struct srv_ecu *e = NULL;
	size_t ne = 0, before = p->n;
	bool installed = !sp->f.installed[0];
	int rc = st->ops->ecus_get(st, device, &e, &ne, err);
	for (size_t i = 0; rc == UPT_OK && i < ne; i++)
		installed |= strcmp(e[i].installed, sp->f.installed) == 0;
	for (size_t i = 0; rc == UPT_OK && installed && i < ne; i++) {
		const struct c_target *t = target_for(sp, e[i].hardware_id);
		if (!t ||
		    (sp->f.hardware_id[0] && strcmp(e[i].hardware_id, sp->f.hardware_id) != 0))
			continue;
		rc = pick_add(p, device, &e[i], t, err);
	}
	free(e);
	if (rc == UPT_OK && strict && p->n == before)
		rc = upt_error_set(err, UPT_ERR_HARDWARE_ID,
				   "campaign: device %s has no ECU of a hardware id the campaign "
				   "has a target for",
				   device);
	if (rc == UPT_OK && p->n > before)
		p->n_devices++;
	return rc;
}

static bool valid_device_id(const struct upt_json *d)
{
	if (d->type != UPT_JSON_STRING || d->len == 0 || d->len > 127)
		return false;
	for (size_t i = 0; i < d->len; i++)
		if ((unsigned char)d->str[i] <= 0x20 || d->str[i] == 0x7f || d->str[i] == '"' ||
		    d->str[i] == '\\' || d->str[i] == '/')
			return false;
	return true;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int pick_explicit(struct srv_store *st, const struct spec *sp, const struct upt_json *list,
			 struct pick *p, struct upt_error *err)
{
	const char **ids;
	int rc = UPT_OK;
	if (list->type != UPT_JSON_ARRAY || list->n == 0 || list->n > SRV_CAMPAIGN_MAX_DEVICES)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "campaign: devices must be a list of 1-%d device ids",
				     SRV_CAMPAIGN_MAX_DEVICES);
	if (!(ids = calloc(list->n, sizeof *ids)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < list->n; i++) {
		if (!valid_device_id(list->items[i]))
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "campaign: devices[%zu]: not a device id", i);
		else
			ids[i] = list->items[i]->str;
	}
	if (rc == UPT_OK) {
		qsort(ids, list->n, sizeof *ids, by_str);
		for (size_t i = 1; rc == UPT_OK && i < list->n; i++)
			if (strcmp(ids[i - 1], ids[i]) == 0)
				rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
						   "campaign: devices: %s is listed twice", ids[i]);
	}
	free(ids);
	for (size_t i = 0; rc == UPT_OK && i < list->n; i++) {
		struct srv_device d;
		rc = st->ops->device_get(st, list->items[i]->str, &d, err);
		if (rc == UPT_OK)
			rc = pick_ecus(st, sp, d.id, true, p, err);
	}
	return rc;
}

static int pick_filter(struct srv_store *st, const struct spec *sp, int64_t now, struct pick *p,
		       struct upt_error *err)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	int rc = st->ops->device_list(st, &d, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++)
		if (device_matches(st, &sp->f, &d[i], now / 86400))
			rc = pick_ecus(st, sp, d[i].id, false, p, err);
	free(d);
	return rc;
}

/* The filter against the campaign's own terms: contradictions are errors. */
static int filter_check(struct srv_store *st, const struct spec *sp, struct upt_error *err)
{
	const struct c_filter *f = &sp->f;
	bool all_installed = f->installed[0] != 0;
	if (f->product[0]) {
		struct srv_product p;
		int rc = st->ops->product_get(st, f->product, &p, err);
		if (rc != UPT_OK) {
			upt_error_prefix(err, "campaign: filter: product");
			return rc;
		}
		if (f->hardware_id[0] && p.hardware_ids[0] &&
		    !has_tag(p.hardware_ids, f->hardware_id))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "campaign: filter: product %s has no hardware id %s "
					     "(contradictory filter)",
					     f->product, f->hardware_id);
	}
	if (f->hardware_id[0] && !target_for(sp, f->hardware_id))
		return upt_error_set(
		    err, UPT_ERR_FIELD_VALUE,
		    "campaign: filter: hardware_id %s has no target in the campaign "
		    "(contradictory filter)",
		    f->hardware_id);
	for (size_t i = 0; i < sp->nt; i++)
		all_installed &= strcmp(sp->t[i].a.target, f->installed) == 0;
	if (all_installed)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "campaign: filter: installed %s is the campaign's target "
				     "(contradictory filter: nothing to update)",
				     f->installed);
	return UPT_OK;
}

/* Each target: in the Image repository, for its hardware id, and whether
 * it is a security release. */
static int targets_resolve(struct srv_repo *image, struct spec *sp, struct upt_error *err)
{
	struct srv_published *pub = NULL;
	size_t np = 0;
	int rc = image->store->ops->published_list(image->store, &pub, &np, err);
	sp->security = true;
	for (size_t i = 0; rc == UPT_OK && i < sp->nt; i++) {
		struct c_target *t = &sp->t[i];
		char hw[128];
		snprintf(hw, sizeof hw, "%s", t->a.hardware_id);
		rc = srv_image_target_lookup(image, t->a.target, hw, &t->a, err);
		if (rc != UPT_OK) {
			upt_error_prefix(err, "campaign: targets");
			break;
		}
		for (size_t j = 0; j < np; j++)
			if (strcmp(pub[j].name, t->a.target) == 0 &&
			    strcmp(pub[j].sha256, t->a.sha256) == 0)
				t->security = pub[j].security;
		sp->security &= t->security;
	}
	free(pub);
	return rc;
}

/* Devices into stages, in order: a percentage of all devices or a count;
 * the last stage takes the rest. */
static int stages_assign(const struct spec *sp, struct pick *p, struct upt_error *err)
{
	size_t stage = 0, devices_in = 0, bound = 0;
	size_t size[SRV_CAMPAIGN_MAX_STAGES];
	for (size_t i = 0; i < sp->ns; i++) {
		size_t want = sp->s[i].count ? (size_t)sp->s[i].count
					     : (p->n_devices * (size_t)sp->s[i].percent + 99) / 100;
		size[i] =
		    i + 1 == sp->ns || bound + want > p->n_devices ? p->n_devices - bound : want;
		if (size[i] == 0)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "campaign: stages[%zu] would have no devices (%zu "
					     "devices in the campaign)",
					     i, p->n_devices);
		bound += size[i];
	}
	for (size_t i = 0; i < p->n; i++) {
		if (i > 0 && strcmp(p->m[i].device, p->m[i - 1].device) != 0) {
			if (++devices_in == size[stage]) {
				stage++;
				devices_in = 0;
			}
		}
		p->m[i].stage = (int64_t)stage;
	}
	return UPT_OK;
}

static int hardware_check(const struct spec *sp, const struct pick *p, struct upt_error *err)
{
	for (size_t i = 0; i < sp->nt; i++) {
		bool found = false;
		for (size_t j = 0; !found && j < p->n; j++)
			found = strcmp(p->m[j].hardware_id, sp->t[i].a.hardware_id) == 0;
		if (!found)
			return upt_error_set(err, UPT_ERR_HARDWARE_ID,
					     "campaign: targets: no device in the campaign has an "
					     "ECU of hardware id %s (target %s)",
					     sp->t[i].a.hardware_id, sp->t[i].a.target);
	}
	return UPT_OK;
}

/* ---- evaluation ------------------------------------------------------------ */

/* Whether the device's local time is inside the campaign's window. */
static bool window_open(const struct spec *sp, const struct srv_member *m, int64_t now)
{
	int64_t local, minute;
	if (!sp->has_window || fast_for(sp, m))
		return true;
	local = now + m->utc_offset * 60;
	minute = ((local % 86400) + 86400) % 86400 / 60;
	if (sp->win_start < sp->win_end)
		return minute >= sp->win_start && minute < sp->win_end;
	return minute >= sp->win_start || minute < sp->win_end; /* over midnight */
}

/* Devices whose Director metadata must be signed anew after commit. */
struct publish {
	char (*dev)[128];
	size_t n, cap;
};

static void publish_add(struct publish *p, const char *device)
{
	if (p->n && strcmp(p->dev[p->n - 1], device) == 0)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		char(*more)[128] = realloc(p->dev, cap * sizeof *more);
		if (!more)
			return; /* published by the next evaluation (published stays 0) */
		p->dev = more;
		p->cap = cap;
	}
	snprintf(p->dev[p->n++], sizeof p->dev[0], "%s", device);
}

/* Hand one ECU its image: an assignment with a new correlation id (or
 * already_installed when it runs it). */
static int assign_member(struct srv_store *st, const struct spec *sp, const struct srv_campaign *c,
			 struct srv_member *m, int64_t now, struct publish *pub,
			 struct upt_error *err)
{
	const struct c_target *t = target_for(sp, m->hardware_id);
	struct srv_ecu *e = NULL;
	size_t ne = 0;
	struct srv_assignment a;
	int rc;
	if (!t)
		return upt_error_set(err, UPT_ERR_STATE, "campaign: no target for %s",
				     m->hardware_id);
	rc = st->ops->ecus_get(st, m->device, &e, &ne, err);
	m->from_sha256[0] = 0;
	for (size_t i = 0; rc == UPT_OK && i < ne; i++)
		if (strcmp(e[i].serial, m->ecu) == 0)
			snprintf(m->from_sha256, sizeof m->from_sha256, "%s",
				 e[i].installed_sha256);
	free(e);
	/* the server's own time, as the version reports' (now may be the
	 * campaign clock) */
	m->assigned_at = (int64_t)time(NULL);
	m->updated = now;
	if (rc == UPT_OK && strcmp(m->from_sha256, t->a.sha256) == 0) {
		snprintf(m->state, sizeof m->state, "already_installed");
		return st->ops->member_set(st, m, err);
	}
	if (rc == UPT_OK)
		rc = srv_correlation_id(m->correlation_id, sizeof m->correlation_id, err);
	if (rc == UPT_OK) {
		a = t->a;
		snprintf(a.ecu_serial, sizeof a.ecu_serial, "%s", m->ecu);
		snprintf(a.correlation_id, sizeof a.correlation_id, "%s", m->correlation_id);
		a.download_only = holding(sp, c);
		rc = st->ops->assign_put(st, m->device, &a, err);
	}
	if (rc == UPT_OK) {
		snprintf(m->state, sizeof m->state, "assigned");
		m->published = false;
		rc = st->ops->member_set(st, m, err);
		publish_add(pub, m->device);
	}
	return rc;
}

struct tally {
	int64_t total, ok, failed, done, fast;
};

static struct tally tally_of(const struct spec *sp, const struct srv_campaign *c,
			     const struct srv_member *m, size_t n)
{
	struct tally t = {0};
	for (size_t i = 0; i < n; i++) {
		t.total++;
		t.ok += sp ? stage_ok(sp, c, m[i].state) : ok_state(m[i].state);
		t.failed += failed_state(m[i].state);
		t.done += final_state(m[i].state) ||
			  (sp && holding(sp, c) && strcmp(m[i].state, "downloaded") == 0);
		t.fast += sp && fast_for(sp, &m[i]);
	}
	return t;
}

/* One step of the current stage; *again when the next stage began. */
static int stage_step(struct srv_store *st, const struct spec *sp, struct srv_campaign *c,
		      int64_t now, struct publish *pub, bool *again, struct upt_error *err)
{
	const struct c_stage *s = &sp->s[c->stage];
	struct srv_member *m = NULL;
	size_t n = 0;
	struct tally t;
	bool starting = c->stage_started == 0, before = false;
	int rc;
	*again = false;
	if (starting) {
		if (sp->approval && c->approved < c->stage) {
			snprintf(c->reason, sizeof c->reason, "stage %lld awaits approval",
				 (long long)c->stage + 1);
			return UPT_OK;
		}
		c->stage_started = now;
		c->reason[0] = 0;
	}
	rc = st->ops->member_list(st, c->id, c->stage, &m, &n, err);
	for (size_t i = 0; starting && i < n; i++)
		before |= strcmp(m[i].state, "pending") != 0 || m[i].assigned_at != 0;
	/* a stage entered again (after an emergency stop in a later stage, or
	 * a download-only campaign's release) is not started twice */
	if (starting && sp->download_only && c->released)
		logf_(st, c->id, now, "stage %lld: installs", (long long)c->stage + 1);
	else if (starting && before)
		logf_(st, c->id, now, "stage %lld continued", (long long)c->stage + 1);
	else if (starting)
		logf_(st, c->id, now, "stage %lld started", (long long)c->stage + 1);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		if (strcmp(m[i].state, "pending") == 0 && window_open(sp, &m[i], now))
			rc = assign_member(st, sp, c, &m[i], now, pub, err);
		else if (assigned_state(m[i].state) && !m[i].published)
			publish_add(pub, m[i].device);
	}
	t = tally_of(sp, c, m, n);
	free(m);
	if (rc != UPT_OK)
		return rc;
	if (t.failed > c->acked_failures && t.failed * 100 >= s->error * t.total) {
		snprintf(c->status, sizeof c->status, "paused");
		snprintf(c->reason, sizeof c->reason,
			 "stage %lld: error threshold %lld%% reached (%lld of %lld ECUs failed)",
			 (long long)c->stage + 1, (long long)s->error, (long long)t.failed,
			 (long long)t.total);
		logf_(st, c->id, now, "paused: %s", c->reason);
		return UPT_OK;
	}
	if (t.ok * 100 < s->success * t.total)
		return UPT_OK;
	if (c->met_at == 0) {
		c->met_at = now;
		logf_(st, c->id, now, "stage %lld: success threshold %lld%% reached (%lld of %lld)",
		      (long long)c->stage + 1, (long long)s->success, (long long)t.ok,
		      (long long)t.total);
	}
	if ((size_t)c->stage + 1 == sp->ns) {
		if (t.done == t.total && holding(sp, c)) {
			if (!strstr(c->reason, "downloaded"))
				logf_(st, c->id, now,
				      "every stage downloaded: installs wait for "
				      "`uptake campaign install`");
			snprintf(c->reason, sizeof c->reason,
				 "downloaded: installs wait for `uptake campaign install %lld`",
				 (long long)c->id);
		} else if (t.done == t.total) {
			snprintf(c->status, sizeof c->status, "finished");
			logf_(st, c->id, now, "finished");
		}
		return UPT_OK;
	}
	/* the soak is skipped when every ECU of the stage has the fast path */
	if (!(t.total > 0 && t.fast == t.total) && now < c->met_at + s->soak) {
		snprintf(c->reason, sizeof c->reason, "stage %lld soaks until %lld",
			 (long long)c->stage + 1, (long long)(c->met_at + s->soak));
		return UPT_OK;
	}
	c->stage++;
	c->stage_started = 0;
	c->met_at = 0;
	c->acked_failures = 0;
	c->reason[0] = 0;
	*again = true;
	return UPT_OK;
}

/* Inside the signing transaction of the device: its ECUs' assignments
 * are signed, which is what `published` records. */
static int mark_published(void *ctx, const char *device, struct upt_error *err)
{
	struct srv_store *st = ctx;
	struct srv_member *m = NULL;
	size_t n = 0;
	int rc = st->ops->device_members(st, device, &m, &n, err);
	for (size_t j = 0; rc == UPT_OK && j < n; j++)
		if (!m[j].published && m[j].correlation_id[0]) {
			m[j].published = true;
			rc = st->ops->member_set(st, &m[j], err);
		}
	free(m);
	return rc;
}

static int by_device(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The Director's metadata of every device the evaluation changed, signed
 * in batches of SRV_CAMPAIGN_PUBLISH_BATCH devices per transaction (what
 * each device receives is the same as one at a time). */
static void publish_all(struct srv_repo *director, int64_t campaign, struct publish *p, int64_t now)
{
	size_t n = 0, done;
	if (p->n == 0)
		return;
	qsort(p->dev, p->n, sizeof p->dev[0], by_device);
	for (size_t i = 0; i < p->n; i++)
		if (n == 0 || strcmp(p->dev[n - 1], p->dev[i]) != 0)
			memmove(p->dev[n++], p->dev[i], sizeof p->dev[0]);
	done = srv_director_publish_many(director, (const char(*)[128])p->dev, n,
					 SRV_CAMPAIGN_PUBLISH_BATCH, now, mark_published,
					 director->store);
	if (done < n)
		srv_log(SRV_LOG_ERROR,
			"campaign %lld: %zu of %zu devices' Director metadata not signed (the next "
			"evaluation signs them)",
			(long long)campaign, n - done, n);
}

/* ---- evidence ----------------------------------------------------------------- */

static int rank(const char *state)
{
	static const char *const order[] = {"assigned", "downloading", "downloaded", "installing",
					    "awaiting_reboot"};
	for (int i = 0; i < 5; i++)
		if (strcmp(state, order[i]) == 0)
			return i;
	return -1;
}

/* What the device's events (aktualizr's) say of this ECU's assignment. */
static const char *from_events(const struct srv_member *m, char **events, size_t nev)
{
	const char *best = NULL;
	for (size_t i = 0; i < nev; i++) {
		struct work w = {0};
		struct upt_json *v;
		if (parse(&w, (const uint8_t *)events[i], strlen(events[i]), &v, NULL) == UPT_OK &&
		    v->type == UPT_JSON_ARRAY)
			for (size_t k = 0; k < v->n; k++) {
				const struct upt_json *ev = upt_json_get(v->items[k], "event"),
						      *type =
							  upt_json_get(v->items[k], "eventType"),
						      *id = upt_json_get(type, "id"),
						      *cid = upt_json_get(ev, "correlationId"),
						      *ecu = upt_json_get(ev, "ecu"),
						      *ok = upt_json_get(ev, "success");
				const char *s = NULL;
				if (!id || id->type != UPT_JSON_STRING || !cid ||
				    cid->type != UPT_JSON_STRING ||
				    strcmp(cid->str, m->correlation_id) != 0 ||
				    (ecu && (ecu->type != UPT_JSON_STRING ||
					     strcmp(ecu->str, m->ecu) != 0)))
					continue;
				if (ok && ok->type == UPT_JSON_FALSE)
					s = "failed";
				else if (strcmp(id->str, "EcuDownloadStarted") == 0 ||
					 strcmp(id->str, "EcuDownloadCompleted") == 0)
					s = "downloading";
				else if (strcmp(id->str, "EcuInstallationStarted") == 0)
					s = "installing";
				else if (strcmp(id->str, "EcuInstallationApplied") == 0 ||
					 strcmp(id->str, "EcuInstallationCompleted") == 0)
					s = "awaiting_reboot";
				if (s && (strcmp(s, "failed") == 0 || !best ||
					  (strcmp(best, "failed") != 0 && rank(s) > rank(best))))
					best = s;
			}
		free(w.mem);
	}
	return best;
}

struct evidence {
	struct srv_ecu *ecus;
	size_t n_ecus;
	struct srv_install_report *ir;
	size_t n_ir;
	char **events;
	size_t n_events;
	struct srv_published *pub;
	size_t n_pub;
};

static void evidence_free(struct evidence *ev)
{
	free(ev->ecus);
	srv_install_reports_free(ev->ir, ev->n_ir);
	srv_blobs_free(ev->events, ev->n_events);
	free(ev->pub);
	memset(ev, 0, sizeof *ev);
}

static int evidence_load(struct srv_store *st, const char *device, struct evidence *ev,
			 struct upt_error *err)
{
	int rc = st->ops->ecus_get(st, device, &ev->ecus, &ev->n_ecus, err);
	if (rc == UPT_OK)
		rc = st->ops->install_list(st, device, &ev->ir, &ev->n_ir, err);
	if (rc == UPT_OK)
		rc = st->ops->info_list(st, device, "events", &ev->events, &ev->n_events, err);
	if (rc == UPT_OK)
		rc = st->ops->published_list(st, &ev->pub, &ev->n_pub, err);
	return rc;
}

static bool published(const struct evidence *ev, const char *sha256)
{
	for (size_t i = 0; i < ev->n_pub; i++)
		if (strcmp(ev->pub[i].sha256, sha256) == 0)
			return true;
	return false;
}

/* What a kept installation report says of `ecu`: 1 installed, 0 failed,
 * -1 nothing (its items name other ECUs only). A report names each ECU it
 * speaks for in its items (several installs under one correlation id come
 * as one report per ECU, or one with an item each); one without items
 * speaks for every ECU of its correlation id. */
static int report_says(const struct srv_install_report *ir, const char *ecu)
{
	size_t len = ir->report ? strlen(ir->report) : 0, cap = 32 * len + 4096;
	void *mem = len ? malloc(cap) : NULL;
	struct upt_arena a;
	struct upt_json *doc = NULL;
	const struct upt_json *items = NULL;
	int says = ir->success;
	if (mem) {
		upt_arena_init(&a, mem, cap);
		if (upt_json_parse(&doc, &a, (const uint8_t *)ir->report, len, NULL, NULL) ==
		    UPT_OK)
			items = upt_json_get(upt_json_get(doc, "report"), "items");
	}
	if (items && items->type == UPT_JSON_ARRAY && items->n) {
		says = -1;
		for (size_t i = 0; i < items->n && says < 0; i++) {
			const struct upt_json *id = upt_json_get(items->items[i], "ecu");
			const struct upt_json *ok =
			    upt_json_get(upt_json_get(items->items[i], "result"), "success");
			if (upt_json_is_str(id, ecu))
				says = ok && ok->type == UPT_JSON_TRUE;
		}
	}
	free(mem);
	return says;
}

/* A (signed, verified) installation report that says the image was
 * downloaded and verified but, as the Director asked, not installed:
 * result code DOWNLOADED for the ECU's item (or the whole report). */
static bool reports_downloaded(const char *report, const char *ecu)
{
	struct work w = {0};
	struct upt_json *v;
	bool yes = false;
	if (report && parse(&w, (const uint8_t *)report, strlen(report), &v, NULL) == UPT_OK) {
		const struct upt_json *r = upt_json_get(v, "report");
		const struct upt_json *items = upt_json_get(r, "items");
		const struct upt_json *code = upt_json_get(upt_json_get(r, "result"), "code");
		for (size_t i = 0; items && items->type == UPT_JSON_ARRAY && i < items->n; i++) {
			const struct upt_json *e = upt_json_get(items->items[i], "ecu");
			if (e && e->type == UPT_JSON_STRING && strcmp(e->str, ecu) == 0)
				code =
				    upt_json_get(upt_json_get(items->items[i], "result"), "code");
		}
		yes = code && code->type == UPT_JSON_STRING && strcmp(code->str, "DOWNLOADED") == 0;
	}
	free(w.mem);
	return yes;
}

/* The ECU's state from the evidence: succeeded only on a verified version
 * report of the assigned image's hash. *unknown: it reports an image the
 * Image repository never published. */
static const char *derive(const struct srv_member *m, const struct evidence *ev, bool *unknown)
{
	const struct srv_ecu *e = NULL;
	const char *s;
	*unknown = false;
	for (size_t i = 0; i < ev->n_ecus; i++)
		if (strcmp(ev->ecus[i].serial, m->ecu) == 0)
			e = &ev->ecus[i];
	if (!e)
		return m->state;
	if (e->installed_sha256[0] && strcmp(e->installed_sha256, m->sha256) == 0)
		return "succeeded";
	if (e->installed_sha256[0] && e->reported_at >= m->assigned_at &&
	    strcmp(e->installed_sha256, m->from_sha256) != 0) {
		*unknown = !published(ev, e->installed_sha256);
		return "failed"; /* runs something else than before and than assigned */
	}
	for (size_t i = 0; i < ev->n_ir; i++) { /* newest first */
		int says;
		if (strcmp(ev->ir[i].correlation_id, m->correlation_id) != 0 ||
		    (says = report_says(&ev->ir[i], m->ecu)) < 0)
			continue;
		if (says && reports_downloaded(ev->ir[i].report, m->ecu))
			return strcmp(m->state, "assigned") == 0 ||
				       strcmp(m->state, "downloading") == 0
				   ? "downloaded"
				   : m->state;
		if (says)
			return "awaiting_reboot";
		return strcmp(e->installed_sha256, m->from_sha256) == 0 ? "rolled_back" : "failed";
	}
	s = from_events(m, ev->events, ev->n_events);
	if (s && (strcmp(s, "failed") == 0 || rank(s) > rank(m->state)))
		return s;
	return m->state;
}

/* Inside the campaign's transaction: the device's ECUs in it follow its
 * evidence. */
static int refresh_device(struct srv_store *st, int64_t campaign, const char *device, int64_t now,
			  struct upt_error *err)
{
	struct srv_member *m = NULL;
	struct evidence ev = {0};
	size_t n = 0;
	bool loaded = false;
	int rc = st->ops->device_members(st, device, &m, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		const char *s;
		bool unknown = false;
		if (m[i].campaign != campaign || !assigned_state(m[i].state))
			continue;
		if (!loaded && (rc = evidence_load(st, device, &ev, err)) != UPT_OK)
			break;
		loaded = true;
		s = derive(&m[i], &ev, &unknown);
		if (strcmp(s, m[i].state) == 0)
			continue;
		if (unknown) {
			char msg[300];
			snprintf(msg, sizeof msg,
				 "campaign %lld: ECU %s reports an image the Image repository "
				 "never published",
				 (long long)campaign, m[i].ecu);
			srv_alert(st, device, m[i].ecu, "unknown-software", msg, "");
		}
		snprintf(m[i].state, sizeof m[i].state, "%s", s);
		m[i].updated = now;
		rc = st->ops->member_set(st, &m[i], err);
	}
	evidence_free(&ev);
	free(m);
	return rc;
}

/* Evaluate one campaign, in a transaction holding its row; first the
 * states of `device`'s ECUs when its evidence changed. */
static int evaluate(struct srv_repo *director, int64_t id, const char *device, int64_t now,
		    struct upt_error *err)
{
	struct srv_store *st = director->store;
	struct srv_campaign c = {0};
	struct spec sp;
	struct publish pub = {0};
	bool again = true;
	int rc = st->ops->begin(st, err);
	if (rc != UPT_OK)
		return rc;
	rc = st->ops->campaign_get(st, id, true, &c, err);
	if (rc == UPT_OK && device && !ended(c.status))
		rc = refresh_device(st, id, device, now, err);
	if (rc == UPT_OK)
		rc = spec_read(&sp, c.spec, err);
	if (rc == UPT_OK && strcmp(c.status, "running") != 0) {
		rc = st->ops->commit(st, err);
		free(c.spec);
		return rc;
	}
	if (rc == UPT_OK && now < sp.start_at) {
		snprintf(c.reason, sizeof c.reason, "starts at %lld", (long long)sp.start_at);
		again = false;
	} else if (rc == UPT_OK && c.stage < 0) {
		c.stage = 0;
	}
	for (size_t k = 0; rc == UPT_OK && again && k <= sp.ns; k++)
		rc = stage_step(st, &sp, &c, now, &pub, &again, err);
	if (rc == UPT_OK) {
		c.updated = now;
		rc = st->ops->campaign_set(st, &c, err);
	}
	if (rc == UPT_OK)
		rc = st->ops->commit(st, err);
	else
		st->ops->rollback(st);
	if (rc == UPT_OK)
		publish_all(director, id, &pub, now);
	free(pub.dev);
	free(c.spec);
	return rc;
}

void srv_campaign_device_changed(struct srv_repo *director, const char *device, int64_t now)
{
	struct srv_store *st = director->store;
	struct srv_member *m = NULL;
	size_t n = 0;
	struct upt_error err = {0};
	if (st->ops->device_members(st, device, &m, &n, &err) != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "campaigns: device %s: %s", device, err.msg);
		return;
	}
	now = srv_campaign_clock(now);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= m[j].campaign == m[i].campaign;
		if (!seen && evaluate(director, m[i].campaign, device, now, &err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "campaign %lld: device %s: %s",
				(long long)m[i].campaign, device, err.msg);
	}
	free(m);
}

void srv_campaign_tick(struct srv_repo *director, int64_t now)
{
	struct srv_store *st = director->store;
	struct srv_campaign *c = NULL;
	size_t n = 0;
	struct upt_error err = {0};
	if (st->ops->campaign_list(st, &c, &n, &err) != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "campaigns: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].status, "running") == 0 &&
		    evaluate(director, c[i].id, NULL, now, &err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "campaign %lld: %s", (long long)c[i].id, err.msg);
	srv_campaigns_free(c, n);
}

/* ---- views ------------------------------------------------------------------ */

static void put_counts(struct srv_json *o, const int64_t *counts)
{
	srv_json_raw(o, "{");
	for (size_t k = 0; k < N_STATES; k++)
		srv_json_raw(o, "%s\"%s\":%lld", k ? "," : "", state_names[k],
			     (long long)counts[k]);
	srv_json_raw(o, "}");
}

static size_t state_index(const char *s)
{
	for (size_t k = 0; k < N_STATES; k++)
		if (strcmp(state_names[k], s) == 0)
			return k;
	return 0;
}

static const char *stage_label(const struct srv_campaign *c, const struct spec *sp, size_t i)
{
	if (strcmp(c->status, "finished") == 0 || (int64_t)i < c->stage)
		return "done";
	if (strcmp(c->status, "cancelled") == 0)
		return "cancelled";
	if ((int64_t)i > c->stage || c->stage < 0)
		return "waiting";
	if (c->stage_started)
		return c->met_at ? "threshold_met" : "active";
	return sp->approval && c->approved < c->stage ? "awaiting_approval" : "waiting";
}

static void put_stages(struct srv_json *o, const struct srv_campaign *c, const struct spec *sp,
		       const struct srv_member_count *cnt, size_t nc)
{
	int64_t total[N_STATES] = {0};
	srv_json_raw(o, ",\"stages\":[");
	for (size_t i = 0; i < sp->ns; i++) {
		int64_t counts[N_STATES] = {0}, ecus = 0, ok = 0, failed = 0;
		const struct c_stage *s = &sp->s[i];
		for (size_t j = 0; j < nc; j++)
			if (cnt[j].stage == (int64_t)i) {
				size_t k = state_index(cnt[j].state);
				counts[k] += cnt[j].n;
				total[k] += cnt[j].n;
				ecus += cnt[j].n;
				ok += ok_state(cnt[j].state) ? cnt[j].n : 0;
				failed += failed_state(cnt[j].state) ? cnt[j].n : 0;
			}
		srv_json_raw(
		    o,
		    "%s{\"stage\":%zu,\"state\":\"%s\",\"%s\":%lld,\"success_threshold\":%lld,"
		    "\"error_threshold\":%lld,\"soak\":%lld,\"ecus\":%lld,\"succeeded\":%lld,"
		    "\"failed\":%lld,\"counts\":",
		    i ? "," : "", i + 1, stage_label(c, sp, i), s->count ? "count" : "percent",
		    (long long)(s->count ? s->count : s->percent), (long long)s->success,
		    (long long)s->error, (long long)s->soak, (long long)ecus, (long long)ok,
		    (long long)failed);
		put_counts(o, counts);
		srv_json_raw(o, "}");
	}
	srv_json_raw(o, "],\"totals\":");
	put_counts(o, total);
}

static void put_campaign(struct srv_json *o, const struct srv_campaign *c, const struct spec *sp)
{
	srv_json_raw(o, "{\"id\":%lld,\"name\":", (long long)c->id);
	srv_json_str(o, c->name);
	srv_json_raw(o,
		     ",\"status\":\"%s\",\"stage\":%lld,\"stages_total\":%zu,\"approved\":%lld,"
		     "\"security\":%s,\"download_only\":%s,\"released\":%lld,\"reason\":",
		     c->status, (long long)c->stage + 1, sp->ns, (long long)c->approved + 1,
		     sp->security ? "true" : "false", sp->download_only ? "true" : "false",
		     (long long)c->released);
	srv_json_str(o, c->reason);
	srv_json_raw(o, ",\"created\":%lld,\"updated\":%lld", (long long)c->created,
		     (long long)c->updated);
}

static int show(struct srv_store *st, int64_t id, bool members, char **resp, struct upt_error *err)
{
	struct srv_campaign c = {0};
	struct srv_member_count *cnt = NULL;
	struct srv_campaign_event *ev = NULL;
	struct srv_member *m = NULL;
	size_t nc = 0, ne = 0, nm = 0;
	struct spec sp;
	struct srv_json o = {0};
	int rc = st->ops->campaign_get(st, id, false, &c, err);
	if (rc == UPT_OK)
		rc = spec_read(&sp, c.spec, err);
	if (rc == UPT_OK)
		rc = st->ops->member_counts(st, id, &cnt, &nc, err);
	if (rc == UPT_OK)
		rc = st->ops->campaign_log_list(st, id, &ev, &ne, err);
	if (rc == UPT_OK && members)
		rc = st->ops->member_list(st, id, -1, &m, &nm, err);
	if (rc == UPT_OK) {
		put_campaign(&o, &c, &sp);
		put_stages(&o, &c, &sp, cnt, nc);
		srv_json_raw(&o, ",\"spec\":%s,\"log\":[", c.spec); /* the server's own JSON */
		for (size_t i = 0; i < ne; i++) {
			srv_json_raw(&o, "%s{\"at\":%lld,\"text\":", i ? "," : "",
				     (long long)ev[i].at);
			srv_json_str(&o, ev[i].text);
			srv_json_raw(&o, "}");
		}
		srv_json_raw(&o, "]");
		if (members) {
			srv_json_raw(&o, ",\"members\":[");
			for (size_t i = 0; i < nm; i++) {
				srv_json_raw(&o, "%s{\"device\":", i ? "," : "");
				srv_json_str(&o, m[i].device);
				srv_json_raw(&o, ",\"ecu\":");
				srv_json_str(&o, m[i].ecu);
				srv_json_raw(&o, ",\"hardware_id\":");
				srv_json_str(&o, m[i].hardware_id);
				srv_json_raw(&o,
					     ",\"stage\":%lld,\"state\":\"%s\",\"sha256\":\"%s\","
					     "\"correlation_id\":",
					     (long long)m[i].stage + 1, m[i].state, m[i].sha256);
				srv_json_str(&o, m[i].correlation_id);
				srv_json_raw(&o, ",\"updated\":%lld}", (long long)m[i].updated);
			}
			srv_json_raw(&o, "]");
		}
		srv_json_raw(&o, "}\n");
		rc = srv_json_finish(&o, resp, err);
	}
	free(m);
	free(ev);
	free(cnt);
	free(c.spec);
	return rc;
}

static int parse_id(const char *s, int64_t *id, struct upt_error *err)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "campaign id %.40s: not a number",
				     s);
	*id = v;
	return UPT_OK;
}

int srv_campaign_show(struct srv_store *st, const char *id, bool members, char **resp,
		      struct upt_error *err)
{
	int64_t n = 0;
	int rc = parse_id(id, &n, err);
	return rc == UPT_OK ? show(st, n, members, resp, err) : rc;
}

int srv_campaign_list(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct srv_campaign *c = NULL;
	size_t n = 0;
	struct srv_json o = {0};
	int rc = st->ops->campaign_list(st, &c, &n, err);
	if (rc != UPT_OK)
		return rc;
	srv_json_raw(&o, "{\"campaigns\":[");
	for (size_t i = 0; i < n; i++) {
		struct srv_member_count *cnt = NULL;
		size_t nc = 0;
		struct spec sp;
		if (spec_read(&sp, c[i].spec, err) != UPT_OK ||
		    st->ops->member_counts(st, c[i].id, &cnt, &nc, err) != UPT_OK) {
			rc = err->code;
			break;
		}
		srv_json_raw(&o, "%s", i ? "," : "");
		put_campaign(&o, &c[i], &sp);
		put_stages(&o, &c[i], &sp, cnt, nc);
		srv_json_raw(&o, "}");
		free(cnt);
	}
	srv_json_raw(&o, "]}\n");
	srv_campaigns_free(c, n);
	if (rc != UPT_OK) {
		srv_json_dispose(&o);
		return rc;
	}
	return srv_json_finish(&o, resp, err);
}

/* ---- requests ------------------------------------------------------------------ */

int srv_campaign_create(struct srv_repo *image, struct srv_repo *director, const uint8_t *body,
			size_t len, int64_t now, char **resp, struct upt_error *err)
{
	struct srv_store *st = image->store;
	struct work w = {0};
	struct upt_json *v;
	struct spec sp;
	struct pick p = {0};
	struct srv_campaign c = {0};
	struct srv_json o = {0};
	int rc = parse(&w, body, len, &v, err);
	(void)director;
	now = srv_campaign_clock(now);
	if (rc == UPT_OK)
		rc = spec_parse(&sp, v, false, err);
	if (rc == UPT_OK)
		rc = targets_resolve(image, &sp, err);
	if (rc == UPT_OK && !sp.explicit_devices)
		rc = filter_check(st, &sp, err);
	if (rc == UPT_OK)
		rc = sp.explicit_devices
			 ? pick_explicit(st, &sp, upt_json_get(v, "devices"), &p, err)
			 : pick_filter(st, &sp, srv_campaign_clock(now), &p, err);
	if (rc == UPT_OK && p.n == 0)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "campaign: no registered device matches the filter");
	if (rc == UPT_OK)
		rc = hardware_check(&sp, &p, err);
	if (rc == UPT_OK)
		rc = stages_assign(&sp, &p, err);
	if (rc == UPT_OK) {
		spec_write(&o, &sp);
		rc = srv_json_finish(&o, &c.spec, err);
	}
	if (rc == UPT_OK) {
		snprintf(c.name, sizeof c.name, "%s", sp.name);
		snprintf(c.status, sizeof c.status, "created");
		c.stage = -1;
		c.approved = -1;
		c.created = c.updated = now;
		rc = st->ops->campaign_add(st, &c, p.m, p.n, err);
	}
	if (rc == UPT_OK) {
		logf_(st, c.id, now, "created: %zu ECUs of %zu devices in %zu stages%s", p.n,
		      p.n_devices, sp.ns, sp.security ? " (security update)" : "");
		rc = show(st, c.id, false, resp, err);
	}
	free(c.spec);
	free(p.m);
	free(w.mem);
	return rc;
}

/* Take the Director's assignment back from every ECU not yet done (they
 * become pending again, or cancelled with the campaign). */
static int withdraw(struct srv_store *st, int64_t id, int64_t now, struct publish *pub,
		    int64_t *lowest, struct upt_error *err)
{
	struct srv_member *m = NULL;
	size_t n = 0;
	int rc = st->ops->member_list(st, id, -1, &m, &n, err);
	*lowest = -1;
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		if (!assigned_state(m[i].state))
			continue;
		if (*lowest < 0 || m[i].stage < *lowest)
			*lowest = m[i].stage;
		rc = st->ops->assign_withdraw(st, m[i].device, m[i].ecu, m[i].correlation_id, err);
		snprintf(m[i].state, sizeof m[i].state, "pending");
		m[i].correlation_id[0] = 0;
		m[i].published = false;
		m[i].updated = now;
		if (rc == UPT_OK)
			rc = st->ops->member_set(st, &m[i], err);
		publish_add(pub, m[i].device);
	}
	free(m);
	return rc;
}

/* A download-only campaign's release: every ECU holding the image (or on
 * its way to) gets its assignment again without the marker, under the
 * same correlation id, so that the Director's next targets tell it to
 * install; the stages are then gone through again, counting installs
 * (from the signed version reports, as always). */
static int release(struct srv_store *st, const struct spec *sp, struct srv_campaign *c, int64_t now,
		   struct publish *pub, struct upt_error *err)
{
	struct srv_member *m = NULL;
	size_t n = 0;
	int rc = st->ops->member_list(st, c->id, -1, &m, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		const struct c_target *t = target_for(sp, m[i].hardware_id);
		struct srv_assignment a;
		if (!assigned_state(m[i].state) || !t)
			continue;
		a = t->a;
		snprintf(a.ecu_serial, sizeof a.ecu_serial, "%s", m[i].ecu);
		snprintf(a.correlation_id, sizeof a.correlation_id, "%s", m[i].correlation_id);
		a.download_only = false;
		rc = st->ops->assign_put(st, m[i].device, &a, err);
		m[i].published = false;
		m[i].updated = now;
		if (rc == UPT_OK)
			rc = st->ops->member_set(st, &m[i], err);
		publish_add(pub, m[i].device);
	}
	free(m);
	c->released = now;
	if (c->stage >= 0) {
		c->stage = 0;
		c->stage_started = now;
		c->met_at = 0;
		c->acked_failures = 0;
	}
	c->reason[0] = 0;
	return rc;
}

static int stage_failures(struct srv_store *st, const struct srv_campaign *c, int64_t *failed,
			  struct upt_error *err)
{
	struct srv_member *m = NULL;
	size_t n = 0;
	int rc = c->stage < 0 ? UPT_OK : st->ops->member_list(st, c->id, c->stage, &m, &n, err);
	*failed = tally_of(NULL, c, m, n).failed;
	free(m);
	return rc;
}

static int approve_stage(struct srv_campaign *c, const struct spec *sp, const uint8_t *body,
			 size_t len, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v = NULL;
	int64_t stage = (c->stage < 0 ? 0 : c->stage) + 1;
	static const char *const allowed[] = {"stage", NULL};
	int rc = len ? parse(&w, body, len, &v, err) : UPT_OK;
	if (rc == UPT_OK && v)
		rc = only(v, "approve", allowed, err);
	if (rc == UPT_OK && v)
		rc = get_int(v, "stage", "approve", 1, (int64_t)sp->ns, &stage, err);
	free(w.mem);
	if (rc == UPT_OK && stage - 1 < c->stage)
		rc =
		    upt_error_set(err, UPT_ERR_STATE, "campaign %lld: stage %lld has begun already",
				  (long long)c->id, (long long)stage);
	if (rc == UPT_OK && stage - 1 > c->approved)
		c->approved = stage - 1;
	return rc;
}

static int transition(struct srv_store *st, struct srv_campaign *c, const struct spec *sp,
		      const char *action, const uint8_t *body, size_t len, int64_t now,
		      struct publish *pub, struct upt_error *err)
{
	char from[16];
	int64_t lowest = -1;
	int rc = UPT_OK;
	snprintf(from, sizeof from, "%s", c->status);
	if (ended(from))
		return upt_error_set(err, UPT_ERR_STATE, "campaign %lld is %s: nothing to %s",
				     (long long)c->id, from, action);
	if (strcmp(action, "start") == 0) {
		if (strcmp(from, "created") != 0)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld is %s: started already",
					     (long long)c->id, from);
		snprintf(c->status, sizeof c->status, "running");
	} else if (strcmp(action, "pause") == 0) {
		if (strcmp(from, "running") != 0)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld is %s: only a running campaign pauses",
					     (long long)c->id, from);
		snprintf(c->status, sizeof c->status, "paused");
		snprintf(c->reason, sizeof c->reason, "paused by an operator");
	} else if (strcmp(action, "resume") == 0) {
		if (strcmp(from, "paused") != 0 && strcmp(from, "stopped") != 0)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld is %s: only a paused or stopped "
					     "campaign resumes",
					     (long long)c->id, from);
		rc = stage_failures(st, c, &c->acked_failures, err);
		snprintf(c->status, sizeof c->status, "running");
		c->reason[0] = 0;
	} else if (strcmp(action, "stop") == 0) {
		if (strcmp(from, "created") == 0)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld has not started: cancel it instead",
					     (long long)c->id);
		rc = withdraw(st, c->id, now, pub, &lowest, err);
		/* withdrawn ECUs of an earlier stage: the campaign goes back to
		 * it, so that resume assigns them again (thresholds counted anew) */
		if (lowest >= 0 && lowest < c->stage) {
			c->stage = lowest;
			c->stage_started = now;
			c->met_at = 0;
		}
		snprintf(c->status, sizeof c->status, "stopped");
		snprintf(c->reason, sizeof c->reason,
			 "emergency stop: every assignment not yet installed withdrawn");
	} else if (strcmp(action, "cancel") == 0) {
		rc = withdraw(st, c->id, now, pub, &lowest, err);
		snprintf(c->status, sizeof c->status, "cancelled");
		c->reason[0] = 0;
	} else if (strcmp(action, "install") == 0) {
		if (!sp->download_only)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld is not download only: it installs "
					     "already",
					     (long long)c->id);
		if (c->released)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld: its installs are released already",
					     (long long)c->id);
		if (strcmp(from, "created") == 0 || strcmp(from, "stopped") == 0)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld is %s: start or resume it first",
					     (long long)c->id, from);
		rc = release(st, sp, c, now, pub, err);
	} else if (strcmp(action, "approve") == 0) {
		if (!sp->approval)
			return upt_error_set(err, UPT_ERR_STATE,
					     "campaign %lld does not ask for approval",
					     (long long)c->id);
		rc = approve_stage(c, sp, body, len, err);
	} else {
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "campaign: no action %.20s", action);
	}
	if (rc == UPT_OK) {
		if (strcmp(action, "approve") == 0)
			logf_(st, c->id, now, "stage %lld approved", (long long)c->approved + 1);
		else if (strcmp(action, "install") == 0)
			logf_(st, c->id, now, "installs released (download only until now)");
		else
			logf_(st, c->id, now, "%s (was %s)", c->status, from);
	}
	return rc;
}

int srv_campaign_action(struct srv_repo *director, const char *id, const char *action,
			const uint8_t *body, size_t len, int64_t now, char **resp,
			struct upt_error *err)
{
	struct srv_store *st = director->store;
	struct srv_campaign c = {0};
	struct spec sp;
	struct publish pub = {0};
	int64_t n = 0;
	int rc = parse_id(id, &n, err);
	now = srv_campaign_clock(now);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc != UPT_OK)
		return rc;
	rc = st->ops->campaign_get(st, n, true, &c, err);
	if (rc == UPT_OK)
		rc = spec_read(&sp, c.spec, err);
	if (rc == UPT_OK) {
		char was[16];
		snprintf(was, sizeof was, "%s", c.status);
		rc = transition(st, &c, &sp, action, body, len, now, &pub, err);
	}
	if (rc == UPT_OK) {
		c.updated = now;
		rc = st->ops->campaign_set(st, &c, err);
	}
	if (rc == UPT_OK)
		rc = st->ops->commit(st, err);
	else
		st->ops->rollback(st);
	if (rc == UPT_OK) {
		publish_all(director, n, &pub, now);
		if (strcmp(c.status, "running") == 0 &&
		    evaluate(director, n, NULL, now, err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "campaign %lld: %s", (long long)n, err->msg);
		rc = show(st, n, false, resp, err);
	}
	free(pub.dev);
	free(c.spec);
	return rc;
}

void srv_campaign_device_joined(struct srv_repo *image, struct srv_repo *director,
				const char *device, int64_t now)
{
	struct srv_store *st = image->store;
	struct srv_campaign *c = NULL;
	struct srv_device d;
	size_t n = 0;
	struct upt_error err = {0};
	now = srv_campaign_clock(now);
	if (st->ops->device_get(st, device, &d, NULL) != UPT_OK ||
	    st->ops->campaign_list(st, &c, &n, &err) != UPT_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		struct spec sp;
		struct pick p = {0};
		size_t added = 0;
		if (ended(c[i].status) || strcmp(c[i].status, "stopped") == 0 ||
		    spec_read(&sp, c[i].spec, &err) != UPT_OK || !sp.join_new ||
		    !device_matches(st, &sp.f, &d, now / 86400) ||
		    pick_ecus(st, &sp, device, false, &p, &err) != UPT_OK) {
			free(p.m);
			continue;
		}
		for (size_t j = 0; j < p.n; j++) {
			p.m[j].campaign = c[i].id;
			p.m[j].stage = c[i].stage < 0 ? 0 : c[i].stage;
			p.m[j].updated = now;
			if (st->ops->member_add(st, &p.m[j], &err) == UPT_OK)
				added++;
			else if (err.code != UPT_ERR_STATE)
				srv_log(SRV_LOG_ERROR, "campaign %lld: %s", (long long)c[i].id,
					err.msg);
		}
		if (added)
			logf_(st, c[i].id, now, "device %s joined (%zu ECUs)", device, added);
		if (added && strcmp(c[i].status, "running") == 0 &&
		    evaluate(director, c[i].id, NULL, now, &err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "campaign %lld: %s", (long long)c[i].id, err.msg);
		free(p.m);
	}
	srv_campaigns_free(c, n);
}

/* ---- the periodic evaluation ------------------------------------------------------ */

struct srv_campaigns {
	struct srv_repo *director;
	pthread_t thread;
	volatile bool stopping;
};

static void *ticker(void *arg)
{
	struct srv_campaigns *w = arg;
	while (!w->stopping) {
		srv_campaign_tick(w->director, srv_campaign_clock((int64_t)time(NULL)));
		for (int i = 0; i < 10 && !w->stopping; i++)
			usleep(100000);
	}
	return NULL;
}

int srv_campaigns_start(struct srv_campaigns **out, struct srv_repo *image,
			struct srv_repo *director, struct upt_error *err)
{
	struct srv_campaigns *w = calloc(1, sizeof *w);
	(void)image;
	if (!w)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	w->director = director;
	if (pthread_create(&w->thread, NULL, ticker, w) != 0) {
		free(w);
		return upt_error_set(err, UPT_ERR_IO, "cannot start the campaign worker");
	}
	*out = w;
	return UPT_OK;
}

void srv_campaigns_stop(struct srv_campaigns *w)
{
	if (!w)
		return;
	w->stopping = true;
	pthread_join(w->thread, NULL);
	free(w);
}
