/* Fuzz target: uptake-agent's state files (src/agent/state.c). The first
 * byte picks the parser: 0 a slot record, 1 the report counter, 2 the
 * failed-images list, 3 the support end (src/agent/support.c), 4 the
 * pending install result (src/agent/report.c). A slot record that parses
 * is written again and parses to the same record; a counter is in range; a
 * support end is a real date; an install result's fields are bounded text;
 * nothing is read past the input. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void slot(const uint8_t *data, size_t size)
{
	struct slot_info s, again;
	struct upt_error err = {0};
	char text[512];
	int rc = state_parse_slot(&s, data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc != UPT_OK) {
		if (s.name[0] || s.length || s.sha256[0])
			abort(); /* nothing of a failed parse is left */
		return;
	}
	if (!s.name[0] || s.length < 0 || strlen(s.sha256) != 64)
		abort();
	if (state_format_slot(text, sizeof text, &s, &err) != UPT_OK)
		abort();
	if (strlen(text) != size || memcmp(text, data, size) != 0)
		abort(); /* one spelling per record */
	if (state_parse_slot(&again, (const uint8_t *)text, strlen(text), &err) != UPT_OK ||
	    memcmp(&s, &again, sizeof s) != 0)
		abort();
}

static void counter(const uint8_t *data, size_t size)
{
	struct upt_error err = {0};
	int64_t n = -1;
	int rc = state_parse_counter(&n, data, size, &err);
	if (rc > 0 || (rc != UPT_OK && (err.msg[0] == 0 || n != 0)))
		abort();
	if (rc == UPT_OK && (n < 0 || n == INT64_MAX))
		abort();
}

static void list(const uint8_t *data, size_t size)
{
	static const char sha[] =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	bool has = state_list_has(data, size, sha);
	const uint8_t *hit = size >= 64 ? memmem(data, size, sha, 64) : NULL;
	if (has && !hit)
		abort();
	if (state_list_has(data, size, "not a sha256"))
		abort();
}

static void support(const uint8_t *data, size_t size)
{
	struct agent_support s;
	struct upt_error err = {0};
	int64_t day;
	int rc = agent_support_parse(&s, data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc != UPT_OK)
		return;
	if (size == 0 ? s.end[0] != 0
		      : strlen(s.end) != 10 || agent_date_parse(s.end, &day) != UPT_OK ||
			    day != s.end_day || strlen(s.product) >= sizeof s.product)
		abort();
}

static void install_result(const uint8_t *data, size_t size)
{
	struct install_result r;
	struct upt_error err = {0};
	int rc = agent_install_result_parse(&r, data, size, &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc == UPT_OK &&
	    (!r.cid[0] || strchr(r.cid, '"') || strchr(r.cid, '\\') || strchr(r.cid, '\n') ||
	     !r.code[0] || strchr(r.code, '"') || (r.downloaded && !r.success)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	if (size == 0)
		return 0;
	/* an exact copy without the selector, so that ASan sees overreads */
	if (!(copy = malloc(size - 1 ? size - 1 : 1)))
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		slot(copy, size - 1);
		break;
	case 1:
		counter(copy, size - 1);
		break;
	case 2:
		list(copy, size - 1);
		break;
	case 3:
		support(copy, size - 1);
		break;
	default:
		install_result(copy, size - 1);
	}
	free(copy);
	return 0;
}
