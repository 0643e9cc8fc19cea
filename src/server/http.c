/* uptake-server: the HTTP front end (libmicrohttpd, epoll, a thread pool).
 * HTTP only: a request is matched to a row of the route table (routes.c),
 * its caller authenticated (admin token, device or fleet certificate), its
 * body's kind and size checked and the body collected, then the row's
 * handler runs and its answer is sent. Errors are JSON
 * {"error":{"code":"UPT_ERR_...","message":"..."}}: 404 for an unknown
 * path, 405 with Allow for a known path with another method, 401/403 for
 * callers, 413 for bodies over the row's limit (the connection is closed
 * once a body passes it), 415 for a wrong content type, 400 for a path
 * with a control character in it.
 *
 * Connections are bounded in number, per source address, and in time: a
 * connection must complete a request's headers (TLS handshake included)
 * within header_timeout of its start or of its previous answer, however
 * slowly it trickles bytes; when connections run short, the oldest of
 * those still without a complete request are closed first, so that
 * devices keep being served during a flood. */
#define _GNU_SOURCE
#include "http.h"

#include "cache.h"
#include "jsonout.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uptake/encode.h>

struct listener {
	struct srv_http *h;
	bool tls;
};

/* One open connection, from accept to close. since_ms and in_request are
 * written by the connection's own thread without the list lock (atomics)
 * and read by the reaper; the identity is the connection thread's alone. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int64_t since_ms; /* accept, or the end of its last request */
	bool in_request;  /* headers complete, not yet answered */
	bool cut;         /* shut down by the server */
	/* the client certificate this connection's TLS session verified
	 * (its DER, byte for byte) and its common name, until recheck_s */
	uint8_t *peer_der;
	size_t peer_len;
	int64_t recheck_s;
	char peer_cn[256];
};

struct srv_http {
	struct MHD_Daemon *d, *plain;
	const struct srv_ctx *ctx;
	struct listener tls_side, plain_side;
	pthread_mutex_t lock;    /* the connection list */
	struct conn head;        /* list sentinel */
	unsigned n_conns;        /* open and not cut */
	struct srv_cache *known; /* devices found in the store (never removed) */
	pthread_t reaper;
	bool reaper_started;
	volatile bool stopping;
	/* handlers of rows that wait for a group commit (srv_route.waits) run
	 * on these threads, their connections suspended meanwhile, so that
	 * libmicrohttpd's thread serves its other connections in the time */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cv;
	struct req *jobs, **jobs_tail; /* queued, first in first out */
	pthread_t *writers;
	unsigned n_writers;
	bool writers_stop; /* set: handlers run in libmicrohttpd's thread again */
	unsigned n_later;  /* connections suspended by srv_later(), not yet resumed */
	pthread_cond_t later_cv;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections ---------------------------------------------------------- */

/* Called with h->lock held. A cut connection no longer counts. */
static void cut(struct srv_http *h, struct conn *k, const char *why)
{
	if (k->cut)
		return;
	k->cut = true;
	h->n_conns--;
	/* the descriptor stays open until libmicrohttpd closes it, which it
	 * does only after on_connection(CLOSED) took it off this list */
	shutdown(k->fd, SHUT_RDWR);
	srv_log(SRV_LOG_DEBUG, "connection %d closed: %s", k->fd, why);
}

/* Under pressure, close the oldest connections without a request until
 * at most half the limit is in use. Called with h->lock held. */
static void shed(struct srv_http *h)
{
	unsigned limit = h->ctx->cfg->max_connections;
	if (h->n_conns * 4 < limit * 3)
		return;
	for (struct conn *k = h->head.next; k != &h->head && h->n_conns * 2 > limit; k = k->next)
		if (!__atomic_load_n(&k->in_request, __ATOMIC_RELAXED))
			cut(h, k, "shed under load");
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct srv_http *h = cls;
	struct conn *k = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(k = calloc(1, sizeof *k)))
			return;
		k->fd = ci->connect_fd;
		k->since_ms = now_ms();
		pthread_mutex_lock(&h->lock);
		k->next = &h->head;
		k->prev = h->head.prev;
		h->head.prev->next = k;
		h->head.prev = k;
		h->n_conns++;
		shed(h);
		pthread_mutex_unlock(&h->lock);
		*socket_context = k;
		return;
	}
	if (!k)
		return;
	pthread_mutex_lock(&h->lock);
	k->prev->next = k->next;
	k->next->prev = k->prev;
	if (!k->cut)
		h->n_conns--;
	pthread_mutex_unlock(&h->lock);
	free(k->peer_der);
	free(k);
	*socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Without the list lock: a request on one connection does not wait on
 * the others' (the reaper reads the two fields atomically). */
static void conn_mark(struct MHD_Connection *c, bool in_request)
{
	struct conn *k = conn_of(c);
	if (!k)
		return;
	__atomic_store_n(&k->since_ms, now_ms(), __ATOMIC_RELAXED);
	__atomic_store_n(&k->in_request, in_request, __ATOMIC_RELAXED);
}

