/* uptake-server: a repository of offline-signed root and targets and
 * online-signed snapshot and timestamp (the Image repository). Uploads
 * are verified before anything is stored: a root against the current
 * root (chain rule), targets against the current root or the delegating
 * role, every listed image against the uploaded file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/metadata.h>

#include "cache.h"
#include "lifecycle.h"
#include "server.h"

#define SPEC_VERSION "1.0.31"

struct work {
	unsigned char *mem;
	struct upt_arena a;
};

static int work_init(struct work *w, size_t input, struct upt_error *err)
{
	size_t cap = 32 * input + (1u << 20);
	if (!(w->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&w->a, w->mem, cap);
	return UPT_OK;
}

static void work_free(struct work *w)
{
	free(w->mem);
	w->mem = NULL;
}

/* A new online key for `role`, unless another server process on the
 * database made one first (then its key). */
static int make_key(struct srv_repo *r, const char *role, struct upt_privkey **key, char *keyid,
		    struct upt_error *err)
{
	struct srv_key k = {{0}, NULL};
	char name[96], *pem = NULL;
	size_t len = 0;
	int rc = r->store->ops->begin(r->store, err);
	if (rc != UPT_OK)
		return rc;
	snprintf(name, sizeof name, "keys:%s", r->name);
	rc = r->store->ops->lock(r->store, name, err);
	if (rc == UPT_OK)
		rc = r->store->ops->key_get(r->store, r->name, role, &k, err);
	if (rc == UPT_OK) {
		rc = upt_privkey_load_pem(key, k.pem, strlen(k.pem), NULL, err);
		upt_free_secret(k.pem, strlen(k.pem));
	} else if (rc == UPT_ERR_NOT_FOUND) {
		rc = upt_privkey_generate(key, UPT_KEY_ED25519, err);
		if (rc == UPT_OK)
			rc = upt_privkey_keyid(keyid, *key, UPT_DIALECT_TUF, err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &len, *key, NULL, err);
		if (rc == UPT_OK) {
			snprintf(k.keyid, sizeof k.keyid, "%s", keyid);
			k.pem = pem;
			rc = r->store->ops->key_put(r->store, r->name, role, &k, err);
		}
		if (pem)
			upt_free_secret(pem, len);
		if (rc == UPT_OK)
			srv_log(SRV_LOG_INFO, "%s: new online %s key %s", r->name, role, keyid);
	}
	if (rc == UPT_OK)
		rc = upt_privkey_keyid(keyid, *key, UPT_DIALECT_TUF, err);
	if (rc == UPT_OK)
		return r->store->ops->commit(r->store, err);
	r->store->ops->rollback(r->store);
	upt_privkey_free(*key);
	*key = NULL;
	return rc;
}

static int load_key(struct srv_repo *r, const char *role, struct upt_privkey **key, char *keyid,
		    struct upt_error *err)
{
	struct srv_key k;
	int rc = r->store->ops->key_get(r->store, r->name, role, &k, err);
	if (rc == UPT_ERR_NOT_FOUND && strncmp(role, "next-", 5) == 0)
		return UPT_OK; /* no rotation under way */
	if (rc == UPT_ERR_NOT_FOUND)
		return make_key(r, role, key, keyid, err);
	if (rc != UPT_OK)
		return rc;
	rc = upt_privkey_load_pem(key, k.pem, strlen(k.pem), NULL, err);
	if (rc == UPT_OK)
		rc = upt_privkey_keyid(keyid, *key, UPT_DIALECT_TUF, err);
	upt_free_secret(k.pem, strlen(k.pem));
	return rc;
}

/* The dialect of the current root (TUF until there is one). */
static enum upt_dialect root_dialect(struct srv_repo *r)
{
	enum upt_dialect d = UPT_DIALECT_TUF;
	struct srv_meta m;
	if (r->store->ops->meta_get(r->store, r->name, "root", 0, &m, NULL) == UPT_OK) {
		size_t cap = 32 * m.len + 65536;
		void *mem = malloc(cap);
		struct upt_arena a;
		struct upt_doc doc;
		if (mem) {
			upt_arena_init(&a, mem, cap);
			if (upt_doc_parse(&doc, &a, m.data, m.len, 0, "root.json", NULL) == UPT_OK)
				d = doc.dialect;
		}
		free(mem);
		srv_meta_free(&m);
	}
	return d;
}

