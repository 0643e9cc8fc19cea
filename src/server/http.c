/* uptake-server: the HTTP front end (libmicrohttpd, epoll, a thread pool).
 *
 *   GET  /repo/ROLE.json, /repo/N.ROLE.json     Image repository metadata
 *   GET  /repo/targets/NAME (or DIR/HASH.NAME)  images (Range, ETag)
 *   GET  /health
 *   admin (Authorization: Bearer TOKEN):
 *   GET  /api/v1/repo/online-keys
 *   PUT  /api/v1/repo/root                      offline-signed root (JSON)
 *   PUT  /api/v1/repo/metadata/ROLE             offline-signed targets or delegated role
 *   PUT  /api/v1/images/NAME                    an image (octet-stream)
 *
 * Errors are JSON {"error":{"code":"UPT_ERR_...","message":"..."}} with a
 * 4xx status for anything the client got wrong; nothing is stored then. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uptake/encode.h>

#include "server.h"

struct listener {
	struct srv_http *h;
	bool tls;
};

struct srv_http {
	struct MHD_Daemon *d, *plain;
	const struct srv_config *cfg;
	struct srv_repo *repo, *director;
	struct srv_ca *ca;
	struct listener tls_side, plain_side;
};

/* The common name of the client certificate, when the TLS session has one
 * that verifies against the server's CA. */
static bool client_cn(struct MHD_Connection *c, char *cn, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	gnutls_session_t s;
	gnutls_x509_crt_t crt;
	unsigned status = 1, n = 0;
	size_t sz = cap;
	bool ok = false;
	if (!ci || !ci->tls_session)
		return false;
	s = (gnutls_session_t)ci->tls_session;
	if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0)
		return false;
	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || n == 0 || gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
		return false;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &sz) ==
		GNUTLS_E_SUCCESS &&
	    sz > 0 && sz < cap)
		ok = true;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

enum req_kind { REQ_NONE, REQ_META, REQ_IMAGE };

/* Requests with a body, dispatched once it is complete. */
enum route {
	R_NONE,
	R_REPO_ROOT,     /* PUT /api/v1/repo/root */
	R_REPO_META,     /* PUT /api/v1/repo/metadata/ROLE */
	R_IMAGE,         /* PUT /api/v1/images/NAME */
	R_DIRECTOR_ROOT, /* PUT /api/v1/director/root */
	R_DEVICE_ADD,    /* POST /api/v1/devices */
	R_ASSIGN,        /* POST /api/v1/assign */
	R_REGISTER,      /* POST /director/ecus (device) */
	R_MANIFEST,      /* PUT /director/manifest (device) */
	R_INFO,          /* system information, events... (device) */
	R_PROVISION,     /* POST /devices (fleet credential) */
	R_FLEET,         /* POST /api/v1/fleet-credentials */
};

struct req {
	enum req_kind kind;
	enum route route;
	bool routed;
	const char *info_kind;
	bool info_json;
	char device[256]; /* the client certificate's CN on device routes */
	bool rejected;    /* a response is already queued */
	/* a refusal answered once the body has been read (answering earlier
	 * makes TLS clients see a reset instead of the status) */
	unsigned defer_status;
	int defer_code;
	const char *defer_msg;
	bool too_large;
	/* metadata body */
	uint8_t *buf;
	size_t len, cap;
	/* image body */
	int fd;
	char tmp[PATH_MAX];
	uint64_t got;
	EVP_MD_CTX *h256, *h512;
};

