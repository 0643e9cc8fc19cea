/* uptake: vehicle version manifests and ECU version reports. */
#include <stdint.h>
#include <string.h>
#include <uptake/json.h>
#include <uptake/manifest.h>

#include "fields.h"

/* report_counter: an integer, or (as aktualizr writes it) a string of 1-19
 * decimal digits without sign, space or leading zeros, within int64. */
static int report_counter(struct upt_ecu_report *r, struct upt_fctx *f, const struct upt_json *s)
{
	const struct upt_json *v = upt_json_get(s, "report_counter");
	size_t mark;
	int64_t n = 0;
	int rc = UPT_OK;
	if (!v)
		return UPT_OK;
	mark = upt_path_push(&f->path, "report_counter", 14);
	if (v->type == UPT_JSON_INT) {
		n = v->i;
		if (n < 0)
			rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "must not be negative");
	} else if (v->type == UPT_JSON_STRING) {
		if (v->len == 0 || v->len > 19 || (v->str[0] == '0' && v->len > 1))
			rc = upt_field_error(f, UPT_ERR_FIELD_VALUE,
					     "must be 1-19 decimal digits without leading zeros");
		for (size_t i = 0; rc == UPT_OK && i < v->len; i++) {
			int d = v->str[i] - '0';
			if (d < 0 || d > 9)
				rc = upt_field_error(f, UPT_ERR_FIELD_VALUE,
						     "must be decimal digits only (no sign or "
						     "space)");
			else if (n > (INT64_MAX - d) / 10)
				rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "above int64");
			else
				n = 10 * n + d;
		}
	} else {
		rc = upt_field_error(f, UPT_ERR_FIELD_TYPE,
				     "must be an integer or a string of decimal digits");
	}
	upt_path_pop(&f->path, mark);
	if (rc == UPT_OK) {
		r->has_report_counter = true;
		r->report_counter = n;
	}
	return rc;
}

static int report_parse(struct upt_ecu_report *r, struct upt_fctx *f, const struct upt_json *env,
			const char *serial_key)
{
	const struct upt_json *img, *info;
	int rc = upt_doc_from_json(&r->doc, f->a, env, f->doc, f->err);
	const struct upt_json *s = r->doc.signed_json;
	if (rc != UPT_OK)
		return rc;
	rc = upt_field_str(&r->ecu_serial, f, s, "ecu_serial", true);
	if (rc == UPT_OK && strcmp(r->ecu_serial, serial_key) != 0)
		rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "ecu_serial differs from its key");
	if (rc == UPT_OK)
		rc = upt_field_get(&img, f, s, "installed_image", UPT_JSON_OBJECT, true);
	if (rc == UPT_OK)
		rc = upt_field_str(&r->filepath, f, img, "filepath", true);
	if (rc == UPT_OK)
		rc = upt_field_get(&info, f, img, "fileinfo", UPT_JSON_OBJECT, true);
	if (rc == UPT_OK)
		rc = upt_field_int(&r->length, f, info, "length", 0, true, NULL);
	if (rc == UPT_OK)
		rc = upt_field_hashes(&r->hashes, f, info, true);
	if (rc == UPT_OK)
		rc = upt_field_str(&r->attacks_detected, f, s, "attacks_detected", false);
	if (rc == UPT_OK && !r->attacks_detected)
		r->attacks_detected = "";
	if (rc == UPT_OK)
		rc = report_counter(r, f, s);
	return rc;
}

/* Only the named members may be present in `obj`. */
static int only_fields(struct upt_fctx *f, const struct upt_json *obj, const char *const *names)
{
	for (size_t i = 0; i < obj->n; i++) {
		const struct upt_json *m = obj->items[i];
		bool known = false;
		for (size_t j = 0; names[j] && !known; j++)
			known = strlen(names[j]) == m->key_len &&
				memcmp(names[j], m->key, m->key_len) == 0;
		if (!known) {
			size_t mark = upt_path_push(&f->path, m->key, m->key_len);
			int rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "unknown field");
			upt_path_pop(&f->path, mark);
			return rc;
		}
	}
	return UPT_OK;
}

