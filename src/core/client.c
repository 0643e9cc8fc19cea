/* uptake: the TUF client workflow for one repository (sans-I/O). The
 * order and the checks follow the TUF specification's detailed client
 * workflow; comments name its steps. */
#include <string.h>
#include <uptake/client.h>
#include <uptake/encode.h>

/* "<repo> <role>.json", for messages and doc names. */
static const char *doc_name(struct upt_repo *r, const char *role, int64_t version)
{
	char ver[24];
	size_t nl = strlen(r->name), rl = strlen(role), vl = 0;
	char *s;
	if (version > 0) {
		char tmp[24];
		int64_t v = version;
		size_t n = 0;
		while (v > 0 && n < sizeof tmp) {
			tmp[n++] = (char)('0' + v % 10);
			v /= 10;
		}
		while (n)
			ver[vl++] = tmp[--n];
		ver[vl++] = '.';
	}
	s = upt_arena_alloc(r->a, nl + 1 + vl + rl + 6);
	if (!s)
		return role;
	memcpy(s, r->name, nl);
	s[nl] = ' ';
	memcpy(s + nl + 1, ver, vl);
	memcpy(s + nl + 1 + vl, role, rl);
	memcpy(s + nl + 1 + vl + rl, ".json", 6);
	return s;
}

static bool expired(const struct upt_repo *r, int64_t expires)
{
	return r->now >= expires;
}

static int expired_error(struct upt_error *err, const char *name, int64_t expires)
{
	char when[32];
	if (upt_time_format(when, sizeof when, expires) != UPT_OK)
		when[0] = 0;
	return upt_error_set(err, UPT_ERR_EXPIRED, "%s: expired at %s (freeze attack?)", name,
			     when);
}

void upt_repo_init(struct upt_repo *r, const char *name, const struct upt_repo_io *io,
		   const struct upt_crypto *crypto, struct upt_arena *a,
		   const struct upt_repo_limits *lim)
{
	memset(r, 0, sizeof *r);
	r->name = name ? name : "repository";
	if (io)
		r->io = *io;
	r->crypto = crypto;
	r->a = a;
	if (lim)
		r->lim = *lim;
	if (!r->lim.root_max)
		r->lim.root_max = UPT_DEFAULT_ROOT_MAX;
	if (!r->lim.timestamp_max)
		r->lim.timestamp_max = UPT_DEFAULT_TIMESTAMP_MAX;
	if (!r->lim.snapshot_max)
		r->lim.snapshot_max = UPT_DEFAULT_SNAPSHOT_MAX;
	if (!r->lim.targets_max)
		r->lim.targets_max = UPT_DEFAULT_TARGETS_MAX;
	if (!r->lim.max_root_rotations)
		r->lim.max_root_rotations = UPT_DEFAULT_MAX_ROOT_ROTATIONS;
	if (!r->lim.max_delegations)
		r->lim.max_delegations = UPT_DEFAULT_MAX_DELEGATIONS;
	r->use_snapshot = true;
	r->start = a ? upt_arena_mark(a) : 0;
}

int upt_check_file(const uint8_t *data, size_t len, int64_t want_len, const struct upt_hashes *want,
		   const struct upt_crypto *crypto, const char *what, struct upt_error *err)
{
	uint8_t d[UPT_SHA512_LEN];
	if (want_len >= 0 && (uint64_t)want_len != (uint64_t)len)
		return upt_error_set(err, UPT_ERR_HASH_MISMATCH, "%s: length %zu, expected %lld",
				     what, len, (long long)want_len);
	if (!want)
		return UPT_OK;
	if (want->has_sha256) {
		if (crypto->hash(crypto->ctx, UPT_HASH_SHA256, data, len, d) != UPT_OK)
			return upt_error_set(err, UPT_ERR_CRYPTO, "%s: hashing failed", what);
		if (!upt_ct_equal(d, want->sha256, UPT_SHA256_LEN))
			return upt_error_set(err, UPT_ERR_HASH_MISMATCH, "%s: sha256 mismatch",
					     what);
	}
	if (want->has_sha512) {
		if (crypto->hash(crypto->ctx, UPT_HASH_SHA512, data, len, d) != UPT_OK)
			return upt_error_set(err, UPT_ERR_CRYPTO, "%s: hashing failed", what);
		if (!upt_ct_equal(d, want->sha512, UPT_SHA512_LEN))
			return upt_error_set(err, UPT_ERR_HASH_MISMATCH, "%s: sha512 mismatch",
					     what);
	}
	return UPT_OK;
}

