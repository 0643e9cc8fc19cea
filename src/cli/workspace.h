/* uptake CLI: the release engineer's workspace (see workspace.c). */
#ifndef UPTAKE_CLI_WORKSPACE_H
#define UPTAKE_CLI_WORKSPACE_H

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
int ws_load(struct ws *w, const char *dir, struct upt_error *err);
int ws_save(const struct ws *w, struct upt_error *err);
/* An admin API call; a non-2xx answer is an error carrying the server's
 * JSON error. *resp is malloc'd. */
int ws_http(const struct ws *w, const char *method, const char *api_path, const char *type,
	    const void *body, size_t len, const char *body_path, bool progress, char **resp,
	    struct upt_error *err);
/* Sign JSON text `text` (a `signed` object) with keys, TUF dialect. */
int ws_sign(struct cli_buf *out, const char *text, struct upt_privkey *const *keys, size_t n,
	    enum upt_dialect dialect, struct upt_error *err);
/* {"_type":"Type","version":V,"expires":"W" (+ spec_version in TUF) */
int ws_header(struct cli_buf *b, enum upt_dialect dialect, const char *type, int64_t version,
	      const char *expires);
/* Append "KEYID":{key object} of a private key's public half. */
int ws_key_object(struct cli_buf *b, struct upt_privkey *key, char *keyid, enum upt_dialect dialect,
		  struct upt_error *err);

#endif
