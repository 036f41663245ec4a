/* The HTTP layer: the only code that includes microhttpd.h. It binds the
 * listener, finds each request's route, lets the route look at the
 * headers before any of the body is read, reads the body, and calls the
 * route's handler with a struct http_request; a handler that parks gets
 * its connection suspended (no thread held) until http_resume(), its
 * park_ms or its client's hanging up, whichever comes first. It counts
 * connections per client address, believes X-Forwarded-* from trusted
 * proxies only, and writes one access-log line per request.
 *
 * libmicrohttpd 0.9.75 does not poll a suspended connection, so a parked
 * request would not notice that its client went away until its heartbeat
 * ended. The watcher notices: one thread, one epoll set of the parked
 * connections' sockets (EPOLLRDHUP, one-shot) and a timer heap for
 * park_ms; it resumes the connection, which is then closed. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "util.h"
#include "xalloc.h"

/* Buckets of the per-address connection counts. */
#define ADDR_BUCKETS 4096

struct addr_count {
	struct addr_count *next;
	struct net_addr addr;
	unsigned n;
};

/* A parked connection in the watcher: the slot's generation changes
 * whenever it is freed, so a stale epoll event or timer finds it
 * changed and does nothing. */
struct watch_slot {
	struct http_ctx *ctx; /* NULL when free */
	uint32_t gen;
	uint32_t next_free;
};

struct watch_timer {
	uint64_t due_ms;
	uint32_t slot, gen;
};

#define WATCH_NONE UINT32_MAX
/* The epoll token of the watcher's own wake-up eventfd. */
#define WATCH_WAKE UINT64_MAX

struct http_server {
	struct http_config cfg;
	struct net_cidr *trusted; /* our copy of cfg.trusted */
	struct MHD_Daemon *daemon;
	int listen_fd;
	uint16_t port;
	bool tls; /* HTTPS, with the certificate of tls.c */

	/* open connections per client address (cfg.max_per_addr) */
	pthread_mutex_t addr_mu;
	struct addr_count *addr_tab[ADDR_BUCKETS];
	uint64_t addr_refused, addr_logged_ms;

	/* the watcher of parked connections; watch_mu guards all of it and
	 * every http_ctx's watch fields */
	pthread_mutex_t watch_mu;
	pthread_cond_t watch_idle; /* parked went to 0 */
	int watch_epfd, watch_wakefd;
	pthread_t watch_thread;
	bool watch_running, watch_stop, stopping;
	struct watch_slot *slots;
	uint32_t nslots, free_slot;
	struct watch_timer *timers; /* min-heap by due_ms */
	size_t ntimers, timers_cap;
	size_t parked; /* suspended, and not yet back in access_handler */
	/* Giving memory back after a storm of connections: open ones, the
	 * most since the last trim, and when the watcher trims (0: not
	 * due). */
	atomic_size_t open_conns, open_peak;
	uint64_t trim_due_ms;
	uint64_t trim_first_ms; /* when the trim now due first was */
};

/* malloc keeps what freed connections used (in each thread's arena) for
 * the next ones; once this many have gone, and at least half of the most
 * there were, the watcher hands the free pages back, a moment after the
 * last of them went, 5 s at most after the first (a trim halfway
 * through the closing left what the other half
 * freed: 117-169 % of the memory before a storm of 18,000 Pings on six
 * workers). */
#define TRIM_MIN_GONE 1024
#define TRIM_DELAY_MS 200
#define TRIM_MAX_DELAY_MS 5000

enum http_state {
	HTTP_ST_NEW = 0,
	HTTP_ST_BODY,
	HTTP_ST_DISCARD, /* answered at header time: drop a small body */
	HTTP_ST_PARKED,
	HTTP_ST_DONE,
};

/* One request: the public part handlers see, and ours. */
struct http_ctx {
	struct http_request req;
	struct http_server *srv;
	struct MHD_Connection *conn;
	const struct http_route *route;
	const char *uri; /* raw, with the query string */
	struct buf body;
	bool body_init;
	enum http_state state;
	bool too_large;
	size_t discarded;
	uint64_t start_ms;
	/* watcher state (watch_mu) */
	bool watched; /* in a slot: parked and not resumed yet */
	bool hung_up; /* resumed because the client closed */
	bool counted; /* in srv->parked */
	uint32_t wslot, wgen;
	int fd;
};

static atomic_uint_fast64_t request_counter;

/* Set when a request is closed because its client hung up: the next line
 * libmicrohttpd logs on this thread is about that, and says nothing. */
static _Thread_local bool quiet_close;

#define CTX_OF(hr)                                                             \
	((struct http_ctx *)((char *)(hr)-offsetof(struct http_ctx, req)))

/* --- client addresses --- */

static bool
trusted(const struct http_server *srv, const struct net_addr *a)
{
	for (size_t i = 0; i < srv->cfg.ntrusted; i++)
		if (net_cidr_match(&srv->trusted[i], a))
			return true;
	return false;
}

static int
conn_addr(struct MHD_Connection *conn, struct net_addr *a)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return ci != NULL ? net_addr_from_sockaddr(ci->client_addr, a) : -1;
}

/* One element of an X-Forwarded-For list: "192.0.2.1", "2001:db8::1",
 * "[2001:db8::1]:443" or "192.0.2.1:443". */
