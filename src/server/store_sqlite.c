/* uptake-server: the SQLite storage backend (WAL, versioned migrations). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define STMT_CACHE 256

/* One transaction's part in a group commit: it waits for the result of
 * the shared COMMIT. */
/* A grouped transaction, queued for the thread that runs the group. */
struct group_job {
	struct group_job *next;
	srv_grouped_fn fn;
	void *ctx;
	srv_grouped_done done; /* told the result once its group is durable */
	void *done_ctx;
	bool own; /* malloc'd here (grouped_async): freed once told */
	int rc;
	struct upt_error err;
};

/* COMMITTERS threads lead the groups of transactions queued without
 * waiting (grouped_async): one writes and commits a group while the one
 * before syncs its own and tells its jobs */
#define COMMITTERS 2

struct cached_stmt {
	char *sql;
	sqlite3_stmt *st;
	bool busy;
};

/* A read-only connection and its own kept statements. */
struct reader {
	pthread_mutex_t lock;
	sqlite3 *db;
	struct cached_stmt stmts[STMT_CACHE];
};

#define READERS 4

struct sqlite_store {
	struct srv_store base;
	sqlite3 *db;
	pthread_mutex_t lock; /* one connection, serialised */
	/* group commit: grouped transactions queue up (under wait_lock); the
	 * thread that finds no group gathering leads one: with the writer
	 * held, it runs every queued transaction in a savepoint of one outer
	 * transaction, as they come, until the sync of the group before is
	 * over, then commits and syncs, and tells each its result */
	bool group_nosync; /* the open group commits without syncing (group_begin) */
	unsigned depth;    /* transactions the lock's holder has open (nested: savepoints) */
	pthread_mutex_t wait_lock;
	pthread_cond_t lead_cv; /* for the leader: a job queued, or a sync over */
	struct group_job *queue, **queue_tail;
	bool gathering;           /* a leader takes what is queued */
	unsigned syncs;           /* groups committed whose WAL sync is in flight */
	unsigned queued;          /* jobs queued since the leader last took them */
	atomic_int coming;        /* jobs announced, not yet queued (grouped_expect) */
	pthread_cond_t commit_cv; /* for the committers: a job queued, none leading */
	pthread_t committers[COMMITTERS];
	unsigned n_committers;
	bool committers_stop;
	/* prepared statements kept for reuse, by their SQL text */
	struct cached_stmt stmts[STMT_CACHE];
	/* exec()'s statements (BEGIN, SAVEPOINT, COMMIT, ...), kept by the
	 * address of their SQL, a literal */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} tx_stmts[16];
	char path[4096]; /* for cursors' own connections; "" in memory */
	int wal_fd;      /* the WAL file, to sync a group's commit; -1: none */
	/* read-only connections for reads outside a transaction: they see
	 * what is committed and never wait for a commit's fsync */
	struct reader readers[READERS];
	size_t n_readers;
	atomic_uint next_reader;
};

/* The reader this thread reads through (NULL: the writer connection),
 * the store it belongs to, how deep its reads nest, and the store whose
 * transaction this thread holds open (its reads go to the writer, to see
 * what the transaction wrote). */
static _Thread_local struct reader *tl_reader;
static _Thread_local struct sqlite_store *tl_read_store;
static _Thread_local unsigned tl_read_depth;
static _Thread_local struct sqlite_store *tl_tx;

/* How long a group's leader waits for the sync before it at most (the
 * syncing thread tells it sooner), and how many a group takes at most.
 * With no sync in flight, a group of fewer than GROUP_FILL waits for jobs
 * announced (grouped_expect) while at least GROUP_WAIT_MIN could come
 * together, GROUP_GAP_US at most for each next one, and GROUP_WINDOW_US
 * in all: fewer commits and syncs when many arrive at once, no wait
 * when one arrives alone. */
#define GROUP_WINDOW_US 10000
#define GROUP_MAX       64
#define GROUP_FILL      32
#define GROUP_WAIT_MIN  8
#define GROUP_GAP_US    1000

/* Migrations, in order; the database's user_version is how many ran. */
static const char *const migrations[] = {
    /* 1: metadata versions, images, online keys */
    "CREATE TABLE meta ("
    " repo TEXT NOT NULL, role TEXT NOT NULL, version INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, data BLOB NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " PRIMARY KEY (repo, role, version));"
    "CREATE TABLE images ("
    " name TEXT PRIMARY KEY, length INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " sha512 TEXT NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE online_keys ("
    " repo TEXT NOT NULL, role TEXT NOT NULL, keyid TEXT NOT NULL, pem TEXT NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " PRIMARY KEY (repo, role));",
    /* 2: devices, ECUs, assignments, manifests, alerts */
    "CREATE TABLE devices ("
    " id TEXT PRIMARY KEY, created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " last_manifest INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE ecus ("
    " device TEXT NOT NULL REFERENCES devices(id), serial TEXT NOT NULL,"
    " hardware_id TEXT NOT NULL, keyid TEXT NOT NULL, public_key TEXT NOT NULL,"
    " is_primary INTEGER NOT NULL, installed TEXT NOT NULL DEFAULT '',"
    " installed_length INTEGER NOT NULL DEFAULT 0, installed_sha256 TEXT NOT NULL DEFAULT '',"
    " report_counter INTEGER NOT NULL DEFAULT -1, reported_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (device, serial));"
    "CREATE TABLE assignments ("
    " device TEXT NOT NULL, ecu_serial TEXT NOT NULL, hardware_id TEXT NOT NULL,"
    " target TEXT NOT NULL, length INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " sha512 TEXT NOT NULL, release_counter INTEGER NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " PRIMARY KEY (device, ecu_serial), FOREIGN KEY (device, ecu_serial) REFERENCES ecus);"
    "CREATE TABLE manifests ("
    " device TEXT NOT NULL REFERENCES devices(id), received INTEGER NOT NULL,"
    " body BLOB NOT NULL);"
    "CREATE INDEX manifests_device ON manifests(device, received);"
    "CREATE TABLE alerts ("
    " device TEXT NOT NULL, at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " kind TEXT NOT NULL, message TEXT NOT NULL);",
    /* 3: what devices report besides manifests */
    "CREATE TABLE device_info ("
    " device TEXT NOT NULL REFERENCES devices(id), kind TEXT NOT NULL,"
    " at INTEGER NOT NULL DEFAULT (strftime('%s','now')), body BLOB NOT NULL);"
    "CREATE INDEX device_info_device ON device_info(device, kind, at);",
    /* 4: the update policy each device reports (automatic updates opted out?) */
    "ALTER TABLE devices ADD COLUMN auto_update INTEGER NOT NULL DEFAULT 1;",
    /* 5: products and each unit's CRA lifecycle */
    "CREATE TABLE products ("
    " name TEXT PRIMARY KEY, hardware_ids TEXT NOT NULL, support_years INTEGER NOT NULL,"
    " contact TEXT NOT NULL, created INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "ALTER TABLE devices ADD COLUMN product TEXT REFERENCES products(name);"
    "ALTER TABLE devices ADD COLUMN manufactured TEXT;"
    "ALTER TABLE devices ADD COLUMN placed_on_market TEXT;"
    "ALTER TABLE devices ADD COLUMN support_end TEXT;",
    /* 6: per-ECU report judgement and history, correlation ids,
     * installation reports; indexes for the retention policy */
    "ALTER TABLE ecus ADD COLUMN report_status TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE ecus ADD COLUMN report_digest TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE ecus ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE ecu_reports ("
    " device TEXT NOT NULL, serial TEXT NOT NULL, at INTEGER NOT NULL,"
    " report_counter INTEGER NOT NULL, digest TEXT NOT NULL,"
    " FOREIGN KEY (device, serial) REFERENCES ecus);"
    "CREATE INDEX ecu_reports_ecu ON ecu_reports(device, serial, digest);"
    "ALTER TABLE assignments ADD COLUMN correlation_id TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE installation_reports ("
    " device TEXT NOT NULL REFERENCES devices(id), at INTEGER NOT NULL,"
    " correlation_id TEXT NOT NULL, success INTEGER NOT NULL, report TEXT NOT NULL);"
    "CREATE INDEX installation_reports_device ON installation_reports(device);"
    "CREATE INDEX alerts_device ON alerts(device);",
    /* 7: alerts fold repeats, carry evidence and acknowledgements; the
     * outbox of webhook deliveries */
    "ALTER TABLE alerts ADD COLUMN ecu TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN evidence TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE alerts ADD COLUMN count INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE alerts ADD COLUMN acked_by TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN acked_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE alerts SET last_seen = at;"
    "CREATE INDEX alerts_open ON alerts(device, ecu, kind, acked_at);"
    "CREATE TABLE alert_outbox ("
    " alert_id INTEGER NOT NULL, url TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL, PRIMARY KEY (alert_id, url));",
    /* 8: the targets the Image repository published (security releases
     * among them), and when a device's automatic updates last changed */
    "CREATE TABLE published_targets ("
    " name TEXT NOT NULL, sha256 TEXT NOT NULL, length INTEGER NOT NULL,"
    " hardware_ids TEXT NOT NULL, release_counter INTEGER NOT NULL,"
    " security INTEGER NOT NULL, published INTEGER NOT NULL,"
    " PRIMARY KEY (name, sha256));"
    "ALTER TABLE devices ADD COLUMN auto_update_since INTEGER NOT NULL DEFAULT 0;",
    /* 9: users, their API tokens and dashboard sessions (by digest), and
     * the append-only audit log */
    "CREATE TABLE users ("
    " name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE api_tokens ("
    " digest TEXT PRIMARY KEY, user TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    " digest TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " role TEXT NOT NULL, remote TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " status INTEGER NOT NULL, detail TEXT NOT NULL);"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    /* 10: update campaigns, their ECUs (at most one active campaign per
     * ECU), their event log; devices' tags and UTC offsets */
    "CREATE TABLE campaigns ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, status TEXT NOT NULL,"
    " stage INTEGER NOT NULL DEFAULT -1, approved INTEGER NOT NULL DEFAULT -1,"
    " stage_started INTEGER NOT NULL DEFAULT 0, met_at INTEGER NOT NULL DEFAULT 0,"
    " acked_failures INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE campaign_members ("
    " campaign INTEGER NOT NULL REFERENCES campaigns(id), device TEXT NOT NULL,"
    " ecu TEXT NOT NULL, hardware_id TEXT NOT NULL, stage INTEGER NOT NULL,"
    " state TEXT NOT NULL, sha256 TEXT NOT NULL, correlation_id TEXT NOT NULL DEFAULT '',"
    " from_sha256 TEXT NOT NULL DEFAULT '', assigned_at INTEGER NOT NULL DEFAULT 0,"
    " published INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1,"
    " updated INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (campaign, device, ecu),"
    " FOREIGN KEY (device, ecu) REFERENCES ecus);"
    "CREATE UNIQUE INDEX campaign_members_active ON campaign_members(device, ecu)"
    " WHERE active = 1;"
    "CREATE INDEX campaign_members_stage ON campaign_members(campaign, stage, state);"
    "CREATE TABLE campaign_log ("
    " campaign INTEGER NOT NULL, at INTEGER NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX campaign_log_campaign ON campaign_log(campaign, at);"
    "ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE devices ADD COLUMN utc_offset INTEGER NOT NULL DEFAULT 0;",
    /* 11: vulnerability handling: SBOMs by content, each published target's
     * signed SBOM hash, vulnerability records, VEX statements */
    "CREATE TABLE sboms ("
    " sha256 TEXT PRIMARY KEY, sha512 TEXT NOT NULL, format TEXT NOT NULL,"
    " created INTEGER NOT NULL, data BLOB NOT NULL);"
    "ALTER TABLE published_targets ADD COLUMN sbom_sha256 TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE vulns ("
    " id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL,"
    " imported INTEGER NOT NULL, exploited_at INTEGER NOT NULL DEFAULT 0,"
    " reported_early INTEGER NOT NULL DEFAULT 0,"
    " reported_notification INTEGER NOT NULL DEFAULT 0,"
    " reported_final INTEGER NOT NULL DEFAULT 0, record TEXT NOT NULL);"
    "CREATE TABLE vex ("
    " document TEXT NOT NULL, vuln TEXT NOT NULL, product TEXT NOT NULL,"
    " status TEXT NOT NULL, justification TEXT NOT NULL, imported INTEGER NOT NULL,"
    " PRIMARY KEY (document, vuln, product));",
    /* 12: download-only assignments (the Director signs the marker), the
     * products' security fast path policy, a download-only campaign's
     * release */
    "ALTER TABLE assignments ADD COLUMN download_only INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE products ADD COLUMN security_fast_path INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE campaigns ADD COLUMN released INTEGER NOT NULL DEFAULT 0;",
    /* 13: vulnerability matching rows, kept current incrementally; the
     * marker row makes the first read rematch what came before */
    "CREATE TABLE vuln_matches ("
    " vuln TEXT NOT NULL, sbom TEXT NOT NULL, hits TEXT NOT NULL,"
    " PRIMARY KEY (vuln, sbom));"
    "CREATE INDEX vuln_matches_sbom ON vuln_matches(sbom);"
    "INSERT INTO vuln_matches (vuln, sbom, hits) VALUES ('', '', '');",
    /* 14: the histories in the order they were written (an index's rowid
     * is its last column), so that pruning to the newest N walks N index
     * entries of one device instead of sorting its history */
    "CREATE INDEX ecu_reports_order ON ecu_reports(device, serial);"
    "CREATE INDEX manifests_order ON manifests(device);"
    "CREATE INDEX device_info_order ON device_info(device, kind);",
    /* 15: one index per history on the manifest's write path, each in
     * the order rows were written: a device's manifests are listed and
     * aged out through manifests_order (at most manifest_history of them
     * sorted), an ECU's earlier reports searched for a digest through
     * ecu_reports_order (at most manifest_history rows) */
    "DROP INDEX manifests_device;"
    "DROP INDEX ecu_reports_ecu;",
    /* 16: each manifest keeps which of its ECU reports were accepted (a
     * newline after each serial; NULL before: the report history tells),
     * so that only reports without a counter go to the report history */
    "ALTER TABLE manifests ADD COLUMN accepted TEXT;",
};

