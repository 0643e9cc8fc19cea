/* Fuzz target: Uptane full verification (a primary) over hostile metadata
 * of both repositories: files replaced by the input, or signed with the
 * repositories' real keys (uptane_world.h). Whatever the bytes, the result
 * is an error with nothing handed out, or updates that pass every Uptane
 * check: the ECU is the device's with its hardware id, the Image
 * repository lists the same image (length and hashes), and the release
 * counter does not go down. The stored roots always verify. */
#include "uptane_world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char uw_imem[UW_ARENA];

static void check_update(const struct upt_update *u, const struct upt_device *dev)
{
	const struct upt_ecu *e;
	if (u->ecu >= dev->n_ecus || !u->director || !u->image)
		abort();
	e = &dev->ecus[u->ecu];
	if (!uw_names_ecu(u->director, e) || u->director->length != u->image->length)
		abort();
	if (u->director->hashes.has_sha256 && u->image->hashes.has_sha256 &&
	    memcmp(u->director->hashes.sha256, u->image->hashes.sha256, UPT_SHA256_LEN) != 0)
		abort();
	if (u->director->hashes.has_sha512 && u->image->hashes.has_sha512 &&
	    memcmp(u->director->hashes.sha512, u->image->hashes.sha512, UPT_SHA512_LEN) != 0)
		abort();
	if (e->has_installed_release_counter && u->release_counter >= 0 &&
	    u->release_counter < e->installed_release_counter)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_client dc, ic;
	struct upt_repo_io dio, iio;
	struct upt_arena da, ia;
	struct upt_repo dr, ir;
	struct upt_ecu ecus[2];
	struct upt_device dev;
	struct upt_verified out;
	struct upt_error err;
	struct uw_world *w;
	int rc;
	uw_init();
	if (!(w = uw_apply(data, size)))
		return 0;
	uw_device(ecus, &dev);
	uw_provision(&dc, &w->d.served, &w->d_clean);
	uw_provision(&ic, &w->i.served, &w->i_clean);
	rg_client_io(&dio, &dc);
	rg_client_io(&iio, &ic);
	upt_arena_init(&da, uw_dmem, sizeof uw_dmem);
	upt_arena_init(&ia, uw_imem, sizeof uw_imem);
	upt_repo_init(&dr, "director", &dio, upt_openssl_crypto(), &da, NULL);
	upt_repo_init(&ir, "image repository", &iio, upt_openssl_crypto(), &ia, NULL);
	dr.use_snapshot = !w->d.no_snapshot;
	memset(&out, 0xa5, sizeof out);
	rc = upt_uptane_full_verify(&dr, &ir, &dev, RG_NOW, &out, &err);
	if (rc > 0 || (rc != UPT_OK && (err.msg[0] == 0 || out.n_updates != 0)))
		abort();
	for (size_t k = 0; rc == UPT_OK && k < out.n_updates; k++)
		check_update(&out.updates[k], &dev);
	uw_check_store(&dc.store);
	uw_check_store(&ic.store);
	rg_files_free(&dc.store);
	rg_files_free(&ic.store);
	return 0;
}
