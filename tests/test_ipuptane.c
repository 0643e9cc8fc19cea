/* Tests of the IP-Uptane DER codec (src/core/ipuptane.c): known bytes of
 * the messages aktualizr exchanges, every message round-trips, DER's
 * unique encoding (anything that decodes re-encodes to the same bytes),
 * and the refusals: truncated, trailing, unknown tag, indefinite and
 * non-minimal lengths, a length that lies, unknown extensions, oversized
 * integers and collections, constructed strings, bad UTF-8, and framing. */
#include <uptake/ipuptane.h>

#include "harness.h"

static uint8_t buf[70000];
static struct upt_error err;

#define B(s) ((struct upt_ipu_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static bool bytes_eq(struct upt_ipu_bytes a, struct upt_ipu_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static int encode(const struct upt_ipu_msg *m, size_t *len)
{
	return upt_ipu_encode(buf, sizeof buf, len, m);
}

/* Known answers, written by hand from the ASN.1 (EXPLICIT tags). */
static void test_known_bytes(void)
{
	struct upt_ipu_msg m;
	size_t len;
	static const uint8_t get_info_req[] = {0xa0, 0x02, 0x30, 0x00};
	upt_ipu_msg_init(&m, UPT_IPU_GET_INFO_REQ);
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len == sizeof get_info_req && memcmp(buf, get_info_req, len) == 0);

	static const uint8_t version_req[] = {0xb1, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02};
	upt_ipu_msg_init(&m, UPT_IPU_VERSION_REQ);
	m.u.version_req.version = 2;
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len == sizeof version_req && memcmp(buf, version_req, len) == 0);

	static const uint8_t install_req[] = {0xa8, 0x0e, 0x30, 0x0c, 0x04, 0x0a, 'f', 'w',
					      '-',  '1',  '.',  '0',  '.',  'b',  'i', 'n'};
	upt_ipu_msg_init(&m, UPT_IPU_INSTALL_REQ);
	m.u.install_req = B("fw-1.0.bin");
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len == sizeof install_req && memcmp(buf, install_req, len) == 0);

	static const uint8_t resp2[] = {0xb0, 0x07, 0x30, 0x05, 0x0a, 0x01, 0xff, 0x04, 0x00};
	upt_ipu_msg_init(&m, UPT_IPU_INSTALL_RESP2);
	m.u.install_resp2.result = UPT_IPU_RESULT_UNKNOWN;
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len == sizeof resp2 && memcmp(buf, resp2, len) == 0);

	static const uint8_t root_ver_req[] = {0xb3, 0x05, 0x30, 0x03, 0x0a, 0x01, 0x01};
	upt_ipu_msg_init(&m, UPT_IPU_ROOT_VER_REQ);
	m.u.root_ver_req.repo_type = UPT_IPU_REPO_IMAGE;
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len == sizeof root_ver_req && memcmp(buf, root_ver_req, len) == 0);

	/* a 1,024-byte chunk: lengths in the two-byte long form */
	static uint8_t chunk[UPT_IPU_CHUNK];
	memset(chunk, 0x5a, sizeof chunk);
	upt_ipu_msg_init(&m, UPT_IPU_UPLOAD_DATA_REQ);
	m.u.upload_data_req = (struct upt_ipu_bytes){chunk, sizeof chunk};
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	static const uint8_t head[] = {0xaa, 0x82, 0x04, 0x08, 0x30, 0x82,
				       0x04, 0x04, 0x04, 0x82, 0x04, 0x00};
	CHECK(len == sizeof head + sizeof chunk && memcmp(buf, head, sizeof head) == 0);

	/* integers: 127, 128, -128, -129 in their shortest forms */
	static const struct {
		int64_t v;
		uint8_t enc[3];
		size_t n;
	} ints[] = {{127, {0x7f}, 1},
		    {128, {0x00, 0x80}, 2},
		    {-128, {0x80}, 1},
		    {-129, {0xff, 0x7f}, 2},
		    {256, {0x01, 0x00}, 2}};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		upt_ipu_msg_init(&m, UPT_IPU_ROOT_VER_RESP);
		m.u.root_ver_resp.version = ints[i].v;
		CHECK_EQ_INT(encode(&m, &len), UPT_OK);
		CHECK_EQ_INT(len, 6 + ints[i].n);
		CHECK_EQ_INT(buf[5], ints[i].n);
		CHECK(memcmp(buf + 6, ints[i].enc, ints[i].n) == 0);
	}
}

