/* log.c: timestamped log lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static im_log_level g_min_level = IM_LOG_INFO;
static char g_component[32] = "infomorph";

void im_log_setup(im_log_level min_level, const char *component)
{
    g_min_level = min_level;
    if (component) snprintf(g_component, sizeof g_component, "%s", component);
}

int im_log_parse_level(const char *s, im_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (im_log_level)i;
            return 0;
        }
    return -1;
}

size_t im_log_escape(char *out, size_t n, const char *in)
{
    size_t o = 0;
    if (n == 0) return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char esc[8];
        size_t len;
        if (*p == '\n')
            len = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\r')
            len = (size_t)snprintf(esc, sizeof esc, "\\r");
        else if (*p == '\t')
            len = (size_t)snprintf(esc, sizeof esc, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            len = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
        else
            esc[0] = (char)*p, len = 1;
        if (o + len >= n) break;
        memcpy(out + o, esc, len);
        o += len;
    }
    out[o] = '\0';
    return o;
}

void im_log(im_log_level level, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (level < g_min_level) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* texts from peers (error messages, refused bytes) may carry newlines
     * or escape sequences: one line per call, nothing a terminal obeys */
    char line[sizeof msg * 2];
    im_log_escape(line, sizeof line, msg);
    fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000L, tags[level], g_component,
            line);
}
