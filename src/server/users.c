/* uptake-server: users, roles, API tokens, dashboard sessions, the audit
 * log's answers, and the login rate limit (users.h). */
#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "jsonout.h"
#include "log.h"
#include "users.h"

/* ---- roles ----------------------------------------------------------------- */

struct role {
	const char *name;
	unsigned perms; /* bit (1 << perm) */
};

#define BIT(p) (1u << (p))

static const struct role roles[] = {
    {"viewer", BIT(SRV_PERM_READ)},
    {"operator", BIT(SRV_PERM_READ) | BIT(SRV_PERM_OPERATE)},
    {"release-manager", BIT(SRV_PERM_READ) | BIT(SRV_PERM_RELEASE)},
    {"admin",
     BIT(SRV_PERM_READ) | BIT(SRV_PERM_OPERATE) | BIT(SRV_PERM_RELEASE) | BIT(SRV_PERM_ADMIN)},
};

static const struct role *role_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(roles[i].name, name) == 0)
			return &roles[i];
	return NULL;
}

bool srv_role_valid(const char *role)
{
	return role_find(role) != NULL;
}

bool srv_role_may(const char *role, enum srv_perm p)
{
	const struct role *r = role_find(role);
	return r && p != SRV_PERM_AUTO && (r->perms & BIT(p)) != 0;
}

const char *srv_perm_name(enum srv_perm p)
{
	switch (p) {
	case SRV_PERM_READ:
		return "read";
	case SRV_PERM_OPERATE:
		return "operate";
	case SRV_PERM_RELEASE:
		return "release";
	case SRV_PERM_ADMIN:
		return "admin";
	case SRV_PERM_AUTO:
		break;
	}
	return "?";
}

bool srv_user_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* ---- passwords and secrets ----------------------------------------------------- */

#define ARGON_T   2
#define ARGON_M   19456 /* KiB */
#define ARGON_P   1
#define ARGON_LEN 32

int srv_password_hash(const char *password, char *out, size_t cap, struct upt_error *err)
{
	uint8_t salt[16];
	size_t need =
	    argon2_encodedlen(ARGON_T, ARGON_M, ARGON_P, sizeof salt, ARGON_LEN, Argon2_id);
	int rc;
	if (need > cap)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "password hash: no room");
	if (RAND_bytes(salt, sizeof salt) != 1)
		return upt_error_set(err, UPT_ERR_CRYPTO, "password hash: no random salt");
	rc = argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, password, strlen(password), salt,
				   sizeof salt, ARGON_LEN, out, cap);
	if (rc != ARGON2_OK)
		return upt_error_set(err, UPT_ERR_CRYPTO, "password hash: %s",
				     argon2_error_message(rc));
	return UPT_OK;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[160];

static void dummy_init(void)
{
	struct upt_error err = {0};
	if (srv_password_hash("uptake: no such user", dummy_hash, sizeof dummy_hash, &err) !=
	    UPT_OK)
		dummy_hash[0] = 0;
}

const char *srv_password_dummy(void)
{
	pthread_once(&dummy_once, dummy_init);
	return dummy_hash;
}

bool srv_password_check(const char *encoded, const char *password)
{
	if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0)
		return false;
	return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

int srv_secret_new(const char *prefix, char *out, size_t cap, struct upt_error *err)
{
	uint8_t b[32];
	size_t p = strlen(prefix);
	if (p + 2 * sizeof b + 1 > cap)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "secret: no room");
	if (RAND_bytes(b, sizeof b) != 1)
		return upt_error_set(err, UPT_ERR_CRYPTO, "secret: no random bytes");
	memcpy(out, prefix, p);
	hex(out + p, b, sizeof b);
	return UPT_OK;
}

int srv_secret_digest(const char *secret, char out[65], struct upt_error *err)
{
	uint8_t d[32];
	unsigned n = 0;
	if (EVP_Digest(secret, strlen(secret), d, &n, EVP_sha256(), NULL) != 1 || n != sizeof d)
		return upt_error_set(err, UPT_ERR_CRYPTO, "secret digest failed");
	hex(out, d, sizeof d);
	return UPT_OK;
}

