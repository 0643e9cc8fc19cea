/* uptake: vehicle version manifests and ECU version reports (Uptane
 * 5.4.2.1), in the JSON form aktualizr sends with PUT /director/manifest:
 *
 *   {"signatures":[...], "signed":{"primary_ecu_serial": S,
 *     "ecu_version_manifests": {SERIAL: {"signatures":[...], "signed":{
 *       "ecu_serial": SERIAL,
 *       "installed_image": {"filepath": NAME,
 *                           "fileinfo": {"hashes": {...}, "length": N}},
 *       "attacks_detected": "", "report_counter": N, ...}}}}}
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

struct upt_manifest {
	const char *primary_serial;
	struct upt_ecu_report *reports;
	size_t n_reports;
	struct upt_doc doc;
};

#define UPT_MANIFEST_MAX_ECUS 256

/* Parse a manifest of at most max_len bytes (0: the JSON default). Each
 * report's key in ecu_version_manifests must equal its ecu_serial. */
UPT_NODISCARD UPT_API int upt_manifest_parse(struct upt_manifest *out, struct upt_arena *a,
					     const uint8_t *in, size_t len, size_t max_len,
					     struct upt_error *err);

/* UPT_OK when one of the first signatures of `doc` verifies with `key`
 * (the key id a client wrote is a hint only: key ids are computed
 * differently by different clients; the registered key is what counts). */
UPT_NODISCARD UPT_API int upt_doc_signed_by(const struct upt_doc *doc, const struct upt_key *key,
					    const struct upt_crypto *crypto, struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
