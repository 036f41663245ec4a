/* The end-to-end harness: fresh data dir + accounts through the store API,
 * a real easd on loopback port 0, readiness from its stdout, a registry of
 * running servers so no failure leaves one behind. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "util.h"
#include "xalloc.h"

#define HARNESS_MAX_PROCS 64
#define HARNESS_READY_TIMEOUT_MS 60000
#define HARNESS_STOP_TIMEOUT_MS 10000
#define HARNESS_MAX_ARGS 64

/* pids of running servers; read by signal handlers, so plain
 * sig_atomic_t-sized slots written before/after the fork. */
static volatile pid_t harness_pids[HARNESS_MAX_PROCS];
static pthread_mutex_t harness_lock = PTHREAD_MUTEX_INITIALIZER;
static bool harness_installed;

static void
registry_add(pid_t pid)
{
	pthread_mutex_lock(&harness_lock);
	for (size_t i = 0; i < HARNESS_MAX_PROCS; i++)
		if (harness_pids[i] == 0) {
			harness_pids[i] = pid;
			break;
		}
	pthread_mutex_unlock(&harness_lock);
}

static void
registry_remove(pid_t pid)
{
	pthread_mutex_lock(&harness_lock);
	for (size_t i = 0; i < HARNESS_MAX_PROCS; i++)
		if (harness_pids[i] == pid)
			harness_pids[i] = 0;
	pthread_mutex_unlock(&harness_lock);
}

static void
registry_kill_all(void)
{
	/* async-signal-safe: kill() only */
	for (size_t i = 0; i < HARNESS_MAX_PROCS; i++)
		if (harness_pids[i] > 0)
			kill(harness_pids[i], SIGKILL);
}

static void
harness_atexit(void)
{
	for (size_t i = 0; i < HARNESS_MAX_PROCS; i++) {
		pid_t pid = harness_pids[i];

		if (pid > 0) {
			fprintf(stderr, "harness: killing leftover easd %ld\n",
				(long)pid);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			harness_pids[i] = 0;
		}
	}
}

