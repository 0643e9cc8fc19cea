/* Fuzz target: uptake-server's ECU registration (srv_dev_register): the
 * body aktualizr posts to /director/ecus and the device-supplied public
 * keys in it (TUF and aktualizr spellings, Ed25519, ECDSA, RSA). Whatever
 * the body: the answer is UPT_OK or a negative code with a message; an
 * accepted registration has 1-64 ECUs with exactly one primary, can be
 * sent again (same ECUs: accepted), and the admin view stays valid JSON. */
#include "server_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[32];
	struct srv_store *st = fixture_new_device(id);
	struct upt_error err = {0};
	int rc = srv_dev_register(st, id, data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc == UPT_OK) {
		struct srv_ecu *e = NULL;
		size_t n = 0, primaries = 0;
		if (st->ops->ecus_get(st, id, &e, &n, &err) != UPT_OK || n == 0 || n > 64)
			abort();
		for (size_t i = 0; i < n; i++)
			primaries += e[i].primary;
		free(e);
		if (primaries != 1 || srv_dev_register(st, id, data, size, &err) != UPT_OK)
			abort();
	}
	fixture_check_show(st, id);
	return 0;
}
