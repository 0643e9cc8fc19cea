/* uptake-server: NVD CVE JSON 2.0 records, checked and normalized for
 * matching by CPE (see nvd.h). */
#include "nvd.h"

#include <stdio.h>
#include <string.h>
#include <uptake/json.h>

#include "cpe.h"
#include "jsonout.h"
#include "versions.h"

#define SRV_NVD_MAX_MATCHES 4096 /* cpeMatch entries of one record */

static const char *jstr(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = o && o->type == UPT_JSON_OBJECT ? upt_json_get(o, k) : NULL;
	return v && v->type == UPT_JSON_STRING ? v->str : NULL;
}

static bool printable(const char *s, size_t max)
{
	size_t n = 0;
	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || n >= max)
			return false;
	return n > 0;
}

/* NVD's times: "2024-02-04T09:15:09.113", UTC, optionally with "Z". */
static bool nvd_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	if (!s)
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return false;
	s += i;
	if (*s == '.') {
		if (!(s[1] >= '0' && s[1] <= '9'))
			return false;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	return !*s || (s[0] == 'Z' && !s[1]);
}

/* "CVE-YYYY-NNNN..." */
static bool cve_id(const char *s)
{
	size_t n;
	if (!s || strncmp(s, "CVE-", 4) != 0 || strspn(s + 4, "0123456789") != 4 || s[8] != '-')
		return false;
	n = strspn(s + 9, "0123456789");
	return n >= 4 && n <= 19 && !s[9 + n];
}

/* Members of an object other than `allowed`: the first, or NULL. */
static const char *unknown_member(const struct upt_json *o, const char *const *allowed)
{
	for (size_t i = 0; i < o->n; i++) {
		size_t k = 0;
		while (allowed[k] && strcmp(allowed[k], o->items[i]->key) != 0)
			k++;
		if (!allowed[k])
			return o->items[i]->key;
	}
	return NULL;
}

static bool is_bool(const struct upt_json *v)
{
	return v && (v->type == UPT_JSON_TRUE || v->type == UPT_JSON_FALSE);
}

static int check_operator(const struct upt_json *o, bool required, const char *where,
			  struct upt_error *err)
{
	const struct upt_json *op = upt_json_get(o, "operator"), *ng = upt_json_get(o, "negate");
	const char *s = jstr(o, "operator");
	if ((required && !op) || (op && (!s || (strcmp(s, "AND") != 0 && strcmp(s, "OR") != 0))))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s.operator: not \"AND\" or \"OR\"",
				     where);
	if (ng && !is_bool(ng))
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s.negate: not a boolean", where);
	return UPT_OK;
}

static const char *const range_keys[] = {"versionStartIncluding", "versionStartExcluding",
					 "versionEndIncluding", "versionEndExcluding"};

/* Where an entry sits: configuration, node, and what the record counts. */
struct nvd_pos {
	size_t cfg, node;
	size_t n_out;     /* entries written */
	size_t n_vuln;    /* vulnerable ones, in nodes not negated */
	size_t *platform; /* conditions: vulnerable false, or in a negated node */
};

/* One cpeMatch entry, written into `o` with its place and whether it is
 * vulnerable. */
