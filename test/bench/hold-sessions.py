#!/usr/bin/env python3
"""hold-sessions.py - helper of test/bench/sessions-memory.sh (stdlib only).

  hold-sessions.py hold PORT COUNT SOURCES HELO FROM TO [PARALLEL]
      Open COUNT SMTP sessions to 127.0.0.1:PORT, from the loopback
      addresses SOURCES ("127.0.0.10-127.0.0.209": round robin), each doing
      EHLO, MAIL FROM and RCPT TO, at most PARALLEL (50) dialogues in
      progress at once.  Then print one line
          held N rcpt_ok=A rcpt_other=B failed=C [first error]
      and keep every session open until SIGTERM or SIGINT; then QUIT each,
      close, print "closed N" and exit 0.
  hold-sessions.py mem PID
      Print "rss_kib hwm_kib threads stacks stack_rss_kib stack_virt_kib"
      for process PID: VmRSS, VmHWM and Threads of /proc/PID/status, and
      over the threads' stacks found (a thread's stack is the mapping
      that holds its stack pointer, from /proc/PID/task/TID/syscall; a
      thread running at that moment is not found), how many, their
      resident and their mapped size.  Needs root (or the same user).
  hold-sessions.py gauge URL NAME
      Print the value of the Prometheus sample NAME (no labels) at URL;
      nothing when it cannot be read.

Nothing here talks beyond 127.0.0.0/8.  A benchmark helper: it reports,
it does not judge.
"""
import asyncio
import ipaddress
import os
import signal
import sys
import urllib.request

TIMEOUT = 60.0  # seconds for any one reply: a loaded MTA and milter are slow, not dead


def sources(spec):
    """The addresses of "A-B" or "A" (IPv4, inclusive)."""
    lo, _, hi = spec.partition("-")
    first = int(ipaddress.IPv4Address(lo))
    last = int(ipaddress.IPv4Address(hi or lo))
    return [str(ipaddress.IPv4Address(a)) for a in range(first, last + 1)]


async def reply(reader):
    """The code of the next (possibly multi-line) SMTP reply."""
    while True:
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        if not line:
            raise ConnectionError("connection closed by the server")
        if line[3:4] != b"-":
            return line[:3].decode("ascii", "replace"), line.decode("ascii", "replace").strip()


async def command(reader, writer, text):
    writer.write(text.encode("ascii") + b"\r\n")
    await writer.drain()
    return await reply(reader)


async def open_one(port, src, helo, sender, rcpt, gate):
    """One session up to its RCPT: (reader, writer, rcpt code)."""
    async with gate:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0)), TIMEOUT)
        try:
            for text, want in ((None, "220"), ("EHLO " + helo, "250"), ("MAIL FROM:<%s>" % sender, "250")):
                code, line = await (reply(reader) if text is None else command(reader, writer, text))
                if code != want:
                    raise ConnectionError("%s: %s" % (text or "greeting", line))
            code, _ = await command(reader, writer, "RCPT TO:<%s>" % rcpt)
        except BaseException:
            writer.close()
            raise
        return reader, writer, code


async def close_one(reader, writer):
    try:
        await asyncio.wait_for(command(reader, writer, "QUIT"), 10)
    except (OSError, ConnectionError, asyncio.TimeoutError):
        pass
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ConnectionError):
        pass


async def hold(port, count, spec, helo, sender, rcpt, parallel):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    addrs = sources(spec)
    gate = asyncio.Semaphore(parallel)
    results = await asyncio.gather(
        *(open_one(port, addrs[i % len(addrs)], helo, sender, rcpt, gate) for i in range(count)),
        return_exceptions=True)
    held = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    ok = sum(1 for r in held if r[2] == "250")
    first = " first error: %r" % (errors[0],) if errors else ""
    print("held %d rcpt_ok=%d rcpt_other=%d failed=%d%s" % (len(held), ok, len(held) - ok, len(errors), first),
          flush=True)
    await stop.wait()
    await asyncio.gather(*(close_one(r, w) for r, w, _ in held))
    print("closed %d" % len(held), flush=True)


def stack_pointers(pid):
    """The stack pointer of each thread of PID blocked in a system call."""
    sps = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                fields = f.read().split()
        except OSError:
            continue
        if len(fields) >= 9:  # "nr a1..a6 sp pc"; "running" otherwise
            sps.append(int(fields[7], 16))
    return sps


def mappings(pid):
    """(start, end, rss_kib) of every mapping of PID, from smaps."""
    maps, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split()[0]
            if "-" in first and not first.endswith(":"):
                start, end = (int(x, 16) for x in first.split("-"))
                cur = [start, end, 0]
                maps.append(cur)
            elif first == "Rss:" and cur is not None:
                cur[2] = int(line.split()[1])
    return maps


def mem(pid):
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.split()[0] if value.split() else ""
    maps = mappings(pid)
    stacks = {}
    for sp in stack_pointers(pid):
        for m in maps:
            if m[0] <= sp < m[1]:
                stacks[m[0]] = m
                break
    rss = sum(m[2] for m in stacks.values())
    virt = sum((m[1] - m[0]) // 1024 for m in stacks.values())
    print(status["VmRSS"], status["VmHWM"], status["Threads"], len(stacks), rss, virt)


def gauge(url, name):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            print(parts[1].split(".")[0])
            return


def main(argv):
    if len(argv) in (8, 9) and argv[1] == "hold":
        parallel = int(argv[8]) if len(argv) > 8 else 50
        asyncio.run(hold(int(argv[2]), int(argv[3]), argv[4], argv[5], argv[6], argv[7], parallel))
    elif len(argv) == 3 and argv[1] == "mem":
        mem(int(argv[2]))
    elif len(argv) == 4 and argv[1] == "gauge":
        gauge(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
