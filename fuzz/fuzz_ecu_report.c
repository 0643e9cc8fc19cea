/* Fuzz target: one signed ECU version report on its own
 * (upt_ecu_report_parse), as a secondary hands it to its primary. Whatever
 * the bytes, the parser answers UPT_OK or a negative code with a message;
 * an accepted report is for the serial asked for, with a file path, a
 * length of at least 0, a hash, and its signed envelope kept; a refused
 * one leaves nothing behind. */
#include <stdlib.h>
#include <string.h>
#include <uptake/manifest.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char mem[8u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upt_arena a;
	struct upt_ecu_report r;
	struct upt_error err = {0};
	int rc;
	upt_arena_init(&a, mem, sizeof mem);
	rc = upt_ecu_report_parse(&r, &a, data, size, 65536, "motor-1", &err);
	if (rc > 0 || (rc != UPT_OK && err.msg[0] == 0))
		abort();
	if (rc != UPT_OK) {
		if (r.ecu_serial || r.filepath || r.doc.json)
			abort();
		return 0;
	}
	if (size > 65536 || !r.ecu_serial || strcmp(r.ecu_serial, "motor-1") != 0 || !r.filepath ||
	    r.length < 0 || !r.attacks_detected || !r.doc.json || !r.doc.signed_json ||
	    (!r.hashes.has_sha256 && !r.hashes.has_sha512))
		abort();
	if (r.has_report_counter && r.report_counter < 0)
		abort();
	return 0;
}
