/* A test tool for the IP-Uptane codec against an independent DER parser
 * (tests/cli/ipu_openssl.sh, with `openssl asn1parse`):
 *
 *   ipu_der encode DIR   every one of the 23 message types, encoded by
 *                        libuptake's codec with the fields below, into
 *                        DIR/NAME.der
 *   ipu_der decode FILE  decode FILE with libuptake's codec and print its
 *                        fields, one "name=value" line each (byte strings
 *                        as text when printable, else hex:...)
 *
 * Exit: 0, 1 when FILE does not decode (the error printed), 2 usage. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/ipuptane.h>

#define B(s) ((struct upt_ipu_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static const uint8_t chunk[] = {0x00, 0x01, 0x02, 0xff};
/* a manifest longer than 255 bytes: lengths in their long forms */
static char manifest[320];
/* a root of 140 bytes: a one-byte long-form length */
static char root[140];

/* The sample of each type: fields chosen so that every field type and a
 * few edge values (a negative result code, a two-byte INTEGER, an empty
 * OCTET STRING, a non-ASCII UTF8String) appear. */
static void sample(struct upt_ipu_msg *m, int type)
{
	upt_ipu_msg_init(m, (enum upt_ipu_type)type);
	switch (type) {
	case UPT_IPU_GET_INFO_RESP:
		m->u.get_info_resp.ecu_serial = B("ecu-1");
		m->u.get_info_resp.hw_id = B("board-\xc3\xa4");
		m->u.get_info_resp.key_type = UPT_IPU_KEY_ED25519;
		m->u.get_info_resp.key = B("abcd");
		break;
	case UPT_IPU_MANIFEST_RESP:
		memset(manifest, 'x', sizeof manifest);
		memcpy(manifest, "{\"signed\":{\"pad\":\"", 18);
		memcpy(manifest + sizeof manifest - 3, "\"}}", 3);
		m->u.manifest_resp =
		    (struct upt_ipu_bytes){(const uint8_t *)manifest, sizeof manifest};
		break;
	case UPT_IPU_PUT_META_REQ:
		m->u.put_meta_req.image_root = B("ir");
		m->u.put_meta_req.image_timestamp = B("it");
		m->u.put_meta_req.image_snapshot = B("is");
		m->u.put_meta_req.image_targets = B("ig");
		m->u.put_meta_req.director_root = B("dr");
		m->u.put_meta_req.director_targets = B("dg");
		break;
	case UPT_IPU_PUT_META_RESP:
		m->u.put_meta_resp.result = UPT_IPU_V1_FAILURE;
		break;
	case UPT_IPU_SEND_FIRMWARE_REQ:
		m->u.send_firmware_req = B("fw");
		break;
	case UPT_IPU_SEND_FIRMWARE_RESP:
		m->u.send_firmware_resp.result = UPT_IPU_V1_SUCCESS;
		break;
	case UPT_IPU_INSTALL_REQ:
		m->u.install_req = B("fw-1.0");
		break;
	case UPT_IPU_INSTALL_RESP:
		m->u.install_resp.result = UPT_IPU_RESULT_INSTALL_FAILED;
		break;
	case UPT_IPU_UPLOAD_DATA_REQ:
		m->u.upload_data_req = (struct upt_ipu_bytes){chunk, sizeof chunk};
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
		m->u.upload_data_resp.result = UPT_IPU_RESULT_DOWNLOAD_FAILED;
		m->u.upload_data_resp.description = B("short");
		break;
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		m->u.download_ostree_rev_req = B("cred");
		break;
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
		m->u.download_ostree_rev_resp.result = UPT_IPU_RESULT_UNKNOWN;
		break;
	case UPT_IPU_PUT_META_REQ2: {
		struct upt_ipu_collection *i = &m->u.put_meta_req2.image_repo;
		struct upt_ipu_collection *d = &m->u.put_meta_req2.director_repo;
		i->count = 2;
		i->items[0] = (struct upt_ipu_meta){B("root"), B("{}")};
		i->items[1] = (struct upt_ipu_meta){B("targets"), B("{\"a\":1}")};
		d->count = 1;
		d->items[0] = (struct upt_ipu_meta){B("root"), B("{}")};
		break;
	}
	case UPT_IPU_PUT_META_RESP2:
		m->u.put_meta_resp2.result = UPT_IPU_RESULT_VALIDATION_FAILED;
		m->u.put_meta_resp2.description = B("bad sig");
		break;
	case UPT_IPU_INSTALL_RESP2:
		m->u.install_resp2.result = UPT_IPU_RESULT_NEED_COMPLETION;
		break;
	case UPT_IPU_VERSION_REQ:
		m->u.version_req.version = 2;
		break;
	case UPT_IPU_VERSION_RESP:
		m->u.version_resp.version = 2;
		break;
	case UPT_IPU_ROOT_VER_REQ:
		m->u.root_ver_req.repo_type = UPT_IPU_REPO_IMAGE;
		break;
	case UPT_IPU_ROOT_VER_RESP:
		m->u.root_ver_resp.version = 300;
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		m->u.put_root_req.repo_type = UPT_IPU_REPO_DIRECTOR;
		memset(root, 'y', sizeof root);
		memcpy(root, "{\"signed\":{\"pad\":\"", 18);
		memcpy(root + sizeof root - 3, "\"}}", 3);
		m->u.put_root_req.json = (struct upt_ipu_bytes){(const uint8_t *)root, sizeof root};
		break;
	case UPT_IPU_PUT_ROOT_RESP:
		m->u.put_root_resp.result = UPT_IPU_RESULT_OK;
		m->u.put_root_resp.description = B("ok");
		break;
	default:
		break;
	}
}

