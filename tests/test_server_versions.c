/* Version comparison per ecosystem (src/server/versions.c). Debian
 * versions are checked against dpkg itself (`dpkg --compare-versions`) on a
 * generated table of every pair, RPM versions against rpm itself
 * (rpm.vercmp in `rpm --eval`, Debian's rpm package); SemVer against the precedence list of
 * SemVer 2.0.0 section 11; the generic rule on known orders; validity of
 * each scheme on good and bad versions. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/server/versions.h"
#include "harness.h"

extern char **environ;

/* dpkg --compare-versions A OP B: true when the relation holds. */
static bool dpkg_says(const char *a, const char *op, const char *b)
{
	char va[64], vo[4], vb[64], prog[] = "dpkg", cmd[] = "--compare-versions";
	char *argv[] = {prog, cmd, va, vo, vb, NULL};
	pid_t pid;
	/* a version cut short would be another version: not compared */
	if (strlen(a) >= sizeof va || strlen(op) >= sizeof vo || strlen(b) >= sizeof vb)
		abort();
	snprintf(va, sizeof va, "%.*s", (int)sizeof va - 1, a);
	snprintf(vo, sizeof vo, "%.*s", (int)sizeof vo - 1, op);
	snprintf(vb, sizeof vb, "%.*s", (int)sizeof vb - 1, b);
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

/* The table of RPM versions: [epoch:]version[-release], every third. */
static size_t rpm_table(char (*table)[48], size_t max)
{
	static const char *const epochs[] = {"", "1:"};
	static const char *const vers[] = {"1.0",   "1.0~rc1", "1.0^git1", "1.0a",  "1.0.1", "1.00",
					   "1.1.1", "1.1.1k",  "1.0_1",    "1.0+b", "2",     "10"};
	static const char *const rels[] = {"", "-1", "-1.el7", "-19.el7", "-8.el7_9", "-1~beta"};
	size_t n = 0, k = 0;
	for (size_t e = 0; e < 2; e++)
		for (size_t v = 0; v < sizeof vers / sizeof *vers; v++)
			for (size_t r = 0; r < sizeof rels / sizeof *rels; r++, k++)
				if (k % 3 == 0 && n < max)
					snprintf(table[n++], sizeof table[0], "%s%s%s", epochs[e],
						 vers[v], rels[r]);
	return n;
}

/* rpm --eval with a Lua loop printing rpm.vercmp(a, b) for every pair of
 * the table, one per line, read into out[i * n + j]; false when rpm did
 * not answer every pair. */
static bool rpm_says(char (*table)[48], size_t n, int *out)
{
	static char script[8192], buf[16384];
	char prog[] = "rpm", eval[] = "--eval";
	char *argv[] = {prog, eval, script, NULL};
	posix_spawn_file_actions_t fa;
	size_t len = 0, got = 0;
	int fd[2], st = 0;
	pid_t pid;
	ssize_t r;
	int w = snprintf(script, sizeof script, "%%{lua: local t = {");
	for (size_t i = 0; i < n; i++)
		w += snprintf(script + w, sizeof script - (size_t)w, "%s\"%s\"", i ? "," : "",
			      table[i]);
	w += snprintf(script + w, sizeof script - (size_t)w,
		      "}; for i = 1, #t do for j = 1, #t do "
		      "io.write(rpm.vercmp(t[i], t[j]), \"\\n\") end end}");
	if (w <= 0 || (size_t)w >= sizeof script || pipe(fd) != 0)
		return false;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	if (posix_spawnp(&pid, "rpm", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fd[0]);
		close(fd[1]);
		return false;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	while ((r = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)r;
	close(fd[0]);
	buf[len] = '\0';
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return false;
	for (char *p = buf; *p && got < n * n;) {
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (strcmp(p, "-1") != 0 && strcmp(p, "0") != 0 && strcmp(p, "1") != 0)
			return false;
		out[got++] = p[0] == '-' ? -1 : p[0] - '0';
		p = nl + 1;
	}
	return got == n * n;
}

static void test_rpm_against_rpm(void)
{
	static char table[64][48];
	static int theirs[64 * 64];
	size_t n = rpm_table(table, 64), wrong = 0;
	bool have_rpm = rpm_says(table, n, theirs);
	CHECK(n == 48);
	CHECK(have_rpm); /* the oracle must be there: never skip into green */
	if (!have_rpm)
		return;
	for (size_t i = 0; i < n; i++) {
		CHECK(srv_version_valid(SRV_VS_RPM, table[i]));
		for (size_t j = 0; j < n; j++) {
			int ours = srv_version_cmp(SRV_VS_RPM, table[i], table[j]);
			if (ours != theirs[i * n + j]) {
				wrong++;
				printf("  %s vs %s: uptake %d, rpm %d\n", table[i], table[j], ours,
				       theirs[i * n + j]);
			}
		}
	}
	printf("  %zu RPM pairs compared with rpm\n", n * n);
	CHECK(wrong == 0);
	/* where only RPM's rules are right: the release is compared on its own
	 * (the generic rule reads 1.1.1-8 as above 1.1.1g), tilde sorts first */
	CHECK(srv_version_cmp(SRV_VS_RPM, "1:1.1.1-8.el8", "1:1.1.1g-15.el8_3") == -1);
	CHECK(srv_version_cmp(SRV_VS_GENERIC, "1:1.1.1-8.el8", "1:1.1.1g-15.el8_3") == 1);
	CHECK(srv_version_cmp(SRV_VS_RPM, "1.0.2k-19.el7", "1.0.2k-8.el7") == 1);
	CHECK(srv_version_cmp(SRV_VS_RPM, "2:1.0-1", "1:9.9-1") == 1);
}

static void test_rpm_validity(void)
{
	static const char *const bad[] = {"",        ":1.0",           "x:1.0",   "1.0-",
					  "-1",      "1.0 beta",       "1.0-1 2", "1:2:3.0",
					  "1.0/2-1", "99999999999:1.0"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(!srv_version_valid(SRV_VS_RPM, bad[i]));
	CHECK(srv_version_valid(SRV_VS_RPM, "1:1.0.2k-26.el7_9"));
	CHECK(srv_version_valid(SRV_VS_RPM, "3.0.7-27.el9"));
	CHECK(srv_version_valid(SRV_VS_RPM, "1.0~rc1^git20240101-0.1"));
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
	CHECK(srv_vscheme_of("Red Hat:rhel_e4s:8.4::baseos", "ECOSYSTEM") == SRV_VS_RPM);
	CHECK(srv_vscheme_of("AlmaLinux:9", "ECOSYSTEM") == SRV_VS_RPM);
	CHECK(srv_vscheme_of("Rocky Linux:8", NULL) == SRV_VS_RPM);
	CHECK(srv_vscheme_of("openSUSE:Tumbleweed", NULL) == SRV_VS_RPM);
	CHECK(srv_vscheme_of("SUSE:SUSE Linux Enterprise Server 15 SP5", NULL) == SRV_VS_RPM);
	CHECK(srv_vscheme_of("Mageia:9", NULL) == SRV_VS_RPM);
	CHECK(srv_vscheme_of("Red Hatter", NULL) == SRV_VS_GENERIC);
	CHECK(srv_vscheme_of("Red Hat", "SEMVER") == SRV_VS_SEMVER);
	for (int s = SRV_VS_GENERIC; s <= SRV_VS_RPM; s++)
		CHECK((int)srv_vscheme_named(srv_vscheme_name((enum srv_vscheme)s)) == s);
	CHECK(srv_vscheme_named("nope") == SRV_VS_GENERIC);
}

int main(void)
{
	RUN(test_debian_against_dpkg);
	RUN(test_debian_validity);
	RUN(test_rpm_against_rpm);
	RUN(test_rpm_validity);
	RUN(test_semver);
	RUN(test_generic_and_schemes);
	TEST_MAIN_END();
}
