/* Outgoing mail (compose.c, GMime): what the server does to a client's
 * message before it leaves (MS-ASCMD 2.2.1.17 SendMail, 2.2.1.19
 * SmartForward, 2.2.1.20 SmartReply), the non-delivery report, and the
 * message a draft's properties describe. Nothing here sends or stores. */
#ifndef EASD_COMPOSE_H
#define EASD_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

/* Most recipients one message may name (To, Cc and Bcc together). */
#define MAIL_MAX_RECIPIENTS 1000

enum mail_compose_mode {
	MAIL_COMPOSE_NEW = 0,
	MAIL_COMPOSE_REPLY,
	MAIL_COMPOSE_FORWARD,
};

struct mail_outgoing {
	/* the message as it leaves: Bcc removed, Date and Message-ID added
	 * when missing, CR LF line ends */
	const char *data;
	size_t len;
	/* the copy for Sent Items: the same with Bcc kept */
	const char *sent_data;
	size_t sent_len;
	const char *from;   /* the From address (addr-spec), NULL when none */
	const char **rcpts; /* To, Cc and Bcc addr-specs, each once */
	size_t nrcpts;
	const char *message_id; /* with its angle brackets */
	const char *subject;	/* "" when none */
};

/* Prepare a client's RFC 5322 message for sending. For REPLY and FORWARD
 * with an original (a stored email item) the server completes the
 * message, as Exchange does when the client did not send ReplaceMime: a
 * reply gets the original text quoted below the new text (plain and HTML
 * parts both) and In-Reply-To/References; a forward gets the original text
 * below a header block and the original's attachments. original NULL sends
 * the client's MIME as it is (ReplaceMime). Everything lives in a. Returns
 * 0, or -1 with *error_r when the message cannot be parsed or names an
 * address that cannot be used on an SMTP envelope. */
int mail_compose(struct arena *a, const char *data, size_t len,
		 enum mail_compose_mode mode, const struct store_item *original,
		 const char *default_from, struct mail_outgoing *out,
		 const char **error_r);

/* A non-delivery report (RFC 3464 multipart/report) to the sender about
 * one recipient of a message it sent: who refused it (reporter), the
 * reply, and the original's headers. *data_r is CR LF text in a. */
void mail_compose_ndr(struct arena *a, const char *to, const char *rcpt,
		      const char *reporter, const char *reason,
		      const char *original, size_t original_len,
		      const char **data_r, size_t *len_r);

#endif
