/* mmem-load: a closed-loop load generator for memcached-compatible servers
 * (text protocol) on one libevent thread. Every connection keeps a fixed
 * number of requests in flight, drawn from a deterministic script (seeded per
 * connection), and the run stops at a time limit or a request count, whichever
 * comes first. Latencies go into a log-linear histogram for percentiles. */
#include "config.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Hard caps, so a typo on the command line cannot run away. */
#define LOAD_MAX_CONNS 100000u
#define LOAD_MAX_DEPTH 4096u
#define LOAD_MAX_MGET 100u
#define LOAD_MAX_VALUE (1024u * 1024u)
#define LOAD_MAX_SECONDS 3600.0
#define LOAD_MAX_LINE 512u

/* Histogram: values below 64 ns are exact, above that each power of two is
 * split into 32 equal sub-buckets (about 3% resolution). */
#define HIST_SUB_BITS 5u
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_LINEAR 64u
#define HIST_BUCKETS (HIST_LINEAR + (64u - 6u) * HIST_SUB)

enum load_workload {
    LOAD_GETSET, /* get-ratio % single gets, the rest sets */
    LOAD_MGET,   /* multi-gets of --mget keys */
    LOAD_FILL,   /* one set of each key in order, then stop */
    LOAD_HOLD,   /* idle connections, then one get on each */
};

enum load_kind {
    KIND_GET,
    KIND_SET,
};

struct load_hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
};

struct load_opts {
    const char *host;
    int port;
    unsigned conns;
    unsigned depth;
    double seconds;
    uint64_t max_requests;
    enum load_workload workload;
    unsigned get_ratio;
    unsigned mget;
    unsigned value_size;
    uint64_t keys;
    unsigned key_len;
    unsigned sources;
    int prefill;
    double hold;
    uint64_t seed;
    const char *label;
};

struct load;

struct load_conn {
    struct load *ld;
    struct bufferevent *bev;
    unsigned id;
    uint64_t rng;
    uint64_t *sent_ns;
    unsigned head;
    unsigned inflight;
    size_t want_data;
    int alive;
};

struct load {
    struct load_opts o;
    struct event_base *base;
    struct event *timer;
    struct load_conn *conns;
    char *value;
    unsigned connected;
    unsigned failed;
    unsigned alive;
    int stopping;
    int phase_fill; /* prefill running before the measured phase */
    int hold_step;  /* hold mode: 0 connecting, 1 idle, 2 requested, 3 idle */
    uint64_t issued;
    uint64_t completed;
    uint64_t errors;
    uint64_t gets_keys;
    uint64_t hits;
    uint64_t next_fill;
    uint64_t start_ns;
    uint64_t end_ns;
    struct load_hist hist;
};

static uint64_t
load_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap, and the same seed gives the same request script. */
static uint64_t
load_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static unsigned
hist_index(uint64_t v)
{
    unsigned e;

    if (v < HIST_LINEAR) {
        return (unsigned)v;
    }
    e = 63u - (unsigned)__builtin_clzll(v);
    return HIST_LINEAR + (e - 6u) * HIST_SUB +
           (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1u));
}

/* The middle of a bucket, as the value reported for it. */
static uint64_t
hist_value(unsigned idx)
{
    unsigned e, sub;
    uint64_t lo, width;

    if (idx < HIST_LINEAR) {
        return idx;
    }
    e = (idx - HIST_LINEAR) / HIST_SUB + 6u;
    sub = (idx - HIST_LINEAR) % HIST_SUB;
    width = (uint64_t)1 << (e - HIST_SUB_BITS);
    lo = ((uint64_t)1 << e) + sub * width;
    return lo + width / 2u;
}

static void
hist_add(struct load_hist *h, uint64_t v)
{
    h->count[hist_index(v)]++;
    h->total++;
    if (v > h->max) {
        h->max = v;
    }
}

