/* uptake metadata: create the unsigned `signed` object of a role, ready for
 * `uptake sign`. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>

#include "cli.h"

static const char metadata_help[] =
    "usage: uptake metadata root --root-key PUB.json... --targets-key PUB.json...\n"
    "                            --snapshot-key PUB.json... --timestamp-key PUB.json...\n"
    "                            [--threshold ROLE=N]... [--consistent-snapshot] [COMMON]\n"
    "       uptake metadata targets [--target NAME=FILE[,hwid=H][,release-counter=C]\n"
    "                                [,ecu=SERIAL:HWID]]... [COMMON]\n"
    "       uptake metadata snapshot --meta SIGNED_TARGETS.json... [COMMON]\n"
    "       uptake metadata timestamp --meta SIGNED_SNAPSHOT.json [COMMON]\n"
    "COMMON: [--version N] [--expires ISO8601|+DAYSd] [--dialect tuf|aktualizr] [--out FILE]\n\n"
    "Writes the unsigned `signed` object (to stdout without --out). Expiry defaults:\n"
    "root and targets +365d, snapshot +7d, timestamp +1d. snapshot and timestamp record\n"
    "version, length, sha256 and sha512 of each signed file given with --meta.\n";

#define MAX_ITEMS 64

struct md_opts {
	enum upt_role role;
	int64_t version;
	int64_t expires;
	bool expires_set;
	enum upt_dialect dialect;
	const char *out;
	bool consistent_snapshot;
	const char *role_keys[4][MAX_ITEMS];
	size_t n_role_keys[4];
	int64_t threshold[4];
	const char *items[MAX_ITEMS]; /* --target or --meta */
	size_t n_items;
};

static int role_index(const char *name, size_t len)
{
	static const char *const names[4] = {"root", "targets", "snapshot", "timestamp"};
	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == len && strncmp(name, names[i], len) == 0)
			return i;
	return -1;
}

static int parse_threshold(struct md_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	int r = eq ? role_index(arg, (size_t)(eq - arg)) : -1;
	return r < 0 ? UPT_ERR_ARG : cli_parse_int(&o->threshold[r], eq + 1, 1, 1000);
}

static int add_item(const char **arr, size_t *n, const char *v)
{
	if (*n >= MAX_ITEMS)
		return UPT_ERR_TOO_LARGE;
	arr[(*n)++] = v;
	return UPT_OK;
}

static int parse_opt(struct md_opts *o, int c)
{
	switch (c) {
	case 'R':
	case 'T':
	case 'S':
	case 'M': {
		int r = c == 'R' ? 0 : c == 'T' ? 1 : c == 'S' ? 2 : 3;
		return add_item(o->role_keys[r], &o->n_role_keys[r], optarg);
	}
	case 'k':
		return parse_threshold(o, optarg);
	case 'v':
		return cli_parse_int(&o->version, optarg, 1, INT64_MAX);
	case 'e':
		o->expires_set = true;
		return cli_parse_time(&o->expires, optarg);
	case 'd':
		return cli_parse_dialect(&o->dialect, optarg);
	case 'o':
		o->out = optarg;
		return UPT_OK;
	case 'c':
		o->consistent_snapshot = true;
		return UPT_OK;
	case 't':
	case 'm':
		return add_item(o->items, &o->n_items, optarg);
	default:
		return UPT_ERR_ARG;
	}
}

static int header(struct cli_buf *b, const struct md_opts *o)
{
	static const char *const tuf[4] = {"root", "targets", "snapshot", "timestamp"};
	static const char *const akt[4] = {"Root", "Targets", "Snapshot", "Timestamp"};
	char exp[32];
	int rc = upt_time_format(exp, sizeof exp, o->expires);
	if (rc != UPT_OK)
		return rc;
	rc = cli_buf_printf(b, "{\"_type\":\"%s\",\"version\":%lld,\"expires\":\"%s\"",
			    (o->dialect == UPT_DIALECT_TUF ? tuf : akt)[o->role - 1],
			    (long long)o->version, exp);
	if (rc == UPT_OK && o->dialect == UPT_DIALECT_TUF)
		rc = cli_buf_printf(b, ",\"spec_version\":\"1.0.31\"");
	return rc;
}

/* ---- root ---------------------------------------------------------------- */

/* Load a public key file and write it in the dialect of the metadata being
 * made. */
static int load_key(struct cli_pubkey *k, struct cli_arena *ca, const char *path,
		    enum upt_dialect dialect, struct upt_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = cli_read_file(path, 1 << 20, &text, &len, err);
	if (rc == UPT_OK)
		rc = cli_pubkey_parse(k, ca, path, (const uint8_t *)text, len, dialect, err);
	upt_free(text);
	return rc;
}

