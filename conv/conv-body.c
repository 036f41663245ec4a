/* airsyncbase:Body for contacts, calendar, tasks and notes (MS-ASAIRS
 * 2.2.2.9): choice among the client's BodyPreferences, truncation at a
 * UTF-8 boundary, AllOrNone, EstimatedDataSize and Preview. */
#include <string.h>
#include <strings.h>

#include "conv-int.h"
#include "util.h"

/* Which of the client's preferences to answer. A preference for the
 * native type wins; otherwise the first plain or HTML one; RTF and MIME are
 * not produced for these classes, so they fall back to plain text. */
static struct conv_body_pref
body_choose(const struct conv_ctx *ctx, int native_type)
{
	struct conv_body_pref p;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.type = 1;
	if (ctx == NULL || ctx->nprefs == 0)
		return p;
	for (i = 0; i < ctx->nprefs; i++) {
		if (ctx->prefs[i].type == native_type ||
		    ctx->prefs[i].type == CONV_BODY_NATIVE) {
			p = ctx->prefs[i];
			p.type = native_type;
			return p;
		}
	}
	for (i = 0; i < ctx->nprefs; i++) {
		if (ctx->prefs[i].type == 1 || ctx->prefs[i].type == 2)
			return ctx->prefs[i];
	}
	p = ctx->prefs[0];
	p.type = 1;
	return p;
}

/* HTML -> plain text for a client that only takes plain: drop tags, turn
 * <br> and block ends into line breaks, decode the common entities. */
static char *
html_to_plain(struct arena *a, const char *s, size_t len, size_t *len_r)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{"&amp;", '&'},	 {"&lt;", '<'},	  {"&gt;", '>'},
		{"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '},
	};
	char *out = arena_alloc(a, len + 1);
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] == '<') {
			size_t j = i + 1;

			while (j < len && s[j] != '>')
				j++;
			if ((j - i >= 3 && strncasecmp(s + i, "<br", 3) == 0) ||
			    (j - i >= 3 && strncasecmp(s + i, "</p", 3) == 0) ||
			    (j - i >= 5 &&
			     strncasecmp(s + i, "</div", 5) == 0)) {
				out[o++] = '\r';
				out[o++] = '\n';
			}
			i = j < len ? j + 1 : len;
			continue;
		}
		if (s[i] == '&') {
			size_t k;

			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				size_t el = strlen(ents[k].ent);

				if (len - i >= el &&
				    strncasecmp(s + i, ents[k].ent, el) == 0) {
					out[o++] = ents[k].c;
					i += el;
					break;
				}
			}
			if (k < sizeof(ents) / sizeof(ents[0]))
				continue;
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

/* Largest prefix of at most max bytes that does not split a UTF-8
 * sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* First chars characters of plain text with runs of white space folded to
 * one space (MS-ASAIRS 2.2.2.37 Preview). */
static char *
make_preview(struct arena *a, const char *s, size_t len, int chars)
{
	char *out = arena_alloc(a, len + 1);
	size_t i = 0, o = 0;
	int n = 0;
	bool space = false;

	while (i < len && n < chars) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			i++;
			continue;
		}
		if (space) {
			out[o++] = ' ';
			space = false;
			if (++n >= chars)
				break;
		}
		do {
			out[o++] = s[i++];
		} while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80);
		n++;
	}
	out[o] = '\0';
	return out;
}

void
conv_add_body(struct arena *a, struct wbxml_node *appdata,
	      const struct conv_ctx *ctx, const char *text, size_t len,
	      int native_type)
{
	struct conv_body_pref p = body_choose(ctx, native_type);
	struct wbxml_node *body;
	const char *out = text;
	size_t out_len = len, cut;

	if (native_type == 2 && p.type == 1)
		out = html_to_plain(a, text, len, &out_len);
	else if (p.type != native_type)
		p.type = native_type;
	body = wbxml_add(a, appdata, EAS_AIRSYNCBASE_BODY);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_TYPE, p.type);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE,
		      (int64_t)out_len);
	cut = out_len;
	if (p.has_truncation && out_len > p.truncation_size) {
		wbxml_add_int(a, body, EAS_AIRSYNCBASE_TRUNCATED, 1);
		/* AllOrNone: a body that does not fit is not sent at all. */
		cut = p.all_or_none ? 0
				    : utf8_cut(out, out_len, p.truncation_size);
	}
	if (!p.has_truncation || p.truncation_size > 0) {
		if (cut > 0 || !p.has_truncation || out_len == 0)
			wbxml_add_textn(a, body, EAS_AIRSYNCBASE_DATA, out,
					cut);
	}
	if (p.preview > 0 && (ctx == NULL || ctx->version >= 140)) {
		const char *plain = out;
		size_t plain_len = out_len;

		if (p.type == 2)
			plain = html_to_plain(a, out, out_len, &plain_len);
		wbxml_add_text(a, body, EAS_AIRSYNCBASE_PREVIEW,
			       make_preview(a, plain, plain_len, p.preview));
	}
}

int
conv_body_pref_parse(const struct wbxml_node *n, struct conv_body_pref *p)
{
	int64_t v;

	memset(p, 0, sizeof(*p));
	if (wbxml_child_int(n, EAS_AIRSYNCBASE_TYPE, &v) != 1 || v < 1 || v > 4)
		return -1;
	p->type = (int)v;
	switch (wbxml_child_int(n, EAS_AIRSYNCBASE_TRUNCATIONSIZE, &v)) {
	case 1:
		if (v < 0 || v > UINT32_MAX)
			return -1;
		p->has_truncation = true;
		p->truncation_size = (uint32_t)v;
		break;
	case -1:
		return -1;
	default:
		break;
	}
	if (wbxml_child_int(n, EAS_AIRSYNCBASE_ALLORNONE, &v) == 1)
		p->all_or_none = v != 0;
	if (wbxml_child_int(n, EAS_AIRSYNCBASE_PREVIEW, &v) == 1) {
		if (v < 0 || v > 255)
			return -1;
		p->preview = (int)v;
	}
	return 0;
}

void
conv_body_prefs_from_options(const struct wbxml_node *options,
			     struct conv_ctx *ctx)
{
	const struct wbxml_node *n;
	int64_t v;

	if (options == NULL)
		return;
	wbxml_foreach(options, n)
	{
		if (n->tag == EAS_AIRSYNC_MIMESUPPORT &&
		    str_to_int64(wbxml_text(n), &v) == 0 && v >= 0 && v <= 2)
			ctx->mime_support = (int)v;
		if (n->tag == EAS_AIRSYNCBASE_BODYPREFERENCE &&
		    ctx->nprefs < CONV_MAX_BODY_PREFS &&
		    conv_body_pref_parse(n, &ctx->prefs[ctx->nprefs]) == 0)
			ctx->nprefs++;
	}
}
