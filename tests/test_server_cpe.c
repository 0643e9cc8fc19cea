/* CPE 2.3 names and NVD applicability (src/server/cpe.c, nvd.c): the
 * formatted string and URI bindings with their escapes, ANY and NA, bad
 * names refused with the attribute named, attribute matching with
 * wildcards, and version ranges (including and excluding ends, SemVer
 * pre-releases, a Debian component version by its upstream part), and
 * NVD's applicability of configurations against an SBOM's CPEs (running
 * on/with, negated nodes, AND nodes, several configurations). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../src/server/cpe.h"
#include "../src/server/jsonout.h"
#include "../src/server/nvd.h"
#include "harness.h"

static bool parses(const char *s)
{
	struct srv_cpe c;
	const char *attr;
	return srv_cpe_parse(&c, s, &attr) == NULL;
}

static void test_parse(void)
{
	struct srv_cpe c;
	const char *attr = NULL, *why;
	why = srv_cpe_parse(&c, "cpe:2.3:a:Microsoft:Internet_Explorer:8.0.6001:beta:*:*:*:*:*:-",
			    &attr);
	CHECK(why == NULL);
	CHECK(c.a[SRV_CPE_PART].kind == SRV_CPE_VALUE && strcmp(c.a[SRV_CPE_PART].v, "a") == 0);
	CHECK(strcmp(c.a[SRV_CPE_VENDOR].v, "microsoft") == 0); /* case-insensitive */
	CHECK(strcmp(c.a[SRV_CPE_PRODUCT].v, "internet_explorer") == 0);
	CHECK(strcmp(c.a[SRV_CPE_VERSION].v, "8.0.6001") == 0);
	CHECK(c.a[SRV_CPE_LANGUAGE].kind == SRV_CPE_ANY);
	CHECK(c.a[SRV_CPE_OTHER].kind == SRV_CPE_NA);
	/* escapes: a colon, plus signs and a backslash inside values */
	CHECK(srv_cpe_parse(&c, "cpe:2.3:a:gnu:c\\+\\+lib:1.0\\:2:*:*:*:*:*:*:\\\\x", &attr) ==
	      NULL);
	CHECK(strcmp(c.a[SRV_CPE_PRODUCT].v, "c++lib") == 0);
	CHECK(strcmp(c.a[SRV_CPE_VERSION].v, "1.0:2") == 0);
	CHECK(strcmp(c.a[SRV_CPE_OTHER].v, "\\x") == 0);
	/* wildcards at the ends */
	CHECK(srv_cpe_parse(&c, "cpe:2.3:a:*soft:foo??:*:*:*:*:*:*:*:*", &attr) == NULL);
	CHECK(c.a[SRV_CPE_VENDOR].pre_star && strcmp(c.a[SRV_CPE_VENDOR].v, "soft") == 0);
	CHECK(c.a[SRV_CPE_PRODUCT].post_q == 2 && strcmp(c.a[SRV_CPE_PRODUCT].v, "foo") == 0);
	/* Yocto's create-spdx: part ANY */
	CHECK(parses("cpe:2.3:*:busybox:busybox:1.36.1:*:*:*:*:*:*:*"));
	/* the URI binding, packed edition, percent-encoding */
	CHECK(srv_cpe_parse(&c, "cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~",
			    &attr) == NULL);
	CHECK(c.a[SRV_CPE_UPDATE].kind == SRV_CPE_NA);
	CHECK(c.a[SRV_CPE_EDITION].kind == SRV_CPE_ANY);
	CHECK(strcmp(c.a[SRV_CPE_SW_EDITION].v, "online") == 0);
	CHECK(strcmp(c.a[SRV_CPE_TARGET_HW].v, "x64") == 0);
	CHECK(srv_cpe_parse(&c, "cpe:/a:foo%21bar:baz", &attr) == NULL);
	CHECK(strcmp(c.a[SRV_CPE_VENDOR].v, "foo!bar") == 0);
	CHECK(c.a[SRV_CPE_VERSION].kind == SRV_CPE_ANY);

	/* refused, with the attribute named */
	why = srv_cpe_parse(&c, "cpe:2.3:a:openssl:openssl:1.0:*:*:*:*:*:*", &attr);
	CHECK(why && strstr(why, "fewer than 11") && strcmp(attr, "other") == 0);
	why = srv_cpe_parse(&c, "cpe:2.3:a:openssl:openssl:1.0:*:*:*:*:*:*:*:*", &attr);
	CHECK(why && strstr(why, "more than 11"));
	why = srv_cpe_parse(&c, "cpe:2.3:a:open*ssl:openssl:1.0:*:*:*:*:*:*:*", &attr);
	CHECK(why && strstr(why, "wildcard") && strcmp(attr, "vendor") == 0);
	why = srv_cpe_parse(&c, "cpe:2.3:a:openssl:open ssl:1.0:*:*:*:*:*:*:*", &attr);
	CHECK(why && strstr(why, "special") && strcmp(attr, "product") == 0);
	why = srv_cpe_parse(&c, "cpe:2.3:a:openssl:c++:1.0:*:*:*:*:*:*:*", &attr);
	CHECK(why && strcmp(attr, "product") == 0);
	why = srv_cpe_parse(&c, "cpe:2.3:x:openssl:openssl:1.0:*:*:*:*:*:*:*", &attr);
	CHECK(why && strcmp(attr, "part") == 0);
	why = srv_cpe_parse(&c, "cpe:2.3:a::openssl:1.0:*:*:*:*:*:*:*", &attr);
	CHECK(why && strstr(why, "empty") && strcmp(attr, "vendor") == 0);
	CHECK(!parses("cpe:2.3:a:openssl:openssl:1.0\\a:*:*:*:*:*:*:*")); /* escaped letter */
	CHECK(!parses("cpe:2.3:a:openssl:openssl:1.0\\"));
	CHECK(!parses("cpe:2.2:a:openssl:openssl"));
	CHECK(!parses("pkg:deb/debian/openssl@3.0"));
	CHECK(!parses("cpe:/a:foo%2:bar"));
	CHECK(!parses("cpe:/a:foo:bar:1:2:3:4:5"));
	CHECK(!parses("cpe:/a:foo:bar:1:2:~a~b"));
}

