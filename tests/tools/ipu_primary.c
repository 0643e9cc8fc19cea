/* A test primary speaking aktualizr's IP-Uptane protocol (version 2) to a
 * secondary, one request per TCP connection as aktualizr's primary does,
 * through libuptake's codec and the host's link. Used by
 * tests/cli/secondary.sh.
 *
 *   ipu_primary HOST PORT info
 *   ipu_primary HOST PORT version
 *   ipu_primary HOST PORT manifest
 *   ipu_primary HOST PORT rootver director|image
 *   ipu_primary HOST PORT putroot director|image FILE
 *   ipu_primary HOST PORT putmeta [--akt] DIRECTOR_DIR IMAGE_DIR
 *   ipu_primary HOST PORT upload FILE [CHUNKS]   (stop after CHUNKS chunks)
 *   ipu_primary HOST PORT install NAME
 *   ipu_primary HOST PORT update [--akt] DIRECTOR_DIR IMAGE_DIR FILE NAME
 *   ipu_primary HOST PORT raw HEX [SECONDS]
 *
 * putmeta sends the Director's root, timestamp, snapshot and targets (as
 * many as DIRECTOR_DIR has; --akt: root and targets only, as aktualizr
 * does) and the Image repository's four. update is aktualizr's sequence:
 * getInfo, rootVer for both, version, putMetaReq2, the image in 1,024-byte
 * chunks, installReq, manifest. raw sends bytes given in hex and prints
 * the answer's type, or "closed" when the secondary closes the connection
 * (waiting at most SECONDS, default 30, with the connection held open).
 *
 * Exit: 0 when every answer has result 0, 1 when one does not, 2 usage,
 * 3 no answer (the connection closed or timed out). */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>

#include "../../src/host/host.h"
#include "../../src/host/ipu_link.h"

#define MSG_MAX  ((size_t)16 << 20)
#define TIMEOUT  30000
#define NO_REPLY 3

static const char *host;
static uint16_t port;
static uint8_t *out_buf, *in_buf;

static void die(const char *what)
{
	fprintf(stderr, "ipu_primary: %s\n", what);
	exit(2);
}

/* One exchange on its own connection; the answer must be of type `want`. */
static int rpc(const struct upt_ipu_msg *req, struct upt_ipu_msg *resp, enum upt_ipu_type want)
{
	struct upt_error err = {0};
	int fd = host_ipu_connect(host, port, TIMEOUT, &err);
	int rc = fd < 0 ? UPT_ERR_IO : UPT_OK;
	if (rc == UPT_OK)
		rc = host_ipu_send(fd, req, out_buf, MSG_MAX, TIMEOUT, &err);
	if (rc == UPT_OK)
		rc = host_ipu_recv(fd, resp, in_buf, MSG_MAX, TIMEOUT, &err);
	if (fd >= 0)
		close(fd);
	if (rc == UPT_OK && resp->type != want)
		rc =
		    upt_error_set(&err, UPT_ERR_STATE, "answer %s, expected %s",
				  upt_ipu_type_name((int)resp->type), upt_ipu_type_name((int)want));
	if (rc != UPT_OK) {
		printf("no answer to %s: %s\n", upt_ipu_type_name((int)req->type), err.msg);
		return NO_REPLY;
	}
	return 0;
}

static int show_result(const struct upt_ipu_msg *resp)
{
	const struct upt_ipu_result *r = &resp->u.put_meta_resp2;
	printf("%s result=%d %.*s\n", upt_ipu_type_name((int)resp->type), (int)r->result,
	       (int)r->description.len, (const char *)r->description.data);
	return r->result == 0 ? 0 : 1;
}

static struct upt_ipu_bytes file_bytes(const char *path, bool optional)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct upt_error err;
	if (host_read_file(path, MSG_MAX, &data, &len, &err) != UPT_OK) {
		if (optional)
			return (struct upt_ipu_bytes){NULL, 0};
		fprintf(stderr, "ipu_primary: %s\n", err.msg);
		exit(2);
	}
	return (struct upt_ipu_bytes){data, len}; /* kept until exit */
}