static void req_free(struct req *q)
{
	if (!q)
		return;
	free(q->buf);
	if (q->fd >= 0) {
		close(q->fd);
		unlink(q->tmp);
	}
	EVP_MD_CTX_free(q->h256);
	EVP_MD_CTX_free(q->h512);
	free(q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

/* ---- responses ---------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
				const void *data, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = 0;
}

static unsigned status_of(int code)
{
	switch (code) {
	case UPT_ERR_NOT_FOUND:
		return MHD_HTTP_NOT_FOUND;
	case UPT_ERR_TOO_LARGE:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case UPT_ERR_ROLLBACK:
	case UPT_ERR_VERSION:
	case UPT_ERR_STATE:
		return MHD_HTTP_CONFLICT;
	case UPT_ERR_IO:
	case UPT_ERR_NOMEM:
	case UPT_ERR_CRYPTO:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default:
		return MHD_HTTP_BAD_REQUEST;
	}
}

static enum MHD_Result send_error_at(enum srv_log_level level, struct MHD_Connection *c,
				     const char *method, const char *url, unsigned status, int code,
				     const char *msg)
{
	char esc[2 * UPT_ERROR_MSG_MAX + 64], body[3 * UPT_ERROR_MSG_MAX + 128];
	json_escape(esc, sizeof esc, msg);
	snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
		 upt_err_name(code), esc);
	srv_log(level, "%s %s -> %u %s: %s", method, url, status, upt_err_name(code), msg);
	return send_buf(c, status, "application/json", body, strlen(body));
}

static enum MHD_Result send_error(struct MHD_Connection *c, const char *method, const char *url,
				  unsigned status, int code, const char *msg)
{
	return send_error_at(status >= 500 ? SRV_LOG_ERROR : SRV_LOG_WARN, c, method, url, status,
			     code, msg);
}

static enum MHD_Result send_upt_error(struct MHD_Connection *c, const char *method, const char *url,
				      const struct upt_error *err)
{
	return send_error(c, method, url, status_of(err->code), err->code, err->msg);
}

/* ---- the repository: metadata and images -------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static enum MHD_Result get_metadata(struct srv_http *h, struct MHD_Connection *c,
				    const char *method, const char *url, const char *repo,
				    const char *file)
{
	char role[256];
	const char *dot = strchr(file, '.');
	int64_t version = 0;
	size_t n = strlen(file);
	struct srv_meta m;
	struct upt_error err = {0};
	enum MHD_Result ret;
	if (n < 6 || strcmp(file + n - 5, ".json") != 0 || n - 5 >= sizeof role)
		return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
				  "no such file");
	if (dot && all_digits(file, (size_t)(dot - file)) && dot + 1 < file + n - 5) {
		version = strtoll(file, NULL, 10);
		snprintf(role, sizeof role, "%.*s", (int)(file + n - 5 - dot - 1), dot + 1);
	} else {
		snprintf(role, sizeof role, "%.*s", (int)(n - 5), file);
	}
	if (h->repo->store->ops->meta_get(h->repo->store, repo, role, version, &m, &err) !=
	    UPT_OK) {
		/* N+1.root.json not found is how every client learns it has the
		 * newest root: routine, not worth a warning */
		if (err.code == UPT_ERR_NOT_FOUND && strcmp(role, "root") == 0 && version > 0)
			return send_error_at(SRV_LOG_DEBUG, c, method, url, MHD_HTTP_NOT_FOUND,
					     err.code, err.msg);
		return send_upt_error(c, method, url, &err);
	}
	ret = send_buf(c, MHD_HTTP_OK, "application/json", m.data, m.len);
	srv_meta_free(&m);
	srv_log(SRV_LOG_DEBUG, "%s %s -> 200", method, url);
	return ret;
}

/* "DIR/HASH.NAME" (consistent snapshots) or "NAME". */
static int find_image(struct srv_http *h, const char *path, struct srv_image *img,
		      struct upt_error *err)
{
	const char *base = strrchr(path, '/');
	const char *b = base ? base + 1 : path;
	char plain[600];
	if (h->repo->store->ops->image_get(h->repo->store, path, img, NULL) == UPT_OK)
		return UPT_OK;
	if (strlen(b) > 65 && b[64] == '.') {
		bool hex = true;
		for (int i = 0; i < 64; i++)
			hex &= (b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'f');
		if (hex &&
		    (size_t)snprintf(plain, sizeof plain, "%.*s%s", (int)(b - path), path, b + 65) <
			sizeof plain &&
		    h->repo->store->ops->image_get(h->repo->store, plain, img, NULL) == UPT_OK &&
		    strncmp(img->sha256, b, 64) == 0)
			return UPT_OK;
	}
	return upt_error_set(err, UPT_ERR_NOT_FOUND, "no such image");
}

