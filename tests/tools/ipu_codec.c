/* uptake's IP-Uptane codec from the command line, for the interoperability
 * test with asn1c (tests/interop/ipuptane_asn1c.sh).
 *
 *   ipu_codec samples DIR   one message of every type, encoded by uptake,
 *                           as DIR/<asn1 name>.der
 *   ipu_codec dump FILE     decode FILE with uptake and print its fields,
 *                           one "name=value" per line (byte strings as
 *                           text when printable, else hex); exit 1 when it
 *                           is refused */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/encode.h>
#include <uptake/ipuptane.h>

static uint8_t buf[1 << 20];

#define B(s) ((struct upt_ipu_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static void fill(struct upt_ipu_msg *m, int t)
{
	upt_ipu_msg_init(m, (enum upt_ipu_type)t);
	switch (t) {
	case UPT_IPU_GET_INFO_RESP:
		m->u.get_info_resp.ecu_serial = B("ecu-1");
		m->u.get_info_resp.hw_id = B("motor-ctl");
		m->u.get_info_resp.key_type = UPT_IPU_KEY_ED25519;
		m->u.get_info_resp.key = B("3b6a27bcceb6a42d62a3a8d02a6f0d73");
		break;
	case UPT_IPU_MANIFEST_RESP:
	case UPT_IPU_SEND_FIRMWARE_REQ:
	case UPT_IPU_INSTALL_REQ:
	case UPT_IPU_UPLOAD_DATA_REQ:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		m->u.install_req = B("fw-1.0.bin");
		break;
	case UPT_IPU_PUT_META_REQ:
		m->u.put_meta_req.image_root = B("{\"r\":1}");
		m->u.put_meta_req.image_timestamp = B("{}");
		m->u.put_meta_req.image_snapshot = B("{}");
		m->u.put_meta_req.image_targets = B("{}");
		m->u.put_meta_req.director_root = B("{}");
		m->u.put_meta_req.director_targets = B("{\"t\":2}");
		break;
	case UPT_IPU_PUT_META_RESP:
	case UPT_IPU_SEND_FIRMWARE_RESP:
		m->u.put_meta_resp.result = UPT_IPU_V1_FAILURE;
		break;
	case UPT_IPU_INSTALL_RESP:
		m->u.install_resp.result = UPT_IPU_RESULT_NEED_COMPLETION;
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		m->u.install_resp2.result = t == UPT_IPU_INSTALL_RESP2
						? UPT_IPU_RESULT_UNKNOWN
						: UPT_IPU_RESULT_VALIDATION_FAILED;
		m->u.install_resp2.description = B("refused");
		break;
	case UPT_IPU_PUT_META_REQ2:
		m->u.put_meta_req2.image_repo.count = 2;
		m->u.put_meta_req2.image_repo.items[0].role = B("root");
		m->u.put_meta_req2.image_repo.items[0].json = B("{\"signed\":{}}");
		m->u.put_meta_req2.image_repo.items[1].role = B("targets");
		m->u.put_meta_req2.image_repo.items[1].json = B("{}");
		m->u.put_meta_req2.director_repo.count = 1;
		m->u.put_meta_req2.director_repo.items[0].role = B("root");
		m->u.put_meta_req2.director_repo.items[0].json = B("{}");
		break;
	case UPT_IPU_VERSION_REQ:
	case UPT_IPU_VERSION_RESP:
		m->u.version_req.version = 2;
		break;
	case UPT_IPU_ROOT_VER_REQ:
		m->u.root_ver_req.repo_type = UPT_IPU_REPO_IMAGE;
		break;
	case UPT_IPU_ROOT_VER_RESP:
		m->u.root_ver_resp.version = 300;
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		m->u.put_root_req.repo_type = UPT_IPU_REPO_DIRECTOR;
		m->u.put_root_req.json = B("{\"signed\":{\"version\":2}}");
		break;
	default:
		break;
	}
}

static int samples(const char *dir)
{
	for (int t = 0; t < UPT_IPU_TYPE_COUNT; t++) {
		struct upt_ipu_msg m;
		size_t len;
		char path[4096];
		fill(&m, t);
		if (upt_ipu_encode(buf, sizeof buf, &len, &m) != UPT_OK)
			return 1;
		snprintf(path, sizeof path, "%s/%s.der", dir, upt_ipu_type_name(t));
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
			return 1;
	}
	return 0;
}

static void bytes(const char *name, const struct upt_ipu_bytes *b)
{
	bool text = true;
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] > 0x7e)
			text = false;
	if (text) {
		printf("%s=%.*s\n", name, (int)b->len, (const char *)b->data);
		return;
	}
	printf("%s=hex:", name);
	for (size_t i = 0; i < b->len; i++)
		printf("%02x", b->data[i]);
	printf("\n");
}

static void coll(const char *name, const struct upt_ipu_collection *c)
{
	for (size_t i = 0; i < c->count; i++) {
		char n[64];
		snprintf(n, sizeof n, "%s[%zu].role", name, i);
		bytes(n, &c->items[i].role);
		snprintf(n, sizeof n, "%s[%zu].json", name, i);
		bytes(n, &c->items[i].json);
	}
}

static int dump(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
	struct upt_ipu_msg m;
	struct upt_error err;
	if (f)
		fclose(f);
	if (upt_ipu_decode(&m, buf, len, &err) != UPT_OK) {
		printf("refused: %s\n", err.msg);
		return 1;
	}
	printf("type=%s\n", upt_ipu_type_name((int)m.type));
	switch (m.type) {
	case UPT_IPU_GET_INFO_RESP:
		bytes("ecuSerial", &m.u.get_info_resp.ecu_serial);
		bytes("hwId", &m.u.get_info_resp.hw_id);
		printf("keyType=%d\n", (int)m.u.get_info_resp.key_type);
		bytes("key", &m.u.get_info_resp.key);
		break;
	case UPT_IPU_MANIFEST_RESP:
	case UPT_IPU_SEND_FIRMWARE_REQ:
	case UPT_IPU_INSTALL_REQ:
	case UPT_IPU_UPLOAD_DATA_REQ:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		bytes("value", &m.u.install_req);
		break;
	case UPT_IPU_PUT_META_RESP:
	case UPT_IPU_SEND_FIRMWARE_RESP:
	case UPT_IPU_INSTALL_RESP:
		printf("result=%d\n", (int)m.u.install_resp.result);
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		printf("result=%d\n", (int)m.u.install_resp2.result);
		bytes("description", &m.u.install_resp2.description);
		break;
	case UPT_IPU_PUT_META_REQ2:
		coll("imageRepo", &m.u.put_meta_req2.image_repo);
		coll("directorRepo", &m.u.put_meta_req2.director_repo);
		break;
	case UPT_IPU_VERSION_REQ:
	case UPT_IPU_VERSION_RESP:
	case UPT_IPU_ROOT_VER_RESP:
		printf("version=%lld\n", (long long)m.u.version_req.version);
		break;
	case UPT_IPU_ROOT_VER_REQ:
	case UPT_IPU_PUT_ROOT_REQ:
		printf("repotype=%d\n", (int)m.u.put_root_req.repo_type);
		if (m.type == UPT_IPU_PUT_ROOT_REQ)
			bytes("json", &m.u.put_root_req.json);
		break;
	default:
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "samples") == 0)
		return samples(argv[2]);
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return dump(argv[2]);
	fprintf(stderr, "usage: ipu_codec samples DIR | dump FILE\n");
	return 2;
}
