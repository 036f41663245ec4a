/* easctl as an administrator uses it: every command run as a subprocess
 * on a temporary data directory, with its errors, the changes a running
 * server is notified of, and import -> export round trips
 * of tests/data/easctl/. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "harness.h"
#include "store.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define MAX_OUTPUT (4 * 1024 * 1024)

static char *data_dir; /* fresh for every test */
static char *run_out, *run_err;

static const char *
srcdir(void)
{
	const char *s = getenv("EASD_SRCDIR");

	return s != NULL && s[0] != '\0' ? s : ".";
}

static char *
data_file(const char *name)
{
	return xasprintf("%s/tests/data/easctl/%s", srcdir(), name);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	size_t n;

	if (f == NULL)
		return xstrdup("");
	s = xmalloc(MAX_OUTPUT + 1);
	n = fread(s, 1, MAX_OUTPUT, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Run easctl --data DIR args... with stdin_text (NULL = /dev/null);
 * stdout/stderr land in run_out/run_err. Returns the exit status. */
static int
run_v(const char *stdin_text, const char *const *args)
{
	const char *argv[32];
	char *in_path = xasprintf("%s.in", data_dir);
	char *out_path = xasprintf("%s.out", data_dir);
	char *err_path = xasprintf("%s.err", data_dir);
	size_t n = 0;
	int status = -1;
	pid_t pid;

	argv[n++] = harness_easctl();
	argv[n++] = "--data";
	argv[n++] = data_dir;
	for (size_t i = 0; args[i] != NULL && n < N_ELEMENTS(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (stdin_text != NULL) {
		FILE *f = fopen(in_path, "w");

		fputs(stdin_text, f);
		fclose(f);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int in = open(stdin_text != NULL ? in_path : "/dev/null",
			      O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 ||
		    dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	free(run_out);
	free(run_err);
	run_out = slurp(out_path);
	run_err = slurp(err_path);
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	free(in_path);
	free(out_path);
	free(err_path);
	if (pid < 0 || !WIFEXITED(status))
		return -1;
	/* ASan reports land on stderr with a non-zero status; show them. */
	if (WEXITSTATUS(status) != 0 && strstr(run_err, "Sanitizer") != NULL)
		fprintf(stderr, "%s", run_err);
	return WEXITSTATUS(status);
}

#define RUN(...) run_v(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_IN(in, ...) run_v((in), (const char *const[]){__VA_ARGS__, NULL})

static int
setup_each(void)
{
	char tmpl[] = "/tmp/easctl-test-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	data_dir = xstrdup(tmpl);
	return 0;
}

static int
teardown_each(void)
{
	harness_rmtree(data_dir);
	xfree(&data_dir);
	xfree(&run_out);
	xfree(&run_err);
	return 0;
}

static void
test_setup(void)
{
	setup_each();
}

static void
test_teardown(void)
{
	teardown_each();
}

static struct store *
open_store(void)
{
	char *path = xasprintf("%s/easd.db", data_dir);
	struct store *s = NULL;
	const char *err;

	store_open(path, &s, &err);
	free(path);
	return s;
}

/* --- users --- */

static void
test_user_lifecycle(void)
{
	struct store *s;
	struct arena *a;
	struct store_account acc;

	CU_ASSERT_EQUAL(RUN("user", "add", "carol", "--email",
			    "carol@example.org", "--display-name", "Carol Shaw",
			    "--password", "pw-one"),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "carol"));
	CU_ASSERT_EQUAL(RUN("user", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "carol@example.org"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "Carol Shaw"));

	/* duplicate login and duplicate address */
	CU_ASSERT_EQUAL(RUN("user", "add", "carol", "--password", "x"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "already exists"));
	CU_ASSERT_EQUAL(RUN("user", "add", "carol2", "--email",
			    "carol@example.org", "--password", "x"),
			1);

	/* the password works, then changes */
	s = open_store();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	a = arena_new(1024);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "carol", "pw-one", &acc),
		STORE_OK);
	store_close(&s);
	CU_ASSERT_EQUAL(RUN_IN("pw-two\n", "user", "passwd", "carol",
			       "--password-stdin"),
			0);
	s = open_store();
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "carol", "pw-one", &acc),
		STORE_NOTFOUND);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "carol", "pw-two", &acc),
		STORE_OK);
	store_close(&s);

	CU_ASSERT_EQUAL(RUN("user", "disable", "carol"), 0);
	CU_ASSERT_EQUAL(RUN("user", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "disabled"));
	CU_ASSERT_EQUAL(RUN("user", "enable", "carol"), 0);
	CU_ASSERT_EQUAL(RUN("user", "list"), 0);
	CU_ASSERT_PTR_NULL(strstr(run_out, "disabled"));

	CU_ASSERT_EQUAL(RUN("user", "delete", "carol"), 0);
	CU_ASSERT_EQUAL(RUN("user", "list"), 0);
	CU_ASSERT_PTR_NULL(strstr(run_out, "carol"));
	arena_free(&a);
}

