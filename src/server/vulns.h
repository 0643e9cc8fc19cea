/* uptake-server: SBOMs and vulnerability handling. SBOMs are stored by
 * content and tied to images by the custom.sbom hash the offline targets
 * key signed; vulnerability records (OSV) are checked and normalized on
 * import, all or nothing. Matching runs vulnerability -> affected
 * components (ecosystem rules of versions.h) -> SBOMs -> published images
 * -> ECUs whose last verified report names the image's hash -> devices.
 * Pure request logic over the store, no HTTP. */
#ifndef UPTAKE_SERVER_VULNS_H
#define UPTAKE_SERVER_VULNS_H

#include <stdint.h>
#include <uptake/common.h>

#include "store.h"

#define SRV_VULN_IMPORT_MAX (16u << 20)
#define SRV_SBOM_MAX        (32u << 20)

/* PUT an SBOM whose sha256 is `sha256` (checked), parsed and checked as
 * `uptake publish --sbom` does. */
int srv_admin_sbom_put(struct srv_store *st, const char *sha256, const uint8_t *body, size_t len,
		       int64_t now, char **resp, struct upt_error *err);
/* The SBOM as stored (*resp malloc'd, *len its length). */
int srv_admin_sbom_get(struct srv_store *st, const char *sha256, char **resp, size_t *len,
		       struct upt_error *err);
/* {"format":..., "components":[{name, version, purl, cpe}...]}. */
int srv_admin_sbom_components(struct srv_store *st, const char *sha256, char **resp,
			      struct upt_error *err);
/* The known vulnerabilities an SBOM's components match (the release
 * gate): {"vulnerabilities":[{id, exploited, severity, vex, components}]},
 * vex: the statement that says target `target` (may be NULL) or every
 * hit component is not affected, or null. */
int srv_admin_sbom_vulns(struct srv_store *st, const char *sha256, const char *target, char **resp,
			 struct upt_error *err);
/* POST a CSAF 2.0 VEX document: its known_not_affected (with a
 * justification) and fixed statements about published targets (by name)
 * or components (by purl) replace the document's earlier ones. */
int srv_admin_vex_import(struct srv_store *st, const uint8_t *body, size_t len, int64_t now,
			 char **resp, struct upt_error *err);
/* POST {"records":[{"source": NAME, "record": OSV}...]}: check every
 * record, then store all in one transaction; answer counts. */
int srv_admin_vuln_import(struct srv_store *st, const uint8_t *body, size_t len, int64_t now,
			  char **resp, struct upt_error *err);
/* Recompute every matching row from scratch, in one transaction (the
 * rows are otherwise kept current as records and SBOMs arrive):
 * {"match_rows", "sboms", "records"}. */
int srv_admin_vuln_rematch(struct srv_store *st, char **resp, struct upt_error *err);
/* One record, what it affects (images, devices). */
int srv_admin_vuln_show(struct srv_store *st, const char *id, int64_t now, char **resp,
			struct upt_error *err);
/* POST {"aware_at": seconds}: the manufacturer knows it is exploited. */
int srv_admin_vuln_exploited(struct srv_store *st, const char *id, const uint8_t *body, size_t len,
			     char **resp, struct upt_error *err);
/* POST {"stage": "early"|"notification"|"final", "at": seconds}: an
 * Art. 14 report was made. */
int srv_admin_vuln_reported(struct srv_store *st, const char *id, const uint8_t *body, size_t len,
			    char **resp, struct upt_error *err);
/* A CSAF 2.0 security advisory about one record, published by
 * `publisher` (namespace `ns`, an http(s) URL). */
int srv_admin_vuln_advisory(struct srv_store *st, const char *id, const char *publisher,
			    const char *ns, int64_t now, char **resp, struct upt_error *err);
/* The Art. 14 clocks of every record marked exploited, as of `now`. */
int srv_report_art14(struct srv_store *st, int64_t now, char **resp, struct upt_error *err);
/* Per vulnerability and per device, as of `now`. */
int srv_report_vulns(struct srv_store *st, int64_t now, char **resp, struct upt_error *err);

/* Check and normalize one OSV record (`source` names it in errors);
 * *skip says why it is not taken (NULL when taken). Exposed for the fuzz
 * target. */
struct srv_json;
struct upt_json;
int srv_osv_normalize(struct srv_json *o, const struct upt_json *rec, const char *source,
		      const char **skip, size_t *git_ranges, struct upt_error *err);

#endif
