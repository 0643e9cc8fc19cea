/* A minimal test secondary for uptake-agent's integration tests: it
 * speaks aktualizr's IP-Uptane protocol (version 2) with libuptake's DER
 * codec, one message per TCP connection, and verifies what the primary
 * hands it with libuptake itself: the Director's root chain and targets for
 * its own ECU entry (partial verification), or full verification of its
 * own entry against both repositories (upt_uptane_secondary_full_verify).
 * The image is hashed against the verified entry before it is "installed"
 * (recorded as installed); an install of anything else is refused and
 * recorded in attacks_detected. Its version report is signed with its own
 * Ed25519 key (made on first start) and carries a counter that only goes
 * up. Trusted metadata is stored in DIR as the agent stores it.
 *
 *   test_secondary --dir DIR --serial S --hardware-id HW --verification full|partial
 *                  --director-root FILE [--image-root FILE] --port-file FILE [--port N]
 *
 * It listens on 127.0.0.1, port N or one of its own choosing (written to
 * the port file), until it is killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/ipuptane.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "../../src/host/host.h"

#define MSG_MAX    ((size_t)16 << 20)
#define ARENA_SIZE ((size_t)64 << 20)
#define IMAGE_MAX  ((int64_t)256 << 20)

struct sec {
	const char *dir, *serial, *hwid;
	bool partial;
	struct upt_privkey *key;
	char pub_hex[65];
	/* the metadata of the last putMetaReq2, copied: [0] director, [1] image */
	uint8_t *meta[2][4];
	size_t meta_len[2][4];
	/* the verified assignment of this ECU */
	bool assigned;
	char target[256];
	int64_t length;
	struct upt_hashes hashes;
	int64_t received;
	/* what is installed, the counter, attacks: in DIR/state */
	char installed[256], sha256[65];
	int64_t installed_length, counter;
	char attack[512];
};

static const char *const roles[4] = {"root", "timestamp", "snapshot", "targets"};

static void path_of(char *out, size_t cap, const struct sec *s, const char *name)
{
	snprintf(out, cap, "%s/%s", s->dir, name);
}

static int save_state(const struct sec *s, struct upt_error *err)
{
	char buf[2048], path[1024];
	int n = snprintf(buf, sizeof buf, "%s\n%lld\n%s\n%lld\n%s\n",
			 s->installed[0] ? s->installed : "-", (long long)s->installed_length,
			 s->sha256[0] ? s->sha256 : "-", (long long)s->counter,
			 s->attack[0] ? s->attack : "-");
	path_of(path, sizeof path, s, "state");
	return host_write_file(path, buf, (size_t)n, err);
}

static void load_line(char *out, size_t cap, char **p)
{
	char *nl = strchr(*p, '\n');
	size_t n = nl ? (size_t)(nl - *p) : strlen(*p);
	snprintf(out, cap, "%.*s", (int)n, *p);
	if (strcmp(out, "-") == 0)
		out[0] = 0;
	*p = nl ? nl + 1 : *p + n;
}

static void load_state(struct sec *s)
{
	char path[1024], num[32];
	uint8_t *text = NULL;
	size_t len = 0;
	char *p;
	path_of(path, sizeof path, s, "state");
	if (host_read_file(path, 4096, &text, &len, NULL) != UPT_OK)
		return;
	p = (char *)text;
	load_line(s->installed, sizeof s->installed, &p);
	load_line(num, sizeof num, &p);
	s->installed_length = strtoll(num, NULL, 10);
	load_line(s->sha256, sizeof s->sha256, &p);
	load_line(num, sizeof num, &p);
	s->counter = strtoll(num, NULL, 10);
	load_line(s->attack, sizeof s->attack, &p);
	free(text);
}

/* ---- the repositories: bytes from the primary, trusted files in DIR ---- */
struct from_primary {
	struct sec *s;
	int repo; /* 0 director, 1 image */
	const uint8_t *root;
	size_t root_len; /* a root from putRootReq (else the collection's) */
	struct host_repo_io files;
	struct upt_repo_io file_io;
};

