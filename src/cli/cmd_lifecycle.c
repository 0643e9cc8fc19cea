/* uptake device set and uptake device import: each unit's CRA lifecycle
 * (product, manufactured, placed on the market, support end), one device
 * at a time or from a factory's CSV records, all or nothing. */
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "cmd_lifecycle.h"
#include "csv.h"
#include <uptake/alloc.h>

int lifecycle_members(struct cli_buf *b, const struct cli_lifecycle *l, bool first)
{
	const char *keys[] = {"product", "manufactured", "placed_on_market", "support_end"};
	const char *vals[] = {l->product, l->manufactured, l->placed_on_market, l->support_end};
	int rc = UPT_OK;
	for (int i = 0; rc == UPT_OK && i < 4; i++) {
		if (!vals[i])
			continue;
		rc = cli_buf_printf(b, "%s\"%s\":", first ? "" : ",", keys[i]);
		/* an empty value clears the field */
		rc = rc           ? rc
		     : vals[i][0] ? cli_buf_json_str(b, vals[i])
				  : cli_buf_printf(b, "null");
		first = false;
	}
	if (rc == UPT_OK && l->tags) {
		rc = cli_buf_printf(b, "%s\"tags\":[", first ? "" : ",");
		for (const char *t = l->tags; rc == UPT_OK && *t;) {
			size_t n = strcspn(t, ",");
			rc = cli_buf_printf(b, "%s", t == l->tags ? "" : ",");
			rc = rc ? rc : cli_buf_json_strn(b, t, n);
			t += n;
			if (*t == ',')
				t++;
		}
		rc = rc ? rc : cli_buf_printf(b, "]");
		first = false;
	}
	if (rc == UPT_OK && l->utc_offset) {
		int64_t off;
		if (cli_parse_int(&off, l->utc_offset, -840, 840) != UPT_OK)
			return UPT_ERR_ARG;
		rc = cli_buf_printf(b, "%s\"utc_offset\":%lld", first ? "" : ",", (long long)off);
	}
	return rc;
}

int lifecycle_set(struct ws *w, const char *id, const struct cli_lifecycle *l,
		  struct upt_error *err)
{
	struct cli_buf body;
	char api[600], q[400], *resp = NULL;
	int rc;
	if (host_url_quote(q, sizeof q, id, false) != UPT_OK)
		return upt_error_set(err, UPT_ERR_ARG, "bad device id");
	cli_buf_init(&body, 65536);
	rc = cli_buf_printf(&body, "{");
	rc = rc ? rc : lifecycle_members(&body, l, true);
	rc = rc ? rc : cli_buf_printf(&body, "}");
	if (rc == UPT_ERR_ARG) {
		cli_buf_free(&body);
		return upt_error_set(err, UPT_ERR_ARG, "--utc-offset: minutes from -840 to 840");
	}
	snprintf(api, sizeof api, "devices/%s", q);
	if (rc == UPT_OK)
		rc = ws_http(w, "PATCH", api, "application/json", body.p, body.len, NULL, false,
			     &resp, err);
	if (rc == UPT_OK)
		fputs(resp, stdout);
	free(resp);
	cli_buf_free(&body);
	return rc;
}

enum { COL_DEVICE, COL_PRODUCT, COL_MANUFACTURED, COL_MARKET, COL_END, N_COLS };
static const char *const columns[N_COLS] = {"device", "product", "manufactured", "placed_on_market",
					    "support_end"};

/* The header: known column names, each once, "device" among them. */
static int header(const struct csv_record *r, int col[CSV_MAX_FIELDS], const char *file,
		  struct upt_error *err)
{
	bool seen[N_COLS] = {false};
	for (size_t i = 0; i < r->n; i++) {
		col[i] = -1;
		for (int k = 0; k < N_COLS; k++)
			if (strcmp(r->field[i], columns[k]) == 0)
				col[i] = k;
		if (col[i] < 0)
			return upt_error_set(
			    err, UPT_ERR_FIELD_VALUE,
			    "%s line 1: unknown column '%s' (columns: device, "
			    "product, manufactured, placed_on_market, support_end)",
			    file, r->field[i]);
		if (seen[col[i]])
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s line 1: column '%s' twice", file, r->field[i]);
		seen[col[i]] = true;
	}
	if (!seen[COL_DEVICE])
		return upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s line 1: no 'device' column",
				     file);
	return UPT_OK;
}

