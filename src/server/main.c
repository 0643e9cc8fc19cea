/* uptake-server: entry point, configuration, logging, signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../host/host.h"
#include "alerts.h"
#include "campaigns.h"
#include "http.h"

static const char usage[] =
    "usage: uptake-server --config FILE [--port-file FILE]\n"
    "       uptake-server --routes\n\n"
    "Serves the Image repository (offline-signed root and targets, online-signed\n"
    "snapshot and timestamp) and its admin API. The configuration file holds\n"
    "'key = value' lines ('#' starts a comment):\n"
    "  listen_address           IPv4 address to listen on (default 127.0.0.1)\n"
    "  port                     TCP port; 0 picks a free one (default 8080)\n"
    "  database                 SQLite database file, or a PostgreSQL URI\n"
    "                           (postgresql://user@host:port/db) (required)\n"
    "  data_dir                 directory for images (required)\n"
    "  admin_token              bearer token of the admin API, or\n"
    "  admin_token_file         a file holding it (one of the two is required)\n"
    "  threads                  HTTP worker threads (default: eight per core)\n"
    "  write_threads            PostgreSQL: threads for manifest uploads, each\n"
    "                           waiting for its commit (default: 32 per core)\n"
    "  database_pool            PostgreSQL connections kept by this process\n"
    "                           (0, the default: threads + 2)\n"
    "  max_metadata_bytes       largest metadata upload (default 8388608)\n"
    "  max_image_bytes          largest image upload (default 4294967296)\n"
    "  snapshot_lifetime_hours  expiry of signed snapshots (default 168)\n"
    "  timestamp_lifetime_hours expiry of signed timestamps (default 24)\n"
    "  log_level                error, warn, info or debug (default info)\n"
    "  tls_names                names in the server certificate (default\n"
    "                           localhost,127.0.0.1)\n"
    "  repo_http_port           also serve the public Image repository (only\n"
    "                           /repo/) over plain HTTP on this port (0: any)\n"
    "  max_connections          open connections at most (default 4096)\n"
    "  max_connections_per_ip   from one address (default 64; 0: no limit; set\n"
    "                           0 behind a TCP load balancer)\n"
    "  header_timeout           seconds a connection has to complete a request's\n"
    "                           headers, TLS handshake included (default 10)\n"
    "  idle_timeout             seconds without a byte in a request (default 60)\n"
    "  session_ttl              seconds a dashboard login lasts (60 to 604800;\n"
    "                           default 28800)\n"
    "  alert_webhook            a URL that receives each new alert as JSON (up to 4)\n"
    "  alert_webhook_secret     key of the X-Uptake-Signature HMAC-SHA256 (16+ chars)\n"
    "  silent_after             seconds without a verified manifest before a device\n"
    "                           raises a 'silent' alert (default 0: off)\n";
/* the rest of it (one string would pass the length C99 compilers take) */
static const char usage_more[] =
    "What is kept of each device (older rows are deleted as new ones come):\n"
    "  manifest_history         newest verified manifests kept per device, and\n"
    "                           ECU reports per ECU and installation reports per\n"
    "                           device (default 200; manifests and ECU reports\n"
    "                           are cut back in steps of an eighth of it, at\n"
    "                           most 16)\n"
    "  manifest_history_days    also delete manifests older than this, keeping\n"
    "                           the newest (default 0: no age limit)\n"
    "  device_report_history    newest uploads kept of each report kind\n"
    "                           (system_info, network, config, installed,\n"
    "                           events) per device (default 20)\n"
    "  alert_history            newest alerts kept per device (default 1000)\n"
    "  manifest_bytes_per_ecu   a manifest may be 16384 bytes plus this much per\n"
    "                           registered ECU (default 16384; larger: 413)\n"
    "  max_device_report_bytes  largest report upload stored (default 65536)\n"
    "Everything on `port` is HTTPS; the server makes its CA and certificate in\n"
    "data_dir/tls at first start (clients trust data_dir/tls/ca.pem).\n"
    "--port-file writes the HTTPS port, and the plain repository port on a second\n"
    "line (for tests with port 0).\n"
    "--routes lists every endpoint: method, path, caller, body kind and limit, and\n"
    "for admin endpoints the permission a user's role needs (read, operate,\n"
    "release, admin).\n"
    "SIGTERM or SIGINT stops the server cleanly. Exit 0 after a clean stop,\n"
    "1 on a start-up error, 2 on a usage error.\n";

