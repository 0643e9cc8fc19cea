/* uptake-server: who may do what through the admin API and the dashboard.
 *
 * Users have one role each. What a role may do is a set of permissions:
 *   viewer           read everything
 *   operator         read; devices, assignments, products, alerts
 *   release-manager  read; upload offline-signed metadata and images
 *   admin            everything: users, fleet credentials, online keys
 * The admin token of the configuration stays the bootstrap credential
 * (role admin, actor "admin-token"). Users call the API with their own
 * tokens (Authorization: Bearer upt_...) or, in a browser, with a session
 * cookie and the session's CSRF token in X-CSRF-Token on every request
 * that changes state. Passwords are kept as Argon2id hashes (libargon2);
 * tokens and sessions by the SHA-256 of their secret, never the secret.
 * Pure request logic over the store, no HTTP. */
#ifndef UPTAKE_SERVER_USERS_H
#define UPTAKE_SERVER_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <uptake/common.h>

#include "server.h"
#include "store.h"

enum srv_perm {
	SRV_PERM_AUTO = 0, /* a route's default: READ for GET and HEAD, OPERATE otherwise */
	SRV_PERM_READ,
	SRV_PERM_OPERATE,
	SRV_PERM_RELEASE,
	SRV_PERM_ADMIN,
};

#define SRV_PASSWORD_MIN   12
#define SRV_PASSWORD_MAX   256
#define SRV_SESSION_COOKIE "uptake_session"

/* A known role name ("viewer", "operator", "release-manager", "admin"). */
bool srv_role_valid(const char *role);
/* Whether `role` has permission `p` (SRV_PERM_AUTO resolved by the caller). */
bool srv_role_may(const char *role, enum srv_perm p);
const char *srv_perm_name(enum srv_perm p);

/* A user name: 1-63 of [a-z0-9._-], starting with a letter or digit. */
bool srv_user_name_valid(const char *name);

/* Argon2id (t=2, m=19 MiB, p=1: OWASP's minimum; 16-byte random salt), encoded. */
int srv_password_hash(const char *password, char *out, size_t cap, struct upt_error *err);
/* Whether `password` matches `encoded`; an empty or malformed hash never
 * matches. Takes the same time for a missing user (srv_password_dummy). */
bool srv_password_check(const char *encoded, const char *password);
const char *srv_password_dummy(void);

/* A new random secret: `prefix` + 64 hex digits; its digest (SHA-256,
 * hex) is what the store keeps. */
int srv_secret_new(const char *prefix, char *out, size_t cap, struct upt_error *err);
int srv_secret_digest(const char *secret, char out[65], struct upt_error *err);

/* Failed logins per user name and per client address: after
 * SRV_LOGIN_FAILURES for one name (SRV_LOGIN_FAILURES_ADDR from one
 * address: many people may share one behind NAT) within SRV_LOGIN_WINDOW
 * seconds, further attempts are refused (429) until the window has passed.
 * In memory, bounded. */
#define SRV_LOGIN_FAILURES      5
#define SRV_LOGIN_FAILURES_ADDR 30
#define SRV_LOGIN_WINDOW        900
struct srv_limiter;
struct srv_limiter *srv_limiter_new(void);
void srv_limiter_free(struct srv_limiter *l);
/* Seconds until `key` may try again after `max` failures (0: now). */
int64_t srv_limiter_wait(struct srv_limiter *l, const char *key, unsigned max, int64_t now);
void srv_limiter_fail(struct srv_limiter *l, const char *key, int64_t now);
void srv_limiter_clear(struct srv_limiter *l, const char *key);

/* ---- requests (JSON in, JSON out) ---------------------------------------- */
/* {"name", "role", "password"?} -> the user (without its hash). */
int srv_admin_user_add(struct srv_store *st, const uint8_t *body, size_t len, char **resp,
		       struct upt_error *err);
/* {"role"?, "password"?} */
int srv_admin_user_set(struct srv_store *st, const char *name, const uint8_t *body, size_t len,
		       char **resp, struct upt_error *err);
int srv_admin_user_list(struct srv_store *st, char **resp, struct upt_error *err);
int srv_admin_user_remove(struct srv_store *st, const char *name, char **resp,
			  struct upt_error *err);
/* A new API token for `name`: {"user", "token"} (the token is shown once). */
int srv_admin_token_new(struct srv_store *st, const char *name, int64_t now, char **resp,
			struct upt_error *err);
/* ?since=UNIX&limit=N; JSON {"entries": [...]} or JSON lines. */
int srv_admin_audit_list(struct srv_store *st, const char *since, const char *limit, bool jsonl,
			 char **resp, struct upt_error *err);

/* Log in with {"user", "password"}: a new session (never one the client
 * names), its secret in `cookie` (for Set-Cookie), and the answer
 * {"user", "role", "csrf", "expires"}. On failure *status is the HTTP
 * status to answer: 400 for a malformed body, 401 for a wrong name or
 * password (one message for both: no user enumeration), 429 while
 * rate-limited (*retry_after seconds), 500 for the server's own failure. */
int srv_login(struct srv_store *st, struct srv_limiter *l, const uint8_t *body, size_t len,
	      const char *remote, int64_t now, int64_t ttl, char *cookie, size_t cookie_cap,
	      char *user_out, size_t user_cap, unsigned *status, int64_t *retry_after, char **resp,
	      struct upt_error *err);

#endif