/* Close connections that have not completed a request's headers in time. */
static void *reaper(void *arg)
{
	struct srv_http *h = arg;
	int64_t limit = (int64_t)h->ctx->cfg->header_timeout * 1000;
	while (!h->stopping) {
		int64_t now = now_ms();
		pthread_mutex_lock(&h->lock);
		for (struct conn *k = h->head.next; k != &h->head; k = k->next)
			if (!__atomic_load_n(&k->in_request, __ATOMIC_RELAXED) &&
			    now - __atomic_load_n(&k->since_ms, __ATOMIC_RELAXED) > limit)
				cut(h, k, "no complete request in time");
		pthread_mutex_unlock(&h->lock);
		usleep(200000);
	}
	return NULL;
}

/* ---- requests -------------------------------------------------------------- */

struct req {
	int64_t t0_ms;
	bool bad_uri;  /* a control character in the decoded path or query */
	bool started;  /* the headers have been seen */
	bool answered; /* a response is queued */
	const struct srv_route *rt;
	const char *param[SRV_MAX_PARAMS];
	char pathbuf[2048];
	char caller[256];
	bool admin;
	/* admin routes: who, with what role, through which session; audited */
	bool audit;
	char actor[64], role[24], session[65], csrf[72];
	/* a refusal answered once the body has been read (answering earlier
	 * makes TLS clients see a reset instead of the status) */
	unsigned defer_status;
	int defer_code;
	char defer_msg[160];
	char allow[64]; /* of a 405 */
	uint64_t limit, got;
	uint8_t *buf; /* JSON and text bodies */
	size_t cap;
	bool streaming; /* an upload into up.fd */
	struct srv_upload up;
	EVP_MD_CTX *h256, *h512;
	/* a handler run on a writer thread: its connection and request, and
	 * its answer, sent once libmicrohttpd calls again after the resume */
	struct req *next_job;
	struct MHD_Connection *conn;
	const char *method, *url;
	bool ran;
	struct srv_resp resp;
	/* suspended by its handler (srv_later), and what then gives the
	 * answer, once resumed */
	struct srv_http *h;
	bool later;
	srv_then_fn then;
	void *then_ctx;
};

static void req_free(struct req *q)
{
	if (!q)
		return;
	if (q->then) /* resumed, but the connection went: the work ends unanswered */
		q->then(q->then_ctx, NULL);
	if (q->ran)
		srv_resp_dispose(&q->resp); /* an answer never sent */
	free(q->buf);
	if (q->up.fd >= 0)
		close(q->up.fd);
	if (q->up.tmp[0])
		unlink(q->up.tmp); /* an aborted or refused upload */
	EVP_MD_CTX_free(q->h256);
	EVP_MD_CTX_free(q->h512);
	free(q);
}

static struct req *req_new(void)
{
	struct req *q = calloc(1, sizeof *q);
	if (q) {
		q->up.fd = -1;
		q->t0_ms = now_ms();
	}
	return q;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The request target as sent, before libmicrohttpd decodes it: a %00
 * would cut the decoded path short, so any control character, raw or
 * escaped, marks the request for a 400. Its return value becomes the
 * request's context. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *q = req_new();
	(void)cls;
	(void)c;
	if (!q)
		return NULL;
	for (const char *p = uri; *p; p++) {
		unsigned char b = (unsigned char)*p;
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0)
			b = (unsigned char)(hexval(p[1]) * 16 + hexval(p[2]));
		if (b < 0x20 || b == 0x7f)
			q->bad_uri = true;
	}
	return q;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv_http *h = cls;
	(void)toe;
	(void)h;
	req_free(*con_cls);
	*con_cls = NULL;
	conn_mark(c, false);
}

/* How long a connection may go on with a client certificate verified
 * once before it is verified again (and never past its expiry). */
#define PEER_RECHECK_S 60

/* The common name of the client certificate, when the TLS session has one
 * that verifies against the server's CA. The chain is verified once per
 * connection: later requests on it compare the session's certificate
 * byte for byte with the one verified, and verify again once a minute
 * and after the certificate's expiry. */
static bool client_cn(struct MHD_Connection *c, char *cn, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	struct conn *k = conn_of(c);
	gnutls_session_t s;
	gnutls_x509_crt_t crt;
	unsigned status = 1, n = 0;
	int64_t now = (int64_t)time(NULL);
	size_t sz = cap;
	bool ok = false;
	if (!ci || !ci->tls_session)
		return false;
	s = (gnutls_session_t)ci->tls_session;
	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || n == 0)
		return false;
	if (k && k->peer_der && now < k->recheck_s && certs[0].size == k->peer_len &&
	    memcmp(certs[0].data, k->peer_der, k->peer_len) == 0 && strlen(k->peer_cn) < cap) {
		memcpy(cn, k->peer_cn, strlen(k->peer_cn) + 1);
		return true;
	}
	if (k) { /* forget what was verified before */
		free(k->peer_der);
		k->peer_der = NULL;
		k->peer_len = 0;
	}
	if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0)
		return false;
	if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
		return false;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &sz) ==
		GNUTLS_E_SUCCESS &&
	    sz > 0 && sz < cap && memchr(cn, 0, sz) == NULL)
		ok = true;
	if (ok && k && sz < sizeof k->peer_cn && (k->peer_der = malloc(certs[0].size)) != NULL) {
		int64_t expires = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
		memcpy(k->peer_der, certs[0].data, certs[0].size);
		k->peer_len = certs[0].size;
		memcpy(k->peer_cn, cn, sz);
		k->peer_cn[sz] = 0;
		k->recheck_s = now + PEER_RECHECK_S;
		if (expires > 0 && expires < k->recheck_s)
			k->recheck_s = expires;
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

static bool admin_token_ok(const struct srv_http *h, struct MHD_Connection *c)
{
	const char *a =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = h->ctx->cfg->admin_token;
	size_t n = strlen(token);
	if (!a || strncmp(a, "Bearer ", 7) != 0 || n == 0 || strlen(a + 7) != n)
		return false;
	return upt_ct_equal((const uint8_t *)a + 7, (const uint8_t *)token, n);
}

static bool content_type_is(struct MHD_Connection *c, const char *want)
{
	const char *t =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(want);
	return t && strncmp(t, want, n) == 0 && (t[n] == 0 || t[n] == ';');
}

/* ---- responses --------------------------------------------------------------- */

static const char *caller_name(const struct req *q)
{
	return q->actor[0] ? q->actor : q->caller[0] ? q->caller : "-";
}

static void remote_addr(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, cap, "-");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
			  out, (socklen_t)cap);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
			  out, (socklen_t)cap);
}

