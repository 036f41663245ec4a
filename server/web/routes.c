/* The routes of the web pages, one handler per page: which site, whether
 * it needs a session, and the page function. */
#include "util.h"
#include "web.h"

#define PAGE(name, site, flags, fn)                                            \
	static enum http_result name(struct http_request *hr)                  \
	{                                                                      \
		return web_serve(hr, site, flags, fn);                         \
	}

PAGE(admin_login, WEB_ADMIN, WEB_F_PUBLIC, web_login_page)
PAGE(admin_logout, WEB_ADMIN, 0, web_logout)
PAGE(admin_dashboard, WEB_ADMIN, 0, web_dashboard)
PAGE(admin_accounts, WEB_ADMIN, 0, web_accounts)
PAGE(admin_devices, WEB_ADMIN, 0, web_devices)
PAGE(admin_device, WEB_ADMIN, 0, web_device)
PAGE(admin_policies, WEB_ADMIN, 0, web_policies)
PAGE(admin_queue, WEB_ADMIN, 0, web_queue)
PAGE(self_login, WEB_SELF, WEB_F_PUBLIC, web_login_page)
PAGE(self_logout, WEB_SELF, 0, web_logout)
PAGE(self_devices, WEB_SELF, 0, web_self_devices)
PAGE(self_device, WEB_SELF, 0, web_self_device)
PAGE(self_oof, WEB_SELF, 0, web_self_oof)
PAGE(self_password, WEB_SELF, 0, web_self_password)

/* Forms are small: a larger body is refused (413) before it is read,
 * whatever the listener allows ActiveSync. */
#define WEB_FORM_MAX (64 * 1024)

static enum http_result
web_headers(struct http_request *hr)
{
	hr->max_body = WEB_FORM_MAX;
	return HTTP_CONTINUE;
}

const struct http_route web_admin_routes[] = {
	{"/", "GET", web_headers, admin_dashboard},
	{"/login", "GET,POST", web_headers, admin_login},
	{"/logout", "POST", web_headers, admin_logout},
	{"/accounts", "GET,POST", web_headers, admin_accounts},
	{"/devices", "GET", web_headers, admin_devices},
	{"/device", "GET,POST", web_headers, admin_device},
	{"/policies", "GET,POST", web_headers, admin_policies},
	{"/queue", "GET,POST", web_headers, admin_queue},
	{"/style.css", "GET", web_headers, web_style},
	{"/favicon.svg", "GET", web_headers, web_icon},
	{"/web.js", "GET", web_headers, web_script},
};
const size_t web_admin_nroutes = N_ELEMENTS(web_admin_routes);

const struct http_route web_self_routes[] = {
	{"/account", "GET", web_headers, self_devices},
	{"/account/", "GET", web_headers, self_devices},
	{"/account/login", "GET,POST", web_headers, self_login},
	{"/account/logout", "POST", web_headers, self_logout},
	{"/account/device", "POST", web_headers, self_device},
	{"/account/oof", "GET,POST", web_headers, self_oof},
	{"/account/password", "GET,POST", web_headers, self_password},
	{"/account/style.css", "GET", web_headers, web_style},
	{"/account/favicon.svg", "GET", web_headers, web_icon},
	{"/account/web.js", "GET", web_headers, web_script},
};
const size_t web_self_nroutes = N_ELEMENTS(web_self_routes);
