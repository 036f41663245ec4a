/* The EAS client library: HTTP through libcurl, bodies through our WBXML
 * codec, and the flows a phone runs (Provision, FolderSync, Sync, Ping...).
 * Spec references are to MS-ASHTTP / MS-ASCMD / MS-ASPROV and the digest in
 * /work/shared/spec/eas-protocol.md. */
#include "client-eas.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"
#include "xalloc.h"

#define EAS_PATH "/Microsoft-Server-ActiveSync"
#define EAS_CT_WBXML "application/vnd.ms-sync.wbxml"
#define EAS_POLICY_TYPE "MS-EAS-Provisioning-WBXML"
/* A Sync loop that keeps saying MoreAvailable without progress is a server
 * bug; stop instead of spinning forever. */
#define EAS_MAX_SYNC_ROUNDS 100000u
#define EAS_STATE_MAX_LINE 4096

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
}

static void __attribute__((format(printf, 2, 3)))
client_fail(struct eas_client *c, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(c->error);
	c->error = msg != NULL ? msg : xstrdup("error");
}

const char *
eas_client_error(const struct eas_client *c)
{
	return c->error != NULL ? c->error : "";
}

struct eas_client *
eas_client_new(const char *url, const char *user, const char *password,
	       const char *device_id, const char *device_type)
{
	struct eas_client *c = xcalloc(1, sizeof(*c));
	size_t len = strlen(url);
	size_t plen = strlen(EAS_PATH);

	pthread_once(&curl_once, curl_init_once);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len >= plen && strncasecmp(url + len - plen, EAS_PATH, plen) == 0)
		len -= plen;
	c->url = xstrndup(url, len);
	c->user = xstrdup(user != NULL ? user : "");
	c->password = xstrdup(password != NULL ? password : "");
	c->device_id = xstrdup(device_id != NULL ? device_id : "EASCLIENT0001");
	c->device_type =
		xstrdup(device_type != NULL ? device_type : "easclient");
	c->version = xstrdup("16.1");
	c->user_agent = xstrdup("easclient/1.0");
	c->timeout_ms = 120000;
	c->curl = curl_easy_init();
	if (c->curl == NULL)
		eas_panic("curl_easy_init failed");
	return c;
}

void
eas_client_state_reset(struct eas_client *c)
{
	for (size_t i = 0; i < c->nfolders; i++) {
		free(c->folders[i].server_id);
		free(c->folders[i].parent_id);
		free(c->folders[i].name);
	}
	xfree(&c->folders);
	c->nfolders = 0;
	for (size_t i = 0; i < c->nkeys; i++) {
		free(c->keys[i].collection_id);
		free(c->keys[i].sync_key);
	}
	xfree(&c->keys);
	c->nkeys = 0;
	xfree(&c->hierarchy_key);
	c->policy_key = 0;
}

void
eas_client_free(struct eas_client **cp)
{
	struct eas_client *c = *cp;

	if (c == NULL)
		return;
	eas_client_state_reset(c);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->url);
	free(c->user);
	free(c->password);
	free(c->device_id);
	free(c->device_type);
	free(c->version);
	free(c->user_agent);
	free(c->error);
	free(c);
	*cp = NULL;
}

void
eas_client_set_version(struct eas_client *c, const char *version)
{
	free(c->version);
	c->version = xstrdup(version);
}

void
eas_client_set_user_agent(struct eas_client *c, const char *ua)
{
	free(c->user_agent);
	c->user_agent = xstrdup(ua);
}

unsigned
eas_client_version_num(const struct eas_client *c)
{
	unsigned major = 0, minor = 0;

	if (sscanf(c->version, "%u.%u", &major, &minor) < 1)
		return 0;
	return major * 10 + minor;
}

/* --- small helpers --- */

const char *
eas_url_escape(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 3 + 1), *p = out;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			*p++ = (char)ch;
		} else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return out;
}

const char *
eas_tree_xml(struct arena *a, const struct wbxml_node *n)
{
	struct buf b;
	const char *s;

	if (n == NULL)
		return "";
	buf_init(&b, 16 * 1024 * 1024);
	if (wbxml_to_xml(n, &b) < 0) {
		buf_deinit(&b);
		return "";
	}
	s = arena_strndup(a, (const char *)b.data, b.len);
	buf_deinit(&b);
	return s;
}

static void
trace_tree(const char *what, const struct wbxml_node *n)
{
	struct buf b;

	buf_init(&b, 16 * 1024 * 1024);
	if (n == NULL)
		buf_puts(&b, "(empty body)\n");
	else if (wbxml_to_xml(n, &b) < 0)
		buf_puts(&b, "(too large to show)\n");
	fprintf(stderr, "--- %s\n%s", what, (const char *)b.data);
	if (b.len > 0 && b.data[b.len - 1] != '\n')
		fputc('\n', stderr);
	buf_deinit(&b);
}

/* Text of the first child whose tag is named "Status" on any code page: the
 * top-level Status of a command response. */
static int
tree_top_status(const struct wbxml_node *root)
{
	const struct wbxml_node *n;
	int64_t v;

	if (root == NULL)
		return 0;
	wbxml_foreach(root, n)
	{
		const char *name = wbxml_tag_name(n->tag);

		if (name != NULL && strcmp(name, "Status") == 0 &&
		    str_to_int64(wbxml_text(n), &v) == 0)
			return (int)v;
	}
	return 0;
}

/* --- HTTP --- */

struct http_ctx {
	struct arena *a;
	struct buf body;
	struct eas_response *r;
	struct eas_http_header *last;
};

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_ctx *h = userdata;
	size_t n = size * nmemb;

	if (buf_append(&h->body, ptr, n) < 0)
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	return n;
}

static size_t
http_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_ctx *h = userdata;
	struct eas_response *r = h->r;
	size_t n = size * nmemb, len = n;
	const char *colon;
	struct eas_http_header *hdr;
	char *name, *value;

	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* A new status line (after 100 Continue or a redirect): only
		 * the last response's headers count. */
		memset(r, 0, sizeof(*r));
		h->last = NULL;
		return n;
	}
	colon = memchr(ptr, ':', len);
	if (colon == NULL)
		return n;
	name = arena_strndup(h->a, ptr, (size_t)(colon - ptr));
	colon++;
	while (colon < ptr + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	value = arena_strndup(h->a, colon, (size_t)(ptr + len - colon));
	hdr = arena_new_struct(h->a, struct eas_http_header);
	hdr->name = name;
	hdr->value = value;
	if (h->last == NULL)
		r->headers = hdr;
	else
		h->last->next = hdr;
	h->last = hdr;
	if (strcasecmp(name, "Content-Type") == 0)
		r->content_type = value;
	else if (strcasecmp(name, "MS-ASProtocolVersions") == 0)
		r->ms_versions = value;
	else if (strcasecmp(name, "MS-ASProtocolCommands") == 0)
		r->ms_commands = value;
	else if (strcasecmp(name, "MS-Server-ActiveSync") == 0)
		r->ms_server = value;
	else if (strcasecmp(name, "X-MS-RP") == 0)
		r->x_ms_rp = value;
	else if (strcasecmp(name, "X-MS-Location") == 0)
		r->x_ms_location = value;
	else if (strcasecmp(name, "Retry-After") == 0)
		r->retry_after = value;
	else if (strcasecmp(name, "WWW-Authenticate") == 0)
		r->www_authenticate = value;
	return n;
}

static bool
headers_have(const char *const *headers, const char *name)
{
	size_t len = strlen(name);

	for (; headers != NULL && *headers != NULL; headers++)
		if (strncasecmp(*headers, name, len) == 0 &&
		    (*headers)[len] == ':')
			return true;
	return false;
}

