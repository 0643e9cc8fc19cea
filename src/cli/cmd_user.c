/* uptake user add|list|set|passwd|token|remove, and uptake audit: the
 * people who use the admin API and the dashboard, their roles and API
 * tokens, and the log of what they did. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char user_usage[] =
    "usage: uptake user add NAME --role ROLE [--password-stdin] [--dir DIR]\n"
    "       uptake user set NAME --role ROLE [--dir DIR]\n"
    "       uptake user passwd NAME [--dir DIR]       (the new password on stdin)\n"
    "       uptake user token NAME [--dir DIR]        (prints a new API token once)\n"
    "       uptake user remove NAME [--dir DIR]\n"
    "       uptake user list [--json] [--dir DIR]\n\n"
    "ROLE: viewer (reads everything), operator (devices, assignments, products,\n"
    "alerts), release-manager (uploads offline-signed metadata and images), admin\n"
    "(users, fleet credentials, online keys). A password (12 to 256 bytes, read\n"
    "from the first line of stdin) logs the user in to the dashboard; an API token\n"
    "is for the CLI and scripts: put it in the workspace's token file. Removing a\n"
    "user revokes their tokens and sessions. Needs an admin. Exit 0 ok, 2 usage,\n"
    "3 refusal.\n";

static const char audit_usage[] =
    "usage: uptake audit [--since TIME] [--limit N] [--json | --jsonl] [--dir DIR]\n\n"
    "The audit log: every admin request that changed state or was refused (who,\n"
    "their role, from where, what, the status answered), and every login, oldest\n"
    "first. It is append-only: the server's database refuses to change it.\n"
    "TIME: a Unix time, or +Nd / now forms as elsewhere. --jsonl prints one entry\n"
    "a line (an export). Exit 0 ok, 2 usage, 3 refusal.\n";

/* The first line of stdin, without its newline. */
static int read_password(char *out, size_t cap)
{
	size_t n;
	if (!fgets(out, (int)cap, stdin))
		return UPT_ERR_ARG;
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = 0;
	else if (n == cap - 1)
		return UPT_ERR_TOO_LARGE;
	if (n && out[n - 1] == '\r')
		out[--n] = 0;
	return UPT_OK;
}

static void print_users(const char *json)
{
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *list;
	if (cli_arena_init(&ca, 16 * strlen(json) + 65536) != UPT_OK)
		return;
	if (upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, NULL) == UPT_OK &&
	    (list = upt_json_get(v, "users")) && list->type == UPT_JSON_ARRAY) {
		printf("%-24s %-16s %s\n", "NAME", "ROLE", "PASSWORD");
		for (size_t i = 0; i < list->n; i++) {
			const struct upt_json *n = upt_json_get(list->items[i], "name"),
					      *r = upt_json_get(list->items[i], "role"),
					      *p = upt_json_get(list->items[i], "password");
			if (n && r && p)
				printf("%-24s %-16s %s\n", n->str, r->str,
				       p->type == UPT_JSON_TRUE ? "yes" : "no");
		}
	}
	cli_arena_dispose(&ca);
}

static int call(const char *dir, const char *what, const char *method, const char *api,
		const struct cli_buf *body, char **resp)
{
	struct ws w;
	struct upt_error err = {0};
	int rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, method, api, body ? "application/json" : NULL,
			     body ? body->p : NULL, body ? body->len : 0, NULL, false, resp, &err);
	if (rc != UPT_OK)
		cli_err(what, "%s", err.msg);
	return rc;
}

