#!/usr/bin/python3
"""Rewrite the generated sections of docs/benchmarks.md, keep the rest.

A generated section sits between two marker lines:

    <!-- generated: NAME (bench/run.sh; do not edit by hand) -->
    ...
    <!-- end generated: NAME -->

usage: mkdoc.py DOC NAME=FILE [NAME=FILE ...]

Each NAME's text between its markers is replaced by FILE's content; text
outside the markers (hand-written notes, other helpers' rows) is kept as it
is. A NAME without markers in DOC is appended at the end, with its markers,
so the first run places it and later runs keep it where a person moved it.
A FILE that is missing or empty leaves its section unchanged (a benchmark
that did not run must not erase the last figures).
"""
import os
import re
import sys

BEGIN = "<!-- generated: %s (bench/run.sh; do not edit by hand) -->"
END = "<!-- end generated: %s -->"


def section_re(name):
    return re.compile(r"^<!-- generated: %s \(.*?\) -->\n.*?^<!-- end generated: %s -->\n"
                      % (re.escape(name), re.escape(name)), re.M | re.S)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    doc = sys.argv[1]
    text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    for arg in sys.argv[2:]:
        name, sep, path = arg.partition("=")
        if not sep or not re.fullmatch(r"[\w.-]+", name):
            sys.exit("bad argument %r: want NAME=FILE" % arg)
        body = open(path).read().strip("\n") if os.path.exists(path) else ""
        if not body:
            print("mkdoc: %s: no figures (%s), section kept" % (name, path))
            continue
        block = "%s\n%s\n%s\n" % (BEGIN % name, body, END % name)
        pat = section_re(name)
        if len(pat.findall(text)) > 1:
            sys.exit("%s: section %s is there twice" % (doc, name))
        if pat.search(text):
            text = pat.sub(lambda m: block, text)
        else:
            text = text.rstrip("\n") + "\n\n" + block
            print("mkdoc: %s: new section appended" % name)
    with open(doc + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(doc + ".tmp", doc)
    print("mkdoc: wrote " + doc)


if __name__ == "__main__":
    main()
