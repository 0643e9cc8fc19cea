/* uptake sbom check --profile tr-03183-2: what BSI TR-03183-2 asks of an
 * SBOM that the document lacks, field by field.
 *
 * The profile is TR-03183-2 version 2.0.0 (2024-09-20), the version that
 * admits the formats uptake reads (CycloneDX 1.5 and later, SPDX 2.2.1 and
 * later; 2.1.0 asks for SPDX 3.0.1). Checked, with the section:
 *   4      the format version (CycloneDX >= 1.5; SPDX 2.3 is)
 *   5.2.1  creator of the SBOM: an email address or URL
 *          (CycloneDX metadata.manufacturer / manufacture / supplier with a
 *          url or a contact email, or metadata.authors[].email; SPDX
 *          creationInfo.creators "Organization: NAME (EMAIL)" or "Person:")
 *          timestamp (metadata.timestamp; creationInfo.created)
 *   5.2.2  per component: creator, an email address or URL (manufacturer,
 *          supplier, authors, author; SPDX supplier or originator with an
 *          email); name; version; licence (CycloneDX licenses[] with an id,
 *          name or expression; SPDX licenseConcluded or licenseDeclared
 *          other than NOASSERTION and NONE); the SHA-512 hash of the
 *          deployable component (CycloneDX hashes[] or a distribution
 *          externalReference's hashes[] with alg SHA-512; SPDX checksums[]
 *          with algorithm SHA512); dependencies (CycloneDX: its bom-ref in
 *          dependencies[]; SPDX: its SPDXID in a DEPENDS_ON, CONTAINS or
 *          other dependency or link relationship); a unique identifier (purl,
 *          CPE or SWID; SPDX externalRefs purl, cpe23Type, cpe22Type, swid).
 * Not checked: the component filename and the executable, archive and
 * structured properties of 5.2.2 (SPDX 2.3 has no fields for them;
 * CycloneDX carries them as bsi:component:* properties from 2.1.0 on),
 * and the additional fields of 5.3. The field list follows the TR's
 * sections as the sbomqs compliance mapping documents them. */
#include <stdio.h>
#include <string.h>
#include <uptake/json.h>

#include "workspace.h"

struct finder {
	size_t n;
};

static const struct upt_json *get(const struct upt_json *o, const char *k)
{
	return o && o->type == UPT_JSON_OBJECT ? upt_json_get(o, k) : NULL;
}

