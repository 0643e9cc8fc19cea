/* uptake tests: in-memory repository generator and device store. */
#include "repogen.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uptake/alloc.h>
#include <uptake/encode.h>
#include <uptake/json.h>

static void die(const char *what, const struct upt_error *err)
{
	fprintf(stderr, "repogen: %s: %s\n", what, err ? err->msg : "");
	abort();
}

/* ---- files -------------------------------------------------------------- */

static struct rg_file *find(struct rg_files *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].path, path) == 0)
			return &fs->f[i];
	return NULL;
}

const struct rg_file *rg_files_get(const struct rg_files *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].path, path) == 0)
			return &fs->f[i];
	return NULL;
}

void rg_files_set(struct rg_files *fs, const char *path, const uint8_t *data, size_t len)
{
	struct rg_file *f = find(fs, path);
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy || strlen(path) >= sizeof f->path)
		die("files: out of memory or path too long", NULL);
	memcpy(copy, data, len);
	if (!f) {
		if (fs->n == RG_MAX_FILES)
			die("files: full", NULL);
		f = &fs->f[fs->n++];
		snprintf(f->path, sizeof f->path, "%s", path);
	} else {
		free(f->data);
	}
	f->data = copy;
	f->len = len;
}

void rg_files_del(struct rg_files *fs, const char *path)
{
	struct rg_file *f = find(fs, path);
	if (!f)
		return;
	free(f->data);
	*f = fs->f[--fs->n];
}

void rg_files_copy(struct rg_files *dst, const struct rg_files *src)
{
	rg_files_free(dst);
	for (size_t i = 0; i < src->n; i++)
		rg_files_set(dst, src->f[i].path, src->f[i].data, src->f[i].len);
}

static bool listed(const char *except, const char *path)
{
	size_t n = strlen(path);
	for (const char *p = except; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, path, n) == 0)
			return true;
		p = e ? e + 1 : p + len;
	}
	return false;
}

bool rg_files_equal(const struct rg_files *a, const struct rg_files *b, const char *except,
		    char *diff, size_t cap)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct rg_files *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->n; i++) {
			const struct rg_file *o = rg_files_get(y, x->f[i].path);
			if (listed(except, x->f[i].path))
				continue;
			if (!o || o->len != x->f[i].len || memcmp(o->data, x->f[i].data, o->len)) {
				snprintf(diff, cap, "%s", x->f[i].path);
				return false;
			}
		}
	}
	return true;
}

void rg_files_free(struct rg_files *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i].data);
	fs->n = 0;
}

/* ---- text building ------------------------------------------------------ */

