/* uptake report: what the server computes from signed device reports and
 * each unit's lifecycle. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char report_usage[] =
    "usage: uptake report support [--within DAYS] [--at DATE] [--json | --csv] [--dir DIR]\n\n"
    "support: each device's product, dates, support end and status (in-support,\n"
    "ending within DAYS (default 90), ended, or unknown without a product and a\n"
    "market date), when it last sent a signed manifest and whether it updates\n"
    "automatically; then each product's last obligation. --at DATE (YYYY-MM-DD)\n"
    "reports as of that day. Default output is a table; --json the server's JSON;\n"
    "--csv the device rows. Exit 0 ok, 2 usage, 3 refusal.\n";

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

int cmd_report(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"within", required_argument, NULL, 'w'},
					      {"at", required_argument, NULL, 'a'},
					      {"json", no_argument, NULL, 'j'},
					      {"csv", no_argument, NULL, 'c'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *within = NULL, *at = NULL;
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
		else if (c == 'j')
			json = true;
		else if (c == 'c')
			csv = true;
		else if (c == 'h')
			return fputs(report_usage, stdout), CLI_OK;
		else
			return fputs(report_usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1 || strcmp(argv[optind], "support") != 0 || (json && csv) ||
	    (within && cli_parse_int(&days, within, 0, 36500) != UPT_OK) ||
	    (at && host_url_quote(qa, sizeof qa, at, false) != UPT_OK))
		return fputs(report_usage, stderr), CLI_USAGE;
	if (within)
		snprintf(qw, sizeof qw, "within=%lld", (long long)days);
	snprintf(api, sizeof api, "reports/support%s%s%s%s%s", within || at ? "?" : "", qw,
		 within && at ? "&" : "", at ? "at=" : "", qa);
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
	if (rc == UPT_OK && json)
		fputs(resp, stdout);
	else if (rc == UPT_OK)
		rc = print_support(resp, csv, &err);
	free(resp);
	if (rc != UPT_OK) {
		cli_err("report", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
