/* Tests of the TUF client workflow (src/core/client.c) on aktualizr's
 * metadata variants: keys without a scheme, a root of root and targets
 * only, hashes over the canonical form of pretty-printed files, and a
 * timestamp of the same version with other content. Each variant is read
 * in the aktualizr dialect and refused in the TUF dialect. */
#include <uptake/alloc.h>
#include <uptake/client.h>
#include <uptake/json.h>

#include "harness.h"
#include "repogen.h"

static unsigned char mem[8u << 20];
static const uint8_t FW[] = "firmware for board-a";
static const uint8_t APP[] = "an app for board-a";

struct world {
	struct rg_repo repo;
	struct rg_client c;
	struct upt_repo r;
	struct upt_arena a;
	struct upt_error err;
};

static void world_init(struct world *w, enum upt_dialect d)
{
	memset(w, 0, sizeof *w);
	rg_repo_init_seeded(&w->repo, "repo", RG_EXPIRES, d, 7);
	w->repo.snapshot_hashes = true;
	rg_add_target(&w->repo, "fw-1.0", FW, sizeof FW, "board-a", 1);
	rg_deleg_add_target(rg_add_delegation(&w->repo, -1, "apps", "apps/*", false), "apps/a", APP,
			    sizeof APP, "board-a");
	rg_repo_reseed(&w->repo, 7);
}

static void publish(struct world *w)
{
	const struct rg_file *root;
	rg_publish_all(&w->repo);
	root = rg_files_get(&w->repo.served, "1.root.json");
	w->c.served = &w->repo.served;
	rg_files_free(&w->c.store);
	rg_files_set(&w->c.store, "root", root->data, root->len);
}

static int refresh(struct world *w)
{
	struct upt_repo_io io;
	rg_client_io(&io, &w->c);
	upt_arena_init(&w->a, mem, sizeof mem);
	upt_repo_init(&w->r, "repo", &io, upt_openssl_crypto(), &w->a, NULL);
	w->r.use_snapshot = !w->repo.no_snapshot;
	upt_error_clear(&w->err);
	return upt_repo_refresh(&w->r, RG_NOW, &w->err);
}

/* Where `needle` is in a served file (not NUL-terminated), or NULL. */
static const uint8_t *find_in(const struct rg_file *f, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; f && i + n <= f->len; i++)
		if (memcmp(f->data + i, needle, n) == 0)
			return f->data + i;
	return NULL;
}

static void world_free(struct world *w)
{
	rg_repo_free(&w->repo);
	rg_files_free(&w->c.store);
}

/* Give key k another spelling (its key id follows, as TUF computes it). */
static void respell(struct rg_key *k, const char *from, const char *to)
{
	static unsigned char am[1 << 16];
	struct upt_arena a;
	struct upt_json *v;
	char *json, *at = strstr(k->pub_json, from);
	size_t n = strlen(k->pub_json), fl = strlen(from), tl = strlen(to);
	if (!at || !(json = upt_malloc(n - fl + tl + 1)))
		abort();
	memcpy(json, k->pub_json, (size_t)(at - k->pub_json));
	memcpy(json + (at - k->pub_json), to, tl);
	memcpy(json + (at - k->pub_json) + tl, at + fl, n - (size_t)(at - k->pub_json) - fl + 1);
	upt_free(k->pub_json);
	k->pub_json = json;
	upt_arena_init(&a, am, sizeof am);
	if (upt_json_parse(&v, &a, (const uint8_t *)json, strlen(json), NULL, NULL) != UPT_OK ||
	    upt_key_compute_keyid(k->id, v, &a, upt_openssl_crypto(), NULL) != UPT_OK)
		abort();
}

