/* ResolveRecipients (MS-ASCMD 2.2.1.15): each To against the GAL and the
 * user's own contacts, ambiguous names as several recipients (at most
 * MaxAmbiguousRecipients), certificates (none are stored: Status 7 "no
 * valid certificate", MS-ASCMD 2.2.3.177.12), 14.1 pictures, and for a
 * recipient that resolves to one local account its MergedFreeBusy over
 * StartTime-EndTime in 30-minute slots from the free/busy view. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "freebusy.h"
#include "log.h"
#include "search.h"
#include "server.h"
#include "util.h"
#include "vcard.h"

/* MS-ASCMD 2.2.3.177.12 */
#define RR_OK 1
#define RR_PROTOCOL_ERROR 5
#define RR_SERVER_ERROR 6
#define RR_RESOLVED 1
#define RR_AMBIGUOUS 2
#define RR_AMBIGUOUS_PARTIAL 3
#define RR_UNRESOLVED 4
#define RR_CERT_NONE 7
/* Availability (MS-ASCMD 2.2.2 global codes 160-163) */
#define RR_AVAIL_OK 1
#define RR_AVAIL_FAILURE 163
/* Recipient Type (MS-ASCMD 2.2.3.186.5) */
#define RR_TYPE_GAL 1
#define RR_TYPE_CONTACT 2

#define RR_MAX_TO 100
#define RR_MAX_CANDIDATES 100
#define RR_DEFAULT_AMBIGUOUS 20
#define RR_SLOT 1800

struct rr_recipient {
	int type;
	const char *name, *email;
	int64_t account_id; /* local account, or 0 */
	struct store_gal_entry gal;
};

struct rr_options {
	int cert_retrieval; /* 1 none, 2 full, 3 mini */
	size_t max_ambiguous;
	bool availability;
	int64_t start, end;
	struct search_pictures pics;
};

/* "Name <addr>" -> addr; a bare address or name as it is. */
static const char *
address_of(struct arena *a, const char *to)
{
	const char *lt = strrchr(to, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
	return to;
}

static void
add_candidate(struct rr_recipient *list, size_t *n, size_t *total,
	      const struct rr_recipient *r)
{
	for (size_t i = 0; i < *n; i++) {
		if (list[i].email != NULL && r->email != NULL &&
		    strcasecmp(list[i].email, r->email) == 0)
			return; /* a contact of a colleague: once */
	}
	(*total)++;
	if (*n < RR_MAX_CANDIDATES)
		list[(*n)++] = *r;
}

/* The EMAIL values and FN of a stored vCard (in a). */
static void
vcard_fields(struct arena *a, const struct store_item *it, const char **fn_r,
	     const char **emails, size_t *nemails, size_t max)
{
	struct vcard_reader rd;
	struct vcard_line l;
	int r;

	*fn_r = it->meta.subject;
	*nemails = 0;
	vcard_reader_init(&rd, a, (const char *)it->data, it->data_len);
	while ((r = vcard_next(&rd, &l)) != 0) {
		if (r > 0 && vcard_line_is(&l, "EMAIL") && *nemails < max) {
			const char *v;
			size_t vl;

			vcard_unescape(a, l.value, l.vlen, 0, true, &v, &vl);
			emails[(*nemails)++] = v;
		}
	}
}

static bool
word_prefix(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; p != NULL && *p != '\0'; p++) {
		if ((p == hay || p[-1] == ' ') &&
		    strncasecmp(p, needle, n) == 0)
			return true;
	}
	return false;
}

/* The user's contacts matching to: by address (exactly) or by name (every
 * word a word prefix of the name). */
static enum store_error
match_contacts(struct eas_req *req, const char *to, bool is_address,
	       struct rr_recipient *list, size_t *n, size_t *total)
{
	struct store_item *items;
	size_t count;
	enum store_error e;
	const char *probe = to, *sp;

