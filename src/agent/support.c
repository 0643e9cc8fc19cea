/* uptake-agent: the device's CRA support end, as the Director signs it
 * (signed.custom.support_end and .product of its targets metadata), kept
 * in state_dir/support; and the notify_dir hooks that tell the user when it
 * nears and when it has passed, once per event and support end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uptake/arena.h>
#include <uptake/json.h>
#include <uptake/metadata.h>

#include "../host/host.h"
#include "agent.h"

/* A date YYYY-MM-DD that exists: its day number since the epoch. */
int agent_date_parse(const char *s, int64_t *day)
{
	char iso[32], back[32];
	int64_t t;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return UPT_ERR_FIELD_VALUE;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return UPT_ERR_FIELD_VALUE;
	snprintf(iso, sizeof iso, "%sT00:00:00Z", s);
	if (upt_time_parse(&t, iso, strlen(iso)) != UPT_OK ||
	    upt_time_format(back, sizeof back, t) != UPT_OK || strcmp(back, iso) != 0)
		return UPT_ERR_FIELD_VALUE; /* 2026-02-30 and the like */
	*day = t / 86400;
	return UPT_OK;
}

static bool plain(const char *s, size_t max)
{
	if (strlen(s) > max)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int agent_support_parse(struct agent_support *s, const uint8_t *data, size_t len,
			struct upt_error *err)
{
	char text[STATE_SMALL_MAX], *nl, *prod;
	int64_t day;
	memset(s, 0, sizeof *s);
	if (len == 0)
		return UPT_OK; /* the Director names no support end */
	if (len >= sizeof text || memchr(data, 0, len))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE, "support: too long or not text");
	memcpy(text, data, len);
	text[len] = 0;
	if (!(nl = strchr(text, '\n')) || text[len - 1] != '\n')
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "support: expected \"YYYY-MM-DD\\nPRODUCT\\n\"");
	*nl = 0;
	prod = nl + 1;
	text[len - 1] = 0;
	if (agent_date_parse(text, &day) != UPT_OK || strchr(prod, '\n') ||
	    !plain(prod, sizeof s->product - 1))
		return upt_error_set(err, UPT_ERR_FIELD_VALUE,
				     "support: a date YYYY-MM-DD and a product name");
	snprintf(s->end, sizeof s->end, "%.10s", text);
	snprintf(s->product, sizeof s->product, "%s", prod);
	s->end_day = day;
	return UPT_OK;
}

void agent_support_load(const struct agent_config *c, struct agent_support *s)
{
	char text[STATE_SMALL_MAX];
	int got = state_read(c, "support", text, sizeof text);
	memset(s, 0, sizeof *s);
	if (got == 0 && agent_support_parse(s, (const uint8_t *)text, strlen(text), NULL) != UPT_OK)
		memset(s, 0, sizeof *s);
}

int agent_support_learn(const struct agent_config *c, int64_t version, struct upt_error *err)
{
	char path[AGENT_PATH + 32], text[STATE_SMALL_MAX];
	uint8_t *data = NULL;
	size_t len = 0, cap;
	void *mem = NULL;
	struct upt_arena a;
	struct upt_doc doc;
	const struct upt_json *custom, *end, *prod, *ver;
	struct agent_support s = {0};
	int rc;
	state_path(path, sizeof path, c, "director/targets.json");
	rc = host_read_file(path, 16u << 20, &data, &len, err);
	cap = 32 * len + 65536;
	if (rc == UPT_OK && !(mem = malloc(cap)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		upt_arena_init(&a, mem, cap);
		rc = upt_doc_parse(&doc, &a, data, len, 0, "director targets", err);
	}
	/* the file the verification just trusted, no other */
	ver = rc == UPT_OK ? upt_json_get(doc.signed_json, "version") : NULL;
	if (rc == UPT_OK && (!ver || ver->type != UPT_JSON_INT || ver->i != version))
		rc = upt_error_set(err, UPT_ERR_STATE,
				   "director targets: not the version just verified");
	custom = rc == UPT_OK ? upt_json_get(doc.signed_json, "custom") : NULL;
	end = upt_json_get(custom, "support_end");
	prod = upt_json_get(custom, "product");
	text[0] = 0;
	if (rc == UPT_OK && end) {
		int64_t day;
		if (end->type != UPT_JSON_STRING || agent_date_parse(end->str, &day) != UPT_OK ||
		    (prod && (prod->type != UPT_JSON_STRING || !plain(prod->str, 127))))
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE,
					   "director targets: custom.support_end: not a date "
					   "YYYY-MM-DD (or custom.product not a name)");
		else
			snprintf(text, sizeof text, "%s\n%s\n", end->str, prod ? prod->str : "");
	}
	if (rc == UPT_OK)
		rc = agent_support_parse(&s, (const uint8_t *)text, strlen(text), err);
	if (rc == UPT_OK)
		rc = state_write(c, "support", text, err);
	free(mem);
	free(data);
	return rc;
}

