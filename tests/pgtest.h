/* A PostgreSQL server of a test's own: initdb into a temporary directory,
 * started on a free loopback port with its socket in that directory,
 * stopped and removed at exit (normal or not). When PostgreSQL is not
 * installed (no /usr/lib/postgresql/N/bin/initdb) the caller skips. */
#ifndef EASD_PGTEST_H
#define EASD_PGTEST_H

/* Start the server once per process and create database `name` in it.
 * Returns the connection URL (static storage), or NULL when PostgreSQL is
 * not installed (*why_r says so) or when it cannot start (*why_r says
 * why, the server's log is printed). */
const char *pgtest_start(const char *name, const char **why_r);
/* Another empty database in the started server; its URL (heap, the
 * caller frees it), or NULL after printing why. */
char *pgtest_createdb(const char *name);
/* Empty the database at url (its public schema dropped and made again):
 * what a test that must start from nothing calls; aborts when it cannot. */
void pgtest_wipe(const char *url);
/* Restart it as an administrator would (a fast shutdown: sessions are
 * ended, committed data stays) and wait until it accepts connections
 * again. 0 on success. */
int pgtest_restart(void);
/* Stop and remove it now (also registered with atexit). */
void pgtest_stop(void);

#endif
