/* uptake: aktualizr's IP-Uptane protocol (version 2), the link between a
 * primary and its secondaries: DER encoder and decoder, heap-free and
 * sans-I/O.
 *
 * The messages are those of aktualizr's ipuptane_message.asn1 (module
 * IpUptane, EXPLICIT TAGS by default): a message is the CHOICE
 * AKIpUptaneMes, encoded as [n] EXPLICIT (first byte 0xA0 + n) around the
 * message's SEQUENCE. One message travels per exchange over TCP.
 *
 * What the codec accepts is DER only: definite lengths in their shortest
 * form, minimal INTEGER and ENUMERATED encodings, primitive strings, every
 * element in order and no extension the schema does not name (the SEQUENCEs
 * are extensible in ASN.1; uptake refuses what it does not understand).
 * Unknown CHOICE tags are UPT_ERR_UNSUPPORTED; bytes after the message, or
 * after the last field of a SEQUENCE, are UPT_ERR_DECODE; a collection with
 * more than UPT_IPU_COLLECTION_MAX entries is UPT_ERR_TOO_LARGE.
 *
 * Byte strings in a decoded message point into the decoded buffer (nothing
 * is copied): the buffer must outlive the message. UTF8String fields are
 * checked to be UTF-8. Enumerated values (key type, result code, repository
 * type) are given as their numbers: the types are extensible, so the codec
 * keeps any value that fits in 32 bits and the caller judges it.
 */
#ifndef UPTAKE_IPUPTANE_H
#define UPTAKE_IPUPTANE_H

#include <stdbool.h>
#include <uptake/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The protocol version uptake speaks (versionReq / versionResp). */
#define UPT_IPU_PROTOCOL_VERSION 2
/* aktualizr's default secondary port. */
#define UPT_IPU_DEFAULT_PORT 9030
/* Most role/JSON pairs in one repository's collection (putMetaReq2). */
#define UPT_IPU_COLLECTION_MAX 16
/* The chunk size aktualizr's primary uploads images in. */
#define UPT_IPU_CHUNK 1024
/* Longest DER header: one tag byte, 0x84 and four length bytes. */
#define UPT_IPU_HEADER_MAX 6

/* The CHOICE alternatives of AKIpUptaneMes: the value is the context tag. */
enum upt_ipu_type {
	UPT_IPU_GET_INFO_REQ = 0,
	UPT_IPU_GET_INFO_RESP = 1,
	UPT_IPU_MANIFEST_REQ = 2,
	UPT_IPU_MANIFEST_RESP = 3,
	UPT_IPU_PUT_META_REQ = 4,  /* v1, deprecated */
	UPT_IPU_PUT_META_RESP = 5, /* v1, deprecated */
	UPT_IPU_SEND_FIRMWARE_REQ = 6,
	UPT_IPU_SEND_FIRMWARE_RESP = 7,
	UPT_IPU_INSTALL_REQ = 8,
	UPT_IPU_INSTALL_RESP = 9, /* v1, deprecated */
	UPT_IPU_UPLOAD_DATA_REQ = 10,
	UPT_IPU_UPLOAD_DATA_RESP = 11,
	UPT_IPU_DOWNLOAD_OSTREE_REV_REQ = 12,
	UPT_IPU_DOWNLOAD_OSTREE_REV_RESP = 13,
	UPT_IPU_PUT_META_REQ2 = 14,
	UPT_IPU_PUT_META_RESP2 = 15,
	UPT_IPU_INSTALL_RESP2 = 16,
	UPT_IPU_VERSION_REQ = 17,
	UPT_IPU_VERSION_RESP = 18,
	UPT_IPU_ROOT_VER_REQ = 19,
	UPT_IPU_ROOT_VER_RESP = 20,
	UPT_IPU_PUT_ROOT_REQ = 21,
	UPT_IPU_PUT_ROOT_RESP = 22,
};
#define UPT_IPU_TYPE_COUNT 23

/* AKIpUptaneKeyType */
enum upt_ipu_key_type {
	UPT_IPU_KEY_ED25519 = 0,
	UPT_IPU_KEY_RSA2048 = 1,
	UPT_IPU_KEY_RSA4096 = 2,
	UPT_IPU_KEY_UNKNOWN = 255,
};

/* AKInstallationResultCode (aktualizr's data::ResultCode::Numeric) */
enum upt_ipu_result_code {
	UPT_IPU_RESULT_OK = 0,
	UPT_IPU_RESULT_ALREADY_PROCESSED = 1,
	UPT_IPU_RESULT_VALIDATION_FAILED = 3,
	UPT_IPU_RESULT_INSTALL_FAILED = 4,
	UPT_IPU_RESULT_DOWNLOAD_FAILED = 5,
	UPT_IPU_RESULT_INTERNAL_ERROR = 18,
	UPT_IPU_RESULT_GENERAL_ERROR = 19,
	UPT_IPU_RESULT_NEED_COMPLETION = 21,
	UPT_IPU_RESULT_CUSTOM_ERROR = 22,
	UPT_IPU_RESULT_OPERATION_CANCELLED = 23,
	UPT_IPU_RESULT_UNKNOWN = -1,
};

/* AKInstallationResult (v1, deprecated) */
enum upt_ipu_v1_result {
	UPT_IPU_V1_SUCCESS = 0,
	UPT_IPU_V1_FAILURE = 1,
};

/* AKRepoType */
enum upt_ipu_repo {
	UPT_IPU_REPO_DIRECTOR = 0,
	UPT_IPU_REPO_IMAGE = 1,
};