static bool cpe_matches(const char *src, const char *tgt)
{
	struct srv_cpe s, t;
	const char *attr;
	return !srv_cpe_parse(&s, src, &attr) && !srv_cpe_parse(&t, tgt, &attr) &&
	       srv_cpe_match(&s, &t);
}

static void test_match(void)
{
	CHECK(cpe_matches("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
			  "cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*"));
	CHECK(cpe_matches("cpe:2.3:a:OpenSSL:openssl:*:*:*:*:*:*:*:*",
			  "cpe:2.3:*:openssl:openssl:3.1.4:*:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
			   "cpe:2.3:a:openssl:libressl:3.1.4:*:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*",
			   "cpe:2.3:a:linux:linux_kernel:6.1:*:*:*:*:*:*:*"));
	/* NA matches NA only */
	CHECK(cpe_matches("cpe:2.3:a:x:y:*:-:*:*:*:*:*:*", "cpe:2.3:a:x:y:1:-:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:a:x:y:*:-:*:*:*:*:*:*", "cpe:2.3:a:x:y:1:beta:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:a:x:y:*:beta:*:*:*:*:*:*", "cpe:2.3:a:x:y:1:-:*:*:*:*:*:*"));
	/* a target ANY (an SBOM that does not say) matches a source value */
	CHECK(cpe_matches("cpe:2.3:a:x:y:*:*:*:*:*:node.js:*:*", "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:a:x:y:*:*:*:*:*:node.js:*:*",
			   "cpe:2.3:a:x:y:1:*:*:*:*:python:*:*"));
	/* wildcards and escapes */
	CHECK(cpe_matches("cpe:2.3:a:*soft:y:*:*:*:*:*:*:*:*",
			  "cpe:2.3:a:microsoft:y:1:*:*:*:*:*:*:*"));
	CHECK(!cpe_matches("cpe:2.3:a:*soft:y:*:*:*:*:*:*:*:*",
			   "cpe:2.3:a:softer:y:1:*:*:*:*:*:*:*"));
	CHECK(cpe_matches("cpe:2.3:a:x:lib?:*:*:*:*:*:*:*:*", "cpe:2.3:a:x:libz:1:*:*:*:*:*:*:*"));
	CHECK(
	    !cpe_matches("cpe:2.3:a:x:lib?:*:*:*:*:*:*:*:*", "cpe:2.3:a:x:libzz:1:*:*:*:*:*:*:*"));
	CHECK(cpe_matches("cpe:2.3:a:gnu:c\\+\\+lib:*:*:*:*:*:*:*:*", "cpe:/a:gnu:c%2b%2blib:1.0"));
	CHECK(!cpe_matches("cpe:2.3:a:x:y:*:*:*:*:*:*:*:*", "cpe:2.3:a:x:y*:1:*:*:*:*:*:*:*"));
}

