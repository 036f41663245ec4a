/* easctl share ... and easctl member ...: grants of one account's folders
 * (or whole mailbox) to another, and the members of a shared mailbox
 * (OWNER on all of it, and send-as). */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "easctl.h"
#include "store.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_share[] =
	"usage: easctl [--data DIR] share add OWNER FOLDER GRANTEE\n"
	"                 --rights read|write|owner[,send-as|,send-on-behalf]\n"
	"       easctl [--data DIR] share remove OWNER FOLDER GRANTEE\n"
	"       easctl [--data DIR] share list [USER]\n"
	"  OWNER grants GRANTEE a right on one of its folders (by name or\n"
	"  ServerId), or on the whole mailbox with FOLDER '*': read (see),\n"
	"  write (add, change, delete items), owner (also rename, delete).\n"
	"  send-as (From the owner) and send-on-behalf (From the owner,\n"
	"  Sender the grantee) go with '*' only; alone they give no folder.\n"
	"  GRANTEE's devices show the folders under one named after OWNER at\n"
	"  their next FolderSync; remove takes them away the same way. A\n"
	"  shared mailbox as GRANTEE is a group: each member gets the right.\n";

static const char usage_member[] =
	"usage: easctl [--data DIR] member add SHARED USER\n"
	"       easctl [--data DIR] member remove SHARED USER\n"
	"       easctl [--data DIR] member list SHARED\n"
	"  The members of a shared mailbox (easctl user add NAME --shared):\n"
	"  each may use all of its folders and send as it.\n";

static const char *
send_name(int send)
{
	return send == STORE_SEND_AS	      ? "send-as"
	       : send == STORE_SEND_ON_BEHALF ? "send-on-behalf"
					      : NULL;
}

/* "write,send-as" -> rights and send; -1 when unreadable */
static int
parse_rights(char *spec, int *rights_r, int *send_r)
{
	char *save = NULL;

	*rights_r = STORE_RIGHT_NONE;
	*send_r = STORE_SEND_NONE;
	for (char *t = strtok_r(spec, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		int r = store_right_parse(t);

		if (r >= 0)
			*rights_r = r;
		else if (strcmp(t, "send-as") == 0)
			*send_r = STORE_SEND_AS;
		else if (strcmp(t, "send-on-behalf") == 0)
			*send_r = STORE_SEND_ON_BEHALF;
		else
			return -1;
	}
	return 0;
}

static int
folder_of(struct store *s, struct arena *a, const struct store_account *owner,
	  const char *name, int64_t *id_r)
{
	struct store_folder f;
	enum store_error e;

	if (strcmp(name, "*") == 0) {
		*id_r = 0;
		return 0;
	}
	e = store_folder_find(s, a, owner->id, name, &f);
	if (e == STORE_NOTFOUND) {
		fprintf(stderr, "easctl: %s has no folder '%s'\n", owner->login,
			name);
		return -1;
	}
	if (e != STORE_OK) {
		easctl_fail("looking up the folder", e);
		return -1;
	}
	*id_r = f.id;
	return 0;
}

static void
print_share(const struct store_share *sh)
{
	const char *send = send_name(sh->send);

	printf("%-30s %-20s %-30s %s%s%s\n", sh->owner,
	       sh->folder_id == 0   ? "*"
	       : sh->folder != NULL ? sh->folder
				    : "(deleted)",
	       sh->grantee, store_right_name(sh->rights),
	       send != NULL ? "," : "", send != NULL ? send : "");
}

static int
share_list(struct easctl *ctl, struct arena *a, const char *user)
{
	struct store_account acc = {.id = 0};
	struct store_share *list;
	struct store *s;
	enum store_error e;
	size_t n;

	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	if (user != NULL && easctl_account_of(s, a, user, &acc) < 0)
		return EX_FAIL;
	e = store_share_list(s, a, acc.id, &list, &n);
	if (e != STORE_OK)
		return easctl_fail("listing grants", e);
	printf("%-30s %-20s %-30s %s\n", "OWNER", "FOLDER", "GRANTEE",
	       "RIGHTS");
	for (size_t i = 0; i < n; i++)
		print_share(&list[i]);
	return 0;
}

static int
share_change(struct easctl *ctl, struct arena *a, char **pos, bool add,
	     int rights, int send)
{
	struct store_account owner, grantee;
	struct store *s;
	enum store_error e;
	int64_t folder;

	if ((s = easctl_store(ctl)) == NULL ||
	    easctl_account_of(s, a, pos[0], &owner) < 0 ||
	    easctl_account_of(s, a, pos[2], &grantee) < 0 ||
	    folder_of(s, a, &owner, pos[1], &folder) < 0)
		return EX_FAIL;
	if (add)
		e = store_share_set(s, owner.id, folder, grantee.id, rights,
				    send);
	else
		e = store_share_remove(s, owner.id, folder, grantee.id);
	if (e == STORE_INVALID) {
		fprintf(stderr, "easctl: not a grant: %s\n",
			owner.id == grantee.id
				? "an account has every right on its own"
				: "send rights go with the whole mailbox "
				  "('*')");
		return EX_FAIL;
	}
	if (e == STORE_NOTFOUND && !add) {
		fprintf(stderr, "easctl: %s grants %s nothing on %s\n",
			owner.login, grantee.login, pos[1]);
		return EX_FAIL;
	}
	if (e != STORE_OK)
		return easctl_fail(add ? "granting" : "removing the grant", e);
	if (add)
		printf("%s grants %s %s%s%s on %s\n", owner.login,
		       grantee.login, store_right_name(rights),
		       send_name(send) != NULL ? "," : "",
		       send_name(send) != NULL ? send_name(send) : "", pos[1]);
	else
		printf("%s no longer grants %s anything on %s\n", owner.login,
		       grantee.login, pos[1]);
	return 0;
}

int
easctl_share(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	const char *sub = argc > 1 ? argv[1] : NULL;
	char *pos[3] = {NULL, NULL, NULL}, *spec = NULL;
	int npos = 0, rc = EX_USAGE, rights, send;

	if (sub == NULL || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "-h") == 0) {
		fputs(usage_share, sub == NULL ? stderr : stdout);
		rc = sub == NULL ? EX_USAGE : 0;
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--rights") == 0 && i + 1 < argc)
			spec = argv[++i];
		else if (strncmp(argv[i], "--rights=", 9) == 0)
			spec = argv[i] + 9;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			goto usage;
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			goto usage;
	}
	if (strcmp(sub, "list") == 0 && npos <= 1 && spec == NULL) {
		rc = share_list(ctl, a, pos[0]);
	} else if (strcmp(sub, "add") == 0 && npos == 3 && spec != NULL) {
		if (parse_rights(spec, &rights, &send) < 0) {
			fprintf(stderr, "easctl: unknown right in '%s'\n",
				spec);
			goto usage;
		}
		rc = share_change(ctl, a, pos, true, rights, send);
	} else if (strcmp(sub, "remove") == 0 && npos == 3 && spec == NULL) {
		rc = share_change(ctl, a, pos, false, 0, 0);
	} else {
		goto usage;
	}
	goto out;
usage:
	fputs(usage_share, stderr);
	rc = EX_USAGE;
out:
	arena_free(&a);
	return rc;
}

