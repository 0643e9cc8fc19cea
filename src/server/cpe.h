/* uptake-server: CPE 2.3 names (NISTIR 7695) and their matching
 * (NISTIR 7696) for NVD applicability statements.
 *
 * srv_cpe_parse reads the formatted string binding ("cpe:2.3:" and eleven
 * attributes, ':' inside a value escaped as "\:") and the CPE 2.2 URI
 * binding ("cpe:/a:vendor:product:version", percent-encoded, edition
 * packed with '~'). Each attribute is ANY ("*", or empty in a URI), NA
 * ("-") or a value: alphanumerics, '_', '-', '.' and escaped punctuation,
 * with an unescaped '*' or a run of '?' allowed only at its start or end
 * (wildcards, formatted strings only). Values are kept unescaped and in
 * lower case (CPE values compare case-insensitively).
 *
 * srv_cpe_match says whether a source name (an NVD criteria, which may use
 * ANY and wildcards) matches a target (a component's CPE): per attribute,
 * source ANY matches everything, NA matches NA, a value matches an equal
 * value or one its wildcards cover ('*' any run of characters, each '?'
 * one). One deviation from NISTIR 7696, stated: a target attribute that is
 * ANY matches any source value (SBOM generators such as Yocto's create-spdx
 * write "cpe:2.3:*:vendor:product:..." meaning "not known", and an unknown
 * attribute must not hide a vulnerability). The version attribute is not
 * compared here: srv_cpe_version_in does, with ranges. */
#ifndef UPTAKE_SERVER_CPE_H
#define UPTAKE_SERVER_CPE_H

#include <stdbool.h>
#include <stddef.h>

#define SRV_CPE_ATTRS     11
#define SRV_CPE_VALUE_MAX 256
#define SRV_CPE_MAX       2048 /* bytes of a bound name */

enum srv_cpe_attr_index {
	SRV_CPE_PART,
	SRV_CPE_VENDOR,
	SRV_CPE_PRODUCT,
	SRV_CPE_VERSION,
	SRV_CPE_UPDATE,
	SRV_CPE_EDITION,
	SRV_CPE_LANGUAGE,
	SRV_CPE_SW_EDITION,
	SRV_CPE_TARGET_SW,
	SRV_CPE_TARGET_HW,
	SRV_CPE_OTHER,
};

enum srv_cpe_kind {
	SRV_CPE_ANY,
	SRV_CPE_NA,
	SRV_CPE_VALUE,
};

struct srv_cpe_attr {
	enum srv_cpe_kind kind;
	char v[SRV_CPE_VALUE_MAX]; /* unescaped, lower case, without wildcards */
	bool pre_star, post_star;  /* an unescaped '*' at the start, the end */
	unsigned pre_q, post_q;    /* unescaped '?'s at the start, the end */
};

struct srv_cpe {
	struct srv_cpe_attr a[SRV_CPE_ATTRS];
};

/* NULL when `s` is a CPE name (either binding), else why not, with the
 * attribute's name in *attr (NULL when not about one attribute). */
const char *srv_cpe_parse(struct srv_cpe *c, const char *s, const char **attr);
const char *srv_cpe_attr_name(size_t i);
/* Whether the value has wildcards. */
bool srv_cpe_wild(const struct srv_cpe_attr *x);
/* Whether a source value (with its wildcards) covers the plain value t. */
bool srv_cpe_value_match(const struct srv_cpe_attr *s, const char *t);
/* All attributes but the version; see above. */
bool srv_cpe_match(const struct srv_cpe *source, const struct srv_cpe *target);

/* A version range of NVD's cpeMatch: "" for an open end. */
struct srv_cpe_range {
	const char *start, *end;
	bool start_excl, end_excl;
};

/* Whether version `v` (an upstream version) is in the range, compared by
 * SemVer 2.0 when both sides are SemVer versions and by the generic rule
 * of versions.h otherwise. */
bool srv_cpe_version_in(const char *v, const struct srv_cpe_range *r);

#endif
