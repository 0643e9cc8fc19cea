/* uptake CLI: file, buffer, arena and parsing helpers. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "cli.h"

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "uptake %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_buf_init(struct cli_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void cli_buf_free(struct cli_buf *b)
{
	upt_free(b->p);
	cli_buf_init(b, b->max);
}

int cli_buf_put(struct cli_buf *b, const void *data, size_t len)
{
	size_t need;
	if (__builtin_add_overflow(b->len, len + 1, &need) || need > b->max)
		return UPT_ERR_TOO_LARGE;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < need)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		if (!(p = upt_realloc(b->p, cap)))
			return UPT_ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0;
	return UPT_OK;
}

int cli_buf_printf(struct cli_buf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap, again;
	int n, rc;
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(again);
		return UPT_ERR_ARG;
	}
	if ((size_t)n < sizeof small) {
		va_end(again);
		return cli_buf_put(b, small, (size_t)n);
	}
	/* longer (a PEM key object, say): format it in a heap block */
	if ((size_t)n > b->max || !(big = upt_malloc((size_t)n + 1))) {
		va_end(again);
		return (size_t)n > b->max ? UPT_ERR_TOO_LARGE : UPT_ERR_NOMEM;
	}
	vsnprintf(big, (size_t)n + 1, fmt, again);
	va_end(again);
	rc = cli_buf_put(b, big, (size_t)n);
	upt_free(big);
	return rc;
}

int cli_buf_json_str(struct cli_buf *b, const char *s)
{
	return cli_buf_json_strn(b, s, strlen(s));
}

int cli_buf_json_strn(struct cli_buf *b, const char *s, size_t n)
{
	int rc = cli_buf_put(b, "\"", 1);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			rc = cli_buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc = cli_buf_printf(b, "\\u%04x", c);
		else
			rc = cli_buf_put(b, s + i, 1);
	}
	return rc == UPT_OK ? cli_buf_put(b, "\"", 1) : rc;
}

