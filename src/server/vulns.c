/* uptake-server: SBOMs and vulnerability handling (see vulns.h). */
#include "vulns.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/metadata.h>
#include <uptake/sbom.h>

#include "cpe.h"
#include "jsonout.h"
#include "lifecycle.h"
#include "log.h"
#include "nvd.h"
#include "versions.h"

struct work {
	unsigned char *mem;
	struct upt_arena a;
};

static int work_init(struct work *w, size_t len, struct upt_error *err)
{
	size_t cap = 32 * len + (1u << 20);
	if (!(w->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&w->a, w->mem, cap);
	return UPT_OK;
}

static const char *jstr(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : NULL;
}

static bool valid_sha256(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* ---- SBOMs --------------------------------------------------------------- */

static void hex(char *out, const uint8_t *d, size_t n)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int srv_admin_sbom_get(struct srv_store *st, const char *sha256, char **resp, size_t *len,
		       struct upt_error *err)
{
	struct srv_sbom sb;
	int rc;
	if (!valid_sha256(sha256))
		return upt_error_set(err, UPT_ERR_ARG, "sbom: %s is not a lower-case sha256",
				     sha256);
	rc = st->ops->sbom_get(st, sha256, &sb, err);
	if (rc == UPT_OK) {
		*resp = (char *)sb.data;
		*len = sb.len;
	}
	return rc;
}

/* A parsed SBOM, loaded once per matching run. */
struct sbom_entry {
	char sha256[65];
	bool loaded;
	struct upt_sbom s;
	struct work w;
};

static int sbom_load(struct srv_store *st, struct sbom_entry *e, struct upt_error *err)
{
	struct srv_sbom sb;
	int rc;
	if (e->loaded)
		return UPT_OK;
	rc = st->ops->sbom_get(st, e->sha256, &sb, err);
	if (rc == UPT_OK)
		rc = work_init(&e->w, sb.len, err);
	if (rc == UPT_OK)
		rc = upt_sbom_parse(&e->s, &e->w.a, sb.data, sb.len, err);
	free(sb.data);
	e->loaded = rc == UPT_OK;
	return rc;
}

int srv_admin_sbom_components(struct srv_store *st, const char *sha256, char **resp,
			      struct upt_error *err)
{
	struct sbom_entry e = {0};
	struct srv_json o = {0};
	char fmt[24];
	int rc;
	if (!valid_sha256(sha256))
		return upt_error_set(err, UPT_ERR_ARG, "sbom: %s is not a lower-case sha256",
				     sha256);
	memcpy(e.sha256, sha256, 65);
	rc = sbom_load(st, &e, err);
	if (rc == UPT_OK) {
		upt_sbom_format_name(&e.s, fmt, sizeof fmt);
		srv_json_raw(&o, "{\"sha256\":\"%s\",\"format\":\"%s\",\"created\":", sha256, fmt);
		srv_json_str(&o, e.s.created);
		srv_json_raw(&o, ",\"components\":[");
		for (size_t i = 0; i < e.s.n_components; i++) {
			const struct upt_sbom_component *c = &e.s.components[i];
			srv_json_raw(&o, "%s{\"name\":", i ? "," : "");
			srv_json_str(&o, c->name);
			srv_json_raw(&o, ",\"version\":");
			srv_json_str(&o, c->version);
			srv_json_raw(&o, ",\"purl\":");
			srv_json_str(&o, c->purl);
			srv_json_raw(&o, ",\"cpe\":");
			srv_json_str(&o, c->cpe);
			srv_json_raw(&o, "}");
		}
		srv_json_raw(&o, "]}\n");
		rc = srv_json_finish(&o, resp, err);
	}
	free(e.w.mem);
	return rc;
}

/* ---- OSV records ---------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SS" with optional fraction and "Z" or an offset. */
static bool rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	if (!s)
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return false;
	s += i;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (*s == 'Z')
		return s[1] == '\0';
	return (*s == '+' || *s == '-') && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	       s[2] <= '9' && s[3] == ':' && s[4] >= '0' && s[4] <= '9' && s[5] >= '0' &&
	       s[5] <= '9' && s[6] == '\0';
}

static bool printable(const char *s, size_t max)
{
	size_t n = 0;
	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || n >= max)
			return false;
	return n > 0;
}

/* The purl type and namespace of an OSV ecosystem (NULL: not known). */
static const char *purl_base(const char *ecosystem)
{
	static const struct {
		const char *eco, *base;
	} map[] = {{"Debian", "deb/debian"},
		   {"Ubuntu", "deb/ubuntu"},
		   {"Alpine", "apk/alpine"},
		   {"npm", "npm"},
		   {"PyPI", "pypi"},
		   {"crates.io", "cargo"},
		   {"Go", "golang"},
		   {"Maven", "maven"},
		   {"RubyGems", "gem"},
		   {"NuGet", "nuget"},
		   {"Packagist", "composer"},
		   {"Hex", "hex"},
		   {"Pub", "pub"},
		   {"Red Hat", "rpm/redhat"},
		   {"AlmaLinux", "rpm/almalinux"},
		   {"Rocky Linux", "rpm/rocky-linux"},
		   {"SUSE", "rpm/suse"},
		   {"openSUSE", "rpm/opensuse"},
		   {"Mageia", "rpm/mageia"}};
	size_t n = strcspn(ecosystem, ":");
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strlen(map[i].eco) == n && strncmp(map[i].eco, ecosystem, n) == 0)
			return map[i].base;
	return NULL;
}

/* "pkg:type/namespace/name@version?q#s" -> key "type/namespace/name",
 * version, the `upstream` qualifier's name (Debian source package), and
 * for an rpm purl the `epoch` qualifier put before the version
 * ("epoch:version-release", as RPM ecosystems' records write it). */
struct purl {
	char key[512], version[256], upstream[256];
};

static bool purl_parse(struct purl *p, const char *s)
{
	const char *end, *at, *q, *epoch = NULL;
	size_t n, epoch_len = 0;
	memset(p, 0, sizeof *p);
	if (!s || strncmp(s, "pkg:", 4) != 0)
		return false;
	s += 4;
	while (*s == '/')
		s++;
	end = s + strcspn(s, "?#");
	at = memchr(s, '@', (size_t)(end - s));
	n = (size_t)((at ? at : end) - s);
	if (!n || n >= sizeof p->key || !memchr(s, '/', n))
		return false;
	memcpy(p->key, s, n);
	for (char *c = p->key; *c && *c != '/'; c++) /* the type is case-insensitive */
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (at) {
		size_t vn = (size_t)(end - at - 1);
		if (vn >= sizeof p->version)
			return false;
		memcpy(p->version, at + 1, vn);
	}
	for (q = *end == '?' ? end + 1 : NULL; q && *q && *q != '#';) {
		size_t len = strcspn(q, "&#");
		if (len > 9 && strncmp(q, "upstream=", 9) == 0) {
			size_t un = strcspn(q + 9, "@&#");
			if (un < sizeof p->upstream)
				memcpy(p->upstream, q + 9, un);
		}
		if (len > 6 && strncmp(q, "epoch=", 6) == 0)
			epoch = q + 6, epoch_len = len - 6;
		q += len;
		if (*q == '&')
			q++;
	}
	if (epoch && p->version[0] && strncmp(p->key, "rpm/", 4) == 0 && epoch_len <= 10 &&
	    strspn(epoch, "0123456789") == epoch_len && !strchr(p->version, ':')) {
		size_t vn = strlen(p->version);
		if (epoch_len + 1 + vn >= sizeof p->version)
			return false;
		memmove(p->version + epoch_len + 1, p->version, vn + 1);
		memcpy(p->version, epoch, epoch_len);
		p->version[epoch_len] = ':';
	}
	return true;
}

#define SRV_OSV_MAX_EVENTS 64

static const char *const event_kinds[] = {"introduced", "fixed", "last_affected", "limit"};

static int osv_events(struct srv_json *o, const struct upt_json *ev, enum srv_vscheme sch,
		      const char *where, struct upt_error *err)
{
	if (!ev || ev->type != UPT_JSON_ARRAY || !ev->n || ev->n > SRV_OSV_MAX_EVENTS)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s.events: not an array of 1 to %d events", where,
				     SRV_OSV_MAX_EVENTS);
	srv_json_raw(o, ",\"events\":[");
	for (size_t k = 0; k < ev->n; k++) {
		const struct upt_json *e = ev->items[k];
		const char *kind = NULL, *v;
		for (size_t j = 0; e->type == UPT_JSON_OBJECT && e->n == 1 && j < 4; j++)
			if (upt_json_get(e, event_kinds[j]))
				kind = event_kinds[j];
		if (!kind || !(v = jstr(e, kind)))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s.events[%zu]: not one of introduced, fixed, "
					     "last_affected, limit with a string",
					     where, k);
		if (!(strcmp(kind, "introduced") == 0 && strcmp(v, "0") == 0) &&
		    !(strcmp(kind, "limit") == 0 && strcmp(v, "*") == 0) &&
		    !srv_version_valid(sch, v))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s.events[%zu].%s: \"%.64s\" is not a %s version",
					     where, k, kind, v, srv_vscheme_name(sch));
		srv_json_raw(o, "%s{\"%s\":", k ? "," : "", kind);
		srv_json_str(o, v);
		srv_json_raw(o, "}");
	}
	srv_json_raw(o, "]");
	return UPT_OK;
}

/* One affected[] entry; *taken says if it has something to match. */
static int osv_affected(struct srv_json *o, const struct upt_json *a, const char *where, bool first,
			bool *taken, size_t *git, struct upt_error *err)
{
	const struct upt_json *pkg = upt_json_get(a, "package"), *ranges, *versions;
	const char *eco, *name, *purl;
	struct purl p;
	char key[512], sub[300];
	enum srv_vscheme sch;
	size_t kept = 0;
	*taken = false;
	if (a->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: not an object", where);
	if (!pkg)
		return UPT_OK; /* affected without a package: nothing to match */
	eco = jstr(pkg, "ecosystem");
	name = jstr(pkg, "name");
	purl = jstr(pkg, "purl");
	if (pkg->type != UPT_JSON_OBJECT || !eco || !name || !printable(eco, 128) ||
	    !printable(name, 256))
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s.package: needs ecosystem and name strings", where);
	if (upt_json_get(pkg, "purl") && (!purl || !purl_parse(&p, purl) || p.version[0]))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s.package.purl: not a purl without a version", where);
	if (purl)
		snprintf(key, sizeof key, "%s", p.key);
	else if (purl_base(eco))
		snprintf(key, sizeof key, "%s/%s", purl_base(eco), name);
	else
		return UPT_OK; /* an ecosystem uptake cannot name: skipped */
	ranges = upt_json_get(a, "ranges");
	versions = upt_json_get(a, "versions");
	if ((ranges && ranges->type != UPT_JSON_ARRAY) ||
	    (versions && versions->type != UPT_JSON_ARRAY))
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: ranges and versions are arrays",
				     where);
	sch = srv_vscheme_of(eco, NULL);
	srv_json_raw(o, "%s{\"key\":", first ? "" : ",");
	srv_json_str(o, key);
	srv_json_raw(o, ",\"ecosystem\":");
	srv_json_str(o, eco);
	srv_json_raw(o, ",\"name\":");
	srv_json_str(o, name);
	srv_json_raw(o, ",\"ranges\":[");
	for (size_t i = 0; ranges && i < ranges->n; i++) {
		const struct upt_json *r = ranges->items[i];
		const char *type = jstr(r, "type");
		int rc;
		snprintf(sub, sizeof sub, "%s.ranges[%zu]", where, i);
		if (!type)
			return upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s.type: missing", sub);
		if (strcmp(type, "GIT") == 0) {
			(*git)++;
			continue;
		}
		if (strcmp(type, "SEMVER") != 0 && strcmp(type, "ECOSYSTEM") != 0)
			return upt_error_set(err, UPT_ERR_UNSUPPORTED,
					     "%s.type: \"%.32s\" is not SEMVER, ECOSYSTEM or GIT",
					     sub, type);
		srv_json_raw(o, "%s{\"scheme\":\"%s\"", kept ? "," : "",
			     srv_vscheme_name(srv_vscheme_of(eco, type)));
		if ((rc = osv_events(o, upt_json_get(r, "events"), srv_vscheme_of(eco, type), sub,
				     err)) != UPT_OK)
			return rc;
		srv_json_raw(o, "}");
		kept++;
	}
	srv_json_raw(o, "],\"versions\":[");
	for (size_t i = 0; versions && i < versions->n; i++) {
		if (versions->items[i]->type != UPT_JSON_STRING ||
		    !printable(versions->items[i]->str, 200))
			return upt_error_set(err, UPT_ERR_FIELD_TYPE,
					     "%s.versions[%zu]: not a version", where, i);
		srv_json_raw(o, "%s", i ? "," : "");
		srv_json_str(o, versions->items[i]->str);
	}
	srv_json_raw(o, "],\"scheme\":\"%s\"}", srv_vscheme_name(sch));
	*taken = kept || (versions && versions->n);
	return UPT_OK;
}

/* A severity to show: database_specific.severity (GHSA, OSV's own
 * advisories), else the first CVSS vector. */
