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

/* The message with a Sender field of name <addr> at the top of its
 * header instead of any the client wrote (send-on-behalf), in a;
 * *len_r its length. */
const char *mail_set_sender(struct arena *a, const char *data, size_t len,
			    const char *name, const char *addr, size_t *len_r);

/* A 16.x draft (MS-ASEMAIL 2.2.2.x IsDraft, airsyncbase:Attachments Add
 * and Delete): the message its properties describe. NULL strings keep the
 * stored draft's value, "" clears it. */
struct mail_draft_att {
	const char *name, *ctype, *content_id;
	const uint8_t *data;
	size_t len;
	bool is_inline;
};

struct mail_draft {
	const char *from; /* "Name <addr>" of the account */
	const char *to, *cc, *bcc, *subject;
	int importance; /* 0 low, 1 normal, 2 high; -1 keep */
	bool have_body;
	const char *body; /* in body_type: 1 plain, 2 HTML */
	size_t body_len;
	int body_type;
	const struct mail_draft_att *add; /* appended, in order */
	size_t nadd;
	const unsigned *del; /* stored attachment indexes to drop */
	size_t ndel;
};

/* Build the draft's message over old (the stored draft, NULL for a new
 * one): headers, one text body, attachments kept, dropped and added (the
 * added ones come last, in order). *data_r is CR LF text in a. Returns 0
 * or -1 with *error_r. */
int mail_draft_build(struct arena *a, const struct mail_draft *d,
		     const struct store_item *old, const char **data_r,
		     size_t *len_r, const char **error_r);

/* A non-delivery report (RFC 3464 multipart/report) to the sender about
 * one recipient of a message it sent: who refused it (reporter), the
 * reply, and the original's headers. *data_r is CR LF text in a. */
void mail_compose_ndr(struct arena *a, const char *to, const char *rcpt,
		      const char *reporter, const char *reason,
		      const char *original, size_t original_len,
		      const char **data_r, size_t *len_r);

#endif
