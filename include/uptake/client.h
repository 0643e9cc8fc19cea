/* uptake: the TUF client workflow for one repository, sans-I/O.
 *
 * A struct upt_repo refreshes one repository (the Image repository or the
 * Director) as the TUF specification's "detailed client workflow" says:
 * trusted root from local storage, the root chain N+1, N+2... (each new
 * root signed by the old root's threshold and by its own, version exactly
 * N+1), then timestamp, snapshot and targets, each checked for signatures,
 * version (rollback), expiry (freeze) and the length and hashes the
 * referencing metadata gives. Delegated targets roles are resolved in
 * pre-order depth-first search when a target is looked up.
 *
 * The library does no I/O: it asks the caller, through struct upt_repo_io,
 * for the bytes of a file (with the most it may be: a longer file is an
 * endless-data attack), for what was stored before, and it hands back each
 * file to store once that file is fully verified. The caller passes the time
 * of the refresh. All memory comes from the caller's arena.
 */
#ifndef UPTAKE_CLIENT_H
#define UPTAKE_CLIENT_H

#include <uptake/arena.h>
#include <uptake/metadata.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where the bytes come from and where trusted metadata is kept.
 *
 * `role` is "root", "timestamp", "snapshot", "targets" or a delegated
 * role's name (the caller quotes it for URLs and file names as it needs).
 * Data returned by fetch and load is allocated in `a` and must stay valid
 * as long as the arena does. */
struct upt_repo_io {
	void *ctx;
	/* Fetch the repository's file for `role`: "VERSION.ROLE.json" when
	 * version > 0, else "ROLE.json". A file longer than `max_len` is
	 * UPT_ERR_TOO_LARGE (stop reading after max_len + 1 bytes); a file the
	 * repository does not have is UPT_ERR_NOT_FOUND. */
	int (*fetch)(void *ctx, const char *role, int64_t version, size_t max_len,
		     struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err);
	/* Read what store() kept for `role`; UPT_ERR_NOT_FOUND when nothing. */
	int (*load)(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		    const uint8_t **data, size_t *len, struct upt_error *err);
	/* Keep `data` as the trusted metadata of `role`, replacing what was
	 * kept, atomically: after a crash either the old or the new file. */
	int (*store)(void *ctx, const char *role, const uint8_t *data, size_t len,
		     struct upt_error *err);
};

/* Bounds. Zero fields take the defaults below. */
struct upt_repo_limits {
	size_t root_max;      /* bytes of a root file */
	size_t timestamp_max; /* bytes of timestamp.json */
	size_t snapshot_max;  /* snapshot.json when timestamp gives no length */
	size_t targets_max;   /* a targets file when snapshot gives no length */
	uint32_t max_root_rotations;
	uint32_t max_delegations; /* roles visited in one target look-up */
};
#define UPT_DEFAULT_ROOT_MAX           (512u * 1024u)
#define UPT_DEFAULT_TIMESTAMP_MAX      (16u * 1024u)
#define UPT_DEFAULT_SNAPSHOT_MAX       (2u * 1024u * 1024u)
#define UPT_DEFAULT_TARGETS_MAX        (5u * 1024u * 1024u)
#define UPT_DEFAULT_MAX_ROOT_ROTATIONS 256u
#define UPT_DEFAULT_MAX_DELEGATIONS    32u

/* A delegated targets role loaded during look-ups. */
struct upt_loaded_role {
	const char *name;
	struct upt_targets t;
	struct upt_loaded_role *next;
};

/* One repository's trusted state. Fields are read-only for the caller. */
struct upt_repo {
	const char *name; /* for messages: "director", "image repository"... */
	struct upt_repo_io io;
	const struct upt_crypto *crypto;
	struct upt_arena *a;
	struct upt_repo_limits lim;
	/* false for a repository of root and targets only (aktualizr's
	 * Director): then targets are fetched as "targets.json" and their
	 * freshness rests on their own version and expiry. */
	bool use_snapshot;
	int64_t now;
	/* Optional: called with the top-level targets metadata once it has
	 * verified, before it is trusted or stored; an error rejects it. The
	 * Uptane layer checks the Director's assignments here, so targets
	 * that fail them are never written. */
	int (*check_targets)(void *ctx, const struct upt_repo *r, const struct upt_targets *t,
			     struct upt_error *err);
	void *check_ctx;

	size_t start; /* arena mark where this repository's memory begins */
	struct upt_root root;
	bool has_timestamp, has_snapshot, has_targets;
	struct upt_timestamp timestamp;
	struct upt_snapshot snapshot;
	struct upt_targets targets;
	struct upt_loaded_role *loaded;
	size_t n_loaded;
	uint32_t n_root_updates; /* roots accepted by the last refresh */
};

/* Prepare `r` (no I/O). `name` is kept by pointer. */
UPT_API void upt_repo_init(struct upt_repo *r, const char *name, const struct upt_repo_io *io,
			   const struct upt_crypto *crypto, struct upt_arena *a,
			   const struct upt_repo_limits *lim);

/* Check `data` as a first trusted root (signed by its own threshold; expiry
 * is not checked) and store it. Used once, when a device is provisioned. */
UPT_NODISCARD UPT_API int upt_repo_bootstrap(struct upt_repo *r, const uint8_t *data, size_t len,
					     struct upt_error *err);

/* The whole refresh at time `now` (seconds since the epoch): load the
 * trusted root, update it along the chain, then timestamp, snapshot and
 * top-level targets. On success every top-level role is trusted and
 * stored. On failure the error names the repository, the role and the
 * check; what was verified before the failure stays stored (a newer valid
 * root, say), what failed is neither trusted nor stored. Any earlier state
 * of `r` is discarded: the arena is rolled back to where `r` started. */
UPT_NODISCARD UPT_API int upt_repo_refresh(struct upt_repo *r, int64_t now, struct upt_error *err);

/* Steps of upt_repo_refresh, for callers that need them separately (a
 * partial-verification secondary uses root and targets only). */
UPT_NODISCARD UPT_API int upt_repo_load_root(struct upt_repo *r, int64_t now,
					     struct upt_error *err);
UPT_NODISCARD UPT_API int upt_repo_update_root(struct upt_repo *r, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_repo_update_timestamp(struct upt_repo *r, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_repo_update_snapshot(struct upt_repo *r, struct upt_error *err);
UPT_NODISCARD UPT_API int upt_repo_update_targets(struct upt_repo *r, struct upt_error *err);

/* Find the trusted entry for `path` after a refresh: top-level targets
 * first, then delegations in pre-order depth-first search (roles in
 * priority order, a terminating role ends the search below its
 * delegator, a visited role is not visited again, at most
 * lim.max_delegations roles), fetching and verifying each delegated role
 * on first use. UPT_ERR_NOT_FOUND when no trusted role lists it. */
UPT_NODISCARD UPT_API int upt_repo_find_target(struct upt_repo *r, const char *path,
					       const struct upt_target **out,
					       struct upt_error *err);

/* Does delegated role `role` cover `path` (paths glob patterns, where '*'
 * matches within one path segment, or path_hash_prefixes)? */
UPT_API bool upt_role_covers(const struct upt_role_keys *role, const char *path,
			     const struct upt_crypto *crypto);

/* Check data against a length and hashes from metadata (each hash given
 * must match; at least one is). UPT_ERR_HASH_MISMATCH otherwise. */
UPT_NODISCARD UPT_API int upt_check_file(const uint8_t *data, size_t len, int64_t want_len,
					 const struct upt_hashes *want,
					 const struct upt_crypto *crypto, const char *what,
					 struct upt_error *err);

#ifdef __cplusplus
}
#endif
#endif
