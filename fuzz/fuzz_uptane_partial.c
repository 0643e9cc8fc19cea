/* Fuzz target: Uptane partial verification (a secondary) over hostile
 * Director metadata: the Director's root chain and targets, files replaced
 * by the input or signed with the Director's real keys (uptane_world.h;
 * edits of the Image repository change nothing here). Whatever the bytes,
 * the result is an error with nothing assigned, nothing assigned, or an
 * assignment for this ECU and its hardware id whose release counter does
 * not go down. The stored root always verifies. */
#include "uptane_world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_client dc;
	struct upt_repo_io dio;
	struct upt_arena da;
	struct upt_repo dr;
	struct upt_ecu ecus[2];
	struct upt_device dev;
	struct upt_update u;
	struct upt_error err;
	struct uw_world *w;
	int rc;
	uw_init();
	if (!(w = uw_apply(data, size)))
		return 0;
	uw_device(ecus, &dev);
	/* the secondary runs the tool at release counter 1 */
	uw_install(&ecus[1], uw_tool, sizeof uw_tool, 1);
	ecus[1].serial = "ecu-sec";
	ecus[1].hardware_id = "board-b";
	uw_provision(&dc, &w->d.served, &w->d_clean);
	rg_client_io(&dio, &dc);
	upt_arena_init(&da, uw_dmem, sizeof uw_dmem);
	upt_repo_init(&dr, "director", &dio, upt_openssl_crypto(), &da, NULL);
	memset(&u, 0xa5, sizeof u);
	rc = upt_uptane_partial_verify(&dr, &ecus[1], RG_NOW, &u, &err);
	if (rc > 0 || (rc != UPT_OK && (err.msg[0] == 0 || u.director != NULL)))
		abort();
	if (rc == UPT_OK && u.director &&
	    (u.image != NULL || !uw_names_ecu(u.director, &ecus[1]) ||
	     (u.release_counter >= 0 && u.release_counter < 1)))
		abort();
	uw_check_store(&dc.store);
	rg_files_free(&dc.store);
	return 0;
}
