/* uptake core: SBOM documents (see include/uptake/sbom.h). The checks
 * follow the official schemas: CycloneDX bom-1.4/1.5/1.6.schema.json and
 * spdx-schema.json of SPDX 2.3; each failure gives the schema path of the
 * constraint (as JSON-schema validators report it). */
#include <string.h>
#include <uptake/sbom.h>

#define SBOM_MAX_DEPTH 8 /* nested CycloneDX components */

struct ctx {
	struct upt_arena *a;
	struct upt_error *err;
	struct upt_sbom *s;
	size_t cap;
};

static const char *jstr(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : NULL;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return true;
	return false;
}

/* The members of `o` must be strings where named in `strings`. */
static int want_string(struct ctx *c, const struct upt_json *o, const char *path, const char *def,
		       const char *member)
{
	const struct upt_json *v = upt_json_get(o, member);
	if (v && v->type != UPT_JSON_STRING)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom %s/%s: %s/properties/%s/type: not a string", path,
				     member, def, member);
	return UPT_OK;
}

static int add_component(struct ctx *c, const char *name, const char *version, const char *purl,
			 const char *cpe, const char *source, const char *path)
{
	struct upt_sbom_component *n;
	if (!name || !*name)
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom %s: component has no name", path);
	if (!version || !*version)
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom %s: component %s has no version (uptake needs one)",
				     path, name);
	if ((!purl || !*purl) && (!cpe || !*cpe))
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom %s: component %s has neither a purl nor a CPE (uptake "
				     "needs one)",
				     path, name);
	if (purl && *purl && strncmp(purl, "pkg:", 4) != 0)
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom %s: component %s: purl does not start with pkg:", path,
				     name);
	if (cpe && *cpe && strncmp(cpe, "cpe:2.3:", 8) != 0 && strncmp(cpe, "cpe:/", 5) != 0)
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom %s: component %s: not a CPE 2.3 or 2.2 name", path,
				     name);
	if (c->s->n_components == UPT_SBOM_MAX_COMPONENTS)
		return upt_error_set(c->err, UPT_ERR_TOO_LARGE, "sbom: more than %u components",
				     (unsigned)UPT_SBOM_MAX_COMPONENTS);
	if (c->s->n_components == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		if (cap > UPT_SBOM_MAX_COMPONENTS)
			cap = UPT_SBOM_MAX_COMPONENTS;
		n = upt_arena_calloc(c->a, cap, sizeof *n);
		if (!n)
			return upt_error_set(c->err, UPT_ERR_NOMEM, "sbom: out of memory");
		if (c->s->n_components)
			memcpy(n, c->s->components, c->s->n_components * sizeof *n);
		c->s->components = n;
		c->cap = cap;
	}
	n = &c->s->components[c->s->n_components++];
	n->name = name;
	n->version = version;
	n->purl = purl ? purl : "";
	n->cpe = cpe ? cpe : "";
	n->source = source ? source : "";
	return UPT_OK;
}

/* Format "/components/3" style paths without stdio. */
static void path_join(char *out, size_t cap, const char *base, const char *member, size_t index)
{
	size_t n = 0;
	char digits[24];
	size_t k = 0;
	for (const char *p = base; *p && n + 1 < cap; p++)
		out[n++] = *p;
	if (n + 1 < cap)
		out[n++] = '/';
	for (const char *p = member; *p && n + 1 < cap; p++)
		out[n++] = *p;
	if (n + 1 < cap)
		out[n++] = '/';
	do {
		digits[k++] = (char)('0' + index % 10);
		index /= 10;
	} while (index);
	while (k && n + 1 < cap)
		out[n++] = digits[--k];
	out[n] = '\0';
}

/* ---- CycloneDX ----------------------------------------------------------- */

static const char *const cdx_top[] = {"$schema",
				      "bomFormat",
				      "specVersion",
				      "serialNumber",
				      "version",
				      "metadata",
				      "components",
				      "services",
				      "externalReferences",
				      "dependencies",
				      "compositions",
				      "properties",
				      "vulnerabilities",
				      "signature",
				      "annotations",
				      "formulation",
				      "declarations",
				      "definitions",
				      NULL};
static const char *const cdx_component[] = {
    "type",         "mime-type",  "bom-ref",          "supplier",
    "manufacturer", "author",     "authors",          "publisher",
    "group",        "name",       "version",          "description",
    "scope",        "hashes",     "licenses",         "copyright",
    "cpe",          "purl",       "omniborId",        "swhid",
    "swid",         "modified",   "pedigree",         "externalReferences",
    "properties",   "components", "evidence",         "releaseNotes",
    "modelCard",    "data",       "cryptoProperties", "signature",
    "tags",         NULL};
