#!/usr/bin/env python3
"""Where a running easd's memory is: the resident pages of its glibc heaps,
chunk by chunk (run as root, while bench-push holds its Pings:
BENCH_PUSH_HOLD_S=120, then `bench/heap-pages.py PID` for a worker).

Each thread's heap (a 64 MiB-aligned anonymous mapping) is walked from its
first chunk by the size fields; for every chunk size it prints how many
chunks are in use or free and how many of their pages are resident
(/proc/PID/pagemap). For chunks of the connection pool's size
(libmicrohttpd's 32 KiB pool is a 32,784-byte chunk) it also prints how
many of the pages inside each pool are resident: a parked Ping's pool
normally has its request at the start and its header list at the end, so
none or one of the seven inner pages; a pool with all seven resident was
zero-filled before it was handed out.

What it found (2026-12-02, 36,000 Pings on six workers): about 2 KiB of a
parked Ping is the page where one pool's end, libmicrohttpd's connection
(a 464-byte chunk) and the next pool's start meet, which spans two pages
in about a third of the connections; 1.8 KiB is the request's arena (a
1,872-byte chunk); and 5-9 % of the pools were resident throughout and
zero-filled, in runs of three: the freed frame indexes of WAL checkpoints
that every commit made itself past 8,000 pages (store.c, wal_hook), 1.6
KiB a Ping until those were made once every 1,000 pages.
"""
import collections
import re
import struct
import sys

HEAP = 64 << 20
PAGE = 4096


def heaps(pid):
    for line in open(f"/proc/{pid}/maps"):
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0\s*$",
                     line)
        if m:
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            if a % HEAP == 0 and b - a > (1 << 20):
                yield a, b


def main():
    pid = int(sys.argv[1])
    pool = int(sys.argv[2]) if len(sys.argv) > 2 else 32784
    mem = open(f"/proc/{pid}/mem", "rb")
    pagemap = open(f"/proc/{pid}/pagemap", "rb")

    def size_at(p):
        mem.seek(p + 8)
        return struct.unpack("<Q", mem.read(8))[0] & ~7

    def resident(first, last):
        n = 0
        for x in range(first, last, PAGE):
            pagemap.seek(x // PAGE * 8)
            n += (struct.unpack("<Q", pagemap.read(8))[0] >> 63) & 1
        return n

    def first_chunk(a, b):
        # after the heap's header (and, in a thread's first heap, its
        # arena): the first offset from which 50 sizes chain up
        for off in range(48, PAGE, 16):
            q, ok = a + off, True
            for _ in range(50):
                sz = size_at(q)
                if sz < 32 or q + sz > b:
                    ok = False
                    break
                q += sz
                if q >= b - 16:
                    break
            if ok:
                return a + off
        return None

    chunks = collections.Counter()
    pages = collections.Counter()
    inner = collections.Counter()
    for a, b in heaps(pid):
        p = first_chunk(a, b)
        while p is not None and p < b - 16:
            sz = size_at(p)
            if sz < 32 or p + sz > b:
                break
            mem.seek(p + sz + 8)
            used = struct.unpack("<Q", mem.read(8))[0] & 1
            key = (sz, "used" if used else "free")
            chunks[key] += 1
            first = (p + 16 + PAGE - 1) // PAGE * PAGE
            last = (p + sz) // PAGE * PAGE
            pages[key] += resident(p // PAGE * PAGE, p + sz)
            if sz == pool and used:
                inner[resident(first, last)] += 1
            p += sz
    print("chunk size  state   chunks  resident pages (shared ones counted "
          "in each)")
    for key, n in sorted(chunks.items(), key=lambda kv: -pages[kv[0]])[:20]:
        print(f"{key[0]:10d}  {key[1]:5s} {n:8d}  {pages[key]:8d}")
    print(f"pools of {pool} bytes by resident inner pages:",
          sorted(inner.items()))


if __name__ == "__main__":
    main()