static bool reads_only(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* The audit log: every admin request that changes state or is refused for
 * who made it, and every login. Reads that succeed are not kept. */
static void audit(struct srv_http *h, struct MHD_Connection *c, const char *method, const char *url,
		  const struct req *q, const struct srv_resp *r)
{
	struct srv_store *st = h->ctx->store;
	struct srv_audit a = {0};
	struct upt_error err = {0};
	if (!q->audit || (reads_only(method) && r->status != 401 && r->status != 403))
		return;
	a.at = (int64_t)time(NULL);
	snprintf(a.actor, sizeof a.actor, "%s",
		 q->actor[0]   ? q->actor
		 : r->actor[0] ? r->actor
			       : "-");
	snprintf(a.role, sizeof a.role, "%s", q->role[0] ? q->role : "-");
	remote_addr(c, a.remote, sizeof a.remote);
	snprintf(a.method, sizeof a.method, "%s", method);
	snprintf(a.path, sizeof a.path, "%s", url);
	a.status = r->status;
	snprintf(a.detail, sizeof a.detail, "%.191s", r->status >= 400 ? r->msg : "");
	if (st->ops->audit_add(st, &a, &err) != UPT_OK)
		srv_log(SRV_LOG_ERROR, "audit log: %s", err.msg);
}

static bool resp_has_header(const struct srv_resp *r, const char *name)
{
	for (unsigned i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->header[i].name, name) == 0)
			return true;
	return false;
}

/* ---- streamed bodies ------------------------------------------------------ */

struct body_stream {
	struct srv_stream s;
	struct srv_json buf; /* one chunk at a time */
	size_t off;
	bool end;
	char what[128]; /* "GET /api/v1/..." for the log */
};

/* libmicrohttpd asks for more: the next chunk, produced when the last is
 * sent. An error cuts the connection: the chunked answer lacks its end. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct body_stream *b = cls;
	size_t n;
	(void)pos;
	while (b->off == b->buf.len && !b->end) {
		struct upt_error err = {0};
		int rc;
		b->buf.len = 0;
		b->off = 0;
		rc = b->s.next(b->s.ctx, &b->buf, &err);
		if (rc < 0 || b->buf.rc != UPT_OK) {
			srv_log(SRV_LOG_ERROR, "%s: answer cut off: %s", b->what,
				rc < 0 ? err.msg : "out of memory");
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		b->end = rc == 0;
	}
	if (b->off == b->buf.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = b->buf.len - b->off < max ? b->buf.len - b->off : max;
	memcpy(out, b->buf.s + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct body_stream *b = cls;
	if (b->s.done)
		b->s.done(b->s.ctx);
	srv_json_dispose(&b->buf);
	free(b);
}

static struct MHD_Response *stream_response(struct srv_resp *r, const char *method, const char *url)
{
	struct body_stream *b = calloc(1, sizeof *b);
	struct MHD_Response *m;
	if (!b)
		return NULL;
	b->s = r->stream;
	snprintf(b->what, sizeof b->what, "%s %.100s", method, url);
	m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 << 10, stream_read, b,
					      stream_free);
	if (!m) {
		free(b);
		return NULL;
	}
	memset(&r->stream, 0, sizeof r->stream); /* the response owns it now */
	return m;
}

