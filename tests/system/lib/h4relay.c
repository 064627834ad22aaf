// SPDX-License-Identifier: MIT
/*
 * h4relay — connects a serial port (the virtio-serial port that carries host
 * A's UART) to btvirt's LE server socket (/tmp/bt-server-le), one whole H4
 * packet at a time in both directions.
 *
 * Port -> server: btvirt 5.66's server (emulator/server.c) reads an ACL
 * packet's length before the packet's 4-byte header has fully arrived.  A
 * UART delivers the H4 stream in arbitrary pieces (often a byte at a time),
 * so the server loses sync and the peer loops on "command 0x2006 tx
 * timeout".  Here every H4 packet (type byte, header, payload by the
 * header's length) is collected first and handed over with a single send().
 *
 * Server -> port: btvirt's btdev sends LE advertising reports only at the
 * instant scanning or advertising is enabled (emulator/btdev.c,
 * cmd_set_scan_enable_complete), in the same burst as the Command Complete
 * of LE Set Scan Enable.  The kernel only reports devices once its discovery
 * state is FINDING, which it sets after that Command Complete; reports that
 * arrive with it are dropped about half the time, and the device only shows
 * up at the next scan cycle 10 s later, or never.  A real radio delivers
 * reports at advertising intervals after the scan started, so LE advertising
 * report events are held back by REPORT_DELAY_MS (packet order is kept).
 *
 * Someone between the LE links, on demand: with a third argument ARM_FILE,
 * while a file exists at that path the next SMP Pairing Random that host A
 * sends has one bit flipped on its way to the air, and the file is removed
 * (one packet per arming).  In LE Secure Connections numeric comparison the
 * responder checks nothing about the initiator's nonce Na until the DHKey
 * check, which comes after both users confirmed; with Na changed the two
 * hosts compute different 6-digit passkeys from g2(PKa, PKb, Na, Nb), which
 * is what a relay between two LE links produces.  The system tier uses it to
 * show that blueratchetd refuses a bond whose two passkeys differ
 * (scenario 10, docs/SECURITY.md, "LE bond bound to the session").
 *
 * Usage: h4relay PORT SOCKET [ARM_FILE]   (runs until the server closes; one
 * log line per event on stderr)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define REPORT_DELAY_MS 500
#define MAX_PKT (1 + 4 + 65535)

static void logf_(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("h4relay: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Header length for each H4 packet type, 0 for unknown types. */
static size_t header_len(uint8_t type) {
    switch (type) {
        case 0x01:
            return 3; /* command: opcode(2) plen(1) */
        case 0x02:
            return 4; /* ACL: handle(2) dlen(2) */
        case 0x03:
            return 3; /* SCO: handle(2) dlen(1) */
        case 0x04:
            return 2; /* event: code(1) plen(1) */
        case 0x05:
            return 4; /* ISO: handle(2) dlen(2, 14 bits) */
        default:
            return 0;
    }
}

static size_t payload_len(const uint8_t* pkt) {
    switch (pkt[0]) {
        case 0x01:
            return pkt[3];
        case 0x02:
            return (size_t)pkt[3] | ((size_t)pkt[4] << 8);
        case 0x03:
            return pkt[3];
        case 0x04:
            return pkt[2];
        case 0x05:
            return ((size_t)pkt[3] | ((size_t)pkt[4] << 8)) & 0x3fff;
    }
    return 0;
}

/* Collects one H4 packet from a byte stream. */
struct parser {
    const char* name;
    uint8_t pkt[MAX_PKT];
    size_t have;
    unsigned long dropped;
};

/* Feeds one byte; returns the packet length once a packet is complete. */
static size_t parser_feed(struct parser* p, uint8_t b) {
    if (p->have == 0 && header_len(b) == 0) {
        if (p->dropped++ < 16) logf_("%s: dropping byte 0x%02x outside a packet", p->name, b);
        return 0;
    }
    p->pkt[p->have++] = b;
    size_t hl = header_len(p->pkt[0]);
    if (p->have < 1 + hl) return 0;
    size_t total = 1 + hl + payload_len(p->pkt);
    if (p->have < total) return 0;
    p->have = 0;
    return total;
}

static int is_adv_report(const uint8_t* pkt, size_t len) {
    /* LE Meta event with Advertising (0x02), Direct (0x0b) or Extended
     * (0x0d) Advertising Report. */
    return len >= 4 && pkt[0] == 0x04 && pkt[1] == 0x3e &&
           (pkt[3] == 0x02 || pkt[3] == 0x0b || pkt[3] == 0x0d);
}

/* Server -> port queue, released in order at each packet's due time. */
struct qpkt {
    struct qpkt* next;
    long long due;
    size_t len;
    uint8_t data[];
};
static struct qpkt *q_head, *q_tail;

