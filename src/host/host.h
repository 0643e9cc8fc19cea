/* uptake host layer: what the sans-I/O core leaves to the caller on a
 * POSIX host (files written atomically, bounded HTTP with libcurl, URL
 * quoting). Used by uptake-tuf-client and the agent. */
#ifndef UPTAKE_HOST_H
#define UPTAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/client.h>

/* Read at most `max` bytes of `path` into a malloc'd buffer (NUL-terminated).
 * UPT_ERR_NOT_FOUND when it does not exist, UPT_ERR_TOO_LARGE when longer. */
int host_read_file(const char *path, size_t max, uint8_t **out, size_t *len, struct upt_error *err);

/* Replace `path` with `data` atomically: a temporary file in the same
 * directory (never named *.json), fsync, rename, fsync of the directory. */
int host_write_file(const char *path, const void *data, size_t len, struct upt_error *err);

/* Create a directory (and its parents) when missing. */
int host_mkdirs(const char *path, struct upt_error *err);

/* Percent-encode `in` into out[0..cap): everything but A-Z a-z 0-9 - . _ ~
 * (and '/' when keep_slash). UPT_ERR_TOO_LARGE when it does not fit. */
int host_url_quote(char *out, size_t cap, const char *in, bool keep_slash);

/* HTTP GET with libcurl: http and https only, no redirects, connect and
 * stall timeouts. The body goes to `sink` in pieces; more than `max`
 * bytes is UPT_ERR_TOO_LARGE (the transfer is cut there). 404 and 403 are
 * UPT_ERR_NOT_FOUND; another non-2xx status or a transport failure is
 * UPT_ERR_IO. `sink` returns UPT_OK or an error that stops the transfer. */
typedef int (*host_sink)(void *ctx, const uint8_t *data, size_t len);
int host_http_get(const char *url, size_t max, host_sink sink, void *ctx, struct upt_error *err);

/* GET into a malloc'd buffer. */
int host_http_get_mem(const char *url, size_t max, uint8_t **out, size_t *len,
		      struct upt_error *err);

/* GET into `path` (atomically, only once the length and every hash given
 * match: the file never holds unverified bytes). */
int host_http_get_verified(const char *url, const char *path, int64_t length,
			   const struct upt_hashes *hashes, struct upt_error *err);

/* A request with an optional body from memory or from a file (`body_path`,
 * streamed), an optional bearer token and content type. The response body
 * (at most `max`) lands in *resp (malloc'd, NUL-terminated) and the status
 * in *status; a transport failure is UPT_ERR_IO. With `progress`, a
 * progress bar for the upload goes to stderr. */
struct host_request {
	const char *method, *url, *token, *content_type;
	const void *body;
	size_t body_len;
	const char *body_path;
	bool progress;
	/* TLS: the CA to trust (else the system's), a client certificate */
	const char *ca_file, *cert_file, *key_file;
	/* when set, a 2xx body goes to sink as it arrives (*resp is then ""),
	 * any other answer's body to *resp */
	host_sink sink;
	void *sink_ctx;
};
int host_http_request(const struct host_request *rq, size_t max, char **resp, size_t *resp_len,
		      long *status, struct upt_error *err);

/* The same, resumable: bytes go to `part` (kept when the transfer is cut
 * off, continued with a Range request next time, hashed from its start),
 * which becomes `path` (same file system) only once the length and every
 * hash match. *resumed_at is where this attempt started. A part that is
 * too long or does not match is deleted. */
int host_http_resume_verified(const char *url, const char *part, const char *path, int64_t length,
			      const struct upt_hashes *hashes, int64_t *resumed_at,
			      struct upt_error *err);

/* Limit every download of this process to `bytes_per_second` (0: none). */
void host_set_rate_limit(int64_t bytes_per_second);

/* A total deadline for every request of this process: a request that may
 * carry N bytes (the bound of its response, the trusted length of an
 * image still to come, plus what it uploads) must be done within
 * base_seconds + N / min_bytes_per_second seconds (at the rate limit
 * instead, when that is lower), at most 30 days; otherwise it is cut and
 * fails with UPT_ERR_IO ("deadline of N s passed"). 0: no deadline (the
 * connect and low-speed timeouts still apply). */
void host_set_deadline(int64_t base_seconds, int64_t min_bytes_per_second);
/* The deadline in seconds for a request of `bytes` (0: none). */
long host_deadline_for(uint64_t bytes);

/* Does the file at `path` have exactly this length and these hashes? */
bool host_file_matches(const char *path, int64_t length, const struct upt_hashes *hashes);
/* Do the first `length` bytes (of a block device, say) have these hashes? */
bool host_prefix_matches(const char *path, int64_t length, const struct upt_hashes *hashes);
/* Write the file `from` (its first `max` bytes; all of it when max < 0)
 * to the start of `device`, then fsync. */
int host_copy_to_device(const char *from, const char *device, int64_t max, struct upt_error *err);

/* A struct upt_repo_io for a repository at `base_url` whose trusted
 * metadata lives in directory `dir` as ROLE.json (the role name quoted:
 * never a path outside dir). Both strings are kept by pointer. */
struct host_repo_io {
	const char *base_url;
	const char *dir;
	unsigned fetches;
};
void host_repo_io(struct upt_repo_io *io, struct host_repo_io *ctx);

/* TLS for every GET of this process: the CA to trust (NULL: the system's)
 * and a client certificate and key (NULL: none). The strings are kept by
 * pointer. */
void host_set_tls(const char *ca_file, const char *cert_file, const char *key_file);

/* curl_global_init once per process. */
int host_init(struct upt_error *err);

#endif