/* One normalized affected[] entry as nvd.c writes it. */
static bool hit(const char *entry, const char *cpe, const char *version, bool debian)
{
	static unsigned char mem[1 << 16];
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err = {0};
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&v, &a, (const uint8_t *)entry, strlen(entry), NULL, &err) != UPT_OK)
		return false;
	return srv_nvd_hit(v, cpe, version, debian);
}

#define OSSL "\"cpe\":\"cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*\""

static void test_ranges(void)
{
	const char *r = "{" OSSL ",\"start\":\"3.1.0\",\"start_excl\":false,\"end\":\"3.1.5\","
			"\"end_excl\":true}";
	const char *incl = "{" OSSL ",\"start\":\"3.0.0\",\"start_excl\":true,\"end\":\"3.1.4\","
			   "\"end_excl\":false}";
	const char *any = "{" OSSL ",\"start\":\"\",\"start_excl\":false,\"end\":\"\","
			  "\"end_excl\":false}";
	const char *exact = "{\"cpe\":\"cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*\"}";
	const char *yocto = "cpe:2.3:*:openssl:openssl:3.1.4:*:*:*:*:*:*:*";
	CHECK(hit(r, yocto, "3.1.4", false));
	CHECK(hit(r, "cpe:2.3:a:openssl:openssl:3.1.0:*:*:*:*:*:*:*", "", false));
	CHECK(!hit(r, "cpe:2.3:a:openssl:openssl:3.1.5:*:*:*:*:*:*:*", "", false));
	CHECK(!hit(r, "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*", "", false));
	CHECK(hit(r, "cpe:2.3:a:openssl:openssl:3.1.10:*:*:*:*:*:*:*", "", false) == false);
	CHECK(hit(incl, "cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*", "", false));
	CHECK(!hit(incl, "cpe:2.3:a:openssl:openssl:3.0.0:*:*:*:*:*:*:*", "", false));
	/* SemVer: a pre-release is below its release */
	CHECK(hit(r, "cpe:2.3:a:openssl:openssl:3.1.5-alpha1:*:*:*:*:*:*:*", "", false));
	/* the version from the component when the CPE has none; a Debian
	 * version by its upstream part (epoch and revision dropped) */
	CHECK(hit(r, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "3.1.4", false));
	CHECK(hit(r, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "1:3.1.4-1~deb12u1", true));
	CHECK(!hit(r, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "1:3.1.5-1", true));
	CHECK(!hit(r, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "", false)); /* unknown */
	CHECK(hit(any, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", "", false));
	CHECK(hit(exact, yocto, "", false));
	CHECK(!hit(exact, "cpe:2.3:a:openssl:openssl:3.1.40:*:*:*:*:*:*:*", "", false));
	CHECK(!hit(r, "cpe:2.3:a:openssl:libressl:3.1.4:*:*:*:*:*:*:*", "", false));
	CHECK(!hit(r, "", "3.1.4", false));
}

/* Normalize an NVD item with these configurations, then evaluate it
 * against an SBOM of these CPEs: *n entries, use[i] as srv_nvd_applies
 * sets it; conditional: what srv_nvd_conditional says. */
static bool applies(const char *configurations, const char *const *sbom, size_t n_sbom, bool *use,
		    size_t *n, bool *conditional)
{
	static unsigned char mem[1 << 18], mem2[1 << 18];
	char item[4096];
	struct upt_arena a, b;
	struct upt_json *v, *rec;
	const struct upt_json *af;
	struct upt_error err = {0};
	struct srv_json o = {0};
	const char *skip = NULL;
	size_t platform = 0;
	char *text = NULL;
	bool matched[16] = {0}, ok;
	snprintf(item, sizeof item,
		 "{\"cve\":{\"id\":\"CVE-2026-1000\",\"lastModified\":\"2026-11-10T14:02:44.873\","
		 "\"configurations\":%s}}",
		 configurations);
	upt_arena_init(&a, mem, sizeof mem);
	upt_arena_init(&b, mem2, sizeof mem2);
	if (upt_json_parse(&v, &a, (const uint8_t *)item, strlen(item), NULL, &err) != UPT_OK ||
	    srv_nvd_normalize(&o, v, "t.json", &skip, &platform, &err) != UPT_OK ||
	    srv_json_finish(&o, &text, &err) != UPT_OK) {
		printf("  %s\n", err.msg);
		return false;
	}
	ok = upt_json_parse(&rec, &b, (const uint8_t *)text, strlen(text), NULL, &err) == UPT_OK;
	free(text);
	af = ok ? upt_json_get(rec, "affected") : NULL;
	if (!af || af->n > 16)
		return false;
	*n = af->n;
	for (size_t i = 0; i < af->n; i++)
		for (size_t j = 0; j < n_sbom; j++)
			matched[i] = matched[i] || srv_nvd_hit(af->items[i], sbom[j], "", false);
	*conditional = srv_nvd_conditional(rec);
	srv_nvd_applies(rec, matched, use);
	return true;
}

#define APP(v)                                                                              \
	"{\"vulnerable\":" v ",\"criteria\":\"cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*\"," \
	"\"versionStartIncluding\":\"3.1.0\",\"versionEndExcluding\":\"3.1.5\"}"
#define LINUX "{\"vulnerable\":false,\"criteria\":\"cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*\"}"
#define BOARD "{\"vulnerable\":false,\"criteria\":\"cpe:2.3:h:acme:board-x:-:*:*:*:*:*:*:*\"}"
#define NODE(op, neg, ...) \
	"{\"operator\":\"" op "\",\"negate\":" neg ",\"cpeMatch\":[" __VA_ARGS__ "]}"

static void test_applicability(void)
{
	const char *ssl = "cpe:2.3:*:openssl:openssl:3.1.4:*:*:*:*:*:*:*",
		   *kernel = "cpe:2.3:*:*:linux_kernel:6.1.38:*:*:*:*:*:*:*",
		   *board = "cpe:2.3:h:acme:board-x:-:*:*:*:*:*:*:*",
		   *ssl_fixed = "cpe:2.3:*:openssl:openssl:3.1.5:*:*:*:*:*:*:*";
	const char *running_on = "[{\"operator\":\"AND\",\"nodes\":[" NODE(
	    "OR", "false", APP("true")) "," NODE("OR", "false", LINUX) "]}]";
	bool use[16], cond;
	size_t n;
	/* running on Linux: only an SBOM with the kernel (at any version: the
	 * platform is named with version "-") */
	CHECK(applies(running_on, (const char *[]){ssl, kernel}, 2, use, &n, &cond));
	CHECK(n == 2 && cond && use[0] && !use[1]);
	CHECK(applies(running_on, (const char *[]){ssl}, 1, use, &n, &cond));
	CHECK(n == 2 && !use[0] && !use[1]);
	CHECK(applies(running_on, (const char *[]){kernel}, 1, use, &n, &cond));
	CHECK(!use[0]); /* the platform alone is not affected */
	CHECK(applies(running_on, (const char *[]){ssl_fixed, kernel}, 2, use, &n, &cond));
	CHECK(!use[0]); /* the node of the application does not hold */
	/* not on this board: a negated node holds when none of it matches */
	const char *not_on = "[{\"operator\":\"AND\",\"nodes\":[" NODE(
	    "OR", "false", APP("true")) "," NODE("OR", "true", BOARD) "]}]";
	CHECK(applies(not_on, (const char *[]){ssl, kernel}, 2, use, &n, &cond));
	CHECK(cond && use[0] && !use[1]);
	CHECK(applies(not_on, (const char *[]){ssl, board}, 2, use, &n, &cond));
	CHECK(!use[0]);
	/* a vulnerable criteria inside a negated node is a condition, never a hit */
	const char *neg_vuln = "[{\"operator\":\"AND\",\"nodes\":[" NODE(
	    "OR", "true", APP("true")) "," NODE("OR", "false", LINUX) "]}]";
	CHECK(applies(neg_vuln, (const char *[]){kernel}, 1, use, &n, &cond));
	CHECK(!use[0] && !use[1]);
	/* an AND node: every entry must match */
	const char *and_node = "[{\"nodes\":[" NODE("AND", "false", APP("true") "," BOARD) "]}]";
	CHECK(applies(and_node, (const char *[]){ssl}, 1, use, &n, &cond));
	CHECK(cond && !use[0]);
	CHECK(applies(and_node, (const char *[]){ssl, board}, 2, use, &n, &cond));
	CHECK(use[0] && !use[1]);
	/* OR of nodes; several configurations, each on its own */
	const char *or_nodes = "[{\"operator\":\"OR\",\"nodes\":[" NODE(
	    "OR", "false", BOARD) "," NODE("OR", "false", APP("true")) "]}]";
	CHECK(applies(or_nodes, (const char *[]){ssl}, 1, use, &n, &cond));
	CHECK(cond && !use[0] && use[1]);
	char two[2048];
	snprintf(two, sizeof two, "[%.*s,{\"nodes\":[" NODE("OR", "false", APP("true")) "]}]",
		 (int)strlen(running_on) - 2, running_on + 1);
	CHECK(applies(two, (const char *[]){ssl}, 1, use, &n, &cond));
	CHECK(n == 3 && !use[0] && !use[1] && use[2]);
	/* a negated configuration inverts it */
	const char *neg_cfg = "[{\"operator\":\"AND\",\"negate\":true,\"nodes\":[" NODE(
	    "OR", "false", APP("true")) "," NODE("OR", "false", LINUX) "]}]";
	CHECK(applies(neg_cfg, (const char *[]){ssl, kernel}, 2, use, &n, &cond));
	CHECK(!use[0]);
	CHECK(applies(neg_cfg, (const char *[]){ssl}, 1, use, &n, &cond));
	CHECK(use[0]);
	/* a basic configuration needs no evaluation against the whole SBOM */
	CHECK(applies("[{\"nodes\":[" NODE("OR", "false", APP("true")) "]}]", (const char *[]){ssl},
		      1, use, &n, &cond));
	CHECK(!cond && use[0]);
	/* a platform named with "-" is there at any version; a vulnerable
	 * criteria with "-" still asks for NA */
	CHECK(hit("{\"vulnerable\":false,\"cpe\":\"cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*\"}",
		  kernel, "", false));
	CHECK(!hit("{\"vulnerable\":true,\"cpe\":\"cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*\"}",
		   kernel, "", false));
}

static void test_applicability_legacy(void)
{
	/* a record stored before configurations were kept: every entry counts */
	static unsigned char mem[1 << 14];
	const char *rec = "{\"affected\":[{" OSSL "},{" OSSL "}]}";
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err = {0};
	bool matched[2] = {false, true}, use[2] = {false, false};
	upt_arena_init(&a, mem, sizeof mem);
	CHECK(upt_json_parse(&v, &a, (const uint8_t *)rec, strlen(rec), NULL, &err) == UPT_OK);
	CHECK(!srv_nvd_conditional(v));
	srv_nvd_applies(v, matched, use);
	CHECK(use[0] && use[1]);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_match);
	RUN(test_ranges);
	RUN(test_applicability);
	RUN(test_applicability_legacy);
	TEST_MAIN_END();
}
