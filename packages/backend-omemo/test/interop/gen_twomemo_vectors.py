#!/usr/bin/python3
"""
Regenerates ../vectors/twomemo-kat.json: known-answer vectors produced by python-twomemo 1.0.3
(Debian python3-twomemo). Alice (python) encrypts four messages to Bob (python); Bob's private
keys are taken from his storage *before* he reads them, then Bob reads them (so every vector is
checked by python-twomemo itself). The TypeScript test plays Bob with those private keys.

    /usr/bin/python3 gen_twomemo_vectors.py > ../vectors/twomemo-kat.json
"""
import asyncio
import base64
import json
import os
import sys
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

# the shared harness of @vouch/python-omemo-harness (tooling/python-omemo), linked as a devDependency
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "node_modules", "@vouch",
                                "python-omemo-harness", "python"))
from omemo_harness import Harness, MemoryStorage  # noqa: E402
from twomemo_flavor import FLAVOR  # noqa: E402

th = Harness(FLAVOR)
NS = FLAVOR.namespace


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def raw(s: str) -> bytes:
    # python-x3dh's JSON keeps bytes as latin-1 strings
    return s.encode("latin-1")


def x25519_pub(priv: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


async def main() -> None:
    alice = await th.create("alice", "alice@example.org")
    bob = await th.create("bob", "bob@example.org")
    storage = th.managers["bob"]["storage"]
    assert isinstance(storage, MemoryStorage)
    x = storage.data["/urn:xmpp:omemo:2/x3dh"]
    spk_ids = storage.data["/urn:xmpp:omemo:2/signed_pre_key_ids"]
    pk_ids = storage.data["/urn:xmpp:omemo:2/pre_key_ids"]
    spk_priv = raw(x["signed_pre_key"]["priv"])
    pre_keys = [{"id": pk_ids[b64(x25519_pub(raw(p)))], "priv": b64(raw(p))} for p in x["pre_keys"]]

    texts = [b"first message (key exchange)", b"second", b"third", b"fourth, after two skipped"]
    messages = []
    for t in texts:
        m = await th.encrypt("alice", ["bob@example.org"], t)
        el = ET.fromstring(m["xml"])
        key = el.find(f"{{{NS}}}header/{{{NS}}}keys/{{{NS}}}key")
        payload = el.find(f"{{{NS}}}payload")
        messages.append({
            "kex": key.get("kex") == "true",
            "key": key.text,
            "payload": None if payload is None else payload.text,
            "plaintext": b64(t),
            "xml": m["xml"],
        })
    # python-twomemo reads its own vectors (in order), so each one is valid
    for m in messages:
        r = await th.decrypt("bob", "alice@example.org", m["xml"])
        assert base64.b64decode(r["plaintext"]) == base64.b64decode(m["plaintext"])

    json.dump({
        "comment": "python-twomemo 1.0.3 (python-omemo 1.0.x SessionManager) as sender Alice; Bob's private keys "
                   "taken before he decrypted. Regenerate with test/interop/gen_twomemo_vectors.py.",
        "alice": {"jid": "alice@example.org", "deviceId": alice["deviceId"], "ik": alice["identityKey"]},
        "bob": {
            "jid": "bob@example.org",
            "deviceId": bob["deviceId"],
            "ik": bob["identityKey"],
            "seed": b64(raw(x["identity_key"]["secret"])),
            "spk": {"id": spk_ids[b64(x25519_pub(spk_priv))], "priv": b64(spk_priv), "sig": b64(raw(x["signed_pre_key"]["sig"]))},
            "preKeys": pre_keys,
        },
        "messages": messages,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main())