static int cpe_match(struct srv_json *o, const struct upt_json *m, const char *where, bool negated,
		     struct nvd_pos *pos, struct upt_error *err)
{
	static const char *const allowed[] = {"vulnerable",
					      "criteria",
					      "matchCriteriaId",
					      "versionStartIncluding",
					      "versionStartExcluding",
					      "versionEndIncluding",
					      "versionEndExcluding",
					      NULL};
	const struct upt_json *vul = upt_json_get(m, "vulnerable");
	const char *crit = jstr(m, "criteria"), *why, *attr, *bad, *r[4];
	struct srv_cpe c;
	if (m->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: not an object", where);
	if ((bad = unknown_member(m, allowed)) != NULL)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: unknown member \"%.64s\"",
				     where, bad);
	if (!is_bool(vul))
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s.vulnerable: missing or not a boolean", where);
	if (!crit)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s.criteria: missing or not a string", where);
	if (strncmp(crit, "cpe:2.3:", 8) != 0)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s.criteria: \"%.80s\" is not a CPE 2.3 formatted string",
				     where, crit);
	if ((why = srv_cpe_parse(&c, crit, &attr)) != NULL)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s.criteria: %s%s%s in \"%.64s\"",
				     where, attr ? attr : "", attr ? ": " : "", why, crit);
	if (jstr(m, "matchCriteriaId") == NULL && upt_json_get(m, "matchCriteriaId"))
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s.matchCriteriaId: not a string",
				     where);
	for (size_t i = 0; i < 4; i++) {
		r[i] = jstr(m, range_keys[i]);
		if (upt_json_get(m, range_keys[i]) &&
		    (!r[i] || !srv_version_valid(SRV_VS_GENERIC, r[i])))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s.%s: not a version (printable, no spaces, at most "
					     "200 characters)",
					     where, range_keys[i]);
	}
	if ((r[0] && r[1]) || (r[2] && r[3]))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: both an including and an excluding bound at one end",
				     where);
	if ((r[0] || r[1] || r[2] || r[3]) && c.a[SRV_CPE_VERSION].kind != SRV_CPE_ANY)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: a version range on a criteria whose version is not *",
				     where);
	if (pos->n_out == SRV_NVD_MAX_MATCHES)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %d cpeMatch entries",
				     where, SRV_NVD_MAX_MATCHES);
	if (vul->type != UPT_JSON_TRUE || negated)
		(*pos->platform)++; /* a condition: evaluated per SBOM */
	else
		pos->n_vuln++;
	srv_json_raw(
	    o, "%s{\"cfg\":%zu,\"node\":%zu,\"vulnerable\":%s,\"cpe\":", pos->n_out++ ? "," : "",
	    pos->cfg, pos->node, vul->type == UPT_JSON_TRUE ? "true" : "false");
	srv_json_str(o, crit);
	srv_json_raw(o, ",\"start\":");
	srv_json_str(o, r[0] ? r[0] : r[1] ? r[1] : "");
	srv_json_raw(o, ",\"start_excl\":%s,\"end\":", r[1] ? "true" : "false");
	srv_json_str(o, r[2] ? r[2] : r[3] ? r[3] : "");
	srv_json_raw(o, ",\"end_excl\":%s}", r[3] ? "true" : "false");
	return UPT_OK;
}

static bool is_true(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_TRUE;
}

static const char *op_of(const struct upt_json *o)
{
	const char *s = jstr(o, "operator");
	return s && strcmp(s, "AND") == 0 ? "AND" : "OR";
}

/* The configurations' shape, after the entries: [{"operator", "negate",
 * "nodes": [{"operator", "negate"}...]}...] (a configuration without an
 * operator is OR). */
static void shape(struct srv_json *o, const struct upt_json *cfg)
{
	srv_json_raw(o, "],\"configurations\":[");
	for (size_t i = 0; i < cfg->n; i++) {
		const struct upt_json *c = cfg->items[i], *nodes = upt_json_get(c, "nodes");
		srv_json_raw(o, "%s{\"operator\":\"%s\",\"negate\":%s,\"nodes\":[", i ? "," : "",
			     op_of(c), is_true(c, "negate") ? "true" : "false");
		for (size_t j = 0; j < nodes->n; j++)
			srv_json_raw(o, "%s{\"operator\":\"%s\",\"negate\":%s}", j ? "," : "",
				     op_of(nodes->items[j]),
				     is_true(nodes->items[j], "negate") ? "true" : "false");
		srv_json_raw(o, "]}");
	}
}

