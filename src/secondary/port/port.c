/* uptake port: partial verification, the trusted record, the streamed
 * image and the version report. See uptake_port.h. */
#include <string.h>
#include <uptake/client.h>
#include <uptake/encode.h>
#include <uptake/json.h>
#include <uptake/uptane.h>

#include "uptake_port.h"

/* ---- the record ----------------------------------------------------------
 *
 * Header, little-endian:
 *   0 "UPTP"  4 format (1)  8 sequence  12 root length  16 targets version
 *  24 flags (1 installed, 2 sha256, 4 sha512)  28 zero  32 installed length
 *  40 installed release counter  48 report counter  56 sha256[32]
 *  88 sha512[64]  152 name[128], NUL-padded  280 zero[8]
 * 288 SHA-256 of bytes 0..288 and of the root that follows the header.
 */
#define REC_FORMAT   1u
#define OFF_CHECKSUM 288u
#define F_INSTALLED  1u
#define F_SHA256     2u
#define F_SHA512     4u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int checksum(const struct upt_port_crypto *c, const uint8_t *hdr, const uint8_t *root,
		    size_t root_len, uint8_t out[32])
{
	struct upt_port_hash_op op;
	size_t n = 0;
	int rc = c->hash_setup(c->ctx, &op, UPT_PORT_ALG_SHA_256);
	if (rc == 0)
		rc = c->hash_update(c->ctx, &op, hdr, OFF_CHECKSUM);
	if (rc == 0)
		rc = c->hash_update(c->ctx, &op, root, root_len);
	if (rc == 0)
		rc = c->hash_finish(c->ctx, &op, out, 32, &n);
	return rc == 0 && n == 32 ? UPT_OK : UPT_ERR_CRYPTO;
}

/* strlen bounded by max (returns max when there is no NUL before it). */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int upt_port_record_parse(struct upt_port_record *out, const uint8_t **root, const uint8_t *slot,
			  size_t len, const struct upt_port_crypto *crypto)
{
	struct upt_port_record r;
	uint8_t sum[32];
	uint32_t flags;
	size_t nl;
	if (!out || !root || !slot || !crypto || len < UPT_PORT_HEADER_SIZE)
		return UPT_ERR_ARG;
	if (memcmp(slot, "UPTP", 4) != 0 || get32(slot + 4) != REC_FORMAT)
		return UPT_ERR_NOT_FOUND;
	memset(&r, 0, sizeof r);
	r.sequence = get32(slot + 8);
	r.root_len = get32(slot + 12);
	if (r.root_len == 0 || r.root_len > UPT_PORT_ROOT_MAX ||
	    r.root_len > len - UPT_PORT_HEADER_SIZE)
		return UPT_ERR_TOO_LARGE;
	if (checksum(crypto, slot, slot + UPT_PORT_HEADER_SIZE, r.root_len, sum) != UPT_OK)
		return UPT_ERR_CRYPTO;
	if (!upt_ct_equal(sum, slot + OFF_CHECKSUM, 32))
		return UPT_ERR_HASH_MISMATCH;
	/* From here on the bytes are what the port wrote; still check them. */
	r.targets_version = (int64_t)get64(slot + 16);
	flags = get32(slot + 24);
	if ((flags & ~(F_INSTALLED | F_SHA256 | F_SHA512)) || get32(slot + 28) ||
	    !all_zero(slot + 280, 8) || r.targets_version < 0)
		return UPT_ERR_FIELD_VALUE;
	r.has_installed = flags & F_INSTALLED;
	r.has_sha256 = flags & F_SHA256;
	r.has_sha512 = flags & F_SHA512;
	if (r.has_installed && !r.has_sha256 && !r.has_sha512)
		return UPT_ERR_FIELD_VALUE;
	r.installed_length = get64(slot + 32);
	r.installed_release_counter = (int64_t)get64(slot + 40);
	r.report_counter = get64(slot + 48);
	memcpy(r.installed_sha256, slot + 56, 32);
	memcpy(r.installed_sha512, slot + 88, 64);
	nl = bounded_len((const char *)slot + 152, UPT_PORT_NAME_MAX + 1);
	if (nl > UPT_PORT_NAME_MAX || !all_zero(slot + 152 + nl, UPT_PORT_NAME_MAX + 1 - nl) ||
	    r.installed_release_counter < -1)
		return UPT_ERR_FIELD_VALUE;
	memcpy(r.installed_name, slot + 152, nl);
	*out = r;
	*root = slot + UPT_PORT_HEADER_SIZE;
	return UPT_OK;
}

