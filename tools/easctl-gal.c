/* easctl user set ..., easctl gal ... and easctl search ...: the address
 * list (the properties an administrator sets on an account, the shared
 * contacts published from a .vcf file) and the mail index (index what is
 * queued, or queue everything again). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "bundle.h"
#include "conv-tz.h"
#include "conv.h"
#include "easctl.h"
#include "mail.h"
#include "store.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_set[] =
	"usage: easctl [--data DIR] user set USER [--first-name X]\n"
	"         [--last-name X] [--phone X] [--mobile X] [--home-phone X]\n"
	"         [--office X] [--title X] [--company X] [--department X]\n"
	"         [--photo FILE.jpg | --no-photo] [--timezone AREA/CITY]\n"
	"  Properties the address list (GAL) shows for the account; an empty\n"
	"  value clears one. --timezone: the zone of the account's birthdays\n"
	"  and other dates for devices whose own zone is not known yet ('' =\n"
	"  the server's); it asks the account's devices to provision again.\n";

static const char usage_gal[] =
	"usage: easctl [--data DIR] gal import FILE.vcf\n"
	"       easctl [--data DIR] gal list\n"
	"       easctl [--data DIR] gal remove ID|all\n"
	"  Shared contacts published in the address list next to the\n"
	"  accounts. A contact with the UID (or, without one, the address) of\n"
	"  one already published replaces it.\n";

static const char usage_search[] =
	"usage: easctl [--data DIR] search index [USER]\n"
	"       easctl [--data DIR] search reindex [USER]\n"
	"  index: index the mail waiting for the search index (older\n"
	"  mailboxes after an upgrade, drafts); reindex: queue every message\n"
	"  again, then index them.\n";

static const struct {
	const char *opt;
	enum store_gal_field field;
} set_opts[] = {
	{"--first-name", STORE_GAL_FIRST_NAME},
	{"--last-name", STORE_GAL_LAST_NAME},
	{"--phone", STORE_GAL_PHONE},
	{"--mobile", STORE_GAL_MOBILE},
	{"--home-phone", STORE_GAL_HOME_PHONE},
	{"--office", STORE_GAL_OFFICE},
	{"--title", STORE_GAL_TITLE},
	{"--company", STORE_GAL_COMPANY},
	{"--department", STORE_GAL_DEPARTMENT},
};

/* --timezone: the zone of date-only values for devices whose own zone
 * is not known yet; stored like a policy, so devices provision again. */
static int
set_zone(struct store *s, const struct store_account *acc, const char *zone)
{
	enum store_error e = store_policy_set(s, acc->id, CONV_ZONE_SETTING,
					      zone[0] != '\0' ? zone : NULL);

	if (e != STORE_OK && !(e == STORE_NOTFOUND && zone[0] == '\0'))
		return easctl_fail("setting the time zone", e);
	if (zone[0] != '\0')
		printf("time zone of %s: %s\n", acc->login, zone);
	else
		printf("time zone of %s: the server's\n", acc->login);
	return 0;
}

/* argv[0] = "set" */
int
easctl_user_set(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	struct store_account acc;
	struct store *s;
	enum store_error e = STORE_OK;
	const char *zone = NULL;
	int rc = EX_FAIL, changed = 0;

	if (argc < 3 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_set, argc < 3 ? stderr : stdout);
		rc = argc < 3 ? EX_USAGE : 0;
		goto out;
	}
	for (int i = 2; i + 1 < argc; i++) {
		struct conv_tz tz;

		if (strcmp(argv[i], "--timezone") != 0)
			continue;
		zone = argv[++i];
		if (zone[0] != '\0' &&
		    conv_tz_from_name(zone, time(NULL), &tz) < 0) {
			fprintf(stderr,
				"easctl: unknown time zone '%s' (an IANA name "
				"such as Europe/Berlin)\n",
				zone);
			goto out;
		}
	}
	if ((s = easctl_store(ctl)) == NULL ||
	    easctl_account_of(s, a, argv[1], &acc) < 0)
		goto out;
	if ((e = store_begin(s, true)) != STORE_OK) {
		rc = easctl_fail("locking the database", e);
		goto out;
	}
	for (int i = 2; i < argc && e == STORE_OK; i++) {
		size_t k;

		if (strcmp(argv[i], "--no-photo") == 0) {
			e = store_account_set_photo(s, acc.id, NULL, 0);
			changed++;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "easctl: %s needs a value\n", argv[i]);
			store_rollback(s);
			rc = EX_USAGE;
			goto out;
		}
		if (strcmp(argv[i], "--timezone") == 0) {
			i++; /* set after the properties' transaction */
			continue;
		}
		if (strcmp(argv[i], "--photo") == 0) {
			const char *err;
			struct buf b;

			buf_init(&b, STORE_GAL_PHOTO_MAX);
			if (buf_read_path(&b, argv[i + 1], &err) < 0) {
				fprintf(stderr, "easctl: %s: %s\n", argv[i + 1],
					err);
				buf_deinit(&b);
				store_rollback(s);
				goto out;
			}
			e = store_account_set_photo(s, acc.id, b.data, b.len);
			buf_deinit(&b);
			i++;
			changed++;
			continue;
		}
		for (k = 0; k < N_ELEMENTS(set_opts); k++) {
			if (strcmp(argv[i], set_opts[k].opt) == 0)
				break;
		}
		if (k == N_ELEMENTS(set_opts)) {
			fprintf(stderr, "easctl: unknown option %s\n%s",
				argv[i], usage_set);
			store_rollback(s);
			rc = EX_USAGE;
			goto out;
		}
		e = store_account_set_prop(s, acc.id, set_opts[k].field,
					   argv[i + 1]);
		i++;
		changed++;
	}
	if (e == STORE_OK)
		e = store_commit(s);
	if (e != STORE_OK) {
		store_rollback(s);
		rc = easctl_fail(e == STORE_INVALID
					 ? "a value (control characters, "
					   "or too long)"
					 : "setting the properties",
				 e);
		goto out;
	}
	if (changed > 0 || zone == NULL)
		printf("user %s: %d propert%s set\n", acc.login, changed,
		       changed == 1 ? "y" : "ies");
	rc = zone != NULL ? set_zone(s, &acc, zone) : 0;
