#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""drpc-host under systemd's protocols, without a running systemd: socket
activation through systemd-socket-activate --seqpacket, the sd_notify states
on a NOTIFY_SOCKET this test listens on (READY=1 only after the activated
socket serves, STATUS=, WATCHDOG=1, RELOADING=1/READY=1 around SIGHUP,
STOPPING=1), journald priority prefixes when JOURNAL_STREAM names stderr,
and drpc-ctl --body-file - reading standard input.

Usage: systemd_test.py DRPC_HOST DRPC_CTL PLUGINS_DIR"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST, CTL, PLUGINS = sys.argv[1:4]
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def ctl(sock, *args, stdin=None):
    return subprocess.run([CTL, "--socket", sock, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def hello(sock, name):
    return ctl(sock, "call", "--module", "0", "--method", "0", "--request", "hello.Hello", "--json",
               '{"name":"%s"}' % name, "--response", "hello.HelloResponse")


def states(listener, until, deadline=30):
    """Notification datagrams until one contains `until` (or the deadline)."""
    seen = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        listener.settimeout(max(0.01, end - time.monotonic()))
        try:
            seen.append(listener.recv(4096).decode())
        except socket.timeout:
            break
        if until in seen[-1]:
            break
    return seen


def activation_and_notify(tmp):
    sock = os.path.join(tmp, "drpc.sock")
    notify_path = os.path.join(tmp, "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    log = open(os.path.join(tmp, "host.log"), "w+")
    proc = subprocess.Popen(
        ["systemd-socket-activate", "--seqpacket", "-l", sock,
         "-E", "NOTIFY_SOCKET=" + notify_path, "-E", "WATCHDOG_USEC=400000",
         HOST, "--plugins", PLUGINS, "--log-level", "info"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        # systemd-socket-activate binds first and starts the host on the
        # first connection, as a .socket unit does.
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        check(not listener_has_data(listener), "nothing is notified before the first connection")
        answer = hello(sock, "activated")
        check(answer.returncode == 0 and '"Hello activated"' in answer.stdout,
              "a call on the activated socket is served: " + answer.stdout.strip() + answer.stderr.strip())
        seen = states(listener, "READY=1")
        check(any("READY=1" in s for s in seen), "READY=1 arrives once the socket serves: %r" % seen)
        check(any("STATUS=serving 3 module(s) on " + sock in s for s in seen),
              "STATUS= names the module count and the socket: %r" % seen)
        seen = states(listener, "WATCHDOG=1", deadline=10)
        check(any("WATCHDOG=1" in s for s in seen), "WATCHDOG=1 with WATCHDOG_USEC set: %r" % seen)
        proc.send_signal(signal.SIGHUP)
        seen = states(listener, "READY=1")
        reloading = [i for i, s in enumerate(seen) if "RELOADING=1" in s]
        ready = [i for i, s in enumerate(seen) if "READY=1" in s]
        check(reloading and ready and reloading[0] < ready[-1], "SIGHUP: RELOADING=1, then READY=1: %r" % seen)
        answer = ctl(sock, "call", "--module", "0", "--method", "0", "--request", "hello.Hello", "--json",
                     "{}", "--response", "hello.HelloResponse")
        check(answer.returncode == 0, "still serving after the rescan")
        proc.send_signal(signal.SIGTERM)
        seen = states(listener, "STOPPING=1")
        check(any("STOPPING=1" in s for s in seen), "STOPPING=1 at shutdown: %r" % seen)
        check(proc.wait(timeout=60) == 0, "the host exits 0")
        check(os.path.exists(sock), "the activated socket's file stays (it is systemd's)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        text = log.read()
        if failures:
            print(text)
    check("left the adopted socket " + sock in text, "the host logs that it left the socket in place")


def listener_has_data(listener):
    listener.settimeout(0.2)
    try:
        listener.recv(4096, socket.MSG_PEEK)
        return True
    except socket.timeout:
        return False


def journald_and_stdin(tmp):
    sock = os.path.join(tmp, "journal.sock")
    log_path = os.path.join(tmp, "journal.log")
    with open(log_path, "w") as log:
        info = os.fstat(log.fileno())
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (info.st_dev, info.st_ino))
        proc = subprocess.Popen([HOST, "--socket", sock, "--plugins", PLUGINS], stdout=subprocess.DEVNULL,
                                stderr=log, env=env)
    try:
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        # A hello.Hello{name:"stdin"} body, through a pipe.
        body = b"\x0a\x05stdin"
        answer = subprocess.run([CTL, "--socket", sock, "call", "--module", "0", "--method", "0",
                                 "--body-file", "-", "--response", "hello.HelloResponse"],
                                input=body, capture_output=True, timeout=60)
        check(answer.returncode == 0 and b'"Hello stdin"' in answer.stdout,
              "--body-file - reads the body from standard input: %r" % answer.stdout)
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=60) == 0, "the host exits 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = open(log_path).read().splitlines()
    check(lines and all(line.startswith(("<6>", "<4>", "<3>", "<7>")) for line in lines),
          "every line to the journal starts with a syslog priority: %r" % lines[:3])
    check(any(line.startswith("<6>INFO host: serving") for line in lines),
          "and carries no time stamp of its own: %r" % lines[:3])


with tempfile.TemporaryDirectory(prefix="drpc-systemd-") as tmp:
    activation_and_notify(tmp)
    journald_and_stdin(tmp)
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
