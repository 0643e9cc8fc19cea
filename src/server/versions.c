/* uptake-server: version comparison per ecosystem (see versions.h). */
#define LIBDPKG_VOLATILE_API 1
#include "versions.h"

#include <dpkg/version.h>
#include <limits.h>
#include <rpm/rpmver.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* OSV's ecosystems whose versions are RPM's (epoch:version-release,
 * compared by rpmvercmp). */
static const char *const rpm_ecosystems[] = {"AlmaLinux", "Azure Linux", "Mageia",
					     "openEuler", "openSUSE",    "Photon OS",
					     "Red Hat",   "Rocky Linux", "SUSE"};

enum srv_vscheme srv_vscheme_of(const char *ecosystem, const char *range_type)
{
	size_t n = strcspn(ecosystem, ":");
	if (range_type && strcmp(range_type, "SEMVER") == 0)
		return SRV_VS_SEMVER;
	if ((n == 6 && strncmp(ecosystem, "Debian", 6) == 0) ||
	    (n == 6 && strncmp(ecosystem, "Ubuntu", 6) == 0))
		return SRV_VS_DEBIAN;
	for (size_t i = 0; i < sizeof rpm_ecosystems / sizeof *rpm_ecosystems; i++)
		if (strlen(rpm_ecosystems[i]) == n && strncmp(ecosystem, rpm_ecosystems[i], n) == 0)
			return SRV_VS_RPM;
	if ((n == 3 && strncmp(ecosystem, "npm", 3) == 0) ||
	    (n == 9 && strncmp(ecosystem, "crates.io", 9) == 0))
		return SRV_VS_SEMVER;
	return SRV_VS_GENERIC;
}

static const char *const scheme_names[] = {
    [SRV_VS_GENERIC] = "generic",
    [SRV_VS_SEMVER] = "semver",
    [SRV_VS_DEBIAN] = "debian",
    [SRV_VS_RPM] = "rpm",
};

const char *srv_vscheme_name(enum srv_vscheme s)
{
	return (size_t)s < sizeof scheme_names / sizeof *scheme_names ? scheme_names[s] : "generic";
}

enum srv_vscheme srv_vscheme_named(const char *name)
{
	for (size_t i = 0; name && i < sizeof scheme_names / sizeof *scheme_names; i++)
		if (strcmp(scheme_names[i], name) == 0)
			return (enum srv_vscheme)i;
	return SRV_VS_GENERIC;
}

/* ---- Debian: split as dpkg's parseversion does, compare with libdpkg ---- */

struct deb {
	unsigned epoch;
	char buf[256];
	const char *version, *revision;
};

/* The epoch: the digits from s to colon, at most max. */
static bool epoch_of(const char *s, const char *colon, unsigned long max, unsigned long *out)
{
	unsigned long e = 0;
	if (colon == s)
		return false;
	for (const char *p = s; p < colon; p++) {
		if (!is_digit(*p))
			return false;
		e = e * 10 + (unsigned long)(*p - '0');
		if (e > max)
			return false;
	}
	*out = e;
	return true;
}

static bool deb_split(struct deb *d, const char *s)
{
	const char *colon = strchr(s, ':'), *up = s;
	char *hyphen;
	size_t n;
	unsigned long e = 0;
	d->epoch = 0;
	if (colon) {
		if (!epoch_of(s, colon, INT_MAX, &e))
			return false;
		d->epoch = (unsigned)e;
		up = colon + 1;
	}
	n = strlen(up);
	if (!n || n >= sizeof d->buf)
		return false;
	memcpy(d->buf, up, n + 1);
	hyphen = strrchr(d->buf, '-');
	d->revision = "";
	if (hyphen) {
		*hyphen = '\0';
		d->revision = hyphen + 1;
		if (!*d->revision)
			return false;
	}
	d->version = d->buf;
	if (!*d->version || !is_digit(*d->version))
		return false;
	for (const char *p = d->version; *p; p++)
		if (!is_alnum(*p) && !strchr(".-+~:", *p))
			return false;
	for (const char *p = d->revision; *p; p++)
		if (!is_alnum(*p) && !strchr(".+~", *p))
			return false;
	return true;
}

static int deb_cmp(const char *a, const char *b)
{
	struct deb x, y;
	struct dpkg_version va, vb;
	if (!deb_split(&x, a) || !deb_split(&y, b))
		return strcmp(a, b);
	va = DPKG_VERSION_OBJECT(x.epoch, x.version, x.revision);
	vb = DPKG_VERSION_OBJECT(y.epoch, y.version, y.revision);
	return dpkg_version_compare(&va, &vb);
}

/* ---- RPM: split and compared by librpm (rpmverParse, rpmverCmp) ---------- */

static bool rpm_chars(const char *p, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(p[i]) && !strchr("._+~^", p[i]))
			return false;
	return true;
}

/* [epoch:]version[-release]: the epoch's digits before the first ':', the
 * release after the last '-' (rpm's parseEVR). */
