/* uptake-server: the storage interface. Every backend (SQLite now,
 * PostgreSQL next) implements these operations; nothing outside a backend
 * sees SQL or a backend's types. Writes of device data apply
 * `policy` (what is kept of each device) in the same step. Each call is atomic on its own; a
 * sequence of calls that must be atomic runs between begin and commit.
 * Errors are upt_err codes with a message in `err`. */
#ifndef UPTAKE_SERVER_STORE_H
#define UPTAKE_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uptake/common.h>

struct srv_store;

#define SRV_MAX_WEBHOOKS 4

/* One stored metadata file of a repository. `repo` is "image" or a
 * Director repository's name; `role` a top-level or delegated role. */
struct srv_meta {
	int64_t version;
	int64_t expires; /* seconds since the epoch */
	uint8_t *data;   /* malloc'd */
	size_t len;
};

/* One image: content-addressed file in the data directory. */
struct srv_image {
	char name[512];
	int64_t length;
	char sha256[65];
	char sha512[129];
};

/* An online signing key of a repository role (PKCS#8 PEM, malloc'd). */
struct srv_key {
	char keyid[65];
	char *pem;
};

/* A device's ECU as registered, with what its last verified report said. */
struct srv_ecu {
	char serial[128];
	char hardware_id[128];
	char keyid[65];
	char public_key[2048]; /* the key object, JSON text */
	bool primary;
	char installed[512]; /* target name, "" when nothing reported */
	int64_t installed_length;
	char installed_sha256[65];
	int64_t report_counter; /* last accepted; -1 before the first */
	int64_t reported_at;    /* when the installed state last changed */
	/* how its last report was judged: "fresh" (counter raised), "cached"
	 * (the last accepted report again), "no_counter" (new content without
	 * a counter); "" before the first */
	char report_status[16];
	char report_digest[65]; /* sha256 of the last accepted report's signed part */
	int64_t seen_at;        /* last report of any status */
};

/* An image assigned to an ECU (copied from the Image repository). */
struct srv_assignment {
	char ecu_serial[128];
	char hardware_id[128];
	char target[512];
	int64_t length;
	char sha256[65];
	char sha512[129];
	int64_t release_counter; /* -1: none */
	char correlation_id[64]; /* one per assignment request and device */
	int64_t created;
	bool download_only; /* signed as custom.uptake.download_only: fetch, do not install */
};

/* A primary's signed statement of how an install went (aktualizr's
 * installation_report), as a JSON object text (malloc'd). */
struct srv_install_report {
	int64_t at;
	char correlation_id[257];
	bool success;
	char *report;
};

/* What the store keeps of each device, and how large a device's uploads may
 * be: set by the server from its configuration before serving. */
struct srv_policy {
	int64_t report_history;        /* newest N of each device report kind */
	int64_t manifest_history;      /* newest N manifests per device (and ECU
					* reports per ECU, installation reports) */
	int64_t manifest_max_age;      /* seconds; 0: no age limit (the newest stays) */
	int64_t alert_history;         /* newest N alerts per device */
	size_t manifest_base_bytes;    /* a manifest may be this ... */
	size_t manifest_bytes_per_ecu; /* ... plus this per registered ECU */
	size_t report_max_bytes;       /* one system_info, events, ... upload */
	/* where each new alert is delivered (an outbox row per URL) */
	char webhooks[SRV_MAX_WEBHOOKS][512];
	size_t n_webhooks;
};

#define SRV_POLICY_DEFAULT                                                            \
	{                                                                             \
		.report_history = 20, .manifest_history = 200, .manifest_max_age = 0, \
		.alert_history = 1000, .manifest_base_bytes = 16384,                  \
		.manifest_bytes_per_ecu = 16384, .report_max_bytes = 65536,           \
	}

/* Whether a history that grows with a report counter (an ECU's reports,
 * by its counter; a device's manifests, by its primary's) is cut back to
 * the newest manifest_history now that the counter rose from `before` to
 * `after` (both non-negative, as parsed): when it passes a multiple of the
 * step, so that a prune deletes a step's rows at once instead of one row
 * with every manifest. A history holds at most manifest_history + step - 1
 * rows. The step is an eighth of the history, 1 to 16. */
