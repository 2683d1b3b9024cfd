/*
 * The load generator for the bench's "new-conns" jobs: new CONNECT + TLS connections (and one
 * GET each, if asked), `concurrency` at a time, as fast as the target answers.
 *
 * It does what bench/loadgen/new-conns.ts does (and that file stays the fallback), but a Node
 * TLS client handshake costs 1-1.5 ms of CPU, which capped every target, the origin itself
 * included, near 1,000 conn/s on a 2-core machine (this one: 450-700 µs, mostly cryptography). Here one thread drives every connection
 * through non-blocking sockets and epoll, with one SSL_CTX for all of them, so the generator's
 * share of a handshake is the client's cryptography and little else.
 *
 * Each visit: TCP connect to 127.0.0.1:PORT; through a proxy, `CONNECT authority HTTP/1.1`
 * with the same Host line and a 2xx reply required; a full TLS handshake (SNI = the next host
 * round-robin, ALPN http/1.1, chain verified against --ca, the name only with
 * --check-hostname, no session cache and no tickets, so never a resumption); with --request,
 * one `GET PATH` and its whole response (Content-Length or chunked); then close_notify and a
 * FIN, and the socket is drained until the peer closes (2 s at most) as Node's end() does.
 *
 * Timing: the run lasts --warmup-ms then --duration-ms; a visit counts when it ends inside the
 * measured window with a 2xx status. Visits in flight at the end are finished, new ones are not
 * started. Errors and non-2xx answers are counted whenever they happen; after an error a slot
 * waits 50 ms before its next visit. The result is one JSON line on stdout.
 *
 * Build: gcc -O2 -o new-conns new-conns.c -lssl -lcrypto -lm   (bench/loadgen/native.ts does it)
 * NEW_CONNS_PROVIDER_KEYS=1 in the environment turns off the key-decoding shortcut (legacy_keys
 * below), to measure what it saves.
 * Usage: new-conns --dial-port N --origin-port N [--via-proxy] [--connect-by-name]
 *          [--ca FILE] [--check-hostname] [--request PATH] --concurrency N
 *          --warmup-ms N --duration-ms N HOST...
 */
#define _GNU_SOURCE
/* The ENGINE calls below are deprecated in OpenSSL 3.0, and still there. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* The same limits as the Node generator. */
#define DIAL_TIMEOUT_MS 10000.0
#define RESPONSE_TIMEOUT_MS 10000.0
#define RETRY_AFTER_ERROR_MS 50.0
#define CLOSE_LINGER_MS 2000.0
#define CONNECT_HEAD_MAX 8192
#define RESPONSE_HEAD_MAX (64 * 1024)
#define LINE_MAX_LEN 8192

/*
 * epoll data: a generation in bits 32-62 and a slot index, or a closing socket's fd with bit 63
 * set. An event already fetched may belong to a socket closed earlier in the same batch, its
 * number since reused; the generation tells.
 */
#define CLOSER_TAG (1ULL << 63)
#define GEN_MASK 0x7fffffffu
#define EV_DATA(gen, id) (((uint64_t)((gen) & GEN_MASK) << 32) | (uint32_t)(id))

static struct {
  int dial_port, origin_port, via_proxy, connect_by_name, check_hostname, concurrency;
  const char *ca_file, *path;
  double warmup_ms, duration_ms;
  char **hosts;
  int nhosts;
} opt;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- latency samples ---- */

typedef struct {
  double *v;
  size_t n, cap;
} samples_t;

static void samples_push(samples_t *s, double x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 65536;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) {
      fputs("new-conns: out of memory\n", stderr);
      exit(2);
    }
  }
  s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank on sorted samples, as bench/stats.ts does; NaN when there are none. */
static double percentile(const samples_t *s, double q) {
  if (s->n == 0) return NAN;
  long rank = (long)ceil(q * (double)s->n) - 1;
  if (rank < 0) rank = 0;
  if (rank > (long)s->n - 1) rank = (long)s->n - 1;
  return s->v[rank];
}

/* ---- HTTP/1.1 response framing (bench/loadgen/response-reader.ts, for one response) ---- */

enum { R_HEAD, R_BODY, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_END, R_TRAILERS };

typedef struct {
  int state;
  int status; /* of the final (non-1xx) head */
  uint64_t left;
  size_t head_len;
  size_t line_len;
  char head[RESPONSE_HEAD_MAX + 4];
  char line[LINE_MAX_LEN + 1];
} response_t;

