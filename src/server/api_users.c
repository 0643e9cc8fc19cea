/* uptake-server: users, API tokens, the audit log, and the dashboard's
 * login and logout (admin; login is open to anyone over TLS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "jsonout.h"
#include "users.h"

void srv_h_users_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_user_list(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_users_add(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_user_add(q->srv->store, q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
	if (rc == UPT_OK)
		r->status = 201;
}

void srv_h_users_set(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_user_set(q->srv->store, q->param[0], q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_users_remove(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc;
	if (q->actor && strcmp(q->actor, q->param[0]) == 0) {
		srv_resp_error(r, 409, UPT_ERR_STATE, "a user cannot remove themselves");
		return;
	}
	rc = srv_admin_user_remove(q->srv->store, q->param[0], &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_users_token(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_token_new(q->srv->store, q->param[0], q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
	if (rc == UPT_OK)
		r->status = 201;
}

/* ?since=UNIX&limit=N&format=json|jsonl */
void srv_h_audit_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *format = q->query(q->io, "format");
	bool jsonl = format && strcmp(format, "jsonl") == 0;
	char *json = NULL;
	int rc;
	if (format && !jsonl && strcmp(format, "json") != 0) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "format: json or jsonl");
		return;
	}
	rc = srv_admin_audit_list(q->srv->store, q->query(q->io, "since"), q->query(q->io, "limit"),
				  jsonl, &json, &err);
	srv_resp_result(r, rc, json, &err);
	if (rc == UPT_OK && jsonl)
		r->type = "application/x-ndjson";
}

void srv_h_login(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char cookie[80], user[64] = "", header[160];
	const int64_t ttl = q->srv->cfg->session_ttl;
	char *json = NULL;
	unsigned status = 500;
	int64_t retry = 0;
	int rc = srv_login(q->srv->store, q->srv->logins, q->body, q->body_len,
			   q->remote ? q->remote : "-", q->now, ttl, cookie, sizeof cookie, user,
			   sizeof user, &status, &retry, &json, &err);
	snprintf(r->actor, sizeof r->actor, "%s", rc == UPT_OK || status != 400 ? user : "");
	if (rc != UPT_OK) {
		srv_resp_error(r, status, rc, err.msg);
		if (status == 429) {
			snprintf(header, sizeof header, "%lld", (long long)retry);
			srv_resp_header(r, "Retry-After", header);
		}
		return;
	}
	srv_resp_json(r, json);
	snprintf(header, sizeof header,
		 SRV_SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; Secure; SameSite=Strict",
		 cookie, (long long)ttl);
	srv_resp_header(r, "Set-Cookie", header);
}

void srv_h_session_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	struct srv_json o = {0};
	char *json = NULL;
	int rc;
	srv_json_raw(&o, "{\"user\":");
	srv_json_str(&o, q->actor ? q->actor : "");
	srv_json_raw(&o, ",\"role\":");
	srv_json_str(&o, q->role ? q->role : "");
	srv_json_raw(&o, ",\"csrf\":");
	if (q->csrf)
		srv_json_str(&o, q->csrf);
	else
		srv_json_raw(&o, "null");
	srv_json_raw(&o, "}\n");
	rc = srv_json_finish(&o, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_logout(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json;
	if (!q->session) {
		srv_resp_error(r, 400, UPT_ERR_ARG, "not a dashboard session");
		return;
	}
	if (q->srv->store->ops->session_remove(q->srv->store, q->session, &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		return;
	}
	if (!(json = strdup("{\"logged_out\":true}\n"))) {
		srv_resp_error(r, 500, UPT_ERR_NOMEM, "out of memory");
		return;
	}
	srv_resp_json(r, json);
	srv_resp_header(r, "Set-Cookie",
			SRV_SESSION_COOKIE
			"=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
}