static inline bool srv_prune_due(const struct srv_policy *p, int64_t before, int64_t after)
{
	int64_t step = p->manifest_history / 8;
	step = step < 1 ? 1 : step > 16 ? 16 : step;
	return before / step != after / step;
}

/* Whether `serial` is in a manifest's list of accepted ECUs (serials,
 * each followed by a newline; a registered serial holds none). */
static inline bool srv_accepted_has(const char *accepted, const char *serial)
{
	size_t n = strlen(serial);
	for (const char *p = accepted; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return false;
		if ((size_t)(nl - p) == n && memcmp(p, serial, n) == 0)
			return true;
		p = nl + 1;
	}
	return false;
}

/* An alert: something a device's evidence shows that it should not (a
 * refused manifest, an attack its ECU reports...). Repeats of the same kind
 * for the same device and ECU fold into one open alert. */
struct srv_alert {
	int64_t id;
	char device[128], ecu[128], kind[32];
	char message[512];
	char evidence[256]; /* what shows it: a manifest's sha256, a report's hashes */
	int64_t first_seen, last_seen, count;
	char acked_by[128];
	int64_t acked_at; /* 0: open */
};

struct srv_alert_filter {
	const char *kind, *device; /* NULL: any */
	int64_t since;             /* last seen at or after; 0: any */
	bool open_only;
	size_t limit; /* 0: no limit */
};

/* A webhook delivery due for an alert. */
struct srv_delivery {
	int64_t alert_id;
	char url[512];
	int64_t attempts;
};

struct srv_device {
	char id[128];
	int64_t created;
	int64_t last_manifest;     /* 0: never */
	bool auto_update;          /* as the last verified manifest says (CRA opt-out) */
	int64_t auto_update_since; /* when a verified manifest first said so; 0: never */
	size_t n_ecus;
	/* CRA lifecycle ("" when not set): dates are YYYY-MM-DD (UTC);
	 * support_end is a per-unit end later than the product's default */
	char product[128];
	char manufactured[11], placed_on_market[11], support_end[11];
	char tags[512];     /* comma-separated; "" when none */
	int64_t utc_offset; /* minutes east of UTC of the device's local time */
};

/* A product: what the CRA's support period is set for (years, at least 5). */
struct srv_product {
	char name[128];
	char hardware_ids[1024]; /* comma-separated */
	int64_t support_years;
	char contact[256]; /* vulnerability contact (mail or URL) */
	int64_t created;
	bool security_fast_path; /* its security campaigns may skip soaks and windows */
};

/* A target the Image repository published: recorded once per name and
 * hash when its targets metadata is accepted, never forgotten. */
struct srv_published {
	char name[512];
	char sha256[65];
	int64_t length;
	char hardware_ids[1024]; /* comma-separated (custom.hardwareIds) */
	int64_t release_counter; /* -1: none */
	bool security;           /* custom.security: a security update */
	int64_t published;       /* when first accepted */
	char sbom_sha256[65];    /* custom.sbom.sha256 (signed with the target); "" when none */
};

/* An SBOM: stored once per content (its sha256), as uploaded. */
struct srv_sbom {
	char sha256[65];
	char sha512[129];
	char format[24]; /* "cyclonedx-1.6", "spdx-2.3" */
	int64_t created;
	uint8_t *data; /* malloc'd */
	size_t len;
};

/* A VEX statement (from a CSAF 2.0 VEX document): about vulnerability
 * `vuln` (an id or an alias) and `product`, a published target's name or
 * a component's purl; status "known_not_affected" (with a justification)
 * or "fixed". */
struct srv_vex {
	char vuln[128];
	char product[512];
	char status[24];
	char justification[64];
	char document[128]; /* the CSAF document's tracking id */
	int64_t imported;
};

/* A vulnerability record (OSV), normalized by vulns.c into uptake's own
 * JSON (`record`, malloc'd); exploited_at: when the manufacturer became
 * aware that it is actively exploited (0: not known to be). */
struct srv_vuln {
	char id[128];
	char modified[40];
	bool withdrawn;
	int64_t imported;
	int64_t exploited_at;
	/* CRA Art. 14 reports made: early warning, notification, final report
	 * (0: not yet) */
	int64_t reported[3];
	char *record;
};

/* A person using the admin API or the dashboard, with one role (users.h). */
struct srv_user {
	char name[64];
	char role[24];
	char pw_hash[192]; /* Argon2id, encoded; "" when the user logs in by token only */
	int64_t created;
};