	/* the store narrows by a substring; the vCard decides */
	if (!is_address && (sp = strchr(to, ' ')) != NULL)
		probe = arena_strndup(req->arena, to, (size_t)(sp - to));
	e = store_item_find_text(req->store, req->arena, req->account.id,
				 STORE_CLASS_CONTACTS, probe, 500, &items,
				 &count);
	if (e != STORE_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		const char *emails[8], *fn;
		size_t ne;

		vcard_fields(req->arena, &items[i], &fn, emails, &ne, 8);
		for (size_t k = 0; k < ne; k++) {
			struct rr_recipient r = {.type = RR_TYPE_CONTACT,
						 .name = fn,
						 .email = emails[k]};
			bool hit;

			if (is_address) {
				hit = strcasecmp(emails[k], to) == 0;
			} else {
				char *words = arena_strdup(req->arena, to);
				char *save = NULL, *w;

				hit = fn != NULL;
				for (w = strtok_r(words, " ", &save);
				     hit && w != NULL;
				     w = strtok_r(NULL, " ", &save))
					hit = word_prefix(fn, w);
			}
			if (hit) {
				/* a contact that is a local account gets
				 * its free/busy too */
				struct store_account acc;

				if (store_account_by_address(
					    req->store, req->arena, emails[k],
					    &acc) == STORE_OK &&
				    acc.enabled)
					r.account_id = acc.id;
				add_candidate(list, n, total, &r);
				break;
			}
		}
	}
	return STORE_OK;
}

static enum store_error
resolve(struct eas_req *req, const char *to, struct rr_recipient *list,
	size_t *n, size_t *total)
{
	const char *addr = address_of(req->arena, to);
	bool is_address = strchr(addr, '@') != NULL;
	struct store_gal_entry *gal;
	size_t ng;
	int64_t gtotal;
	enum store_error e;

	*n = *total = 0;
	if (is_address) {
		struct store_account acc;
		struct rr_recipient r = {.type = RR_TYPE_GAL};

		e = store_account_by_address(req->store, req->arena, addr,
					     &acc);
		if (e == STORE_OK && acc.enabled &&
		    store_gal_account(req->store, req->arena, acc.id, true,
				      &r.gal) == STORE_OK) {
			r.name = r.gal.display_name;
			r.email = r.gal.email;
			r.account_id = acc.id;
			add_candidate(list, n, total, &r);
			return STORE_OK;
		}
		if (e != STORE_OK && e != STORE_NOTFOUND)
			return e;
	}
	/* the GAL by words (published contacts by address too) */
	e = store_gal_search(req->store, req->arena, addr, 0, RR_MAX_CANDIDATES,
			     true, &gal, &ng, &gtotal);
	if (e != STORE_OK && e != STORE_INVALID)
		return e;
	for (size_t i = 0; e == STORE_OK && i < ng; i++) {
		struct rr_recipient r = {.type = RR_TYPE_GAL,
					 .name = gal[i].display_name,
					 .email = gal[i].email,
					 .account_id = gal[i].account_id,
					 .gal = gal[i]};

		if (is_address &&
		    (gal[i].email == NULL || strcasecmp(gal[i].email, addr)))
			continue;
		add_candidate(list, n, total, &r);
	}
	if (e == STORE_OK && !is_address && (size_t)gtotal > ng)
		*total += (size_t)gtotal - ng;
	return match_contacts(req, addr, is_address, list, n, total);
}