/* ---- the login rate limit --------------------------------------------------------- */

#define LIMITER_SLOTS 4096

struct slot {
	uint64_t key; /* a hash of the name or address; 0: free */
	int64_t since;
	unsigned failures;
};

struct srv_limiter {
	pthread_mutex_t lock;
	struct slot slot[LIMITER_SLOTS];
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

struct srv_limiter *srv_limiter_new(void)
{
	struct srv_limiter *l = calloc(1, sizeof *l);
	if (l)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void srv_limiter_free(struct srv_limiter *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* The slot of `k` (open addressing over a short probe; a full probe takes
 * the oldest slot: an attacker filling the table only ages out other
 * attackers' counts, at worst letting one more try through per window). */
static struct slot *slot_of(struct srv_limiter *l, uint64_t k, int64_t now, bool take)
{
	struct slot *oldest = NULL;
	for (unsigned i = 0; i < 16; i++) {
		struct slot *s = &l->slot[(k + i) % LIMITER_SLOTS];
		if (s->key && now - s->since >= SRV_LOGIN_WINDOW)
			s->key = 0; /* expired */
		if (s->key == k)
			return s;
		if (!oldest || !s->key || (oldest->key && s->since < oldest->since))
			oldest = s;
	}
	if (!take)
		return NULL;
	oldest->key = k;
	oldest->since = now;
	oldest->failures = 0;
	return oldest;
}

int64_t srv_limiter_wait(struct srv_limiter *l, const char *key, unsigned max, int64_t now)
{
	struct slot *s;
	int64_t wait = 0;
	pthread_mutex_lock(&l->lock);
	s = slot_of(l, key_hash(key), now, false);
	if (s && s->failures >= max)
		wait = s->since + SRV_LOGIN_WINDOW - now;
	pthread_mutex_unlock(&l->lock);
	return wait > 0 ? wait : 0;
}

void srv_limiter_fail(struct srv_limiter *l, const char *key, int64_t now)
{
	pthread_mutex_lock(&l->lock);
	slot_of(l, key_hash(key), now, true)->failures++;
	pthread_mutex_unlock(&l->lock);
}

void srv_limiter_clear(struct srv_limiter *l, const char *key)
{
	struct slot *s;
	pthread_mutex_lock(&l->lock);
	if ((s = slot_of(l, key_hash(key), 0, false)))
		s->key = 0;
	pthread_mutex_unlock(&l->lock);
}

/* ---- bodies ---------------------------------------------------------------------- */

struct body {
	unsigned char *mem;
	struct upt_arena a;
	struct upt_json *v;
};

/* A JSON object with only `allowed` members, each a string. */
static int parse_object(struct body *b, const uint8_t *data, size_t len, const char *what,
			const char *const *allowed, struct upt_error *err)
{
	size_t cap = 32 * len + 4096;
	int rc;
	if (!(b->mem = malloc(cap)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&b->a, b->mem, cap);
	rc = upt_json_parse(&b->v, &b->a, data, len, NULL, err);
	if (rc == UPT_OK && b->v->type != UPT_JSON_OBJECT)
		return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: must be an object", what);
	for (size_t i = 0; rc == UPT_OK && i < b->v->n; i++) {
		const struct upt_json *m = b->v->items[i];
		bool known = false;
		for (const char *const *a = allowed; *a; a++)
			known |= strlen(*a) == m->key_len && memcmp(*a, m->key, m->key_len) == 0;
		if (!known)
			return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: unknown member '%.*s'",
					     what, (int)(m->key_len > 60 ? 60 : m->key_len),
					     m->key);
		if (m->type != UPT_JSON_STRING || memchr(m->str, 0, m->len))
			return upt_error_set(err, UPT_ERR_FIELD_TYPE, "%s: %.*s must be a string",
					     what, (int)m->key_len, m->key);
	}
	return rc;
}

static const char *member(const struct body *b, const char *name)
{
	const struct upt_json *m = upt_json_get(b->v, name);
	return m ? m->str : NULL;
}

static int check_password(const char *pw, struct upt_error *err)
{
	size_t n = strlen(pw);
	if (n < SRV_PASSWORD_MIN || n > SRV_PASSWORD_MAX)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "password: %d to %d bytes (it has %zu)", SRV_PASSWORD_MIN,
				     SRV_PASSWORD_MAX, n);
	return UPT_OK;
}

static void put_user(struct srv_json *o, const struct srv_user *u)
{
	srv_json_raw(o, "{\"name\":");
	srv_json_str(o, u->name);
	srv_json_raw(o, ",\"role\":");
	srv_json_str(o, u->role);
	srv_json_raw(o, ",\"password\":%s,\"created\":%lld}", u->pw_hash[0] ? "true" : "false",
		     (long long)u->created);
}

static int answer_user(struct srv_store *st, const char *name, char **resp, struct upt_error *err)
{
	struct srv_user u;
	struct srv_json o = {0};
	int rc = st->ops->user_get(st, name, &u, err);
	if (rc != UPT_OK)
		return rc;
	put_user(&o, &u);
	srv_json_raw(&o, "\n");
	return srv_json_finish(&o, resp, err);
}

/* ---- requests ---------------------------------------------------------------------- */

int srv_admin_user_add(struct srv_store *st, const uint8_t *data, size_t len, char **resp,
		       struct upt_error *err)
{
	static const char *const allowed[] = {"name", "role", "password", NULL};
	struct body b = {0};
	struct srv_user u = {0};
	const char *name, *role, *pw;
	int rc = parse_object(&b, data, len, "user", allowed, err);
	name = rc == UPT_OK ? member(&b, "name") : NULL;
	role = rc == UPT_OK ? member(&b, "role") : NULL;
	pw = rc == UPT_OK ? member(&b, "password") : NULL;
	if (rc == UPT_OK && !srv_user_name_valid(name))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "name: 1-63 of a-z 0-9 . _ -, starting with a letter or digit");
	if (rc == UPT_OK && !srv_role_valid(role))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "role: viewer, operator, release-manager or admin");
	if (rc == UPT_OK && pw)
		rc = check_password(pw, err);
	if (rc == UPT_OK) {
		snprintf(u.name, sizeof u.name, "%s", name);
		snprintf(u.role, sizeof u.role, "%s", role);
		if (pw)
			rc = srv_password_hash(pw, u.pw_hash, sizeof u.pw_hash, err);
	}
	if (rc == UPT_OK)
		rc = st->ops->user_put(st, &u, true, err);
	free(b.mem);
	if (rc == UPT_OK)
		srv_log(SRV_LOG_INFO, "user %s added with role %s", u.name, u.role);
	return rc == UPT_OK ? answer_user(st, u.name, resp, err) : rc;
}

int srv_admin_user_set(struct srv_store *st, const char *name, const uint8_t *data, size_t len,
		       char **resp, struct upt_error *err)
{
	static const char *const allowed[] = {"role", "password", NULL};
	struct body b = {0};
	struct srv_user u;
	const char *role, *pw;
	int rc = st->ops->user_get(st, name, &u, err);
	if (rc == UPT_OK)
		rc = parse_object(&b, data, len, "user", allowed, err);
	role = rc == UPT_OK ? member(&b, "role") : NULL;
	pw = rc == UPT_OK ? member(&b, "password") : NULL;
	if (rc == UPT_OK && !role && !pw)
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "user: give a role or a password");
	if (rc == UPT_OK && role && !srv_role_valid(role))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
				   "role: viewer, operator, release-manager or admin");
	if (rc == UPT_OK && pw)
		rc = check_password(pw, err);
	if (rc == UPT_OK && role)
		snprintf(u.role, sizeof u.role, "%s", role);
	if (rc == UPT_OK && pw)
		rc = srv_password_hash(pw, u.pw_hash, sizeof u.pw_hash, err);
	if (rc == UPT_OK)
		rc = st->ops->user_put(st, &u, false, err);
	free(b.mem);
	return rc == UPT_OK ? answer_user(st, name, resp, err) : rc;
}