static const char *const cdx_types[] = {"application",
					"framework",
					"library",
					"container",
					"platform",
					"operating-system",
					"device",
					"device-driver",
					"firmware",
					"file",
					"machine-learning-model",
					"data",
					"cryptographic-asset",
					NULL};

static int cdx_components(struct ctx *c, const struct upt_json *arr, const char *path,
			  unsigned depth);

static int cdx_component_check(struct ctx *c, const struct upt_json *o, const char *path,
			       unsigned depth)
{
	static const char def[] = "#/definitions/component";
	static const char *const strings[] = {"bom-ref", "group", "name",       "version",
					      "purl",    "cpe",   "description"};
	const struct upt_json *t = upt_json_get(o, "type"), *sub;
	const char *name, *group;
	int rc;
	if (o->type != UPT_JSON_OBJECT)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE, "sbom %s: %s/type: not an object",
				     path, def);
	for (size_t i = 0; i < o->n; i++)
		if (!in_list(o->items[i]->key, o->items[i]->key_len, cdx_component))
			return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
					     "sbom %s: %s/additionalProperties: unknown member "
					     "\"%.*s\"",
					     path, def, (int)o->items[i]->key_len,
					     o->items[i]->key);
	if (!t)
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom %s: %s/required: no \"type\"", path, def);
	if (!upt_json_get(o, "name"))
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom %s: %s/required: no \"name\"", path, def);
	for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
		if ((rc = want_string(c, o, path, def, strings[i])) != UPT_OK)
			return rc;
	if (t->type != UPT_JSON_STRING || !in_list(t->str, t->len, cdx_types))
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom %s/type: %s/properties/type/enum: not a component type",
				     path, def);
	name = jstr(o, "name");
	group = jstr(o, "group");
	if (group && *group) {
		size_t gl = strlen(group), nl = strlen(name);
		char *full = upt_arena_alloc(c->a, gl + nl + 2);
		if (!full)
			return upt_error_set(c->err, UPT_ERR_NOMEM, "sbom: out of memory");
		memcpy(full, group, gl);
		full[gl] = '/';
		memcpy(full + gl + 1, name, nl + 1);
		name = full;
	}
	rc =
	    add_component(c, name, jstr(o, "version"), jstr(o, "purl"), jstr(o, "cpe"), NULL, path);
	if (rc == UPT_OK && (sub = upt_json_get(o, "components")))
		rc = cdx_components(c, sub, path, depth + 1);
	return rc;
}

static int cdx_components(struct ctx *c, const struct upt_json *arr, const char *path,
			  unsigned depth)
{
	char sub[256];
	int rc = UPT_OK;
	if (depth > SBOM_MAX_DEPTH)
		return upt_error_set(c->err, UPT_ERR_TOO_LARGE,
				     "sbom %s: components nested deeper than %u", path,
				     (unsigned)SBOM_MAX_DEPTH);
	if (arr->type != UPT_JSON_ARRAY)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom %s/components: #/properties/components/type: not an "
				     "array",
				     path);
	for (size_t i = 0; rc == UPT_OK && i < arr->n; i++) {
		path_join(sub, sizeof sub, path, "components", i);
		rc = cdx_component_check(c, arr->items[i], sub, depth);
	}
	return rc;
}

