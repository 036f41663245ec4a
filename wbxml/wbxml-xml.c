/* Tree <-> readable XML through libxml2, for logs, tools and tests.
 *
 * Convention (read and written): each code page is the XML namespace
 * "<Page>:" (libwbxml's form). The root's page is the default namespace;
 * other pages get a prefix, the page name in lower case, declared on the
 * root (xmlns:airsyncbase="AirSyncBase:"). Data that XML cannot carry as
 * text is written base64-encoded with a marker attribute:
 *   opaque="base64"  the element holds OPAQUE bytes (WBXML OPAQUE);
 *   text="base64"    STR_I text that is not valid UTF-8 or holds control
 *                    characters XML 1.0 forbids.
 * Whitespace-only text between child elements is indentation and ignored;
 * the text of a leaf element is kept byte for byte. */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util.h"
#include "wbxml.h"
#include "xalloc.h"

/* --- tree -> XML --- */

/* Whether XML 1.0 can carry these bytes as character data: valid UTF-8,
 * no NUL and no C0 controls other than tab, LF and CR. */
static bool
xml_text_ok(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = p[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF, U+FFFE/FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    cp == 0xfffe || cp == 0xffff)
			return false;
		i += n + 1;
	}
	return true;
}

static void
xml_lower(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z'
					? src[i] - 'A' + 'a'
					: src[i]);
	dst[i] = '\0';
}

struct xml_walk {
	const struct wbxml_node **src;
	xmlNodePtr *dst;
	size_t depth, cap;
};

static void
xml_walk_push(struct xml_walk *w, const struct wbxml_node *s, xmlNodePtr d)
{
	if (w->depth == w->cap) {
		w->cap = w->cap == 0 ? 32 : w->cap * 2;
		w->src = xrealloc(w->src, w->cap * sizeof(*w->src));
		w->dst = xrealloc(w->dst, w->cap * sizeof(*w->dst));
	}
	w->src[w->depth] = s;
	w->dst[w->depth] = d;
	w->depth++;
}

/* Elements libwbxml always encodes as OPAQUE (tsv notes); its XML carries
 * them base64-encoded without our marker attribute. */
static const uint16_t xml_libwbxml_opaque[] = {
	WBXML_TAG(10, 0x1C), /* ResolveRecipients:Data */
	WBXML_TAG(16, 0x12), /* GAL:Data */
	WBXML_TAG(21, 0x10), /* ComposeMail:Mime */
};

static bool
xml_libwbxml_opaque_tag(uint16_t tag)
{
	for (size_t i = 0; i < N_ELEMENTS(xml_libwbxml_opaque); i++)
		if (tag == xml_libwbxml_opaque[i])
			return true;
	return false;
}

static void
xml_set_data(xmlNodePtr x, const struct wbxml_node *n)
{
	const char *attr = NULL;
	char *b64;

	if (n->opaque)
		attr = "opaque";
	else if (!xml_text_ok(n->data, n->len) ||
		 xml_libwbxml_opaque_tag(n->tag))
		attr = "text"; /* plain text would read back as base64 */
	if (attr == NULL) {
		xmlNodeAddContentLen(x, BAD_CAST n->data, (int)n->len);
		return;
	}
	b64 = xmalloc(base64_encoded_len(n->len) + 1);
	base64_encode(n->data, n->len, b64);
	xmlNewProp(x, BAD_CAST attr, BAD_CAST "base64");
	xmlNodeAddContent(x, BAD_CAST b64);
	free(b64);
}