/* "bytes=A-B" or "bytes=A-": one range within size. */
static int parse_range(const char *v, uint64_t size, uint64_t *from, uint64_t *to)
{
	char *end;
	unsigned long long a, b;
	if (strncmp(v, "bytes=", 6) != 0 || v[6] < '0' || v[6] > '9')
		return -1;
	errno = 0;
	a = strtoull(v + 6, &end, 10);
	if (errno || *end != '-' || a >= size)
		return -1;
	if (end[1] == 0) {
		b = size - 1;
	} else {
		b = strtoull(end + 1, &end, 10);
		if (errno || *end != 0 || b < a)
			return -1;
		if (b >= size)
			b = size - 1;
	}
	*from = a;
	*to = b;
	return 0;
}

static enum MHD_Result get_image(struct srv_http *h, struct MHD_Connection *c, const char *method,
				 const char *url, const char *path)
{
	struct srv_image img;
	struct upt_error err = {0};
	char file[PATH_MAX], etag[80];
	const char *inm, *range;
	struct MHD_Response *r;
	struct stat st;
	uint64_t from = 0, to = 0;
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result ret;
	int fd;
	if (find_image(h, path, &img, &err) != UPT_OK)
		return send_upt_error(c, method, url, &err);
	snprintf(etag, sizeof etag, "\"%s\"", img.sha256);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && strcmp(inm, etag) == 0) {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		ret = MHD_queue_response(c, MHD_HTTP_NOT_MODIFIED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (srv_image_path(h->cfg, img.sha256, file, sizeof file) != UPT_OK ||
	    (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return send_error(c, method, url, 500, UPT_ERR_IO, "image file missing");
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != (uint64_t)img.length) {
		close(fd);
		return send_error(c, method, url, 500, UPT_ERR_IO, "image file damaged");
	}
	to = st.st_size ? (uint64_t)st.st_size - 1 : 0;
	range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	if (range && st.st_size > 0) {
		if (parse_range(range, (uint64_t)st.st_size, &from, &to) != 0) {
			char cr[64];
			close(fd);
			r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
			snprintf(cr, sizeof cr, "bytes */%lld", (long long)st.st_size);
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			ret = MHD_queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
			MHD_destroy_response(r);
			return ret;
		}
		status = MHD_HTTP_PARTIAL_CONTENT;
	}
	r = MHD_create_response_from_fd_at_offset64(st.st_size ? to - from + 1 : 0, fd, from);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		char cr[96];
		snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%lld", from, to,
			 (long long)st.st_size);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	srv_log(SRV_LOG_DEBUG, "%s %s -> %u", method, url, status);
	return ret;
}

/* ---- admin ---------------------------------------------------------------- */

static bool authorised(struct srv_http *h, struct MHD_Connection *c)
{
	const char *a =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n = strlen(h->cfg->admin_token);
	if (!a || strncmp(a, "Bearer ", 7) != 0 || n == 0 || strlen(a + 7) != n)
		return false;
	return upt_ct_equal((const uint8_t *)a + 7, (const uint8_t *)h->cfg->admin_token, n);
}

static bool content_type_is(struct MHD_Connection *c, const char *want)
{
	const char *t =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(want);
	return t && strncmp(t, want, n) == 0 && (t[n] == 0 || t[n] == ';');
}

static enum MHD_Result image_done(struct srv_http *h, struct MHD_Connection *c, const char *method,
				  const char *url, struct req *q, const char *name)
{
	struct srv_image img = {0};
	uint8_t d256[UPT_SHA256_LEN], d512[UPT_SHA512_LEN];
	char path[PATH_MAX], body[4096], esc[3100];
	struct upt_error err = {0};
	if (EVP_DigestFinal_ex(q->h256, d256, NULL) != 1 ||
	    EVP_DigestFinal_ex(q->h512, d512, NULL) != 1)
		return send_error(c, method, url, 500, UPT_ERR_CRYPTO, "hashing failed");
	snprintf(img.name, sizeof img.name, "%s", name);
	img.length = (int64_t)q->got;
	upt_hex_encode(img.sha256, d256, sizeof d256);
	upt_hex_encode(img.sha512, d512, sizeof d512);
	if (srv_image_path(h->cfg, img.sha256, path, sizeof path) != UPT_OK || fsync(q->fd) != 0 ||
	    close(q->fd) != 0) {
		q->fd = -1;
		return send_error(c, method, url, 500, UPT_ERR_IO, "cannot keep the image");
	}
	q->fd = -1;
	if (rename(q->tmp, path) != 0) {
		unlink(q->tmp);
		return send_error(c, method, url, 500, UPT_ERR_IO, "cannot keep the image");
	}
	if (h->repo->store->ops->image_put(h->repo->store, &img, &err) != UPT_OK)
		return send_upt_error(c, method, url, &err);
	json_escape(esc, sizeof esc, name);
	snprintf(
	    body, sizeof body,
	    "{\"name\":\"%s\",\"length\":%lld,\"hashes\":{\"sha256\":\"%s\",\"sha512\":\"%s\"}}\n",
	    esc, (long long)img.length, img.sha256, img.sha512);
	srv_log(SRV_LOG_INFO, "image %s: %lld bytes, sha256 %s", name, (long long)img.length,
		img.sha256);
	return send_buf(c, MHD_HTTP_OK, "application/json", body, strlen(body));
}

static bool valid_image_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len >= 500 || n[0] == '/' || strstr(n, "//"))
		return false;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '"')
			return false;
	/* no "." or ".." segments */
	for (const char *s = n; s;) {
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s = e ? e + 1 : NULL;
	}
	return true;
}

