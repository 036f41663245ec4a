/* easctl: the administrator's tool. Accounts, devices, policies, import
 * and export of standard formats, statistics; every change goes through
 * the store, whose change notification tells running servers. */
#include "easctl.h"

#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "bundle.h"
#include "conv.h"
#include "conv-tz.h"
#include "datadir.h"
#include "log.h"
#include "loopstate.h"
#include "util.h"
#include "version.h"
#include "xalloc.h"

#define EASCTL_MAX_FILE (256u * 1024 * 1024)
#define EASCTL_MAX_PASSWORD 1024
#define EASCTL_MAX_POSITIONAL 8
#define EASCTL_EXPORT_BATCH 200

/* Exit codes: 0 success, 1 failure, 2 usage error. */
#define EX_FAIL 1
#define EX_USAGE 2

/* Provided by easctl-wbxml.c / easctl-deliver.c when they are built in. */
#pragma weak easctl_wbxml
#pragma weak easctl_deliver

static const char *prog = "easctl";

static void __attribute__((format(printf, 1, 2))) die_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

/* Say which data directory is used (stderr: stdout is the command's
 * output), by its full path when there is one. */
static void
say_data_dir(const char *dir, const char *what)
{
	char *real = realpath(dir, NULL);

	fprintf(stderr, "%s: %s %s\n", prog, what, real != NULL ? real : dir);
	free(real);
}

struct store *
easctl_store(struct easctl *ctl)
{
	const char *err = NULL;
	char why[1024];
	enum store_error e;
	int r;

	if (ctl->store != NULL)
		return ctl->store;
	if (ctl->store_url != NULL)
		goto open; /* no directory of ours */
	/* A mistyped or forgotten --data must not become a new, empty data
	 * directory: only "easctl init" makes one. */
	r = datadir_check(ctl->data_dir, false, why, sizeof(why));
	if (r == 1) {
		die_msg("data directory %s does not exist (create it with: "
			"easctl init %s)",
			ctl->data_dir, ctl->data_dir);
		return NULL;
	}
	if (r < 0) {
		die_msg("%s", why);
		return NULL;
	}
	say_data_dir(ctl->data_dir, "data directory");
open:
	e = store_open(ctl->db_path, &ctl->store, &err);
	if (e != STORE_OK) {
		char shown[STORE_SHOWN_MAX];

		die_msg("cannot open %s: %s",
			store_path_shown(ctl->db_path, shown, sizeof(shown)),
			err != NULL ? err : store_error_str(e));
		ctl->store = NULL;
		return NULL;
	}
	return ctl->store;
}

/* --- argument parsing --- */

struct opt {
	const char *name; /* "--email" */
	bool has_arg;
	const char **value; /* for has_arg */
	bool *flag;	    /* for flags */
};

/* Options anywhere, positionals collected in order. Returns the number of
 * positionals, -1 on a usage error (printed), -2 for --help. */
static int
parse_args(int argc, char **argv, const struct opt *opts, char **pos,
	   int maxpos)
{
	int npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct opt *o = NULL;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return -2;
		if (strcmp(arg, "--") == 0) {
			while (++i < argc) {
				if (npos == maxpos)
					goto too_many;
				pos[npos++] = argv[i];
			}
			break;
		}
		if (arg[0] == '-' && arg[1] == '-') {
			for (const struct opt *q = opts;
			     q != NULL && q->name != NULL; q++)
				if (strcmp(q->name, arg) == 0)
					o = q;
			if (o == NULL) {
				die_msg("unknown option %s", arg);
				return -1;
			}
			if (o->has_arg) {
				if (i + 1 >= argc) {
					die_msg("%s needs a value", arg);
					return -1;
				}
				*o->value = argv[++i];
			} else {
				*o->flag = true;
			}
			continue;
		}
		if (npos == maxpos)
			goto too_many;
		pos[npos++] = argv[i];
	}
	return npos;
too_many:
	die_msg("too many arguments");
	return -1;
}

static int
usage_out(const char *text, int rc)
{
	fputs(text, rc == 0 ? stdout : stderr);
	return rc;
}

/* Common prologue: parse, handle --help and argument counts. Returns -1
 * when the caller should return *rc_r. */
static int
args_or_usage(int argc, char **argv, const struct opt *opts, char **pos,
	      int minpos, int maxpos, const char *usage, int *npos_r, int *rc_r)
{
	int n = parse_args(argc, argv, opts, pos, EASCTL_MAX_POSITIONAL);

	if (n == -2) {
		*rc_r = usage_out(usage, 0);
		return -1;
	}
	if (n < 0 || n < minpos || n > maxpos) {
		if (n >= 0)
			die_msg("wrong number of arguments");
		*rc_r = usage_out(usage, EX_USAGE);
		return -1;
	}
	*npos_r = n;
	return 0;
}

/* --- shared lookups --- */

static int
lookup_account(struct store *s, struct arena *a, const char *name,
	       struct store_account *acc)
{
	enum store_error e = store_account_get(s, a, name, acc);

	if (e == STORE_NOTFOUND) {
		die_msg("unknown user '%s'", name);
		return -1;
	}
	if (e != STORE_OK) {
		die_msg("looking up user '%s': %s", name, store_error_str(e));
		return -1;
	}
	return 0;
}

static int
lookup_device(struct store *s, struct arena *a, const char *user,
	      const char *device_id, struct store_account *acc,
	      struct store_device *dev)
{
	enum store_error e;

	if (lookup_account(s, a, user, acc) < 0)
		return -1;
	e = store_device_get(s, a, acc->id, device_id, dev);
	if (e == STORE_NOTFOUND) {
		die_msg("unknown device '%s' of user '%s'", device_id, user);
		return -1;
	}
	if (e != STORE_OK) {
		die_msg("looking up device '%s': %s", device_id,
			store_error_str(e));
		return -1;
	}
	return 0;
}

static int
lookup_folder(struct store *s, struct arena *a, int64_t account_id,
	      const char *name, struct store_folder *f)
{
	enum store_error e = store_folder_find(s, a, account_id, name, f);

	if (e == STORE_NOTFOUND) {
		die_msg("unknown folder '%s'", name);
		return -1;
	}
	if (e != STORE_OK) {
		die_msg("looking up folder '%s': %s", name, store_error_str(e));
		return -1;
	}
	return 0;
}

int
easctl_fail(const char *what, enum store_error e)
{
	fprintf(stderr, "easctl: %s: %s\n", what, store_error_str(e));
	return EX_FAIL;
}

int
easctl_account_of(struct store *s, struct arena *a, const char *name,
		  struct store_account *acc)
{
	enum store_error e = store_account_by_address(s, a, name, acc);

	if (e == STORE_NOTFOUND) {
		fprintf(stderr, "easctl: unknown user '%s'\n", name);
		return -1;
	}
	if (e != STORE_OK) {
		easctl_fail("looking up the user", e);
		return -1;
	}
	return 0;
}

static int
store_fail(const char *what, enum store_error e)
{
	die_msg("%s: %s", what, store_error_str(e));
	return EX_FAIL;
}

static const char *
fmt_time(struct arena *a, int64_t t)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0)
		return "-";
	if (gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
	return arena_strdup(a, buf);
}

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* Who an administrator's change is recorded as: "admin:NAME", the login
 * behind sudo when there is one. */
static const char *
admin_origin(struct arena *a)
{
	const char *who = getenv("SUDO_USER");
	struct passwd *pw;

	if (who == NULL || who[0] == '\0') {
		pw = getpwuid(getuid());
		who = pw != NULL ? pw->pw_name : NULL;
	}
	if (who == NULL || strlen(who) > 64)
		return "admin";
	return arena_printf(a, "admin:%s", who);
}

