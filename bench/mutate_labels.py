#!/usr/bin/python3
"""Mutation campaign for the HDF5 label readers (issue 21).

Copies real SLEAP .slp / analysis .h5 files, damages each copy (random byte
flips, zeroed runs, truncation, bytes inside HDF5 object headers), runs
`onepass-labels --summary` on it with a time limit and counts what happened:

  ok       the reader read it (a flip in unused bytes, raw data, padding)
  error    a clear error message naming the file (what we want for damage)
  crash    killed by a signal (SIGSEGV, SIGABRT...): a bug
  hang     still running after the time limit: a bug
  silent   exit status non-zero without naming the file: a bug

  bench/mutate_labels.py [--n 400] [--seed 1] [--timeout 10] [--keep DIR]
      [--tool build/tools/onepass-labels] [FILES...]

Default files: tests/data/sleap/*.slp and *.h5. Crashing and hanging inputs
are kept in --keep (default /tmp/onepass-mutants) for replay. Exits 1 when
any crash, hang or silent failure was seen."""
import argparse
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def mutate(data, rng):
    """One damaged copy of data, with a word for how."""
    b = bytearray(data)
    how = rng.choice(["flip", "flip", "zero", "truncate", "header", "ff"])
    if how == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif how == "zero":
        i = rng.randrange(len(b))
        n = rng.randint(1, 64)
        b[i:i + n] = bytes(min(n, len(b) - i))
    elif how == "ff":
        i = rng.randrange(len(b))
        n = rng.randint(1, 16)
        b[i:i + n] = b"\xff" * min(n, len(b) - i)
    elif how == "truncate":
        del b[rng.randrange(max(1, len(b) // 4), len(b)):]
    else:
        # HDF5 metadata sits mostly in the first blocks and at object
        # headers ("OHDR", "TREE", "HEAP", "GCOL" signatures): hit those
        sigs = [i for s in (b"OHDR", b"TREE", b"HEAP", b"GCOL", b"SNOD",
                            b"BTHD", b"FRHP", b"FHDB")
                for i in range(len(b)) if b.startswith(s, i)]
        base = rng.choice(sigs) if sigs else 0
        for _ in range(rng.randint(1, 4)):
            i = min(len(b) - 1, base + rng.randrange(96))
            b[i] = rng.randrange(256)
    return bytes(b), how


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--keep", default="/tmp/onepass-mutants")
    ap.add_argument("--tool", default=os.path.join(ROOT, "build", "tools",
                                                   "onepass-labels"))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = a.files or sorted(
        glob.glob(os.path.join(ROOT, "tests", "data", "sleap", "*.slp")) +
        glob.glob(os.path.join(ROOT, "tests", "data", "sleap", "*.h5")))
    if not os.access(a.tool, os.X_OK):
        sys.exit("no tool at %s (build first, or pass --tool)" % a.tool)
    rng = random.Random(a.seed)
    os.makedirs(a.keep, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="mutate-")
    counts = {k: 0 for k in ("ok", "error", "crash", "hang", "silent")}
    bad = []
    originals = {f: open(f, "rb").read() for f in files}
    for n in range(a.n):
        src = files[n % len(files)]
        data, how = mutate(originals[src], rng)
        path = os.path.join(tmp, "m%05d%s" % (n, os.path.splitext(src)[1]))
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            p = subprocess.run([a.tool, "--summary", path],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=a.timeout)
            if p.returncode == 0:
                kind = "ok"
            elif p.returncode < 0:
                kind = "crash"
            elif path.encode() in p.stderr:
                kind = "error"
            else:
                kind = "silent"
        except subprocess.TimeoutExpired:
            kind = "hang"
        counts[kind] += 1
        if kind in ("crash", "hang", "silent"):
            keep = os.path.join(a.keep, os.path.basename(path))
            shutil.copy(path, keep)
            bad.append((kind, os.path.basename(src), how, keep))
        os.unlink(path)
    shutil.rmtree(tmp)
    print("mutants: %d of %d files (seed %d)" % (a.n, len(files), a.seed))
    for k, v in counts.items():
        print("  %-7s %d" % (k, v))
    for kind, src, how, keep in bad:
        print("  %s: %s (%s) -> %s" % (kind, src, how, keep))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
