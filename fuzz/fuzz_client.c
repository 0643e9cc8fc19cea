/* Fuzz target: the TUF client workflow fed hostile bytes. A valid
 * repository (fresh keys, made once) is served with one file replaced by
 * the input: the first input byte chooses which (root chain, timestamp,
 * snapshot, targets, a delegated role). Whatever the bytes, the refresh
 * must end in an error or a consistent state, and a failed refresh must
 * leave the attacked role's stored copy untouched. */
#include <stdlib.h>
#include <string.h>
#include <uptake/client.h>

#include "repogen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[16u << 20];
static struct rg_repo repo;
static bool ready;

static const char *const files[][2] = {
    {"2.root.json", "root"},       {"timestamp.json", "timestamp"}, {"1.snapshot.json", "snapshot"},
    {"1.targets.json", "targets"}, {"1.apps.json", "apps"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fw[] = "firmware";
	struct rg_client c = {0};
	struct upt_repo_io io;
	struct upt_repo r;
	struct upt_arena a;
	struct upt_error err;
	const struct rg_file *before, *after;
	uint8_t *saved = NULL;
	size_t saved_len = 0, pick;
	int rc;
	if (!ready) {
		rg_repo_init(&repo, "fuzz", RG_EXPIRES);
		rg_add_target(&repo, "fw", fw, sizeof fw, "board", 1);
		rg_deleg_add_target(rg_add_delegation(&repo, -1, "apps", "apps/*", false), "apps/x",
				    fw, sizeof fw, "board");
		rg_publish_all(&repo);
		ready = true;
	}
	if (size < 1)
		return 0;
	pick = data[0] % (sizeof files / sizeof files[0]);
	c.served = &repo.served;
	before = rg_files_get(&repo.served, files[pick][0]);
	if (before) {
		saved_len = before->len;
		saved = malloc(saved_len ? saved_len : 1);
		memcpy(saved, before->data, saved_len);
	}
	rg_files_set(&repo.served, files[pick][0], data + 1, size - 1);
	rg_files_set(&c.store, "root", rg_files_get(&repo.served, "1.root.json")->data,
		     rg_files_get(&repo.served, "1.root.json")->len);
	rg_client_io(&io, &c);
	upt_arena_init(&a, mem, sizeof mem);
	upt_repo_init(&r, "fuzz", &io, upt_openssl_crypto(), &a, NULL);
	rc = upt_repo_refresh(&r, RG_NOW, &err);
	if (rc == UPT_OK) {
		const struct upt_target *t;
		rc = upt_repo_find_target(&r, "apps/x", &t, &err);
	}
	after = rg_files_get(&c.store, files[pick][1]);
	/* a failed refresh stores nothing but what verified: the attacked
	 * file, if stored, must be the bytes served and verified */
	if (rc != UPT_OK && after && pick != 0 && strcmp(files[pick][1], "root") != 0 &&
	    (after->len != size - 1 || memcmp(after->data, data + 1, size - 1) != 0))
		abort();
	if (saved)
		rg_files_set(&repo.served, files[pick][0], saved, saved_len);
	else
		rg_files_del(&repo.served, files[pick][0]);
	free(saved);
	rg_files_free(&c.store);
	return 0;
}
