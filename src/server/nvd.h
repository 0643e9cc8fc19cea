/* uptake-server: NVD CVE JSON 2.0 records (the NVD API's and feeds'
 * {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve":
 * {...}}]}), checked and normalized into the record shape matching uses.
 *
 * What uptake relies on is checked strictly: cve.id (CVE-YYYY-NNNN),
 * lastModified (NVD's UTC time), vulnStatus ("Rejected" is withdrawn),
 * descriptions, metrics (the base severity of the newest CVSS version), and
 * configurations[].nodes[].cpeMatch[]: no unknown members there, operator
 * AND/OR, criteria a CPE 2.3 formatted string (cpe.h), versionStart/End
 * Including/Excluding valid versions, at most one bound per end, a range
 * only on a criteria whose version is *. Each vulnerable cpeMatch of a
 * node that is not negated becomes an affected[] entry {"cpe", "start",
 * "start_excl", "end", "end_excl"}; entries with vulnerable false (the
 * platform of an AND configuration: "running on") and negated nodes are
 * counted and not evaluated, so a record hits a component its vulnerable
 * criteria match whatever platform the SBOM names (a false positive rather
 * than a miss). */
#ifndef UPTAKE_SERVER_NVD_H
#define UPTAKE_SERVER_NVD_H

#include <stdbool.h>
#include <stddef.h>
#include <uptake/common.h>

struct srv_json;
struct upt_json;

/* Whether a file's JSON is an NVD document rather than an OSV record. */
bool srv_nvd_document(const struct upt_json *v);
/* format "NVD_CVE", version "2.0", vulnerabilities an array. */
int srv_nvd_check_document(const struct upt_json *v, const char *source, struct upt_error *err);
/* The cve object of a vulnerabilities[] item, NULL when it is not one. */
const struct upt_json *srv_nvd_cve(const struct upt_json *item);
/* Check and normalize one vulnerabilities[] item; *skip says why it is
 * not taken (NULL when taken); *platform counts the cpeMatch entries not
 * evaluated. */
int srv_nvd_normalize(struct srv_json *o, const struct upt_json *item, const char *source,
		      const char **skip, size_t *platform, struct upt_error *err);
/* Whether a normalized affected[] entry with "cpe" hits a component with
 * this CPE and version (the CPE's version first; `debian_version`: the
 * component's version is a Debian one, compared by its upstream part). */
bool srv_nvd_hit(const struct upt_json *af, const char *cpe, const char *version,
		 bool debian_version);

#endif
