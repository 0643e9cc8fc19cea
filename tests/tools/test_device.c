/* A test device for uptake-server's integration tests: a primary built on
 * libuptake that registers its ECUs, runs Uptane full verification against
 * the server's Director and Image repository over mutual TLS, downloads
 * what it is assigned (verified), and sends signed version manifests.
 * Installing is recording the image as installed (no slots: that is the
 * agent's job).
 *
 *   test_device --dir D --server URL --ca CA --cert CERT --key KEY COMMAND
 *     init --root-director FILE --root-image FILE --ecu SERIAL:HWID...
 *     update     verify and install what is assigned; prints each install
 *                [--fail-health: download and verify it, then fail the health
 *                check: the old image stays, as after a rollback]
 *     report     send a manifest (report counter + 1)
 *     replay     send the last manifest again
 *     forge      send a manifest whose primary's report is signed by a wrong key
 *     forge-secondary  the same for the last ECU's report (the others valid)
 *     sign [FILE]  write the next manifest to DIR/last-manifest.json (and FILE),
 *                unsent; prints the path
 *                [--counter N: every report's counter is N] [--omit SERIAL:
 *                leave that ECU's report out; "all": no reports]
 *   (report and sign: --auto-update true|false puts auto_update in the manifest;
 *    --set SERIAL=NAME:LENGTH:SHA256 makes that ECU claim the image, signed
 *    with its own key, as a compromised ECU would; --attack TEXT puts TEXT
 *    in the primary's attacks_detected; --install-failed CID:SERIAL adds an
 *    installation report: the install under CID failed on SERIAL;
 *    --install-report CID:true|false adds aktualizr's installation_report
 *    for correlation id CID, its one item the first ECU's; --installed
 *    SERIAL:NAME:SHA256:LENGTH reports that image on that ECU from now on,
 *    e.g. one the Image repository never published)
 * Exit 0 ok, 1 refused or failed (message on stderr), 2 usage. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/manifest.h>
#include <uptake/uptane.h>

#include "../../src/host/host.h"

#define MAX_ECUS   8
#define ARENA_SIZE ((size_t)64 << 20)

struct ecu {
	char serial[64], hwid[64];
	struct upt_privkey *key;
	char keyid[UPT_KEYID_MAX + 1];
	/* installed */
	char name[256];
	int64_t length;
	char sha256[65];
	int64_t counter;
};

struct dev {
	const char *dir, *server, *ca, *cert, *key;
	const char *out, *omit;    /* sign */
	long long counter;         /* sign: > 0 sets every report's counter */
	const char *auto_update;   /* "true"/"false": the manifest says so */
	const char *set[MAX_ECUS]; /* SERIAL=NAME:LENGTH:SHA256 */
	size_t n_set;
	const char *attack;         /* the primary's attacks_detected */
	const char *install_failed; /* CID:SERIAL */
	const char *install_report; /* CID:true|false */
	const char *installed;      /* SERIAL:NAME:SHA256:LENGTH */
	bool fail_health;
	struct ecu ecus[MAX_ECUS];
	size_t n;
};

static int fail(const char *what, const struct upt_error *err)
{
	fprintf(stderr, "test_device: %s: %s: %s\n", what, upt_err_name(err->code), err->msg);
	return 1;
}

static void path_of(char *out, size_t cap, const struct dev *d, const char *name)
{
	snprintf(out, cap, "%s/%s", d->dir, name);
}

static int save_state(const struct dev *d, struct upt_error *err)
{
	char buf[8192], path[1024];
	size_t o = 0;
	for (size_t i = 0; i < d->n; i++)
		o += (size_t)snprintf(
		    buf + o, sizeof buf - o, "%s %s %s %lld %s %lld\n", d->ecus[i].serial,
		    d->ecus[i].hwid, d->ecus[i].name[0] ? d->ecus[i].name : "-",
		    (long long)d->ecus[i].length, d->ecus[i].sha256[0] ? d->ecus[i].sha256 : "-",
		    (long long)d->ecus[i].counter);
	path_of(path, sizeof path, d, "state");
	return host_write_file(path, buf, o, err);
}