static void response_reset(response_t *r) {
  r->state = R_HEAD;
  r->status = 0;
  r->left = 0;
  r->head_len = 0;
  r->line_len = 0;
}

/* Is `name:` the start of the header line [p, end)? Case-insensitive. Returns the value start. */
static const char *header_value(const char *p, const char *end, const char *name) {
  size_t n = strlen(name);
  if ((size_t)(end - p) < n + 1 || strncasecmp(p, name, n) != 0 || p[n] != ':') return NULL;
  return p + n + 1;
}

static int contains_ci(const char *p, const char *end, const char *needle) {
  size_t n = strlen(needle);
  for (; (size_t)(end - p) >= n; p++)
    if (strncasecmp(p, needle, n) == 0) return 1;
  return 0;
}

/*
 * A complete head [0, len) without its blank line. Returns 1 when the response is complete
 * (no body), 0 when a body or another head follows, -1 on bad framing (message in err).
 */
static int on_head(response_t *r, const char *h, size_t len, char *err, size_t errlen) {
  if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[9] < '0' || h[9] > '9' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9') {
    char shown[41];
    size_t n = len < 40 ? len : 40;
    for (size_t i = 0; i < n; i++) shown[i] = (h[i] >= 0x20 && h[i] < 0x7f && h[i] != '"' && h[i] != '\\') ? h[i] : '.';
    shown[n] = 0;
    snprintf(err, errlen, "not an HTTP/1 response: \"%s\"", shown);
    return -1;
  }
  int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
  /* Interim 1xx heads precede the real one. */
  if (status < 200) return 0;
  r->status = status;
  const char *end = h + len;
  int chunked = 0, have_length = 0;
  uint64_t length = 0;
  const char *p = memchr(h, '\n', len);
  while (p && p < end) {
    const char *line = p + 1;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *stop = eol ? eol : end;
    if (stop > line && stop[-1] == '\r') stop--;
    const char *v;
    if ((v = header_value(line, stop, "transfer-encoding")) && contains_ci(v, stop, "chunked")) chunked = 1;
    if (!have_length && (v = header_value(line, stop, "content-length"))) {
      while (v < stop && (*v == ' ' || *v == '\t')) v++;
      if (v < stop && *v >= '0' && *v <= '9') {
        have_length = 1;
        for (; v < stop && *v >= '0' && *v <= '9'; v++) length = length * 10 + (uint64_t)(*v - '0');
      }
    }
    p = eol;
  }
  if (chunked) {
    r->state = R_CHUNK_SIZE;
    r->line_len = 0;
    return 0;
  }
  if (have_length) {
    if (length == 0) return 1;
    r->left = length;
    r->state = R_BODY;
    return 0;
  }
  if (status == 204 || status == 304) return 1;
  snprintf(err, errlen, "response %d has neither Content-Length nor chunked framing", status);
  return -1;
}

/* Appends to the current line up to its LF. Returns bytes used, and sets *done when the line ended. */
static long read_line(response_t *r, const char *p, size_t n, int *done, char *err, size_t errlen) {
  const char *nl = memchr(p, '\n', n);
  size_t take = nl ? (size_t)(nl - p) : n;
  if (r->line_len + take > LINE_MAX_LEN) {
    snprintf(err, errlen, "chunk framing line too long");
    return -1;
  }
  memcpy(r->line + r->line_len, p, take);
  r->line_len += take;
  *done = nl != NULL;
  if (*done) {
    if (r->line_len && r->line[r->line_len - 1] == '\r') r->line_len--;
    r->line[r->line_len] = 0;
    return (long)take + 1;
  }
  return (long)take;
}

/* Feeds bytes in. Returns 1 once the response is complete, 0 for more, -1 on bad framing. */
/* Skips what is left of a counted part (body, chunk, CRLF) that is in this piece of input. */
static void consume_left(response_t *r, const char **p, size_t *n) {
  size_t k = (uint64_t)*n < r->left ? *n : (size_t)r->left;
  *p += k;
  *n -= k;
  r->left -= k;
}

