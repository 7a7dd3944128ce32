#!/usr/bin/python3
"""HDF5 label files are parsed in a child process (ext/labels/isolate.c);
text ones (JSON lines, COCO, MOT, DeepLabCut CSV) in the process.

What a user would check:
- the labels the pipeline gets through the loader are exactly those read in
  the process (onepass-labels prints the same JSON lines both ways, on the
  shipped SLEAP and analysis files and on JSON-lines and MOT files made
  here);
- a reader that hangs (here: a named pipe nobody writes, which blocks the
  reader's open the way a looping libhdf5 blocks it) is an error naming the
  file after ONEPASS_LABEL_LOAD_TIMEOUT seconds, for annotfilter in
  gst-launch-1.0 and for onepass-labels, instead of a hang;
- a reader killed by a signal (a stand-in loader that dies of SIGSEGV, as
  libhdf5 does on some damaged files) is an error naming the file and the
  signal, and the pipeline process survives to report it;
- a loader that returns garbage is refused ("inconsistent"), never used;
- real files that crash libhdf5 (tests/data/damaged/crash/) are errors
  naming them, for onepass-labels and annotfilter;
- text label files never reach the loader (a crashing stand-in loader does
  not touch them), HDF5 ones always do.
"""
import glob
import os
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("ONEPASS_BUILD_ROOT", "build")
TOOL = os.environ.get("ONEPASS_LABELS_TOOL",
                      os.path.join(BUILD, "tools", "onepass-labels"))
DATA = os.environ.get("ONEPASS_TEST_DATA", "tests/data")
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "..", "shared", "data", "sleap")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def tool(path, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([TOOL, path], capture_output=True, text=True, env=e,
                       timeout=timeout)
    return p, time.monotonic() - t0


def label_files(tmp):
    # two text formats made here: onepass JSON lines (what onepass-labels
    # prints) and MOT text
    jsonl = os.path.join(tmp, "typical.jsonl")
    with open(jsonl, "w") as f:
        f.write(tool(os.path.join(DATA, "sleap", "typical.slp"))[0].stdout)
    mot = os.path.join(tmp, "gt.txt")
    with open(mot, "w") as f:
        f.write("1,1,10,20,30,40,1,-1,-1,-1\n2,1,11.5,21,30,40,1,-1,-1,-1\n"
                "2,2,50,60,10,10,1,-1,-1,-1\n")
    files = [jsonl, mot]
    for pattern in ("*.slp", "*.h5", "*.jsonl", "*.json", "*.txt", "*.csv"):
        files += glob.glob(os.path.join(DATA, "**", pattern), recursive=True)
    if os.path.isdir(SHARED):
        files += glob.glob(os.path.join(SHARED, "*.slp"))
    return sorted(f for f in files if "damaged" not in f)


def same_labels_both_ways(tmp):
    n = 0
    for path in label_files(tmp):
        a, _ = tool(path)
        b, _ = tool(path, {"ONEPASS_LABEL_LOADER": "in-process"})
        if b.returncode != 0:
            # not a label file: both ways must refuse it alike
            check(a.returncode == b.returncode and a.stderr == b.stderr,
                  "%s: refused alike both ways" % path)
            continue
        n += 1
        check(a.returncode == 0 and a.stdout == b.stdout
              and a.stderr == b.stderr,
              "%s: same labels through the loader (%d lines)"
              % (os.path.basename(path), b.stdout.count("\n")))
    check(n >= 5, "compared %d label files" % n)


def hang_is_an_error(tmp):
    fifo = os.path.join(tmp, "labels.slp")
    os.mkfifo(fifo)
    p, took = tool(fifo, {"ONEPASS_LABEL_LOAD_TIMEOUT": "2"}, timeout=60)
    check(p.returncode != 0 and fifo in p.stderr
          and "did not finish within 2 s" in p.stderr and took < 30,
          "onepass-labels: a hanging reader is an error after 2 s (%.1f s): %s"
          % (took, p.stderr.strip()[:160]))
    e = dict(os.environ, ONEPASS_LABEL_LOAD_TIMEOUT="2")
    t0 = time.monotonic()
    g = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc",
                        "num-buffers=3", "!", "annotfilter",
                        "location=" + fifo, "!", "fakesink"],
                       capture_output=True, text=True, env=e, timeout=60)
    took = time.monotonic() - t0
    out = g.stdout + g.stderr
    check(g.returncode != 0 and fifo in out and "did not finish" in out
          and took < 30,
          "annotfilter: a hanging reader is an element error naming the "
          "file (%.1f s)" % took)


