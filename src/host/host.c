/* uptake host layer: atomic files, URL quoting, bounded HTTP (libcurl). */
#define _GNU_SOURCE
#include "host.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uptake/encode.h>

/* ---- files -------------------------------------------------------------- */

int host_read_file(const char *path, size_t max, uint8_t **out, size_t *len, struct upt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	if (fd < 0)
		return upt_error_set(err, errno == ENOENT ? UPT_ERR_NOT_FOUND : UPT_ERR_IO,
				     "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return upt_error_set(err, UPT_ERR_IO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %zu bytes", path, max);
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return upt_error_set(err, UPT_ERR_IO, "%s: short read", path);
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	return UPT_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* A temporary file next to `path`, named so that no *.json glob sees it. */
static int temp_for(char *tmp, size_t cap, const char *path, struct upt_error *err)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (int)(slash - path + 1) : 0, fd;
	if ((size_t)snprintf(tmp, cap, "%.*s.uptake-tmp-XXXXXX", dl, path) >= cap)
		return upt_error_set(err, UPT_ERR_IO, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", tmp, strerror(errno));
	return fd;
}

static int commit_temp(int fd, const char *tmp, const char *path, struct upt_error *err)
{
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return upt_error_set(err, UPT_ERR_IO, "%s: write failed", path);
	}
	if (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", path, strerror(e));
	}
	sync_dir_of(path);
	return UPT_OK;
}

int host_write_file(const char *path, const void *data, size_t len, struct upt_error *err)
{
	char tmp[PATH_MAX];
	int fd = temp_for(tmp, sizeof tmp, path, err);
	if (fd < 0)
		return fd;
	if (write_all(fd, data, len) != 0) {
		close(fd);
		unlink(tmp);
		return upt_error_set(err, UPT_ERR_IO, "%s: write failed", path);
	}
	return commit_temp(fd, tmp, path, err);
}

int host_mkdirs(const char *path, struct upt_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf)
		return upt_error_set(err, UPT_ERR_ARG, "directory name empty or too long");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return upt_error_set(err, UPT_ERR_IO, "%s: %s", buf, strerror(errno));
		buf[i] = path[i];
	}
	return UPT_OK;
}

int host_url_quote(char *out, size_t cap, const char *in, bool keep_slash)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			     *p == '~' || (keep_slash && *p == '/');
		if (o + (plain ? 1 : 3) >= cap)
			return UPT_ERR_TOO_LARGE;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hexd[*p >> 4];
			out[o++] = hexd[*p & 15];
		}
	}
	if (o >= cap)
		return UPT_ERR_TOO_LARGE;
	out[o] = 0;
	return UPT_OK;
}

/* ---- HTTP --------------------------------------------------------------- */

static const char *tls_ca, *tls_cert, *tls_key;
static int64_t rate_limit, deadline_base, deadline_rate;

#define DEADLINE_MAX (30L * 86400L) /* no request is given more than 30 days */

void host_set_rate_limit(int64_t bytes_per_second)
{
	rate_limit = bytes_per_second > 0 ? bytes_per_second : 0;
}

void host_set_deadline(int64_t base_seconds, int64_t min_bytes_per_second)
{
	deadline_base = base_seconds > 0 ? base_seconds : 0;
	deadline_rate = min_bytes_per_second > 0 ? min_bytes_per_second : 0;
}

long host_deadline_for(uint64_t bytes)
{
	int64_t rate = deadline_rate;
	uint64_t t;
	if (!deadline_base || !rate)
		return 0;
	/* a rate limit below the minimum rate stretches the deadline with it */
	if (rate_limit && rate_limit < rate)
		rate = rate_limit;
	t = (uint64_t)deadline_base + bytes / (uint64_t)rate + 1;
	return t > (uint64_t)DEADLINE_MAX ? DEADLINE_MAX : (long)t;
}

/* The request's total deadline, when the process has one. */
static void apply_deadline(CURL *c, long seconds)
{
	if (seconds > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, seconds);
}

/* Did the transfer stop because its deadline passed (and not, say, for
 * the low-speed limit, which curl reports with the same code)? */