/* Reads towards the end of a line: 1 when the line is complete, 0 when more input is needed, -1 on error. */
static int take_line(response_t *r, const char **p, size_t *n, char *err, size_t errlen) {
  int done;
  long k = read_line(r, *p, *n, &done, err, errlen);
  if (k < 0) return -1;
  *p += k;
  *n -= (size_t)k;
  return done;
}

static int response_feed(response_t *r, const char *p, size_t n, char *err, size_t errlen) {
  while (n > 0) {
    switch (r->state) {
      case R_HEAD: {
        size_t from = r->head_len >= 3 ? r->head_len - 3 : 0;
        size_t room = RESPONSE_HEAD_MAX + 4 - r->head_len;
        size_t take = n < room ? n : room;
        memcpy(r->head + r->head_len, p, take);
        r->head_len += take;
        char *end = memmem(r->head + from, r->head_len - from, "\r\n\r\n", 4);
        if (!end) {
          if (r->head_len > RESPONSE_HEAD_MAX) {
            snprintf(err, errlen, "response head larger than 64 KiB");
            return -1;
          }
          p += take;
          n -= take;
          break;
        }
        size_t head_len = (size_t)(end - r->head);
        /* Bytes of this chunk past the blank line belong to what follows the head. */
        size_t used = head_len + 4 - (r->head_len - take);
        p += used;
        n -= used;
        r->head_len = 0;
        int rc = on_head(r, r->head, head_len, err, errlen);
        if (rc != 0) return rc;
        break;
      }
      case R_BODY: {
        consume_left(r, &p, &n);
        if (r->left == 0) return 1;
        break;
      }
      case R_CHUNK_SIZE: {
        int done = take_line(r, &p, &n, err, errlen);
        if (done < 0) return -1;
        if (!done) break;
        /* parseInt(line, 16): leading blanks, then at least one hex digit; the rest is ignored. */
        const char *s = r->line;
        while (*s == ' ' || *s == '\t') s++;
        uint64_t size = 0;
        int digits = 0;
        for (;; s++, digits++) {
          int d = (*s >= '0' && *s <= '9') ? *s - '0' : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10 : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10 : -1;
          if (d < 0) break;
          size = size * 16 + (uint64_t)d;
        }
        if (!digits) {
          snprintf(err, errlen, "bad chunk size line \"%.60s\"", r->line);
          return -1;
        }
        r->line_len = 0;
        r->left = size;
        r->state = size == 0 ? R_TRAILERS : R_CHUNK_DATA;
        break;
      }
      case R_CHUNK_DATA: {
        consume_left(r, &p, &n);
        if (r->left == 0) {
          r->left = 2;
          r->state = R_CHUNK_END;
        }
        break;
      }
      case R_CHUNK_END: {
        consume_left(r, &p, &n);
        if (r->left == 0) r->state = R_CHUNK_SIZE;
        break;
      }
      case R_TRAILERS: {
        int done = take_line(r, &p, &n, err, errlen);
        if (done < 0) return -1;
        if (!done) break;
        int blank = r->line_len == 0;
        r->line_len = 0;
        if (blank) return 1;
        break;
      }
    }
  }
  return 0;
}

/* ---- connections ---- */

enum { S_IDLE, S_WAIT, S_CONNECTING, S_PROXY_WRITE, S_PROXY_READ, S_TLS, S_REQ_WRITE, S_RESPONSE, S_DONE };

typedef struct {
  int state;
  int fd;
  SSL *ssl;
  uint32_t events; /* current epoll interest */
  uint32_t gen;    /* of the current visit */
  double t0, ready_at, deadline;
  const char *host;
  char authority[300];
  char out[700];
  size_t out_len, out_off;
  char in[CONNECT_HEAD_MAX];
  size_t in_len;
  response_t resp;
} slot_t;

static int ep;
static SSL_CTX *ctx;
static slot_t *slots;
static struct sockaddr_in dial_addr;
static char request[512];
static size_t request_len;
static double started, measure_from, stop_at;
static unsigned long next_host;
static long counted, errors, bad_status, visits;
static char first_error[600];
static samples_t latencies, handshakes;
static char scratch[64 * 1024];

/* Sockets closing after a visit: drained until the peer closes, or closed after the linger. */
typedef struct {
  int fd;
  uint32_t gen;
  double deadline;
} closer_t;
static closer_t *closers;
static size_t closers_head, closers_tail, closers_cap;
static uint32_t *closer_gen; /* by fd; 0 when the fd is not a live closer */
static uint32_t closer_gen_next = 1;
static size_t fd_limit;

