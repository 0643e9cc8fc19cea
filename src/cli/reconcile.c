/* uptake CLI: bring the workspace up to what its server holds.
 *
 * The workspace records a signed upload only once the server has accepted
 * it (ws_put_signed). When the reply is lost after the server accepted
 * version N+1 (the command killed, the connection cut), the workspace
 * still holds N and every later upload of N+1 would be refused. Before a
 * command signs anything, ws_reconcile:
 *
 *  - Image repository root: walks the chain from the workspace's root
 *    (GET /repo/N+1.root.json, ...), each root checked as a TUF client
 *    checks it (the trusted root's threshold, its own threshold, version
 *    N+1), and adopts a root only when every root and targets key it
 *    lists is a key this workspace holds: keys/ROLE-*.pem, or, after a
 *    rotation whose reply was lost, keys/new-*.pem, which are then put in
 *    place (the old keys go to keys/retired/, as `key rotate` does);
 *  - Image repository targets: adopts the server's newer targets when it
 *    verifies under the workspace's root with the workspace's own targets
 *    key; re-signs targets that an interrupted targets rotation left signed
 *    by the retired key;
 *  - Director root: the admin API cannot read it back, so a Director root
 *    left in metadata/pending is sent again; it is adopted when the server
 *    accepts it or answers that it holds exactly that version already.
 *
 * Anything else (a root or targets the workspace's keys did not sign, a
 * server copy of the workspace's version that differs) is refused and
 * nothing in the workspace changes.
 */
#define _DEFAULT_SOURCE
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/json.h>

#include "../host/host.h"

struct recon {
	const struct ws *w;
	const char *cmd;
	const char *pass_env;
	struct cli_arena ca;
};

/* Where a repository's offline keys live in the workspace. */
struct repo_desc {
	const char *label;     /* for messages */
	const char *root_file; /* under metadata/ */
	const char *prefix;    /* keys/PREFIX-N.pem, keys/new-PREFIX-N.pem */
	bool offline_targets;  /* keys/targets.pem signs targets */
};
static const struct repo_desc image_repo = {"Image repository", "root.json", "root", true};
static const struct repo_desc director_repo = {"Director", "director-root.json", "director-root",
					       false};

struct idset {
	char id[WS_MAX_KEYS][UPT_KEYID_MAX + 1];
	size_t n;
};

/* What adopting a root does to the key files. */
struct key_plan {
	bool move_root;    /* keys/new-PREFIX-i.pem become keys/PREFIX-i.pem */
	bool move_targets; /* keys/new-root-1.pem becomes keys/targets.pem */
	size_t n_new;
};

static int ids_of_keys(struct idset *s, struct upt_privkey **keys, size_t n, enum upt_dialect d,
		       struct upt_error *err)
{
	int rc = UPT_OK;
	s->n = 0;
	for (size_t i = 0; rc == UPT_OK && i < n; i++) {
		rc = upt_privkey_keyid(s->id[i], keys[i], d, err);
		if (rc == UPT_OK)
			s->n++;
	}
	return rc;
}

/* Key ids of keys/PREFIX-1.pem... (or keys/targets.pem when prefix is
 * "targets"). */
