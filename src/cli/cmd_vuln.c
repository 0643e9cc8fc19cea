/* uptake vuln: vulnerability records on the server: import OSV records
 * (a file or a directory of them), show one with what it affects, mark
 * one actively exploited. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uptake/alloc.h>
#include <uptake/json.h>
#include <zip.h>

#include "../host/host.h"
#include "workspace.h"

#define VULN_FILE_MAX   ((size_t)8 * 1024 * 1024)
#define VULN_IMPORT_MAX ((size_t)16 * 1024 * 1024)
#define VULN_MAX_FILES  100000

static const char usage[] =
    "usage: uptake vuln import PATH [--dir DIR]\n"
    "       uptake vuln show ID [--json] [--dir DIR]\n"
    "       uptake vuln rematch [--dir DIR]\n"
    "       uptake vuln exploited ID --aware-at TIME [--dir DIR]\n"
    "       uptake vuln vex FILE [--dir DIR]\n"
    "       uptake vuln reported ID --stage early|notification|final [--at TIME] [--dir DIR]\n\n"
    "import: vulnerability records from PATH: OSV JSON (a file of one record or\n"
    "an array of them, a directory of *.json files, or a zip of a per-ecosystem\n"
    "OSV export such as all.zip) or NVD CVE JSON 2.0 (an NVD API answer or feed\n"
    "file, matched by CPE); the server checks every record and stores\n"
    "them all in one transaction, or none (a bad record is named with its\n"
    "field). Prints the records taken and skipped (withdrawn, no package uptake\n"
    "can match; GIT ranges are skipped and counted).\n"
    "rematch: recompute every matching row (record x SBOM) from scratch; the\n"
    "server otherwise keeps them current as records and SBOMs arrive.\n"
    "show: a record, the images whose SBOMs it hits, the devices whose signed\n"
    "reports say they run them, and the first release that fixes it.\n"
    "exploited: the manufacturer became aware at TIME (ISO 8601 or now) that ID\n"
    "is actively exploited: the release gate (uptake publish --gate) refuses\n"
    "images it affects.\n"
    "vex: a CSAF 2.0 VEX document: its known_not_affected (with a justification)\n"
    "and fixed statements about published targets (by product name) or\n"
    "components (by purl) replace that document's earlier ones; matching and the\n"
    "gate honour them. A product that is neither is refused.\n"
    "reported: the CRA Art. 14 report of STAGE about ID was made at TIME\n"
    "(default now); see uptake report art14.\n"
    "Exit 0 ok, 2 usage, 3 input or server refusal.\n";

/* One file's JSON: checked here (one value), sent as it is. */
static int add_text(struct cli_buf *body, const char *path, const char *text, size_t len, size_t *n,
		    struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	int rc = cli_arena_init(&ca, 32 * len + 65536);
	if (rc == UPT_OK &&
	    (rc = upt_json_parse(&v, &ca.a, (const uint8_t *)text, len, NULL, err)) != UPT_OK)
		upt_error_prefix(err, path);
	if (rc == UPT_OK && v->type != UPT_JSON_OBJECT && v->type != UPT_JSON_ARRAY)
		rc = upt_error_set(err, UPT_ERR_FIELD_TYPE,
				   "%s: neither an OSV record nor an array of them", path);
	if (rc == UPT_OK) {
		rc = cli_buf_printf(body, "%s{\"source\":", *n ? "," : "");
		rc = rc ? rc : cli_buf_json_str(body, path);
		rc = rc ? rc : cli_buf_printf(body, ",\"record\":");
		rc = rc ? rc : cli_buf_put(body, text, len);
		rc = rc ? rc : cli_buf_printf(body, "}");
		if (rc != UPT_OK)
			rc = upt_error_set(err, UPT_ERR_TOO_LARGE,
					   "import: more than %zu bytes of records at once",
					   VULN_IMPORT_MAX);
		*n += v->type == UPT_JSON_ARRAY ? v->n : 1;
	}
	cli_arena_dispose(&ca);
	return rc;
}