static int
http_do(struct eas_client *c, struct arena *a, const char *method,
	const char *path, const char *query, const char *const *headers,
	const void *body, size_t len, long timeout_ms, struct eas_response *r)
{
	CURL *curl = c->curl;
	struct curl_slist *hl = NULL;
	struct http_ctx h;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url;
	CURLcode rc;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	h.a = a;
	h.r = r;
	buf_init(&h.body, EAS_CLIENT_MAX_BODY);

	url = arena_printf(
		a, "%s%s%s%s", c->url, path != NULL ? path : EAS_PATH,
		query != NULL ? "?" : "", query != NULL ? query : "");
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &h);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
	if (timeout_ms > 0)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	if (c->cainfo != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cainfo);

	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
				 body != NULL ? body : "");
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL) {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)len);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		}
	}
	if (c->user[0] != '\0' && !headers_have(headers, "Authorization")) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, c->password);
	}
	if (!headers_have(headers, "User-Agent"))
		curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent);
	/* No "Expect: 100-continue" round trip for large bodies. */
	hl = curl_slist_append(hl, "Expect:");
	if (!headers_have(headers, "Content-Type") &&
	    strcmp(method, "POST") == 0)
		hl = curl_slist_append(hl, "Content-Type: " EAS_CT_WBXML);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		if (h.body.overflow)
			client_fail(c, "%s %s: response larger than %u bytes",
				    method, url, EAS_CLIENT_MAX_BODY);
		else
			client_fail(c, "%s %s: %s", method, url,
				    errbuf[0] != '\0' ? errbuf
						      : curl_easy_strerror(rc));
		r->http_status = 0;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->http_status);
	r->body_len = h.body.len;
	r->body = h.body.len > 0 ? arena_memdup(a, h.body.data, h.body.len + 1)
				 : (const uint8_t *)"";
	if (r->body_len > 0 && r->content_type != NULL &&
	    str_has_iprefix(r->content_type, EAS_CT_WBXML)) {
		const char *err = NULL;

		if (wbxml_decode(a, r->body, r->body_len, &wbxml_limits_default,
				 &r->tree, &err) < 0) {
			r->tree = NULL;
			r->decode_error = err != NULL ? err : "undecodable";
		}
	}
	ret = 0;
out:
	curl_slist_free_all(hl);
	buf_deinit(&h.body);
	return ret;
}

int
eas_client_raw(struct eas_client *c, struct arena *a, const char *method,
	       const char *path, const char *query, const char *const *headers,
	       const void *body, size_t len, struct eas_response *r)
{
	int ret;

	if (c->trace)
		fprintf(stderr, "--- %s %s?%s (%zu bytes)\n", method,
			path != NULL ? path : EAS_PATH,
			query != NULL ? query : "", len);
	ret = http_do(c, a, method, path, query, headers, body, len,
		      c->timeout_ms, r);
	if (c->trace && ret == 0) {
		fprintf(stderr, "--- HTTP %ld\n", r->http_status);
		if (r->tree != NULL)
			trace_tree("response", r->tree);
	}
	return ret;
}

static int
post_timeout(struct eas_client *c, struct arena *a, const char *cmd,
	     const struct wbxml_node *body, const char *extra_query,
	     long timeout_ms, struct eas_response *r)
{
	struct buf b;
	const char *query, *hdrs[3];
	size_t nh = 0;
	int ret;

	buf_init(&b, EAS_CLIENT_MAX_BODY);
	if (body != NULL && wbxml_encode(body, &b) < 0) {
		client_fail(c, "%s: request body too large", cmd);
		buf_deinit(&b);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	query = arena_printf(a, "Cmd=%s&User=%s&DeviceId=%s&DeviceType=%s%s%s",
			     eas_url_escape(a, cmd), eas_url_escape(a, c->user),
			     eas_url_escape(a, c->device_id),
			     eas_url_escape(a, c->device_type),
			     extra_query != NULL ? "&" : "",
			     extra_query != NULL ? extra_query : "");
	hdrs[nh++] = arena_printf(a, "MS-ASProtocolVersion: %s", c->version);
	if (c->policy_key != 0)
		hdrs[nh++] =
			arena_printf(a, "X-MS-PolicyKey: %u", c->policy_key);
	hdrs[nh] = NULL;
	if (c->trace) {
		fprintf(stderr, "--- POST Cmd=%s (policy key %u)\n", cmd,
			c->policy_key);
		trace_tree("request", body);
	}
	ret = http_do(c, a, "POST", NULL, query, hdrs, b.data, b.len,
		      timeout_ms, r);
	buf_deinit(&b);
	if (c->trace && ret == 0) {
		fprintf(stderr, "--- HTTP %ld\n", r->http_status);
		if (r->body_len > 0)
			trace_tree("response", r->tree);
	}
	return ret;
}

int
eas_client_post(struct eas_client *c, struct arena *a, const char *cmd,
		const struct wbxml_node *body, const char *extra_query,
		struct eas_response *r)
{
	return post_timeout(c, a, cmd, body, extra_query, c->timeout_ms, r);
}

int
eas_client_send(struct eas_client *c, struct arena *a, const struct eas_send *s,
		int *status_r)
{
	static const char *const names[] = {"SendMail", "SmartReply",
					    "SmartForward"};
	static const uint16_t roots[] = {EAS_COMPOSEMAIL_SENDMAIL,
					 EAS_COMPOSEMAIL_SMARTREPLY,
					 EAS_COMPOSEMAIL_SMARTFORWARD};
	const char *cmd = names[s->kind];
	struct eas_response r;
	int64_t st = 0;

	*status_r = -1;
	if (eas_client_version_num(c) < 140) {
		const char *hdrs[4], *q;
		size_t nh = 0;

		q = arena_printf(
			a,
			"Cmd=%s&User=%s&DeviceId=%s&DeviceType=%s&SaveInSent=%s"
			"%s%s%s%s",
			cmd, eas_url_escape(a, c->user),
			eas_url_escape(a, c->device_id),
			eas_url_escape(a, c->device_type),
			s->save_in_sent ? "T" : "F",
			s->item_id != NULL ? "&ItemId=" : "",
			s->item_id != NULL ? eas_url_escape(a, s->item_id) : "",
			s->folder_id != NULL ? "&CollectionId=" : "",
			s->folder_id != NULL ? eas_url_escape(a, s->folder_id)
					     : "");
		hdrs[nh++] = "Content-Type: message/rfc822";
		hdrs[nh++] =
			arena_printf(a, "MS-ASProtocolVersion: %s", c->version);
		if (c->policy_key != 0)
			hdrs[nh++] = arena_printf(a, "X-MS-PolicyKey: %u",
						  c->policy_key);
		hdrs[nh] = NULL;
		if (eas_client_raw(c, a, "POST", NULL, q, hdrs, s->mime,
				   s->mime_len, &r) < 0)
			return -1;
		*status_r = r.http_status == 200 ? 0 : (int)r.http_status;
		return 0;
	}
	{
		struct wbxml_node *q = wbxml_new(a, roots[s->kind]);
		const char *cid = s->client_id;

		if (cid == NULL) {
			uint8_t rnd[8];

			random_bytes(rnd, sizeof(rnd));
			cid = arena_printf(a,
					   "%02x%02x%02x%02x%02x%02x%02x%02x",
					   rnd[0], rnd[1], rnd[2], rnd[3],
					   rnd[4], rnd[5], rnd[6], rnd[7]);
		}
		wbxml_add_text(a, q, EAS_COMPOSEMAIL_CLIENTID, cid);
		if (s->kind != EAS_SEND_NEW) {
			struct wbxml_node *src =
				wbxml_add(a, q, EAS_COMPOSEMAIL_SOURCE);

			if (s->folder_id != NULL)
				wbxml_add_text(a, src, EAS_COMPOSEMAIL_FOLDERID,
					       s->folder_id);
			if (s->item_id != NULL)
				wbxml_add_text(a, src, EAS_COMPOSEMAIL_ITEMID,
					       s->item_id);
		}
		if (s->save_in_sent)
			wbxml_add(a, q, EAS_COMPOSEMAIL_SAVEINSENTITEMS);
		if (s->replace_mime && s->kind != EAS_SEND_NEW)
			wbxml_add(a, q, EAS_COMPOSEMAIL_REPLACEMIME);
		if (s->mime_as_string)
			wbxml_add_textn(a, q, EAS_COMPOSEMAIL_MIME, s->mime,
					s->mime_len);
		else
			wbxml_add_opaque(a, q, EAS_COMPOSEMAIL_MIME, s->mime,
					 s->mime_len);
		if (eas_client_post(c, a, cmd, q, NULL, &r) < 0)
			return -1;
	}
	if (r.http_status != 200) {
		*status_r = (int)r.http_status;
		return 0;
	}
	if (r.body_len == 0) {
		*status_r = 0;
		return 0;
	}
	if (r.tree == NULL ||
	    wbxml_child_int(r.tree, EAS_COMPOSEMAIL_STATUS, &st) <= 0) {
		client_fail(c, "%s: unreadable answer", cmd);
		return -1;
	}
	*status_r = (int)st;
	return 0;
}

static bool
needs_provision(const struct eas_response *r)
{
	int st;

	if (r->http_status == 449)
		return true;
	st = tree_top_status(r->tree);
	return st == 142 || st == 143 || st == 144;
}

/* POST for the flows: HTTP 200 required; with auto_provision, a "please
 * provision" answer runs Provision and retries once. A body that does not
 * decode is an error; an empty body is allowed (r->tree NULL). */
static int
flow_post(struct eas_client *c, struct arena *a, const char *cmd,
	  const struct wbxml_node *body, long timeout_ms,
	  struct eas_response *r)
{
	if (post_timeout(c, a, cmd, body, NULL, timeout_ms, r) < 0)
		return -1;
	if (c->auto_provision && needs_provision(r)) {
		if (eas_client_provision(c, a, NULL) != 0)
			return -1;
		if (post_timeout(c, a, cmd, body, NULL, timeout_ms, r) < 0)
			return -1;
	}
	if (r->http_status != 200) {
		client_fail(c, "%s: HTTP %ld%s", cmd, r->http_status,
			    r->http_status == 401 ? " (wrong user or password)"
			    : r->http_status == 449 ? " (provisioning needed)"
			    : r->http_status == 403 ? " (forbidden)"
						    : "");
		return -1;
	}
	if (r->decode_error != NULL) {
		client_fail(c, "%s: bad WBXML in response: %s", cmd,
			    r->decode_error);
		return -1;
	}
	if (r->body_len > 0 && r->tree == NULL) {
		client_fail(
			c, "%s: response is not WBXML (Content-Type %s)", cmd,
			r->content_type != NULL ? r->content_type : "missing");
		return -1;
	}
	return 0;
}

static int
expect_root(struct eas_client *c, const struct eas_response *r, uint16_t tag,
	    const char *cmd)
{
	if (r->tree == NULL) {
		client_fail(c, "%s: empty response", cmd);
		return -1;
	}
	if (r->tree->tag != tag) {
		const char *name = wbxml_tag_name(r->tree->tag);

		client_fail(c, "%s: unexpected response element %s", cmd,
			    name != NULL ? name : "?");
		return -1;
	}
	return 0;
}

int
eas_client_options(struct eas_client *c, struct arena *a,
		   struct eas_response *r)
{
	if (eas_client_raw(c, a, "OPTIONS", NULL, NULL, NULL, NULL, 0, r) < 0)
		return -1;
	if (r->http_status != 200) {
		client_fail(c, "OPTIONS: HTTP %ld", r->http_status);
		return -1;
	}
	return 0;
}

/* --- Autodiscover (digest section 9) --- */

static const char *
xml_escape(struct arena *a, const char *s)
{
	struct buf b;
	const char *r;

	buf_init(&b, 0);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			buf_puts(&b, "&lt;");
			break;
		case '>':
			buf_puts(&b, "&gt;");
			break;
		case '&':
			buf_puts(&b, "&amp;");
			break;
		case '"':
			buf_puts(&b, "&quot;");
			break;
		default:
			buf_putc(&b, (uint8_t)*s);
			break;
		}
	}
	r = arena_strndup(
		a, (const char *)(b.data != NULL ? b.data : (uint8_t *)""),
		b.len);
	buf_deinit(&b);
	return r;
}

