/* uptake-server: fleet reports computed from signed evidence only (each
 * ECU's current verified state, the targets the Image repository
 * published, the update policy of verified manifests): what runs where,
 * which security releases are missing, who opted out of automatic updates.
 * Each is one pass over the rows, with hash lookups. */
#ifndef UPTAKE_SERVER_REPORTS_H
#define UPTAKE_SERVER_REPORTS_H

#include <stdint.h>
#include <uptake/common.h>

#include "store.h"

/* Per image hash and hardware id: how many ECUs and devices run it, and
 * whether the Image repository ever published that hash for it. */
int srv_report_inventory(struct srv_store *st, char **resp, struct upt_error *err);
/* Per security release: the ECUs of its hardware ids that run neither it
 * nor a higher release counter, once `days` days have passed since it was
 * published (as of `now`, seconds since the epoch). */
int srv_report_patch_status(struct srv_store *st, int64_t now, int64_t days, char **resp,
			    struct upt_error *err);
/* Per security release: how many ECUs of its hardware ids ran it or a
 * higher release counter over time, from the kept verified manifests
 * (the ECU reports the server accepted): a point at each change. */
int srv_report_adoption(struct srv_store *st, int64_t now, char **resp, struct upt_error *err);
/* Devices whose last verified manifest turned automatic updates off, and
 * since when. */
int srv_report_opt_out(struct srv_store *st, char **resp, struct upt_error *err);

/* Whether comma-separated `list` (hardware ids, tags) names `id`. */
bool srv_list_has(const char *list, const char *id);

#endif
