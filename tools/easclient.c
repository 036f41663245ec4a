/* easclient: a command-line phone. Each run does one thing (provision,
 * foldersync, sync, add...) and keeps its keys in a state file so
 * successive runs act as one device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "client-eas.h"
#include "conv.h"
#include "util.h"
#include "version.h"
#include "xalloc.h"

#define EX_FAIL 1
#define EX_USAGE 2
#define EASCLIENT_MAX_FILE (64u * 1024 * 1024)
#define EASCLIENT_MAX_PING_FOLDERS 300

static const char usage[] =
	"usage: easclient --url URL --user U --password P --device ID\n"
	"                 [--type T] [--eas-version 16.1] [--state FILE]\n"
	"                 [--cacert FILE] [--trace] [--xml] COMMAND ...\n"
	"commands:\n"
	"  autodiscover EMAIL          print the server URL\n"
	"  options                     supported versions and commands\n"
	"  provision                   Provision (both phases)\n"
	"  foldersync                  list folders: id, parent, type, name\n"
	"  sync FOLDER                 items: kind, ServerId, summary\n"
	"  add FOLDER FILE             FILE: ApplicationData XML, or .vcf,\n"
	"                              .ics, .eml converted to EAS\n"
	"  change FOLDER SERVERID FILE\n"
	"  delete FOLDER SERVERID\n"
	"  fetch FOLDER SERVERID       ItemOperations Fetch\n"
	"  ping FOLDER... [--heartbeat N]\n"
	"  estimate FOLDER             GetItemEstimate\n"
	"  sendmail FILE.eml [--no-save]   SendMail (saved to Sent Items)\n"
	"  reply|forward FOLDER SERVERID FILE.eml [--replace-mime] "
	"[--no-save]\n"
	"                              SmartReply / SmartForward\n"
	"FOLDER is a folder ServerId or display name. --trace prints every\n"
	"request and response as XML on stderr; --xml prints items as XML.\n"
	"--eas-version is the protocol version sent (MS-ASProtocolVersion);\n"
	"--version prints the program's version. --cacert FILE trusts the\n"
	"certificates in FILE (PEM) for an https:// URL.\n";

struct opts {
	const char *url, *user, *password, *device, *type, *version, *state;
	const char *cacert;
	bool trace, xml;
	unsigned heartbeat;
};

static void __attribute__((format(printf, 1, 2))) err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("easclient: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
client_err(const struct eas_client *c, const char *what)
{
	err_msg("%s: %s", what, eas_client_error(c));
	return EX_FAIL;
}

static int
read_file(struct arena *a, const char *path, char **data_r, size_t *len_r)
{
	const char *error;

	if (arena_read_path(a, path, EASCLIENT_MAX_FILE, data_r, len_r,
			    &error) < 0) {
		err_msg("%s", error);
		return -1;
	}
	return 0;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* FILE -> ApplicationData: XML as is, standard formats through conv. */
