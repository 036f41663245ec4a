/* Out-of-office replies (RFC 3834): whether a delivered message may be
 * answered, which audience's text answers it, and the reply itself, sent
 * the way SendMail sends (local delivery or the outbound queue) in one
 * transaction with the record that this sender has been answered. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "autoreply.h"
#include "log.h"
#include "mail-int.h"
#include "mail.h"
#include "util.h"

static void
unref_cb(void *p)
{
	g_object_unref(p);
}

static bool
header_is(GMimeMessage *m, const char *name, const char *const *values)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(m), name);

	if (v == NULL)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *values != NULL; values++)
		if (strncasecmp(v, *values, strlen(*values)) == 0)
			return true;
	return false;
}

static bool
has_list_header(GMimeMessage *m)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = h != NULL ? g_mime_header_get_name(h) : NULL;

		if (name != NULL && strncasecmp(name, "List-", 5) == 0)
			return true;
	}
	return false;
}

static const char *
first_addr(struct arena *a, InternetAddressList *l)
{
	int n = l != NULL ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return arena_strdup(
				a, internet_address_mailbox_get_addr(
					   INTERNET_ADDRESS_MAILBOX(ia)));
	}
	return NULL;
}

/* The local part names a robot that does not read replies. */
static bool
robot_sender(const char *addr)
{
	static const char *const robots[] = {
		"mailer-daemon", "noreply",    "no-reply", "donotreply",
		"do-not-reply",	 "postmaster", NULL};
	const char *at = strchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; robots[i] != NULL; i++)
		if (n == strlen(robots[i]) &&
		    strncasecmp(addr, robots[i], n) == 0)
			return true;
	return false;
}

static GMimeMessage *
parse(struct arena *a, const struct store_item *msg)
{
	return msg->data != NULL ? mail_mime_parse(a, (const char *)msg->data,
						   msg->data_len)
				 : NULL;
}

static int
allowed(struct arena *a, GMimeMessage *m, const char *envelope_from,
	const char **to_r, const char **why_r)
{
	static const char *const auto_no[] = {"no", NULL};
	static const char *const bulk[] = {"bulk", "list", "junk", NULL};
	const char *v, *to;

	v = g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted");
	if (v != NULL && !header_is(m, "Auto-Submitted", auto_no)) {
		*why_r = "it was sent automatically (Auto-Submitted)";
		return 0;
	}
	if (header_is(m, "Precedence", bulk)) {
		*why_r = "it is bulk or list mail (Precedence)";
		return 0;
	}
	if (has_list_header(m)) {
		*why_r = "it came through a mailing list (List-*)";
		return 0;
	}
	/* RFC 3834 3.3: to the envelope sender, which is the one that
	 * receives errors; the From address only when it is not known */
	if (envelope_from != NULL)
		to = *envelope_from != '\0' && strcmp(envelope_from, "<>") != 0
			     ? envelope_from
			     : NULL;
	else
		to = first_addr(a, g_mime_message_get_from(m));
	if (to == NULL || strchr(to, '@') == NULL) {
		*why_r = "it has no sender to answer";
		return 0;
	}
	if (robot_sender(to)) {
		*why_r = "its sender is a robot";
		return 0;
	}
	*to_r = arena_strdup(a, to);
	return 1;
}

int
mail_autoreply_allowed(struct arena *a, const struct store_item *msg,
		       const char *envelope_from, const char **to_r,
		       const char **why_r)
{
	GMimeMessage *m = parse(a, msg);

	if (m == NULL) {
		*why_r = "it cannot be parsed";
		return 0;
	}
	return allowed(a, m, envelope_from, to_r, why_r);
}

/* Whether addr is one of the account's own addresses. */
static bool
is_mine(const struct store_account *acc, const char *const *aliases,
	size_t naliases, const char *addr)
{
	if (str_ieq(addr, acc->email) || str_ieq(addr, acc->login))
		return true;
	for (size_t i = 0; i < naliases; i++)
		if (str_ieq(addr, aliases[i]))
			return true;
	return false;
}

