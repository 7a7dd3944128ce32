#!/usr/bin/python3
"""Damaged HDF5 label files give an error naming the file, never a crash.

Each case makes a small SLEAP .slp or analysis .h5 with h5py (the makers of
bench/mutate_labels.py), damages one structure libhdf5 1.10 trusts by
patching its bytes (found by its signature or by the member name it
follows), and checks `onepass-labels` exits 1 with a message naming the
file and the problem (ext/labels/h5check.c). Where libhdf5 itself crashes,
hangs or misreads on the file, a child reading it through h5py (the same
libhdf5) shows that: without the check onepass did the same (the counts
before and after are in docs/benchmarks.md). Then it replays the mutants of
tests/data/damaged/ (docs/labelreaders.md says what they are).
"""
import glob
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import h5py.h5o

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))
import mutate_labels  # noqa: E402
import test_readers as tr  # noqa: E402

check = tr.check
DAMAGED = os.path.join(ROOT, "tests", "data", "damaged")


def patched(src, dst, fn):
    """a copy of @src with fn(bytearray, h5py file of src) applied"""
    b = bytearray(open(src, "rb").read())
    with h5py.File(src, "r") as f:
        fn(b, f)
    with open(dst, "wb") as fh:
        fh.write(b)
    return dst


def header(f, name):
    """file offset of @name's object header"""
    return h5py.h5o.get_info(f[name].id).addr + f.userblock_size


def member(b, f, table, name):
    """offset of compound member @name's entry in @table's header: a
    version 1 entry is the name (NUL, padded to 8), the byte offset (4),
    24 bytes of legacy array fields, then the member's own type"""
    i = b.index(name + b"\0", header(f, table))
    return i + (len(name) + 8) // 8 * 8


def gcol(b):
    """offset of the first global heap collection and its objects as
    (offset, index, size), the free-space object (index 0) last"""
    base = b.index(b"GCOL")
    size = struct.unpack_from("<Q", b, base + 8)[0]
    objs, p = [], 16
    while p + 16 <= size:
        idx, _, _, osize = struct.unpack_from("<HHIQ", b, base + p)
        objs.append((base + p, idx, osize))
        if idx == 0:
            break
        p += 16 + (osize + 7) // 8 * 8
    return base, objs


def string_ref(f, name):
    """file offset of the stored reference of the scalar string @name:
    length (4), collection address (8), object index (4)"""
    return f[name].id.get_offset()


def libhdf5_fails(code, path, how):
    """h5py (the same libhdf5) running @code on @path dies by a signal
    ("crash") or runs past 3 s ("hang")"""
    cmd = ["/usr/bin/python3", "-c", "import h5py, numpy as np\n"
           "from h5py import h5s, h5t\n"
           "f = h5py.File(%r, 'r')\n%s" % (path, code)]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=3)
        got = "crash" if p.returncode < 0 else "exit %d" % p.returncode
    except subprocess.TimeoutExpired:
        got = "hang"
    check(got == how, "%s: libhdf5 through h5py: %s, want %s" % (
        path, got, how))


READ_FRAME_IDX = (
    "d = f['frames']\n"
    "dt = np.dtype([('frame_idx', '<u8')])\n"
    "a = np.zeros(d.shape, dt)\n"
    "d.id.read(h5s.ALL, h5s.ALL, a, mtype=h5t.py_create(dt))\n")
READ_DIMS = "f['tracks'].attrs['dims']\n"


def types(tmp, slp):
    # the offset of frame_idx beyond the 36-byte row: libhdf5 copies from
    # there (SIGSEGV in H5T__conv_struct)
    def far(b, f):
        struct.pack_into("<I", b, member(b, f, "frames", b"frame_idx"),
                         0x7fff0000)
    bad = patched(slp, os.path.join(tmp, "offset.slp"), far)
    libhdf5_fails(READ_FRAME_IDX, bad, "crash")
    tr.expect_error(bad, "/frames", 'compound member 2 ("frame_idx")',
                    "claims bytes 2147418112..2147418120 of a 36-byte row")

    # a member of 0 bytes
    def empty(b, f):
        struct.pack_into("<I", b, member(b, f, "frames", b"video") + 32 + 4,
                         0)
    tr.expect_error(patched(slp, os.path.join(tmp, "size0.slp"), empty),
                    "/frames", 'compound member 1 ("video") claims bytes '
                    "8..8 of a 36-byte row")

    # a 72-bit integer in 8 bytes: before, frame_idx read as other numbers
    def wide(b, f):
        t = member(b, f, "frames", b"frame_idx") + 32
        struct.pack_into("<H", b, t + 10, 72)
    tr.expect_error(patched(slp, os.path.join(tmp, "prec.slp"), wide),
                    "/frames", "8-byte number type claims 72 bits at bit 0")

    # a float whose exponent has 200 bits
    def exponent(b, f):
        t = member(b, f, "points", b"x") + 32
        b[t + 13] = 200
    tr.expect_error(patched(slp, os.path.join(tmp, "float.slp"), exponent),
                    "/points", "float type has impossible bit fields")


