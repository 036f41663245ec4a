/* Listening sockets: parse "ADDR:PORT" / "[ADDR]:PORT", resolve, bind,
 * listen, and report the bound port (so that port 0 works). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
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
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0 ||
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
