/* uptake-server: the SQLite storage backend (WAL, versioned migrations). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct sqlite_store {
	struct srv_store base;
	sqlite3 *db;
	pthread_mutex_t lock; /* one connection, serialised */
};

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
};

static int db_fail(struct sqlite_store *s, struct upt_error *err, const char *what)
{
	return upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
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

static int sq_begin(struct srv_store *b, struct upt_error *err)
{
	pthread_mutex_lock(&S(b)->lock);
	int rc = exec(S(b), "BEGIN IMMEDIATE;", err);
	if (rc != UPT_OK)
		pthread_mutex_unlock(&S(b)->lock);
	return rc;
}

static int sq_commit(struct srv_store *b, struct upt_error *err)
{
	int rc = exec(S(b), "COMMIT;", err);
	if (rc != UPT_OK)
		exec(S(b), "ROLLBACK;", NULL);
	pthread_mutex_unlock(&S(b)->lock);
	return rc;
}

static void sq_rollback(struct srv_store *b)
{
	exec(S(b), "ROLLBACK;", NULL);
	pthread_mutex_unlock(&S(b)->lock);
}

/* Calls outside begin/commit take the lock themselves; inside, the
 * caller holds it (recursive mutex). */
static int prepare(struct sqlite_store *s, sqlite3_stmt **st, const char *sql,
		   struct upt_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s, err, "prepare");
	return UPT_OK;
}

static int sq_meta_put(struct srv_store *b, const char *repo, const char *role, int64_t version,
		       int64_t expires, const uint8_t *data, size_t len, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc, step;
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
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
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
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
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
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
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
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
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_key_put(struct srv_store *b, const char *repo, const char *role,
		      const struct srv_key *k, struct upt_error *err)
{
	struct sqlite_store *s = S(b);
	sqlite3_stmt *st;
	int rc;
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
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
	pthread_mutex_lock(&s->lock);
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
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void sq_close(struct srv_store *b)
{
	struct sqlite_store *s = S(b);
	if (!s)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct srv_store_ops sqlite_ops = {
    "sqlite",      sq_begin,     sq_commit,    sq_rollback, sq_meta_put, sq_meta_get,
    sq_meta_roles, sq_image_put, sq_image_get, sq_key_put,  sq_key_get,  sq_close,
};

int srv_store_sqlite_open(struct srv_store **out, const char *path, struct upt_error *err)
{
	struct sqlite_store *s = calloc(1, sizeof *s);
	pthread_mutexattr_t attr;
	int rc;
	if (!s)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	s->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = upt_error_set(err, UPT_ERR_IO, "sqlite: %s: %s", path,
				   s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sq_close(&s->base);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		  err);
	if (rc == UPT_OK)
		rc = migrate(s, err);
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
