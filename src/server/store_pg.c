/* uptake-server: the PostgreSQL storage backend (libpq), for fleets that
 * outgrow one machine. Same interface and schema as the SQLite backend;
 * versioned migrations in table uptake_schema.
 *
 * A pool of connections: a call takes a free connection for its duration,
 * a transaction (begin .. commit) keeps one for the thread that began it,
 * so that every call of that thread in between runs on it. Statements are
 * prepared once per connection (on first use) and executed by name.
 *
 * When the database goes away, calls fail with "database unavailable" and
 * count a failure (srv_store_ops.failures); a connection found broken, and
 * every connection made before a failure was seen, is connected anew when
 * next taken (at most one attempt per connection every RETRY_MS), so that
 * the server recovers when the database returns. */
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uptake/encode.h>

#include "store.h"

#define PG_MAX_PREPARED 128   /* statements prepared per connection */
#define RETRY_MS        250   /* between attempts to connect a broken connection */
#define WAIT_MS         10000 /* longest wait for a free connection */

struct pg_prepared {
	uint64_t hash;
	char *sql;
};

struct pg_conn {
	PGconn *db;           /* NULL: not connected yet */
	struct pg_conn *next; /* in the free list */
	int depth;            /* nested takes by the thread holding it */
	uint64_t epoch;       /* the failure epoch when it connected */
	int64_t retry_at;     /* monotonic ms: no new attempt before */
	struct pg_prepared prepared[PG_MAX_PREPARED];
	size_t n_prepared;
};

struct pg_store {
	struct srv_store base;
	char *conninfo;
	struct pg_conn *conns;
	size_t n_conns;
	pthread_mutex_t lock; /* the free list */
	pthread_cond_t freed;
	struct pg_conn *free;
	pthread_key_t held; /* the connection this thread holds */
	uint64_t failures;  /* atomic: calls failed for want of the database */
	uint64_t epoch;     /* atomic: connection failures seen */
	/* the watcher: its own connection, LISTENing */
	pthread_t watcher;
	bool watching;
	int stop; /* atomic */
	srv_change_fn change_fn;
	void *change_ctx;
};

#define CHANNEL "uptake_changes"

#define P(x) ((struct pg_store *)(x))
#define NOW  "(EXTRACT(EPOCH FROM now())::bigint)"

static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE meta (repo TEXT NOT NULL, role TEXT NOT NULL, version BIGINT NOT NULL,"
    " expires BIGINT NOT NULL, data BYTEA NOT NULL, created BIGINT NOT NULL DEFAULT " NOW ","
    " PRIMARY KEY (repo, role, version));"
    "CREATE TABLE images (name TEXT PRIMARY KEY, length BIGINT NOT NULL, sha256 TEXT NOT NULL,"
    " sha512 TEXT NOT NULL, created BIGINT NOT NULL DEFAULT " NOW ");"
    "CREATE TABLE online_keys (repo TEXT NOT NULL, role TEXT NOT NULL, keyid TEXT NOT NULL,"
    " pem TEXT NOT NULL, created BIGINT NOT NULL DEFAULT " NOW ", PRIMARY KEY (repo, role));",
    /* 2 */
    "CREATE TABLE devices (id TEXT PRIMARY KEY, created BIGINT NOT NULL DEFAULT " NOW ","
    " last_manifest BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE ecus (device TEXT NOT NULL REFERENCES devices(id), serial TEXT NOT NULL,"
    " hardware_id TEXT NOT NULL, keyid TEXT NOT NULL, public_key TEXT NOT NULL,"
    " is_primary BIGINT NOT NULL, installed TEXT NOT NULL DEFAULT '',"
    " installed_length BIGINT NOT NULL DEFAULT 0, installed_sha256 TEXT NOT NULL DEFAULT '',"
    " report_counter BIGINT NOT NULL DEFAULT -1, reported_at BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (device, serial));"
    "CREATE TABLE assignments (device TEXT NOT NULL, ecu_serial TEXT NOT NULL,"
    " hardware_id TEXT NOT NULL, target TEXT NOT NULL, length BIGINT NOT NULL,"
    " sha256 TEXT NOT NULL, sha512 TEXT NOT NULL, release_counter BIGINT NOT NULL,"
    " created BIGINT NOT NULL DEFAULT " NOW ", PRIMARY KEY (device, ecu_serial),"
    " FOREIGN KEY (device, ecu_serial) REFERENCES ecus);"
    "CREATE TABLE manifests (device TEXT NOT NULL REFERENCES devices(id),"
    " received BIGINT NOT NULL, body BYTEA NOT NULL);"
    "CREATE INDEX manifests_device ON manifests(device, received);"
    "CREATE TABLE alerts (device TEXT NOT NULL, at BIGINT NOT NULL DEFAULT " NOW ","
    " kind TEXT NOT NULL, message TEXT NOT NULL);",
    /* 3 */
    "CREATE TABLE device_info (device TEXT NOT NULL REFERENCES devices(id), kind TEXT NOT NULL,"
    " at BIGINT NOT NULL DEFAULT " NOW ", body BYTEA NOT NULL);"
    "CREATE INDEX device_info_device ON device_info(device, kind, at);",
    /* 4 */
    "ALTER TABLE devices ADD COLUMN auto_update BIGINT NOT NULL DEFAULT 1;",
    /* 5 */
    "CREATE TABLE products (name TEXT PRIMARY KEY, hardware_ids TEXT NOT NULL,"
    " support_years BIGINT NOT NULL, contact TEXT NOT NULL,"
    " created BIGINT NOT NULL DEFAULT " NOW ");"
    "ALTER TABLE devices ADD COLUMN product TEXT REFERENCES products(name);"
    "ALTER TABLE devices ADD COLUMN manufactured TEXT;"
    "ALTER TABLE devices ADD COLUMN placed_on_market TEXT;"
    "ALTER TABLE devices ADD COLUMN support_end TEXT;",
    /* 6 */
    "ALTER TABLE ecus ADD COLUMN report_status TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE ecus ADD COLUMN report_digest TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE ecus ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE ecu_reports (id BIGSERIAL PRIMARY KEY, device TEXT NOT NULL,"
    " serial TEXT NOT NULL, at BIGINT NOT NULL, report_counter BIGINT NOT NULL,"
    " digest TEXT NOT NULL, FOREIGN KEY (device, serial) REFERENCES ecus);"
    "CREATE INDEX ecu_reports_ecu ON ecu_reports(device, serial, digest);"
    "ALTER TABLE assignments ADD COLUMN correlation_id TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE installation_reports (id BIGSERIAL PRIMARY KEY,"
    " device TEXT NOT NULL REFERENCES devices(id), at BIGINT NOT NULL,"
    " correlation_id TEXT NOT NULL, success BIGINT NOT NULL, report TEXT NOT NULL);"
    "CREATE INDEX installation_reports_device ON installation_reports(device);"
    "ALTER TABLE manifests ADD COLUMN id BIGSERIAL;"
    "ALTER TABLE device_info ADD COLUMN id BIGSERIAL;"
    "ALTER TABLE alerts ADD COLUMN id BIGSERIAL;"
    "CREATE INDEX alerts_device ON alerts(device);",
    /* 7 */
    "ALTER TABLE alerts ADD COLUMN ecu TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN evidence TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN last_seen BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE alerts ADD COLUMN count BIGINT NOT NULL DEFAULT 1;"
    "ALTER TABLE alerts ADD COLUMN acked_by TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN acked_at BIGINT NOT NULL DEFAULT 0;"
    "UPDATE alerts SET last_seen = at;"
    "CREATE INDEX alerts_open ON alerts(device, ecu, kind, acked_at);"
    "CREATE TABLE alert_outbox (alert_id BIGINT NOT NULL, url TEXT NOT NULL,"
    " attempts BIGINT NOT NULL DEFAULT 0, next_at BIGINT NOT NULL, PRIMARY KEY (alert_id, url));",
    /* 8 */
    "CREATE TABLE published_targets (name TEXT NOT NULL, sha256 TEXT NOT NULL,"
    " length BIGINT NOT NULL, hardware_ids TEXT NOT NULL, release_counter BIGINT NOT NULL,"
    " security BIGINT NOT NULL, published BIGINT NOT NULL, PRIMARY KEY (name, sha256));"
    "ALTER TABLE devices ADD COLUMN auto_update_since BIGINT NOT NULL DEFAULT 0;",
    /* 9 */
    "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL,"
    " created BIGINT NOT NULL DEFAULT " NOW ");"
    "CREATE TABLE api_tokens (digest TEXT PRIMARY KEY, \"user\" TEXT NOT NULL,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE sessions (digest TEXT PRIMARY KEY, \"user\" TEXT NOT NULL,"
    " csrf TEXT NOT NULL, expires BIGINT NOT NULL);"
    "CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,"
    " role TEXT NOT NULL, remote TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " status BIGINT NOT NULL, detail TEXT NOT NULL);"
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;"
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();",
    /* 10 */
    "CREATE TABLE campaigns (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL,"
    " status TEXT NOT NULL, stage BIGINT NOT NULL DEFAULT -1, approved BIGINT NOT NULL DEFAULT -1,"
    " stage_started BIGINT NOT NULL DEFAULT 0, met_at BIGINT NOT NULL DEFAULT 0,"
    " acked_failures BIGINT NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
    " created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE campaign_members (campaign BIGINT NOT NULL REFERENCES campaigns(id),"
    " device TEXT NOT NULL, ecu TEXT NOT NULL, hardware_id TEXT NOT NULL, stage BIGINT NOT NULL,"
    " state TEXT NOT NULL, sha256 TEXT NOT NULL, correlation_id TEXT NOT NULL DEFAULT '',"
    " from_sha256 TEXT NOT NULL DEFAULT '', assigned_at BIGINT NOT NULL DEFAULT 0,"
    " published BIGINT NOT NULL DEFAULT 0, active BIGINT NOT NULL DEFAULT 1,"
    " updated BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (campaign, device, ecu),"
    " FOREIGN KEY (device, ecu) REFERENCES ecus);"
    "CREATE UNIQUE INDEX campaign_members_active ON campaign_members(device, ecu)"
    " WHERE active = 1;"
    "CREATE INDEX campaign_members_stage ON campaign_members(campaign, stage, state);"
    "CREATE TABLE campaign_log (seq BIGSERIAL PRIMARY KEY, campaign BIGINT NOT NULL,"
    " at BIGINT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX campaign_log_campaign ON campaign_log(campaign, at);"
    "ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE devices ADD COLUMN utc_offset BIGINT NOT NULL DEFAULT 0;",
    /* 11: vulnerability handling (as SQLite's) */
    "CREATE TABLE sboms (sha256 TEXT PRIMARY KEY, sha512 TEXT NOT NULL, format TEXT NOT NULL,"
    " created BIGINT NOT NULL, data BYTEA NOT NULL);"
    "ALTER TABLE published_targets ADD COLUMN sbom_sha256 TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE vulns (id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn BIGINT NOT NULL,"
    " imported BIGINT NOT NULL, exploited_at BIGINT NOT NULL DEFAULT 0,"
    " reported_early BIGINT NOT NULL DEFAULT 0, reported_notification BIGINT NOT NULL DEFAULT 0,"
    " reported_final BIGINT NOT NULL DEFAULT 0, record TEXT NOT NULL);"
    "CREATE TABLE vex (document TEXT NOT NULL, vuln TEXT NOT NULL, product TEXT NOT NULL,"
    " status TEXT NOT NULL, justification TEXT NOT NULL, imported BIGINT NOT NULL,"
    " PRIMARY KEY (document, vuln, product));",
    /* 12: download-only, the fast path policy, a release (as SQLite's) */
    "ALTER TABLE assignments ADD COLUMN download_only BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE products ADD COLUMN security_fast_path BIGINT NOT NULL DEFAULT 1;"
    "ALTER TABLE campaigns ADD COLUMN released BIGINT NOT NULL DEFAULT 0;",
    /* 13: vulnerability matching rows (as SQLite's) */
    "CREATE TABLE vuln_matches (vuln TEXT NOT NULL, sbom TEXT NOT NULL, hits TEXT NOT NULL,"
    " PRIMARY KEY (vuln, sbom));"
    "CREATE INDEX vuln_matches_sbom ON vuln_matches(sbom);"
    "INSERT INTO vuln_matches (vuln, sbom, hits) VALUES ('', '', '');",
    /* 14: the histories in the order they were written, so that pruning
     * to the newest N walks N index entries (as SQLite's) */
    "CREATE INDEX ecu_reports_order ON ecu_reports(device, serial, id);"
    "CREATE INDEX manifests_order ON manifests(device, id);"
    "CREATE INDEX device_info_order ON device_info(device, kind, id);"
    "CREATE INDEX installation_reports_order ON installation_reports(device, id);"
    "CREATE INDEX alerts_order ON alerts(device, id);",
    /* 15: one index per history on the manifest's write path (as
     * SQLite's) */
    "DROP INDEX manifests_device;"
    "DROP INDEX ecu_reports_ecu;",
    /* 16: each manifest keeps which of its ECU reports were accepted (as
     * SQLite's) */
    "ALTER TABLE manifests ADD COLUMN accepted TEXT;",
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect with bounds on waiting for a database that went away: a
 * connection attempt gives up after 5 s, and TCP keepalives find a peer
 * gone silent within about 25 s. What the configured URI or key=value
 * string says comes after these, and wins. */