/* A string member of at most max bytes. */
static int bounded_str(const char **out, struct upt_fctx *f, const struct upt_json *obj,
		       const char *key, size_t max)
{
	int rc = upt_field_str(out, f, obj, key, true);
	if (rc == UPT_OK && strlen(*out) > max) {
		size_t mark = upt_path_push(&f->path, key, strlen(key));
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "too long");
		upt_path_pop(&f->path, mark);
	}
	return rc;
}

/* {"success": bool, "code": str, "description": str} */
static int install_result(struct upt_install_result *out, struct upt_fctx *f,
			  const struct upt_json *obj, const char *key)
{
	static const char *const names[] = {"success", "code", "description", NULL};
	const struct upt_json *v;
	size_t mark;
	int rc = upt_field_get(&v, f, obj, key, UPT_JSON_OBJECT, true);
	if (rc != UPT_OK)
		return rc;
	mark = upt_path_push(&f->path, key, strlen(key));
	rc = only_fields(f, v, names);
	if (rc == UPT_OK)
		rc = upt_field_bool(&out->success, f, v, "success", true);
	if (rc == UPT_OK)
		rc = bounded_str(&out->code, f, v, "code", UPT_INSTALL_CODE_MAX);
	if (rc == UPT_OK)
		rc = bounded_str(&out->description, f, v, "description", UPT_INSTALL_TEXT_MAX);
	upt_path_pop(&f->path, mark);
	return rc;
}

/* aktualizr's installation_report: {"content_type": TYPE, "report":
 * {"correlation_id", "result", "raw_report", "items": [{"ecu", "result"}]}}.
 * Strict: nothing else, nothing missing. */
static int installation_parse(struct upt_installation_report *out, struct upt_fctx *f,
			      const struct upt_json *ir, const char *name)
{
	static const char *const outer[] = {"content_type", "report", NULL};
	static const char *const inner[] = {"correlation_id", "result", "raw_report", "items",
					    NULL};
	static const char *const item_names[] = {"ecu", "result", NULL};
	const struct upt_json *rep, *items;
	const char *type = NULL;
	size_t mark = name[0] ? upt_path_push(&f->path, name, strlen(name)) : f->path.len, mark2;
	int rc = ir->type == UPT_JSON_OBJECT
		     ? only_fields(f, ir, outer)
		     : upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
	if (rc == UPT_OK)
		rc = upt_field_str(&type, f, ir, "content_type", true);
	if (rc == UPT_OK && strcmp(type, UPT_INSTALLATION_REPORT_TYPE) != 0)
		rc = upt_field_error(f, UPT_ERR_UNSUPPORTED,
				     "content_type: not " UPT_INSTALLATION_REPORT_TYPE);
	if (rc == UPT_OK)
		rc = upt_field_get(&rep, f, ir, "report", UPT_JSON_OBJECT, true);
	if (rc != UPT_OK) {
		upt_path_pop(&f->path, mark);
		return rc;
	}
	mark2 = upt_path_push(&f->path, "report", 6);
	rc = only_fields(f, rep, inner);
	if (rc == UPT_OK)
		rc = bounded_str(&out->correlation_id, f, rep, "correlation_id",
				 UPT_CORRELATION_ID_MAX);
	if (rc == UPT_OK)
		rc = install_result(&out->result, f, rep, "result");
	if (rc == UPT_OK)
		rc = bounded_str(&out->raw_report, f, rep, "raw_report", UPT_INSTALL_TEXT_MAX);
	if (rc == UPT_OK)
		rc = upt_field_get(&items, f, rep, "items", UPT_JSON_ARRAY, true);
	if (rc == UPT_OK && items->n > UPT_MANIFEST_MAX_ECUS)
		rc = upt_field_error(f, UPT_ERR_TOO_LARGE, "items: too many");
	if (rc == UPT_OK &&
	    !(out->items = upt_arena_calloc(f->a, items->n ? items->n : 1, sizeof *out->items)))
		rc = upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < items->n; i++) {
		const struct upt_json *it = items->items[i];
		size_t m3 = upt_path_push(&f->path, "items", 5);
		upt_path_push_index(&f->path, i);
		if (it->type != UPT_JSON_OBJECT)
			rc = upt_field_error(f, UPT_ERR_FIELD_TYPE, "must be an object");
		if (rc == UPT_OK)
			rc = only_fields(f, it, item_names);
		if (rc == UPT_OK)
			rc = bounded_str(&out->items[i].ecu, f, it, "ecu", UPT_CORRELATION_ID_MAX);
		if (rc == UPT_OK)
			rc = install_result(&out->items[i].result, f, it, "result");
		for (size_t j = 0; rc == UPT_OK && j < i; j++)
			if (strcmp(out->items[j].ecu, out->items[i].ecu) == 0)
				rc = upt_field_error(f, UPT_ERR_FIELD_VALUE, "ecu listed twice");
		upt_path_pop(&f->path, m3);
		out->n_items = i + 1;
	}
	upt_path_pop(&f->path, mark2);
	upt_path_pop(&f->path, mark);
	return rc;
}

