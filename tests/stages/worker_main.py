"""A stand-alone analysis worker for the multi-process test: python -m tests.stages.worker_main URL NAME DELAY."""
import sys

from storage.db import make_engine, make_sessionmaker
from tests.stages.fakes import EchoAnalyzer
from tsur.stages.analyse import analyse_pending

if __name__ == "__main__":
    url, name, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sessions = make_sessionmaker(make_engine(url))
    print("ready", flush=True)
    n = analyse_pending(sessions, EchoAnalyzer(delay), worker=name, batch=50)
    print(f"done {n}", flush=True)
