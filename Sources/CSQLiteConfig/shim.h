// sqlite3_config() is variadic, so Swift cannot call it; this header wraps the one call Tong
// makes. It declares the function itself instead of including <sqlite3.h>, which GRDB's own
// module already includes (two modules that both include it would define every SQLite type twice).
//
// SQLITE_CONFIG_MEMSTATUS (9), from https://sqlite.org/c3ref/c_config_covering_index_scan.html:
// with memory statistics on (Debian's default), every sqlite3_malloc() and sqlite3_free() takes
// one process-wide mutex, which two threads walking full-text doclists at once fight over.
// Tong reads no memory statistics (sqlite3_memory_used() and friends then report nothing).
#ifndef TONG_SQLITE_CONFIG_SHIM_H
#define TONG_SQLITE_CONFIG_SHIM_H

int sqlite3_config(int, ...);

/// Turns SQLite's memory statistics off. Only takes effect before SQLite initializes (the first
/// connection opened in the process): returns SQLITE_OK (0) then, SQLITE_MISUSE (21) after.
static inline int tong_sqlite3_disable_memstatus(void) {
    return sqlite3_config(9 /* SQLITE_CONFIG_MEMSTATUS */, 0);
}

#endif
