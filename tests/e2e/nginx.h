/* A real nginx for the tests and benchmarks that put two easd nodes
 * behind a balancer (e2e-test-pg, bench-nodes), and a free loopback port
 * for servers a test starts itself. */
#ifndef EASD_E2E_NGINX_H
#define EASD_E2E_NGINX_H

/* A loopback port that was free a moment ago (bound and released), or
 * -1. */
int harness_free_port(void);

/* nginx on a free loopback port in a directory of its own, balancing
 * round robin over easd on 127.0.0.1:port1 and :port2 (upstream
 * keep-alive, no buffering, Pings' long reads allowed); its URL (static),
 * or NULL when /usr/sbin/nginx is missing or does not start. One at a
 * time; stopped by harness_nginx_stop or at exit. */
const char *harness_nginx_start(int port1, int port2);
void harness_nginx_stop(void);

#endif