struct sb {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("format", NULL);
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *s = realloc(b->s, cap);
		if (!s)
			die("out of memory", NULL);
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *iso(int64_t t, char *buf)
{
	if (upt_time_format(buf, 32, t) != UPT_OK)
		die("time", NULL);
	return buf;
}

static void hex(char *out, const uint8_t *data, size_t len, enum upt_hash_alg alg)
{
	uint8_t d[UPT_SHA512_LEN];
	const struct upt_crypto *c = upt_openssl_crypto();
	if (c->hash(c->ctx, alg, data, len, d) != UPT_OK)
		die("hash", NULL);
	upt_hex_encode(out, d, alg == UPT_HASH_SHA256 ? UPT_SHA256_LEN : UPT_SHA512_LEN);
}

/* ---- keys and signing --------------------------------------------------- */

void rg_key_new(struct rg_key *k, enum upt_key_type type, enum upt_dialect dialect)
{
	struct upt_error err;
	size_t len;
	memset(k, 0, sizeof *k);
	if (upt_privkey_generate(&k->priv, type ? type : UPT_KEY_ED25519, &err) != UPT_OK ||
	    upt_privkey_keyid(k->id, k->priv, dialect, &err) != UPT_OK ||
	    upt_privkey_public_json(&k->pub_json, &len, k->priv, dialect, &err) != UPT_OK)
		die("key", &err);
}

void rg_key_from_seed(struct rg_key *k, const uint8_t seed[32], enum upt_dialect dialect)
{
	struct upt_error err = {0};
	EVP_PKEY *p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n = 0;
	size_t len;
	memset(k, 0, sizeof *k);
	if (!p || !bio || PEM_write_bio_PrivateKey(bio, p, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0)
		die("seeded key", NULL);
	if (upt_privkey_load_pem(&k->priv, pem, (size_t)n, NULL, &err) != UPT_OK ||
	    upt_privkey_keyid(k->id, k->priv, dialect, &err) != UPT_OK ||
	    upt_privkey_public_json(&k->pub_json, &len, k->priv, dialect, &err) != UPT_OK)
		die("seeded key", &err);
	BIO_free(bio);
	EVP_PKEY_free(p);
}

void rg_key_free(struct rg_key *k)
{
	upt_privkey_free(k->priv);
	upt_free(k->pub_json);
	memset(k, 0, sizeof *k);
}

uint8_t *rg_sign(const char *signed_json, struct rg_key *const *keys, int n,
		 enum upt_dialect dialect, size_t *len)
{
	/* each key signs under the id the repository gives it (k->id), which a
	 * test may have respelled */
	struct upt_signer signers[RG_MAX_KEYS * 2];
	struct upt_error err;
	struct upt_arena a;
	struct upt_json *v;
	size_t tlen = strlen(signed_json), acap = 16 * tlen + 65536,
	       cap = 2 * tlen + 4096 + (size_t)n * (UPT_SIG_MAX * 2 + 2 * UPT_KEYID_MAX + 64);
	unsigned char *mem = malloc(acap);
	uint8_t *buf = malloc(cap + 1);
	if (n > RG_MAX_KEYS * 2 || !mem || !buf)
		die("sign: too many keys or out of memory", NULL);
	for (int i = 0; i < n; i++)
		upt_privkey_signer(&signers[i], keys[i]->priv, keys[i]->id);
	upt_arena_init(&a, mem, acap);
	if (upt_json_parse(&v, &a, (const uint8_t *)signed_json, tlen, NULL, &err) != UPT_OK ||
	    upt_doc_sign(buf, cap, len, v, signers, (size_t)n, dialect, &a, &err) != UPT_OK)
		die("sign", &err);
	free(mem);
	buf[*len] = 0;
	return buf;
}

/* ---- the repository model ----------------------------------------------- */

struct rg_key *rg_repo_new_key(struct rg_repo *r)
{
	if (r->n_own_keys == (int)(sizeof r->own_keys / sizeof r->own_keys[0]))
		die("too many keys", NULL);
	rg_key_new(&r->own_keys[r->n_own_keys], UPT_KEY_ED25519, r->dialect);
	return &r->own_keys[r->n_own_keys++];
}

void rg_repo_init(struct rg_repo *r, const char *label, int64_t expires)
{
	memset(r, 0, sizeof *r);
	r->label = label;
	r->dialect = UPT_DIALECT_TUF;
	r->consistent_snapshot = true;
	r->spec_version = "1.0.31";
	r->snapshot_targets_version = -1;
	for (int i = 0; i < 4; i++) {
		r->roles[i].keys[0] = rg_repo_new_key(r);
		r->roles[i].n_keys = 1;
		r->roles[i].threshold = 1;
		r->roles[i].version = 1;
		r->roles[i].expires = expires;
	}
}

void rg_repo_reseed(struct rg_repo *r, uint8_t seed)
{
	for (int i = 0; i < r->n_own_keys; i++) {
		uint8_t raw[32] = {seed, (uint8_t)i, 0x75, 0x70, 0x74, 0x61, 0x6b, 0x65};
		rg_key_free(&r->own_keys[i]);
		rg_key_from_seed(&r->own_keys[i], raw, r->dialect);
	}
}

void rg_repo_init_seeded(struct rg_repo *r, const char *label, int64_t expires,
			 enum upt_dialect dialect, uint8_t seed)
{
	rg_repo_init(r, label, expires);
	r->dialect = dialect;
	rg_repo_reseed(r, seed);
}

void rg_repo_free(struct rg_repo *r)
{
	for (int i = 0; i < r->n_own_keys; i++)
		rg_key_free(&r->own_keys[i]);
	for (int i = 0; i < r->n_targets; i++)
		free(r->targets[i].data);
	for (int d = 0; d < r->n_del; d++) {
		for (int i = 0; i < r->del[d].n_targets; i++)
			free(r->del[d].targets[i].data);
		free(r->del[d].targets);
	}
	rg_files_free(&r->served);
	rg_files_free(&r->canonical);
}

static void target_init(struct rg_target *t, const char *name, const uint8_t *data, size_t len,
			const char *hwid)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->data = malloc(len ? len : 1);
	if (!t->data)
		die("out of memory", NULL);
	memcpy(t->data, data, len);
	t->len = len;
	if (hwid)
		snprintf(t->hwid, sizeof t->hwid, "%s", hwid);
	t->release_counter = -1;
	t->length_override = -1;
}

struct rg_target *rg_add_target(struct rg_repo *r, const char *name, const uint8_t *data,
				size_t len, const char *hwid, int64_t release_counter)
{
	struct rg_target *t;
	if (r->n_targets == RG_MAX_TARGETS)
		die("too many targets", NULL);
	t = &r->targets[r->n_targets++];
	target_init(t, name, data, len, hwid);
	t->release_counter = release_counter;
	return t;
}

struct rg_deleg *rg_add_delegation(struct rg_repo *r, int parent, const char *name,
				   const char *path, bool terminating)
{
	struct rg_deleg *d;
	if (r->n_del == RG_MAX_DELEG)
		die("too many delegations", NULL);
	d = &r->del[r->n_del++];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->parent = parent;
	d->role.keys[0] = rg_repo_new_key(r);
	d->role.n_keys = 1;
	d->role.threshold = 1;
	d->role.version = 1;
	d->role.expires = r->roles[UPT_ROLE_TARGETS - 1].expires;
	d->terminating = terminating;
	d->paths[0] = path;
	d->n_paths = 1;
	return d;
}

struct rg_target *rg_deleg_add_target(struct rg_deleg *d, const char *name, const uint8_t *data,
				      size_t len, const char *hwid)
{
	struct rg_target *t;
	if (d->n_targets == d->cap_targets) {
		int cap = d->cap_targets ? 2 * d->cap_targets : 8;
		struct rg_target *more = realloc(d->targets, (size_t)cap * sizeof *more);
		if (!more)
			die("out of memory", NULL);
		d->targets = more;
		d->cap_targets = cap;
	}
	t = &d->targets[d->n_targets++];
	target_init(t, name, data, len, hwid);
	return t;
}

static void put_header(struct sb *b, const struct rg_repo *r, const char *type,
		       const struct rg_role *role)
{
	char when[32];
	char cap[16];
	snprintf(cap, sizeof cap, "%s", type);
	if (r->dialect == UPT_DIALECT_AKTUALIZR)
		cap[0] = (char)(cap[0] - 'a' + 'A');
	sb_printf(b, "{\"_type\":\"%s\",\"expires\":\"%s\",\"version\":%lld", cap,
		  iso(role->expires, when), (long long)role->version);
	if (r->dialect == UPT_DIALECT_TUF)
		sb_printf(b, ",\"spec_version\":\"%s\"", r->spec_version);
}

static void put_keys(struct sb *b, const struct rg_role *const *roles, int n)
{
	bool first = true;
	sb_printf(b, "\"keys\":{");
	for (int i = 0; i < n; i++)
		for (int k = 0; k < roles[i]->n_keys; k++) {
			bool dup = false;
			for (int j = 0; j <= i; j++)
				for (int m = 0; m < (j == i ? k : roles[j]->n_keys); m++)
					dup |= roles[j]->keys[m] == roles[i]->keys[k];
			if (dup)
				continue;
			sb_printf(b, "%s\"%s\":%s", first ? "" : ",", roles[i]->keys[k]->id,
				  roles[i]->keys[k]->pub_json);
			first = false;
		}
	sb_printf(b, "}");
}

static void put_keyids(struct sb *b, const struct rg_role *role)
{
	sb_printf(b, "\"keyids\":[");
	for (int k = 0; k < role->n_keys; k++)
		sb_printf(b, "%s\"%s\"", k ? "," : "", role->keys[k]->id);
	sb_printf(b, "],\"threshold\":%d", role->threshold);
}

static uint8_t *sign_role(const struct rg_repo *r, const struct rg_role *role, const char *text,
			  size_t *len)
{
	struct rg_key *const *who = role->n_signers ? role->signers : role->keys;
	int n = role->n_signers ? role->n_signers : role->n_keys;
	return rg_sign(text, who, n, r->dialect, len);
}

/* The document with a newline and two spaces after every '{', '[' and ','
 * outside strings: the same JSON, other bytes. */
static uint8_t *pretty(const uint8_t *in, size_t len, size_t *out_len)
{
	uint8_t *out = malloc(3 * len + 1);
	size_t o = 0;
	bool str = false, esc = false;
	if (!out)
		die("out of memory", NULL);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		out[o++] = c;
		if (str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == '{' || c == '[' || c == ',') {
			out[o++] = '\n';
			out[o++] = ' ';
			out[o++] = ' ';
		}
	}
	*out_len = o;
	return out;
}

