/* uptake attack suite: the threat model in one table.
 *
 * Each case starts from the same world: a Director and an Image repository
 * (real keys, real signatures, consistent snapshots, one delegated role)
 * and a device of two ECUs that has verified both once. The case then
 * plays an attacker (or, for the cases expected to pass, a legitimate
 * release), and Uptane full verification runs again. The case asserts the
 * exact error code, a word of its message, that no update is handed out,
 * and that the device's stored metadata is byte-for-byte what it was,
 * except the roles the case names as legitimately advanced (for example a
 * valid new timestamp that arrived before the attacked snapshot).
 *
 * docs/threat-model.md names each attack and the case that covers it.
 */
#include <string.h>
#include <uptake/uptane.h>

#include "harness.h"
#include "repogen.h"

#define ARENA_SIZE (8u << 20)

static const uint8_t FW1[] = "firmware 1.0 for board-a";
static const uint8_t FW2[] = "firmware 2.0 for board-a";
static const uint8_t FW3[] = "firmware 3.0 for board-a";
static const uint8_t TOOL[] = "a tool for board-b";
static const uint8_t EVIL[] = "malware for everyone....";

struct world {
	struct rg_repo d, i;
	struct rg_client dc, ic;
	struct rg_files d_before, i_before;
	struct upt_ecu ecus[2];
	struct upt_device dev;
	unsigned char *dmem, *imem;
	struct upt_arena da, ia;
	struct upt_repo dr, ir;
	int64_t now;
	struct upt_verified out;
	struct upt_error err;
};

static void install(struct upt_ecu *e, const uint8_t *data, size_t len, int64_t rc)
{
	const struct upt_crypto *c = upt_openssl_crypto();
	e->has_installed = true;
	e->installed_length = (int64_t)len;
	e->installed_hashes.has_sha256 = true;
	if (c->hash(c->ctx, UPT_HASH_SHA256, data, len, e->installed_hashes.sha256) != UPT_OK)
		abort();
	e->has_installed_release_counter = rc >= 0;
	e->installed_release_counter = rc;
}

static int verify(struct world *w)
{
	struct upt_repo_io dio, iio;
	rg_client_io(&dio, &w->dc);
	rg_client_io(&iio, &w->ic);
	upt_arena_init(&w->da, w->dmem, ARENA_SIZE);
	upt_arena_init(&w->ia, w->imem, ARENA_SIZE);
	upt_repo_init(&w->dr, "director", &dio, upt_openssl_crypto(), &w->da, NULL);
	upt_repo_init(&w->ir, "image repository", &iio, upt_openssl_crypto(), &w->ia, NULL);
	w->dr.use_snapshot = !w->d.no_snapshot;
	upt_error_clear(&w->err);
	return upt_uptane_full_verify(&w->dr, &w->ir, &w->dev, w->now, &w->out, &w->err);
}

/* A legitimate step the device must accept; the stores then become the
 * reference the attack is compared with. */
static void sync_world(struct world *w)
{
	int rc = verify(w);
	if (rc != UPT_OK)
		fprintf(stderr, "  sync failed: %s\n", w->err.msg);
	CHECK_EQ_INT(rc, UPT_OK);
	rg_files_copy(&w->d_before, &w->dc.store);
	rg_files_copy(&w->i_before, &w->ic.store);
}

static void world_init(struct world *w, bool director_targets_only)
{
	struct rg_target *t;
	struct rg_deleg *apps;
	memset(w, 0, sizeof *w);
	w->now = RG_NOW;
	w->dmem = malloc(ARENA_SIZE);
	w->imem = malloc(ARENA_SIZE);
	if (!w->dmem || !w->imem)
		abort();

	rg_repo_init(&w->i, "image", RG_EXPIRES);
	rg_add_target(&w->i, "fw-1.0", FW1, sizeof FW1, "board-a", 1);
	rg_add_target(&w->i, "fw-2.0", FW2, sizeof FW2, "board-a", 2);
	apps = rg_add_delegation(&w->i, -1, "apps", "apps/*", false);
	rg_deleg_add_target(apps, "apps/tool-1.0", TOOL, sizeof TOOL, "board-b");
	rg_publish_all(&w->i);

	rg_repo_init(&w->d, "director", RG_EXPIRES);
	w->d.no_snapshot = director_targets_only;
	t = rg_add_target(&w->d, "fw-2.0", FW2, sizeof FW2, NULL, 2);
	snprintf(t->ecu, sizeof t->ecu, "ecu-primary");
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "board-a");
	t = rg_add_target(&w->d, "apps/tool-1.0", TOOL, sizeof TOOL, NULL, -1);
	snprintf(t->ecu, sizeof t->ecu, "ecu-sec");
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "board-b");
	rg_publish_all(&w->d);

	w->dc.served = &w->d.served;
	w->ic.served = &w->i.served;
	/* provisioning: the first roots */
	rg_files_set(&w->dc.store, "root", rg_files_get(&w->d.served, "1.root.json")->data,
		     rg_files_get(&w->d.served, "1.root.json")->len);
	rg_files_set(&w->ic.store, "root", rg_files_get(&w->i.served, "1.root.json")->data,
		     rg_files_get(&w->i.served, "1.root.json")->len);

	w->ecus[0].serial = "ecu-primary";
	w->ecus[0].hardware_id = "board-a";
	install(&w->ecus[0], FW1, sizeof FW1, 1);
	w->ecus[1].serial = "ecu-sec";
	w->ecus[1].hardware_id = "board-b";
	w->dev.ecus = w->ecus;
	w->dev.n_ecus = 2;
	sync_world(w);
}

