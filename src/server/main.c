/* uptake-server: entry point, configuration, logging, signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../host/host.h"
#include "server.h"

static const char usage[] =
    "usage: uptake-server --config FILE [--port-file FILE]\n\n"
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
    "  threads                  HTTP worker threads (default: number of cores)\n"
    "  max_metadata_bytes       largest metadata upload (default 8388608)\n"
    "  max_image_bytes          largest image upload (default 4294967296)\n"
    "  snapshot_lifetime_hours  expiry of signed snapshots (default 168)\n"
    "  timestamp_lifetime_hours expiry of signed timestamps (default 24)\n"
    "  log_level                error, warn, info or debug (default info)\n"
    "  tls_names                names in the server certificate (default\n"
    "                           localhost,127.0.0.1)\n"
    "  repo_http_port           also serve the public Image repository (only\n"
    "                           /repo/) over plain HTTP on this port (0: any)\n"
    "Everything on `port` is HTTPS; the server makes its CA and certificate in\n"
    "data_dir/tls at first start (clients trust data_dir/tls/ca.pem).\n"
    "--port-file writes the HTTPS port, and the plain repository port on a second\n"
    "line (for tests with port 0).\n"
    "SIGTERM or SIGINT stops the server cleanly. Exit 0 after a clean stop,\n"
    "1 on a start-up error, 2 on a usage error.\n";

enum srv_log_level srv_log_threshold = SRV_LOG_INFO;

void srv_log(enum srv_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	if (level > srv_log_threshold)
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s uptake-server %s: ", when, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;
	errno = 0;
	if (*v < '0' || *v > '9')
		return -1;
	x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int srv_config_load(struct srv_config *c, const char *path, struct upt_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	char token_file[1024] = "";
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc, line = 0;
	memset(c, 0, sizeof *c);
	snprintf(c->listen_address, sizeof c->listen_address, "127.0.0.1");
	c->port = 8080;
	c->threads = cores > 0 ? (unsigned)cores : 2;
	c->max_metadata_bytes = 8u << 20;
	c->max_image_bytes = 4ull << 30;
	c->snapshot_lifetime = 168 * 3600;
	c->repo_http_port = -1;
	snprintf(c->tls_names, sizeof c->tls_names, "localhost,127.0.0.1");
	c->timestamp_lifetime = 24 * 3600;
	rc = host_read_file(path, 1 << 20, &text, &len, err);
	if (rc != UPT_OK)
		return rc;
	for (char *p = (char *)text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		char *k, *v, *eq;
		uint64_t n;
		bool bad = false;
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		line++;
		if (strchr(p, '#'))
			*strchr(p, '#') = 0;
		k = trim(p);
		if (!*k)
			continue;
		if (!(eq = strchr(k, '='))) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: expected key = value",
					   path, line);
			break;
		}
		*eq = 0;
		v = trim(eq + 1);
		k = trim(k);
#define STR(field)                                                    \
	do {                                                          \
		if (strlen(v) >= sizeof c->field)                     \
			bad = true;                                   \
		else                                                  \
			snprintf(c->field, sizeof c->field, "%s", v); \
	} while (0)
		if (strcmp(k, "listen_address") == 0)
			STR(listen_address);
		else if (strcmp(k, "database") == 0)
			STR(database);
		else if (strcmp(k, "data_dir") == 0)
			STR(data_dir);
		else if (strcmp(k, "admin_token") == 0)
			STR(admin_token);
		else if (strcmp(k, "tls_names") == 0)
			STR(tls_names);
		else if (strcmp(k, "repo_http_port") == 0)
			bad = parse_u64(v, 0, 65535, &n) || !((c->repo_http_port = (int)n), 1);
		else if (strcmp(k, "admin_token_file") == 0) {
			if (strlen(v) >= sizeof token_file)
				bad = true;
			else
				snprintf(token_file, sizeof token_file, "%s", v);
		} else if (strcmp(k, "port") == 0)
			bad = parse_u64(v, 0, 65535, &n) || !((c->port = (int)n), 1);
		else if (strcmp(k, "threads") == 0)
			bad = parse_u64(v, 1, 256, &n) || !((c->threads = (unsigned)n), 1);
		else if (strcmp(k, "max_metadata_bytes") == 0)
			bad = parse_u64(v, 1024, 1ull << 30, &n) ||
			      !((c->max_metadata_bytes = (size_t)n), 1);
		else if (strcmp(k, "max_image_bytes") == 0)
			bad = parse_u64(v, 1, 1ull << 44, &n) || !((c->max_image_bytes = n), 1);
		else if (strcmp(k, "snapshot_lifetime_hours") == 0)
			bad = parse_u64(v, 1, 24 * 3650, &n) ||
			      !((c->snapshot_lifetime = (int64_t)n * 3600), 1);
		else if (strcmp(k, "timestamp_lifetime_hours") == 0)
			bad = parse_u64(v, 1, 24 * 3650, &n) ||
			      !((c->timestamp_lifetime = (int64_t)n * 3600), 1);
		else if (strcmp(k, "log_level") == 0) {
			static const char *const levels[] = {"error", "warn", "info", "debug"};
			bad = true;
			for (int i = 0; i < 4; i++)
				if (strcmp(v, levels[i]) == 0) {
					srv_log_threshold = (enum srv_log_level)i;
					bad = false;
				}
		} else {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: unknown key '%s'",
					   path, line, k);
			break;
		}
#undef STR
		if (bad) {
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s:%d: bad value for %s",
					   path, line, k);
			break;
		}
	}
	free(text);
	if (rc == UPT_OK && token_file[0]) {
		uint8_t *tok = NULL;
		size_t tl = 0;
		rc = host_read_file(token_file, sizeof c->admin_token - 1, &tok, &tl, err);
		if (rc == UPT_OK) {
			snprintf(c->admin_token, sizeof c->admin_token, "%s", trim((char *)tok));
			free(tok);
		}
	}
	if (rc == UPT_OK && (!c->database[0] || !c->data_dir[0]))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "%s: database and data_dir are required", path);
	if (rc == UPT_OK && strlen(c->admin_token) < 16)
		rc =
		    upt_error_set(err, UPT_ERR_FIELD_MISSING,
				  "%s: admin_token (or admin_token_file) of at least 16 characters "
				  "is required",
				  path);
	return rc;
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
					      {"port-file", required_argument, NULL, 'p'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *config = NULL, *port_file = NULL;
	struct srv_config cfg;
	struct srv_store *store = NULL;
	struct srv_repo repo, director;
	struct srv_http *http = NULL;
	struct srv_ca ca = {0};
	struct upt_error err = {0};
	struct sigaction sa = {0};
	char images[1100];
	int c, rc;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'p')
			port_file = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), 0;
		else
			return fputs(usage, stderr), 2;
	}
	if (!config || optind != argc)
		return fputs(usage, stderr), 2;
	rc = srv_config_load(&cfg, config, &err);
	if (rc == UPT_OK) {
		snprintf(images, sizeof images, "%s/images", cfg.data_dir);
		rc = host_mkdirs(images, &err);
	}
	if (rc == UPT_OK)
		rc = strncmp(cfg.database, "postgresql://", 13) == 0 ||
			     strncmp(cfg.database, "postgres://", 11) == 0
			 ? srv_store_pg_open(&store, cfg.database, &err)
			 : srv_store_sqlite_open(&store, cfg.database, &err);
	if (rc == UPT_OK)
		rc = srv_repo_open(&repo, "image", false, store, &cfg, &err);
	if (rc == UPT_OK)
		rc = srv_repo_open(&director, "director", true, store, &cfg, &err);
	if (rc == UPT_OK) {
		char tls[1100];
		snprintf(tls, sizeof tls, "%s/tls", cfg.data_dir);
		rc = srv_ca_open(&ca, tls, cfg.tls_names, &err);
	}
	if (rc == UPT_OK)
		rc = srv_http_start(&http, &cfg, &repo, &director, &ca, &err);
	if (rc != UPT_OK) {
		srv_log(SRV_LOG_ERROR, "%s: %s", upt_err_name(rc), err.msg);
		if (store)
			store->ops->close(store);
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
	srv_repo_close(&repo);
	srv_repo_close(&director);
	srv_ca_close(&ca);
	store->ops->close(store);
	return 0;
}