static void serve(struct rg_repo *r, const char *role, int64_t version, uint8_t *data, size_t len,
		  bool unversioned)
{
	char path[200];
	uint8_t *body = data;
	size_t body_len = len;
	bool pp = r->pretty && strcmp(role, "root") != 0 && strcmp(role, "timestamp") != 0;
	if (pp)
		body = pretty(data, len, &body_len);
	snprintf(path, sizeof path, "%lld.%s.json", (long long)version, role);
	rg_files_set(&r->served, path, body, body_len);
	if (pp)
		rg_files_set(&r->canonical, path, data, len);
	if (unversioned) {
		snprintf(path, sizeof path, "%s.json", role);
		rg_files_set(&r->served, path, body, body_len);
		if (pp)
			rg_files_set(&r->canonical, path, data, len);
	}
	if (pp)
		free(body);
	free(data);
}

void rg_publish_root(struct rg_repo *r)
{
	static const char *const names[4] = {"root", "targets", "snapshot", "timestamp"};
	const struct rg_role *all[4] = {&r->roles[0], &r->roles[1], &r->roles[2], &r->roles[3]};
	struct sb b = {0};
	size_t len;
	uint8_t *data;
	put_header(&b, r, "root", &r->roles[0]);
	if (r->dialect == UPT_DIALECT_TUF)
		sb_printf(&b, ",\"consistent_snapshot\":%s",
			  r->consistent_snapshot ? "true" : "false");
	sb_printf(&b, ",");
	put_keys(&b, all, r->root_two_roles ? 2 : 4);
	sb_printf(&b, ",\"roles\":{");
	for (int i = 0; i < (r->root_two_roles ? 2 : 4); i++) {
		sb_printf(&b, "%s\"%s\":{", i ? "," : "", names[i]);
		put_keyids(&b, &r->roles[i]);
		sb_printf(&b, "}");
	}
	sb_printf(&b, "}}");
	data = sign_role(r, &r->roles[0], b.s, &len);
	serve(r, "root", r->roles[0].version, data, len, true);
	free(b.s);
}