static void world_free(struct world *w)
{
	rg_repo_free(&w->d);
	rg_repo_free(&w->i);
	rg_files_free(&w->dc.store);
	rg_files_free(&w->ic.store);
	rg_files_free(&w->d_before);
	rg_files_free(&w->i_before);
	free(w->dmem);
	free(w->imem);
}

/* ---- helpers for the cases ---------------------------------------------- */

static struct rg_role *role(struct rg_repo *r, enum upt_role which)
{
	return &r->roles[which - 1];
}

static void serve_copy(struct rg_repo *r, const char *to, const char *from)
{
	const struct rg_file *f = rg_files_get(&r->served, from);
	uint8_t *copy = malloc(f->len);
	size_t len = f->len;
	memcpy(copy, f->data, len);
	rg_files_set(&r->served, to, copy, len);
	free(copy);
}

static void serve_text(struct rg_repo *r, const char *path, const char *text)
{
	rg_files_set(&r->served, path, (const uint8_t *)text, strlen(text));
}

static void serve_big(struct rg_repo *r, const char *path, size_t len)
{
	uint8_t *big = malloc(len);
	memset(big, ' ', len);
	big[0] = '{';
	rg_files_set(&r->served, path, big, len);
	free(big);
}

static void append_bytes(struct rg_repo *r, const char *path, size_t extra)
{
	const struct rg_file *f = rg_files_get(&r->served, path);
	size_t len = f->len + extra;
	uint8_t *big = malloc(len);
	memcpy(big, f->data, f->len);
	memset(big + f->len, ' ', extra);
	rg_files_set(&r->served, path, big, len);
	free(big);
}

static void new_root(struct rg_repo *r)
{
	role(r, UPT_ROLE_ROOT)->version++;
	rg_publish_root(r);
}

static void director_assign(struct world *w, int idx, const char *name, const uint8_t *data,
			    size_t len, const char *ecu, const char *hwid, int64_t rc)
{
	struct rg_target *t = &w->d.targets[idx];
	free(t->data);
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->data = malloc(len);
	memcpy(t->data, data, len);
	t->len = len;
	t->release_counter = rc;
	t->length_override = -1;
	snprintf(t->ecu, sizeof t->ecu, "%s", ecu);
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "%s", hwid);
}

static const char garbage[] = "{\"signatures\":[],\"signed\":{\"_type\":\"tim";

/* ---- the cases ---------------------------------------------------------- */

static void valid_update(struct world *w)
{
	rg_add_target(&w->i, "fw-3.0", FW3, sizeof FW3, "board-a", 3);
	rg_republish(&w->i);
	director_assign(w, 0, "fw-3.0", FW3, sizeof FW3, "ecu-primary", "board-a", 3);
	rg_republish(&w->d);
}

static void rollback_timestamp(struct world *w)
{
	serve_copy(&w->i, "old-timestamp.json", "timestamp.json");
	rg_republish(&w->i);
	sync_world(w);
	serve_copy(&w->i, "timestamp.json", "old-timestamp.json");
}

static void rollback_director_timestamp(struct world *w)
{
	serve_copy(&w->d, "old-timestamp.json", "timestamp.json");
	rg_republish(&w->d);
	sync_world(w);
	serve_copy(&w->d, "timestamp.json", "old-timestamp.json");
}

static void rollback_snapshot(struct world *w)
{
	rg_republish(&w->i);
	sync_world(w);
	role(&w->i, UPT_ROLE_SNAPSHOT)->version = 1;
	role(&w->i, UPT_ROLE_TIMESTAMP)->version++;
	rg_publish_timestamp(&w->i);
}

static void rollback_targets(struct world *w)
{
	rg_republish(&w->i);
	sync_world(w);
	w->i.snapshot_targets_version = 1;
	role(&w->i, UPT_ROLE_SNAPSHOT)->version++;
	role(&w->i, UPT_ROLE_TIMESTAMP)->version++;
	rg_publish_snapshot(&w->i);
	rg_publish_timestamp(&w->i);
}

static void rollback_root(struct world *w)
{
	serve_copy(&w->i, "2.root.json", "1.root.json");
}

static void rollback_director_targets_only(struct world *w)
{
	serve_copy(&w->d, "old-targets.json", "targets.json");
	rg_republish(&w->d);
	sync_world(w);
	serve_copy(&w->d, "targets.json", "old-targets.json");
}

static void freeze_timestamp(struct world *w)
{
	role(&w->i, UPT_ROLE_TIMESTAMP)->expires = RG_NOW - RG_DAY;
	role(&w->i, UPT_ROLE_TIMESTAMP)->version++;
	rg_publish_timestamp(&w->i);
}

static void freeze_snapshot(struct world *w)
{
	role(&w->i, UPT_ROLE_SNAPSHOT)->expires = RG_NOW - RG_DAY;
	rg_republish(&w->i);
}