/* --routes: the route table, one endpoint a line. */
static void print_routes(void)
{
	static const char *const callers[] = {"public", "device", "fleet", "admin", "login"};
	static const char *const bodies[] = {"none", "json", "text", "upload"};
	for (size_t i = 0; i < srv_n_routes; i++) {
		const struct srv_route *r = &srv_routes[i];
		char limit[32] = "-";
		if (r->body != SRV_BODY_NONE)
			snprintf(limit, sizeof limit, "%s",
				 r->limit == SRV_LIMIT_METADATA ? "max_metadata_bytes"
				 : r->limit == SRV_LIMIT_IMAGE  ? "max_image_bytes"
								: "");
		if (r->body != SRV_BODY_NONE && !limit[0])
			snprintf(limit, sizeof limit, "%zu", r->limit);
		enum srv_perm p = r->perm                         ? r->perm
				  : strcmp(r->method, "GET") == 0 ? SRV_PERM_READ
								  : SRV_PERM_OPERATE;
		printf("%s %s %s %s %s", r->method, r->pattern, callers[r->caller], bodies[r->body],
		       limit);
		if (r->caller == SRV_ADMIN)
			printf(" %s", srv_perm_name(p));
		putchar('\n');
	}
}

/* Room for max_connections descriptors, within the hard limit. */
static void raise_fd_limit(struct srv_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_connections + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		cfg->max_connections = rl.rlim_cur > 512 ? (unsigned)(rl.rlim_cur - 256) : 256;
		srv_log(SRV_LOG_WARN, "open file limit %llu: at most %u connections",
			(unsigned long long)rl.rlim_cur, cfg->max_connections);
	}
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* What another server process on the same database changed. */
static void on_change(void *arg, const char *what)
{
	const struct srv_ctx *ctx = arg;
	srv_repo_changed(ctx->repo, what);
	srv_repo_changed(ctx->director, what);
}

/* glibc gives the free top of a thread's heap back to the kernel from
 * 128 KiB on, and maps blocks of 128 KiB and more on their own: each
 * request's working memory then comes back as fresh pages, faulted in and
 * zeroed by the kernel, again and again. The server keeps up to 64 MiB
 * free per heap and maps only blocks of 4 MiB and more. */
