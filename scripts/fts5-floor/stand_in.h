/* Shared by aux_cost.c and order_cost.c: a stand-in for Tong's tokenizer that splits on spaces
 * (queries are written as the bigram tokens the index holds), the FTS5 API and a clock (ms). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
static int xCreate(void *p, const char **a, int n, Fts5Tokenizer **pp){ *pp=(Fts5Tokenizer*)malloc(8); return SQLITE_OK; }
static void xDelete(Fts5Tokenizer *p){ free(p); }
static int xTokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *s, int n,
  int (*cb)(void*, int, const char*, int, int, int)){
  int i=0; while(i<n){ while(i<n && s[i]==' ') i++; int j=i; while(j<n && s[j]!=' ') j++; if(j>i){ int rc=cb(ctx,0,s+i,j-i,i,j); if(rc) return rc;} i=j; }
  return SQLITE_OK; }
static fts5_api *api(sqlite3 *db){ fts5_api *p=0; sqlite3_stmt *st; sqlite3_prepare_v2(db,"SELECT fts5(?1)",-1,&st,0); sqlite3_bind_pointer(st,1,(void*)&p,"fts5_api_ptr",0); sqlite3_step(st); sqlite3_finalize(st); return p; }
static double now(){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e3+t.tv_nsec/1e6; }