static int configurations(struct srv_json *o, const struct upt_json *cfg, const char *src,
			  struct nvd_pos *pos, struct upt_error *err)
{
	static const char *const cfg_keys[] = {"nodes", "operator", "negate", NULL};
	static const char *const node_keys[] = {"operator", "negate", "cpeMatch", NULL};
	char where[320];
	int rc;
	if (cfg->type != UPT_JSON_ARRAY)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: configurations: not an array",
				     src);
	for (size_t i = 0; i < cfg->n; i++) {
		const struct upt_json *c = cfg->items[i], *nodes = upt_json_get(c, "nodes");
		const char *bad;
		snprintf(where, sizeof where, "%s: configurations[%zu]", src, i);
		if (c->type != UPT_JSON_OBJECT)
			return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: not an object", where);
		if ((bad = unknown_member(c, cfg_keys)) != NULL)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: unknown member \"%.64s\"", where, bad);
		if ((rc = check_operator(c, false, where, err)) != UPT_OK)
			return rc;
		if (!nodes || nodes->type != UPT_JSON_ARRAY || !nodes->n)
			return upt_error_set(err, UPT_ERR_FIELD_MISSING,
					     "%s.nodes: missing or not a non-empty array", where);
		for (size_t j = 0; j < nodes->n; j++) {
			const struct upt_json *nd = nodes->items[j],
					      *ms = upt_json_get(nd, "cpeMatch");
			char nw[360], mw[400];
			bool neg;
			snprintf(nw, sizeof nw, "%s.nodes[%zu]", where, j);
			if (nd->type != UPT_JSON_OBJECT)
				return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: not an object",
						     nw);
			if ((bad = unknown_member(nd, node_keys)) != NULL)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "%s: unknown member \"%.64s\"", nw, bad);
			if ((rc = check_operator(nd, true, nw, err)) != UPT_OK)
				return rc;
			if (!ms || ms->type != UPT_JSON_ARRAY || !ms->n)
				return upt_error_set(
				    err, UPT_ERR_FIELD_MISSING,
				    "%s.cpeMatch: missing or not a non-empty array", nw);
			neg = is_true(nd, "negate");
			pos->cfg = i;
			pos->node = j;
			for (size_t k = 0; k < ms->n; k++) {
				snprintf(mw, sizeof mw, "%s.cpeMatch[%zu]", nw, k);
				if ((rc = cpe_match(o, ms->items[k], mw, neg, pos, err)) != UPT_OK)
					return rc;
			}
		}
	}
	return UPT_OK;
}

/* descriptions[]: the English one. */
static int summary(const struct upt_json *cve, const char *src, const char **out,
		   struct upt_error *err)
{
	const struct upt_json *d = upt_json_get(cve, "descriptions");
	*out = "";
	if (!d)
		return UPT_OK;
	if (d->type != UPT_JSON_ARRAY)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: descriptions: not an array",
				     src);
	for (size_t i = 0; i < d->n; i++) {
		const char *lang = jstr(d->items[i], "lang"), *v = jstr(d->items[i], "value");
		if (!lang || !v)
			return upt_error_set(err, UPT_ERR_FIELD_MISSING,
					     "%s: descriptions[%zu]: needs lang and value strings",
					     src, i);
		if (strcmp(lang, "en") == 0 && !**out)
			*out = v;
	}
	return UPT_OK;
}

/* metrics: the base severity of the newest CVSS version given. */
static int severity(const struct upt_json *cve, const char *src, const char **out,
		    struct upt_error *err)
{
	static const char *const kinds[] = {"cvssMetricV40", "cvssMetricV31", "cvssMetricV30",
					    "cvssMetricV2"};
	const struct upt_json *m = upt_json_get(cve, "metrics");
	*out = "";
	if (!m)
		return UPT_OK;
	if (m->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: metrics: not an object", src);
	for (size_t i = 0; i < 4; i++) {
		const struct upt_json *a = upt_json_get(m, kinds[i]), *x, *d;
		const char *s;
		if (!a)
			continue;
		if (a->type != UPT_JSON_ARRAY)
			return upt_error_set(err, UPT_ERR_FIELD_TYPE,
					     "%s: metrics.%s: not an array", src, kinds[i]);
		if (!a->n)
			continue;
		x = a->items[0];
		d = upt_json_get(x, "cvssData");
		s = i < 3 ? jstr(d, "baseSeverity") : jstr(x, "baseSeverity");
		if (!d || d->type != UPT_JSON_OBJECT || !jstr(d, "vectorString"))
			return upt_error_set(err, UPT_ERR_FIELD_MISSING,
					     "%s: metrics.%s[0].cvssData: no vectorString", src,
					     kinds[i]);
		if (s && !printable(s, 32))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: metrics.%s[0]: baseSeverity: not a short string",
					     src, kinds[i]);
		*out = s ? s : jstr(d, "vectorString");
		return UPT_OK;
	}
	return UPT_OK;
}

