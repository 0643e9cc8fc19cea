/* uptake core: aktualizr's IP-Uptane messages in DER (see ipuptane.h).
 *
 * Each message is described by a table of its fields (kind, name, offset
 * in the message's struct); one encoder and one decoder walk the tables.
 * The schema nests at most three levels deep (message, SEQUENCE OF,
 * AKMetaJson), so neither side recurses on anything the input decides. */
#include <stddef.h>
#include <string.h>
#include <uptake/ipuptane.h>

#define TAG_INTEGER    0x02
#define TAG_OCTETS     0x04
#define TAG_ENUMERATED 0x0a
#define TAG_UTF8       0x0c
#define TAG_SEQUENCE   0x30
#define TAG_CONTEXT    0xa0 /* context-specific, constructed: [n] EXPLICIT */
#define LENGTH_MAX     0xffffffffu

enum kind {
	K_OCTETS, /* OCTET STRING -> struct upt_ipu_bytes */
	K_UTF8,   /* UTF8String -> struct upt_ipu_bytes */
	K_ENUM,   /* ENUMERATED -> int32_t */
	K_INT,    /* INTEGER -> int64_t */
	K_SEQ,    /* SEQUENCE of `sub`, fields at the same base */
	K_COLL,   /* AKMetaCollection -> struct upt_ipu_collection */
};

struct seq;
struct field {
	const char *name;
	enum kind kind;
	size_t off;
	const struct seq *sub;
};

struct seq {
	const struct field *fields;
	size_t count;
};

#define SEQ(a)                              \
	{                                   \
		a, sizeof(a) / sizeof(a[0]) \
	}
#define BYTES(s, m) offsetof(struct s, m)

static const struct seq empty = {NULL, 0};

static const struct field get_info_resp_f[] = {
    {"ecuSerial", K_UTF8, BYTES(upt_ipu_get_info_resp, ecu_serial), NULL},
    {"hwId", K_UTF8, BYTES(upt_ipu_get_info_resp, hw_id), NULL},
    {"keyType", K_ENUM, BYTES(upt_ipu_get_info_resp, key_type), NULL},
    {"key", K_OCTETS, BYTES(upt_ipu_get_info_resp, key), NULL},
};
static const struct seq get_info_resp = SEQ(get_info_resp_f);

/* manifest CHOICE { json OCTET STRING } has no tag of its own: the
 * alternative's OCTET STRING is the whole encoding. */
static const struct field manifest_resp_f[] = {{"manifest.json", K_OCTETS, 0, NULL}};
static const struct seq manifest_resp = SEQ(manifest_resp_f);

static const struct field image_meta_f[] = {
    {"image.root", K_OCTETS, BYTES(upt_ipu_put_meta_req, image_root), NULL},
    {"image.timestamp", K_OCTETS, BYTES(upt_ipu_put_meta_req, image_timestamp), NULL},
    {"image.snapshot", K_OCTETS, BYTES(upt_ipu_put_meta_req, image_snapshot), NULL},
    {"image.targets", K_OCTETS, BYTES(upt_ipu_put_meta_req, image_targets), NULL},
};
static const struct seq image_meta = SEQ(image_meta_f);
static const struct field director_meta_f[] = {
    {"director.root", K_OCTETS, BYTES(upt_ipu_put_meta_req, director_root), NULL},
    {"director.targets", K_OCTETS, BYTES(upt_ipu_put_meta_req, director_targets), NULL},
};
static const struct seq director_meta = SEQ(director_meta_f);
static const struct field put_meta_req_f[] = {
    {"image", K_SEQ, 0, &image_meta},
    {"director", K_SEQ, 0, &director_meta},
};
static const struct seq put_meta_req = SEQ(put_meta_req_f);

static const struct field result_only_f[] = {
    {"result", K_ENUM, BYTES(upt_ipu_result, result), NULL},
};
static const struct seq result_only = SEQ(result_only_f);
static const struct field result_desc_f[] = {
    {"result", K_ENUM, BYTES(upt_ipu_result, result), NULL},
    {"description", K_OCTETS, BYTES(upt_ipu_result, description), NULL},
};
static const struct seq result_desc = SEQ(result_desc_f);

