/* uptake-server: SBOMs and vulnerability handling (admin). */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "vulns.h"

void srv_h_sbom_put(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_sbom_put(q->srv->store, q->param[0], q->body, q->body_len, q->now, &json,
				    &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_sbom_get(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *doc = NULL;
	size_t len = 0;
	int rc = srv_admin_sbom_get(q->srv->store, q->param[0], &doc, &len, &err);
	if (rc == UPT_OK)
		srv_resp_bytes(r, 200, "application/json", doc, len);
	else
		srv_resp_upt_error(r, &err);
	free(doc);
}

void srv_h_sbom_components(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_sbom_components(q->srv->store, q->param[0], &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_sbom_vulns(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_sbom_vulns(q->srv->store, q->param[0], q->query(q->io, "target"), &json,
				      &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vuln_import(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_vuln_import(q->srv->store, q->body, q->body_len, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vuln_rematch(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_vuln_rematch(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vuln_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_vuln_show(q->srv->store, q->param[0], q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vuln_exploited(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc =
	    srv_admin_vuln_exploited(q->srv->store, q->param[0], q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_report_vulns(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_report_vulns(q->srv->store, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vex_import(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_vex_import(q->srv->store, q->body, q->body_len, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_vuln_reported(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc =
	    srv_admin_vuln_reported(q->srv->store, q->param[0], q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

/* ?at=SECONDS: the clocks as of that time (default now) */
void srv_h_report_art14(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *at = q->query(q->io, "at");
	int64_t now = q->now;
	char *json = NULL, *end;
	int rc;
	if (at) {
		now = strtoll(at, &end, 10);
		if (!*at || *end || now <= 0) {
			srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "at: seconds since the epoch");
			return;
		}
	}
	rc = srv_report_art14(q->srv->store, now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

/* ?publisher=NAME&namespace=URL */
void srv_h_vuln_advisory(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_vuln_advisory(q->srv->store, q->param[0], q->query(q->io, "publisher"),
					 q->query(q->io, "namespace"), q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}
