#!/usr/bin/python3
"""onepass-prep end to end on a generated sessions folder (2 sessions x 2
cameras, two skeletons mapped onto one, a betas CSV): sample counts and
keypoints of the HDF5 and tar datasets against the label files (h5py,
tarfile), per-source attributes, the refusal to merge unmapped
skeletons, failure isolation, skip on rerun, kill -9 then rerun equal to
an uninterrupted run, --task shares merged equal to one run, the inputs
(CSV, label file, duplicate names), --dry-run, --report."""
import gzip
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import prep_fixtures as fx  # noqa: E402
import prep_read  # noqa: E402

TOOL = os.environ.get("ONEPASS_PREP_TOOL") or os.path.join(
    os.environ["ONEPASS_BUILD_ROOT"], "tools", "onepass-prep", "onepass-prep")
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def prep(*args, check=True, timeout=300):
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        fail("onepass-prep %s: exit %d\n%s%s" % (" ".join(map(str, args)), p.returncode,
                                                  p.stdout, p.stderr))
    return p


def expected(src):
    """{(source, frame): mapped keypoints} straight from the fixtures."""
    want = {}
    for source, (nodes, truth) in src.items():
        for fr, kps in truth.items():
            want[(source, fr)] = np.array(fx.mapped(kps, nodes), dtype=np.float32)
    return want


def compare(name, got, want):
    if sorted(got) != sorted(want):
        fail("%s: samples %d, want %d; missing %s extra %s" % (
            name, len(got), len(want), sorted(set(want) - set(got))[:5],
            sorted(set(got) - set(want))[:5]))
        return
    for k in want:
        if got[k].shape != want[k].shape or not np.array_equal(got[k], want[k], equal_nan=True):
            fail("%s: %s keypoints %s, want %s" % (name, k, got[k].tolist(), want[k].tolist()))
            return


def check_hdf5(tmp, src, common):
    out = os.path.join(tmp, "h5")
    rep = os.path.join(tmp, "report.json")
    p = prep("sess", "-o", out, "--format", "hdf5", "--jobs", 2, "--report", rep, *common)
    if p.returncode:
        return
    compare("hdf5", prep_read.keypoints_by_frame(out), expected(src))
    # the one file h5py opens as one dataset (virtual datasets)
    kps, attrs, rows = prep_read.merged_hdf5(os.path.join(out, "dataset.h5"))
    compare("hdf5 dataset.h5", kps, expected(src))
    if rows != sum(len(t) for _, t in src.values()):
        fail("dataset.h5: %d rows" % rows)
    if attrs != {s: fx.betas(s) for s in src}:
        fail("dataset.h5 attributes %s" % attrs)
    ds = json.load(open(os.path.join(out, "dataset.json")))
    if ds["skeleton"] is None or ds["skeleton"]["nodes"] != fx.TARGET:
        fail("hdf5 dataset.json skeleton %s" % ds["skeleton"])
    for sh in ds["shards"]:
        with h5py.File(os.path.join(out, sh["path"]), "r") as f:
            name = f["sources"].asstr()[0]
            got = [f["attributes/beta%d" % i][0] for i in range(3)]
            if got != fx.betas(name):
                fail("%s: betas %s, want %s" % (sh["path"], got, fx.betas(name)))
    r = json.load(open(rep))
    n = sum(len(t) for _, t in src.values())
    if r["total"]["samples"] != n or r["total"]["failed"] != 0 or len(r["videos"]) != 4:
        fail("report totals %s, want %d samples" % (r["total"], n))
    for v in r["videos"]:
        # every frame up to the last labeled one is decoded; the tail may
        # not be (annotfilter ends the stream). annotfilter's skipped count
        # can include a frame already in the decoder, so it is not checked
        # to sum exactly to the frame count
        last = max(src[v["source"]][1]) + 1
        if not last <= v["frames_decoded"] <= fx.FRAMES or v["bytes"] <= 0 \
                or v["frames_decoded"] + v["frames_not_decoded"] < fx.FRAMES:
            fail("report video %s: decoded %d, not decoded %d, %d frames, last labeled %d" % (
                v["source"], v["frames_decoded"], v["frames_not_decoded"], fx.FRAMES, last - 1))
    if "[4/4]" not in p.stderr:
        fail("no plain progress lines without a terminal: %r" % p.stderr)
    # a rerun skips every complete video and changes nothing
    before = {f: os.stat(os.path.join(out, f)).st_mtime_ns for f in os.listdir(out)}
    p = prep("sess", "-o", out, "--format", "hdf5", *common)
    if p.stdout.count("skipped") < 4:
        fail("rerun did not skip the complete videos:\n" + p.stdout)
    after = {f: os.stat(os.path.join(out, f)).st_mtime_ns for f in os.listdir(out)
             if f not in ("dataset.json", "dataset.h5")}
    if any(before.get(f) != m for f, m in after.items()):
        fail("rerun touched files")