int
eas_client_autodiscover(struct eas_client *c, struct arena *a,
			const char *email, const char **url_r)
{
	static const char *const hdrs[] = {"Content-Type: text/xml", NULL};
	struct eas_response r;
	xmlDocPtr doc = NULL;
	xmlXPathContextPtr xp = NULL;
	xmlXPathObjectPtr obj = NULL;
	const char *req;
	int ret = -1;

	req = arena_printf(
		a,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
		"autodiscover/mobilesync/requestschema/2006\">\n"
		"  <Request>\n"
		"    <EMailAddress>%s</EMailAddress>\n"
		"    <AcceptableResponseSchema>http://schemas.microsoft.com/"
		"exchange/autodiscover/mobilesync/responseschema/2006"
		"</AcceptableResponseSchema>\n"
		"  </Request>\n"
		"</Autodiscover>\n",
		xml_escape(a, email));
	if (c->trace)
		fprintf(stderr, "--- autodiscover request\n%s", req);
	if (http_do(c, a, "POST", "/autodiscover/autodiscover.xml", NULL, hdrs,
		    req, strlen(req), c->timeout_ms, &r) < 0)
		return -1;
	if (c->trace)
		fprintf(stderr, "--- HTTP %ld\n%s\n", r.http_status,
			(const char *)r.body);
	if (r.http_status != 200) {
		client_fail(c, "autodiscover: HTTP %ld", r.http_status);
		return -1;
	}
	doc = xmlReadMemory(
		(const char *)r.body, (int)r.body_len, "autodiscover.xml", NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		client_fail(c, "autodiscover: response is not XML");
		goto out;
	}
	xp = xmlXPathNewContext(doc);
	obj = xmlXPathEvalExpression(
		BAD_CAST "//*[local-name()='Server'][*[local-name()='Type']="
			 "'MobileSync']/*[local-name()='Url']",
		xp);
	if (obj == NULL || obj->nodesetval == NULL ||
	    obj->nodesetval->nodeNr == 0) {
		xmlXPathFreeObject(obj);
		obj = xmlXPathEvalExpression(
			BAD_CAST
			"//*[local-name()='Error']//*[local-name()='Message']",
			xp);
		if (obj != NULL && obj->nodesetval != NULL &&
		    obj->nodesetval->nodeNr > 0) {
			xmlChar *t =
				xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

			client_fail(c, "autodiscover: error: %s",
				    t != NULL ? (const char *)t : "");
			xmlFree(t);
		} else {
			client_fail(c, "autodiscover: no MobileSync server "
				       "in the response");
		}
		goto out;
	} else {
		xmlChar *t = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

		*url_r = arena_strdup(a, t != NULL ? (const char *)t : "");
		xmlFree(t);
	}
	ret = 0;
out:
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
	return ret;
}

/* --- Provision (MS-ASPROV 3.1.5.1) --- */

static int
provision_ack_wipe(struct eas_client *c, struct arena *a, uint16_t tag)
{
	struct wbxml_node *req, *w;
	struct eas_response r;
	uint32_t saved = c->policy_key;

	/* MS-ASPROV 3.2.5.1.2: the client confirms the wipe with a
	 * RemoteWipe (or AccountOnlyRemoteWipe) Status 1. */
	req = wbxml_new(a, EAS_PROVISION_PROVISION);
	w = wbxml_add(a, req, tag);
	wbxml_add_int(a, w, EAS_PROVISION_STATUS, 1);
	c->policy_key = 0;
	if (post_timeout(c, a, "Provision", req, NULL, c->timeout_ms, &r) < 0) {
		c->policy_key = saved;
		return -1;
	}
	if (r.http_status != 200) {
		client_fail(c, "Provision (wipe acknowledgement): HTTP %ld",
			    r.http_status);
		c->policy_key = saved;
		return -1;
	}
	eas_client_state_reset(c);
	c->wiped = true;
	return 1;
}

static void
add_device_information(struct eas_client *c, struct arena *a,
		       struct wbxml_node *parent)
{
	struct wbxml_node *di, *set;

	/* MS-ASPROV 2.2.2.52: 14.1+ sends settings:DeviceInformation with
	 * the first Provision. */
	di = wbxml_add(a, parent, EAS_SETTINGS_DEVICEINFORMATION);
	set = wbxml_add(a, di, EAS_SETTINGS_SET);
	wbxml_add_text(a, set, EAS_SETTINGS_MODEL, "easclient");
	wbxml_add_text(a, set, EAS_SETTINGS_FRIENDLYNAME, c->device_id);
	wbxml_add_text(a, set, EAS_SETTINGS_OS, "Linux");
	wbxml_add_text(a, set, EAS_SETTINGS_OSLANGUAGE, "English");
	wbxml_add_text(a, set, EAS_SETTINGS_USERAGENT, c->user_agent);
}

static int
provision_policy(struct eas_client *c, const struct eas_response *r,
		 const char *phase, const struct wbxml_node **policy_r,
		 int64_t *key_r)
{
	const struct wbxml_node *pols, *pol;
	int64_t st = 0, key = 0;

	if (wbxml_child_int(r->tree, EAS_PROVISION_STATUS, &st) < 0 ||
	    st != 1) {
		client_fail(c, "Provision %s: Status %lld", phase,
			    (long long)st);
		return -1;
	}
	pols = wbxml_child(r->tree, EAS_PROVISION_POLICIES);
	pol = pols != NULL ? wbxml_child(pols, EAS_PROVISION_POLICY) : NULL;
	if (pol == NULL) {
		client_fail(c, "Provision %s: no Policy in the response",
			    phase);
		return -1;
	}
	if (wbxml_child_int(pol, EAS_PROVISION_STATUS, &st) < 0 ||
	    (st != 1 && st != 2)) {
		client_fail(c, "Provision %s: Policy Status %lld", phase,
			    (long long)st);
		return -1;
	}
	if (st == 1 &&
	    (wbxml_child_int(pol, EAS_PROVISION_POLICYKEY, &key) != 1 ||
	     key < 0 || key > UINT32_MAX)) {
		client_fail(c, "Provision %s: missing or bad PolicyKey", phase);
		return -1;
	}
	if (policy_r != NULL) {
		const struct wbxml_node *data =
			wbxml_child(pol, EAS_PROVISION_DATA);

		*policy_r = data != NULL
				    ? wbxml_child(data,
						  EAS_PROVISION_EASPROVISIONDOC)
				    : NULL;
	}
	*key_r = key;
	return 0;
}

