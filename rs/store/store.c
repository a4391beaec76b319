/* store: dispatch to the backend the config chose. */
#include "store.h"

rs_store_t *store_open(const rs_config_t *cfg, char *err, size_t errlen)
{
	if (cfg->backend == RS_BACKEND_POSTGRESQL)
		return store_pg_open(cfg, err, errlen);
	return store_sqlite_open(cfg, err, errlen);
}

int store_migrate(rs_store_t *s, char *err, size_t errlen)
{
	return s->ops->migrate(s, err, errlen);
}

int store_insert_batch(rs_store_t *s, const rs_row_t *rows, size_t n, size_t *inserted,
		       char *err, size_t errlen)
{
	*inserted = 0;
	if (n == 0)
		return 0;
	return s->ops->insert_batch(s, rows, n, inserted, err, errlen);
}

int store_ping(rs_store_t *s, char *err, size_t errlen)
{
	return s->ops->ping(s, err, errlen);
}

int store_quarantine(rs_store_t *s, const rs_row_t *row, const char *why, char *err,
		     size_t errlen)
{
	return s->ops->quarantine(s, row, why, err, errlen);
}

void store_close(rs_store_t *s)
{
	if (s)
		s->ops->close(s);
}