static const struct field firmware_f[] = {{"firmware", K_OCTETS, 0, NULL}};
static const struct seq firmware = SEQ(firmware_f);
static const struct field install_req_f[] = {{"hash", K_OCTETS, 0, NULL}};
static const struct seq install_req = SEQ(install_req_f);
static const struct field upload_data_req_f[] = {{"data", K_OCTETS, 0, NULL}};
static const struct seq upload_data_req = SEQ(upload_data_req_f);
static const struct field ostree_req_f[] = {{"tlsCred", K_OCTETS, 0, NULL}};
static const struct seq ostree_req = SEQ(ostree_req_f);

/* imageRepo CHOICE { collection AKMetaCollection }: untagged as well. */
static const struct field put_meta_req2_f[] = {
    {"imageRepo", K_COLL, BYTES(upt_ipu_put_meta_req2, image_repo), NULL},
    {"directorRepo", K_COLL, BYTES(upt_ipu_put_meta_req2, director_repo), NULL},
};
static const struct seq put_meta_req2 = SEQ(put_meta_req2_f);

static const struct field version_f[] = {
    {"version", K_INT, BYTES(upt_ipu_version, version), NULL},
};
static const struct seq version = SEQ(version_f);
static const struct field root_ver_req_f[] = {
    {"repotype", K_ENUM, BYTES(upt_ipu_root, repo_type), NULL},
};
static const struct seq root_ver_req = SEQ(root_ver_req_f);
static const struct field put_root_req_f[] = {
    {"repotype", K_ENUM, BYTES(upt_ipu_root, repo_type), NULL},
    {"json", K_OCTETS, BYTES(upt_ipu_root, json), NULL},
};
static const struct seq put_root_req = SEQ(put_root_req_f);

static const struct {
	const char *name;
	const struct seq *body;
} messages[UPT_IPU_TYPE_COUNT] = {
    [UPT_IPU_GET_INFO_REQ] = {"getInfoReq", &empty},
    [UPT_IPU_GET_INFO_RESP] = {"getInfoResp", &get_info_resp},
    [UPT_IPU_MANIFEST_REQ] = {"manifestReq", &empty},
    [UPT_IPU_MANIFEST_RESP] = {"manifestResp", &manifest_resp},
    [UPT_IPU_PUT_META_REQ] = {"putMetaReq", &put_meta_req},
    [UPT_IPU_PUT_META_RESP] = {"putMetaResp", &result_only},
    [UPT_IPU_SEND_FIRMWARE_REQ] = {"sendFirmwareReq", &firmware},
    [UPT_IPU_SEND_FIRMWARE_RESP] = {"sendFirmwareResp", &result_only},
    [UPT_IPU_INSTALL_REQ] = {"installReq", &install_req},
    [UPT_IPU_INSTALL_RESP] = {"installResp", &result_only},
    [UPT_IPU_UPLOAD_DATA_REQ] = {"uploadDataReq", &upload_data_req},
    [UPT_IPU_UPLOAD_DATA_RESP] = {"uploadDataResp", &result_desc},
    [UPT_IPU_DOWNLOAD_OSTREE_REV_REQ] = {"downloadOstreeRevReq", &ostree_req},
    [UPT_IPU_DOWNLOAD_OSTREE_REV_RESP] = {"downloadOstreeRevResp", &result_desc},
    [UPT_IPU_PUT_META_REQ2] = {"putMetaReq2", &put_meta_req2},
    [UPT_IPU_PUT_META_RESP2] = {"putMetaResp2", &result_desc},
    [UPT_IPU_INSTALL_RESP2] = {"installResp2", &result_desc},
    [UPT_IPU_VERSION_REQ] = {"versionReq", &version},
    [UPT_IPU_VERSION_RESP] = {"versionResp", &version},
    [UPT_IPU_ROOT_VER_REQ] = {"rootVerReq", &root_ver_req},
    [UPT_IPU_ROOT_VER_RESP] = {"rootVerResp", &version},
    [UPT_IPU_PUT_ROOT_REQ] = {"putRootReq", &put_root_req},
    [UPT_IPU_PUT_ROOT_RESP] = {"putRootResp", &result_desc},
};

void upt_ipu_msg_init(struct upt_ipu_msg *msg, enum upt_ipu_type type)
{
	memset(msg, 0, sizeof(*msg));
	msg->type = type;
}

const char *upt_ipu_type_name(int type)
{
	if (type < 0 || type >= UPT_IPU_TYPE_COUNT)
		return "unknown";
	return messages[type].name;
}

