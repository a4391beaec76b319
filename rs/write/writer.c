/* writer: see writer.h. */
#include "writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define REPLAY_CHUNK 5000

struct rs_writer {
	const rs_config_t *cfg;
	rs_store_t *store;
	journal_t *journal;
	rs_metrics_t *m;
	void (*notify)(void *);
	void *arg;

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	rs_item_t *head, *tail;   /* queue (mu) */
	rs_item_t *dhead, *dtail; /* done (mu) */
	int waiting;              /* writer sleeps on cv (mu) */
	int stopping;             /* (mu) */

	size_t inflight;          /* loop thread only */
	int db_up;                /* atomics: written by the writer, read anywhere */
	int journal_full;
	int finished;

	/* writer thread only */
	rs_row_t *rows;
	size_t cap_rows;
	journal_chunk_t chunk;
	int64_t next_retry_us;
	int full_logged;

	pthread_mutex_t err_mu;
	char last_err[256];       /* why the database was last declared down (err_mu) */
};

rs_item_t *writer_item_new(enum rs_kind kind, const char *id, const record_t *rec,
			   const char *body, size_t body_len, const char *receipt,
			   int64_t received_ms)
{
	size_t idlen = strlen(id) + 1;
	size_t rlen = receipt ? strlen(receipt) + 1 : 0;
	size_t reclen = kind == RS_KIND_CDR && rec ? sizeof(record_t) : 0;
	/* record_t first after the header keeps it aligned. */
	rs_item_t *it = malloc(sizeof(*it) + reclen + idlen + rlen + body_len + 1);
	if (!it)
		return NULL;
	char *p = (char *)(it + 1);
	memset(it, 0, sizeof(*it));
	it->row.kind = kind;
	if (reclen) {
		memcpy(p, rec, sizeof(record_t));
		it->row.rec = (record_t *)p;
		p += reclen;
	}
	memcpy(p, id, idlen);
	it->row.id = p;
	p += idlen;
	if (receipt) {
		memcpy(p, receipt, rlen);
		it->receipt = p;
		p += rlen;
	}
	memcpy(p, body, body_len);
	p[body_len] = 0;
	it->row.body = p;
	it->row.body_len = body_len;
	it->row.received_ms = received_ms;
	return it;
}

rs_writer_t *writer_new(const rs_config_t *cfg, rs_store_t *store, journal_t *journal,
			rs_metrics_t *metrics, void (*notify)(void *), void *arg)
{
	rs_writer_t *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = cfg;
	w->store = store;
	w->journal = journal;
	w->m = metrics;
	w->notify = notify;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->err_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	return w;
}

void writer_submit(rs_writer_t *w, rs_item_t *item)
{
	int wake;
	item->next = NULL;
	w->inflight++;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = item;
	else
		w->head = item;
	w->tail = item;
	wake = w->waiting;
	w->waiting = 0;
	pthread_mutex_unlock(&w->mu);
	if (wake)
		pthread_cond_signal(&w->cv);
}

rs_item_t *writer_take_done(rs_writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	rs_item_t *l = w->dhead;
	w->dhead = w->dtail = NULL;
	pthread_mutex_unlock(&w->mu);
	for (rs_item_t *i = l; i; i = i->next)
		w->inflight--;
	metric_set(w->m->queue, (double)w->inflight);
	return l;
}

size_t writer_inflight(const rs_writer_t *w)
{
	return w->inflight;
}

bool writer_db_up(const rs_writer_t *w)
{
	return __atomic_load_n(&w->db_up, __ATOMIC_RELAXED);
}

bool writer_journal_full(const rs_writer_t *w)
{
	return __atomic_load_n(&w->journal_full, __ATOMIC_RELAXED);
}

bool writer_finished(const rs_writer_t *w)
{
	return __atomic_load_n(&w->finished, __ATOMIC_ACQUIRE);
}

static void set_db_up(rs_writer_t *w, int up)
{
	if (up != __atomic_load_n(&w->db_up, __ATOMIC_RELAXED)) {
		if (up)
			log_info("database reachable");
		__atomic_store_n(&w->db_up, up, __ATOMIC_RELAXED);
	}
	metric_set(w->m->db_up, up);
}