static uint64_t
hist_quantile(const struct load_hist *h, double q)
{
    uint64_t want, seen = 0;
    unsigned i;

    if (h->total == 0) {
        return 0;
    }
    want = (uint64_t)(q * (double)h->total + 0.999999);
    if (want == 0) {
        want = 1;
    }
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= want) {
            uint64_t v = hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

static void
load_format_key(const struct load *ld, uint64_t n, char *out)
{
    /* "k" then the number zero-padded to the key length. */
    snprintf(out, LOAD_MAX_LINE / 4, "k%0*" PRIu64, (int)ld->o.key_len - 1, n);
}

static void
load_finish(struct load *ld)
{
    if (ld->end_ns == 0) {
        ld->end_ns = load_now_ns();
    }
    event_base_loopbreak(ld->base);
}

static int
load_may_issue(const struct load *ld)
{
    if (ld->stopping) {
        return 0;
    }
    if (ld->phase_fill || ld->o.workload == LOAD_FILL) {
        return ld->next_fill < ld->o.keys;
    }
    return ld->issued < ld->o.max_requests;
}

/* Queue one request of the script on c, and remember when and what. */
static void
load_issue(struct load_conn *c)
{
    struct load *ld = c->ld;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char key[LOAD_MAX_LINE / 4];
    unsigned slot = (c->head + c->inflight) % ld->o.depth;
    unsigned kind;
    uint64_t r = load_rand(&c->rng);

    if (ld->phase_fill || ld->o.workload == LOAD_FILL) {
        load_format_key(ld, ld->next_fill++, key);
        kind = KIND_SET;
    } else if (ld->o.workload == LOAD_MGET || ld->o.workload == LOAD_HOLD) {
        kind = KIND_GET;
    } else {
        kind = (r % 100u) < ld->o.get_ratio ? KIND_GET : KIND_SET;
    }
    if (kind == KIND_SET) {
        if (!(ld->phase_fill || ld->o.workload == LOAD_FILL)) {
            load_format_key(ld, (r >> 8) % ld->o.keys, key);
        }
        evbuffer_add_printf(out, "set %s 0 0 %u\r\n", key, ld->o.value_size);
        evbuffer_add(out, ld->value, ld->o.value_size + 2u);
    } else if (ld->o.workload == LOAD_MGET) {
        unsigned i;

        evbuffer_add(out, "get", 3);
        for (i = 0; i < ld->o.mget; i++) {
            load_format_key(ld, load_rand(&c->rng) % ld->o.keys, key);
            evbuffer_add_printf(out, " %s", key);
        }
        evbuffer_add(out, "\r\n", 2);
        ld->gets_keys += ld->o.mget;
    } else {
        load_format_key(ld, (r >> 8) % ld->o.keys, key);
        evbuffer_add_printf(out, "get %s\r\n", key);
        ld->gets_keys++;
    }
    c->sent_ns[slot] = load_now_ns();
    c->inflight++;
    ld->issued++;
}

static void
load_refill(struct load_conn *c)
{
    while (c->alive && c->inflight < c->ld->o.depth && load_may_issue(c->ld)) {
        load_issue(c);
    }
}

static int
load_all_idle(const struct load *ld)
{
    unsigned i;

    for (i = 0; i < ld->o.conns; i++) {
        if (ld->conns[i].alive && ld->conns[i].inflight > 0) {
            return 0;
        }
    }
    return 1;
}

static void load_start_phase(struct load *ld);

/* One reply finished on c: record it and decide what comes next. */
static void
load_complete(struct load_conn *c, int is_error)
{
    struct load *ld = c->ld;
    uint64_t now = load_now_ns();

    if (!ld->phase_fill) {
        hist_add(&ld->hist, now - c->sent_ns[c->head]);
        ld->completed++;
        if (is_error) {
            ld->errors++;
        }
    }
    c->head = (c->head + 1u) % ld->o.depth;
    c->inflight--;
    load_refill(c);
    if (c->inflight == 0 && !load_may_issue(ld) && load_all_idle(ld)) {
        if (ld->phase_fill) {
            ld->phase_fill = 0;
            load_start_phase(ld);
        } else if (ld->o.workload == LOAD_HOLD) {
            printf("requested %" PRIu64 "\n", ld->completed);
            fflush(stdout);
            ld->hold_step = 3;
            evtimer_del(ld->timer);
            {
                struct timeval tv = {(time_t)ld->o.hold,
                                     (suseconds_t)((ld->o.hold - (time_t)ld->o.hold) * 1e6)};
                evtimer_add(ld->timer, &tv);
            }
        } else {
            load_finish(ld);
        }
    }
}

static void
load_conn_dead(struct load_conn *c)
{
    struct load *ld = c->ld;

    if (!c->alive) {
        return;
    }
    c->alive = 0;
    ld->alive--;
    if (!ld->phase_fill) {
        ld->errors += c->inflight;
    }
    c->inflight = 0;
    if (ld->alive == 0 || (ld->stopping && load_all_idle(ld))) {
        load_finish(ld);
    }
}

static void
load_read_cb(struct bufferevent *bev, void *arg)
{
    struct load_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char line[LOAD_MAX_LINE];

    while (c->alive && c->inflight > 0) {
        struct evbuffer_ptr eol;
        size_t eol_len = 0, n;

        if (c->want_data > 0) {
            size_t have = evbuffer_get_length(in);

            if (have < c->want_data) {
                break;
            }
            evbuffer_drain(in, c->want_data);
            c->want_data = 0;
            continue;
        }
        eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF_STRICT);
        if (eol.pos < 0) {
            if (evbuffer_get_length(in) > LOAD_MAX_LINE * 4) {
                fprintf(stderr, "mmem-load: reply line too long, closing\n");
                load_conn_dead(c);
            }
            break;
        }
        n = (size_t)eol.pos < sizeof(line) - 1 ? (size_t)eol.pos : sizeof(line) - 1;
        evbuffer_copyout(in, line, n);
        line[n] = '\0';
        evbuffer_drain(in, (size_t)eol.pos + eol_len);
        if (strncmp(line, "VALUE ", 6) == 0) {
            /* VALUE <key> <flags> <bytes> [<cas>]: the third field. */
            char *p = line + 6, *end;
            unsigned long bytes;

            p = strchr(p, ' ');
            p = p ? strchr(p + 1, ' ') : NULL;
            if (p == NULL) {
                load_conn_dead(c);
                break;
            }
            bytes = strtoul(p + 1, &end, 10);
            c->want_data = bytes + 2u;
            c->ld->hits++;
            continue;
        }
        load_complete(c, strstr(line, "ERROR") != NULL);
    }
}