static const char *errno_name(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPIPE: return "EPIPE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    default: return strerror(e);
  }
}

static void set_events(slot_t *s, uint32_t events) {
  if (s->events == events) return;
  struct epoll_event ev = {.events = events, .data.u64 = EV_DATA(s->gen, s - slots)};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) == 0) s->events = events;
}

/* An SSL call that wants the socket readable or writable: wait for that and say so. */
static int wait_for_tls(slot_t *s, int code) {
  if (code == SSL_ERROR_WANT_READ) set_events(s, EPOLLIN);
  else if (code == SSL_ERROR_WANT_WRITE) set_events(s, EPOLLOUT);
  else return 0;
  return 1;
}

static void close_now(slot_t *s) {
  if (s->ssl) SSL_free(s->ssl);
  s->ssl = NULL;
  if (s->fd >= 0) close(s->fd); /* also leaves the epoll set */
  s->fd = -1;
}

static void closer_forget(int fd) {
  if ((size_t)fd < fd_limit) closer_gen[fd] = 0;
  close(fd);
}

/* close_notify and a FIN, as Node's end() sends; the socket is then drained until the peer closes. */
static void close_gracefully(slot_t *s) {
  if (s->ssl) {
    SSL_shutdown(s->ssl); /* one call: sends close_notify without waiting for the peer's */
    SSL_free(s->ssl);
    s->ssl = NULL;
    ERR_clear_error();
  }
  int fd = s->fd;
  s->fd = -1;
  shutdown(fd, SHUT_WR);
  if ((size_t)fd >= fd_limit) {
    close(fd);
    return;
  }
  uint32_t gen = closer_gen_next++ & GEN_MASK;
  if (!gen) gen = closer_gen_next++ & GEN_MASK;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = CLOSER_TAG | EV_DATA(gen, fd)};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
    close(fd);
    return;
  }
  if (closers_tail - closers_head == closers_cap) {
    /* Grow the ring: compact it into a larger array. */
    size_t n = closers_tail - closers_head, cap = closers_cap ? closers_cap * 2 : 4096;
    closer_t *next = malloc(cap * sizeof *next);
    if (!next) {
      close(fd);
      return;
    }
    for (size_t i = 0; i < n; i++) next[i] = closers[(closers_head + i) % closers_cap];
    free(closers);
    closers = next;
    closers_cap = cap;
    closers_head = 0;
    closers_tail = n;
  }
  closer_gen[fd] = gen;
  closers[closers_tail++ % closers_cap] = (closer_t){fd, gen, now_ms() + CLOSE_LINGER_MS};
}

static void on_closer_event(int fd, uint32_t gen) {
  if ((size_t)fd >= fd_limit || closer_gen[fd] != gen) return;
  for (;;) {
    ssize_t n = recv(fd, scratch, sizeof scratch, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    closer_forget(fd);
    return;
  }
}

static void expire_closers(double now) {
  while (closers_head < closers_tail) {
    closer_t *c = &closers[closers_head % closers_cap];
    if (c->deadline > now) return;
    if (closer_gen[c->fd] == c->gen) closer_forget(c->fd);
    closers_head++;
  }
}

static void start_visit(slot_t *s);

/* The slot's next visit, or its end when the run is over. */
static void next_visit(slot_t *s) {
  if (now_ms() < stop_at) start_visit(s);
  else s->state = S_DONE;
}

static void fail(slot_t *s, int graceful, const char *fmt, ...) {
  errors++;
  visits++;
  if (!first_error[0]) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_error, sizeof first_error, fmt, ap);
    va_end(ap);
  }
  if (graceful) close_gracefully(s);
  else close_now(s);
  s->state = S_WAIT;
  s->deadline = now_ms() + RETRY_AFTER_ERROR_MS;
}

/* The OpenSSL error behind a failed call, in words, with the certificate's verdict first. */
static void fail_tls(slot_t *s, int code, const char *during) {
  char msg[300] = "";
  long verify = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
  unsigned long e = ERR_peek_error();
  if (code == SSL_ERROR_SSL && verify != X509_V_OK) {
    snprintf(msg, sizeof msg, "certificate verify failed: %s", X509_verify_cert_error_string(verify));
  } else if (e) {
    ERR_error_string_n(e, msg, sizeof msg);
  } else if (code == SSL_ERROR_SYSCALL && errno) {
    snprintf(msg, sizeof msg, "%s", errno_name(errno));
  } else {
    snprintf(msg, sizeof msg, "socket closed (SSL error %d)", code);
  }
  ERR_clear_error();
  /* After a fatal TLS error there is no close_notify to send. */
  fail(s, 0, "%s: %s", during, msg);
}

