/* Version comparison per ecosystem (src/server/versions.c). Debian
 * versions are checked against dpkg itself (`dpkg --compare-versions`) on a
 * generated table of every pair; SemVer against the precedence list of
 * SemVer 2.0.0 section 11; the generic rule on known orders; validity of
 * each scheme on good and bad versions. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../src/server/versions.h"
#include "harness.h"

extern char **environ;

/* dpkg --compare-versions A OP B: true when the relation holds. */
static bool dpkg_says(const char *a, const char *op, const char *b)
{
	char va[64], vo[4], vb[64], prog[] = "dpkg", cmd[] = "--compare-versions";
	char *argv[] = {prog, cmd, va, vo, vb, NULL};
	pid_t pid;
	snprintf(va, sizeof va, "%s", a);
	snprintf(vo, sizeof vo, "%s", op);
	snprintf(vb, sizeof vb, "%s", b);
	int st = 0;
	if (posix_spawnp(&pid, "dpkg", NULL, NULL, argv, environ) != 0)
		return false;
	if (waitpid(pid, &st, 0) != pid)
		return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_debian_against_dpkg(void)
{
	static const char *const epochs[] = {"", "1:"};
	static const char *const ups[] = {"1.0",  "1.0~rc1", "1.0+dfsg", "1.00", "1.0.1",
					  "1.0a", "1.0~~",   "2",        "10",   "1.2.13.dfsg"};
	static const char *const revs[] = {"", "-1", "-1~deb12u1", "-1+b1", "-0", "-10"};
	char table[120][48];
	size_t n = 0, checked = 0, wrong = 0;
	bool have_dpkg = dpkg_says("1", "lt", "2");
	CHECK(have_dpkg); /* the oracle must be there: never skip into green */
	if (!have_dpkg)
		return;
	for (size_t e = 0; e < 2; e++)
		for (size_t u = 0; u < sizeof ups / sizeof *ups; u++)
			for (size_t r = 0; r < sizeof revs / sizeof *revs; r++)
				snprintf(table[n++], sizeof table[0], "%s%s%s", epochs[e], ups[u],
					 revs[r]);
	/* every third version, paired with every other one: 40 x 40 */
	for (size_t i = 0; i < n; i += 3) {
		CHECK(srv_version_valid(SRV_VS_DEBIAN, table[i]));
		for (size_t j = 0; j < n; j += 3) {
			int ours = srv_version_cmp(SRV_VS_DEBIAN, table[i], table[j]);
			int theirs = dpkg_says(table[i], "lt", table[j])   ? -1
				     : dpkg_says(table[i], "eq", table[j]) ? 0
									   : 1;
			checked++;
			if (ours != theirs) {
				wrong++;
				printf("  %s vs %s: uptake %d, dpkg %d\n", table[i], table[j], ours,
				       theirs);
			}
		}
	}
	printf("  %zu Debian pairs compared with dpkg\n", checked);
	CHECK(checked == 1600);
	CHECK(wrong == 0);
}

static void test_debian_validity(void)
{
	static const char *const bad[] = {"",         "a1.0",  "1.0-",    ":1.0", "x:1.0",
					  "1.0 beta", "1.0_1", "1.0-1_2", "-1",   "99999999999:1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!srv_version_valid(SRV_VS_DEBIAN, bad[i]));
	CHECK(srv_version_valid(SRV_VS_DEBIAN, "1:1.2.13.dfsg-1"));
	CHECK(srv_version_valid(SRV_VS_DEBIAN, "3.0.11-1~deb12u1"));
	CHECK(srv_version_valid(SRV_VS_DEBIAN, "1.0-1-2")); /* the last hyphen splits */
}

static void test_semver(void)
{
	/* SemVer 2.0.0, 11.4: each below the next */
	static const char *const order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
					    "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
					    "1.0.0-rc.1",  "1.0.0",         "1.0.1",
					    "1.2.0",       "1.10.0",        "2.0.0"};
	static const char *const bad[] = {"1",      "1.0",    "01.0.0",     "1.0.0-", "1.0.0-01",
					  "1.0.0+", "v1.0.0", "1.0.0-a..b", "1.0.0 ", "1.0.x"};
	size_t n = sizeof order / sizeof *order;
	for (size_t i = 0; i < n; i++) {
		CHECK(srv_version_valid(SRV_VS_SEMVER, order[i]));
		for (size_t j = 0; j < n; j++)
			CHECK(srv_version_cmp(SRV_VS_SEMVER, order[i], order[j]) == (i < j   ? -1
										     : i > j ? 1
											     : 0));
	}
	CHECK(srv_version_cmp(SRV_VS_SEMVER, "1.0.0+build.1", "1.0.0+build.2") == 0);
	CHECK(srv_version_valid(SRV_VS_SEMVER, "1.0.0-x-y.7+exp.sha.5114f85"));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!srv_version_valid(SRV_VS_SEMVER, bad[i]));
}

static void test_generic_and_schemes(void)
{
	CHECK(srv_version_cmp(SRV_VS_GENERIC, "1.2.10", "1.2.9") == 1);
	CHECK(srv_version_cmp(SRV_VS_GENERIC, "2.0", "2.0") == 0);
	CHECK(srv_version_cmp(SRV_VS_GENERIC, "1.0", "1.0.1") == -1);
	CHECK(srv_version_cmp(SRV_VS_GENERIC, "1.0", "1.rc") == 1);
	CHECK(!srv_version_valid(SRV_VS_GENERIC, "1 0"));
	CHECK(srv_vscheme_of("Debian:12", "ECOSYSTEM") == SRV_VS_DEBIAN);
	CHECK(srv_vscheme_of("Debian", NULL) == SRV_VS_DEBIAN);
	CHECK(srv_vscheme_of("DebianX", NULL) == SRV_VS_GENERIC);
	CHECK(srv_vscheme_of("npm", "ECOSYSTEM") == SRV_VS_SEMVER);
	CHECK(srv_vscheme_of("PyPI", "SEMVER") == SRV_VS_SEMVER);
	CHECK(srv_vscheme_of("PyPI", "ECOSYSTEM") == SRV_VS_GENERIC);
}

int main(void)
{
	RUN(test_debian_against_dpkg);
	RUN(test_debian_validity);
	RUN(test_semver);
	RUN(test_generic_and_schemes);
	TEST_MAIN_END();
}