/* The connection this thread uses for `s` now: its reader inside a read,
 * else the writer. */
static sqlite3 *conn_db(struct sqlite_store *s)
{
	return tl_reader && tl_read_store == s ? tl_reader->db : s->db;
}

static struct cached_stmt *conn_stmts(struct sqlite_store *s)
{
	return tl_reader && tl_read_store == s ? tl_reader->stmts : s->stmts;
}

static int db_fail(struct sqlite_store *s, struct upt_error *err, const char *what)
{
	return upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", what, sqlite3_errmsg(conn_db(s)));
}

static int exec(struct sqlite_store *s, const char *sql, struct upt_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return rc;
	}
	return UPT_OK;
}

/* A statement run for every transaction (BEGIN, SAVEPOINT, COMMIT, the
 * synchronous pragma), on the writer's connection with the lock held:
 * prepared once and kept, by the address of `sql`, which must be a
 * string literal holding one statement (sqlite3_exec() parsed it again
 * for every call). */
static int exec_kept(struct sqlite_store *s, const char *sql, struct upt_error *err)
{
	const size_t cap = sizeof s->tx_stmts / sizeof s->tx_stmts[0];
	sqlite3_stmt *st;
	size_t i = 0;
	int step;
	while (i < cap && s->tx_stmts[i].sql && s->tx_stmts[i].sql != sql)
		i++;
	if (i == cap)
		return exec(s, sql, err);
	if (!s->tx_stmts[i].sql) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK)
			return upt_error_set(err, UPT_ERR_IO, "sqlite: %s", sqlite3_errmsg(s->db));
		s->tx_stmts[i].sql = sql;
		s->tx_stmts[i].st = st;
	}
	st = s->tx_stmts[i].st;
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_DONE || step == SQLITE_ROW)
		return UPT_OK;
	return upt_error_set(err, UPT_ERR_IO, "sqlite: %s", sqlite3_errmsg(s->db));
}

/* Back to commits that sync the WAL themselves, after a group that did
 * not (the lock held, no transaction open). */
static int group_sync_full(struct sqlite_store *s)
{
	if (!s->group_nosync)
		return UPT_OK;
	s->group_nosync = false;
	return exec_kept(s, "PRAGMA synchronous=FULL;", NULL);
}

/* A group's transaction begins; with the WAL's own descriptor its commit
 * leaves the sync to group_lead() (the lock held). */
static int group_begin(struct sqlite_store *s, struct upt_error *err)
{
	int rc;
	if (s->wal_fd < 0 && s->path[0]) {
		/* the WAL exists once anything was written (by this process
		 * or the last), and lives as long as the writer's connection */
		char wal[sizeof s->path + 8];
		snprintf(wal, sizeof wal, "%s-wal", s->path);
		s->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	}
	s->group_nosync =
	    s->wal_fd >= 0 && exec_kept(s, "PRAGMA synchronous=NORMAL;", NULL) == UPT_OK;
	rc = exec_kept(s, "BEGIN IMMEDIATE;", err);
	if (rc != UPT_OK && group_sync_full(s) != UPT_OK)
		rc = upt_error_set(err, UPT_ERR_IO, "sqlite: commits would not be synced");
	return rc;
}

/* The connection, for a call that writes or begins a transaction of its
 * own (a group holds it from its first statement to its commit). */
static void lock(struct sqlite_store *s)
{
	pthread_mutex_lock(&s->lock);
}

/* A connection for a read: a free reader (the first one busy, when all
 * are), so that it sees what is committed without waiting for the writer;
 * the writer itself inside this thread's own transaction (to see what it
 * wrote), for a store in memory, and for a read nested in another. */
static void lock_read(struct sqlite_store *s)
{
	struct reader *r;
	if (tl_read_depth && tl_read_store == s) {
		tl_read_depth++;
		if (!tl_reader)
			pthread_mutex_lock(&s->lock);
		return;
	}
	if (!s->n_readers || tl_tx == s || tl_read_depth) {
		pthread_mutex_lock(&s->lock);
		if (!tl_read_depth) {
			tl_read_store = s;
			tl_reader = NULL;
			tl_read_depth = 1;
		}
		return;
	}
	r = NULL;
	for (size_t i = 0; i < s->n_readers && !r; i++) {
		struct reader *c = &s->readers[i];
		if (pthread_mutex_trylock(&c->lock) == 0)
			r = c;
	}
	if (!r) {
		r = &s->readers[atomic_fetch_add(&s->next_reader, 1) % s->n_readers];
		pthread_mutex_lock(&r->lock);
	}
	tl_reader = r;
	tl_read_store = s;
	tl_read_depth = 1;
}

static void unlock_read(struct sqlite_store *s)
{
	if (tl_read_depth && tl_read_store == s) {
		struct reader *r = tl_reader;
		if (--tl_read_depth == 0) {
			tl_reader = NULL;
			tl_read_store = NULL;
		}
		if (r) {
			if (tl_read_depth == 0)
				pthread_mutex_unlock(&r->lock);
			return;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static int migrate(struct sqlite_store *s, struct upt_error *err)
{
	sqlite3_stmt *st;
	int have = 0, rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, err, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have > (int)(sizeof migrations / sizeof migrations[0]))
		return upt_error_set(err, UPT_ERR_UNSUPPORTED,
				     "sqlite: schema version %d is newer than this server", have);
	for (int i = have; i < (int)(sizeof migrations / sizeof migrations[0]); i++) {
		char set[64];
		snprintf(set, sizeof set, "PRAGMA user_version=%d;", i + 1);
		rc = exec(s, "BEGIN IMMEDIATE;", err);
		if (rc == UPT_OK)
			rc = exec(s, migrations[i], err);
		if (rc == UPT_OK)
			rc = exec(s, set, err);
		if (rc == UPT_OK)
			rc = exec(s, "COMMIT;", err);
		if (rc != UPT_OK) {
			exec(s, "ROLLBACK;", NULL);
			return rc;
		}
	}
	return UPT_OK;
}

#define S(x) ((struct sqlite_store *)(x))

/* A transaction; inside one of this thread's own, a savepoint in it
 * (committed with it, undone on its own). */
static int sq_begin(struct srv_store *b, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	int rc;
	lock(s);
	rc = exec_kept(s, s->depth ? "SAVEPOINT nested;" : "BEGIN IMMEDIATE;", err);
	if (rc == UPT_OK && s->depth++ == 0)
		tl_tx = s;
	else if (rc != UPT_OK)
		pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The end of a nested one (depth > 1). */
static int nested_end(struct sqlite_store *s, bool keep, struct upt_error *err)
{
	int rc = keep ? exec_kept(s, "RELEASE nested;", err) : UPT_ERR_STATE;
	if (rc != UPT_OK)
		exec(s, "ROLLBACK TO nested; RELEASE nested;", NULL);
	s->depth--;
	pthread_mutex_unlock(&s->lock);
	return keep ? rc : UPT_OK;
}

static int sq_commit(struct srv_store *b, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	int rc;
	if (s->depth > 1)
		return nested_end(s, true, err);
	s->depth = 0;
	tl_tx = NULL;
	rc = exec_kept(s, "COMMIT;", err);
	if (rc != UPT_OK)
		exec(s, "ROLLBACK;", NULL);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void sq_rollback(struct srv_store *b)
{
	struct sqlite_store *s = S(b);
	if (s->depth > 1) {
		nested_end(s, false, NULL);
		return;
	}
	s->depth = 0;
	tl_tx = NULL;
	exec(s, "ROLLBACK;", NULL);
	pthread_mutex_unlock(&s->lock);
}

/* Run the queued grouped transactions, each in a savepoint of the
 * group's outer transaction, until the sync of the group before is over
 * (or the group is full); commit and sync. Called with wait_lock held
 * and gathering set; returns with wait_lock held and the group's jobs,
 * each with its result, to be told (group_tell) without it. */
static struct group_job *group_lead(struct sqlite_store *s)
{
	struct group_job *batch = NULL, **tail = &batch;
	struct upt_error err = {0};
	unsigned n = 0, gaps = 0;
	bool sync;
	int rc;
	pthread_mutex_unlock(&s->wait_lock);
	pthread_mutex_lock(&s->lock);
	rc = group_begin(s, &err);
	s->depth = 1;
	tl_tx = s;
	pthread_mutex_lock(&s->wait_lock);
	for (;;) {
		struct group_job *q = s->queue;
		if (q) {
			s->queue = NULL;
			s->queue_tail = &s->queue;
			s->queued = 0;
			pthread_mutex_unlock(&s->wait_lock);
			for (; q; q = q->next, n++) {
				*tail = q;
				tail = &q->next;
				if (rc != UPT_OK) {
					q->rc = upt_error_set(&q->err, rc, "%s", err.msg);
					continue;
				}
				q->rc = exec_kept(s, "SAVEPOINT grouped;", &q->err);
				if (q->rc == UPT_OK)
					q->rc = q->fn(&s->base, q->ctx, &q->err);
				if (q->rc == UPT_OK)
					q->rc = exec_kept(s, "RELEASE grouped;", &q->err);
				if (q->rc != UPT_OK) /* this one only: the others' stand */
					exec(s, "ROLLBACK TO grouped; RELEASE grouped;", NULL);
			}
			pthread_mutex_lock(&s->wait_lock);
			continue;
		}
		if (n >= GROUP_MAX || rc != UPT_OK)
			break;
		if (s->syncs == 0) {
			/* the disk is free: commit now, unless more are on
			 * their way than this group holds yet */
			unsigned coming = (unsigned)atomic_load(&s->coming);
			if (n >= GROUP_FILL || coming == 0 || n + coming < GROUP_WAIT_MIN ||
			    gaps++ == GROUP_WINDOW_US / GROUP_GAP_US)
				break;
		}
		/* the disk is busy with the group before: wait for its end,
		 * taking what comes meanwhile (or, with the disk free, for the
		 * next one announced) */
		{
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (s->syncs ? GROUP_WINDOW_US : GROUP_GAP_US) * 1000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&s->lead_cv, &s->wait_lock, &until) != 0 &&
			    !s->queue)
				break;
		}
	}
	/* what arrives from now on is the next group's */
	s->gathering = false;
	sync = rc == UPT_OK && s->group_nosync;
	if (sync)
		s->syncs++;
	pthread_mutex_unlock(&s->wait_lock);
	s->depth = 0;
	tl_tx = NULL;
	if (rc == UPT_OK) {
		rc = exec_kept(s, "COMMIT;", &err);
		if (rc != UPT_OK)
			exec(s, "ROLLBACK;", NULL);
	}
	if (group_sync_full(s) != UPT_OK && rc == UPT_OK)
		rc = upt_error_set(&err, UPT_ERR_IO, "sqlite: commits would not be synced");
	pthread_mutex_unlock(&s->lock);
	/* the next group is written while this one reaches the disk */
	if (sync && rc == UPT_OK && fdatasync(s->wal_fd) != 0)
		rc =
		    upt_error_set(&err, UPT_ERR_IO, "sqlite: syncing the WAL: %s", strerror(errno));
	pthread_mutex_lock(&s->wait_lock);
	if (sync)
		s->syncs--;
	for (struct group_job *q = batch; q; q = q->next)
		if (rc != UPT_OK && q->rc == UPT_OK)
			q->rc = upt_error_set(&q->err, rc, "%s", err.msg);
	pthread_cond_signal(&s->lead_cv);
	return batch;
}

/* Each job of a group led, its result (called without wait_lock). */
static void group_tell(struct group_job *q)
{
	while (q) {
		struct group_job *next = q->next;
		bool own = q->own;
		q->done(q->done_ctx, q->rc, &q->err);
		if (own)
			free(q);
		q = next;
	}
}

/* Lead a group and tell its jobs (wait_lock held, no group gathering;
 * held again on return). */
static void group_run(struct sqlite_store *s)
{
	struct group_job *batch;
	s->gathering = true;
	batch = group_lead(s);
	pthread_mutex_unlock(&s->wait_lock);
	group_tell(batch);
	pthread_mutex_lock(&s->wait_lock);
}

/* A committing thread: leads a group whenever jobs are queued and no
 * group is gathering; ends when told to. */
static _Thread_local bool tl_committer;

static void *committer(void *arg)
{
	struct sqlite_store *s = arg;
	tl_committer = true;
	pthread_mutex_lock(&s->wait_lock);
	for (;;) {
		if (s->queue && !s->gathering) {
			group_run(s);
			continue;
		}
		if (s->committers_stop)
			break;
		pthread_cond_wait(&s->commit_cv, &s->wait_lock);
	}
	pthread_mutex_unlock(&s->wait_lock);
	return NULL;
}

/* Queued behind the others (wait_lock held): woken is a committer when
 * no group gathers, else the leader at every eighth job. */
static void group_queue(struct sqlite_store *s, struct group_job *j, bool wake_committer)
{
	*s->queue_tail = j;
	s->queue_tail = &j->next;
	if (s->gathering) {
		if (++s->queued >= 8)
			pthread_cond_signal(&s->lead_cv); /* a leader waiting takes it now */
	} else if (wake_committer) {
		pthread_cond_signal(&s->commit_cv);
	}
}

/* A thread waiting for its grouped transaction (sq_grouped). */
struct group_wait {
	struct sqlite_store *s;
	bool done;
	int rc;
	struct upt_error err;
	pthread_cond_t cv;
};

static void group_waited(void *ctx, int rc, const struct upt_error *err)
{
	struct group_wait *w = ctx;
	pthread_mutex_lock(&w->s->wait_lock);
	w->rc = rc;
	if (rc != UPT_OK)
		w->err = *err;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->s->wait_lock);
}

/* fn in a transaction that shares its commit with the others run the
 * same way meanwhile (group commit); returns once that commit is durable,
 * with fn's result (a failed fn is undone alone). Inside a transaction
 * of this thread's own: nested in it. */
static int sq_grouped(struct srv_store *b, srv_grouped_fn fn, void *ctx, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	struct group_job j = {0};
	struct group_wait w = {s, false, UPT_OK, {0}, PTHREAD_COND_INITIALIZER};
	/* a committer (telling its jobs) waits for no group: it may be the
	 * one that would lead it */
	if (tl_tx == s || tl_committer)
		return srv_store_in_tx(b, fn, ctx, err);
	j.fn = fn;
	j.ctx = ctx;
	j.done = group_waited;
	j.done_ctx = &w;
	pthread_mutex_lock(&s->wait_lock);
	group_queue(s, &j, false);
	if (!s->gathering)
		group_run(s);
	while (!w.done)
		pthread_cond_wait(&w.cv, &s->wait_lock);
	pthread_mutex_unlock(&s->wait_lock);
	pthread_cond_destroy(&w.cv);
	if (w.rc != UPT_OK)
		return upt_error_set(err, w.rc, "%s", w.err.msg);
	return UPT_OK;
}

static void sq_grouped_expect(struct srv_store *b, int delta)
{
	struct sqlite_store *s = S(b);
	/* the last one announced is queued: a leader waiting for it goes on */
	if (atomic_fetch_add(&s->coming, delta) + delta == 0) {
		pthread_mutex_lock(&s->wait_lock);
		if (s->gathering)
			pthread_cond_signal(&s->lead_cv);
		pthread_mutex_unlock(&s->wait_lock);
	}
}

static void sq_grouped_async(struct srv_store *b, srv_grouped_fn fn, void *ctx,
			     srv_grouped_done done, void *done_ctx)
{
	struct sqlite_store *s = S(b);
	struct group_job *j = calloc(1, sizeof *j);
	struct upt_error err = {0};
	if (!j) {
		upt_error_set(&err, UPT_ERR_NOMEM, "out of memory");
		done(done_ctx, err.code, &err);
		return;
	}
	j->fn = fn;
	j->ctx = ctx;
	j->done = done;
	j->done_ctx = done_ctx;
	j->own = true;
	pthread_mutex_lock(&s->wait_lock);
	/* the committers start with the first such job */
	while (s->n_committers < COMMITTERS && !s->committers_stop &&
	       pthread_create(&s->committers[s->n_committers], NULL, committer, s) == 0)
		s->n_committers++;
	if (!s->n_committers) {
		pthread_mutex_unlock(&s->wait_lock);
		free(j);
		upt_error_set(&err, UPT_ERR_IO, "cannot start a thread to commit");
		done(done_ctx, err.code, &err);
		return;
	}
	group_queue(s, j, true);
	pthread_mutex_unlock(&s->wait_lock);
}

/* Calls outside begin/commit take the lock themselves; inside, the
 * caller holds it (recursive mutex). */
static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 1099511628211ull;
	return h;
}

