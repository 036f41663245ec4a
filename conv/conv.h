/* Conversion between EAS ApplicationData trees and the stored standard
 * formats: vCard (contacts), iCalendar VEVENT/VTODO (calendar, tasks),
 * note text, RFC 5322 MIME (email). One conv-<class>.c per class.
 *
 * The store keeps the standard format in item.data, properties that have no
 * standard home in item.extra (a class-specific serialization owned by the
 * conv code), and the filter/list columns in item.meta. Conversions must be
 * lossless: what a client sends comes back unchanged. */
#ifndef EASD_CONV_H
#define EASD_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"
#include "wbxml.h"

/* airsyncbase:BodyPreference (MS-ASAIRS 2.2.2.7). */
struct conv_body_pref {
	int type; /* 1 plain, 2 HTML, 3 RTF, 4 MIME */
	bool has_truncation;
	uint32_t truncation_size;
	bool all_or_none;
	int preview; /* 0 = none, else characters (14.0+) */
};

#define CONV_MAX_BODY_PREFS 4

/* Read an airsyncbase:BodyPreference or BodyPartPreference element.
 * Returns 0, or -1 for a missing or out-of-range value. */
int conv_body_pref_parse(const struct wbxml_node *n, struct conv_body_pref *p);
struct conv_ctx;
/* The BodyPreference elements and MIMESupport of an ItemOperations or
 * Search Options (NULL: none) into ctx. An unreadable preference is
 * skipped: the item then comes with the default body, not without one. */
void conv_body_prefs_from_options(const struct wbxml_node *options,
				  struct conv_ctx *ctx);

struct conv_tz; /* conv-tz.h */

/* The account setting (store_policy_get/set) that names the zone of an
 * account's date-only values when its device's is not known: an IANA name
 * such as "Europe/Berlin". Devices do not see it (it is no MS-ASPROV
 * policy). */
#define CONV_ZONE_SETTING "easd.timezone"

/* What the requesting device asked for and can take. */
struct conv_ctx {
	unsigned version; /* 121, 140, 141, 160, 161 */
	struct conv_body_pref prefs[CONV_MAX_BODY_PREFS];
	size_t nprefs;
	struct conv_body_pref part_prefs[CONV_MAX_BODY_PREFS]; /* 14.1+ */
	size_t npart_prefs;
	int mime_support; /* 0 never, 1 S/MIME only, 2 always */
	/* Sync Supported: tags the client handles; when set, a Change keeps
	 * (ghosts) every property whose tag is not listed. */
	const uint16_t *supported;
	size_t nsupported;
	/* For FileReferences and ServerIds inside the item. */
	const char *item_server_id;
	/* The folder the item is in (EAS_FOLDER_DRAFTS: email is a draft). */
	int folder_type;
	/* The zone of date-only values (birthdays, anniversaries, all-day
	 * events without a zone of their own, task dates). Clients send the
	 * local midnight of the date in UTC and expect it back so (digest
	 * 8.2), and no one UTC instant is the same date from UTC-11 to
	 * UTC+14: the device's zone decides. NULL = the server's zone. */
	const struct conv_tz *date_tz;
	/* What the quirk table (server/quirks.c) knows of the client: */
	bool dates_as_utc;	 /* it writes and reads date-only values as
				    the UTC day, not as local midnight */
	bool empty_picture_kept; /* an empty contacts:Picture in a Change
				    means "unchanged", not "cleared" */
};

/* Client ApplicationData -> store item for a class. old is the stored
 * version on a Change (NULL on Add) so ghosted properties survive. Returns
 * 0, or -1 with *error_r (the item gets Sync status 6). item_r->cls, data,
 * extra and meta are set; ids are left alone. */
int conv_from_eas(struct arena *a, enum store_class cls,
		  const struct wbxml_node *appdata, const struct conv_ctx *ctx,
		  const struct store_item *old, struct store_item *item_r,
		  const char **error_r);

/* One occurrence of a recurring event (16.x airsyncbase:InstanceId in a
 * Sync Change or Delete, MS-ASAIRS 2.2.2.25): appdata NULL deletes it (an
 * EXDATE; an override of it goes), else its properties are changed (the
 * RECURRENCE-ID override is made or updated; elements the client leaves
 * out stay as the series has them). The series itself stays. old is the
 * stored series. instance_id is the original start (compact or ISO form);
 * *instance_r gets it as UTC seconds, for the reply. Returns 0, or -1 with
 * *error_r (Sync status 6: not a calendar item, not recurring, bad
 * InstanceId or data). */
int conv_instance_from_eas(struct arena *a, enum store_class cls,
			   const char *instance_id,
			   const struct wbxml_node *appdata,
			   const struct conv_ctx *ctx,
			   const struct store_item *old,
			   struct store_item *item_r, int64_t *instance_r,
			   const char **error_r);

