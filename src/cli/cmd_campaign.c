/* uptake campaign: staged update campaigns on the server. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char campaign_usage[] =
    "usage: uptake campaign create NAME --target HWID=TARGET... (--device ID... |\n"
    "                      [--product P] [--hardware-id H] [--installed TARGET]\n"
    "                      [--in-support] [--tag T...]) [--stage SIZE[:success=N][:error=N]\n"
    "                      [:soak=SECONDS]]... [--start-at TIME] [--window HH:MM-HH:MM]\n"
    "                      [--approval] [--join-new] [--no-fast-path] [--download-only]\n"
    "                      [--json] [--dir DIR]\n"
    "       uptake campaign create --file SPEC.json [--json] [--dir DIR]\n"
    "       uptake campaign start|pause|resume|stop|cancel|install ID [--json] [--dir DIR]\n"
    "       uptake campaign approve ID [--stage N] [--json] [--dir DIR]\n"
    "       uptake campaign show ID [--json] [--members] [--watch] [--interval S] [--dir DIR]\n"
    "       uptake campaign list [--json] [--dir DIR]\n\n"
    "A campaign rolls one target per hardware id out in stages. SIZE is a percentage\n"
    "of the campaign's devices (10%) or a count (5); the last stage takes the rest.\n"
    "A stage starts the next once its success threshold (percent of its ECUs, default\n"
    "100) is met and its soak time has passed, and pauses the campaign at its error\n"
    "threshold (default 10). An ECU succeeds only when its signed version report shows\n"
    "the assigned image. stop is the emergency stop: every assignment not yet\n"
    "installed is withdrawn until resume. cancel ends it: updated devices stay, the\n"
    "rest are withdrawn. A campaign of security releases skips soak times and\n"
    "windows unless --no-fast-path or the device's product turns the fast path off.\n"
    "--download-only: the devices download and verify the image but do not install\n"
    "it (the stages count downloads) until install releases the installs at once.\n"
    "show prints each stage's progress (a bar on a\n"
    "terminal); --watch follows it until the campaign ends. Exit 0 ok, 2 usage,\n"
    "3 refusal.\n";

#define MAX_LIST 64

struct opts {
	const char *dir, *file, *product, *hardware_id, *installed, *start_at, *window, *stage_n;
	const char *targets[MAX_LIST], *devices[MAX_LIST], *tags[MAX_LIST], *stages[MAX_LIST];
	size_t nt, nd, ntag, ns;
	bool in_support, approval, join_new, no_fast_path, download_only, json, members, watch;
	int64_t interval;
};

static int add(const char **list, size_t *n, const char *v)
{
	if (*n == MAX_LIST)
		return UPT_ERR_ARG;
	list[(*n)++] = v;
	return UPT_OK;
}

/* SIZE[:success=N][:error=N][:soak=S] -> {"percent"|"count":..., ...} */
static int stage_json(struct cli_buf *b, const char *spec)
{
	char buf[128], *save = NULL, *tok;
	int64_t v;
	size_t n = strlen(spec);
	int rc;
	if (n == 0 || n >= sizeof buf)
		return UPT_ERR_ARG;
	memcpy(buf, spec, n + 1);
	tok = strtok_r(buf, ":", &save);
	if (!tok)
		return UPT_ERR_ARG;
	n = strlen(tok);
	if (n > 1 && tok[n - 1] == '%') {
		tok[n - 1] = 0;
		if (cli_parse_int(&v, tok, 1, 100) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, "{\"percent\":%lld", (long long)v);
	} else {
		if (cli_parse_int(&v, tok, 1, 1000000) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, "{\"count\":%lld", (long long)v);
	}
	while (rc == UPT_OK && (tok = strtok_r(NULL, ":", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return UPT_ERR_ARG;
		*eq = 0;
		if (strcmp(tok, "success") != 0 && strcmp(tok, "error") != 0 &&
		    strcmp(tok, "soak") != 0)
			return UPT_ERR_ARG;
		/* the server judges the range (0-100 for thresholds) */
		if (cli_parse_int(&v, eq + 1, -1000000000, 1000000000) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, ",\"%s\":%lld", tok, (long long)v);
	}
	return rc ? rc : cli_buf_printf(b, "}");
}

static int str_list(struct cli_buf *b, const char *name, const char *const *v, size_t n,
		    bool *first)
{
	int rc = cli_buf_printf(b, "%s\"%s\":[", *first ? "" : ",", name);
	*first = false;
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		rc = i ? cli_buf_printf(b, ",") : UPT_OK;
		rc = rc ? rc : cli_buf_json_str(b, v[i]);
	}
	return rc ? rc : cli_buf_printf(b, "]");
}

static int str_member(struct cli_buf *b, const char *name, const char *v, bool *first)
{
	int rc;
	if (!v)
		return UPT_OK;
	rc = cli_buf_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	*first = false;
	return rc ? rc : cli_buf_json_str(b, v);
}

/* The create request from the options. */
static int create_body(struct cli_buf *b, const char *name, const struct opts *o)
{
	bool first = true;
	int64_t t;
	int rc = cli_buf_printf(b, "{\"name\":");
	rc = rc ? rc : cli_buf_json_str(b, name);
	rc = rc ? rc : cli_buf_printf(b, ",\"targets\":{");
	for (size_t i = 0; rc == UPT_OK && i < o->nt; i++) {
		const char *eq = strchr(o->targets[i], '=');
		if (!eq || eq == o->targets[i] || !eq[1])
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, "%s", i ? "," : "");
		rc = rc ? rc : cli_buf_json_strn(b, o->targets[i], (size_t)(eq - o->targets[i]));
		rc = rc ? rc : cli_buf_printf(b, ":");
		rc = rc ? rc : cli_buf_json_str(b, eq + 1);
	}
	rc = rc ? rc : cli_buf_printf(b, "}");
	if (rc == UPT_OK && o->nd) {
		rc = cli_buf_printf(b, ",");
		rc = rc ? rc : str_list(b, "devices", o->devices, o->nd, &first);
	}
	if (rc == UPT_OK &&
	    (o->product || o->hardware_id || o->installed || o->in_support || o->ntag)) {
		rc = cli_buf_printf(b, ",\"filter\":{");
		rc = rc ? rc : str_member(b, "product", o->product, &first);
		rc = rc ? rc : str_member(b, "hardware_id", o->hardware_id, &first);
		rc = rc ? rc : str_member(b, "installed", o->installed, &first);
		if (rc == UPT_OK && o->in_support) {
			rc = cli_buf_printf(b, "%s\"in_support\":true", first ? "" : ",");
			first = false;
		}
		if (rc == UPT_OK && o->ntag)
			rc = str_list(b, "tags", o->tags, o->ntag, &first);
		rc = rc ? rc : cli_buf_printf(b, "}");
	}
	if (rc == UPT_OK && o->ns) {
		rc = cli_buf_printf(b, ",\"stages\":[");
		for (size_t i = 0; rc == UPT_OK && i < o->ns; i++) {
			rc = i ? cli_buf_printf(b, ",") : UPT_OK;
			rc = rc ? rc : stage_json(b, o->stages[i]);
		}
		rc = rc ? rc : cli_buf_printf(b, "]");
	}
	if (rc == UPT_OK && o->start_at) {
		if (cli_parse_int(&t, o->start_at, 0, INT64_MAX / 4) != UPT_OK &&
		    cli_parse_time(&t, o->start_at) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, ",\"start_at\":%lld", (long long)t);
	}
	if (rc == UPT_OK && o->window) {
		const char *dash = strchr(o->window, '-');
		if (!dash || dash - o->window != 5 || strlen(dash + 1) != 5)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, ",\"window\":{\"start\":\"%.5s\",\"end\":", o->window);
		rc = rc ? rc : cli_buf_json_str(b, dash + 1);
		rc = rc ? rc : cli_buf_printf(b, "}");
	}
	rc = rc ? rc
		: cli_buf_printf(b,
				 ",\"approval\":%s,\"join_new\":%s,\"security_fast_path\":%s,"
				 "\"download_only\":%s}",
				 o->approval ? "true" : "false", o->join_new ? "true" : "false",
				 o->no_fast_path ? "false" : "true",
				 o->download_only ? "true" : "false");
	return rc;
}

