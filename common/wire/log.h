/*
 * log.h: one logging function for the programs (coordinator, worker, command).
 * Lines go to stderr: "2026-11-30T11:13:50.123Z INFO  coordinator: message".
 * Library numerics never log; the daemons and their modules do.
 * The level and component are process-wide settings, set once by main().
 */
#ifndef IM_LOG_H
#define IM_LOG_H

#include <stddef.h>

typedef enum { IM_LOG_DEBUG = 0, IM_LOG_INFO, IM_LOG_WARN, IM_LOG_ERROR } im_log_level;

/* Set the minimal level printed and the component name shown on each line.
 * component is copied. Not thread-safe: call from main() before threads. */
void im_log_setup(im_log_level min_level, const char *component);

/* Parse "debug", "info", "warn", "error"; returns 0 and sets *out, or -1. */
int im_log_parse_level(const char *s, im_log_level *out);

/* Copy in to out (n bytes with the NUL) with control characters escaped:
 * "\n", "\r", "\t", else "\xNN" (bytes below 0x20 and 0x7f); truncated to
 * fit. Returns the length written. For texts from peers that are printed or
 * logged. Thread-safe. */
size_t im_log_escape(char *out, size_t n, const char *in);

/* Print one line if level >= the minimal level, its control characters
 * escaped (im_log_escape), so that no text can forge a line or reach the
 * terminal as an escape sequence. Thread-safe (one fprintf). */
void im_log(im_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* IM_LOG_H */
