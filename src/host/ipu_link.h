/* uptake host layer: the IP-Uptane link over TCP (aktualizr's protocol,
 * one DER message each way per exchange), for a primary and a secondary.
 *
 * Every read is bounded twice: by the caller's buffer (a header announcing
 * more is refused before its content is read) and by a deadline for the
 * whole message (a peer that stops sending is cut off). */
#ifndef UPTAKE_HOST_IPU_LINK_H
#define UPTAKE_HOST_IPU_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uptake/common.h>
#include <uptake/ipuptane.h>

/* Read one message from `fd` into buf[0..cap): first its header, then
 * exactly the length it announces, nothing beyond (the next message stays
 * in the socket). *len is the message's length. The whole message must
 * arrive within `timeout_ms`. UPT_ERR_TOO_LARGE when the header announces
 * more than `cap` bytes, UPT_ERR_UNSUPPORTED or UPT_ERR_DECODE for a header
 * that is not an IP-Uptane one, UPT_ERR_IO on a timeout, an early end of
 * the stream or a socket error; UPT_ERR_NOT_FOUND when the peer closed the
 * connection before sending anything. */
int host_ipu_read(int fd, uint8_t *buf, size_t cap, size_t *len, int timeout_ms,
		  struct upt_error *err);

/* Write buf[0..len) to `fd` within `timeout_ms` (no SIGPIPE). */
int host_ipu_write(int fd, const uint8_t *buf, size_t len, int timeout_ms, struct upt_error *err);

/* Read and decode one message; byte strings in *msg point into buf. */
int host_ipu_recv(int fd, struct upt_ipu_msg *msg, uint8_t *buf, size_t cap, int timeout_ms,
		  struct upt_error *err);

/* Encode `msg` into buf[0..cap) and write it. */
int host_ipu_send(int fd, const struct upt_ipu_msg *msg, uint8_t *buf, size_t cap, int timeout_ms,
		  struct upt_error *err);

/* A TCP connection to host:port (numeric address or name), within
 * `timeout_ms`. Returns the descriptor, or -1 with `err` set. */
int host_ipu_connect(const char *host, uint16_t port, int timeout_ms, struct upt_error *err);
/* The same from local port `from_port` (0: any), shared with a listening
 * socket of host_ipu_listen_opt(shared): how a secondary that starts late
 * connects to the primary's wait port, which knows it by address and port. */
int host_ipu_connect_from(const char *host, uint16_t port, uint16_t from_port, int timeout_ms,
			  struct upt_error *err);

/* A listening TCP socket on addr:port (port 0: any free one; *bound gets
 * the port). Returns the descriptor, or -1 with `err` set. */
int host_ipu_listen(const char *addr, uint16_t port, uint16_t *bound, struct upt_error *err);
/* shared: the port may also be bound by host_ipu_connect_from. */
int host_ipu_listen_opt(const char *addr, uint16_t port, bool shared, uint16_t *bound,
			struct upt_error *err);

#endif