/* ---- root --------------------------------------------------------------- */

/* Parse a root already known to be valid (from the trusted store, or just
 * verified) without checking signatures again. */
static int root_reparse(struct upt_repo *r, const uint8_t *data, size_t len, struct upt_error *err)
{
	struct upt_doc doc;
	int rc = upt_doc_parse(&doc, r->a, data, len, r->lim.root_max, doc_name(r, "root", 0), err);
	return rc == UPT_OK ? upt_root_parse(&r->root, r->a, &doc, r->crypto, err) : rc;
}

int upt_repo_load_root(struct upt_repo *r, int64_t now, struct upt_error *err)
{
	const uint8_t *data;
	size_t len;
	struct upt_doc doc;
	int rc;
	if (!r || !r->a || !r->crypto || !r->io.load || !r->io.fetch || !r->io.store)
		return upt_error_set(err, UPT_ERR_ARG, "repository: missing argument");
	upt_arena_rollback(r->a, r->start);
	memset(&r->root, 0, sizeof r->root);
	r->has_timestamp = r->has_snapshot = r->has_targets = false;
	r->loaded = NULL;
	r->n_loaded = 0;
	r->n_root_updates = 0;
	r->now = now;
	/* 5.2: the trusted root (trusted even when expired). */
	rc = r->io.load(r->io.ctx, "root", r->lim.root_max, r->a, &data, &len, err);
	if (rc == UPT_ERR_NOT_FOUND)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: no trusted root", r->name);
	if (rc != UPT_OK) {
		upt_error_prefix(err, r->name);
		return rc;
	}
	rc = upt_doc_parse(&doc, r->a, data, len, r->lim.root_max, doc_name(r, "root", 0), err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(&r->root, r->a, &doc, r->crypto, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, "trusted root");
	return rc;
}

int upt_repo_bootstrap(struct upt_repo *r, const uint8_t *data, size_t len, struct upt_error *err)
{
	struct upt_doc doc;
	struct upt_root root;
	size_t mark;
	int rc;
	if (!r || !r->a || !r->crypto || !r->io.store || !data)
		return upt_error_set(err, UPT_ERR_ARG, "repository: missing argument");
	mark = upt_arena_mark(r->a);
	rc = upt_doc_parse(&doc, r->a, data, len, r->lim.root_max, doc_name(r, "root", 0), err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(&root, r->a, &doc, r->crypto, err);
	upt_arena_rollback(r->a, mark);
	if (rc == UPT_OK)
		rc = r->io.store(r->io.ctx, "root", data, len, err);
	return rc;
}

static int fetch(struct upt_repo *r, const char *role, int64_t version, size_t max,
		 const uint8_t **data, size_t *len, struct upt_error *err)
{
	int rc = r->io.fetch(r->io.ctx, role, version, max, r->a, data, len, err);
	if (rc != UPT_OK)
		upt_error_prefix(err, doc_name(r, role, version));
	return rc;
}

/* 5.3: the root chain. Each accepted root replaces the previous one in the
 * arena, so memory stays bounded by one root whatever the chain length. */
int upt_repo_update_root(struct upt_repo *r, struct upt_error *err)
{
	int rc = UPT_OK;
	if (!r || !r->root.c.version)
		return upt_error_set(err, UPT_ERR_STATE, "repository: no trusted root loaded");
	for (uint32_t i = 0; i < r->lim.max_root_rotations; i++) {
		size_t mark = upt_arena_mark(r->a);
		int64_t next = r->root.c.version + 1;
		const char *name = doc_name(r, "root", next);
		const uint8_t *data;
		size_t len;
		struct upt_doc doc;
		struct upt_root nr;
		rc = fetch(r, "root", next, r->lim.root_max, &data, &len, err);
		if (rc == UPT_ERR_NOT_FOUND) { /* 5.3.2: no newer root */
			upt_arena_rollback(r->a, mark);
			rc = UPT_OK;
			break;
		}
		if (rc == UPT_OK)
			rc = upt_doc_parse(&doc, r->a, data, len, r->lim.root_max, name, err);
		if (rc == UPT_OK)
			rc = upt_root_parse(&nr, r->a, &doc, r->crypto, err);
		/* 5.3.4: signed by the trusted root's threshold of root keys */
		if (rc == UPT_OK) {
			rc =
			    upt_doc_verify(&doc, r->root.keys, r->root.n_keys,
					   &r->root.roles[UPT_ROLE_ROOT - 1], r->crypto, NULL, err);
			if (rc != UPT_OK)
				upt_error_prefix(err, "keys of the trusted root");
		}
		/* ... and by its own threshold */
		if (rc == UPT_OK) {
			rc = upt_doc_verify(&doc, nr.keys, nr.n_keys, &nr.roles[UPT_ROLE_ROOT - 1],
					    r->crypto, NULL, err);
			if (rc != UPT_OK)
				upt_error_prefix(err, "keys of the new root");
		}
		/* 5.3.5: version exactly N+1 */
		if (rc == UPT_OK && nr.c.version != next)
			rc = upt_error_set(err,
					   nr.c.version < next ? UPT_ERR_ROLLBACK : UPT_ERR_VERSION,
					   "%s: version %lld, expected %lld", name,
					   (long long)nr.c.version, (long long)next);
		if (rc != UPT_OK) {
			upt_arena_rollback(r->a, mark);
			return rc;
		}
		/* 5.3.8: persist, then trust */
		rc = r->io.store(r->io.ctx, "root", data, len, err);
		if (rc != UPT_OK) {
			upt_arena_rollback(r->a, mark);
			return rc;
		}
		memmove(r->a->base + r->start, data, len);
		upt_arena_rollback(r->a, r->start + len);
		rc = root_reparse(r, r->a->base + r->start, len, err);
		if (rc != UPT_OK)
			return rc;
		r->n_root_updates++;
	}
	/* 5.3.10: freeze attack on root */
	if (expired(r, r->root.c.expires))
		return expired_error(err, doc_name(r, "root", 0), r->root.c.expires);
	return UPT_OK;
}

/* ---- timestamp, snapshot, targets --------------------------------------- */

/* Parse and signature-check data as `role` of the trusted root. */
static int parse_signed(struct upt_repo *r, struct upt_doc *doc, const uint8_t *data, size_t len,
			size_t max, enum upt_role role, const char *name, struct upt_error *err)
{
	int rc = upt_doc_parse(doc, r->a, data, len, max, name, err);
	if (rc == UPT_OK && doc->role != role)
		rc = upt_error_set(err, UPT_ERR_ROLE_TYPE, "%s: _type is not %s", name,
				   upt_role_name(role));
	if (rc == UPT_OK)
		rc = upt_doc_verify(doc, r->root.keys, r->root.n_keys, &r->root.roles[role - 1],
				    r->crypto, NULL, err);
	return rc;
}

/* Load the stored copy of a role; UPT_ERR_NOT_FOUND when none. */
static int load_local(struct upt_repo *r, const char *role, size_t max, const uint8_t **data,
		      size_t *len)
{
	struct upt_error ignored;
	return r->io.load(r->io.ctx, role, max, r->a, data, len, &ignored);
}

static bool has_hashes(const struct upt_meta_file *m)
{
	return m->hashes.has_sha256 || m->hashes.has_sha512;
}

/* A file against the length and hashes its referencing metadata gives.
 * The hashes cover the bytes served. In the aktualizr dialect (`canonical`)
 * they may instead cover the canonical form of the served document, as
 * aktualizr computes them (servers built for it pretty-print); the length
 * still bounds the bytes served. The TUF dialect stays byte-exact. */
static int check_meta_file(struct upt_repo *r, const uint8_t *data, size_t len,
			   const struct upt_meta_file *meta, bool canonical, const char *what,
			   struct upt_error *err)
{
	struct upt_json *v;
	const uint8_t *canon;
	size_t clen, mark;
	int rc = upt_check_file(data, len, meta->length, &meta->hashes, r->crypto, what, err);
	if (rc != UPT_ERR_HASH_MISMATCH || !canonical || !has_hashes(meta) ||
	    (meta->length >= 0 && (uint64_t)meta->length != (uint64_t)len))
		return rc;
	mark = upt_arena_mark(r->a);
	if (upt_json_parse(&v, r->a, data, len, NULL, NULL) == UPT_OK &&
	    upt_json_canonical_arena(&canon, &clen, r->a, v, NULL) == UPT_OK &&
	    upt_check_file(canon, clen, -1, &meta->hashes, r->crypto, what, NULL) == UPT_OK) {
		upt_arena_rollback(r->a, mark);
		upt_error_clear(err);
		return UPT_OK;
	}
	upt_arena_rollback(r->a, mark);
	return rc;
}

/* Does this repository take hashes over the canonical form (referencing
 * metadata and root both in the aktualizr dialect)? */
static bool canonical_hashes(const struct upt_repo *r, const struct upt_meta_common *referrer)
{
	return referrer->dialect == UPT_DIALECT_AKTUALIZR &&
	       r->root.c.dialect == UPT_DIALECT_AKTUALIZR;
}

/* A role the trusted root does not define (an aktualizr-dialect root of
 * root and targets only) signs nothing. */
static int role_defined(const struct upt_repo *r, enum upt_role role, const char *name,
			struct upt_error *err)
{
	if (r->root.roles[role - 1].threshold == 0)
		return upt_error_set(err, UPT_ERR_STATE,
				     "%s: the trusted root defines no %s role (a repository of "
				     "root and targets only)",
				     name, upt_role_name(role));
	return UPT_OK;
}

int upt_repo_update_timestamp(struct upt_repo *r, struct upt_error *err)
{
	const char *name = doc_name(r, "timestamp", 0);
	struct upt_timestamp nt;
	struct upt_doc doc;
	const uint8_t *data;
	size_t len, mark;
	int rc;
	if (!r || !r->root.c.version || r->has_snapshot)
		return upt_error_set(err, UPT_ERR_STATE, "%s: out of order", name);
	if (expired(r, r->root.c.expires))
		return expired_error(err, doc_name(r, "root", 0), r->root.c.expires);
	rc = role_defined(r, UPT_ROLE_TIMESTAMP, name, err);
	if (rc == UPT_OK)
		rc = role_defined(r, UPT_ROLE_SNAPSHOT, name, err);
	if (rc != UPT_OK)
		return rc;
	/* The stored timestamp, when its signature holds under the current
	 * root, is the reference for rollback checks even when expired. One
	 * signed by keys the root has since rotated away is not (fast-forward
	 * recovery, 5.3.11). */
	mark = upt_arena_mark(r->a);
	r->has_timestamp = false;
	if (load_local(r, "timestamp", r->lim.timestamp_max, &data, &len) == UPT_OK &&
	    parse_signed(r, &doc, data, len, r->lim.timestamp_max, UPT_ROLE_TIMESTAMP, name,
			 NULL) == UPT_OK &&
	    upt_timestamp_parse(&r->timestamp, r->a, &doc, NULL) == UPT_OK)
		r->has_timestamp = true;
	else
		upt_arena_rollback(r->a, mark);

	/* 5.4.1-5.4.2: fetch, bounded; signatures */
	mark = upt_arena_mark(r->a);
	rc = fetch(r, "timestamp", 0, r->lim.timestamp_max, &data, &len, err);
	if (rc == UPT_OK)
		rc = parse_signed(r, &doc, data, len, r->lim.timestamp_max, UPT_ROLE_TIMESTAMP,
				  name, err);
	if (rc == UPT_OK)
		rc = upt_timestamp_parse(&nt, r->a, &doc, err);
	/* 5.4.3: rollback of the timestamp and of the snapshot it names */
	if (rc == UPT_OK && r->has_timestamp) {
		const struct upt_timestamp *old = &r->timestamp;
		if (nt.c.version < old->c.version)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK,
					   "%s: version %lld is lower than the trusted %lld", name,
					   (long long)nt.c.version, (long long)old->c.version);
		else if (nt.c.version == old->c.version) {
			/* Nothing new: keep the trusted one. */
			upt_arena_rollback(r->a, mark);
			if (expired(r, old->c.expires))
				return expired_error(err, name, old->c.expires);
			return UPT_OK;
		} else if (nt.snapshot.version < old->snapshot.version)
			rc = upt_error_set(
			    err, UPT_ERR_ROLLBACK,
			    "%s: snapshot version %lld is lower than the trusted %lld", name,
			    (long long)nt.snapshot.version, (long long)old->snapshot.version);
	}
	/* 5.4.4: freeze */
	if (rc == UPT_OK && expired(r, nt.c.expires))
		rc = expired_error(err, name, nt.c.expires);
	/* 5.4.5: persist */
	if (rc == UPT_OK)
		rc = r->io.store(r->io.ctx, "timestamp", data, len, err);
	if (rc != UPT_OK) {
		upt_arena_rollback(r->a, mark);
		return rc;
	}
	r->timestamp = nt;
	r->has_timestamp = true;
	return UPT_OK;
}

int upt_repo_update_snapshot(struct upt_repo *r, struct upt_error *err)
{
	const char *name = doc_name(r, "snapshot", 0);
	const struct upt_meta_file *meta;
	struct upt_snapshot ns, old;
	bool has_old = false;
	struct upt_doc doc;
	const uint8_t *data;
	size_t len, mark, max;
	int rc;
	if (!r || !r->has_timestamp || r->has_targets)
		return upt_error_set(err, UPT_ERR_STATE, "%s: out of order", name);
	if (expired(r, r->timestamp.c.expires))
		return expired_error(err, doc_name(r, "timestamp", 0), r->timestamp.c.expires);
	meta = &r->timestamp.snapshot;
	max = meta->length >= 0 ? (size_t)meta->length : r->lim.snapshot_max;

	/* The stored snapshot: used as is when it is the one the timestamp
	 * names; otherwise (signature valid) the reference for rollback. */
	mark = upt_arena_mark(r->a);
	if (load_local(r, "snapshot", r->lim.snapshot_max, &data, &len) == UPT_OK &&
	    parse_signed(r, &doc, data, len, r->lim.snapshot_max, UPT_ROLE_SNAPSHOT, name, NULL) ==
		UPT_OK &&
	    upt_snapshot_parse(&old, r->a, &doc, NULL) == UPT_OK) {
		has_old = true;
		if (old.c.version == meta->version && !expired(r, old.c.expires)) {
			r->snapshot = old;
			r->has_snapshot = true;
			return UPT_OK;
		}
	} else {
		upt_arena_rollback(r->a, mark);
	}

	/* 5.5.1-5.5.3: fetch (versioned with consistent snapshots), bounded by
	 * the timestamp's length; its hashes; signatures */
	mark = upt_arena_mark(r->a);
	rc = fetch(r, "snapshot", r->root.consistent_snapshot ? meta->version : 0, max, &data, &len,
		   err);
	if (rc == UPT_OK && (meta->length >= 0 || has_hashes(meta)))
		rc = check_meta_file(r, data, len, meta, canonical_hashes(r, &r->timestamp.c),
				     "snapshot.json against the timestamp", err);
	if (rc == UPT_OK)
		rc = parse_signed(r, &doc, data, len, max, UPT_ROLE_SNAPSHOT, name, err);
	if (rc == UPT_OK)
		rc = upt_snapshot_parse(&ns, r->a, &doc, err);
	/* never below the stored snapshot (Uptane L5) */
	if (rc == UPT_OK && has_old && ns.c.version < old.c.version)
		rc = upt_error_set(err, UPT_ERR_ROLLBACK,
				   "%s: version %lld is lower than the trusted %lld", name,
				   (long long)ns.c.version, (long long)old.c.version);
	/* 5.5.5: no targets file removed or rolled back */
	for (size_t i = 0; rc == UPT_OK && has_old && i < old.n_meta; i++) {
		const struct upt_meta_file *n = upt_snapshot_find(&ns, old.meta[i].name);
		if (!n)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK, "%s: %s is no longer listed",
					   name, old.meta[i].name);
		else if (n->version < old.meta[i].version)
			rc = upt_error_set(err, UPT_ERR_ROLLBACK,
					   "%s: %s version %lld is lower than the trusted %lld",
					   name, n->name, (long long)n->version,
					   (long long)old.meta[i].version);
	}
	/* 5.5.4: the version the timestamp names (mix-and-match) */
	if (rc == UPT_OK && ns.c.version != meta->version)
		rc = upt_error_set(
		    err, ns.c.version < meta->version ? UPT_ERR_ROLLBACK : UPT_ERR_VERSION,
		    "%s: version %lld, the timestamp says %lld", name, (long long)ns.c.version,
		    (long long)meta->version);
	/* 5.5.6: freeze */
	if (rc == UPT_OK && expired(r, ns.c.expires))
		rc = expired_error(err, name, ns.c.expires);
	if (rc == UPT_OK)
		rc = r->io.store(r->io.ctx, "snapshot", data, len, err);
	if (rc != UPT_OK) {
		upt_arena_rollback(r->a, mark);
		return rc;
	}
	r->snapshot = ns;
	r->has_snapshot = true;
	return UPT_OK;
}