static int
forwarded_addr(const char *s, size_t n, struct net_addr *a)
{
	char tmp[NET_ADDR_STRLEN + 8];
	char *colon;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (tmp[0] == '[') {
		char *end = strchr(tmp, ']');

		if (end == NULL)
			return -1;
		*end = '\0';
		return net_addr_parse(tmp + 1, a);
	}
	colon = strchr(tmp, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		*colon = '\0'; /* IPv4 with a port */
	return net_addr_parse(tmp, a);
}

struct header_join {
	const char *name;
	struct buf *out;
};

static enum MHD_Result
join_header(void *cls, enum MHD_ValueKind kind, const char *key,
	    const char *value)
{
	struct header_join *j = cls;

	(void)kind;
	if (key != NULL && value != NULL && str_ieq(key, j->name)) {
		if (j->out->len > 0)
			buf_puts(j->out, ",");
		buf_puts(j->out, value);
	}
	return MHD_YES;
}

/* Every value of a header, in order, joined with commas, in the arena
 * (NULL when absent). */
static const char *
header_all(struct http_ctx *ctx, const char *name)
{
	struct buf b;
	struct header_join j = {name, &b};
	const char *r = NULL;

	buf_init(&b, 16 * 1024);
	MHD_get_connection_values(ctx->conn, MHD_HEADER_KIND, join_header, &j);
	if (b.len > 0 && !b.overflow)
		r = arena_strndup(ctx->req.arena, (const char *)b.data, b.len);
	buf_deinit(&b);
	return r;
}

/* The last element of a comma-separated header value (the one the
 * nearest proxy added), trimmed, in the arena. */
static const char *
last_element(struct arena *a, const char *v)
{
	const char *comma = strrchr(v, ',');
	const char *s = comma != NULL ? comma + 1 : v;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n > 0 ? arena_strndup(a, s, n) : NULL;
}

static bool
host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
			   h[i]) == NULL)
			return false;
	return true;
}

/* Who the client is. From a trusted proxy: the rightmost address of
 * X-Forwarded-For that is not a trusted proxy itself (the ones left of it
 * are whatever the client chose to send), and the scheme and host the
 * nearest proxy reports; from anybody else, the peer and this
 * connection. */
static void
client_info(struct http_ctx *ctx)
{
	struct http_request *hr = &ctx->req;
	struct http_server *srv = ctx->srv;
	struct net_addr peer, client;
	char text[NET_ADDR_STRLEN] = "?";
	const char *xff, *v;

	hr->tls = srv->tls;
	hr->scheme = hr->tls ? "https" : "http";
	hr->host = http_header(hr, "Host");
	if (conn_addr(ctx->conn, &peer) < 0) {
		hr->peer_addr = hr->remote_addr = arena_strdup(hr->arena, "?");
		return;
	}
	net_addr_format(&peer, text);
	hr->peer_addr = hr->remote_addr = arena_strdup(hr->arena, text);
	if (srv->cfg.ntrusted == 0 || !trusted(srv, &peer))
		return;
	client = peer;
	if ((xff = header_all(ctx, "X-Forwarded-For")) != NULL) {
		const char *end = xff + strlen(xff);

		while (end > xff) {
			const char *start = end;
			struct net_addr a;

			while (start > xff && start[-1] != ',')
				start--;
			/* Unreadable: the hop that wrote it is the client
			 * as far as we can tell. */
			if (forwarded_addr(start, (size_t)(end - start), &a) <
			    0)
				break;
			client = a;
			if (!trusted(srv, &a))
				break;
			end = start > xff ? start - 1 : xff;
		}
		net_addr_format(&client, text);
		hr->remote_addr = arena_strdup(hr->arena, text);
	}
	if ((v = header_all(ctx, "X-Forwarded-Proto")) != NULL &&
	    (v = last_element(hr->arena, v)) != NULL &&
	    (str_ieq(v, "https") || str_ieq(v, "http")))
		hr->scheme = str_ieq(v, "https") ? "https" : "http";
	if ((v = header_all(ctx, "X-Forwarded-Host")) != NULL &&
	    (v = last_element(hr->arena, v)) != NULL && host_ok(v))
		hr->host = v;
}

/* --- connections per address --- */

static size_t
addr_bucket(const struct net_addr *a)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 1099511628211ULL;
	return (size_t)(h % ADDR_BUCKETS);
}

/* Add delta to the address's count (with addr_mu held); returns the new
 * count. */
static unsigned
addr_add(struct http_server *srv, const struct net_addr *a, int delta)
{
	struct addr_count **pp = &srv->addr_tab[addr_bucket(a)], *e;

	for (; (e = *pp) != NULL; pp = &e->next)
		if (memcmp(e->addr.b, a->b, 16) == 0)
			break;
	if (e == NULL) {
		if (delta <= 0)
			return 0;
		e = xcalloc(1, sizeof(*e));
		e->addr = *a;
		*pp = e;
	}
	if (delta < 0 && e->n < (unsigned)-delta)
		e->n = 0;
	else
		e->n = (unsigned)((int)e->n + delta);
	if (e->n == 0) {
		unsigned n = 0;

		*pp = e->next;
		free(e);
		return n;
	}
	return e->n;
}

