/* uptake alerts list|ack: what the server raised from devices' evidence. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char alerts_usage[] =
    "usage: uptake alerts list [--kind K] [--device ID] [--since TIME] [--open]\n"
    "                          [--json | --jsonl] [--dir DIR]\n"
    "       uptake alerts ack ID [--by NAME] [--dir DIR]\n\n"
    "Alerts are raised from evidence: a refused manifest or ECU report, an attack an\n"
    "ECU reports, a registered ECU missing from a manifest, a device gone silent.\n"
    "Repeats of a kind for the same device and ECU fold into one open alert (count,\n"
    "first and last seen) until it is acknowledged. TIME: a Unix time, or +Nd / now\n"
    "forms as elsewhere. --jsonl prints one alert a line (an export). Exit 0 ok,\n"
    "2 usage, 3 refusal.\n";

static int add_arg(char *q, size_t cap, const char *name, const char *value)
{
	char enc[600];
	size_t n = strlen(q);
	if (!value)
		return UPT_OK;
	if (host_url_quote(enc, sizeof enc, value, false) != UPT_OK ||
	    (size_t)snprintf(q + n, cap - n, "%s%s=%s", n ? "&" : "?", name, enc) >= cap - n)
		return UPT_ERR_ARG;
	return UPT_OK;
}

static void print_table(const char *json)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *list;
	if (cli_arena_init(&ca, 16 * strlen(json) + 65536) != UPT_OK)
		return;
	if (upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, NULL) == UPT_OK &&
	    (list = upt_json_get(v, "alerts")) && list->type == UPT_JSON_ARRAY) {
		printf("%-6s %-16s %-20s %-12s %-6s %-5s %s\n", "ID", "KIND", "DEVICE", "ECU",
		       "COUNT", "OPEN", "MESSAGE");
		for (size_t i = 0; i < list->n; i++) {
			const struct upt_json *a = list->items[i];
			const struct upt_json *id = upt_json_get(a, "id"),
					      *c = upt_json_get(a, "count");
			const struct upt_json *k = upt_json_get(a, "kind"),
					      *d = upt_json_get(a, "device");
			const struct upt_json *e = upt_json_get(a, "ecu"),
					      *m = upt_json_get(a, "message");
			const struct upt_json *o = upt_json_get(a, "open");
			if (!id || !c || !k || !d || !e || !m || !o)
				continue;
			printf("%-6lld %-16s %-20s %-12s %-6lld %-5s %s\n", (long long)id->i,
			       k->str, d->str, e->str[0] ? e->str : "-", (long long)c->i,
			       o->type == UPT_JSON_TRUE ? "yes" : "no", m->str);
		}
	}
	cli_arena_dispose(&ca);
}

static int to_stdout(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? UPT_OK : UPT_ERR_IO;
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"dir", required_argument, NULL, 'd'},    {"kind", required_argument, NULL, 'k'},
	    {"device", required_argument, NULL, 'v'}, {"since", required_argument, NULL, 's'},
	    {"open", no_argument, NULL, 'o'},         {"json", no_argument, NULL, 'j'},
	    {"jsonl", no_argument, NULL, 'l'},        {"by", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *dir = ".", *kind = NULL, *device = NULL, *since = NULL, *by = NULL, *sub;
	bool open = false, json = false, jsonl = false;
	struct ws w;
	struct cli_buf body;
	struct upt_error err = {0};
	char q[2048] = "", api[2200], since_s[32], *resp = NULL;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'k')
			kind = optarg;
		else if (c == 'v')
			device = optarg;
		else if (c == 's')
			since = optarg;
		else if (c == 'o')
			open = true;
		else if (c == 'j')
			json = true;
		else if (c == 'l')
			jsonl = true;
		else if (c == 'b')
			by = optarg;
		else if (c == 'h')
			return fputs(alerts_usage, stdout), CLI_OK;
		else
			return fputs(alerts_usage, stderr), CLI_USAGE;
	}
	if (optind >= argc)
		return fputs(alerts_usage, stderr), CLI_USAGE;
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		int64_t t = 0;
		if (optind != argc || (json && jsonl) || by)
			return fputs(alerts_usage, stderr), CLI_USAGE;
		if (since && cli_parse_int(&t, since, 0, INT64_MAX / 2) != UPT_OK &&
		    cli_parse_time(&t, since) != UPT_OK)
			return fputs(alerts_usage, stderr), CLI_USAGE;
		snprintf(since_s, sizeof since_s, "%lld", (long long)t);
		if (add_arg(q, sizeof q, "kind", kind) || add_arg(q, sizeof q, "device", device) ||
		    add_arg(q, sizeof q, "since", since ? since_s : NULL) ||
		    add_arg(q, sizeof q, "open", open ? "1" : NULL) ||
		    add_arg(q, sizeof q, "format", jsonl ? "jsonl" : NULL))
			return fputs(alerts_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api, "alerts%s", q);
	} else if (strcmp(sub, "ack") == 0) {
		int64_t id;
		if (optind != argc - 1 || kind || device || since || open || json || jsonl ||
		    cli_parse_int(&id, argv[optind], 1, INT64_MAX / 2) != UPT_OK)
			return fputs(alerts_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api, "alerts/%lld/ack", (long long)id);
	} else {
		return fputs(alerts_usage, stderr), CLI_USAGE;
	}
	cli_buf_init(&body, 4096);
	rc = cli_buf_printf(&body, "{");
	if (rc == UPT_OK && by) {
		rc = cli_buf_printf(&body, "\"by\":");
		rc = rc ? rc : cli_buf_json_str(&body, by);
	}
	rc = rc ? rc : cli_buf_printf(&body, "}");
	if (rc == UPT_OK)
		rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	/* --json and --jsonl are written out as they arrive (the export may be
	 * large); the table reads the whole answer first */
	if (rc == UPT_OK && strcmp(sub, "list") == 0 && (json || jsonl)) {
		rc = ws_http_stream(&w, api, (size_t)1 << 40, to_stdout, NULL, &err);
		if (rc == UPT_OK && fflush(stdout) != 0)
			rc = upt_error_set(&err, UPT_ERR_IO, "stdout: write failed");
	} else if (rc == UPT_OK) {
		rc = strcmp(sub, "ack") == 0
			 ? ws_http(&w, "POST", api, "application/json", body.p, body.len, NULL,
				   false, &resp, &err)
			 : ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
		if (rc == UPT_OK && strcmp(sub, "list") == 0)
			print_table(resp);
		else if (rc == UPT_OK)
			fputs(resp, stdout);
	}
	free(resp);
	cli_buf_free(&body);
	if (rc != UPT_OK) {
		cli_err("alerts", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