static void
add_recipient(struct eas_req *req, struct wbxml_node *resp,
	      const struct rr_recipient *r, const struct rr_options *o,
	      bool unique, struct search_pictures *pics)
{
	struct wbxml_node *rn =
		wbxml_add(req->arena, resp, EAS_RESOLVERECIPIENTS_RECIPIENT);

	wbxml_add_int(req->arena, rn, EAS_RESOLVERECIPIENTS_TYPE, r->type);
	wbxml_add_text(req->arena, rn, EAS_RESOLVERECIPIENTS_DISPLAYNAME,
		       r->name != NULL && r->name[0] != '\0' ? r->name
							     : r->email);
	wbxml_add_text(req->arena, rn, EAS_RESOLVERECIPIENTS_EMAILADDRESS,
		       r->email != NULL ? r->email : "");
	/* free/busy only for one unambiguous recipient */
	if (o->availability && unique) {
		struct wbxml_node *av = wbxml_add(
			req->arena, rn, EAS_RESOLVERECIPIENTS_AVAILABILITY);
		struct freebusy_span *spans;
		size_t ns;

		if (r->account_id > 0 &&
		    freebusy_account(req->store, req->arena, r->account_id,
				     o->start, o->end, &spans,
				     &ns) == STORE_OK) {
			wbxml_add_int(req->arena, av,
				      EAS_RESOLVERECIPIENTS_STATUS,
				      RR_AVAIL_OK);
			wbxml_add_text(req->arena, av,
				       EAS_RESOLVERECIPIENTS_MERGEDFREEBUSY,
				       freebusy_merge(req->arena, spans, ns,
						      o->start, o->end,
						      RR_SLOT));
		} else {
			/* outside the organization: no data here */
			wbxml_add_int(req->arena, av,
				      EAS_RESOLVERECIPIENTS_STATUS,
				      RR_AVAIL_FAILURE);
		}
	}
	if (unique && (o->cert_retrieval == 2 || o->cert_retrieval == 3)) {
		struct wbxml_node *c = wbxml_add(
			req->arena, rn, EAS_RESOLVERECIPIENTS_CERTIFICATES);

		wbxml_add_int(req->arena, c, EAS_RESOLVERECIPIENTS_STATUS,
			      RR_CERT_NONE);
		wbxml_add_int(req->arena, c,
			      EAS_RESOLVERECIPIENTS_CERTIFICATECOUNT, 0);
		wbxml_add_int(req->arena, c,
			      EAS_RESOLVERECIPIENTS_RECIPIENTCOUNT, 0);
	}
	if (pics->wanted)
		search_add_picture(req, rn, EAS_RESOLVERECIPIENTS_PICTURE,
				   EAS_RESOLVERECIPIENTS_STATUS,
				   EAS_RESOLVERECIPIENTS_DATA, &r->gal, pics);
}

/* Options; returns 0, or -1 for a protocol error. */
static int
parse_options(struct eas_req *req, const struct wbxml_node *opts,
	      struct rr_options *o)
{
	const struct wbxml_node *av, *pic;
	int64_t v;

	memset(o, 0, sizeof(*o));
	o->cert_retrieval = 1;
	o->max_ambiguous = RR_DEFAULT_AMBIGUOUS;
	if (opts == NULL)
		return 0;
	if (wbxml_child_int(opts, EAS_RESOLVERECIPIENTS_CERTIFICATERETRIEVAL,
			    &v) != 0) {
		if (wbxml_child_int(opts,
				    EAS_RESOLVERECIPIENTS_CERTIFICATERETRIEVAL,
				    &v) < 0 ||
		    v < 1 || v > 3)
			return -1;
		o->cert_retrieval = (int)v;
	}
	switch (wbxml_child_int(
		opts, EAS_RESOLVERECIPIENTS_MAXAMBIGUOUSRECIPIENTS, &v)) {
	case 1:
		if (v < 0 || v > 9999)
			return -1;
		o->max_ambiguous = (size_t)v;
		break;
	case -1:
		return -1;
	default:
		break;
	}
	av = wbxml_child(opts, EAS_RESOLVERECIPIENTS_AVAILABILITY);
	if (av != NULL) {
		const char *s =
			wbxml_child_text(av, EAS_RESOLVERECIPIENTS_STARTTIME);
		const char *e =
			wbxml_child_text(av, EAS_RESOLVERECIPIENTS_ENDTIME);

		if (s == NULL || e == NULL || time_parse(s, &o->start) < 0 ||
		    time_parse(e, &o->end) < 0 || o->end <= o->start ||
		    o->end - o->start > FREEBUSY_MAX_WINDOW)
			return -1;
		o->availability = true;
	}
	pic = wbxml_child(opts, EAS_RESOLVERECIPIENTS_PICTURE);
	if (pic != NULL && req->version >= EAS_V141) {
		o->pics.wanted = true;
		if (wbxml_child_int(pic, EAS_RESOLVERECIPIENTS_MAXSIZE, &v) ==
			    1 &&
		    v > 0)
			o->pics.max_size = (uint64_t)v;
		if (wbxml_child_int(pic, EAS_RESOLVERECIPIENTS_MAXPICTURES,
				    &v) == 1 &&
		    v > 0)
			o->pics.max_pictures = (uint64_t)v;
	}
	return 0;
}