def string_base(tmp, h5):
    # /tracks' dims string made of 100 MB characters: the read allocates
    # and clears length x 100 MB (in the campaign 21 GB: a hang; here the
    # dims came out as "[", each 100 MB character read as its first byte)
    def wide(b, f):
        i = b.index(b"dims\0", header(f, "tracks"))
        j = b.index(b"\x19", i)  # variable-length datatype, version 1
        check(b[j + 4] == 16, "no variable-length string type after dims")
        struct.pack_into("<I", b, j + 12, 100 * 1000 * 1000)
    tr.expect_error(patched(h5, os.path.join(tmp, "base.h5"), wide),
                    "tracks attribute dims", "its variable-length strings "
                    "have characters of 100000000 bytes")


def spaces(tmp, slp, h5):
    # /frames holds 2 rows but says it can hold at most 1
    def shrink(b, f):
        i = b.index(b"\x01\x01\x01\x00\x00\x00\x00\x00" +
                    struct.pack("<Q", 2) + b"\xff" * 8, header(f, "frames"))
        struct.pack_into("<Q", b, i + 16, 1)
    tr.expect_error(patched(slp, os.path.join(tmp, "maxdims.slp"), shrink),
                    "/frames", "dimension 0 holds 2 entries, more than its "
                    "maximum 1")

    # a zero chunk dimension (libhdf5 1.10.8 itself refuses it at open)
    def chunk0(b, f):
        i = b.index(b"\x03\x02\x02", header(f, "frames"))
        struct.pack_into("<I", b, i + 11, 0)
    tr.expect_error(patched(slp, os.path.join(tmp, "chunk0.slp"), chunk0),
                    "/frames", "chunk dimension")

    # the B-tree marks /tracks' first chunk as stored without its gzip
    # filter: libhdf5 copies 384 bytes out of 103 (before, wrong numbers)
    def unfiltered(b, f):
        info = f["tracks"].id.get_chunk_info(0)
        child = b.index(struct.pack("<Q", info.byte_offset))
        # the key before the child: size (4), filter mask (4), 5 offsets
        struct.pack_into("<I", b, child - 5 * 8 - 4, 1)
    tr.expect_error(patched(h5, os.path.join(tmp, "mask.h5"), unfiltered),
                    "tracks: its chunk at (0, 0, 0, 0) is damaged (103 bytes "
                    "stored unfiltered", "a chunk is 384 bytes")

    # the B-tree says /frames' first chunk (no filters) holds 8 bytes of
    # 72: libhdf5 reads those 8 and leaves the rest of the chunk garbage
    def short_chunk(b, f):
        info = f["frames"].id.get_chunk_info(0)
        # a version 1 B-tree node of chunks ("TREE", type 1): after its
        # 24-byte head, key 0 (size 4, filter mask 4, 2 offsets) and child 0
        at = b.find(b"TREE\x01")
        while struct.unpack_from("<Q", b, at + 24 + 24)[0] != info.byte_offset:
            at = b.find(b"TREE\x01", at + 1)
            assert at >= 0, "no B-tree node holds /frames' first chunk"
        struct.pack_into("<I", b, at + 24, 8)
    tr.expect_error(patched(slp, os.path.join(tmp, "short.slp"), short_chunk),
                    "/frames: its chunk at (0) is damaged (8 bytes stored "
                    "unfiltered", "a chunk is")

    # contiguous node names whose data would lie past the end of the file
    def beyond(b, f):
        off = f["node_names"].id.get_offset()
        i = b.index(b"\x03\x01" + struct.pack("<Q", off),
                    header(f, "node_names"))
        struct.pack_into("<Q", b, i + 2, len(b) - 8)
    tr.expect_error(patched(h5, os.path.join(tmp, "eof.h5"), beyond),
                    "/node_names", "bytes at byte %d pass the end of the "
                    "file" % (os.path.getsize(h5) - 8))