/* ---- the human view ---------------------------------------------------------- */

static int64_t num(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_INT ? v->i : 0;
}

static const char *str(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : "";
}

static void bar(int64_t ok, int64_t failed, int64_t total)
{
	char b[33];
	size_t w = 30, nok = total ? (size_t)(ok * (int64_t)w / total) : 0,
	       nf = total ? (size_t)(failed * (int64_t)w / total) : 0;
	if (nok + nf > w)
		nf = w - nok;
	for (size_t i = 0; i < w; i++)
		b[i] = i < nok ? '#' : i < nok + nf ? 'x' : '.';
	b[w] = 0;
	printf(" [%s]", b);
}

static void print_campaign(const struct upt_json *c, bool tty)
{
	const struct upt_json *stages = upt_json_get(c, "stages");
	printf("campaign %lld \"%s\": %s, stage %lld of %lld%s\n", (long long)num(c, "id"),
	       str(c, "name"), str(c, "status"), (long long)num(c, "stage"),
	       (long long)num(c, "stages_total"),
	       upt_json_get(c, "security") && upt_json_get(c, "security")->type == UPT_JSON_TRUE
		   ? " (security update)"
		   : "");
	if (str(c, "reason")[0])
		printf("  %s\n", str(c, "reason"));
	for (size_t i = 0; stages && stages->type == UPT_JSON_ARRAY && i < stages->n; i++) {
		const struct upt_json *s = stages->items[i], *cnt = upt_json_get(s, "counts");
		int64_t ecus = num(s, "ecus"), ok = num(s, "succeeded"), failed = num(s, "failed");
		int64_t pending = num(cnt, "pending"), cancelled = num(cnt, "cancelled");
		int64_t downloaded = num(cnt, "downloaded");
		int64_t busy = ecus - ok - failed - pending - cancelled;
		printf("  stage %lld  %-17s %5lld ECUs", (long long)num(s, "stage"),
		       str(s, "state"), (long long)ecus);
		if (tty)
			bar(ok, failed, ecus);
		printf("  %lld ok, %lld failed, %lld in progress, %lld pending", (long long)ok,
		       (long long)failed, (long long)busy, (long long)pending);
		if (downloaded)
			printf(" (%lld downloaded, not installed)", (long long)downloaded);
		if (cancelled)
			printf(", %lld cancelled", (long long)cancelled);
		printf("  (success %lld%%, error %lld%%)\n", (long long)num(s, "success_threshold"),
		       (long long)num(s, "error_threshold"));
	}
}