static void freeze_targets(struct world *w)
{
	role(&w->i, UPT_ROLE_TARGETS)->expires = RG_NOW - RG_DAY;
	rg_republish(&w->i);
}

static void freeze_root(struct world *w)
{
	role(&w->i, UPT_ROLE_ROOT)->expires = RG_NOW - RG_DAY;
	new_root(&w->i);
}

static void freeze_director_targets(struct world *w)
{
	role(&w->d, UPT_ROLE_TARGETS)->expires = RG_NOW - RG_DAY;
	rg_republish(&w->d);
}

static void freeze_clock(struct world *w)
{
	w->now = RG_EXPIRES + 1;
}

static void mix_snapshot_hash(struct world *w)
{
	rg_republish(&w->i);
	w->i.spec_version = "1.0.30"; /* a different snapshot, same version */
	rg_publish_snapshot(&w->i);
}

static void mix_targets_version(struct world *w)
{
	rg_republish(&w->i);
	serve_copy(&w->i, "2.targets.json", "1.targets.json");
}

static void mix_targets_hash(struct world *w)
{
	w->i.snapshot_hashes = true;
	rg_republish(&w->i);
	sync_world(w);
	rg_republish(&w->i);
	serve_copy(&w->i, "3.targets.json", "2.targets.json");
}

static void arbitrary_hash(struct world *w)
{
	uint8_t other[sizeof FW2];
	memcpy(other, FW2, sizeof other);
	other[0] ^= 1;
	director_assign(w, 0, "fw-2.0", other, sizeof other, "ecu-primary", "board-a", 2);
	rg_republish(&w->d);
}

static void arbitrary_length(struct world *w)
{
	w->d.targets[0].length_override = (int64_t)sizeof FW2 + 1;
	rg_republish(&w->d);
}

static void arbitrary_unlisted(struct world *w)
{
	director_assign(w, 0, "fw-evil", EVIL, sizeof EVIL, "ecu-primary", "board-a", 9);
	rg_republish(&w->d);
}

static void endless_timestamp(struct world *w)
{
	serve_big(&w->i, "timestamp.json", UPT_DEFAULT_TIMESTAMP_MAX + 1);
}

static void endless_snapshot(struct world *w)
{
	rg_republish(&w->i);
	append_bytes(&w->i, "2.snapshot.json", 1 << 20);
}

static void endless_root(struct world *w)
{
	serve_big(&w->i, "2.root.json", UPT_DEFAULT_ROOT_MAX + 1);
}

static void endless_director_targets(struct world *w)
{
	w->d.snapshot_hashes = true;
	rg_republish(&w->d);
	sync_world(w);
	rg_republish(&w->d);
	append_bytes(&w->d, "3.targets.json", 4096);
}

static void threshold_not_met(struct world *w)
{
	struct rg_role *t = role(&w->i, UPT_ROLE_TARGETS);
	t->keys[1] = rg_repo_new_key(&w->i);
	t->n_keys = 2;
	t->threshold = 2;
	new_root(&w->i);
	t->signers[0] = t->keys[0];
	t->n_signers = 1;
	rg_republish(&w->i);
}

static void unknown_key(struct world *w)
{
	struct rg_role *t = role(&w->i, UPT_ROLE_TARGETS);
	t->signers[0] = rg_repo_new_key(&w->i);
	t->n_signers = 1;
	rg_republish(&w->i);
}

static void same_key_twice(struct world *w)
{
	struct rg_role *t = role(&w->i, UPT_ROLE_TARGETS);
	t->keys[1] = rg_repo_new_key(&w->i);
	t->n_keys = 2;
	t->threshold = 2;
	new_root(&w->i);
	t->signers[0] = t->keys[0];
	t->signers[1] = t->keys[0];
	t->n_signers = 2;
	rg_republish(&w->i);
}

static void revoked_key(struct world *w)
{
	struct rg_role *t = role(&w->i, UPT_ROLE_TARGETS);
	struct rg_key *old = t->keys[0];
	t->keys[0] = rg_repo_new_key(&w->i);
	new_root(&w->i);
	t->signers[0] = old;
	t->n_signers = 1;
	rg_republish(&w->i);
}

static void root_not_signed_by_old(struct world *w)
{
	struct rg_role *r = role(&w->i, UPT_ROLE_ROOT);
	r->keys[0] = rg_repo_new_key(&w->i);
	new_root(&w->i);
}

static void root_version_skip(struct world *w)
{
	role(&w->i, UPT_ROLE_ROOT)->version = 3;
	rg_publish_root(&w->i);
	serve_copy(&w->i, "2.root.json", "3.root.json");
}

static void delegation_overreach(struct world *w)
{
	rg_deleg_add_target(&w->i.del[0], "fw-evil", EVIL, sizeof EVIL, "board-a");
	rg_republish(&w->i);
	director_assign(w, 0, "fw-evil", EVIL, sizeof EVIL, "ecu-primary", "board-a", 9);
	rg_republish(&w->d);
}