enum eas_cmd_result
cmd_resolverecipients(struct eas_req *req, const struct wbxml_node *in,
		      struct wbxml_node **out_r)
{
	struct wbxml_node *root =
		wbxml_new(req->arena, EAS_RESOLVERECIPIENTS_RESOLVERECIPIENTS);
	struct wbxml_node *top =
		wbxml_add(req->arena, root, EAS_RESOLVERECIPIENTS_STATUS);
	struct rr_recipient *list;
	struct rr_options o;
	const struct wbxml_node *n;
	size_t nto = 0;
	int st = RR_OK;

	*out_r = root;
	if (in == NULL || in->tag != EAS_RESOLVERECIPIENTS_RESOLVERECIPIENTS ||
	    parse_options(req, wbxml_child(in, EAS_RESOLVERECIPIENTS_OPTIONS),
			  &o) < 0)
		st = RR_PROTOCOL_ERROR;
	if (st == RR_OK) {
		wbxml_foreach(in, n)
		{
			if (n->tag != EAS_RESOLVERECIPIENTS_TO)
				continue;
			nto++;
			if (wbxml_text(n)[0] == '\0' ||
			    strlen(wbxml_text(n)) > SEARCH_QUERY_MAX)
				st = RR_PROTOCOL_ERROR;
		}
		if (nto == 0 || nto > RR_MAX_TO)
			st = RR_PROTOCOL_ERROR;
	}
	top->data = (const uint8_t *)arena_printf(req->arena, "%d", st);
	top->len = strlen((const char *)top->data);
	req->eas_status = st;
	if (st != RR_OK)
		return EAS_CMD_OK;
	list = arena_alloc(req->arena, RR_MAX_CANDIDATES * sizeof(*list));
	wbxml_foreach(in, n)
	{
		struct wbxml_node *resp;
		size_t count, total, shown;
		enum store_error e;
		int rs;

		if (n->tag != EAS_RESOLVERECIPIENTS_TO)
			continue;
		e = resolve(req, wbxml_text(n), list, &count, &total);
		if (e != STORE_OK) {
			log_error("ResolveRecipients: %s", store_error_str(e));
			top->data = (const uint8_t *)"6";
			top->len = 1;
			root->child = root->last = top;
			top->next = NULL;
			req->eas_status = RR_SERVER_ERROR;
			return EAS_CMD_OK;
		}
		resp = wbxml_add(req->arena, root,
				 EAS_RESOLVERECIPIENTS_RESPONSE);
		wbxml_add_text(req->arena, resp, EAS_RESOLVERECIPIENTS_TO,
			       wbxml_text(n));
		shown = count;
		if (total == 0)
			rs = RR_UNRESOLVED;
		else if (total == 1)
			rs = RR_RESOLVED;
		else if (total <= o.max_ambiguous && count == total)
			rs = RR_AMBIGUOUS;
		else
			rs = RR_AMBIGUOUS_PARTIAL;
		if (shown > o.max_ambiguous && rs != RR_RESOLVED)
			shown = o.max_ambiguous;
		wbxml_add_int(req->arena, resp, EAS_RESOLVERECIPIENTS_STATUS,
			      rs);
		if (rs == RR_UNRESOLVED)
			continue;
		wbxml_add_int(
			req->arena, resp, EAS_RESOLVERECIPIENTS_RECIPIENTCOUNT,
			(int64_t)(rs == RR_AMBIGUOUS_PARTIAL ? total : shown));
		for (size_t i = 0; i < shown; i++)
			add_recipient(req, resp, &list[i], &o,
				      rs == RR_RESOLVED, &o.pics);
	}
	return EAS_CMD_OK;
}
