/* uptake-server: logging. One line per event on stderr, with a UTC time
 * and a level; requests are logged once, when they are answered. */
#ifndef UPTAKE_SERVER_LOG_H
#define UPTAKE_SERVER_LOG_H

enum srv_log_level { SRV_LOG_ERROR = 0, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

extern enum srv_log_level srv_log_threshold;

void srv_log(enum srv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error", "warn", "info" or "debug" -> level; -1 for anything else. */
int srv_log_level_parse(const char *name);

#endif
