/* uptake CLI: the release engineer's workspace (see workspace.c). */
#ifndef UPTAKE_CLI_WORKSPACE_H
#define UPTAKE_CLI_WORKSPACE_H

#include "../host/host.h"
#include "cli.h"

#define WS_PATH_MAX 2048
#define WS_MAX_KEYS 16

struct ws {
	char dir[WS_PATH_MAX];
	char server[1024];
	char token_file[WS_PATH_MAX];
	char ca_file[WS_PATH_MAX]; /* the server's CA ("" for the system's) */
	enum upt_dialect dialect;  /* of the metadata this workspace writes */
	char token[512];
};

int ws_path(char *out, size_t cap, const struct ws *w, const char *rel);
/* uptake-workspace.json from bytes: {"server": http(s) URL, "token_file":
 * PATH, "ca_file": PATH (optional), "dialect": "tuf"|"aktualizr"
 * (optional)}; unknown fields, NUL and control characters are refused. */
int ws_parse(struct ws *w, const char *name, const uint8_t *data, size_t len,
	     struct upt_error *err);
/* The admin token file's text (trailing newline allowed; no spaces or
 * control characters inside). */
int ws_parse_token(struct ws *w, const char *name, const char *data, size_t len,
		   struct upt_error *err);
int ws_load(struct ws *w, const char *dir, struct upt_error *err);
int ws_save(const struct ws *w, struct upt_error *err);
/* GET an admin API path whose 2xx body goes to `sink` as it arrives (at
 * most `max` bytes); a refusal is an error naming the status, as ws_http;
 * a transfer cut off is UPT_ERR_IO. */
int ws_http_stream(const struct ws *w, const char *api_path, size_t max, host_sink sink, void *ctx,
		   struct upt_error *err);
/* An admin API call; a non-2xx answer is an error carrying the server's
 * JSON error. *resp is malloc'd. */
int ws_http(const struct ws *w, const char *method, const char *api_path, const char *type,
	    const void *body, size_t len, const char *body_path, bool progress, char **resp,
	    struct upt_error *err);
/* A request to w->server's PATH (no leading slash) with `token` (NULL:
 * none); any status is returned in *status, the body in *resp (malloc'd). */
int ws_http_status(const struct ws *w, const char *method, const char *path, const char *token,
		   const char *type, const void *body, size_t len, const char *body_path,
		   bool progress, long *status, char **resp, size_t *resp_len,
		   struct upt_error *err);
/* GET w->server/repo/FILE (the public Image repository); UPT_ERR_NOT_FOUND
 * on 404. *out is malloc'd. */
int ws_fetch_public(const struct ws *w, const char *file, char **out, size_t *len,
		    struct upt_error *err);
/* Load keys/PREFIX-1.pem, PREFIX-2.pem... (as many as exist, at most
 * WS_MAX_KEYS); *n may be 0. */
int ws_load_keys(struct upt_privkey **keys, size_t *n, const struct ws *w, const char *prefix,
		 const char *pass_env, struct upt_error *err);
void ws_free_keys(struct upt_privkey **keys, size_t *n);
/* Upload signed metadata (PUT api/v1/API_PATH) and record it as
 * metadata/FILE once the server has accepted it. The document is kept in
 * metadata/pending/FILE while the upload is under way, so a reply lost to
 * a kill or a cut connection leaves what was sent (ws_reconcile). */
int ws_put_signed(const struct ws *w, const char *api_path, const char *file, const char *data,
		  size_t len, struct upt_error *err);
/* Is an upload of metadata/FILE under way (its outcome unknown)? */
bool ws_pending(const struct ws *w, const char *file);
/* Sign JSON text `text` (a `signed` object) with keys, TUF dialect. */
int ws_sign(struct cli_buf *out, const char *text, struct upt_privkey *const *keys, size_t n,
	    enum upt_dialect dialect, struct upt_error *err);
/* {"_type":"Type","version":V,"expires":"W" (+ spec_version in TUF) */
int ws_header(struct cli_buf *b, enum upt_dialect dialect, const char *type, int64_t version,
	      const char *expires);
/* Append "KEYID":{key object} of a private key's public half. */
int ws_key_object(struct cli_buf *b, struct upt_privkey *key, char *keyid, enum upt_dialect dialect,
		  struct upt_error *err);

/* uptake publish: the next targets version (JSON text of `signed`): every
 * entry of the current targets but one of the same name, the new target,
 * the delegations as they were. */
struct publish_target {
	const char *target, *name, *version;
	const char **hwids;
	size_t n_hw;
	int64_t counter; /* -1: none */
	int64_t length;
	const char *sha256, *sha512;
	int64_t expires;
	bool security;      /* custom.security: true */
	const char *verity; /* custom.verity: a JSON object's text, or NULL */
	/* custom.sbom: the SBOM's format, length and hashes (NULL: none) */
	const struct publish_sbom *sbom;
};
struct publish_sbom {
	char format[24];
	int64_t length;
	char sha256[65], sha512[129];
};
/* sbom_profile.c: print what BSI TR-03183-2 asks that an SBOM (already
 * accepted by upt_sbom_parse) lacks, one line per finding; *n counts. */
int sbom_check_tr03183(const char *doc, size_t len, size_t *n, struct upt_error *err);
/* cmd_sbom.c: read and check an SBOM file, hash it (*doc: upt_free). */
int sbom_prepare(struct publish_sbom *out, char **doc, size_t *len, const char *path,
		 struct upt_error *err);
/* Upload it, print the known vulnerabilities it matches; with `gate`,
 * UPT_ERR_STATE when one is actively exploited without a VEX statement. */
int sbom_upload_and_gate(const struct ws *w, const struct publish_sbom *sb, const char *doc,
			 size_t len, const char *target, bool gate, struct upt_error *err);
int publish_next_targets(struct cli_buf *text, const struct upt_doc *doc,
			 const struct upt_targets *cur, const struct publish_target *pt,
			 struct upt_error *err);

/* uptake key rotate: the next root (JSON text of `signed`) from the
 * current one, with the roles in `rp` (NULL when n_rp is 0) given new keys. */
struct repl;
int rotate_next_root(struct cli_buf *out, enum upt_dialect d, const struct upt_json *signed_root,
		     int64_t version, int64_t expires, const struct repl *rp, size_t n_rp,
		     struct upt_error *err);

#endif
