/* Fuzz target: uptake-server's admin bodies: device add
 * (srv_admin_device_add, with an optional PEM public key), assignments
 * (srv_admin_assign, against an Image repository with one target and a
 * registered device; one store for the whole run) and fleet credentials
 * (srv_admin_fleet_credential). The first byte picks the operation, the rest is the body. Whatever
 * the body: UPT_OK with a valid JSON answer, or a negative code with a message. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "server_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv_ca ca;
static struct srv_config cfg;

static const char image_targets[] =
    "{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0.0\","
    "\"version\":1,\"expires\":\"2099-01-01T00:00:00Z\",\"targets\":{\"fw-1.0\":{\"length\":"
    "1000,\"hashes\":{\"sha256\":\"" FIXTURE_PRIM_PUB
    "\",\"sha512\":\"" FIXTURE_PRIM_PUB FIXTURE_SEC_PUB
    "\"},\"custom\":{\"hardwareIds\":[\"board-a\"]}}}}}";

static char dir[] = "/tmp/uptake-fuzz-admin-XXXXXX";

static void cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[sizeof dir + 300];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	static const char text[] = "database = :memory:\ndata_dir = /nonexistent\n";
	struct upt_error err = {0};
	if (!mkdtemp(dir) || srv_ca_open(&ca, dir, "localhost", &err) != UPT_OK ||
	    srv_config_parse(&cfg, "fuzz.conf", (const uint8_t *)text, strlen(text), &err) !=
		UPT_OK)
		abort();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct srv_repo image, director;
	struct srv_store *st = fixture_store();
	struct upt_error err = {0};
	char *resp = NULL;
	int rc;
	if (!ready++) {
		setup();
		if (srv_repo_open(&image, "image", false, st, &cfg, &err) != UPT_OK ||
		    srv_repo_open(&director, "director", true, st, &cfg, &err) != UPT_OK ||
		    st->ops->meta_put(st, "image", "targets", 1, 4070908800,
				      (const uint8_t *)image_targets, strlen(image_targets),
				      &err) != UPT_OK ||
		    st->ops->device_add(st, "dev-1", &err) != UPT_OK ||
		    srv_dev_register(st, "dev-1", (const uint8_t *)fixture_registration,
				     strlen(fixture_registration), &err) != UPT_OK)
			abort();
	}
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		rc = srv_admin_device_add(st, &ca, data + 1, size - 1, &resp, &err);
		break;
	case 1:
		rc = srv_admin_assign(&image, &director, data + 1, size - 1, 1000, &resp, &err);
		break;
	default:
		rc = srv_admin_fleet_credential(&ca, data + 1, size - 1, &resp, &err);
		break;
	}
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0) || (rc == UPT_OK && !resp))
		abort();
	if (getenv("UPTAKE_FUZZ_VERBOSE"))
		fprintf(stderr, "op %d: %s %s\n", data[0] % 3, upt_err_name(rc), err.msg);
	if (rc == UPT_OK)
		fixture_check_json(resp);
	free(resp);
	fixture_check_show(st, "dev-1");
	return 0;
}
