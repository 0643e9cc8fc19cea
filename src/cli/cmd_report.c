/* uptake report: what the server computes from signed device reports and
 * each unit's lifecycle. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char report_usage[] =
    "usage: uptake report support [--within DAYS] [--at DATE] [--json | --csv] [--dir DIR]\n"
    "       uptake report inventory [--json | --csv] [--dir DIR]\n"
    "       uptake report patch-status [--days N] [--json | --csv] [--dir DIR]\n"
    "       uptake report opt-out [--json | --csv] [--dir DIR]\n"
    "       uptake report vulns [--json | --csv] [--dir DIR]\n"
    "       uptake report art14 [--at TIME] [--json] [--dir DIR]\n\n"
    "support: each device's product, dates, support end and status (in-support,\n"
    "ending within DAYS (default 90), ended, or unknown without a product and a\n"
    "market date), when it last sent a signed manifest and whether it updates\n"
    "automatically; then each product's last obligation. --at DATE (YYYY-MM-DD)\n"
    "reports as of that day. Default output is a table; --json the server's JSON;\n"
    "--csv the device rows.\n\n"
    "inventory: per image hash and hardware id, how many ECUs and devices run it\n"
    "(from their signed reports) and whether the Image repository ever published\n"
    "that hash for that hardware id (UNPUBLISHED: unofficial or malicious software).\n\n"
    "patch-status: per security release (uptake publish --security), the ECUs of\n"
    "its hardware ids that run neither it nor a higher release counter once N days\n"
    "(default 30) have passed since it was published, and for how many days it\n"
    "has been out.\n\n"
    "opt-out: devices whose last signed manifest turned automatic updates off,\n"
    "and since when.\n\n"
    "vulns: per known vulnerability that an image's signed SBOM matches: its\n"
    "severity, the affected images, the devices whose signed reports say they\n"
    "run one (and how many are in support), the first published release that\n"
    "fixes it; then per device its open vulnerabilities (--csv: one row per\n"
    "device and vulnerability).\n\n"
    "art14: per vulnerability marked actively exploited (uptake vuln exploited),\n"
    "the CRA Art. 14 clocks: early warning due 24 h after awareness, notification\n"
    "72 h, final report 14 days after the first published release that fixes it;\n"
    "each due, overdue or done (uptake vuln reported), what it must contain, and\n"
    "the devices still running an affected image. --at TIME: as of that time.\n\n"
    "Exit 0 ok, 2 usage, 3 refusal.\n";

static const char *str(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : v && v->type == UPT_JSON_NULL ? "" : "?";
}

static long long num(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_INT ? (long long)v->i : -1;
}

static void csv_field(const char *s)
{
	bool quote = strpbrk(s, ",\"") != NULL;
	if (!quote) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int print_support(const char *json, bool csv, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *devs, *prods;
	int rc;
	if (cli_arena_init(&ca, 16 * strlen(json) + 65536) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	devs = rc == UPT_OK ? upt_json_get(v, "devices") : NULL;
	prods = rc == UPT_OK ? upt_json_get(v, "products") : NULL;
	if (rc == UPT_OK &&
	    (!devs || devs->type != UPT_JSON_ARRAY || !prods || prods->type != UPT_JSON_ARRAY))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "report: not a support report");
	if (rc == UPT_OK && csv) {
		puts("device,product,manufactured,placed_on_market,support_end,status,days_left,"
		     "last_manifest,auto_update");
		for (size_t i = 0; i < devs->n; i++) {
			const struct upt_json *d = devs->items[i];
			const char *f[] = {"id",           "product",
					   "manufactured", "placed_on_market",
					   "support_end",  "status"};
			for (size_t k = 0; k < 6; k++) {
				csv_field(str(d, f[k]));
				putchar(',');
			}
			if (num(d, "days_left") >= 0)
				printf("%lld", num(d, "days_left"));
			printf(",%lld,%s\n", num(d, "last_manifest"),
			       upt_json_get(d, "auto_update") &&
				       upt_json_get(d, "auto_update")->type == UPT_JSON_TRUE
				   ? "true"
				   : "false");
		}
	} else if (rc == UPT_OK) {
		printf("support as of %s (ending: within %lld days)\n\n", str(v, "at"),
		       num(v, "within_days"));
		printf("%-24s %-16s %-10s %-10s %-12s %s\n", "DEVICE", "PRODUCT", "MARKET", "END",
		       "STATUS", "AUTO-UPDATE");
		for (size_t i = 0; i < devs->n; i++) {
			const struct upt_json *d = devs->items[i];
			const struct upt_json *au = upt_json_get(d, "auto_update");
			printf("%-24s %-16s %-10s %-10s %-12s %s\n", str(d, "id"),
			       str(d, "product")[0] ? str(d, "product") : "-",
			       str(d, "placed_on_market")[0] ? str(d, "placed_on_market") : "-",
			       str(d, "support_end")[0] ? str(d, "support_end") : "-",
			       str(d, "status"), au && au->type == UPT_JSON_TRUE ? "on" : "off");
		}
		printf("\n%-24s %-8s %-8s %s\n", "PRODUCT", "YEARS", "DEVICES", "LAST OBLIGATION");
		for (size_t j = 0; j < prods->n; j++) {
			const struct upt_json *p = prods->items[j];
			printf("%-24s %-8lld %-8lld %s\n", str(p, "name"), num(p, "support_years"),
			       num(p, "devices"),
			       str(p, "last_obligation_ends")[0] ? str(p, "last_obligation_ends")
								 : "-");
		}
	}
	cli_arena_dispose(&ca);
	return rc;
}

static const char *bool_str(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_TRUE ? "true" : "false";
}

static void when(long long t, char out[32])
{
	if (t <= 0 || upt_time_format(out, 32, t) != UPT_OK)
		snprintf(out, 32, "-");
}

/* Parse a report answer and check that `member` is an array. */
static int parse_report(struct cli_arena *ca, const char *json, const char *member,
			struct upt_json **v, const struct upt_json **arr, struct upt_error *err)
{
	int rc;
	if (cli_arena_init(ca, 16 * strlen(json) + 65536) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(v, &ca->a, (const uint8_t *)json, strlen(json), NULL, err);
	*arr = rc == UPT_OK ? upt_json_get(*v, member) : NULL;
	if (rc == UPT_OK && (!*arr || (*arr)->type != UPT_JSON_ARRAY))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "report: no %s", member);
	if (rc != UPT_OK)
		cli_arena_dispose(ca);
	return rc;
}