/* One filled-in message of every type. */
static void fill(struct upt_ipu_msg *m, enum upt_ipu_type t)
{
	static uint8_t big[3000];
	memset(big, 'j', sizeof big);
	upt_ipu_msg_init(m, t);
	switch (t) {
	case UPT_IPU_GET_INFO_REQ:
	case UPT_IPU_MANIFEST_REQ:
		break;
	case UPT_IPU_GET_INFO_RESP:
		m->u.get_info_resp.ecu_serial = B("ecu-\xc3\xa9-1");
		m->u.get_info_resp.hw_id = B("motor-ctl");
		m->u.get_info_resp.key_type = UPT_IPU_KEY_UNKNOWN;
		m->u.get_info_resp.key = B("-----BEGIN PUBLIC KEY-----\n...");
		break;
	case UPT_IPU_MANIFEST_RESP:
		m->u.manifest_resp = B("{\"signatures\":[],\"signed\":{}}");
		break;
	case UPT_IPU_PUT_META_REQ:
		m->u.put_meta_req.image_root = B("ir");
		m->u.put_meta_req.image_timestamp = B("it");
		m->u.put_meta_req.image_snapshot = B("");
		m->u.put_meta_req.image_targets = (struct upt_ipu_bytes){big, sizeof big};
		m->u.put_meta_req.director_root = B("dr");
		m->u.put_meta_req.director_targets = B("dt");
		break;
	case UPT_IPU_PUT_META_RESP:
	case UPT_IPU_SEND_FIRMWARE_RESP:
		m->u.put_meta_resp.result = UPT_IPU_V1_FAILURE;
		break;
	case UPT_IPU_INSTALL_RESP:
		m->u.install_resp.result = UPT_IPU_RESULT_NEED_COMPLETION;
		break;
	case UPT_IPU_SEND_FIRMWARE_REQ:
	case UPT_IPU_INSTALL_REQ:
	case UPT_IPU_UPLOAD_DATA_REQ:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		m->u.upload_data_req = (struct upt_ipu_bytes){big, 200};
		break;
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		m->u.put_meta_resp2.result = UPT_IPU_RESULT_VALIDATION_FAILED;
		m->u.put_meta_resp2.description = B("director targets.json: signature threshold");
		break;
	case UPT_IPU_PUT_META_REQ2: {
		struct upt_ipu_put_meta_req2 *p = &m->u.put_meta_req2;
		static const char *roles[] = {"root", "timestamp", "snapshot", "targets"};
		p->image_repo.count = 4;
		for (size_t i = 0; i < 4; i++) {
			p->image_repo.items[i].role =
			    (struct upt_ipu_bytes){(const uint8_t *)roles[i], strlen(roles[i])};
			p->image_repo.items[i].json = (struct upt_ipu_bytes){big, 100 * (i + 1)};
		}
		p->director_repo.count = 2;
		p->director_repo.items[0].role = B("root");
		p->director_repo.items[0].json = B("{}");
		p->director_repo.items[1].role = B("targets");
		p->director_repo.items[1].json = (struct upt_ipu_bytes){big, sizeof big};
		break;
	}
	case UPT_IPU_VERSION_REQ:
	case UPT_IPU_VERSION_RESP:
		m->u.version_req.version = 2;
		break;
	case UPT_IPU_ROOT_VER_REQ:
		m->u.root_ver_req.repo_type = UPT_IPU_REPO_DIRECTOR;
		break;
	case UPT_IPU_ROOT_VER_RESP:
		m->u.root_ver_resp.version = INT64_MIN;
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		m->u.put_root_req.repo_type = UPT_IPU_REPO_IMAGE;
		m->u.put_root_req.json = (struct upt_ipu_bytes){big, 1500};
		break;
	}
}