int srv_repo_open(struct srv_repo *r, const char *name, bool director, struct srv_store *store,
		  const struct srv_config *cfg, struct upt_error *err)
{
	int rc;
	memset(r, 0, sizeof *r);
	r->name = name;
	r->director = director;
	r->store = store;
	r->cfg = cfg;
	pthread_mutex_init(&r->lock, NULL);
	if (director && !(r->cache = srv_cache_new(3u << 20, 1u << 20)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = load_key(r, "snapshot", &r->snapshot_key, r->snapshot_keyid, err);
	if (rc == UPT_OK)
		rc = load_key(r, "timestamp", &r->timestamp_key, r->timestamp_keyid, err);
	if (rc == UPT_OK && director)
		rc = load_key(r, "targets", &r->targets_key, r->targets_keyid, err);
	for (int i = 0; rc == UPT_OK && i < (director ? 3 : 2); i++) {
		static const char *const next[3] = {"next-snapshot", "next-timestamp",
						    "next-targets"};
		rc = load_key(r, next[i], &r->next_key[i], r->next_keyid[i], err);
	}
	/* sign in the dialect of the current root */
	if (rc == UPT_OK)
		r->dialect = root_dialect(r);
	return rc;
}

static const char *const online_roles[3] = {"snapshot", "timestamp", "targets"};

/* The other server processes on the database load the keys anew. */
static int announce_keys(struct srv_repo *r, struct upt_error *err)
{
	char what[64];
	snprintf(what, sizeof what, "keys:%s", r->name);
	return r->store->ops->changed(r->store, what, err);
}

static struct upt_privkey **cur_key(struct srv_repo *r, int i)
{
	return i == 0 ? &r->snapshot_key : i == 1 ? &r->timestamp_key : &r->targets_key;
}

static char *cur_keyid(struct srv_repo *r, int i)
{
	return i == 0 ? r->snapshot_keyid : i == 1 ? r->timestamp_keyid : r->targets_keyid;
}

int srv_repo_rotate_online(struct srv_repo *r, enum upt_dialect dialect, char **json,
			   struct upt_error *err)
{
	char *k[3] = {NULL, NULL, NULL}, *out = NULL;
	size_t l[3] = {0, 0, 0}, total = 64;
	int n = r->director ? 3 : 2, rc = UPT_OK;
	pthread_mutex_lock(&r->lock);
	for (int i = 0; rc == UPT_OK && i < n; i++) {
		struct upt_privkey *key = NULL;
		char id[UPT_KEYID_MAX + 1], *pem = NULL, role[32];
		size_t pl = 0;
		struct srv_key sk;
		rc = upt_privkey_generate(&key, UPT_KEY_ED25519, err);
		if (rc == UPT_OK)
			rc = upt_privkey_keyid(id, key, UPT_DIALECT_TUF, err);
		if (rc == UPT_OK)
			rc = upt_privkey_save_pem(&pem, &pl, key, NULL, err);
		snprintf(role, sizeof role, "next-%s", online_roles[i]);
		if (rc == UPT_OK) {
			snprintf(sk.keyid, sizeof sk.keyid, "%s", id);
			sk.pem = pem;
			rc = r->store->ops->key_put(r->store, r->name, role, &sk, err);
		}
		if (pem)
			upt_free_secret(pem, pl);
		if (rc == UPT_OK)
			rc = upt_privkey_public_json(&k[i], &l[i], key, dialect, err);
		if (rc == UPT_OK) {
			upt_privkey_free(r->next_key[i]);
			r->next_key[i] = key;
			memcpy(r->next_keyid[i], id, sizeof id);
			total += l[i] + 16;
		} else {
			upt_privkey_free(key);
		}
	}
	if (rc == UPT_OK)
		rc = announce_keys(r, err);
	pthread_mutex_unlock(&r->lock);
	if (rc == UPT_OK && !(out = malloc(total)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		size_t o =
		    (size_t)snprintf(out, total, "{\"snapshot\":%s,\"timestamp\":%s", k[0], k[1]);
		snprintf(out + o, total - o, "%s%s}", k[2] ? ",\"targets\":" : "",
			 k[2] ? k[2] : "");
		*json = out;
		srv_log(SRV_LOG_INFO, "%s: new online keys made; they sign once a root lists them",
			r->name);
	}
	for (int i = 0; i < 3; i++)
		upt_free(k[i]);
	return rc;
}

void srv_repo_close(struct srv_repo *r)
{
	upt_privkey_free(r->snapshot_key);
	upt_privkey_free(r->timestamp_key);
	upt_privkey_free(r->targets_key);
	for (int i = 0; i < 3; i++)
		upt_privkey_free(r->next_key[i]);
	srv_cache_free(r->cache);
	r->cache = NULL;
	pthread_mutex_destroy(&r->lock);
}

int srv_repo_online_keys(struct srv_repo *r, enum upt_dialect dialect, char **json,
			 struct upt_error *err)
{
	char *k[3] = {NULL, NULL, NULL}, *out = NULL;
	size_t l[3] = {0, 0, 0};
	int rc = upt_privkey_public_json(&k[0], &l[0], r->snapshot_key, dialect, err);
	if (rc == UPT_OK)
		rc = upt_privkey_public_json(&k[1], &l[1], r->timestamp_key, dialect, err);
	if (rc == UPT_OK && r->director)
		rc = upt_privkey_public_json(&k[2], &l[2], r->targets_key, dialect, err);
	if (rc == UPT_OK && !(out = malloc(l[0] + l[1] + l[2] + 96)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		size_t n = (size_t)snprintf(out, l[0] + l[1] + 64,
					    "{\"snapshot\":%s,\"timestamp\":%s", k[0], k[1]);
		snprintf(out + n, l[2] + 32, "%s%s}", k[2] ? ",\"targets\":" : "",
			 k[2] ? k[2] : "");
		*json = out;
	}
	for (int i = 0; i < 3; i++)
		upt_free(k[i]);
	return rc;
}

/* ---- helpers ------------------------------------------------------------ */

static int current_root(struct srv_repo *r, struct work *w, struct upt_root *root,
			struct upt_error *err)
{
	struct srv_meta m;
	struct upt_doc doc;
	uint8_t *copy;
	int rc = r->store->ops->meta_get(r->store, r->name, "root", 0, &m, err);
	if (rc != UPT_OK)
		return rc;
	copy = upt_arena_alloc(&w->a, m.len ? m.len : 1);
	if (!copy) {
		srv_meta_free(&m);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	memcpy(copy, m.data, m.len);
	rc = upt_doc_parse(&doc, &w->a, copy, m.len, 0, "root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_parse(root, &w->a, &doc, upt_openssl_crypto(), err);
	srv_meta_free(&m);
	return rc;
}

static bool role_lists(const struct upt_root *root, enum upt_role role, const char *keyid)
{
	const struct upt_role_keys *rk = &root->roles[role - 1];
	for (size_t i = 0; i < rk->n_keyids; i++)
		if (strcmp(rk->keyids[i], keyid) == 0)
			return true;
	return false;
}

static void hex_sha256(char *out, const uint8_t *data, size_t len)
{
	uint8_t d[UPT_SHA512_LEN];
	const struct upt_crypto *c = upt_openssl_crypto();
	if (c->hash(c->ctx, UPT_HASH_SHA256, data, len, d) != UPT_OK)
		memset(d, 0, sizeof d);
	upt_hex_encode(out, d, UPT_SHA256_LEN);
}

/* Sign the JSON text `text` with `key` into a malloc'd document. */
static int sign_text(const char *text, struct upt_privkey *key, enum upt_dialect dialect,
		     uint8_t **out, size_t *len, struct upt_error *err)
{
	char *doc = NULL;
	int rc = upt_privkey_sign_document(&doc, len, text, &key, 1, dialect, err);
	*out = (uint8_t *)doc;
	return rc;
}

struct text {
	char *s;
	size_t len, cap;
};

static int tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return UPT_ERR_ARG;
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->cap ? 2 * t->cap : 1024) + (size_t)n;
		char *s = realloc(t->s, cap);
		if (!s)
			return UPT_ERR_NOMEM;
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
	return UPT_OK;
}

/* The start of a role the server signs, in the repository's dialect
 * (aktualizr's: capitalised _type, no spec_version), up to "BODY":{ . */
static int header(struct srv_repo *r, struct text *t, const char *type, int64_t v, const char *when,
		  const char *body)
{
	bool akt = r->dialect == UPT_DIALECT_AKTUALIZR;
	return tprintf(t, "{\"_type\":\"%c%s\",%s\"version\":%lld,\"expires\":\"%s\",\"%s\":{",
		       akt ? type[0] - 'a' + 'A' : type[0], type + 1,
		       akt ? "" : "\"spec_version\":\"" SPEC_VERSION "\",", (long long)v, when,
		       body);
}

static int meta_entry(struct srv_repo *r, const char *repo, struct text *t, const char *role,
		      bool first, int64_t *version, struct upt_error *err)
{
	struct srv_meta m;
	char h[65];
	int rc = r->store->ops->meta_get(r->store, repo, role, 0, &m, err);
	if (rc != UPT_OK)
		return rc;
	hex_sha256(h, m.data, m.len);
	rc = tprintf(
	    t, "%s\"%s.json\":{\"hashes\":{\"sha256\":\"%s\"},\"length\":%zu,\"version\":%lld}",
	    first ? "" : ",", role, h, m.len, (long long)m.version);
	if (version)
		*version = m.version;
	srv_meta_free(&m);
	return rc;
}

static int next_version(struct srv_repo *r, const char *repo, const char *role,
			struct upt_error *err, int64_t *out)
{
	struct srv_meta m;
	int rc = r->store->ops->meta_get(r->store, repo, role, 0, &m, err);
	if (rc == UPT_ERR_NOT_FOUND) {
		*out = 1;
		return UPT_OK;
	}
	if (rc == UPT_OK)
		*out = m.version + 1;
	srv_meta_free(&m);
	return rc;
}

/* Sign and store a new timestamp for the newest snapshot; with
 * `new_snapshot`, first a new snapshot of the newest targets roles. Called
 * with the repository lock and inside a store transaction. */
static int sign_online(struct srv_repo *r, const char *repo, int64_t now, bool new_snapshot,
		       struct upt_error *err)
{
	struct text t = {0};
	char when[32];
	uint8_t *doc = NULL;
	size_t len = 0;
	int64_t v = 0;
	int rc = UPT_OK;
	if (new_snapshot) {
		char *roles = NULL;
		rc = next_version(r, repo, "snapshot", err, &v);
		if (rc == UPT_OK)
			rc = upt_time_format(when, sizeof when, now + r->cfg->snapshot_lifetime);
		if (rc == UPT_OK)
			rc = header(r, &t, "snapshot", v, when, "meta");
		if (rc == UPT_OK)
			rc = meta_entry(r, repo, &t, "targets", true, NULL, err);
		if (rc == UPT_OK)
			rc = r->store->ops->meta_roles(r->store, repo, &roles, err);
		for (char *p = roles, *nl; rc == UPT_OK && p && (nl = strchr(p, '\n'));
		     p = nl + 1) {
			*nl = 0;
			rc = meta_entry(r, repo, &t, p, false, NULL, err);
		}
		free(roles);
		if (rc == UPT_OK)
			rc = tprintf(&t, "}}");
		if (rc == UPT_OK)
			rc = sign_text(t.s, r->snapshot_key, r->dialect, &doc, &len, err);
		if (rc == UPT_OK)
			rc =
			    r->store->ops->meta_put(r->store, repo, "snapshot", v,
						    now + r->cfg->snapshot_lifetime, doc, len, err);
		free(doc);
		doc = NULL;
		t.len = 0;
	}
	if (rc == UPT_OK)
		rc = next_version(r, repo, "timestamp", err, &v);
	if (rc == UPT_OK)
		rc = upt_time_format(when, sizeof when, now + r->cfg->timestamp_lifetime);
	if (rc == UPT_OK)
		rc = header(r, &t, "timestamp", v, when, "meta");
	if (rc == UPT_OK)
		rc = meta_entry(r, repo, &t, "snapshot", true, NULL, err);
	if (rc == UPT_OK)
		rc = tprintf(&t, "}}");
	if (rc == UPT_OK)
		rc = sign_text(t.s, r->timestamp_key, r->dialect, &doc, &len, err);
	if (rc == UPT_OK)
		rc = r->store->ops->meta_put(r->store, repo, "timestamp", v,
					     now + r->cfg->timestamp_lifetime, doc, len, err);
	free(doc);
	free(t.s);
	return rc;
}

/* ---- uploads ------------------------------------------------------------ */

int srv_repo_put_root(struct srv_repo *r, const uint8_t *data, size_t len, int64_t now,
		      int64_t *version, bool *rotated, struct upt_error *err)
{
	struct work w;
	struct upt_doc doc;
	struct upt_root nr, cur;
	bool have_cur, promote[3] = {false, false, false}, any = false;
	int n_online = r->director ? 3 : 2;
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	pthread_mutex_lock(&r->lock);
	rc = upt_doc_parse(&doc, &w.a, data, len, r->cfg->max_metadata_bytes, "root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(&nr, &w.a, &doc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && nr.c.expires <= now)
		rc = upt_error_set(err, UPT_ERR_EXPIRED, "root.json: already expired");

	/* the server must be able to sign what the root says it signs: each
	 * online role lists the current key or the rotated one */
	for (int i = 0; rc == UPT_OK && i < n_online; i++) {
		enum upt_role role = i == 0   ? UPT_ROLE_SNAPSHOT
				     : i == 1 ? UPT_ROLE_TIMESTAMP
					      : UPT_ROLE_TARGETS;
		char cur_id[UPT_KEYID_MAX + 1], next_id[UPT_KEYID_MAX + 1] = "";
		/* key ids as the root spells them (TUF or aktualizr key objects) */
		if (upt_privkey_keyid(cur_id, *cur_key(r, i), doc.dialect, NULL) != UPT_OK ||
		    (r->next_key[i] &&
		     upt_privkey_keyid(next_id, r->next_key[i], doc.dialect, NULL) != UPT_OK)) {
			rc = upt_error_set(err, UPT_ERR_CRYPTO, "online key ids");
			break;
		}
		if (r->next_key[i] && role_lists(&nr, role, next_id) &&
		    !role_lists(&nr, role, cur_id))
			promote[i] = any = true;
		else if (!role_lists(&nr, role, cur_id))
			rc = upt_error_set(
			    err, UPT_ERR_KEY,
			    "root.json: %s must list the server's online %s key (GET "
			    "/api/v1/%s/online-keys)",
			    online_roles[i], online_roles[i], r->director ? "director" : "repo");
		if (rc == UPT_OK && nr.roles[role - 1].threshold != 1)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "root.json: the online roles must have threshold 1");
	}
	if (rc == UPT_OK) {
		int g = current_root(r, &w, &cur, err);
		have_cur = g == UPT_OK;
		if (g != UPT_OK && g != UPT_ERR_NOT_FOUND)
			rc = g;
	}
	if (rc == UPT_OK && !have_cur && nr.c.version != 1)
		rc = upt_error_set(err, UPT_ERR_VERSION,
				   "root.json: the first root must be version 1");
	if (rc == UPT_OK && have_cur) {
		if (nr.c.version != cur.c.version + 1)
			rc = upt_error_set(err, UPT_ERR_VERSION,
					   "root.json: version %lld, expected %lld",
					   (long long)nr.c.version, (long long)cur.c.version + 1);
		else {
			rc = upt_doc_verify(&doc, cur.keys, cur.n_keys,
					    &cur.roles[UPT_ROLE_ROOT - 1], upt_openssl_crypto(),
					    NULL, err);
			if (rc != UPT_OK)
				upt_error_prefix(err, "root.json: not signed by the current root");
		}
	}
	if (rc == UPT_OK)
		rc = r->store->ops->begin(r->store, err);
	if (rc == UPT_OK) {
		struct srv_meta t;
		rc = r->store->ops->meta_put(r->store, r->name, "root", nr.c.version, nr.c.expires,
					     data, len, err);
		/* the rotated online keys take over */
		for (int i = 0; rc == UPT_OK && i < n_online; i++) {
			struct srv_key sk = {{0}, NULL};
			char role[32];
			if (!promote[i])
				continue;
			snprintf(role, sizeof role, "next-%s", online_roles[i]);
			rc = r->store->ops->key_get(r->store, r->name, role, &sk, err);
			if (rc == UPT_OK)
				rc = r->store->ops->key_put(r->store, r->name, online_roles[i], &sk,
							    err);
			if (rc == UPT_OK)
				rc = r->store->ops->key_del(r->store, r->name, role, err);
			if (sk.pem)
				upt_free_secret(sk.pem, strlen(sk.pem));
		}
		if (rc == UPT_OK && any)
			rc = announce_keys(r, err);
		if (rc == UPT_OK)
			r->dialect = doc.dialect;
		if (rc == UPT_OK && any) {
			for (int i = 0; i < n_online; i++) {
				if (!promote[i])
					continue;
				upt_privkey_free(*cur_key(r, i));
				*cur_key(r, i) = r->next_key[i];
				memcpy(cur_keyid(r, i), r->next_keyid[i], UPT_KEYID_MAX + 1);
				r->next_key[i] = NULL;
			}
		}
		if (rc == UPT_OK && !r->director &&
		    r->store->ops->meta_get(r->store, r->name, "targets", 0, &t, NULL) == UPT_OK) {
			srv_meta_free(&t);
			rc = sign_online(r, r->name, now, promote[0], err);
		}
		if (rc == UPT_OK)
			rc = r->store->ops->commit(r->store, err);
		else
			r->store->ops->rollback(r->store);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == UPT_OK) {
		*version = nr.c.version;
		if (rotated)
			*rotated = any;
		srv_log(SRV_LOG_INFO, "%s: root version %lld accepted%s", r->name,
			(long long)nr.c.version, any ? ", online keys rotated" : "");
	}
	work_free(&w);
	return rc;
}

/* Every target must be an uploaded image with the same length and hashes. */
static int check_images(struct srv_repo *r, const struct upt_targets *t, struct upt_error *err)
{
	for (size_t i = 0; i < t->n_targets; i++) {
		const struct upt_target *x = &t->targets[i];
		struct srv_image img;
		char h256[65], h512[129];
		int rc = r->store->ops->image_get(r->store, x->name, &img, err);
		if (rc == UPT_ERR_NOT_FOUND)
			return upt_error_set(err, UPT_ERR_STATE,
					     "target %s: upload the image first", x->name);
		if (rc != UPT_OK)
			return rc;
		upt_hex_encode(h256, x->hashes.sha256, UPT_SHA256_LEN);
		upt_hex_encode(h512, x->hashes.sha512, UPT_SHA512_LEN);
		if (img.length != x->length || (x->hashes.has_sha256 && strcmp(h256, img.sha256)) ||
		    (x->hashes.has_sha512 && strcmp(h512, img.sha512)))
			return upt_error_set(err, UPT_ERR_HASH_MISMATCH,
					     "target %s: length or hashes differ from the uploaded "
					     "image",
					     x->name);
	}
	return UPT_OK;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* custom.sbom of a target: {format, length, sha256, sha512}, nothing else;
 * the SBOM's hash is recorded (the SBOM itself is checked on upload). */
static int sbom_of(const struct upt_target *x, char sha256[65], struct upt_error *err)
{
	const struct upt_json *sb = x->custom ? upt_json_get(x->custom, "sbom") : NULL;
	const struct upt_json *f, *l, *h2, *h5;
	if (!sb)
		return UPT_OK;
	f = upt_json_get(sb, "format");
	l = upt_json_get(sb, "length");
	h2 = upt_json_get(sb, "sha256");
	h5 = upt_json_get(sb, "sha512");
	if (sb->type != UPT_JSON_OBJECT || sb->n != 4 || !f || f->type != UPT_JSON_STRING ||
	    (strncmp(f->str, "cyclonedx-", 10) != 0 && strncmp(f->str, "spdx-", 5) != 0) || !l ||
	    l->type != UPT_JSON_INT || l->i < 0 || !h2 || h2->type != UPT_JSON_STRING ||
	    !is_hex(h2->str, 64) || !h5 || h5->type != UPT_JSON_STRING || !is_hex(h5->str, 128))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "target %s: custom.sbom: not {format, length, sha256, "
				     "sha512} (lower-case hex)",
				     x->name);
	memcpy(sha256, h2->str, 65);
	return UPT_OK;
}

/* What the store records of each target the Image repository publishes:
 * its hashes, hardware ids, release counter, and custom.security (a
 * boolean when present: anything else is refused). */
static int published_of(const struct upt_targets *t, int64_t now, struct srv_published **out,
			struct upt_error *err)
{
	struct srv_published *p = calloc(t->n_targets ? t->n_targets : 1, sizeof *p);
	if (!p)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < t->n_targets; i++) {
		const struct upt_target *x = &t->targets[i];
		const struct upt_json *sec = x->custom ? upt_json_get(x->custom, "security") : NULL;
		size_t used = 0;
		if (sec && sec->type != UPT_JSON_TRUE && sec->type != UPT_JSON_FALSE) {
			free(p);
			return upt_error_set(err, UPT_ERR_FIELD_TYPE,
					     "target %s: custom.security: not a boolean", x->name);
		}
		if ((size_t)snprintf(p[i].name, sizeof p[i].name, "%s", x->name) >=
		    sizeof p[i].name) {
			free(p);
			return upt_error_set(err, UPT_ERR_FIELD_VALUE, "target %s: name too long",
					     x->name);
		}
		if (x->hashes.has_sha256)
			upt_hex_encode(p[i].sha256, x->hashes.sha256, UPT_SHA256_LEN);
		p[i].length = x->length;
		for (size_t j = 0; j < x->n_hardware_ids; j++) {
			int w = snprintf(p[i].hardware_ids + used, sizeof p[i].hardware_ids - used,
					 "%s%s", j ? "," : "", x->hardware_ids[j]);
			if (strchr(x->hardware_ids[j], ',') || w < 0 ||
			    (size_t)w >= sizeof p[i].hardware_ids - used) {
				free(p);
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "target %s: custom.hardwareIds: a comma in "
						     "an id, or more than %zu bytes",
						     x->name, sizeof p[i].hardware_ids - 1);
			}
			used += (size_t)w;
		}
		p[i].release_counter = x->has_release_counter ? x->release_counter : -1;
		p[i].security = sec && sec->type == UPT_JSON_TRUE;
		p[i].published = now;
		if (sbom_of(x, p[i].sbom_sha256, err) != UPT_OK) {
			free(p);
			return err->code;
		}
	}
	*out = p;
	return UPT_OK;
}

/* The keys and rule that sign `role`: the root's targets role, or the
 * delegation in a stored targets role that names it. */
static int signing_rule(struct srv_repo *r, struct work *w, const char *role,
			const struct upt_key **keys, size_t *n_keys,
			const struct upt_role_keys **rule, struct upt_error *err)
{
	static struct upt_root root_store; /* only under r->lock */
	struct upt_root *root = &root_store;
	char *roles = NULL;
	int rc = current_root(r, w, root, err);
	if (rc == UPT_ERR_NOT_FOUND)
		return upt_error_set(err, UPT_ERR_STATE, "upload a root first");
	if (rc != UPT_OK)
		return rc;
	if (strcmp(role, "targets") == 0) {
		*keys = root->keys;
		*n_keys = root->n_keys;
		*rule = &root->roles[UPT_ROLE_TARGETS - 1];
		return UPT_OK;
	}
	rc = r->store->ops->meta_roles(r->store, r->name, &roles, err);
	if (rc != UPT_OK)
		return rc;
	/* search "targets" first, then every stored delegated role */
	for (char *p = NULL, *next = roles;; p = next) {
		const char *name;
		struct srv_meta m;
		struct upt_doc doc;
		struct upt_targets *t;
		uint8_t *copy;
		bool found = false;
		if (p) {
			char *nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = 0;
			next = nl + 1;
		}
		name = p ? p : "targets";
		if (r->store->ops->meta_get(r->store, r->name, name, 0, &m, NULL) != UPT_OK)
			continue;
		copy = upt_arena_alloc(&w->a, m.len ? m.len : 1);
		t = upt_arena_alloc(&w->a, sizeof *t);
		if (copy && t) {
			memcpy(copy, m.data, m.len);
			if (upt_doc_parse(&doc, &w->a, copy, m.len, 0, name, NULL) == UPT_OK &&
			    upt_targets_parse(t, &w->a, &doc, upt_openssl_crypto(), NULL) == UPT_OK)
				for (size_t i = 0; !found && i < t->n_roles; i++)
					if (strcmp(t->roles[i].name, role) == 0) {
						*keys = t->keys;
						*n_keys = t->n_keys;
						*rule = &t->roles[i];
						found = true;
					}
		}
		srv_meta_free(&m);
		if (found) {
			free(roles);
			return UPT_OK;
		}
	}
	free(roles);
	return upt_error_set(err, UPT_ERR_DELEGATION, "%s: no stored targets role delegates it",
			     role);
}

int srv_repo_put_targets(struct srv_repo *r, const char *role, const uint8_t *data, size_t len,
			 int64_t now, int64_t *version, struct upt_error *err)
{
	struct work w;
	struct upt_doc doc;
	struct upt_targets t;
	const struct upt_key *keys = NULL;
	const struct upt_role_keys *rule = NULL;
	size_t n_keys = 0;
	struct srv_meta cur;
	struct srv_published *pub = NULL;
	int rc = work_init(&w, len, err);
	if (rc != UPT_OK)
		return rc;
	pthread_mutex_lock(&r->lock);
	rc = upt_doc_parse(&doc, &w.a, data, len, r->cfg->max_metadata_bytes, role, err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&t, &w.a, &doc, upt_openssl_crypto(), err);
	if (rc == UPT_OK)
		rc = signing_rule(r, &w, role, &keys, &n_keys, &rule, err);
	if (rc == UPT_OK) {
		rc = upt_doc_verify(&doc, keys, n_keys, rule, upt_openssl_crypto(), NULL, err);
		if (rc != UPT_OK)
			upt_error_prefix(err, role);
	}
	if (rc == UPT_OK && t.c.expires <= now)
		rc = upt_error_set(err, UPT_ERR_EXPIRED, "%s: already expired", role);
	if (rc == UPT_OK &&
	    r->store->ops->meta_get(r->store, r->name, role, 0, &cur, NULL) == UPT_OK) {
		if (t.c.version <= cur.version)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK,
					   "%s: version %lld is not above the current %lld", role,
					   (long long)t.c.version, (long long)cur.version);
		srv_meta_free(&cur);
	}
	if (rc == UPT_OK)
		rc = check_images(r, &t, err);
	if (rc == UPT_OK && !r->director)
		rc = published_of(&t, now, &pub, err);
	if (rc == UPT_OK)
		rc = r->store->ops->begin(r->store, err);
	if (rc == UPT_OK) {
		rc = r->store->ops->meta_put(r->store, r->name, role, t.c.version, t.c.expires,
					     data, len, err);
		if (rc == UPT_OK && pub)
			rc = r->store->ops->published_put(r->store, pub, t.n_targets, err);
		if (rc == UPT_OK)
			rc = sign_online(r, r->name, now, true, err);
		if (rc == UPT_OK)
			rc = r->store->ops->commit(r->store, err);
		else
			r->store->ops->rollback(r->store);
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == UPT_OK) {
		*version = t.c.version;
		srv_log(SRV_LOG_INFO, "%s: %s version %lld accepted (%zu targets)", r->name, role,
			(long long)t.c.version, t.n_targets);
	}
	free(pub);
	work_free(&w);
	return rc;
}

/* ---- the Director: per-device targets, signed online ------------------- */

static int tjson(struct text *t, const char *s)
{
	int rc = tprintf(t, "\"");
	for (const unsigned char *p = (const unsigned char *)s; rc == UPT_OK && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = tprintf(t, "\\%c", *p);
		else if (*p < 0x20)
			rc = tprintf(t, "\\u%04x", *p);
		else
			rc = tprintf(t, "%c", *p);
	}
	return rc == UPT_OK ? tprintf(t, "\"") : rc;
}

/* The device's CRA support end, signed with its targets so that it can
 * tell its user (signed.custom: TUF and aktualizr clients keep and ignore
 * it). Nothing when the device has no product or market date yet. */
/* The targets' own custom: the correlation id aktualizr reports with, and
 * the device's product and support end. */
static int targets_custom(struct srv_repo *r, struct text *t, const char *device, const char *cid)
{
	struct srv_device d;
	struct srv_product p;
	char end[11] = "";
	bool has_p, first = true;
	int rc = UPT_OK;
	if (r->store->ops->device_get(r->store, device, &d, NULL) == UPT_OK) {
		has_p = d.product[0] &&
			r->store->ops->product_get(r->store, d.product, &p, NULL) == UPT_OK;
		srv_support_end(&d, has_p ? &p : NULL, end);
	}
	if (!end[0] && !cid[0])
		return UPT_OK;
	rc = tprintf(t, ",\"custom\":{");
	if (rc == UPT_OK && cid[0]) {
		rc = tprintf(t, "\"correlationId\":");
		rc = rc ? rc : tjson(t, cid);
		first = false;
	}
	if (rc == UPT_OK && end[0]) {
		rc = tprintf(t, "%s\"product\":", first ? "" : ",");
		rc = rc ? rc : tjson(t, d.product);
		rc = rc ? rc : tprintf(t, ",\"support_end\":\"%s\"", end);
	}
	return rc ? rc : tprintf(t, "}");
}

static int director_targets(struct srv_repo *r, const char *repo, const char *device, int64_t now,
			    struct upt_error *err)
{
	struct srv_assignment *as = NULL;
	size_t n = 0;
	struct text t = {0};
	char when[32];
	uint8_t *doc = NULL;
	size_t len = 0;
	int64_t v = 0;
	int rc = r->store->ops->assign_list(r->store, device, &as, &n, err);
	if (rc == UPT_OK)
		rc = next_version(r, repo, "targets", err, &v);
	if (rc == UPT_OK)
		rc = upt_time_format(when, sizeof when, now + r->cfg->snapshot_lifetime);
	if (rc == UPT_OK)
		rc = header(r, &t, "targets", v, when, "targets");
	/* one entry per image, naming every ECU that should install it; an
	 * image every one of those ECUs is to download only says so, signed
	 * with the rest (custom.uptake.download_only) */
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		bool first = true, seen = false, download_only = true;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(as[j].target, as[i].target) == 0;
		if (seen)
			continue;
		rc = tprintf(&t, "%s", t.s[t.len - 1] == '{' ? "" : ",");
		rc = rc ? rc : tjson(&t, as[i].target);
		rc = rc ? rc : tprintf(&t, ":{\"custom\":{\"ecuIdentifiers\":{");
		for (size_t j = i; rc == UPT_OK && j < n; j++) {
			if (strcmp(as[j].target, as[i].target) != 0)
				continue;
			rc = tprintf(&t, "%s", first ? "" : ",");
			rc = rc ? rc : tjson(&t, as[j].ecu_serial);
			rc = rc ? rc : tprintf(&t, ":{\"hardwareId\":");
			rc = rc ? rc : tjson(&t, as[j].hardware_id);
			rc = rc ? rc : tprintf(&t, "}");
			first = false;
			download_only &= as[j].download_only;
		}
		rc = rc ? rc : tprintf(&t, "}");
		if (rc == UPT_OK && download_only)
			rc = tprintf(&t, ",\"uptake\":{\"download_only\":true}");
		if (rc == UPT_OK && as[i].correlation_id[0]) {
			rc = tprintf(&t, ",\"correlationId\":");
			rc = rc ? rc : tjson(&t, as[i].correlation_id);
		}
		if (rc == UPT_OK && as[i].release_counter >= 0)
			rc = tprintf(&t, ",\"releaseCounter\":%lld",
				     (long long)as[i].release_counter);
		rc = rc ? rc
			: tprintf(
			      &t,
			      "},\"hashes\":{\"sha256\":\"%s\",\"sha512\":\"%s\"},\"length\":%lld}",
			      as[i].sha256, as[i].sha512, (long long)as[i].length);
	}
	rc = rc ? rc : tprintf(&t, "}");
	/* aktualizr reads one correlation id per targets: the newest assignment's */
	{
		const struct srv_assignment *newest = NULL;
		for (size_t i = 0; i < n; i++)
			if (as[i].correlation_id[0] &&
			    (!newest || as[i].created >= newest->created))
				newest = &as[i];
		rc = rc ? rc : targets_custom(r, &t, device, newest ? newest->correlation_id : "");
	}
	rc = rc ? rc : tprintf(&t, "}");
	if (rc == UPT_OK)
		rc = sign_text(t.s, r->targets_key, r->dialect, &doc, &len, err);
	if (rc == UPT_OK)
		rc = r->store->ops->meta_put(r->store, repo, "targets", v,
					     now + r->cfg->snapshot_lifetime, doc, len, err);
	free(doc);
	free(t.s);
	free(as);
	return rc;
}

