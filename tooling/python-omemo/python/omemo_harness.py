#!/usr/bin/python3
"""
Interop harness for python-omemo's SessionManager (Debian's python3-omemo) with one OMEMO version
plugged in: python-twomemo (OMEMO 2, urn:xmpp:omemo:2) or python-oldmemo (OMEMO 0.3,
eu.siacs.conversations.axolotl). Driven by `src/index.ts` over JSON lines on stdin/stdout. Run
with the *system* python (/usr/bin/python3), where the Debian packages live:

    /usr/bin/python3 serve.py twomemo|oldmemo

One process holds any number of python devices and one shared in-memory "PEP service" (bundles
and device lists by JID), which the TypeScript side reads and writes too. Every request is one
JSON object with an "op" and an "id"; every answer is one JSON object, {"id", "ok": ...} or
{"id", "error": {...}}. Messages cross as XML text in the flavor's namespace; bytes as Base64.

What differs between the OMEMO versions is a `Flavor` (twomemo_flavor.py, oldmemo_flavor.py):
the python-omemo backend, the XML (de)serializers and the version string.
"""
import asyncio
import base64
import importlib
import json
import statistics
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import omemo
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, TrustLevel


@dataclass(frozen=True)
class Flavor:
    """The parts of one OMEMO version; everything else is shared."""

    name: str  # "twomemo" | "oldmemo": the key of the version answer
    namespace: str
    version: str
    make_backend: Callable[[Storage], omemo.Backend]
    serialize_bundle: Callable[[omemo.Bundle], ET.Element]
    parse_bundle: Callable[[ET.Element, str, int], omemo.Bundle]
    serialize_device_list: Callable[[Dict[int, Optional[str]]], ET.Element]
    parse_device_list: Callable[[ET.Element], Dict[int, Optional[str]]]
    serialize_message: Callable[[omemo.Message], ET.Element]
    # (element, sender bare JID, own bare JID, session manager) -> message
    parse_message: Callable[[ET.Element, str, str, omemo.SessionManager], Awaitable[omemo.Message]]
    # refresh the sender's device list from the PEP service before decrypting
    refresh_sender_before_decrypt: bool


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


