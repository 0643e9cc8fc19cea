/* uptake-agent: the link to a secondary, aktualizr's IP-Uptane protocol
 * (version 2) as a primary speaks it. Each request and its answer travel
 * over their own TCP connection, as aktualizr's primary does it; the
 * connect, the send and the answer share one deadline; an answer is
 * bounded by what its request may bring back before a byte of it is kept,
 * read exactly to the length its DER header gives (the host's link,
 * src/host/ipu_link.c), and decoded by libuptake's codec
 * (include/uptake/ipuptane.h), which refuses anything but DER of the
 * schema. An answer of another type than the request's is an error naming
 * both. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/ipuptane.h>
#include <uptake/json.h>
#include <uptake/key.h>

#include "../host/ipu_link.h"
#include "agent.h"

/* What an answer may be: a signed version report, else a result with its
 * description or a version. */
#define ANSWER_MAX       AGENT_REPLY_MAX
#define SMALL_ANSWER_MAX ((size_t)16 << 10)
#define KEY_MAX          ((size_t)16 << 10)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of the exchange's deadline (at least 1 ms: a step that
 * finds it spent fails at once). */
static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* One exchange: `req` out, an answer of type `want` into *resp, its byte
 * strings pointing into *buf (malloc'd; the caller frees it). Connect, send
 * and answer share one deadline of `seconds`; the answer is read exactly
 * to its DER length, at most `max` bytes (src/host/ipu_link.c). */
static int rpc_on(const struct agent_secondary *s, int given_fd, int seconds,
		  const struct upt_ipu_msg *req, enum upt_ipu_type want, size_t max,
		  struct upt_ipu_msg *resp, uint8_t **buf, struct upt_error *err)
{
	int64_t deadline = now_ms() + (int64_t)seconds * 1000;
	uint8_t *out = NULL;
	size_t out_len = 0, in_len = 0;
	char what[200];
	int fd = -1, rc;
	*buf = NULL;
	snprintf(what, sizeof what, "secondary %s: %s", s->serial, upt_ipu_type_name(req->type));
	rc = upt_ipu_encode(NULL, 0, &out_len, req);
	if (rc == UPT_OK || rc == UPT_ERR_TOO_LARGE)
		rc = (out = malloc(out_len ? out_len : 1)) ? UPT_OK : UPT_ERR_NOMEM;
	if (rc == UPT_OK)
		rc = upt_ipu_encode(out, out_len, &out_len, req);
	if (rc == UPT_OK && !(*buf = malloc(max)))
		rc = UPT_ERR_NOMEM;
	if (rc != UPT_OK) {
		free(out);
		free(*buf);
		*buf = NULL;
		return upt_error_set(err, rc, "%s: cannot encode (%s)", what, upt_err_name(rc));
	}
	fd = given_fd >= 0
		 ? given_fd
		 : host_ipu_connect(s->address, (uint16_t)s->port, left_ms(deadline), err);
	rc = fd < 0 ? UPT_ERR_IO : UPT_OK;
	if (rc == UPT_OK)
		rc = host_ipu_write(fd, out, out_len, left_ms(deadline), err);
	if (rc == UPT_OK)
		rc = host_ipu_read(fd, *buf, max, &in_len, left_ms(deadline), err);
	if ((rc == UPT_ERR_IO || rc == UPT_ERR_NOT_FOUND) && now_ms() >= deadline)
		upt_error_set(err, UPT_ERR_IO, "no answer within %d s", seconds);
	if (rc == UPT_OK)
		rc = upt_ipu_decode(resp, *buf, in_len, err);
	if (rc == UPT_OK && resp->type != want)
		rc =
		    upt_error_set(err, UPT_ERR_DECODE, "answered with %s, not %s",
				  upt_ipu_type_name((int)resp->type), upt_ipu_type_name((int)want));
	if (rc != UPT_OK) {
		upt_error_prefix(err, what);
		free(*buf);
		*buf = NULL;
	}
	if (fd >= 0 && given_fd < 0)
		close(fd);
	free(out);
	return rc;
}

/* The exchange on a connection of its own (aktualizr's primary's way). */
static int rpc(const struct agent_secondary *s, int seconds, const struct upt_ipu_msg *req,
	       enum upt_ipu_type want, size_t max, struct upt_ipu_msg *resp, uint8_t **buf,
	       struct upt_error *err)
{
	return rpc_on(s, -1, seconds, req, want, max, resp, buf, err);
}

/* Text from the secondary kept for logs and reports: printable ASCII,
 * bounded. */
static void printable(char *out, size_t cap, const struct upt_ipu_bytes *b)
{
	size_t n = b->len < cap - 1 ? b->len : cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = b->data[i] >= 0x20 && b->data[i] < 0x7f ? (char)b->data[i] : '?';
	out[n] = 0;
}

static void result_of(struct sec_result *r, const struct upt_ipu_result *m)
{
	r->code = m->result;
	printable(r->description, sizeof r->description, &m->description);
}

const char *sec_result_name(int32_t code)
{
	switch (code) {
	case UPT_IPU_RESULT_OK:
		return "OK";
	case UPT_IPU_RESULT_ALREADY_PROCESSED:
		return "ALREADY_PROCESSED";
	case UPT_IPU_RESULT_VALIDATION_FAILED:
		return "VERIFICATION_FAILED";
	case UPT_IPU_RESULT_INSTALL_FAILED:
		return "INSTALL_FAILED";
	case UPT_IPU_RESULT_DOWNLOAD_FAILED:
		return "DOWNLOAD_FAILED";
	case UPT_IPU_RESULT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case UPT_IPU_RESULT_GENERAL_ERROR:
		return "GENERAL_ERROR";
	case UPT_IPU_RESULT_NEED_COMPLETION:
		return "NEED_COMPLETION";
	case UPT_IPU_RESULT_CUSTOM_ERROR:
		return "CUSTOM_ERROR";
	case UPT_IPU_RESULT_OPERATION_CANCELLED:
		return "OPERATION_CANCELLED";
	default:
		return "UNKNOWN";
	}
}

static bool same(const struct upt_ipu_bytes *b, const char *s)
{
	return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

/* The key getInfo gives, as aktualizr writes it (Ed25519: 64 hex digits;
 * RSA: PEM), checked and turned into a TUF key object. */
static int key_object(char **out, int32_t type, const struct upt_ipu_bytes *key, const char *serial,
		      struct upt_error *err)
{
	struct upt_json v[3], *keyval[1], *items[2], top;
	struct upt_json *parsed = NULL;
	struct upt_key k;
	struct upt_arena a;
	char *pem = NULL, *text = NULL;
	void *mem = NULL;
	size_t n = 0;
	int rc = UPT_OK;
	*out = NULL;
	if (type != UPT_IPU_KEY_ED25519 && type != UPT_IPU_KEY_RSA2048 &&
	    type != UPT_IPU_KEY_RSA4096)
		return upt_error_set(err, UPT_ERR_KEY, "secondary %s: getInfo: key type %d", serial,
				     (int)type);
	if (key->len == 0 || key->len > KEY_MAX || memchr(key->data, 0, key->len))
		return upt_error_set(err, UPT_ERR_KEY, "secondary %s: getInfo: a key of %zu bytes",
				     serial, key->len);
	if (!(pem = malloc(key->len + 1)) || !(mem = malloc(KEY_MAX * 8)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		memcpy(pem, key->data, key->len);
		pem[key->len] = 0;
		upt_arena_init(&a, mem, KEY_MAX * 8);
		keyval[0] = agent_json_str(&v[0], "public", pem);
		items[0] = agent_json_str(&v[1], "keytype",
					  type == UPT_IPU_KEY_ED25519 ? "ED25519" : "RSA");
		items[1] = agent_json_obj(&v[2], "keyval", keyval, 1);
		rc = agent_json_text(&text, agent_json_obj(&top, NULL, items, 2), err);
	}
	if (rc == UPT_OK)
		rc = upt_json_parse(&parsed, &a, (const uint8_t *)text, strlen(text), NULL, err);
	if (rc == UPT_OK)
		rc = upt_key_parse(&k, &a, "getInfo", parsed, upt_openssl_crypto(), err);
	if (rc == UPT_OK)
		rc = upt_pubkey_json(out, &n, &k, UPT_DIALECT_TUF, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, "getInfo: key");
	free(text);
	free(pem);
	free(mem);
	return rc;
}

int sec_get_info(struct sec_info *out, const struct agent_config *c,
		 const struct agent_secondary *s, struct upt_error *err)
{
	return sec_get_info_on(out, c, s, -1, err);
}

int sec_get_info_on(struct sec_info *out, const struct agent_config *c,
		    const struct agent_secondary *s, int fd, struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	const struct upt_ipu_get_info_resp *r = &resp.u.get_info_resp;
	uint8_t *buf = NULL;
	int rc;
	memset(out, 0, sizeof *out);
	upt_ipu_msg_init(&req, UPT_IPU_GET_INFO_REQ);
	rc = rpc_on(s, fd, c->secondary_timeout, &req, UPT_IPU_GET_INFO_RESP, SMALL_ANSWER_MAX,
		    &resp, &buf, err);
	/* the secondary must be the one configured at this address */
	if (rc == UPT_OK && !same(&r->ecu_serial, s->serial)) {
		char got[130];
		printable(got, sizeof got, &r->ecu_serial);
		rc = upt_error_set(err, UPT_ERR_UNKNOWN_ECU,
				   "secondary %s: getInfo: %s port %d answers as ECU '%s'",
				   s->serial, s->address, s->port, got);
	}
	if (rc == UPT_OK && !same(&r->hw_id, s->hardware_id)) {
		char got[130];
		printable(got, sizeof got, &r->hw_id);
		rc = upt_error_set(err, UPT_ERR_HARDWARE_ID,
				   "secondary %s: getInfo: hardware id '%s', configured %s",
				   s->serial, got, s->hardware_id);
	}
	if (rc == UPT_OK)
		rc = key_object(&out->key_json, r->key_type, &r->key, s->serial, err);
	if (rc == UPT_OK) {
		snprintf(out->serial, sizeof out->serial, "%s", s->serial);
		snprintf(out->hardware_id, sizeof out->hardware_id, "%s", s->hardware_id);
	}
	free(buf);
	return rc;
}

void sec_info_dispose(struct sec_info *info)
{
	if (info)
		upt_free(info->key_json);
	if (info)
		info->key_json = NULL;
}

int sec_version(const struct agent_config *c, const struct agent_secondary *s,
		struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	upt_ipu_msg_init(&req, UPT_IPU_VERSION_REQ);
	req.u.version_req.version = UPT_IPU_PROTOCOL_VERSION;
	rc = rpc(s, c->secondary_timeout, &req, UPT_IPU_VERSION_RESP, SMALL_ANSWER_MAX, &resp, &buf,
		 err);
	if (rc == UPT_OK && resp.u.version_resp.version != UPT_IPU_PROTOCOL_VERSION)
		rc = upt_error_set(
		    err, UPT_ERR_UNSUPPORTED, "secondary %s: speaks IP-Uptane version %lld, not %d",
		    s->serial, (long long)resp.u.version_resp.version, UPT_IPU_PROTOCOL_VERSION);
	free(buf);
	return rc;
}

int sec_manifest(char **json, size_t *len, const struct agent_config *c,
		 const struct agent_secondary *s, struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	*json = NULL;
	*len = 0;
	upt_ipu_msg_init(&req, UPT_IPU_MANIFEST_REQ);
	rc =
	    rpc(s, c->secondary_timeout, &req, UPT_IPU_MANIFEST_RESP, ANSWER_MAX, &resp, &buf, err);
	if (rc == UPT_OK && !(*json = malloc(resp.u.manifest_resp.len + 1)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		memcpy(*json, resp.u.manifest_resp.data, resp.u.manifest_resp.len);
		(*json)[resp.u.manifest_resp.len] = 0;
		*len = resp.u.manifest_resp.len;
	}
	free(buf);
	return rc;
}

int sec_root_version(int64_t *version, const struct agent_config *c,
		     const struct agent_secondary *s, bool director, struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	*version = 0;
	upt_ipu_msg_init(&req, UPT_IPU_ROOT_VER_REQ);
	req.u.root_ver_req.repo_type = director ? UPT_IPU_REPO_DIRECTOR : UPT_IPU_REPO_IMAGE;
	rc = rpc(s, c->secondary_timeout, &req, UPT_IPU_ROOT_VER_RESP, SMALL_ANSWER_MAX, &resp,
		 &buf, err);
	if (rc == UPT_OK &&
	    (resp.u.root_ver_resp.version < 0 || resp.u.root_ver_resp.version > (int64_t)1 << 31))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "secondary %s: rootVer: version %lld",
				   s->serial, (long long)resp.u.root_ver_resp.version);
	if (rc == UPT_OK)
		*version = resp.u.root_ver_resp.version;
	free(buf);
	return rc;
}

int sec_put_root(struct sec_result *r, const struct agent_config *c,
		 const struct agent_secondary *s, bool director, const uint8_t *json, size_t len,
		 struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	upt_ipu_msg_init(&req, UPT_IPU_PUT_ROOT_REQ);
	req.u.put_root_req.repo_type = director ? UPT_IPU_REPO_DIRECTOR : UPT_IPU_REPO_IMAGE;
	req.u.put_root_req.json.data = json;
	req.u.put_root_req.json.len = len;
	rc = rpc(s, c->secondary_timeout, &req, UPT_IPU_PUT_ROOT_RESP, SMALL_ANSWER_MAX, &resp,
		 &buf, err);
	if (rc == UPT_OK)
		result_of(r, &resp.u.put_root_resp);
	free(buf);
	return rc;
}

int sec_put_meta(struct sec_result *r, const struct agent_config *c,
		 const struct agent_secondary *s, const struct upt_ipu_put_meta_req2 *meta,
		 struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	upt_ipu_msg_init(&req, UPT_IPU_PUT_META_REQ2);
	req.u.put_meta_req2 = *meta;
	rc = rpc(s, c->secondary_timeout, &req, UPT_IPU_PUT_META_RESP2, SMALL_ANSWER_MAX, &resp,
		 &buf, err);
	if (rc == UPT_OK)
		result_of(r, &resp.u.put_meta_resp2);
	free(buf);
	return rc;
}

int sec_upload(struct sec_result *r, const struct agent_config *c, const struct agent_secondary *s,
	       const char *path, int64_t length, struct upt_error *err)
{
	uint8_t chunk[UPT_IPU_CHUNK];
	int64_t sent = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = UPT_OK;
	memset(r, 0, sizeof *r);
	if (fd < 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", path, strerror(errno));
	while (rc == UPT_OK && r->code == UPT_IPU_RESULT_OK && sent < length) {
		struct upt_ipu_msg req, resp;
		uint8_t *buf = NULL;
		size_t want =
		    length - sent < (int64_t)sizeof chunk ? (size_t)(length - sent) : sizeof chunk;
		ssize_t n = read(fd, chunk, want);
		if (n <= 0) {
			rc = upt_error_set(err, UPT_ERR_IO, "%s: short at %lld of %lld bytes", path,
					   (long long)sent, (long long)length);
			break;
		}
		upt_ipu_msg_init(&req, UPT_IPU_UPLOAD_DATA_REQ);
		req.u.upload_data_req.data = chunk;
		req.u.upload_data_req.len = (size_t)n;
		rc = rpc(s, c->secondary_timeout, &req, UPT_IPU_UPLOAD_DATA_RESP, SMALL_ANSWER_MAX,
			 &resp, &buf, err);
		if (rc == UPT_OK)
			result_of(r, &resp.u.upload_data_resp);
		if (rc == UPT_OK && r->code != UPT_IPU_RESULT_OK)
			agent_log("secondary %s: uploadDataReq at byte %lld: %s: %s", s->serial,
				  (long long)sent, sec_result_name(r->code), r->description);
		free(buf);
		sent += n;
	}
	close(fd);
	return rc;
}

int sec_install(struct sec_result *r, const struct agent_config *c, const struct agent_secondary *s,
		const char *target, struct upt_error *err)
{
	struct upt_ipu_msg req, resp;
	uint8_t *buf = NULL;
	int rc;
	upt_ipu_msg_init(&req, UPT_IPU_INSTALL_REQ);
	/* aktualizr's field is named hash; it carries the target's file name */
	req.u.install_req.data = (const uint8_t *)target;
	req.u.install_req.len = strlen(target);
	rc = rpc(s, c->secondary_install_timeout, &req, UPT_IPU_INSTALL_RESP2, SMALL_ANSWER_MAX,
		 &resp, &buf, err);
	if (rc == UPT_OK)
		result_of(r, &resp.u.install_resp2);
	free(buf);
	return rc;
}
