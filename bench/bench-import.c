/* Import and export benchmark (issue: performance): easctl import of
 * 100,000 contacts (one .vcf), of 100,000 events (one .ics: a time zone,
 * every tenth event a weekly series whose changed occurrence comes at the
 * end of the file) and of 20,000 mails of 2 KB (one mbox), the same .vcf
 * again (every card replacing the one of its UID), and the export of the
 * folders: items per second and the peak resident memory of easctl
 * (wait4's ru_maxrss). */
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
#define EVENTS 100000

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

static int
write_ics(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
	      "X-WR-CALNAME:Bench\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
	      "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
	      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	      "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n"
	      "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n"
	      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	      "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
	      "END:VTIMEZONE\r\n",
	      f);
	for (int i = 0; i < EVENTS; i++)
		fprintf(f,
			"BEGIN:VEVENT\r\nUID:bench-%d@example.org\r\n"
			"DTSTAMP:20240301T080000Z\r\n"
			"DTSTART;TZID=Europe/Berlin:2024%02d%02dT%02d0000\r\n"
			"DTEND;TZID=Europe/Berlin:2024%02d%02dT%02d3000\r\n"
			"SUMMARY:Meeting %d\r\nLOCATION:Room %d\r\n"
			"DESCRIPTION:What an event of a real calendar says "
			"about itself\\, in a line or two.\r\n%s"
			"END:VEVENT\r\n",
			i, 1 + i % 12, 1 + i % 28, 8 + i % 10, 1 + i % 12,
			1 + i % 28, 8 + i % 10, i, i % 100,
			i % 10 == 0 ? "RRULE:FREQ=WEEKLY;COUNT=10\r\n" : "");
	/* the changed occurrences of the series, at the end */
	for (int i = 0; i < EVENTS; i += 10)
		fprintf(f,
			"BEGIN:VEVENT\r\nUID:bench-%d@example.org\r\n"
			"DTSTAMP:20240301T080000Z\r\n"
			"RECURRENCE-ID;TZID=Europe/Berlin:2024%02d%02dT%02d0000"
			"\r\nDTSTART;TZID=Europe/Berlin:2024%02d%02dT%02d0000"
			"\r\nDTEND;TZID=Europe/Berlin:2024%02d%02dT%02d3000\r\n"
			"SUMMARY:Meeting %d (moved)\r\nEND:VEVENT\r\n",
			i, 1 + i % 12, 1 + i % 28, 8 + i % 10, 1 + i % 12,
			1 + i % 28, 9 + i % 10, 1 + i % 12, 1 + i % 28,
			9 + i % 10, i);
	fputs("END:VCALENDAR\r\n", f);
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
	char vcf[128], mbox[128], ics[128], out[128];
	long rss = 0;
	double t;

	snprintf(dir, sizeof(dir), "/tmp/bench-import-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(vcf, sizeof(vcf), "%s/contacts.vcf", dir);
	snprintf(mbox, sizeof(mbox), "%s/mail.mbox", dir);
	snprintf(ics, sizeof(ics), "%s/calendar.ics", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	if (write_files(vcf, mbox) < 0 || write_ics(ics) < 0 ||
	    run(&rss, add) < 0) {
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
	t = run(&rss, (const char *const[]){"import", "ada", ics, NULL});
	report("import_100000_events_ics", t, rss, EVENTS);
	t = run(&rss,
		(const char *const[]){"export", "ada", "Calendar", out, NULL});
	report("export_100000_events_ics", t, rss, EVENTS);
	harness_rmtree(dir);
	return 0;
}
