/* uptake tests: the port's partial-verification attack tests. The same
 * program runs on the host (CTest, ASan) and on the emulated Cortex-M3
 * (qemu mps2-an385, results and exit code through semihosting). The
 * platform is RAM: two trusted-state slots that can lose power at any
 * byte, and an image bank that records what was activated. */
#include <stdio.h>
#include <string.h>
#include <uptake/json.h>
#include <uptake/metadata.h>

#include "port_ed25519.h"
#include "port_vectors.h"
#include "uptake_port.h"

/* ---- the RAM platform --------------------------------------------------- */

struct ram {
	uint8_t slot[2][UPT_PORT_SLOT_SIZE];
	uint8_t bank[PV_IMAGE_MAX];
	uint64_t bank_len;
	int activations;
	int discards;
	long budget; /* bytes the flash still writes before "power loss"; < 0: unlimited */
	int64_t now;
};

static struct ram ram;

static int slot_read(void *ctx, unsigned s, size_t off, uint8_t *buf, size_t len)
{
	struct ram *r = ctx;
	if (s > 1 || off > UPT_PORT_SLOT_SIZE || len > UPT_PORT_SLOT_SIZE - off)
		return -1;
	memcpy(buf, r->slot[s] + off, len);
	return 0;
}

/* Spend the budget; false when the power went before `n` bytes. */
static bool spend(struct ram *r, size_t n, size_t *done)
{
	if (r->budget < 0 || (size_t)r->budget >= n) {
		if (r->budget >= 0)
			r->budget -= (long)n;
		*done = n;
		return true;
	}
	*done = (size_t)r->budget;
	r->budget = 0;
	return false;
}

static int slot_erase(void *ctx, unsigned s)
{
	struct ram *r = ctx;
	size_t done;
	bool ok;
	if (s > 1)
		return -1;
	/* an interrupted erase leaves part of the old bytes */
	ok = spend(r, 64, &done);
	memset(r->slot[s], 0xff, ok ? UPT_PORT_SLOT_SIZE : done * (UPT_PORT_SLOT_SIZE / 64));
	return ok ? 0 : -1;
}

static int slot_write(void *ctx, unsigned s, size_t off, const uint8_t *buf, size_t len)
{
	struct ram *r = ctx;
	size_t done;
	bool ok;
	if (s > 1 || off > UPT_PORT_SLOT_SIZE || len > UPT_PORT_SLOT_SIZE - off)
		return -1;
	ok = spend(r, len, &done);
	memcpy(r->slot[s] + off, buf, done);
	return ok ? 0 : -1;
}

static int image_begin(void *ctx, uint64_t length)
{
	struct ram *r = ctx;
	if (length > sizeof r->bank)
		return -1;
	memset(r->bank, 0xff, sizeof r->bank);
	r->bank_len = 0;
	return 0;
}

static int image_write(void *ctx, uint64_t off, const uint8_t *buf, size_t len)
{
	struct ram *r = ctx;
	if (off != r->bank_len || len > sizeof r->bank - off)
		return -1;
	memcpy(r->bank + off, buf, len);
	r->bank_len += len;
	return 0;
}

static int image_activate(void *ctx)
{
	((struct ram *)ctx)->activations++;
	return 0;
}

static int image_discard(void *ctx)
{
	((struct ram *)ctx)->discards++;
	return 0;
}

static int64_t now(void *ctx)
{
	return ((struct ram *)ctx)->now;
}

/* ---- the harness -------------------------------------------------------- */

static int failures, checks;

#define CHECK(cond, ...)                                            \
	do {                                                        \
		checks++;                                           \
		if (!(cond)) {                                      \
			failures++;                                 \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                        \
			printf("\n");                               \
		}                                                   \
	} while (0)

static struct upt_port port;
static struct upt_port_builtin builtin;
static struct upt_port_platform pf;
static struct upt_port_config cfg = {"mcu-1", "motor-ctl", PV_IMAGE_MAX};
static uint8_t arena[32 * 1024];
static uint8_t report[2048];

static void boot(void)
{
	struct upt_error err;
	int rc = upt_port_init(&port, &pf, &cfg, arena, sizeof arena, &err);
	CHECK(rc == UPT_OK, "init: %s", err.msg);
}

/* Verify `t` (after the roots in `r1`, `r2`, NULL for none) and compare. */
static int verify(const struct pv_blob *r1, const struct pv_blob *r2, const struct pv_blob *t,
		  struct upt_port_verdict *v, struct upt_error *err)
{
	struct upt_port_metadata md;
	memset(&md, 0, sizeof md);
	if (r1)
		md.roots[md.n_roots++] = (struct upt_port_blob){r1->data, r1->len};
	if (r2)
		md.roots[md.n_roots++] = (struct upt_port_blob){r2->data, r2->len};
	md.targets = (struct upt_port_blob){t->data, t->len};
	return upt_port_verify_metadata(&port, &md, v, err);
}