static void update_journal_state(rs_writer_t *w)
{
	uint64_t bytes = journal_bytes(w->journal);
	int full = bytes >= (uint64_t)w->cfg->journal_max_bytes;
	__atomic_store_n(&w->journal_full, full, __ATOMIC_RELAXED);
	metric_set(w->m->journal_depth, (double)journal_depth(w->journal));
	metric_set(w->m->journal_bytes, (double)bytes);
	if (!full)
		w->full_logged = 0;
}

void writer_last_error(rs_writer_t *w, char *buf, size_t len)
{
	pthread_mutex_lock(&w->err_mu);
	snprintf(buf, len, "%s", w->last_err);
	pthread_mutex_unlock(&w->err_mu);
}

static void db_failed(rs_writer_t *w, const char *what, const char *err)
{
	pthread_mutex_lock(&w->err_mu);
	snprintf(w->last_err, sizeof(w->last_err), "%s: %s", what, err);
	pthread_mutex_unlock(&w->err_mu);
	if (__atomic_load_n(&w->db_up, __ATOMIC_RELAXED))
		log_error("%s: %s; journaling until the database is back", what, err);
	set_db_up(w, 0);
	w->next_retry_us = util_mono_us() + (int64_t)w->cfg->retry_ms * 1000;
}

static void maybe_reconnect(rs_writer_t *w)
{
	char err[512];
	if (writer_db_up(w) || util_mono_us() < w->next_retry_us)
		return;
	if (store_ping(w->store, err, sizeof(err)) == 0) {
		set_db_up(w, 1);
		return;
	}
	log_debug("database still unreachable: %s", err);
	w->next_retry_us = util_mono_us() + (int64_t)w->cfg->retry_ms * 1000;
}

/* Commit one chunk of the journal to the database, in journal order. */
static void replay_chunk(rs_writer_t *w)
{
	char err[512];
	size_t inserted;

	if (!writer_db_up(w) || journal_depth(w->journal) == 0)
		return;
	if (journal_read(w->journal, REPLAY_CHUNK, &w->chunk, err, sizeof(err))) {
		log_error("journal replay: %s", err);
		return;
	}
	if (w->chunk.entries == 0)
		return;
	if (store_insert_batch(w->store, w->chunk.rows, w->chunk.n, &inserted, err,
			       sizeof(err))) {
		db_failed(w, "journal replay", err);
		return;
	}
	metric_add(w->m->stored, inserted);
	metric_add(w->m->duplicates, w->chunk.n - inserted);
	metric_add(w->m->replayed, w->chunk.n);
	if (journal_consume(w->journal, &w->chunk, err, sizeof(err)))
		log_error("journal: %s", err);
	if (journal_depth(w->journal) == 0)
		log_info("journal replayed; writing to the database directly");
	update_journal_state(w);
}

/* Make one batch durable. Returns 1 when it is (database or journal), 0 when it has
 * to wait (database down and journal full). */
static int commit_batch(rs_writer_t *w, rs_item_t *batch, size_t n)
{
	char err[512];
	size_t inserted, i = 0;

	if (n > w->cap_rows) {
		rs_row_t *r = realloc(w->rows, n * sizeof(*r));
		if (!r)
			return 0;
		w->rows = r;
		w->cap_rows = n;
	}
	for (rs_item_t *it = batch; it && i < n; it = it->next)
		w->rows[i++] = it->row;

	if (writer_db_up(w)) {
		int64_t t0 = util_mono_us();
		if (store_insert_batch(w->store, w->rows, n, &inserted, err, sizeof(err)) ==
		    0) {
			int64_t us = util_mono_us() - t0;
			metric_observe(w->m->batch_seconds, us / 1e6);
			metric_set(w->m->batch_last, us / 1e6);
			__atomic_add_fetch(&w->m->batch_us_sum, (uint64_t)us, __ATOMIC_RELAXED);
			__atomic_add_fetch(&w->m->batch_n, 1, __ATOMIC_RELAXED);
			metric_observe(w->m->batch_size, (double)n);
			metric_add(w->m->stored, inserted);
			metric_add(w->m->duplicates, n - inserted);
			return 1;
		}
		db_failed(w, "database insert", err);
	}
	if (writer_journal_full(w)) {
		if (!w->full_logged)
			log_error("journal full (%llu bytes, limit %lld) and database down:"
				  " refusing new records",
				  (unsigned long long)journal_bytes(w->journal),
				  w->cfg->journal_max_bytes);
		w->full_logged = 1;
		return 0;
	}
	if (journal_append(w->journal, w->rows, n, err, sizeof(err))) {
		log_error("%s", err);
		return 0;
	}
	metric_add(w->m->journaled, n);
	update_journal_state(w);
	return 1;
}

