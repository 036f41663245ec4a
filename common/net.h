/* Listening sockets from "ADDR:PORT" specs: one parser for every
 * listener (HTTP, LMTP, and later the admin listener). */
#ifndef EASD_NET_H
#define EASD_NET_H

#include <stdint.h>

/* Bind and listen on spec: "ADDR:PORT", "[IPv6]:PORT" or ":PORT" (every
 * address); ADDR may be a name; port 0 picks a free one. Returns the
 * socket (close-on-exec, SO_REUSEADDR) with the bound port in *port_r, or
 * -1 with *error_r (a text of this thread, valid until its next call). */
int net_listen(const char *spec, int backlog, uint16_t *port_r,
	       const char **error_r);

#endif
