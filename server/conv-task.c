/* Tasks (MS-ASTASK) <-> iCalendar VTODO: being written. */
#include "conv-int.h"

int
conv_task_from_eas(struct arena *a, const struct wbxml_node *appdata,
		   const struct conv_ctx *ctx, const struct store_item *old,
		   struct store_item *item_r, const char **error_r)
{
	(void)appdata; (void)ctx; (void)old; (void)item_r;
	return conv_fail(a, error_r, "task conversion not built yet");
}

int
conv_task_to_eas(struct arena *a, const struct store_item *item,
		 const struct conv_ctx *ctx, struct wbxml_node *appdata,
		 const char **error_r)
{
	(void)item; (void)ctx; (void)appdata;
	return conv_fail(a, error_r, "task conversion not built yet");
}