static void
load_hold_requests(struct load *ld)
{
    unsigned i;

    ld->hold_step = 2;
    ld->o.max_requests = ld->connected;
    for (i = 0; i < ld->o.conns; i++) {
        if (ld->conns[i].alive) {
            load_issue(&ld->conns[i]);
        }
    }
    if (ld->issued == 0) {
        load_finish(ld);
    }
}

static void
load_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct load *ld = arg;

    (void)fd;
    (void)what;
    if (ld->o.workload == LOAD_HOLD) {
        if (ld->hold_step == 1) {
            load_hold_requests(ld);
            return;
        }
        load_finish(ld);
        return;
    }
    /* Time is up: stop issuing, let the replies in flight land. */
    ld->stopping = 1;
    if (load_all_idle(ld)) {
        load_finish(ld);
    }
}

static void
load_start_phase(struct load *ld)
{
    struct timeval tv;
    unsigned i;

    if (ld->connected == 0) {
        fprintf(stderr, "mmem-load: no connection to %s:%d\n", ld->o.host, ld->o.port);
        load_finish(ld);
        return;
    }
    if (ld->o.workload == LOAD_HOLD) {
        printf("connected %u failed %u\n", ld->connected, ld->failed);
        fflush(stdout);
        ld->hold_step = 1;
        tv.tv_sec = (time_t)ld->o.hold;
        tv.tv_usec = (suseconds_t)((ld->o.hold - (double)tv.tv_sec) * 1e6);
        evtimer_add(ld->timer, &tv);
        return;
    }
    if (ld->phase_fill) {
        for (i = 0; i < ld->o.conns; i++) {
            load_refill(&ld->conns[i]);
        }
        return;
    }
    ld->start_ns = load_now_ns();
    tv.tv_sec = (time_t)ld->o.seconds;
    tv.tv_usec = (suseconds_t)((ld->o.seconds - (double)tv.tv_sec) * 1e6);
    evtimer_add(ld->timer, &tv);
    for (i = 0; i < ld->o.conns; i++) {
        load_refill(&ld->conns[i]);
    }
}