static void put_target(struct sb *b, const struct rg_target *t)
{
	char h256[2 * UPT_SHA256_LEN + 1], h512[2 * UPT_SHA512_LEN + 1];
	bool custom = t->hwid[0] || t->release_counter >= 0 || t->ecu[0];
	hex(h256, t->data, t->len, UPT_HASH_SHA256);
	hex(h512, t->data, t->len, UPT_HASH_SHA512);
	if (t->corrupt_sha256)
		h256[0] = h256[0] == '0' ? '1' : '0';
	sb_printf(b, "\"%s\":{", t->name);
	if (custom) {
		bool comma = false;
		sb_printf(b, "\"custom\":{");
		if (t->ecu[0]) {
			sb_printf(b, "\"ecuIdentifiers\":{\"%s\":{\"hardwareId\":\"%s\"}}", t->ecu,
				  t->ecu_hwid);
			comma = true;
		}
		if (t->hwid[0]) {
			sb_printf(b, "%s\"hardwareIds\":[\"%s\"]", comma ? "," : "", t->hwid);
			comma = true;
		}
		if (t->release_counter >= 0)
			sb_printf(b, "%s\"releaseCounter\":%lld", comma ? "," : "",
				  (long long)t->release_counter);
		sb_printf(b, "},");
	}
	sb_printf(b, "\"hashes\":{\"sha256\":\"%s\",\"sha512\":\"%s\"},\"length\":%lld}", h256,
		  h512,
		  (long long)(t->length_override >= 0 ? t->length_override : (int64_t)t->len));
}

