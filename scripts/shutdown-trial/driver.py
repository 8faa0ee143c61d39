#!/usr/bin/env python3
"""Shutdown-under-load trial: driver.py BINARY HOME CLIENTS RUNDIR [LOAD_SECONDS]

Starts BINARY serve --home HOME, loads it with CLIENTS keep-alive search clients,
measures /healthz under load, sends SIGTERM and records how the node shuts down.
"""
import http.client, json, os, random, re, signal, socket, subprocess, sys, threading, time
from urllib.parse import quote

binary, home, clients, rundir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
load_s = float(sys.argv[5]) if len(sys.argv) > 5 else 8.0
TIMEOUT = 5.0           # every HTTP call
KILL_AFTER = 60.0       # SIGKILL if not exited this long after SIGTERM

m = re.search(r'^http\s*=\s*"([^"]+):(\d+)"', open(os.path.join(home, "node.toml")).read(), re.M)
HOST, PORT = m.group(1), int(m.group(2))

WORDS = ["企业", "社保", "补贴", "租金", "减免", "贷款", "小微企业", "个体工商户", "增值税", "稳岗",
         "复工", "缓缴", "融资", "贴息", "就业", "房租", "普惠", "失业保险", "创业", "餐饮"]
THEMES = ["resume_work", "stabilize_jobs", "finance_tax", "social_insurance", "rent_relief", "utilities", "other"]
REGIONS = ["330000", "330100", "330106"]

now = time.monotonic
log = open(os.path.join(rundir, "server.log"), "wb")
T_START = now()
srv = subprocess.Popen([binary, "serve", "--home", home], stdout=log, stderr=subprocess.STDOUT)
open(os.path.join(rundir, "server.pid"), "w").write(str(srv.pid))


def get_fresh(path, timeout=TIMEOUT):
    """New TCP connection + GET; returns (status or error string, seconds)."""
    t = now()
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse(); r.read()
        return r.status, now() - t
    except Exception as e:
        return type(e).__name__, now() - t
    finally:
        c.close()


# --- wait for /healthz -----------------------------------------------------
deadline = now() + 120
while True:
    if srv.poll() is not None:
        print(f"server exited early with code {srv.returncode}; see {rundir}/server.log"); sys.exit(1)
    st, _ = get_fresh("/healthz", 1.0)
    if st == 200: break
    if now() > deadline:
        srv.kill(); srv.wait(); print("server did not answer /healthz within 120 s"); sys.exit(1)
    time.sleep(0.1)
ready_s = now() - T_START

# --- load ---------------------------------------------------------------------
stop = threading.Event()
records = []   # (t_start, t_end, status|error, thread)
rec_lock = threading.Lock()


def client(idx):
    rnd = random.Random(idx)
    conn = None
    mine = []
    while not stop.is_set():
        q = rnd.choice(WORDS)
        path = f"/api/v1/policies?q={quote(q)}&limit=20"
        x = rnd.random()
        if x < 0.1: path += "&theme=" + rnd.choice(THEMES)
        elif x < 0.2: path += "&region=" + rnd.choice(REGIONS)
        if conn is None:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT)
        t = now()
        try:
            conn.request("GET", path)
            r = conn.getresponse(); r.read()
            st = r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close(); conn = None
        except Exception as e:
            st = type(e).__name__
            try: conn.close()
            except Exception: pass
            conn = None
        mine.append((t, now(), st, idx))
        if not isinstance(st, int):
            time.sleep(0.02)   # do not spin on a refused port
    if conn is not None: conn.close()
    with rec_lock: records.extend(mine)


threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
t_load = now()
for th in threads: th.start()
time.sleep(load_s)

health = [get_fresh("/healthz") for _ in range(5)]

# --- SIGTERM -----------------------------------------------------------------
probes = []    # (t_rel, status|error, seconds)
probe_lock = threading.Lock()
probe_stop = threading.Event()


def probe_one(t_sig):
    t = now() - t_sig
    st, d = get_fresh("/healthz", 2.0)
    with probe_lock: probes.append((t, st, d))


def prober(t_sig):
    k = 0
    while not probe_stop.is_set():
        threading.Thread(target=probe_one, args=(t_sig,), daemon=True).start()
        k += 1
        time.sleep(max(0.0, t_sig + k * 0.1 - now()))


t_sig = now()
srv.send_signal(signal.SIGTERM)
pt = threading.Thread(target=prober, args=(t_sig,), daemon=True); pt.start()
killed = False
try:
    code = srv.wait(timeout=KILL_AFTER)
