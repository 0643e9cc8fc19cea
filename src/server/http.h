/* uptake-server: the HTTP front end (libmicrohttpd). HTTPS on cfg->port,
 * client certificates requested and checked against the server's CA; the
 * public Image repository also over plain HTTP on cfg->repo_http_port when
 * configured. Requests go through the route table (api.h). */
#ifndef UPTAKE_SERVER_HTTP_H
#define UPTAKE_SERVER_HTTP_H

#include "api.h"

struct srv_http;
/* `ctx` must outlive the front end. Removes what killed uploads left in
 * data_dir/images before it listens. */
int srv_http_start(struct srv_http **out, const struct srv_ctx *ctx, struct upt_error *err);
int srv_http_port(const struct srv_http *h);
int srv_http_repo_port(const struct srv_http *h);
void srv_http_stop(struct srv_http *h);

#endif
