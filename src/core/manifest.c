/* uptake: vehicle version manifests and ECU version reports. */
#include <string.h>
#include <uptake/json.h>
#include <uptake/manifest.h>

#include "fields.h"

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
		rc = upt_field_int(&r->report_counter, f, s, "report_counter", 0, false,
				   &r->has_report_counter);
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