/* Whether two of the manifest's installation reports name one ECU. */
static bool ecu_twice(const struct upt_manifest *m, const char **ecu)
{
	size_t n = 1 + m->n_more_installations;
	for (size_t i = 0; i < n; i++) {
		const struct upt_installation_report *x =
		    i ? &m->more_installations[i - 1] : &m->installation;
		for (size_t j = 0; j < i; j++) {
			const struct upt_installation_report *y =
			    j ? &m->more_installations[j - 1] : &m->installation;
			for (size_t p = 0; p < x->n_items; p++)
				for (size_t q = 0; q < y->n_items; q++)
					if (strcmp(x->items[p].ecu, y->items[q].ecu) == 0) {
						*ecu = x->items[p].ecu;
						return true;
					}
		}
	}
	return false;
}

/* installation_report, and uptake's installation_reports beside it. */
static int installations_parse(struct upt_manifest *out, struct upt_fctx *f, struct upt_arena *a)
{
	const struct upt_json *ir, *more;
	const char *ecu = NULL;
	int rc = upt_field_get(&ir, f, out->doc.signed_json, "installation_report", UPT_JSON_OBJECT,
			       false);
	if (rc == UPT_OK && ir) {
		out->has_installation_report = true;
		rc = installation_parse(&out->installation, f, ir, "installation_report");
	}
	if (rc == UPT_OK)
		rc = upt_field_get(&more, f, out->doc.signed_json, "installation_reports",
				   UPT_JSON_ARRAY, false);
	if (rc != UPT_OK || !more)
		return rc;
	if (!ir)
		return upt_field_error(f, UPT_ERR_FIELD_MISSING,
				       "installation_reports: only beside installation_report");
	if (more->n == 0 || more->n > UPT_MANIFEST_MAX_ECUS)
		return upt_field_error(f, more->n ? UPT_ERR_TOO_LARGE : UPT_ERR_FIELD_VALUE,
				       "installation_reports: 1 to 256 reports");
	if (!(out->more_installations =
		  upt_arena_calloc(a, more->n, sizeof *out->more_installations)))
		return upt_field_error(f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < more->n; i++) {
		size_t mark = upt_path_push(&f->path, "installation_reports", 20);
		upt_path_push_index(&f->path, i);
		rc = installation_parse(&out->more_installations[i], f, more->items[i], "");
		upt_path_pop(&f->path, mark);
		out->n_more_installations = i + 1;
	}
	if (rc == UPT_OK && ecu_twice(out, &ecu))
		rc = upt_error_set(
		    f->err, UPT_ERR_FIELD_VALUE,
		    "manifest: installation_reports: ECU %.256s named by two reports", ecu);
	return rc;
}

