/* uptake-server: products and each unit's CRA lifecycle. */
#include "lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : n[m - 1];
}

int srv_date_parse(const char *s, int64_t *days)
{
	int64_t y = 0;
	unsigned m, d;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return UPT_ERR_FIELD_VALUE;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return UPT_ERR_FIELD_VALUE;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y < 1970 || y > 9899 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return UPT_ERR_FIELD_VALUE;
	*days = days_from_civil(y, m, d);
	return UPT_OK;
}

void srv_date_format(int64_t days, char out[11])
{
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y > 9999) /* the calendar ends where the date format does */
		y = 9999, m = 12, d = 31;
	if (y < 0)
		y = 0;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = 0;
}

int64_t srv_date_add_years(int64_t days, int64_t years)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	y += years;
	if (m == 2 && d == 29 && !leap(y))
		return days_from_civil(y, 3, 1);
	return days_from_civil(y, m, d);
}

/* ---- validation ------------------------------------------------------------- */

/* A name: printable, no quotes, commas, slashes or backslashes. */
static bool valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\' ||
		    s[i] == '/' || s[i] == ',')
			return false;
	return true;
}

static const char *str_member(const struct upt_json *obj, const char *key, bool *bad)
{
	const struct upt_json *v = upt_json_get(obj, key);
	if (!v || v->type == UPT_JSON_NULL)
		return NULL;
	if (v->type != UPT_JSON_STRING || memchr(v->str, 0, v->len)) {
		*bad = true;
		return NULL;
	}
	return v->str;
}

int srv_lifecycle_from_json(struct srv_lifecycle *l, const struct upt_json *v, bool *any,
			    struct upt_error *err)
{
	static const char *const keys[] = {"product", "manufactured", "placed_on_market",
					   "support_end"};
	const char **slot[] = {&l->product, &l->manufactured, &l->placed_on_market,
			       &l->support_end};
	memset(l, 0, sizeof *l);
	*any = false;
	if (!v || v->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "lifecycle: must be an object");
	for (int i = 0; i < 4; i++) {
		const struct upt_json *m = upt_json_get(v, keys[i]);
		bool bad = false;
		/* null clears a member; absent keeps it */
		*slot[i] = m && m->type == UPT_JSON_NULL ? "" : str_member(v, keys[i], &bad);
		if (bad)
			return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: must be a string",
					     keys[i]);
		*any |= upt_json_get(v, keys[i]) != NULL;
	}
	return UPT_OK;
}

static int date_of(const char *field, const char *s, int64_t *days, struct upt_error *err)
{
	if (srv_date_parse(s, days) != UPT_OK)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: '%.40s' is not a date (YYYY-MM-DD, from 1970)", field, s);
	return UPT_OK;
}

/* The lifecycle as it would be: given fields over the current ones. */
static void merged(const struct srv_device *cur, const struct srv_lifecycle *l,
		   struct srv_lifecycle *m)
{
	m->product = l->product ? l->product : cur ? cur->product : "";
	m->manufactured = l->manufactured ? l->manufactured : cur ? cur->manufactured : "";
	m->placed_on_market = l->placed_on_market ? l->placed_on_market
			      : cur               ? cur->placed_on_market
						  : "";
	m->support_end = l->support_end ? l->support_end : cur ? cur->support_end : "";
}

