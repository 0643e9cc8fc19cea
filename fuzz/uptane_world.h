/* Shared by fuzz_uptane_full.c and fuzz_uptane_partial.c: a Director and
 * an Image repository made by tests/support/repogen with keys derived from
 * fixed seeds (the same bytes on every run, so seeds stay valid), whose
 * served files the input rewrites.
 *
 * Input: byte 0 picks the world (bit 0: the aktualizr dialect, with a
 * Director of root and targets only); then up to four edits, each
 *   [file][flags][length high][length low][bytes...]
 * `file` picks one file either repository serves (or 2.root.json, which
 * neither serves yet). flags bit 0: the bytes are a `signed` object that is
 * signed with the repository's real key for that role (a hostile holder of
 * an online key, or of the root key); else they replace the file as they
 * are. flags bit 1: the repository's snapshot and timestamp are signed
 * again over the edited files.
 *
 * With UPT_FUZZ_WRITE_SEEDS=DIR in the environment, the first call writes
 * seeds for every file (raw and signed) to DIR. */
#ifndef UPTAKE_FUZZ_UPTANE_WORLD_H
#define UPTAKE_FUZZ_UPTANE_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "repogen.h"

#define UW_ARENA (8u << 20)

static const uint8_t uw_fw1[] = "firmware 1.0 for board-a";
static const uint8_t uw_fw2[] = "firmware 2.0 for board-a";
static const uint8_t uw_tool[] = "a tool for board-b";

struct uw_world {
	struct rg_repo d, i;
	struct rg_files d_clean, i_clean;
	char names[2][RG_MAX_FILES][160];
	size_t n_names[2];
};

static struct uw_world uw_worlds[2];
static unsigned char uw_dmem[UW_ARENA];
static bool uw_ready;

static void uw_list(struct uw_world *w, int which, const struct rg_files *served)
{
	bool root2 = false;
	for (size_t k = 0; k < served->n; k++) {
		snprintf(w->names[which][w->n_names[which]++], 160, "%s", served->f[k].path);
		root2 |= strcmp(served->f[k].path, "2.root.json") == 0;
	}
	if (!root2)
		snprintf(w->names[which][w->n_names[which]++], 160, "2.root.json");
}

static void uw_build(struct uw_world *w, bool akt)
{
	enum upt_dialect d = akt ? UPT_DIALECT_AKTUALIZR : UPT_DIALECT_TUF;
	struct rg_target *t;
	struct rg_deleg *apps;
	rg_repo_init_seeded(&w->i, "image", RG_EXPIRES, d, akt ? 3 : 1);
	rg_add_target(&w->i, "fw-1.0", uw_fw1, sizeof uw_fw1, "board-a", 1);
	rg_add_target(&w->i, "fw-2.0", uw_fw2, sizeof uw_fw2, "board-a", 2);
	apps = rg_add_delegation(&w->i, -1, "apps", "apps/*", false);
	rg_deleg_add_target(apps, "apps/tool-1.0", uw_tool, sizeof uw_tool, "board-b");
	rg_repo_reseed(&w->i, akt ? 3 : 1); /* the delegation's key too */
	rg_publish_all(&w->i);
	rg_repo_init_seeded(&w->d, "director", RG_EXPIRES, d, akt ? 4 : 2);
	w->d.no_snapshot = akt;
	t = rg_add_target(&w->d, "fw-2.0", uw_fw2, sizeof uw_fw2, NULL, 2);
	snprintf(t->ecu, sizeof t->ecu, "ecu-primary");
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "board-a");
	t = rg_add_target(&w->d, "apps/tool-1.0", uw_tool, sizeof uw_tool, NULL, -1);
	snprintf(t->ecu, sizeof t->ecu, "ecu-sec");
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "board-b");
	rg_publish_all(&w->d);
	rg_files_copy(&w->d_clean, &w->d.served);
	rg_files_copy(&w->i_clean, &w->i.served);
	uw_list(w, 0, &w->d.served);
	uw_list(w, 1, &w->i.served);
}

