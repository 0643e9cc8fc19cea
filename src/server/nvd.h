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
 * only on a criteria whose version is *. Every cpeMatch becomes an
 * affected[] entry {"cfg", "node", "vulnerable", "cpe", "start",
 * "start_excl", "end", "end_excl"} (its configuration and node by index),
 * and the record keeps the configurations' shape, "configurations":
 * [{"operator", "negate", "nodes": [{"operator", "negate"}]}], so that
 * NVD's applicability is evaluated per SBOM (srv_nvd_applies): a "running
 * on/with" configuration (AND of a node of vulnerable criteria and a node
 * of platform criteria, vulnerable false) applies only to an SBOM that has
 * the platform too. */
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
 * not taken (NULL when taken: it has a vulnerable criteria); *platform
 * counts the cpeMatch entries that are conditions only (vulnerable false,
 * or in a negated node). */
int srv_nvd_normalize(struct srv_json *o, const struct upt_json *item, const char *source,
		      const char **skip, size_t *platform, struct upt_error *err);
/* Whether a normalized affected[] entry with "cpe" hits a component with
 * this CPE and version (the CPE's version first; `debian_version`: the
 * component's version is a Debian one, compared by its upstream part). */
bool srv_nvd_hit(const struct upt_json *af, const char *cpe, const char *version,
		 bool debian_version);
/* Whether a normalized record needs its configurations evaluated against
 * the whole SBOM (a node of conditions, an AND, a negation, more than one
 * node in a configuration); when not, every entry counts on its own. */
bool srv_nvd_conditional(const struct upt_json *rec);
/* NVD's applicability against one SBOM: `matched[i]` says whether
 * affected[i] of the normalized record matches some component of the SBOM;
 * sets `use[i]` to whether the components affected[i] matches are affected
 * ones. A node holds when (operator AND) every entry of it matches or (OR)
 * one does, inverted by negate; a configuration applies when (AND) every
 * node holds or (OR, the default) one does, inverted by negate; the
 * affected components are those of the vulnerable entries in holding nodes
 * that are not negated, of configurations that apply. A record normalized
 * before configurations were kept: every vulnerable entry counts. */
void srv_nvd_applies(const struct upt_json *rec, const bool *matched, bool *use);

#endif
