/* Push: the registry of parked requests, the timer that ends them at their
 * heartbeat, and the two doors change notifications come in by (the
 * store's in-process hook and the UNIX datagram socket easctl writes to).
 * One mutex guards everything; no thread polls the database. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

/* A waiter that fired and whose request has not been answered yet (it is
 * out of the registry, but shutdown must wait for it). Kept in heap_index,
 * which means nothing while a waiter is not armed, so push.h needs no
 * private field beyond the ones it has. */
#define PUSH_FIRED ((size_t)-1)

/* Payload of one notification datagram; longer ones are truncated at a
 * line boundary by the sender's own limit, and we read at most this. */
#define PUSH_NOTIFY_MAX 65536
/* How long shutdown waits for the front end to answer fired waiters. */
#define PUSH_SHUTDOWN_WAIT_MS 15000

/* Per account: the change counter and the waiters. Entries are created
 * by push_seq() (the first Ping of an account) and live until push_free:
 * their number is bounded by the accounts that authenticated. */
struct push_account {
	int64_t id;
	uint64_t seq;
	uint64_t hier_seq; /* push_seq value of the last hierarchy
			      change */
	struct push_waiter *waiters;
};

struct push {
	struct easd *srv;
	pthread_mutex_t mu;
	pthread_cond_t timer_cond; /* CLOCK_MONOTONIC */
	pthread_cond_t idle_cond;  /* nothing armed or unanswered */

	/* open addressing, linear probing, power-of-two size */
	struct push_account **acc;
	size_t acc_cap, acc_count;

	/* min-heap of armed waiters by deadline */
	struct push_waiter **heap;
	size_t heap_len, heap_cap;

	uint64_t global_seq; /* "everything changed" notifications */
	size_t armed, unanswered;
	bool stopping, timer_stop;

	pthread_t timer_thread, notify_thread;
	bool timer_running, notify_running;
	int notify_fd;
	int stop_pipe[2];
	char *notify_path;
};

/* --- account table --- */

static size_t
acc_hash(int64_t id, size_t cap)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (cap - 1);
}

static struct push_account *
acc_find(struct push *p, int64_t id)
{
	size_t i;

	if (p->acc_cap == 0)
		return NULL;
	for (i = acc_hash(id, p->acc_cap); p->acc[i] != NULL;
	     i = (i + 1) & (p->acc_cap - 1))
		if (p->acc[i]->id == id)
			return p->acc[i];
	return NULL;
}

static void
acc_insert_slot(struct push_account **tab, size_t cap, struct push_account *a)
{
	size_t i = acc_hash(a->id, cap);

	while (tab[i] != NULL)
		i = (i + 1) & (cap - 1);
	tab[i] = a;
}

static struct push_account *
acc_get(struct push *p, int64_t id)
{
	struct push_account *a = acc_find(p, id);

	if (a != NULL)
		return a;
	if ((p->acc_count + 1) * 10 > p->acc_cap * 7) {
		size_t cap = p->acc_cap == 0 ? 256 : p->acc_cap * 2;
		struct push_account **tab = xcalloc(cap, sizeof(*tab));

		for (size_t i = 0; i < p->acc_cap; i++)
			if (p->acc[i] != NULL)
				acc_insert_slot(tab, cap, p->acc[i]);
		free(p->acc);
		p->acc = tab;
		p->acc_cap = cap;
	}
	a = xcalloc(1, sizeof(*a));
	a->id = id;
	acc_insert_slot(p->acc, p->acc_cap, a);
	p->acc_count++;
	return a;
}

/* --- deadline heap --- */

static void
heap_set(struct push *p, size_t i, struct push_waiter *w)
{
	p->heap[i] = w;
	w->heap_index = i;
}

static void
heap_up(struct push *p, size_t i)
{
	struct push_waiter *w = p->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (p->heap[parent]->deadline_ms <= w->deadline_ms)
			break;
		heap_set(p, i, p->heap[parent]);
		i = parent;
	}
	heap_set(p, i, w);
}

static void
heap_down(struct push *p, size_t i)
{
	struct push_waiter *w = p->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t best = w->deadline_ms;

		if (l < p->heap_len && p->heap[l]->deadline_ms < best) {
			m = l;
			best = p->heap[l]->deadline_ms;
		}
		if (l + 1 < p->heap_len && p->heap[l + 1]->deadline_ms < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(p, i, p->heap[m]);
		i = m;
	}
	heap_set(p, i, w);
}

