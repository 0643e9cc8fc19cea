/* Fuzz target: the CLI's CSV reader and the lifecycle import built on it
 * (a factory's records -> JSON rows). Whatever the bytes, the reader
 * answers UPT_OK or an error with a message; an accepted file becomes a
 * JSON array that libuptake's strict parser reads back, one object a row,
 * with a file line for each. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "cli/cmd_lifecycle.h"
#include "cli/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[64u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_buf out;
	struct upt_error err = {0};
	struct upt_arena a;
	struct upt_json *v;
	size_t *lines = NULL, n = 0;
	struct csv c;
	struct csv_record *r = malloc(sizeof *r);
	int rc;
	if (!r || size > (1u << 20))
		return free(r), 0;
	/* the reader alone */
	csv_init(&c, (const char *)data, size);
	while ((rc = csv_next(&c, r, &err)) == UPT_OK)
		if (r->n == 0 || r->n > CSV_MAX_FIELDS)
			abort();
	if (rc != UPT_ERR_NOT_FOUND && !err.msg[0])
		abort();
	free(r);
	/* the import */
	cli_buf_init(&out, 16u << 20);
	rc = lifecycle_csv_to_json(&out, &lines, &n, (const char *)data, size, "f.csv", &err);
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, sizeof mem);
		if (upt_json_parse(&v, &a, (const uint8_t *)out.p, out.len, NULL, &err) != UPT_OK ||
		    v->type != UPT_JSON_ARRAY || v->n != n || n == 0)
			abort();
		for (size_t i = 0; i < n; i++)
			if (v->items[i]->type != UPT_JSON_OBJECT ||
			    !upt_json_get(v->items[i], "device") || lines[i] < 2 ||
			    (i && lines[i] <= lines[i - 1]))
				abort();
	} else if (!err.msg[0]) {
		abort();
	}
	free(lines);
	cli_buf_free(&out);
	return 0;
}