/* A dashboard login: the session's digest is the key, never the secret. */
struct srv_session {
	char user[64];
	char role[24]; /* the user's role now */
	char csrf[72]; /* the token every state-changing request repeats */
	int64_t expires;
};

/* One security-relevant admin action, kept append-only. */
struct srv_audit {
	int64_t id, at;
	char actor[64]; /* a user's name, "admin-token", or "-" when unknown */
	char role[24];
	char remote[64]; /* the client's address */
	char method[12];
	char path[256];
	int64_t status; /* the HTTP status answered */
	char detail[192];
};

/* A matching row: record `vuln` hits the components of SBOM `sbom` whose
 * indexes (in upt_sbom order) `hits` lists, "3,17" (VEX is applied when
 * the rows are read). A row with vuln "" and sbom "" marks the rows stale
 * (a database from before they existed): the next read rematches all. */
struct srv_vmatch {
	char vuln[128];
	char sbom[65];
	char *hits;
};

/* What vuln_mark records of a vulnerability, at a time. */
enum srv_vuln_mark {
	SRV_VULN_EXPLOITED,    /* the manufacturer became aware it is exploited */
	SRV_VULN_EARLY,        /* early warning sent (Art. 14(2)(a)) */
	SRV_VULN_NOTIFICATION, /* notification sent (Art. 14(2)(b)) */
	SRV_VULN_FINAL,        /* final report sent (Art. 14(2)(c)) */
};

/* One ECU's current verified state, as the fleet scan gives it. */
struct srv_ecu_row {
	char device[128];
	char serial[128];
	char hardware_id[128];
	char installed[512]; /* "" before a report */
	char installed_sha256[65];
	int64_t reported_at;
};

/* An update campaign as stored: the normalised request the server
 * accepted (spec, JSON text, malloc'd) and where it stands. */
struct srv_campaign {
	int64_t id;
	char name[128];
	char *spec;
	/* created, running, paused, stopped, cancelled, finished */
	char status[16];
	int64_t stage;          /* the current stage; -1 before the first */
	int64_t approved;       /* the highest stage approved; -1: none */
	int64_t stage_started;  /* when the current stage's first ECUs were assigned; 0: not yet */
	int64_t met_at;         /* when it reached its success threshold; 0: not yet */
	int64_t acked_failures; /* failures of the stage accepted by a resume */
	char reason[256];       /* why it is paused or stopped */
	int64_t created, updated;
	int64_t released; /* a download-only campaign: when installs were released; 0: not */
};

/* One ECU of a device in a campaign, in a stage, and its state there. */
struct srv_member {
	int64_t campaign;
	char device[128], ecu[128], hardware_id[128];
	int64_t stage;
	char state[20];  /* pending, assigned, ..., succeeded (campaigns.h) */
	char sha256[65]; /* the image assigned to it */
	char correlation_id[64];
	char from_sha256[65]; /* what it ran when assigned */
	int64_t assigned_at, updated;
	bool published;     /* the Director signed its assignment */
	bool active;        /* holds the ECU (at most one active campaign per ECU) */
	int64_t utc_offset; /* its device's (minutes; read only) */
	bool fast_path_ok;  /* its device's product allows the security fast path (read only) */
};

/* How many ECUs of a stage are in a state. */
struct srv_member_count {
	int64_t stage;
	char state[20];
	int64_t n;
};

struct srv_campaign_event {
	int64_t at;
	char text[256];
};

/* One row of the inventory's scan: the ECUs that report one image hash
 * for one hardware id (the least name any of them reports). */
struct srv_image_row {
	char sha256[65];
	char hardware_id[128];
	char installed[512];
	int64_t ecus, devices;
};

/* What a cursor reads, and the row type it fills. */
enum srv_scan {
	SRV_SCAN_ECUS,    /* struct srv_ecu_row, by device and serial */
	SRV_SCAN_DEVICES, /* struct srv_device, by id */
	SRV_SCAN_IMAGES,  /* struct srv_image_row, by sha256 and hardware id (bytes) */
	SRV_SCAN_ALERTS,  /* struct srv_alert of a filter, as alert_list orders them */
};
struct srv_cursor;

/* Called for each row of a scan; a non-zero return stops it and is
 * returned. */
