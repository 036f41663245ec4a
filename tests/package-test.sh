#!/bin/sh
# The Debian package as an administrator meets it: build the .deb, install
# it with dpkg -i, start easd exactly as the unit would (its ExecStartPre
# and ExecStart lines, as the easd user, with a NOTIFY_SOCKET of ours in
# place of systemd's: CI has no systemd), run an OPTIONS/Provision/
# FolderSync smoke over loopback, reload, back up, stop, remove
# (the data stays), purge (it goes). Skips, saying why, when not root or
# without dpkg-buildpackage; cleans up even when a step fails.
cd "$(dirname "$0")/.." || exit 1

skip() {
	echo "package-test: skipped: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage is missing"
command -v dh >/dev/null || skip "debhelper is missing"
if dpkg-query -W -f='${Status}' easd 2>/dev/null | grep -q 'installed'; then
	skip "an easd package is installed on this machine; not touching it"
fi
[ -e /var/lib/easd ] && skip "/var/lib/easd exists; not touching it"

passed=0 failed=0
tmp=$(mktemp -d /tmp/easd-package-XXXXXX)
chmod 755 "$tmp"
pid= listener=
user_existed=no
getent passwd easd >/dev/null && user_existed=yes

cleanup() {
	for p in $pid $listener; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	if dpkg-query -W -f='${Status}' easd 2>/dev/null |
		grep -q 'installed\|config-files'; then
		dpkg --purge easd >/dev/null 2>&1
	fi
	rm -rf /var/lib/easd /var/log/easd
	if [ "$user_existed" = no ] && getent passwd easd >/dev/null; then
		deluser --quiet --system easd >/dev/null 2>&1 ||
			userdel easd 2>/dev/null
		getent group easd >/dev/null && groupdel easd 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

ok() {
	passed=$((passed + 1))
	echo "  ok: $*"
}
bad() {
	failed=$((failed + 1))
	echo "  FAILED: $*"
}
check() {
	what=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then ok "$what"; else
		bad "$what"
		sed 's/^/    /' "$tmp/check.out" | tail -n 20
	fi
}
finish() {
	echo "package: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

echo "== package: make deb"
if ! make --no-print-directory deb >"$tmp/deb.out" 2>&1; then
	cat "$tmp/deb.out"
	bad "make deb"
	finish
fi
deb=$(sed -n 's/^make deb: //p' "$tmp/deb.out" | tail -n 1)
check "built $deb" test -f "$deb"
check "Debian layout: files under /usr, /etc and /lib only" \
	sh -c "dpkg-deb -c '$deb' | awk '{print \$6}' |
		grep -v '^\./\$' | grep -v '^\./usr/\|^\./etc/\|^\./lib/' | \
		{ ! grep .; }"

echo "== package: dpkg -i"
check "dpkg -i" dpkg -i "$deb"
for f in /usr/sbin/easd /usr/sbin/easctl /usr/bin/easclient \
	/etc/easd/easd.conf /lib/systemd/system/easd.service \
	/etc/logrotate.d/easd /etc/fail2ban/filter.d/easd.conf \
	/usr/share/doc/easd/examples/nginx-site.conf \
	/usr/share/doc/easd/examples/fail2ban-jail.local \
	/usr/share/doc/easd/examples/certbot-deploy-hook; do
	check "installed $f" test -f "$f"
done
version=$(dpkg-parsechangelog -S Version)
check "easd --version is $version" \
	sh -c "/usr/sbin/easd --version | grep -qx 'easd $version'"
check "easctl and easclient --version" sh -c \
	"/usr/sbin/easctl --version | grep -qx 'easctl $version' &&
	 /usr/bin/easclient --version | grep -qx 'easclient $version'"
check "the easd user" getent passwd easd
check "/var/lib/easd is easd's, mode 700" \
	sh -c "[ \"\$(stat -c '%U:%G %a' /var/lib/easd)\" = 'easd:easd 700' ]"
check "/etc/easd/easd.conf is root:easd 640" \
	sh -c "[ \"\$(stat -c '%U:%G %a' /etc/easd/easd.conf)\" = 'root:easd 640' ]"
for m in easd.8 easctl.8 easclient.1; do
	page=${m%.*}
	sec=${m#*.}
	check "man page $page($sec) is installed and renders cleanly" sh -c \
		"p=\$(man -w $sec $page) && [ -n \"\$p\" ] &&
		 out=\$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l \"\$p\" 2>&1 >/dev/null) &&
		 [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
check "the unit is enabled (multi-user.target wants it)" \
	test -L /etc/systemd/system/multi-user.target.wants/easd.service

echo "== package: easd from the unit's ExecStart"
unit=/lib/systemd/system/easd.service
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
check "unit runs as User=easd" grep -qx 'User=easd' "$unit"
for d in Type=notify ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
	'ReadWritePaths=/var/lib/easd /var/log/easd' Restart=on-failure \
	CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	AmbientCapabilities=CAP_NET_BIND_SERVICE; do
	check "unit: $d" grep -qxF "$d" "$unit"
done
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify finds nothing wrong in the unit" sh -c \
		"out=\$(systemd-analyze verify $unit 2>&1); [ -z \"\$out\" ] ||
		 { echo \"\$out\"; false; }"
fi
check "ExecStartPre (--check-config) passes as easd" \
	runuser -u easd -- $pre
# the configured ports may be taken on this machine: the command line
# wins over the file, so ask for any free ones
# Type=notify: as systemd does, a datagram socket in NOTIFY_SOCKET that
# easd tells READY=1 when it serves (RELOADING=1 and READY=1 around a
# SIGHUP, STOPPING=1 at the end); the listener writes down each message.
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a") as log:
    log.write("listening\n")
    log.flush()
    while True:
        m = s.recv(4096).decode()
        log.write(m.replace("\n", " ") + "\n")
        log.flush()
        if "STOPPING=1" in m:
            break
' "$tmp/notify" "$tmp/notify.log" &
listener=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^listening' "$tmp/notify.log" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
# notified NAME [COUNT]: wait (bounded, 60 s) until COUNT (1) messages
# of the listener's log have NAME=1, while easd runs
notified() {
	i=0
	while [ $i -lt 600 ]; do
		[ "$(grep -c "$1=1" "$tmp/notify.log")" -ge "${2:-1}" ] && return 0
		kill -0 "$pid" 2>/dev/null || [ "$1" = STOPPING ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# setpriv execs (runuser would stay between us and easd, signals and all)
NOTIFY_SOCKET=$tmp/notify setpriv --reuid=easd --regid=easd --init-groups \
	$start --listen 127.0.0.1:0 --lmtp 127.0.0.1:0 \
	>"$tmp/easd.out" 2>"$tmp/easd.err" &
pid=$!
if ! notified READY; then
	bad "easd started and told systemd READY=1"
	cat "$tmp/easd.out" "$tmp/easd.err" "$tmp/notify.log"
	finish
fi
ok "easd started as the easd user and told systemd READY=1"
port=$(sed -n 's/^easd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/easd.out")
url="http://127.0.0.1:$port"
check "it serves once READY=1 came (an OPTIONS without credentials: 401 at once)" sh -c \
	"[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS $url/Microsoft-Server-ActiveSync)\" = 401 ]"
check "its data is /var/lib/easd/easd.db" test -f /var/lib/easd/easd.db

check "easctl user add (as easd)" runuser -u easd -- /usr/sbin/easctl \
	--data /var/lib/easd user add smoke --email smoke@example.org \
	--password smoke-pass
cli="/usr/bin/easclient --url $url --user smoke --password smoke-pass --device pkgtest1 --state $tmp/state"
check "OPTIONS" sh -c "$cli options | grep -q '^versions: .*16.1'"
check "Provision" $cli provision
check "FolderSync lists the Inbox" sh -c "$cli foldersync | grep -q Inbox"
check "easctl backup while it runs (as root)" \
	/usr/sbin/easctl --data /var/lib/easd backup "$tmp/backup.db"
check "the backup checks" /usr/sbin/easctl check "$tmp/backup.db"

kill -HUP "$pid"
check "SIGHUP (systemctl reload): RELOADING=1" notified RELOADING
check "then READY=1 again" notified READY 2
check "and it still serves" sh -c "$cli foldersync | grep -q Inbox"
kill "$pid"
wait "$pid"
rc=$?
check "easd stopped cleanly on SIGTERM (exit $rc)" test "$rc" -eq 0
check "and told systemd STOPPING=1" notified STOPPING
pid=

echo "== package: remove and purge"
check "dpkg -r" dpkg -r easd
check "remove keeps the data" test -f /var/lib/easd/easd.db
check "remove keeps the settings" test -f /etc/easd/easd.conf
check "dpkg --purge" dpkg --purge easd
check "purge deletes the data" test ! -e /var/lib/easd
check "purge deletes the settings" test ! -e /etc/easd/easd.conf
finish