/* Load, check and (when fetched) store a targets role named `role`,
 * signed by `rk` with keys from `keys`. With a snapshot, its version must
 * be the snapshot's and its length and hashes those the snapshot gives;
 * without one (a repository of root and targets only), its version must
 * not go below the stored copy's. */
static int targets_role(struct upt_repo *r, const char *role, const struct upt_key *keys,
			size_t n_keys, const struct upt_role_keys *rk, struct upt_targets *out,
			struct upt_error *err)
{
	const char *name = doc_name(r, role, 0);
	const struct upt_meta_file *meta = NULL;
	char file[UPT_ERROR_MSG_MAX];
	size_t rl = strlen(role), mark, max = r->lim.targets_max;
	int64_t floor = 0;
	struct upt_targets t;
	struct upt_doc doc;
	const uint8_t *data;
	size_t len;
	int rc;

	if (r->use_snapshot) {
		if (rl + 6 > sizeof file)
			return upt_error_set(err, UPT_ERR_TOO_LARGE, "%s: role name too long",
					     name);
		memcpy(file, role, rl);
		memcpy(file + rl, ".json", 6);
		if (!(meta = upt_snapshot_find(&r->snapshot, file)))
			return upt_error_set(err, UPT_ERR_DELEGATION,
					     "%s: the snapshot does not list %s", name, file);
		if (meta->length >= 0)
			max = (size_t)meta->length;
	}
	/* The stored copy, if it is the one the snapshot names. */
	for (int pass = 0; pass < 2; pass++) {
		struct upt_error *e = pass ? err : NULL;
		bool authentic = false;
		mark = upt_arena_mark(r->a);
		if (pass == 0)
			rc = load_local(r, role, max, &data, &len);
		else
			rc = fetch(r, role, meta && r->root.consistent_snapshot ? meta->version : 0,
				   max, &data, &len, err);
		if (rc == UPT_OK && meta && (meta->length >= 0 || has_hashes(meta)))
			rc = check_meta_file(r, data, len, meta,
					     canonical_hashes(r, &r->snapshot.c), name, e);
		if (rc == UPT_OK)
			rc = upt_doc_parse(&doc, r->a, data, len, max, name, e);
		if (rc == UPT_OK && doc.role != UPT_ROLE_TARGETS)
			rc = upt_error_set(e, UPT_ERR_ROLE_TYPE, "%s: _type is not targets", name);
		if (rc == UPT_OK)
			rc = upt_doc_verify(&doc, keys, n_keys, rk, r->crypto, NULL, e);
		if (rc == UPT_OK)
			rc = upt_targets_parse(&t, r->a, &doc, r->crypto, e);
		authentic = rc == UPT_OK;
		if (rc == UPT_OK && meta && t.c.version != meta->version)
			rc = upt_error_set(
			    e, t.c.version < meta->version ? UPT_ERR_ROLLBACK : UPT_ERR_VERSION,
			    "%s: version %lld, the snapshot says %lld", name,
			    (long long)t.c.version, (long long)meta->version);
		if (rc == UPT_OK && !meta && t.c.version < floor)
			rc = upt_error_set(e, UPT_ERR_ROLLBACK,
					   "%s: version %lld is lower than the trusted %lld", name,
					   (long long)t.c.version, (long long)floor);
		if (pass == 0 && !meta) {
			/* No snapshot: the stored copy (expired or not) is only
			 * the floor for the version; always fetch. */
			if (authentic)
				floor = t.c.version;
			upt_arena_rollback(r->a, mark);
			continue;
		}
		if (rc == UPT_OK && expired(r, t.c.expires))
			rc = e ? expired_error(e, name, t.c.expires) : UPT_ERR_EXPIRED;
		if (rc == UPT_OK && r->check_targets && strcmp(role, "targets") == 0)
			rc = r->check_targets(r->check_ctx, r, &t, e);
		if (rc == UPT_OK && pass == 1)
			rc = r->io.store(r->io.ctx, role, data, len, err);
		if (rc == UPT_OK) {
			*out = t;
			return UPT_OK;
		}
		upt_arena_rollback(r->a, mark);
		if (pass == 1)
			return rc;
	}
	return UPT_ERR_STATE; /* not reached */
}

