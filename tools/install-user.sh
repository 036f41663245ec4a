#!/bin/sh
# make install, last step: the easd system user, its private data
# directory, and the configuration readable by it. Usage:
#   install-user.sh DESTDIR STATEDIR CONFFILE
# With a DESTDIR (a package being built) only the directory is made; the
# package's postinst does the rest on the target machine.
destdir=$1 statedir=$2 conf=$3
if [ -n "$destdir" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "make install: not root, so no easd user; create it and give it"
	echo "  $statedir (mode 0700) before starting the service"
	exit 0
fi
if ! getent passwd easd >/dev/null; then
	if command -v adduser >/dev/null; then
		adduser --quiet --system --group --home "$statedir" \
			--no-create-home --gecos "easd ActiveSync server" easd
	else
		useradd --system --user-group --home-dir "$statedir" \
			--no-create-home --shell /usr/sbin/nologin easd
	fi
	echo "make install: created the system user easd"
fi
install -d -o easd -g easd -m 0700 "$statedir"
chown root:easd "$conf"
chmod 0640 "$conf"
echo "make install: data in $statedir (easd:easd, 0700), settings in $conf"