static void
test_user_generated_password(void)
{
	char pw[64] = "";
	const char *p;
	struct store *s;
	struct arena *a;
	struct store_account acc;

	CU_ASSERT_EQUAL(RUN("user", "add", "dave"), 0);
	p = strstr(run_out, "password: ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	sscanf(p + 10, "%63s", pw);
	CU_ASSERT(strlen(pw) >= 12);
	s = open_store();
	a = arena_new(1024);
	CU_ASSERT_EQUAL(store_account_check_password(s, a, "dave", pw, &acc),
			STORE_OK);
	CU_ASSERT_STRING_EQUAL(acc.email, "dave@localhost");
	arena_free(&a);
	store_close(&s);
}

static void
test_user_errors(void)
{
	static const char *const cmds[][3] = {
		{"passwd", "nobody", NULL},
		{"disable", "nobody", NULL},
		{"enable", "nobody", NULL},
		{"delete", "nobody", NULL},
	};

	CU_ASSERT_EQUAL(RUN("user", "passwd", "nobody", "--password", "x"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown user"));
	for (size_t i = 1; i < N_ELEMENTS(cmds); i++) {
		CU_ASSERT_EQUAL(RUN("user", cmds[i][0], cmds[i][1]), 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown user"));
	}
	CU_ASSERT_EQUAL(RUN("user", "frobnicate"), 2);
	CU_ASSERT_EQUAL(RUN("user", "add"), 2);
	CU_ASSERT_EQUAL(RUN("user", "add", "x", "--bogus"), 2);
	CU_ASSERT_EQUAL(RUN_IN("", "user", "add", "x", "--password-stdin"), 1);
	CU_ASSERT_EQUAL(RUN("frobnicate"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown command"));
}

static void
test_help(void)
{
	static const char *const cmds[] = {"user",   "device", "policy",
					   "import", "export", "stats"};

	CU_ASSERT_EQUAL(RUN("--help"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "usage"));
	for (size_t i = 0; i < N_ELEMENTS(cmds); i++) {
		CU_ASSERT_EQUAL(RUN(cmds[i], "--help"), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "usage"));
	}
	CU_ASSERT_EQUAL(RUN("user", "add", "--help"), 0);
	CU_ASSERT_EQUAL(RUN("device", "wipe", "--help"), 0);
}

/* --- policy --- */

static void
test_policy(void)
{
	CU_ASSERT_EQUAL(RUN("user", "add", "erin", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("policy", "show"), 0);
	CU_ASSERT_EQUAL(RUN("policy", "set", "DevicePasswordEnabled", "true"),
			0);
	CU_ASSERT_EQUAL(RUN("policy", "set", "MinDevicePasswordLength", "6"),
			0);
	CU_ASSERT_EQUAL(RUN("policy", "set", "--user", "erin",
			    "MinDevicePasswordLength", "8"),
			0);
	CU_ASSERT_EQUAL(RUN("policy", "show"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "DevicePasswordEnabled=1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "MinDevicePasswordLength=6"));
	CU_ASSERT_EQUAL(RUN("policy", "show", "--user", "erin"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "MinDevicePasswordLength=8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "DevicePasswordEnabled=1"));
	CU_ASSERT_EQUAL(RUN("policy", "unset", "DevicePasswordEnabled"), 0);
	CU_ASSERT_EQUAL(RUN("policy", "show"), 0);
	CU_ASSERT_PTR_NULL(strstr(run_out, "DevicePasswordEnabled"));

	/* validation */
	CU_ASSERT_EQUAL(RUN("policy", "set", "NoSuchPolicy", "1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown policy"));
	CU_ASSERT_EQUAL(RUN("policy", "set", "DevicePasswordEnabled", "2"), 1);
	CU_ASSERT_EQUAL(RUN("policy", "set", "MinDevicePasswordLength", "40"),
			1);
	CU_ASSERT_EQUAL(RUN("policy", "set", "MaxCalendarAgeFilter", "3"), 1);
	CU_ASSERT_EQUAL(RUN("policy", "set", "MaxCalendarAgeFilter", "4"), 0);
	CU_ASSERT_EQUAL(RUN("policy", "set", "AllowBluetooth", "x"), 1);
	CU_ASSERT_EQUAL(
		RUN("policy", "set", "--user", "nobody", "AllowCamera", "0"),
		1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown user"));
}

/* --- devices --- */

static void
make_device(const char *user, const char *device_id)
{
	struct store *s = open_store();
	struct arena *a = arena_new(1024);
	struct store_account acc;
	struct store_device dev;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(store_account_get(s, a, user, &acc), STORE_OK);
	CU_ASSERT_EQUAL(store_device_create(s, a, acc.id, device_id, "iPhone",
					    "Apple-iPhone/1.0", &dev),
			STORE_OK);
	arena_free(&a);
	store_close(&s);
}

static void
test_device(void)
{
	CU_ASSERT_EQUAL(RUN("user", "add", "frank", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "no devices"));
	make_device("frank", "PHONE1");

	CU_ASSERT_EQUAL(RUN("device", "list", "frank"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "frank/PHONE1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "iPhone"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "allowed"));

	CU_ASSERT_EQUAL(RUN("device", "block", "frank", "PHONE1"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "blocked"));
	CU_ASSERT_EQUAL(RUN("device", "quarantine", "frank", "phone1"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "quarantined"));
	CU_ASSERT_EQUAL(RUN("device", "allow", "frank", "PHONE1"), 0);

	CU_ASSERT_EQUAL(
		RUN("device", "wipe", "frank", "PHONE1", "--account-only"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "account-wipe-requested"));
	CU_ASSERT_EQUAL(RUN("device", "wipe", "frank", "PHONE1"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "  wipe:         "
					       "wipe-requested"));

	CU_ASSERT_EQUAL(RUN("device", "resync", "frank", "PHONE1"), 0);
	CU_ASSERT_EQUAL(RUN("device", "resync", "frank", "PHONE1", "--folder",
			    "Contacts"),
			0);
	CU_ASSERT_EQUAL(RUN("device", "resync", "frank", "PHONE1", "--folder",
			    "No Such Folder"),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown folder"));

	CU_ASSERT_EQUAL(RUN("device", "remove", "frank", "PHONE1"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "no devices"));

	/* unknown device and unknown user */
	CU_ASSERT_EQUAL(RUN("device", "block", "frank", "PHONE1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown device"));
	CU_ASSERT_EQUAL(RUN("device", "wipe", "nobody", "PHONE1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown user"));
	CU_ASSERT_EQUAL(RUN("device", "list", "nobody"), 1);
	CU_ASSERT_EQUAL(RUN("device", "block", "frank"), 2);
}

/* --- change notification across processes --- */

/* What this process, subscribed as a running easd is, receives from
 * easctl's commits. */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static struct store_change seen[256];
static size_t nseen;

static void
record_change(void *ctx, const struct store_change *c, size_t n)
{
	(void)ctx;
	pthread_mutex_lock(&seen_mu);
	for (size_t i = 0; i < n && nseen < N_ELEMENTS(seen); i++)
		seen[nseen++] = c[i];
	pthread_cond_broadcast(&seen_cond);
	pthread_mutex_unlock(&seen_mu);
}

/* Wait until at least n changes have arrived. easctl has sent them
 * before it exits; the bound only keeps a broken build from hanging. */
static size_t
wait_seen(size_t n)
{
	struct timespec until;
	size_t got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&seen_mu);
	while (nseen < n &&
	       pthread_cond_timedwait(&seen_cond, &seen_mu, &until) == 0)
		;
	got = nseen;
	pthread_mutex_unlock(&seen_mu);
	return got;
}

static bool
seen_has(size_t from, enum store_change_what what, int64_t account, int64_t id)
{
	for (size_t i = from; i < nseen; i++)
		if (seen[i].what == what && seen[i].account_id == account &&
		    (id < 0 || seen[i].id == id))
			return true;
	return false;
}

static void
test_notify(void)
{
	char *f = data_file("contacts.vcf");
	char *db = xasprintf("%s/easd.db", data_dir);
	struct store_subscription *sub = NULL;
	const char *err = NULL;
	size_t mark;

	/* create the data dir and database first */
	CU_ASSERT_EQUAL(RUN("user", "add", "gina", "--password", "pw"), 0);
	nseen = 0;
	CU_ASSERT_EQUAL_FATAL(
		store_subscribe(db, true, record_change, NULL, &sub, &err),
		STORE_OK);

	/* an account change names the account (id 1), nothing else */
	CU_ASSERT_EQUAL(RUN("user", "disable", "gina"), 0);
	CU_ASSERT_EQUAL(wait_seen(1), 1);
	CU_ASSERT(seen_has(0, STORE_CHANGED_ACCOUNT, 1, 0));

	/* an import names the one folder it filled */
	CU_ASSERT_EQUAL(RUN("import", "gina", f), 0);
	CU_ASSERT_EQUAL(wait_seen(2), 2);
	CU_ASSERT(seen_has(1, STORE_CHANGED_FOLDER, 1, -1));

	/* read-only commands stay quiet: the next change to arrive is the
	 * one of the command after them (one receive queue, in order) */
	mark = nseen;
	CU_ASSERT_EQUAL(RUN("user", "list"), 0);
	CU_ASSERT_EQUAL(RUN("device", "list"), 0);
	CU_ASSERT_EQUAL(RUN("user", "enable", "gina"), 0);
	CU_ASSERT_EQUAL(wait_seen(mark + 1), mark + 1);
	CU_ASSERT(seen[mark].what == STORE_CHANGED_ACCOUNT &&
		  seen[mark].account_id == 1);

	/* a second receiver for the same database is refused */
	{
		struct store_subscription *two = NULL;

		CU_ASSERT_EQUAL(store_subscribe(db, true, record_change, NULL,
						&two, &err),
				STORE_EXISTS);
		CU_ASSERT_PTR_NULL(two);
	}
	store_unsubscribe(&sub);
	CU_ASSERT_PTR_NULL(sub);
	free(db);
	free(f);
}

/* --- import / export --- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Content lines as a serializer may legitimately vary them: CRs dropped,
 * folded lines joined (RFC 5545 3.1), and the parts of an RRULE value in
 * a fixed order (RFC 5545 3.3.10 leaves their order free). */
static char *
normalize_lines(const char *text)
{
	char *out = xmalloc(strlen(text) + 2), *q = out, *save = NULL, *line;
	char *copy;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n' && (p[1] == ' ' || p[1] == '\t')) {
			p++;
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	copy = xstrdup(out);
	q = out;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "RRULE:", 6) == 0) {
			char *parts[32], *ps = NULL, *part;
			size_t n = 0;

			for (part = strtok_r(line + 6, ";", &ps);
			     part != NULL && n < 32;
			     part = strtok_r(NULL, ";", &ps))
				parts[n++] = part;
			qsort(parts, n, sizeof(*parts), cmp_str);
			q += sprintf(q, "RRULE:");
			for (size_t i = 0; i < n; i++)
				q += sprintf(q, "%s%s", i > 0 ? ";" : "",
					     parts[i]);
			*q++ = '\n';
		} else {
			q += sprintf(q, "%s\n", line);
		}
	}
	*q = '\0';
	free(copy);
	return out;
}

/* Every non-empty content line of the file at want_path appears in
 * got_text, both normalized as above. */
static bool
lines_contained(const char *want_path, const char *got_text,
		const char *skip_prefixes)
{
	char *raw = slurp(want_path);
	char *want = normalize_lines(raw), *save = NULL, *line;
	char *got = normalize_lines(got_text);
	bool ok = true;

	free(raw);
	for (line = strtok_r(want, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		bool skip = false;

		for (const char *s = skip_prefixes; s != NULL && *s != '\0';
		     s += strlen(s) + 1)
			if (strncmp(line, s, strlen(s)) == 0)
				skip = true;
		if (skip)
			continue;
		if (strstr(got, line) == NULL) {
			fprintf(stderr, "\nmissing after round trip: %s\n",
				line);
			ok = false;
		}
	}
	free(want);
	free(got);
	return ok;
}

static void
test_import_export_vcf(void)
{
	char *in = data_file("contacts.vcf");
	char *out = xasprintf("%s/out.vcf", data_dir);
	char *text;

	CU_ASSERT_EQUAL(RUN("user", "add", "hana", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "hana", in), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "3 Contacts"));
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Contacts: 3"));
	CU_ASSERT_EQUAL(RUN("export", "hana", "Contacts", out), 0);
	text = slurp(out);
	CU_ASSERT(lines_contained(in, text, "PRODID\0"));
	free(text);

	/* export to stdout gives the same */
	CU_ASSERT_EQUAL(RUN("export", "hana", "Contacts", "-"), 0);
	CU_ASSERT(lines_contained(in, run_out, "PRODID\0"));
	free(in);
	free(out);
}

static void
test_import_export_ics(void)
{
	char *in = data_file("calendar.ics");
	char *cal = xasprintf("%s/cal.ics", data_dir);
	char *tasks = xasprintf("%s/tasks.ics", data_dir);
	char *text, *both;

	CU_ASSERT_EQUAL(RUN("user", "add", "ivan", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "ivan", in), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "3 Calendar"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "2 Tasks"));
	CU_ASSERT_EQUAL(RUN("export", "ivan", "Calendar", cal), 0);
	CU_ASSERT_EQUAL(RUN("export", "ivan", "Tasks", tasks), 0);
	text = slurp(cal);
	{
		char *t2 = slurp(tasks);

		both = xasprintf("%s%s", text, t2);
		free(t2);
	}
	free(text);
	/* Everything but the envelope comes back; the serializer may order
	 * and fold differently, so compare line by line. */
	CU_ASSERT(lines_contained(in, both,
				  "PRODID\0BEGIN:VCALENDAR\0"
				  "END:VCALENDAR\0VERSION\0"));
	free(both);
	free(in);
	free(cal);
	free(tasks);
}

static void
test_import_mbox(void)
{
	char *in = data_file("mail.mbox");

	CU_ASSERT_EQUAL(RUN("user", "add", "jill", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "jill", in), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "2 Email"));
	CU_ASSERT_EQUAL(RUN("export", "jill", "Inbox", "-"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "Subject: First"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "Subject: Second"));
	/* mboxrd quoting survives the round trip */
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "\n>From the archive."));
	free(in);
}

/* A file of more than 4 MiB is read through a mapping whose pages are
 * handed back as the reader goes (tools/easctl.c): every card arrives,
 * the one with an earlier card's UID replaces it, and a malformed card
 * on the way is reported with its line. */
static void
test_import_large_vcf(void)
{
	enum { CARDS = 20000 };
	char *in = xasprintf("%s/large.vcf", data_dir);
	FILE *f = fopen(in, "w");
	long size;

	CU_ASSERT_FATAL(f != NULL);
	for (int i = 0; i < CARDS; i++) {
		if (i == CARDS / 2)
			fprintf(f, "BEGIN:VCARD\r\nVERSION:3.0\r\n"
				   "FN:Unterminated\r\n");
		fprintf(f,
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:large-%d\r\n"
			"N:Person%d;Large;;;\r\nFN:Large Person%d\r\n"
			"EMAIL;TYPE=INTERNET:large%d@example.org\r\n"
			"NOTE:a card of a few hundred bytes, so that the "
			"file is larger than the mapping threshold\r\n"
			"END:VCARD\r\n",
			i == CARDS - 1 ? 7 : i, i, i, i);
	}
	/* not on a page boundary (such a file is read whole) */
	if (ftell(f) % 4096 == 0)
		fputs("\r\n", f);
	size = ftell(f);
	fclose(f);
	CU_ASSERT(size > 4L * 1024 * 1024);
	CU_ASSERT_EQUAL(RUN("user", "add", "lena", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "lena", in), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "20000 Contacts"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "(1 replacing"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "1 skipped"));
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Contacts: 19999"));
	free(in);
}

static size_t
occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* An .ics of more than 4 MiB is read through a mapping too, in two
 * passes (conv/bundle.c): every event arrives, the changed occurrences
 * at the end of the file go with their series, an event the file ends
 * in is reported; the export is one VCALENDAR with the zone once, and
 * importing it again replaces every event. */
static void
test_import_large_ics(void)
{
	enum { EVENTS = 3000 };
	char *in = xasprintf("%s/large.ics", data_dir);
	char *out = xasprintf("%s/large-out.ics", data_dir);
	char *text;
	FILE *f = fopen(in, "w");
	long size;

	CU_ASSERT_FATAL(f != NULL);
	/* a description of 1.4 KB, folded as writers fold it */
	text = xmalloc(1500);
	for (size_t i = 0; i < 1400; i++)
		text[i] = i % 74 < 71 ? 'a' : "\r\n "[i % 74 - 71];
	text[1400] = '\0';
	fputs("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	      "BEGIN:VTIMEZONE\r\nTZID:Test/Zone\r\nBEGIN:STANDARD\r\n"
	      "DTSTART:19701025T030000\r\n"
	      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	      "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
	      "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n"
	      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	      "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
	      "END:VTIMEZONE\r\n",
	      f);
	for (int i = 0; i < EVENTS; i++)
		fprintf(f,
			"BEGIN:VEVENT\r\nUID:large-%d\r\n"
			"DTSTAMP:20240301T080000Z\r\n"
			"DTSTART;TZID=Test/Zone:20240%d%02dT090000\r\n"
			"DURATION:PT1H\r\nSUMMARY:Event %d\r\n"
			"DESCRIPTION:%s\r\n%sEND:VEVENT\r\n",
			i, 1 + i % 9, 1 + i % 28, i, text,
			i % 10 == 0 ? "RRULE:FREQ=DAILY;COUNT=5\r\n" : "");
	for (int i = 0; i < EVENTS; i += 10)
		fprintf(f,
			"BEGIN:VEVENT\r\nUID:large-%d\r\n"
			"DTSTAMP:20240301T080000Z\r\n"
			"RECURRENCE-ID;TZID=Test/Zone:20240%d%02dT090000\r\n"
			"DTSTART;TZID=Test/Zone:20240%d%02dT110000\r\n"
			"DURATION:PT1H\r\nSUMMARY:Event %d moved\r\n"
			"END:VEVENT\r\n",
			i, 1 + i % 9, 1 + i % 28, 1 + i % 9, 1 + i % 28, i);
	fputs("END:VCALENDAR\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
	      "BEGIN:VEVENT\r\nUID:cut\r\nDTSTART:20240301T090000Z\r\n",
	      f);
	if (ftell(f) % 4096 == 0)
		fputs("SUMMARY:x\r\n", f);
	size = ftell(f);
	fclose(f);
	free(text);
	CU_ASSERT(size > 4L * 1024 * 1024);
	CU_ASSERT_EQUAL(RUN("user", "add", "lars", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "lars", in), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "imported 3000 Calendar"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "1 skipped"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "not terminated by END:VEVENT"));
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Calendar: 3000"));
	CU_ASSERT_EQUAL(RUN("export", "lars", "Calendar", out), 0);
	{
		struct buf b;
		const char *err = NULL;
		size_t len;

		buf_init(&b, 0);
		CU_ASSERT_EQUAL_FATAL(buf_read_path(&b, out, &err), 0);
		buf_putc(&b, '\0');
		text = (char *)buf_steal(&b, &len);
	}
	CU_ASSERT_EQUAL(occurrences(text, "BEGIN:VCALENDAR"), 1);
	CU_ASSERT_EQUAL(occurrences(text, "END:VCALENDAR"), 1);
	CU_ASSERT_EQUAL(occurrences(text, "BEGIN:VTIMEZONE"), 1);
	CU_ASSERT_EQUAL(occurrences(text, "BEGIN:VEVENT"),
			EVENTS + EVENTS / 10);
	CU_ASSERT_EQUAL(occurrences(text, "RECURRENCE-ID"), EVENTS / 10);
	/* a moved occurrence right after its series */
	{
		const char *series = strstr(text, "UID:large-10\r\n");
		const char *moved = strstr(text, "SUMMARY:Event 10 moved");
		const char *next = strstr(text, "UID:large-11\r\n");

		CU_ASSERT_FATAL(series != NULL && moved != NULL &&
				next != NULL);
		CU_ASSERT(series < moved && moved < next);
	}
	free(text);
	CU_ASSERT_EQUAL(RUN("import", "lars", out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "(3000 replacing"));
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Calendar: 3000"));
	free(in);
	free(out);
}

static void
test_import_errors(void)
{
	static const struct {
		const char *file;
		const char *msg;
		unsigned line;
	} bad[] = {
		{"bad-unterminated.vcf", "not terminated", 1},
		{"bad-garbage.vcf", "outside", 1},
		{"bad-date.ics", "malformed", 3},
	};
	char *f;

	CU_ASSERT_EQUAL(RUN("user", "add", "kim", "--password", "pw"), 0);
	/* --strict: all or nothing (what import did before it reported) */
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		f = data_file(bad[i].file);
		CU_ASSERT_EQUAL(RUN("import", "kim", f, "--strict"), 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(run_err, bad[i].msg));
		free(f);
	}
	/* nothing of a failed import is kept */
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Contacts: 0"));
	/* without it, the same files: the bad parts reported with their
	 * line, the good ones imported (bad-garbage.vcf has one) */
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		f = data_file(bad[i].file);
		CU_ASSERT_EQUAL(
			RUN("import", "kim", f),
			strcmp(bad[i].file, "bad-garbage.vcf") == 0 ? 3 : 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(run_err, bad[i].msg));
		{
			char *at = xasprintf("%s:%u: ", f, bad[i].line);

			CU_ASSERT_PTR_NOT_NULL(strstr(run_err, at));
			free(at);
		}
		free(f);
	}
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Contacts: 1"));

	CU_ASSERT_EQUAL(RUN("import", "kim", "/nonexistent/file.vcf"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "cannot read"));
	f = data_file("contacts.vcf");
	CU_ASSERT_EQUAL(RUN("import", "nobody", f), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown user"));
	/* contacts do not go into a calendar folder */
	CU_ASSERT_EQUAL(RUN("import", "kim", f, "--folder", "Calendar"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "holds"));
	CU_ASSERT_EQUAL(RUN("import", "kim", f, "--folder", "Nope"), 1);
	CU_ASSERT_EQUAL(RUN("export", "kim", "Nope", "-"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "unknown folder"));
	CU_ASSERT_EQUAL(
		RUN("export", "kim", "Contacts", "/nonexistent/dir/out.vcf"),
		1);
	free(f);
}

/* Import that reports (issue 12): every valid item imported, each other
 * one named with its file and line and why, a summary line; VJOURNAL and
 * VFREEBUSY are told, not dropped; a BDAY;VALUE=text is kept. */
static void
test_import_report(void)
{
	char *ics = data_file("mixed.ics"), *vcf = data_file("mixed.vcf");
	char *want;

	CU_ASSERT_EQUAL(RUN("user", "add", "lena", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "lena", ics), 3);
	want = xasprintf("%s:11: VJOURNAL: journal entries are not imported",
			 ics);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, want));
	free(want);
	want = xasprintf("%s:16: VEVENT: malformed iCalendar", ics);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, want));
	free(want);
	want = xasprintf("%s:22: VFREEBUSY: free/busy information", ics);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, want));
	free(want);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		run_out, "imported 1 Calendar 1 Tasks for lena; 3 skipped"));
	CU_ASSERT_EQUAL(RUN("import", "lena", vcf), 3);
	want = xasprintf("%s:6: Contacts: BDAY: not a date: 'someday'", vcf);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, want));
	free(want);
	want = xasprintf("%s:11: text outside BEGIN:VCARD/END:VCARD", vcf);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, want));
	free(want);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(run_out, "imported 2 Contacts for lena; 2 skipped"));
	CU_ASSERT_EQUAL(RUN("export", "lena", "Contacts", "-"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "BDAY;VALUE=text:circa 1800"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "FN:Fine"));
	/* --strict keeps the old all or nothing */
	CU_ASSERT_EQUAL(RUN("user", "add", "lina", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "lina", vcf, "--strict"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_err, "--strict: nothing imported"));
	CU_ASSERT_EQUAL(RUN("export", "lina", "Contacts", "-"), 0);
	CU_ASSERT_PTR_NULL(strstr(run_out, "BEGIN:VCARD"));
	free(ics);
	free(vcf);
}

