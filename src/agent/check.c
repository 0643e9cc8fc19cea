/* uptake-agent check: one Uptane full verification for one ECU, without
 * installing, for operators and conformance drivers.
 *
 *   uptake-agent check --director URL --image-repo URL --ecu SERIAL
 *       --hardware-id HW --metadata-dir DIR [--director-root FILE
 *       --image-root FILE] [--download DIR] [--ca FILE] [--cert FILE
 *       --key FILE] [--json]
 *
 * The trusted metadata lives in DIR/director and DIR/image between calls
 * (the roots given are copied there on the first call only), so a
 * sequence of calls follows root rotations and catches rollbacks. Exit 0
 * when the assignment verifies (and, with --download, the image matches
 * the signed length and hashes), 1 when it does not, 2 for a usage error.
 * The error's code and message go to stderr, or with --json a line on
 * stdout: {"code":...,"message":...,"ok":false,"repository":...,"role":...}. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "../host/host.h"
#include "agent.h"

#define CHECK_ARENA ((size_t)64 << 20)

static const char check_usage[] =
    "usage: uptake-agent check --director URL --image-repo URL --ecu SERIAL\n"
    "         --hardware-id HW --metadata-dir DIR [--director-root FILE --image-root FILE]\n"
    "         [--download DIR] [--ca FILE] [--cert FILE --key FILE] [--json]\n\n"
    "One Uptane full verification of what the Director assigns ECU SERIAL, nothing\n"
    "installed. DIR keeps the trusted metadata between calls; the roots are needed\n"
    "on the first. Exit 0 verified (and downloaded), 1 refused, 2 usage.\n";

struct check_opts {
	const char *director, *image_repo, *ecu, *hardware_id, *dir;
	const char *director_root, *image_root, *download;
	const char *ca, *cert, *key;
	bool json;
};

/* What failed: the code, the message, and where (from the message's
 * "<repository> <role>.json:" prefix, as libuptake names its inputs). */
struct check_result {
	bool ok;
	struct upt_error err;
	const char *repository; /* "director", "image" or NULL */
	char role[64];
	const struct upt_target *target;
	char downloaded[AGENT_PATH + 300];
};

static void locate(struct check_result *r)
{
	const char *m = r->err.msg, *p, *end;
	size_t n;
	if (strncmp(m, "director ", 9) == 0) {
		r->repository = "director";
		p = m + 9;
	} else if (strncmp(m, "image repository ", 17) == 0) {
		r->repository = "image";
		p = m + 17;
	} else {
		return;
	}
	/* "[N.]ROLE.json" */
	{
		const char *q = p;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p && *q != '.')
			return;
		p = q > p ? q + 1 : p;
	}
	if (!(end = strstr(p, ".json")) || (n = (size_t)(end - p)) == 0 || n >= sizeof r->role ||
	    memchr(p, ' ', n) || memchr(p, ':', n))
		return;
	memcpy(r->role, p, n);
	r->role[n] = 0;
}

/* ---- output: a JSON line (json_out.c) ------------------------------------ */

