/* The HTTP layer (http.c, the only code that includes microhttpd.h): a
 * listener with a route table. A route is a path (matched without regard
 * to case), the methods it takes, an optional hook that sees the request
 * when its headers are in (to authenticate before any of the body is
 * read, and to set the body limit) and a handler. The layer answers 404
 * for an unknown path and 405 with Allow for a method the route does not
 * take, 400 for an unreadable Content-Length, reads the body (413 past the
 * limit), and lets a handler park a request without holding a thread: the
 * connection is suspended until http_resume() or a timer, and a parked
 * request whose client hangs up is released at once. It limits connections in
 * total and per client address, header size and idle time, and takes the
 * client's address, scheme and host from X-Forwarded-* when the peer is a
 * trusted proxy. Handlers see struct http_request, never
 * libmicrohttpd. */
#ifndef EASD_HTTP_H
#define EASD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "net.h"

struct http_request;

enum http_result {
	HTTP_DONE = 0, /* the response fields are set */
	HTTP_PARKED,   /* resume_fn answers later; park_fn runs once the
			  connection is suspended */
	HTTP_CONTINUE, /* from a headers hook only: read the body, then
			  call the route's handler */
};

typedef enum http_result http_handler_fn(struct http_request *hr);
typedef void http_hook_fn(struct http_request *hr);

struct http_header {
	struct http_header *next;
	const char *name, *value;
};

struct http_request {
	struct arena *arena; /* lives until the response is sent or the
				connection ends */
	void *ctx;	     /* the server's context, from http_config */
	uint64_t id;	     /* request number, for logs */
	const char *method;
	const char *path;	 /* decoded, without the query */
	const char *query;	 /* raw, without '?'; "" when none */
	const char *remote_addr; /* the client: the TCP peer, or what a
				    trusted proxy says it is */
	const char *peer_addr;	 /* the TCP peer */
	const char *scheme;	 /* "https" or "http", as the client sees it */
	const char *host;	 /* the host the client asked for (Host, or
				    X-Forwarded-Host from a trusted proxy);
				    NULL when none */
	bool tls;		 /* this connection is TLS */
	size_t max_body;	 /* the body limit (http_config.max_body; a
				    headers hook may change it) */
	const uint8_t *body;	 /* NUL terminated; len 0 = none */
	size_t body_len;

	/* the response */
	int status; /* 200 unless the handler says otherwise */
	const char *content_type;
	const uint8_t *resp_body;
	size_t resp_len;
	struct http_header *headers;
	/* for the access log line: what the route knows of the request
	 * ("user=... cmd=..."; NULL = the path) and its own status (-1 =
	 * none) */
	const char *log_fields;
	int log_status;
	/* for the metrics: what was asked ("Sync", "Autodiscover"; a
	 * static string, NULL = not counted by name) */
	const char *metric_name;

	/* parking: set by a handler that returns HTTP_PARKED. A parked
	 * request is resumed by http_resume(), after park_ms when that is
	 * not 0, or when its client closes the connection: then it is
	 * closed, resume_fn does not run, and done_fn does. */
	http_handler_fn *resume_fn; /* on a worker thread after resuming */
	http_hook_fn *park_fn;	    /* after the suspension */
	uint64_t park_ms;
	/* called once when the request ends, answered or not (a client that
	 * hung up): release what parking holds */
	http_hook_fn *done_fn;
	void *handler_ctx;
};

/* A body of at most this many bytes is read (and dropped) when the
 * headers hook answers at once, so that the connection stays usable; a
 * larger one is not read at all and the connection closes after the
 * answer. */
#define HTTP_DISCARD_MAX (64 * 1024)

