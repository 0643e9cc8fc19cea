/* uptake-server: the configuration file ('key = value' lines). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../host/host.h"
#include "server.h"

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

int srv_config_parse(struct srv_config *c, const char *path, const uint8_t *data, size_t len,
		     struct upt_error *err)
{
	char *text;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc, line = 0;
	memset(c, 0, sizeof *c);
	snprintf(c->listen_address, sizeof c->listen_address, "127.0.0.1");
	c->port = 8080;
	c->threads = cores > 0 ? 8 * (unsigned)cores : 16;
	/* PostgreSQL: manifests in flight at once, each waiting for its
	 * commit, so that the CPU stays busy while a slow commit holds some
	 * (SQLite's committing threads wait for none) */
	c->write_threads = cores > 0 ? 32 * (unsigned)cores : 64;
	snprintf(c->ui_dir, sizeof c->ui_dir, "%s", UPTAKE_UI_DIR);
	c->max_metadata_bytes = 8u << 20;
	c->max_image_bytes = 4ull << 30;
	c->snapshot_lifetime = 168 * 3600;
	c->repo_http_port = -1;
	snprintf(c->tls_names, sizeof c->tls_names, "localhost,127.0.0.1");
	c->timestamp_lifetime = 24 * 3600;
	c->log_level = SRV_LOG_INFO;
	c->max_connections = 4096;
	c->max_connections_per_ip = 64;
	c->header_timeout = 10;
	c->idle_timeout = 60;
	c->session_ttl = 8 * 3600;
	c->director_cache_ms = -1; /* by the database: srv_director_cache_default */
	c->policy = (struct srv_policy)SRV_POLICY_DEFAULT;
	if (len > SRV_CONFIG_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: larger than %d bytes", path,
				     SRV_CONFIG_MAX);
	if (memchr(data, 0, len))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: a NUL byte in the text", path);
	if (!(text = malloc(len + 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	memcpy(text, data, len);
	text[len] = 0;
	rc = UPT_OK;
	for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
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
		else if (strcmp(k, "ui_dir") == 0)
			STR(ui_dir);
		else if (strcmp(k, "admin_token") == 0)
			STR(admin_token);
		else if (strcmp(k, "tls_names") == 0)
			STR(tls_names);
		else if (strcmp(k, "repo_http_port") == 0)
			bad = parse_u64(v, 0, 65535, &n) || !((c->repo_http_port = (int)n), 1);
		else if (strcmp(k, "admin_token_file") == 0) {
			if (strlen(v) >= sizeof c->admin_token_file)
				bad = true;
			else
				snprintf(c->admin_token_file, sizeof c->admin_token_file, "%s", v);
		} else if (strcmp(k, "port") == 0)
			bad = parse_u64(v, 0, 65535, &n) || !((c->port = (int)n), 1);
		else if (strcmp(k, "max_connections") == 0)
			bad = parse_u64(v, 16, 1u << 20, &n) ||
			      !((c->max_connections = (unsigned)n), 1);
		else if (strcmp(k, "max_connections_per_ip") == 0)
			bad = parse_u64(v, 0, 1u << 20, &n) ||
			      !((c->max_connections_per_ip = (unsigned)n), 1);
		else if (strcmp(k, "header_timeout") == 0)
			bad = parse_u64(v, 1, 3600, &n) || !((c->header_timeout = (unsigned)n), 1);
		else if (strcmp(k, "idle_timeout") == 0)
			bad = parse_u64(v, 1, 3600, &n) || !((c->idle_timeout = (unsigned)n), 1);
		else if (strcmp(k, "session_ttl") == 0)
			bad =
			    parse_u64(v, 60, 7 * 86400, &n) || !((c->session_ttl = (int64_t)n), 1);
		else if (strcmp(k, "alert_webhook") == 0) {
			bad = c->policy.n_webhooks >= SRV_MAX_WEBHOOKS ||
			      strlen(v) >= sizeof c->policy.webhooks[0] ||
			      (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0);
			if (!bad)
				snprintf(c->policy.webhooks[c->policy.n_webhooks++],
					 sizeof c->policy.webhooks[0], "%s", v);
		} else if (strcmp(k, "alert_webhook_secret") == 0)
			STR(alert_webhook_secret);
		else if (strcmp(k, "silent_after") == 0)
			bad = parse_u64(v, 0, 10ull * 365 * 86400, &n) ||
			      !((c->silent_after = (int64_t)n), 1);
		else if (strcmp(k, "director_cache_ms") == 0)
			bad = parse_u64(v, 0, 3600000, &n) ||
			      !((c->director_cache_ms = (int64_t)n), 1);
		else if (strcmp(k, "threads") == 0)
			bad = parse_u64(v, 1, 256, &n) || !((c->threads = (unsigned)n), 1);
		else if (strcmp(k, "write_threads") == 0)
			bad = parse_u64(v, 1, 1024, &n) || !((c->write_threads = (unsigned)n), 1);
		else if (strcmp(k, "database_pool") == 0)
			bad = parse_u64(v, 0, 1024, &n) || !((c->database_pool = (unsigned)n), 1);
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
		else if (strcmp(k, "device_report_history") == 0)
			bad = parse_u64(v, 1, 100000, &n) ||
			      !((c->policy.report_history = (int64_t)n), 1);
		else if (strcmp(k, "manifest_history") == 0)
			bad = parse_u64(v, 1, 10000000, &n) ||
			      !((c->policy.manifest_history = (int64_t)n), 1);
		else if (strcmp(k, "manifest_history_days") == 0)
			bad = parse_u64(v, 0, 36500, &n) ||
			      !((c->policy.manifest_max_age = (int64_t)n * 86400), 1);
		else if (strcmp(k, "alert_history") == 0)
			bad = parse_u64(v, 1, 10000000, &n) ||
			      !((c->policy.alert_history = (int64_t)n), 1);
		else if (strcmp(k, "manifest_bytes_per_ecu") == 0)
			bad = parse_u64(v, 1024, 1u << 20, &n) ||
			      !((c->policy.manifest_bytes_per_ecu = (size_t)n), 1);
		else if (strcmp(k, "max_device_report_bytes") == 0)
			bad = parse_u64(v, 1024, 64u << 20, &n) ||
			      !((c->policy.report_max_bytes = (size_t)n), 1);
		else if (strcmp(k, "log_level") == 0) {
			int l = srv_log_level_parse(v);
			bad = l < 0;
			if (!bad)
				c->log_level = (enum srv_log_level)l;
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
	if (rc == UPT_OK && (!c->database[0] || !c->data_dir[0]))
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "%s: database and data_dir are required", path);
	if (rc == UPT_OK && c->policy.n_webhooks && strlen(c->alert_webhook_secret) < 16)
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "%s: alert_webhook needs an alert_webhook_secret of at least 16 "
				   "characters (the key of the HMAC over each delivery)",
				   path);
	return rc;
}

int srv_config_load(struct srv_config *c, const char *path, struct upt_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc = host_read_file(path, SRV_CONFIG_MAX, &text, &len, err);
	if (rc != UPT_OK)
		return rc;
	rc = srv_config_parse(c, path, text, len, err);
	free(text);
	if (rc == UPT_OK && c->admin_token_file[0]) {
		uint8_t *tok = NULL;
		size_t tl = 0;
		rc = host_read_file(c->admin_token_file, sizeof c->admin_token - 1, &tok, &tl, err);
		if (rc == UPT_OK) {
			snprintf(c->admin_token, sizeof c->admin_token, "%s", trim((char *)tok));
			free(tok);
		}
	}
	if (rc == UPT_OK && strlen(c->admin_token) < 16)
		rc =
		    upt_error_set(err, UPT_ERR_FIELD_MISSING,
				  "%s: admin_token (or admin_token_file) of at least 16 characters "
				  "is required",
				  path);
	return rc;
}
