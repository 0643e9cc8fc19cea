/* uptake-secondary: metadata from the primary, verified with libuptake.
 *
 * The files a putMetaReq2 carries (or the root of a putRootReq) are what
 * the repository I/O "fetches"; trusted metadata is loaded from and stored
 * to state_dir/director and state_dir/image (each file replaced atomically,
 * and only once verified). The roots at the start of both chains are the
 * ones this secondary was provisioned with: no root the primary sends is
 * trusted unless the trusted root signs it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "../../host/host.h"
#include "secondary.h"

#define ARENA_SIZE ((size_t)64 << 20)

/* The repository I/O: fetch from what the primary sent, load and store
 * through the host's files. */
struct offered {
	struct host_repo_io files;
	struct upt_repo_io host;
	const struct upt_ipu_collection *coll; /* may be NULL */
	const uint8_t *root;                   /* putRootReq's, or NULL */
	size_t root_len;
};

static bool role_is(const struct upt_ipu_bytes *b, const char *role)
{
	return b->len == strlen(role) && memcmp(b->data, role, b->len) == 0;
}

/* signed.version of a metadata file, or -1 (nothing of it is trusted: it
 * only picks which file to hand to the verification). */
static int64_t peek_version(const uint8_t *data, size_t len)
{
	size_t cap = 16 * len + 65536;
	void *mem = upt_malloc(cap);
	struct upt_arena a;
	struct upt_json *j = NULL;
	int64_t v = -1;
	if (!mem)
		return -1;
	upt_arena_init(&a, mem, cap);
	if (upt_json_parse(&j, &a, data, len, NULL, NULL) == UPT_OK) {
		const struct upt_json *s = upt_json_get(j, "signed");
		const struct upt_json *ver = s ? upt_json_get(s, "version") : NULL;
		if (ver && ver->type == UPT_JSON_INT)
			v = ver->i;
	}
	upt_free(mem);
	return v;
}

static int hand_over(struct upt_arena *a, const uint8_t *src, size_t n, size_t max_len,
		     const char *role, const uint8_t **data, size_t *len, struct upt_error *err)
{
	uint8_t *p;
	if (n > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "%s.json from the primary: %zu bytes, more than %zu", role, n,
				     max_len);
	if (!(p = upt_arena_alloc(a, n ? n : 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory (%zu bytes)", n);
	memcpy(p, src, n);
	*data = p;
	*len = n;
	return UPT_OK;
}

static int offered_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
			 struct upt_arena *a, const uint8_t **data, size_t *len,
			 struct upt_error *err)
{
	struct offered *o = ctx;
	bool root = strcmp(role, "root") == 0;
	/* a root is handed over only as the version asked for: the chain
	 * moves one version at a time */
	if (root && o->root && peek_version(o->root, o->root_len) == version)
		return hand_over(a, o->root, o->root_len, max_len, role, data, len, err);
	for (size_t i = 0; o->coll && i < o->coll->count; i++) {
		const struct upt_ipu_meta *m = &o->coll->items[i];
		if (!role_is(&m->role, role))
			continue;
		if (root && peek_version(m->json.data, m->json.len) != version)
			break;
		return hand_over(a, m->json.data, m->json.len, max_len, role, data, len, err);
	}
	return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s.json (version %lld): not sent", role,
			     (long long)version);
}

static int offered_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
			const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct offered *o = ctx;
	return o->host.load(o->host.ctx, role, max_len, a, data, len, err);
}

static int offered_store(void *ctx, const char *role, const uint8_t *data, size_t len,
			 struct upt_error *err)
{
	struct offered *o = ctx;
	return o->host.store(o->host.ctx, role, data, len, err);
}

static void offered_io(struct upt_repo_io *io, struct offered *o, const char *dir)
{
	o->files.base_url = "";
	o->files.dir = dir;
	host_repo_io(&o->host, &o->files);
	io->ctx = o;
	io->fetch = offered_fetch;
	io->load = offered_load;
	io->store = offered_store;
}

static const char *repo_dir(int repo)
{
	return repo == UPT_IPU_REPO_DIRECTOR ? "director" : "image";
}

