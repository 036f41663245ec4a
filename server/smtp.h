/* SMTP submission to the relay (smtp.c, libcurl): one message to one
 * recipient per call, STARTTLS required unless the relay is configured
 * insecure, credentials from a file. */
#ifndef EASD_SMTP_H
#define EASD_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

struct smtp_relay {
	const char *url;      /* smtp://host:587 or smtps://host:465 */
	bool insecure;	      /* allow smtp:// without STARTTLS */
	const char *user;     /* NULL: no AUTH */
	const char *password; /* never logged */
	long timeout_s;	      /* per connection step; 0 = 60 */
	const char *cainfo;   /* CA bundle for the relay's certificate; NULL
				 = the system's */
};

enum smtp_result {
	SMTP_SENT = 0, /* the relay took it (250 after DATA) */
	SMTP_DEFER,    /* try again later: 4xx, no connection, timeout */
	SMTP_REFUSED,  /* permanent: 5xx for this recipient or message */
};

/* Read "user:password" (first line) from path for the relay. Returns 0, or
 * -1 with *error_r (static text). The strings are heap; the password is
 * wiped by smtp_relay_deinit. */
int smtp_relay_credentials(struct smtp_relay *r, const char *path,
			   const char **error_r);
void smtp_relay_deinit(struct smtp_relay *r);

/* A connection to the relay kept across submissions (libcurl reuses it
 * for the next MAIL FROM); NULL before the first one. */
struct smtp_session;

/* Submit data (an RFC 5322 message, CR LF) from envelope sender from to
 * rcpt, on *session (made when NULL). *reply_r is what the relay last
 * said (or what failed locally), one line in a, for logs and non-delivery
 * reports. */
enum smtp_result smtp_submit(const struct smtp_relay *relay,
			     struct smtp_session **session, struct arena *a,
			     const char *from, const char *rcpt,
			     const char *data, size_t len,
			     const char **reply_r);
/* Close the connection (QUIT) and free *sessionp. */
void smtp_session_close(struct smtp_session **sessionp);

#endif