static bool
named_in(InternetAddressList *l, const struct store_account *acc,
	 const char *const *aliases, size_t naliases, unsigned depth)
{
	int n = l != NULL ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n && depth < 4; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
		    is_mine(acc, aliases, naliases,
			    internet_address_mailbox_get_addr(
				    INTERNET_ADDRESS_MAILBOX(ia))))
			return true;
		if (INTERNET_ADDRESS_IS_GROUP(ia) &&
		    named_in(internet_address_group_get_members(
				     INTERNET_ADDRESS_GROUP(ia)),
			     acc, aliases, naliases, depth + 1))
			return true;
	}
	return false;
}

static const char *
reply_text(struct arena *a, const struct store_account *acc, const char *to,
	   GMimeMessage *orig, const struct store_oof_message *msg)
{
	GMimeMessage *r = g_mime_message_new(TRUE);
	GMimeTextPart *body;
	GMimeFormatOptions *fo;
	GDateTime *now = g_date_time_new_now_utc();
	const char *subject = g_mime_message_get_subject(orig);
	const char *mid = g_mime_message_get_message_id(orig);
	const char *refs =
		g_mime_object_get_header(GMIME_OBJECT(orig), "References");
	const char *at = strrchr(acc->email, '@');
	uint8_t rnd[12];
	char id[64], *text, *out;
	size_t k = 0;

	arena_add_cleanup(a, unref_cb, r);
	g_mime_object_set_header(
		GMIME_OBJECT(r), "From",
		arena_printf(a, "%s <%s>",
			     acc->display_name != NULL &&
					     acc->display_name[0] != '\0'
				     ? acc->display_name
				     : acc->login,
			     acc->email),
		"utf-8");
	g_mime_object_set_header(GMIME_OBJECT(r), "To", to, "utf-8");
	g_mime_message_set_subject(r,
				   arena_printf(a, "Automatic reply: %s",
						subject != NULL ? subject : ""),
				   "utf-8");
	g_mime_message_set_date(r, now);
	g_date_time_unref(now);
	random_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		k += (size_t)snprintf(id + k, sizeof(id) - k, "%02x", rnd[i]);
	snprintf(id + k, sizeof(id) - k, ".oof@%s",
		 at != NULL ? at + 1 : "easd.invalid");
	g_mime_message_set_message_id(r, id);
	if (mid != NULL) {
		char *ir = arena_printf(a, "<%s>", mid);

		g_mime_object_set_header(GMIME_OBJECT(r), "In-Reply-To", ir,
					 NULL);
		g_mime_object_set_header(
			GMIME_OBJECT(r), "References",
			refs != NULL ? arena_printf(a, "%s %s", refs, ir) : ir,
			NULL);
	}
	/* RFC 3834 5: marked, so that other responders stay quiet */
	g_mime_object_set_header(GMIME_OBJECT(r), "Auto-Submitted",
				 "auto-replied", NULL);
	body = g_mime_text_part_new_with_subtype(msg->html ? "html" : "plain");
	arena_add_cleanup(a, unref_cb, body);
	g_mime_text_part_set_text(body, msg->text != NULL ? msg->text : "");
	g_mime_message_set_mime_part(r, GMIME_OBJECT(body));
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	text = g_mime_object_to_string(GMIME_OBJECT(r), fo);
	g_mime_format_options_free(fo);
	out = arena_strdup(a, text != NULL ? text : "");
	g_free(text);
	return out;
}

static const char *const audience_names[] = {"internal", "known external",
					     "external"};

