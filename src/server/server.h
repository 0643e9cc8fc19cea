/* uptake-server: shared declarations. */
#ifndef UPTAKE_SERVER_H
#define UPTAKE_SERVER_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uptake/crypto_openssl.h>

#include "log.h"
#include "store.h"

struct srv_config {
	char listen_address[64];
	int port;
	char database[1024];
	char data_dir[1024];
	char ui_dir[1024]; /* the dashboard's built pages */
	char admin_token[256];
	char admin_token_file[1024];
	unsigned threads;
	unsigned write_threads; /* for handlers that wait on a group commit */
	unsigned database_pool; /* PostgreSQL connections; 0: threads + 2 */
	size_t max_metadata_bytes;
	uint64_t max_image_bytes;
	char tls_names[512];        /* subjectAltNames of the server certificate */
	int repo_http_port;         /* -1: none; else plain HTTP for /repo/ only */
	int64_t snapshot_lifetime;  /* seconds */
	int64_t timestamp_lifetime; /* seconds */
	enum srv_log_level log_level;
	/* connections: how many at once, from one address (0: no limit); the
	 * seconds a connection has to complete a request's headers (TLS
	 * handshake included; trickled bytes do not extend it), and to send
	 * any byte once in a request */
	unsigned max_connections, max_connections_per_ip;
	unsigned header_timeout, idle_timeout;
	int64_t session_ttl;            /* seconds a dashboard login lasts */
	int64_t director_cache_ms;      /* how long a device's metadata is answered from memory */
	char alert_webhook_secret[256]; /* HMAC-SHA256 key of webhook deliveries */
	int64_t silent_after;           /* seconds without a manifest before "silent"; 0: off */
	struct srv_policy policy;       /* what is kept of each device (store.h) */
};

#define SRV_CONFIG_MAX (1 << 20)
/* Read the configuration file `path` (and the admin token file it names). */
int srv_config_load(struct srv_config *c, const char *path, struct upt_error *err);
/* Parse configuration text (no I/O: the token file is only named). */
int srv_config_parse(struct srv_config *c, const char *path, const uint8_t *text, size_t len,
		     struct upt_error *err);

/* One repository whose root and targets are signed offline and whose
 * snapshot and timestamp the server signs with its online keys. */
struct srv_cache;
struct srv_repo {
	const char *name; /* "image" */
	struct srv_store *store;
	const struct srv_config *cfg;
	bool director;            /* targets signed online too, per device */
	enum upt_dialect dialect; /* the current root's: what the server signs in */
	struct upt_privkey *snapshot_key, *timestamp_key, *targets_key;
	char snapshot_keyid[UPT_KEYID_MAX + 1], timestamp_keyid[UPT_KEYID_MAX + 1];
	char targets_keyid[UPT_KEYID_MAX + 1];
	/* online keys made by a rotation, used once a root lists them
	 * (index: 0 snapshot, 1 timestamp, 2 targets) */
	struct upt_privkey *next_key[3];
	char next_keyid[3][UPT_KEYID_MAX + 1];
	pthread_mutex_t lock;    /* serialises metadata changes */
	struct srv_cache *cache; /* Director: each device's current metadata */
	uint64_t generation;     /* signings so far (atomic) */
};

int srv_repo_open(struct srv_repo *r, const char *name, bool director, struct srv_store *store,
		  const struct srv_config *cfg, struct upt_error *err);
void srv_repo_close(struct srv_repo *r);
/* Another server process on the database changed `what` ("device:ID":
 * that device's Director metadata; "keys:REPO": the online keys; NULL:
 * anything): drop what is cached of it, load the keys anew. */
void srv_repo_changed(struct srv_repo *r, const char *what);
/* New online keys, returned as {"snapshot":KEY,...}; they replace the
 * current ones when an uploaded root lists them. */
int srv_repo_rotate_online(struct srv_repo *r, enum upt_dialect dialect, char **json,
			   struct upt_error *err);
/* {"snapshot":KEY,"timestamp":KEY}: the online public keys a root must list,
 * spelt in `dialect`. */
int srv_repo_online_keys(struct srv_repo *r, enum upt_dialect dialect, char **json,
			 struct upt_error *err);
/* *rotated is set when the root switched to the rotated online keys (the
 * Director then needs every device's metadata signed anew). */
int srv_repo_put_root(struct srv_repo *r, const uint8_t *data, size_t len, int64_t now,
		      int64_t *version, bool *rotated, struct upt_error *err);
int srv_repo_put_targets(struct srv_repo *r, const char *role, const uint8_t *data, size_t len,
			 int64_t now, int64_t *version, struct upt_error *err);
/* Director: sign the next targets of `device` from its assignments, with a
 * new snapshot and timestamp (repository "director/DEVICE"). */
int srv_director_publish(struct srv_repo *r, const char *device, int64_t now,
			 struct upt_error *err);
/* Director: srv_director_publish for many devices, `batch` of them (1 to
 * SRV_PUBLISH_BATCH_MAX) per transaction, in the order given (sorted and
 * unique, so that every server process takes the devices' signing locks
 * in one order); `each` (may be NULL) runs for every device inside its
 * batch's transaction, after its signing. A batch that fails is done
 * again one device per transaction, so that one device's failure holds no
 * other back. Answers how many devices were signed; their errors are
 * logged. */
#define SRV_PUBLISH_BATCH_MAX 1000
size_t srv_director_publish_many(struct srv_repo *r, const char (*devices)[128], size_t n,
				 size_t batch, int64_t now,
				 int (*each)(void *ctx, const char *device, struct upt_error *err),
				 void *ctx);
/* Director: make sure `device` has current metadata (first targets, or
 * re-signed when expiry nears). */
