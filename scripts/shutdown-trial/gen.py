#!/usr/bin/env python3
# gen.py N OUT : synthetic JSON-lines policies for node 330000
import json, random, sys
n = int(sys.argv[1]); out = sys.argv[2]
rnd = random.Random(20240601)
VOCAB = ["企业","社保","补贴","租金","减免","贷款","小微企业","个体工商户","增值税","稳岗","复工","复产",
  "缓缴","返还","融资","担保","贴息","水电气","优惠","就业","培训","招工","税费","延期","申报","纳税人",
  "房租","国有","物业","减半","普惠","金融","信贷","利率","首贷","续贷","失业保险","养老保险","医疗保险",
  "阶段性","政策","支持","服务","办理","审批","线上","窗口","材料","条件","标准","额度","资金","财政",
  "专项","奖励","扶持","创业","吸纳","高校毕业生","农民工","困难","行业","餐饮","住宿","零售","旅游",
  "运输","制造业","科技型","数字化","转型","防疫","经营","现金流","成本","降低","保障","落实"]
PUNCT = ["，","，","，","。","、","；"]
DEPTS = ["330000-hrss","330000-dof","330000-amr"]
REGIONS = ["330000","330000","330100","330106","330200","330300"]
THEMES = ["resume_work","stabilize_jobs","finance_tax","social_insurance","rent_relief","utilities","other"]
AUD = ["micro","small","individual","medium"]
def text(lo, hi):
    target = rnd.randint(lo, hi); s = ""
    while len(s) < target:
        s += rnd.choice(VOCAB)
        if rnd.random() < 0.25: s += rnd.choice(PUNCT)
    return s[:target].rstrip("，、；") + "。"
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        y = rnd.randint(2019, 2024); m = rnd.randint(1, 12); d = rnd.randint(1, 28)
        title = "浙江省关于" + "".join(rnd.choice(VOCAB) for _ in range(rnd.randint(3, 6))) + "的通知"
        p = {"title": title, "doc_number": f"浙政办发〔{y}〕{i % 1000 + 1}号",
             "department": rnd.choice(DEPTS), "region": rnd.choice(REGIONS),
             "issued_on": f"{y}-{m:02d}-{d:02d}", "effective_from": f"{y}-{m:02d}-{d:02d}",
             "themes": rnd.sample(THEMES, rnd.randint(1, 2)),
             "tags": rnd.sample(VOCAB, 2), "audiences": rnd.sample(AUD, rnd.randint(1, 3)),
             "body": text(150, 400), "source_url": f"https://www.zj.gov.cn/policy/{i}"}
        f.write(json.dumps(p, ensure_ascii=False) + "\n")
