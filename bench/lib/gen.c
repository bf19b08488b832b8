/* Fixed-rate packet generator for the benchmark (run inside the sender netns).
 *   gen udp|syn DST PORT RATE SECONDS [SRC]
 * RATE 0 = as fast as one CPU can send (sendmmsg batches of 64). Bounded by SECONDS
 * (hard cap 120 s). Prints one JSON line: {"sent": N, "errors": N, "seconds": S}.
 * Same behaviour as gen.py, which is used when no C compiler is available. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static uint16_t csum(const uint8_t *b, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (b[i] << 8) | b[i + 1];
  if (n & 1) s += b[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: gen udp|syn DST PORT RATE SECONDS [SRC]\n"); return 2; }
  int syn = strcmp(argv[1], "syn") == 0;
  double rate = atof(argv[4]), secs = atof(argv[5]);
  if (secs > 120) secs = 120;
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = syn ? 0 : htons(atoi(argv[3])) };
  inet_pton(AF_INET, argv[2], &dst.sin_addr);
  uint8_t pkt[20] = { 0 };
  size_t len = 16;
  int fd;
  if (syn) {
    struct in_addr src = { 0 };
    inet_pton(AF_INET, argc > 6 ? argv[6] : "0.0.0.0", &src);
    fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    uint16_t sp = htons(40000), dp = htons(atoi(argv[3])), win = htons(65535);
    uint32_t seq = htonl(1);
    memcpy(pkt, &sp, 2); memcpy(pkt + 2, &dp, 2); memcpy(pkt + 4, &seq, 4);
    pkt[12] = 5 << 4; pkt[13] = 0x02; memcpy(pkt + 14, &win, 2);
    uint8_t ph[32];
    memcpy(ph, &src, 4); memcpy(ph + 4, &dst.sin_addr, 4); ph[8] = 0; ph[9] = 6; ph[10] = 0; ph[11] = 20;
    memcpy(ph + 12, pkt, 20);
    uint16_t c = htons(csum(ph, 32));
    memcpy(pkt + 16, &c, 2);
    len = 20;
  } else {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
  }
  if (fd < 0) { perror("socket"); return 1; }
  enum { B = 64 };
  struct iovec iov[B];
  struct mmsghdr msgs[B];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < B; i++) {
    iov[i].iov_base = pkt; iov[i].iov_len = len;
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst; msgs[i].msg_hdr.msg_namelen = sizeof dst;
  }
  long long sent = 0, errors = 0;
  double t0 = now(), t = t0, end = t0 + secs;
  while (t < end) {
    long long n = B;
    if (rate > 0) {
      long long due = (long long)((t - t0) * rate);
      if (sent >= due) { struct timespec ts = { 0, 200000 }; nanosleep(&ts, NULL); t = now(); continue; }
      if (due - sent < n) n = due - sent;
    }
    int r = sendmmsg(fd, msgs, (unsigned)n, 0);
    if (r < 0) { errors++; r = 0; struct timespec ts = { 0, 100000 }; nanosleep(&ts, NULL); }
    sent += r;
    t = now();
  }
  printf("{\"sent\": %lld, \"errors\": %lld, \"seconds\": %.6f}\n", sent, errors, t - t0);
  return 0;
}
