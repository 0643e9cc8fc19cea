/* uptake-server: the route table and the request/response interface that
 * handlers see. Nothing here knows libmicrohttpd: http.c matches a request
 * to a row of the table, checks who may call it and the body's kind and
 * size, collects the body, and calls the row's handler with a srv_req; the
 * handler fills a srv_resp. A handler can be called without a socket.
 *
 * Layers, each including only those below it:
 *   main.c -> http.c -> routes.c, api.c -> api_*.c (one file per area)
 *          -> repo.c, devices.c, ca.c -> store_*.c -> log.c */
#ifndef UPTAKE_SERVER_API_H
#define UPTAKE_SERVER_API_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/common.h>

#include "server.h"
#include "users.h"

/* Who may call a route. */
enum srv_caller {
	SRV_PUBLIC, /* anyone; also on the plain-HTTP repository listener */
	SRV_DEVICE, /* mutual TLS: a registered device's certificate (CN = device id) */
	SRV_FLEET,  /* mutual TLS: a fleet credential (CN "fleet:NAME") */
	SRV_ADMIN,  /* the admin token, a user's API token, or a dashboard session */
	SRV_LOGIN,  /* anyone, over TLS only (the dashboard's login and pages) */
};

/* What a route's body is. */
enum srv_body {
	SRV_BODY_NONE,   /* no body */
	SRV_BODY_JSON,   /* application/json, kept in memory */
	SRV_BODY_TEXT,   /* any text (aktualizr's TOML configuration), in memory */
	SRV_BODY_UPLOAD, /* application/octet-stream, streamed to a file and hashed */
};

/* Size limits: a number of bytes, or one of the configured limits. */
#define SRV_LIMIT_METADATA      ((size_t)0)        /* cfg->max_metadata_bytes */
#define SRV_LIMIT_IMAGE         ((size_t)SIZE_MAX) /* cfg->max_image_bytes */
#define SRV_LIMIT_DEVICE_REPORT (64u << 10)        /* system info, events, installed */
#define SRV_LIMIT_REGISTRATION  (512u << 10)       /* ECU registration: 256 ECUs' keys */
#define SRV_LIMIT_MANIFEST      (1u << 20)         /* further bound by the ECU count */

#define SRV_MAX_PARAMS 2

/* The servers' shared state, given to every handler. */
struct srv_ctx {
	const struct srv_config *cfg;
	struct srv_repo *repo, *director;
	struct srv_store *store;
	struct srv_ca *ca;
	struct srv_limiter *logins; /* failed logins, by user name and address */
};

/* A streamed upload: http.c writes it to `tmp` (in data_dir/images) and
 * hashes it; a handler that keeps it renames it and clears tmp[0]. */
struct srv_upload {
	int fd;
	char tmp[PATH_MAX];
	uint64_t length;
	uint8_t sha256[32], sha512[64];
};

struct srv_req {
	const struct srv_ctx *srv;
	const char *method;
	const char *path;                  /* decoded; never holds a control character */
	const char *param[SRV_MAX_PARAMS]; /* the pattern's named segments, in order */
	const char *caller;                /* device id or "fleet:NAME"; NULL otherwise */
	const uint8_t *body;               /* JSON and text bodies ("" when empty) */
	size_t body_len;
	struct srv_upload *upload; /* SRV_BODY_UPLOAD */
	int64_t now;
	/* header and query-argument lookups (NULL when absent) */
	const char *(*header)(void *io, const char *name);
	const char *(*query)(void *io, const char *name);
	void *io;
	const char *info_kind; /* the row's `arg` */
	/* admin routes: who calls (a user's name or "admin-token"), their
	 * role, and for a dashboard session its digest and CSRF token */
	const char *actor, *role, *session, *csrf;
	const char *remote; /* the client's address */
	void *wait;         /* the server's, for srv_later(); NULL: it cannot wait */
};

#define SRV_RESP_HEADERS 6

/* A body written while it is sent (chunked): next() appends a chunk to
 * *out and gives 1 while more follows, 0 at the end, or an error, upon
 * which the connection is cut so that the client sees an incomplete
 * answer, never a complete-looking one. done() frees ctx. */
struct srv_json;
struct srv_stream {
	int (*next)(void *ctx, struct srv_json *out, struct upt_error *err);
	void (*done)(void *ctx);
	void *ctx;
};