int srv_lifecycle_check(struct srv_store *st, const struct srv_device *current,
			const struct srv_lifecycle *l, int64_t now, struct upt_error *err)
{
	struct srv_lifecycle m;
	struct srv_product p;
	int64_t today = now / 86400, made = 0, market = 0, end = 0, minimum;
	int rc = UPT_OK;
	merged(current, l, &m);
	if (m.product[0] && (rc = st->ops->product_get(st, m.product, &p, err)) != UPT_OK)
		return rc;
	if (m.manufactured[0] && (rc = date_of("manufactured", m.manufactured, &made, err)))
		return rc;
	if (m.placed_on_market[0] &&
	    (rc = date_of("placed_on_market", m.placed_on_market, &market, err)))
		return rc;
	if (m.support_end[0] && (rc = date_of("support_end", m.support_end, &end, err)))
		return rc;
	if (m.manufactured[0] && made > today)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "manufactured: %s is in the future",
				     m.manufactured);
	if (m.placed_on_market[0] && !m.manufactured[0])
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "placed_on_market needs the date the unit was manufactured");
	if (m.placed_on_market[0] && market < made)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "placed_on_market: %s is before manufactured %s",
				     m.placed_on_market, m.manufactured);
	if (m.placed_on_market[0] && market > today)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "placed_on_market: %s is in the future", m.placed_on_market);
	if (m.support_end[0] && (!m.placed_on_market[0] || !m.product[0]))
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "support_end needs the product and the date the unit was "
				     "placed on the market");
	if (m.support_end[0]) {
		char min[11];
		minimum = srv_date_add_years(market, p.support_years);
		srv_date_format(minimum, min);
		if (end < minimum)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "support_end: %s is before %s, the product's %lld "
					     "years from placing on the market",
					     m.support_end, min, (long long)p.support_years);
	}
	return UPT_OK;
}

int srv_lifecycle_set(struct srv_store *st, struct srv_repo *director, const char *id,
		      const struct srv_lifecycle *l, int64_t now, struct upt_error *err)
{
	struct srv_device d;
	struct srv_lifecycle m;
	int rc = st->ops->device_get(st, id, &d, err);
	if (rc == UPT_OK)
		rc = srv_lifecycle_check(st, &d, l, now, err);
	merged(&d, l, &m);
	if (rc == UPT_OK)
		rc = st->ops->device_lifecycle(st, id, m.product, m.manufactured,
					       m.placed_on_market, m.support_end, err);
	/* the device learns its support end from its signed Director targets */
	if (rc == UPT_OK && director)
		rc = srv_director_publish(director, id, now, err);
	return rc;
}

void srv_support_end(const struct srv_device *d, const struct srv_product *p, char out[11])
{
	int64_t market, minimum, end;
	out[0] = 0;
	if (!d->placed_on_market[0] || srv_date_parse(d->placed_on_market, &market) != UPT_OK)
		return;
	if (!p) {
		if (d->support_end[0])
			snprintf(out, 11, "%s", d->support_end);
		return;
	}
	/* a unit's own end counts only when it is later than the product's
	 * (a product's period may have been extended since it was set) */
	minimum = srv_date_add_years(market, p->support_years);
	if (d->support_end[0] && srv_date_parse(d->support_end, &end) == UPT_OK && end > minimum)
		minimum = end;
	srv_date_format(minimum, out);
}

/* ---- products ----------------------------------------------------------------- */

struct work {
	unsigned char *mem;
	struct upt_arena a;
};

