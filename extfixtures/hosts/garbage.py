#!/usr/bin/python3 -u
# A native host that writes a line of text instead of a framed message, then
# waits for the end of its stdin.
import sys
sys.stdout.buffer.write(b"hello\n")
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
