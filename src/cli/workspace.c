/* uptake CLI: the release engineer's workspace and its server.
 *
 * A workspace is a directory:
 *   uptake-workspace.json   {"server": URL, "token_file": PATH}
 *   keys/root-N.pem ...     offline root keys (0600, never sent anywhere)
 *   keys/targets.pem        the offline targets key
 *   metadata/root.json      the newest root the server accepted
 *   metadata/targets.json   the newest targets the server accepted
 *   metadata/director-root.json  the newest Director root the server accepted
 *   metadata/pending/FILE   a signed upload under way (see reconcile.c)
 */
#define _GNU_SOURCE
#include "workspace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"

int ws_path(char *out, size_t cap, const struct ws *w, const char *rel)
{
	return (size_t)snprintf(out, cap, "%s/%s", w->dir, rel) < cap ? UPT_OK : UPT_ERR_TOO_LARGE;
}

/* A string field copied into out[cap]: no NUL or control characters
 * (they would cut or bend a path, URL or header). */
static int string_field(char *out, size_t cap, const struct upt_json *v, const char *name,
			const char *file, struct upt_error *err)
{
	if (!v || v->type != UPT_JSON_STRING || v->len == 0 || v->len >= cap)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "%s: %s must be a string of 1-%zu bytes", file, name, cap - 1);
	for (size_t i = 0; i < v->len; i++)
		if ((unsigned char)v->str[i] < 0x20 || v->str[i] == 0x7f)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: %s: control character at byte %zu", file, name,
					     i);
	memcpy(out, v->str, v->len);
	out[v->len] = 0;
	return UPT_OK;
}

int ws_parse(struct ws *w, const char *name, const uint8_t *data, size_t len, struct upt_error *err)
{
	static const char *const known[] = {"server", "token_file", "ca_file", "dialect"};
	struct cli_arena ca;
	struct upt_json *v;
	const struct upt_json *dialect;
	int rc;
	if (cli_arena_init(&ca, 16 * len + 65536) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_parse(&v, &ca.a, data, len, NULL, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, name);
	else if (v->type != UPT_JSON_OBJECT)
		rc = upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: must be an object", name);
	for (size_t i = 0; rc == UPT_OK && i < v->n; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
			ok |= v->items[i]->key_len == strlen(known[k]) &&
			      memcmp(v->items[i]->key, known[k], v->items[i]->key_len) == 0;
		if (!ok)
			rc = upt_error_set(
			    err, UPT_ERR_FIELD_VALUE, "%s: unknown field \"%.*s\"", name,
			    (int)(v->items[i]->key_len > 64 ? 64 : v->items[i]->key_len),
			    v->items[i]->key);
	}
	if (rc == UPT_OK)
		rc = string_field(w->server, sizeof w->server, upt_json_get(v, "server"), "server",
				  name, err);
	if (rc == UPT_OK && strncmp(w->server, "https://", 8) != 0 &&
	    strncmp(w->server, "http://", 7) != 0)
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: server must be an http(s) URL",
				   name);
	if (rc == UPT_OK)
		rc = string_field(w->token_file, sizeof w->token_file,
				  upt_json_get(v, "token_file"), "token_file", name, err);
	if (rc == UPT_OK && upt_json_get(v, "ca_file"))
		rc = string_field(w->ca_file, sizeof w->ca_file, upt_json_get(v, "ca_file"),
				  "ca_file", name, err);
	dialect = rc == UPT_OK ? upt_json_get(v, "dialect") : NULL;
	w->dialect = UPT_DIALECT_TUF;
	if (dialect && upt_json_is_str(dialect, "aktualizr"))
		w->dialect = UPT_DIALECT_AKTUALIZR;
	else if (dialect && !upt_json_is_str(dialect, "tuf"))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "%s: dialect must be \"tuf\" or \"aktualizr\"", name);
	cli_arena_dispose(&ca);
	return rc;
}

int ws_parse_token(struct ws *w, const char *name, const char *data, size_t len,
		   struct upt_error *err)
{
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		len--;
	if (len == 0 || len >= sizeof w->token)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: the token must be 1-%zu bytes",
				     name, sizeof w->token - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] <= 0x20 || data[i] == 0x7f)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s: the token has a space or control character at "
					     "byte %zu",
					     name, i);
	memcpy(w->token, data, len);
	w->token[len] = 0;
	return UPT_OK;
}

int ws_load(struct ws *w, const char *dir, struct upt_error *err)
{
	char path[WS_PATH_MAX];
	char *text = NULL, *tok = NULL;
	size_t len = 0, tl = 0;
	int rc;
	memset(w, 0, sizeof *w);
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	if (ws_path(path, sizeof path, w, "uptake-workspace.json") != UPT_OK)
		return upt_error_set(err, UPT_ERR_ARG, "workspace path too long");
	rc = cli_read_file(path, 65536, &text, &len, err);
	if (rc == UPT_OK)
		rc = ws_parse(w, path, (const uint8_t *)text, len, err);
	upt_free(text);
	if (rc == UPT_OK)
		rc = cli_read_file(w->token_file, sizeof w->token + 64, &tok, &tl, err);
	if (rc == UPT_OK)
		rc = ws_parse_token(w, w->token_file, tok, tl, err);
	if (tok)
		upt_free_secret(tok, tl);
	return rc;
}