static int parse_body(struct work *w, const uint8_t *body, size_t len, struct upt_json **v,
		      struct upt_error *err)
{
	size_t cap = 32 * len + (64u << 10);
	if (!(w->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&w->a, w->mem, cap);
	return upt_json_parse(v, &w->a, body, len, NULL, err);
}

/* Strict: only these members. */
static int only_members(const struct upt_json *v, const char *what, const char *const *allowed,
			struct upt_error *err)
{
	if (v->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: must be an object", what);
	for (size_t i = 0; i < v->n; i++) {
		bool known = false;
		for (const char *const *a = allowed; *a; a++)
			known |= strlen(*a) == v->items[i]->key_len &&
				 memcmp(*a, v->items[i]->key, v->items[i]->key_len) == 0;
		if (!known)
			return upt_error_set(
			    err, UPT_ERR_FIELD_VALUE, "%s: unknown member '%.*s'", what,
			    (int)(v->items[i]->key_len > 60 ? 60 : v->items[i]->key_len),
			    v->items[i]->key);
	}
	return UPT_OK;
}

/* Fields of a product from a body over `p` (given members replace). */
static int product_fields(struct srv_product *p, const struct upt_json *v, bool create,
			  struct upt_error *err)
{
	static const char *const allowed[] = {"name",    "hardware_ids",       "support_years",
					      "contact", "security_fast_path", NULL};
	const struct upt_json *fast = upt_json_get(v, "security_fast_path");
	const struct upt_json *hw = upt_json_get(v, "hardware_ids");
	const struct upt_json *years = upt_json_get(v, "support_years");
	bool bad = false;
	const char *name = str_member(v, "name", &bad), *contact = str_member(v, "contact", &bad);
	int rc = only_members(v, "product", allowed, err);
	if (rc != UPT_OK)
		return rc;
	if (bad)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE,
				     "product: name and contact are strings");
	if (create) {
		if (!name || !valid_name(name, sizeof p->name - 1))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "product: needs a name (printable, no quotes, commas "
					     "or slashes)");
		snprintf(p->name, sizeof p->name, "%s", name);
		if (!hw || !years || !contact)
			return upt_error_set(
			    err, UPT_ERR_FIELD_MISSING,
			    "product: needs hardware_ids, support_years and contact");
	} else if (name && strcmp(name, p->name) != 0) {
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "product: the name cannot change");
	}
	if (hw) {
		size_t o = 0;
		if (hw->type != UPT_JSON_ARRAY || hw->n == 0 || hw->n > 32)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "hardware_ids: a list of 1 to 32 hardware ids");
		p->hardware_ids[0] = 0;
		for (size_t i = 0; i < hw->n; i++) {
			const struct upt_json *h = hw->items[i];
			if (h->type != UPT_JSON_STRING || memchr(h->str, 0, h->len) ||
			    !valid_name(h->str, 127) || o + h->len + 2 > sizeof p->hardware_ids)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "hardware_ids[%zu]: not a hardware id", i);
			o += (size_t)snprintf(p->hardware_ids + o, sizeof p->hardware_ids - o,
					      "%s%s", i ? "," : "", h->str);
		}
	}
	if (years) {
		if (years->type != UPT_JSON_INT || years->i < SRV_SUPPORT_YEARS_MIN ||
		    years->i > SRV_SUPPORT_YEARS_MAX)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "support_years: a whole number of years from %d to %d "
					     "(the CRA asks for at least %d)",
					     SRV_SUPPORT_YEARS_MIN, SRV_SUPPORT_YEARS_MAX,
					     SRV_SUPPORT_YEARS_MIN);
		/* units already on the market keep the period they were sold with */
		if (!create && years->i < p->support_years)
			return upt_error_set(
			    err, UPT_ERR_STATE,
			    "support_years: %lld is shorter than the current %lld; "
			    "a support period can only be extended",
			    (long long)years->i, (long long)p->support_years);
		p->support_years = years->i;
	}
	if (contact) {
		if (!contact[0] || strlen(contact) >= sizeof p->contact)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "contact: a vulnerability contact (mail or URL)");
		for (const char *c = contact; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "contact: a control character");
		snprintf(p->contact, sizeof p->contact, "%s", contact);
	}
	if (create)
		p->security_fast_path = true; /* unless the body says otherwise */
	if (fast && fast->type != UPT_JSON_TRUE && fast->type != UPT_JSON_FALSE)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE,
				     "security_fast_path: must be true or false");
	if (fast)
		p->security_fast_path = fast->type == UPT_JSON_TRUE;
	return UPT_OK;
}

static void put_product(struct srv_json *o, const struct srv_product *p, size_t devices)
{
	srv_json_raw(o, "{\"name\":");
	srv_json_str(o, p->name);
	srv_json_raw(o, ",\"hardware_ids\":[");
	for (const char *h = p->hardware_ids, *e; *h; h = *e ? e + 1 : e) {
		char id[128];
		e = strchr(h, ',');
		if (!e)
			e = h + strlen(h);
		snprintf(id, sizeof id, "%.*s", (int)(e - h), h);
		srv_json_raw(o, "%s", h == p->hardware_ids ? "" : ",");
		srv_json_str(o, id);
	}
	srv_json_raw(o, "],\"support_years\":%lld,\"contact\":", (long long)p->support_years);
	srv_json_str(o, p->contact);
	srv_json_raw(o, ",\"security_fast_path\":%s,\"created\":%lld,\"devices\":%zu}",
		     p->security_fast_path ? "true" : "false", (long long)p->created, devices);
}

static size_t devices_of(const struct srv_device *d, size_t n, const char *product)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += strcmp(d[i].product, product) == 0;
	return k;
}