static void enqueue(const uint8_t* pkt, size_t len, long long due) {
    struct qpkt* q = malloc(sizeof(*q) + len);
    if (!q) {
        logf_("out of memory");
        exit(1);
    }
    if (q_tail && q_tail->due > due) due = q_tail->due; /* keep the order */
    q->next = NULL;
    q->due = due;
    q->len = len;
    memcpy(q->data, pkt, len);
    if (q_tail)
        q_tail->next = q;
    else
        q_head = q;
    q_tail = q;
}

static int flush_due(int port) {
    long long t = now_ms();
    while (q_head && q_head->due <= t) {
        struct qpkt* q = q_head;
        if (write_all(port, q->data, q->len) < 0) {
            logf_("write port: %s", strerror(errno));
            return -1;
        }
        q_head = q->next;
        if (!q_head) q_tail = NULL;
        free(q);
    }
    return 0;
}

/* An ACL packet from the host carrying an SMP Pairing Random: H4 type,
 * handle(2) length(2), L2CAP length(2) CID(2) = 0x0006 (SMP), code 0x04 and
 * the 16-byte random.  Only whole, unfragmented SDUs (17 bytes) count. */
static int is_smp_pairing_random(const uint8_t* pkt, size_t len) {
    return len == 1 + 4 + 4 + 17 && pkt[0] == 0x02 && pkt[5] == 17 && pkt[6] == 0 &&
           pkt[7] == 0x06 && pkt[8] == 0x00 && pkt[9] == 0x04;
}

/* Flips the last bit of the random if ARM_FILE exists (and removes it). */
static void maybe_interfere(const char* arm_file, uint8_t* pkt, size_t len) {
    if (!arm_file || !is_smp_pairing_random(pkt, len)) return;
    if (unlink(arm_file) != 0) {
        logf_("host A sent an SMP Pairing Random; passed on unchanged");
        return;
    }
    pkt[len - 1] ^= 0x01;
    logf_(
        "host A sent an SMP Pairing Random; flipped one bit of it (armed by %s): "
        "the two hosts will compute different passkeys",
        arm_file);
}

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: h4relay PORT SOCKET [ARM_FILE]\n");
        return 2;
    }
    const char* arm_file = argc == 4 ? argv[3] : NULL;
    setvbuf(stderr, NULL, _IOLBF, 0);
    int port = open(argv[1], O_RDWR | O_NOCTTY);
    if (port < 0) {
        logf_("open %s: %s", argv[1], strerror(errno));
        return 1;
    }
    struct termios tio;
    if (tcgetattr(port, &tio) == 0) { /* a tty: make it raw */
        cfmakeraw(&tio);
        tcsetattr(port, TCSANOW, &tio);
    }
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strncpy(sa.sun_path, argv[2], sizeof(sa.sun_path) - 1);
    if (sock < 0 || connect(sock, (struct sockaddr*)&sa, sizeof(sa)) < 0) {
        logf_("connect %s: %s", argv[2], strerror(errno));
        return 1;
    }
    logf_("relaying %s <-> %s (advertising reports held back %d ms)", argv[1], argv[2],
          REPORT_DELAY_MS);

    static struct parser up = {.name = "port"}, down = {.name = "server"};
    unsigned long n_up = 0, n_down = 0, n_reports = 0;
    struct pollfd pfd[2] = {{.fd = port, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
    for (;;) {
        int timeout = -1;
        if (q_head) {
            long long d = q_head->due - now_ms();
            timeout = d < 0 ? 0 : (int)d;
        }
        if (poll(pfd, 2, timeout) < 0) {
            if (errno == EINTR) continue;
            logf_("poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t buf[4096];
            ssize_t n = read(sock, buf, sizeof(buf));
            if (n <= 0) {
                logf_(
                    "server socket closed (%s); %lu packets to the server, "
                    "%lu from it (%lu advertising reports)",
                    n < 0 ? strerror(errno) : "EOF", n_up, n_down, n_reports);
                return n < 0;
            }
            long long t = now_ms();
            for (ssize_t i = 0; i < n; i++) {
                size_t len = parser_feed(&down, buf[i]);
                if (!len) continue;
                n_down++;
                int rep = is_adv_report(down.pkt, len);
                n_reports += rep;
                enqueue(down.pkt, len, t + (rep ? REPORT_DELAY_MS : 0));
            }
        }
        if (flush_due(port) < 0) return 1;
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t buf[4096];
            ssize_t n = read(port, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0) {
                logf_("read port: %s", strerror(errno));
                return 1;
            }
            if (n == 0) {
                /* virtio-serial reports EOF while the host side
                 * is not connected; wait and try again. */
                usleep(100000);
                continue;
            }
            for (ssize_t i = 0; i < n; i++) {
                size_t len = parser_feed(&up, buf[i]);
                if (!len) continue;
                maybe_interfere(arm_file, up.pkt, len);
                if (send(sock, up.pkt, len, MSG_NOSIGNAL) < 0) {
                    logf_("send: %s", strerror(errno));
                    return 1;
                }
                n_up++;
            }
        }
    }
}
