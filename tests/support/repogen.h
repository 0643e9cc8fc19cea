/* uptake tests: an in-memory repository generator and an in-memory device
 * store, built on the real signing helper and the OpenSSL backend.
 *
 * A struct rg_repo is a model of one TUF repository (the Director or the
 * Image repository): keys and thresholds per role, versions, expiry,
 * targets with Uptane custom fields, delegations. rg_publish_*() turn the
 * model into signed files in repo->served, the bytes a client fetches.
 * Attacks change the model (or the served bytes) and publish again.
 *
 * struct rg_files is a small path -> bytes map, used both for what a
 * repository serves and for what a device stores.
 */
#ifndef UPTAKE_TEST_REPOGEN_H
#define UPTAKE_TEST_REPOGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/client.h>
#include <uptake/crypto_openssl.h>

#define RG_MAX_FILES   512
#define RG_MAX_KEYS    4
#define RG_MAX_TARGETS 64
#define RG_MAX_DELEG   32

struct rg_file {
	char path[160];
	uint8_t *data;
	size_t len;
};

struct rg_files {
	struct rg_file f[RG_MAX_FILES];
	size_t n;
	unsigned fetches; /* fetch requests served, for tests that count */
};

void rg_files_set(struct rg_files *fs, const char *path, const uint8_t *data, size_t len);
const struct rg_file *rg_files_get(const struct rg_files *fs, const char *path);
void rg_files_del(struct rg_files *fs, const char *path);
void rg_files_copy(struct rg_files *dst, const struct rg_files *src);
bool rg_files_equal(const struct rg_files *a, const struct rg_files *b, const char *except,
		    char *diff, size_t cap);
void rg_files_free(struct rg_files *fs);

struct rg_key {
	struct upt_privkey *priv;
	char id[UPT_KEYID_MAX + 1];
	char *pub_json; /* key object, TUF or aktualizr spelling */
};

/* Generate a key for `dialect`; type 0 means Ed25519. */
void rg_key_new(struct rg_key *k, enum upt_key_type type, enum upt_dialect dialect);
/* The Ed25519 key with this private seed (the same key on every run). */
void rg_key_from_seed(struct rg_key *k, const uint8_t seed[32], enum upt_dialect dialect);
void rg_key_free(struct rg_key *k);

/* A role: who may sign, how many must, and who actually signs. */
struct rg_role {
	struct rg_key *keys[RG_MAX_KEYS];
	int n_keys;
	int threshold;
	struct rg_key *signers[RG_MAX_KEYS * 2];
	int n_signers; /* 0: every key of the role signs */
	int64_t version;
	int64_t expires;
};

struct rg_target {
	char name[128];
	uint8_t *data;
	size_t len;
	char hwid[64];           /* custom.hardwareIds[0] when set */
	int64_t release_counter; /* -1: none */
	char ecu[64];            /* Director: custom.ecuIdentifiers {ecu: {hardwareId}} */
	char ecu_hwid[64];
	int64_t length_override; /* >= 0: the length written instead */
	bool corrupt_sha256;     /* the sha256 written is wrong */
};

struct rg_deleg {
	char name[64];
	int parent; /* -1: top-level targets; else index of the delegating role */
	struct rg_role role;
	bool terminating;
	const char *paths[4];
	int n_paths;
	struct rg_target *targets; /* grows; pointers into it move */
	int n_targets, cap_targets;
};

struct rg_repo {
	const char *label;
	enum upt_dialect dialect;
	struct rg_role roles[4]; /* indexed by enum upt_role - 1 */
	bool consistent_snapshot;
	bool snapshot_hashes; /* snapshot meta carries length and hashes */
	bool no_snapshot;     /* root and targets only (aktualizr's Director) */
	bool root_two_roles;  /* the root defines only root and targets */
	/* serve targets, delegated roles and snapshot pretty-printed, their
	 * hashes in the referencing metadata over the canonical form (kept in
	 * `canonical`), their lengths over the bytes served: a server built
	 * for aktualizr */
	bool pretty;
	struct rg_files canonical;
	const char *spec_version;
	struct rg_target targets[RG_MAX_TARGETS];
	int n_targets;
	struct rg_deleg del[RG_MAX_DELEG];
	int n_del;
	struct rg_key own_keys[32];
	int n_own_keys;
	struct rg_files served;
	/* snapshot meta override: when >= 0, the targets version written. */
	int64_t snapshot_targets_version;
};

/* A repository with one fresh Ed25519 key per role, threshold 1, all
 * versions 1, expiring `expires`, nothing published yet. */
void rg_repo_init(struct rg_repo *r, const char *label, int64_t expires);
/* The same, in `dialect`, with keys derived from `seed`: a repository
 * whose files are the same bytes on every run (fuzz seeds stay valid). */
void rg_repo_init_seeded(struct rg_repo *r, const char *label, int64_t expires,
			 enum upt_dialect dialect, uint8_t seed);
/* Replace every key the repository made (delegations' too; call it before
 * publishing) by keys derived from `seed`. */
void rg_repo_reseed(struct rg_repo *r, uint8_t seed);
void rg_repo_free(struct rg_repo *r);
struct rg_key *rg_repo_new_key(struct rg_repo *r);

struct rg_target *rg_add_target(struct rg_repo *r, const char *name, const uint8_t *data,
				size_t len, const char *hwid, int64_t release_counter);
struct rg_deleg *rg_add_delegation(struct rg_repo *r, int parent, const char *name,
				   const char *path, bool terminating);
struct rg_target *rg_deleg_add_target(struct rg_deleg *d, const char *name, const uint8_t *data,
				      size_t len, const char *hwid);

/* Publish roles from the model. root: "V.root.json"; targets and delegated
 * roles: "NAME.json" and "V.NAME.json"; snapshot likewise from the
 * published targets files; timestamp "timestamp.json". */
void rg_publish_root(struct rg_repo *r);
void rg_publish_targets(struct rg_repo *r);
void rg_publish_snapshot(struct rg_repo *r);
void rg_publish_timestamp(struct rg_repo *r);
void rg_publish_all(struct rg_repo *r);
/* Bump targets, snapshot and timestamp versions and publish them. */
void rg_republish(struct rg_repo *r);

/* Sign `signed_json` (JSON text) with `keys`; returns malloc'd bytes. */
uint8_t *rg_sign(const char *signed_json, struct rg_key *const *keys, int n,
		 enum upt_dialect dialect, size_t *len);

/* The io table of a client: fetches from `served`, keeps in `store`.
 * fetch counts requests in served->fetches. */
struct rg_client {
	struct rg_files *served;
	struct rg_files store;
};
void rg_client_io(struct upt_repo_io *io, struct rg_client *c);

/* A time far from every test's expiry: 2030-01-01. */
#define RG_NOW     1893456000LL
#define RG_DAY     86400LL
#define RG_EXPIRES (RG_NOW + 365 * RG_DAY)

#endif