/* Read a whole file (or stdin for "-") into the arena, NUL terminated. */
static int
read_file(struct arena *a, const char *path, char **data_r, size_t *len_r)
{
	const char *error;

	if (arena_read_path(a, path, EASCTL_MAX_FILE, data_r, len_r, &error) <
	    0) {
		die_msg("%s", error);
		return -1;
	}
	return 0;
}

static int
read_password_stdin(char *buf, size_t size)
{
	size_t len;

	if (fgets(buf, (int)size, stdin) == NULL) {
		die_msg("no password on standard input");
		return -1;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin)) {
		die_msg("password too long");
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		die_msg("empty password");
		return -1;
	}
	return 0;
}

static void
random_password(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t r[64];

	eas_assert(len <= sizeof(r));
	random_bytes(r, len);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	out[len] = '\0';
}

/* --- user --- */

static const char usage_user[] =
	"usage: easctl [--data DIR] user COMMAND ...\n"
	"  user add NAME [--email ADDR] [--display-name NAME]\n"
	"           [--password P | --password-stdin | --shared]\n"
	"      Create an account with its default folders. Without a\n"
	"      password one is generated and printed once. The address\n"
	"      defaults to NAME when NAME contains '@', else NAME@localhost.\n"
	"      --shared: a shared mailbox (info@, a family calendar) without\n"
	"      a password of its own; its members use it (easctl member).\n"
	"  user list\n"
	"  user passwd NAME [--password P | --password-stdin]\n"
	"  user disable NAME | user enable NAME\n"
	"  user delete NAME      remove the account and all its data\n"
	"  user admin NAME on|off  whether NAME may use the admin pages\n"
	"  user alias add|remove|list NAME [ADDRESS]\n"
	"      addresses the account receives mail for and sends as\n"
	"  user set NAME [--phone X] [--mobile X] [--office X] [--title X]\n"
	"           [--company X] [--department X] [--photo FILE] ...\n"
	"      what the address list shows for the account (set --help)\n"
	"  user set NAME --timezone AREA/CITY\n"
	"      The zone of NAME's birthdays and other dates for devices whose\n"
	"      own zone is not known yet (a device's calendar items tell it);\n"
	"      '' removes it (the server's zone applies). Like a policy\n"
	"      change, it asks NAME's devices to provision again.\n";

static int
get_password(const char *given, bool from_stdin, char *buf, size_t size,
	     bool *generated_r)
{
	*generated_r = false;
	if (given != NULL && from_stdin) {
		die_msg("--password and --password-stdin exclude each other");
		return -1;
	}
	if (from_stdin)
		return read_password_stdin(buf, size);
	if (given != NULL) {
		if (given[0] == '\0') {
			die_msg("empty password");
			return -1;
		}
		if (strlen(given) >= size) {
			die_msg("password too long");
			return -1;
		}
		strcpy(buf, given);
		return 0;
	}
	random_password(buf, 16);
	*generated_r = true;
	return 0;
}

static int
user_add(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *email = NULL, *display = NULL, *password = NULL;
	bool pw_stdin = false, generated, shared = false;
	const struct opt opts[] = {
		{"--email", true, &email, NULL},
		{"--display-name", true, &display, NULL},
		{"--password", true, &password, NULL},
		{"--password-stdin", false, NULL, &pw_stdin},
		{"--shared", false, NULL, &shared},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL], pw[EASCTL_MAX_PASSWORD];
	struct store *s;
	enum store_error e;
	int64_t id;
	int n, rc;

	if (args_or_usage(argc, argv, opts, pos, 1, 1, usage_user, &n, &rc) < 0)
		return rc;
	if (email == NULL)
		email = strchr(pos[0], '@') != NULL
				? pos[0]
				: arena_printf(a, "%s@localhost", pos[0]);
	if (get_password(password, pw_stdin, pw, sizeof(pw), &generated) < 0)
		return EX_FAIL;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	e = store_account_add(s, pos[0], email, display, pw, &id);
	if (e == STORE_EXISTS) {
		die_msg("user '%s' or address '%s' already exists", pos[0],
			email);
		return EX_FAIL;
	}
	if (e == STORE_INVALID) {
		die_msg("invalid user name, address or password");
		return EX_FAIL;
	}
	if (e != STORE_OK)
		return store_fail("adding user", e);
	if (shared) {
		/* the generated password is never shown: it goes at once */
		e = store_account_set_shared(s, id, true);
		explicit_bzero(pw, sizeof(pw));
		if (e != STORE_OK)
			return store_fail("making the mailbox shared", e);
		printf("shared mailbox %s added (id %lld, %s)\n", pos[0],
		       (long long)id, email);
		return 0;
	}
	printf("user %s added (id %lld, %s)\n", pos[0], (long long)id, email);
	if (generated)
		printf("password: %s\n", pw);
	return 0;
}

static int
user_list(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account *list;
	struct store_device *devs;
	struct store *s;
	enum store_error e;
	size_t count, ndevs;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 0, 0, usage_user, &n, &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	e = store_account_list(s, a, &list, &count);
	if (e == STORE_OK)
		e = store_device_list(s, a, 0, &devs, &ndevs);
	if (e != STORE_OK)
		return store_fail("listing users", e);
	printf("%-4s %-20s %-30s %-8s %-20s %-20s %s\n", "ID", "LOGIN", "EMAIL",
	       "STATE", "CREATED", "LAST ACTIVITY", "DISPLAY NAME");
	for (size_t i = 0; i < count; i++) {
		/* the last request of any of its devices */
		int64_t last = 0;

		for (size_t k = 0; k < ndevs; k++)
			if (devs[k].account_id == list[i].id &&
			    devs[k].last_seen > last)
				last = devs[k].last_seen;
		printf("%-4lld %-20s %-30s %-8s %-20s %-20s %s\n",
		       (long long)list[i].id, list[i].login, list[i].email,
		       !list[i].enabled ? "disabled"
		       : list[i].admin	? "admin"
					: "enabled",
		       fmt_time(a, list[i].created), fmt_time(a, last),
		       dash(list[i].display_name));
	}
	return 0;
}

static int
user_passwd(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *password = NULL;
	bool pw_stdin = false, generated;
	const struct opt opts[] = {
		{"--password", true, &password, NULL},
		{"--password-stdin", false, NULL, &pw_stdin},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL], pw[EASCTL_MAX_PASSWORD];
	struct store_account acc;
	struct store *s;
	enum store_error e;
	int n, rc;

	if (args_or_usage(argc, argv, opts, pos, 1, 1, usage_user, &n, &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	if (get_password(password, pw_stdin, pw, sizeof(pw), &generated) < 0)
		return EX_FAIL;
	e = store_account_set_password(s, acc.id, pw);
	if (e != STORE_OK)
		return store_fail("setting the password", e);
	printf("password of %s changed\n", acc.login);
	if (generated)
		printf("password: %s\n", pw);
	return 0;
}

static int
user_set_enabled(struct easctl *ctl, struct arena *a, int argc, char **argv,
		 bool enabled)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store *s;
	enum store_error e;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 1, 1, usage_user, &n, &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	e = store_account_set_enabled(s, acc.id, enabled);
	if (e != STORE_OK)
		return store_fail("changing the user", e);
	printf("user %s %s\n", acc.login, enabled ? "enabled" : "disabled");
	return 0;
}

static int
user_admin(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store *s;
	enum store_error e;
	bool on;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 2, 2, usage_user, &n, &rc) < 0)
		return rc;
	if (strcmp(pos[1], "on") != 0 && strcmp(pos[1], "off") != 0) {
		die_msg("user admin NAME on|off, not '%s'", pos[1]);
		return usage_out(usage_user, EX_USAGE);
	}
	on = strcmp(pos[1], "on") == 0;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	e = store_account_set_admin(s, acc.id, on);
	if (e != STORE_OK)
		return store_fail("changing the user", e);
	printf("user %s %s the admin pages\n", acc.login,
	       on ? "may use" : "may no longer use");
	return 0;
}

