/* bench/vulns: vulnerability matching on a generated fleet, in process.
 *
 * A SQLite store in $TMPDIR: IMAGES published images, each with a
 * CycloneDX 1.6 SBOM of COMPONENTS npm components (stored through
 * srv_admin_sbom_put, as `uptake publish --sbom` uploads them), DEVICES
 * devices with one ECU each whose verified state names one of the images
 * (the rows written in one SQL transaction, as a factory import would; the
 * devices need not connect), then RECORDS OSV records (SEMVER ranges on
 * those components) imported in one request through srv_admin_vuln_import.
 * Measured, in the same run:
 *   import          the records checked, normalized and stored with their
 *                   matching rows against every SBOM (one transaction)
 *   full rematch    srv_admin_vuln_rematch: every row from scratch
 *   incremental     one new OSV record imported: its rows only
 * and the ratio full / incremental; and, as the reference, SQLite itself
 * copying the same matching rows into an empty table of the same shape (in
 * a second database, WAL, synchronous=FULL, one INSERT ... SELECT in key
 * order): the least that writing those rows costs.
 *   bench_vulns [DEVICES] [IMAGES] [COMPONENTS] [RECORDS] [DATABASE]
 *   (defaults 100000 200 1000 50000; DATABASE a postgresql:// URI of an
 *   empty database runs the same on PostgreSQL: the devices then written
 *   with one INSERT ... SELECT, the reference copy in that database) */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/json.h>