const char *agent_support_status(const struct agent_config *c, const struct agent_support *s,
				 int64_t now, int64_t *days_left)
{
	int64_t today = now / 86400;
	*days_left = s->end[0] ? s->end_day - today : 0;
	if (!s->end[0])
		return "unknown";
	if (s->end_day <= today)
		return "ended";
	return *days_left <= c->support_notify_days ? "ending" : "in-support";
}

/* Run one hook with the event in its environment, within health_timeout. */
static int run_hook(const struct agent_config *c, const char *exe, const char *event,
		    const struct agent_support *s, int64_t days_left)
{
	char days[24];
	pid_t pid;
	int status = 0;
	time_t deadline = time(NULL) + c->health_timeout;
	snprintf(days, sizeof days, "%lld", (long long)days_left);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		setenv("UPTAKE_EVENT", event, 1);
		setenv("UPTAKE_SUPPORT_END", s->end, 1);
		setenv("UPTAKE_SUPPORT_DAYS_LEFT", days, 1);
		setenv("UPTAKE_PRODUCT", s->product, 1);
		setenv("UPTAKE_PRIMARY_SERIAL", c->primary_serial, 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (w < 0 || time(NULL) > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(20000);
	}
}

/* Whether state_dir/notified holds the line "EVENT END". */
static bool notified(const struct agent_config *c, const char *line, char *all, size_t cap)
{
	size_t n = strlen(line);
	if (state_read(c, "notified", all, cap) != 0)
		all[0] = 0;
	for (const char *p = all; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p += len + (nl ? 1 : 0);
	}
	return false;
}

int agent_support_notify(const struct agent_config *c, int64_t now)
{
	struct agent_support s;
	struct dirent **list = NULL;
	char line[64], all[STATE_SMALL_MAX];
	int64_t days_left;
	const char *status, *event;
	int n, failed = 0;
	agent_support_load(c, &s);
	status = agent_support_status(c, &s, now, &days_left);
	if (strcmp(status, "ended") == 0)
		event = "support-ended";
	else if (strcmp(status, "ending") == 0)
		event = "support-ending";
	else
		return 0;
	snprintf(line, sizeof line, "%s %s", event, s.end);
	if (!c->notify_dir[0] || notified(c, line, all, sizeof all))
		return 0;
	n = scandir(c->notify_dir, &list, NULL, alphasort);
	if (n < 0) {
		agent_log("notify_dir %s: cannot be read", c->notify_dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char exe[AGENT_PATH + 300];
		struct stat st;
		snprintf(exe, sizeof exe, "%s/%s", c->notify_dir, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && stat(exe, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111)) {
			int rc = run_hook(c, exe, event, &s, days_left);
			if (rc != 0) {
				agent_log("notify hook %s failed (%d): %s tried again next cycle",
					  list[i]->d_name, rc, event);
				failed++;
			}
		}
		free(list[i]);
	}
	free(list);
	if (failed)
		return -1;
	/* remembered: this event for this support end runs once */
	if (strlen(all) + strlen(line) + 2 < sizeof all) {
		struct upt_error err = {0};
		size_t o = strlen(all);
		snprintf(all + o, sizeof all - o, "%s\n", line);
		if (state_write(c, "notified", all, &err) != UPT_OK) {
			agent_log("%s", err.msg);
			return -1;
		}
	}
	agent_log("support of %s %s on %s: notified", s.product[0] ? s.product : "this device",
		  strcmp(event, "support-ended") == 0 ? "ended" : "ends", s.end);
	return 0;
}