static void shadow_delegation(struct world *w, bool terminating)
{
	struct rg_deleg *more = rg_add_delegation(&w->i, -1, "more", "apps/*", false);
	w->i.del[0].terminating = terminating;
	rg_deleg_add_target(more, "apps/other", EVIL, sizeof EVIL, "board-b");
	new_root(&w->i); /* nothing changes in root; a new version is harmless */
	rg_republish(&w->i);
	director_assign(w, 1, "apps/other", EVIL, sizeof EVIL, "ecu-sec", "board-b", -1);
	rg_republish(&w->d);
}

static void terminating_honoured(struct world *w)
{
	shadow_delegation(w, true);
}

static void non_terminating_searched(struct world *w)
{
	shadow_delegation(w, false);
}

static void director_delegates(struct world *w)
{
	rg_add_delegation(&w->d, -1, "more", "*", false);
	rg_republish(&w->d);
}

static void repos_disagree_counter(struct world *w)
{
	w->d.targets[0].release_counter = 5;
	rg_republish(&w->d);
}

static void wrong_hwid_director(struct world *w)
{
	snprintf(w->d.targets[0].ecu_hwid, sizeof w->d.targets[0].ecu_hwid, "board-x");
	rg_republish(&w->d);
}

static void wrong_hwid_image(struct world *w)
{
	snprintf(w->i.targets[1].hwid, sizeof w->i.targets[1].hwid, "board-z");
	rg_republish(&w->i);
}

static void unknown_ecu(struct world *w)
{
	snprintf(w->d.targets[0].ecu, sizeof w->d.targets[0].ecu, "ecu-other");
	rg_republish(&w->d);
}

static void release_counter_downgrade(struct world *w)
{
	install(&w->ecus[0], FW3, sizeof FW3, 3);
}

static void spec_version_major(struct world *w)
{
	w->i.spec_version = "2.0.0";
	role(&w->i, UPT_ROLE_TIMESTAMP)->version++;
	rg_publish_timestamp(&w->i);
}

static void malformed_root(struct world *w)
{
	serve_text(&w->i, "2.root.json", garbage);
}

static void malformed_timestamp(struct world *w)
{
	serve_text(&w->i, "timestamp.json", garbage);
}

static void malformed_snapshot(struct world *w)
{
	rg_republish(&w->i);
	serve_text(&w->i, "2.snapshot.json", garbage);
	rg_publish_timestamp(&w->i); /* a timestamp that vouches for the bytes */
}

static void malformed_targets(struct world *w)
{
	rg_republish(&w->i);
	serve_text(&w->i, "2.targets.json", garbage);
}

static void malformed_delegated(struct world *w)
{
	rg_republish(&w->i);
	serve_text(&w->i, "2.apps.json", garbage);
}

static void malformed_director_root(struct world *w)
{
	serve_text(&w->d, "2.root.json", garbage);
}

static void malformed_director_timestamp(struct world *w)
{
	serve_text(&w->d, "timestamp.json", garbage);
}

static void malformed_director_targets(struct world *w)
{
	rg_republish(&w->d);
	serve_text(&w->d, "2.targets.json", garbage);
}

/* aktualizr's rule (hashes over the canonical form of a pretty-printed
 * file) is not TUF's: in a TUF repository the hashes cover the bytes
 * served, so other bytes of the same JSON are refused. */
static void canonical_hashes_in_tuf(struct world *w)
{
	w->i.pretty = true;
	rg_republish(&w->i);
}

/* A timestamp of the trusted version with other content, signed with the
 * real key, naming a newer snapshot whose targets replace fw-2.0: nothing
 * new (TUF 1.0.30), so the newer snapshot is never followed. */
static void same_version_timestamp(struct world *w)
{
	struct rg_target *t = &w->i.targets[1];
	free(t->data);
	t->data = malloc(sizeof EVIL);
	memcpy(t->data, EVIL, sizeof EVIL);
	t->len = sizeof EVIL;
	role(&w->i, UPT_ROLE_TARGETS)->version++;
	role(&w->i, UPT_ROLE_SNAPSHOT)->version++;
	rg_publish_targets(&w->i);
	rg_publish_snapshot(&w->i);
	role(&w->i, UPT_ROLE_TIMESTAMP)->expires += RG_DAY;
	rg_publish_timestamp(&w->i);
}

static void fast_forward_recovery(struct world *w)
{
	struct rg_role *ts = role(&w->i, UPT_ROLE_TIMESTAMP);
	ts->version = 100;
	rg_publish_timestamp(&w->i);
	sync_world(w);
	/* the timestamp key is rotated and the version starts again at 1 */
	ts->keys[0] = rg_repo_new_key(&w->i);
	new_root(&w->i);
	ts->version = 1;
	rg_publish_timestamp(&w->i);
}

static void root_chain(struct world *w)
{
	for (int i = 0; i < 5; i++) {
		struct rg_role *r = role(&w->i, UPT_ROLE_ROOT);
		struct rg_key *old = r->keys[0];
		r->keys[0] = rg_repo_new_key(&w->i);
		r->signers[0] = old;
		r->signers[1] = r->keys[0];
		r->n_signers = 2;
		new_root(&w->i);
	}
}

static void no_consistent_snapshot(struct world *w)
{
	w->i.consistent_snapshot = false;
	new_root(&w->i);
	rg_republish(&w->i);
	rg_files_del(&w->i.served, "2.snapshot.json");
	rg_files_del(&w->i.served, "2.targets.json");
}