static PGconn *pg_connect(const char *conninfo)
{
	static const char *const keys[] = {"connect_timeout",
					   "keepalives",
					   "keepalives_idle",
					   "keepalives_interval",
					   "keepalives_count",
					   "dbname",
					   NULL};
	const char *const vals[] = {"5", "1", "10", "5", "3", conninfo, NULL};
	return PQconnectdbParams(keys, vals, 1);
}

static void forget_prepared(struct pg_conn *c)
{
	for (size_t i = 0; i < c->n_prepared; i++)
		free(c->prepared[i].sql);
	c->n_prepared = 0;
}

static int unavailable(struct pg_store *s, const char *why, struct upt_error *err)
{
	__atomic_add_fetch(&s->epoch, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELEASE);
	return upt_error_set(err, UPT_ERR_IO, "postgresql: database unavailable: %.180s", why);
}

/* Connect c anew when it is broken or older than the last failure seen. */
static int conn_ready(struct pg_store *s, struct pg_conn *c, struct upt_error *err)
{
	uint64_t epoch = __atomic_load_n(&s->epoch, __ATOMIC_ACQUIRE);
	int64_t t;
	if (c->db && PQstatus(c->db) == CONNECTION_OK && c->epoch == epoch)
		return UPT_OK;
	t = mono_ms();
	if (t < c->retry_at)
		return unavailable(s, "not connected", err);
	forget_prepared(c);
	PQfinish(c->db);
	c->db = pg_connect(s->conninfo);
	c->epoch = epoch;
	if (PQstatus(c->db) != CONNECTION_OK) {
		int rc = unavailable(s, PQerrorMessage(c->db), err);
		c->epoch = __atomic_load_n(&s->epoch, __ATOMIC_ACQUIRE);
		c->retry_at = t + RETRY_MS;
		return rc;
	}
	PQclear(PQexec(c->db, "SET client_min_messages = warning"));
	return UPT_OK;
}

/* The connection this thread holds, taken once more; or a free one. */
static struct pg_conn *conn_get(struct pg_store *s, struct upt_error *err)
{
	struct pg_conn *c = pthread_getspecific(s->held);
	struct timespec until;
	if (c) {
		c->depth++;
		return c;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&s->lock);
	while (!s->free)
		if (pthread_cond_timedwait(&s->freed, &s->lock, &until) == ETIMEDOUT)
			break;
	c = s->free;
	if (c)
		s->free = c->next;
	pthread_mutex_unlock(&s->lock);
	if (!c) {
		upt_error_set(err, UPT_ERR_IO, "postgresql: no free database connection");
		__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	if (conn_ready(s, c, err) != UPT_OK) {
		pthread_mutex_lock(&s->lock);
		c->next = s->free;
		s->free = c;
		pthread_cond_signal(&s->freed);
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	c->depth = 1;
	pthread_setspecific(s->held, c);
	return c;
}

static void conn_put(struct pg_store *s, struct pg_conn *c)
{
	if (!c || --c->depth > 0)
		return;
	pthread_setspecific(s->held, NULL);
	pthread_mutex_lock(&s->lock);
	c->next = s->free;
	s->free = c;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

/* Keep one connection for this thread until release (several statements
 * on one connection; a transaction). */
static int hold(struct pg_store *s)
{
	return conn_get(s, NULL) ? UPT_OK : UPT_ERR_IO;
}

static void release(struct pg_store *s)
{
	conn_put(s, pthread_getspecific(s->held));
}

static uint64_t fnv1a(const char *p)
{
	uint64_t h = 14695981039346656037ull;
	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

/* Run sql as a statement prepared on c (prepared on first use). */
static PGresult *run_prepared(struct pg_conn *c, const char *sql, int n, const char *const *vals,
			      const int *lens, const int *formats)
{
	uint64_t h = fnv1a(sql);
	char name[24];
	size_t i;
	for (i = 0; i < c->n_prepared; i++)
		if (c->prepared[i].hash == h && strcmp(c->prepared[i].sql, sql) == 0)
			break;
	if (i == c->n_prepared) {
		PGresult *p;
		char *copy = i < PG_MAX_PREPARED ? strdup(sql) : NULL;
		if (!copy) /* none left: unnamed, as a one-off */
			return PQexecParams(c->db, sql, n, NULL, vals, lens, formats, 0);
		snprintf(name, sizeof name, "u%zu", i);
		p = PQprepare(c->db, name, sql, n, NULL);
		if (PQresultStatus(p) != PGRES_COMMAND_OK) {
			free(copy);
			return p;
		}
		PQclear(p);
		c->prepared[i].hash = h;
		c->prepared[i].sql = copy;
		c->n_prepared++;
	}
	snprintf(name, sizeof name, "u%zu", i);
	return PQexecPrepared(c->db, name, n, vals, lens, formats, 0);
}

/* One statement. Parameters are text, except those marked 'b' in `kinds`
 * (binary: bytea), whose lengths are in lens[]. */
static PGresult *exec(struct pg_store *s, const char *sql, int n, const char *const *vals,
		      const int *lens, const char *kinds, struct upt_error *err, int *code)
{
	int formats[16] = {0};
	PGresult *res;
	ExecStatusType st;
	struct pg_conn *c = conn_get(s, err);
	if (!c) {
		*code = UPT_ERR_IO;
		return NULL;
	}
	for (int i = 0; i < n && kinds; i++)
		formats[i] = kinds[i] == 'b';
	res = run_prepared(c, sql, n, vals, lens, formats);
	st = PQresultStatus(res);
	*code = UPT_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQstatus(c->db) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
		    (state && strncmp(state, "57P", 3) == 0))
			*code = unavailable(s, PQerrorMessage(c->db), err);
		else {
			*code = state && strncmp(state, "23", 2) == 0 ? UPT_ERR_STATE : UPT_ERR_IO;
			upt_error_set(err, *code, "postgresql: %.200s", PQresultErrorMessage(res));
		}
		PQclear(res);
		res = NULL;
	}
	conn_put(s, c);
	return res;
}

static int run(struct pg_store *s, const char *sql, int n, const char *const *vals,
	       struct upt_error *err)
{
	int code;
	PGresult *r;
	hold(s);
	r = exec(s, sql, n, vals, NULL, NULL, err, &code);
	release(s);
	PQclear(r);
	return code;
}

static const char *num(char *buf, long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}

static int64_t col_i(PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void col_s(char *out, size_t cap, PGresult *r, int row, int col)
{
	snprintf(out, cap, "%s", PQgetvalue(r, row, col));
}

static int pg_begin(struct srv_store *b, struct upt_error *err)
{
	int code;
	PGresult *r;
	/* the connection stays with this thread until commit or rollback */
	if (!conn_get(P(b), err))
		return UPT_ERR_IO;
	r = exec(P(b), "BEGIN", 0, NULL, NULL, NULL, err, &code);
	PQclear(r);
	if (code != UPT_OK)
		release(P(b));
	return code;
}

static int pg_commit(struct srv_store *b, struct upt_error *err)
{
	int code;
	PGresult *r = exec(P(b), "COMMIT", 0, NULL, NULL, NULL, err, &code);
	PQclear(r);
	release(P(b));
	return code;
}

static void pg_rollback(struct srv_store *b)
{
	int code;
	PQclear(exec(P(b), "ROLLBACK", 0, NULL, NULL, NULL, NULL, &code));
	release(P(b));
}

static int pg_meta_put(struct srv_store *b, const char *repo, const char *role, int64_t version,
		       int64_t expires, const uint8_t *data, size_t len, struct upt_error *err)
{
	char v[24], e[24];
	const char *vals[] = {repo, role, num(v, version), num(e, expires), (const char *)data};
	int lens[] = {0, 0, 0, 0, (int)len}, code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "INSERT INTO meta (repo, role, version, expires, data) VALUES ($1,$2,$3,$4,$5)", 5,
		 vals, lens, "ttttb", err, &code);
	release(P(b));
	PQclear(r);
	if (code == UPT_ERR_STATE)
		return upt_error_set(err, UPT_ERR_ROLLBACK, "%s %s version %lld exists", repo, role,
				     (long long)version);
	return code;
}

static int pg_meta_get(struct srv_store *b, const char *repo, const char *role, int64_t version,
		       struct srv_meta *out, struct upt_error *err)
{
	char v[24];
	const char *vals[] = {repo, role, num(v, version)};
	int code;
	PGresult *r;
	memset(out, 0, sizeof *out);
	hold(P(b));
	r = exec(P(b),
		 version > 0 ? "SELECT version, expires, data FROM meta WHERE repo=$1 AND role=$2 "
			       "AND version=$3"
			     : "SELECT version, expires, data FROM meta WHERE repo=$1 AND role=$2 "
			       "ORDER BY version DESC LIMIT 1",
		 version > 0 ? 3 : 2, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s %s: no such metadata", repo, role);
	if (code == UPT_OK) {
		size_t n = 0;
		unsigned char *raw =
		    PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 2), &n);
		out->version = col_i(r, 0, 0);
		out->expires = col_i(r, 0, 1);
		if (!raw || !(out->data = malloc(n ? n : 1)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			memcpy(out->data, raw, n);
			out->len = n;
		}
		PQfreemem(raw);
	}
	PQclear(r);
	return code;
}

static int pg_meta_roles(struct srv_store *b, const char *repo, char **out, struct upt_error *err)
{
	const char *vals[] = {repo};
	size_t len = 0;
	char *buf = NULL;
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "SELECT DISTINCT role FROM meta WHERE repo=$1 AND role NOT IN "
		 "('root','targets','snapshot','timestamp') ORDER BY role",
		 1, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK) {
		for (int i = 0; i < PQntuples(r); i++)
			len += strlen(PQgetvalue(r, i, 0)) + 1;
		if (!(buf = malloc(len + 1)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			size_t o = 0;
			for (int i = 0; i < PQntuples(r); i++)
				o += (size_t)snprintf(buf + o, len + 1 - o, "%s\n",
						      PQgetvalue(r, i, 0));
			buf[o] = 0;
			*out = buf;
		}
	}
	PQclear(r);
	return code;
}

static int pg_image_put(struct srv_store *b, const struct srv_image *img, struct upt_error *err)
{
	char l[24];
	const char *vals[] = {img->name, num(l, img->length), img->sha256, img->sha512};
	return run(
	    P(b),
	    "INSERT INTO images (name, length, sha256, sha512) VALUES ($1,$2,$3,$4) "
	    "ON CONFLICT (name) DO UPDATE SET length=excluded.length, sha256=excluded.sha256, "
	    "sha512=excluded.sha512",
	    4, vals, err);
}

static int pg_image_get(struct srv_store *b, const char *name, struct srv_image *out,
			struct upt_error *err)
{
	const char *vals[] = {name};
	int code;
	PGresult *r;
	memset(out, 0, sizeof *out);
	hold(P(b));
	r = exec(P(b), "SELECT name, length, sha256, sha512 FROM images WHERE name=$1", 1, vals,
		 NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "image %s: not found", name);
	if (code == UPT_OK) {
		col_s(out->name, sizeof out->name, r, 0, 0);
		out->length = col_i(r, 0, 1);
		col_s(out->sha256, sizeof out->sha256, r, 0, 2);
		col_s(out->sha512, sizeof out->sha512, r, 0, 3);
	}
	PQclear(r);
	return code;
}

static int pg_key_put(struct srv_store *b, const char *repo, const char *role,
		      const struct srv_key *k, struct upt_error *err)
{
	const char *vals[] = {repo, role, k->keyid, k->pem};
	return run(P(b),
		   "INSERT INTO online_keys (repo, role, keyid, pem) VALUES ($1,$2,$3,$4) "
		   "ON CONFLICT (repo, role) DO UPDATE SET keyid=excluded.keyid, pem=excluded.pem",
		   4, vals, err);
}

static int pg_key_get(struct srv_store *b, const char *repo, const char *role, struct srv_key *out,
		      struct upt_error *err)
{
	const char *vals[] = {repo, role};
	int code;
	PGresult *r;
	memset(out, 0, sizeof *out);
	hold(P(b));
	r = exec(P(b), "SELECT keyid, pem FROM online_keys WHERE repo=$1 AND role=$2", 2, vals,
		 NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "%s %s: no online key", repo, role);
	if (code == UPT_OK) {
		col_s(out->keyid, sizeof out->keyid, r, 0, 0);
		if (!(out->pem = strdup(PQgetvalue(r, 0, 1))))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	PQclear(r);
	return code;
}

static int pg_key_del(struct srv_store *b, const char *repo, const char *role,
		      struct upt_error *err)
{
	const char *vals[] = {repo, role};
	return run(P(b), "DELETE FROM online_keys WHERE repo=$1 AND role=$2", 2, vals, err);
}

static int pg_device_add(struct srv_store *b, const char *id, struct upt_error *err)
{
	const char *vals[] = {id};
	int code = run(P(b), "INSERT INTO devices (id) VALUES ($1)", 1, vals, err);
	if (code == UPT_ERR_STATE)
		upt_error_set(err, UPT_ERR_STATE, "device %s exists already", id);
	return code;
}

#define DEVICE_COLS                                                                                \
	"SELECT id, created, last_manifest, (SELECT count(*) FROM ecus WHERE device=devices.id), " \
	"auto_update, coalesce(product, ''), coalesce(manufactured, ''), "                         \
	"coalesce(placed_on_market, ''), coalesce(support_end, ''), auto_update_since, tags, "     \
	"utc_offset FROM devices"

static void device_row(PGresult *r, int i, struct srv_device *d)
{
	memset(d, 0, sizeof *d);
	col_s(d->id, sizeof d->id, r, i, 0);
	d->created = col_i(r, i, 1);
	d->last_manifest = col_i(r, i, 2);
	d->n_ecus = (size_t)col_i(r, i, 3);
	d->auto_update = col_i(r, i, 4) != 0;
	col_s(d->product, sizeof d->product, r, i, 5);
	col_s(d->manufactured, sizeof d->manufactured, r, i, 6);
	col_s(d->placed_on_market, sizeof d->placed_on_market, r, i, 7);
	col_s(d->support_end, sizeof d->support_end, r, i, 8);
	d->auto_update_since = col_i(r, i, 9);
	col_s(d->tags, sizeof d->tags, r, i, 10);
	d->utc_offset = col_i(r, i, 11);
}

static int pg_device_get(struct srv_store *b, const char *id, struct srv_device *out,
			 struct upt_error *err)
{
	const char *vals[] = {id};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), DEVICE_COLS " WHERE id=$1", 1, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
	if (code == UPT_OK)
		device_row(r, 0, out);
	PQclear(r);
	return code;
}

static int pg_device_list(struct srv_store *b, struct srv_device **out, size_t *n,
			  struct upt_error *err)
{
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), DEVICE_COLS " ORDER BY id", 0, NULL, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++)
			device_row(r, i, &(*out)[(*n)++]);
	}
	PQclear(r);
	return code;
}

