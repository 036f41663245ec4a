/* Import and export benchmark (issue: performance): easctl import of
 * 100,000 contacts (one .vcf) and of 20,000 mails of 2 KB (one mbox), the
 * same .vcf again (every card replacing the one of its UID), and the
 * export of both folders: items per second and the peak resident memory
 * of easctl (wait4's ru_maxrss). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"

#define CONTACTS 100000
#define MAILS 20000

static char dir[64];

/* Run easctl --data dir args...; seconds, peak RSS in KiB; -1 on
 * failure. */
static double
run(long *rss_kib, const char *const *args)
{
	const char *argv[16];
	struct rusage ru;
	double t0 = measure_now();
	int n = 0, status;
	pid_t pid;

	argv[n++] = harness_easctl();
	argv[n++] = "--data";
	argv[n++] = dir;
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	*rss_kib = ru.ru_maxrss;
	return measure_now() - t0;
}

static int
write_files(const char *vcf, const char *mbox)
{
	FILE *f = fopen(vcf, "w");
	char body[2048];

	if (f == NULL)
		return -1;
	for (int i = 0; i < CONTACTS; i++)
		fprintf(f,
			"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-%d@example.org"
			"\r\nN:Person%d;Bench;;;\r\nFN:Bench Person%d\r\n"
			"EMAIL;TYPE=INTERNET:p%d@example.org\r\n"
			"TEL;TYPE=CELL:+1 555 %04d\r\n"
			"ADR;TYPE=HOME:;;%d Main Street;Springfield;IL;62701;"
			"USA\r\nORG:Example Inc.\r\nTITLE:Engineer\r\n"
			"NOTE:A note that makes the card as long as real "
			"ones are.\r\nEND:VCARD\r\n",
			i, i, i, i, i % 10000, i);
	if (fclose(f) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		body[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	body[sizeof(body) - 1] = '\0';
	if ((f = fopen(mbox, "w")) == NULL)
		return -1;
	for (int i = 0; i < MAILS; i++)
		fprintf(f,
			"From s%d@example.net Mon Mar  4 10:00:00 2024\n"
			"From: Sender <s%d@example.net>\nTo: ada@example.org\n"
			"Subject: Message %d\nMessage-ID: <m%d@example.net>\n"
			"Date: Mon, 4 Mar 2024 10:00:00 +0000\n"
			"Content-Type: text/plain; charset=utf-8\n\n%s\n\n",
			i, i, i, i, body);
	return fclose(f) == 0 ? 0 : -1;
}

static void
report(const char *name, double t, long rss, int items)
{
	if (t < 0) {
		printf("bench-import: %s failed (target -)\n", name);
		return;
	}
	printf("bench-import: %s %.0f items/s (target >= 10000)\n", name,
	       items / t);
	printf("bench-import: %s_peak_rss %.1f MiB (target < 64)\n", name,
	       (double)rss / 1024.0);
}

int
main(void)
{
	static const char *const add[] = {"user",	"add",	 "ada",
					  "--password", "bench", NULL};
	char vcf[128], mbox[128], out[128];
	long rss = 0;
	double t;

	snprintf(dir, sizeof(dir), "/tmp/bench-import-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(vcf, sizeof(vcf), "%s/contacts.vcf", dir);
	snprintf(mbox, sizeof(mbox), "%s/mail.mbox", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	if (write_files(vcf, mbox) < 0 || run(&rss, add) < 0) {
		fprintf(stderr, "bench-import: setup failed\n");
		harness_rmtree(dir);
		return 1;
	}
	t = run(&rss, (const char *const[]){"import", "ada", vcf, NULL});
	report("import_100000_contacts", t, rss, CONTACTS);
	t = run(&rss, (const char *const[]){"import", "ada", vcf, NULL});
	report("reimport_100000_contacts_same_uids", t, rss, CONTACTS);
	t = run(&rss, (const char *const[]){"import", "ada", mbox, NULL});
	report("import_20000_mails_2k_mbox", t, rss, MAILS);
	t = run(&rss,
		(const char *const[]){"export", "ada", "Contacts", out, NULL});
	report("export_100000_contacts", t, rss, CONTACTS);
	t = run(&rss,
		(const char *const[]){"export", "ada", "Inbox", out, NULL});
	report("export_20000_mails_mbox", t, rss, MAILS);
	harness_rmtree(dir);
	return 0;
}