int srv_admin_user_list(struct srv_store *st, char **resp, struct upt_error *err)
{
	struct srv_user *u = NULL;
	struct srv_json o = {0};
	size_t n = 0;
	int rc = st->ops->user_list(st, &u, &n, err);
	if (rc != UPT_OK)
		return rc;
	srv_json_raw(&o, "{\"users\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			srv_json_raw(&o, ",");
		put_user(&o, &u[i]);
	}
	srv_json_raw(&o, "]}\n");
	free(u);
	return srv_json_finish(&o, resp, err);
}

int srv_admin_user_remove(struct srv_store *st, const char *name, char **resp,
			  struct upt_error *err)
{
	struct srv_json o = {0};
	int rc = st->ops->user_remove(st, name, err);
	if (rc != UPT_OK)
		return rc;
	srv_log(SRV_LOG_INFO, "user %s removed with its tokens and sessions", name);
	srv_json_raw(&o, "{\"removed\":");
	srv_json_str(&o, name);
	srv_json_raw(&o, "}\n");
	return srv_json_finish(&o, resp, err);
}

int srv_admin_token_new(struct srv_store *st, const char *name, int64_t now, char **resp,
			struct upt_error *err)
{
	struct srv_user u;
	struct srv_json o = {0};
	char token[80], digest[65];
	int rc = st->ops->user_get(st, name, &u, err);
	if (rc == UPT_OK)
		rc = srv_secret_new("upt_", token, sizeof token, err);
	if (rc == UPT_OK)
		rc = srv_secret_digest(token, digest, err);
	if (rc == UPT_OK)
		rc = st->ops->token_put(st, digest, name, now, err);
	if (rc != UPT_OK)
		return rc;
	srv_log(SRV_LOG_INFO, "API token issued to user %s", name);
	srv_json_raw(&o, "{\"user\":");
	srv_json_str(&o, name);
	srv_json_raw(&o, ",\"token\":");
	srv_json_str(&o, token);
	srv_json_raw(&o, "}\n");
	return srv_json_finish(&o, resp, err);
}