struct srv_resp {
	unsigned status;
	const char *type; /* static string */
	uint8_t *body;    /* malloc'd, or NULL */
	size_t len;
	int fd; /* when >= 0: the body is fd_len bytes of this file from fd_off */
	uint64_t fd_off, fd_len;
	struct srv_stream stream; /* when next is set: the body, streamed */
	struct {
		const char *name;
		char value[160];
	} header[SRV_RESP_HEADERS];
	unsigned n_headers;
	enum srv_log_level log_level;
	char actor[64];              /* who a login named, for the audit log */
	int code;                    /* upt_err of an error answer */
	char msg[UPT_ERROR_MSG_MAX]; /* its message, for the log */
};

typedef void (*srv_handler)(const struct srv_req *q, struct srv_resp *r);

struct srv_route {
	const char *method;
	const char *pattern; /* "/api/v1/devices/{id}"; "{name+}" takes the rest */
	enum srv_caller caller;
	enum srv_body body;
	size_t limit;
	srv_handler handler;
	const char *arg; /* handler-specific (device report kind) */
	/* checked on the first named segment before a body is taken */
	bool (*valid_param)(const char *param);
	/* admin routes: what the caller's role must allow (users.h) */
	enum srv_perm perm;
	/* the handler waits for a group commit: unless the store commits
	 * groups on threads of its own (grouped_async), it runs on a writer
	 * thread (write_threads), not in libmicrohttpd's */
	bool waits;
};

extern const struct srv_route srv_routes[];
extern const size_t srv_n_routes;

/* Match METHOD PATH against the table. On success *route is the row and
 * params hold its named segments (pointers into `buf`, a copy of path).
 * UPT_ERR_NOT_FOUND: no row has this path. UPT_ERR_STATE: rows have this
 * path but not this method; `allow` lists theirs ("GET, HEAD"). */
int srv_route_match(const char *method, const char *path, char *buf, size_t cap,
		    const struct srv_route **route, const char *params[SRV_MAX_PARAMS], char *allow,
		    size_t allow_cap);
/* A row's size limit in bytes, with the configured limits resolved. */
uint64_t srv_route_limit(const struct srv_route *rt, const struct srv_config *cfg);

/* ---- answers given later ------------------------------------------------- */
/* A handler whose work goes on in another thread answers later:
 * srv_later() suspends the request's connection (NULL when it cannot,
 * e.g. while the server stops: the handler answers now), and that thread
 * calls srv_later_resume() once, after which then(ctx, r) runs in the
 * connection's own thread and gives the answer in r; when the
 * connection is gone by then, it runs there with r NULL, to finish the
 * work unanswered. */
struct srv_later;
typedef void (*srv_then_fn)(void *ctx, struct srv_resp *r);
struct srv_later *srv_later(const struct srv_req *q);
void srv_later_resume(struct srv_later *l, srv_then_fn then, void *ctx);

/* ---- responses ---------------------------------------------------------- */
void srv_resp_init(struct srv_resp *r);
void srv_resp_dispose(struct srv_resp *r);
/* 200 with a JSON body taken over (malloc'd, NUL-terminated). */
void srv_resp_json(struct srv_resp *r, char *json);
/* The answer of a request function: its JSON on UPT_OK, else its error. */
void srv_resp_result(struct srv_resp *r, int rc, char *json, const struct upt_error *err);
/* A copy of `len` bytes with a status and type. */
void srv_resp_bytes(struct srv_resp *r, unsigned status, const char *type, const void *data,
		    size_t len);
/* The one error shape: {"error":{"code":"UPT_ERR_...","message":"..."}}. */
void srv_resp_error(struct srv_resp *r, unsigned status, int code, const char *msg);
/* An upt_error with the status its code stands for (4xx for what the
 * client got wrong, 5xx for the server's own failures). */
void srv_resp_upt_error(struct srv_resp *r, const struct upt_error *err);
unsigned srv_status_of(int code);
void srv_resp_header(struct srv_resp *r, const char *name, const char *value);

