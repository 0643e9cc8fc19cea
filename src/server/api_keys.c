/* uptake-server: roots and online keys of both repositories (admin). The
 * row's `arg` names the repository: "image" or "director". */
#include <stdlib.h>
#include <string.h>

#include "api.h"

static struct srv_repo *repo_of(const struct srv_req *q)
{
	return strcmp(q->info_kind, "director") == 0 ? q->srv->director : q->srv->repo;
}

/* ?dialect=aktualizr: key objects spelt for aktualizr-dialect metadata. */
static enum upt_dialect dialect_arg(const struct srv_req *q)
{
	const char *d = q->query(q->io, "dialect");
	return d && strcmp(d, "aktualizr") == 0 ? UPT_DIALECT_AKTUALIZR : UPT_DIALECT_TUF;
}

void srv_h_keys_online(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_repo_online_keys(repo_of(q), dialect_arg(q), &json, &err);
	srv_resp_result(r, rc, json, &err);
}

void srv_h_keys_rotate(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc = srv_repo_rotate_online(repo_of(q), dialect_arg(q), &json, &err);
	srv_resp_result(r, rc, json, &err);
}

static int resign_devices(const struct srv_req *q, struct upt_error *err)
{
	struct srv_store *st = q->srv->store;
	struct srv_device *d = NULL;
	size_t n = 0;
	int rc = st->ops->device_list(st, &d, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++)
		rc = srv_director_publish(q->srv->director, d[i].id, q->now, err);
	free(d);
	return rc;
}

void srv_h_keys_put_root(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	int64_t version = 0;
	bool rotated = false, director = repo_of(q) == q->srv->director;
	int rc = srv_repo_put_root(repo_of(q), q->body, q->body_len, q->now, &version,
				   director ? &rotated : NULL, &err);
	/* new online Director keys: every device's metadata is signed anew */
	if (rc == UPT_OK && rotated)
		rc = resign_devices(q, &err);
	if (rc != UPT_OK)
		srv_resp_upt_error(r, &err);
	else
		srv_version_answer(r, version);
}