int ws_save(const struct ws *w, struct upt_error *err)
{
	struct cli_buf b;
	char path[WS_PATH_MAX];
	int rc;
	cli_buf_init(&b, 16384);
	rc = cli_buf_printf(&b, "{\"server\":");
	if (rc == UPT_OK)
		rc = cli_buf_json_str(&b, w->server);
	if (rc == UPT_OK)
		rc = cli_buf_printf(&b, ",\"token_file\":");
	if (rc == UPT_OK)
		rc = cli_buf_json_str(&b, w->token_file);
	if (rc == UPT_OK && w->ca_file[0]) {
		rc = cli_buf_printf(&b, ",\"ca_file\":");
		if (rc == UPT_OK)
			rc = cli_buf_json_str(&b, w->ca_file);
	}
	if (rc == UPT_OK && w->dialect == UPT_DIALECT_AKTUALIZR)
		rc = cli_buf_printf(&b, ",\"dialect\":\"aktualizr\"");
	if (rc == UPT_OK)
		rc = cli_buf_printf(&b, "}\n");
	if (rc == UPT_OK && ws_path(path, sizeof path, w, "uptake-workspace.json") != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_ARG, "workspace path too long");
	if (rc == UPT_OK)
		rc = cli_write_file(path, b.p, b.len, 0644, false, err);
	cli_buf_free(&b);
	return rc;
}

int ws_http_status(const struct ws *w, const char *method, const char *path, const char *token,
		   const char *type, const void *body, size_t len, const char *body_path,
		   bool progress, long *status, char **resp, size_t *resp_len,
		   struct upt_error *err)
{
	char url[WS_PATH_MAX + 256];
	struct host_request rq = {method,    url,      token,
				  type,      body,     len,
				  body_path, progress, w->ca_file[0] ? w->ca_file : NULL,
				  NULL,      NULL,     NULL,
				  NULL};
	size_t rl = 0;
	*resp = NULL;
	*status = 0;
	if ((size_t)snprintf(url, sizeof url, "%s/%s", w->server, path) >= sizeof url)
		return upt_error_set(err, UPT_ERR_ARG, "URL too long");
	return host_http_request(&rq, CLI_MAX_FILE, resp, resp_len ? resp_len : &rl, status, err);
}

/* A non-2xx answer: the server's JSON error names the check; pass it on. */
static int refusal(const char *method, const char *api_path, long status, char *resp,
		   struct upt_error *err)
{
	size_t n = strlen(resp);
	while (n && (resp[n - 1] == '\n' || resp[n - 1] == '\r'))
		resp[--n] = 0;
	if (n > 180)
		resp[180] = 0;
	return upt_error_set(err, UPT_ERR_IO, "%s %s: HTTP %lld: %s", method, api_path,
			     (long long)status, resp);
}

static int admin_call(const struct ws *w, const char *method, const char *api_path,
		      const char *type, const void *body, size_t len, const char *body_path,
		      bool progress, long *status, char **resp, struct upt_error *err)
{
	char path[WS_PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "api/v1/%s", api_path) >= sizeof path)
		return upt_error_set(err, UPT_ERR_ARG, "URL too long");
	return ws_http_status(w, method, path, w->token, type, body, len, body_path, progress,
			      status, resp, NULL, err);
}

int ws_http(const struct ws *w, const char *method, const char *api_path, const char *type,
	    const void *body, size_t len, const char *body_path, bool progress, char **resp,
	    struct upt_error *err)
{
	long status = 0;
	int rc = admin_call(w, method, api_path, type, body, len, body_path, progress, &status,
			    resp, err);
	if (rc == UPT_OK && (status < 200 || status > 299)) {
		rc = refusal(method, api_path, status, *resp, err);
		free(*resp);
		*resp = NULL;
	}
	return rc;
}

int ws_http_stream(const struct ws *w, const char *api_path, size_t max, host_sink sink, void *ctx,
		   struct upt_error *err)
{
	char url[WS_PATH_MAX + 256];
	struct host_request rq = {
	    "GET", url,  w->token, NULL, NULL, 0, NULL, false, w->ca_file[0] ? w->ca_file : NULL,
	    NULL,  NULL, sink,     ctx};
	char *resp = NULL;
	size_t rl = 0;
	long status = 0;
	int rc;
	if ((size_t)snprintf(url, sizeof url, "%s/api/v1/%s", w->server, api_path) >= sizeof url)
		return upt_error_set(err, UPT_ERR_ARG, "URL too long");
	rc = host_http_request(&rq, max, &resp, &rl, &status, err);
	if (rc == UPT_OK && (status < 200 || status > 299))
		rc = refusal("GET", api_path, status, resp, err);
	free(resp);
	return rc;
}