/* Messages carry text from outside: only printable ASCII goes out. */
static void ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static int print_json(struct check_result *r, const char *ecu)
{
	struct upt_json items[8], *ptrs[8], obj;
	char sha[65] = "", name[300] = "", *text = NULL;
	size_t n = 0;
	struct upt_error e;
	if (r->target) {
		snprintf(name, sizeof name, "%s", r->target->name);
		ascii(name);
		if (r->target->hashes.has_sha256)
			upt_hex_encode(sha, r->target->hashes.sha256, UPT_SHA256_LEN);
	}
	/* keys in bytewise order, as the writer expects of an object */
	if (r->ok) {
		if (r->downloaded[0])
			ptrs[n] = agent_json_str(&items[n], "downloaded", r->downloaded), n++;
		ptrs[n] = agent_json_str(&items[n], "ecu", ecu), n++;
		if (r->target)
			ptrs[n] = agent_json_int(&items[n], "length", r->target->length), n++;
		ptrs[n] = agent_json_bool(&items[n], "ok", true), n++;
		if (r->target && sha[0])
			ptrs[n] = agent_json_str(&items[n], "sha256", sha), n++;
		ptrs[n] = agent_json_str(&items[n], "target", r->target ? name : NULL), n++;
	} else {
		ascii(r->err.msg);
		ptrs[n] = agent_json_str(&items[n], "code", upt_err_name(r->err.code)), n++;
		ptrs[n] = agent_json_str(&items[n], "message", r->err.msg), n++;
		ptrs[n] = agent_json_bool(&items[n], "ok", false), n++;
		ptrs[n] = agent_json_str(&items[n], "repository", r->repository), n++;
		ptrs[n] = agent_json_str(&items[n], "role", r->role[0] ? r->role : NULL), n++;
		if (r->target)
			ptrs[n] = agent_json_str(&items[n], "target", name), n++;
	}
	if (agent_json_text(&text, agent_json_obj(&obj, NULL, ptrs, n), &e) != UPT_OK) {
		fprintf(stderr, "uptake-agent check: %s\n", e.msg);
		return -1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static void print_plain(const struct check_result *r, const char *ecu)
{
	char sha[65] = "";
	if (!r->ok) {
		fprintf(stderr, "uptake-agent check: %s: %s\n", upt_err_name(r->err.code),
			r->err.msg);
		return;
	}
	if (!r->target) {
		printf("ok: the Director assigns ECU %s nothing new\n", ecu);
		return;
	}
	if (r->target->hashes.has_sha256)
		upt_hex_encode(sha, r->target->hashes.sha256, UPT_SHA256_LEN);
	printf("ok: ECU %s: %s (%lld bytes, sha256 %s) verified%s%s\n", ecu, r->target->name,
	       (long long)r->target->length, sha, r->downloaded[0] ? ", downloaded to " : "",
	       r->downloaded);
}

/* ---- the check ---------------------------------------------------------- */

static int parse_opts(struct check_opts *o, int argc, char **argv)
{
	static const struct option longs[] = {{"director", required_argument, NULL, 'D'},
					      {"image-repo", required_argument, NULL, 'I'},
					      {"ecu", required_argument, NULL, 'e'},
					      {"hardware-id", required_argument, NULL, 'w'},
					      {"metadata-dir", required_argument, NULL, 'm'},
					      {"director-root", required_argument, NULL, 'R'},
					      {"image-root", required_argument, NULL, 'r'},
					      {"download", required_argument, NULL, 'd'},
					      {"ca", required_argument, NULL, 'a'},
					      {"cert", required_argument, NULL, 'c'},
					      {"key", required_argument, NULL, 'k'},
					      {"json", no_argument, NULL, 'j'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	int ch;
	memset(o, 0, sizeof *o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'D':
			o->director = optarg;
			break;
		case 'I':
			o->image_repo = optarg;
			break;
		case 'e':
			o->ecu = optarg;
			break;
		case 'w':
			o->hardware_id = optarg;
			break;
		case 'm':
			o->dir = optarg;
			break;
		case 'R':
			o->director_root = optarg;
			break;
		case 'r':
			o->image_root = optarg;
			break;
		case 'd':
			o->download = optarg;
			break;
		case 'a':
			o->ca = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc || !o->director || !o->image_repo || !o->ecu || !o->hardware_id ||
	    !o->dir || !o->cert != !o->key)
		return -1;
	return 0;
}

/* DIR/NAME/root.json: kept when there, else copied from `from`. */
static int trust_root(const char *dir, const char *name, const char *from, struct upt_error *err)
{
	char sub[AGENT_PATH + 32], path[AGENT_PATH + 64];
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;
	snprintf(sub, sizeof sub, "%s/%s", dir, name);
	snprintf(path, sizeof path, "%s/root.json", sub);
	rc = host_mkdirs(sub, err);
	if (rc != UPT_OK || access(path, F_OK) == 0)
		return rc;
	if (!from)
		return upt_error_set(err, UPT_ERR_NOT_FOUND,
				     "%s: no trusted %s root yet: give --%s-root", sub, name, name);
	rc = host_read_file(from, UPT_DEFAULT_ROOT_MAX, &data, &len, err);
	if (rc == UPT_OK)
		rc = host_write_file(path, data, len, err);
	free(data);
	return rc;
}

/* The verified image, fetched into the download directory (named by its
 * quoted name: never a path outside it), kept only when it matches. */
static int download(const struct check_opts *o, struct check_result *r)
{
	char q[1024], url[2048];
	const char *sep = o->image_repo[strlen(o->image_repo) - 1] == '/' ? "" : "/";
	int rc;
	if (host_url_quote(q, sizeof q, r->target->name, false) != UPT_OK)
		return upt_error_set(&r->err, UPT_ERR_TOO_LARGE, "%s: name too long",
				     r->target->name);
	rc = host_mkdirs(o->download, &r->err);
	if (rc != UPT_OK)
		return rc;
	snprintf(r->downloaded, sizeof r->downloaded, "%s/%s", o->download, q);
	host_url_quote(q, sizeof q, r->target->name, true);
	snprintf(url, sizeof url, "%s%stargets/%s", o->image_repo, sep, q);
	rc = host_http_get_verified(url, r->downloaded, r->target->length, &r->target->hashes,
				    &r->err);
	if (rc != UPT_OK) {
		r->downloaded[0] = 0;
		r->repository = "image";
		snprintf(r->role, sizeof r->role, "targets");
	}
	return rc;
}

static int verify(const struct check_opts *o, struct check_result *r, void *dm, void *im)
{
	struct host_repo_io dh = {o->director, NULL, 0}, ih = {o->image_repo, NULL, 0};
	char ddir[AGENT_PATH + 32], idir[AGENT_PATH + 32];
	struct upt_repo_io dio, iio;
	struct upt_repo dr, ir;
	struct upt_arena da, ia;
	struct upt_ecu ecu = {0};
	struct upt_device dev = {&ecu, 1};
	struct upt_verified v;
	int rc;
	snprintf(ddir, sizeof ddir, "%s/director", o->dir);
	snprintf(idir, sizeof idir, "%s/image", o->dir);
	dh.dir = ddir;
	ih.dir = idir;
	host_repo_io(&dio, &dh);
	host_repo_io(&iio, &ih);
	upt_arena_init(&da, dm, CHECK_ARENA);
	upt_arena_init(&ia, im, CHECK_ARENA);
	upt_repo_init(&dr, "director", &dio, upt_openssl_crypto(), &da, NULL);
	upt_repo_init(&ir, "image repository", &iio, upt_openssl_crypto(), &ia, NULL);
	ecu.serial = o->ecu;
	ecu.hardware_id = o->hardware_id;
	rc = upt_uptane_full_verify(&dr, &ir, &dev, (int64_t)time(NULL), &v, &r->err);
	if (rc != UPT_OK)
		return rc;
	for (size_t i = 0; i < v.n_updates; i++)
		if (v.updates[i].ecu == 0)
			r->target = v.updates[i].image;
	if (r->target && o->download)
		rc = download(o, r);
	return rc;
}

int agent_check_main(int argc, char **argv)
{
	struct check_opts o;
	struct check_result r;
	void *dm = NULL, *im = NULL;
	int rc = parse_opts(&o, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : (fputs(check_usage, stderr), 2);
	memset(&r, 0, sizeof r);
	rc = host_init(&r.err);
	if (rc == UPT_OK) {
		host_set_tls(o.ca, o.cert, o.key);
		host_set_deadline(60, 4096);
		rc = trust_root(o.dir, "director", o.director_root, &r.err);
	}
	if (rc == UPT_OK)
		rc = trust_root(o.dir, "image", o.image_root, &r.err);
	if (rc == UPT_OK && (!(dm = malloc(CHECK_ARENA)) || !(im = malloc(CHECK_ARENA))))
		rc = upt_error_set(&r.err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK)
		rc = verify(&o, &r, dm, im);
	r.ok = rc == UPT_OK;
	if (!r.ok && !r.repository)
		locate(&r);
	if (o.json ? print_json(&r, o.ecu) != 0 : (print_plain(&r, o.ecu), false))
		rc = UPT_ERR_NOMEM;
	/* the target points into the arenas: printed before they go */
	free(dm);
	free(im);
	return rc == UPT_OK ? 0 : 1;
}
