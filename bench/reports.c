/* bench/reports: the CRA fleet reports on a generated fleet, against one
 * plain SQL scan of the same rows in the same run, and the manifest ingest
 * rate with report history kept against the rate with only the newest
 * report kept.
 *
 * The fleet is a SQLite store in $TMPDIR (its schema made by the store,
 * the rows written in one SQL transaction, as a factory import would): DEVICES
 * devices of one product with market dates spread over six years, 3 ECUs
 * each (board-a primary, board-b, board-c), REPORTS verified reports per ECU
 * spread over a year (each one a row of the report history), most on the
 * security release, some behind, a few on an image never published. Then:
 *   support, inventory, patch-status   srv_report_* as the admin API runs them
 *   plain SQL scan                     SELECT of every ECU row joined with its
 *                                      device, read to the end (sqlite3)
 *   ingest                             INGEST signed manifests (3 ECU reports,
 *                                      real Ed25519 signatures) through
 *                                      srv_dev_manifest, manifest_history 200
 *                                      against 1
 * Each time is the best of three runs.
 *   bench_reports [DEVICES] [REPORTS] [INGEST]   (defaults 100000, 12, 2000)
 * Output is line-buffered: the fleet takes a while to generate. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>

#include "server/lifecycle.h"
#include "server/reports.h"
#include "server/server.h"

#define ECUS 3

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct upt_error *err)
{
	fprintf(stderr, "bench_reports: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

static const char *hw[ECUS] = {"board-a", "board-b", "board-c"};
static char sha_fw10[65], sha_fw11[65], sha_app[65], sha_sensor[65];

static void fake_sha(char out[65], unsigned seed)
{
	for (int i = 0; i < 64; i++)
		out[i] = "0123456789abcdef"[(seed * 2654435761u + (unsigned)i * 40503u) >> 7 & 15];
	out[64] = 0;
	out[0] = 'f'; /* never the all-zero hash */
}

