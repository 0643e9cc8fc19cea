/* uptake advisory: a CSAF 2.0 security advisory about one vulnerability
 * (CRA Annex I Part II (4)), written by the server from what it knows: the
 * product tree from the products and the published images concerned, the
 * affected images, the first release that fixes it (a vendor_fix
 * remediation naming it), the images a VEX statement clears. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/json.h>

#include "../host/host.h"
#include "workspace.h"

static const char usage[] =
    "usage: uptake advisory ID --out FILE --publisher NAME --namespace URL [--dir DIR]\n\n"
    "Writes the CSAF 2.0 security advisory (csaf_security_advisory) about\n"
    "vulnerability ID to FILE (\"-\": standard output), published by NAME whose\n"
    "CSAF namespace is URL (https://...). The advisory names the images the\n"
    "vulnerability affects (known_affected), the first published release that\n"
    "fixes it (fixed, with a vendor_fix remediation) and the images a VEX\n"
    "statement clears (known_not_affected).\n"
    "Exit 0 ok, 2 usage, 3 input or server refusal.\n";

int cmd_advisory(int argc, char **argv)
{
	static const struct option longs[] = {{"dir", required_argument, NULL, 'd'},
					      {"out", required_argument, NULL, 'o'},
					      {"publisher", required_argument, NULL, 'p'},
					      {"namespace", required_argument, NULL, 'n'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	const char *dir = ".", *out = NULL, *pub = NULL, *ns = NULL;
	char qid[400], qp[700], qn[1300], api[2500], *resp = NULL;
	struct ws w;
	struct upt_error err = {0};
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'p')
			pub = optarg;
		else if (c == 'n')
			ns = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), CLI_OK;
		else
			return fputs(usage, stderr), CLI_USAGE;
	}
	if (optind != argc - 1 || !out || !pub || !ns ||
	    host_url_quote(qid, sizeof qid, argv[optind], false) != UPT_OK ||
	    host_url_quote(qp, sizeof qp, pub, false) != UPT_OK ||
	    host_url_quote(qn, sizeof qn, ns, false) != UPT_OK)
		return fputs(usage, stderr), CLI_USAGE;
	snprintf(api, sizeof api, "vulns/%s/advisory?publisher=%s&namespace=%s", qid, qp, qn);
	rc = ws_load(&w, dir, &err);
	if (rc == UPT_OK)
		rc = host_init(&err);
	if (rc == UPT_OK)
		rc = ws_http(&w, "GET", api, NULL, NULL, 0, NULL, false, &resp, &err);
	if (rc == UPT_OK)
		rc = cli_write_file(out, resp, strlen(resp), 0644, false, &err);
	free(resp);
	if (rc != UPT_OK) {
		cli_err("advisory", "%s", err.msg);
		return cli_input_exit_code(rc);
	}
	if (strcmp(out, "-") != 0)
		printf("advisory %s: written to %s\n", argv[optind], out);
	return CLI_OK;
}
