/* uptake-secondary: the image, in chunks (uploadDataReq), hashed while it
 * streams into SLOT.part, never longer than the verified length; the
 * install (installReq names the target's file name) moves it into the
 * slot only when its length and every hash match the verified metadata.
 * Until then the slot keeps the previous image: a primary that stops
 * mid-image leaves a part file the next putMetaReq2 starts over. With A/B
 * slots (ab.c) the image streams into the inactive slot's part file and
 * the install switches the boot environment to try it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>

#include "../../host/host.h"
#include "secondary.h"

struct sec_upload {
	int fd;
	int64_t received;
	EVP_MD_CTX *h256, *h512;
	char part[SEC_PATH + 8];
};

void sec_upload_reset(struct secondary *s)
{
	struct sec_upload *u = s->upload;
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	unlink(u->part);
	EVP_MD_CTX_free(u->h256);
	EVP_MD_CTX_free(u->h512);
	upt_free(u);
	s->upload = NULL;
}

static int upload_start(struct secondary *s, struct upt_error *err)
{
	struct sec_upload *u = upt_calloc(1, sizeof *u);
	if (!u)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	u->fd = -1;
	s->upload = u;
	snprintf(u->part, sizeof u->part, "%s.part", sec_target_slot(s));
	u->h256 = EVP_MD_CTX_new();
	u->h512 = EVP_MD_CTX_new();
	if (!u->h256 || !u->h512 || EVP_DigestInit_ex(u->h256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(u->h512, EVP_sha512(), NULL) != 1) {
		sec_upload_reset(s);
		return upt_error_set(err, UPT_ERR_CRYPTO, "hash initialisation failed");
	}
	u->fd = open(u->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (u->fd < 0) {
		int e = errno;
		sec_upload_reset(s);
		return upt_error_set(err, UPT_ERR_IO, "%s.part: %s", sec_target_slot(s),
				     strerror(e));
	}
	return UPT_OK;
}

int sec_upload_chunk(struct secondary *s, const uint8_t *data, size_t len, struct upt_error *err)
{
	if (!s->has_pending)
		return upt_error_set(err, UPT_ERR_STATE,
				     "image data before verified metadata assigns an image");
	if (!s->upload) {
		int rc = upload_start(s, err);
		if (rc != UPT_OK)
			return rc;
	}
	struct sec_upload *u = s->upload;
	if ((int64_t)len > s->pending.length - u->received) {
		int rc = upt_error_set(err, UPT_ERR_TOO_LARGE,
				       "image %s: more than the %lld bytes the metadata signs",
				       s->pending.name, (long long)s->pending.length);
		sec_attack(s, rc, err->msg);
		sec_upload_reset(s);
		return rc;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(u->fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			sec_upload_reset(s);
			return upt_error_set(err, UPT_ERR_IO, "%s: %s", u->part, strerror(e));
		}
		done += (size_t)n;
	}
	if (EVP_DigestUpdate(u->h256, data, len) != 1 ||
	    EVP_DigestUpdate(u->h512, data, len) != 1) {
		sec_upload_reset(s);
		return upt_error_set(err, UPT_ERR_CRYPTO, "hashing failed");
	}
	u->received += (int64_t)len;
	return UPT_OK;
}

/* Every hash the verified metadata gives must match (at least one does). */
static int check_hashes(struct secondary *s, struct upt_error *err)
{
	struct sec_upload *u = s->upload;
	const struct upt_hashes *want = &s->pending_hashes;
	uint8_t h256[32], h512[64];
	unsigned n256 = 0, n512 = 0;
	if (EVP_DigestFinal_ex(u->h256, h256, &n256) != 1 ||
	    EVP_DigestFinal_ex(u->h512, h512, &n512) != 1)
		return upt_error_set(err, UPT_ERR_CRYPTO, "hashing failed");
	if (!want->has_sha256 && !want->has_sha512)
		return upt_error_set(err, UPT_ERR_HASH_MISMATCH, "image %s: no hash to check",
				     s->pending.name);
	if ((want->has_sha256 && !upt_ct_equal(h256, want->sha256, 32)) ||
	    (want->has_sha512 && !upt_ct_equal(h512, want->sha512, 64)))
		return upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				     "image %s: the bytes received do not match the hashes the "
				     "metadata signs",
				     s->pending.name);
	return UPT_OK;
}