static bool past_deadline(CURL *c, CURLcode cc, long seconds)
{
	curl_off_t us = 0;
	if (cc != CURLE_OPERATION_TIMEDOUT || seconds <= 0)
		return false;
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
	return us >= (curl_off_t)seconds * 1000000 - 500000;
}

void host_set_tls(const char *ca_file, const char *cert_file, const char *key_file)
{
	tls_ca = ca_file;
	tls_cert = cert_file;
	tls_key = key_file;
}

static void apply_tls(CURL *c)
{
	if (tls_ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, tls_ca);
	if (tls_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls_cert);
	if (tls_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls_key);
}

int host_init(struct upt_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return upt_error_set(err, UPT_ERR_IO, "libcurl: initialisation failed");
	atexit(curl_global_cleanup);
	return UPT_OK;
}

struct get_state {
	size_t max, got;
	host_sink sink;
	void *ctx;
	int rc; /* first error from the sink or the bound */
};

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct get_state *g = p;
	size_t len = size * n;
	if (g->got + len > g->max || g->got + len < g->got) {
		g->rc = UPT_ERR_TOO_LARGE;
		return 0; /* cut the transfer: endless data */
	}
	g->got += len;
	if ((g->rc = g->sink(g->ctx, (const uint8_t *)data, len)) != UPT_OK)
		return 0;
	return len;
}

int host_http_get(const char *url, size_t max, host_sink sink, void *ctx, struct upt_error *err)
{
	struct get_state g = {max, 0, sink, ctx, UPT_OK};
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0, deadline = host_deadline_for(max);
	bool late;
	CURLcode cc;
	CURL *c = curl_easy_init();
	if (!c)
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: libcurl: out of memory", url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
	apply_tls(c);
	if (rate_limit)
		curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)rate_limit);
	if (max < (size_t)LONG_MAX)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	apply_deadline(c, deadline);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	late = past_deadline(c, cc, deadline);
	curl_easy_cleanup(c);
	if (status == 404 || status == 403)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: HTTP %lld", url,
				     (long long)status);
	if (g.rc == UPT_ERR_TOO_LARGE || cc == CURLE_FILESIZE_EXCEEDED)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "%s: more than %zu bytes (endless data?)", url, max);
	if (g.rc != UPT_OK)
		return upt_error_set(err, g.rc, "%s: could not keep the data", url);
	if (late)
		return upt_error_set(err, UPT_ERR_IO,
				     "%s: deadline of %lld s passed after %zu of at most %zu bytes",
				     url, (long long)deadline, g.got, max);
	if (cc != CURLE_OK)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", url,
				     errbuf[0] ? errbuf : curl_easy_strerror(cc));
	if (status < 200 || status > 299)
		return upt_error_set(err, UPT_ERR_IO, "%s: HTTP %lld", url, (long long)status);
	return UPT_OK;
}

struct mem_sink {
	uint8_t *buf;
	size_t len, cap;
};

static int to_mem(void *ctx, const uint8_t *data, size_t len)
{
	struct mem_sink *m = ctx;
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		uint8_t *b;
		while (cap < m->len + len + 1)
			cap *= 2;
		if (!(b = realloc(m->buf, cap)))
			return UPT_ERR_NOMEM;
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	m->buf[m->len] = 0;
	return UPT_OK;
}

int host_http_get_mem(const char *url, size_t max, uint8_t **out, size_t *len,
		      struct upt_error *err)
{
	struct mem_sink m = {0};
	int rc = host_http_get(url, max, to_mem, &m, err);
	if (rc == UPT_OK && !m.buf)
		rc = to_mem(&m, (const uint8_t *)"", 0);
	if (rc != UPT_OK) {
		free(m.buf);
		return rc;
	}
	*out = m.buf;
	*len = m.len;
	return UPT_OK;
}

struct upload {
	const uint8_t *data;
	size_t len, off;
	FILE *f;
};