bool srv_nvd_document(const struct upt_json *v)
{
	return v && v->type == UPT_JSON_OBJECT && upt_json_get(v, "vulnerabilities") &&
	       !upt_json_get(v, "affected");
}

int srv_nvd_check_document(const struct upt_json *v, const char *source, struct upt_error *err)
{
	const struct upt_json *vs = upt_json_get(v, "vulnerabilities");
	const char *fmt = jstr(v, "format"), *ver = jstr(v, "version");
	if (!fmt || strcmp(fmt, "NVD_CVE") != 0 || !ver || strcmp(ver, "2.0") != 0)
		return upt_error_set(err, UPT_ERR_UNSUPPORTED,
				     "%s: format/version: not an NVD CVE JSON 2.0 document "
				     "(\"format\": \"NVD_CVE\", \"version\": \"2.0\")",
				     source);
	if (!vs || vs->type != UPT_JSON_ARRAY)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: vulnerabilities: not an array",
				     source);
	return UPT_OK;
}

const struct upt_json *srv_nvd_cve(const struct upt_json *item)
{
	const struct upt_json *c = item && item->type == UPT_JSON_OBJECT && item->n == 1
				       ? upt_json_get(item, "cve")
				       : NULL;
	return c && c->type == UPT_JSON_OBJECT ? c : NULL;
}

int srv_nvd_normalize(struct srv_json *o, const struct upt_json *item, const char *source,
		      const char **skip, size_t *platform, struct upt_error *err)
{
	const struct upt_json *cve = srv_nvd_cve(item), *cfg;
	const char *id, *mod, *status, *sum = "", *sev = "";
	char src[260];
	struct nvd_pos pos = {.platform = platform};
	int rc;
	*skip = NULL;
	if (!cve)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE,
				     "%s: not an NVD vulnerabilities[] item ({\"cve\": {...}})",
				     source);
	id = jstr(cve, "id");
	mod = jstr(cve, "lastModified");
	status = jstr(cve, "vulnStatus");
	if (!cve_id(id))
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s: cve.id: missing or not a CVE id (CVE-YYYY-NNNN)", source);
	snprintf(src, sizeof src, "%.200s (%s)", source, id);
	if (!nvd_time(mod))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: lastModified: missing or not an NVD time "
				     "(YYYY-MM-DDTHH:MM:SS[.fff])",
				     src);
	if (upt_json_get(cve, "vulnStatus") && (!status || !printable(status, 64)))
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: vulnStatus: not a short string",
				     src);
	if ((rc = summary(cve, src, &sum, err)) != UPT_OK ||
	    (rc = severity(cve, src, &sev, err)) != UPT_OK)
		return rc;
	srv_json_raw(o, "{\"id\":");
	srv_json_str(o, id);
	srv_json_raw(o, ",\"source\":\"nvd\",\"modified\":");
	srv_json_str(o, mod);
	srv_json_raw(o, ",\"withdrawn\":");
	srv_json_str(o, status && strcmp(status, "Rejected") == 0 ? mod : "");
	srv_json_raw(o, ",\"summary\":");
	srv_json_str(o, sum);
	srv_json_raw(o, ",\"severity\":");
	srv_json_str(o, sev);
	srv_json_raw(o, ",\"aliases\":[],\"affected\":[");
	cfg = upt_json_get(cve, "configurations");
	if (cfg && (rc = configurations(o, cfg, src, &pos, err)) != UPT_OK)
		return rc;
	if (cfg)
		shape(o, cfg);
	else
		srv_json_raw(o, "],\"configurations\":[");
	srv_json_raw(o, "]}");
	if (status && strcmp(status, "Rejected") == 0)
		*skip = "withdrawn";
	else if (!pos.n_vuln)
		*skip = "no_matchable_package";
	return UPT_OK;
}