/* Refuse after the body (kept to the metadata limit) has been read. */
static enum MHD_Result defer(struct req *q, unsigned status, int code, const char *msg)
{
	q->rejected = false;
	q->kind = REQ_META;
	q->defer_status = status;
	q->defer_code = code;
	q->defer_msg = msg;
	return MHD_YES;
}

static enum MHD_Result send_json(struct MHD_Connection *c, const char *method, const char *url,
				 int rc, char *json, const struct upt_error *err)
{
	enum MHD_Result ret;
	if (rc != UPT_OK)
		return send_upt_error(c, method, url, err);
	ret = send_buf(c, MHD_HTTP_OK, "application/json", json, strlen(json));
	free(json);
	srv_log(SRV_LOG_DEBUG, "%s %s -> 200", method, url);
	return ret;
}

/* Take a JSON body on route `r` (content type and size checked). */
static enum MHD_Result want_json(struct srv_http *h, struct MHD_Connection *c, const char *method,
				 const char *url, struct req *q, enum route r)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	q->route = r;
	q->rejected = false;
	q->kind = REQ_META;
	if (!content_type_is(c, "application/json"))
		return defer(q, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, UPT_ERR_ARG,
			     "send application/json");
	if (cl && strtoull(cl, NULL, 10) > h->cfg->max_metadata_bytes) {
		q->rejected = true;
		return send_error(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, UPT_ERR_TOO_LARGE,
				  "body larger than the configured limit");
	}
	return MHD_YES;
}

static bool is(const char *method, const char *want)
{
	return strcmp(method, want) == 0;
}

/* ?dialect=aktualizr: key objects spelt for aktualizr-dialect metadata. */
static enum upt_dialect dialect_arg(struct MHD_Connection *c)
{
	const char *d = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dialect");
	return d && strcmp(d, "aktualizr") == 0 ? UPT_DIALECT_AKTUALIZR : UPT_DIALECT_TUF;
}

