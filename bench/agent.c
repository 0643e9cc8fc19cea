/* bench/agent: one uptake-agent cycle that installs a 256 MiB image through
 * the A/B backend on files, from a real uptake-server on loopback (mutual
 * TLS): Uptane full verification, download with sha256+sha512 while
 * streaming, write to the inactive slot, read-back check, boot switch,
 * signed report. Baseline in the same run: `sha256sum` of the image plus a
 * plain `cp` of it; the fastest of three runs of each, interleaved. Also
 * the agent's peak RSS against curl fetching the same image over the same
 * mutual TLS, and the agent's binary size.
 *   bench_agent [MIB]   (default 256) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "bench-admin-token-0123456789"

#define RUNS 3

static char dir[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_agent: failed: %s\n", cmd);
		exit(1);
	}
}

/* Run a command, return wall seconds and the child's peak RSS in KiB. */
static double timed(char *const argv[], long *rss_kib, int *status)
{
	struct rusage ru;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	wait4(pid, status, 0, &ru);
	if (rss_kib)
		*rss_kib = ru.ru_maxrss;
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 256;
	char path[512], conf[600], img[600], copy[600], url[128];
	pid_t server;
	int port = 0, status = 0;
	long rss = 0, rss_curl = 0;
	double t_agent = 0, t_ref = 0, t_curl = 0;
	struct stat st;
	FILE *f;
	if (mib < 1 || mib > 4096)
		mib = 256;
	snprintf(dir, sizeof dir, "/tmp/uptake-bench-agent-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* the server */
	snprintf(conf, sizeof conf, "%s/server.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return 1;
	fprintf(f,
		"database = %s/db\ndata_dir = %s/data\nport = 0\nadmin_token = " TOKEN
		"\nlog_level = error\nmax_image_bytes = 8589934592\n",
		dir, dir);
	fclose(f);
	snprintf(path, sizeof path, "%s/port", dir);
	server = fork();
	if (server == 0) {
		execl(UPT_SERVER_BIN, "uptake-server", "--config", conf, "--port-file", path,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port; i++) {
		char line[32] = "";
		usleep(100000);
		if ((f = fopen(path, "r"))) {
			if (fgets(line, sizeof line, f))
				port = (int)strtol(line, NULL, 10);
			fclose(f);
		}
	}
	if (!port)
		return 1;
	snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
	/* the images (RUNS of them, each its own bytes), the workspace, the
	 * device */
	sh("echo " TOKEN " > %s/token", dir);
	sh("%s init --server %s --token-file %s/token --ca-file %s/data/tls/ca.pem --dir %s/ws "
	   ">/dev/null",
	   UPT_CLI_BIN, url, dir, dir, dir);
	for (int k = 1; k <= RUNS; k++) {
		sh("head -c 1048576 /dev/urandom > %s/block && for i in $(seq %ld); do cat "
		   "%s/block; done > %s/image-%d.bin",
		   dir, mib, dir, dir, k);
		sh("%s publish %s/image-%d.bin --dir %s/ws --name big --version %d --hardware-id "
		   "bench >/dev/null 2>&1",
		   UPT_CLI_BIN, dir, k, dir, k);
	}
	sh("%s device add dev --dir %s/ws --out %s/dev >/dev/null", UPT_CLI_BIN, dir, dir);
	snprintf(conf, sizeof conf, "%s/agent.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return 1;
	fprintf(f,
		"server = %s\nca = %s/data/tls/ca.pem\ncert = %s/dev.crt\nkey = %s/dev.key\n"
		"state_dir = %s/state\ndirector_root = %s/ws/metadata/director-root.json\n"
		"image_root = %s/ws/metadata/root.json\nprimary_serial = main\nhardware_id = "
		"bench\nslot_a = %s/a.img\nslot_b = %s/b.img\n",
		url, dir, dir, dir, dir, dir, dir, dir, dir);
	fclose(f);
	/* each run: an install of the next image (slots b, a, b), then the
	 * references on the same image; the fastest of each is kept */
	for (int k = 1; k <= RUNS; k++) {
		char *args[] = {UPT_AGENT_BIN, "--config", conf, "once", NULL};
		char tgt[64], ca[600], crt[600], key[600], got[600], turl[256];
		double t;
		long r = 0;
		/* the first cycle registers; later ones commit the last install */
		timed(args, NULL, &status);
		sh("%s assign big-%d --dir %s/ws --hardware-id bench --device dev >/dev/null",
		   UPT_CLI_BIN, k, dir);
		t = timed(args, &r, &status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 3) {
			fprintf(stderr, "bench_agent: the agent did not install (status %d)\n",
				status);
			return 1;
		}
		sh("cmp -s %s/image-%d.bin %s/%s.img", dir, k, dir, k % 2 ? "b" : "a");
		t_agent = k == 1 || t < t_agent ? t : t_agent;
		rss = r > rss ? r : rss;
		snprintf(img, sizeof img, "%s/image-%d.bin", dir, k);
		snprintf(copy, sizeof copy, "%s/copy.img", dir);
		{
			char *hash[] = {"/usr/bin/sha256sum", img, NULL};
			char *cp[] = {"/bin/cp", img, copy, NULL};
			sh("sync");
			t = timed(hash, NULL, &status) + timed(cp, NULL, &status);
			t_ref = k == 1 || t < t_ref ? t : t_ref;
		}
		/* curl fetching the same image over the same mutual TLS */
		snprintf(tgt, sizeof tgt, "big-%d", k);
		snprintf(turl, sizeof turl, "%s/repo/targets/%s", url, tgt);
		snprintf(ca, sizeof ca, "%s/data/tls/ca.pem", dir);
		snprintf(crt, sizeof crt, "%s/dev.crt", dir);
		snprintf(key, sizeof key, "%s/dev.key", dir);
		snprintf(got, sizeof got, "%s/curl.img", dir);
		{
			char *cu[] = {"/usr/bin/curl", "-sfo", got,  "--cacert", ca, "--cert", crt,
				      "--key",         key,    turl, NULL};
			r = 0;
			t = timed(cu, &r, &status);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "bench_agent: curl failed (status %d)\n", status);
				return 1;
			}
			sh("cmp -s %s %s", img, got);
			t_curl = k == 1 || t < t_curl ? t : t_curl;
			rss_curl = r > rss_curl ? r : rss_curl;
		}
	}
	stat(UPT_AGENT_BIN, &st);
	printf("uptake-agent: install of a %ld MiB image (A/B on files, loopback, mutual TLS), "
	       "fastest of %d runs\n",
	       mib, RUNS);
	printf("  agent cycle (verify, download with sha256, write, fsync, read-back with sha512, "
	       "switch, report): %.2f s, %.0f MiB/s\n",
	       t_agent, (double)mib / t_agent);
	printf("  baseline sha256sum + cp of the same file:  %.2f s, %.0f MiB/s\n", t_ref,
	       (double)mib / t_ref);
	printf("  ratio: agent time = %.2f x baseline\n", t_agent / t_ref);
	printf("  curl fetching the same image over the same mutual TLS: %.2f s\n", t_curl);
	printf("  peak RSS: agent %ld KiB, curl %ld KiB; ratio %.2f; agent binary size: %lld "
	       "KiB\n",
	       rss, rss_curl, rss_curl ? (double)rss / (double)rss_curl : 0,
	       (long long)st.st_size / 1024);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	sh("rm -rf '%s'", dir);
	return 0;
}
