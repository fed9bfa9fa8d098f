/* check_settings: memcached 1.6.18's command line as mmem parses it:
 * defaults, every flag in short and long form, -l lists, -I suffixes, the
 * -o options (applied, noted, refused), memcached's messages and exit
 * statuses for bad values, -h/-V/-i output, and "stats settings" names and
 * order compared with a capture from memcached 1.6.18. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmem/hash.h"
#include "mmem/settings.h"

#define MAXARGS 80

/* One parse (and check, unless parsing stopped) with captured output. */
struct run {
    char argbuf[4096]; /* argv strings live here: settings may point into them */
    char *argv[MAXARGS];
    struct mm_settings s;
    enum mm_settings_rc rc;
    char *out;
    char *err;
};

static struct run R;

static void
run_argv(bool check, const char *first, va_list ap)
{
    char **argv = R.argv;
    size_t used = 0;
    int argc = 0;
    const char *a;
    size_t olen, elen;
    FILE *out, *err;

    memset(R.argbuf, 0, sizeof(R.argbuf));
    for (a = "mmem"; a != NULL && argc < MAXARGS - 1;
         a = argc == 1 ? first : va_arg(ap, const char *)) {
        size_t n = strlen(a) + 1;

        ck_assert_uint_le(used + n, sizeof(R.argbuf));
        argv[argc++] = memcpy(R.argbuf + used, a, n);
        used += n;
    }
    argv[argc] = NULL;
    free(R.out);
    free(R.err);
    out = open_memstream(&R.out, &olen);
    err = open_memstream(&R.err, &elen);
    mm_settings_init(&R.s);
    R.rc = mm_settings_parse(&R.s, argc, argv, out, err);
    if (check && R.rc == MM_SETTINGS_OK) {
        R.rc = mm_settings_check(&R.s, err);
    }
    fclose(out);
    fclose(err);
}

/* parse + check; arguments end with NULL. */
static enum mm_settings_rc
run(const char *first, ...)
{
    va_list ap;

    va_start(ap, first);
    run_argv(true, first, ap);
    va_end(ap);
    return R.rc;
}

/* parse only. */
static enum mm_settings_rc
parse(const char *first, ...)
{
    va_list ap;

    va_start(ap, first);
    run_argv(false, first, ap);
    va_end(ap);
    return R.rc;
}

static void
expect_ok(void)
{
    ck_assert_msg(R.rc == MM_SETTINGS_OK, "refused (rc %d, exit %d): %s", R.rc, R.s.exit_code,
                  R.err);
}

/* A refusal with exactly this error text and exit status. */
static void
expect_fail(const char *msg, int code)
{
    ck_assert_msg(R.rc == MM_SETTINGS_ERROR, "accepted; wanted \"%s\"", msg);
    ck_assert_msg(strcmp(R.err, msg) == 0, "message \"%s\", wanted \"%s\"", R.err, msg);
    ck_assert_int_eq(R.s.exit_code, code);
}

/* ---- defaults and flags ---------------------------------------------- */

START_TEST(test_defaults)
{
    run(NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, 11211);
    ck_assert_int_eq(R.s.udp_port, 0);
    ck_assert_ptr_null(R.s.socketpath);
    ck_assert_int_eq(R.s.access, 0700);
    ck_assert_int_eq(R.s.nlisten, 0);
    ck_assert_ptr_null(R.s.inter);
    ck_assert_int_eq(R.s.backlog, 1024);
    ck_assert_int_eq(R.s.ready_fd, -1);
    ck_assert(!R.s.daemonize);
    ck_assert_ptr_null(R.s.username);
    ck_assert_ptr_null(R.s.pid_file);
    ck_assert(!R.s.lock_memory);
    ck_assert(!R.s.maxcore);
    ck_assert_int_eq(R.s.verbose, 0);
    ck_assert(!R.s.shutdown_command);
    ck_assert_uint_eq(R.s.maxbytes, 64u << 20);
    ck_assert(R.s.evict_to_free);
    ck_assert_uint_eq(R.s.item_size_max, 1u << 20);
    ck_assert(R.s.factor == 1.25);
    ck_assert_int_eq(R.s.chunk_size, 48);
    ck_assert(!R.s.prealloc);
    ck_assert(R.s.use_cas);
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 512u << 10);
    ck_assert_uint_eq(R.s.slab_page_size, 1u << 20);
    ck_assert_int_eq(R.s.hashpower_init, 0);
    ck_assert(R.s.hash_expand);
    ck_assert_int_eq(R.s.maxconns, 1024);
    ck_assert(R.s.maxconns_fast);
    ck_assert_int_eq(R.s.num_threads, 4);
    ck_assert_int_eq(R.s.reqs_per_event, 20);
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_AUTO);
    ck_assert_uint_eq(R.s.idle_timeout, 0);
    ck_assert_uint_eq(R.s.read_buf_mem_limit, 0);
    ck_assert_ptr_null(R.s.ev_backend);
    ck_assert_uint_eq(R.s.shard_bits, 0);
    ck_assert(R.s.flush_enabled);
    ck_assert(R.s.dump_enabled);
    ck_assert(R.s.watch_enabled);
    ck_assert_int_eq(R.s.prefix_delimiter, ':');
    ck_assert(!R.s.detail_enabled);
    ck_assert_ptr_null(mm_settings_noted(&R.s, 0));
    ck_assert_str_eq(R.err, "");
    ck_assert_str_eq(R.out, "");
}
END_TEST

/* Every flag, short form then long form, lands in the same field. */
static void
check_all_flags(void)
{
    expect_ok();
    ck_assert_int_eq(R.s.port, 12345);
    ck_assert_int_eq(R.s.udp_port, 12346);
    ck_assert_str_eq(R.s.socketpath, "/tmp/mmem.sock");
    ck_assert_int_eq(R.s.access, 0755);
    ck_assert(R.s.shutdown_command);
    ck_assert_int_eq(R.s.nlisten, 1);
    ck_assert_str_eq(R.s.listen[0], "127.0.0.1");
    ck_assert(R.s.daemonize);
    ck_assert(R.s.maxcore);
    ck_assert_str_eq(R.s.username, "nobody");
    ck_assert_uint_eq(R.s.maxbytes, 128u << 20);
    ck_assert(!R.s.evict_to_free);
    ck_assert_int_eq(R.s.maxconns, 99);
    ck_assert(R.s.lock_memory);
    ck_assert_int_eq(R.s.verbose, 2);
    ck_assert_str_eq(R.s.pid_file, "/tmp/mmem.pid");
    ck_assert(R.s.factor == 1.5);
    ck_assert_int_eq(R.s.chunk_size, 64);
    ck_assert_int_eq(R.s.num_threads, 2);
    ck_assert(R.s.prealloc);
    ck_assert_int_eq(R.s.reqs_per_event, 7);
    ck_assert(!R.s.use_cas);
    ck_assert_int_eq(R.s.backlog, 77);
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_ASCII);
    ck_assert_uint_eq(R.s.item_size_max, 2u << 20);
    ck_assert(!R.s.flush_enabled);
    ck_assert(!R.s.dump_enabled);
    ck_assert(!R.s.watch_enabled);
    ck_assert_uint_eq(R.s.idle_timeout, 5);
    ck_assert_int_eq(R.s.compat.num_napi_ids, 1);
    ck_assert_int_eq(R.s.ready_fd, 9);
}

