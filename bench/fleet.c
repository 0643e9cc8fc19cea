/* bench/fleet: a fleet simulator against a real uptake-server on loopback.
 * N devices, each with its own device certificate (from the server's CA)
 * and its own Ed25519 ECU key, check in over mutual TLS, each check-in on a
 * new TLS connection as a device waking up every 30 minutes would: poll
 * GET /director/timestamp.json, fetch targets.json when the timestamp
 * changed, and every `--manifest-every` check-ins send a signed manifest
 * (the ECU's report signed with its key, the manifest with the primary's:
 * 2 signatures to verify). The poll interval is compressed: the devices
 * check in one after the other as fast as the server answers. Setup is in
 * process: keys and certificates made with the server's CA code from its
 * files, devices and ECUs registered through the store in batches.
 * Half-way through a campaign starts: an image is published and assigned
 * to the first `--campaign` devices; a device that sees it in its targets
 * reports it installed in its next manifests. Printed: check-ins/s,
 * p50/p99 check-in latency, the database's bytes per device, the server's
 * CPU seconds per 1,000 check-ins, how long the campaign took to reach its
 * devices, and the raw Ed25519 verify rate of the same run as the
 * reference.
 *   bench_fleet [--devices N] [--seconds S] [--workers W]
 *               [--manifest-every M] [--database postgresql://...]
 *               [--campaign N]
 * (defaults 1000, 20, 8, 2, SQLite in a temporary directory, 1000; the
 * PostgreSQL database must be empty). Not part of the test suite. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
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
#include <uptake/json.h>

#include "cpu.h"
#include "server/server.h"
#include "server/store.h"

#define TOKEN "bench-admin-token-0123456789"

struct device {
	char id[24];
	char *cert, *key; /* PEM, from the server */
	struct upt_privkey *ecu;
	long counter, checkins;
	char last_ts_version[24];
	bool installed, reported; /* the campaign's image; in a manifest */
};

struct buf {
	char *b;
	size_t len;
};

static char dir[256], ca[320], base[128], image_sha256[65], db_path[300];
static long image_length;
static int n_dev = 1000, workers = 8, manifest_every = 2, campaign_devices = 1000;
static double seconds = 20;
static const char *database;
static struct device *devs;
static volatile int campaign_on, stop;
static long next_dev;          /* atomic: the next device to check in */
static long installed_devices; /* atomic */
static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t n_lat, cap_lat;
static long failed;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	struct buf *o = u;
	char *nb = realloc(o->b, o->len + s * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + o->len, p, s * n);
	o->b = nb;
	o->len += s * n;
	o->b[o->len] = 0;
	return s * n;
}