int cmd_user(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"dir", required_argument, NULL, 'd'},      {"role", required_argument, NULL, 'r'},
	    {"password-stdin", no_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	const char *dir = ".", *role = NULL, *sub, *name = NULL, *method = "GET";
	bool pw_stdin = false, json = false, with_body = false;
	char api[512], enc[256], password[512], *resp = NULL;
	struct cli_buf body;
	int c, rc = UPT_OK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'r')
			role = optarg;
		else if (c == 'p')
			pw_stdin = true;
		else if (c == 'j')
			json = true;
		else if (c == 'h')
			return fputs(user_usage, stdout), CLI_OK;
		else
			return fputs(user_usage, stderr), CLI_USAGE;
	}
	if (optind >= argc)
		return fputs(user_usage, stderr), CLI_USAGE;
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		if (optind != argc || role || pw_stdin)
			return fputs(user_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api, "users");
	} else {
		bool add = strcmp(sub, "add") == 0, set = strcmp(sub, "set") == 0,
		     passwd = strcmp(sub, "passwd") == 0, token = strcmp(sub, "token") == 0,
		     remove = strcmp(sub, "remove") == 0;
		if (!add && !set && !passwd && !token && !remove)
			return fputs(user_usage, stderr), CLI_USAGE;
		if (optind != argc - 1 || json || ((add || set) != (role != NULL)) ||
		    (pw_stdin && !add))
			return fputs(user_usage, stderr), CLI_USAGE;
		name = argv[optind];
		if (host_url_quote(enc, sizeof enc, name, false) != UPT_OK)
			return fputs(user_usage, stderr), CLI_USAGE;
		snprintf(api, sizeof api,
			 add     ? "users"
			 : token ? "users/%s/tokens"
				 : "users/%s",
			 enc);
		method = add ? "POST" : token ? "POST" : remove ? "DELETE" : "PATCH";
		if ((pw_stdin || passwd) && (rc = read_password(password, sizeof password))) {
			cli_err("user", "%s",
				rc == UPT_ERR_TOO_LARGE ? "the password on stdin is too long"
							: "no password on stdin");
			return CLI_INPUT;
		}
		with_body = add || set || passwd;
		cli_buf_init(&body, 1024);
		rc = cli_buf_printf(&body, "{");
		if (rc == UPT_OK && add) {
			rc = cli_buf_printf(&body, "\"name\":");
			rc = rc ? rc : cli_buf_json_str(&body, name);
			rc = rc ? rc : cli_buf_printf(&body, ",");
		}
		if (rc == UPT_OK && role) {
			rc = cli_buf_printf(&body, "\"role\":");
			rc = rc ? rc : cli_buf_json_str(&body, role);
		}
		if (rc == UPT_OK && (pw_stdin || passwd)) {
			rc = cli_buf_printf(&body, "%s\"password\":", role ? "," : "");
			rc = rc ? rc : cli_buf_json_str(&body, password);
		}
		rc = rc ? rc : cli_buf_printf(&body, "}");
		memset(password, 0, sizeof password);
		if (rc != UPT_OK) {
			cli_buf_free(&body);
			return CLI_INTERNAL;
		}
	}
	rc = call(dir, "user", method, api, with_body ? &body : NULL, &resp);
	if (name) {
		memset(body.p, 0, body.len);
		cli_buf_free(&body);
	}
	if (rc == UPT_OK && strcmp(sub, "list") == 0 && !json)
		print_users(resp);
	else if (rc == UPT_OK)
		fputs(resp, stdout);
	free(resp);
	return rc == UPT_OK ? CLI_OK : cli_exit_code(rc);
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"since", required_argument, NULL, 's'},
					      {"limit", required_argument, NULL, 'l'},
					      {"json", no_argument, NULL, 'j'},
					      {"jsonl", no_argument, NULL, 'L'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *since = NULL, *limit = NULL;
	bool json = false, jsonl = false;
	char api[256], *resp = NULL;
	int64_t t = 0, n = 10000;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 's')
			since = optarg;
		else if (c == 'l')
			limit = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'L')
			jsonl = true;
		else if (c == 'h')
			return fputs(audit_usage, stdout), CLI_OK;
		else
			return fputs(audit_usage, stderr), CLI_USAGE;
	}
	if (optind != argc || (json && jsonl) ||
	    (since && cli_parse_int(&t, since, 0, INT64_MAX / 2) != UPT_OK &&
	     cli_parse_time(&t, since) != UPT_OK) ||
	    (limit && cli_parse_int(&n, limit, 1, 100000) != UPT_OK))
		return fputs(audit_usage, stderr), CLI_USAGE;
	snprintf(api, sizeof api, "audit?since=%lld&limit=%lld%s", (long long)t, (long long)n,
		 json ? "" : "&format=jsonl");
	rc = call(dir, "audit", "GET", api, NULL, &resp);
	if (rc == UPT_OK && !json && !jsonl) {
		/* a table from the JSON lines */
		printf("%-6s %-20s %-16s %-15s %-6s %-40s %s\n", "ID", "WHEN", "ACTOR", "FROM",
		       "STATUS", "REQUEST", "DETAIL");
		for (char *line = resp, *next; line && *line; line = next) {
			struct cli_arena ca;
			struct upt_json *v;
			const struct upt_json *id, *at, *actor, *remote, *st, *m, *p, *d;
			char when[32] = "-", req[300];
			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			if (cli_arena_init(&ca, 16 * strlen(line) + 4096) != UPT_OK)
				break;
			if (upt_json_parse(&v, &ca.a, (const uint8_t *)line, strlen(line), NULL,
					   NULL) == UPT_OK &&
			    (id = upt_json_get(v, "id")) && (at = upt_json_get(v, "at")) &&
			    (actor = upt_json_get(v, "actor")) &&
			    (remote = upt_json_get(v, "remote")) &&
			    (st = upt_json_get(v, "status")) && (m = upt_json_get(v, "method")) &&
			    (p = upt_json_get(v, "path")) && (d = upt_json_get(v, "detail"))) {
				if (upt_time_format(when, sizeof when, at->i) != UPT_OK)
					snprintf(when, sizeof when, "%lld", (long long)at->i);
				snprintf(req, sizeof req, "%s %s", m->str, p->str);
				printf("%-6lld %-20s %-16s %-15s %-6lld %-40s %s\n",
				       (long long)id->i, when, actor->str, remote->str,
				       (long long)st->i, req, d->str);
			}
			cli_arena_dispose(&ca);
		}
	} else if (rc == UPT_OK) {
		fputs(resp, stdout);
	}
	free(resp);
	return rc == UPT_OK ? CLI_OK : cli_exit_code(rc);
}