static void
load_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct load_conn *c = arg;
    struct load *ld = c->ld;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;

        (void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ld->connected++;
        if (ld->connected + ld->failed == ld->o.conns) {
            load_start_phase(ld);
        }
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (ld->hold_step == 0 && ld->connected + ld->failed < ld->o.conns &&
            !(what & BEV_EVENT_EOF)) {
            ld->failed++;
            c->alive = 0;
            ld->alive--;
            if (ld->connected + ld->failed == ld->o.conns) {
                load_start_phase(ld);
            }
            return;
        }
        load_conn_dead(c);
    }
}

static int
load_open(struct load *ld, struct load_conn *c, const struct sockaddr_in *dst)
{
    evutil_socket_t fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "mmem-load: socket: %s\n", strerror(errno));
        return -1;
    }
    if (ld->o.sources > 1) {
        /* Spread connections over 127.0.0.1..N so no one source address
         * runs out of ephemeral ports. */
        struct sockaddr_in src;

        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u + c->id % ld->o.sources);
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            fprintf(stderr, "mmem-load: bind: %s\n", strerror(errno));
            close(fd);
            return -1;
        }
    }
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(ld->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        return -1;
    }
    bufferevent_setcb(c->bev, load_read_cb, NULL, load_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)dst, sizeof(*dst)) != 0) {
        return -1;
    }
    return 0;
}

static void
load_usage(FILE *f)
{
    fprintf(f, "usage: mmem-load [options]\n"
               "  -s, --server ADDR      IPv4 address (127.0.0.1)\n"
               "  -p, --port PORT        port (11211)\n"
               "  -c, --conns N          connections (1)\n"
               "  -d, --depth N          requests in flight per connection (1)\n"
               "  -t, --time SEC         stop after SEC seconds (10)\n"
               "  -n, --requests N       stop after N requests (10000000)\n"
               "  -w, --workload W       getset | mget | fill | hold (getset)\n"
               "  -r, --get-ratio PCT    getset: percent of gets (90)\n"
               "  -m, --mget N           mget: keys per get (10)\n"
               "  -v, --value-size B     value bytes for sets (32)\n"
               "  -k, --keys N           key space (10000)\n"
               "  -K, --key-len L        key length (14)\n"
               "  -S, --sources N        bind to 127.0.0.1..127.0.0.N (1)\n"
               "  -P, --prefill          set every key once before measuring\n"
               "  -H, --hold SEC         hold: idle time before and after the gets (3)\n"
               "  -e, --seed N           script seed (1)\n"
               "  -l, --label TEXT       label for the result line\n"
               "Prints one line: label=... requests=... rps=... p50_us=... p99_us=...\n");
}