static int print_inventory(const char *json, bool csv, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *im;
	int rc = parse_report(&ca, json, "images", &v, &im, err);
	if (rc != UPT_OK)
		return rc;
	if (csv)
		puts("sha256,hardware_id,installed,ecus,devices,published,target");
	else
		printf("%-64s %-16s %-24s %5s %7s %s\n", "SHA256", "HARDWARE-ID", "INSTALLED",
		       "ECUS", "DEVICES", "RELEASE");
	for (size_t i = 0; i < im->n; i++) {
		const struct upt_json *e = im->items[i];
		bool pub = upt_json_get(e, "published") &&
			   upt_json_get(e, "published")->type == UPT_JSON_TRUE;
		if (csv) {
			const char *f[] = {"sha256", "hardware_id", "installed"};
			for (size_t k = 0; k < 3; k++) {
				csv_field(str(e, f[k]));
				putchar(',');
			}
			printf("%lld,%lld,%s,", num(e, "ecus"), num(e, "devices"),
			       bool_str(e, "published"));
			csv_field(str(e, "target"));
			putchar('\n');
		} else {
			printf("%-64s %-16s %-24s %5lld %7lld %s\n", str(e, "sha256"),
			       str(e, "hardware_id"), str(e, "installed"), num(e, "ecus"),
			       num(e, "devices"), pub ? str(e, "target") : "UNPUBLISHED");
		}
	}
	if (!csv)
		printf("\n%lld ECUs, %lld without an image, %lld images never published\n",
		       num(v, "ecus"), num(v, "no_image_ecus"), num(v, "unpublished_images"));
	cli_arena_dispose(&ca);
	return UPT_OK;
}

