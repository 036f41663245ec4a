/* The WBXML codec: EAS request and response bodies <-> a node tree.
 *
 * A node is an element named by its code page and token (a "tag", see
 * wbxml-tags.h, generated from eas-codepages.tsv). It holds either child
 * elements, or text/opaque bytes, or nothing. Nodes live in an arena; the
 * codec knows nothing of HTTP or the store. */
#ifndef EASD_WBXML_H
#define EASD_WBXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "wbxml-tags.h" /* generated: EAS_<PAGE>_<TAG> constants */

#define WBXML_TAG(page, token) ((uint16_t)(((page) << 8) | (token)))
#define WBXML_PAGE(tag) ((unsigned)((tag) >> 8))
#define WBXML_TOKEN(tag) ((unsigned)((tag)&0xff))
#define WBXML_MAX_PAGE 25

struct wbxml_node {
	struct wbxml_node *next;  /* next sibling */
	struct wbxml_node *child; /* first child */
	struct wbxml_node *last;  /* last child, for appending in O(1) */
	const uint8_t *data;	  /* text or opaque bytes, NULL if none;
				     always followed by a NUL byte */
	size_t len;
	uint16_t tag;
	bool opaque; /* data is (to be sent as) OPAQUE */
};

struct wbxml_limits {
	unsigned max_depth; /* nesting */
	size_t max_nodes;   /* elements in the document */
	size_t max_data;    /* bytes of one string or opaque */
};

/* Sensible limits for a request body: depth 64, 200,000 nodes, 64 MiB. */
extern const struct wbxml_limits wbxml_limits_default;

/* Decode an EAS WBXML document (version 1.3, public id 1, UTF-8, empty
 * string table, no attributes). Returns 0 and the root element in *root_r,
 * or -1 with *error_r (in the arena) naming the byte offset and reason.
 * Text nodes may point into the input, which must outlive the tree. */
int wbxml_decode(struct arena *a, const uint8_t *p, size_t len,
		 const struct wbxml_limits *limits, struct wbxml_node **root_r,
		 const char **error_r);

/* Decode a fragment without the 4-byte header (for stored fragments and
 * fixtures); the result is a synthetic list: *first_r and its siblings. */
int wbxml_decode_fragment(struct arena *a, const uint8_t *p, size_t len,
			  const struct wbxml_limits *limits,
			  struct wbxml_node **first_r, const char **error_r);

/* Append the WBXML encoding of root (with the header) to out. Returns 0,
 * or -1 when out's limit was reached. */
int wbxml_encode(const struct wbxml_node *root, struct buf *out);

/* Append to out what wbxml_encode gives for a chain of elements tags[0] >
 * tags[1] > ... > tags[n-1] whose last holds, as its only child, the root
 * of inner (a document wbxml_encode made): the wrappers around the encoded
 * bytes, without encoding them again. The tags must be of code page 0,
 * where inner's encoding starts. Returns 0, or -1 when a tag is of another
 * page, inner is not such a document, or out's limit was reached. */
int wbxml_encode_wrap(const uint16_t *tags, size_t n, const uint8_t *inner,
		      size_t inner_len, struct buf *out);

/* --- reading a tree --- */

/* First child with this tag, or NULL. */
const struct wbxml_node *wbxml_child(const struct wbxml_node *n, uint16_t tag);
/* Next sibling after n with the same tag as n, or NULL. */
const struct wbxml_node *wbxml_next_same(const struct wbxml_node *n);
#define wbxml_foreach(parent, n)                                               \
	for ((n) = (parent)->child; (n) != NULL; (n) = (n)->next)

/* Text of n ("" when it has none). */
const char *wbxml_text(const struct wbxml_node *n);
/* Text of the first child with tag, or NULL when there is no such child. */
const char *wbxml_child_text(const struct wbxml_node *n, uint16_t tag);
/* Integer value of the child: returns 1 and sets *r, 0 when absent, -1 when
 * present but not a decimal integer. */
int wbxml_child_int(const struct wbxml_node *n, uint16_t tag, int64_t *r);
/* Whether n has no text and no children. */
bool wbxml_is_empty(const struct wbxml_node *n);
size_t wbxml_count_children(const struct wbxml_node *n);

/* --- building a tree (everything allocated in the arena) --- */

struct wbxml_node *wbxml_new(struct arena *a, uint16_t tag);
void wbxml_append(struct wbxml_node *parent, struct wbxml_node *child);
/* Container or empty element under parent (parent may be NULL). */
struct wbxml_node *wbxml_add(struct arena *a, struct wbxml_node *parent,
			     uint16_t tag);
/* Text element; the string is copied. */
struct wbxml_node *wbxml_add_text(struct arena *a, struct wbxml_node *parent,
				  uint16_t tag, const char *text);
struct wbxml_node *wbxml_add_textn(struct arena *a, struct wbxml_node *parent,
				   uint16_t tag, const char *text, size_t len);
struct wbxml_node *wbxml_add_textf(struct arena *a, struct wbxml_node *parent,
				   uint16_t tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct wbxml_node *wbxml_add_int(struct arena *a, struct wbxml_node *parent,
				 uint16_t tag, int64_t value);
/* Opaque element; the bytes are copied. */
struct wbxml_node *wbxml_add_opaque(struct arena *a, struct wbxml_node *parent,
				    uint16_t tag, const void *p, size_t len);
/* Text or opaque element pointing at data that outlives the tree (no copy;
 * data[len] must be readable and NUL for text). */
struct wbxml_node *wbxml_add_ref(struct arena *a, struct wbxml_node *parent,
				 uint16_t tag, const void *data, size_t len,
				 bool opaque);
/* Deep copy of a subtree into the arena. */
struct wbxml_node *wbxml_clone(struct arena *a, const struct wbxml_node *n);

/* --- names --- */

/* "Sync", or NULL for an unknown tag. */
const char *wbxml_tag_name(uint16_t tag);
/* "AirSync", or NULL. The XML namespace of a page is its name plus ':'. */
const char *wbxml_page_name(unsigned page);
/* Find the tag of page_name:tag_name; returns 0 or -1. */
int wbxml_tag_lookup(const char *page_name, const char *tag_name,
		     uint16_t *tag_r);

/* --- readable XML through libxml2 (logs, tools, tests) --- */

/* Append an indented XML rendering of the tree to out; pages become XML
 * namespaces ("AirSync:"); opaque data is shown base64-encoded with an
 * attribute marking it. Returns 0, or -1 on out's limit. */
int wbxml_to_xml(const struct wbxml_node *root, struct buf *out);
/* Parse such XML (or libwbxml's, with the xmlns="Page:" convention) back
 * into a tree. Returns 0, or -1 with *error_r. */
int wbxml_from_xml(struct arena *a, const char *xml, size_t len,
		   struct wbxml_node **root_r, const char **error_r);

#endif