struct attack {
	const char *name;
	void (*mutate)(struct world *w);
	int expect;
	const char *msg;          /* a word of the expected message */
	const char *d_may_change; /* Director store entries that may legitimately advance */
	const char *i_may_change; /* Image repository store entries likewise */
	bool director_targets_only;
};

#define DIR_TSS "timestamp snapshot"
#define DIR_ALL "timestamp snapshot targets"

static const struct attack attacks[] = {
    /* legitimate changes that must pass */
    {"valid update", valid_update, UPT_OK, NULL, DIR_ALL, "timestamp snapshot targets apps", 0},
    {"root rotation chain", root_chain, UPT_OK, NULL, "", "root", 0},
    {"fast-forward recovery", fast_forward_recovery, UPT_OK, NULL, "", "root timestamp", 0},
    {"without consistent snapshots", no_consistent_snapshot, UPT_OK, NULL, "",
     "root timestamp snapshot targets", 0},
    {"non-terminating delegation searched on", non_terminating_searched, UPT_OK, NULL, DIR_ALL,
     "root timestamp snapshot targets apps more", 0},
    {"same-version timestamp with other content: nothing new", same_version_timestamp, UPT_OK, NULL,
     DIR_ALL, "", 0},
    /* rollback */
    {"rollback: timestamp", rollback_timestamp, UPT_ERR_ROLLBACK, "lower than the trusted", "", "",
     0},
    {"rollback: director timestamp", rollback_director_timestamp, UPT_ERR_ROLLBACK,
     "lower than the trusted", "", "", 0},
    {"rollback: snapshot", rollback_snapshot, UPT_ERR_ROLLBACK, "snapshot version 1", "", "", 0},
    {"rollback: targets", rollback_targets, UPT_ERR_ROLLBACK, "targets.json version 1", "",
     "timestamp", 0},
    {"rollback: root", rollback_root, UPT_ERR_ROLLBACK, "version 1, expected 2", "", "", 0},
    {"rollback: director targets (root+targets Director)", rollback_director_targets_only,
     UPT_ERR_ROLLBACK, "lower than the trusted", "", "", 1},
    /* freeze */
    {"freeze: timestamp", freeze_timestamp, UPT_ERR_EXPIRED, "timestamp.json: expired", "", "", 0},
    {"freeze: snapshot", freeze_snapshot, UPT_ERR_EXPIRED, "snapshot.json: expired", "",
     "timestamp", 0},
    {"freeze: targets", freeze_targets, UPT_ERR_EXPIRED, "targets.json: expired", "",
     "timestamp snapshot", 0},
    {"freeze: root", freeze_root, UPT_ERR_EXPIRED, "root.json: expired", "", "root", 0},
    {"freeze: director targets", freeze_director_targets, UPT_ERR_EXPIRED, "targets.json: expired",
     DIR_TSS, "", 0},
    {"freeze: the clock passed every expiry", freeze_clock, UPT_ERR_EXPIRED, "expired", "", "", 0},
    /* mix-and-match */
    {"mix-and-match: snapshot other than the timestamp's", mix_snapshot_hash, UPT_ERR_HASH_MISMATCH,
     "sha256 mismatch", "", "timestamp", 0},
    {"mix-and-match: targets of another version", mix_targets_version, UPT_ERR_ROLLBACK,
     "the snapshot says 2", "", "timestamp snapshot", 0},
    {"mix-and-match: targets other than the snapshot's", mix_targets_hash, UPT_ERR_HASH_MISMATCH,
     "mismatch", "", "timestamp snapshot", 0},
    /* arbitrary software, Director and Image repository disagree */
    {"arbitrary software: hash differs from the Image repository", arbitrary_hash,
     UPT_ERR_IMAGE_MISMATCH, "hashes differ", DIR_ALL, "", 0},
    {"arbitrary software: length differs", arbitrary_length, UPT_ERR_IMAGE_MISMATCH,
     "hashes differ", DIR_ALL, "", 0},
    {"arbitrary software: image the Image repository does not list", arbitrary_unlisted,
     UPT_ERR_IMAGE_MISMATCH, "does not list", DIR_ALL, "", 0},
    {"repositories disagree: release counter", repos_disagree_counter, UPT_ERR_IMAGE_MISMATCH,
     "release counter 5", DIR_ALL, "", 0},
    /* endless data */
    {"endless data: timestamp", endless_timestamp, UPT_ERR_TOO_LARGE, "timestamp", "", "", 0},
    {"endless data: snapshot longer than the timestamp says", endless_snapshot, UPT_ERR_TOO_LARGE,
     "snapshot", "", "timestamp", 0},
    {"endless data: root", endless_root, UPT_ERR_TOO_LARGE, "root", "", "", 0},
    {"endless data: director targets longer than the snapshot says", endless_director_targets,
     UPT_ERR_TOO_LARGE, "targets", DIR_TSS, "", 0},
    /* keys and thresholds */
    {"threshold not met", threshold_not_met, UPT_ERR_THRESHOLD, "threshold 1 of 2", "",
     "root timestamp snapshot", 0},
    {"signature by an unknown key", unknown_key, UPT_ERR_THRESHOLD, "threshold 0 of 1", "",
     "timestamp snapshot", 0},
    {"the same key counted twice", same_key_twice, UPT_ERR_SIGNATURE, "signs twice", "",
     "root timestamp snapshot", 0},
    {"revoked key after rotation", revoked_key, UPT_ERR_THRESHOLD, "threshold 0 of 1", "",
     "root timestamp snapshot", 0},
    {"bad root rotation: not signed by the old root", root_not_signed_by_old, UPT_ERR_THRESHOLD,
     "keys of the trusted root", "", "", 0},
    {"bad root rotation: version skip", root_version_skip, UPT_ERR_VERSION, "version 3, expected 2",
     "", "", 0},
    /* delegations */
    {"delegation claims a path it was not given", delegation_overreach, UPT_ERR_IMAGE_MISMATCH,
     "does not list", DIR_ALL, "timestamp snapshot targets apps", 0},
    {"terminating delegation honoured", terminating_honoured, UPT_ERR_IMAGE_MISMATCH,
     "does not list", DIR_ALL, "root timestamp snapshot targets apps", 0},
    /* Uptane device checks */
    {"wrong hardware id (Director)", wrong_hwid_director, UPT_ERR_HARDWARE_ID, "board-x", DIR_TSS,
     "", 0},
    {"wrong hardware id (Image repository)", wrong_hwid_image, UPT_ERR_HARDWARE_ID,
     "hardware board-a", "", "timestamp snapshot targets apps", 0},
    {"the Director delegates", director_delegates, UPT_ERR_DELEGATION, "must not delegate", DIR_TSS,
     "", 0},
    {"wrong ECU identifier", unknown_ecu, UPT_ERR_UNKNOWN_ECU, "ecu-other", DIR_TSS, "", 0},
    {"release counter downgrade", release_counter_downgrade, UPT_ERR_RELEASE_COUNTER,
     "lower than the installed 3", "", "", 0},
    {"spec_version of an unsupported major", spec_version_major, UPT_ERR_SPEC_VERSION,
     "spec_version", "", "", 0},
    /* malformed JSON in every role */
    {"malformed: root", malformed_root, UPT_ERR_JSON_SYNTAX, "2.root.json", "", "", 0},
    {"malformed: timestamp", malformed_timestamp, UPT_ERR_JSON_SYNTAX, "timestamp", "", "", 0},
    {"malformed: snapshot", malformed_snapshot, UPT_ERR_JSON_SYNTAX, "snapshot", "", "timestamp",
     0},
    {"malformed: targets", malformed_targets, UPT_ERR_JSON_SYNTAX, "targets", "",
     "timestamp snapshot", 0},
    {"malformed: delegated targets", malformed_delegated, UPT_ERR_JSON_SYNTAX, "apps", "",
     "timestamp snapshot targets", 0},
    {"malformed: director root", malformed_director_root, UPT_ERR_JSON_SYNTAX, "2.root.json", "",
     "", 0},
    {"malformed: director timestamp", malformed_director_timestamp, UPT_ERR_JSON_SYNTAX,
     "timestamp", "", "", 0},
    {"malformed: director targets", malformed_director_targets, UPT_ERR_JSON_SYNTAX, "targets",
     DIR_TSS, "", 0},
    {"TUF dialect: snapshot hashes over the canonical form of a pretty-printed file",
     canonical_hashes_in_tuf, UPT_ERR_HASH_MISMATCH, "snapshot.json against the timestamp", "",
     "timestamp", 0},
};