out:
	arena_free(&a);
	return rc;
}

/* "Name" <addr> or a bare address -> the address. */
static const char *
bare_address(struct arena *a, const char *v)
{
	const char *lt = v != NULL ? strrchr(v, '<') : NULL, *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
	return v;
}

/* One vCard -> a GAL entry through the Contacts conversion (the same
 * reader that imports contacts into a folder). */
static int
entry_of_vcard(struct arena *a, const char *data, size_t len,
	       struct store_gal_entry *g, const char **error_r)
{
	struct store_item item;
	struct conv_ctx ctx;
	struct wbxml_node *app = wbxml_new(a, 0);
	const struct wbxml_node *n;

	memset(g, 0, sizeof(*g));
	memset(&item, 0, sizeof(item));
	if (conv_from_standard(a, STORE_CLASS_CONTACTS, data, len, &item,
			       error_r) < 0)
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 161;
	if (conv_to_eas(a, &item, &ctx, app, error_r) < 0)
		return -1;
	g->display_name = item.meta.subject;
	g->uid = item.meta.uid;
	g->first_name = wbxml_child_text(app, EAS_CONTACTS_FIRSTNAME);
	g->last_name = wbxml_child_text(app, EAS_CONTACTS_LASTNAME);
	g->email = bare_address(
		a, wbxml_child_text(app, EAS_CONTACTS_EMAIL1ADDRESS));
	g->phone = wbxml_child_text(app, EAS_CONTACTS_BUSINESSPHONENUMBER);
	g->mobile = wbxml_child_text(app, EAS_CONTACTS_MOBILEPHONENUMBER);
	g->home_phone = wbxml_child_text(app, EAS_CONTACTS_HOMEPHONENUMBER);
	g->company = wbxml_child_text(app, EAS_CONTACTS_COMPANYNAME);
	g->title = wbxml_child_text(app, EAS_CONTACTS_JOBTITLE);
	g->department = wbxml_child_text(app, EAS_CONTACTS_DEPARTMENT);
	g->office = wbxml_child_text(app, EAS_CONTACTS_OFFICELOCATION);
	if ((n = wbxml_child(app, EAS_CONTACTS_PICTURE)) != NULL &&
	    n->len > 0) {
		uint8_t *bin = arena_alloc(a, base64_decoded_max(n->len) + 1);
		long bl = base64_decode((const char *)n->data, n->len, bin);

		if (bl > 0 && (size_t)bl <= STORE_GAL_PHOTO_MAX) {
			g->photo = bin;
			g->photo_len = (size_t)bl;
		}
	}
	if ((g->display_name == NULL || g->display_name[0] == '\0') &&
	    g->email == NULL) {
		*error_r = "neither a name nor an address";
		return -1;
	}
	return 0;
}