static void device_repo(char *out, size_t cap, const char *device)
{
	snprintf(out, cap, "director/%s", device);
}

/* ---- the Director's per-device metadata, cached ----------------------------
 * An unchanged poll is answered from memory: no database, no lock shared
 * with other devices. An entry lives until the device's metadata would be
 * signed anew (half its lifetime left) and at most director_cache_ms (so
 * that a change made by another server process shows within that time);
 * this process drops it at once when it signs the device anew. */

static const char *const cached_files[] = {"targets.json", "snapshot.json", "timestamp.json"};
static const char *const cached_roles[] = {"targets", "snapshot", "timestamp"};

static void cache_key(char *out, size_t cap, const char *device, const char *file)
{
	snprintf(out, cap, "%s\n%s", device, file);
}

static void cache_drop(struct srv_repo *r, const char *device)
{
	char key[400];
	if (!r->cache)
		return;
	for (int i = 0; i < 3; i++) {
		cache_key(key, sizeof key, device, cached_files[i]);
		srv_cache_drop(r->cache, key);
	}
}

/* Inside a transaction: one signer of `repo` at a time across every
 * server process on the database; the device's cached copies go in the
 * others when it commits. */
static int sign_lock(struct srv_repo *r, const char *repo, struct upt_error *err)
{
	char name[220];
	snprintf(name, sizeof name, "sign:%s", repo);
	return r->store->ops->lock(r->store, name, err);
}