static void
heap_push(struct push *p, struct push_waiter *w)
{
	if (p->heap_len == p->heap_cap) {
		p->heap_cap = p->heap_cap == 0 ? 1024 : p->heap_cap * 2;
		p->heap = xrealloc(p->heap, p->heap_cap * sizeof(*p->heap));
	}
	heap_set(p, p->heap_len++, w);
	heap_up(p, p->heap_len - 1);
}

static void
heap_remove(struct push *p, struct push_waiter *w)
{
	size_t i = w->heap_index;
	struct push_waiter *last;

	eas_assert(i < p->heap_len && p->heap[i] == w);
	last = p->heap[--p->heap_len];
	if (last == w)
		return;
	heap_set(p, i, last);
	if (i > 0 && p->heap[(i - 1) / 2]->deadline_ms > last->deadline_ms)
		heap_up(p, i);
	else
		heap_down(p, i);
}

/* --- waiters (all with p->mu held) --- */

static void
unlink_waiter(struct push *p, struct push_waiter *w)
{
	struct push_account *a = acc_find(p, w->account_id);

	eas_assert(a != NULL);
	if (w->prev_in_account != NULL)
		w->prev_in_account->next_in_account = w->next_in_account;
	else
		a->waiters = w->next_in_account;
	if (w->next_in_account != NULL)
		w->next_in_account->prev_in_account = w->prev_in_account;
	w->next_in_account = w->prev_in_account = NULL;
	heap_remove(p, w);
	w->armed = false;
	p->armed--;
}

/* Take w out of the registry and resume its connection. The request stays
 * counted as unanswered until the front end calls push_cancel(); its
 * memory stays valid until then, because the front end cancels before it
 * frees the request and cancelling needs the mutex we hold. */
static void
fire(struct push *p, struct push_waiter *w, enum push_reason reason)
{
	if (w->armed)
		unlink_waiter(p, w);
	w->reason = reason;
	w->heap_index = PUSH_FIRED;
	p->unanswered++;
	http_wake(w->req);
}

static void
set_all_changed(struct push_waiter *w)
{
	for (size_t i = 0; i < w->nfolders; i++)
		w->folder_changed[i] = true;
}

static uint64_t
seq_locked(struct push *p, struct push_account *a)
{
	return a->seq + p->global_seq;
}

static void
maybe_idle(struct push *p)
{
	if (p->armed == 0 && p->unanswered == 0)
		pthread_cond_broadcast(&p->idle_cond);
}

uint64_t
push_seq(struct push *p, int64_t account_id)
{
	uint64_t seq;

	pthread_mutex_lock(&p->mu);
	seq = seq_locked(p, acc_get(p, account_id));
	pthread_mutex_unlock(&p->mu);
	return seq;
}

void
push_arm(struct push *p, struct push_waiter *w)
{
	struct push_account *a;
	struct push_waiter *o, *next;
	uint64_t seq;

	pthread_mutex_lock(&p->mu);
	/* Re-parked after a wake-up that did not concern the device: the
	 * earlier firing is answered by this arming. */
	if (w->armed)
		unlink_waiter(p, w);
	else if (w->heap_index == PUSH_FIRED)
		p->unanswered--;
	w->heap_index = 0;
	w->reason = PUSH_NONE;

	a = acc_get(p, w->account_id);
	/* MS-ASCMD 2.2.1.13: a newer Ping of the device ends the older one;
	 * a device has one parked request at a time. */
	for (o = a->waiters; o != NULL; o = next) {
		next = o->next_in_account;
		if (o->device_row == w->device_row)
			fire(p, o, PUSH_SUPERSEDED);
	}
	seq = seq_locked(p, a);
	if (p->stopping) {
		fire(p, w, PUSH_SHUTDOWN);
	} else if (seq > w->seq) {
		/* Something changed between the handler's store check and
		 * now; which folder is not known, so all are rechecked. */
		if (a->hier_seq > w->seq) {
			fire(p, w, PUSH_HIERARCHY);
		} else {
			set_all_changed(w);
			fire(p, w, PUSH_CHANGE);
		}
	} else {
		w->prev_in_account = NULL;
		w->next_in_account = a->waiters;
		if (a->waiters != NULL)
			a->waiters->prev_in_account = w;
		a->waiters = w;
		heap_push(p, w);
		w->armed = true;
		p->armed++;
		if (w->heap_index == 0)
			pthread_cond_signal(&p->timer_cond);
	}
	pthread_mutex_unlock(&p->mu);
}