/* Store item -> ApplicationData children appended to appdata, as the
 * version and body preferences in ctx ask. Returns 0, or -1 with *error_r
 * when the stored data cannot be read (the item is skipped and logged). */
int conv_to_eas(struct arena *a, const struct store_item *item,
		const struct conv_ctx *ctx, struct wbxml_node *appdata,
		const char **error_r);

/* A standard-format object (one vCard, one VCALENDAR with a VEVENT or
 * VTODO, a note text, an RFC 5322 message) -> store item with meta filled
 * in: for import, delivery and tests. Returns 0 or -1 with *error_r. */
int conv_from_standard(struct arena *a, enum store_class cls, const char *data,
		       size_t len, struct store_item *item_r,
		       const char **error_r);

/* The standard-format text of an item for export (the stored data with the
 * extra properties folded back in as X- properties where needed). */
int conv_to_standard(struct arena *a, const struct store_item *item,
		     const char **data_r, size_t *len_r, const char **error_r);

/* Per-class entry points behind the dispatchers above. */
int conv_contact_from_eas(struct arena *a, const struct wbxml_node *appdata,
			  const struct conv_ctx *ctx,
			  const struct store_item *old,
			  struct store_item *item_r, const char **error_r);
int conv_contact_to_eas(struct arena *a, const struct store_item *item,
			const struct conv_ctx *ctx, struct wbxml_node *appdata,
			const char **error_r);
int conv_calendar_from_eas(struct arena *a, const struct wbxml_node *appdata,
			   const struct conv_ctx *ctx,
			   const struct store_item *old,
			   struct store_item *item_r, const char **error_r);
int conv_calendar_to_eas(struct arena *a, const struct store_item *item,
			 const struct conv_ctx *ctx, struct wbxml_node *appdata,
			 const char **error_r);
int conv_task_from_eas(struct arena *a, const struct wbxml_node *appdata,
		       const struct conv_ctx *ctx, const struct store_item *old,
		       struct store_item *item_r, const char **error_r);
int conv_task_to_eas(struct arena *a, const struct store_item *item,
		     const struct conv_ctx *ctx, struct wbxml_node *appdata,
		     const char **error_r);
int conv_note_from_eas(struct arena *a, const struct wbxml_node *appdata,
		       const struct conv_ctx *ctx, const struct store_item *old,
		       struct store_item *item_r, const char **error_r);
int conv_note_to_eas(struct arena *a, const struct store_item *item,
		     const struct conv_ctx *ctx, struct wbxml_node *appdata,
		     const char **error_r);
/* Email: the server sends whole messages; the client changes only flags.
 * conv_email_change applies a client Change (Read, Flag, Categories) to the
 * item's meta and extra. */
int conv_email_to_eas(struct arena *a, const struct store_item *item,
		      const struct conv_ctx *ctx, struct wbxml_node *appdata,
		      const char **error_r);
int conv_email_change(struct arena *a, const struct wbxml_node *appdata,
		      const struct store_item *old, struct store_item *item_r,
		      const char **error_r);
/* A 16.x draft in the Drafts folder (MS-ASEMAIL IsDraft): Add (old NULL)
 * or Change of To, Cc, Bcc, Subject, Importance, Body and attachments
 * (airsyncbase:Attachments Add / Delete by FileReference). from is the
 * account's "Name <addr>". *added_r (in a) gets the ClientId of each added
 * attachment in order: they are the last *nadded_r attachments of the new
 * item. *send_r: the Change carries email2:Send. */
int conv_draft_from_eas(struct arena *a, const struct wbxml_node *appdata,
			const char *from, const struct store_item *old,
			struct store_item *item_r, const char ***added_r,
			size_t *nadded_r, bool *send_r, const char **error_r);
/* Email's Change as the server sends it to other devices (flags only). */
int conv_email_flags_to_eas(struct arena *a, const struct store_item *item,
			    const struct conv_ctx *ctx,
			    struct wbxml_node *appdata, const char **error_r);

/* A text in the form a client asked for: HTML as plain text, or plain
 * text as a small HTML document (or the text itself when it already is
 * in that form). In a. */
const char *conv_text_as(struct arena *a, const char *text, bool is_html,
			 bool want_html);

/* Shared body helper: append an airsyncbase:Body for a text of native type
 * (1 plain, 2 HTML) honouring ctx->prefs (type choice, truncation at a
 * UTF-8 boundary, AllOrNone, Preview). */
void conv_add_body(struct arena *a, struct wbxml_node *appdata,
		   const struct conv_ctx *ctx, const char *text, size_t len,
		   int native_type);

#endif
