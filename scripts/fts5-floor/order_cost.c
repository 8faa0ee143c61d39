/* Newest-first (DESC) against oldest-first (ASC) walks in FTS5 (docs/performance.md, "Ninth
 * session"). For each query: the newest 10,000 matches DESC; a 256-row DESC probe; then the
 * same rows walked ASC as a rowid range, whole and its upper half. Same tokenizer stand-in and
 * arguments as aux_cost.c:
 *   gcc -O2 -o order_cost order_cost.c -lsqlite3
 *   ./order_cost /tmp/s1m.search.sqlite 30 '"企业"' '"个体 体工 工商 商户" AND facets:"xt4"' */
#include "stand_in.h"
int main(int argc, char **argv){
  sqlite3 *db; sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, 0);
  fts5_tokenizer tk={xCreate,xDelete,xTokenize}; api(db)->xCreateTokenizer(api(db),"tong_bigram",0,&tk,0);
  int reps=atoi(argv[2]);
  for(int a=3;a<argc;a++){
    sqlite3_stmt *d, *s, *asc;
    sqlite3_prepare_v2(db,"SELECT rowid FROM text_fts WHERE text_fts MATCH ?1 ORDER BY rowid DESC LIMIT 10000",-1,&d,0);
    sqlite3_prepare_v2(db,"SELECT rowid FROM text_fts WHERE text_fts MATCH ?1 ORDER BY rowid DESC LIMIT 256",-1,&s,0);
    sqlite3_prepare_v2(db,"SELECT rowid FROM text_fts WHERE text_fts MATCH ?1 AND rowid >= ?2 AND rowid < ?3 ORDER BY rowid ASC",-1,&asc,0);
    sqlite3_int64 lo=0, p=0; int n;
    sqlite3_bind_text(d,1,argv[a],-1,SQLITE_STATIC); while(sqlite3_step(d)==SQLITE_ROW) lo=sqlite3_column_int64(d,0); sqlite3_reset(d);
    double bd=1e9, bp=1e9, ba=1e9, ba2=1e9;
    for(int r=0;r<reps;r++){
      double t0=now(); n=0; while(sqlite3_step(d)==SQLITE_ROW) n++; sqlite3_reset(d); double t1=now(); if(t1-t0<bd) bd=t1-t0;
      t0=now(); sqlite3_bind_text(s,1,argv[a],-1,SQLITE_STATIC); while(sqlite3_step(s)==SQLITE_ROW) p=sqlite3_column_int64(s,0); sqlite3_reset(s); t1=now(); if(t1-t0<bp) bp=t1-t0;
      sqlite3_bind_text(asc,1,argv[a],-1,SQLITE_STATIC); sqlite3_bind_int64(asc,2,lo); sqlite3_bind_int64(asc,3,p);
      t0=now(); int m=0; while(sqlite3_step(asc)==SQLITE_ROW) m++; sqlite3_reset(asc); t1=now(); if(t1-t0<ba) ba=t1-t0;
      sqlite3_int64 mid=(lo+p)/2; sqlite3_bind_int64(asc,2,mid);
      t0=now(); while(sqlite3_step(asc)==SQLITE_ROW) m++; sqlite3_reset(asc); t1=now(); if(t1-t0<ba2) ba2=t1-t0;
    }
    printf("%-45s desc10k %.2f | probe256 %.2f + asc range %.2f (upper half %.2f)  lo %lld p %lld\n", argv[a], bd, bp, ba, ba2, lo, p);
  }
}