static void add(struct upt_ipu_collection *c, const char *dir, const char *role, bool optional)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.json", dir, role);
	struct upt_ipu_bytes b = file_bytes(path, optional);
	if (!b.data)
		return;
	c->items[c->count].role = (struct upt_ipu_bytes){(const uint8_t *)role, strlen(role)};
	c->items[c->count].json = b;
	c->count++;
}

static int repo_arg(const char *s)
{
	if (strcmp(s, "director") == 0)
		return UPT_IPU_REPO_DIRECTOR;
	if (strcmp(s, "image") == 0)
		return UPT_IPU_REPO_IMAGE;
	die("repository: director or image");
	return -1;
}

static int info(void)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_GET_INFO_REQ);
	int rc = rpc(&req, &resp, UPT_IPU_GET_INFO_RESP);
	if (rc)
		return rc;
	const struct upt_ipu_get_info_resp *r = &resp.u.get_info_resp;
	printf("serial=%.*s hwid=%.*s keytype=%d key=%.*s\n", (int)r->ecu_serial.len,
	       (const char *)r->ecu_serial.data, (int)r->hw_id.len, (const char *)r->hw_id.data,
	       (int)r->key_type, (int)r->key.len, (const char *)r->key.data);
	return 0;
}

static int version(void)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_VERSION_REQ);
	req.u.version_req.version = UPT_IPU_PROTOCOL_VERSION;
	int rc = rpc(&req, &resp, UPT_IPU_VERSION_RESP);
	if (rc == 0)
		printf("version=%lld\n", (long long)resp.u.version_resp.version);
	return rc;
}

static int manifest(void)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_MANIFEST_REQ);
	int rc = rpc(&req, &resp, UPT_IPU_MANIFEST_RESP);
	if (rc == 0)
		printf("%.*s\n", (int)resp.u.manifest_resp.len,
		       (const char *)resp.u.manifest_resp.data);
	return rc;
}

static int rootver(const char *repo)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_ROOT_VER_REQ);
	req.u.root_ver_req.repo_type = repo_arg(repo);
	int rc = rpc(&req, &resp, UPT_IPU_ROOT_VER_RESP);
	if (rc == 0)
		printf("rootver=%lld\n", (long long)resp.u.root_ver_resp.version);
	return rc;
}

static int putroot(const char *repo, const char *file)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_PUT_ROOT_REQ);
	req.u.put_root_req.repo_type = repo_arg(repo);
	req.u.put_root_req.json = file_bytes(file, false);
	int rc = rpc(&req, &resp, UPT_IPU_PUT_ROOT_RESP);
	return rc ? rc : show_result(&resp);
}

static int putmeta(bool akt, const char *ddir, const char *idir)
{
	static struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_PUT_META_REQ2);
	struct upt_ipu_collection *d = &req.u.put_meta_req2.director_repo;
	struct upt_ipu_collection *i = &req.u.put_meta_req2.image_repo;
	add(d, ddir, "root", false);
	if (!akt) {
		add(d, ddir, "timestamp", true);
		add(d, ddir, "snapshot", true);
	}
	add(d, ddir, "targets", false);
	add(i, idir, "root", false);
	add(i, idir, "timestamp", false);
	add(i, idir, "snapshot", false);
	add(i, idir, "targets", false);
	int rc = rpc(&req, &resp, UPT_IPU_PUT_META_RESP2);
	return rc ? rc : show_result(&resp);
}

static int upload(const char *file, long stop_after)
{
	struct upt_ipu_bytes img = file_bytes(file, false);
	struct upt_ipu_msg req, resp;
	long chunks = 0;
	for (size_t at = 0; at < img.len; at += UPT_IPU_CHUNK) {
		size_t n = img.len - at < UPT_IPU_CHUNK ? img.len - at : UPT_IPU_CHUNK;
		if (stop_after >= 0 && chunks == stop_after) {
			printf("stopped after %ld chunks\n", chunks);
			return 0;
		}
		upt_ipu_msg_init(&req, UPT_IPU_UPLOAD_DATA_REQ);
		req.u.upload_data_req = (struct upt_ipu_bytes){img.data + at, n};
		int rc = rpc(&req, &resp, UPT_IPU_UPLOAD_DATA_RESP);
		if (rc)
			return rc;
		chunks++;
		if (resp.u.upload_data_resp.result != 0)
			return show_result(&resp);
	}
	printf("uploaded %zu bytes in %ld chunks\n", img.len, chunks);
	return 0;
}