static int run_attack(const struct attack *a)
{
	struct world w;
	char diff[200] = "";
	int before = upt_t_checks_failed, rc;
	world_init(&w, a->director_targets_only);
	a->mutate(&w);
	rc = verify(&w);
	CHECK_EQ_INT(rc, a->expect);
	if (rc != a->expect || (a->msg && !strstr(w.err.msg, a->msg)))
		fprintf(stderr, "  %s: got %s: %s\n", a->name, upt_err_name(rc), w.err.msg);
	if (a->msg)
		CHECK(strstr(w.err.msg, a->msg) != NULL);
	if (a->expect != UPT_OK) {
		CHECK_EQ_INT(w.out.n_updates, 0);
		CHECK(w.out.updates == NULL);
		if (!rg_files_equal(&w.d_before, &w.dc.store, a->d_may_change, diff, sizeof diff)) {
			fprintf(stderr, "  %s: director store changed: %s\n", a->name, diff);
			CHECK(0);
		}
		if (!rg_files_equal(&w.i_before, &w.ic.store, a->i_may_change, diff, sizeof diff)) {
			fprintf(stderr, "  %s: image store changed: %s\n", a->name, diff);
			CHECK(0);
		}
	} else {
		CHECK(w.out.n_updates == 2);
		CHECK(w.out.image_repo_checked);
		for (size_t i = 0; i < w.out.n_updates; i++)
			CHECK(w.out.updates[i].image != NULL);
	}
	world_free(&w);
	return upt_t_checks_failed == before;
}

static void test_attack_table(void)
{
	for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
		int ok = run_attack(&attacks[i]);
		printf("%s  %s\n", ok ? "  ok  " : "  FAIL", attacks[i].name);
	}
}

