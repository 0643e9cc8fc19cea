/* Fuzz target: what the CLI reads from its workspace directory. Byte 0
 * picks the file, the rest is its content:
 *   0  uptake-workspace.json (ws_parse)
 *   1  the admin token file (ws_parse_token)
 *   2  metadata/targets.json, as `uptake publish` builds the next version
 *      from it
 *   3  metadata/root.json or director-root.json, as `uptake key rotate`
 *      builds the next root from it
 * Whatever the bytes: a clear error, or a result within bounds; the next
 * targets or root that the CLI would sign parses with libuptake's own
 * parser for that role. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "cli/workspace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cli_arena ca;

static void refuse_silence(int rc, const struct upt_error *err)
{
	if (rc > 0 || (rc != UPT_OK && err->msg[0] == 0))
		abort();
}

/* Built text of `signed` must parse as `role`. */
static void check_built(const struct cli_buf *b, enum upt_role role)
{
	struct cli_buf doc;
	struct upt_doc d;
	struct upt_error err = {0};
	cli_buf_init(&doc, CLI_MAX_FILE);
	if (cli_buf_printf(&doc, "{\"signatures\":[],\"signed\":") != UPT_OK ||
	    cli_buf_put(&doc, b->p, b->len) != UPT_OK || cli_buf_put(&doc, "}", 1) != UPT_OK)
		abort();
	if (upt_doc_parse(&d, &ca.a, (const uint8_t *)doc.p, doc.len, CLI_MAX_FILE, "built",
			  &err) != UPT_OK ||
	    cli_parse_role(&ca, &d, role, &err) != UPT_OK)
		abort();
	cli_buf_free(&doc);
}

static void workspace_file(const uint8_t *data, size_t size)
{
	static struct ws w;
	struct upt_error err = {0};
	int rc;
	memset(&w, 0, sizeof w);
	rc = ws_parse(&w, "uptake-workspace.json", data, size, &err);
	refuse_silence(rc, &err);
	if (rc == UPT_OK &&
	    (!w.server[0] || !w.token_file[0] || memchr(w.server, 0, sizeof w.server) == NULL ||
	     (w.dialect != UPT_DIALECT_TUF && w.dialect != UPT_DIALECT_AKTUALIZR)))
		abort();
	for (size_t i = 0; rc == UPT_OK && w.server[i]; i++)
		if ((unsigned char)w.server[i] < 0x20)
			abort();
}

static void token_file(const uint8_t *data, size_t size)
{
	static struct ws w;
	struct upt_error err = {0};
	int rc = ws_parse_token(&w, "token", (const char *)data, size, &err);
	refuse_silence(rc, &err);
	for (size_t i = 0; rc == UPT_OK && w.token[i]; i++)
		if ((unsigned char)w.token[i] <= 0x20)
			abort();
}

static void next_targets(const uint8_t *data, size_t size)
{
	static const char *hw[] = {"board-a", "b\"\\\x01"};
	static const struct publish_sbom sbom = {
	    "cyclonedx-1.6", 1234,
	    "1111111111111111111111111111111111111111111111111111111111111111",
	    "22222222222222222222222222222222222222222222222222222222222222222222"
	    "222222222222222222222222222222222222222222222222222222222222"};
	struct publish_target pt = {
	    "fw-1.0",
	    "fw",
	    "1.0",
	    hw,
	    2,
	    7,
	    100,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "00000000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000",
	    1893456000,
	    false,
	    NULL,
	    &sbom};
	struct upt_doc doc;
	struct upt_targets cur;
	struct cli_buf text;
	struct upt_error err = {0};
	int rc = upt_doc_parse(&doc, &ca.a, data, size, CLI_MAX_FILE, "targets.json", &err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&cur, &ca.a, &doc, upt_openssl_crypto(), &err);
	if (rc != UPT_OK) {
		refuse_silence(rc, &err);
		return;
	}
	cli_buf_init(&text, CLI_MAX_FILE);
	rc = publish_next_targets(&text, &doc, &cur, &pt, &err);
	refuse_silence(rc, &err);
	if (rc == UPT_OK)
		check_built(&text, UPT_ROLE_TARGETS);
	cli_buf_free(&text);
}

static void next_root(const uint8_t *data, size_t size)
{
	struct upt_doc doc;
	struct upt_root cur;
	struct cli_buf text;
	struct upt_error err = {0};
	int rc = upt_doc_parse(&doc, &ca.a, data, size, CLI_MAX_FILE, "root.json", &err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&cur, &ca.a, &doc, upt_openssl_crypto(), &err);
	if (rc != UPT_OK || cur.c.version >= INT64_MAX - 1) {
		refuse_silence(rc, &err);
		return;
	}
	cli_buf_init(&text, 1 << 20);
	rc = rotate_next_root(&text, doc.dialect, doc.signed_json, cur.c.version + 1, 1893456000,
			      NULL, 0, &err);
	refuse_silence(rc, &err);
	if (rc == UPT_OK)
		check_built(&text, UPT_ROLE_ROOT);
	cli_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ca.mem && cli_arena_init(&ca, 64u << 20) != UPT_OK)
		abort();
	upt_arena_init(&ca.a, ca.mem, 64u << 20);
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		workspace_file(data + 1, size - 1);
		break;
	case 1:
		token_file(data + 1, size - 1);
		break;
	case 2:
		next_targets(data + 1, size - 1);
		break;
	default:
		next_root(data + 1, size - 1);
		break;
	}
	return 0;
}