#define ECU_COLS                                                                           \
	"SELECT serial, hardware_id, keyid, public_key, is_primary, installed, "           \
	"installed_length, installed_sha256, report_counter, reported_at, report_status, " \
	"report_digest, seen_at FROM ecus WHERE device=$1 ORDER BY is_primary DESC, serial"

static int ecus_query(struct srv_store *b, const char *sql, const char *device,
		      struct srv_ecu **out, size_t *n, struct upt_error *err)
{
	const char *vals[] = {device};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), sql, 1, vals, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			struct srv_ecu *e = &(*out)[(*n)++];
			col_s(e->serial, sizeof e->serial, r, i, 0);
			col_s(e->hardware_id, sizeof e->hardware_id, r, i, 1);
			col_s(e->keyid, sizeof e->keyid, r, i, 2);
			col_s(e->public_key, sizeof e->public_key, r, i, 3);
			e->primary = col_i(r, i, 4) != 0;
			col_s(e->installed, sizeof e->installed, r, i, 5);
			e->installed_length = col_i(r, i, 6);
			col_s(e->installed_sha256, sizeof e->installed_sha256, r, i, 7);
			e->report_counter = col_i(r, i, 8);
			e->reported_at = col_i(r, i, 9);
			col_s(e->report_status, sizeof e->report_status, r, i, 10);
			col_s(e->report_digest, sizeof e->report_digest, r, i, 11);
			e->seen_at = col_i(r, i, 12);
		}
	}
	PQclear(r);
	return code;
}

static int pg_ecus_get(struct srv_store *b, const char *device, struct srv_ecu **out, size_t *n,
		       struct upt_error *err)
{
	return ecus_query(b, ECU_COLS, device, out, n, err);
}

/* Row locks on the device's ECUs until commit: concurrent reports of the
 * same device (from any server process) wait here. */
static int pg_ecus_lock(struct srv_store *b, const char *device, struct srv_ecu **out, size_t *n,
			struct upt_error *err)
{
	return ecus_query(b, ECU_COLS " FOR UPDATE", device, out, n, err);
}

static int pg_ecus_put(struct srv_store *b, const char *device, const struct srv_ecu *ecus,
		       size_t n, struct upt_error *err)
{
	struct srv_ecu *have = NULL;
	size_t n_have = 0;
	int code = pg_begin(b, err);
	if (code != UPT_OK)
		return code;
	code = pg_ecus_get(b, device, &have, &n_have, err);
	free(have);
	if (code == UPT_OK && n_have)
		code =
		    upt_error_set(err, UPT_ERR_STATE, "device %s: ECUs registered already", device);
	for (size_t i = 0; code == UPT_OK && i < n; i++) {
		const char *vals[] = {
		    device,        ecus[i].serial,     ecus[i].hardware_id,
		    ecus[i].keyid, ecus[i].public_key, ecus[i].primary ? "1" : "0"};
		code = run(P(b),
			   "INSERT INTO ecus (device, serial, hardware_id, keyid, public_key, "
			   "is_primary) VALUES ($1,$2,$3,$4,$5,$6)",
			   6, vals, err);
		if (code == UPT_ERR_STATE)
			upt_error_set(err, UPT_ERR_FIELD_VALUE, "ECU %s listed twice",
				      ecus[i].serial);
	}
	if (code == UPT_OK)
		return pg_commit(b, err);
	pg_rollback(b);
	return code;
}

/* Keep the newest `keep` rows of `table` whose col1 (and col2, when not
 * NULL) equal v1 (v2). */
static int keep_newest(struct pg_store *s, const char *table, const char *col1, const char *v1,
		       const char *col2, const char *v2, int64_t keep, struct upt_error *err)
{
	char where[128], sql[640], k[24];
	const char *vals[] = {v1, col2 ? v2 : num(k, keep), num(k, keep)};
	int code;
	if (keep <= 0)
		return UPT_OK;
	snprintf(where, sizeof where, "%s=$1%s%s%s", col1, col2 ? " AND " : "", col2 ? col2 : "",
		 col2 ? "=$2" : "");
	/* the newest row past the `keep` newest, and every older one */
	snprintf(sql, sizeof sql,
		 "DELETE FROM %s WHERE %s AND id <= (SELECT id FROM %s WHERE %s "
		 "ORDER BY id DESC LIMIT 1 OFFSET $%d)",
		 table, where, table, where, col2 ? 3 : 2);
	PQclear(exec(s, sql, col2 ? 3 : 2, vals, NULL, NULL, err, &code));
	return code;
}

static int pg_ecu_report(struct srv_store *b, const char *device, const struct srv_ecu *e,
			 bool raise_counter, bool prune, struct upt_error *err)
{
	char l[24], c[24], t[24], sa[24];
	const char *vals[] = {e->installed,
			      num(l, e->installed_length),
			      e->installed_sha256,
			      num(c, e->report_counter),
			      num(t, e->reported_at),
			      e->report_status,
			      e->report_digest,
			      num(sa, e->seen_at),
			      device,
			      e->serial};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 raise_counter
		     ? "UPDATE ecus SET installed=$1, installed_length=$2, installed_sha256=$3, "
		       "report_counter=$4, reported_at=$5, report_status=$6, report_digest=$7, "
		       "seen_at=$8 WHERE device=$9 AND serial=$10 AND report_counter < $4"
		     : "UPDATE ecus SET installed=$1, installed_length=$2, installed_sha256=$3, "
		       "report_counter=$4, reported_at=$5, report_status=$6, report_digest=$7, "
		       "seen_at=$8 WHERE device=$9 AND serial=$10",
		 10, vals, NULL, NULL, err, &code);
	if (code == UPT_OK && strcmp(PQcmdTuples(r), "1") != 0)
		code = upt_error_set(err, raise_counter ? UPT_ERR_ROLLBACK : UPT_ERR_NOT_FOUND,
				     "ECU %s: report counter %lld is not above the stored one "
				     "(replayed report?)",
				     e->serial, (long long)e->report_counter);
	PQclear(r);
	if (code == UPT_OK && strcmp(e->report_status, "no_counter") == 0) {
		const char *h[] = {device, e->serial, sa, c, e->report_digest};
		PQclear(exec(P(b),
			     "INSERT INTO ecu_reports (device, serial, at, report_counter, digest) "
			     "VALUES ($1,$2,$3,$4,$5)",
			     5, h, NULL, NULL, err, &code));
		if (code == UPT_OK && prune)
			code = keep_newest(P(b), "ecu_reports", "device", device, "serial",
					   e->serial, b->policy.manifest_history, err);
	}
	release(P(b));
	return code;
}

static int pg_report_seen(struct srv_store *b, const char *device, const char *serial,
			  const char *digest, bool *seen, struct upt_error *err)
{
	const char *vals[] = {device, serial, digest};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "SELECT 1 FROM ecu_reports WHERE device=$1 AND serial=$2 AND digest=$3 LIMIT 1", 3,
		 vals, NULL, NULL, err, &code);
	release(P(b));
	*seen = code == UPT_OK && PQntuples(r) > 0;
	PQclear(r);
	return code;
}

static int pg_assign_put(struct srv_store *b, const char *device, const struct srv_assignment *a,
			 struct upt_error *err)
{
	char l[24], rc[24];
	const char *vals[] = {device,
			      a->ecu_serial,
			      a->hardware_id,
			      a->target,
			      num(l, a->length),
			      a->sha256,
			      a->sha512,
			      num(rc, a->release_counter),
			      a->correlation_id,
			      a->download_only ? "1" : "0"};
	return run(
	    P(b),
	    "INSERT INTO assignments (device, ecu_serial, hardware_id, target, length, "
	    "sha256, sha512, release_counter, correlation_id, download_only) "
	    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
	    "ON CONFLICT (device, ecu_serial) DO UPDATE SET hardware_id=excluded.hardware_id, "
	    "target=excluded.target, length=excluded.length, sha256=excluded.sha256, "
	    "sha512=excluded.sha512, release_counter=excluded.release_counter, "
	    "correlation_id=excluded.correlation_id, download_only=excluded.download_only, "
	    "created=" NOW,
	    10, vals, err);
}

static int pg_assign_list(struct srv_store *b, const char *device, struct srv_assignment **out,
			  size_t *n, struct upt_error *err)
{
	const char *vals[] = {device};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "SELECT ecu_serial, hardware_id, target, length, sha256, sha512, release_counter, "
		 "correlation_id, created, download_only FROM assignments WHERE device=$1 "
		 "ORDER BY ecu_serial",
		 1, vals, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			struct srv_assignment *a = &(*out)[(*n)++];
			col_s(a->ecu_serial, sizeof a->ecu_serial, r, i, 0);
			col_s(a->hardware_id, sizeof a->hardware_id, r, i, 1);
			col_s(a->target, sizeof a->target, r, i, 2);
			a->length = col_i(r, i, 3);
			col_s(a->sha256, sizeof a->sha256, r, i, 4);
			col_s(a->sha512, sizeof a->sha512, r, i, 5);
			a->release_counter = col_i(r, i, 6);
			col_s(a->correlation_id, sizeof a->correlation_id, r, i, 7);
			a->created = col_i(r, i, 8);
			a->download_only = col_i(r, i, 9) != 0;
		}
	}
	PQclear(r);
	return code;
}

static int pg_manifest_put(struct srv_store *b, const char *device, int64_t at, bool auto_update,
			   const uint8_t *data, size_t len, const char *accepted, bool prune,
			   struct upt_error *err)
{
	char t[24];
	const char *vals[] = {device, num(t, at), (const char *)data, accepted}; /* NULL: NULL */
	int lens[] = {0, 0, (int)len, 0}, code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "INSERT INTO manifests (device, received, body, accepted) VALUES ($1,$2,$3,$4)", 4,
		 vals, lens, "ttbt", err, &code);
	PQclear(r);
	if (code == UPT_OK) {
		const char *v2[] = {t, auto_update ? "1" : "0", device};
		/* SET reads the row as it was: the time moves when the flag flips */
		r = exec(P(b),
			 "UPDATE devices SET last_manifest=$1, auto_update_since=CASE WHEN "
			 "auto_update_since=0 OR auto_update<>$2 THEN $1 ELSE auto_update_since "
			 "END, auto_update=$2 WHERE id=$3",
			 3, v2, NULL, NULL, err, &code);
		PQclear(r);
	}
	if (code == UPT_OK && prune)
		code = keep_newest(P(b), "manifests", "device", device, NULL, NULL,
				   b->policy.manifest_history, err);
	if (code == UPT_OK && b->policy.manifest_max_age > 0) {
		char before[24];
		const char *v3[] = {device, num(before, at - b->policy.manifest_max_age)};
		PQclear(exec(P(b),
			     "DELETE FROM manifests WHERE device=$1 AND received < $2 AND id < "
			     "(SELECT max(id) FROM manifests WHERE device=$1)",
			     2, v3, NULL, NULL, err, &code));
	}
	release(P(b));
	return code;
}

static int pg_alert_raise(struct srv_store *b, const struct srv_alert *a, int64_t now, int64_t *id,
			  bool *folded, struct upt_error *err);

static int pg_alert_add(struct srv_store *b, const char *device, const char *kind,
			const char *message, struct upt_error *err)
{
	struct srv_alert a = {0};
	snprintf(a.device, sizeof a.device, "%s", device);
	snprintf(a.kind, sizeof a.kind, "%s", kind);
	snprintf(a.message, sizeof a.message, "%s", message);
	return pg_alert_raise(b, &a, (int64_t)time(NULL), NULL, NULL, err);
}

