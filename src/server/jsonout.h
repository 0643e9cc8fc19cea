/* uptake-server: a growing JSON text for answers, bounded, with strings
 * escaped. Every call after a failure does nothing; srv_json_finish says. */
#ifndef UPTAKE_SERVER_JSONOUT_H
#define UPTAKE_SERVER_JSONOUT_H

#include <stddef.h>
#include <uptake/common.h>

#define SRV_JSON_MAX (256u << 20)

struct srv_json {
	char *s;
	size_t len, cap;
	int rc;
};

/* Raw text (numbers, punctuation, literals). */
void srv_json_raw(struct srv_json *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string. */
void srv_json_str(struct srv_json *o, const char *s);
/* Hand the text over (NUL-terminated, malloc'd), or fail with its error. */
int srv_json_finish(struct srv_json *o, char **out, struct upt_error *err);
void srv_json_dispose(struct srv_json *o);

#endif
