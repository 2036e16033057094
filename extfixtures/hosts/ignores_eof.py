#!/usr/bin/python3 -u
# A native host that first sends {"pid": its pid}, answers "pong" to "ping",
# and does not exit when its stdin ends: it waits to be killed, as a badly
# written host would.
import os
import json
import signal
import struct
import sys

signal.signal(signal.SIGTERM, signal.SIG_IGN)

def send(v):
    data = json.dumps(v, separators=(',', ':')).encode('utf-8')
    sys.stdout.buffer.write(struct.pack('@I', len(data)) + data)
    sys.stdout.buffer.flush()

send({"pid": os.getpid()})
while True:
    head = sys.stdin.buffer.read(4)
    if len(head) < 4:
        break
    msg = json.loads(sys.stdin.buffer.read(struct.unpack('@I', head)[0]))
    if msg == "ping":
        send("pong")
while True:
    signal.pause()