/* First call of an admin request: answer reads, set up writes. */
static enum MHD_Result admin_first(struct srv_http *h, struct MHD_Connection *c, const char *method,
				   const char *url, const char *path, struct req *q)
{
	struct upt_error err = {0};
	char *json = NULL;
	int rc;
	q->rejected = true;
	if (!authorised(h, c))
		return send_error(c, method, url, MHD_HTTP_UNAUTHORIZED, UPT_ERR_ARG,
				  "admin token missing or wrong");
	if (is(method, "GET")) {
		if (strcmp(path, "repo/online-keys") == 0)
			rc = srv_repo_online_keys(h->repo, dialect_arg(c), &json, &err);
		else if (strcmp(path, "director/online-keys") == 0)
			rc = srv_repo_online_keys(h->director, dialect_arg(c), &json, &err);
		else if (strcmp(path, "devices") == 0)
			rc = srv_admin_device_list(h->repo->store, &json, &err);
		else if (strncmp(path, "devices/", 8) == 0 && path[8] && !strchr(path + 8, '/'))
			rc = srv_admin_device_show(h->repo->store, path + 8, &json, &err);
		else
			return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
					  "no such endpoint");
		return send_json(c, method, url, rc, json, &err);
	}
	if (is(method, "POST") && (strcmp(path, "repo/online-keys/rotate") == 0 ||
				   strcmp(path, "director/online-keys/rotate") == 0)) {
		rc = srv_repo_rotate_online(path[0] == 'r' ? h->repo : h->director, dialect_arg(c),
					    &json, &err);
		return send_json(c, method, url, rc, json, &err);
	}
	if (is(method, "PUT") && strcmp(path, "repo/root") == 0)
		return want_json(h, c, method, url, q, R_REPO_ROOT);
	if (is(method, "PUT") && strncmp(path, "repo/metadata/", 14) == 0 && path[14])
		return want_json(h, c, method, url, q, R_REPO_META);
	if (is(method, "PUT") && strcmp(path, "director/root") == 0)
		return want_json(h, c, method, url, q, R_DIRECTOR_ROOT);
	if (is(method, "POST") && strcmp(path, "devices") == 0)
		return want_json(h, c, method, url, q, R_DEVICE_ADD);
	if (is(method, "POST") && strcmp(path, "assign") == 0)
		return want_json(h, c, method, url, q, R_ASSIGN);
	if (is(method, "POST") && strcmp(path, "fleet-credentials") == 0)
		return want_json(h, c, method, url, q, R_FLEET);
	if (is(method, "PUT") && strncmp(path, "images/", 7) == 0) {
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		q->route = R_IMAGE;
		q->rejected = false;
		if (!valid_image_name(path + 7))
			return defer(q, MHD_HTTP_BAD_REQUEST, UPT_ERR_FIELD_VALUE,
				     "bad image name");
		if (!content_type_is(c, "application/octet-stream"))
			return defer(q, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, UPT_ERR_ARG,
				     "send application/octet-stream");
		if (cl && strtoull(cl, NULL, 10) > h->cfg->max_image_bytes) {
			q->rejected = true;
			return send_error(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
					  UPT_ERR_TOO_LARGE, "image too large");
		}
		snprintf(q->tmp, sizeof q->tmp, "%s/images/.upload-XXXXXX", h->cfg->data_dir);
		q->fd = mkostemp(q->tmp, O_CLOEXEC);
		q->h256 = EVP_MD_CTX_new();
		q->h512 = EVP_MD_CTX_new();
		if (q->fd < 0 || !q->h256 || !q->h512 ||
		    EVP_DigestInit_ex(q->h256, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestInit_ex(q->h512, EVP_sha512(), NULL) != 1) {
			q->rejected = true;
			return send_error(c, method, url, 500, UPT_ERR_IO, "cannot take an upload");
		}
		q->kind = REQ_IMAGE;
		return MHD_YES;
	}
	return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
			  "no such endpoint (or wrong method)");
}

/* First call of a device request (mutual TLS): the device is the CN of a
 * certificate this server issued, and must be known. */
/* The other things aktualizr sends, kept as reported. */
static const struct {
	const char *method, *path, *kind;
	bool json;
} device_info[] = {
    {"PUT", "/core/installed", "installed", true},
    {"PUT", "/system_info", "system_info", true},
    {"PUT", "/system_info/network", "network", true},
    {"POST", "/system_info/config", "config", false},
    {"POST", "/events", "events", true},
};

static bool is_device_path(const char *url)
{
	if (strncmp(url, "/director/", 10) == 0 || strcmp(url, "/devices") == 0)
		return true;
	for (size_t i = 0; i < sizeof device_info / sizeof device_info[0]; i++)
		if (strcmp(url, device_info[i].path) == 0)
			return true;
	return false;
}