static int announce_device(struct srv_repo *r, const char *device, struct upt_error *err)
{
	char what[160];
	snprintf(what, sizeof what, "device:%s", device);
	return r->store->ops->changed(r->store, what, err);
}

int srv_director_publish(struct srv_repo *r, const char *device, int64_t now, struct upt_error *err)
{
	char repo[200];
	int rc;
	device_repo(repo, sizeof repo, device);
	pthread_mutex_lock(&r->lock);
	rc = r->store->ops->begin(r->store, err);
	if (rc == UPT_OK) {
		rc = sign_lock(r, repo, err);
		if (rc == UPT_OK)
			rc = director_targets(r, repo, device, now, err);
		if (rc == UPT_OK)
			rc = sign_online(r, repo, now, true, err);
		if (rc == UPT_OK)
			rc = announce_device(r, device, err);
		if (rc == UPT_OK)
			rc = r->store->ops->commit(r->store, err);
		else
			r->store->ops->rollback(r->store);
	}
	__atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
	cache_drop(r, device);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* One batch in one transaction, under the Director's lock: every device's
 * targets, snapshot and timestamp, each under its own signing lock. */
static int publish_batch(struct srv_repo *r, const char (*devices)[128], size_t n, int64_t now,
			 int (*each)(void *ctx, const char *device, struct upt_error *err),
			 void *ctx, struct upt_error *err)
{
	int rc;
	pthread_mutex_lock(&r->lock);
	rc = r->store->ops->begin(r->store, err);
	if (rc == UPT_OK) {
		for (size_t i = 0; rc == UPT_OK && i < n; i++) {
			char repo[200];
			device_repo(repo, sizeof repo, devices[i]);
			rc = sign_lock(r, repo, err);
			if (rc == UPT_OK)
				rc = director_targets(r, repo, devices[i], now, err);
			if (rc == UPT_OK)
				rc = sign_online(r, repo, now, true, err);
			if (rc == UPT_OK)
				rc = announce_device(r, devices[i], err);
			if (rc == UPT_OK && each)
				rc = each(ctx, devices[i], err);
			if (rc != UPT_OK)
				upt_error_prefix(err, devices[i]);
		}
		if (rc == UPT_OK)
			rc = r->store->ops->commit(r->store, err);
		else
			r->store->ops->rollback(r->store);
	}
	__atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < n; i++)
		cache_drop(r, devices[i]);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

size_t srv_director_publish_many(struct srv_repo *r, const char (*devices)[128], size_t n,
				 size_t batch, int64_t now,
				 int (*each)(void *ctx, const char *device, struct upt_error *err),
				 void *ctx)
{
	size_t done = 0;
	if (batch < 1)
		batch = 1;
	if (batch > SRV_PUBLISH_BATCH_MAX)
		batch = SRV_PUBLISH_BATCH_MAX;
	for (size_t at = 0; at < n; at += batch) {
		size_t k = n - at < batch ? n - at : batch;
		struct upt_error err = {0};
		if (publish_batch(r, devices + at, k, now, each, ctx, &err) == UPT_OK) {
			done += k;
			continue;
		}
		if (k > 1)
			srv_log(SRV_LOG_INFO,
				"director: a batch of %zu devices failed (%s): one at a time", k,
				err.msg);
		for (size_t i = 0; k > 1 && i < k; i++) {
			struct upt_error one = {0};
			if (publish_batch(r, devices + at + i, 1, now, each, ctx, &one) == UPT_OK)
				done++;
			else
				srv_log(SRV_LOG_ERROR, "director: %s", one.msg);
		}
		if (k == 1)
			srv_log(SRV_LOG_ERROR, "director: %s", err.msg);
	}
	return done;
}

/* Which of the device's roles are due to be signed anew (half their
 * lifetime left, or missing). A read that fails counts as due: the
 * signing that follows then fails on its own. */
static void director_due(struct srv_repo *r, const char *repo, int64_t now, bool due[3])
{
	static const char *const roles[3] = {"targets", "snapshot", "timestamp"};
	for (int i = 0; i < 3; i++) {
		struct srv_meta m;
		int64_t life = i < 2 ? r->cfg->snapshot_lifetime : r->cfg->timestamp_lifetime;
		due[i] = true;
		if (r->store->ops->meta_get(r->store, repo, roles[i], 0, &m, NULL) == UPT_OK) {
			due[i] = m.expires - now < life / 2;
			srv_meta_free(&m);
		}
	}
}

int srv_director_current(struct srv_repo *r, const char *device, int64_t now, struct upt_error *err)
{
	char repo[200];
	bool due[3];
	int rc = UPT_OK;
	device_repo(repo, sizeof repo, device);
	pthread_mutex_lock(&r->lock);
	director_due(r, repo, now, due);
	if (due[0] || due[1] || due[2]) {
		rc = r->store->ops->begin(r->store, err);
		if (rc == UPT_OK) {
			/* another server process may have signed meanwhile: look
			 * again once no other can */
			rc = sign_lock(r, repo, err);
			if (rc == UPT_OK)
				director_due(r, repo, now, due);
			if (rc == UPT_OK && due[0])
				rc = director_targets(r, repo, device, now, err);
			if (rc == UPT_OK && (due[0] || due[1] || due[2]))
				rc = sign_online(r, repo, now, due[0] || due[1], err);
			if (rc == UPT_OK && (due[0] || due[1] || due[2]))
				rc = announce_device(r, device, err);
			if (rc == UPT_OK)
				rc = r->store->ops->commit(r->store, err);
			else
				r->store->ops->rollback(r->store);
		}
		__atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
		cache_drop(r, device);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int srv_director_get(struct srv_repo *r, const char *device, const char *file, int64_t now,
		     uint8_t **data, size_t *len, struct upt_error *err)
{
	char key[400], repo[200];
	int64_t t = mono_ms(), until = t + r->cfg->director_cache_ms;
	struct srv_meta m[3] = {{0}};
	uint64_t gen;
	int rc, want = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(file, cached_files[i]) == 0)
			want = i;
	if (want < 0)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "no such file");
	cache_key(key, sizeof key, device, file);
	if (r->cache && srv_cache_get(r->cache, key, t, data, len))
		return UPT_OK;
	/* a signing that happens while this reads must not be hidden by what
	 * this puts into the cache afterwards */
	gen = __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE);
	rc = srv_director_current(r, device, now, err);
	device_repo(repo, sizeof repo, device);
	for (int i = 0; rc == UPT_OK && i < 3; i++)
		rc = r->store->ops->meta_get(r->store, repo, cached_roles[i], 0, &m[i], err);
	if (rc == UPT_OK && r->cache && r->cfg->director_cache_ms > 0 &&
	    __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE) == gen) {
		/* until the soonest re-signing srv_director_current would do */
		int64_t ends[3] = {m[0].expires - r->cfg->snapshot_lifetime / 2,
				   m[1].expires - r->cfg->snapshot_lifetime / 2,
				   m[2].expires - r->cfg->timestamp_lifetime / 2};
		for (int i = 0; i < 3; i++)
			if ((ends[i] - now) * 1000 + t < until)
				until = (ends[i] - now) * 1000 + t;
		for (int i = 0; i < 3; i++) {
			cache_key(key, sizeof key, device, cached_files[i]);
			srv_cache_put(r->cache, key, m[i].data, m[i].len, until, t);
		}
	}
	if (rc == UPT_OK) {
		*data = m[want].data;
		*len = m[want].len;
		m[want].data = NULL;
	}
	for (int i = 0; i < 3; i++)
		srv_meta_free(&m[i]);
	return rc;
}

