/* Fuzz target: IP-Uptane messages (aktualizr's protocol, DER) through
 * upt_ipu_decode. A message that decodes must re-encode to exactly the
 * bytes decoded (DER has one encoding per value), its framed length must
 * be the input's, and no byte string may point outside the input. */
#include <stdlib.h>
#include <string.h>
#include <uptake/ipuptane.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[1u << 20];

static void inside(const struct upt_ipu_bytes *b, const uint8_t *data, size_t size)
{
	if (b->len && (b->data < data || b->data + b->len > data + size))
		abort();
}

static void check_pointers(const struct upt_ipu_msg *m, const uint8_t *data, size_t size)
{
	switch (m->type) {
	case UPT_IPU_PUT_META_REQ2:
		for (size_t i = 0; i < m->u.put_meta_req2.image_repo.count; i++) {
			inside(&m->u.put_meta_req2.image_repo.items[i].role, data, size);
			inside(&m->u.put_meta_req2.image_repo.items[i].json, data, size);
		}
		for (size_t i = 0; i < m->u.put_meta_req2.director_repo.count; i++) {
			inside(&m->u.put_meta_req2.director_repo.items[i].role, data, size);
			inside(&m->u.put_meta_req2.director_repo.items[i].json, data, size);
		}
		break;
	case UPT_IPU_GET_INFO_RESP:
		inside(&m->u.get_info_resp.ecu_serial, data, size);
		inside(&m->u.get_info_resp.hw_id, data, size);
		inside(&m->u.get_info_resp.key, data, size);
		break;
	case UPT_IPU_PUT_META_REQ:
		inside(&m->u.put_meta_req.image_root, data, size);
		inside(&m->u.put_meta_req.image_targets, data, size);
		inside(&m->u.put_meta_req.director_targets, data, size);
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		inside(&m->u.put_root_req.json, data, size);
		break;
	case UPT_IPU_MANIFEST_RESP:
	case UPT_IPU_SEND_FIRMWARE_REQ:
	case UPT_IPU_INSTALL_REQ:
	case UPT_IPU_UPLOAD_DATA_REQ:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		inside(&m->u.install_req, data, size); /* the one-string messages */
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		inside(&m->u.install_resp2.description, data, size);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_ipu_msg m;
	struct upt_error err;
	size_t len = 0, frame = 0;
	if (size > sizeof out)
		return 0;
	int rc = upt_ipu_decode(&m, data, size, &err);
	int frc = upt_ipu_frame_length(&frame, data, size, size, &err);
	if (rc != UPT_OK) {
		/* nothing is left in a refused message */
		static const struct upt_ipu_msg zero;
		if (memcmp(&m, &zero, sizeof m) != 0)
			abort();
		return 0;
	}
	if (frc != UPT_OK || frame != size)
		abort();
	check_pointers(&m, data, size);
	if (upt_ipu_encode(out, sizeof out, &len, &m) != UPT_OK)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	size_t counted = 0;
	if (upt_ipu_encode(NULL, 0, &counted, &m) != UPT_OK || counted != size)
		abort();
	return 0;
}