static enum MHD_Result send_resp(struct srv_http *h, struct MHD_Connection *c, const char *method,
				 const char *url, struct req *q, struct srv_resp *r)
{
	struct MHD_Response *m;
	enum MHD_Result ret;
	enum srv_log_level level = r->log_level;
	bool from_file = r->fd >= 0;
	if (r->stream.next) {
		m = stream_response(r, method, url);
	} else if (from_file) {
		m = MHD_create_response_from_fd_at_offset64(r->fd_len, r->fd, r->fd_off);
		if (m)
			r->fd = -1; /* libmicrohttpd closes it */
	} else if (r->body) {
		m = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
		if (m)
			r->body = NULL;
	} else { /* no body: no Content-Type either, unless the handler set one */
		m = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!m) {
		srv_resp_dispose(r);
		return MHD_NO;
	}
	if (r->type)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
	if (!from_file && !resp_has_header(r, MHD_HTTP_HEADER_CACHE_CONTROL))
		MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (unsigned i = 0; i < r->n_headers; i++)
		MHD_add_response_header(m, r->header[i].name, r->header[i].value);
	ret = MHD_queue_response(c, r->status, m);
	MHD_destroy_response(m);
	q->answered = true;
	audit(h, c, method, url, q, r);
	if ((int)level < 0)
		level = r->status >= 500                                            ? SRV_LOG_ERROR
			: r->status >= 400                                          ? SRV_LOG_WARN
			: strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? SRV_LOG_DEBUG
										    : SRV_LOG_INFO;
	if (r->status >= 400)
		srv_log(level, "%s %s -> %u %s (%lld ms, %s): %s", method, url, r->status,
			upt_err_name(r->code), (long long)(now_ms() - q->t0_ms), caller_name(q),
			r->msg);
	else
		srv_log(level, "%s %s -> %u (%lld ms, %s)", method, url, r->status,
			(long long)(now_ms() - q->t0_ms), caller_name(q));
	srv_resp_dispose(r);
	return ret;
}

static enum MHD_Result send_error(struct srv_http *h, struct MHD_Connection *c, const char *method,
				  const char *url, struct req *q, unsigned status, int code,
				  const char *msg, const char *allow)
{
	struct srv_resp r;
	srv_resp_init(&r);
	srv_resp_error(&r, status, code, msg);
	if (allow)
		srv_resp_header(&r, "Allow", allow);
	return send_resp(h, c, method, url, q, &r);
}

/* ---- deciding: route, caller, body ------------------------------------------ */

enum verdict { ACCEPT, REFUSE_NOW, REFUSE_AFTER_BODY };

struct refusal {
	unsigned status;
	int code;
	char msg[160];
	char allow[64];
};

static enum verdict refuse(struct refusal *f, unsigned status, int code, const char *msg)
{
	f->status = status;
	f->code = code;
	snprintf(f->msg, sizeof f->msg, "%s", msg);
	return REFUSE_NOW;
}

static bool hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

/* An admin route's caller: the admin token (bootstrap), a user's API
 * token, or a dashboard session whose CSRF token a state-changing request
 * repeats; then the role's permission for the row. */
static enum verdict authenticate_admin(struct srv_http *h, struct MHD_Connection *c,
				       const char *method, struct req *q, struct refusal *f)
{
	struct srv_store *st = h->ctx->store;
	struct upt_error err = {0};
	const char *a =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
	enum srv_perm p = q->rt->perm          ? q->rt->perm
			  : reads_only(method) ? SRV_PERM_READ
					       : SRV_PERM_OPERATE;
	char digest[65];
	int rc;
	q->audit = true;
	if (a) {
		struct srv_user u;
		if (admin_token_ok(h, c)) {
			snprintf(q->actor, sizeof q->actor, "admin-token");
			snprintf(q->role, sizeof q->role, "admin");
		} else if (strncmp(a, "Bearer upt_", 11) == 0 && hex64(a + 11)) {
			rc = srv_secret_digest(a + 7, digest, &err);
			if (rc == UPT_OK)
				rc = st->ops->token_user(st, digest, &u, &err);
			if (rc == UPT_ERR_NOT_FOUND)
				return refuse(f, 401, UPT_ERR_ARG, "API token unknown or revoked");
			if (rc != UPT_OK)
				return refuse(f, 503, UPT_ERR_IO, "the user store is unavailable");
			snprintf(q->actor, sizeof q->actor, "%s", u.name);
			snprintf(q->role, sizeof q->role, "%s", u.role);
		} else {
			return refuse(f, 401, UPT_ERR_ARG, "admin token missing or wrong");
		}
	} else if (cookie) {
		struct srv_session x;
		const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!hex64(cookie))
			return refuse(f, 401, UPT_ERR_ARG, "session missing or expired");
		rc = srv_secret_digest(cookie, digest, &err);
		if (rc == UPT_OK)
			rc = st->ops->session_get(st, digest, (int64_t)time(NULL), &x, &err);
		if (rc == UPT_ERR_NOT_FOUND)
			return refuse(f, 401, UPT_ERR_ARG, "session missing or expired");
		if (rc != UPT_OK)
			return refuse(f, 503, UPT_ERR_IO, "the user store is unavailable");
		snprintf(q->actor, sizeof q->actor, "%s", x.user);
		snprintf(q->role, sizeof q->role, "%s", x.role);
		snprintf(q->session, sizeof q->session, "%s", digest);
		snprintf(q->csrf, sizeof q->csrf, "%s", x.csrf);
		if (!reads_only(method) &&
		    (!t || strlen(t) != strlen(x.csrf) ||
		     !upt_ct_equal((const uint8_t *)t, (const uint8_t *)x.csrf, strlen(x.csrf))))
			return refuse(f, 403, UPT_ERR_ARG, "CSRF token missing or wrong");
	} else {
		return refuse(f, 401, UPT_ERR_ARG, "admin token missing or wrong");
	}
	if (!srv_role_may(q->role, p)) {
		refuse(f, 403, UPT_ERR_ARG, "");
		snprintf(f->msg, sizeof f->msg, "role %s may not do this (it needs %s)", q->role,
			 srv_perm_name(p));
		return REFUSE_NOW;
	}
	q->admin = true;
	return ACCEPT;
}