static void put_delegations(struct sb *b, const struct rg_repo *r, int parent)
{
	const struct rg_role *kids[RG_MAX_DELEG];
	int n = 0;
	bool first = true;
	for (int d = 0; d < r->n_del; d++)
		if (r->del[d].parent == parent)
			kids[n++] = &r->del[d].role;
	if (!n)
		return;
	sb_printf(b, ",\"delegations\":{");
	put_keys(b, kids, n);
	sb_printf(b, ",\"roles\":[");
	for (int d = 0; d < r->n_del; d++) {
		const struct rg_deleg *dl = &r->del[d];
		if (dl->parent != parent)
			continue;
		sb_printf(b, "%s{\"name\":\"%s\",", first ? "" : ",", dl->name);
		put_keyids(b, &dl->role);
		sb_printf(b, ",\"terminating\":%s,\"paths\":[", dl->terminating ? "true" : "false");
		for (int p = 0; p < dl->n_paths; p++)
			sb_printf(b, "%s\"%s\"", p ? "," : "", dl->paths[p]);
		sb_printf(b, "]}");
		first = false;
	}
	sb_printf(b, "]}");
}

static void publish_targets_role(struct rg_repo *r, const char *name, const struct rg_role *role,
				 const struct rg_target *ts, int n, int self)
{
	struct sb b = {0};
	size_t len;
	uint8_t *data;
	put_header(&b, r, "targets", role);
	sb_printf(&b, ",\"targets\":{");
	for (int i = 0; i < n; i++) {
		if (i)
			sb_printf(&b, ",");
		put_target(&b, &ts[i]);
	}
	sb_printf(&b, "}");
	put_delegations(&b, r, self);
	sb_printf(&b, "}");
	data = sign_role(r, role, b.s, &len);
	serve(r, name, role->version, data, len, true);
	free(b.s);
}

void rg_publish_targets(struct rg_repo *r)
{
	publish_targets_role(r, "targets", &r->roles[UPT_ROLE_TARGETS - 1], r->targets,
			     r->n_targets, -1);
	for (int d = 0; d < r->n_del; d++)
		publish_targets_role(r, r->del[d].name, &r->del[d].role, r->del[d].targets,
				     r->del[d].n_targets, d);
}

static void put_meta(struct sb *b, const char *file, int64_t version, const struct rg_file *f,
		     bool hashes, const struct rg_file *canonical)
{
	sb_printf(b, "\"%s\":{", file);
	if (hashes && f) {
		char h[2 * UPT_SHA256_LEN + 1];
		const struct rg_file *over = canonical ? canonical : f;
		hex(h, over->data, over->len, UPT_HASH_SHA256);
		sb_printf(b, "\"hashes\":{\"sha256\":\"%s\"},\"length\":%zu,", h, f->len);
	}
	sb_printf(b, "\"version\":%lld}", (long long)version);
}