/* Write `r` with `root` to the slot not holding the current record: erase,
 * root, then the header, whose checksum makes the record valid. */
static int record_commit(struct upt_port *p, const struct upt_port_record *r, const uint8_t *root,
			 size_t root_len, struct upt_error *err)
{
	const struct upt_port_platform *pf = p->pf;
	unsigned slot = p->phase == UPT_PORT_UNPROVISIONED ? 0 : p->slot ^ 1u;
	uint8_t h[UPT_PORT_HEADER_SIZE];
	struct upt_port_record nr = *r;
	size_t nl = bounded_len(r->installed_name, UPT_PORT_NAME_MAX + 1);
	if (root_len == 0 || root_len > UPT_PORT_ROOT_MAX || nl > UPT_PORT_NAME_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "trusted record: root of %zu bytes",
				     root_len);
	nr.sequence = p->phase == UPT_PORT_UNPROVISIONED ? 1 : p->rec.sequence + 1;
	nr.root_len = (uint32_t)root_len;
	memset(h, 0, sizeof h);
	memcpy(h, "UPTP", 4);
	put32(h + 4, REC_FORMAT);
	put32(h + 8, nr.sequence);
	put32(h + 12, nr.root_len);
	put64(h + 16, (uint64_t)nr.targets_version);
	put32(h + 24, (nr.has_installed ? F_INSTALLED : 0) | (nr.has_sha256 ? F_SHA256 : 0) |
			  (nr.has_sha512 ? F_SHA512 : 0));
	put64(h + 32, nr.installed_length);
	put64(h + 40, (uint64_t)nr.installed_release_counter);
	put64(h + 48, nr.report_counter);
	memcpy(h + 56, nr.installed_sha256, 32);
	memcpy(h + 88, nr.installed_sha512, 64);
	memcpy(h + 152, nr.installed_name, nl);
	if (checksum(pf->crypto, h, root, root_len, h + OFF_CHECKSUM) != UPT_OK)
		return upt_error_set(err, UPT_ERR_CRYPTO, "trusted record: checksum failed");
	if (pf->slot_erase(pf->ctx, slot) != 0 ||
	    pf->slot_write(pf->ctx, slot, UPT_PORT_HEADER_SIZE, root, root_len) != 0 ||
	    pf->slot_write(pf->ctx, slot, 0, h, sizeof h) != 0)
		return upt_error_set(err, UPT_ERR_IO, "trusted record: writing slot %u failed",
				     slot);
	p->rec = nr;
	p->slot = slot;
	if (p->phase == UPT_PORT_UNPROVISIONED)
		p->phase = UPT_PORT_IDLE;
	return UPT_OK;
}

/* The newer of two sequence numbers, across wrap-around. */
static bool newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static int record_load(struct upt_port *p, struct upt_error *err)
{
	bool found = false;
	for (unsigned s = 0; s < 2; s++) {
		size_t mark = upt_arena_mark(&p->arena);
		uint8_t *buf = upt_arena_alloc(&p->arena, UPT_PORT_SLOT_SIZE);
		struct upt_port_record r;
		const uint8_t *root;
		if (!buf)
			return upt_error_set(err, UPT_ERR_NOMEM, "trusted record: arena too small");
		if (p->pf->slot_read(p->pf->ctx, s, 0, buf, UPT_PORT_SLOT_SIZE) == 0 &&
		    upt_port_record_parse(&r, &root, buf, UPT_PORT_SLOT_SIZE, p->pf->crypto) ==
			UPT_OK &&
		    (!found || newer(r.sequence, p->rec.sequence))) {
			p->rec = r;
			p->slot = s;
			found = true;
		}
		upt_arena_rollback(&p->arena, mark);
	}
	p->phase = found ? UPT_PORT_IDLE : UPT_PORT_UNPROVISIONED;
	return UPT_OK;
}

/* ---- crypto for core ---------------------------------------------------- */