struct http_route {
	const char *path;    /* "/Microsoft-Server-ActiveSync" */
	const char *methods; /* "OPTIONS,POST": also the Allow header */
	/* Optional, when the headers are in and before any of the body is
	 * read: HTTP_CONTINUE reads the body (at most hr->max_body, 413
	 * past it) and calls handler; HTTP_DONE answers without reading the
	 * body (see HTTP_DISCARD_MAX); HTTP_PARKED parks before the body,
	 * and its resume_fn answers. */
	http_handler_fn *headers;
	http_handler_fn *handler;
};

struct http_config {
	const char *listen; /* ADDR:PORT, [ADDR]:PORT; port 0 = any */
	/* Serve this listening socket (bound by the parent of easd
	 * --workers, shared with the other workers) instead of binding
	 * listen; the server keeps its own duplicate. */
	bool inherit_listen;
	int listen_fd;
	/* Tests of easd --workers: every answer names the worker that gave
	 * it (X-Easd-Worker); NULL = no such header. */
	const char *worker_tag;
	const char *tls_cert, *tls_key; /* PEM files; NULL = plain HTTP */
	const char *tls_priority;	/* GnuTLS priority string; NULL =
					   HTTP_TLS_PRIORITY */
	unsigned threads;		/* worker threads; 0 = one per core */
	size_t max_body;		/* request body limit (default of
					   http_request.max_body) */
	unsigned max_connections;	/* open connections at most */
	unsigned max_per_addr; /* connections per client address; 0 = no
				  limit; trusted proxies are exempt */
	size_t max_header;     /* bytes for a request's line and headers
				  (libmicrohttpd's connection memory) */
	unsigned idle_timeout; /* s without a byte before a connection is
				  closed (parked requests are exempt) */
	/* Peers whose X-Forwarded-For/-Proto/-Host are believed. */
	const struct net_cidr *trusted;
	size_t ntrusted;
	const struct http_route *routes;
	size_t nroutes;
	void *ctx; /* handed to handlers as http_request.ctx */
	/* Optional: called for every answered request with how long it took
	 * (from its first byte to its answer, parking included). */
	void (*on_response)(const struct http_request *hr, uint64_t elapsed_ms);
};

/* The default TLS setting: TLS 1.2 and 1.3 only, forward-secret key
 * exchange (ECDHE, DHE; TLS 1.3's are) and AEAD ciphers only (AES-GCM,
 * ChaCha20-Poly1305), the server's order. */
#define HTTP_TLS_PRIORITY                                                      \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                          \
	"-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:"            \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:"             \
	"%SERVER_PRECEDENCE"

struct http_server;

/* Bind and start serving. Returns the server, or NULL with *error_r (a
 * static text). */
struct http_server *http_start(const struct http_config *cfg,
			       const char **error_r);
/* Read the certificate and key files again (SIGHUP after a renewal): new
 * connections get them, open ones (parked requests) are not touched.
 * Returns 1 when reloaded, 0 without TLS, -1 with *error_r when the files
 * are not usable (the old ones stay). */
int http_reload_tls(struct http_server *h, const char **error_r);
/* The bound port (the real one when port 0 was asked). */
uint16_t http_port(const struct http_server *h);
void http_stop(struct http_server **hp);

/* A request header (case-insensitive name), or NULL. */
const char *http_header(struct http_request *hr, const char *name);
/* The Basic credentials of the request, copied into its arena (the
 * password is wiped when the arena goes). Returns 0, or -1 when there are
 * none. */
int http_basic_auth(struct http_request *hr, const char **user_r,
		    const char **password_r);
/* Add a response header (copied into the arena). */
void http_add_header(struct http_request *hr, const char *name,
		     const char *value);
/* Set a response without a body. */
void http_set_status(struct http_request *hr, int status);
/* Let go of the request body (body and body_len become NULL and 0): a
 * request that parks with what it needs copied out keeps no more than
 * that while it waits. */
void http_release_body(struct http_request *hr);
/* Resume a parked request so that its resume_fn runs; safe from any
 * thread, once per parking. */
void http_resume(struct http_request *hr);

#endif
