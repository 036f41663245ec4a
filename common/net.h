/* Listening sockets from "ADDR:PORT" specs: one parser for every
 * listener (HTTP, LMTP, and later the admin listener); client addresses
 * and address ranges (CIDR) for the front end's trusted proxies and
 * per-address limits. */
#ifndef EASD_NET_H
#define EASD_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Bind and listen on spec: "ADDR:PORT", "[IPv6]:PORT" or ":PORT" (every
 * address); ADDR may be a name; port 0 picks a free one. Returns the
 * socket (close-on-exec, SO_REUSEADDR) with the bound port in *port_r, or
 * -1 with *error_r (a text of this thread, valid until its next call). */
int net_listen(const char *spec, int backlog, uint16_t *port_r,
	       const char **error_r);
/* The same, with SO_REUSEPORT when reuseport; backlog 0 binds without
 * listening (the port is held, no connection is queued on it). */
int net_listen_opts(const char *spec, int backlog, bool reuseport,
		    uint16_t *port_r, const char **error_r);

/* An IPv4 or IPv6 address in 16 bytes, IPv4 as ::ffff:a.b.c.d, so that
 * a client of a [::] listener and of a 0.0.0.0 one is the same. */
struct net_addr {
	uint8_t b[16];
};

/* Text form length, with the NUL. */
#define NET_ADDR_STRLEN 46

/* A numeric address ("192.0.2.1", "2001:db8::1"; no port). 0 or -1. */
int net_addr_parse(const char *s, struct net_addr *r);
/* The address of an AF_INET or AF_INET6 socket address. 0 or -1. */
int net_addr_from_sockaddr(const struct sockaddr *sa, struct net_addr *r);
/* Its text (dotted quad for IPv4) in buf[NET_ADDR_STRLEN]. */
void net_addr_format(const struct net_addr *a, char *buf);

struct net_cidr {
	struct net_addr addr; /* masked to bits */
	unsigned bits;	      /* prefix length over the 128 bits */
};

/* "10.0.0.0/8", "2001:db8::/32", or one address. 0 or -1. */
int net_cidr_parse(const char *s, struct net_cidr *r);
bool net_cidr_match(const struct net_cidr *c, const struct net_addr *a);

#endif
