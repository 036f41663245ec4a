/* easctl migrate --to URL: copy a stopped SQLite data directory into an
 * empty PostgreSQL database, sync states included (phones carry on with
 * the keys they hold), and check each table's row count at the end. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "easctl.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_migrate[] =
	"usage: easctl [--data DIR] migrate --to URL\n"
	"  copy DIR/easd.db into the empty PostgreSQL database at URL\n"
	"  (postgresql://...), ids and sync states as they are, and compare\n"
	"  the row counts of every table; easd must be stopped. Then start\n"
	"  easd with --store URL\n";

static void
progress(void *ctx, const char *table, int64_t rows)
{
	(void)ctx;
	printf("  %-18s %lld rows\n", table, (long long)rows);
}

int
easctl_migrate(struct easctl *ctl, int argc, char **argv)
{
	const char *to = NULL, *error = NULL;
	struct store *src, *dst = NULL;
	enum store_error e;
	char why[1024], shown[STORE_SHOWN_MAX];
	long holder;
	int fd, rc = EX_FAIL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_migrate, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
			to = argv[++i];
			continue;
		}
		fprintf(stderr, "easctl: migrate: unexpected '%s'\n", argv[i]);
		fputs(usage_migrate, stderr);
		return EX_USAGE;
	}
	if (to == NULL || !store_is_url(to) || ctl->store_url != NULL) {
		fputs(ctl->store_url != NULL
			      ? "easctl: migrate copies a data directory "
				"(--data), not a --store\n"
			      : "easctl: migrate needs --to postgresql://...\n",
		      stderr);
		fputs(usage_migrate, stderr);
		return EX_USAGE;
	}
	/* what easd writes after the copy began would not be in it */
	fd = datadir_lock(ctl->data_dir, &holder, why, sizeof(why));
	if (fd == -2) {
		fprintf(stderr,
			"easctl: easd (pid %ld) is running on %s; stop it "
			"first (systemctl stop easd)\n",
			holder, ctl->data_dir);
		return EX_FAIL;
	}
	if (fd < 0) {
		fprintf(stderr, "easctl: %s\n", why);
		return EX_FAIL;
	}
	src = easctl_store(ctl);
	if (src == NULL)
		goto out;
	e = store_open(to, &dst, &error);
	if (e != STORE_OK) {
		fprintf(stderr, "easctl: cannot open %s: %s\n",
			store_path_shown(to, shown, sizeof(shown)),
			error != NULL ? error : store_error_str(e));
		goto out;
	}
	printf("copying %s into %s\n", ctl->db_path,
	       store_path_shown(to, shown, sizeof(shown)));
	e = store_copy(src, dst, progress, NULL, &error);
	if (e != STORE_OK) {
		fprintf(stderr, "easctl: migrate failed: %s (%s); %s\n",
			error != NULL ? error : "?", store_error_str(e),
			e == STORE_EXISTS ? "migrate into an empty database"
					  : "the database is left empty");
		goto out;
	}
	printf("done: every table has the source's rows; start easd with "
	       "--store %s\n",
	       store_path_shown(to, shown, sizeof(shown)));
	rc = 0;
out:
	store_close(&dst);
	close(fd);
	return rc;
}