/* First call of a device request (mutual TLS): the device is the CN of a
 * certificate this server issued, and must be known. POST /devices is for
 * fleet credentials (CN "fleet:NAME") only. */
static enum MHD_Result device_first(struct srv_http *h, struct MHD_Connection *c,
				    const char *method, const char *url, struct req *q)
{
	struct srv_device d;
	struct upt_error err = {0};
	const char *file = url + 10;
	q->rejected = true;
	if (!client_cn(c, q->device, sizeof q->device))
		return send_error(c, method, url, MHD_HTTP_UNAUTHORIZED, UPT_ERR_ARG,
				  "a device certificate issued by this server is required");
	if (strcmp(url, "/devices") == 0) {
		if (strncmp(q->device, "fleet:", 6) != 0)
			return send_error(c, method, url, MHD_HTTP_FORBIDDEN, UPT_ERR_ARG,
					  "provisioning needs a fleet credential");
		if (!is(method, "POST"))
			return send_error(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, UPT_ERR_ARG,
					  "use POST");
		return want_json(h, c, method, url, q, R_PROVISION);
	}
	if (h->repo->store->ops->device_get(h->repo->store, q->device, &d, &err) != UPT_OK)
		return send_error(c, method, url, MHD_HTTP_FORBIDDEN, UPT_ERR_NOT_FOUND,
				  "unknown device");
	for (size_t i = 0; i < sizeof device_info / sizeof device_info[0]; i++) {
		if (strcmp(url, device_info[i].path) != 0)
			continue;
		if (!is(method, device_info[i].method))
			return send_error(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, UPT_ERR_ARG,
					  "wrong method");
		q->info_kind = device_info[i].kind;
		q->info_json = device_info[i].json;
		if (q->info_json)
			return want_json(h, c, method, url, q, R_INFO);
		q->route = R_INFO;
		q->rejected = false;
		q->kind = REQ_META;
		return MHD_YES;
	}
	if (is(method, "POST") && strcmp(file, "ecus") == 0)
		return want_json(h, c, method, url, q, R_REGISTER);
	if (is(method, "PUT") && strcmp(file, "manifest") == 0)
		return want_json(h, c, method, url, q, R_MANIFEST);
	if (!is(method, "GET") || strchr(file, '/'))
		return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
				  "no such resource");
	/* the Director's root is shared; the other roles are the device's */
	if (strcmp(file, "root.json") == 0 || strstr(file, ".root.json"))
		return get_metadata(h, c, method, url, h->director->name, file);
	{
		char repo[300];
		if (srv_director_current(h->director, q->device, (int64_t)time(NULL), &err) !=
		    UPT_OK)
			return send_upt_error(c, method, url, &err);
		snprintf(repo, sizeof repo, "director/%s", q->device);
		return get_metadata(h, c, method, url, repo, file);
	}
}

/* A piece of a request body. */
static enum MHD_Result take_body(struct srv_http *h, struct req *q, const char *upload, size_t n)
{
	if (q->defer_status) {
		/* drain a refused body, but not forever */
		q->len += n;
		return q->len <= h->cfg->max_metadata_bytes ? MHD_YES : MHD_NO;
	}
	if (q->too_large)
		return MHD_YES;
	if (q->kind == REQ_META) {
		if (q->len + n > h->cfg->max_metadata_bytes) {
			q->too_large = true;
			return MHD_YES;
		}
		if (q->len + n > q->cap) {
			size_t cap = q->cap ? q->cap : 65536;
			uint8_t *b;
			while (cap < q->len + n)
				cap *= 2;
			if (!(b = realloc(q->buf, cap)))
				return MHD_NO;
			q->buf = b;
			q->cap = cap;
		}
		memcpy(q->buf + q->len, upload, n);
		q->len += n;
		return MHD_YES;
	}
	{
		const uint8_t *p = (const uint8_t *)upload;
		if (q->got + n > h->cfg->max_image_bytes) {
			q->too_large = true;
			return MHD_YES;
		}
		q->got += n;
		EVP_DigestUpdate(q->h256, p, n);
		EVP_DigestUpdate(q->h512, p, n);
		while (n) {
			ssize_t w = write(q->fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return MHD_NO;
			p += w;
			n -= (size_t)w;
		}
	}
	return MHD_YES;
}

static int resign_devices(struct srv_http *h, int64_t now, struct upt_error *err)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	int rc = h->repo->store->ops->device_list(h->repo->store, &d, &n, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++)
		rc = srv_director_publish(h->director, d[i].id, now, err);
	free(d);
	return rc;
}