static int core_hash(void *ctx, enum upt_hash_alg alg, const uint8_t *data, size_t len,
		     uint8_t *digest)
{
	const struct upt_port_crypto *c = ctx;
	size_t n = 0;
	uint32_t a = alg == UPT_HASH_SHA256   ? UPT_PORT_ALG_SHA_256
		     : alg == UPT_HASH_SHA512 ? UPT_PORT_ALG_SHA_512
					      : 0;
	if (!a)
		return UPT_ERR_UNSUPPORTED;
	return c->hash_compute(c->ctx, a, data, len, digest, UPT_SHA512_LEN, &n) == 0
		   ? UPT_OK
		   : UPT_ERR_CRYPTO;
}

static int core_verify(void *ctx, enum upt_sig_scheme scheme, const uint8_t *pub, size_t pub_len,
		       const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	const struct upt_port_crypto *c = ctx;
	if (scheme != UPT_SCHEME_ED25519)
		return UPT_ERR_UNSUPPORTED; /* such a key never counts */
	return c->verify_message(c->ctx, pub, pub_len, UPT_PORT_ALG_PURE_EDDSA, msg, msg_len, sig,
				 sig_len) == 0
		   ? UPT_OK
		   : UPT_ERR_BAD_SIGNATURE;
}

static int core_check_key(void *ctx, enum upt_key_type type, const uint8_t *pub, size_t pub_len)
{
	(void)ctx;
	(void)pub;
	if (type == UPT_KEY_ED25519 && pub_len != 32)
		return UPT_ERR_KEY;
	return UPT_OK; /* other types parse, and never verify here */
}

static void core_crypto(struct upt_crypto *out, const struct upt_port_crypto *c)
{
	memset(out, 0, sizeof *out);
	/* core's table takes a mutable context; the port's table is never
	 * written through it */
	memcpy(&out->ctx, &c, sizeof c);
	out->hash = core_hash;
	out->verify = core_verify;
	out->check_key = core_check_key;
}

/* ---- the Director, fed from the caller's bytes -------------------------- */

struct feed {
	struct upt_port *p;
	const struct upt_port_metadata *md;
	int64_t first_root; /* version of md->roots[0], once asked */
	const uint8_t *new_root;
	size_t new_root_len;
};

static int feed_fetch(void *ctx, const char *role, int64_t version, size_t max_len,
		      struct upt_arena *a, const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct feed *f = ctx;
	const struct upt_port_blob *b = NULL;
	(void)a;
	if (strcmp(role, "root") == 0 && version > 0) {
		if (!f->first_root)
			f->first_root = version;
		if (version >= f->first_root &&
		    (uint64_t)(version - f->first_root) < f->md->n_roots)
			b = &f->md->roots[version - f->first_root];
	} else if (strcmp(role, "targets") == 0 && version == 0 && f->md->targets.len) {
		b = &f->md->targets;
	}
	if (!b || !b->data)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "not handed over");
	if (b->len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "%zu bytes, at most %zu", b->len,
				     max_len);
	*data = b->data;
	*len = b->len;
	return UPT_OK;
}

static int feed_load(void *ctx, const char *role, size_t max_len, struct upt_arena *a,
		     const uint8_t **data, size_t *len, struct upt_error *err)
{
	struct feed *f = ctx;
	const struct upt_port_platform *pf = f->p->pf;
	uint8_t *buf;
	/* Only the root is kept; the targets version floor is the record's. */
	if (strcmp(role, "root") != 0)
		return upt_error_set(err, UPT_ERR_NOT_FOUND, "%s: not kept", role);
	if (f->p->rec.root_len > max_len)
		return upt_error_set(err, UPT_ERR_TOO_LARGE, "trusted root too large");
	buf = upt_arena_alloc(a, f->p->rec.root_len);
	if (!buf)
		return upt_error_set(err, UPT_ERR_NOMEM, "trusted root: arena too small");
	if (pf->slot_read(pf->ctx, f->p->slot, UPT_PORT_HEADER_SIZE, buf, f->p->rec.root_len) != 0)
		return upt_error_set(err, UPT_ERR_IO, "trusted root: reading slot %u failed",
				     f->p->slot);
	*data = buf;
	*len = f->p->rec.root_len;
	return UPT_OK;
}

static int feed_store(void *ctx, const char *role, const uint8_t *data, size_t len,
		      struct upt_error *err)
{
	struct feed *f = ctx;
	if (strcmp(role, "root") == 0) {
		if (len > UPT_PORT_ROOT_MAX)
			return upt_error_set(err, UPT_ERR_TOO_LARGE,
					     "director root: %zu bytes, the record holds %u", len,
					     UPT_PORT_ROOT_MAX);
		f->new_root = data; /* the caller's bytes, valid during the call */
		f->new_root_len = len;
	}
	return UPT_OK; /* targets: the port records only their version */
}