class Harness:
    """Python devices of one flavor and the PEP service they share with the TypeScript side."""

    def __init__(self, flavor: Flavor) -> None:
        self.flavor = flavor
        ET.register_namespace("", flavor.namespace)
        # the PEP service: bundles[(jid, device_id)] = xml text, devices[jid] = xml text
        self.bundles: Dict[Tuple[str, int], str] = {}
        self.devices: Dict[str, str] = {}
        # python-omemo does not say whose device list it uploads: the owner is the account in use
        self.current_jid: Optional[str] = None
        self.managers: Dict[str, Dict[str, Any]] = {}
        self.session_manager_class = self._session_manager_class()

    def _session_manager_class(self) -> Any:
        h = self
        f = self.flavor

        class HarnessSessionManager(omemo.SessionManager):
            """Blind trust (every device TRUSTED), PEP in memory, sent messages collected in an outbox."""

            outbox: List[Dict[str, str]]

            @staticmethod
            async def _upload_bundle(bundle: omemo.Bundle) -> None:
                h.bundles[(bundle.bare_jid, bundle.device_id)] = xml_text(f.serialize_bundle(bundle))

            @staticmethod
            async def _download_bundle(namespace: str, bare_jid: str, device_id: int) -> omemo.Bundle:
                text = h.bundles.get((bare_jid, device_id))
                if text is None:
                    raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}")
                return f.parse_bundle(ET.fromstring(text), bare_jid, device_id)

            @staticmethod
            async def _delete_bundle(namespace: str, device_id: int) -> None:
                pass

            @staticmethod
            async def _upload_device_list(namespace: str, device_list: Dict[int, Optional[str]]) -> None:
                if h.current_jid is not None:
                    h.devices[h.current_jid] = xml_text(f.serialize_device_list(device_list))

            @staticmethod
            async def _download_device_list(namespace: str, bare_jid: str) -> Dict[int, Optional[str]]:
                text = h.devices.get(bare_jid)
                if text is None:
                    return {}
                return f.parse_device_list(ET.fromstring(text))

            async def _evaluate_custom_trust_level(self, device: DeviceInformation) -> TrustLevel:
                return TrustLevel.TRUSTED

            async def _make_trust_decision(self, undecided: Any, identifier: Optional[str]) -> None:
                pass

            async def _send_message(self, message: omemo.Message, bare_jid: str) -> None:
                self.outbox.append({"to": bare_jid, "xml": xml_text(f.serialize_message(message))})

        return HarnessSessionManager

    def use(self, name: str) -> Dict[str, Any]:
        m = self.managers[name]
        self.current_jid = m["jid"]
        return m

    async def create(self, name: str, jid: str) -> Dict[str, Any]:
        self.current_jid = jid
        storage = MemoryStorage()
        sm = await self.session_manager_class.create(
            [self.flavor.make_backend(storage)], storage, jid, None, "trusted",
        )
        sm.outbox = []
        await sm.after_history_sync()  # live mode: answer key exchanges right away (not queued)
        sm.outbox = []
        own, _ = await sm.get_own_device_information()
        self.managers[name] = {"sm": sm, "jid": jid, "device_id": own.device_id, "storage": storage}
        return {"deviceId": own.device_id, "identityKey": b64(own.identity_key)}

    async def encrypt(self, name: str, to: List[str], plaintext: bytes) -> Dict[str, Any]:
        sm = self.use(name)["sm"]
        for jid in to:
            await sm.refresh_device_list(self.flavor.namespace, jid)
        messages, errors = await sm.encrypt(frozenset(to), {self.flavor.namespace: plaintext})
        if len(messages) == 0:
            raise RuntimeError(f"nothing encrypted: {errors}")
        message = next(iter(messages))
        return {"xml": xml_text(self.flavor.serialize_message(message)), "errors": [repr(e) for e in errors]}

    async def decrypt(self, name: str, sender: str, text: str) -> Dict[str, Any]:
        m = self.use(name)
        sm = m["sm"]
        sm.outbox = []
        if self.flavor.refresh_sender_before_decrypt:
            await sm.refresh_device_list(self.flavor.namespace, sender)
        message = await self.flavor.parse_message(ET.fromstring(text), sender, m["jid"], sm)
        plaintext, device, _ = await sm.decrypt(message)
        return {
            "plaintext": None if plaintext is None else b64(plaintext),
            "deviceId": device.device_id,
            "identityKey": b64(device.identity_key),
            "outbox": sm.outbox,
        }

    async def bench(self, iterations: int, recipients: List[int]) -> Dict[str, Any]:
        """
        Timings measured inside Python, medians in milliseconds: wall (time.perf_counter) and, under
        "cpu", this process's CPU time (time.process_time), which other processes' load hardly changes.
        """
        plaintext = b"x" * 200
        out: Dict[str, Any] = {}
        cpu: Dict[str, Any] = {}

        # session setup: a fresh pair, first message (X3DH + key exchange) encrypted and decrypted
        setup = _Timer()
        for i in range(max(3, iterations // 10)):
            await self.create(f"bsa{i}", f"bench-a{i}@example.org")
            await self.create(f"bsb{i}", f"bench-b{i}@example.org")
            with setup:
                e = await self.encrypt(f"bsa{i}", [f"bench-b{i}@example.org"], plaintext)
                await self.decrypt(f"bsb{i}", f"bench-a{i}@example.org", e["xml"])
        out["sessionSetupMs"], cpu["sessionSetupMs"] = setup.medians()

        await self.create("ba", "bench-a@example.org")
        await self.create("bb", "bench-b@example.org")
        e = await self.encrypt("ba", ["bench-b@example.org"], plaintext)
        d = await self.decrypt("bb", "bench-a@example.org", e["xml"])
        for o in d["outbox"]:
            await self.decrypt("ba", "bench-b@example.org", o["xml"])
        same = _Timer()
        for _ in range(iterations):
            with same:
                e = await self.encrypt("ba", ["bench-b@example.org"], plaintext)
                await self.decrypt("bb", "bench-a@example.org", e["xml"])
        out["sameDirectionMs"], cpu["sameDirectionMs"] = same.medians()
        pingpong = _Timer()
        pair = [
            ("ba", "bench-a@example.org", "bb", "bench-b@example.org"),
            ("bb", "bench-b@example.org", "ba", "bench-a@example.org"),
        ]
        for i in range(iterations):
            s, sj, r, rj = pair[i % 2]
            with pingpong:
                e = await self.encrypt(s, [rj], plaintext)
                await self.decrypt(r, sj, e["xml"])
        out["pingPongMs"], cpu["pingPongMs"] = pingpong.medians()

        fan: Dict[str, float] = {}
        fan_cpu: Dict[str, float] = {}
        for n in recipients:
            jid = f"bench-r{n}@example.org"
            for k in range(n):
                await self.create(f"br{n}-{k}", jid)
            await self.encrypt("ba", [jid], plaintext)  # builds the sessions
            t = _Timer()
            for _ in range(max(3, iterations // max(1, n))):
                with t:
                    await self.encrypt("ba", [jid], plaintext)
            fan[str(n)], fan_cpu[str(n)] = t.medians()
        out["encryptToDevicesMs"] = fan
        cpu["encryptToDevicesMs"] = fan_cpu
        out["cpu"] = cpu
        return out

    async def handle(self, req: Dict[str, Any]) -> Any:
        op = req["op"]
        if op == "create":
            return await self.create(req["name"], req["jid"])
        if op == "put_bundle":
            self.bundles[(req["jid"], int(req["deviceId"]))] = req["xml"]
            return {}
        if op == "put_devices":
            self.devices[req["jid"]] = req["xml"]
            return {}
        if op == "get_bundle":
            return {"xml": self.bundles.get((req["jid"], int(req["deviceId"])))}
        if op == "get_devices":
            return {"xml": self.devices.get(req["jid"])}
        if op == "encrypt":
            return await self.encrypt(req["name"], req["to"], unb64(req["plaintext"]))
        if op == "decrypt":
            return await self.decrypt(req["name"], req["from"], req["xml"])
        if op == "bench":
            return await self.bench(
                int(req.get("iterations", 200)), [int(n) for n in req.get("recipients", [1, 10, 100])]
            )
        if op == "version":
            return {self.flavor.name: self.flavor.version, "omemo": omemo.version.__version__["short"]}
        raise ValueError(f"unknown op {op}")

    async def serve(self) -> None:
        """Answers JSON lines from stdin until it closes."""
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line == "":
                return
            req = json.loads(line)
            try:
                answer: Dict[str, Any] = {"id": req.get("id"), "ok": await self.handle(req)}
            except Exception as e:  # pylint: disable=broad-except
                answer = {
                    "id": req.get("id"),
                    "error": {"type": type(e).__name__, "message": str(e), "trace": traceback.format_exc(limit=3)},
                }
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


class _Timer:
    """Collects wall and CPU time of each `with` block."""

    def __init__(self) -> None:
        self.wall: List[float] = []
        self.cpu: List[float] = []

    def __enter__(self) -> "_Timer":
        self.w0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall.append(time.perf_counter() - self.w0)
        self.cpu.append(time.process_time() - self.c0)

    def medians(self) -> Tuple[float, float]:
        return statistics.median(self.wall) * 1000.0, statistics.median(self.cpu) * 1000.0


FLAVORS = ("twomemo", "oldmemo")


def load_flavor(name: str) -> Flavor:
    if name not in FLAVORS:
        raise ValueError(f"unknown flavor {name!r}: one of {', '.join(FLAVORS)}")
    return importlib.import_module(f"{name}_flavor").FLAVOR