static int install(const char *name)
{
	struct upt_ipu_msg req, resp;
	upt_ipu_msg_init(&req, UPT_IPU_INSTALL_REQ);
	req.u.install_req = (struct upt_ipu_bytes){(const uint8_t *)name, strlen(name)};
	int rc = rpc(&req, &resp, UPT_IPU_INSTALL_RESP2);
	return rc ? rc : show_result(&resp);
}

static int update(bool akt, const char *ddir, const char *idir, const char *file, const char *name)
{
	int rc = info();
	if (rc == 0)
		rc = rootver("director");
	if (rc == 0)
		rc = rootver("image");
	if (rc == 0)
		rc = version();
	if (rc == 0)
		rc = putmeta(akt, ddir, idir);
	if (rc == 0)
		rc = upload(file, -1);
	if (rc == 0)
		rc = install(name);
	int mrc = manifest();
	return rc ? rc : mrc;
}

/* Raw bytes; then the answer, or whether (and when) the peer closed. */
static int raw(const char *hex, int seconds)
{
	struct upt_error err = {0};
	size_t n = 0;
	uint8_t *bytes = malloc(strlen(hex) / 2 + 1);
	if (!bytes || upt_hex_decode(bytes, strlen(hex) / 2 + 1, &n, hex, strlen(hex)) != UPT_OK)
		die("raw: not hex");
	int fd = host_ipu_connect(host, port, TIMEOUT, &err);
	if (fd < 0 || host_ipu_write(fd, bytes, n, TIMEOUT, &err) != UPT_OK) {
		printf("no connection: %s\n", err.msg);
		return NO_REPLY;
	}
	free(bytes);
	struct upt_ipu_msg resp;
	int rc = host_ipu_recv(fd, &resp, in_buf, MSG_MAX, seconds * 1000, &err);
	close(fd);
	if (rc == UPT_OK) {
		printf("answer %s\n", upt_ipu_type_name((int)resp.type));
		return 0;
	}
	printf("%s: %s\n", rc == UPT_ERR_NOT_FOUND ? "closed" : "no answer", err.msg);
	return NO_REPLY;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("usage: ipu_primary HOST PORT COMMAND [ARGS]");
	host = argv[1];
	port = (uint16_t)strtoul(argv[2], NULL, 10);
	const char *cmd = argv[3];
	int n = argc - 4;
	char **a = argv + 4;
	bool akt = n > 0 && strcmp(a[0], "--akt") == 0;
	if (akt) {
		a++;
		n--;
	}
	out_buf = upt_malloc(MSG_MAX);
	in_buf = upt_malloc(MSG_MAX);
	if (!out_buf || !in_buf)
		die("out of memory");
	if (strcmp(cmd, "info") == 0)
		return info();
	if (strcmp(cmd, "version") == 0)
		return version();
	if (strcmp(cmd, "manifest") == 0)
		return manifest();
	if (strcmp(cmd, "rootver") == 0 && n == 1)
		return rootver(a[0]);
	if (strcmp(cmd, "putroot") == 0 && n == 2)
		return putroot(a[0], a[1]);
	if (strcmp(cmd, "putmeta") == 0 && n == 2)
		return putmeta(akt, a[0], a[1]);
	if (strcmp(cmd, "upload") == 0 && (n == 1 || n == 2))
		return upload(a[0], n == 2 ? strtol(a[1], NULL, 10) : -1);
	if (strcmp(cmd, "install") == 0 && n == 1)
		return install(a[0]);
	if (strcmp(cmd, "update") == 0 && n == 4)
		return update(akt, a[0], a[1], a[2], a[3]);
	if (strcmp(cmd, "raw") == 0 && (n == 1 || n == 2))
		return raw(a[0], n == 2 ? (int)strtol(a[1], NULL, 10) : 30);
	die("unknown command or wrong arguments");
	return 2;
}
