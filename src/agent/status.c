/* uptake-agent status: what the device runs and knows, from its state
 * directory and boot environment, and the support end its Director
 * signed; as lines or as JSON (through libuptake's writer). Nothing is
 * sent or changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/json.h>

#include "agent.h"

int agent_status(const struct agent_config *c, bool json)
{
	struct bootenv b = {0};
	struct slot_info run;
	struct agent_support s;
	struct upt_error err = {0};
	char counter_text[32], notified[STATE_SMALL_MAX];
	int64_t counter = 0, days_left = 0;
	bool ab = strcmp(c->install, "ab") == 0, have_boot;
	int slot;
	const char *status;
	have_boot = !ab || boot_load(&b, c, &err) == UPT_OK;
	slot = ab && have_boot ? b.active : 0;
	state_slot_load(c, slot, &run);
	if (state_read(c, "counter", counter_text, sizeof counter_text) != 0 ||
	    state_parse_counter(&counter, (const uint8_t *)counter_text, strlen(counter_text),
				NULL) != UPT_OK)
		counter = 0;
	if (state_read(c, "notified", notified, sizeof notified) != 0)
		notified[0] = 0;
	agent_support_load(c, &s);
	status = agent_support_status(c, &s, (int64_t)time(NULL), &days_left);
	if (json) {
		struct upt_json v[16], nv[16], *top[10], *r[3], *sp[4], *nt[16];
		size_t nn = 0, i = 0;
		char *text = NULL, *copy = strdup(notified);
		int rc;
		if (!copy)
			return 1;
		for (char *p = copy; *p && nn < 16;) { /* one event kind per line */
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = 0;
			nt[nn] = agent_json_str(&nv[nn], NULL, p);
			nn++;
			if (!nl)
				break;
			p = nl + 1;
		}
		top[i++] = agent_json_bool(&v[0], "auto_update", c->auto_update);
		top[i++] = agent_json_str(&v[1], "hardware_id", c->hardware_id);
		top[i++] = agent_json_arr(&v[2], "notified", nt, nn);
		top[i++] = agent_json_str(&v[3], "primary_serial", c->primary_serial);
		top[i++] = agent_json_int(&v[4], "report_counter", counter);
		r[0] = agent_json_int(&v[5], "length", run.length);
		r[1] = agent_json_str(&v[6], "name", run.name);
		r[2] = agent_json_str(&v[7], "sha256", run.sha256);
		top[i++] = run.name[0] ? agent_json_obj(&v[8], "running", r, 3)
				       : agent_json_str(&v[8], "running", NULL);
		top[i++] = agent_json_str(&v[9], "slot", ab ? (slot ? "b" : "a") : NULL);
		sp[0] = s.end[0] ? agent_json_int(&v[10], "days_left", days_left)
				 : agent_json_str(&v[10], "days_left", NULL);
		sp[1] = agent_json_str(&v[11], "end", s.end[0] ? s.end : NULL);
		sp[2] = agent_json_str(&v[12], "product", s.end[0] ? s.product : NULL);
		sp[3] = agent_json_str(&v[13], "status", status);
		top[i++] = agent_json_obj(&v[14], "support", sp, 4);
		top[i++] = agent_json_bool(&v[15], "trial", ab && have_boot && b.upgrade_available);
		{
			struct upt_json doc;
			rc = agent_json_text(&text, agent_json_obj(&doc, NULL, top, i), &err);
		}
		if (rc == UPT_OK)
			printf("%s\n", text);
		free(text);
		free(copy);
		return rc == UPT_OK ? 0 : 1;
	}
	printf("primary ECU     %s (%s)\n", c->primary_serial, c->hardware_id);
	printf("server          %s\n", c->server);
	if (run.name[0])
		printf("running         %s (%lld bytes, sha256 %s)\n", run.name,
		       (long long)run.length, run.sha256);
	else
		printf("running         nothing installed yet\n");
	if (ab)
		printf("slot            %c%s\n", slot ? 'b' : 'a',
		       !have_boot            ? " (boot environment unreadable)"
		       : b.upgrade_available ? " (on trial)"
					     : "");
	printf("auto updates    %s\n", c->auto_update ? "on" : "off");
	printf("report counter  %lld\n", (long long)counter);
	if (!s.end[0])
		printf("support end     not known (the Director has signed none yet)\n");
	else if (strcmp(status, "ended") == 0)
		printf("support end     %s (%s): ended\n", s.end, s.product);
	else
		printf("support end     %s (%s): %s, %lld days left\n", s.end, s.product,
		       strcmp(status, "ending") == 0 ? "ending" : "in support",
		       (long long)days_left);
	for (char *p = notified; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		printf("notified        %s\n", p);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}