/* ---- entry points ------------------------------------------------------- */

static void note_attack(struct upt_port *p, const struct upt_error *err)
{
	size_t n = bounded_len(err->msg, sizeof err->msg - 1);
	memcpy(p->attack, err->msg, n);
	p->attack[n] = 0;
}

int upt_port_init(struct upt_port *p, const struct upt_port_platform *pf,
		  const struct upt_port_config *cfg, void *arena_mem, size_t cap,
		  struct upt_error *err)
{
	const struct upt_port_crypto *c = pf ? pf->crypto : NULL;
	if (!p || !pf || !cfg || !arena_mem || !c || !c->hash_compute || !c->hash_setup ||
	    !c->hash_update || !c->hash_finish || !c->verify_message || !pf->slot_read ||
	    !pf->slot_erase || !pf->slot_write || !pf->image_begin || !pf->image_write ||
	    !pf->image_activate || !pf->image_discard || !pf->now || !cfg->ecu_serial ||
	    !cfg->hardware_id || !cfg->image_max)
		return upt_error_set(err, UPT_ERR_ARG, "port: missing argument");
	memset(p, 0, sizeof *p);
	p->pf = pf;
	p->cfg = *cfg;
	upt_arena_init(&p->arena, arena_mem, cap);
	return record_load(p, err);
}

int upt_port_provision(struct upt_port *p, const uint8_t *root, size_t len,
		       const struct upt_port_verdict *factory, struct upt_error *err)
{
	struct upt_crypto crypto;
	struct upt_doc doc;
	struct upt_root parsed;
	struct upt_port_record r;
	int rc;
	if (!p || !p->pf || !root)
		return upt_error_set(err, UPT_ERR_ARG, "provision: missing argument");
	if (p->phase != UPT_PORT_UNPROVISIONED)
		return upt_error_set(err, UPT_ERR_STATE, "provision: the ECU already has a root");
	if (len > UPT_PORT_ROOT_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "provision: director root of %zu bytes, at most %u", len,
				     UPT_PORT_ROOT_MAX);
	core_crypto(&crypto, p->pf->crypto);
	upt_arena_rollback(&p->arena, 0);
	rc =
	    upt_doc_parse(&doc, &p->arena, root, len, UPT_PORT_ROOT_MAX, "director root.json", err);
	if (rc == UPT_OK)
		rc = upt_root_verify_self(&parsed, &p->arena, &doc, &crypto, err);
	upt_arena_rollback(&p->arena, 0);
	if (rc != UPT_OK)
		return rc;
	memset(&r, 0, sizeof r);
	r.installed_release_counter = -1;
	if (factory && factory->assigned) {
		r.has_installed = true;
		r.installed_length = factory->length;
		r.has_sha256 = factory->has_sha256;
		r.has_sha512 = factory->has_sha512;
		memcpy(r.installed_sha256, factory->sha256, 32);
		memcpy(r.installed_sha512, factory->sha512, 64);
		r.installed_release_counter = factory->release_counter;
		memcpy(r.installed_name, factory->name, sizeof r.installed_name);
		r.installed_name[UPT_PORT_NAME_MAX] = 0;
		if (!r.has_sha256 && !r.has_sha512)
			return upt_error_set(err, UPT_ERR_ARG,
					     "provision: factory image has no hash");
	}
	return record_commit(p, &r, root, len, err);
}

/* The ECU as core's partial verification sees it. */
static void ecu_of(struct upt_ecu *e, const struct upt_port *p)
{
	memset(e, 0, sizeof *e);
	e->serial = p->cfg.ecu_serial;
	e->hardware_id = p->cfg.hardware_id;
	e->has_installed = p->rec.has_installed;
	e->installed_length = (int64_t)p->rec.installed_length;
	e->installed_hashes.has_sha256 = p->rec.has_sha256;
	e->installed_hashes.has_sha512 = p->rec.has_sha512;
	memcpy(e->installed_hashes.sha256, p->rec.installed_sha256, 32);
	memcpy(e->installed_hashes.sha512, p->rec.installed_sha512, 64);
	e->has_installed_release_counter = p->rec.installed_release_counter >= 0;
	e->installed_release_counter = p->rec.installed_release_counter;
}