static long http(CURL *c, const char *method, const char *path, const char *body, bool admin,
		 char **out)
{
	struct buf o = {NULL, 0};
	struct curl_slist *h = NULL;
	char url[512];
	long status = 0;
	snprintf(url, sizeof url, "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &o);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (admin)
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	if (out)
		*out = o.b;
	else
		free(o.b);
	return status;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		exit(1);
}

static char *sign(const char *text, struct upt_privkey *key)
{
	char *doc = NULL;
	size_t len = 0;
	struct upt_error err;
	if (upt_privkey_sign_document(&doc, &len, text, &key, 1, UPT_DIALECT_TUF, &err) != UPT_OK)
		exit(1);
	return doc;
}

/* Speak as device d: its certificate and key from memory, a new TLS
 * connection for the first request. */
static void as_device(CURL *c, const struct device *d)
{
	struct curl_blob cert = {d->cert, strlen(d->cert), CURL_BLOB_NOCOPY};
	struct curl_blob key = {d->key, strlen(d->key), CURL_BLOB_NOCOPY};
	curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
	curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
	curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
}

/* Setup, in process: the device's key and certificate from the server's
 * own CA files (what POST /api/v1/devices does, without a request and a
 * transaction per device), its ECU key, and its registration through the
 * store, a batch of devices per transaction where the store nests them. */
static struct srv_ca setup_ca;
static struct srv_store *setup_store;

#define BATCH 500

static void provision_batch(int from, int to)
{
	struct upt_error err = {0};
	struct srv_store *st = setup_store;
	/* SQLite: the batch in one transaction, each device a savepoint in it;
	 * PostgreSQL: a transaction each, on the pool's connections */
	bool outer = strcmp(st->ops->name, "sqlite") == 0;
	if (outer && st->ops->begin(st, &err) != UPT_OK) {
		fprintf(stderr, "bench_fleet: %s\n", err.msg);
		exit(1);
	}
	for (int i = from; i < to; i++) {
		struct device *d = &devs[i];
		char body[4096], *pub;
		size_t pl;
		snprintf(d->id, sizeof d->id, "fleet-%07d", i);
		if (srv_ca_issue(&setup_ca, d->id, NULL, &d->cert, &d->key, &err) != UPT_OK ||
		    upt_privkey_generate(&d->ecu, UPT_KEY_ED25519, &err) != UPT_OK ||
		    upt_privkey_public_json(&pub, &pl, d->ecu, UPT_DIALECT_TUF, &err) != UPT_OK) {
			fprintf(stderr, "bench_fleet: %s: %s\n", d->id, err.msg);
			exit(1);
		}
		snprintf(body, sizeof body,
			 "{\"primary_ecu_serial\":\"%s-0\",\"ecus\":[{\"ecu_serial\":\"%s-0\","
			 "\"hardware_identifier\":\"fleet-board\",\"clientKey\":%s}]}",
			 d->id, d->id, pub);
		upt_free(pub);
		if (st->ops->device_add(st, d->id, &err) != UPT_OK ||
		    srv_dev_register(st, d->id, (const uint8_t *)body, strlen(body), &err) !=
			UPT_OK) {
			fprintf(stderr, "bench_fleet: registering %s: %s\n", d->id, err.msg);
			exit(1);
		}
	}
	if (outer && st->ops->commit(st, &err) != UPT_OK) {
		fprintf(stderr, "bench_fleet: %s\n", err.msg);
		exit(1);
	}
}

static long next_batch; /* atomic */

static void *prov_worker(void *p)
{
	(void)p;
	for (;;) {
		long b = __atomic_fetch_add(&next_batch, 1, __ATOMIC_RELAXED);
		int from = (int)(b * BATCH), to = from + BATCH > n_dev ? n_dev : from + BATCH;
		if (from >= n_dev)
			return NULL;
		provision_batch(from, to);
	}
}

static char *manifest(struct device *d)
{
	char report[1024], text[4096], *sr, *m;
	d->counter++;
	snprintf(report, sizeof report,
		 "{\"ecu_serial\":\"%s-0\",\"installed_image\":{\"fileinfo\":{\"hashes\":"
		 "{\"sha256\":\"%s\"},\"length\":%ld},\"filepath\":\"%s\"},\"report_counter\":%ld}",
		 d->id,
		 d->installed ? image_sha256
			      : "0000000000000000000000000000000000000000000000000000000000000000",
		 d->installed ? image_length : 0L, d->installed ? "fleet-1.0" : "none", d->counter);
	sr = sign(report, d->ecu);
	snprintf(text, sizeof text,
		 "{\"primary_ecu_serial\":\"%s-0\",\"ecu_version_manifests\":{\"%s-0\":%s}}", d->id,
		 d->id, sr);
	free(sr);
	m = sign(text, d->ecu);
	return m;
}

/* One check-in of device d; false when a request failed. */
static bool check_in(CURL *c, struct device *d)
{
	char *ts = NULL, *v;
	bool ok = true;
	as_device(c, d);
	ok = http(c, "GET", "/director/timestamp.json", NULL, false, &ts) == 200;
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 0L);
	/* the version, read cheaply: a changed timestamp means new targets */
	v = ok && ts ? strstr(ts, "\"version\":") : NULL;
	if (v) {
		char now[24];
		snprintf(now, sizeof now, "%.*s", (int)strcspn(v + 10, ",}"), v + 10);
		if (strcmp(now, d->last_ts_version) != 0) {
			char *targets = NULL;
			ok = http(c, "GET", "/director/targets.json", NULL, false, &targets) == 200;
			if (ok && !d->installed && targets && strstr(targets, "\"fleet-1.0\"")) {
				d->installed = true;
				__atomic_add_fetch(&installed_devices, 1, __ATOMIC_RELAXED);
			}
			free(targets);
			if (ok)
				snprintf(d->last_ts_version, sizeof d->last_ts_version, "%s", now);
		}
	}
	free(ts);
	/* a manifest every manifest_every check-ins, and at once after an install */
	if (ok && (++d->checkins % manifest_every == 0 || (d->installed && !d->reported))) {
		bool inst = d->installed;
		char *m = manifest(d);
		ok = http(c, "PUT", "/director/manifest", m, false, NULL) == 200;
		if (ok && inst)
			d->reported = true;
		free(m);
	}
	return ok;
}