static int bootstrap(const struct sec_config *c, int repo, const char *from, struct upt_error *err)
{
	char dir[SEC_PATH + 16], path[SEC_PATH + 32];
	struct offered o = {0};
	struct upt_repo_io io;
	struct upt_repo r;
	struct upt_arena a;
	uint8_t *data = NULL;
	size_t len = 0;
	void *mem = NULL;
	sec_state_path(dir, sizeof dir, c, repo_dir(repo));
	snprintf(path, sizeof path, "%s/root.json", dir);
	if (access(path, F_OK) == 0)
		return UPT_OK;
	if (!from[0])
		return upt_error_set(err, UPT_ERR_NOT_FOUND,
				     "%s: no trusted %s root: provision one with --%s-root", path,
				     repo_dir(repo), repo_dir(repo));
	int rc = host_mkdirs(dir, err);
	if (rc == UPT_OK)
		rc = host_read_file(from, UPT_DEFAULT_ROOT_MAX, &data, &len, err);
	if (rc == UPT_OK && !(mem = upt_malloc(ARENA_SIZE)))
		rc = upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	if (rc == UPT_OK) {
		offered_io(&io, &o, dir);
		upt_arena_init(&a, mem, ARENA_SIZE);
		upt_repo_init(&r, repo_dir(repo), &io, upt_openssl_crypto(), &a, NULL);
		rc = upt_repo_bootstrap(&r, data, len, err);
		if (rc != UPT_OK)
			upt_error_prefix(err, from);
	}
	if (rc == UPT_OK)
		sec_log("provisioned: the %s root from %s", repo_dir(repo), from);
	upt_free(data);
	upt_free(mem);
	return rc;
}

int sec_provision_roots(const struct sec_config *c, struct upt_error *err)
{
	int rc = bootstrap(c, UPT_IPU_REPO_DIRECTOR, c->director_root, err);
	if (rc == UPT_OK)
		rc = bootstrap(c, UPT_IPU_REPO_IMAGE, c->image_root, err);
	return rc;
}

int sec_root_version(const struct secondary *s, int repo, int64_t *version, struct upt_error *err)
{
	char path[SEC_PATH + 32], name[32];
	uint8_t *data = NULL;
	size_t len = 0;
	snprintf(name, sizeof name, "%s/root.json", repo_dir(repo));
	sec_state_path(path, sizeof path, s->c, name);
	int rc = host_read_file(path, UPT_DEFAULT_ROOT_MAX, &data, &len, err);
	if (rc == UPT_OK) {
		*version = peek_version(data, len);
		if (*version < 1)
			rc = upt_error_set(err, UPT_ERR_FIELD_VALUE, "%s: no version", path);
	}
	upt_free(data);
	return rc;
}

/* One repository over what the primary offers. */
struct repo_ctx {
	char dir[SEC_PATH + 16];
	struct offered o;
	struct upt_repo_io io;
	struct upt_arena a;
	struct upt_repo r;
	void *mem;
};

