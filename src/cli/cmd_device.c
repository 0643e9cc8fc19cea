/* uptake device add|list|show and uptake assign: the fleet side of the
 * admin API, from the release engineer's workspace. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "cmd_lifecycle.h"
#include "workspace.h"

static const char device_usage[] =
    "usage: uptake device add ID [--out PREFIX] [--public-key PEM] [LIFECYCLE] [--dir DIR]\n"
    "       uptake device set ID [LIFECYCLE] [--tags T1,T2] [--utc-offset MINUTES] [--dir DIR]\n"
    "       uptake device import FILE.csv [--dir DIR]\n"
    "       uptake device list [--dir DIR]\n"
    "       uptake device show ID [--dir DIR]\n\n"
    "LIFECYCLE: [--product NAME] [--manufactured DATE] [--placed-on-market DATE]\n"
    "           [--support-end DATE]   (DATE: YYYY-MM-DD; \"\" clears it)\n\n"
    "add registers device ID and gets its TLS client certificate from the server's\n"
    "CA: PREFIX.crt, PREFIX.key (0600, unless --public-key names the device's own\n"
    "public key) and PREFIX-ca.crt (default PREFIX: ID). list and show print the\n"
    "server's JSON: ECUs, what each verified manifest says is installed (by hash)\n"
    "and how each ECU's last report was judged (fresh, cached, no_counter),\n"
    "assignments with their correlation id, installation report and events, the\n"
    "installation reports, alerts.\n"
    "A unit's support end is by default its placing on the market plus its\n"
    "product's support period; --support-end may set a later one, never an earlier.\n"
    "set changes what it is given; import takes a factory's CSV records (a header\n"
    "naming the columns device, product, manufactured, placed_on_market,\n"
    "support_end; one row per unit) and changes nothing when any row is wrong,\n"
    "naming its line. --tags (comma-separated; \"\" clears them) and --utc-offset\n"
    "(minutes east of UTC) are what campaign filters and maintenance windows use.\n"
    "Exit 0 ok, 2 usage, 3 refusal.\n";

static const char assign_usage[] =
    "usage: uptake assign TARGET --device ID (--ecu SERIAL | --hardware-id HWID)\n"
    "                     [--device ID]... [--dir DIR]\n\n"
    "Assigns the Image repository's TARGET to one ECU of a device, or to every ECU\n"
    "of the given hardware id on the listed devices; the Director signs new\n"
    "metadata for each device. All or nothing. Exit 0 ok, 2 usage, 3 refusal.\n";

static int json_field(char **out, const char *json, const char *key, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *f;
	int rc;
	*out = NULL;
	if (cli_arena_init(&ca, 16 * strlen(json) + 65536) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	f = rc == UPT_OK ? upt_json_get(v, key) : NULL;
	if (f && f->type == UPT_JSON_STRING && (*out = malloc(f->len + 1))) {
		memcpy(*out, f->str, f->len);
		(*out)[f->len] = 0;
	}
	cli_arena_dispose(&ca);
	return rc;
}

static int device_add(struct ws *w, const char *id, const char *prefix, const char *pubkey,
		      const struct cli_lifecycle *l, struct upt_error *err)
{
	struct cli_buf body;
	char *resp = NULL, *pem = NULL, *cert = NULL, *key = NULL, *ca = NULL, path[4096];
	size_t pl = 0;
	int rc = UPT_OK;
	cli_buf_init(&body, 65536);
	if (pubkey)
		rc = cli_read_file(pubkey, 16384, &pem, &pl, err);
	if (rc == UPT_OK)
		rc = cli_buf_printf(&body, "{\"id\":");
	if (rc == UPT_OK)
		rc = cli_buf_json_str(&body, id);
	if (rc == UPT_OK && pem) {
		rc = cli_buf_printf(&body, ",\"public_key\":");
		if (rc == UPT_OK)
			rc = cli_buf_json_str(&body, pem);
	}
	if (rc == UPT_OK)
		rc = lifecycle_members(&body, l, false);
	if (rc == UPT_OK)
		rc = cli_buf_printf(&body, "}");
	if (rc == UPT_OK)
		rc = ws_http(w, "POST", "devices", "application/json", body.p, body.len, NULL,
			     false, &resp, err);
	if (rc == UPT_OK)
		rc = json_field(&cert, resp, "certificate", err);
	if (rc == UPT_OK)
		rc = json_field(&key, resp, "key", err);
	if (rc == UPT_OK)
		rc = json_field(&ca, resp, "ca", err);
	if (rc == UPT_OK && (!cert || !ca || (!pem && !key)))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "server answer lacks a certificate");
	snprintf(path, sizeof path, "%s.crt", prefix);
	if (rc == UPT_OK)
		rc = cli_write_file(path, cert, strlen(cert), 0644, false, err);
	snprintf(path, sizeof path, "%s.key", prefix);
	if (rc == UPT_OK && key)
		rc = cli_write_file(path, key, strlen(key), 0600, true, err);
	snprintf(path, sizeof path, "%s-ca.crt", prefix);
	if (rc == UPT_OK)
		rc = cli_write_file(path, ca, strlen(ca), 0644, false, err);
	if (rc == UPT_OK)
		printf("device %s added: %s.crt%s, %s-ca.crt\n", id, prefix, key ? ", .key" : "",
		       prefix);
	if (key)
		upt_free_secret(key, strlen(key));
	free(cert);
	free(ca);
	free(resp);
	upt_free(pem);
	cli_buf_free(&body);
	return rc;
}

int cmd_device(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"out", required_argument, NULL, 'o'},
					      {"public-key", required_argument, NULL, 'k'},
					      {"product", required_argument, NULL, 'P'},
					      {"manufactured", required_argument, NULL, 'M'},
					      {"placed-on-market", required_argument, NULL, 'K'},
					      {"support-end", required_argument, NULL, 'E'},
					      {"tags", required_argument, NULL, 'T'},
					      {"utc-offset", required_argument, NULL, 'U'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *out = NULL, *pubkey = NULL, *sub, *id = NULL;
	struct ws w;
	struct upt_error err = {0};
	struct cli_lifecycle l = {0};
	char *resp = NULL, api[512];
	bool lifecycle;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'P')
			l.product = optarg;
		else if (c == 'M')
			l.manufactured = optarg;
		else if (c == 'K')
			l.placed_on_market = optarg;
		else if (c == 'E')
			l.support_end = optarg;
		else if (c == 'T')
			l.tags = optarg;
		else if (c == 'U')
			l.utc_offset = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'k')
			pubkey = optarg;
		else if (c == 'h')
			return fputs(device_usage, stdout), CLI_OK;
		else
			return fputs(device_usage, stderr), CLI_USAGE;
	}
	if (optind >= argc)
		return fputs(device_usage, stderr), CLI_USAGE;
	sub = argv[optind++];
	if (optind < argc)
		id = argv[optind++];
	lifecycle = l.product || l.manufactured || l.placed_on_market || l.support_end || l.tags ||
		    l.utc_offset;
	if (optind != argc || (strcmp(sub, "list") == 0) != !id ||
	    (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "show") &&
	     strcmp(sub, "set") && strcmp(sub, "import")) ||
	    (strcmp(sub, "set") == 0 && !lifecycle) ||
	    (lifecycle && strcmp(sub, "set") && strcmp(sub, "add")) ||
	    ((l.tags || l.utc_offset) && strcmp(sub, "set")) ||
	    (strcmp(sub, "import") && id && (strlen(id) > 127 || strchr(id, '/'))))
		return fputs(device_usage, stderr), CLI_USAGE;
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK && strcmp(sub, "add") == 0)
		rc = device_add(&w, id, out ? out : id, pubkey, &l, &err);
	else if (rc == UPT_OK && strcmp(sub, "set") == 0)
		rc = lifecycle_set(&w, id, &l, &err);
	else if (rc == UPT_OK && strcmp(sub, "import") == 0)
		rc = lifecycle_import(&w, id, &err);
	else if (rc == UPT_OK) {
		char q[400];
		if (id && host_url_quote(q, sizeof q, id, false) != UPT_OK)
			return fputs(device_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api, id ? "devices/%s" : "devices", id ? q : "");
		rc = ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
		if (rc == UPT_OK)
			fputs(resp, stdout);
		free(resp);
	}
	if (rc != UPT_OK) {
		cli_err("device", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}

int cmd_assign(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"dir", required_argument, NULL, 'd'}, {"device", required_argument, NULL, 'v'},
	    {"ecu", required_argument, NULL, 'e'}, {"hardware-id", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
	const char *dir = ".", *ecu = NULL, *hw = NULL, *devices[1024];
	size_t n = 0;
	struct ws w;
	struct cli_buf body;
	struct upt_error err = {0};
	char *resp = NULL;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'e')
			ecu = optarg;
		else if (c == 'w')
			hw = optarg;
		else if (c == 'v' && n < sizeof devices / sizeof devices[0])
			devices[n++] = optarg;
		else if (c == 'h')
			return fputs(assign_usage, stdout), CLI_OK;
		else
			return fputs(assign_usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1 || !n || !ecu == !hw || (ecu && n != 1))
		return fputs(assign_usage, stderr), CLI_USAGE;
	cli_buf_init(&body, 1 << 20);
	rc = cli_buf_printf(&body, "{\"target\":");
	rc = rc ? rc : cli_buf_json_str(&body, argv[optind]);
	rc = rc ? rc : cli_buf_printf(&body, ecu ? ",\"ecu\":" : ",\"hardware_id\":");
	rc = rc ? rc : cli_buf_json_str(&body, ecu ? ecu : hw);
	rc = rc ? rc : cli_buf_printf(&body, ",\"devices\":[");
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		if (i)
			rc = cli_buf_printf(&body, ",");
		rc = rc ? rc : cli_buf_json_str(&body, devices[i]);
	}
	rc = rc ? rc : cli_buf_printf(&body, "]}");
	if (rc == UPT_OK)
		rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, "POST", "assign", "application/json", body.p, body.len, NULL,
			     false, &resp, &err);
	if (rc == UPT_OK)
		fputs(resp, stdout);
	free(resp);
	cli_buf_free(&body);
	if (rc != UPT_OK) {
		cli_err("assign", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
