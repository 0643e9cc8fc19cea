/* uptake-server: alerts from evidence, and their delivery. */
#define _GNU_SOURCE
#include "alerts.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/encode.h>

#include "jsonout.h"

void srv_alert(struct srv_store *st, const char *device, const char *ecu, const char *kind,
	       const char *message, const char *evidence)
{
	struct srv_alert a = {0};
	struct upt_error err = {0};
	bool folded = false;
	int64_t id = 0;
	snprintf(a.device, sizeof a.device, "%s", device);
	snprintf(a.ecu, sizeof a.ecu, "%s", ecu ? ecu : "");
	snprintf(a.kind, sizeof a.kind, "%s", kind);
	snprintf(a.message, sizeof a.message, "%s", message ? message : "");
	snprintf(a.evidence, sizeof a.evidence, "%s", evidence ? evidence : "");
	if (st->ops->alert_raise(st, &a, (int64_t)time(NULL), &id, &folded, &err) != UPT_OK)
		srv_log(SRV_LOG_ERROR, "device %s: alert %s not recorded: %s", device, kind,
			err.msg);
	else if (!folded)
		srv_log(SRV_LOG_WARN, "alert %lld: %s, device %s%s%s: %s", (long long)id, kind,
			device, a.ecu[0] ? " ECU " : "", a.ecu, a.message);
}

static void put_alert(struct srv_json *o, const struct srv_alert *a)
{
	srv_json_raw(o, "{\"id\":%lld,\"kind\":", (long long)a->id);
	srv_json_str(o, a->kind);
	srv_json_raw(o, ",\"device\":");
	srv_json_str(o, a->device);
	srv_json_raw(o, ",\"ecu\":");
	srv_json_str(o, a->ecu);
	srv_json_raw(o, ",\"message\":");
	srv_json_str(o, a->message);
	srv_json_raw(o, ",\"evidence\":");
	srv_json_str(o, a->evidence);
	srv_json_raw(o, ",\"first_seen\":%lld,\"last_seen\":%lld,\"count\":%lld,\"open\":%s",
		     (long long)a->first_seen, (long long)a->last_seen, (long long)a->count,
		     a->acked_at ? "false" : "true");
	if (a->acked_at) {
		srv_json_raw(o, ",\"acknowledged_by\":");
		srv_json_str(o, a->acked_by);
		srv_json_raw(o, ",\"acknowledged_at\":%lld", (long long)a->acked_at);
	}
	srv_json_raw(o, "}");
}

static int number(const char *s, const char *what, int64_t max, int64_t *out, struct upt_error *err)
{
	char *end;
	long long v;
	if (!s)
		return UPT_OK;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0 || v > max)
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: a number from 0 to %lld", what,
				     (long long)max);
	*out = v;
	return UPT_OK;
}

struct srv_alerts_stream {
	struct srv_store *st;
	struct srv_cursor *cur;
	bool jsonl, started;
	size_t n;
};

int srv_alerts_stream_open(struct srv_alerts_stream **out, struct srv_store *st, const char *kind,
			   const char *device, const char *since, const char *open,
			   const char *limit, bool jsonl, struct upt_error *err)
{
	struct srv_alert_filter f = {kind, device, 0, false, 0};
	struct srv_alerts_stream *a;
	int64_t lim = 0;
	int rc = number(since, "since", INT64_MAX / 2, &f.since, err);
	*out = NULL;
	if (rc == UPT_OK)
		rc = number(limit, "limit", 1000000, &lim, err);
	if (rc == UPT_OK && open && strcmp(open, "1") && strcmp(open, "0") &&
	    strcmp(open, "true") && strcmp(open, "false"))
		rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "open: 1 or 0");
	if (rc != UPT_OK)
		return rc;
	f.open_only = open && (!strcmp(open, "1") || !strcmp(open, "true"));
	f.limit = (size_t)lim;
	if (!(a = calloc(1, sizeof *a)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	a->st = st;
	a->jsonl = jsonl;
	rc = st->ops->cursor_open(st, SRV_SCAN_ALERTS, &f, &a->cur, err);
	if (rc != UPT_OK) {
		free(a);
		return rc;
	}
	*out = a;
	return UPT_OK;
}

int srv_alerts_stream_next(struct srv_alerts_stream *a, struct srv_json *o, struct upt_error *err)
{
	struct srv_alert x;
	int rc = 1;
	if (!a->started && !a->jsonl)
		srv_json_raw(o, "{\"alerts\":[");
	a->started = true;
	while (o->len < (16u << 10) && (rc = a->st->ops->cursor_next(a->cur, &x, err)) == 1) {
		srv_json_raw(o, "%s", a->n++ && !a->jsonl ? "," : "");
		put_alert(o, &x);
		if (a->jsonl)
			srv_json_raw(o, "\n");
	}
	if (rc == 0 && !a->jsonl)
		srv_json_raw(o, "]}\n");
	if (rc >= 0 && o->rc != UPT_OK)
		rc = upt_error_set(err, o->rc, "alerts: out of memory");
	return rc;
}

void srv_alerts_stream_close(struct srv_alerts_stream *a)
{
	if (!a)
		return;
	a->st->ops->cursor_close(a->cur);
	free(a);
}

int srv_admin_alert_ack(struct srv_store *st, const char *id, const char *by, int64_t now,
			char **resp, struct upt_error *err)
{
	struct srv_alert a;
	struct srv_json o = {0};
	int64_t n = 0;
	int rc = number(id, "alert id", INT64_MAX / 2, &n, err);
	if (rc == UPT_OK)
		rc = st->ops->alert_ack(st, n, by, now, err);
	if (rc == UPT_OK)
		rc = st->ops->alert_get(st, n, &a, err);
	if (rc == UPT_OK) {
		put_alert(&o, &a);
		srv_json_raw(&o, "\n");
		rc = srv_json_finish(&o, resp, err);
		srv_log(SRV_LOG_INFO, "alert %lld acknowledged by %s", (long long)n, by);
	}
	return rc;
}

/* ---- delivery ------------------------------------------------------------ */

struct srv_alerts {
	struct srv_store *st;
	const struct srv_config *cfg;
	pthread_t thread;
	volatile bool stopping;
};

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

/* POST one alert; true when the receiver answered 2xx. */
static bool deliver(const struct srv_config *cfg, const char *url, const struct srv_alert *a)
{
	struct srv_json o = {0};
	struct upt_error err = {0};
	struct curl_slist *h = NULL;
	unsigned char mac[32];
	char sig[100], hex[65], idh[64], *body = NULL;
	size_t maclen = 0;
	long status = 0;
	bool ok = false;
	CURL *c;
	put_alert(&o, a);
	if (srv_json_finish(&o, &body, &err) != UPT_OK)
		return false;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, cfg->alert_webhook_secret,
		       strlen(cfg->alert_webhook_secret), (const unsigned char *)body, strlen(body),
		       mac, sizeof mac, &maclen) ||
	    maclen != sizeof mac || !(c = curl_easy_init())) {
		free(body);
		return false;
	}
	upt_hex_encode(hex, mac, sizeof mac);
	snprintf(sig, sizeof sig, "X-Uptake-Signature: sha256=%s", hex);
	snprintf(idh, sizeof idh, "X-Uptake-Alert: %lld", (long long)a->id);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, sig);
	h = curl_slist_append(h, idh);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
		ok = status >= 200 && status < 300;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(body);
	return ok;
}

