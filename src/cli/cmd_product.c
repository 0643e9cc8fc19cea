/* uptake product add|set|list|show: products and their CRA support
 * periods, on the server of the release engineer's workspace. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "workspace.h"

static const char product_usage[] =
    "usage: uptake product add NAME --hardware-id HWID [--hardware-id HWID]...\n"
    "                          --support-years N --contact CONTACT [--dir DIR]\n"
    "       uptake product set NAME [--hardware-id HWID]... [--support-years N]\n"
    "                          [--contact CONTACT] [--security-fast-path on|off]\n"
    "                          [--dir DIR]\n"
    "       uptake product list [--dir DIR]\n"
    "       uptake product show NAME [--dir DIR]\n\n"
    "A product is what the EU Cyber Resilience Act's support period is set for:\n"
    "the hardware ids of its primary, a support period of at least 5 years from\n"
    "each unit's placing on the market, and a vulnerability contact (mail or URL).\n"
    "set replaces what it is given (a support period can only be extended); the\n"
    "Director then signs each device's new support end. --security-fast-path (on\n"
    "by default) decides whether a campaign of a security release skips soak times\n"
    "and maintenance windows for the product's devices; off wins over a campaign's\n"
    "own option. list and show print the server's JSON. Exit 0 ok, 2 usage, 3\n"
    "refusal.\n";

#define MAX_HW 32

static int body_of(struct cli_buf *b, const char *name, const char *const *hw, size_t n_hw,
		   const char *years, const char *contact, const char *fast)
{
	int rc = cli_buf_printf(b, "{");
	const char *sep = "";
	if (rc == UPT_OK && name) {
		rc = cli_buf_printf(b, "\"name\":");
		rc = rc ? rc : cli_buf_json_str(b, name);
		sep = ",";
	}
	if (rc == UPT_OK && n_hw) {
		rc = cli_buf_printf(b, "%s\"hardware_ids\":[", sep);
		for (size_t i = 0; rc == UPT_OK && i < n_hw; i++) {
			rc = cli_buf_printf(b, "%s", i ? "," : "");
			rc = rc ? rc : cli_buf_json_str(b, hw[i]);
		}
		rc = rc ? rc : cli_buf_printf(b, "]");
		sep = ",";
	}
	if (rc == UPT_OK && years) {
		int64_t y;
		if (cli_parse_int(&y, years, 0, 1000) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, "%s\"support_years\":%lld", sep, (long long)y);
		sep = ",";
	}
	if (rc == UPT_OK && contact) {
		rc = cli_buf_printf(b, "%s\"contact\":", sep);
		rc = rc ? rc : cli_buf_json_str(b, contact);
		sep = ",";
	}
	if (rc == UPT_OK && fast) {
		if (strcmp(fast, "on") != 0 && strcmp(fast, "off") != 0)
			return UPT_ERR_FIELD_VALUE;
		rc = cli_buf_printf(b, "%s\"security_fast_path\":%s", sep,
				    strcmp(fast, "on") == 0 ? "true" : "false");
	}
	return rc ? rc : cli_buf_printf(b, "}");
}

int cmd_product(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"hardware-id", required_argument, NULL, 'w'},
					      {"support-years", required_argument, NULL, 'y'},
					      {"contact", required_argument, NULL, 'c'},
					      {"security-fast-path", required_argument, NULL, 'f'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *years = NULL, *contact = NULL, *fast = NULL, *hw[MAX_HW], *sub,
		   *name = NULL;
	size_t n_hw = 0;
	struct ws w;
	struct cli_buf body;
	struct upt_error err = {0};
	char *resp = NULL, api[600], q[400];
	bool add, set;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'w' && n_hw < MAX_HW)
			hw[n_hw++] = optarg;
		else if (c == 'y')
			years = optarg;
		else if (c == 'c')
			contact = optarg;
		else if (c == 'f')
			fast = optarg;
		else if (c == 'h')
			return fputs(product_usage, stdout), CLI_OK;
		else
			return fputs(product_usage, stderr), CLI_USAGE;
	}
	if (optind >= argc)
		return fputs(product_usage, stderr), CLI_USAGE;
	sub = argv[optind++];
	if (optind < argc)
		name = argv[optind++];
	add = strcmp(sub, "add") == 0;
	set = strcmp(sub, "set") == 0;
	if (optind != argc || (strcmp(sub, "list") == 0) != !name ||
	    (!add && !set && strcmp(sub, "list") && strcmp(sub, "show")) ||
	    (add && (!n_hw || !years || !contact)) ||
	    (!add && !set && (n_hw || years || contact || fast)) ||
	    (set && !n_hw && !years && !contact && !fast) ||
	    (name && host_url_quote(q, sizeof q, name, false) != UPT_OK))
		return fputs(product_usage, stderr), CLI_USAGE;
	cli_buf_init(&body, 65536);
	rc =
	    add || set ? body_of(&body, add ? name : NULL, hw, n_hw, years, contact, fast) : UPT_OK;
	if (rc == UPT_ERR_ARG || rc == UPT_ERR_FIELD_VALUE) {
		cli_buf_free(&body);
		cli_err("product", rc == UPT_ERR_ARG ? "--support-years: not a number of years"
						     : "--security-fast-path: on or off");
		return CLI_USAGE;
	}
	if (rc == UPT_OK)
		rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK) {
		snprintf(api, sizeof api, name && !add ? "products/%s" : "products", q);
		rc = ws_http(&w,
			     add   ? "POST"
			     : set ? "PUT"
				   : "GET",
			     api, add || set ? "application/json" : NULL, body.p, body.len, NULL,
			     false, &resp, &err);
	}
	if (rc == UPT_OK)
		fputs(resp, stdout);
	free(resp);
	cli_buf_free(&body);
	if (rc != UPT_OK) {
		cli_err("product", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
