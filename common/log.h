/*
 * log.h - logging for every Tandem process
 *
 * Lines go to stderr (journald picks them up under systemd) as
 *   "<UTC time> <level> <daemon>/<module>: [<call id>] message";
 * the time (2026-12-05T11:20:03.123Z) is left out under journald, which
 * stamps lines itself (JOURNAL_STREAM in the environment).
 * Each source file names its module with SW_LOG_MODULE before including this
 * header; levels can be set globally and per module.
 *
 * Threading: any thread; a line is written with one write(2).
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>

#ifndef SW_LOG_MODULE
#define SW_LOG_MODULE "main"
#endif

enum sw_log_level {
	SW_LOG_ERR = 0,
	SW_LOG_WARN,
	SW_LOG_INFO,
	SW_LOG_DEBUG,
};

#define SW_PRINTF(a, b) __attribute__((format(printf, a, b)))

void sw_log_init(const char *daemon);
void sw_log_set_level(enum sw_log_level level);
int sw_log_set_module_level(const char *module, enum sw_log_level level);
int sw_log_level_parse(enum sw_log_level *levelp, const char *s);
bool sw_log_enabled(enum sw_log_level level, const char *module);
void sw_log(enum sw_log_level level, const char *module, const char *callid,
	    const char *fmt, ...) SW_PRINTF(4, 5);

#define sw_err(...)  sw_log(SW_LOG_ERR, SW_LOG_MODULE, NULL, __VA_ARGS__)
#define sw_warn(...) sw_log(SW_LOG_WARN, SW_LOG_MODULE, NULL, __VA_ARGS__)
#define sw_info(...) sw_log(SW_LOG_INFO, SW_LOG_MODULE, NULL, __VA_ARGS__)
#define sw_debug(...)                                                          \
	do {                                                                   \
		if (sw_log_enabled(SW_LOG_DEBUG, SW_LOG_MODULE))               \
			sw_log(SW_LOG_DEBUG, SW_LOG_MODULE, NULL,              \
			       __VA_ARGS__);                                   \
	} while (0)

/* call-related lines carry the call id */
#define sw_cerr(cid, ...) sw_log(SW_LOG_ERR, SW_LOG_MODULE, (cid), __VA_ARGS__)
#define sw_cwarn(cid, ...)                                                     \
	sw_log(SW_LOG_WARN, SW_LOG_MODULE, (cid), __VA_ARGS__)
#define sw_cinfo(cid, ...)                                                     \
	sw_log(SW_LOG_INFO, SW_LOG_MODULE, (cid), __VA_ARGS__)
#define sw_cdebug(cid, ...)                                                    \
	do {                                                                   \
		if (sw_log_enabled(SW_LOG_DEBUG, SW_LOG_MODULE))               \
			sw_log(SW_LOG_DEBUG, SW_LOG_MODULE, (cid),             \
			       __VA_ARGS__);                                   \
	} while (0)

#endif /* SW_LOG_H */
