/* uptake CLI: bring the workspace up to what its server holds (see
 * reconcile.c). */
#ifndef UPTAKE_CLI_RECONCILE_H
#define UPTAKE_CLI_RECONCILE_H

#include "workspace.h"

/* Before a command signs anything: adopt the newer signed metadata the
 * server holds when this workspace's keys signed it (a reply lost after
 * the server accepted an upload), say so on stderr as "uptake CMD:
 * reconciled: ...", and refuse (nothing changed) when the server holds
 * metadata the workspace's keys did not sign. */
int ws_reconcile(const struct ws *w, const char *cmd, const char *pass_env, struct upt_error *err);

/* The current targets (metadata/targets.json) as the next version, same
 * content, signed by `key`, uploaded and recorded. *version is the new
 * version. */
int ws_resign_targets(const struct ws *w, struct upt_privkey *key, int64_t expires,
		      int64_t *version, struct upt_error *err);

#endif