static size_t on_upload(char *buf, size_t size, size_t n, void *p)
{
	struct upload *u = p;
	size_t want = size * n, got;
	if (u->f)
		return fread(buf, 1, want, u->f);
	got = u->len - u->off < want ? u->len - u->off : want;
	memcpy(buf, u->data + u->off, got);
	u->off += got;
	return got;
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	int *last = p;
	(void)dltotal;
	(void)dlnow;
	if (ultotal > 0) {
		int pct = (int)(ulnow * 100 / ultotal);
		if (pct != *last) {
			char bar[41];
			memset(bar, '#', (size_t)(pct * 40 / 100));
			memset(bar + pct * 40 / 100, '.', (size_t)(40 - pct * 40 / 100));
			bar[40] = 0;
			fprintf(stderr, "\r  [%s] %3d%%  %lld/%lld bytes", bar, pct,
				(long long)ulnow, (long long)ultotal);
			if (pct == 100)
				fputc('\n', stderr);
			*last = pct;
		}
	}
	return 0;
}

/* A 2xx body to the caller's sink, any other to memory. */
struct split_sink {
	CURL *c;
	host_sink sink;
	void *ctx;
	struct mem_sink *m;
};

static int to_split(void *ctx, const uint8_t *data, size_t len)
{
	struct split_sink *s = ctx;
	long st = 0;
	curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &st);
	if (st >= 200 && st <= 299)
		return s->sink(s->ctx, data, len);
	return to_mem(s->m, data, len);
}

int host_http_request(const struct host_request *rq, size_t max, char **resp, size_t *resp_len,
		      long *status, struct upt_error *err)
{
	struct mem_sink m = {0};
	struct get_state g = {max, 0, to_mem, &m, UPT_OK};
	struct upload up = {rq->body, rq->body_len, 0, NULL};
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", line[600];
	int last = -1, rc = UPT_OK;
	long deadline;
	CURLcode cc;
	CURL *c = curl_easy_init();
	struct split_sink sp = {c, rq->sink, rq->sink_ctx, &m};
	*status = 0;
	if (!c)
		return upt_error_set(err, UPT_ERR_NOMEM, "libcurl: out of memory");
	if (rq->sink) {
		g.sink = to_split;
		g.ctx = &sp;
	}
	if (rq->body_path) {
		struct stat st;
		if (!(up.f = fopen(rq->body_path, "rb")) || fstat(fileno(up.f), &st) != 0) {
			rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", rq->body_path,
					   strerror(errno));
			goto out;
		}
		up.len = (size_t)st.st_size;
	}
	/* the deadline covers what may go up and what may come back */
	deadline = host_deadline_for((uint64_t)up.len + max);
	apply_deadline(c, deadline);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body || rq->body_path) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
		/* files: let the server refuse before the body is sent */
		hdr = curl_slist_append(hdr, rq->body_path ? "Expect: 100-continue" : "Expect:");
	}
	apply_tls(c);
	if (rq->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
	if (rq->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, rq->cert_file);
	if (rq->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, rq->key_file);
	if (rq->progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &last);
	}
	if (rq->token) {
		snprintf(line, sizeof line, "Authorization: Bearer %s", rq->token);
		hdr = curl_slist_append(hdr, line);
	}
	if (rq->content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (g.rc == UPT_ERR_TOO_LARGE)
		rc = upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: response too large", rq->url);
	else if (past_deadline(c, cc, deadline))
		rc = upt_error_set(err, UPT_ERR_IO,
				   "%s %s: no complete answer within its deadline of %lld s",
				   rq->method, rq->url, (long long)deadline);
	else if (cc != CURLE_OK)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", rq->url,
				   errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (!m.buf)
		rc = to_mem(&m, (const uint8_t *)"", 0);
out:
	if (up.f)
		fclose(up.f);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != UPT_OK) {
		free(m.buf);
		return rc;
	}
	*resp = (char *)m.buf;
	*resp_len = m.len;
	return UPT_OK;
}

struct hashing_sink {
	int fd;
	EVP_MD_CTX *h256, *h512;
};

static int to_file(void *ctx, const uint8_t *data, size_t len)
{
	struct hashing_sink *s = ctx;
	if (EVP_DigestUpdate(s->h256, data, len) != 1 || EVP_DigestUpdate(s->h512, data, len) != 1)
		return UPT_ERR_CRYPTO;
	return write_all(s->fd, data, len) == 0 ? UPT_OK : UPT_ERR_IO;
}