static const char *osv_severity(const struct upt_json *rec)
{
	const struct upt_json *ds = upt_json_get(rec, "database_specific");
	const struct upt_json *sv = upt_json_get(rec, "severity");
	if (jstr(ds, "severity") && printable(jstr(ds, "severity"), 64))
		return jstr(ds, "severity");
	if (sv && sv->type == UPT_JSON_ARRAY && sv->n && jstr(sv->items[0], "score") &&
	    printable(jstr(sv->items[0], "score"), 200))
		return jstr(sv->items[0], "score");
	return "";
}

int srv_osv_normalize(struct srv_json *o, const struct upt_json *rec, const char *source,
		      const char **skip, size_t *git_ranges, struct upt_error *err)
{
	const char *id = jstr(rec, "id"), *mod = jstr(rec, "modified");
	const struct upt_json *al = upt_json_get(rec, "aliases"),
			      *af = upt_json_get(rec, "affected");
	const char *wd = jstr(rec, "withdrawn");
	char where[200];
	size_t taken = 0;
	int rc = UPT_OK;
	*skip = NULL;
	if (rec->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: not an OSV record (an object)",
				     source);
	if (!id || !printable(id, 127) || strchr(id, '/'))
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "%s: id: missing or not a short printable string", source);
	if (!rfc3339(mod))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s (%s): modified: missing or not an RFC 3339 time", source,
				     id);
	if (upt_json_get(rec, "withdrawn") && !rfc3339(wd))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s (%s): withdrawn: not an RFC 3339 time", source, id);
	if (al && al->type != UPT_JSON_ARRAY)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s (%s): aliases: not an array",
				     source, id);
	if (af && af->type != UPT_JSON_ARRAY)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s (%s): affected: not an array",
				     source, id);
	if (upt_json_get(rec, "summary") && !jstr(rec, "summary"))
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s (%s): summary: not a string",
				     source, id);
	srv_json_raw(o, "{\"id\":");
	srv_json_str(o, id);
	srv_json_raw(o, ",\"modified\":");
	srv_json_str(o, mod);
	srv_json_raw(o, ",\"withdrawn\":");
	srv_json_str(o, wd ? wd : "");
	srv_json_raw(o, ",\"summary\":");
	srv_json_str(o, jstr(rec, "summary") ? jstr(rec, "summary") : "");
	srv_json_raw(o, ",\"severity\":");
	srv_json_str(o, osv_severity(rec));
	srv_json_raw(o, ",\"aliases\":[");
	for (size_t i = 0; al && i < al->n; i++) {
		if (al->items[i]->type != UPT_JSON_STRING || !printable(al->items[i]->str, 127))
			return upt_error_set(err, UPT_ERR_FIELD_TYPE,
					     "%s (%s): aliases[%zu]: not an id", source, id, i);
		srv_json_raw(o, "%s", i ? "," : "");
		srv_json_str(o, al->items[i]->str);
	}
	srv_json_raw(o, "],\"affected\":[");
	for (size_t i = 0; rc == UPT_OK && af && i < af->n; i++) {
		bool t;
		snprintf(where, sizeof where, "%s (%s): affected[%zu]", source, id, i);
		rc = osv_affected(o, af->items[i], where, taken == 0, &t, git_ranges, err);
		taken += t;
	}
	srv_json_raw(o, "]}");
	if (rc == UPT_OK && wd)
		*skip = "withdrawn";
	else if (rc == UPT_OK && !taken)
		*skip = "no_matchable_package";
	return rc;
}

int srv_admin_vuln_exploited(struct srv_store *st, const char *id, const uint8_t *body, size_t len,
			     char **resp, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	const struct upt_json *t;
	struct srv_json o = {0};
	int rc = work_init(&w, len, err);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	t = rc == UPT_OK ? upt_json_get(v, "aware_at") : NULL;
	if (rc == UPT_OK &&
	    (v->type != UPT_JSON_OBJECT || v->n != 1 || !t || t->type != UPT_JSON_INT || t->i <= 0))
		rc =
		    upt_error_set(err, UPT_ERR_FIELD_VALUE,
				  "exploited: the body is {\"aware_at\": seconds since the epoch}");
	if (rc == UPT_OK)
		rc = st->ops->vuln_mark(st, id, SRV_VULN_EXPLOITED, t->i, err);
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"id\":");
		srv_json_str(&o, id);
		srv_json_raw(&o, ",\"exploited_at\":%lld}\n", (long long)t->i);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_WARN, "vulnerability %s: actively exploited (aware at %lld)", id,
			(long long)t->i);
	}
	free(w.mem);
	return rc;
}

/* ---- matching ------------------------------------------------------------ */

/* Whether `ver` falls in one normalized range, by OSV's evaluation: the
 * events sorted by version ("0" lowest), then in turn: introduced at or
 * below sets, fixed and limit at or below clear, last_affected below
 * clears. */
static bool in_range(const struct upt_json *r, const char *ver)
{
	const struct upt_json *ev = upt_json_get(r, "events"), *e[SRV_OSV_MAX_EVENTS];
	enum srv_vscheme s = srv_vscheme_named(jstr(r, "scheme"));
	bool affected = false;
	size_t n;
	if (!srv_version_valid(s, ver) || !ev || ev->type != UPT_JSON_ARRAY ||
	    ev->n > SRV_OSV_MAX_EVENTS)
		return false;
	n = ev->n;
	for (size_t i = 0; i < n; i++) {
		/* insertion sort; "0" and "*" sort first and last */
		const struct upt_json *x = ev->items[i]->items[0];
		size_t j = i;
		while (j > 0) {
			const struct upt_json *y = e[j - 1];
			int c = strcmp(x->str, "0") == 0   ? -1
				: strcmp(y->str, "0") == 0 ? 1
				: strcmp(x->str, "*") == 0 ? 1
				: strcmp(y->str, "*") == 0 ? -1
							   : srv_version_cmp(s, x->str, y->str);
			if (c >= 0)
				break;
			e[j] = y;
			j--;
		}
		e[j] = x;
	}
	for (size_t i = 0; i < n; i++) {
		const char *k = e[i]->key, *x = e[i]->str;
		if (strcmp(k, "introduced") == 0) {
			if (strcmp(x, "0") == 0 || srv_version_cmp(s, ver, x) >= 0)
				affected = true;
		} else if (strcmp(k, "fixed") == 0 || strcmp(k, "limit") == 0) {
			if (strcmp(x, "*") != 0 && srv_version_cmp(s, ver, x) >= 0)
				affected = false;
		} else if (strcmp(k, "last_affected") == 0) {
			if (srv_version_cmp(s, ver, x) > 0)
				affected = false;
		}
	}
	return affected;
}

/* Whether a component is affected by one normalized affected[] entry. */
static bool component_hit(const struct upt_json *af, const struct upt_sbom_component *c)
{
	const char *key = jstr(af, "key");
	const struct upt_json *vs = upt_json_get(af, "versions"), *rs = upt_json_get(af, "ranges");
	struct purl p;
	char alt[512];
	const char *ver;
	if (jstr(af, "cpe")) /* an NVD record: by CPE */
		return srv_nvd_hit(af, c->cpe, c->version,
				   purl_parse(&p, c->purl) && strncmp(p.key, "deb/", 4) == 0);
	if (!key || !purl_parse(&p, c->purl))
		return false;
	alt[0] = '\0';
	if (p.upstream[0] && strncmp(p.key, "deb/", 4) == 0) {
		const char *slash = strrchr(p.key, '/');
		snprintf(alt, sizeof alt, "%.*s/%s", (int)(slash - p.key), p.key, p.upstream);
	}
	if (strcmp(key, p.key) != 0 && strcmp(key, alt) != 0)
		return false;
	ver = p.version[0] ? p.version : c->version;
	for (size_t i = 0; vs && i < vs->n; i++)
		if (strcmp(vs->items[i]->str, ver) == 0)
			return true;
	for (size_t i = 0; rs && i < rs->n; i++)
		if (in_range(rs->items[i], ver))
			return true;
	return false;
}

struct vexset {
	struct srv_vex *v;
	size_t n;
};

struct vrec {
	const struct srv_vuln *v;
	struct upt_json *rec;
	/* per published target (index into pub): components hit, or 0 */
	size_t *hits;
	/* per published target: the VEX statement that clears it, or NULL */
	const struct srv_vex **vex;
	/* per published target: its matching row's component indexes, or NULL */
	const char **row;
	size_t devices, in_support;
	const struct srv_published *fix;
};

struct match {
	struct srv_published *pub;
	size_t npub;
	struct sbom_entry **sb; /* per published target, NULL without an SBOM */
	struct sbom_entry *sboms;
	size_t nsboms;
	struct srv_vuln *vulns;
	size_t nvulns;
	struct vrec *vr;
	struct work w;
	struct vexset vex;
	struct srv_vmatch *rows; /* sorted by record, SBOM */
	size_t nrows;
};

static void match_free(struct match *m)
{
	srv_vmatches_free(m->rows, m->nrows);
	free(m->vex.v);
	for (size_t i = 0; m->vr && i < m->nvulns; i++) {
		free(m->vr[i].hits);
		free(m->vr[i].vex);
		free(m->vr[i].row);
	}
	for (size_t i = 0; i < m->nsboms; i++)
		free(m->sboms[i].w.mem);
	free(m->vr);
	free(m->sboms);
	free(m->sb);
	free(m->pub);
	srv_vulns_free(m->vulns, m->nvulns);
	free(m->w.mem);
}

/* The VEX statements known, and the one (not affected or fixed) about a
 * record (by its id or an alias) and a product (a target's name or a
 * component's purl). */

static const struct srv_vex *vex_find(const struct vexset *vs, const struct upt_json *rec,
				      const char *product)
{
	const struct upt_json *al = upt_json_get(rec, "aliases");
	const char *id = jstr(rec, "id");
	for (size_t i = 0; vs && product && *product && i < vs->n; i++) {
		const struct srv_vex *x = &vs->v[i];
		bool named = id && strcmp(x->vuln, id) == 0;
		for (size_t k = 0; !named && al && k < al->n; k++)
			named = strcmp(x->vuln, al->items[k]->str) == 0;
		if (named && strcmp(x->product, product) == 0)
			return x;
	}
	return NULL;
}

struct sbom_index;
static bool record_marks(const struct upt_json *rec, const struct upt_sbom *s,
			 const struct sbom_index *ix, bool *mark);

#define SRV_HITS_NOMEM SIZE_MAX

/* Which components of an SBOM a record hits (count), listing them in `o`
 * when given; components a VEX statement covers by purl are not hit.
 * SRV_HITS_NOMEM when out of memory. */
static size_t sbom_hits_vex(const struct upt_json *rec, const struct upt_sbom *s,
			    const struct vexset *vs, struct srv_json *o)
{
	bool *mark = calloc(s->n_components + 1, sizeof *mark);
	size_t n = 0;
	if (!mark || !record_marks(rec, s, NULL, mark)) {
		free(mark);
		if (o)
			o->rc = UPT_ERR_NOMEM; /* srv_json_finish fails with it */
		return SRV_HITS_NOMEM;
	}
	for (size_t c = 0; c < s->n_components; c++) {
		if (!mark[c] || vex_find(vs, rec, s->components[c].purl))
			continue;
		if (o) {
			srv_json_raw(o, "%s{\"name\":", n ? "," : "");
			srv_json_str(o, s->components[c].name);
			srv_json_raw(o, ",\"version\":");
			srv_json_str(o, s->components[c].version);
			srv_json_raw(o, ",\"purl\":");
			srv_json_str(o, s->components[c].purl);
			srv_json_raw(o, "}");
		}
		n++;
	}
	free(mark);
	return n;
}

static size_t sbom_hits(const struct upt_json *rec, const struct upt_sbom *s, struct srv_json *o)
{
	return sbom_hits_vex(rec, s, NULL, o);
}

/* ---- matching rows, kept current incrementally ---------------------------
 * A row says which components of one stored SBOM one record hits (before
 * VEX, which is applied when rows are read). A new record (import) is
 * matched against every stored SBOM, a new SBOM against every record, in
 * the transaction that stores it; a signed report or a VEX document
 * changes no row (devices and VEX are joined when a report is read).
 * srv_admin_vuln_rematch recomputes all rows from scratch. */

/* An SBOM's components by the keys matching looks them up with: the purl
 * key (and a Debian binary package's source key) and "cpe:" with the CPE's
 * product ("cpe:*" when it has none). Only candidates are then checked
 * (as component_hit does, with each component's purl parsed once here), so
 * the result equals checking every component. */