static void print_view(const char *json, bool list)
{
	struct cli_arena ca;
	struct upt_json *v;
	bool tty = isatty(STDOUT_FILENO);
	if (cli_arena_init(&ca, 16 * strlen(json) + 65536) != UPT_OK)
		return;
	if (upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, NULL) == UPT_OK) {
		const struct upt_json *l = list ? upt_json_get(v, "campaigns") : NULL;
		if (!list)
			print_campaign(v, tty);
		for (size_t i = 0; l && l->type == UPT_JSON_ARRAY && i < l->n; i++)
			print_campaign(l->items[i], tty);
		if (l && l->n == 0)
			printf("no campaigns\n");
	}
	cli_arena_dispose(&ca);
}

static bool ended(const char *json)
{
	return strstr(json, "\"status\":\"finished\"") || strstr(json, "\"status\":\"cancelled\"");
}

/* ---- the command -------------------------------------------------------------- */

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"file", required_argument, NULL, 'f'},
					      {"target", required_argument, NULL, 't'},
					      {"device", required_argument, NULL, 'v'},
					      {"product", required_argument, NULL, 'p'},
					      {"hardware-id", required_argument, NULL, 'w'},
					      {"installed", required_argument, NULL, 'i'},
					      {"in-support", no_argument, NULL, 's'},
					      {"tag", required_argument, NULL, 'g'},
					      {"stage", required_argument, NULL, 'S'},
					      {"start-at", required_argument, NULL, 'a'},
					      {"window", required_argument, NULL, 'W'},
					      {"approval", no_argument, NULL, 'A'},
					      {"join-new", no_argument, NULL, 'J'},
					      {"no-fast-path", no_argument, NULL, 'N'},
					      {"download-only", no_argument, NULL, 'D'},
					      {"json", no_argument, NULL, 'j'},
					      {"members", no_argument, NULL, 'm'},
					      {"watch", no_argument, NULL, 'o'},
					      {"interval", required_argument, NULL, 'I'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	int c, bad = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 't':
			bad |= add(o->targets, &o->nt, optarg);
			break;
		case 'v':
			bad |= add(o->devices, &o->nd, optarg);
			break;
		case 'p':
			o->product = optarg;
			break;
		case 'w':
			o->hardware_id = optarg;
			break;
		case 'i':
			o->installed = optarg;
			break;
		case 's':
			o->in_support = true;
			break;
		case 'g':
			bad |= add(o->tags, &o->ntag, optarg);
			break;
		case 'S':
			bad |= add(o->stages, &o->ns, optarg);
			break;
		case 'a':
			o->start_at = optarg;
			break;
		case 'W':
			o->window = optarg;
			break;
		case 'A':
			o->approval = true;
			break;
		case 'J':
			o->join_new = true;
			break;
		case 'N':
			o->no_fast_path = true;
			break;
		case 'D':
			o->download_only = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'm':
			o->members = true;
			break;
		case 'o':
			o->watch = true;
			break;
		case 'I':
			bad |= cli_parse_int(&o->interval, optarg, 1, 3600);
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	return bad ? -1 : 0;
}