int
mail_autoreply(struct store *s, struct arena *a, int64_t account_id,
	       const struct store_item *msg, const char *envelope_from,
	       const struct mail_autoreply_opts *opts, const char **why_r)
{
	struct store_account acc, sender_acc;
	struct store_oof oof;
	const char **aliases = NULL, *to = NULL, *data;
	size_t naliases = 0;
	enum store_oof_audience aud;
	struct store_item reply;
	GMimeMessage *m;
	enum store_error e;
	int64_t now = time_now();
	bool claimed, known, own = false;
	int local;

	*why_r = NULL;
	if ((e = store_oof_get(s, a, account_id, &oof)) != STORE_OK)
		goto fail;
	if (oof.state == 0 ||
	    (oof.state == 2 && (now < oof.start || now >= oof.end))) {
		*why_r = "out of office is not on";
		return 0;
	}
	m = parse(a, msg);
	if (m == NULL) {
		*why_r = "it cannot be parsed";
		return 0;
	}
	if (allowed(a, m, envelope_from, &to, why_r) == 0)
		return 0;
	if ((e = store_account_get_by_id(s, a, account_id, &acc)) != STORE_OK ||
	    (e = store_alias_list(s, a, account_id, &aliases, &naliases)) !=
		    STORE_OK)
		goto fail;
	if (is_mine(&acc, aliases, naliases, to)) {
		*why_r = "it is the account's own message";
		return 0;
	}
	if (!named_in(g_mime_message_get_to(m), &acc, aliases, naliases, 0) &&
	    !named_in(g_mime_message_get_cc(m), &acc, aliases, naliases, 0)) {
		*why_r = "the account is not in To or Cc (Bcc or a list)";
		return 0;
	}
	e = store_account_by_address(s, a, to, &sender_acc);
	local = e == STORE_OK && sender_acc.enabled;
	if (e != STORE_OK && e != STORE_NOTFOUND)
		goto fail;
	if (local) {
		aud = STORE_OOF_INTERNAL;
	} else {
		if ((e = store_contacts_have_address(s, account_id, to,
						     &known)) != STORE_OK)
			goto fail;
		aud = known ? STORE_OOF_KNOWN : STORE_OOF_EXTERNAL;
	}
	if (!oof.msg[aud].enabled) {
		*why_r = arena_printf(a, "no reply for %s senders",
				      audience_names[aud]);
		return 0;
	}
	if (!local && !opts->can_queue) {
		*why_r = "outside sender and no relay";
		return 0;
	}
	data = reply_text(a, &acc, to, m, &oof.msg[aud]);
	memset(&reply, 0, sizeof(reply));
	if (mail_item_from_mime(a, data, strlen(data), &reply, why_r) < 0)
		return 0;
	/* in the delivering transaction when there is one (sending), else
	 * in one of its own (LMTP delivers in autocommit) */
	own = !store_in_transaction(s);
	if (own && (e = store_begin(s, true)) != STORE_OK)
		goto fail;
	e = store_oof_claim(s, account_id, to, now,
			    opts->period > 0 ? opts->period
					     : MAIL_AUTOREPLY_PERIOD,
			    &claimed);
	if (e != STORE_OK)
		goto rollback;
	if (!claimed) {
		if (own)
			store_rollback(s);
		*why_r = "the sender was answered within the period";
		return 0;
	}
	if (local) {
		e = mail_deliver(s, a, sender_acc.id, 0, &reply, "", NULL);
	} else {
		const char *rcpt[1] = {to};

		e = store_outbound_add(
			s, account_id, acc.email, reply.meta.message_id, data,
			strlen(data), rcpt, 1, now, now + opts->retry_s);
	}
	if (e != STORE_OK)
		goto rollback;
	if (own && (e = store_commit(s)) != STORE_OK)
		goto rollback;
	log_info("oof: automatic reply from %s to %s (%s, %s)", acc.login, to,
		 audience_names[aud], local ? "delivered" : "queued");
	*why_r = "replied";
	return 1;
rollback:
	if (own)
		store_rollback(s);
fail:
	log_warn("oof: automatic reply for account %lld: %s",
		 (long long)account_id, store_error_str(e));
	*why_r = "store error";
	return -1;
}