int srv_admin_product_add(struct srv_store *st, const uint8_t *body, size_t len, char **resp,
			  struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	struct srv_product p = {0};
	struct srv_json o = {0};
	int rc = parse_body(&w, body, len, &v, err);
	if (rc == UPT_OK)
		rc = product_fields(&p, v, true, err);
	if (rc == UPT_OK)
		rc = st->ops->product_put(st, &p, true, err);
	if (rc == UPT_OK)
		rc = st->ops->product_get(st, p.name, &p, err);
	if (rc == UPT_OK) {
		put_product(&o, &p, 0);
		srv_json_raw(&o, "\n");
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "product %s: added, support period %lld years", p.name,
			(long long)p.support_years);
	}
	free(w.mem);
	return rc;
}

/* Re-sign the Director targets of a product's devices (their support end
 * may have moved). */
static int resign_product(struct srv_store *st, struct srv_repo *director, const char *product,
			  int64_t now, struct upt_error *err)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	int rc = st->ops->device_list(st, &d, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++)
		if (strcmp(d[i].product, product) == 0 && director)
			rc = srv_director_publish(director, d[i].id, now, err);
	free(d);
	return rc;
}

int srv_admin_product_set(struct srv_store *st, struct srv_repo *director, const char *name,
			  const uint8_t *body, size_t len, int64_t now, char **resp,
			  struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	struct srv_product p;
	int rc = st->ops->product_get(st, name, &p, err);
	if (rc == UPT_OK)
		rc = parse_body(&w, body, len, &v, err);
	if (rc == UPT_OK)
		rc = product_fields(&p, v, false, err);
	if (rc == UPT_OK)
		rc = st->ops->product_put(st, &p, false, err);
	if (rc == UPT_OK)
		rc = resign_product(st, director, name, now, err);
	free(w.mem);
	if (rc == UPT_OK)
		return srv_admin_product_show(st, name, resp, err);
	return rc;
}

int srv_admin_product_list(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct srv_product *p = NULL;
	struct srv_device *d = NULL;
	size_t n = 0, nd = 0;
	struct srv_json o = {0};
	int rc = st->ops->product_list(st, &p, &n, err);
	if (rc == UPT_OK)
		rc = st->ops->device_list(st, &d, &nd, err);
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"products\":[");
		for (size_t i = 0; i < n; i++) {
			srv_json_raw(&o, "%s", i ? "," : "");
			put_product(&o, &p[i], devices_of(d, nd, p[i].name));
		}
		srv_json_raw(&o, "]}\n");
		rc = srv_json_finish(&o, resp, err);
	}
	free(p);
	free(d);
	return rc;
}

int srv_admin_product_show(struct srv_store *st, const char *name, char **resp,
			   struct upt_error *err)
{
	struct srv_product p;
	struct srv_device *d = NULL;
	size_t nd = 0;
	struct srv_json o = {0};
	int rc = st->ops->product_get(st, name, &p, err);
	if (rc == UPT_OK)
		rc = st->ops->device_list(st, &d, &nd, err);
	if (rc == UPT_OK) {
		put_product(&o, &p, devices_of(d, nd, name));
		srv_json_raw(&o, "\n");
		rc = srv_json_finish(&o, resp, err);
	}
	free(d);
	return rc;
}

/* ---- devices' lifecycle ---------------------------------------------------------- */

/* The members of a device's lifecycle, its object left open. */
void srv_put_lifecycle(struct srv_json *o, const struct srv_device *d, const struct srv_product *p)
{
	char end[11];
	srv_support_end(d, p, end);
	srv_json_raw(o, "{\"id\":");
	srv_json_str(o, d->id);
	srv_json_raw(o, ",\"product\":");
	srv_json_str(o, d->product);
	srv_json_raw(o, ",\"manufactured\":");
	srv_json_str(o, d->manufactured);
	srv_json_raw(o, ",\"placed_on_market\":");
	srv_json_str(o, d->placed_on_market);
	srv_json_raw(o, ",\"support_end\":");
	srv_json_str(o, end);
	srv_json_raw(o, ",\"support_end_set\":%s", d->support_end[0] ? "true" : "false");
}

/* A device's tags (a list of 1-63 printable characters each, no comma;
 * at most 8) into "a,b,c". */
