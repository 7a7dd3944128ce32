#!/usr/bin/python3
"""batchsink location=s3:// against a real S3 server on 127.0.0.1.

The server is s3rver (npm package s3rver@3, installed by this test into
${XDG_CACHE_HOME:-~/.cache}/onepass/s3rver when it is missing; .ci/run and
scripts/setup.sh install it ahead). batchsink talks to it through
tools/s3_proxy.py, which checks every request's SigV4 signature with its
own implementation (s3rver checks only the key id), counts requests and
injects failures. What was stored is read back with boto3 (python3-boto3)
straight from s3rver, and compared with the same pipeline written to a
local directory.

Exits 77 (skipped) when node or npm is missing, or npm cannot install
s3rver (no registry), saying so.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "tools", "s3_proxy.py")
DATA = os.environ.get("ONEPASS_SHARED_DATA",
                      os.path.join(HERE, "..", "data"))
VIDEO = os.path.join(DATA, "sleap", "centered_pair_low_quality.mp4")
SLP = os.path.join(DATA, "sleap", "labels.v002.slp")
KEY_ID = "S3RVER"               # s3rver's built-in account
SECRET = "S3RVER"
BUCKET = "onepass-test"


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def expect(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def s3rver_bin():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    d = os.path.join(cache, "onepass", "s3rver")
    exe = os.path.join(d, "node_modules", ".bin", "s3rver")
    if os.path.exists(exe):
        return exe
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            skip("%s is not installed (apt-get install nodejs npm); the S3 "
                 "tests need s3rver from npm" % tool)
    os.makedirs(d, exist_ok=True)
    try:
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--fetch-retries=1", "--fetch-timeout=30000",
                            "--prefix", d, "s3rver@3"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=240)
    except subprocess.TimeoutExpired:
        skip("npm install s3rver@3 did not finish in 240 s (no registry?)")
    if p.returncode != 0 or not os.path.exists(exe):
        skip("npm could not install s3rver@3 into %s:\n%s" % (d, p.stdout))
    return exe


class Servers:
    """s3rver on a free port, and proxies in front of it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        self.log = open(os.path.join(tmp, "s3rver.log"), "w")
        self.s3 = subprocess.Popen(
            [s3rver_bin(), "-d", os.path.join(tmp, "s3data"), "-a",
             "127.0.0.1", "-p", "0", "--configure-bucket", BUCKET],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            # s3rver's list continuation tokens use a cipher OpenSSL 3
            # keeps in its legacy provider
            env=dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider"))
        self.procs.append(self.s3)
        seen = ""
        m = None
        while not m:
            line = self.s3.stdout.readline()
            expect(line, "s3rver did not start: " + seen)
            seen += line
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        self.port = int(m.group(1))
        # drain its request log so it never blocks on a full pipe
        self.drain = subprocess.Popen(["cat"], stdin=self.s3.stdout,
                                      stdout=self.log)
        self.procs.append(self.drain)
        self.n = 0

    def proxy(self, *args, secret=SECRET, token=None):
        """Returns (endpoint URL, request log path)."""
        self.n += 1
        log = os.path.join(self.tmp, "proxy%d.log" % self.n)
        cmd = [sys.executable, PROXY, "--upstream", str(self.port),
               "--secret", secret, "--log", log] + list(args)
        if token:
            cmd += ["--token", token]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        port = int(p.stdout.readline().split()[1])
        return "http://127.0.0.1:%d" % port, log

    def stop(self):
        for p in reversed(self.procs):
            p.kill()
            p.wait()


def s3_client(port):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port,
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))


def objects(cli, prefix):
    r = cli.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"]: o["Size"] for o in r.get("Contents", [])}


def get(cli, key):
    return cli.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def requests_log(log):
    return [json.loads(line) for line in open(log)] if os.path.exists(log) \
        else []