void
push_cancel(struct push *p, struct push_waiter *w)
{
	if (p == NULL || w == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (w->armed) {
		unlink_waiter(p, w);
		w->heap_index = 0;
		maybe_idle(p);
	} else if (w->heap_index == PUSH_FIRED) {
		w->heap_index = 0;
		p->unanswered--;
		maybe_idle(p);
	}
	pthread_mutex_unlock(&p->mu);
}

static void
fire_account(struct push *p, struct push_account *a, int64_t folder_id)
{
	struct push_waiter *w, *next;

	for (w = a->waiters; w != NULL; w = next) {
		bool hit = false;

		next = w->next_in_account;
		if (folder_id == 0) {
			fire(p, w, PUSH_HIERARCHY);
			continue;
		}
		for (size_t i = 0; i < w->nfolders; i++) {
			if (w->folders[i] == folder_id) {
				w->folder_changed[i] = true;
				hit = true;
			}
		}
		if (hit)
			fire(p, w, PUSH_CHANGE);
	}
}

void
push_notify(struct push *p, int64_t account_id, int64_t folder_id)
{
	struct push_account *a;

	pthread_mutex_lock(&p->mu);
	if (account_id == 0) {
		/* Unknown scope: every waiter rechecks all its folders. */
		p->global_seq++;
		for (size_t i = 0; i < p->acc_cap; i++) {
			struct push_waiter *w, *next;

			if (p->acc[i] == NULL)
				continue;
			for (w = p->acc[i]->waiters; w != NULL; w = next) {
				next = w->next_in_account;
				set_all_changed(w);
				fire(p, w, PUSH_CHANGE);
			}
		}
	} else if ((a = acc_find(p, account_id)) != NULL) {
		/* Without an entry nobody has read the account's counter
		 * yet, so there is nothing to bump. */
		a->seq++;
		if (folder_id == 0)
			a->hier_seq = seq_locked(p, a);
		fire_account(p, a, folder_id);
	}
	pthread_mutex_unlock(&p->mu);
}

void
push_device_changed(struct push *p, int64_t account_id, int64_t device_row)
{
	struct push_account *a;
	struct push_waiter *w, *next;

	pthread_mutex_lock(&p->mu);
	a = acc_find(p, account_id);
	for (w = a != NULL ? a->waiters : NULL; w != NULL; w = next) {
		next = w->next_in_account;
		if (device_row == 0 || w->device_row == device_row)
			fire(p, w, PUSH_DEVICE);
	}
	pthread_mutex_unlock(&p->mu);
}

size_t
push_waiting(struct push *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->armed;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* --- threads --- */

static struct timespec
mono_timespec(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	return ts;
}

/* Sleeps until the earliest deadline (or until a new earliest one is
 * armed), then fires everything that is due. */
static void *
timer_main(void *arg)
{
	struct push *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->timer_stop) {
		uint64_t now = time_mono_ms();

		while (p->heap_len > 0 && p->heap[0]->deadline_ms <= now)
			fire(p, p->heap[0], PUSH_TIMEOUT);
		if (p->heap_len > 0) {
			struct timespec ts =
				mono_timespec(p->heap[0]->deadline_ms);

			pthread_cond_timedwait(&p->timer_cond, &p->mu, &ts);
		} else {
			pthread_cond_wait(&p->timer_cond, &p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* One datagram: lines "account_id folder_id". */
static void
notify_parse(struct push *p, char *data, size_t len)
{
	char *line = data, *end = data + len;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *sp;
		int64_t account, folder;

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (*line == '\0')
			goto next;
		sp = strchr(line, ' ');
		if (sp == NULL)
			goto bad;
		*sp = '\0';
		if (str_to_int64(line, &account) < 0 ||
		    str_to_int64(sp + 1, &folder) < 0 || account < 0 ||
		    folder < 0) {
			*sp = ' ';
			goto bad;
		}
		push_notify(p, account, folder);
		goto next;
	bad:
		log_warn("push: malformed notification line \"%.40s\"", line);
	next:
		line = nl + 1;
	}
}

static void *
notify_main(void *arg)
{
	struct push *p = arg;
	char *data = xmalloc(PUSH_NOTIFY_MAX + 1);

	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = p->notify_fd, .events = POLLIN},
			{.fd = p->stop_pipe[0], .events = POLLIN},
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("push: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		n = recv(p->notify_fd, data, PUSH_NOTIFY_MAX, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("push: recv: %s", strerror(errno));
			continue;
		}
		notify_parse(p, data, (size_t)n);
	}
	free(data);
	return NULL;
}

/* The store's notify hook: every commit of this process lands here. */
static void
push_store_hook(void *ctx, const struct store_change *c, size_t n)
{
	struct push *p = ctx;

	for (size_t i = 0; i < n; i++)
		push_notify(p, c[i].account_id, c[i].folder_id);
}

static int
notify_open(struct push *p, const char **error_r)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	p->notify_path = xasprintf("%s/easd.notify", p->srv->cfg.data_dir);
	if (strlen(p->notify_path) >= sizeof(sun.sun_path)) {
		*error_r = "notification socket path too long "
			   "(shorten the data directory)";
		return -1;
	}
	strcpy(sun.sun_path, p->notify_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = "cannot create the notification socket";
		return -1;
	}
	/* A previous easd that did not stop cleanly leaves its socket. */
	unlink(p->notify_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_error("push: bind %s: %s", p->notify_path, strerror(errno));
		close(fd);
		*error_r = "cannot bind the notification socket";
		return -1;
	}
	chmod(p->notify_path, 0600);
	p->notify_fd = fd;
	return 0;
}

struct push *
push_new(struct easd *srv, const char **error_r)
{
	struct push *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t ca;

	p->srv = srv;
	p->notify_fd = -1;
	p->stop_pipe[0] = p->stop_pipe[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->timer_cond, &ca);
	pthread_cond_init(&p->idle_cond, &ca);
	pthread_condattr_destroy(&ca);

	if (pipe2(p->stop_pipe, O_CLOEXEC) < 0) {
		*error_r = "cannot create a pipe";
		goto fail;
	}
	if (notify_open(p, error_r) < 0)
		goto fail;
	if (pthread_create(&p->timer_thread, NULL, timer_main, p) != 0) {
		*error_r = "cannot start the push timer thread";
		goto fail;
	}
	p->timer_running = true;
	if (pthread_create(&p->notify_thread, NULL, notify_main, p) != 0) {
		*error_r = "cannot start the notification thread";
		goto fail;
	}
	p->notify_running = true;
	store_set_notify(push_store_hook, p);
	return p;
fail:
	push_free(&p);
	return NULL;
}

static void
stop_threads(struct push *p)
{
	if (p->timer_running) {
		pthread_mutex_lock(&p->mu);
		p->timer_stop = true;
		pthread_cond_signal(&p->timer_cond);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->timer_thread, NULL);
		p->timer_running = false;
	}
	if (p->notify_running) {
		if (write(p->stop_pipe[1], "x", 1) < 0)
			log_warn("push: cannot stop the notification thread");
		pthread_join(p->notify_thread, NULL);
		p->notify_running = false;
	}
}