static bool coll_eq(const struct upt_ipu_collection *a, const struct upt_ipu_collection *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (!bytes_eq(a->items[i].role, b->items[i].role) ||
		    !bytes_eq(a->items[i].json, b->items[i].json))
			return false;
	return true;
}

static bool msg_eq(const struct upt_ipu_msg *a, const struct upt_ipu_msg *b)
{
	if (a->type != b->type)
		return false;
	const struct upt_ipu_get_info_resp *ia = &a->u.get_info_resp, *ib = &b->u.get_info_resp;
	const struct upt_ipu_put_meta_req *pa = &a->u.put_meta_req, *pb = &b->u.put_meta_req;
	switch (a->type) {
	case UPT_IPU_GET_INFO_REQ:
	case UPT_IPU_MANIFEST_REQ:
		return true;
	case UPT_IPU_GET_INFO_RESP:
		return bytes_eq(ia->ecu_serial, ib->ecu_serial) && bytes_eq(ia->hw_id, ib->hw_id) &&
		       ia->key_type == ib->key_type && bytes_eq(ia->key, ib->key);
	case UPT_IPU_PUT_META_REQ:
		return bytes_eq(pa->image_root, pb->image_root) &&
		       bytes_eq(pa->image_timestamp, pb->image_timestamp) &&
		       bytes_eq(pa->image_snapshot, pb->image_snapshot) &&
		       bytes_eq(pa->image_targets, pb->image_targets) &&
		       bytes_eq(pa->director_root, pb->director_root) &&
		       bytes_eq(pa->director_targets, pb->director_targets);
	case UPT_IPU_PUT_META_RESP:
	case UPT_IPU_SEND_FIRMWARE_RESP:
	case UPT_IPU_INSTALL_RESP:
		return a->u.put_meta_resp.result == b->u.put_meta_resp.result;
	case UPT_IPU_MANIFEST_RESP:
	case UPT_IPU_SEND_FIRMWARE_REQ:
	case UPT_IPU_INSTALL_REQ:
	case UPT_IPU_UPLOAD_DATA_REQ:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_REQ:
		return bytes_eq(a->u.upload_data_req, b->u.upload_data_req);
	case UPT_IPU_UPLOAD_DATA_RESP:
	case UPT_IPU_DOWNLOAD_OSTREE_REV_RESP:
	case UPT_IPU_PUT_META_RESP2:
	case UPT_IPU_INSTALL_RESP2:
	case UPT_IPU_PUT_ROOT_RESP:
		return a->u.put_meta_resp2.result == b->u.put_meta_resp2.result &&
		       bytes_eq(a->u.put_meta_resp2.description, b->u.put_meta_resp2.description);
	case UPT_IPU_PUT_META_REQ2:
		return coll_eq(&a->u.put_meta_req2.image_repo, &b->u.put_meta_req2.image_repo) &&
		       coll_eq(&a->u.put_meta_req2.director_repo,
			       &b->u.put_meta_req2.director_repo);
	case UPT_IPU_VERSION_REQ:
	case UPT_IPU_VERSION_RESP:
	case UPT_IPU_ROOT_VER_RESP:
		return a->u.version_req.version == b->u.version_req.version;
	case UPT_IPU_ROOT_VER_REQ:
		return a->u.root_ver_req.repo_type == b->u.root_ver_req.repo_type;
	case UPT_IPU_PUT_ROOT_REQ:
		return a->u.put_root_req.repo_type == b->u.put_root_req.repo_type &&
		       bytes_eq(a->u.put_root_req.json, b->u.put_root_req.json);
	}
	return false;
}