/* The body is complete: do what the route says. */
static enum MHD_Result complete(struct srv_http *h, struct MHD_Connection *c, const char *method,
				const char *url, struct req *q)
{
	struct upt_error err = {0};
	int64_t now = (int64_t)time(NULL), version = 0;
	char *json = NULL;
	int rc;
	q->rejected = true;
	if (q->defer_status)
		return send_error(c, method, url, q->defer_status, q->defer_code, q->defer_msg);
	if (q->too_large)
		return send_error(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, UPT_ERR_TOO_LARGE,
				  "body larger than the configured limit");
	switch (q->route) {
	case R_IMAGE:
		return image_done(h, c, method, url, q, url + 15);
	case R_REPO_ROOT:
		rc = srv_repo_put_root(h->repo, q->buf, q->len, now, &version, NULL, &err);
		break;
	case R_REPO_META:
		rc = srv_repo_put_targets(h->repo, url + 22, q->buf, q->len, now, &version, &err);
		break;
	case R_DIRECTOR_ROOT: {
		bool rotated = false;
		rc = srv_repo_put_root(h->director, q->buf, q->len, now, &version, &rotated, &err);
		/* new online keys: every device's metadata is signed anew */
		if (rc == UPT_OK && rotated)
			rc = resign_devices(h, now, &err);
		break;
	}
	case R_DEVICE_ADD:
		rc = srv_admin_device_add(h->repo->store, h->ca, q->buf, q->len, &json, &err);
		return send_json(c, method, url, rc, json, &err);
	case R_ASSIGN:
		rc = srv_admin_assign(h->repo, h->director, q->buf, q->len, now, &json, &err);
		return send_json(c, method, url, rc, json, &err);
	case R_REGISTER:
		rc = srv_dev_register(h->repo->store, q->device, q->buf, q->len, &err);
		break;
	case R_MANIFEST:
		rc = srv_dev_manifest(h->repo->store, q->device, q->buf, q->len, now, &err);
		break;
	case R_INFO:
		rc = srv_dev_info(h->repo->store, q->device, q->info_kind, q->info_json,
				  q->buf ? q->buf : (const uint8_t *)"", q->len, &err);
		break;
	case R_FLEET:
		rc = srv_admin_fleet_credential(h->ca, q->buf, q->len, &json, &err);
		return send_json(c, method, url, rc, json, &err);
	case R_PROVISION: {
		uint8_t *p12 = NULL;
		size_t n = 0;
		struct MHD_Response *r;
		enum MHD_Result ret;
		rc = srv_dev_provision(h->repo->store, h->ca, q->device, q->buf, q->len, &p12, &n,
				       &err);
		if (rc != UPT_OK)
			return send_upt_error(c, method, url, &err);
		r = MHD_create_response_from_buffer(n, p12, MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(p12);
			return MHD_NO;
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-pkcs12");
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	default:
		return send_error(c, method, url, 500, UPT_ERR_STATE, "no route");
	}
	if (rc != UPT_OK)
		return send_upt_error(c, method, url, &err);
	{
		char body[64];
		snprintf(body, sizeof body, "{\"version\":%lld}\n", (long long)version);
		srv_log(SRV_LOG_INFO, "%s %s -> 200", method, url);
		return send_buf(c, MHD_HTTP_OK, "application/json", body, strlen(body));
	}
}

/* Where a request goes, decided once its headers are in. */
static enum MHD_Result route(struct listener *l, struct srv_http *h, struct MHD_Connection *c,
			     const char *method, const char *url, struct req *q)
{
	/* the plain listener serves the public Image repository only */
	if (!l->tls && strncmp(url, "/repo/", 6) != 0 && strcmp(url, "/health") != 0) {
		q->rejected = true;
		return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
				  "only /repo/ is served without TLS");
	}
	if (is_device_path(url))
		return device_first(h, c, method, url, q);
	if (strncmp(url, "/api/v1/", 8) == 0)
		return admin_first(h, c, method, url, url + 8, q);
	/* reads answer at once */
	q->rejected = true;
	if (!is(method, "GET") && !is(method, "HEAD"))
		return send_error(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, UPT_ERR_ARG,
				  "use GET");
	if (strcmp(url, "/health") == 0)
		return send_buf(c, MHD_HTTP_OK, "application/json", "{\"ok\":true}\n", 12);
	if (strncmp(url, "/repo/targets/", 14) == 0)
		return get_image(h, c, method, url, url + 14);
	if (strncmp(url, "/repo/", 6) == 0 && !strchr(url + 6, '/'))
		return get_metadata(h, c, method, url, h->repo->name, url + 6);
	return send_error(c, method, url, MHD_HTTP_NOT_FOUND, UPT_ERR_NOT_FOUND,
			  "no such resource");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *size, void **con_cls)
{
	struct listener *l = cls;
	struct srv_http *h = l->h;
	struct req *q = *con_cls;
	(void)version;
	if (!q) {
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		bool body = (cl && strcmp(cl, "0") != 0) ||
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (!(q = calloc(1, sizeof *q)))
			return MHD_NO;
		q->fd = -1;
		*con_cls = q;
		/* Without a body, answer on the next call: a response queued
		 * before the request is complete closes the connection. With
		 * one, decide now, so a refusal goes out before the body (the
		 * client's "Expect: 100-continue"). */
		if (!body)
			return MHD_YES;
		q->routed = true;
		return route(l, h, c, method, url, q);
	}
	if (!q->routed) {
		enum MHD_Result r = route(l, h, c, method, url, q);
		q->routed = true;
		if (q->rejected || r != MHD_YES) {
			*size = 0;
			return r;
		}
	}
	if (q->rejected) { /* discard the rest of a refused body */
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		size_t n = *size;
		*size = 0;
		return take_body(h, q, upload, n);
	}
	return complete(h, c, method, url, q);
}

static struct MHD_Daemon *start(struct srv_http *h, struct listener *l, int port, bool tls)
{
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, h->cfg->listen_address, &addr.sin_addr) != 1)
		return NULL;
	l->h = h;
	l->tls = tls;
	if (!tls)
		return MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
		    (uint16_t)port, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, &addr,
		    MHD_OPTION_THREAD_POOL_SIZE, h->cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
		    on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
		    MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	return MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_TLS,
	    (uint16_t)port, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, &addr,
	    MHD_OPTION_THREAD_POOL_SIZE, h->cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    h, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT, 1000u,
	    MHD_OPTION_HTTPS_MEM_CERT, h->ca->server_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
	    h->ca->server_key_pem, MHD_OPTION_HTTPS_MEM_TRUST, h->ca->ca_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_END);
}