static void expect_refused(const char *what, const struct pv_blob *t, int want, const char *msg)
{
	struct upt_port_verdict v;
	struct upt_error err, e2;
	int acts = ram.activations, rc = verify(NULL, NULL, t, &v, &err);
	CHECK(rc == want, "%s: got %s (%s), want %s", what, upt_err_name(rc), err.msg,
	      upt_err_name(want));
	CHECK(rc != UPT_OK && strstr(err.msg, msg), "%s: message '%s' lacks '%s'", what, err.msg,
	      msg);
	CHECK(!v.assigned, "%s: something assigned", what);
	CHECK(upt_port_image_begin(&port, &e2) == UPT_ERR_STATE, "%s: image accepted", what);
	CHECK(ram.activations == acts, "%s: activated", what);
	printf("ok  %-32s %s\n", what, err.msg);
}

/* Stream `img` in chunks of `chunk` bytes (plus `extra` bytes). */
static int stream(const struct pv_blob *img, size_t chunk, size_t extra, struct upt_error *err)
{
	static const uint8_t more[16];
	int rc = upt_port_image_begin(&port, err);
	for (size_t off = 0; rc == UPT_OK && off < img->len; off += chunk) {
		size_t n = img->len - off < chunk ? img->len - off : chunk;
		rc = upt_port_image_write(&port, img->data + off, n, err);
	}
	if (rc == UPT_OK && extra)
		rc = upt_port_image_write(&port, more, extra, err);
	if (rc == UPT_OK)
		rc = upt_port_image_finish(&port, err);
	return rc;
}

/* The report verifies with the ECU key (as OpenSSL derived it) and says
 * what is installed. */
static void check_report(const char *name, int64_t counter)
{
	struct upt_arena a;
	struct upt_doc doc;
	struct upt_json *json;
	struct upt_error err;
	size_t len = 0;
	const struct upt_json *s;
	int rc = upt_port_version_report(&port, report, sizeof report, &len, &err);
	CHECK(rc == UPT_OK, "report: %s", err.msg);
	if (rc != UPT_OK)
		return;
	upt_arena_init(&a, arena, sizeof arena);
	rc = upt_json_parse(&json, &a, report, len, NULL, &err);
	if (rc == UPT_OK)
		rc = upt_doc_from_json(&doc, &a, json, "version report", &err);
	CHECK(rc == UPT_OK, "report parse: %s", err.msg);
	if (rc != UPT_OK)
		return;
	CHECK(doc.n_sigs == 1 && doc.sigs[0].sig_len == 64 &&
		  upt_port_ed25519_verify(pv_ecu_pub.data, doc.canonical, doc.canonical_len,
					  doc.sigs[0].sig),
	      "report: signature does not verify with the ECU key");
	s = upt_json_get(upt_json_get(doc.signed_json, "installed_image"), "filepath");
	CHECK(s && upt_json_is_str(s, name), "report: filepath is not %s", name);
	s = upt_json_get(doc.signed_json, "report_counter");
	CHECK(s && s->type == UPT_JSON_INT && s->i == counter, "report: counter %lld, want %lld",
	      s ? (long long)s->i : -1LL, (long long)counter);
}

/* ---- the tests ---------------------------------------------------------- */

static void provisioning(void)
{
	struct upt_error err;
	int rc;
	boot();
	CHECK(port.phase == UPT_PORT_UNPROVISIONED, "fresh flash is provisioned");
	rc = upt_port_provision(&port, pv_root2_old_only.data, pv_root2_old_only.len, NULL, &err);
	CHECK(rc == UPT_ERR_THRESHOLD, "root not signed by its own keys: %s", upt_err_name(rc));
	CHECK(port.phase == UPT_PORT_UNPROVISIONED, "refused root provisioned");
	rc = upt_port_provision(&port, pv_root1.data, pv_root1.len, NULL, &err);
	CHECK(rc == UPT_OK, "provision: %s", err.msg);
	rc = upt_port_provision(&port, pv_root1.data, pv_root1.len, NULL, &err);
	CHECK(rc == UPT_ERR_STATE, "provisioned twice");
	boot();
	CHECK(port.phase == UPT_PORT_IDLE && port.rec.sequence == 1, "record lost across boot");
	printf("ok  provisioning\n");
}