struct comp_key {
	char *key;
	uint64_t h; /* key_hash(key) */
	size_t idx;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A component's purl as component_hit reads it: its key, the Debian
 * source package's key ("" when none) and the version matched; key NULL
 * when the purl does not parse. */
struct comp_purl {
	char *key, *alt, *ver;
};

struct sbom_index {
	const struct upt_sbom *s;
	struct comp_key *k; /* sorted by key */
	size_t n;
	/* open addressing over the distinct keys: 1 + the first index in k of
	 * each, 0 for a free slot; cap a power of two above 2 n */
	size_t *ht, cap;
	struct comp_purl *p; /* per component */
	/* hit_indexes' scratch: the components marked, and their list */
	bool *mark;
	size_t *list, nlist;
};

static int key_cmp(const void *a, const void *b)
{
	const struct comp_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void index_free(struct sbom_index *ix)
{
	for (size_t i = 0; ix->k && i < ix->n; i++)
		free(ix->k[i].key);
	for (size_t i = 0; ix->p && i < ix->s->n_components; i++) {
		free(ix->p[i].key);
		free(ix->p[i].alt);
		free(ix->p[i].ver);
	}
	free(ix->k);
	free(ix->ht);
	free(ix->p);
	free(ix->mark);
	free(ix->list);
	memset(ix, 0, sizeof *ix);
}

static int index_add(struct sbom_index *ix, const char *a, const char *b, size_t idx)
{
	size_t la = strlen(a), lb = strlen(b);
	char *k = malloc(la + lb + 1);
	if (!k)
		return UPT_ERR_NOMEM;
	memcpy(k, a, la);
	memcpy(k + la, b, lb + 1);
	ix->k[ix->n].key = k;
	ix->k[ix->n].h = key_hash(k);
	ix->k[ix->n++].idx = idx;
	return UPT_OK;
}

static int index_build(struct sbom_index *ix, const struct upt_sbom *s, struct upt_error *err)
{
	int rc = UPT_OK;
	size_t nc = s->n_components;
	memset(ix, 0, sizeof *ix);
	ix->s = s;
	if (!(ix->k = calloc(3 * nc + 1, sizeof *ix->k)) ||
	    !(ix->p = calloc(nc + 1, sizeof *ix->p)) ||
	    !(ix->mark = calloc(nc + 1, sizeof *ix->mark)) ||
	    !(ix->list = calloc(nc + 1, sizeof *ix->list))) {
		index_free(ix);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	for (size_t c = 0; rc == UPT_OK && c < nc; c++) {
		const struct upt_sbom_component *x = &s->components[c];
		struct comp_purl *cp = &ix->p[c];
		struct purl p;
		struct srv_cpe cpe;
		const char *attr;
		if (purl_parse(&p, x->purl)) {
			char alt[512] = "";
			rc = index_add(ix, p.key, "", c);
			if (rc == UPT_OK && p.upstream[0] && strncmp(p.key, "deb/", 4) == 0) {
				const char *slash = strrchr(p.key, '/');
				snprintf(alt, sizeof alt, "%.*s/%s", (int)(slash - p.key), p.key,
					 p.upstream);
				rc = index_add(ix, alt, "", c);
			}
			if (rc == UPT_OK &&
			    (!(cp->key = strdup(p.key)) || !(cp->alt = strdup(alt)) ||
			     !(cp->ver = strdup(p.version[0] ? p.version : x->version))))
				rc = UPT_ERR_NOMEM;
		}
		if (rc == UPT_OK && x->cpe[0] && !srv_cpe_parse(&cpe, x->cpe, &attr))
			rc = index_add(ix, "cpe:",
				       cpe.a[SRV_CPE_PRODUCT].kind == SRV_CPE_VALUE &&
					       !srv_cpe_wild(&cpe.a[SRV_CPE_PRODUCT])
					   ? cpe.a[SRV_CPE_PRODUCT].v
					   : "*",
				       c);
	}
	if (rc != UPT_OK) {
		index_free(ix);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	if (ix->n)
		qsort(ix->k, ix->n, sizeof *ix->k, key_cmp);
	for (ix->cap = 4; ix->cap < 2 * ix->n + 1; ix->cap *= 2)
		;
	if (!(ix->ht = calloc(ix->cap, sizeof *ix->ht))) {
		index_free(ix);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < ix->n; i++) {
		size_t at = (size_t)ix->k[i].h & (ix->cap - 1);
		if (i && strcmp(ix->k[i].key, ix->k[i - 1].key) == 0)
			continue;
		while (ix->ht[at])
			at = (at + 1) & (ix->cap - 1);
		ix->ht[at] = i + 1;
	}
	return UPT_OK;
}

/* The first index in ix->k of `key` (hash h), or ix->n when absent. */
static size_t index_find(const struct sbom_index *ix, const char *key, uint64_t h)
{
	for (size_t at = (size_t)h & (ix->cap - 1); ix->ht[at]; at = (at + 1) & (ix->cap - 1)) {
		const struct comp_key *k = &ix->k[ix->ht[at] - 1];
		if (k->h == h && strcmp(k->key, key) == 0)
			return ix->ht[at] - 1;
	}
	return ix->n;
}

/* Mark the components filed under `key` that the entry hits; without
 * `mark`, only whether one is (*found). */
static void index_hits(const struct sbom_index *ix, const char *key, const struct upt_json *af,
		       bool *mark, bool *found)
{
	for (size_t lo = index_find(ix, key, key_hash(key));
	     lo < ix->n && strcmp(ix->k[lo].key, key) == 0; lo++) {
		size_t c = ix->k[lo].idx;
		if (mark && mark[c])
			continue;
		if (component_hit(af, &ix->s->components[c])) {
			*found = true;
			if (!mark)
				return;
			mark[c] = true;
		}
	}
}

/* The components one affected[] entry hits: marked, or (without `mark`)
 * whether there is one. Candidates come from the index when there is
 * one, else every component is checked. */
static bool entry_hits(const struct upt_json *e, const struct upt_sbom *s,
		       const struct sbom_index *ix, bool *mark)
{
	const char *crit = jstr(e, "cpe"), *key = jstr(e, "key"), *attr;
	struct srv_cpe c;
	char k[SRV_CPE_VALUE_MAX + 8];
	bool found = false;
	if (ix && crit && !srv_cpe_parse(&c, crit, &attr) &&
	    c.a[SRV_CPE_PRODUCT].kind == SRV_CPE_VALUE && !srv_cpe_wild(&c.a[SRV_CPE_PRODUCT])) {
		snprintf(k, sizeof k, "cpe:%s", c.a[SRV_CPE_PRODUCT].v);
		index_hits(ix, k, e, mark, &found);
		if (mark || !found)
			index_hits(ix, "cpe:*", e, mark, &found);
	} else if (ix && !crit && key) {
		index_hits(ix, key, e, mark, &found);
	} else if (crit || key) { /* no index, or a criteria whose product is open */
		for (size_t i = 0; i < s->n_components && (mark || !found); i++) {
			if (mark && mark[i])
				continue;
			if (component_hit(e, &s->components[i])) {
				found = true;
				if (mark)
					mark[i] = true;
			}
		}
	}
	return found;
}

/* The components of SBOM `s` that `rec` hits, marked (`ix`, when given,
 * is the SBOM's index). An NVD record with conditions is evaluated against
 * the whole SBOM first: which entries match anything, then which
 * configurations apply (srv_nvd_applies). False when out of memory. */
static bool record_marks(const struct upt_json *rec, const struct upt_sbom *s,
			 const struct sbom_index *ix, bool *mark)
{
	const struct upt_json *af = upt_json_get(rec, "affected");
	bool *matched = NULL, *use = NULL;
	size_t n = af && af->type == UPT_JSON_ARRAY ? af->n : 0;
	if (n && srv_nvd_conditional(rec)) {
		if (!(matched = calloc(n, sizeof *matched)) || !(use = calloc(n, sizeof *use))) {
			free(matched);
			return false;
		}
		for (size_t a = 0; a < n; a++)
			matched[a] = entry_hits(af->items[a], s, ix, NULL);
		srv_nvd_applies(rec, matched, use);
	}
	for (size_t a = 0; a < n; a++)
		if (!use || use[a])
			entry_hits(af->items[a], s, ix, mark);
	free(matched);
	free(use);
	return true;
}

/* A record's affected[] entries as matching uses them, read once per
 * record rather than once per SBOM. */
struct rec_entry {
	const struct upt_json *af, *versions, *ranges;
	const char *key;                     /* a purl key (OSV), or NULL */
	bool cpe, cpe_open;                  /* an NVD criteria; one whose product is open */
	char cpe_key[SRV_CPE_VALUE_MAX + 8]; /* "cpe:PRODUCT" */
	uint64_t key_h, cpe_h;               /* their key_hash */
};

struct rec_plan {
	const struct upt_json *rec;
	struct rec_entry *e;
	size_t n;
};

static int plan_build(struct rec_plan *pl, const struct upt_json *rec, struct upt_error *err)
{
	const struct upt_json *af = upt_json_get(rec, "affected");
	memset(pl, 0, sizeof *pl);
	pl->rec = rec;
	if (!af || !af->n)
		return UPT_OK;
	if (!(pl->e = calloc(af->n, sizeof *pl->e)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t a = 0; a < af->n; a++) {
		struct rec_entry *x = &pl->e[pl->n++];
		const char *crit = jstr(af->items[a], "cpe"), *attr;
		struct srv_cpe c;
		x->af = af->items[a];
		x->key = jstr(x->af, "key");
		x->versions = upt_json_get(x->af, "versions");
		x->ranges = upt_json_get(x->af, "ranges");
		x->key_h = x->key ? key_hash(x->key) : 0;
		x->cpe = crit != NULL;
		if (crit && !srv_cpe_parse(&c, crit, &attr) &&
		    c.a[SRV_CPE_PRODUCT].kind == SRV_CPE_VALUE &&
		    !srv_cpe_wild(&c.a[SRV_CPE_PRODUCT]))
			snprintf(x->cpe_key, sizeof x->cpe_key, "cpe:%s", c.a[SRV_CPE_PRODUCT].v);
		x->cpe_h = key_hash(x->cpe_key);
		if (!x->cpe_key[0])
			x->cpe_open = x->cpe;
	}
	return UPT_OK;
}

/* Whether component c of the index is hit by entry x: component_hit, with
 * the purl parsed once. */
static bool entry_hit(const struct rec_entry *x, const struct sbom_index *ix, size_t c)
{
	const struct comp_purl *p = &ix->p[c];
	if (x->cpe)
		return component_hit(x->af, &ix->s->components[c]);
	if (!x->key || !p->key || (strcmp(x->key, p->key) != 0 && strcmp(x->key, p->alt) != 0))
		return false;
	for (size_t i = 0; x->versions && i < x->versions->n; i++)
		if (strcmp(x->versions->items[i]->str, p->ver) == 0)
			return true;
	for (size_t i = 0; x->ranges && i < x->ranges->n; i++)
		if (in_range(x->ranges->items[i], p->ver))
			return true;
	return false;
}

static void mark_hit(struct sbom_index *ix, const struct rec_entry *x, size_t c)
{
	if (!ix->mark[c] && entry_hit(x, ix, c)) {
		ix->mark[c] = true;
		ix->list[ix->nlist++] = c;
	}
}

/* Mark the components filed under `key` (hash h) that the entry hits. */
static void index_mark(struct sbom_index *ix, const char *key, uint64_t h,
		       const struct rec_entry *x)
{
	for (size_t i = index_find(ix, key, h);
	     i < ix->n && ix->k[i].h == h && strcmp(ix->k[i].key, key) == 0; i++)
		mark_hit(ix, x, ix->k[i].idx);
}

static int idx_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Mark what entry x hits. */
static void entry_mark(struct sbom_index *ix, const struct rec_entry *x, uint64_t cpe_any_h)
{
	if (x->cpe_open) { /* a criteria whose product is open: every component */
		for (size_t i = 0; i < ix->s->n_components; i++)
			mark_hit(ix, x, i);
	} else if (x->cpe) {
		index_mark(ix, x->cpe_key, x->cpe_h, x);
		index_mark(ix, "cpe:*", cpe_any_h, x);
	} else if (x->key) {
		index_mark(ix, x->key, x->key_h, x);
	}
}

static void marks_clear(struct sbom_index *ix)
{
	for (size_t i = 0; i < ix->nlist; i++)
		ix->mark[ix->list[i]] = false;
	ix->nlist = 0;
}

/* The components of the SBOM that the record (planned as `pl`) hits,
 * as "i,j" in o; how many. An NVD record with conditions is evaluated
 * against the whole SBOM first: which entries match anything, then which
 * configurations apply (srv_nvd_applies). */
static size_t hit_indexes(const struct rec_plan *pl, struct sbom_index *ix, struct srv_json *o)
{
	const struct upt_json *rec = pl->rec;
	uint64_t cpe_any_h = key_hash("cpe:*");
	bool *matched = NULL, *use = NULL;
	size_t n;
	ix->nlist = 0;
	if (pl->n && srv_nvd_conditional(rec)) {
		if (!(matched = calloc(pl->n, sizeof *matched)) ||
		    !(use = calloc(pl->n, sizeof *use))) {
			free(matched);
			o->rc = UPT_ERR_NOMEM; /* srv_json_finish fails with it */
			return 1;
		}
		for (size_t a = 0; a < pl->n; a++) {
			entry_mark(ix, &pl->e[a], cpe_any_h);
			matched[a] = ix->nlist > 0;
			marks_clear(ix);
		}
		srv_nvd_applies(rec, matched, use);
	}
	for (size_t a = 0; a < pl->n; a++)
		if (!use || use[a])
			entry_mark(ix, &pl->e[a], cpe_any_h);
	free(matched);
	free(use);
	n = ix->nlist;
	if (n > 1)
		qsort(ix->list, n, sizeof *ix->list, idx_cmp);
	for (size_t i = 0; i < n; i++) {
		srv_json_raw(o, "%s%zu", i ? "," : "", ix->list[i]);
		ix->mark[ix->list[i]] = false;
	}

	return n;
}

/* Rows on their way to the store, written ROW_BATCH at a time (one
 * statement, or one round trip, for many rows), counted once written. */
#define ROW_BATCH 512

struct row_batch {
	struct srv_store *st;
	struct srv_vmatch *m;
	size_t n;
	size_t *rows;
};

static int batch_init(struct row_batch *b, struct srv_store *st, size_t *rows,
		      struct upt_error *err)
{
	b->st = st;
	b->n = 0;
	b->rows = rows;
	if (!(b->m = calloc(ROW_BATCH, sizeof *b->m)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	return UPT_OK;
}

static int batch_flush(struct row_batch *b, struct upt_error *err)
{
	int rc = b->n ? b->st->ops->match_put(b->st, b->m, b->n, err) : UPT_OK;
	if (rc == UPT_OK)
		*b->rows += b->n;
	for (size_t i = 0; i < b->n; i++)
		free(b->m[i].hits);
	b->n = 0;
	return rc;
}

/* The rows not written are dropped (the transaction is rolled back). */
static void batch_free(struct row_batch *b)
{
	for (size_t i = 0; b->m && i < b->n; i++)
		free(b->m[i].hits);
	free(b->m);
	memset(b, 0, sizeof *b);
}

/* Store the row of (record, SBOM) when the record hits something; each
 * (record, SBOM) pair once per batch. */
static int row_put(struct row_batch *b, const char *vuln, const char *sha,
		   const struct rec_plan *pl, struct sbom_index *ix, struct upt_error *err)
{
	struct srv_json o = {0};
	struct srv_vmatch *m = &b->m[b->n];
	int rc;
	if (!hit_indexes(pl, ix, &o)) {
		srv_json_dispose(&o);
		return UPT_OK;
	}
	if ((rc = srv_json_finish(&o, &m->hits, err)) != UPT_OK)
		return rc;
	snprintf(m->vuln, sizeof m->vuln, "%s", vuln);
	snprintf(m->sbom, sizeof m->sbom, "%s", sha);
	return ++b->n == ROW_BATCH ? batch_flush(b, err) : UPT_OK;
}

/* Every stored SBOM, parsed (one that does not parse is logged, skipped). */
struct sbomset {
	struct sbom_entry *e;
	struct sbom_index *ix;
	size_t n;
};

static void sbomset_free(struct sbomset *ss)
{
	for (size_t i = 0; ss->e && i < ss->n; i++) {
		free(ss->e[i].w.mem);
		index_free(&ss->ix[i]);
	}
	free(ss->e);
	free(ss->ix);
	memset(ss, 0, sizeof *ss);
}

static int sbomset_load(struct srv_store *st, struct sbomset *ss, struct upt_error *err)
{
	char(*h)[65] = NULL;
	size_t n = 0;
	int rc = st->ops->sbom_hashes(st, &h, &n, err);
	ss->n = 0;
	if (rc == UPT_OK &&
	    (!(ss->e = calloc(n + 1, sizeof *ss->e)) || !(ss->ix = calloc(n + 1, sizeof *ss->ix))))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		struct sbom_entry *e = &ss->e[ss->n];
		memcpy(e->sha256, h[i], 65);
		if (sbom_load(st, e, err) != UPT_OK) {
			srv_log(SRV_LOG_WARN, "sbom %s: %s", h[i], err->msg);
			upt_error_clear(err);
			free(e->w.mem);
			memset(e, 0, sizeof *e);
			continue;
		}
		ss->n++;
	}
	free(h);
	/* indexes once every entry is in place (they point at e->s) */
	for (size_t i = 0; rc == UPT_OK && i < ss->n; i++)
		rc = index_build(&ss->ix[i], &ss->e[i].s, err);
	return rc;
}

/* Parsed records (withdrawn ones are NULL) and their matching plans. */
struct recset {
	struct srv_vuln *v;
	size_t n;
	struct upt_json **rec;
	struct rec_plan *plan;
	struct work w;
};

static void recset_free(struct recset *rs)
{
	for (size_t i = 0; rs->plan && i < rs->n; i++)
		free(rs->plan[i].e);
	srv_vulns_free(rs->v, rs->n);
	free(rs->rec);
	free(rs->plan);
	free(rs->w.mem);
	memset(rs, 0, sizeof *rs);
}

static int recset_load(struct srv_store *st, struct recset *rs, struct upt_error *err)
{
	size_t total = 0;
	int rc = st->ops->vuln_list(st, &rs->v, &rs->n, err);
	for (size_t i = 0; rc == UPT_OK && i < rs->n; i++)
		total += strlen(rs->v[i].record);
	if (rc == UPT_OK && (!(rs->rec = calloc(rs->n + 1, sizeof *rs->rec)) ||
			     !(rs->plan = calloc(rs->n + 1, sizeof *rs->plan))))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK)
		rc = work_init(&rs->w, total, err);
	for (size_t i = 0; rc == UPT_OK && i < rs->n; i++)
		if (!rs->v[i].withdrawn) {
			rc = upt_json_parse(&rs->rec[i], &rs->w.a, (const uint8_t *)rs->v[i].record,
					    strlen(rs->v[i].record), NULL, err);
			if (rc == UPT_OK)
				rc = plan_build(&rs->plan[i], rs->rec[i], err);
		}
	return rc;
}

/* Inside a transaction: the rows of one record, against every SBOM. When
 * `again`, an earlier record of the batch has the same id: its rows are
 * written before this one's clear them. */
static int rows_of_record(struct row_batch *b, const struct srv_vuln *v, bool again,
			  struct sbomset *ss, struct upt_error *err)
{
	struct srv_store *st = b->st;
	struct work w = {0};
	struct upt_json *rec;
	struct rec_plan pl = {0};
	int rc = again ? batch_flush(b, err) : UPT_OK;
	if (rc == UPT_OK)
		rc = st->ops->match_clear(st, v->id, "", err);
	if (rc != UPT_OK || v->withdrawn || !ss->n)
		return rc;
	rc = work_init(&w, strlen(v->record), err);
	if (rc == UPT_OK)
		rc = upt_json_parse(&rec, &w.a, (const uint8_t *)v->record, strlen(v->record), NULL,
				    err);
	if (rc == UPT_OK)
		rc = plan_build(&pl, rec, err);
	for (size_t i = 0; rc == UPT_OK && i < ss->n; i++)
		rc = row_put(b, v->id, ss->e[i].sha256, &pl, &ss->ix[i], err);
	free(pl.e);
	free(w.mem);
	return rc;
}

/* Inside a transaction: the rows of one SBOM, against every record. */
static int rows_of_sbom(struct srv_store *st, const char *sha, struct sbom_index *ix,
			const struct recset *rs, size_t *rows, struct upt_error *err)
{
	struct row_batch b = {0};
	int rc = batch_init(&b, st, rows, err);
	if (rc == UPT_OK)
		rc = st->ops->match_clear(st, "", sha, err);
	for (size_t i = 0; rc == UPT_OK && i < rs->n; i++)
		if (rs->rec[i])
			rc = row_put(&b, rs->v[i].id, sha, &rs->plan[i], ix, err);
	if (rc == UPT_OK)
		rc = batch_flush(&b, err);
	batch_free(&b);
	return rc;
}

/* Every row from scratch, written in key order (records by id, SBOMs by
 * hash, as the store lists them), as an import writes them. */
static int rematch_all(struct srv_store *st, size_t *rows, size_t *nsboms, size_t *nrecs,
		       struct upt_error *err)
{
	struct sbomset ss = {0};
	struct recset rs = {0};
	struct row_batch b = {0};
	int rc = sbomset_load(st, &ss, err);
	if (rc == UPT_OK)
		rc = recset_load(st, &rs, err);
	if (rc == UPT_OK)
		rc = batch_init(&b, st, rows, err);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc == UPT_OK) {
		rc = st->ops->match_clear(st, "", "", err);
		for (size_t r = 0; rc == UPT_OK && r < rs.n; r++)
			for (size_t i = 0; rc == UPT_OK && rs.rec[r] && i < ss.n; i++)
				rc = row_put(&b, rs.v[r].id, ss.e[i].sha256, &rs.plan[r], &ss.ix[i],
					     err);
		if (rc == UPT_OK)
			rc = batch_flush(&b, err);
		if (rc == UPT_OK)
			rc = st->ops->commit(st, err);
		else
			st->ops->rollback(st);
	}
	*nsboms = ss.n;
	*nrecs = rs.n;
	batch_free(&b);
	sbomset_free(&ss);
	recset_free(&rs);
	return rc;
}

int srv_admin_vuln_rematch(struct srv_store *st, char **resp, struct upt_error *err)
{
	size_t rows = 0, ns = 0, nr = 0;
	struct srv_json o = {0};
	int rc = rematch_all(st, &rows, &ns, &nr, err);
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"match_rows\":%zu,\"sboms\":%zu,\"records\":%zu}\n", rows, ns,
			     nr);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO,
			"vulnerabilities: full rematch, %zu rows (%zu SBOMs, %zu "
			"records)",
			rows, ns, nr);
	}
	return rc;
}

int srv_admin_sbom_put(struct srv_store *st, const char *sha256, const uint8_t *body, size_t len,
		       int64_t now, char **resp, struct upt_error *err)
{
	struct work w = {0};
	struct upt_sbom sb;
	struct srv_sbom rec = {0};
	struct srv_json o = {0};
	struct recset rs = {0};
	struct sbom_index ix = {0};
	uint8_t d256[32], d512[64];
	size_t rows = 0;
	int rc;
	if (!valid_sha256(sha256))
		return upt_error_set(err, UPT_ERR_ARG, "sbom: %s is not a lower-case sha256",
				     sha256);
	if (EVP_Digest(body, len, d256, NULL, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(body, len, d512, NULL, EVP_sha512(), NULL) != 1)
		return upt_error_set(err, UPT_ERR_CRYPTO, "sbom: hashing failed");
	hex(rec.sha256, d256, 32);
	hex(rec.sha512, d512, 64);
	if (strcmp(rec.sha256, sha256) != 0)
		return upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				     "sbom: the body's sha256 is %s, not %s", rec.sha256, sha256);
	rc = work_init(&w, len, err);
	if (rc == UPT_OK)
		rc = upt_sbom_parse(&sb, &w.a, body, len, err);
	if (rc == UPT_OK) {
		upt_sbom_format_name(&sb, rec.format, sizeof rec.format);
		rec.created = now;
		if (!(rec.data = malloc(len ? len : 1)))
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	if (rc == UPT_OK)
		rc = recset_load(st, &rs, err);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc == UPT_OK) {
		/* the SBOM, and its matching rows against every record */
		memcpy(rec.data, body, len);
		rec.len = len;
		rc = st->ops->sbom_put(st, &rec, err);
		if (rc == UPT_OK)
			rc = index_build(&ix, &sb, err);
		if (rc == UPT_OK)
			rc = rows_of_sbom(st, rec.sha256, &ix, &rs, &rows, err);
		index_free(&ix);
		if (rc == UPT_OK)
			rc = st->ops->commit(st, err);
		else
			st->ops->rollback(st);
	}
	recset_free(&rs);
	if (rc == UPT_OK) {
		srv_json_raw(&o,
			     "{\"sha256\":\"%s\",\"sha512\":\"%s\",\"format\":\"%s\","
			     "\"length\":%zu,\"components\":%zu,\"match_rows\":%zu}\n",
			     rec.sha256, rec.sha512, rec.format, len, sb.n_components, rows);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "sbom %s: stored (%s, %zu components)", rec.sha256,
			rec.format, sb.n_components);
	}
	free(rec.data);
	free(w.mem);
	return rc;
}

