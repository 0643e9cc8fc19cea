/* uptake-agent: the signed version manifest. The ECU's version report
 * (what the running slot holds, the report counter, attacks detected) is
 * signed by the ECU key, and the vehicle manifest around it too. Both are
 * written through libuptake's JSON writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/arena.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "agent.h"

#define NO_IMAGE     "0000000000000000000000000000000000000000000000000000000000000000"
#define REPORT_ARENA ((size_t)256 << 10)

/* Sign JSON text with the ECU key (*doc upt_malloc'd). */
static int sign_json(char **doc, const char *text, struct upt_privkey *key,
		     enum upt_dialect dialect, struct upt_error *err)
{
	size_t len = 0;
	*doc = NULL;
	return upt_privkey_sign_document(doc, &len, text, &key, 1, dialect, err);
}

/* The dialect of the Director this device trusts (its newest trusted root,
 * else the root it was provisioned with): reports are spelt as the
 * repositories are, so that a server built for aktualizr reads them as
 * aktualizr's (signatures with a method, base64; the report counter as a
 * string of digits). */
static enum upt_dialect director_dialect(const struct agent_config *c)
{
	char path[AGENT_PATH + 32];
	uint8_t *text = NULL;
	size_t len = 0;
	enum upt_dialect d = UPT_DIALECT_TUF;
	void *mem = NULL;
	struct upt_arena a;
	struct upt_doc doc;
	state_path(path, sizeof path, c, "director/root.json");
	if (host_read_file(path, 1u << 20, &text, &len, NULL) != UPT_OK &&
	    host_read_file(c->director_root, 1u << 20, &text, &len, NULL) != UPT_OK)
		return d;
	if ((mem = malloc(32 * len + 65536)) != NULL) {
		upt_arena_init(&a, mem, 32 * len + 65536);
		if (upt_doc_parse(&doc, &a, text, len, 0, "root.json", NULL) == UPT_OK)
			d = doc.dialect;
	}
	free(mem);
	upt_free(text);
	return d;
}

/* The ECU version report's signed part. */
static int version_report(char **out, const struct agent_config *c, const struct slot_info *running,
			  const char *attack, int64_t counter, enum upt_dialect dialect,
			  struct upt_error *err)
{
	char digits[24];
	struct upt_json top, v[8], *items[4], *fileinfo[2], *hashes[1], *image[2];
	hashes[0] =
	    agent_json_str(&v[0], "sha256", running->sha256[0] ? running->sha256 : NO_IMAGE);
	fileinfo[0] = agent_json_obj(&v[1], "hashes", hashes, 1);
	fileinfo[1] = agent_json_int(&v[2], "length", running->length);
	image[0] = agent_json_obj(&v[3], "fileinfo", fileinfo, 2);
	image[1] = agent_json_str(&v[4], "filepath", running->name[0] ? running->name : "none");
	items[0] = agent_json_str(&v[5], "attacks_detected", attack ? attack : "");
	items[1] = agent_json_str(&v[6], "ecu_serial", c->primary_serial);
	items[2] = agent_json_obj(&v[7], "installed_image", image, 2);
	snprintf(digits, sizeof digits, "%lld", (long long)counter);
	items[3] = dialect == UPT_DIALECT_AKTUALIZR
		       ? agent_json_str(&top, "report_counter", digits)
		       : agent_json_int(&top, "report_counter", counter);
	{
		struct upt_json doc;
		return agent_json_text(out, agent_json_obj(&doc, NULL, items, 4), err);
	}
}

/* The vehicle manifest's signed part, with the signed ECU report in it. */
static int vehicle_manifest(char **out, const struct agent_config *c, const char *ecu_doc,
			    struct upt_error *err)
{
	struct upt_json v[4], doc, *items[3], *ecus[1], *report = NULL;
	struct upt_arena a;
	void *mem = malloc(REPORT_ARENA);
	int rc;
	*out = NULL;
	if (!mem)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	upt_arena_init(&a, mem, REPORT_ARENA);
	rc = upt_json_parse(&report, &a, (const uint8_t *)ecu_doc, strlen(ecu_doc), NULL, err);
	if (rc == UPT_OK) {
		report->key = c->primary_serial;
		report->key_len = strlen(c->primary_serial);
		ecus[0] = report;
		items[0] = agent_json_bool(&v[0], "auto_update", c->auto_update);
		items[1] = agent_json_obj(&v[1], "ecu_version_manifests", ecus, 1);
		items[2] = agent_json_str(&v[2], "primary_ecu_serial", c->primary_serial);
		rc = agent_json_text(out, agent_json_obj(&doc, NULL, items, 3), err);
	}
	free(mem);
	return rc;
}

/* Report what the running slot holds: success is only ever reported from
 * the slot that booted and passed its health checks. */
int agent_report(const struct agent_config *c, const struct slot_info *running, const char *attack,
		 struct upt_error *err)
{
	struct upt_privkey *key = NULL;
	char keyid[UPT_KEYID_MAX + 1], counter_text[32];
	char *text = NULL, *ecu = NULL, *body = NULL, *manifest = NULL;
	int64_t counter = 0;
	enum upt_dialect dialect = director_dialect(c);
	int rc = state_ecu_key(c, &key, keyid, err);
	/* a counter file that does not parse is not guessed at: a counter too
	 * low would be refused as a replay, one too high skips ahead */
	if (rc == UPT_OK) {
		int got = state_read(c, "counter", counter_text, sizeof counter_text);
		if (got == -2)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "%s/counter: too long or unreadable", c->state_dir);
		else if (got == 0)
			rc = state_parse_counter(&counter, (const uint8_t *)counter_text,
						 strlen(counter_text), err);
		if (rc != UPT_OK && got == 0)
			upt_error_prefix(err, c->state_dir);
	}
	counter++;
	if (rc == UPT_OK)
		rc = version_report(&text, c, running, attack, counter, dialect, err);
	if (rc == UPT_OK)
		rc = sign_json(&ecu, text, key, dialect, err);
	if (rc == UPT_OK)
		rc = vehicle_manifest(&body, c, ecu, err);
	if (rc == UPT_OK)
		rc = sign_json(&manifest, body, key, dialect, err);
	/* the counter moves before sending: a lost answer never reuses one */
	snprintf(counter_text, sizeof counter_text, "%lld\n", (long long)counter);
	if (rc == UPT_OK)
		rc = state_write(c, "counter", counter_text, err);
	if (rc == UPT_OK)
		rc = agent_request(c, "PUT", "/director/manifest", manifest, err);
	if (rc == UPT_OK)
		agent_log("report sent: %s runs %s", c->primary_serial,
			  running->name[0] ? running->name : "nothing yet");
	free(text);
	upt_free(ecu); /* the signed documents are upt_malloc'd */
	free(body);
	upt_free(manifest);
	upt_privkey_free(key);
	return rc;
}