/* Whether the repository's snapshot and timestamp are due to be signed
 * anew (false while there is no timestamp yet: nothing to refresh). */
static void repo_due(struct srv_repo *r, int64_t now, bool *resnap, bool *rets)
{
	struct srv_meta ts, snap;
	*resnap = *rets = false;
	if (r->store->ops->meta_get(r->store, r->name, "timestamp", 0, &ts, NULL) == UPT_OK) {
		*rets = ts.expires - now < r->cfg->timestamp_lifetime / 2;
		srv_meta_free(&ts);
		if (r->store->ops->meta_get(r->store, r->name, "snapshot", 0, &snap, NULL) ==
		    UPT_OK) {
			*resnap = snap.expires - now < r->cfg->snapshot_lifetime / 2;
			srv_meta_free(&snap);
		}
	}
}

int srv_repo_refresh_online(struct srv_repo *r, int64_t now, struct upt_error *err)
{
	int rc = UPT_OK;
	bool resnap, rets;
	pthread_mutex_lock(&r->lock);
	repo_due(r, now, &resnap, &rets);
	if (rets || resnap) {
		rc = r->store->ops->begin(r->store, err);
		if (rc == UPT_OK) {
			/* once across server processes: whoever comes second
			 * finds it done */
			rc = sign_lock(r, r->name, err);
			if (rc == UPT_OK)
				repo_due(r, now, &resnap, &rets);
			if (rc == UPT_OK && (rets || resnap))
				rc = sign_online(r, r->name, now, resnap, err);
			if (rc == UPT_OK)
				rc = r->store->ops->commit(r->store, err);
			else
				r->store->ops->rollback(r->store);
		}
		if (rc == UPT_OK && (rets || resnap))
			srv_log(SRV_LOG_INFO, "%s: re-signed %s before expiry", r->name,
				resnap ? "snapshot and timestamp" : "timestamp");
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* The online keys as stored now (another server process may have rotated
 * them): a key that cannot be loaded keeps the one in memory. */
static void reload_keys(struct srv_repo *r)
{
	int n = r->director ? 3 : 2;
	for (int i = 0; i < n; i++) {
		char role[32], id[UPT_KEYID_MAX + 1];
		struct upt_privkey *k = NULL;
		if (load_key(r, online_roles[i], &k, id, NULL) == UPT_OK && k) {
			upt_privkey_free(*cur_key(r, i));
			*cur_key(r, i) = k;
			memcpy(cur_keyid(r, i), id, sizeof id);
		}
		snprintf(role, sizeof role, "next-%s", online_roles[i]);
		k = NULL;
		if (load_key(r, role, &k, id, NULL) == UPT_OK) {
			upt_privkey_free(r->next_key[i]);
			r->next_key[i] = k; /* NULL: no rotation under way */
			if (k)
				memcpy(r->next_keyid[i], id, sizeof id);
		}
	}
	r->dialect = root_dialect(r);
}

void srv_repo_changed(struct srv_repo *r, const char *what)
{
	char keys[64];
	snprintf(keys, sizeof keys, "keys:%s", r->name);
	if (!what || strcmp(what, keys) == 0) {
		pthread_mutex_lock(&r->lock);
		reload_keys(r);
		pthread_mutex_unlock(&r->lock);
	}
	if (!r->director)
		return;
	/* a read under way must not put back what this drops */
	__atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
	if (what && strncmp(what, "device:", 7) == 0)
		cache_drop(r, what + 7);
	else if (!what || strcmp(what, keys) == 0)
		srv_cache_clear(r->cache);
}

int srv_image_path(const struct srv_config *cfg, const char *sha256, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "%s/images/%s", cfg->data_dir, sha256) < cap
		   ? UPT_OK
		   : UPT_ERR_TOO_LARGE;
}