static int id_cmp(const void *a, const void *b)
{
	const struct srv_vuln *const *x = a, *const *y = b;
	int c = strcmp((*x)->id, (*y)->id);
	return c ? c : *x < *y ? -1 : *x > *y;
}

/* Which records of an import repeat the id of an earlier one (*dup NULL
 * when none does). */
static int dup_ids(const struct srv_vuln *v, size_t n, bool **dup, struct upt_error *err)
{
	const struct srv_vuln **by = calloc(n + 1, sizeof *by);
	bool any = false;
	*dup = NULL;
	if (!by || !(*dup = calloc(n + 1, sizeof **dup))) {
		free(by);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		by[i] = &v[i];
	if (n > 1)
		qsort(by, n, sizeof *by, id_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(by[i]->id, by[i - 1]->id) == 0) /* by[i] comes later */
			any = (*dup)[by[i] - v] = true;
	free(by);
	if (!any) {
		free(*dup);
		*dup = NULL;
	}
	return UPT_OK;
}

int srv_admin_vuln_import(struct srv_store *st, const uint8_t *body, size_t len, int64_t now,
			  char **resp, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	const struct upt_json *recs;
	struct srv_vuln *out = NULL;
	size_t n_out = 0, cap_out = 0, git = 0, withdrawn = 0, nomatch = 0, total = 0;
	size_t platform = 0, nvd_records = 0, rows = 0;
	struct sbomset ss = {0};
	struct row_batch b = {0};
	bool *dup = NULL;
	struct srv_json o = {0};
	int rc = work_init(&w, len, err);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	recs = rc == UPT_OK ? upt_json_get(v, "records") : NULL;
	if (rc == UPT_OK && (!recs || recs->type != UPT_JSON_ARRAY || v->n != 1))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "import: the body is {\"records\": [...]} only");
	/* check and normalize every record before storing any; an item's
	 * record is one OSV record or an array of them (a file's content) */
	for (size_t i = 0; rc == UPT_OK && i < recs->n; i++) {
		const struct upt_json *it = recs->items[i], *rec = upt_json_get(it, "record");
		const char *src = jstr(it, "source");
		/* an NVD document holds its records in vulnerabilities[] */
		bool nvd = rec && srv_nvd_document(rec);
		const struct upt_json *list = nvd ? upt_json_get(rec, "vulnerabilities") : rec;
		size_t many;
		if (!rec || it->type != UPT_JSON_OBJECT || !src || it->n != 2) {
			rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
					   "records[%zu]: not {\"source\": name, \"record\": ...}",
					   i);
			break;
		}
		if (nvd && (rc = srv_nvd_check_document(rec, src, err)) != UPT_OK)
			break;
		many = list->type == UPT_JSON_ARRAY ? list->n : 1;
		for (size_t j = 0; rc == UPT_OK && j < many; j++) {
			const struct upt_json *one_rec =
			    list->type == UPT_JSON_ARRAY ? list->items[j] : list;
			const struct upt_json *core = nvd ? srv_nvd_cve(one_rec) : one_rec;
			const char *skip = NULL;
			char name[200];
			struct srv_json one = {0};
			struct srv_vuln *nv;
			if (list->type == UPT_JSON_ARRAY) /* NVD: vulnerabilities[j] */
				snprintf(name, sizeof name, "%.150s[%zu]", src, j);
			else
				snprintf(name, sizeof name, "%.150s", src);
			if (nvd)
				rc = srv_nvd_normalize(&one, one_rec, name, &skip, &platform, err);
			else
				rc = srv_osv_normalize(&one, one_rec, name, &skip, &git, err);
			nvd_records += nvd && rc == UPT_OK;
			if (rc == UPT_OK && skip && strcmp(skip, "no_matchable_package") == 0) {
				nomatch++;
				srv_json_dispose(&one);
				continue;
			}
			if (rc == UPT_OK && n_out == cap_out) {
				size_t cap = cap_out ? 2 * cap_out : 64;
				struct srv_vuln *more = realloc(out, cap * sizeof *more);
				if (!more)
					rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				else
					out = more, cap_out = cap;
			}
			if (rc != UPT_OK) {
				srv_json_dispose(&one);
				break;
			}
			nv = &out[n_out];
			memset(nv, 0, sizeof *nv);
			if ((rc = srv_json_finish(&one, &nv->record, err)) != UPT_OK)
				break;
			n_out++;
			snprintf(nv->id, sizeof nv->id, "%s", jstr(core, "id"));
			snprintf(nv->modified, sizeof nv->modified, "%s",
				 jstr(core, nvd ? "lastModified" : "modified"));
			nv->withdrawn = skip != NULL;
			nv->imported = now;
			withdrawn += skip != NULL;
			total++;
		}
	}
	if (rc == UPT_OK)
		rc = sbomset_load(st, &ss, err);
	if (rc == UPT_OK)
		rc = batch_init(&b, st, &rows, err);
	if (rc == UPT_OK)
		rc = dup_ids(out, n_out, &dup, err);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc == UPT_OK) {
		/* the records, and their matching rows against every SBOM */
		for (size_t i = 0; rc == UPT_OK && i < n_out; i++)
			rc = st->ops->vuln_put(st, &out[i], err);
		for (size_t i = 0; rc == UPT_OK && i < n_out; i++)
			rc = rows_of_record(&b, &out[i], dup && dup[i], &ss, err);
		if (rc == UPT_OK)
			rc = batch_flush(&b, err);
		if (rc == UPT_OK)
			rc = st->ops->commit(st, err);
		else
			st->ops->rollback(st);
	}
	batch_free(&b);
	free(dup);
	sbomset_free(&ss);
	if (rc == UPT_OK) {
		srv_json_raw(&o,
			     "{\"records\":%zu,\"taken\":%zu,\"skipped\":{\"withdrawn\":%zu,"
			     "\"no_matchable_package\":%zu},\"git_ranges_skipped\":%zu,"
			     "\"nvd_records\":%zu,\"nvd_platform_conditions\":%zu,"
			     "\"match_rows\":%zu}\n",
			     total + nomatch, n_out - withdrawn, withdrawn, nomatch, git,
			     nvd_records, platform, rows);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "vulnerabilities: %zu records imported, %zu withdrawn",
			n_out - withdrawn, withdrawn);
	}
	for (size_t i = 0; out && i < n_out; i++)
		free(out[i].record);
	free(out);
	free(w.mem);
	return rc;
}