static void valid_update(void)
{
	struct upt_port_verdict v;
	struct upt_error err;
	int rc = verify(NULL, NULL, &pv_t_old, &v, &err);
	CHECK(rc == UPT_OK && v.assigned && v.release_counter == 5, "t_old: %s", err.msg);
	rc = verify(NULL, NULL, &pv_t_valid, &v, &err);
	CHECK(rc == UPT_OK && v.assigned && !v.installed && strcmp(v.name, "image-a.bin") == 0 &&
		  v.length == pv_image_a.len && v.release_counter == 5,
	      "valid: %s", err.msg);
	rc = stream(&pv_image_a, 100, 0, &err);
	CHECK(rc == UPT_OK, "valid image: %s", err.msg);
	CHECK(ram.activations == 1 && ram.bank_len == pv_image_a.len &&
		  memcmp(ram.bank, pv_image_a.data, pv_image_a.len) == 0,
	      "valid image not activated");
	boot();
	CHECK(port.rec.has_installed && port.rec.installed_release_counter == 5 &&
		  strcmp(port.rec.installed_name, "image-a.bin") == 0 &&
		  port.rec.targets_version == 2,
	      "install not recorded");
	rc = verify(NULL, NULL, &pv_t_valid, &v, &err);
	CHECK(rc == UPT_OK && v.assigned && v.installed, "same targets again: %s", err.msg);
	check_report("image-a.bin", 1);
	check_report("image-a.bin", 2);
	printf("ok  valid update, version report signed\n");
}

static void attacks(void)
{
	struct upt_port_verdict v;
	struct upt_error err;
	int acts, rc;
	expect_refused("rollback: targets version", &pv_t_old, UPT_ERR_ROLLBACK, "lower than");
	expect_refused("wrong hardware id", &pv_t_wrong_hwid, UPT_ERR_HARDWARE_ID, "hardware id");
	expect_refused("bad signature", &pv_t_bad_sig, UPT_ERR_THRESHOLD, "targets");
	expect_refused("oversized image", &pv_t_oversized, UPT_ERR_TOO_LARGE, "image bank");
	expect_refused("freeze: expired targets", &pv_t_freeze, UPT_ERR_EXPIRED, "expired");
	expect_refused("rollback: release counter", &pv_t_counter_down, UPT_ERR_RELEASE_COUNTER,
		       "release counter");
	/* wrong ECU: the Director assigns the image to another ECU */
	rc = verify(NULL, NULL, &pv_t_wrong_ecu, &v, &err);
	CHECK(rc == UPT_OK && !v.assigned, "wrong ECU: %s assigned=%d", upt_err_name(rc),
	      v.assigned);
	CHECK(upt_port_image_begin(&port, &err) == UPT_ERR_STATE, "wrong ECU: image accepted");
	printf("ok  %-32s nothing assigned to mcu-1\n", "wrong ECU");
	/* an image whose bytes differ from the Director's hash */
	acts = ram.activations;
	rc = verify(NULL, NULL, &pv_t_bad_hash, &v, &err);
	CHECK(rc == UPT_OK && v.assigned, "bad hash metadata: %s", err.msg);
	rc = stream(&pv_image_b, 256, 0, &err);
	CHECK(rc == UPT_ERR_HASH_MISMATCH, "bad hash: %s", upt_err_name(rc));
	CHECK(ram.activations == acts, "bad image activated");
	printf("ok  %-32s %s\n", "image hash mismatch", err.msg);
	boot();
	CHECK(strcmp(port.rec.installed_name, "image-a.bin") == 0, "refused image recorded");
}

static void rotation(void)
{
	struct upt_port_verdict v;
	struct upt_error err;
	int acts, rc;
	rc = verify(&pv_root2_old_only, NULL, &pv_t_rotated, &v, &err);
	CHECK(rc == UPT_ERR_THRESHOLD, "root not signed by the new keys: %s", upt_err_name(rc));
	printf("ok  %-32s %s\n", "root rotation: bad new root", err.msg);
	rc = verify(&pv_root2, NULL, &pv_t_rotated_oldkey, &v, &err);
	CHECK(rc == UPT_ERR_THRESHOLD, "targets by the rotated-out key: %s", upt_err_name(rc));
	printf("ok  %-32s %s\n", "targets by a revoked key", err.msg);
	boot();
	CHECK(port.rec.root_len == pv_root2.len &&
		  memcmp(ram.slot[port.slot] + UPT_PORT_HEADER_SIZE, pv_root2.data, pv_root2.len) ==
		      0,
	      "verified root 2 not kept");
	/* endless data: one byte more than the Director says */
	rc = verify(NULL, NULL, &pv_t_rotated, &v, &err);
	CHECK(rc == UPT_OK && v.assigned && v.release_counter == 6, "rotated: %s", err.msg);
	acts = ram.activations;
	rc = stream(&pv_image_b, 512, 1, &err);
	CHECK(rc == UPT_ERR_TOO_LARGE && ram.activations == acts, "endless data: %s",
	      upt_err_name(rc));
	printf("ok  %-32s %s\n", "endless image data", err.msg);
	rc = verify(NULL, NULL, &pv_t_rotated, &v, &err);
	if (rc == UPT_OK)
		rc = stream(&pv_image_b, 1024, 0, &err);
	CHECK(rc == UPT_OK && ram.activations == acts + 1, "update after rotation: %s", err.msg);
	check_report("image-b.bin", 3);
	printf("ok  update after root rotation\n");
}

