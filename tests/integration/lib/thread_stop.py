#!/usr/bin/python3
"""thread_stop.py TID SECONDS: stop one thread of another process for SECONDS, while
its other threads run on, then let it go (or the process ended meanwhile).

ptrace(PTRACE_SEIZE) attaches to the one thread (tid) without stopping it, and
PTRACE_INTERRUPT stops just that thread: the kernel's per-thread stop that gdb's
non-stop mode uses. SIGSTOP cannot do this (it stops the whole thread group).
Needs CAP_SYS_PTRACE (root) or a ptrace_scope that allows it."""
import ctypes
import os
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(req, tid):
    if libc.ptrace(req, tid, None, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"ptrace({req:#x}, {tid}): {os.strerror(e)}")


def main():
    tid, secs = int(sys.argv[1]), float(sys.argv[2])
    ptrace(PTRACE_SEIZE, tid)
    ptrace(PTRACE_INTERRUPT, tid)
    os.waitpid(tid, WALL)
    print(f"thread {tid} stopped for {secs}s", flush=True)
    time.sleep(secs)
    try:
        ptrace(PTRACE_DETACH, tid)
    except OSError as e:  # the process may have exited meanwhile
        print(f"detach: {e}")
    print(f"thread {tid} released", flush=True)


if __name__ == "__main__":
    main()
