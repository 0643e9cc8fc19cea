/* uptake-agent: JSON that leaves the agent (manifests, registration,
 * answers of `check`), built as small trees in caller-given nodes and
 * written by libuptake's writer: every string escaped, keys in order. */
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "agent.h"

struct upt_json *agent_json_str(struct upt_json *v, const char *key, const char *s)
{
	memset(v, 0, sizeof *v);
	v->key = key;
	v->key_len = key ? strlen(key) : 0;
	if (s) {
		v->type = UPT_JSON_STRING;
		v->str = s;
		v->len = strlen(s);
	}
	return v;
}

struct upt_json *agent_json_int(struct upt_json *v, const char *key, int64_t i)
{
	agent_json_str(v, key, NULL);
	v->type = UPT_JSON_INT;
	v->i = i;
	return v;
}

struct upt_json *agent_json_bool(struct upt_json *v, const char *key, bool b)
{
	agent_json_str(v, key, NULL);
	v->type = b ? UPT_JSON_TRUE : UPT_JSON_FALSE;
	return v;
}

struct upt_json *agent_json_obj(struct upt_json *v, const char *key, struct upt_json **items,
				size_t n)
{
	agent_json_str(v, key, NULL);
	v->type = UPT_JSON_OBJECT;
	v->items = items;
	v->n = n;
	return v;
}

struct upt_json *agent_json_arr(struct upt_json *v, const char *key, struct upt_json **items,
				size_t n)
{
	agent_json_obj(v, key, items, n);
	v->type = UPT_JSON_ARRAY;
	return v;
}

int agent_json_text(char **out, const struct upt_json *v, struct upt_error *err)
{
	size_t len = 0;
	int rc = upt_json_write(NULL, 0, &len, v, err);
	*out = NULL;
	if (rc != UPT_OK && rc != UPT_ERR_NOMEM)
		return rc;
	if (!(*out = malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = upt_json_write((uint8_t *)*out, len + 1, &len, v, err);
	if (rc != UPT_OK) {
		free(*out);
		*out = NULL;
		return rc;
	}
	(*out)[len] = 0;
	return UPT_OK;
}
