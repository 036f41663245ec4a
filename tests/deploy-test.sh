#!/bin/sh
# The README's deployment, on loopback, with the files the package ships:
# easd behind nginx (dist/nginx-site.conf: TLS, proxy_buffering off, the
# X-Forwarded-* headers, --trusted-proxy), a private Postfix instance with
# the README's settings delivering over LMTP with recipient verification
# (an unknown recipient is refused in the SMTP dialogue), a Ping parked
# through nginx woken by that mail, and the fail2ban filter
# (dist/fail2ban-filter.conf) run by fail2ban-regex on easd's own log.
#
# sh tests/deploy-test.sh [BUILD_DIR]   (default build; needs root for the
# Postfix instance). Skips, saying why, when a program is missing or not
# root; stops everything it started, even when a step fails.
cd "$(dirname "$0")/.." || exit 1
out=${1:-build}

skip() {
	echo "deploy-test: skipped: $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (a Postfix instance)"
for p in nginx postfix swaks fail2ban-regex openssl curl python3; do
	command -v $p >/dev/null || skip "$p is missing"
done
for b in easd easctl easclient; do
	[ -x "$out/$b" ] || skip "$out/$b is not built"
done

passed=0 failed=0
tmp=$(mktemp -d /tmp/easd-deploy-XXXXXX)
chmod 755 "$tmp"
easd_pid= nginx_pid= ping_pid= postfix_up=

cleanup() {
	for p in $ping_pid $nginx_pid $easd_pid; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	[ -n "$postfix_up" ] && postfix -c "$tmp/postfix" stop >/dev/null 2>&1
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
	echo "deploy: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds (bounded)
wait_for() {
	n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
# a free loopback port (for nginx and Postfix, which cannot take port 0)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "== deploy: the README shows the shipped files as they are"
# every line but comments, as an indented block of README.md
readme_shows() {
	grep -v '^[[:space:]]*#\|^[[:space:]]*$' "$1" | while IFS= read -r l; do
		grep -qxF "    $l" README.md || {
			echo "README.md lacks: $l"
			return 1
		}
	done
}
for f in dist/nginx-site.conf dist/fail2ban-jail.local dist/certbot-deploy-hook; do
	check "README.md shows $f" readme_shows "$f"
done

echo "== deploy: easd"
data=$tmp/data
mkdir -m 700 "$data"
"$out/easctl" init "$data" >/dev/null 2>&1
check "account ada" "$out/easctl" --data "$data" user add ada \
	--email ada@example.org --password ada-secret-1
"$out/easd" --data "$data" --listen 127.0.0.1:0 --lmtp 127.0.0.1:0 \
	--admin-listen 127.0.0.1:0 --trusted-proxy 127.0.0.1 \
	--public-url https://mail.example.org --log-file "$tmp/easd.log" \
	>"$tmp/easd.out" 2>"$tmp/easd.err" &
easd_pid=$!
if ! wait_for 60 grep -q '^easd: ready' "$tmp/easd.out"; then
	bad "easd started"
	cat "$tmp/easd.out" "$tmp/easd.err"
	finish
fi
port_of() {
	sed -n "s/^easd: $1 127\.0\.0\.1:\([0-9]*\)\$/\1/p" "$tmp/easd.out"
}
http=$(port_of 'listening on')
lmtp=$(port_of 'lmtp on')
admin=$(port_of 'admin on')
ok "easd serves on $http (LMTP $lmtp, admin $admin)"

echo "== deploy: nginx in front (dist/nginx-site.conf)"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mail.example.org \
	-addext 'subjectAltName=DNS:mail.example.org,DNS:autodiscover.example.org,IP:127.0.0.1' \
	-keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" >/dev/null 2>&1
mkdir -p "$tmp/nginx/logs"
started=
for try in 1 2 3; do
	https=$(free_port)
	# the shipped site, with this run's port, address and certificate
	sed -e "s|^    listen 443 ssl;|    listen 127.0.0.1:$https ssl;|" \
		-e '/listen \[::\]:443 ssl;/d' \
		-e "s|/etc/letsencrypt/live/mail.example.org/|$tmp/|" \
		-e "s|http://127.0.0.1:8080|http://127.0.0.1:$http|" \
		dist/nginx-site.conf >"$tmp/nginx/site.conf"
	cat >"$tmp/nginx/nginx.conf" <<EOF
error_log $tmp/nginx/logs/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 64; }
http {
    access_log $tmp/nginx/logs/access.log;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/site.conf;
}
EOF
	nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
		>"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	if wait_for 30 curl -s -o /dev/null --cacert "$tmp/fullchain.pem" \
		"https://127.0.0.1:$https/"; then
		started=yes
		break
	fi
	kill "$nginx_pid" 2>/dev/null
	wait "$nginx_pid" 2>/dev/null
	nginx_pid=
done
if [ -z "$started" ]; then
	bad "nginx started"
	cat "$tmp/nginx.out" "$tmp/nginx/logs/error.log" 2>/dev/null
	finish
fi
ok "nginx serves HTTPS on $https"
url=https://127.0.0.1:$https
cli="$out/easclient --url $url --cacert $tmp/fullchain.pem --user ada --password ada-secret-1"
check "easclient --cacert through nginx: Provision" \
	$cli --device dep1 --state "$tmp/dep1" provision
check "FolderSync through nginx lists the Inbox" sh -c \
	"$cli --device dep1 --state $tmp/dep1 foldersync | grep -q Inbox"
check "Sync of the Inbox through nginx" \
	$cli --device dep1 --state "$tmp/dep1" sync Inbox
check "Autodiscover through nginx names the public URL" sh -c \
	"$cli --device dep1 autodiscover ada@example.org |
	 grep -qx 'https://mail.example.org/Microsoft-Server-ActiveSync'"
cat >"$tmp/ad.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
  <Request>
    <EMailAddress>ada@example.org</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>
  </Request>
</Autodiscover>
EOF
check "Autodiscover as phones spell it (/Autodiscover/Autodiscover.xml) through nginx" sh -c \
	"curl -s --cacert $tmp/fullchain.pem -u ada@example.org:ada-secret-1 \
	   -H 'Content-Type: text/xml' --data-binary @$tmp/ad.xml \
	   $url/Autodiscover/Autodiscover.xml |
	 grep -q '<Url>https://mail.example.org/Microsoft-Server-ActiveSync</Url>'"
check "other paths stop at nginx (404)" sh -c \
	"[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $tmp/fullchain.pem $url/easd.db)\" = 404 ]"
check "without --cacert the private certificate is refused" sh -c \
	"! $out/easclient --url $url --user ada --password ada-secret-1 \
	   --device dep2 --state $tmp/dep2 provision"

echo "== deploy: failed logins through nginx, and the fail2ban filter"
# from other loopback addresses: nginx adds them to X-Forwarded-For, and
# easd (trusting 127.0.0.1) logs them as the client
fail() { # ADDR USER: one login with a wrong password
	curl -s -o /dev/null --interface "$1" --cacert "$tmp/fullchain.pem" \
		-u "$2:wrong" -X POST -H 'MS-ASProtocolVersion: 16.1' \
		"$url/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=x&DeviceId=evil&DeviceType=x"
}
for i in 1 2 3; do fail 127.0.0.9 ada; done
fail 127.0.0.10 "x' client=198.51.100.7 account='ada"
check "easd logs the client behind nginx (X-Forwarded-For, trusted proxy)" \
	grep -q 'login failed: client=127\.0\.0\.9 ' "$tmp/easd.log"
f2b() {
	fail2ban-regex -o ip "$@" "$tmp/easd.log" dist/fail2ban-filter.conf |
		sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '
}
check "fail2ban-regex: three failures of 127.0.0.9, one of 127.0.0.10, no forged address" \
	test "$(f2b)" = "127.0.0.10=1 127.0.0.9=3 "
check "the same without cutting the date (as from the journal)" \
	test "$(f2b -d '{NONE}')" = "127.0.0.10=1 127.0.0.9=3 "
check "successful logins and other lines do not match" \
	test "$(fail2ban-regex "$tmp/easd.log" dist/fail2ban-filter.conf |
		sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p')" = 4

echo "== deploy: Postfix with recipient verification over LMTP"
smtp=$(free_port)
pf=$tmp/postfix
mkdir -p "$pf/spool" "$pf/data"
chown postfix "$pf/data"
# the README's settings (step 3), in an instance of its own
cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.example.org
mydestination = localhost
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.org
virtual_transport = lmtp:inet:127.0.0.1:$lmtp
smtpd_recipient_restrictions = check_recipient_access hash:$pf/verify_domains, permit
unverified_recipient_reject_code = 550
EOF
printf 'example.org reject_unverified_recipient\n' >"$pf/verify_domains"
postmap "$pf/verify_domains"
# the services Postfix needs, without chroot, SMTP on this run's port
awk -v port="$smtp" '
	$1 == "smtp" && $2 == "inet" { print "127.0.0.1:" port " inet n - n - - smtpd"; next }
	/^[a-z]/ && $2 != "inet" && $8 != "pipe" { $5 = "n"; print }
' /etc/postfix/master.cf >"$pf/master.cf"
if postfix -c "$pf" check >"$tmp/pf.out" 2>&1 &&
	postfix -c "$pf" start >>"$tmp/pf.out" 2>&1 &&
	wait_for 30 swaks --server "127.0.0.1:$smtp" --quit-after CONNECT; then
	postfix_up=yes
	ok "Postfix instance on $smtp"
else
	bad "Postfix started"
	cat "$tmp/pf.out" "$pf/maillog" 2>/dev/null | tail -n 20
	finish
fi

# a Ping parked through nginx (proxy_buffering off, long read timeout)
check "a second device syncs its Inbox" sh -c \
	"$cli --device dep3 --state $tmp/dep3 provision &&
	 $cli --device dep3 --state $tmp/dep3 foldersync &&
	 $cli --device dep3 --state $tmp/dep3 sync Inbox"
$cli --device dep3 --state "$tmp/dep3" ping Inbox --heartbeat 600 \
	>"$tmp/ping.out" 2>&1 &
ping_pid=$!
check "the Ping is parked in easd" wait_for 60 sh -c \
	"curl -s http://127.0.0.1:$admin/metrics | grep -qx 'easd_parked_requests 1'"

swaks --server "127.0.0.1:$smtp" --from x@example.net --to ada@example.org \
	--header 'Subject: through Postfix' >"$tmp/swaks-ok.out" 2>&1
check "a known recipient: 250 queued" grep -q '^<-  250 .*queued as' "$tmp/swaks-ok.out"
swaks --server "127.0.0.1:$smtp" --from x@example.net --to nobody@example.org \
	>"$tmp/swaks-bad.out" 2>&1
check "an unknown recipient: 550 in reply to RCPT TO, nothing queued" sh -c \
	"grep -q '^<\*\* 550 5\.1\.1 <nobody@example.org>: Recipient address rejected' $tmp/swaks-bad.out &&
	 ! grep -q 'queued as' $tmp/swaks-bad.out"
check "the Ping through nginx answers with the new mail" sh -c \
	"wait $ping_pid; grep -qx 'changes: 1' $tmp/ping.out"
ping_pid=
check "the message synced through nginx" sh -c \
	"$cli --device dep1 --state $tmp/dep1 sync Inbox | grep -q 'Subject=through Postfix'"
check "metrics: one LMTP delivery, unknown recipients refused" sh -c \
	"m=\$(curl -s http://127.0.0.1:$admin/metrics) &&
	 echo \"\$m\" | grep -qx 'easd_lmtp_deliveries_total 1' &&
	 echo \"\$m\" | grep -q '^easd_lmtp_refusals_total{reason=\"unknown_user\"} [1-9]'"
finish