static void sync_dir_of(const char *path)
{
	char copy[SEC_PATH];
	snprintf(copy, sizeof copy, "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The installed-image record: "LENGTH SHA256 RELEASE_COUNTER NAME\n", in
 * state_dir/installed, or per slot installed-a and installed-b. */
static void record_path(char *out, size_t cap, const struct secondary *s, int slot)
{
	sec_state_path(out, cap, s->c,
		       !s->c->ab ? "installed"
		       : slot    ? "installed-b"
				 : "installed-a");
}

int sec_installed_save(struct secondary *s, int slot, const struct sec_image *img,
		       struct upt_error *err)
{
	char path[SEC_PATH + 16], text[512];
	record_path(path, sizeof path, s, slot);
	if (strchr(img->name, '\n'))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "image name with a line break");
	int n =
	    snprintf(text, sizeof text, "%lld %s %lld %s\n", (long long)img->length, img->sha256,
		     img->has_release_counter ? (long long)img->release_counter : -1LL, img->name);
	if (n < 0 || (size_t)n >= sizeof text)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "installed record too long");
	return host_write_file(path, text, (size_t)n, err);
}

/* 0, or -1 with *img empty (no record, or one that does not parse) */
int sec_installed_read(struct secondary *s, int slot, struct sec_image *out)
{
	char path[SEC_PATH + 16];
	uint8_t *data = NULL;
	size_t len = 0;
	struct sec_image img = {0};
	memset(out, 0, sizeof *out);
	record_path(path, sizeof path, s, slot);
	if (host_read_file(path, 512, &data, &len, NULL) != UPT_OK)
		return -1;
	char *p = (char *)data, *end;
	errno = 0;
	long long length = strtoll(p, &end, 10);
	bool ok = !errno && end != p && *end == ' ' && length >= 0;
	p = end + 1;
	ok = ok && len > (size_t)(p - (char *)data) + 65 && p[64] == ' ';
	if (ok) {
		memcpy(img.sha256, p, 64);
		p += 65;
		long long rc = strtoll(p, &end, 10);
		ok = !errno && end != p && *end == ' ' && rc >= -1;
		img.has_release_counter = rc >= 0;
		img.release_counter = rc;
		p = end + 1;
		size_t nl = strcspn(p, "\n");
		ok = ok && nl > 0 && nl < sizeof img.name && p[nl] == '\n' && p[nl + 1] == 0;
		if (ok)
			memcpy(img.name, p, nl);
	}
	img.length = length;
	upt_free(data);
	if (!ok) {
		sec_log("%s: not an installed-image record; nothing is taken as installed", path);
		return -1;
	}
	*out = img;
	return 0;
}

void sec_installed_load(struct secondary *s)
{
	sec_installed_read(s, s->c->ab ? s->b.active : 0, &s->installed);
}

int sec_install(struct secondary *s, const uint8_t *name, size_t len, int32_t *code,
		struct upt_error *err)
{
	struct sec_upload *u = s->upload;
	const char *slot = sec_target_slot(s);
	int to = s->c->ab ? (s->b.active ? 0 : 1) : 0;
	int rc = UPT_OK;
	*code = UPT_IPU_RESULT_VALIDATION_FAILED;
	if (!s->has_pending)
		return upt_error_set(err, UPT_ERR_STATE, "install: no verified image to install");
	if (len != strlen(s->pending.name) || memcmp(name, s->pending.name, len) != 0)
		return upt_error_set(
		    err, UPT_ERR_FIELD_VALUE, "install: %.*s is not the verified image %s",
		    (int)(len > 200 ? 200 : len), (const char *)name, s->pending.name);
	if (!u || u->received != s->pending.length)
		return upt_error_set(err, UPT_ERR_STATE,
				     "install: image %s incomplete (%lld of %lld bytes)",
				     s->pending.name, u ? (long long)u->received : 0LL,
				     (long long)s->pending.length);
	rc = check_hashes(s, err);
	if (rc != UPT_OK) {
		sec_attack(s, rc, err->msg);
		sec_upload_reset(s);
		s->has_pending = false;
		return rc;
	}
	if (sec_failed_before(s, s->pending.sha256)) {
		*code = UPT_IPU_RESULT_INSTALL_FAILED;
		sec_upload_reset(s);
		s->has_pending = false;
		return upt_error_set(err, UPT_ERR_STATE,
				     "install: %s failed on this ECU before: not installed again",
				     s->pending.name);
	}
	*code = UPT_IPU_RESULT_INSTALL_FAILED;
	if (fsync(u->fd) != 0 || close(u->fd) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", u->part, strerror(errno));
	u->fd = -1;
	if (rc == UPT_OK && rename(u->part, slot) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", slot, strerror(errno));
	if (rc == UPT_OK) {
		sync_dir_of(slot);
		rc = sec_installed_save(s, to, &s->pending, err);
	}
	sec_upload_reset(s);
	if (rc != UPT_OK)
		return rc;
	s->has_pending = false;
	sec_attack(s, UPT_OK, NULL);
	if (s->c->ab) {
		struct sec_image img = s->pending;
		return sec_ab_switch(s, &img, code, err);
	}
	s->installed = s->pending;
	*code = UPT_IPU_RESULT_OK;
	sec_log("installed %s into %s", s->installed.name, slot);
	return UPT_OK;
}
