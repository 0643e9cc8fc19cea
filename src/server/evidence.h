/* uptake-server: alerts raised from what a verified manifest proves each
 * ECU runs, against what the Image repository published and what the
 * Director assigned:
 *   unknown-software  the ECU's report turned to a hash the Image
 *                     repository never published for its hardware id;
 *   downgrade         a published image of an older release (a lower
 *                     release counter, else published earlier) than the
 *                     ECU's previous report, with no assignment for it;
 *   rollback          an assignment's install failed by the device's signed
 *                     installation report (or its events, joined by the
 *                     correlation id) and the ECU proves the image it ran
 *                     before; one alert per assignment.
 * Each alert's evidence names the manifest (its sha256) and the hashes. */
#ifndef UPTAKE_SERVER_EVIDENCE_H
#define UPTAKE_SERVER_EVIDENCE_H

#include <uptake/manifest.h>

#include "server.h"

/* One ECU's verified report that changed or confirmed its state. */
struct srv_proved {
	const char *serial, *hardware_id;
	const char *name;   /* the report's filepath */
	const char *sha256; /* what it runs now */
	const char *before; /* what its previous verified report said ("" none) */
};

/* `manifest` is the manifest's evidence ("manifest sha256:HEX"); `m` the
 * verified manifest, for its installation reports (NULL: none). Failures
 * are logged, never fatal. */
void srv_evidence_alerts(struct srv_store *st, const char *device, const struct srv_proved *p,
			 size_t n, const struct upt_manifest *m, const char *manifest);

/* How many installation reports a parsed manifest carries (its
 * installation_report, then each of installation_reports), and report k. */
size_t srv_installations(const struct upt_manifest *m);
const struct upt_installation_report *srv_installation(const struct upt_manifest *m, size_t k);

#endif