/* What a successful verification hands out. */
static void test_result(void)
{
	struct world w;
	world_init(&w, false);
	valid_update(&w);
	CHECK_EQ_INT(verify(&w), UPT_OK);
	CHECK_EQ_INT(w.out.n_updates, 2);
	CHECK_EQ_INT(w.out.n_new, 2);
	for (size_t i = 0; i < w.out.n_updates; i++) {
		const struct upt_update *u = &w.out.updates[i];
		if (u->ecu == 0) {
			CHECK(strcmp(u->director->name, "fw-3.0") == 0);
			CHECK(strcmp(u->image->name, "fw-3.0") == 0);
			CHECK_EQ_INT(u->release_counter, 3);
		} else {
			CHECK(strcmp(u->image->name, "apps/tool-1.0") == 0);
		}
	}
	/* once installed, nothing is new and the Image repository is not asked */
	install(&w.ecus[0], FW3, sizeof FW3, 3);
	install(&w.ecus[1], TOOL, sizeof TOOL, -1);
	w.i.served.fetches = 0;
	CHECK_EQ_INT(verify(&w), UPT_OK);
	CHECK_EQ_INT(w.out.n_new, 0);
	CHECK(!w.out.image_repo_checked);
	CHECK_EQ_INT(w.i.served.fetches, 0);
	world_free(&w);
}

/* A refresh with nothing new fetches only the next root and timestamp. */
static void test_quiet_refresh(void)
{
	struct world w;
	world_init(&w, false);
	w.i.served.fetches = 0;
	w.d.served.fetches = 0;
	CHECK_EQ_INT(verify(&w), UPT_OK);
	CHECK_EQ_INT(w.d.served.fetches, 2);
	CHECK_EQ_INT(w.i.served.fetches, 2);
	world_free(&w);
}

/* Partial verification: the Director's root chain and targets only. */
static void test_partial(void)
{
	struct world w;
	struct upt_update u;
	struct upt_repo_io io;
	int rc;
	world_init(&w, false);
	rg_client_io(&io, &w.dc);
	upt_arena_init(&w.da, w.dmem, ARENA_SIZE);
	upt_repo_init(&w.dr, "director", &io, upt_openssl_crypto(), &w.da, NULL);
	rc = upt_uptane_partial_verify(&w.dr, &w.ecus[1], RG_NOW, &u, &w.err);
	CHECK_EQ_INT(rc, UPT_OK);
	CHECK(u.director && strcmp(u.director->name, "apps/tool-1.0") == 0);
	CHECK(u.image == NULL);

	/* a Director entry with the wrong hardware id */
	snprintf(w.d.targets[1].ecu_hwid, sizeof w.d.targets[1].ecu_hwid, "board-q");
	rg_republish(&w.d);
	upt_arena_init(&w.da, w.dmem, ARENA_SIZE);
	upt_repo_init(&w.dr, "director", &io, upt_openssl_crypto(), &w.da, NULL);
	rc = upt_uptane_partial_verify(&w.dr, &w.ecus[1], RG_NOW, &u, &w.err);
	CHECK_EQ_INT(rc, UPT_ERR_HARDWARE_ID);
	CHECK(u.director == NULL);

	/* a release counter below the installed one */
	snprintf(w.d.targets[1].ecu_hwid, sizeof w.d.targets[1].ecu_hwid, "board-b");
	w.d.targets[1].release_counter = 1;
	rg_republish(&w.d);
	install(&w.ecus[1], TOOL, sizeof TOOL, 4);
	upt_arena_init(&w.da, w.dmem, ARENA_SIZE);
	upt_repo_init(&w.dr, "director", &io, upt_openssl_crypto(), &w.da, NULL);
	rc = upt_uptane_partial_verify(&w.dr, &w.ecus[1], RG_NOW, &u, &w.err);
	CHECK_EQ_INT(rc, UPT_ERR_RELEASE_COUNTER);
	world_free(&w);
}

/* Full verification on a secondary: the Director's entries for the other
 * ECUs of the vehicle are skipped, its own entry gets every check. */
static int secondary_verify(struct world *w, const struct upt_ecu *ecu)
{
	struct upt_repo_io dio, iio;
	rg_client_io(&dio, &w->dc);
	rg_client_io(&iio, &w->ic);
	upt_arena_init(&w->da, w->dmem, ARENA_SIZE);
	upt_arena_init(&w->ia, w->imem, ARENA_SIZE);
	upt_repo_init(&w->dr, "director", &dio, upt_openssl_crypto(), &w->da, NULL);
	upt_repo_init(&w->ir, "image repository", &iio, upt_openssl_crypto(), &w->ia, NULL);
	upt_error_clear(&w->err);
	return upt_uptane_secondary_full_verify(&w->dr, &w->ir, ecu, w->now, &w->out, &w->err);
}