static int row_cmp(const void *a, const void *b)
{
	const struct srv_vmatch *x = a, *y = b;
	int c = strcmp(x->vuln, y->vuln);
	return c ? c : strcmp(x->sbom, y->sbom);
}

static void put_vex(struct srv_json *o, const struct srv_vex *x)
{
	srv_json_raw(o, "{\"status\":");
	srv_json_str(o, x->status);
	srv_json_raw(o, ",\"justification\":");
	srv_json_str(o, x->justification);
	srv_json_raw(o, ",\"document\":");
	srv_json_str(o, x->document);
	srv_json_raw(o, ",\"product\":");
	srv_json_str(o, x->product);
	srv_json_raw(o, "}");
}

/* Load the published targets, their SBOMs, and the records. */
/* The count of a row's components that no VEX statement (by purl) about
 * the record covers; indexes outside the SBOM are ignored. */
static size_t row_hits(const char *row, const struct upt_sbom *s, const struct vexset *vs,
		       const struct upt_json *rec)
{
	size_t n = 0;
	for (const char *p = row; p && *p;) {
		char *end;
		unsigned long long i = strtoull(p, &end, 10);
		if (end == p)
			break;
		if (i < s->n_components && !vex_find(vs, rec, s->components[i].purl))
			n++;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* The matching rows; a stale marker (rows from before they were kept)
 * rematches everything first. */
static int rows_load(struct srv_store *st, struct match *m, struct upt_error *err)
{
	int rc = st->ops->match_list(st, &m->rows, &m->nrows, err);
	bool stale = false;
	for (size_t i = 0; rc == UPT_OK && i < m->nrows; i++)
		stale |= !m->rows[i].vuln[0];
	if (rc == UPT_OK && stale) {
		size_t rows = 0, ns = 0, nr = 0;
		srv_vmatches_free(m->rows, m->nrows);
		m->rows = NULL;
		m->nrows = 0;
		rc = rematch_all(st, &rows, &ns, &nr, err);
		if (rc == UPT_OK)
			rc = st->ops->match_list(st, &m->rows, &m->nrows, err);
	}
	if (rc == UPT_OK && m->nrows)
		qsort(m->rows, m->nrows, sizeof *m->rows, row_cmp);
	return rc;
}

static const struct srv_vmatch *row_find(const struct match *m, const char *vuln, const char *sbom)
{
	struct srv_vmatch key;
	snprintf(key.vuln, sizeof key.vuln, "%s", vuln);
	snprintf(key.sbom, sizeof key.sbom, "%s", sbom);
	return m->nrows ? bsearch(&key, m->rows, m->nrows, sizeof *m->rows, row_cmp) : NULL;
}

static int match_load(struct srv_store *st, struct match *m, struct upt_error *err)
{
	size_t total = 0;
	int rc = rows_load(st, m, err);
	if (rc == UPT_OK)
		rc = st->ops->published_list(st, &m->pub, &m->npub, err);
	if (rc == UPT_OK)
		rc = st->ops->vuln_list(st, &m->vulns, &m->nvulns, err);
	if (rc == UPT_OK)
		rc = st->ops->vex_list(st, &m->vex.v, &m->vex.n, err);
	if (rc == UPT_OK && (!(m->sb = calloc(m->npub + 1, sizeof *m->sb)) ||
			     !(m->sboms = calloc(m->npub + 1, sizeof *m->sboms)) ||
			     !(m->vr = calloc(m->nvulns + 1, sizeof *m->vr))))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < m->npub; i++) {
		size_t k;
		if (!m->pub[i].sbom_sha256[0])
			continue;
		for (k = 0; k < m->nsboms && strcmp(m->sboms[k].sha256, m->pub[i].sbom_sha256); k++)
			;
		if (k == m->nsboms) {
			memcpy(m->sboms[k].sha256, m->pub[i].sbom_sha256, 65);
			m->nsboms++;
			if (sbom_load(st, &m->sboms[k], err) != UPT_OK) {
				/* a signed hash without its SBOM: report, do not guess */
				srv_log(SRV_LOG_WARN, "target %s: sbom %s: %s", m->pub[i].name,
					m->pub[i].sbom_sha256, err->msg);
				upt_error_clear(err);
				continue;
			}
		}
		if (m->sboms[k].loaded)
			m->sb[i] = &m->sboms[k];
	}
	for (size_t i = 0; i < m->nvulns; i++)
		total += strlen(m->vulns[i].record);
	if (rc == UPT_OK)
		rc = work_init(&m->w, total, err);
	for (size_t i = 0; rc == UPT_OK && i < m->nvulns; i++) {
		struct vrec *r = &m->vr[i];
		r->v = &m->vulns[i];
		rc = upt_json_parse(&r->rec, &m->w.a, (const uint8_t *)r->v->record,
				    strlen(r->v->record), NULL, err);
		if (rc == UPT_OK && (!(r->hits = calloc(m->npub + 1, sizeof *r->hits)) ||
				     !(r->vex = calloc(m->npub + 1, sizeof *r->vex)) ||
				     !(r->row = calloc(m->npub + 1, sizeof *r->row))))
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (size_t p = 0; rc == UPT_OK && !r->v->withdrawn && p < m->npub; p++) {
			const struct srv_vmatch *row =
			    m->sb[p] ? row_find(m, r->v->id, m->sb[p]->sha256) : NULL;
			if (!row)
				continue;
			r->row[p] = row->hits;
			/* VEX: the image is not affected, or each hit component */
			r->vex[p] = vex_find(&m->vex, r->rec, m->pub[p].name);
			if (!r->vex[p])
				r->hits[p] = row_hits(row->hits, &m->sb[p]->s, &m->vex, r->rec);
		}
	}
	return rc;
}

int srv_admin_sbom_vulns(struct srv_store *st, const char *sha256, const char *target, char **resp,
			 struct upt_error *err)
{
	struct sbom_entry e = {0};
	struct srv_vuln *vs = NULL;
	struct vexset vex = {0};
	size_t nv = 0, k = 0;
	struct srv_json o = {0};
	struct work w = {0};
	int rc;
	if (!valid_sha256(sha256))
		return upt_error_set(err, UPT_ERR_ARG, "sbom: %s is not a lower-case sha256",
				     sha256);
	memcpy(e.sha256, sha256, 65);
	rc = sbom_load(st, &e, err);
	if (rc == UPT_OK)
		rc = st->ops->vuln_list(st, &vs, &nv, err);
	if (rc == UPT_OK)
		rc = st->ops->vex_list(st, &vex.v, &vex.n, err);
	srv_json_raw(&o, "{\"sha256\":\"%s\",\"vulnerabilities\":[", sha256);
	for (size_t i = 0; rc == UPT_OK && i < nv; i++) {
		struct upt_json *rec;
		if (vs[i].withdrawn)
			continue;
		rc = work_init(&w, strlen(vs[i].record), err);
		if (rc == UPT_OK)
			rc = upt_json_parse(&rec, &w.a, (const uint8_t *)vs[i].record,
					    strlen(vs[i].record), NULL, err);
		size_t hits = rc == UPT_OK ? sbom_hits(rec, &e.s, NULL) : 0, left = 0;
		if (hits && !vex_find(&vex, rec, target))
			left = sbom_hits_vex(rec, &e.s, &vex, NULL);
		if (hits == SRV_HITS_NOMEM || left == SRV_HITS_NOMEM)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		if (rc == UPT_OK && hits) {
			/* VEX about the image to be, or about every hit component */
			const struct srv_vex *x = vex_find(&vex, rec, target);
			bool all = !x && left == 0;
			for (size_t c = 0; all && !x && c < e.s.n_components; c++)
				x = vex_find(&vex, rec, e.s.components[c].purl);
			srv_json_raw(&o, "%s{\"id\":", k++ ? "," : "");
			srv_json_str(&o, vs[i].id);
			srv_json_raw(&o, ",\"severity\":");
			srv_json_str(&o, jstr(rec, "severity"));
			srv_json_raw(&o, ",\"exploited\":%s,\"exploited_at\":%lld,\"vex\":",
				     vs[i].exploited_at ? "true" : "false",
				     (long long)vs[i].exploited_at);
			if (x)
				put_vex(&o, x);
			else
				srv_json_raw(&o, "null");
			srv_json_raw(&o, ",\"components\":[");
			sbom_hits(rec, &e.s, &o);
			srv_json_raw(&o, "]}");
		}
		free(w.mem);
		w.mem = NULL;
	}
	srv_json_raw(&o, "]}\n");
	if (rc == UPT_OK)
		rc = srv_json_finish(&o, resp, err);
	else
		srv_json_dispose(&o);
	srv_vulns_free(vs, nv);
	free(vex.v);
	free(e.w.mem);
	return rc;
}

/* ---- the fleet: which devices run which affected image ------------------- */

struct dev_vuln {
	char device[128];
	size_t *vulns; /* indexes into m->vr */
	size_t n, cap;
};

struct fleet {
	struct match *m;
	struct dev_vuln *d;
	size_t nd, capd;
	/* devices counted per vulnerability: the last device seen */
	char (*last)[128];
	const struct srv_device *devs;
	size_t ndevs;
	const struct srv_product *prods;
	size_t nprods;
	int64_t today;
};

static bool in_support(const struct fleet *f, const char *id)
{
	for (size_t i = 0; i < f->ndevs; i++) {
		const struct srv_device *d = &f->devs[i];
		const struct srv_product *p = NULL;
		char end[11];
		int64_t e;
		if (strcmp(d->id, id) != 0)
			continue;
		for (size_t k = 0; k < f->nprods; k++)
			if (strcmp(f->prods[k].name, d->product) == 0)
				p = &f->prods[k];
		srv_support_end(d, p, end);
		return end[0] && srv_date_parse(end, &e) == UPT_OK && e > f->today;
	}
	return false;
}

static int dev_add(struct fleet *f, const char *device, size_t v)
{
	struct dev_vuln *d = f->nd ? &f->d[f->nd - 1] : NULL;
	if (!d || strcmp(d->device, device) != 0) {
		if (f->nd == f->capd) {
			size_t cap = f->capd ? 2 * f->capd : 16;
			struct dev_vuln *more = realloc(f->d, cap * sizeof *more);
			if (!more)
				return UPT_ERR_NOMEM;
			f->d = more;
			f->capd = cap;
		}
		d = &f->d[f->nd++];
		memset(d, 0, sizeof *d);
		snprintf(d->device, sizeof d->device, "%s", device);
	}
	for (size_t i = 0; i < d->n; i++)
		if (d->vulns[i] == v)
			return UPT_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		size_t *more = realloc(d->vulns, cap * sizeof *more);
		if (!more)
			return UPT_ERR_NOMEM;
		d->vulns = more;
		d->cap = cap;
	}
	d->vulns[d->n++] = v;
	return UPT_OK;
}