int
wbxml_to_xml(const struct wbxml_node *root, struct buf *out)
{
	xmlNsPtr ns[WBXML_MAX_PAGE + 1] = {NULL};
	bool used[WBXML_MAX_PAGE + 1] = {false};
	struct xml_walk w = {NULL, NULL, 0, 0};
	const struct wbxml_node *n;
	xmlDocPtr doc;
	xmlNodePtr xroot = NULL;
	xmlChar *mem = NULL;
	int size = 0, ret = -1;
	unsigned root_page = WBXML_PAGE(root->tag);

	doc = xmlNewDoc(BAD_CAST "1.0");
	/* Pass 1: which pages occur, so their prefixes sit on the root. */
	for (n = root; n != NULL;) {
		if (WBXML_PAGE(n->tag) <= WBXML_MAX_PAGE)
			used[WBXML_PAGE(n->tag)] = true;
		if (n->child != NULL) {
			xml_walk_push(&w, n, NULL);
			n = n->child;
			continue;
		}
		while (n != root && n->next == NULL && w.depth > 0)
			n = w.src[--w.depth];
		n = n == root ? NULL : n->next;
	}
	w.depth = 0;

	/* Pass 2: build the libxml2 tree. */
	for (n = root; n != NULL;) {
		const char *name = wbxml_tag_name(n->tag);
		unsigned page = WBXML_PAGE(n->tag);
		char unknown[32];
		xmlNodePtr x;

		if (name == NULL) {
			/* Only hand-built trees get here; keep them visible. */
			snprintf(unknown, sizeof(unknown), "Unknown_%02x_%02x",
				 page, WBXML_TOKEN(n->tag));
			name = unknown;
		}
		if (xroot == NULL) {
			x = xroot =
				xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);
			xmlDocSetRootElement(doc, xroot);
			if (root_page <= WBXML_MAX_PAGE) {
				char href[64];

				snprintf(href, sizeof(href),
					 "%s:", wbxml_page_name(root_page));
				ns[root_page] =
					xmlNewNs(xroot, BAD_CAST href, NULL);
			}
			for (unsigned p = 0; p <= WBXML_MAX_PAGE; p++) {
				char href[64], prefix[64];

				if (!used[p] || p == root_page)
					continue;
				snprintf(href, sizeof(href),
					 "%s:", wbxml_page_name(p));
				xml_lower(prefix, sizeof(prefix),
					  wbxml_page_name(p));
				ns[p] = xmlNewNs(xroot, BAD_CAST href,
						 BAD_CAST prefix);
			}
		} else {
			x = xmlNewChild(w.dst[w.depth - 1], NULL, BAD_CAST name,
					NULL);
		}
		xmlSetNs(x, page <= WBXML_MAX_PAGE ? ns[page] : NULL);
		if (n->len > 0)
			xml_set_data(x, n);
		if (n->child != NULL && n->len == 0) {
			xml_walk_push(&w, n, x);
			n = n->child;
			continue;
		}
		while (n != root && n->next == NULL && w.depth > 0)
			n = w.src[--w.depth];
		n = n == root ? NULL : n->next;
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "utf-8", 1);
	if (mem != NULL && size >= 0)
		ret = buf_append(out, mem, (size_t)size);
	xmlFree(mem);
	xmlFreeDoc(doc);
	free(w.src);
	free(w.dst);
	return ret;
}

/* --- XML -> tree --- */

/* libwbxml's spellings where they differ from MS-ASWBXML (the notes
 * column of eas-codepages.tsv). Case-only differences (DTStamp, TimeZone,
 * UTCDueDate, MIME) and the Recurrence_ prefix are handled by rule. */
static const struct {
	uint8_t page, token;
	const char *name;
} xml_aliases[] = {
	{1, 0x07, "AssistantTelephoneNumber"},
	{1, 0x0D, "BusinessCity"},
	{1, 0x0E, "BusinessCountry"},
	{1, 0x0F, "BusinessPostalCode"},
	{1, 0x10, "BusinessState"},
	{1, 0x11, "BusinessStreet"},
	{1, 0x21, "HomeCity"},
	{1, 0x22, "HomeCountry"},
	{1, 0x23, "HomePostalCode"},
	{1, 0x24, "HomeState"},
	{1, 0x25, "HomeStreet"},
	{1, 0x2D, "OtherCity"},
	{1, 0x2E, "OtherCountry"},
	{1, 0x2F, "OtherPostalCode"},
	{1, 0x30, "OtherState"},
	{1, 0x31, "OtherStreet"},
	{2, 0x19, "Reply-To"},
	{2, 0x3B, "FlagStatus"},
	{4, 0x09, "Attendee_Email"},
	{4, 0x0A, "Attendee_Name"},
	{4, 0x10, "Compressed_RTF"},
	{4, 0x15, "Exception_Deleted"},
	{4, 0x16, "Exception_StartTime"},
	{4, 0x19, "Organizer_Email"},
	{4, 0x1A, "Organizer_Name"},
	{4, 0x29, "Attendee_Status"},
	{4, 0x2A, "Attendee_Type"},
	{14, 0x10, "DeviceEncryptionEnabled"},
	{18, 0x2B, "ihsManagementInformation"},
	{21, 0x17, "ForwardeeName"},
	{21, 0x18, "ForwardeeEmail"},
	{24, 0x12, "RMOwner"},
	{24, 0x18, "RemoveRightsManagementDistribution"},
};

