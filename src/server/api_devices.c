/* uptake-server: devices and inventory, assignments and fleet credentials
 * (admin). The logic is in devices.c; these adapt it to requests. */
#include "api.h"

static void json_or_error(struct srv_resp *r, int rc, char *json, const struct upt_error *err)
{
	if (rc == UPT_OK)
		srv_resp_json(r, json);
	else
		srv_resp_upt_error(r, err);
}

void srv_h_devices_add(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_add(q->srv->store, q->srv->ca, q->body, q->body_len, &json, &err);
	json_or_error(r, rc, json, &err);
}

void srv_h_devices_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_list(q->srv->store, &json, &err);
	json_or_error(r, rc, json, &err);
}

void srv_h_devices_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_show(q->srv->store, q->param[0], &json, &err);
	json_or_error(r, rc, json, &err);
}

void srv_h_assign(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_assign(q->srv->repo, q->srv->director, q->body, q->body_len, q->now,
				  &json, &err);
	json_or_error(r, rc, json, &err);
}

void srv_h_fleet_credential(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_fleet_credential(q->srv->ca, q->body, q->body_len, &json, &err);
	json_or_error(r, rc, json, &err);
}
