/* easctl deliver USER [--folder NAME] [--max-size BYTES] < message.eml:
 * a local delivery agent for MTAs without LMTP. Exit codes follow the
 * sendmail/procmail convention (sysexits.h) so the MTA bounces, defers or
 * accepts as it should. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "autoreply.h"
#include "buf.h"
#include "easctl.h"
#include "mail.h"
#include "store.h"
#include "util.h"

/* sysexits.h values, spelled out so the meaning is next to the code */
#define DELIVER_OK 0
#define DELIVER_USAGE 64     /* EX_USAGE */
#define DELIVER_DATAERR 65   /* EX_DATAERR: too large or unreadable */
#define DELIVER_NOUSER 67    /* EX_NOUSER: unknown recipient */
#define DELIVER_CANTCREAT 73 /* EX_CANTCREAT: no such folder */
#define DELIVER_TEMPFAIL 75  /* EX_TEMPFAIL: try again later */

static const char deliver_usage[] =
	"usage: easctl [--data DIR] deliver USER [--folder NAME] "
	"[--from SENDER] [--max-size BYTES] < message.eml\n"
	"Store one RFC 5322 message in USER's Inbox (or folder NAME).\n"
	"--from gives the envelope sender (the MTA's, e.g. Postfix's\n"
	"${sender}; '' for <>), recorded as Return-Path.\n"
	"Exit: 0 stored, 67 unknown user, 73 unknown folder, 75 store busy\n"
	"(retry later), 65 message too large or unreadable.\n";

static int
store_exit(enum store_error e)
{
	return e == STORE_NOTFOUND ? DELIVER_NOUSER : DELIVER_TEMPFAIL;
}

int
easctl_deliver(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(64 * 1024);
	const char *user = NULL, *folder_name = NULL, *error = NULL;
	const char *from = NULL;
	size_t max = MAIL_DEFAULT_MAX_SIZE;
	struct store_account acc;
	struct store_folder folder;
	struct store_item item;
	struct store *s;
	enum store_error e;
	struct buf msg;
	int ret = DELIVER_TEMPFAIL;

	buf_init(&msg, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(deliver_usage, stdout);
			ret = DELIVER_OK;
			goto out;
		} else if (strcmp(argv[i], "--folder") == 0 && i + 1 < argc) {
			folder_name = argv[++i];
		} else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			from = argv[++i];
		} else if (strcmp(argv[i], "--max-size") == 0 && i + 1 < argc) {
			int64_t v;

			if (str_to_int64(argv[++i], &v) < 0 || v <= 0) {
				fprintf(stderr,
					"easctl deliver: bad "
					"--max-size %s\n",
					argv[i]);
				ret = DELIVER_USAGE;
				goto out;
			}
			max = (size_t)v;
		} else if (argv[i][0] != '-' && user == NULL) {
			user = argv[i];
		} else {
			fputs(deliver_usage, stderr);
			ret = DELIVER_USAGE;
			goto out;
		}
	}
	if (user == NULL) {
		fputs(deliver_usage, stderr);
		ret = DELIVER_USAGE;
		goto out;
	}
	if (from != NULL &&
	    (strpbrk(from, "\r\n") != NULL || strlen(from) > 998)) {
		fprintf(stderr, "easctl deliver: bad --from address\n");
		ret = DELIVER_USAGE;
		goto out;
	}

	/* read the whole message first: a message is stored whole or not;
	 * the cap is checked here (a buf limit would refuse the read-ahead) */
	for (;;) {
		uint8_t *p = buf_reserve(&msg, 65536);
		ssize_t n = read(STDIN_FILENO, p, 65536);

		if (n < 0) {
			perror("easctl deliver: reading the message");
			ret = DELIVER_TEMPFAIL;
			goto out;
		}
		if (n == 0)
			break;
		if (msg.len + (size_t)n > max) {
			fprintf(stderr,
				"easctl deliver: message larger than "
				"the limit of %zu bytes; not stored\n",
				max);
			ret = DELIVER_DATAERR;
			goto out;
		}
		msg.len += (size_t)n;
	}
	if (mail_item_from_mime(a, msg.len > 0 ? (const char *)msg.data : "",
				msg.len, &item, &error) < 0) {
		fprintf(stderr, "easctl deliver: unreadable message: %s\n",
			error);
		ret = DELIVER_DATAERR;
		goto out;
	}

	if ((s = easctl_store(ctl)) == NULL) {
		ret = DELIVER_TEMPFAIL;
		goto out;
	}
	e = store_account_by_address(s, a, user, &acc);
	if (e != STORE_OK || !acc.enabled) {
		if (e == STORE_OK || e == STORE_NOTFOUND)
			fprintf(stderr, "easctl deliver: no such user: %s\n",
				user);
		else
			fprintf(stderr, "easctl deliver: looking up %s: %s\n",
				user, store_error_str(e));
		ret = e == STORE_OK ? DELIVER_NOUSER : store_exit(e);
		goto out;
	}
	if (folder_name != NULL)
		e = store_folder_find(s, a, acc.id, folder_name, &folder);
	else
		e = store_folder_get_by_type(s, a, acc.id, EAS_FOLDER_INBOX,
					     &folder);
	if (e != STORE_OK) {
		fprintf(stderr, "easctl deliver: folder %s of %s: %s\n",
			folder_name != NULL ? folder_name : "Inbox", user,
			store_error_str(e));
		ret = e == STORE_NOTFOUND ? DELIVER_CANTCREAT
					  : DELIVER_TEMPFAIL;
		goto out;
	}
	e = mail_deliver(s, a, acc.id, folder.id, &item, from, NULL);
	if (e == STORE_INVALID) {
		fprintf(stderr,
			"easctl deliver: folder %s does not hold mail\n",
			folder.name);
		ret = DELIVER_CANTCREAT;
		goto out;
	}
	if (e != STORE_OK) {
		fprintf(stderr, "easctl deliver: storing: %s\n",
			store_error_str(e));
		ret = DELIVER_TEMPFAIL;
		goto out;
	}
	{
		/* out of office: answered as easd would (outside senders
		 * only when easd has a relay that sends the queue) */
		struct mail_autoreply_opts ao = {.retry_s = 5 * 24 * 3600};
		int64_t relay = 0;
		const char *why;

		if (store_meta_get(s, "relay", &relay) == STORE_OK)
			ao.can_queue = relay != 0;
		mail_autoreply(s, a, acc.id, &item, NULL, &ao, &why);
	}
	ret = DELIVER_OK;
out:
	buf_deinit(&msg);
	arena_free(&a);
	return ret;
}