def check_tar(tmp, src, common):
    out = os.path.join(tmp, "tar")
    if prep("sess", "-o", out, "--jobs", 2, *common).returncode:
        return
    compare("tar", prep_read.keypoints_by_frame(out), expected(src))
    ds = json.load(open(os.path.join(out, "dataset.json")))
    for s in ds["sources"]:
        if s.get("attributes") != dict(zip(["beta0", "beta1", "beta2"], fx.betas(s["name"]))):
            fail("tar dataset.json source %s attributes %s" % (s["name"], s.get("attributes")))


def check_unmapped(tmp):
    out = os.path.join(tmp, "unmapped")
    p = prep("sess", "-o", out, check=False)
    msg = p.stdout + p.stderr
    if p.returncode == 0 or "nose" not in msg or "snout" not in msg or "--node-map" not in msg:
        fail("merging two skeletons without a map was not refused naming them: %s" % msg)


def check_failure_isolation(tmp):
    bad = os.path.join(tmp, "bad")
    for s, c in (("s1", "camA"), ("s1", "camB"), ("s2", "camA")):
        os.makedirs(os.path.join(bad, s), exist_ok=True)
        for ext in (".mp4", ".jsonl"):
            shutil.copy(os.path.join(tmp, "sess", s, c + ext), os.path.join(bad, s, c + ext))
    with open(os.path.join(bad, "s2", "camA.mp4"), "r+b") as f:
        f.truncate(2000)                      # a corrupt video
    with open(os.path.join(bad, "s1", "camB.jsonl"), "w") as f:
        f.write("not labels\n")              # a corrupt label file
    # GStreamer 1.22's decodebin can drop the truncated video's error (a
    # race, about one run in five): onepass-prep must still end that job
    # (errorwatch.c); a few more runs make a hang likely to show here
    for i in range(4):
        try:
            r = prep(bad, "-o", os.path.join(tmp, "bad-again-%d" % i), "--jobs", 2,
                     "--node-map", "map.csv", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            fail("onepass-prep hung on a truncated video (run %d)" % i)
            continue
        if r.returncode == 0 or "s2/camA.mp4" not in r.stdout + r.stderr:
            fail("run %d: the truncated video's failure was not reported" % i)
    out = os.path.join(tmp, "bad-out")
    p = prep(bad, "-o", out, "--jobs", 2, "--node-map", "map.csv", check=False)
    if p.returncode == 0:
        fail("failed videos gave exit status 0")
    rows = {line.split()[0]: line for line in p.stdout.splitlines()[1:-1]}
    if "ok" not in rows.get("s1_camA", "").split()[1:2]:
        fail("the good video did not finish: %s" % p.stdout)
    for s, what in (("s2_camA", "s2/camA.mp4"), ("s1_camB", "camB.jsonl")):
        if "failed" not in rows.get(s, "") or what not in rows.get(s, ""):
            fail("%s: summary does not say it failed naming %s: %s" % (s, what, rows.get(s)))
    got = prep_read.keypoints_by_frame(out)
    if sorted({k[0] for k in got}) != ["s1_camA"] or len(got) != len(fx.labeled_frames(0)):
        fail("isolation: samples %s" % sorted(got)[:5])


def check_memory(tmp):
    """--max-memory caps batchsink's queue: a quarter of each pipeline's
    share when below batchsink's 64 MiB; the default is Slurm's
    SLURM_MEM_PER_NODE (MB); 0 = no cap."""
    out = os.path.join(tmp, "mem")
    for args, env, want in ((["--max-memory", "64M", "--jobs", "2"], {}, "max-pending-bytes=8388608"),
                            (["--jobs", "1"], {"SLURM_MEM_PER_NODE": "100"},
                             "max-pending-bytes=26214400"),
                            (["--max-memory", "0"], {}, None)):
        p = subprocess.run([TOOL, "sess", "-o", out, "-n"] + args, capture_output=True, text=True,
                           env=dict(os.environ, **env))
        n = p.stdout.count("max-pending-bytes=")
        if (want and p.stdout.count(want) != 4) or (not want and n):
            fail("--max-memory %s %s: %s" % (args, env, p.stdout))


def check_warning(tmp):
    """A labeled frame past the video's end: the video succeeds, the
    summary and the report say so."""
    d = os.path.join(tmp, "warn", "s1")
    os.makedirs(d)
    shutil.copy(os.path.join(tmp, "sess/s1/camA.mp4"), d)
    shutil.copy(os.path.join(tmp, "sess/s1/camA.jsonl"), d)
    with open(os.path.join(d, "camA.jsonl"), "a") as f:
        f.write(json.dumps({"source": "camA", "frame_index": 500, "width": fx.W,
                            "height": fx.H, "instances": [
                                {"track": 0, "kind": "user",
                                 "keypoints": fx.keypoints(0, 500, 0, fx.SKELETON_A)}]}) + "\n")
    rep = os.path.join(tmp, "warn.json")
    p = prep(os.path.join(tmp, "warn"), "-o", os.path.join(tmp, "warn-out"), "--report", rep)
    row = [line for line in p.stdout.splitlines() if line.startswith("s1_camA")]
    w = json.load(open(rep))["videos"][0]["warning"]
    if not row or " ok " not in row[0] or "warning: annotfilter" not in row[0] or "500" not in (w or ""):
        fail("a missing labeled frame is not in the summary/report: %s / %s" % (row, w))


def check_jsonl_dir(tmp, src):
    """The JSON-only and loose-file formats: keypoints, counts, skip."""
    n = sum(len(t) for _, t in src.values())
    for fmt in ("jsonl", "dir"):
        out = os.path.join(tmp, fmt)
        if prep("sess", "-o", out, "--format", fmt, "--jobs", 2, "--node-map", "map.csv",
                timeout=120).returncode:
            continue
        got = {}
        for root, _, files in os.walk(out):
            for f in files:
                lines = []
                if f.endswith(".jsonl.gz"):
                    lines = gzip.open(os.path.join(root, f), "rt").read().splitlines()
                elif fmt == "dir" and f.endswith(".json") and f != "dataset.json" \
                        and not f.endswith(".manifest.json"):
                    lines = [open(os.path.join(root, f)).read()]
                for line in lines:
                    o = json.loads(line)
                    got[(o["source"], o["frame_index"])] = np.array(
                        [[[np.nan if v is None else v for v in kp] for kp in i["keypoints"]]
                         for i in o["instances"]], dtype=np.float32)
        compare(fmt, got, expected(src))
        p = prep("sess", "-o", out, "--format", fmt, "--node-map", "map.csv", timeout=120)
        if p.stdout.count("skipped") < 4 or len(got) != n:
            fail("%s: rerun did not skip (%s) or %d samples, want %d" % (fmt, p.stdout, len(got), n))


def check_tty(tmp):
    """On a terminal: one bar redrawn in place, no per-video lines."""
    master, slave = pty.openpty()
    p = subprocess.run([TOOL, "sess", "-o", os.path.join(tmp, "tty-out"), "--node-map", "map.csv"],
                       stdout=subprocess.DEVNULL, stderr=slave, timeout=120)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    err = err.decode()
    if p.returncode or "\r[####################] 4/4 videos" not in err or "[1/4]" in err \
            or " samples " not in err or "ETA 0:00:00" not in err:
        fail("no progress bar on a terminal: %r" % err[-300:])


def kill_mid_run(args, out, marker):
    """Starts onepass-prep and kills it -9 once `marker(out)` is true."""
    for _ in range(3):
        proc = subprocess.Popen([TOOL] + args, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None and not marker(out):
            time.sleep(0.002)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        subprocess.run(["rm", "-rf", out])
    return False


def check_kill(tmp, common):
    big = os.path.join(tmp, "big")
    fx.make_sessions(big, sessions=("s1", "s2", "s3"), frames=90)
    fx.write_betas(os.path.join(tmp, "betas-big.csv"),
                   [s + "_" + c for s in ("s1", "s2", "s3") for c in ("camA", "camB")])
    args = [big, "--jobs", "1", "--node-map", "map.csv",
            "--attributes", os.path.join(tmp, "betas-big.csv")]
    for fmt, extra, marker in (
            ("tar", ["--set", "batchsink.max-shard-samples=4"],
             lambda o: os.path.isdir(o) and sum(f.endswith(".tar") for f in os.listdir(o)) >= 9),
            ("hdf5", [],
             lambda o: os.path.isdir(o) and sum(f.endswith(".h5") for f in os.listdir(o)) >= 2)):
        ref = os.path.join(tmp, "ref-" + fmt)
        cut = os.path.join(tmp, "cut-" + fmt)
        if prep(*args, "-o", ref, "--format", fmt, *extra).returncode:
            continue
        if not kill_mid_run(args + ["-o", cut, "--format", fmt] + extra, cut, marker):
            fail("%s: onepass-prep finished before it could be killed" % fmt)
            continue
        left = [f for f in os.listdir(cut) if f.endswith(".partial")]
        manifests = [json.load(open(os.path.join(cut, f))) for f in os.listdir(cut)
                     if f.endswith(".manifest.json")]
        if all(m["complete"] for m in manifests) and len(manifests) == 6:
            fail("%s: the kill did not interrupt anything" % fmt)
        p = prep(*args, "-o", cut, "--format", fmt, *extra)
        if p.returncode:
            continue
        a, b = prep_read.samples(ref), prep_read.samples(cut)
        if not prep_read.same(a, b):
            fail("%s: after kill -9 + rerun the %d samples differ from the uninterrupted "
                 "run's %d" % (fmt, len(b), len(a)))
        print("%s: killed with %d .partial, %d manifests; rerun equals the uninterrupted run "
              "(%d samples)" % (fmt, len(left), len(manifests), len(b)))


def check_tasks(tmp, common):
    """Three --task shares into one folder, then --merge: equal to one run."""
    out = os.path.join(tmp, "tasks")
    shares = []
    for i in range(3):
        p = prep("sess", "-o", out, "--task", "%d/3" % i, *common)
        shares.append(p.stdout.count(" ok "))
    if sorted(shares) != [1, 1, 2]:
        fail("--task shares ran %s videos, want 1, 1, 2" % shares)
    prep("--merge", out)
    a, b = prep_read.samples(os.path.join(tmp, "tar")), prep_read.samples(out)
    if not prep_read.same(a, b):
        fail("--task 3 shares + --merge differ from one run")
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="3",
               SLURM_ARRAY_TASK_MIN="1")
    p = subprocess.run([TOOL, "sess", "-o", os.path.join(tmp, "x"), "-n"], env=env,
                       capture_output=True, text=True)
    if "# task 1/3" not in p.stdout:
        fail("SLURM_ARRAY_TASK_ID=2 (min 1, count 3) is not task 1/3: %s" % p.stdout)


def check_inputs(tmp):
    csv = os.path.join(tmp, "list.csv")
    with open(csv, "w") as f:
        f.write("video,labels,source\n")
        f.write("sess/s1/camA.mp4,sess/s1/camA.jsonl,first\n")
        f.write("%s,%s\n" % (os.path.join(tmp, "sess/s2/camB.mp4"), "sess/s2/camB.jsonl"))
    p = prep(csv, "-o", os.path.join(tmp, "csv-out"), "-n")
    if "'source=first'" not in p.stdout or "'source=camB'" not in p.stdout:
        fail("CSV input: %s" % p.stdout)
    p = prep("sess/s1/camA.jsonl", "-o", os.path.join(tmp, "lab-out"), "-n")
    if "sess/s1/camA.mp4" not in p.stdout or "'source=camA'" not in p.stdout:
        fail("label-file input: %s" % p.stdout)
    p = prep("sess/s1/camA.jsonl", "sess/s2/camA.jsonl", "-o", os.path.join(tmp, "dup"), check=False)
    if p.returncode != 2 or "both get the source name \"camA\"" not in p.stderr:
        fail("duplicate source names not refused: %s" % p.stderr)
    if os.path.exists(os.path.join(tmp, "csv-out")) or os.path.exists(os.path.join(tmp, "dup")):
        fail("--dry-run or a refused plan created the output folder")
    p = prep("sess", "-o", os.path.join(tmp, "y"), "--set", "nosuch.prop=1", check=False)
    if p.returncode != 2 or "batchsink" not in p.stderr:
        fail("--set on an unknown element not refused listing the elements: %s" % p.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        src = fx.make_sessions("sess")
        fx.write_node_map("map.csv")
        fx.write_betas("betas.csv", list(src))
        common = ["--node-map", "map.csv", "--attributes", "betas.csv"]
        check_hdf5(tmp, src, common)
        check_tar(tmp, src, common)
        check_unmapped(tmp)
        check_failure_isolation(tmp)
        check_inputs(tmp)
        check_warning(tmp)
        check_memory(tmp)
        check_tty(tmp)
        check_jsonl_dir(tmp, src)
        check_tasks(tmp, common)
        check_kill(tmp, common)
        os.chdir("/")
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
