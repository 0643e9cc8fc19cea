/* uptake-server: version comparison per ecosystem, with the ecosystem's
 * own rules: Debian (and Ubuntu) through libdpkg, the RPM distributions
 * (Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE, Mageia, openEuler,
 * Azure Linux, Photon OS) through librpm, SemVer 2.0.0 for SEMVER
 * ranges and the ecosystems that use it (npm, crates.io), and a generic
 * rule otherwise (runs of digits compared as numbers, other runs bytewise,
 * the separators . - _ + between them ignored). */
#ifndef UPTAKE_SERVER_VERSIONS_H
#define UPTAKE_SERVER_VERSIONS_H

#include <stdbool.h>

enum srv_vscheme {
	SRV_VS_GENERIC,
	SRV_VS_SEMVER,
	SRV_VS_DEBIAN,
	SRV_VS_RPM,
};

/* The scheme of an OSV ecosystem ("Debian:12" -> Debian, "Red Hat:rhel_e4s:
 * 8.4::baseos" -> RPM) and range type ("SEMVER" is SemVer whatever the
 * ecosystem). */
enum srv_vscheme srv_vscheme_of(const char *ecosystem, const char *range_type);
/* "debian", "rpm", "semver", "generic", and back (unknown: generic). */
const char *srv_vscheme_name(enum srv_vscheme s);
enum srv_vscheme srv_vscheme_named(const char *name);
/* Whether `v` is a version of the scheme (Debian: deb-version(5); RPM:
 * [epoch:]version[-release], the epoch digits, version and release
 * non-empty of alphanumerics and . _ + ~ ^, split at the first ':' and the
 * last '-' as rpm does; SemVer: the 2.0.0 grammar; generic: non-empty
 * printable ASCII without spaces). */
bool srv_version_valid(enum srv_vscheme s, const char *v);
/* <0, 0, >0 like strcmp; both must be valid. */
int srv_version_cmp(enum srv_vscheme s, const char *a, const char *b);

#endif