int upt_repo_update_targets(struct upt_repo *r, struct upt_error *err)
{
	int rc;
	if (!r || !r->root.c.version || (r->use_snapshot && !r->has_snapshot))
		return upt_error_set(err, UPT_ERR_STATE, "%s targets.json: out of order",
				     r ? r->name : "repository");
	if (r->use_snapshot && expired(r, r->snapshot.c.expires))
		return expired_error(err, doc_name(r, "snapshot", 0), r->snapshot.c.expires);
	if (!r->use_snapshot && expired(r, r->root.c.expires))
		return expired_error(err, doc_name(r, "root", 0), r->root.c.expires);
	rc = targets_role(r, "targets", r->root.keys, r->root.n_keys,
			  &r->root.roles[UPT_ROLE_TARGETS - 1], &r->targets, err);
	if (rc == UPT_OK)
		r->has_targets = true;
	return rc;
}

int upt_repo_refresh(struct upt_repo *r, int64_t now, struct upt_error *err)
{
	int rc = upt_repo_load_root(r, now, err);
	if (rc == UPT_OK)
		rc = upt_repo_update_root(r, err);
	if (rc == UPT_OK && r->use_snapshot)
		rc = upt_repo_update_timestamp(r, err);
	if (rc == UPT_OK && r->use_snapshot)
		rc = upt_repo_update_snapshot(r, err);
	if (rc == UPT_OK)
		rc = upt_repo_update_targets(r, err);
	return rc;
}

