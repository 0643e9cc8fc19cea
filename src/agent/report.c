/* uptake-agent: the signed version manifest. The ECU's version report
 * (what the running slot holds, the report counter, attacks detected) is
 * signed by the ECU key, and the vehicle manifest around it too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/crypto_openssl.h>

#include "agent.h"

/* Sign JSON text with the ECU key (NULL when it cannot be signed). */
static char *sign_json(const char *text, struct upt_privkey *key)
{
	char *doc = NULL;
	size_t len = 0;
	return upt_privkey_sign_document(&doc, &len, text, &key, 1, UPT_DIALECT_TUF, NULL) == UPT_OK
		   ? doc
		   : NULL;
}

static void json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = 0;
}

/* Report what the running slot holds: success is only ever reported from
 * the slot that booted and passed its health checks. */
int agent_report(const struct agent_config *c, const struct slot_info *running, const char *attack,
		 struct upt_error *err)
{
	struct upt_privkey *key = NULL;
	char keyid[UPT_KEYID_MAX + 1], counter_text[32], text[8192], att[600], name[600];
	char *ecu = NULL, *manifest = NULL;
	int64_t counter = 0;
	int rc = state_ecu_key(c, &key, keyid, err);
	/* a counter file that does not parse is not guessed at: a counter too
	 * low would be refused as a replay, one too high skips ahead */
	if (rc == UPT_OK && state_read(c, "counter", counter_text, sizeof counter_text) == 0) {
		rc = state_parse_counter(&counter, (const uint8_t *)counter_text,
					 strlen(counter_text), err);
		if (rc != UPT_OK)
			upt_error_prefix(err, c->state_dir);
	}
	counter++;
	json_escape(att, sizeof att, attack ? attack : "");
	json_escape(name, sizeof name, running->name[0] ? running->name : "none");
	snprintf(text, sizeof text,
		 "{\"attacks_detected\":\"%s\",\"ecu_serial\":\"%s\",\"installed_image\":"
		 "{\"fileinfo\":{\"hashes\":{\"sha256\":\"%s\"},\"length\":%lld},\"filepath\":"
		 "\"%s\"},\"report_counter\":%lld}",
		 att, c->primary_serial,
		 running->sha256[0]
		     ? running->sha256
		     : "0000000000000000000000000000000000000000000000000000000000000000",
		 (long long)running->length, name, (long long)counter);
	if (rc == UPT_OK && !(ecu = sign_json(text, key)))
		rc = upt_error_set(err, UPT_ERR_CRYPTO, "cannot sign the report");
	if (rc == UPT_OK) {
		char *m = malloc(strlen(ecu) + 512);
		if (!m)
			rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
		else {
			snprintf(m, strlen(ecu) + 512,
				 "{\"auto_update\":%s,\"ecu_version_manifests\":{\"%s\":%s},"
				 "\"primary_ecu_serial\":\"%s\"}",
				 c->auto_update ? "true" : "false", c->primary_serial, ecu,
				 c->primary_serial);
			manifest = sign_json(m, key);
			free(m);
			if (!manifest)
				rc = upt_error_set(err, UPT_ERR_CRYPTO, "cannot sign the manifest");
		}
	}
	/* the counter moves before sending: a lost answer never reuses one */
	snprintf(counter_text, sizeof counter_text, "%lld\n", (long long)counter);
	if (rc == UPT_OK)
		rc = state_write(c, "counter", counter_text, err);
	if (rc == UPT_OK)
		rc = agent_request(c, "PUT", "/director/manifest", manifest, err);
	if (rc == UPT_OK)
		agent_log("report sent: %s runs %s", c->primary_serial,
			  running->name[0] ? running->name : "nothing yet");
	free(ecu);
	free(manifest);
	upt_privkey_free(key);
	return rc;
}
