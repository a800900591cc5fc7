/*
 * log.c - leveled logging to stderr, one write(2) per line
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_MODULES 32

static const char *daemon_name = "tandem";
static bool stamp_lines = true;	  /* not journald: a UTC timestamp */
static bool journal_prio = false; /* journald: a <priority> prefix */
static enum sw_log_level global_level = SW_LOG_INFO;
static struct {
	char name[24];
	enum sw_log_level level;
} modules[MAX_MODULES];
static int nmodules;

static const char *const level_names[] = {"err", "warn", "info", "debug"};
/* syslog priorities (sd-daemon(3) prefixes): err, warning, info, debug */
static const char *const level_prio[] = {"<3>", "<4>", "<6>", "<7>"};

/*
 * Name the process in every line.  Lines start with a UTC timestamp unless
 * stderr is journald's (JOURNAL_STREAM set by systemd), which stamps them;
 * there they start with the level's syslog priority instead, which
 * journald reads (journalctl -p warning shows warnings and errors).
 */
void sw_log_init(const char *daemon)
{
	if (daemon)
		daemon_name = daemon;
	journal_prio = getenv("JOURNAL_STREAM") != NULL;
	stamp_lines = !journal_prio;
}

/* Write "YYYY-MM-DDTHH:MM:SS.mmmZ " into buf; returns its length or 0. */
static int stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char date[32];

	if (clock_gettime(CLOCK_REALTIME, &ts) || !gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return snprintf(buf, size, "%s.%03ldZ ", date, ts.tv_nsec / 1000000);
}

/* Set the level of every module without its own level. */
void sw_log_set_level(enum sw_log_level level)
{
	global_level = level;
}

/* Give one module its own level; returns ENOSPC when the table is full. */
int sw_log_set_module_level(const char *module, enum sw_log_level level)
{
	for (int i = 0; i < nmodules; i++) {
		if (!strcmp(modules[i].name, module)) {
			modules[i].level = level;
			return 0;
		}
	}
	if (nmodules == MAX_MODULES)
		return ENOSPC;
	snprintf(modules[nmodules].name, sizeof(modules[nmodules].name), "%s",
		 module);
	modules[nmodules++].level = level;
	return 0;
}

/* Parse "err", "warn", "info" or "debug". */
int sw_log_level_parse(enum sw_log_level *levelp, const char *s)
{
	for (int i = 0; i <= SW_LOG_DEBUG; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*levelp = (enum sw_log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "error")) {
		*levelp = SW_LOG_ERR;
		return 0;
	}
	return EINVAL;
}

/* True when a line of this level from this module would be written. */
bool sw_log_enabled(enum sw_log_level level, const char *module)
{
	for (int i = 0; i < nmodules; i++) {
		if (!strcmp(modules[i].name, module))
			return level <= modules[i].level;
	}
	return level <= global_level;
}

/* Write one line: "<level> <daemon>/<module>: [<callid>] message". */
void sw_log(enum sw_log_level level, const char *module, const char *callid,
	    const char *fmt, ...)
{
	char line[2048];
	int n, m;
	va_list ap;

	if (!sw_log_enabled(level, module))
		return;

	if ((unsigned)level > SW_LOG_DEBUG)
		level = SW_LOG_DEBUG;

	n = stamp_lines ? stamp(line, sizeof(line)) : 0;
	if (journal_prio)
		n = snprintf(line, sizeof(line), "%s", level_prio[level]);
	if (callid && *callid)
		m = snprintf(line + n, sizeof(line) - (size_t)n,
			     "%-5s %s/%s: [%s] ", level_names[level],
			     daemon_name, module, callid);
	else
		m = snprintf(line + n, sizeof(line) - (size_t)n,
			     "%-5s %s/%s: ", level_names[level], daemon_name,
			     module);
	if (m < 0 || (size_t)n + (size_t)m >= sizeof(line))
		m = 0;
	n += m;

	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)n + (size_t)m > sizeof(line) - 2)
		m = (int)(sizeof(line) - 2) - n;
	/* one event, one line: a line end inside the message (a peer's
	 * text, a database error) becomes a space */
	for (int i = n; i < n + m; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	n += m;
	line[n++] = '\n';

	/* one write keeps lines whole when several processes share stderr */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