/* Valid UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return false;
		}
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* ---- encoder ------------------------------------------------------------- */

/* A writer into out[0..cap); with out == NULL it only counts. `fail` keeps
 * the first error. */
struct writer {
	uint8_t *out;
	size_t cap;
	size_t pos;
	int fail;
};

static void put(struct writer *w, const uint8_t *data, size_t len)
{
	if (w->fail)
		return;
	if (w->pos > SIZE_MAX - len) {
		w->fail = UPT_ERR_TOO_LARGE;
		return;
	}
	if (w->out) {
		if (len > w->cap - w->pos) {
			w->fail = UPT_ERR_TOO_LARGE;
			return;
		}
		if (len)
			memcpy(w->out + w->pos, data, len);
	}
	w->pos += len;
}

static void put_header(struct writer *w, uint8_t tag, size_t len)
{
	uint8_t h[UPT_IPU_HEADER_MAX];
	size_t n = 0;
	if (len > LENGTH_MAX) {
		w->fail = w->fail ? w->fail : UPT_ERR_TOO_LARGE;
		return;
	}
	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		size_t bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
		h[n++] = (uint8_t)(0x80 | bytes);
		for (size_t i = bytes; i > 0; i--)
			h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	}
	put(w, h, n);
}

static void put_bytes(struct writer *w, uint8_t tag, const struct upt_ipu_bytes *b)
{
	if (b->len && !b->data) {
		w->fail = w->fail ? w->fail : UPT_ERR_ARG;
		return;
	}
	if (tag == TAG_UTF8 && !utf8_valid(b->data, b->len)) {
		w->fail = w->fail ? w->fail : UPT_ERR_ARG;
		return;
	}
	put_header(w, tag, b->len);
	put(w, b->data, b->len);
}

/* Minimal two's complement, big-endian. */
static void put_integer(struct writer *w, uint8_t tag, int64_t v)
{
	uint8_t b[8];
	size_t n = 8;
	for (size_t i = 0; i < 8; i++)
		b[7 - i] = (uint8_t)((uint64_t)v >> (8 * i));
	size_t first = 0;
	while (first < 7 && ((b[first] == 0x00 && !(b[first + 1] & 0x80)) ||
			     (b[first] == 0xff && (b[first + 1] & 0x80))))
		first++;
	n -= first;
	put_header(w, tag, n);
	put(w, b + first, n);
}

static void put_seq(struct writer *w, const struct seq *s, const uint8_t *base);

/* AKMetaJson ::= SEQUENCE { role, json }: measured, then written. */
static void put_meta_entry(struct writer *w, const struct upt_ipu_meta *m)
{
	struct writer count = {NULL, 0, 0, 0};
	put_bytes(&count, TAG_OCTETS, &m->role);
	put_bytes(&count, TAG_OCTETS, &m->json);
	if (count.fail) {
		w->fail = w->fail ? w->fail : count.fail;
		return;
	}
	put_header(w, TAG_SEQUENCE, count.pos);
	put_bytes(w, TAG_OCTETS, &m->role);
	put_bytes(w, TAG_OCTETS, &m->json);
}

static void put_collection(struct writer *w, const struct upt_ipu_collection *c)
{
	struct writer count = {NULL, 0, 0, 0};
	if (c->count > UPT_IPU_COLLECTION_MAX) {
		w->fail = w->fail ? w->fail : UPT_ERR_ARG;
		return;
	}
	for (size_t i = 0; i < c->count; i++)
		put_meta_entry(&count, &c->items[i]);
	if (count.fail) {
		w->fail = w->fail ? w->fail : count.fail;
		return;
	}
	put_header(w, TAG_SEQUENCE, count.pos);
	for (size_t i = 0; i < c->count; i++)
		put_meta_entry(w, &c->items[i]);
}

static void put_field(struct writer *w, const struct field *f, const uint8_t *base)
{
	const void *p = base + f->off;
	switch (f->kind) {
	case K_OCTETS:
		put_bytes(w, TAG_OCTETS, p);
		break;
	case K_UTF8:
		put_bytes(w, TAG_UTF8, p);
		break;
	case K_ENUM: {
		int32_t v;
		memcpy(&v, p, sizeof(v));
		put_integer(w, TAG_ENUMERATED, v);
		break;
	}
	case K_INT: {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		put_integer(w, TAG_INTEGER, v);
		break;
	}
	case K_SEQ:
		put_seq(w, f->sub, base);
		break;
	case K_COLL:
		put_collection(w, p);
		break;
	}
}

