/* SMTP submission with libcurl. libcurl speaks the protocol (EHLO,
 * STARTTLS, AUTH, MAIL, RCPT, DATA with dot-stuffing); what is ours is the
 * decision what a failure means: a 5xx reply is permanent, anything else
 * (4xx, no connection, a timeout, a relay that vanished mid-DATA) is tried
 * again later, so an accepted message is never lost. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "smtp.h"
#include "xalloc.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
smtp_relay_credentials(struct smtp_relay *r, const char *path,
		       const char **error_r)
{
	struct buf b;
	const char *err;
	char *text, *colon, *nl;
	size_t len;

	buf_init(&b, 4096);
	if (buf_read_path(&b, path, &err) < 0) {
		*error_r = err;
		buf_deinit(&b);
		return -1;
	}
	text = (char *)buf_steal(&b, &len);
	nl = text + strcspn(text, "\r\n");
	*nl = '\0';
	colon = strchr(text, ':');
	if (colon == NULL || colon == text) {
		explicit_bzero(text, len);
		free(text);
		*error_r = "the SMTP credentials file must hold user:password";
		return -1;
	}
	*colon = '\0';
	r->user = xstrdup(text);
	r->password = xstrdup(colon + 1);
	explicit_bzero(text, len);
	free(text);
	return 0;
}

void
smtp_relay_deinit(struct smtp_relay *r)
{
	if (r->password != NULL) {
		explicit_bzero((char *)r->password, strlen(r->password));
		free((char *)r->password);
	}
	free((char *)r->user);
	r->user = r->password = NULL;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(out, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* The relay's replies arrive as "header" data: keep the last line, and
 * the last refusal (4xx/5xx), which is what a report quotes (the QUIT that
 * follows it says only goodbye). */
struct replies {
	char last[512];
	char refusal[512];
};

static int
debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct replies *r = arg;
	size_t n;

	(void)c;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	n = size < sizeof(r->last) - 1 ? size : sizeof(r->last) - 1;
	memcpy(r->last, data, n);
	r->last[n] = '\0';
	r->last[strcspn(r->last, "\r\n")] = '\0';
	if (r->last[0] == '4' || r->last[0] == '5')
		memcpy(r->refusal, r->last, sizeof(r->refusal));
	return 0;
}

struct smtp_session {
	CURL *curl;
};

void
smtp_session_close(struct smtp_session **sessionp)
{
	struct smtp_session *s = *sessionp;

	if (s == NULL)
		return;
	curl_easy_cleanup(s->curl);
	free(s);
	*sessionp = NULL;
}

enum smtp_result
smtp_submit(const struct smtp_relay *relay, struct smtp_session **session,
	    struct arena *a, const char *from, const char *rcpt,
	    const char *data, size_t len, const char **reply_r)
{
	struct upload up = {data, len};
	struct replies rep = {"", ""};
	struct curl_slist *to = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	enum smtp_result r;
	long code = 0;
	CURLcode rc;
	CURL *c;

	pthread_once(&curl_once, curl_init_once);
	if (*session == NULL) {
		*session = xcalloc(1, sizeof(**session));
		(*session)->curl = curl_easy_init();
		if ((*session)->curl == NULL) {
			smtp_session_close(session);
			*reply_r = "cannot start an SMTP session";
			return SMTP_DEFER;
		}
	}
	c = (*session)->curl;
	curl_easy_reset(c);
	to = curl_slist_append(to, arena_printf(a, "<%s>", rcpt));
	curl_easy_setopt(c, CURLOPT_URL, relay->url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, arena_printf(a, "<%s>", from));
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_USE_SSL,
			 relay->insecure ? (long)CURLUSESSL_TRY
					 : (long)CURLUSESSL_ALL);
	if (relay->cainfo != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, relay->cainfo);
	if (relay->user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, relay->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, relay->password);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			 relay->timeout_s > 0 ? relay->timeout_s : 60L);
	/* a relay that stops answering mid-transfer */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
			 relay->timeout_s > 0 ? relay->timeout_s : 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &rep);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		r = SMTP_SENT;
	} else if (code >= 500 && code < 600) {
		r = SMTP_REFUSED;
	} else {
		r = SMTP_DEFER;
	}
	if (rep.refusal[0] != '\0' && rc != CURLE_OK && code >= 400)
		*reply_r = arena_strdup(a, rep.refusal);
	else if (rc != CURLE_OK)
		*reply_r = arena_printf(
			a, "%s",
			errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	else
		*reply_r = arena_strdup(a, rep.last[0] != '\0' ? rep.last
							       : "250 ok");
	curl_slist_free_all(to);
	/* after a failure the connection may be in any state: a new one */
	if (r != SMTP_SENT)
		smtp_session_close(session);
	return r;
}