/* ---- handlers, by area -------------------------------------------------- */
/* api_vulns.c: SBOMs and vulnerability handling */
void srv_h_sbom_put(const struct srv_req *q, struct srv_resp *r);
void srv_h_sbom_get(const struct srv_req *q, struct srv_resp *r);
void srv_h_sbom_components(const struct srv_req *q, struct srv_resp *r);
void srv_h_sbom_vulns(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_import(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_rematch(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_show(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_exploited(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_vulns(const struct srv_req *q, struct srv_resp *r);
void srv_h_vex_import(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_reported(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_art14(const struct srv_req *q, struct srv_resp *r);
void srv_h_vuln_advisory(const struct srv_req *q, struct srv_resp *r);
/* api_repo.c: the Image repository */
void srv_h_repo_metadata(const struct srv_req *q, struct srv_resp *r);
void srv_h_repo_image(const struct srv_req *q, struct srv_resp *r);
void srv_h_repo_put_metadata(const struct srv_req *q, struct srv_resp *r);
void srv_h_repo_put_image(const struct srv_req *q, struct srv_resp *r);
void srv_h_health(const struct srv_req *q, struct srv_resp *r);
/* api_keys.c: roots and online keys of both repositories */
void srv_h_keys_online(const struct srv_req *q, struct srv_resp *r);
void srv_h_keys_rotate(const struct srv_req *q, struct srv_resp *r);
void srv_h_keys_put_root(const struct srv_req *q, struct srv_resp *r);
/* api_director.c: what devices call (mutual TLS) */
void srv_h_director_metadata(const struct srv_req *q, struct srv_resp *r);
void srv_h_director_register(const struct srv_req *q, struct srv_resp *r);
void srv_h_director_manifest(const struct srv_req *q, struct srv_resp *r);
void srv_h_device_report(const struct srv_req *q, struct srv_resp *r);
void srv_h_device_provision(const struct srv_req *q, struct srv_resp *r);
/* api_devices.c: devices and inventory (admin) */
void srv_h_devices_add(const struct srv_req *q, struct srv_resp *r);
void srv_h_devices_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_devices_show(const struct srv_req *q, struct srv_resp *r);
void srv_h_devices_manifests(const struct srv_req *q, struct srv_resp *r);
void srv_h_assign(const struct srv_req *q, struct srv_resp *r);
void srv_h_fleet_credential(const struct srv_req *q, struct srv_resp *r);

/* api_compliance.c: CRA evidence (admin) */
void srv_h_products_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_products_add(const struct srv_req *q, struct srv_resp *r);
void srv_h_products_show(const struct srv_req *q, struct srv_resp *r);
void srv_h_products_set(const struct srv_req *q, struct srv_resp *r);
void srv_h_device_lifecycle(const struct srv_req *q, struct srv_resp *r);
void srv_h_lifecycle_import(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_support(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_inventory(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_patch_status(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_opt_out(const struct srv_req *q, struct srv_resp *r);
void srv_h_report_adoption(const struct srv_req *q, struct srv_resp *r);

/* api_users.c: users, tokens, sessions, the audit log */
void srv_h_users_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_users_add(const struct srv_req *q, struct srv_resp *r);
void srv_h_users_set(const struct srv_req *q, struct srv_resp *r);
void srv_h_users_remove(const struct srv_req *q, struct srv_resp *r);
void srv_h_users_token(const struct srv_req *q, struct srv_resp *r);
void srv_h_audit_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_login(const struct srv_req *q, struct srv_resp *r);
void srv_h_session_show(const struct srv_req *q, struct srv_resp *r);
void srv_h_logout(const struct srv_req *q, struct srv_resp *r);

/* api_campaigns.c: update campaigns (admin) */
void srv_h_campaigns_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_campaigns_create(const struct srv_req *q, struct srv_resp *r);
void srv_h_campaigns_show(const struct srv_req *q, struct srv_resp *r);
void srv_h_campaigns_action(const struct srv_req *q, struct srv_resp *r);

/* api_ui.c: the dashboard's static files (cfg->ui_dir) */
void srv_h_ui(const struct srv_req *q, struct srv_resp *r);
void srv_h_ui_root(const struct srv_req *q, struct srv_resp *r);

/* api_alerts.c */
void srv_h_alerts_list(const struct srv_req *q, struct srv_resp *r);
void srv_h_alert_ack(const struct srv_req *q, struct srv_resp *r);

/* Shared by handlers: serve repository `repo`'s FILE (ROLE.json or
 * N.ROLE.json); answer {"version":N}. */
void srv_serve_metadata(const struct srv_req *q, struct srv_resp *r, const char *repo,
			const char *file);
void srv_version_answer(struct srv_resp *r, int64_t version);
/* "bytes=A-B" or "bytes=A-" within size (0 on success). */
int srv_parse_range(const char *v, uint64_t size, uint64_t *from, uint64_t *to);
/* An image name as a target path: no "." or ".." segments, no "//", no
 * leading "/", no control characters, backslashes or quotes. */
bool srv_valid_image_name(const char *name);

#endif