static bool
counted(const struct http_server *srv, const struct net_addr *a)
{
	return srv->cfg.max_per_addr > 0 && !trusted(srv, a);
}

/* libmicrohttpd asks before it accepts a connection: one address may not
 * hold more than max_per_addr (a trusted proxy speaks for many). */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *srv = cls;
	struct net_addr a;
	char text[NET_ADDR_STRLEN];
	uint64_t now, refused = 0;
	bool refuse;

	(void)len;
	if (net_addr_from_sockaddr(sa, &a) < 0 || !counted(srv, &a))
		return MHD_YES;
	pthread_mutex_lock(&srv->addr_mu);
	refuse = addr_add(srv, &a, 0) >= srv->cfg.max_per_addr;
	if (refuse) {
		srv->addr_refused++;
		now = time_mono_ms();
		/* A flood makes one line a second, not one per attempt. */
		if (now - srv->addr_logged_ms >= 1000) {
			srv->addr_logged_ms = now;
			refused = srv->addr_refused;
			srv->addr_refused = 0;
		}
	}
	pthread_mutex_unlock(&srv->addr_mu);
	if (refused > 0) {
		net_addr_format(&a, text);
		log_warn("http: connection from %s refused: it holds %u "
			 "connections already (--max-connections-per-addr); "
			 "%llu refused",
			 text, srv->cfg.max_per_addr,
			 (unsigned long long)refused);
	}
	return refuse ? MHD_NO : MHD_YES;
}

static void watch_wake(struct http_server *srv);

static bool
trim_wanted(struct http_server *srv, size_t open)
{
	size_t peak = atomic_load(&srv->open_peak);

	return peak >= open + TRIM_MIN_GONE && open <= peak / 2;
}

static void
notify_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
		  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct net_addr a, *kept = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		size_t open = atomic_fetch_add(&srv->open_conns, 1) + 1;
		size_t peak = atomic_load(&srv->open_peak);

		while (open > peak && !atomic_compare_exchange_weak(
					      &srv->open_peak, &peak, open))
			;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		size_t open = atomic_fetch_sub(&srv->open_conns, 1) - 1;

		if (trim_wanted(srv, open)) {
			/* once the storm is over: each close puts it off,
			 * so that what the last ones free goes back too */
			uint64_t now = time_mono_ms();

			pthread_mutex_lock(&srv->watch_mu);
			if (srv->trim_due_ms == 0) {
				srv->trim_first_ms = now;
				watch_wake(srv);
			}
			/* but not put off for ever by closes that keep
			 * coming */
			srv->trim_due_ms =
				EAS_MIN(now + TRIM_DELAY_MS,
					srv->trim_first_ms + TRIM_MAX_DELAY_MS);
			pthread_mutex_unlock(&srv->watch_mu);
		}
	}
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if (conn_addr(conn, &a) < 0 || !counted(srv, &a))
			return;
		kept = xmalloc(sizeof(*kept));
		*kept = a;
		*socket_ctx = kept;
		pthread_mutex_lock(&srv->addr_mu);
		addr_add(srv, kept, 1);
		pthread_mutex_unlock(&srv->addr_mu);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && kept != NULL) {
		pthread_mutex_lock(&srv->addr_mu);
		addr_add(srv, kept, -1);
		pthread_mutex_unlock(&srv->addr_mu);
		free(kept);
		*socket_ctx = NULL;
	}
}

/* --- the watcher of parked connections --- */

static void
timer_swap(struct watch_timer *t, size_t i, size_t j)
{
	struct watch_timer x = t[i];

	t[i] = t[j];
	t[j] = x;
}