static int64_t root_version(const uint8_t *data, size_t len)
{
	void *mem = malloc(32 * len + 65536);
	struct upt_arena a;
	struct upt_json *v = NULL;
	const struct upt_json *sig, *ver;
	int64_t out = 0;
	if (!mem)
		return 0;
	upt_arena_init(&a, mem, 32 * len + 65536);
	if (upt_json_parse(&v, &a, data, len, NULL, NULL) == UPT_OK &&
	    (sig = upt_json_get(v, "signed")) && (ver = upt_json_get(sig, "version")) &&
	    ver->type == UPT_JSON_INT)
		out = ver->i;
	free(mem);
	return out;
}

static int fp_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
		    struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct from_primary *f = ctx;
	const uint8_t *d = NULL;
	size_t n = 0;
	uint8_t *copy;
	for (int i = 0; i < 4; i++)
		if (strcmp(role, roles[i]) == 0) {
			d = f->s->meta[f->repo][i];
			n = f->s->meta_len[f->repo][i];
		}
	if (strcmp(role, "root") == 0 && f->root) {
		d = f->root;
		n = f->root_len;
	}
	/* a root only as the version asked for: the chain is walked by version */
	if (d && strcmp(role, "root") == 0 && root_version(d, n) != version)
		d = NULL;
	if (!d)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: not sent by the primary", role);
	if (n > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %zu bytes", role,
				     max_len);
	if (!(copy = upt_arena_alloc(a, n ? n : 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	memcpy(copy, d, n);
	*data = copy;
	*len = n;
	return UPT_OK;
}

static int fp_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		   const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct from_primary *f = ctx;
	return f->file_io.load(f->file_io.ctx, role, max_len, a, data, len, err);
}

static int fp_store(void *ctx, const char *role, const uint8_t *data, size_t len,
		    struct upt_error *err)
{
	struct from_primary *f = ctx;
	return f->file_io.store(f->file_io.ctx, role, data, len, err);
}

static void repo_open(struct upt_repo *r, struct from_primary *f, struct upt_repo_io *io,
		      struct upt_arena *a, char *dir, size_t cap, struct sec *s, int repo)
{
	snprintf(dir, cap, "%s/%s", s->dir, repo ? "image" : "director");
	f->s = s;
	f->repo = repo;
	f->files.base_url = "";
	f->files.dir = dir;
	host_repo_io(&f->file_io, &f->files);
	io->ctx = f;
	io->fetch = fp_fetch;
	io->load = fp_load;
	io->store = fp_store;
	upt_repo_init(r, repo ? "image repository" : "director", io, upt_openssl_crypto(), a, NULL);
}

static bool attack_class(int code)
{
	return code != UPT_ERR_IO && code != UPT_ERR_NOMEM && code != UPT_ERR_NOT_FOUND;
}

/* putMetaReq2: the Director's entry for this ECU (partial verification),
 * for full verification also the Image repository's entry of that image. */
static int verify(struct sec *s, struct upt_error *err)
{
	struct from_primary fd = {0}, fi = {0};
	struct upt_repo_io dio, iio;
	struct upt_repo dr, ir;
	struct upt_arena da, ia;
	struct upt_ecu ecu = {0};
	struct upt_update u;
	char ddir[1024], idir[1024];
	void *dm = malloc(ARENA_SIZE), *im = malloc(ARENA_SIZE);
	int rc = dm && im ? UPT_OK : upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	s->assigned = false;
	s->received = 0;
	if (rc == UPT_OK) {
		upt_arena_init(&da, dm, ARENA_SIZE);
		upt_arena_init(&ia, im, ARENA_SIZE);
		repo_open(&dr, &fd, &dio, &da, ddir, sizeof ddir, s, 0);
		repo_open(&ir, &fi, &iio, &ia, idir, sizeof idir, s, 1);
		ecu.serial = s->serial;
		ecu.hardware_id = s->hwid;
		if (s->installed[0]) {
			size_t got = 0;
			ecu.has_installed = true;
			ecu.installed_length = s->installed_length;
			ecu.installed_hashes.has_sha256 =
			    upt_hex_decode(ecu.installed_hashes.sha256, UPT_SHA256_LEN, &got,
					   s->sha256, 64) == UPT_OK;
		}
		/* the Director as aktualizr's primary sends it: root and targets */
		dr.use_snapshot = false;
		if (s->partial) {
			rc = upt_uptane_partial_verify(&dr, &ecu, (int64_t)time(NULL), &u, err);
		} else {
			struct upt_verified v;
			rc = upt_uptane_secondary_full_verify(&dr, &ir, &ecu, (int64_t)time(NULL),
							      &v, err);
			memset(&u, 0, sizeof u);
			for (size_t i = 0; rc == UPT_OK && i < v.n_updates; i++)
				u = v.updates[i];
		}
	}
	if (rc == UPT_OK && u.director && !u.installed) {
		s->assigned = true;
		snprintf(s->target, sizeof s->target, "%s", u.director->name);
		s->length = u.director->length;
		s->hashes = u.director->hashes;
		s->received = 0;
	}
	free(dm);
	free(im);
	return rc;
}

static int put_root(struct sec *s, int repo, const uint8_t *json, size_t len, struct upt_error *err)
{
	struct from_primary f = {0};
	struct upt_repo_io io;
	struct upt_repo r;
	struct upt_arena a;
	char dir[1024];
	void *mem = malloc(ARENA_SIZE);
	int rc = mem ? UPT_OK : upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, ARENA_SIZE);
		repo_open(&r, &f, &io, &a, dir, sizeof dir, s, repo);
		f.root = json;
		f.root_len = len;
		for (int i = 0; i < 4; i++)
			s->meta_len[repo][i] = 0;
		rc = upt_repo_load_root(&r, (int64_t)time(NULL), err);
		if (rc == UPT_OK)
			rc = upt_repo_update_root(&r, err);
		if (rc == UPT_OK && r.n_root_updates == 0)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK, "root version %lld not accepted",
					   (long long)root_version(json, len));
	}
	free(mem);
	return rc;
}