static int pg_alert_count(struct srv_store *b, const char *device, int64_t *n,
			  struct upt_error *err)
{
	const char *vals[] = {device};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), "SELECT coalesce(sum(count), 0) FROM alerts WHERE device=$1", 1, vals, NULL,
		 NULL, err, &code);
	release(P(b));
	*n = code == UPT_OK ? col_i(r, 0, 0) : 0;
	PQclear(r);
	return code;
}

static int pg_info_put(struct srv_store *b, const char *device, const char *kind,
		       const uint8_t *data, size_t len, struct upt_error *err)
{
	const char *vals[] = {device, kind, (const char *)data};
	int lens[] = {0, 0, (int)len}, code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), "INSERT INTO device_info (device, kind, body) VALUES ($1,$2,$3)", 3, vals,
		 lens, "ttb", err, &code);
	PQclear(r);
	if (code == UPT_OK)
		code = keep_newest(P(b), "device_info", "device", device, "kind", kind,
				   b->policy.report_history, err);
	release(P(b));
	return code;
}

static int pg_info_list(struct srv_store *b, const char *device, const char *kind, char ***out,
			size_t *n, struct upt_error *err)
{
	const char *vals[] = {device, kind};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), "SELECT body FROM device_info WHERE device=$1 AND kind=$2 ORDER BY id DESC",
		 2, vals, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		size_t len = 0;
		unsigned char *raw =
		    PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 0), &len);
		char *body = raw ? malloc(len + 1) : NULL;
		if (body) {
			memcpy(body, raw, len);
			body[len] = 0;
			(*out)[(*n)++] = body;
		} else
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		PQfreemem(raw);
	}
	PQclear(r);
	if (code != UPT_OK) {
		srv_blobs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return code;
}

static int pg_install_put(struct srv_store *b, const char *device,
			  const struct srv_install_report *ir, struct upt_error *err)
{
	char at[24];
	const char *vals[] = {device, num(at, ir->at), ir->correlation_id, ir->success ? "1" : "0",
			      ir->report};
	int code;
	hold(P(b));
	PQclear(exec(P(b),
		     "INSERT INTO installation_reports (device, at, correlation_id, success, "
		     "report) VALUES ($1,$2,$3,$4,$5)",
		     5, vals, NULL, NULL, err, &code));
	if (code == UPT_OK)
		code = keep_newest(P(b), "installation_reports", "device", device, NULL, NULL,
				   b->policy.manifest_history, err);
	release(P(b));
	return code;
}

static int pg_install_list(struct srv_store *b, const char *device, struct srv_install_report **out,
			   size_t *n, struct upt_error *err)
{
	const char *vals[] = {device};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "SELECT at, correlation_id, success, report FROM installation_reports "
		 "WHERE device=$1 ORDER BY id DESC",
		 1, vals, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_install_report *ir = &(*out)[i];
		ir->at = col_i(r, i, 0);
		col_s(ir->correlation_id, sizeof ir->correlation_id, r, i, 1);
		ir->success = col_i(r, i, 2) != 0;
		if (!(ir->report = strdup(PQgetvalue(r, i, 3))))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else
			(*n)++;
	}
	PQclear(r);
	if (code != UPT_OK) {
		srv_install_reports_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return code;
}

static int pg_product_put(struct srv_store *b, const struct srv_product *p, bool create,
			  struct upt_error *err)
{
	char years[24];
	const char *vals[] = {p->name, p->hardware_ids, num(years, p->support_years), p->contact,
			      p->security_fast_path ? "1" : "0"};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 create ? "INSERT INTO products (name, hardware_ids, support_years, contact, "
			  "security_fast_path) VALUES ($1,$2,$3,$4,$5)"
			: "UPDATE products SET hardware_ids=$2, support_years=$3, contact=$4, "
			  "security_fast_path=$5 WHERE name=$1",
		 5, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_ERR_STATE && create)
		upt_error_set(err, UPT_ERR_STATE, "product %s exists already", p->name);
	else if (code == UPT_OK && !create && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown", p->name);
	PQclear(r);
	return code;
}

#define PRODUCT_COLS                                                                      \
	"SELECT name, hardware_ids, support_years, contact, created, security_fast_path " \
	"FROM products"

static void product_row(PGresult *r, int i, struct srv_product *p)
{
	memset(p, 0, sizeof *p);
	col_s(p->name, sizeof p->name, r, i, 0);
	col_s(p->hardware_ids, sizeof p->hardware_ids, r, i, 1);
	p->support_years = col_i(r, i, 2);
	col_s(p->contact, sizeof p->contact, r, i, 3);
	p->created = col_i(r, i, 4);
	p->security_fast_path = col_i(r, i, 5) != 0;
}

static int pg_product_get(struct srv_store *b, const char *name, struct srv_product *out,
			  struct upt_error *err)
{
	const char *vals[] = {name};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), PRODUCT_COLS " WHERE name=$1", 1, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown", name);
	if (code == UPT_OK)
		product_row(r, 0, out);
	PQclear(r);
	return code;
}

static int pg_product_list(struct srv_store *b, struct srv_product **out, size_t *n,
			   struct upt_error *err)
{
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), PRODUCT_COLS " ORDER BY name", 0, NULL, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++)
			product_row(r, i, &(*out)[i]);
		if (code == UPT_OK)
			*n = (size_t)PQntuples(r);
	}
	PQclear(r);
	return code;
}

static int pg_device_lifecycle(struct srv_store *b, const char *id, const char *product,
			       const char *manufactured, const char *placed_on_market,
			       const char *support_end, struct upt_error *err)
{
	const char *vals[] = {id, product, manufactured, placed_on_market, support_end};
	int code;
	PGresult *r;
	for (int i = 1; i < 5; i++)
		if (vals[i] && !vals[i][0])
			vals[i] = NULL; /* SQL NULL */
	hold(P(b));
	r = exec(P(b),
		 "UPDATE devices SET product=$2, manufactured=$3, placed_on_market=$4, "
		 "support_end=$5 WHERE id=$1",
		 5, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_ERR_STATE)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "product %s: unknown", product);
	else if (code == UPT_OK && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
	PQclear(r);
	return code;
}

/* ---- alerts --------------------------------------------------------------- */

static int pg_alert_raise(struct srv_store *b, const struct srv_alert *a, int64_t now, int64_t *id,
			  bool *folded, struct upt_error *err)
{
	char t[24], urls[SRV_MAX_WEBHOOKS * 513] = "";
	const char *vals[] = {a->device,   a->ecu,      a->kind, a->message,
			      a->evidence, num(t, now), urls};
	size_t o = 0;
	int code;
	PGresult *r;
	for (size_t i = 0; i < b->policy.n_webhooks; i++)
		o += (size_t)snprintf(urls + o, sizeof urls - o, "%s%s", i ? "\n" : "",
				      b->policy.webhooks[i]);
	/* fold into the open alert, or a new one and its deliveries: one
	 * statement, so one step */
	hold(P(b));
	r = exec(
	    P(b),
	    "WITH up AS (UPDATE alerts SET count=count+1, last_seen=$6::bigint, message=$4, "
	    "evidence=$5 WHERE device=$1 AND ecu=$2 AND kind=$3 AND acked_at=0 RETURNING id), "
	    "ins AS (INSERT INTO alerts (device, ecu, kind, message, evidence, at, last_seen) "
	    "SELECT $1, $2, $3, $4, $5, $6::bigint, $6::bigint WHERE NOT EXISTS (SELECT 1 FROM "
	    "up) RETURNING id), "
	    "ob AS (INSERT INTO alert_outbox (alert_id, url, next_at) SELECT ins.id, u, "
	    "$6::bigint FROM ins, unnest(string_to_array(nullif($7, ''), E'\\n')) u "
	    "RETURNING 1) "
	    "SELECT coalesce((SELECT id FROM ins), 0), (SELECT count(*) FROM up), "
	    "(SELECT count(*) FROM ob)",
	    7, vals, NULL, NULL, err, &code);
	if (code == UPT_OK && id)
		*id = col_i(r, 0, 0);
	if (code == UPT_OK && folded)
		*folded = col_i(r, 0, 1) > 0;
	if (code == UPT_OK && col_i(r, 0, 1) == 0)
		code = keep_newest(P(b), "alerts", "device", a->device, NULL, NULL,
				   b->policy.alert_history, err);
	release(P(b));
	PQclear(r);
	return code;
}

#define PG_ALERT_COLS                                                                       \
	"SELECT id, device, ecu, kind, message, evidence, at, last_seen, count, acked_by, " \
	"acked_at FROM alerts"

static void pg_alert_row(PGresult *r, int i, struct srv_alert *a)
{
	memset(a, 0, sizeof *a);
	a->id = col_i(r, i, 0);
	col_s(a->device, sizeof a->device, r, i, 1);
	col_s(a->ecu, sizeof a->ecu, r, i, 2);
	col_s(a->kind, sizeof a->kind, r, i, 3);
	col_s(a->message, sizeof a->message, r, i, 4);
	col_s(a->evidence, sizeof a->evidence, r, i, 5);
	a->first_seen = col_i(r, i, 6);
	a->last_seen = col_i(r, i, 7);
	a->count = col_i(r, i, 8);
	col_s(a->acked_by, sizeof a->acked_by, r, i, 9);
	a->acked_at = col_i(r, i, 10);
}

static int pg_alert_list(struct srv_store *b, const struct srv_alert_filter *f,
			 struct srv_alert **out, size_t *n, struct upt_error *err)
{
	char since[24], lim[24];
	const char *vals[] = {f->kind, f->device, num(since, f->since), f->open_only ? "1" : "0",
			      f->limit ? num(lim, (long long)f->limit) : NULL};
	int code;
	PGresult *r;
	*out = NULL;
	*n = 0;
	hold(P(b));
	r = exec(P(b),
		 PG_ALERT_COLS " WHERE ($1::text IS NULL OR kind=$1) AND ($2::text IS NULL OR "
			       "device=$2) AND last_seen >= $3::bigint AND ($4::int = 0 OR "
			       "acked_at = 0) ORDER BY last_seen DESC, id DESC LIMIT $5::bigint",
		 5, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++)
			pg_alert_row(r, i, &(*out)[i]);
		if (code == UPT_OK)
			*n = (size_t)PQntuples(r);
	}
	PQclear(r);
	return code;
}

static int pg_alert_get(struct srv_store *b, int64_t id, struct srv_alert *out,
			struct upt_error *err)
{
	char t[24];
	const char *vals[] = {num(t, id)};
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b), PG_ALERT_COLS " WHERE id=$1::bigint", 1, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "alert %lld: unknown", (long long)id);
	if (code == UPT_OK)
		pg_alert_row(r, 0, out);
	PQclear(r);
	return code;
}

static int pg_alert_ack(struct srv_store *b, int64_t id, const char *by, int64_t now,
			struct upt_error *err)
{
	char t[24], w[24];
	const char *vals[] = {by, num(w, now), num(t, id)};
	struct srv_alert a;
	int code = pg_alert_get(b, id, &a, err);
	PGresult *r;
	if (code == UPT_OK && a.acked_at)
		return upt_error_set(err, UPT_ERR_STATE, "alert %lld: acknowledged already by %s",
				     (long long)id, a.acked_by);
	if (code != UPT_OK)
		return code;
	hold(P(b));
	r = exec(P(b),
		 "UPDATE alerts SET acked_by=$1, acked_at=$2::bigint WHERE id=$3::bigint AND "
		 "acked_at=0",
		 3, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_STATE, "alert %lld: acknowledged already",
				     (long long)id);
	PQclear(r);
	return code;
}

static int pg_outbox_claim(struct srv_store *b, int64_t now, int64_t lease, size_t max,
			   struct srv_delivery **out, size_t *n, struct upt_error *err)
{
	char l[24], t[24], m[24];
	const char *vals[] = {num(l, now + lease), num(t, now), num(m, (long long)max)};
	int code;
	PGresult *r;
	*out = NULL;
	*n = 0;
	hold(P(b));
	r = exec(P(b),
		 "UPDATE alert_outbox o SET next_at=$1::bigint FROM (SELECT alert_id, url FROM "
		 "alert_outbox WHERE next_at <= $2::bigint ORDER BY next_at LIMIT $3::bigint FOR "
		 "UPDATE SKIP LOCKED) c WHERE o.alert_id=c.alert_id AND o.url=c.url "
		 "RETURNING o.alert_id, o.url, o.attempts",
		 3, vals, NULL, NULL, err, &code);
	release(P(b));
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			(*out)[i].alert_id = col_i(r, i, 0);
			col_s((*out)[i].url, sizeof(*out)[i].url, r, i, 1);
			(*out)[i].attempts = col_i(r, i, 2);
		}
		if (code == UPT_OK)
			*n = (size_t)PQntuples(r);
	}
	PQclear(r);
	return code;
}

static int pg_outbox_done(struct srv_store *b, int64_t alert_id, const char *url,
			  struct upt_error *err)
{
	char t[24];
	const char *vals[] = {num(t, alert_id), url};
	return run(P(b), "DELETE FROM alert_outbox WHERE alert_id=$1::bigint AND url=$2", 2, vals,
		   err);
}

static int pg_outbox_retry(struct srv_store *b, int64_t alert_id, const char *url, int64_t next_at,
			   struct upt_error *err)
{
	char t[24], w[24];
	const char *vals[] = {num(w, next_at), num(t, alert_id), url};
	return run(P(b),
		   "UPDATE alert_outbox SET attempts=attempts+1, next_at=$1::bigint WHERE "
		   "alert_id=$2::bigint AND url=$3",
		   3, vals, err);
}

