/* The admin dashboard: how many accounts and devices, devices active in
 * the last hour and day, the outbound queue, the database's size, the
 * version, and a chart of requests per minute and parked requests over
 * the last 24 hours drawn as SVG on the server (no script, no font). */
#include <stdio.h>
#include <sys/stat.h>

#include "metrics.h"
#include "push.h"
#include "util.h"
#include "version.h"
#include "web.h"

#define CHART_W 720
#define CHART_H 200
#define BUCKET_MIN 10 /* minutes per bar */

static long long
file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void
tile(struct web *w, const char *label, const char *value)
{
	web_printf(w, "<div class=\"tile\"><b>%s</b>%s</div>", value, label);
}

static void
chart(struct web *w)
{
	enum { NB = METRICS_HISTORY_MINUTES / BUCKET_MIN };
	double rate[NB], park[NB], max = 1;
	const double bw = (double)CHART_W / NB;

	{
		uint32_t *r = arena_alloc(w->arena,
					  METRICS_HISTORY_MINUTES * sizeof(*r));
		uint32_t *p = arena_alloc(w->arena,
					  METRICS_HISTORY_MINUTES * sizeof(*p));

		metrics_history(time_now(), r, p);
		for (size_t b = 0; b < NB; b++) {
			uint32_t sum = 0, pm = 0;

			for (size_t k = 0; k < BUCKET_MIN; k++) {
				sum += r[b * BUCKET_MIN + k];
				if (p[b * BUCKET_MIN + k] > pm)
					pm = p[b * BUCKET_MIN + k];
			}
			rate[b] = (double)sum / BUCKET_MIN;
			park[b] = pm;
			if (rate[b] > max)
				max = rate[b];
			if (park[b] > max)
				max = park[b];
		}
	}
	web_printf(w,
		   "<h2>The last 24 hours</h2><svg viewBox=\"0 0 %d %d\" "
		   "role=\"img\" aria-label=\"requests per minute and parked "
		   "requests\" xmlns=\"http://www.w3.org/2000/svg\">",
		   CHART_W, CHART_H + 20);
	for (size_t b = 0; b < NB; b++) {
		int h = (int)(rate[b] / max * CHART_H + 0.5);

		if (h > 0)
			web_printf(w,
				   "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				   "height=\"%d\" fill=\"#5b8db8\"/>",
				   (int)(b * bw), CHART_H - h,
				   (int)(bw > 1 ? bw - 1 : 1), h);
	}
	web_printf(w, "<polyline fill=\"none\" stroke=\"#c0392b\" "
		      "stroke-width=\"2\" points=\"");
	for (size_t b = 0; b < NB; b++)
		web_printf(w, "%d,%d ", (int)(b * bw + bw / 2),
			   CHART_H - (int)(park[b] / max * CHART_H + 0.5));
	web_printf(w,
		   "\"/><line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		   "stroke=\"#888\"/><text x=\"2\" y=\"%d\" font-size=\"12\" "
		   "fill=\"#555\">24 h ago</text><text x=\"%d\" y=\"%d\" "
		   "font-size=\"12\" fill=\"#555\" text-anchor=\"end\">now"
		   "</text><text x=\"2\" y=\"12\" font-size=\"12\" "
		   "fill=\"#555\">max %lld</text></svg>\n"
		   "<p><span class=\"key-bar\">bars</span>: requests per "
		   "minute (10-minute means); <span class=\"key-line\">line"
		   "</span>: parked requests (most at once).</p>\n",
		   CHART_H, CHART_W, CHART_H, CHART_H + 16, CHART_W,
		   CHART_H + 16, (long long)max);
}

void
web_dashboard(struct web *w)
{
	struct store_stats st;
	int64_t hour = -1, day = -1, queue = -1;
	int64_t now = time_now();
	char wal[4096];
	enum store_error e;

	e = store_stats(w->store, &st);
	if (e == STORE_OK)
		e = store_devices_seen_since(w->store, now - 3600, &hour);
	if (e == STORE_OK)
		e = store_devices_seen_since(w->store, now - 86400, &day);
	if (e == STORE_OK)
		e = store_outbound_count(w->store, &queue);
	if (e != STORE_OK) {
		web_store_error(w, e, "reading the statistics");
		return;
	}
	snprintf(wal, sizeof(wal), "%s-wal", w->srv->cfg.db_path);
	web_page_begin(w, "Dashboard");
	web_printf(w, "<div class=\"tiles\">");
	tile(w, "accounts",
	     arena_printf(w->arena, "%lld", (long long)st.accounts));
	tile(w, "devices",
	     arena_printf(w->arena, "%lld", (long long)st.devices));
	tile(w, "active in the last hour",
	     arena_printf(w->arena, "%lld", (long long)hour));
	tile(w, "active in the last day",
	     arena_printf(w->arena, "%lld", (long long)day));
	tile(w, "parked requests now",
	     arena_printf(w->arena, "%zu", metrics_parked_now()));
	tile(w, "in the outbound queue",
	     arena_printf(w->arena, "%lld", (long long)queue));
	tile(w, "database",
	     arena_printf(w->arena, "%.1f MiB",
			  (double)(file_bytes(w->srv->cfg.db_path) +
				   file_bytes(wal)) /
				  (1024.0 * 1024.0)));
	tile(w, "version", EASD_VERSION);
	web_printf(w, "</div>\n");
	chart(w);
	web_page_end(w);
}
