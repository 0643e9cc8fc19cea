/* Fuzz target: uptake-agent's boot environments (src/agent/boot.c). The
 * first byte picks the format: 0 the simulated bootloader's file, 1 a GRUB
 * environment block, 2 a U-Boot environment (the rest of the input is its
 * variables; the CRC is made here so that libubootenv accepts the image,
 * and it is read through libubootenv and the agent's U-Boot backend from a
 * file). Whatever the bytes, the answer is UPT_OK with slots a or b, flags
 * and a bounded count, or an error with a message. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UBOOT_ENV_SIZE 0x1000

static void check(int rc, const struct bootenv *b, const struct upt_error *err)
{
	if (rc > 0 || (rc != UPT_OK && err->msg[0] == 0))
		abort();
	if (rc == UPT_OK &&
	    ((b->active != 0 && b->active != 1) || (b->previous != 0 && b->previous != 1) ||
	     b->bootcount < 0 || b->bootcount > BOOTENV_COUNT_MAX))
		abort();
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static char dir[64], env[128];
static struct agent_config c;

static void remove_files(void)
{
	unlink(env);
	unlink(c.uboot_config);
	rmdir(dir);
}

static void uboot(const uint8_t *data, size_t size)
{
	static uint8_t image[UBOOT_ENV_SIZE];
	struct bootenv b;
	struct upt_error err = {0};
	uint32_t crc;
	FILE *f;
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz-uboot-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(env, sizeof env, "%s/env.img", dir);
		snprintf(c.uboot_config, sizeof c.uboot_config, "%s/fw_env.config", dir);
		snprintf(c.bootloader, sizeof c.bootloader, "uboot");
		c.boot_limit = 3;
		if (!(f = fopen(c.uboot_config, "w")))
			abort();
		fprintf(f, "%s 0x0 0x%x\n", env, UBOOT_ENV_SIZE);
		fclose(f);
		atexit(remove_files);
	}
	memset(image, 0, sizeof image);
	if (size > sizeof image - 4)
		size = sizeof image - 4;
	memcpy(image + 4, data, size);
	crc = crc32_of(image + 4, sizeof image - 4);
	for (int i = 0; i < 4; i++)
		image[i] = (uint8_t)(crc >> (8 * i));
	if (!(f = fopen(env, "w")))
		abort();
	if (fwrite(image, 1, sizeof image, f) != sizeof image)
		abort();
	fclose(f);
	check(boot_load(&b, &c, &err), &b, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bootenv b;
	struct upt_error err = {0};
	uint8_t *copy;
	if (size == 0)
		return 0;
	/* an exact copy without the selector, so that ASan sees overreads */
	if (!(copy = malloc(size - 1 ? size - 1 : 1)))
		return 0;
	memcpy(copy, data + 1, size - 1);
	memset(&b, 0, sizeof b);
	switch (data[0] % 3) {
	case 0:
		check(bootenv_parse_sim(&b, copy, size - 1, &err), &b, &err);
		break;
	case 1: {
		static char vars[64 * 1024 + 2];
		int rc = bootenv_parse_grub(vars, sizeof vars, copy, size - 1, "grubenv", &err);
		if (rc == UPT_OK)
			rc = bootenv_from_grub_vars(&b, vars, &err);
		check(rc, &b, &err);
		break;
	}
	default:
		uboot(copy, size - 1);
	}
	free(copy);
	return 0;
}