/* Cut the power at every point of a record write: afterwards the ECU boots
 * with the old record or the new one, never with neither. */
static void power_loss(void)
{
	static uint8_t saved[2][UPT_PORT_SLOT_SIZE];
	struct upt_error err;
	uint64_t before;
	size_t len;
	int old_seen = 0, new_seen = 0;
	boot();
	before = port.rec.report_counter;
	memcpy(saved, ram.slot, sizeof saved);
	for (long cut = 0; cut < 64L + (long)UPT_PORT_HEADER_SIZE + (long)pv_root2.len + 8;
	     cut += 7) {
		int rc;
		memcpy(ram.slot, saved, sizeof saved);
		boot();
		ram.budget = cut;
		rc = upt_port_version_report(&port, report, sizeof report, &len, &err);
		ram.budget = -1;
		boot();
		CHECK(port.phase == UPT_PORT_IDLE, "cut at %ld: no record survived", cut);
		CHECK(port.rec.report_counter == before || port.rec.report_counter == before + 1,
		      "cut at %ld: counter %llu", cut, (unsigned long long)port.rec.report_counter);
		CHECK(rc != UPT_OK || port.rec.report_counter == before + 1,
		      "cut at %ld: report released before its counter was kept", cut);
		CHECK(strcmp(port.rec.installed_name, "image-b.bin") == 0,
		      "cut at %ld: install lost", cut);
		if (port.rec.report_counter == before)
			old_seen++;
		else
			new_seen++;
	}
	CHECK(old_seen && new_seen, "power cuts never hit (old %d, new %d)", old_seen, new_seen);
	/* noise in the other slot is not a record */
	memset(ram.slot[port.slot ^ 1u], 0x5a, UPT_PORT_SLOT_SIZE);
	memcpy(ram.slot[port.slot ^ 1u], "UPTP\1\0\0\0\377\377\377\377", 12);
	boot();
	CHECK(port.phase == UPT_PORT_IDLE && strcmp(port.rec.installed_name, "image-b.bin") == 0,
	      "noise taken for a record");
	printf("ok  power loss at %d points: old %d, new %d\n", old_seen + new_seen, old_seen,
	       new_seen);
}

/* ---- stack high-water mark (target only) -------------------------------- */

#if defined(__arm__) && !defined(__linux__)
extern uint8_t __heap_end[];
#define PAINT 0xa5
static void paint_stack(void)
{
	uintptr_t sp;
	volatile uint8_t *p = __heap_end;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	while ((uintptr_t)p < sp - 256)
		*p++ = PAINT;
}
static size_t stack_used(void)
{
	extern uint8_t __stack[];
	const uint8_t *p = __heap_end;
	while (p < __stack && *p == PAINT)
		p++;
	return (size_t)(__stack - p);
}
#endif

static size_t arena_high_water(void)
{
	size_t n = sizeof arena;
	while (n && arena[n - 1] == 0xa5)
		n--;
	return n;
}

int main(void)
{
#if defined(__arm__) && !defined(__linux__)
	paint_stack();
#endif
	memset(&ram, 0, sizeof ram);
	memset(ram.slot, 0xff, sizeof ram.slot);
	memset(arena, 0xa5, sizeof arena);
	ram.budget = -1;
	ram.now = PV_NOW;
	pf.ctx = &ram;
	pf.slot_read = slot_read;
	pf.slot_erase = slot_erase;
	pf.slot_write = slot_write;
	pf.image_begin = image_begin;
	pf.image_write = image_write;
	pf.image_activate = image_activate;
	pf.image_discard = image_discard;
	pf.now = now;
	pf.crypto = upt_port_crypto_builtin(&builtin, pv_ecu_seed.data);
	CHECK(memcmp(builtin.pub, pv_ecu_pub.data, 32) == 0,
	      "ECU public key differs from OpenSSL's");

	provisioning();
	valid_update();
	attacks();
	rotation();
	printf("arena high-water: %zu bytes of %zu\n", arena_high_water(), sizeof arena);
	printf("static RAM: struct upt_port %zu bytes, built-in crypto %zu bytes\n", sizeof port,
	       sizeof builtin);
	power_loss();
	upt_port_crypto_builtin_dispose(&builtin);
#if defined(__arm__) && !defined(__linux__)
	printf("stack high-water: %zu bytes\n", stack_used());
#endif
	printf("port attacks: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