/* The assignment core verified, checked against what this ECU can hold. */
static int take_assignment(struct upt_port *p, const struct upt_update *u,
			   struct upt_port_verdict *v, struct upt_error *err)
{
	const struct upt_target *t = u->director;
	size_t nl;
	memset(v, 0, sizeof *v);
	v->release_counter = -1;
	if (!t)
		return UPT_OK;
	nl = strlen(t->name);
	if (nl > UPT_PORT_NAME_MAX)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "director targets.json: target name of %zu bytes", nl);
	if (t->length < 0 || (uint64_t)t->length > p->cfg.image_max)
		return upt_error_set(err, UPT_ERR_TOO_LARGE,
				     "director targets.json: target %s: %lld bytes do not fit the "
				     "%lld-byte image bank",
				     t->name, (long long)t->length, (long long)p->cfg.image_max);
	if (!t->hashes.has_sha256 && !t->hashes.has_sha512)
		return upt_error_set(err, UPT_ERR_FIELD_MISSING,
				     "director targets.json: target %s has no sha256 or sha512",
				     t->name);
	v->assigned = true;
	v->installed = u->installed;
	memcpy(v->name, t->name, nl + 1);
	v->length = (uint64_t)t->length;
	v->has_sha256 = t->hashes.has_sha256;
	v->has_sha512 = t->hashes.has_sha512;
	memcpy(v->sha256, t->hashes.sha256, 32);
	memcpy(v->sha512, t->hashes.sha512, 64);
	v->release_counter = u->release_counter;
	return UPT_OK;
}

static void discard_image(struct upt_port *p)
{
	if (p->phase == UPT_PORT_RECEIVING)
		(void)p->pf->image_discard(p->pf->ctx);
	if (p->phase != UPT_PORT_UNPROVISIONED)
		p->phase = UPT_PORT_IDLE;
	memset(&p->pending, 0, sizeof p->pending);
	p->received = 0;
}

int upt_port_verify_metadata(struct upt_port *p, const struct upt_port_metadata *md,
			     struct upt_port_verdict *out, struct upt_error *err)
{
	struct feed f;
	struct upt_repo_io io = {0};
	struct upt_repo_limits lim = {0};
	struct upt_crypto crypto;
	struct upt_repo dir;
	struct upt_ecu ecu;
	struct upt_update u;
	struct upt_port_record r;
	struct upt_port_verdict v;
	int rc, wrc = UPT_OK;
	if (!p || !p->pf || !md || !out || md->n_roots > UPT_PORT_MAX_ROOTS)
		return upt_error_set(err, UPT_ERR_ARG, "verify: missing argument");
	memset(out, 0, sizeof *out);
	out->release_counter = -1;
	if (p->phase == UPT_PORT_UNPROVISIONED)
		return upt_error_set(err, UPT_ERR_STATE, "verify: the ECU has no director root");
	discard_image(p);
	memset(&f, 0, sizeof f);
	f.p = p;
	f.md = md;
	io.ctx = &f;
	io.fetch = feed_fetch;
	io.load = feed_load;
	io.store = feed_store;
	lim.root_max = UPT_PORT_ROOT_MAX;
	lim.targets_max = UPT_PORT_TARGETS_MAX;
	lim.max_root_rotations = UPT_PORT_MAX_ROOTS;
	core_crypto(&crypto, p->pf->crypto);
	upt_arena_rollback(&p->arena, 0);
	upt_repo_init(&dir, "director", &io, &crypto, &p->arena, &lim);
	dir.use_snapshot = false;
	ecu_of(&ecu, p);
	rc = upt_uptane_partial_verify(&dir, &ecu, p->pf->now(p->pf->ctx), &u, err);
	/* Uptane 5.4.4.2 step 8 / TUF 5.6.1: never below the targets
	 * version accepted before (kept in the record, so that a rotation
	 * of the targets key cannot reset it). */
	if (rc == UPT_OK && dir.targets.c.version < p->rec.targets_version)
		rc = upt_error_set(err, UPT_ERR_ROLLBACK,
				   "director targets.json: version %lld is lower than the trusted "
				   "%lld",
				   (long long)dir.targets.c.version,
				   (long long)p->rec.targets_version);
	if (rc == UPT_OK)
		rc = take_assignment(p, &u, &v, err);
	r = p->rec;
	if (rc == UPT_OK)
		r.targets_version = dir.targets.c.version;
	if (f.new_root || r.targets_version != p->rec.targets_version) {
		/* the root the record holds: the newest verified, else the old
		 * one (read back into the arena) */
		const uint8_t *root = f.new_root;
		size_t root_len = f.new_root_len;
		struct upt_error e2;
		if (!root)
			wrc = feed_load(&f, "root", UPT_PORT_ROOT_MAX, &p->arena, &root, &root_len,
					&e2);
		if (wrc == UPT_OK)
			wrc = record_commit(p, &r, root, root_len, rc == UPT_OK ? err : &e2);
		if (rc == UPT_OK)
			rc = wrc;
	}
	upt_arena_rollback(&p->arena, 0);
	if (rc != UPT_OK) {
		note_attack(p, err);
		return rc;
	}
	*out = v;
	if (v.assigned && !v.installed) {
		p->pending = v;
		p->phase = UPT_PORT_VERIFIED;
	}
	return UPT_OK;
}