static void heap_tune(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
					      {"port-file", required_argument, NULL, 'p'},
					      {"help", no_argument, NULL, 'h'},
					      {"routes", no_argument, NULL, 'r'},
					      {NULL, 0, NULL, 0}};
	const char *config = NULL, *port_file = NULL;
	struct srv_config cfg;
	struct srv_store *store = NULL;
	struct srv_repo repo, director;
	struct srv_http *http = NULL;
	struct srv_alerts *alerts = NULL;
	struct srv_campaigns *campaigns = NULL;
	struct srv_ca ca = {0};
	struct srv_ctx ctx = {&cfg, &repo, &director, NULL, &ca, NULL};
	struct upt_error err = {0};
	struct sigaction sa = {0};
	char images[1100];
	int c, rc;
	heap_tune();
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'p')
			port_file = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), fputs(usage_more, stdout), 0;
		else if (c == 'r')
			return print_routes(), 0;
		else
			return fputs(usage, stderr), fputs(usage_more, stderr), 2;
	}
	if (!config || optind != argc)
		return fputs(usage, stderr), fputs(usage_more, stderr), 2;
	rc = srv_config_load(&cfg, config, &err);
	if (rc == UPT_OK) {
		srv_log_threshold = cfg.log_level;
		raise_fd_limit(&cfg);
		snprintf(images, sizeof images, "%s/images", cfg.data_dir);
		rc = host_mkdirs(images, &err);
	}
	if (rc == UPT_OK)
		rc = strncmp(cfg.database, "postgresql://", 13) == 0 ||
			     strncmp(cfg.database, "postgres://", 11) == 0
			 ? srv_store_pg_open(
			       &store, cfg.database,
			       cfg.database_pool ? cfg.database_pool : cfg.threads + 2, &err)
			 : srv_store_sqlite_open(&store, cfg.database, &err);
	ctx.store = store;
	if (rc == UPT_OK && cfg.director_cache_ms < 0)
		/* PostgreSQL announces every change to the other processes
		 * (NOTIFY): a device's cached metadata lives until it is due to
		 * be signed anew, ten minutes at most; processes sharing a
		 * SQLite file learn of each other's changes only as entries
		 * expire */
		cfg.director_cache_ms = strcmp(store->ops->name, "postgresql") == 0 ? 600000 : 2000;
	if (rc == UPT_OK) {
		store->policy = cfg.policy;
		rc = srv_repo_open(&repo, "image", false, store, &cfg, &err);
	}
	if (rc == UPT_OK)
		rc = srv_repo_open(&director, "director", true, store, &cfg, &err);
	if (rc == UPT_OK) {
		char tls[1100];
		snprintf(tls, sizeof tls, "%s/tls", cfg.data_dir);
		rc = srv_ca_open(&ca, tls, cfg.tls_names, &err);
	}
	if (rc == UPT_OK)
		rc = store->ops->watch(store, on_change, &ctx, &err);
	if (rc == UPT_OK)
		rc = srv_alerts_start(&alerts, store, &cfg, &err);
	if (rc == UPT_OK && !(ctx.logins = srv_limiter_new()))
		rc = upt_error_set(&err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK)
		rc = srv_campaigns_start(&campaigns, &repo, &director, &err);
	if (rc == UPT_OK)
		rc = srv_http_start(&http, &ctx, &err);
	if (rc != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "%s: %s", upt_err_name(rc), err.msg);
		srv_campaigns_stop(campaigns);
		srv_alerts_stop(alerts);
		srv_limiter_free(ctx.logins);
		if (store)
			store->ops->close(store); /* stops the watcher first */
		return 1;
	}
	if (port_file) {
		char p[32];
		snprintf(p, sizeof p, "%d\n%d\n", srv_http_port(http), srv_http_repo_port(http));
		if (host_write_file(port_file, p, strlen(p), &err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "%s", err.msg);
	}
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv_log(SRV_LOG_INFO, "listening on https://%s:%d (%u threads, store %s)",
		cfg.listen_address, srv_http_port(http), cfg.threads, store->ops->name);
	if (srv_http_repo_port(http) >= 0)
		srv_log(SRV_LOG_INFO, "public Image repository on http://%s:%d/repo/",
			cfg.listen_address, srv_http_repo_port(http));
	for (int tick = 0; !stopping; tick++) {
		if (tick % 600 == 0 &&
		    srv_repo_refresh_online(&repo, (int64_t)time(NULL), &err) != UPT_OK)
			srv_log(SRV_LOG_ERROR, "re-signing: %s", err.msg);
		usleep(100000);
	}
	srv_log(SRV_LOG_INFO, "stopping");
	srv_http_stop(http);
	srv_campaigns_stop(campaigns);
	srv_alerts_stop(alerts);
	store->ops->unwatch(store);
	srv_repo_close(&repo);
	srv_repo_close(&director);
	srv_ca_close(&ca);
	srv_limiter_free(ctx.logins);
	store->ops->close(store);
	return 0;
}