static int load_state(struct dev *d, struct upt_error *err)
{
	char path[1024];
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;
	path_of(path, sizeof path, d, "state");
	rc = host_read_file(path, 1 << 16, &text, &len, err);
	for (char *p = (char *)text, *nl; rc == UPT_OK && p && *p && d->n < MAX_ECUS; p = nl + 1) {
		struct ecu *e = &d->ecus[d->n];
		long long l, c;
		uint8_t *pem = NULL;
		size_t pl = 0;
		char kp[1024];
		if (!(nl = strchr(p, '\n')))
			break;
		*nl = 0;
		{
			char *f[6], *save = NULL;
			int nf = 0;
			for (char *t = strtok_r(p, " ", &save); t && nf < 6;
			     t = strtok_r(NULL, " ", &save))
				f[nf++] = t;
			if (nf != 6)
				return upt_error_set(err, UPT_ERR_IO, "bad state line");
			snprintf(e->serial, sizeof e->serial, "%s", f[0]);
			snprintf(e->hwid, sizeof e->hwid, "%s", f[1]);
			snprintf(e->name, sizeof e->name, "%s", f[2]);
			l = strtoll(f[3], NULL, 10);
			snprintf(e->sha256, sizeof e->sha256, "%s", f[4]);
			c = strtoll(f[5], NULL, 10);
		}
		if (strcmp(e->name, "-") == 0)
			e->name[0] = 0;
		if (strcmp(e->sha256, "-") == 0)
			e->sha256[0] = 0;
		e->length = l;
		e->counter = c;
		snprintf(kp, sizeof kp, "%s/ecu-%s.pem", d->dir, e->serial);
		rc = host_read_file(kp, 65536, &pem, &pl, err);
		if (rc == UPT_OK)
			rc = upt_privkey_load_pem(&e->key, (char *)pem, pl, NULL, err);
		if (rc == UPT_OK)
			rc = upt_privkey_keyid(e->keyid, e->key, UPT_DIALECT_TUF, err);
		free(pem);
		d->n++;
	}
	free(text);
	return rc;
}

static int request(const struct dev *d, const char *method, const char *path, const char *body,
		   long *status, char **resp, struct upt_error *err)
{
	char url[1024];
	struct host_request rq = {0};
	size_t rl;
	snprintf(url, sizeof url, "%s%s", d->server, path);
	rq.method = method;
	rq.url = url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	return host_http_request(&rq, 1 << 20, resp, &rl, status, err);
}

static int cmd_init(struct dev *d, const char *root_dir, const char *root_img, char **ecu_specs,
		    size_t n_specs)
{
	struct upt_error err = {0};
	char body[16384], path[1024];
	size_t o = 0;
	long status = 0;
	char *resp = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = host_mkdirs(d->dir, &err);
	o += (size_t)snprintf(body, sizeof body, "{\"primary_ecu_serial\":\"%.*s\",\"ecus\":[",
			      (int)strcspn(ecu_specs[0], ":"), ecu_specs[0]);
	for (size_t i = 0; rc == UPT_OK && i < n_specs; i++) {
		struct ecu *e = &d->ecus[d->n++];
		const char *colon = strchr(ecu_specs[i], ':');
		char *pub = NULL, *pem = NULL;
		size_t pl = 0, kl = 0;
		if (!colon)
			return fprintf(stderr, "test_device: --ecu SERIAL:HWID\n"), 2;
		snprintf(e->serial, sizeof e->serial, "%.*s", (int)(colon - ecu_specs[i]),
			 ecu_specs[i]);
		snprintf(e->hwid, sizeof e->hwid, "%s", colon + 1);
		e->counter = 0;
		rc = upt_privkey_generate(&e->key, UPT_KEY_ED25519, &err);
		if (rc == UPT_OK)
			rc = upt_privkey_public_json(&pub, &pl, e->key, UPT_DIALECT_TUF, &err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &kl, e->key, NULL, &err);
		snprintf(path, sizeof path, "%s/ecu-%s.pem", d->dir, e->serial);
		if (rc == UPT_OK)
			rc = host_write_file(path, pem, kl, &err);
		o += (size_t)snprintf(body + o, sizeof body - o,
				      "%s{\"ecu_serial\":\"%s\",\"hardware_identifier\":\"%s\","
				      "\"clientKey\":%s}",
				      i ? "," : "", e->serial, e->hwid, pub ? pub : "null");
		upt_free(pub);
		if (pem)
			upt_free_secret(pem, kl);
	}
	snprintf(body + o, sizeof body - o, "]}");
	if (rc == UPT_OK)
		rc = save_state(d, &err);
	/* the provisioned roots */
	if (rc == UPT_OK)
		rc = host_read_file(root_dir, 1 << 20, &data, &len, &err);
	path_of(path, sizeof path, d, "director");
	if (rc == UPT_OK)
		rc = host_mkdirs(path, &err);
	snprintf(path, sizeof path, "%s/director/root.json", d->dir);
	if (rc == UPT_OK)
		rc = host_write_file(path, data, len, &err);
	free(data);
	data = NULL;
	if (rc == UPT_OK)
		rc = host_read_file(root_img, 1 << 20, &data, &len, &err);
	path_of(path, sizeof path, d, "image");
	if (rc == UPT_OK)
		rc = host_mkdirs(path, &err);
	snprintf(path, sizeof path, "%s/image/root.json", d->dir);
	if (rc == UPT_OK)
		rc = host_write_file(path, data, len, &err);
	free(data);
	if (rc == UPT_OK)
		rc = request(d, "POST", "/director/ecus", body, &status, &resp, &err);
	if (rc == UPT_OK && status != 200)
		rc = upt_error_set(&err, UPT_ERR_IO, "registration: HTTP %lld: %s",
				   (long long)status, resp);
	free(resp);
	if (rc != UPT_OK)
		return fail("init", &err);
	printf("registered %zu ECUs\n", d->n);
	return 0;
}

