/* uptake: vehicle version manifests and ECU version reports (Uptane
 * 5.4.2.1), in the JSON form aktualizr sends with PUT /director/manifest:
 *
 *   {"signatures":[...], "signed":{"primary_ecu_serial": S,
 *     "ecu_version_manifests": {SERIAL: {"signatures":[...], "signed":{
 *       "ecu_serial": SERIAL,
 *       "installed_image": {"filepath": NAME,
 *                           "fileinfo": {"hashes": {...}, "length": N}},
 *       "attacks_detected": "", "report_counter": N, ...}}},
 *     "installation_report": {...}}}
 *
 * report_counter is an integer or, as aktualizr writes it, a string of
 * 1-19 decimal digits (no sign, space or leading zeros; within int64); it
 * may be absent (aktualizr-secondary writes none). installation_report
 * (optional) is aktualizr's, parsed strictly:
 *
 *   {"content_type": "application/vnd.com.here.otac.installationReport.v1",
 *    "report": {"correlation_id": S, "raw_report": S,
 *               "result": {"success": B, "code": S, "description": S},
 *               "items": [{"ecu": SERIAL, "result": {...}}, ...]}}
 *
 * installation_reports (optional, uptake's extension; only beside
 * installation_report) is an array of 1 to UPT_MANIFEST_MAX_ECUS further
 * reports of the same form, when several installs finished since the last
 * manifest (a primary's and its secondaries'). No ECU is named by two
 * reports of one manifest.
 *
 * Parsing checks the shape; upt_doc_signed_by() checks a signature by a
 * given ECU key. Unknown fields are covered by the signatures and ignored.
 */
#ifndef UPTAKE_MANIFEST_H
#define UPTAKE_MANIFEST_H

#include <uptake/metadata.h>

#ifdef __cplusplus
extern "C" {
#endif

struct upt_ecu_report {
	const char *ecu_serial;
	const char *filepath;
	int64_t length;
	struct upt_hashes hashes;
	const char *attacks_detected; /* "" when absent */
	bool has_report_counter;
	int64_t report_counter;
	struct upt_doc doc; /* the report's own signed envelope */
};

#define UPT_MANIFEST_MAX_ECUS        256
#define UPT_INSTALLATION_REPORT_TYPE "application/vnd.com.here.otac.installationReport.v1"
#define UPT_CORRELATION_ID_MAX       256
#define UPT_INSTALL_CODE_MAX         256
#define UPT_INSTALL_TEXT_MAX         8192

struct upt_install_result {
	bool success;
	const char *code;
	const char *description;
};

struct upt_install_item {
	const char *ecu;
	struct upt_install_result result;
};

struct upt_installation_report {
	const char *correlation_id;
	struct upt_install_result result;
	const char *raw_report;
	struct upt_install_item *items;
	size_t n_items;
};

struct upt_manifest {
	const char *primary_serial;
	struct upt_ecu_report *reports;
	size_t n_reports;
	bool has_installation_report;
	struct upt_installation_report installation;
	/* installation_reports: the further ones (n_more 0 without) */
	struct upt_installation_report *more_installations;
	size_t n_more_installations;
	struct upt_doc doc;
};

/* Parse a manifest of at most max_len bytes (0: the JSON default). Each
 * report's key in ecu_version_manifests must equal its ecu_serial. */
UPT_NODISCARD UPT_API int upt_manifest_parse(struct upt_manifest *out, struct upt_arena *a,
					     const uint8_t *in, size_t len, size_t max_len,
					     struct upt_error *err);

/* Parse one signed ECU version report of at most max_len bytes (0: the
 * JSON default) on its own, as a secondary hands it to its primary: the
 * same checks as a report in a manifest, its ecu_serial equal to `serial`.
 * The JSON tree stays in `a` (out->doc.json): a primary puts it into its
 * manifest as it is. */
UPT_NODISCARD UPT_API int upt_ecu_report_parse(struct upt_ecu_report *out, struct upt_arena *a,
					       const uint8_t *in, size_t len, size_t max_len,
					       const char *serial, struct upt_error *err);

/* UPT_OK when one of the first signatures of `doc` verifies with `key`
 * (the key id a client wrote is a hint only: key ids are computed
 * differently by different clients; the registered key is what counts). */
UPT_NODISCARD UPT_API int upt_doc_signed_by(const struct upt_doc *doc, const struct upt_key *key,
					    const struct upt_crypto *crypto, struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