/* Who is calling, checked against what the row allows. */
static enum verdict authenticate(struct srv_http *h, struct MHD_Connection *c, const char *method,
				 struct req *q, struct refusal *f)
{
	struct srv_store *st = h->ctx->store;
	struct srv_device d;
	struct upt_error err = {0};
	int rc;
	switch (q->rt->caller) {
	case SRV_PUBLIC:
		return ACCEPT;
	case SRV_ADMIN:
		return authenticate_admin(h, c, method, q, f);
	case SRV_LOGIN:
		q->audit = true;
		return ACCEPT;
	case SRV_DEVICE:
	case SRV_FLEET:
		break;
	}
	if (!client_cn(c, q->caller, sizeof q->caller))
		return refuse(f, 401, UPT_ERR_ARG,
			      "a device certificate issued by this server is required");
	if (q->rt->caller == SRV_FLEET)
		return strncmp(q->caller, "fleet:", 6) == 0
			   ? ACCEPT
			   : refuse(f, 403, UPT_ERR_ARG, "provisioning needs a fleet credential");
	/* devices are never removed: once found, a device is known */
	if (srv_cache_has(h->known, q->caller, 0))
		return ACCEPT;
	rc = st->ops->device_get(st, q->caller, &d, &err);
	if (rc != UPT_OK && rc != UPT_ERR_NOT_FOUND)
		return refuse(f, 503, UPT_ERR_IO, "database unavailable");
	if (rc != UPT_OK)
		return refuse(f, 403, UPT_ERR_NOT_FOUND, "unknown device");
	srv_cache_put(h->known, q->caller, (const uint8_t *)"", 0, INT64_MAX, 0);
	return ACCEPT;
}

static bool has_body(struct MHD_Connection *c, uint64_t *length, bool *known)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	*known = false;
	*length = 0;
	if (cl) {
		char *end;
		errno = 0;
		*length = strtoull(cl, &end, 10);
		*known = errno == 0 && *end == 0 && end != cl;
		if (!*known)
			*length = UINT64_MAX;
		return *length != 0;
	}
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
	       NULL;
}