def heaps(tmp, h5):
    # an object of the collection claims 2^40 bytes: libhdf5 copies them
    # (SIGSEGV in H5HG_read) reading the first string, /tracks' dims
    def huge(b, f):
        base, objs = gcol(b)
        struct.pack_into("<Q", b, objs[0][0] + 8, 1 << 40)
    bad = patched(h5, os.path.join(tmp, "gcol.h5"), huge)
    libhdf5_fails(READ_DIMS, bad, "crash")
    tr.expect_error(bad, "tracks attribute dims", "global heap collection",
                    "is damaged (object 1 at byte 16 claims 1099511627776 "
                    "bytes of 4096)")

    # the free-space object claims 0 bytes: libhdf5 loops for ever
    def free0(b, f):
        base, objs = gcol(b)
        check(objs[-1][1] == 0, "no free-space object in the collection")
        struct.pack_into("<Q", b, objs[-1][0] + 8, 0)
    bad = patched(h5, os.path.join(tmp, "free0.h5"), free0)
    libhdf5_fails(READ_DIMS, bad, "hang")
    tr.expect_error(bad, "tracks attribute dims", "is damaged (object 0")

    # /video_path names object 40, which the collection does not hold:
    # libhdf5 reads past its object table (before, the path came out empty)
    def missing(b, f):
        struct.pack_into("<I", b, string_ref(f, "video_path") + 12, 40)
    tr.expect_error(patched(h5, os.path.join(tmp, "idx.h5"), missing),
                    "/video_path", "string 0 (8 bytes) points to object 40",
                    "which does not hold it")

    # the same in a file with a 512-byte user block (addresses move)
    ub = os.path.join(tmp, "userblock.analysis.h5")
    orig = h5py.File
    h5py.File = lambda p, mode, **kw: orig(p, mode, userblock_size=512)
    try:
        mutate_labels.make_analysis(ub)
    finally:
        h5py.File = orig
    rc, out, err = tr.run_tool(ub)
    check(rc == 0 and "clip.mp4" in out, "%s: %d %s" % (ub, rc, err))
    tr.expect_error(patched(ub, os.path.join(tmp, "ub-idx.h5"), missing),
                    "/video_path", "points to object 40")

    # a reference 1 byte shorter than its object: libhdf5 copies the whole
    # object into a buffer of the reference's length
    def short(b, f):
        struct.pack_into("<I", b, string_ref(f, "video_path"), 7)
    tr.expect_error(patched(h5, os.path.join(tmp, "len.h5"), short),
                    "/video_path", "string 0 (7 bytes)", "has another size")

    # a reference into the superblock, which is no collection
    def nowhere(b, f):
        struct.pack_into("<Q", b, string_ref(f, "video_path") + 4, 8)
    tr.expect_error(patched(h5, os.path.join(tmp, "addr.h5"), nowhere),
                    "/video_path", "points to byte 8, which holds no global "
                    "heap collection")


def replay():
    """the kept mutants (tests/data/damaged/README.md): each crashed or
    hung onepass inside libhdf5; each must now give a clean error (those
    of crash/ still crash inside libhdf5, before any check)"""
    kept = sorted(glob.glob(os.path.join(DAMAGED, "*.slp")) +
                  glob.glob(os.path.join(DAMAGED, "*.h5")))
    check(len(kept) == 3, "tests/data/damaged holds %d mutants" % len(kept))
    for path in kept:
        tr.expect_error(path, "damaged" if "heap" in path else "claims bytes")


def main():
    tr.leave_valgrind()
    with tempfile.TemporaryDirectory() as tmp:
        slp = mutate_labels.make_slp(os.path.join(tmp, "made.slp"))
        h5 = mutate_labels.make_analysis(os.path.join(tmp, "made.h5"))
        for path in (slp, h5):
            rc, out, err = tr.run_tool(path)
            check(rc == 0, "%s: the undamaged file: %s" % (path, err))
        types(tmp, slp)
        string_base(tmp, h5)
        spaces(tmp, slp, h5)
        heaps(tmp, h5)
    replay()
    print("%d checks, %d failures" % (tr.checks, len(tr.failures)))
    return 1 if tr.failures else 0


if __name__ == "__main__":
    sys.exit(main())
