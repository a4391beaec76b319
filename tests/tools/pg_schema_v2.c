/* pg_schema_v2: print the PostgreSQL schema rs wrote at version 2 (an unpartitioned cdr
 * with id as primary key, and the rollups), for tests that make an old database and
 * let the current rs migrate it. The macros are the ones version 2 was made of. */
#include <stdio.h>

#include "../../rs/store/store_schema.h" /* the tools rule has no rs include path */

int main(void)
{
	fputs(STORE_SCHEMA_V1("BIGINT", "JSON") STORE_ROLLUP_DDL("BIGINT", "TEXT COLLATE \"C\"", "")
	      "CREATE TABLE rs_schema (version INTEGER NOT NULL);"
	      "INSERT INTO rs_schema VALUES (2);\n",
	      stdout);
	return 0;
}