static int add_file(struct cli_buf *body, const char *path, size_t *n, struct upt_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = cli_read_file(path, VULN_FILE_MAX, &text, &len, err);
	if (rc == UPT_OK)
		rc = add_text(body, path, text, len, n, err);
	upt_free(text);
	return rc;
}

/* A per-ecosystem OSV export (all.zip): every entry a *.json record, read
 * into memory (nothing is extracted to disk). Refused: more than
 * VULN_MAX_FILES entries, an entry larger than VULN_FILE_MAX or a total
 * larger than VULN_IMPORT_MAX (as the archive declares them, and as read:
 * libzip checks each entry's size and CRC), encrypted entries, compression
 * other than stored or deflated, symbolic links, entries that are not
 * *.json files, and archives libzip finds inconsistent. */
static int add_zip(struct cli_buf *body, const char *path, size_t *n, struct upt_error *err)
{
	int zerr = 0, rc = UPT_OK;
	zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	zip_int64_t entries;
	uint64_t total = 0;
	char *buf = NULL;
	if (!z) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "%s: not a zip archive libzip can read: %s", path,
				   zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return rc;
	}
	entries = zip_get_num_entries(z, 0);
	if (entries < 0 || entries > VULN_MAX_FILES)
		rc = upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %d entries", path,
				   VULN_MAX_FILES);
	if (rc == UPT_OK && !(buf = malloc(VULN_FILE_MAX + 1)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (zip_int64_t i = 0; rc == UPT_OK && i < entries; i++) {
		zip_stat_t st;
		zip_uint8_t opsys = 0;
		zip_uint32_t attr = 0;
		zip_file_t *f;
		zip_int64_t got;
		size_t l;
		char where[600];
		zip_stat_init(&st);
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 ||
		    !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE)) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: entry %lld: unreadable",
					   path, (long long)i);
			break;
		}
		snprintf(where, sizeof where, "%.200s:%.300s", path, st.name);
		l = strlen(st.name);
		if (l && st.name[l - 1] == '/' && st.size == 0)
			continue; /* a directory */
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
			rc = upt_error_set(err, UPT_ERR_UNSUPPORTED, "%s: encrypted", where);
		else if (!(st.valid & ZIP_STAT_COMP_METHOD) ||
			 (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE))
			rc = upt_error_set(err, UPT_ERR_UNSUPPORTED,
					   "%s: compressed other than stored or deflated", where);
		else if (zip_file_get_external_attributes(z, (zip_uint64_t)i, 0, &opsys, &attr) ==
			     0 &&
			 opsys == ZIP_OPSYS_UNIX && ((attr >> 16) & 0170000) != 0 &&
			 ((attr >> 16) & 0170000) != 0100000)
			rc = upt_error_set(err, UPT_ERR_UNSUPPORTED, "%s: not a regular file",
					   where);
		else if (l < 6 || strcmp(st.name + l - 5, ".json") != 0)
			rc = upt_error_set(
			    err, UPT_ERR_FIELD_VALUE,
			    "%s: not a *.json record (an OSV export holds only those)", where);
		else if (st.size > VULN_FILE_MAX)
			rc = upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %zu bytes", where,
					   VULN_FILE_MAX);
		else if ((total += st.size) > VULN_IMPORT_MAX)
			rc = upt_error_set(err, UPT_ERR_TOO_LARGE,
					   "%s: the entries hold more than %zu bytes", path,
					   VULN_IMPORT_MAX);
		if (rc != UPT_OK)
			break;
		if (!(f = zip_fopen_index(z, (zip_uint64_t)i, 0))) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: %s", where,
					   zip_strerror(z));
			break;
		}
		/* read at most the declared size and one byte more */
		got = zip_fread(f, buf, st.size + 1);
		if (got < 0 || (zip_uint64_t)got != st.size)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "%s: its data is not the %llu bytes it declares (%s)",
					   where, (unsigned long long)st.size,
					   got < 0 ? zip_file_strerror(f) : "size");
		zip_fclose(f);
		if (rc == UPT_OK)
			rc = add_text(body, where, buf, (size_t)got, n, err);
	}
	free(buf);
	zip_discard(z);
	return rc;
}