/* An item whose UID is in the folder is replaced: export, edit, import
 * changes the item (what the shadow tests rely on). */
static void
test_import_replaces_uid(void)
{
	char *in = data_file("contacts.vcf");
	char *out = xasprintf("%s/out.vcf", data_dir), *text, *edited, *p;
	FILE *f;

	CU_ASSERT_EQUAL(RUN("user", "add", "mona", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "mona", in), 0);
	CU_ASSERT_EQUAL(RUN("export", "mona", "Contacts", out), 0);
	text = slurp(out);
	p = strstr(text, "FN:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	edited = xasprintf("%.*sFN:Edited %s", (int)(p - text), text, p + 3);
	f = fopen(out, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(edited, f);
	fclose(f);
	CU_ASSERT_EQUAL(RUN("import", "mona", out), 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(run_out, "(3 replacing items of the same UID)"));
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "items Contacts: 3"));
	CU_ASSERT_EQUAL(RUN("export", "mona", "Contacts", "-"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "FN:Edited "));
	free(text);
	free(edited);
	free(out);
	free(in);
}

/* mboxrd: ">From " loses one '>' on import (">>From" keeps one); a
 * "From " line that is no separator (no date, or not after an empty
 * line) stays body text. */
static void
test_mbox_quoting(void)
{
	char *in = data_file("quoting.mbox");
	struct store *s;
	struct arena *a;
	struct store_account acc;
	struct store_folder inbox;
	struct store_item *items;
	size_t count;

	CU_ASSERT_EQUAL(RUN("user", "add", "nina", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("import", "nina", in), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "2 Email"));
	s = open_store();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	a = arena_new(4096);
	CU_ASSERT_EQUAL_FATAL(store_account_get(s, a, "nina", &acc), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_folder_get_by_type(
				      s, a, acc.id, EAS_FOLDER_INBOX, &inbox),
			      STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_item_list(s, a, acc.id, inbox.id, 0, 10,
					      true, &items, &count),
			      STORE_OK);
	CU_ASSERT_EQUAL_FATAL(count, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)items[0].data,
				      "\nFrom the mboxrd writer.\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)items[0].data, "\n>From quoted twice.\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)items[0].data,
		       "\nFrom here on, an unquoted line (mboxo).\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)items[0].data,
		       "\n\nFrom the start of a paragraph, still the body.\n"));
	CU_ASSERT_PTR_NULL(strstr((const char *)items[0].data, "Two."));
	arena_free(&a);
	store_close(&s);
	free(in);
}