static enum verdict open_upload(struct srv_http *h, struct req *q, struct refusal *f)
{
	snprintf(q->up.tmp, sizeof q->up.tmp, "%s/images/.upload-XXXXXX", h->ctx->cfg->data_dir);
	q->up.fd = mkostemp(q->up.tmp, O_CLOEXEC);
	if (q->up.fd < 0)
		q->up.tmp[0] = 0;
	q->h256 = EVP_MD_CTX_new();
	q->h512 = EVP_MD_CTX_new();
	if (q->up.fd < 0 || !q->h256 || !q->h512 ||
	    EVP_DigestInit_ex(q->h256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(q->h512, EVP_sha512(), NULL) != 1)
		return refuse(f, 500, UPT_ERR_IO, "cannot take an upload");
	q->streaming = true;
	return ACCEPT;
}

/* The body this row takes: kind, content type, size. */
static enum verdict check_body(struct srv_http *h, struct MHD_Connection *c, struct req *q,
			       bool body, uint64_t length, bool known, struct refusal *f)
{
	const struct srv_route *rt = q->rt;
	q->limit = rt->body == SRV_BODY_NONE ? 0 : srv_route_limit(rt, h->ctx->cfg);
	if (known && length > q->limit)
		return refuse(f, 413, UPT_ERR_TOO_LARGE,
			      rt->body == SRV_BODY_NONE ? "this endpoint takes no body"
			      : rt->body == SRV_BODY_UPLOAD
				  ? "image too large"
				  : "body larger than the limit of this endpoint");
	if (rt->body == SRV_BODY_JSON && !content_type_is(c, "application/json")) {
		refuse(f, 415, UPT_ERR_ARG, "send application/json");
		return body ? REFUSE_AFTER_BODY : REFUSE_NOW;
	}
	if (rt->body == SRV_BODY_UPLOAD) {
		if (rt->valid_param && !rt->valid_param(q->param[0])) {
			refuse(f, 400, UPT_ERR_FIELD_VALUE, "bad image name");
			return body ? REFUSE_AFTER_BODY : REFUSE_NOW;
		}
		if (!content_type_is(c, "application/octet-stream")) {
			refuse(f, 415, UPT_ERR_ARG, "send application/octet-stream");
			return body ? REFUSE_AFTER_BODY : REFUSE_NOW;
		}
		return open_upload(h, q, f);
	}
	return ACCEPT;
}

static enum verdict decide(struct listener *l, struct MHD_Connection *c, const char *method,
			   const char *url, struct req *q, bool body, uint64_t length, bool known,
			   struct refusal *f)
{
	struct srv_http *h = l->h;
	enum verdict v;
	int rc;
	if (q->bad_uri)
		return refuse(f, 400, UPT_ERR_ARG, "a control character in the request path");
	rc = srv_route_match(method, url, q->pathbuf, sizeof q->pathbuf, &q->rt, q->param, f->allow,
			     sizeof f->allow);
	/* the plain listener serves the public Image repository only */
	if (!l->tls && (rc != UPT_OK || q->rt->caller != SRV_PUBLIC))
		return refuse(f, 404, UPT_ERR_NOT_FOUND, "only /repo/ is served without TLS");
	if (rc == UPT_ERR_NOT_FOUND)
		return refuse(f, 404, UPT_ERR_NOT_FOUND, "no such resource");
	if (rc != UPT_OK) {
		refuse(f, 405, UPT_ERR_ARG, "");
		snprintf(f->msg, sizeof f->msg, "%.16s is not allowed here; use %s", method,
			 f->allow);
		return REFUSE_NOW;
	}
	if ((v = authenticate(h, c, method, q, f)) != ACCEPT)
		return v;
	return check_body(h, c, q, body, length, known, f);
}

/* ---- bodies and handlers ------------------------------------------------------ */

/* A piece of a request body. MHD_NO closes the connection: a body that
 * passes its limit is not read on (no answer can be queued mid-body). */
static enum MHD_Result take_body(struct req *q, const char *method, const char *url,
				 const char *data, size_t n)
{
	if (q->got + n > q->limit || q->got + n < q->got) {
		srv_log(SRV_LOG_WARN, "%s %s -> 413 (%s): body over %llu bytes, connection closed",
			method, url, caller_name(q), (unsigned long long)q->limit);
		return MHD_NO;
	}
	q->got += n;
	if (q->defer_status)
		return MHD_YES; /* drained, bounded by the limit */
	if (q->streaming) {
		const uint8_t *p = (const uint8_t *)data;
		if (EVP_DigestUpdate(q->h256, p, n) != 1 || EVP_DigestUpdate(q->h512, p, n) != 1)
			return MHD_NO;
		while (n) {
			ssize_t w = write(q->up.fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return MHD_NO;
			p += w;
			n -= (size_t)w;
		}
		return MHD_YES;
	}
	if (q->got + 1 > q->cap) {
		size_t cap = q->cap ? q->cap : 16384;
		uint8_t *b;
		while (cap < q->got + 1)
			cap *= 2;
		if (!(b = realloc(q->buf, cap)))
			return MHD_NO;
		q->buf = b;
		q->cap = cap;
	}
	memcpy(q->buf + q->got - n, data, n);
	q->buf[q->got] = 0;
	return MHD_YES;
}

static const char *lookup_header(void *io, const char *name)
{
	return MHD_lookup_connection_value(io, MHD_HEADER_KIND, name);
}

static const char *lookup_query(void *io, const char *name)
{
	return MHD_lookup_connection_value(io, MHD_GET_ARGUMENT_KIND, name);
}

/* The row's handler; its answer in *r. */
static void handle(struct srv_http *h, struct MHD_Connection *c, const char *method,
		   const char *url, struct req *q, struct srv_resp *r)
{
	struct srv_req rq = {0};
	char remote[64];
	struct srv_store *st = h->ctx->store;
	uint64_t failures;
	srv_resp_init(r);
	rq.srv = h->ctx;
	rq.method = method;
	rq.path = url;
	rq.param[0] = q->param[0];
	rq.param[1] = q->param[1];
	rq.caller = q->caller[0] ? q->caller : NULL;
	rq.body = q->buf ? q->buf : (const uint8_t *)"";
	rq.body_len = q->buf ? q->got : 0;
	rq.now = (int64_t)time(NULL);
	rq.header = lookup_header;
	rq.query = lookup_query;
	rq.io = c;
	rq.info_kind = q->rt->arg;
	rq.actor = q->actor[0] ? q->actor : NULL;
	rq.role = q->role[0] ? q->role : NULL;
	rq.session = q->session[0] ? q->session : NULL;
	rq.csrf = q->csrf[0] ? q->csrf : NULL;
	remote_addr(c, remote, sizeof remote);
	rq.remote = remote;
	q->h = h;
	q->conn = c;
	rq.wait = q;
	if (q->streaming) {
		if (EVP_DigestFinal_ex(q->h256, q->up.sha256, NULL) != 1 ||
		    EVP_DigestFinal_ex(q->h512, q->up.sha512, NULL) != 1) {
			srv_resp_error(r, 500, UPT_ERR_CRYPTO, "hashing failed");
			return;
		}
		q->up.length = q->got;
		rq.upload = &q->up;
	}
	failures = st->ops->failures(st);
	q->rt->handler(&rq, r);
	if (q->later) /* its answer comes with the resume */
		return;
	if (st->ops->failures(st) != failures && r->status != 503) {
		/* a call of this request (or one running beside it) found the
		 * database away: what the handler made of that is not an answer */
		srv_resp_dispose(r);
		srv_resp_init(r);
		srv_resp_error(r, 503, UPT_ERR_IO, "database unavailable");
		srv_resp_header(r, "Retry-After", "5");
	}
	if (r->status == 0)
		srv_resp_error(r, 500, UPT_ERR_STATE, "the handler gave no answer");
}

/* A writer thread: runs queued handlers, each answer kept in its request
 * and its connection resumed (libmicrohttpd then calls on_request, which
 * sends it). Ends when told to, with the queue empty. */
static void *writer(void *arg)
{
	struct srv_http *h = arg;
	for (;;) {
		struct req *q;
		pthread_mutex_lock(&h->jobs_lock);
		while (!h->jobs && !h->writers_stop)
			pthread_cond_wait(&h->jobs_cv, &h->jobs_lock);
		if (!(q = h->jobs)) {
			pthread_mutex_unlock(&h->jobs_lock);
			return NULL;
		}
		if (!(h->jobs = q->next_job))
			h->jobs_tail = &h->jobs;
		pthread_mutex_unlock(&h->jobs_lock);
		handle(h, q->conn, q->method, q->url, q, &q->resp);
		q->ran = true;
		MHD_resume_connection(q->conn);
	}
}

/* Hand the request to a writer thread, its connection suspended; false
 * when the writers are stopping (the caller runs it itself). */
static bool queue_handler(struct srv_http *h, struct MHD_Connection *c, const char *method,
			  const char *url, struct req *q)
{
	bool queued = false;
	pthread_mutex_lock(&h->jobs_lock);
	if (!h->writers_stop && h->n_writers) {
		q->conn = c;
		q->method = method;
		q->url = url;
		q->next_job = NULL;
		MHD_suspend_connection(c);
		*h->jobs_tail = q;
		h->jobs_tail = &q->next_job;
		pthread_cond_signal(&h->jobs_cv);
		queued = true;
	}
	pthread_mutex_unlock(&h->jobs_lock);
	return queued;
}

static enum MHD_Result run_handler(struct srv_http *h, struct MHD_Connection *c, const char *method,
				   const char *url, struct req *q)
{
	struct srv_resp r;
	if (q->ran) { /* back from a writer thread, or resumed (srv_later) */
		q->ran = false;
		if (q->then) {
			srv_then_fn then = q->then;
			q->then = NULL;
			then(q->then_ctx, &q->resp);
			if (q->resp.status == 0)
				srv_resp_error(&q->resp, 500, UPT_ERR_STATE,
					       "the handler gave no answer");
		}
		return send_resp(h, c, method, url, q, &q->resp);
	}
	if (q->rt->waits && !h->ctx->store->ops->grouped_async &&
	    queue_handler(h, c, method, url, q))
		return MHD_YES;
	handle(h, c, method, url, q, &r);
	if (q->later) {
		q->later = false;
		srv_resp_dispose(&r);
		return MHD_YES;
	}
	return send_resp(h, c, method, url, q, &r);
}

struct srv_later *srv_later(const struct srv_req *rq)
{
	struct req *q = rq->wait;
	bool ok = false;
	if (!q)
		return NULL;
	pthread_mutex_lock(&q->h->jobs_lock);
	if (!q->h->writers_stop) { /* a stopping server waits for these alone */
		q->h->n_later++;
		MHD_suspend_connection(q->conn);
		q->later = ok = true;
	}
	pthread_mutex_unlock(&q->h->jobs_lock);
	return ok ? (struct srv_later *)q : NULL;
}

void srv_later_resume(struct srv_later *l, srv_then_fn then, void *ctx)
{
	struct req *q = (struct req *)l;
	struct srv_http *h = q->h; /* q is the connection's again once resumed */
	srv_resp_init(&q->resp);
	q->then = then;
	q->then_ctx = ctx;
	q->ran = true;
	MHD_resume_connection(q->conn);
	pthread_mutex_lock(&h->jobs_lock);
	if (--h->n_later == 0)
		pthread_cond_broadcast(&h->later_cv);
	pthread_mutex_unlock(&h->jobs_lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *size, void **con_cls)
{
	struct listener *l = cls;
	struct srv_http *h = l->h;
	struct req *q = *con_cls;
	(void)version;
	if (!q && !(q = *con_cls = req_new()))
		return MHD_NO;
	if (!q->started) {
		struct refusal f = {0};
		uint64_t length;
		bool known, body = has_body(c, &length, &known);
		enum verdict v;
		q->started = true;
		conn_mark(c, true);
		v = decide(l, c, method, url, q, body, length, known, &f);
		if (v == ACCEPT)
			return MHD_YES;
		q->defer_status = f.status;
		q->defer_code = f.code;
		snprintf(q->defer_msg, sizeof q->defer_msg, "%s", f.msg);
		snprintf(q->allow, sizeof q->allow, "%s", f.allow);
		/* Without a body, answer on the next call: a response queued
		 * before the request is complete closes the connection. With
		 * one, answer before the body, or drain it (bounded) first. */
		if (v == REFUSE_NOW && body)
			return send_error(h, c, method, url, q, f.status, f.code, f.msg,
					  f.status == 405 ? q->allow : NULL);
		if (q->limit > h->ctx->cfg->max_metadata_bytes || q->limit == 0)
			q->limit = h->ctx->cfg->max_metadata_bytes;
		return MHD_YES;
	}
	if (q->answered) { /* the rest of a refused body is not kept */
		*size = 0;
		return MHD_YES;
	}
	if (*size) {
		size_t n = *size;
		*size = 0;
		return take_body(q, method, url, upload, n);
	}
	if (q->defer_status)
		return send_error(h, c, method, url, q, q->defer_status, q->defer_code,
				  q->defer_msg, q->defer_status == 405 ? q->allow : NULL);
	return run_handler(h, c, method, url, q);
}

/* ---- daemons -------------------------------------------------------------------- */

static struct MHD_Daemon *start(struct srv_http *h, struct listener *l, int port, bool tls)
{
	const struct srv_config *cfg = h->ctx->cfg;
	struct sockaddr_in addr = {0};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, cfg->listen_address, &addr.sin_addr) != 1)
		return NULL;
	l->h = h;
	l->tls = tls;
#define COMMON_OPTIONS                                                                     \
	MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,            \
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,    \
	    on_connection, h, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,                      \
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, \
	    cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip
	if (!tls)
		return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, l,
					COMMON_OPTIONS, MHD_OPTION_END);
	return MHD_start_daemon(flags | MHD_USE_TLS, (uint16_t)port, NULL, NULL, on_request, l,
				COMMON_OPTIONS, MHD_OPTION_HTTPS_MEM_CERT,
				h->ctx->ca->server_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
				h->ctx->ca->server_key_pem, MHD_OPTION_HTTPS_MEM_TRUST,
				h->ctx->ca->ca_pem, MHD_OPTION_HTTPS_PRIORITIES,
				"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_END);
#undef COMMON_OPTIONS
}

/* What uploads cut short by a crash or kill left behind. */
static void remove_orphan_uploads(const struct srv_config *cfg)
{
	char dir[1100], path[1400];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;
	snprintf(dir, sizeof dir, "%s/images", cfg->data_dir);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".upload-", 8) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	if (n)
		srv_log(SRV_LOG_INFO, "removed %u unfinished upload%s", n, n == 1 ? "" : "s");
}

