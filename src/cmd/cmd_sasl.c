/* SASL (-S) for the binary protocol through Cyrus SASL: LIST_MECHS, AUTH and
 * STEP answered as memcached answers them, plus the list of what an
 * unauthenticated connection may send. Everything Cyrus-specific sits under
 * the one MMEM_WITH_SASL block below; without it the calls are stubs and -S
 * is refused when the command line is read. */
#include "config.h"

#include "mmem/cmd_sasl.h"

#include "mmem/alloc.h"
#include "mmem/auth.h"
#include "mmem/out.h"
#include "mmem/protocol_binary.h"
#include "mmem/stats.h"

#include <string.h>

/* Not in protocol_binary.h: only SASL uses it. */
#define SASL_ST_CONTINUE 0x21
/* memcached refuses longer mechanism names as invalid arguments. */
#define SASL_MECH_MAX 32

bool
mm_cmd_sasl_opcode(uint8_t opcode)
{
    return opcode == MM_BIN_OP_SASL_LIST_MECHS || opcode == MM_BIN_OP_SASL_AUTH ||
           opcode == MM_BIN_OP_SASL_STEP;
}

bool
mm_cmd_sasl_allowed_unauth(uint8_t opcode)
{
    /* A client must be able to learn the version and the mechanisms before
     * it logs in; nothing else is served. */
    return opcode == MM_BIN_OP_VERSION || mm_cmd_sasl_opcode(opcode);
}

void
mm_cmd_sasl_refuse(const struct mm_bin_header *hdr, struct mm_out *out)
{
    mm_bin_error(out, hdr->opcode, hdr->opaque, MM_BIN_ST_AUTH_ERROR);
}

static void
reply_body(struct mm_out *out, const struct mm_bin_header *hdr, uint16_t status, const char *body,
           size_t len)
{
    mm_bin_response(out, hdr->opcode, status, hdr->opaque, 0, NULL, 0, NULL, 0, (uint32_t)len);
    if (len > 0) {
        mm_out_append(out, body, len);
    }
}

#ifdef MMEM_WITH_SASL

#include <sasl/sasl.h>
#include <stdlib.h>
#include <unistd.h>

/* Filled once by mm_cmd_sasl_init() before any worker runs, then only read:
 * Cyrus keeps the callback array, so it cannot live on a stack. */
static struct {
    struct mm_auth *pwdb;
    char conf_path[4096];
    char hostname[256];
    sasl_callback_t cb[4];
} sasl_cfg;

struct mm_cmd_sasl {
    sasl_conn_t *conn;
    bool stepping; /* an AUTH answered "continue": STEP may follow */
};

bool
mm_cmd_sasl_available(void)
{
    return true;
}

static int
cb_getconfpath(void *context, const char **path)
{
    *path = context;
    return SASL_OK;
}

/* MEMCACHED_SASL_PWDB: Cyrus hands us the name and password; the table's
 * comparison does not depend on where a guess goes wrong. */
static int
cb_checkpass(sasl_conn_t *conn, void *context, const char *user, const char *pass, unsigned passlen,
             struct propctx *propctx)
{
    const struct mm_auth *pwdb = context;

    (void)conn;
    (void)propctx;
    return mm_auth_check(pwdb, user, strlen(user), pass, passlen) ? SASL_OK : SASL_NOUSER;
}

bool
mm_cmd_sasl_init(FILE *err)
{
    const char *conf = getenv("SASL_CONF_PATH");
    const char *pwdb = getenv("MEMCACHED_SASL_PWDB");
    int n = 0;

    memset(&sasl_cfg, 0, sizeof(sasl_cfg));
    if (pwdb != NULL) {
        sasl_cfg.pwdb = mm_auth_load(pwdb, err);
        if (sasl_cfg.pwdb == NULL) {
            return false;
        }
        sasl_cfg.cb[n].id = SASL_CB_SERVER_USERDB_CHECKPASS;
        sasl_cfg.cb[n].proc = (int (*)(void))(void (*)(void))cb_checkpass;
        sasl_cfg.cb[n].context = sasl_cfg.pwdb;
        n++;
    }
    if (conf != NULL) {
        snprintf(sasl_cfg.conf_path, sizeof(sasl_cfg.conf_path), "%s", conf);
        sasl_cfg.cb[n].id = SASL_CB_GETCONFPATH;
        sasl_cfg.cb[n].proc = (int (*)(void))(void (*)(void))cb_getconfpath;
        sasl_cfg.cb[n].context = sasl_cfg.conf_path;
        n++;
    }
    sasl_cfg.cb[n].id = SASL_CB_LIST_END;
    /* The realm is the host name, as memcached (and saslpasswd2) use. */
    if (gethostname(sasl_cfg.hostname, sizeof(sasl_cfg.hostname) - 1) != 0) {
        sasl_cfg.hostname[0] = '\0';
    }
    if (sasl_server_init(sasl_cfg.cb, "memcached") != SASL_OK) {
        fprintf(err, "Error initializing sasl.\n");
        mm_auth_free(&sasl_cfg.pwdb);
        return false;
    }
    return true;
}