static int
xml_lookup(unsigned page, const char *name, uint16_t *tag_r)
{
	const char *pname = wbxml_page_name(page);

	if (wbxml_tag_lookup(pname, name, tag_r) == 0)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(xml_aliases); i++) {
		if (xml_aliases[i].page == page &&
		    strcmp(xml_aliases[i].name, name) == 0) {
			*tag_r = WBXML_TAG(page, xml_aliases[i].token);
			return 0;
		}
	}
	if (strncmp(name, "Recurrence_", 11) == 0 &&
	    wbxml_tag_lookup(pname, name + 11, tag_r) == 0)
		return 0;
	for (unsigned t = 5; t < 64; t++) {
		const char *tn = wbxml_tag_name(WBXML_TAG(page, t));

		if (tn != NULL && str_ieq(tn, name)) {
			*tag_r = WBXML_TAG(page, t);
			return 0;
		}
	}
	return -1;
}

/* The page of an element from its namespace "Page:" (or "Page"). */
static int
xml_page(xmlNodePtr x, unsigned parent_page, unsigned *page_r)
{
	char name[64];
	size_t n;

	if (x->ns == NULL || x->ns->href == NULL) {
		*page_r = parent_page;
		return parent_page <= WBXML_MAX_PAGE ? 0 : -1;
	}
	n = strlen((const char *)x->ns->href);
	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, x->ns->href, n + 1);
	if (name[n - 1] == ':')
		name[n - 1] = '\0';
	for (unsigned p = 0; p <= WBXML_MAX_PAGE; p++) {
		/* libwbxml's examples spell GAL as "Gal:". */
		if (str_ieq(wbxml_page_name(p), name)) {
			*page_r = p;
			return 0;
		}
	}
	return -1;
}

static bool
xml_is_blank(const xmlChar *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	}
	return true;
}

/* Fill n from x's attributes and character data. */
static int
xml_node_data(struct arena *a, xmlNodePtr x, struct wbxml_node *n,
	      bool *has_elems_r, const char **error_r)
{
	xmlChar *attr_opaque = xmlGetProp(x, BAD_CAST "opaque");
	xmlChar *attr_text = xmlGetProp(x, BAD_CAST "text");
	struct buf text;
	bool has_elems = false, b64 = false;
	int ret = -1;

	buf_init(&text, 0);
	for (xmlNodePtr c = x->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			has_elems = true;
		else if (c->type == XML_TEXT_NODE ||
			 c->type == XML_CDATA_SECTION_NODE)
			buf_puts(&text, (const char *)c->content);
		else if (c->type == XML_ENTITY_REF_NODE) {
			*error_r = arena_printf(a,
						"line %d: entity "
						"references are not supported",
						c->line);
			goto out;
		}
	}
	if (has_elems) {
		if (text.len > 0 && !xml_is_blank(text.data)) {
			*error_r = arena_printf(a,
						"line %d: <%s> mixes text "
						"and elements",
						x->line, (const char *)x->name);
			goto out;
		}
		*has_elems_r = true;
		ret = 0;
		goto out;
	}
	*has_elems_r = false;
	if (attr_opaque != NULL || attr_text != NULL) {
		const xmlChar *v =
			attr_opaque != NULL ? attr_opaque : attr_text;

		if (strcmp((const char *)v, "base64") != 0) {
			*error_r = arena_printf(a,
						"line %d: unknown encoding "
						"\"%s\"",
						x->line, (const char *)v);
			goto out;
		}
		b64 = true;
		n->opaque = attr_opaque != NULL;
	} else if (xml_libwbxml_opaque_tag(n->tag)) {
		b64 = n->opaque = true;
	}
	if (b64) {
		size_t j = 0;
		uint8_t *q;
		long dl;

		/* Base64 may be wrapped; drop whitespace first. */
		for (size_t i = 0; i < text.len; i++)
			if (strchr(" \t\r\n", text.data[i]) == NULL)
				text.data[j++] = text.data[i];
		q = arena_alloc(a, base64_decoded_max(j) + 1);
		dl = base64_decode((const char *)text.data, j, q);
		if (dl < 0) {
			*error_r = arena_printf(a,
						"line %d: bad base64 in "
						"<%s>",
						x->line, (const char *)x->name);
			goto out;
		}
		q[dl] = '\0';
		n->data = q;
		n->len = (size_t)dl;
	} else if (text.len > 0) {
		n->data = arena_memdup(a, text.data, text.len);
		n->len = text.len;
	}
	ret = 0;
out:
	xmlFree(attr_opaque);
	xmlFree(attr_text);
	buf_deinit(&text);
	return ret;
}