int srv_director_current(struct srv_repo *r, const char *device, int64_t now,
			 struct upt_error *err);
/* Director: the device's current targets.json, snapshot.json or
 * timestamp.json (malloc'd), signed anew first when due; answered from
 * memory while nothing changed. */
int srv_director_get(struct srv_repo *r, const char *device, const char *file, int64_t now,
		     uint8_t **data, size_t *len, struct upt_error *err);
/* Sign new snapshot and timestamp versions when they near expiry. */
int srv_repo_refresh_online(struct srv_repo *r, int64_t now, struct upt_error *err);

/* Images: content-addressed files in cfg->data_dir/images. */
int srv_image_path(const struct srv_config *cfg, const char *sha256, char *out, size_t cap);

/* Devices (devices.c): request logic without HTTP. */
struct srv_ca;
int srv_dev_register(struct srv_store *st, const char *device, const uint8_t *body, size_t len,
		     struct upt_error *err);
int srv_dev_manifest(struct srv_store *st, const char *device, const uint8_t *body, size_t len,
		     int64_t now, struct upt_error *err);
/* The same in steps, for a caller that does not wait for the commit:
 * prepare checks and verifies the manifest (a refused one raises its
 * alert here, and *run stays NULL); queue hands its write to the store's
 * group commit (the store must have grouped_async), and committed(ctx,
 * run) is called on a committing thread once it is durable or failed;
 * finish, on any thread, raises what the reports prove and gives the
 * manifest's result, and frees run. commit is queue and finish in one,
 * waiting. A prepared run is queued or committed (its group may wait for
 * it); `body` must stay until finish. */
struct srv_manifest_run;
typedef void (*srv_manifest_committed_fn)(void *ctx, struct srv_manifest_run *run);
int srv_dev_manifest_prepare(struct srv_store *st, const char *device, const uint8_t *body,
			     size_t len, int64_t now, struct srv_manifest_run **run,
			     struct upt_error *err);
void srv_dev_manifest_queue(struct srv_manifest_run *run, srv_manifest_committed_fn committed,
			    void *ctx);
int srv_dev_manifest_finish(struct srv_manifest_run *run, struct upt_error *err);
int srv_dev_manifest_commit(struct srv_manifest_run *run, struct upt_error *err);
int srv_admin_device_add(struct srv_store *st, struct srv_ca *ca, const uint8_t *body, size_t len,
			 char **resp, struct upt_error *err);
int srv_admin_device_list(struct srv_store *st, char **resp, struct upt_error *err);
int srv_admin_device_show(struct srv_store *st, const char *id, char **resp, struct upt_error *err);
/* The device's kept verified manifests, newest first: each ECU report's
 * image and hashes as signed, and whether the server accepted that report
 * (its digest is in the ECU's report history). */
int srv_admin_device_manifests(struct srv_store *st, const char *id, char **resp,
			       struct upt_error *err);
/* Each ECU report in a kept manifest's body (parsed again; it was verified
 * when it arrived). */
struct srv_kept_report {
	const char *serial, *filepath;
	int64_t length;
	char sha256[65]; /* "" when the report names none */
	bool has_counter;
	int64_t counter;
	char digest[65]; /* the report's canonical signed part, as in the report history */
};
typedef int (*srv_kept_report_fn)(void *ctx, const struct srv_kept_report *k);
int srv_manifest_reports(const uint8_t *body, size_t len, srv_kept_report_fn fn, void *ctx,
			 struct upt_error *err);
int srv_dev_info(struct srv_store *st, const char *device, const char *kind, bool json,
		 const uint8_t *body, size_t len, struct upt_error *err);
/* POST /devices by a fleet credential: {"deviceId": ID, ...} -> device. */
int srv_dev_provision(struct srv_store *st, struct srv_ca *ca, const char *fleet,
		      const uint8_t *body, size_t len, uint8_t **p12, size_t *p12_len,
		      struct upt_error *err);
int srv_admin_fleet_credential(struct srv_ca *ca, const uint8_t *body, size_t len, char **resp,
			       struct upt_error *err);
/* A new correlation id (urn:uptake:assignment:UUID). */
int srv_correlation_id(char *out, size_t cap, struct upt_error *err);
/* The Image repository's target `name` for `hardware_id`, as an
 * assignment (no ECU, no correlation id): UPT_ERR_NOT_FOUND when it is not
 * there, UPT_ERR_HARDWARE_ID when it is not for that hardware. */
int srv_image_target_lookup(struct srv_repo *image, const char *name, const char *hardware_id,
			    struct srv_assignment *out, struct upt_error *err);
int srv_admin_assign(struct srv_repo *image, struct srv_repo *director, const uint8_t *body,
		     size_t len, int64_t now, char **resp, struct upt_error *err);

/* The server's own CA for mutual TLS (data_dir/tls). */
struct srv_ca {
	char dir[1100];
	X509 *cert;
	EVP_PKEY *key;
	char *ca_pem, *server_cert_pem, *server_key_pem;
};
int srv_ca_open(struct srv_ca *ca, const char *dir, const char *names, struct upt_error *err);
/* A device certificate with common name `device_id`, for the given public
 * key (PEM), or for a new key returned in *key_pem when pubkey_pem is NULL. */
int srv_ca_issue(struct srv_ca *ca, const char *device_id, const char *pubkey_pem, char **cert_pem,
		 char **key_pem, struct upt_error *err);
/* aktualizr's shared-credential provisioning: a new key and certificate
 * for `device_id`, with the CA, as a PKCS#12 bundle (empty password). */
int srv_ca_issue_p12(struct srv_ca *ca, const char *device_id, uint8_t **der, size_t *len,
		     struct upt_error *err);
void srv_ca_close(struct srv_ca *ca);

#endif