static int root_keys(struct cli_buf *b, struct cli_pubkey keys[4][MAX_ITEMS],
		     const struct md_opts *o, struct upt_error *err)
{
	int rc = cli_buf_printf(b, ",\"keys\":{");
	bool first = true;
	for (int r = 0; rc == UPT_OK && r < 4; r++) {
		for (size_t i = 0; rc == UPT_OK && i < o->n_role_keys[r]; i++) {
			bool dup = false;
			for (int r2 = 0; r2 <= r; r2++)
				for (size_t j = 0; j < (r2 == r ? i : o->n_role_keys[r2]); j++)
					dup |= strcmp(keys[r2][j].id, keys[r][i].id) == 0;
			if (dup)
				continue;
			rc = cli_buf_printf(b, "%s\"%s\":", first ? "" : ",", keys[r][i].id);
			if (rc == UPT_OK)
				rc = cli_buf_put_json(b, keys[r][i].obj, err);
			first = false;
		}
	}
	return rc == UPT_OK ? cli_buf_put(b, "}", 1) : rc;
}

static int root_roles(struct cli_buf *b, struct cli_pubkey keys[4][MAX_ITEMS],
		      const struct md_opts *o)
{
	static const char *const names[4] = {"root", "targets", "snapshot", "timestamp"};
	int rc = cli_buf_printf(b, ",\"roles\":{");
	for (int r = 0; rc == UPT_OK && r < 4; r++) {
		rc = cli_buf_printf(b, "%s\"%s\":{\"keyids\":[", r ? "," : "", names[r]);
		for (size_t i = 0; rc == UPT_OK && i < o->n_role_keys[r]; i++)
			rc = cli_buf_printf(b, "%s\"%s\"", i ? "," : "", keys[r][i].id);
		if (rc == UPT_OK)
			rc = cli_buf_printf(b, "],\"threshold\":%lld}",
					    (long long)(o->threshold[r] ? o->threshold[r] : 1));
	}
	return rc == UPT_OK ? cli_buf_put(b, "}", 1) : rc;
}

static int build_root(struct cli_buf *b, struct cli_arena *ca, const struct md_opts *o,
		      struct upt_error *err)
{
	static struct cli_pubkey keys[4][MAX_ITEMS];
	int rc = UPT_OK;
	for (int r = 0; r < 4; r++)
		if (!o->n_role_keys[r])
			return upt_error_set(err, UPT_ERR_ARG, "every role needs at least one key");
	for (int r = 0; rc == UPT_OK && r < 4; r++)
		for (size_t i = 0; rc == UPT_OK && i < o->n_role_keys[r]; i++)
			rc = load_key(&keys[r][i], ca, o->role_keys[r][i], o->dialect, err);
	if (rc == UPT_OK)
		rc = header(b, o);
	if (rc == UPT_OK && o->dialect == UPT_DIALECT_TUF)
		rc = cli_buf_printf(b, ",\"consistent_snapshot\":%s",
				    o->consistent_snapshot ? "true" : "false");
	if (rc == UPT_OK)
		rc = root_keys(b, keys, o, err);
	if (rc == UPT_OK)
		rc = root_roles(b, keys, o);
	return rc == UPT_OK ? cli_buf_put(b, "}", 1) : rc;
}

/* ---- file facts: length, sha256, sha512 ----------------------------------- */

struct file_facts {
	int64_t length;
	char sha256[2 * UPT_SHA256_LEN + 1];
	char sha512[2 * UPT_SHA512_LEN + 1];
};

static int hash_file(struct file_facts *f, const char *path, struct upt_error *err)
{
	EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c512 = EVP_MD_CTX_new();
	unsigned char buf[65536], d[UPT_SHA512_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = UPT_OK;
	ssize_t n;
	f->length = 0;
	if (fd < 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot open", path);
	else if (!c256 || !c512 || !EVP_DigestInit_ex(c256, EVP_sha256(), NULL) ||
		 !EVP_DigestInit_ex(c512, EVP_sha512(), NULL))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "hashing failed");
	while (rc == UPT_OK && (n = read(fd, buf, sizeof buf)) > 0) {
		EVP_DigestUpdate(c256, buf, (size_t)n);
		EVP_DigestUpdate(c512, buf, (size_t)n);
		f->length += n;
	}
	if (rc == UPT_OK && n < 0)
		rc = upt_error_set(err, UPT_ERR_IO, "%s: read failed", path);
	if (rc == UPT_OK) {
		EVP_DigestFinal_ex(c256, d, NULL);
		upt_hex_encode(f->sha256, d, UPT_SHA256_LEN);
		EVP_DigestFinal_ex(c512, d, NULL);
		upt_hex_encode(f->sha512, d, UPT_SHA512_LEN);
	}
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c256);
	EVP_MD_CTX_free(c512);
	return rc;
}

