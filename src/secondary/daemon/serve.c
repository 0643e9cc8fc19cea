/* uptake-secondary: one connection. Each request finds its handler in a
 * table by message type; a handler fills in the answer. A message that is
 * not a valid request (too long, malformed, truncated, of a type a
 * secondary does not answer, or not complete within the timeout) closes
 * the connection, with the reason logged: nothing of it is acted on. */
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>

#include "../../host/ipu_link.h"
#include "secondary.h"

/* A handler: UPT_OK to send `out`, an error to close the connection. */
typedef int (*handler)(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		       struct upt_error *err);

/* Answers of the v2 requests with a result and a description. */
static void result(struct upt_ipu_msg *out, enum upt_ipu_type type, int32_t code,
		   const struct upt_error *err)
{
	upt_ipu_msg_init(out, type);
	out->u.put_meta_resp2.result = code;
	if (code != UPT_IPU_RESULT_OK && err && err->msg[0])
		out->u.put_meta_resp2.description =
		    (struct upt_ipu_bytes){(const uint8_t *)err->msg, strlen(err->msg)};
}

static int32_t code_of(int rc)
{
	switch (rc) {
	case UPT_OK:
		return UPT_IPU_RESULT_OK;
	case UPT_ERR_IO:
	case UPT_ERR_NOMEM:
		return UPT_IPU_RESULT_INTERNAL_ERROR;
	default:
		return UPT_IPU_RESULT_VALIDATION_FAILED;
	}
}

static int get_info(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		    struct upt_error *err)
{
	(void)in;
	(void)err;
	upt_ipu_msg_init(out, UPT_IPU_GET_INFO_RESP);
	struct upt_ipu_get_info_resp *r = &out->u.get_info_resp;
	r->ecu_serial = (struct upt_ipu_bytes){(const uint8_t *)s->c->serial, strlen(s->c->serial)};
	r->hw_id =
	    (struct upt_ipu_bytes){(const uint8_t *)s->c->hardware_id, strlen(s->c->hardware_id)};
	r->key_type = UPT_IPU_KEY_ED25519;
	r->key = (struct upt_ipu_bytes){(const uint8_t *)s->key_hex, strlen(s->key_hex)};
	return UPT_OK;
}

static int version(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		   struct upt_error *err)
{
	(void)s;
	(void)err;
	if (in->u.version_req.version != UPT_IPU_PROTOCOL_VERSION)
		sec_log("the primary speaks protocol version %lld; this secondary speaks %d",
			(long long)in->u.version_req.version, UPT_IPU_PROTOCOL_VERSION);
	upt_ipu_msg_init(out, UPT_IPU_VERSION_RESP);
	out->u.version_resp.version = UPT_IPU_PROTOCOL_VERSION;
	return UPT_OK;
}

/* The report text lives until the next manifest request. */
static char *report_text;

static int manifest(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		    struct upt_error *err)
{
	size_t len = 0;
	(void)in;
	upt_free(report_text);
	report_text = NULL;
	int rc = sec_version_report(s, &report_text, &len, err);
	if (rc != UPT_OK)
		return rc; /* no report: the primary sees no answer */
	upt_ipu_msg_init(out, UPT_IPU_MANIFEST_RESP);
	out->u.manifest_resp = (struct upt_ipu_bytes){(const uint8_t *)report_text, len};
	return UPT_OK;
}

static int repo_type(const struct upt_ipu_root *r, struct upt_error *err)
{
	if (r->repo_type != UPT_IPU_REPO_DIRECTOR && r->repo_type != UPT_IPU_REPO_IMAGE)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "repotype %d is neither 0 nor 1",
				     (int)r->repo_type);
	return UPT_OK;
}

static int root_ver(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		    struct upt_error *err)
{
	int64_t v = 0;
	int rc = repo_type(&in->u.root_ver_req, err);
	if (rc == UPT_OK)
		rc = sec_root_version(s, in->u.root_ver_req.repo_type, &v, err);
	if (rc != UPT_OK)
		return rc;
	upt_ipu_msg_init(out, UPT_IPU_ROOT_VER_RESP);
	out->u.root_ver_resp.version = v;
	return UPT_OK;
}

