/* Fuzz target: the microcontroller port's inputs. The first byte picks:
 *   0  the rest is the contents of trusted-state slot 0 (slot 1 erased):
 *      the record parser, and booting from it;
 *   1  u16 root length, root, u16 targets length, targets, then image
 *      bytes: provisioning with that root, partial verification of the
 *      targets, and the image streamed in 97-byte chunks.
 * Seeds carry a real signed root and targets, so mutations reach every
 * check behind the signatures. Whatever the input, a record that parses
 * must hold a root, and an image may be activated only when its bytes
 * hash to what the verified targets say. */
#include <stdlib.h>
#include <string.h>

#include "port_sha2.h"
#include "secondary/port/uptake_port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	uint8_t slot[2][UPT_PORT_SLOT_SIZE];
	uint8_t bank[65536];
	uint64_t bank_len;
	int activations;
} ram;

static int slot_read(void *ctx, unsigned s, size_t off, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (s > 1 || off > UPT_PORT_SLOT_SIZE || len > UPT_PORT_SLOT_SIZE - off)
		abort(); /* the port stays inside its slots */
	memcpy(buf, ram.slot[s] + off, len);
	return 0;
}

static int slot_erase(void *ctx, unsigned s)
{
	(void)ctx;
	if (s > 1)
		abort();
	memset(ram.slot[s], 0xff, UPT_PORT_SLOT_SIZE);
	return 0;
}

static int slot_write(void *ctx, unsigned s, size_t off, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (s > 1 || off > UPT_PORT_SLOT_SIZE || len > UPT_PORT_SLOT_SIZE - off)
		abort();
	memcpy(ram.slot[s] + off, buf, len);
	return 0;
}

static int image_begin(void *ctx, uint64_t length)
{
	(void)ctx;
	if (length > sizeof ram.bank)
		abort(); /* the port checked the bank size */
	ram.bank_len = 0;
	return 0;
}

static int image_write(void *ctx, uint64_t off, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (off != ram.bank_len || len > sizeof ram.bank - off)
		abort();
	memcpy(ram.bank + off, buf, len);
	ram.bank_len += len;
	return 0;
}

static int image_activate(void *ctx)
{
	(void)ctx;
	ram.activations++;
	return 0;
}

static int image_discard(void *ctx)
{
	(void)ctx;
	return 0;
}

static int64_t now(void *ctx)
{
	(void)ctx;
	return 1893456000LL; /* 2030-01-01, as the seeds expect */
}

static uint8_t arena[32 * 1024];

static size_t take16(const uint8_t **p, size_t *left)
{
	size_t n;
	if (*left < 2)
		return 0;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	*left -= 2;
	return n <= *left ? n : *left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct upt_port_builtin builtin;
	static const uint8_t seed[32] = {1};
	struct upt_port_platform pf = {0};
	struct upt_port_config cfg = {"mcu-1", "motor-ctl", sizeof ram.bank};
	struct upt_port port;
	struct upt_error err;
	if (size < 1)
		return 0;
	memset(ram.slot, 0xff, sizeof ram.slot);
	ram.activations = 0;
	pf.slot_read = slot_read;
	pf.slot_erase = slot_erase;
	pf.slot_write = slot_write;
	pf.image_begin = image_begin;
	pf.image_write = image_write;
	pf.image_activate = image_activate;
	pf.image_discard = image_discard;
	pf.now = now;
	pf.crypto = upt_port_crypto_builtin(&builtin, seed);
	if (data[0] == 0) {
		struct upt_port_record rec;
		const uint8_t *root;
		size_t n = size - 1 < UPT_PORT_SLOT_SIZE ? size - 1 : UPT_PORT_SLOT_SIZE;
		memcpy(ram.slot[0], data + 1, n);
		if (upt_port_record_parse(&rec, &root, ram.slot[0], UPT_PORT_SLOT_SIZE,
					  pf.crypto) == UPT_OK &&
		    (rec.root_len == 0 || rec.root_len > UPT_PORT_ROOT_MAX))
			abort();
		if (upt_port_init(&port, &pf, &cfg, arena, sizeof arena, &err) != UPT_OK)
			abort();
		return 0;
	}
	if (data[0] == 1) {
		const uint8_t *p = data + 1;
		size_t left = size - 1, rl, tl;
		struct upt_port_metadata md = {0};
		struct upt_port_verdict v;
		rl = take16(&p, &left);
		const uint8_t *root = p;
		p += rl;
		left -= rl;
		tl = take16(&p, &left);
		md.targets.data = p;
		md.targets.len = tl;
		p += tl;
		left -= tl;
		if (upt_port_init(&port, &pf, &cfg, arena, sizeof arena, &err) != UPT_OK ||
		    upt_port_provision(&port, root, rl, NULL, &err) != UPT_OK)
			return 0;
		if (upt_port_verify_metadata(&port, &md, &v, &err) != UPT_OK || !v.assigned ||
		    v.installed)
			return 0;
		if (upt_port_image_begin(&port, &err) != UPT_OK)
			return 0;
		while (left) {
			size_t n = left < 97 ? left : 97;
			if (upt_port_image_write(&port, p, n, &err) != UPT_OK)
				return 0;
			p += n;
			left -= n;
		}
		if (upt_port_image_finish(&port, &err) == UPT_OK) {
			uint8_t d[32];
			upt_port_sha256(d, ram.bank, (size_t)ram.bank_len);
			if (ram.activations != 1 || ram.bank_len != v.length ||
			    (v.has_sha256 && memcmp(d, v.sha256, 32) != 0))
				abort();
		} else if (ram.activations) {
			abort();
		}
	}
	return 0;
}