static int put_fileinfo(struct cli_buf *b, const struct file_facts *f)
{
	return cli_buf_printf(b, "\"length\":%lld,\"hashes\":{\"sha256\":\"%s\",",
			      (long long)f->length, f->sha256) ||
	       cli_buf_printf(b, "\"sha512\":\"%s\"}", f->sha512);
}

/* ---- targets --------------------------------------------------------------- */

/* NAME=FILE[,hwid=H][,release-counter=C][,ecu=SERIAL:HWID] */
static int put_target(struct cli_buf *b, char *spec, struct upt_error *err)
{
	char *save = NULL, *name = spec, *eq = strchr(spec, '='), *file, *opt;
	struct cli_buf hw, ecus;
	struct file_facts f;
	int64_t counter = -1;
	int rc;
	if (!eq || eq == spec)
		return upt_error_set(err, UPT_ERR_ARG, "--target %s: expected NAME=FILE", spec);
	*eq = 0;
	file = strtok_r(eq + 1, ",", &save);
	cli_buf_init(&hw, 1 << 20);
	cli_buf_init(&ecus, 1 << 20);
	rc = file ? hash_file(&f, file, err) : upt_error_set(err, UPT_ERR_ARG, "no FILE");
	while (rc == UPT_OK && (opt = strtok_r(NULL, ",", &save))) {
		char *colon = strchr(opt, ':');
		if (strncmp(opt, "hwid=", 5) == 0) {
			rc = cli_buf_put(&hw, hw.len ? "," : "", hw.len ? 1 : 0);
			rc = rc ? rc : cli_buf_json_str(&hw, opt + 5);
		} else if (strncmp(opt, "release-counter=", 16) == 0) {
			rc = cli_parse_int(&counter, opt + 16, 0, INT64_MAX);
		} else if (strncmp(opt, "ecu=", 4) == 0 && colon && colon > opt + 4) {
			*colon = 0;
			rc = cli_buf_put(&ecus, ecus.len ? "," : "", ecus.len ? 1 : 0);
			rc = rc ? rc : cli_buf_json_str(&ecus, opt + 4);
			rc = rc ? rc : cli_buf_printf(&ecus, ":{\"hardwareId\":");
			rc = rc ? rc : cli_buf_json_str(&ecus, colon + 1);
			rc = rc ? rc : cli_buf_put(&ecus, "}", 1);
		} else {
			rc = upt_error_set(err, UPT_ERR_ARG, "--target: unknown option %s", opt);
		}
	}
	rc = rc ? rc : cli_buf_json_str(b, name);
	rc = rc ? rc : cli_buf_put(b, ":{", 2);
	rc = rc ? rc : put_fileinfo(b, &f);
	rc = rc ? rc : cli_buf_printf(b, ",\"custom\":{\"hardwareIds\":[%s]", hw.p ? hw.p : "");
	if (rc == UPT_OK && counter >= 0)
		rc = cli_buf_printf(b, ",\"releaseCounter\":%lld", (long long)counter);
	if (rc == UPT_OK && ecus.len)
		rc = cli_buf_printf(b, ",\"ecuIdentifiers\":{%s}", ecus.p);
	rc = rc ? rc : cli_buf_put(b, "}}", 2);
	cli_buf_free(&hw);
	cli_buf_free(&ecus);
	return rc;
}

static int build_targets(struct cli_buf *b, const struct md_opts *o, struct upt_error *err)
{
	int rc = header(b, o);
	rc = rc ? rc : cli_buf_printf(b, ",\"targets\":{");
	for (size_t i = 0; rc == UPT_OK && i < o->n_items; i++) {
		char *spec = strdup(o->items[i]);
		if (!spec)
			return UPT_ERR_NOMEM;
		rc = i ? cli_buf_put(b, ",", 1) : UPT_OK;
		rc = rc ? rc : put_target(b, spec, err);
		free(spec);
	}
	return rc ? rc : cli_buf_put(b, "}}", 2);
}

/* ---- snapshot and timestamp ------------------------------------------------ */

static int put_meta(struct cli_buf *b, struct cli_arena *ca, const char *path,
		    struct upt_error *err)
{
	struct upt_doc doc;
	struct file_facts f;
	const struct upt_json *version;
	char *copy = strdup(path);
	int rc = copy ? cli_load_doc(&doc, ca, path, err) : UPT_ERR_NOMEM;
	if (rc == UPT_OK) {
		version = upt_json_get(doc.signed_json, "version");
		if (!version || version->type != UPT_JSON_INT || version->i < 1)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: no valid version", path);
	}
	rc = rc ? rc : hash_file(&f, path, err);
	rc = rc ? rc : cli_buf_json_str(b, basename(copy));
	rc = rc ? rc : cli_buf_printf(b, ":{\"version\":%lld,", (long long)version->i);
	rc = rc ? rc : put_fileinfo(b, &f);
	rc = rc ? rc : cli_buf_put(b, "}", 1);
	free(copy);
	return rc;
}