static void
test_stats(void)
{
	CU_ASSERT_EQUAL(RUN("user", "add", "lee", "--password", "pw"), 0);
	CU_ASSERT_EQUAL(RUN("user", "add", "max", "--password", "pw"), 0);
	make_device("lee", "DEV1");
	CU_ASSERT_EQUAL(RUN("stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "accounts: 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "devices: 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(run_out, "database bytes: "));
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo users_tests[] = {
	T(test_user_lifecycle), T(test_user_generated_password),
	T(test_user_errors),	T(test_help),
	CU_TEST_INFO_NULL,
};

static CU_TestInfo admin_tests[] = {
	T(test_policy), T(test_device),	   T(test_notify),
	T(test_stats),	CU_TEST_INFO_NULL,
};

static CU_TestInfo data_tests[] = {
	T(test_import_export_vcf), T(test_import_export_ics),
	T(test_import_mbox),	   T(test_import_errors),
	T(test_import_large_vcf),  T(test_import_large_ics),
	T(test_import_report),	   T(test_import_replaces_uid),
	T(test_mbox_quoting),	   CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"easctl users", NULL, NULL, test_setup, test_teardown, users_tests},
	{"easctl admin", NULL, NULL, test_setup, test_teardown, admin_tests},
	{"easctl import/export", NULL, NULL, test_setup, test_teardown,
	 data_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	if (access(harness_easctl(), X_OK) < 0) {
		fprintf(stderr, "easctl binary %s: %s\n", harness_easctl(),
			strerror(errno));
		return 1;
	}
	return test_main(suites);
}