static int request(const struct ws *w, const char *sub, const char *id, const struct opts *o,
		   const char *name, char **resp, struct upt_error *err)
{
	struct cli_buf body;
	char api[256];
	int rc = UPT_OK;
	cli_buf_init(&body, 1u << 20);
	if (strcmp(sub, "create") == 0) {
		if (o->file) {
			char *data = NULL;
			size_t len = 0;
			rc = cli_read_file(o->file, 1u << 20, &data, &len, err);
			if (rc == UPT_OK)
				rc = ws_http(w, "POST", "campaigns", "application/json", data, len,
					     NULL, false, resp, err);
			upt_free(data);
			cli_buf_free(&body);
			return rc;
		}
		rc = create_body(&body, name, o);
		if (rc != UPT_OK) {
			cli_buf_free(&body);
			return upt_error_set(err, UPT_ERR_ARG,
					     "a --target, --stage, --window or --start-at is not "
					     "understood");
		}
		rc = ws_http(w, "POST", "campaigns", "application/json", body.p, body.len, NULL,
			     false, resp, err);
	} else if (strcmp(sub, "show") == 0) {
		snprintf(api, sizeof api, "campaigns/%s%s", id, o->members ? "?members=1" : "");
		rc = ws_http(w, "GET", api, NULL, NULL, 0, NULL, false, resp, err);
	} else if (strcmp(sub, "list") == 0) {
		rc = ws_http(w, "GET", "campaigns", NULL, NULL, 0, NULL, false, resp, err);
	} else {
		snprintf(api, sizeof api, "campaigns/%s/%s", id, sub);
		rc = o->stage_n ? cli_buf_printf(&body, "{\"stage\":%s}", o->stage_n)
				: cli_buf_printf(&body, "{}");
		if (rc == UPT_OK)
			rc = ws_http(w, "POST", api, "application/json", body.p, body.len, NULL,
				     false, resp, err);
	}
	cli_buf_free(&body);
	return rc;
}

static bool valid_usage(const char *sub, int rest, const struct opts *o)
{
	bool create_opts = o->nt || o->nd || o->product || o->hardware_id || o->installed ||
			   o->in_support || o->ntag || o->ns || o->start_at || o->window ||
			   o->approval || o->join_new || o->no_fast_path || o->download_only;
	int64_t n;
	if (strcmp(sub, "create") == 0)
		return o->file ? rest == 0 && !create_opts && !o->stage_n
			       : rest == 1 && o->nt > 0 && !o->members && !o->watch;
	if (create_opts || o->file || (o->stage_n && strcmp(sub, "approve") != 0))
		return false;
	if (o->stage_n && cli_parse_int(&n, o->stage_n, 1, 1000) != UPT_OK)
		return false;
	if (strcmp(sub, "list") == 0)
		return rest == 0 && !o->members && !o->watch;
	if (strcmp(sub, "show") != 0 && (o->members || o->watch))
		return false;
	return rest == 1 && (strcmp(sub, "show") == 0 || strcmp(sub, "start") == 0 ||
			     strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0 ||
			     strcmp(sub, "stop") == 0 || strcmp(sub, "cancel") == 0 ||
			     strcmp(sub, "install") == 0 || strcmp(sub, "approve") == 0);
}

int cmd_campaign(int argc, char **argv)
{
	struct opts o = {.dir = ".", .interval = 2};
	struct ws w;
	struct upt_error err = {0};
	const char *sub, *arg = NULL;
	char *resp = NULL;
	int64_t id;
	int rc = parse_opts(&o, argc, argv);
	if (rc > 0)
		return fputs(campaign_usage, stdout), CLI_OK;
	/* approve --stage N: the stage to approve, not a stage's size */
	if (rc == 0 && optind < argc && strcmp(argv[optind], "approve") == 0 && o.ns) {
		if (o.ns > 1)
			return fputs(campaign_usage, stderr), CLI_USAGE;
		o.stage_n = o.stages[0];
		o.ns = 0;
	}
	if (rc < 0 || optind >= argc)
		return fputs(campaign_usage, stderr), CLI_USAGE;
	sub = argv[optind++];
	if (optind < argc)
		arg = argv[optind];
	if (!valid_usage(sub, argc - optind, &o) ||
	    (arg && strcmp(sub, "create") != 0 &&
	     cli_parse_int(&id, arg, 1, INT64_MAX / 2) != UPT_OK))
		return fputs(campaign_usage, stderr), CLI_USAGE;
	rc = ws_load(&w, o.dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	for (;;) {
		if (rc == UPT_OK)
			rc = request(&w, sub, arg, &o, arg, &resp, &err);
		if (rc != UPT_OK)
			break;
		if (o.watch && !o.json && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		if (o.json)
			fputs(resp, stdout);
		else
			print_view(resp, strcmp(sub, "list") == 0);
		fflush(stdout);
		if (!o.watch || ended(resp))
			break;
		free(resp);
		resp = NULL;
		sleep((unsigned)o.interval);
	}
	free(resp);
	if (rc != UPT_OK) {
		cli_err("campaign", "%s", err.msg);
		return cli_exit_code(rc);
	}
	return CLI_OK;
}
