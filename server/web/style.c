/* The stylesheet, the icon and the one small script of the web pages,
 * served by easd itself (no CDN, no web font): readable on a phone, tables
 * scroll sideways on small screens. */
#include <string.h>

#include "web.h"

static const char style[] =
	"*{box-sizing:border-box}"
	"body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',"
	"Roboto,sans-serif;color:#1d2329;background:#f4f6f8}"
	"header{display:flex;flex-wrap:wrap;align-items:center;gap:.5em 1em;"
	"padding:.6em 1em;background:#16324f;color:#fff}"
	".brand{font-weight:700;margin-right:1em}"
	"nav{display:flex;flex-wrap:wrap;align-items:center;gap:.3em 1em}"
	"nav a{color:#fff;text-decoration:none}nav a:hover{text-decoration:"
	"underline}"
	"nav form{margin:0}nav button{background:none;border:1px solid #fff8;"
	"color:#fff;padding:.2em .6em}"
	"main{max-width:70em;margin:0 auto;padding:1em}"
	"h1{font-size:1.5em;margin:.3em 0 .6em}h2{font-size:1.15em}"
	"table{border-collapse:collapse;width:100%;background:#fff}"
	"th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid "
	"#dde3e8;vertical-align:top}"
	"thead th{background:#e9eef2}"
	".scroll{overflow-x:auto}"
	"table.kv th{width:12em;background:#f0f3f6}"
	".card{background:#fff;border:1px solid #dde3e8;border-radius:6px;"
	"padding:.8em 1em;margin:0 0 1em}.card h2{margin:.1em 0}"
	".card p{margin:.2em 0}"
	".actions{display:flex;flex-wrap:wrap;gap:.4em;margin:.6em 0}"
	".actions form{margin:0}"
	"button{font:inherit;padding:.45em .9em;border:1px solid #7a8a99;"
	"border-radius:4px;background:#fff;cursor:pointer}"
	"button.danger{background:#b3261e;border-color:#b3261e;color:#fff}"
	"input,select,textarea{font:inherit;padding:.4em;border:1px solid "
	"#9aa7b3;border-radius:4px;max-width:100%}"
	"form.login,form.stack{display:flex;flex-direction:column;gap:.7em;"
	"max-width:24em}"
	"form.login label,form.stack label{display:flex;flex-direction:"
	"column;gap:.2em}"
	"form.search{display:flex;gap:.4em;margin:0 0 1em}"
	".notice{padding:.7em 1em;border-radius:4px;border:1px solid}"
	".notice.ok{background:#e6f4ea;border-color:#7cb68a}"
	".notice.warn{background:#fff4e0;border-color:#e0a84a}"
	".notice.error{background:#fde8e7;border-color:#d9786f}"
	".blocked,.quarantined{color:#b3261e;font-weight:600}"
	".tiles{display:grid;grid-template-columns:repeat(auto-fill,"
	"minmax(11em,1fr));gap:.8em;margin:0 0 1em}"
	".tile{background:#fff;border:1px solid #dde3e8;border-radius:6px;"
	"padding:.6em .8em}.tile b{display:block;font-size:1.6em}"
	"svg{width:100%;height:auto;background:#fff;border:1px solid #dde3e8}"
	"footer{text-align:center;color:#6b7785;font-size:.85em;padding:2em}"
	"@media (max-width:40em){main{padding:.6em}th,td{padding:.3em}"
	"table.kv th{width:auto}}";

enum http_result
web_style(struct http_request *hr)
{
	http_add_header(hr, "Cache-Control", "max-age=3600");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	hr->status = 200;
	hr->content_type = "text/css; charset=utf-8";
	hr->resp_body = (const uint8_t *)style;
	hr->resp_len = strlen(style);
	return HTTP_DONE;
}

/* A small icon, so that browsers do not ask for /favicon.ico (a 404 in
 * their console). */
static const char icon[] =
	"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
	"<rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#16324f\"/>"
	"<path d=\"M4 4h8v2H6v1h5v2H6v1h6v2H4z\" fill=\"#fff\"/></svg>";

enum http_result
web_icon(struct http_request *hr)
{
	http_add_header(hr, "Cache-Control", "max-age=86400");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	hr->status = 200;
	hr->content_type = "image/svg+xml";
	hr->resp_body = (const uint8_t *)icon;
	hr->resp_len = strlen(icon);
	return HTTP_DONE;
}

/* The only script: typing in a list's search box filters the table at
 * once. Progressive: without it the search form is sent and the server
 * filters. */
static const char script[] =
	"document.addEventListener('DOMContentLoaded',function(){"
	"var q=document.querySelector('form.search input[name=q]');"
	"var rows=document.querySelectorAll('table.filter tbody tr');"
	"if(!q||!rows.length)return;"
	"q.addEventListener('input',function(){"
	"var t=q.value.toLowerCase();"
	"rows.forEach(function(r){"
	"r.hidden=t!==''&&r.textContent.toLowerCase().indexOf(t)<0;});});});";

enum http_result
web_script(struct http_request *hr)
{
	http_add_header(hr, "Cache-Control", "max-age=3600");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	hr->status = 200;
	hr->content_type = "text/javascript; charset=utf-8";
	hr->resp_body = (const uint8_t *)script;
	hr->resp_len = strlen(script);
	return HTTP_DONE;
}
