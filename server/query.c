/* The request query string in both forms (MS-ASHTTP 2.2.1.1.1): plain
 * "Cmd=Sync&User=..." and the base64-encoded binary form of 12.1+. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"

/* MS-ASHTTP 2.2.1.1.1.1.2: command codes of the base64 form. */
static const char *const cmd_by_code[] = {
	[0] = "Sync",
	[1] = "SendMail",
	[2] = "SmartForward",
	[3] = "SmartReply",
	[4] = "GetAttachment",
	[9] = "FolderSync",
	[10] = "FolderCreate",
	[11] = "FolderDelete",
	[12] = "FolderUpdate",
	[13] = "MoveItems",
	[14] = "GetItemEstimate",
	[15] = "MeetingResponse",
	[16] = "Search",
	[17] = "Settings",
	[18] = "Ping",
	[19] = "ItemOperations",
	[20] = "Provision",
	[21] = "ResolveRecipients",
	[22] = "ValidateCert",
	[23] = "Find",
};

/* Percent-decode s[0..n) into the arena; '+' is a space. NULL when a
 * %-escape is malformed or decodes to NUL. */
static char *
url_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1);

	return str_url_decode(out, s, n) == 0 ? out : NULL;
}

static void
set_version(struct eas_req *req, unsigned v)
{
	req->version = v;
	req->version_str = arena_printf(req->arena, "%u.%u", v / 10, v % 10);
}

static int
parse_plain(struct eas_req *req, const char *q)
{
	while (*q != '\0') {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		char *key, *val;

		eq = memchr(q, '=', len);
		if (eq == NULL) {
			/* A key without value is ignored, like any unknown
			 * parameter. */
			q += len + (amp != NULL);
			continue;
		}
		key = url_decode(req->arena, q, (size_t)(eq - q));
		val = url_decode(req->arena, eq + 1,
				 len - (size_t)(eq - q) - 1);
		if (key == NULL || val == NULL) {
			log_info("malformed %%-escape in the query");
			return -1;
		}
		if (str_ieq(key, "Cmd"))
			req->cmd = val;
		else if (str_ieq(key, "User"))
			req->user = val;
		else if (str_ieq(key, "DeviceId"))
			req->device_id = val;
		else if (str_ieq(key, "DeviceType"))
			req->device_type = val;
		else if (str_ieq(key, "CollectionId"))
			req->collection_id = val;
		else if (str_ieq(key, "ItemId"))
			req->item_id = val;
		else if (str_ieq(key, "LongId"))
			req->long_id = val;
		else if (str_ieq(key, "Occurrence"))
			req->occurrence = val;
		else if (str_ieq(key, "AttachmentName"))
			req->attachment_name = val;
		else if (str_ieq(key, "SaveInSent"))
			req->save_in_sent = str_ieq(val, "T");
		q += len + (amp != NULL);
	}
	req->cmd_code = -1;
	for (size_t i = 0; i < N_ELEMENTS(cmd_by_code); i++)
		if (cmd_by_code[i] != NULL && req->cmd != NULL &&
		    str_ieq(cmd_by_code[i], req->cmd))
			req->cmd_code = (int)i;
	return 0;
}

/* MS-ASHTTP 2.2.1.1.1.1: version, command code, locale, DeviceId,
 * PolicyKey, DeviceType, then tag/length/value parameters. Every length is
 * checked against what is left. */
static int
parse_base64(struct eas_req *req, const char *q)
{
	size_t qlen = strlen(q), n, pos = 0;
	char *dec = url_decode(req->arena, q, qlen);
	uint8_t *b;
	long blen;
	unsigned ver, code, idlen, pklen, tlen;
	char *hex;

	if (dec == NULL)
		return -1;
	/* url_decode turned '+' into ' '; base64 wants '+' back. */
	for (char *p = dec; *p != '\0'; p++)
		if (*p == ' ')
			*p = '+';
	b = arena_alloc(req->arena, base64_decoded_max(strlen(dec)));
	blen = base64_decode(dec, strlen(dec), b);
	if (blen < 0) {
		log_info("base64 query does not decode");
		return -1;
	}
	n = (size_t)blen;
#define NEED(k)                                                                \
	do {                                                                   \
		if (pos + (k) > n)                                             \
			goto truncated;                                        \
	} while (0)
	NEED(5);
	ver = b[0];
	code = b[1];
	idlen = b[4];
	pos = 5;
	NEED(idlen);
	hex = arena_alloc(req->arena, idlen * 2 + 1);
	for (unsigned i = 0; i < idlen; i++)
		snprintf(hex + i * 2, 3, "%02X", b[pos + i]);
	req->device_id = hex;
	pos += idlen;
	NEED(1);
	pklen = b[pos++];
	if (pklen != 0 && pklen != 4) {
		log_info("base64 query: policy key length %u", pklen);
		return -1;
	}
	NEED(pklen);
	if (pklen == 4) {
		req->policy_key_given = true;
		req->policy_key = (uint32_t)b[pos] | (uint32_t)b[pos + 1] << 8 |
				  (uint32_t)b[pos + 2] << 16 |
				  (uint32_t)b[pos + 3] << 24;
		pos += 4;
	}
	NEED(1);
	tlen = b[pos++];
	NEED(tlen);
	req->device_type = arena_strndup(req->arena, (char *)b + pos, tlen);
	pos += tlen;
	while (pos < n) {
		unsigned tag, len;
		char *val;

		NEED(2);
		tag = b[pos];
		len = b[pos + 1];
		pos += 2;
		NEED(len);
		val = arena_strndup(req->arena, (char *)b + pos, len);
		switch (tag) {
		case 0:
			req->attachment_name = val;
			break;
		case 1:
			req->collection_id = val;
			break;
		case 3:
			req->item_id = val;
			break;
		case 4:
			req->long_id = val;
			break;
		case 6:
			req->occurrence = val;
			break;
		case 7:
			if (len >= 1) {
				req->save_in_sent = (b[pos] & 0x01) != 0;
				req->accept_multipart = (b[pos] & 0x02) != 0;
			}
			break;
		case 8:
			req->user = val;
			break;
		default:
			break; /* obsolete or unknown: ignored */
		}
		pos += len;
	}
#undef NEED
	req->cmd_code = (int)code;
	req->cmd = code < N_ELEMENTS(cmd_by_code) && cmd_by_code[code] != NULL
			   ? cmd_by_code[code]
			   : arena_printf(req->arena, "#%u", code);
	set_version(req, ver);
	return 0;
truncated:
	log_info("base64 query truncated at byte %zu of %zu", pos, n);
	return -1;
}

int
eas_parse_query(struct eas_req *req, const char *query)
{
	if (*query == '\0') {
		log_info("request without a query string");
		return -1;
	}
	/* The base64 form has no "Cmd=" (MS-ASHTTP 2.2.1.1.1.1). */
	if (strstr(query, "Cmd=") == NULL && strstr(query, "cmd=") == NULL)
		return parse_base64(req, query);
	return parse_plain(req, query);
}
