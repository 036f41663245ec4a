/* easctl oof show|set|off USER: automatic replies for a user without a
 * phone (or on the admin's word), the same settings Settings Oof reads and
 * writes. */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "easctl.h"
#include "store.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_oof[] =
	"usage: easctl [--data DIR] oof show USER\n"
	"       easctl [--data DIR] oof set USER [--from TIME --until TIME]\n"
	"              [--internal TEXT] [--external TEXT] [--known TEXT]\n"
	"              [--file-internal F] [--file-external F] [--html]\n"
	"       easctl [--data DIR] oof off USER\n"
	"  set: on (with --from and --until: only between them; TIME as\n"
	"  2026-12-24 or 2026-12-24T09:00:00Z). --internal answers accounts\n"
	"  of this server, --external everybody else (and the senders in\n"
	"  the user's contacts unless --known says otherwise). --html: the\n"
	"  texts are HTML. off keeps the texts for next time.\n";

static const char *const audience_names[] = {"internal", "known external",
					     "external"};

static int
read_text(struct arena *a, const char *path, const char **text_r)
{
	char *data;
	size_t len;
	const char *err;

	if (arena_read_path(a, path, 64 * 1024, &data, &len, &err) < 0) {
		fprintf(stderr, "easctl: %s\n", err);
		return -1;
	}
	*text_r = data;
	return 0;
}

static const char *
when(struct arena *a, int64_t t)
{
	char buf[32];

	time_format_iso(t, buf);
	return arena_strdup(a, buf);
}

static int
show(struct arena *a, const struct store_account *acc,
     const struct store_oof *o)
{
	printf("%s: %s", acc->login,
	       o->state == 0   ? "off"
	       : o->state == 1 ? "on"
			       : "on between");
	if (o->state == 2)
		printf(" %s and %s", when(a, o->start), when(a, o->end));
	printf("\n");
	for (int i = 0; i < 3; i++)
		printf("  %-15s %-3s %s%s\n", audience_names[i],
		       o->msg[i].enabled ? "yes" : "no",
		       o->msg[i].html ? "(HTML) " : "",
		       o->msg[i].text != NULL ? o->msg[i].text : "-");
	return 0;
}

int
easctl_oof(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(16 * 1024);
	const char *sub = argc > 1 ? argv[1] : "", *texts[3] = {NULL};
	const char *from = NULL, *until = NULL;
	struct store_account acc;
	struct store_oof oof;
	struct store *s;
	enum store_error e;
	bool html = false;
	int rc = EX_USAGE;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage_oof, stdout);
		rc = 0;
		goto out;
	}
	if (argc < 3 || (strcmp(sub, "show") != 0 && strcmp(sub, "set") != 0 &&
			 strcmp(sub, "off") != 0))
		goto usage;
	for (int i = 3; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(sub, "set") != 0)
			goto usage;
		if (strcmp(argv[i], "--html") == 0) {
			html = true;
			continue;
		}
		if (v == NULL)
			goto usage;
		i++;
		if (strcmp(argv[i - 1], "--internal") == 0)
			texts[STORE_OOF_INTERNAL] = v;
		else if (strcmp(argv[i - 1], "--external") == 0)
			texts[STORE_OOF_EXTERNAL] = v;
		else if (strcmp(argv[i - 1], "--known") == 0)
			texts[STORE_OOF_KNOWN] = v;
		else if (strcmp(argv[i - 1], "--file-internal") == 0) {
			if (read_text(a, v, &texts[STORE_OOF_INTERNAL]) < 0) {
				rc = EX_FAIL;
				goto out;
			}
		} else if (strcmp(argv[i - 1], "--file-external") == 0) {
			if (read_text(a, v, &texts[STORE_OOF_EXTERNAL]) < 0) {
				rc = EX_FAIL;
				goto out;
			}
		} else if (strcmp(argv[i - 1], "--from") == 0)
			from = v;
		else if (strcmp(argv[i - 1], "--until") == 0)
			until = v;
		else
			goto usage;
	}
	rc = EX_FAIL;
	if ((s = easctl_store(ctl)) == NULL)
		goto out;
	e = store_account_by_address(s, a, argv[2], &acc);
	if (e != STORE_OK) {
		fprintf(stderr, "easctl: %s: %s\n", argv[2],
			e == STORE_NOTFOUND ? "unknown user"
					    : store_error_str(e));
		goto out;
	}
	if ((e = store_oof_get(s, a, acc.id, &oof)) != STORE_OK) {
		fprintf(stderr, "easctl: reading: %s\n", store_error_str(e));
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		rc = show(a, &acc, &oof);
		goto out;
	}
	if (strcmp(sub, "off") == 0) {
		oof.state = 0;
	} else {
		if ((from == NULL) != (until == NULL)) {
			fprintf(stderr, "easctl: --from and --until go "
					"together\n");
			rc = EX_USAGE;
			goto out;
		}
		oof.state = from != NULL ? 2 : 1;
		if (from != NULL && (time_parse(from, &oof.start) < 0 ||
				     time_parse(until, &oof.end) < 0)) {
			fprintf(stderr, "easctl: bad --from or --until\n");
			rc = EX_USAGE;
			goto out;
		}
		if (from != NULL && oof.end <= oof.start) {
			fprintf(stderr, "easctl: the window ends before it "
					"starts\n");
			rc = EX_USAGE;
			goto out;
		}
		if (texts[STORE_OOF_KNOWN] == NULL)
			texts[STORE_OOF_KNOWN] = texts[STORE_OOF_EXTERNAL];
		for (int i = 0; i < 3; i++)
			if (texts[i] != NULL) {
				oof.msg[i].enabled = true;
				oof.msg[i].text = texts[i];
				oof.msg[i].html = html;
			}
	}
	if ((e = store_oof_set(s, acc.id, &oof)) != STORE_OK) {
		fprintf(stderr, "easctl: %s\n",
			e == STORE_INVALID ? "a text over 64 KiB"
					   : store_error_str(e));
		goto out;
	}
	rc = show(a, &acc, &oof);
	goto out;
usage:
	fputs(usage_oof, stderr);
	rc = EX_USAGE;
out:
	arena_free(&a);
	return rc;
}
