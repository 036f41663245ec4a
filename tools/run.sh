#!/bin/sh
# make run: a data directory under ./var, a demo account on first start,
# then easd in the foreground with LMTP on 127.0.0.1:2424.
set -e
data=${EASD_DATA:-./var}
listen=${EASD_LISTEN:-127.0.0.1:8080}
lmtp=${EASD_LMTP:-127.0.0.1:2424}
[ -d "$data" ] || build/easctl init "$data"
if ! build/easctl --data "$data" user list 2>/dev/null | tail -n +2 | grep -q .; then
	pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)
	build/easctl --data "$data" user add demo --email demo@example.org \
		--display-name "Demo User" --password "$pass" >/dev/null
	cat <<MSG

  A demo account was created (the password is shown only this once):
      user      demo   (or demo@example.org)
      password  $pass

MSG
fi
cat <<MSG
  easd serves ActiveSync on http://$listen/Microsoft-Server-ActiveSync
  and takes mail over LMTP on $lmtp. Data lives in $data.

  Next steps
  - Try it from a shell:  build/easclient --url http://$listen --user demo \\
        --password PASSWORD --device test1 provision
  - Deliver a message:   build/easctl --data $data deliver demo < message.eml
  - Phones need HTTPS on a reachable address, e.g.
        build/easd --data $data --listen 0.0.0.0:443 \\
            --tls-cert cert.pem --tls-key key.pem
    or a reverse proxy with a read timeout above 60 minutes (push).
  - Manage accounts and devices: build/easctl --help

  Stop with Ctrl-C.

MSG
exec build/easd --data "$data" --listen "$listen" --lmtp "$lmtp"