static void
timer_push(struct http_server *srv, uint64_t due, uint32_t slot, uint32_t gen)
{
	struct watch_timer *t;
	size_t i;

	if (srv->ntimers == srv->timers_cap) {
		srv->timers_cap =
			srv->timers_cap == 0 ? 64 : srv->timers_cap * 2;
		srv->timers = xrealloc(srv->timers,
				       srv->timers_cap * sizeof(*srv->timers));
	}
	t = srv->timers;
	i = srv->ntimers++;
	t[i] = (struct watch_timer){due, slot, gen};
	while (i > 0 && t[(i - 1) / 2].due_ms > t[i].due_ms) {
		timer_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
timer_pop(struct http_server *srv)
{
	struct watch_timer *t = srv->timers;
	size_t n = --srv->ntimers, i = 0;

	t[0] = t[n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && t[l].due_ms < t[m].due_ms)
			m = l;
		if (l + 1 < n && t[l + 1].due_ms < t[m].due_ms)
			m = l + 1;
		if (m == i)
			break;
		timer_swap(t, i, m);
		i = m;
	}
}

static void
watch_wake(struct http_server *srv)
{
	uint64_t one = 1;

	if (write(srv->watch_wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("http: cannot wake the watcher: %s", strerror(errno));
}

/* Resume ctx's connection once per parking: whoever comes first (a
 * wake-up, the timer, the client's hanging up, shutdown) resumes it, the
 * others find it gone from its slot. With watch_mu held. */
static bool
watch_resume_locked(struct http_server *srv, struct http_ctx *ctx, bool hung_up)
{
	struct watch_slot *sl;

	if (!ctx->watched)
		return false;
	if (ctx->fd >= 0)
		epoll_ctl(srv->watch_epfd, EPOLL_CTL_DEL, ctx->fd, NULL);
	sl = &srv->slots[ctx->wslot];
	sl->ctx = NULL;
	sl->gen++;
	sl->next_free = srv->free_slot;
	srv->free_slot = ctx->wslot;
	ctx->watched = false;
	ctx->hung_up = hung_up;
	MHD_resume_connection(ctx->conn);
	return true;
}

/* The connection was just suspended: watch its socket, and its timer
 * when it has one. */
static void
watch_add(struct http_ctx *ctx)
{
	struct http_server *srv = ctx->srv;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		ctx->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct watch_slot *sl;
	uint64_t park_ms = ctx->req.park_ms;

	pthread_mutex_lock(&srv->watch_mu);
	if (srv->free_slot == WATCH_NONE) {
		uint32_t n = srv->nslots == 0 ? 256 : srv->nslots * 2;

		srv->slots = xrealloc(srv->slots, n * sizeof(*srv->slots));
		for (uint32_t i = n; i-- > srv->nslots;) {
			srv->slots[i] =
				(struct watch_slot){NULL, 0, srv->free_slot};
			srv->free_slot = i;
		}
		srv->nslots = n;
	}
	ctx->wslot = srv->free_slot;
	sl = &srv->slots[ctx->wslot];
	srv->free_slot = sl->next_free;
	sl->ctx = ctx;
	ctx->wgen = sl->gen;
	ctx->watched = true;
	ctx->hung_up = false;
	ctx->counted = true;
	srv->parked++;
	ctx->fd = ci != NULL ? ci->connect_fd : -1;
	if (ctx->fd >= 0) {
		struct epoll_event ev = {
			.events = EPOLLRDHUP | EPOLLONESHOT,
			.data.u64 = (uint64_t)ctx->wgen << 32 | ctx->wslot,
		};

		if (epoll_ctl(srv->watch_epfd, EPOLL_CTL_ADD, ctx->fd, &ev) <
		    0) {
			log_warn("http: cannot watch req=%llu: %s",
				 (unsigned long long)ctx->req.id,
				 strerror(errno));
			ctx->fd = -1;
		}
	}
	if (park_ms > 0) {
		bool earliest =
			srv->ntimers == 0 ||
			time_mono_ms() + park_ms < srv->timers[0].due_ms;

		timer_push(srv, time_mono_ms() + park_ms, ctx->wslot,
			   ctx->wgen);
		if (earliest)
			watch_wake(srv);
	}
	if (srv->stopping)
		watch_resume_locked(srv, ctx, false);
	pthread_mutex_unlock(&srv->watch_mu);
}

/* The slot behind an epoll token or timer, if it still holds the same
 * parking. */
static struct http_ctx *
watch_lookup(struct http_server *srv, uint32_t slot, uint32_t gen)
{
	if (slot >= srv->nslots || srv->slots[slot].gen != gen)
		return NULL;
	return srv->slots[slot].ctx;
}

/* After a storm: the free pages go back to the system. */
static void
trim_heap(struct http_server *srv)
{
	size_t open = atomic_load(&srv->open_conns);
	uint64_t t0 = time_mono_ms();

	if (!trim_wanted(srv, open))
		return;
	atomic_store(&srv->open_peak, open);
	malloc_trim(0);
	log_debug("http: gave memory back (%zu connections open) in %llu ms",
		  open, (unsigned long long)(time_mono_ms() - t0));
}

static void *
watch_main(void *arg)
{
	struct http_server *srv = arg;
	struct epoll_event evs[256];

	for (;;) {
		int timeout = -1, n;
		uint64_t now;
		bool trim;

		pthread_mutex_lock(&srv->watch_mu);
		if (srv->watch_stop) {
			pthread_mutex_unlock(&srv->watch_mu);
			break;
		}
		now = time_mono_ms();
		if (srv->ntimers > 0)
			timeout = srv->timers[0].due_ms <= now
					  ? 0
					  : (int)EAS_MIN(srv->timers[0].due_ms -
								 now,
							 60000);
		if (srv->trim_due_ms != 0) {
			int t = srv->trim_due_ms <= now
					? 0
					: (int)(srv->trim_due_ms - now);

			timeout = timeout < 0 ? t : EAS_MIN(timeout, t);
		}
		trim = srv->trim_due_ms != 0 && srv->trim_due_ms <= now;
		if (trim)
			srv->trim_due_ms = 0;
		pthread_mutex_unlock(&srv->watch_mu);
		if (trim)
			trim_heap(srv);
		n = epoll_wait(srv->watch_epfd, evs, (int)N_ELEMENTS(evs),
			       timeout);
		if (n < 0 && errno != EINTR) {
			log_error("http: watcher: %s", strerror(errno));
			break;
		}
		pthread_mutex_lock(&srv->watch_mu);
		for (int i = 0; i < n; i++) {
			struct http_ctx *ctx;
			uint64_t v;

			if (evs[i].data.u64 == WATCH_WAKE) {
				if (read(srv->watch_wakefd, &v, sizeof(v)) < 0)
					v = 0;
				continue;
			}
			ctx = watch_lookup(srv, (uint32_t)evs[i].data.u64,
					   (uint32_t)(evs[i].data.u64 >> 32));
			if (ctx != NULL)
				watch_resume_locked(srv, ctx, true);
		}
		now = time_mono_ms();
		while (srv->ntimers > 0 && srv->timers[0].due_ms <= now) {
			struct http_ctx *ctx = watch_lookup(
				srv, srv->timers[0].slot, srv->timers[0].gen);

			timer_pop(srv);
			if (ctx != NULL)
				watch_resume_locked(srv, ctx, false);
		}
		pthread_mutex_unlock(&srv->watch_mu);
	}
	return NULL;
}

static int
watch_start(struct http_server *srv, const char **error_r)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WATCH_WAKE};

	srv->free_slot = WATCH_NONE;
	srv->watch_epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->watch_wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->watch_epfd < 0 || srv->watch_wakefd < 0 ||
	    epoll_ctl(srv->watch_epfd, EPOLL_CTL_ADD, srv->watch_wakefd, &ev) <
		    0 ||
	    pthread_create(&srv->watch_thread, NULL, watch_main, srv) != 0) {
		*error_r = "cannot start the watcher of parked connections";
		return -1;
	}
	srv->watch_running = true;
	return 0;
}