static int
load_appdata(struct eas_client *c, struct arena *a, const char *path,
	     const struct eas_folder *f, struct wbxml_node **appdata_r)
{
	enum store_class cls = STORE_CLASS_NONE;
	struct store_item item;
	struct conv_ctx ctx;
	struct wbxml_node *root;
	const char *err = NULL;
	char *data;
	size_t len;

	if (read_file(a, path, &data, &len) < 0)
		return -1;
	if (has_suffix(path, ".vcf"))
		cls = STORE_CLASS_CONTACTS;
	else if (has_suffix(path, ".ics"))
		cls = store_class_parse(eas_folder_class(f->type)) ==
				      STORE_CLASS_TASKS
			      ? STORE_CLASS_TASKS
			      : STORE_CLASS_CALENDAR;
	else if (has_suffix(path, ".eml"))
		cls = STORE_CLASS_EMAIL;
	if (cls == STORE_CLASS_NONE) {
		if (wbxml_from_xml(a, data, len, &root, &err) < 0) {
			err_msg("%s: %s", path, err != NULL ? err : "bad XML");
			return -1;
		}
		if (root->tag != EAS_AIRSYNC_APPLICATIONDATA) {
			err_msg("%s: the root element must be "
				"AirSync:ApplicationData",
				path);
			return -1;
		}
		*appdata_r = root;
		return 0;
	}
	memset(&item, 0, sizeof(item));
	if (conv_from_standard(a, cls, data, len, &item, &err) < 0) {
		err_msg("%s: %s", path, err != NULL ? err : "unreadable");
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = eas_client_version_num(c);
	ctx.prefs[0].type = 1;
	ctx.nprefs = 1;
	root = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	if (conv_to_eas(a, &item, &ctx, root, &err) < 0) {
		err_msg("%s: %s", path, err != NULL ? err : "cannot convert");
		return -1;
	}
	*appdata_r = root;
	return 0;
}

static const struct eas_folder *
resolve_folder(struct eas_client *c, struct arena *a, const char *name)
{
	const struct eas_folder *f = eas_client_folder_find(c, name);

	if (f == NULL) {
		/* Maybe our folder list is stale or empty. */
		if (eas_client_foldersync(c, a, NULL) < 0) {
			client_err(c, "FolderSync");
			return NULL;
		}
		f = eas_client_folder_find(c, name);
	}
	if (f == NULL)
		err_msg("unknown folder '%s'", name);
	return f;
}

/* Subject, FileAs, or a name: whatever says what the item is. */
static const char *
summary(struct arena *a, const struct wbxml_node *appdata)
{
	static const char *const names[] = {"Subject",	   "FileAs",
					    "DisplayName", "LastName",
					    "FirstName",   "Email1Address"};
	const struct wbxml_node *n;

	if (appdata == NULL)
		return "";
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		wbxml_foreach(appdata, n)
		{
			const char *tn = wbxml_tag_name(n->tag);

			if (tn != NULL && strcmp(tn, names[i]) == 0 &&
			    n->child == NULL)
				return arena_printf(a, "%s=%s", tn,
						    wbxml_text(n));
		}
	return "";
}

static int
do_sync(struct eas_client *c, struct arena *a, const struct opts *o,
	const struct eas_folder *f)
{
	struct eas_sync_result r;

	if (eas_client_sync(c, a, f->server_id, NULL, &r) < 0)
		return client_err(c, "Sync");
	for (size_t i = 0; i < r.count; i++) {
		const struct eas_item *it = &r.items[i];

		printf("%s\t%s\t%s\n", eas_item_kind_name(it->kind),
		       it->server_id, summary(a, it->appdata));
		if (o->xml && it->appdata != NULL)
			fputs(eas_tree_xml(a, it->appdata), stdout);
	}
	if (r.count == 0)
		fprintf(stderr, "no changes\n");
	return 0;
}

static int
run(struct eas_client *c, struct arena *a, struct opts *o, int argc,
    char **argv)
{
	const char *cmd = argv[0];
	const struct eas_folder *f = NULL;
	struct wbxml_node *appdata;
	int status;

#define NEED(n)                                                                \
	do {                                                                   \
		if (argc != (n) + 1) {                                         \
			err_msg("%s: wrong number of arguments", cmd);         \
			fputs(usage, stderr);                                  \
			return EX_USAGE;                                       \
		}                                                              \
	} while (0)

	if (strcmp(cmd, "autodiscover") == 0) {
		const char *url;

		NEED(1);
		if (eas_client_autodiscover(c, a, argv[1], &url) < 0)
			return client_err(c, "Autodiscover");
		printf("%s\n", url);
		return 0;
	}
	if (strcmp(cmd, "options") == 0) {
		struct eas_response r;

		NEED(0);
		if (eas_client_options(c, a, &r) < 0)
			return client_err(c, "OPTIONS");
		printf("versions: %s\ncommands: %s\n",
		       r.ms_versions != NULL ? r.ms_versions : "",
		       r.ms_commands != NULL ? r.ms_commands : "");
		return 0;
	}
	if (strcmp(cmd, "provision") == 0) {
		const struct wbxml_node *policy;
		int rc;

		NEED(0);
		rc = eas_client_provision(c, a, &policy);
		if (rc < 0)
			return client_err(c, "Provision");
		if (rc == 1) {
			printf("remote wipe requested and acknowledged\n");
			return 0;
		}
		printf("policy key %u\n", c->policy_key);
		if (o->xml && policy != NULL)
			fputs(eas_tree_xml(a, policy), stdout);
		return 0;
	}
	if (strcmp(cmd, "foldersync") == 0) {
		NEED(0);
		if (eas_client_foldersync(c, a, &status) < 0)
			return client_err(c, "FolderSync");
		for (size_t i = 0; i < c->nfolders; i++)
			printf("%s\t%s\t%d\t%s\n", c->folders[i].server_id,
			       c->folders[i].parent_id, c->folders[i].type,
			       c->folders[i].name);
		return 0;
	}
	if (strcmp(cmd, "ping") == 0) {
		const char *ids[EASCLIENT_MAX_PING_FOLDERS];
		const char **changed;
		size_t n = 0, nchanged;

		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--heartbeat") == 0 &&
			    i + 1 < argc) {
				if (str_to_uint32(argv[++i], &o->heartbeat) <
				    0) {
					err_msg("bad --heartbeat");
					return EX_USAGE;
				}
				continue;
			}
			if (n == N_ELEMENTS(ids)) {
				err_msg("too many folders");
				return EX_USAGE;
			}
			if ((f = resolve_folder(c, a, argv[i])) == NULL)
				return EX_FAIL;
			if (strcmp(eas_client_sync_key(c, f->server_id), "0") ==
				    0 &&
			    eas_client_sync_prime(c, a, f->server_id) < 0)
				return client_err(c, "Sync");
			ids[n++] = f->server_id;
		}
		if (eas_client_ping(c, a, o->heartbeat, ids, n, &status,
				    &changed, &nchanged) < 0)
			return client_err(c, "Ping");
		if (status == 2) {
			printf("changes:");
			for (size_t i = 0; i < nchanged; i++)
				printf(" %s", changed[i]);
			printf("\n");
		} else {
			printf("no changes\n");
		}
		return 0;
	}
	if (strcmp(cmd, "sendmail") == 0 || strcmp(cmd, "reply") == 0 ||
	    strcmp(cmd, "forward") == 0) {
		struct eas_send snd = {.save_in_sent = true};
		const char *pos[4];
		size_t npos = 0;
		char *data;
		size_t len;

		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--replace-mime") == 0)
				snd.replace_mime = true;
			else if (strcmp(argv[i], "--no-save") == 0)
				snd.save_in_sent = false;
			else if (npos < N_ELEMENTS(pos))
				pos[npos++] = argv[i];
			else
				npos = N_ELEMENTS(pos) + 1;
		}
		snd.kind = cmd[0] == 's'   ? EAS_SEND_NEW
			   : cmd[0] == 'r' ? EAS_SEND_REPLY
					   : EAS_SEND_FORWARD;
		if (npos != (snd.kind == EAS_SEND_NEW ? 1u : 3u)) {
			err_msg("%s: wrong number of arguments", cmd);
			fputs(usage, stderr);
			return EX_USAGE;
		}
		if (snd.kind != EAS_SEND_NEW) {
			if ((f = resolve_folder(c, a, pos[0])) == NULL)
				return EX_FAIL;
			snd.folder_id = f->server_id;
			snd.item_id = pos[1];
		}
		if (read_file(a, pos[npos - 1], &data, &len) < 0)
			return EX_FAIL;
		snd.mime = data;
		snd.mime_len = len;
		if (eas_client_send(c, a, &snd, &status) < 0)
			return client_err(c, cmd);
		if (status != 0) {
			err_msg("%s refused: status %d", cmd, status);
			return EX_FAIL;
		}
		printf("sent\n");
		return 0;
	}
	if (strcmp(cmd, "sync") == 0 || strcmp(cmd, "add") == 0 ||
	    strcmp(cmd, "change") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "fetch") == 0 || strcmp(cmd, "estimate") == 0) {
		if (argc < 2) {
			err_msg("%s: FOLDER missing", cmd);
			return EX_USAGE;
		}
	} else {
		err_msg("unknown command '%s'", cmd);
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(cmd, "sync") == 0) {
		NEED(1);
		if ((f = resolve_folder(c, a, argv[1])) == NULL)
			return EX_FAIL;
		return do_sync(c, a, o, f);
	}
	if (strcmp(cmd, "add") == 0) {
		const char *sid;

		NEED(2);
		if ((f = resolve_folder(c, a, argv[1])) == NULL ||
		    load_appdata(c, a, argv[2], f, &appdata) < 0)
			return EX_FAIL;
		if (eas_client_add(c, a, f->server_id, appdata, &sid, &status) <
		    0)
			return client_err(c, "Sync Add");
		printf("%s\n", sid);
		return 0;
	}
	if (strcmp(cmd, "change") == 0) {
		NEED(3);
		if ((f = resolve_folder(c, a, argv[1])) == NULL ||
		    load_appdata(c, a, argv[3], f, &appdata) < 0)
			return EX_FAIL;
		if (eas_client_change(c, a, f->server_id, argv[2], appdata,
				      &status) < 0)
			return client_err(c, "Sync Change");
		printf("changed %s\n", argv[2]);
		return 0;
	}
	if (strcmp(cmd, "delete") == 0) {
		NEED(2);
		if ((f = resolve_folder(c, a, argv[1])) == NULL)
			return EX_FAIL;
		if (eas_client_delete(c, a, f->server_id, argv[2], &status) < 0)
			return client_err(c, "Sync Delete");
		printf("deleted %s\n", argv[2]);
		return 0;
	}
	if (strcmp(cmd, "fetch") == 0) {
		const struct wbxml_node *props;

		NEED(2);
		if ((f = resolve_folder(c, a, argv[1])) == NULL)
			return EX_FAIL;
		if (eas_client_fetch(c, a, f->server_id, argv[2], &props,
				     &status) < 0)
			return client_err(c, "ItemOperations");
		fputs(eas_tree_xml(a, props), stdout);
		return 0;
	}
	{
		int64_t est;

		NEED(1);
		if ((f = resolve_folder(c, a, argv[1])) == NULL)
			return EX_FAIL;
		if (strcmp(eas_client_sync_key(c, f->server_id), "0") == 0 &&
		    eas_client_sync_prime(c, a, f->server_id) < 0)
			return client_err(c, "Sync");
		if (eas_client_estimate(c, a, f->server_id, &est, &status) < 0)
			return client_err(c, "GetItemEstimate");
		printf("%lld\n", (long long)est);
		return 0;
	}