def env(**extra):
    e = dict(os.environ)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
              "AWS_REGION", "AWS_DEFAULT_REGION"):
        e.pop(k, None)
    e.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def run(args, environ=None, check=True):
    p = subprocess.run(["gst-launch-1.0", "-m"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300, env=environ or env())
    if check:
        expect(p.returncode == 0, "gst-launch-1.0 %s\n%s"
               % (" ".join(args), p.stdout))
    return p


def final_progress(out):
    m = re.search(r"batchsink-progress, .*final=\(boolean\)true.*"
                  r"requests=\(guint64\)(\d+), upload-bytes=\(guint64\)(\d+)",
                  out)
    expect(m, "no final batchsink-progress with requests:\n" + out[-3000:])
    return int(m.group(1)), int(m.group(2))


def readme_pipeline(location, *extra):
    """The README's tar pipeline (crops of labeled instances, split)."""
    return ["filesrc", "location=" + VIDEO, "!", "decodebin", "!",
            "annotfilter", "location=" + SLP, "!", "cropextract", "width=48",
            "height=48", "!", "videoconvert", "!", "video/x-raw,format=RGB",
            "!", "jpegenc", "!", "batchsink", "location=" + location,
            "split=train=0.5,val=0.5", "split-by=sample",
            "max-shard-samples=2", "shard-prefix=clip"] + list(extra)


def test_pattern(location, *extra, n=30):
    return ["videotestsrc", "pattern=smpte", "num-buffers=%d" % n, "!",
            "video/x-raw,format=RGB,width=64,height=48", "!", "jpegenc",
            "!", "batchsink", "location=" + location,
            "max-shard-samples=10"] + list(extra)


def members(data):
    """name -> bytes of a tar shard, with WebDataset's grouping checked: each
    key's members are adjacent, one .jpg and one .json per key."""
    import io
    got, order = {}, []
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t:
            key, _, ext = m.name.partition(".")
            if not order or order[-1] != key:
                expect(key not in order, "key %s not contiguous" % key)
                order.append(key)
            got[m.name] = t.extractfile(m).read()
    for key in order:
        expect({key + ".jpg", key + ".json"} <= set(got), "sample " + key)
    return got


def remote_dataset(cli, prefix):
    """Every sample the remote dataset.json lists, read from the store:
    name -> bytes. Checks each listed object exists with the listed size."""
    have = objects(cli, prefix)
    ds = json.loads(get(cli, prefix + "dataset.json"))
    got = {}
    for sh in ds["shards"]:
        key = prefix + sh["path"]
        expect(have.get(key) == sh["bytes"], "dataset.json lists %s (%d "
               "bytes), the store has %s" % (key, sh["bytes"], have.get(key)))
        part = members(get(cli, key))
        expect(len(part) == 2 * sh["samples"], "samples of " + key)
        got.update(part)
    return ds, got


def local_dataset(out):
    ds = json.load(open(os.path.join(out, "dataset.json")))
    got = {}
    for sh in ds["shards"]:
        got.update(members(open(os.path.join(out, sh["path"]), "rb").read()))
    return ds, got


def check_readme_tar(srv, cli, tmp):
    """Done-when of issue 20: the README pipeline into s3:// gives the same
    samples as into a local directory, and the counts are right."""
    local = os.path.join(tmp, "local")
    run(readme_pipeline(local))
    _, want = local_dataset(local)
    expect(len(want) == 18, "reference: %d members" % len(want))
    tmpdir = os.path.join(tmp, "tmpdir")
    os.makedirs(tmpdir)
    url, log = srv.proxy()
    p = run(readme_pipeline("s3://%s/run/" % BUCKET, "endpoint=" + url),
            env(TMPDIR=tmpdir))
    ds, got = remote_dataset(cli, "run/")
    expect(got == want, "remote samples differ from the local run: %s vs %s"
           % (sorted(got), sorted(want)))
    reqs = requests_log(log)
    requests, sent = final_progress(p.stdout)
    expect(requests == len(reqs), "batchsink counted %d requests, the proxy "
           "saw %d" % (requests, len(reqs)))
    expect(sent == sum(r["bytes"] for r in reqs), "upload-bytes %d" % sent)
    expect(all(r["status"] == 200 and r["problem"] is None for r in reqs),
           "a request failed: %s" % [r for r in reqs if r["status"] != 200])
    man = json.loads(get(cli, "run/clip.manifest.json"))
    expect(man["complete"] is True and len(man["shards"]) ==
           len(ds["shards"]), "remote manifest %s" % man)
    expect(0 < man["upload"]["requests"] < requests, "manifest upload %s"
           % man["upload"])
    stored = check_index_order(reqs, "run/")
    expect({n for n in stored if n.endswith(".tar")} ==
           {s["name"] for s in man["shards"]}, "uploaded %s" % stored)
    expect(os.listdir(tmpdir) == [], "temporary staging left %s"
           % os.listdir(tmpdir))
    print("ok README tar pipeline to s3:// (%d samples, %d requests, %d "
          "bytes), read back with boto3" % (len(got) // 2, requests, sent))


def check_index_order(reqs, prefix):
    """Replays the request log: each manifest or dataset.json, when it was
    stored, named only shards stored before it."""
    stored = set()
    for r in reqs:
        if r["status"] != 200 or not r["path"].startswith(
                "/%s/%s" % (BUCKET, prefix)):
            continue
        name = r["path"].rsplit("/", 1)[1]
        single = r["method"] == "PUT" and not r["query"]
        completed = r["method"] == "POST" and \
            r["query"].startswith("uploadId=")
        if name.endswith(".json") and single:
            idx = json.loads(r["body"])
            listed = [sh.get("name") or sh.get("path") for sh in idx["shards"]]
            missing = [n for n in listed if n not in stored]
            expect(not missing, "%s stored naming %s before they were"
                   % (name, missing))
        elif single or completed:
            stored.add(name)
    return stored


def check_multipart(srv, cli, tmp):
    local = os.path.join(tmp, "mp-local")
    run(test_pattern(local))
    url, log = srv.proxy()
    staging = os.path.join(tmp, "mp-staging")
    run(test_pattern("s3://%s/mp/" % BUCKET, "endpoint=" + url,
                     "part-size=4096", "staging-dir=" + staging))
    reqs = requests_log(log)
    creates = [r for r in reqs if r["query"] == "uploads="]
    parts = [r for r in reqs if "partNumber=" in r["query"]]
    expect(len(creates) == 3, "3 multipart uploads, saw %d" % len(creates))
    expect(all(r["bytes"] <= 4096 for r in parts) and len(parts) >= 3 * 10,
           "parts %s" % [r["bytes"] for r in parts])
    # staging-dir keeps the very bytes uploaded; the tar headers' mtime is
    # the run's start, so against the local run compare the members
    for name in sorted(os.listdir(staging)):
        if name.endswith(".tar"):
            expect(get(cli, "mp/" + name) ==
                   open(os.path.join(staging, name), "rb").read(),
                   "mp/%s differs from the staged shard" % name)
    expect(remote_dataset(cli, "mp/")[1] == local_dataset(local)[1],
           "multipart samples differ from the local run")
    print("ok multipart: 3 shards in %d parts of <= 4096 bytes, bytes equal"
          % len(parts))


def check_flaky(srv, cli, tmp):
    url, log = srv.proxy("--fail-every", "3")
    p = run(test_pattern("s3://%s/flaky/" % BUCKET, "endpoint=" + url,
                         "part-size=8192"))
    reqs = requests_log(log)
    failed = [r for r in reqs if r["status"] == 500]
    expect(len(failed) >= 5, "the proxy failed %d requests" % len(failed))
    requests, _ = final_progress(p.stdout)
    expect(requests == len(reqs), "requests %d, proxy %d" % (requests,
                                                             len(reqs)))
    _, got = remote_dataset(cli, "flaky/")
    _, want = local_dataset(os.path.join(tmp, "mp-local"))
    expect(got == want, "flaky upload lost or changed samples")
    print("ok 500 on every 3rd request: %d retried, all %d samples intact"
          % (len(failed), len(got) // 2))
    url, log = srv.proxy("--drop-every", "4")
    p = run(test_pattern("s3://%s/dropped/" % BUCKET, "endpoint=" + url,
                         "part-size=8192"))
    reqs = requests_log(log)
    dropped = [r for r in reqs if r["status"] == 0]
    expect(len(dropped) >= 5 and final_progress(p.stdout)[0] == len(reqs),
           "dropped %d of %d, batchsink counted %d" % (len(dropped), len(reqs), final_progress(p.stdout)[0]))
    expect(remote_dataset(cli, "dropped/")[1] == want,
           "samples lost with dropped connections")
    print("ok connection closed on every 4th request: %d retried, intact"
          % len(dropped))


def check_always_failing(srv, cli, tmp):
    """Every part of shard 1 fails: the error names the object, the
    multipart upload is aborted, no index lists shard 1, shard 0 stays, and
    the staging-dir keeps the failed shard."""
    staging = os.path.join(tmp, "staging")
    url, log = srv.proxy("--fail-match", r"^PUT .*-000001\.tar\?partNumber")
    p = run(test_pattern("s3://%s/fail/" % BUCKET, "endpoint=" + url,
                         "part-size=8192", "staging-dir=" + staging),
            check=False)
    expect(p.returncode != 0, "the run did not fail")
    obj = "s3://%s/fail/data-unlabeled-000001.tar" % BUCKET
    expect(re.search(r"ERROR: .*" + re.escape(obj) + r".*after 5 attempts",
                     p.stdout), "error does not name %s:\n%s"
           % (obj, p.stdout))
    reqs = requests_log(log)
    aborts = [r for r in reqs if r["method"] == "DELETE"
              and "uploadId=" in r["query"]]
    ids = {r["query"].split("uploadId=")[1] for r in reqs
           if "partNumber=" in r["query"] and r["path"].endswith("01.tar")}
    # s3rver 3 does not implement AbortMultipartUpload (405): check that
    # the abort was sent, signed, for the upload whose parts failed, and
    # that the error says it did not succeed
    expect(len(aborts) == 1 and aborts[0]["problem"] is None and
           aborts[0]["path"].endswith("-000001.tar") and
           {aborts[0]["query"].split("uploadId=")[1]} == ids,
           "abort %s, upload ids %s" % (aborts, ids))
    expect(aborts[0]["status"] == 204 or
           "aborting multipart upload of %s failed: HTTP 405" % obj
           in p.stdout, "abort status %s not reported" % aborts)
    have = objects(cli, "fail/")
    expect("fail/data-unlabeled-000001.tar" not in have, "shard 1 stored")
    expect("fail/data-unlabeled-000000.tar" in have, "shard 0 missing")
    for idx in ("fail/dataset.json", "fail/unlabeled.manifest.json"):
        expect(b"000001" not in get(cli, idx), idx + " lists shard 1")
    remote_dataset(cli, "fail/")
    check_index_order(reqs, "fail/")
    expect(os.path.exists(os.path.join(staging,
                                       "data-unlabeled-000001.tar")),
           "the failed shard is not kept in staging-dir: %s"
           % os.listdir(staging))
    print("ok a shard that always fails: error names it, aborted, unlisted, "
          "kept in staging-dir")


def check_credentials(srv, cli, tmp):
    token = "TOKEN-must-not-leak-7f3e"
    secret = "SECRET-must-not-leak-91ab"
    debug = {"GST_DEBUG": "batchsink:7,*:3", "G_MESSAGES_DEBUG": "all"}
    # the proxy knows the right secret; batchsink signs with another one
    url, log = srv.proxy(token=token)
    p = run(test_pattern("s3://%s/cred/" % BUCKET, "endpoint=" + url),
            env(AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN=token,
                **debug), check=False)
    expect(p.returncode != 0 and re.search(
        r"ERROR: .*s3://%s/.*HTTP 403.*check the credentials from "
        r"AWS_ACCESS_KEY_ID" % BUCKET, p.stdout),
        "wrong secret: no clear error:\n" + p.stdout[-2000:])
    expect(secret not in p.stdout and token not in p.stdout,
           "a secret is printed:\n" + p.stdout)
    expect(requests_log(log)[0]["problem"] == "signature differs", "proxy")
    # the right secret with the token: the proxy checks it is sent, signed
    p = run(test_pattern("s3://%s/cred/" % BUCKET, "endpoint=" + url),
            env(AWS_SESSION_TOKEN=token, **debug))
    expect(token not in p.stdout, "the session token is printed")
    url, log = srv.proxy()
    # an unknown key id: s3rver's own refusal
    p = run(test_pattern("s3://%s/cred2/" % BUCKET, "endpoint=" + url),
            env(AWS_ACCESS_KEY_ID="NOSUCHKEY"), check=False)
    expect(p.returncode != 0 and "HTTP 403" in p.stdout, p.stdout[-2000:])
    # keys from a profile in ~/.aws/credentials, endpoint from the env
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".aws"))
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id = WRONG\n"
                "aws_secret_access_key = WRONG\n\n[test]\n"
                "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (KEY_ID, SECRET))
    p = run(test_pattern("s3://%s/prof/" % BUCKET), env(
        AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None, HOME=home,
        AWS_PROFILE="test", AWS_ENDPOINT_URL=url))
    expect("prof/dataset.json" in objects(cli, "prof/"), "profile run")
    p = run(test_pattern("s3://%s/prof/" % BUCKET), env(
        AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
        HOME=os.path.join(tmp, "nohome"), AWS_ENDPOINT_URL=url), check=False)
    expect(p.returncode != 0 and "no S3 credentials" in p.stdout,
           "no credentials: " + p.stdout[-2000:])
    # no such bucket
    p = run(test_pattern("s3://no-such-bucket/x/", "endpoint=" + url),
            check=False)
    expect(p.returncode != 0 and 'no bucket "no-such-bucket"' in p.stdout,
           "missing bucket: " + p.stdout[-2000:])
    print("ok wrong secret, unknown key, profile, no credentials, missing "
          "bucket; no secret printed")


def check_refused(srv):
    url, _ = srv.proxy()
    for fmt, loc in (("hdf5", "s3://%s/x.h5" % BUCKET),
                     ("dir", "s3://%s/d/" % BUCKET)):
        p = run(["videotestsrc", "num-buffers=2", "!", "jpegenc", "!",
                 "batchsink", "format=" + fmt, "location=" + loc,
                 "endpoint=" + url], check=False)
        expect(p.returncode != 0 and "only tar and jsonl" in p.stdout,
               fmt + ": " + p.stdout[-1500:])
    print("ok hdf5 and dir to s3:// refused")


def check_jsonl(srv, cli, tmp):
    import gzip
    local = os.path.join(tmp, "j-local", "frames.jsonl.gz")
    run(["videotestsrc", "num-buffers=20", "!", "jpegenc", "!", "batchsink",
         "format=jsonl", "location=" + local])
    url, _ = srv.proxy()
    run(["videotestsrc", "num-buffers=20", "!", "jpegenc", "!", "batchsink",
         "format=jsonl", "location=s3://%s/j/frames.jsonl.gz" % BUCKET,
         "endpoint=" + url])
    got = gzip.decompress(get(cli, "j/frames.jsonl.gz"))
    expect(got == gzip.decompress(open(local, "rb").read()) and
           len(got.splitlines()) == 20, "jsonl lines differ")
    man = json.loads(get(cli, "j/frames.jsonl.gz.manifest.json"))
    expect(man["complete"] and man["shards"][0]["name"] == "frames.jsonl.gz",
           "jsonl manifest %s" % man)
    print("ok jsonl to s3://, 20 lines equal")


def check_kill(srv, cli, tmp):
    """kill -9 while shards are being uploaded (each request delayed):
    whatever index the store has names only stored objects."""
    listed = []
    # a killed run leaves its temporary staging directory: keep it in tmp
    tmpdir = os.path.join(tmp, "kill-tmp")
    os.makedirs(tmpdir)
    # request 6: inside shard 0's multipart upload; 30: some shards done
    for after in (6, 30):
        url, log = srv.proxy("--delay", "0.05")
        prefix = "kill%d/" % after
        p = subprocess.Popen(
            ["gst-launch-1.0"] + test_pattern("s3://%s/%s" % (BUCKET, prefix),
                                              "endpoint=" + url,
                                              "max-shard-samples=2",
                                              "part-size=4096", n=60),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env(TMPDIR=tmpdir))
        t0 = time.time()
        while len(requests_log(log)) < after and time.time() - t0 < 60:
            time.sleep(0.01)
        p.send_signal(signal.SIGKILL)
        p.wait()
        expect(time.time() - t0 < 60, "run never reached request %d" % after)
        # the proxy may still be forwarding the last request it received
        # (delayed); s3rver writes objects in place, so a read during that
        # write sees half an object, which real S3 never shows (a PUT is
        # atomic): read once the proxy is quiet
        quiet, seen = time.time(), len(requests_log(log))
        while time.time() - quiet < 0.5 and time.time() - t0 < 70:
            time.sleep(0.05)
            if len(requests_log(log)) != seen:
                quiet, seen = time.time(), len(requests_log(log))
        ds, got = remote_dataset(cli, prefix)
        man = json.loads(get(cli, prefix + "unlabeled.manifest.json"))
        have = objects(cli, prefix)
        for sh in man["shards"]:
            expect(have.get(prefix + sh["name"]) == sh["bytes"],
                   "manifest names missing " + sh["name"])
        expect(not man["complete"], "killed run is complete")
        check_index_order(requests_log(log), prefix)
        listed.append(len(man["shards"]))
        print("ok kill -9 after %d requests: indexes name %d shards, all "
              "stored" % (after, len(ds["shards"])))
    expect(listed[-1] > 0, "the late kill left no listed shard: %s" % listed)


def main():
    if not os.path.exists(VIDEO):
        sys.exit("FAIL: test data missing: " + VIDEO)
    try:
        import boto3  # noqa: F401
    except ImportError:
        skip("python3-boto3 is not installed (apt-get install python3-boto3)")
    with tempfile.TemporaryDirectory(prefix="s3-py-") as tmp:
        srv = Servers(tmp)
        try:
            cli = s3_client(srv.port)
            check_readme_tar(srv, cli, tmp)
            check_multipart(srv, cli, tmp)
            check_flaky(srv, cli, tmp)
            check_always_failing(srv, cli, tmp)
            check_credentials(srv, cli, tmp)
            check_refused(srv)
            check_jsonl(srv, cli, tmp)
            check_kill(srv, cli, tmp)
        finally:
            srv.stop()
    print("all s3 checks passed")


if __name__ == "__main__":
    main()
