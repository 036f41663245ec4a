/* Meetings benchmark (issue: meetings):
 *  - 1,000 invitations delivered over one LMTP connection (each places a
 *    meeting in the calendar) against 1,000 plain messages of the same
 *    size, in alternating rounds of the same run: messages/s and the
 *    ratio (target: invitations within 2x);
 *  - a local organizer: the time from an attendee's MeetingResponse (16.1,
 *    SendResponse) to the organizer's parked Ping answering, median and
 *    p99 over 200 answers (target p99 < 100 ms). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"
#include "util.h"

#define BATCH 1000
#define ROUNDS 3
#define WAKES 200

static struct easd_proc *srv;

static int
reply(FILE *f)
{
	char line[512];
	int code = -1;

	while (fgets(line, sizeof(line), f) != NULL) {
		code = atoi(line);
		if (strlen(line) < 4 || line[3] != '-')
			break;
	}
	return code;
}

static FILE *
lmtp_open(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv->lmtp_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	f = fdopen(fd, "r+");
	reply(f);
	fprintf(f, "LHLO bench\r\n");
	fflush(f);
	reply(f);
	return f;
}

/* Message i of a batch: an Outlook-shaped invitation with its own UID, or
 * a plain message padded to the same size. */
static int
message(char *buf, size_t size, int round, int i, bool invitation)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nPRODID:bench\r\nVERSION:2.0\r\n"
		"METHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
		"UID:bench-%d-%d@partner.example\r\nSEQUENCE:0\r\n"
		"DTSTAMP:20261201T090000Z\r\n"
		"DTSTART:202701%02dT%02d0000Z\r\nDTEND:202701%02dT%02d3000Z\r\n"
		"SUMMARY:Benchmark meeting %d\r\nLOCATION:Room %d\r\n"
		"ORGANIZER;CN=Olivia:mailto:olivia@partner.example\r\n"
		"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;"
		"CN=Ada:mailto:ada@example.org\r\n"
		"X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"
		"X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	char cal[1024];
	int n = snprintf(cal, sizeof(cal), ics, round, i, 1 + i % 28,
			 8 + i % 10, 1 + i % 28, 8 + i % 10, i, i);

	if (invitation)
		return snprintf(
			buf, size,
			"From: Olivia <olivia@partner.example>\r\n"
			"To: Ada <ada@example.org>\r\n"
			"Subject: Benchmark meeting %d\r\n"
			"Message-ID: <inv-%d-%d@partner.example>\r\n"
			"MIME-Version: 1.0\r\n"
			"Content-Type: multipart/alternative; "
			"boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nAgenda.\r\n"
			"--b\r\nContent-Type: text/calendar; method=REQUEST; "
			"charset=utf-8\r\n\r\n%s--b--\r\n",
			i, round, i, cal);
	/* the same headers and size, the calendar part as text */
	return snprintf(
		buf, size,
		"From: Olivia <olivia@partner.example>\r\n"
		"To: Ada <ada@example.org>\r\n"
		"Subject: Benchmark meeting %d\r\n"
		"Message-ID: <txt-%d-%d@partner.example>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nAgenda.\r\n"
		"--b\r\nContent-Type: text/plain; method=REQUEST; "
		"charset=utf-8\r\n\r\n%.*s--b--\r\n",
		i, round, i, n, cal);
}

/* One batch over one connection: messages/s, or -1. */
static double
deliver_batch(int round, bool invitation)
{
	FILE *f = lmtp_open();
	char msg[4096];
	double t0, t;
	int ok = 0;

	if (f == NULL)
		return -1;
	t0 = measure_now();
	for (int i = 0; i < BATCH; i++) {
		message(msg, sizeof(msg), round, i, invitation);
		fprintf(f,
			"MAIL FROM:<olivia@partner.example>\r\n"
			"RCPT TO:<%s>\r\nDATA\r\n",
			HARNESS_ADA_EMAIL);
		fflush(f);
		if (reply(f) != 250 || reply(f) != 250 || reply(f) != 354)
			break;
		fputs(msg, f);
		fputs(".\r\n", f);
		fflush(f);
		if (reply(f) != 250)
			break;
		ok++;
	}
	t = measure_now() - t0;
	fprintf(f, "QUIT\r\n");
	fclose(f);
	return ok == BATCH ? ok / t : -1;
}

static void
bench_delivery(void)
{
	double plain[ROUNDS], inv[ROUNDS], ratio[ROUNDS];
	int n = 0;

	for (int r = 0; r < ROUNDS; r++) {
		plain[n] = deliver_batch(r, false);
		inv[n] = deliver_batch(r, true);
		if (plain[n] <= 0 || inv[n] <= 0)
			break;
		ratio[n] = inv[n] / plain[n];
		n++;
	}
	if (n == 0) {
		printf("bench-meeting: delivery failed\n");
		return;
	}
	printf("bench-meeting: lmtp_plain_same_size %.0f msg/s (target -)\n",
	       measure_median(plain, n));
	printf("bench-meeting: lmtp_invitations %.0f msg/s (target -)\n",
	       measure_median(inv, n));
	printf("bench-meeting: invitations_vs_plain %.2f ratio (target >= "
	       "0.50; median of %d rounds of %d)\n",
	       measure_median(ratio, n), n, BATCH);
}