/* ---- delegations -------------------------------------------------------- */

/* fnmatch-style match of one path segment: '*', '?', and [set] / [!set]. */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < pn && p[pi] == '[') {
			size_t j = pi + 1;
			bool neg = j < pn && (p[j] == '!' || p[j] == '^'), hit = false,
			     closed = false;
			if (neg)
				j++;
			for (size_t first = j; j < pn; j++) {
				if (p[j] == ']' && j > first) {
					closed = true;
					break;
				}
				if (j + 2 < pn && p[j + 1] == '-' && p[j + 2] != ']') {
					hit |= s[si] >= p[j] && s[si] <= p[j + 2];
					j += 2;
				} else {
					hit |= s[si] == p[j];
				}
			}
			if (closed && hit != neg) {
				pi = j + 1;
				si++;
				continue;
			}
			if (!closed && s[si] == '[') { /* a lone '[' is literal */
				pi++;
				si++;
				continue;
			}
		} else if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool path_match(const char *pattern, const char *path)
{
	for (;;) {
		const char *pe = strchr(pattern, '/'), *se = strchr(path, '/');
		size_t pn = pe ? (size_t)(pe - pattern) : strlen(pattern);
		size_t sn = se ? (size_t)(se - path) : strlen(path);
		if (!seg_match(pattern, pn, path, sn))
			return false;
		if (!pe || !se)
			return !pe && !se;
		pattern = pe + 1;
		path = se + 1;
	}
}