static int64_t trusted_root_version(const struct sec *s, int repo)
{
	char path[1024];
	uint8_t *t = NULL;
	size_t n = 0;
	int64_t v;
	snprintf(path, sizeof path, "%s/%s/root.json", s->dir, repo ? "image" : "director");
	if (host_read_file(path, 1 << 20, &t, &n, NULL) != UPT_OK)
		return 0;
	v = root_version(t, n);
	free(t);
	return v;
}

/* ---- the version report ------------------------------------------------- */
static struct upt_json *str(struct upt_json *v, const char *key, const char *s)
{
	memset(v, 0, sizeof *v);
	v->key = key;
	v->key_len = strlen(key);
	v->type = UPT_JSON_STRING;
	v->str = s;
	v->len = strlen(s);
	return v;
}

static struct upt_json *obj(struct upt_json *v, const char *key, struct upt_json **items, size_t n,
			    enum upt_json_type type)
{
	memset(v, 0, sizeof *v);
	v->key = key;
	v->key_len = key ? strlen(key) : 0;
	v->type = type;
	v->items = items;
	v->n = n;
	return v;
}

static int report(struct sec *s, char **out, size_t *out_len, struct upt_error *err)
{
	struct upt_json v[10], *hashes[1], *info[2], *image[2], *items[4];
	uint8_t text[8192];
	size_t len = 0;
	int rc;
	s->counter++;
	hashes[0] =
	    str(&v[0], "sha256",
		s->sha256[0] ? s->sha256
			     : "0000000000000000000000000000000000000000000000000000000000000000");
	info[0] = obj(&v[1], "hashes", hashes, 1, UPT_JSON_OBJECT);
	memset(&v[2], 0, sizeof v[2]);
	v[2].key = "length";
	v[2].key_len = 6;
	v[2].type = UPT_JSON_INT;
	v[2].i = s->installed_length;
	info[1] = &v[2];
	image[0] = obj(&v[3], "fileinfo", info, 2, UPT_JSON_OBJECT);
	image[1] = str(&v[4], "filepath", s->installed[0] ? s->installed : "none");
	items[0] = str(&v[5], "attacks_detected", s->attack);
	items[1] = str(&v[6], "ecu_serial", s->serial);
	items[2] = obj(&v[7], "installed_image", image, 2, UPT_JSON_OBJECT);
	memset(&v[8], 0, sizeof v[8]);
	v[8].key = "report_counter";
	v[8].key_len = 14;
	v[8].type = UPT_JSON_INT;
	v[8].i = s->counter;
	items[3] = &v[8];
	rc = upt_json_write(text, sizeof text - 1, &len,
			    obj(&v[9], NULL, items, 4, UPT_JSON_OBJECT), err);
	if (rc == UPT_OK) {
		text[len] = 0;
		rc = save_state(s, err);
	}
	if (rc == UPT_OK)
		rc = upt_privkey_sign_document(out, out_len, (const char *)text, &s->key, 1,
					       UPT_DIALECT_TUF, err);
	return rc;
}