static void complete(slot_t *s, int status) {
  double now = now_ms();
  visits++;
  if (status < 200 || status > 299) bad_status++;
  else if (now >= measure_from && now < stop_at) {
    counted++;
    samples_push(&latencies, now - s->t0);
    samples_push(&handshakes, s->ready_at - s->t0);
  }
  close_gracefully(s);
  next_visit(s);
}

static void step(slot_t *s);

static void start_tls(slot_t *s) {
  s->ssl = SSL_new(ctx);
  if (!s->ssl || !SSL_set_fd(s->ssl, s->fd) || !SSL_set_tlsext_host_name(s->ssl, s->host) ||
      (opt.check_hostname && !SSL_set1_host(s->ssl, s->host))) {
    fail_tls(s, SSL_ERROR_SSL, "TLS setup");
    return;
  }
  if (opt.check_hostname) SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set_connect_state(s->ssl);
  s->state = S_TLS;
  step(s);
}

static void start_visit(slot_t *s) {
  s->host = opt.hosts[next_host++ % (unsigned long)opt.nhosts];
  s->gen = (s->gen + 1) & GEN_MASK;
  s->t0 = now_ms();
  s->deadline = s->t0 + DIAL_TIMEOUT_MS;
  s->ssl = NULL;
  s->in_len = 0;
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    fail(s, 0, "socket: %s", errno_name(errno));
    return;
  }
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->state = S_CONNECTING;
  s->events = EPOLLOUT;
  struct epoll_event ev = {.events = s->events, .data.u64 = EV_DATA(s->gen, s - slots)};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
    fail(s, 0, "epoll_ctl: %s", errno_name(errno));
    return;
  }
  if (connect(s->fd, (struct sockaddr *)&dial_addr, sizeof dial_addr) != 0 && errno != EINPROGRESS) {
    fail(s, 0, "connect %s 127.0.0.1:%d", errno_name(errno), opt.dial_port);
    return;
  }
  /* Even when connect() finished at once, EPOLLOUT reports it on the next wait. */
}