/* Resume every parked connection (their resume_fn answers them) and wait
 * until they are all back: libmicrohttpd must not be stopped with a
 * suspended connection. */
static void
watch_drain(struct http_server *srv)
{
	uint64_t until = time_mono_ms() + 15000;

	pthread_mutex_lock(&srv->watch_mu);
	srv->stopping = true;
	for (uint32_t i = 0; i < srv->nslots; i++)
		if (srv->slots[i].ctx != NULL)
			watch_resume_locked(srv, srv->slots[i].ctx, false);
	while (srv->parked > 0) {
		struct timespec ts;

		if (time_mono_ms() >= until) {
			log_error("http: %zu parked requests still suspended "
				  "at shutdown",
				  srv->parked);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->watch_idle, &srv->watch_mu, &ts);
	}
	pthread_mutex_unlock(&srv->watch_mu);
}

static void
watch_stop(struct http_server *srv)
{
	if (srv->watch_running) {
		pthread_mutex_lock(&srv->watch_mu);
		srv->watch_stop = true;
		watch_wake(srv);
		pthread_mutex_unlock(&srv->watch_mu);
		pthread_join(srv->watch_thread, NULL);
		srv->watch_running = false;
	}
	if (srv->watch_epfd >= 0)
		close(srv->watch_epfd);
	if (srv->watch_wakefd >= 0)
		close(srv->watch_wakefd);
	srv->watch_epfd = srv->watch_wakefd = -1;
}

/* A parked request is back in access_handler (with watch_mu free). */
static void
watch_back(struct http_ctx *ctx)
{
	struct http_server *srv = ctx->srv;

	pthread_mutex_lock(&srv->watch_mu);
	/* Resumed by libmicrohttpd itself: leave the slot too. */
	if (ctx->watched) {
		if (ctx->fd >= 0)
			epoll_ctl(srv->watch_epfd, EPOLL_CTL_DEL, ctx->fd,
				  NULL);
		srv->slots[ctx->wslot].ctx = NULL;
		srv->slots[ctx->wslot].gen++;
		srv->slots[ctx->wslot].next_free = srv->free_slot;
		srv->free_slot = ctx->wslot;
		ctx->watched = false;
	}
	if (ctx->counted) {
		ctx->counted = false;
		if (--srv->parked == 0)
			pthread_cond_broadcast(&srv->watch_idle);
	}
	pthread_mutex_unlock(&srv->watch_mu);
}

/* --- requests --- */

static void *
uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	/* A parked Ping keeps this arena and nothing else of its own: about
	 * 1.45 KB with short names (its request tree, body and what the
	 * store answered go when it parks, cmd-ping.c). Every byte of the
	 * first block is a byte of each parked Ping (bench-push, 5,000
	 * Pings: 3 KiB 9.2 KiB a Ping, 2 KiB 8.2, 1.75 KiB 7.8; 1.5 KiB
	 * spills into a second block: 8.9). */
	struct arena *a = arena_new_small(1792);
	struct http_ctx *ctx = arena_new_struct(a, struct http_ctx);
	const char *q;

	ctx->srv = srv;
	ctx->conn = conn;
	ctx->uri = arena_strdup(a, uri);
	ctx->start_ms = time_mono_ms();
	ctx->req.arena = a;
	ctx->req.ctx = srv->cfg.ctx;
	ctx->req.id = atomic_fetch_add(&request_counter, 1) + 1;
	ctx->req.status = 200;
	ctx->req.log_status = -1;
	ctx->req.max_body = srv->cfg.max_body;
	ctx->fd = -1;
	q = strchr(ctx->uri, '?');
	ctx->req.query = q != NULL ? q + 1 : "";
	return ctx;
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;
	struct arena *a;

	(void)cls;
	(void)conn;
	if (ctx == NULL)
		return;
	/* A parked request whose client hung up: libmicrohttpd may notice
	 * the closed socket itself once it is resumed, before
	 * access_handler sees it. (counted is this thread's field.) */
	if (ctx->counted)
		watch_back(ctx);
	if (ctx->hung_up)
		log_info("req=%llu the client closed its connection while "
			 "parked: released",
			 (unsigned long long)ctx->req.id);
	else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
		 ctx->state != HTTP_ST_DONE)
		log_info("req=%llu connection ended before the response (%d)",
			 (unsigned long long)ctx->req.id, (int)toe);
	if (ctx->req.done_fn != NULL)
		ctx->req.done_fn(&ctx->req);
	if (ctx->body_init)
		buf_deinit(&ctx->body);
	a = ctx->req.arena;
	arena_free(&a);
	*con_cls = NULL;
}