static int tags_from_json(char *out, size_t cap, const struct upt_json *v, struct upt_error *err)
{
	size_t o = 0;
	out[0] = 0;
	if (v->type != UPT_JSON_ARRAY || v->n > 8)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "device: tags: a list of up to 8 tags");
	for (size_t i = 0; i < v->n; i++) {
		const struct upt_json *t = v->items[i];
		bool ok = t->type == UPT_JSON_STRING && t->len > 0 && t->len < 64;
		for (size_t k = 0; ok && k < t->len; k++)
			ok = (unsigned char)t->str[k] > 0x20 && t->str[k] != 0x7f &&
			     t->str[k] != ',' && t->str[k] != '"' && t->str[k] != '\\';
		if (!ok)
			return upt_error_set(
			    err, UPT_ERR_FIELD_VALUE,
			    "device: tags[%zu]: 1-63 printable characters, no space, "
			    "comma or quote",
			    i);
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", t->str);
	}
	return UPT_OK;
}

/* Tags and UTC offset, if the body has them, over the device's. */
static int device_tags_set(struct srv_store *st, const char *id, const struct upt_json *v,
			   bool *any, struct upt_error *err)
{
	const struct upt_json *tags = upt_json_get(v, "tags"), *off = upt_json_get(v, "utc_offset");
	struct srv_device d;
	int rc;
	*any = tags || off;
	if (!*any)
		return UPT_OK;
	rc = st->ops->device_get(st, id, &d, err);
	if (rc == UPT_OK && tags)
		rc = tags_from_json(d.tags, sizeof d.tags, tags, err);
	if (rc == UPT_OK && off) {
		if (off->type != UPT_JSON_INT || off->i < -840 || off->i > 840)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "device: utc_offset: minutes east of UTC, -840 to 840");
		else
			d.utc_offset = off->i;
	}
	return rc == UPT_OK ? st->ops->device_tags(st, id, d.tags, d.utc_offset, err) : rc;
}

int srv_admin_device_lifecycle(struct srv_store *st, struct srv_repo *director, const char *id,
			       const uint8_t *body, size_t len, int64_t now, char **resp,
			       struct upt_error *err)
{
	static const char *const allowed[] = {"product",     "manufactured", "placed_on_market",
					      "support_end", "tags",         "utc_offset",
					      NULL};
	struct work w = {0};
	struct upt_json *v;
	struct srv_lifecycle l;
	struct srv_device d;
	struct srv_product p;
	struct srv_json o = {0};
	bool any, tags_any = false;
	int rc = parse_body(&w, body, len, &v, err);
	if (rc == UPT_OK)
		rc = only_members(v, "device", allowed, err);
	if (rc == UPT_OK)
		rc = srv_lifecycle_from_json(&l, v, &any, err);
	/* the tags first: checked without writing anything else */
	if (rc == UPT_OK && (upt_json_get(v, "tags") || upt_json_get(v, "utc_offset"))) {
		char t[512];
		const struct upt_json *tg = upt_json_get(v, "tags"),
				      *off = upt_json_get(v, "utc_offset");
		if (tg)
			rc = tags_from_json(t, sizeof t, tg, err);
		if (rc == UPT_OK && off &&
		    (off->type != UPT_JSON_INT || off->i < -840 || off->i > 840))
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "device: utc_offset: minutes east of UTC, -840 to 840");
	}
	if (rc == UPT_OK && (any || !(upt_json_get(v, "tags") || upt_json_get(v, "utc_offset"))))
		rc = srv_lifecycle_set(st, director, id, &l, now, err);
	if (rc == UPT_OK)
		rc = device_tags_set(st, id, v, &tags_any, err);
	if (rc == UPT_OK)
		rc = st->ops->device_get(st, id, &d, err);
	if (rc == UPT_OK) {
		bool has_p =
		    d.product[0] && st->ops->product_get(st, d.product, &p, NULL) == UPT_OK;
		srv_put_lifecycle(&o, &d, has_p ? &p : NULL);
		srv_json_raw(&o, ",\"tags\":[");
		for (const char *t = d.tags; *t;) {
			size_t n = strcspn(t, ",");
			char one[64];
			snprintf(one, sizeof one, "%.*s", (int)n, t);
			srv_json_raw(&o, "%s", t == d.tags ? "" : ",");
			srv_json_str(&o, one);
			t += n;
			if (*t == ',')
				t++;
		}
		srv_json_raw(&o, "],\"utc_offset\":%lld}\n", (long long)d.utc_offset);
		rc = srv_json_finish(&o, resp, err);
	}
	free(w.mem);
	return rc;
}

