/* uptake-agent: checks for updates on its own, verifies them with Uptane
 * full verification, installs them into the inactive A/B slot, switches
 * the bootloader to try it, proves the new slot with health checks after
 * the reboot (or falls back), and reports signed version manifests.
 *
 *   uptake-agent --config FILE            run: a cycle every interval (+ jitter)
 *   uptake-agent --config FILE once       one cycle
 *   uptake-agent --config FILE boot       the simulated bootloader's power-on
 *
 * Exit codes: 0 done, 1 failed (see stderr), 2 usage or configuration,
 * 3 a reboot is needed (an image was installed, or the new slot failed its
 * health checks and the previous one was restored). */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "../host/host.h"
#include "agent.h"

#define ARENA_SIZE  ((size_t)64 << 20)
#define EXIT_REBOOT 3
/* the server's answer to a registration, a manifest or provisioning (a
 * PKCS#12 bundle): small, and bounded so that its deadline is short */
#define REPLY_MAX ((size_t)64 << 10)

static const char usage[] =
    "usage: uptake-agent --config FILE [once|boot]\n\n"
    "Without a command: a cycle now and then every `interval` seconds (plus up to\n"
    "`jitter`), automatic updates on unless `auto_update = false`. once: one\n"
    "cycle. boot: the simulated bootloader's power-on (counts tries of a new slot,\n"
    "falls back after boot_limit). Exit 0 done, 1 failed, 2 usage, 3 reboot needed.\n";

struct slot_info {
	char name[256];
	int64_t length;
	char sha256[65];
};

static void state_path(char *out, size_t cap, const struct agent_config *c, const char *name)
{
	snprintf(out, cap, "%s/%s", c->state_dir, name);
}

static int read_small(const struct agent_config *c, const char *name, char *out, size_t cap)
{
	char path[AGENT_PATH + 64];
	uint8_t *t = NULL;
	size_t len = 0;
	struct upt_error e;
	state_path(path, sizeof path, c, name);
	out[0] = 0;
	if (host_read_file(path, cap - 1, &t, &len, &e) != UPT_OK)
		return -1;
	memcpy(out, t, len);
	out[len] = 0;
	free(t);
	return 0;
}

static int write_small(const struct agent_config *c, const char *name, const char *text,
		       struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	state_path(path, sizeof path, c, name);
	return host_write_file(path, text, strlen(text), err);
}