static int cyclonedx(struct ctx *c, const struct upt_json *v)
{
	const struct upt_json *sv = upt_json_get(v, "specVersion");
	const struct upt_json *ver = upt_json_get(v, "version");
	const struct upt_json *md = upt_json_get(v, "metadata");
	const struct upt_json *comps = upt_json_get(v, "components");
	const char *sn = jstr(v, "serialNumber");
	for (size_t i = 0; i < v->n; i++)
		if (!in_list(v->items[i]->key, v->items[i]->key_len, cdx_top))
			return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
					     "sbom: #/additionalProperties: unknown member "
					     "\"%.*s\"",
					     (int)v->items[i]->key_len, v->items[i]->key);
	if (!sv)
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom: #/required: no \"specVersion\"");
	if (sv->type != UPT_JSON_STRING)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom /specVersion: #/properties/specVersion/type: not a "
				     "string");
	if (!upt_json_is_str(sv, "1.4") && !upt_json_is_str(sv, "1.5") &&
	    !upt_json_is_str(sv, "1.6"))
		return upt_error_set(
		    c->err, UPT_ERR_UNSUPPORTED,
		    "sbom /specVersion: CycloneDX %s is not supported (1.4 to 1.6)", sv->str);
	memcpy(c->s->spec_version, sv->str, 4);
	if (ver && (ver->type != UPT_JSON_INT || ver->i < 1))
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom /version: #/properties/version/minimum: not an integer "
				     "of at least 1");
	if (upt_json_get(v, "serialNumber") && (!sn || strncmp(sn, "urn:uuid:", 9) != 0))
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom /serialNumber: #/properties/serialNumber/pattern: not a "
				     "urn:uuid");
	if (md && md->type != UPT_JSON_OBJECT)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom /metadata: #/properties/metadata/type: not an object");
	if (md && upt_json_get(md, "timestamp") && !jstr(md, "timestamp"))
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom /metadata/timestamp: #/definitions/metadata/properties/"
				     "timestamp/type: not a string");
	/* tools: an array of tools in 1.4; 1.5 added the object form */
	if (md && upt_json_get(md, "tools") && upt_json_get(md, "tools")->type != UPT_JSON_ARRAY &&
	    (upt_json_get(md, "tools")->type != UPT_JSON_OBJECT || upt_json_is_str(sv, "1.4")))
		return upt_error_set(
		    c->err, UPT_ERR_FIELD_TYPE,
		    "sbom /metadata/tools: #/definitions/metadata/properties/tools/type: "
		    "not %s",
		    upt_json_is_str(sv, "1.4") ? "an array" : "an array or an object");
	c->s->created = md && jstr(md, "timestamp") ? jstr(md, "timestamp") : "";
	return comps ? cdx_components(c, comps, "", 0) : UPT_OK;
}

/* ---- SPDX 2.3 ------------------------------------------------------------ */

static const char *const spdx_top[] = {"SPDXID",
				       "annotations",
				       "comment",
				       "creationInfo",
				       "dataLicense",
				       "externalDocumentRefs",
				       "hasExtractedLicensingInfos",
				       "name",
				       "revieweds",
				       "spdxVersion",
				       "documentNamespace",
				       "documentDescribes",
				       "packages",
				       "files",
				       "snippets",
				       "relationships",
				       NULL};
static const char *const spdx_creation[] = {"comment", "created", "creators", "licenseListVersion",
					    NULL};
static const char *const spdx_package_members[] = {"SPDXID",
						   "annotations",
						   "attributionTexts",
						   "builtDate",
						   "checksums",
						   "comment",
						   "copyrightText",
						   "description",
						   "downloadLocation",
						   "externalRefs",
						   "filesAnalyzed",
						   "hasFiles",
						   "homepage",
						   "licenseComments",
						   "licenseConcluded",
						   "licenseDeclared",
						   "licenseInfoFromFiles",
						   "name",
						   "originator",
						   "packageFileName",
						   "packageVerificationCode",
						   "primaryPackagePurpose",
						   "releaseDate",
						   "sourceInfo",
						   "summary",
						   "supplier",
						   "validUntilDate",
						   "versionInfo",
						   NULL};
static const char *const spdx_ref[] = {"comment", "referenceCategory", "referenceLocator",
				       "referenceType", NULL};

/* Unknown members where the schema says additionalProperties: false. */
static int only(struct ctx *c, const struct upt_json *o, const char *const *allowed,
		const char *path, const char *def)
{
	for (size_t i = 0; i < o->n; i++)
		if (!in_list(o->items[i]->key, o->items[i]->key_len, allowed))
			return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
					     "sbom %s: %s/additionalProperties: unknown member "
					     "\"%.*s\"",
					     path[0] ? path : "/", def, (int)o->items[i]->key_len,
					     o->items[i]->key);
	return UPT_OK;
}

static const char *const spdx_categories[] = {"OTHER",           "PERSISTENT-ID",   "SECURITY",
					      "PACKAGE-MANAGER", "PACKAGE_MANAGER", NULL};

