/* Autodiscover for mobile clients (MS-ASCMD 2.2.1.1, the "mobilesync"
 * plain-XML schema): tells an authenticated device the ActiveSync URL. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "util.h"

#define NS_REQUEST                                                             \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/"       \
	"requestschema/2006"
#define NS_RESPONSE                                                            \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/"   \
	"2006"
#define NS_MOBILESYNC                                                          \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/"       \
	"responseschema/2006"

static xmlNodePtr
child_named(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

static void
free_doc(void *p)
{
	xmlFreeDoc(p);
}

static void
finish_doc(struct eas_req *req, xmlDocPtr out)
{
	xmlChar *mem = NULL;
	int len = 0;

	xmlDocDumpFormatMemoryEnc(out, &mem, &len, "utf-8", 1);
	req->resp_body = arena_memdup(req->arena, mem, (size_t)len);
	req->resp_len = (size_t)len;
	req->resp_content_type = "text/xml; charset=utf-8";
	xmlFree(mem);
	xmlFreeDoc(out);
}

/* The generic error answer (code 600 invalid request, 601 schema not
 * supported). */
static void
error_response(struct eas_req *req, int code, const char *message)
{
	xmlDocPtr out = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "Autodiscover");
	xmlNodePtr resp, err;
	char codebuf[16];

	xmlSetNs(root, xmlNewNs(root, BAD_CAST NS_RESPONSE, NULL));
	xmlDocSetRootElement(out, root);
	resp = xmlNewChild(root, NULL, BAD_CAST "Response", NULL);
	err = xmlNewChild(resp, NULL, BAD_CAST "Error", NULL);
	snprintf(codebuf, sizeof(codebuf), "%d", code);
	xmlNewChild(err, NULL, BAD_CAST "ErrorCode", BAD_CAST codebuf);
	xmlNewChild(err, NULL, BAD_CAST "Message", BAD_CAST message);
	xmlNewChild(err, NULL, BAD_CAST "DebugData", NULL);
	req->eas_status = code;
	finish_doc(req, out);
}

int
autodiscover_handle(struct eas_req *req)
{
	xmlDocPtr doc;
	xmlNodePtr root, request, email, schema, resp, user, action, settings,
		server;
	const char *url;
	xmlDocPtr out;
	xmlNodePtr oroot;

	doc = xmlReadMemory((const char *)req->body, (int)req->body_len,
			    "autodiscover.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (doc == NULL) {
		log_info("autodiscover: request is not XML");
		error_response(req, 600, "Invalid Request");
		return 0;
	}
	arena_add_cleanup(req->arena, free_doc, doc);
	root = xmlDocGetRootElement(doc);
	request = root != NULL && strcmp((const char *)root->name,
					 "Autodiscover") == 0
			  ? child_named(root, "Request")
			  : NULL;
	email = child_named(request, "EMailAddress");
	schema = child_named(request, "AcceptableResponseSchema");
	if (request == NULL || email == NULL) {
		log_info("autodiscover: no Request/EMailAddress");
		error_response(req, 600, "Invalid Request");
		return 0;
	}
	if (schema == NULL) {
		error_response(req, 600, "Invalid Request");
		return 0;
	}
	{
		xmlChar *s = xmlNodeGetContent(schema);
		bool ok = s != NULL &&
			  strcmp((const char *)s, NS_MOBILESYNC) == 0;

		if (!ok)
			log_info("autodiscover: schema %s not supported",
				 s != NULL ? (const char *)s : "-");
		xmlFree(s);
		if (!ok) {
			error_response(req, 601,
				       "Provider is not available for the "
				       "requested schema");
			return 0;
		}
	}
	if (req->srv->cfg.public_url != NULL)
		url = arena_printf(
			req->arena, "%s%sMicrosoft-Server-ActiveSync",
			req->srv->cfg.public_url,
			req->srv->cfg.public_url[0] != '\0' &&
					req->srv->cfg.public_url
							[strlen(req->srv->cfg
									.public_url) -
							 1] == '/'
				? ""
				: "/");
	else
		url = arena_printf(req->arena,
				   "%s://%s/Microsoft-Server-ActiveSync",
				   req->tls ? "https" : "http",
				   req->host != NULL ? req->host : "localhost");

	out = xmlNewDoc(BAD_CAST "1.0");
	oroot = xmlNewNode(NULL, BAD_CAST "Autodiscover");
	xmlSetNs(oroot, xmlNewNs(oroot, BAD_CAST NS_RESPONSE, NULL));
	xmlDocSetRootElement(out, oroot);
	resp = xmlNewChild(oroot, NULL, BAD_CAST "Response", NULL);
	xmlSetNs(resp, xmlNewNs(resp, BAD_CAST NS_MOBILESYNC, NULL));
	xmlNewTextChild(resp, NULL, BAD_CAST "Culture", BAD_CAST "en:us");
	user = xmlNewChild(resp, NULL, BAD_CAST "User", NULL);
	xmlNewTextChild(user, NULL, BAD_CAST "DisplayName",
			BAD_CAST(req->account.display_name != NULL
					 ? req->account.display_name
					 : req->account.login));
	xmlNewTextChild(user, NULL, BAD_CAST "EMailAddress",
			BAD_CAST(req->account.email != NULL
					 ? req->account.email
					 : req->account.login));
	action = xmlNewChild(resp, NULL, BAD_CAST "Action", NULL);
	settings = xmlNewChild(action, NULL, BAD_CAST "Settings", NULL);
	server = xmlNewChild(settings, NULL, BAD_CAST "Server", NULL);
	xmlNewTextChild(server, NULL, BAD_CAST "Type", BAD_CAST "MobileSync");
	xmlNewTextChild(server, NULL, BAD_CAST "Url", BAD_CAST url);
	xmlNewTextChild(server, NULL, BAD_CAST "Name", BAD_CAST url);
	log_info("autodiscover: %s -> %s", req->account.login, url);
	finish_doc(req, out);
	return 0;
}