void
mm_cmd_sasl_shutdown(void)
{
    (void)sasl_server_done();
    mm_auth_free(&sasl_cfg.pwdb);
}

static bool
sasl_conn_get(struct mm_cmd_sasl **state)
{
    struct mm_cmd_sasl *s = *state;

    if (s == NULL) {
        s = mm_calloc(1, sizeof(*s));
        *state = s;
    }
    if (s->conn == NULL &&
        sasl_server_new("memcached", NULL, sasl_cfg.hostname[0] != '\0' ? sasl_cfg.hostname : NULL,
                        NULL, NULL, NULL, 0, &s->conn) != SASL_OK) {
        s->conn = NULL;
        return false;
    }
    return true;
}

void
mm_cmd_sasl_free(struct mm_cmd_sasl **state)
{
    struct mm_cmd_sasl *s = *state;

    if (s == NULL) {
        return;
    }
    if (s->conn != NULL) {
        sasl_dispose(&s->conn);
    }
    mm_free(s);
    *state = NULL;
}

void
mm_cmd_sasl_exec(struct mm_cmd_ctx *ctx, struct mm_cmd_sasl **state,
                 const struct mm_bin_header *hdr, const char *body, struct mm_out *out,
                 bool *authed)
{
    const char *key = body + hdr->extlen;
    const char *data = key + hdr->keylen;
    size_t dlen = hdr->bodylen - hdr->extlen - hdr->keylen;
    char mech[SASL_MECH_MAX + 1];
    const char *res = NULL;
    unsigned rlen = 0;
    int rc;

    if (!sasl_conn_get(state)) {
        mm_bin_error(out, hdr->opcode, hdr->opaque, MM_BIN_ST_ENOMEM);
        return;
    }
    if (hdr->opcode == MM_BIN_OP_SASL_LIST_MECHS) {
        if (sasl_listmech((*state)->conn, NULL, "", " ", "", &res, &rlen, NULL) != SASL_OK) {
            mm_bin_error(out, hdr->opcode, hdr->opaque, MM_BIN_ST_AUTH_ERROR);
            return;
        }
        reply_body(out, hdr, MM_BIN_ST_OK, res, rlen);
        return;
    }
    if (hdr->keylen > SASL_MECH_MAX) {
        mm_bin_error(out, hdr->opcode, hdr->opaque, MM_BIN_ST_EINVAL);
        return;
    }
    memcpy(mech, key, hdr->keylen);
    mech[hdr->keylen] = '\0';
    MM_STAT_INCR(ctx->stats, auth_cmds);
    /* An empty body is "no initial response" (NULL), which mechanisms
     * such as CRAM-MD5 need to send their challenge. */
    if (dlen == 0) {
        data = NULL;
    }
    if (hdr->opcode == MM_BIN_OP_SASL_AUTH) {
        rc = sasl_server_start((*state)->conn, mech, data, (unsigned)dlen, &res, &rlen);
    } else if ((*state)->stepping) {
        rc = sasl_server_step((*state)->conn, data, (unsigned)dlen, &res, &rlen);
    } else {
        /* Cyrus must not see a step without a started exchange. */
        rc = SASL_BADPROT;
    }
    (*state)->stepping = rc == SASL_CONTINUE;
    switch (rc) {
    case SASL_OK:
        *authed = true;
        reply_body(out, hdr, MM_BIN_ST_OK, "Authenticated", sizeof("Authenticated") - 1);
        return;
    case SASL_CONTINUE:
        reply_body(out, hdr, SASL_ST_CONTINUE, res, rlen);
        return;
    default:
        *authed = false;
        MM_STAT_INCR(ctx->stats, auth_errors);
        mm_bin_error(out, hdr->opcode, hdr->opaque, MM_BIN_ST_AUTH_ERROR);
        return;
    }
}

#else /* !MMEM_WITH_SASL */

bool
mm_cmd_sasl_available(void)
{
    return false;
}

bool
mm_cmd_sasl_init(FILE *err)
{
    fprintf(err, "mmem: this build has no SASL support\n");
    return false;
}

void
mm_cmd_sasl_shutdown(void)
{
}

void
mm_cmd_sasl_free(struct mm_cmd_sasl **state)
{
    *state = NULL;
}

void
mm_cmd_sasl_exec(struct mm_cmd_ctx *ctx, struct mm_cmd_sasl **state,
                 const struct mm_bin_header *hdr, const char *body, struct mm_out *out,
                 bool *authed)
{
    (void)ctx;
    (void)state;
    (void)body;
    *authed = false;
    reply_body(out, hdr, MM_BIN_ST_AUTH_ERROR, NULL, 0);
}

#endif
