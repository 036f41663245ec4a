#!/usr/bin/python3
"""A real SMTP relay for easd's end-to-end tests, on loopback, built on
Debian's python3-aiosmtpd. Every accepted message is written to
DIR/<n>.eml with the envelope in front as "X-Relay-From:" and
"X-Relay-To:" lines. Recipients whose local part starts with "refuse" get
550, with "defer" get 451; --hold-data keeps DATA waiting forever (a relay
that hangs mid-transfer). --tls CERT KEY offers STARTTLS and requires it.
Prints "relay: listening on PORT" once it accepts connections."""

import argparse
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Relay:
    def __init__(self, directory, hold_data):
        self.directory = directory
        self.hold_data = hold_data
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refuse"):
            return "550 5.1.1 <%s>: no such user here" % address
        if local.startswith("defer"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_data:
            await asyncio.sleep(3600)
        self.count += 1
        name = os.path.join(self.directory, "%06d.eml" % self.count)
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"X-Relay-From: %s\r\n" %
                    envelope.mail_from.encode())
            for r in envelope.rcpt_tos:
                f.write(b"X-Relay-To: %s\r\n" % r.encode())
            f.write(envelope.original_content)
        os.rename(tmp, name)
        return "250 2.0.0 queued as %06d" % self.count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", required=True)
    p.add_argument("--hold-data", action="store_true")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = p.parse_args()
    handler = Relay(a.dir, a.hold_data)
    ctx = None
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])

    def factory():
        return SMTP(handler, hostname="relay.test", tls_context=ctx,
                    require_starttls=ctx is not None,
                    decode_data=False)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=a.port))
    port = server.sockets[0].getsockname()[1]
    print("relay: listening on %d" % port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