int upt_manifest_parse(struct upt_manifest *out, struct upt_arena *a, const uint8_t *in, size_t len,
		       size_t max_len, struct upt_error *err)
{
	struct upt_json_limits lim = {0};
	struct upt_json *json;
	const struct upt_json *reports;
	struct upt_fctx f = {a, "manifest", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	int rc;
	memset(out, 0, sizeof *out);
	lim.max_input = max_len;
	if (max_len && len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "manifest: more than %zu bytes",
				     max_len);
	rc = upt_json_parse(&json, a, in, len, &lim, err);
	if (rc != UPT_OK) {
		upt_error_prefix(err, "manifest");
		return rc;
	}
	rc = upt_doc_from_json(&out->doc, a, json, "manifest", err);
	if (rc == UPT_OK)
		rc = upt_field_str(&out->primary_serial, &f, out->doc.signed_json,
				   "primary_ecu_serial", true);
	if (rc == UPT_OK)
		rc = upt_field_get(&reports, &f, out->doc.signed_json, "ecu_version_manifests",
				   UPT_JSON_OBJECT, true);
	if (rc == UPT_OK && reports->n > UPT_MANIFEST_MAX_ECUS)
		rc = upt_field_error(&f, UPT_ERR_TOO_LARGE, "ecu_version_manifests: too many");
	if (rc == UPT_OK && !(out->reports = upt_arena_calloc(a, reports->n ? reports->n : 1,
							      sizeof *out->reports)))
		rc = upt_field_error(&f, UPT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == UPT_OK && i < reports->n; i++) {
		const struct upt_json *r = reports->items[i];
		const char *key = upt_arena_strndup(a, r->key, r->key_len);
		size_t mark = upt_path_push(&f.path, "ecu_version_manifests", 21);
		upt_path_push(&f.path, r->key, r->key_len);
		rc = key ? report_parse(&out->reports[i], &f, r, key)
			 : upt_field_error(&f, UPT_ERR_NOMEM, "out of memory");
		upt_path_pop(&f.path, mark);
		out->n_reports = i + 1;
	}
	if (rc == UPT_OK)
		rc = installations_parse(out, &f, a);
	return rc;
}

int upt_ecu_report_parse(struct upt_ecu_report *out, struct upt_arena *a, const uint8_t *in,
			 size_t len, size_t max_len, const char *serial, struct upt_error *err)
{
	struct upt_json_limits lim = {0};
	struct upt_json *json;
	struct upt_fctx f = {a, "version report", err, {{0}, 0}, NULL, UPT_DIALECT_TUF};
	int rc;
	memset(out, 0, sizeof *out);
	if (!a || !in || !serial)
		return upt_error_set(err, UPT_ERR_ARG, "version report: missing argument");
	lim.max_input = max_len;
	if (max_len && len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "version report: more than %zu bytes",
				     max_len);
	rc = upt_json_parse(&json, a, in, len, &lim, err);
	if (rc != UPT_OK) {
		upt_error_prefix(err, "version report");
		return rc;
	}
	rc = report_parse(out, &f, json, serial);
	if (rc != UPT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

/* Signatures tried per document: the key id in a report is only a hint
 * (clients compute it differently); what counts is the registered key. */
#define SIGNED_BY_TRIES 4

int upt_doc_signed_by(const struct upt_doc *doc, const struct upt_key *key,
		      const struct upt_crypto *crypto, struct upt_error *err)
{
	if (!doc || !key || !crypto)
		return upt_error_set(err, UPT_ERR_ARG, "signed by: missing argument");
	for (size_t i = 0; i < doc->n_sigs && i < SIGNED_BY_TRIES; i++) {
		struct upt_key k = *key;
		const char *ids[1];
		struct upt_role_keys rk = {0};
		k.keyid = doc->sigs[i].keyid;
		ids[0] = k.keyid;
		rk.name = doc->name;
		rk.keyids = ids;
		rk.n_keyids = 1;
		rk.threshold = 1;
		if (upt_doc_verify(doc, &k, 1, &rk, crypto, NULL, NULL) == UPT_OK)
			return UPT_OK;
	}
	return upt_error_set(err, UPT_ERR_THRESHOLD, "%s: no valid signature by the registered key",
			     doc->name);
}
