/*
 * params.c - SERVER_BILLING_* system parameters, refreshed asynchronously
 */
#define SW_LOG_MODULE "params"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "billingd/libre.h"

#include "billingd/db.h"
#include "billingd/params.h"
#include "common/conf.h"
#include "common/log.h"

struct bd_params {
	struct bd_db *db; /* borrowed */
	struct bd_param_values cur;
	struct tmr tmr;
	bool loading;
};

static const char sql_params[] = "SELECT name, value FROM system_parameters"
				 " WHERE name LIKE 'SERVER\\_BILLING\\_%'"
				 "    OR name IN ('SS_MAXCALLDURATION',"
				 "     'SERVER_PERIOD_RATE_ENABLED',"
				 "     'SERVER_WORK_CALENDAR_ENABLED',"
				 "     'SERVER_PHONE_CARD_PIN_ATTEMPTS')";

/* Fill v with the built-in defaults. */
void bd_params_defaults(struct bd_param_values *v)
{
	const struct bd_rate_params def = BD_RATE_PARAMS_DEFAULT;

	memset(v, 0, sizeof(*v)); /* padding too: loaded_h compares */
	v->rate = def;
	v->record_zero_hold = true;
	v->max_call_s = 7200;
	v->advance_s = 60;
	v->period_rates = true;
	v->calendars = true;
	v->card_pin_attempts = 5;
}

/*
 * Apply one parameter row to v.  0 when applied, ENOENT for a name billingd
 * does not read, EINVAL for a value out of range (v unchanged).
 */
int bd_params_set(struct bd_param_values *v, const char *name,
		  const char *value)
{
	int64_t n;

	if (!v || !name || !value)
		return EINVAL;

	if (!strcmp(name, "SERVER_BILLING_FEE_PRECISION")) {
		if (sw_parse_int(&n, value, 0, 6))
			return EINVAL;
		v->rate.fee_precision = n;
	} else if (!strcmp(name, "SERVER_BILLING_HOLD_TIME_PRECISION")) {
		if (sw_parse_int(&n, value, 0, 1000))
			return EINVAL;
		v->rate.hold_precision_ms = n;
	} else if (!strcmp(name, "SERVER_BILLING_FREE_TIME")) {
		if (sw_parse_int(&n, value, 0, 86400))
			return EINVAL;
		v->rate.free_time_s = n;
	} else if (!strcmp(name,
			   "SERVER_BILLING_PREVENT_OVERDRAFT_ADVANCE_TIME")) {
		if (sw_parse_int(&n, value, 1, 86400))
			return EINVAL;
		v->advance_s = n;
	} else if (!strcmp(name, "SERVER_PHONE_CARD_PIN_ATTEMPTS")) {
		if (sw_parse_int(&n, value, 1, 100))
			return EINVAL;
		v->card_pin_attempts = n;
	} else if (!strcmp(name, "SERVER_PERIOD_RATE_ENABLED")) {
		if (sw_parse_int(&n, value, 0, 1))
			return EINVAL;
		v->period_rates = n != 0;
	} else if (!strcmp(name, "SERVER_WORK_CALENDAR_ENABLED")) {
		if (sw_parse_int(&n, value, 0, 1))
			return EINVAL;
		v->calendars = n != 0;
	} else if (!strcmp(name, "SS_MAXCALLDURATION")) {
		if (sw_parse_int(&n, value, 1, 604800))
			return EINVAL;
		v->max_call_s = n;
	} else if (!strcmp(name, "SERVER_BILLING_RECORD_ZERO_HOLD_TIME")) {
		if (sw_parse_int(&n, value, 0, 1))
			return EINVAL;
		v->record_zero_hold = n != 0;
	} else {
		return ENOENT;
	}

	return 0;
}

static void loaded_h(int err, const PGresult *res, void *arg)
{
	struct bd_params *p = arg;
	struct bd_param_values v;
	int cname, cvalue;

	p->loading = false;
	if (err) {
		sw_warn("cannot read system parameters (%s), keeping the "
			"current ones",
			err == EBADMSG ? bd_db_errmsg(res) : strerror(err));
		return;
	}
	cname = PQfnumber(res, "name");
	cvalue = PQfnumber(res, "value");
	if (cname < 0 || cvalue < 0) {
		sw_warn("system parameters without their name and value "
			"columns, keeping the current ones");
		return;
	}

	bd_params_defaults(&v);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, cname);
		const char *value = PQgetvalue(res, i, cvalue);

		if (bd_params_set(&v, name, value) == EINVAL)
			sw_warn("system parameter %s: bad value '%s', using "
				"the default",
				name, value);
	}

	if (v.rate.fee_precision != p->cur.rate.fee_precision ||
	    v.rate.hold_precision_ms != p->cur.rate.hold_precision_ms ||
	    v.rate.free_time_s != p->cur.rate.free_time_s ||
	    v.record_zero_hold != p->cur.record_zero_hold)
		sw_info("billing parameters: fee precision %lld, hold time "
			"precision %lld ms, free time %lld s, record zero "
			"hold time %d",
			(long long)v.rate.fee_precision,
			(long long)v.rate.hold_precision_ms,
			(long long)v.rate.free_time_s, v.record_zero_hold);
	p->cur = v;
}

/* Start a reload now (no-op while one is running or the DB is down). */
void bd_params_refresh(struct bd_params *p)
{
	if (!p || p->loading)
		return;

	if (!bd_db_query(p->db, sql_params, 0, NULL, loaded_h, p))
		p->loading = true;
}

static void tick(void *arg)
{
	struct bd_params *p = arg;

	tmr_start(&p->tmr, BD_PARAMS_REFRESH_MS, tick, p);
	bd_params_refresh(p);
}

static void destructor(void *arg)
{
	struct bd_params *p = arg;

	tmr_cancel(&p->tmr);
}

/* Create the cache (defaults now) and schedule its loads; mem_deref frees. */
int bd_params_alloc(struct bd_params **pp, struct bd_db *db)
{
	struct bd_params *p;

	if (!pp || !db)
		return EINVAL;

	p = mem_zalloc(sizeof(*p), destructor);
	if (!p)
		return ENOMEM;

	p->db = db;
	(void)bd_db_prepare(db, sql_params); /* unprepared if it fails */
	bd_params_defaults(&p->cur);
	tmr_init(&p->tmr);
	tmr_start(&p->tmr, 0, tick, p);

	*pp = p;
	return 0;
}

/* The current values; never NULL for a valid cache. */
const struct bd_param_values *bd_params_get(const struct bd_params *p)
{
	return p ? &p->cur : NULL;
}