typedef int (*srv_ecu_scan_fn)(void *ctx, const struct srv_ecu_row *row);
/* Called for each kept verified manifest of a scan (body as received);
 * `accepted`: the serials of the ECUs whose reports in it the server
 * accepted, each followed by a newline (srv_accepted_has), or NULL for a
 * manifest stored before that was recorded (then the ECU's report history
 * tells, report_seen). */
typedef int (*srv_manifest_scan_fn)(void *ctx, const char *device, int64_t received,
				    const uint8_t *body, size_t len, const char *accepted);

/* Called with what another server process changed (srv_store_ops.watch). */
typedef void (*srv_change_fn)(void *ctx, const char *what);

/* A transaction's work, for srv_store_ops.grouped. */
typedef int (*srv_grouped_fn)(struct srv_store *s, void *ctx, struct upt_error *err);
/* Told a grouped transaction's result (srv_store_ops.grouped_async). */
typedef void (*srv_grouped_done)(void *ctx, int rc, const struct upt_error *err);

struct srv_store_ops {
	const char *name;
	int (*begin)(struct srv_store *s, struct upt_error *err);
	/* fn in a transaction that may share its commit with others run the
	 * same way meanwhile (group commit): returns once the shared commit
	 * is durable, with fn's result; a failed fn is undone alone. fn runs
	 * on whichever thread leads the group, and calls the store as inside
	 * begin/commit. NULL where every transaction commits on its own
	 * (PostgreSQL groups concurrent commits of the pool itself): see
	 * srv_store_grouped(). */
	int (*grouped)(struct srv_store *s, srv_grouped_fn fn, void *ctx, struct upt_error *err);
	/* The same without waiting: fn is queued, run and committed by the
	 * store's own committing threads, and done(done_ctx, rc, err) is
	 * called on one of them once the commit is durable (or failed), with
	 * no lock of the store held. done may be called before this returns
	 * (a job that cannot be queued: its error). done must not wait for
	 * another grouped transaction. NULL where grouped is. */
	void (*grouped_async)(struct srv_store *s, srv_grouped_fn fn, void *ctx,
			      srv_grouped_done done, void *done_ctx);
	/* A grouped transaction announced (srv_store_expect): delta +1 when
	 * a caller begins the work that will end in one (a manifest being
	 * verified), -1 once it is queued or given up. With no sync to wait
	 * for, a group waits a little for those announced, so that
	 * transactions that arrive together share one commit. NULL where
	 * grouped is. */
	void (*grouped_expect)(struct srv_store *s, int delta);
	int (*commit)(struct srv_store *s, struct upt_error *err);
	void (*rollback)(struct srv_store *s);
	/* Add a version of a role's metadata (a version stored once only:
	 * UPT_ERR_ROLLBACK when it exists). */
	int (*meta_put)(struct srv_store *s, const char *repo, const char *role, int64_t version,
			int64_t expires, const uint8_t *data, size_t len, struct upt_error *err);
	/* version 0: the newest. UPT_ERR_NOT_FOUND when none. */
	int (*meta_get)(struct srv_store *s, const char *repo, const char *role, int64_t version,
			struct srv_meta *out, struct upt_error *err);
	/* Names of the delegated roles stored for repo (newline-separated,
	 * malloc'd). */
	int (*meta_roles)(struct srv_store *s, const char *repo, char **out, struct upt_error *err);
	int (*image_put)(struct srv_store *s, const struct srv_image *img, struct upt_error *err);
	int (*image_get)(struct srv_store *s, const char *name, struct srv_image *out,
			 struct upt_error *err);
	int (*key_put)(struct srv_store *s, const char *repo, const char *role,
		       const struct srv_key *k, struct upt_error *err);
	int (*key_get)(struct srv_store *s, const char *repo, const char *role, struct srv_key *out,
		       struct upt_error *err);
	int (*key_del)(struct srv_store *s, const char *repo, const char *role,
		       struct upt_error *err);
	/* Devices (the id is the CN of the device's certificate). */
	int (*device_add)(struct srv_store *s, const char *id, struct upt_error *err);
	int (*device_get)(struct srv_store *s, const char *id, struct srv_device *out,
			  struct upt_error *err);
	int (*device_list)(struct srv_store *s, struct srv_device **out, size_t *n,
			   struct upt_error *err);
	/* Register a device's ECUs once (UPT_ERR_STATE when it has some). */
	int (*ecus_put)(struct srv_store *s, const char *device, const struct srv_ecu *ecus,
			size_t n, struct upt_error *err);
	int (*ecus_get)(struct srv_store *s, const char *device, struct srv_ecu **out, size_t *n,
			struct upt_error *err);
	/* Inside begin/commit: the device's ECUs, locked against concurrent
	 * reports until commit (the counter check and the write are one step). */
	int (*ecus_lock)(struct srv_store *s, const char *device, struct srv_ecu **out, size_t *n,
			 struct upt_error *err);
	/* What a verified report says an ECU runs, and its judgement. With
	 * `raise_counter`, only when e->report_counter is above the stored one
	 * (else UPT_ERR_ROLLBACK, nothing written). A report without a counter
	 * (status "no_counter") is added to the ECU's report history, which
	 * `prune` cuts to the newest manifest_history (srv_prune_due): the
	 * replay check of such reports searches it. A report with a counter
	 * needs no history: the counter refuses a replay, and the manifest
	 * row records that it was accepted. */
	int (*ecu_report)(struct srv_store *s, const char *device, const struct srv_ecu *e,
			  bool raise_counter, bool prune, struct upt_error *err);
	/* Whether the ECU's report history holds a report with this digest. */
	int (*report_seen)(struct srv_store *s, const char *device, const char *serial,
			   const char *digest, bool *seen, struct upt_error *err);
	int (*assign_put)(struct srv_store *s, const char *device, const struct srv_assignment *a,
			  struct upt_error *err);
	int (*assign_list)(struct srv_store *s, const char *device, struct srv_assignment **out,
			   size_t *n, struct upt_error *err);
	/* A primary's installation report, joined to an assignment by its
	 * correlation id; newest first. */
	int (*install_put)(struct srv_store *s, const char *device,
			   const struct srv_install_report *r, struct upt_error *err);
	int (*install_list)(struct srv_store *s, const char *device,
			    struct srv_install_report **out, size_t *n, struct upt_error *err);
	/* The bodies of the device's kept reports of `kind`, newest first
	 * (each malloc'd, NUL-terminated; free with srv_blobs_free). */
	int (*info_list)(struct srv_store *s, const char *device, const char *kind, char ***out,
			 size_t *n, struct upt_error *err);
	/* A verified manifest, kept as received, with the serials of the ECUs
	 * whose reports in it were accepted (srv_manifest_scan_fn); `prune`:
	 * the device's manifests cut to the newest manifest_history
	 * (srv_prune_due). */
	int (*manifest_put)(struct srv_store *s, const char *device, int64_t at, bool auto_update,
			    const uint8_t *data, size_t len, const char *accepted, bool prune,
			    struct upt_error *err);
	/* Something a device did that it should not have (a refused manifest...). */
	int (*alert_add)(struct srv_store *s, const char *device, const char *kind,
			 const char *message, struct upt_error *err);
	int (*alert_count)(struct srv_store *s, const char *device, int64_t *n,
			   struct upt_error *err);
	/* Raise an alert (device, ecu, kind, message, evidence of `a`): folded
	 * into the open one of that device, ECU and kind, or a new one with a
	 * delivery queued for every webhook of the policy, in one step. */
	int (*alert_raise)(struct srv_store *s, const struct srv_alert *a, int64_t now, int64_t *id,
			   bool *folded, struct upt_error *err);
	/* Newest last seen first. */
	int (*alert_list)(struct srv_store *s, const struct srv_alert_filter *f,
			  struct srv_alert **out, size_t *n, struct upt_error *err);
	int (*alert_get)(struct srv_store *s, int64_t id, struct srv_alert *out,
			 struct upt_error *err);
	/* UPT_ERR_NOT_FOUND: no such alert; UPT_ERR_STATE: acknowledged already. */
	int (*alert_ack)(struct srv_store *s, int64_t id, const char *by, int64_t now,
			 struct upt_error *err);
	/* Take up to `max` deliveries due at `now`, each leased until now +
	 * lease (so that another server process does not take it meanwhile). */
	int (*outbox_claim)(struct srv_store *s, int64_t now, int64_t lease, size_t max,
			    struct srv_delivery **out, size_t *n, struct upt_error *err);
	int (*outbox_done)(struct srv_store *s, int64_t alert_id, const char *url,
			   struct upt_error *err);
	int (*outbox_retry)(struct srv_store *s, int64_t alert_id, const char *url, int64_t next_at,
			    struct upt_error *err);
	/* What a device reports besides manifests (system information,
	 * network, configuration, events, installed packages), kept as sent. */
	int (*info_put)(struct srv_store *s, const char *device, const char *kind,
			const uint8_t *data, size_t len, struct upt_error *err);
	/* Products: create (UPT_ERR_STATE when it exists) or update
	 * (UPT_ERR_NOT_FOUND when it does not). */
	int (*product_put)(struct srv_store *s, const struct srv_product *p, bool create,
			   struct upt_error *err);
	int (*product_get)(struct srv_store *s, const char *name, struct srv_product *out,
			   struct upt_error *err);
	int (*product_list)(struct srv_store *s, struct srv_product **out, size_t *n,
			    struct upt_error *err);
	/* A device's product and dates (NULL or "" clears a date). */
	int (*device_lifecycle)(struct srv_store *s, const char *id, const char *product,
				const char *manufactured, const char *placed_on_market,
				const char *support_end, struct upt_error *err);
	/* Record the targets an accepted Image repository targets role
	 * lists (a name and hash recorded already keeps its first time). */
	int (*published_put)(struct srv_store *s, const struct srv_published *t, size_t n,
			     struct upt_error *err);
	/* Every target ever published, by name. */
	int (*published_list)(struct srv_store *s, struct srv_published **out, size_t *n,
			      struct upt_error *err);
	/* Users: create (UPT_ERR_STATE when the name exists) or update role
	 * and password hash (UPT_ERR_NOT_FOUND when it does not). */
	int (*user_put)(struct srv_store *s, const struct srv_user *u, bool create,
			struct upt_error *err);
	int (*user_get)(struct srv_store *s, const char *name, struct srv_user *out,
			struct upt_error *err);
	int (*user_list)(struct srv_store *s, struct srv_user **out, size_t *n,
			 struct upt_error *err);
	/* Remove a user with its API tokens and sessions, in one step. */
	int (*user_remove)(struct srv_store *s, const char *name, struct upt_error *err);
	/* API tokens and sessions are kept by the SHA-256 of their secret. */
	int (*token_put)(struct srv_store *s, const char *digest, const char *user, int64_t now,
			 struct upt_error *err);
	int (*token_user)(struct srv_store *s, const char *digest, struct srv_user *out,
			  struct upt_error *err);
	int (*session_put)(struct srv_store *s, const char *digest, const char *user,
			   const char *csrf, int64_t expires, struct upt_error *err);
	/* UPT_ERR_NOT_FOUND for an unknown or expired session. */
	int (*session_get)(struct srv_store *s, const char *digest, int64_t now,
			   struct srv_session *out, struct upt_error *err);
	int (*session_remove)(struct srv_store *s, const char *digest, struct upt_error *err);
	/* The audit log: appended to, never changed (the schema refuses it). */
	int (*audit_add)(struct srv_store *s, const struct srv_audit *a, struct upt_error *err);
	/* Entries at or after `since`, oldest first, at most `limit`. */
	int (*audit_list)(struct srv_store *s, int64_t since, int64_t limit, struct srv_audit **out,
			  size_t *n, struct upt_error *err);
	/* Every registered ECU's current state, ordered by device and serial,
	 * in one pass (the store's lock is held during the callbacks: they
	 * must not call the store). */
	int (*ecu_scan)(struct srv_store *s, srv_ecu_scan_fn fn, void *ctx, struct upt_error *err);
	/* The kept verified manifests of `device` (NULL: of every device),
	 * oldest first, in one pass (the lock is held as for ecu_scan). */
	int (*manifest_scan)(struct srv_store *s, const char *device, srv_manifest_scan_fn fn,
			     void *ctx, struct upt_error *err);
	/* A cursor over a whole table, for answers streamed to a client at
	 * its pace: one row per cursor_next, never the table in memory, on a
	 * connection of the cursor's own that no other call of this thread
	 * uses (SQLite: a read-only connection to the database file;
	 * PostgreSQL: one of the pool, taken off it until cursor_close,
	 * rows in single-row mode). cursor_next gives 1 and fills *row (the
	 * type enum srv_scan names), 0 at the end, or an error. `f`: the
	 * alerts' filter (SRV_SCAN_ALERTS only; copied). */
	int (*cursor_open)(struct srv_store *s, enum srv_scan what,
			   const struct srv_alert_filter *f, struct srv_cursor **out,
			   struct upt_error *err);
	int (*cursor_next)(struct srv_cursor *c, void *row, struct upt_error *err);
	void (*cursor_close)(struct srv_cursor *c); /* accepts NULL */
	/* Devices' tags (comma-separated) and UTC offset (minutes). */
	int (*device_tags)(struct srv_store *s, const char *id, const char *tags,
			   int64_t utc_offset, struct upt_error *err);
	/* Remove an ECU's assignment if it is still the one with this
	 * correlation id (a withdrawn campaign step). */
	int (*assign_withdraw)(struct srv_store *s, const char *device, const char *ecu,
			       const char *correlation_id, struct upt_error *err);
	/* Campaigns. Add one with its members in one step; an ECU already
	 * active in another campaign: UPT_ERR_STATE naming it, nothing added. */
	int (*campaign_add)(struct srv_store *s, struct srv_campaign *c, const struct srv_member *m,
			    size_t n, struct upt_error *err);
	/* With `lock` (inside begin/commit): the row stays locked against
	 * other server processes until commit (SELECT ... FOR UPDATE). */
	int (*campaign_get)(struct srv_store *s, int64_t id, bool lock, struct srv_campaign *out,
			    struct upt_error *err);
	/* All campaigns, newest first (spec included). */
	int (*campaign_list)(struct srv_store *s, struct srv_campaign **out, size_t *n,
			     struct upt_error *err);
	/* Write status, stage, approved, stage_started, met_at,
	 * acked_failures, reason, updated. A campaign that ends (cancelled,
	 * finished) releases its ECUs; cancelled marks each ECU not in a
	 * final state "cancelled". */
	int (*campaign_set)(struct srv_store *s, const struct srv_campaign *c,
			    struct upt_error *err);
	/* One more ECU in a campaign (UPT_ERR_STATE: active in one already). */
	int (*member_add)(struct srv_store *s, const struct srv_member *m, struct upt_error *err);
	/* Members of a campaign (stage < 0: all), by stage, device, ECU. */
	int (*member_list)(struct srv_store *s, int64_t campaign, int64_t stage,
			   struct srv_member **out, size_t *n, struct upt_error *err);
	/* Write a member's state, sha256, correlation id, from_sha256,
	 * assigned_at, published, updated. */
	int (*member_set)(struct srv_store *s, const struct srv_member *m, struct upt_error *err);
	/* Per stage and state: how many ECUs. */
	int (*member_counts)(struct srv_store *s, int64_t campaign, struct srv_member_count **out,
			     size_t *n, struct upt_error *err);
	/* The active memberships of a device's ECUs. */
	int (*device_members)(struct srv_store *s, const char *device, struct srv_member **out,
			      size_t *n, struct upt_error *err);
	int (*campaign_log)(struct srv_store *s, int64_t campaign, int64_t at, const char *text,
			    struct upt_error *err);
	/* Oldest first. */
	int (*campaign_log_list)(struct srv_store *s, int64_t campaign,
				 struct srv_campaign_event **out, size_t *n, struct upt_error *err);
	/* Inside begin/commit: wait until no other transaction (of any server
	 * process on the database) holds `name`; held until commit. */
	int (*lock)(struct srv_store *s, const char *name, struct upt_error *err);
	/* Tell the other server processes on the database that `what`
	 * changed ("device:ID", "keys:REPO"); inside begin/commit, only when
	 * it commits. */
	int (*changed)(struct srv_store *s, const char *what, struct upt_error *err);
	/* Call fn from a thread of the store's for every change announced
	 * (by any process, this one included), and with what == NULL after
	 * each (re)connection, when anything may have changed unseen. A store
	 * of one machine (SQLite) has no announcements: nothing is called.
	 * unwatch stops it (before fn's context goes). */
	int (*watch)(struct srv_store *s, srv_change_fn fn, void *ctx, struct upt_error *err);
	void (*unwatch)(struct srv_store *s);
	/* Can the database be reached now? (The health check; it reconnects.) */
	int (*ping)(struct srv_store *s, struct upt_error *err);
	/* How many calls failed so far for want of the database (unreachable,
	 * connection lost): a call that raised it answers 503, never data
	 * derived from what it could not read. */
	uint64_t (*failures)(struct srv_store *s);
	/* SBOMs by content: a sha256 stored already is kept as it was. */
	int (*sbom_put)(struct srv_store *s, const struct srv_sbom *sb, struct upt_error *err);
	/* UPT_ERR_NOT_FOUND when none; free out->data. */
	int (*sbom_get)(struct srv_store *s, const char *sha256, struct srv_sbom *out,
			struct upt_error *err);
	/* Add or replace a vulnerability record (exploited_at is kept). */
	int (*vuln_put)(struct srv_store *s, const struct srv_vuln *v, struct upt_error *err);
	/* Every record, by id (free with srv_vulns_free). */
	int (*vuln_list)(struct srv_store *s, struct srv_vuln **out, size_t *n,
			 struct upt_error *err);
	/* Record `what` at `at` (UPT_ERR_NOT_FOUND: no such record). */
	int (*vuln_mark)(struct srv_store *s, const char *id, enum srv_vuln_mark what, int64_t at,
			 struct upt_error *err);
	/* Inside begin/commit: replace the statements of one VEX document. */
	int (*vex_put)(struct srv_store *s, const char *document, const struct srv_vex *v, size_t n,
		       struct upt_error *err);
	int (*vex_list)(struct srv_store *s, struct srv_vex **out, size_t *n,
			struct upt_error *err);
	/* The sha256 of every stored SBOM (free *out). */
	int (*sbom_hashes)(struct srv_store *s, char (**out)[65], size_t *n, struct upt_error *err);
	/* Matching rows (vulns.c keeps them current): which components of an
	 * SBOM a record hits. Add or replace n of them (distinct record and
	 * SBOM pairs; a matching run writes them in batches); delete those of
	 * a record, of an SBOM, or ("" for both) all; list all, by record then
	 * SBOM. */
	int (*match_put)(struct srv_store *s, const struct srv_vmatch *m, size_t n,
			 struct upt_error *err);
	int (*match_clear)(struct srv_store *s, const char *vuln, const char *sbom,
			   struct upt_error *err);
	int (*match_list)(struct srv_store *s, struct srv_vmatch **out, size_t *n,
			  struct upt_error *err);
	void (*close)(struct srv_store *s);
};