static int cmd_update(struct dev *d)
{
	struct upt_error err = {0};
	struct host_repo_io dh = {NULL, NULL, 0}, ih = {NULL, NULL, 0};
	struct upt_repo_io dio, iio;
	struct upt_repo dr, ir;
	struct upt_arena da, ia;
	struct upt_ecu ecus[MAX_ECUS];
	struct upt_device dev = {ecus, d->n};
	struct upt_verified v;
	char durl[1024], iurl[1024], ddir[1024], idir[1024];
	void *dm = malloc(ARENA_SIZE), *im = malloc(ARENA_SIZE);
	int rc;
	if (!dm || !im)
		return 1;
	snprintf(durl, sizeof durl, "%s/director", d->server);
	snprintf(iurl, sizeof iurl, "%s/repo", d->server);
	path_of(ddir, sizeof ddir, d, "director");
	path_of(idir, sizeof idir, d, "image");
	dh.base_url = durl;
	dh.dir = ddir;
	ih.base_url = iurl;
	ih.dir = idir;
	host_repo_io(&dio, &dh);
	host_repo_io(&iio, &ih);
	upt_arena_init(&da, dm, ARENA_SIZE);
	upt_arena_init(&ia, im, ARENA_SIZE);
	upt_repo_init(&dr, "director", &dio, upt_openssl_crypto(), &da, NULL);
	upt_repo_init(&ir, "image repository", &iio, upt_openssl_crypto(), &ia, NULL);
	memset(ecus, 0, sizeof ecus);
	for (size_t i = 0; i < d->n; i++) {
		ecus[i].serial = d->ecus[i].serial;
		ecus[i].hardware_id = d->ecus[i].hwid;
		if (d->ecus[i].name[0]) {
			size_t got = 0;
			ecus[i].has_installed = true;
			ecus[i].installed_length = d->ecus[i].length;
			ecus[i].installed_hashes.has_sha256 =
			    upt_hex_decode(ecus[i].installed_hashes.sha256, UPT_SHA256_LEN, &got,
					   d->ecus[i].sha256, 64) == UPT_OK;
		}
	}
	rc = upt_uptane_full_verify(&dr, &ir, &dev, (int64_t)time(NULL), &v, &err);
	for (size_t i = 0; rc == UPT_OK && i < v.n_updates; i++) {
		const struct upt_update *u = &v.updates[i];
		struct ecu *e = &d->ecus[u->ecu];
		char url[2048], local[1024], q[1024], hex[65];
		if (u->installed)
			continue;
		host_url_quote(q, sizeof q, u->image->name, true);
		upt_hex_encode(hex, u->image->hashes.sha256, UPT_SHA256_LEN);
		snprintf(url, sizeof url, "%s/repo/targets/%s", d->server, q);
		snprintf(local, sizeof local, "%s/image-%s", d->dir, e->serial);
		rc = host_http_get_verified(url, local, u->image->length, &u->image->hashes, &err);
		if (rc == UPT_OK && d->fail_health) {
			printf("health check of %s on %s failed: rolled back\n", u->image->name,
			       e->serial);
		} else if (rc == UPT_OK) {
			snprintf(e->name, sizeof e->name, "%s", u->image->name);
			e->length = u->image->length;
			snprintf(e->sha256, sizeof e->sha256, "%s", hex);
			printf("installed %s on %s\n", e->name, e->serial);
		}
	}
	if (rc == UPT_OK)
		rc = save_state(d, &err);
	free(dm);
	free(im);
	if (rc != UPT_OK)
		return fail("update", &err);
	printf("up to date (%zu assigned)\n", v.n_updates);
	return 0;
}