/* One ECU's verified state: the published targets with its hash. Rows come
 * ordered by device. */
static int fleet_row(void *ctx, const struct srv_ecu_row *row)
{
	struct fleet *f = ctx;
	struct match *m = f->m;
	if (!row->installed_sha256[0])
		return UPT_OK;
	for (size_t p = 0; p < m->npub; p++) {
		if (!m->sb[p] || strcmp(m->pub[p].sha256, row->installed_sha256) != 0)
			continue;
		for (size_t v = 0; v < m->nvulns; v++) {
			struct vrec *r = &m->vr[v];
			int rc;
			if (!r->hits[p])
				continue;
			if (strcmp(f->last[v], row->device) != 0) {
				snprintf(f->last[v], sizeof f->last[v], "%s", row->device);
				r->devices++;
				r->in_support += in_support(f, row->device);
			}
			if ((rc = dev_add(f, row->device, v)) != UPT_OK)
				return rc;
		}
	}
	return UPT_OK;
}

static bool share_hwid(const char *a, const char *b)
{
	for (const char *p = a; *p;) {
		size_t n = strcspn(p, ",");
		for (const char *q = b; *q;) {
			size_t k = strcspn(q, ",");
			if (k == n && strncmp(p, q, n) == 0)
				return true;
			q += k + (q[k] == ',');
		}
		p += n + (p[n] == ',');
	}
	return !*a && !*b;
}

/* The first release that fixes a record: among published targets with an
 * SBOM that it does not hit, sharing a hardware id with a target it hits
 * and newer than it (a higher release counter, or published later), the
 * lowest counter (then the earliest). */
static void first_fix(struct match *m, struct vrec *r)
{
	r->fix = NULL;
	for (size_t c = 0; c < m->npub; c++) {
		const struct srv_published *t = &m->pub[c];
		bool newer = false;
		if (!m->sb[c] || r->hits[c] || r->vex[c]) /* not affected per VEX is no fix */
			continue;
		for (size_t a = 0; !newer && a < m->npub; a++) {
			const struct srv_published *x = &m->pub[a];
			if (!r->hits[a] || !share_hwid(t->hardware_ids, x->hardware_ids))
				continue;
			newer = t->release_counter >= 0 && x->release_counter >= 0
				    ? t->release_counter > x->release_counter
				    : t->published > x->published;
		}
		if (newer &&
		    (!r->fix ||
		     (t->release_counter >= 0 && t->release_counter < r->fix->release_counter) ||
		     (t->release_counter == r->fix->release_counter &&
		      t->published < r->fix->published)))
			r->fix = t;
	}
}

/* The components a matching row lists. */
static void put_row_components(struct srv_json *o, const char *row, const struct upt_sbom *s)
{
	size_t k = 0;
	for (const char *p = row; p && *p;) {
		char *end;
		unsigned long long i = strtoull(p, &end, 10);
		if (end == p)
			break;
		if (i < s->n_components) {
			const struct upt_sbom_component *c = &s->components[i];
			srv_json_raw(o, "%s{\"name\":", k++ ? "," : "");
			srv_json_str(o, c->name);
			srv_json_raw(o, ",\"version\":");
			srv_json_str(o, c->version);
			srv_json_raw(o, ",\"purl\":");
			srv_json_str(o, c->purl);
			srv_json_raw(o, "}");
		}
		p = *end == ',' ? end + 1 : end;
	}
}

static void put_vuln(struct srv_json *o, struct match *m, struct vrec *r, bool full)
{
	size_t k = 0;
	srv_json_raw(o, "{\"id\":");
	srv_json_str(o, r->v->id);
	srv_json_raw(o, ",\"severity\":");
	srv_json_str(o, jstr(r->rec, "severity"));
	srv_json_raw(o, ",\"summary\":");
	srv_json_str(o, jstr(r->rec, "summary"));
	srv_json_raw(o, ",\"modified\":");
	srv_json_str(o, r->v->modified);
	srv_json_raw(o, ",\"withdrawn\":%s,\"exploited_at\":%lld,\"aliases\":",
		     r->v->withdrawn ? "true" : "false", (long long)r->v->exploited_at);
	/* the normalized record's aliases, as stored */
	{
		const struct upt_json *al = upt_json_get(r->rec, "aliases");
		srv_json_raw(o, "[");
		for (size_t i = 0; al && i < al->n; i++) {
			srv_json_raw(o, "%s", i ? "," : "");
			srv_json_str(o, al->items[i]->str);
		}
		srv_json_raw(o, "]");
	}
	srv_json_raw(o, ",\"images\":[");
	for (size_t p = 0; p < m->npub; p++) {
		if (!r->hits[p])
			continue;
		srv_json_raw(o, "%s{\"target\":", k++ ? "," : "");
		srv_json_str(o, m->pub[p].name);
		srv_json_raw(o, ",\"sha256\":\"%s\",\"release_counter\":%lld", m->pub[p].sha256,
			     (long long)m->pub[p].release_counter);
		if (full) {
			srv_json_raw(o, ",\"components\":[");
			put_row_components(o, r->row[p], &m->sb[p]->s);
			srv_json_raw(o, "]");
		}
		srv_json_raw(o, "}");
	}
	srv_json_raw(o, "],\"not_affected\":[");
	k = 0;
	for (size_t p = 0; p < m->npub; p++) {
		if (!r->vex[p])
			continue;
		srv_json_raw(o, "%s{\"target\":", k++ ? "," : "");
		srv_json_str(o, m->pub[p].name);
		srv_json_raw(o, ",\"vex\":");
		put_vex(o, r->vex[p]);
		srv_json_raw(o, "}");
	}
	srv_json_raw(o, "],\"devices\":%zu,\"devices_in_support\":%zu,\"fixed_in\":", r->devices,
		     r->in_support);
	if (r->fix) {
		srv_json_raw(o, "{\"target\":");
		srv_json_str(o, r->fix->name);
		srv_json_raw(o, ",\"sha256\":\"%s\",\"release_counter\":%lld}", r->fix->sha256,
			     (long long)r->fix->release_counter);
	} else {
		srv_json_raw(o, "null");
	}
	srv_json_raw(o, "}");
}

static int dev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dev_vuln *)a)->device, ((const struct dev_vuln *)b)->device);
}

/* Match everything and write the report (id: one record only). */
/* ---- CRA Art. 14: the reporting clocks of actively exploited ones ---------- */

static const char *const stage_names[] = {"early", "notification", "final"};
static const char *const stage_content[] = {
    "Art. 14(2)(a): the early warning: that an actively exploited vulnerability is known, and "
    "where applicable the Member States where the product is made available",
    "Art. 14(2)(b): the notification: general information about the product concerned, the "
    "general nature of the exploit and of the vulnerability, the corrective or mitigating "
    "measures taken and those users can take, and how sensitive the information is",
    "Art. 14(2)(c): the final report: a description of the vulnerability (severity, impact), "
    "information on any malicious actor exploiting it where available, and details of the "
    "security update or other corrective measures made available"};

static void put_clock(struct srv_json *o, size_t stage, int64_t due, int64_t done, int64_t now)
{
	srv_json_raw(o, "%s{\"stage\":\"%s\",\"due\":", stage ? "," : "", stage_names[stage]);
	if (due > 0)
		srv_json_raw(o, "%lld", (long long)due);
	else
		srv_json_raw(o, "null");
	srv_json_raw(o, ",\"reported_at\":%lld,\"status\":\"%s\",\"content\":", (long long)done,
		     done        ? (due > 0 && done > due ? "done-late" : "done")
		     : due <= 0  ? "waiting-for-fix"
		     : now > due ? "overdue"
				 : "due");
	srv_json_str(o, stage_content[stage]);
	srv_json_raw(o, "}");
}

/* Each record marked exploited: the early warning due 24 h after
 * awareness, the notification 72 h after, the final report 14 days after
 * the first published release that fixes it; the devices still running an
 * affected image. */
static void put_art14(struct srv_json *o, struct match *m, struct fleet *f, int64_t now)
{
	size_t k = 0;
	srv_json_raw(o, "{\"at\":%lld,\"vulnerabilities\":[", (long long)now);
	for (size_t v = 0; v < m->nvulns; v++) {
		struct vrec *r = &m->vr[v];
		int64_t aware = r->v->exploited_at, n = 0;
		if (aware <= 0)
			continue;
		srv_json_raw(o, "%s{\"id\":", k++ ? "," : "");
		srv_json_str(o, r->v->id);
		srv_json_raw(o, ",\"aware_at\":%lld,\"fix_available_at\":", (long long)aware);
		if (r->fix)
			srv_json_raw(o, "%lld,\"fixed_in\":", (long long)r->fix->published);
		else
			srv_json_raw(o, "null,\"fixed_in\":");
		if (r->fix)
			srv_json_str(o, r->fix->name);
		else
			srv_json_raw(o, "null");
		srv_json_raw(o, ",\"clocks\":[");
		put_clock(o, 0, aware + 24 * 3600, r->v->reported[0], now);
		put_clock(o, 1, aware + 72 * 3600, r->v->reported[1], now);
		put_clock(o, 2, r->fix ? r->fix->published + 14 * 86400 : 0, r->v->reported[2],
			  now);
		srv_json_raw(o, "],\"devices_affected\":[");
		for (size_t d = 0; d < f->nd; d++)
			for (size_t i = 0; i < f->d[d].n; i++)
				if (f->d[d].vulns[i] == v) {
					srv_json_raw(o, "%s", n++ ? "," : "");
					srv_json_str(o, f->d[d].device);
				}
		srv_json_raw(o, "]}");
	}
	srv_json_raw(o, "]}\n");
}

/* ---- CSAF 2.0 security advisory ------------------------------------------- */

struct advisory {
	const char *publisher, *ns;
};