struct srv_store {
	const struct srv_store_ops *ops;
	struct srv_policy policy;
};

/* Open (creating and migrating) the SQLite store at `path`. */
int srv_store_sqlite_open(struct srv_store **out, const char *path, struct upt_error *err);
/* Connect to (and migrate) a PostgreSQL database: a libpq connection URI
 * (postgresql://...) or key=value string, with a pool of `pool`
 * connections (each thread takes one per call or transaction). */
int srv_store_pg_open(struct srv_store **out, const char *conninfo, size_t pool,
		      struct upt_error *err);

/* fn in a transaction of its own (nested in the calling thread's, if
 * any): committed when it succeeds, else rolled back. */
static inline int srv_store_in_tx(struct srv_store *s, srv_grouped_fn fn, void *ctx,
				  struct upt_error *err)
{
	int rc;
	if ((rc = s->ops->begin(s, err)) != UPT_OK)
		return rc;
	if ((rc = fn(s, ctx, err)) == UPT_OK)
		return s->ops->commit(s, err);
	s->ops->rollback(s);
	return rc;
}

/* fn in a grouped transaction where the store has them, else in a
 * transaction of its own. */
static inline int srv_store_grouped(struct srv_store *s, srv_grouped_fn fn, void *ctx,
				    struct upt_error *err)
{
	return s->ops->grouped ? s->ops->grouped(s, fn, ctx, err)
			       : srv_store_in_tx(s, fn, ctx, err);
}

/* A grouped transaction on its way (+1) or queued or given up (-1). */
static inline void srv_store_expect(struct srv_store *s, int delta)
{
	if (s->ops->grouped_expect)
		s->ops->grouped_expect(s, delta);
}

void srv_meta_free(struct srv_meta *m);
void srv_blobs_free(char **b, size_t n);
void srv_install_reports_free(struct srv_install_report *r, size_t n);
void srv_campaigns_free(struct srv_campaign *c, size_t n);
void srv_vulns_free(struct srv_vuln *v, size_t n);
void srv_vmatches_free(struct srv_vmatch *m, size_t n);

#endif