static void slot_load(const struct agent_config *c, int slot, struct slot_info *s)
{
	char text[512], name[16];
	char *save = NULL, *f[3];
	int n = 0;
	memset(s, 0, sizeof *s);
	snprintf(name, sizeof name, "slot-%c.info", slot ? 'b' : 'a');
	if (read_small(c, name, text, sizeof text) != 0)
		return;
	for (char *t = strtok_r(text, " \n", &save); t && n < 3; t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	if (n != 3)
		return;
	snprintf(s->name, sizeof s->name, "%s", f[0]);
	s->length = strtoll(f[1], NULL, 10);
	snprintf(s->sha256, sizeof s->sha256, "%s", f[2]);
}

static int slot_save(const struct agent_config *c, int slot, const struct slot_info *s,
		     struct upt_error *err)
{
	char text[512], name[16];
	snprintf(name, sizeof name, "slot-%c.info", slot ? 'b' : 'a');
	snprintf(text, sizeof text, "%s %lld %s\n", s->name, (long long)s->length, s->sha256);
	return write_small(c, name, text, err);
}

/* ---- provisioning ------------------------------------------------------- */

static int load_ecu_key(const struct agent_config *c, struct upt_privkey **key, char *keyid,
			struct upt_error *err)
{
	char path[AGENT_PATH + 64];
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;
	state_path(path, sizeof path, c, "ecu-key.pem");
	rc = host_read_file(path, 65536, &pem, &len, err);
	if (rc == UPT_OK)
		rc = upt_privkey_load_pem(key, (char *)pem, len, NULL, err);
	if (rc == UPT_OK)
		rc = upt_privkey_keyid(keyid, *key, UPT_DIALECT_TUF, err);
	if (pem)
		upt_free_secret(pem, len);
	return rc;
}

static int copy_file(const char *from, const char *to, struct upt_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = host_read_file(from, 1 << 20, &data, &len, err);
	if (rc == UPT_OK)
		rc = host_write_file(to, data, len, err);
	free(data);
	return rc;
}

static int request(const struct agent_config *c, const char *method, const char *path,
		   const char *body, struct upt_error *err)
{
	char url[1024], *resp = NULL;
	struct host_request rq = {0};
	size_t rl;
	long status = 0;
	int rc;
	snprintf(url, sizeof url, "%s%s", c->server, path);
	rq.method = method;
	rq.url = url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	rc = host_http_request(&rq, REPLY_MAX, &resp, &rl, &status, err);
	if (rc == UPT_OK && (status < 200 || status > 299))
		rc = upt_error_set(err, UPT_ERR_IO, "%s %s: HTTP %lld: %.200s", method, path,
				   (long long)status, resp ? resp : "");
	free(resp);
	return rc;
}

/* Shared-credential provisioning: the fleet credential asks the server for
 * this device's certificate and key (a PKCS#12 bundle), kept as `cert` and
 * `key` (0600). Done once: afterwards the device's own certificate is used. */
static int provision_tls(const struct agent_config *c, struct upt_error *err)
{
	char url[700], body[300], *resp = NULL;
	struct host_request rq = {0};
	size_t rl = 0;
	long status = 0;
	const unsigned char *p;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *kd, *cd;
	long kl, cl;
	int rc;
	if (access(c->cert, F_OK) == 0 && access(c->key, F_OK) == 0)
		return UPT_OK;
	if (!c->fleet_cert[0] || !c->fleet_key[0] || !c->device_id[0])
		return upt_error_set(
		    err, UPT_ERR_NOT_FOUND,
		    "%s: no device certificate, and no fleet credential to get one", c->cert);
	snprintf(url, sizeof url, "%s/devices", c->server);
	snprintf(body, sizeof body, "{\"deviceId\":\"%s\",\"ttl\":36000}", c->device_id);
	rq.method = "POST";
	rq.url = url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	rq.ca_file = c->ca;
	rq.cert_file = c->fleet_cert;
	rq.key_file = c->fleet_key;
	host_set_tls(c->ca, NULL, NULL);
	rc = host_http_request(&rq, REPLY_MAX, &resp, &rl, &status, err);
	host_set_tls(c->ca, c->cert, c->key);
	if (rc == UPT_OK && status != 200)
		rc = upt_error_set(err, UPT_ERR_IO, "provisioning: HTTP %lld: %.200s",
				   (long long)status, resp);
	p = (const unsigned char *)resp;
	if (rc == UPT_OK && (!(p12 = d2i_PKCS12(NULL, &p, (long)rl)) ||
			     PKCS12_parse(p12, "", &pkey, &cert, NULL) != 1 || !pkey || !cert))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "provisioning: not a PKCS#12 bundle");
	if (rc == UPT_OK && (!(kb = BIO_new(BIO_s_mem())) || !(cb = BIO_new(BIO_s_mem())) ||
			     PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
			     PEM_write_bio_X509(cb, cert) != 1))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "provisioning: cannot keep the key");
	if (rc == UPT_OK) {
		kl = BIO_get_mem_data(kb, &kd);
		cl = BIO_get_mem_data(cb, &cd);
		rc = host_write_file(c->key, kd, (size_t)kl, err);
		if (rc == UPT_OK)
			chmod(c->key, 0600);
		if (rc == UPT_OK)
			rc = host_write_file(c->cert, cd, (size_t)cl, err);
	}
	if (rc == UPT_OK)
		agent_log("provisioned as %s with the fleet credential", c->device_id);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	PKCS12_free(p12);
	free(resp);
	return rc;
}