static int print_patch_status(const char *json, bool csv, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *rs;
	int rc = parse_report(&ca, json, "releases", &v, &rs, err);
	if (rc != UPT_OK)
		return rc;
	if (csv)
		puts("release,sha256,published,overdue,device,ecu,hardware_id,installed,"
		     "installed_sha256,missing_days");
	else
		printf("security releases, %lld days to install\n", num(v, "days"));
	for (size_t i = 0; i < rs->n; i++) {
		const struct upt_json *r = rs->items[i], *l = upt_json_get(r, "lacking");
		char pub[32];
		when(num(r, "published"), pub);
		if (!csv)
			printf("\n%s (sha256 %.16s..., published %s): %lld of %lld ECUs run it "
			       "or newer%s\n",
			       str(r, "target"), str(r, "sha256"), pub, num(r, "patched"),
			       num(r, "ecus"),
			       upt_json_get(r, "overdue") &&
				       upt_json_get(r, "overdue")->type == UPT_JSON_TRUE
				   ? ""
				   : " (not due yet)");
		for (size_t j = 0; l && l->type == UPT_JSON_ARRAY && j < l->n; j++) {
			const struct upt_json *d = l->items[j];
			if (csv) {
				csv_field(str(r, "target"));
				printf(",%s,%s,%s,", str(r, "sha256"), pub, bool_str(r, "overdue"));
				const char *f[] = {"device", "ecu", "hardware_id", "installed",
						   "installed_sha256"};
				for (size_t k = 0; k < 5; k++) {
					csv_field(str(d, f[k]));
					putchar(',');
				}
				printf("%lld\n", num(d, "missing_days"));
			} else {
				printf("  lacking: %-24s %-16s runs %s (%lld days since the "
				       "release)\n",
				       str(d, "device"), str(d, "ecu"),
				       str(d, "installed")[0] ? str(d, "installed") : "no image",
				       num(d, "missing_days"));
			}
		}
	}
	cli_arena_dispose(&ca);
	return UPT_OK;
}

static int print_opt_out(const char *json, bool csv, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *ds;
	int rc = parse_report(&ca, json, "devices", &v, &ds, err);
	if (rc != UPT_OK)
		return rc;
	if (csv)
		puts("device,product,since,last_manifest");
	else
		printf("%-24s %-16s %-20s %s\n", "DEVICE", "PRODUCT", "AUTO-UPDATE OFF SINCE",
		       "LAST MANIFEST");
	for (size_t i = 0; i < ds->n; i++) {
		const struct upt_json *d = ds->items[i];
		char since[32], last[32];
		when(num(d, "since"), since);
		when(num(d, "last_manifest"), last);
		if (csv) {
			csv_field(str(d, "id"));
			putchar(',');
			csv_field(str(d, "product"));
			printf(",%s,%s\n", since, last);
		} else {
			printf("%-24s %-16s %-20s %s\n", str(d, "id"),
			       str(d, "product")[0] ? str(d, "product") : "-", since, last);
		}
	}
	if (!csv)
		printf("\n%lld of %lld devices opted out of automatic updates\n",
		       num(v, "opted_out"), num(v, "devices_total"));
	cli_arena_dispose(&ca);
	return UPT_OK;
}