void rg_publish_snapshot(struct rg_repo *r)
{
	const struct rg_role *role = &r->roles[UPT_ROLE_SNAPSHOT - 1];
	int64_t tv = r->snapshot_targets_version >= 0 ? r->snapshot_targets_version
						      : r->roles[UPT_ROLE_TARGETS - 1].version;
	char path[200];
	struct sb b = {0};
	size_t len;
	uint8_t *data;
	put_header(&b, r, "snapshot", role);
	sb_printf(&b, ",\"meta\":{");
	snprintf(path, sizeof path, "%lld.targets.json", (long long)tv);
	put_meta(&b, "targets.json", tv, rg_files_get(&r->served, path), r->snapshot_hashes,
		 rg_files_get(&r->canonical, path));
	for (int d = 0; d < r->n_del; d++) {
		char file[100];
		snprintf(file, sizeof file, "%s.json", r->del[d].name);
		snprintf(path, sizeof path, "%lld.%s.json", (long long)r->del[d].role.version,
			 r->del[d].name);
		sb_printf(&b, ",");
		put_meta(&b, file, r->del[d].role.version, rg_files_get(&r->served, path),
			 r->snapshot_hashes, rg_files_get(&r->canonical, path));
	}
	sb_printf(&b, "}}");
	data = sign_role(r, role, b.s, &len);
	serve(r, "snapshot", role->version, data, len, true);
	free(b.s);
}

void rg_publish_timestamp(struct rg_repo *r)
{
	const struct rg_role *role = &r->roles[UPT_ROLE_TIMESTAMP - 1];
	int64_t sv = r->roles[UPT_ROLE_SNAPSHOT - 1].version;
	char path[200];
	struct sb b = {0};
	size_t len;
	uint8_t *data;
	put_header(&b, r, "timestamp", role);
	sb_printf(&b, ",\"meta\":{");
	snprintf(path, sizeof path, "%lld.snapshot.json", (long long)sv);
	put_meta(&b, "snapshot.json", sv, rg_files_get(&r->served, path), true,
		 rg_files_get(&r->canonical, path));
	sb_printf(&b, "}}");
	data = sign_role(r, role, b.s, &len);
	serve(r, "timestamp", role->version, data, len, true);
	free(b.s);
}

void rg_publish_all(struct rg_repo *r)
{
	rg_publish_root(r);
	rg_publish_targets(r);
	if (r->no_snapshot)
		return;
	rg_publish_snapshot(r);
	rg_publish_timestamp(r);
}

void rg_republish(struct rg_repo *r)
{
	r->roles[UPT_ROLE_TARGETS - 1].version++;
	for (int d = 0; d < r->n_del; d++)
		r->del[d].role.version++;
	rg_publish_targets(r);
	if (r->no_snapshot)
		return;
	r->roles[UPT_ROLE_SNAPSHOT - 1].version++;
	r->roles[UPT_ROLE_TIMESTAMP - 1].version++;
	rg_publish_snapshot(r);
	rg_publish_timestamp(r);
}

/* ---- the client's io ---------------------------------------------------- */

static int copy_out(const struct rg_file *f, size_t max_len, struct upt_arena *a,
		    const uint8_t **data, size_t *len, struct upt_error *err)
{
	uint8_t *buf;
	if (f->len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "more than %zu bytes", max_len);
	if (!(buf = upt_arena_alloc(a, f->len ? f->len : 1)))
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	memcpy(buf, f->data, f->len);
	*data = buf;
	*len = f->len;
	return UPT_OK;
}

static int io_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
		    struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct rg_client *c = ctx;
	char path[200];
	const struct rg_file *f;
	if (version > 0)
		snprintf(path, sizeof path, "%lld.%s.json", (long long)version, role);
	else
		snprintf(path, sizeof path, "%s.json", role);
	c->served->fetches++;
	if (!(f = rg_files_get(c->served, path)))
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "not found");
	return copy_out(f, max_len, a, data, len, err);
}

static int io_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		   const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct rg_client *c = ctx;
	const struct rg_file *f = rg_files_get(&c->store, role);
	if (!f)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "not stored");
	return copy_out(f, max_len, a, data, len, err);
}

static int io_store(void *ctx, const char *role, const uint8_t *data, size_t len,
		    struct upt_error *err)
{
	struct rg_client *c = ctx;
	(void)err;
	rg_files_set(&c->store, role, data, len);
	return UPT_OK;
}

void rg_client_io(struct upt_repo_io *io, struct rg_client *c)
{
	io->ctx = c;
	io->fetch = io_fetch;
	io->load = io_load;
	io->store = io_store;
}
