/* The end-to-end harness: start a real easd on a fresh data directory with
 * two accounts, talk to it through the client library, stop it. Linked
 * into every e2e runner and benchmark. A failing test never leaves a server
 * behind: started servers are killed at exit and on SIGINT/SIGTERM/SIGABRT.
 */
#ifndef EASD_E2E_HARNESS_H
#define EASD_E2E_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "client-eas.h"
#include "store.h"

/* The accounts every server starts with. */
#define HARNESS_PASSWORD "secret-pass"
#define HARNESS_ADA "ada"
#define HARNESS_ADA_EMAIL "ada@example.org"
#define HARNESS_BOB "bob"
#define HARNESS_BOB_EMAIL "bob@example.org"

struct easd_proc {
	pid_t pid;
	char *dir;	/* the data directory (mkdtemp) */
	char *db_path;	/* dir/easd.db, or the --store URL of extra_args */
	char *log_path; /* dir/easd.log: the server's stderr */
	char *url;	/* http://127.0.0.1:PORT */
	int port;
	int lmtp_port;		/* 0 when the server printed none */
	int admin_port;		/* --admin-listen's, 0 when none */
	int64_t ada_id, bob_id; /* account ids */
	int stdout_fd;		/* drained by a thread after ready */
	void *drainer;		/* pthread_t * */
};

/* Create the data dir and accounts, start $EASD_BIN (default
 * build/asan/easd) as `easd --data DIR --listen 127.0.0.1:0 --lmtp
 * 127.0.0.1:0 --log-level debug [extra_args]` and wait until it prints
 * "easd: ready" (at most 60 s). NULL on failure (after printing why and the
 * server log). extra_args is NULL-terminated, may be NULL. */
struct easd_proc *easd_start(const char *const *extra_args);
/* Servers started from now on run under argv (NULL terminated, e.g.
 * valgrind and its options; the array must outlive them); NULL: none. */
void harness_set_wrapper(const char *const *argv);
/* Like easd_start but in dir, an existing empty directory (a mount point,
 * say), which it adopts (removed on stop). */
struct easd_proc *easd_start_in(const char *dir, const char *const *extra_args);
/* Like easd_start but on an existing data dir (for restart tests): the
 * accounts are not created again. The dir is adopted (removed on stop). */
struct easd_proc *easd_start_dir(const char *dir,
				 const char *const *extra_args);
/* SIGTERM, wait up to 10 s (then SIGKILL), remove the data dir (unless
 * EASD_KEEP is set), free *pp. Returns the exit status (0 = clean exit,
 * 128+N when killed by signal N, -1 when it was not running). */
int easd_stop(struct easd_proc **pp);
/* Stop the process but keep the data dir; *dir_r is the heap path. For
 * restarting on the same data with easd_start_dir. */
int easd_stop_keep(struct easd_proc **pp, char **dir_r);

/* Print the server log to stderr (for failing tests). */
void easd_print_log(const struct easd_proc *p);
/* Lines of the server log that contain needle (-1 without a log). */
int harness_log_count(const struct easd_proc *p, const char *needle);
/* Wait until at least n lines of the server log contain needle, for at
 * most timeout_ms (a safety bound: tests wait for the event, never for a
 * time). Returns the count seen last. */
int harness_wait_log(const struct easd_proc *p, const char *needle, int n,
		     int timeout_ms);

/* A store connection on the server's database (close with store_close). */
struct store *easd_store(const struct easd_proc *p);

/* A client for user ("ada"/"bob", password HARNESS_PASSWORD) that has run
 * Provision; NULL on failure (after printing why and the log). Free with
 * eas_client_free. */
struct eas_client *harness_client(const struct easd_proc *p, const char *user,
				  const char *device_id);
/* The same without Provision. */
struct eas_client *harness_client_new(const struct easd_proc *p,
				      const char *user, const char *device_id);

/* The easctl binary the tests run ($EASCTL_BIN, default
 * build/asan/easctl). */
const char *harness_easctl(void);

/* Deliver msg (LF or CRLF lines) to rcpt over the server's LMTP port in
 * one session. Returns the reply code to RCPT when that is not 250, else
 * the per-recipient reply to DATA (250 when stored), or -1 when the
 * session broke. */
int harness_lmtp_deliver(const struct easd_proc *p, const char *rcpt,
			 const char *msg);
/* The same with the envelope sender from ("" for the null sender). */
int harness_lmtp_deliver_from(const struct easd_proc *p, const char *from,
			      const char *rcpt, const char *msg);

/* A real SMTP relay on loopback (tests/e2e/smtp-relay.py, Debian's
 * python3-aiosmtpd): every accepted message becomes DIR/NNNNNN.eml with
 * the envelope in X-Relay-From/X-Relay-To lines; recipients named
 * refuse... get 550, defer... get 451. Killed at exit like the servers. */
struct relay_proc {
	pid_t pid;
	char *dir;
	int port;
};

/* Start one on port (0 = any) with extra arguments ("--hold-data", NULL
 * terminated, may be NULL). NULL when python3-aiosmtpd is missing (the
 * caller skips, saying so) or it did not start (after printing why). */
struct relay_proc *relay_start(int port, const char *const *extra_args);
/* Stop it (SIGTERM, then SIGKILL) and remove its directory unless keep;
 * frees *pp. */
void relay_stop(struct relay_proc **pp, bool keep);
/* How many messages it accepted; the text of the n-th (1-based, heap,
 * NULL when there is none). */
int relay_count(const struct relay_proc *r);
char *relay_message(const struct relay_proc *r, int n);

/* Run argv (argv[0] a path) with stdin from /dev/null and wait for it,
 * at most timeout_ms (then it is killed). *output_r gets its stdout and
 * stderr together (heap, NUL terminated). Returns the exit status (128+N
 * when killed by signal N), -1 when it could not run. */
int harness_run(const char *const *argv, char **output_r, int timeout_ms);
/* The easd binary the tests run ($EASD_BIN, default build/asan/easd). */
const char *harness_easd(void);

/* Remove a directory tree (ignores errors). */
void harness_rmtree(const char *dir);

/* GET url (at most 30 s); the body (heap, NUL terminated) into *body_r.
 * Returns the HTTP status, -1 when there was no answer. */
long harness_http_get(const char *url, char **body_r);
/* In a /metrics text: the value of the sample whose name and labels are
 * exactly series ("easd_requests_total{command=\"Sync\",status=\"200\"}");
 * 0 when it is absent (a counter not yet touched). */
double harness_metric(const char *text, const char *series);

#endif
