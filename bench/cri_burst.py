"""The baseline for bench/kubelet.py's startup figure: the same burst straight to the runtime.

Runs ON a lab machine (bench/kubelet.py pipes it to the machine's kubelab python as root):
N pod sandboxes, each with one container of IMAGE, created and started at once through our
CRI client with no kubelet and no API server in the way; prints JSON with each pod's
RunPodSandbox -> CreateContainer -> StartContainer time, then removes everything it made.

    python - N IMAGE < bench/cri_burst.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.client import RemoteRuntime


async def one(rt: RemoteRuntime, run: str, i: int, image: str) -> tuple[str, float]:
    name, uid = f"cri-burst-{i}", f"{run}-{i}"
    logs = f"/var/log/pods/bench_{name}_{uid}"
    sandbox = pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="bench"),
                                  hostname=name, log_directory=logs, labels={"kubelab.bench": run})
    started = time.monotonic()
    sid = await rt.run_pod_sandbox(sandbox)
    config = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="web"), image=pb.ImageSpec(image=image),
                                command=["sleep", "3600"], log_path="web/0.log")
    cid = await rt.create_container(sid, config, sandbox)
    await rt.start_container(cid)
    return sid, time.monotonic() - started


async def main(count: int, image: str) -> None:
    run = uuid.uuid4().hex[:8]
    async with RemoteRuntime() as rt:
        results = await asyncio.gather(*(one(rt, run, i, image) for i in range(count)), return_exceptions=True)
        for sb in await rt.list_pod_sandbox({"kubelab.bench": run}):  # everything made, also by failed tries
            await rt.stop_pod_sandbox(sb.id)
            for c in await rt.list_containers(sb.id):
                await rt.remove_container(c.id)
            await rt.remove_pod_sandbox(sb.id)
    times = sorted(r[1] for r in results if isinstance(r, tuple))
    errors = [str(r) for r in results if isinstance(r, BaseException)]
    print(json.dumps({"times": times, "errors": errors[:3]}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
