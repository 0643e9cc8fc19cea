/* uptake-agent: secondaries that start late (aktualizr's wait port).
 *
 * At start-up, a configured secondary that has no registered key yet and
 * does not answer at its address is waited for: the agent listens on
 * secondaries_wait_port for at most secondaries_wait_timeout seconds. A
 * secondary that starts late connects there from its own listening port
 * (aktualizr-secondary's primary_ip / primary_port; uptake-secondary's
 * --primary), so the peer's address and port name the configured
 * secondary. That connection is served getInfo, and the serial and
 * hardware id must be the configured ones, as on any connection. Then the
 * secondary is waited for at its own port, where the registration and
 * every later exchange reach it. A connection from anywhere else is
 * closed unread. Whatever does not come within the time is left to the
 * cycle, which reports it down. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../host/host.h"
#include "../host/ipu_link.h"
#include "agent.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is the peer `sa` the configured address (any of its addresses) and port? */
static bool peer_is(const struct sockaddr_storage *sa, const struct agent_secondary *s)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	bool match = false;
	if (getnameinfo((const struct sockaddr *)sa, sizeof *sa, host, sizeof host, port,
			sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return false;
	char want[8];
	snprintf(want, sizeof want, "%d", s->port);
	if (strcmp(port, want) != 0 || getaddrinfo(s->address, want, &hints, &res) != 0)
		return false;
	for (const struct addrinfo *ai = res; ai && !match; ai = ai->ai_next) {
		char h[NI_MAXHOST];
		match = getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof h, NULL, 0,
				    NI_NUMERICHOST) == 0 &&
			strcmp(h, host) == 0;
	}
	freeaddrinfo(res);
	return match;
}

static bool registered(const struct agent_config *c, const struct agent_secondary *s)
{
	char path[AGENT_PATH + 128];
	sec_state_path(path, sizeof path, c, s, "key");
	return access(path, F_OK) == 0;
}

/* After its wait connection: the secondary listens at its own port soon
 * (aktualizr-secondary only after that connection is over). */
static bool reachable(const struct agent_secondary *s, int64_t deadline)
{
	while (now_ms() < deadline) {
		struct upt_error err;
		int fd = host_ipu_connect(s->address, (uint16_t)s->port, 1000, &err);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		usleep(100000);
	}
	return false;
}

static int write_port(const char *path, uint16_t port, struct upt_error *err)
{
	char text[16];
	snprintf(text, sizeof text, "%u\n", (unsigned)port);
	return host_write_file(path, text, strlen(text), err);
}

void sec_wait(const struct agent_config *c)
{
	bool missing[AGENT_SECONDARIES_MAX] = {false};
	size_t n = 0;
	struct upt_error err = {0};
	uint16_t bound = 0;
	if (c->secondaries_wait_port < 0)
		return;
	for (size_t i = 0; i < c->n_secondaries; i++) {
		struct sec_info info;
		const struct agent_secondary *s = &c->secondary[i];
		if (registered(c, s))
			continue;
		if (sec_get_info(&info, c, s, &err) == UPT_OK) {
			sec_info_dispose(&info);
			continue;
		}
		missing[i] = true;
		n++;
	}
	if (!n)
		return;
	int lfd = host_ipu_listen(c->secondaries_wait_address, (uint16_t)c->secondaries_wait_port,
				  &bound, &err);
	if (lfd < 0 || (c->secondaries_wait_port_file[0] &&
			write_port(c->secondaries_wait_port_file, bound, &err) != UPT_OK)) {
		agent_log("wait port: %s", err.msg);
		if (lfd >= 0)
			close(lfd);
		return;
	}
	agent_log("waiting up to %d s on port %u for %zu secondar%s that did not answer",
		  c->secondaries_wait_timeout, (unsigned)bound, n, n == 1 ? "y" : "ies");
	int64_t deadline = now_ms() + (int64_t)c->secondaries_wait_timeout * 1000;
	while (n && now_ms() < deadline) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		int r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		struct sockaddr_storage sa;
		socklen_t sl = sizeof sa;
		memset(&sa, 0, sizeof sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		size_t i = 0;
		while (i < c->n_secondaries && !(missing[i] && peer_is(&sa, &c->secondary[i])))
			i++;
		if (i == c->n_secondaries) {
			char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
			getnameinfo((struct sockaddr *)&sa, sl, host, sizeof host, port,
				    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
			agent_log("wait port: a connection from %s port %s, which is no secondary "
				  "waited for: closed",
				  host, port);
			close(fd);
			continue;
		}
		const struct agent_secondary *s = &c->secondary[i];
		struct sec_info info;
		int rc = sec_get_info_on(&info, c, s, fd, &err);
		close(fd);
		if (rc != UPT_OK) {
			agent_log("wait port: %s", err.msg);
			continue;
		}
		sec_info_dispose(&info);
		agent_log("secondary %s (%s) connected on the wait port", s->serial,
			  s->hardware_id);
		if (!reachable(s, deadline)) {
			agent_log("secondary %s: not listening at %s port %d", s->serial,
				  s->address, s->port);
			continue;
		}
		missing[i] = false;
		n--;
	}
	close(lfd);
	for (size_t i = 0; i < c->n_secondaries; i++)
		if (missing[i])
			agent_log("secondary %s did not connect within %d s",
				  c->secondary[i].serial, c->secondaries_wait_timeout);
}