static void *worker(void *p)
{
	CURL *c = curl_easy_init();
	double *mine = NULL;
	size_t n = 0, cap = 0;
	long bad = 0;
	(void)p;
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
	while (!stop) {
		long i = __atomic_fetch_add(&next_dev, 1, __ATOMIC_RELAXED) % n_dev;
		double t0 = now_s();
		/* one worker per device at a time: devices are taken in turn, and
		 * there are many more of them than workers */
		if (!check_in(c, &devs[i]))
			bad++;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if (!(mine = realloc(mine, cap * sizeof *mine)))
				exit(1);
		}
		mine[n++] = now_s() - t0;
	}
	pthread_mutex_lock(&lat_lock);
	if (n_lat + n > cap_lat) {
		cap_lat = n_lat + n;
		if (!(lat = realloc(lat, cap_lat * sizeof *lat)))
			exit(1);
	}
	memcpy(lat + n_lat, mine, n * sizeof *mine);
	n_lat += n;
	failed += bad;
	pthread_mutex_unlock(&lat_lock);
	free(mine);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double db_bytes(void)
{
	char path[512];
	struct stat st;
	double total = 0;
	if (database) {
		PGconn *db = PQconnectdb(database);
		PGresult *r = PQexec(db, "SELECT pg_database_size(current_database())");
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			total = strtod(PQgetvalue(r, 0, 0), NULL);
		PQclear(r);
		PQfinish(db);
		return total;
	}
	snprintf(path, sizeof path, "%s/db", dir);
	if (stat(path, &st) == 0)
		total += (double)st.st_size;
	snprintf(path, sizeof path, "%s/db-wal", dir);
	if (stat(path, &st) == 0)
		total += (double)st.st_size;
	return total;
}

static double verify_rate(void)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	struct upt_privkey *k;
	struct upt_error err;
	uint8_t msg[600], sig[UPT_SIG_MAX], pub[64];
	size_t sl = 0, pjl;
	char *pj;
	const char *h;
	long n = 0;
	double t0;
	memset(msg, 'm', sizeof msg);
	if (upt_privkey_generate(&k, UPT_KEY_ED25519, &err) != UPT_OK ||
	    upt_privkey_sign(k, msg, sizeof msg, sig, sizeof sig, &sl) != UPT_OK ||
	    upt_privkey_public_json(&pj, &pjl, k, UPT_DIALECT_TUF, &err) != UPT_OK)
		exit(1);
	h = strstr(pj, "\"public\":\"") + 10;
	for (int i = 0; i < 32; i++) {
		char b[3] = {h[2 * i], h[2 * i + 1], 0};
		pub[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	t0 = now_s();
	while (now_s() - t0 < 1.0) {
		for (int i = 0; i < 200; i++)
			if (c->verify(c->ctx, UPT_SCHEME_ED25519, pub, 32, msg, sizeof msg, sig,
				      sl) != UPT_OK)
				exit(1);
		n += 200;
	}
	upt_free(pj);
	upt_privkey_free(k);
	return (double)n / (now_s() - t0);
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "bench_fleet: failed: %s\n", cmd);
	return rc;
}

/* How many devices the campaign takes: the first ones. */
static int campaign_n(void)
{
	return campaign_devices < n_dev ? campaign_devices : n_dev;
}

/* Publish an image through the CLI and assign it to the campaign's
 * devices. */
