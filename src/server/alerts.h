/* uptake-server: alerts raised from evidence, their views, and their
 * delivery to webhooks from a persistent outbox (an HMAC-SHA256 signature
 * over each body, retried with back-off until the receiver takes it). */
#ifndef UPTAKE_SERVER_ALERTS_H
#define UPTAKE_SERVER_ALERTS_H

#include "server.h"

/* Raise (or fold into the open one) an alert of `kind` for a device and
 * one of its ECUs ("" for the device itself); evidence names what shows
 * it (a manifest's sha256, a report's image hash). Failures are logged:
 * an alert never makes a request fail. */
void srv_alert(struct srv_store *st, const char *device, const char *ecu, const char *kind,
	       const char *message, const char *evidence);

/* GET /api/v1/alerts: ?kind=K&device=D&since=UNIX&open=1&limit=N; as one
 * JSON object, or JSON lines (one alert a line) with `jsonl`; streamed
 * from a store cursor, a chunk (about 16 KiB) per call of next(): 1 while
 * more follows, 0 at the end, or an error. */
struct srv_json;
struct srv_alerts_stream;
int srv_alerts_stream_open(struct srv_alerts_stream **out, struct srv_store *st, const char *kind,
			   const char *device, const char *since, const char *open,
			   const char *limit, bool jsonl, struct upt_error *err);
int srv_alerts_stream_next(struct srv_alerts_stream *a, struct srv_json *o, struct upt_error *err);
void srv_alerts_stream_close(struct srv_alerts_stream *a); /* accepts NULL */
int srv_admin_alert_ack(struct srv_store *st, const char *id, const char *by, int64_t now,
			char **resp, struct upt_error *err);

/* The delivery worker (and the check for silent devices): a thread. */
struct srv_alerts;
int srv_alerts_start(struct srv_alerts **out, struct srv_store *st, const struct srv_config *cfg,
		     struct upt_error *err);
void srv_alerts_stop(struct srv_alerts *a);

#endif
