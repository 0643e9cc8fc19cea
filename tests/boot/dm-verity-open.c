/* The emulated device's initramfs: opens a read-only slot through
 * dm-verity with the parameters the boot script passes on the kernel
 * command line (what `veritysetup open` does, in a few ioctls, so that
 * the initramfs needs no shared libraries):
 *
 *   dm-verity-open NAME DEVICE ROOT,SALT,DATA_BLOCK,HASH_BLOCK,DATA_BLOCKS,HASH_OFFSET
 *
 * The hash tree is on DEVICE at HASH_OFFSET bytes, without a superblock
 * (veritysetup format --no-superblock). Prints the new device's
 * major:minor. Built statically for the guest by tests/boot/boot.sh. */
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "dm-verity-open: %s\n", what);
	return 1;
}

static int number(unsigned long long *out, const char *s)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	*out = strtoull(s, &end, 10);
	return 0;
}

static void header(struct dm_ioctl *io, size_t size, const char *name, unsigned flags)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (unsigned)size;
	io->data_start = sizeof *io;
	io->flags = flags;
	snprintf(io->name, sizeof io->name, "%s", name);
}

int main(int argc, char **argv)
{
	union {
		struct dm_ioctl io;
		char bytes[16384];
	} buf;
	struct dm_target_spec *spec;
	char *f[6], params[1024], *p;
	unsigned long long data_block, hash_block, data_blocks, hash_offset;
	int fd, n = 0;
	if (argc != 4 || strlen(argv[3]) >= 600)
		return fail("usage: dm-verity-open NAME DEVICE ROOT,SALT,DB,HB,BLOCKS,OFFSET");
	for (p = argv[3]; n < 6; n++) {
		f[n] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 5 || number(&data_block, f[2]) || number(&hash_block, f[3]) ||
	    number(&data_blocks, f[4]) || number(&hash_offset, f[5]) || !data_block ||
	    !hash_block || hash_offset % hash_block || strspn(f[0], "0123456789abcdef") != 64 ||
	    strlen(f[0]) != 64 || strspn(f[1], "0123456789abcdef") != strlen(f[1]))
		return fail("bad verity parameters");
	if ((fd = open("/dev/mapper/control", O_RDWR)) < 0)
		return fail("/dev/mapper/control: cannot open");
	header(&buf.io, sizeof buf, argv[1], 0);
	if (ioctl(fd, DM_DEV_CREATE, &buf) < 0)
		return fail("DM_DEV_CREATE failed");
	header(&buf.io, sizeof buf, argv[1], DM_READONLY_FLAG);
	buf.io.target_count = 1;
	spec = (struct dm_target_spec *)(buf.bytes + sizeof buf.io);
	spec->sector_start = 0;
	spec->length = data_blocks * (data_block / 512);
	snprintf(spec->target_type, sizeof spec->target_type, "verity");
	snprintf(params, sizeof params, "1 %s %s %llu %llu %llu %llu sha256 %s %s", argv[2],
		 argv[2], data_block, hash_block, data_blocks, hash_offset / hash_block, f[0],
		 f[1][0] ? f[1] : "-");
	snprintf((char *)(spec + 1), sizeof buf - sizeof buf.io - sizeof *spec, "%s", params);
	spec->next = 0;
	if (ioctl(fd, DM_TABLE_LOAD, &buf) < 0)
		return fail("DM_TABLE_LOAD failed (the verity table was refused)");
	header(&buf.io, sizeof buf, argv[1], 0);
	if (ioctl(fd, DM_DEV_SUSPEND, &buf) < 0)
		return fail("DM_DEV_SUSPEND (resume) failed");
	printf("%u:%u\n", major(buf.io.dev), minor(buf.io.dev));
	close(fd);
	return 0;
}