static int spdx_refs(struct ctx *c, const struct upt_json *refs, const char *path,
		     const char **purl, const char **cpe)
{
	static const char def[] = "#/properties/packages/items/properties/externalRefs";
	char sub[256];
	if (refs->type != UPT_JSON_ARRAY)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom %s/externalRefs: %s/type: not an array", path, def);
	for (size_t i = 0; i < refs->n; i++) {
		const struct upt_json *r = refs->items[i], *cat;
		const char *type, *loc;
		path_join(sub, sizeof sub, path, "externalRefs", i);
		if (r->type != UPT_JSON_OBJECT)
			return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
					     "sbom %s: %s/items/type: not an object", sub, def);
		if (only(c, r, spdx_ref, sub,
			 "#/properties/packages/items/properties/externalRefs/items") != UPT_OK)
			return c->err->code;
		cat = upt_json_get(r, "referenceCategory");
		type = jstr(r, "referenceType");
		loc = jstr(r, "referenceLocator");
		if (!cat || !type || !loc)
			return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
					     "sbom %s: %s/items/required: no \"%s\" string", sub,
					     def,
					     !cat    ? "referenceCategory"
					     : !type ? "referenceType"
						     : "referenceLocator");
		if (cat->type != UPT_JSON_STRING || !in_list(cat->str, cat->len, spdx_categories))
			return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
					     "sbom %s/referenceCategory: %s/items/properties/"
					     "referenceCategory/enum: not a category",
					     sub, def);
		if (strcmp(type, "purl") == 0 && !*purl)
			*purl = loc;
		else if ((strcmp(type, "cpe23Type") == 0 || strcmp(type, "cpe22Type") == 0) &&
			 !*cpe)
			*cpe = loc;
	}
	return UPT_OK;
}

/* The SPDXIDs the document DESCRIBES (documentDescribes or a
 * DESCRIBES relationship of SPDXRef-DOCUMENT). */
static bool spdx_described(const struct upt_json *v, const char *id)
{
	const struct upt_json *d = upt_json_get(v, "documentDescribes");
	const struct upt_json *rel = upt_json_get(v, "relationships");
	for (size_t i = 0; d && d->type == UPT_JSON_ARRAY && i < d->n; i++)
		if (upt_json_is_str(d->items[i], id))
			return true;
	for (size_t i = 0; rel && rel->type == UPT_JSON_ARRAY && i < rel->n; i++) {
		const struct upt_json *r = rel->items[i];
		if (upt_json_is_str(upt_json_get(r, "relationshipType"), "DESCRIBES") &&
		    upt_json_is_str(upt_json_get(r, "spdxElementId"), "SPDXRef-DOCUMENT") &&
		    upt_json_is_str(upt_json_get(r, "relatedSpdxElement"), id))
			return true;
	}
	return false;
}

static int spdx_package(struct ctx *c, const struct upt_json *v, const struct upt_json *p,
			const char *path)
{
	static const char def[] = "#/properties/packages/items";
	static const char *const strings[] = {"SPDXID", "name", "versionInfo", "downloadLocation",
					      "sourceInfo"};
	const struct upt_json *refs;
	const char *purl = NULL, *cpe = NULL;
	int rc;
	if (p->type != UPT_JSON_OBJECT)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE, "sbom %s: %s/type: not an object",
				     path, def);
	if ((rc = only(c, p, spdx_package_members, path, def)) != UPT_OK)
		return rc;
	for (size_t i = 0; i < 3; i++)
		if (!upt_json_get(p, i == 0 ? "SPDXID" : i == 1 ? "name" : "downloadLocation"))
			return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
					     "sbom %s: %s/required: no \"%s\"", path, def,
					     i == 0   ? "SPDXID"
					     : i == 1 ? "name"
						      : "downloadLocation");
	for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
		if ((rc = want_string(c, p, path, def, strings[i])) != UPT_OK)
			return rc;
	if ((refs = upt_json_get(p, "externalRefs")) &&
	    (rc = spdx_refs(c, refs, path, &purl, &cpe)) != UPT_OK)
		return rc;
	/* the image itself (a Yocto image package) carries no version */
	if (!jstr(p, "versionInfo") && !purl && !cpe && spdx_described(v, jstr(p, "SPDXID")))
		return UPT_OK;
	return add_component(c, jstr(p, "name"), jstr(p, "versionInfo"), purl, cpe, NULL, path);
}

