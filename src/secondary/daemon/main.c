/* uptake-secondary: options, first start (the roots it trusts, its ECU
 * key), then one connection after another on the listening socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uptake/crypto_openssl.h>

#include "../../host/host.h"
#include "../../host/ipu_link.h"
#include "secondary.h"

void sec_log(const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* nothing from the peer reaches the log unescaped */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "uptake-secondary: %s\n", line);
}

void sec_state_path(char *out, size_t cap, const struct sec_config *c, const char *name)
{
	snprintf(out, cap, "%s/%s", c->state_dir, name);
}

static const char usage[] =
    "usage: uptake-secondary --state-dir DIR --serial SERIAL --hardware-id ID --slot FILE\n"
    "                        [--slot-b FILE [--bootloader sim|uboot|grub]\n"
    "                        [--uboot-config FILE] [--grub-env FILE] [--boot-limit N]\n"
    "                        [--health-dir DIR] [--health-timeout SECONDS]]\n"
    "                        [--director-root FILE --image-root FILE] [--listen ADDR]\n"
    "                        [--port N] [--port-file FILE] [--timeout SECONDS]\n"
    "                        [--primary ADDR [--primary-port N]]\n"
    "                        [--max-message BYTES] [--once]\n"
    "\n"
    "An Uptane secondary (full verification) speaking aktualizr's IP-Uptane\n"
    "protocol, version 2, on TCP (default port 9030).\n"
    "\n"
    "  --state-dir DIR       trusted metadata, the ECU key, the report counter\n"
    "  --serial SERIAL       this ECU's serial\n"
    "  --hardware-id ID      this ECU's hardware id\n"
    "  --slot FILE           where a verified image is installed (A/B: slot a)\n"
    "  --slot-b FILE         A/B slots: slot b; an image is tried after a boot and\n"
    "                        kept only when it passes its health checks\n"
    "  --bootloader NAME     sim (state_dir/bootenv, the default), uboot or grub\n"
    "  --uboot-config FILE   fw_env.config (bootloader uboot)\n"
    "  --grub-env FILE       the grubenv file (bootloader grub)\n"
    "  --boot-limit N        boots a new slot gets to prove itself (default 3)\n"
    "  --health-dir DIR      executables that must all exit 0 after a new image boots\n"
    "  --health-timeout S    seconds per health check (default 60)\n"
    "  --director-root FILE  the Director's root to trust (first start)\n"
    "  --image-root FILE     the Image repository's root to trust (first start)\n"
    "  --listen ADDR         the address to listen on (default 0.0.0.0)\n"
    "  --port N              the TCP port (default 9030; 0: any free one)\n"
    "  --port-file FILE      write the port listened on to FILE\n"
    "  --primary ADDR        at start-up, connect to the primary's wait port from the\n"
    "                        port listened on, and serve that connection\n"
    "  --primary-port N      the primary's wait port (default 9040)\n"
    "  --timeout SECONDS     for one message, and a connection's idle time (default 30)\n"
    "  --max-message BYTES   the largest message accepted (default 8388608)\n"
    "  --once                serve one connection, then exit\n"
    "  --help                this text\n";