static void start_campaign(void)
{
	char cmd[2048], path[512], *body, *resp = NULL;
	size_t cap = (size_t)n_dev * 24 + 256, o;
	CURL *admin = curl_easy_init();
	FILE *f;
	snprintf(path, sizeof path, "%s/token", dir);
	write_text(path, TOKEN "\n");
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && head -c 200000 /dev/urandom >fleet.bin && "
		 "'%s' init --server %s --token-file token --ca-file '%s' --dir ws >/dev/null && "
		 "'%s' publish fleet.bin --dir ws --name fleet --version 1.0 --hardware-id "
		 "fleet-board >/dev/null && sha256sum fleet.bin >fleet.sha256",
		 dir, UPT_CLI_BIN, base, ca, UPT_CLI_BIN);
	if (sh(cmd) != 0)
		exit(1);
	snprintf(path, sizeof path, "%s/fleet.sha256", dir);
	if (!(f = fopen(path, "r")) || !fgets(image_sha256, sizeof image_sha256, f))
		exit(1);
	fclose(f);
	image_length = 200000;
	if (!(body = malloc(cap)))
		exit(1);
	o = (size_t)snprintf(body, cap,
			     "{\"target\":\"fleet-1.0\",\"hardware_id\":\"fleet-board\","
			     "\"devices\":[");
	for (int i = 0; i < campaign_n(); i++)
		o += (size_t)snprintf(body + o, cap - o, "%s\"%s\"", i ? "," : "", devs[i].id);
	snprintf(body + o, cap - o, "]}");
	if (http(admin, "POST", "/api/v1/assign", body, true, &resp) != 200) {
		fprintf(stderr, "bench_fleet: assign: %s\n", resp ? resp : "");
		exit(1);
	}
	free(resp);
	free(body);
	curl_easy_cleanup(admin);
}

static void *campaign_main(void *p)
{
	(void)p;
	start_campaign();
	return NULL;
}

