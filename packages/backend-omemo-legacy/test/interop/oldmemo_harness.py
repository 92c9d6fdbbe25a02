#!/usr/bin/python3
"""
Interop harness: python-oldmemo 1.0.3 (Debian's python3-oldmemo, through python-omemo's
SessionManager) driven by the TypeScript tests over JSON lines on stdin/stdout. Run with the
*system* python (/usr/bin/python3), where the Debian packages live.

One process holds any number of python devices and one shared in-memory "PEP service" (bundles
and device lists by JID), which the TypeScript side reads and writes too. Every request is one
JSON object with an "op" and an "id"; every answer is one JSON object, {"ok": ...} or
{"error": {...}}. Messages cross as XML text in the eu.siacs.conversations.axolotl namespace.
"""
import asyncio
import base64
import json
import statistics
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional

import omemo
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, TrustLevel
import oldmemo
import oldmemo.etree

NS = oldmemo.oldmemo.NAMESPACE
ET.register_namespace("", NS)

# the shared PEP service: BUNDLES[(jid, device_id)] = xml text, DEVICES[jid] = xml text
BUNDLES: Dict[Any, str] = {}
DEVICES: Dict[str, str] = {}
CURRENT_JID: List[Optional[str]] = [None]


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def unb64(s: str) -> bytes:
    return base64.b64decode(s)


def xml_text(elt: ET.Element) -> str:
    return ET.tostring(elt, encoding="unicode")


class MemoryStorage(Storage):
    def __init__(self) -> None:
        super().__init__()
        self.data: Dict[str, Any] = {}

    async def _load(self, key: str) -> Maybe[Any]:
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key: str, value: Any) -> None:
        self.data[key] = value

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)


class HarnessSessionManager(omemo.SessionManager):
    """Blind trust (every device TRUSTED), PEP in memory, sent messages collected in an outbox."""

    outbox: List[Dict[str, str]]

    @staticmethod
    async def _upload_bundle(bundle: omemo.Bundle) -> None:
        assert isinstance(bundle, oldmemo.oldmemo.BundleImpl)
        BUNDLES[(bundle.bare_jid, bundle.device_id)] = xml_text(oldmemo.etree.serialize_bundle(bundle))

    @staticmethod
    async def _download_bundle(namespace: str, bare_jid: str, device_id: int) -> omemo.Bundle:
        text = BUNDLES.get((bare_jid, device_id))
        if text is None:
            raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}")
        return oldmemo.etree.parse_bundle(ET.fromstring(text), bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace: str, device_id: int) -> None:
        pass

    @staticmethod
    async def _upload_device_list(namespace: str, device_list: Dict[int, Optional[str]]) -> None:
        # the SessionManager does not say whose list this is: the owner is the current account
        if CURRENT_JID[0] is not None:
            DEVICES[CURRENT_JID[0]] = xml_text(oldmemo.etree.serialize_device_list(device_list))

    @staticmethod
    async def _download_device_list(namespace: str, bare_jid: str) -> Dict[int, Optional[str]]:
        text = DEVICES.get(bare_jid)
        if text is None:
            return {}
        return oldmemo.etree.parse_device_list(ET.fromstring(text))

    async def _evaluate_custom_trust_level(self, device: DeviceInformation) -> TrustLevel:
        return TrustLevel.TRUSTED

    async def _make_trust_decision(self, undecided: Any, identifier: Optional[str]) -> None:
        pass

    async def _send_message(self, message: omemo.Message, bare_jid: str) -> None:
        self.outbox.append({"to": bare_jid, "xml": xml_text(oldmemo.etree.serialize_message(message))})


MANAGERS: Dict[str, Any] = {}


def use(name: str) -> Any:
    m = MANAGERS[name]
    CURRENT_JID[0] = m["jid"]
    return m["sm"]


async def create(name: str, jid: str) -> Dict[str, Any]:
    CURRENT_JID[0] = jid
    storage = MemoryStorage()
    sm = await HarnessSessionManager.create([oldmemo.Oldmemo(storage)], storage, jid, None, "trusted")
    sm.outbox = []
    await sm.after_history_sync()  # live mode: answer key exchanges right away (not queued)
    sm.outbox = []
    own, _ = await sm.get_own_device_information()
    MANAGERS[name] = {"sm": sm, "jid": jid, "device_id": own.device_id}
    return {"deviceId": own.device_id, "identityKey": b64(own.identity_key)}


async def encrypt(name: str, to: List[str], plaintext: bytes) -> Dict[str, Any]:
    sm = use(name)
    for jid in to:
        await sm.refresh_device_list(NS, jid)
    messages, errors = await sm.encrypt(frozenset(to), {NS: plaintext})
    if len(messages) == 0:
        raise RuntimeError(f"nothing encrypted: {errors}")
    message = next(iter(messages))
    return {"xml": xml_text(oldmemo.etree.serialize_message(message)), "errors": [repr(e) for e in errors]}


