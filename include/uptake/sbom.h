/* uptake: SBOM documents (CycloneDX 1.4-1.6 JSON, SPDX 2.3 JSON).
 *
 * upt_sbom_parse detects the format, checks the document against the
 * constraints of its official JSON schema that uptake relies on (required
 * members, member types, enumerations, unknown members where the schema
 * forbids them) and then what uptake needs of every component: a name, a
 * version and a purl or a CPE. A failure names the document's path of the
 * offending value and the schema path of the constraint it breaks
 * ("/components/2: #/definitions/component/required: no \"name\"").
 *
 * Components are CycloneDX `components` (nested ones included; not
 * metadata.component, the image itself) and SPDX `packages`, except the
 * package the document describes when it has no version (a Yocto image). */
#ifndef UPTAKE_SBOM_H
#define UPTAKE_SBOM_H

#include <uptake/arena.h>
#include <uptake/common.h>
#include <uptake/json.h>

#ifdef __cplusplus
extern "C" {
#endif

enum upt_sbom_format {
	UPT_SBOM_CYCLONEDX = 1,
	UPT_SBOM_SPDX = 2,
};

#define UPT_SBOM_MAX_COMPONENTS 100000

struct upt_sbom_component {
	const char *name;    /* CycloneDX name (with group as "group/name"), SPDX name */
	const char *version; /* CycloneDX version, SPDX versionInfo */
	const char *purl;    /* "" when none */
	const char *cpe;     /* "" when none (CPE 2.3 or 2.2 URI) */
	const char *source;  /* the source package's name, "" when unknown */
};

struct upt_sbom {
	enum upt_sbom_format format;
	char spec_version[8]; /* "1.6", "2.3" */
	const char *created;  /* metadata.timestamp / creationInfo.created, "" when none */
	struct upt_sbom_component *components;
	size_t n_components;
};

/* Parse and check an SBOM; the components point into the arena. */
UPT_NODISCARD UPT_API int upt_sbom_parse(struct upt_sbom *out, struct upt_arena *a,
					 const uint8_t *in, size_t len, struct upt_error *err);

/* "cyclonedx-1.6", "spdx-2.3" into out[0..cap). */
UPT_API void upt_sbom_format_name(const struct upt_sbom *s, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