/* A statement for `sql`: a kept one when it is free (reset, its bindings
 * cleared), else a new one, kept when there is room. Give it back with
 * done(). Called with the lock held. */
static int prepare(struct sqlite_store *s, sqlite3_stmt **st, const char *sql,
		   struct upt_error *err)
{
	size_t at = (size_t)(sql_hash(sql) % STMT_CACHE);
	struct cached_stmt *stmts = conn_stmts(s);
	for (size_t i = 0; i < 8; i++) {
		struct cached_stmt *c = &stmts[(at + i) % STMT_CACHE];
		if (c->sql && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = true;
			*st = c->st;
			return UPT_OK;
		}
	}
	if (sqlite3_prepare_v3(conn_db(s), sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
	    SQLITE_OK)
		return db_fail(s, err, "prepare");
	for (size_t i = 0; i < 8; i++) {
		struct cached_stmt *c = &stmts[(at + i) % STMT_CACHE];
		if (!c->sql && (c->sql = strdup(sql)) != NULL) {
			c->st = *st;
			c->busy = true;
			break;
		}
	}
	return UPT_OK;
}

/* A statement from prepare() is done with. */
static void done(struct sqlite_store *s, sqlite3_stmt *st)
{
	struct cached_stmt *stmts = conn_stmts(s);
	for (size_t i = 0; st && i < STMT_CACHE; i++)
		if (stmts[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			stmts[i].busy = false;
			return;
		}
	sqlite3_finalize(st);
}

static int sq_meta_put(struct srv_store *b, const char *repo, const char *role, int64_t version,
		       int64_t expires, const uint8_t *data, size_t len, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc, step;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO meta (repo, role, version, expires, data) VALUES (?,?,?,?,?)",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, version);
		sqlite3_bind_int64(st, 4, expires);
		sqlite3_bind_blob64(st, 5, data, len, SQLITE_STATIC);
		step = sqlite3_step(st);
		if (step == SQLITE_CONSTRAINT)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK, "%s %s version %lld exists", repo,
					   role, (long long)version);
		else if (step != SQLITE_DONE)
			rc = db_fail(s, err, "meta insert");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_meta_get(struct srv_store *b, const char *repo, const char *role, int64_t version,
		       struct srv_meta *out, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	memset(out, 0, sizeof *out);
	lock_read(s);
	rc = prepare(s, &st,
		     version > 0 ? "SELECT version, expires, data FROM meta WHERE repo=? AND "
				   "role=? AND version=?"
				 : "SELECT version, expires, data FROM meta WHERE repo=? AND "
				   "role=? ORDER BY version DESC LIMIT 1",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		if (version > 0)
			sqlite3_bind_int64(st, 3, version);
		if (sqlite3_step(st) == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(st, 2);
			out->version = sqlite3_column_int64(st, 0);
			out->expires = sqlite3_column_int64(st, 1);
			if (!(out->data = malloc(n ? n : 1)))
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else {
				memcpy(out->data, sqlite3_column_blob(st, 2), n);
				out->len = n;
			}
		} else {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s %s: no such metadata", repo,
					   role);
		}
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_meta_roles(struct srv_store *b, const char *repo, char **out, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	size_t len = 0;
	char *buf = calloc(1, 1);
	int rc;
	if (!buf)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT DISTINCT role FROM meta WHERE repo=? AND role NOT IN "
		     "('root','targets','snapshot','timestamp') ORDER BY role",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
		while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
			const char *r = (const char *)sqlite3_column_text(st, 0);
			size_t n = strlen(r);
			char *more = realloc(buf, len + n + 2);
			if (!more) {
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			buf = more;
			memcpy(buf + len, r, n);
			buf[len + n] = '\n';
			buf[len + n + 1] = 0;
			len += n + 1;
		}
		done(s, st);
	}
	unlock_read(s);
	if (rc != UPT_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	return UPT_OK;
}

static int sq_image_put(struct srv_store *b, const struct srv_image *img, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO images (name, length, sha256, sha512) VALUES (?,?,?,?) "
		     "ON CONFLICT(name) DO UPDATE SET length=excluded.length, "
		     "sha256=excluded.sha256, sha512=excluded.sha512",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, img->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, img->length);
		sqlite3_bind_text(st, 3, img->sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, img->sha512, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "image insert");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_image_get(struct srv_store *b, const char *name, struct srv_image *out,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	memset(out, 0, sizeof *out);
	lock_read(s);
	rc = prepare(s, &st, "SELECT name, length, sha256, sha512 FROM images WHERE name=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(out->name, sizeof out->name, "%s", sqlite3_column_text(st, 0));
			out->length = sqlite3_column_int64(st, 1);
			snprintf(out->sha256, sizeof out->sha256, "%s", sqlite3_column_text(st, 2));
			snprintf(out->sha512, sizeof out->sha512, "%s", sqlite3_column_text(st, 3));
		} else {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "image %s: not found", name);
		}
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_key_put(struct srv_store *b, const char *repo, const char *role,
		      const struct srv_key *k, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO online_keys (repo, role, keyid, pem) VALUES (?,?,?,?) "
		     "ON CONFLICT(repo, role) DO UPDATE SET keyid=excluded.keyid, pem=excluded.pem",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, k->keyid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k->pem, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "key insert");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_key_get(struct srv_store *b, const char *repo, const char *role, struct srv_key *out,
		      struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	memset(out, 0, sizeof *out);
	lock_read(s);
	rc = prepare(s, &st, "SELECT keyid, pem FROM online_keys WHERE repo=? AND role=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(out->keyid, sizeof out->keyid, "%s", sqlite3_column_text(st, 0));
			out->pem = strdup((const char *)sqlite3_column_text(st, 1));
			if (!out->pem)
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		} else {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s %s: no online key", repo,
					   role);
		}
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

/* Run one statement with text/int64 parameters ("t" / "i" per parameter). */
static int run(struct sqlite_store *s, const char *sql, const char *types, const void **vals,
	       struct upt_error *err)
{
	sqlite3_stmt *st;
	int rc, step;
	lock(s);
	rc = prepare(s, &st, sql, err);
	if (rc == UPT_OK) {
		for (int i = 0; types[i]; i++) {
			if (types[i] == 't')
				sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_int64(st, i + 1, *(const int64_t *)vals[i]);
		}
		step = sqlite3_step(st);
		if (step == SQLITE_CONSTRAINT)
			rc = upt_error_set(err, UPT_ERR_STATE, "already there");
		else if (step != SQLITE_DONE)
			rc = db_fail(s, err, "write");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_device_add(struct srv_store *b, const char *id, struct upt_error *err)
{
	const void *v[] = {id};
	int rc = run(S(b), "INSERT INTO devices (id) VALUES (?)", "t", v, err);
	if (rc == UPT_ERR_STATE)
		upt_error_set(err, UPT_ERR_STATE, "device %s exists already", id);
	return rc;
}

static void text_col(char *out, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static void device_row(sqlite3_stmt *st, struct srv_device *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", sqlite3_column_text(st, 0));
	d->created = sqlite3_column_int64(st, 1);
	d->last_manifest = sqlite3_column_int64(st, 2);
	d->auto_update = sqlite3_column_int(st, 4) != 0;
	d->n_ecus = (size_t)sqlite3_column_int64(st, 3);
	text_col(d->product, sizeof d->product, st, 5);
	text_col(d->manufactured, sizeof d->manufactured, st, 6);
	text_col(d->placed_on_market, sizeof d->placed_on_market, st, 7);
	text_col(d->support_end, sizeof d->support_end, st, 8);
	d->auto_update_since = sqlite3_column_int64(st, 9);
	text_col(d->tags, sizeof d->tags, st, 10);
	d->utc_offset = sqlite3_column_int64(st, 11);
}

#define DEVICE_COLS                                                                                \
	"SELECT id, created, last_manifest, (SELECT count(*) FROM ecus WHERE device=devices.id), " \
	"auto_update, product, manufactured, placed_on_market, support_end, "                      \
	"auto_update_since, tags, utc_offset FROM devices"

static int sq_device_get(struct srv_store *b, const char *id, struct srv_device *out,
			 struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, DEVICE_COLS " WHERE id=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			device_row(st, out);
		else
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

/* Collect rows into a growing array. */
static int collect(struct sqlite_store *s, sqlite3_stmt *st, size_t size,
		   void (*row)(sqlite3_stmt *, void *), void **out, size_t *n,
		   struct upt_error *err)
{
	size_t cap = 0;
	char *arr = NULL;
	*n = 0;
	(void)s;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			char *more;
			cap = cap ? 2 * cap : 8;
			if (!(more = realloc(arr, cap * size))) {
				free(arr);
				return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			}
			arr = more;
		}
		row(st, arr + *n * size);
		(*n)++;
	}
	*out = arr;
	return UPT_OK;
}

static void device_row_v(sqlite3_stmt *st, void *p)
{
	device_row(st, p);
}

static int sq_device_list(struct srv_store *b, struct srv_device **out, size_t *n,
			  struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, DEVICE_COLS " ORDER BY id", err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, device_row_v, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static void ecu_row(sqlite3_stmt *st, void *p)
{
	struct srv_ecu *e = p;
	memset(e, 0, sizeof *e);
	snprintf(e->serial, sizeof e->serial, "%s", sqlite3_column_text(st, 0));
	snprintf(e->hardware_id, sizeof e->hardware_id, "%s", sqlite3_column_text(st, 1));
	snprintf(e->keyid, sizeof e->keyid, "%s", sqlite3_column_text(st, 2));
	snprintf(e->public_key, sizeof e->public_key, "%s", sqlite3_column_text(st, 3));
	e->primary = sqlite3_column_int(st, 4) != 0;
	snprintf(e->installed, sizeof e->installed, "%s", sqlite3_column_text(st, 5));
	e->installed_length = sqlite3_column_int64(st, 6);
	snprintf(e->installed_sha256, sizeof e->installed_sha256, "%s", sqlite3_column_text(st, 7));
	e->report_counter = sqlite3_column_int64(st, 8);
	e->reported_at = sqlite3_column_int64(st, 9);
	snprintf(e->report_status, sizeof e->report_status, "%s", sqlite3_column_text(st, 10));
	snprintf(e->report_digest, sizeof e->report_digest, "%s", sqlite3_column_text(st, 11));
	e->seen_at = sqlite3_column_int64(st, 12);
}

#define ECU_COLUMNS                                                              \
	"SELECT serial, hardware_id, keyid, public_key, is_primary, installed, " \
	"installed_length, installed_sha256, report_counter, reported_at, "      \
	"report_status, report_digest, seen_at FROM ecus WHERE device=?"

/* The device's ECUs; `sorted`: the primary first, then by serial (else in
 * the primary key's order). */
static int ecus_read(struct srv_store *b, const char *device, bool sorted, struct srv_ecu **out,
		     size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, sorted ? ECU_COLUMNS " ORDER BY is_primary DESC, serial" : ECU_COLUMNS,
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		rc = collect(s, st, sizeof **out, ecu_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_ecus_get(struct srv_store *b, const char *device, struct srv_ecu **out, size_t *n,
		       struct upt_error *err)
{
	return ecus_read(b, device, true, out, n, err);
}

static int sq_ecus_put(struct srv_store *b, const char *device, const struct srv_ecu *ecus,
		       size_t n, struct upt_error *err)
{
	struct srv_ecu *have = NULL;
	size_t n_have = 0;
	int rc = sq_begin(b, err);
	if (rc != UPT_OK)
		return rc;
	rc = sq_ecus_get(b, device, &have, &n_have, err);
	free(have);
	if (rc == UPT_OK && n_have)
		rc =
		    upt_error_set(err, UPT_ERR_STATE, "device %s: ECUs registered already", device);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		int64_t primary = ecus[i].primary;
		const void *v[] = {device,        ecus[i].serial,     ecus[i].hardware_id,
				   ecus[i].keyid, ecus[i].public_key, &primary};
		rc = run(S(b),
			 "INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, "
			 "is_primary) VALUES (?,?,?,?,?,?)",
			 "ttttti", v, err);
		if (rc == UPT_ERR_STATE)
			upt_error_set(err, UPT_ERR_FIELD_VALUE, "ECU %s listed twice",
				      ecus[i].serial);
	}
	if (rc == UPT_OK)
		return sq_commit(b, err);
	sq_rollback(b);
	return rc;
}

/* Inside begin/commit, BEGIN IMMEDIATE holds the database's write lock
 * (across processes too): what is read here stays true until commit. */
static int sq_ecus_lock(struct srv_store *b, const char *device, struct srv_ecu **out, size_t *n,
			struct upt_error *err)
{
	/* in the primary key's order: no sort on the write path */
	return ecus_read(b, device, false, out, n, err);
}

/* Keep the newest `keep` rows of `table` whose `col1` (and `col2`, when
 * not NULL) equal v1 (v2). */
static int keep_newest(struct sqlite_store *s, const char *table, const char *col1, const char *v1,
		       const char *col2, const char *v2, int64_t keep, struct upt_error *err)
{
	char where[128], sql[640];
	if (keep <= 0)
		return UPT_OK;
	snprintf(where, sizeof where, "%s=?%s%s%s", col1, col2 ? " AND " : "", col2 ? col2 : "",
		 col2 ? "=?" : "");
	/* the newest row past the `keep` newest, and every older one */
	snprintf(sql, sizeof sql,
		 "DELETE FROM %s WHERE %s AND rowid <= (SELECT rowid FROM %s WHERE %s "
		 "ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
		 table, where, table, where);
	if (!col2)
		return run(s, sql, "tti", (const void *[]){v1, v1, &keep}, err);
	return run(s, sql, "tttti", (const void *[]){v1, v2, v1, v2, &keep}, err);
}

static int sq_ecu_report(struct srv_store *b, const char *device, const struct srv_ecu *e,
			 bool raise_counter, bool prune, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {e->installed,       &e->installed_length, e->installed_sha256,
			   &e->report_counter, &e->reported_at,      e->report_status,
			   e->report_digest,   &e->seen_at,          device,
			   e->serial,          &e->report_counter};
	int rc;
	lock(s);
	rc = run(s,
		 raise_counter
		     ? "UPDATE ecus SET installed=?, installed_length=?, installed_sha256=?, "
		       "report_counter=?, reported_at=?, report_status=?, report_digest=?, "
		       "seen_at=? WHERE device=? AND serial=? AND report_counter < ?"
		     : "UPDATE ecus SET installed=?, installed_length=?, installed_sha256=?, "
		       "report_counter=?, reported_at=?, report_status=?, report_digest=?, "
		       "seen_at=? WHERE device=? AND serial=?",
		 raise_counter ? "titiittitti" : "titiittitt", v, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) != 1)
		rc = upt_error_set(err, raise_counter ? UPT_ERR_ROLLBACK : UPT_ERR_NOT_FOUND,
				   "ECU %s: report counter %lld is not above the stored one "
				   "(replayed report?)",
				   e->serial, (long long)e->report_counter);
	if (rc == UPT_OK && strcmp(e->report_status, "no_counter") == 0) {
		const void *h[] = {device, e->serial, &e->seen_at, &e->report_counter,
				   e->report_digest};
		rc = run(s,
			 "INSERT INTO ecu_reports (device, serial, at, report_counter, digest) "
			 "VALUES (?,?,?,?,?)",
			 "ttiit", h, err);
		if (rc == UPT_OK && prune)
			rc = keep_newest(s, "ecu_reports", "device", device, "serial", e->serial,
					 b->policy.manifest_history, err);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_report_seen(struct srv_store *b, const char *device, const char *serial,
			  const char *digest, bool *seen, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*seen = false;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT 1 FROM ecu_reports WHERE device=? AND serial=? AND digest=? LIMIT 1",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
		*seen = sqlite3_step(st) == SQLITE_ROW;
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_assign_put(struct srv_store *b, const char *device, const struct srv_assignment *a,
			 struct upt_error *err)
{
	int64_t dl = a->download_only;
	const void *v[] = {
	    device,    a->ecu_serial, a->hardware_id,      a->target,         &a->length,
	    a->sha256, a->sha512,     &a->release_counter, a->correlation_id, &dl};
	return run(
	    S(b),
	    "INSERT INTO assignments (device, ecu_serial, hardware_id, target, length, sha256, "
	    "sha512, release_counter, correlation_id, download_only) VALUES (?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT(device, ecu_serial) "
	    "DO UPDATE SET hardware_id=excluded.hardware_id, target=excluded.target, "
	    "length=excluded.length, sha256=excluded.sha256, sha512=excluded.sha512, "
	    "release_counter=excluded.release_counter, correlation_id=excluded.correlation_id, "
	    "download_only=excluded.download_only, created=strftime('%s','now')",
	    "ttttittiti", v, err);
}

static void assign_row(sqlite3_stmt *st, void *p)
{
	struct srv_assignment *a = p;
	memset(a, 0, sizeof *a);
	snprintf(a->ecu_serial, sizeof a->ecu_serial, "%s", sqlite3_column_text(st, 0));
	snprintf(a->hardware_id, sizeof a->hardware_id, "%s", sqlite3_column_text(st, 1));
	snprintf(a->target, sizeof a->target, "%s", sqlite3_column_text(st, 2));
	a->length = sqlite3_column_int64(st, 3);
	snprintf(a->sha256, sizeof a->sha256, "%s", sqlite3_column_text(st, 4));
	snprintf(a->sha512, sizeof a->sha512, "%s", sqlite3_column_text(st, 5));
	a->release_counter = sqlite3_column_int64(st, 6);
	snprintf(a->correlation_id, sizeof a->correlation_id, "%s", sqlite3_column_text(st, 7));
	a->created = sqlite3_column_int64(st, 8);
	a->download_only = sqlite3_column_int(st, 9) != 0;
}

static int sq_assign_list(struct srv_store *b, const char *device, struct srv_assignment **out,
			  size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(
	    s, &st,
	    "SELECT ecu_serial, hardware_id, target, length, sha256, sha512, release_counter, "
	    "correlation_id, created, download_only FROM assignments WHERE device=? "
	    "ORDER BY ecu_serial",
	    err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		rc = collect(s, st, sizeof **out, assign_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_manifest_put(struct srv_store *b, const char *device, int64_t at, bool auto_update,
			   const uint8_t *data, size_t len, const char *accepted, bool prune,
			   struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO manifests (device, received, body, accepted) VALUES (?,?,?,?)",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, at);
		sqlite3_bind_blob64(st, 3, data, len, SQLITE_STATIC);
		if (accepted) /* else NULL: not recorded */
			sqlite3_bind_text(st, 4, accepted, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "manifest insert");
		done(s, st);
	}
	if (rc == UPT_OK) {
		int64_t au = auto_update;
		/* SET reads the row as it was: the time moves when the flag flips */
		const void *v2[] = {&at, &au, &at, &au, device};
		rc = run(s,
			 "UPDATE devices SET last_manifest=?, auto_update_since=CASE WHEN "
			 "auto_update_since=0 OR auto_update<>? THEN ? ELSE auto_update_since END, "
			 "auto_update=? WHERE id=?",
			 "iiiit", v2, err);
	}
	if (rc == UPT_OK && prune)
		rc = keep_newest(s, "manifests", "device", device, NULL, NULL,
				 b->policy.manifest_history, err);
	if (rc == UPT_OK && b->policy.manifest_max_age > 0) {
		int64_t before = at - b->policy.manifest_max_age;
		const void *v[] = {device, &before, device};
		rc = run(s,
			 "DELETE FROM manifests WHERE device=? AND received < ? AND rowid < "
			 "(SELECT max(rowid) FROM manifests WHERE device=?)",
			 "tit", v, err);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_alert_raise(struct srv_store *b, const struct srv_alert *a, int64_t now, int64_t *id,
			  bool *folded, struct upt_error *err);

static int sq_alert_add(struct srv_store *b, const char *device, const char *kind,
			const char *message, struct upt_error *err)
{
	struct srv_alert a = {0};
	snprintf(a.device, sizeof a.device, "%s", device);
	snprintf(a.kind, sizeof a.kind, "%s", kind);
	snprintf(a.message, sizeof a.message, "%s", message);
	return sq_alert_raise(b, &a, (int64_t)time(NULL), NULL, NULL, err);
}

static int sq_alert_count(struct srv_store *b, const char *device, int64_t *n,
			  struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, "SELECT coalesce(sum(count), 0) FROM alerts WHERE device=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		*n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_info_put(struct srv_store *b, const char *device, const char *kind,
		       const uint8_t *data, size_t len, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st, "INSERT INTO device_info (device, kind, body) VALUES (?,?,?)", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, data, len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "device info insert");
		done(s, st);
	}
	if (rc == UPT_OK)
		rc = keep_newest(s, "device_info", "device", device, "kind", kind,
				 b->policy.report_history, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_info_list(struct srv_store *b, const char *device, const char *kind, char ***out,
			size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT body FROM device_info WHERE device=? AND kind=? ORDER BY rowid DESC",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
			size_t len = (size_t)sqlite3_column_bytes(st, 0);
			char *body = malloc(len + 1);
			if (*n == cap) {
				char **more =
				    realloc(*out, (cap = cap ? 2 * cap : 8) * sizeof *more);
				if (more)
					*out = more;
				else
					cap = *n;
			}
			if (!body || *n == cap) {
				free(body);
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			if (len)
				memcpy(body, sqlite3_column_blob(st, 0), len);
			body[len] = 0;
			(*out)[(*n)++] = body;
		}
		done(s, st);
	}
	unlock_read(s);
	if (rc != UPT_OK) {
		srv_blobs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int sq_install_put(struct srv_store *b, const char *device,
			  const struct srv_install_report *r, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	int64_t ok = r->success;
	const void *v[] = {device, &r->at, r->correlation_id, &ok, r->report};
	int rc;
	lock(s);
	rc = run(s,
		 "INSERT INTO installation_reports (device, at, correlation_id, success, report) "
		 "VALUES (?,?,?,?,?)",
		 "titit", v, err);
	if (rc == UPT_OK)
		rc = keep_newest(s, "installation_reports", "device", device, NULL, NULL,
				 b->policy.manifest_history, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_install_list(struct srv_store *b, const char *device, struct srv_install_report **out,
			   size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT at, correlation_id, success, report FROM installation_reports "
		     "WHERE device=? ORDER BY rowid DESC",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
			struct srv_install_report *r;
			if (*n == cap) {
				struct srv_install_report *more =
				    realloc(*out, (cap ? 2 * cap : 8) * sizeof *more);
				if (!more) {
					rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
					break;
				}
				*out = more;
				cap = cap ? 2 * cap : 8;
			}
			r = &(*out)[*n];
			memset(r, 0, sizeof *r);
			r->at = sqlite3_column_int64(st, 0);
			snprintf(r->correlation_id, sizeof r->correlation_id, "%s",
				 sqlite3_column_text(st, 1));
			r->success = sqlite3_column_int(st, 2) != 0;
			if (!(r->report = strdup((const char *)sqlite3_column_text(st, 3)))) {
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			(*n)++;
		}
		done(s, st);
	}
	unlock_read(s);
	if (rc != UPT_OK) {
		srv_install_reports_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int sq_key_del(struct srv_store *b, const char *repo, const char *role,
		      struct upt_error *err)
{
	const void *v[] = {repo, role};
	return run(S(b), "DELETE FROM online_keys WHERE repo=? AND role=?", "tt", v, err);
}

static int sq_product_put(struct srv_store *b, const struct srv_product *p, bool create,
			  struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	int64_t fast = p->security_fast_path;
	const void *v[] = {p->name, p->hardware_ids, &p->support_years, p->contact, &fast};
	int rc;
	if (create) {
		rc = run(s,
			 "INSERT INTO products (name, hardware_ids, support_years, contact, "
			 "security_fast_path) VALUES (?,?,?,?,?)",
			 "ttiti", v, err);
		if (rc == UPT_ERR_STATE)
			upt_error_set(err, UPT_ERR_STATE, "product %s exists already", p->name);
		return rc;
	}
	{
		sqlite3_stmt *st;
		lock(s);
		rc = prepare(s, &st,
			     "UPDATE products SET hardware_ids=?, support_years=?, contact=?, "
			     "security_fast_path=? WHERE name=?",
			     err);
		if (rc == UPT_OK) {
			sqlite3_bind_text(st, 1, p->hardware_ids, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, p->support_years);
			sqlite3_bind_text(st, 3, p->contact, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, fast);
			sqlite3_bind_text(st, 5, p->name, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = db_fail(s, err, "write");
			else if (sqlite3_changes(s->db) == 0)
				rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown",
						   p->name);
			done(s, st);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

static void product_row(sqlite3_stmt *st, void *v)
{
	struct srv_product *p = v;
	memset(p, 0, sizeof *p);
	text_col(p->name, sizeof p->name, st, 0);
	text_col(p->hardware_ids, sizeof p->hardware_ids, st, 1);
	p->support_years = sqlite3_column_int64(st, 2);
	text_col(p->contact, sizeof p->contact, st, 3);
	p->created = sqlite3_column_int64(st, 4);
	p->security_fast_path = sqlite3_column_int(st, 5) != 0;
}

#define PRODUCT_COLS                                                                      \
	"SELECT name, hardware_ids, support_years, contact, created, security_fast_path " \
	"FROM products"

static int sq_product_get(struct srv_store *b, const char *name, struct srv_product *out,
			  struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, PRODUCT_COLS " WHERE name=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			product_row(st, out);
		else
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown", name);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_product_list(struct srv_store *b, struct srv_product **out, size_t *n,
			   struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, PRODUCT_COLS " ORDER BY name", err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, product_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_device_lifecycle(struct srv_store *b, const char *id, const char *product,
			       const char *manufactured, const char *placed_on_market,
			       const char *support_end, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	const char *v[] = {product, manufactured, placed_on_market, support_end, id};
	int rc, step;
	lock(s);
	rc = prepare(s, &st,
		     "UPDATE devices SET product=?, manufactured=?, placed_on_market=?, "
		     "support_end=? WHERE id=?",
		     err);
	if (rc == UPT_OK) {
		for (int i = 0; i < 5; i++)
			if (v[i] && v[i][0])
				sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
		step = sqlite3_step(st);
		if (step == SQLITE_CONSTRAINT)
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown", product);
		else if (step != SQLITE_DONE)
			rc = db_fail(s, err, "write");
		else if (sqlite3_changes(s->db) == 0)
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- alerts --------------------------------------------------------------- */

static int sq_alert_raise(struct srv_store *b, const struct srv_alert *a, int64_t now, int64_t *id,
			  bool *folded, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *up[] = {&now, a->message, a->evidence, a->device, a->ecu, a->kind};
	const void *ins[] = {a->device, a->ecu, a->kind, a->message, a->evidence, &now, &now};
	int64_t new_id = 0;
	bool fold = false;
	int rc;
	lock(s);
	rc = exec_kept(s, "SAVEPOINT alert", err);
	if (rc == UPT_OK)
		rc = run(s,
			 "UPDATE alerts SET count=count+1, last_seen=?, message=?, evidence=? "
			 "WHERE device=? AND ecu=? AND kind=? AND acked_at=0",
			 "itttt"
			 "t",
			 up, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) > 0) {
		fold = true;
	} else if (rc == UPT_OK) {
		rc = run(s,
			 "INSERT INTO alerts (device, ecu, kind, message, evidence, at, last_seen) "
			 "VALUES (?,?,?,?,?,?,?)",
			 "tttttii", ins, err);
		new_id = sqlite3_last_insert_rowid(s->db);
		for (size_t i = 0; rc == UPT_OK && i < b->policy.n_webhooks; i++) {
			const void *ob[] = {&new_id, b->policy.webhooks[i], &now};
			rc = run(s,
				 "INSERT INTO alert_outbox (alert_id, url, next_at) VALUES (?,?,?)",
				 "iti", ob, err);
		}
		if (rc == UPT_OK)
			rc = keep_newest(s, "alerts", "device", a->device, NULL, NULL,
					 b->policy.alert_history, err);
	}
	if (rc == UPT_OK)
		rc = exec_kept(s, "RELEASE alert", err);
	else
		exec(s, "ROLLBACK TO alert; RELEASE alert", NULL);
	pthread_mutex_unlock(&s->lock);
	if (rc == UPT_OK && id)
		*id = new_id;
	if (rc == UPT_OK && folded)
		*folded = fold;
	return rc;
}

#define ALERT_COLS                                                                             \
	"SELECT rowid, device, ecu, kind, message, evidence, at, last_seen, count, acked_by, " \
	"acked_at FROM alerts"

static void alert_row(sqlite3_stmt *st, void *v)
{
	struct srv_alert *a = v;
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	text_col(a->device, sizeof a->device, st, 1);
	text_col(a->ecu, sizeof a->ecu, st, 2);
	text_col(a->kind, sizeof a->kind, st, 3);
	text_col(a->message, sizeof a->message, st, 4);
	text_col(a->evidence, sizeof a->evidence, st, 5);
	a->first_seen = sqlite3_column_int64(st, 6);
	a->last_seen = sqlite3_column_int64(st, 7);
	a->count = sqlite3_column_int64(st, 8);
	text_col(a->acked_by, sizeof a->acked_by, st, 9);
	a->acked_at = sqlite3_column_int64(st, 10);
}

static int sq_alert_list(struct srv_store *b, const struct srv_alert_filter *f,
			 struct srv_alert **out, size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     ALERT_COLS " WHERE (?1 IS NULL OR kind=?1) AND (?2 IS NULL OR device=?2) AND "
				"last_seen >= ?3 AND (?4 = 0 OR acked_at = 0) "
				"ORDER BY last_seen DESC, rowid DESC LIMIT ?5",
		     err);
	if (rc == UPT_OK) {
		if (f->kind)
			sqlite3_bind_text(st, 1, f->kind, -1, SQLITE_STATIC);
		if (f->device)
			sqlite3_bind_text(st, 2, f->device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, f->since);
		sqlite3_bind_int(st, 4, f->open_only);
		sqlite3_bind_int64(st, 5, f->limit ? (int64_t)f->limit : -1);
		rc = collect(s, st, sizeof **out, alert_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_alert_get(struct srv_store *b, int64_t id, struct srv_alert *out,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, ALERT_COLS " WHERE rowid=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			alert_row(st, out);
		else
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "alert %lld: unknown",
					   (long long)id);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_alert_ack(struct srv_store *b, int64_t id, const char *by, int64_t now,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	struct srv_alert a;
	const void *v[] = {by, &now, &id};
	int rc = sq_alert_get(b, id, &a, err);
	if (rc == UPT_OK && a.acked_at)
		return upt_error_set(err, UPT_ERR_STATE, "alert %lld: acknowledged already by %s",
				     (long long)id, a.acked_by);
	lock(s);
	if (rc == UPT_OK)
		rc = run(s, "UPDATE alerts SET acked_by=?, acked_at=? WHERE rowid=? AND acked_at=0",
			 "tii", v, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) == 0)
		rc = upt_error_set(err, UPT_ERR_STATE, "alert %lld: acknowledged already",
				   (long long)id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void delivery_row(sqlite3_stmt *st, void *v)
{
	struct srv_delivery *d = v;
	memset(d, 0, sizeof *d);
	d->alert_id = sqlite3_column_int64(st, 0);
	text_col(d->url, sizeof d->url, st, 1);
	d->attempts = sqlite3_column_int64(st, 2);
}

static int sq_outbox_claim(struct srv_store *b, int64_t now, int64_t lease, size_t max,
			   struct srv_delivery **out, size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock(s);
	rc = prepare(s, &st,
		     "UPDATE alert_outbox SET next_at=?1 WHERE rowid IN (SELECT rowid FROM "
		     "alert_outbox WHERE next_at <= ?2 ORDER BY next_at LIMIT ?3) "
		     "RETURNING alert_id, url, attempts",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, now + lease);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, (int64_t)max);
		rc = collect(s, st, sizeof **out, delivery_row, (void **)out, n, err);
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_outbox_done(struct srv_store *b, int64_t alert_id, const char *url,
			  struct upt_error *err)
{
	const void *v[] = {&alert_id, url};
	return run(S(b), "DELETE FROM alert_outbox WHERE alert_id=? AND url=?", "it", v, err);
}

static int sq_outbox_retry(struct srv_store *b, int64_t alert_id, const char *url, int64_t next_at,
			   struct upt_error *err)
{
	const void *v[] = {&next_at, &alert_id, url};
	return run(S(b),
		   "UPDATE alert_outbox SET attempts=attempts+1, next_at=? WHERE alert_id=? AND "
		   "url=?",
		   "iit", v, err);
}

static void sq_close(struct srv_store *b)
{
	struct sqlite_store *s = S(b);
	if (!s)
		return;
	/* the committers finish what is queued */
	pthread_mutex_lock(&s->wait_lock);
	s->committers_stop = true;
	pthread_cond_broadcast(&s->commit_cv);
	pthread_mutex_unlock(&s->wait_lock);
	for (unsigned i = 0; i < s->n_committers; i++)
		pthread_join(s->committers[i], NULL);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < sizeof s->tx_stmts / sizeof s->tx_stmts[0]; i++)
		sqlite3_finalize(s->tx_stmts[i].st);
	for (size_t i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(s->stmts[i].st);
		free(s->stmts[i].sql);
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t r = 0; r < s->n_readers; r++) {
		for (size_t i = 0; i < STMT_CACHE; i++) {
			sqlite3_finalize(s->readers[r].stmts[i].st);
			free(s->readers[r].stmts[i].sql);
		}
		sqlite3_close(s->readers[r].db);
		pthread_mutex_destroy(&s->readers[r].lock);
	}
	sqlite3_close(s->db);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->wait_lock);
	pthread_cond_destroy(&s->lead_cv);
	pthread_cond_destroy(&s->commit_cv);
	free(s);
}

static int sq_published_put(struct srv_store *b, const struct srv_published *t, size_t n,
			    struct upt_error *err)
{
	int rc = UPT_OK;
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		int64_t sec = t[i].security;
		const void *v[] = {t[i].name,         t[i].sha256,           &t[i].length,
				   t[i].hardware_ids, &t[i].release_counter, &sec,
				   &t[i].published,   t[i].sbom_sha256};
		rc = run(S(b),
			 "INSERT INTO published_targets (name, sha256, length, hardware_ids, "
			 "release_counter, security, published, sbom_sha256) VALUES "
			 "(?,?,?,?,?,?,?,?) ON CONFLICT(name, sha256) DO NOTHING",
			 "ttitiiit", v, err);
	}
	return rc;
}

static void published_row(sqlite3_stmt *st, void *p)
{
	struct srv_published *t = p;
	memset(t, 0, sizeof *t);
	text_col(t->name, sizeof t->name, st, 0);
	text_col(t->sha256, sizeof t->sha256, st, 1);
	t->length = sqlite3_column_int64(st, 2);
	text_col(t->hardware_ids, sizeof t->hardware_ids, st, 3);
	t->release_counter = sqlite3_column_int64(st, 4);
	t->security = sqlite3_column_int(st, 5) != 0;
	t->published = sqlite3_column_int64(st, 6);
	text_col(t->sbom_sha256, sizeof t->sbom_sha256, st, 7);
}

static int sq_published_list(struct srv_store *b, struct srv_published **out, size_t *n,
			     struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT name, sha256, length, hardware_ids, release_counter, security, "
		     "published, sbom_sha256 FROM published_targets ORDER BY name, published",
		     err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, published_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

/* ---- users, tokens, sessions, audit ---------------------------------------- */

static void user_row(sqlite3_stmt *st, void *p)
{
	struct srv_user *u = p;
	memset(u, 0, sizeof *u);
	text_col(u->name, sizeof u->name, st, 0);
	text_col(u->role, sizeof u->role, st, 1);
	text_col(u->pw_hash, sizeof u->pw_hash, st, 2);
	u->created = sqlite3_column_int64(st, 3);
}

#define USER_COLS "SELECT name, role, pw_hash, created FROM users"

static int sq_user_put(struct srv_store *b, const struct srv_user *u, bool create,
		       struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {u->name, u->role, u->pw_hash};
	const void *w[] = {u->role, u->pw_hash, u->name};
	int rc;
	lock(s);
	rc = create
		 ? run(s, "INSERT INTO users (name, role, pw_hash) VALUES (?,?,?)", "ttt", v, err)
		 : run(s, "UPDATE users SET role=?, pw_hash=? WHERE name=?", "ttt", w, err);
	if (rc == UPT_ERR_STATE && create)
		upt_error_set(err, UPT_ERR_STATE, "user %s exists already", u->name);
	else if (rc == UPT_OK && !create && sqlite3_changes(s->db) == 0)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "user %s: unknown", u->name);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The first row of a one-text-parameter query, or UPT_ERR_NOT_FOUND. */
static int one_row(struct sqlite_store *s, const char *sql, const char *arg, int64_t arg2,
		   void (*row)(sqlite3_stmt *, void *), void *out, struct upt_error *err)
{
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st, sql, err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(st) > 1)
			sqlite3_bind_int64(st, 2, arg2);
		if (sqlite3_step(st) == SQLITE_ROW)
			row(st, out);
		else
			rc = UPT_ERR_NOT_FOUND;
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_user_get(struct srv_store *b, const char *name, struct srv_user *out,
		       struct upt_error *err)
{
	int rc = one_row(S(b), USER_COLS " WHERE name=?", name, 0, user_row, out, err);
	if (rc == UPT_ERR_NOT_FOUND)
		upt_error_set(err, rc, "user %s: unknown", name);
	return rc;
}

static int sq_user_list(struct srv_store *b, struct srv_user **out, size_t *n,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st, USER_COLS " ORDER BY name", err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, user_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_user_remove(struct srv_store *b, const char *name, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {name};
	int rc = sq_begin(b, err);
	if (rc == UPT_OK)
		rc = run(s, "DELETE FROM users WHERE name=?", "t", v, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) == 0)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "user %s: unknown", name);
	if (rc == UPT_OK)
		rc = run(s, "DELETE FROM api_tokens WHERE user=?", "t", v, err);
	if (rc == UPT_OK)
		rc = run(s, "DELETE FROM sessions WHERE user=?", "t", v, err);
	if (rc == UPT_OK)
		return sq_commit(b, err);
	sq_rollback(b);
	return rc;
}

static int sq_token_put(struct srv_store *b, const char *digest, const char *user, int64_t now,
			struct upt_error *err)
{
	const void *v[] = {digest, user, &now};
	return run(S(b), "INSERT INTO api_tokens (digest, user, created) VALUES (?,?,?)", "tti", v,
		   err);
}

static int sq_token_user(struct srv_store *b, const char *digest, struct srv_user *out,
			 struct upt_error *err)
{
	int rc = one_row(S(b),
			 "SELECT u.name, u.role, u.pw_hash, u.created FROM api_tokens t JOIN users "
			 "u ON u.name=t.user WHERE t.digest=?",
			 digest, 0, user_row, out, err);
	if (rc == UPT_ERR_NOT_FOUND)
		upt_error_set(err, rc, "unknown API token");
	return rc;
}

static int sq_session_put(struct srv_store *b, const char *digest, const char *user,
			  const char *csrf, int64_t expires, struct upt_error *err)
{
	const void *v[] = {digest, user, csrf, &expires};
	return run(S(b), "INSERT INTO sessions (digest, user, csrf, expires) VALUES (?,?,?,?)",
		   "ttti", v, err);
}

static void session_row(sqlite3_stmt *st, void *p)
{
	struct srv_session *x = p;
	memset(x, 0, sizeof *x);
	text_col(x->user, sizeof x->user, st, 0);
	text_col(x->role, sizeof x->role, st, 1);
	text_col(x->csrf, sizeof x->csrf, st, 2);
	x->expires = sqlite3_column_int64(st, 3);
}

static int sq_session_get(struct srv_store *b, const char *digest, int64_t now,
			  struct srv_session *out, struct upt_error *err)
{
	int rc = one_row(S(b),
			 "SELECT s.user, u.role, s.csrf, s.expires FROM sessions s JOIN users u ON "
			 "u.name=s.user WHERE s.digest=? AND s.expires>?",
			 digest, now, session_row, out, err);
	if (rc == UPT_ERR_NOT_FOUND)
		upt_error_set(err, rc, "no such session, or it has expired");
	return rc;
}

static int sq_session_remove(struct srv_store *b, const char *digest, struct upt_error *err)
{
	const void *v[] = {digest};
	return run(S(b), "DELETE FROM sessions WHERE digest=?", "t", v, err);
}

static int sq_audit_add(struct srv_store *b, const struct srv_audit *a, struct upt_error *err)
{
	const void *v[] = {&a->at,    a->actor, a->role,    a->remote,
			   a->method, a->path,  &a->status, a->detail};
	return run(S(b),
		   "INSERT INTO audit_log (at, actor, role, remote, method, path, status, detail) "
		   "VALUES (?,?,?,?,?,?,?,?)",
		   "itttttit", v, err);
}

static void audit_row(sqlite3_stmt *st, void *p)
{
	struct srv_audit *a = p;
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	a->at = sqlite3_column_int64(st, 1);
	text_col(a->actor, sizeof a->actor, st, 2);
	text_col(a->role, sizeof a->role, st, 3);
	text_col(a->remote, sizeof a->remote, st, 4);
	text_col(a->method, sizeof a->method, st, 5);
	text_col(a->path, sizeof a->path, st, 6);
	a->status = sqlite3_column_int64(st, 7);
	text_col(a->detail, sizeof a->detail, st, 8);
}

static int sq_audit_list(struct srv_store *b, int64_t since, int64_t limit, struct srv_audit **out,
			 size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT id, at, actor, role, remote, method, path, status, detail FROM "
		     "audit_log WHERE at>=? ORDER BY id LIMIT ?",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, since);
		sqlite3_bind_int64(st, 2, limit);
		rc = collect(s, st, sizeof **out, audit_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

/* BEGIN IMMEDIATE holds the database's write lock already: every
 * transaction is serialised with those of other processes on the file. */
static int sq_lock(struct srv_store *b, const char *name, struct upt_error *err)
{
	(void)b;
	(void)name;
	(void)err;
	return UPT_OK;
}

/* No announcements between processes on one file: the others see a change
 * when their cached copies expire (director_cache_ms). */
static int sq_changed(struct srv_store *b, const char *what, struct upt_error *err)
{
	(void)b;
	(void)what;
	(void)err;
	return UPT_OK;
}

static int sq_watch(struct srv_store *b, srv_change_fn fn, void *ctx, struct upt_error *err)
{
	(void)b;
	(void)fn;
	(void)ctx;
	(void)err;
	return UPT_OK;
}

static void sq_unwatch(struct srv_store *b)
{
	(void)b;
}

/* A local file: there whenever the server is. */
static int sq_ping(struct srv_store *b, struct upt_error *err)
{
	(void)b;
	(void)err;
	return UPT_OK;
}

static uint64_t sq_failures(struct srv_store *b)
{
	(void)b;
	return 0;
}

static int sq_ecu_scan(struct srv_store *b, srv_ecu_scan_fn fn, void *ctx, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	struct srv_ecu_row row;
	int rc, step = SQLITE_DONE;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT device, serial, hardware_id, installed, installed_sha256, reported_at "
		     "FROM ecus ORDER BY device, serial",
		     err);
	while (rc == UPT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		text_col(row.device, sizeof row.device, st, 0);
		text_col(row.serial, sizeof row.serial, st, 1);
		text_col(row.hardware_id, sizeof row.hardware_id, st, 2);
		text_col(row.installed, sizeof row.installed, st, 3);
		text_col(row.installed_sha256, sizeof row.installed_sha256, st, 4);
		row.reported_at = sqlite3_column_int64(st, 5);
		rc = fn(ctx, &row);
	}
	if (rc == UPT_OK && step != SQLITE_DONE)
		rc = db_fail(s, err, "ecu scan");
	if (st)
		done(s, st);
	unlock_read(s);
	return rc;
}

static int sq_manifest_scan(struct srv_store *b, const char *device, srv_manifest_scan_fn fn,
			    void *ctx, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	int rc, step = SQLITE_DONE;
	pthread_mutex_lock(&s->lock);
	rc = prepare(s, &st,
		     device
			 ? "SELECT device, received, body, accepted FROM manifests WHERE device=? "
			   "ORDER BY received, rowid"
			 : "SELECT device, received, body, accepted FROM manifests "
			   "ORDER BY received, rowid",
		     err);
	if (rc == UPT_OK && device)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	while (rc == UPT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		char dev[128];
		const void *body = sqlite3_column_blob(st, 2);
		int len = sqlite3_column_bytes(st, 2);
		const unsigned char *acc = sqlite3_column_text(st, 3);
		text_col(dev, sizeof dev, st, 0);
		rc = fn(ctx, dev, sqlite3_column_int64(st, 1), body ? body : "",
			len > 0 ? (size_t)len : 0, (const char *)acc);
	}
	if (rc == UPT_OK && step != SQLITE_DONE)
		rc = db_fail(s, err, "manifest scan");
	done(s, st); /* back to the statement cache prepare() took it from */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- cursors -------------------------------------------------------------- */

static const char *const cursor_sql[] = {
    [SRV_SCAN_ECUS] = "SELECT device, serial, hardware_id, installed, installed_sha256, "
		      "reported_at FROM ecus ORDER BY device, serial",
    [SRV_SCAN_DEVICES] = DEVICE_COLS " ORDER BY id",
    [SRV_SCAN_ALERTS] =
	ALERT_COLS " WHERE (?1 IS NULL OR kind=?1) AND (?2 IS NULL OR device=?2) AND "
		   "last_seen >= ?3 AND (?4 = 0 OR acked_at = 0) "
		   "ORDER BY last_seen DESC, rowid DESC LIMIT ?5",
    [SRV_SCAN_IMAGES] = "SELECT installed_sha256, hardware_id, min(installed), count(*), "
			"count(DISTINCT device) FROM ecus GROUP BY installed_sha256, hardware_id "
			"ORDER BY installed_sha256, hardware_id",
};

struct srv_cursor {
	struct sqlite_store *s;
	sqlite3 *db; /* its own read-only connection; NULL: the store's (in memory) */
	sqlite3_stmt *st;
	enum srv_scan what;
};

static void sq_cursor_close(struct srv_cursor *c)
{
	if (!c)
		return;
	if (c->db) {
		sqlite3_finalize(c->st);
		sqlite3_close(c->db);
	} else if (c->st) {
		pthread_mutex_lock(&c->s->lock);
		sqlite3_finalize(c->st);
		pthread_mutex_unlock(&c->s->lock);
	}
	free(c);
}

static int sq_cursor_open(struct srv_store *b, enum srv_scan what, const struct srv_alert_filter *f,
			  struct srv_cursor **out, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	struct srv_cursor *c = calloc(1, sizeof *c);
	sqlite3 *db;
	int rc = UPT_OK;
	*out = NULL;
	if (!c)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	c->s = s;
	c->what = what;
	if (s->path[0]) {
		if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK)
			rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", s->path,
					   c->db ? sqlite3_errmsg(c->db) : "cannot open");
		else if (sqlite3_busy_timeout(c->db, 5000) != SQLITE_OK ||
			 /* one pass in order: a small page cache is enough */
			 sqlite3_exec(c->db, "PRAGMA cache_size=-256", NULL, NULL, NULL) !=
			     SQLITE_OK)
			rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", s->path,
					   sqlite3_errmsg(c->db));
	}
	db = c->db ? c->db : s->db;
	if (!c->db)
		pthread_mutex_lock(&s->lock);
	if (rc == UPT_OK && sqlite3_prepare_v2(db, cursor_sql[what], -1, &c->st, NULL) != SQLITE_OK)
		rc = upt_error_set(err, UPT_ERR_IO, "sqlite: cursor: %s", sqlite3_errmsg(db));
	if (rc == UPT_OK && what == SRV_SCAN_ALERTS) {
		if (f->kind)
			sqlite3_bind_text(c->st, 1, f->kind, -1, SQLITE_TRANSIENT);
		if (f->device)
			sqlite3_bind_text(c->st, 2, f->device, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(c->st, 3, f->since);
		sqlite3_bind_int(c->st, 4, f->open_only);
		sqlite3_bind_int64(c->st, 5, f->limit ? (int64_t)f->limit : -1);
	}
	if (!c->db)
		pthread_mutex_unlock(&s->lock);
	if (rc != UPT_OK) {
		sq_cursor_close(c);
		return rc;
	}
	*out = c;
	return UPT_OK;
}

static void image_row(sqlite3_stmt *st, struct srv_image_row *r)
{
	text_col(r->sha256, sizeof r->sha256, st, 0);
	text_col(r->hardware_id, sizeof r->hardware_id, st, 1);
	text_col(r->installed, sizeof r->installed, st, 2);
	r->ecus = sqlite3_column_int64(st, 3);
	r->devices = sqlite3_column_int64(st, 4);
}

static void scan_row(sqlite3_stmt *st, struct srv_ecu_row *row)
{
	text_col(row->device, sizeof row->device, st, 0);
	text_col(row->serial, sizeof row->serial, st, 1);
	text_col(row->hardware_id, sizeof row->hardware_id, st, 2);
	text_col(row->installed, sizeof row->installed, st, 3);
	text_col(row->installed_sha256, sizeof row->installed_sha256, st, 4);
	row->reported_at = sqlite3_column_int64(st, 5);
}

static int sq_cursor_next(struct srv_cursor *c, void *row, struct upt_error *err)
{
	int step, rc = 1;
	if (!c->db)
		pthread_mutex_lock(&c->s->lock);
	step = sqlite3_step(c->st);
	if (step == SQLITE_ROW && c->what == SRV_SCAN_ECUS)
		scan_row(c->st, row);
	else if (step == SQLITE_ROW && c->what == SRV_SCAN_DEVICES)
		device_row(c->st, row);
	else if (step == SQLITE_ROW && c->what == SRV_SCAN_ALERTS)
		alert_row(c->st, row);
	else if (step == SQLITE_ROW)
		image_row(c->st, row);
	else if (step == SQLITE_DONE)
		rc = 0;
	else
		rc = upt_error_set(err, UPT_ERR_IO, "sqlite: cursor: %s",
				   sqlite3_errmsg(c->db ? c->db : c->s->db));
	if (!c->db)
		pthread_mutex_unlock(&c->s->lock);
	return rc;
}

/* ---- campaigns ---------------------------------------------------------- */

static int sq_device_tags(struct srv_store *b, const char *id, const char *tags, int64_t utc_offset,
			  struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {tags, &utc_offset, id};
	int rc = run(s, "UPDATE devices SET tags=?, utc_offset=? WHERE id=?", "tit", v, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) == 0)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
	return rc;
}

static int sq_assign_withdraw(struct srv_store *b, const char *device, const char *ecu,
			      const char *correlation_id, struct upt_error *err)
{
	const void *v[] = {device, ecu, correlation_id};
	return run(S(b),
		   "DELETE FROM assignments WHERE device=? AND ecu_serial=? AND correlation_id=?",
		   "ttt", v, err);
}

static void bind_member(sqlite3_stmt *st, const struct srv_member *m)
{
	sqlite3_bind_int64(st, 1, m->campaign);
	sqlite3_bind_text(st, 2, m->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->ecu, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->hardware_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, m->stage);
	sqlite3_bind_text(st, 6, m->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, m->correlation_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, m->from_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, m->assigned_at);
	sqlite3_bind_int(st, 11, m->published);
	sqlite3_bind_int(st, 12, m->active);
	sqlite3_bind_int64(st, 13, m->updated);
}

/* Which active campaign holds an ECU (for the error naming it). */
static int64_t holder(struct sqlite_store *s, const char *device, const char *ecu)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	if (prepare(s, &st,
		    "SELECT campaign FROM campaign_members WHERE device=? AND ecu=? AND active=1",
		    NULL) != UPT_OK)
		return 0;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ecu, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	done(s, st);
	return id;
}

static int sq_campaign_add(struct srv_store *b, struct srv_campaign *c, const struct srv_member *m,
			   size_t n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	int rc = sq_begin(b, err);
	if (rc != UPT_OK)
		return rc;
	rc =
	    prepare(s, &st,
		    "INSERT INTO campaigns (name, spec, status, stage, approved, created, updated) "
		    "VALUES (?,?,?,?,?,?,?)",
		    err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->spec, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->stage);
		sqlite3_bind_int64(st, 5, c->approved);
		sqlite3_bind_int64(st, 6, c->created);
		sqlite3_bind_int64(st, 7, c->updated);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "campaign insert");
		done(s, st);
		c->id = sqlite3_last_insert_rowid(s->db);
	}
	if (rc == UPT_OK)
		rc = prepare(
		    s, &st,
		    "INSERT INTO campaign_members (campaign, device, ecu, hardware_id, stage, "
		    "state, sha256, correlation_id, from_sha256, assigned_at, published, "
		    "active, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		struct srv_member x = m[i];
		int step;
		x.campaign = c->id;
		sqlite3_reset(st);
		bind_member(st, &x);
		step = sqlite3_step(st);
		if (step == SQLITE_CONSTRAINT)
			rc = upt_error_set(err, UPT_ERR_STATE,
					   "device %s ECU %s is already in active campaign %lld",
					   x.device, x.ecu, (long long)holder(s, x.device, x.ecu));
		else if (step != SQLITE_DONE)
			rc = db_fail(s, err, "campaign member insert");
	}
	if (st)
		done(s, st);
	if (rc == UPT_OK)
		return sq_commit(b, err);
	sq_rollback(b);
	return rc;
}

static int sq_member_add(struct srv_store *b, const struct srv_member *m, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc, step;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO campaign_members (campaign, device, ecu, hardware_id, stage, "
		     "state, sha256, correlation_id, from_sha256, assigned_at, published, "
		     "active, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		     err);
	if (rc == UPT_OK) {
		bind_member(st, m);
		step = sqlite3_step(st);
		if (step == SQLITE_CONSTRAINT)
			rc = upt_error_set(err, UPT_ERR_STATE,
					   "device %s ECU %s is already in an active campaign",
					   m->device, m->ecu);
		else if (step != SQLITE_DONE)
			rc = db_fail(s, err, "campaign member insert");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

#define CAMPAIGN_COLS                                                                             \
	"SELECT id, name, spec, status, stage, approved, stage_started, met_at, acked_failures, " \
	"reason, created, updated, released FROM campaigns"

static void campaign_row(sqlite3_stmt *st, void *p)
{
	struct srv_campaign *c = p;
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(st, 0);
	text_col(c->name, sizeof c->name, st, 1);
	c->spec = strdup((const char *)sqlite3_column_text(st, 2));
	text_col(c->status, sizeof c->status, st, 3);
	c->stage = sqlite3_column_int64(st, 4);
	c->approved = sqlite3_column_int64(st, 5);
	c->stage_started = sqlite3_column_int64(st, 6);
	c->met_at = sqlite3_column_int64(st, 7);
	c->acked_failures = sqlite3_column_int64(st, 8);
	text_col(c->reason, sizeof c->reason, st, 9);
	c->created = sqlite3_column_int64(st, 10);
	c->updated = sqlite3_column_int64(st, 11);
	c->released = sqlite3_column_int64(st, 12);
}

static int spec_check(struct srv_campaign *c, size_t n, struct upt_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!c[i].spec)
			return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	return UPT_OK;
}

/* In SQLite, begin already holds the database's write lock: `lock` needs
 * nothing more. */
static int sq_campaign_get(struct srv_store *b, int64_t id, bool lock, struct srv_campaign *out,
			   struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	(void)lock;
	memset(out, 0, sizeof *out);
	lock_read(s);
	rc = prepare(s, &st, CAMPAIGN_COLS " WHERE id=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			campaign_row(st, out);
			rc = spec_check(out, 1, err);
		} else {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "campaign %lld: unknown",
					   (long long)id);
		}
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_campaign_list(struct srv_store *b, struct srv_campaign **out, size_t *n,
			    struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st, CAMPAIGN_COLS " ORDER BY id DESC", err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, campaign_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	if (rc == UPT_OK && (rc = spec_check(*out, *n, err)) != UPT_OK) {
		srv_campaigns_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int sq_campaign_set(struct srv_store *b, const struct srv_campaign *c, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {
	    c->status,          &c->stage, &c->approved, &c->stage_started, &c->met_at,
	    &c->acked_failures, c->reason, &c->updated,  &c->released,      &c->id};
	int rc;
	lock(s);
	rc = run(s,
		 "UPDATE campaigns SET status=?, stage=?, approved=?, stage_started=?, met_at=?, "
		 "acked_failures=?, reason=?, updated=?, released=? WHERE id=?",
		 "tiiiiitiii", v, err);
	if (rc == UPT_OK && strcmp(c->status, "cancelled") == 0) {
		const void *w[] = {&c->updated, &c->id};
		rc =
		    run(s,
			"UPDATE campaign_members SET state='cancelled', updated=? WHERE campaign=? "
			"AND state NOT IN ('succeeded','failed','rolled_back','already_installed')",
			"ii", w, err);
	}
	if (rc == UPT_OK &&
	    (strcmp(c->status, "cancelled") == 0 || strcmp(c->status, "finished") == 0)) {
		const void *w[] = {&c->id};
		rc = run(s, "UPDATE campaign_members SET active=0 WHERE campaign=?", "i", w, err);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

#define MEMBER_COLS                                                                          \
	"SELECT m.campaign, m.device, m.ecu, m.hardware_id, m.stage, m.state, m.sha256, "    \
	"m.correlation_id, m.from_sha256, m.assigned_at, m.published, m.active, m.updated, " \
	"d.utc_offset, COALESCE(p.security_fast_path, 1) FROM campaign_members m "           \
	"JOIN devices d ON d.id = m.device LEFT JOIN products p ON p.name = d.product"

static void member_row(sqlite3_stmt *st, void *p)
{
	struct srv_member *m = p;
	memset(m, 0, sizeof *m);
	m->campaign = sqlite3_column_int64(st, 0);
	text_col(m->device, sizeof m->device, st, 1);
	text_col(m->ecu, sizeof m->ecu, st, 2);
	text_col(m->hardware_id, sizeof m->hardware_id, st, 3);
	m->stage = sqlite3_column_int64(st, 4);
	text_col(m->state, sizeof m->state, st, 5);
	text_col(m->sha256, sizeof m->sha256, st, 6);
	text_col(m->correlation_id, sizeof m->correlation_id, st, 7);
	text_col(m->from_sha256, sizeof m->from_sha256, st, 8);
	m->assigned_at = sqlite3_column_int64(st, 9);
	m->published = sqlite3_column_int(st, 10) != 0;
	m->active = sqlite3_column_int(st, 11) != 0;
	m->updated = sqlite3_column_int64(st, 12);
	m->utc_offset = sqlite3_column_int64(st, 13);
	m->fast_path_ok = sqlite3_column_int(st, 14) != 0;
}

static int sq_member_list(struct srv_store *b, int64_t campaign, int64_t stage,
			  struct srv_member **out, size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     MEMBER_COLS " WHERE m.campaign=? AND (?<0 OR m.stage=?) "
				 "ORDER BY m.stage, m.device, m.ecu",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, campaign);
		sqlite3_bind_int64(st, 2, stage);
		sqlite3_bind_int64(st, 3, stage);
		rc = collect(s, st, sizeof **out, member_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_member_set(struct srv_store *b, const struct srv_member *m, struct upt_error *err)
{
	int64_t pub = m->published;
	const void *v[] = {m->state,        m->sha256, m->correlation_id, m->from_sha256,
			   &m->assigned_at, &pub,      &m->updated,       &m->campaign,
			   m->device,       m->ecu};
	return run(
	    S(b),
	    "UPDATE campaign_members SET state=?, sha256=?, correlation_id=?, from_sha256=?, "
	    "assigned_at=?, published=?, updated=? WHERE campaign=? AND device=? AND ecu=?",
	    "ttttiiiitt", v, err);
}

static void count_row(sqlite3_stmt *st, void *p)
{
	struct srv_member_count *c = p;
	memset(c, 0, sizeof *c);
	c->stage = sqlite3_column_int64(st, 0);
	text_col(c->state, sizeof c->state, st, 1);
	c->n = sqlite3_column_int64(st, 2);
}

static int sq_member_counts(struct srv_store *b, int64_t campaign, struct srv_member_count **out,
			    size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT stage, state, count(*) FROM campaign_members WHERE campaign=? "
		     "GROUP BY stage, state ORDER BY stage, state",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, campaign);
		rc = collect(s, st, sizeof **out, count_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_device_members(struct srv_store *b, const char *device, struct srv_member **out,
			     size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st, MEMBER_COLS " WHERE m.device=? AND m.active=1 ORDER BY m.ecu", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		rc = collect(s, st, sizeof **out, member_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_campaign_log(struct srv_store *b, int64_t campaign, int64_t at, const char *text,
			   struct upt_error *err)
{
	const void *v[] = {&campaign, &at, text};
	return run(S(b), "INSERT INTO campaign_log (campaign, at, text) VALUES (?,?,?)", "iit", v,
		   err);
}

static void event_row(sqlite3_stmt *st, void *p)
{
	struct srv_campaign_event *e = p;
	e->at = sqlite3_column_int64(st, 0);
	text_col(e->text, sizeof e->text, st, 1);
}

static int sq_campaign_log_list(struct srv_store *b, int64_t campaign,
				struct srv_campaign_event **out, size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT at, text FROM campaign_log WHERE campaign=? ORDER BY at, rowid", err);
	if (rc == UPT_OK) {
		sqlite3_bind_int64(st, 1, campaign);
		rc = collect(s, st, sizeof **out, event_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_sbom_put(struct srv_store *b, const struct srv_sbom *sb, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO sboms (sha256, sha512, format, created, data) VALUES "
		     "(?,?,?,?,?) ON CONFLICT(sha256) DO NOTHING",
		     err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, sb->sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sb->sha512, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sb->format, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, sb->created);
		sqlite3_bind_blob64(st, 5, sb->data, sb->len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "sbom insert");
		done(s, st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_sbom_get(struct srv_store *b, const char *sha256, struct srv_sbom *out,
		       struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	memset(out, 0, sizeof *out);
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT sha256, sha512, format, created, data FROM sboms WHERE sha256=?", err);
	if (rc == UPT_OK) {
		sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(st, 4);
			text_col(out->sha256, sizeof out->sha256, st, 0);
			text_col(out->sha512, sizeof out->sha512, st, 1);
			text_col(out->format, sizeof out->format, st, 2);
			out->created = sqlite3_column_int64(st, 3);
			if (!(out->data = malloc(n + 1)))
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else {
				memcpy(out->data, sqlite3_column_blob(st, 4), n);
				out->data[n] = 0;
				out->len = n;
			}
		} else {
			rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "sbom %s: not stored", sha256);
		}
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static int sq_sbom_hashes(struct srv_store *b, char (**out)[65], size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st, "SELECT sha256 FROM sboms ORDER BY sha256", err);
	while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			char(*more)[65] = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *more);
			if (!more) {
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			*out = more;
		}
		text_col((*out)[(*n)++], 65, st, 0);
	}
	if (st)
		done(s, st);
	unlock_read(s);
	if (rc != UPT_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* One statement, prepared once, stepped for each row of the batch. */
static int sq_match_put(struct srv_store *b, const struct srv_vmatch *m, size_t n,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	int rc;
	lock(s);
	rc = prepare(s, &st,
		     "INSERT INTO vuln_matches (vuln, sbom, hits) VALUES (?,?,?) "
		     "ON CONFLICT(vuln, sbom) DO UPDATE SET hits=excluded.hits",
		     err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		sqlite3_bind_text(st, 1, m[i].vuln, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m[i].sbom, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, m[i].hits, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(s, err, "write");
		sqlite3_reset(st);
	}
	if (st)
		done(s, st);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_match_clear(struct srv_store *b, const char *vuln, const char *sbom,
			  struct upt_error *err)
{
	/* one statement per case, each on an index (an OR would scan the table) */
	const void *v[] = {vuln[0] ? vuln : sbom, sbom};
	if (vuln[0] && sbom[0])
		return run(S(b), "DELETE FROM vuln_matches WHERE vuln = ? AND sbom = ?", "tt", v,
			   err);
	if (vuln[0] || sbom[0])
		return run(S(b),
			   vuln[0] ? "DELETE FROM vuln_matches WHERE vuln = ?"
				   : "DELETE FROM vuln_matches WHERE sbom = ?",
			   "t", v, err);
	return run(S(b), "DELETE FROM vuln_matches", "", v, err);
}

static int sq_match_list(struct srv_store *b, struct srv_vmatch **out, size_t *n,
			 struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st, "SELECT vuln, sbom, hits FROM vuln_matches ORDER BY vuln, sbom", err);
	while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct srv_vmatch *m;
		const unsigned char *h = sqlite3_column_text(st, 2);
		if (*n == cap) {
			struct srv_vmatch *more =
			    realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *more);
			if (!more) {
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			*out = more;
		}
		m = &(*out)[*n];
		memset(m, 0, sizeof *m);
		text_col(m->vuln, sizeof m->vuln, st, 0);
		text_col(m->sbom, sizeof m->sbom, st, 1);
		if (!(m->hits = strdup(h ? (const char *)h : ""))) {
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	if (st)
		done(s, st);
	unlock_read(s);
	if (rc != UPT_OK) {
		srv_vmatches_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int sq_vuln_put(struct srv_store *b, const struct srv_vuln *v, struct upt_error *err)
{
	int64_t w = v->withdrawn;
	const void *vals[] = {v->id, v->modified, &w, &v->imported, v->record};
	return run(S(b),
		   "INSERT INTO vulns (id, modified, withdrawn, imported, record) VALUES "
		   "(?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET modified=excluded.modified, "
		   "withdrawn=excluded.withdrawn, imported=excluded.imported, "
		   "record=excluded.record",
		   "ttiit", vals, err);
}

static int sq_vuln_list(struct srv_store *b, struct srv_vuln **out, size_t *n,
			struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT id, modified, withdrawn, imported, exploited_at, record, "
		     "reported_early, reported_notification, reported_final FROM vulns "
		     "ORDER BY id",
		     err);
	while (rc == UPT_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct srv_vuln *v;
		const unsigned char *t = sqlite3_column_text(st, 5);
		if (*n == cap) {
			struct srv_vuln *more =
			    realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *more);
			if (!more) {
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
				break;
			}
			*out = more;
		}
		v = &(*out)[*n];
		memset(v, 0, sizeof *v);
		text_col(v->id, sizeof v->id, st, 0);
		text_col(v->modified, sizeof v->modified, st, 1);
		v->withdrawn = sqlite3_column_int(st, 2) != 0;
		v->imported = sqlite3_column_int64(st, 3);
		v->exploited_at = sqlite3_column_int64(st, 4);
		for (int k = 0; k < 3; k++)
			v->reported[k] = sqlite3_column_int64(st, 6 + k);
		if (!(v->record = strdup(t ? (const char *)t : "{}"))) {
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	if (st)
		done(s, st);
	unlock_read(s);
	if (rc != UPT_OK) {
		srv_vulns_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static const char *const mark_sql[] = {
    "UPDATE vulns SET exploited_at=? WHERE id=?",
    "UPDATE vulns SET reported_early=? WHERE id=?",
    "UPDATE vulns SET reported_notification=? WHERE id=?",
    "UPDATE vulns SET reported_final=? WHERE id=?",
};

static int sq_vuln_mark(struct srv_store *b, const char *id, enum srv_vuln_mark what,
			int64_t aware_at, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	const void *v[] = {&aware_at, id};
	int rc;
	lock(s);
	rc = run(s, mark_sql[what], "it", v, err);
	if (rc == UPT_OK && sqlite3_changes(s->db) == 0)
		rc = upt_error_set(err, UPT_ERR_NOT_FOUND, "vulnerability %s: not imported", id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_vex_put(struct srv_store *b, const char *document, const struct srv_vex *v, size_t n,
		      struct upt_error *err)
{
	const void *d[] = {document};
	int rc = run(S(b), "DELETE FROM vex WHERE document=?", "t", d, err);
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		const void *vals[] = {document,    v[i].vuln,          v[i].product,
				      v[i].status, v[i].justification, &v[i].imported};
		rc = run(
		    S(b),
		    "INSERT INTO vex (document, vuln, product, status, justification, imported) "
		    "VALUES (?,?,?,?,?,?) ON CONFLICT(document, vuln, product) DO UPDATE SET "
		    "status=excluded.status, justification=excluded.justification",
		    "ttttti", vals, err);
	}
	return rc;
}

static void vex_row(sqlite3_stmt *st, void *p)
{
	struct srv_vex *v = p;
	memset(v, 0, sizeof *v);
	text_col(v->document, sizeof v->document, st, 0);
	text_col(v->vuln, sizeof v->vuln, st, 1);
	text_col(v->product, sizeof v->product, st, 2);
	text_col(v->status, sizeof v->status, st, 3);
	text_col(v->justification, sizeof v->justification, st, 4);
	v->imported = sqlite3_column_int64(st, 5);
}

static int sq_vex_list(struct srv_store *b, struct srv_vex **out, size_t *n, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	lock_read(s);
	rc = prepare(s, &st,
		     "SELECT document, vuln, product, status, justification, imported FROM vex "
		     "ORDER BY vuln, product, document",
		     err);
	if (rc == UPT_OK) {
		rc = collect(s, st, sizeof **out, vex_row, (void **)out, n, err);
		done(s, st);
	}
	unlock_read(s);
	return rc;
}

static const struct srv_store_ops sqlite_ops = {
    .name = "sqlite",
    .begin = sq_begin,
    .grouped = sq_grouped,
    .grouped_async = sq_grouped_async,
    .grouped_expect = sq_grouped_expect,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .meta_put = sq_meta_put,
    .meta_get = sq_meta_get,
    .meta_roles = sq_meta_roles,
    .image_put = sq_image_put,
    .image_get = sq_image_get,
    .key_put = sq_key_put,
    .key_get = sq_key_get,
    .key_del = sq_key_del,
    .device_add = sq_device_add,
    .device_get = sq_device_get,
    .device_list = sq_device_list,
    .ecus_put = sq_ecus_put,
    .ecus_get = sq_ecus_get,
    .ecus_lock = sq_ecus_lock,
    .ecu_report = sq_ecu_report,
    .report_seen = sq_report_seen,
    .install_put = sq_install_put,
    .install_list = sq_install_list,
    .info_list = sq_info_list,
    .assign_put = sq_assign_put,
    .assign_list = sq_assign_list,
    .manifest_put = sq_manifest_put,
    .alert_add = sq_alert_add,
    .alert_count = sq_alert_count,
    .info_put = sq_info_put,
    .product_put = sq_product_put,
    .product_get = sq_product_get,
    .product_list = sq_product_list,
    .device_lifecycle = sq_device_lifecycle,
    .alert_raise = sq_alert_raise,
    .alert_list = sq_alert_list,
    .alert_get = sq_alert_get,
    .alert_ack = sq_alert_ack,
    .outbox_claim = sq_outbox_claim,
    .outbox_done = sq_outbox_done,
    .outbox_retry = sq_outbox_retry,
    .published_put = sq_published_put,
    .published_list = sq_published_list,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .user_remove = sq_user_remove,
    .token_put = sq_token_put,
    .token_user = sq_token_user,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_remove = sq_session_remove,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .ecu_scan = sq_ecu_scan,
    .manifest_scan = sq_manifest_scan,
    .cursor_open = sq_cursor_open,
    .cursor_next = sq_cursor_next,
    .cursor_close = sq_cursor_close,
    .device_tags = sq_device_tags,
    .assign_withdraw = sq_assign_withdraw,
    .campaign_add = sq_campaign_add,
    .campaign_get = sq_campaign_get,
    .campaign_list = sq_campaign_list,
    .campaign_set = sq_campaign_set,
    .member_add = sq_member_add,
    .member_list = sq_member_list,
    .member_set = sq_member_set,
    .member_counts = sq_member_counts,
    .device_members = sq_device_members,
    .campaign_log = sq_campaign_log,
    .campaign_log_list = sq_campaign_log_list,
    .lock = sq_lock,
    .changed = sq_changed,
    .watch = sq_watch,
    .unwatch = sq_unwatch,
    .ping = sq_ping,
    .failures = sq_failures,
    .sbom_put = sq_sbom_put,
    .sbom_get = sq_sbom_get,
    .vuln_put = sq_vuln_put,
    .vuln_list = sq_vuln_list,
    .vuln_mark = sq_vuln_mark,
    .vex_put = sq_vex_put,
    .vex_list = sq_vex_list,
    .sbom_hashes = sq_sbom_hashes,
    .match_put = sq_match_put,
    .match_clear = sq_match_clear,
    .match_list = sq_match_list,
    .close = sq_close,
};

/* Before SQLite's first use: no count of its memory in use, which takes
 * one mutex of the whole process on every allocation of every connection
 * (the server runs several at once; nothing here reads the count); and
 * statement journals kept in memory up to STMTJRNL_SPILL. A group's
 * savepoints (one per transaction in it) journal the pages each one
 * changes: past SQLite's default of 64 KiB the journal becomes a temporary
 * file, written page by page for the rest of the group. (The journal in
 * memory is one block of that size: kept below glibc's mapping threshold,
 * it is reused, not mapped and faulted in anew.) A process that
 * used SQLite before its first store keeps the defaults (sqlite3_config
 * refuses, harmlessly, once SQLite is initialised). */
#define STMTJRNL_SPILL (1 << 20)

static void sqlite_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMTJRNL_SPILL);
}

int srv_store_sqlite_open(struct srv_store **out, const char *path, struct upt_error *err)
{
	static pthread_once_t configured = PTHREAD_ONCE_INIT;
	struct sqlite_store *s;
	pthread_mutexattr_t attr;
	int rc;
	pthread_once(&configured, sqlite_configure);
	if (!(s = calloc(1, sizeof *s)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&s->wait_lock, NULL);
	pthread_cond_init(&s->lead_cv, NULL);
	pthread_cond_init(&s->commit_cv, NULL);
	s->queue_tail = &s->queue;
	s->base.ops = &sqlite_ops;
	s->base.policy = (struct srv_policy)SRV_POLICY_DEFAULT;
	s->wal_fd = -1;
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 && path[0])
		snprintf(s->path, sizeof s->path, "%s", path);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", path,
				   s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sq_close(&s->base);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* a page cache of up to 64 MiB: a large transaction (a full
	 * vulnerability rematch writes millions of rows) keeps its pages in
	 * memory instead of spilling them to the WAL and reading them back */
	rc = exec(s,
		  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
		  "PRAGMA cache_size=-65536;",
		  err);
	if (rc == UPT_OK)
		rc = migrate(s, err);
	for (size_t i = 0; rc == UPT_OK && s->path[0] && i < READERS; i++) {
		struct reader *r = &s->readers[i];
		if (sqlite3_open_v2(s->path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				    NULL) != SQLITE_OK ||
		    sqlite3_busy_timeout(r->db, 5000) != SQLITE_OK)
			rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", s->path,
					   r->db ? sqlite3_errmsg(r->db) : "cannot open");
		pthread_mutex_init(&r->lock, NULL);
		s->n_readers++;
	}
	if (rc != UPT_OK) {
		sq_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return UPT_OK;
}

void srv_meta_free(struct srv_meta *m)
{
	free(m->data);
	m->data = NULL;
}

void srv_blobs_free(char **b, size_t n)
{
	for (size_t i = 0; b && i < n; i++)
		free(b[i]);
	free(b);
}

void srv_install_reports_free(struct srv_install_report *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		free(r[i].report);
	free(r);
}

void srv_campaigns_free(struct srv_campaign *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].spec);
	free(c);
}

void srv_vulns_free(struct srv_vuln *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].record);
	free(v);
}

void srv_vmatches_free(struct srv_vmatch *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].hits);
	free(m);
}
