/* uptake inspect: show what a metadata file says, without trusting it. */
#include <string.h>
#include <uptake/encode.h>

#include "cli.h"

static const char inspect_help[] =
    "usage: uptake inspect FILE\n\n"
    "Parses FILE as signed metadata (no signature is checked: nothing shown is\n"
    "trusted) and prints its role, version, expiry, keys, targets or meta entries.\n";

static void print_role_keys(const struct upt_role_keys *r)
{
	printf("  role %-10s threshold %u of %zu:", r->name, r->threshold, r->n_keyids);
	for (size_t i = 0; i < r->n_keyids; i++)
		printf(" %.16s", r->keyids[i]);
	printf("\n");
}

static void print_root(const struct upt_root *r)
{
	printf("consistent_snapshot: %s\nkeys:\n", r->consistent_snapshot ? "true" : "false");
	for (size_t i = 0; i < r->n_keys; i++)
		printf("  %s %s\n", r->keys[i].keyid, upt_key_type_name(r->keys[i].type));
	for (int i = 0; i < 4; i++)
		print_role_keys(&r->roles[i]);
}

static void print_hashes(const struct upt_hashes *h)
{
	char hex[2 * UPT_SHA512_LEN + 1];
	if (h->has_sha256) {
		upt_hex_encode(hex, h->sha256, UPT_SHA256_LEN);
		printf("    sha256 %s\n", hex);
	}
	if (h->has_sha512) {
		upt_hex_encode(hex, h->sha512, UPT_SHA512_LEN);
		printf("    sha512 %s\n", hex);
	}
}

static void print_targets(const struct upt_targets *t)
{
	printf("targets: %zu\n", t->n_targets);
	for (size_t i = 0; i < t->n_targets; i++) {
		const struct upt_target *g = &t->targets[i];
		printf("  %s: %lld bytes\n", g->name, (long long)g->length);
		print_hashes(&g->hashes);
		for (size_t j = 0; j < g->n_hardware_ids; j++)
			printf("    hardware id %s\n", g->hardware_ids[j]);
		for (size_t j = 0; j < g->n_ecus; j++)
			printf("    ECU %s (hardware id %s)\n", g->ecus[j].ecu_serial,
			       g->ecus[j].hardware_id);
		if (g->has_release_counter)
			printf("    release counter %lld\n", (long long)g->release_counter);
	}
	for (size_t i = 0; i < t->n_roles; i++)
		print_role_keys(&t->roles[i]);
}

static void print_meta(const struct upt_meta_file *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("  %s: version %lld", m[i].name, (long long)m[i].version);
		if (m[i].length >= 0)
			printf(", %lld bytes", (long long)m[i].length);
		printf("\n");
		print_hashes(&m[i].hashes);
	}
}

static int inspect(const char *file)
{
	struct cli_arena ca;
	struct upt_doc doc;
	struct upt_error err;
	union {
		struct upt_root r;
		struct upt_targets t;
		struct upt_snapshot s;
		struct upt_timestamp ts;
	} u;
	const struct upt_crypto *c = upt_openssl_crypto();
	int rc = cli_arena_init(&ca, CLI_ARENA_SIZE);
	char exp[32];
	rc = rc ? rc : cli_load_doc(&doc, &ca, file, &err);
	if (rc == UPT_OK)
		rc = doc.role == UPT_ROLE_ROOT      ? upt_root_parse(&u.r, &ca.a, &doc, c, &err)
		     : doc.role == UPT_ROLE_TARGETS ? upt_targets_parse(&u.t, &ca.a, &doc, c, &err)
		     : doc.role == UPT_ROLE_SNAPSHOT
			 ? upt_snapshot_parse(&u.s, &ca.a, &doc, &err)
			 : upt_timestamp_parse(&u.ts, &ca.a, &doc, &err);
	if (rc != UPT_OK) {
		cli_err("inspect", "%s", err.msg);
		cli_arena_dispose(&ca);
		return CLI_INPUT;
	}
	if (upt_time_format(exp, sizeof exp, u.r.c.expires) != UPT_OK)
		exp[0] = 0;
	printf("%s: %s metadata (%s dialect, unverified)\nversion: %lld\nexpires: %s\n", file,
	       upt_role_name(doc.role), doc.dialect == UPT_DIALECT_TUF ? "TUF" : "aktualizr",
	       (long long)u.r.c.version, exp);
	printf("signatures: %zu\n", doc.n_sigs);
	for (size_t i = 0; i < doc.n_sigs; i++)
		printf("  by %s%s\n", doc.sigs[i].keyid, doc.sigs[i].sig ? "" : " (malformed)");
	if (doc.role == UPT_ROLE_ROOT)
		print_root(&u.r);
	else if (doc.role == UPT_ROLE_TARGETS)
		print_targets(&u.t);
	else if (doc.role == UPT_ROLE_SNAPSHOT)
		print_meta(u.s.meta, u.s.n_meta);
	else
		print_meta(&u.ts.snapshot, 1);
	cli_arena_dispose(&ca);
	return CLI_OK;
}

int cmd_inspect(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(inspect_help, stdout);
		return CLI_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(inspect_help, stderr);
		return CLI_USAGE;
	}
	return inspect(argv[1]);
}
