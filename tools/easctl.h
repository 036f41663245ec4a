/* easctl, the admin tool: the context every subcommand gets, and the
 * subcommands that live in their own files (easctl-<name>.c). */
#ifndef EASD_EASCTL_H
#define EASD_EASCTL_H

#include "store.h"

struct easctl {
	const char *data_dir; /* --data, default ./var */
	const char *db_path;  /* DIR/easd.db */
	struct store *store;  /* opened by easctl_store(), else NULL */
};

/* Open DIR/easd.db (creating DIR and the database when missing) on first
 * use and return it; NULL after printing an error. The notify hook is in
 * place, so every commit signals running servers. */
struct store *easctl_store(struct easctl *ctl);

/* Tell running servers that something changed: one datagram to the UNIX
 * socket DIR/easd.notify (when it exists; errors are ignored). The payload
 * is text lines "account_id folder_id\n"; folder 0 = the folder hierarchy
 * of the account, account 0 = everything (devices, policies) changed. */
void easctl_notify(const struct easctl *ctl, const struct store_change *changes,
		   size_t count);

/* Subcommands in their own files. argv[0] is the subcommand name
 * ("wbxml", "deliver"); they print their own errors and --help and return
 * the process exit code (0 success). */
int easctl_wbxml(struct easctl *ctl, int argc, char **argv);
int easctl_deliver(struct easctl *ctl, int argc, char **argv);

#endif