static void test_round_trip_every_message(void)
{
	for (int t = 0; t < UPT_IPU_TYPE_COUNT; t++) {
		struct upt_ipu_msg m, d;
		size_t len = 0, counted = 0;
		fill(&m, (enum upt_ipu_type)t);
		CHECK_EQ_INT(upt_ipu_encode(NULL, 0, &counted, &m), UPT_OK);
		CHECK_EQ_INT(encode(&m, &len), UPT_OK);
		CHECK_EQ_INT(counted, len);
		CHECK_EQ_INT(buf[0], 0xa0 + t);
		CHECK_EQ_INT(upt_ipu_decode(&d, buf, len, &err), UPT_OK);
		CHECK(msg_eq(&m, &d));
		if (!msg_eq(&m, &d))
			fprintf(stderr, "type %s did not round-trip\n", upt_ipu_type_name(t));
		size_t frame = 0;
		CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, len, len, &err), UPT_OK);
		CHECK_EQ_INT(frame, len);
		CHECK(strcmp(upt_ipu_type_name(t), "unknown") != 0);
	}
	CHECK(strcmp(upt_ipu_type_name(23), "unknown") == 0);
	CHECK(strcmp(upt_ipu_type_name(-1), "unknown") == 0);
}

/* Every prefix of every message is refused, every extra byte too, and
 * the encoder refuses every buffer too small. */
static void test_truncated_trailing_small(void)
{
	static uint8_t copy[sizeof buf + 1];
	for (int t = 0; t < UPT_IPU_TYPE_COUNT; t++) {
		struct upt_ipu_msg m, d;
		size_t len;
		fill(&m, (enum upt_ipu_type)t);
		CHECK_EQ_INT(encode(&m, &len), UPT_OK);
		memcpy(copy, buf, len);
		for (size_t n = 0; n < len; n++) {
			int rc = upt_ipu_decode(&d, copy, n, &err);
			CHECK_EQ_INT(rc, UPT_ERR_DECODE);
			CHECK_EQ_INT(d.type, 0);
		}
		copy[len] = 0;
		CHECK_EQ_INT(upt_ipu_decode(&d, copy, len + 1, &err), UPT_ERR_DECODE);
		CHECK(strstr(err.msg, "bytes after the message") != NULL);
		for (size_t cap = 0; cap < len; cap += (len > 64 && cap > 16) ? 97 : 1) {
			size_t got = 99;
			CHECK_EQ_INT(upt_ipu_encode(copy, cap, &got, &m), UPT_ERR_TOO_LARGE);
			CHECK_EQ_INT(got, 0);
		}
	}
}

static int decode_bytes(const uint8_t *in, size_t len)
{
	struct upt_ipu_msg d;
	return upt_ipu_decode(&d, in, len, &err);
}

#define DECODE(arr) decode_bytes(arr, sizeof arr)

