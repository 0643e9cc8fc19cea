/* Writes repositories made by the test generator (tests/support/repogen)
 * to disk, one directory per scenario, for tests that serve them over
 * HTTP (uptake-agent check). Every scenario is a Director and an Image
 * repository with real keys and signatures, assigning one image (fw-1.0,
 * hardware board-a) to ECU ecu-1, and expiring 30 days from now, but for
 * what the scenario breaks:
 *
 *   good            nothing
 *   expired         the Director's targets expired yesterday
 *   bad-signature   a byte of the Director timestamp's signature changed
 *   threshold       the Image repository's targets need 2 of 2 keys; 1 signed
 *   rollback/new    the Director at version 2 ...
 *   rollback/old    ... and the same Director at version 1 (same keys)
 *   wrong-hardware  the Director assigns the image to board-x hardware
 *   oversized       the image served is longer than the signed length
 *   tampered        the image served has a byte changed
 *   mismatched      the Director's image differs from the Image repository's
 *   rotated         the Director's root rotated to version 2 (a new root key,
 *                   signed by the old and the new); rotated/foreign-2.root.json
 *                   is a version-2 Director root of another repository
 *
 * Layout: OUT/SCENARIO/{director,image}/<metadata>, image/targets/fw-1.0,
 * director-root.json and image-root.json (the roots a device starts from).
 *
 *   repo_scenarios OUT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "repogen.h"

#define IMAGE_LEN 4096

static uint8_t image[IMAGE_LEN];
static const char *out_dir;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "repo_scenarios: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void mkdirs(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			die("mkdir", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		die("mkdir", buf);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("write", path);
}

static void write_repo(const char *scenario, const char *which, const struct rg_repo *r)
{
	char dir[2048], path[4096];
	snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, scenario, which);
	mkdirs(dir);
	for (size_t i = 0; i < r->served.n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, r->served.f[i].path);
		write_file(path, r->served.f[i].data, r->served.f[i].len);
	}
	snprintf(path, sizeof path, "%s/%s/%s-root.json", out_dir, scenario, which);
	write_file(path, rg_files_get(&r->served, "1.root.json")->data,
		   rg_files_get(&r->served, "1.root.json")->len);
}

static void write_image(const char *scenario, const uint8_t *data, size_t len)
{
	char dir[2048], path[4096];
	snprintf(dir, sizeof dir, "%s/%s/image/targets", out_dir, scenario);
	mkdirs(dir);
	snprintf(path, sizeof path, "%s/fw-1.0", dir);
	write_file(path, data, len);
}

struct world {
	struct rg_repo d, i;
};

/* The good world, not published yet. */
static void world_init(struct world *w, int64_t now)
{
	struct rg_target *t;
	rg_repo_init(&w->i, "image", now + 30 * RG_DAY);
	rg_add_target(&w->i, "fw-1.0", image, sizeof image, "board-a", 1);
	rg_repo_init(&w->d, "director", now + 30 * RG_DAY);
	t = rg_add_target(&w->d, "fw-1.0", image, sizeof image, NULL, 1);
	snprintf(t->ecu, sizeof t->ecu, "ecu-1");
	snprintf(t->ecu_hwid, sizeof t->ecu_hwid, "board-a");
}

static void world_write(struct world *w, const char *scenario, const uint8_t *served_image,
			size_t len)
{
	write_repo(scenario, "director", &w->d);
	write_repo(scenario, "image", &w->i);
	write_image(scenario, served_image, len);
	rg_repo_free(&w->d);
	rg_repo_free(&w->i);
}

/* Change one character of the first signature value in `path`. */
static void break_signature(struct rg_repo *r, const char *path)
{
	const struct rg_file *f = rg_files_get(&r->served, path);
	uint8_t *copy = malloc(f->len);
	char *sig;
	memcpy(copy, f->data, f->len);
	sig = memmem(copy, f->len, "\"sig\":\"", 7);
	if (!sig)
		die("no signature in", path);
	sig[7] = sig[7] == '0' ? '1' : '0';
	rg_files_set(&r->served, path, copy, f->len);
	free(copy);
}

/* Root version 2 with a new root key, signed by the old key and the new. */
static void rotate_root(struct rg_repo *r)
{
	struct rg_role *root = &r->roles[UPT_ROLE_ROOT - 1];
	struct rg_key *old = root->keys[0];
	root->keys[0] = rg_repo_new_key(r);
	root->signers[0] = old;
	root->signers[1] = root->keys[0];
	root->n_signers = 2;
	root->version++;
	rg_publish_root(r);
}

int main(int argc, char **argv)
{
	int64_t now = (int64_t)time(NULL);
	uint8_t bigger[IMAGE_LEN + 100], changed[IMAGE_LEN];
	struct world w;
	if (argc != 2) {
		fprintf(stderr, "usage: repo_scenarios OUT\n");
		return 2;
	}
	out_dir = argv[1];
	for (size_t k = 0; k < sizeof image; k++)
		image[k] = (uint8_t)(k * 131 + 7);

	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "good", image, sizeof image);

	world_init(&w, now);
	w.d.roles[UPT_ROLE_TARGETS - 1].expires = now - RG_DAY;
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "expired", image, sizeof image);

	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	break_signature(&w.d, "timestamp.json");
	world_write(&w, "bad-signature", image, sizeof image);

	world_init(&w, now);
	{
		struct rg_role *t = &w.i.roles[UPT_ROLE_TARGETS - 1];
		t->keys[1] = rg_repo_new_key(&w.i);
		t->n_keys = 2;
		t->threshold = 2;
		t->signers[0] = t->keys[0];
		t->n_signers = 1;
	}
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "threshold", image, sizeof image);

	/* rollback: the same repositories at version 2, then at version 1 */
	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	write_repo("rollback/old", "director", &w.d);
	rg_republish(&w.d);
	write_repo("rollback/new", "director", &w.d);
	write_repo("rollback/old", "image", &w.i);
	write_repo("rollback/new", "image", &w.i);
	write_image("rollback/old", image, sizeof image);
	world_write(&w, "rollback/new", image, sizeof image);

	world_init(&w, now);
	snprintf(w.d.targets[0].ecu_hwid, sizeof w.d.targets[0].ecu_hwid, "board-x");
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "wrong-hardware", image, sizeof image);

	memcpy(bigger, image, sizeof image);
	memset(bigger + sizeof image, 'x', sizeof bigger - sizeof image);
	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "oversized", bigger, sizeof bigger);

	memcpy(changed, image, sizeof image);
	changed[1000] ^= 1;
	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "tampered", changed, sizeof changed);

	world_init(&w, now);
	free(w.d.targets[0].data);
	w.d.targets[0].data = malloc(sizeof changed);
	memcpy(w.d.targets[0].data, changed, sizeof changed);
	w.d.targets[0].len = sizeof changed;
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	world_write(&w, "mismatched", image, sizeof image);

	world_init(&w, now);
	rg_publish_all(&w.i);
	rg_publish_all(&w.d);
	write_repo("rotated", "director", &w.d); /* director-root.json: version 1 */
	rotate_root(&w.d);
	world_write(&w, "rotated", image, sizeof image);
	world_init(&w, now);
	rg_publish_all(&w.d);
	rotate_root(&w.d);
	{
		char path[4096];
		const struct rg_file *f = rg_files_get(&w.d.served, "2.root.json");
		snprintf(path, sizeof path, "%s/rotated/foreign-2.root.json", out_dir);
		write_file(path, f->data, f->len);
	}
	rg_repo_free(&w.d);
	rg_repo_free(&w.i);
	return 0;
}