static int build_meta(struct cli_buf *b, struct cli_arena *ca, const struct md_opts *o,
		      struct upt_error *err)
{
	int rc = header(b, o);
	if (o->role == UPT_ROLE_TIMESTAMP && o->n_items != 1)
		return upt_error_set(err, UPT_ERR_ARG, "timestamp needs exactly one --meta");
	rc = rc ? rc : cli_buf_printf(b, ",\"meta\":{");
	for (size_t i = 0; rc == UPT_OK && i < o->n_items; i++) {
		rc = i ? cli_buf_put(b, ",", 1) : UPT_OK;
		rc = rc ? rc : put_meta(b, ca, o->items[i], err);
	}
	return rc ? rc : cli_buf_put(b, "}}", 2);
}

/* ---- output --------------------------------------------------------------- */

/* Re-parse what was built with the role's own parser, then write it sorted
 * and compact. */
static int emit(const struct cli_buf *b, struct cli_arena *ca, const struct md_opts *o,
		struct upt_error *err)
{
	struct cli_buf wrapped;
	struct upt_doc doc;
	int rc;
	cli_buf_init(&wrapped, CLI_MAX_FILE);
	rc = cli_buf_printf(&wrapped, "{\"signatures\":[],\"signed\":");
	rc = rc ? rc : cli_buf_put(&wrapped, b->p, b->len);
	rc = rc ? rc : cli_buf_put(&wrapped, "}", 1);
	rc = rc ? rc
		: upt_doc_parse(&doc, &ca->a, (const uint8_t *)wrapped.p, wrapped.len, 0, "output",
				err);
	rc = rc ? rc : cli_parse_role(ca, &doc, o->role, err);
	rc = rc ? rc : cli_write_json(o->out ? o->out : "-", doc.signed_json, err);
	cli_buf_free(&wrapped);
	return rc;
}

static int parse_args(struct md_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {{"root-key", required_argument, NULL, 'R'},
					     {"targets-key", required_argument, NULL, 'T'},
					     {"snapshot-key", required_argument, NULL, 'S'},
					     {"timestamp-key", required_argument, NULL, 'M'},
					     {"threshold", required_argument, NULL, 'k'},
					     {"version", required_argument, NULL, 'v'},
					     {"expires", required_argument, NULL, 'e'},
					     {"dialect", required_argument, NULL, 'd'},
					     {"out", required_argument, NULL, 'o'},
					     {"consistent-snapshot", no_argument, NULL, 'c'},
					     {"target", required_argument, NULL, 't'},
					     {"meta", required_argument, NULL, 'm'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (parse_opt(o, c) != UPT_OK)
			return -1;
	}
	return optind == argc ? 0 : -1;
}

int cmd_metadata(int argc, char **argv)
{
	static const int64_t default_days[4] = {365, 365, 7, 1};
	static struct md_opts o;
	struct cli_arena ca;
	struct cli_buf b;
	struct upt_error err;
	int rc, r = argc >= 2 ? role_index(argv[1], strlen(argv[1])) : -1;
	if (r < 0) {
		bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
		fputs(metadata_help, help ? stdout : stderr);
		return help ? CLI_OK : CLI_USAGE;
	}
	o.role = (enum upt_role)(r + 1);
	o.version = 1;
	o.dialect = UPT_DIALECT_TUF;
	rc = parse_args(&o, argc - 1, argv + 1);
	if (rc != 0) {
		fputs(metadata_help, rc > 0 ? stdout : stderr);
		return rc > 0 ? CLI_OK : CLI_USAGE;
	}
	if (!o.expires_set)
		o.expires = (int64_t)time(NULL) + default_days[r] * 86400;
	if (cli_arena_init(&ca, CLI_ARENA_SIZE) != UPT_OK)
		return CLI_INTERNAL;
	cli_buf_init(&b, CLI_MAX_FILE);
	upt_error_clear(&err);
	rc = o.role == UPT_ROLE_ROOT      ? build_root(&b, &ca, &o, &err)
	     : o.role == UPT_ROLE_TARGETS ? build_targets(&b, &o, &err)
					  : build_meta(&b, &ca, &o, &err);
	rc = rc ? rc : emit(&b, &ca, &o, &err);
	cli_buf_free(&b);
	cli_arena_dispose(&ca);
	if (rc != UPT_OK) {
		cli_err("metadata", "%s", err.msg[0] ? err.msg : upt_err_name(rc));
		return rc == UPT_ERR_ARG ? CLI_USAGE : CLI_INPUT;
	}
	return CLI_OK;
}