/* SEQUENCE { fields }: measured, then written. */
static void put_seq(struct writer *w, const struct seq *s, const uint8_t *base)
{
	struct writer count = {NULL, 0, 0, 0};
	for (size_t i = 0; i < s->count; i++)
		put_field(&count, &s->fields[i], base);
	if (count.fail) {
		w->fail = w->fail ? w->fail : count.fail;
		return;
	}
	put_header(w, TAG_SEQUENCE, count.pos);
	for (size_t i = 0; i < s->count; i++)
		put_field(w, &s->fields[i], base);
}

int upt_ipu_encode(uint8_t *out, size_t cap, size_t *out_len, const struct upt_ipu_msg *msg)
{
	if (!out_len || !msg || (!out && cap))
		return UPT_ERR_ARG;
	*out_len = 0;
	if ((unsigned)msg->type >= UPT_IPU_TYPE_COUNT)
		return UPT_ERR_ARG;
	const struct seq *body = messages[msg->type].body;
	const uint8_t *base = (const uint8_t *)&msg->u;
	struct writer count = {NULL, 0, 0, 0};
	put_seq(&count, body, base);
	if (count.fail)
		return count.fail;
	struct writer w = {out, cap, 0, 0};
	if (!out) {
		/* length only */
		put_header(&w, (uint8_t)(TAG_CONTEXT | msg->type), count.pos);
		if (!w.fail && count.pos > SIZE_MAX - w.pos)
			w.fail = UPT_ERR_TOO_LARGE;
		w.pos += count.pos;
	} else {
		put_header(&w, (uint8_t)(TAG_CONTEXT | msg->type), count.pos);
		put_seq(&w, body, base);
	}
	if (w.fail)
		return w.fail;
	*out_len = w.pos;
	return UPT_OK;
}

/* ---- decoder ------------------------------------------------------------- */

struct reader {
	const uint8_t *in;
	size_t end; /* absolute end of this element's content */
	size_t pos; /* absolute position */
	const char *msg;
	struct upt_error *err;
};

static int fail(struct reader *r, int code, size_t at, const char *field, const char *what)
{
	upt_error_set(r->err, code, "IP-Uptane %s%s%s: %s (at byte %zu)", r->msg, field ? "." : "",
		      field ? field : "", what, at);
	if (r->err)
		r->err->offset = at;
	return code;
}

/* A DER length at in[*pos..end): definite, shortest form, at most four
 * bytes. Sets *len and advances *pos; sets *short_input (and returns
 * UPT_OK) when the bytes run out before the length is complete. */
static int read_length(size_t *len, size_t *pos, const uint8_t *in, size_t end, bool *short_input,
		       const char **why)
{
	*short_input = false;
	if (*pos >= end) {
		*short_input = true;
		return UPT_OK;
	}
	uint8_t b = in[(*pos)++];
	if (b < 0x80) {
		*len = b;
		return UPT_OK;
	}
	if (b == 0x80) {
		*why = "indefinite length (DER needs a definite one)";
		return UPT_ERR_DECODE;
	}
	size_t n = b & 0x7f;
	if (n > 4) {
		*why = "length of more than four bytes";
		return UPT_ERR_TOO_LARGE;
	}
	if (end - *pos < n) {
		*short_input = true;
		return UPT_OK;
	}
	size_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | in[*pos + i];
	*pos += n;
	if (v < 0x80 || (n > 1 && in[*pos - n] == 0)) {
		*why = "length not in its shortest form";
		return UPT_ERR_DECODE;
	}
	*len = v;
	return UPT_OK;
}

/* The TLV at r->pos must have tag `tag`; its content is [*start, *start+*len). */
static int read_tlv(struct reader *r, uint8_t tag, const char *field, size_t *start, size_t *len)
{
	size_t at = r->pos;
	if (r->pos >= r->end)
		return fail(r, UPT_ERR_DECODE, at, field, "missing (message ends)");
	if (r->in[r->pos] != tag) {
		if (r->in[r->pos] == (tag | 0x20))
			return fail(r, UPT_ERR_DECODE, at, field,
				    "constructed string (DER needs a primitive one)");
		return fail(r, UPT_ERR_DECODE, at, field, "unexpected tag");
	}
	r->pos++;
	bool short_input;
	const char *why = "";
	int rc = read_length(len, &r->pos, r->in, r->end, &short_input, &why);
	if (rc != UPT_OK)
		return fail(r, rc, at, field, why);
	if (short_input)
		return fail(r, UPT_ERR_DECODE, at, field, "truncated length");
	if (*len > r->end - r->pos)
		return fail(r, UPT_ERR_DECODE, at, field, "length runs past the enclosing element");
	*start = r->pos;
	r->pos += *len;
	return UPT_OK;
}

