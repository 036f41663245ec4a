# Generate the tag constants and the name table from eas-codepages.tsv.
# Usage: awk -v out=h|c -f gen-tags.awk eas-codepages.tsv
function hex(s,   i, v, c) {
	s = tolower(s); sub(/^0x/, "", s); v = 0
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", substr(s, i, 1)) - 1
		v = v * 16 + c
	}
	return v
}
BEGIN { FS = "\t" }
NR == 1 { next }
{
	page = $1 + 0; pname[page] = $2
	tok = hex($4)
	name[page, tok] = $5
	n++; pages[n] = page; toks[n] = tok
	if (page > maxpage) maxpage = page
}
END {
	if (out == "h") {
		print "/* Generated from wbxml/eas-codepages.tsv by gen-tags.awk. */"
		print "#ifndef EASD_WBXML_TAGS_H\n#define EASD_WBXML_TAGS_H\n"
		print "enum eas_tag {"
		for (i = 1; i <= n; i++) {
			p = pages[i]; t = toks[i]
			printf "\tEAS_%s_%s = 0x%04x,\n", toupper(pname[p]), toupper(name[p, t]), p * 256 + t
		}
		print "};\n\n#endif"
	} else {
		print "/* Generated from wbxml/eas-codepages.tsv by gen-tags.awk. */"
		print "#include <stddef.h>\n"
		printf "const char *const wbxml_page_names[%d] = {\n", maxpage + 1
		for (p = 0; p <= maxpage; p++) printf "\t\"%s\",\n", pname[p]
		print "};\n"
		printf "const char *const wbxml_tag_names[%d][64] = {\n", maxpage + 1
		for (p = 0; p <= maxpage; p++) {
			printf "\t[%d] = {\n", p
			for (t = 5; t < 64; t++)
				if ((p, t) in name) printf "\t\t[0x%02x] = \"%s\",\n", t, name[p, t]
			print "\t},"
		}
		print "};"
	}
}
