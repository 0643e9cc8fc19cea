/* uptake-server: update campaigns. A campaign rolls one target per
 * hardware id out to a set of devices (an explicit list, or a filter on
 * product, hardware id, installed image, support status and tags) in
 * stages; each stage starts the next once its success threshold is met
 * (after an optional soak time) and pauses the campaign at its error
 * threshold. Each ECU's state comes from its device's evidence, joined by
 * correlation id: events and installation reports are progress, and an
 * ECU succeeds only when its verified version report shows the assigned
 * image's hash (DESIGN.md section 6).
 *
 * Advancement runs in a store transaction holding the campaign's row
 * (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock), so that it
 * happens once even with several server processes on one database, and
 * picks up where it was after a restart. Pure request logic, no HTTP. */
#ifndef UPTAKE_SERVER_CAMPAIGNS_H
#define UPTAKE_SERVER_CAMPAIGNS_H

#include <stdbool.h>
#include <stdint.h>
#include <uptake/common.h>

#include "server.h"

#define SRV_CAMPAIGN_MAX_STAGES  16
#define SRV_CAMPAIGN_MAX_TARGETS 16
#define SRV_CAMPAIGN_MAX_DEVICES 200000
#define SRV_CAMPAIGN_MAX_SOAK    (30 * 86400)
/* Devices whose Director metadata is signed in one transaction. */
#define SRV_CAMPAIGN_PUBLISH_BATCH 200

/* The campaign clock: `now`, or, for tests only, the time (seconds since
 * the epoch) written in the file that the environment variable
 * UPTAKE_TEST_CLOCK_FILE names, read each time (so that a test can move
 * it). Campaign start times, soak times and maintenance windows use it. */
int64_t srv_campaign_clock(int64_t now);

/* POST /api/v1/campaigns: check everything, then add the campaign and its
 * ECUs in one step (all or nothing); answers the campaign as `show` does. */
int srv_campaign_create(struct srv_repo *image, struct srv_repo *director, const uint8_t *body,
			size_t len, int64_t now, char **resp, struct upt_error *err);
/* POST /api/v1/campaigns/{id}/{action}: start, pause, resume, stop (the
 * emergency stop), cancel, approve ({"stage": N}, default the current). */
int srv_campaign_action(struct srv_repo *director, const char *id, const char *action,
			const uint8_t *body, size_t len, int64_t now, char **resp,
			struct upt_error *err);
/* GET /api/v1/campaigns/{id}: per-stage progress (counts by state) and the
 * log; with `members`, every ECU and its state. */
int srv_campaign_show(struct srv_store *st, const char *id, bool members, char **resp,
		      struct upt_error *err);
int srv_campaign_list(struct srv_store *st, char **resp, struct upt_error *err);

/* A device's evidence changed (a verified manifest, events): its ECUs'
 * campaign states follow, then their campaigns are evaluated. Failures
 * are logged: evidence is never refused for a campaign's sake. */
void srv_campaign_device_changed(struct srv_repo *director, const char *device, int64_t now);
/* A device registered or changed its tags or lifecycle: it joins the
 * running campaigns that take new devices and whose filter it matches. */
void srv_campaign_device_joined(struct srv_repo *image, struct srv_repo *director,
				const char *device, int64_t now);
/* Evaluate every running campaign (start times, windows, soak times). */
void srv_campaign_tick(struct srv_repo *director, int64_t now);

/* The periodic evaluation: a thread. */
struct srv_campaigns;
int srv_campaigns_start(struct srv_campaigns **out, struct srv_repo *image,
			struct srv_repo *director, struct upt_error *err);
void srv_campaigns_stop(struct srv_campaigns *c);

#endif
