/* uptake CLI: each unit's CRA lifecycle (cmd_lifecycle.c). */
#ifndef UPTAKE_CLI_LIFECYCLE_H
#define UPTAKE_CLI_LIFECYCLE_H

#include "workspace.h"

/* What the command line sets; NULL: not given, "": clear. */
struct cli_lifecycle {
	const char *product, *manufactured, *placed_on_market, *support_end;
	const char *tags;       /* uptake device set: "a,b" ("" clears them) */
	const char *utc_offset; /* minutes east of UTC */
};

/* Append the given members ("product":...,...) to a JSON object. */
int lifecycle_members(struct cli_buf *b, const struct cli_lifecycle *l, bool first);
/* PATCH one device's lifecycle; prints the server's answer. */
int lifecycle_set(struct ws *w, const char *id, const struct cli_lifecycle *l,
		  struct upt_error *err);
/* A factory's CSV records (header: device, product, manufactured,
 * placed_on_market, support_end; any order, device required) as the JSON
 * rows of an import; lines[i] is the file line of row i (malloc'd). */
int lifecycle_csv_to_json(struct cli_buf *out, size_t **lines, size_t *n, const char *text,
			  size_t len, const char *file, struct upt_error *err);
/* Import a CSV file, all or nothing. */
int lifecycle_import(struct ws *w, const char *file, struct upt_error *err);

#endif
