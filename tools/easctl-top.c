/* easctl top: a live terminal view of a running easd, like z-push-top:
 * the devices active in the last hour (from the store) and, through the
 * admin listener, the requests per second by command and the requests
 * parked right now. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "easctl.h"
#include "util.h"

#define EX_FAIL 1
#define EX_USAGE 2
#define TOP_MAX_COMMANDS 64
#define TOP_MAX_ROWS 40

static const char usage[] =
	"usage: easctl [--data DIR] top [--admin ADDR:PORT] [--interval S]\n"
	"                               [--minutes M] [--once]\n"
	"  a live view of the devices that made requests in the last M\n"
	"  minutes (default 60), refreshed every S seconds (default 2; q\n"
	"  quits). With --admin (easd's --admin-listen) also the requests\n"
	"  per second by command and the requests parked now. --once prints\n"
	"  one view and exits.\n";

struct cmd_count {
	char name[32];
	double total;
};

struct sample {
	struct cmd_count cmds[TOP_MAX_COMMANDS];
	size_t ncmds;
	double parked;
	bool ok;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	buf_append(ctx, p, size * n);
	return size * n;
}

/* GET http://admin/path into b; 0 on a 200. */
static int
fetch(const char *admin, const char *path, struct buf *b)
{
	CURL *c = curl_easy_init();
	char url[512];
	long status = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "http://%s%s", admin, path);
	buf_reset(b);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (buf_putc(b, '\0') < 0)
		return -1;
	return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* easd_requests_total{command="Sync",status="200"} 12 -> Sync += 12 */
static void
parse_metrics(const char *text, struct sample *s)
{
	static const char req[] = "easd_requests_total{command=\"";
	static const char parked[] = "easd_parked_requests ";

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, req, sizeof(req) - 1) == 0) {
			const char *name = p + sizeof(req) - 1;
			const char *q = strchr(name, '"');
			const char *sp = strchr(name, ' ');
			size_t len = q != NULL ? (size_t)(q - name) : 0;
			size_t i;

			if (q != NULL && sp != NULL && len < 32) {
				for (i = 0; i < s->ncmds; i++)
					if (strlen(s->cmds[i].name) == len &&
					    memcmp(s->cmds[i].name, name,
						   len) == 0)
						break;
				if (i == s->ncmds &&
				    s->ncmds < TOP_MAX_COMMANDS) {
					memcpy(s->cmds[i].name, name, len);
					s->cmds[i].name[len] = '\0';
					s->cmds[i].total = 0;
					s->ncmds++;
				}
				if (i < s->ncmds)
					s->cmds[i].total +=
						strtod(sp + 1, NULL);
			}
		} else if (strncmp(p, parked, sizeof(parked) - 1) == 0) {
			s->parked = strtod(p + sizeof(parked) - 1, NULL);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static double
previous_total(const struct sample *prev, const char *name)
{
	for (size_t i = 0; i < prev->ncmds; i++)
		if (strcmp(prev->cmds[i].name, name) == 0)
			return prev->cmds[i].total;
	return 0;
}

static void
fmt_ago(int64_t secs, char *buf, size_t size)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, size, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, size, "%lldm", (long long)(secs / 60));
	else
		snprintf(buf, size, "%lldh", (long long)(secs / 3600));
}

static int
cmp_last_seen(const void *a, const void *b)
{
	const struct store_device *x = a, *y = b;

	return x->last_seen < y->last_seen ? 1 : x->last_seen > y->last_seen;
}

