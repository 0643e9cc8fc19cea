/* uptake-server: Image repository endpoints. Public reads of metadata
 * (ROLE.json, N.ROLE.json) and images (Range, ETag); the admin's uploads of
 * offline-signed metadata and of images. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uptake/encode.h>

#include "api.h"

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

void srv_serve_metadata(const struct srv_req *q, struct srv_resp *r, const char *repo,
			const char *file)
{
	char role[256];
	const char *dot = strchr(file, '.');
	int64_t version = 0;
	size_t n = strlen(file);
	struct srv_meta m;
	struct upt_error err = {0};
	struct srv_store *st = q->srv->store;
	if (n < 6 || strcmp(file + n - 5, ".json") != 0 || n - 5 >= sizeof role) {
		srv_resp_error(r, 404, UPT_ERR_NOT_FOUND, "no such file");
		return;
	}
	if (dot && all_digits(file, (size_t)(dot - file)) && dot + 1 < file + n - 5) {
		version = strtoll(file, NULL, 10);
		snprintf(role, sizeof role, "%.*s", (int)(file + n - 5 - dot - 1), dot + 1);
	} else {
		snprintf(role, sizeof role, "%.*s", (int)(n - 5), file);
	}
	if (st->ops->meta_get(st, repo, role, version, &m, &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		/* N+1.root.json not found is how every client learns it has the
		 * newest root: routine, not worth a warning */
		if (err.code == UPT_ERR_NOT_FOUND && strcmp(role, "root") == 0 && version > 0)
			r->log_level = SRV_LOG_DEBUG;
		return;
	}
	srv_resp_json(r, NULL);
	r->body = m.data; /* taken over */
	r->len = m.len;
}

/* Up when the database answers: a load balancer takes a server whose
 * database is away out of its rotation. */
void srv_h_health(const struct srv_req *q, struct srv_resp *r)
{
	static const char up[] = "{\"ok\":true,\"database\":\"ok\"}\n";
	static const char down[] = "{\"ok\":false,\"database\":\"unavailable\"}\n";
	struct srv_store *st = q->srv->store;
	if (st->ops->ping(st, NULL) == UPT_OK)
		srv_resp_bytes(r, 200, "application/json", up, sizeof up - 1);
	else
		srv_resp_bytes(r, 503, "application/json", down, sizeof down - 1);
}

void srv_h_repo_metadata(const struct srv_req *q, struct srv_resp *r)
{
	srv_serve_metadata(q, r, q->srv->repo->name, q->param[0]);
}

