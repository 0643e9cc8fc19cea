/* uptake-server: update campaigns (admin). */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "campaigns.h"

void srv_h_campaigns_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_campaign_list(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_campaigns_create(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_campaign_create(q->srv->repo, q->srv->director, q->body, q->body_len, q->now,
				     &json, &err);
	srv_resp_result(r, rc, json, &err);
	if (rc == UPT_OK)
		r->status = 201;
}

/* ?members=1: every ECU and its state too */
void srv_h_campaigns_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *members = q->query(q->io, "members");
	char *json = NULL;
	int rc;
	if (members && strcmp(members, "0") != 0 && strcmp(members, "1") != 0) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "members: 0 or 1");
		return;
	}
	rc = srv_campaign_show(q->srv->store, q->param[0], members && strcmp(members, "1") == 0,
			       &json, &err);
	srv_resp_result(r, rc, json, &err);
}

/* POST /api/v1/campaigns/{id}/{action} */
void srv_h_campaigns_action(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_campaign_action(q->srv->director, q->param[0], q->param[1], q->body,
				     q->body_len, q->now, &json, &err);
	srv_resp_result(r, rc, json, &err);
}
