/* uptake-server: CRA evidence (admin): products and their support
 * periods, each unit's lifecycle, and the reports computed from them. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "campaigns.h"
#include "lifecycle.h"
#include "reports.h"

void srv_h_products_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_product_list(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_products_add(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_product_add(q->srv->store, q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_products_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_product_show(q->srv->store, q->param[0], &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_products_set(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_product_set(q->srv->store, q->srv->director, q->param[0], q->body,
				       q->body_len, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_device_lifecycle(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_lifecycle(q->srv->store, q->srv->director, q->param[0], q->body,
					    q->body_len, q->now, &json, &err);
	/* a device that now matches a campaign's filter may join it */
	if (rc == UPT_OK)
		srv_campaign_device_joined(q->srv->repo, q->srv->director, q->param[0], q->now);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_lifecycle_import(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_lifecycle_import(q->srv->store, q->srv->director, q->body, q->body_len,
					    q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

/* ?at=YYYY-MM-DD (default today) &within=DAYS (default 90) */
void srv_h_report_support(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *at = q->query(q->io, "at"), *within = q->query(q->io, "within");
	int64_t day = q->now / 86400, days = 90;
	char *json = NULL, *end;
	int rc;
	if (at && srv_date_parse(at, &day) != UPT_OK) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "at: not a date (YYYY-MM-DD)");
		return;
	}
	if (within) {
		days = strtoll(within, &end, 10);
		if (!*within || *end || days < 0 || days > 36500) {
			srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE,
				       "within: a number of days from 0 to 36500");
			return;
		}
	}
	rc = srv_report_support(q->srv->store, day, days, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_report_inventory(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_report_inventory(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

/* ?days=N (default 30): how long after publication a device must run it */
void srv_h_report_patch_status(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *d = q->query(q->io, "days");
	int64_t days = 30;
	char *json = NULL, *end;
	int rc;
	if (d) {
		days = strtoll(d, &end, 10);
		if (!*d || *end || days < 0 || days > 36500) {
			srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE,
				       "days: a number of days from 0 to 36500");
			return;
		}
	}
	rc = srv_report_patch_status(q->srv->store, q->now, days, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_report_opt_out(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_report_opt_out(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_report_adoption(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_report_adoption(q->srv->store, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}
