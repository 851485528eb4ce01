#!/usr/bin/env python3
"""What making one received instance durable costs on this disk, in the orders the node could use.

Each round writes a 512 KB file (one 512x512 CT slice) into an incoming folder and makes it
durable in the spool, 300 times; prints the median and 90th percentile per instance:
  fdatasync, rename, fsync folder   the order before 2026-11-28 (two journal commits)
  rename, fdatasync, fsync folder   the node's order now (one journal commit carries both)
  write only                        what storescp does (no durability)
Usage: bin/bench/fsync_order.py [FOLDER]   (default: a temporary folder under ./var)
"""
import os
import statistics
import sys
import tempfile
import time

DATA = os.urandom(512 * 1024)


def fsync_folder(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, DATA)
    return fd


def sync_then_rename(incoming, spool, i):
    part = os.path.join(incoming, f'{i}.part')
    fd = write(part)
    os.fdatasync(fd)
    os.close(fd)
    os.rename(part, os.path.join(spool, f'{i}.dcm'))
    fsync_folder(spool)


def rename_then_sync(incoming, spool, i):
    part = os.path.join(incoming, f'{i}.part')
    fd = write(part)
    os.close(fd)
    target = os.path.join(spool, f'{i}.dcm')
    os.rename(part, target)
    fd = os.open(target, os.O_WRONLY)
    os.fdatasync(fd)
    os.close(fd)
    fsync_folder(spool)


def write_only(incoming, spool, i):
    os.close(write(os.path.join(spool, f'{i}.dcm')))


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else None
    if base is None:
        os.makedirs('var', exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base or 'var') as root:
        for rnd in range(2):
            for name, step in [('fdatasync, rename, fsync folder', sync_then_rename),
                               ('rename, fdatasync, fsync folder', rename_then_sync),
                               ('write only (storescp)', write_only)]:
                incoming = os.path.join(root, f'in-{rnd}-{step.__name__}')
                spool = os.path.join(root, f'spool-{rnd}-{step.__name__}')
                os.makedirs(incoming)
                os.makedirs(spool)
                times = []
                for i in range(300):
                    t = time.perf_counter()
                    step(incoming, spool, i)
                    times.append((time.perf_counter() - t) * 1e3)
                times.sort()
                print(f'round {rnd + 1}  {name:34s} median {statistics.median(times):.3f} ms'
                      f'  p90 {times[269]:.3f} ms')


if __name__ == '__main__':
    main()
