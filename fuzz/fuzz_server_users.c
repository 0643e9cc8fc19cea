/* Fuzz target: uptake-server's user bodies and logins: user add
 * (srv_admin_user_add), user change (srv_admin_user_set on a known user)
 * and login (srv_login, against a user whose password is known; one store
 * and one rate limiter for the whole run). The first byte picks the
 * operation, the rest is the body. Whatever the body: UPT_OK with a valid
 * JSON answer that never holds a password hash, or a negative code with a
 * message; a login succeeds only with the known password, and then with a
 * fresh 64-hex-digit session secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/users.h"
#include "server_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KNOWN_PASSWORD "fuzz password 0123"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srv_limiter *limiter;
	static int64_t now = 1800000000;
	struct srv_store *st = fixture_store();
	struct upt_error err = {0};
	char *resp = NULL, cookie[80] = "", user[64] = "";
	unsigned status = 0;
	int64_t retry = 0;
	int rc, op;
	if (!limiter) {
		static const char add[] =
		    "{\"name\":\"known\",\"role\":\"viewer\",\"password\":\"" KNOWN_PASSWORD "\"}";
		if (!(limiter = srv_limiter_new()) ||
		    srv_admin_user_add(st, (const uint8_t *)add, strlen(add), &resp, &err) !=
			UPT_OK)
			abort();
		free(resp);
		resp = NULL;
	}
	if (size == 0)
		return 0;
	op = data[0] % 3;
	now += SRV_LOGIN_WINDOW; /* each input starts with no failures counted */
	switch (op) {
	case 0:
		rc = srv_admin_user_add(st, data + 1, size - 1, &resp, &err);
		break;
	case 1:
		rc = srv_admin_user_set(st, "known", data + 1, size - 1, &resp, &err);
		break;
	default:
		rc = srv_login(st, limiter, data + 1, size - 1, "127.0.0.1", now, 3600, cookie,
			       sizeof cookie, user, sizeof user, &status, &retry, &resp, &err);
		break;
	}
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0) || (rc == UPT_OK && !resp))
		abort();
	if (getenv("UPTAKE_FUZZ_VERBOSE"))
		fprintf(stderr, "op %d: %s %s\n", op, upt_err_name(rc), err.msg);
	if (rc == UPT_OK) {
		fixture_check_json(resp);
		if (strstr(resp, "argon2"))
			abort(); /* a hash left the server */
	}
	if (op == 2 && rc == UPT_OK) {
		/* whoever logged in gave their own password, and got a fresh,
		 * well-formed session secret */
		struct srv_user u;
		size_t cap = 64 * size + 65536;
		void *mem = malloc(cap);
		struct upt_arena a;
		struct upt_json *v;
		const struct upt_json *pw;
		if (!mem)
			abort();
		upt_arena_init(&a, mem, cap);
		if (strlen(cookie) != 64 || status != 200 ||
		    st->ops->user_get(st, user, &u, &err) != UPT_OK || !u.pw_hash[0] ||
		    upt_json_parse(&v, &a, data + 1, size - 1, NULL, &err) != UPT_OK ||
		    !(pw = upt_json_get(v, "password")) || !srv_password_check(u.pw_hash, pw->str))
			abort();
		free(mem);
	}
	if (op == 2 && rc != UPT_OK && status != 400 && status != 401 && status != 429 &&
	    status != 500)
		abort();
	free(resp);
	return 0;
}