static void date_of(char out[11], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void generate(struct srv_store *st, const char *path_of_db, long n, long reports,
		     int64_t now)
{
	struct upt_error err = {0};
	struct srv_product p = {0};
	struct srv_published pub[4] = {0};
	fake_sha(sha_fw10, 1);
	fake_sha(sha_fw11, 2);
	fake_sha(sha_app, 3);
	fake_sha(sha_sensor, 4);
	snprintf(p.name, sizeof p.name, "gateway");
	snprintf(p.hardware_ids, sizeof p.hardware_ids, "board-a");
	p.support_years = 5;
	snprintf(p.contact, sizeof p.contact, "psirt@example.com");
	if (st->ops->product_put(st, &p, true, &err) != UPT_OK)
		die("product", &err);
	{
		const char *names[4] = {"fw-1.0", "fw-1.1", "app-1.0", "sensor-1.0"};
		const char *shas[4] = {sha_fw10, sha_fw11, sha_app, sha_sensor};
		const char *hws[4] = {"board-a", "board-a", "board-b", "board-c"};
		for (int i = 0; i < 4; i++) {
			snprintf(pub[i].name, sizeof pub[i].name, "%s", names[i]);
			snprintf(pub[i].sha256, sizeof pub[i].sha256, "%s", shas[i]);
			snprintf(pub[i].hardware_ids, sizeof pub[i].hardware_ids, "%s", hws[i]);
			pub[i].length = 1 << 20;
			pub[i].release_counter = i < 2 ? i + 1 : -1;
			pub[i].security = i == 1;
			pub[i].published = now - 400 * 86400 + i * 86400;
		}
		pub[1].published = now - 200 * 86400;
		if (st->ops->published_put(st, pub, 4, &err) != UPT_OK)
			die("published", &err);
	}
	/* the rows in bulk through a second connection, in one transaction
	 * (the store's own writes are one transaction and fsync each) */
	{
		sqlite3 *db;
		sqlite3_stmt *dev, *ecu, *hist;
		if (sqlite3_open(path_of_db, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL) !=
			SQLITE_OK ||
		    sqlite3_prepare_v2(
			db,
			"INSERT INTO devices (id, created, last_manifest, product, "
			"manufactured, placed_on_market) VALUES (?,?,?,'gateway',?,?)",
			-1, &dev, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(
			db,
			"INSERT INTO ecus (device, serial, hardware_id, keyid, "
			"public_key, is_primary, installed, installed_length, "
			"installed_sha256, report_counter, reported_at, report_status, "
			"report_digest, seen_at) VALUES (?,?,?,?,'{}',?,?,1048576,?,?,?,"
			"'fresh',?,?)",
			-1, &ecu, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(
			db,
			"INSERT INTO ecu_reports (device, serial, at, report_counter, "
			"digest) VALUES (?,?,?,?,?)",
			-1, &hist, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		for (long i = 0; i < n; i++) {
			char id[32], made[11], market[11];
			int64_t placed = now - (int64_t)(i % (6 * 365)) * 86400 - 86400;
			snprintf(id, sizeof id, "dev-%07ld", i);
			date_of(market, placed);
			date_of(made, placed - 30 * 86400);
			sqlite3_bind_text(dev, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(dev, 2, now - 400 * 86400);
			sqlite3_bind_int64(dev, 3, now - (int64_t)(i % 7) * 3600);
			sqlite3_bind_text(dev, 4, made, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(dev, 5, market, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(dev) != SQLITE_DONE)
				die(sqlite3_errmsg(db), NULL);
			sqlite3_reset(dev);
			for (int k = 0; k < ECUS; k++) {
				char serial[48], keyid[65], digest[65], unknown[65];
				const char *sha = k == 1 ? sha_app : k == 2 ? sha_sensor : sha_fw10;
				/* the newest report: 70 % on the security release, 25 %
				 * behind, 5 % on an image never published */
				if (k == 0 && i % 20 != 0)
					sha = i % 4 ? sha_fw11 : sha_fw10;
				else if (k == 0) {
					fake_sha(unknown, 1000 + (unsigned)(i % 50));
					sha = unknown;
				}
				snprintf(serial, sizeof serial, "%s-%d", id, k);
				snprintf(keyid, sizeof keyid, "%064d", k);
				for (long r = 1; r <= reports; r++) {
					fake_sha(digest, (unsigned)(i * 1000 + r * 10 + k));
					sqlite3_bind_text(hist, 1, id, -1, SQLITE_TRANSIENT);
					sqlite3_bind_text(hist, 2, serial, -1, SQLITE_TRANSIENT);
					sqlite3_bind_int64(
					    hist, 3, now - (reports - r) * (365 * 86400 / reports));
					sqlite3_bind_int64(hist, 4, r);
					sqlite3_bind_text(hist, 5, digest, -1, SQLITE_TRANSIENT);
					if (sqlite3_step(hist) != SQLITE_DONE)
						die(sqlite3_errmsg(db), NULL);
					sqlite3_reset(hist);
				}
				sqlite3_bind_text(ecu, 1, id, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(ecu, 2, serial, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(ecu, 3, hw[k], -1, SQLITE_STATIC);
				sqlite3_bind_text(ecu, 4, keyid, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int(ecu, 5, k == 0);
				sqlite3_bind_text(ecu, 6,
						  k == 1            ? "app-1.0"
						  : k == 2          ? "sensor-1.0"
						  : sha == sha_fw11 ? "fw-1.1"
								    : "fw-1.0",
						  -1, SQLITE_STATIC);
				sqlite3_bind_text(ecu, 7, sha, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(ecu, 8, reports);
				sqlite3_bind_int64(ecu, 9, now - (int64_t)(i % 7) * 3600);
				sqlite3_bind_text(ecu, 10, digest, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(ecu, 11, now - (int64_t)(i % 7) * 3600);
				if (sqlite3_step(ecu) != SQLITE_DONE)
					die(sqlite3_errmsg(db), NULL);
				sqlite3_reset(ecu);
			}
		}
		sqlite3_finalize(dev);
		sqlite3_finalize(ecu);
		sqlite3_finalize(hist);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		sqlite3_close(db);
	}
}

typedef int (*report_fn)(struct srv_store *st, int64_t now, char **out, struct upt_error *err);
static int r_support(struct srv_store *st, int64_t now, char **out, struct upt_error *err)
{
	struct srv_report_args a = {now, now / 86400, 90, 30, false};
	return srv_report(st, SRV_REPORT_SUPPORT, &a, out, err);
}
static int r_inventory(struct srv_store *st, int64_t now, char **out, struct upt_error *err)
{
	struct srv_report_args a = {now, now / 86400, 90, 30, false};
	return srv_report(st, SRV_REPORT_INVENTORY, &a, out, err);
}
static int r_patch(struct srv_store *st, int64_t now, char **out, struct upt_error *err)
{
	struct srv_report_args a = {now, now / 86400, 90, 30, false};
	return srv_report(st, SRV_REPORT_PATCH_STATUS, &a, out, err);
}

static double best_report(struct srv_store *st, report_fn f, int64_t now, size_t *bytes)
{
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		struct upt_error err = {0};
		char *out = NULL;
		double t = now_s();
		if (f(st, now, &out, &err) != UPT_OK)
			die("report", &err);
		t = now_s() - t;
		best = t < best ? t : best;
		*bytes = strlen(out);
		free(out);
	}
	return best;
}

static double best_scan(const char *path, long *rows)
{
	double best = 1e9;
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("sqlite3_open", NULL);
	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *s;
		size_t sum = 0;
		double t = now_s();
		*rows = 0;
		if (sqlite3_prepare_v2(db,
				       "SELECT e.device, e.serial, e.hardware_id, e.installed, "
				       "e.installed_sha256, e.reported_at, d.product, "
				       "d.placed_on_market, d.support_end, d.auto_update, "
				       "d.last_manifest FROM ecus e JOIN devices d ON d.id = "
				       "e.device ORDER BY e.device, e.serial",
				       -1, &s, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (int c = 0; c < 11; c++)
				sum += (size_t)sqlite3_column_bytes(s, c);
			(*rows)++;
		}
		sqlite3_finalize(s);
		t = now_s() - t;
		best = t < best ? t : best;
		if (sum == 0)
			die("scan: no bytes", NULL);
	}
	sqlite3_close(db);
	return best;
}

/* INGEST devices with real keys: registered, and a signed manifest each
 * (3 reports), pre-signed for `rounds` rounds. */
struct ingest_dev {
	char id[32];
	struct upt_privkey *k[ECUS];
	char *m[2];
};

static char *sign_text(const char *text, struct upt_privkey *k)
{
	char *doc = NULL;
	size_t len = 0;
	struct upt_error err = {0};
	if (upt_privkey_sign_document(&doc, &len, text, &k, 1, UPT_DIALECT_TUF, &err) != UPT_OK)
		die("sign", &err);
	return doc;
}

static void ingest_prepare(struct srv_store *st, struct ingest_dev *d, long n, const char *prefix)
{
	struct upt_error err = {0};
	for (long i = 0; i < n; i++) {
		char body[8192];
		size_t o;
		snprintf(d[i].id, sizeof d[i].id, "%s-%05ld", prefix, i);
		if (st->ops->device_add(st, d[i].id, &err) != UPT_OK)
			die("ingest device", &err);
		o = (size_t)snprintf(body, sizeof body,
				     "{\"primary_ecu_serial\":\"%s-0\",\"ecus\":[", d[i].id);
		for (int k = 0; k < ECUS; k++) {
			char *pub = NULL;
			size_t pl = 0;
			if (upt_privkey_generate(&d[i].k[k], UPT_KEY_ED25519, &err) != UPT_OK ||
			    upt_privkey_public_json(&pub, &pl, d[i].k[k], UPT_DIALECT_TUF, &err) !=
				UPT_OK)
				die("key", &err);
			o += (size_t)snprintf(body + o, sizeof body - o,
					      "%s{\"ecu_serial\":\"%s-%d\",\"hardware_identifier\":"
					      "\"%s\",\"clientKey\":%s}",
					      k ? "," : "", d[i].id, k, hw[k], pub);
			upt_free(pub);
		}
		snprintf(body + o, sizeof body - o, "]}");
		if (srv_dev_register(st, d[i].id, (const uint8_t *)body, strlen(body), &err) !=
		    UPT_OK)
			die("register", &err);
		for (int round = 0; round < 2; round++) {
			char text[16384];
			size_t t = (size_t)snprintf(
			    text, sizeof text,
			    "{\"primary_ecu_serial\":\"%s-0\",\"ecu_version_manifests\":{",
			    d[i].id);
			for (int k = 0; k < ECUS; k++) {
				char rep[1024], *signed_rep;
				const char *sha = k == 0 ? sha_fw11 : k == 1 ? sha_app : sha_sensor;
				snprintf(
				    rep, sizeof rep,
				    "{\"attacks_detected\":\"\",\"ecu_serial\":\"%s-%d\","
				    "\"installed_image\":{\"fileinfo\":{\"hashes\":{\"sha256\":"
				    "\"%s\"},\"length\":1048576},\"filepath\":\"%s\"},"
				    "\"report_counter\":%d}",
				    d[i].id, k, sha, k == 0 ? "fw-1.1" : "app", round + 1);
				signed_rep = sign_text(rep, d[i].k[k]);
				t += (size_t)snprintf(text + t, sizeof text - t, "%s\"%s-%d\":%s",
						      k ? "," : "", d[i].id, k, signed_rep);
				upt_free(signed_rep);
			}
			snprintf(text + t, sizeof text - t, "}}");
			d[i].m[round] = sign_text(text, d[i].k[0]);
		}
	}
}

static double ingest(struct srv_store *st, struct ingest_dev *d, long n, int round, int64_t now)
{
	double t = now_s();
	for (long i = 0; i < n; i++) {
		struct upt_error err = {0};
		if (srv_dev_manifest(st, d[i].id, (const uint8_t *)d[i].m[round],
				     strlen(d[i].m[round]), now, &err) != UPT_OK)
			die("manifest", &err);
	}
	return (double)n / (now_s() - t);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	long reports = argc > 2 ? strtol(argv[2], NULL, 10) : 12;
	long m = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
	char dir[512], path[600];
	const char *tmp = getenv("TMPDIR");
	struct srv_store *st;
	struct upt_error err = {0};
	struct ingest_dev *d;
	int64_t now = (int64_t)time(NULL);
	size_t bytes = 0;
	long rows = 0;
	double t, gen, scan, rate_on, rate_off;
	if (n < 1 || reports < 1 || m < 1 || argc > 4) {
		fprintf(stderr, "usage: bench_reports [DEVICES] [REPORTS] [INGEST]\n");
		return 2;
	}
	srv_log_threshold = SRV_LOG_ERROR;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof dir, "%s/bench-reports-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(path, sizeof path, "%s/fleet.db", dir);
	if (srv_store_sqlite_open(&st, path, &err) != UPT_OK)
		die("store", &err);
	st->policy.manifest_history = 200;
	t = now_s();
	generate(st, path, n, reports, now);
	gen = now_s() - t;
	printf("fleet: %ld devices, %d ECUs each, %ld reports per ECU over a year "
	       "(%ld history rows), written in %.1f s (one SQL transaction)\n",
	       n, ECUS, reports, n * ECUS * reports, gen);
	scan = best_scan(path, &rows);
	printf("%-34s %9.3f s  (%ld rows)\n", "plain SQL scan (ECUs x devices)", scan, rows);
	{
		const char *names[3] = {"support report", "inventory report",
					"patch-status report"};
		report_fn fns[3] = {r_support, r_inventory, r_patch};
		for (int i = 0; i < 3; i++) {
			double r = best_report(st, fns[i], now, &bytes);
			printf("%-34s %9.3f s  %5.1fx the scan  (%zu bytes of JSON)\n", names[i], r,
			       r / scan, bytes);
		}
	}
	if (!(d = calloc((size_t)m, sizeof *d)))
		die("calloc", NULL);
	ingest_prepare(st, d, m, "ingest");
	st->policy.manifest_history = 200;
	rate_on = ingest(st, d, m, 0, now);
	st->policy.manifest_history = 1;
	rate_off = ingest(st, d, m, 1, now + 1);
	printf("%-34s %9.0f manifests/s\n", "ingest, history kept (200)", rate_on);
	printf("%-34s %9.0f manifests/s  (%.2fx)\n", "ingest, only the newest kept", rate_off,
	       rate_off / rate_on);
	for (long i = 0; i < m; i++) {
		for (int k = 0; k < ECUS; k++)
			upt_privkey_free(d[i].k[k]);
		upt_free(d[i].m[0]);
		upt_free(d[i].m[1]);
	}
	free(d);
	st->ops->close(st);
	unlink(path);
	{
		char wal[640];
		snprintf(wal, sizeof wal, "%s-wal", path);
		unlink(wal);
		snprintf(wal, sizeof wal, "%s-shm", path);
		unlink(wal);
	}
	rmdir(dir);
	return 0;
}