bool srv_nvd_hit(const struct upt_json *af, const char *cpe, const char *version,
		 bool debian_version)
{
	const char *crit = jstr(af, "cpe"), *attr;
	const struct upt_json *se = upt_json_get(af, "start_excl"),
			      *ee = upt_json_get(af, "end_excl");
	struct srv_cpe s, t;
	struct srv_cpe_range r;
	char up[SRV_CPE_VALUE_MAX];
	const char *v;
	if (!crit || !cpe || !*cpe || srv_cpe_parse(&s, crit, &attr) ||
	    srv_cpe_parse(&t, cpe, &attr) || !srv_cpe_match(&s, &t))
		return false;
	r.start = jstr(af, "start");
	r.end = jstr(af, "end");
	r.start_excl = se && se->type == UPT_JSON_TRUE;
	r.end_excl = ee && ee->type == UPT_JSON_TRUE;
	/* the target's version: its CPE's, else the component's (the upstream
	 * part of a Debian version: no epoch, no revision) */
	if (t.a[SRV_CPE_VERSION].kind == SRV_CPE_VALUE) {
		if (srv_cpe_wild(&t.a[SRV_CPE_VERSION]))
			return false;
		v = t.a[SRV_CPE_VERSION].v;
	} else if (t.a[SRV_CPE_VERSION].kind == SRV_CPE_NA) {
		v = "";
	} else {
		const char *p = version ? version : "", *colon, *dash;
		size_t len;
		if (debian_version && (colon = strchr(p, ':')) != NULL)
			p = colon + 1;
		len = strlen(p);
		if (debian_version && (dash = strrchr(p, '-')) != NULL)
			len = (size_t)(dash - p);
		if (len >= sizeof up)
			return false;
		for (size_t i = 0; i < len; i++)
			up[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] - 'A' + 'a') : p[i];
		up[len] = '\0';
		v = up;
	}
	switch (s.a[SRV_CPE_VERSION].kind) {
	case SRV_CPE_ANY:
		if ((!r.start || !*r.start) && (!r.end || !*r.end))
			return true; /* every version */
		return *v && srv_cpe_version_in(v, &r);
	case SRV_CPE_NA:
		/* a platform named without a version ("cpe:2.3:o:linux:
		 * linux_kernel:-:...", a board "h:vendor:model:-") is there
		 * whatever version the SBOM gives it */
		if (upt_json_get(af, "vulnerable") && !is_true(af, "vulnerable"))
			return true;
		return t.a[SRV_CPE_VERSION].kind == SRV_CPE_NA;
	default:
		if (!*v)
			return false;
		return srv_cpe_value_match(&s.a[SRV_CPE_VERSION], v);
	}
}

/* A configuration's nodes and entries as normalized: entry i sits in
 * configuration cfg and node `node`; nodes are numbered across
 * configurations from base[cfg]. */
#define NVD_MAX_NODES SRV_NVD_MAX_MATCHES

static bool entry_place(const struct upt_json *e, const struct upt_json *cfgs, size_t *c,
			size_t *nd)
{
	const struct upt_json *ci = upt_json_get(e, "cfg"), *ni = upt_json_get(e, "node"), *nodes;
	if (!ci || !ni || ci->type != UPT_JSON_INT || ni->type != UPT_JSON_INT || ci->i < 0 ||
	    ni->i < 0 || (uint64_t)ci->i >= cfgs->n)
		return false;
	nodes = upt_json_get(cfgs->items[(size_t)ci->i], "nodes");
	if (!nodes || nodes->type != UPT_JSON_ARRAY || (uint64_t)ni->i >= nodes->n)
		return false;
	*c = (size_t)ci->i;
	*nd = (size_t)ni->i;
	return true;
}