int
wbxml_from_xml(struct arena *a, const char *xml, size_t len,
	       struct wbxml_node **root_r, const char **error_r)
{
	xmlDocPtr doc;
	xmlNodePtr x;
	struct {
		xmlNodePtr x;
		struct wbxml_node *n;
		unsigned page;
	} *stack = NULL;
	size_t depth = 0, cap = 0;
	struct wbxml_node *root = NULL;
	/* A root without a namespace is on page 0 (AirSync), as in
	 * libwbxml; below it an element inherits its parent's page. */
	unsigned parent_page = 0;
	int ret = -1;

	*root_r = NULL;
	if (len > INT32_MAX) {
		*error_r = "XML document too large";
		return -1;
	}
	/* No NOENT (no entity expansion) and no DTD loading or network. */
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = xmlGetLastError();

		*error_r = arena_printf(
			a, "XML parse error%s%s", e != NULL ? ": " : "",
			e != NULL && e->message != NULL ? e->message : "");
		return -1;
	}
	x = xmlDocGetRootElement(doc);
	if (x == NULL) {
		*error_r = "XML document has no root element";
		goto out;
	}
	/* Iterative pre-order walk over the element nodes. */
	while (x != NULL) {
		unsigned page;
		uint16_t tag;
		struct wbxml_node *n;
		bool has_elems;

		if (x->type != XML_ELEMENT_NODE)
			goto next;
		if (xml_page(x, parent_page, &page) < 0) {
			*error_r = arena_printf(a,
						"line %d: <%s>: unknown or "
						"missing namespace (expected "
						"xmlns=\"Page:\")",
						x->line, (const char *)x->name);
			goto out;
		}
		if (xml_lookup(page, (const char *)x->name, &tag) < 0) {
			*error_r = arena_printf(a,
						"line %d: <%s> is not in "
						"code page %s",
						x->line, (const char *)x->name,
						wbxml_page_name(page));
			goto out;
		}
		n = wbxml_add(a, depth > 0 ? stack[depth - 1].n : NULL, tag);
		if (root == NULL)
			root = n;
		if (xml_node_data(a, x, n, &has_elems, error_r) < 0)
			goto out;
		if (has_elems) {
			if (depth == cap) {
				cap = cap == 0 ? 32 : cap * 2;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[depth].x = x;
			stack[depth].n = n;
			stack[depth].page = page;
			depth++;
			parent_page = page;
			x = x->children;
			continue;
		}
	next:
		while (x->next == NULL && depth > 0) {
			x = stack[--depth].x;
			parent_page = depth > 0 ? stack[depth - 1].page : 0;
		}
		x = depth == 0 ? NULL : x->next;
	}
	*root_r = root;
	ret = 0;
out:
	free(stack);
	xmlFreeDoc(doc);
	return ret;
}
