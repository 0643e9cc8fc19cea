/* uptake-agent: requests to the server with a JSON body (registration,
 * manifests), over the process's mutual TLS and within its deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/host.h"
#include "agent.h"

int agent_request(const struct agent_config *c, const char *method, const char *path,
		  const char *body, struct upt_error *err)
{
	char url[1024], *resp = NULL;
	struct host_request rq = {0};
	size_t rl;
	long status = 0;
	int rc;
	if ((size_t)snprintf(url, sizeof url, "%s%s", c->server, path) >= sizeof url)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: URL too long", path);
	rq.method = method;
	rq.url = url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	rc = host_http_request(&rq, AGENT_REPLY_MAX, &resp, &rl, &status, err);
	/* the server's reason, bounded: it is text from outside */
	if (rc == UPT_OK && (status < 200 || status > 299))
		rc = upt_error_set(err, UPT_ERR_IO, "%s %s: HTTP %lld: %.200s", method, path,
				   (long long)status, resp ? resp : "");
	free(resp);
	return rc;
}
