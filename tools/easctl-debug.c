/* easctl debug: per-device tracing in a running easd, switched on and off
 * while it runs (the server learns of it through the store). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "easctl.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage[] =
	"usage: easctl [--data DIR] debug COMMAND ...\n"
	"  debug on USER [DEVICE] [--bodies]\n"
	"      log the decoded requests and responses of the device (of\n"
	"      every device of USER without DEVICE) at info level; message\n"
	"      bodies, MIME and attachment data are elided unless --bodies\n"
	"  debug off USER [DEVICE]\n"
	"  debug list\n";

static int
fail(const char *what, const char *arg)
{
	fprintf(stderr, "easctl: %s%s%s\n", what, arg != NULL ? " " : "",
		arg != NULL ? arg : "");
	return EX_FAIL;
}

static int
account_id(struct store *s, struct arena *a, const char *login, int64_t *id_r)
{
	struct store_account acc;
	enum store_error e = store_account_get(s, a, login, &acc);

	if (e == STORE_NOTFOUND)
		return fail("unknown user", login);
	if (e != STORE_OK)
		return fail("looking up the user:", store_error_str(e));
	*id_r = acc.id;
	return 0;
}

static void
fmt_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

int
easctl_debug(struct easctl *ctl, int argc, char **argv)
{
	const char *pos[3] = {NULL};
	const char *sub = argc > 1 ? argv[1] : NULL;
	bool bodies = false;
	struct arena *a;
	struct store *s;
	enum store_error e;
	int64_t id = 0;
	int n = 0, rc = 0;

	if (sub == NULL)
		goto usage;
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--bodies") == 0 && strcmp(sub, "on") == 0)
			bodies = true;
		else if (argv[i][0] == '-' || n == 2)
			goto usage;
		else
			pos[n++] = argv[i];
	}
	if (strcmp(sub, "list") == 0				? n != 0
	    : strcmp(sub, "on") == 0 || strcmp(sub, "off") == 0 ? n < 1
								: true)
		goto usage;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	a = arena_new(0);
	if (n > 0 && account_id(s, a, pos[0], &id) != 0) {
		rc = EX_FAIL;
	} else if (strcmp(sub, "on") == 0) {
		e = store_trace_on(s, id, pos[1], bodies);
		if (e != STORE_OK)
			rc = fail("switching tracing on:", store_error_str(e));
		else
			printf("tracing %s of %s: on (a running easd logs "
			       "its requests and responses, %s)\n",
			       pos[1] != NULL ? pos[1] : "every device", pos[0],
			       bodies ? "with bodies" : "bodies elided");
	} else if (strcmp(sub, "off") == 0) {
		e = store_trace_off(s, id, pos[1]);
		if (e == STORE_NOTFOUND)
			rc = fail("nothing was traced for", pos[0]);
		else if (e != STORE_OK)
			rc = fail("switching tracing off:", store_error_str(e));
		else
			printf("tracing %s of %s: off\n",
			       pos[1] != NULL ? pos[1] : "every device",
			       pos[0]);
	} else {
		struct store_trace *list;
		size_t count;

		e = store_trace_list(s, a, &list, &count);
		if (e != STORE_OK) {
			rc = fail("listing:", store_error_str(e));
		} else if (count == 0) {
			printf("no device is traced\n");
		} else {
			printf("%-20s %-24s %-7s %s\n", "USER", "DEVICE",
			       "BODIES", "SINCE");
			for (size_t i = 0; i < count; i++) {
				char t[64];

				fmt_time(list[i].since, t, sizeof(t));
				printf("%-20s %-24s %-7s %s\n", list[i].login,
				       list[i].device_id[0] != '\0'
					       ? list[i].device_id
					       : "(every device)",
				       list[i].bodies ? "yes" : "no", t);
			}
		}
	}
	arena_free(&a);
	return rc;
usage:
	fputs(usage, stderr);
	return EX_USAGE;
}