static const struct wbxml_node *
wipe_request(const struct wbxml_node *root, uint16_t *tag_r)
{
	const struct wbxml_node *n;

	if ((n = wbxml_child(root, EAS_PROVISION_REMOTEWIPE)) != NULL)
		*tag_r = EAS_PROVISION_REMOTEWIPE;
	else if ((n = wbxml_child(root, EAS_PROVISION_ACCOUNTONLYREMOTEWIPE)) !=
		 NULL)
		*tag_r = EAS_PROVISION_ACCOUNTONLYREMOTEWIPE;
	return n;
}

int
eas_client_provision(struct eas_client *c, struct arena *a,
		     const struct wbxml_node **policy_r)
{
	struct wbxml_node *req, *pols, *pol;
	struct eas_response r;
	uint32_t saved = c->policy_key;
	uint16_t wipe_tag = 0;
	int64_t key;

	if (policy_r != NULL)
		*policy_r = NULL;
	/* Phase 1: ask for the policy (MS-ASPROV 3.1.5.1.1). */
	req = wbxml_new(a, EAS_PROVISION_PROVISION);
	if (eas_client_version_num(c) >= 141)
		add_device_information(c, a, req);
	pols = wbxml_add(a, req, EAS_PROVISION_POLICIES);
	pol = wbxml_add(a, pols, EAS_PROVISION_POLICY);
	wbxml_add_text(a, pol, EAS_PROVISION_POLICYTYPE, EAS_POLICY_TYPE);
	c->policy_key = 0;
	if (post_timeout(c, a, "Provision", req, NULL, c->timeout_ms, &r) < 0)
		goto fail;
	if (r.http_status != 200) {
		client_fail(c, "Provision: HTTP %ld%s", r.http_status,
			    r.http_status == 401   ? " (wrong user or password)"
			    : r.http_status == 403 ? " (device blocked)"
						   : "");
		goto fail;
	}
	if (r.decode_error != NULL) {
		client_fail(c, "Provision: bad WBXML: %s", r.decode_error);
		goto fail;
	}
	if (expect_root(c, &r, EAS_PROVISION_PROVISION, "Provision") < 0)
		goto fail;
	if (wipe_request(r.tree, &wipe_tag) != NULL)
		return provision_ack_wipe(c, a, wipe_tag);
	if (provision_policy(c, &r, "phase 1", policy_r, &key) < 0)
		goto fail;
	if (key == 0) {
		/* Policy Status 2: no policy for this client; nothing to
		 * acknowledge. */
		c->policy_key = 0;
		return 0;
	}

	/* Phase 2: acknowledge with the temporary key (3.1.5.1.2). */
	req = wbxml_new(a, EAS_PROVISION_PROVISION);
	pols = wbxml_add(a, req, EAS_PROVISION_POLICIES);
	pol = wbxml_add(a, pols, EAS_PROVISION_POLICY);
	wbxml_add_text(a, pol, EAS_PROVISION_POLICYTYPE, EAS_POLICY_TYPE);
	wbxml_add_textf(a, pol, EAS_PROVISION_POLICYKEY, "%u", (uint32_t)key);
	wbxml_add_int(a, pol, EAS_PROVISION_STATUS, 1);
	if (post_timeout(c, a, "Provision", req, NULL, c->timeout_ms, &r) < 0)
		goto fail;
	if (r.http_status != 200) {
		client_fail(c, "Provision phase 2: HTTP %ld", r.http_status);
		goto fail;
	}
	if (expect_root(c, &r, EAS_PROVISION_PROVISION, "Provision") < 0)
		goto fail;
	if (wipe_request(r.tree, &wipe_tag) != NULL)
		return provision_ack_wipe(c, a, wipe_tag);
	if (provision_policy(c, &r, "phase 2", NULL, &key) < 0)
		goto fail;
	c->policy_key = (uint32_t)key;
	return 0;
fail:
	c->policy_key = saved;
	return -1;
}

/* --- folders --- */

static void
folder_set(struct eas_folder *f, const char *id, const char *parent,
	   const char *name, int type)
{
	free(f->server_id);
	free(f->parent_id);
	free(f->name);
	f->server_id = xstrdup(id);
	f->parent_id = xstrdup(parent != NULL ? parent : "0");
	f->name = xstrdup(name != NULL ? name : "");
	f->type = type;
}

static struct eas_folder *
folder_by_id(const struct eas_client *c, const char *id)
{
	for (size_t i = 0; i < c->nfolders; i++)
		if (strcmp(c->folders[i].server_id, id) == 0)
			return &c->folders[i];
	return NULL;
}

static void
folder_upsert(struct eas_client *c, const char *id, const char *parent,
	      const char *name, int type)
{
	struct eas_folder *f = folder_by_id(c, id);

	if (f == NULL) {
		c->folders = xrealloc(c->folders,
				      (c->nfolders + 1) * sizeof(*c->folders));
		f = &c->folders[c->nfolders++];
		memset(f, 0, sizeof(*f));
	}
	folder_set(f, id, parent, name, type);
}

static void
folder_remove(struct eas_client *c, const char *id)
{
	struct eas_folder *f = folder_by_id(c, id);
	size_t i;

	if (f == NULL)
		return;
	i = (size_t)(f - c->folders);
	free(f->server_id);
	free(f->parent_id);
	free(f->name);
	memmove(f, f + 1, (c->nfolders - i - 1) * sizeof(*f));
	c->nfolders--;
	eas_client_set_sync_key(c, id, NULL);
}

const struct eas_folder *
eas_client_folder_find(const struct eas_client *c, const char *id_or_name)
{
	const struct eas_folder *f = folder_by_id(c, id_or_name);

	if (f != NULL)
		return f;
	for (size_t i = 0; i < c->nfolders; i++)
		if (strcasecmp(c->folders[i].name, id_or_name) == 0)
			return &c->folders[i];
	return NULL;
}

const struct eas_folder *
eas_client_folder_by_type(const struct eas_client *c, int type)
{
	for (size_t i = 0; i < c->nfolders; i++)
		if (c->folders[i].type == type)
			return &c->folders[i];
	return NULL;
}

const char *
eas_folder_class(int type)
{
	switch (type) {
	case 7:
	case 15:
		return "Tasks";
	case 8:
	case 13:
		return "Calendar";
	case 9:
	case 14:
	case 19:
		return "Contacts";
	case 10:
	case 17:
		return "Notes";
	default:
		return "Email";
	}
}

