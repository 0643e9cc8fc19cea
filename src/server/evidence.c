/* uptake-server: alerts judged from what a verified manifest proves an ECU
 * runs (see evidence.h). */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/arena.h>
#include <uptake/json.h>

#include "alerts.h"
#include "reports.h"

/* The all-zero hash (or none): an ECU with no image. */
static bool no_image(const char *sha256)
{
	if (!*sha256)
		return true;
	for (; *sha256; sha256++)
		if (*sha256 != '0')
			return false;
	return true;
}

/* The target the Image repository published with this hash for this
 * hardware id (a target without hardware ids is for any), or NULL. */
static const struct srv_published *published_for(const struct srv_published *p, size_t n,
						 const char *sha256, const char *hwid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].sha256, sha256) == 0 &&
		    (!p[i].hardware_ids[0] || srv_list_has(p[i].hardware_ids, hwid)))
			return &p[i];
	return NULL;
}

/* `now` is an older release than `before`: a lower release counter when
 * both have one, else published earlier. */
static bool older(const struct srv_published *now, const struct srv_published *before)
{
	if (now->release_counter >= 0 && before->release_counter >= 0)
		return now->release_counter < before->release_counter;
	if (now->release_counter >= 0 || before->release_counter >= 0)
		return false; /* not comparable */
	return now->published < before->published;
}

/* The device's kept event uploads say an install under `cid` on `ecu`
 * failed (aktualizr's EcuInstallationCompleted with success false). */
static bool events_failed(char **bodies, size_t n, const char *cid, const char *ecu)
{
	bool failed = false;
	for (size_t i = 0; !failed && i < n; i++) {
		size_t len = strlen(bodies[i]), cap = 32 * len + 4096;
		void *mem = malloc(cap);
		struct upt_arena a;
		struct upt_json *v;
		if (!mem)
			break;
		upt_arena_init(&a, mem, cap);
		if (upt_json_parse(&v, &a, (const uint8_t *)bodies[i], len, NULL, NULL) == UPT_OK &&
		    v->type == UPT_JSON_ARRAY)
			for (size_t k = 0; !failed && k < v->n; k++) {
				const struct upt_json *ev = upt_json_get(v->items[k], "event"),
						      *type =
							  upt_json_get(v->items[k], "eventType"),
						      *c = upt_json_get(ev, "correlationId"),
						      *e = upt_json_get(ev, "ecu"),
						      *ok = upt_json_get(ev, "success"),
						      *id = upt_json_get(type, "id");
				failed =
				    c && c->type == UPT_JSON_STRING && strcmp(c->str, cid) == 0 &&
				    (!e ||
				     (e->type == UPT_JSON_STRING && strcmp(e->str, ecu) == 0)) &&
				    id && id->type == UPT_JSON_STRING &&
				    strcmp(id->str, "EcuInstallationCompleted") == 0 && ok &&
				    ok->type == UPT_JSON_FALSE;
			}
		free(mem);
	}
	return failed;
}

/* The manifest's installation report says the install under `cid` did
 * not succeed on `ecu` (its item for the ECU failed, or the whole). */
static bool one_failed(const struct upt_installation_report *ir, const char *cid, const char *ecu)
{
	if (!ir || !ir->correlation_id || strcmp(ir->correlation_id, cid) != 0)
		return false;
	for (size_t i = 0; i < ir->n_items; i++)
		if (ir->items[i].ecu && strcmp(ir->items[i].ecu, ecu) == 0)
			return !ir->items[i].result.success;
	/* a report with items speaks for the ECUs it names only */
	return ir->n_items == 0 && !ir->result.success;
}

size_t srv_installations(const struct upt_manifest *m)
{
	return m->has_installation_report ? 1 + m->n_more_installations : 0;
}

const struct upt_installation_report *srv_installation(const struct upt_manifest *m, size_t k)
{
	return k ? &m->more_installations[k - 1] : &m->installation;
}

/* One of the manifest's installation reports says so. */
static bool report_failed(const struct upt_manifest *m, const char *cid, const char *ecu)
{
	for (size_t k = 0; m && k < srv_installations(m); k++)
		if (one_failed(srv_installation(m, k), cid, ecu))
			return true;
	return false;
}

/* A rollback alert for this assignment exists already (open or not):
 * one attempt is one alert, however many reports prove it again. */
static bool rollback_known(struct srv_store *st, const char *device, const char *ecu,
			   const char *cid)
{
	struct srv_alert_filter f = {"rollback", device, 0, false, 0};
	struct srv_alert *a = NULL;
	size_t n = 0;
	bool known = false;
	char tag[96];
	snprintf(tag, sizeof tag, "assignment %s", cid);
	if (st->ops->alert_list(st, &f, &a, &n, NULL) != UPT_OK)
		return true; /* not judged without the store: no duplicate */
	for (size_t i = 0; i < n && !known; i++)
		known = strcmp(a[i].ecu, ecu) == 0 && strstr(a[i].evidence, tag) != NULL;
	free(a);
	return known;
}

