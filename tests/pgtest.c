/* See pgtest.h. The server runs as an unprivileged user: PostgreSQL
 * refuses to run as root, so a test running as root (CI) runs initdb,
 * pg_ctl and postgres as the `postgres` system user of the Debian
 * package. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <grp.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

static char bindir[256];
static char dir[64]; /* the temporary directory, "" when none */
static bool running;
static char url[256];
static pid_t owner; /* the process that started it (not a fork child) */

static bool
find_bindir(void)
{
	glob_t g;
	bool found = false;

	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
		return false;
	if (g.gl_pathc > 0) {
		/* the highest version sorts last */
		const char *p = g.gl_pathv[g.gl_pathc - 1];
		size_t n = strlen(p) - strlen("/initdb");

		if (n < sizeof(bindir)) {
			memcpy(bindir, p, n);
			bindir[n] = '\0';
			found = true;
		}
	}
	globfree(&g);
	return found;
}

/* Run argv (a PostgreSQL program), as the postgres user when root; the
 * output goes to dir/NAME.log. 0 on exit status 0. */
static int
run(const char *name, const char *const argv[])
{
	char log[128];
	pid_t pid;
	int status;

	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	/* or the child's freopen writes the parent's pending output again */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		if (f == NULL || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(126);
		if (geteuid() == 0) {
			struct passwd *pw = getpwnam("postgres");

			if (pw == NULL || setgid(pw->pw_gid) != 0 ||
			    setgroups(0, NULL) != 0 || setuid(pw->pw_uid) != 0)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void
print_log(const char *name)
{
	char path[128], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "pgtest: %s: %s", name, line);
	fclose(f);
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
remove_dir(void)
{
	char cmd[128];

	if (dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "pgtest: cannot remove %s\n", dir);
	dir[0] = '\0';
}

void
pgtest_stop(void)
{
	char ctl[300], data[128];

	if (getpid() != owner)
		return; /* a forked child exiting: not its server */
	if (running) {
		snprintf(ctl, sizeof(ctl), "%s/pg_ctl", bindir);
		snprintf(data, sizeof(data), "%s/data", dir);
		/* immediate: the data goes away with the directory */
		const char *const argv[] = {ctl,	 "-D", data,   "-m",
					    "immediate", "-w", "stop", NULL};

		if (run("pg_ctl-stop", argv) != 0)
			fprintf(stderr, "pgtest: pg_ctl stop failed\n");
		running = false;
	}
	remove_dir();
}

static int server_port;

static int
createdb(const char *name)
{
	char psql[300], portbuf[16], sql[160];

	snprintf(psql, sizeof(psql), "%s/psql", bindir);
	snprintf(portbuf, sizeof(portbuf), "%d", server_port);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	const char *const argv[] = {
		psql,	"-h", "127.0.0.1", "-p", portbuf, "-U",
		"easd", "-d", "postgres",  "-q", "-v",	  "ON_ERROR_STOP=1",
		"-c",	sql,  NULL};

	if (run("createdb", argv) != 0) {
		print_log("createdb");
		return -1;
	}
	return 0;
}

int
pgtest_restart(void)
{
	char ctl[300], data[128], log[128];

	if (!running)
		return -1;
	snprintf(ctl, sizeof(ctl), "%s/pg_ctl", bindir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(log, sizeof(log), "%s/server.log", dir);
	/* the options of the first start are pg_ctl's (postmaster.opts) */
	const char *const argv[] = {ctl,    "-D", data, "-l", log,	 "-m",
				    "fast", "-w", "-t", "60", "restart", NULL};

	if (run("pg_ctl-restart", argv) != 0) {
		print_log("pg_ctl-restart");
		print_log("server");
		return -1;
	}
	return 0;
}

static void
on_signal(int sig)
{
	pgtest_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A test that dies without exit handlers (a sanitizer report, SIGKILL)
 * must not leave a server behind: a watchdog process waits for the end
 * of a pipe only the test holds, then stops the server and removes the
 * directory. */
static void
start_watchdog(void)
{
	int fds[2];
	pid_t pid;
	char buf[1];

	if (pipe(fds) != 0)
		return;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid > 0) {
		close(fds[0]);
		/* not inherited by the programs the tests exec */
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		return;
	}
	close(fds[1]);
	setsid(); /* a ^C of the test's terminal is the test's to handle */
	while (read(fds[0], buf, 1) < 0 && errno == EINTR)
		;
	if (access(dir, F_OK) == 0) {
		/* the test did not stop it itself */
		owner = getpid();
		running = true;
		pgtest_stop();
	}
	_exit(0);
}

const char *
pgtest_start(const char *name, const char **why_r)
{
	static const char tmpl[] = "/tmp/easd-pgtest-XXXXXX";
	char initdb[300], ctl[300], data[128], opts[256];
	int port;

	*why_r = NULL;
	if (url[0] != '\0')
		return url;
	if (!find_bindir()) {
		*why_r = "PostgreSQL is not installed (make deps installs it)";
		return NULL;
	}
	memcpy(dir, tmpl, sizeof(tmpl));
	if (mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		*why_r = "cannot create a temporary directory";
		return NULL;
	}
	owner = getpid();
	start_watchdog();
	atexit(pgtest_stop);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGABRT, on_signal);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL || chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
			*why_r = "running as root without a postgres user";
			remove_dir();
			return NULL;
		}
	}
	snprintf(initdb, sizeof(initdb), "%s/initdb", bindir);
	snprintf(ctl, sizeof(ctl), "%s/pg_ctl", bindir);
	snprintf(data, sizeof(data), "%s/data", dir);
	{
		const char *const argv[] = {
			initdb,	     "-D",    data, "-U",   "easd",
			"-A",	     "trust", "-E", "UTF8", "--locale=C.UTF-8",
			"--no-sync", NULL};

		if (run("initdb", argv) != 0) {
			print_log("initdb");
			*why_r = "initdb failed";
			remove_dir();
			return NULL;
		}
	}
	port = free_port();
	if (port < 0) {
		*why_r = "no free port";
		remove_dir();
		return NULL;
	}
	/* loopback only, its socket in the directory; durability is not
	 * what these tests are about */
	snprintf(opts, sizeof(opts),
		 "-p %d -h 127.0.0.1 -k %s -c fsync=off "
		 "-c synchronous_commit=off -c full_page_writes=off "
		 "-c max_connections=200",
		 port, dir);
	{
		char log[128];

		snprintf(log, sizeof(log), "%s/server.log", dir);
		const char *const argv[] = {ctl,  "-D", data,	 "-l",
					    log,  "-o", opts,	 "-w",
					    "-t", "60", "start", NULL};

		if (run("pg_ctl-start", argv) != 0) {
			print_log("pg_ctl-start");
			print_log("server");
			*why_r = "the server did not start";
			running = true; /* stop whatever half-started */
			pgtest_stop();
			return NULL;
		}
	}
	running = true;
	server_port = port;
	if (createdb(name) != 0) {
		*why_r = "cannot create the database";
		pgtest_stop();
		return NULL;
	}
	snprintf(url, sizeof(url), "postgresql://easd@127.0.0.1:%d/%s", port,
		 name);
	return url;
}

char *
pgtest_createdb(const char *name)
{
	char *r;

	if (!running || createdb(name) != 0)
		return NULL;
	if (asprintf(&r, "postgresql://easd@127.0.0.1:%d/%s", server_port,
		     name) < 0)
		return NULL;
	return r;
}

void
pgtest_wipe(const char *db_url)
{
	PGconn *c = PQconnectdb(db_url);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest_wipe: %s", PQerrorMessage(c));
		abort();
	}
	r = PQexec(c, "SET client_min_messages = warning;"
		      "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pgtest_wipe: %s", PQerrorMessage(c));
		abort();
	}
	PQclear(r);
	PQfinish(c);
}