static int
load_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
load_parse(int argc, char **argv, struct load_opts *o)
{
    static const struct option longopts[] = {{"server", required_argument, NULL, 's'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"conns", required_argument, NULL, 'c'},
                                             {"depth", required_argument, NULL, 'd'},
                                             {"time", required_argument, NULL, 't'},
                                             {"requests", required_argument, NULL, 'n'},
                                             {"workload", required_argument, NULL, 'w'},
                                             {"get-ratio", required_argument, NULL, 'r'},
                                             {"mget", required_argument, NULL, 'm'},
                                             {"value-size", required_argument, NULL, 'v'},
                                             {"keys", required_argument, NULL, 'k'},
                                             {"key-len", required_argument, NULL, 'K'},
                                             {"sources", required_argument, NULL, 'S'},
                                             {"prefill", no_argument, NULL, 'P'},
                                             {"hold", required_argument, NULL, 'H'},
                                             {"seed", required_argument, NULL, 'e'},
                                             {"label", required_argument, NULL, 'l'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    uint64_t v;
    int ch;

    o->host = "127.0.0.1";
    o->port = 11211;
    o->conns = 1;
    o->depth = 1;
    o->seconds = 10.0;
    o->max_requests = 10000000u;
    o->workload = LOAD_GETSET;
    o->get_ratio = 90;
    o->mget = 10;
    o->value_size = 32;
    o->keys = 10000;
    o->key_len = 14;
    o->sources = 1;
    o->hold = 3.0;
    o->seed = 1;
    o->label = "load";
    while ((ch = getopt_long(argc, argv, "s:p:c:d:t:n:w:r:m:v:k:K:S:PH:e:l:h", longopts, NULL)) !=
           -1) {
        switch (ch) {
        case 's':
            o->host = optarg;
            break;
        case 'p':
            if (load_parse_u64(optarg, 1, 65535, &v) != 0) {
                goto bad;
            }
            o->port = (int)v;
            break;
        case 'c':
            if (load_parse_u64(optarg, 1, LOAD_MAX_CONNS, &v) != 0) {
                goto bad;
            }
            o->conns = (unsigned)v;
            break;
        case 'd':
            if (load_parse_u64(optarg, 1, LOAD_MAX_DEPTH, &v) != 0) {
                goto bad;
            }
            o->depth = (unsigned)v;
            break;
        case 't':
        case 'H': {
            char *end;
            double d = strtod(optarg, &end);

            if (end == optarg || *end != '\0' || !(d > 0.0) || d > LOAD_MAX_SECONDS) {
                goto bad;
            }
            if (ch == 't') {
                o->seconds = d;
            } else {
                o->hold = d;
            }
            break;
        }
        case 'n':
            if (load_parse_u64(optarg, 1, UINT64_C(1) << 40, &o->max_requests) != 0) {
                goto bad;
            }
            break;
        case 'w':
            if (strcmp(optarg, "getset") == 0) {
                o->workload = LOAD_GETSET;
            } else if (strcmp(optarg, "mget") == 0) {
                o->workload = LOAD_MGET;
            } else if (strcmp(optarg, "fill") == 0) {
                o->workload = LOAD_FILL;
            } else if (strcmp(optarg, "hold") == 0) {
                o->workload = LOAD_HOLD;
            } else {
                goto bad;
            }
            break;
        case 'r':
            if (load_parse_u64(optarg, 0, 100, &v) != 0) {
                goto bad;
            }
            o->get_ratio = (unsigned)v;
            break;
        case 'm':
            if (load_parse_u64(optarg, 1, LOAD_MAX_MGET, &v) != 0) {
                goto bad;
            }
            o->mget = (unsigned)v;
            break;
        case 'v':
            if (load_parse_u64(optarg, 0, LOAD_MAX_VALUE, &v) != 0) {
                goto bad;
            }
            o->value_size = (unsigned)v;
            break;
        case 'k':
            if (load_parse_u64(optarg, 1, UINT64_C(1) << 40, &o->keys) != 0) {
                goto bad;
            }
            break;
        case 'K':
            if (load_parse_u64(optarg, 4, 64, &v) != 0) {
                goto bad;
            }
            o->key_len = (unsigned)v;
            break;
        case 'S':
            if (load_parse_u64(optarg, 1, 254, &v) != 0) {
                goto bad;
            }
            o->sources = (unsigned)v;
            break;
        case 'P':
            o->prefill = 1;
            break;
        case 'e':
            if (load_parse_u64(optarg, 0, UINT64_MAX, &o->seed) != 0) {
                goto bad;
            }
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'h':
            load_usage(stdout);
            exit(0);
        default:
            load_usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        load_usage(stderr);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "mmem-load: bad value for -%c: %s\n", ch, optarg);
    return -1;
}

int
main(int argc, char **argv)
{
    static struct load ld; /* the histogram is large; keep it off the stack */
    struct sockaddr_in dst;
    unsigned i;
    double secs;

    if (load_parse(argc, argv, &ld.o) != 0) {
        return 2;
    }
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)ld.o.port);
    if (inet_pton(AF_INET, ld.o.host, &dst.sin_addr) != 1) {
        fprintf(stderr, "mmem-load: bad address %s\n", ld.o.host);
        return 2;
    }
    ld.base = event_base_new();
    ld.timer = evtimer_new(ld.base, load_timer_cb, &ld);
    ld.conns = calloc(ld.o.conns, sizeof(*ld.conns));
    ld.value = malloc(ld.o.value_size + 2u);
    if (ld.base == NULL || ld.timer == NULL || ld.conns == NULL || ld.value == NULL) {
        fprintf(stderr, "mmem-load: out of memory\n");
        return 1;
    }
    memset(ld.value, 'v', ld.o.value_size);
    memcpy(ld.value + ld.o.value_size, "\r\n", 2);
    ld.phase_fill = ld.o.prefill && ld.o.workload != LOAD_HOLD && ld.o.workload != LOAD_FILL;
    for (i = 0; i < ld.o.conns; i++) {
        struct load_conn *c = &ld.conns[i];

        c->ld = &ld;
        c->id = i;
        c->rng = (ld.o.seed + 1u) * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull + 1u;
        c->sent_ns = calloc(ld.o.depth, sizeof(*c->sent_ns));
        if (c->sent_ns == NULL) {
            fprintf(stderr, "mmem-load: out of memory\n");
            return 1;
        }
        c->alive = 1;
        ld.alive++;
        if (load_open(&ld, c, &dst) != 0) {
            fprintf(stderr, "mmem-load: connection %u failed\n", i);
            ld.failed++;
            c->alive = 0;
            ld.alive--;
        }
    }
    if (ld.failed == ld.o.conns) {
        fprintf(stderr, "mmem-load: no connection to %s:%d\n", ld.o.host, ld.o.port);
        return 1;
    }
    {
        /* A last-resort bound on the whole run (connecting, prefill, the
         * measured phase, draining), whatever the server does. */
        struct timeval tv = {(time_t)(ld.o.seconds * 3.0 + ld.o.hold * 3.0 + 60.0), 0};

        event_base_loopexit(ld.base, &tv);
    }
    event_base_dispatch(ld.base);
    if (ld.end_ns == 0) {
        ld.end_ns = load_now_ns();
    }
    if (ld.start_ns == 0) {
        ld.start_ns = ld.end_ns;
    }
    secs = (double)(ld.end_ns - ld.start_ns) / 1e9;
    printf("label=%s requests=%" PRIu64 " errors=%" PRIu64 " conns=%u failed=%u seconds=%.3f "
           "rps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f get_keys=%" PRIu64
           " hits=%" PRIu64 "\n",
           ld.o.label, ld.completed, ld.errors, ld.connected, ld.failed, secs,
           secs > 0 ? (double)ld.completed / secs : 0.0,
           (double)hist_quantile(&ld.hist, 0.50) / 1e3, (double)hist_quantile(&ld.hist, 0.99) / 1e3,
           (double)hist_quantile(&ld.hist, 0.999) / 1e3, (double)ld.hist.max / 1e3, ld.gets_keys,
           ld.hits);
    for (i = 0; i < ld.o.conns; i++) {
        if (ld.conns[i].bev != NULL) {
            bufferevent_free(ld.conns[i].bev);
        }
        free(ld.conns[i].sent_ns);
    }
    free(ld.conns);
    free(ld.value);
    event_free(ld.timer);
    event_base_free(ld.base);
    return ld.connected == 0 ? 1 : 0;
}