static void row_prefix(struct upt_error *err, size_t i)
{
	char p[40];
	snprintf(p, sizeof p, "row %zu", i);
	upt_error_prefix(err, p);
}

struct row_id {
	const char *id;
	size_t row;
};

static int by_id(const void *a, const void *b)
{
	const struct row_id *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* A device once per import. */
static int no_duplicates(const struct upt_json *rows, struct upt_error *err)
{
	struct row_id *ids = calloc(rows->n, sizeof *ids);
	int rc = UPT_OK;
	if (!ids)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < rows->n; i++) {
		bool bad = false;
		ids[i].id = str_member(rows->items[i], "device", &bad);
		ids[i].row = i;
	}
	qsort(ids, rows->n, sizeof *ids, by_id);
	for (size_t i = 1; rc == UPT_OK && i < rows->n; i++)
		if (strcmp(ids[i].id, ids[i - 1].id) == 0)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "row %zu: device %s is also in row %zu", ids[i].row,
					   ids[i].id, ids[i - 1].row);
	free(ids);
	return rc;
}

int srv_admin_lifecycle_import(struct srv_store *st, struct srv_repo *director, const uint8_t *body,
			       size_t len, int64_t now, char **resp, struct upt_error *err)
{
	static const char *const allowed[] = {"device",           "product",     "manufactured",
					      "placed_on_market", "support_end", NULL};
	struct work w = {0};
	struct upt_json *v;
	struct srv_json o = {0};
	int rc = parse_body(&w, body, len, &v, err);
	size_t n = 0;
	if (rc == UPT_OK && (v->type != UPT_JSON_ARRAY || v->n == 0 || v->n > 1000000))
		rc = upt_error_set(err, UPT_ERR_FIELD_TYPE, "import: a list of 1 to 1000000 rows");
	/* every row is checked before anything is written */
	for (size_t i = 0; rc == UPT_OK && i < v->n; i++) {
		struct srv_lifecycle l;
		struct srv_device d;
		bool any, bad = false;
		const char *id;
		rc = only_members(v->items[i], "row", allowed, err);
		id = rc == UPT_OK ? str_member(v->items[i], "device", &bad) : NULL;
		if (rc == UPT_OK && (!id || bad))
			rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "device: missing");
		if (rc == UPT_OK)
			rc = srv_lifecycle_from_json(&l, v->items[i], &any, err);
		if (rc == UPT_OK)
			rc = st->ops->device_get(st, id, &d, err);
		if (rc == UPT_OK)
			rc = srv_lifecycle_check(st, &d, &l, now, err);
		if (rc != UPT_OK)
			row_prefix(err, i);
	}
	if (rc == UPT_OK)
		rc = no_duplicates(v, err);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc == UPT_OK) {
		for (size_t i = 0; rc == UPT_OK && i < v->n; i++) {
			struct srv_lifecycle l;
			bool any, bad = false;
			const char *id = str_member(v->items[i], "device", &bad);
			rc = srv_lifecycle_from_json(&l, v->items[i], &any, err);
			if (rc == UPT_OK)
				rc = srv_lifecycle_set(st, NULL, id, &l, now, err);
			if (rc != UPT_OK)
				row_prefix(err, i);
			n++;
		}
		if (rc == UPT_OK)
			rc = st->ops->commit(st, err);
		else
			st->ops->rollback(st);
	}
	/* then the Director signs each device's support end */
	for (size_t i = 0; rc == UPT_OK && director && i < v->n; i++) {
		bool bad = false;
		rc = srv_director_publish(director, str_member(v->items[i], "device", &bad), now,
					  err);
	}
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"devices\":%zu}\n", n);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "lifecycle of %zu devices imported", n);
	}
	free(w.mem);
	return rc;
}