int srv_http_start(struct srv_http **out, const struct srv_ctx *ctx, struct upt_error *err)
{
	const struct srv_config *cfg = ctx->cfg;
	struct srv_http *h = calloc(1, sizeof *h);
	if (!h)
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	h->ctx = ctx;
	h->head.next = h->head.prev = &h->head;
	if (!(h->known = srv_cache_new(4u << 20, 0))) {
		free(h);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->jobs_lock, NULL);
	pthread_cond_init(&h->jobs_cv, NULL);
	pthread_cond_init(&h->later_cv, NULL);
	h->jobs_tail = &h->jobs;
	if (!(h->writers =
		  calloc(cfg->write_threads ? cfg->write_threads : 1, sizeof *h->writers))) {
		srv_http_stop(h);
		return upt_error_set(err, UPT_ERR_NOMEM, "out of memory");
	}
	/* none where the store commits groups on threads of its own */
	for (unsigned i = 0; !ctx->store->ops->grouped_async && i < cfg->write_threads;
	     i++, h->n_writers++)
		if (pthread_create(&h->writers[i], NULL, writer, h) != 0) {
			srv_http_stop(h);
			return upt_error_set(err, UPT_ERR_IO, "cannot start a thread");
		}
	remove_orphan_uploads(cfg);
	h->d = start(h, &h->tls_side, cfg->port, true);
	if (h->d && cfg->repo_http_port >= 0)
		h->plain = start(h, &h->plain_side, cfg->repo_http_port, false);
	if (!h->d || (cfg->repo_http_port >= 0 && !h->plain)) {
		srv_http_stop(h);
		return upt_error_set(err, UPT_ERR_IO, "cannot listen on %s (port %d, %d)",
				     cfg->listen_address, cfg->port, cfg->repo_http_port);
	}
	if (pthread_create(&h->reaper, NULL, reaper, h) != 0) {
		srv_http_stop(h);
		return upt_error_set(err, UPT_ERR_IO, "cannot start a thread");
	}
	h->reaper_started = true;
	*out = h;
	return UPT_OK;
}

