/* Listening sockets: parse "ADDR:PORT" / "[ADDR]:PORT", resolve, bind,
 * listen, and report the bound port (so that port 0 works). Addresses and
 * CIDR ranges as the front end compares them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

static _Thread_local char net_err[320];

/* Split spec into host (may be empty) and port; -1 when malformed. */
static int
split_spec(const char *spec, char *host, size_t size, const char **port_r)
{
	const char *colon;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec - 1) >= size)
			return -1;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || (size_t)(colon - spec) >= size)
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	if (colon[1] == '\0')
		return -1;
	*port_r = colon + 1;
	return 0;
}

int
net_listen(const char *spec, int backlog, uint16_t *port_r,
	   const char **error_r)
{
	return net_listen_opts(spec, backlog, false, port_r, error_r);
}

int
net_listen_opts(const char *spec, int backlog, bool reuseport, uint16_t *port_r,
		const char **error_r)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *port;
	char host[256];
	int fd = -1, one = 1, rc;

	if (split_spec(spec, host, sizeof(host), &port) < 0) {
		snprintf(net_err, sizeof(net_err),
			 "bad listen address '%s' (want ADDR:PORT or "
			 "[ADDR]:PORT)",
			 spec);
		*error_r = net_err;
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(net_err, sizeof(net_err),
			 "bad listen address '%s': %s", spec,
			 rc != 0 ? gai_strerror(rc) : "no address");
		*error_r = net_err;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    (backlog > 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	*port_r = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(res);
	return fd;
fail:
	snprintf(net_err, sizeof(net_err), "cannot listen on %s: %s", spec,
		 strerror(errno));
	*error_r = net_err;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int
net_addr_parse(const char *s, struct net_addr *r)
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(r->b, v4_mapped, 12);
		memcpy(r->b + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, r->b) == 1 ? 0 : -1;
}

int
net_addr_from_sockaddr(const struct sockaddr *sa, struct net_addr *r)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		memcpy(r->b, v4_mapped, 12);
		memcpy(r->b + 12, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(r->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

void
net_addr_format(const struct net_addr *a, char *buf)
{
	if (memcmp(a->b, v4_mapped, 12) == 0)
		inet_ntop(AF_INET, a->b + 12, buf, NET_ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, buf, NET_ADDR_STRLEN);
}

static void
mask_to(struct net_addr *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8
				: bits > 8 * i	    ? bits - 8 * i
						    : 0;

		a->b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int
net_cidr_parse(const char *s, struct net_cidr *r)
{
	char host[NET_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	bool v4;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (net_addr_parse(host, &r->addr) < 0)
		return -1;
	v4 = strchr(host, ':') == NULL;
	r->bits = 128;
	if (slash != NULL) {
		char *end;
		long bits;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > (v4 ? 32 : 128))
			return -1;
		r->bits = (unsigned)bits + (v4 ? 96 : 0);
	}
	mask_to(&r->addr, r->bits);
	return 0;
}

bool
net_cidr_match(const struct net_cidr *c, const struct net_addr *a)
{
	struct net_addr m = *a;

	mask_to(&m, c->bits);
	return memcmp(m.b, c->addr.b, 16) == 0;
}