static void pg_unwatch(struct srv_store *b);

static void pg_close(struct srv_store *b)
{
	struct pg_store *s = P(b);
	if (!b)
		return;
	pg_unwatch(b);
	for (size_t i = 0; i < s->n_conns; i++) {
		forget_prepared(&s->conns[i]);
		PQfinish(s->conns[i].db);
	}
	free(s->conns);
	free(s->conninfo);
	pthread_key_delete(s->held);
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->lock);
	free(b);
}

/* A transaction-scoped advisory lock: held until commit or rollback. */
static int pg_lock(struct srv_store *b, const char *name, struct upt_error *err)
{
	const char *vals[] = {name};
	int code;
	PQclear(exec(P(b), "SELECT pg_advisory_xact_lock(hashtext($1))", 1, vals, NULL, NULL, err,
		     &code));
	return code;
}

/* NOTIFY: inside a transaction, sent when it commits. */
static int pg_changed(struct srv_store *b, const char *what, struct upt_error *err)
{
	const char *vals[] = {what};
	int code;
	PQclear(exec(P(b), "SELECT pg_notify('" CHANNEL "', $1)", 1, vals, NULL, NULL, err, &code));
	return code;
}

/* Connect and LISTEN; NULL while the database is away. */
static PGconn *listen_conn(struct pg_store *s)
{
	PGconn *db = pg_connect(s->conninfo);
	PGresult *r;
	if (PQstatus(db) != CONNECTION_OK) {
		PQfinish(db);
		return NULL;
	}
	r = PQexec(db, "LISTEN " CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		PQfinish(db);
		return NULL;
	}
	PQclear(r);
	return db;
}

static void *watcher(void *arg)
{
	struct pg_store *s = arg;
	PGconn *db = NULL;
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd;
		PGnotify *n;
		if (!db) {
			if (!(db = listen_conn(s))) {
				poll(NULL, 0, 500);
				continue;
			}
			/* what changed while no one listened is unknown */
			s->change_fn(s->change_ctx, NULL);
		}
		pfd.fd = PQsocket(db);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 250) < 0 && errno != EINTR)
			break;
		if (!PQconsumeInput(db) || PQstatus(db) != CONNECTION_OK) {
			PQfinish(db);
			db = NULL;
			continue;
		}
		while ((n = PQnotifies(db)) != NULL) {
			s->change_fn(s->change_ctx, n->extra);
			PQfreemem(n);
		}
	}
	PQfinish(db);
	return NULL;
}

static int pg_watch(struct srv_store *b, srv_change_fn fn, void *ctx, struct upt_error *err)
{
	struct pg_store *s = P(b);
	if (s->watching)
		return upt_error_set(err, UPT_ERR_STATE, "postgresql: watched already");
	s->change_fn = fn;
	s->change_ctx = ctx;
	s->stop = 0;
	if (pthread_create(&s->watcher, NULL, watcher, s) != 0)
		return upt_error_set(err, UPT_ERR_IO, "cannot start the change watcher");
	s->watching = true;
	return UPT_OK;
}

static void pg_unwatch(struct srv_store *b)
{
	struct pg_store *s = P(b);
	if (!s->watching)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->watcher, NULL);
	s->watching = false;
}

static int pg_ping(struct srv_store *b, struct upt_error *err)
{
	int code;
	PQclear(exec(P(b), "SELECT 1", 0, NULL, NULL, NULL, err, &code));
	return code;
}

static uint64_t pg_failures(struct srv_store *b)
{
	return __atomic_load_n(&P(b)->failures, __ATOMIC_ACQUIRE);
}

static int pg_published_put(struct srv_store *b, const struct srv_published *t, size_t n,
			    struct upt_error *err)
{
	int code = UPT_OK;
	for (size_t i = 0; code == UPT_OK && i < n; i++) {
		char l[24], c[24], p[24];
		const char *vals[] = {t[i].name,
				      t[i].sha256,
				      num(l, t[i].length),
				      t[i].hardware_ids,
				      num(c, t[i].release_counter),
				      t[i].security ? "1" : "0",
				      num(p, t[i].published),
				      t[i].sbom_sha256};
		code = run(P(b),
			   "INSERT INTO published_targets (name, sha256, length, hardware_ids, "
			   "release_counter, security, published, sbom_sha256) VALUES "
			   "($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (name, sha256) DO NOTHING",
			   8, vals, err);
	}
	return code;
}

static int pg_published_list(struct srv_store *b, struct srv_published **out, size_t *n,
			     struct upt_error *err)
{
	int code;
	PGresult *r;
	hold(P(b));
	r = exec(P(b),
		 "SELECT name, sha256, length, hardware_ids, release_counter, security, published, "
		 "sbom_sha256 FROM published_targets ORDER BY name, published",
		 0, NULL, NULL, NULL, err, &code);
	release(P(b));
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_published *t = &(*out)[(*n)++];
		col_s(t->name, sizeof t->name, r, i, 0);
		col_s(t->sha256, sizeof t->sha256, r, i, 1);
		t->length = col_i(r, i, 2);
		col_s(t->hardware_ids, sizeof t->hardware_ids, r, i, 3);
		t->release_counter = col_i(r, i, 4);
		t->security = col_i(r, i, 5) != 0;
		t->published = col_i(r, i, 6);
		col_s(t->sbom_sha256, sizeof t->sbom_sha256, r, i, 7);
	}
	PQclear(r);
	return code;
}

/* ---- users, tokens, sessions, audit ---------------------------------------- */

static PGresult *query(struct srv_store *b, const char *sql, int n, const char *const *vals,
		       struct upt_error *err, int *code)
{
	return exec(P(b), sql, n, vals, NULL, NULL, err, code);
}

static void user_row(PGresult *r, int i, struct srv_user *u)
{
	memset(u, 0, sizeof *u);
	col_s(u->name, sizeof u->name, r, i, 0);
	col_s(u->role, sizeof u->role, r, i, 1);
	col_s(u->pw_hash, sizeof u->pw_hash, r, i, 2);
	u->created = col_i(r, i, 3);
}

#define PG_USER_COLS "SELECT name, role, pw_hash, created FROM users"

static int pg_user_put(struct srv_store *b, const struct srv_user *u, bool create,
		       struct upt_error *err)
{
	const char *vals[] = {u->name, u->role, u->pw_hash};
	int code;
	PGresult *r = query(b,
			    create ? "INSERT INTO users (name, role, pw_hash) VALUES ($1,$2,$3)"
				   : "UPDATE users SET role=$2, pw_hash=$3 WHERE name=$1",
			    3, vals, err, &code);
	if (code == UPT_ERR_STATE && create)
		upt_error_set(err, UPT_ERR_STATE, "user %s exists already", u->name);
	else if (code == UPT_OK && !create && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "user %s: unknown", u->name);
	PQclear(r);
	return code;
}

static int pg_user_get(struct srv_store *b, const char *name, struct srv_user *out,
		       struct upt_error *err)
{
	const char *vals[] = {name};
	int code;
	PGresult *r = query(b, PG_USER_COLS " WHERE name=$1", 1, vals, err, &code);
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "user %s: unknown", name);
	if (code == UPT_OK)
		user_row(r, 0, out);
	PQclear(r);
	return code;
}

static int pg_user_list(struct srv_store *b, struct srv_user **out, size_t *n,
			struct upt_error *err)
{
	int code;
	PGresult *r = query(b, PG_USER_COLS " ORDER BY name", 0, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++)
		user_row(r, i, &(*out)[(*n)++]);
	PQclear(r);
	return code;
}

static int pg_user_remove(struct srv_store *b, const char *name, struct upt_error *err)
{
	const char *vals[] = {name};
	int code = pg_begin(b, err);
	PGresult *r;
	if (code != UPT_OK)
		return code;
	r = exec(P(b), "DELETE FROM users WHERE name=$1", 1, vals, NULL, NULL, err, &code);
	if (code == UPT_OK && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "user %s: unknown", name);
	PQclear(r);
	if (code == UPT_OK)
		code = run(P(b), "DELETE FROM api_tokens WHERE \"user\"=$1", 1, vals, err);
	if (code == UPT_OK)
		code = run(P(b), "DELETE FROM sessions WHERE \"user\"=$1", 1, vals, err);
	if (code == UPT_OK)
		return pg_commit(b, err);
	pg_rollback(b);
	return code;
}

static int pg_token_put(struct srv_store *b, const char *digest, const char *user, int64_t now,
			struct upt_error *err)
{
	char t[24];
	const char *vals[] = {digest, user, num(t, now)};
	return run(P(b),
		   "INSERT INTO api_tokens (digest, \"user\", created) VALUES ($1,$2,$3::bigint)",
		   3, vals, err);
}

static int pg_token_user(struct srv_store *b, const char *digest, struct srv_user *out,
			 struct upt_error *err)
{
	const char *vals[] = {digest};
	int code;
	PGresult *r = query(b,
			    "SELECT u.name, u.role, u.pw_hash, u.created FROM api_tokens t JOIN "
			    "users u ON u.name=t.\"user\" WHERE t.digest=$1",
			    1, vals, err, &code);
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "unknown API token");
	if (code == UPT_OK)
		user_row(r, 0, out);
	PQclear(r);
	return code;
}

static int pg_session_put(struct srv_store *b, const char *digest, const char *user,
			  const char *csrf, int64_t expires, struct upt_error *err)
{
	char t[24];
	const char *vals[] = {digest, user, csrf, num(t, expires)};
	return run(P(b),
		   "INSERT INTO sessions (digest, \"user\", csrf, expires) VALUES "
		   "($1,$2,$3,$4::bigint)",
		   4, vals, err);
}

static int pg_session_get(struct srv_store *b, const char *digest, int64_t now,
			  struct srv_session *out, struct upt_error *err)
{
	char t[24];
	const char *vals[] = {digest, num(t, now)};
	int code;
	PGresult *r =
	    query(b,
		  "SELECT s.\"user\", u.role, s.csrf, s.expires FROM sessions s JOIN "
		  "users u ON u.name=s.\"user\" WHERE s.digest=$1 AND s.expires>$2::bigint",
		  2, vals, err, &code);
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "no such session, or it has expired");
	if (code == UPT_OK) {
		memset(out, 0, sizeof *out);
		col_s(out->user, sizeof out->user, r, 0, 0);
		col_s(out->role, sizeof out->role, r, 0, 1);
		col_s(out->csrf, sizeof out->csrf, r, 0, 2);
		out->expires = col_i(r, 0, 3);
	}
	PQclear(r);
	return code;
}

static int pg_session_remove(struct srv_store *b, const char *digest, struct upt_error *err)
{
	const char *vals[] = {digest};
	return run(P(b), "DELETE FROM sessions WHERE digest=$1", 1, vals, err);
}

static int pg_audit_add(struct srv_store *b, const struct srv_audit *a, struct upt_error *err)
{
	char t[24], st[24];
	const char *vals[] = {num(t, a->at), a->actor,           a->role,  a->remote, a->method,
			      a->path,       num(st, a->status), a->detail};
	return run(P(b),
		   "INSERT INTO audit_log (at, actor, role, remote, method, path, status, detail) "
		   "VALUES ($1::bigint,$2,$3,$4,$5,$6,$7::bigint,$8)",
		   8, vals, err);
}

static int pg_audit_list(struct srv_store *b, int64_t since, int64_t limit, struct srv_audit **out,
			 size_t *n, struct upt_error *err)
{
	char t[24], l[24];
	const char *vals[] = {num(t, since), num(l, limit)};
	int code;
	PGresult *r = query(b,
			    "SELECT id, at, actor, role, remote, method, path, status, detail FROM "
			    "audit_log WHERE at>=$1::bigint ORDER BY id LIMIT $2::bigint",
			    2, vals, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_audit *a = &(*out)[(*n)++];
		a->id = col_i(r, i, 0);
		a->at = col_i(r, i, 1);
		col_s(a->actor, sizeof a->actor, r, i, 2);
		col_s(a->role, sizeof a->role, r, i, 3);
		col_s(a->remote, sizeof a->remote, r, i, 4);
		col_s(a->method, sizeof a->method, r, i, 5);
		col_s(a->path, sizeof a->path, r, i, 6);
		a->status = col_i(r, i, 7);
		col_s(a->detail, sizeof a->detail, r, i, 8);
	}
	PQclear(r);
	return code;
}

static int pg_sbom_put(struct srv_store *b, const struct srv_sbom *sb, struct upt_error *err)
{
	char c[24];
	const char *vals[] = {sb->sha256, sb->sha512, sb->format, num(c, sb->created),
			      (const char *)sb->data};
	int lens[] = {0, 0, 0, 0, (int)sb->len}, code;
	PGresult *r;
	if (sb->len > INT_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "sbom too large");
	r = exec(P(b),
		 "INSERT INTO sboms (sha256, sha512, format, created, data) VALUES "
		 "($1,$2,$3,$4,$5) ON CONFLICT (sha256) DO NOTHING",
		 5, vals, lens, "tttib", err, &code);
	PQclear(r);
	return code;
}