int
easctl_member(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct store_account box, user;
	struct store *s;
	enum store_error e;
	bool shared = false;
	int rc = EX_FAIL;

	if (sub == NULL || strcmp(sub, "--help") == 0 ||
	    strcmp(sub, "-h") == 0) {
		fputs(usage_member, sub == NULL ? stderr : stdout);
		rc = sub == NULL ? EX_USAGE : 0;
		goto out;
	}
	if (!((strcmp(sub, "list") == 0 && argc == 3) ||
	      ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) &&
	       argc == 4))) {
		fputs(usage_member, stderr);
		rc = EX_USAGE;
		goto out;
	}
	if ((s = easctl_store(ctl)) == NULL ||
	    easctl_account_of(s, a, argv[2], &box) < 0)
		goto out;
	e = store_account_is_shared(s, box.id, &shared);
	if (e != STORE_OK) {
		rc = easctl_fail("reading the account", e);
		goto out;
	}
	if (!shared) {
		fprintf(stderr,
			"easctl: %s is not a shared mailbox (easctl share "
			"grants an account's folders)\n",
			box.login);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		struct store_share *list;
		size_t n;

		e = store_share_list(s, a, box.id, &list, &n);
		if (e != STORE_OK) {
			rc = easctl_fail("listing members", e);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (list[i].owner_id == box.id &&
			    list[i].folder_id == 0 &&
			    list[i].rights == STORE_RIGHT_OWNER)
				printf("%s\n", list[i].grantee);
		rc = 0;
		goto out;
	}
	if (easctl_account_of(s, a, argv[3], &user) < 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		e = store_share_set(s, box.id, 0, user.id, STORE_RIGHT_OWNER,
				    STORE_SEND_AS);
	else
		e = store_share_remove(s, box.id, 0, user.id);
	if (e == STORE_NOTFOUND) {
		fprintf(stderr, "easctl: %s is not a member of %s\n",
			user.login, box.login);
		goto out;
	}
	if (e != STORE_OK) {
		rc = easctl_fail("changing the members", e);
		goto out;
	}
	printf("%s %s %s\n", user.login,
	       strcmp(sub, "add") == 0 ? "is now a member of"
				       : "is no longer a member of",
	       box.login);
	rc = 0;
out:
	arena_free(&a);
	return rc;
}