/* A byte string: OCTET STRING or UTF8String contents (not NUL-terminated). */
struct upt_ipu_bytes {
	const uint8_t *data;
	size_t len;
};

/* AKMetaJson: one metadata file of a repository ("root", "timestamp",
 * "snapshot", "targets") and its JSON. */
struct upt_ipu_meta {
	struct upt_ipu_bytes role;
	struct upt_ipu_bytes json;
};

/* AKMetaCollection: the metadata of one repository. */
struct upt_ipu_collection {
	size_t count;
	struct upt_ipu_meta items[UPT_IPU_COLLECTION_MAX];
};

/* getInfoResp */
struct upt_ipu_get_info_resp {
	struct upt_ipu_bytes ecu_serial; /* UTF8String */
	struct upt_ipu_bytes hw_id;      /* UTF8String */
	int32_t key_type;                /* enum upt_ipu_key_type */
	struct upt_ipu_bytes key;        /* the public key as aktualizr writes it (PEM, or hex) */
};

/* putMetaReq (v1): image { root timestamp snapshot targets }, director
 * { root targets }, each an OCTET STRING of JSON. */
struct upt_ipu_put_meta_req {
	struct upt_ipu_bytes image_root, image_timestamp, image_snapshot, image_targets;
	struct upt_ipu_bytes director_root, director_targets;
};

/* putMetaReq2: both repositories' metadata as collections (the Director's
 * is empty for a secondary with TUF-only verification). */
struct upt_ipu_put_meta_req2 {
	struct upt_ipu_collection image_repo;
	struct upt_ipu_collection director_repo;
};

/* A result: putMetaResp, sendFirmwareResp and installResp carry only
 * `result` (the v1 ones an enum upt_ipu_v1_result); the others a result
 * code and a description. */
struct upt_ipu_result {
	int32_t result;
	struct upt_ipu_bytes description;
};

/* versionReq, versionResp, rootVerResp */
struct upt_ipu_version {
	int64_t version;
};

/* rootVerReq (json unused) and putRootReq */
struct upt_ipu_root {
	int32_t repo_type; /* enum upt_ipu_repo */
	struct upt_ipu_bytes json;
};

/* One message: `type` says which member of `u` is set. getInfoReq and
 * manifestReq have no fields. */
struct upt_ipu_msg {
	enum upt_ipu_type type;
	union {
		struct upt_ipu_get_info_resp get_info_resp;
		struct upt_ipu_bytes manifest_resp;       /* manifest.json: the signed report */
		struct upt_ipu_put_meta_req put_meta_req; /* v1 */
		struct upt_ipu_result put_meta_resp;      /* v1: result only */
		struct upt_ipu_bytes send_firmware_req;   /* firmware (v1) */
		struct upt_ipu_result send_firmware_resp; /* v1: result only */
		struct upt_ipu_bytes install_req;         /* `hash`: the target's file name */
		struct upt_ipu_result install_resp;       /* v1: result only */
		struct upt_ipu_bytes upload_data_req;     /* data: one chunk of the image */
		struct upt_ipu_result upload_data_resp;
		struct upt_ipu_bytes download_ostree_rev_req; /* tlsCred */
		struct upt_ipu_result download_ostree_rev_resp;
		struct upt_ipu_put_meta_req2 put_meta_req2;
		struct upt_ipu_result put_meta_resp2;
		struct upt_ipu_result install_resp2;
		struct upt_ipu_version version_req;
		struct upt_ipu_version version_resp;
		struct upt_ipu_root root_ver_req; /* repo_type only */
		struct upt_ipu_version root_ver_resp;
		struct upt_ipu_root put_root_req;
		struct upt_ipu_result put_root_resp;
	} u;
};

/* Zero a message and set its type. */
UPT_API void upt_ipu_msg_init(struct upt_ipu_msg *msg, enum upt_ipu_type type);

/* The ASN.1 name of a message type ("putMetaReq2"), or "unknown". */
UPT_API const char *upt_ipu_type_name(int type);

/* Encode `msg` as DER into out[0..cap); *out_len is its length.
 * UPT_ERR_TOO_LARGE when it does not fit (nothing meaningful is left in
 * out), UPT_ERR_ARG for an unknown type, a collection over
 * UPT_IPU_COLLECTION_MAX, a NULL data pointer with a non-zero length, or a
 * UTF8String field that is not UTF-8. With out == NULL and cap == 0 only
 * the length is computed. */
UPT_NODISCARD UPT_API int upt_ipu_encode(uint8_t *out, size_t cap, size_t *out_len,
					 const struct upt_ipu_msg *msg);

/* Decode exactly one message from in[0..len) into *msg (caller's storage;
 * byte strings point into `in`). Every byte must belong to the message.
 * On failure *msg is zeroed and `err` (may be NULL) names the field and
 * the byte offset. */
UPT_NODISCARD UPT_API int upt_ipu_decode(struct upt_ipu_msg *msg, const uint8_t *in, size_t len,
					 struct upt_error *err);

/* Framing: from the first bytes of a message (in[0..len), len may be
 * shorter than the message), the length of the whole message. Sets
 * *frame_len to 0 while the header is incomplete (read more, at most
 * UPT_IPU_HEADER_MAX bytes are needed), else to header plus content
 * length. UPT_ERR_UNSUPPORTED when the first byte is not a known message
 * tag, UPT_ERR_DECODE for an indefinite or non-minimal length,
 * UPT_ERR_TOO_LARGE when the message would be longer than `max`. */
UPT_NODISCARD UPT_API int upt_ipu_frame_length(size_t *frame_len, const uint8_t *in, size_t len,
					       size_t max, struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
