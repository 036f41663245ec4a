#!/bin/sh
# make deb: build the Debian package from a copy of the source tree under
# build/deb (dpkg-buildpackage writes its results beside the tree it
# builds), and print the path of the .deb.
set -e
cd "$(dirname "$0")/.."
if ! command -v dpkg-buildpackage >/dev/null; then
	echo "make deb: dpkg-buildpackage is missing (apt-get install dpkg-dev debhelper)" >&2
	exit 1
fi
version=$(dpkg-parsechangelog -S Version)
code=$(sed -n 's/^#define EASD_VERSION "\(.*\)"/\1/p' common/version.h)
if [ "$version" != "$code" ]; then
	echo "make deb: debian/changelog says $version, common/version.h $code" >&2
	exit 1
fi
top=build/deb
src=$top/easd-$version
rm -rf "$top"
mkdir -p "$src"
# the files of the checkout (as they are now), without build products
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		grep -zv '^build/\|^var/' |
		xargs -0 tar -cf - 2>/dev/null | tar -xf - -C "$src"
else
	tar --exclude=./build --exclude=./var --exclude=./.git -cf - . |
		tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -b -us -uc) > "$top/build.log" 2>&1 || {
	tail -n 40 "$top/build.log" >&2
	echo "make deb: dpkg-buildpackage failed (all of it in $top/build.log)" >&2
	exit 1
}
deb=$(ls "$top"/easd_"$version"_*.deb)
echo "make deb: $deb"