static void test_refusals(void)
{
	/* unknown CHOICE tags: [23], a universal SEQUENCE, a high tag number,
	 * a primitive [0] */
	static const uint8_t tag23[] = {0xb7, 0x02, 0x30, 0x00};
	static const uint8_t seq[] = {0x30, 0x02, 0x30, 0x00};
	static const uint8_t high[] = {0xbf, 0x20, 0x02, 0x30, 0x00};
	static const uint8_t prim[] = {0x80, 0x02, 0x30, 0x00};
	CHECK_EQ_INT(DECODE(tag23), UPT_ERR_UNSUPPORTED);
	CHECK(strstr(err.msg, "known message") != NULL);
	CHECK_EQ_INT(DECODE(seq), UPT_ERR_UNSUPPORTED);
	CHECK_EQ_INT(DECODE(high), UPT_ERR_UNSUPPORTED);
	CHECK_EQ_INT(DECODE(prim), UPT_ERR_UNSUPPORTED);
	/* indefinite length, outside and inside */
	static const uint8_t indef[] = {0xa0, 0x80, 0x30, 0x00, 0x00, 0x00};
	static const uint8_t indef2[] = {0xa0, 0x04, 0x30, 0x80, 0x00, 0x00};
	CHECK_EQ_INT(DECODE(indef), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "indefinite") != NULL);
	CHECK_EQ_INT(DECODE(indef2), UPT_ERR_DECODE);
	/* non-minimal lengths */
	static const uint8_t long1[] = {0xa0, 0x81, 0x02, 0x30, 0x00};
	static const uint8_t long2[] = {0xa0, 0x03, 0x30, 0x81, 0x00};
	static const uint8_t long3[] = {0xa8, 0x07, 0x30, 0x05, 0x04, 0x82, 0x00, 0x01, 'x'};
	CHECK_EQ_INT(DECODE(long1), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "shortest") != NULL);
	CHECK_EQ_INT(DECODE(long2), UPT_ERR_DECODE);
	CHECK_EQ_INT(DECODE(long3), UPT_ERR_DECODE);
	/* a length of five bytes */
	static const uint8_t five[] = {0xa0, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
	CHECK_EQ_INT(DECODE(five), UPT_ERR_TOO_LARGE);
	/* a length that lies: the inner string claims more than its SEQUENCE */
	static const uint8_t lie[] = {0xa8, 0x05, 0x30, 0x03, 0x04, 0x09, 'x'};
	static const uint8_t lie2[] = {0xa8, 0x07, 0x30, 0x03, 0x04, 0x01, 'x', 0x04, 0x00};
	CHECK_EQ_INT(DECODE(lie), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "installReq.hash") != NULL);
	CHECK(strstr(err.msg, "runs past") != NULL);
	CHECK_EQ_INT(DECODE(lie2), UPT_ERR_DECODE); /* element after the body */
	/* an outer length that claims more than the buffer */
	static const uint8_t outer_lie[] = {0xa0, 0x7f, 0x30, 0x00};
	CHECK_EQ_INT(DECODE(outer_lie), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "truncated") != NULL);
	/* an unknown extension: getInfoReq with a field */
	static const uint8_t ext[] = {0xa0, 0x05, 0x30, 0x03, 0x04, 0x01, 0x00};
	CHECK_EQ_INT(DECODE(ext), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "extension") != NULL);
	/* a missing field, a field of the wrong type */
	static const uint8_t missing[] = {0xa8, 0x02, 0x30, 0x00};
	static const uint8_t wrong[] = {0xa8, 0x05, 0x30, 0x03, 0x0c, 0x01, 'x'};
	CHECK_EQ_INT(DECODE(missing), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "missing") != NULL);
	CHECK_EQ_INT(DECODE(wrong), UPT_ERR_DECODE);
	/* a constructed OCTET STRING (BER, not DER) */
	static const uint8_t cons[] = {0xa8, 0x07, 0x30, 0x05, 0x24, 0x03, 0x04, 0x01, 'x'};
	CHECK_EQ_INT(DECODE(cons), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "constructed") != NULL);
	/* integers: not minimal, empty, longer than 64 bits; enums over 32 */
	static const uint8_t int_pad[] = {0xb1, 0x06, 0x30, 0x04, 0x02, 0x02, 0x00, 0x02};
	static const uint8_t int_ff[] = {0xb1, 0x06, 0x30, 0x04, 0x02, 0x02, 0xff, 0x80};
	static const uint8_t int_empty[] = {0xb1, 0x04, 0x30, 0x02, 0x02, 0x00};
	static const uint8_t int_9[] = {0xb1, 0x0d, 0x30, 0x0b, 0x02, 0x09, 0x01, 0,
					0,    0,    0,    0,    0,    0,    0};
	static const uint8_t enum_5[] = {0xb3, 0x09, 0x30, 0x07, 0x0a, 0x05, 0x01, 0, 0, 0, 0};
	CHECK_EQ_INT(DECODE(int_pad), UPT_ERR_DECODE);
	CHECK_EQ_INT(DECODE(int_ff), UPT_ERR_DECODE);
	CHECK_EQ_INT(DECODE(int_empty), UPT_ERR_DECODE);
	CHECK_EQ_INT(DECODE(int_9), UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(DECODE(enum_5), UPT_ERR_TOO_LARGE);
	/* the largest 64-bit value decodes */
	static const uint8_t int_max[] = {0xb1, 0x0c, 0x30, 0x0a, 0x02, 0x08, 0x7f,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct upt_ipu_msg d;
	CHECK_EQ_INT(upt_ipu_decode(&d, int_max, sizeof int_max, &err), UPT_OK);
	CHECK(d.u.version_req.version == INT64_MAX);
	/* UTF8String that is not UTF-8 (an overlong '/'), in getInfoResp */
	static const uint8_t bad_utf8[] = {0xa1, 0x0f, 0x30, 0x0d, 0x0c, 0x02, 0xc0, 0xaf, 0x0c,
					   0x01, 'h',  0x0a, 0x01, 0x00, 0x04, 0x01, 'k'};
	CHECK_EQ_INT(DECODE(bad_utf8), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "ecuSerial") != NULL);
	CHECK(strstr(err.msg, "UTF-8") != NULL);
	/* the same message with a valid serial decodes */
	static const uint8_t good_info[] = {0xa1, 0x0f, 0x30, 0x0d, 0x0c, 0x02, 'e',  '1', 0x0c,
					    0x01, 'h',  0x0a, 0x01, 0x00, 0x04, 0x01, 'k'};
	CHECK_EQ_INT(upt_ipu_decode(&d, good_info, sizeof good_info, &err), UPT_OK);
	CHECK(d.type == UPT_IPU_GET_INFO_RESP && d.u.get_info_resp.hw_id.len == 1);
	/* the encoder refuses non-UTF-8 in a UTF8String field, NULL data */
	upt_ipu_msg_init(&d, UPT_IPU_GET_INFO_RESP);
	d.u.get_info_resp.ecu_serial = B("\xff");
	size_t len;
	CHECK_EQ_INT(encode(&d, &len), UPT_ERR_ARG);
	upt_ipu_msg_init(&d, UPT_IPU_INSTALL_REQ);
	d.u.install_req = (struct upt_ipu_bytes){NULL, 3};
	CHECK_EQ_INT(encode(&d, &len), UPT_ERR_ARG);
	d.type = (enum upt_ipu_type)23;
	CHECK_EQ_INT(encode(&d, &len), UPT_ERR_ARG);
	CHECK_EQ_INT(upt_ipu_encode(NULL, 5, &len, &d), UPT_ERR_ARG);
}