/* One frame. prev: the sample of the frame before (rates), or NULL. */
static int
frame(struct easctl *ctl, const char *admin, int minutes, double interval,
      const struct sample *prev, struct sample *cur, bool tty)
{
	struct arena *a = arena_new(0);
	struct store_device *devs;
	struct store_account *accs;
	size_t ndevs, naccs, active = 0;
	struct store *s = easctl_store(ctl);
	int64_t now = time_now();
	char stamp[64];
	struct buf b;
	time_t tt = (time_t)now;
	struct tm tm;

	if (s == NULL ||
	    store_device_list(s, a, 0, &devs, &ndevs) != STORE_OK ||
	    store_account_list(s, a, &accs, &naccs) != STORE_OK) {
		arena_free(&a);
		fprintf(stderr, "easctl: cannot read the devices\n");
		return -1;
	}
	qsort(devs, ndevs, sizeof(*devs), cmp_last_seen);
	for (size_t i = 0; i < ndevs; i++)
		if (devs[i].last_seen >= now - 60 * (int64_t)minutes)
			active++;
	memset(cur, 0, sizeof(*cur));
	buf_init(&b, 8 * 1024 * 1024);
	if (admin != NULL && fetch(admin, "/metrics", &b) == 0) {
		parse_metrics((const char *)b.data, cur);
		cur->ok = true;
	}
	gmtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%SZ", &tm);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("easctl top  %s  %s", stamp, ctl->db_path);
	if (tty)
		printf("  (every %gs, q quits)", interval);
	printf("\n\ndevices active in the last %d min: %zu of %zu", minutes,
	       active, ndevs);
	if (cur->ok)
		printf("   parked requests: %.0f", cur->parked);
	else if (admin != NULL)
		printf("   admin listener %s: no answer", admin);
	printf("\n");

	if (cur->ok) {
		bool rates = prev != NULL && prev->ok;

		printf("\n%10s  %s\n", rates ? "REQUESTS/S" : "REQUESTS",
		       "COMMAND");
		for (size_t i = 0; i < cur->ncmds; i++) {
			double v = cur->cmds[i].total;

			if (rates)
				v = (v -
				     previous_total(prev, cur->cmds[i].name)) /
				    interval;
			printf("%10.*f  %s\n", rates ? 1 : 0, v,
			       cur->cmds[i].name);
		}
		if (fetch(admin, "/parked", &b) == 0) {
			const char *text = (const char *)b.data;
			const char *nl = strchr(text, '\n');
			int rows = 0;

			printf("\n%-20s %-24s %-12s %s\n", "PARKED USER",
			       "DEVICE", "COMMAND", "LEFT");
			for (const char *p = nl != NULL ? nl + 1 : NULL;
			     p != NULL && *p != '\0' && rows < TOP_MAX_ROWS;
			     rows++) {
				char u[128], d[128], c[64];
				unsigned long long left;

				if (sscanf(p, "%127s %127s %63s %llu", u, d, c,
					   &left) == 4)
					printf("%-20s %-24s %-12s %llus\n", u,
					       d, c, left);
				nl = strchr(p, '\n');
				p = nl != NULL ? nl + 1 : NULL;
			}
		}
	}
	printf("\n%-20s %-24s %-14s %-14s %s\n", "USER", "DEVICE", "TYPE",
	       "LAST COMMAND", "AGO");
	for (size_t i = 0, rows = 0; i < ndevs && rows < TOP_MAX_ROWS; i++) {
		const char *login = "?";
		char ago[32];

		if (devs[i].last_seen < now - 60 * (int64_t)minutes)
			break;
		for (size_t k = 0; k < naccs; k++)
			if (accs[k].id == devs[i].account_id)
				login = accs[k].login;
		fmt_ago(now - devs[i].last_seen, ago, sizeof(ago));
		printf("%-20s %-24s %-14s %-14s %s\n", login, devs[i].device_id,
		       devs[i].device_type != NULL ? devs[i].device_type : "-",
		       devs[i].last_command != NULL ? devs[i].last_command
						    : "-",
		       ago);
		rows++;
	}
	fflush(stdout);
	buf_deinit(&b);
	arena_free(&a);
	return 0;
}

int
easctl_top(struct easctl *ctl, int argc, char **argv)
{
	const char *admin = NULL;
	double interval = 2;
	int minutes = 60, rc = 0;
	bool once = false, tty, raw = false;
	struct sample samples[2];
	struct termios saved;
	int cur = 0;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--once") == 0) {
			once = true;
		} else if (strcmp(argv[i], "--admin") == 0 && v != NULL) {
			admin = v;
			i++;
		} else if (strcmp(argv[i], "--interval") == 0 && v != NULL &&
			   (interval = strtod(v, NULL)) >= 0.2 &&
			   interval <= 3600) {
			i++;
		} else if (strcmp(argv[i], "--minutes") == 0 && v != NULL &&
			   (minutes = atoi(v)) > 0) {
			i++;
		} else {
			fprintf(stderr, "easctl: top: bad argument %s\n",
				argv[i]);
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tty = !once && isatty(STDOUT_FILENO);
	if (!once && isatty(STDIN_FILENO) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;

		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		raw = tcsetattr(0, TCSANOW, &t) == 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (bool first = true; !stop; first = false) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		uint64_t until;

		if (frame(ctl, admin, minutes, interval,
			  first ? NULL : &samples[1 - cur], &samples[cur],
			  tty) < 0) {
			rc = EX_FAIL;
			break;
		}
		cur = 1 - cur;
		if (once)
			break;
		until = time_mono_ms() + (uint64_t)(interval * 1000);
		while (!stop && time_mono_ms() < until) {
			char ch;
			int r = poll(&pfd, raw ? 1 : 0,
				     (int)(until - time_mono_ms()));

			if (r > 0 && read(0, &ch, 1) == 1 &&
			    (ch == 'q' || ch == 'Q'))
				stop = 1;
			else if (r < 0 && errno != EINTR)
				break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	curl_global_cleanup();
	return rc;
}
