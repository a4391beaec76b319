/* route_health: the K/M rule of an MCP's OPTIONS results (contract in route.h). Out
 * of route.c, which it shares nothing private with, to keep that file under 800
 * lines. */
#include "route.h"

int route_health(struct route_mcp *m, bool ok, int64_t rtt_us, int k_down, int m_up)
{
	if (!m || m->retired)
		return 0;
	if (!m->probed) {
		/* The first result decides: no K/M hysteresis for what was never seen. */
		m->probed = true;
		m->ok_streak = ok;
		m->fail_streak = !ok;
		if (ok)
			m->last_rtt_us = rtt_us;
		m->up = ok;
		return ok ? 1 : -1;
	}
	if (ok) {
		m->fail_streak = 0;
		m->ok_streak++;
		m->last_rtt_us = rtt_us;
		if (!m->up && m->ok_streak >= m_up) {
			m->up = true;
			return 1;
		}
	} else {
		m->ok_streak = 0;
		m->fail_streak++;
		if (m->up && m->fail_streak >= k_down) {
			m->up = false;
			return -1;
		}
	}
	return 0;
}