static int read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct upt_error *err)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = UPT_OK;
	*out = NULL;
	if (fd < 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = upt_error_set(err, UPT_ERR_IO, "%s: not a regular file", path);
	else if ((uint64_t)st.st_size > max)
		rc = upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: %lld bytes, more than %zu allowed",
				   path, (long long)st.st_size, max);
	else if (!(buf = upt_malloc((size_t)st.st_size + 1)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", path);
	else if (read_all(fd, buf, (size_t)st.st_size) != 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: read failed", path);
	close(fd);
	if (rc != UPT_OK) {
		upt_free(buf);
		return rc;
	}
	buf[st.st_size] = 0;
	*out = buf;
	*len = (size_t)st.st_size;
	return UPT_OK;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
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

static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;
	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int cli_write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive,
		   struct upt_error *err)
{
	char tmp[4096];
	int fd;
	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data, len) == 0
			   ? UPT_OK
			   : upt_error_set(err, UPT_ERR_IO, "stdout: write failed");
	if (exclusive && access(path, F_OK) == 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: exists; not overwritten", path);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
		return upt_error_set(err, UPT_ERR_IO, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", tmp, strerror(errno));
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return upt_error_set(err, UPT_ERR_IO, "%s: write failed", path);
	}
	if ((exclusive ? link(tmp, path) : rename(tmp, path)) != 0) {
		int e = errno;
		unlink(tmp);
		return upt_error_set(err, UPT_ERR_IO, "%s: %s", path, strerror(e));
	}
	if (exclusive)
		unlink(tmp);
	sync_dir(path);
	return UPT_OK;
}

int cli_arena_init(struct cli_arena *ca, size_t size)
{
	ca->mem = upt_malloc(size);
	if (!ca->mem)
		return UPT_ERR_NOMEM;
	upt_arena_init(&ca->a, ca->mem, size);
	return UPT_OK;
}

void cli_arena_dispose(struct cli_arena *ca)
{
	upt_free(ca->mem);
	ca->mem = NULL;
}

int cli_load_json(struct upt_json **out, struct cli_arena *ca, const char *path,
		  struct upt_error *err)
{
	char *text, *copy;
	size_t len;
	int rc = cli_read_file(path, CLI_MAX_FILE, &text, &len, err);
	if (rc != UPT_OK)
		return rc;
	/* The tree points into the input: keep it in the arena. */
	copy = upt_arena_alloc(&ca->a, len + 1);
	if (!copy) {
		upt_free(text);
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", path);
	}
	memcpy(copy, text, len + 1);
	upt_free(text);
	rc = upt_json_parse(out, &ca->a, (const uint8_t *)copy, len, NULL, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, path);
	return rc;
}

int cli_load_doc(struct upt_doc *doc, struct cli_arena *ca, const char *path, struct upt_error *err)
{
	char *text, *copy;
	size_t len;
	int rc = cli_read_file(path, CLI_MAX_FILE, &text, &len, err);
	if (rc != UPT_OK)
		return rc;
	copy = upt_arena_alloc(&ca->a, len + 1);
	if (copy)
		memcpy(copy, text, len + 1);
	upt_free(text);
	if (!copy)
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", path);
	return upt_doc_parse(doc, &ca->a, (const uint8_t *)copy, len, CLI_MAX_FILE, path, err);
}

int cli_load_privkey(struct upt_privkey **out, const char *path, const char *pass_env,
		     struct upt_error *err)
{
	const char *pass = pass_env ? getenv(pass_env) : NULL;
	char *pem;
	size_t len;
	int rc = cli_read_file(path, 64 * 1024, &pem, &len, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_privkey_load_pem(out, pem, len, pass && *pass ? pass : NULL, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, path);
	upt_free_secret(pem, len);
	return rc;
}

int cli_parse_int(int64_t *out, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return UPT_ERR_ARG;
	*out = v;
	return UPT_OK;
}

int cli_parse_time(int64_t *out, const char *s)
{
	int64_t days;
	size_t n = strlen(s);
	if (strcmp(s, "now") == 0) {
		*out = (int64_t)time(NULL);
		return UPT_OK;
	}
	if (s[0] == '+' && n >= 3 && s[n - 1] == 'd') {
		char num[32];
		if (n - 2 >= sizeof num)
			return UPT_ERR_ARG;
		memcpy(num, s + 1, n - 2);
		num[n - 2] = 0;
		if (cli_parse_int(&days, num, 0, 36500) != UPT_OK)
			return UPT_ERR_ARG;
		*out = (int64_t)time(NULL) + days * 86400;
		return UPT_OK;
	}
	return upt_time_parse(out, s, n);
}

int cli_parse_dialect(enum upt_dialect *out, const char *s)
{
	if (strcmp(s, "tuf") == 0)
		*out = UPT_DIALECT_TUF;
	else if (strcmp(s, "aktualizr") == 0)
		*out = UPT_DIALECT_AKTUALIZR;
	else
		return UPT_ERR_ARG;
	return UPT_OK;
}

int cli_exit_code(int code)
{
	switch (code) {
	case UPT_OK:
		return CLI_OK;
	case UPT_ERR_IO:
	case UPT_ERR_PASSPHRASE:
	case UPT_ERR_DECODE:
		return CLI_INPUT;
	case UPT_ERR_NOMEM:
	case UPT_ERR_CRYPTO:
		return CLI_INTERNAL;
	case UPT_ERR_ARG:
		return CLI_USAGE;
	default:
		return CLI_REJECTED;
	}
}

int cli_input_exit_code(int code)
{
	int c = cli_exit_code(code);
	return c == CLI_REJECTED ? CLI_INPUT : c;
}

int cli_parse_role(struct cli_arena *ca, const struct upt_doc *doc, enum upt_role role,
		   struct upt_error *err)
{
	union {
		struct upt_root r;
		struct upt_targets t;
		struct upt_snapshot s;
		struct upt_timestamp ts;
	} u;
	const struct upt_crypto *c = upt_openssl_crypto();
	switch (role) {
	case UPT_ROLE_ROOT:
		return upt_root_parse(&u.r, &ca->a, doc, c, err);
	case UPT_ROLE_TARGETS:
		return upt_targets_parse(&u.t, &ca->a, doc, c, err);
	case UPT_ROLE_SNAPSHOT:
		return upt_snapshot_parse(&u.s, &ca->a, doc, err);
	case UPT_ROLE_TIMESTAMP:
		return upt_timestamp_parse(&u.ts, &ca->a, doc, err);
	}
	return upt_error_set(err, UPT_ERR_ARG, "unknown role");
}

int cli_buf_put_json(struct cli_buf *b, const struct upt_json *v, struct upt_error *err)
{
	size_t len = 0;
	char *tmp;
	int rc = upt_json_write(NULL, 0, &len, v, err); /* measures */
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM)
		return rc;
	if (!(tmp = upt_malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_write((uint8_t *)tmp, len, &len, v, err);
	if (rc == UPT_OK)
		rc = cli_buf_put(b, tmp, len);
	upt_free(tmp);
	return rc;
}

int cli_write_json(const char *path, const struct upt_json *v, struct upt_error *err)
{
	struct cli_buf b;
	int rc;
	cli_buf_init(&b, CLI_MAX_FILE);
	rc = cli_buf_put_json(&b, v, err);
	if (rc == UPT_OK)
		rc = cli_buf_put(&b, "\n", 1);
	if (rc == UPT_OK)
		rc = cli_write_file(path, b.p, b.len, 0644, false, err);
	cli_buf_free(&b);
	return rc;
}

/* A key object without "scheme" is in the aktualizr spelling; one in the
 * other dialect is converted. Key ids are computed from the key object as
 * written. */
int cli_pubkey_parse(struct cli_pubkey *k, struct cli_arena *ca, const char *name,
		     const uint8_t *data, size_t len, enum upt_dialect dialect,
		     struct upt_error *err)
{
	struct upt_json *v = NULL;
	struct upt_key key;
	char *text = NULL;
	uint8_t *copy = upt_arena_alloc(&ca->a, len ? len : 1);
	size_t tl = 0;
	bool is_tuf;
	int rc = copy ? UPT_OK : upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		memcpy(copy, data, len);
		rc = upt_json_parse(&v, &ca->a, copy, len, NULL, err);
	}
	is_tuf = rc == UPT_OK && upt_json_get(v, "scheme") != NULL;
	if (rc == UPT_OK)
		rc = upt_key_parse_dialect(&key, &ca->a, "new", v,
					   is_tuf ? UPT_DIALECT_TUF : UPT_DIALECT_AKTUALIZR,
					   upt_openssl_crypto(), err);
	if (rc == UPT_OK && is_tuf != (dialect == UPT_DIALECT_TUF)) {
		char *c2;
		rc = upt_pubkey_json(&text, &tl, &key, dialect, err);
		c2 = rc == UPT_OK ? upt_arena_alloc(&ca->a, tl + 1) : NULL;
		if (rc == UPT_OK && !c2)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		if (rc == UPT_OK) {
			memcpy(c2, text, tl + 1);
			rc = upt_json_parse(&v, &ca->a, (const uint8_t *)c2, tl, NULL, err);
		}
		upt_free(text);
	}
	if (rc == UPT_OK)
		rc = upt_key_compute_keyid(k->id, v, &ca->a, upt_openssl_crypto(), err);
	if (rc != UPT_OK)
		upt_error_prefix(err, name);
	k->obj = rc == UPT_OK ? v : NULL;
	return rc;
}