const char *
http_header(struct http_request *hr, const char *name)
{
	return MHD_lookup_connection_value(CTX_OF(hr)->conn, MHD_HEADER_KIND,
					   name);
}

static void
wipe_password(void *p)
{
	explicit_bzero(p, strlen(p));
}

int
http_basic_auth(struct http_request *hr, const char **user_r,
		const char **password_r)
{
	char *pass = NULL;
	char *user =
		MHD_basic_auth_get_username_password(CTX_OF(hr)->conn, &pass);
	char *p;

	if (user == NULL || pass == NULL) {
		if (user != NULL)
			MHD_free(user);
		if (pass != NULL) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		return -1;
	}
	*user_r = arena_strdup(hr->arena, user);
	p = arena_strdup(hr->arena, pass);
	arena_add_cleanup(hr->arena, wipe_password, p);
	*password_r = p;
	explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return 0;
}

void
http_add_header(struct http_request *hr, const char *name, const char *value)
{
	struct http_header *h = arena_alloc(hr->arena, sizeof(*h));

	h->name = arena_strdup(hr->arena, name);
	h->value = arena_strdup(hr->arena, value);
	h->next = hr->headers;
	hr->headers = h;
}

void
http_set_status(struct http_request *hr, int status)
{
	hr->status = status;
	hr->resp_body = NULL;
	hr->resp_len = 0;
}

/* The access line, put together by hand: printf would be most of what
 * it costs. */
static void
log_request(struct http_ctx *ctx, size_t bytes)
{
	struct http_request *hr = &ctx->req;
	char b[1024];
	size_t o = 0;

	if (!log_access_enabled())
		return;
	o = str_put(b, o, sizeof(b),
		    hr->remote_addr != NULL ? hr->remote_addr : "?");
	o = str_put(b, o, sizeof(b), " ");
	o = str_put(b, o, sizeof(b), hr->method != NULL ? hr->method : "?");
	o = str_put(b, o, sizeof(b), " ");
	o = str_put(b, o, sizeof(b),
		    hr->log_fields != NULL ? hr->log_fields
		    : hr->path != NULL	   ? hr->path
					   : "?");
	o = str_put(b, o, sizeof(b), " http=");
	o = str_put_u(b, o, sizeof(b), (unsigned)hr->status);
	if (hr->log_status >= 0) {
		o = str_put(b, o, sizeof(b), " status=");
		o = str_put_u(b, o, sizeof(b), (unsigned)hr->log_status);
	}
	o = str_put(b, o, sizeof(b), " bytes=");
	o = str_put_u(b, o, sizeof(b), bytes);
	o = str_put(b, o, sizeof(b), " ms=");
	str_put_u(b, o, sizeof(b), time_mono_ms() - ctx->start_ms);
	log_access_text(b);
}

static enum MHD_Result
send_response(struct http_ctx *ctx)
{
	struct http_request *hr = &ctx->req;
	struct MHD_Response *resp;
	enum MHD_Result r;

	/* The body is the request's (its arena, or static): it lives until
	 * request_completed, which libmicrohttpd calls once it has sent the
	 * whole reply or given the connection up, so it is not copied. */
	resp = MHD_create_response_from_buffer(
		hr->resp_len, (void *)hr->resp_body, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		log_error("cannot create response");
		return MHD_NO;
	}
	if (hr->content_type != NULL && hr->resp_len > 0)
		MHD_add_response_header(resp, "Content-Type", hr->content_type);
	/* The list was built by prepending: add it in the order handlers
	 * added it. */
	{
		struct http_header *rev = NULL, *h, *next;

		for (h = hr->headers; h != NULL; h = next) {
			next = h->next;
			h->next = rev;
			rev = h;
		}
		hr->headers = rev;
		for (h = hr->headers; h != NULL; h = h->next)
			MHD_add_response_header(resp, h->name, h->value);
	}
	if (ctx->srv->cfg.worker_tag != NULL)
		MHD_add_response_header(resp, "X-Easd-Worker",
					ctx->srv->cfg.worker_tag);
	r = MHD_queue_response(ctx->conn, (unsigned)hr->status, resp);
	MHD_destroy_response(resp);
	ctx->state = HTTP_ST_DONE;
	log_request(ctx, hr->resp_len);
	if (ctx->srv->cfg.on_response != NULL)
		ctx->srv->cfg.on_response(hr, time_mono_ms() - ctx->start_ms);
	log_ctx_set(NULL);
	return r;
}

static enum MHD_Result
send_status(struct http_ctx *ctx, int status)
{
	http_set_status(&ctx->req, status);
	return send_response(ctx);
}

/* The announced body size: 0 and *n, 1 when there is none, -1 when the
 * header is not a plain decimal number (or absurd). */
