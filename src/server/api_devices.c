/* uptake-server: devices and inventory, assignments and fleet credentials
 * (admin). The logic is in devices.c; these adapt it to requests. */
#include <stdlib.h>

#include "api.h"
#include "lifecycle.h"

/* {"id":..., "public_key":...} and optionally the unit's lifecycle
 * (product, manufactured, placed_on_market, support_end), checked before
 * the device is added. */
void srv_h_devices_add(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	struct srv_lifecycle l = {0};
	struct upt_json *v = NULL;
	struct upt_arena a;
	size_t cap = 32 * q->body_len + 4096;
	unsigned char *mem = malloc(cap);
	bool any = false;
	char *json = NULL;
	int rc = mem ? UPT_OK : upt_error_set(&err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, cap);
		rc = upt_json_parse(&v, &a, q->body, q->body_len, NULL, &err);
	}
	if (rc == UPT_OK)
		rc = srv_lifecycle_from_json(&l, v, &any, &err);
	if (rc == UPT_OK && any)
		rc = srv_lifecycle_check(q->srv->store, NULL, &l, q->now, &err);
	if (rc == UPT_OK)
		rc = srv_admin_device_add(q->srv->store, q->srv->ca, q->body, q->body_len, &json,
					  &err);
	if (rc == UPT_OK && any) {
		const struct upt_json *id = upt_json_get(v, "id");
		rc = srv_lifecycle_set(q->srv->store, q->srv->director, id->str, &l, q->now, &err);
		if (rc != UPT_OK) {
			free(json);
			json = NULL;
		}
	}
	free(mem);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_devices_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_list(q->srv->store, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_devices_show(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_show(q->srv->store, q->param[0], &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_assign(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_assign(q->srv->repo, q->srv->director, q->body, q->body_len, q->now,
				  &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_fleet_credential(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_fleet_credential(q->srv->ca, q->body, q->body_len, &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_devices_manifests(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_admin_device_manifests(q->srv->store, q->param[0], &json, &err);
	srv_resp_result(r, rc, json, &err);
}