void
push_shutdown(struct push *p)
{
	uint64_t until = time_mono_ms() + PUSH_SHUTDOWN_WAIT_MS;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	for (size_t i = 0; i < p->acc_cap; i++) {
		struct push_waiter *w, *next;

		if (p->acc[i] == NULL)
			continue;
		for (w = p->acc[i]->waiters; w != NULL; w = next) {
			next = w->next_in_account;
			fire(p, w, PUSH_SHUTDOWN);
		}
	}
	/* libmicrohttpd must not be stopped with suspended connections:
	 * wait until the front end has answered every fired waiter. */
	while (p->armed > 0 || p->unanswered > 0) {
		struct timespec ts = mono_timespec(until);

		if (pthread_cond_timedwait(&p->idle_cond, &p->mu, &ts) ==
		    ETIMEDOUT) {
			log_error("push: %zu parked requests still unanswered "
				  "at shutdown",
				  p->armed + p->unanswered);
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	store_set_notify(NULL, NULL);
	stop_threads(p);
	if (p->notify_path != NULL && p->notify_fd >= 0)
		unlink(p->notify_path);
}

void
push_free(struct push **pp)
{
	struct push *p = *pp;

	if (p == NULL)
		return;
	store_set_notify(NULL, NULL);
	stop_threads(p);
	if (p->notify_fd >= 0) {
		unlink(p->notify_path);
		close(p->notify_fd);
	}
	if (p->stop_pipe[0] >= 0)
		close(p->stop_pipe[0]);
	if (p->stop_pipe[1] >= 0)
		close(p->stop_pipe[1]);
	for (size_t i = 0; i < p->acc_cap; i++)
		free(p->acc[i]);
	free(p->acc);
	free(p->heap);
	free(p->notify_path);
	pthread_cond_destroy(&p->timer_cond);
	pthread_cond_destroy(&p->idle_cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}