static bool rpm_valid(const char *s)
{
	const char *colon = strchr(s, ':'), *v = s, *dash;
	unsigned long e;
	if (colon) {
		if (!epoch_of(s, colon, UINT32_MAX, &e))
			return false;
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	if (!dash)
		return rpm_chars(v, strlen(v));
	return rpm_chars(v, (size_t)(dash - v)) && rpm_chars(dash + 1, strlen(dash + 1));
}

static int rpm_cmp(const char *a, const char *b)
{
	rpmver x = NULL, y = NULL;
	int c;
	if (!rpm_valid(a) || !rpm_valid(b) || !(x = rpmverParse(a)) || !(y = rpmverParse(b)))
		c = strcmp(a, b);
	else
		c = rpmverCmp(x, y);
	if (x)
		rpmverFree(x);
	if (y)
		rpmverFree(y);
	return c;
}

/* ---- SemVer 2.0.0 --------------------------------------------------------- */

/* A numeric identifier: digits without a leading zero. */
static bool sv_numeric(const char *p, size_t n)
{
	if (!n || (n > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

static bool sv_idents(const char *p, size_t n, bool pre)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		if (i == start)
			return false;
		bool digits = true;
		for (size_t k = start; k < i; k++) {
			if (!is_alnum(p[k]) && p[k] != '-')
				return false;
			digits = digits && is_digit(p[k]);
		}
		if (pre && digits && !sv_numeric(p + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool semver_valid(const char *v)
{
	const char *p = v;
	size_t core_len = strcspn(v, "-+");
	for (int part = 0; part < 3; part++) {
		size_t n = strspn(p, "0123456789");
		if (!sv_numeric(p, n) || n > 18)
			return false;
		p += n;
		if (part < 2) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	if ((size_t)(p - v) != core_len)
		return false;
	if (*p == '-') {
		size_t n = strcspn(p + 1, "+");
		if (!sv_idents(p + 1, n, true))
			return false;
		p += 1 + n;
	}
	if (*p == '+') {
		if (!sv_idents(p + 1, strlen(p + 1), false))
			return false;
		p += strlen(p);
	}
	return *p == '\0';
}

static int num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	while (an > 1 && *a == '0')
		a++, an--;
	while (bn > 1 && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

static int semver_cmp(const char *a, const char *b)
{
	const char *pa = a, *pb = b;
	int c;
	for (int part = 0; part < 3; part++) {
		size_t na = strspn(pa, "0123456789"), nb = strspn(pb, "0123456789");
		if ((c = num_cmp(pa, na, pb, nb)) != 0)
			return c;
		pa += na + (part < 2);
		pb += nb + (part < 2);
	}
	/* a pre-release is below its release */
	if (*pa != '-' || *pb != '-')
		return (*pa == '-') == (*pb == '-') ? 0 : *pa == '-' ? -1 : 1;
	pa++, pb++;
	for (;;) {
		size_t na = strcspn(pa, ".+"), nb = strcspn(pb, ".+");
		bool da = na && strspn(pa, "0123456789") >= na,
		     db = nb && strspn(pb, "0123456789") >= nb;
		if (!na || !nb)
			return na == nb ? 0 : na ? 1 : -1;
		if (da && db)
			c = num_cmp(pa, na, pb, nb);
		else if (da != db)
			c = da ? -1 : 1;
		else {
			c = memcmp(pa, pb, na < nb ? na : nb);
			if (!c && na != nb)
				c = na < nb ? -1 : 1;
		}
		if (c)
			return c;
		pa += na;
		pb += nb;
		if (*pa != '.' || *pb != '.')
			return (*pa == '.') == (*pb == '.') ? 0 : *pa == '.' ? 1 : -1;
		pa++, pb++;
	}
}

/* ---- generic ------------------------------------------------------------- */

static bool sep(char c)
{
	return c == '.' || c == '-' || c == '_' || c == '+';
}

static int generic_cmp(const char *a, const char *b)
{
	for (;;) {
		size_t na, nb;
		int c;
		while (sep(*a))
			a++;
		while (sep(*b))
			b++;
		if (!*a || !*b)
			return *a ? 1 : *b ? -1 : 0;
		if (is_digit(*a) && is_digit(*b)) {
			na = strspn(a, "0123456789");
			nb = strspn(b, "0123456789");
			c = num_cmp(a, na, b, nb);
		} else {
			na = strcspn(a, ".-_+0123456789");
			nb = strcspn(b, ".-_+0123456789");
			if (!na || !nb) /* a number is above a word ("1.0" > "1.rc") */
				return na ? -1 : 1;
			c = memcmp(a, b, na < nb ? na : nb);
			if (!c && na != nb)
				c = na < nb ? -1 : 1;
		}
		if (c)
			return c;
		a += na;
		b += nb;
	}
}

bool srv_version_valid(enum srv_vscheme s, const char *v)
{
	struct deb d;
	if (!v || !*v || strlen(v) > 200)
		return false;
	if (s == SRV_VS_DEBIAN)
		return deb_split(&d, v);
	if (s == SRV_VS_RPM)
		return rpm_valid(v);
	if (s == SRV_VS_SEMVER)
		return semver_valid(v);
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

int srv_version_cmp(enum srv_vscheme s, const char *a, const char *b)
{
	int c = s == SRV_VS_DEBIAN   ? deb_cmp(a, b)
		: s == SRV_VS_RPM    ? rpm_cmp(a, b)
		: s == SRV_VS_SEMVER ? semver_cmp(a, b)
				     : generic_cmp(a, b);
	return c < 0 ? -1 : c > 0;
}