bool upt_role_covers(const struct upt_role_keys *role, const char *path,
		     const struct upt_crypto *crypto)
{
	if (role->paths) {
		for (size_t i = 0; i < role->n_paths; i++)
			if (path_match(role->paths[i], path))
				return true;
		return false;
	}
	if (role->path_hash_prefixes && crypto) {
		uint8_t d[UPT_SHA512_LEN];
		char hex[2 * UPT_SHA256_LEN + 1];
		if (crypto->hash(crypto->ctx, UPT_HASH_SHA256, (const uint8_t *)path, strlen(path),
				 d) != UPT_OK)
			return false;
		upt_hex_encode(hex, d, UPT_SHA256_LEN);
		for (size_t i = 0; i < role->n_path_hash_prefixes; i++) {
			const char *pre = role->path_hash_prefixes[i];
			size_t n = strlen(pre);
			if (n <= 2 * UPT_SHA256_LEN && memcmp(hex, pre, n) == 0)
				return true;
		}
	}
	return false;
}

struct visit {
	const struct upt_role_keys *role; /* NULL: top-level targets */
	const struct upt_targets *delegator;
};

static int delegated(struct upt_repo *r, const struct visit *v, const struct upt_targets **out,
		     struct upt_error *err)
{
	struct upt_loaded_role *l;
	int rc;
	for (l = r->loaded; l; l = l->next)
		if (strcmp(l->name, v->role->name) == 0) {
			*out = &l->t;
			return UPT_OK;
		}
	if (!r->use_snapshot)
		return upt_error_set(err, UPT_ERR_UNSUPPORTED,
				     "%s: delegations need a snapshot role", r->name);
	if (!(l = upt_arena_zalloc(r->a, sizeof *l)))
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", r->name);
	rc = targets_role(r, v->role->name, v->delegator->keys, v->delegator->n_keys, v->role,
			  &l->t, err);
	if (rc != UPT_OK)
		return rc;
	l->name = v->role->name;
	l->next = r->loaded;
	r->loaded = l;
	r->n_loaded++;
	*out = &l->t;
	return UPT_OK;
}

