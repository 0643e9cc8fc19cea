/* Fuzz target: NVD CVE JSON 2.0 records as the server checks and
 * normalizes them (srv_nvd_normalize, a whole document or one
 * vulnerabilities[] item) and CPE names (srv_cpe_parse, both bindings) with
 * their matching. A record that is taken normalizes into JSON that parses
 * again with the same id, every criteria in it parses as a CPE and is
 * matched against a Yocto-style target without harm, and its
 * configurations are evaluated (srv_nvd_applies) against SBOMs where none,
 * all, and a pattern of its entries match: only vulnerable entries are ever
 * affected, none when nothing matches, and a record without conditions
 * takes every vulnerable entry that matches; an input that parses as a CPE
 * without wildcards matches itself, and its version is in the open
 * range. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "server/cpe.h"
#include "server/jsonout.h"
#include "server/nvd.h"
#include "server/versions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[16u << 20], mem2[16u << 20];

static bool is_true(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_TRUE;
}

static void check_applies(const struct upt_json *n, const struct upt_json *af)
{
	static bool matched[4096], use[4096];
	bool cond = srv_nvd_conditional(n);
	if (af->n > 4096)
		abort();
	for (int pattern = 0; pattern < 3; pattern++) {
		for (size_t i = 0; i < af->n; i++) {
			matched[i] = pattern == 1 || (pattern == 2 && (i * 7 + 3) % 5 < 2);
			use[i] = true;
		}
		srv_nvd_applies(n, matched, use);
		for (size_t i = 0; i < af->n; i++) {
			bool vul = is_true(af->items[i], "vulnerable");
			if (use[i] && !vul)
				abort(); /* a condition is never an affected component */
			if (!cond && vul && matched[i] && !use[i])
				abort(); /* without conditions: each vulnerable entry */
			if (pattern == 0 && use[i])
				abort(); /* an entry that matches nothing affects nothing */
		}
	}
}

static void check_normalized(const struct upt_json *n, const struct upt_json *item)
{
	const struct upt_json *af = upt_json_get(n, "affected"), *id = upt_json_get(n, "id");
	const struct upt_json *cve = srv_nvd_cve(item);
	if (!id || !af || strcmp(id->str, upt_json_get(cve, "id")->str) != 0)
		abort();
	for (size_t i = 0; i < af->n; i++) {
		const struct upt_json *c = upt_json_get(af->items[i], "cpe");
		struct srv_cpe p;
		const char *attr;
		if (!c || c->type != UPT_JSON_STRING || srv_cpe_parse(&p, c->str, &attr))
			abort();
		(void)srv_nvd_hit(af->items[i], "cpe:2.3:*:openssl:openssl:3.1.4:*:*:*:*:*:*:*",
				  "3.1.4", false);
		(void)srv_nvd_hit(af->items[i], c->str, "1:2.0-1", true);
	}
	check_applies(n, af);
}

static void one_item(const struct upt_json *item)
{
	struct upt_arena b;
	struct upt_json *n;
	struct upt_error err = {0};
	struct srv_json o = {0};
	const char *skip = NULL;
	size_t platform = 0;
	char *text = NULL;
	if (srv_nvd_normalize(&o, item, "fuzz.json", &skip, &platform, &err) != UPT_OK) {
		srv_json_dispose(&o);
		if (!err.msg[0])
			abort();
		return;
	}
	if (srv_json_finish(&o, &text, &err) != UPT_OK)
		return;
	upt_arena_init(&b, mem2, sizeof mem2);
	if (upt_json_parse(&n, &b, (const uint8_t *)text, strlen(text), NULL, &err) != UPT_OK)
		abort();
	check_normalized(n, item);
	free(text);
}

static void cpe_input(const uint8_t *data, size_t size)
{
	char s[SRV_CPE_MAX + 2];
	struct srv_cpe c;
	const char *attr;
	bool wild = false;
	if (size > SRV_CPE_MAX + 1 || memchr(data, 0, size))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (srv_cpe_parse(&c, s, &attr) != NULL)
		return;
	for (size_t i = 0; i < SRV_CPE_ATTRS; i++) {
		wild |= srv_cpe_wild(&c.a[i]);
		if (strlen(c.a[i].v) >= SRV_CPE_VALUE_MAX)
			abort();
	}
	if (!wild && !srv_cpe_match(&c, &c))
		abort();
	if (c.a[SRV_CPE_VERSION].kind == SRV_CPE_VALUE && !wild && c.a[SRV_CPE_VERSION].v[0]) {
		struct srv_cpe_range r = {.start = c.a[SRV_CPE_VERSION].v,
					  .end = c.a[SRV_CPE_VERSION].v};
		/* a valid version is in [v, v] */
		if (srv_version_valid(SRV_VS_GENERIC, r.start) && !srv_cpe_version_in(r.start, &r))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err = {0};
	cpe_input(data, size);
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&v, &a, data, size, NULL, &err) != UPT_OK)
		return 0;
	if (srv_nvd_document(v)) {
		const struct upt_json *vs = upt_json_get(v, "vulnerabilities");
		if (srv_nvd_check_document(v, "fuzz.json", &err) != UPT_OK)
			return 0;
		for (size_t i = 0; i < vs->n; i++)
			one_item(vs->items[i]);
	} else {
		one_item(v);
	}
	return 0;
}
