/* Fuzz target: uptake-agent's configuration parser ('key = value' lines).
 * Whatever the text, the parser answers UPT_OK or a negative code with a
 * message, and an accepted configuration has every required key, bounded
 * numbers, one known install and bootloader backend, text fit for JSON,
 * and secondaries with a port, distinct serials other than the primary's. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static bool plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_config c;
	struct upt_error err = {0};
	int rc = agent_config_parse(&c, "fuzz.conf", data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc != UPT_OK)
		return 0;
	if (!terminated(c.server, sizeof c.server) || !terminated(c.slot[0], sizeof c.slot[0]) ||
	    !terminated(c.slot[1], sizeof c.slot[1]) ||
	    !terminated(c.primary_serial, sizeof c.primary_serial) ||
	    !terminated(c.hardware_id, sizeof c.hardware_id))
		abort();
	if (!c.server[0] || !c.ca[0] || !c.cert[0] || !c.key[0] || !c.state_dir[0] ||
	    !c.director_root[0] || !c.image_root[0] || !c.primary_serial[0] || !c.hardware_id[0])
		abort();
	if (!plain(c.server) || !plain(c.primary_serial) || !plain(c.hardware_id) ||
	    !plain(c.device_id))
		abort();
	if (c.boot_limit < 1 || c.boot_limit > 100 || c.health_timeout < 1 || c.interval < 1 ||
	    c.jitter < 0 || c.deadline_base < 1 || c.min_download_rate < 1 ||
	    c.max_download_rate < 0)
		abort();
	if (strcmp(c.install, "ab") != 0 && strcmp(c.install, "file") != 0 &&
	    strcmp(c.install, "script") != 0)
		abort();
	if (!c.slot[0][0] || (strcmp(c.install, "ab") == 0 && !c.slot[1][0]))
		abort();
	if (strcmp(c.bootloader, "sim") != 0 && strcmp(c.bootloader, "uboot") != 0 &&
	    strcmp(c.bootloader, "grub") != 0)
		abort();
	if (c.n_secondaries > AGENT_SECONDARIES_MAX || c.secondary_timeout < 1 ||
	    c.secondary_timeout > 600)
		abort();
	for (size_t i = 0; i < c.n_secondaries; i++) {
		const struct agent_secondary *s = &c.secondary[i];
		if (!terminated(s->address, sizeof s->address) || !s->address[0] ||
		    !terminated(s->serial, sizeof s->serial) || !s->serial[0] ||
		    !terminated(s->hardware_id, sizeof s->hardware_id) || !s->hardware_id[0] ||
		    !plain(s->serial) || !plain(s->hardware_id) || s->port < 1 || s->port > 65535 ||
		    strcmp(s->serial, c.primary_serial) == 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(c.secondary[j].serial, s->serial) == 0)
				abort();
	}
	return 0;
}