START_TEST(test_short_flags)
{
    run("-p", "12345", "-U", "12346", "-s", "/tmp/mmem.sock", "-a", "755", "-A", "-l", "127.0.0.1",
        "-d", "-r", "-u", "nobody", "-m", "128", "-M", "-c", "99", "-k", "-v", "-v", "-P",
        "/tmp/mmem.pid", "-f", "1.5", "-n", "64", "-t", "2", "-L", "-R", "7", "-C", "-b", "77",
        "-B", "ascii", "-I", "2m", "-F", "-X", "-W", "-o", "idle_timeout=5", "-N", "1",
        "--ready-fd=9", NULL);
    check_all_flags();
}
END_TEST

START_TEST(test_long_flags)
{
    run("--port=12345", "--udp-port=12346", "--unix-socket=/tmp/mmem.sock", "--unix-mask=755",
        "--enable-shutdown", "--listen=127.0.0.1", "--daemon", "--enable-coredumps", "--user",
        "nobody", "--memory-limit=128", "--disable-evictions", "--conn-limit=99", "--lock-memory",
        "--verbose", "--verbose", "--pidfile=/tmp/mmem.pid", "--slab-growth-factor=1.5",
        "--slab-min-size=64", "--threads=2", "--enable-largepages", "--max-reqs-per-event=7",
        "--disable-cas", "--listen-backlog=77", "--protocol=ascii", "--max-item-size=2m",
        "--disable-flush-all", "--disable-dumping", "--disable-watch", "--extended=idle_timeout=5",
        "--napi-ids=1", "--ready-fd", "9", NULL);
    check_all_flags();
}
END_TEST

START_TEST(test_verbose_levels)
{
    run("-vvv", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.verbose, 3);
    run("-v", "-vv", NULL);
    ck_assert_int_eq(R.s.verbose, 3);
    /* --verbose takes an optional argument and, like memcached, ignores it. */
    run("--verbose=5", NULL);
    ck_assert_int_eq(R.s.verbose, 1);
}
END_TEST

START_TEST(test_protocols_and_delimiter)
{
    run("-B", "binary", NULL);
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_BINARY);
    run("-B", "auto", NULL);
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_AUTO);
    run("-D", "#x", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.prefix_delimiter, '#');
    ck_assert(R.s.detail_enabled);
}
END_TEST

START_TEST(test_numbers_like_atoi)
{
    /* memcached reads these with atoi(): trailing junk is ignored. */
    run("-m", "10k", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.maxbytes, 10u << 20);
    run("-m", "2048", NULL);
    ck_assert_uint_eq(R.s.maxbytes, (size_t)2048 << 20);
    run("-c", "5x", "-t", "3junk", "-p", "abc", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.maxconns, 5);
    ck_assert_int_eq(R.s.num_threads, 3);
    ck_assert_int_eq(R.s.port, 0);
    /* -a is octal through strtol. */
    run("-a", "0644", NULL);
    ck_assert_int_eq(R.s.access, 0644);
}
END_TEST

START_TEST(test_item_size_suffixes)
{
    static const struct {
        const char *arg;
        size_t want;
    } cases[] = {
        {"1024", 1024},   {"1k", 1024},           {"512K", 512 * 1024}, {"2m", 2u << 20},
        {"3M", 3u << 20}, {"1536k", 1536 * 1024}, {"3000000", 3000000},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse("-I", cases[i].arg, NULL);
        ck_assert_uint_eq(R.s.item_size_max, cases[i].want);
    }
}
END_TEST

START_TEST(test_listen_lists)
{
    run("-l", "127.0.0.1", "-l", "127.0.0.2:11212,[::1]:11213;::1", "-l", "127.0.0.1", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.nlisten, 4);
    ck_assert_str_eq(R.s.listen[0], "127.0.0.1");
    ck_assert_str_eq(R.s.listen[1], "127.0.0.2:11212");
    ck_assert_str_eq(R.s.listen[2], "[::1]:11213");
    ck_assert_str_eq(R.s.listen[3], "::1");
    ck_assert_str_eq(R.s.inter, "127.0.0.1,127.0.0.2:11212,[::1]:11213,::1");
}
END_TEST