/* The role a served file belongs to: "3.snapshot.json" -> "snapshot". */
static void uw_role_of(char *out, size_t cap, const char *file)
{
	const char *p = file;
	size_t n;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p != file && *p == '.')
		p++;
	else
		p = file;
	n = strlen(p);
	if (n > 5 && strcmp(p + n - 5, ".json") == 0)
		n -= 5;
	snprintf(out, cap, "%.*s", (int)n, p);
}

static const struct rg_role *uw_role(const struct rg_repo *r, const char *name)
{
	static const char *const top[4] = {"root", "targets", "snapshot", "timestamp"};
	for (int i = 0; i < 4; i++)
		if (strcmp(name, top[i]) == 0)
			return &r->roles[i];
	for (int k = 0; k < r->n_del; k++)
		if (strcmp(name, r->del[k].name) == 0)
			return &r->del[k].role;
	return NULL;
}

static void uw_edit(struct rg_repo *r, const char *file, int flags, const uint8_t *data, size_t len)
{
	char role_name[160];
	const struct rg_role *role;
	uw_role_of(role_name, sizeof role_name, file);
	role = uw_role(r, role_name);
	if ((flags & 1) && role) {
		struct upt_privkey *keys[RG_MAX_KEYS];
		char *text = malloc(len + 1), *doc = NULL;
		size_t out_len = 0;
		for (int k = 0; k < role->n_keys; k++)
			keys[k] = role->keys[k]->priv;
		memcpy(text, data, len);
		text[len] = 0;
		/* what is not a JSON object cannot be signed: nothing changes */
		if (!memchr(text, 0, len) &&
		    upt_privkey_sign_document(&doc, &out_len, text, keys, (size_t)role->n_keys,
					      r->dialect, NULL) == UPT_OK)
			rg_files_set(&r->served, file, (const uint8_t *)doc, out_len);
		upt_free(doc);
		free(text);
	} else {
		rg_files_set(&r->served, file, data, len);
	}
	if ((flags & 2) && !r->no_snapshot) {
		rg_publish_snapshot(r);
		rg_publish_timestamp(r);
	}
}

/* Apply the input's edits to world w; returns the world's index. */
static struct uw_world *uw_apply(const uint8_t *data, size_t size)
{
	struct uw_world *w;
	size_t at = 1;
	if (size < 1)
		return NULL;
	w = &uw_worlds[data[0] & 1];
	rg_files_copy(&w->d.served, &w->d_clean);
	rg_files_copy(&w->i.served, &w->i_clean);
	for (int e = 0; e < 4 && at + 4 <= size; e++) {
		size_t pick = data[at], len = ((size_t)data[at + 2] << 8) | data[at + 3];
		int flags = data[at + 1];
		size_t total = w->n_names[0] + w->n_names[1];
		int which;
		at += 4;
		if (len > size - at)
			len = size - at;
		pick %= total;
		which = pick < w->n_names[0] ? 0 : 1;
		if (which)
			pick -= w->n_names[0];
		uw_edit(which ? &w->i : &w->d, w->names[which][pick], flags, data + at, len);
		at += len;
	}
	return w;
}

static void uw_write_seed(const char *dir, const char *tag, const uint8_t *data, size_t len)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, tag);
	if (!(f = fopen(path, "wb")))
		abort();
	fwrite(data, 1, len, f);
	fclose(f);
}