static int put_root(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		    struct upt_error *err)
{
	const struct upt_ipu_root *r = &in->u.put_root_req;
	int rc = repo_type(r, err);
	if (rc == UPT_OK)
		rc = sec_put_root(s, r->repo_type, r->json.data, r->json.len, err);
	if (rc != UPT_OK) {
		sec_log("root refused: %s", err->msg);
		sec_attack(s, rc, err->msg);
	}
	result(out, UPT_IPU_PUT_ROOT_RESP, code_of(rc), err);
	return UPT_OK;
}

static int put_meta(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		    struct upt_error *err)
{
	int rc = sec_put_meta(s, &in->u.put_meta_req2, err);
	if (rc != UPT_OK) {
		sec_log("metadata refused: %s: %s", upt_err_name(rc), err->msg);
		sec_attack(s, rc, err->msg);
	}
	result(out, UPT_IPU_PUT_META_RESP2, code_of(rc), err);
	return UPT_OK;
}

static int upload(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		  struct upt_error *err)
{
	const struct upt_ipu_bytes *d = &in->u.upload_data_req;
	int rc = sec_upload_chunk(s, d->data, d->len, err);
	if (rc != UPT_OK)
		sec_log("image refused: %s", err->msg);
	result(out, UPT_IPU_UPLOAD_DATA_RESP,
	       rc == UPT_OK ? UPT_IPU_RESULT_OK : UPT_IPU_RESULT_DOWNLOAD_FAILED, err);
	return UPT_OK;
}

static int install(struct secondary *s, const struct upt_ipu_msg *in, struct upt_ipu_msg *out,
		   struct upt_error *err)
{
	const struct upt_ipu_bytes *name = &in->u.install_req;
	int32_t code = UPT_IPU_RESULT_OK;
	int rc = sec_install(s, name->data, name->len, &code, err);
	if (rc != UPT_OK) {
		sec_log("install refused: %s", err->msg);
		if (rc == UPT_ERR_IO)
			code = UPT_IPU_RESULT_INSTALL_FAILED;
	}
	result(out, UPT_IPU_INSTALL_RESP2, code, rc == UPT_OK ? NULL : err);
	return UPT_OK;
}

/* The requests a v2 secondary answers. Any other (v1's putMetaReq and
 * sendFirmwareReq, OSTree's) is refused: logged, and the connection closed
 * without an answer, as aktualizr's secondary does with what it does not
 * handle (docs/secondary-protocol.md). */
static const handler handlers[UPT_IPU_TYPE_COUNT] = {
    [UPT_IPU_GET_INFO_REQ] = get_info,  [UPT_IPU_VERSION_REQ] = version,
    [UPT_IPU_MANIFEST_REQ] = manifest,  [UPT_IPU_ROOT_VER_REQ] = root_ver,
    [UPT_IPU_PUT_ROOT_REQ] = put_root,  [UPT_IPU_PUT_META_REQ2] = put_meta,
    [UPT_IPU_UPLOAD_DATA_REQ] = upload, [UPT_IPU_INSTALL_REQ] = install,
};

void sec_serve(struct secondary *s, int fd)
{
	const struct sec_config *c = s->c;
	uint8_t *in = upt_malloc(c->max_message), *outbuf = NULL;
	size_t out_cap = c->max_message + 4096;
	struct upt_ipu_msg req, resp;
	struct upt_error err;
	if (!in || !(outbuf = upt_malloc(out_cap))) {
		sec_log("out of memory for a message of %zu bytes", c->max_message);
		goto done;
	}
	for (;;) {
		upt_error_clear(&err);
		int rc = host_ipu_recv(fd, &req, in, c->max_message, c->timeout_ms, &err);
		if (rc == UPT_ERR_NOT_FOUND)
			break; /* the primary closed the connection */
		if (rc != UPT_OK) {
			sec_log("connection closed: %s: %s", upt_err_name(rc), err.msg);
			break;
		}
		handler h = handlers[req.type];
		if (!h) {
			sec_log("connection closed: %s is not a request this secondary answers",
				upt_ipu_type_name((int)req.type));
			break;
		}
		upt_error_clear(&err);
		rc = h(s, &req, &resp, &err);
		if (rc != UPT_OK) {
			sec_log("connection closed: %s: %s", upt_ipu_type_name((int)req.type),
				err.msg);
			break;
		}
		rc = host_ipu_send(fd, &resp, outbuf, out_cap, c->timeout_ms, &err);
		if (rc != UPT_OK) {
			sec_log("connection closed: %s", err.msg);
			break;
		}
	}
done:
	upt_free(in);
	upt_free(outbuf);
}