/* Whether PATH starts like a zip archive (a local file header). */
static bool is_zip(const char *path)
{
	unsigned char m[4] = {0};
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(m, 1, 4, f) : 0;
	if (f)
		fclose(f);
	return got == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct cli_buf *body, const char *path, size_t *n, struct upt_error *err)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int rc = UPT_OK;
	if (!d)
		return upt_error_set(err, UPT_ERR_IO, "%s: cannot open the directory", path);
	while (rc == UPT_OK && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if (nn == VULN_MAX_FILES)
			rc = upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: more than %d files", path,
					   VULN_MAX_FILES);
		else if (nn == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *more);
			if (!more)
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else
				names = more;
		}
		if (rc == UPT_OK) {
			size_t pl = strlen(path) + l + 2;
			if (!(names[nn] = malloc(pl)))
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else
				snprintf(names[nn++], pl, "%s/%s", path, e->d_name);
		}
	}
	closedir(d);
	if (names)
		qsort(names, nn, sizeof *names, by_name);
	for (size_t i = 0; rc == UPT_OK && i < nn; i++)
		rc = add_file(body, names[i], n, err);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return rc;
}

static long long num(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_INT ? (long long)v->i : -1;
}

static const char *str(const struct upt_json *o, const char *k)
{
	const struct upt_json *v = upt_json_get(o, k);
	return v && v->type == UPT_JSON_STRING ? v->str : "";
}