static int
user_delete(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store *s;
	enum store_error e;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 1, 1, usage_user, &n, &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	e = store_account_delete(s, acc.id);
	if (e != STORE_OK)
		return store_fail("deleting the user", e);
	printf("user %s deleted\n", acc.login);
	return 0;
}

static int
cmd_user(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return usage_out(usage_user, EX_USAGE);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return usage_out(usage_user, 0);
	argc -= 2;
	argv += 2;
	if (strcmp(sub, "add") == 0)
		return user_add(ctl, a, argc, argv);
	if (strcmp(sub, "list") == 0)
		return user_list(ctl, a, argc, argv);
	if (strcmp(sub, "passwd") == 0)
		return user_passwd(ctl, a, argc, argv);
	if (strcmp(sub, "disable") == 0)
		return user_set_enabled(ctl, a, argc, argv, false);
	if (strcmp(sub, "enable") == 0)
		return user_set_enabled(ctl, a, argc, argv, true);
	if (strcmp(sub, "delete") == 0)
		return user_delete(ctl, a, argc, argv);
	if (strcmp(sub, "admin") == 0)
		return user_admin(ctl, a, argc, argv);
	if (strcmp(sub, "alias") == 0)
		return easctl_alias(ctl, argc + 1, argv - 1);
	if (strcmp(sub, "set") == 0)
		return easctl_user_set(ctl, argc + 1, argv - 1);
	die_msg("unknown user command '%s'", sub);
	return usage_out(usage_user, EX_USAGE);
}

/* --- device --- */

static const char usage_device[] =
	"usage: easctl [--data DIR] device COMMAND ...\n"
	"  device list [USER]\n"
	"  device allow|block|quarantine USER DEVICE\n"
	"  device wipe USER DEVICE [--account-only]\n"
	"      full remote wipe at the next contact, or (16.1 devices) only\n"
	"      this account's data\n"
	"  device remove USER DEVICE      forget the partnership\n"
	"  device resync USER DEVICE|--all [--folder F | --type TYPE]\n"
	"      drop sync state so the device (or every device of USER)\n"
	"      syncs again: all folders, the folder F, or the folders of a\n"
	"      TYPE: mail, contacts, calendar, tasks or notes\n"
	"  device clearloop USER DEVICE\n"
	"      forget the loops found for the device; what was isolated is\n"
	"      sent to it again\n";

static const char *
wipe_name(enum store_wipe w)
{
	switch (w) {
	case STORE_WIPE_NONE:
		return "none";
	case STORE_WIPE_REQUESTED:
		return "wipe-requested";
	case STORE_WIPE_ACKNOWLEDGED:
		return "wiped";
	case STORE_WIPE_ACCOUNT_REQUESTED:
		return "account-wipe-requested";
	case STORE_WIPE_ACCOUNT_ACKNOWLEDGED:
		return "account-wiped";
	}
	return "?";
}

/* The wipe requests and acknowledgements in the device's history: when,
 * and by whom (the administrator, or the device). */
static int
print_wipe_history(struct store *s, struct arena *a,
		   const struct store_device *d)
{
	struct store_device_event *ev;
	enum store_error e;
	size_t n;

	e = store_device_history(s, a, d->id, &ev, &n);
	if (e != STORE_OK)
		return store_fail("reading the device's history", e);
	for (size_t i = 0; i < n; i++)
		if (strstr(ev[i].what, "wipe") != NULL)
			printf("    %-20s %s by %s\n", fmt_time(a, ev[i].when),
			       ev[i].what, dash(ev[i].origin));
	return 0;
}

/* What a folder type is, as device resync --type names it. */
static const char *
folder_class(int type)
{
	switch (type) {
	case EAS_FOLDER_INBOX:
	case EAS_FOLDER_DRAFTS:
	case EAS_FOLDER_DELETED:
	case EAS_FOLDER_SENT:
	case EAS_FOLDER_OUTBOX:
	case EAS_FOLDER_USER_MAIL:
		return "mail";
	case EAS_FOLDER_CALENDAR:
	case EAS_FOLDER_USER_CALENDAR:
		return "calendar";
	case EAS_FOLDER_CONTACTS:
	case EAS_FOLDER_USER_CONTACTS:
		return "contacts";
	case EAS_FOLDER_TASKS:
	case EAS_FOLDER_USER_TASKS:
		return "tasks";
	case EAS_FOLDER_NOTES:
	case EAS_FOLDER_USER_NOTES:
		return "notes";
	default:
		return "other";
	}
}

/* Each folder the device syncs and when its state last advanced. */
static int
print_folder_syncs(struct store *s, struct arena *a,
		   const struct store_device *d)
{
	struct store_sync_info *list;
	enum store_error e;
	size_t n;

	e = store_sync_list(s, a, d->id, &list, &n);
	if (e != STORE_OK)
		return store_fail("reading the sync state", e);
	printf("  folders:      %zu synced%s\n", n, n > 0 ? ":" : "");
	for (size_t i = 0; i < n; i++)
		printf("    %-20s %-9s %s\n", fmt_time(a, list[i].synced),
		       list[i].folder_id == 0
			       ? "hierarchy"
			       : folder_class(list[i].folder_type),
		       list[i].folder_id == 0 ? "(FolderSync)"
					      : dash(list[i].folder_name));
	return 0;
}

/* A folder row id as the listing shows it: its name, "hierarchy" for 0. */
static const char *
loop_folder_name(struct store *s, struct arena *a, int64_t account_id,
		 int64_t id)
{
	struct store_folder f;

	if (id == 0)
		return "hierarchy";
	if (store_folder_get_by_id(s, a, account_id, id, &f) == STORE_OK)
		return f.name;
	return arena_printf(a, "folder %lld", (long long)id);
}

/* What loop detection knows about the device (common/loopstate.h). */
static void
print_loops(struct store *s, struct arena *a, const struct store_device *d)
{
	struct loopstate ls;
	uint8_t *data;
	size_t len;

	if (store_device_blob_get(s, a, d->id, LOOPSTATE_BLOB, &data, &len) !=
	    STORE_OK)
		data = NULL;
	loopstate_parse(a, data, data != NULL ? len : 0, &ls);
	if (ls.n == 0) {
		printf("  loops:        none\n");
		return;
	}
	for (size_t i = 0; i < ls.n; i++) {
		const struct loopstate_fact *f = &ls.v[i];
		const char *folder =
			loop_folder_name(s, a, d->account_id, f->folder);

		switch (f->kind) {
		case LOOPSTATE_LOOPS:
			printf("  loops:        %s: %lld, the last %s\n",
			       folder, (long long)f->count,
			       fmt_time(a, f->time));
			break;
		case LOOPSTATE_ISOLATED:
			printf("  isolated:     %s: %s since %s\n", folder,
			       f->server_id, fmt_time(a, f->time));
			break;
		case LOOPSTATE_PROBE:
			printf("  probing:      %s (one item an answer)\n",
			       folder);
			break;
		case LOOPSTATE_REPEAT:
			printf("  repeated:     %s: key %s %lld times\n",
			       folder, f->key, (long long)f->count);
			break;
		case LOOPSTATE_SUSPECT:
			break;
		}
	}
}