static void hand_back(rs_writer_t *w, rs_item_t *batch, rs_item_t *last, int durable)
{
	for (rs_item_t *it = batch; it; it = it->next)
		it->durable = durable;
	pthread_mutex_lock(&w->mu);
	if (w->dtail)
		w->dtail->next = batch;
	else
		w->dhead = batch;
	w->dtail = last;
	pthread_mutex_unlock(&w->mu);
	w->notify(w->arg);
}

static void *writer_main(void *arg)
{
	rs_writer_t *w = arg;
	rs_item_t *held = NULL, *held_last = NULL; /* a batch waiting for room */
	size_t held_n = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !held && !w->stopping &&
		       !(writer_db_up(w) && journal_depth(w->journal) > 0)) {
			if (!writer_db_up(w)) {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_nsec += (long)w->cfg->retry_ms * 1000000L;
				ts.tv_sec += ts.tv_nsec / 1000000000L;
				ts.tv_nsec %= 1000000000L;
				w->waiting = 1;
				pthread_cond_timedwait(&w->cv, &w->mu, &ts);
				w->waiting = 0;
				break;
			}
			w->waiting = 1;
			pthread_cond_wait(&w->cv, &w->mu);
			w->waiting = 0;
		}
		rs_item_t *batch = held, *last = held_last;
		size_t n = held_n;
		if (!batch && w->head) {
			batch = w->head;
			last = batch;
			n = 1;
			while (last->next && n < (size_t)w->cfg->batch_max) {
				last = last->next;
				n++;
			}
			w->head = last->next;
			if (!w->head)
				w->tail = NULL;
			last->next = NULL;
		}
		int stopping = w->stopping;
		pthread_mutex_unlock(&w->mu);

		held = NULL;
		maybe_reconnect(w);
		if (!stopping)
			replay_chunk(w);
		if (batch) {
			if (commit_batch(w, batch, n)) {
				hand_back(w, batch, last, 1);
			} else if (stopping) {
				hand_back(w, batch, last, 0); /* never receipted */
			} else {
				held = batch;
				held_last = last;
				held_n = n;
				struct timespec ts = { 0, 1000000L * (w->cfg->retry_ms < 100
									       ? w->cfg->retry_ms
									       : 100) };
				nanosleep(&ts, NULL);
			}
		}
		pthread_mutex_lock(&w->mu);
		if (w->stopping && !w->head && !held)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	w->notify(w->arg);
	return NULL;
}

int writer_start(rs_writer_t *w, char *err, size_t errlen)
{
	char e[512];
	if (store_ping(w->store, e, sizeof(e)) == 0) {
		set_db_up(w, 1);
	} else {
		log_error("database unreachable at start: %s", e);
		db_failed(w, "database", e);
	}
	update_journal_state(w);
	if (journal_depth(w->journal))
		log_info("journal holds %llu records to replay",
			 (unsigned long long)journal_depth(w->journal));
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		snprintf(err, errlen, "writer: cannot start thread");
		return -1;
	}
	w->started = 1;
	return 0;
}

void writer_stop(rs_writer_t *w)
{
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_mutex_unlock(&w->mu);
	pthread_cond_signal(&w->cv);
}

void writer_free(rs_writer_t *w)
{
	if (!w)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	for (rs_item_t *l = w->head, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	for (rs_item_t *l = w->dhead, *n; l; l = n) {
		n = l->next;
		free(l);
	}
	journal_chunk_free(&w->chunk);
	free(w->rows);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->err_mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
