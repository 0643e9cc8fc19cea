/* uptake CLI: a strict CSV reader (RFC 4180: comma-separated fields,
 * CRLF or LF line ends, fields in double quotes with "" for a quote). */
#ifndef UPTAKE_CLI_CSV_H
#define UPTAKE_CLI_CSV_H

#include <stddef.h>
#include <uptake/common.h>

#define CSV_MAX_FIELDS 16
#define CSV_MAX_FIELD  255

struct csv {
	const char *p, *end;
	size_t line; /* of the record last read, from 1 */
};

struct csv_record {
	size_t n;
	char field[CSV_MAX_FIELDS][CSV_MAX_FIELD + 1];
};

void csv_init(struct csv *c, const char *text, size_t len);
/* The next record: UPT_OK, UPT_ERR_NOT_FOUND at the end, or an error
 * naming the line (a NUL or control character, an unclosed quote, text
 * after a closing quote, too many or too long fields). Empty lines are
 * skipped. */
int csv_next(struct csv *c, struct csv_record *r, struct upt_error *err);

#endif