/* Advances a visit as far as its socket allows. */
static void step(slot_t *s) {
  for (;;) {
    switch (s->state) {
      case S_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err) {
          fail(s, 0, "connect %s 127.0.0.1:%d", errno_name(err), opt.dial_port);
          return;
        }
        if (!opt.via_proxy) {
          set_events(s, EPOLLIN);
          start_tls(s);
          return;
        }
        snprintf(s->authority, sizeof s->authority, "%s:%d", opt.connect_by_name ? s->host : "127.0.0.1", opt.origin_port);
        s->out_len = (size_t)snprintf(s->out, sizeof s->out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", s->authority, s->authority);
        s->out_off = 0;
        s->state = S_PROXY_WRITE;
        break;
      }
      case S_PROXY_WRITE: {
        ssize_t n = send(s->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            set_events(s, EPOLLOUT);
            return;
          }
          if (errno == EINTR) break;
          fail(s, 0, "write %s during CONNECT %s", errno_name(errno), s->authority);
          return;
        }
        s->out_off += (size_t)n;
        if (s->out_off == s->out_len) {
          s->state = S_PROXY_READ;
          set_events(s, EPOLLIN);
          return; /* the reply cannot be here yet */
        }
        break;
      }
      case S_PROXY_READ: {
        ssize_t n = recv(s->fd, s->in + s->in_len, sizeof s->in - s->in_len, 0);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) return;
          if (errno == EINTR) break;
          fail(s, 0, "read %s during CONNECT %s", errno_name(errno), s->authority);
          return;
        }
        if (n == 0) {
          fail(s, 0, "proxy closed the connection during CONNECT %s", s->authority);
          return;
        }
        size_t from = s->in_len >= 3 ? s->in_len - 3 : 0;
        s->in_len += (size_t)n;
        char *end = memmem(s->in + from, s->in_len - from, "\r\n\r\n", 4);
        if (!end) {
          if (s->in_len == sizeof s->in) {
            fail(s, 0, "CONNECT %s: reply head larger than %d bytes", s->authority, CONNECT_HEAD_MAX);
            return;
          }
          break;
        }
        char *eol = memmem(s->in, s->in_len, "\r\n", 2);
        size_t line_len = (size_t)(eol - s->in);
        /* /^HTTP\/1\.[01] 2\d\d/ */
        int ok = line_len >= 12 && strncmp(s->in, "HTTP/1.", 7) == 0 && (s->in[7] == '0' || s->in[7] == '1') && s->in[8] == ' ' && s->in[9] == '2' &&
                 s->in[10] >= '0' && s->in[10] <= '9' && s->in[11] >= '0' && s->in[11] <= '9';
        if (!ok) {
          fail(s, 0, "CONNECT %s refused: %.*s", s->authority, (int)(line_len < 200 ? line_len : 200), s->in);
          return;
        }
        size_t extra = s->in_len - (size_t)(end + 4 - s->in);
        if (extra) {
          /* Only TLS from the origin could follow, and that answers a ClientHello not yet sent. */
          fail(s, 0, "CONNECT %s: %zu bytes after the reply before the TLS handshake", s->authority, extra);
          return;
        }
        start_tls(s);
        return;
      }
      case S_TLS: {
        int rc = SSL_connect(s->ssl);
        if (rc == 1) {
          s->ready_at = now_ms();
          if (!opt.path) {
            complete(s, 200);
            return;
          }
          s->state = S_REQ_WRITE;
          break;
        }
        int code = SSL_get_error(s->ssl, rc);
        if (wait_for_tls(s, code)) return;
        if (code == SSL_ERROR_SYSCALL && !ERR_peek_error() && errno == 0) {
          ERR_clear_error();
          fail(s, 0, "Client network socket disconnected before secure TLS connection was established");
          return;
        }
        fail_tls(s, code, "TLS handshake");
        return;
      }
      case S_REQ_WRITE: {
        int rc = SSL_write(s->ssl, request, (int)request_len);
        if (rc > 0) {
          s->state = S_RESPONSE;
          s->deadline = now_ms() + RESPONSE_TIMEOUT_MS;
          response_reset(&s->resp);
          set_events(s, EPOLLIN);
          return; /* the response cannot be here yet */
        }
        int code = SSL_get_error(s->ssl, rc);
        if (wait_for_tls(s, code)) return;
        fail_tls(s, code, "write");
        return;
      }
      case S_RESPONSE: {
        int rc = SSL_read(s->ssl, scratch, sizeof scratch);
        if (rc > 0) {
          char err[200];
          int done = response_feed(&s->resp, scratch, (size_t)rc, err, sizeof err);
          if (done < 0) {
            fail(s, 1, "%s", err);
            return;
          }
          if (done > 0) {
            complete(s, s->resp.status);
            return;
          }
          break;
        }
        int code = SSL_get_error(s->ssl, rc);
        if (wait_for_tls(s, code)) return;
        if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && !ERR_peek_error() && errno == 0) ||
            ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          ERR_clear_error();
          fail(s, 0, "connection closed before the response completed");
          return;
        }
        fail_tls(s, code, "read");
        return;
      }
      default:
        return;
    }
  }
}

/* Visits that ran past their time limit, and slots whose pause after an error is over. */
static void check_deadlines(double now) {
  for (int i = 0; i < opt.concurrency; i++) {
    slot_t *s = &slots[i];
    if (s->state == S_IDLE || s->state == S_DONE || s->deadline > now) continue;
    if (s->state == S_WAIT) next_visit(s);
    else if (s->state == S_RESPONSE) fail(s, 1, "no response within %d s", (int)(RESPONSE_TIMEOUT_MS / 1000));
    else fail(s, 0, "dial timed out after %d ms", (int)DIAL_TIMEOUT_MS);
  }
}