void srv_evidence_alerts(struct srv_store *st, const char *device, const struct srv_proved *p,
			 size_t n, const struct upt_manifest *m, const char *manifest)
{
	struct srv_published *pub = NULL;
	struct srv_assignment *as = NULL;
	char **events = NULL;
	size_t npub = 0, nas = 0, nev = 0;
	bool have_events = false, changed = false;
	if (n == 0)
		return;
	/* the releases matter only to an ECU whose image changed (unknown
	 * software, downgrade): most manifests repeat what was there */
	for (size_t i = 0; i < n; i++)
		changed |= strcmp(p[i].sha256, p[i].before) != 0;
	if ((changed && st->ops->published_list(st, &pub, &npub, NULL) != UPT_OK) ||
	    st->ops->assign_list(st, device, &as, &nas, NULL) != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "device %s: evidence not judged: the store failed", device);
		free(pub);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct srv_proved *e = &p[i];
		const struct srv_published *now = NULL, *before = NULL;
		char msg[512], ev[256];
		bool rolled_back = false, asked = false, empty = no_image(e->sha256);
		if (!empty)
			now = published_for(pub, npub, e->sha256, e->hardware_id);
		if (e->before[0] && !no_image(e->before))
			before = published_for(pub, npub, e->before, e->hardware_id);
		/* unknown-software: a hash never published for this hardware
		 * (raised when the ECU's report turns to it) */
		if (!empty && !now && strcmp(e->sha256, e->before) != 0) {
			snprintf(msg, sizeof msg,
				 "ECU runs %.150s (sha256 %s), which the Image repository never "
				 "published for hardware %.127s",
				 e->name, e->sha256, e->hardware_id);
			snprintf(ev, sizeof ev, "%s; runs sha256:%s", manifest, e->sha256);
			srv_alert(st, device, e->serial, "unknown-software", msg, ev);
		}
		/* rollback: an assigned image was attempted and failed, and the
		 * ECU proves it runs the image it ran before (or still none) */
		for (size_t k = 0; k < nas; k++) {
			const struct srv_assignment *a = &as[k];
			bool failed;
			if (strcmp(a->ecu_serial, e->serial) != 0)
				continue;
			if (strcmp(a->sha256, e->sha256) == 0) {
				asked = true;
				continue;
			}
			if (!a->correlation_id[0] || (strcmp(e->before, e->sha256) != 0 &&
						      strcmp(e->before, a->sha256) != 0))
				continue;
			failed = report_failed(m, a->correlation_id, e->serial);
			if (!failed) {
				if (!have_events) {
					have_events = true;
					if (st->ops->info_list(st, device, "events", &events, &nev,
							       NULL) != UPT_OK)
						nev = 0;
				}
				failed = events_failed(events, nev, a->correlation_id, e->serial);
			}
			if (!failed || rollback_known(st, device, e->serial, a->correlation_id))
				continue;
			if (strlen(e->sha256) == 64 && strspn(e->sha256, "0") == 64)
				snprintf(msg, sizeof msg,
					 "the install of %.150s (sha256 %s) failed and the ECU "
					 "still runs no image",
					 a->target, a->sha256);
			else
				snprintf(
				    msg, sizeof msg,
				    "the install of %.150s (sha256 %s) failed and the ECU runs "
				    "%.150s (sha256 %s) again",
				    a->target, a->sha256, e->name, e->sha256);
			snprintf(ev, sizeof ev, "%s; runs sha256:%s; assignment %s", manifest,
				 e->sha256, a->correlation_id);
			srv_alert(st, device, e->serial, "rollback", msg, ev);
			rolled_back = true;
		}
		/* downgrade: an older release than the ECU's previous report,
		 * that no assignment asked for */
		if (now && before && !asked && !rolled_back && strcmp(e->sha256, e->before) != 0 &&
		    older(now, before)) {
			if (now->release_counter >= 0)
				snprintf(
				    msg, sizeof msg,
				    "ECU went from %.150s (release %lld) to %.150s (release %lld), "
				    "which no assignment asked for",
				    before->name, (long long)before->release_counter, now->name,
				    (long long)now->release_counter);
			else
				snprintf(
				    msg, sizeof msg,
				    "ECU went from %.150s to the older %.150s, which no assignment "
				    "asked for",
				    before->name, now->name);
			snprintf(ev, sizeof ev, "%s; runs sha256:%s; before sha256:%s", manifest,
				 e->sha256, e->before);
			srv_alert(st, device, e->serial, "downgrade", msg, ev);
		}
	}
	srv_blobs_free(events, nev);
	free(pub);
	free(as);
}
