/* What FTS5 itself costs for Tong's search queries, apart from Tong (docs/performance.md,
 * "Ninth session"). Opens a search index file (data/tong.search.sqlite, or the bench's
 * TONG_BENCH_SEARCH_DB with ".search" before ".sqlite") read-only with a stand-in tokenizer
 * that splits on spaces, so queries are written as the bigram tokens Tong's tokenizer makes:
 *   gcc -O2 -o aux_cost aux_cost.c -lsqlite3
 *   ./aux_cost /tmp/s1m.search.sqlite 30 1 '"企业"' '"个体 体工 工商 商户" AND facets:"xt4"'
 * (30 repetitions, best kept; 1 = the number of word phrases). Prints, for the newest 10,000
 * matches: mode -1 rowids only, mode 0 with an auxiliary function that reads only the rowid,
 * mode 1 that also walks each word phrase's positions (as tong_scan does), mode 2 that also
 * reads the row's size (xColumnSize, which tong_scan avoids). */
#include "stand_in.h"
static int MODE; static double sink; static int nph;
static void aux(const Fts5ExtensionApi *a, Fts5Context *f, sqlite3_context *ctx, int n, sqlite3_value **v){
  sqlite3_int64 r = a->xRowid(f); sink += r;
  if(MODE>=1){ int np = nph; for(int p=0;p<np;p++){ Fts5PhraseIter it; int c,o; a->xPhraseFirst(f,p,&it,&c,&o); while(c>=0){ sink+=c; a->xPhraseNext(f,&it,&c,&o);} } }
  if(MODE>=2){ int sz; a->xColumnSize(f,-1,&sz); sink+=sz; }
}
int main(int argc, char **argv){
  sqlite3 *db; sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, 0);
  fts5_api *p=api(db); fts5_tokenizer tk={xCreate,xDelete,xTokenize}; p->xCreateTokenizer(p,"tong_bigram",0,&tk,0);
  p->xCreateFunction(p,"tscan",0,aux,0);
  int reps=atoi(argv[2]);
  for(int a=4;a<argc;a++){
    nph = atoi(argv[3]);
    /* The four modes interleaved, repetition by repetition, so that a slow moment of the
     * machine falls on all of them alike; the best of each is kept. */
    sqlite3_stmt *st[4]; double best[4];
    for(int m=0;m<4;m++){
      sqlite3_prepare_v2(db, m==0 ? "SELECT rowid FROM text_fts WHERE text_fts MATCH ?1 ORDER BY rowid DESC LIMIT 10000"
        : "SELECT tscan(text_fts) FROM text_fts WHERE text_fts MATCH ?1 ORDER BY rowid DESC LIMIT 10000",-1,&st[m],0);
      sqlite3_bind_text(st[m],1,argv[a],-1,SQLITE_STATIC); best[m]=1e9;
    }
    for(int r=0;r<reps;r++) for(int m=0;m<4;m++){
      MODE = m-1;
      double t0=now(); while(sqlite3_step(st[m])==SQLITE_ROW); sqlite3_reset(st[m]); double t1=now();
      if(t1-t0<best[m]) best[m]=t1-t0;
    }
    for(int m=0;m<4;m++){ printf("%-45s mode %d: %.2f ms\n", argv[a], m-1, best[m]); sqlite3_finalize(st[m]); }
  }
}
