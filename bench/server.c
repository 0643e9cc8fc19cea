/* bench/server: device check-ins per second against a real uptake-server
 * on loopback, over mutual TLS, with simulated devices that have real
 * keys:
 *   (a) unchanged metadata polls: GET /director/timestamp.json
 *   (b) signed manifest uploads, 3 ECU reports each (4 signatures to
 *       verify per upload, counters checked, inventory written)
 * Connections are kept alive (one per device). The references, measured
 * in the same run with the same client:
 *   (a) nginx (Debian's nginx-light, when /usr/sbin/nginx is there)
 *       serving the same timestamp.json bytes over the same mutual TLS:
 *       the same server certificate and key, `ssl_verify_client on`
 *       against the same device CA, as many worker processes as cores, and again
 *       with as many as the server has threads (eight per core);
 *   (b) the raw Ed25519 verify rate of the same OpenSSL, measured right
 *       before and right after the manifests (their mean): (b) is printed as
 *       a fraction of cores x verify_rate / 4, the most a server could do
 *       if it did nothing but verify signatures.
 *   bench_server [DEVICES] [SECONDS] [THREADS] [SENDING] [manifests]
 *   (defaults 16, 3, the server's own default of eight threads per core,
 *   and 16: how many devices send their manifests at once, each on its
 *   own connection and thread, at most DEVICES; "manifests" runs the
 *   manifest phase and its verify reference alone) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uptake/alloc.h>
#include <uptake/crypto_openssl.h>
#include <uptake/json.h>

#include "cpu.h"

#define THREADS   4   /* client threads for polls, as for nginx */
#define M_THREADS 256 /* for manifests, at most: devices send them at once */
#define ECUS      3
#define MANIFESTS 400 /* pre-signed per device: more than a phase sends */
#define TOKEN     "bench-admin-token-0123456789"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct device {
	char id[32], cert[512], key[512];
	struct upt_privkey *ecu[ECUS];
	char keyid[ECUS][UPT_KEYID_MAX + 1];
	char *manifests[MANIFESTS];
	CURL *c;
	/* the manifest phase's own connection (see tls_put) */
	SSL *ssl;
	int fd;
};

static char dir[256], ca[320], base[128];
static int server_port;
static int n_dev = 16;
static int m_threads = 16; /* devices sending manifests at once */
static double seconds = 3;
static struct device *devs;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	struct {
		char *b;
		size_t len;
	} *o = u;
	char *nb = realloc(o->b, o->len + s * n + 1);
	if (!nb)
		return 0;
	memcpy(nb + o->len, p, s * n);
	o->b = nb;
	o->len += s * n;
	o->b[o->len] = 0;
	return s * n;
}

