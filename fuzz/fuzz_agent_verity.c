/* Fuzz target: uptake-agent's reading of a target's custom.verity
 * (src/agent/verity.c). The first 8 bytes are the target's signed length
 * (little-endian), the rest the JSON text of the target's custom object.
 * Whatever the bytes, the answer is UPT_OK with parameters whose hash tree
 * lies inside the length (or no verity at all), or an error with a
 * message; the boot environment's value always fits its bound. */
#include <stdlib.h>
#include <string.h>
#include <uptake/arena.h>
#include <uptake/json.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[1 << 20];
	struct upt_arena a;
	struct upt_json *custom = NULL;
	struct upt_error err = {0};
	struct verity_params p;
	char env[VERITY_ENV_MAX];
	uint64_t len = 0;
	int rc;
	if (size < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		len = len << 8 | data[i];
	len &= INT64_MAX;
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_json_parse(&custom, &a, data + 8, size - 8, NULL, &err) != UPT_OK)
		return 0;
	memset(&err, 0, sizeof err);
	rc = verity_parse(&p, custom, (int64_t)len, &err);
	if (rc > 0 || (rc != UPT_OK && !err.msg[0]))
		abort();
	if (rc == UPT_OK && p.present) {
		int64_t tree = verity_tree_size(&p);
		if (tree <= 0 || p.hash_offset < p.data_blocks * (int64_t)p.data_block_size ||
		    p.hash_offset + tree > (int64_t)len || p.salt_len > VERITY_SALT_MAX)
			abort();
		if (verity_env_value(env, sizeof env, &p) != 0)
			abort();
	}
	return 0;
}
