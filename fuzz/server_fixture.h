/* Fuzz fixtures for the server's device logic: one in-memory SQLite store
 * per process (opening one per input would cost more than the input), and
 * a new device id per input, so that every input starts from a freshly
 * registered device. */
#ifndef UPTAKE_FUZZ_SERVER_FIXTURE_H
#define UPTAKE_FUZZ_SERVER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "server/server.h"

/* The ECU keys of the fixture devices (primary "prim", secondary "sec");
 * fuzz/gen_server_seeds.py signs the seed manifests with the matching
 * private keys. */
#define FIXTURE_PRIM_PUB "cdc629615d59a6d0ad082342eb5ae454dc06c93d7333f9bcc06f4d138f9ae5cb"
#define FIXTURE_SEC_PUB  "4579681715dc02a42122476e735bdff457c0f116c1430e316c9332dbc24198a6"
#define FIXTURE_KEY(hex) \
	"{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"" hex "\"}}"

static const char fixture_registration[] =
    "{\"primary_ecu_serial\":\"prim\",\"ecus\":["
    "{\"ecu_serial\":\"prim\",\"hardware_identifier\":\"board-a\",\"clientKey\":" FIXTURE_KEY(
	FIXTURE_PRIM_PUB) "},"
			  "{\"ecu_serial\":\"sec\",\"hardware_identifier\":\"board-b\","
			  "\"clientKey\":" FIXTURE_KEY(FIXTURE_SEC_PUB) "}]}";

static inline struct srv_store *fixture_store(void)
{
	static struct srv_store *st;
	struct upt_error err = {0};
	if (!st && srv_store_sqlite_open(&st, ":memory:", &err) != UPT_OK)
		abort();
	srv_log_threshold = SRV_LOG_ERROR;
	return st;
}

/* A new device id (no ECUs yet) in `id`. */
static inline struct srv_store *fixture_new_device(char id[32])
{
	static unsigned long n;
	struct srv_store *st = fixture_store();
	struct upt_error err = {0};
	snprintf(id, 32, "dev-%lu", n++);
	if (st->ops->device_add(st, id, &err) != UPT_OK)
		abort();
	return st;
}

/* A new device with the fixture's two ECUs registered. */
static inline struct srv_store *fixture_device(char id[32])
{
	struct srv_store *st = fixture_new_device(id);
	struct upt_error err = {0};
	if (srv_dev_register(st, id, (const uint8_t *)fixture_registration,
			     strlen(fixture_registration), &err) != UPT_OK)
		abort();
	return st;
}

/* `json` must be valid JSON. */
static inline void fixture_check_json(const char *json)
{
	size_t cap = 64 * strlen(json) + 65536;
	void *mem = malloc(cap);
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err = {0};
	if (!mem)
		abort();
	upt_arena_init(&a, mem, cap);
	if (upt_json_parse(&v, &a, (const uint8_t *)json, strlen(json), NULL, &err) != UPT_OK)
		abort();
	free(mem);
}

/* The admin view of a device must be valid JSON. */
static inline void fixture_check_show(struct srv_store *st, const char *id)
{
	char *json = NULL;
	struct upt_error err = {0};
	if (srv_admin_device_show(st, id, &json, &err) == UPT_OK)
		fixture_check_json(json);
	free(json);
}

#endif