def fake_loader(tmp, body):
    path = os.path.join(tmp, "loader-%d.sh" % len(os.listdir(tmp)))
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def crash_is_an_error(tmp, some_file):
    loader = fake_loader(tmp, "kill -SEGV $$")
    p, _ = tool(some_file, {"ONEPASS_LABEL_LOADER": loader})
    check(p.returncode == 1 and some_file in p.stderr
          and "crashed" in p.stderr and "signal 11" in p.stderr,
          "a reader that dies of SIGSEGV is an error naming the file: %s"
          % p.stderr.strip()[:200])
    e = dict(os.environ, ONEPASS_LABEL_LOADER=loader)
    g = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc",
                        "num-buffers=3", "!", "annotfilter",
                        "location=" + some_file, "!", "fakesink"],
                       capture_output=True, text=True, env=e, timeout=60)
    out = g.stdout + g.stderr
    check(g.returncode != 0 and "crashed" in out and some_file in out
          and "ERROR: from element" in out and "Caught SIG" not in out,
          "annotfilter reports the crash as an element error and the "
          "pipeline process survives")
    junk = fake_loader(tmp, "head -c 5000 /dev/urandom >&3")
    p, _ = tool(some_file, {"ONEPASS_LABEL_LOADER": junk})
    check(p.returncode == 1 and "inconsistent" in p.stderr,
          "garbage from the loader is refused: %s" % p.stderr.strip()[:160])
    short = fake_loader(tmp, "true")
    p, _ = tool(some_file, {"ONEPASS_LABEL_LOADER": short})
    check(p.returncode == 1 and "returned nothing" in p.stderr,
          "a loader that writes nothing is an error")


def text_files_in_process(tmp):
    """only HDF5 files go to the loader: with a stand-in loader that dies
    of SIGSEGV, every text label file still loads, with the same lines as
    in-process, and every HDF5 one is the crash error"""
    loader = fake_loader(tmp, "kill -SEGV $$")
    n_text = n_h5 = 0
    for path in label_files(tmp):
        with open(path, "rb") as f:
            head = f.read(1024)
        hdf5 = any(head[o:o + 8] == b"\x89HDF\r\n\x1a\n" for o in (0, 512))
        p, _ = tool(path, {"ONEPASS_LABEL_LOADER": loader})
        if hdf5:
            n_h5 += 1
            check(p.returncode == 1 and "crashed" in p.stderr,
                  "%s (HDF5) went to the loader: %s" % (path, p.stderr.strip()[:160]))
        else:
            n_text += 1
            ref, _ = tool(path, {"ONEPASS_LABEL_LOADER": "in-process"})
            check("crashed" not in p.stderr and p.returncode == ref.returncode
                  and p.stdout == ref.stdout,
                  "%s (text) read in the process, not by the loader: %s"
                  % (path, p.stderr.strip()[:160]))
    check(n_text >= 2 and n_h5 >= 1, "text files %d, HDF5 files %d" % (n_text, n_h5))


def damaged_fixtures():
    """tests/data/damaged/crash/: real files that crash libhdf5 1.10.8 inside
    H5Dopen2/H5Aexists (before any check can run, see test_damaged_labels.py):
    through the loader each is an error naming it and saying it crashed;
    tests/data/damaged/: files the checks refuse in-process."""
    crash = sorted(glob.glob(os.path.join(DATA, "damaged", "crash", "*")))
    # libhdf5 reads garbage there: it crashes, or (another memory layout)
    # loops; both must end as an error naming the file
    stopped = ("crashed", "did not finish")
    for path in crash:
        p, _ = tool(path, {"ONEPASS_LABEL_LOAD_TIMEOUT": "5"})
        check(p.returncode == 1 and path in p.stderr and p.stdout == ""
              and any(w in p.stderr for w in stopped),
              "%s: libhdf5 crashes on it, the pipeline gets an error: %s"
              % (os.path.basename(path), p.stderr.strip()[:160]))
    e = dict(os.environ, ONEPASS_LABEL_LOAD_TIMEOUT="5")
    for path in crash:
        g = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc",
                            "num-buffers=3", "!", "annotfilter",
                            "location=" + path, "!", "fakesink"],
                           capture_output=True, text=True, env=e, timeout=60)
        out = g.stdout + g.stderr
        check(g.returncode != 0 and "ERROR: from element" in out
              and path in out and any(w in out for w in stopped)
              and "Caught SIG" not in out,
              "annotfilter on %s: an element error, the process lives"
              % os.path.basename(path))
    check(len(crash) >= 1 or not os.path.isdir(os.path.join(DATA, "damaged")),
          "%d crashing fixtures" % len(crash))
    for path in sorted(glob.glob(os.path.join(DATA, "damaged", "*"))):
        if os.path.isdir(path) or path.endswith(".md"):
            continue
        p, _ = tool(path, {"ONEPASS_LABEL_LOAD_TIMEOUT": "20"})
        check(p.returncode == 1 and path in p.stderr
              and "crashed" not in p.stderr,
              "%s: a clean error naming it: %s"
              % (os.path.basename(path), p.stderr.strip()[:160]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        same_labels_both_ways(tmp)
        hang_is_an_error(tmp)
        crash_is_an_error(tmp, os.path.join(DATA, "sleap", "typical.slp"))
        text_files_in_process(tmp)
        damaged_fixtures()
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all passed")


main()