/* Only the hashes that will be compared are computed. */
static int hash_update(EVP_MD_CTX *h256, EVP_MD_CTX *h512, const struct upt_hashes *want,
		       const void *data, size_t len)
{
	if (want->has_sha256 && EVP_DigestUpdate(h256, data, len) != 1)
		return -1;
	if (want->has_sha512 && EVP_DigestUpdate(h512, data, len) != 1)
		return -1;
	return 0;
}

static int hashes_match(EVP_MD_CTX *h256, EVP_MD_CTX *h512, const struct upt_hashes *want)
{
	uint8_t d256[UPT_SHA256_LEN], d512[UPT_SHA512_LEN];
	if (!want->has_sha256 && !want->has_sha512)
		return false;
	if (EVP_DigestFinal_ex(h256, d256, NULL) != 1 || EVP_DigestFinal_ex(h512, d512, NULL) != 1)
		return false;
	if (want->has_sha256 && !upt_ct_equal(d256, want->sha256, sizeof d256))
		return false;
	if (want->has_sha512 && !upt_ct_equal(d512, want->sha512, sizeof d512))
		return false;
	return true;
}

int host_http_get_verified(const char *url, const char *path, int64_t length,
			   const struct upt_hashes *hashes, struct upt_error *err)
{
	char tmp[PATH_MAX];
	struct hashing_sink s = {-1, EVP_MD_CTX_new(), EVP_MD_CTX_new()};
	struct stat st;
	int rc;
	if (length < 0 || !hashes)
		return upt_error_set(err, UPT_ERR_ARG, "%s: no length or hashes", url);
	if (!s.h256 || !s.h512 || EVP_DigestInit_ex(s.h256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(s.h512, EVP_sha512(), NULL) != 1) {
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "%s: hashing", url);
		goto out;
	}
	if ((s.fd = temp_for(tmp, sizeof tmp, path, err)) < 0) {
		rc = s.fd;
		goto out;
	}
	rc = host_http_get(url, (size_t)length, to_file, &s, err);
	if (rc == UPT_OK && (fstat(s.fd, &st) != 0 || st.st_size != length))
		rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH, "%s: %lld bytes, expected %lld", url,
				   (long long)st.st_size, (long long)length);
	if (rc == UPT_OK && !hashes_match(s.h256, s.h512, hashes))
		rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				   "%s: hashes do not match the trusted metadata", url);
	if (rc == UPT_OK) {
		rc = commit_temp(s.fd, tmp, path, err);
		s.fd = -1;
	} else {
		close(s.fd);
		unlink(tmp);
		s.fd = -1;
	}
out:
	EVP_MD_CTX_free(s.h256);
	EVP_MD_CTX_free(s.h512);
	return rc;
}

/* ---- resumable verified download ---------------------------------------- */

struct append_sink {
	int fd;
	int64_t have, length;
	EVP_MD_CTX *h256, *h512;
	long status;
	bool checked;
	CURL *c;
	const struct upt_hashes *want;
};

static size_t on_append(char *data, size_t size, size_t n, void *p)
{
	struct append_sink *s = p;
	size_t len = size * n;
	if (!s->checked) {
		/* a resumed request must get 206: a 200 would restart at byte 0 */
		curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
		s->checked = true;
		if (s->have > 0 && s->status != 206)
			return 0;
	}
	if (s->have + (int64_t)len > s->length)
		return 0; /* more than the trusted length: endless data */
	if (hash_update(s->h256, s->h512, s->want, data, len) != 0 ||
	    write_all(s->fd, data, len) != 0)
		return 0;
	s->have += (int64_t)len;
	return len;
}