struct ping_job {
	struct eas_client *c;
	const char *folders[2];
	int status;
	double answered;
	pthread_t thread;
};

static void *
ping_run(void *arg)
{
	struct ping_job *j = arg;
	struct arena *a = arena_new(0);
	const char **changed;
	size_t n;

	j->status = -1;
	eas_client_ping(j->c, a, 600, j->folders, 2, &j->status, &changed, &n);
	j->answered = measure_now();
	arena_free(&a);
	return NULL;
}

static const char *
folder(struct eas_client *c, int type)
{
	return eas_client_folder_by_type(c, type)->server_id;
}

static void
bench_wake(void)
{
	struct arena *a = arena_new(0), *keep = arena_new(0);
	struct eas_client *bob = harness_client(srv, HARNESS_BOB, "BMTGORG");
	struct eas_client *ada = harness_client(srv, HARNESS_ADA, "BMTGATT");
	const char **ids = arena_alloc(keep, WAKES * sizeof(*ids));
	double lat[WAKES];
	struct eas_sync_result r;
	int n = 0, made = 0, st;

	eas_client_set_version(bob, "16.1");
	eas_client_set_version(ada, "16.1");
	eas_client_foldersync(bob, a, &st);
	eas_client_foldersync(ada, a, &st);
	eas_client_sync(ada, a, folder(ada, EAS_FOLDER_CALENDAR), NULL, &r);
	/* bob invites ada to WAKES meetings; the server places them */
	for (int i = 0; i < WAKES; i++) {
		char xml[1024];
		struct wbxml_node *app;
		const char *err, *sid;

		snprintf(xml, sizeof(xml),
			 "<ApplicationData xmlns=\"AirSync:\" "
			 "xmlns:cal=\"Calendar:\">"
			 "<cal:StartTime>202702%02dT%02d0000Z</cal:StartTime>"
			 "<cal:EndTime>202702%02dT%02d3000Z</cal:EndTime>"
			 "<cal:Subject>Wake %d</cal:Subject>"
			 "<cal:MeetingStatus>1</cal:MeetingStatus>"
			 "<cal:Attendees><cal:Attendee><cal:Email>"
			 "ada@example.org</cal:Email><cal:Name>Ada</cal:Name>"
			 "<cal:AttendeeType>1</cal:AttendeeType>"
			 "</cal:Attendee></cal:Attendees>"
			 "<cal:ClientUid>wake-%d</cal:ClientUid>"
			 "</ApplicationData>",
			 1 + i % 28, 8 + i % 10, 1 + i % 28, 8 + i % 10, i, i);
		if (wbxml_from_xml(a, xml, strlen(xml), &app, &err) < 0 ||
		    eas_client_add(bob, a, folder(bob, EAS_FOLDER_CALENDAR),
				   app, &sid, &st) < 0)
			break;
		arena_reset(a);
	}
	eas_client_sync(ada, keep, folder(ada, EAS_FOLDER_CALENDAR), NULL, &r);
	for (size_t i = 0; i < r.count && made < WAKES; i++)
		if (r.items[i].kind == EAS_ITEM_ADD)
			ids[made++] = r.items[i].server_id;
	for (int i = 0; i < made; i++) {
		struct ping_job j = {.c = bob};
		struct eas_sync_result s;
		struct eas_response resp;
		struct wbxml_node *req;
		char xml[1024];
		const char *err;
		double t0;

		j.folders[0] = folder(bob, EAS_FOLDER_INBOX);
		j.folders[1] = folder(bob, EAS_FOLDER_CALENDAR);
		eas_client_sync(bob, a, j.folders[0], NULL, &s);
		eas_client_sync(bob, a, j.folders[1], NULL, &s);
		pthread_create(&j.thread, NULL, ping_run, &j);
		usleep(20 * 1000); /* let it park */
		snprintf(xml, sizeof(xml),
			 "<MeetingResponse xmlns=\"MeetingResponse:\"><Request>"
			 "<UserResponse>1</UserResponse><CollectionId>%s"
			 "</CollectionId><RequestId>%s</RequestId>"
			 "<SendResponse/></Request></MeetingResponse>",
			 folder(ada, EAS_FOLDER_CALENDAR), ids[i]);
		t0 = measure_now();
		if (wbxml_from_xml(a, xml, strlen(xml), &req, &err) < 0 ||
		    eas_client_post(ada, a, "MeetingResponse", req, NULL,
				    &resp) < 0) {
			pthread_join(j.thread, NULL);
			break;
		}
		pthread_join(j.thread, NULL);
		if (j.status == 2)
			lat[n++] = (j.answered - t0) * 1000;
		arena_reset(a);
	}
	if (n > 0) {
		printf("bench-meeting: response_to_organizer_wake_median %.2f "
		       "ms (target -)\n",
		       measure_median(lat, n));
		printf("bench-meeting: response_to_organizer_wake_p99 %.2f ms "
		       "(target < 100; %d of %d woken)\n",
		       measure_percentile(lat, n, 99), n, made);
	} else {
		printf("bench-meeting: no organizer woke (%d meetings)\n",
		       made);
	}
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
	arena_free(&keep);
}

int
main(void)
{
	srv = easd_start(NULL);
	if (srv == NULL)
		return 1;
	bench_delivery();
	bench_wake();
	easd_stop(&srv);
	return 0;
}