static int print_vulns(const char *json, bool csv, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *vs, *ds;
	int rc = parse_report(&ca, json, "vulnerabilities", &v, &vs, err);
	if (rc != UPT_OK)
		return rc;
	ds = upt_json_get(v, "devices");
	if (csv) {
		puts("device,in_support,vulnerability");
		for (size_t i = 0; ds && ds->type == UPT_JSON_ARRAY && i < ds->n; i++) {
			const struct upt_json *o = upt_json_get(ds->items[i], "open");
			for (size_t k = 0; o && o->type == UPT_JSON_ARRAY && k < o->n; k++) {
				csv_field(str(ds->items[i], "id"));
				printf(",%s,", bool_str(ds->items[i], "in_support"));
				csv_field(o->items[k]->type == UPT_JSON_STRING ? o->items[k]->str
									       : "?");
				putchar('\n');
			}
		}
		cli_arena_dispose(&ca);
		return UPT_OK;
	}
	printf("%-24s %-12s %7s %10s %-28s %s\n", "VULNERABILITY", "SEVERITY", "DEVICES",
	       "IN-SUPPORT", "FIXED IN", "AFFECTED IMAGES");
	for (size_t i = 0; i < vs->n; i++) {
		const struct upt_json *x = vs->items[i], *im = upt_json_get(x, "images"),
				      *fx = upt_json_get(x, "fixed_in");
		char sev[13];
		snprintf(sev, sizeof sev, "%s", str(x, "severity")[0] ? str(x, "severity") : "-");
		printf("%-24s %-12s %7lld %10lld %-28s", str(x, "id"), sev, num(x, "devices"),
		       num(x, "devices_in_support"),
		       fx && fx->type == UPT_JSON_OBJECT ? str(fx, "target") : "-");
		for (size_t k = 0; im && im->type == UPT_JSON_ARRAY && k < im->n; k++)
			printf("%s%s", k ? "," : " ", str(im->items[k], "target"));
		printf("%s\n", num(x, "exploited_at") > 0 ? "  (ACTIVELY EXPLOITED)" : "");
	}
	printf("\n%-24s %-10s %s\n", "DEVICE", "SUPPORT", "OPEN VULNERABILITIES");
	for (size_t i = 0; ds && ds->type == UPT_JSON_ARRAY && i < ds->n; i++) {
		const struct upt_json *o = upt_json_get(ds->items[i], "open");
		printf("%-24s %-10s", str(ds->items[i], "id"),
		       strcmp(bool_str(ds->items[i], "in_support"), "true") == 0 ? "in" : "out");
		for (size_t k = 0; o && o->type == UPT_JSON_ARRAY && k < o->n; k++)
			printf("%s%s", k ? "," : " ",
			       o->items[k]->type == UPT_JSON_STRING ? o->items[k]->str : "?");
		putchar('\n');
	}
	cli_arena_dispose(&ca);
	return UPT_OK;
}

static int print_art14(const char *json, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *vs;
	int rc = parse_report(&ca, json, "vulnerabilities", &v, &vs, err);
	if (rc != UPT_OK)
		return rc;
	for (size_t i = 0; i < vs->n; i++) {
		const struct upt_json *x = vs->items[i], *cl = upt_json_get(x, "clocks"),
				      *ds = upt_json_get(x, "devices_affected");
		char aware[32];
		when(num(x, "aware_at"), aware);
		printf("%s: actively exploited, aware since %s; fixed in %s\n", str(x, "id"), aware,
		       str(x, "fixed_in")[0] && strcmp(str(x, "fixed_in"), "?")
			   ? str(x, "fixed_in")
			   : "(no release yet)");
		for (size_t k = 0; cl && cl->type == UPT_JSON_ARRAY && k < cl->n; k++) {
			const struct upt_json *c = cl->items[k];
			char due[32], done[32];
			when(num(c, "due"), due);
			when(num(c, "reported_at"), done);
			printf("  %-13s due %-20s %-16s reported %s\n", str(c, "stage"), due,
			       str(c, "status"), done);
		}
		printf("  devices still running an affected image: %zu", ds ? ds->n : 0);
		for (size_t k = 0; ds && ds->type == UPT_JSON_ARRAY && k < ds->n; k++)
			printf("%s%s", k ? "," : " ",
			       ds->items[k]->type == UPT_JSON_STRING ? ds->items[k]->str : "?");
		putchar('\n');
	}
	if (!vs->n)
		puts("no vulnerability is marked actively exploited");
	cli_arena_dispose(&ca);
	return UPT_OK;
}

/* A streamed report: at most this much (the server's is bounded by its
 * fleet only). */
#define REPORT_MAX ((size_t)1 << 40)

static int to_stdout(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? UPT_OK : UPT_ERR_IO;
}