static int print_import(const char *json, struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	int rc = cli_arena_init(&ca, 16 * strlen(json) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	if (rc == UPT_OK) {
		const struct upt_json *sk = upt_json_get(v, "skipped");
		printf(
		    "imported %lld of %lld records; skipped: %lld withdrawn, %lld with no package "
		    "uptake can match; %lld GIT ranges skipped\n",
		    num(v, "taken"), num(v, "records"), num(sk, "withdrawn"),
		    num(sk, "no_matchable_package"), num(v, "git_ranges_skipped"));
		printf("matching rows updated: %lld\n", num(v, "match_rows"));
		if (num(v, "nvd_records") > 0)
			printf("NVD records: %lld; cpeMatch platform conditions (evaluated "
			       "per SBOM): %lld\n",
			       num(v, "nvd_records"), num(v, "nvd_platform_conditions"));
	}
	cli_arena_dispose(&ca);
	return rc;
}

static int print_vex(const char *json, struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	int rc = cli_arena_init(&ca, 16 * strlen(json) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	if (rc == UPT_OK)
		printf("vex %s: %lld statements (known_not_affected, fixed); %lld product "
		       "statuses of other kinds ignored\n",
		       str(v, "document"), num(v, "statements"), num(v, "other_statuses_ignored"));
	cli_arena_dispose(&ca);
	return rc;
}

static int print_show(const char *json, struct upt_error *err)
{
	struct cli_arena ca = {0};
	struct upt_json *v;
	const struct upt_json *im, *dv, *fx;
	char when[32];
	int rc = cli_arena_init(&ca, 16 * strlen(json) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)json, strlen(json), NULL, err);
	if (rc != UPT_OK)
		goto done;
	im = upt_json_get(v, "images");
	dv = upt_json_get(v, "affected_devices");
	fx = upt_json_get(v, "fixed_in");
	printf("%s%s%s%s\n", str(v, "id"), str(v, "severity")[0] ? " (" : "", str(v, "severity"),
	       str(v, "severity")[0] ? ")" : "");
	if (str(v, "summary")[0])
		printf("  %s\n", str(v, "summary"));
	if (num(v, "exploited_at") > 0 &&
	    upt_time_format(when, sizeof when, num(v, "exploited_at")) == UPT_OK)
		printf("  actively exploited: aware since %s\n", when);
	if (upt_json_get(v, "withdrawn") && upt_json_get(v, "withdrawn")->type == UPT_JSON_TRUE)
		printf("  withdrawn\n");
	for (size_t i = 0; im && im->type == UPT_JSON_ARRAY && i < im->n; i++) {
		const struct upt_json *cs = upt_json_get(im->items[i], "components");
		printf("  image %s (sha256 %.16s...):", str(im->items[i], "target"),
		       str(im->items[i], "sha256"));
		for (size_t k = 0; cs && cs->type == UPT_JSON_ARRAY && k < cs->n; k++)
			printf(" %s@%s", str(cs->items[k], "name"), str(cs->items[k], "version"));
		printf("\n");
	}
	printf("  devices running an affected image: %lld (%lld in support)\n", num(v, "devices"),
	       num(v, "devices_in_support"));
	for (size_t i = 0; dv && dv->type == UPT_JSON_ARRAY && i < dv->n; i++)
		printf("    %s\n", dv->items[i]->type == UPT_JSON_STRING ? dv->items[i]->str : "?");
	if (fx && fx->type == UPT_JSON_OBJECT)
		printf("  fixed in %s\n", str(fx, "target"));
	else
		printf("  no published release fixes it yet\n");
done:
	cli_arena_dispose(&ca);
	return rc;
}

static int rematch(const char *dir)
{
	struct ws w;
	struct upt_error err = {0};
	struct cli_arena ca = {0};
	struct upt_json *v;
	char *resp = NULL;
	int rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, "POST", "vulns/rematch", "application/json", "{}", 2, NULL, false,
			     &resp, &err);
	if (rc == UPT_OK)
		rc = cli_arena_init(&ca, 16 * strlen(resp) + 65536);
	if (rc == UPT_OK)
		rc = upt_json_parse(&v, &ca.a, (const uint8_t *)resp, strlen(resp), NULL, &err);
	if (rc == UPT_OK)
		printf("rematched %lld SBOMs against %lld records: %lld matching rows\n",
		       num(v, "sboms"), num(v, "records"), num(v, "match_rows"));
	cli_arena_dispose(&ca);
	free(resp);
	if (rc != UPT_OK) {
		cli_err("vuln", "%s", err.msg);
		return cli_input_exit_code(rc);
	}
	return CLI_OK;
}

