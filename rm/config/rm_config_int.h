/*
 * rm_config_int: what the files of rm/config/ share to load rm's configuration.
 * Internal to rm/config/ (prefix rmc_): everything else includes rm_config.h, the
 * one public contract.
 *
 * Every loader reads one section of the parsed tree root into cfg, filling defaults
 * for absent keys, and returns 0, or -1 with the error (file, key, reason) recorded
 * in c. Arrays they allocate belong to cfg and are freed by rm_config_free, also when
 * a later check fails. rm_config.c calls them in the order load_root lists.
 */
#ifndef RM_CONFIG_INT_H
#define RM_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "rm_config.h"

/* NULL-terminated names of the enums, in enum order (rm_config.c). */
extern const char *const rmc_scheme_names[];
extern const char *const rmc_refuse_names[];
extern const char *const rmc_billing_names[];
extern const char *const rmc_level_names[];

/* ---- value readers (rm_config_read.c) ---- */

/* out = `kind "name"`, the place an error names (e.g. lrg "ivr"). */
void rmc_where_fmt(char *out, size_t len, const char *kind, const char *name);
/* "sip:..." or "sips:..." with something after the scheme. */
bool rmc_is_sip_uri(const char *s);
/* A required, non-empty name of at most RM_NAME_MAX - 1 characters into out. */
int rmc_read_name(cfg_ctx_t *c, const cJSON *o, const char *where, const char *key,
		  char *out);
/* An array of strings into *out, a malloc'd array of n slots of slot bytes each
 * (the caller frees *out, also on -1). Absent: one entry def, or none if def is NULL. */
int rmc_read_str_list(cfg_ctx_t *c, const cJSON *obj, const char *where, const char *key,
		      const char *def, size_t slot, char **out, size_t *n);
/* owner.limits {l1, l2, l3} (all 0 when absent), with l1 <= l2 <= l3. */
int rmc_read_limits(cfg_ctx_t *c, const cJSON *owner, const char *where,
		    struct rm_limits *l);

/* ---- section loaders ---- */

int rmc_load_sip(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg); /* rm_config_sip.c */

/* rm_config_callmodel.c; tenants before profiles: a profile may add its tenant
 * (*tcap is the tenants array's capacity, shared by the two). */
int rmc_load_lrgs(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_tenants(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg, size_t *tcap);
int rmc_load_profiles(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg, size_t *tcap);
int rmc_load_dnis(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);

/* rm_config_policy.c; overload after reject (it changes one reject default). */
int rmc_load_reject(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_failover(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_overload(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_misc(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);

/* rm_config_services.c */
int rmc_load_billing(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_cluster(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);
int rmc_load_snmp(cfg_ctx_t *c, const cJSON *root, struct rm_config *cfg);

/* rm_config_env.c: RM_NODE_NAME and POD_IP, after every section. */
int rmc_apply_env(cfg_ctx_t *c, struct rm_config *cfg);

#endif
