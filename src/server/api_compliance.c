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

/* A report streamed: ?format=csv for CSV, else JSON. */
static int report_next(void *ctx, struct srv_json *out, struct upt_error *err)
{
	return srv_report_next(ctx, out, err);
}

static void report_done(void *ctx)
{
	srv_report_close(ctx);
}

static void report_answer(const struct srv_req *q, struct srv_resp *r, enum srv_report kind,
			  struct srv_report_args *a)
{
	struct upt_error err = {0};
	struct srv_report_stream *s = NULL;
	const char *format = q->query(q->io, "format");
	int rc;
	if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "format: json or csv");
		return;
	}
	a->csv = format && strcmp(format, "csv") == 0;
	a->now = q->now;
	rc = srv_report_open(&s, q->srv->store, kind, a, &err);
	if (rc != UPT_OK) {
		srv_resp_result(r, rc, NULL, &err);
		return;
	}
	r->status = 200;
	r->type = a->csv ? "text/csv" : "application/json";
	r->stream.next = report_next;
	r->stream.done = report_done;
	r->stream.ctx = s;
}

/* ?at=YYYY-MM-DD (default today) &within=DAYS (default 90) */
void srv_h_report_support(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_report_args a = {0};
	const char *at = q->query(q->io, "at"), *within = q->query(q->io, "within");
	char *end;
	a.at_day = q->now / 86400;
	a.within = 90;
	if (at && srv_date_parse(at, &a.at_day) != UPT_OK) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "at: not a date (YYYY-MM-DD)");
		return;
	}
	if (within) {
		a.within = strtoll(within, &end, 10);
		if (!*within || *end || a.within < 0 || a.within > 36500) {
			srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE,
				       "within: a number of days from 0 to 36500");
			return;
		}
	}
	report_answer(q, r, SRV_REPORT_SUPPORT, &a);
}

void srv_h_report_inventory(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_report_args a = {0};
	report_answer(q, r, SRV_REPORT_INVENTORY, &a);
}

/* ?days=N (default 30): how long after publication a device must run it */
void srv_h_report_patch_status(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_report_args a = {0};
	const char *d = q->query(q->io, "days");
	char *end;
	a.days = 30;
	if (d) {
		a.days = strtoll(d, &end, 10);
		if (!*d || *end || a.days < 0 || a.days > 36500) {
			srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE,
				       "days: a number of days from 0 to 36500");
			return;
		}
	}
	report_answer(q, r, SRV_REPORT_PATCH_STATUS, &a);
}

void srv_h_report_opt_out(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_report_args a = {0};
	report_answer(q, r, SRV_REPORT_OPT_OUT, &a);
}

void srv_h_report_adoption(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_report_adoption(q->srv->store, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}
