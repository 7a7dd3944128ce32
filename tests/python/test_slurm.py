#!/usr/bin/python3
"""examples/slurm/prep.sbatch on a real single-node Slurm: the test
configures munge, slurmctld and slurmd in a temporary folder, starts them,
submits a 3-task job array over a generated sessions folder (2 sessions x
3 cameras, two skeletons mapped onto one, betas) plus the dependent merge
job, and compares the merged dataset sample for sample (keypoints, every
pixel, attributes) with a single-machine onepass-prep run. It stops the
daemons it started. Skipped (exit 77) with the reason where Slurm cannot
run: not root, Debian's slurm-wlm/munge not installed, daemons that do not
come up."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import prep_fixtures as fx  # noqa: E402
import prep_read  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SBATCH = os.path.join(HERE, "..", "..", "examples", "slurm", "prep.sbatch")
TOOL = os.environ.get("ONEPASS_PREP_TOOL") or os.path.join(
    os.environ["ONEPASS_BUILD_ROOT"], "tools", "onepass-prep", "onepass-prep")
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def which(*names):
    for n in names:
        if not shutil.which(n) and not os.path.exists("/usr/sbin/" + n):
            return n
    return None


class Cluster:
    """munged + slurmctld + slurmd, configured under @root."""

    def __init__(self, root):
        self.root = root
        self.pids = []
        host = socket.gethostname().split(".")[0]
        for d in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(root, d))
        os.chmod(os.path.join(root, "munge"), 0o700)
        self.key = os.path.join(root, "munge", "munge.key")
        self.sock = os.path.join(root, "munge", "munge.socket")
        mem = int(open("/proc/meminfo").read().split()[1]) // 1024 // 2
        conf = {
            "ClusterName": "onepasstest", "SlurmctldHost": host,
            "SlurmUser": "root", "SlurmdUser": "root",
            "SlurmctldPort": free_port(), "SlurmdPort": free_port(),
            "AuthType": "auth/munge", "CredType": "cred/munge",
            "AuthInfo": "socket=" + self.sock,
            "StateSaveLocation": os.path.join(root, "state"),
            "SlurmdSpoolDir": os.path.join(root, "spool"),
            "SlurmctldPidFile": os.path.join(root, "slurmctld.pid"),
            "SlurmdPidFile": os.path.join(root, "slurmd.pid"),
            "SlurmctldLogFile": os.path.join(root, "log", "slurmctld.log"),
            "SlurmdLogFile": os.path.join(root, "log", "slurmd.log"),
            "ProctrackType": "proctrack/linuxproc", "TaskPlugin": "task/none",
            "SelectType": "select/cons_tres", "SelectTypeParameters": "CR_Core",
            "JobAcctGatherType": "jobacct_gather/none",
            "AccountingStorageType": "accounting_storage/none",
            "MpiDefault": "none", "ReturnToService": 2,
        }
        self.conf = os.path.join(root, "slurm.conf")
        with open(self.conf, "w") as f:
            for k, v in conf.items():
                f.write("%s=%s\n" % (k, v))
            f.write("NodeName=%s CPUs=%d RealMemory=%d State=UNKNOWN\n"
                    % (host, os.cpu_count(), mem))
            f.write("PartitionName=test Nodes=%s Default=YES MaxTime=INFINITE State=UP\n" % host)
        self.env = dict(os.environ, SLURM_CONF=self.conf)

    def start(self):
        r = subprocess.run(["mungekey", "--create", "--keyfile=" + self.key],
                           capture_output=True, text=True)
        if r.returncode:
            return "mungekey failed: " + r.stderr
        steps = [
            (["munged", "--force", "--key-file=" + self.key, "--socket=" + self.sock,
              "--pid-file=" + os.path.join(self.root, "munge", "munged.pid"),
              "--log-file=" + os.path.join(self.root, "log", "munged.log"),
              "--seed-file=" + os.path.join(self.root, "munge", "munge.seed")],
             os.path.join(self.root, "munge", "munged.pid")),
            (["slurmctld", "-f", self.conf], os.path.join(self.root, "slurmctld.pid")),
            (["slurmd", "-f", self.conf], os.path.join(self.root, "slurmd.pid")),
        ]
        for cmd, pidfile in steps:
            r = subprocess.run(cmd, capture_output=True, text=True, env=self.env)
            for _ in range(100):
                if os.path.exists(pidfile) and open(pidfile).read().strip():
                    break
                time.sleep(0.05)
            else:
                return "%s did not start: %s%s" % (cmd[0], r.stdout, r.stderr)
            self.pids.append(int(open(pidfile).read()))
        for _ in range(60):
            r = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True,
                               env=self.env)
            if r.stdout.strip() == "idle":
                return None
            time.sleep(0.5)
        return "the node never became idle: " + r.stdout + r.stderr

    def stop(self):
        for pid in reversed(self.pids):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def wait_idle(self, timeout=180):
        t0 = time.time()
        while time.time() - t0 < timeout:
            r = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=self.env)
            if r.returncode == 0 and not r.stdout.strip():
                return True
            time.sleep(0.5)
        return False

    def job_state(self, job):
        r = subprocess.run(["scontrol", "show", "job", str(job)], capture_output=True,
                           text=True, env=self.env)
        return sorted({w.split("=")[1] for w in r.stdout.split() if w.startswith("JobState=")})


def main():
    if os.geteuid() != 0:
        skip("a private Slurm (slurmd, munged) needs root here; run the suite as root")
    missing = which("slurmctld", "slurmd", "munged", "mungekey", "sbatch", "squeue")
    if missing:
        skip("%s not installed (apt-get install slurm-wlm munge)" % missing)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(os.path.join(tmp, "slurm"))
        try:
            why = cluster.start()
            if why:
                cluster.stop()
                skip("Slurm could not start here: " + why)
            run(tmp, cluster)
        finally:
            cluster.stop()
            for log in ("slurmctld.log", "slurmd.log"):
                p = os.path.join(cluster.root, "log", log)
                if FAILURES and os.path.exists(p):
                    print("--- %s (tail)\n%s" % (log, "".join(open(p).readlines()[-15:])))
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        sys.exit(1)
    print("ok")


def run(tmp, cluster):
    os.chdir(tmp)
    src = fx.make_sessions("sess", cameras=("camA", "camB", "camC"))
    fx.write_node_map("map.csv")
    fx.write_betas("betas.csv", list(src))
    opts = ["--format", "hdf5", "--node-map", "map.csv", "--attributes", "betas.csv"]
    env = dict(cluster.env, TASKS="3", ONEPASS_PREP=TOOL)
    r = subprocess.run(["bash", SBATCH, "sess", os.path.join(tmp, "out")] + opts,
                       capture_output=True, text=True, env=env)
    print(r.stdout.strip())
    words = r.stdout.split()
    if r.returncode or len(words) < 5:
        fail("prep.sbatch: exit %d %s%s" % (r.returncode, r.stdout, r.stderr))
        return
    array, merge = words[1], words[-1]
    if not cluster.wait_idle():
        fail("the jobs did not finish in time")
        return
    for job, what in ((array, "array"), (merge, "merge")):
        st = cluster.job_state(job)
        if st != ["COMPLETED"]:
            fail("%s job %s: %s" % (what, job, st))
    reports = sorted(f for f in os.listdir("out") if f.startswith("report-"))
    shares = [len(json.load(open(os.path.join("out", f)))["videos"]) for f in reports]
    if shares != [2, 2, 2]:
        fail("task reports %s: videos per task %s, want 2, 2, 2" % (reports, shares))
    subprocess.run([TOOL, "sess", "-o", "ref"] + opts, capture_output=True, check=True)
    a, b = prep_read.samples("ref"), prep_read.samples("out")
    if not prep_read.same(a, b):
        fail("the Slurm run's %d samples differ from the single-machine run's %d" % (len(b), len(a)))
    ka, aa, na = prep_read.merged_hdf5("ref/dataset.h5")
    kb, ab, nb = prep_read.merged_hdf5("out/dataset.h5")
    import numpy as np
    if na != nb or sorted(ka) != sorted(kb) or aa != ab or any(
            not np.array_equal(ka[k], kb[k], equal_nan=True) for k in ka):
        fail("out/dataset.h5 (%d rows) differs from the single-machine dataset.h5 (%d)" % (nb, na))
    print("Slurm: 3 tasks x 2 videos + merge: %d samples, equal to the single-machine run" % nb)
    os.chdir("/")


if __name__ == "__main__":
    main()