static int pg_sbom_get(struct srv_store *b, const char *sha256, struct srv_sbom *out,
		       struct upt_error *err)
{
	const char *vals[] = {sha256};
	int code;
	PGresult *r;
	memset(out, 0, sizeof *out);
	r = exec(P(b), "SELECT sha256, sha512, format, created, data FROM sboms WHERE sha256=$1", 1,
		 vals, NULL, NULL, err, &code);
	if (code == UPT_OK && PQntuples(r) == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "sbom %s: not stored", sha256);
	if (code == UPT_OK) {
		size_t n = 0;
		unsigned char *raw =
		    PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 4), &n);
		col_s(out->sha256, sizeof out->sha256, r, 0, 0);
		col_s(out->sha512, sizeof out->sha512, r, 0, 1);
		col_s(out->format, sizeof out->format, r, 0, 2);
		out->created = col_i(r, 0, 3);
		if (!raw || !(out->data = malloc(n + 1)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			memcpy(out->data, raw, n);
			out->data[n] = 0;
			out->len = n;
		}
		PQfreemem(raw);
	}
	PQclear(r);
	return code;
}

static int pg_sbom_hashes(struct srv_store *b, char (**out)[65], size_t *n, struct upt_error *err)
{
	int code;
	PGresult *r =
	    exec(P(b), "SELECT sha256 FROM sboms ORDER BY sha256", 0, NULL, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++)
		col_s((*out)[(*n)++], 65, r, i, 0);
	PQclear(r);
	return code;
}

/* A growing byte buffer. */
struct pg_buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct pg_buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap < b->len + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return UPT_ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return UPT_OK;
}

/* Append one element to a text[] literal being built: quoted, with '"'
 * and '\\' escaped. */
static int array_add(struct pg_buf *a, const char *v)
{
	int rc = buf_add(a, a->len > 1 ? ",\"" : "\"", a->len > 1 ? 2 : 1);
	for (const char *p = v; rc == UPT_OK && *p; p++) {
		if ((*p == '"' || *p == '\\') && (rc = buf_add(a, "\\", 1)) != UPT_OK)
			break;
		rc = buf_add(a, p, 1);
	}
	return rc == UPT_OK ? buf_add(a, "\"", 1) : rc;
}

/* The rows in statements of up to 1,000 rows each: three text[]
 * parameters unnested into one INSERT, a round trip per statement rather
 * than per row. */
static int pg_match_put(struct srv_store *b, const struct srv_vmatch *m, size_t n,
			struct upt_error *err)
{
	int rc = UPT_OK;
	for (size_t at = 0; rc == UPT_OK && at < n; at += 1000) {
		size_t k = n - at < 1000 ? n - at : 1000;
		struct pg_buf a[3] = {{0}};
		for (int c = 0; rc == UPT_OK && c < 3; c++)
			rc = buf_add(&a[c], "{", 1);
		for (size_t i = at; rc == UPT_OK && i < at + k; i++)
			if ((rc = array_add(&a[0], m[i].vuln)) != UPT_OK ||
			    (rc = array_add(&a[1], m[i].sbom)) != UPT_OK)
				break;
			else
				rc = array_add(&a[2], m[i].hits);
		for (int c = 0; rc == UPT_OK && c < 3; c++)
			rc = buf_add(&a[c], "}", 2); /* with the terminating NUL */
		if (rc != UPT_OK)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			const char *vals[] = {a[0].p, a[1].p, a[2].p};
			rc = run(P(b),
				 "INSERT INTO vuln_matches (vuln, sbom, hits) SELECT * FROM "
				 "unnest($1::text[], $2::text[], $3::text[]) "
				 "ON CONFLICT (vuln, sbom) DO UPDATE SET hits=excluded.hits",
				 3, vals, err);
		}
		for (int c = 0; c < 3; c++)
			free(a[c].p);
	}
	return rc;
}

static int pg_match_clear(struct srv_store *b, const char *vuln, const char *sbom,
			  struct upt_error *err)
{
	/* one statement per case, each on an index (an OR would scan the table) */
	const char *v[] = {vuln[0] ? vuln : sbom, sbom};
	if (vuln[0] && sbom[0])
		return run(P(b), "DELETE FROM vuln_matches WHERE vuln = $1 AND sbom = $2", 2, v,
			   err);
	if (vuln[0] || sbom[0])
		return run(P(b),
			   vuln[0] ? "DELETE FROM vuln_matches WHERE vuln = $1"
				   : "DELETE FROM vuln_matches WHERE sbom = $1",
			   1, v, err);
	/* all: TRUNCATE, not a DELETE of every row (which leaves as many dead
	 * rows for the rematch's inserts to work around); until the rematch
	 * commits, readers of the rows wait for it */
	return run(P(b), "TRUNCATE vuln_matches", 0, v, err);
}