/* Sign `text` with `key`; returns malloc'd JSON. */
static char *sign(const char *text, struct upt_privkey *key)
{
	char *doc = NULL;
	size_t len = 0;
	struct upt_error err;
	if (upt_privkey_sign_document(&doc, &len, text, &key, 1, UPT_DIALECT_TUF, &err) != UPT_OK) {
		fprintf(stderr, "test_device: signing: %s\n", err.msg);
		exit(1);
	}
	return doc;
}

/* --installed SERIAL:NAME:SHA256:LENGTH */
static int set_installed(struct dev *d, struct upt_error *err)
{
	char buf[512], *f[4], *save = NULL;
	int nf = 0;
	snprintf(buf, sizeof buf, "%s", d->installed);
	for (char *t = strtok_r(buf, ":", &save); t && nf < 4; t = strtok_r(NULL, ":", &save))
		f[nf++] = t;
	if (nf != 4 || strlen(f[2]) != 64)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "--installed SERIAL:NAME:SHA256:LENGTH");
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ecus[i].serial, f[0]) == 0) {
			snprintf(d->ecus[i].name, sizeof d->ecus[i].name, "%s", f[1]);
			snprintf(d->ecus[i].sha256, sizeof d->ecus[i].sha256, "%s", f[2]);
			d->ecus[i].length = strtoll(f[3], NULL, 10);
			return UPT_OK;
		}
	return upt_error_set(err, UPT_ERR_UNKNOWN_ECU, "--installed: no ECU %s", f[0]);
}

