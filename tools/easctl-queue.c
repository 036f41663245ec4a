/* easctl user alias ... and easctl queue ...: the addresses an account
 * receives and sends as, and the outbound queue (what waits for the
 * relay, retried now or deleted on the administrator's word). A running
 * easd hears of every change through the store. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "easctl.h"
#include "store.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_alias[] =
	"usage: easctl [--data DIR] user alias add|remove USER ADDRESS\n"
	"       easctl [--data DIR] user alias list USER\n"
	"  An alias is an address the account receives mail for (LMTP,\n"
	"  local sending) and may send as (From).\n";

static const char usage_queue[] =
	"usage: easctl [--data DIR] queue list [USER]\n"
	"       easctl [--data DIR] queue retry ID|all\n"
	"       easctl [--data DIR] queue delete ID\n"
	"  Messages waiting for the relay, one line per recipient: ID,\n"
	"  sender, recipient, attempts, next attempt, last reply.\n";

int
easctl_alias(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	struct store_account acc;
	struct store *s;
	enum store_error e;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc = EX_FAIL;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage_alias, stdout);
		rc = 0;
		goto out;
	}
	if (!((strcmp(sub, "list") == 0 && argc == 3) ||
	      ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) &&
	       argc == 4))) {
		fputs(usage_alias, stderr);
		rc = EX_USAGE;
		goto out;
	}
	if ((s = easctl_store(ctl)) == NULL ||
	    easctl_account_of(s, a, argv[2], &acc) < 0)
		goto out;
	if (strcmp(sub, "list") == 0) {
		const char **list;
		size_t n;

		e = store_alias_list(s, a, acc.id, &list, &n);
		if (e != STORE_OK) {
			rc = easctl_fail("listing aliases", e);
			goto out;
		}
		printf("%s (primary)\n", acc.email);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", list[i]);
		rc = 0;
	} else if (strcmp(sub, "add") == 0) {
		e = store_alias_add(s, acc.id, argv[3]);
		if (e == STORE_EXISTS)
			fprintf(stderr, "easctl: %s is taken already\n",
				argv[3]);
		else if (e == STORE_INVALID)
			fprintf(stderr, "easctl: %s is not an address\n",
				argv[3]);
		else if (e != STORE_OK)
			easctl_fail("adding the alias", e);
		else {
			printf("%s now receives and sends as %s\n", acc.login,
			       argv[3]);
			rc = 0;
		}
	} else {
		e = store_alias_remove(s, acc.id, argv[3]);
		if (e == STORE_NOTFOUND)
			fprintf(stderr, "easctl: %s has no alias %s\n",
				acc.login, argv[3]);
		else if (e != STORE_OK)
			easctl_fail("removing the alias", e);
		else {
			printf("alias %s of %s removed\n", argv[3], acc.login);
			rc = 0;
		}
	}
out:
	arena_free(&a);
	return rc;
}

static const char *
when(struct arena *a, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
	return arena_strdup(a, buf);
}

static int
queue_list(struct store *s, struct arena *a, int argc, char **argv)
{
	struct store_account acc;
	struct store_outbound *list;
	enum store_error e;
	int64_t account = 0;
	size_t n;

	if (argc == 3) {
		if (easctl_account_of(s, a, argv[2], &acc) < 0)
			return EX_FAIL;
		account = acc.id;
	}
	e = store_outbound_list(s, a, account, &list, &n);
	if (e != STORE_OK)
		return easctl_fail("reading the queue", e);
	printf("%-6s %-28s %-28s %-4s %-21s %s\n", "ID", "FROM", "TO", "TRY",
	       "NEXT ATTEMPT", "LAST REPLY");
	for (size_t i = 0; i < n; i++)
		printf("%-6lld %-28s %-28s %-4d %-21s %s\n",
		       (long long)list[i].id, list[i].envelope_from,
		       list[i].rcpt, list[i].attempts,
		       when(a, list[i].next_attempt),
		       list[i].last_reply != NULL ? list[i].last_reply : "-");
	printf("%zu recipient%s queued\n", n, n == 1 ? "" : "s");
	return 0;
}

int
easctl_queue(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(16 * 1024);
	const char *sub = argc > 1 ? argv[1] : "";
	struct store *s;
	enum store_error e;
	int64_t id = 0;
	int rc = EX_FAIL;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage_queue, stdout);
		rc = 0;
		goto out;
	}
	if (!((strcmp(sub, "list") == 0 && (argc == 2 || argc == 3)) ||
	      ((strcmp(sub, "retry") == 0 || strcmp(sub, "delete") == 0) &&
	       argc == 3))) {
		fputs(usage_queue, stderr);
		rc = EX_USAGE;
		goto out;
	}
	if (strcmp(sub, "list") != 0 &&
	    !(strcmp(sub, "retry") == 0 && strcmp(argv[2], "all") == 0) &&
	    (str_to_int64(argv[2], &id) < 0 || id <= 0)) {
		fprintf(stderr, "easctl: bad queue ID '%s'\n", argv[2]);
		rc = EX_USAGE;
		goto out;
	}
	if ((s = easctl_store(ctl)) == NULL)
		goto out;
	if (strcmp(sub, "list") == 0) {
		rc = queue_list(s, a, argc, argv);
	} else if (strcmp(sub, "retry") == 0) {
		e = store_outbound_retry(s, id, time_now());
		if (e == STORE_NOTFOUND)
			fprintf(stderr, "easctl: no queue entry %lld\n",
				(long long)id);
		else if (e != STORE_OK)
			easctl_fail("retrying", e);
		else {
			printf("%s due now\n",
			       id == 0 ? "every queued message" : argv[2]);
			rc = 0;
		}
	} else {
		e = store_outbound_remove(s, id);
		if (e == STORE_NOTFOUND)
			fprintf(stderr, "easctl: no queue entry %lld\n",
				(long long)id);
		else if (e != STORE_OK)
			easctl_fail("deleting", e);
		else {
			printf("queue entry %lld deleted (not sent)\n",
			       (long long)id);
			rc = 0;
		}
	}
out:
	arena_free(&a);
	return rc;
}