/* The reports whose CSV the server writes (the others' the CLI makes). */
static bool server_csv(const char *name)
{
	return strcmp(name, "support") == 0 || strcmp(name, "inventory") == 0 ||
	       strcmp(name, "patch-status") == 0 || strcmp(name, "opt-out") == 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"dir", required_argument, NULL, 'd'}, {"within", required_argument, NULL, 'w'},
	    {"at", required_argument, NULL, 'a'},  {"days", required_argument, NULL, 'D'},
	    {"json", no_argument, NULL, 'j'},      {"csv", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
	const char *dir = ".", *within = NULL, *at = NULL, *dopt = NULL, *name;
	bool json = false, csv = false;
	struct ws w;
	struct upt_error err = {0};
	char *resp = NULL, api[256], qa[64] = "", qw[64] = "";
	int c, rc;
	int64_t days;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'w')
			within = optarg;
		else if (c == 'a')
			at = optarg;
		else if (c == 'D')
			dopt = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'c')
			csv = true;
		else if (c == 'h')
			return fputs(report_usage, stdout), CLI_OK;
		else
			return fputs(report_usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1 || (json && csv))
		return fputs(report_usage, stderr), CLI_USAGE;
	name = argv[optind];
	if (strcmp(name, "support") == 0) {
		if (dopt || (within && cli_parse_int(&days, within, 0, 36500) != UPT_OK) ||
		    (at && host_url_quote(qa, sizeof qa, at, false) != UPT_OK))
			return fputs(report_usage, stderr), CLI_USAGE;
		if (within)
			snprintf(qw, sizeof qw, "within=%lld", (long long)days);
		snprintf(api, sizeof api, "reports/support%s%s%s%s%s", within || at ? "?" : "", qw,
			 within && at ? "&" : "", at ? "at=" : "", qa);
	} else if (strcmp(name, "patch-status") == 0) {
		if (within || at || (dopt && cli_parse_int(&days, dopt, 0, 36500) != UPT_OK))
			return fputs(report_usage, stderr), CLI_USAGE;
		if (dopt)
			snprintf(api, sizeof api, "reports/patch-status?days=%lld",
				 (long long)days);
		else
			snprintf(api, sizeof api, "reports/patch-status");
	} else if (strcmp(name, "art14") == 0) {
		int64_t t;
		if (within || dopt || csv || (at && cli_parse_time(&t, at) != UPT_OK))
			return fputs(report_usage, stderr), CLI_USAGE;
		if (at)
			snprintf(api, sizeof api, "reports/art14?at=%lld", (long long)t);
		else
			snprintf(api, sizeof api, "reports/art14");
	} else if (strcmp(name, "inventory") == 0 || strcmp(name, "opt-out") == 0 ||
		   strcmp(name, "vulns") == 0) {
		if (within || at || dopt)
			return fputs(report_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api, "reports/%s", name);
	} else {
		return fputs(report_usage, stderr), CLI_USAGE;
	}
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	/* --json, and --csv of the reports the server writes as CSV, are
	 * written out as they arrive: a large fleet's report is never held */
	if (rc == UPT_OK && (json || (csv && server_csv(name)))) {
		if (csv && strlen(api) + 12 < sizeof api)
			memcpy(api + strlen(api), strchr(api, '?') ? "&format=csv" : "?format=csv",
			       12);
		rc = ws_http_stream(&w, api, REPORT_MAX, to_stdout, NULL, &err);
		if (rc == UPT_OK && fflush(stdout) != 0)
			rc = upt_error_set(&err, UPT_ERR_IO, "stdout: write failed");
		goto out;
	}
	if (rc == UPT_OK)
		rc = ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
	if (rc == UPT_OK && strcmp(name, "support") == 0)
		rc = print_support(resp, csv, &err);
	else if (rc == UPT_OK && strcmp(name, "inventory") == 0)
		rc = print_inventory(resp, csv, &err);
	else if (rc == UPT_OK && strcmp(name, "patch-status") == 0)
		rc = print_patch_status(resp, csv, &err);
	else if (rc == UPT_OK && strcmp(name, "vulns") == 0)
		rc = print_vulns(resp, csv, &err);
	else if (rc == UPT_OK && strcmp(name, "art14") == 0)
		rc = print_art14(resp, &err);
	else if (rc == UPT_OK)
		rc = print_opt_out(resp, csv, &err);
out:
	free(resp);
	if (rc != UPT_OK) {
		cli_err("report", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
