/* uptake-server: what devices call, over mutual TLS, in aktualizr's API.
 * http.c has checked that the caller is a registered device (or, for
 * provisioning, a fleet credential); q->caller is its id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "campaigns.h"

static void ok_or_error(struct srv_resp *r, int rc, const struct upt_error *err)
{
	if (rc == UPT_OK)
		srv_version_answer(r, 0);
	else
		srv_resp_upt_error(r, err);
}

/* The Director's root is shared; the other roles are the device's own. */
void srv_h_director_metadata(const struct srv_req *q, struct srv_resp *r)
{
	const char *file = q->param[0];
	struct upt_error err = {0};
	char repo[300];
	if (strcmp(file, "root.json") == 0 || strstr(file, ".root.json")) {
		srv_serve_metadata(q, r, q->srv->director->name, file);
		return;
	}
	/* the current versions: from memory while nothing changed */
	if (strcmp(file, "targets.json") == 0 || strcmp(file, "snapshot.json") == 0 ||
	    strcmp(file, "timestamp.json") == 0) {
		uint8_t *data = NULL;
		size_t len = 0;
		if (srv_director_get(q->srv->director, q->caller, file, q->now, &data, &len,
				     &err) != UPT_OK) {
			srv_resp_upt_error(r, &err);
			return;
		}
		srv_resp_json(r, NULL);
		r->body = data; /* taken over */
		r->len = len;
		return;
	}
	if (srv_director_current(q->srv->director, q->caller, q->now, &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		return;
	}
	snprintf(repo, sizeof repo, "director/%s", q->caller);
	srv_serve_metadata(q, r, repo, file);
}

void srv_h_director_register(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	int rc = srv_dev_register(q->srv->store, q->caller, q->body, q->body_len, &err);
	if (rc == UPT_OK)
		srv_campaign_device_joined(q->srv->repo, q->srv->director, q->caller, q->now);
	ok_or_error(r, rc, &err);
}

/* A manifest whose write went to the store's group commit: answered
 * once that commit is durable. */
struct manifest_later {
	struct srv_later *later;
	struct srv_repo *director;
	char *device;
	int64_t now;
	struct srv_manifest_run *run;
};

static void manifest_answer(struct srv_repo *director, const char *device, int64_t now, int rc,
			    const struct upt_error *err, struct srv_resp *r)
{
	/* the device's campaigns follow its verified evidence */
	if (rc == UPT_OK)
		srv_campaign_device_changed(director, device, now);
	/* accepted: 200 and no body, which goes out in one TLS record */
	if (r && rc == UPT_OK)
		srv_resp_bytes(r, 200, NULL, NULL, 0);
	else if (r)
		srv_resp_upt_error(r, err);
}

/* In the connection's thread again (r NULL: the connection is gone). */
static void manifest_then(void *ctx, struct srv_resp *r)
{
	struct manifest_later *ml = ctx;
	struct upt_error err = {0};
	int rc = srv_dev_manifest_finish(ml->run, &err);
	manifest_answer(ml->director, ml->device, ml->now, rc, &err, r);
	free(ml->device);
	free(ml);
}

/* On the store's committing thread. */
static void manifest_committed(void *ctx, struct srv_manifest_run *run)
{
	struct manifest_later *ml = ctx;
	ml->run = run;
	srv_later_resume(ml->later, manifest_then, ml);
}

void srv_h_director_manifest(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_store *st = q->srv->store;
	struct upt_error err = {0};
	struct srv_manifest_run *run = NULL;
	struct manifest_later *ml = NULL;
	int rc = srv_dev_manifest_prepare(st, q->caller, q->body, q->body_len, q->now, &run, &err);
	/* verified here; where the store commits groups on its own threads,
	 * the connection waits for that commit without holding this thread */
	if (rc == UPT_OK && st->ops->grouped_async && (ml = calloc(1, sizeof *ml)) &&
	    (ml->device = strdup(q->caller)) && (ml->later = srv_later(q))) {
		ml->director = q->srv->director;
		ml->now = q->now;
		srv_dev_manifest_queue(run, manifest_committed, ml);
		return;
	}
	if (ml) {
		free(ml->device);
		free(ml);
	}
	if (rc == UPT_OK)
		rc = srv_dev_manifest_commit(run, &err);
	manifest_answer(q->srv->director, q->caller, q->now, rc, &err, r);
}

/* The other things aktualizr sends, kept as reported; the row's arg names
 * the kind. */
void srv_h_device_report(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	bool json = strcmp(q->info_kind, "config") != 0;
	int rc =
	    srv_dev_info(q->srv->store, q->caller, q->info_kind, json, q->body, q->body_len, &err);
	if (rc == UPT_OK && strcmp(q->info_kind, "events") == 0)
		srv_campaign_device_changed(q->srv->director, q->caller, q->now);
	ok_or_error(r, rc, &err);
}

void srv_h_device_provision(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	uint8_t *p12 = NULL;
	size_t n = 0;
	if (srv_dev_provision(q->srv->store, q->srv->ca, q->caller, q->body, q->body_len, &p12, &n,
			      &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		return;
	}
	srv_resp_bytes(r, 200, "application/x-pkcs12", NULL, 0);
	r->body = p12; /* taken over */
	r->len = n;
}