static int
device_list(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc, *accs;
	struct store_device *list;
	struct store *s;
	enum store_error e;
	size_t count, naccs;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 0, 1, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	acc.id = 0;
	if (n == 1 && lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	e = store_device_list(s, a, acc.id, &list, &count);
	if (e == STORE_OK)
		e = store_account_list(s, a, &accs, &naccs);
	if (e != STORE_OK)
		return store_fail("listing devices", e);
	if (count == 0) {
		printf("no devices\n");
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		const struct store_device *d = &list[i];
		const char *login = "?";

		for (size_t j = 0; j < naccs; j++)
			if (accs[j].id == d->account_id)
				login = accs[j].login;
		printf("%s/%s\n", login, d->device_id);
		printf("  type:         %s\n", dash(d->device_type));
		printf("  model:        %s\n", dash(d->info.model));
		printf("  os:           %s\n", dash(d->info.os));
		printf("  user agent:   %s\n", dash(d->user_agent));
		printf("  version:      %s\n", dash(d->protocol_version));
		printf("  first seen:   %s\n", fmt_time(a, d->first_seen));
		printf("  last seen:    %s\n", fmt_time(a, d->last_seen));
		printf("  last command: %s\n", dash(d->last_command));
		printf("  access:       %s\n", store_access_name(d->access));
		printf("  wipe:         %s\n", wipe_name(d->wipe));
		if (print_wipe_history(s, a, d) < 0)
			return EX_FAIL;
		printf("  policy key:   %u%s\n", d->policy_key,
		       d->policy_key == 0 ? " (not provisioned)" : "");
		if (print_folder_syncs(s, a, d) < 0)
			return EX_FAIL;
		print_loops(s, a, d);
	}
	return 0;
}

static int
device_access(struct easctl *ctl, struct arena *a, int argc, char **argv,
	      enum store_access access)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_device dev;
	struct store *s;
	enum store_error e;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 2, 2, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_device(s, a, pos[0], pos[1], &acc, &dev) < 0)
		return EX_FAIL;
	e = store_device_set_access(s, dev.id, access, admin_origin(a));
	if (e != STORE_OK)
		return store_fail("changing the device", e);
	printf("device %s of %s: %s\n", dev.device_id, acc.login,
	       store_access_name(access));
	return 0;
}

