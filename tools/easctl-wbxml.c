/* easctl wbxml: decode a WBXML body to readable XML, or encode such XML
 * (ours or libwbxml's) to WBXML, for debugging clients by hand. */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "easctl.h"
#include "wbxml.h"

/* Files beyond this are not EAS bodies anyone debugs by hand. */
#define EASCTL_WBXML_MAX_FILE (256 * 1024 * 1024)

static void
wbxml_usage(FILE *f)
{
	fputs("usage: easctl wbxml decode FILE.wbxml   print as XML\n"
	      "       easctl wbxml decode-fragment FILE  header-less fragment\n"
	      "       easctl wbxml encode FILE.xml     write WBXML to stdout\n"
	      "FILE may be - for standard input.\n",
	      f);
}

static int
read_file(const char *path, struct buf *b)
{
	const char *error;

	if (buf_read_path(b, path, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return -1;
	}
	return 0;
}

int
easctl_wbxml(struct easctl *ctl, int argc, char **argv)
{
	struct arena *a = arena_new(0);
	struct buf in, out;
	struct wbxml_node *root;
	const char *error = NULL;
	int ret = 1;

	(void)ctl;
	buf_init(&in, EASCTL_WBXML_MAX_FILE);
	buf_init(&out, 0);
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		wbxml_usage(stdout);
		ret = 0;
		goto out;
	}
	if (argc != 3) {
		wbxml_usage(stderr);
		ret = 2;
		goto out;
	}
	if (read_file(argv[2], &in) < 0)
		goto out;
	if (strcmp(argv[1], "decode") == 0 ||
	    strcmp(argv[1], "decode-fragment") == 0) {
		bool frag = strcmp(argv[1], "decode-fragment") == 0;
		int r = frag ? wbxml_decode_fragment(a, in.data, in.len,
						     &wbxml_limits_default,
						     &root, &error)
			     : wbxml_decode(a, in.data, in.len,
					    &wbxml_limits_default, &root,
					    &error);

		if (r < 0) {
			fprintf(stderr, "%s: %s\n", argv[2], error);
			goto out;
		}
		for (; root != NULL; root = frag ? root->next : NULL) {
			if (wbxml_to_xml(root, &out) < 0) {
				fprintf(stderr, "%s: cannot render XML\n",
					argv[2]);
				goto out;
			}
		}
	} else if (strcmp(argv[1], "encode") == 0) {
		if (wbxml_from_xml(a, (const char *)in.data, in.len, &root,
				   &error) < 0) {
			fprintf(stderr, "%s: %s\n", argv[2], error);
			goto out;
		}
		if (wbxml_encode(root, &out) < 0) {
			fprintf(stderr, "%s: cannot encode\n", argv[2]);
			goto out;
		}
	} else {
		wbxml_usage(stderr);
		ret = 2;
		goto out;
	}
	if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len) {
		perror("stdout");
		goto out;
	}
	if (fflush(stdout) != 0) {
		perror("stdout");
		goto out;
	}
	ret = 0;
out:
	buf_deinit(&in);
	buf_deinit(&out);
	arena_free(&a);
	return ret;
}