static int hash_start(const struct upt_port_crypto *c, struct upt_port_hash_op *op, bool want,
		      uint32_t alg)
{
	return want ? c->hash_setup(c->ctx, op, alg) : 0;
}

int upt_port_image_begin(struct upt_port *p, struct upt_error *err)
{
	const struct upt_port_crypto *c;
	if (!p || !p->pf)
		return upt_error_set(err, UPT_ERR_ARG, "image: missing argument");
	if (p->phase != UPT_PORT_VERIFIED)
		return upt_error_set(err, UPT_ERR_STATE, "image: no verified assignment");
	c = p->pf->crypto;
	if (hash_start(c, &p->h256, p->pending.has_sha256, UPT_PORT_ALG_SHA_256) != 0 ||
	    hash_start(c, &p->h512, p->pending.has_sha512, UPT_PORT_ALG_SHA_512) != 0)
		return upt_error_set(err, UPT_ERR_CRYPTO, "image %s: hashing failed",
				     p->pending.name);
	if (p->pf->image_begin(p->pf->ctx, p->pending.length) != 0)
		return upt_error_set(err, UPT_ERR_IO, "image %s: the bank cannot be prepared",
				     p->pending.name);
	p->received = 0;
	p->phase = UPT_PORT_RECEIVING;
	return UPT_OK;
}

/* Refuse: the staged image is discarded, the assignment dropped. */
static int refuse(struct upt_port *p, struct upt_error *err)
{
	note_attack(p, err);
	discard_image(p);
	return err ? err->code : UPT_ERR_STATE;
}

int upt_port_image_write(struct upt_port *p, const uint8_t *data, size_t len, struct upt_error *err)
{
	const struct upt_port_crypto *c;
	struct upt_error local;
	if (!err)
		err = &local;
	if (!p || !p->pf || (!data && len))
		return upt_error_set(err, UPT_ERR_ARG, "image: missing argument");
	if (p->phase != UPT_PORT_RECEIVING)
		return upt_error_set(err, UPT_ERR_STATE, "image: not receiving");
	c = p->pf->crypto;
	if (len > p->pending.length - p->received) {
		upt_error_set(err, UPT_ERR_TOO_LARGE,
			      "image %s: more than the %lld bytes the Director assigns "
			      "(endless data?)",
			      p->pending.name, (long long)p->pending.length);
		return refuse(p, err);
	}
	if ((p->pending.has_sha256 && c->hash_update(c->ctx, &p->h256, data, len) != 0) ||
	    (p->pending.has_sha512 && c->hash_update(c->ctx, &p->h512, data, len) != 0)) {
		upt_error_set(err, UPT_ERR_CRYPTO, "image %s: hashing failed", p->pending.name);
		return refuse(p, err);
	}
	if (len && p->pf->image_write(p->pf->ctx, p->received, data, len) != 0) {
		upt_error_set(err, UPT_ERR_IO, "image %s: writing at %lld failed", p->pending.name,
			      (long long)p->received);
		return refuse(p, err);
	}
	p->received += len;
	return UPT_OK;
}

static bool hash_matches(const struct upt_port_crypto *c, struct upt_port_hash_op *op,
			 const uint8_t *want, size_t n)
{
	uint8_t d[64];
	size_t got = 0;
	return c->hash_finish(c->ctx, op, d, sizeof d, &got) == 0 && got == n &&
	       upt_ct_equal(d, want, n);
}

