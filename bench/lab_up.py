"""Time `lab up` from a built node image to every worker Ready, as JSON.

Brings the lab down first (so the figure includes machines, deployment and node
registration), builds the node image outside the timed part, then times `lab up` and
the wait for Ready nodes. Run on demand: `.venv/bin/python bench/lab_up.py`.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = str(REPO / ".venv" / "bin" / "lab")
KUBECONFIG = REPO / ".lab" / "admin.kubeconfig"


def ready_nodes() -> set[str]:
    out = subprocess.run(["kubectl", "--kubeconfig", str(KUBECONFIG), "get", "nodes", "-o", "json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return set()
    return {
        n["metadata"]["name"] for n in json.loads(out.stdout)["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
    }


def main() -> None:
    subprocess.run([LAB, "down"], cwd=REPO, check=True)
    subprocess.run([LAB, "image", "build"], cwd=REPO, check=True)
    start = time.monotonic()
    subprocess.run([LAB, "up"], cwd=REPO, check=True)
    up_done = time.monotonic()
    while len(ready_nodes()) < 2 and time.monotonic() - up_done < 300:
        time.sleep(1)
    ready = time.monotonic()
    print(json.dumps({
        "benchmark": "lab_up_from_built_image",
        "lab_up_seconds": round(up_done - start, 1),
        "to_ready_nodes_seconds": round(ready - start, 1),
        "ready_nodes": sorted(ready_nodes()),
    }))


if __name__ == "__main__":
    main()