static int
content_length(struct http_ctx *ctx, uint64_t *n)
{
	const char *cl = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
						     "Content-Length");
	int64_t v;

	*n = 0;
	if (cl == NULL)
		return 1;
	for (const char *p = cl; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	if (str_to_int64(cl, &v) < 0 || v < 0)
		return -1;
	*n = (uint64_t)v;
	return 0;
}

static bool
chunked(struct http_ctx *ctx)
{
	const char *te = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
						     "Transfer-Encoding");

	return te != NULL && strstr(te, "chunked") != NULL;
}

/* The response is set and the body was not read: drop a small (or no)
 * body and answer then, so that the connection can carry the next
 * request (libmicrohttpd closes a connection whose response was queued
 * before the end of the request); answer before a large one at once
 * (libmicrohttpd then reads none of it and closes the connection). */
static enum MHD_Result
answer_early(struct http_ctx *ctx)
{
	uint64_t n;
	int cl = content_length(ctx, &n);

	if (!chunked(ctx) && (cl == 1 || (cl == 0 && n <= HTTP_DISCARD_MAX))) {
		ctx->state = HTTP_ST_DISCARD;
		log_ctx_set(NULL);
		return MHD_YES;
	}
	return send_response(ctx);
}

static const struct http_route *
route_find(const struct http_server *srv, const char *path)
{
	for (size_t i = 0; i < srv->cfg.nroutes; i++)
		if (str_ieq(srv->cfg.routes[i].path, path))
			return &srv->cfg.routes[i];
	return NULL;
}

/* Whether method is in the comma-separated list. */
static bool
method_allowed(const char *methods, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = methods; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, method, n) == 0)
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

/* Act on what a handler, a hook or a resume_fn answered. */
static enum MHD_Result
act(struct http_ctx *ctx, enum http_result r)
{
	struct http_request *hr = &ctx->req;

	if (r == HTTP_DONE)
		return send_response(ctx);
	if (r != HTTP_PARKED || hr->resume_fn == NULL) {
		log_error("req=%llu: handler answered %d without a way to go "
			  "on",
			  (unsigned long long)hr->id, (int)r);
		return send_status(ctx, 500);
	}
	ctx->state = HTTP_ST_PARKED;
	MHD_suspend_connection(ctx->conn);
	/* Watched before park_fn: a wake-up from there finds it. */
	watch_add(ctx);
	if (hr->park_fn != NULL)
		hr->park_fn(hr);
	log_ctx_set(NULL);
	return MHD_YES;
}

/* Run the handler (or its resume_fn) and act on its answer. */
static enum MHD_Result
run(struct http_ctx *ctx, http_handler_fn *fn)
{
	struct http_request *hr = &ctx->req;

	hr->resume_fn = NULL;
	hr->park_fn = NULL;
	hr->park_ms = 0;
	return act(ctx, fn(hr));
}

/* Headers are in: who is asking, the route and method, the announced
 * size, then the route's hook, all before any of the body is read. */
static enum MHD_Result
begin(struct http_ctx *ctx, const char *url, const char *method)
{
	struct http_request *hr = &ctx->req;
	uint64_t n;
	int cl;

	hr->method = arena_strdup(hr->arena, method);
	hr->path = arena_strdup(hr->arena, url);
	client_info(ctx);
	ctx->state = HTTP_ST_BODY;
	cl = content_length(ctx, &n);
	if (cl < 0) {
		log_info("req=%llu unreadable Content-Length",
			 (unsigned long long)hr->id);
		return send_status(ctx, 400);
	}
	ctx->route = route_find(ctx->srv, url);
	if (ctx->route == NULL) {
		log_info("unknown path %s", url);
		http_set_status(hr, 404);
		return answer_early(ctx);
	}
	if (!method_allowed(ctx->route->methods, method)) {
		http_add_header(hr, "Allow", ctx->route->methods);
		http_set_status(hr, 405);
		return answer_early(ctx);
	}
	if (ctx->route->headers != NULL) {
		enum http_result r;

		hr->resume_fn = NULL;
		hr->park_fn = NULL;
		hr->park_ms = 0;
		r = ctx->route->headers(hr);
		if (r == HTTP_DONE)
			return answer_early(ctx);
		if (r != HTTP_CONTINUE)
			return act(ctx, r);
	}
	if (cl == 0 && n > hr->max_body) {
		log_info("req=%llu body of %llu bytes over the limit of %zu",
			 (unsigned long long)hr->id, (unsigned long long)n,
			 hr->max_body);
		return send_status(ctx, 413);
	}
	buf_init(&ctx->body, hr->max_body);
	ctx->body_init = true;
	log_ctx_set(NULL);
	return MHD_YES;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct http_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)version;
	if (ctx == NULL)
		return MHD_NO;
	quiet_close = false;
	switch (ctx->state) {
	case HTTP_ST_NEW:
		return begin(ctx, url, method);
	case HTTP_ST_BODY:
		if (*upload_data_size > 0) {
			if (!ctx->too_large &&
			    buf_append(&ctx->body, upload_data,
				       *upload_data_size) < 0) {
				ctx->too_large = true;
				buf_deinit(&ctx->body);
			}
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (ctx->too_large) {
			log_info("req=%llu body over the limit of %zu bytes",
				 (unsigned long long)ctx->req.id,
				 ctx->req.max_body);
			return send_status(ctx, 413);
		}
		ctx->req.body = ctx->body.data;
		ctx->req.body_len = ctx->body.len;
		return run(ctx, ctx->route->handler);
	case HTTP_ST_DISCARD:
		if (*upload_data_size > 0) {
			ctx->discarded += *upload_data_size;
			*upload_data_size = 0;
			/* Content-Length said less: the client lies. */
			return ctx->discarded <= HTTP_DISCARD_MAX ? MHD_YES
								  : MHD_NO;
		}
		return send_response(ctx);
	case HTTP_ST_PARKED:
		watch_back(ctx);
		if (ctx->hung_up) {
			/* Nobody to answer: close now; request_completed
			 * logs it and done_fn releases what the parking
			 * held. */
			quiet_close = true;
			return MHD_NO;
		}
		return run(ctx, ctx->req.resume_fn);
	case HTTP_ST_DONE:
		return MHD_YES;
	}
	return MHD_NO;
}