async def decrypt(name: str, sender: str, text: str) -> Dict[str, Any]:
    sm = use(name)
    sm.outbox = []
    m = MANAGERS[name]
    message = await oldmemo.etree.parse_message(ET.fromstring(text), sender, m["jid"], sm)
    plaintext, device, _ = await sm.decrypt(message)
    return {
        "plaintext": None if plaintext is None else b64(plaintext),
        "deviceId": device.device_id,
        "identityKey": b64(device.identity_key),
        "outbox": sm.outbox,
    }


def median_ms(samples: List[float]) -> float:
    return statistics.median(samples) * 1000.0


async def bench(iterations: int, recipients: List[int]) -> Dict[str, Any]:
    """
    Timings measured inside Python, medians in milliseconds: wall (time.perf_counter) and, under
    "cpu", this process's CPU time (time.process_time), which other processes' load hardly changes.
    """
    plaintext = b"x" * 200
    out: Dict[str, Any] = {}
    cpu: Dict[str, Any] = {}

    class Timer:
        def __init__(self) -> None:
            self.wall: List[float] = []
            self.cpu: List[float] = []

        def __enter__(self) -> "Timer":
            self.w0 = time.perf_counter()
            self.c0 = time.process_time()
            return self

        def __exit__(self, *exc: Any) -> None:
            self.wall.append(time.perf_counter() - self.w0)
            self.cpu.append(time.process_time() - self.c0)

    setup = Timer()
    for i in range(max(3, iterations // 10)):
        await create(f"bsa{i}", f"bench-a{i}@example.org")
        await create(f"bsb{i}", f"bench-b{i}@example.org")
        with setup:
            e = await encrypt(f"bsa{i}", [f"bench-b{i}@example.org"], plaintext)
            await decrypt(f"bsb{i}", f"bench-a{i}@example.org", e["xml"])
    out["sessionSetupMs"] = median_ms(setup.wall)
    cpu["sessionSetupMs"] = median_ms(setup.cpu)

    await create("ba", "bench-a@example.org")
    await create("bb", "bench-b@example.org")
    e = await encrypt("ba", ["bench-b@example.org"], plaintext)
    d = await decrypt("bb", "bench-a@example.org", e["xml"])
    for o in d["outbox"]:
        await decrypt("ba", "bench-b@example.org", o["xml"])
    same = Timer()
    for _ in range(iterations):
        with same:
            e = await encrypt("ba", ["bench-b@example.org"], plaintext)
            await decrypt("bb", "bench-a@example.org", e["xml"])
    out["sameDirectionMs"] = median_ms(same.wall)
    cpu["sameDirectionMs"] = median_ms(same.cpu)
    pingpong = Timer()
    pair = [("ba", "bench-a@example.org", "bb", "bench-b@example.org"), ("bb", "bench-b@example.org", "ba", "bench-a@example.org")]
    for i in range(iterations):
        s, sj, r, rj = pair[i % 2]
        with pingpong:
            e = await encrypt(s, [rj], plaintext)
            await decrypt(r, sj, e["xml"])
    out["pingPongMs"] = median_ms(pingpong.wall)
    cpu["pingPongMs"] = median_ms(pingpong.cpu)

    fan: Dict[str, float] = {}
    fan_cpu: Dict[str, float] = {}
    for n in recipients:
        jid = f"bench-r{n}@example.org"
        for k in range(n):
            await create(f"br{n}-{k}", jid)
        await encrypt("ba", [jid], plaintext)  # builds the sessions
        t = Timer()
        for _ in range(max(3, iterations // max(1, n))):
            with t:
                await encrypt("ba", [jid], plaintext)
        fan[str(n)] = median_ms(t.wall)
        fan_cpu[str(n)] = median_ms(t.cpu)
    out["encryptToDevicesMs"] = fan
    cpu["encryptToDevicesMs"] = fan_cpu
    out["cpu"] = cpu
    return out


async def handle(req: Dict[str, Any]) -> Any:
    op = req["op"]
    if op == "create":
        return await create(req["name"], req["jid"])
    if op == "put_bundle":
        BUNDLES[(req["jid"], int(req["deviceId"]))] = req["xml"]
        return {}
    if op == "put_devices":
        DEVICES[req["jid"]] = req["xml"]
        return {}
    if op == "get_bundle":
        return {"xml": BUNDLES.get((req["jid"], int(req["deviceId"])))}
    if op == "get_devices":
        return {"xml": DEVICES.get(req["jid"])}
    if op == "encrypt":
        return await encrypt(req["name"], req["to"], unb64(req["plaintext"]))
    if op == "decrypt":
        return await decrypt(req["name"], req["from"], req["xml"])
    if op == "bench":
        return await bench(int(req.get("iterations", 200)), [int(n) for n in req.get("recipients", [1, 10, 100])])
    if op == "version":
        return {"oldmemo": oldmemo.version.__version__["short"], "omemo": omemo.version.__version__["short"]}
    raise ValueError(f"unknown op {op}")


async def main() -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "":
            return
        req = json.loads(line)
        try:
            answer: Dict[str, Any] = {"id": req.get("id"), "ok": await handle(req)}
        except Exception as e:  # pylint: disable=broad-except
            answer = {
                "id": req.get("id"),
                "error": {"type": type(e).__name__, "message": str(e), "trace": traceback.format_exc(limit=3)},
            }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