except subprocess.TimeoutExpired:
    killed = True
    srv.kill(); code = srv.wait()
t_exit = now() - t_sig
time.sleep(1.0)            # let clients and probes see the closed port
stop.set(); probe_stop.set()
for th in threads: th.join(TIMEOUT + 1)
pt.join(); time.sleep(2.2)  # outstanding probes time out at 2 s

# --- summary -----------------------------------------------------------------
def pct(xs, p):
    if not xs: return float("nan")
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

before = [r for r in records if r[1] <= t_sig]
ok_before = [r[1] - r[0] for r in before if r[2] == 200]
st_before = {}
for r in before: st_before[str(r[2])] = st_before.get(str(r[2]), 0) + 1
after = [r for r in records if r[1] > t_sig]
st_after = {}
for r in after: st_after[str(r[2])] = st_after.get(str(r[2]), 0) + 1
ok_after = [r for r in after if r[2] == 200]
last_ok = max((r[1] - t_sig for r in ok_after), default=None)
inflight = [r for r in after if r[0] <= t_sig]
inflight_st = {}
for r in inflight: inflight_st[str(r[2])] = inflight_st.get(str(r[2]), 0) + 1
started_after_ok = [r for r in ok_after if r[0] > t_sig]
last_started_ok = max((r[0] - t_sig for r in started_after_ok), default=None)

probes.sort()
runs = []  # compress probe log into runs of equal outcome
for t, st, d in probes:
    if runs and runs[-1][2] == str(st): runs[-1][1] = t; runs[-1][3] += 1
    else: runs.append([t, t, str(st), 1])
probe_ok = [p for p in probes if p[1] == 200]
probe_bad = [p for p in probes if p[1] != 200]

span = max(1e-9, t_sig - t_load)
f = lambda x: "none" if x is None else f"{x:.3f}s"
out = []
out.append(f"binary={binary} clients={clients} rundir={rundir} ready_after={ready_s:.2f}s load={span:.2f}s ({load_s:g} s + the healthz checks)")
out.append(f"requests before SIGTERM: {len(before)} ({len(before)/span:.0f}/s) statuses={st_before}")
out.append(f"search latency (200s) p50={pct(ok_before,50)*1000:.1f}ms p99={pct(ok_before,99)*1000:.1f}ms max={max(ok_before, default=0)*1000:.1f}ms")
out.append("healthz under load (fresh conn): " + ", ".join(
    f"{d*1000:.1f}ms" if st == 200 else f"{st}@{d*1000:.0f}ms" for st, d in health))
out.append(f"SIGTERM -> exit: {t_exit:.3f}s, exit code {code}" + (" (SIGKILLed after 60 s!)" if killed else ""))
out.append(f"in flight at SIGTERM: {len(inflight)} -> {inflight_st}")
pre_exit = {}
for r in after:
    if r[1] - t_sig <= t_exit: pre_exit[str(r[2])] = pre_exit.get(str(r[2]), 0) + 1
out.append(f"client requests finishing between SIGTERM and exit: {sum(pre_exit.values())} statuses={pre_exit}; "
           f"after exit (clients retry 20ms apart for 1 s): {len(after) - sum(pre_exit.values())}")
out.append(f"last 200 after SIGTERM (completion): {f(last_ok)}; 200s for requests started after SIGTERM: "
           f"{len(started_after_ok)}, last started at {f(last_started_ok)}")
out.append(f"new-conn /healthz probes every 100ms: {len(probe_ok)} ok, {len(probe_bad)} failed; "
           f"last ok at {f(max((p[0] for p in probe_ok), default=None))}, "
           f"first failure at {f(min((p[0] for p in probe_bad), default=None))}")
out.append("probe runs: " + "; ".join(f"{a:.1f}-{b:.1f}s {st} x{n}" for a, b, st, n in runs))
txt = "\n".join(out)
print(txt)
open(os.path.join(rundir, "summary.txt"), "w").write(txt + "\n")
with open(os.path.join(rundir, "records.json"), "w") as fh:
    json.dump({"t_sig": t_sig, "t_load": t_load, "records": [[a - t_sig, b - t_sig, str(s), i] for a, b, s, i in records],
               "probes": [[t, str(s), d] for t, s, d in probes], "exit": code, "exit_s": t_exit, "killed": killed}, fh)