static void
harness_on_signal(int sig)
{
	registry_kill_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
harness_install(void)
{
	struct sigaction sa;
	static const int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGHUP};

	if (harness_installed)
		return;
	harness_installed = true;
	atexit(harness_atexit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = harness_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_ELEMENTS(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
harness_rmtree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void
easd_print_log(const struct easd_proc *p)
{
	char buf[4096];
	FILE *f;
	size_t n;

	if (p == NULL || p->log_path == NULL)
		return;
	f = fopen(p->log_path, "r");
	if (f == NULL) {
		fprintf(stderr, "harness: no server log at %s\n", p->log_path);
		return;
	}
	fprintf(stderr, "----- easd log (%s) -----\n", p->log_path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "----- end of easd log -----\n");
	fclose(f);
}

int
harness_log_count(const struct easd_proc *p, const char *needle)
{
	FILE *f = p != NULL ? fopen(p->log_path, "r") : NULL;
	char line[8192];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

int
harness_wait_log(const struct easd_proc *p, const char *needle, int n,
		 int timeout_ms)
{
	uint64_t until = time_mono_ms() + (uint64_t)timeout_ms;
	int seen;

	while ((seen = harness_log_count(p, needle)) < n &&
	       time_mono_ms() < until) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	return seen;
}

struct store *
easd_store(const struct easd_proc *p)
{
	struct store *s = NULL;
	const char *err = NULL;

	if (store_open(p->db_path, &s, &err) != STORE_OK) {
		fprintf(stderr, "harness: store_open %s: %s\n", p->db_path,
			err != NULL ? err : "?");
		return NULL;
	}
	return s;
}

static int
create_accounts(struct easd_proc *p)
{
	struct store *s = easd_store(p);
	enum store_error e;
	int ret = -1;

	if (s == NULL)
		return -1;
	e = store_account_add(s, HARNESS_ADA, HARNESS_ADA_EMAIL, "Ada Lovelace",
			      HARNESS_PASSWORD, &p->ada_id);
	if (e != STORE_OK) {
		fprintf(stderr, "harness: adding ada: %s\n",
			store_error_str(e));
		goto out;
	}
	e = store_account_add(s, HARNESS_BOB, HARNESS_BOB_EMAIL, "Bob Builder",
			      HARNESS_PASSWORD, &p->bob_id);
	if (e != STORE_OK) {
		fprintf(stderr, "harness: adding bob: %s\n",
			store_error_str(e));
		goto out;
	}
	ret = 0;
out:
	store_close(&s);
	return ret;
}

static void *
drain_stdout(void *arg)
{
	struct easd_proc *p = arg;
	char buf[4096];

	/* Keep reading so the server never blocks on a full pipe; what it
	 * prints after "ready" is of no interest. */
	while (read(p->stdout_fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void
proc_free(struct easd_proc *p)
{
	if (p->stdout_fd >= 0)
		close(p->stdout_fd);
	free(p->drainer);
	free(p->dir);
	free(p->db_path);
	free(p->log_path);
	free(p->url);
	free(p);
}

/* Parse "easd: listening on 127.0.0.1:PORT" style lines. */
static int
parse_port(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *colon;
	int64_t port;

	if (strncmp(line, prefix, n) != 0)
		return -1;
	colon = strrchr(line + n, ':');
	if (colon == NULL || str_to_int64(colon + 1, &port) < 0 || port <= 0 ||
	    port > 65535)
		return -1;
	return (int)port;
}

/* Read stdout lines until "easd: ready", EOF or the deadline. */
static int
wait_ready(struct easd_proc *p)
{
	char buf[8192];
	size_t len = 0;
	uint64_t deadline = time_mono_ms() + HARNESS_READY_TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd = {.fd = p->stdout_fd, .events = POLLIN};
		uint64_t now = time_mono_ms();
		char *nl;
		ssize_t n;
		int rc;

		while ((nl = memchr(buf, '\n', len)) != NULL) {
			int port;

			*nl = '\0';
			if (strcmp(buf, "easd: ready") == 0)
				return 0;
			if ((port = parse_port(buf, "easd: listening on ")) > 0)
				p->port = port;
			else if ((port = parse_port(buf, "easd: lmtp on ")) > 0)
				p->lmtp_port = port;
			else if ((port = parse_port(buf, "easd: admin on ")) >
				 0)
				p->admin_port = port;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == sizeof(buf))
			len = 0; /* an absurd line: drop it */
		if (now >= deadline) {
			fprintf(stderr, "harness: easd not ready after %d s\n",
				HARNESS_READY_TIMEOUT_MS / 1000);
			return -1;
		}
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(p->stdout_fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "harness: easd exited before ready\n");
			return -1;
		}
		len += (size_t)n;
	}
}

static int
wait_exit(pid_t pid, int timeout_ms)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (time_mono_ms() >= deadline) {
			fprintf(stderr,
				"harness: easd %ld ignored SIGTERM for "
				"%d s; killing it\n",
				(long)pid, timeout_ms / 1000);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		{
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* What servers started from now on run under (harness_set_wrapper). */
static const char *const *wrapper;

void
harness_set_wrapper(const char *const *argv)
{
	wrapper = argv;
}

static struct easd_proc *
start_in(struct easd_proc *p, const char *const *extra_args)
{
	const char *bin = harness_easd();
	const char *argv[HARNESS_MAX_ARGS + HARNESS_MAX_ARGS + 12];
	size_t argc = 0;
	int pfd[2];
	pid_t pid;
	pthread_t *t;

	if (access(bin, X_OK) < 0) {
		fprintf(stderr, "harness: server binary %s: %s\n", bin,
			strerror(errno));
		goto fail;
	}
	for (size_t i = 0; wrapper != NULL && wrapper[i] != NULL; i++) {
		if (i >= HARNESS_MAX_ARGS) {
			fprintf(stderr, "harness: too many arguments\n");
			goto fail;
		}
		argv[argc++] = wrapper[i];
	}
	argv[argc++] = bin;
	argv[argc++] = "--data";
	argv[argc++] = p->dir;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--lmtp";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--log-level";
	argv[argc++] = "debug";
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
		if (i >= HARNESS_MAX_ARGS) {
			fprintf(stderr, "harness: too many arguments\n");
			goto fail;
		}
		argv[argc++] = extra_args[i];
	}
	argv[argc] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		perror("harness: pipe");
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("harness: fork");
		close(pfd[0]);
		close(pfd[1]);
		goto fail;
	}
	if (pid == 0) {
		int logfd =
			open(p->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* Die with the test process, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (logfd < 0 || dup2(pfd[1], 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	p->pid = pid;
	p->stdout_fd = pfd[0];
	registry_add(pid);
	if (wait_ready(p) < 0 || p->port == 0) {
		if (p->port == 0)
			fprintf(stderr, "harness: easd did not print its "
					"port\n");
		kill(pid, SIGKILL);
		wait_exit(pid, HARNESS_STOP_TIMEOUT_MS);
		registry_remove(pid);
		easd_print_log(p);
		goto fail;
	}
	p->url = xasprintf("http://127.0.0.1:%d", p->port);
	t = xmalloc(sizeof(*t));
	if (pthread_create(t, NULL, drain_stdout, p) != 0) {
		free(t);
	} else {
		p->drainer = t;
	}
	return p;
fail:
	harness_rmtree(p->dir);
	proc_free(p);
	return NULL;
}

/* The store the server will use: --store URL among its arguments, else
 * the database file in dir. */
static struct easd_proc *
proc_new(const char *dir, const char *const *extra_args)
{
	struct easd_proc *p = xcalloc(1, sizeof(*p));
	const char *url = NULL;

	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
		if (strcmp(extra_args[i], "--store") == 0)
			url = extra_args[i + 1];
	p->stdout_fd = -1;
	p->dir = xstrdup(dir);
	p->db_path = url != NULL ? xstrdup(url) : xasprintf("%s/easd.db", dir);
	p->log_path = xasprintf("%s/easd.log", dir);
	return p;
}

struct easd_proc *
easd_start(const char *const *extra_args)
{
	char tmpl[] = "/tmp/easd-e2e-XXXXXX";
	struct easd_proc *p;

	harness_install();
	if (mkdtemp(tmpl) == NULL) {
		perror("harness: mkdtemp");
		return NULL;
	}
	p = proc_new(tmpl, extra_args);
	if (create_accounts(p) < 0) {
		harness_rmtree(p->dir);
		proc_free(p);
		return NULL;
	}
	return start_in(p, extra_args);
}

struct easd_proc *
easd_start_in(const char *dir, const char *const *extra_args)
{
	struct easd_proc *p;

	harness_install();
	p = proc_new(dir, extra_args);
	if (create_accounts(p) < 0) {
		proc_free(p);
		return NULL;
	}
	return start_in(p, extra_args);
}

struct easd_proc *
easd_start_dir(const char *dir, const char *const *extra_args)
{
	struct easd_proc *p;
	struct store *s;
	struct store_account acc;
	struct arena *a;

	harness_install();
	p = proc_new(dir, extra_args);
	/* Look the account ids up again for the caller (when there is a
	 * database: opening would create it). */
	s = access(p->db_path, F_OK) == 0 || store_is_url(p->db_path)
		    ? easd_store(p)
		    : NULL;
	if (s != NULL) {
		a = arena_new(1024);
		if (store_account_get(s, a, HARNESS_ADA, &acc) == STORE_OK)
			p->ada_id = acc.id;
		if (store_account_get(s, a, HARNESS_BOB, &acc) == STORE_OK)
			p->bob_id = acc.id;
		arena_free(&a);
		store_close(&s);
	}
	return start_in(p, extra_args);
}

static int
stop_process(struct easd_proc *p)
{
	int status;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, SIGTERM);
	status = wait_exit(p->pid, HARNESS_STOP_TIMEOUT_MS);
	registry_remove(p->pid);
	p->pid = 0;
	if (p->drainer != NULL) {
		pthread_join(*(pthread_t *)p->drainer, NULL);
		xfree(&p->drainer);
	}
	if (status != 0) {
		fprintf(stderr, "harness: easd exited with status %d\n",
			status);
		easd_print_log(p);
	}
	return status;
}

int
easd_stop(struct easd_proc **pp)
{
	struct easd_proc *p = *pp;
	int status;

	if (p == NULL)
		return -1;
	status = stop_process(p);
	if (getenv("EASD_KEEP") == NULL)
		harness_rmtree(p->dir);
	else
		fprintf(stderr, "harness: keeping %s\n", p->dir);
	proc_free(p);
	*pp = NULL;
	return status;
}

int
easd_stop_keep(struct easd_proc **pp, char **dir_r)
{
	struct easd_proc *p = *pp;
	int status;

	if (p == NULL)
		return -1;
	status = stop_process(p);
	*dir_r = xstrdup(p->dir);
	proc_free(p);
	*pp = NULL;
	return status;
}

struct eas_client *
harness_client_new(const struct easd_proc *p, const char *user,
		   const char *device_id)
{
	return eas_client_new(p->url, user, HARNESS_PASSWORD, device_id,
			      "TestDevice");
}

struct eas_client *
harness_client(const struct easd_proc *p, const char *user,
	       const char *device_id)
{
	struct eas_client *c = harness_client_new(p, user, device_id);
	struct arena *a = arena_new(16 * 1024);
	int rc = eas_client_provision(c, a, NULL);

	arena_free(&a);
	if (rc != 0) {
		fprintf(stderr, "harness: provisioning %s/%s failed: %s\n",
			user, device_id, eas_client_error(c));
		easd_print_log(p);
		eas_client_free(&c);
		return NULL;
	}
	return c;
}

/* Read one LMTP reply (possibly multi-line); returns its code. */
static int
lmtp_reply(FILE *f)
{
	char line[1024];
	int code = -1;

	while (fgets(line, sizeof(line), f) != NULL) {
		code = atoi(line);
		if (strlen(line) < 4 || line[3] != '-')
			break;
	}
	return code;
}

int
harness_lmtp_deliver(const struct easd_proc *p, const char *rcpt,
		     const char *msg)
{
	return harness_lmtp_deliver_from(p, "sender@example.net", rcpt, msg);
}

int
harness_lmtp_deliver_from(const struct easd_proc *p, const char *from,
			  const char *rcpt, const char *msg)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)p->lmtp_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	f = fdopen(fd, "r+");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	if (lmtp_reply(f) != 220)
		goto out;
	fprintf(f, "LHLO test\r\n");
	fflush(f);
	if (lmtp_reply(f) != 250)
		goto out;
	fprintf(f, "MAIL FROM:<%s>\r\n", from);
	fflush(f);
	if (lmtp_reply(f) != 250)
		goto out;
	fprintf(f, "RCPT TO:<%s>\r\n", rcpt);
	fflush(f);
	code = lmtp_reply(f);
	if (code != 250)
		goto out;
	fprintf(f, "DATA\r\n");
	fflush(f);
	if (lmtp_reply(f) != 354) {
		code = -1;
		goto out;
	}
	for (const char *q = msg; *q != '\0';) {
		const char *nl = strchr(q, '\n');
		size_t len = nl != NULL ? (size_t)(nl - q) : strlen(q);

		if (len > 0 && q[len - 1] == '\r')
			len--;
		fprintf(f, "%s%.*s\r\n", *q == '.' ? "." : "", (int)len, q);
		q += (nl != NULL ? (size_t)(nl - q) + 1 : strlen(q));
	}
	fprintf(f, ".\r\n");
	fflush(f);
	code = lmtp_reply(f);
	fprintf(f, "QUIT\r\n");
	fflush(f);
out:
	fclose(f);
	return code;
}

int
harness_run(const char *const *argv, char **output_r, int timeout_ms)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)timeout_ms;
	struct buf out;
	int pfd[2], status = 0;
	bool killed = false;
	pid_t pid;

	harness_install();
	*output_r = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (in < 0 || dup2(in, 0) < 0 || dup2(pfd[1], 1) < 0 ||
		    dup2(pfd[1], 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	registry_add(pid);
	buf_init(&out, 4 * 1024 * 1024);
	for (;;) {
		struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
		uint64_t now = time_mono_ms();
		char chunk[4096];
		ssize_t n;

		if (now >= deadline && !killed) {
			fprintf(stderr,
				"harness: %s still running after %d ms: "
				"killed\n",
				argv[0], timeout_ms);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&pf, 1, killed ? 1000 : (int)(deadline - now)) <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&out, chunk, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	registry_remove(pid);
	buf_append(&out, "", 1);
	{
		size_t len;

		*output_r = (char *)buf_steal(&out, &len);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

const char *
harness_easd(void)
{
	const char *b = getenv("EASD_BIN");

	return b != NULL && b[0] != '\0' ? b : "build/asan/easd";
}

const char *
harness_easctl(void)
{
	const char *b = getenv("EASCTL_BIN");

	return b != NULL && b[0] != '\0' ? b : "build/asan/easctl";
}

/* --- the SMTP relay --- */

#define RELAY_PYTHON "/usr/bin/python3"

struct relay_proc *
relay_start(int port, const char *const *extra_args)
{
	const char *src = getenv("EASD_SRCDIR");
	char *script = xasprintf("%s/tests/e2e/smtp-relay.py",
				 src != NULL ? src : ".");
	char portbuf[16], line[256];
	const char *argv[HARNESS_MAX_ARGS + 8];
	struct relay_proc *r = xcalloc(1, sizeof(*r));
	size_t argc = 0, len = 0;
	uint64_t deadline;
	int pfd[2];
	pid_t pid;

	harness_install();
	if (system(RELAY_PYTHON " -c 'import aiosmtpd' 2>/dev/null") != 0) {
		fprintf(stderr, "python3-aiosmtpd is not installed\n");
		goto fail;
	}
	r->dir = xstrdup("/tmp/easd-relay-XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		goto fail;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	argv[argc++] = RELAY_PYTHON;
	argv[argc++] = script;
	argv[argc++] = "--dir";
	argv[argc++] = r->dir;
	argv[argc++] = "--port";
	argv[argc++] = portbuf;
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL &&
			   i < HARNESS_MAX_ARGS;
	     i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		goto fail;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(pfd[1], 1) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	r->pid = pid;
	registry_add(pid);
	deadline = time_mono_ms() + HARNESS_READY_TIMEOUT_MS;
	while (r->port == 0 && time_mono_ms() < deadline) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
		if (strchr(line, '\n') != NULL) {
			int64_t v;

			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "relay: listening on ", 20) == 0 &&
			    str_to_int64(line + 20, &v) == 0)
				r->port = (int)v;
			break;
		}
	}
	close(pfd[0]);
	if (r->port == 0) {
		fprintf(stderr, "harness: the SMTP relay did not start\n");
		kill(pid, SIGKILL);
		wait_exit(pid, HARNESS_STOP_TIMEOUT_MS);
		registry_remove(pid);
		r->pid = 0;
		goto fail;
	}
	free(script);
	return r;
fail:
	free(script);
	relay_stop(&r, false);
	return NULL;
}

void
relay_stop(struct relay_proc **pp, bool keep)
{
	struct relay_proc *r = *pp;

	if (r == NULL)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		if (wait_exit(r->pid, HARNESS_STOP_TIMEOUT_MS) < 0) {
			kill(r->pid, SIGKILL);
			wait_exit(r->pid, HARNESS_STOP_TIMEOUT_MS);
		}
		registry_remove(r->pid);
	}
	if (!keep)
		harness_rmtree(r->dir);
	free(r->dir);
	free(r);
	*pp = NULL;
}

int
relay_count(const struct relay_proc *r)
{
	int n = 0;

	for (;;) {
		char *path = xasprintf("%s/%06d.eml", r->dir, n + 1);
		bool there = access(path, F_OK) == 0;

		free(path);
		if (!there)
			return n;
		n++;
	}
}

char *
relay_message(const struct relay_proc *r, int n)
{
	char *path = xasprintf("%s/%06d.eml", r->dir, n);
	struct buf b;
	const char *err;
	size_t len;

	buf_init(&b, 64 * 1024 * 1024);
	if (buf_read_path(&b, path, &err) < 0) {
		buf_deinit(&b);
		free(path);
		return NULL;
	}
	free(path);
	return (char *)buf_steal(&b, &len);
}

/* --- plain HTTP (the admin listener) --- */

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	buf_append(ctx, p, size * n);
	return size * n;
}

long
harness_http_get(const char *url, char **body_r)
{
	CURL *c = curl_easy_init();
	struct buf b;
	long status = -1;

	buf_init(&b, 16 * 1024 * 1024);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	*body_r = xstrndup(b.data != NULL ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return status;
}

double
harness_metric(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}