static int get_bytes(struct reader *r, uint8_t tag, const char *field, struct upt_ipu_bytes *out)
{
	size_t start, len;
	int rc = read_tlv(r, tag, field, &start, &len);
	if (rc != UPT_OK)
		return rc;
	if (tag == TAG_UTF8 && !utf8_valid(r->in + start, len))
		return fail(r, UPT_ERR_DECODE, start, field, "not UTF-8");
	out->data = r->in + start;
	out->len = len;
	return UPT_OK;
}

static int get_integer(struct reader *r, uint8_t tag, const char *field, size_t max_bytes,
		       int64_t *out)
{
	size_t start, len;
	int rc = read_tlv(r, tag, field, &start, &len);
	if (rc != UPT_OK)
		return rc;
	const uint8_t *b = r->in + start;
	if (len == 0)
		return fail(r, UPT_ERR_DECODE, start, field, "empty integer");
	if (len > max_bytes)
		return fail(r, UPT_ERR_TOO_LARGE, start, field, "integer out of range");
	if (len > 1 && ((b[0] == 0x00 && !(b[1] & 0x80)) || (b[0] == 0xff && (b[1] & 0x80))))
		return fail(r, UPT_ERR_DECODE, start, field, "integer not in its shortest form");
	uint64_t v = (b[0] & 0x80) ? UINT64_MAX : 0;
	for (size_t i = 0; i < len; i++)
		v = v << 8 | b[i];
	memcpy(out, &v, sizeof(*out));
	return UPT_OK;
}

/* Enter the content of a SEQUENCE: *inner reads it; the caller checks it
 * is used up (end_seq). */
static int open_seq(struct reader *r, const char *field, struct reader *inner)
{
	size_t start, len;
	int rc = read_tlv(r, TAG_SEQUENCE, field, &start, &len);
	if (rc != UPT_OK)
		return rc;
	*inner = *r;
	inner->pos = start;
	inner->end = start + len;
	return UPT_OK;
}

static int end_seq(struct reader *inner, const char *field)
{
	if (inner->pos != inner->end)
		return fail(inner, UPT_ERR_DECODE, inner->pos, field,
			    "element after the last known field (unknown extension)");
	return UPT_OK;
}

static int get_collection(struct reader *r, const char *field, struct upt_ipu_collection *c)
{
	struct reader list;
	int rc = open_seq(r, field, &list);
	if (rc != UPT_OK)
		return rc;
	c->count = 0;
	while (list.pos < list.end) {
		struct reader entry;
		if (c->count == UPT_IPU_COLLECTION_MAX)
			return fail(r, UPT_ERR_TOO_LARGE, list.pos, field,
				    "more metadata entries than uptake accepts (16)");
		struct upt_ipu_meta *m = &c->items[c->count];
		rc = open_seq(&list, field, &entry);
		if (rc == UPT_OK)
			rc = get_bytes(&entry, TAG_OCTETS, "role", &m->role);
		if (rc == UPT_OK)
			rc = get_bytes(&entry, TAG_OCTETS, "json", &m->json);
		if (rc == UPT_OK)
			rc = end_seq(&entry, field);
		if (rc != UPT_OK)
			return rc;
		c->count++;
	}
	return UPT_OK;
}

static int get_seq(struct reader *r, const char *field, const struct seq *s, uint8_t *base);