static void test_key_without_scheme(void)
{
	struct world w;
	const struct upt_target *t;
	/* aktualizr's test vectors: {"keytype":"ed25519","keyval":{...}} */
	world_init(&w, UPT_DIALECT_AKTUALIZR);
	for (int i = 0; i < w.repo.n_own_keys; i++)
		respell(&w.repo.own_keys[i], "\"ED25519\"", "\"ed25519\"");
	publish(&w);
	CHECK(find_in(rg_files_get(&w.repo.served, "root.json"),
		      "\"keytype\":\"ed25519\",\"keyval\"") != NULL);
	CHECK_EQ_INT(refresh(&w), UPT_OK);
	CHECK_EQ_INT(upt_repo_find_target(&w.r, "apps/a", &t, &w.err), UPT_OK);
	world_free(&w);
	/* the same key object in TUF metadata: the scheme is required */
	world_init(&w, UPT_DIALECT_TUF);
	respell(&w.repo.own_keys[1], ",\"scheme\":\"ed25519\"", "");
	publish(&w);
	CHECK_EQ_INT(refresh(&w), UPT_ERR_KEY);
	CHECK(strstr(w.err.msg, "scheme") != NULL);
	world_free(&w);
	/* a delegation's key the same way */
	world_init(&w, UPT_DIALECT_TUF);
	respell(&w.repo.own_keys[4], ",\"scheme\":\"ed25519\"", "");
	publish(&w);
	CHECK_EQ_INT(refresh(&w), UPT_ERR_KEY);
	world_free(&w);
}

static void test_two_role_root(void)
{
	struct world w;
	/* aktualizr's Director: root and targets only, no snapshot */
	world_init(&w, UPT_DIALECT_AKTUALIZR);
	w.repo.no_snapshot = true;
	w.repo.root_two_roles = true;
	publish(&w);
	CHECK(find_in(rg_files_get(&w.repo.served, "root.json"), "\"snapshot\"") == NULL);
	CHECK_EQ_INT(refresh(&w), UPT_OK);
	CHECK(w.r.has_targets && w.r.targets.n_targets == 1);
	CHECK_EQ_INT(w.r.root.roles[UPT_ROLE_TIMESTAMP - 1].threshold, 0);
	/* such a root cannot vouch for a timestamp */
	w.repo.no_snapshot = false;
	rg_publish_all(&w.repo);
	CHECK_EQ_INT(refresh(&w), UPT_ERR_STATE);
	CHECK(strstr(w.err.msg, "defines no timestamp role") != NULL);
	world_free(&w);
	/* the same root in the TUF dialect */
	world_init(&w, UPT_DIALECT_TUF);
	w.repo.no_snapshot = true;
	w.repo.root_two_roles = true;
	publish(&w);
	CHECK_EQ_INT(refresh(&w), UPT_ERR_FIELD_MISSING);
	CHECK(strstr(w.err.msg, "roles.snapshot") != NULL);
	world_free(&w);
}

/* A root with snapshot but no timestamp is refused in both dialects. */
static void test_three_role_root(void)
{
	static const char *const roots[2] = {
	    "{\"signatures\":[],\"signed\":{\"_type\":\"Root\",\"expires\":\"2031-01-01T00:00:"
	    "00Z\","
	    "\"version\":1,\"keys\":{},\"roles\":{\"root\":{\"keyids\":[],\"threshold\":1},"
	    "\"targets\":{\"keyids\":[],\"threshold\":1},\"snapshot\":{\"keyids\":[],"
	    "\"threshold\":1}}}}",
	    "{\"signatures\":[],\"signed\":{\"_type\":\"Root\",\"expires\":\"2031-01-01T00:00:"
	    "00Z\","
	    "\"version\":1,\"keys\":{},\"roles\":{\"root\":{\"keyids\":[],\"threshold\":1},"
	    "\"targets\":{\"keyids\":[],\"threshold\":1}}}}",
	};
	for (int i = 0; i < 2; i++) {
		struct upt_arena a;
		struct upt_doc doc;
		struct upt_root root;
		struct upt_error err;
		upt_arena_init(&a, mem, sizeof mem);
		CHECK_EQ_INT(upt_doc_parse(&doc, &a, (const uint8_t *)roots[i], strlen(roots[i]), 0,
					   "root.json", &err),
			     UPT_OK);
		CHECK_EQ_INT(doc.dialect, UPT_DIALECT_AKTUALIZR);
		CHECK_EQ_INT(upt_root_parse(&root, &a, &doc, upt_openssl_crypto(), &err),
			     i == 0 ? UPT_ERR_FIELD_MISSING : UPT_OK);
		if (i == 0)
			CHECK(strstr(err.msg, "roles.timestamp") != NULL);
	}
}