int
eas_client_foldersync(struct eas_client *c, struct arena *a, int *status_r)
{
	struct wbxml_node *req;
	const struct wbxml_node *changes, *n;
	struct eas_response r;
	const char *key = c->hierarchy_key != NULL ? c->hierarchy_key : "0";
	const char *newkey;
	int64_t st = 0;

	if (status_r != NULL)
		*status_r = 0;
	req = wbxml_new(a, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	wbxml_add_text(a, req, EAS_FOLDERHIERARCHY_SYNCKEY, key);
	if (flow_post(c, a, "FolderSync", req, c->timeout_ms, &r) < 0 ||
	    expect_root(c, &r, EAS_FOLDERHIERARCHY_FOLDERSYNC, "FolderSync") <
		    0)
		return -1;
	wbxml_child_int(r.tree, EAS_FOLDERHIERARCHY_STATUS, &st);
	if (status_r != NULL)
		*status_r = (int)st;
	if (st != 1) {
		if (st == 9) /* MS-ASCMD 2.2.3.177.6: start over from 0 */
			xfree(&c->hierarchy_key);
		client_fail(c, "FolderSync: Status %lld", (long long)st);
		return -1;
	}
	newkey = wbxml_child_text(r.tree, EAS_FOLDERHIERARCHY_SYNCKEY);
	if (newkey == NULL || newkey[0] == '\0') {
		client_fail(c, "FolderSync: no SyncKey in the response");
		return -1;
	}
	if (strcmp(key, "0") == 0) {
		/* A full listing replaces whatever we had. */
		for (size_t i = 0; i < c->nfolders; i++) {
			free(c->folders[i].server_id);
			free(c->folders[i].parent_id);
			free(c->folders[i].name);
		}
		c->nfolders = 0;
	}
	changes = wbxml_child(r.tree, EAS_FOLDERHIERARCHY_CHANGES);
	if (changes != NULL) {
		wbxml_foreach(changes, n)
		{
			const char *id = wbxml_child_text(
				n, EAS_FOLDERHIERARCHY_SERVERID);
			int64_t type = 0;

			if (id == NULL)
				continue;
			if (n->tag == EAS_FOLDERHIERARCHY_DELETE) {
				folder_remove(c, id);
				continue;
			}
			if (n->tag != EAS_FOLDERHIERARCHY_ADD &&
			    n->tag != EAS_FOLDERHIERARCHY_UPDATE)
				continue;
			wbxml_child_int(n, EAS_FOLDERHIERARCHY_TYPE, &type);
			folder_upsert(
				c, id,
				wbxml_child_text(n,
						 EAS_FOLDERHIERARCHY_PARENTID),
				wbxml_child_text(
					n, EAS_FOLDERHIERARCHY_DISPLAYNAME),
				(int)type);
		}
	}
	free(c->hierarchy_key);
	c->hierarchy_key = xstrdup(newkey);
	return 0;
}

/* --- sync keys --- */

const char *
eas_client_sync_key(const struct eas_client *c, const char *collection_id)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (strcmp(c->keys[i].collection_id, collection_id) == 0)
			return c->keys[i].sync_key;
	return "0";
}

void
eas_client_set_sync_key(struct eas_client *c, const char *collection_id,
			const char *key)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		if (strcmp(c->keys[i].collection_id, collection_id) != 0)
			continue;
		if (key != NULL && strcmp(key, "0") != 0) {
			free(c->keys[i].sync_key);
			c->keys[i].sync_key = xstrdup(key);
			return;
		}
		free(c->keys[i].collection_id);
		free(c->keys[i].sync_key);
		c->keys[i] = c->keys[--c->nkeys];
		return;
	}
	if (key == NULL || strcmp(key, "0") == 0)
		return;
	c->keys = xrealloc(c->keys, (c->nkeys + 1) * sizeof(*c->keys));
	c->keys[c->nkeys].collection_id = xstrdup(collection_id);
	c->keys[c->nkeys].sync_key = xstrdup(key);
	c->nkeys++;
}

/* --- Sync --- */

const char *
eas_item_kind_name(enum eas_item_kind k)
{
	switch (k) {
	case EAS_ITEM_ADD:
		return "Add";
	case EAS_ITEM_CHANGE:
		return "Change";
	case EAS_ITEM_DELETE:
		return "Delete";
	case EAS_ITEM_SOFTDELETE:
		return "SoftDelete";
	}
	return "?";
}

void
eas_sync_opts_init(struct eas_sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_size = 100;
	o->filter_type = -1;
	o->body_type = 1;
	o->mime_support = -1;
}

struct growing {
	void *items;
	size_t count, cap;
};

static void *
grow(struct arena *a, struct growing *g, size_t size)
{
	if (g->count == g->cap) {
		size_t ncap = g->cap == 0 ? 16 : g->cap * 2;
		void *n = arena_alloc(a, ncap * size);

		if (g->count > 0)
			memcpy(n, g->items, g->count * size);
		g->items = n;
		g->cap = ncap;
	}
	return (char *)g->items + size * g->count++;
}

static struct wbxml_node *
sync_collection_req(struct eas_client *c, struct arena *a,
		    const char *collection_id, const char *key,
		    const struct eas_sync_opts *o, int get_changes,
		    struct wbxml_node **req_r)
{
	struct wbxml_node *req, *cols, *col, *opt;
	const struct eas_folder *f = folder_by_id(c, collection_id);

	req = wbxml_new(a, EAS_AIRSYNC_SYNC);
	cols = wbxml_add(a, req, EAS_AIRSYNC_COLLECTIONS);
	col = wbxml_add(a, cols, EAS_AIRSYNC_COLLECTION);
	/* 12.1 and older name the class in the request (MS-ASCMD
	 * 2.2.3.27.5); 14.0+ derives it from the folder. */
	if (eas_client_version_num(c) < 140)
		wbxml_add_text(a, col, EAS_AIRSYNC_CLASS,
			       eas_folder_class(f != NULL ? f->type : 2));
	wbxml_add_text(a, col, EAS_AIRSYNC_SYNCKEY, key);
	wbxml_add_text(a, col, EAS_AIRSYNC_COLLECTIONID, collection_id);
	if (strcmp(key, "0") != 0) {
		if (get_changes >= 0)
			wbxml_add_int(a, col, EAS_AIRSYNC_GETCHANGES,
				      get_changes);
		wbxml_add_int(a, col, EAS_AIRSYNC_WINDOWSIZE,
			      o->window_size > 0 ? o->window_size : 100);
		if (o->conversation_mode)
			wbxml_add_int(a, col, EAS_AIRSYNC_CONVERSATIONMODE, 1);
	}
	if (o->filter_type >= 0 || o->body_type > 0 || o->mime_support >= 0) {
		opt = wbxml_add(a, col, EAS_AIRSYNC_OPTIONS);
		if (o->filter_type >= 0)
			wbxml_add_int(a, opt, EAS_AIRSYNC_FILTERTYPE,
				      o->filter_type);
		if (o->body_type > 0) {
			struct wbxml_node *bp = wbxml_add(
				a, opt, EAS_AIRSYNCBASE_BODYPREFERENCE);

			wbxml_add_int(a, bp, EAS_AIRSYNCBASE_TYPE,
				      o->body_type);
			if (o->truncation > 0)
				wbxml_add_int(a, bp,
					      EAS_AIRSYNCBASE_TRUNCATIONSIZE,
					      o->truncation);
		}
		if (o->mime_support >= 0)
			wbxml_add_int(a, opt, EAS_AIRSYNC_MIMESUPPORT,
				      o->mime_support);
	}
	*req_r = req;
	return col;
}

/* Read one Sync response for collection_id into r (items and replies
 * appended). *more_r: MoreAvailable seen. Returns 0 or -1. */
static int
sync_parse(struct eas_client *c, struct arena *a, const char *collection_id,
	   const struct eas_response *resp, struct growing *items,
	   struct growing *replies, struct eas_sync_result *r, bool *more_r)
{
	const struct wbxml_node *cols, *col, *n, *sub;
	int64_t st = 0;

