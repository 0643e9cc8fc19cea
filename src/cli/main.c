/* uptake: the release engineer's command line. One file per sub-command;
 * this table dispatches to them. */
#include <string.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
    {"key", cmd_key, "generate keys (offline and online roles), print key ids"},
    {"metadata", cmd_metadata, "create unsigned root, targets, snapshot, timestamp metadata"},
    {"sign", cmd_sign, "sign metadata with one or more keys; merge signatures"},
    {"verify", cmd_verify, "verify metadata (and target files) against a trusted root"},
    {"inspect", cmd_inspect, "show what a metadata file says, without trusting it"},
    {"init", cmd_init, "create a workspace bound to an uptake server (keys, first root)"},
    {"publish", cmd_publish, "sign and upload an image to the Image repository"},
    {"device", cmd_device, "add devices (TLS certificates), their lifecycle, list, show"},
    {"assign", cmd_assign, "assign an image to ECUs of devices (the Director)"},
    {"product", cmd_product, "products and their CRA support periods"},
    {"campaign", cmd_campaign, "staged update campaigns: create, start, approve, show..."},
    {"alerts", cmd_alerts, "alerts raised from devices' evidence: list, acknowledge"},
    {"sbom", cmd_sbom, "the SBOM of a published image: show, components; check a file"},
    {"vuln", cmd_vuln, "vulnerability records: import (OSV), show, mark exploited"},
    {"advisory", cmd_advisory, "write a CSAF 2.0 security advisory about a vulnerability"},
    {"report", cmd_report, "fleet reports from signed evidence (support)"},
    {"user", cmd_user, "users of the admin API and dashboard: roles, API tokens"},
    {"audit", cmd_audit, "the audit log of admin actions and logins"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: uptake COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'uptake COMMAND --help' describes a command.\n"
		   "exit codes: 0 ok, 1 rejected (verification failed), 2 usage error,\n"
		   "            3 input error (unreadable or malformed file), 4 internal error\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("uptake 0.1.0\n");
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "uptake: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