int upt_port_image_finish(struct upt_port *p, struct upt_error *err)
{
	const struct upt_port_crypto *c;
	const struct upt_port_verdict *v;
	struct upt_port_record r;
	struct upt_error local;
	const uint8_t *root;
	size_t root_len;
	struct feed f;
	int rc;
	if (!err)
		err = &local;
	if (!p || !p->pf)
		return upt_error_set(err, UPT_ERR_ARG, "image: missing argument");
	if (p->phase != UPT_PORT_RECEIVING)
		return upt_error_set(err, UPT_ERR_STATE, "image: not receiving");
	c = p->pf->crypto;
	v = &p->pending;
	if (p->received != v->length) {
		upt_error_set(err, UPT_ERR_HASH_MISMATCH,
			      "image %s: %lld bytes, the Director says %lld", v->name,
			      (long long)p->received, (long long)v->length);
		return refuse(p, err);
	}
	if ((v->has_sha256 && !hash_matches(c, &p->h256, v->sha256, 32)) ||
	    (v->has_sha512 && !hash_matches(c, &p->h512, v->sha512, 64))) {
		upt_error_set(err, UPT_ERR_HASH_MISMATCH,
			      "image %s: hash differs from the Director's", v->name);
		return refuse(p, err);
	}
	if (p->pf->image_activate(p->pf->ctx) != 0) {
		upt_error_set(err, UPT_ERR_IO, "image %s: activation failed", v->name);
		return refuse(p, err);
	}
	r = p->rec;
	r.has_installed = true;
	r.installed_length = v->length;
	r.has_sha256 = v->has_sha256;
	r.has_sha512 = v->has_sha512;
	memcpy(r.installed_sha256, v->sha256, 32);
	memcpy(r.installed_sha512, v->sha512, 64);
	r.installed_release_counter = v->release_counter;
	memcpy(r.installed_name, v->name, sizeof r.installed_name);
	memset(&f, 0, sizeof f);
	f.p = p;
	upt_arena_rollback(&p->arena, 0);
	rc = feed_load(&f, "root", UPT_PORT_ROOT_MAX, &p->arena, &root, &root_len, err);
	if (rc == UPT_OK)
		rc = record_commit(p, &r, root, root_len, err);
	upt_arena_rollback(&p->arena, 0);
	p->phase = UPT_PORT_IDLE;
	memset(&p->pending, 0, sizeof p->pending);
	if (rc == UPT_OK)
		p->attack[0] = 0;
	return rc;
}

/* ---- the version report ------------------------------------------------- */

static struct upt_json *node(struct upt_arena *a, const char *key, enum upt_json_type type)
{
	struct upt_json *j = upt_arena_zalloc(a, sizeof *j);
	if (j) {
		j->type = type;
		j->key = key;
		j->key_len = key ? strlen(key) : 0;
	}
	return j;
}

static struct upt_json *jstr(struct upt_arena *a, const char *key, const char *s)
{
	struct upt_json *j = node(a, key, UPT_JSON_STRING);
	if (j) {
		j->str = s;
		j->len = strlen(s);
	}
	return j;
}

static struct upt_json *jint(struct upt_arena *a, const char *key, int64_t i)
{
	struct upt_json *j = node(a, key, UPT_JSON_INT);
	if (j)
		j->i = i;
	return j;
}

/* An object of `n` members, given in key order. */
static struct upt_json *jobj(struct upt_arena *a, const char *key, struct upt_json **items,
			     size_t n)
{
	struct upt_json *j = node(a, key, UPT_JSON_OBJECT);
	struct upt_json **copy = upt_arena_calloc(a, n, sizeof *copy);
	if (!j || !copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!items[i])
			return NULL;
		copy[i] = items[i];
	}
	j->items = copy;
	j->n = n;
	return j;
}

static char *hex_of(struct upt_arena *a, const uint8_t *b, size_t n)
{
	char *s = upt_arena_alloc(a, 2 * n + 1);
	if (s)
		upt_hex_encode(s, b, n);
	return s;
}

static int report_sign(void *ctx, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t cap,
		       size_t *sig_len)
{
	const struct upt_port_crypto *c = ctx;
	return c->sign_message(c->ctx, UPT_PORT_ALG_PURE_EDDSA, msg, msg_len, sig, cap, sig_len) ==
		       0
		   ? UPT_OK
		   : UPT_ERR_CRYPTO;
}