/* First start: trusted roots, an ECU key made here (never sent), and the
 * ECU registered with the Director. Idempotent across restarts. */
static int provision(const struct agent_config *c, struct upt_error *err)
{
	char path[AGENT_PATH + 64], flag[8];
	struct upt_privkey *key = NULL;
	char keyid[UPT_KEYID_MAX + 1], *pub = NULL, body[4096];
	size_t pl = 0;
	int rc;
	if (read_small(c, "registered", flag, sizeof flag) == 0)
		return UPT_OK;
	rc = host_mkdirs(c->state_dir, err);
	if (rc == UPT_OK)
		rc = provision_tls(c, err);
	state_path(path, sizeof path, c, "director");
	if (rc == UPT_OK)
		rc = host_mkdirs(path, err);
	state_path(path, sizeof path, c, "image");
	if (rc == UPT_OK)
		rc = host_mkdirs(path, err);
	state_path(path, sizeof path, c, "director/root.json");
	if (rc == UPT_OK && access(path, F_OK) != 0)
		rc = copy_file(c->director_root, path, err);
	state_path(path, sizeof path, c, "image/root.json");
	if (rc == UPT_OK && access(path, F_OK) != 0)
		rc = copy_file(c->image_root, path, err);
	state_path(path, sizeof path, c, "ecu-key.pem");
	if (rc == UPT_OK && access(path, F_OK) != 0) {
		char *pem = NULL;
		size_t len = 0;
		rc = upt_privkey_generate(&key, UPT_KEY_ED25519, err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &len, key, NULL, err);
		if (rc == UPT_OK)
			rc = host_write_file(path, pem, len, err);
		if (rc == UPT_OK)
			chmod(path, 0600);
		if (pem)
			upt_free_secret(pem, len);
		upt_privkey_free(key);
		key = NULL;
	}
	if (rc == UPT_OK)
		rc = load_ecu_key(c, &key, keyid, err);
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&pub, &pl, key, UPT_DIALECT_TUF, err);
	if (rc == UPT_OK) {
		snprintf(body, sizeof body,
			 "{\"primary_ecu_serial\":\"%s\",\"ecus\":[{\"ecu_serial\":\"%s\","
			 "\"hardware_identifier\":\"%s\",\"clientKey\":%s}]}",
			 c->primary_serial, c->primary_serial, c->hardware_id, pub);
		rc = request(c, "POST", "/director/ecus", body, err);
	}
	if (rc == UPT_OK)
		rc = write_small(c, "registered", "1\n", err);
	if (rc == UPT_OK)
		agent_log("provisioned: ECU %s (%s) registered", c->primary_serial, c->hardware_id);
	upt_free(pub);
	upt_privkey_free(key);
	return rc;
}

/* ---- health checks ------------------------------------------------------ */

static int run_check(const struct agent_config *c, const char *exe, const char *slot_path,
		     const char *slot_name, const char *image)
{
	pid_t pid = fork();
	int status = 0;
	time_t end = time(NULL) + c->health_timeout;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("UPTAKE_SLOT", slot_name, 1);
		setenv("UPTAKE_SLOT_PATH", slot_path, 1);
		setenv("UPTAKE_IMAGE", image, 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 || time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(20000);
	}
}

/* Every executable in health_dir, in name order, must exit 0. */
static bool healthy(const struct agent_config *c, int slot, const struct slot_info *s)
{
	struct dirent **list = NULL;
	int n;
	bool ok = true;
	const char *slot_path = strcmp(c->install, "ab") == 0 ? c->slot[slot] : c->slot[0];
	if (!c->health_dir[0])
		return true;
	n = scandir(c->health_dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char exe[AGENT_PATH + 300];
		struct stat st;
		snprintf(exe, sizeof exe, "%s/%s", c->health_dir, list[i]->d_name);
		if (ok && list[i]->d_name[0] != '.' && stat(exe, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111)) {
			int rc = run_check(c, exe, slot_path, slot ? "b" : "a", s->name);
			if (rc != 0) {
				agent_log("health check %s failed (%d)", list[i]->d_name, rc);
				ok = false;
			}
		}
		free(list[i]);
	}
	free(list);
	return ok;
}