static void deliver_due(struct srv_alerts *w)
{
	struct srv_delivery *d = NULL;
	struct upt_error err = {0};
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;
	if (w->st->ops->outbox_claim(w->st, now, 60, 16, &d, &n, &err) != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "alert delivery: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < n && !w->stopping; i++) {
		struct srv_alert a;
		int64_t wait = 1ll << (d[i].attempts < 8 ? d[i].attempts : 8); /* to 256 s */
		if (w->st->ops->alert_get(w->st, d[i].alert_id, &a, NULL) != UPT_OK) {
			w->st->ops->outbox_done(w->st, d[i].alert_id, d[i].url, NULL); /* pruned */
			continue;
		}
		if (deliver(w->cfg, d[i].url, &a)) {
			w->st->ops->outbox_done(w->st, d[i].alert_id, d[i].url, NULL);
			srv_log(SRV_LOG_INFO, "alert %lld delivered to %s", (long long)a.id,
				d[i].url);
		} else {
			w->st->ops->outbox_retry(w->st, d[i].alert_id, d[i].url, now + wait, NULL);
			srv_log(SRV_LOG_WARN,
				"alert %lld: %s did not take it (attempt %lld), again "
				"in %lld s",
				(long long)a.id, d[i].url, (long long)d[i].attempts + 1,
				(long long)wait);
		}
	}
	free(d);
}

/* Devices whose last verified manifest is older than silent_after. */
static void check_silent(struct srv_alerts *w)
{
	struct srv_device *d = NULL;
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);
	if (w->st->ops->device_list(w->st, &d, &n, NULL) != UPT_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		struct srv_alert_filter f = {"silent", d[i].id, 0, true, 1};
		struct srv_alert *open = NULL;
		size_t k = 0;
		char msg[128];
		if (!d[i].last_manifest || now - d[i].last_manifest <= w->cfg->silent_after)
			continue;
		if (w->st->ops->alert_list(w->st, &f, &open, &k, NULL) == UPT_OK && k == 0) {
			snprintf(msg, sizeof msg, "no verified manifest for %lld s",
				 (long long)(now - d[i].last_manifest));
			srv_alert(w->st, d[i].id, "", "silent", msg, "");
		}
		free(open);
	}
	free(d);
}

static void *worker(void *arg)
{
	struct srv_alerts *w = arg;
	for (unsigned tick = 0; !w->stopping; tick++) {
		if (w->st->policy.n_webhooks)
			deliver_due(w);
		if (w->cfg->silent_after > 0 && tick % 10 == 0)
			check_silent(w);
		usleep(500000);
	}
	return NULL;
}

int srv_alerts_start(struct srv_alerts **out, struct srv_store *st, const struct srv_config *cfg,
		     struct upt_error *err)
{
	struct srv_alerts *w = calloc(1, sizeof *w);
	if (!w)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	w->st = st;
	w->cfg = cfg;
	if (pthread_create(&w->thread, NULL, worker, w) != 0) {
		free(w);
		return upt_error_set(err, UPT_ERR_IO, "cannot start the alert worker");
	}
	*out = w;
	return UPT_OK;
}

void srv_alerts_stop(struct srv_alerts *w)
{
	if (!w)
		return;
	w->stopping = true;
	pthread_join(w->thread, NULL);
	free(w);
}