static int
gal_import(struct easctl *ctl, struct arena *a, const char *path)
{
	struct bundle_reader *rd;
	struct bundle_obj obj;
	struct store *s;
	const char *err;
	struct buf b;
	enum store_error e;
	int r, added = 0, skipped = 0;

	buf_init(&b, 0);
	if (buf_read_path(&b, path, &err) < 0) {
		fprintf(stderr, "easctl: %s: %s\n", path, err);
		buf_deinit(&b);
		return EX_FAIL;
	}
	rd = bundle_reader_new(a, BUNDLE_VCF, path, (const char *)b.data, b.len,
			       &err);
	if (rd == NULL || (s = easctl_store(ctl)) == NULL) {
		if (rd == NULL)
			fprintf(stderr, "easctl: %s\n", err);
		buf_deinit(&b);
		return EX_FAIL;
	}
	if ((e = store_begin(s, true)) != STORE_OK) {
		buf_deinit(&b);
		return easctl_fail("locking the database", e);
	}
	while ((r = bundle_next(rd, &obj, &err)) == 1) {
		struct store_gal_entry g;

		if (entry_of_vcard(a, obj.data, obj.len, &g, &err) < 0) {
			fprintf(stderr, "easctl: %s line %u: skipped: %s\n",
				path, obj.line, err);
			skipped++;
			continue;
		}
		e = store_gal_entry_put(s, &g, NULL);
		if (e == STORE_INVALID) {
			fprintf(stderr, "easctl: %s line %u: skipped: %s\n",
				path, obj.line, "a value is not acceptable");
			skipped++;
			continue;
		}
		if (e != STORE_OK)
			break;
		added++;
	}
	buf_deinit(&b);
	if (r < 0) {
		store_rollback(s);
		fprintf(stderr, "easctl: %s\n", err);
		return EX_FAIL;
	}
	if (e == STORE_OK || e == STORE_INVALID)
		e = store_commit(s);
	if (e != STORE_OK) {
		store_rollback(s);
		return easctl_fail("publishing the contacts", e);
	}
	printf("%d contact%s published%s\n", added, added == 1 ? "" : "s",
	       skipped > 0 ? arena_printf(a, ", %d skipped", skipped) : "");
	return 0;
}

static int
gal_list(struct easctl *ctl, struct arena *a)
{
	struct store_gal_entry *list;
	struct store *s = easctl_store(ctl);
	size_t n;
	enum store_error e;

	if (s == NULL)
		return EX_FAIL;
	e = store_gal_entry_list(s, a, &list, &n);
	if (e != STORE_OK)
		return easctl_fail("listing the contacts", e);
	for (size_t i = 0; i < n; i++)
		printf("%lld\t%s\t%s\t%s\n", (long long)list[i].entry_id,
		       list[i].display_name,
		       list[i].email != NULL ? list[i].email : "-",
		       list[i].company != NULL ? list[i].company : "-");
	return 0;
}

int
easctl_gal(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(64 * 1024);
	const char *sub = argc > 1 ? argv[1] : NULL;
	int rc = EX_USAGE;

	if (sub == NULL) {
		fputs(usage_gal, stderr);
	} else if (strcmp(sub, "--help") == 0) {
		fputs(usage_gal, stdout);
		rc = 0;
	} else if (strcmp(sub, "import") == 0 && argc == 3) {
		rc = gal_import(ctl, a, argv[2]);
	} else if (strcmp(sub, "list") == 0 && argc == 2) {
		rc = gal_list(ctl, a);
	} else if (strcmp(sub, "remove") == 0 && argc == 3) {
		struct store *s = easctl_store(ctl);
		int64_t id = 0, n = 0;
		enum store_error e;

		rc = EX_FAIL;
		if (s != NULL && strcmp(argv[2], "all") != 0 &&
		    (str_to_int64(argv[2], &id) < 0 || id <= 0)) {
			fprintf(stderr, "easctl: not an ID: %s\n", argv[2]);
			rc = EX_USAGE;
		} else if (s != NULL) {
			e = store_gal_entry_remove(s, id, &n);
			if (e == STORE_OK) {
				printf("%lld removed\n", (long long)n);
				rc = 0;
			} else {
				rc = easctl_fail("removing", e);
			}
		}
	} else {
		fputs(usage_gal, stderr);
	}
	arena_free(&a);
	return rc;
}

int
easctl_search(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(4096);
	struct store_account acc = {.id = 0};
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct store *s;
	enum store_error e;
	int64_t queued = 0;
	size_t done = 0;
	int rc = EX_FAIL;

	if (sub == NULL || argc > 3 ||
	    (strcmp(sub, "index") != 0 && strcmp(sub, "reindex") != 0)) {
		bool help = sub != NULL && strcmp(sub, "--help") == 0;

		fputs(usage_search, help ? stdout : stderr);
		rc = help ? 0 : EX_USAGE;
		goto out;
	}
	if ((s = easctl_store(ctl)) == NULL ||
	    (argc == 3 && easctl_account_of(s, a, argv[2], &acc) < 0))
		goto out;
	if (strcmp(sub, "reindex") == 0) {
		e = store_search_requeue(s, acc.id, &queued);
		if (e != STORE_OK) {
			rc = easctl_fail("queueing", e);
			goto out;
		}
	}
	e = mail_search_index_pending(s, acc.id, SIZE_MAX, false, &done);
	if (e != STORE_OK) {
		rc = easctl_fail("indexing", e);
		goto out;
	}
	printf("%zu message%s indexed\n", done, done == 1 ? "" : "s");
	rc = 0;
out:
	arena_free(&a);
	return rc;
}