static int repo_open(struct repo_ctx *x, const struct secondary *s, int repo,
		     const struct upt_ipu_collection *coll, struct upt_error *err)
{
	memset(x, 0, sizeof *x);
	sec_state_path(x->dir, sizeof x->dir, s->c, repo_dir(repo));
	if (!(x->mem = upt_malloc(ARENA_SIZE)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	x->o.coll = coll;
	offered_io(&x->io, &x->o, x->dir);
	upt_arena_init(&x->a, x->mem, ARENA_SIZE);
	upt_repo_init(&x->r, repo == UPT_IPU_REPO_DIRECTOR ? "director" : "image repository",
		      &x->io, upt_openssl_crypto(), &x->a, NULL);
	return UPT_OK;
}

int sec_put_root(struct secondary *s, int repo, const uint8_t *json, size_t len,
		 struct upt_error *err)
{
	struct repo_ctx x;
	int64_t have = 0, offered = peek_version(json, len);
	int rc = sec_root_version(s, repo, &have, err);
	if (rc == UPT_OK && offered != have + 1)
		rc = upt_error_set(err, UPT_ERR_VERSION,
				   "%s root from the primary: version %lld is not the next after "
				   "the trusted %lld",
				   repo_dir(repo), (long long)offered, (long long)have);
	if (rc == UPT_OK)
		rc = repo_open(&x, s, repo, NULL, err);
	if (rc == UPT_OK) {
		x.o.root = json;
		x.o.root_len = len;
		rc = upt_repo_load_root(&x.r, (int64_t)time(NULL), err);
		if (rc == UPT_OK)
			rc = upt_repo_update_root(&x.r, err);
		if (rc == UPT_OK && x.r.n_root_updates != 1)
			rc = upt_error_set(err, UPT_ERR_VERSION, "%s root: not accepted",
					   repo_dir(repo));
		upt_free(x.mem);
	}
	if (rc == UPT_OK)
		sec_log("%s root version %lld trusted", repo_dir(repo), (long long)offered);
	return rc;
}

/* Every role at most once in a collection, and nothing but role names. */
static int check_collection(const struct upt_ipu_collection *c, const char *which,
			    struct upt_error *err)
{
	for (size_t i = 0; i < c->count; i++) {
		const struct upt_ipu_bytes *r = &c->items[i].role;
		if (r->len == 0 || r->len > 64 || memchr(r->data, 0, r->len))
			return upt_error_set(err, UPT_ERR_FIELD_VALUE,
					     "%s metadata from the primary: entry %zu has no role "
					     "name",
					     which, i);
		for (size_t j = 0; j < i; j++)
			if (r->len == c->items[j].role.len &&
			    memcmp(r->data, c->items[j].role.data, r->len) == 0)
				return upt_error_set(err, UPT_ERR_FIELD_VALUE,
						     "%s metadata from the primary: role %.*s "
						     "twice",
						     which, (int)r->len, (const char *)r->data);
	}
	return UPT_OK;
}

static bool has_role(const struct upt_ipu_collection *c, const char *role)
{
	for (size_t i = 0; i < c->count; i++)
		if (role_is(&c->items[i].role, role))
			return true;
	return false;
}

static void installed_ecu(const struct secondary *s, struct upt_ecu *ecu)
{
	size_t got = 0;
	memset(ecu, 0, sizeof *ecu);
	ecu->serial = s->c->serial;
	ecu->hardware_id = s->c->hardware_id;
	if (!s->installed.name[0])
		return;
	ecu->has_installed = true;
	ecu->installed_length = s->installed.length;
	ecu->installed_hashes.has_sha256 =
	    upt_hex_decode(ecu->installed_hashes.sha256, UPT_SHA256_LEN, &got, s->installed.sha256,
			   64) == UPT_OK;
	ecu->has_installed_release_counter = s->installed.has_release_counter;
	ecu->installed_release_counter = s->installed.release_counter;
}

/* The verified assignment of this ECU becomes the pending image. */
static int take_assignment(struct secondary *s, const struct upt_verified *v, struct upt_error *err)
{
	const struct upt_update *u = v->n_updates ? &v->updates[0] : NULL;
	if (!u)
		return upt_error_set(err, UPT_ERR_NOT_FOUND,
				     "director targets.json: nothing for ECU %s", s->c->serial);
	if (u->installed) {
		sec_log("%s is installed already", u->director->name);
		return UPT_OK;
	}
	if (strlen(u->director->name) >= sizeof s->pending.name)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "target name too long");
	memset(&s->pending, 0, sizeof s->pending);
	snprintf(s->pending.name, sizeof s->pending.name, "%s", u->director->name);
	s->pending.length = u->director->length;
	s->pending_hashes = u->director->hashes;
	if (s->pending_hashes.has_sha256)
		upt_hex_encode(s->pending.sha256, s->pending_hashes.sha256, UPT_SHA256_LEN);
	s->pending.has_release_counter = u->release_counter >= 0;
	s->pending.release_counter = u->release_counter;
	s->has_pending = true;
	sec_log("verified: %s (%lld bytes) for ECU %s", s->pending.name,
		(long long)s->pending.length, s->c->serial);
	return UPT_OK;
}

int sec_put_meta(struct secondary *s, const struct upt_ipu_put_meta_req2 *m, struct upt_error *err)
{
	struct repo_ctx *d = upt_calloc(2, sizeof *d), *i = d ? d + 1 : NULL;
	char ts[SEC_PATH + 32];
	struct upt_ecu ecu;
	struct upt_verified v;
	int rc = d ? UPT_OK : upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	/* whatever was pending is superseded, verified or not */
	s->has_pending = false;
	sec_upload_reset(s);
	if (rc == UPT_OK)
		rc = check_collection(&m->director_repo, "director", err);
	if (rc == UPT_OK)
		rc = check_collection(&m->image_repo, "image repository", err);
	if (rc == UPT_OK && m->director_repo.count == 0)
		rc = upt_error_set(err, UPT_ERR_FIELD_MISSING,
				   "director metadata from the primary: none (this secondary "
				   "verifies both repositories)");
	if (rc == UPT_OK)
		rc = repo_open(d, s, UPT_IPU_REPO_DIRECTOR, &m->director_repo, err);
	if (rc == UPT_OK)
		rc = repo_open(i, s, UPT_IPU_REPO_IMAGE, &m->image_repo, err);
	if (rc == UPT_OK) {
		/* a Director of root and targets only (aktualizr's), unless it
		 * ever gave a timestamp: then one is required from now on */
		snprintf(ts, sizeof ts, "%s/timestamp.json", d->dir);
		d->r.use_snapshot =
		    has_role(&m->director_repo, "timestamp") || access(ts, F_OK) == 0;
		installed_ecu(s, &ecu);
		rc = upt_uptane_secondary_full_verify(&d->r, &i->r, &ecu, (int64_t)time(NULL), &v,
						      err);
	}
	if (rc == UPT_OK)
		rc = take_assignment(s, &v, err);
	if (d) {
		upt_free(d->mem);
		upt_free(i->mem);
	}
	upt_free(d);
	return rc;
}