/* CSV -> [{"device":...,...}, ...]; lines[i] is row i's line in the file. */
int lifecycle_csv_to_json(struct cli_buf *out, size_t **lines, size_t *n, const char *text,
			  size_t len, const char *file, struct upt_error *err)
{
	struct csv c;
	struct csv_record *r = malloc(sizeof *r);
	int col[CSV_MAX_FIELDS], rc;
	size_t cap = 0, ncols;
	*lines = NULL;
	*n = 0;
	if (!r)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	csv_init(&c, text, len);
	rc = csv_next(&c, r, err);
	if (rc == UPT_ERR_NOT_FOUND)
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s: empty", file);
	if (rc == UPT_OK)
		rc = header(r, col, file, err);
	ncols = r->n;
	rc = rc ? rc : cli_buf_printf(out, "[");
	while (rc == UPT_OK) {
		rc = csv_next(&c, r, err);
		if (rc == UPT_ERR_NOT_FOUND) {
			rc = UPT_OK;
			break;
		}
		if (rc == UPT_OK && r->n != ncols)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "line %zu: %zu fields, the header has %zu", c.line, r->n,
					   ncols);
		for (size_t i = 0; rc == UPT_OK && i < r->n; i++)
			if (col[i] == COL_DEVICE && !r->field[i][0])
				rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
						   "line %zu: no device id", c.line);
		if (rc == UPT_OK && *n == cap) {
			size_t *more;
			cap = cap ? 2 * cap : 256;
			if (!(more = realloc(*lines, cap * sizeof *more)))
				rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
			else
				*lines = more;
		}
		if (rc != UPT_OK)
			break;
		(*lines)[(*n)++] = c.line;
		rc = cli_buf_printf(out, "%s{", *n > 1 ? "," : "");
		for (size_t i = 0; rc == UPT_OK && i < r->n; i++) {
			if (!r->field[i][0]) /* empty: not given */
				continue;
			rc = cli_buf_printf(
			    out, "%s\"%s\":", i && out->p[out->len - 1] != '{' ? "," : "",
			    columns[col[i]]);
			rc = rc ? rc : cli_buf_json_str(out, r->field[i]);
		}
		rc = rc ? rc : cli_buf_printf(out, "}");
	}
	if (rc == UPT_OK && *n == 0)
		rc =
		    upt_error_set(err, UPT_ERR_FIELD_MISSING, "%s: no rows after the header", file);
	rc = rc ? rc : cli_buf_printf(out, "]");
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM && !strstr(err->msg, file)) {
		char prefix[300];
		snprintf(prefix, sizeof prefix, "%s", file);
		upt_error_prefix(err, prefix);
	}
	free(r);
	return rc;
}

/* The server names "row N"; say which line of the file that was. */
static void name_line(struct upt_error *err, const size_t *lines, size_t n, const char *file)
{
	const char *p = strstr(err->msg, "row ");
	char *end, msg[UPT_ERROR_MSG_MAX];
	unsigned long long row;
	if (!p)
		return;
	row = strtoull(p + 4, &end, 10);
	if (end == p + 4 || *end != ':' || row >= n)
		return;
	snprintf(msg, sizeof msg, "%s line %zu%s", file, lines[row], end);
	snprintf(err->msg, sizeof err->msg, "%s", msg);
}

int lifecycle_import(struct ws *w, const char *file, struct upt_error *err)
{
	struct cli_buf body;
	char *text = NULL, *resp = NULL;
	size_t len = 0, *lines = NULL, n = 0;
	int rc = cli_read_file(file, 64u << 20, &text, &len, err);
	cli_buf_init(&body, 256u << 20);
	if (rc == UPT_OK)
		rc = lifecycle_csv_to_json(&body, &lines, &n, text, len, file, err);
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM && rc != UPT_ERR_IO)
		rc = UPT_ERR_DECODE; /* the file is not what it should be: exit 3 */
	if (rc == UPT_OK)
		rc = ws_http(w, "POST", "device-lifecycle", "application/json", body.p, body.len,
			     NULL, false, &resp, err);
	if (rc != UPT_OK)
		name_line(err, lines, n, file);
	if (rc == UPT_OK)
		printf("%zu devices: lifecycle imported from %s\n", n, file);
	free(lines);
	free(resp);
	upt_free(text);
	cli_buf_free(&body);
	return rc;
}