static void test_canonical_hashes(void)
{
	struct world w;
	const struct upt_target *t;
	const struct rg_file *f;
	/* a server built for aktualizr: pretty-printed files, hashes over
	 * their canonical form, lengths over the bytes served */
	world_init(&w, UPT_DIALECT_AKTUALIZR);
	w.repo.pretty = true;
	publish(&w);
	f = rg_files_get(&w.repo.served, "snapshot.json");
	CHECK(f && memchr(f->data, '\n', f->len) != NULL);
	CHECK_EQ_INT(refresh(&w), UPT_OK);
	CHECK_EQ_INT(upt_repo_find_target(&w.r, "apps/a", &t, &w.err), UPT_OK);
	/* other content is still refused: one more space inside a string */
	{
		const struct rg_file *s = rg_files_get(&w.repo.served, "targets.json");
		uint8_t *copy = malloc(s->len + 1);
		const uint8_t *at = find_in(s, "board-a");
		size_t off = (size_t)(at - s->data);
		memcpy(copy, s->data, off);
		copy[off] = ' ';
		memcpy(copy + off + 1, s->data + off + 1, s->len - off - 1);
		rg_files_set(&w.repo.served, "targets.json", copy, s->len);
		free(copy);
		rg_files_free(&w.c.store);
		rg_files_set(&w.c.store, "root", rg_files_get(&w.repo.served, "1.root.json")->data,
			     rg_files_get(&w.repo.served, "1.root.json")->len);
		CHECK_EQ_INT(refresh(&w), UPT_ERR_HASH_MISMATCH);
	}
	/* the length still bounds the bytes served */
	rg_publish_all(&w.repo);
	{
		const struct rg_file *s = rg_files_get(&w.repo.served, "snapshot.json");
		uint8_t *longer = malloc(s->len + 1);
		memcpy(longer, s->data, s->len);
		longer[s->len] = ' ';
		rg_files_set(&w.repo.served, "snapshot.json", longer, s->len + 1);
		free(longer);
		rg_files_free(&w.c.store);
		rg_files_set(&w.c.store, "root", rg_files_get(&w.repo.served, "1.root.json")->data,
			     rg_files_get(&w.repo.served, "1.root.json")->len);
		CHECK(refresh(&w) != UPT_OK);
	}
	world_free(&w);
	/* the TUF dialect stays byte-exact */
	world_init(&w, UPT_DIALECT_TUF);
	w.repo.pretty = true;
	publish(&w);
	CHECK_EQ_INT(refresh(&w), UPT_ERR_HASH_MISMATCH);
	CHECK(strstr(w.err.msg, "snapshot.json against the timestamp") != NULL);
	world_free(&w);
}

static void test_same_version_timestamp(void)
{
	for (int d = 0; d < 2; d++) {
		struct world w;
		const struct rg_file *stored;
		uint8_t *before;
		size_t before_len;
		int64_t expires;
		world_init(&w, d ? UPT_DIALECT_AKTUALIZR : UPT_DIALECT_TUF);
		publish(&w);
		CHECK_EQ_INT(refresh(&w), UPT_OK);
		stored = rg_files_get(&w.c.store, "timestamp");
		before_len = stored->len;
		before = malloc(before_len);
		memcpy(before, stored->data, before_len);
		expires = w.r.timestamp.c.expires;
		/* version 1 again, signed, other content (a later expiry) */
		w.repo.roles[UPT_ROLE_TIMESTAMP - 1].expires += RG_DAY;
		rg_publish_timestamp(&w.repo);
		CHECK(rg_files_get(&w.repo.served, "timestamp.json")->len != before_len ||
		      memcmp(rg_files_get(&w.repo.served, "timestamp.json")->data, before,
			     before_len) != 0);
		/* nothing new: the trusted one stays */
		CHECK_EQ_INT(refresh(&w), UPT_OK);
		stored = rg_files_get(&w.c.store, "timestamp");
		CHECK(stored->len == before_len && memcmp(stored->data, before, before_len) == 0);
		CHECK_EQ_INT(w.r.timestamp.c.expires, expires);
		free(before);
		world_free(&w);
	}
}

int main(void)
{
	RUN(test_key_without_scheme);
	RUN(test_two_role_root);
	RUN(test_three_role_root);
	RUN(test_canonical_hashes);
	RUN(test_same_version_timestamp);
	TEST_MAIN_END();
}