int host_http_resume_verified(const char *url, const char *part, const char *path, int64_t length,
			      const struct upt_hashes *hashes, int64_t *resumed_at,
			      struct upt_error *err)
{
	struct append_sink s = {-1,    0,    length, EVP_MD_CTX_new(), EVP_MD_CTX_new(), 0,
				false, NULL, hashes};
	char errbuf[CURL_ERROR_SIZE] = "";
	uint8_t buf[65536];
	struct stat st;
	CURLcode cc = CURLE_OK;
	long deadline = 0;
	bool late = false;
	int rc = UPT_OK;
	*resumed_at = 0;
	if (!s.h256 || !s.h512 || EVP_DigestInit_ex(s.h256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(s.h512, EVP_sha512(), NULL) != 1) {
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "hashing");
		goto out;
	}
	s.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s.fd < 0 || fstat(s.fd, &st) != 0) {
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", part, strerror(errno));
		goto out;
	}
	if (st.st_size > length && ftruncate(s.fd, 0) != 0) {
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", part, strerror(errno));
		goto out;
	}
	/* what is there already counts only through the hash */
	for (;;) {
		ssize_t n = read(s.fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		hash_update(s.h256, s.h512, hashes, buf, (size_t)n);
		s.have += n;
	}
	*resumed_at = s.have;
	if (s.have < length) {
		CURL *c = curl_easy_init();
		if (!c) {
			rc = upt_error_set(err, UPT_ERR_NOMEM, "libcurl: out of memory");
			goto out;
		}
		s.c = c;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_append);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		apply_tls(c);
		if (rate_limit)
			curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)rate_limit);
		if (s.have > 0)
			curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)s.have);
		/* sized by what is still missing of the trusted length */
		deadline = host_deadline_for((uint64_t)(length - s.have));
		apply_deadline(c, deadline);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s.status);
		late = past_deadline(c, cc, deadline);
		curl_easy_cleanup(c);
	}
	if (s.have > length || (cc == CURLE_WRITE_ERROR && s.have >= length)) {
		rc = upt_error_set(err, UPT_ERR_TOO_LARGE,
				   "%s: more than %lld bytes (endless data?)", url,
				   (long long)length);
		close(s.fd);
		s.fd = -1;
		unlink(part);
		goto out;
	}
	if (s.have < length) {
		/* interrupted: keep what arrived for the next attempt */
		fsync(s.fd);
		if (s.status && s.status != 200 && s.status != 206 && s.status != 416)
			rc = upt_error_set(err, s.status == 404 ? UPT_ERR_NOT_FOUND : UPT_ERR_IO,
					   "%s: HTTP %lld", url, (long long)s.status);
		else if (*resumed_at > 0 && s.status == 200) {
			rc = upt_error_set(err, UPT_ERR_IO,
					   "%s: the server ignored Range; restarting", url);
			if (ftruncate(s.fd, 0) != 0)
				rc =
				    upt_error_set(err, UPT_ERR_IO, "%s: %s", part, strerror(errno));
		} else if (late)
			rc = upt_error_set(err, UPT_ERR_IO,
					   "%s: deadline of %lld s passed at %lld of %lld bytes "
					   "(kept, resumed next time)",
					   url, (long long)deadline, (long long)s.have,
					   (long long)length);
		else
			rc = upt_error_set(err, UPT_ERR_IO,
					   "%s: interrupted at %lld of %lld bytes (%s)", url,
					   (long long)s.have, (long long)length,
					   errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (!hashes_match(s.h256, s.h512, hashes)) {
		rc = upt_error_set(err, UPT_ERR_HASH_MISMATCH,
				   "%s: hashes do not match the trusted metadata", url);
		close(s.fd);
		s.fd = -1;
		unlink(part);
		goto out;
	}
	if (fsync(s.fd) != 0 || close(s.fd) != 0 || rename(part, path) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", path, strerror(errno));
	else
		sync_dir_of(path);
	s.fd = -1;
out:
	if (s.fd >= 0)
		close(s.fd);
	EVP_MD_CTX_free(s.h256);
	EVP_MD_CTX_free(s.h512);
	return rc;
}

static bool matches(const char *path, int64_t length, const struct upt_hashes *hashes, bool prefix)
{
	EVP_MD_CTX *h256 = EVP_MD_CTX_new(), *h512 = EVP_MD_CTX_new();
	uint8_t buf[65536];
	int64_t total = 0;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && h256 && h512 && EVP_DigestInit_ex(h256, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestInit_ex(h512, EVP_sha512(), NULL) == 1) {
		ssize_t n = 1;
		while (total <= length && n > 0) {
			size_t want = sizeof buf;
			if (prefix && (int64_t)want > length - total)
				want = (size_t)(length - total);
			if (want == 0)
				break;
			n = read(fd, buf, want);
			if (n > 0) {
				total += n;
				hash_update(h256, h512, hashes, buf, (size_t)n);
			}
		}
		/* a file must end there; a device holds the image at its start */
		if (!prefix && n > 0 && total == length) {
			uint8_t extra;
			n = read(fd, &extra, 1);
		}
		ok = n >= 0 && total == length && hashes_match(h256, h512, hashes);
	}
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(h256);
	EVP_MD_CTX_free(h512);
	return ok;
}

bool host_file_matches(const char *path, int64_t length, const struct upt_hashes *hashes)
{
	return matches(path, length, hashes, false);
}

bool host_prefix_matches(const char *path, int64_t length, const struct upt_hashes *hashes)
{
	return matches(path, length, hashes, true);
}

int host_copy_to_device(const char *from, const char *device, int64_t max, struct upt_error *err)
{
	uint8_t buf[1 << 16];
	int64_t done = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = UPT_OK;
	if (in < 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", from, strerror(errno));
	out = open(device, O_WRONLY | O_CLOEXEC);
	if (out < 0) {
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", device, strerror(errno));
		close(in);
		return rc;
	}
	for (;;) {
		size_t want = sizeof buf;
		ssize_t n;
		if (max >= 0 && max - done < (int64_t)want)
			want = (size_t)(max - done);
		if (want == 0)
			break;
		n = read(in, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", from, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		done += n;
		if (write_all(out, buf, (size_t)n) != 0) {
			rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", device, strerror(errno));
			break;
		}
	}
	if (rc == UPT_OK && fsync(out) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: %s", device, strerror(errno));
	close(out);
	close(in);
	return rc;
}

/* ---- the repository io -------------------------------------------------- */

static int copy_to_arena(struct upt_arena *a, uint8_t *buf, size_t len, const uint8_t **data,
			 size_t *out_len, struct upt_error *err)
{
	uint8_t *p = upt_arena_alloc(a, len ? len : 1);
	if (!p) {
		free(buf);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory (%zu bytes)", len);
	}
	memcpy(p, buf, len);
	free(buf);
	*data = p;
	*out_len = len;
	return UPT_OK;
}

static int role_file(char *out, size_t cap, const char *dir, const char *role)
{
	char q[512];
	if (host_url_quote(q, sizeof q, role, false) != UPT_OK)
		return UPT_ERR_TOO_LARGE;
	return (size_t)snprintf(out, cap, "%s/%s.json", dir, q) < cap ? UPT_OK : UPT_ERR_TOO_LARGE;
}

static int io_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
		    struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct host_repo_io *h = ctx;
	char q[512], url[2048];
	const char *sep = h->base_url[0] && h->base_url[strlen(h->base_url) - 1] == '/' ? "" : "/";
	uint8_t *buf;
	size_t n;
	int rc;
	if (host_url_quote(q, sizeof q, role, false) != UPT_OK)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "role name too long");
	if (version > 0)
		rc = snprintf(url, sizeof url, "%s%s%lld.%s.json", h->base_url, sep,
			      (long long)version, q) >= (int)sizeof url;
	else
		rc = snprintf(url, sizeof url, "%s%s%s.json", h->base_url, sep, q) >=
		     (int)sizeof url;
	if (rc)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "URL too long");
	h->fetches++;
	rc = host_http_get_mem(url, max_len, &buf, &n, err);
	return rc == UPT_OK ? copy_to_arena(a, buf, n, data, len, err) : rc;
}

static int io_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		   const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct host_repo_io *h = ctx;
	char path[PATH_MAX];
	uint8_t *buf;
	size_t n;
	int rc;
	if (role_file(path, sizeof path, h->dir, role) != UPT_OK)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "role name too long");
	rc = host_read_file(path, max_len, &buf, &n, err);
	return rc == UPT_OK ? copy_to_arena(a, buf, n, data, len, err) : rc;
}

static int io_store(void *ctx, const char *role, const uint8_t *data, size_t len,
		    struct upt_error *err)
{
	struct host_repo_io *h = ctx;
	char path[PATH_MAX];
	if (role_file(path, sizeof path, h->dir, role) != UPT_OK)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "role name too long");
	return host_write_file(path, data, len, err);
}

void host_repo_io(struct upt_repo_io *io, struct host_repo_io *ctx)
{
	io->ctx = ctx;
	io->fetch = io_fetch;
	io->load = io_load;
	io->store = io_store;
}