static void test_secondary_full(void)
{
	struct world w;
	world_init(&w, false);
	/* the whole device refuses ECUs it does not have; ecu-sec alone
	 * accepts the Director's entry for ecu-primary as another ECU's */
	w.dev.n_ecus = 1;
	CHECK_EQ_INT(verify(&w), UPT_ERR_UNKNOWN_ECU);
	CHECK_EQ_INT(secondary_verify(&w, &w.ecus[1]), UPT_OK);
	CHECK_EQ_INT(w.out.n_updates, 1);
	CHECK_EQ_INT(w.out.updates[0].ecu, 0);
	CHECK(strcmp(w.out.updates[0].director->name, "apps/tool-1.0") == 0);
	CHECK(w.out.updates[0].image != NULL && w.out.image_repo_checked);
	/* its own entry is still checked: the wrong hardware id */
	snprintf(w.d.targets[1].ecu_hwid, sizeof w.d.targets[1].ecu_hwid, "board-q");
	rg_republish(&w.d);
	CHECK_EQ_INT(secondary_verify(&w, &w.ecus[1]), UPT_ERR_HARDWARE_ID);
	CHECK_EQ_INT(w.out.n_updates, 0);
	/* and against the Image repository: a length the Image repository
	 * does not sign */
	snprintf(w.d.targets[1].ecu_hwid, sizeof w.d.targets[1].ecu_hwid, "board-b");
	w.d.targets[1].length_override = (int64_t)sizeof TOOL + 1;
	rg_republish(&w.d);
	CHECK_EQ_INT(secondary_verify(&w, &w.ecus[1]), UPT_ERR_IMAGE_MISMATCH);
	world_free(&w);
}

/* Delegation search order: pre-order, priority order, visited once. */
static void test_delegation_order(void)
{
	struct world w;
	const struct upt_target *t = NULL;
	struct rg_deleg *a, *b;
	world_init(&w, false);
	/* apps delegates to a and b, both for every apps path; both list apps/one */
	a = rg_add_delegation(&w.i, 0, "a", "apps/*", false);
	b = rg_add_delegation(&w.i, 0, "b", "apps/*", false);
	rg_deleg_add_target(a, "apps/one", FW1, sizeof FW1, "board-b");
	rg_deleg_add_target(b, "apps/one", FW2, sizeof FW2, "board-b");
	rg_deleg_add_target(b, "apps/two", FW2, sizeof FW2, "board-b");
	rg_republish(&w.i);
	CHECK_EQ_INT(verify(&w), UPT_OK);
	CHECK_EQ_INT(upt_repo_find_target(&w.ir, "apps/one", &t, &w.err), UPT_OK);
	CHECK(t && t->length == (int64_t)sizeof FW1); /* a, first in priority, wins */
	CHECK_EQ_INT(upt_repo_find_target(&w.ir, "apps/two", &t, &w.err), UPT_OK);
	/* '*' does not cross '/' */
	CHECK_EQ_INT(upt_repo_find_target(&w.ir, "apps/x/y", &t, &w.err), UPT_ERR_NOT_FOUND);
	CHECK_EQ_INT(upt_repo_find_target(&w.ir, "nothing", &t, &w.err), UPT_ERR_NOT_FOUND);
	world_free(&w);
}

static void test_path_patterns(void)
{
	const char *yes[][2] = {{"apps/*", "apps/x"},       {"*", "x"},
				{"a/*/c", "a/b/c"},         {"a/?.bin", "a/1.bin"},
				{"a/[0-9].bin", "a/7.bin"}, {"a/[!0-9].bin", "a/x.bin"},
				{"*.tgz", "foo.tgz"},       {"a/**", "a/b"}};
	const char *no[][2] = {{"apps/*", "apps/x/y"},  {"*", "x/y"},
			       {"a/?.bin", "a/12.bin"}, {"a/[0-9].bin", "a/x.bin"},
			       {"*.tgz", "foo.tar"},    {"a/b", "a/b/c"}};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		const char *paths[] = {yes[i][0]};
		struct upt_role_keys r = {.paths = paths, .n_paths = 1};
		CHECK(upt_role_covers(&r, yes[i][1], upt_openssl_crypto()));
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		const char *paths[] = {no[i][0]};
		struct upt_role_keys r = {.paths = paths, .n_paths = 1};
		CHECK(!upt_role_covers(&r, no[i][1], upt_openssl_crypto()));
	}
	{
		/* sha256("file.txt") begins with... computed, not assumed */
		uint8_t d[UPT_SHA512_LEN];
		char hex2[3];
		const struct upt_crypto *c = upt_openssl_crypto();
		const char *prefixes[1] = {hex2};
		struct upt_role_keys r = {.path_hash_prefixes = prefixes,
					  .n_path_hash_prefixes = 1};
		CHECK_EQ_INT(c->hash(c->ctx, UPT_HASH_SHA256, (const uint8_t *)"file.txt", 8, d),
			     UPT_OK);
		snprintf(hex2, sizeof hex2, "%02x", d[0]);
		CHECK(upt_role_covers(&r, "file.txt", c));
		hex2[0] = hex2[0] == '0' ? '1' : '0';
		CHECK(!upt_role_covers(&r, "file.txt", c));
	}
}

int main(void)
{
	RUN(test_attack_table);
	RUN(test_result);
	RUN(test_quiet_refresh);
	RUN(test_partial);
	RUN(test_secondary_full);
	RUN(test_delegation_order);
	RUN(test_path_patterns);
	TEST_MAIN_END();
}