static int cmd_report(struct dev *d, int mode)
{
	struct upt_error err = {0};
	char text[65536], path[1024];
	size_t o = 0;
	long status = 0;
	char *resp = NULL, *manifest;
	struct upt_privkey *wrong = NULL;
	char wrong_id[UPT_KEYID_MAX + 1];
	int rc = UPT_OK;
	path_of(path, sizeof path, d, "last-manifest.json");
	if (mode == 1) { /* replay */
		uint8_t *old = NULL;
		size_t len = 0;
		rc = host_read_file(path, 1 << 20, &old, &len, &err);
		manifest = (char *)old;
	} else {
		if ((mode == 2 || mode == 3) &&
		    (upt_privkey_generate(&wrong, UPT_KEY_ED25519, &err) != UPT_OK ||
		     upt_privkey_keyid(wrong_id, wrong, UPT_DIALECT_TUF, &err) != UPT_OK))
			return fail("forge", &err);
		for (size_t k = 0; k < d->n_set; k++) {
			const char *eq = strchr(d->set[k], '='), *c1, *c2;
			struct ecu *e = NULL;
			for (size_t i = 0; eq && i < d->n; i++)
				if (strlen(d->ecus[i].serial) == (size_t)(eq - d->set[k]) &&
				    !strncmp(d->ecus[i].serial, d->set[k],
					     (size_t)(eq - d->set[k])))
					e = &d->ecus[i];
			c1 = eq ? strchr(eq + 1, ':') : NULL;
			c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (!e || !c2 || strlen(c2 + 1) != 64) {
				fprintf(stderr, "test_device: --set SERIAL=NAME:LENGTH:SHA256\n");
				return 2;
			}
			snprintf(e->name, sizeof e->name, "%.*s", (int)(c1 - eq - 1), eq + 1);
			e->length = strtoll(c1 + 1, NULL, 10);
			snprintf(e->sha256, sizeof e->sha256, "%s", c2 + 1);
		}
		if (d->installed && (rc = set_installed(d, &err)) != UPT_OK)
			return fail("installed", &err);
		o += (size_t)snprintf(text, sizeof text,
				      "{\"primary_ecu_serial\":\"%s\",\"ecu_version_manifests\":{",
				      d->ecus[0].serial);
		for (size_t i = 0; i < d->n; i++) {
			struct ecu *e = &d->ecus[i];
			char report[4096], *signed_report;
			if (d->omit &&
			    (strcmp(d->omit, "all") == 0 || strcmp(d->omit, e->serial) == 0))
				continue;
			e->counter = d->counter > 0 ? d->counter : e->counter + 1;
			snprintf(report, sizeof report,
				 "{\"attacks_detected\":\"%s\",\"ecu_serial\":\"%s\",\"installed_"
				 "image\":"
				 "{\"fileinfo\":{\"hashes\":{\"sha256\":\"%s\"},\"length\":%lld},"
				 "\"filepath\":\"%s\"},\"report_counter\":%lld}",
				 i == 0 && d->attack ? d->attack : "", e->serial,
				 e->sha256[0]
				     ? e->sha256
				     : "0000000000000000000000000000000000000000000000000000000"
				       "000000000",
				 (long long)e->length, e->name[0] ? e->name : "none",
				 (long long)e->counter);
			signed_report = (mode == 2 && i == 0) || (mode == 3 && i == d->n - 1)
					    ? sign(report, wrong)
					    : sign(report, e->key);
			o += (size_t)snprintf(text + o, sizeof text - o, "%s\"%s\":%s",
					      text[o - 1] == '{' ? "" : ",", e->serial,
					      signed_report);
			free(signed_report);
		}
		o += (size_t)snprintf(text + o, sizeof text - o, "}%s%s",
				      d->auto_update ? ",\"auto_update\":" : "",
				      d->auto_update ? d->auto_update : "");
		if (d->install_failed) {
			const char *colon = strrchr(d->install_failed, ':');
			if (!colon)
				return fprintf(stderr,
					       "test_device: --install-failed CID:SERIAL\n"),
				       2;
			o += (size_t)snprintf(
			    text + o, sizeof text - o,
			    ",\"installation_report\":{\"content_type\":"
			    "\"" UPT_INSTALLATION_REPORT_TYPE
			    "\",\"report\":{\"correlation_id\":\"%.*s\",\"items\":[{\"ecu\":\"%s\","
			    "\"result\":{\"code\":\"INSTALL_FAILED\",\"description\":\"failed\","
			    "\"success\":false}}],\"raw_report\":\"\",\"result\":{\"code\":"
			    "\"INSTALL_FAILED\",\"description\":\"failed\",\"success\":false}}}",
			    (int)(colon - d->install_failed), d->install_failed, colon + 1);
		}
		if (d->install_report) {
			const char *colon = strrchr(d->install_report, ':');
			bool ok = colon && strcmp(colon + 1, "true") == 0;
			int cl = colon ? (int)(colon - d->install_report) : 0;
			const char *res =
			    ok ? "{\"code\":\"OK\",\"description\":\"installed\","
				 "\"success\":true}"
			       : "{\"code\":\"INSTALL_FAILED\",\"description\":\"health "
				 "check failed, rolled back\",\"success\":false}";
			o += (size_t)snprintf(
			    text + o, sizeof text - o,
			    ",\"installation_report\":{\"content_type\":\"%s\",\"report\":{"
			    "\"correlation_id\":\"%.*s\",\"items\":[{\"ecu\":\"%s\","
			    "\"result\":%s}]"
			    ","
			    "\"raw_report\":\"test device\",\"result\":%s}}",
			    "application/vnd.com.here.otac.installationReport.v1", cl,
			    d->install_report, d->ecus[0].serial, res, res);
		}
		snprintf(text + o, sizeof text - o, "}");
		manifest = sign(text, d->ecus[0].key);
		if (mode == 0 || mode == 3 || mode == 4) {
			rc = host_write_file(path, manifest, strlen(manifest), &err);
			if (rc == UPT_OK)
				rc = save_state(d, &err);
		}
	}
	if (rc == UPT_OK && mode == 4 && d->out)
		rc = host_write_file(d->out, manifest, strlen(manifest), &err);
	if (mode == 4) {
		free(manifest);
		if (rc != UPT_OK)
			return fail("sign", &err);
		printf("%s\n", d->out ? d->out : path);
		return 0;
	}
	if (rc == UPT_OK)
		rc = request(d, "PUT", "/director/manifest", manifest, &status, &resp, &err);
	if (rc == UPT_OK && status != 200)
		rc = upt_error_set(&err, UPT_ERR_IO, "manifest: HTTP %lld: %s", (long long)status,
				   resp);
	free(resp);
	free(manifest);
	upt_privkey_free(wrong);
	if (rc != UPT_OK)
		return fail("report", &err);
	printf("manifest accepted\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"server", required_argument, NULL, 's'},
					      {"ca", required_argument, NULL, 'a'},
					      {"cert", required_argument, NULL, 'c'},
					      {"key", required_argument, NULL, 'k'},
					      {"ecu", required_argument, NULL, 'e'},
					      {"root-director", required_argument, NULL, 'r'},
					      {"root-image", required_argument, NULL, 'i'},
					      {"counter", required_argument, NULL, 'n'},
					      {"omit", required_argument, NULL, 'o'},
					      {"auto-update", required_argument, NULL, 'u'},
					      {"set", required_argument, NULL, 'S'},
					      {"attack", required_argument, NULL, 'A'},
					      {"install-failed", required_argument, NULL, 'F'},
					      {"install-report", required_argument, NULL, 'R'},
					      {"installed", required_argument, NULL, 'I'},
					      {"fail-health", no_argument, NULL, 'H'},
					      {NULL, 0, NULL, 0}};
	struct dev d = {0};
	char *ecu_specs[MAX_ECUS];
	const char *root_dir = NULL, *root_img = NULL, *cmd;
	size_t n_specs = 0;
	struct upt_error err = {0};
	int c, rc;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			d.dir = optarg;
			break;
		case 's':
			d.server = optarg;
			break;
		case 'a':
			d.ca = optarg;
			break;
		case 'c':
			d.cert = optarg;
			break;
		case 'k':
			d.key = optarg;
			break;
		case 'r':
			root_dir = optarg;
			break;
		case 'n':
			d.counter = strtoll(optarg, NULL, 10);
			break;
		case 'o':
			d.omit = optarg;
			break;
		case 'u':
			if (strcmp(optarg, "true") && strcmp(optarg, "false"))
				return 2;
			d.auto_update = optarg;
			break;
		case 'i':
			root_img = optarg;
			break;
		case 'S':
			if (d.n_set == MAX_ECUS)
				return 2;
			d.set[d.n_set++] = optarg;
			break;
		case 'A':
			d.attack = optarg;
			break;
		case 'F':
			d.install_failed = optarg;
			break;
		case 'R':
			d.install_report = optarg;
			break;
		case 'I':
			d.installed = optarg;
			break;
		case 'H':
			d.fail_health = true;
			break;
		case 'e':
			if (n_specs == MAX_ECUS)
				return 2;
			ecu_specs[n_specs++] = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind == argc - 2 && strcmp(argv[optind], "sign") == 0)
		d.out = argv[argc - 1];
	else if (optind != argc - 1)
		return fprintf(stderr, "test_device: usage: see the source\n"), 2;
	if (!d.dir || !d.server || !d.ca || !d.cert || !d.key)
		return fprintf(stderr, "test_device: usage: see the source\n"), 2;
	cmd = argv[optind];
	if ((rc = host_init(&err)) != UPT_OK)
		return fail("init", &err);
	host_set_tls(d.ca, d.cert, d.key);
	if (strcmp(cmd, "init") == 0)
		rc = root_dir && root_img && n_specs
			 ? cmd_init(&d, root_dir, root_img, ecu_specs, n_specs)
			 : 2;
	else if (load_state(&d, &err) != UPT_OK)
		rc = fail("state", &err);
	else if (strcmp(cmd, "update") == 0)
		rc = cmd_update(&d);
	else if (strcmp(cmd, "report") == 0)
		rc = cmd_report(&d, 0);
	else if (strcmp(cmd, "replay") == 0)
		rc = cmd_report(&d, 1);
	else if (strcmp(cmd, "forge") == 0)
		rc = cmd_report(&d, 2);
	else if (strcmp(cmd, "forge-secondary") == 0)
		rc = cmd_report(&d, 3);
	else if (strcmp(cmd, "sign") == 0)
		rc = cmd_report(&d, 4);
	else
		rc = 2;
	for (size_t i = 0; i < d.n; i++)
		upt_privkey_free(d.ecus[i].key);
	return rc;
}
