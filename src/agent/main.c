/* uptake-agent: checks for updates on its own, verifies them with Uptane
 * full verification, installs them into the inactive A/B slot, switches
 * the bootloader to try it, proves the new slot with health checks after
 * the reboot (or falls back), and reports signed version manifests.
 *
 *   uptake-agent --config FILE            run: a cycle every interval (+ jitter)
 *   uptake-agent --config FILE once       one cycle
 *   uptake-agent check ...                one verification, nothing installed (check.c)
 *   uptake-agent --config FILE boot       the simulated bootloader's power-on
 *   uptake-agent --config FILE status [--json]  what the device runs, its support end
 *
 * Exit codes: 0 done, 1 failed (see stderr), 2 usage or configuration,
 * 3 a reboot is needed (an image was installed, or the new slot failed its
 * health checks and the previous one was restored). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../host/host.h"
#include "agent.h"

static const char usage[] =
    "usage: uptake-agent --config FILE [once|boot|status [--json]]\n"
    "       uptake-agent check --director URL --image-repo URL ... (check --help)\n\n"
    "Without a command: a cycle now and then every `interval` seconds (plus up to\n"
    "`jitter`), automatic updates on unless `auto_update = false`. once: one\n"
    "cycle. boot: the simulated bootloader's power-on (counts tries of a new slot,\n"
    "falls back after boot_limit). status: what the device runs, its report\n"
    "counter and the support end its Director signed (--json: as JSON).\n"
    "Exit 0 done, 1 failed, 2 usage, 3 reboot needed.\n";

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
					      {"help", no_argument, NULL, 'h'},
					      {"json", no_argument, NULL, 'j'},
					      {NULL, 0, NULL, 0}};
	struct agent_config cfg;
	struct upt_error err = {0};
	const char *config = NULL, *cmd = NULL;
	bool json = false;
	int c, rc;
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return agent_check_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), 0;
		else if (c == 'j')
			json = true;
		else
			return fputs(usage, stderr), 2;
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (!config || optind != argc ||
	    (cmd && strcmp(cmd, "once") != 0 && strcmp(cmd, "boot") != 0 &&
	     strcmp(cmd, "status") != 0) ||
	    (json && (!cmd || strcmp(cmd, "status") != 0)))
		return fputs(usage, stderr), 2;
	if (agent_config_load(&cfg, config, &err) != UPT_OK) {
		agent_log("%s", err.msg);
		return 2;
	}
	if (cmd && strcmp(cmd, "status") == 0)
		return agent_status(&cfg, json);
	if (cmd && strcmp(cmd, "boot") == 0) {
		if (host_mkdirs(cfg.state_dir, &err) != UPT_OK ||
		    boot_power_on(&cfg, &err) != UPT_OK) {
			agent_log("boot: %s", err.msg);
			return 1;
		}
		return 0;
	}
	if (host_init(&err) != UPT_OK) {
		agent_log("%s", err.msg);
		return 1;
	}
	host_set_tls(cfg.ca, cfg.cert, cfg.key);
	host_set_rate_limit(cfg.max_download_rate);
	host_set_deadline(cfg.deadline_base, cfg.min_download_rate);
	/* start-up: secondaries that start late connect to the wait port */
	sec_wait(&cfg);
	if (cmd)
		return agent_cycle(&cfg);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int failures = 0;;) {
		unsigned wait;
		rc = agent_cycle(&cfg);
		if (rc == EXIT_REBOOT)
			return rc; /* the supervisor (or the system) reboots */
		/* after a failure: retry sooner, backing off (1, 2, 4... minutes)
		 * up to the normal interval */
		failures = rc == 0 ? 0 : failures + 1;
		wait = (unsigned)cfg.interval;
		if (failures && failures < 12 && (60u << (failures - 1)) < wait)
			wait = 60u << (failures - 1);
		sleep(wait + (unsigned)(cfg.jitter ? rand() % (cfg.jitter + 1) : 0));
	}
}