static int number(const char *s, const char *what, int64_t max, int64_t *out, struct upt_error *err)
{
	char *end;
	long long v;
	if (!s)
		return UPT_OK;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0 || v > max)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: a number from 0 to %lld", what,
				     (long long)max);
	*out = v;
	return UPT_OK;
}

int srv_admin_audit_list(struct srv_store *st, const char *since, const char *limit, bool jsonl,
			 char **resp, struct upt_error *err)
{
	struct srv_audit *a = NULL;
	struct srv_json o = {0};
	int64_t t = 0, max = 10000;
	size_t n = 0;
	int rc = number(since, "since", INT64_MAX / 2, &t, err);
	if (rc == UPT_OK)
		rc = number(limit, "limit", 100000, &max, err);
	if (rc == UPT_OK)
		rc = st->ops->audit_list(st, t, max, &a, &n, err);
	if (rc != UPT_OK)
		return rc;
	if (!jsonl)
		srv_json_raw(&o, "{\"entries\":[");
	for (size_t i = 0; i < n; i++) {
		if (i && !jsonl)
			srv_json_raw(&o, ",");
		srv_json_raw(&o, "{\"id\":%lld,\"at\":%lld,\"actor\":", (long long)a[i].id,
			     (long long)a[i].at);
		srv_json_str(&o, a[i].actor);
		srv_json_raw(&o, ",\"role\":");
		srv_json_str(&o, a[i].role);
		srv_json_raw(&o, ",\"remote\":");
		srv_json_str(&o, a[i].remote);
		srv_json_raw(&o, ",\"method\":");
		srv_json_str(&o, a[i].method);
		srv_json_raw(&o, ",\"path\":");
		srv_json_str(&o, a[i].path);
		srv_json_raw(&o, ",\"status\":%lld,\"detail\":", (long long)a[i].status);
		srv_json_str(&o, a[i].detail);
		srv_json_raw(&o, "}%s", jsonl ? "\n" : "");
	}
	if (!jsonl)
		srv_json_raw(&o, "]}\n");
	free(a);
	return srv_json_finish(&o, resp, err);
}