static int wait_ms(double now) {
  double until = INFINITY;
  for (int i = 0; i < opt.concurrency; i++) {
    slot_t *s = &slots[i];
    if (s->state != S_IDLE && s->state != S_DONE && s->deadline < until) until = s->deadline;
  }
  if (closers_head < closers_tail && closers[closers_head % closers_cap].deadline < until) until = closers[closers_head % closers_cap].deadline;
  if (until == INFINITY) return -1;
  double d = ceil(until - now);
  return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void json_number(FILE *f, double v) {
  if (isnan(v)) fputs("null", f);
  else fprintf(f, "%.4f", v);
}

static void usage(const char *why) {
  fprintf(stderr, "new-conns: %s\nusage: new-conns --dial-port N --origin-port N [--via-proxy] [--connect-by-name] [--ca FILE] [--check-hostname] [--request PATH] --concurrency N --warmup-ms N --duration-ms N HOST...\n", why);
  exit(2);
}

static void parse_args(int argc, char **argv) {
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strncmp(a, "--", 2) != 0) break;
    if (strcmp(a, "--via-proxy") == 0) opt.via_proxy = 1;
    else if (strcmp(a, "--connect-by-name") == 0) opt.connect_by_name = 1;
    else if (strcmp(a, "--check-hostname") == 0) opt.check_hostname = 1;
    else {
      if (!v) usage("missing value");
      i++;
      if (strcmp(a, "--dial-port") == 0) opt.dial_port = atoi(v);
      else if (strcmp(a, "--origin-port") == 0) opt.origin_port = atoi(v);
      else if (strcmp(a, "--ca") == 0) opt.ca_file = v;
      else if (strcmp(a, "--request") == 0) opt.path = v;
      else if (strcmp(a, "--concurrency") == 0) opt.concurrency = atoi(v);
      else if (strcmp(a, "--warmup-ms") == 0) opt.warmup_ms = atof(v);
      else if (strcmp(a, "--duration-ms") == 0) opt.duration_ms = atof(v);
      else usage("unknown option");
    }
  }
  opt.hosts = argv + i;
  opt.nhosts = argc - i;
  if (opt.dial_port <= 0 || opt.dial_port > 65535 || opt.origin_port <= 0 || opt.origin_port > 65535) usage("bad port");
  if (opt.concurrency <= 0 || opt.duration_ms <= 0 || opt.warmup_ms < 0) usage("bad concurrency or times");
  if (opt.nhosts == 0) usage("no hosts");
  for (int h = 0; h < opt.nhosts; h++)
    if (strlen(opt.hosts[h]) > 253) usage("host name too long");
  if (opt.path && strlen(opt.path) > 400) usage("path too long");
}

/*
 * OpenSSL 3.0 decodes the public key of every certificate it parses through its provider
 * decoders, and setting those up (OSSL_DECODER_CTX_new_for_pkey) was a quarter of this
 * program's CPU per handshake. It takes the 1.1.1 path instead, a plain d2i of the key, when an
 * ENGINE claims the key's type. This one claims RSA and EC keys (the peers' leaf certificates
 * are one or the other) and hands back OpenSSL's own methods for them, so the same code checks
 * the same signatures; nothing on the wire changes.
 */
static int pkey_meths(ENGINE *e, EVP_PKEY_METHOD **pmeth, const int **nids, int nid) {
  static const int ours[] = {EVP_PKEY_RSA, EVP_PKEY_EC};
  (void)e;
  if (!pmeth) {
    *nids = ours;
    return 2;
  }
  *pmeth = nid == EVP_PKEY_RSA || nid == EVP_PKEY_EC ? (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid) : NULL;
  return *pmeth != NULL;
}

static int legacy_keys(void) {
  ENGINE *e = ENGINE_new();
  if (!e) return 0;
  int ok = ENGINE_set_id(e, "pryx-bench-keys") && ENGINE_set_name(e, "OpenSSL's RSA and EC key methods, decoded the 1.1.1 way") &&
           ENGINE_set_pkey_meths(e, pkey_meths) && ENGINE_add(e) && ENGINE_init(e) && ENGINE_register_pkey_meths(e);
  ENGINE_free(e); /* ENGINE_add and ENGINE_init hold their own references */
  ERR_clear_error();
  return ok;
}