static int pg_match_list(struct srv_store *b, struct srv_vmatch **out, size_t *n,
			 struct upt_error *err)
{
	int code;
	PGresult *r = exec(P(b), "SELECT vuln, sbom, hits FROM vuln_matches ORDER BY vuln, sbom", 0,
			   NULL, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_vmatch *m = &(*out)[(*n)++];
		col_s(m->vuln, sizeof m->vuln, r, i, 0);
		col_s(m->sbom, sizeof m->sbom, r, i, 1);
		if (!(m->hits = strdup(PQgetvalue(r, i, 2))))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	PQclear(r);
	if (code != UPT_OK) {
		srv_vmatches_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return code;
}

static int pg_vuln_put(struct srv_store *b, const struct srv_vuln *v, struct upt_error *err)
{
	char t[24];
	const char *vals[] = {v->id, v->modified, v->withdrawn ? "1" : "0", num(t, v->imported),
			      v->record};
	return run(P(b),
		   "INSERT INTO vulns (id, modified, withdrawn, imported, record) VALUES "
		   "($1,$2,$3,$4,$5) ON CONFLICT (id) DO UPDATE SET modified=excluded.modified, "
		   "withdrawn=excluded.withdrawn, imported=excluded.imported, "
		   "record=excluded.record",
		   5, vals, err);
}

static int pg_vuln_list(struct srv_store *b, struct srv_vuln **out, size_t *n,
			struct upt_error *err)
{
	int code;
	PGresult *r;
	r = exec(P(b),
		 "SELECT id, modified, withdrawn, imported, exploited_at, record, reported_early, "
		 "reported_notification, reported_final FROM vulns "
		 "ORDER BY id",
		 0, NULL, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_vuln *v = &(*out)[(*n)++];
		col_s(v->id, sizeof v->id, r, i, 0);
		col_s(v->modified, sizeof v->modified, r, i, 1);
		v->withdrawn = col_i(r, i, 2) != 0;
		v->imported = col_i(r, i, 3);
		v->exploited_at = col_i(r, i, 4);
		for (int k = 0; k < 3; k++)
			v->reported[k] = col_i(r, i, 6 + k);
		if (!(v->record = strdup(PQgetvalue(r, i, 5))))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	PQclear(r);
	if (code != UPT_OK) {
		srv_vulns_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return code;
}

static int pg_vex_put(struct srv_store *b, const char *document, const struct srv_vex *v, size_t n,
		      struct upt_error *err)
{
	const char *d[] = {document};
	int code;
	PGresult *r = exec(P(b), "DELETE FROM vex WHERE document=$1", 1, d, NULL, NULL, err, &code);
	PQclear(r);
	for (size_t i = 0; code == UPT_OK && i < n; i++) {
		char t[24];
		const char *vals[] = {document,    v[i].vuln,          v[i].product,
				      v[i].status, v[i].justification, num(t, v[i].imported)};
		r = exec(
		    P(b),
		    "INSERT INTO vex (document, vuln, product, status, justification, imported) "
		    "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (document, vuln, product) DO UPDATE "
		    "SET status=excluded.status, justification=excluded.justification",
		    6, vals, NULL, NULL, err, &code);
		PQclear(r);
	}
	return code;
}

static int pg_vex_list(struct srv_store *b, struct srv_vex **out, size_t *n, struct upt_error *err)
{
	int code;
	PGresult *r;
	r = exec(P(b),
		 "SELECT document, vuln, product, status, justification, imported FROM vex "
		 "ORDER BY vuln, product, document",
		 0, NULL, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0 &&
	    !(*out = calloc((size_t)PQntuples(r), sizeof **out)))
		code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
		struct srv_vex *v = &(*out)[(*n)++];
		col_s(v->document, sizeof v->document, r, i, 0);
		col_s(v->vuln, sizeof v->vuln, r, i, 1);
		col_s(v->product, sizeof v->product, r, i, 2);
		col_s(v->status, sizeof v->status, r, i, 3);
		col_s(v->justification, sizeof v->justification, r, i, 4);
		v->imported = col_i(r, i, 5);
	}
	PQclear(r);
	return code;
}

static const char *const mark_sql[] = {
    "UPDATE vulns SET exploited_at=$1::bigint WHERE id=$2",
    "UPDATE vulns SET reported_early=$1::bigint WHERE id=$2",
    "UPDATE vulns SET reported_notification=$1::bigint WHERE id=$2",
    "UPDATE vulns SET reported_final=$1::bigint WHERE id=$2",
};

static int pg_vuln_mark(struct srv_store *b, const char *id, enum srv_vuln_mark what,
			int64_t aware_at, struct upt_error *err)
{
	char t[24];
	const char *vals[] = {num(t, aware_at), id};
	int code;
	PGresult *r;
	r = exec(P(b), mark_sql[what], 2, vals, NULL, NULL, err, &code);
	if (code == UPT_OK && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "vulnerability %s: not imported", id);
	PQclear(r);
	return code;
}

/* One pass in single-row mode: a large fleet is never held in memory. */
static int pg_ecu_scan(struct srv_store *b, srv_ecu_scan_fn fn, void *ctx, struct upt_error *err)
{
	struct pg_store *s = P(b);
	struct pg_conn *c = conn_get(s, err);
	int code = UPT_OK;
	PGresult *r;
	if (!c)
		return UPT_ERR_IO;
	if (!PQsendQueryParams(c->db,
			       "SELECT device, serial, hardware_id, installed, installed_sha256, "
			       "reported_at FROM ecus ORDER BY device, serial",
			       0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(c->db))
		code = upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s", PQerrorMessage(c->db));
	while ((r = PQgetResult(c->db)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (code == UPT_OK && st == PGRES_SINGLE_TUPLE) {
			struct srv_ecu_row row;
			col_s(row.device, sizeof row.device, r, 0, 0);
			col_s(row.serial, sizeof row.serial, r, 0, 1);
			col_s(row.hardware_id, sizeof row.hardware_id, r, 0, 2);
			col_s(row.installed, sizeof row.installed, r, 0, 3);
			col_s(row.installed_sha256, sizeof row.installed_sha256, r, 0, 4);
			row.reported_at = col_i(r, 0, 5);
			code = fn(ctx, &row);
		} else if (code == UPT_OK && st != PGRES_TUPLES_OK) {
			code = upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s",
					     PQresultErrorMessage(r));
		}
		PQclear(r); /* after a stop, the rest is read and dropped */
	}
	if (code != UPT_OK && PQstatus(c->db) != CONNECTION_OK)
		code = unavailable(s, PQerrorMessage(c->db), err);
	conn_put(s, c);
	return code;
}

static int pg_manifest_scan(struct srv_store *b, const char *device, srv_manifest_scan_fn fn,
			    void *ctx, struct upt_error *err)
{
	struct pg_store *s = P(b);
	struct pg_conn *c = conn_get(s, err);
	const char *vals[] = {device};
	int code = UPT_OK;
	PGresult *r;
	if (!c)
		return UPT_ERR_IO;
	/* the body as hex text: results stay in text format */
	if (!PQsendQueryParams(c->db,
			       device
				   ? "SELECT device, received, encode(body, 'hex'), accepted FROM "
				     "manifests WHERE device=$1 ORDER BY received, ctid"
				   : "SELECT device, received, encode(body, 'hex'), accepted FROM "
				     "manifests ORDER BY received, ctid",
			       device ? 1 : 0, NULL, device ? vals : NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(c->db))
		code = upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s", PQerrorMessage(c->db));
	while ((r = PQgetResult(c->db)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (code == UPT_OK && st == PGRES_SINGLE_TUPLE) {
			char dev[128];
			const char *hex = PQgetvalue(r, 0, 2);
			size_t hl = strlen(hex), n = 0;
			uint8_t *body = malloc(hl / 2 + 1);
			col_s(dev, sizeof dev, r, 0, 0);
			if (!body)
				code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else if (upt_hex_decode(body, hl / 2 + 1, &n, hex, hl) != UPT_OK)
				code =
				    upt_error_set(err, UPT_ERR_IO, "postgresql: a manifest's body");
			else
				code = fn(ctx, dev, col_i(r, 0, 1), body, n,
					  PQgetisnull(r, 0, 3) ? NULL : PQgetvalue(r, 0, 3));
			free(body);
		} else if (code == UPT_OK && st != PGRES_TUPLES_OK) {
			code = upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s",
					     PQresultErrorMessage(r));
		}
		PQclear(r); /* after a stop, the rest is read and dropped */
	}
	if (code != UPT_OK && PQstatus(c->db) != CONNECTION_OK)
		code = unavailable(s, PQerrorMessage(c->db), err);
	conn_put(s, c);
	return code;
}

/* ---- cursors -------------------------------------------------------------- */

/* Byte order (COLLATE "C") for the images, as SQLite sorts them. */
static const char *const cursor_sql[] = {
    [SRV_SCAN_ECUS] = "SELECT device, serial, hardware_id, installed, installed_sha256, "
		      "reported_at FROM ecus ORDER BY device, serial",
    [SRV_SCAN_DEVICES] = DEVICE_COLS " ORDER BY id",
    [SRV_SCAN_ALERTS] =
	PG_ALERT_COLS " WHERE ($1::text IS NULL OR kind=$1) AND ($2::text IS NULL OR "
		      "device=$2) AND last_seen >= $3::bigint AND ($4::int = 0 OR "
		      "acked_at = 0) ORDER BY last_seen DESC, id DESC LIMIT $5::bigint",
    [SRV_SCAN_IMAGES] = "SELECT installed_sha256, hardware_id, min(installed COLLATE \"C\"), "
			"count(*), count(DISTINCT device) FROM ecus "
			"GROUP BY installed_sha256, hardware_id "
			"ORDER BY installed_sha256 COLLATE \"C\", hardware_id COLLATE \"C\"",
};

struct srv_cursor {
	struct pg_store *s;
	struct pg_conn *c;
	enum srv_scan what;
	bool done;
};

/* The connection goes back to the pool; one whose query was cut short
 * is dropped (the next user connects anew). */
static void pg_cursor_close(struct srv_cursor *k)
{
	PGresult *r;
	struct pg_conn *held;
	if (!k)
		return;
	held = pthread_getspecific(k->s->held);
	if (k->c) {
		if (!k->done) {
			PQfinish(k->c->db);
			k->c->db = NULL;
		}
		while (k->c->db && (r = PQgetResult(k->c->db)) != NULL)
			PQclear(r);
		k->c->depth = 1;
		pthread_setspecific(k->s->held, k->c);
		conn_put(k->s, k->c);
		pthread_setspecific(k->s->held, held); /* what this thread held stays */
	}
	free(k);
}

static int pg_cursor_open(struct srv_store *b, enum srv_scan what, const struct srv_alert_filter *f,
			  struct srv_cursor **out, struct upt_error *err)
{
	char since[24], lim[24];
	const char *vals[5] = {NULL};
	int nv = 0;
	struct pg_store *s = P(b);
	struct srv_cursor *k;
	struct pg_conn *held = pthread_getspecific(s->held);
	*out = NULL;
	if (held) /* inside a transaction: a cursor needs a connection of its own */
		return upt_error_set(err, UPT_ERR_STATE, "postgresql: cursor inside a transaction");
	if (!(k = calloc(1, sizeof *k)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	k->s = s;
	k->what = what;
	if (!(k->c = conn_get(s, err))) {
		free(k);
		return UPT_ERR_IO;
	}
	/* off this thread: its other calls between rows take other connections */
	pthread_setspecific(s->held, NULL);
	if (what == SRV_SCAN_ALERTS) {
		vals[0] = f->kind;
		vals[1] = f->device;
		vals[2] = num(since, f->since);
		vals[3] = f->open_only ? "1" : "0";
		vals[4] = f->limit ? num(lim, (long long)f->limit) : NULL;
		nv = 5;
	}
	if (!PQsendQueryParams(k->c->db, cursor_sql[what], nv, NULL, nv ? vals : NULL, NULL, NULL,
			       0) ||
	    !PQsetSingleRowMode(k->c->db)) {
		int rc = unavailable(s, PQerrorMessage(k->c->db), err);
		pg_cursor_close(k);
		return rc;
	}
	*out = k;
	return UPT_OK;
}

static void cursor_row(const struct srv_cursor *k, PGresult *r, void *row)
{
	if (k->what == SRV_SCAN_ECUS) {
		struct srv_ecu_row *e = row;
		col_s(e->device, sizeof e->device, r, 0, 0);
		col_s(e->serial, sizeof e->serial, r, 0, 1);
		col_s(e->hardware_id, sizeof e->hardware_id, r, 0, 2);
		col_s(e->installed, sizeof e->installed, r, 0, 3);
		col_s(e->installed_sha256, sizeof e->installed_sha256, r, 0, 4);
		e->reported_at = col_i(r, 0, 5);
	} else if (k->what == SRV_SCAN_DEVICES) {
		device_row(r, 0, row);
	} else if (k->what == SRV_SCAN_ALERTS) {
		pg_alert_row(r, 0, row);
	} else {
		struct srv_image_row *m = row;
		col_s(m->sha256, sizeof m->sha256, r, 0, 0);
		col_s(m->hardware_id, sizeof m->hardware_id, r, 0, 1);
		col_s(m->installed, sizeof m->installed, r, 0, 2);
		m->ecus = col_i(r, 0, 3);
		m->devices = col_i(r, 0, 4);
	}
}

static int pg_cursor_next(struct srv_cursor *k, void *row, struct upt_error *err)
{
	PGresult *r;
	ExecStatusType st;
	int rc;
	if (k->done)
		return 0;
	if (!(r = PQgetResult(k->c->db)))
		return upt_error_set(err, UPT_ERR_IO, "postgresql: cursor: no result");
	st = PQresultStatus(r);
	if (st == PGRES_SINGLE_TUPLE) {
		cursor_row(k, r, row);
		rc = 1;
	} else if (st == PGRES_TUPLES_OK) {
		k->done = true;
		rc = 0;
	} else {
		rc = PQstatus(k->c->db) != CONNECTION_OK
			 ? unavailable(k->s, PQerrorMessage(k->c->db), err)
			 : upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s",
					 PQresultErrorMessage(r));
	}
	PQclear(r);
	if (k->done) /* the end of the results */
		while ((r = PQgetResult(k->c->db)) != NULL)
			PQclear(r);
	return rc;
}

/* ---- campaigns ---------------------------------------------------------- */

static int pg_device_tags(struct srv_store *b, const char *id, const char *tags, int64_t utc_offset,
			  struct upt_error *err)
{
	char o[24];
	const char *vals[] = {tags, num(o, utc_offset), id};
	int code;
	PGresult *r;
	r = exec(P(b), "UPDATE devices SET tags=$1, utc_offset=$2 WHERE id=$3", 3, vals, NULL, NULL,
		 err, &code);
	if (code == UPT_OK && strcmp(PQcmdTuples(r), "0") == 0)
		code = upt_error_set(err, UPT_ERR_NOT_FOUND, "device %s: unknown", id);
	PQclear(r);
	return code;
}

static int pg_assign_withdraw(struct srv_store *b, const char *device, const char *ecu,
			      const char *correlation_id, struct upt_error *err)
{
	const char *vals[] = {device, ecu, correlation_id};
	return run(P(b),
		   "DELETE FROM assignments WHERE device=$1 AND ecu_serial=$2 AND "
		   "correlation_id=$3",
		   3, vals, err);
}

static int64_t pg_holder(struct pg_store *s, const char *device, const char *ecu)
{
	const char *vals[] = {device, ecu};
	int code;
	int64_t id = 0;
	PGresult *r = exec(s,
			   "SELECT campaign FROM campaign_members WHERE device=$1 AND ecu=$2 AND "
			   "active=1",
			   2, vals, NULL, NULL, NULL, &code);
	if (code == UPT_OK && PQntuples(r) > 0)
		id = col_i(r, 0, 0);
	PQclear(r);
	return id;
}

static int pg_campaign_add(struct srv_store *b, struct srv_campaign *c, const struct srv_member *m,
			   size_t n, struct upt_error *err)
{
	struct pg_store *s = P(b);
	char st[24], ap[24], cr[24], up[24], id[24];
	const char *vals[] = {c->name,
			      c->spec,
			      c->status,
			      num(st, c->stage),
			      num(ap, c->approved),
			      num(cr, c->created),
			      num(up, c->updated)};
	size_t bad = n;
	int code;
	PGresult *r;
	code = pg_begin(b, err);
	if (code != UPT_OK)
		return code;
	r = exec(s,
		 "INSERT INTO campaigns (name, spec, status, stage, approved, created, updated) "
		 "VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
		 7, vals, NULL, NULL, err, &code);
	if (code == UPT_OK)
		c->id = col_i(r, 0, 0);
	PQclear(r);
	num(id, c->id);
	for (size_t i = 0; code == UPT_OK && i < n; i++) {
		char sg[24], at[24], ud[24];
		const char *mv[] = {id,
				    m[i].device,
				    m[i].ecu,
				    m[i].hardware_id,
				    num(sg, m[i].stage),
				    m[i].state,
				    m[i].sha256,
				    m[i].correlation_id,
				    m[i].from_sha256,
				    num(at, m[i].assigned_at),
				    m[i].published ? "1" : "0",
				    m[i].active ? "1" : "0",
				    num(ud, m[i].updated)};
		r = exec(s,
			 "INSERT INTO campaign_members (campaign, device, ecu, hardware_id, "
			 "stage, "
			 "state, sha256, correlation_id, from_sha256, assigned_at, published, "
			 "active, updated) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
			 13, mv, NULL, NULL, err, &code);
		PQclear(r);
		if (code == UPT_ERR_STATE)
			bad = i;
	}
	if (code == UPT_OK)
		return pg_commit(b, err);
	pg_rollback(b);
	if (bad < n)
		code = upt_error_set(
		    err, UPT_ERR_STATE, "device %s ECU %s is already in active campaign %lld",
		    m[bad].device, m[bad].ecu, (long long)pg_holder(s, m[bad].device, m[bad].ecu));
	return code;
}

static int pg_member_add(struct srv_store *b, const struct srv_member *m, struct upt_error *err)
{
	char id[24], sg[24], at[24], ud[24];
	const char *mv[] = {num(id, m->campaign),
			    m->device,
			    m->ecu,
			    m->hardware_id,
			    num(sg, m->stage),
			    m->state,
			    m->sha256,
			    m->correlation_id,
			    m->from_sha256,
			    num(at, m->assigned_at),
			    m->published ? "1" : "0",
			    m->active ? "1" : "0",
			    num(ud, m->updated)};
	int code =
	    run(P(b),
		"INSERT INTO campaign_members (campaign, device, ecu, hardware_id, stage, "
		"state, sha256, correlation_id, from_sha256, assigned_at, published, active, "
		"updated) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
		13, mv, err);
	if (code == UPT_ERR_STATE)
		upt_error_set(err, UPT_ERR_STATE,
			      "device %s ECU %s is already in an active campaign", m->device,
			      m->ecu);
	return code;
}

#define CAMPAIGN_COLS                                                                             \
	"SELECT id, name, spec, status, stage, approved, stage_started, met_at, acked_failures, " \
	"reason, created, updated, released FROM campaigns"

static int campaign_row(PGresult *r, int i, struct srv_campaign *c, struct upt_error *err)
{
	memset(c, 0, sizeof *c);
	c->id = col_i(r, i, 0);
	col_s(c->name, sizeof c->name, r, i, 1);
	col_s(c->status, sizeof c->status, r, i, 3);
	c->stage = col_i(r, i, 4);
	c->approved = col_i(r, i, 5);
	c->stage_started = col_i(r, i, 6);
	c->met_at = col_i(r, i, 7);
	c->acked_failures = col_i(r, i, 8);
	col_s(c->reason, sizeof c->reason, r, i, 9);
	c->created = col_i(r, i, 10);
	c->updated = col_i(r, i, 11);
	c->released = col_i(r, i, 12);
	if (!(c->spec = strdup(PQgetvalue(r, i, 2))))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	return UPT_OK;
}

static int pg_campaign_get(struct srv_store *b, int64_t id, bool lock, struct srv_campaign *out,
			   struct upt_error *err)
{
	char i[24];
	const char *vals[] = {num(i, id)};
	int code;
	PGresult *r;
	memset(out, 0, sizeof *out);
	r = exec(P(b),
		 lock ? CAMPAIGN_COLS " WHERE id=$1 FOR UPDATE" : CAMPAIGN_COLS " WHERE id=$1", 1,
		 vals, NULL, NULL, err, &code);
	if (code == UPT_OK && PQntuples(r) == 0)
		code =
		    upt_error_set(err, UPT_ERR_NOT_FOUND, "campaign %lld: unknown", (long long)id);
	if (code == UPT_OK)
		code = campaign_row(r, 0, out, err);
	PQclear(r);
	return code;
}

static int pg_campaign_list(struct srv_store *b, struct srv_campaign **out, size_t *n,
			    struct upt_error *err)
{
	int code;
	PGresult *r;
	r = exec(P(b), CAMPAIGN_COLS " ORDER BY id DESC", 0, NULL, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			code = campaign_row(r, i, &(*out)[i], err);
			(*n)++;
		}
	}
	PQclear(r);
	if (code != UPT_OK) {
		srv_campaigns_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return code;
}

static int pg_campaign_set(struct srv_store *b, const struct srv_campaign *c, struct upt_error *err)
{
	char st[24], ap[24], ss[24], ma[24], af[24], up[24], id[24], rl[24];
	const char *vals[] = {c->status,
			      num(st, c->stage),
			      num(ap, c->approved),
			      num(ss, c->stage_started),
			      num(ma, c->met_at),
			      num(af, c->acked_failures),
			      c->reason,
			      num(up, c->updated),
			      num(id, c->id),
			      num(rl, c->released)};
	const char *w[] = {up, id};
	int code;
	code = run(P(b),
		   "UPDATE campaigns SET status=$1, stage=$2, approved=$3, stage_started=$4, "
		   "met_at=$5, acked_failures=$6, reason=$7, updated=$8, released=$10 WHERE id=$9",
		   10, vals, err);
	if (code == UPT_OK && strcmp(c->status, "cancelled") == 0)
		code = run(P(b),
			   "UPDATE campaign_members SET state='cancelled', updated=$1 WHERE "
			   "campaign=$2 AND state NOT IN "
			   "('succeeded','failed','rolled_back','already_installed')",
			   2, w, err);
	if (code == UPT_OK &&
	    (strcmp(c->status, "cancelled") == 0 || strcmp(c->status, "finished") == 0))
		code = run(P(b), "UPDATE campaign_members SET active=0 WHERE campaign=$1", 1, w + 1,
			   err);
	return code;
}

#define MEMBER_COLS                                                                          \
	"SELECT m.campaign, m.device, m.ecu, m.hardware_id, m.stage, m.state, m.sha256, "    \
	"m.correlation_id, m.from_sha256, m.assigned_at, m.published, m.active, m.updated, " \
	"d.utc_offset, COALESCE(p.security_fast_path, 1) FROM campaign_members m "           \
	"JOIN devices d ON d.id = m.device LEFT JOIN products p ON p.name = d.product"

static int members_query(struct srv_store *b, const char *sql, int nv, const char *const *vals,
			 struct srv_member **out, size_t *n, struct upt_error *err)
{
	int code;
	PGresult *r;
	r = exec(P(b), sql, nv, vals, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			struct srv_member *m = &(*out)[(*n)++];
			m->campaign = col_i(r, i, 0);
			col_s(m->device, sizeof m->device, r, i, 1);
			col_s(m->ecu, sizeof m->ecu, r, i, 2);
			col_s(m->hardware_id, sizeof m->hardware_id, r, i, 3);
			m->stage = col_i(r, i, 4);
			col_s(m->state, sizeof m->state, r, i, 5);
			col_s(m->sha256, sizeof m->sha256, r, i, 6);
			col_s(m->correlation_id, sizeof m->correlation_id, r, i, 7);
			col_s(m->from_sha256, sizeof m->from_sha256, r, i, 8);
			m->assigned_at = col_i(r, i, 9);
			m->published = col_i(r, i, 10) != 0;
			m->active = col_i(r, i, 11) != 0;
			m->updated = col_i(r, i, 12);
			m->utc_offset = col_i(r, i, 13);
			m->fast_path_ok = col_i(r, i, 14) != 0;
		}
	}
	PQclear(r);
	return code;
}

static int pg_member_list(struct srv_store *b, int64_t campaign, int64_t stage,
			  struct srv_member **out, size_t *n, struct upt_error *err)
{
	char c[24], s[24];
	const char *vals[] = {num(c, campaign), num(s, stage)};
	return members_query(b,
			     MEMBER_COLS " WHERE m.campaign=$1 AND ($2::bigint<0 OR m.stage=$2) "
					 "ORDER BY m.stage, m.device, m.ecu",
			     2, vals, out, n, err);
}

static int pg_device_members(struct srv_store *b, const char *device, struct srv_member **out,
			     size_t *n, struct upt_error *err)
{
	const char *vals[] = {device};
	return members_query(b, MEMBER_COLS " WHERE m.device=$1 AND m.active=1 ORDER BY m.ecu", 1,
			     vals, out, n, err);
}

static int pg_member_set(struct srv_store *b, const struct srv_member *m, struct upt_error *err)
{
	char at[24], up[24], c[24];
	const char *vals[] = {m->state,
			      m->sha256,
			      m->correlation_id,
			      m->from_sha256,
			      num(at, m->assigned_at),
			      m->published ? "1" : "0",
			      num(up, m->updated),
			      num(c, m->campaign),
			      m->device,
			      m->ecu};
	return run(P(b),
		   "UPDATE campaign_members SET state=$1, sha256=$2, correlation_id=$3, "
		   "from_sha256=$4, assigned_at=$5, published=$6, updated=$7 WHERE "
		   "campaign=$8 AND "
		   "device=$9 AND ecu=$10",
		   10, vals, err);
}

static int pg_member_counts(struct srv_store *b, int64_t campaign, struct srv_member_count **out,
			    size_t *n, struct upt_error *err)
{
	char c[24];
	const char *vals[] = {num(c, campaign)};
	int code;
	PGresult *r;
	r = exec(P(b),
		 "SELECT stage, state, count(*) FROM campaign_members WHERE campaign=$1 "
		 "GROUP BY stage, state ORDER BY stage, state",
		 1, vals, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			struct srv_member_count *x = &(*out)[(*n)++];
			x->stage = col_i(r, i, 0);
			col_s(x->state, sizeof x->state, r, i, 1);
			x->n = col_i(r, i, 2);
		}
	}
	PQclear(r);
	return code;
}

static int pg_campaign_log(struct srv_store *b, int64_t campaign, int64_t at, const char *text,
			   struct upt_error *err)
{
	char c[24], a[24];
	const char *vals[] = {num(c, campaign), num(a, at), text};
	return run(P(b), "INSERT INTO campaign_log (campaign, at, text) VALUES ($1,$2,$3)", 3, vals,
		   err);
}

static int pg_campaign_log_list(struct srv_store *b, int64_t campaign,
				struct srv_campaign_event **out, size_t *n, struct upt_error *err)
{
	char c[24];
	const char *vals[] = {num(c, campaign)};
	int code;
	PGresult *r;
	r = exec(P(b), "SELECT at, text FROM campaign_log WHERE campaign=$1 ORDER BY at, seq", 1,
		 vals, NULL, NULL, err, &code);
	*out = NULL;
	*n = 0;
	if (code == UPT_OK && PQntuples(r) > 0) {
		if (!(*out = calloc((size_t)PQntuples(r), sizeof **out)))
			code = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		for (int i = 0; code == UPT_OK && i < PQntuples(r); i++) {
			struct srv_campaign_event *e = &(*out)[(*n)++];
			e->at = col_i(r, i, 0);
			col_s(e->text, sizeof e->text, r, i, 1);
		}
	}
	PQclear(r);
	return code;
}

static const struct srv_store_ops pg_ops = {
    .name = "postgresql",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .meta_put = pg_meta_put,
    .meta_get = pg_meta_get,
    .meta_roles = pg_meta_roles,
    .image_put = pg_image_put,
    .image_get = pg_image_get,
    .key_put = pg_key_put,
    .key_get = pg_key_get,
    .key_del = pg_key_del,
    .device_add = pg_device_add,
    .device_get = pg_device_get,
    .device_list = pg_device_list,
    .ecus_put = pg_ecus_put,
    .ecus_get = pg_ecus_get,
    .ecus_lock = pg_ecus_lock,
    .ecu_report = pg_ecu_report,
    .report_seen = pg_report_seen,
    .install_put = pg_install_put,
    .install_list = pg_install_list,
    .info_list = pg_info_list,
    .assign_put = pg_assign_put,
    .assign_list = pg_assign_list,
    .manifest_put = pg_manifest_put,
    .alert_add = pg_alert_add,
    .alert_count = pg_alert_count,
    .info_put = pg_info_put,
    .product_put = pg_product_put,
    .product_get = pg_product_get,
    .product_list = pg_product_list,
    .device_lifecycle = pg_device_lifecycle,
    .alert_raise = pg_alert_raise,
    .alert_list = pg_alert_list,
    .alert_get = pg_alert_get,
    .alert_ack = pg_alert_ack,
    .outbox_claim = pg_outbox_claim,
    .outbox_done = pg_outbox_done,
    .outbox_retry = pg_outbox_retry,
    .published_put = pg_published_put,
    .published_list = pg_published_list,
    .user_put = pg_user_put,
    .user_get = pg_user_get,
    .user_list = pg_user_list,
    .user_remove = pg_user_remove,
    .token_put = pg_token_put,
    .token_user = pg_token_user,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_remove = pg_session_remove,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    .ecu_scan = pg_ecu_scan,
    .manifest_scan = pg_manifest_scan,
    .cursor_open = pg_cursor_open,
    .cursor_next = pg_cursor_next,
    .cursor_close = pg_cursor_close,
    .device_tags = pg_device_tags,
    .assign_withdraw = pg_assign_withdraw,
    .campaign_add = pg_campaign_add,
    .campaign_get = pg_campaign_get,
    .campaign_list = pg_campaign_list,
    .campaign_set = pg_campaign_set,
    .member_add = pg_member_add,
    .member_list = pg_member_list,
    .member_set = pg_member_set,
    .member_counts = pg_member_counts,
    .device_members = pg_device_members,
    .campaign_log = pg_campaign_log,
    .campaign_log_list = pg_campaign_log_list,
    .lock = pg_lock,
    .changed = pg_changed,
    .watch = pg_watch,
    .unwatch = pg_unwatch,
    .ping = pg_ping,
    .failures = pg_failures,
    .sbom_put = pg_sbom_put,
    .sbom_get = pg_sbom_get,
    .vuln_put = pg_vuln_put,
    .vuln_list = pg_vuln_list,
    .vuln_mark = pg_vuln_mark,
    .vex_put = pg_vex_put,
    .vex_list = pg_vex_list,
    .sbom_hashes = pg_sbom_hashes,
    .match_put = pg_match_put,
    .match_clear = pg_match_clear,
    .match_list = pg_match_list,
    .close = pg_close,
};

/* Migrate on connection c, under an advisory lock: server processes
 * starting together on one database migrate it once. */
static int migrate(struct pg_store *s, struct upt_error *err)
{
	int code, have = 0, n = (int)(sizeof migrations / sizeof migrations[0]);
	PGresult *r;
	PQclear(exec(s, "SELECT pg_advisory_lock(7068846)", 0, NULL, NULL, NULL, err, &code));
	if (code != UPT_OK)
		return code;
	r = exec(s, "CREATE TABLE IF NOT EXISTS uptake_schema (version INTEGER NOT NULL)", 0, NULL,
		 NULL, NULL, err, &code);
	PQclear(r);
	if (code == UPT_OK) {
		r = exec(s, "SELECT coalesce(max(version), 0) FROM uptake_schema", 0, NULL, NULL,
			 NULL, err, &code);
		if (code == UPT_OK)
			have = (int)col_i(r, 0, 0);
		PQclear(r);
	}
	if (code == UPT_OK && have > n)
		code =
		    upt_error_set(err, UPT_ERR_UNSUPPORTED,
				  "postgresql: schema version %d is newer than this server", have);
	for (int i = have; code == UPT_OK && i < n; i++) {
		char v[24];
		const char *vals[] = {num(v, i + 1)};
		PQclear(exec(s, "BEGIN", 0, NULL, NULL, NULL, err, &code));
		if (code == UPT_OK) {
			/* a migration may hold several statements: no parameters */
			PGresult *m = PQexec(s->conns[0].db, migrations[i]);
			if (PQresultStatus(m) != PGRES_COMMAND_OK)
				code = upt_error_set(err, UPT_ERR_IO,
						     "postgresql: migration %d: %.200s", i + 1,
						     PQresultErrorMessage(m));
			PQclear(m);
		}
		if (code == UPT_OK)
			PQclear(exec(s, "INSERT INTO uptake_schema (version) VALUES ($1)", 1, vals,
				     NULL, NULL, err, &code));
		if (code == UPT_OK)
			PQclear(exec(s, "COMMIT", 0, NULL, NULL, NULL, err, &code));
		else {
			int ignored;
			PQclear(exec(s, "ROLLBACK", 0, NULL, NULL, NULL, NULL, &ignored));
		}
	}
	{
		int ignored;
		PQclear(exec(s, "SELECT pg_advisory_unlock(7068846)", 0, NULL, NULL, NULL, NULL,
			     &ignored));
	}
	return code;
}

int srv_store_pg_open(struct srv_store **out, const char *conninfo, size_t pool,
		      struct upt_error *err)
{
	struct pg_store *s = calloc(1, sizeof *s);
	int rc;
	if (!s)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	if (pthread_key_create(&s->held, NULL) != 0) {
		pthread_cond_destroy(&s->freed);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of thread keys");
	}
	s->base.ops = &pg_ops;
	s->base.policy = (struct srv_policy)SRV_POLICY_DEFAULT;
	s->n_conns = pool ? pool : 1;
	if (!(s->conninfo = strdup(conninfo)) ||
	    !(s->conns = calloc(s->n_conns, sizeof *s->conns))) {
		pg_close(&s->base);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	for (size_t i = s->n_conns; i-- > 0;) {
		s->conns[i].next = s->free;
		s->free = &s->conns[i];
	}
	/* the first connection now (a wrong URI fails the start); the others
	 * when first needed */
	s->conns[0].db = pg_connect(conninfo);
	if (PQstatus(s->conns[0].db) != CONNECTION_OK) {
		rc = upt_error_set(err, UPT_ERR_IO, "postgresql: %.200s",
				   PQerrorMessage(s->conns[0].db));
		pg_close(&s->base);
		return rc;
	}
	PQclear(PQexec(s->conns[0].db, "SET client_min_messages = warning"));
	/* the first connection for the migration (it runs multi-statement text) */
	if (!conn_get(s, err)) {
		pg_close(&s->base);
		return UPT_ERR_IO;
	}
	rc = migrate(s, err);
	conn_put(s, &s->conns[0]);
	if (rc != UPT_OK) {
		pg_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return UPT_OK;
}
