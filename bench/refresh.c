/* bench/refresh: Uptane full verification of a Director and an Image
 * repository, from a device that holds only the two roots: the Image
 * repository has 10,000 targets across 20 delegated roles, the device 10
 * ECUs, each assigned an image by the Director. Fetches are served from
 * memory, so the figure is libuptake's own cost: JSON parsing, canonical
 * JSON, hashing, signature checks, delegation search.
 *
 * The baseline is the raw Ed25519 verification of one signature by the
 * same OpenSSL in the same run; the result is printed as "one refresh
 * costs as much as N raw signature verifications" next to the number of
 * signatures a refresh must verify anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uptake/uptane.h>

#include "repogen.h"

#define N_ROLES     20
#define N_TARGETS   10000
#define N_ECUS      10
#define ARENA_SIZE  ((size_t)256 << 20)
#define MIN_SECONDS 2.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double raw_verify_seconds(void)
{
	struct rg_key k;
	uint8_t msg[512], sig[UPT_SIG_MAX];
	size_t sig_len;
	struct upt_error err;
	struct upt_key pub = {0};
	const struct upt_crypto *c = upt_openssl_crypto();
	unsigned char mem[8192];
	struct upt_arena a;
	struct upt_json *v;
	long n = 0;
	double t0, t;
	rg_key_new(&k, UPT_KEY_ED25519, UPT_DIALECT_TUF);
	memset(msg, 'm', sizeof msg);
	upt_arena_init(&a, mem, sizeof mem);
	if (upt_privkey_sign(k.priv, msg, sizeof msg, sig, sizeof sig, &sig_len) != UPT_OK ||
	    upt_json_parse(&v, &a, (const uint8_t *)k.pub_json, strlen(k.pub_json), NULL, &err) !=
		UPT_OK ||
	    upt_key_parse(&pub, &a, k.id, v, c, &err) != UPT_OK)
		exit(1);
	t0 = now_s();
	do {
		for (int i = 0; i < 100; i++)
			if (c->verify(c->ctx, pub.scheme, pub.pub, pub.pub_len, msg, sizeof msg,
				      sig, sig_len) != UPT_OK)
				exit(1);
		n += 100;
		t = now_s() - t0;
	} while (t < MIN_SECONDS);
	rg_key_free(&k);
	return t / (double)n;
}

int main(void)
{
	static struct rg_repo img, dir;
	struct rg_client ic = {0}, dc = {0};
	struct upt_ecu ecus[N_ECUS];
	char serials[N_ECUS][32], hwids[N_ECUS][32];
	struct upt_device dev = {ecus, N_ECUS};
	unsigned char *imem = malloc(ARENA_SIZE), *dmem = malloc(ARENA_SIZE);
	size_t bytes = 0;
	double per_sig, t0, t;
	long runs = 0;
	if (!imem || !dmem)
		return 1;
	rg_repo_init(&img, "image", RG_EXPIRES);
	img.snapshot_hashes = true;
	for (int r = 0; r < N_ROLES; r++) {
		char name[32], path[48];
		struct rg_deleg *d;
		snprintf(name, sizeof name, "board-%02d", r);
		snprintf(path, sizeof path, "board-%02d/*", r);
		d = rg_add_delegation(&img, -1, name, strdup(path), false);
		for (int i = 0; i < N_TARGETS / N_ROLES; i++) {
			char tname[64], data[64];
			snprintf(tname, sizeof tname, "board-%02d/image-%04d.bin", r, i);
			snprintf(data, sizeof data, "image %d of board %d", i, r);
			rg_deleg_add_target(d, tname, (const uint8_t *)data, strlen(data), name);
		}
	}
	rg_publish_all(&img);

	rg_repo_init(&dir, "director", RG_EXPIRES);
	for (int e = 0; e < N_ECUS; e++) {
		/* ECU e runs board-(2e): its image is the last one of that role */
		char tname[64], data[64];
		int r = 2 * e, i = N_TARGETS / N_ROLES - 1;
		struct rg_target *dt;
		snprintf(serials[e], sizeof serials[e], "ecu-%02d", e);
		snprintf(hwids[e], sizeof hwids[e], "board-%02d", r);
		snprintf(tname, sizeof tname, "board-%02d/image-%04d.bin", r, i);
		snprintf(data, sizeof data, "image %d of board %d", i, r);
		dt = rg_add_target(&dir, tname, (const uint8_t *)data, strlen(data), NULL, -1);
		snprintf(dt->ecu, sizeof dt->ecu, "%s", serials[e]);
		snprintf(dt->ecu_hwid, sizeof dt->ecu_hwid, "%s", hwids[e]);
		memset(&ecus[e], 0, sizeof ecus[e]);
		ecus[e].serial = serials[e];
		ecus[e].hardware_id = hwids[e];
	}
	rg_publish_all(&dir);
	for (size_t i = 0; i < img.served.n; i++)
		if (strncmp(img.served.f[i].path, "1.", 2) == 0)
			bytes += img.served.f[i].len;
	ic.served = &img.served;
	dc.served = &dir.served;

	per_sig = raw_verify_seconds();
	t0 = now_s();
	do {
		struct upt_repo dr, ir;
		struct upt_repo_io dio, iio;
		struct upt_arena da, ia;
		struct upt_verified out;
		struct upt_error err;
		rg_files_free(&ic.store);
		rg_files_free(&dc.store);
		rg_files_set(&ic.store, "root", rg_files_get(&img.served, "1.root.json")->data,
			     rg_files_get(&img.served, "1.root.json")->len);
		rg_files_set(&dc.store, "root", rg_files_get(&dir.served, "1.root.json")->data,
			     rg_files_get(&dir.served, "1.root.json")->len);
		rg_client_io(&dio, &dc);
		rg_client_io(&iio, &ic);
		upt_arena_init(&da, dmem, ARENA_SIZE);
		upt_arena_init(&ia, imem, ARENA_SIZE);
		upt_repo_init(&dr, "director", &dio, upt_openssl_crypto(), &da, NULL);
		upt_repo_init(&ir, "image repository", &iio, upt_openssl_crypto(), &ia, NULL);
		if (upt_uptane_full_verify(&dr, &ir, &dev, RG_NOW, &out, &err) != UPT_OK ||
		    out.n_updates != N_ECUS || !out.image_repo_checked) {
			fprintf(stderr, "bench_refresh: verification failed: %s\n", err.msg);
			return 1;
		}
		runs++;
		t = now_s() - t0;
	} while (t < MIN_SECONDS);
	t /= (double)runs;

	printf("full verification: Director + Image repository, %d targets in %d delegated "
	       "roles, %d ECUs, %.1f MiB of metadata\n",
	       N_TARGETS, N_ROLES, N_ECUS, (double)bytes / (1 << 20));
	printf("  one refresh (from the roots only):  %8.2f ms  (%ld runs)\n", t * 1e3, runs);
	printf("  raw Ed25519 verify (baseline):      %8.3f ms\n", per_sig * 1e3);
	/* 4 roles per repository, and the delegated role of each ECU's image */
	printf("  ratio: one refresh = %.0f raw verifies; it verifies %d signatures\n", t / per_sig,
	       8 + N_ECUS);
	rg_repo_free(&img);
	rg_repo_free(&dir);
	rg_files_free(&ic.store);
	rg_files_free(&dc.store);
	free(imem);
	free(dmem);
	return 0;
}