int srv_login(struct srv_store *st, struct srv_limiter *l, const uint8_t *data, size_t len,
	      const char *remote, int64_t now, int64_t ttl, char *cookie, size_t cookie_cap,
	      char *user_out, size_t user_cap, unsigned *status, int64_t *retry_after, char **resp,
	      struct upt_error *err)
{
	static const char *const allowed[] = {"user", "password", NULL};
	struct body b = {0};
	struct srv_user u;
	struct srv_json o = {0};
	char csrf[80], digest[65], ukey[96], akey[96];
	const char *name, *pw;
	bool found;
	int rc = parse_object(&b, data, len, "login", allowed, err);
	*status = 400;
	*retry_after = 0;
	name = rc == UPT_OK ? member(&b, "user") : NULL;
	pw = rc == UPT_OK ? member(&b, "password") : NULL;
	if (rc == UPT_OK && (!name || !pw || strlen(name) > 63 || strlen(pw) > SRV_PASSWORD_MAX))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "login: {\"user\": NAME, \"password\": PASSWORD}");
	if (rc != UPT_OK) {
		free(b.mem);
		return rc;
	}
	snprintf(user_out, user_cap, "%s", name);
	snprintf(ukey, sizeof ukey, "u:%s", name);
	snprintf(akey, sizeof akey, "a:%s", remote);
	*retry_after = srv_limiter_wait(l, ukey, SRV_LOGIN_FAILURES, now);
	if (*retry_after < srv_limiter_wait(l, akey, SRV_LOGIN_FAILURES_ADDR, now))
		*retry_after = srv_limiter_wait(l, akey, SRV_LOGIN_FAILURES_ADDR, now);
	if (*retry_after > 0) {
		free(b.mem);
		*status = 429;
		return upt_error_set(err, UPT_ERR_ARG,
				     "too many failed logins: try again in %lld s",
				     (long long)*retry_after);
	}
	/* a missing user costs the same hash as a present one */
	found = st->ops->user_get(st, name, &u, err) == UPT_OK && u.pw_hash[0];
	if (!srv_password_check(found ? u.pw_hash : srv_password_dummy(), pw) || !found) {
		free(b.mem);
		srv_limiter_fail(l, ukey, now);
		srv_limiter_fail(l, akey, now);
		*status = 401;
		return upt_error_set(err, UPT_ERR_ARG, "user name or password wrong");
	}
	free(b.mem);
	srv_limiter_clear(l, ukey);
	*status = 500;
	rc = srv_secret_new("", cookie, cookie_cap, err);
	if (rc == UPT_OK)
		rc = srv_secret_new("", csrf, sizeof csrf, err);
	if (rc == UPT_OK)
		rc = srv_secret_digest(cookie, digest, err);
	if (rc == UPT_OK)
		rc = st->ops->session_put(st, digest, u.name, csrf, now + ttl, err);
	if (rc != UPT_OK)
		return rc;
	srv_json_raw(&o, "{\"user\":");
	srv_json_str(&o, u.name);
	srv_json_raw(&o, ",\"role\":");
	srv_json_str(&o, u.role);
	srv_json_raw(&o, ",\"csrf\":");
	srv_json_str(&o, csrf);
	srv_json_raw(&o, ",\"expires\":%lld}\n", (long long)(now + ttl));
	*status = 200;
	return srv_json_finish(&o, resp, err);
}