	*more_r = false;
	r->empty_response = resp->tree == NULL;
	if (resp->tree == NULL)
		return 0; /* empty 200: nothing changed, keep the key */
	if (resp->tree->tag != EAS_AIRSYNC_SYNC) {
		client_fail(c, "Sync: unexpected response element");
		return -1;
	}
	if (wbxml_child_int(resp->tree, EAS_AIRSYNC_STATUS, &st) == 1 &&
	    st != 1) {
		r->status = (int)st;
		client_fail(c, "Sync: Status %lld", (long long)st);
		return -1;
	}
	cols = wbxml_child(resp->tree, EAS_AIRSYNC_COLLECTIONS);
	col = NULL;
	if (cols != NULL)
		for (col = cols->child; col != NULL; col = col->next) {
			const char *id =
				wbxml_child_text(col, EAS_AIRSYNC_COLLECTIONID);

			if (col->tag == EAS_AIRSYNC_COLLECTION &&
			    (id == NULL || strcmp(id, collection_id) == 0))
				break;
		}
	if (col == NULL) {
		client_fail(c, "Sync: collection %s missing from the response",
			    collection_id);
		return -1;
	}
	st = 0;
	wbxml_child_int(col, EAS_AIRSYNC_STATUS, &st);
	r->status = (int)st;
	if (st != 1) {
		if (st == 3) /* invalid key: the next sync starts at 0 */
			eas_client_set_sync_key(c, collection_id, NULL);
		client_fail(c, "Sync %s: Status %lld", collection_id,
			    (long long)st);
		return -1;
	}
	{
		const char *key = wbxml_child_text(col, EAS_AIRSYNC_SYNCKEY);

		if (key == NULL || key[0] == '\0') {
			client_fail(c, "Sync %s: no SyncKey", collection_id);
			return -1;
		}
		eas_client_set_sync_key(c, collection_id, key);
		r->sync_key = arena_strdup(a, key);
	}
	*more_r = wbxml_child(col, EAS_AIRSYNC_MOREAVAILABLE) != NULL;
	if ((sub = wbxml_child(col, EAS_AIRSYNC_RESPONSES)) != NULL) {
		wbxml_foreach(sub, n)
		{
			struct eas_reply *rep;
			int64_t ist = 0;

			rep = grow(a, replies, sizeof(*rep));
			memset(rep, 0, sizeof(*rep));
			rep->kind =
				n->tag == EAS_AIRSYNC_ADD      ? EAS_ITEM_ADD
				: n->tag == EAS_AIRSYNC_CHANGE ? EAS_ITEM_CHANGE
				: n->tag == EAS_AIRSYNC_DELETE ? EAS_ITEM_DELETE
							       : 0;
			rep->client_id =
				wbxml_child_text(n, EAS_AIRSYNC_CLIENTID);
			rep->server_id =
				wbxml_child_text(n, EAS_AIRSYNC_SERVERID);
			rep->instance_id =
				wbxml_child_text(n, EAS_AIRSYNCBASE_INSTANCEID);
			wbxml_child_int(n, EAS_AIRSYNC_STATUS, &ist);
			rep->status = (int)ist;
			rep->appdata =
				wbxml_child(n, EAS_AIRSYNC_APPLICATIONDATA);
		}
	}
	if ((sub = wbxml_child(col, EAS_AIRSYNC_COMMANDS)) != NULL) {
		wbxml_foreach(sub, n)
		{
			struct eas_item *it;
			enum eas_item_kind k;

			if (n->tag == EAS_AIRSYNC_ADD)
				k = EAS_ITEM_ADD;
			else if (n->tag == EAS_AIRSYNC_CHANGE)
				k = EAS_ITEM_CHANGE;
			else if (n->tag == EAS_AIRSYNC_DELETE)
				k = EAS_ITEM_DELETE;
			else if (n->tag == EAS_AIRSYNC_SOFTDELETE)
				k = EAS_ITEM_SOFTDELETE;
			else
				continue;
			if (items->count >= EAS_CLIENT_MAX_ITEMS) {
				client_fail(c, "Sync: more than %u items",
					    EAS_CLIENT_MAX_ITEMS);
				return -1;
			}
			it = grow(a, items, sizeof(*it));
			it->kind = k;
			it->server_id =
				wbxml_child_text(n, EAS_AIRSYNC_SERVERID);
			if (it->server_id == NULL)
				it->server_id = "";
			it->appdata =
				wbxml_child(n, EAS_AIRSYNC_APPLICATIONDATA);
		}
	}
	return 0;
}

static void
sync_result_finish(struct eas_sync_result *r, struct growing *items,
		   struct growing *replies)
{
	r->items = items->items;
	r->count = items->count;
	r->replies = replies->items;
	r->nreplies = replies->count;
}

static int
sync_prime(struct eas_client *c, struct arena *a, const char *collection_id,
	   const struct eas_sync_opts *o, struct growing *items,
	   struct growing *replies, struct eas_sync_result *r)
{
	struct wbxml_node *req;
	struct eas_response resp;
	bool more;

	/* MS-ASCMD 2.2.3.166.4: SyncKey 0 returns a key and no items. */
	sync_collection_req(c, a, collection_id, "0", o, -1, &req);
	r->rounds++;
	if (flow_post(c, a, "Sync", req, c->timeout_ms, &resp) < 0)
		return -1;
	if (resp.tree == NULL) {
		client_fail(c, "Sync %s: empty response to SyncKey 0",
			    collection_id);
		return -1;
	}
	return sync_parse(c, a, collection_id, &resp, items, replies, r, &more);
}

int
eas_client_sync(struct eas_client *c, struct arena *a,
		const char *collection_id, const struct eas_sync_opts *opts,
		struct eas_sync_result *r)
{
	struct eas_sync_opts defaults;
	struct growing items = {0}, replies = {0};
	bool more = true;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (opts == NULL) {
		eas_sync_opts_init(&defaults);
		opts = &defaults;
	}
	if (strcmp(eas_client_sync_key(c, collection_id), "0") == 0 &&
	    sync_prime(c, a, collection_id, opts, &items, &replies, r) < 0)
		goto out;
	while (more) {
		struct wbxml_node *req;
		struct eas_response resp;

		if (r->rounds >= EAS_MAX_SYNC_ROUNDS) {
			client_fail(c, "Sync %s: MoreAvailable after %u rounds",
				    collection_id, r->rounds);
			goto out;
		}
		sync_collection_req(c, a, collection_id,
				    eas_client_sync_key(c, collection_id), opts,
				    1, &req);
		r->rounds++;
		if (flow_post(c, a, "Sync", req, c->timeout_ms, &resp) < 0 ||
		    sync_parse(c, a, collection_id, &resp, &items, &replies, r,
			       &more) < 0)
			goto out;
		if (resp.tree == NULL)
			r->status = 1;
	}
	r->sync_key = eas_client_sync_key(c, collection_id);
	ret = 0;
out:
	sync_result_finish(r, &items, &replies);
	return ret;
}

int
eas_client_sync_prime(struct eas_client *c, struct arena *a,
		      const char *collection_id)
{
	struct eas_sync_opts o;
	struct eas_sync_result r;
	struct growing items = {0}, replies = {0};

	memset(&r, 0, sizeof(r));
	eas_sync_opts_init(&o);
	return sync_prime(c, a, collection_id, &o, &items, &replies, &r);
}

int
eas_client_sync_commands(struct eas_client *c, struct arena *a,
			 const char *collection_id,
			 const struct eas_command *cmds, size_t n,
			 struct eas_sync_result *r)
{
	struct eas_sync_opts o;
	struct growing items = {0}, replies = {0};
	struct wbxml_node *req, *col, *commands;
	struct eas_response resp;
	bool more;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	eas_sync_opts_init(&o);
	if (strcmp(eas_client_sync_key(c, collection_id), "0") == 0 &&
	    sync_prime(c, a, collection_id, &o, &items, &replies, r) < 0)
		goto out;
	col = sync_collection_req(c, a, collection_id,
				  eas_client_sync_key(c, collection_id), &o, 0,
				  &req);
	commands = wbxml_add(a, col, EAS_AIRSYNC_COMMANDS);
	for (size_t i = 0; i < n; i++) {
		const struct eas_command *cmd = &cmds[i];
		struct wbxml_node *x;

		switch (cmd->kind) {
		case EAS_ITEM_ADD:
			x = wbxml_add(a, commands, EAS_AIRSYNC_ADD);
			if (cmd->client_id != NULL)
				wbxml_add_text(a, x, EAS_AIRSYNC_CLIENTID,
					       cmd->client_id);
			else
				wbxml_add_textf(a, x, EAS_AIRSYNC_CLIENTID,
						"c%zu-%08x", i,
						random_u32_nonzero());
			break;
		case EAS_ITEM_CHANGE:
			x = wbxml_add(a, commands, EAS_AIRSYNC_CHANGE);
			wbxml_add_text(a, x, EAS_AIRSYNC_SERVERID,
				       cmd->server_id);
			if (cmd->instance_id != NULL)
				wbxml_add_text(a, x, EAS_AIRSYNCBASE_INSTANCEID,
					       cmd->instance_id);
			break;
		case EAS_ITEM_DELETE:
		case EAS_ITEM_SOFTDELETE:
			x = wbxml_add(a, commands, EAS_AIRSYNC_DELETE);
			wbxml_add_text(a, x, EAS_AIRSYNC_SERVERID,
				       cmd->server_id);
			if (cmd->instance_id != NULL)
				wbxml_add_text(a, x, EAS_AIRSYNCBASE_INSTANCEID,
					       cmd->instance_id);
			break;
		default:
			client_fail(c, "Sync: bad command kind %d", cmd->kind);
			goto out;
		}
		if (cmd->appdata != NULL && cmd->kind != EAS_ITEM_DELETE) {
			struct wbxml_node *ad = wbxml_clone(a, cmd->appdata);

			/* Accept either the ApplicationData element or a
			 * list of its children. */
			if (ad->tag != EAS_AIRSYNC_APPLICATIONDATA) {
				struct wbxml_node *w = wbxml_new(
					a, EAS_AIRSYNC_APPLICATIONDATA);

				for (const struct wbxml_node *s = cmd->appdata;
				     s != NULL; s = s->next)
					wbxml_append(w, wbxml_clone(a, s));
				ad = w;
			}
			ad->next = NULL;
			wbxml_append(x, ad);
		}
	}
	r->rounds++;
	if (flow_post(c, a, "Sync", req, c->timeout_ms, &resp) < 0)
		goto out;
	if (resp.tree == NULL) {
		client_fail(c, "Sync %s: empty response to commands",
			    collection_id);
		goto out;
	}
	if (sync_parse(c, a, collection_id, &resp, &items, &replies, r, &more) <
	    0)
		goto out;
	ret = 0;
out:
	sync_result_finish(r, &items, &replies);
	return ret;
}

