/* uptake host layer: the IP-Uptane link over TCP (see ipu_link.h). */
#define _GNU_SOURCE
#include "ipu_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline, struct upt_error *err)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: timed out");
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return UPT_OK;
		if (n < 0 && errno != EINTR)
			return upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: poll: %s",
					     strerror(errno));
	}
}

/* Read exactly want bytes into buf (have of them already there). */
static int read_exact(int fd, uint8_t *buf, size_t have, size_t want, int64_t deadline,
		      struct upt_error *err)
{
	while (have < want) {
		int rc = wait_fd(fd, POLLIN, deadline, err);
		if (rc != UPT_OK) {
			upt_error_set(err, UPT_ERR_IO,
				      "IP-Uptane link: timed out after %zu of %zu bytes", have,
				      want);
			return UPT_ERR_IO;
		}
		ssize_t n = recv(fd, buf + have, want - have, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: recv: %s",
					     strerror(errno));
		if (n == 0) {
			if (have == 0)
				return upt_error_set(err, UPT_ERR_NOT_FOUND,
						     "IP-Uptane link: connection closed");
			return upt_error_set(err, UPT_ERR_IO,
					     "IP-Uptane link: connection closed after %zu of %zu "
					     "bytes",
					     have, want);
		}
		have += (size_t)n;
	}
	return UPT_OK;
}

int host_ipu_read(int fd, uint8_t *buf, size_t cap, size_t *len, int timeout_ms,
		  struct upt_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t have = 0, frame = 0;
	*len = 0;
	if (cap < 2)
		return upt_error_set(err, UPT_ERR_ARG, "IP-Uptane link: buffer too small");
	/* the tag and the first length byte, then the rest of the length */
	int rc = read_exact(fd, buf, 0, 2, deadline, err);
	have = 2;
	while (rc == UPT_OK) {
		rc = upt_ipu_frame_length(&frame, buf, have, cap, err);
		if (rc != UPT_OK || frame != 0)
			break;
		if (have >= UPT_IPU_HEADER_MAX || have >= cap) {
			rc = upt_error_set(err, UPT_ERR_DECODE, "IP-Uptane link: bad header");
			break;
		}
		rc = read_exact(fd, buf, have, have + 1, deadline, err);
		have++;
	}
	if (rc == UPT_OK)
		rc = read_exact(fd, buf, have, frame, deadline, err);
	if (rc != UPT_OK)
		return rc;
	*len = frame;
	return UPT_OK;
}

int host_ipu_write(int fd, const uint8_t *buf, size_t len, int timeout_ms, struct upt_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t done = 0;
	while (done < len) {
		int rc = wait_fd(fd, POLLOUT, deadline, err);
		if (rc != UPT_OK)
			return rc;
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: send: %s",
					     strerror(errno));
		done += (size_t)n;
	}
	return UPT_OK;
}

int host_ipu_recv(int fd, struct upt_ipu_msg *msg, uint8_t *buf, size_t cap, int timeout_ms,
		  struct upt_error *err)
{
	size_t len;
	int rc = host_ipu_read(fd, buf, cap, &len, timeout_ms, err);
	if (rc == UPT_OK)
		rc = upt_ipu_decode(msg, buf, len, err);
	return rc;
}

int host_ipu_send(int fd, const struct upt_ipu_msg *msg, uint8_t *buf, size_t cap, int timeout_ms,
		  struct upt_error *err)
{
	size_t len;
	int rc = upt_ipu_encode(buf, cap, &len, msg);
	if (rc != UPT_OK)
		return upt_error_set(err, rc, "IP-Uptane %s: does not encode in %zu bytes",
				     upt_ipu_type_name((int)msg->type), cap);
	return host_ipu_write(fd, buf, len, timeout_ms, err);
}

/* Let two sockets of this process share a local port: the listening one
 * and the connection to the primary's wait port. */
static void share_port(int fd)
{
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

/* Bind `fd` (of family `family`) to the any address, port `port`. */
static int bind_port(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_any;
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof *a;
	}
	share_port(fd);
	return bind(fd, (struct sockaddr *)&ss, sl);
}

static int connect_one(const struct addrinfo *ai, uint16_t from_port, int64_t deadline,
		       struct upt_error *err)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (from_port && bind_port(fd, ai->ai_family, from_port) != 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline, err) != UPT_OK)
		goto fail;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		errno = soerr;
		goto fail;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	close(fd);
	return -1;
}

int host_ipu_connect(const char *host, uint16_t port, int timeout_ms, struct upt_error *err)
{
	return host_ipu_connect_from(host, port, 0, timeout_ms, err);
}

int host_ipu_connect_from(const char *host, uint16_t port, uint16_t from_port, int timeout_ms,
			  struct upt_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char svc[8];
	snprintf(svc, sizeof svc, "%u", (unsigned)port);
	int g = getaddrinfo(host, svc, &hints, &res);
	if (g != 0) {
		upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: %s: %s", host, gai_strerror(g));
		return -1;
	}
	int64_t deadline = now_ms() + timeout_ms;
	int fd = -1;
	for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, from_port, deadline, err);
	if (fd < 0)
		upt_error_set(err, UPT_ERR_IO, "IP-Uptane link: connect to %s:%u: %s", host,
			      (unsigned)port, errno ? strerror(errno) : "timed out");
	freeaddrinfo(res);
	return fd;
}

int host_ipu_listen(const char *addr, uint16_t port, uint16_t *bound, struct upt_error *err)
{
	return host_ipu_listen_opt(addr, port, false, bound, err);
}

int host_ipu_listen_opt(const char *addr, uint16_t port, bool shared, uint16_t *bound,
			struct upt_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
	char svc[8];
	snprintf(svc, sizeof svc, "%u", (unsigned)port);
	int g = getaddrinfo(addr, svc, &hints, &res);
	if (g != 0) {
		upt_error_set(err, UPT_ERR_IO, "listen address %s: %s", addr ? addr : "*",
			      gai_strerror(g));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd >= 0 && shared)
		share_port(fd);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 8) != 0) {
		upt_error_set(err, UPT_ERR_IO, "listen on %s:%u: %s", addr ? addr : "*",
			      (unsigned)port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (bound && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}
