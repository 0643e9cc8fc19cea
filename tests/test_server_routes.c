/* uptake-server's route table, its matching and the handlers' shared
 * checks, without a socket; and handlers called directly on a real SQLite
 * store. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/server/api.h"
#include "harness.h"

static const struct srv_route *rt;
static const char *params[SRV_MAX_PARAMS];
static char buf[512], allow[64];

static int m(const char *method, const char *path)
{
	rt = NULL;
	return srv_route_match(method, path, buf, sizeof buf, &rt, params, allow, sizeof allow);
}

static void test_match_literal_and_params(void)
{
	CHECK_EQ_INT(m("GET", "/health"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_health);
	CHECK_EQ_INT(m("HEAD", "/health"), UPT_OK);
	CHECK_EQ_INT(m("GET", "/repo/2.root.json"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_repo_metadata && strcmp(params[0], "2.root.json") == 0);
	CHECK_EQ_INT(m("GET", "/api/v1/devices/dev-1"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_devices_show && strcmp(params[0], "dev-1") == 0);
	CHECK(params[1] == NULL);
	/* literal rows win over a parameter in the same place */
	CHECK_EQ_INT(m("PUT", "/director/manifest"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_director_manifest);
	CHECK_EQ_INT(m("GET", "/director/targets.json"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_director_metadata);
}

static void test_match_rest_of_path(void)
{
	CHECK_EQ_INT(m("GET", "/repo/targets/boards/a/fw.bin"), UPT_OK);
	CHECK(rt && rt->handler == srv_h_repo_image && strcmp(params[0], "boards/a/fw.bin") == 0);
	CHECK_EQ_INT(m("PUT", "/api/v1/images/a/b/c"), UPT_OK);
	CHECK(rt && rt->valid_param && strcmp(params[0], "a/b/c") == 0);
	CHECK_EQ_INT(m("PUT", "/api/v1/repo/metadata/targets"), UPT_OK);
	CHECK(strcmp(params[0], "targets") == 0);
	/* a rest parameter needs at least one segment */
	CHECK_EQ_INT(m("GET", "/repo/targets/"), UPT_ERR_NOT_FOUND);
}

static void test_not_found(void)
{
	CHECK_EQ_INT(m("GET", "/"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "/health/"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "/healthz"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "/repo/"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "/director/a/b"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "/api/v1/devices/a/b"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "//health"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", "health"), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(m("GET", ""), UPT_ERR_NOT_FOUND);
}

static void test_wrong_method_lists_allowed(void)
{
	CHECK_EQ_INT(m("DELETE", "/api/v1/devices"), UPT_ERR_STATE);
	CHECK(strcmp(allow, "GET, HEAD, POST") == 0);
	CHECK_EQ_INT(m("PUT", "/director/targets.json"), UPT_ERR_STATE);
	CHECK(strcmp(allow, "GET, HEAD") == 0);
	CHECK_EQ_INT(m("GET", "/director/manifest"), UPT_OK); /* a file named "manifest" */
	CHECK_EQ_INT(m("GET", "/events"), UPT_ERR_STATE);
	CHECK(strcmp(allow, "POST") == 0);
	CHECK_EQ_INT(m("HEAD", "/events"), UPT_ERR_STATE);
}

static void test_every_row_is_reachable(void)
{
	/* each row's pattern, with its parameters filled, reaches that row */
	for (size_t i = 0; i < srv_n_routes; i++) {
		char path[256];
		size_t o = 0;
		for (const char *p = srv_routes[i].pattern; *p && o < sizeof path - 8; p++) {
			if (*p == '{') {
				const char *e = strchr(p, '}');
				o += (size_t)snprintf(path + o, sizeof path - o, "x.json");
				p = e;
			} else {
				path[o++] = *p;
			}
		}
		path[o] = 0;
		CHECK_EQ_INT(m(srv_routes[i].method, path), UPT_OK);
		CHECK(rt == &srv_routes[i]);
		if (rt != &srv_routes[i])
			fprintf(stderr, "  row %zu (%s %s) not reached by %s\n", i,
				srv_routes[i].method, srv_routes[i].pattern, path);
	}
}

static void test_limits(void)
{
	struct srv_config cfg = {0};
	cfg.max_metadata_bytes = 1000;
	cfg.max_image_bytes = 5000;
	CHECK_EQ_INT(m("PUT", "/api/v1/repo/root"), UPT_OK);
	CHECK_EQ_INT(srv_route_limit(rt, &cfg), 1000);
	CHECK_EQ_INT(m("PUT", "/api/v1/images/x"), UPT_OK);
	CHECK_EQ_INT(srv_route_limit(rt, &cfg), 5000);
	CHECK_EQ_INT(m("PUT", "/system_info"), UPT_OK);
	CHECK_EQ_INT(srv_route_limit(rt, &cfg), 65536);
	/* every row with a body has a limit */
	for (size_t i = 0; i < srv_n_routes; i++)
		if (srv_routes[i].body != SRV_BODY_NONE)
			CHECK(srv_route_limit(&srv_routes[i], &cfg) > 0);
}

static void test_range(void)
{
	uint64_t a = 9, b = 9;
	CHECK(srv_parse_range("bytes=0-99", 1000, &a, &b) == 0 && a == 0 && b == 99);
	CHECK(srv_parse_range("bytes=100-", 1000, &a, &b) == 0 && a == 100 && b == 999);
	CHECK(srv_parse_range("bytes=100-5000", 1000, &a, &b) == 0 && b == 999);
	CHECK(srv_parse_range("bytes=999-999", 1000, &a, &b) == 0 && a == 999 && b == 999);
	CHECK(srv_parse_range("bytes=1000-", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=5-4", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=-5", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=0-1,5-6", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes= 0-1", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bits=0-1", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=0-1x", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=99999999999999999999999-", 1000, &a, &b) != 0);
	CHECK(srv_parse_range("bytes=0-99999999999999999999999", 1000, &a, &b) != 0);
}

static void test_image_names(void)
{
	CHECK(srv_valid_image_name("fw-1.0"));
	CHECK(srv_valid_image_name("boards/a/fw.bin"));
	CHECK(srv_valid_image_name("a..b/c"));
	CHECK(!srv_valid_image_name(""));
	CHECK(!srv_valid_image_name("/abs"));
	CHECK(!srv_valid_image_name("a//b"));
	CHECK(!srv_valid_image_name("../etc/passwd"));
	CHECK(!srv_valid_image_name("a/./b"));
	CHECK(!srv_valid_image_name("a/.."));
	CHECK(!srv_valid_image_name("a\\b"));
	CHECK(!srv_valid_image_name("a\"b"));
	CHECK(!srv_valid_image_name("a\nb"));
	CHECK(!srv_valid_image_name("a\x7f"));
}

static const char *no_header(void *io, const char *name)
{
	(void)io;
	(void)name;
	return NULL;
}

/* Handlers run without a socket, on a real store. */
static void test_handlers_without_socket(void)
{
	char dir[] = "/tmp/uptake-routes-XXXXXX", db[64];
	struct srv_config cfg = {0};
	struct srv_store *st = NULL;
	struct srv_repo repo = {0};
	struct srv_ctx ctx = {0};
	struct srv_req q = {0};
	struct srv_resp r;
	struct upt_error err = {0};
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof db, "%s/db", dir);
	CHECK_EQ_INT(srv_store_sqlite_open(&st, db, &err), UPT_OK);
	if (!st)
		return;
	repo.name = "image";
	ctx.cfg = &cfg;
	ctx.repo = &repo;
	ctx.store = st;
	q.srv = &ctx;
	q.header = no_header;
	q.query = no_header;
	q.method = "GET";

	srv_resp_init(&r);
	srv_h_health(&q, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(r.len == 28 && memcmp(r.body, "{\"ok\":true,\"database\":\"ok\"}\n", 28) == 0);
	srv_resp_dispose(&r);

	srv_resp_init(&r);
	q.param[0] = "root.json";
	srv_h_repo_metadata(&q, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK_EQ_INT(r.code, UPT_ERR_NOT_FOUND);
	CHECK(r.body && strstr((const char *)r.body, "\"code\":\"UPT_ERR_NOT_FOUND\""));
	srv_resp_dispose(&r);

	srv_resp_init(&r);
	q.param[0] = "root.txt";
	srv_h_repo_metadata(&q, &r);
	CHECK_EQ_INT(r.status, 404);
	srv_resp_dispose(&r);

	srv_resp_init(&r);
	q.param[0] = "nothing.bin";
	srv_h_repo_image(&q, &r);
	CHECK_EQ_INT(r.status, 404);
	srv_resp_dispose(&r);

	srv_resp_init(&r);
	q.param[0] = "ghost";
	srv_h_devices_show(&q, &r);
	CHECK_EQ_INT(r.status, 404);
	srv_resp_dispose(&r);

	srv_resp_init(&r);
	srv_h_devices_list(&q, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(r.body && strncmp((const char *)r.body, "{\"devices\":[]}", 14) == 0);
	srv_resp_dispose(&r);

	st->ops->close(st);
	unlink(db);
	{
		char wal[80];
		snprintf(wal, sizeof wal, "%s-wal", db);
		unlink(wal);
		snprintf(wal, sizeof wal, "%s-shm", db);
		unlink(wal);
	}
	rmdir(dir);
}

static void test_error_shape_escapes(void)
{
	struct srv_resp r;
	srv_resp_init(&r);
	srv_resp_error(&r, 400, UPT_ERR_ARG, "a \"quoted\" \\ name\n");
	CHECK(r.body && strcmp((const char *)r.body, "{\"error\":{\"code\":\"UPT_ERR_ARG\","
						     "\"message\":\"a \\\"quoted\\\" \\\\ "
						     "name\\u000a\"}}\n") == 0);
	CHECK_EQ_INT(srv_status_of(UPT_ERR_TOO_LARGE), 413);
	CHECK_EQ_INT(srv_status_of(UPT_ERR_ROLLBACK), 409);
	CHECK_EQ_INT(srv_status_of(UPT_ERR_IO), 500);
	srv_resp_dispose(&r);
}

int main(void)
{
	RUN(test_match_literal_and_params);
	RUN(test_match_rest_of_path);
	RUN(test_not_found);
	RUN(test_wrong_method_lists_allowed);
	RUN(test_every_row_is_reachable);
	RUN(test_limits);
	RUN(test_range);
	RUN(test_image_names);
	RUN(test_handlers_without_socket);
	RUN(test_error_shape_escapes);
	TEST_MAIN_END();
}