static bool number(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool copy(char *dst, size_t cap, const char *src)
{
	return (size_t)snprintf(dst, cap, "%s", src) < cap;
}

/* 0 ok, 2 usage error, 1 --help */
static int parse_args(struct sec_config *c, char *port_file, size_t pf_cap, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state-dir", required_argument, NULL, 's'},
	    {"serial", required_argument, NULL, 'e'},
	    {"hardware-id", required_argument, NULL, 'w'},
	    {"slot", required_argument, NULL, 'l'},
	    {"slot-b", required_argument, NULL, 'B'},
	    {"bootloader", required_argument, NULL, 'L'},
	    {"uboot-config", required_argument, NULL, 'U'},
	    {"grub-env", required_argument, NULL, 'G'},
	    {"boot-limit", required_argument, NULL, 'N'},
	    {"health-dir", required_argument, NULL, 'H'},
	    {"health-timeout", required_argument, NULL, 'T'},
	    {"director-root", required_argument, NULL, 'd'},
	    {"image-root", required_argument, NULL, 'i'},
	    {"listen", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},
	    {"port-file", required_argument, NULL, 'f'},
	    {"primary", required_argument, NULL, 'P'},
	    {"primary-port", required_argument, NULL, 'Q'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-message", required_argument, NULL, 'm'},
	    {"once", no_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long long v;
	int o, li = -1;
	bool ok = true;
	while ((o = getopt_long(argc, argv, "", opts, &li)) != -1) {
		switch (o) {
		case 's':
			ok = ok && copy(c->state_dir, sizeof c->state_dir, optarg);
			break;
		case 'e':
			ok = ok && copy(c->serial, sizeof c->serial, optarg);
			break;
		case 'w':
			ok = ok && copy(c->hardware_id, sizeof c->hardware_id, optarg);
			break;
		case 'l':
			ok = ok && copy(c->slot, sizeof c->slot, optarg);
			break;
		case 'B':
			ok = ok && copy(c->boot.slot[1], sizeof c->boot.slot[1], optarg);
			c->ab = true;
			break;
		case 'L':
			ok = ok &&
			     (strcmp(optarg, "sim") == 0 || strcmp(optarg, "uboot") == 0 ||
			      strcmp(optarg, "grub") == 0) &&
			     copy(c->boot.bootloader, sizeof c->boot.bootloader, optarg);
			break;
		case 'U':
			ok = ok && copy(c->boot.uboot_config, sizeof c->boot.uboot_config, optarg);
			break;
		case 'G':
			ok = ok && copy(c->boot.grub_env, sizeof c->boot.grub_env, optarg);
			break;
		case 'N':
			ok = ok && number(optarg, 1, 100, &v);
			c->boot.boot_limit = (int)v;
			break;
		case 'H':
			ok = ok && copy(c->boot.health_dir, sizeof c->boot.health_dir, optarg);
			break;
		case 'T':
			ok = ok && number(optarg, 1, 3600, &v);
			c->boot.health_timeout = (int)v;
			break;
		case 'd':
			ok = ok && copy(c->director_root, sizeof c->director_root, optarg);
			break;
		case 'i':
			ok = ok && copy(c->image_root, sizeof c->image_root, optarg);
			break;
		case 'a':
			ok = ok && copy(c->listen, sizeof c->listen, optarg);
			break;
		case 'p':
			ok = ok && number(optarg, 0, 65535, &v);
			c->port = (uint16_t)v;
			break;
		case 'f':
			ok = ok && copy(port_file, pf_cap, optarg);
			break;
		case 'P':
			ok = ok && copy(c->primary, sizeof c->primary, optarg);
			break;
		case 'Q':
			ok = ok && number(optarg, 1, 65535, &v);
			c->primary_port = (uint16_t)v;
			break;
		case 't':
			ok = ok && number(optarg, 1, 86400, &v);
			c->timeout_ms = (int)v * 1000;
			break;
		case 'm':
			ok = ok && number(optarg, 1024, 1LL << 30, &v);
			c->max_message = (size_t)v;
			break;
		case 'o':
			c->once = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			ok = false;
		}
		if (!ok) {
			if (o != '?')
				fprintf(stderr, "uptake-secondary: bad value for --%s\n",
					li >= 0 ? opts[li].name : "?");
			return 2;
		}
		li = -1;
	}
	if (optind != argc || !c->state_dir[0] || !c->serial[0] || !c->hardware_id[0] ||
	    !c->slot[0]) {
		fputs(usage, stderr);
		return 2;
	}
	/* the agent's backends, configured as the agent's A/B install */
	copy(c->boot.state_dir, sizeof c->boot.state_dir, c->state_dir);
	copy(c->boot.slot[0], sizeof c->boot.slot[0], c->slot);
	snprintf(c->boot.install, sizeof c->boot.install, "%s", c->ab ? "ab" : "file");
	if (!c->ab && (c->boot.health_dir[0] || strcmp(c->boot.bootloader, "sim") != 0)) {
		fprintf(stderr, "uptake-secondary: --bootloader and --health-dir need A/B slots "
				"(--slot-b)\n");
		return 2;
	}
	if ((strcmp(c->boot.bootloader, "uboot") == 0 && !c->boot.uboot_config[0]) ||
	    (strcmp(c->boot.bootloader, "grub") == 0 && !c->boot.grub_env[0])) {
		fprintf(stderr, "uptake-secondary: --bootloader %s needs --%s\n",
			c->boot.bootloader,
			c->boot.bootloader[0] == 'u' ? "uboot-config" : "grub-env");
		return 2;
	}
	if (c->ab && strcmp(c->boot.slot[0], c->boot.slot[1]) == 0) {
		fprintf(stderr, "uptake-secondary: --slot and --slot-b are the same file\n");
		return 2;
	}
	return 0;
}

static int write_port(const char *path, uint16_t port, struct upt_error *err)
{
	char text[16];
	snprintf(text, sizeof text, "%u\n", (unsigned)port);
	return host_write_file(path, text, strlen(text), err);
}

/* A secondary that starts late: it connects to the primary's wait port
 * from the port it listens on (the primary knows it by that address and
 * port) and serves that connection like any other, until the primary
 * closes it. A primary that is not waiting is no error: it finds the
 * secondary at its port. */
static void wait_port(struct secondary *s, uint16_t bound)
{
	const struct sec_config *c = s->c;
	struct upt_error err = {0};
	int fd = host_ipu_connect_from(c->primary, c->primary_port, bound, c->timeout_ms, &err);
	if (fd < 0) {
		sec_log("the primary's wait port: %s", err.msg);
		return;
	}
	sec_log("connected to the primary's wait port %s:%u", c->primary,
		(unsigned)c->primary_port);
	sec_serve(s, fd);
	close(fd);
}

int main(int argc, char **argv)
{
	static struct sec_config c = {
	    .port = UPT_IPU_DEFAULT_PORT, .timeout_ms = 30000, .max_message = SEC_MESSAGE_MAX};
	struct secondary s = {.c = &c};
	bool reboot = false;
	struct upt_error err = {0};
	char port_file[SEC_PATH] = "";
	uint16_t bound = 0;
	snprintf(c.listen, sizeof c.listen, "0.0.0.0");
	c.primary_port = 9040; /* aktualizr's secondaries_wait_port */
	snprintf(c.boot.bootloader, sizeof c.boot.bootloader, "sim");
	c.boot.boot_limit = 3;
	c.boot.health_timeout = 60;
	agent_log_name("uptake-secondary");
	int rc = parse_args(&c, port_file, sizeof port_file, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
	rc = host_mkdirs(c.state_dir, &err);
	if (rc == UPT_OK)
		rc = sec_provision_roots(&c, &err);
	if (rc == UPT_OK)
		rc = sec_key_load(&s, &err);
	/* a boot: the slot on trial proves itself, or the previous is back */
	if (rc == UPT_OK)
		rc = sec_boot(&s, &reboot, &err);
	if (rc != UPT_OK) {
		sec_log("%s: %s", upt_err_name(rc), err.msg);
		return 1;
	}
	if (reboot) {
		sec_log("reboot needed: the previous slot is to boot again");
		upt_privkey_free(s.key);
		return EXIT_REBOOT;
	}
	int lfd = host_ipu_listen_opt(c.listen, c.port, c.primary[0] != 0, &bound, &err);
	if (lfd < 0 || (port_file[0] && write_port(port_file, bound, &err) != UPT_OK)) {
		sec_log("%s", err.msg);
		return 1;
	}
	sec_log("ECU %s (%s) listening on %s:%u", c.serial, c.hardware_id, c.listen,
		(unsigned)bound);
	if (c.primary[0])
		wait_port(&s, bound);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			sec_log("accept: %s", strerror(errno));
			break;
		}
		sec_serve(&s, fd);
		close(fd);
		if (c.once || s.reboot)
			break;
	}
	close(lfd);
	sec_upload_reset(&s);
	upt_privkey_free(s.key);
	if (s.reboot) {
		/* U-Boot or GRUB is set to try the new slot: the ECU reboots */
		sec_log("reboot needed: the new slot is to be tried");
		return EXIT_REBOOT;
	}
	return 0;
}
