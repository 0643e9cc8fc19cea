/* Fuzz target: uptake-server's configuration parser ('key = value' lines).
 * Whatever the text, the parser answers UPT_OK or a negative code with a
 * message, and an accepted configuration has its bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srv_config c;
	struct upt_error err = {0};
	int rc = srv_config_parse(&c, "fuzz.conf", data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc == UPT_OK &&
	    (c.port < 0 || c.port > 65535 || c.threads == 0 || c.threads > 256 ||
	     c.write_threads == 0 || c.write_threads > 1024 || !c.database[0] || !c.data_dir[0] ||
	     memchr(c.admin_token, 0, sizeof c.admin_token) == NULL || c.log_level > SRV_LOG_DEBUG))
		abort();
	return 0;
}