static int held_ids(struct idset *s, const struct recon *r, const char *prefix, enum upt_dialect d,
		    struct upt_error *err)
{
	struct upt_privkey *keys[WS_MAX_KEYS] = {0};
	size_t n = 0;
	int rc;
	s->n = 0;
	if (strcmp(prefix, "targets") == 0) {
		char path[WS_PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/keys/targets.pem", r->w->dir);
		if (access(path, F_OK) != 0)
			return UPT_OK;
		rc = cli_load_privkey(&keys[0], path, r->pass_env, err);
		n = rc == UPT_OK ? 1 : 0;
	} else {
		rc = ws_load_keys(keys, &n, r->w, prefix, r->pass_env, err);
	}
	if (rc == UPT_OK)
		rc = ids_of_keys(s, keys, n, d, err);
	ws_free_keys(keys, &n);
	return rc;
}

/* Every key the role lists is in s. */
static bool held_by(const struct upt_role_keys *role, const struct idset *s)
{
	if (role->n_keyids == 0)
		return false;
	for (size_t i = 0; i < role->n_keyids; i++) {
		bool found = false;
		for (size_t k = 0; k < s->n && !found; k++)
			found = strcmp(role->keyids[i], s->id[k]) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* Which of the workspace's keys the root's offline roles need; refuses a
 * root that lists offline keys this workspace does not hold. */
static int plan_keys(struct key_plan *p, const struct recon *r, const struct repo_desc *d,
		     const struct upt_root *root, enum upt_dialect dialect, struct upt_error *err)
{
	struct idset cur, fresh, targets = {.n = 0};
	char new_prefix[64];
	const struct upt_role_keys *rr = &root->roles[UPT_ROLE_ROOT - 1];
	const struct upt_role_keys *tr = &root->roles[UPT_ROLE_TARGETS - 1];
	int rc;
	memset(p, 0, sizeof *p);
	snprintf(new_prefix, sizeof new_prefix, "new-%s", d->prefix);
	rc = held_ids(&cur, r, d->prefix, dialect, err);
	if (rc == UPT_OK)
		rc = held_ids(&fresh, r, new_prefix, dialect, err);
	if (rc == UPT_OK && d->offline_targets)
		rc = held_ids(&targets, r, "targets", dialect, err);
	if (rc != UPT_OK)
		return rc;
	p->n_new = fresh.n;
	if (!held_by(rr, &cur)) {
		if (!held_by(rr, &fresh))
			return upt_error_set(err, UPT_ERR_KEY,
					     "%s root version %lld lists root keys this workspace "
					     "does not hold",
					     d->label, (long long)root->c.version);
		p->move_root = true;
	}
	if (d->offline_targets && !held_by(tr, &targets)) {
		if (fresh.n != 1 || !held_by(tr, &fresh) || p->move_root)
			return upt_error_set(err, UPT_ERR_KEY,
					     "%s root version %lld lists a targets key this "
					     "workspace does not hold",
					     d->label, (long long)root->c.version);
		p->move_targets = true;
	}
	return UPT_OK;
}

/* Put the rotated keys in place, as `key rotate` does once the server has
 * accepted: old keys to keys/retired/ (named after root version `old`). */
static int apply_keys(const struct key_plan *p, const struct recon *r, const struct repo_desc *d,
		      int64_t old, struct upt_error *err)
{
	char dir[WS_PATH_MAX + 64], from[WS_PATH_MAX + 64], to[WS_PATH_MAX + 96];
	const char *dd = r->w->dir;
	int rc = UPT_OK;
	if (!p->move_root && !p->move_targets)
		return UPT_OK;
	snprintf(dir, sizeof dir, "%s/keys/retired", dd);
	rc = host_mkdirs(dir, err);
	for (size_t i = 1; rc == UPT_OK && i <= p->n_new; i++) {
		char cur[WS_PATH_MAX + 64];
		if (p->move_root) {
			snprintf(cur, sizeof cur, "%s/keys/%s-%zu.pem", dd, d->prefix, i);
			snprintf(to, sizeof to, "%s/keys/retired/%s-v%lld-%zu.pem", dd, d->prefix,
				 (long long)old, i);
		} else {
			snprintf(cur, sizeof cur, "%s/keys/targets.pem", dd);
			snprintf(to, sizeof to, "%s/keys/retired/targets-v%lld.pem", dd,
				 (long long)old);
		}
		snprintf(from, sizeof from, "%s/keys/new-%s-%zu.pem", dd, d->prefix, i);
		if ((access(cur, F_OK) == 0 && rename(cur, to) != 0) || rename(from, cur) != 0)
			rc = upt_error_set(err, UPT_ERR_IO, "%s: cannot put the new key in place",
					   from);
	}
	if (rc == UPT_OK)
		cli_err(r->cmd,
			"reconciled: the %s keys listed by %s root version %lld are in "
			"place; the old ones are in keys/retired/",
			p->move_root ? "root" : "targets", d->label, (long long)old + 1);
	return rc;
}

/* Parse bytes (copied into the arena) as a signed document. */
static int parse_doc(struct upt_doc *doc, struct recon *r, const char *data, size_t len,
		     const char *name, struct upt_error *err)
{
	uint8_t *copy = upt_arena_alloc(&r->ca.a, len ? len : 1);
	if (!copy)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	memcpy(copy, data, len);
	return upt_doc_parse(doc, &r->ca.a, copy, len, CLI_MAX_FILE, name, err);
}

static int load_local(struct upt_doc *doc, char **bytes, size_t *len, struct recon *r,
		      const char *file, struct upt_error *err)
{
	char path[WS_PATH_MAX + 64];
	int rc;
	snprintf(path, sizeof path, "%s/metadata/%s", r->w->dir, file);
	rc = cli_read_file(path, CLI_MAX_FILE, bytes, len, err);
	if (rc == UPT_OK)
		rc = parse_doc(doc, r, *bytes, *len, path, err);
	return rc;
}

static bool same_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/* Is metadata/pending/FILE exactly these bytes? Removes it either way:
 * once reconciled, nothing is under way. */
static bool pending_is(const struct recon *r, const char *file, const char *data, size_t len)
{
	char path[WS_PATH_MAX + 64], *p = NULL;
	size_t pl = 0;
	bool same = false;
	snprintf(path, sizeof path, "%s/metadata/pending/%s", r->w->dir, file);
	if (cli_read_file(path, CLI_MAX_FILE, &p, &pl, NULL) == UPT_OK) {
		same = same_bytes(p, pl, data, len);
		upt_free(p);
		unlink(path);
	}
	return same;
}

static int write_meta(const struct recon *r, const char *file, const char *data, size_t len,
		      struct upt_error *err)
{
	char path[WS_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/metadata/%s", r->w->dir, file);
	return cli_write_file(path, data, len, 0644, false, err);
}

static bool exists(const struct recon *r, const char *rel)
{
	char path[WS_PATH_MAX + 64];
	int n = snprintf(path, sizeof path, "%s/%s", r->w->dir, rel);
	/* a path cut short would name another file */
	return n >= 0 && (size_t)n < sizeof path && access(path, F_OK) == 0;
}

/* Root N+1 from the server, checked against the trusted root N. */
static int check_next_root(struct upt_root *nr, struct upt_doc *doc, struct recon *r,
			   const struct upt_root *cur, const struct repo_desc *d, const char *data,
			   size_t len, struct upt_error *err)
{
	char name[64];
	int rc;
	snprintf(name, sizeof name, "%lld.root.json", (long long)cur->c.version + 1);
	rc = parse_doc(doc, r, data, len, name, err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(nr, &r->ca.a, doc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && nr->c.version != cur->c.version + 1)
		rc = upt_error_set(err, UPT_ERR_VERSION, "%s: version %lld", name,
				   (long long)nr->c.version);
	if (rc == UPT_OK)
		rc = upt_doc_verify(doc, cur->keys, cur->n_keys, &cur->roles[UPT_ROLE_ROOT - 1],
				    upt_openssl_crypto(), NULL, err);
	if (rc != UPT_OK) {
		char inner[UPT_ERROR_MSG_MAX];
		snprintf(inner, sizeof inner, "%s", err->msg);
		rc = upt_error_set(err, rc,
				   "the server's %s root version %lld is not signed by this "
				   "workspace's root keys (%s); nothing changed",
				   d->label, (long long)cur->c.version + 1, inner);
	}
	return rc;
}

/* The Image repository's root: the server's chain beyond the workspace's
 * root, each one adopted. *cur is the trusted root afterwards. */
static int image_root(struct recon *r, struct upt_root *cur, struct upt_error *err)
{
	struct upt_doc doc, sdoc;
	char *local = NULL, *data = NULL, file[64];
	size_t ll = 0, len = 0;
	struct upt_root latest;
	int rc = load_local(&doc, &local, &ll, r, "root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_parse(cur, &r->ca.a, &doc, upt_openssl_crypto(), err);
	if (rc == UPT_OK) {
		int g = ws_fetch_public(r->w, "root.json", &data, &len, err);
		if (g == UPT_ERR_NOT_FOUND) { /* a server with no root: nothing to adopt */
			upt_error_clear(err);
			upt_free(local);
			return UPT_OK;
		}
		rc = g;
	}
	if (rc == UPT_OK)
		rc = parse_doc(&sdoc, r, data, len, "server root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&latest, &r->ca.a, &sdoc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && latest.c.version == cur->c.version && !same_bytes(data, len, local, ll))
		rc = upt_error_set(err, UPT_ERR_STATE,
				   "the server's Image repository root version %lld is not this "
				   "workspace's (not signed by this workspace's root keys?); "
				   "nothing changed",
				   (long long)cur->c.version);
	free(data);
	data = NULL;
	upt_free(local);
	while (rc == UPT_OK && latest.c.version > cur->c.version) {
		struct upt_root nr;
		struct key_plan plan;
		bool same;
		snprintf(file, sizeof file, "%lld.root.json", (long long)cur->c.version + 1);
		rc = ws_fetch_public(r->w, file, &data, &len, err);
		if (rc == UPT_OK)
			rc = check_next_root(&nr, &doc, r, cur, &image_repo, data, len, err);
		if (rc == UPT_OK)
			rc = plan_keys(&plan, r, &image_repo, &nr, doc.dialect, err);
		if (rc == UPT_OK)
			rc = apply_keys(&plan, r, &image_repo, cur->c.version, err);
		same = rc == UPT_OK && pending_is(r, "root.json", data, len);
		if (rc == UPT_OK)
			rc = write_meta(r, "root.json", data, len, err);
		if (rc == UPT_OK)
			cli_err(r->cmd,
				"reconciled: the server holds Image repository root version %lld, "
				"signed by this workspace's root keys%s; adopted it",
				(long long)nr.c.version,
				same ? " and identical to the upload whose reply was lost" : "");
		free(data);
		data = NULL;
		if (rc == UPT_OK)
			*cur = nr;
	}
	return rc;
}

/* A rotation stopped between the server's acceptance of a root and the
 * key files' renaming leaves keys/new-PREFIX-*.pem that the workspace's
 * own root lists. */
static int settle_keys(struct recon *r, const struct repo_desc *d, const struct upt_root *root,
		       enum upt_dialect dialect, struct upt_error *err)
{
	char rel[96];
	struct key_plan plan;
	int rc;
	snprintf(rel, sizeof rel, "keys/new-%s-1.pem", d->prefix);
	if (!exists(r, rel))
		return UPT_OK;
	rc = plan_keys(&plan, r, d, root, dialect, err);
	if (rc == UPT_OK)
		rc = apply_keys(&plan, r, d, root->c.version - 1, err);
	return rc;
}

static int image_targets(struct recon *r, const struct upt_root *root, struct upt_error *err)
{
	struct upt_doc ldoc, sdoc;
	struct upt_targets lt, st;
	struct idset mine;
	char *local = NULL, *data = NULL;
	size_t ll = 0, len = 0;
	const struct upt_role_keys *tr = &root->roles[UPT_ROLE_TARGETS - 1];
	int rc = load_local(&ldoc, &local, &ll, r, "targets.json", err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&lt, &r->ca.a, &ldoc, upt_openssl_crypto(), err);
	if (rc == UPT_OK) {
		rc = ws_fetch_public(r->w, "targets.json", &data, &len, err);
		if (rc == UPT_ERR_NOT_FOUND) {
			upt_error_clear(err);
			upt_free(local);
			return UPT_OK;
		}
	}
	if (rc == UPT_OK)
		rc = parse_doc(&sdoc, r, data, len, "server targets.json", err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&st, &r->ca.a, &sdoc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && st.c.version == lt.c.version && !same_bytes(data, len, local, ll))
		rc = upt_error_set(err, UPT_ERR_STATE,
				   "the server's targets version %lld is not this workspace's; "
				   "nothing changed",
				   (long long)st.c.version);
	if (rc == UPT_OK && st.c.version == lt.c.version &&
	    upt_doc_verify(&sdoc, root->keys, root->n_keys, tr, upt_openssl_crypto(), NULL, NULL) !=
		UPT_OK) {
		/* a targets rotation stopped after its root: finish it */
		int64_t v = 0;
		struct upt_privkey *key = NULL;
		char path[WS_PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/keys/targets.pem", r->w->dir);
		rc = cli_load_privkey(&key, path, r->pass_env, err);
		if (rc == UPT_OK)
			rc = ws_resign_targets(r->w, key, (int64_t)time(NULL) + 365 * 86400, &v,
					       err);
		if (rc == UPT_OK)
			cli_err(
			    r->cmd,
			    "reconciled: targets version %lld was signed by the retired targets "
			    "key; signed it again with the current key as version %lld",
			    (long long)st.c.version, (long long)v);
		upt_privkey_free(key);
	}
	if (rc == UPT_OK && st.c.version > lt.c.version) {
		bool same;
		rc = held_ids(&mine, r, "targets", sdoc.dialect, err);
		if (rc == UPT_OK && !held_by(tr, &mine))
			rc = upt_error_set(err, UPT_ERR_KEY,
					   "the Image repository root lists a targets key this "
					   "workspace does not hold");
		if (rc == UPT_OK) {
			rc = upt_doc_verify(&sdoc, root->keys, root->n_keys, tr,
					    upt_openssl_crypto(), NULL, err);
			if (rc != UPT_OK) {
				char inner[UPT_ERROR_MSG_MAX];
				snprintf(inner, sizeof inner, "%s", err->msg);
				rc =
				    upt_error_set(err, rc,
						  "the server's targets version %lld is not signed "
						  "by this workspace's targets key (%s); nothing "
						  "changed",
						  (long long)st.c.version, inner);
			}
		}
		same = rc == UPT_OK && pending_is(r, "targets.json", data, len);
		if (rc == UPT_OK)
			rc = write_meta(r, "targets.json", data, len, err);
		if (rc == UPT_OK)
			cli_err(r->cmd,
				"reconciled: the server holds targets version %lld (this workspace "
				"had %lld), signed by this workspace's targets key%s; continuing "
				"from it",
				(long long)st.c.version, (long long)lt.c.version,
				same ? " and identical to the upload whose reply was lost" : "");
	}
	free(data);
	upt_free(local);
	return rc;
}

/* Does the server's JSON error say it holds root version `v` already
 * ("root.json: version V, expected V+1")? */
static bool holds_version(struct recon *r, const char *resp, int64_t v)
{
	struct upt_json *j;
	const struct upt_json *e, *code, *msg;
	char want[64];
	size_t n = strlen(resp), wl;
	char *copy = v < INT64_MAX ? upt_arena_alloc(&r->ca.a, n + 1) : NULL;
	if (!copy)
		return false;
	memcpy(copy, resp, n + 1);
	if (upt_json_parse(&j, &r->ca.a, (const uint8_t *)copy, n, NULL, NULL) != UPT_OK)
		return false;
	e = upt_json_get(j, "error");
	code = e ? upt_json_get(e, "code") : NULL;
	msg = e ? upt_json_get(e, "message") : NULL;
	wl = (size_t)snprintf(want, sizeof want, ", expected %lld", (long long)v + 1);
	return upt_json_is_str(code, "UPT_ERR_VERSION") && msg && msg->type == UPT_JSON_STRING &&
	       msg->len >= wl && memcmp(msg->str + msg->len - wl, want, wl) == 0;
}

/* A Director root left in metadata/pending: send it again. */
static int director_root(struct recon *r, struct upt_error *err)
{
	struct upt_doc ldoc, pdoc;
	struct upt_root cur, pr;
	struct key_plan plan;
	char path[WS_PATH_MAX + 64], *local = NULL, *pend = NULL, *resp = NULL;
	size_t ll = 0, pl = 0;
	long status = 0;
	bool accepted = false;
	int rc;
	snprintf(path, sizeof path, "%s/metadata/pending/director-root.json", r->w->dir);
	rc = load_local(&ldoc, &local, &ll, r, "director-root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_parse(&cur, &r->ca.a, &ldoc, upt_openssl_crypto(), err);
	upt_free(local);
	if (rc == UPT_OK && !exists(r, "metadata/pending/director-root.json"))
		return settle_keys(r, &director_repo, &cur, ldoc.dialect, err);
	if (rc == UPT_OK)
		rc = cli_read_file(path, CLI_MAX_FILE, &pend, &pl, err);
	if (rc == UPT_OK)
		rc = parse_doc(&pdoc, r, pend, pl, path, err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(&pr, &r->ca.a, &pdoc, upt_openssl_crypto(), err);
	if (rc == UPT_OK && pr.c.version <= cur.c.version) { /* recorded already */
		unlink(path);
		upt_free(pend);
		return settle_keys(r, &director_repo, &cur, ldoc.dialect, err);
	}
	if (rc == UPT_OK && pr.c.version != cur.c.version + 1)
		rc = upt_error_set(err, UPT_ERR_VERSION, "%s: version %lld after %lld", path,
				   (long long)pr.c.version, (long long)cur.c.version);
	if (rc == UPT_OK)
		rc = upt_doc_verify(&pdoc, cur.keys, cur.n_keys, &cur.roles[UPT_ROLE_ROOT - 1],
				    upt_openssl_crypto(), NULL, err);
	if (rc == UPT_OK)
		rc = plan_keys(&plan, r, &director_repo, &pr, pdoc.dialect, err);
	if (rc == UPT_OK)
		rc = ws_http_status(r->w, "PUT", "api/v1/director/root", r->w->token,
				    "application/json", pend, pl, NULL, false, &status, &resp, NULL,
				    err);
	if (rc == UPT_OK) {
		accepted = status == 200;
		if (!accepted && !(status == 409 && holds_version(r, resp, pr.c.version)))
			rc = upt_error_set(err, UPT_ERR_IO,
					   "%s: the Director root an earlier command sent: "
					   "HTTP %lld: %.150s",
					   path, (long long)status, resp);
	}
	if (rc == UPT_OK)
		rc = apply_keys(&plan, r, &director_repo, cur.c.version, err);
	if (rc == UPT_OK)
		rc = write_meta(r, "director-root.json", pend, pl, err);
	if (rc == UPT_OK) {
		unlink(path);
		cli_err(r->cmd,
			"reconciled: %s Director root version %lld, which an earlier command "
			"signed with this workspace's keys (metadata/pending/director-root.json); "
			"adopted it",
			accepted ? "the server had not taken" : "the server holds",
			(long long)pr.c.version);
		if (!accepted)
			cli_err(r->cmd, "note: the admin API cannot read the Director root back, "
					"so the server's copy was not compared byte for byte");
	}
	free(resp);
	upt_free(pend);
	return rc;
}

int ws_reconcile(const struct ws *w, const char *cmd, const char *pass_env, struct upt_error *err)
{
	struct recon r = {w, cmd, pass_env, {0}};
	struct upt_root root;
	int rc;
	if (cli_arena_init(&r.ca, CLI_ARENA_SIZE) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	rc = image_root(&r, &root, err);
	if (rc == UPT_OK)
		rc = settle_keys(&r, &image_repo, &root, root.c.dialect, err);
	if (rc == UPT_OK)
		rc = image_targets(&r, &root, err);
	if (rc == UPT_OK && exists(&r, "metadata/director-root.json"))
		rc = director_root(&r, err);
	if (rc == UPT_OK) { /* the server does not hold these: nothing under way */
		char path[WS_PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/metadata/pending/root.json", w->dir);
		unlink(path);
		snprintf(path, sizeof path, "%s/metadata/pending/targets.json", w->dir);
		unlink(path);
	}
	cli_arena_dispose(&r.ca);
	return rc;
}

int ws_resign_targets(const struct ws *w, struct upt_privkey *key, int64_t expires,
		      int64_t *version, struct upt_error *err)
{
	struct cli_arena ca;
	struct upt_doc td;
	struct upt_targets t;
	const struct upt_json *tg, *dl;
	struct cli_buf tt, signed_targets = {0};
	char path[WS_PATH_MAX + 64], when[32];
	int rc;
	if (cli_arena_init(&ca, CLI_ARENA_SIZE) != UPT_OK)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	cli_buf_init(&tt, CLI_MAX_FILE);
	snprintf(path, sizeof path, "%s/metadata/targets.json", w->dir);
	rc = cli_load_doc(&td, &ca, path, err);
	if (rc == UPT_OK)
		rc = upt_targets_parse(&t, &ca.a, &td, upt_openssl_crypto(), err);
	tg = rc == UPT_OK ? upt_json_get(td.signed_json, "targets") : NULL;
	dl = rc == UPT_OK ? upt_json_get(td.signed_json, "delegations") : NULL;
	if (rc == UPT_OK && t.c.version >= INT64_MAX - 1)
		rc = upt_error_set(err, UPT_ERR_VERSION, "targets: version %lld has no successor",
				   (long long)t.c.version);
	if (rc == UPT_OK)
		rc = upt_time_format(when, sizeof when, expires);
	if (rc == UPT_OK)
		rc = ws_header(&tt, td.dialect, "targets", t.c.version + 1, when);
	if (rc == UPT_OK)
		rc = cli_buf_printf(&tt, ",\"targets\":");
	if (rc == UPT_OK)
		rc = tg ? cli_buf_put_json(&tt, tg, err) : cli_buf_printf(&tt, "{}");
	if (rc == UPT_OK && dl) {
		rc = cli_buf_printf(&tt, ",\"delegations\":");
		if (rc == UPT_OK)
			rc = cli_buf_put_json(&tt, dl, err);
	}
	if (rc == UPT_OK)
		rc = cli_buf_printf(&tt, "}");
	if (rc == UPT_OK)
		rc = ws_sign(&signed_targets, tt.p, &key, 1, td.dialect, err);
	if (rc == UPT_OK)
		rc = ws_put_signed(w, "repo/metadata/targets", "targets.json", signed_targets.p,
				   signed_targets.len, err);
	if (rc == UPT_OK)
		*version = t.c.version + 1;
	cli_buf_free(&tt);
	cli_buf_free(&signed_targets);
	cli_arena_dispose(&ca);
	return rc;
}