static int spdx(struct ctx *c, const struct upt_json *v)
{
	static const char *const required[] = {"SPDXID", "creationInfo", "dataLicense", "name",
					       "spdxVersion"};
	const struct upt_json *ci, *pk, *cr;
	char sub[64];
	int rc = UPT_OK;
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		if (!upt_json_get(v, required[i]))
			return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
					     "sbom: #/required: no \"%s\"", required[i]);
	if ((rc = only(c, v, spdx_top, "", "#")) != UPT_OK)
		return rc;
	if (!upt_json_is_str(upt_json_get(v, "spdxVersion"), "SPDX-2.3"))
		return upt_error_set(c->err, UPT_ERR_UNSUPPORTED,
				     "sbom /spdxVersion: only SPDX-2.3 is supported");
	memcpy(c->s->spec_version, "2.3", 4);
	for (size_t i = 0; i < 4; i++)
		if ((rc = want_string(c, v, "", "#",
				      i == 0   ? "SPDXID"
				      : i == 1 ? "dataLicense"
				      : i == 2 ? "name"
					       : "documentNamespace")) != UPT_OK)
			return rc;
	ci = upt_json_get(v, "creationInfo");
	if (ci->type != UPT_JSON_OBJECT)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom /creationInfo: #/properties/creationInfo/type: not an "
				     "object");
	if ((rc = only(c, ci, spdx_creation, "/creationInfo", "#/properties/creationInfo")) !=
	    UPT_OK)
		return rc;
	if (!jstr(ci, "created") || !(cr = upt_json_get(ci, "creators")))
		return upt_error_set(c->err, UPT_ERR_FIELD_MISSING,
				     "sbom /creationInfo: #/properties/creationInfo/required: no "
				     "\"%s\"",
				     !jstr(ci, "created") ? "created" : "creators");
	if (cr->type != UPT_JSON_ARRAY || cr->n < 1)
		return upt_error_set(c->err, UPT_ERR_FIELD_VALUE,
				     "sbom /creationInfo/creators: #/properties/creationInfo/"
				     "properties/creators/minItems: not a non-empty array");
	c->s->created = jstr(ci, "created");
	if (!(pk = upt_json_get(v, "packages")))
		return UPT_OK;
	if (pk->type != UPT_JSON_ARRAY)
		return upt_error_set(c->err, UPT_ERR_FIELD_TYPE,
				     "sbom /packages: #/properties/packages/type: not an array");
	for (size_t i = 0; rc == UPT_OK && i < pk->n; i++) {
		path_join(sub, sizeof sub, "", "packages", i);
		rc = spdx_package(c, v, pk->items[i], sub);
	}
	return rc;
}

int upt_sbom_parse(struct upt_sbom *out, struct upt_arena *a, const uint8_t *in, size_t len,
		   struct upt_error *err)
{
	struct upt_json *v;
	struct upt_json_limits lim = {.max_input = 64u << 20, .max_depth = 64};
	struct ctx c = {a, err, out, 0};
	size_t mark = upt_arena_mark(a);
	int rc;
	memset(out, 0, sizeof *out);
	out->created = "";
	rc = upt_json_parse(&v, a, in, len, &lim, err);
	if (rc == UPT_OK && v->type != UPT_JSON_OBJECT)
		rc = upt_error_set(err, UPT_ERR_FIELD_TYPE, "sbom: #/type: not an object");
	if (rc != UPT_OK)
		goto done;
	if (upt_json_get(v, "bomFormat")) {
		out->format = UPT_SBOM_CYCLONEDX;
		if (!upt_json_is_str(upt_json_get(v, "bomFormat"), "CycloneDX"))
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "sbom /bomFormat: #/properties/bomFormat/enum: not "
					   "\"CycloneDX\"");
		else
			rc = cyclonedx(&c, v);
	} else if (upt_json_get(v, "spdxVersion")) {
		out->format = UPT_SBOM_SPDX;
		rc = spdx(&c, v);
	} else {
		rc = upt_error_set(err, UPT_ERR_UNSUPPORTED,
				   "sbom: neither CycloneDX (bomFormat) nor SPDX (spdxVersion)");
	}
done:
	if (rc != UPT_OK) {
		upt_arena_rollback(a, mark);
		memset(out, 0, sizeof *out);
	}
	return rc;
}

void upt_sbom_format_name(const struct upt_sbom *s, char *out, size_t cap)
{
	const char *f = s->format == UPT_SBOM_CYCLONEDX ? "cyclonedx-"
			: s->format == UPT_SBOM_SPDX    ? "spdx-"
							: "unknown";
	size_t n = 0;
	if (!cap)
		return;
	for (const char *p = f; *p && n + 1 < cap; p++)
		out[n++] = *p;
	for (const char *p = s->spec_version; s->format && *p && n + 1 < cap; p++)
		out[n++] = *p;
	out[n] = '\0';
}
