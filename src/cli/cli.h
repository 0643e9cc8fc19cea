/* uptake CLI: shared helpers of the sub-commands. */
#ifndef UPTAKE_CLI_H
#define UPTAKE_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <uptake/crypto_openssl.h>
#include <uptake/metadata.h>

/* Exit codes (docs/cli.md). */
enum {
	CLI_OK = 0,
	CLI_REJECTED = 1, /* verification failed: the input is not trusted */
	CLI_USAGE = 2,    /* bad command line */
	CLI_INPUT = 3,    /* a file cannot be read or is not what it should be */
	CLI_INTERNAL = 4, /* crypto, memory or I/O failure */
};

#define CLI_MAX_FILE   ((size_t)16 * 1024 * 1024)
#define CLI_ARENA_SIZE ((size_t)64 * 1024 * 1024)

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Print "uptake CMD: message" to stderr. */
void cli_err(const char *cmd, const char *fmt, ...) UPT_PRINTF(2, 3);

/* A growable byte buffer with a hard maximum. */
struct cli_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};
void cli_buf_init(struct cli_buf *b, size_t max);
void cli_buf_free(struct cli_buf *b);
int cli_buf_put(struct cli_buf *b, const void *data, size_t len);
int cli_buf_printf(struct cli_buf *b, const char *fmt, ...) UPT_PRINTF(2, 3);
/* Append a JSON string literal (quoted, escaped). */
int cli_buf_json_str(struct cli_buf *b, const char *s);
int cli_buf_json_strn(struct cli_buf *b, const char *s, size_t n);

/* Read a regular file (at most `max` bytes) through one descriptor. The
 * buffer is NUL-terminated; free with upt_free. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct upt_error *err);
/* Write atomically: temp file in the same directory, fsync, rename. With
 * `exclusive`, refuse to replace an existing file. "-" is stdout. */
int cli_write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive,
		   struct upt_error *err);

/* A heap block used as libuptake's arena. */
struct cli_arena {
	unsigned char *mem;
	struct upt_arena a;
};
int cli_arena_init(struct cli_arena *ca, size_t size);
void cli_arena_dispose(struct cli_arena *ca);

/* Parse JSON text from a file into the arena. */
int cli_load_json(struct upt_json **out, struct cli_arena *ca, const char *path,
		  struct upt_error *err);
/* Load and split a signed document. */
int cli_load_doc(struct upt_doc *doc, struct cli_arena *ca, const char *path,
		 struct upt_error *err);
/* Check doc's `signed` with the parser of `role`. */
int cli_parse_role(struct cli_arena *ca, const struct upt_doc *doc, enum upt_role role,
		   struct upt_error *err);
/* Append a tree as compact JSON text (upt_json_write: canonical, control
 * characters escaped). */
int cli_buf_put_json(struct cli_buf *b, const struct upt_json *v, struct upt_error *err);
/* Write a tree as compact JSON text plus a newline, atomically ("-":
 * stdout). */
int cli_write_json(const char *path, const struct upt_json *v, struct upt_error *err);
/* Load a private key; the passphrase comes from the environment variable
 * named by `pass_env` (may be NULL). */
int cli_load_privkey(struct upt_privkey **out, const char *path, const char *pass_env,
		     struct upt_error *err);

/* A public key object (a key file given on the command line) in the
 * dialect of the metadata it goes into, and its key id. */
struct cli_pubkey {
	char id[UPT_KEYID_MAX + 1];
	const struct upt_json *obj;
};
int cli_pubkey_parse(struct cli_pubkey *k, struct cli_arena *ca, const char *name,
		     const uint8_t *data, size_t len, enum upt_dialect dialect,
		     struct upt_error *err);

/* "2030-01-01T00:00:00Z", "now", or "+Nd" (days from now). */
int cli_parse_time(int64_t *out, const char *s);
/* Decimal integer in [min, max]. */
int cli_parse_int(int64_t *out, const char *s, int64_t min, int64_t max);
int cli_parse_dialect(enum upt_dialect *out, const char *s);
/* Map a libuptake error to an exit code. */
int cli_exit_code(int upt_code);
/* The same for a refused input file or server answer: CLI_INPUT, except
 * internal failures. */
int cli_input_exit_code(int upt_code);

int cmd_key(int argc, char **argv);
int cmd_metadata(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_init(int argc, char **argv);
int key_rotate(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_assign(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_product(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_campaign(int argc, char **argv);
int cmd_sbom(int argc, char **argv);
int cmd_vuln(int argc, char **argv);
int cmd_advisory(int argc, char **argv);

#endif