static int port_of(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i =
	    d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	return i ? i->port : -1;
}

int srv_http_port(const struct srv_http *h)
{
	return port_of(h->d);
}

int srv_http_repo_port(const struct srv_http *h)
{
	return port_of(h->plain);
}

void srv_http_stop(struct srv_http *h)
{
	if (!h)
		return;
	h->stopping = true;
	if (h->reaper_started)
		pthread_join(h->reaper, NULL);
	/* the writers finish what is queued and resume its connections;
	 * from now on such handlers run where they arrive, so that no
	 * connection is left suspended when the daemons stop */
	pthread_mutex_lock(&h->jobs_lock);
	h->writers_stop = true;
	pthread_cond_broadcast(&h->jobs_cv);
	pthread_mutex_unlock(&h->jobs_lock);
	for (unsigned i = 0; i < h->n_writers; i++)
		pthread_join(h->writers[i], NULL);
	free(h->writers);
	/* and the store's committers resume what waits for them */
	pthread_mutex_lock(&h->jobs_lock);
	while (h->n_later)
		pthread_cond_wait(&h->later_cv, &h->jobs_lock);
	pthread_mutex_unlock(&h->jobs_lock);
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->plain)
		MHD_stop_daemon(h->plain);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->jobs_lock);
	pthread_cond_destroy(&h->jobs_cv);
	pthread_cond_destroy(&h->later_cv);
	srv_cache_free(h->known);
	free(h);
}