/* "DIR/HASH.NAME" (consistent snapshots) or "NAME". */
static int find_image(struct srv_store *st, const char *path, struct srv_image *img,
		      struct upt_error *err)
{
	const char *base = strrchr(path, '/');
	const char *b = base ? base + 1 : path;
	char plain[600];
	if (st->ops->image_get(st, path, img, NULL) == UPT_OK)
		return UPT_OK;
	if (strlen(b) > 65 && b[64] == '.') {
		bool hex = true;
		for (int i = 0; i < 64; i++)
			hex &= (b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f');
		if (hex &&
		    (size_t)snprintf(plain, sizeof plain, "%.*s%s", (int)(b - path), path, b + 65) <
			sizeof plain &&
		    st->ops->image_get(st, plain, img, NULL) == UPT_OK &&
		    strncmp(img->sha256, b, 64) == 0)
			return UPT_OK;
	}
	return upt_error_set(err, UPT_ERR_NOT_FOUND, "no such image");
}

void srv_h_repo_image(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_image img;
	struct upt_error err = {0};
	char file[PATH_MAX], etag[80], cr[96];
	const char *inm, *range;
	struct stat st;
	uint64_t from = 0, to = 0;
	int fd;
	if (find_image(q->srv->store, q->param[0], &img, &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		return;
	}
	snprintf(etag, sizeof etag, "\"%s\"", img.sha256);
	inm = q->header(q->io, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		srv_resp_bytes(r, 304, "application/octet-stream", "", 0);
		srv_resp_header(r, "ETag", etag);
		return;
	}
	if (srv_image_path(q->srv->cfg, img.sha256, file, sizeof file) != UPT_OK ||
	    (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		srv_resp_error(r, 500, UPT_ERR_IO, "image file missing");
		return;
	}
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != (uint64_t)img.length) {
		close(fd);
		srv_resp_error(r, 500, UPT_ERR_IO, "image file damaged");
		return;
	}
	to = st.st_size ? (uint64_t)st.st_size - 1 : 0;
	r->status = 200;
	range = q->header(q->io, "Range");
	if (range && st.st_size > 0) {
		if (srv_parse_range(range, (uint64_t)st.st_size, &from, &to) != 0) {
			close(fd);
			srv_resp_bytes(r, 416, "application/octet-stream", "", 0);
			snprintf(cr, sizeof cr, "bytes */%lld", (long long)st.st_size);
			srv_resp_header(r, "Content-Range", cr);
			return;
		}
		r->status = 206;
		snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%lld", from, to,
			 (long long)st.st_size);
		srv_resp_header(r, "Content-Range", cr);
	}
	r->type = "application/octet-stream";
	r->fd = fd;
	r->fd_off = from;
	r->fd_len = st.st_size ? to - from + 1 : 0;
	srv_resp_header(r, "ETag", etag);
	srv_resp_header(r, "Accept-Ranges", "bytes");
}

void srv_version_answer(struct srv_resp *r, int64_t version)
{
	char body[64];
	snprintf(body, sizeof body, "{\"version\":%lld}\n", (long long)version);
	srv_resp_bytes(r, 200, "application/json", body, strlen(body));
}

void srv_h_repo_put_metadata(const struct srv_req *q, struct srv_resp *r)
{
	struct upt_error err = {0};
	int64_t version = 0;
	if (srv_repo_put_targets(q->srv->repo, q->param[0], q->body, q->body_len, q->now, &version,
				 &err) != UPT_OK)
		srv_resp_upt_error(r, &err);
	else
		srv_version_answer(r, version);
}

void srv_h_repo_put_image(const struct srv_req *q, struct srv_resp *r)
{
	struct srv_upload *u = q->upload;
	struct srv_image img = {0};
	struct upt_error err = {0};
	char path[PATH_MAX], *json = NULL;
	size_t cap;
	const char *name = q->param[0];
	if (!srv_valid_image_name(name)) {
		srv_resp_error(r, 400, UPT_ERR_FIELD_VALUE, "bad image name");
		return;
	}
	snprintf(img.name, sizeof img.name, "%s", name);
	img.length = (int64_t)u->length;
	upt_hex_encode(img.sha256, u->sha256, sizeof u->sha256);
	upt_hex_encode(img.sha512, u->sha512, sizeof u->sha512);
	if (srv_image_path(q->srv->cfg, img.sha256, path, sizeof path) != UPT_OK ||
	    fsync(u->fd) != 0 || rename(u->tmp, path) != 0) {
		srv_resp_error(r, 500, UPT_ERR_IO, "cannot keep the image");
		return;
	}
	u->tmp[0] = 0; /* kept */
	if (q->srv->store->ops->image_put(q->srv->store, &img, &err) != UPT_OK) {
		srv_resp_upt_error(r, &err);
		return;
	}
	srv_log(SRV_LOG_INFO, "image %s: %lld bytes, sha256 %s", name, (long long)img.length,
		img.sha256);
	/* a valid image name has no quote, backslash or control character */
	cap = strlen(name) + 400;
	if (!(json = malloc(cap))) {
		srv_resp_error(r, 500, UPT_ERR_NOMEM, "out of memory");
		return;
	}
	snprintf(
	    json, cap,
	    "{\"name\":\"%s\",\"length\":%lld,\"hashes\":{\"sha256\":\"%s\",\"sha512\":\"%s\"}}\n",
	    name, (long long)img.length, img.sha256, img.sha512);
	srv_resp_json(r, json);
}