/* A header with a long-form length (256 to 65535 bytes: two length
 * bytes; 128 to 255: one). */
static size_t put_hdr(uint8_t *p, size_t n, uint8_t tag, size_t len)
{
	p[n++] = tag;
	if (len > 0xff) {
		p[n++] = 0x82;
		p[n++] = (uint8_t)(len >> 8);
	} else {
		p[n++] = 0x81;
	}
	p[n++] = (uint8_t)len;
	return n;
}

static void test_collection_bound(void)
{
	struct upt_ipu_msg m, d;
	size_t len;
	upt_ipu_msg_init(&m, UPT_IPU_PUT_META_REQ2);
	m.u.put_meta_req2.image_repo.count = UPT_IPU_COLLECTION_MAX;
	for (size_t i = 0; i < UPT_IPU_COLLECTION_MAX; i++) {
		m.u.put_meta_req2.image_repo.items[i].role = B("targets");
		m.u.put_meta_req2.image_repo.items[i].json = B("{}");
	}
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK_EQ_INT(upt_ipu_decode(&d, buf, len, &err), UPT_OK);
	CHECK_EQ_INT(d.u.put_meta_req2.image_repo.count, UPT_IPU_COLLECTION_MAX);
	CHECK_EQ_INT(d.u.put_meta_req2.director_repo.count, 0);
	m.u.put_meta_req2.image_repo.count = UPT_IPU_COLLECTION_MAX + 1;
	CHECK_EQ_INT(encode(&m, &len), UPT_ERR_ARG);
	/* 17 entries by hand: one more AKMetaJson appended to the 16 */
	m.u.put_meta_req2.image_repo.count = UPT_IPU_COLLECTION_MAX;
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	/* [14] { SEQUENCE { SEQUENCE OF 17 x AKMetaJson, SEQUENCE {} } } */
	static uint8_t big[1024];
	size_t coll_len = (size_t)(UPT_IPU_COLLECTION_MAX + 1) * 15;
	size_t body = 3 + coll_len + 2, n = 0;
	n = put_hdr(big, n, 0xae, 4 + body);
	n = put_hdr(big, n, 0x30, body);
	n = put_hdr(big, n, 0x30, coll_len);
	for (size_t i = 0; i <= UPT_IPU_COLLECTION_MAX; i++) {
		static const uint8_t e[] = {0x30, 0x0d, 0x04, 0x07, 't',  'a', 'r', 'g',
					    'e',  't',  's',  0x04, 0x02, '{', '}'};
		memcpy(big + n, e, sizeof e);
		n += sizeof e;
	}
	big[n++] = 0x30;
	big[n++] = 0x00;
	CHECK_EQ_INT(decode_bytes(big, n), UPT_ERR_TOO_LARGE);
	CHECK(strstr(err.msg, "imageRepo") != NULL);
	/* an entry with a third field is an unknown extension */
	static const uint8_t three[] = {0xae, 0x11, 0x30, 0x0f, 0x30, 0x0b, 0x30, 0x09, 0x04, 0x01,
					'r',  0x04, 0x01, 'j',  0x04, 0x01, 'x',  0x30, 0x00};
	CHECK_EQ_INT(DECODE(three), UPT_ERR_DECODE);
	CHECK(strstr(err.msg, "extension") != NULL);
}