/* One seed per file and mode: the file as served, and its `signed` part. */
static void uw_seeds(const char *dir)
{
	static uint8_t buf[1 << 20];
	for (int wi = 0; wi < 2; wi++) {
		struct uw_world *w = &uw_worlds[wi];
		size_t base = 0;
		buf[0] = (uint8_t)wi;
		uw_write_seed(dir, wi ? "akt-valid" : "tuf-valid", buf, 1);
		for (int which = 0; which < 2; which++) {
			const struct rg_files *fs = which ? &w->i_clean : &w->d_clean;
			for (size_t k = 0; k < w->n_names[which]; k++) {
				const struct rg_file *f = rg_files_get(fs, w->names[which][k]);
				char tag[256];
				for (int mode = 0; f && mode < 2; mode++) {
					const uint8_t *p = f->data;
					size_t len = f->len;
					uint8_t *copy = NULL;
					if (mode) { /* the canonical `signed` object */
						static unsigned char am[1 << 20];
						struct upt_arena a;
						struct upt_json *v;
						upt_arena_init(&a, am, sizeof am);
						copy = malloc(f->len + 1);
						if (!copy ||
						    upt_json_parse(&v, &a, f->data, f->len, NULL,
								   NULL) != UPT_OK ||
						    upt_json_write(copy, f->len, &len,
								   upt_json_get(v, "signed"),
								   NULL) != UPT_OK)
							abort();
						p = copy;
					}
					if (len > 0xffff || len + 5 > sizeof buf)
						abort();
					buf[1] = (uint8_t)(base + k);
					buf[2] = (uint8_t)mode;
					buf[3] = (uint8_t)(len >> 8);
					buf[4] = (uint8_t)len;
					memcpy(buf + 5, p, len);
					snprintf(tag, sizeof tag, "%s-%s-%s-%s", wi ? "akt" : "tuf",
						 which ? "image" : "director",
						 mode ? "signed" : "raw", w->names[which][k]);
					uw_write_seed(dir, tag, buf, len + 5);
					free(copy);
				}
			}
			base += w->n_names[which];
		}
	}
}

static void uw_init(void)
{
	const char *seeds;
	if (uw_ready)
		return;
	uw_build(&uw_worlds[0], false);
	uw_build(&uw_worlds[1], true);
	uw_ready = true;
	seeds = getenv("UPT_FUZZ_WRITE_SEEDS");
	if (seeds)
		uw_seeds(seeds);
}

static void uw_install(struct upt_ecu *e, const uint8_t *data, size_t len, int64_t rc)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	memset(e, 0, sizeof *e);
	e->has_installed = true;
	e->installed_length = (int64_t)len;
	e->installed_hashes.has_sha256 = true;
	if (c->hash(c->ctx, UPT_HASH_SHA256, data, len, e->installed_hashes.sha256) != UPT_OK)
		abort();
	e->has_installed_release_counter = rc >= 0;
	e->installed_release_counter = rc;
}

/* The device: a primary on fw-1.0 (board-a) and a secondary (board-b). */
static void uw_device(struct upt_ecu ecus[2], struct upt_device *dev)
{
	uw_install(&ecus[0], uw_fw1, sizeof uw_fw1, 1);
	ecus[0].serial = "ecu-primary";
	ecus[0].hardware_id = "board-a";
	memset(&ecus[1], 0, sizeof ecus[1]);
	ecus[1].serial = "ecu-sec";
	ecus[1].hardware_id = "board-b";
	dev->ecus = ecus;
	dev->n_ecus = 2;
}

/* A client store provisioned with the repository's first root (as made,
 * whatever the input did to the served copy). */
static void uw_provision(struct rg_client *c, struct rg_files *served, const struct rg_files *clean)
{
	const struct rg_file *root = rg_files_get(clean, "1.root.json");
	memset(c, 0, sizeof *c);
	c->served = served;
	rg_files_set(&c->store, "root", root->data, root->len);
}

/* Does the Director target name this ECU with its hardware id? */
static bool uw_names_ecu(const struct upt_target *t, const struct upt_ecu *e)
{
	for (size_t k = 0; k < t->n_ecus; k++)
		if (strcmp(t->ecus[k].ecu_serial, e->serial) == 0 &&
		    strcmp(t->ecus[k].hardware_id, e->hardware_id) == 0)
			return true;
	return false;
}

/* The stored root, if any, is a root signed by its own threshold. */
static void uw_check_store(const struct rg_files *store)
{
	static unsigned char am[4 << 20];
	const struct rg_file *f = rg_files_get(store, "root");
	struct upt_arena a;
	struct upt_doc doc;
	struct upt_root root;
	if (!f)
		abort();
	upt_arena_init(&a, am, sizeof am);
	if (upt_doc_parse(&doc, &a, f->data, f->len, 0, "root", NULL) != UPT_OK ||
	    upt_root_verify_self(&root, &a, &doc, upt_openssl_crypto(), NULL) != UPT_OK)
		abort();
}

#endif
