# Fixed-rate packet generator for the benchmark (run inside the sender netns).
#   gen.py udp|syn DST PORT RATE SECONDS [SRC]
# RATE 0 = as fast as one CPU can send. Bounded by SECONDS (and a hard 120 s cap).
# Prints one JSON line: {"sent": N, "errors": N, "seconds": S}.
import json, socket, struct, sys, time

mode, dst, port, rate, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), min(float(sys.argv[5]), 120.0)
src = sys.argv[6] if len(sys.argv) > 6 else '0.0.0.0'

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

if mode == 'udp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pkt = b'\0' * 16
    addr = (dst, port)
else:
    # A bare SYN (no options) from SRC:40000 to DST:PORT via a raw IPPROTO_TCP socket;
    # the kernel adds the IP header. Checksum over the pseudo header.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    hdr = struct.pack('!HHIIBBHHH', 40000, port, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    pkt = hdr[:16] + struct.pack('!H', c) + hdr[18:]
    addr = (dst, 0)

send = s.sendto
sent = errors = 0
t0 = time.monotonic()
end = t0 + secs
batch = 32
now = t0
while now < end:
    if rate > 0:
        due = int((now - t0) * rate)
        if sent >= due:
            time.sleep(0.0005)
            now = time.monotonic()
            continue
        n = min(batch, due - sent)
    else:
        n = batch
    for _ in range(n):
        try:
            send(pkt, addr)
        except OSError:
            errors += 1
        sent += 1
    now = time.monotonic()
print(json.dumps({'sent': sent - errors, 'errors': errors, 'seconds': now - t0}))