#undef NEED
}

int
main(int argc, char **argv)
{
	struct opts o = {.version = "16.1"};
	struct eas_client *c;
	struct arena *a;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("easclient %s\n", EASD_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--trace") == 0) {
			o.trace = true;
			continue;
		}
		if (strcmp(argv[i], "--xml") == 0) {
			o.xml = true;
			continue;
		}
		if (strcmp(argv[i], "--url") == 0)
			slot = &o.url;
		else if (strcmp(argv[i], "--user") == 0)
			slot = &o.user;
		else if (strcmp(argv[i], "--password") == 0)
			slot = &o.password;
		else if (strcmp(argv[i], "--device") == 0)
			slot = &o.device;
		else if (strcmp(argv[i], "--type") == 0)
			slot = &o.type;
		else if (strcmp(argv[i], "--eas-version") == 0)
			slot = &o.version;
		else if (strcmp(argv[i], "--state") == 0)
			slot = &o.state;
		else if (strcmp(argv[i], "--cacert") == 0)
			slot = &o.cacert;
		if (slot == NULL) {
			err_msg("unknown option %s", argv[i]);
			fputs(usage, stderr);
			return EX_USAGE;
		}
		if (i + 1 >= argc) {
			err_msg("%s needs a value", argv[i]);
			return EX_USAGE;
		}
		*slot = argv[++i];
	}
	if (i >= argc) {
		err_msg("no command");
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if (o.url == NULL) {
		err_msg("--url is required");
		return EX_USAGE;
	}
	if (strcmp(argv[i], "autodiscover") != 0 &&
	    (o.user == NULL || o.password == NULL || o.device == NULL)) {
		err_msg("--user, --password and --device are required");
		return EX_USAGE;
	}
	c = eas_client_new(o.url, o.user, o.password, o.device, o.type);
	eas_client_set_version(c, o.version);
	c->trace = o.trace;
	c->cainfo = o.cacert;
	c->auto_provision = true;
	if (o.state != NULL && eas_client_state_load(c, o.state) < 0) {
		rc = client_err(c, "state file");
		eas_client_free(&c);
		return rc;
	}
	a = arena_new(64 * 1024);
	rc = run(c, a, &o, argc - i, argv + i);
	/* Keys that advanced are real even when a later step failed. */
	if (o.state != NULL && rc != EX_USAGE &&
	    eas_client_state_save(c, o.state) < 0) {
		err_msg("cannot write state file %s: %s", o.state,
			strerror(errno));
		rc = EX_FAIL;
	}
	arena_free(&a);
	eas_client_free(&c);
	return rc;
}