static int get_field(struct reader *r, const struct field *f, uint8_t *base)
{
	void *p = base + f->off;
	int64_t v;
	int rc;
	switch (f->kind) {
	case K_OCTETS:
		return get_bytes(r, TAG_OCTETS, f->name, p);
	case K_UTF8:
		return get_bytes(r, TAG_UTF8, f->name, p);
	case K_ENUM: {
		rc = get_integer(r, TAG_ENUMERATED, f->name, 4, &v);
		int32_t e = (int32_t)v;
		if (rc == UPT_OK)
			memcpy(p, &e, sizeof(e));
		return rc;
	}
	case K_INT:
		rc = get_integer(r, TAG_INTEGER, f->name, 8, &v);
		if (rc == UPT_OK)
			memcpy(p, &v, sizeof(v));
		return rc;
	case K_SEQ:
		return get_seq(r, f->name, f->sub, base);
	case K_COLL:
		return get_collection(r, f->name, p);
	}
	return UPT_ERR_ARG;
}

static int get_seq(struct reader *r, const char *field, const struct seq *s, uint8_t *base)
{
	struct reader inner;
	int rc = open_seq(r, field, &inner);
	for (size_t i = 0; rc == UPT_OK && i < s->count; i++)
		rc = get_field(&inner, &s->fields[i], base);
	if (rc == UPT_OK)
		rc = end_seq(&inner, field);
	return rc;
}

/* The message header: tag [n] and length, with the same rules as inside. */
static int frame(size_t *frame_len, const uint8_t *in, size_t len, size_t max,
		 struct upt_error *err, bool *short_input)
{
	struct reader r = {in, len, 0, "message", err};
	*short_input = false;
	if (len == 0) {
		*short_input = true;
		return UPT_OK;
	}
	uint8_t tag = in[0];
	if ((tag & 0xe0) != TAG_CONTEXT || (tag & 0x1f) >= UPT_IPU_TYPE_COUNT)
		return fail(&r, UPT_ERR_UNSUPPORTED, 0, NULL,
			    "first byte is not the tag of a known message");
	size_t pos = 1, body = 0;
	const char *why = "";
	int rc = read_length(&body, &pos, in, len, short_input, &why);
	if (rc != UPT_OK)
		return fail(&r, rc, 1, NULL, why);
	if (*short_input)
		return UPT_OK;
	if (body > max || pos > max - body) {
		upt_error_set(err, UPT_ERR_TOO_LARGE,
			      "IP-Uptane %s: %zu bytes, more than the bound of %zu",
			      messages[tag & 0x1f].name, pos + body, max);
		return UPT_ERR_TOO_LARGE;
	}
	*frame_len = pos + body;
	return UPT_OK;
}

int upt_ipu_frame_length(size_t *frame_len, const uint8_t *in, size_t len, size_t max,
			 struct upt_error *err)
{
	bool short_input;
	if (!frame_len || (!in && len))
		return UPT_ERR_ARG;
	*frame_len = 0;
	int rc = frame(frame_len, in, len, max, err, &short_input);
	if (rc != UPT_OK || short_input)
		*frame_len = 0;
	return rc;
}

int upt_ipu_decode(struct upt_ipu_msg *msg, const uint8_t *in, size_t len, struct upt_error *err)
{
	size_t total = 0;
	bool short_input;
	if (!msg || (!in && len))
		return UPT_ERR_ARG;
	memset(msg, 0, sizeof(*msg));
	int rc = frame(&total, in, len, SIZE_MAX, err, &short_input);
	if (rc == UPT_OK && short_input)
		rc = upt_error_set(err, UPT_ERR_DECODE, "IP-Uptane message: truncated header");
	if (rc == UPT_OK && total > len)
		rc =
		    upt_error_set(err, UPT_ERR_DECODE, "IP-Uptane %s: truncated (%zu bytes of %zu)",
				  messages[in[0] & 0x1f].name, len, total);
	if (rc != UPT_OK)
		return rc;
	enum upt_ipu_type type = (enum upt_ipu_type)(in[0] & 0x1f);
	struct reader r = {in, total, 0, messages[type].name, err};
	/* past the [n] header, which frame() checked */
	r.pos = in[1] < 0x80 ? 2 : 2 + (size_t)(in[1] & 0x7f);
	msg->type = type;
	rc = get_seq(&r, "body", messages[type].body, (uint8_t *)&msg->u);
	if (rc == UPT_OK && r.pos != total)
		rc = fail(&r, UPT_ERR_DECODE, r.pos, NULL, "bytes after the message body");
	if (rc == UPT_OK && total != len)
		rc = fail(&r, UPT_ERR_DECODE, total, NULL, "bytes after the message");
	if (rc != UPT_OK)
		memset(msg, 0, sizeof(*msg));
	return rc;
}