static bool is_cve(const char *s)
{
	size_t n = strlen(s);
	if (n < 13 || strncmp(s, "CVE-", 4) != 0 || s[8] != '-')
		return false;
	for (size_t i = 4; i < n; i++)
		if (i != 8 && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	return true;
}

/* The uptake product a target belongs to (by hardware id), or "". */
static const char *product_of(const struct fleet *f, const struct srv_published *t)
{
	for (size_t k = 0; k < f->nprods; k++)
		if (share_hwid(f->prods[k].hardware_ids, t->hardware_ids) && t->hardware_ids[0])
			return f->prods[k].name;
	return "";
}

static void put_pids(struct srv_json *o, struct match *m, struct vrec *r, int which)
{
	size_t k = 0;
	for (size_t p = 0; p < m->npub; p++) {
		bool in = which == 0   ? r->hits[p] != 0
			  : which == 1 ? r->fix == &m->pub[p]
				       : r->vex[p] != NULL;
		if (in)
			srv_json_raw(o, "%s\"CSAFPID-%04zu\"", k++ ? "," : "", p + 1);
	}
}

static bool listed(struct match *m, struct vrec *r, size_t p)
{
	return r->hits[p] || r->fix == &m->pub[p] || r->vex[p];
}

/* A CSAF 2.0 csaf_security_advisory about one record: the product tree
 * from the products and the published images it concerns, the images it
 * hits (known_affected), the first release that fixes it (fixed, and a
 * vendor_fix remediation naming it), the images VEX clears. */
static void put_advisory(struct srv_json *o, struct match *m, struct fleet *f, size_t v,
			 const struct advisory *adv, int64_t now)
{
	struct vrec *r = &m->vr[v];
	const struct upt_json *al = upt_json_get(r->rec, "aliases");
	const char *summary = jstr(r->rec, "summary"), *cve = NULL;
	char when[32] = "1970-01-01T00:00:00Z";
	size_t k = 0;
	bool any_affected = false, any_vex = false;
	if (upt_time_format(when, sizeof when, now) != UPT_OK)
		snprintf(when, sizeof when, "1970-01-01T00:00:00Z");
	if (is_cve(r->v->id))
		cve = r->v->id;
	for (size_t i = 0; !cve && al && i < al->n; i++)
		if (is_cve(al->items[i]->str))
			cve = al->items[i]->str;
	for (size_t p = 0; p < m->npub; p++) {
		any_affected |= r->hits[p] != 0;
		any_vex |= r->vex[p] != NULL;
	}
	srv_json_raw(o, "{\"document\":{\"category\":\"csaf_security_advisory\","
			"\"csaf_version\":\"2.0\",\"lang\":\"en\",\"publisher\":{\"category\":"
			"\"vendor\",\"name\":");
	srv_json_str(o, adv->publisher);
	srv_json_raw(o, ",\"namespace\":");
	srv_json_str(o, adv->ns);
	srv_json_raw(o, "},\"title\":");
	{
		char title[800];
		snprintf(title, sizeof title, "%s%s%.500s", r->v->id,
			 summary && *summary ? ": " : "", summary ? summary : "");
		srv_json_str(o, title);
	}
	srv_json_raw(o, ",\"notes\":[{\"category\":\"summary\",\"title\":\"Summary\",\"text\":");
	srv_json_str(o, summary && *summary ? summary : r->v->id);
	srv_json_raw(o, "}],\"references\":[{\"category\":\"self\",\"summary\":\"This advisory\","
			"\"url\":");
	{
		char url[700];
		snprintf(url, sizeof url, "%s%sadvisories/%s", adv->ns,
			 adv->ns[strlen(adv->ns) - 1] == '/' ? "" : "/", r->v->id);
		srv_json_str(o, url);
	}
	srv_json_raw(o, "}],\"tracking\":{\"id\":");
	srv_json_str(o, r->v->id);
	srv_json_raw(o,
		     ",\"status\":\"final\",\"version\":\"1\",\"initial_release_date\":\"%s\","
		     "\"current_release_date\":\"%s\",\"revision_history\":[{\"date\":\"%s\","
		     "\"number\":\"1\",\"summary\":\"Initial version.\"}],\"generator\":{"
		     "\"engine\":{\"name\":\"uptake\"}}}},",
		     when, when, when);
	/* product tree: vendor -> product -> one version per image */
	srv_json_raw(o, "\"product_tree\":{\"branches\":[{\"category\":\"vendor\",\"name\":");
	srv_json_str(o, adv->publisher);
	srv_json_raw(o, ",\"branches\":[");
	for (size_t p = 0; p < m->npub; p++) {
		const char *prod;
		size_t n = 0;
		bool first = true;
		if (!listed(m, r, p))
			continue;
		prod = product_of(f, &m->pub[p]);
		/* one product_name branch per product, at its first image */
		for (size_t q = 0; q < p; q++)
			if (listed(m, r, q) && strcmp(product_of(f, &m->pub[q]), prod) == 0)
				first = false;
		if (!first)
			continue;
		srv_json_raw(o, "%s{\"category\":\"product_name\",\"name\":", k++ ? "," : "");
		srv_json_str(o, *prod ? prod : "images");
		srv_json_raw(o, ",\"branches\":[");
		for (size_t q = p; q < m->npub; q++) {
			char name[700];
			if (!listed(m, r, q) || strcmp(product_of(f, &m->pub[q]), prod) != 0)
				continue;
			srv_json_raw(
			    o, "%s{\"category\":\"product_version\",\"name\":", n++ ? "," : "");
			srv_json_str(o, m->pub[q].name);
			snprintf(name, sizeof name, "%s %s", *prod ? prod : "image",
				 m->pub[q].name);
			srv_json_raw(
			    o, ",\"product\":{\"product_id\":\"CSAFPID-%04zu\",\"name\":", q + 1);
			srv_json_str(o, name);
			srv_json_raw(o, "}}");
		}
		srv_json_raw(o, "]}");
	}
	srv_json_raw(o, "]}]},\"vulnerabilities\":[{");
	if (cve) {
		srv_json_raw(o, "\"cve\":");
		srv_json_str(o, cve);
		srv_json_raw(o, ",");
	}
	srv_json_raw(o, "\"ids\":[{\"system_name\":\"OSV\",\"text\":");
	srv_json_str(o, r->v->id);
	srv_json_raw(o, "}],\"notes\":[{\"category\":\"description\",\"title\":\"Description\","
			"\"text\":");
	srv_json_str(o, summary && *summary ? summary : r->v->id);
	srv_json_raw(o, "}],\"product_status\":{");
	k = 0;
	if (any_affected) {
		srv_json_raw(o, "\"known_affected\":[");
		put_pids(o, m, r, 0);
		srv_json_raw(o, "]");
		k++;
	}
	if (r->fix) {
		srv_json_raw(o, "%s\"fixed\":[", k++ ? "," : "");
		put_pids(o, m, r, 1);
		srv_json_raw(o, "]");
	}
	if (any_vex) {
		srv_json_raw(o, "%s\"known_not_affected\":[", k++ ? "," : "");
		put_pids(o, m, r, 2);
		srv_json_raw(o, "]");
	}
	srv_json_raw(o, "}");
	if (any_affected) {
		char details[700];
		if (r->fix)
			snprintf(details, sizeof details, "Install %s (or a later release).",
				 r->fix->name);
		else
			snprintf(details, sizeof details, "No published release fixes it yet.");
		srv_json_raw(o, ",\"remediations\":[{\"category\":\"%s\",\"details\":",
			     r->fix ? "vendor_fix" : "none_available");
		srv_json_str(o, details);
		srv_json_raw(o, ",\"product_ids\":[");
		put_pids(o, m, r, 0);
		srv_json_raw(o, "]}]");
	}
	if (any_vex) {
		srv_json_raw(o, ",\"flags\":[");
		k = 0;
		for (size_t p = 0; p < m->npub; p++)
			if (r->vex[p] &&
			    strcmp(r->vex[p]->justification, "impact_statement") != 0 &&
			    r->vex[p]->justification[0]) {
				srv_json_raw(o, "%s{\"label\":", k++ ? "," : "");
				srv_json_str(o, r->vex[p]->justification);
				srv_json_raw(o, ",\"product_ids\":[\"CSAFPID-%04zu\"]}", p + 1);
			}
		srv_json_raw(o, "]");
	}
	srv_json_raw(o, "}]}\n");
}

static int vulns_report(struct srv_store *st, const char *id, bool art14,
			const struct advisory *adv, int64_t now, char **resp, struct upt_error *err)
{
	struct match m = {0};
	struct fleet f = {0};
	struct srv_device *devs = NULL;
	struct srv_product *prods = NULL;
	struct srv_json o = {0};
	size_t k = 0, one = SIZE_MAX;
	int rc = match_load(st, &m, err);
	f.m = &m;
	f.today = now / 86400;
	if (rc == UPT_OK)
		rc = st->ops->device_list(st, &devs, &f.ndevs, err);
	if (rc == UPT_OK)
		rc = st->ops->product_list(st, &prods, &f.nprods, err);
	f.devs = devs;
	f.prods = prods;
	if (rc == UPT_OK && !(f.last = calloc(m.nvulns + 1, sizeof *f.last)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK && (rc = st->ops->ecu_scan(st, fleet_row, &f, err)) == UPT_ERR_NOMEM)
		upt_error_set(err, rc, "out of memory");
	for (size_t v = 0; rc == UPT_OK && v < m.nvulns; v++) {
		first_fix(&m, &m.vr[v]);
		if (id && strcmp(m.vulns[v].id, id) == 0)
			one = v;
	}
	if (rc == UPT_OK && id && one == SIZE_MAX)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "vulnerability %s: not imported", id);
	if (rc != UPT_OK)
		goto done;
	if (f.nd) /* qsort of a NULL array is undefined even for 0 items */
		qsort(f.d, f.nd, sizeof *f.d, dev_cmp);
	if (art14) {
		put_art14(&o, &m, &f, now);
	} else if (adv) {
		bool any = false;
		for (size_t p = 0; p < m.npub; p++)
			any |= listed(&m, &m.vr[one], p);
		if (!any) {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND,
					   "advisory: %s concerns no published image", id);
			goto done;
		}
		put_advisory(&o, &m, &f, one, adv, now);
	} else if (id) {
		put_vuln(&o, &m, &m.vr[one], true);
		/* reopen the object for the record as normalized and the devices */
		if (o.rc == UPT_OK && o.len)
			o.len--;
		srv_json_raw(&o, ",\"record\":%s,\"affected_devices\":[", m.vulns[one].record);
		for (size_t d = 0; d < f.nd; d++)
			for (size_t i = 0; i < f.d[d].n; i++)
				if (f.d[d].vulns[i] == one) {
					srv_json_raw(&o, "%s", k++ ? "," : "");
					srv_json_str(&o, f.d[d].device);
				}
		srv_json_raw(&o, "]}\n");
	} else {
		srv_json_raw(&o, "{\"at\":%lld,\"vulnerabilities\":[", (long long)now);
		for (size_t v = 0; v < m.nvulns; v++) {
			bool any = false;
			for (size_t p = 0; !any && p < m.npub; p++)
				any = m.vr[v].hits[p] != 0;
			if (!any)
				continue;
			srv_json_raw(&o, "%s", k++ ? "," : "");
			put_vuln(&o, &m, &m.vr[v], false);
		}
		srv_json_raw(&o, "],\"devices\":[");
		for (size_t d = 0; d < f.nd; d++) {
			srv_json_raw(&o, "%s{\"id\":", d ? "," : "");
			srv_json_str(&o, f.d[d].device);
			srv_json_raw(&o, ",\"in_support\":%s,\"open\":[",
				     in_support(&f, f.d[d].device) ? "true" : "false");
			for (size_t i = 0; i < f.d[d].n; i++) {
				srv_json_raw(&o, "%s", i ? "," : "");
				srv_json_str(&o, m.vulns[f.d[d].vulns[i]].id);
			}
			srv_json_raw(&o, "]}");
		}
		srv_json_raw(&o, "],\"records\":%zu}\n", m.nvulns);
	}
	rc = srv_json_finish(&o, resp, err);
done:
	if (rc != UPT_OK)
		srv_json_dispose(&o);
	for (size_t d = 0; f.d && d < f.nd; d++)
		free(f.d[d].vulns);
	free(f.d);
	free(f.last);
	free(devs);
	free(prods);
	match_free(&m);
	return rc;
}

int srv_admin_vuln_show(struct srv_store *st, const char *id, int64_t now, char **resp,
			struct upt_error *err)
{
	return vulns_report(st, id, false, NULL, now, resp, err);
}

int srv_report_vulns(struct srv_store *st, int64_t now, char **resp, struct upt_error *err)
{
	return vulns_report(st, NULL, false, NULL, now, resp, err);
}

int srv_admin_vuln_advisory(struct srv_store *st, const char *id, const char *publisher,
			    const char *ns, int64_t now, char **resp, struct upt_error *err)
{
	struct advisory adv = {publisher, ns};
	if (!publisher || !printable(publisher, 200))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "advisory: publisher: a name is needed");
	if (!ns || !printable(ns, 400) || (strncmp(ns, "https://", 8) && strncmp(ns, "http://", 7)))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "advisory: namespace: an http(s) URL is needed");
	return vulns_report(st, id, false, &adv, now, resp, err);
}

int srv_report_art14(struct srv_store *st, int64_t now, char **resp, struct upt_error *err)
{
	return vulns_report(st, NULL, true, NULL, now, resp, err);
}

int srv_admin_vuln_reported(struct srv_store *st, const char *id, const uint8_t *body, size_t len,
			    char **resp, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	const struct upt_json *stage, *at;
	struct srv_json o = {0};
	size_t k = 3;
	int rc = work_init(&w, len, err);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	stage = rc == UPT_OK ? upt_json_get(v, "stage") : NULL;
	at = rc == UPT_OK ? upt_json_get(v, "at") : NULL;
	for (size_t i = 0; stage && i < 3; i++)
		if (upt_json_is_str(stage, stage_names[i]))
			k = i;
	if (rc == UPT_OK && (v->type != UPT_JSON_OBJECT || v->n != 2 || k == 3 || !at ||
			     at->type != UPT_JSON_INT || at->i <= 0))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "reported: the body is {\"stage\": \"early\"|\"notification\"|"
				   "\"final\", \"at\": seconds since the epoch}");
	if (rc == UPT_OK)
		rc = st->ops->vuln_mark(st, id, (enum srv_vuln_mark)(SRV_VULN_EARLY + (int)k),
					at->i, err);
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"id\":");
		srv_json_str(&o, id);
		srv_json_raw(&o, ",\"stage\":\"%s\",\"reported_at\":%lld}\n", stage_names[k],
			     (long long)at->i);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "vulnerability %s: Art. 14 %s report made", id,
			stage_names[k]);
	}
	free(w.mem);
	return rc;
}