void
http_release_body(struct http_request *hr)
{
	struct http_ctx *ctx = CTX_OF(hr);

	if (ctx->body_init)
		buf_deinit(&ctx->body);
	ctx->body_init = false;
	hr->body = NULL;
	hr->body_len = 0;
}

void
http_resume(struct http_request *hr)
{
	struct http_ctx *ctx = CTX_OF(hr);

	pthread_mutex_lock(&ctx->srv->watch_mu);
	watch_resume_locked(ctx->srv, ctx, false);
	pthread_mutex_unlock(&ctx->srv->watch_mu);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (quiet_close) {
		quiet_close = false;
		if (strstr(line, "internal error") != NULL)
			return;
	}
	log_warn("http: %s", line);
}

static void
server_free(struct http_server *h)
{
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	for (size_t i = 0; i < ADDR_BUCKETS; i++) {
		struct addr_count *e, *next;

		for (e = h->addr_tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&h->addr_mu);
	watch_stop(h);
	pthread_mutex_destroy(&h->watch_mu);
	pthread_cond_destroy(&h->watch_idle);
	free(h->slots);
	free(h->timers);
	free(h->trusted);
	if (h->tls)
		tls_creds_free();
	free(h);
}

struct http_server *
http_start(const struct http_config *cfg, const char **error_r)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads;
	struct MHD_OptionItem tls[4] = {{MHD_OPTION_END, 0, NULL}};

	h->cfg = *cfg;
	h->listen_fd = -1;
	h->watch_epfd = h->watch_wakefd = -1;
	pthread_mutex_init(&h->addr_mu, NULL);
	pthread_mutex_init(&h->watch_mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->watch_idle, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (watch_start(h, error_r) < 0) {
		server_free(h);
		return NULL;
	}
	if (cfg->ntrusted > 0) {
		h->trusted = xcalloc(cfg->ntrusted, sizeof(*h->trusted));
		memcpy(h->trusted, cfg->trusted,
		       cfg->ntrusted * sizeof(*h->trusted));
	}
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1;
	}
	if (cfg->inherit_listen) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		h->listen_fd = fcntl(cfg->listen_fd, F_DUPFD_CLOEXEC, 3);
		if (h->listen_fd < 0 ||
		    getsockname(h->listen_fd, (struct sockaddr *)&ss, &sl) < 0)
			*error_r =
				"the inherited listening socket is not usable";
		else if (ss.ss_family == AF_INET)
			h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			h->port =
				ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else
		h->listen_fd = net_listen(cfg->listen, 1024, &h->port, error_r);
	if (h->listen_fd < 0) {
		server_free(h);
		return NULL;
	}
	if (cfg->tls_cert != NULL) {
		if (tls_creds_load(cfg->tls_cert, cfg->tls_key, error_r) < 0) {
			log_error("--tls-cert %s, --tls-key %s: %s",
				  cfg->tls_cert, cfg->tls_key, *error_r);
			server_free(h);
			return NULL;
		}
		h->tls = true;
		flags |= MHD_USE_TLS;
		/* the certificate is asked for at each handshake, so that
		 * http_reload_tls can replace it */
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK,
						 0, tls_cert_callback()};
		tls[1] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_PRIORITIES, 0,
			(void *)(cfg->tls_priority != NULL
					 ? cfg->tls_priority
					 : HTTP_TLS_PRIORITY)};
	}
	h->daemon = MHD_start_daemon(
		flags, 0, accept_policy, h, access_handler, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->max_header,
		MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (h->daemon == NULL) {
		*error_r = h->tls ? "libmicrohttpd could not start (is "
				    "--tls-priority a valid GnuTLS priority "
				    "string?)"
				  : "libmicrohttpd could not start";
		server_free(h);
		return NULL;
	}
	return h;
}

int
http_reload_tls(struct http_server *h, const char **error_r)
{
	if (h == NULL || !h->tls)
		return 0;
	if (tls_creds_load(h->cfg.tls_cert, h->cfg.tls_key, error_r) < 0)
		return -1;
	return 1;
}

uint16_t
http_port(const struct http_server *h)
{
	return h != NULL ? h->port : 0;
}

void
http_stop(struct http_server **hp)
{
	struct http_server *h = *hp;

	if (h == NULL)
		return;
	watch_drain(h);
	MHD_stop_daemon(h->daemon);
	server_free(h);
	*hp = NULL;
}