/* ---- messages ----------------------------------------------------------- */
static void result(struct upt_ipu_msg *resp, enum upt_ipu_type type, int32_t code, const char *text)
{
	upt_ipu_msg_init(resp, type);
	resp->u.put_meta_resp2.result = code;
	resp->u.put_meta_resp2.description.data = (const uint8_t *)text;
	resp->u.put_meta_resp2.description.len = strlen(text);
}

static void refuse(struct sec *s, const char *what)
{
	struct upt_error e;
	snprintf(s->attack, sizeof s->attack, "%s", what);
	fprintf(stderr, "test_secondary %s: refused: %s\n", s->serial, s->attack);
	if (save_state(s, &e) != UPT_OK)
		fprintf(stderr, "test_secondary: %s\n", e.msg);
}

static bool is(const struct upt_ipu_bytes *b, const char *s)
{
	return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

static void keep_meta(struct sec *s, const struct upt_ipu_collection *c, int repo)
{
	for (int i = 0; i < 4; i++) {
		free(s->meta[repo][i]);
		s->meta[repo][i] = NULL;
		s->meta_len[repo][i] = 0;
	}
	for (size_t k = 0; k < c->count; k++)
		for (int i = 0; i < 4; i++)
			if (is(&c->items[k].role, roles[i]) &&
			    (s->meta[repo][i] = malloc(c->items[k].json.len + 1))) {
				memcpy(s->meta[repo][i], c->items[k].json.data,
				       c->items[k].json.len);
				s->meta_len[repo][i] = c->items[k].json.len;
			}
}

static void on_install(struct sec *s, const struct upt_ipu_bytes *name, struct upt_ipu_msg *resp,
		       char *text, size_t cap)
{
	char path[1024], part[1024], want[256];
	struct upt_error e = {0};
	snprintf(want, sizeof want, "%.*s", (int)(name->len < 255 ? name->len : 255),
		 (const char *)name->data);
	path_of(part, sizeof part, s, "image.part");
	path_of(path, sizeof path, s, "image.bin");
	if (!s->assigned || strcmp(want, s->target) != 0) {
		snprintf(text, cap, "install %s: not the image the Director assigns this ECU (%s)",
			 want, s->hwid);
		refuse(s, text);
		snprintf(text, cap, "%s", s->attack);
		result(resp, UPT_IPU_INSTALL_RESP2, UPT_IPU_RESULT_VALIDATION_FAILED, text);
		return;
	}
	if (!host_file_matches(part, s->length, &s->hashes)) {
		snprintf(text, cap, "install %s: the image does not match its verified hashes",
			 want);
		refuse(s, text);
		snprintf(text, cap, "%s", s->attack);
		result(resp, UPT_IPU_INSTALL_RESP2, UPT_IPU_RESULT_VALIDATION_FAILED, text);
		return;
	}
	if (rename(part, path) != 0) {
		result(resp, UPT_IPU_INSTALL_RESP2, UPT_IPU_RESULT_INSTALL_FAILED, strerror(errno));
		return;
	}
	snprintf(s->installed, sizeof s->installed, "%s", s->target);
	s->installed_length = s->length;
	upt_hex_encode(s->sha256, s->hashes.sha256, UPT_SHA256_LEN);
	s->attack[0] = 0;
	s->assigned = false;
	if (save_state(s, &e) != UPT_OK)
		fprintf(stderr, "test_secondary: %s\n", e.msg);
	fprintf(stderr, "test_secondary %s: installed %s\n", s->serial, s->installed);
	result(resp, UPT_IPU_INSTALL_RESP2, UPT_IPU_RESULT_OK, "");
}

static void on_upload(struct sec *s, const struct upt_ipu_bytes *data, struct upt_ipu_msg *resp)
{
	char part[1024];
	FILE *f;
	path_of(part, sizeof part, s, "image.part");
	/* bounded by the verified length; what it is is judged at install */
	if (s->received + (int64_t)data->len > (s->assigned ? s->length : IMAGE_MAX)) {
		result(resp, UPT_IPU_UPLOAD_DATA_RESP, UPT_IPU_RESULT_DOWNLOAD_FAILED,
		       "more bytes than the image's verified length");
		return;
	}
	if (!(f = fopen(part, s->received ? "ab" : "wb")) ||
	    fwrite(data->data, 1, data->len, f) != data->len) {
		if (f)
			fclose(f);
		result(resp, UPT_IPU_UPLOAD_DATA_RESP, UPT_IPU_RESULT_INTERNAL_ERROR, "write");
		return;
	}
	fclose(f);
	s->received += (int64_t)data->len;
	result(resp, UPT_IPU_UPLOAD_DATA_RESP, UPT_IPU_RESULT_OK, "");
}

/* One request, one answer (the answer's byte strings in `text` or s). */
static void handle(struct sec *s, const struct upt_ipu_msg *req, struct upt_ipu_msg *resp,
		   char *text, size_t cap, char **doc)
{
	struct upt_error e = {0};
	size_t n = 0;
	switch (req->type) {
	case UPT_IPU_GET_INFO_REQ:
		upt_ipu_msg_init(resp, UPT_IPU_GET_INFO_RESP);
		resp->u.get_info_resp.ecu_serial.data = (const uint8_t *)s->serial;
		resp->u.get_info_resp.ecu_serial.len = strlen(s->serial);
		resp->u.get_info_resp.hw_id.data = (const uint8_t *)s->hwid;
		resp->u.get_info_resp.hw_id.len = strlen(s->hwid);
		resp->u.get_info_resp.key_type = UPT_IPU_KEY_ED25519;
		resp->u.get_info_resp.key.data = (const uint8_t *)s->pub_hex;
		resp->u.get_info_resp.key.len = 64;
		break;
	case UPT_IPU_VERSION_REQ:
		upt_ipu_msg_init(resp, UPT_IPU_VERSION_RESP);
		resp->u.version_resp.version = UPT_IPU_PROTOCOL_VERSION;
		break;
	case UPT_IPU_ROOT_VER_REQ:
		upt_ipu_msg_init(resp, UPT_IPU_ROOT_VER_RESP);
		resp->u.root_ver_resp.version =
		    trusted_root_version(s, req->u.root_ver_req.repo_type == UPT_IPU_REPO_IMAGE);
		break;
	case UPT_IPU_PUT_ROOT_REQ:
		if (put_root(s, req->u.put_root_req.repo_type == UPT_IPU_REPO_IMAGE,
			     req->u.put_root_req.json.data, req->u.put_root_req.json.len,
			     &e) == UPT_OK) {
			result(resp, UPT_IPU_PUT_ROOT_RESP, UPT_IPU_RESULT_OK, "");
		} else {
			snprintf(text, cap, "%s: %s", upt_err_name(e.code), e.msg);
			result(resp, UPT_IPU_PUT_ROOT_RESP, UPT_IPU_RESULT_VALIDATION_FAILED, text);
		}
		break;
	case UPT_IPU_PUT_META_REQ2:
		keep_meta(s, &req->u.put_meta_req2.director_repo, 0);
		keep_meta(s, &req->u.put_meta_req2.image_repo, 1);
		if (verify(s, &e) == UPT_OK) {
			result(resp, UPT_IPU_PUT_META_RESP2, UPT_IPU_RESULT_OK, "");
			break;
		}
		snprintf(text, cap, "%s: %s", upt_err_name(e.code), e.msg);
		if (attack_class(e.code))
			refuse(s, text);
		result(resp, UPT_IPU_PUT_META_RESP2, UPT_IPU_RESULT_VALIDATION_FAILED, text);
		break;
	case UPT_IPU_UPLOAD_DATA_REQ:
		on_upload(s, &req->u.upload_data_req, resp);
		break;
	case UPT_IPU_INSTALL_REQ:
		on_install(s, &req->u.install_req, resp, text, cap);
		break;
	case UPT_IPU_MANIFEST_REQ:
		if (report(s, doc, &n, &e) != UPT_OK) {
			fprintf(stderr, "test_secondary: report: %s\n", e.msg);
			*doc = NULL;
		}
		upt_ipu_msg_init(resp, UPT_IPU_MANIFEST_RESP);
		resp->u.manifest_resp.data = (const uint8_t *)(*doc ? *doc : "");
		resp->u.manifest_resp.len = *doc ? strlen(*doc) : 0;
		break;
	default:
		/* not served: the connection is closed without an answer */
		upt_ipu_msg_init(resp, UPT_IPU_TYPE_COUNT);
		break;
	}
}

static int read_msg(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t got = 0, frame = 0;
	while (frame == 0 || got < frame) {
		size_t want = frame ? frame - got : 1;
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		n = recv(fd, buf + got, want, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (frame == 0 && upt_ipu_frame_length(&frame, buf, got, cap, NULL) != UPT_OK)
			return -1;
	}
	*len = got;
	return 0;
}

static void serve(struct sec *s, int lfd)
{
	uint8_t *in = malloc(MSG_MAX), *out = malloc(MSG_MAX);
	if (!in || !out)
		exit(1);
	for (;;) {
		struct upt_ipu_msg req, resp;
		struct upt_error e = {0};
		char text[1024] = "", *doc = NULL;
		size_t len = 0, olen = 0;
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (read_msg(fd, in, MSG_MAX, &len) == 0 &&
		    upt_ipu_decode(&req, in, len, &e) == UPT_OK) {
			handle(s, &req, &resp, text, sizeof text, &doc);
			if (resp.type != UPT_IPU_TYPE_COUNT &&
			    upt_ipu_encode(out, MSG_MAX, &olen, &resp) == UPT_OK)
				(void)!write(fd, out, olen);
		} else {
			fprintf(stderr, "test_secondary %s: bad message: %s\n", s->serial, e.msg);
		}
		upt_free(doc);
		close(fd);
	}
}

static int setup(struct sec *s, const char *droot, const char *iroot, struct upt_error *err)
{
	char path[1024], *pem = NULL, *pub = NULL;
	uint8_t *data = NULL;
	size_t len = 0, pl = 0;
	struct upt_arena a;
	uint8_t mem[16384];
	struct upt_json *v = NULL;
	const struct upt_json *kv, *p;
	int rc = host_mkdirs(s->dir, err);
	path_of(path, sizeof path, s, "key.pem");
	if (rc == UPT_OK && host_read_file(path, 65536, &data, &len, NULL) != UPT_OK) {
		rc = upt_privkey_generate(&s->key, UPT_KEY_ED25519, err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &len, s->key, NULL, err);
		if (rc == UPT_OK)
			rc = host_write_file(path, pem, len, err);
		if (pem)
			upt_free_secret(pem, len);
	} else if (rc == UPT_OK) {
		rc = upt_privkey_load_pem(&s->key, (const char *)data, len, NULL, err);
		free(data);
	}
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&pub, &pl, s->key, UPT_DIALECT_TUF, err);
	upt_arena_init(&a, mem, sizeof mem);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &a, (const uint8_t *)pub, pl, NULL, err);
	if (rc == UPT_OK && (kv = upt_json_get(v, "keyval")) && (p = upt_json_get(kv, "public")) &&
	    p->len == 64)
		memcpy(s->pub_hex, p->str, 65);
	else if (rc == UPT_OK)
		rc = upt_error_set(err, UPT_ERR_KEY, "no Ed25519 public key");
	upt_free(pub);
	/* the provisioned roots, on first start only */
	for (int repo = 0; rc == UPT_OK && repo < 2; repo++) {
		const char *from = repo ? iroot : droot;
		snprintf(path, sizeof path, "%s/%s", s->dir, repo ? "image" : "director");
		rc = host_mkdirs(path, err);
		snprintf(path, sizeof path, "%s/%s/root.json", s->dir, repo ? "image" : "director");
		if (rc == UPT_OK && from && access(path, F_OK) != 0) {
			data = NULL;
			rc = host_read_file(from, 1 << 20, &data, &len, err);
			if (rc == UPT_OK)
				rc = host_write_file(path, data, len, err);
			free(data);
		}
	}
	load_state(s);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"serial", required_argument, NULL, 's'},
					      {"hardware-id", required_argument, NULL, 'h'},
					      {"verification", required_argument, NULL, 'v'},
					      {"director-root", required_argument, NULL, 'D'},
					      {"image-root", required_argument, NULL, 'I'},
					      {"port-file", required_argument, NULL, 'p'},
					      {"port", required_argument, NULL, 'P'},
					      {NULL, 0, NULL, 0}};
	struct sec s = {0};
	struct upt_error err = {0};
	const char *droot = NULL, *iroot = NULL, *port_file = NULL, *kind = "full";
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof sa;
	char port[16];
	int c, lfd, one = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			s.dir = optarg;
			break;
		case 's':
			s.serial = optarg;
			break;
		case 'h':
			s.hwid = optarg;
			break;
		case 'v':
			kind = optarg;
			break;
		case 'D':
			droot = optarg;
			break;
		case 'I':
			iroot = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'P':
			sa.sin_port = htons((uint16_t)strtol(optarg, NULL, 10));
			break;
		default:
			return 2;
		}
	}
	if (!s.dir || !s.serial || !s.hwid || !droot || !port_file ||
	    (strcmp(kind, "full") != 0 && strcmp(kind, "partial") != 0) ||
	    (strcmp(kind, "full") == 0 && !iroot))
		return fprintf(stderr, "test_secondary: see the usage at the top of the source\n"),
		       2;
	s.partial = strcmp(kind, "partial") == 0;
	signal(SIGPIPE, SIG_IGN);
	if (setup(&s, droot, iroot, &err) != UPT_OK)
		return fprintf(stderr, "test_secondary: %s\n", err.msg), 1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		return perror("test_secondary: listen"), 1;
	snprintf(port, sizeof port, "%d\n", ntohs(sa.sin_port));
	if (host_write_file(port_file, port, strlen(port), &err) != UPT_OK)
		return fprintf(stderr, "test_secondary: %s\n", err.msg), 1;
	serve(&s, lfd);
	return 0;
}