/* ---- CSAF 2.0 VEX ------------------------------------------------------------ */

#define SRV_VEX_MAX_PRODUCTS   10000
#define SRV_VEX_MAX_STATEMENTS 100000

struct csaf_product {
	const char *id, *name, *purl;
};

struct csaf {
	struct csaf_product *p;
	size_t n;
	struct upt_error *err;
};

static int csaf_product(struct csaf *c, const struct upt_json *fpn, const char *where)
{
	const char *id = jstr(fpn, "product_id"), *name = jstr(fpn, "name");
	const struct upt_json *pih = upt_json_get(fpn, "product_identification_helper");
	if (!id || !name)
		return upt_error_set(
		    c->err, UPT_ERR_FIELD_MISSING,
		    "vex %s: a full product name needs product_id and name strings", where);
	if (c->n == SRV_VEX_MAX_PRODUCTS)
		return upt_error_set(c->err, UPT_ERR_TOO_LARGE, "vex: more than %d products",
				     SRV_VEX_MAX_PRODUCTS);
	c->p[c->n].id = id;
	c->p[c->n].name = name;
	c->p[c->n].purl = jstr(pih, "purl");
	c->n++;
	return UPT_OK;
}

static int csaf_branches(struct csaf *c, const struct upt_json *b, const char *where,
			 unsigned depth)
{
	char sub[200];
	int rc = UPT_OK;
	if (depth > 16)
		return upt_error_set(c->err, UPT_ERR_TOO_LARGE, "vex %s: branches too deep", where);
	if (b->type != UPT_JSON_ARRAY)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE, "vex %s: not an array", where);
	for (size_t i = 0; rc == UPT_OK && i < b->n; i++) {
		const struct upt_json *x = b->items[i], *pr = upt_json_get(x, "product"),
				      *sb = upt_json_get(x, "branches");
		snprintf(sub, sizeof sub, "%.150s[%zu]", where, i);
		if (x->type != UPT_JSON_OBJECT || !jstr(x, "category") || !jstr(x, "name") ||
		    (!pr && !sb))
			return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
					     "vex %s: a branch needs category, name and product or "
					     "branches",
					     sub);
		if (pr)
			rc = csaf_product(c, pr, sub);
		if (rc == UPT_OK && sb) {
			snprintf(sub, sizeof sub, "%.150s[%zu].branches", where, i);
			rc = csaf_branches(c, sb, sub, depth + 1);
		}
	}
	return rc;
}

static const struct csaf_product *csaf_find(const struct csaf *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->p[i].id, id) == 0)
			return &c->p[i];
	return NULL;
}

/* The product an uptake statement is about: a published target's name,
 * else a component purl; NULL (and an error) for anything else. */
static const char *vex_product(const struct csaf_product *p, const struct srv_published *pub,
			       size_t npub)
{
	for (size_t i = 0; i < npub; i++)
		if (strcmp(pub[i].name, p->name) == 0)
			return p->name;
	return p->purl && strncmp(p->purl, "pkg:", 4) == 0 ? p->purl : NULL;
}

/* The justification of a known_not_affected product: its flag's label, or
 * "impact_statement" when only an impact threat says why. */
static const char *vex_justification(const struct upt_json *v, const char *pid)
{
	static const char *const labels[] = {"component_not_present",
					     "vulnerable_code_not_present",
					     "vulnerable_code_cannot_be_controlled_by_adversary",
					     "vulnerable_code_not_in_execute_path",
					     "inline_mitigations_already_exist",
					     NULL};
	const struct upt_json *fl = upt_json_get(v, "flags"), *th = upt_json_get(v, "threats");
	for (size_t i = 0; fl && fl->type == UPT_JSON_ARRAY && i < fl->n; i++) {
		const struct upt_json *ids = upt_json_get(fl->items[i], "product_ids");
		const char *label = jstr(fl->items[i], "label");
		for (size_t k = 0; label && ids && ids->type == UPT_JSON_ARRAY && k < ids->n; k++)
			if (upt_json_is_str(ids->items[k], pid))
				for (const char *const *l = labels; *l; l++)
					if (strcmp(*l, label) == 0)
						return label;
	}
	for (size_t i = 0; th && th->type == UPT_JSON_ARRAY && i < th->n; i++) {
		const struct upt_json *ids = upt_json_get(th->items[i], "product_ids");
		if (!upt_json_is_str(upt_json_get(th->items[i], "category"), "impact"))
			continue;
		for (size_t k = 0; ids && ids->type == UPT_JSON_ARRAY && k < ids->n; k++)
			if (upt_json_is_str(ids->items[k], pid))
				return "impact_statement";
	}
	return NULL;
}

static int vex_add(struct srv_vex **out, size_t *n, size_t *cap, const char *vuln,
		   const char *product, const char *status, const char *just, const char *doc,
		   int64_t now, struct upt_error *err)
{
	struct srv_vex *x;
	if (*n == SRV_VEX_MAX_STATEMENTS)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "vex: more than %d statements",
				     SRV_VEX_MAX_STATEMENTS);
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 32;
		struct srv_vex *more = realloc(*out, c * sizeof *more);
		if (!more)
			return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		*out = more;
		*cap = c;
	}
	x = &(*out)[(*n)++];
	memset(x, 0, sizeof *x);
	if ((size_t)snprintf(x->vuln, sizeof x->vuln, "%s", vuln) >= sizeof x->vuln ||
	    (size_t)snprintf(x->product, sizeof x->product, "%s", product) >= sizeof x->product)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "vex: %s / %.64s: too long", vuln,
				     product);
	snprintf(x->status, sizeof x->status, "%s", status);
	snprintf(x->justification, sizeof x->justification, "%s", just ? just : "");
	snprintf(x->document, sizeof x->document, "%s", doc);
	x->imported = now;
	return UPT_OK;
}

/* One vulnerabilities[] entry: a statement per id (cve and ids[]) and
 * product of known_not_affected and fixed. */
static int vex_vuln(const struct csaf *c, const struct upt_json *v, size_t vi,
		    const struct srv_published *pub, size_t npub, const char *doc, int64_t now,
		    struct srv_vex **out, size_t *n, size_t *cap, size_t *others,
		    struct upt_error *err)
{
	static const char *const statuses[] = {"known_not_affected", "fixed"};
	const struct upt_json *ps = upt_json_get(v, "product_status"),
			      *ids = upt_json_get(v, "ids");
	const char *names[16];
	size_t nn = 0;
	int rc = UPT_OK;
	if (jstr(v, "cve"))
		names[nn++] = jstr(v, "cve");
	for (size_t i = 0; ids && ids->type == UPT_JSON_ARRAY && i < ids->n && nn < 16; i++)
		if (jstr(ids->items[i], "text"))
			names[nn++] = jstr(ids->items[i], "text");
	if (!nn)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "vex /vulnerabilities/%zu: neither cve nor ids", vi);
	if (!ps || ps->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "vex /vulnerabilities/%zu (%s): no product_status", vi,
				     names[0]);
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->items[i]->key, "known_not_affected") != 0 &&
		    strcmp(ps->items[i]->key, "fixed") != 0)
			*others += ps->items[i]->type == UPT_JSON_ARRAY ? ps->items[i]->n : 0;
	for (size_t s = 0; rc == UPT_OK && s < 2; s++) {
		const struct upt_json *list = upt_json_get(ps, statuses[s]);
		if (list && list->type != UPT_JSON_ARRAY)
			return upt_error_set(
			    err, UPT_ERR_FIELD_TYPE,
			    "vex /vulnerabilities/%zu/product_status/%s: not an array", vi,
			    statuses[s]);
		for (size_t k = 0; rc == UPT_OK && list && k < list->n; k++) {
			const char *pid =
			    list->items[k]->type == UPT_JSON_STRING ? list->items[k]->str : NULL;
			const struct csaf_product *p = pid ? csaf_find(c, pid) : NULL;
			const char *prod = p ? vex_product(p, pub, npub) : NULL, *just = NULL;
			if (!p)
				return upt_error_set(
				    err, UPT_ERR_FIELD_VALUE,
				    "vex /vulnerabilities/%zu/product_status/%s/%zu: "
				    "product id %.64s is not in the product tree",
				    vi, statuses[s], k, pid ? pid : "?");
			if (!prod)
				return upt_error_set(
				    err, UPT_ERR_NOT_FOUND,
				    "vex /vulnerabilities/%zu/product_status/%s/%zu: "
				    "product %.64s (%.128s) is neither a published "
				    "target nor a purl",
				    vi, statuses[s], k, pid, p->name);
			if (s == 0 && !(just = vex_justification(v, pid)))
				return upt_error_set(
				    err, UPT_ERR_FIELD_MISSING,
				    "vex /vulnerabilities/%zu: known_not_affected %s "
				    "has no justification (a flag or an impact "
				    "threat)",
				    vi, pid);
			for (size_t i = 0; rc == UPT_OK && i < nn; i++)
				rc = vex_add(out, n, cap, names[i], prod, statuses[s], just, doc,
					     now, err);
		}
	}
	return rc;
}

int srv_admin_vex_import(struct srv_store *st, const uint8_t *body, size_t len, int64_t now,
			 char **resp, struct upt_error *err)
{
	struct work w = {0};
	struct upt_json *v;
	const struct upt_json *d, *pt, *vs, *rel;
	struct csaf c = {0};
	struct srv_published *pub = NULL;
	struct srv_vex *out = NULL;
	size_t npub = 0, n = 0, cap = 0, others = 0;
	struct srv_json o = {0};
	const char *doc = NULL;
	int rc = work_init(&w, len, err);
	c.err = err;
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &w.a, body, len, NULL, err);
	d = rc == UPT_OK ? upt_json_get(v, "document") : NULL;
	if (rc == UPT_OK && (!upt_json_is_str(upt_json_get(d, "category"), "csaf_vex") ||
			     !upt_json_is_str(upt_json_get(d, "csaf_version"), "2.0")))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "vex /document: not a CSAF 2.0 VEX document (category csaf_vex, "
				   "csaf_version 2.0)");
	if (rc == UPT_OK && !(doc = jstr(upt_json_get(d, "tracking"), "id")))
		rc =
		    upt_error_set(err, UPT_ERR_FIELD_MISSING, "vex /document/tracking/id: missing");
	pt = rc == UPT_OK ? upt_json_get(v, "product_tree") : NULL;
	vs = rc == UPT_OK ? upt_json_get(v, "vulnerabilities") : NULL;
	if (rc == UPT_OK &&
	    (!pt || pt->type != UPT_JSON_OBJECT || !vs || vs->type != UPT_JSON_ARRAY))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "vex: needs a product_tree and vulnerabilities");
	if (rc == UPT_OK && !(c.p = calloc(SRV_VEX_MAX_PRODUCTS, sizeof *c.p)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK && upt_json_get(pt, "branches"))
		rc = csaf_branches(&c, upt_json_get(pt, "branches"), "/product_tree/branches", 0);
	if (rc == UPT_OK && upt_json_get(pt, "full_product_names")) {
		const struct upt_json *f = upt_json_get(pt, "full_product_names");
		for (size_t i = 0; rc == UPT_OK && f->type == UPT_JSON_ARRAY && i < f->n; i++)
			rc = csaf_product(&c, f->items[i], "/product_tree/full_product_names");
	}
	rel = rc == UPT_OK ? upt_json_get(pt, "relationships") : NULL;
	for (size_t i = 0; rc == UPT_OK && rel && rel->type == UPT_JSON_ARRAY && i < rel->n; i++)
		rc = csaf_product(&c, upt_json_get(rel->items[i], "full_product_name"),
				  "/product_tree/relationships");
	if (rc == UPT_OK)
		rc = st->ops->published_list(st, &pub, &npub, err);
	for (size_t i = 0; rc == UPT_OK && i < vs->n; i++)
		rc = vex_vuln(&c, vs->items[i], i, pub, npub, doc, now, &out, &n, &cap, &others,
			      err);
	if (rc == UPT_OK)
		rc = st->ops->begin(st, err);
	if (rc == UPT_OK) {
		rc = st->ops->vex_put(st, doc, out, n, err);
		if (rc == UPT_OK)
			rc = st->ops->commit(st, err);
		else
			st->ops->rollback(st);
	}
	if (rc == UPT_OK) {
		srv_json_raw(&o, "{\"document\":");
		srv_json_str(&o, doc);
		srv_json_raw(&o, ",\"statements\":%zu,\"other_statuses_ignored\":%zu}\n", n,
			     others);
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "vex %s: %zu statements", doc, n);
	}
	free(c.p);
	free(out);
	free(pub);
	free(w.mem);
	return rc;
}
