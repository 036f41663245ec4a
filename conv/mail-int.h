/* Private to conv/: the parsed form of a message's extra record, shared by
 * mail.c (GMime intake, attachments, body texts) and conv-mail.c (the
 * Email class). */
#ifndef EASD_MAIL_INT_H
#define EASD_MAIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmime/gmime.h>

#include "arena.h"
#include "mail.h"
#include "store.h"

#define MAIL_MAX_CATEGORIES 300
#define MAIL_MAX_FLAG_FIELDS 32
#define MAIL_MAX_FIELD 1024

struct mail_att {
	const char *path, *name, *ctype, *cid;
	int64_t size;
	bool is_inline;
	int method; /* 1 normal, 5 embedded message */
};

struct mail_body_loc {
	bool present;
	int64_t off, len;
	int encoding; /* GMimeContentEncoding */
	int64_t utf8_size;
	const char *charset;
};

struct mail_flag_field {
	uint16_t tag;
	const char *value;
};

struct mail_info {
	const char *from, *to, *cc, *bcc, *reply_to, *subject, *thread_topic;
	const char *display_to, *message_class, *content_class;
	int importance, cpid, native_type;
	bool smime;
	bool has_conv_id, has_conv_index;
	uint8_t conv_id[16], conv_index[22];
	struct mail_body_loc text, html;
	struct mail_body_loc cal; /* a meeting message's text/calendar */
	struct mail_att *atts;
	size_t natts, atts_cap;
	/* mutable */
	const char **categories;
	size_t ncategories;
	struct mail_flag_field *flag;
	size_t nflag;
	int last_verb;
	const char *last_verb_time;
};

/* How mail_item_parse reads a message. */
enum mail_parser {
	MAIL_PARSE_ANY,	  /* the light reader when it can, else GMime */
	MAIL_PARSE_GMIME, /* GMime alone */
	MAIL_PARSE_LIGHT  /* the light reader alone */
};

/* mail_item_from_mime with the reader chosen and now standing for the
 * current time (the date of a message without one): the light reader and
 * GMime store the same, which the tests and the fuzzer check. 0, -1 with
 * *error_r, or 1 when how is MAIL_PARSE_LIGHT and the message is not one
 * for the light reader. */
int mail_item_parse(struct arena *a, const char *data, size_t len,
		    enum mail_parser how, int64_t now,
		    struct store_item *item_r, const char **error_r);

/* Parse a message with GMime; the message is released with the arena.
 * NULL when GMime cannot make a message of it. */
GMimeMessage *mail_mime_parse(struct arena *a, const char *data, size_t len);
/* The part at a path like "1.2" (as attachment records name them), or
 * NULL. */
GMimeObject *mail_part_by_path(GMimeObject *obj, const char *path);

/* The item's info from its extra record, re-parsing the message when the
 * record is missing or of another format version. 0, or -1 with *error_r. */
int mail_info_get(struct arena *a, const struct store_item *item,
		  struct mail_info *mi, const char **error_r);
/* Serialize info into a new extra record (in a). */
void mail_info_write(struct arena *a, const struct mail_info *mi,
		     const uint8_t **extra_r, size_t *len_r);

/* The decoded UTF-8 text of a body part located by loc ("" when absent). */
const char *mail_body_text(struct arena *a, const struct store_item *item,
			   const struct mail_body_loc *loc, size_t *len_r);
/* Plain text of the message: the text part, else the HTML one as text. */
const char *mail_plain_text(struct arena *a, const struct store_item *item,
			    const struct mail_info *mi, size_t *len_r);
/* Plain text -> a small HTML document; HTML -> plain text (tags dropped,
 * entities decoded, block ends as line breaks). */
char *mail_plain_to_html(struct arena *a, const char *s, size_t len,
			 size_t *len_r);
char *mail_html_to_text(struct arena *a, const char *s, size_t len,
			size_t *len_r);
/* Whether len bytes are UTF-8 without NUL, as g_utf8_validate tells, but
 * quickly for the ASCII that mail mostly is. */
bool mail_utf8_valid(const char *s, size_t len);
/* Preview (MS-ASAIRS 2.2.2.37): up to n characters of plain text, white
 * space collapsed. */
const char *mail_preview(struct arena *a, const char *text, size_t len, int n);

#endif