START_TEST(test_listen_too_many)
{
    char arg[MM_SETTINGS_MAX_LISTEN * 16];
    size_t n = 0;
    int i;

    for (i = 0; i <= MM_SETTINGS_MAX_LISTEN; i++) {
        n += (size_t)snprintf(arg + n, sizeof(arg) - n, "%s127.0.0.%d", i ? "," : "", i + 1);
    }
    parse("-l", arg, NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert(strstr(R.err, "-l") != NULL);
}
END_TEST

START_TEST(test_split_listen)
{
    char host[64];
    int port;

    port = 1;
    ck_assert_int_eq(mm_settings_split_listen("127.0.0.1", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 1);
    ck_assert_int_eq(mm_settings_split_listen("127.0.0.1:11300", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 11300);
    port = 1;
    ck_assert_int_eq(mm_settings_split_listen("::1", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 1);
    ck_assert_int_eq(mm_settings_split_listen("[::1]", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 1);
    ck_assert_int_eq(mm_settings_split_listen("[fe80::1]:0", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "fe80::1");
    ck_assert_int_eq(port, 0);
    ck_assert_int_eq(mm_settings_split_listen("*:11400", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(port, 11400);
    ck_assert_int_eq(mm_settings_split_listen("[::1", host, sizeof(host), &port), -1);
    ck_assert_int_eq(mm_settings_split_listen("[::1]x", host, sizeof(host), &port), -1);
    ck_assert_int_eq(mm_settings_split_listen("host:99999", host, sizeof(host), &port), -1);
    ck_assert_int_eq(mm_settings_split_listen("host:abc", host, sizeof(host), &port), -1);
    ck_assert_int_eq(mm_settings_split_listen("averyveryverylonghostname", host, 8, &port), -1);
}
END_TEST

START_TEST(test_ready_fd)
{
    parse("--ready-fd=3", NULL);
    ck_assert_int_eq(R.s.ready_fd, 3);
    parse("--ready-fd=x", NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert(strstr(R.err, "--ready-fd") != NULL);
    parse("--ready-fd=-1", NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
}
END_TEST

/* ---- bad values: memcached's messages and exit statuses ---------------- */

static const struct {
    const char *a[5];
    const char *msg;
    int code;
} bad[] = {
    {{"-t", "0"}, "Number of threads must be greater than 0\n", 1},
    {{"-t", "-1"}, "Number of threads must be greater than 0\n", 1},
    {{"-t", "abc"}, "Number of threads must be greater than 0\n", 1},
    {{"-m", "abc"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64},
    {{"-m", "0"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64},
    {{"-m", "1g"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64},
    {{"-c", "0"}, "Maximum connections must be greater than 0\n", 1},
    {{"-c", "-5"}, "Maximum connections must be greater than 0\n", 1},
    {{"-c", "abc"}, "Maximum connections must be greater than 0\n", 1},
    {{"-f", "0.5"}, "Factor must be greater than 1\n", 1},
    {{"-f", "1"}, "Factor must be greater than 1\n", 1},
    {{"-f", "abc"}, "Factor must be greater than 1\n", 1},
    {{"-f", "nan"}, "Factor must be greater than 1\n", 1},
    {{"-n", "0"}, "Chunk size must be greater than 0\n", 1},
    {{"-n", "abc"}, "Chunk size must be greater than 0\n", 1},
    {{"-R", "0"}, "Number of requests per event must be greater than 0\n", 1},
    {{"-R", "abc"}, "Number of requests per event must be greater than 0\n", 1},
    {{"-B", "foo"},
     "Invalid value for binding protocol: foo\n -- should be one of auto, binary, or ascii\n",
     64},
    {{"-D", ""}, "No delimiter specified\n", 1},
    {{"-I", "512"}, "Item max size cannot be less than 1024 bytes.\n", 64},
    {{"-I", "1023"}, "Item max size cannot be less than 1024 bytes.\n", 64},
    {{"-I", "abc"}, "Item max size cannot be less than 1024 bytes.\n", 64},
    {{"-I", "1g"}, "Item max size cannot be less than 1024 bytes.\n", 64},
    {{"-I", "1024m"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64},
    {{"-m", "4096", "-I", "1025m"}, "Cannot set item size limit higher than a gigabyte.\n", 64},
    {{"-I", "2k"},
     "slab_chunk_max (bytes: 524288) cannot be larger than -I (item_size_max 2048)\n",
     64},
    {{"-I", "1k"},
     "slab_chunk_max (bytes: 524288) cannot be larger than -I (item_size_max 1024)\n",
     64},
    {{"-I", "2k", "-n", "3000"},
     "slab_chunk_max (bytes: 524288) cannot be larger than -I (item_size_max 2048)\n",
     64},
    {{"-I", "3000000"},
     "-I (item_size_max: 3000000) must be evenly divisible by slab_chunk_max (bytes: 524288)\n",
     64},
    {{"-o", "slab_chunk_max=1000"},
     "-I (item_size_max: 1048576) must be evenly divisible by slab_chunk_max (bytes: 1000)\n",
     64},
    {{"-I", "3m", "-o", "slab_chunk_max=3145728"},
     "slab_chunk_max (bytes: 3145728) must divide evenly into 1048576 (slab_page_size)\n",
     64},
    {{"-o", "no_chunked_items", "-I", "512k"},
     "slab_chunk_max (bytes: 1048576) cannot be larger than -I (item_size_max 524288)\n",
     64},
    {{"-p", "70000"}, "ERROR: Invalid port number 70000.\n", 64},
    {{"-p", "65536"}, "ERROR: Invalid port number 65536.\n", 64},
    {{"-U", "65536"}, "ERROR: Invalid port number 65536.\n", 64}, /* -U alone: TCP too */
    {{"-o", "slab_sizes=100-50"},
     "slab size 50 cannot be lower than or equal to a previous class size\n",
     64},
    {{"-o", "slab_sizes=100-104"},
     "slab size 104 must be at least 8 bytes larger than previous class\n",
     64},
    {{"-o", "slab_sizes=47-200"}, "slab size 47 is out of valid range\n", 64},
    {{"-o", "slab_sizes=100-524289"}, "slab size 524289 is out of valid range\n", 64},
    {{"-o", "slab_sizes=100x-200"}, "slab size 0 is out of valid range\n", 64},
    {{"-o", "slab_sizes=-5-200"}, "slab size 5 is out of valid range\n", 64},
    {{"-o", "slab_sizes="}, "", 64},
    {{"-N", "0"}, "Maximum number of NAPI IDs must be greater than 0\n", 1},
    {{"-N", "5"}, "Number of napi_ids(5) cannot be greater than number of threads(4)\n", 64},
    {{"-Q"}, "mmem: invalid option -- 'Q'\nIllegal argument \"?\"\n", 1},
    {{"-x"}, "mmem: invalid option -- 'x'\nIllegal argument \"?\"\n", 1},
    {{"--foo"}, "mmem: unrecognized option '--foo'\nIllegal argument \"?\"\n", 1},
    {{"-p"}, "mmem: option requires an argument -- 'p'\nIllegal argument \"?\"\n", 1},
    {{"-e"}, "mmem: option requires an argument -- 'e'\nIllegal argument \"?\"\n", 1},
    {{"--port"}, "mmem: option '--port' requires an argument\nIllegal argument \"?\"\n", 1},
    {{"--daemon=1"},
     "mmem: option '--daemon' doesn't allow an argument\nIllegal argument \"?\"\n",
     1},
    /* -o */
    {{"-o", "foo"}, "Illegal suboption \"foo\"\n", 1},
    {{"-o", ","}, "Illegal suboption \"\"\n", 1},
    {{"-o", "proxy_config=x"}, "Illegal suboption \"proxy_config=x\"\n", 1},
    {{"-o", "idle_timeout=3,bogus"}, "Illegal suboption \"bogus\"\n", 1},
    {{"-o", "hashpower"}, "Missing numeric argument for hashpower\n", 1},
    {{"-o", "hashpower=abc"}, "Initial hashtable multiplier of 0 is too low\n", 1},
    {{"-o", "hashpower=11"}, "Initial hashtable multiplier of 11 is too low\n", 1},
    {{"-o", "hashpower=33"},
     "Initial hashtable multiplier of 33 is too high\n"
     "Choose a value based on \"STAT hash_power_level\" from a running instance\n",
     1},
    {{"-o", "hashpower=20,hashpower"}, "Missing numeric argument for hashpower\n", 1},
    {{"-o", "idle_timeout"}, "Missing numeric argument for idle_timeout\n", 1},
    {{"-o", "slab_chunk_max"}, "Missing slab_chunk_max argument\n", 1},
    {{"-o", "slab_chunk_max=abc"}, "could not parse argument to slab_chunk_max\n", 1},
    {{"-o", "slab_chunk_max=0"}, "could not parse argument to slab_chunk_max\n", 1},
    {{"-o", "read_buf_mem_limit"}, "Missing read_buf_mem_limit argument\n", 1},
    {{"-o", "read_buf_mem_limit=-1"}, "could not parse argument to read_buf_mem_limit\n", 1},
    {{"-o", "read_buf_mem_limit=abc"}, "could not parse argument to read_buf_mem_limit\n", 1},
    {{"-o", "slab_automove=3"}, "slab_automove must be between 0 and 2\n", 1},
    {{"-o", "slab_automove=-1"}, "slab_automove must be between 0 and 2\n", 1},
    {{"-o", "slab_automove_ratio=0"}, "slab_automove_ratio must be > 0 and < 1\n", 1},
    {{"-o", "slab_automove_ratio=abc"}, "slab_automove_ratio must be > 0 and < 1\n", 1},
    {{"-o", "slab_automove_window=2"}, "slab_automove_window must be > 2\n", 1},
    /* Refused as a memcached without the feature knows no such name. */
    {{"-o", "tail_repair_time=5"}, "Illegal suboption \"tail_repair_time=5\"\n", 1},
    {{"-o", "tail_repair_time=60"}, "Illegal suboption \"tail_repair_time=60\"\n", 1},
    {{"-o", "drop_privileges"}, "Illegal suboption \"drop_privileges\"\n", 1},
    {{"-o", "ext_path=/tmp/x:64m"}, "Illegal suboption \"ext_path=/tmp/x:64m\"\n", 1},
    {{"-o", "modern,ext_page_size=8"}, "Illegal suboption \"ext_page_size=8\"\n", 1},
    {{"-o", "slab_automove_freeratio=0.1"},
     "Illegal suboption \"slab_automove_freeratio=0.1\"\n",
     1},
    {{"-o", "ext_drop_unread"}, "Illegal suboption \"ext_drop_unread\"\n", 1},
    {{"-o", "sock_cookie_id"}, "Missing sock_cookie_id argument\n", 1},
    {{"-o", "hash_algorithm=foo"}, "Unknown hash_algorithm option (jenkins, murmur3, xxh3)\n", 1},
    {{"-o", "hash_algorithm"}, "Missing hash_algorithm argument\n", 1},
    {{"-o", "lru_crawler_sleep=-1"}, "LRU crawler sleep must be between 0 and 1 second\n", 1},
    {{"-o", "lru_crawler_sleep=1000001"}, "LRU crawler sleep must be between 0 and 1 second\n", 1},
    {{"-o", "lru_crawler_tocrawl=x"}, "lru_crawler_tocrawl takes a numeric 32bit value\n", 1},
    {{"-o", "lru_crawler_tocrawl=-1"}, "lru_crawler_tocrawl takes a numeric 32bit value\n", 1},
    {{"-o", "hot_lru_pct=80"}, "hot_lru_pct must be > 1 and < 80\n", 1},
    {{"-o", "hot_lru_pct=abc"}, "hot_lru_pct must be > 1 and < 80\n", 1},
    {{"-o", "warm_lru_pct=0"}, "warm_lru_pct must be > 1 and < 80\n", 1},
    {{"-o", "hot_lru_pct=50,warm_lru_pct=40"},
     "hot_lru_pct + warm_lru_pct cannot be more than 80% combined\n",
     64},
    {{"-o", "hot_max_factor=0"}, "hot_max_factor must be > 0\n", 1},
    {{"-o", "hot_max_factor=abc"}, "hot_max_factor must be > 0\n", 1},
    {{"-o", "warm_max_factor"}, "Missing warm_max_factor argument\n", 1},
    {{"-o", "temporary_ttl"}, "Missing temporary_ttl argument\n", 1},
    {{"-o", "temporary_ttl=5,no_lru_maintainer"},
     "temporary_ttl requires lru_maintainer to be enabled\n",
     64},
    {{"-o", "watcher_logbuf_size=x"}, "could not parse argument to watcher_logbuf_size\n", 1},
    {{"-o", "watcher_logbuf_size=-1"}, "could not parse argument to watcher_logbuf_size\n", 1},
    {{"-o", "worker_logbuf_size"}, "Missing worker_logbuf_size argument\n", 1},
#ifdef MMEM_WITH_TLS
    {{"-o", "ssl_chain_cert"}, "Missing ssl_chain_cert argument\n", 1},
    {{"-o", "ssl_key"}, "Missing ssl_key argument\n", 1},
    {{"-o", "ssl_ciphers"}, "Missing ssl_ciphers argument\n", 1},
    {{"-o", "ssl_ca_cert"}, "Missing ssl_ca_cert argument\n", 1},
    {{"-o", "ssl_verify_mode=x"}, "could not parse argument to ssl_verify_mode\n", 1},
    {{"-o", "ssl_verify_mode=5"}, "Invalid ssl_verify_mode. Use help to see valid options.\n", 1},
    {{"-o", "ssl_keyformat=x"}, "could not parse argument to ssl_keyformat\n", 1},
    {{"-o", "ssl_wbuf_size=x"}, "could not parse argument to ssl_wbuf_size\n", 1},
    {{"-o", "ssl_min_version=x"}, "could not parse argument to ssl_min_version\n", 1},
    {{"-o", "ssl_min_version=9"}, "Invalid ssl_min_version. Use help to see valid options.\n", 1},
    {{"-o", "ssl_min_version"}, "Missing ssl_min_version argument\n", 1},
#else
    /* A memcached built without TLS knows no ssl_* option, nor -Z. */
    {{"-o", "ssl_chain_cert=/c"}, "Illegal suboption \"ssl_chain_cert=/c\"\n", 1},
    {{"-o", "ssl_session_cache"}, "Illegal suboption \"ssl_session_cache\"\n", 1},
    {{"-Z"}, "mmem: invalid option -- 'Z'\nIllegal argument \"?\"\n", 1},
    {{"--enable-ssl"}, "mmem: unrecognized option '--enable-ssl'\nIllegal argument \"?\"\n", 1},
#endif
};

START_TEST(test_bad_values)
{
    const char *const *a = bad[_i].a;

    run(a[0], a[1], a[2], a[3], a[4]);
    expect_fail(bad[_i].msg, bad[_i].code);
}
END_TEST

static const char *const unsupported_flags[][3] = {
    {"-e", "/tmp/memfile", "-e"},
};

START_TEST(test_unsupported_flags)
{
    parse(unsupported_flags[_i][0], unsupported_flags[_i][1], NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert_int_eq(R.s.exit_code, MM_SETTINGS_EX_USAGE);
    ck_assert_msg(strstr(R.err, "not supported yet") != NULL, "%s: %s", unsupported_flags[_i][0],
                  R.err);
    /* The message names the short flag, also when the long form was used. */
    ck_assert_msg(strstr(R.err, unsupported_flags[_i][2]) != NULL, "%s: %s",
                  unsupported_flags[_i][0], R.err);
}
END_TEST

/* -Y and -S pin the protocol to the one that can authenticate. */
START_TEST(test_auth_flags)
{
    run("-Y", "/tmp/auth", NULL);
    expect_ok();
    ck_assert_str_eq(R.s.auth_file, "/tmp/auth");
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_ASCII);
    run("-Y", "/tmp/auth", "-B", "binary", NULL);
    expect_fail("ERROR: You cannot allow the BINARY protocol while using ascii authentication "
                "tokens.\n",
                MM_SETTINGS_EX_USAGE);
#ifdef MMEM_WITH_SASL
    run("--enable-sasl", NULL);
    expect_ok();
    ck_assert(R.s.sasl);
    ck_assert_int_eq(R.s.binding_protocol, MM_SETTINGS_PROTO_BINARY);
    run("-S", "-B", "ascii", NULL);
    expect_fail("ERROR: You cannot allow the ASCII protocol while using SASL.\n",
                MM_SETTINGS_EX_USAGE);
#else
    run("-S", NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert_int_eq(R.s.exit_code, MM_SETTINGS_EX_USAGE);
    ck_assert_ptr_nonnull(strstr(R.err, "-S"));
#endif
}
END_TEST

START_TEST(test_thread_warning)
{
    run("-t", "65", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.num_threads, 65);
    ck_assert_str_eq(R.err, "WARNING: Setting a high number of workerthreads is not recommended.\n"
                            " Set this value to the number of cores in your machine or less.\n");
    run("-t", "64", NULL);
    ck_assert_str_eq(R.err, "");
}
END_TEST

START_TEST(test_accepted_like_memcached)
{
    /* Values memcached starts with, odd as some are. */
    run("-R", "-1", "-b", "abc", "-p", "-1", "-U", "70000", NULL);
    expect_ok(); /* bound modulo 65536, as getaddrinfo reads it */
    ck_assert_int_eq(R.s.port, -1);
    /* -U alone moves TCP to the UDP port; with -p, or -U 0, it does not. */
    run("-U", "41161", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, 41161);
    ck_assert_int_eq(R.s.udp_port, 41161);
    run("-U", "-1", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, -1);
    run("-p", "11300", "-U", "41161", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, 11300);
    run("-U", "0", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, 11211);
    /* 0 turns TCP off and negative ports fail only when bound. */
    run("-p", "0", "-U", "-5", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.port, 0);
    ck_assert_int_eq(R.s.udp_port, -5);
    run("-R", "-1", "-b", "abc", "-f", "1.01", "-I", "1536k", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.reqs_per_event, -1);
    ck_assert_int_eq(R.s.backlog, 0);
    run("-I", "2k", "-o", "slab_chunk_max=2048", "-n", "3000", NULL);
    expect_ok();
    run("-o", "", NULL);
    expect_ok();
    run("-m", "-1", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.maxbytes, (size_t)0 - (1u << 20));
}
END_TEST

/* ---- -h, -V, -i ---------------------------------------------------------- */

START_TEST(test_version)
{
    ck_assert_int_eq(parse("-V", NULL), MM_SETTINGS_EXIT_OK);
    ck_assert_str_eq(R.out, "mmem " PACKAGE_VERSION "\n");
    ck_assert_str_eq(R.err, "");
    ck_assert_int_eq(parse("--version", NULL), MM_SETTINGS_EXIT_OK);
    ck_assert_str_eq(R.out, "mmem " PACKAGE_VERSION "\n");
}
END_TEST

START_TEST(test_license)
{
    ck_assert_int_eq(parse("-i", NULL), MM_SETTINGS_EXIT_OK);
    ck_assert(strncmp(R.out, "mmem " PACKAGE_VERSION "\n", strlen("mmem " PACKAGE_VERSION)) == 0);
    ck_assert(strstr(R.out, "MIT License") != NULL);
    ck_assert(strstr(R.out, "libevent") != NULL);
    ck_assert_int_eq(parse("--license", NULL), MM_SETTINGS_EXIT_OK);
}
END_TEST

/* What -h says about TLS, in a build with it only. */
#ifdef MMEM_WITH_TLS
static const bool tls_built = true;
#else
static const bool tls_built = false;
#endif
static const char *const tls_help[] = {
    "-Z,",
    "--enable-ssl",
    "notls:",
    "ssl_chain_cert",
    "ssl_key",
    "ssl_keyformat",
    "ssl_verify_mode",
    "ssl_ciphers",
    "ssl_ca_cert",
    "ssl_wbuf_size",
    "ssl_session_cache",
    "ssl_kernel_tls",
    "ssl_min_version",
};

START_TEST(test_help_lists_everything)
{
    static const char *const flags[] = {
        "-p,",
        "--port",
        "-U,",
        "--udp-port",
        "-s,",
        "--unix-socket",
        "-a,",
        "--unix-mask",
        "-A,",
        "--enable-shutdown",
        "-l,",
        "--listen",
        "-d,",
        "--daemon",
        "-r,",
        "--enable-coredumps",
        "-u,",
        "--user",
        "-m,",
        "--memory-limit",
        "-M,",
        "--disable-evictions",
        "-c,",
        "--conn-limit",
        "-k,",
        "--lock-memory",
        "-v,",
        "--verbose",
        "-vv",
        "-vvv",
        "-h,",
        "--help",
        "-i,",
        "--license",
        "-V,",
        "--version",
        "-P,",
        "--pidfile",
        "-f,",
        "--slab-growth-factor",
        "-n,",
        "--slab-min-size",
        "-L,",
        "--enable-largepages",
        "-D ",
        "-t,",
        "--threads",
        "-R,",
        "--max-reqs-per-event",
        "-C,",
        "--disable-cas",
        "-b,",
        "--listen-backlog",
        "-B,",
        "--protocol",
        "-I,",
        "--max-item-size",
        "-S,",
        "--enable-sasl",
        "-F,",
        "--disable-flush-all",
        "-X,",
        "--disable-dumping",
        "-W,",
        "--disable-watch",
        "-Y,",
        "--auth-file",
        "-e,",
        "--memory-file",
        "-o,",
        "--extended",
        "-N,",
        "--napi-ids",
        "--ready-fd",
        /* every -o option memcached 1.6.18 documents that mmem accepts,
         * plus mmem's (those it refuses are checked below) */
        "maxconns_fast",
        "hashpower",
        "hash_algorithm",
        "no_lru_crawler",
        "lru_crawler_sleep",
        "lru_crawler_tocrawl",
        "read_buf_mem_limit",
        "no_lru_maintainer",
        "hot_lru_pct",
        "warm_lru_pct",
        "hot_max_factor",
        "warm_max_factor",
        "temporary_ttl",
        "idle_timeout",
        "slab_chunk_max",
        "watcher_logbuf_size",
        "worker_logbuf_size",
        "track_sizes",
        "no_hashexpand",
        "modern",
        "no_modern",
        "sock_cookie_id",
        "ev_backend",
        "shard_bits",
    };
    size_t i;

    ck_assert_int_eq(parse("-h", NULL), MM_SETTINGS_EXIT_OK);
    ck_assert(strncmp(R.out, "mmem " PACKAGE_VERSION "\n", strlen("mmem " PACKAGE_VERSION)) == 0);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        ck_assert_msg(strstr(R.out, flags[i]) != NULL, "-h does not mention %s", flags[i]);
    }
    /* Tools grep -h for features: what is refused is not mentioned. */
    ck_assert_msg(strstr(R.out, "ext_") == NULL, "-h mentions extstore");
    ck_assert_msg(strstr(R.out, "tail_repair") == NULL, "-h mentions tail_repair_time");
    ck_assert_msg(strstr(R.out, "freeratio") == NULL, "-h mentions slab_automove_freeratio");
    ck_assert_msg(strstr(R.out, " drop_privileges") == NULL, "-h mentions drop_privileges");
    /* Tools grep -h for TLS: it is listed only when it works. */
    for (i = 0; i < sizeof(tls_help) / sizeof(tls_help[0]); i++) {
        ck_assert_msg((strstr(R.out, tls_help[i]) != NULL) == tls_built,
                      "-h and %s disagree with the build", tls_help[i]);
    }
    ck_assert_str_eq(R.err, "");
    ck_assert_int_eq(parse("--help", NULL), MM_SETTINGS_EXIT_OK);
}
END_TEST

/* ---- -o ------------------------------------------------------------------ */

START_TEST(test_xopts_applied)
{
    run("-o", "hashpower=20,no_hashexpand,idle_timeout=30,slab_chunk_max=16384", "-o",
        "read_buf_mem_limit=5,no_maxconns_fast,ev_backend=poll,shard_bits=3", NULL);
    expect_ok();
    ck_assert_int_eq(R.s.hashpower_init, 20);
    ck_assert(!R.s.hash_expand);
    ck_assert_uint_eq(R.s.idle_timeout, 30);
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 16384);
    ck_assert_uint_eq(R.s.read_buf_mem_limit, 5u << 20);
    ck_assert(!R.s.maxconns_fast);
    ck_assert_str_eq(R.s.ev_backend, "poll");
    ck_assert_uint_eq(R.s.shard_bits, 3);
    ck_assert_ptr_null(mm_settings_noted(&R.s, 0));
    run("-o", "no_maxconns_fast,maxconns_fast", NULL);
    ck_assert(R.s.maxconns_fast);
    /* A negative idle timeout (memcached takes it) means none. */
    run("-o", "idle_timeout=-5", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.idle_timeout, 0);
    run("-o", "idle_timeout=", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.idle_timeout, 0);
}
END_TEST

START_TEST(test_xopts_mmem_only_refused)
{
    run("-o", "shard_bits=9", NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert(strstr(R.err, "shard_bits") != NULL);
    run("-o", "ev_backend", NULL);
    ck_assert_int_eq(R.rc, MM_SETTINGS_ERROR);
    ck_assert(strstr(R.err, "ev_backend") != NULL);
}
END_TEST

/* What -h says about TLS, in a build with it only. */
START_TEST(test_slab_sizes)
{
    char many[16 + 63 * 6];
    size_t n = (size_t)snprintf(many, sizeof(many), "slab_sizes=");
    unsigned i;

    run("-o", "slab_sizes=+100--200-300-", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.nslab_sizes, 3);
    ck_assert_uint_eq(R.s.slab_size[0], 100);
    ck_assert_uint_eq(R.s.slab_size[1], 200);
    ck_assert_uint_eq(R.s.slab_size[2], 300);
    /* 62 sizes are taken, the 63rd is one too many (memcached's bound). */
    for (i = 0; i < 63; i++) {
        n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%u", i ? "-" : "", 100u + 16u * i);
    }
    run("-o", many, NULL);
    expect_fail("too many slab classes specified\n", MM_SETTINGS_EX_USAGE);
    many[strlen(many) - 5] = '\0'; /* drop the last, "-1092" */
    run("-o", many, NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.nslab_sizes, 62);
}
END_TEST

START_TEST(test_xopts_noted)
{
    run("-o", "lru_crawler,slab_reassign,lru_crawler,hash_algorithm=xxh3", "-N", "2", "-o",
        "sock_cookie_id=7,idle_timeout=1", NULL);
    expect_ok();
    /* lru_crawler and slab_reassign are applied (the crawler and the page
     * mover), hash_algorithm, sock_cookie_id and -N too: not noted. */
    ck_assert_ptr_null(mm_settings_noted(&R.s, 0));
    ck_assert_int_eq(R.s.compat.num_napi_ids, 2);
    ck_assert_ptr_null(mm_settings_noted(&R.s, -1));
    ck_assert_str_eq(R.s.compat.hash_algorithm, "xxh3");
    ck_assert_uint_eq(R.s.compat.sock_cookie_id, 7);
}
END_TEST

static const char *const every_xopt[] = {
    "maxconns_fast",
    "no_maxconns_fast",
    "hashpower=16",
    "no_hashexpand",
    "idle_timeout=3",
    "slab_chunk_max=524288",
    "read_buf_mem_limit=1",
    "no_chunked_items",
    "modern",
    "no_modern",
    "hash_algorithm=jenkins",
    "hash_algorithm=murmur3",
    "lru_crawler",
    "no_lru_crawler",
    "lru_crawler_sleep=0",
    "lru_crawler_tocrawl=5",
    "lru_maintainer",
    "no_lru_maintainer",
    "hot_lru_pct=1",
    "warm_lru_pct=60",
    "hot_max_factor=0.5",
    "warm_max_factor=1.5",
    "temporary_ttl=30,lru_maintainer",
    "watcher_logbuf_size=8",
    "worker_logbuf_size=8",
    "track_sizes",
    "slab_reassign",
    "no_slab_reassign",
    "slab_automove",
    "slab_automove=2",
    "no_slab_automove",
    "slab_automove_ratio=1",
    "slab_automove_window=3",
    "slab_sizes=100-200",
    "inline_ascii_resp",
    "no_inline_ascii_resp",
    "no_drop_privileges",
    "resp_obj_mem_limit=3",
    "sock_cookie_id=5",
#ifdef MMEM_WITH_TLS
    "ssl_chain_cert=/c",
    "ssl_key=/k",
    "ssl_verify_mode=3",
    "ssl_keyformat=3",
    "ssl_ciphers=ALL",
    "ssl_ca_cert=/ca",
    "ssl_wbuf_size=5",
    "ssl_session_cache",
    "ssl_kernel_tls",
    "ssl_min_version=3",
#endif
};

START_TEST(test_xopts_every_memcached_option_accepted)
{
    run("-o", every_xopt[_i], NULL);
    ck_assert_msg(R.rc == MM_SETTINGS_OK, "-o %s refused: %s", every_xopt[_i], R.err);
}
END_TEST

START_TEST(test_no_modern)
{
    /* 1.4's defaults: unchunked items (chunks as large as a page). */
    run("-o", "no_modern", NULL);
    expect_ok();
    ck_assert(!R.s.maxconns_fast);
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 1u << 20);
    /* Items over 1 MB still get half-page chunks, as in memcached. */
    run("-o", "no_modern", "-I", "2m", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 512u << 10);
}
END_TEST

/* ---- derived values ---------------------------------------------------- */

START_TEST(test_derived_sizes)
{
    run("-I", "2m", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 512u << 10);
    ck_assert_uint_eq(R.s.slab_page_size, 2u << 20);
    run("-I", "512k", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.slab_page_size, 1u << 20);
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 512u << 10);
    run("-I", "2m", "-o", "slab_chunk_max=1048576", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 1u << 20);
    run("-I", "2k", "-o", "slab_chunk_max=1024", NULL);
    expect_ok();
    ck_assert_uint_eq(R.s.slab_chunk_size_max, 1024);
    ck_assert_uint_eq(R.s.slab_page_size, 1u << 20);
}
END_TEST

/* ---- stats settings ---------------------------------------------------- */

/* Captured from memcached 1.6.18 (-l 127.0.0.1 -p 21000, defaults). */
static const char *const memcached_settings[][2] = {
    {"maxbytes", "67108864"},
    {"maxconns", "1024"},
    {"tcpport", "21000"},
    {"udpport", "0"},
    {"inter", "127.0.0.1"},
    {"verbosity", "0"},
    {"oldest", "0"},
    {"evictions", "on"},
    {"domain_socket", "NULL"},
    {"umask", "700"},
    {"shutdown_command", "no"},
    {"growth_factor", "1.25"},
    {"chunk_size", "48"},
    {"num_threads", "4"},
    {"num_threads_per_udp", "4"},
    {"stat_key_prefix", ":"},
    {"detail_enabled", "no"},
    {"reqs_per_event", "20"},
    {"cas_enabled", "yes"},
    {"tcp_backlog", "1024"},
    {"binding_protocol", "auto-negotiate"},
    {"auth_enabled_sasl", "no"},
    {"auth_enabled_ascii", "no"},
    {"item_size_max", "1048576"},
    {"maxconns_fast", "yes"},
    {"hashpower_init", "0"},
    {"slab_reassign", "yes"},
    {"slab_automove", "1"},
    {"slab_automove_ratio", "0.80"},
    {"slab_automove_window", "30"},
    {"slab_chunk_max", "524288"},
    {"lru_crawler", "yes"},
    {"lru_crawler_sleep", "100"},
    {"lru_crawler_tocrawl", "0"},
    {"tail_repair_time", "0"},
    {"flush_enabled", "yes"},
    {"dump_enabled", "yes"},
    {"hash_algorithm", "murmur3"},
    {"lru_maintainer_thread", "yes"},
    {"lru_segmented", "yes"},
    {"hot_lru_pct", "20"},
    {"warm_lru_pct", "40"},
    {"hot_max_factor", "0.20"},
    {"warm_max_factor", "2.00"},
    {"temp_lru", "no"},
    {"temporary_ttl", "61"},
    {"idle_timeout", "0"},
    {"watcher_logbuf_size", "262144"},
    {"worker_logbuf_size", "65536"},
    {"read_buf_mem_limit", "0"},
    {"track_sizes", "no"},
    {"inline_ascii_response", "no"},
    {"ext_item_size", "512"},
    {"ext_item_age", "4294967295"},
    {"ext_low_ttl", "0"},
    {"ext_recache_rate", "2000"},
    {"ext_wbuf_size", "4194304"},
    {"ext_compact_under", "0"},
    {"ext_drop_under", "0"},
    {"ext_max_sleep", "1000000"},
    {"ext_max_frag", "0.80"},
    {"slab_automove_freeratio", "0.010"},
    {"ext_drop_unread", "no"},
#ifdef MMEM_WITH_TLS
    {"ssl_enabled", "no"},
    {"ssl_chain_cert", "(null)"},
    {"ssl_key", "(null)"},
    {"ssl_verify_mode", "0"},
    {"ssl_keyformat", "1"},
    {"ssl_ciphers", "NULL"},
    {"ssl_ca_cert", "NULL"},
    {"ssl_wbuf_size", "16384"},
    {"ssl_session_cache", "no"},
    {"ssl_kernel_tls", "no"},
    {"ssl_min_version", "tlsv1.2"},
#endif
    {"num_napi_ids", "(null)"},
    {"memory_file", "(null)"},
};

#define NSETTINGS (sizeof(memcached_settings) / sizeof(memcached_settings[0]))

struct capture {
    char name[NSETTINGS + 8][64];
    char value[NSETTINGS + 8][128];
    size_t n;
};

static void
capture_emit(void *arg, const char *name, const char *value)
{
    struct capture *c = arg;

    ck_assert_uint_lt(c->n, NSETTINGS + 8);
    snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
    snprintf(c->value[c->n], sizeof(c->value[0]), "%s", value);
    c->n++;
}

static const char *
captured(const struct capture *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (strcmp(c->name[i], name) == 0) {
            return c->value[i];
        }
    }
    ck_abort_msg("no %s in stats settings", name);
    return NULL;
}

START_TEST(test_emit_names_and_order)
{
    static struct capture c;
    size_t i;

    run("-l", "127.0.0.1", "-p", "21000", NULL);
    expect_ok();
    mm_settings_emit(&R.s, capture_emit, &c);
    ck_assert_uint_eq(c.n, NSETTINGS);
    for (i = 0; i < NSETTINGS; i++) {
        ck_assert_msg(strcmp(c.name[i], memcached_settings[i][0]) == 0, "line %zu: %s, wanted %s",
                      i, c.name[i], memcached_settings[i][0]);
    }
}
END_TEST

START_TEST(test_emit_default_values)
{
    /* The hash name is the only difference from memcached's defaults. */
    static const char *const differ[][2] = {
        {"hash_algorithm", MM_HASH_NAME},
    };
    static struct capture c;
    size_t i, j;

    run("-l", "127.0.0.1", "-p", "21000", NULL);
    mm_settings_emit(&R.s, capture_emit, &c);
    for (i = 0; i < NSETTINGS; i++) {
        const char *want = memcached_settings[i][1];

        for (j = 0; j < sizeof(differ) / sizeof(differ[0]); j++) {
            if (strcmp(differ[j][0], c.name[i]) == 0) {
                want = differ[j][1];
            }
        }
        ck_assert_msg(strcmp(c.value[i], want) == 0, "%s: %s, wanted %s", c.name[i], c.value[i],
                      want);
    }
}
END_TEST

START_TEST(test_emit_values_follow_flags)
{
    static struct capture c;

    run("-l", "127.0.0.1", "-l", "::1", "-p", "21045", "-U", "21046", "-vv", "-M", "-a", "755",
        "-A", "-f", "1.5", "-n", "64", "-t", "2", "-D", "x", "-R", "7", "-C", "-b", "99", "-B",
        "ascii", "-I", "2m", "-F", "-X", "-s", "/tmp/s", "-c", "50", "-m", "100", "-o",
        "no_maxconns_fast,hashpower=20,idle_timeout=9,read_buf_mem_limit=3,hash_algorithm=jenkins",
        "-o", "slab_automove_ratio=0.5,slab_automove_window=5,watcher_logbuf_size=8", "-o",
        "hot_max_factor=0.5,warm_max_factor=1.5", "-N", "2", NULL);
    expect_ok();
    mm_settings_emit(&R.s, capture_emit, &c);
    ck_assert_str_eq(captured(&c, "maxbytes"), "104857600");
    ck_assert_str_eq(captured(&c, "maxconns"), "50");
    ck_assert_str_eq(captured(&c, "tcpport"), "21045");
    ck_assert_str_eq(captured(&c, "udpport"), "21046");
    ck_assert_str_eq(captured(&c, "inter"), "127.0.0.1,::1");
    ck_assert_str_eq(captured(&c, "verbosity"), "2");
    ck_assert_str_eq(captured(&c, "evictions"), "off");
    ck_assert_str_eq(captured(&c, "domain_socket"), "/tmp/s");
    ck_assert_str_eq(captured(&c, "umask"), "755");
    ck_assert_str_eq(captured(&c, "shutdown_command"), "yes");
    ck_assert_str_eq(captured(&c, "growth_factor"), "1.50");
    ck_assert_str_eq(captured(&c, "chunk_size"), "64");
    ck_assert_str_eq(captured(&c, "num_threads"), "2");
    ck_assert_str_eq(captured(&c, "num_threads_per_udp"), "2");
    ck_assert_str_eq(captured(&c, "stat_key_prefix"), "x");
    ck_assert_str_eq(captured(&c, "detail_enabled"), "yes");
    ck_assert_str_eq(captured(&c, "reqs_per_event"), "7");
    ck_assert_str_eq(captured(&c, "cas_enabled"), "no");
    ck_assert_str_eq(captured(&c, "tcp_backlog"), "99");
    ck_assert_str_eq(captured(&c, "binding_protocol"), "ascii");
    ck_assert_str_eq(captured(&c, "item_size_max"), "2097152");
    ck_assert_str_eq(captured(&c, "maxconns_fast"), "no");
    ck_assert_str_eq(captured(&c, "hashpower_init"), "20");
    ck_assert_str_eq(captured(&c, "slab_automove_ratio"), "0.50");
    ck_assert_str_eq(captured(&c, "slab_automove_window"), "5");
    ck_assert_str_eq(captured(&c, "slab_chunk_max"), "524288");
    ck_assert_str_eq(captured(&c, "hash_algorithm"), "jenkins");
    ck_assert_str_eq(captured(&c, "flush_enabled"), "no");
    ck_assert_str_eq(captured(&c, "dump_enabled"), "no");
    ck_assert_str_eq(captured(&c, "hot_max_factor"), "0.50");
    ck_assert_str_eq(captured(&c, "warm_max_factor"), "1.50");
    ck_assert_str_eq(captured(&c, "idle_timeout"), "9");
    ck_assert_str_eq(captured(&c, "watcher_logbuf_size"), "8192");
    ck_assert_str_eq(captured(&c, "read_buf_mem_limit"), "3145728");
    ck_assert_str_eq(captured(&c, "num_napi_ids"), "2");
}
END_TEST

#ifdef MMEM_WITH_TLS
/* -Z and the ssl_* options, shown as memcached 1.6.18 shows them (its
 * verify mode is OpenSSL's flag word: 0, 1, 3, 7). */
START_TEST(test_tls_options)
{
    static const char *const verify[] = {"0", "1", "3", "7"};
    static struct capture c;
    char opt[32];

    run("-Z", "-o", "ssl_chain_cert=/c,ssl_key=/k,ssl_ciphers=ALL,ssl_ca_cert=/ca", "-o",
        "ssl_min_version=3,ssl_wbuf_size=5,ssl_session_cache,ssl_kernel_tls,ssl_keyformat=2", NULL);
    expect_ok();
    ck_assert(R.s.ssl_enabled);
    ck_assert_ptr_null(mm_settings_noted(&R.s, 0)); /* acted on, not noted */
    memset(&c, 0, sizeof(c));
    mm_settings_emit(&R.s, capture_emit, &c);
    ck_assert_str_eq(captured(&c, "ssl_enabled"), "yes");
    ck_assert_str_eq(captured(&c, "ssl_chain_cert"), "/c");
    ck_assert_str_eq(captured(&c, "ssl_key"), "/k");
    ck_assert_str_eq(captured(&c, "ssl_keyformat"), "2");
    ck_assert_str_eq(captured(&c, "ssl_ciphers"), "ALL");
    ck_assert_str_eq(captured(&c, "ssl_ca_cert"), "/ca");
    ck_assert_str_eq(captured(&c, "ssl_wbuf_size"), "5120");
    ck_assert_str_eq(captured(&c, "ssl_session_cache"), "yes");
    ck_assert_str_eq(captured(&c, "ssl_kernel_tls"), "yes");
    ck_assert_str_eq(captured(&c, "ssl_min_version"), "tlsv1.3");
    run("--enable-ssl", "-o", "ssl_verify_mode=0", NULL);
    expect_ok();
    ck_assert(R.s.ssl_enabled);
    for (int i = 0; i < 4; i++) {
        snprintf(opt, sizeof(opt), "ssl_verify_mode=%d", i);
        run("-o", opt, NULL);
        expect_ok();
        memset(&c, 0, sizeof(c));
        mm_settings_emit(&R.s, capture_emit, &c);
        ck_assert_str_eq(captured(&c, "ssl_verify_mode"), verify[i]);
        ck_assert_str_eq(captured(&c, "ssl_enabled"), "no");
    }
}
END_TEST
#endif

static Suite *
settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("flags");
    TCase *tb = tcase_create("bad");
    TCase *to = tcase_create("extended");
    TCase *te = tcase_create("emit");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_short_flags);
    tcase_add_test(tc, test_long_flags);
    tcase_add_test(tc, test_verbose_levels);
    tcase_add_test(tc, test_protocols_and_delimiter);
    tcase_add_test(tc, test_numbers_like_atoi);
    tcase_add_test(tc, test_item_size_suffixes);
    tcase_add_test(tc, test_listen_lists);
    tcase_add_test(tc, test_listen_too_many);
    tcase_add_test(tc, test_split_listen);
    tcase_add_test(tc, test_ready_fd);
    tcase_add_test(tc, test_thread_warning);
    tcase_add_test(tc, test_auth_flags);
    tcase_add_test(tc, test_accepted_like_memcached);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_license);
    tcase_add_test(tc, test_help_lists_everything);
    tcase_add_test(tc, test_derived_sizes);
    suite_add_tcase(s, tc);

    tcase_set_timeout(tb, 30);
    tcase_add_loop_test(tb, test_bad_values, 0, (int)(sizeof(bad) / sizeof(bad[0])));
#ifdef MMEM_WITH_TLS
    tcase_add_test(tb, test_tls_options);
#endif
    tcase_add_loop_test(tb, test_unsupported_flags, 0,
                        (int)(sizeof(unsupported_flags) / sizeof(unsupported_flags[0])));
    suite_add_tcase(s, tb);

    tcase_set_timeout(to, 30);
    tcase_add_test(to, test_xopts_applied);
    tcase_add_test(to, test_xopts_mmem_only_refused);
    tcase_add_test(to, test_xopts_noted);
    tcase_add_test(to, test_slab_sizes);
    tcase_add_loop_test(to, test_xopts_every_memcached_option_accepted, 0,
                        (int)(sizeof(every_xopt) / sizeof(every_xopt[0])));
    tcase_add_test(to, test_no_modern);
    suite_add_tcase(s, to);

    tcase_set_timeout(te, 10);
    tcase_add_test(te, test_emit_names_and_order);
    tcase_add_test(te, test_emit_default_values);
    tcase_add_test(te, test_emit_values_follow_flags);
    suite_add_tcase(s, te);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(settings_suite());
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
