/* easctl, the admin tool: the context every subcommand gets, and the
 * subcommands that live in their own files (easctl-<name>.c). */
#ifndef EASD_EASCTL_H
#define EASD_EASCTL_H

#include "store.h"

struct easctl {
	const char *data_dir;  /* --data, default ./var */
	const char *db_path;   /* DIR/easd.db, or store_url */
	const char *store_url; /* --store postgresql://...; NULL = SQLite */
	struct store *store;   /* opened by easctl_store(), else NULL */
};

/* Open DIR/easd.db on first use (saying on stderr which data directory it
 * is) and return it; NULL after printing an error, also when DIR does not
 * exist (only "easctl init" creates one) or others can read it. Running
 * servers learn of every commit through the store's change
 * notification. */
struct store *easctl_store(struct easctl *ctl);
/* "easctl: WHAT: the store's error" on stderr; returns exit status 1. */
int easctl_fail(const char *what, enum store_error e);
/* The account with this login or address (aliases too) into *acc, or -1
 * after saying why on stderr. */
int easctl_account_of(struct store *s, struct arena *a, const char *name,
		      struct store_account *acc);

/* Subcommands in their own files. argv[0] is the subcommand name
 * ("wbxml", "deliver"); they print their own errors and --help and return
 * the process exit code (0 success). */
int easctl_wbxml(struct easctl *ctl, int argc, char **argv);
int easctl_deliver(struct easctl *ctl, int argc, char **argv);
/* easctl-queue.c: "user alias ..." (argv[0] "alias") and "queue ...". */
int easctl_alias(struct easctl *ctl, int argc, char **argv);
int easctl_queue(struct easctl *ctl, int argc, char **argv);
/* easctl-oof.c: "oof show|set|off USER ...". */
int easctl_oof(struct easctl *ctl, int argc, char **argv);
/* easctl-gal.c: "user set ..." (argv[0] "set"), "gal ..." and
 * "search ...". */
int easctl_user_set(struct easctl *ctl, int argc, char **argv);
int easctl_gal(struct easctl *ctl, int argc, char **argv);
int easctl_search(struct easctl *ctl, int argc, char **argv);
/* easctl-backup.c: "backup FILE", "restore FILE", "check [FILE]". */
int easctl_backup(struct easctl *ctl, int argc, char **argv);
int easctl_restore(struct easctl *ctl, int argc, char **argv);
int easctl_check(struct easctl *ctl, int argc, char **argv);
/* easctl-migrate.c: "migrate --to URL". */
int easctl_migrate(struct easctl *ctl, int argc, char **argv);
/* easctl-debug.c: "debug on|off|list". */
int easctl_debug(struct easctl *ctl, int argc, char **argv);
/* easctl-top.c: "top": a live view of a running easd. */
int easctl_top(struct easctl *ctl, int argc, char **argv);
/* easctl-share.c: "share add|remove|list ..." and "member add|remove|list
 * SHARED USER". */
int easctl_share(struct easctl *ctl, int argc, char **argv);
int easctl_member(struct easctl *ctl, int argc, char **argv);

#endif
