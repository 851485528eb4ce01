#!/usr/bin/python3
"""Where the node's CPU goes per received instance, from a JFR recording (standard library only).

  jfr_profile.py RECORDING INSTANCES

Reads `jfr print --json --stack-depth 96 --events jdk.ExecutionSample,jdk.ThreadCPULoad` and
prints, for the association threads ("dicom-association") and for the whole process: execution
samples, the share of them whose stack holds each receive step (a sample can hold several: the
steps nest), and the share by the package of the leaf frame. With the recording's CPU time of the
association threads (ThreadCPULoad is not per thread in JFR 17, so the estimate below is samples ×
the sampling period of the `profile` settings, 10 ms for Java code) it also prints ms per instance.
"""
import collections
import json
import subprocess
import sys

# Each sample goes to the first step in this list that has a frame anywhere in its stack (the
# steps nest: PixelMed calls the listener, which calls Camel, which calls the ingest, which calls
# H2). "Class.method" exact, or a package prefix ("x.").
STEPS = [
    ("Camel aggregation repository (signal, JDBC)", "org.apache.camel.processor.aggregate.jdbc."),
    ("header re-read (DicomScanner)", "org.cttriage.core.dicom.DicomScanner."),
    ("fsync (FileChannel.force)", "sun.nio.ch.FileChannelImpl.force"),
    ("H2: commit", "org.h2.jdbc.JdbcConnection.commit"),
    ("H2: prepareStatement", "org.h2.jdbc.JdbcConnection.prepareStatement"),
    ("H2: other", "org.h2."),
    ("connection pool", "com.zaxxer."),
    (".part write (FileOutputStream)", "java.io.FileOutputStream.write"),
    ("file system calls (move, open, mismatch)", "sun.nio.fs."),
    ("ingest, own code (org.cttriage.core.node)", "org.cttriage.core.node."),
    ("Camel", "org.apache.camel."),
    ("PixelMed dicom (meta, command)", "com.pixelmed.dicom."),
    ("listener, own code (org.cttriage.core.dicom.net)", "org.cttriage.core.dicom.net."),
    ("PixelMed network (PDU read, copies)", "com.pixelmed.network."),
]


def frames(event):
    stack = event["values"].get("stackTrace") or {}
    out = []
    for f in stack.get("frames", []):
        m = f.get("method", {})
        t = (m.get("type") or {}).get("name", "?").replace("/", ".")
        out.append(f"{t}.{m.get('name', '?')}")
    return out  # leaf first


def matches(frame, marker):
    return frame.startswith(marker) if marker.endswith(".") else frame == marker


def step_of(fs):
    for label, marker in STEPS:
        if any(matches(f, marker) for f in fs):
            return label
    return "other (JDK threads, logging)"


def package(name):
    parts = name.split(".")
    if name.startswith(("org.apache.camel", "org.cttriage", "com.pixelmed", "org.springframework")):
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def main(path, instances):
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", "96", "--events", "jdk.ExecutionSample", path],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    groups = {"association threads": [], "whole process": []}
    for e in events:
        thread = (e["values"].get("sampledThread") or {}).get("javaName") or ""
        fs = frames(e)
        groups["whole process"].append(fs)
        if thread.startswith("dicom-association"):
            groups["association threads"].append(fs)
    for title, stacks in groups.items():
        n = len(stacks)
        print(f"== {title}: {n} execution samples ≈ {n * 10 / instances:.2f} ms CPU per instance "
              f"({instances} instances, 10 ms sampling)")
        for label, k in collections.Counter(step_of(fs) for fs in stacks).most_common():
            print(f"  {label:46s} {100 * k / n:5.1f} %  {k * 10 / instances:5.2f} ms")
        leaf = collections.Counter(package(fs[0]) for fs in stacks if fs)
        print("  leaf frame by package: " + ", ".join(f"{p} {100 * c / n:.0f} %" for p, c in leaf.most_common(8)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