int upt_repo_find_target(struct upt_repo *r, const char *path, const struct upt_target **out,
			 struct upt_error *err)
{
	struct visit *stack;
	const char **visited;
	size_t n = 0, cap = 16, n_visited = 0;
	if (!r || !path || !out)
		return upt_error_set(err, UPT_ERR_ARG, "find target: missing argument");
	*out = NULL;
	if (!r->has_targets)
		return upt_error_set(err, UPT_ERR_STATE, "%s: targets not loaded", r->name);
	stack = upt_arena_alloc(r->a, cap * sizeof *stack);
	visited = upt_arena_alloc(r->a, (r->lim.max_delegations + 1) * sizeof *visited);
	if (!stack || !visited)
		return upt_error_set(err, UPT_ERR_NOMEM, "%s: out of memory", r->name);
	stack[n++] = (struct visit){NULL, NULL};
	while (n > 0) {
		struct visit v = stack[--n];
		const char *name = v.role ? v.role->name : "targets";
		const struct upt_targets *t = &r->targets;
		const struct upt_target *hit;
		size_t first, i;
		bool seen = false;
		int rc;
		for (i = 0; i < n_visited; i++)
			seen |= strcmp(visited[i], name) == 0;
		if (seen)
			continue;
		if (n_visited > r->lim.max_delegations)
			return upt_error_set(
			    err, UPT_ERR_DELEGATION,
			    "%s: target %s: more than %u delegated roles to search", r->name, path,
			    r->lim.max_delegations);
		if (v.role && (rc = delegated(r, &v, &t, err)) != UPT_OK)
			return rc;
		if ((hit = upt_targets_find(t, path))) {
			*out = hit;
			return UPT_OK;
		}
		visited[n_visited++] = name;
		if (!t->has_delegations)
			continue;
		/* Children that cover the path, pushed in reverse so the first
		 * in priority order is visited first. A terminating one ends the
		 * search everywhere else. */
		first = n;
		for (i = 0; i < t->n_roles; i++) {
			const struct upt_role_keys *c = &t->roles[i];
			if (!upt_role_covers(c, path, r->crypto))
				continue;
			if (n == cap) {
				struct visit *bigger =
				    upt_arena_alloc(r->a, 2 * cap * sizeof *stack);
				if (!bigger)
					return upt_error_set(err, UPT_ERR_NOMEM,
							     "%s: out of memory", r->name);
				memcpy(bigger, stack, n * sizeof *stack);
				stack = bigger;
				cap *= 2;
			}
			stack[n++] = (struct visit){c, t};
			if (c->terminating) {
				memmove(stack, stack + first, (n - first) * sizeof *stack);
				n -= first;
				first = 0;
				break;
			}
		}
		for (size_t a = first, b = n; a + 1 < b; a++, b--) {
			struct visit tmp = stack[a];
			stack[a] = stack[b - 1];
			stack[b - 1] = tmp;
		}
	}
	return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: no trusted role lists target %s", r->name,
			     path);
}