int cmd_vuln(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"json", no_argument, NULL, 'j'},
					      {"aware-at", required_argument, NULL, 'a'},
					      {"stage", required_argument, NULL, 's'},
					      {"at", required_argument, NULL, 't'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *sub, *arg, *aware = NULL, *stage = NULL, *when = NULL;
	bool json = false;
	int64_t at = 0;
	struct ws w;
	struct upt_error err = {0};
	struct cli_buf body;
	char api[600], qid[400], *resp = NULL;
	size_t n = 0;
	struct stat st;
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'a')
			aware = optarg;
		else if (c == 's')
			stage = optarg;
		else if (c == 't')
			when = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), CLI_OK;
		else
			return fputs(usage, stderr), CLI_USAGE;
	}
	if (optind == argc - 1 && strcmp(argv[optind], "rematch") == 0 && !json && !aware &&
	    !stage && !when)
		return rematch(dir);
	if (optind != argc - 2)
		return fputs(usage, stderr), CLI_USAGE;
	sub = argv[optind];
	arg = argv[optind + 1];
	if ((stage || when) && strcmp(sub, "reported") != 0)
		return fputs(usage, stderr), CLI_USAGE;
	if (strcmp(sub, "reported") == 0 &&
	    (json || aware || !stage ||
	     (strcmp(stage, "early") && strcmp(stage, "notification") && strcmp(stage, "final")) ||
	     cli_parse_time(&at, when ? when : "now") != UPT_OK))
		return fputs(usage, stderr), CLI_USAGE;
	if (strcmp(sub, "reported") == 0)
		;
	else if (strcmp(sub, "import") == 0 || strcmp(sub, "vex") == 0 ? json || aware
		 : strcmp(sub, "show") == 0                            ? aware != NULL
		 : strcmp(sub, "exploited") == 0
		     ? json || !aware || cli_parse_time(&at, aware) != UPT_OK
		     : true)
		return fputs(usage, stderr), CLI_USAGE;
	if (strcmp(sub, "import") != 0 && strcmp(sub, "vex") != 0 &&
	    host_url_quote(qid, sizeof qid, arg, false) != UPT_OK)
		return fputs(usage, stderr), CLI_USAGE;
	cli_buf_init(&body, VULN_IMPORT_MAX);
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK && strcmp(sub, "import") == 0) {
		rc = cli_buf_printf(&body, "{\"records\":[");
		if (rc == UPT_OK && stat(arg, &st) != 0)
			rc = upt_error_set(&err, UPT_ERR_IO, "%s: no such file or directory", arg);
		else if (rc == UPT_OK)
			rc = S_ISDIR(st.st_mode) ? add_dir(&body, arg, &n, &err)
			     : is_zip(arg)       ? add_zip(&body, arg, &n, &err)
						 : add_file(&body, arg, &n, &err);
		rc = rc ? rc : cli_buf_printf(&body, "]}");
		if (rc == UPT_OK)
			rc = ws_http(&w, "POST", "vulns/import", "application/json", body.p,
				     body.len, NULL, false, &resp, &err);
		if (rc == UPT_OK)
			rc = print_import(resp, &err);
	} else if (rc == UPT_OK && strcmp(sub, "vex") == 0) {
		char *doc = NULL;
		size_t len = 0;
		rc = cli_read_file(arg, VULN_IMPORT_MAX, &doc, &len, &err);
		if (rc == UPT_OK)
			rc = ws_http(&w, "POST", "vex", "application/json", doc, len, NULL, false,
				     &resp, &err);
		upt_free(doc);
		if (rc == UPT_OK)
			rc = print_vex(resp, &err);
	} else if (rc == UPT_OK && strcmp(sub, "reported") == 0) {
		rc = cli_buf_printf(&body, "{\"stage\":\"%s\",\"at\":%lld}", stage, (long long)at);
		snprintf(api, sizeof api, "vulns/%s/reported", qid);
		if (rc == UPT_OK)
			rc = ws_http(&w, "POST", api, "application/json", body.p, body.len, NULL,
				     false, &resp, &err);
		if (rc == UPT_OK)
			printf("%s: Art. 14 %s report recorded\n", arg, stage);
	} else if (rc == UPT_OK && strcmp(sub, "show") == 0) {
		snprintf(api, sizeof api, "vulns/%s", qid);
		rc = ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
		if (rc == UPT_OK && json)
			fputs(resp, stdout);
		else if (rc == UPT_OK)
			rc = print_show(resp, &err);
	} else if (rc == UPT_OK) {
		rc = cli_buf_printf(&body, "{\"aware_at\":%lld}", (long long)at);
		snprintf(api, sizeof api, "vulns/%s/exploited", qid);
		if (rc == UPT_OK)
			rc = ws_http(&w, "POST", api, "application/json", body.p, body.len, NULL,
				     false, &resp, &err);
		if (rc == UPT_OK)
			printf("%s: marked actively exploited\n", arg);
	}
	cli_buf_free(&body);
	free(resp);
	if (rc != UPT_OK) {
		cli_err("vuln", "%s", err.msg);
		return cli_input_exit_code(rc);
	}
	return CLI_OK;
}
