/* bench: the smallest program that uses every entry point of the
 * microcontroller port (built with -DWITH_PORT), and the same program
 * without it; bench/port.sh subtracts the two sizes. */
#include <stdint.h>
#include <string.h>
#ifdef WITH_PORT
#include "uptake_port.h"

static uint8_t slots[2][UPT_PORT_SLOT_SIZE];
static uint8_t arena[32 * 1024];
static struct upt_port port;
static struct upt_port_builtin builtin;

static int rd(void *c, unsigned s, size_t o, uint8_t *b, size_t n)
{
	(void)c;
	memcpy(b, slots[s & 1] + o, n);
	return 0;
}
static int er(void *c, unsigned s)
{
	(void)c;
	memset(slots[s & 1], 0xff, UPT_PORT_SLOT_SIZE);
	return 0;
}
static int wr(void *c, unsigned s, size_t o, const uint8_t *b, size_t n)
{
	(void)c;
	memcpy(slots[s & 1] + o, b, n);
	return 0;
}
static int ib(void *c, uint64_t n)
{
	(void)c;
	(void)n;
	return 0;
}
static int iw(void *c, uint64_t o, const uint8_t *b, size_t n)
{
	(void)c;
	(void)o;
	(void)b;
	(void)n;
	return 0;
}
static int ia(void *c)
{
	(void)c;
	return 0;
}
static int64_t now(void *c)
{
	(void)c;
	return 0;
}
#endif

int main(void);
int main(void)
{
#ifdef WITH_PORT
	static const uint8_t seed[32] = {1};
	static uint8_t report[1024];
	struct upt_port_platform pf = {0, rd, er, wr, ib, iw, ia, ia, now, NULL};
	struct upt_port_config cfg = {"ecu", "hw", 65536};
	struct upt_port_metadata md = {0};
	struct upt_port_verdict v;
	struct upt_error err;
	size_t n;
	int rc;
	pf.crypto = upt_port_crypto_builtin(&builtin, seed);
	rc = upt_port_init(&port, &pf, &cfg, arena, sizeof arena, &err);
	rc |= upt_port_provision(&port, report, 0, NULL, &err);
	rc |= upt_port_verify_metadata(&port, &md, &v, &err);
	rc |= upt_port_image_begin(&port, &err);
	rc |= upt_port_image_write(&port, report, 1, &err);
	rc |= upt_port_image_finish(&port, &err);
	rc |= upt_port_version_report(&port, report, sizeof report, &n, &err);
	return rc ? 1 : 0;
#else
	return 0;
#endif
}
