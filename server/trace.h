/* Per-device tracing switched on at run time (easctl debug on USER
 * [DEVICE]): the decoded requests and responses of the devices named are
 * logged at info level, message bodies and MIME elided unless asked for. */
#ifndef EASD_TRACE_H
#define EASD_TRACE_H

#include <stdbool.h>
#include <stdint.h>

struct easd;
struct eas_req;
struct wbxml_node;

/* Load the list and follow its changes. Returns 0, -1 with *error_r. */
int trace_start(struct easd *srv, const char **error_r);
void trace_stop(struct easd *srv);

/* Whether the device is traced, and with bodies (cheap when nothing is). */
bool trace_match(int64_t account_id, const char *device_id, bool *bodies_r);

/* Log the tree as XML under title ("request", "response") for a traced
 * request (req->trace). */
void trace_dump(struct eas_req *req, const char *title,
		const struct wbxml_node *tree);

#endif
