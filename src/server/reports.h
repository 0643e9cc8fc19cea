/* uptake-server: fleet reports computed from signed evidence only (each
 * ECU's current verified state, the targets the Image repository
 * published, the update policy of verified manifests, each unit's
 * lifecycle): what runs where, whose support ends, which security releases
 * are missing, who opted out of automatic updates. */
#ifndef UPTAKE_SERVER_REPORTS_H
#define UPTAKE_SERVER_REPORTS_H

#include <stdint.h>
#include <uptake/common.h>

#include "jsonout.h"
#include "store.h"

/* The reports, each as a stream that a client is sent as it is written,
 * chunk by chunk, with memory bounded whatever the fleet's size (rows come
 * from a store cursor; only the published targets, products and campaigns
 * are held):
 *   inventory     per image hash and hardware id: how many ECUs and devices
 *                 run it, and whether the Image repository ever published
 *                 that hash for it;
 *   support       per device its product, dates and support status as of
 *                 day at_day ("ending" within `within` days); per product
 *                 its last obligation;
 *   patch-status  per security release, the ECUs of its hardware ids that
 *                 run neither it nor a higher release counter, once `days`
 *                 days have passed since it was published (as of `now`):
 *                 one pass counts, one per overdue release lists;
 *   opt-out       devices whose last verified manifest turned automatic
 *                 updates off, and since when.
 * JSON (one document), or with `csv` the rows as CSV (a header line, then
 * one line per device, image or lacking ECU). */
enum srv_report {
	SRV_REPORT_INVENTORY,
	SRV_REPORT_SUPPORT,
	SRV_REPORT_PATCH_STATUS,
	SRV_REPORT_OPT_OUT,
};

struct srv_report_args {
	int64_t now;    /* seconds since the epoch */
	int64_t at_day; /* support: days since the epoch */
	int64_t within; /* support: days */
	int64_t days;   /* patch-status: days */
	bool csv;
};

struct srv_report_stream;
int srv_report_open(struct srv_report_stream **out, struct srv_store *st, enum srv_report kind,
		    const struct srv_report_args *a, struct upt_error *err);
/* Append the next chunk (about 16 KiB) to `out`: 1 while more follows, 0
 * when the report is complete, or an error (what was sent is then not a
 * complete answer). */
int srv_report_next(struct srv_report_stream *r, struct srv_json *out, struct upt_error *err);
void srv_report_close(struct srv_report_stream *r); /* accepts NULL */
/* The whole report in memory (NUL-terminated, malloc'd). */
int srv_report(struct srv_store *st, enum srv_report kind, const struct srv_report_args *a,
	       char **resp, struct upt_error *err);

/* Per security release: how many ECUs of its hardware ids ran it or a
 * higher release counter over time, from the kept verified manifests
 * (the ECU reports the server accepted): a point at each change. */
int srv_report_adoption(struct srv_store *st, int64_t now, char **resp, struct upt_error *err);

/* Whether comma-separated `list` (hardware ids, tags) names `id`. */
bool srv_list_has(const char *list, const char *id);

#endif