static SSL_CTX *make_context(void) {
  SSL_CTX *c = SSL_CTX_new(TLS_client_method());
  if (!c) return NULL;
  /* Node's default floor. */
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  /* A full handshake every time: nothing cached, no tickets asked for or kept. */
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
  /* Whole reads instead of a record header, then its body: a third of the syscalls, same bytes on the wire. */
  SSL_CTX_set_read_ahead(c, 1);
  int ok = opt.ca_file ? SSL_CTX_load_verify_locations(c, opt.ca_file, NULL) : SSL_CTX_set_default_verify_paths(c);
  if (!ok) {
    fprintf(stderr, "new-conns: cannot load the CA %s\n", opt.ca_file ? opt.ca_file : "(default paths)");
    return NULL;
  }
  /* pryx answers h2 when offered; these figures are about HTTP/1.1 inside the tunnel. */
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (SSL_CTX_set_alpn_protos(c, alpn, sizeof alpn) != 0) return NULL;
  return c;
}

int main(int argc, char **argv) {
  /* Never outlive the load-generator process that started us. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  parse_args(argc, argv);

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20) ? (size_t)rl.rlim_cur : (1u << 20);
  closer_gen = calloc(fd_limit, sizeof *closer_gen);

  const char *fast = getenv("NEW_CONNS_PROVIDER_KEYS"); /* set to 1 to measure without the ENGINE */
  int legacy = !(fast && fast[0] == '1') && legacy_keys();
  ctx = make_context();
  if (!ctx || !closer_gen) {
    ERR_print_errors_fp(stderr);
    return 2;
  }
  if (opt.path) request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", opt.path, opt.origin_port);

  memset(&dial_addr, 0, sizeof dial_addr);
  dial_addr.sin_family = AF_INET;
  dial_addr.sin_port = htons((uint16_t)opt.dial_port);
  dial_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  ep = epoll_create1(EPOLL_CLOEXEC);
  slots = calloc((size_t)opt.concurrency, sizeof *slots);
  if (ep < 0 || !slots) {
    perror("new-conns");
    return 2;
  }

  started = now_ms();
  measure_from = started + opt.warmup_ms;
  stop_at = measure_from + opt.duration_ms;
  for (int i = 0; i < opt.concurrency; i++) {
    slots[i].fd = -1;
    start_visit(&slots[i]);
  }

  struct epoll_event events[256];
  for (;;) {
    double now = now_ms();
    check_deadlines(now);
    expire_closers(now);
    int running = 0;
    for (int i = 0; i < opt.concurrency; i++)
      if (slots[i].state != S_DONE) running = 1;
    if (!running) break;
    int n = epoll_wait(ep, events, (int)(sizeof events / sizeof *events), wait_ms(now));
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("new-conns: epoll_wait");
      return 2;
    }
    for (int i = 0; i < n; i++) {
      uint64_t d = events[i].data.u64;
      uint32_t id = (uint32_t)d, gen = (uint32_t)(d >> 32) & GEN_MASK;
      if (d & CLOSER_TAG) {
        on_closer_event((int)id, gen);
        continue;
      }
      slot_t *s = &slots[id];
      /* A visit that ended since the wait began: the event was for its socket, not the next one's. */
      if (s->gen != gen || s->state < S_CONNECTING || s->state > S_RESPONSE) continue;
      errno = 0;
      step(s);
    }
  }
  double wall = now_ms() - started;

  /* Sockets still closing are abandoned: the measured window is over. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double user_ms = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3;
  double sys_ms = (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;

  if (latencies.n) qsort(latencies.v, latencies.n, sizeof *latencies.v, cmp_double);
  if (handshakes.n) qsort(handshakes.v, handshakes.n, sizeof *handshakes.v, cmp_double);
  FILE *o = stdout;
  fprintf(o, "{\"generator\":\"c-openssl\",\"legacyKeys\":%s,\"openssl\":", legacy ? "true" : "false");
  json_string(o, OpenSSL_version(OPENSSL_VERSION));
  fprintf(o, ",\"count\":%ld,\"visits\":%ld,\"errors\":%ld,\"badStatus\":%ld,\"p50Ms\":", counted, visits, errors, bad_status);
  json_number(o, percentile(&latencies, 0.5));
  fputs(",\"p99Ms\":", o);
  json_number(o, percentile(&latencies, 0.99));
  fputs(",\"handshakeP50Ms\":", o);
  json_number(o, percentile(&handshakes, 0.5));
  fprintf(o, ",\"cpuUserMs\":%.3f,\"cpuSysMs\":%.3f,\"wallMs\":%.3f,\"firstError\":", user_ms, sys_ms, wall);
  if (first_error[0]) json_string(o, first_error);
  else fputs("null", o);
  fputs("}\n", o);
  fflush(o);
  return 0;
}