static void bytes(const char *name, const struct upt_ipu_bytes *b)
{
	bool text = true;
	for (size_t i = 0; i < b->len; i++)
		text = text && b->data[i] >= 0x20 && b->data[i] < 0x7f;
	printf("%s=%s", name, text ? "" : "hex:");
	for (size_t i = 0; i < b->len; i++)
		printf(text ? "%c" : "%02x", b->data[i]);
	printf("\n");
}

static void collection(const char *name, const struct upt_ipu_collection *c)
{
	printf("%s.count=%zu\n", name, c->count);
	for (size_t i = 0; i < c->count; i++) {
		char n[64];
		snprintf(n, sizeof n, "%s.%zu.role", name, i);
		bytes(n, &c->items[i].role);
		snprintf(n, sizeof n, "%s.%zu.json", name, i);
		bytes(n, &c->items[i].json);
	}
}

static void result(const struct upt_ipu_result *r, bool description)
{
	printf("result=%d\n", (int)r->result);
	if (description)
		bytes("description", &r->description);
}

static void print(const struct upt_ipu_msg *m)
{
	printf("type=%s\n", upt_ipu_type_name((int)m->type));
	switch (m->type) {
	case UPT_IPU_GET_INFO_RESP:
		bytes("ecuSerial", &m->u.get_info_resp.ecu_serial);
		bytes("hwId", &m->u.get_info_resp.hw_id);
		printf("keyType=%d\n", (int)m->u.get_info_resp.key_type);
		bytes("key", &m->u.get_info_resp.key);
		break;
	case UPT_IPU_MANIFEST_RESP:
		bytes("manifest", &m->u.manifest_resp);
		break;
	case UPT_IPU_PUT_META_REQ:
		bytes("image.root", &m->u.put_meta_req.image_root);
		bytes("image.timestamp", &m->u.put_meta_req.image_timestamp);
		bytes("image.snapshot", &m->u.put_meta_req.image_snapshot);
		bytes("image.targets", &m->u.put_meta_req.image_targets);
		bytes("director.root", &m->u.put_meta_req.director_root);
		bytes("director.targets", &m->u.put_meta_req.director_targets);
		break;
	case UPT_IPU_SEND_FIRMWARE_REQ:
		bytes("firmware", &m->u.send_firmware_req);
		break;
	case UPT_IPU_INSTALL_REQ:
		bytes("hash", &m->u.install_req);
		break;
	case UPT_IPU_UPLOAD_DATA_REQ:
		bytes("data", &m->u.upload_data_req);
		break;
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		bytes("tlsCred", &m->u.download_ostree_rev_req);
		break;
	case UPT_IPU_PUT_META_RESP:
	case UPT_IPU_SEND_FIRMWARE_RESP:
	case UPT_IPU_INSTALL_RESP:
		result(&m->u.put_meta_resp, false);
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		result(&m->u.put_meta_resp2, true);
		break;
	case UPT_IPU_PUT_META_REQ2:
		collection("imageRepo", &m->u.put_meta_req2.image_repo);
		collection("directorRepo", &m->u.put_meta_req2.director_repo);
		break;
	case UPT_IPU_VERSION_REQ:
	case UPT_IPU_VERSION_RESP:
	case UPT_IPU_ROOT_VER_RESP:
		printf("version=%lld\n", (long long)m->u.version_req.version);
		break;
	case UPT_IPU_ROOT_VER_REQ:
		printf("repotype=%d\n", (int)m->u.root_ver_req.repo_type);
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		printf("repotype=%d\n", (int)m->u.put_root_req.repo_type);
		bytes("json", &m->u.put_root_req.json);
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	if (argc == 3 && strcmp(argv[1], "encode") == 0) {
		for (int t = 0; t < UPT_IPU_TYPE_COUNT; t++) {
			struct upt_ipu_msg m;
			size_t len = 0;
			char path[4096];
			sample(&m, t);
			if (upt_ipu_encode(buf, sizeof buf, &len, &m) != UPT_OK) {
				fprintf(stderr, "ipu_der: %s does not encode\n",
					upt_ipu_type_name(t));
				return 1;
			}
			snprintf(path, sizeof path, "%s/%s.der", argv[2], upt_ipu_type_name(t));
			FILE *f = fopen(path, "wb");
			if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
				fprintf(stderr, "ipu_der: cannot write %s\n", path);
				return 1;
			}
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "decode") == 0) {
		FILE *f = fopen(argv[2], "rb");
		size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
		struct upt_ipu_msg m;
		struct upt_error err = {0};
		if (!f) {
			fprintf(stderr, "ipu_der: cannot read %s\n", argv[2]);
			return 2;
		}
		fclose(f);
		if (upt_ipu_decode(&m, buf, len, &err) != UPT_OK) {
			printf("error=%s: %s\n", upt_err_name(err.code), err.msg);
			return 1;
		}
		print(&m);
		return 0;
	}
	fprintf(stderr, "usage: ipu_der encode DIR | decode FILE\n");
	return 2;
}
