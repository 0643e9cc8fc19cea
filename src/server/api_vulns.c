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