#include "server/jsonout.h"
#include "server/log.h"
#include "server/store.h"
#include "server/vulns.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct upt_error *err)
{
	fprintf(stderr, "bench_vulns: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

static void hex(char *out, const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[d[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	out[2 * n] = 0;
}

static void fake_sha(char out[65], unsigned seed)
{
	unsigned char d[32];
	EVP_Digest(&seed, sizeof seed, d, NULL, EVP_sha256(), NULL);
	hex(out, d, 32);
}

/* Image i's SBOM: component k at version 1.((k + i) % 20).0. */
static char *sbom_of(long i, long comps, size_t *len)
{
	struct srv_json o = {0};
	char *s = NULL;
	struct upt_error err = {0};
	srv_json_raw(&o,
		     "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":1,"
		     "\"metadata\":{\"timestamp\":\"2026-11-01T00:00:00Z\",\"component\":"
		     "{\"type\":\"firmware\",\"name\":\"img-%03ld\",\"version\":\"1.0\"}},"
		     "\"components\":[",
		     i);
	for (long k = 0; k < comps; k++)
		srv_json_raw(
		    &o,
		    "%s{\"type\":\"library\",\"name\":\"pkg-%04ld\",\"version\":\"1.%ld.0\","
		    "\"purl\":\"pkg:npm/pkg-%04ld@1.%ld.0\"}",
		    k ? "," : "", k, (k + i) % 20, k, (k + i) % 20);
	srv_json_raw(&o, "]}");
	if (srv_json_finish(&o, &s, &err) != UPT_OK)
		die("sbom", &err);
	*len = strlen(s);
	return s;
}

/* Record j: pkg-(j % comps), introduced 0, fixed 1.(1 + j / comps % 19).0 */
static void record(struct srv_json *o, long j, long comps, const char *prefix)
{
	srv_json_raw(o,
		     "{\"id\":\"%s-%06ld\",\"modified\":\"2026-11-01T00:00:00Z\","
		     "\"summary\":\"generated\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\","
		     "\"name\":\"pkg-%04ld\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":["
		     "{\"introduced\":\"0\"},{\"fixed\":\"1.%ld.0\"}]}]}]}",
		     prefix, j, j % comps, 1 + (j / comps) % 19);
}

/* PostgreSQL: run one statement (params text), or die. */
static void pg_do(PGconn *db, const char *sql, int n, const char *const *vals)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bench_vulns: postgresql: %s", PQerrorMessage(db));
		exit(1);
	}
	PQclear(r);
}

static PGconn *pg_connect(const char *uri)
{
	PGconn *db = PQconnectdb(uri);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "bench_vulns: %s: %s", uri, PQerrorMessage(db));
		exit(1);
	}
	return db;
}

static long count_rows(const char *resp)
{
	const char *p = strstr(resp, "\"match_rows\":");
	return p ? strtol(p + 13, NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	long devices = argc > 1 ? strtol(argv[1], NULL, 10) : 100000,
	     images = argc > 2 ? strtol(argv[2], NULL, 10) : 200,
	     comps = argc > 3 ? strtol(argv[3], NULL, 10) : 1000,
	     recs = argc > 4 ? strtol(argv[4], NULL, 10) : 50000;
	const char *pg = argc > 5 ? argv[5] : NULL;
	const char *tmp = getenv("TMPDIR");
	char dir[512], path[600], (*sha)[65];
	struct srv_store *st;
	struct upt_error err = {0};
	struct srv_json o = {0};
	char *body = NULL, *resp = NULL;
	int64_t now = (int64_t)time(NULL);
	double t, t_sbom, t_dev, t_import, t_full, t_inc, t_ref;
	long rows_import, rows_full, rows_inc;
	if (devices < 1 || images < 1 || comps < 1 || recs < 1 || argc > 6 ||
	    (pg && strncmp(pg, "postgresql://", 13) != 0)) {
		fprintf(stderr, "usage: bench_vulns [DEVICES] [IMAGES] [COMPONENTS] [RECORDS] "
				"[postgresql://...]\n");
		return 2;
	}
	srv_log_threshold = SRV_LOG_ERROR;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof dir, "%s/bench-vulns-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(path, sizeof path, "%s/fleet.db", dir);
	if ((pg ? srv_store_pg_open(&st, pg, 4, &err) : srv_store_sqlite_open(&st, path, &err)) !=
	    UPT_OK)
		die("store", &err);
	if (!(sha = calloc((size_t)images, sizeof *sha)))
		die("calloc", NULL);

	/* the images and their SBOMs */
	t = now_s();
	for (long i = 0; i < images; i++) {
		size_t len;
		char *doc = sbom_of(i, comps, &len), sbsha[65];
		unsigned char d[32];
		struct srv_published pub = {0};
		EVP_Digest(doc, len, d, NULL, EVP_sha256(), NULL);
		hex(sbsha, d, 32);
		if (srv_admin_sbom_put(st, sbsha, (const uint8_t *)doc, len, now, &resp, &err) !=
		    UPT_OK)
			die("sbom put", &err);
		free(resp);
		free(doc);
		fake_sha(sha[i], (unsigned)i);
		snprintf(pub.name, sizeof pub.name, "img-%03ld", i);
		memcpy(pub.sha256, sha[i], 65);
		pub.length = 1 << 20;
		snprintf(pub.hardware_ids, sizeof pub.hardware_ids, "board-%ld", i % 10);
		pub.release_counter = i / 10;
		pub.published = now - (images - i) * 3600;
		memcpy(pub.sbom_sha256, sbsha, 65);
		if (st->ops->published_put(st, &pub, 1, &err) != UPT_OK)
			die("published", &err);
	}
	t_sbom = now_s() - t;
	printf("%ld images with %ld-component SBOMs stored in %.1f s\n", images, comps, t_sbom);

	/* the devices, in bulk through a second connection */
	t = now_s();
	if (pg) {
		/* the image hashes as a text[]; the digests md5-made (only
		 * their shape matters here) */
		PGconn *db = pg_connect(pg);
		struct srv_json a = {0};
		char *arr = NULL, n[24], at[24];
		srv_json_raw(&a, "{");
		for (long i = 0; i < images; i++)
			srv_json_raw(&a, "%s%s", i ? "," : "", sha[i]);
		srv_json_raw(&a, "}");
		if (srv_json_finish(&a, &arr, &err) != UPT_OK)
			die("array", &err);
		snprintf(n, sizeof n, "%ld", devices);
		snprintf(at, sizeof at, "%lld", (long long)now);
		{
			const char *v[] = {n, at, arr};
			pg_do(db, "BEGIN", 0, NULL);
			pg_do(db,
			      "INSERT INTO devices (id, created, last_manifest) SELECT "
			      "'dev-' || lpad(i::text, 7, '0'), $2::bigint - 86400, $2::bigint - "
			      "3600 "
			      "FROM generate_series(0, $1::bigint - 1) i",
			      2, v);
			pg_do(
			    db,
			    "INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, "
			    "is_primary, installed, installed_length, installed_sha256, "
			    "report_counter, reported_at, report_status, report_digest, seen_at) "
			    "SELECT 'dev-' || lpad(i::text, 7, '0'), "
			    "'dev-' || lpad(i::text, 7, '0') || '-main', "
			    "'board-' || (i % cardinality($3::text[]) % 10), lpad(i::text, 64, "
			    "'0'), "
			    "'{}', 1, 'img-' || lpad((i % cardinality($3::text[]))::text, 3, '0'), "
			    "1048576, ($3::text[])[i % cardinality($3::text[]) + 1], 1, "
			    "$2::bigint - 3600, 'fresh', md5(i::text) || md5('r' || i::text), "
			    "$2::bigint - 3600 FROM generate_series(0, $1::bigint - 1) i",
			    3, v);
			pg_do(db, "COMMIT", 0, NULL);
		}
		free(arr);
		PQfinish(db);
	} else {
		sqlite3 *db;
		sqlite3_stmt *dev, *ecu;
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL) !=
			SQLITE_OK ||
		    sqlite3_prepare_v2(db,
				       "INSERT INTO devices (id, created, last_manifest) VALUES "
				       "(?,?,?)",
				       -1, &dev, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(
			db,
			"INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, "
			"is_primary, installed, installed_length, installed_sha256, "
			"report_counter, "
			"reported_at, report_status, report_digest, seen_at) VALUES "
			"(?,?,?,?,'{}',1,?,1048576,?,1,?,'fresh',?,?)",
			-1, &ecu, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		for (long i = 0; i < devices; i++) {
			char id[32], serial[40], keyid[65], name[32], hw[32], digest[65];
			long img = i % images;
			snprintf(id, sizeof id, "dev-%07ld", i);
			snprintf(serial, sizeof serial, "%s-main", id);
			snprintf(keyid, sizeof keyid, "%064ld", i);
			snprintf(name, sizeof name, "img-%03ld", img);
			snprintf(hw, sizeof hw, "board-%ld", img % 10);
			fake_sha(digest, (unsigned)(i + 1000000));
			sqlite3_bind_text(dev, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(dev, 2, now - 86400);
			sqlite3_bind_int64(dev, 3, now - 3600);
			if (sqlite3_step(dev) != SQLITE_DONE)
				die(sqlite3_errmsg(db), NULL);
			sqlite3_reset(dev);
			sqlite3_bind_text(ecu, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ecu, 2, serial, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ecu, 3, hw, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ecu, 4, keyid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ecu, 5, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ecu, 6, sha[img], -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ecu, 7, now - 3600);
			sqlite3_bind_text(ecu, 8, digest, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ecu, 9, now - 3600);
			if (sqlite3_step(ecu) != SQLITE_DONE)
				die(sqlite3_errmsg(db), NULL);
			sqlite3_reset(ecu);
		}
		sqlite3_finalize(dev);
		sqlite3_finalize(ecu);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		sqlite3_close(db);
	}
	t_dev = now_s() - t;
	printf("%ld devices (one ECU each, on one of the images) written in %.1f s\n", devices,
	       t_dev);

	/* the records, one import */
	srv_json_raw(&o, "{\"records\":[{\"source\":\"bench.json\",\"record\":[");
	for (long j = 0; j < recs; j++) {
		srv_json_raw(&o, "%s", j ? "," : "");
		record(&o, j, comps, "BENCH");
	}
	srv_json_raw(&o, "]}]}");
	if (srv_json_finish(&o, &body, &err) != UPT_OK)
		die("body", &err);
	t = now_s();
	if (srv_admin_vuln_import(st, (const uint8_t *)body, strlen(body), now, &resp, &err) !=
	    UPT_OK)
		die("import", &err);
	t_import = now_s() - t;
	rows_import = count_rows(resp);
	printf("%-44s %9.3f s  (%zu bytes, %ld matching rows)\n", "import of the OSV records",
	       t_import, strlen(body), rows_import);
	free(resp);
	free(body);

	t = now_s();
	if (srv_admin_vuln_rematch(st, &resp, &err) != UPT_OK)
		die("rematch", &err);
	t_full = now_s() - t;
	rows_full = count_rows(resp);
	printf("%-44s %9.3f s  (%ld rows)\n", "full rematch (every record x every SBOM)", t_full,
	       rows_full);
	free(resp);

	/* the reference: the same rows copied by the database alone */
	if (pg) {
		PGconn *db = pg_connect(pg);
		pg_do(db,
		      "CREATE TABLE ref_matches (vuln TEXT NOT NULL, sbom TEXT NOT NULL, "
		      "hits TEXT NOT NULL, PRIMARY KEY (vuln, sbom))",
		      0, NULL);
		pg_do(db, "CREATE INDEX ref_matches_sbom ON ref_matches(sbom)", 0, NULL);
		t = now_s();
		pg_do(db,
		      "INSERT INTO ref_matches SELECT vuln, sbom, hits FROM vuln_matches ORDER BY "
		      "vuln, sbom",
		      0, NULL);
		t_ref = now_s() - t;
		pg_do(db, "DROP TABLE ref_matches", 0, NULL);
		PQfinish(db);
		printf("%-44s %9.3f s  (the same rows)\n", "reference: PostgreSQL copying the rows",
		       t_ref);
	} else {
		sqlite3 *db;
		char *sql = NULL, ref[700];
		snprintf(ref, sizeof ref, "%s/ref.db", dir);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    !(sql = sqlite3_mprintf(
			  "ATTACH %Q AS ref; PRAGMA ref.journal_mode=WAL; "
			  "PRAGMA ref.synchronous=FULL; PRAGMA cache_size=-65536; "
			  "CREATE TABLE ref.vuln_matches (vuln TEXT NOT NULL, sbom TEXT NOT NULL, "
			  "hits TEXT NOT NULL, PRIMARY KEY (vuln, sbom)); "
			  "CREATE INDEX ref.vuln_matches_sbom ON vuln_matches(sbom);",
			  ref)) ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		sqlite3_free(sql);
		t = now_s();
		if (sqlite3_exec(db,
				 "BEGIN; INSERT INTO ref.vuln_matches SELECT vuln, sbom, hits FROM "
				 "main.vuln_matches ORDER BY vuln, sbom; COMMIT",
				 NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		t_ref = now_s() - t;
		if (sqlite3_exec(db, "DETACH ref", NULL, NULL, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db), NULL);
		sqlite3_close(db);
		printf("%-44s %9.3f s  (the same rows)\n", "reference: SQLite copying the rows",
		       t_ref);
		for (int i = 0; i < 3; i++) {
			static const char *const ext[] = {"", "-wal", "-shm"};
			char f[720];
			snprintf(f, sizeof f, "%s%s", ref, ext[i]);
			unlink(f);
		}
	}

	o = (struct srv_json){0};
	srv_json_raw(&o, "{\"records\":[{\"source\":\"new.json\",\"record\":");
	record(&o, 7 + 18 * comps, comps, "BENCH-NEW"); /* fixed in 1.19.0: most images */
	srv_json_raw(&o, "}]}");
	if (srv_json_finish(&o, &body, &err) != UPT_OK)
		die("body", &err);
	t = now_s();
	if (srv_admin_vuln_import(st, (const uint8_t *)body, strlen(body), now, &resp, &err) !=
	    UPT_OK)
		die("import one", &err);
	t_inc = now_s() - t;
	rows_inc = count_rows(resp);
	printf("%-44s %9.3f s  (%ld rows)\n", "incremental: one new OSV record", t_inc, rows_inc);
	printf("full rematch / incremental update: %.0fx\n", t_full / t_inc);
	printf("import / reference: %.1fx; full rematch / reference: %.1fx\n", t_import / t_ref,
	       t_full / t_ref);
	free(resp);
	free(body);
	free(sha);
	st->ops->close(st);
	{
		char f[700];
		const char *ext[] = {"", "-wal", "-shm"};
		for (int i = 0; i < 3; i++) {
			snprintf(f, sizeof f, "%s%s", path, ext[i]);
			unlink(f);
		}
	}
	rmdir(dir);
	return 0;
}
