/* uptake-server: the storage interface. Every backend (SQLite now,
 * PostgreSQL next) implements these operations; nothing outside a backend
 * sees SQL or a backend's types. Each call is atomic on its own; a
 * sequence of calls that must be atomic runs between begin and commit.
 * Errors are upt_err codes with a message in `err`. */
#ifndef UPTAKE_SERVER_STORE_H
#define UPTAKE_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/common.h>

struct srv_store;

/* One stored metadata file of a repository. `repo` is "image" or a
 * Director repository's name; `role` a top-level or delegated role. */
struct srv_meta {
	int64_t version;
	int64_t expires; /* seconds since the epoch */
	uint8_t *data;   /* malloc'd */
	size_t len;
};

/* One image: content-addressed file in the data directory. */
struct srv_image {
	char name[512];
	int64_t length;
	char sha256[65];
	char sha512[129];
};

/* An online signing key of a repository role (PKCS#8 PEM, malloc'd). */
struct srv_key {
	char keyid[65];
	char *pem;
};

struct srv_store_ops {
	const char *name;
	int (*begin)(struct srv_store *s, struct upt_error *err);
	int (*commit)(struct srv_store *s, struct upt_error *err);
	void (*rollback)(struct srv_store *s);
	/* Add a version of a role's metadata (a version stored once only:
	 * UPT_ERR_ROLLBACK when it exists). */
	int (*meta_put)(struct srv_store *s, const char *repo, const char *role, int64_t version,
			int64_t expires, const uint8_t *data, size_t len, struct upt_error *err);
	/* version 0: the newest. UPT_ERR_NOT_FOUND when none. */
	int (*meta_get)(struct srv_store *s, const char *repo, const char *role, int64_t version,
			struct srv_meta *out, struct upt_error *err);
	/* Names of the delegated roles stored for repo (newline-separated,
	 * malloc'd). */
	int (*meta_roles)(struct srv_store *s, const char *repo, char **out, struct upt_error *err);
	int (*image_put)(struct srv_store *s, const struct srv_image *img, struct upt_error *err);
	int (*image_get)(struct srv_store *s, const char *name, struct srv_image *out,
			 struct upt_error *err);
	int (*key_put)(struct srv_store *s, const char *repo, const char *role,
		       const struct srv_key *k, struct upt_error *err);
	int (*key_get)(struct srv_store *s, const char *repo, const char *role, struct srv_key *out,
		       struct upt_error *err);
	void (*close)(struct srv_store *s);
};

struct srv_store {
	const struct srv_store_ops *ops;
};

/* Open (creating and migrating) the SQLite store at `path`. */
int srv_store_sqlite_open(struct srv_store **out, const char *path, struct upt_error *err);

void srv_meta_free(struct srv_meta *m);

#endif