/* ---- the signed report -------------------------------------------------- */

/* Sign JSON text with the ECU key (NULL when it cannot be signed). */
static char *sign_json(const char *text, struct upt_privkey *key)
{
	char *doc = NULL;
	size_t len = 0;
	return upt_privkey_sign_document(&doc, &len, text, &key, 1, UPT_DIALECT_TUF, NULL) == UPT_OK
		   ? doc
		   : NULL;
}

static void json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = 0;
}

/* Report what the running slot holds: success is only ever reported from
 * the slot that booted and passed its health checks. */
static int report(const struct agent_config *c, const struct slot_info *running, const char *attack,
		  struct upt_error *err)
{
	struct upt_privkey *key = NULL;
	char keyid[UPT_KEYID_MAX + 1], counter_text[32], text[8192], att[600], name[600];
	char *ecu = NULL, *manifest = NULL;
	int64_t counter = 0;
	int rc = load_ecu_key(c, &key, keyid, err);
	if (read_small(c, "counter", counter_text, sizeof counter_text) == 0)
		counter = strtoll(counter_text, NULL, 10);
	counter++;
	json_escape(att, sizeof att, attack ? attack : "");
	json_escape(name, sizeof name, running->name[0] ? running->name : "none");
	snprintf(text, sizeof text,
		 "{\"attacks_detected\":\"%s\",\"ecu_serial\":\"%s\",\"installed_image\":"
		 "{\"fileinfo\":{\"hashes\":{\"sha256\":\"%s\"},\"length\":%lld},\"filepath\":"
		 "\"%s\"},\"report_counter\":%lld}",
		 att, c->primary_serial,
		 running->sha256[0]
		     ? running->sha256
		     : "0000000000000000000000000000000000000000000000000000000000000000",
		 (long long)running->length, name, (long long)counter);
	if (rc == UPT_OK && !(ecu = sign_json(text, key)))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "cannot sign the report");
	if (rc == UPT_OK) {
		char *m = malloc(strlen(ecu) + 512);
		if (!m)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			snprintf(m, strlen(ecu) + 512,
				 "{\"auto_update\":%s,\"ecu_version_manifests\":{\"%s\":%s},"
				 "\"primary_ecu_serial\":\"%s\"}",
				 c->auto_update ? "true" : "false", c->primary_serial, ecu,
				 c->primary_serial);
			manifest = sign_json(m, key);
			free(m);
			if (!manifest)
				rc = upt_error_set(err, UPT_ERR_CRYPTO, "cannot sign the manifest");
		}
	}
	/* the counter moves before sending: a lost answer never reuses one */
	snprintf(counter_text, sizeof counter_text, "%lld\n", (long long)counter);
	if (rc == UPT_OK)
		rc = write_small(c, "counter", counter_text, err);
	if (rc == UPT_OK)
		rc = request(c, "PUT", "/director/manifest", manifest, err);
	if (rc == UPT_OK)
		agent_log("report sent: %s runs %s", c->primary_serial,
			  running->name[0] ? running->name : "nothing yet");
	free(ecu);
	free(manifest);
	upt_privkey_free(key);
	return rc;
}

/* Images that failed their health checks (by sha256). */
static bool failed_before(const struct agent_config *c, const char *sha256)
{
	char text[8192];
	return sha256[0] && read_small(c, "failed-images", text, sizeof text) == 0 &&
	       strstr(text, sha256) != NULL;
}