static int
one_command(struct eas_client *c, struct arena *a, const char *collection_id,
	    const struct eas_command *cmd, const char **server_id_r,
	    int *status_r)
{
	struct eas_sync_result r;
	const struct eas_reply *rep = NULL;
	int st;

	if (status_r != NULL)
		*status_r = 0;
	if (eas_client_sync_commands(c, a, collection_id, cmd, 1, &r) < 0)
		return -1;
	for (size_t i = 0; i < r.nreplies; i++)
		if (r.replies[i].kind == cmd->kind ||
		    (cmd->kind == EAS_ITEM_ADD && r.replies[i].client_id))
			rep = &r.replies[i];
	/* MS-ASCMD 2.2.3.152: Add is always answered; Change and Delete only
	 * when they failed. */
	st = rep != NULL ? rep->status : 1;
	if (status_r != NULL)
		*status_r = st;
	if (cmd->kind == EAS_ITEM_ADD) {
		if (rep == NULL) {
			client_fail(c, "Sync: no Responses/Add for our Add");
			return -1;
		}
		if (server_id_r != NULL)
			*server_id_r = rep->server_id;
	}
	if (st != 1) {
		client_fail(c, "Sync %s: item Status %d",
			    eas_item_kind_name(cmd->kind), st);
		return -1;
	}
	if (cmd->kind == EAS_ITEM_ADD &&
	    (rep->server_id == NULL || rep->server_id[0] == '\0')) {
		client_fail(c, "Sync: Add answered without a ServerId");
		return -1;
	}
	return 0;
}

int
eas_client_add(struct eas_client *c, struct arena *a, const char *collection_id,
	       const struct wbxml_node *appdata, const char **server_id_r,
	       int *status_r)
{
	struct eas_command cmd = {.kind = EAS_ITEM_ADD, .appdata = appdata};

	return one_command(c, a, collection_id, &cmd, server_id_r, status_r);
}

int
eas_client_change(struct eas_client *c, struct arena *a,
		  const char *collection_id, const char *server_id,
		  const struct wbxml_node *appdata, int *status_r)
{
	struct eas_command cmd = {.kind = EAS_ITEM_CHANGE,
				  .server_id = server_id,
				  .appdata = appdata};

	return one_command(c, a, collection_id, &cmd, NULL, status_r);
}

int
eas_client_delete(struct eas_client *c, struct arena *a,
		  const char *collection_id, const char *server_id,
		  int *status_r)
{
	struct eas_command cmd = {.kind = EAS_ITEM_DELETE,
				  .server_id = server_id};

	return one_command(c, a, collection_id, &cmd, NULL, status_r);
}

int
eas_client_change_instance(struct eas_client *c, struct arena *a,
			   const char *collection_id, const char *server_id,
			   const char *instance_id,
			   const struct wbxml_node *appdata, int *status_r)
{
	struct eas_command cmd = {
		.kind = appdata != NULL ? EAS_ITEM_CHANGE : EAS_ITEM_DELETE,
		.server_id = server_id,
		.instance_id = instance_id,
		.appdata = appdata,
	};

	return one_command(c, a, collection_id, &cmd, NULL, status_r);
}

/* --- GetItemEstimate, Ping, ItemOperations --- */

int
eas_client_estimate(struct eas_client *c, struct arena *a,
		    const char *collection_id, int64_t *estimate_r,
		    int *status_r)
{
	struct wbxml_node *req, *cols, *col;
	const struct wbxml_node *resp_n, *rc;
	struct eas_response r;
	const struct eas_folder *f = folder_by_id(c, collection_id);
	int64_t st = 0, est = 0;

	if (status_r != NULL)
		*status_r = 0;
	req = wbxml_new(a, EAS_GETITEMESTIMATE_GETITEMESTIMATE);
	cols = wbxml_add(a, req, EAS_GETITEMESTIMATE_COLLECTIONS);
	col = wbxml_add(a, cols, EAS_GETITEMESTIMATE_COLLECTION);
	if (eas_client_version_num(c) < 140) {
		/* MS-ASCMD 2.2.3.27.3: 12.1 layout */
		wbxml_add_text(a, col, EAS_GETITEMESTIMATE_CLASS,
			       eas_folder_class(f != NULL ? f->type : 2));
		wbxml_add_text(a, col, EAS_GETITEMESTIMATE_COLLECTIONID,
			       collection_id);
		wbxml_add_int(a, col, EAS_AIRSYNC_FILTERTYPE, 0);
		wbxml_add_text(a, col, EAS_AIRSYNC_SYNCKEY,
			       eas_client_sync_key(c, collection_id));
	} else {
		wbxml_add_text(a, col, EAS_AIRSYNC_SYNCKEY,
			       eas_client_sync_key(c, collection_id));
		wbxml_add_text(a, col, EAS_GETITEMESTIMATE_COLLECTIONID,
			       collection_id);
	}
	if (flow_post(c, a, "GetItemEstimate", req, c->timeout_ms, &r) < 0 ||
	    expect_root(c, &r, EAS_GETITEMESTIMATE_GETITEMESTIMATE,
			"GetItemEstimate") < 0)
		return -1;
	resp_n = wbxml_child(r.tree, EAS_GETITEMESTIMATE_RESPONSE);
	if (resp_n == NULL) {
		wbxml_child_int(r.tree, EAS_GETITEMESTIMATE_STATUS, &st);
		if (status_r != NULL)
			*status_r = (int)st;
		client_fail(c, "GetItemEstimate: Status %lld", (long long)st);
		return -1;
	}
	wbxml_child_int(resp_n, EAS_GETITEMESTIMATE_STATUS, &st);
	if (status_r != NULL)
		*status_r = (int)st;
	if (st != 1) {
		client_fail(c, "GetItemEstimate: Status %lld", (long long)st);
		return -1;
	}
	rc = wbxml_child(resp_n, EAS_GETITEMESTIMATE_COLLECTION);
	if (rc == NULL ||
	    wbxml_child_int(rc, EAS_GETITEMESTIMATE_ESTIMATE, &est) != 1) {
		client_fail(c, "GetItemEstimate: no Estimate");
		return -1;
	}
	*estimate_r = est;
	return 0;
}

int
eas_client_ping(struct eas_client *c, struct arena *a, unsigned heartbeat,
		const char *const *collection_ids, size_t n, int *status_r,
		const char ***changed_r, size_t *nchanged_r)
{
	struct wbxml_node *req = NULL, *folders;
	const struct wbxml_node *fl, *f;
	struct eas_response r;
	struct growing changed = {0};
	int64_t st = 0;
	long timeout;

	*status_r = 0;
	if (changed_r != NULL)
		*changed_r = NULL;
	if (nchanged_r != NULL)
		*nchanged_r = 0;
	if (n > 0 || heartbeat > 0) {
		req = wbxml_new(a, EAS_PING_PING);
		if (heartbeat > 0)
			wbxml_add_int(a, req, EAS_PING_HEARTBEATINTERVAL,
				      heartbeat);
		if (n > 0) {
			folders = wbxml_add(a, req, EAS_PING_FOLDERS);
			for (size_t i = 0; i < n; i++) {
				struct wbxml_node *fn =
					wbxml_add(a, folders, EAS_PING_FOLDER);
				const struct eas_folder *ef =
					folder_by_id(c, collection_ids[i]);

				wbxml_add_text(a, fn, EAS_PING_ID,
					       collection_ids[i]);
				wbxml_add_text(
					a, fn, EAS_PING_CLASS,
					eas_folder_class(ef != NULL ? ef->type
								    : 2));
			}
		}
	}
	/* The server holds the request up to the heartbeat; wait longer. */
	timeout = (long)(heartbeat > 0 ? heartbeat : 3540) * 1000 + 60000;
	if (c->timeout_ms > timeout)
		timeout = c->timeout_ms;
	if (flow_post(c, a, "Ping", req, timeout, &r) < 0 ||
	    expect_root(c, &r, EAS_PING_PING, "Ping") < 0)
		return -1;
	wbxml_child_int(r.tree, EAS_PING_STATUS, &st);
	*status_r = (int)st;
	if ((fl = wbxml_child(r.tree, EAS_PING_FOLDERS)) != NULL) {
		wbxml_foreach(fl, f)
		{
			const char **slot;

			if (f->tag != EAS_PING_FOLDER)
				continue;
			slot = grow(a, &changed, sizeof(*slot));
			*slot = wbxml_text(f);
		}
	}
	if (changed_r != NULL)
		*changed_r = changed.items;
	if (nchanged_r != NULL)
		*nchanged_r = changed.count;
	if (st < 1 || st > 2) {
		client_fail(c, "Ping: Status %lld", (long long)st);
		return -1;
	}
	return 0;
}

