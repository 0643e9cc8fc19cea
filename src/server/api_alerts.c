/* uptake-server: alerts (admin): list (JSON or JSON lines), acknowledge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "alerts.h"
#include "api.h"

static int alerts_next(void *ctx, struct srv_json *out, struct upt_error *err)
{
	return srv_alerts_stream_next(ctx, out, err);
}

static void alerts_done(void *ctx)
{
	srv_alerts_stream_close(ctx);
}

/* ?kind=K&device=D&since=UNIX&open=1&limit=N&format=jsonl, streamed */
void srv_h_alerts_list(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	const char *format = q->query(q->io, "format");
	struct srv_alerts_stream *s = NULL;
	bool jsonl = format && strcmp(format, "jsonl") == 0;
	int rc;
	if (format && !jsonl && strcmp(format, "json") != 0) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "format: json or jsonl");
		return;
	}
	rc = srv_alerts_stream_open(&s, q->srv->store, q->query(q->io, "kind"),
				    q->query(q->io, "device"), q->query(q->io, "since"),
				    q->query(q->io, "open"), q->query(q->io, "limit"), jsonl, &err);
	if (rc != UPT_OK) {
		srv_resp_result(r, rc, NULL, &err);
		return;
	}
	r->status = 200;
	r->type = jsonl ? "application/x-ndjson" : "application/json";
	r->stream.next = alerts_next;
	r->stream.done = alerts_done;
	r->stream.ctx = s;
}

/* {"by": NAME}: who acknowledges. A user acknowledges as themselves; only
 * the shared admin token may name someone. */
void srv_h_alert_ack(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	size_t cap = 32 * q->body_len + 4096; /* the body is bounded by its route */
	unsigned char *mem = malloc(cap);
	struct upt_arena a;
	struct upt_json *v;
	const struct upt_json *by;
	char *json = NULL, name[128] = "admin";
	int rc;
	if (!mem) {
		srv_resp_error(r, 500, UPT_ERR_NOMEM, "out of memory");
		return;
	}
	upt_arena_init(&a, mem, cap);
	rc = upt_json_parse(&v, &a, q->body, q->body_len, NULL, &err);
	if (rc == UPT_OK && (v->type != UPT_JSON_OBJECT || v->n > 1 ||
			     (v->n == 1 && !(by = upt_json_get(v, "by")))))
		rc = upt_error_set(&err, UPT_ERR_FIELD_VALUE, "ack: {\"by\": NAME} or {}");
	if (rc == UPT_OK && v->n == 1) {
		if (by->type != UPT_JSON_STRING || by->len == 0 || by->len >= sizeof name ||
		    memchr(by->str, 0, by->len))
			rc = upt_error_set(&err, UPT_ERR_FIELD_VALUE,
					   "by: a name of 1 to 127 bytes");
		else
			memcpy(name, by->str, by->len + 1);
	}
	if (rc == UPT_OK && q->actor && strcmp(q->actor, "admin-token") != 0) {
		if (v->n == 1 && strcmp(name, q->actor) != 0)
			rc = upt_error_set(&err, UPT_ERR_FIELD_VALUE,
					   "by: a user acknowledges as themselves (%s)", q->actor);
		snprintf(name, sizeof name, "%s", q->actor);
	}
	if (rc == UPT_OK)
		rc = srv_admin_alert_ack(q->srv->store, q->param[0], name, q->now, &json, &err);
	free(mem);
	srv_resp_result(r, rc, json, &err);
}