int ws_fetch_public(const struct ws *w, const char *file, char **out, size_t *len,
		    struct upt_error *err)
{
	char path[WS_PATH_MAX];
	long status = 0;
	int rc;
	*out = NULL;
	if ((size_t)snprintf(path, sizeof path, "repo/%s", file) >= sizeof path)
		return upt_error_set(err, UPT_ERR_ARG, "URL too long");
	rc = ws_http_status(w, "GET", path, NULL, NULL, NULL, 0, NULL, false, &status, out, len,
			    err);
	if (rc == UPT_OK && status != 200) {
		free(*out);
		*out = NULL;
		rc = status == 404
			 ? upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: not on the server", file)
			 : upt_error_set(err, UPT_ERR_IO, "GET /repo/%s: HTTP %lld", file,
					 (long long)status);
	}
	return rc;
}

int ws_load_keys(struct upt_privkey **keys, size_t *n, const struct ws *w, const char *prefix,
		 const char *pass_env, struct upt_error *err)
{
	char path[WS_PATH_MAX + 64];
	*n = 0;
	for (size_t i = 1; i <= WS_MAX_KEYS; i++) {
		int rc;
		snprintf(path, sizeof path, "%s/keys/%s-%zu.pem", w->dir, prefix, i);
		if (access(path, F_OK) != 0)
			break;
		rc = cli_load_privkey(&keys[*n], path, pass_env, err);
		if (rc != UPT_OK) {
			ws_free_keys(keys, n);
			return rc;
		}
		(*n)++;
	}
	return UPT_OK;
}

void ws_free_keys(struct upt_privkey **keys, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		upt_privkey_free(keys[i]);
		keys[i] = NULL;
	}
	*n = 0;
}

int ws_put_signed(const struct ws *w, const char *api_path, const char *file, const char *data,
		  size_t len, struct upt_error *err)
{
	char pending[WS_PATH_MAX + 64], final[WS_PATH_MAX + 64], *resp = NULL;
	long status = 0;
	bool refused;
	int rc = UPT_OK;
	if ((size_t)snprintf(pending, sizeof pending, "%s/metadata/pending", w->dir) >=
		sizeof pending ||
	    (size_t)snprintf(final, sizeof final, "%s/metadata/%s", w->dir, file) >= sizeof final)
		return upt_error_set(err, UPT_ERR_ARG, "workspace path too long");
	rc = host_mkdirs(pending, err);
	if (rc == UPT_OK) {
		snprintf(pending, sizeof pending, "%s/metadata/pending/%s", w->dir, file);
		rc = cli_write_file(pending, data, len, 0644, false, err);
	}
	if (rc == UPT_OK)
		rc = admin_call(w, "PUT", api_path, "application/json", data, len, NULL, false,
				&status, &resp, err);
	refused = rc == UPT_OK && (status < 200 || status > 299);
	if (refused)
		rc = refusal("PUT", api_path, status, resp, err);
	free(resp);
	if (rc == UPT_OK)
		rc = cli_write_file(final, data, len, 0644, false, err);
	/* accepted and recorded, or refused by the server: nothing under way.
	 * A transport failure keeps it: the server may have taken it. */
	if (rc == UPT_OK || refused)
		unlink(pending);
	return rc;
}

bool ws_pending(const struct ws *w, const char *file)
{
	char path[WS_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/metadata/pending/%s", w->dir, file);
	return access(path, F_OK) == 0;
}

int ws_sign(struct cli_buf *out, const char *text, struct upt_privkey *const *keys, size_t n,
	    enum upt_dialect dialect, struct upt_error *err)
{
	char *doc = NULL;
	size_t len = 0;
	int rc = upt_privkey_sign_document(&doc, &len, text, keys, n, dialect, err);
	cli_buf_init(out, len + 1);
	if (rc == UPT_OK) {
		out->p = doc;
		out->len = len;
		out->cap = len + 1;
	}
	return rc;
}

int ws_header(struct cli_buf *b, enum upt_dialect dialect, const char *type, int64_t version,
	      const char *expires)
{
	bool akt = dialect == UPT_DIALECT_AKTUALIZR;
	return cli_buf_printf(b, "{\"_type\":\"%c%s\",%s\"version\":%lld,\"expires\":\"%s\"",
			      akt ? type[0] - 'a' + 'A' : type[0], type + 1,
			      akt ? "" : "\"spec_version\":\"1.0.31\",", (long long)version,
			      expires);
}

int ws_key_object(struct cli_buf *b, struct upt_privkey *key, char *keyid, enum upt_dialect dialect,
		  struct upt_error *err)
{
	char *pub = NULL;
	size_t len = 0;
	int rc = upt_privkey_keyid(keyid, key, dialect, err);
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&pub, &len, key, dialect, err);
	if (rc == UPT_OK)
		rc = cli_buf_printf(b, "\"%s\":%s", keyid, pub);
	upt_free(pub);
	return rc;
}