static int
device_wipe(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	bool account_only = false;
	const struct opt opts[] = {
		{"--account-only", false, NULL, &account_only},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_device dev;
	struct store *s;
	enum store_error e;
	enum store_wipe w;
	int n, rc;

	if (args_or_usage(argc, argv, opts, pos, 2, 2, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_device(s, a, pos[0], pos[1], &acc, &dev) < 0)
		return EX_FAIL;
	w = account_only ? STORE_WIPE_ACCOUNT_REQUESTED : STORE_WIPE_REQUESTED;
	e = store_device_set_wipe(s, dev.id, w, admin_origin(a));
	if (e != STORE_OK)
		return store_fail("requesting the wipe", e);
	printf("device %s of %s: %s wipe requested; it happens at the "
	       "device's next contact\n",
	       dev.device_id, acc.login,
	       account_only ? "account-only" : "full");
	return 0;
}

static int
device_remove(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_device dev;
	struct store *s;
	enum store_error e;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 2, 2, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_device(s, a, pos[0], pos[1], &acc, &dev) < 0)
		return EX_FAIL;
	e = store_device_remove(s, dev.id);
	if (e != STORE_OK)
		return store_fail("removing the device", e);
	printf("device %s of %s removed\n", dev.device_id, acc.login);
	return 0;
}

/* Drop the sync state of one device: every folder, the folder f, or the
 * folders of one class ("mail", ...). Prints what it did. */
static int
resync_one(struct store *s, struct arena *a, const struct store_account *acc,
	   const struct store_device *dev, const struct store_folder *f,
	   const char *type)
{
	struct store_sync_info *list;
	enum store_error e;
	size_t n, dropped = 0;

	if (type == NULL) {
		e = store_sync_delete(s, dev->id, f != NULL ? f->id : -1);
		if (e != STORE_OK && e != STORE_NOTFOUND)
			return store_fail("dropping sync state", e);
		printf("device %s of %s: sync state of %s dropped\n",
		       dev->device_id, acc->login,
		       f != NULL ? f->name : "every folder");
		return 0;
	}
	e = store_sync_list(s, a, dev->id, &list, &n);
	if (e != STORE_OK)
		return store_fail("reading the sync state", e);
	for (size_t i = 0; i < n; i++) {
		if (list[i].folder_id == 0 ||
		    strcmp(folder_class(list[i].folder_type), type) != 0)
			continue;
		e = store_sync_delete(s, dev->id, list[i].folder_id);
		if (e != STORE_OK && e != STORE_NOTFOUND)
			return store_fail("dropping sync state", e);
		dropped++;
	}
	printf("device %s of %s: sync state of %zu %s folder%s dropped\n",
	       dev->device_id, acc->login, dropped, type,
	       dropped == 1 ? "" : "s");
	return 0;
}

static int
device_resync(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	static const char *const types[] = {"mail", "contacts", "calendar",
					    "tasks", "notes"};
	const char *folder = NULL, *type = NULL;
	bool all = false;
	const struct opt opts[] = {
		{"--folder", true, &folder, NULL},
		{"--type", true, &type, NULL},
		{"--all", false, NULL, &all},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_device dev, *list;
	struct store_folder f;
	struct store *s;
	enum store_error e;
	size_t count;
	int n, rc;

	if (args_or_usage(argc, argv, opts, pos, 1, 2, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((n == 2) == all) {
		die_msg("name a DEVICE or give --all");
		return usage_out(usage_device, EX_USAGE);
	}
	if (folder != NULL && type != NULL) {
		die_msg("--folder and --type exclude each other");
		return EX_USAGE;
	}
	if (type != NULL) {
		bool known = false;

		for (size_t i = 0; i < N_ELEMENTS(types); i++)
			known |= strcmp(types[i], type) == 0;
		if (!known) {
			die_msg("unknown folder type '%s' (mail, contacts, "
				"calendar, tasks or notes)",
				type);
			return EX_USAGE;
		}
	}
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	if (all) {
		if (lookup_account(s, a, pos[0], &acc) < 0)
			return EX_FAIL;
	} else if (lookup_device(s, a, pos[0], pos[1], &acc, &dev) < 0) {
		return EX_FAIL;
	}
	if (folder != NULL && lookup_folder(s, a, acc.id, folder, &f) < 0)
		return EX_FAIL;
	if (!all)
		return resync_one(s, a, &acc, &dev, folder != NULL ? &f : NULL,
				  type) < 0
			       ? EX_FAIL
			       : 0;
	e = store_device_list(s, a, acc.id, &list, &count);
	if (e != STORE_OK)
		return store_fail("listing devices", e);
	if (count == 0)
		printf("%s has no devices\n", acc.login);
	for (size_t i = 0; i < count; i++)
		if (resync_one(s, a, &acc, &list[i], folder != NULL ? &f : NULL,
			       type) < 0)
			return EX_FAIL;
	return 0;
}

static int
device_clearloop(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_device dev;
	struct store *s;
	enum store_error e;
	size_t isolated = 0;
	int n, rc;

	if (args_or_usage(argc, argv, NULL, pos, 2, 2, usage_device, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_device(s, a, pos[0], pos[1], &acc, &dev) < 0)
		return EX_FAIL;
	e = store_device_clear_loops(s, a, dev.id, &isolated);
	if (e != STORE_OK)
		return store_fail("clearing the loop state", e);
	printf("device %s of %s: loop state cleared (%zu isolated item%s "
	       "sent again)\n",
	       dev.device_id, acc.login, isolated, isolated == 1 ? "" : "s");
	return 0;
}

static int
cmd_device(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return usage_out(usage_device, EX_USAGE);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return usage_out(usage_device, 0);
	argc -= 2;
	argv += 2;
	if (strcmp(sub, "list") == 0)
		return device_list(ctl, a, argc, argv);
	if (strcmp(sub, "allow") == 0)
		return device_access(ctl, a, argc, argv, STORE_ACCESS_ALLOWED);
	if (strcmp(sub, "block") == 0)
		return device_access(ctl, a, argc, argv, STORE_ACCESS_BLOCKED);
	if (strcmp(sub, "quarantine") == 0)
		return device_access(ctl, a, argc, argv,
				     STORE_ACCESS_QUARANTINED);
	if (strcmp(sub, "wipe") == 0)
		return device_wipe(ctl, a, argc, argv);
	if (strcmp(sub, "remove") == 0)
		return device_remove(ctl, a, argc, argv);
	if (strcmp(sub, "resync") == 0)
		return device_resync(ctl, a, argc, argv);
	if (strcmp(sub, "clearloop") == 0)
		return device_clearloop(ctl, a, argc, argv);
	die_msg("unknown device command '%s'", sub);
	return usage_out(usage_device, EX_USAGE);
}

/* --- policy (MS-ASPROV 2.2.2.*; digest 7.6) --- */

static const char usage_policy[] =
	"usage: easctl [--data DIR] policy COMMAND ...\n"
	"  policy show [--user U]       effective settings (global, or U's)\n"
	"  policy set [--user U] KEY VALUE\n"
	"  policy unset [--user U] KEY\n"
	"  policy names                 the settings easctl knows\n"
	"KEY is an MS-ASPROV policy name (e.g. DevicePasswordEnabled);\n"
	"booleans take 0/1 (or true/false), numbers a decimal value, lists\n"
	"(ApprovedApplicationList, UnapprovedInROMApplicationList) a\n"
	"comma-separated list. Devices are asked to provision again.\n";

static int
policy_cmd(struct easctl *ctl, struct arena *a, int argc, char **argv,
	   const char *sub)
{
	const char *user = NULL;
	const struct opt opts[] = {
		{"--user", true, &user, NULL},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc = {.id = 0};
	const char *key = NULL, *value = NULL, *error;
	struct store *s;
	enum store_error e;
	int n, rc, want;

	want = strcmp(sub, "set") == 0 ? 2 : strcmp(sub, "unset") == 0 ? 1 : 0;
	if (args_or_usage(argc, argv, opts, pos, want, want, usage_policy, &n,
			  &rc) < 0)
		return rc;
	if (strcmp(sub, "names") == 0) {
		const char *const *names;
		size_t count = store_policy_names(&names);

		for (size_t i = 0; i < count; i++)
			printf("%s\n", names[i]);
		return 0;
	}
	if (want > 0 && store_policy_check(a, pos[0], want == 2 ? pos[1] : NULL,
					   &key, &value, &error) < 0) {
		die_msg("%s", error);
		return EX_FAIL;
	}
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	if (user != NULL && lookup_account(s, a, user, &acc) < 0)
		return EX_FAIL;
	if (want == 0) {
		struct store_policy_kv *kv;
		size_t count;

		e = store_policy_get(s, a, acc.id, &kv, &count);
		if (e != STORE_OK)
			return store_fail("reading the policy", e);
		if (count == 0)
			printf("# no settings: the permissive default policy "
			       "applies\n");
		for (size_t i = 0; i < count; i++)
			printf("%s=%s\n", kv[i].key, kv[i].value);
		return 0;
	}
	e = store_policy_set(s, acc.id, key, value);
	if (e != STORE_OK)
		return store_fail("changing the policy", e);
	if (value != NULL)
		printf("%s=%s%s%s\n", key, value, user != NULL ? " for " : "",
		       user != NULL ? user : "");
	else
		printf("%s unset%s%s\n", key, user != NULL ? " for " : "",
		       user != NULL ? user : "");
	return 0;
}

static int
cmd_policy(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return usage_out(usage_policy, EX_USAGE);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return usage_out(usage_policy, 0);
	if (strcmp(sub, "show") == 0 || strcmp(sub, "set") == 0 ||
	    strcmp(sub, "unset") == 0 || strcmp(sub, "names") == 0)
		return policy_cmd(ctl, a, argc - 2, argv + 2, sub);
	die_msg("unknown policy command '%s'", sub);
	return usage_out(usage_policy, EX_USAGE);
}

/* --- import --- */

static const char usage_import[] =
	"usage: easctl [--data DIR] import USER FILE [--folder F] [--strict]\n"
	"  .vcf  vCards -> Contacts\n"
	"  .ics  VEVENTs -> Calendar, VTODOs -> Tasks\n"
	"  .eml  one message -> Inbox;  .mbox (or mbox content) -> Inbox\n"
	"With --folder, items go to folder F (name or id), which must hold\n"
	"their class. An item whose UID is already in its folder replaces\n"
	"that item (export, edit, import). Every valid item is imported; each\n"
	"one that is not is reported on standard error as FILE:LINE: reason,\n"
	"and a summary line follows. --strict: all or nothing, the first bad\n"
	"item imports nothing.\n"
	"Exit: 0 everything imported, 3 some items imported and some skipped,\n"
	"1 nothing imported (an error, every item bad, or --strict and a bad\n"
	"item), 2 usage error. FILE '-' reads standard input.\n"
	"On a terminal, a progress line on standard error.\n";

/* Exit status of an import that skipped some items but not all. */
#define EX_PARTIAL 3

static int
folder_for_class(struct store *s, struct arena *a, int64_t account_id,
		 enum store_class cls, const struct store_folder *given,
		 struct store_folder *f)
{
	static const int default_type[] = {
		[STORE_CLASS_EMAIL] = EAS_FOLDER_INBOX,
		[STORE_CLASS_CONTACTS] = EAS_FOLDER_CONTACTS,
		[STORE_CLASS_CALENDAR] = EAS_FOLDER_CALENDAR,
		[STORE_CLASS_TASKS] = EAS_FOLDER_TASKS,
		[STORE_CLASS_NOTES] = EAS_FOLDER_NOTES,
	};
	enum store_error e;

	if (given != NULL) {
		if (store_class_of_folder_type(given->type) != cls) {
			die_msg("folder '%s' holds %s items, not %s",
				given->name,
				store_class_name(store_class_of_folder_type(
					given->type)),
				store_class_name(cls));
			return -1;
		}
		*f = *given;
		return 0;
	}
	e = store_folder_get_by_type(s, a, account_id, default_type[cls], f);
	if (e != STORE_OK) {
		die_msg("no default %s folder: %s", store_class_name(cls),
			store_error_str(e));
		return -1;
	}
	return 0;
}

/* The items of a folder by UID, for an import that replaces them: UID
 * (a copy) -> item id. */
struct uid_index {
	int64_t folder_id;
	GHashTable *ids;
	bool loaded;
};

static void
uid_index_reset(struct uid_index *x, int64_t folder_id)
{
	if (x->ids != NULL)
		g_hash_table_destroy(x->ids);
	x->ids = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	x->folder_id = folder_id;
	x->loaded = false;
}

static void
uid_index_add(struct uid_index *x, const char *uid, int64_t id)
{
	int64_t *v = xmalloc(sizeof(*v));

	*v = id;
	g_hash_table_replace(x->ids, xstrdup(uid), v);
}

/* a: scratch, reset between batches */
static enum store_error
uid_index_load(struct store *s, struct arena *a, int64_t account_id,
	       struct uid_index *x)
{
	int64_t after = 0;

	for (;;) {
		struct store_item *items;
		size_t count;
		enum store_error e = store_item_list(
			s, a, account_id, x->folder_id, after,
			EASCTL_EXPORT_BATCH, false, &items, &count);

		if (e != STORE_OK)
			return e;
		for (size_t i = 0; i < count; i++) {
			after = items[i].id;
			/* the newest of a UID wins */
			if (items[i].meta.uid != NULL)
				uid_index_add(x, items[i].meta.uid,
					      items[i].id);
		}
		arena_reset(a);
		if (count < EASCTL_EXPORT_BATCH)
			break;
	}
	x->loaded = true;
	return STORE_OK;
}

static int64_t
uid_index_find(const struct uid_index *x, const char *uid)
{
	const int64_t *v =
		uid != NULL ? g_hash_table_lookup(x->ids, uid) : NULL;

	return v != NULL ? *v : 0;
}

/* The file of an import: a file of more than IMPORT_MAP_MIN bytes is
 * mapped, and the pages the reader has gone past are handed back, so
 * that a vCard, iCalendar or mbox file of any size is read in bounded
 * memory; stdin and small files are read whole. A mapping is NUL
 * terminated by the zeros after the end of the file in its last page;
 * a file that ends on a page boundary is read whole. */
#define IMPORT_MAP_MIN (4u * 1024 * 1024)
#define IMPORT_DROP_EVERY (1024u * 1024)

struct import_file {
	char *data;
	size_t len;
	bool mapped;
	size_t dropped; /* bytes at the start handed back */
};

static int
import_open(struct arena *a, const char *path, struct import_file *f)
{
	struct stat stb;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	memset(f, 0, sizeof(*f));
	if (strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		void *m = MAP_FAILED;

		if (fstat(fd, &stb) == 0 && S_ISREG(stb.st_mode) &&
		    (size_t)stb.st_size >= IMPORT_MAP_MIN && page > 0 &&
		    stb.st_size % page != 0)
			m = mmap(NULL, (size_t)stb.st_size, PROT_READ,
				 MAP_PRIVATE, fd, 0);
		close(fd);
		if (m != MAP_FAILED) {
			(void)madvise(m, (size_t)stb.st_size, MADV_SEQUENTIAL);
			f->data = m;
			f->len = (size_t)stb.st_size;
			f->mapped = true;
			return 0;
		}
	}
	return read_file(a, path, &f->data, &f->len);
}

/* The reader is past consumed bytes: hand back the whole pages before,
 * from the start of the file (an .ics reader reads the file twice, and
 * may go back for a recurrence override: what it read again goes too). */
static void
import_drop(struct import_file *f, size_t consumed)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t upto;

	if (!f->mapped || page <= 0)
		return;
	if (consumed < f->dropped)
		f->dropped = 0; /* reading again from the start */
	if (consumed < f->dropped + IMPORT_DROP_EVERY)
		return;
	upto = consumed / (size_t)page * (size_t)page;
	(void)madvise(f->data, upto, MADV_DONTNEED);
	f->dropped = upto;
}

static void
import_read_cb(void *ctx, size_t upto)
{
	import_drop(ctx, upto);
}

/* A mapping is looked through a piece at a time, each handed back. */
static bool
import_has_nul(struct import_file *f)
{
	size_t step = f->mapped ? IMPORT_DROP_EVERY : f->len;

	for (size_t off = 0; off < f->len; off += step) {
		size_t n = EAS_MIN(step, f->len - off);
		bool nul = memchr(f->data + off, '\0', n) != NULL;

		if (f->mapped)
			(void)madvise(f->data + off, n, MADV_DONTNEED);
		if (nul)
			return true;
	}
	return false;
}

static void
import_close(struct import_file *f)
{
	if (f->mapped)
		munmap(f->data, f->len);
	f->data = NULL;
}

/* Progress on a terminal: items, how far into the file, rate, time left
 * (from the bytes read); at most four times a second. */
struct progress {
	bool on;
	uint64_t start_ms, last_ms;
	size_t total_bytes;
};

static void
progress_init(struct progress *p, size_t total_bytes)
{
	p->on = isatty(STDERR_FILENO);
	p->start_ms = p->last_ms = time_mono_ms();
	p->total_bytes = total_bytes;
}

static void
progress_show(struct progress *p, size_t items, size_t bytes, bool last)
{
	uint64_t now = time_mono_ms();
	double secs, rate, left;

	if (!p->on || (!last && now - p->last_ms < 250))
		return;
	p->last_ms = now;
	secs = (double)(now - p->start_ms) / 1000.0;
	rate = secs > 0 ? (double)items / secs : 0;
	left = bytes > 0 && p->total_bytes > bytes
		       ? secs * (double)(p->total_bytes - bytes) / (double)bytes
		       : 0;
	fprintf(stderr,
		"\r%zu items, %.0f %% of the file, %.0f/s, %.0f s left  ",
		items,
		p->total_bytes > 0
			? 100.0 * (double)bytes / (double)p->total_bytes
			: 100.0,
		rate, left);
	if (last)
		fputc('\n', stderr);
}

static int
cmd_import(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	const char *folder = NULL;
	bool strict = false;
	const struct opt opts[] = {
		{"--folder", true, &folder, NULL},
		{"--strict", false, NULL, &strict},
		{NULL, false, NULL, NULL},
	};
	char *pos[EASCTL_MAX_POSITIONAL];
	struct bundle_reader *rd;
	struct bundle_obj o;
	struct store_account acc;
	struct store_folder given, f;
	struct store *s;
	enum store_error e;
	const char *err = NULL;
	size_t nobj = 0, counts[6] = {0}, imported = 0, skipped = 0;
	size_t replaced = 0;
	struct uid_index idx[6];
	struct import_file file;
	struct progress pr;
	/* one object at a time: reset after each */
	struct arena *oa = NULL;
	uint64_t t0;
	int n, rc, ret = EX_FAIL;
	bool txn = false;

	memset(idx, 0, sizeof(idx));
	memset(&file, 0, sizeof(file));
	if (args_or_usage(argc - 1, argv + 1, opts, pos, 2, 2, usage_import, &n,
			  &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0)
		return EX_FAIL;
	if (folder != NULL && lookup_folder(s, a, acc.id, folder, &given) < 0)
		return EX_FAIL;
	if (import_open(a, pos[1], &file) < 0)
		return EX_FAIL;
	if (import_has_nul(&file)) {
		die_msg("%s: contains NUL bytes", pos[1]);
		goto out;
	}
	rd = bundle_reader_new(a, bundle_kind_of(pos[1], file.data), pos[1],
			       file.data, file.len, &err);
	if (rd == NULL) {
		die_msg("%s", err);
		goto out;
	}
	oa = arena_new(64 * 1024);
	bundle_reader_objects_in(rd, oa);
	bundle_reader_on_read(rd, import_read_cb, &file);
	progress_init(&pr, file.len);
	t0 = time_mono_ms();

	/* One transaction: --strict rolls it all back at the first bad
	 * item, else the good ones are committed together. */
	e = store_begin(s, true);
	if (e != STORE_OK) {
		store_fail("starting the import", e);
		goto out;
	}
	txn = true;
	for (;; arena_reset(oa)) {
		struct store_item item;
		const char *why = NULL, *where;
		int64_t old_id;

		import_drop(&file, bundle_reader_consumed(rd));
		progress_show(&pr, imported + skipped,
			      bundle_reader_consumed(rd), false);
		if ((rc = bundle_next(rd, &o, &err)) == 0)
			break;
		if (rc < 0) {
			/* the file is malformed there; reading goes on */
			fprintf(stderr, "%s\n", err);
			skipped++;
			if (strict)
				goto out;
			continue;
		}
		nobj++;
		where = o.line > 0 ? arena_printf(oa, "%s:%u", pos[1], o.line)
				   : arena_printf(oa, "%s: object %zu", pos[1],
						  nobj);
		if (o.skip != NULL) {
			fprintf(stderr, "%s: %s\n", where, o.skip);
			skipped++;
			if (strict)
				goto out;
			continue;
		}
		memset(&item, 0, sizeof(item));
		if (folder_for_class(s, oa, acc.id, o.cls,
				     folder != NULL ? &given : NULL, &f) < 0)
			goto out;
		err = NULL;
		if (conv_from_standard(oa, o.cls, o.data, o.len, &item, &err) <
		    0)
			why = err != NULL ? err : "unreadable";
		if (why != NULL) {
			fprintf(stderr, "%s: %s: %s\n", where,
				store_class_name(o.cls), why);
			skipped++;
			if (strict)
				goto out;
			continue;
		}
		item.cls = o.cls;
		old_id = 0;
		if (item.meta.uid != NULL && o.cls != STORE_CLASS_EMAIL) {
			struct uid_index *x = &idx[o.cls];

			if (!x->loaded || x->folder_id != f.id) {
				struct arena *la = arena_new(64 * 1024);

				uid_index_reset(x, f.id);
				e = uid_index_load(s, la, acc.id, x);
				arena_free(&la);
				if (e != STORE_OK) {
					store_fail("reading the folder", e);
					goto out;
				}
			}
			old_id = uid_index_find(x, item.meta.uid);
		}
		if (old_id != 0) {
			e = store_item_update(s, acc.id, old_id, &item, 0);
			replaced++;
		} else {
			e = store_item_add(s, oa, acc.id, f.id, &item, 0);
			if (e == STORE_OK && item.meta.uid != NULL &&
			    o.cls != STORE_CLASS_EMAIL)
				uid_index_add(&idx[o.cls], item.meta.uid,
					      item.id);
		}
		if (e != STORE_OK) {
			store_fail("storing an item", e);
			goto out;
		}
		counts[o.cls]++;
		imported++;
	}
	progress_show(&pr, imported + skipped, file.len, true);
	if (imported == 0) {
		printf("nothing imported for %s", acc.login);
		if (skipped > 0)
			printf("; %zu skipped", skipped);
		printf("\n");
		goto out;
	}
	e = store_commit(s);
	txn = false;
	if (e != STORE_OK) {
		store_fail("committing the import", e);
		goto out;
	}
	printf("imported");
	for (size_t c = 1; c < N_ELEMENTS(counts); c++)
		if (counts[c] > 0)
			printf(" %zu %s", counts[c],
			       store_class_name((enum store_class)c));
	printf(" for %s", acc.login);
	if (replaced > 0)
		printf(" (%zu replacing items of the same UID)", replaced);
	if (skipped > 0)
		printf("; %zu skipped", skipped);
	printf("\n");
	if (pr.on)
		fprintf(stderr, "%zu items in %.1f s\n", imported + skipped,
			(double)(time_mono_ms() - t0) / 1000.0);
	ret = skipped > 0 ? EX_PARTIAL : 0;
out:
	if (txn) {
		store_rollback(s);
		if (strict && skipped > 0)
			die_msg("--strict: nothing imported");
	}
	for (size_t i = 0; i < N_ELEMENTS(idx); i++)
		if (idx[i].ids != NULL)
			g_hash_table_destroy(idx[i].ids);
	arena_free(&oa);
	import_close(&file);
	return ret;
}

/* --- export --- */

static const char usage_export[] =
	"usage: easctl [--data DIR] export USER FOLDER FILE\n"
	"  Contacts folders -> .vcf, Calendar/Tasks -> .ics (one VCALENDAR),\n"
	"  mail folders -> mbox (mboxrd), Notes -> text separated by lines\n"
	"  of '-- '. FILE '-' writes to standard output.\n";

/* Where an export goes: stdout for "-", else a temporary file renamed
 * to path once complete. What the writer has so far goes out after
 * every batch, so that a folder of any size is exported in bounded
 * memory (a calendar is read twice: its properties come first). */
struct export_out {
	const char *path;
	char *tmp;
	FILE *f;
};

static int
export_open(const char *path, struct export_out *o)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	o->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	o->f = fopen(o->tmp, "wb");
	if (o->f == NULL) {
		die_msg("cannot write %s: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	return 0;
}

static int
export_flush(struct export_out *o, struct buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, o->f) != b->len) {
		die_msg("cannot write %s: %s", o->path, strerror(errno));
		return -1;
	}
	buf_reset(b);
	return 0;
}

/* ok: keep the file. Returns 0 when kept. */
static int
export_close(struct export_out *o, bool ok)
{
	int ret = ok ? 0 : -1;

	if (o->f == NULL)
		return -1;
	if (o->tmp == NULL) {
		if (fflush(stdout) != 0)
			ret = -1;
		return ret;
	}
	if (fclose(o->f) != 0 || (ok && rename(o->tmp, o->path) < 0)) {
		if (ok)
			die_msg("cannot write %s: %s", o->path,
				strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		unlink(o->tmp);
	free(o->tmp);
	o->f = NULL;
	return ret;
}

/* One pass over the folder's items: each noted for the header (o NULL:
 * a calendar's first pass), or added and written out a batch at a time. */
static int
export_pass(struct store *s, const struct store_account *acc,
	    const struct store_folder *f, struct bundle_writer *out,
	    struct export_out *o)
{
	int64_t after = 0;

	for (;;) {
		struct store_item *items;
		size_t count;
		struct arena *batch = arena_new(64 * 1024);
		enum store_error e = store_item_list(s, batch, acc->id, f->id,
						     after, EASCTL_EXPORT_BATCH,
						     true, &items, &count);

		if (e != STORE_OK) {
			arena_free(&batch);
			store_fail("listing items", e);
			return -1;
		}
		for (size_t i = 0; i < count; i++) {
			const char *text, *err = NULL;
			size_t len;

			after = items[i].id;
			if (conv_to_standard(batch, &items[i], &text, &len,
					     &err) < 0 ||
			    (o == NULL
				     ? bundle_writer_note(out, text, len, &err)
				     : bundle_writer_add(out, batch, text, len,
							 &err)) < 0) {
				die_msg("item %s: %s", items[i].server_id,
					err != NULL ? err : "unreadable");
				arena_free(&batch);
				return -1;
			}
		}
		arena_free(&batch);
		if (o != NULL && export_flush(o, &out->out) < 0)
			return -1;
		if (count < EASCTL_EXPORT_BATCH)
			return 0;
	}
}

static int
cmd_export(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_account acc;
	struct store_folder f;
	struct store *s;
	struct bundle_writer out;
	struct export_out o;
	int n, rc, ret = EX_FAIL;
	bool ok = false;

	if (args_or_usage(argc - 1, argv + 1, NULL, pos, 3, 3, usage_export, &n,
			  &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL ||
	    lookup_account(s, a, pos[0], &acc) < 0 ||
	    lookup_folder(s, a, acc.id, pos[1], &f) < 0)
		return EX_FAIL;
	if (export_open(pos[2], &o) < 0)
		return EX_FAIL;
	bundle_writer_init(&out, store_class_of_folder_type(f.type));
	if ((bundle_writer_notes(&out) &&
	     export_pass(s, &acc, &f, &out, NULL) < 0) ||
	    export_pass(s, &acc, &f, &out, &o) < 0)
		goto out;
	bundle_writer_finish(&out);
	ok = export_flush(&o, &out.out) == 0;
out:
	if (export_close(&o, ok) == 0 && ok) {
		if (strcmp(pos[2], "-") != 0)
			printf("exported %zu %s item%s from %s to %s\n",
			       out.count, store_class_name(out.cls),
			       out.count == 1 ? "" : "s", f.name, pos[2]);
		ret = 0;
	}
	bundle_writer_deinit(&out);
	return ret;
}

/* --- stats --- */

static int
cmd_stats(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	static const char usage[] =
		"usage: easctl [--data DIR] stats\n"
		"  accounts, devices, folders, items per class, database "
		"size\n";
	char *pos[EASCTL_MAX_POSITIONAL];
	struct store_stats st;
	struct store *s;
	enum store_error e;
	int n, rc;

	(void)a;
	if (args_or_usage(argc - 1, argv + 1, NULL, pos, 0, 0, usage, &n, &rc) <
	    0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	e = store_stats(s, &st);
	if (e != STORE_OK)
		return store_fail("reading statistics", e);
	printf("accounts: %lld\n", (long long)st.accounts);
	printf("devices: %lld\n", (long long)st.devices);
	printf("folders: %lld\n", (long long)st.folders);
	for (int c = STORE_CLASS_EMAIL; c <= STORE_CLASS_NOTES; c++)
		printf("items %s: %lld\n",
		       store_class_name((enum store_class)c),
		       (long long)st.items[c]);
	printf("database bytes: %lld\n", (long long)st.db_bytes);
	{
		int64_t queued = 0;

		e = store_outbound_count(s, &queued);
		if (e != STORE_OK)
			return store_fail("counting the queue", e);
		printf("outbound queue: %lld\n", (long long)queued);
	}
	return 0;
}

/* --- init --- */

static int
cmd_init(struct easctl *ctl, struct arena *a, int argc, char **argv)
{
	static const char usage[] =
		"usage: easctl init [DIR]\n"
		"  create the data directory DIR (default: --data), mode "
		"0700,\n"
		"  and its database; an existing one is checked and kept\n";
	char *pos[EASCTL_MAX_POSITIONAL], why[1024];
	const char *err = NULL;
	enum store_error e;
	int n, rc;

	(void)a;
	if (args_or_usage(argc - 1, argv + 1, NULL, pos, 0, 1, usage, &n, &rc) <
	    0)
		return rc;
	if (n == 1) {
		ctl->data_dir = pos[0];
		free((char *)ctl->db_path);
		ctl->db_path = xasprintf("%s/easd.db", ctl->data_dir);
	}
	if (mkdir_p(ctl->data_dir) < 0) {
		die_msg("cannot create data directory %s: %s", ctl->data_dir,
			strerror(errno));
		return EX_FAIL;
	}
	if (datadir_check(ctl->data_dir, false, why, sizeof(why)) != 0) {
		die_msg("%s", why);
		return EX_FAIL;
	}
	e = store_open(ctl->db_path, &ctl->store, &err);
	if (e != STORE_OK) {
		die_msg("cannot create %s: %s", ctl->db_path,
			err != NULL ? err : store_error_str(e));
		return EX_FAIL;
	}
	say_data_dir(ctl->data_dir, "initialized data directory");
	return 0;
}

/* --- main --- */

static const char usage_main[] =
	"usage: easctl [--data DIR | --store URL] COMMAND ...\n"
	"  --data DIR   data directory (default ./var; database DIR/easd.db);\n"
	"               it must exist (see init) and be private (mode 0700)\n"
	"  --store URL  the store in PostgreSQL (postgresql://...), as easd\n"
	"               --store\n"
	"  --version    print the version and exit\n"
	"commands (each takes --help):\n"
	"  init     [DIR]: create a data directory and its database\n"
	"  user     add, list, passwd, disable, enable, delete accounts\n"
	"  device   list, allow, block, quarantine, wipe, remove, resync,\n"
	"           clearloop\n"
	"  policy   show, set, unset provisioning policy settings\n"
	"  import   USER FILE: .vcf, .ics, .eml or mbox into a folder\n"
	"  export   USER FOLDER FILE\n"
	"  queue    list, retry, delete outbound mail\n"
	"  oof      show, set, off automatic replies (out of office)\n"
	"  gal      import, list, remove shared contacts of the address list\n"
	"  search   index queued mail, reindex a mailbox\n"
	"  stats    counts and database size\n"
	"  backup   FILE: a consistent copy while easd runs\n"
	"  restore  FILE: put a backup back (easd stopped)\n"
	"  check    [FILE]: integrity check of the database or a backup\n"
	"  debug    on, off, list: trace a device's requests in easd\n"
	"  top      a live view of active devices and requests\n"
	"  migrate  --to URL: copy the data directory into PostgreSQL\n"
	"  wbxml    decode/encode WBXML\n"
	"  deliver  deliver a message to a mailbox\n";

typedef int easctl_cmd_fn(struct easctl *ctl, struct arena *a, int argc,
			  char **argv);

/* Commands written in this file take the arena; those of easctl-*.c
 * (tool) only argc/argv. A weak tool that is not linked in is NULL. */
static const struct {
	const char *name;
	easctl_cmd_fn *fn;
	int (*tool)(struct easctl *ctl, int argc, char **argv);
} commands[] = {
	{"init", cmd_init, NULL},	   {"user", cmd_user, NULL},
	{"device", cmd_device, NULL},	   {"policy", cmd_policy, NULL},
	{"import", cmd_import, NULL},	   {"export", cmd_export, NULL},
	{"stats", cmd_stats, NULL},	   {"queue", NULL, easctl_queue},
	{"oof", NULL, easctl_oof},	   {"wbxml", NULL, easctl_wbxml},
	{"deliver", NULL, easctl_deliver}, {"gal", NULL, easctl_gal},
	{"search", NULL, easctl_search},   {"backup", NULL, easctl_backup},
	{"restore", NULL, easctl_restore}, {"check", NULL, easctl_check},
	{"debug", NULL, easctl_debug},	   {"top", NULL, easctl_top},
	{"share", NULL, easctl_share},	   {"member", NULL, easctl_member},
	{"migrate", NULL, easctl_migrate},
};

int
main(int argc, char **argv)
{
	struct easctl ctl = {.data_dir = "./var"};
	struct arena *a;
	int i = 1, rc = EX_FAIL;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			ctl.data_dir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			ctl.data_dir = argv[i] + 7;
			i++;
		} else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
			ctl.store_url = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			ctl.store_url = argv[i] + 8;
			i++;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("easctl %s\n", EASD_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			return usage_out(usage_main, 0);
		} else {
			die_msg("unknown option %s", argv[i]);
			return usage_out(usage_main, EX_USAGE);
		}
	}
	if (i >= argc)
		return usage_out(usage_main, EX_USAGE);
	if (ctl.data_dir[0] == '\0') {
		die_msg("empty --data");
		return EX_USAGE;
	}
	if (ctl.store_url != NULL && !store_is_url(ctl.store_url)) {
		die_msg("--store takes a postgresql:// URL, not '%s' (an "
			"SQLite store is --data DIR)",
			ctl.store_url);
		return EX_USAGE;
	}
	ctl.db_path = ctl.store_url != NULL
			      ? xstrdup(ctl.store_url)
			      : xasprintf("%s/easd.db", ctl.data_dir);
	/* What easctl creates (init, the database's files) is private
	 * whatever the caller's umask. */
	umask(077);
	/* The tool prints its own messages; only store trouble is logged. */
	log_set_level(LOG_WARN);
	a = arena_new(64 * 1024);
	for (size_t k = 0; k < N_ELEMENTS(commands); k++)
		if (strcmp(commands[k].name, argv[i]) == 0) {
			if (commands[k].fn != NULL)
				rc = commands[k].fn(&ctl, a, argc - i,
						    argv + i);
			else if (commands[k].tool != NULL)
				rc = commands[k].tool(&ctl, argc - i, argv + i);
			else
				die_msg("the %s command is not built into this "
					"easctl",
					argv[i]);
			goto done;
		}
	die_msg("unknown command '%s'", argv[i]);
	rc = usage_out(usage_main, EX_USAGE);
done:
	arena_free(&a);
	store_close(&ctl.store);
	free((char *)ctl.db_path);
	return rc;
}
