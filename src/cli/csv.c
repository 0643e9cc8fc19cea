/* uptake CLI: a strict CSV reader. */
#include "csv.h"

#include <stdbool.h>
#include <stdint.h>

void csv_init(struct csv *c, const char *text, size_t len)
{
	c->p = text;
	c->end = text + len;
	c->line = 0;
}

static int field_char(struct csv_record *r, size_t *k, char ch, const struct csv *c,
		      struct upt_error *err)
{
	if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "line %zu: a control character (or NUL) in field %zu", c->line,
				     r->n + 1);
	if (*k >= CSV_MAX_FIELD)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "line %zu: field %zu longer than %d bytes", c->line, r->n + 1,
				     CSV_MAX_FIELD);
	r->field[r->n][(*k)++] = ch;
	return UPT_OK;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). */
static bool utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80             ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		uint32_t cp;
		if (!len || i + len > n || (len == 2 && c < 0xc2))
			return false;
		cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/* One field, up to the comma or line end after it. */
static int field(struct csv *c, struct csv_record *r, struct upt_error *err)
{
	size_t k = 0;
	int rc = UPT_OK;
	if (r->n >= CSV_MAX_FIELDS)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "line %zu: more than %d fields",
				     c->line, CSV_MAX_FIELDS);
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			if (c->p >= c->end)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "line %zu: a quote is not closed", c->line);
			if (*c->p == '"' && c->p + 1 < c->end && c->p[1] == '"') {
				rc = field_char(r, &k, '"', c, err);
				c->p += 2;
			} else if (*c->p == '"') {
				c->p++;
				break;
			} else if (*c->p == '\n' || *c->p == '\r') {
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "line %zu: a quote is not closed on its line",
						     c->line);
			} else {
				rc = field_char(r, &k, *c->p++, c, err);
			}
			if (rc != UPT_OK)
				return rc;
		}
		if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "line %zu: text after a closing quote", c->line);
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
			if (*c->p == '"')
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "line %zu: a quote inside an unquoted field",
						     c->line);
			if ((rc = field_char(r, &k, *c->p++, c, err)) != UPT_OK)
				return rc;
		}
	}
	if (!utf8((const unsigned char *)r->field[r->n], k))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "line %zu: field %zu is not UTF-8",
				     c->line, r->n + 1);
	r->field[r->n++][k] = 0;
	return UPT_OK;
}

int csv_next(struct csv *c, struct csv_record *r, struct upt_error *err)
{
	int rc;
	for (;;) {
		if (c->p >= c->end)
			return UPT_ERR_NOT_FOUND;
		c->line++;
		if (*c->p == '\n') { /* an empty line */
			c->p++;
			continue;
		}
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
			c->p += 2;
			continue;
		}
		break;
	}
	r->n = 0;
	for (;;) {
		if ((rc = field(c, r, err)) != UPT_OK)
			return rc;
		if (c->p >= c->end)
			return UPT_OK;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '\r') {
			if (c->p + 1 >= c->end || c->p[1] != '\n')
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "line %zu: a carriage return without a line "
						     "feed",
						     c->line);
			c->p++;
		}
		c->p++; /* '\n' */
		return UPT_OK;
	}
}