static const char *str(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : NULL;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

static void finding(struct finder *f, const char *path, const char *name, const char *field,
		    const char *what, const char *section)
{
	printf("tr-03183-2: %s%s%s%s: %s: %s (%s)\n", path, name ? " (" : "", name ? name : "",
	       name ? ")" : "", field, what, section);
	f->n++;
}

/* An email address: something@something. */
static bool email(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL;
	return at && at > s && at[1];
}

/* CycloneDX organizationalEntity with a url or a contact's email. */
static bool cdx_entity(const struct upt_json *e)
{
	const struct upt_json *url = get(e, "url"), *ct = get(e, "contact");
	for (size_t i = 0; url && url->type == UPT_JSON_ARRAY && i < url->n; i++)
		if (url->items[i]->type == UPT_JSON_STRING && url->items[i]->len)
			return true;
	for (size_t i = 0; ct && ct->type == UPT_JSON_ARRAY && i < ct->n; i++)
		if (email(str(ct->items[i], "email")))
			return true;
	return false;
}

static bool cdx_creator(const struct upt_json *o)
{
	const struct upt_json *au = get(o, "authors");
	if (cdx_entity(get(o, "manufacturer")) || cdx_entity(get(o, "manufacture")) ||
	    cdx_entity(get(o, "supplier")))
		return true;
	for (size_t i = 0; au && au->type == UPT_JSON_ARRAY && i < au->n; i++)
		if (email(str(au->items[i], "email")))
			return true;
	return email(str(o, "author"));
}

static bool cdx_sha512(const struct upt_json *hs)
{
	for (size_t i = 0; hs && hs->type == UPT_JSON_ARRAY && i < hs->n; i++) {
		const char *alg = str(hs->items[i], "alg");
		if (alg && strcmp(alg, "SHA-512") == 0 && nonempty(str(hs->items[i], "content")))
			return true;
	}
	return false;
}

/* Whether `ref` is named in dependencies[] (as a ref or in dependsOn). */
static bool cdx_in_graph(const struct upt_json *deps, const char *ref)
{
	for (size_t i = 0; ref && deps && deps->type == UPT_JSON_ARRAY && i < deps->n; i++) {
		const struct upt_json *d = deps->items[i], *on = get(d, "dependsOn");
		if (str(d, "ref") && strcmp(str(d, "ref"), ref) == 0)
			return true;
		for (size_t k = 0; on && on->type == UPT_JSON_ARRAY && k < on->n; k++)
			if (on->items[k]->type == UPT_JSON_STRING &&
			    strcmp(on->items[k]->str, ref) == 0)
				return true;
	}
	return false;
}

static void cdx_component(struct finder *f, const struct upt_json *c, const char *path,
			  const struct upt_json *deps, int depth)
{
	const char *name = str(c, "name");
	const struct upt_json *lic = get(c, "licenses"), *er = get(c, "externalReferences"),
			      *sub = get(c, "components");
	bool licensed = false, hashed = cdx_sha512(get(c, "hashes"));
	char p[256];
	if (!cdx_creator(c))
		finding(f, path, name, "component creator",
			"no manufacturer, supplier or author with an email address or URL",
			"5.2.2");
	if (!nonempty(name))
		finding(f, path, name, "component name", "missing", "5.2.2");
	if (!nonempty(str(c, "version")))
		finding(f, path, name, "component version", "missing", "5.2.2");
	for (size_t i = 0; lic && lic->type == UPT_JSON_ARRAY && i < lic->n; i++) {
		const struct upt_json *l = get(lic->items[i], "license");
		licensed |= nonempty(str(lic->items[i], "expression")) || nonempty(str(l, "id")) ||
			    nonempty(str(l, "name"));
	}
	if (!licensed)
		finding(f, path, name, "licence",
			"no licenses[] entry with an id, name or expression", "5.2.2");
	for (size_t i = 0; !hashed && er && er->type == UPT_JSON_ARRAY && i < er->n; i++)
		if (str(er->items[i], "type") &&
		    strcmp(str(er->items[i], "type"), "distribution") == 0)
			hashed = cdx_sha512(get(er->items[i], "hashes"));
	if (!hashed)
		finding(f, path, name, "hash", "no SHA-512 hash of the deployable component",
			"5.2.2");
	if (!cdx_in_graph(deps, str(c, "bom-ref")))
		finding(f, path, name, "dependencies",
			str(c, "bom-ref") ? "its bom-ref is not in dependencies[]"
					  : "no bom-ref, so dependencies[] cannot name it",
			"5.2.2");
	if (!nonempty(str(c, "purl")) && !nonempty(str(c, "cpe")) && !get(c, "swid"))
		finding(f, path, name, "unique identifier", "no purl, CPE or SWID", "5.2.2");
	for (size_t i = 0; depth < 16 && sub && sub->type == UPT_JSON_ARRAY && i < sub->n; i++) {
		snprintf(p, sizeof p, "%.200s/components/%zu", path, i);
		cdx_component(f, sub->items[i], p, deps, depth + 1);
	}
}

static void cdx_check(struct finder *f, const struct upt_json *v)
{
	const struct upt_json *md = get(v, "metadata"), *cs = get(v, "components"),
			      *deps = get(v, "dependencies");
	const char *sv = str(v, "specVersion");
	char p[64];
	if (sv && strcmp(sv, "1.5") < 0)
		finding(f, "/specVersion", NULL, "format",
			"CycloneDX before 1.5 (the TR asks for 1.5 or later)", "4");
	if (!cdx_creator(md))
		finding(f, "/metadata", NULL, "SBOM creator",
			"no manufacturer, supplier or author with an email address or URL",
			"5.2.1");
	if (!nonempty(str(md, "timestamp")))
		finding(f, "/metadata/timestamp", NULL, "timestamp", "missing", "5.2.1");
	for (size_t i = 0; cs && cs->type == UPT_JSON_ARRAY && i < cs->n; i++) {
		snprintf(p, sizeof p, "/components/%zu", i);
		cdx_component(f, cs->items[i], p, deps, 0);
	}
}

/* "Organization: NAME (EMAIL)" or "Person: NAME (EMAIL)" with an email. */
static bool spdx_party(const char *s)
{
	const char *open;
	size_t n;
	char mail[256];
	if (!s || (strncmp(s, "Organization:", 13) != 0 && strncmp(s, "Person:", 7) != 0))
		return false;
	n = strlen(s);
	open = strrchr(s, '(');
	if (!open || s[n - 1] != ')' || (size_t)(s + n - 1 - open - 1) >= sizeof mail)
		return false;
	snprintf(mail, sizeof mail, "%.*s", (int)(s + n - 1 - open - 1), open + 1);
	return email(mail);
}

static bool spdx_license(const char *s)
{
	return nonempty(s) && strcmp(s, "NOASSERTION") != 0 && strcmp(s, "NONE") != 0;
}

static bool spdx_in_graph(const struct upt_json *rels, const char *id)
{
	for (size_t i = 0; id && rels && rels->type == UPT_JSON_ARRAY && i < rels->n; i++) {
		const struct upt_json *r = rels->items[i];
		const char *t = str(r, "relationshipType"), *a = str(r, "spdxElementId"),
			   *b = str(r, "relatedSpdxElement");
		if (!t || (!strstr(t, "DEPEND") && !strstr(t, "CONTAIN") && !strstr(t, "LINK")))
			continue;
		if ((a && strcmp(a, id) == 0) || (b && strcmp(b, id) == 0))
			return true;
	}
	return false;
}

static void spdx_check(struct finder *f, const struct upt_json *v)
{
	const struct upt_json *ci = get(v, "creationInfo"), *cr = get(ci, "creators"),
			      *ps = get(v, "packages"), *rels = get(v, "relationships");
	bool creator = false;
	char p[64];
	for (size_t i = 0; cr && cr->type == UPT_JSON_ARRAY && i < cr->n; i++)
		creator |= cr->items[i]->type == UPT_JSON_STRING && spdx_party(cr->items[i]->str);
	if (!creator)
		finding(f, "/creationInfo/creators", NULL, "SBOM creator",
			"no Organization or Person with an email address", "5.2.1");
	if (!nonempty(str(ci, "created")))
		finding(f, "/creationInfo/created", NULL, "timestamp", "missing", "5.2.1");
	for (size_t i = 0; ps && ps->type == UPT_JSON_ARRAY && i < ps->n; i++) {
		const struct upt_json *c = ps->items[i], *ck = get(c, "checksums"),
				      *refs = get(c, "externalRefs");
		const char *name = str(c, "name");
		bool hashed = false, ident = false;
		if (!get(c, "versionInfo"))
			continue; /* the image the document describes, not a component */
		snprintf(p, sizeof p, "/packages/%zu", i);
		if (!spdx_party(str(c, "supplier")) && !spdx_party(str(c, "originator")))
			finding(f, p, name, "component creator",
				"no supplier or originator with an email address", "5.2.2");
		if (!nonempty(name))
			finding(f, p, name, "component name", "missing", "5.2.2");
		if (!nonempty(str(c, "versionInfo")))
			finding(f, p, name, "component version", "missing", "5.2.2");
		if (!spdx_license(str(c, "licenseConcluded")) &&
		    !spdx_license(str(c, "licenseDeclared")))
			finding(f, p, name, "licence",
				"neither licenseConcluded nor licenseDeclared (other than "
				"NOASSERTION, NONE)",
				"5.2.2");
		for (size_t k = 0; ck && ck->type == UPT_JSON_ARRAY && k < ck->n; k++)
			hashed |= str(ck->items[k], "algorithm") &&
				  strcmp(str(ck->items[k], "algorithm"), "SHA512") == 0 &&
				  nonempty(str(ck->items[k], "checksumValue"));
		if (!hashed)
			finding(f, p, name, "hash",
				"no SHA512 checksum of the deployable component", "5.2.2");
		if (!spdx_in_graph(rels, str(c, "SPDXID")))
			finding(f, p, name, "dependencies",
				"its SPDXID is in no DEPENDS_ON, CONTAINS or other dependency "
				"relationship",
				"5.2.2");
		for (size_t k = 0; refs && refs->type == UPT_JSON_ARRAY && k < refs->n; k++) {
			const char *t = str(refs->items[k], "referenceType");
			ident |= t && (strcmp(t, "purl") == 0 || strcmp(t, "cpe23Type") == 0 ||
				       strcmp(t, "cpe22Type") == 0 || strcmp(t, "swid") == 0);
		}
		if (!ident)
			finding(f, p, name, "unique identifier", "no purl, CPE or SWID reference",
				"5.2.2");
	}
}

int sbom_check_tr03183(const char *doc, size_t len, size_t *n, struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	struct finder f = {0};
	int rc = cli_arena_init(&ca, 32 * len + (1u << 20));
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)doc, len, NULL, err);
	if (rc == UPT_OK) {
		if (get(v, "bomFormat"))
			cdx_check(&f, v);
		else
			spdx_check(&f, v);
		printf("tr-03183-2: %zu finding%s (BSI TR-03183-2 v2.0.0, sections 4, 5.2.1, "
		       "5.2.2)\n",
		       f.n, f.n == 1 ? "" : "s");
		*n = f.n;
	}
	cli_arena_dispose(&ca);
	return rc;
}
