"""Compare quote-scoring rules on a QA dev set: does the chosen sentence (or pair) contain an answer?

Scores each question's gold passage only, so it measures quote choice apart from retrieval. Dev sets only.

    .venv/bin/python scripts/tune_quotes.py dev 1.0     # CMRC2018 split, penalty for two-sentence quotes
"""
import json, sys, re
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'src'))
from qa.ingest.chunk import split_sentences
import numpy as np
from qa.evaluate import normalise
from qa.search.bm25 import BM25, Postings
from qa.search.tokens import tokenize
base=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'cmrc2018') + '/'
split=sys.argv[1] if len(sys.argv)>1 else 'dev'
P={}
for l in open(base+f'{split}_passages.jsonl'):
    r=json.loads(l); P[r['id']]=r['text']
Q=[json.loads(l) for l in open(base+f'{split}_queries.jsonl')]
ids=list(P)
kw=BM25([(Postings.build([tokenize(P[i]) for i in ids]), 0)], np.ones(len(ids), dtype=bool))
sent_cache={}
def sents(pid):
    if pid not in sent_cache:
        t=P[pid]; sp=split_sentences(t)
        sent_cache[pid]=[(s.start,s.end,tokenize(t[s.start:s.end])) for s in sp]
    return sent_cache[pid]
NUMQ=re.compile(r'多少|几|哪一?年|何时|什么时候|多长|多大|多高|多远|多久|第几|数量|人口|面积')
NUM=re.compile(r'[0-9０-９一二三四五六七八九十百千万亿两]')
def score_bm25(qt, st, idf, avg, b):
    norm=1.2*(1-b+b*len(st)/avg); s=0
    for t in set(qt):
        tf=st.count(t)
        if tf: s+=idf.get(t,0)*tf*2.2/(tf+norm)
    return s
def cover(qt, st, idf):
    ss=set(st); return sum(idf.get(t,0) for t in set(qt) if t in ss)
def bigr(q, text):
    g={q[i:i+2] for i in range(len(q)-1)}
    return len(g & {text[j:j+2] for j in range(len(text)-1)})
def pick(q, pid, variant):
    qt=tokenize(q['question']); idf={t:kw.idf(t) for t in set(qt)}
    S=sents(pid); t=P[pid]
    if not S: return t
    avg=sum(len(s[2]) for s in S)/len(S) or 1
    best=None;bs=-1
    cands=[(i,i) for i in range(len(S))]
    if variant.endswith('pair'): cands+=[(i,i+1) for i in range(len(S)-1)]
    for a,b_ in cands:
        st=[x for k in range(a,b_+1) for x in S[k][2]]
        text=t[S[a][0]:S[b_][1]]
        if variant.startswith('bm25'): sc=score_bm25(qt,st,idf,avg,0.75)
        elif variant.startswith('b03'): sc=score_bm25(qt,st,idf,avg,0.3)
        else:
            sc=cover(qt,st,idf)
            if 'bi' in variant: sc+=0.05*bigr(q['question'],text)
            if 'num' in variant and NUMQ.search(q['question']) and NUM.search(text): sc+=0.3
        if b_>a: sc-= PAIRPEN
        if sc>bs: best,bs=(a,b_),sc
    return t[S[best[0]][0]:S[best[1]][1]]
PAIRPEN=float(sys.argv[2]) if len(sys.argv)>2 else 0.5
for variant in ['bm25','b03','cover','cover_bi','cover_bi_num','cover_bi_num_pair']:
    ok=0; L=0
    for q in Q:
        pid=q['gold_passage_ids'][0]
        quote=pick(q,pid,variant); L+=len(quote)
        ok+= any(normalise(a) in normalise(quote) for a in q['answers'])
    print(split, variant, round(ok/len(Q),4), 'avg len', round(L/len(Q),1), flush=True)
