/* Fuzz target: the PKCS#12 answer of shared-credential provisioning
 * (agent_p12_parse in src/agent/provision.c). Whatever the bytes, the
 * answer is an error with a message and nothing handed out, or a key and
 * a certificate in PEM that belong together. */
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_error err = {0};
	char *key = NULL, *cert = NULL;
	size_t kl = 0, cl = 0;
	int rc = agent_p12_parse(data, size, NULL, &key, &kl, &cert, &cl, &err);
	if (rc > 0 || (rc != UPT_OK && (err.msg[0] == 0 || key || cert)))
		abort();
	if (rc == UPT_OK) {
		if (!key || !cert || strncmp(key, "-----BEGIN PRIVATE KEY-----", 27) != 0 ||
		    strncmp(cert, "-----BEGIN CERTIFICATE-----", 27) != 0 || strlen(key) != kl ||
		    strlen(cert) != cl)
			abort();
		/* the device id is checked too: this one is no certificate's CN */
		upt_free_secret(key, kl);
		free(cert);
		key = cert = NULL;
		rc = agent_p12_parse(data, size, "\x01no such device", &key, &kl, &cert, &cl, &err);
		if (rc == UPT_OK || key || cert)
			abort();
	}
	if (key)
		upt_free_secret(key, kl);
	free(cert);
	return 0;
}