/* One request; returns the HTTP status, the body in *out (malloc'd). */
static long http(CURL *c, const char *method, const char *path, const char *body, bool admin,
		 char **out)
{
	struct {
		char *b;
		size_t len;
	} o = {NULL, 0};
	struct curl_slist *h = NULL;
	char url[512];
	long status = 0;
	snprintf(url, sizeof url, "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &o);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (admin)
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	if (out)
		*out = o.b;
	else
		free(o.b);
	return status;
}

/* The manifest phase's client: one TLS connection per device, kept
 * alive, and per manifest one write of the whole request and the reads
 * of its answer. curl's easy interface costs this machine about twice
 * the CPU per request (its option and header handling, the answer's
 * callbacks, about 20 system calls), CPU that the server on the same
 * two cores then lacks; a fleet's devices do not share the server's
 * cores. The TLS is the same: TLS 1.3, the server's certificate checked
 * against the CA and 127.0.0.1, the device's certificate sent. */
static SSL_CTX *m_ctx;

static void tls_close(struct device *d)
{
	if (d->ssl)
		SSL_free(d->ssl);
	if (d->fd >= 0)
		close(d->fd);
	d->ssl = NULL;
	d->fd = -1;
}

static int tls_open(struct device *d)
{
	struct sockaddr_in a = {0};
	int one = 1;
	struct timeval limit = {10, 0}; /* a server that stops answering fails the call */
	if (!m_ctx) {
		if (!(m_ctx = SSL_CTX_new(TLS_client_method())) ||
		    SSL_CTX_load_verify_locations(m_ctx, ca, NULL) != 1)
			return -1;
		SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(m_ctx, TLS1_2_VERSION);
	}
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)server_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((d->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
	    connect(d->fd, (struct sockaddr *)&a, sizeof a) != 0 || !(d->ssl = SSL_new(m_ctx)) ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(d->ssl), "127.0.0.1") != 1 ||
	    SSL_use_certificate_chain_file(d->ssl, d->cert) != 1 ||
	    SSL_use_PrivateKey_file(d->ssl, d->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_set_fd(d->ssl, d->fd) != 1 || SSL_connect(d->ssl) != 1) {
		tls_close(d);
		return -1;
	}
	return 0;
}

/* PUT path with a JSON body on the device's connection (opened when it
 * is not); returns the HTTP status, 0 when the exchange failed (the
 * connection is then closed, and opened again by the next call). */
static long tls_put(struct device *d, const char *path, const char *body)
{
	char req[32768], resp[4096];
	size_t blen = strlen(body), got = 0, head = 0, want = 0;
	long status = 0;
	int n = snprintf(req, sizeof req,
			 "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: */*\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 path, server_port, blen);
	if (n < 0 || (size_t)n + blen > sizeof req || (!d->ssl && tls_open(d) != 0))
		return 0;
	memcpy(req + n, body, blen);
	if (SSL_write(d->ssl, req, (int)((size_t)n + blen)) != (int)((size_t)n + blen))
		goto fail;
	/* the status line and headers, then Content-Length bytes of body */
	while (!head || got < head + want) {
		char *end, *cl;
		int r;
		if (got == sizeof resp - 1)
			goto fail;
		if ((r = SSL_read(d->ssl, resp + got, (int)(sizeof resp - 1 - got))) <= 0)
			goto fail;
		got += (size_t)r;
		resp[got] = 0;
		if (head || !(end = strstr(resp, "\r\n\r\n")))
			continue;
		head = (size_t)(end - resp) + 4;
		if (strncmp(resp, "HTTP/1.1 ", 9) != 0)
			goto fail;
		status = strtol(resp + 9, NULL, 10);
		if ((cl = strcasestr(resp, "\r\ncontent-length:")) && cl < end)
			want = (size_t)strtoul(cl + 17, NULL, 10);
		else
			goto fail; /* every answer of this route has a length */
		if (head + want > sizeof resp - 1)
			goto fail;
	}
	if (got != head + want) /* nothing was asked for beyond this answer */
		goto fail;
	return status;
fail:
	tls_close(d);
	return 0;
}

static char *json_string(const char *json, const char *key)
{
	unsigned char *mem = malloc(1 << 20);
	struct upt_arena a;
	struct upt_json *v;
	struct upt_error err;
	const struct upt_json *f;
	char *out = NULL;
	upt_arena_init(&a, mem, 1 << 20);
	if (upt_json_parse(&v, &a, (const uint8_t *)json, strlen(json), NULL, &err) == UPT_OK &&
	    (f = upt_json_get(v, key)) && f->type == UPT_JSON_STRING)
		out = strndup(f->str, f->len);
	free(mem);
	return out;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		exit(1);
}

static char *sign(const char *text, struct upt_privkey *key)
{
	char *doc = NULL;
	size_t len = 0;
	struct upt_error err;
	if (upt_privkey_sign_document(&doc, &len, text, &key, 1, UPT_DIALECT_TUF, &err) != UPT_OK)
		exit(1);
	return doc;
}

static void setup_device(struct device *d, int i, CURL *admin)
{
	struct upt_error err;
	char body[8192], path[512], *resp = NULL, *v;
	size_t o = 0;
	snprintf(d->id, sizeof d->id, "bench-%03d", i);
	d->fd = -1;
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", d->id);
	if (http(admin, "POST", "/api/v1/devices", body, true, &resp) != 200)
		exit(1);
	snprintf(d->cert, sizeof d->cert, "%s/%s.crt", dir, d->id);
	snprintf(d->key, sizeof d->key, "%s/%s.key", dir, d->id);
	write_text(d->cert, v = json_string(resp, "certificate"));
	free(v);
	write_text(d->key, v = json_string(resp, "key"));
	free(v);
	free(resp);
	d->c = curl_easy_init();
	curl_easy_setopt(d->c, CURLOPT_SSLCERT, d->cert);
	curl_easy_setopt(d->c, CURLOPT_SSLKEY, d->key);
	o += (size_t)snprintf(body, sizeof body, "{\"primary_ecu_serial\":\"%s-0\",\"ecus\":[",
			      d->id);
	for (int e = 0; e < ECUS; e++) {
		char *pub;
		size_t pl;
		if (upt_privkey_generate(&d->ecu[e], UPT_KEY_ED25519, &err) != UPT_OK ||
		    upt_privkey_keyid(d->keyid[e], d->ecu[e], UPT_DIALECT_TUF, &err) != UPT_OK ||
		    upt_privkey_public_json(&pub, &pl, d->ecu[e], UPT_DIALECT_TUF, &err) != UPT_OK)
			exit(1);
		o += (size_t)snprintf(
		    body + o, sizeof body - o,
		    "%s{\"ecu_serial\":\"%s-%d\",\"hardware_identifier\":\"hw-%d\","
		    "\"clientKey\":%s}",
		    e ? "," : "", d->id, e, e, pub);
		upt_free(pub);
	}
	snprintf(body + o, sizeof body - o, "]}");
	if (http(d->c, "POST", "/director/ecus", body, false, NULL) != 200)
		exit(1);
	/* manifests with increasing counters, signed ahead of the clock; the
	 * installed images stay the same, as in most check-ins (the first
	 * manifest raises each ECU's unknown-software alert, once) */
	for (int m = 0; m < MANIFESTS; m++) {
		char text[16384];
		size_t t = 0;
		t += (size_t)snprintf(
		    text, sizeof text,
		    "{\"primary_ecu_serial\":\"%s-0\",\"ecu_version_manifests\":{", d->id);
		for (int e = 0; e < ECUS; e++) {
			char report[1024], *sr;
			snprintf(report, sizeof report,
				 "{\"ecu_serial\":\"%s-%d\",\"installed_image\":{\"fileinfo\":{"
				 "\"hashes\":"
				 "{\"sha256\":\"%064d\"},\"length\":1},\"filepath\":\"image-%d\"},"
				 "\"report_counter\":%d}",
				 d->id, e, e, e, m + 1);
			sr = sign(report, d->ecu[e]);
			t += (size_t)snprintf(text + t, sizeof text - t, "%s\"%s-%d\":%s",
					      e ? "," : "", d->id, e, sr);
			free(sr);
		}
		snprintf(text + t, sizeof text - t, "}}");
		d->manifests[m] = sign(text, d->ecu[0]);
	}
	(void)path;
}

struct job {
	int first, step;
	int kind; /* 0 polls, 1 manifests */
	long done, failed;
};

static void *run(void *p)
{
	struct job *j = p;
	double end = now_s() + seconds;
	int next[1024] = {0};
	while (now_s() < end) {
		for (int i = j->first; i < n_dev && now_s() < end; i += j->step) {
			long st;
			if (j->kind == 0) {
				st = http(devs[i].c, "GET", "/director/timestamp.json", NULL, false,
					  NULL);
			} else {
				if (next[i] == MANIFESTS)
					continue;
				st = tls_put(&devs[i], "/director/manifest",
					     devs[i].manifests[next[i]++]);
			}
			if (st == 200)
				j->done++;
			else
				j->failed++;
		}
		if (j->kind == 1) {
			bool left = false;
			for (int i = j->first; i < n_dev; i += j->step)
				left |= next[i] < MANIFESTS;
			if (!left)
				break;
		}
	}
	return NULL;
}

static double phase(int kind, long *failed)
{
	pthread_t t[M_THREADS];
	struct job jobs[M_THREADS];
	int threads = kind == 0 ? THREADS : m_threads < n_dev ? m_threads : n_dev;
	double t0 = now_s(), elapsed;
	long done = 0;
	*failed = 0;
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){i, threads, kind, 0, 0};
		pthread_create(&t[i], NULL, run, &jobs[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		done += jobs[i].done;
		*failed += jobs[i].failed;
	}
	elapsed = now_s() - t0;
	return (double)done / elapsed;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Verifies per second of wall time on one thread; *per_cpu_s: per second
 * of that thread's CPU time (what a core gives when the machine is not
 * shared). */
static double verify_rate(double *per_cpu_s)
{
	double c0;
	const struct upt_crypto *c = upt_openssl_crypto();
	struct upt_privkey *k;
	struct upt_error err;
	uint8_t msg[600], sig[UPT_SIG_MAX], pub[64];
	size_t sl = 0;
	char *pj;
	size_t pjl;
	long n = 0;
	double t0;
	memset(msg, 'm', sizeof msg);
	if (upt_privkey_generate(&k, UPT_KEY_ED25519, &err) != UPT_OK ||
	    upt_privkey_sign(k, msg, sizeof msg, sig, sizeof sig, &sl) != UPT_OK ||
	    upt_privkey_public_json(&pj, &pjl, k, UPT_DIALECT_TUF, &err) != UPT_OK)
		exit(1);
	{
		/* the raw public key, from the hex in the key object */
		const char *h = strstr(pj, "\"public\":\"") + 10;
		for (int i = 0; i < 32; i++) {
			unsigned v;
			char b[3] = {h[2 * i], h[2 * i + 1], 0};
			v = (unsigned)strtoul(b, NULL, 16);
			pub[i] = (uint8_t)v;
		}
	}
	t0 = now_s();
	c0 = thread_cpu_s();
	while (now_s() - t0 < 1.0) {
		for (int i = 0; i < 200; i++)
			if (c->verify(c->ctx, UPT_SCHEME_ED25519, pub, 32, msg, sizeof msg, sig,
				      sl) != UPT_OK)
				exit(1);
		n += 200;
	}
	*per_cpu_s = (double)n / (thread_cpu_s() - c0);
	upt_free(pj);
	upt_privkey_free(k);
	return (double)n / (now_s() - t0);
}

/* The whole machine's CPU time so far, in cores x seconds: busy (user,
 * nice, system, irq, softirq), idle, waiting for I/O, and stolen by the
 * hypervisor (runnable, but another guest ran): on a virtual machine a
 * server that sleeps and wakes for every commit loses CPU that a loop
 * of verifies does not, and the figures say so. */
struct machine {
	double busy, idle, iowait, steal;
};

static struct machine machine_cpu(void)
{
	struct machine m = {0};
	unsigned long long v[8] = {0};
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return m;
	if (fgets(line, sizeof line, f) && strncmp(line, "cpu ", 4) == 0) {
		/* user nice system idle iowait irq softirq steal */
		char *p = line + 4, *end;
		int n = 0;
		for (; n < 8; n++, p = end) {
			v[n] = strtoull(p, &end, 10);
			if (end == p)
				break;
		}
		if (n < 8)
			memset(v, 0, sizeof v);
	}
	{
		double hz = (double)sysconf(_SC_CLK_TCK);
		m.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
		m.idle = (double)v[3] / hz;
		m.iowait = (double)v[4] / hz;
		m.steal = (double)v[7] / hz;
	}
	fclose(f);
	return m;
}

static void machine_print(const char *what, struct machine a, struct machine b, double span)
{
	if (span <= 0 || b.busy + b.idle + b.iowait + b.steal <= 0)
		return;
	printf("  the machine during %s, cores: busy %.2f, idle %.2f, I/O wait %.2f, stolen "
	       "by the hypervisor %.2f\n",
	       what, (b.busy - a.busy) / span, (b.idle - a.idle) / span,
	       (b.iowait - a.iowait) / span, (b.steal - a.steal) / span);
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* nginx serving `body` as /director/timestamp.json with the server's TLS
 * certificate and ssl_verify_client on; its pid, or 0 when there is none. */
static pid_t start_nginx(const char *body, long cores, char *url, size_t cap)
{
	char path[512], conf[4096];
	int port = free_port();
	pid_t pid;
	if (access("/usr/sbin/nginx", X_OK) != 0 || !port)
		return 0;
	snprintf(path, sizeof path, "%s/www", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/www/director", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/www/director/timestamp.json", dir);
	write_text(path, body);
	snprintf(conf, sizeof conf,
		 "worker_processes %ld;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/nginx.err;\n"
		 "events { worker_connections 4096; }\n"
		 "http {\n  access_log off;\n  default_type application/json;\n"
		 "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
		 "  uwsgi_temp_path %s; scgi_temp_path %s;\n  keepalive_requests 1000000;\n"
		 "  server {\n    listen 127.0.0.1:%d ssl;\n"
		 "    ssl_certificate %s/data/tls/server.pem;\n"
		 "    ssl_certificate_key %s/data/tls/server.key;\n"
		 "    ssl_client_certificate %s;\n    ssl_verify_client on;\n"
		 "    root %s/www;\n  }\n}\n",
		 cores, dir, dir, dir, dir, dir, dir, dir, port, dir, dir, ca, dir);
	snprintf(path, sizeof path, "%s/nginx.conf", dir);
	write_text(path, conf);
	pid = fork();
	if (pid == 0) {
		execl("/usr/sbin/nginx", "nginx", "-p", dir, "-e", "/dev/null", "-c", path,
		      (char *)NULL);
		_exit(127);
	}
	snprintf(url, cap, "https://127.0.0.1:%d", port);
	for (int i = 0; i < 100; i++) { /* until it answers */
		char *out = NULL;
		char saved[128];
		snprintf(saved, sizeof saved, "%s", base);
		snprintf(base, sizeof base, "%s", url);
		long st = http(devs[0].c, "GET", "/director/timestamp.json", NULL, false, &out);
		snprintf(base, sizeof base, "%s", saved);
		free(out);
		if (st == 200)
			return pid;
		usleep(50000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	char conf[512], portf[512], cmd[1024], text[1024];
	CURL *admin;
	pid_t pid;
	long f1 = 0, f2, f3 = 0, cores = sysconf(_SC_NPROCESSORS_ONLN), threads;
	struct machine mv0, mv1, mm0, mm1;
	double tv0, tv1, tm = 0;
	double polls, manifests, vr, vr_before, vr_after, vr_cpu = 0, ref_polls = 0,
							  ref_polls_t = 0, m_cpu = 0, c_cpu = 0;
	pid_t nginx = 0;
	bool only_manifests;
	FILE *f;
	int port = 0;
	if (argc > 1)
		n_dev = (int)strtol(argv[1], NULL, 10);
	if (n_dev < 1 || n_dev > 1024)
		n_dev = 16;
	if (argc > 2)
		seconds = atof(argv[2]) > 0 ? atof(argv[2]) : 3;
	/* the server's threads: as given, else its default (eight per core,
	 * src/server/config.c) */
	threads = argc > 3 && strtol(argv[3], NULL, 10) > 0 ? strtol(argv[3], NULL, 10) : 8 * cores;
	if (argc > 4)
		m_threads = (int)strtol(argv[4], NULL, 10);
	if (m_threads < 1 || m_threads > M_THREADS)
		m_threads = 16;
	/* "manifests": the manifest phase alone (for back-to-back comparisons) */
	only_manifests = argc > 5 && strcmp(argv[5], "manifests") == 0;
	snprintf(dir, sizeof dir, "%s/uptake-bench-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof conf, "%s/server.conf", dir);
	snprintf(portf, sizeof portf, "%s/port", dir);
	snprintf(text, sizeof text,
		 "database = %s/db\ndata_dir = %s/data\nport = 0\nadmin_token = " TOKEN
		 "\nlog_level = error\nthreads = %ld\n"
		 /* every device keeps its two connections (curl's, and the
		  * manifests' own), all from loopback */
		 "max_connections_per_ip = %d\n",
		 dir, dir, threads, 2 * n_dev + 8 > 64 ? 2 * n_dev + 8 : 64);
	write_text(conf, text);
	pid = fork();
	if (pid == 0) {
		execl(UPT_SERVER_BIN, "uptake-server", "--config", conf, "--port-file", portf,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port; i++) {
		usleep(100000);
		if ((f = fopen(portf, "r"))) {
			char line[32] = "";
			if (fgets(line, sizeof line, f))
				port = (int)strtol(line, NULL, 10);
			fclose(f);
		}
	}
	if (!port) {
		fprintf(stderr, "bench_server: the server did not start\n");
		return 1;
	}
	snprintf(base, sizeof base, "https://127.0.0.1:%d", port);
	server_port = port;
	snprintf(ca, sizeof ca, "%s/data/tls/ca.pem", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	admin = curl_easy_init();
	devs = calloc((size_t)n_dev, sizeof *devs);
	for (int i = 0; i < n_dev; i++)
		setup_device(&devs[i], i, admin);

	polls = only_manifests ? 0 : phase(0, &f1);
	if (!only_manifests) {
		char *ts = NULL, url[128];
		/* as many workers as cores, then as many as the server has
		 * threads (on a shared machine, runnable threads get CPU in
		 * proportion to their number) */
		for (int w = 0; w < 2; w++)
			if (http(devs[0].c, "GET", "/director/timestamp.json", NULL, false, &ts) ==
				200 &&
			    (nginx = start_nginx(ts, w ? threads : cores, url, sizeof url)) > 0) {
				char saved[128];
				snprintf(saved, sizeof saved, "%s", base);
				snprintf(base, sizeof base, "%s", url);
				*(w ? &ref_polls_t : &ref_polls) = phase(0, &f3);
				snprintf(base, sizeof base, "%s", saved);
				kill(nginx, SIGTERM);
				waitpid(nginx, NULL, 0);
				free(ts);
				ts = NULL;
			}
		free(ts);
	}
	/* the manifests' connections, each with its handshake done */
	for (int i = 0; i < n_dev; i++)
		if (tls_open(&devs[i]) != 0) {
			fprintf(stderr, "bench_server: no TLS connection to the server\n");
			ERR_print_errors_fp(stderr);
			return 1;
		}
	{
		/* the verify rate right before and right after the manifests, so
		 * that both see the machine as the manifests did (its speed
		 * drifts on a shared host); their mean is the reference */
		double c0, b0, t0, count, cpu_before, cpu_after;
		mv0 = machine_cpu();
		tv0 = now_s();
		vr_before = verify_rate(&cpu_before);
		mv1 = machine_cpu();
		tv1 = now_s();
		c0 = bench_cpu_s(pid);
		b0 = bench_cpu_s(getpid());
		t0 = now_s();
		mm0 = machine_cpu();
		/* progress on stderr, e.g. for a profiler to attach to this phase */
		fprintf(stderr, "bench_server: manifest phase (%.0f s)\n", seconds);
		manifests = phase(1, &f2);
		mm1 = machine_cpu();
		tm = now_s() - t0;
		count = manifests * tm;
		m_cpu = count > 0 ? (bench_cpu_s(pid) - c0) / count : 0;
		c_cpu = count > 0 ? (bench_cpu_s(getpid()) - b0) / count : 0;
		vr_after = verify_rate(&cpu_after);
		vr = (vr_before + vr_after) / 2;
		vr_cpu = (cpu_before + cpu_after) / 2;
	}
	printf("uptake-server on loopback, mutual TLS, %d devices, %d client threads (%d for "
	       "manifests), %d ECUs per manifest\n",
	       n_dev, THREADS, m_threads < n_dev ? m_threads : n_dev, ECUS);
	if (!only_manifests)
		printf("  (a) metadata polls (timestamp.json):   %8.0f /s%s\n", polls,
		       f1 ? "  (some failed)" : "");
	printf("  (b) signed manifest uploads:            %8.0f /s%s\n", manifests,
	       f2 ? "  (some failed)" : "");
	if (ref_polls > 0) {
		printf("  reference: nginx, same bytes and TLS:  %8.0f /s%s\n", ref_polls,
		       f3 ? "  (some failed)" : "");
		printf("  ratio: polls = %.2f x nginx\n", polls / ref_polls);
		if (ref_polls_t > 0)
			printf("  nginx with %ld workers (the server's threads): %8.0f /s; ratio "
			       "%.2f x\n",
			       threads, ref_polls_t, polls / ref_polls_t);
	} else if (!only_manifests) {
		printf("  reference: nginx not found (/usr/sbin/nginx, Debian's nginx-light)\n");
	}
	printf("  raw Ed25519 verify, one core (baseline): %8.0f /s (%.0f before the manifests, "
	       "%.0f after)\n",
	       vr, vr_before, vr_after);
	printf("  CPU per manifest: server %.2f ms, this client %.2f ms; %d raw verifies: %.2f "
	       "ms of CPU (%.0f /s per CPU second)\n",
	       m_cpu * 1e3, c_cpu * 1e3, ECUS + 1, (ECUS + 1) * 1e3 / vr_cpu, vr_cpu);
	printf("  cores busy during the manifests: server %.2f, this client %.2f, of %ld\n",
	       m_cpu * manifests, c_cpu * manifests, cores);
	machine_print("the manifests", mm0, mm1, tm);
	machine_print("the verifies before them (one thread)", mv0, mv1, tv1 - tv0);
	if (m_cpu > 0)
		printf("  ratio: server CPU spent verifying = %.2f of its CPU per manifest\n",
		       (ECUS + 1) / vr_cpu / m_cpu);
	printf("  ratio: manifests/s = %.2f x (verify rate / %d signatures per manifest)\n",
	       manifests / (vr / (ECUS + 1)), ECUS + 1);
	printf("  ratio: manifests/s = %.2f x (%ld cores x verify rate / %d signatures)\n",
	       manifests / ((double)cores * vr / (ECUS + 1)), cores, ECUS + 1);
	for (int i = 0; i < n_dev; i++) {
		curl_easy_cleanup(devs[i].c);
		tls_close(&devs[i]);
		for (int e = 0; e < ECUS; e++)
			upt_privkey_free(devs[i].ecu[e]);
		for (int m = 0; m < MANIFESTS; m++)
			free(devs[i].manifests[m]);
	}
	free(devs);
	curl_easy_cleanup(admin);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return f1 || f2 ? 1 : 0;
}