static pid_t start_server(void)
{
	char conf[512], portf[512], text[2048];
	int port = 0;
	pid_t pid;
	FILE *f;
	snprintf(conf, sizeof conf, "%s/server.conf", dir);
	snprintf(portf, sizeof portf, "%s/port", dir);
	snprintf(text, sizeof text,
		 "database = %s%s\ndata_dir = %s/data\nport = 0\nadmin_token = " TOKEN
		 "\nlog_level = error\nmax_connections_per_ip = 0\nmax_metadata_bytes = "
		 "67108864\n",
		 database ? database : dir, database ? "" : "/db", dir);
	write_text(conf, text);
	pid = fork();
	if (pid == 0) {
		execl(UPT_SERVER_BIN, "uptake-server", "--config", conf, "--port-file", portf,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300 && !port; i++) {
		usleep(100000);
		if ((f = fopen(portf, "r"))) {
			char line[32] = "";
			if (fgets(line, sizeof line, f))
				port = (int)strtol(line, NULL, 10);
			fclose(f);
		}
	}
	if (!port) {
		fprintf(stderr, "bench_fleet: the server did not start\n");
		exit(1);
	}
	snprintf(base, sizeof base, "https://127.0.0.1:%d", port);
	snprintf(ca, sizeof ca, "%s/data/tls/ca.pem", dir);
	return pid;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"devices", required_argument, NULL, 'n'},
					      {"seconds", required_argument, NULL, 's'},
					      {"workers", required_argument, NULL, 'w'},
					      {"manifest-every", required_argument, NULL, 'm'},
					      {"database", required_argument, NULL, 'd'},
					      {"campaign", required_argument, NULL, 'c'},
					      {NULL, 0, NULL, 0}};
	pthread_t *t, campaign_thread;
	pid_t pid;
	double vr, t0, t_prov, cpu0, cpu1, elapsed, bytes, bytes0, campaign_t0, campaign_s = -1;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char cmd[600];
	int o;
	while ((o = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (o == 'n')
			n_dev = (int)strtol(optarg, NULL, 10);
		else if (o == 's')
			seconds = strtod(optarg, NULL);
		else if (o == 'w')
			workers = (int)strtol(optarg, NULL, 10);
		else if (o == 'm')
			manifest_every = (int)strtol(optarg, NULL, 10);
		else if (o == 'd')
			database = optarg;
		else if (o == 'c')
			campaign_devices = (int)strtol(optarg, NULL, 10);
		else
			return fputs("usage: bench_fleet [--devices N] [--seconds S] [--workers W] "
				     "[--manifest-every M] [--database URI] [--campaign N]\n",
				     stderr),
			       2;
	}
	if (n_dev < 1 || n_dev > 10000000 || workers < 1 || workers > 256 || seconds <= 0 ||
	    manifest_every < 1)
		return fputs("bench_fleet: a bad number\n", stderr), 2;
	snprintf(dir, sizeof dir, "%s/uptake-fleet-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	snprintf(db_path, sizeof db_path, "%s/db", dir);
	srv_log_threshold = SRV_LOG_WARN; /* the in-process setup's */
	pid = start_server();
	bytes0 = db_bytes(); /* the empty schema */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(devs = calloc((size_t)n_dev, sizeof *devs)) ||
	    !(t = calloc((size_t)workers, sizeof *t)))
		return 1;
	vr = verify_rate();
	t0 = now_s();
	{
		struct upt_error err = {0};
		char tls[1100];
		int rc;
		snprintf(tls, sizeof tls, "%s/data/tls", dir);
		rc = srv_ca_open(&setup_ca, tls, NULL, &err);
		if (rc == UPT_OK)
			rc = database
				 ? srv_store_pg_open(&setup_store, database, (size_t)workers, &err)
				 : srv_store_sqlite_open(&setup_store, db_path, &err);
		if (rc != UPT_OK) {
			fprintf(stderr, "bench_fleet: setup: %s\n", err.msg);
			return 1;
		}
		for (int i = 0; i < workers; i++)
			pthread_create(&t[i], NULL, prov_worker, NULL);
		for (int i = 0; i < workers; i++)
			pthread_join(t[i], NULL);
		setup_store->ops->close(setup_store);
		srv_ca_close(&setup_ca);
	}
	t_prov = now_s() - t0;
	fprintf(stderr,
		"bench_fleet: %d devices provisioned in %.1f s (keys and certificates in process, "
		"registered through the store in batches of %d)\n",
		n_dev, t_prov, BATCH);

	cpu0 = bench_cpu_s(pid);
	t0 = now_s();
	for (int i = 0; i < workers; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	while (now_s() - t0 < seconds / 2)
		usleep(50000);
	/* the assignment request signs every member's metadata: on its own
	 * thread, so that the check-ins go on being counted meanwhile */
	campaign_t0 = now_s();
	pthread_create(&campaign_thread, NULL, campaign_main, NULL);
	while (now_s() - t0 < seconds) {
		if (campaign_s < 0 &&
		    __atomic_load_n(&installed_devices, __ATOMIC_RELAXED) >= campaign_n())
			campaign_s = now_s() - campaign_t0;
		usleep(20000);
	}
	stop = 1;
	for (int i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	pthread_join(campaign_thread, NULL);
	elapsed = now_s() - t0;
	cpu1 = bench_cpu_s(pid);
	bytes = db_bytes();
	qsort(lat, n_lat, sizeof *lat, cmp_d);

	printf("bench_fleet: %d devices (own certificates and Ed25519 ECU keys), %d client "
	       "workers, a manifest every %d check-ins, %s, %ld cores (shared with the clients)\n",
	       n_dev, workers, manifest_every, database ? "PostgreSQL" : "SQLite", cores);
	printf("  check-ins:            %8.0f /s  (%zu in %.1f s, %ld failed)\n",
	       (double)n_lat / elapsed, n_lat, elapsed, failed);
	printf("  check-in latency:     p50 %.1f ms, p99 %.1f ms (new TLS connection each)\n",
	       n_lat ? lat[n_lat / 2] * 1e3 : 0, n_lat ? lat[n_lat * 99 / 100] * 1e3 : 0);
	printf("  server CPU:           %8.2f s per 1,000 check-ins\n",
	       n_lat ? (cpu1 - cpu0) / (double)n_lat * 1000 : 0);
	printf("  database:             %8.0f bytes per device (%.1f MB over the empty schema)\n",
	       (bytes - bytes0) / n_dev, (bytes - bytes0) / 1e6);
	if (campaign_s >= 0)
		printf("  campaign (%d devices): every one saw its assignment %.1f s after it\n",
		       campaign_n(), campaign_s);
	else
		printf("  campaign:             %ld of %d devices saw their assignment in %.1f s\n",
		       installed_devices, campaign_n(), seconds / 2);
	printf("  raw Ed25519 verify, one core (reference): %.0f /s\n", vr);
	printf("  ratio: check-ins/s = %.3f x (verify rate / (2 signatures / %d check-ins))\n",
	       (double)n_lat / elapsed / (vr * manifest_every / 2), manifest_every);
	printf("  a 30-minute poll: this rate serves %.0f devices\n",
	       (double)n_lat / elapsed * 1800);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < n_dev; i++) {
		free(devs[i].cert);
		free(devs[i].key);
		upt_privkey_free(devs[i].ecu);
	}
	free(devs);
	free(t);
	free(lat);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return sh(cmd) != 0 || failed ? 1 : 0;
}