static void test_framing(void)
{
	struct upt_ipu_msg m;
	size_t len, frame;
	fill(&m, UPT_IPU_PUT_META_REQ2);
	CHECK_EQ_INT(encode(&m, &len), UPT_OK);
	CHECK(len > 4000);
	/* header incomplete: 0, then the whole length */
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, 0, len, &err), UPT_OK);
	CHECK_EQ_INT(frame, 0);
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, 1, len, &err), UPT_OK);
	CHECK_EQ_INT(frame, 0);
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, 3, len, &err), UPT_OK);
	CHECK_EQ_INT(frame, 0);
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, 4, len, &err), UPT_OK);
	CHECK_EQ_INT(frame, len);
	/* the bound */
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, buf, 4, len - 1, &err), UPT_ERR_TOO_LARGE);
	CHECK_EQ_INT(frame, 0);
	CHECK(strstr(err.msg, "putMetaReq2") != NULL);
	static const uint8_t junk[] = {'G', 'E', 'T', ' '};
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, junk, 4, 100, &err), UPT_ERR_UNSUPPORTED);
	static const uint8_t indef[] = {0xa0, 0x80};
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, indef, 2, 100, &err), UPT_ERR_DECODE);
	static const uint8_t huge[] = {0xaa, 0x84, 0xff, 0xff, 0xff, 0xff};
	CHECK_EQ_INT(upt_ipu_frame_length(&frame, huge, 6, 1 << 20, &err), UPT_ERR_TOO_LARGE);
}

/* DER has one encoding per value: whatever a flipped byte leaves that
 * still decodes must re-encode to exactly the bytes decoded. */
static void test_unique_encoding(void)
{
	static uint8_t orig[sizeof buf], out[sizeof buf];
	int decoded = 0;
	for (int t = 0; t < UPT_IPU_TYPE_COUNT; t++) {
		struct upt_ipu_msg m, d;
		size_t len, len2;
		fill(&m, (enum upt_ipu_type)t);
		CHECK_EQ_INT(encode(&m, &len), UPT_OK);
		memcpy(orig, buf, len);
		size_t step = len > 300 ? 7 : 1;
		for (size_t i = 0; i < len; i += step) {
			for (unsigned bit = 0; bit < 8; bit++) {
				orig[i] ^= (uint8_t)(1u << bit);
				if (upt_ipu_decode(&d, orig, len, &err) == UPT_OK) {
					decoded++;
					CHECK_EQ_INT(upt_ipu_encode(out, sizeof out, &len2, &d),
						     UPT_OK);
					CHECK(len2 == len && memcmp(out, orig, len) == 0);
				}
				orig[i] ^= (uint8_t)(1u << bit);
			}
		}
	}
	CHECK(decoded > 100); /* payload bytes flip freely */
}

int main(void)
{
	RUN(test_known_bytes);
	RUN(test_round_trip_every_message);
	RUN(test_truncated_trailing_small);
	RUN(test_refusals);
	RUN(test_collection_bound);
	RUN(test_framing);
	RUN(test_unique_encoding);
	TEST_MAIN_END();
}