/* The TUF key id of the ECU key: SHA-256 of its canonical key object. */
static int ecu_keyid(struct upt_port *p, char out[65], struct upt_error *err)
{
	const struct upt_port_crypto *c = p->pf->crypto;
	static const char pre[] = "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"";
	static const char post[] = "\"},\"scheme\":\"ed25519\"}";
	uint8_t pub[32], d[32];
	char obj[sizeof pre - 1 + 64 + sizeof post];
	size_t n = 0;
	if (!c->export_public_key || c->export_public_key(c->ctx, pub, sizeof pub, &n) != 0 ||
	    n != 32)
		return upt_error_set(err, UPT_ERR_CRYPTO, "version report: no ECU key");
	memcpy(obj, pre, sizeof pre - 1);
	upt_hex_encode(obj + sizeof pre - 1, pub, 32);
	memcpy(obj + sizeof pre - 1 + 64, post, sizeof post);
	if (c->hash_compute(c->ctx, UPT_PORT_ALG_SHA_256, (const uint8_t *)obj, sizeof obj - 1, d,
			    sizeof d, &n) != 0)
		return upt_error_set(err, UPT_ERR_CRYPTO, "version report: hashing failed");
	upt_hex_encode(out, d, 32);
	return UPT_OK;
}

static struct upt_json *report_json(struct upt_port *p, struct upt_arena *a)
{
	const struct upt_port_record *r = &p->rec;
	struct upt_json *h[2], *fi[2], *img[2], *top[4];
	size_t nh = 0;
	if (r->has_sha256)
		h[nh++] = jstr(a, "sha256", hex_of(a, r->installed_sha256, 32));
	if (r->has_sha512)
		h[nh++] = jstr(a, "sha512", hex_of(a, r->installed_sha512, 64));
	fi[0] = jobj(a, "hashes", h, nh);
	fi[1] = jint(a, "length", (int64_t)r->installed_length);
	img[0] = jobj(a, "fileinfo", fi, 2);
	img[1] = jstr(a, "filepath", r->installed_name);
	top[0] = jstr(a, "attacks_detected", p->attack);
	top[1] = jstr(a, "ecu_serial", p->cfg.ecu_serial);
	top[2] = jobj(a, "installed_image", img, 2);
	top[3] = jint(a, "report_counter", (int64_t)r->report_counter);
	return jobj(a, NULL, top, 4);
}

int upt_port_version_report(struct upt_port *p, uint8_t *out, size_t cap, size_t *out_len,
			    struct upt_error *err)
{
	const struct upt_port_crypto *c;
	struct upt_port_record r;
	struct upt_signer signer;
	struct upt_json *signed_json;
	char keyid[65];
	const uint8_t *root;
	size_t root_len;
	struct feed f;
	int rc;
	if (!p || !p->pf || !out || !out_len)
		return upt_error_set(err, UPT_ERR_ARG, "version report: missing argument");
	c = p->pf->crypto;
	if (p->phase == UPT_PORT_UNPROVISIONED || !p->rec.has_installed)
		return upt_error_set(err, UPT_ERR_STATE, "version report: nothing installed");
	if (!c->sign_message)
		return upt_error_set(err, UPT_ERR_UNSUPPORTED, "version report: no signing");
	rc = ecu_keyid(p, keyid, err);
	if (rc != UPT_OK)
		return rc;
	/* The counter is recorded before the report leaves. */
	r = p->rec;
	r.report_counter++;
	memset(&f, 0, sizeof f);
	f.p = p;
	upt_arena_rollback(&p->arena, 0);
	rc = feed_load(&f, "root", UPT_PORT_ROOT_MAX, &p->arena, &root, &root_len, err);
	if (rc == UPT_OK)
		rc = record_commit(p, &r, root, root_len, err);
	upt_arena_rollback(&p->arena, 0);
	if (rc != UPT_OK)
		return rc;
	signed_json = report_json(p, &p->arena);
	if (!signed_json) {
		upt_arena_rollback(&p->arena, 0);
		return upt_error_set(err, UPT_ERR_NOMEM, "version report: arena too small");
	}
	signer.keyid = keyid;
	signer.scheme = UPT_SCHEME_ED25519;
	memcpy(&signer.ctx, &c, sizeof c);
	signer.sign = report_sign;
	rc = upt_doc_sign(out, cap, out_len, signed_json, &signer, 1, UPT_DIALECT_AKTUALIZR,
			  &p->arena, err);
	upt_arena_rollback(&p->arena, 0);
	return rc;
}