bool srv_nvd_conditional(const struct upt_json *rec)
{
	const struct upt_json *cfgs = upt_json_get(rec, "configurations"),
			      *af = upt_json_get(rec, "affected");
	if (!cfgs || cfgs->type != UPT_JSON_ARRAY || !af || af->type != UPT_JSON_ARRAY)
		return false;
	for (size_t i = 0; i < cfgs->n; i++) {
		const struct upt_json *c = cfgs->items[i], *nodes = upt_json_get(c, "nodes");
		if (is_true(c, "negate") || !nodes || nodes->type != UPT_JSON_ARRAY ||
		    nodes->n != 1 || is_true(nodes->items[0], "negate") ||
		    strcmp(op_of(nodes->items[0]), "AND") == 0)
			return true;
	}
	for (size_t i = 0; i < af->n; i++)
		if (!is_true(af->items[i], "vulnerable"))
			return true;
	return false;
}

void srv_nvd_applies(const struct upt_json *rec, const bool *matched, bool *use)
{
	const struct upt_json *cfgs = upt_json_get(rec, "configurations"),
			      *af = upt_json_get(rec, "affected");
	unsigned short base[NVD_MAX_NODES + 1];
	bool any[NVD_MAX_NODES], all[NVD_MAX_NODES], holds[NVD_MAX_NODES], cfg_ok[NVD_MAX_NODES];
	size_t total = 0;
	if (!af || af->type != UPT_JSON_ARRAY)
		return;
	if (!cfgs || cfgs->type != UPT_JSON_ARRAY) { /* normalized before configurations */
		for (size_t i = 0; i < af->n; i++)
			use[i] = !upt_json_get(af->items[i], "vulnerable") ||
				 is_true(af->items[i], "vulnerable");
		return;
	}
	for (size_t i = 0; i < af->n; i++)
		use[i] = false;
	for (size_t c = 0; c < cfgs->n; c++) {
		const struct upt_json *nodes = upt_json_get(cfgs->items[c], "nodes");
		size_t n = nodes && nodes->type == UPT_JSON_ARRAY ? nodes->n : 0;
		if (c >= NVD_MAX_NODES || total + n > NVD_MAX_NODES)
			return; /* not a record this server normalized: nothing applies */
		base[c] = (unsigned short)total;
		for (size_t k = 0; k < n; k++)
			any[total + k] = false, all[total + k] = true;
		total += n;
	}
	/* each node: AND, all its entries match; OR, one does; negate inverts */
	for (size_t i = 0; i < af->n; i++) {
		size_t c, nd;
		if (!entry_place(af->items[i], cfgs, &c, &nd))
			continue;
		any[base[c] + nd] |= matched[i];
		all[base[c] + nd] &= matched[i];
	}
	/* each configuration: AND, every node holds; OR (or none), one does */
	for (size_t c = 0; c < cfgs->n; c++) {
		const struct upt_json *cf = cfgs->items[c], *nodes = upt_json_get(cf, "nodes");
		bool and_ = strcmp(op_of(cf), "AND") == 0, ok = and_;
		for (size_t k = 0; nodes && k < nodes->n; k++) {
			const struct upt_json *nd = nodes->items[k];
			bool h =
			    strcmp(op_of(nd), "AND") == 0 ? all[base[c] + k] : any[base[c] + k];
			h = h != is_true(nd, "negate");
			holds[base[c] + k] = h;
			ok = and_ ? ok && h : ok || h;
		}
		cfg_ok[c] = ok != is_true(cf, "negate");
	}
	/* affected: the vulnerable entries of holding, not negated nodes of an
	 * applying configuration */
	for (size_t i = 0; i < af->n; i++) {
		size_t c, nd;
		const struct upt_json *node;
		if (!entry_place(af->items[i], cfgs, &c, &nd) ||
		    !is_true(af->items[i], "vulnerable"))
			continue;
		node = upt_json_get(cfgs->items[c], "nodes")->items[nd];
		use[i] = cfg_ok[c] && holds[base[c] + nd] && !is_true(node, "negate");
	}
}