int srv_http_start(struct srv_http **out, const struct srv_config *cfg, struct srv_repo *repo,
		   struct srv_repo *director, struct srv_ca *ca, struct upt_error *err)
{
	struct srv_http *h = calloc(1, sizeof *h);
	if (!h)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	h->cfg = cfg;
	h->repo = repo;
	h->director = director;
	h->ca = ca;
	h->d = start(h, &h->tls_side, cfg->port, true);
	if (h->d && cfg->repo_http_port >= 0)
		h->plain = start(h, &h->plain_side, cfg->repo_http_port, false);
	if (!h->d || (cfg->repo_http_port >= 0 && !h->plain)) {
		srv_http_stop(h);
		return upt_error_set(err, UPT_ERR_IO, "cannot listen on %s (port %d, %d)",
				     cfg->listen_address, cfg->port, cfg->repo_http_port);
	}
	*out = h;
	return UPT_OK;
}

static int port_of(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i =
	    d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	return i ? i->port : -1;
}

int srv_http_port(const struct srv_http *h)
{
	return port_of(h->d);
}

int srv_http_repo_port(const struct srv_http *h)
{
	return port_of(h->plain);
}

void srv_http_stop(struct srv_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->plain)
		MHD_stop_daemon(h->plain);
	free(h);
}