static int remember_failed(const struct agent_config *c, const char *sha256, struct upt_error *err)
{
	char text[8192];
	size_t n;
	if (read_small(c, "failed-images", text, sizeof text) != 0)
		text[0] = 0;
	n = strlen(text);
	if (n + 66 >= sizeof text) /* keep the newest */
		n = 0;
	snprintf(text + n, sizeof text - n, "%s\n", sha256);
	return write_small(c, "failed-images", text, err);
}

/* ---- one cycle ---------------------------------------------------------- */

static bool attack_class(int code)
{
	switch (code) {
	case UPT_ERR_IO:
	case UPT_ERR_NOMEM:
	case UPT_ERR_NOT_FOUND:
		return false;
	default:
		return true;
	}
}

static int cycle(const struct agent_config *c)
{
	struct upt_error err = {0};
	struct bootenv b;
	struct slot_info running, target;
	int slot, rc;
	bool ab = strcmp(c->install, "ab") == 0;
	char attack[300] = "";

	rc = provision(c, &err);
	if (rc == UPT_OK)
		rc = boot_load(&b, c, &err);
	if (rc != UPT_OK) {
		agent_log("%s: %s", upt_err_name(rc), err.msg);
		return 1;
	}
	slot = ab ? b.active : 0;
	slot_load(c, slot, &running);

	/* the bootloader gave up on a slot that never booted far enough (it
	 * sets uptake_fell_back when it falls back): that image is not retried */
	if (b.fell_back) {
		struct slot_info dead;
		int gone = b.active ? 0 : 1;
		slot_load(c, gone, &dead);
		agent_log("the bootloader fell back from slot %c (%s): boot count spent",
			  gone ? 'b' : 'a', dead.name);
		b.fell_back = false;
		rc = remember_failed(c, dead.sha256, &err);
		if (rc == UPT_OK)
			rc = boot_save(&b, c, &err);
		if (rc != UPT_OK) {
			agent_log("%s", err.msg);
			return 1;
		}
	}

	/* a new slot on trial: it must prove itself before anything else */
	if (b.upgrade_available) {
		if (healthy(c, slot, &running)) {
			b.upgrade_available = false;
			b.bootcount = 0;
			rc = boot_save(&b, c, &err);
			agent_log("slot %c is good: %s committed", slot ? 'b' : 'a', running.name);
		} else {
			struct slot_info old;
			slot_load(c, b.previous, &old);
			agent_log("slot %c failed its health checks: back to slot %c (%s)",
				  slot ? 'b' : 'a', b.previous ? 'b' : 'a', old.name);
			b.active = b.previous;
			b.upgrade_available = false;
			b.bootcount = 0;
			rc = boot_save(&b, c, &err);
			/* not tried again automatically: a new image is needed */
			if (rc == UPT_OK)
				rc = remember_failed(c, running.sha256, &err);
			if (rc == UPT_OK)
				report(c, &old, "", &err);
			return rc == UPT_OK ? EXIT_REBOOT : 1;
		}
	}

	/* Uptane full verification */
	{
		struct host_repo_io dh = {NULL, NULL, 0}, ih = {NULL, NULL, 0};
		struct upt_repo_io dio, iio;
		struct upt_repo dr, ir;
		struct upt_arena da, ia;
		struct upt_ecu ecu = {0};
		struct upt_device dev = {&ecu, 1};
		struct upt_verified v;
		char durl[600], iurl[600], ddir[AGENT_PATH + 16], idir[AGENT_PATH + 16];
		void *dm = malloc(ARENA_SIZE), *im = malloc(ARENA_SIZE);
		const struct upt_update *u = NULL;
		if (!dm || !im) {
			free(dm);
			free(im);
			return 1;
		}
		snprintf(durl, sizeof durl, "%s/director", c->server);
		snprintf(iurl, sizeof iurl, "%s/repo", c->server);
		state_path(ddir, sizeof ddir, c, "director");
		state_path(idir, sizeof idir, c, "image");
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
		ecu.serial = c->primary_serial;
		ecu.hardware_id = c->hardware_id;
		if (running.name[0]) {
			size_t got = 0;
			ecu.has_installed = true;
			ecu.installed_length = running.length;
			ecu.installed_hashes.has_sha256 =
			    upt_hex_decode(ecu.installed_hashes.sha256, UPT_SHA256_LEN, &got,
					   running.sha256, 64) == UPT_OK;
		}
		rc = upt_uptane_full_verify(&dr, &ir, &dev, (int64_t)time(NULL), &v, &err);
		if (rc != UPT_OK) {
			agent_log("verification failed: %s: %s", upt_err_name(rc), err.msg);
			if (attack_class(rc))
				snprintf(attack, sizeof attack, "%s: %s", upt_err_name(rc),
					 err.msg);
		}
		for (size_t i = 0; rc == UPT_OK && i < v.n_updates; i++) {
			char h[65];
			if (v.updates[i].installed)
				continue;
			upt_hex_encode(h, v.updates[i].image->hashes.sha256, UPT_SHA256_LEN);
			if (failed_before(c, h)) {
				agent_log("not installing %s again: it failed its health checks",
					  v.updates[i].image->name);
				continue;
			}
			u = &v.updates[i];
		}
		if (rc == UPT_OK && u &&
		    (!c->auto_update || (int64_t)time(NULL) < c->postpone_until)) {
			agent_log("update %s available; not installed: %s", u->director->name,
				  c->auto_update ? "postponed" : "automatic updates are off");
			u = NULL;
		}
		if (rc == UPT_OK && u) {
			int to = ab ? 1 - slot : 0;
			char url[1600], q[1024];
			host_url_quote(q, sizeof q, u->image->name, true);
			snprintf(url, sizeof url, "%s/repo/targets/%s", c->server, q);
			agent_log("installing %s into slot %c", u->image->name, to ? 'b' : 'a');
			{
				/* resumable: a partial download for the same image and
				 * slot is continued with a Range request */
				char part[AGENT_PATH + 16], dest[AGENT_PATH + 16], want[128],
				    have[128];
				struct stat st;
				bool blockdev = stat(c->slot[to], &st) == 0 && S_ISBLK(st.st_mode);
				int64_t at = 0;
				upt_hex_encode(want, u->image->hashes.sha256, UPT_SHA256_LEN);
				snprintf(want + 64, sizeof want - 64, " %c\n", to ? 'b' : 'a');
				/* a file slot is replaced by rename; a block device gets the
				 * verified image copied in from the state directory */
				if (blockdev) {
					state_path(part, sizeof part, c, "download.part");
					state_path(dest, sizeof dest, c, "download.img");
				} else {
					snprintf(part, sizeof part, "%s.part", c->slot[to]);
					snprintf(dest, sizeof dest, "%s", c->slot[to]);
				}
				if (read_small(c, "download.for", have, sizeof have) != 0 ||
				    strcmp(have, want) != 0) {
					unlink(part);
					rc = write_small(c, "download.for", want, &err);
				}
				if (rc == UPT_OK)
					rc = host_http_resume_verified(
					    url, part, dest, u->image->length, &u->image->hashes,
					    &at, &err);
				if (at > 0)
					agent_log("resumed the download at %lld of %lld bytes",
						  (long long)at, (long long)u->image->length);
				if (rc == UPT_OK && blockdev) {
					rc = host_copy_to_device(dest, c->slot[to], &err);
					unlink(dest);
				}
				/* read it back: what is in the slot is what was verified */
				if (rc == UPT_OK &&
				    !(blockdev ? host_prefix_matches(c->slot[to], u->image->length,
								     &u->image->hashes)
					       : host_file_matches(c->slot[to], u->image->length,
								   &u->image->hashes)))
					rc = upt_error_set(&err, UPT_ERR_HASH_MISMATCH,
							   "slot %c: read-back does not match",
							   to ? 'b' : 'a');
			}
			/* script: the verified image is handed to the installer */
			if (rc == UPT_OK && strcmp(c->install, "script") == 0) {
				int src = run_check(c, c->install_script, c->slot[0], "-",
						    u->image->name);
				if (src != 0) {
					rc = upt_error_set(&err, UPT_ERR_IO,
							   "install script exited %d", src);
					{
						char h[65];
						upt_hex_encode(h, u->image->hashes.sha256,
							       UPT_SHA256_LEN);
						remember_failed(c, h, &err);
					}
				}
			}
			if (rc == UPT_OK) {
				memset(&target, 0, sizeof target);
				snprintf(target.name, sizeof target.name, "%s", u->image->name);
				target.length = u->image->length;
				upt_hex_encode(target.sha256, u->image->hashes.sha256,
					       UPT_SHA256_LEN);
				rc = slot_save(c, to, &target, &err);
			}
			if (rc == UPT_OK && ab) {
				b.previous = slot;
				b.active = to;
				b.upgrade_available = true;
				b.bootcount = 0;
				b.fell_back = false;
				rc = boot_save(&b, c, &err);
				if (rc == UPT_OK)
					agent_log("bootloader set to try slot %c; reboot needed",
						  to ? 'b' : 'a');
			}
			if (rc != UPT_OK) {
				agent_log("install failed: %s", err.msg);
				/* bytes that do not match signed metadata: reported */
				if (rc == UPT_ERR_HASH_MISMATCH || rc == UPT_ERR_TOO_LARGE)
					snprintf(attack, sizeof attack, "%s: %s", upt_err_name(rc),
						 err.msg);
			} else if (!ab)
				running = target;
		}
		free(dm);
		free(im);
		/* the report: what runs now (the old slot until the new one proves
		 * itself after the reboot) */
		{
			struct upt_error rerr = {0};
			/* a failed or stalled report never holds up the install: the
			 * slot is switched already, and the next cycle reports */
			if (report(c, &running, attack, &rerr) != UPT_OK)
				agent_log("report failed (sent again next cycle): %s", rerr.msg);
		}
		if (rc != UPT_OK)
			return 1;
		return u && ab ? EXIT_REBOOT : 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	struct agent_config cfg;
	struct upt_error err = {0};
	const char *config = NULL, *cmd = NULL;
	int c, rc;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), 0;
		else
			return fputs(usage, stderr), 2;
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (!config || optind != argc ||
	    (cmd && strcmp(cmd, "once") != 0 && strcmp(cmd, "boot") != 0))
		return fputs(usage, stderr), 2;
	if (agent_config_load(&cfg, config, &err) != UPT_OK) {
		agent_log("%s", err.msg);
		return 2;
	}
	if (cmd && strcmp(cmd, "boot") == 0) {
		if (host_mkdirs(cfg.state_dir, &err) != UPT_OK ||
		    boot_power_on(&cfg, &err) != UPT_OK) {
			agent_log("boot: %s", err.msg);
			return 1;
		}
		return 0;
	}
	if (host_init(&err) != UPT_OK) {
		agent_log("%s", err.msg);
		return 1;
	}
	host_set_tls(cfg.ca, cfg.cert, cfg.key);
	host_set_rate_limit(cfg.max_download_rate);
	host_set_deadline(cfg.deadline_base, cfg.min_download_rate);
	if (cmd)
		return cycle(&cfg);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int failures = 0;;) {
		unsigned wait;
		rc = cycle(&cfg);
		if (rc == EXIT_REBOOT)
			return rc; /* the supervisor (or the system) reboots */
		/* after a failure: retry sooner, backing off (1, 2, 4... minutes)
		 * up to the normal interval */
		failures = rc == 0 ? 0 : failures + 1;
		wait = (unsigned)cfg.interval;
		if (failures && failures < 12 && (60u << (failures - 1)) < wait)
			wait = 60u << (failures - 1);
		sleep(wait + (unsigned)(cfg.jitter ? rand() % (cfg.jitter + 1) : 0));
	}
}