int
eas_client_fetch(struct eas_client *c, struct arena *a,
		 const char *collection_id, const char *server_id,
		 const struct wbxml_node **props_r, int *status_r)
{
	struct wbxml_node *req, *fetch, *opt, *bp;
	const struct wbxml_node *resp_n, *f;
	struct eas_response r;
	int64_t st = 0;

	if (status_r != NULL)
		*status_r = 0;
	*props_r = NULL;
	/* MS-ASCMD 2.2.3.67.1: Fetch of a mailbox item by ServerId */
	req = wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
	fetch = wbxml_add(a, req, EAS_ITEMOPERATIONS_FETCH);
	wbxml_add_text(a, fetch, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_add_text(a, fetch, EAS_AIRSYNC_COLLECTIONID, collection_id);
	wbxml_add_text(a, fetch, EAS_AIRSYNC_SERVERID, server_id);
	opt = wbxml_add(a, fetch, EAS_ITEMOPERATIONS_OPTIONS);
	bp = wbxml_add(a, opt, EAS_AIRSYNCBASE_BODYPREFERENCE);
	wbxml_add_int(a, bp, EAS_AIRSYNCBASE_TYPE, 1);
	if (flow_post(c, a, "ItemOperations", req, c->timeout_ms, &r) < 0 ||
	    expect_root(c, &r, EAS_ITEMOPERATIONS_ITEMOPERATIONS,
			"ItemOperations") < 0)
		return -1;
	wbxml_child_int(r.tree, EAS_ITEMOPERATIONS_STATUS, &st);
	if (st != 1) {
		if (status_r != NULL)
			*status_r = (int)st;
		client_fail(c, "ItemOperations: Status %lld", (long long)st);
		return -1;
	}
	resp_n = wbxml_child(r.tree, EAS_ITEMOPERATIONS_RESPONSE);
	f = resp_n != NULL ? wbxml_child(resp_n, EAS_ITEMOPERATIONS_FETCH)
			   : NULL;
	if (f == NULL) {
		client_fail(c, "ItemOperations: no Fetch in the response");
		return -1;
	}
	st = 0;
	wbxml_child_int(f, EAS_ITEMOPERATIONS_STATUS, &st);
	if (status_r != NULL)
		*status_r = (int)st;
	if (st != 1) {
		client_fail(c, "ItemOperations Fetch: Status %lld",
			    (long long)st);
		return -1;
	}
	*props_r = wbxml_child(f, EAS_ITEMOPERATIONS_PROPERTIES);
	if (*props_r == NULL) {
		client_fail(c, "ItemOperations Fetch: no Properties");
		return -1;
	}
	return 0;
}

/* --- state file --- */

static void
state_put_escaped(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else
			fputc(*s, f);
	}
}

/* Split line at tabs into at most max fields, unescaping in place. */
static size_t
state_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *r = line, *w = line;

	fields[n++] = w;
	for (; *r != '\0'; r++) {
		if (*r == '\t' && n < max) {
			*w++ = '\0';
			fields[n++] = w;
		} else if (*r == '\\' && r[1] != '\0') {
			r++;
			*w++ = *r == 't'   ? '\t'
			       : *r == 'n' ? '\n'
			       : *r == 'r' ? '\r'
					   : *r;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return n;
}

int
eas_client_state_load(struct eas_client *c, const char *path)
{
	char line[EAS_STATE_MAX_LINE];
	FILE *f = fopen(path, "r");
	unsigned lineno = 0;
	int ret = -1;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		client_fail(c, "%s: %s", path, strerror(errno));
		return -1;
	}
	eas_client_state_reset(c);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *fields[4];
		size_t len = strlen(line), nf;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			client_fail(c, "%s:%u: line too long", path, lineno);
			goto out;
		}
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			client_fail(c, "%s:%u: expected key=value", path,
				    lineno);
			goto out;
		}
		*eq++ = '\0';
		if (strcmp(line, "policy_key") == 0) {
			if (str_to_uint32(eq, &c->policy_key) < 0) {
				client_fail(c, "%s:%u: bad policy key", path,
					    lineno);
				goto out;
			}
		} else if (strcmp(line, "hierarchy_key") == 0) {
			free(c->hierarchy_key);
			c->hierarchy_key = xstrdup(eq);
		} else if (strcmp(line, "folder") == 0) {
			int64_t type;

			nf = state_split(eq, fields, 4);
			if (nf != 4 || str_to_int64(fields[2], &type) < 0) {
				client_fail(c, "%s:%u: bad folder line", path,
					    lineno);
				goto out;
			}
			folder_upsert(c, fields[0], fields[1], fields[3],
				      (int)type);
		} else if (strcmp(line, "synckey") == 0) {
			nf = state_split(eq, fields, 2);
			if (nf != 2) {
				client_fail(c, "%s:%u: bad synckey line", path,
					    lineno);
				goto out;
			}
			eas_client_set_sync_key(c, fields[0], fields[1]);
		}
		/* unknown keys: written by a newer version; ignore */
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

int
eas_client_state_save(const struct eas_client *c, const char *path)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int ret = -1;

	if (f == NULL)
		goto out;
	fprintf(f, "# easclient state: one phone's keys and folders\n");
	fprintf(f, "policy_key=%u\n", c->policy_key);
	if (c->hierarchy_key != NULL) {
		fputs("hierarchy_key=", f);
		state_put_escaped(f, c->hierarchy_key);
		fputc('\n', f);
	}
	for (size_t i = 0; i < c->nfolders; i++) {
		const struct eas_folder *fo = &c->folders[i];

		fputs("folder=", f);
		state_put_escaped(f, fo->server_id);
		fputc('\t', f);
		state_put_escaped(f, fo->parent_id);
		fprintf(f, "\t%d\t", fo->type);
		state_put_escaped(f, fo->name);
		fputc('\n', f);
	}
	for (size_t i = 0; i < c->nkeys; i++) {
		fputs("synckey=", f);
		state_put_escaped(f, c->keys[i].collection_id);
		fputc('\t', f);
		state_put_escaped(f, c->keys[i].sync_key);
		fputc('\n', f);
	}
	if (fflush(f) != 0 || ferror(f)) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

/* --- base64 query form (MS-ASHTTP 2.2.1.1.1.1) --- */

const char *
eas_query_b64(struct arena *a, const struct eas_b64_query *q)
{
	size_t tlen = q->device_type != NULL ? strlen(q->device_type) : 0;
	size_t len = 4 + 1 + q->device_id_len + 1 + 4 + 1 + tlen;
	uint8_t *bin, *p;
	char *out;

	if (q->device_id_len > 255 || tlen > 255)
		return NULL;
	for (size_t i = 0; i < q->nparams; i++) {
		if (q->params[i].len > 255)
			return NULL;
		len += 2 + q->params[i].len;
	}
	bin = p = arena_alloc(a, len);
	*p++ = q->version;
	*p++ = q->command;
	*p++ = (uint8_t)(q->locale & 0xff); /* little-endian */
	*p++ = (uint8_t)(q->locale >> 8);
	*p++ = (uint8_t)q->device_id_len;
	if (q->device_id_len > 0)
		memcpy(p, q->device_id, q->device_id_len);
	p += q->device_id_len;
	if (q->has_policy_key) {
		*p++ = 4;
		*p++ = (uint8_t)(q->policy_key & 0xff);
		*p++ = (uint8_t)((q->policy_key >> 8) & 0xff);
		*p++ = (uint8_t)((q->policy_key >> 16) & 0xff);
		*p++ = (uint8_t)(q->policy_key >> 24);
	} else {
		*p++ = 0;
	}
	*p++ = (uint8_t)tlen;
	if (tlen > 0)
		memcpy(p, q->device_type, tlen);
	p += tlen;
	for (size_t i = 0; i < q->nparams; i++) {
		*p++ = q->params[i].tag;
		*p++ = (uint8_t)q->params[i].len;
		if (q->params[i].len > 0)
			memcpy(p, q->params[i].value, q->params[i].len);
		p += q->params[i].len;
	}
	out = arena_alloc(a, base64_encoded_len((size_t)(p - bin)) + 1);
	base64_encode(bin, (size_t)(p - bin), out);
	return out;
}
